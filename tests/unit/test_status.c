/*
 * test_status.c - one status snapshot made by hand, as status_collect()
 * would make it, through the gate (gate.c), the JSON of /v1/status and
 * /v1/gate (status_json.c) and the Prometheus text of /metrics (metrics.c):
 * each check's verdict and detail, and that the renderings agree.
 */
#include "../../daemon/gate.h"
#include "../../daemon/probe.h"
#include "../../daemon/status.h"

#include "../tap.h"
#include "long_ddl.h"

#include <stdlib.h>
#include <string.h>

struct fixture {
	struct stream_view masters[2];
	bool current[2], probe_ok[2], trx_age_known[2];
	struct catchup_verdict catchup[2];
	const char *probe_error[2], *trx_error[2];
	double trx_age[2];
	struct probe_link links[2];
	struct status_link slinks[2];
	struct status_total totals[1];
	struct status st;
};

/* A healthy ring of west and east: every check passes but the audit (not built). */
static void healthy(struct fixture *f)
{
	static char gtid[] = "1-1-10";

	memset(f, 0, sizeof(*f));
	for (int i = 0; i < 2; i++) {
		struct stream_view *m = &f->masters[i];
		m->name = i == 0 ? "west" : "east";
		m->host = "127.0.0.1";
		m->port = 3306 + (unsigned)i;
		m->state = STREAM_STREAMING;
		m->connected = true;
		m->server_id = (uint32_t)i + 1;
		m->version = "10.11.19-MariaDB-log";
		m->tls_cipher = "";
		m->file = "binlog.000001";
		m->offset = 1234;
		m->gtid = gtid;
		m->last_event_age = 0.4;
		m->last_error = "";
		m->gap_detail = "";
		f->current[i] = true;
		f->catchup[i] = (struct catchup_verdict){
			.end_file = "binlog.000001",
			.end_offset = 1234,
			.end_gtid = gtid,
			.known = true,
			.bytes = 0,
			.transactions = 0,
			.seconds = 0,
		};
		f->probe_ok[i] = true;
		f->probe_error[i] = "";
		f->trx_age_known[i] = true;
		f->trx_age[i] = 2;
		f->trx_error[i] = "";

		/* the link into master i from the other */
		struct probe_link *l = &f->links[i];
		snprintf(l->connection_name, sizeof(l->connection_name), "%s",
			 i == 0 ? "east" : "west");
		snprintf(l->io_state, sizeof(l->io_state), "Yes");
		snprintf(l->sql_state, sizeof(l->sql_state), "Yes");
		l->io_running = l->sql_running = true;
		l->seconds_behind_known = true;
		snprintf(l->source_host, sizeof(l->source_host), "%s",
			 i == 0 ? "db-east" : "db-west");
		l->source_port = i == 0 ? 3307 : 3306;
		l->gtid_io_pos = gtid;
		struct status_link *sl = &f->slinks[i];
		sl->source = i == 0 ? "east" : "west";
		sl->source_index = (size_t)(1 - i);
		sl->replica = i == 0 ? "west" : "east";
		sl->replica_index = (size_t)i;
		sl->lag = 0.2;
		sl->l = l;
		sl->state = "ok";
	}
	f->totals[0] = (struct status_total){ "app", "t", "update-update", 3 };
	f->st = (struct status){
		.version = "9.9",
		.uptime = 12,
		.started_wall = 1765000000,
		.n_masters = 2,
		.masters = f->masters,
		.heartbeat_period = 1,
		.max_lag = 5,
		.n_links = 2,
		.links = f->slinks,
		.probe_ok = f->probe_ok,
		.probe_error = f->probe_error,
		.trx_age_known = f->trx_age_known,
		.trx_age = f->trx_age,
		.trx_error = f->trx_error,
		.max_trx_age = 60,
		.conflicts_open = 0,
		.conflicts_total = 3,
		.max_open_conflicts = 0,
		.totals = f->totals,
		.n_totals = 1,
		.current = f->current,
		.catchup = f->catchup,
		.has_tracker = true,
		.ddl_replication_timeout = 30,
	};
	f->st.tracker.tracked_keys = 7;
}

static const struct gate_check *check_of(const struct gate *g, const char *name)
{
	for (size_t i = 0; i < g->n; i++)
		if (strcmp(g->checks[i].name, name) == 0)
			return &g->checks[i];
	return NULL;
}

