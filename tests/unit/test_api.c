/*
 * test_api.c - the HTTP endpoints (api.c) alone, over a real HTTP server
 * and a real ledger, with what the daemon would hand them faked: the
 * conflicts listed, read and resolved (with and without the token), the
 * gate's arguments checked, gaps acknowledged, the tables, freno's check
 * and read check, and a daemon that cannot make a status snapshot.
 */
#include "../../daemon/api.h"
#include "../../daemon/config.h"
#include "../../daemon/gate.h"
#include "../../daemon/ledger.h"
#include "../../daemon/probe.h"
#include "../../daemon/state.h"
#include "../../daemon/status.h"

#include "../tap.h"
#include "http_client.h"
#include "state_dir.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* What the fake daemon saw. */
static int64_t resolved_id = -1;
static atomic_bool snapshot_fails;

/* While > 0: one link west→east, both threads running, this many seconds behind. */
static _Atomic double fake_lag;

static int fake_status(void *arg, struct status *st)
{
	static const struct probe_link running = {
		.io_state = "Yes", .io_running = true, .sql_state = "Yes", .sql_running = true
	};

	(void)arg;
	if (atomic_load(&snapshot_fails))
		return -1;
	memset(st, 0, sizeof(*st));
	st->version = "test";
	st->max_lag = 5;
	st->max_trx_age = 60;
	if (atomic_load(&fake_lag) > 0) {
		st->links = calloc(1, sizeof(*st->links));
		if (st->links == NULL)
			return -1;
		st->n_links = 1;
		st->links[0] = (struct status_link){ .source = "west",
						     .source_index = (size_t)-1,
						     .replica = "east",
						     .lag = atomic_load(&fake_lag),
						     .l = &running,
						     .state = "ok" };
	}
	gate_evaluate(st, st->max_lag, st->max_trx_age, &st->gate);
	return 0;
}

static json_t *fake_tables(void *arg)
{
	(void)arg;
	return json_pack("[{s:s,s:s,s:{}}]", "schema", "app", "table", "t", "masters");
}

static void fake_resolved(void *arg, int64_t id)
{
	(void)arg;
	resolved_id = id;
}

static int fake_ack(void *arg, int64_t id)
{
	(void)arg;
	return id == 5 ? 0 : 1;
}

#define N_REQ 21

struct client {
	unsigned port;
	char answers[N_REQ][4096];
};

static const char *const requests[N_REQ] = {
	"GET /v1/conflicts HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	"GET /v1/conflicts?state=bogus HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	"GET /v1/conflicts/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	"GET /v1/conflicts/99 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	"POST /v1/conflicts/1/resolve HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	"POST /v1/conflicts/1/resolve HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\n"
	"Connection: close\r\n\r\n",
	"POST /v1/conflicts/1/resolve HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\n"
	"Connection: close\r\n\r\n",
	"GET /v1/conflicts?state=open HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	"GET /v1/gate?max_lag=abc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	"GET /v1/gate?max_lag=10 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	"POST /v1/gaps/5/ack HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\n"
	"Connection: close\r\n\r\n",
	"POST /v1/gaps/6/ack HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\n"
	"Connection: close\r\n\r\n",
	"GET /v1/tables HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	"POST /v1/gaps/5/ack HTTP/1.1\r\nHost: x\r\nAuthorization: bearer s3cret\r\n"
	"Connection: close\r\n\r\n",
	"POST /v1/gaps/5/ack HTTP/1.1\r\nHost: x\r\nAuthorization: BEARER  s3cret\r\n"
	"Connection: close\r\n\r\n",
	"POST /v1/gaps/5/ack HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cre\r\n"
	"Connection: close\r\n\r\n",
	"POST /v1/gaps/5/ack HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cretx\r\n"
	"Connection: close\r\n\r\n",
	"POST /v1/gaps/5/ack HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer\r\n"
	"Connection: close\r\n\r\n",
	"POST /v1/gaps/5/ack HTTP/1.1\r\nHost: x\r\nAuthorization: Basic czNjcmV0\r\n"
	"Connection: close\r\n\r\n",
	"POST /v1/gaps/5/ack HTTP/1.1\r\nHost: x\r\nAuthorization: Bearers3cret\r\n"
	"Connection: close\r\n\r\n",
	/* last: the snapshot fails for it */
	"GET /v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
};

