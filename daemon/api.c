/*
 * api.c - HTTP endpoint handlers, and the route table that names them.
 */
#include "api.h"

#include "daemon.h"
#include "status.h"
#include "stream.h"

#include <stdlib.h>
#include <string.h>

/* POST endpoints need "Authorization: Bearer <token>" when a token is set. */
static bool authorized(struct rwd *d, const struct http_request *req, struct http_response *resp)
{
	const char *token = d->cfg.auth_token;
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
	if (status_collect(ctx, &st) != 0) {
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
	if (status_collect(ctx, &st) != 0) {
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
	struct rwd *d = ctx;
	const char *arg = http_query(req, "max_lag");
	double max_lag = d->cfg.gate_max_lag;
	struct status st;
	json_t *gate;

	if (arg != NULL) {
		char *end;
		max_lag = strtod(arg, &end);
		if (*arg == '\0' || *end != '\0' || !(max_lag >= 0) || max_lag > 1e9) {
			http_reply_error(resp, 400, "max_lag must be a number of seconds");
			return;
		}
	}
	if (status_collect(d, &st) != 0) {
		http_reply_error(resp, 503, "out of memory");
		return;
	}
	gate = status_gate_json(&st, max_lag);
	status_release(&st);
	http_reply_json(resp, json_is_true(json_object_get(gate, "safe")) ? 200 : 503, gate);
}

static void api_gap_ack(void *ctx, const struct http_request *req, struct http_response *resp)
{
	struct rwd *d = ctx;

	if (!authorized(d, req, resp))
		return;
	for (size_t i = 0; i < d->n_streams; i++) {
		if (stream_ack_gap(d->streams[i], (int64_t)req->id) == 0) {
			http_reply_json(
			    resp, 200,
			    json_pack("{s:I,s:b}", "id", (json_int_t)req->id, "acknowledged", 1));
			return;
		}
	}
	http_reply_error(resp, 404, "no open gap %llu", (unsigned long long)req->id);
}

const struct http_route api_routes[] = {
	{ "GET", "/healthz", api_healthz },           { "GET", "/metrics", api_metrics },
	{ "GET", "/v1/status", api_status },          { "GET", "/v1/gate", api_gate },
	{ "POST", "/v1/gaps/{id}/ack", api_gap_ack }, { NULL, NULL, NULL },
};
