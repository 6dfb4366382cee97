/*
 * test_alerts.c - the alerts' rules and set (alerts.c) on inputs made by
 * hand: what starts, waits, changes, holds, is sent again and ends (the
 * alerts from the ledger and the binlogs, and those from the status
 * snapshot that wait their time: lagging links, drift, the audit, a blind
 * engine, a closed gate; a long DDL finding as drift.c makes it), their
 * runbook_url, and the JSON each receiver gets; then the sender (alert_sender.c) against
 * two small HTTP servers in this test: Alertmanager batches, two
 * Alertmanagers that each get every alert and fail on their own, retries
 * whose backoff doubles up to its cap, the webhook's order and signature,
 * refusals, the queue's bound, a receiver that hangs delaying no other,
 * and a stop that does not wait for it.
 */
#include "../../daemon/alert_sender.h"
#include "../../daemon/alerts.h"

#include "../tap.h"
#include "long_ddl.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define T0 1800000000.0 /* 2027-01-15T08:00:00Z */

static const struct alerts_config config = {
	.instance = "127.0.0.1:9477",
	.base_url = "http://127.0.0.1:9477",
	.resend = 60,
	.hold = 300,
	.master_for = 10,
	.lagging_for = 300,
	.drift_for = 600,
	.audit_for = 60,
	.blind_for = 120,
	.gate_for = 1800,
};

#define RUNBOOK "https://github.com/ringwatch/ringwatch/blob/main/docs/runbook.md#"

/* ---- inputs -------------------------------------------------------------------------- */

struct world {
	struct alerts_master masters[2];
	struct alerts_link links[2];
	struct alerts_conflicts conflicts[4];
	struct alerts_diverged diverged[4];
	struct alerts_ddl ddl[4];
	struct alerts_drift drift[2];
	struct alerts_audit audit[2];
	struct alerts_gate_check gate[2];
	struct alerts_input in;
};

/* west and east, both connected, both links ok, nothing in the ledger. */
static void healthy(struct world *w, double now)
{
	memset(w, 0, sizeof(*w));
	w->masters[0] = (struct alerts_master){ "west", true, "" };
	w->masters[1] = (struct alerts_master){ "east", true, "" };
	w->links[0] = (struct alerts_link){ "east", "west", "ok", true, true, 0, "", "", 0.2, 0 };
	w->links[1] = (struct alerts_link){ "west", "east", "ok", true, true, 0, "", "", 0.1, 0 };
	w->in = (struct alerts_input){ .now = now,
				       .max_lag = 5,
				       .masters = w->masters,
				       .n_masters = 2,
				       .links = w->links,
				       .n_links = 2,
				       .ledger_known = true,
				       .conflicts = w->conflicts,
				       .diverged = w->diverged,
				       .ddl = w->ddl,
				       .drift_known = true,
				       .drift = w->drift,
				       .audit = w->audit,
				       .gate_failing = w->gate };
}

static void broken(struct world *w)
{
	w->links[0] = (struct alerts_link){ "east",
					    "west",
					    "broken",
					    true,
					    false,
					    1062,
					    "Could not execute Write_rows_v1 event on table app.u; "
					    "Duplicate entry 'k7' for key 'PRIMARY'",
					    "insert-insert conflict 12 on app.u",
					    -1,
					    -1 };
}

/* One tick; the items stay in *items until the next call or items_clear(). */
static struct alerts_item *items;
static size_t n_items;

static void items_clear(void)
{
	alerts_items_free(items, n_items);
	items = NULL;
	n_items = 0;
}

static size_t tick(struct alerts *a, struct world *w, double now)
{
	items_clear();
	w->in.now = now;
	if (alerts_update(a, &w->in, &items, &n_items) != 0)
		tap_diag("alerts_update failed");
	return n_items;
}

static json_t *parse(const char *s)
{
	json_error_t e;
	json_t *j = s != NULL ? json_loads(s, 0, &e) : NULL;

	if (s != NULL && j == NULL)
		tap_diag("not JSON (%s): %s", e.text, s);
	return j;
}

static const char *str_at(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);

	if (b != NULL)
		v = json_object_get(v, b);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---- the rules and the set ----------------------------------------------------------- */

