/*
 * alerts.h - the alerts ringwatchd sends itself (doc/alerts.md): which are
 * firing, decided each tick from what the daemon knows, and every change
 * rendered for Alertmanager's API v2 and for the webhook.
 *
 * alerts.c holds the rules and the set of alerts that fire: it does no I/O
 * and reads no clock (the time comes in the input), so it can be tested on
 * inputs made by hand.  alerts_run.c runs them in the daemon: each second
 * it gathers an input from the status snapshot, the ledger and the schema
 * histories, and hands what alerts_update() returns to the sender
 * (alert_sender.h), which delivers it from a thread per receiver.  Loop
 * thread only.
 *
 * Labels carry names (masters, schemas, tables, kinds), never a row key or
 * an ID: an ID goes in the annotations and the generatorURL.
 */
#ifndef RINGWATCHD_ALERTS_H
#define RINGWATCHD_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct alerts;
struct alert_sender;
struct state;
struct status;
struct tracker;

/* A master's binlog stream. */
struct alerts_master {
	const char *name;
	bool connected;
	const char *error; /* the stream's last error, "" when none */
};

/* A replication link source -> replica. */
struct alerts_link {
	const char *source, *replica;
	const char *state; /* ok, lagging, broken, or unknown: not known now, what fires stays */
	bool io_running, sql_running;
	unsigned error_code; /* 0 when none */
	const char *error;   /* the replica's error message, "" when none */
	const char *cause;   /* what ringwatch knows made it stop, "" when nothing */
	double lag;          /* seconds, ringwatch's own measurement; < 0 when not known */
	double behind;       /* the replica's Seconds_Behind_Master; < 0 when not known */
};

/* A table's conflicts of one kind detected within the hold (the ledger's). */
struct alerts_conflicts {
	const char *schema, *table, *kind;
	int64_t n, open, newest_id;
	double newest_at; /* unix time */
};

/* A table's open conflicts that left its rows diverged. */
struct alerts_diverged {
	const char *schema, *table;
	int64_t n, newest_id;
};

/* An unsafe schema change seen in a stream; seq numbers them from 1 as they appear. */
struct alerts_ddl {
	uint64_t seq;
	const char *master, *schema, *table, *trx, *sql, *reason;
};

/* A schema drift finding: a table whose shape differs, or DDL not on every master. */
struct alerts_drift {
	const char *schema, *table, *detail;
};

/* A critical check of the configuration audit that fails. */
struct alerts_audit {
	const char *check, *master; /* master: "" when about the whole ring */
	const char *detail;
};

/* A check of the deploy gate that fails. */
struct alerts_gate_check {
	const char *name, *detail;
};

/* What one tick of the rules reads. */
struct alerts_input {
	double now;     /* unix time */
	double max_lag; /* [gate] max_lag: over it a link is lagging */
	const struct alerts_master *masters;
	size_t n_masters;
	const struct alerts_link *links;
	size_t n_links;
	bool ledger_known; /* false: the ledger could not be read; its alerts stay as they are */
	const struct alerts_conflicts *conflicts;
	size_t n_conflicts;
	const struct alerts_diverged *diverged;
	size_t n_diverged;
	const struct alerts_ddl *ddl; /* the newest unsafe schema changes, any order */
	size_t n_ddl;
	bool drift_known; /* false: not compared now (a stream not current); its alerts stay */
	const struct alerts_drift *drift;
	size_t n_drift;
	const struct alerts_audit *audit; /* the critical findings that fail */
	size_t n_audit;
	bool blind; /* the conflict engine compares no writes (over max_tracked_writes) */
	bool gate_closed;
	const struct alerts_gate_check *gate_failing; /* the gate's checks that fail */
	size_t n_gate_failing;
};

struct alerts_config {
	const char *instance; /* the instance label of every alert (copied) */
	const char *base_url; /* "http://host:port" of the API, for generatorURL (copied) */
	double resend;        /* seconds between two sends of a firing alert to Alertmanager */
	double hold;          /* seconds a conflict or an unsafe DDL alert fires after the event */
	double master_for;    /* seconds a stream must stay disconnected before it fires */
	/* seconds each condition must last before its alert fires */
	double lagging_for, drift_for, audit_for, blind_for, gate_for;
};