/* "ok: detail" or "FAIL: detail" of one check. */
static const char *verdict(const struct status *st, double max_lag, const char *name)
{
	static char buf[900];
	struct gate g;
	const struct gate_check *c;

	gate_evaluate(st, max_lag, st->max_trx_age, &g);
	c = check_of(&g, name);
	snprintf(buf, sizeof(buf), "%s: %s",
		 c == NULL ? "none"
		 : c->ok   ? "ok"
			   : "FAIL",
		 c == NULL ? "" : c->detail);
	return buf;
}

static void test_gate(void)
{
	struct fixture f;
	struct schemas_unknown unk = { "east", "app", "h", "no CREATE TABLE seen", 9 };
	struct drift_entry drift;

	healthy(&f);
	is_str(verdict(&f.st, 5, "streams"), "ok: 2 streams connected and current", "streams");
	is_str(verdict(&f.st, 5, "replication"), "ok: 2 links running", "replication");
	is_str(verdict(&f.st, 5, "lag"), "ok: max 0.20 s", "lag");
	is_str(verdict(&f.st, 5, "conflicts"), "ok: 0 open", "conflicts");
	is_str(verdict(&f.st, 5, "schema"), "ok: no drift between the masters", "schema");
	is_str(verdict(&f.st, 5, "transactions"), "ok: oldest open transaction 2 s",
	       "transactions");
	is_str(verdict(&f.st, 5, "tracking"), "ok: 7 keys tracked", "tracking");
	is_str(verdict(&f.st, 5, "audit"), "ok: no critical finding (0 warnings)", "audit");
	{
		audit_finding found[2] = {
			{ "binlog_row_image", "west", false, AUDIT_WARNING, "MINIMAL" },
			{ "auto_increment", "east", false, AUDIT_CRITICAL,
			  "auto_increment_offset 1 equals west's" },
		};
		f.st.audit = found;
		f.st.n_audit = 1;
		is_str(verdict(&f.st, 5, "audit"), "ok: no critical finding (1 warning)",
		       "a warning does not fail the gate");
		f.st.n_audit = 2;
		is_str(verdict(&f.st, 5, "audit"),
		       "FAIL: east auto_increment: auto_increment_offset 1 equals west's",
		       "a critical finding does");
		f.st.audit = NULL;
		f.st.n_audit = 0;
	}

	f.current[1] = false;
	f.masters[1].last_event_age = 9;
	is_str(verdict(&f.st, 5, "streams"), "FAIL: east: no event for 9.0 s",
	       "a stream not current");
	f.masters[0].connected = false;
	f.masters[0].last_error = "Can't connect";
	f.masters[0].gap = true;
	f.masters[0].gap_id = 4;
	f.masters[0].gap_detail = "binlog.000002 purged";
	is_str(verdict(&f.st, 5, "streams"),
	       "FAIL: west: not connected: Can't connect; west: gap 4 not acknowledged "
	       "(binlog.000002 purged); east: no event for 9.0 s",
	       "not connected, a gap");

	/* a stream that reads a backlog: events arrive, it is not current */
	healthy(&f);
	f.current[0] = false;
	f.catchup[0].catching_up = true;
	f.catchup[0].bytes = 101234567;
	f.catchup[0].transactions = 812;
	f.catchup[0].seconds = 3.2;
	is_str(verdict(&f.st, 5, "streams"),
	       "FAIL: west: catching up, 101.2 MB / 812 transactions behind, ~3 s",
	       "catching up, how far");
	f.catchup[0].bytes = 2500000;
	f.catchup[0].transactions = -1;
	f.catchup[0].seconds = -1;
	is_str(verdict(&f.st, 5, "streams"), "FAIL: west: catching up, 2.5 MB behind",
	       "what is not known is left out");
	f.catchup[0].bytes = 20480;
	f.catchup[0].transactions = 1;
	f.catchup[0].seconds = 0.2;
	is_str(verdict(&f.st, 5, "streams"),
	       "FAIL: west: catching up, 20.5 kB / 1 transaction behind, <1 s",
	       "behind for long, a little");
	f.catchup[0].bytes = 1999999999;
	is_str(verdict(&f.st, 5, "streams"),
	       "FAIL: west: catching up, 2.0 GB / 1 transaction behind, <1 s", "gigabytes");
	healthy(&f);
	f.current[1] = false;
	f.catchup[1].known = false;
	f.catchup[1].unknown = "no probe round has worked yet";
	is_str(verdict(&f.st, 5, "streams"),
	       "FAIL: east: not known to be caught up with its binlog: no probe round has worked "
	       "yet",
	       "events arrive, but how far behind is not known yet");

	healthy(&f);
	f.links[0].sql_running = false;
	f.links[0].last_sql_errno = 1062;
	snprintf(f.links[0].last_sql_error, sizeof(f.links[0].last_sql_error), "Duplicate entry");
	is_str(verdict(&f.st, 5, "replication"),
	       "FAIL: east→west: SQL thread stopped; east→west: error 1062: Duplicate entry",
	       "a broken link, with its error");
	f.slinks[0].stale = true;
	is_str(verdict(&f.st, 5, "replication"), "ok: 2 links running",
	       "a stale link is older news, not a verdict");

	healthy(&f);
	f.slinks[1].lag = 7.5;
	is_str(verdict(&f.st, 5, "lag"), "FAIL: west→east: 7.50 s behind (max_lag 5.00 s)",
	       "lag over max_lag");
	is_str(verdict(&f.st, 10, "lag"), "ok: max 7.50 s", "another max_lag (?max_lag=10)");
	f.links[1].seconds_behind_master = 12;
	is_str(verdict(&f.st, 10, "lag"), "FAIL: west→east: 12.00 s behind (max_lag 10.00 s)",
	       "Seconds_Behind_Master when it says more");

	healthy(&f);
	f.st.conflicts_open = 2;
	is_str(verdict(&f.st, 5, "conflicts"),
	       "FAIL: 2 open (max_open_conflicts 0): see ringwatch conflicts", "open conflicts");
	f.st.conflicts_open = -1;
	is_str(verdict(&f.st, 5, "conflicts"), "FAIL: the conflict ledger cannot be read",
	       "a ledger that cannot be read is no verdict of safety");

	healthy(&f);
	f.trx_age[0] = 90;
	is_str(verdict(&f.st, 5, "transactions"),
	       "FAIL: west: a transaction open for 90 s (max_trx_age 60 s) would block DDL",
	       "a long transaction");
	f.trx_age_known[1] = false;
	f.trx_error[1] = "no PROCESS privilege";
	ok(strstr(verdict(&f.st, 5, "transactions"),
		  "east: oldest transaction unknown: no PROCESS privilege") != NULL,
	   "an unknown age fails too");

	healthy(&f);
	f.st.unknown = &unk;
	f.st.n_unknown = 1;
	is_str(verdict(&f.st, 5, "tracking"),
	       "FAIL: rows of app.h on east not compared (no CREATE TABLE seen)",
	       "a table not compared");
	f.st.tracker.blind = true;
	f.st.tracker.dropped_writes = 40;
	ok(strncmp(verdict(&f.st, 5, "tracking"), "FAIL: blind", 11) == 0, "blind");
	f.st.has_tracker = false;
	is_str(verdict(&f.st, 5, "tracking"), "FAIL: the conflict engine is not running",
	       "no engine");

	healthy(&f);
	memset(&drift, 0, sizeof(drift));
	snprintf(drift.schema, sizeof(drift.schema), "app");
	snprintf(drift.table, sizeof(drift.table), "p");
	snprintf(drift.detail, sizeof(drift.detail), "column note only on east");
	f.st.drift = &drift;
	f.st.n_drift = 1;
	is_str(verdict(&f.st, 5, "schema"), "FAIL: app.p: column note only on east", "drift");
	/* a DDL not replicated: its age, kept apart from its words, is shown */
	snprintf(drift.detail, sizeof(drift.detail),
		 "DDL not replicated to east: ALTER TABLE app.p ADD c INT (1-1-42 from west)");
	drift.age = 31;
	drift.age_at = strlen(drift.detail) - 1;
	is_str(verdict(&f.st, 5, "schema"),
	       "FAIL: app.p: DDL not replicated to east: ALTER TABLE app.p ADD c INT (1-1-42 from "
	       "west, 31 s ago)",
	       "a DDL not replicated, with its age");
	{
		json_t *js = status_json(&f.st);
		is_str(
		    json_string_value(json_object_get(
			json_array_get(json_object_get(js, "schema_drift"), 0), "detail")),
		    "DDL not replicated to east: ALTER TABLE app.p ADD c INT (1-1-42 from west, 31 "
		    "s ago)",
		    "/v1/status schema_drift: with its age");
		json_decref(js);
	}
}

