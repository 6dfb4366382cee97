/*
 * api.c - HTTP endpoint handlers, and the route table that names them.
 */
#include "api.h"

#include "basic_auth.h"
#include "clock.h"
#include "config.h"
#include "gate.h"
#include "ledger.h"
#include "log.h"
#include "page.h"
#include "state.h"
#include "status.h"

#include "common/repair.h"

#include <gnutls/crypto.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A status snapshot from the daemon; 0, or -1 when there is none. */
static int api_status_of(void *ctx, struct status *st)
{
	const struct api *api = ctx;

	return api->status != NULL ? api->status(api->arg, st) : -1;
}

/*
 * Whether got is the token.  Both are hashed and the digests compared in
 * full, so the time taken says nothing of how much of got matched, nor of
 * the token's length.
 */
static bool token_matches(const char *token, const char *got)
{
	unsigned char want[32], have[32];
	unsigned diff = 0;

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, token, strlen(token), want) != 0 ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, got, strlen(got), have) != 0)
		return false;
	for (size_t i = 0; i < sizeof(want); i++)
		diff |= (unsigned)(want[i] ^ have[i]);
	return diff == 0;
}

/* The credentials of "Authorization: Bearer <token>" (the scheme in any
 * case, RFC 7235), or NULL. */
static const char *bearer_token(const char *value)
{
	if (value == NULL || strncasecmp(value, "Bearer", 6) != 0 || value[6] != ' ')
		return NULL;
	value += 6;
	while (*value == ' ')
		value++;
	return *value != '\0' ? value : NULL;
}

/* POST endpoints need "Authorization: Bearer <token>" when a token is set
 * (and the endpoints that show rows, when protect_rows). */
static bool authorized(const struct api *api, const struct http_request *req,
		       struct http_response *resp)
{
	const char *token = api->cfg->auth_token;
	const char *got;

	if (token == NULL)
		return true;
	got = bearer_token(http_header(req, "Authorization"));
	if (got == NULL) {
		http_reply_error(resp, 401, "this endpoint needs Authorization: Bearer <token>");
		resp->authenticate = "Bearer realm=\"ringwatch\"";
		return false;
	}
	if (!token_matches(token, got)) {
		http_reply_error(resp, 401, "wrong token");
		resp->authenticate = "Bearer realm=\"ringwatch\", error=\"invalid_token\"";
		return false;
	}
	return true;
}

/* listen_host on loopback (NULL: the default, 127.0.0.1). */
static bool loopback(const char *host)
{
	return host == NULL || strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 ||
	       strcasecmp(host, "localhost") == 0;
}

bool api_rows_protected(const struct config *cfg)
{
	if (cfg->protect_rows != CONFIG_AUTO)
		return cfg->protect_rows == CONFIG_ON;
	return !loopback(cfg->listen_host);
}

void api_log_exposure(const struct config *cfg)
{
	bool remote = !loopback(cfg->listen_host);

	if (remote && !api_rows_protected(cfg))
		log_warn("http: conflict rows (keys, before and after images) are readable by "
			 "anyone who reaches %s: protect_rows is false",
			 cfg->listen);
	if (api_rows_protected(cfg) && cfg->auth_token == NULL && cfg->n_users == 0)
		log_warn("http: protect_rows is on%s and no auth_token_file is set: nobody can "
			 "read /v1/conflicts (403)",
			 cfg->protect_rows == CONFIG_AUTO ? " (listen is not loopback)" : "");
	if (remote && cfg->auth_token != NULL && cfg->tls_cert == NULL)
		log_warn("http: the API token crosses the network in clear text: set "
			 "tls_cert_file and tls_key_file");
	if (remote && cfg->n_users > 0 && cfg->tls_cert == NULL)
		log_warn("http: basic_auth_file's passwords cross the network in clear text: set "
			 "tls_cert_file and tls_key_file");
}

/*
 * GET endpoints that show rows: open, or when protect_rows with the token
 * (Bearer) or a user of basic_auth_file (Basic).
 */
static bool may_read_rows(const struct api *api, const struct http_request *req,
			  struct http_response *resp)
{
	const char *header = http_header(req, "Authorization");
	char user[128];