static void test_link_broken(void)
{
	struct alerts *a = alerts_new(&config);
	struct world w;
	json_t *am, *wh;

	healthy(&w, T0);
	is_int(tick(a, &w, T0), 0, "a healthy ring: nothing to send");
	broken(&w);
	is_int(tick(a, &w, T0 + 1), 1, "a link breaks: one alert starts");
	am = parse(items[0].alertmanager);
	wh = parse(items[0].webhook);
	is_str(str_at(am, "labels", "alertname"), "RingwatchLinkBroken", "its name");
	is_str(str_at(am, "labels", "severity"), "critical", "critical");
	is_str(str_at(am, "labels", "job"), "ringwatch", "job=\"ringwatch\"");
	is_str(str_at(am, "labels", "instance"), "127.0.0.1:9477", "instance: the listen address");
	is_str(str_at(am, "labels", "source"), "east", "source");
	is_str(str_at(am, "labels", "replica"), "west", "replica");
	is_int(json_object_size(json_object_get(am, "labels")), 6, "no other label");
	is_str(str_at(am, "annotations", "summary"), "Replication east→west is broken", "summary");
	is_str(str_at(am, "annotations", "runbook_url"), RUNBOOK "ringwatchlinkbroken",
	       "runbook_url: its section of the runbook");
	ok(strstr(str_at(am, "annotations", "description"),
		  "the SQL thread stopped with error 1062") != NULL &&
	       strstr(str_at(am, "annotations", "description"),
		      "Cause: insert-insert conflict 12 on app.u") != NULL,
	   "the description says the error and its cause: %s",
	   str_at(am, "annotations", "description"));
	is_str(str_at(am, "generatorURL", NULL), "http://127.0.0.1:9477/v1/status",
	       "generatorURL: the status");
	is_str(str_at(am, "startsAt", NULL), "2027-01-15T08:00:01.000Z", "startsAt");
	is_str(str_at(am, "endsAt", NULL), "2027-01-15T08:04:01.000Z",
	       "endsAt four resends ahead while it fires");
	is_str(str_at(wh, "status", NULL), "firing", "webhook: firing");
	is_str(str_at(wh, "change", NULL), "started", "webhook: started");
	ok(json_is_null(json_object_get(wh, "endsAt")), "webhook: no end while it fires");
	ok(str_at(wh, "fingerprint", NULL) != NULL && strlen(str_at(wh, "fingerprint", NULL)) == 16,
	   "webhook: a fingerprint");
	json_decref(am);
	json_decref(wh);

	is_int(tick(a, &w, T0 + 2), 0, "the same a second later: nothing");
	is_int(tick(a, &w, T0 + 61), 1, "a minute later: sent again");
	ok(items[0].alertmanager != NULL && items[0].webhook == NULL, "again to Alertmanager only");
	w.links[0].state = "unknown";
	is_int(tick(a, &w, T0 + 62), 0, "the replica's probe fails: nothing changes");
	is_int(alerts_count(a), 1, "and the alert still fires");
	w.links[0] = (struct alerts_link){ "east", "west", "ok", true, true, 0, "", "", 0.2, 0 };
	is_int(tick(a, &w, T0 + 70), 1, "the link runs again: the alert ends");
	am = parse(items[0].alertmanager);
	wh = parse(items[0].webhook);
	is_str(str_at(am, "endsAt", NULL), "2027-01-15T08:01:10.000Z", "endsAt: now");
	is_str(str_at(am, "startsAt", NULL), "2027-01-15T08:00:01.000Z", "startsAt kept");
	is_str(str_at(wh, "status", NULL), "resolved", "webhook: resolved");
	is_str(str_at(wh, "endsAt", NULL), "2027-01-15T08:01:10.000Z", "webhook: its end");
	is_int(alerts_count(a), 0, "nothing fires");
	json_decref(am);
	json_decref(wh);
	w.links[0].state = "unknown";
	is_int(tick(a, &w, T0 + 71), 0, "a link not known does not start one");
	items_clear();
	alerts_free(a);
}

static void test_master_waits(void)
{
	struct alerts *a = alerts_new(&config);
	struct world w;
	json_t *am;

	healthy(&w, T0);
	w.masters[1] = (struct alerts_master){ "east", false, "Lost connection to server" };
	is_int(tick(a, &w, T0), 0, "a stream disconnects: pending");
	is_int(tick(a, &w, T0 + 5), 0, "still pending after 5 s");
	w.masters[1].connected = true;
	is_int(tick(a, &w, T0 + 6), 0, "back within 10 s: never fired");
	w.masters[1].connected = false;
	tick(a, &w, T0 + 20);
	is_int(tick(a, &w, T0 + 29), 0, "down again, 9 s");
	is_int(tick(a, &w, T0 + 30), 1, "10 s: it fires");
	am = parse(items[0].alertmanager);
	is_str(str_at(am, "labels", "alertname"), "RingwatchMasterDisconnected", "its name");
	is_str(str_at(am, "labels", "master"), "east", "master");
	is_str(str_at(am, "startsAt", NULL), "2027-01-15T08:00:20.000Z",
	       "startsAt: when it went down");
	ok(strstr(str_at(am, "annotations", "description"), "Lost connection to server") != NULL,
	   "the stream's error in the description");
	json_decref(am);
	items_clear();
	alerts_free(a);
}

static void test_conflicts(void)
{
	struct alerts *a = alerts_new(&config);
	struct world w;
	json_t *am, *wh;

	healthy(&w, T0);
	w.conflicts[0] =
	    (struct alerts_conflicts){ "app", "t", "update-update", 1, 1, 7, T0 - 0.5 };
	w.in.n_conflicts = 1;
	is_int(tick(a, &w, T0), 1, "a conflict: an alert at once");
	am = parse(items[0].alertmanager);
	is_str(str_at(am, "labels", "alertname"), "RingwatchConflictDetected", "its name");
	is_str(str_at(am, "labels", "severity"), "warning", "a warning");
	is_str(str_at(am, "labels", "schema"), "app", "schema");
	is_str(str_at(am, "labels", "table"), "t", "table");
	is_str(str_at(am, "labels", "kind"), "update-update", "kind");
	is_int(json_object_size(json_object_get(am, "labels")), 7, "no ID or key as a label");
	is_str(str_at(am, "generatorURL", NULL), "http://127.0.0.1:9477/v1/conflicts/7",
	       "generatorURL: the conflict");
	ok(strstr(str_at(am, "annotations", "description"), "conflict 7") != NULL,
	   "its ID in the description");
	is_str(str_at(am, "endsAt", NULL), "2027-01-15T08:04:59.500Z",
	       "an event: it ends 5 minutes after");
	json_decref(am);

	w.conflicts[0] = (struct alerts_conflicts){ "app", "t", "update-update", 2, 2, 9, T0 + 30 };
	is_int(tick(a, &w, T0 + 31), 1, "another on the table: the alert changes");
	wh = parse(items[0].webhook);
	is_str(str_at(wh, "change", NULL), "updated", "webhook: updated");
	is_str(str_at(wh, "generatorURL", NULL), "http://127.0.0.1:9477/v1/conflicts/9",
	       "now pointing at the newest");
	is_str(str_at(wh, "endsAt", NULL), "2027-01-15T08:05:30.000Z", "and ending later");
	json_decref(wh);

	w.in.ledger_known = false;
	w.in.n_conflicts = 0;
	is_int(tick(a, &w, T0 + 32), 0, "the ledger cannot be read: it stays");
	w.in.ledger_known = true;
	w.in.n_conflicts = 1;
	ok(tick(a, &w, T0 + 329) == 1 && items[0].webhook == NULL,
	   "firing 4 min 59 s after the newest (sent again to Alertmanager only)");
	is_int(tick(a, &w, T0 + 330), 1, "5 minutes after the newest: it ends");
	wh = parse(items[0].webhook);
	is_str(str_at(wh, "status", NULL), "resolved", "resolved");
	json_decref(wh);

	w.conflicts[0] =
	    (struct alerts_conflicts){ "app", "t", "insert-insert", 1, 1, 10, T0 + 400 };
	is_int(tick(a, &w, T0 + 401), 1, "an insert-insert");
	w.conflicts[0].open = 0;
	is_int(tick(a, &w, T0 + 402), 1, "resolved by hand: the alert ends");
	is_int(alerts_count(a), 0, "nothing fires");
	items_clear();
	alerts_free(a);
}

