/*
 * api.c - HTTP endpoint handlers.  Later endpoints join the table below.
 */
#include "api.h"

#include "daemon.h"

static void api_healthz(void *ctx, const struct http_request *req, struct http_response *resp)
{
	(void)ctx;
	(void)req;
	http_reply_text(resp, 200, "text/plain; charset=utf-8", "ok");
}

const struct http_route api_routes[] = {
	{ "GET", "/healthz", api_healthz },
	{ NULL, NULL, NULL },
};