	if (!api_rows_protected(api->cfg))
		return true;
	if (api->cfg->auth_token == NULL && api->cfg->n_users == 0) {
		http_reply_error(resp, 403,
				 "conflicts show rows, and protect_rows is on without an "
				 "auth_token_file or basic_auth_file to read them with");
		return false;
	}
	if (api->cfg->n_users > 0 && api->basic != NULL) {
		switch (basic_auth_check(api->basic, api->cfg, header, clock_mono(), user,
					 sizeof(user))) {
		case BASIC_AUTH_OK:
			return true;
		case BASIC_AUTH_BUSY:
			http_reply_error(resp, 429,
					 "too many password checks this second: try again");
			return false;
		case BASIC_AUTH_WRONG:
			http_reply_error(resp, 401, "wrong user or password");
			resp->authenticate = "Basic realm=\"ringwatch\", charset=\"UTF-8\"";
			return false;
		default:
			break; /* no Basic credentials: the token, if any */
		}
		if (api->cfg->auth_token == NULL || bearer_token(header) == NULL) {
			http_reply_error(resp, 401, "rows need a user of basic_auth_file%s",
					 api->cfg->auth_token != NULL ? " or the token" : "");
			resp->authenticate = "Basic realm=\"ringwatch\", charset=\"UTF-8\"";
			return false;
		}
	}
	return authorized(api, req, resp);
}

/* 200 ok; 503 while writes to the state fail (state.h: kept and tried again, or lost). */
static void api_healthz(void *ctx, const struct http_request *req, struct http_response *resp)
{
	const struct api *api = ctx;
	struct state_health h;

	(void)req;
	if (api->state != NULL) {
		state_health(api->state, &h);
		if (h.kept > 0 || h.writes_lost > 0) {
			http_reply_error(resp, 503, "state: %s", h.detail);
			return;
		}
	}
	http_reply_text(resp, 200, "text/plain; charset=utf-8", "ok");
}

static void api_status(void *ctx, const struct http_request *req, struct http_response *resp)
{
	struct status st;

	(void)req;
	if (api_status_of(ctx, &st) != 0) {
		http_reply_error(resp, 503, "out of memory");
		return;
	}
	http_reply_json(resp, 200, status_json(&st));
	status_release(&st);
}

static void api_metrics(void *ctx, const struct http_request *req, struct http_response *resp)
{
	struct status st;
	size_t len = 0;
	char *text;

	(void)req;
	if (api_status_of(ctx, &st) != 0) {
		http_reply_error(resp, 503, "out of memory");
		return;
	}
	text = status_metrics(&st, &len);
	status_release(&st);
	if (text == NULL) {
		http_reply_error(resp, 503, "out of memory");
		return;
	}
	resp->status = 200;
	resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	free(resp->body);
	resp->body = text;
	resp->len = len;
}

static void api_gate(void *ctx, const struct http_request *req, struct http_response *resp)
{
	const struct api *api = ctx;
	const char *arg = http_query(req, "max_lag");
	double max_lag = api->cfg->gate_max_lag;
	struct status st;
	char bad[64];
	json_t *gate;

	if (arg != NULL) {
		char *end;
		max_lag = strtod(arg, &end);
		if (*arg == '\0' || *end != '\0' || !(max_lag >= 0) || max_lag > 1e9) {
			http_reply_error(resp, 400, "max_lag must be a number of seconds");
			return;
		}
	}
	if (api_status_of(ctx, &st) != 0) {
		http_reply_error(resp, 503, "out of memory");
		return;
	}
	gate = status_gate_json(&st, max_lag, http_query(req, "checks"), bad, sizeof(bad));
	status_release(&st);
	if (gate == NULL) {
		http_reply_error(resp, 400, "no gate check %s", bad);
		return;
	}
	http_reply_json(resp, json_is_true(json_object_get(gate, "safe")) ? 200 : 503, gate);
}

/*
 * The throttle check online schema change tools poll, in freno's protocol
 * (GET or HEAD /check/APP/mysql/STORE; gh-ost's --throttle-http reads the
 * status alone): 200 while the lag and replication checks pass, else 429,
 * with {"StatusCode", "Value": the largest link lag in seconds, "Threshold":
 * max_lag, "Message": the failing checks}.  STORE is the ring's name.
 * freno's read check, /check-read/APP/mysql/STORE/THRESHOLD, is the same
 * with THRESHOLD seconds in place of max_lag (as in freno, 0 or less keeps
 * max_lag; a lag equal to it passes).
 */
static void throttle_answer(void *ctx, const char *store, size_t store_len, double threshold,
			    struct http_response *resp)
{
	const struct api *api = ctx;
	struct status st;
	struct gate g;
	char bad[64], msg[1600] = "";
	double worst = 0;
	size_t o = 0;