static void test_diverged_and_ddl(void)
{
	struct alerts *a = alerts_new(&config);
	struct world w;
	json_t *am;

	healthy(&w, T0);
	w.diverged[0] = (struct alerts_diverged){ "app", "t", 2, 9 };
	w.in.n_diverged = 1;
	w.ddl[0] = (struct alerts_ddl){ 1,
					"west",
					"app",
					"t",
					"1-1-9",
					"ALTER TABLE app.t DROP COLUMN v",
					"a column dropped while east writes it" };
	w.in.n_ddl = 1;
	is_int(tick(a, &w, T0), 2, "diverged rows and an unsafe DDL: two alerts");
	for (size_t i = 0; i < n_items; i++) {
		am = parse(items[i].alertmanager);
		if (strcmp(str_at(am, "labels", "alertname"), "RingwatchRowsDiverged") == 0) {
			is_str(str_at(am, "labels", "severity"), "critical", "diverged: critical");
			is_int(json_object_size(json_object_get(am, "labels")), 6,
			       "diverged: schema and table");
			ok(strstr(str_at(am, "annotations", "description"), "ringwatch repair 9") !=
			       NULL,
			   "diverged: how to repair");
		} else {
			is_str(str_at(am, "labels", "alertname"), "RingwatchDDLUnsafe", "the DDL");
			is_str(str_at(am, "labels", "master"), "west", "DDL: master");
			is_str(str_at(am, "labels", "table"), "t", "DDL: table");
			ok(strstr(str_at(am, "annotations", "description"), "DROP COLUMN v") !=
			       NULL,
			   "DDL: the statement in the description");
		}
		json_decref(am);
	}
	w.ddl[1] = w.ddl[0];
	w.ddl[1].seq = 2;
	w.ddl[1].sql = "ALTER TABLE app.t DROP COLUMN w";
	w.in.n_ddl = 2;
	is_int(tick(a, &w, T0 + 10), 1, "another unsafe DDL of the table: the same alert changes");
	w.in.n_diverged = 0;
	is_int(tick(a, &w, T0 + 11), 1, "no diverged rows: that alert ends");
	ok(tick(a, &w, T0 + 309) == 1 && items[0].webhook == NULL,
	   "the DDL alert fires 5 minutes after the newest (sent again)");
	is_int(tick(a, &w, T0 + 310), 1, "then it ends");
	is_int(tick(a, &w, T0 + 400), 0, "the same DDLs seen again start nothing");
	items_clear();
	alerts_free(a);
}

/*
 * Whether alert name starts at t + for_s and not before (ticks at t,
 * t + for_s - 1 and t + for_s, the condition holding); *am: its JSON.
 */
static bool fires_after(struct alerts *a, struct world *w, double t, double for_s, const char *name,
			json_t **am)
{
	bool right =
	    tick(a, w, t) == 0 && tick(a, w, t + for_s - 1) == 0 && tick(a, w, t + for_s) == 1;

	*am = right ? parse(items[0].alertmanager) : NULL;
	return *am != NULL && strcmp(str_at(*am, "labels", "alertname"), name) == 0;
}

/* Whether the one item of the last tick is alert name resolved. */
static bool resolved(const char *name)
{
	json_t *wh = n_items == 1 ? parse(items[0].webhook) : NULL;
	bool right = wh != NULL && strcmp(str_at(wh, "labels", "alertname"), name) == 0 &&
		     strcmp(str_at(wh, "status", NULL), "resolved") == 0;

	json_decref(wh);
	return right;
}

static void test_lagging(void)
{
	struct alerts *a = alerts_new(&config);
	struct world w;
	json_t *am;

	healthy(&w, T0);
	w.links[0].state = "lagging";
	w.links[0].lag = 42;
	ok(fires_after(a, &w, T0, 300, "RingwatchLinkLagging", &am),
	   "a link over max_lag for 5 minutes: RingwatchLinkLagging");
	is_str(str_at(am, "labels", "severity"), "warning", "a warning");
	is_str(str_at(am, "labels", "source"), "east", "source");
	is_str(str_at(am, "labels", "replica"), "west", "replica");
	is_int(json_object_size(json_object_get(am, "labels")), 6, "no other label");
	is_str(str_at(am, "annotations", "summary"), "Replication east→west lags", "summary");
	ok(strstr(str_at(am, "annotations", "description"), "more than max_lag (5 s) late") != NULL,
	   "the description: %s", str_at(am, "annotations", "description"));
	is_str(str_at(am, "annotations", "runbook_url"), RUNBOOK "ringwatchlinklagging",
	       "runbook_url");
	json_decref(am);
	w.links[0].lag = 57;
	is_int(tick(a, &w, T0 + 301), 0, "the lag changes: nothing sent (no figure in the text)");
	w.links[0].state = "unknown";
	is_int(tick(a, &w, T0 + 302), 0, "the replica's probe fails: it stays");
	w.links[0].state = "ok";
	tick(a, &w, T0 + 303);
	ok(resolved("RingwatchLinkLagging"), "the link catches up: resolved");

	w.links[1].state = "lagging";
	w.links[1].lag = 1;
	w.links[1].behind = 9;
	tick(a, &w, T0 + 400);
	w.links[1].state = "ok";
	is_int(tick(a, &w, T0 + 500), 0, "lagging for less than 5 minutes: nothing");
	w.links[1].state = "lagging";
	ok(fires_after(a, &w, T0 + 600, 300, "RingwatchLinkLagging", &am),
	   "lagging again: 5 minutes from then");
	json_decref(am);
	w.links[1].lag = 30;
	w.links[1].behind = 0;
	is_int(tick(a, &w, T0 + 901), 0, "the other lag over max_lag now: nothing sent");
	items_clear();
	alerts_free(a);
}

