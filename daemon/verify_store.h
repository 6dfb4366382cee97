/*
 * verify_store.h - verification jobs and their progress in the state
 * database (doc/verify.md, "Progress, and a restart"): tables verify_job
 * and verify_table, created here.  Loop thread only.
 */
#ifndef RINGWATCHD_VERIFY_STORE_H
#define RINGWATCHD_VERIFY_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct state;

/* Create the tables when missing: 0 or -1. */
int verify_store_init(struct state *st);

/* A new running job (chunk_rows 0: adaptive); its id, or -1. */
int64_t verify_store_job_new(struct state *st, uint64_t chunk_rows, double now);

/* The running job: 0 with its id and chunk_rows, 1 none, -1 error. */
int verify_store_running(struct state *st, int64_t *id, uint64_t *chunk_rows, double *started);

/* The job ended: state "done", "stopped" or "failed" (error, else NULL). */
int verify_store_job_end(struct state *st, int64_t id, const char *state, const char *error,
			 double now);

/* When the last job ended (unix time), 0 when none did. */
double verify_store_last_end(struct state *st);

/* The job's tables [{"schema", "table", "rows"}]: added unless there. */
int verify_store_tables(struct state *st, int64_t job, json_t *tables);

/* A table skipped, with why. */
int verify_store_skip(struct state *st, int64_t job, const char *schema, const char *table,
		      const char *reason);

/*
 * A table's progress (a VL_PROGRESS letter: last, retries, scanned, done,
 * not_verified), with the verdict of its chunk and its rows counted, and
 * drift rows found.
 */
int verify_store_progress(struct state *st, int64_t job, json_t *p, uint64_t drift);

/*
 * The job for a worker: {"id", "chunk_rows", "tables": [{"schema",
 * "table", "last", "retries", "scanned", "done", "not_verified"}]} (new
 * reference), the skipped tables left out; NULL on error.
 */
json_t *verify_store_job(struct state *st, int64_t job);

/* Counters of a job so far. */
struct verify_totals {
	uint64_t tables, done, skipped;
	uint64_t equal, different, unsure, rows, drift, not_verified;
	uint64_t rows_estimate, rows_of_done; /* estimates, for the ETA */
};
int verify_store_totals(struct state *st, int64_t job, struct verify_totals *t);

/* The skipped tables of a job: [{"table": "s.t", "reason"}] (new reference). */
json_t *verify_store_skipped(struct state *st, int64_t job);

#endif