/* The defaults of struct alerts_config (doc/alerts.md). */
#define ALERTS_RESEND      60.0
#define ALERTS_HOLD        300.0
#define ALERTS_MASTER_FOR  10.0
#define ALERTS_LAGGING_FOR 300.0
#define ALERTS_DRIFT_FOR   600.0
#define ALERTS_AUDIT_FOR   60.0
#define ALERTS_BLIND_FOR   120.0
#define ALERTS_GATE_FOR    1800.0

/* Where each alert's runbook_url points: its section, the alert's name in lower case. */
#define ALERTS_RUNBOOK "https://github.com/ringwatch/ringwatch/blob/main/docs/runbook.md"

/* At most this many alerts fire at once; more are counted in alerts_dropped(). */
#define ALERTS_MAX 1000

/*
 * One change of one alert, rendered for each kind of receiver (malloc'd
 * JSON texts): alertmanager is an element of the array POSTed to
 * /api/v2/alerts, webhook the object POSTed to the webhook, NULL when that
 * receiver gets nothing (a resend goes to Alertmanager only).  fingerprint
 * is the alert's identity: its name and labels.
 */
struct alerts_item {
	uint64_t fingerprint;
	char *alertmanager;
	char *webhook;
};

/* A set of alerts, none firing; NULL when out of memory. */
struct alerts *alerts_new(const struct alerts_config *c);
void alerts_free(struct alerts *a);

/*
 * One tick: the rules applied to in; alerts start, change and end.  Into
 * *items (malloc'd, *n of them; alerts_items_free()) goes what to send:
 * each change, and for Alertmanager each firing alert again once resend
 * seconds have passed since it was last sent.  0, or -1 when out of memory
 * (nothing to send then; an alert whose change was lost is sent again with
 * its next resend).
 */
int alerts_update(struct alerts *a, const struct alerts_input *in, struct alerts_item **items,
		  size_t *n);

/* Every firing alert for Alertmanager, as now (for a new receiver); 0 or -1 as above. */
int alerts_firing(struct alerts *a, double now, struct alerts_item **items, size_t *n);

void alerts_items_free(struct alerts_item *items, size_t n);

/* Seconds a conflict or an unsafe DDL alert fires after the event (alerts_config's hold). */
double alerts_hold(const struct alerts *a);

/* How many alerts fire now. */
size_t alerts_count(const struct alerts *a);

/* Alerts that did not fire because ALERTS_MAX were firing. */
uint64_t alerts_dropped(const struct alerts *a);

/* ---- alerts_run.c: the alerts inside ringwatchd, on its event loop ---------------------- */

struct alerts_run;
struct config;
struct event_base;

/* What the alerts read each second (loop thread). */
struct alerts_sources {
	int (*status)(void *arg, struct status *st); /* a snapshot (status.h): 0, or -1 */
	void *arg;
	struct state *state;           /* the ledger; may be NULL */
	const struct tracker *tracker; /* the schema histories; may be NULL */
};

/*
 * Start the alerts of cfg's [alerts]: the rules each second on base, and
 * the sender's threads; port is where the API listens, for generatorURL.
 * 0 with *out NULL when they go nowhere; -1 (logged) on failure.
 */
int alerts_run_start(struct event_base *base, const struct config *cfg, unsigned port,
		     const struct alerts_sources *src, struct alerts_run **out);

/* Stop the timer and the sender's threads, and free (NULL is fine). */
void alerts_run_stop(struct alerts_run *r);

/* The sender, for its counters in the status snapshot; NULL when none. */
struct alert_sender *alerts_run_sender(const struct alerts_run *r);

/* Whether a and b have the same [alerts] (else a reload starts the alerts over). */
bool alerts_run_same_config(const struct config *a, const struct config *b);

#endif