	if (strlen(api->cfg->ring_name) != store_len ||
	    strncmp(store, api->cfg->ring_name, store_len) != 0) {
		http_reply_error(resp, 404, "no ring %.*s (ring_name is %s)", (int)store_len, store,
				 api->cfg->ring_name);
		return;
	}
	if (api_status_of(ctx, &st) != 0) {
		http_reply_error(resp, 503, "out of memory");
		return;
	}
	if (threshold > 0)
		gate_evaluate(&st, threshold, st.max_trx_age, &g);
	else
		g = st.gate;
	(void)gate_only(&g, "lag,replication", bad, sizeof(bad));
	for (size_t i = 0; i < st.n_links; i++) {
		double lag = status_link_lag(&st.links[i]);
		if (lag > worst)
			worst = lag;
	}
	for (size_t i = 0; i < g.n; i++) {
		if (!g.checks[i].ok && o < sizeof(msg))
			o += (size_t)snprintf(msg + o, sizeof(msg) - o, "%s%s: %s", o ? "; " : "",
					      g.checks[i].name, g.checks[i].detail);
	}
	http_reply_json(resp, g.safe ? 200 : 429,
			json_pack("{s:i,s:f,s:f,s:s}", "StatusCode", g.safe ? 200 : 429, "Value",
				  worst, "Threshold", threshold > 0 ? threshold : st.max_lag,
				  "Message", msg));
	status_release(&st);
}

static void api_throttle(void *ctx, const struct http_request *req, struct http_response *resp)
{
	const char *store = strrchr(req->path, '/') + 1;

	throttle_answer(ctx, store, strlen(store), 0, resp);
}

static void api_throttle_read(void *ctx, const struct http_request *req, struct http_response *resp)
{
	const char *arg = strrchr(req->path, '/') + 1, *store;
	char *end;
	double threshold = strtod(arg, &end);

	/* the store, the segment before THRESHOLD: a decimal number (freno's
	 * ParseFloat; no hex, no inf or nan, which JSON cannot carry) */
	for (store = arg - 1; store > req->path && store[-1] != '/'; store--)
		;
	if (end == arg || *end != '\0' || arg[strspn(arg, "0123456789.+-eE")] != '\0' ||
	    !isfinite(threshold) || threshold > 1e9) {
		http_reply_json(resp, 400,
				json_pack("{s:i,s:s}", "StatusCode", 400, "Message",
					  "the threshold must be a number of seconds"));
		return;
	}
	throttle_answer(ctx, store, (size_t)(arg - 1 - store), threshold, resp);
}

/* GET /: the status page (page.h). */
static void api_page(void *ctx, const struct http_request *req, struct http_response *resp)
{
	(void)ctx;
	(void)req;
	resp->body = malloc(page_html_len);
	if (resp->body == NULL) {
		http_reply_error(resp, 503, "out of memory");
		return;
	}
	memcpy(resp->body, page_html, page_html_len);
	resp->len = page_html_len;
	resp->status = 200;
	resp->content_type = "text/html; charset=utf-8";
}

static void api_conflicts(void *ctx, const struct http_request *req, struct http_response *resp)
{
	const struct api *api = ctx;
	const char *state = http_query(req, "state");
	const char *limit_arg = http_query(req, "limit");
	long limit = 100;
	json_t *list;

	if (!may_read_rows(api, req, resp))
		return;
	if (state != NULL && strcmp(state, "open") != 0 && strcmp(state, "all") != 0) {
		http_reply_error(resp, 400, "state must be open or all");
		return;
	}
	if (limit_arg != NULL) {
		char *end;
		limit = strtol(limit_arg, &end, 10);
		if (*limit_arg == '\0' || *end != '\0' || limit < 1 || limit > 10000) {
			http_reply_error(resp, 400, "limit must be a number from 1 to 10000");
			return;
		}
	}
	list = ledger_list(api->state, state == NULL || strcmp(state, "open") == 0, (int)limit);
	if (list == NULL) {
		http_reply_error(resp, 500, "the conflict ledger cannot be read: %s",
				 state_error(api->state));
		return;
	}
	http_reply_json(resp, 200, json_pack("{s:o}", "conflicts", list));
}

/* Conflict id as the answer: 200, 404 when there is none, 500 when it cannot be read. */
static void reply_conflict(const struct api *api, uint64_t id, struct http_response *resp)
{
	json_t *c = NULL;
	int rc = id <= INT64_MAX ? ledger_find(api->state, (int64_t)id, &c) : 1;

	if (rc < 0)
		http_reply_error(resp, 500, "the conflict ledger cannot be read: %s",
				 state_error(api->state));
	else if (rc == 1)
		http_reply_error(resp, 404, "no conflict %llu", (unsigned long long)id);
	else
		http_reply_json(resp, 200, c);
}

