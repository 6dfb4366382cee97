/*
 * tracker.c - the conflict engine in the daemon (see tracker.h).
 */
#include "tracker.h"

#include "clock.h"
#include "common/conflict_json.h"
#include "common/hex.h"
#include "ledger.h"
#include "log.h"
#include "schemas.h"
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
/* Seconds between compactions of the schema journal. */
#define SCHEMA_COMPACT_EVERY 60.0
/* seconds before the engine's checkpoint from which resolved records are handed back at a
 * restart (tracker_restore()) */
#define RESOLVED_MARGIN 2.0

struct tracker {
	struct state *st; /* the ledger and the engine's checkpoint; may be NULL */
	int (*origin)(uint32_t server_id, void *arg);
	void *origin_arg;
	conflict_engine *e;
	conflict_feed **feeds;
	size_t n;
	conflict_keys *keys;
	const char *names[CONFLICT_MAX_MASTERS];
	char name_buf[CONFLICT_MAX_MASTERS][64];
	struct tracker_view v;
	bool was_blind;
	struct schemas *schemas;      /* every master's schema history */
	struct engine_mark *restored; /* per master, what tracker_restore() found */
	double compacted;             /* when the schema journal was last compacted */
	/* records released while the ledger's open ones are read (tracker_restore()): marked
	 * superseded once that read is over */
	bool restoring;
	char (*superseded)[CONFLICT_ID_TEXT];
	size_t n_superseded, cap_superseded;
	/* the finals changes of the event being fed (on_updated()), by uid */
	json_t *finals;
};

static int origin_of(uint32_t server_id, void *arg)
{
	struct tracker *t = arg;

	return t->origin(server_id, t->origin_arg);
}

void tracker_schema(struct tracker *t, size_t master, const struct schemas_snapshot *snap)
{
	if (master < t->n)
		schemas_snapshot(t->schemas, master, snap);
}

bool tracker_wants_schema(struct tracker *t, size_t master, double now, double every)
{
	return master < t->n && schemas_want_snapshot(t->schemas, master, now, every);
}

size_t tracker_drift(struct tracker *t, bool all_current, double timeout, struct drift_entry *out,
		     size_t max)
{
	schemas_set_time(t->schemas, clock_mono());
	return schemas_drift(t->schemas, all_current, timeout, out, max);
}

int tracker_last_ddl(const struct tracker *t, const char *schema, const char *table, char *out,
		     size_t len)
{
	return schemas_last_ddl(t->schemas, schema, table, out, len);
}

json_t *tracker_ddl_check(struct tracker *t, const char *sql, size_t len, const char *db)
{
	schemas_set_time(t->schemas, clock_mono());
	return schemas_ddl_check(t->schemas, sql, len, db);
}

json_t *tracker_tables_json(const struct tracker *t)
{
	return schemas_tables_json(t->schemas);
}

