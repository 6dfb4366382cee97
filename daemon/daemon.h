/*
 * daemon.h - the state of one ringwatchd process, owned by the event loop.
 */
#ifndef RINGWATCHD_DAEMON_H
#define RINGWATCHD_DAEMON_H

#include "api.h"
#include "config.h"
#include "status.h"

#include "ringwatch/lag.h"

struct alerts_run;
struct event_base;
struct event;
struct catchup;
struct http_server;
struct mailbox;
struct probe;
struct probe_result;
struct ledger_memo;
struct state;
struct stream;
struct tracker;
struct verify;

struct rwd {
	struct event_base *base;
	const char *config_path;
	struct config cfg; /* the running configuration */
	struct http_server *http;
	struct api api;                  /* what the HTTP endpoints read and act on */
	struct state *state;             /* SQLite in state_dir */
	struct ledger_memo *ledger_memo; /* the ledger's answers to the status, kept */
	struct stream **streams;         /* one per master, in configuration order */
	size_t n_streams;
	lag_matcher *lag;
	struct tracker *tracker; /* the conflict engine */
	bool origins_known;
	struct event *checkpoint; /* the conflict engine's checkpoint, every second */
	/* every master's server_id, or waited long enough */ /* delays measured between the streams */
	struct mailbox *probe_mb;                             /* results of the SQL probes */
	struct probe **probes;                                /* one per master, like streams */
	struct probe_result **probe_last;                     /* the latest round of each master */
	struct probe_result **probe_last_ok;                  /* the latest round that worked */
	struct catchup *catchup;   /* the streams against the masters' binlog ends */
	struct alerts_run *alerts; /* the alerts; NULL when they go nowhere */
	struct verify *verify;     /* verification jobs */
	struct event *sig_term;
	struct event *sig_int;
	struct event *sig_hup;
	double started;            /* monotonic seconds at start */
	double started_wall;       /* unix time of the start */
	struct reload_view reload; /* the reloads so far */
	double last_tick;          /* monotonic seconds of the last checkpoint tick */
	struct stall_view stalls;  /* times the loop did not run for a while */
};

/* Seconds without a checkpoint tick (one a second) that the log and /v1/status call a stall. */
#define LOOP_STALL_SECONDS 3.0

#endif