static void test_drift(void)
{
	struct alerts *a = alerts_new(&config);
	struct world w;
	json_t *am;

	healthy(&w, T0);
	w.drift[0] = (struct alerts_drift){ "app", "t", "column note only on east" };
	w.in.n_drift = 1;
	ok(fires_after(a, &w, T0, 600, "RingwatchSchemaDrift", &am),
	   "drift for 10 minutes: RingwatchSchemaDrift");
	is_str(str_at(am, "labels", "severity"), "warning", "a warning");
	is_str(str_at(am, "labels", "schema"), "app", "schema");
	is_str(str_at(am, "labels", "table"), "t", "table");
	is_int(json_object_size(json_object_get(am, "labels")), 6, "no other label");
	ok(strstr(str_at(am, "annotations", "description"), "column note only on east") != NULL,
	   "the finding in the description");
	is_str(str_at(am, "annotations", "runbook_url"), RUNBOOK "ringwatchschemadrift",
	       "runbook_url");
	json_decref(am);
	w.in.drift_known = false;
	w.in.n_drift = 0;
	is_int(tick(a, &w, T0 + 601), 0, "not compared now (a stream behind): it stays");
	is_int(alerts_count(a), 1, "still firing");
	w.in.drift_known = true;
	tick(a, &w, T0 + 602);
	ok(resolved("RingwatchSchemaDrift"), "the shapes agree again: resolved");
	items_clear();
	alerts_free(a);

	/*
	 * a DDL not replicated: its finding's words carry no age (test_drift),
	 * so the description stays as it is while the age grows
	 */
	a = alerts_new(&config);
	healthy(&w, T0);
	w.drift[0] = (struct alerts_drift){ "app", "t",
					    "DDL not replicated to east: ALTER TABLE app.t ADD c "
					    "INT (1-1-42 from west)" };
	w.in.n_drift = 1;
	ok(fires_after(a, &w, T0, 600, "RingwatchSchemaDrift", &am),
	   "a DDL not replicated for 10 minutes: RingwatchSchemaDrift");
	ok(strstr(str_at(am, "annotations", "description"), "(1-1-42 from west). ") != NULL &&
	       strstr(str_at(am, "annotations", "description"), "s ago") == NULL,
	   "the DDL in the description, without an age: %s",
	   str_at(am, "annotations", "description"));
	json_decref(am);
	is_int(tick(a, &w, T0 + 601), 0, "a second later: nothing sent");
	items_clear();
	alerts_free(a);
}

/*
 * Long DDL findings (long_ddl.h), one whose age is cut at 511 bytes and one
 * cut before its age: the description quotes the same words 31 s and 400 s
 * after the DDL, so the alert is not sent again as the age grows.
 */
static void test_drift_long(void)
{
	struct long_ddl l;
	const struct drift_entry *e = l.at31, *later = l.at400;

	ok(long_ddl_init(&l), "two long findings, 31 s and 400 s after the DDL");
	for (int k = 0; k < 2; k++) {
		struct alerts *a = alerts_new(&config);
		struct world w;
		json_t *am;

		healthy(&w, T0);
		w.drift[0] = (struct alerts_drift){ e[k].schema, e[k].table, e[k].detail };
		w.in.n_drift = 1;
		ok(fires_after(a, &w, T0, 600, "RingwatchSchemaDrift", &am),
		   "DDL %d, 31 s old: RingwatchSchemaDrift", k + 1);
		ok(strstr(str_at(am, "annotations", "description"), e[k].detail) != NULL,
		   "DDL %d: its words in the description", k + 1);
		json_decref(am);
		w.drift[0].detail = later[k].detail;
		is_int(tick(a, &w, T0 + 601), 0,
		       "DDL %d, 400 s old: the same description, not sent", k + 1);
		items_clear();
		alerts_free(a);
	}
	long_ddl_free(&l);
}

static void test_audit(void)
{
	struct alerts *a = alerts_new(&config);
	struct world w;
	json_t *am;

	healthy(&w, T0);
	w.audit[0] =
	    (struct alerts_audit){ "slave_exec_mode", "east",
				   "IDEMPOTENT skips duplicate-key and missing-row errors" };
	w.in.n_audit = 1;
	ok(fires_after(a, &w, T0, 60, "RingwatchAuditCritical", &am),
	   "a critical finding for a minute: RingwatchAuditCritical");
	is_str(str_at(am, "labels", "severity"), "critical", "critical");
	is_str(str_at(am, "labels", "check"), "slave_exec_mode", "check");
	is_str(str_at(am, "labels", "master"), "east", "master");
	is_int(json_object_size(json_object_get(am, "labels")), 6, "no other label");
	is_str(str_at(am, "annotations", "summary"),
	       "Ring configuration check slave_exec_mode fails on east", "summary");
	ok(strstr(str_at(am, "annotations", "description"), "IDEMPOTENT skips") != NULL,
	   "the finding's detail in the description");
	is_str(str_at(am, "annotations", "runbook_url"), RUNBOOK "ringwatchauditcritical",
	       "runbook_url");
	json_decref(am);
	w.audit[1] = (struct alerts_audit){ "server_id", "", "west and east share server_id 1" };
	w.in.n_audit = 2;
	tick(a, &w, T0 + 100);
	tick(a, &w, T0 + 120); /* the first sent again */
	am = NULL;
	ok(tick(a, &w, T0 + 160) == 1 && (am = parse(items[0].alertmanager)) != NULL &&
	       json_object_size(json_object_get(am, "labels")) == 5 &&
	       json_object_get(json_object_get(am, "labels"), "master") == NULL,
	   "a finding about the whole ring: no master label");
	json_decref(am);
	w.in.n_audit = 1;
	tick(a, &w, T0 + 161);
	ok(resolved("RingwatchAuditCritical"), "fixed: that one resolved");
	w.in.n_audit = 0;
	tick(a, &w, T0 + 162);
	ok(resolved("RingwatchAuditCritical"), "and the other");
	is_int(alerts_count(a), 0, "nothing fires");
	items_clear();
	alerts_free(a);
}