static void *client_main(void *arg)
{
	struct client *c = arg;

	for (int i = 0; i < N_REQ; i++) {
		if (i == N_REQ - 1)
			atomic_store(&snapshot_fails,
				     true); /* the loop reads it for this request */
		http_roundtrip(c->port, requests[i], strlen(requests[i]), c->answers[i],
			       sizeof(c->answers[i]));
	}
	return NULL;
}

/* protect_rows: the requests of one setting, and what each must get. */
struct rows_case {
	const char *request;
	const char *status;
	const char *part;
};

struct rows_run {
	unsigned port;
	const struct rows_case *cases;
	size_t n;
	char answers[24][4096];
};

static void *rows_main(void *arg)
{
	struct rows_run *run = arg;

	for (size_t i = 0; i < run->n; i++)
		http_roundtrip(run->port, run->cases[i].request, strlen(run->cases[i].request),
			       run->answers[i], sizeof(run->answers[i]));
	return NULL;
}

/* Serve cases with cfg as it is now; each answer checked. */
static void rows_check(struct event_base *base, unsigned port, const char *setting,
		       const struct rows_case *cases, size_t n)
{
	static struct rows_run run;

	memset(&run, 0, sizeof(run));
	run.port = port;
	run.cases = cases;
	run.n = n;
	if (http_serve_while(base, rows_main, &run) != 0) {
		ok(0, "%s: served", setting);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const char *a = run.answers[i];
		bool good = strncmp(a + 9, cases[i].status, 3) == 0 && strstr(a, cases[i].part);
		int line = (int)(strstr(cases[i].request, " HTTP/") - cases[i].request);
		ok(good, "%s: %.*s%s -> %s", setting, line, cases[i].request,
		   strstr(cases[i].request, "Bearer s3cret") ? " with the token"
		   : strstr(cases[i].request, "Bearer")      ? " with another token"
							     : "",
		   cases[i].status);
		if (!good)
			tap_diag("answer: %.300s", a);
	}
}

#define GET_AS(path, auth) "GET " path " HTTP/1.1\r\nHost: x\r\n" auth "Connection: close\r\n\r\n"

static void test_protect_rows(struct event_base *base, unsigned port, struct config *cfg)
{
	static const struct rows_case with_token[] = {
		{ GET_AS("/v1/conflicts?state=all", ""), "401", "WWW-Authenticate: Bearer" },
		{ GET_AS("/v1/conflicts/1", ""), "401", "Authorization" },
		{ GET_AS("/v1/conflicts?state=all", "Authorization: Bearer s3cret\r\n"), "200",
		  "\"uid\":" },
		{ GET_AS("/v1/conflicts/1", "Authorization: Bearer s3cret\r\n"), "200",
		  "\"kind\":" },
		{ GET_AS("/v1/conflicts/1", "Authorization: Bearer nope\r\n"), "401",
		  "wrong token" },
		{ GET_AS("/metrics", ""), "200", "ringwatch_" },
		{ GET_AS("/healthz", ""), "200", "ok" },
		{ GET_AS("/v1/status", ""), "200", "\"version\"" },
	};
	static const struct rows_case without_token[] = {
		{ GET_AS("/v1/conflicts", "Authorization: Bearer s3cret\r\n"), "403",
		  "protect_rows" },
		{ GET_AS("/metrics", ""), "200", "ringwatch_" },
	};
	static const struct rows_case open_rows[] = {
		{ GET_AS("/v1/conflicts?state=all", ""), "200", "\"uid\":" },
	};
	char *token = cfg->auth_token;

	cfg->protect_rows = CONFIG_ON;
	rows_check(base, port, "protect_rows = true", with_token, 8);
	cfg->protect_rows = CONFIG_AUTO;
	cfg->listen_host = (char *)(uintptr_t) "0.0.0.0";
	ok(api_rows_protected(cfg), "by default, protected when listen is not loopback");
	rows_check(base, port, "default, listen 0.0.0.0", with_token, 2);
	cfg->listen_host = (char *)(uintptr_t) "127.0.0.1";
	ok(!api_rows_protected(cfg), "open on 127.0.0.1");
	cfg->listen_host = (char *)(uintptr_t) "::1";
	ok(!api_rows_protected(cfg), "and on ::1");
	rows_check(base, port, "default, listen ::1", open_rows, 1);
	cfg->listen_host = (char *)(uintptr_t) "0.0.0.0";
	cfg->protect_rows = CONFIG_OFF;
	ok(!api_rows_protected(cfg), "protect_rows = false opens them on any address");
	rows_check(base, port, "protect_rows = false", open_rows, 1);
	cfg->protect_rows = CONFIG_ON;
	cfg->auth_token = NULL;
	rows_check(base, port, "protect_rows = true without a token", without_token, 2);
	cfg->auth_token = token;
	cfg->protect_rows = CONFIG_AUTO;
	cfg->listen_host = NULL;
}

