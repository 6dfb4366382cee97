/*
 * schemas.h - every master's schema history inside ringwatchd: the shapes
 * the conflict feeds key rows by (conflict_feed.h), where they come from,
 * and the tables whose shape is not known.  Loop thread only.
 *
 * Each master's history starts from the journal in the state (the shapes
 * as of the position its stream resumes at) or empty; the feed applies the
 * DDL of the stream to it.  A snapshot of information_schema, read between
 * binlog positions p1 and p2, is installed when the stream has passed p2,
 * for each table no DDL touched since p1 (for those the stream's own DDL
 * is newer, or the snapshot is ambiguous).  So a table's shape is always as
 * of the stream's position; before p2, a table neither a snapshot nor the
 * stream's DDL has shown is unknown and its rows are not compared.
 *
 * Every change is written to the journal at its stream position, so a
 * restart resumes with the shapes as of its checkpoint.
 */
#ifndef RINGWATCHD_SCHEMAS_H
#define RINGWATCHD_SCHEMAS_H

#include "ringwatch/conflict_feed.h"
#include "ringwatch/ddl.h"

#include "drift.h"

#include <jansson.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct state;
struct schemas;

/* For n masters named names (copied); st (may be NULL) holds the journal. */
struct schemas *schemas_new(size_t n, const char *const *names, struct state *st);
void schemas_free(struct schemas *s);

/* Master m's feed: its schema hooks report here. */
void schemas_attach(struct schemas *s, size_t m, conflict_feed *f);

/* Master m's shapes from the journal as of stream position before (where it resumes). */
void schemas_restore(struct schemas *s, size_t m, uint64_t before);

/* A snapshot of master m's tables: a script of CREATE TABLE statements read between p1 and p2. */
struct schemas_snapshot {
	const char *text;
	size_t len;
	ddl_options opt;
	bool has_positions; /* false: binary log positions unknown, installed at once */
	uint64_t p1, p2;    /* conflict_feed_position()s */
	const char *sizes;  /* the tables' sizes, schema_snapshot_sizes()'s block (NULL: none) */
	size_t sizes_len;
};
void schemas_snapshot(struct schemas *s, size_t m, const struct schemas_snapshot *snap);

/* After each of master m's events: a snapshot the stream has passed goes in. */
void schemas_after_event(struct schemas *s, size_t m);

/*
 * Whether master m needs a snapshot now: a table is not known (at most every
 * few seconds), or every seconds have passed since the last one (0: never).
 */
bool schemas_want_snapshot(struct schemas *s, size_t m, double now, double every);

/*
 * Holding master m's events while its tables are read again: a rows event
 * of a table whose shape is not known or does not fit its table map (and
 * that is not known to stay unknown) is refused (false), and the stream
 * holds it and what follows (stream.h).  A snapshot asked for at once,
 * read between p1 and p2, is installed where the hold began once the held
 * events reach p2, for the tables no DDL among them touched (so each shape
 * is the one in force there); then the events go on and are keyed by it.
 * After a few seconds without, they go on anyway: those rows are not
 * compared, as before.  schemas_held() hears of each event held (read
 * without its rows); it and schemas_hold_check() (after a snapshot, and
 * every second) say true when the stream may resume.
 */
bool schemas_admit(struct schemas *s, size_t m, const binlog_event *ev);
bool schemas_held(struct schemas *s, size_t m, const binlog_event *ev);
bool schemas_hold_check(struct schemas *s, size_t m);
/* The stream let its held events go (overflow) or dropped them (a reconnect). */
void schemas_hold_end(struct schemas *s, size_t m, bool overflow);

/* The time (monotonic seconds) for what the next events do: call before each. */
void schemas_set_time(struct schemas *s, double now);

/*
 * Schema drift (drift.h): DDL not shown by every master within timeout
 * seconds, and, when all_current, tables whose shapes differ.
 */
size_t schemas_drift(struct schemas *s, bool all_current, double timeout, struct drift_entry *out,
		     size_t max);

/*
 * Every table of every master's history or writes, for GET /v1/tables:
 * [{"schema", "table", "masters": {NAME: {"fingerprint", "key_source",
 * "reason", "writes_10m"}}}] (new reference).
 */
json_t *schemas_tables_json(const struct schemas *s);

/*
 * Schema changes judged against the first master's shapes as of its stream,
 * the tables' recent writes on every master and their drift (POST
 * /v1/ddl/check; common/ddl_check.h's answer); db is the default database
 * (NULL: statements name theirs).  NULL when out of memory.
 */
json_t *schemas_ddl_check(struct schemas *s, const char *sql, size_t len, const char *db);

/*
 * The newest DDL statement that touched schema.table, as "ALTER TABLE ...
 * (GTID, on west)", west the first stream that showed it (its origin, but
 * for a master down at the time): 0, or 1 when none is remembered.
 */
int schemas_last_ddl(const struct schemas *s, const char *schema, const char *table, char *out,
		     size_t len);

/* Unsafe schema changes seen in the streams (each logged once, as it first appears). */
uint64_t schemas_ddl_unsafe(const struct schemas *s);

/* Those master m's stream showed first (normally the master that ran them). */
uint64_t schemas_ddl_unsafe_on(const struct schemas *s, size_t m);

/* An unsafe schema change as it appeared in a stream. */
struct schemas_unsafe {
	uint64_t seq;                 /* its number: schemas_ddl_unsafe() when it was seen */
	const char *master;           /* the stream that showed it first (lives as long as s) */
	char schema[SCHEMA_NAME_MAX]; /* the first table it touched, "" when none */
	char table[SCHEMA_NAME_MAX];
	char trx[96];     /* its transaction (GTID) */
	char sql[200];    /* the statement, cut short */
	char reason[256]; /* why it is unsafe */
};

/* The newest unsafe schema changes (at most 16 are kept), newest first; how many in out. */
size_t schemas_ddl_unsafe_recent(const struct schemas *s, struct schemas_unsafe *out, size_t max);

/* Journal entries no restart needs any more (the stream resumes at low_water or later). */
void schemas_compact(struct schemas *s, size_t m, uint64_t low_water);

/* A table whose rows were not compared. */
struct schemas_unknown {
	const char *master;
	const char *schema, *table, *reason;
	uint64_t rows; /* row changes not compared */
};

/* Up to max of them into out (valid until the next call into s); how many there are. */
size_t schemas_unknown(const struct schemas *s, struct schemas_unknown *out, size_t max);

#endif
