/*
 * status.h - one snapshot of everything the daemon knows (status.c), the
 * gate evaluated on it (gate.h), and its renderings: the JSON of GET
 * /v1/status and /v1/gate (status_json.c) and the Prometheus text of GET
 * /metrics (metrics.c).  They all read the same snapshot and nothing else,
 * so they cannot disagree.
 */
#ifndef RINGWATCHD_STATUS_H
#define RINGWATCHD_STATUS_H

#include "catchup.h"
#include "alert_sender.h"
#include "drift.h"
#include "gate.h"
#include "http.h"
#include "schemas.h"
#include "state.h"
#include "stream.h"
#include "tracker.h"
#include "verify.h"

#include "ringwatch/audit.h"
#include "ringwatch/lag.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct probe_link;
struct probe_result;
struct config;
struct state;
struct ledger_memo;

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
	char cause[400];   /* what ringwatch knows made it stop ("" when nothing) */
	char source_buf[300];
};

/* The configuration reloads (SIGHUP) since the start. */
struct reload_view {
	unsigned ok, failed;
	double last_at; /* unix time of the latest; 0: none yet */
	bool last_ok;
	char last_error[640]; /* why the latest failed ("" when it did not) */
};

/* Times ringwatchd's loop did not run for LOOP_STALL_SECONDS or more (SIGSTOP, no CPU). */
struct stall_view {
	unsigned total;
	double last_at;      /* unix time it ran again; 0: never stalled */
	double last_seconds; /* how long it did not run */
};

struct status {
	const char *version;
	double uptime;
	double started_wall; /* unix time ringwatchd started */
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
	int64_t diverged_rows;  /* rows of open diverged conflicts, -1 not known */
	int64_t conflicts_total;
	unsigned max_open_conflicts; /* [gate] max_open_conflicts */
	struct status_total *totals; /* conflicts per table and kind, from the ledger */
	size_t n_totals, cap_totals;
	bool totals_failed; /* out of memory reading them: some are missing */
	bool *current;      /* per master: connected, events arriving, not catching up */
	struct catchup_verdict *catchup; /* per master: how far its stream is behind it */
	bool has_tracker;                /* the conflict engine runs */
	struct tracker_view tracker;
	struct schemas_unknown *unknown; /* tables whose rows were not compared */
	size_t n_unknown;
	struct drift_entry *drift; /* schema drift between the masters */
	size_t n_drift;
	double ddl_replication_timeout; /* [gate] ddl_replication_timeout */
	audit_finding *audit; /* the configuration audit of the masters' latest variables */
	size_t n_audit;
	/* writes to state_dir: kept after a failure, lost (all zero without a state) */
	struct state_health state;
	struct gate gate;                            /* evaluated on this snapshot, with max_lag */
	struct alert_receiver_view *alert_receivers; /* where alerts go, and how it goes */
	size_t n_alert_receivers;
	bool has_verify; /* verification runs in this daemon */
	struct verify_view verify;
	bool has_http; /* the HTTP server's connections (not known to a snapshot made elsewhere) */
	struct http_stats http;
	struct reload_view reload;
	struct stall_view stalls;
};

/* Conflicts found on a table, of one kind (ringwatch_conflicts_total). */
struct status_total {
	char *schema, *table, *kind;
	int64_t n;
};

/* What a snapshot is read from (the loop thread's). */
struct status_sources {
	const struct config *cfg;
	double uptime;                 /* seconds */
	double started_wall;           /* unix time ringwatchd started */
	double now;                    /* monotonic seconds, for the lag */
	struct stream *const *streams; /* one per master */
	size_t n_streams;
	struct probe_result *const *probe_last;    /* per master, NULL before any */
	struct probe_result *const *probe_last_ok; /* per master, the latest that worked */
	lag_matcher *lag;                          /* may be NULL */
	const struct catchup *catchup;             /* may be NULL: nothing known */
	struct tracker *tracker;                   /* NULL when the engine does not run */
	struct state *state;                       /* the ledger; may be NULL */
	struct ledger_memo *ledger_memo;           /* its answers kept; NULL: read each time */
	struct alert_sender *alert_sender;         /* NULL when alerts go nowhere */
	struct verify *verify;                     /* verification jobs; may be NULL */
	const struct http_stats *http;             /* may be NULL: not known */
	const struct reload_view *reload;          /* may be NULL: none */
	const struct stall_view *stalls;           /* may be NULL: none */
};

/* status_collect.c: fill st (release with status_release()); 0, or -1 when out of memory. */
int status_collect(const struct status_sources *src, struct status *st);

/* status.c: free what st holds. */
void status_release(struct status *st);

/*
 * status.c: whether master i's stream is connected and receiving events
 * (heartbeats included, within 3 heartbeat periods): the first half of
 * being current; the second is not catching up (st->catchup[i]).
 */
bool status_stream_live(const struct status *st, size_t i);

/*
 * status.c: whether master i's stream is catching up; the master's state as
 * /v1/status shows it, "catching_up" then, else stream_state_name().
 */
bool status_catching_up(const struct status *st, size_t i);
const char *status_master_state(const struct status *st, size_t i);

/*
 * status.c: a link's lag as the gate and the throttle check judge it:
 * ringwatch's own measurement or Seconds_Behind_Master, whichever is larger
 * (-1 when neither is known).
 */
double status_link_lag(const struct status_link *sl);

/* status_json.c: the JSON object of GET /v1/status (new reference), the gate included. */
json_t *status_json(const struct status *st);

/*
 * status_json.c: the gate's JSON with this max_lag, of the checks named in
 * checks (NULL: all) (GET /v1/gate?max_lag=N&checks=a,b); NULL with the
 * first unknown check's name in bad.
 */
json_t *status_gate_json(const struct status *st, double max_lag, const char *checks, char *bad,
			 size_t len);

/* metrics.c: Prometheus text format 0.0.4; malloc'd, NUL-terminated, *len set. */
char *status_metrics(const struct status *st, size_t *len);

#endif