/*
 * Long DDL findings (long_ddl.h), one whose age is cut and one cut before
 * its age: the gate and /v1/status show what they showed when the age was
 * part of the sentence, the whole of it cut at 511 bytes.
 */
static void test_gate_long_drift(void)
{
	struct long_ddl l;
	struct fixture f;

	ok(long_ddl_init(&l), "two long findings");
	for (int k = 0; k < 2; k++) {
		char want[512], gate_want[600];
		json_t *js;

		ok(long_ddl_old_text(&l, k, 31, want) > 511, "DDL %d: longer than 511 bytes",
		   k + 1);
		snprintf(gate_want, sizeof(gate_want), "FAIL: app.t: %s", want);
		healthy(&f);
		f.st.drift = &l.at31[k];
		f.st.n_drift = 1;
		is_str(verdict(&f.st, 5, "schema"), gate_want, "DDL %d: the gate as before", k + 1);
		js = status_json(&f.st);
		is_str(json_string_value(json_object_get(
			   json_array_get(json_object_get(js, "schema_drift"), 0), "detail")),
		       want, "DDL %d: /v1/status schema_drift as before", k + 1);
		json_decref(js);
	}
	long_ddl_free(&l);
}

static void test_renderings(void)
{
	struct fixture f;
	json_t *js, *gate, *again;
	char *text, bad[64];
	size_t len;

	healthy(&f);
	f.current[1] = false;
	f.masters[1].last_event_age = 9;
	gate_evaluate(&f.st, f.st.max_lag, f.st.max_trx_age, &f.st.gate);
	js = status_json(&f.st);
	ok(js != NULL, "the JSON of /v1/status");
	is_str(json_string_value(
		   json_object_get(json_array_get(json_object_get(js, "masters"), 0), "name")),
	       "west", "masters in order");
	ok(json_is_false(
	       json_object_get(json_array_get(json_object_get(js, "masters"), 1), "current")),
	   "east's current flag is the snapshot's");
	gate = json_object_get(js, "gate");
	ok(json_is_false(json_object_get(gate, "safe")), "the gate in /v1/status is not safe");
	again = status_gate_json(&f.st, f.st.max_lag, NULL, bad, sizeof(bad));
	ok(json_equal(gate, again), "/v1/gate says the same of the same snapshot");
	json_decref(again);
	again = status_gate_json(&f.st, f.st.max_lag, "lag,replication", bad, sizeof(bad));
	ok(again != NULL && json_array_size(json_object_get(again, "checks")) == 2 &&
	       json_is_true(json_object_get(again, "safe")),
	   "?checks=lag,replication: those two, safe (the failing streams check left out)");
	json_decref(again);
	ok(status_gate_json(&f.st, f.st.max_lag, "lag,nope", bad, sizeof(bad)) == NULL &&
	       strcmp(bad, "nope") == 0,
	   "an unknown check is named");
	is_int(json_integer_value(json_object_get(json_object_get(js, "conflicts"), "total")), 3,
	       "conflicts total");
	json_decref(js);

	/* west catching up, east's binlog end unknown */
	healthy(&f);
	f.current[0] = false;
	f.catchup[0].catching_up = true;
	f.catchup[0].bytes = 101234567;
	f.catchup[0].transactions = -1;
	f.catchup[0].seconds = 3.5;
	f.catchup[1] = (struct catchup_verdict){ .end_file = "",
						 .end_gtid = "",
						 .bytes = -1,
						 .transactions = -1,
						 .seconds = -1,
						 .end_unknown = "SHOW BINARY LOGS: denied",
						 .unknown = "SHOW BINARY LOGS: denied" };
	gate_evaluate(&f.st, f.st.max_lag, f.st.max_trx_age, &f.st.gate);
	js = status_json(&f.st);
	{
		json_t *w = json_array_get(json_object_get(js, "masters"), 0);
		json_t *e = json_array_get(json_object_get(js, "masters"), 1);
		json_t *cu = json_object_get(w, "catching_up");
		json_t *mp = json_object_get(w, "master_position");

		is_str(json_string_value(json_object_get(w, "state")), "catching_up",
		       "west's state: catching_up");
		ok(json_is_false(json_object_get(w, "current")), "not current");
		is_int(json_integer_value(json_object_get(cu, "bytes")), 101234567,
		       "catching_up.bytes");
		ok(json_is_null(json_object_get(cu, "transactions")),
		   "catching_up.transactions null when unknown");
		ok(json_real_value(json_object_get(cu, "seconds")) == 3.5, "catching_up.seconds");
		is_str(json_string_value(json_object_get(mp, "file")), "binlog.000001",
		       "master_position.file");
		is_int(json_integer_value(json_object_get(mp, "offset")), 1234,
		       "master_position.offset");
		is_str(json_string_value(json_object_get(mp, "gtid")), "1-1-10",
		       "master_position.gtid");
		ok(json_is_null(json_object_get(w, "master_position_error")), "no error");
		is_str(json_string_value(json_object_get(e, "state")), "streaming",
		       "east's state: streaming");
		ok(json_is_null(json_object_get(e, "catching_up")), "east: catching_up null");
		ok(json_is_null(json_object_get(e, "master_position")),
		   "east's binlog end unknown: null");
		is_str(json_string_value(json_object_get(e, "master_position_error")),
		       "SHOW BINARY LOGS: denied", "and why");
	}
	json_decref(js);
	text = status_metrics(&f.st, &len);
	ok(text != NULL &&
	       strstr(text, "ringwatch_stream_behind_bytes{master=\"west\"} 101234567\n") != NULL,
	   "ringwatch_stream_behind_bytes");
	ok(text != NULL &&
	       strstr(text, "ringwatch_stream_catching_up{master=\"west\"} 1\n") != NULL,
	   "ringwatch_stream_catching_up");
	ok(text != NULL && strstr(text, "ringwatch_stream_behind_transactions{") == NULL &&
	       strstr(text, "ringwatch_stream_behind_bytes{master=\"east\"}") == NULL &&
	       strstr(text, "ringwatch_stream_catching_up{master=\"east\"}") == NULL,
	   "what is not known is left out");
	ok(text != NULL && strstr(text, "} NaN") == NULL, "never NaN");
	free(text);

	healthy(&f);
	f.current[1] = false;
	f.masters[1].last_event_age = 9;
	gate_evaluate(&f.st, f.st.max_lag, f.st.max_trx_age, &f.st.gate);
	f.links[0].seconds_behind_master = 4;
	f.st.diverged_rows = 2;
	text = status_metrics(&f.st, &len);
	ok(text != NULL && strlen(text) == len, "the text of /metrics");
	ok(text != NULL && strstr(text, "ringwatch_gate_safe 0\n") != NULL,
	   "ringwatch_gate_safe from the same gate");
	ok(text != NULL && strstr(text, "ringwatch_gate_check_ok{check=\"streams\"} 0\n") != NULL,
	   "the failing check");
	ok(text != NULL && strstr(text, "ringwatch_gate_check_ok{check=\"lag\"} 1\n") != NULL,
	   "a passing check");
	ok(text != NULL &&
	       strstr(
		   text,
		   "ringwatch_conflicts_total{schema=\"app\",table=\"t\",kind=\"update-update\"} "
		   "3\n") != NULL,
	   "conflict totals from the snapshot, not from the database");
	ok(text != NULL && strstr(text, "ringwatch_master_current{master=\"east\"} 0\n") != NULL,
	   "east not current");
	ok(text != NULL && strstr(text, "ringwatch_tracked_keys 7\n") != NULL, "tracked keys");
	ok(text != NULL && strstr(text, "ringwatch_conflicts_diverged_rows 2\n") != NULL,
	   "the rows to repair");
	ok(text != NULL &&
	       strstr(text, "ringwatch_master_oldest_trx_seconds{master=\"west\"} 2\n") != NULL,
	   "the oldest open transaction");
	ok(text != NULL && strstr(text, "ringwatch_start_time_seconds 1765000000.000\n") != NULL,
	   "the start time beside the uptime");
	ok(text != NULL &&
	       strstr(text,
		      "ringwatch_link_info{source=\"east\",replica=\"west\",source_host="
		      "\"db-east\",source_port=\"3307\",connection_name=\"east\"} 1\n") != NULL,
	   "link_info for joins");
	ok(text != NULL &&
	       strstr(text, "ringwatch_link_reported_lag_seconds{source=\"east\",replica=\"west\"} "
			    "4\n") != NULL &&
	       strstr(text, "ringwatch_link_seconds_behind_master{source=\"east\",replica="
			    "\"west\"} 4\n") != NULL,
	   "the reported lag under both names");
	free(text);

	/* what is not known is left out, never NaN: `== 0` on a NaN is false */
	f.slinks[1].stale = true;
	f.links[0].seconds_behind_known = false;
	f.slinks[0].lag = -1;
	f.masters[0].last_event_received = 0;
	text = status_metrics(&f.st, &len);
	ok(text != NULL && strstr(text, "NaN") == NULL, "no NaN anywhere");
	ok(text != NULL &&
	       strstr(text, "ringwatch_link_io_running{source=\"west\",replica=\"east\"}") ==
		   NULL &&
	       strstr(text, "ringwatch_link_io_running{source=\"east\",replica=\"west\"} 1\n") !=
		   NULL,
	   "a stale link's thread state left out, the other's kept");
	ok(text != NULL &&
	       strstr(text, "ringwatch_link_seconds_behind_master{source=\"east\"") == NULL,
	   "a NULL Seconds_Behind_Master left out");
	ok(text != NULL && strstr(text, "ringwatch_link_lag_seconds{source=\"east\"") == NULL,
	   "an unmeasured lag left out");
	ok(text != NULL && strstr(text, "ringwatch_master_probe_ok{master=\"east\"} ") != NULL,
	   "ringwatch_master_probe_ok is still there to say why");
	free(text);
}

