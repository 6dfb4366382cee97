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
	struct tracker_view v;
	bool was_blind;
	struct schema_cache *schemas; /* per master */
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

/* One line: schema TAB table TAB names (0x1f) TAB key indexes (0x1f). */
static struct table_entry *parse_table(const char *line, size_t len)
{
	const char *f[4];
	size_t flen[4];
	struct table_entry *e;
	const char *p = line, *end = line + len;
	uint32_t n_pk = 0;
	char **pk;

	for (int i = 0; i < 4; i++) {
		const char *tab = i < 3 ? memchr(p, '\t', (size_t)(end - p)) : end;
		if (tab == NULL)
			return NULL;
		f[i] = p;
		flen[i] = (size_t)(tab - p);
		p = tab + 1;
	}
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

static void on_conflict(const conflict_record *r, void *arg)
{
	struct tracker *t = arg;
	json_t *c = conflict_record_json(r, t->names, t->keys);
	struct ledger_entry e;
	char uid[CONFLICT_ID_TEXT];
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
	for (size_t i = 0; i < t->n && i < CONFLICT_MAX_MASTERS; i++)
		t->names[i] = d->cfg.masters[i].name;
	memset(&cfg, 0, sizeof(cfg));
	cfg.n_masters = (unsigned)t->n;
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

	if (ledger_uid(t->d->state, id, uid, sizeof(uid)) != 0 || strlen(uid) != 32)
		return;
	char hi[17];

	memcpy(hi, uid, 16);
	hi[16] = '\0';
	cid.hi = strtoull(hi, NULL, 16);
	cid.lo = strtoull(uid + 16, NULL, 16);
	/* not open in the engine (settled, or from before a restart): nothing to forget */
	(void)!conflict_engine_resolve(t->e, &cid, &err);
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
