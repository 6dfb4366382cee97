/*
 * tracker.c - the conflict engine in the daemon (see tracker.h).
 */
#include "tracker.h"

#include "conflict_json.h"
#include "daemon.h"
#include "ledger.h"
#include "log.h"
#include "state.h"
#include "stream.h"

#include "ringwatch/conflict.h"
#include "ringwatch/conflict_feed.h"
#include "ringwatch/rw_buf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define KEY_CACHE_SLOTS (1 << 18)
#define TABLE_BUCKETS   1024

struct table_entry {
	struct table_entry *next;
	char *schema, *table;
	char **names;
	uint16_t *pk;
	uint16_t **unique; /* n_unique keys of column indexes */
	uint32_t *unique_len;
	row_table_info info;
};

/* One master's tables, from information_schema. */
struct schema_cache {
	struct table_entry *buckets[TABLE_BUCKETS];
	bool loaded;
};

const double tracker_bucket_bounds[TRACKER_BUCKETS] = { 0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
							0.25,  0.5,   1,    2.5,   5,    10 };

struct tracker {
	struct rwd *d;
	conflict_engine *e;
	conflict_feed **feeds;
	size_t n;
	conflict_keys *keys;
	const char *names[CONFLICT_MAX_MASTERS];
	char name_buf[CONFLICT_MAX_MASTERS][64];
	struct tracker_view v;
	bool was_blind;
	struct schema_cache *schemas; /* per master */
	struct engine_mark *restored; /* per master, what tracker_restore() found */
	struct table_lookup *lookups; /* per master, the feeds' argument */
	bool ddl_seen;                /* tables must be read again */
};

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int origin_of(uint32_t server_id, void *arg)
{
	struct tracker *t = arg;

	for (size_t i = 0; i < t->n; i++) {
		if (server_id != 0 && stream_server_id(t->d->streams[i]) == server_id)
			return (int)i;
	}
	return -1;
}

static unsigned table_hash(const char *schema, const char *table)
{
	unsigned h = 5381;

	for (const char *p = schema; *p != '\0'; p++)
		h = h * 33 + (unsigned char)*p;
	h = h * 33 + '.';
	for (const char *p = table; *p != '\0'; p++)
		h = h * 33 + (unsigned char)*p;
	return h % TABLE_BUCKETS;
}

static void free_entry(struct table_entry *e)
{
	for (uint32_t k = 0; e->unique != NULL && k < e->info.n_unique; k++)
		free(e->unique[k]);
	free(e->unique);
	free(e->unique_len);
	for (uint32_t i = 0; i < e->info.n_names; i++)
		free(e->names[i]);
	free(e->names);
	free(e->pk);
	free(e->schema);
	free(e->table);
	free(e);
}

static void clear_cache(struct schema_cache *c)
{
	for (size_t b = 0; b < TABLE_BUCKETS; b++) {
		while (c->buckets[b] != NULL) {
			struct table_entry *e = c->buckets[b];
			c->buckets[b] = e->next;
			free_entry(e);
		}
	}
}

/* Split s at sep into a NULL-terminated array of copies; *n gets the count. */
static char **split(const char *s, size_t len, char sep, uint32_t *n)
{
	char **out = calloc(len + 2, sizeof(*out));
	uint32_t k = 0;
	const char *p = s, *end = s + len;

	if (out == NULL)
		return NULL;
	while (len > 0 && p <= end) {
		const char *q = memchr(p, sep, (size_t)(end - p));
		if (q == NULL)
			q = end;
		out[k++] = strndup(p, (size_t)(q - p));
		p = q + 1;
	}
	*n = k;
	return out;
}

/* "1\x1f3" into n indexes (malloc'd). */
static uint16_t *indexes(const char *s, size_t len, uint32_t *n)
{
	char **parts = split(s, len, 0x1f, n);
	uint16_t *out = calloc(*n + 1, sizeof(*out));

	for (uint32_t i = 0; parts != NULL && i < *n; i++) {
		if (out != NULL)
			out[i] = (uint16_t)atoi(parts[i]);
		free(parts[i]);
	}
	free(parts);
	return out;
}