/* Whether the first len bytes of name end with suffix. */
static bool ends_with(const char *name, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && memcmp(name + len - n, suffix, n) == 0;
}

/* Every family named in seconds or bytes (a counter's _total aside) says so in its HELP. */
static void test_units(void)
{
	struct fixture f;
	char *text, *line, *save = NULL, bad[1024] = "";
	size_t len, n = 0;
	bool delay = false;

	healthy(&f);
	f.current[0] = false;
	f.catchup[0].catching_up = true;
	f.catchup[0].bytes = 5000;
	f.st.has_verify = true;
	f.st.verify.state = "running";
	f.st.verify.running = true;
	f.st.verify.eta_seconds = 30;
	text = status_metrics(&f.st, &len);
	ok(text != NULL, "the text of /metrics");
	for (line = text != NULL ? strtok_r(text, "\n", &save) : NULL; line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *name = line + 7, *help, *unit = NULL;
		char lower[512];
		size_t k, name_len;

		if (strncmp(line, "# HELP ", 7) != 0 || (help = strchr(name, ' ')) == NULL)
			continue;
		name_len = (size_t)(help - name);
		help++;
		if (ends_with(name, name_len, "_total"))
			name_len -= strlen("_total");
		if (ends_with(name, name_len, "_seconds"))
			unit = "second";
		else if (ends_with(name, name_len, "_bytes"))
			unit = "byte";
		if (unit == NULL)
			continue;
		n++;
		for (k = 0; help[k] != '\0' && k + 1 < sizeof(lower); k++)
			lower[k] = (char)(help[k] >= 'A' && help[k] <= 'Z' ? help[k] - 'A' + 'a'
									   : help[k]);
		lower[k] = '\0';
		if (strstr(lower, unit) == NULL)
			snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad), "%s%.*s",
				 bad[0] != '\0' ? " " : "", (int)(help - 1 - name), name);
		if (strncmp(name, "ringwatch_detection_delay_seconds ", 34) == 0)
			delay = true;
	}
	is_str(bad, "", "every _seconds and _bytes family's HELP names its unit");
	ok(n >= 12 && delay, "all of them rendered (%zu), ringwatch_detection_delay_seconds too",
	   n);
	free(text);
}

int main(void)
{
	test_gate();
	test_gate_long_drift();
	test_renderings();
	test_units();
	return tap_done();
}
