/*
 * tracker.h - the conflict engine inside ringwatchd: every stream's events go
 * through a conflict_feed into one engine, whose findings go to the ledger
 * (ledger.h), the logs and the metrics.  Loop thread only.
 */
#ifndef RINGWATCHD_TRACKER_H
#define RINGWATCHD_TRACKER_H

#include "ringwatch/binlog_event.h"
#include "ringwatch/conflict.h"
#include "ringwatch/conflict_feed.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

struct state;
struct tracker;
struct schemas_snapshot;
struct schemas_unknown;
struct schemas_unsafe;
struct drift_entry;

/* Detection delay histogram buckets (seconds), for ringwatch_detection_delay_seconds. */
#define TRACKER_BUCKETS 12

struct tracker_view {
	size_t tracked_keys;
	size_t tracked_writes;
	bool blind;
	uint64_t dropped_writes;
	uint64_t big_transactions; /* over the row bound a transaction: followed as stubs */
	size_t big_unsettled;      /* of them, not yet settled */
	uint64_t no_images;        /* transactions over the image bound: compared without images */
	uint64_t unknown_origin;   /* transactions from a server no stream has shown yet */
	uint64_t undecodable;      /* rows events that could not be decoded */
	uint64_t unknown_rows;     /* row changes of tables whose shape is not known */
	uint64_t ddl_unsafe;       /* unsafe schema changes seen in the streams */
	uint64_t superseded;       /* open records no longer followed: over 256 on one row */
	uint64_t gap_shown;        /* transactions taken as applied in a gap's purged binlogs */
	uint64_t gap_undecided;    /* pairs whose order a gap hid: not decided */
	size_t engine_bytes;       /* the engine's tracking structures */
	size_t ring_bytes;         /* its image rings' capacity */
	size_t ring_used;          /* of it, touched so far */
	uint64_t
	    ddl_unsafe_on[CONFLICT_MAX_MASTERS]; /* by the master whose stream showed it first */
	/* rows events of each master's stream read from its replica thread's row batches */
	uint64_t row_batches[CONFLICT_MAX_MASTERS];
	uint64_t delay_buckets[TRACKER_BUCKETS]; /* cumulative counts per le bound */
	uint64_t delay_count;
	double delay_sum;
};

/* The buckets' upper bounds in seconds (tracker.c counts, metrics.c prints). */
static const double tracker_bucket_bounds[TRACKER_BUCKETS] = {
	0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10
};

/* What an engine is made of: the masters, the state, and how to tell a transaction's origin. */
struct tracker_config {
	size_t n_masters;
	const char *const *names; /* copied */
	struct state *state;      /* the ledger, the checkpoints, the schema journal; may be NULL */
	size_t max_tracked_writes; /* 0: the engine's default */
	/* the master index of a server_id, or -1 when it is none of the masters' (yet) */
	int (*origin)(uint32_t server_id, void *arg);
	void *origin_arg;
	/* optional: every row change the streams show (conflict_feed_set_row_hook) */
	conflict_feed_row_fn row;
	void *row_arg;
};

/* An engine for the masters; NULL (logged) on failure. */
struct tracker *tracker_new(const struct tracker_config *c);
void tracker_free(struct tracker *t);

/* An event of master's stream (the stream sink). */
void tracker_event(struct tracker *t, size_t master, const binlog_event *ev, const void *batch,
		   size_t batch_len);

/*
 * A copy of master's shapes for its replica thread's row batches, with
 * their tag in *tag, when the feed's tag is not *tag; else NULL (and NULL
 * when out of memory: the thread keeps the ones it has, whose batches the
 * feed refuses).
 */
struct schema_db *tracker_shapes(struct tracker *t, size_t master, uint64_t *tag);

/* master's stream had a gap: its next connection reads from the oldest binlog (conflict_feed_gap). */
void tracker_gap(struct tracker *t, size_t master);

/* Master's stream reconnected: what it was gathering is gone. */
void tracker_reset(struct tracker *t, size_t master);

/*
 * Holding master's events while its tables are read again (schemas.h,
 * schemas_admit): admit is the stream's question, held hears of what it
 * holds, hold_check asks whether the hold is over (after a snapshot, each
 * second); true from held or hold_check: resume the stream.  give_up: the
 * stream could hold no more.
 */
bool tracker_admit(struct tracker *t, size_t master, const binlog_event *ev);
bool tracker_held(struct tracker *t, size_t master, const binlog_event *ev);
bool tracker_hold_check(struct tracker *t, size_t master);
void tracker_give_up(struct tracker *t, size_t master);

/* A snapshot of master's tables from information_schema (schemas.h). */
void tracker_schema(struct tracker *t, size_t master, const struct schemas_snapshot *snap);

/* Whether master's tables should be read from information_schema again now
 * (a table is unknown, or every seconds passed; 0: only when unknown). */
bool tracker_wants_schema(struct tracker *t, size_t master, double now, double every);

/* Schema drift between the masters (drift.h); how many findings there are. */
size_t tracker_drift(struct tracker *t, bool all_current, double timeout, struct drift_entry *out,
		     size_t max);

/* The newest DDL on schema.table in any stream (schemas.h): 0, or 1 none. */
int tracker_last_ddl(const struct tracker *t, const char *schema, const char *table, char *out,
		     size_t len);

/* POST /v1/ddl/check: schema changes judged against the live shapes (schemas.h). */
json_t *tracker_ddl_check(struct tracker *t, const char *sql, size_t len, const char *db);

/* GET /v1/tables without the open conflicts (schemas.h); a new reference. */
json_t *tracker_tables_json(const struct tracker *t);

/* The tables whose rows were not compared (schemas.h); how many there are. */
size_t tracker_unknown_tables(const struct tracker *t, struct schemas_unknown *out, size_t max);

/*
 * Durability (doc/checkpoint.md): tracker_checkpoint() saves the engine's marks and
 * unsettled transactions (at most once a second, and at a clean stop);
 * tracker_restore() hands them, and the ledger's open conflicts, back to a
 * new engine; tracker_resume() says where master's stream must start so
 * that nothing unsettled is missed: true with file and offset, false when
 * the stream's own checkpoint will do.
 */
void tracker_checkpoint(struct tracker *t);
void tracker_restore(struct tracker *t);
bool tracker_resume(struct tracker *t, size_t master, char *file, size_t len, uint64_t *offset);

/* A person resolved ledger conflict id: tell the engine too. */
void tracker_resolved(struct tracker *t, int64_t id);

/* Where master's stream is: the end of the last event fed (conflict_feed_pos). */
uint64_t tracker_stream_pos(const struct tracker *t, size_t master);

/*
 * Follow the ledger's open record uid (a drift record) on a row from now on,
 * as the open records restored after a restart are: a later write that
 * leaves every master the same row resolves it, and the before-image check
 * does not report the row again meanwhile.  Writes before it (read again
 * after a restart too) do not change it (conflict_engine_follow_drift()).
 * key_hex: the canonical key.
 */
void tracker_follow(struct tracker *t, const char *uid, const char *schema, const char *table,
		    const char *key_hex);

void tracker_view(const struct tracker *t, struct tracker_view *v);

/* The newest unsafe schema changes seen in the streams, newest first (schemas.h). */
size_t tracker_ddl_unsafe_recent(const struct tracker *t, struct schemas_unsafe *out, size_t max);

#endif