static void api_conflict(void *ctx, const struct http_request *req, struct http_response *resp)
{
	if (!may_read_rows(ctx, req, resp))
		return;
	reply_conflict(ctx, req->id, resp);
}

/* The SQL that repairs a conflict, as `ringwatch repair ID [--prefer NAME]` prints it. */
static void api_conflict_repair(void *ctx, const struct http_request *req,
				struct http_response *resp)
{
	const struct api *api = ctx;
	json_t *c = NULL;
	char *text = NULL, err[256];
	size_t len = 0;
	FILE *out;
	int rc;

	if (!may_read_rows(api, req, resp))
		return;
	rc = req->id <= INT64_MAX ? ledger_find(api->state, (int64_t)req->id, &c) : 1;
	if (rc != 0) {
		if (rc < 0)
			http_reply_error(resp, 500, "the conflict ledger cannot be read: %s",
					 state_error(api->state));
		else
			http_reply_error(resp, 404, "no conflict %llu",
					 (unsigned long long)req->id);
		return;
	}
	out = open_memstream(&text, &len);
	rc = out != NULL ? repair_sql(c, http_query(req, "prefer"), out, err, sizeof(err)) : -1;
	if (out == NULL)
		snprintf(err, sizeof(err), "out of memory");
	if (out != NULL && fclose(out) != 0 && rc == 0) {
		rc = -1;
		snprintf(err, sizeof(err), "out of memory");
	}
	json_decref(c);
	if (rc != 0) {
		free(text);
		http_reply_error(resp, 400, "%s", err);
		return;
	}
	resp->status = 200;
	resp->content_type = "text/plain; charset=utf-8";
	resp->body = text;
	resp->len = len;
}

static void api_conflict_resolve(void *ctx, const struct http_request *req,
				 struct http_response *resp)
{
	const struct api *api = ctx;
	int rc;

	if (!authorized(api, req, resp))
		return;
	rc = req->id <= INT64_MAX
		 ? ledger_resolve(api->state, (int64_t)req->id, NULL, "api", clock_wall())
		 : 1;
	if (rc < 0) {
		http_reply_error(resp, 500, "the conflict ledger cannot be written: %s",
				 state_error(api->state));
		return;
	}
	if (rc == 0 && api->resolved != NULL)
		api->resolved(api->arg, (int64_t)req->id);
	reply_conflict(api, req->id, resp); /* rc 1: none, or resolved already */
}

static void api_gap_ack(void *ctx, const struct http_request *req, struct http_response *resp)
{
	const struct api *api = ctx;

	if (!authorized(api, req, resp))
		return;
	if (req->id <= INT64_MAX && api->ack_gap != NULL &&
	    api->ack_gap(api->arg, (int64_t)req->id) == 0) {
		http_reply_json(
		    resp, 200,
		    json_pack("{s:I,s:b}", "id", (json_int_t)req->id, "acknowledged", 1));
		return;
	}
	http_reply_error(resp, 404, "no open gap %llu", (unsigned long long)req->id);
}

static void open_total(const char *schema, const char *table, int64_t n, void *arg)
{
	json_t *tables = arg;

	for (size_t i = 0; i < json_array_size(tables); i++) {
		json_t *t = json_array_get(tables, i);
		if (strcmp(json_string_value(json_object_get(t, "schema")), schema) == 0 &&
		    strcmp(json_string_value(json_object_get(t, "table")), table) == 0)
			json_object_set_new(t, "open_conflicts", json_integer(n));
	}
}

/* Every table seen: per master its fingerprint, key source and writes; open conflicts. */
static void api_tables(void *ctx, const struct http_request *req, struct http_response *resp)
{
	const struct api *api = ctx;
	json_t *tables;

	(void)req;
	if (api->tables == NULL || (tables = api->tables(api->arg)) == NULL) {
		http_reply_error(resp, 503, "the schema history is not running");
		return;
	}
	for (size_t i = 0; i < json_array_size(tables); i++)
		json_object_set_new(json_array_get(tables, i), "open_conflicts", json_integer(0));
	if (api->state != NULL && ledger_open_totals(api->state, open_total, tables) != 0) {
		json_decref(tables);
		http_reply_error(resp, 500, "the conflict ledger cannot be read: %s",
				 state_error(api->state));
		return;
	}
	http_reply_json(resp, 200, json_pack("{s:o}", "tables", tables));
}