#define HEAD_OF(path) "HEAD " path " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

/*
 * freno's check and read check: a link 3 s behind with max_lag 5, ring_name
 * "ring".  THRESHOLD in place of max_lag: 2.5 throttles, 3 (equal) and 3.5 do
 * not; 0 or less keeps max_lag, as in freno; what is not a number is 400.
 */
static void test_check_read(struct event_base *base, unsigned port, struct config *cfg)
{
	static const struct rows_case cases[] = {
		{ GET_AS("/check/app/mysql/ring", ""), "200",
		  "{\"StatusCode\":200,\"Value\":3.0,\"Threshold\":5.0,\"Message\":\"\"}" },
		{ GET_AS("/check-read/app/mysql/ring/2.5", ""), "429",
		  "{\"StatusCode\":429,\"Value\":3.0,\"Threshold\":2.5,\"Message\":\"lag: "
		  "west\\u2192east: 3.00 s behind (max_lag 2.50 s)\"}" },
		{ HEAD_OF("/check-read/gh-ost/mysql/ring/2.5"), "429", "" },
		{ GET_AS("/check-read/app/mysql/ring/3.5", ""), "200",
		  "{\"StatusCode\":200,\"Value\":3.0,\"Threshold\":3.5,\"Message\":\"\"}" },
		{ HEAD_OF("/check-read/app/mysql/ring/3.5"), "200", "" },
		{ GET_AS("/check-read/app/mysql/ring/3", ""), "200", "\"Threshold\":3.0," },
		{ GET_AS("/check-read/app/mysql/ring/1e0", ""), "429", "\"Threshold\":1.0," },
		{ GET_AS("/check-read/app/mysql/ring/0", ""), "200", "\"Threshold\":5.0," },
		{ GET_AS("/check-read/app/mysql/ring/-1", ""), "200", "\"Threshold\":5.0," },
		{ GET_AS("/check-read/app/mysql/other/3.5", ""), "404", "no ring other" },
		{ GET_AS("/check-read/app/mysql/rin/3.5", ""), "404", "no ring rin" },
		{ GET_AS("/check-read/app/mysql/ring/abc", ""), "400",
		  "{\"StatusCode\":400,\"Message\":\"the threshold must be a number" },
		{ GET_AS("/check-read/app/mysql/ring/2.5s", ""), "400", "\"StatusCode\":400" },
		{ GET_AS("/check-read/app/mysql/ring/inf", ""), "400", "\"StatusCode\":400" },
		{ GET_AS("/check-read/app/mysql/ring/0x1p1", ""), "400", "\"StatusCode\":400" },
		{ GET_AS("/check-read/app/mysql/ring", ""), "404", "no such endpoint" },
		{ GET_AS("/check-read/app/mysql/ring/2.5/x", ""), "404", "no such endpoint" },
	};
	char *ring = cfg->ring_name;

	cfg->ring_name = (char *)(uintptr_t) "ring";
	atomic_store(&fake_lag, 3.0);
	rows_check(base, port, "a link 3 s behind, max_lag 5", cases,
		   sizeof(cases) / sizeof(cases[0]));
	atomic_store(&fake_lag, 0.0);
	cfg->ring_name = ring;
}

/* Status code and body of answer i. */
static bool answer(const struct client *c, int i, const char *status, const char *part)
{
	const char *body = strstr(c->answers[i], "\r\n\r\n");
	bool good = strncmp(c->answers[i], "HTTP/1.1 ", 9) == 0 &&
		    strncmp(c->answers[i] + 9, status, 3) == 0 && body != NULL &&
		    strstr(body, part) != NULL;

	if (!good)
		tap_diag("answer %d: %.300s", i, c->answers[i]);
	return good;
}