static void test_blind_and_gate(void)
{
	struct alerts *a = alerts_new(&config);
	struct world w;
	json_t *am;

	healthy(&w, T0);
	w.in.blind = true;
	ok(fires_after(a, &w, T0, 120, "RingwatchTrackingBlind", &am),
	   "blind for 2 minutes: RingwatchTrackingBlind");
	is_str(str_at(am, "labels", "severity"), "warning", "a warning");
	is_int(json_object_size(json_object_get(am, "labels")), 4, "no label but the common ones");
	is_str(str_at(am, "annotations", "runbook_url"), RUNBOOK "ringwatchtrackingblind",
	       "runbook_url");
	json_decref(am);
	w.in.blind = false;
	tick(a, &w, T0 + 121);
	ok(resolved("RingwatchTrackingBlind"), "it tracks every write again: resolved");

	w.in.gate_closed = true;
	w.gate[0] = (struct alerts_gate_check){ "lag", "east→west 42 s over max_lag 5 s" };
	w.gate[1] = (struct alerts_gate_check){ "audit", "slave_exec_mode on east" };
	w.in.n_gate_failing = 2;
	ok(fires_after(a, &w, T0 + 200, 1800, "RingwatchGateClosed", &am),
	   "the gate closed for 30 minutes: RingwatchGateClosed");
	is_str(str_at(am, "labels", "severity"), "warning", "a warning");
	is_int(json_object_size(json_object_get(am, "labels")), 4, "no label but the common ones");
	ok(strstr(str_at(am, "annotations", "description"), "failing checks: lag, audit.") != NULL,
	   "the failing checks in the description: %s", str_at(am, "annotations", "description"));
	is_str(str_at(am, "generatorURL", NULL), "http://127.0.0.1:9477/v1/gate", "generatorURL");
	is_str(str_at(am, "annotations", "runbook_url"), RUNBOOK "ringwatchgateclosed",
	       "runbook_url");
	json_decref(am);
	w.in.gate_closed = false;
	w.in.n_gate_failing = 0;
	tick(a, &w, T0 + 2001);
	ok(resolved("RingwatchGateClosed"), "open again: resolved");
	items_clear();
	alerts_free(a);
}

/* Two daemons on one ring, with the same instance, send the same alert (Alertmanager merges). */
static void test_redundant(void)
{
	struct alerts_config other = config;
	struct alerts *a = alerts_new(&config), *b;
	struct world w;
	json_t *x, *y;

	other.base_url = "http://127.0.0.1:9478";
	b = alerts_new(&other);
	healthy(&w, T0);
	broken(&w);
	tick(a, &w, T0);
	x = parse(items[0].alertmanager);
	tick(b, &w, T0 + 0.3);
	y = parse(items[0].alertmanager);
	ok(json_equal(json_object_get(x, "labels"), json_object_get(y, "labels")),
	   "the same labels from both");
	json_decref(x);
	json_decref(y);
	items_clear();
	alerts_free(a);
	alerts_free(b);
}

static void test_odd_text(void)
{
	struct alerts *a = alerts_new(&config);
	struct world w;
	json_t *am;

	healthy(&w, T0);
	broken(&w);
	w.links[0].error = "Duplicate entry '\xff\xfe' for key 'PRIMARY'";
	tick(a, &w, T0);
	am = parse(items[0].alertmanager);
	ok(am != NULL && strstr(str_at(am, "annotations", "description"), "entry '?"
									  "?'") != NULL,
	   "bytes that are not UTF-8 become '?'");
	json_decref(am);
	items_clear();
	alerts_free(a);
}

static void test_bound(void)
{
	struct alerts *a = alerts_new(&config);
	struct world w;
	struct alerts_diverged *many = calloc(ALERTS_MAX + 1, sizeof(*many));
	char(*names)[16] = calloc(ALERTS_MAX + 1, sizeof(*names));

	healthy(&w, T0);
	for (size_t i = 0; i <= ALERTS_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "t%zu", i);
		many[i] = (struct alerts_diverged){ "app", names[i], 1, (int64_t)i + 1 };
	}
	w.in.diverged = many;
	w.in.n_diverged = ALERTS_MAX + 1;
	is_int(tick(a, &w, T0), ALERTS_MAX, "at most ALERTS_MAX fire");
	is_int(alerts_dropped(a), 1, "the one more is counted");
	items_clear();
	is_int(alerts_firing(a, T0 + 1, &items, &n_items) == 0 ? n_items : 0, ALERTS_MAX,
	       "all of them again for a new receiver");
	items_clear();
	free(many);
	free(names);
	alerts_free(a);
}

/* ---- the sender, against a server in this test ---------------------------------------- */

struct request {
	char path[128];
	char signature[128];
	char *body;
	double at; /* monotonic seconds it arrived */
};

struct server {
	int fd;
	unsigned port;
	pthread_t thread;
	pthread_mutex_t mu;
	struct request got[64];
	size_t n;
	atomic_int status; /* the answer: 200, 503, 400; 0: never answer */
	atomic_bool stop;
};

/* Two receivers: srv, and srv2 for a second Alertmanager. */
static struct server srv = { .mu = PTHREAD_MUTEX_INITIALIZER },
		     srv2 = { .mu = PTHREAD_MUTEX_INITIALIZER };

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The value of header name in head ("" when absent), as curl spells it. */
static void header(const char *head, const char *name, char *out, size_t len)
{
	const char *p = strstr(head, name);

	out[0] = '\0';
	if (p != NULL && p[strlen(name)] == ':') {
		p += strlen(name) + 1;
		p += strspn(p, " ");
		snprintf(out, len, "%.*s", (int)strcspn(p, "\r\n"), p);
	}
}

