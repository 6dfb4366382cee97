/*
 * api.c - HTTP endpoint handlers, and the route table that names them.
 */
#include "api.h"

#include "clock.h"
#include "config.h"
#include "gate.h"
#include "ledger.h"
#include "page.h"
#include "status.h"

#include "common/repair.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A status snapshot from the daemon; 0, or -1 when there is none. */
static int api_status_of(void *ctx, struct status *st)
{
	const struct api *api = ctx;

	return api->status != NULL ? api->status(api->arg, st) : -1;
}

/* POST endpoints need "Authorization: Bearer <token>" when a token is set. */
static bool authorized(const struct api *api, const struct http_request *req,
		       struct http_response *resp)
{
	const char *token = api->cfg->auth_token;
	const char *got = http_header(req, "Authorization");
	size_t n, m;
	unsigned diff = 0;

	if (token == NULL)
		return true;
	if (got == NULL || strncmp(got, "Bearer ", 7) != 0) {
		http_reply_error(resp, 401, "this endpoint needs Authorization: Bearer <token>");
		return false;
	}
	got += 7;
	n = strlen(token);
	m = strlen(got);
	/* compare in constant time for equal lengths */
	for (size_t i = 0; i < n && i < m; i++)
		diff |= (unsigned)(token[i] ^ got[i]);
	if (n != m || diff != 0) {
		http_reply_error(resp, 401, "wrong token");
		return false;
	}
	return true;
}

static void api_healthz(void *ctx, const struct http_request *req, struct http_response *resp)
{
	(void)ctx;
	(void)req;
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
 */
static void api_throttle(void *ctx, const struct http_request *req, struct http_response *resp)
{
	const struct api *api = ctx;
	const char *store = strrchr(req->path, '/') + 1;
	struct status st;
	struct gate g;
	char bad[64], msg[1600] = "";
	double worst = 0;
	size_t o = 0;

	if (strcmp(store, api->cfg->ring_name) != 0) {
		http_reply_error(resp, 404, "no ring %s (ring_name is %s)", store,
				 api->cfg->ring_name);
		return;
	}
	if (api_status_of(ctx, &st) != 0) {
		http_reply_error(resp, 503, "out of memory");
		return;
	}
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
				  worst, "Threshold", st.max_lag, "Message", msg));
	status_release(&st);
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
		http_reply_error(resp, 503, "the conflict ledger cannot be read");
		return;
	}
	http_reply_json(resp, 200, json_pack("{s:o}", "conflicts", list));
}

static void api_conflict(void *ctx, const struct http_request *req, struct http_response *resp)
{
	const struct api *api = ctx;
	json_t *c = req->id <= INT64_MAX ? ledger_get(api->state, (int64_t)req->id) : NULL;

	if (c == NULL) {
		http_reply_error(resp, 404, "no conflict %llu", (unsigned long long)req->id);
		return;
	}
	http_reply_json(resp, 200, c);
}

/* The SQL that repairs a conflict, as `ringwatch repair ID [--prefer NAME]` prints it. */
static void api_conflict_repair(void *ctx, const struct http_request *req,
				struct http_response *resp)
{
	const struct api *api = ctx;
	json_t *c = req->id <= INT64_MAX ? ledger_get(api->state, (int64_t)req->id) : NULL;
	char *text = NULL, err[256];
	size_t len = 0;
	FILE *out;
	int rc;

	if (c == NULL) {
		http_reply_error(resp, 404, "no conflict %llu", (unsigned long long)req->id);
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
		http_reply_error(resp, 503, "the conflict ledger cannot be written");
		return;
	}
	if (rc == 1) {
		json_t *c = ledger_get(api->state, (int64_t)req->id);
		if (c == NULL)
			http_reply_error(resp, 404, "no conflict %llu",
					 (unsigned long long)req->id);
		else
			http_reply_json(resp, 200, c); /* resolved already: nothing to do */
		return;
	}
	if (api->resolved != NULL)
		api->resolved(api->arg, (int64_t)req->id);
	http_reply_json(resp, 200, ledger_get(api->state, (int64_t)req->id));
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
		http_reply_error(resp, 503, "the conflict ledger cannot be read");
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

const struct http_route api_routes[] = {
	{ "GET", "/", api_page },
	{ "GET", "/healthz", api_healthz },
	{ "GET", "/metrics", api_metrics },
	{ "GET", "/v1/status", api_status },
	{ "GET", "/v1/tables", api_tables },
	{ "GET", "/v1/gate", api_gate },
	{ "GET", "/v1/conflicts", api_conflicts },
	{ "GET", "/v1/conflicts/{id}", api_conflict },
	{ "GET", "/v1/conflicts/{id}/repair", api_conflict_repair },
	{ "POST", "/v1/conflicts/{id}/resolve", api_conflict_resolve },
	{ "POST", "/v1/gaps/{id}/ack", api_gap_ack },
	{ "POST", "/v1/ddl/check", api_ddl_check },
	{ "POST", "/v1/verify", api_verify_start },
	{ "GET", "/v1/verify", api_verify_status },
	{ "GET", "/check/{name}/mysql/{name}", api_throttle },
	{ NULL, NULL, NULL },
};