/* The fifth field: unique keys separated by 0x1e. */
static void parse_unique(struct table_entry *e, const char *s, size_t len)
{
	char **keys = split(s, len, 0x1e, &e->info.n_unique);

	e->unique = calloc(e->info.n_unique + 1, sizeof(*e->unique));
	e->unique_len = calloc(e->info.n_unique + 1, sizeof(*e->unique_len));
	for (uint32_t k = 0; keys != NULL && k < e->info.n_unique; k++) {
		if (e->unique != NULL && e->unique_len != NULL)
			e->unique[k] = indexes(keys[k], strlen(keys[k]), &e->unique_len[k]);
		free(keys[k]);
	}
	free(keys);
	if (e->unique == NULL || e->unique_len == NULL)
		e->info.n_unique = 0;
	e->info.unique = (const uint16_t *const *)e->unique;
	e->info.unique_len = e->unique_len;
}

/* One line: schema TAB table TAB names (0x1f) TAB key indexes (0x1f) [TAB unique keys]. */
static struct table_entry *parse_table(const char *line, size_t len)
{
	const char *f[5];
	size_t flen[5] = { 0 };
	struct table_entry *e;
	const char *p = line, *end = line + len;
	uint32_t n_pk = 0;
	char **pk;
	int fields = 0;

	for (int i = 0; i < 5 && p <= end; i++) {
		const char *tab = memchr(p, '\t', (size_t)(end - p));
		if (tab == NULL)
			tab = end;
		f[i] = p;
		flen[i] = (size_t)(tab - p);
		p = tab + 1;
		fields++;
	}
	if (fields < 4)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	e->schema = strndup(f[0], flen[0]);
	e->table = strndup(f[1], flen[1]);
	e->names = split(f[2], flen[2], 0x1f, &e->info.n_names);
	pk = split(f[3], flen[3], 0x1f, &n_pk);
	e->pk = calloc(n_pk + 1, sizeof(*e->pk));
	for (uint32_t i = 0; pk != NULL && e->pk != NULL && i < n_pk; i++) {
		e->pk[i] = (uint16_t)atoi(pk[i]);
		free(pk[i]);
	}
	free(pk);
	e->info.names = (const char *const *)e->names;
	e->info.pk = e->pk;
	e->info.n_pk = n_pk;
	if (fields == 5)
		parse_unique(e, f[4], flen[4]);
	if (e->schema == NULL || e->table == NULL || e->names == NULL || e->pk == NULL) {
		free_entry(e);
		return NULL;
	}
	return e;
}

void tracker_schema(struct tracker *t, size_t master, const char *text)
{
	struct schema_cache *c;
	size_t tables = 0;

	if (master >= t->n)
		return;
	c = &t->schemas[master];
	clear_cache(c);
	for (const char *line = text; *line != '\0';) {
		const char *nl = strchr(line, '\n');
		size_t len = nl != NULL ? (size_t)(nl - line) : strlen(line);
		struct table_entry *e = parse_table(line, len);
		if (e != NULL) {
			unsigned b = table_hash(e->schema, e->table);
			e->next = c->buckets[b];
			c->buckets[b] = e;
			tables++;
		}
		line += len + (nl != NULL);
	}
	if (!c->loaded)
		log_info("master %s: %zu tables read from information_schema", t->names[master],
			 tables);
	c->loaded = true;
}

bool tracker_schemas_loaded(const struct tracker *t)
{
	for (size_t i = 0; i < t->n; i++) {
		if (!t->schemas[i].loaded)
			return false;
	}
	return true;
}

bool tracker_wants_schema(struct tracker *t)
{
	bool want = t->ddl_seen;

	t->ddl_seen = false;
	return want;
}

struct table_lookup {
	struct tracker *t;
	size_t master;
};

static const row_table_info *lookup_table(const char *schema, const char *table, void *arg)
{
	const struct table_lookup *l = arg;
	const struct table_entry *e;

	for (e = l->t->schemas[l->master].buckets[table_hash(schema, table)]; e != NULL;
	     e = e->next) {
		if (strcmp(e->schema, schema) == 0 && strcmp(e->table, table) == 0)
			return &e->info;
	}
	return NULL;
}

static void observe_delay(struct tracker *t, double delay)
{
	for (int b = 0; b < TRACKER_BUCKETS; b++) {
		if (delay <= tracker_bucket_bounds[b])
			t->v.delay_buckets[b]++;
	}
	t->v.delay_count++;
	t->v.delay_sum += delay;
}

/* Bytes as lowercase hex (malloc'd), and back. */
static char *hex_of(const uint8_t *p, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char *out = malloc(len * 2 + 1);

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[len * 2] = '\0';
	return out;
}