static void serve_one(struct server *sv, int c)
{
	char buf[1 << 16], value[128];
	size_t got = 0, need;
	char *end = NULL;
	ssize_t n;

	while (end == NULL && got < sizeof(buf) - 1 &&
	       (n = read(c, buf + got, sizeof(buf) - 1 - got)) > 0) {
		got += (size_t)n;
		buf[got] = '\0';
		end = strstr(buf, "\r\n\r\n");
	}
	if (end == NULL)
		return;
	header(buf, "Content-Length", value, sizeof(value));
	need = (size_t)(end + 4 - buf) + (size_t)atol(value);
	while (got < need && got < sizeof(buf) - 1 && (n = read(c, buf + got, need - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	pthread_mutex_lock(&sv->mu);
	if (sv->n < 64) {
		struct request *r = &sv->got[sv->n++];
		sscanf(buf, "POST %127s", r->path);
		header(buf, ALERT_SIGNATURE_HEADER, r->signature, sizeof(r->signature));
		r->body = strdup(end + 4);
		r->at = mono();
	}
	pthread_mutex_unlock(&sv->mu);
	while (atomic_load(&sv->status) == 0 && !atomic_load(&sv->stop))
		usleep(10000);
	snprintf(buf, sizeof(buf),
		 "HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		 atomic_load(&sv->status));
	(void)!send(c, buf, strlen(buf), MSG_NOSIGNAL); /* curl may have given up */
}

static void *serve(void *arg)
{
	struct server *sv = arg;

	while (!atomic_load(&sv->stop)) {
		int c = accept(sv->fd, NULL, NULL);
		if (c < 0)
			continue;
		serve_one(sv, c);
		close(c);
	}
	return NULL;
}

static void server_start(struct server *sv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	struct timeval tv = { .tv_usec = 100000 };

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	sv->fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(sv->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ok(bind(sv->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(sv->fd, 16) == 0,
	   "a test server listens");
	getsockname(sv->fd, (struct sockaddr *)&sa, &len);
	sv->port = ntohs(sa.sin_port);
	atomic_store(&sv->status, 200);
	pthread_create(&sv->thread, NULL, serve, sv);
}

static void server_stop(struct server *sv)
{
	atomic_store(&sv->stop, true);
	pthread_join(sv->thread, NULL);
	close(sv->fd);
	for (size_t i = 0; i < sv->n; i++)
		free(sv->got[i].body);
}

static size_t requests_of(struct server *sv)
{
	size_t n;

	pthread_mutex_lock(&sv->mu);
	n = sv->n;
	pthread_mutex_unlock(&sv->mu);
	return n;
}

static size_t requests(void)
{
	return requests_of(&srv);
}

static void forget_requests_of(struct server *sv)
{
	pthread_mutex_lock(&sv->mu);
	for (size_t i = 0; i < sv->n; i++)
		free(sv->got[i].body);
	sv->n = 0;
	pthread_mutex_unlock(&sv->mu);
}

static void forget_requests(void)
{
	forget_requests_of(&srv);
}

/* Wait up to 5 s for the condition; whether it came. */
#define eventually(cond)                                                                           \
	({                                                                                         \
		double until_ = mono() + 5;                                                        \
		while (!(cond) && mono() < until_)                                                 \
			usleep(10000);                                                             \
		(cond);                                                                            \
	})

static struct alert_receiver_view view(struct alert_sender *s, size_t i)
{
	struct alert_receiver_view v[4];

	memset(v, 0, sizeof(v));
	alert_sender_view(s, v, 4);
	return v[i];
}

static void test_sign(void)
{
	char sig[ALERT_SIGNATURE_LEN];
	const char *data = "what do ya want for nothing?";

	/* RFC 4231, test case 2 */
	alert_sender_sign("Jefe", data, strlen(data), sig);
	is_str(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
	       "HMAC-SHA256 as RFC 4231 has it");
}

static void test_alertmanager(void)
{
	char urls[200], err[200];
	struct alert_sender_config c = {
		.alertmanager_urls = urls, .backoff_min = 0.05, .backoff_max = 0.1, .timeout = 2
	};
	struct alerts_item one[2] = { { 1, "{\"a\":1}", "{}" }, { 2, "{\"b\":1}", NULL } };
	struct alerts_item newer = { 1, "{\"a\":2}", "{}" };
	struct alert_sender *s;

	snprintf(urls, sizeof(urls), "http://user:pw@127.0.0.1:%u/", srv.port);
	s = alert_sender_start(&c, err, sizeof(err));
	ok(s != NULL, "a sender starts");
	ok(strncmp(view(s, 0).name, "alertmanager:127.0.0.1:", 23) == 0 &&
	       strstr(view(s, 0).name, "pw") == NULL,
	   "the receiver named by host and port, no password: %s", view(s, 0).name);
	alert_sender_post(s, one, 2);
	ok(eventually(requests() == 1 && view(s, 0).sent == 2), "two alerts, one POST");
	ok(!alert_sender_recovered(s), "no recovery without a failure");
	is_str(srv.got[0].path, "/api/v2/alerts", "to /api/v2/alerts");
	is_str(srv.got[0].body, "[{\"a\":1},{\"b\":1}]", "as one array");
	is_str(srv.got[0].signature, "", "not signed");

	forget_requests();
	atomic_store(&srv.status, 503);
	alert_sender_post(s, one, 1);
	ok(eventually(view(s, 0).failed >= 2), "Alertmanager answers 503: retried, each counted");
	alert_sender_post(s, &newer, 1);
	ok(view(s, 0).queued == 1 && view(s, 0).failing, "the newer rendering replaced the older");
	atomic_store(&srv.status, 200);
	ok(eventually(view(s, 0).queued == 0 && !view(s, 0).failing), "delivered once it works");
	pthread_mutex_lock(&srv.mu);
	is_str(srv.n > 0 ? srv.got[srv.n - 1].body : NULL, "[{\"a\":2}]",
	       "the alert as it is now, once");
	pthread_mutex_unlock(&srv.mu);
	ok(alert_sender_recovered(s), "the recovery is told (to send all that fires)");
	ok(!alert_sender_recovered(s), "once");
	alert_sender_stop(s);
	forget_requests();
}

/* Several Alertmanagers: each gets every alert, and fails, retries and is counted on its own. */
static void test_two_alertmanagers(void)
{
	char urls[200], err[200], name[64];
	struct alert_sender_config c = {
		.alertmanager_urls = urls, .backoff_min = 0.05, .backoff_max = 0.1, .timeout = 2
	};
	struct alerts_item first = { 1, "{\"a\":1}", NULL };
	struct alerts_item second = { 2, "{\"b\":1}", NULL };
	struct alert_sender *s;

	snprintf(urls, sizeof(urls), "http://127.0.0.1:%u, http://127.0.0.1:%u/", srv.port,
		 srv2.port);
	s = alert_sender_start(&c, err, sizeof(err));
	ok(s != NULL && alert_sender_view(s, NULL, 0) == 2, "two Alertmanagers from one list");
	snprintf(name, sizeof(name), "alertmanager:127.0.0.1:%u", srv.port);
	is_str(view(s, 0).name, name, "the first named by its port");
	snprintf(name, sizeof(name), "alertmanager:127.0.0.1:%u", srv2.port);
	is_str(view(s, 1).name, name, "the second by its own");
	alert_sender_post(s, &first, 1);
	ok(eventually(requests_of(&srv) == 1 && requests_of(&srv2) == 1 && view(s, 0).sent == 1 &&
		      view(s, 1).sent == 1),
	   "both get the alert");
	pthread_mutex_lock(&srv2.mu);
	is_str(srv2.n > 0 ? srv2.got[0].path : NULL, "/api/v2/alerts", "the second at its API");
	is_str(srv2.n > 0 ? srv2.got[0].body : NULL, "[{\"a\":1}]", "the same body");
	pthread_mutex_unlock(&srv2.mu);

	atomic_store(&srv2.status, 503);
	alert_sender_post(s, &second, 1);
	ok(eventually(view(s, 1).failed >= 2 && requests_of(&srv) == 2),
	   "the second fails: retried, while the first gets the new alert");
	pthread_mutex_lock(&srv.mu);
	is_str(srv.n > 1 ? srv.got[1].body : NULL, "[{\"b\":1}]", "the new alert at the first");
	pthread_mutex_unlock(&srv.mu);
	ok(view(s, 0).failed == 0 && view(s, 0).queued == 0 && !view(s, 0).failing,
	   "the first counts no failure and holds nothing");
	ok(view(s, 1).failing && view(s, 1).queued == 1 && view(s, 1).sent == 1,
	   "the second holds the alert it could not deliver");
	atomic_store(&srv2.status, 200);
	ok(eventually(view(s, 1).queued == 0 && view(s, 1).sent == 2),
	   "delivered to the second once it works");
	ok(alert_sender_recovered(s), "its recovery is told");
	alert_sender_stop(s);
	forget_requests_of(&srv);
	forget_requests_of(&srv2);

	/* three paths of one host and port, as behind a proxy */
	snprintf(urls, sizeof(urls),
		 "http://127.0.0.1:%u/a,http://127.0.0.1:%u/b,http://127.0.0.1:%u/c", srv.port,
		 srv.port, srv.port);
	s = alert_sender_start(&c, err, sizeof(err));
	snprintf(name, sizeof(name), "alertmanager:127.0.0.1:%u", srv.port);
	is_str(view(s, 0).name, name, "one host and port: the first by its port");
	snprintf(name, sizeof(name), "alertmanager:127.0.0.1:%u/2", srv.port);
	is_str(view(s, 1).name, name, "the second /2 (its metrics' label apart)");
	snprintf(name, sizeof(name), "alertmanager:127.0.0.1:%u/3", srv.port);
	is_str(view(s, 2).name, name, "the third /3");
	alert_sender_post(s, &first, 1);
	ok(eventually(requests_of(&srv) == 3 && view(s, 0).sent == 1 && view(s, 1).sent == 1 &&
		      view(s, 2).sent == 1),
	   "each gets the alert");
	pthread_mutex_lock(&srv.mu);
	ok(srv.n == 3 && strcmp(srv.got[0].path, srv.got[1].path) != 0 &&
	       strcmp(srv.got[1].path, srv.got[2].path) != 0 &&
	       strcmp(srv.got[0].path, srv.got[2].path) != 0 &&
	       strstr(srv.got[0].path, "/api/v2/alerts") != NULL,
	   "at its own path");
	pthread_mutex_unlock(&srv.mu);
	alert_sender_stop(s);
	forget_requests_of(&srv);
}

/* The gap between two POSTs a receiver got: i-1 to i. */
static double gap(const struct server *sv, size_t i)
{
	return sv->got[i].at - sv->got[i - 1].at;
}

/*
 * Retries wait backoff_min, then twice as long each time up to backoff_max;
 * a delivery starts over at backoff_min.  The sender waits at least the
 * backoff between the end of one POST and the next, so a gap shorter than
 * it is a fault; the upper bounds leave the machine's load some room.
 */
static void test_backoff(void)
{
	char urls[200], err[200];
	struct alert_sender_config c = {
		.alertmanager_urls = urls, .backoff_min = 0.125, .backoff_max = 0.5, .timeout = 2
	};
	static const double want[] = { 0.125, 0.25, 0.5, 0.5, 0.5 };
	struct alerts_item one = { 1, "{\"a\":1}", NULL };
	struct alert_sender *s;
	bool at_least = true, capped;

	snprintf(urls, sizeof(urls), "http://127.0.0.1:%u", srv.port);
	atomic_store(&srv.status, 503);
	s = alert_sender_start(&c, err, sizeof(err));
	alert_sender_post(s, &one, 1);
	ok(eventually(requests() >= 6), "a receiver answering 503: 6 tries");
	pthread_mutex_lock(&srv.mu);
	for (size_t i = 1; i < 6; i++) {
		tap_diag("retry %zu after %.3f s (backoff %.3f s)", i, gap(&srv, i), want[i - 1]);
		at_least = at_least && gap(&srv, i) >= want[i - 1];
	}
	ok(at_least, "each retry waits at least its backoff: 0.125, 0.25, then 0.5 s");
	ok(gap(&srv, 2) >= 2 * 0.125 && gap(&srv, 3) >= 4 * 0.125, "the backoff doubles");
	capped = gap(&srv, 4) < 0.9 && gap(&srv, 5) < 0.9;
	ok(capped, "up to backoff_max: %.3f and %.3f s, not 1 and 2 s", gap(&srv, 4), gap(&srv, 5));
	pthread_mutex_unlock(&srv.mu);

	atomic_store(&srv.status, 200);
	ok(eventually(view(s, 0).queued == 0 && !view(s, 0).failing), "delivered once it works");
	forget_requests();
	atomic_store(&srv.status, 503);
	alert_sender_post(s, &one, 1);
	ok(eventually(requests() >= 2), "failing again");
	pthread_mutex_lock(&srv.mu);
	ok(srv.n >= 2 && gap(&srv, 1) >= 0.125 && gap(&srv, 1) < 0.475,
	   "the backoff starts over at backoff_min after a delivery: %.3f s",
	   srv.n >= 2 ? gap(&srv, 1) : -1.0);
	pthread_mutex_unlock(&srv.mu);
	alert_sender_stop(s);
	atomic_store(&srv.status, 200);
	forget_requests();
}

static void test_webhook(void)
{
	char url[200], err[200], sig[ALERT_SIGNATURE_LEN];
	struct alert_sender_config c = { .webhook_url = url,
					 .webhook_secret = "s3cret",
					 .backoff_min = 0.05,
					 .backoff_max = 0.1,
					 .max_queued = 2 };
	struct alerts_item three[3] = { { 1, "{}", "{\"n\":1}" },
					{ 1, "{}", "{\"n\":2}" },
					{ 1, "{}", "{\"n\":3}" } };
	struct alert_sender *s;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/hook?token=abc", srv.port);
	s = alert_sender_start(&c, err, sizeof(err));
	ok(strstr(view(s, 0).name, "token") == NULL && strstr(view(s, 0).name, "webhook:") != NULL,
	   "the webhook named without its path or query: %s", view(s, 0).name);
	alert_sender_post(s, three, 2);
	ok(eventually(requests() == 2), "each change its own POST");
	is_str(srv.got[0].path, "/hook?token=abc", "to the webhook's URL");
	is_str(srv.got[0].body, "{\"n\":1}", "in order (1)");
	is_str(srv.got[1].body, "{\"n\":2}", "in order (2)");
	alert_sender_sign("s3cret", "{\"n\":1}", 7, sig);
	is_str(srv.got[0].signature, sig, "signed with the secret");

	forget_requests();
	atomic_store(&srv.status, 400);
	alert_sender_post(s, three, 1);
	ok(eventually(view(s, 0).dropped == 1), "refused with 400: dropped");
	usleep(300000);
	is_int(requests(), 1, "and not sent again");

	forget_requests();
	atomic_store(&srv.status, 503);
	alert_sender_post(s, three, 3);
	ok(eventually(view(s, 0).failed >= 3), "down: retried");
	is_int(view(s, 0).queued, 2, "at most max_queued wait");
	is_int(view(s, 0).dropped, 2, "the oldest dropped");
	atomic_store(&srv.status, 200);
	ok(eventually(view(s, 0).queued == 0), "the rest delivered once it works");
	pthread_mutex_lock(&srv.mu);
	is_str(srv.n > 0 ? srv.got[srv.n - 1].body : NULL, "{\"n\":3}", "the newest last");
	pthread_mutex_unlock(&srv.mu);
	alert_sender_stop(s);
	forget_requests();
}

static void test_stop_hung(void)
{
	char url[200], err[200];
	struct alert_sender_config c = { .webhook_url = url, .timeout = 30 };
	struct alerts_item one = { 1, "{}", "{}" };
	struct alert_sender *s;
	double t;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", srv.port);
	atomic_store(&srv.status, 0);
	s = alert_sender_start(&c, err, sizeof(err));
	alert_sender_post(s, &one, 1);
	ok(eventually(requests() == 1), "a receiver that never answers");
	t = mono();
	alert_sender_stop(s);
	ok(mono() - t < 1.5, "stop does not wait for it (%.2f s)", mono() - t);
	atomic_store(&srv.status, 200);
	forget_requests();
}

/*
 * An Alertmanager that accepts and never answers delays no other: each
 * receiver has its own thread; its POST ends at the timeout, counted.
 */
static void test_hung_alone(void)
{
	char urls[200], err[200];
	struct alert_sender_config c = {
		.alertmanager_urls = urls, .backoff_min = 0.05, .backoff_max = 0.1, .timeout = 2
	};
	struct alerts_item first = { 1, "{\"a\":1}", NULL };
	struct alerts_item second = { 2, "{\"b\":1}", NULL };
	struct alert_sender *s;
	double t;
	bool sent;

	snprintf(urls, sizeof(urls), "http://127.0.0.1:%u,http://127.0.0.1:%u", srv2.port,
		 srv.port);
	atomic_store(&srv2.status, 0);
	s = alert_sender_start(&c, err, sizeof(err));
	alert_sender_post(s, &first, 1);
	ok(eventually(requests_of(&srv2) == 1 && view(s, 1).sent == 1),
	   "one Alertmanager hangs, the other got the alert");
	t = mono();
	alert_sender_post(s, &second, 1);
	sent = eventually(view(s, 1).sent == 2);
	t = mono() - t;
	ok(sent && t < 1.0 && view(s, 0).failed == 0,
	   "and the next one at once, while the first still hangs (%.3f s)", t);
	ok(eventually(view(s, 0).failed >= 1) && view(s, 0).failing,
	   "the hung POST ends at the timeout, counted as a failure");
	is_int(view(s, 1).failed, 0, "none counted for the other");
	alert_sender_stop(s);
	atomic_store(&srv2.status, 200);
	forget_requests_of(&srv);
	forget_requests_of(&srv2);
}

int main(void)
{
	test_link_broken();
	test_master_waits();
	test_conflicts();
	test_diverged_and_ddl();
	test_lagging();
	test_drift();
	test_drift_long();
	test_audit();
	test_blind_and_gate();
	test_redundant();
	test_odd_text();
	test_bound();

	test_sign();
	if (alert_sender_global_init() != 0)
		tap_diag("curl_global_init failed");
	server_start(&srv);
	server_start(&srv2);
	test_alertmanager();
	test_two_alertmanagers();
	test_backoff();
	test_webhook();
	test_stop_hung();
	test_hung_alone();
	server_stop(&srv);
	server_stop(&srv2);
	alert_sender_global_cleanup();
	return tap_done();
}