int main(void)
{
	char dir[] = "/tmp/rw-api.XXXXXX", err[256] = "", token[] = "s3cret";
	struct config cfg;
	struct state *st;
	struct ledger_entry e = { 0 };
	struct api api;
	struct event_base *base = event_base_new();
	struct http_server *srv;
	struct client c;
	bool created;

	if (mkdtemp(dir) == NULL || (st = state_open(dir, err, sizeof(err))) == NULL) {
		ok(0, "a state: %s", err);
		return tap_done();
	}
	e.uid = "00112233445566778899aabbccddeeff";
	e.kind = "update-update";
	e.schema = "app";
	e.table = "t";
	e.key = json_pack("{s:i}", "id", 1);
	e.diverged = true;
	e.detected_at = 1795850032.12;
	e.writes = json_pack("[]");
	e.final = json_pack("{}");
	e.key_hex = "";
	ok(ledger_add(st, &e, &created) == 1 && created, "a conflict in the ledger");
	json_decref(e.key);
	json_decref(e.writes);
	json_decref(e.final);

	memset(&cfg, 0, sizeof(cfg));
	cfg.auth_token = token;
	cfg.gate_max_lag = 5;
	api = (struct api){ .cfg = &cfg,
			    .state = st,
			    .status = fake_status,
			    .tables = fake_tables,
			    .resolved = fake_resolved,
			    .ack_gap = fake_ack };
	memset(&c, 0, sizeof(c));
	srv = http_server_start(base, "127.0.0.1", 0, NULL, api_routes, &api, err, sizeof(err));
	ok(srv != NULL, "the API serves (%s)", srv != NULL ? "ok" : err);
	if (srv == NULL)
		return tap_done();
	c.port = http_server_port(srv);
	ok(http_serve_while(base, client_main, &c) == 0, "served the client's requests");

	ok(answer(&c, 0, "200", "\"uid\":\"00112233445566778899aabbccddeeff\""),
	   "GET /v1/conflicts lists it");
	ok(answer(&c, 1, "400", "state must be open or all"), "a bad state argument: 400");
	ok(answer(&c, 2, "200", "\"kind\":\"update-update\""), "GET /v1/conflicts/1");
	ok(answer(&c, 3, "404", "no conflict 99"), "an unknown id: 404");
	ok(answer(&c, 4, "401", "Authorization"), "resolving without the token: 401");
	ok(strstr(c.answers[4], "\r\nWWW-Authenticate: Bearer realm=\"ringwatch\"\r\n") != NULL,
	   "which names the scheme (WWW-Authenticate: Bearer)");
	ok(answer(&c, 5, "401", "wrong token"), "with a wrong token: 401");
	ok(strstr(c.answers[5], "\r\nWWW-Authenticate: Bearer realm=\"ringwatch\", "
				"error=\"invalid_token\"\r\n") != NULL,
	   "which says the token is invalid");
	ok(answer(&c, 6, "200", "\"resolved_by\":\"api\""), "with the token: resolved");
	is_int(resolved_id, 1, "and the engine hears of it");
	ok(answer(&c, 7, "200", "\"conflicts\":[]"), "no conflict open any more");
	ok(answer(&c, 8, "400", "max_lag must be a number"), "a bad max_lag: 400");
	ok(answer(&c, 9, "503", "\"safe\":false"), "the gate: 503 while not safe");
	ok(answer(&c, 10, "200", "\"acknowledged\":true"), "a gap acknowledged");
	ok(answer(&c, 11, "404", "no open gap 6"), "an unknown gap: 404");
	ok(answer(&c, 12, "200", "\"open_conflicts\":0"), "the tables with their open conflicts");
	ok(answer(&c, 13, "200", "\"acknowledged\":true"), "the scheme in lower case: accepted");
	ok(answer(&c, 14, "200", "\"acknowledged\":true"), "in upper case, two spaces: accepted");
	ok(answer(&c, 15, "401", "wrong token"), "the token's prefix: 401");
	ok(answer(&c, 16, "401", "wrong token"), "the token and more: 401");
	ok(answer(&c, 17, "401", "Authorization"), "the scheme without a token: 401");
	ok(answer(&c, 18, "401", "Authorization"), "another scheme: 401");
	ok(answer(&c, 19, "401", "Authorization"), "no space after the scheme: 401");
	ok(answer(&c, N_REQ - 1, "503", "out of memory"), "no snapshot: 503, not a crash");

	atomic_store(&snapshot_fails, false);
	test_protect_rows(base, c.port, &cfg);
	test_check_read(base, c.port, &cfg);

	http_server_free(srv);
	event_base_free(base);
	state_close(st);
	ok(state_dir_remove(dir) == 0, "temp dir removed");
	return tap_done();
}
