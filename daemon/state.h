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
 * an error that names the file, never an empty answer.  A write that fails
 * later is kept in memory, within a bound, and tried again by
 * state_retry(); state_health() says so meanwhile.  The files are created
 * 0600 (the database's -wal and -shm files take its mode).
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

/* Write what is kept if it can be written now (else say it is lost), and close. */
void state_close(struct state *st);

/*
 * Writes.  Each write function below returns 0 when it wrote, and also when
 * the database refused the write for a reason that may pass (disk full, I/O
 * error, damage found, busy, read-only): the write is then kept in memory
 * and tried again by state_retry().  While anything is kept, later writes
 * queue behind it, so they reach the database in the order they were made:
 * no checkpoint is written past a record that is not.  -1 when SQLite
 * refuses a write for good (a constraint; state_error() says why), and when
 * the kept writes are at their bound (STATE_KEPT_MAX bytes): that write is
 * lost.  Once one is lost, checkpoints (resume points) are no longer
 * written, so that the next start reads the binlogs again from before it.
 */
#define STATE_KEPT_MAX ((size_t)64 << 20)

/* Kept writes tried again per state_retry() call, at most: the loop has other work. */
#define STATE_RETRY_BATCH 2000

/*
 * Try the kept writes again, oldest first, until one fails: 0 when none is
 * left, 1 when more are left for the next call, -1 when one failed again.
 */
int state_retry(struct state *st);

/* What /healthz, the gate and the metrics say of the state. */
struct state_health {
	size_t kept;           /* writes that failed, kept in memory to be tried again */
	uint64_t write_errors; /* failed attempts to write, retries included */
	uint64_t writes_lost;  /* writes given up (the bound was full) */
	char detail[600];      /* what is wrong and what happens, "" while all is written */
};

/* The state's health now: all is well while kept and writes_lost are 0. */
void state_health(const struct state *st, struct state_health *out);

/*
 * One kind of write, for state_write() (ledger.c keeps its table this way).
 * apply() makes it: an SQLite result code, SQLITE_OK when written (or when
 * there is nothing to do), and no partial effect otherwise.  keep() copies
 * arg for a later apply() (NULL when out of memory; *size its bytes), and
 * release() frees such a copy.  same(), if set, says that a kept write is
 * replaced by arg (which writes all the older one wrote): the older one is
 * dropped and arg queues at the end.  A resume point is not written once a
 * write was lost.
 */
struct state_op {
	const char *what; /* for the log: "a conflict", "the engine's checkpoint" */
	int (*apply)(struct state *st, void *arg);
	void *(*keep)(const void *arg, size_t *size);
	void (*release)(void *kept);
	int (*same)(const void *kept, const void *arg);
	int resume_point;
};

/* Make op's write of arg now, or keep it (above): 0 written, 1 kept, -1 failed. */
int state_write(struct state *st, const struct state_op *op, void *arg);

/*
 * For state_op.apply: fn in one SQLite transaction, SQLITE_OK or the failure's code (then
 * rolled back, nothing of it written).
 */
int state_in_transaction(struct state *st, int (*fn)(struct state *st, void *arg), void *arg);

/*
 * For state_op.keep: a copy of the struct at arg (size bytes), whose first n
 * members are const char * (NULL or a string), with the strings copied after
 * it in the same block (free() frees it); *total its bytes.  NULL when out of
 * memory.
 */
void *state_keep_copy(const void *arg, size_t size, size_t n, size_t *total);

/* 0 and *out filled, 1 when the master has no checkpoint, -1 on error. */
int state_checkpoint_load(struct state *st, const char *master, struct checkpoint *out);

/* Replace the master's checkpoint; 0 or -1. */
int state_checkpoint_save(struct state *st, const char *master, const struct checkpoint *cp);

/* Record a gap; returns its id, 0 when the write is kept (no id yet), or -1. */
int64_t state_gap_add(struct state *st, const struct gap *g);

/* The newest unacknowledged gap of master: 0 and *out, 1 when none, -1 on error. */
int state_gap_open(struct state *st, const char *master, struct gap *out);

/*
 * Acknowledge a gap: 0, 1 when no such open gap, -1 on error (not kept: a
 * person asked, and is answered now).  moved_to, if not NULL, is where
 * reading went on after the gap (the stream read no transaction since): it
 * becomes the master's checkpoint, in the same SQLite transaction, and is
 * kept with the gap for state_gap_moved_to().
 */
int state_gap_ack(struct state *st, int64_t id, const struct checkpoint *moved_to);

/*
 * Where the newest acknowledged gap of master moved reading to: 0 with file
 * and offset, 1 when none said, -1 on error.  A position before it lies in
 * binlogs the master had purged.
 */
int state_gap_moved_to(struct state *st, const char *master, char *file, size_t len,
		       uint64_t *offset);

/* The conflict engine's checkpoint for one master (doc/checkpoint.md). */
struct engine_mark {
	char master[64];
	int fed;
	uint64_t last; /* position of the last transaction fed */
	int unsettled;
	uint64_t low_water; /* position of the oldest unsettled one */
	char file[256];     /* a binlog file name of the stream, for the name pattern */
	double saved_at;    /* when it was taken (seconds since the epoch); 0: not known */
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
 * A version of the conflict table as ledger_each_between() reads it
 * (ledger.h): while two versions are equal, that read gives the same
 * answer.  writes counts state_conflict_changed(): this state's writes that
 * change a column the read uses (a conflict recorded, one resolved), not
 * the finals the engine writes to open conflicts at every write on their
 * rows; others is SQLite's data_version, which moves when another
 * connection (a person's sqlite3, say) commits anything to the database.
 */
struct state_version {
	uint64_t writes;
	int64_t others;
};

/*
 * The conflict table changed in a column ledger_each_between() reads (id,
 * kind, schema_name, table_name, state, resolved_by, writes_json): called
 * by each write of this state that makes such a change, after it.
 */
void state_conflict_changed(struct state *st);

/* The conflict table's version now into *out: 0, or -1 (state_error() says why). */
int state_conflict_version(struct state *st, struct state_version *out);

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
