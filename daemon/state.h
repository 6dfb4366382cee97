/*
 * state.h - ringwatchd's durable state: one SQLite database (WAL) in state_dir.
 *
 * It holds, per master, the checkpoint a stream resumes from after a restart
 * (doc/checkpoint.md), and the gaps: binlogs purged past a checkpoint,
 * recorded so that the loss is reported until someone acknowledges it.
 * Every call runs on the event loop thread and takes well under a
 * millisecond with WAL and synchronous=NORMAL.
 *
 * state_open() takes state_dir for this process alone (a lock file), and
 * refuses a database that fails SQLite's integrity check: a damaged state is
 * an error that names the file, never an empty answer.  The files are
 * created 0600 (the database's -wal and -shm files take its mode).
 */
#ifndef RINGWATCHD_STATE_H
#define RINGWATCHD_STATE_H

#include <stddef.h>
#include <stdint.h>

struct state;

struct checkpoint {
	uint32_t server_id; /* of the master when it was written */
	char gtid[4096];    /* MariaDB GTID position, "" if none */
	char file[256];     /* binlog file and offset after the last complete transaction */
	uint64_t offset;
	double saved_at; /* unix time */
};

struct gap {
	int64_t id;
	char master[64];
	char from[512];   /* the checkpoint that could not be resumed */
	char to[512];     /* where reading went on */
	char reason[512]; /* the master's words */
	double at;        /* unix time */
	int acknowledged;
};

/*
 * Open (creating if needed) DIR/ringwatch.db, holding DIR/ringwatchd.lock
 * (flock, with this process's pid in it) until state_close().  NULL with a
 * one-line reason in err: the lock is held by another process (named by its
 * pid), the database is damaged (with what to do about it), or it cannot be
 * opened or migrated.
 */
struct state *state_open(const char *dir, char *err, size_t errlen);

void state_close(struct state *st);

/* 0 and *out filled, 1 when the master has no checkpoint, -1 on error. */
int state_checkpoint_load(struct state *st, const char *master, struct checkpoint *out);

/* Replace the master's checkpoint; 0 or -1. */
int state_checkpoint_save(struct state *st, const char *master, const struct checkpoint *cp);

/* Record a gap; returns its id, or -1. */
int64_t state_gap_add(struct state *st, const struct gap *g);

/* The newest unacknowledged gap of master: 0 and *out, 1 when none, -1 on error. */
int state_gap_open(struct state *st, const char *master, struct gap *out);

/* Acknowledge a gap: 0, 1 when no such open gap, -1 on error. */
int state_gap_ack(struct state *st, int64_t id);

/* The conflict engine's checkpoint for one master (doc/checkpoint.md). */
struct engine_mark {
	char master[64];
	int fed;
	uint64_t last; /* position of the last transaction fed */
	int unsettled;
	uint64_t low_water; /* position of the oldest unsettled one */
	char file[256];     /* a binlog file name of the stream, for the name pattern */
};

/* Replace the engine's checkpoint: marks of n masters and the identity
 * hashes of the unsettled transactions, in one SQLite transaction. */
int state_engine_save(struct state *st, const struct engine_mark *marks, size_t n,
		      const uint64_t *hashes, size_t n_hashes);

/* Load it: the mark of master (0, 1 when none, -1 error). */
int state_engine_mark(struct state *st, const char *master, struct engine_mark *out);

/* Calls fn for each saved unsettled hash. */
int state_engine_unsettled(struct state *st, void (*fn)(uint64_t hash, void *arg), void *arg);

/* The database itself, for the modules that keep their own tables in it. */
struct sqlite3 *state_db(struct state *st);

/*
 * The schema history's journal: master's table schema.table has shape sql
 * (a CREATE TABLE statement), or is unknown because why, for the events that
 * start at stream position pos or later; both NULL: it is gone from pos on.
 * source is the shape's enum schema_source.
 * 0 or -1.
 */
int state_schema_put(struct state *st, const char *master, uint64_t pos, const char *schema,
		     const char *table, const char *sql, const char *why, int source);

/*
 * Each table as the journal has it for an event starting at position at
 * (its latest entry at or before at; gone ones left out), through fn; *last
 * is the latest position among them (0: none).
 */
int state_schema_load(struct state *st, const char *master, uint64_t at,
		      void (*fn)(const char *schema, const char *table, const char *sql,
				 const char *why, int source, void *arg),
		      void *arg, uint64_t *last);

/*
 * Drop master's entries after from (INT64_MAX for none), and those that a
 * later entry of the same table at or before upto replaces.
 */
int state_schema_forget(struct state *st, const char *master, uint64_t from, uint64_t upto);

/* Why the last call failed: "PATH: SQLite's words", for logs and error answers. */
const char *state_error(const struct state *st);

/* Record why a read of the database failed (for state_error()); returns -1. */
int state_fail(struct state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