static int nibble(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static uint8_t *bytes_of(const char *hex, size_t *len)
{
	size_t n = strlen(hex) / 2;
	uint8_t *out = malloc(n > 0 ? n : 1);

	for (size_t i = 0; out != NULL && i < n; i++) {
		int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(out);
			return NULL;
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n;
	return out;
}

static int id_of(const char *uid, conflict_id *id)
{
	size_t n;
	uint8_t *b = strlen(uid) == 32 ? bytes_of(uid, &n) : NULL;

	if (b == NULL)
		return -1;
	id->hi = id->lo = 0;
	for (int i = 0; i < 8; i++) {
		id->hi = id->hi << 8 | b[i];
		id->lo = id->lo << 8 | b[8 + i];
	}
	free(b);
	return 0;
}

static void on_conflict(const conflict_record *r, void *arg)
{
	struct tracker *t = arg;
	json_t *c = conflict_record_json(r, t->names, t->keys);
	struct ledger_entry e;
	char uid[CONFLICT_ID_TEXT];
	char *key_hex;
	bool created;
	int64_t id;

	conflict_uid(&r->id, uid);
	memset(&e, 0, sizeof(e));
	e.uid = uid;
	e.kind = conflict_kind_name(r->kind);
	e.schema = json_string_value(json_object_get(c, "schema"));
	e.table = json_string_value(json_object_get(c, "table"));
	e.key = json_object_get(c, "key");
	e.diverged = r->diverged;
	e.detected_at = (double)r->decided_at / 1e6;
	e.detection_delay = (double)(r->decided_at - r->appeared_at) / 1e6;
	e.writes = json_object_get(c, "writes");
	e.final = json_object_get(c, "final");
	e.key_hex = key_hex = hex_of(r->key.p, r->key.len);
	e.unique_key = r->unique_key;
	id = ledger_add(t->d->state, &e, &created);
	if (id < 0) {
		log_error("conflict ledger: cannot record %s on %s.%s: %s", e.kind, e.schema,
			  e.table, state_error(t->d->state));
	} else if (created) {
		char *key = json_dumps(e.key, JSON_COMPACT);
		observe_delay(t, e.detection_delay < 0 ? 0 : e.detection_delay);
		log_msg(r->diverged ? LOG_WARNING : LOG_NOTICE,
			"conflict %lld: %s on %s.%s %s between %s and %s%s", (long long)id, e.kind,
			e.schema, e.table, key != NULL ? key : "?", t->names[r->writes[0].master],
			t->names[r->writes[1].master], r->diverged ? ", rows DIVERGED" : "");
		free(key);
	}
	free(key_hex);
	json_decref(c);
}

static void on_updated(const conflict_update *u, void *arg)
{
	struct tracker *t = arg;
	json_t *changes = json_object(), *unknown = json_array();
	char uid[CONFLICT_ID_TEXT];

	conflict_uid(&u->id, uid);
	conflict_update_json(u, t->names, changes, unknown);
	if (ledger_merge_final(t->d->state, uid, changes, unknown, u->diverged) < 0)
		log_error("conflict ledger: cannot update %s: %s", uid, state_error(t->d->state));
	json_decref(changes);
	json_decref(unknown);
}

static void on_resolved(const conflict_id *id, int64_t now, void *arg)
{
	struct tracker *t = arg;
	char uid[CONFLICT_ID_TEXT];

	conflict_uid(id, uid);
	if (ledger_resolve(t->d->state, 0, uid, "engine", (double)now / 1e6) == 0)
		log_info("conflict %s resolved: a later write left every master the same row", uid);
}

static int on_known(const conflict_id *id, void *arg)
{
	struct tracker *t = arg;
	char uid[CONFLICT_ID_TEXT];

	conflict_uid(id, uid);
	return ledger_known(t->d->state, uid);
}

struct tracker *tracker_new(struct rwd *d)
{
	struct tracker *t = calloc(1, sizeof(*t));
	conflict_config cfg;
	rw_error err;

	if (t == NULL)
		return NULL;
	t->d = d;
	t->n = d->n_streams;
	/* copies: a reload replaces the configuration the names come from */
	for (size_t i = 0; i < t->n && i < CONFLICT_MAX_MASTERS; i++) {
		snprintf(t->name_buf[i], sizeof(t->name_buf[i]), "%s", d->cfg.masters[i].name);
		t->names[i] = t->name_buf[i];
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.n_masters = (unsigned)t->n;
	cfg.max_writes = d->cfg.max_tracked_writes;
	cfg.cb.conflict = on_conflict;
	cfg.cb.updated = on_updated;
	cfg.cb.resolved = on_resolved;
	cfg.cb.known = on_known;
	cfg.cb.arg = t;
	if (t->n > CONFLICT_MAX_MASTERS || conflict_engine_new(&cfg, &t->e, &err) != 0) {
		log_error("conflict engine: %s",
			  t->n > CONFLICT_MAX_MASTERS ? "too many masters" : err.text);
		tracker_free(t);
		return NULL;
	}
	t->keys = conflict_keys_new(KEY_CACHE_SLOTS);
	t->feeds = calloc(t->n, sizeof(*t->feeds));
	t->schemas = calloc(t->n, sizeof(*t->schemas));
	t->lookups = calloc(t->n, sizeof(*t->lookups));
	if (t->keys == NULL || t->feeds == NULL || t->schemas == NULL || t->lookups == NULL) {
		tracker_free(t);
		return NULL;
	}
	for (size_t i = 0; i < t->n; i++) {
		t->feeds[i] = conflict_feed_new(t->e, (unsigned)i, origin_of, t, t->keys);
		if (t->feeds[i] == NULL) {
			tracker_free(t);
			return NULL;
		}
		t->lookups[i] = (struct table_lookup){ t, i };
		conflict_feed_set_tables(t->feeds[i], lookup_table, &t->lookups[i]);
	}
	return t;
}

void tracker_free(struct tracker *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; t->feeds != NULL && i < t->n; i++)
		conflict_feed_free(t->feeds[i]);
	free(t->feeds);
	for (size_t i = 0; t->schemas != NULL && i < t->n; i++)
		clear_cache(&t->schemas[i]);
	free(t->schemas);
	free(t->lookups);
	free(t->restored);
	conflict_keys_free(t->keys);
	conflict_engine_free(t->e);
	free(t);
}

static void check_blind(struct tracker *t)
{
	bool blind = conflict_engine_blind(t->e);

	if (blind && !t->was_blind)
		log_error(
		    "conflict engine BLIND: more unsettled writes than it may track (a stream "
		    "is stalled?); writes are not compared until it catches up");
	else if (!blind && t->was_blind)
		log_info("conflict engine tracks every write again");
	t->was_blind = blind;
}

/* CREATE, ALTER, DROP, RENAME, TRUNCATE: the tables may have changed. */
static bool is_ddl(const binlog_str *sql)
{
	static const char *const verbs[] = { "CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE" };
	size_t i = 0;

	while (i < sql->len && (sql->p[i] == ' ' || sql->p[i] == '\n' || sql->p[i] == '\t'))
		i++;
	for (size_t v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++) {
		size_t n = strlen(verbs[v]);
		if (sql->len - i >= n && strncasecmp(sql->p + i, verbs[v], n) == 0)
			return true;
	}
	return false;
}

void tracker_event(struct tracker *t, size_t master, const binlog_event *ev)
{
	conflict_feed_stats before, after;
	rw_error err;

	if (master >= t->n)
		return;
	if (ev->hdr.type == BINLOG_QUERY && ev->u.query.sql.len > 0 && is_ddl(&ev->u.query.sql))
		t->ddl_seen = true;
	conflict_feed_stats_get(t->feeds[master], &before);
	if (conflict_feed_event(t->feeds[master], ev, now_us(), &err) != 0)
		log_error("master %s: conflict engine: %s", t->names[master], err.text);
	conflict_feed_stats_get(t->feeds[master], &after);
	if (after.unknown_origin > before.unknown_origin && t->v.unknown_origin++ == 0)
		log_warn("master %s: a transaction from server_id %u, which is none of the "
			 "masters' (or not connected yet), is not compared",
			 t->names[master], ev->hdr.server_id);
	t->v.undecodable += after.undecodable - before.undecodable;
	check_blind(t);
}

void tracker_reset(struct tracker *t, size_t master)
{
	if (master < t->n)
		conflict_feed_reset(t->feeds[master]);
}

void tracker_resolved(struct tracker *t, int64_t id)
{
	char uid[CONFLICT_ID_TEXT];
	conflict_id cid;
	rw_error err;

	if (ledger_uid(t->d->state, id, uid, sizeof(uid)) != 0 || id_of(uid, &cid) != 0)
		return;
	/* not open in the engine (settled, or from before a restart): nothing to forget */
	(void)!conflict_engine_resolve(t->e, &cid, &err);
}

static int collect_hash(uint64_t hash, void *arg)
{
	struct {
		uint64_t *v;
		size_t n, cap;
	} *h = arg;

	if (rw_array_grow(&h->v, &h->cap, h->n, sizeof(*h->v), 256) < 0)
		return 1;
	h->v[h->n++] = hash;
	return 0;
}

void tracker_checkpoint(struct tracker *t)
{
	struct engine_mark marks[CONFLICT_MAX_MASTERS];
	struct {
		uint64_t *v;
		size_t n, cap;
	} h = { NULL, 0, 0 };
	rw_error err;

	memset(marks, 0, sizeof(marks));
	for (size_t i = 0; i < t->n; i++) {
		conflict_mark m;
		if (conflict_engine_mark(t->e, (unsigned)i, &m, &err) != 0)
			return;
		snprintf(marks[i].master, sizeof(marks[i].master), "%s", t->names[i]);
		marks[i].fed = m.fed;
		marks[i].last = m.last;
		marks[i].unsettled = m.unsettled;
		marks[i].low_water = m.low_water;
		snprintf(marks[i].file, sizeof(marks[i].file), "%s",
			 conflict_feed_file(t->feeds[i]));
		if (marks[i].file[0] == '\0' && t->restored != NULL) /* nothing read yet */
			snprintf(marks[i].file, sizeof(marks[i].file), "%s", t->restored[i].file);
	}
	if (conflict_engine_unsettled(t->e, collect_hash, &h) != 0 ||
	    state_engine_save(t->d->state, marks, t->n, h.v, h.n) != 0)
		log_error("conflict engine: saving its checkpoint: %s", state_error(t->d->state));
	free(h.v);
}

static void restore_hash(uint64_t hash, void *arg)
{
	struct tracker *t = arg;
	rw_error err;

	if (conflict_engine_restore_unsettled(t->e, hash, &err) != 0)
		log_error("conflict engine: restoring a transaction: %s", err.text);
}

static void restore_open(const struct ledger_open *o, void *arg)
{
	struct tracker *t = arg;
	conflict_bytes schema = { (const uint8_t *)o->schema, strlen(o->schema) };
	conflict_bytes table = { (const uint8_t *)o->table, strlen(o->table) };
	conflict_bytes key;
	conflict_id id;
	rw_error err;
	uint8_t *bytes;
	size_t len;

	if (id_of(o->uid, &id) != 0 || (bytes = bytes_of(o->key_hex, &len)) == NULL)
		return;
	key.p = bytes;
	key.len = len;
	if (conflict_engine_restore_open(t->e, &id, &schema, &table, &key, o->unique_key, NULL,
					 &err) != 0)
		log_error("conflict engine: restoring open conflict %s: %s", o->uid, err.text);
	free(bytes);
}

void tracker_restore(struct tracker *t)
{
	rw_error err;
	size_t fed = 0;

	t->restored = calloc(t->n, sizeof(*t->restored));
	if (t->restored == NULL)
		return;
	for (size_t i = 0; i < t->n; i++) {
		if (state_engine_mark(t->d->state, t->names[i], &t->restored[i]) != 0 ||
		    !t->restored[i].fed)
			continue;
		conflict_mark mark = { .fed = true,
				       .last = t->restored[i].last,
				       .unsettled = t->restored[i].unsettled != 0,
				       .low_water = t->restored[i].low_water };
		if (conflict_engine_restore_mark(t->e, (unsigned)i, &mark, &err) != 0)
			log_error("conflict engine: restoring %s: %s", t->names[i], err.text);
		fed++;
	}
	if (fed == 0)
		return;
	state_engine_unsettled(t->d->state, restore_hash, t);
	ledger_each_open(t->d->state, restore_open, t);
}

bool tracker_resume(struct tracker *t, size_t master, char *file, size_t len, uint64_t *offset)
{
	const struct engine_mark *m;

	if (t->restored == NULL || master >= t->n)
		return false;
	m = &t->restored[master];
	if (!m->fed || m->file[0] == '\0')
		return false;
	/* the oldest unsettled transaction, or the last one fed (it replays) */
	return conflict_feed_file_of(m->unsettled ? m->low_water : m->last, m->file, file, len,
				     offset) == 0;
}

void tracker_view(const struct tracker *t, struct tracker_view *v)
{
	conflict_stats st;

	*v = t->v;
	conflict_engine_stats(t->e, &st);
	v->tracked_keys = st.tracked_keys;
	v->tracked_writes = st.tracked_writes;
	v->blind = st.blind;
	v->dropped_writes = st.dropped_writes;
}