/* Schema changes judged against the live shapes: {"safe", "statements": [...]}. */
static void api_ddl_check(void *ctx, const struct http_request *req, struct http_response *resp)
{
	const struct api *api = ctx;
	json_t *answer;

	if (!authorized(api, req, resp))
		return;
	if (req->body_len == 0) {
		http_reply_error(resp, 400, "the body is the SQL to check");
		return;
	}
	if (api->ddl_check == NULL || (answer = api->ddl_check(api->arg, req->body, req->body_len,
							       http_query(req, "db"))) == NULL) {
		http_reply_error(resp, 503, "the schema history is not running");
		return;
	}
	http_reply_json(resp, 200, answer);
}

/* POST /v1/verify: {"tables": ["app.t"], "chunk_rows": N}, both optional; 202 with the job. */
static void api_verify_start(void *ctx, const struct http_request *req, struct http_response *resp)
{
	const struct api *api = ctx;
	json_t *body = req->body_len > 0 ? json_loadb(req->body, req->body_len, 0, NULL) : NULL;
	json_t *tables = json_object_get(body, "tables"),
	       *rows = json_object_get(body, "chunk_rows");
	char err[256] = "";
	int64_t id;

	if (!authorized(api, req, resp)) {
		json_decref(body);
		return;
	}
	if ((req->body_len > 0 && !json_is_object(body)) ||
	    (tables != NULL && !json_is_array(tables)) ||
	    (rows != NULL && (!json_is_integer(rows) || json_integer_value(rows) < 0))) {
		json_decref(body);
		http_reply_error(resp, 400,
				 "the body is {\"tables\": [\"SCHEMA.TABLE\", ...], "
				 "\"chunk_rows\": N}, both optional");
		return;
	}
	id = api->verify != NULL ? api->verify(api->arg, tables, (uint64_t)json_integer_value(rows),
					       err, sizeof(err))
				 : -1;
	json_decref(body);
	if (id == 0)
		http_reply_error(resp, 409, "a verification runs already");
	else if (id < 0)
		http_reply_error(resp, api->verify != NULL ? 400 : 503, "%s",
				 err[0] ? err : "verification does not run");
	else
		http_reply_json(resp, 202,
				json_pack("{s:I,s:s}", "job", (json_int_t)id, "state", "running"));
}

/* GET /v1/verify: the verify object of /v1/status. */
static void api_verify_status(void *ctx, const struct http_request *req, struct http_response *resp)
{
	struct status st;

	(void)req;
	if (api_status_of(ctx, &st) != 0) {
		http_reply_error(resp, 503, "out of memory");
		return;
	}
	if (st.has_verify)
		http_reply_json(resp, 200, verify_view_json(&st.verify));
	else
		http_reply_error(resp, 503, "verification does not run");
	status_release(&st);
}

/* HTTP_SHARED: what a scraper, a health check and a deploy tool poll, read
 * from the status snapshot alone (no header counts), rendered once a turn. */
const struct http_route api_routes[] = {
	{ "GET", "/", api_page, 0 },
	{ "GET", "/healthz", api_healthz, HTTP_SHARED },
	{ "GET", "/metrics", api_metrics, HTTP_SHARED },
	{ "GET", "/v1/status", api_status, HTTP_SHARED },
	{ "GET", "/v1/tables", api_tables, 0 },
	{ "GET", "/v1/gate", api_gate, HTTP_SHARED },
	{ "GET", "/v1/conflicts", api_conflicts, 0 },
	{ "GET", "/v1/conflicts/{id}", api_conflict, 0 },
	{ "GET", "/v1/conflicts/{id}/repair", api_conflict_repair, 0 },
	{ "POST", "/v1/conflicts/{id}/resolve", api_conflict_resolve, 0 },
	{ "POST", "/v1/gaps/{id}/ack", api_gap_ack, 0 },
	{ "POST", "/v1/ddl/check", api_ddl_check, 0 },
	{ "POST", "/v1/verify", api_verify_start, 0 },
	{ "GET", "/v1/verify", api_verify_status, 0 },
	{ "GET", "/check/{name}/mysql/{name}", api_throttle, HTTP_SHARED },
	{ "GET", "/check-read/{name}/mysql/{name}/{name}", api_throttle_read, HTTP_SHARED },
	{ NULL, NULL, NULL, 0 },
};
