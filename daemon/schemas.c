/*
 * schemas.c - every master's schema history in ringwatchd (see schemas.h).
 */
#include "schemas.h"

#include "drift.h"
#include "log.h"
#include "schema_snapshot.h"
#include "state.h"

#include "common/ddl_check.h"
#include "ringwatch/rw_buf.h"
#include "ringwatch/schema_history.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <xxhash.h>

/* DDL touches remembered per master, to know which tables a snapshot may not set. */
#define RECENT 1024
/* Seconds between snapshots asked for the same master: doubled while tables stay unknown. */
#define ASK_FIRST 2.0
#define ASK_MAX   60.0

struct unknown_table {
	char *schema, *table, *why;
	uint64_t rows;
};

/* Row changes a master originated in a table, per minute for the last WRITE_MINUTES. */
#define WRITE_MINUTES 10
struct table_writes {
	char *schema, *table;
	uint64_t hash;
	uint64_t count[WRITE_MINUTES];
	int64_t minute[WRITE_MINUTES]; /* which minute each count is of */
	bool full;                     /* keyed by the table maps' FULL metadata */
};

/* Tables a DDL statement touched, handed to the drift with it. */
#define BATCH 8

/* A master's events held while its tables are read again (schemas_admit()). */
#define HOLD_SECONDS 5.0
#define HOLD_TOUCHED 64
/* Tables held for, remembered with the shape that did not fit: a new read gives the same. */
#define MISFITS 64

struct hold {
	bool on;
	double since;
	uint64_t from;                  /* where the held events start */
	conflict_stream_pos at;         /* the end of the last one held, and its binlog file */
	uint64_t touched[HOLD_TOUCHED]; /* tables DDL among them touches */
	size_t n_touched;
	bool touched_any;                                     /* or DDL that may touch any */
	char schema[SCHEMA_NAME_MAX], table[SCHEMA_NAME_MAX]; /* the table it is for */
};

/* A table's size as information_schema estimates it. */
struct table_size {
	uint64_t hash; /* table_hash() */
	uint64_t rows, bytes;
};

struct master {
	struct schemas *s;
	size_t index;
	conflict_feed *f;
	schema_db *pending; /* a snapshot waiting for the stream to pass p2 */
	uint64_t p1, p2;
	struct {
		uint64_t hash, pos;
	} recent[RECENT]; /* a ring of DDL touches */
	size_t next;
	uint64_t lost; /* the latest position of a touch the ring no longer holds */
	bool want;
	double asked, interval;
	struct unknown_table *unk;
	size_t n_unk, cap_unk;
	struct table_writes *w; /* open addressing by hash, cap_w a power of two */
	size_t n_w, cap_w;
	struct {
		char schema[SCHEMA_NAME_MAX], table[SCHEMA_NAME_MAX];
	} batch[BATCH];
	size_t n_batch;
	double snapshot_at; /* when the last snapshot was installed */
	bool installed;     /* one has been */
	struct hold hold;
	uint64_t no_hold_before; /* events before it are not held (held once already, a backlog) */
	struct {
		uint64_t table, shape;
	} misfit[MISFITS]; /* held for already: the table with that shape (0: none known) */
	size_t next_misfit;
	struct table_size *sizes; /* by hash, from the latest snapshot */
	size_t n_sizes;
	uint64_t ddl_unsafe; /* unsafe schema changes this master's stream showed first */
	/* the statement about to be applied, judged against the shapes before it */
	ddl_judgement before;
	char before_trx[96]; /* its transaction; "" none */
};

/* DDL transactions judged already (each is judged once, in the first stream showing it). */
#define JUDGED 256

/* Unsafe schema changes remembered for the alerts (schemas_ddl_unsafe_recent). */
#define UNSAFE_KEPT 16

struct schemas {
	size_t n;
	struct state *st;
	char (*names)[64];
	const char **name_ptrs;
	struct master *ms;
	struct drift *drift;
	double now;
	uint64_t judged[JUDGED]; /* a ring of hashes of DDL transactions' identities */
	size_t next_judged;
	uint64_t ddl_unsafe; /* unsafe schema changes seen in the streams */
	struct {
		uint64_t table; /* table_hash() */
		size_t master;
		char trx[96];
		char sql[200];
	} last_ddl[JUDGED]; /* a ring of DDL statements by the tables they touched */
	size_t next_ddl;
	struct schemas_unsafe unsafe[UNSAFE_KEPT]; /* the newest unsafe changes, a ring */
};

static void judge_live(struct master *ms, const char *sql, size_t len, const char *trx);
static void on_before_ddl(void *arg, const ddl_stmt *st, const char *db, const schema_db *shape,
			  const char *trx);
static void remember_unsafe(struct master *ms, const char *sql, size_t len, const char *trx,
			    const char *reason);

