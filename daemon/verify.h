/*
 * verify.h - verification jobs in ringwatchd, the loop's side
 * (doc/verify.md).
 *
 * The loop owns the job: it starts a worker (verify_worker.h) for it,
 * answers the worker's questions (may it go on: the gate's lag,
 * replication and streams checks; did the streams show a write to a chunk
 * between two moments: the ring of recent row changes, fed by
 * verify_row_seen()), writes the progress (verify_store.h) and the drift
 * records to the ledger, and says how the job goes (struct verify_view).
 * Loop thread only.
 */
#ifndef RINGWATCHD_VERIFY_H
#define RINGWATCHD_VERIFY_H

#include "ringwatch/lag.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct config;
struct event_base;
struct state;
struct status;
struct tracker;
struct verify;

#define VERIFY_VIEW_SKIPPED 16

/* How verification goes, for /v1/status, GET /v1/verify and the metrics. */
struct verify_view {
	const char *state;           /* idle, running, paused, done, stopped, failed */
	int64_t job;                 /* 0: none yet */
	double started_at, ended_at; /* unix time; 0 unknown */
	char table[300];             /* the table being read, "" */
	char paused[600];            /* why it waits, "" */
	char error[512];             /* why the job failed, "" */
	uint64_t tables_total, tables_done, tables_skipped;
	struct {
		char table[300];
		char reason[256];
	} skipped[VERIFY_VIEW_SKIPPED];
	size_t n_skipped;
	uint64_t chunks_equal, chunks_different, chunks_unsure, rows, drift_rows, not_verified;
	double rows_per_second; /* of the current job, -1 unknown */
	double eta_seconds;     /* -1 unknown */
	/* since ringwatchd started, for the counters */
	uint64_t total_rows, total_equal, total_different, total_unsure, total_drift;
	bool running, waiting;
};

struct verify_config {
	const struct config *cfg; /* masters, [verify] and [gate]; a reload changes it in place */
	struct state *state;      /* the ledger and the jobs */
	struct tracker *tracker;  /* stream positions, records to follow */
	lag_matcher *lag;         /* the links' lag, for the window's start */
	/* a status snapshot, for the gate (the caller releases it): 0 or -1 */
	int (*status)(void *arg, struct status *st);
	void *arg;
};

/* NULL (logged) on failure. */
struct verify *verify_new(struct event_base *base, const struct verify_config *c);

/* Stop a running worker (the job stays running in the state: it resumes at the next start). */
void verify_free(struct verify *v);

/* A row change a stream showed (conflict_feed_set_row_hook's form). */
void verify_row_seen(void *v, unsigned master, uint64_t trx, uint64_t pos, const uint8_t *key,
		     size_t len, int table_only);

/*
 * Start a job over tables (an array of "schema.table" strings; empty or
 * NULL: every table), chunks of chunk_rows rows (0: adaptive): its id, 0
 * when one runs already, -1 on error (err says why).
 */
int64_t verify_start(struct verify *v, json_t *tables, uint64_t chunk_rows, char *err, size_t len);

/* Go on with the job that was running when ringwatchd stopped, if any. */
void verify_resume(struct verify *v);

void verify_view(struct verify *v, struct verify_view *out);

/* The view as the "verify" object of /v1/status and GET /v1/verify (new reference). */
json_t *verify_view_json(const struct verify_view *vv);

/* The view's metrics, in the Prometheus text format. */
void verify_view_metrics(const struct verify_view *vv, FILE *out);

#endif
