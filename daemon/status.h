/*
 * status.h - one snapshot of everything the daemon knows, and its two
 * renderings: the JSON of GET /v1/status and the Prometheus text of
 * GET /metrics.  Both walk the same snapshot, so they cannot disagree.
 */
#ifndef RINGWATCHD_STATUS_H
#define RINGWATCHD_STATUS_H

#include "stream.h"
#include "drift.h"
#include "schemas.h"
#include "tracker.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct rwd;
struct probe_link;

/* A replication link source -> replica, as the replica's SQL probe sees it. */
struct status_link {
	const char *source;  /* a master name, or the link's host:port when unknown */
	size_t source_index; /* its master index, or (size_t)-1 */
	size_t replica_index;
	double lag;          /* ringwatch's own measurement, -1 when unknown */
	const char *replica; /* the master that applies what source writes */
	const struct probe_link *l;
	const char *state; /* ok, lagging, broken, unknown */
	bool stale;        /* the replica's last probe failed: this is older news */
	char source_buf[300];
};

struct status {
	const char *version;
	double uptime;
	size_t n_masters;
	struct stream_view *masters;
	double heartbeat_period; /* a stream is current while events come this often */
	double max_lag;          /* [gate] max_lag */
	size_t n_links;
	struct status_link *links;
	bool *probe_ok; /* per master: its latest SQL probe worked */
	const char **probe_error;
	bool *trx_age_known; /* per master: the oldest open transaction is known */
	double *trx_age;
	const char **trx_error;
	double max_trx_age;     /* [gate] max_trx_age */
	int64_t conflicts_open; /* from the ledger */
	int64_t conflicts_total;
	unsigned max_open_conflicts; /* [gate] max_open_conflicts */
	struct state *state;         /* for the per-table conflict totals of /metrics */
	bool has_tracker;            /* the conflict engine runs */
	struct tracker_view tracker;
	struct schemas_unknown *unknown; /* tables whose rows were not compared */
	size_t n_unknown;
	struct drift_entry *drift; /* schema drift between the masters */
	size_t n_drift;
	double ddl_replication_timeout; /* [gate] ddl_replication_timeout */
};

/* Fill st from the daemon (on the loop thread); release with status_release(). */
int status_collect(struct rwd *d, struct status *st);
void status_release(struct status *st);

/* Is this master connected and its stream current (an event within 3 heartbeats)? */
bool status_master_current(const struct status *st, const struct stream_view *m);

/* The JSON object of GET /v1/status (new reference), the gate included. */
json_t *status_json(const struct status *st);

/* The gate's JSON with this max_lag (GET /v1/gate?max_lag=N). */
json_t *status_gate_json(const struct status *st, double max_lag);

/* Prometheus text format 0.0.4; malloc'd, NUL-terminated, *len set. */
char *status_metrics(const struct status *st, size_t *len);

#endif