static uint64_t table_hash(const char *schema, const char *table)
{
	char buf[2 * SCHEMA_NAME_MAX + 2];
	int n = snprintf(buf, sizeof(buf), "%s%c%s", schema, 0, table);

	return XXH3_64bits(buf, n > 0 && (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static const char *name_of(const struct master *ms)
{
	return ms->s->names[ms->index];
}

/* ---- the tables whose rows were not compared ------------------------------------- */

static struct unknown_table *find_unknown(struct master *ms, const char *schema, const char *table)
{
	for (size_t i = 0; i < ms->n_unk; i++) {
		if (strcmp(ms->unk[i].schema, schema) == 0 && strcmp(ms->unk[i].table, table) == 0)
			return &ms->unk[i];
	}
	return NULL;
}

static void forget_unknown(struct master *ms, const char *schema, const char *table)
{
	struct unknown_table *u = find_unknown(ms, schema, table);

	if (u == NULL)
		return;
	log_info("master %s: %s.%s has a known shape again; its rows are compared from here "
		 "(%llu row changes were not)",
		 name_of(ms), schema, table, (unsigned long long)u->rows);
	free(u->schema);
	free(u->table);
	free(u->why);
	*u = ms->unk[--ms->n_unk];
}

/* The server's own schemas: their rows are not the applications' and not compared. */
static bool system_schema(const char *schema)
{
	return strcmp(schema, "mysql") == 0 || strcmp(schema, "sys") == 0 ||
	       strcmp(schema, "performance_schema") == 0 ||
	       strcmp(schema, "information_schema") == 0;
}

static void on_unknown(void *arg, const char *schema, const char *table, const char *why,
		       uint64_t rows)
{
	struct master *ms = arg;
	struct unknown_table *u;

	if (system_schema(schema))
		return;
	u = find_unknown(ms, schema, table);

	ms->want = true;
	if (u == NULL) {
		if (rw_array_grow(&ms->unk, &ms->cap_unk, ms->n_unk, sizeof(*ms->unk), 8) < 0)
			return;
		u = &ms->unk[ms->n_unk];
		memset(u, 0, sizeof(*u));
		u->schema = strdup(schema);
		u->table = strdup(table);
		if (u->schema == NULL || u->table == NULL) {
			free(u->schema);
			free(u->table);
			return;
		}
		ms->n_unk++;
		log_warn("master %s: rows of %s.%s are not compared: %s", name_of(ms), schema,
			 table, why);
	}
	if (u->why == NULL || strcmp(u->why, why) != 0) {
		char *w = strdup(why);
		if (w != NULL) {
			free(u->why);
			u->why = w;
		}
	}
	u->rows += rows;
}

/* ---- the journal -------------------------------------------------------------------- */

/* Table schema.table as the history has it now, into the journal at pos. */
static void journal(struct master *ms, const char *schema, const char *table, uint64_t pos)
{
	const schema_table *t;
	const char *why;
	rw_buf sql = RW_BUF_INIT;
	int state, rc = 0;

	if (ms->s->st == NULL)
		return;
	state = schema_db_get(conflict_feed_schema(ms->f), schema, table, &t, &why);
	if (state == SCHEMA_KNOWN) {
		schema_table_sql(t, &sql);
		rc = sql.failed ? -1
				: state_schema_put(ms->s->st, name_of(ms), pos, schema, table,
						   sql.p, NULL, t->source);
	} else {
		rc = state_schema_put(ms->s->st, name_of(ms), pos, schema, table, NULL,
				      state == SCHEMA_UNKNOWN ? why : NULL, 0);
	}
	if (rc != 0)
		log_error("master %s: cannot write the schema history of %s.%s: %s", name_of(ms),
			  schema, table, state_error(ms->s->st));
	rw_buf_free(&sql);
}

static void on_touched(void *arg, const char *schema, const char *table, uint64_t pos, int ddl)
{
	struct master *ms = arg;
	const schema_table *t;
	const char *why;
	size_t slot = ms->next++ % RECENT;

	if (ms->next > RECENT && ms->recent[slot].pos > ms->lost)
		ms->lost = ms->recent[slot].pos;
	ms->recent[slot].hash = table_hash(schema, table);
	ms->recent[slot].pos = pos;
	for (size_t i = 0; ddl && i < MISFITS; i++) {
		if (ms->misfit[i].table == ms->recent[slot].hash)
			ms->misfit[i].table = 0; /* a new shape: worth a hold again */
	}
	if (ddl && ms->n_batch < BATCH) {
		snprintf(ms->batch[ms->n_batch].schema, SCHEMA_NAME_MAX, "%s", schema);
		snprintf(ms->batch[ms->n_batch].table, SCHEMA_NAME_MAX, "%s", table);
		ms->n_batch++;
	}
	journal(ms, schema, table, pos);
	switch (schema_db_get(conflict_feed_schema(ms->f), schema, table, &t, &why)) {
	case SCHEMA_KNOWN:
		forget_unknown(ms, schema, table);
		break;
	case SCHEMA_UNKNOWN:
		log_warn("master %s: %s.%s: shape not known from here: %s", name_of(ms), schema,
			 table, why);
		ms->want = true;
		ms->interval = ASK_FIRST;
		break;
	default:
		break;
	}
}

static void on_ddl(void *arg, uint64_t pos, int kind, const char *sql, size_t len,
		   const char *error, const char *trx)
{
	struct master *ms = arg;
	int show = len > 300 ? 300 : (int)len;

	(void)pos;
	if (kind == DDL_UNPARSED)
		log_warn("master %s: a DDL statement ringwatch cannot read (%s): %.*s%s",
			 name_of(ms), error != NULL ? error : "?", show, sql,
			 (size_t)show < len ? "..." : "");
	else
		log_info("master %s: %s (%s): %.*s%s", name_of(ms), ddl_kind_name(kind), trx, show,
			 sql, (size_t)show < len ? "..." : "");
	if (kind != DDL_UNPARSED)
		judge_live(ms, sql, len, trx);
	ms->before_trx[0] = '\0';
	drift_ddl(ms->s->drift, ms->index, trx, sql, len, ms->s->now);
	for (size_t i = 0; i < ms->n_batch; i++) {
		struct schemas *s = ms->s;
		uint64_t h = table_hash(ms->batch[i].schema, ms->batch[i].table);
		size_t k;
		bool seen = false;
		drift_ddl_table(ms->s->drift, ms->index, ms->batch[i].schema, ms->batch[i].table);
		for (size_t j = 0; j < JUDGED && !seen; j++)
			seen = s->last_ddl[j].table == h && strcmp(s->last_ddl[j].trx, trx) == 0;
		if (seen)
			continue; /* a copy: the statement is remembered with its first stream */
		k = s->next_ddl++ % JUDGED;
		s->last_ddl[k].table = h;
		s->last_ddl[k].master = ms->index;
		snprintf(s->last_ddl[k].trx, sizeof(s->last_ddl[k].trx), "%s", trx);
		snprintf(s->last_ddl[k].sql, sizeof(s->last_ddl[k].sql), "%.*s",
			 show > 190 ? 190 : show, sql);
	}
	ms->n_batch = 0;
}

/* The counters of a table (created), or NULL when out of memory. */
/* The slot of a table's counters: its own, or the empty one it would take. */
static size_t writes_slot(const struct master *ms, uint64_t h, const char *schema,
			  const char *table)
{
	size_t i;

	for (i = h & (ms->cap_w - 1); ms->w[i].schema != NULL; i = (i + 1) & (ms->cap_w - 1)) {
		if (ms->w[i].hash == h && strcmp(ms->w[i].schema, schema) == 0 &&
		    strcmp(ms->w[i].table, table) == 0)
			break;
	}
	return i;
}

/* The counters of a table, or NULL when it has none. */
static const struct table_writes *find_writes(const struct master *ms, const char *schema,
					      const char *table)
{
	size_t i;

	if (ms->cap_w == 0)
		return NULL;
	i = writes_slot(ms, table_hash(schema, table), schema, table);
	return ms->w[i].schema != NULL ? &ms->w[i] : NULL;
}

static struct table_writes *writes_of(struct master *ms, const char *schema, const char *table)
{
	uint64_t h = table_hash(schema, table);
	size_t i;

	if (ms->n_w * 2 >= ms->cap_w) { /* grow: rehash into twice the room */
		size_t cap = ms->cap_w > 0 ? ms->cap_w * 2 : 64;
		struct table_writes *w = calloc(cap, sizeof(*w));
		if (w == NULL)
			return NULL;
		for (size_t k = 0; k < ms->cap_w; k++) {
			if (ms->w[k].schema == NULL)
				continue;
			for (i = ms->w[k].hash & (cap - 1); w[i].schema != NULL;
			     i = (i + 1) & (cap - 1))
				;
			w[i] = ms->w[k];
		}
		free(ms->w);
		ms->w = w;
		ms->cap_w = cap;
	}
	i = writes_slot(ms, h, schema, table);
	if (ms->w[i].schema != NULL)
		return &ms->w[i];
	ms->w[i].schema = strdup(schema);
	ms->w[i].table = strdup(table);
	if (ms->w[i].schema == NULL || ms->w[i].table == NULL) {
		free(ms->w[i].schema);
		free(ms->w[i].table);
		ms->w[i].schema = ms->w[i].table = NULL;
		return NULL;
	}
	ms->w[i].hash = h;
	ms->n_w++;
	return &ms->w[i];
}

static void on_written(void *arg, int origin, const char *schema, const char *table, uint64_t rows,
		       int full)
{
	struct master *ms = arg;
	struct table_writes *w;
	int64_t minute = (int64_t)(ms->s->now / 60);
	size_t b = (size_t)(minute % WRITE_MINUTES);

	if (origin < 0 || (size_t)origin != ms->index)
		return; /* counted in its origin's own stream, once */
	w = writes_of(ms, schema, table);
	if (w == NULL)
		return;
	if (w->minute[b] != minute) {
		w->minute[b] = minute;
		w->count[b] = 0;
	}
	w->count[b] += rows;
	w->full = full != 0;
}

static uint64_t recent_writes(const struct table_writes *w, double now)
{
	int64_t minute = (int64_t)(now / 60);
	uint64_t n = 0;

	for (size_t b = 0; w != NULL && b < WRITE_MINUTES; b++) {
		if (w->minute[b] > minute - WRITE_MINUTES)
			n += w->count[b];
	}
	return n;
}

/* ---- the public face ------------------------------------------------------------------ */

struct schemas *schemas_new(size_t n, const char *const *names, struct state *st)
{
	struct schemas *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->n = n;
	s->st = st;
	s->names = calloc(n > 0 ? n : 1, sizeof(*s->names));
	s->name_ptrs = calloc(n > 0 ? n : 1, sizeof(*s->name_ptrs));
	s->ms = calloc(n > 0 ? n : 1, sizeof(*s->ms));
	if (s->names == NULL || s->name_ptrs == NULL || s->ms == NULL ||
	    (s->drift = drift_new(n, s->name_ptrs)) == NULL) {
		schemas_free(s);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(s->names[i], sizeof(s->names[i]), "%s", names[i]);
		s->name_ptrs[i] = s->names[i];
		s->ms[i].s = s;
		s->ms[i].index = i;
		s->ms[i].interval = ASK_FIRST;
	}
	return s;
}

void schemas_free(struct schemas *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; s->ms != NULL && i < s->n; i++) {
		struct master *ms = &s->ms[i];
		schema_db_free(ms->pending);
		free(ms->sizes);
		for (size_t k = 0; k < ms->n_unk; k++) {
			free(ms->unk[k].schema);
			free(ms->unk[k].table);
			free(ms->unk[k].why);
		}
		free(ms->unk);
		for (size_t k = 0; k < ms->cap_w; k++) {
			free(ms->w[k].schema);
			free(ms->w[k].table);
		}
		free(ms->w);
	}
	drift_free(s->drift);
	free(s->ms);
	free(s->names);
	free(s->name_ptrs);
	free(s);
}

void schemas_attach(struct schemas *s, size_t m, conflict_feed *f)
{
	struct master *ms = &s->ms[m];
	conflict_schema_hooks h = { on_touched, on_unknown, on_ddl, on_written, ms, on_before_ddl };

	ms->f = f;
	conflict_feed_set_schema_hooks(f, &h);
}

struct loading {
	schema_db *db;
	size_t tables, failed;
};

static void load_one(const char *schema, const char *table, const char *sql, const char *why,
		     int source, void *arg)
{
	static const ddl_options opt = { false, 0 }; /* the history's own dialect */
	struct loading *l = arg;
	schema_table *t;
	rw_error err;

	l->tables++;
	if (sql != NULL &&
	    schema_apply_sql(l->db, sql, strlen(sql), schema, &opt, NULL, NULL, NULL, &err) == 0 &&
	    (t = schema_db_find(l->db, schema, table)) != NULL) {
		t->source = (uint8_t)source;
		return;
	}
	if (sql != NULL)
		l->failed++;
	if (schema_db_set_unknown(l->db, schema, table,
				  why != NULL ? why : "its stored shape cannot be read") != 0)
		l->failed++;
}

void schemas_restore(struct schemas *s, size_t m, uint64_t before)
{
	struct master *ms = &s->ms[m];
	struct loading l = { schema_db_new(), 0, 0 };
	uint64_t last = 0;

	if (s->st == NULL || ms->f == NULL || l.db == NULL) {
		schema_db_free(l.db);
		return;
	}
	if (state_schema_load(s->st, name_of(ms), before, load_one, &l, &last) != 0) {
		log_error("master %s: cannot read the schema history: %s", name_of(ms),
			  state_error(s->st));
		schema_db_free(l.db);
		return;
	}
	/* what lies at or after before is read again, and written again */
	if (state_schema_forget(s->st, name_of(ms), before, 0) != 0)
		log_error("master %s: schema history: %s", name_of(ms), state_error(s->st));
	conflict_feed_schema_replace(ms->f, l.db, last);
	log_info("master %s: %zu table shapes as of the checkpoint%s", name_of(ms), l.tables,
		 l.failed > 0 ? " (some could not be read: unknown)" : "");
}

/* Did DDL touch the table at or after pos (or may it have: the ring forgot)? */
static bool touched_since(const struct master *ms, uint64_t hash, uint64_t pos)
{
	size_t n = ms->next < RECENT ? ms->next : RECENT;

	if (ms->lost >= pos)
		return true;
	for (size_t i = 0; i < n; i++) {
		if (ms->recent[i].hash == hash && ms->recent[i].pos >= pos)
			return true;
	}
	return false;
}

/* Does DDL among the held events touch the table (or may it)? */
static bool held_touched(const struct master *ms, uint64_t hash)
{
	if (!ms->hold.on)
		return false;
	if (ms->hold.touched_any)
		return true;
	for (size_t i = 0; i < ms->hold.n_touched; i++) {
		if (ms->hold.touched[i] == hash)
			return true;
	}
	return false;
}

struct install {
	struct master *ms;
	uint64_t at;
	size_t added, replaced, skipped;
};

static void install_one(const char *schema, const char *table, const schema_table *snap,
			const char *why, void *arg)
{
	struct install *in = arg;
	struct master *ms = in->ms;
	schema_db *db = conflict_feed_schema(ms->f);
	const schema_table *cur;
	const char *w;
	int state;
	schema_table *copy;

	(void)why;
	if (snap == NULL)
		return; /* the snapshot itself could not read it */
	if (touched_since(ms, table_hash(schema, table), ms->p1) ||
	    held_touched(ms, table_hash(schema, table))) {
		in->skipped++; /* the stream's own DDL is newer, or the snapshot ambiguous */
		return;
	}
	state = schema_db_get(db, schema, table, &cur, &w);
	if (state == SCHEMA_KNOWN &&
	    schema_table_fingerprint_hash(cur) == schema_table_fingerprint_hash(snap))
		return;
	if (state == SCHEMA_KNOWN) {
		rw_buf diff = RW_BUF_INIT;
		schema_table_diff(cur, "the history", snap, "information_schema", &diff);
		log_warn("master %s: %s.%s: the history and information_schema differ (%s); taking "
			 "information_schema's",
			 name_of(ms), schema, table, diff.p != NULL ? diff.p : "?");
		rw_buf_free(&diff);
		in->replaced++;
	} else {
		in->added++;
	}
	copy = schema_table_copy(snap, NULL, NULL);
	if (copy != NULL)
		copy->source = SCHEMA_SOURCE_SNAPSHOT;
	if (copy == NULL || schema_db_put(db, copy) != 0) {
		log_error("master %s: out of memory installing %s.%s", name_of(ms), schema, table);
		return;
	}
	journal(ms, schema, table, in->at);
	forget_unknown(ms, schema, table);
}

static void install(struct master *ms)
{
	struct install in = { ms, conflict_feed_pos(ms->f), 0, 0, 0 };

	schema_db_each(ms->pending, install_one, &in);
	if (!ms->installed || in.added + in.replaced + in.skipped > 0)
		log_info(
		    "master %s: %zu tables read from information_schema: %zu shapes taken, %zu "
		    "corrected, %zu left to the stream's newer DDL",
		    name_of(ms), schema_db_count(ms->pending), in.added, in.replaced, in.skipped);
	schema_db_free(ms->pending);
	ms->pending = NULL;
	ms->installed = true;
	ms->snapshot_at = ms->s->now;
	if (ms->n_unk > 0)
		ms->want = true;
	else
		ms->interval = ASK_FIRST;
}

static int size_cmp(const void *a, const void *b)
{
	const struct table_size *x = a, *y = b;

	return x->hash < y->hash ? -1 : x->hash > y->hash;
}

/* The sizes of a snapshot, in place of the last one's (they need no position). */
static void take_sizes(struct master *ms, const char *block, size_t len)
{
	struct table_size *t = NULL;
	size_t n = 0, cap = 0, pos = 0;
	const char *schema, *table;
	uint64_t rows, bytes;

	while (schema_snapshot_next_size(block, len, &pos, &schema, &table, &rows, &bytes) == 1) {
		if (rw_array_grow(&t, &cap, n, sizeof(*t), 64) < 0) {
			free(t);
			return; /* the last sizes stay */
		}
		t[n++] = (struct table_size){ table_hash(schema, table), rows, bytes };
	}
	if (n > 1)
		qsort(t, n, sizeof(*t), size_cmp);
	free(ms->sizes);
	ms->sizes = t;
	ms->n_sizes = n;
}

void schemas_snapshot(struct schemas *s, size_t m, const struct schemas_snapshot *snap)
{
	struct master *ms = &s->ms[m];
	schema_db *db;
	size_t unread = 0;
	rw_error err;

	if (ms->f == NULL)
		return;
	take_sizes(ms, snap->sizes, snap->sizes_len);
	if (!snap->has_positions) {
		log_error("master %s: information_schema read without binlog positions (does the "
			  "user have BINLOG MONITOR or REPLICATION CLIENT?): not used, tables the "
			  "binlog has not created stay unknown",
			  name_of(ms));
		return;
	}
	db = schema_db_new();
	if (db == NULL ||
	    schema_apply_script(db, snap->text, snap->len, NULL, &snap->opt, &unread, &err) != 0) {
		log_error("master %s: reading the tables of information_schema: out of memory",
			  name_of(ms));
		schema_db_free(db);
		return;
	}
	if (unread > 0)
		log_warn("master %s: %zu tables of information_schema could not be read; they stay "
			 "unknown",
			 name_of(ms), unread);
	schema_db_free(ms->pending); /* a newer one replaces it */
	ms->pending = db;
	ms->p1 = snap->p1;
	ms->p2 = snap->p2;
	schemas_after_event(s, m);
}

void schemas_after_event(struct schemas *s, size_t m)
{
	struct master *ms = &s->ms[m];

	if (ms->pending != NULL && conflict_feed_pos(ms->f) >= ms->p2)
		install(ms);
}

/* ---- holding a master's events for a table's shape ----------------------------------- */

bool schemas_admit(struct schemas *s, size_t m, const binlog_event *ev)
{
	struct master *ms = &s->ms[m];
	const binlog_table_map *tm;
	const schema_table *t;
	const char *why;
	uint64_t pos, th, shape;

	if (ms->f == NULL)
		return true;
	if (ms->hold.on)
		return false;
	if (!binlog_event_is_rows(ev->hdr.type) || conflict_feed_keyable(ms->f, ev))
		return true;
	tm = ev->u.rows.table;
	pos = conflict_feed_position(conflict_feed_file(ms->f), (uint64_t)ev->position);
	if (system_schema(tm->schema) || find_unknown(ms, tm->schema, tm->table) != NULL ||
	    pos < ms->no_hold_before)
		return true;
	th = table_hash(tm->schema, tm->table);
	shape = schema_db_get(conflict_feed_schema(ms->f), tm->schema, tm->table, &t, &why) ==
			SCHEMA_KNOWN
		    ? schema_table_fingerprint_hash(t)
		    : 0;
	for (size_t i = 0; i < MISFITS; i++) {
		if (ms->misfit[i].table == th && ms->misfit[i].shape == shape)
			return true; /* held for this shape once: information_schema has no other */
	}
	ms->misfit[ms->next_misfit].table = th;
	ms->misfit[ms->next_misfit].shape = shape;
	ms->next_misfit = (ms->next_misfit + 1) % MISFITS;
	memset(&ms->hold, 0, sizeof(ms->hold));
	ms->hold.on = true;
	ms->hold.since = s->now;
	ms->hold.from = ms->hold.at.pos = pos;
	snprintf(ms->hold.at.file, sizeof(ms->hold.at.file), "%s", conflict_feed_file(ms->f));
	snprintf(ms->hold.schema, sizeof(ms->hold.schema), "%s", tm->schema);
	snprintf(ms->hold.table, sizeof(ms->hold.table), "%s", tm->table);
	if (ms->pending == NULL) {
		ms->want = true; /* at once */
		ms->asked = -1e18;
	}
	log_info("master %s: the rows of %s.%s fit no shape ringwatch knows: its events wait (at "
		 "most %.0f s) while its tables are read again",
		 name_of(ms), tm->schema, tm->table, HOLD_SECONDS);
	return false;
}

static void held_table(const char *schema, const char *table, void *arg)
{
	struct hold *h = arg;

	if (h->n_touched < HOLD_TOUCHED)
		h->touched[h->n_touched++] = table_hash(schema, table);
	else
		h->touched_any = true;
}

static void end_hold(struct master *ms)
{
	uint64_t past = ms->hold.at.pos > ms->hold.from ? ms->hold.at.pos : ms->hold.from + 1;

	ms->hold.on = false;
	if (past > ms->no_hold_before)
		ms->no_hold_before = past; /* the held events are not held again */
}

/* The hold is over when a snapshot can be installed where it began, or at its time limit. */
static bool hold_over(struct master *ms)
{
	double held = ms->s->now - ms->hold.since;

	if (!ms->hold.on)
		return false;
	if (ms->pending == NULL && ms->installed && ms->snapshot_at >= ms->hold.since) {
		/* one read before the hold went in where it began (the stream had passed its p2) */
		log_info("master %s: its events go on after %.1f s", name_of(ms), held);
		end_hold(ms);
		return true;
	}
	if (ms->pending != NULL && ms->hold.at.pos >= ms->p2) {
		/* no DDL among the held events touched the tables taken: their
		 * shapes were the snapshot's where the hold began */
		install(ms);
		log_info("master %s: its events go on after %.1f s", name_of(ms), held);
		end_hold(ms);
		return true;
	}
	if (held < HOLD_SECONDS)
		return false;
	log_warn("master %s: no shape for %s.%s within %.0f s (%s); its rows are not compared "
		 "until one is read",
		 name_of(ms), ms->hold.schema, ms->hold.table, HOLD_SECONDS,
		 ms->pending != NULL ? "the stream is behind the snapshot"
				     : "information_schema was not read");
	end_hold(ms);
	if (ms->pending != NULL && ms->p2 > ms->no_hold_before)
		ms->no_hold_before = ms->p2; /* a backlog: no more holds until it is through */
	return true;
}

bool schemas_held(struct schemas *s, size_t m, const binlog_event *ev)
{
	struct master *ms = &s->ms[m];
	struct hold *h = &ms->hold;

	if (!h->on)
		return false;
	(void)conflict_stream_pos_advance(&h->at, ev);
	if (ev->hdr.type == BINLOG_QUERY && ev->u.query.sql.len > 0 &&
	    ddl_may_change_tables(ev->u.query.sql.p, ev->u.query.sql.len)) {
		char db[SCHEMA_NAME_MAX];
		ddl_stmt st;
		rw_error err;
		snprintf(db, sizeof(db), "%.*s", (int)ev->u.query.schema.len, ev->u.query.schema.p);
		if (ddl_parse(ev->u.query.sql.p, ev->u.query.sql.len,
			      conflict_feed_ddl_options(ms->f), &st, &err) != 0) {
			h->touched_any = true;
		} else {
			if (schema_stmt_tables(&st, db, held_table, h) != 0)
				h->touched_any = true;
			ddl_stmt_free(&st);
		}
	}
	return hold_over(ms);
}

bool schemas_hold_check(struct schemas *s, size_t m)
{
	return hold_over(&s->ms[m]);
}

void schemas_hold_end(struct schemas *s, size_t m, bool overflow)
{
	struct master *ms = &s->ms[m];

	if (!ms->hold.on)
		return;
	if (overflow && ms->pending != NULL && ms->p2 > ms->no_hold_before)
		ms->no_hold_before = ms->p2;
	end_hold(ms);
}

bool schemas_want_snapshot(struct schemas *s, size_t m, double now, double every)
{
	struct master *ms = &s->ms[m];

	if (ms->pending != NULL)
		return false;
	if (every > 0 && ms->installed && now - ms->snapshot_at >= every) {
		/* a routine look (a change made with sql_log_bin=0), whatever
		 * tables stay unknown meanwhile */
		ms->snapshot_at = now;
		return true;
	}
	if (!ms->want || now - ms->asked < ms->interval)
		return false;
	ms->want = false;
	ms->asked = now;
	ms->interval = ms->interval * 2 < ASK_MAX ? ms->interval * 2 : ASK_MAX;
	return true;
}

void schemas_compact(struct schemas *s, size_t m, uint64_t low_water)
{
	if (s->st != NULL &&
	    state_schema_forget(s->st, s->names[m], (uint64_t)INT64_MAX, low_water) != 0)
		log_error("master %s: schema history: %s", s->names[m], state_error(s->st));
}

size_t schemas_unknown(const struct schemas *s, struct schemas_unknown *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++) {
		const struct master *ms = &s->ms[i];
		for (size_t k = 0; k < ms->n_unk; k++, n++) {
			if (n >= max)
				continue;
			out[n].master = s->names[i];
			out[n].schema = ms->unk[k].schema;
			out[n].table = ms->unk[k].table;
			out[n].reason = ms->unk[k].why != NULL ? ms->unk[k].why : "?";
			out[n].rows = ms->unk[k].rows;
		}
	}
	return n;
}

void schemas_set_time(struct schemas *s, double now)
{
	s->now = now;
}

size_t schemas_drift(struct schemas *s, bool all_current, double timeout, struct drift_entry *out,
		     size_t max)
{
	const schema_db *dbs[64];

	if (s->n > 64)
		return 0;
	for (size_t i = 0; i < s->n; i++) {
		if (s->ms[i].f == NULL)
			return 0;
		dbs[i] = conflict_feed_schema(s->ms[i].f);
	}
	return drift_find(s->drift, dbs, all_current, timeout, s->now, out, max);
}

/* ---- GET /v1/tables ------------------------------------------------------------------- */

struct listing {
	const struct schemas *s;
	json_t *by_name; /* "schema\0table" hex -> table object */
	json_t *tables;
};

static json_t *table_entry(struct listing *l, const char *schema, const char *table)
{
	char key[2 * SCHEMA_NAME_MAX + 2];
	json_t *t;

	snprintf(key, sizeof(key), "%s.%s", schema, table);
	t = json_object_get(l->by_name, key);
	if (t != NULL)
		return t;
	t = json_pack("{s:s,s:s,s:{}}", "schema", schema, "table", table, "masters");
	json_object_set(l->by_name, key, t);
	json_array_append_new(l->tables, t);
	return t;
}

static void master_entry(struct listing *l, size_t m, const char *schema, const char *table)
{
	const struct master *ms = &l->s->ms[m];
	json_t *t = table_entry(l, schema, table);
	json_t *masters = json_object_get(t, "masters");
	const schema_table *shape;
	const char *why, *source;
	char fp[17];
	const struct table_writes *w = find_writes(ms, schema, table);
	int state;

	if (json_object_get(masters, l->s->names[m]) != NULL)
		return;
	state = schema_db_get(conflict_feed_schema(ms->f), schema, table, &shape, &why);
	source = w != NULL && w->full                      ? "binlog"
		 : state == SCHEMA_UNKNOWN                 ? "unknown"
		 : state == SCHEMA_ABSENT                  ? "unknown"
		 : shape->source == SCHEMA_SOURCE_SNAPSHOT ? "information_schema"
							   : "ddl";
	if (state == SCHEMA_KNOWN)
		snprintf(fp, sizeof(fp), "%016llx",
			 (unsigned long long)schema_table_fingerprint_hash(shape));
	json_object_set_new(masters, l->s->names[m],
			    json_pack("{s:o,s:s,s:o,s:I}", "fingerprint",
				      state == SCHEMA_KNOWN ? json_string(fp) : json_null(),
				      "key_source", source, "reason",
				      state == SCHEMA_UNKNOWN ? json_string(why)
				      : state == SCHEMA_ABSENT && strcmp(source, "binlog") != 0
					  ? json_string("not in this master's history")
					  : json_null(),
				      "writes_10m", (json_int_t)recent_writes(w, l->s->now)));
}

struct walk {
	struct listing *l;
	size_t m;
};

static void list_one(const char *schema, const char *table, const schema_table *t, const char *why,
		     void *arg)
{
	struct walk *w = arg;

	(void)t;
	(void)why;
	master_entry(w->l, w->m, schema, table);
}

json_t *schemas_tables_json(const struct schemas *s)
{
	struct listing l = { s, json_object(), json_array() };

	for (size_t m = 0; m < s->n; m++) {
		struct walk w = { &l, m };
		if (s->ms[m].f == NULL)
			continue;
		schema_db_each(conflict_feed_schema(s->ms[m].f), list_one, &w);
		for (size_t i = 0; i < s->ms[m].cap_w; i++) {
			if (s->ms[m].w[i].schema != NULL)
				master_entry(&l, m, s->ms[m].w[i].schema, s->ms[m].w[i].table);
		}
	}
	/* every master has its say on every table */
	for (size_t i = 0; i < json_array_size(l.tables); i++) {
		json_t *t = json_array_get(l.tables, i);
		for (size_t m = 0; m < s->n; m++) {
			if (s->ms[m].f != NULL)
				master_entry(&l, m, json_string_value(json_object_get(t, "schema")),
					     json_string_value(json_object_get(t, "table")));
		}
	}
	json_decref(l.by_name);
	return l.tables;
}

/* ---- schema changes judged against the live shapes -------------------------------- */

static int ddl_writes(void *arg, const char *schema, const char *table, uint64_t *rows,
		      unsigned *masters)
{
	const struct schemas *s = arg;

	*rows = 0;
	*masters = 0;
	for (size_t m = 0; m < s->n; m++) {
		uint64_t n = recent_writes(find_writes(&s->ms[m], schema, table), s->now);
		*rows += n;
		*masters += n > 0;
	}
	return 0;
}

static int ddl_size(void *arg, const char *schema, const char *table, uint64_t *rows,
		    uint64_t *bytes)
{
	const struct schemas *s = arg;
	struct table_size key = { table_hash(schema, table), 0, 0 };
	bool found = false;

	*rows = 0;
	*bytes = 0;
	for (size_t m = 0; m < s->n; m++) {
		const struct table_size *t =
		    s->ms[m].n_sizes == 0
			? NULL
			: bsearch(&key, s->ms[m].sizes, s->ms[m].n_sizes, sizeof(key), size_cmp);
		if (t == NULL)
			continue;
		found = true;
		*rows = t->rows > *rows ? t->rows : *rows;
		*bytes = t->bytes > *bytes ? t->bytes : *bytes;
	}
	return found ? 0 : -1;
}

static int ddl_drift(void *arg, const char *schema, const char *table, char *detail, size_t len)
{
	struct schemas *s = arg;
	struct drift_entry found[16];
	size_t n = schemas_drift(s, true, 1e18, found, 16);

	detail[0] = '\0';
	for (size_t i = 0; i < n && i < 16; i++) {
		if (strcmp(found[i].schema, schema) == 0 && strcmp(found[i].table, table) == 0) {
			snprintf(detail, len, "%s", found[i].detail);
			break;
		}
	}
	return 0;
}

/*
 * A statement of a stream about to be applied to its history: judged
 * against the shapes as they are before it (once a snapshot made them
 * complete), so a MODIFY that changes a type or a DROP of a column the
 * table lacks is told as it would be by check-ddl --url.  judge_live(),
 * once the statement is applied, reports it.
 */
static void on_before_ddl(void *arg, const ddl_stmt *st, const char *db, const schema_db *shape,
			  const char *trx)
{
	struct master *ms = arg;
	ddl_context ctx = { .schema = ms->installed ? shape : NULL,
			    .db = db,
			    .writes = ddl_writes,
			    .size = ddl_size,
			    .arg = ms->s };

	ddl_judge(st, &ctx, &ms->before);
	snprintf(ms->before_trx, sizeof(ms->before_trx), "%s", trx);
}

/*
 * A schema change as it appears in a stream, judged once (ddl_rules.h) by
 * its statement, the shapes before it and the tables' recent writes: an
 * unsafe one is logged and counted before the other masters' rows of the
 * old shape reach it.
 */
static void judge_live(struct master *ms, const char *sql, size_t len, const char *trx)
{
	struct schemas *s = ms->s;
	uint64_t h = XXH3_64bits(trx, strlen(trx));
	ddl_context ctx = { .writes = ddl_writes, .size = ddl_size, .arg = s };
	const ddl_judgement *jp = &ms->before;
	ddl_judgement j;
	ddl_stmt st;
	rw_error err;
	int show = len > 300 ? 300 : (int)len;

	for (size_t i = 0; i < JUDGED; i++) {
		if (s->judged[i] == h)
			return;
	}
	s->judged[s->next_judged++ % JUDGED] = h;
	if (strcmp(ms->before_trx, trx) != 0) {
		/* not seen before it was applied: by its statement alone */
		if (ddl_parse(sql, len, conflict_feed_ddl_options(ms->f), &st, &err) != 0)
			return;
		ddl_judge(&st, &ctx, &j);
		ddl_stmt_free(&st);
		jp = &j;
	}
	if (jp->verdict != DDL_UNSAFE)
		return;
	s->ddl_unsafe++;
	ms->ddl_unsafe++;
	for (size_t i = 0; i < jp->n; i++) {
		if (jp->reasons[i].verdict == DDL_UNSAFE) {
			log_warn("master %s: an UNSAFE schema change (%s): %.*s%s: %s", name_of(ms),
				 trx, show, sql, (size_t)show < len ? "..." : "",
				 jp->reasons[i].text);
			remember_unsafe(ms, sql, len, trx, jp->reasons[i].text);
			break;
		}
	}
}

/* An unsafe change kept for schemas_ddl_unsafe_recent(), named by the first table it touched. */
static void remember_unsafe(struct master *ms, const char *sql, size_t len, const char *trx,
			    const char *reason)
{
	struct schemas_unsafe *u = &ms->s->unsafe[ms->s->ddl_unsafe % UNSAFE_KEPT];

	u->seq = ms->s->ddl_unsafe;
	u->master = name_of(ms);
	snprintf(u->schema, sizeof(u->schema), "%s", ms->n_batch > 0 ? ms->batch[0].schema : "");
	snprintf(u->table, sizeof(u->table), "%s", ms->n_batch > 0 ? ms->batch[0].table : "");
	snprintf(u->trx, sizeof(u->trx), "%s", trx);
	snprintf(u->sql, sizeof(u->sql), "%.*s",
		 (int)(len < sizeof(u->sql) ? len : sizeof(u->sql) - 1), sql);
	snprintf(u->reason, sizeof(u->reason), "%s", reason);
}

size_t schemas_ddl_unsafe_recent(const struct schemas *s, struct schemas_unsafe *out, size_t max)
{
	size_t n = 0;

	for (uint64_t seq = s->ddl_unsafe; seq > 0 && n < max && n < UNSAFE_KEPT; seq--)
		out[n++] = s->unsafe[seq % UNSAFE_KEPT];
	return n;
}

uint64_t schemas_ddl_unsafe(const struct schemas *s)
{
	return s->ddl_unsafe;
}

uint64_t schemas_ddl_unsafe_on(const struct schemas *s, size_t m)
{
	return m < s->n ? s->ms[m].ddl_unsafe : 0;
}

json_t *schemas_ddl_check(struct schemas *s, const char *sql, size_t len, const char *db)
{
	ddl_context ctx = {
		.db = db, .writes = ddl_writes, .drift = ddl_drift, .size = ddl_size, .arg = s
	};
	ddl_options opt = { true, 0 };

	if (s->n > 0 && s->ms[0].f != NULL) {
		ctx.schema = conflict_feed_schema(s->ms[0].f);
		opt = *conflict_feed_ddl_options(s->ms[0].f);
	}
	return ddl_check_json(sql, len, &opt, &ctx, NULL);
}

int schemas_last_ddl(const struct schemas *s, const char *schema, const char *table, char *out,
		     size_t len)
{
	uint64_t h = table_hash(schema, table);
	size_t n = s->next_ddl < JUDGED ? s->next_ddl : JUDGED;

	for (size_t i = 0; i < n; i++) {
		size_t k = (s->next_ddl - 1 - i) % JUDGED;
		if (s->last_ddl[k].table == h) {
			snprintf(out, len, "%s (%s, on %s)", s->last_ddl[k].sql, s->last_ddl[k].trx,
				 s->names[s->last_ddl[k].master]);
			return 0;
		}
	}
	return 1;
}