size_t tracker_unknown_tables(const struct tracker *t, struct schemas_unknown *out, size_t max)
{
	return schemas_unknown(t->schemas, out, max);
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
	e.key_hex = key_hex = hex_encode(r->key.p, r->key.len);
	e.unique_key = r->unique_key;
	id = ledger_add(t->st, &e, &created);
	if (id < 0) {
		log_error("conflict ledger: cannot record %s on %s.%s: %s", e.kind, e.schema,
			  e.table, state_error(t->st));
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

static bool in_list(const json_t *list, const char *s)
{
	const json_t *v;
	size_t i;

	json_array_foreach(list, i, v)
	{
		if (strcmp(json_string_value(v), s) == 0)
			return true;
	}
	return false;
}

/*
 * Each write that settles on a row changes the finals of every open conflict
 * on it, up to 256 on a hot row.  Written one by one, each in its own SQLite
 * transaction, a storm of crossing writes on hot rows cost so many that the
 * daemon fell behind its streams by a minute and more, showing the finals of
 * long ago meanwhile.  So the changes of an event gather here (a later one
 * of a conflict merged into the earlier) and go to the ledger together at
 * its end, in one transaction (finals_write()).
 */
static void on_updated(const conflict_update *u, void *arg)
{
	struct tracker *t = arg;
	json_t *changes = json_object(), *unknown = json_array(), *was, *v;
	char uid[CONFLICT_ID_TEXT];
	const char *master;
	size_t i;

	conflict_uid(&u->id, uid);
	conflict_update_json(u, t->names, changes, unknown);
	if (t->finals == NULL)
		t->finals = json_object();
	was = json_object_get(t->finals, uid);
	if (was != NULL) {
		/* the earlier change, then this one: one change */
		json_t *had = json_object_get(was, "changes"),
		       *gone = json_object_get(was, "unknown");

		json_object_foreach(had, master, v)
		{
			if (json_object_get(changes, master) == NULL && !in_list(unknown, master))
				json_object_set(changes, master, v);
		}
		json_array_foreach(gone, i, v)
		{
			if (json_object_get(changes, json_string_value(v)) == NULL &&
			    !in_list(unknown, json_string_value(v)))
				json_array_append(unknown, v);
		}
	}
	if (json_object_set_new(t->finals, uid,
				json_pack("{s:o,s:o,s:b}", "changes", changes, "unknown", unknown,
					  "diverged", u->diverged)) != 0)
		log_error("conflict ledger: cannot update %s: out of memory", uid);
}

static void finals_write(struct tracker *t)
{
	if (t->finals == NULL)
		return;
	if (ledger_merge_finals(t->st, t->finals) < 0)
		log_error("conflict ledger: cannot update the finals of %zu conflicts: %s",
			  json_object_size(t->finals), state_error(t->st));
	json_decref(t->finals);
	t->finals = NULL;
}

static void on_resolved(const conflict_id *id, int64_t now, void *arg)
{
	struct tracker *t = arg;
	char uid[CONFLICT_ID_TEXT];

	conflict_uid(id, uid);
	if (ledger_resolve(t->st, 0, uid, "engine", (double)now / 1e6) == 0)
		log_info("conflict %s resolved: a later write left every master the same row", uid);
}

/* Mark uid superseded by newer in the ledger (newer "": not known), and say so. */
static void supersede(struct tracker *t, const char *uid, const char *newer)
{
	if (ledger_resolve(t->st, 0, uid, "superseded", clock_wall()) == 0)
		log_warn("conflict %s: no longer followed: more than 256 records are open on its "
			 "row; marked superseded%s%s (the newer ones say whether the row differs)",
			 uid, newer[0] != '\0' ? " by " : "", newer);
}

static void on_released(const conflict_id *id, const conflict_id *newer, int64_t now, void *arg)
{
	struct tracker *t = arg;
	char uid[CONFLICT_ID_TEXT], by[CONFLICT_ID_TEXT];

	conflict_uid(id, uid);
	(void)now; /* the ledger's times are the wall clock's */
	if (!t->restoring) {
		conflict_uid(newer, by);
		supersede(t, uid, by);
		return;
	}
	if (rw_array_grow(&t->superseded, &t->cap_superseded, t->n_superseded,
			  sizeof(*t->superseded), 16) < 0) {
		log_error("conflict %s: no longer followed, and out of memory to say so", uid);
		return;
	}
	memcpy(t->superseded[t->n_superseded++], uid, sizeof(uid));
}

static int on_known(const conflict_id *id, void *arg)
{
	struct tracker *t = arg;
	char uid[CONFLICT_ID_TEXT];

	conflict_uid(id, uid);
	return ledger_known(t->st, uid);
}

struct tracker *tracker_new(const struct tracker_config *c)
{
	struct tracker *t = calloc(1, sizeof(*t));
	conflict_config cfg;
	rw_error err;

	if (t == NULL)
		return NULL;
	t->st = c->state;
	t->origin = c->origin;
	t->origin_arg = c->origin_arg;
	t->n = c->n_masters;
	/* copies: a reload replaces the configuration the names come from */
	for (size_t i = 0; i < t->n && i < CONFLICT_MAX_MASTERS; i++) {
		snprintf(t->name_buf[i], sizeof(t->name_buf[i]), "%s", c->names[i]);
		t->names[i] = t->name_buf[i];
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.n_masters = (unsigned)t->n;
	cfg.max_writes = c->max_tracked_writes;
	cfg.cb.conflict = on_conflict;
	cfg.cb.updated = on_updated;
	cfg.cb.resolved = on_resolved;
	cfg.cb.known = on_known;
	cfg.cb.released = on_released;
	cfg.cb.arg = t;
	if (t->n > CONFLICT_MAX_MASTERS || conflict_engine_new(&cfg, &t->e, &err) != 0) {
		log_error("conflict engine: %s",
			  t->n > CONFLICT_MAX_MASTERS ? "too many masters" : err.text);
		tracker_free(t);
		return NULL;
	}
	t->keys = conflict_keys_new(KEY_CACHE_SLOTS);
	t->feeds = calloc(t->n, sizeof(*t->feeds));
	t->schemas = schemas_new(t->n, t->names, c->state);
	if (t->keys == NULL || t->feeds == NULL || t->schemas == NULL) {
		tracker_free(t);
		return NULL;
	}
	for (size_t i = 0; i < t->n; i++) {
		t->feeds[i] = conflict_feed_new(t->e, (unsigned)i, origin_of, t, t->keys);
		if (t->feeds[i] == NULL) {
			tracker_free(t);
			return NULL;
		}
		schemas_attach(t->schemas, i, t->feeds[i]);
		conflict_feed_set_row_hook(t->feeds[i], c->row, c->row_arg);
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
	schemas_free(t->schemas);
	free(t->restored);
	conflict_keys_free(t->keys);
	conflict_engine_free(t->e);
	json_decref(t->finals);
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

schema_db *tracker_shapes(struct tracker *t, size_t master, uint64_t *tag)
{
	uint64_t now;
	schema_db *db;

	if (master >= t->n)
		return NULL;
	now = conflict_feed_shape_tag(t->feeds[master]);
	if (now == *tag || (db = schema_db_copy(conflict_feed_schema(t->feeds[master]))) == NULL)
		return NULL;
	*tag = now;
	return db;
}

void tracker_event(struct tracker *t, size_t master, const binlog_event *ev, const void *batch,
		   size_t batch_len)
{
	conflict_feed_stats before, after;
	rw_error err;

	if (master >= t->n)
		return;
	conflict_feed_stats_get(t->feeds[master], &before);
	schemas_set_time(t->schemas, clock_mono());
	if (conflict_feed_event_batch(t->feeds[master], ev, batch, batch_len, clock_wall_us(),
				      &err) != 0)
		log_error("master %s: conflict engine: %s", t->names[master], err.text);
	finals_write(t);
	conflict_feed_stats_get(t->feeds[master], &after);
	if (after.unknown_origin > before.unknown_origin && t->v.unknown_origin++ == 0)
		log_warn("master %s: a transaction from server_id %u, which is none of the "
			 "masters' (or not connected yet), is not compared",
			 t->names[master], ev->hdr.server_id);
	if (after.gaps > before.gaps)
		log_warn("master %s: after the gap, its binlog says which transactions the purged "
			 "files held: %llu that ringwatch waited for are taken as applied there, "
			 "before everything after them; %llu pairs of writes among them are not "
			 "decided (no stream shows which came first); %llu not known any more stay "
			 "unsettled",
			 t->names[master], (unsigned long long)(after.gap_shown - before.gap_shown),
			 (unsigned long long)(after.gap_undecided - before.gap_undecided),
			 (unsigned long long)(after.gap_unknown - before.gap_unknown));
	if (after.big > before.big)
		log_warn("master %s: the transaction ending at %s:%lld has %llu row changes, over "
			 "the bound of %zu a transaction: followed by its appearances only, its "
			 "writes are not compared",
			 t->names[master], conflict_feed_file(t->feeds[master]),
			 (long long)ev->next_position,
			 (unsigned long long)(after.big_rows - before.big_rows),
			 (size_t)CONFLICT_FEED_MAX_ROWS);
	t->v.undecodable += after.undecodable - before.undecodable;
	t->v.unknown_rows += after.unknown_rows - before.unknown_rows;
	schemas_after_event(t->schemas, master);
	check_blind(t);
}

void tracker_gap(struct tracker *t, size_t master)
{
	if (master < t->n)
		conflict_feed_gap(t->feeds[master]);
}

void tracker_reset(struct tracker *t, size_t master)
{
	if (master < t->n) {
		conflict_feed_reset(t->feeds[master]);
		schemas_hold_end(t->schemas, master, false);
	}
}

bool tracker_admit(struct tracker *t, size_t master, const binlog_event *ev)
{
	if (master >= t->n)
		return true;
	schemas_set_time(t->schemas, clock_mono());
	return schemas_admit(t->schemas, master, ev);
}

bool tracker_held(struct tracker *t, size_t master, const binlog_event *ev)
{
	if (master >= t->n)
		return true;
	schemas_set_time(t->schemas, clock_mono());
	return schemas_held(t->schemas, master, ev);
}

bool tracker_hold_check(struct tracker *t, size_t master)
{
	if (master >= t->n)
		return false;
	schemas_set_time(t->schemas, clock_mono());
	return schemas_hold_check(t->schemas, master);
}

void tracker_give_up(struct tracker *t, size_t master)
{
	if (master < t->n)
		schemas_hold_end(t->schemas, master, true);
}

void tracker_resolved(struct tracker *t, int64_t id)
{
	char uid[CONFLICT_ID_TEXT];
	conflict_id cid;
	rw_error err;

	if (ledger_uid(t->st, id, uid, sizeof(uid)) != 0 || conflict_uid_parse(uid, &cid) != 0)
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
	double now = clock_wall();
	for (size_t i = 0; i < t->n; i++) {
		conflict_mark m;
		if (conflict_engine_mark(t->e, (unsigned)i, &m, &err) != 0)
			return;
		snprintf(marks[i].master, sizeof(marks[i].master), "%s", t->names[i]);
		marks[i].fed = m.fed;
		marks[i].last = m.last;
		marks[i].unsettled = m.unsettled;
		marks[i].low_water = m.low_water;
		marks[i].saved_at = now;
		snprintf(marks[i].file, sizeof(marks[i].file), "%s",
			 conflict_feed_file(t->feeds[i]));
		if (marks[i].file[0] == '\0' && t->restored != NULL) /* nothing read yet */
			snprintf(marks[i].file, sizeof(marks[i].file), "%s", t->restored[i].file);
	}
	if (conflict_engine_unsettled(t->e, collect_hash, &h) != 0 ||
	    state_engine_save(t->st, marks, t->n, h.v, h.n) != 0)
		log_error("conflict engine: saving its checkpoint: %s", state_error(t->st));
	free(h.v);
	if (clock_mono() - t->compacted >= SCHEMA_COMPACT_EVERY) {
		t->compacted = clock_mono();
		for (size_t i = 0; i < t->n; i++) {
			if (marks[i].fed)
				schemas_compact(t->schemas, i,
						marks[i].unsettled ? marks[i].low_water
								   : marks[i].last);
		}
	}
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

	if (conflict_uid_parse(o->uid, &id) != 0 || (bytes = hex_decode(o->key_hex, &len)) == NULL)
		return;
	key.p = bytes;
	key.len = len;
	if ((o->drift ? conflict_engine_follow_drift(t->e, &id, &schema, &table, &key,
						     o->unique_key, &err)
		      : conflict_engine_restore_open(t->e, &id, &schema, &table, &key,
						     o->unique_key, NULL, &err)) != 0)
		log_error("conflict engine: restoring open conflict %s: %s", o->uid, err.text);
	free(bytes);
}

void tracker_restore(struct tracker *t)
{
	rw_error err;
	size_t fed = 0;
	double saved_at = 0;

	t->restored = calloc(t->n, sizeof(*t->restored));
	if (t->restored == NULL)
		return;
	for (size_t i = 0; i < t->n; i++) {
		if (state_engine_mark(t->st, t->names[i], &t->restored[i]) != 0 ||
		    !t->restored[i].fed)
			continue;
		conflict_mark mark = { .fed = true,
				       .last = t->restored[i].last,
				       .unsettled = t->restored[i].unsettled != 0,
				       .low_water = t->restored[i].low_water };
		if (conflict_engine_restore_mark(t->e, (unsigned)i, &mark, &err) != 0)
			log_error("conflict engine: restoring %s: %s", t->names[i], err.text);
		/* the shapes as of where the stream resumes (tracker_resume) */
		schemas_restore(t->schemas, i, mark.unsettled ? mark.low_water : mark.last);
		if (t->restored[i].saved_at > 0 &&
		    (saved_at == 0 || t->restored[i].saved_at < saved_at))
			saved_at = t->restored[i].saved_at;
		fed++;
	}
	if (fed == 0)
		return;
	state_engine_unsettled(t->st, restore_hash, t);
	/*
	 * The records a write resolved after the checkpoint too: the streams read that write
	 * again, and without its record the engine would take the row's difference it ends
	 * for a new before-image finding.  The margin is for clocks: a record handed back
	 * that was resolved before the checkpoint is only followed until its key's writes
	 * settle again.
	 */
	t->restoring = true;
	ledger_each_open(t->st, saved_at > 0 ? saved_at - RESOLVED_MARGIN : 0, restore_open, t);
	t->restoring = false;
	for (size_t i = 0; i < t->n_superseded; i++)
		supersede(t, t->superseded[i], "");
	free(t->superseded);
	t->superseded = NULL;
	t->n_superseded = t->cap_superseded = 0;
}

uint64_t tracker_stream_pos(const struct tracker *t, size_t master)
{
	return master < t->n ? conflict_feed_pos(t->feeds[master]) : 0;
}

void tracker_follow(struct tracker *t, const char *uid, const char *schema, const char *table,
		    const char *key_hex)
{
	struct ledger_open o = { uid, schema, table, key_hex, false, true };

	restore_open(&o, t);
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
	v->ddl_unsafe = schemas_ddl_unsafe(t->schemas);
	for (size_t m = 0; m < t->n && m < CONFLICT_MAX_MASTERS; m++) {
		conflict_feed_stats fs;
		v->ddl_unsafe_on[m] = schemas_ddl_unsafe_on(t->schemas, m);
		conflict_feed_stats_get(t->feeds[m], &fs);
		v->row_batches[m] = fs.predecoded;
	}
	conflict_engine_stats(t->e, &st);
	v->tracked_keys = st.tracked_keys;
	v->tracked_writes = st.tracked_writes;
	v->blind = st.blind;
	v->dropped_writes = st.dropped_writes;
	v->big_transactions = st.big;
	v->big_unsettled = st.big_unsettled;
	v->no_images = st.no_images;
	v->superseded = st.released;
	v->gap_shown = st.gap_shown;
	v->gap_undecided = st.gap_undecided;
	v->engine_bytes = st.bytes_used;
	v->ring_bytes = st.ring_bytes;
	v->ring_used = st.ring_used;
}

size_t tracker_ddl_unsafe_recent(const struct tracker *t, struct schemas_unsafe *out, size_t max)
{
	return schemas_ddl_unsafe_recent(t->schemas, out, max);
}
