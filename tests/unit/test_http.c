/*
 * test_http.c - route matching, and real requests against the server running
 * in a libevent loop (a client thread speaks raw HTTP over loopback).
 */
#include "../../daemon/http.h"

#include "../tap.h"
#include "http_client.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static void test_match(void)
{
	uint64_t id = 99;

	ok(http_route_match("/healthz", "/healthz", &id) && id == 0, "literal match");
	ok(!http_route_match("/healthz", "/healthz/", &id), "trailing slash differs");
	ok(!http_route_match("/healthz", "/health", &id), "prefix is not a match");
	ok(http_route_match("/v1/conflicts/{id}", "/v1/conflicts/42", &id) && id == 42, "id");
	ok(http_route_match("/v1/conflicts/{id}/resolve", "/v1/conflicts/7/resolve", &id) &&
	       id == 7,
	   "id in the middle");
	ok(!http_route_match("/v1/conflicts/{id}", "/v1/conflicts/", &id), "empty id");
	ok(!http_route_match("/v1/conflicts/{id}", "/v1/conflicts/4x", &id), "id with letters");
	ok(!http_route_match("/v1/conflicts/{id}", "/v1/conflicts/-1", &id), "negative id");
	ok(http_route_match("/v1/conflicts/{id}", "/v1/conflicts/18446744073709551615", &id) &&
	       id == UINT64_MAX,
	   "largest id");
	ok(!http_route_match("/v1/conflicts/{id}", "/v1/conflicts/18446744073709551616", &id),
	   "id overflow rejected");
	ok(http_route_match("/check/{name}/mysql/{name}", "/check/gh-ost/mysql/ring", &id),
	   "a name segment matches any text");
	ok(!http_route_match("/check/{name}/mysql/{name}", "/check//mysql/ring", &id),
	   "but not an empty one");
	ok(!http_route_match("/check/{name}/mysql/{name}", "/check/a/b/mysql/ring", &id),
	   "nor two segments");
	ok(!http_route_match("/check/{name}/mysql/{name}", "/check/app/mysql/", &id),
	   "nor none at the end");
}

static void h_hello(void *ctx, const struct http_request *req, struct http_response *resp)
{
	(void)ctx;
	(void)req;
	http_reply_text(resp, 200, "text/plain", "hello");
}

static void h_echo(void *ctx, const struct http_request *req, struct http_response *resp)
{
	(void)ctx;
	http_reply_json(resp, 200,
			json_pack("{s:I,s:s%,s:s?}", "id", (json_int_t)req->id, "body", req->body,
				  req->body_len, "q", http_query(req, "q")));
}

static const struct http_route routes[] = {
	{ "GET", "/hello", h_hello },
	{ "POST", "/echo/{id}", h_echo },
	{ NULL, NULL, NULL },
};

struct client {
	unsigned port;
	char answers[8][1024];
};

static void *client_main(void *arg)
{
	struct client *c = arg;
	static char big[HTTP_MAX_BODY + 4096];
	const char *reqs[] = {
		"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"DELETE /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"POST /echo/12?q=a%20b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
		"Connection: close\r\n\r\nhi\"\n!",
		"GARBAGE\r\n\r\n",
		"POST /echo/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n"
		"Connection: close\r\n\r\n",
	};
	size_t i;
	int len;

	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++)
		http_roundtrip(c->port, reqs[i], strlen(reqs[i]), c->answers[i],
			       sizeof(c->answers[i]));
	/* a chunked body over the limit, without Content-Length */
	len = snprintf(big, sizeof(big),
		       "POST /echo/1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
		       "Connection: close\r\n\r\n%x\r\n",
		       HTTP_MAX_BODY + 1);
	memset(big + len, 'a', HTTP_MAX_BODY + 1);
	len += HTTP_MAX_BODY + 1;
	len += snprintf(big + len, sizeof(big) - (size_t)len, "\r\n0\r\n\r\n");
	http_roundtrip(c->port, big, (size_t)len, c->answers[6], sizeof(c->answers[6]));
	/* still serving after all that */
	http_roundtrip(c->port, reqs[0], strlen(reqs[0]), c->answers[7], sizeof(c->answers[7]));
	return NULL;
}

static void test_server(void)
{
	struct event_base *base = event_base_new();
	struct client c;
	struct http_server *srv;
	char err[256];

	memset(&c, 0, sizeof(c));
	srv = http_server_start(base, "127.0.0.1", 0, routes, NULL, err, sizeof(err));
	ok(srv != NULL, "server starts on a free port (%s)", srv ? "ok" : err);
	if (srv == NULL)
		return;
	ok(http_server_port(srv) != 0, "bound port known");
	c.port = http_server_port(srv);
	ok(http_serve_while(base, client_main, &c) == 0, "served the client's requests");

	ok(strstr(c.answers[0], "200 OK") && strstr(c.answers[0], "\r\n\r\nhello"), "GET 200");
	ok(strstr(c.answers[1], "404") && strstr(c.answers[1], "{\"error\":"), "unknown path 404");
	ok(strstr(c.answers[2], "405") && strstr(c.answers[2], "Allow: GET, HEAD"),
	   "wrong method 405 with Allow");
	ok(strstr(c.answers[3], "200") &&
	       strstr(c.answers[3], "{\"id\":12,\"body\":\"hi\\\"\\n!\",\"q\":\"a b\"}"),
	   "POST body, id and query reach the handler");
	ok(c.answers[4][0] == '\0' || strstr(c.answers[4], " 400 ") != NULL,
	   "garbage request line: 400 or the connection closed");
	ok(strstr(c.answers[5], "413") && strstr(c.answers[5], "{\"error\":"),
	   "declared oversized body 413");
	ok(strstr(c.answers[6], "413") != NULL, "chunked oversized body 413");
	ok(strstr(c.answers[7], "200 OK") != NULL, "still serving afterwards");
	for (int i = 0; i < 8; i++) {
		if (i != 4 && strstr(c.answers[i], "HTTP/1.1") == NULL)
			tap_diag("answer %d: %s", i, c.answers[i]);
	}
	http_server_free(srv);
	event_base_free(base);
}

/*
 * Requests and what the server must answer: the status, and a part of the
 * answer (head or body) when given.  Each goes on a connection of its own.
 */
struct exchange {
	const char *name;
	const char *request;
	const char *status;
	const char *part;
};

static const struct exchange exchanges[] = {
	{ "HEAD on a POST route: 405 naming HEAD, with Allow",
	  "HEAD /echo/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "405",
	  "Allow: POST\r\n" },
	{ "...whose error (not sent for HEAD) names HEAD",
	  "HEAD /echo/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "405",
	  "Content-Length: 46\r\n" /* {"error":"method HEAD not allowed on /echo/1"} */ },
	{ "HEAD on a GET route: its head",
	  "HEAD /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "200",
	  "Content-Length: 5\r\n" },
	{ "GET on a POST route names GET",
	  "GET /echo/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "405",
	  "{\"error\":\"method GET not allowed on /echo/1\"}" },
	{ "%00 in the path: 400", "GET /hello%00x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	  "400", "{\"error\":\"the request target holds %00\"}" },
	{ "%00 in a query value: 400",
	  "GET /hello?q=a%00b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "400", "%00" },
	{ "a query key given twice: 400 naming it",
	  "GET /hello?q=1&r=2&q=3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "400",
	  "{\"error\":\"query argument q given twice\"}" },
	{ "distinct query keys are fine",
	  "GET /hello?q=1&r=2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "200", "hello" },
};

#define N_EXCHANGES (sizeof(exchanges) / sizeof(exchanges[0]))

struct exchanges_run {
	unsigned port;
	char answers[N_EXCHANGES][2048];
};

static void *exchanges_main(void *arg)
{
	struct exchanges_run *run = arg;

	for (size_t i = 0; i < N_EXCHANGES; i++)
		http_roundtrip(run->port, exchanges[i].request, strlen(exchanges[i].request),
			       run->answers[i], sizeof(run->answers[i]));
	return NULL;
}

static void test_exchanges(void)
{
	static struct exchanges_run run;
	struct event_base *base = event_base_new();
	struct http_server *srv;
	char err[256];

	srv = http_server_start(base, "127.0.0.1", 0, routes, NULL, err, sizeof(err));
	ok(srv != NULL, "a server for the exchanges (%s)", srv ? "ok" : err);
	if (srv == NULL)
		return;
	run.port = http_server_port(srv);
	ok(http_serve_while(base, exchanges_main, &run) == 0, "served them");
	for (size_t i = 0; i < N_EXCHANGES; i++) {
		const char *a = run.answers[i];
		bool good = strncmp(a, "HTTP/1.1 ", 9) == 0 &&
			    strncmp(a + 9, exchanges[i].status, 3) == 0 &&
			    (exchanges[i].part == NULL || strstr(a, exchanges[i].part) != NULL);
		ok(good, "%s", exchanges[i].name);
		if (!good)
			tap_diag("answer: %.400s", a);
	}
	http_server_free(srv);
	event_base_free(base);
}

int main(void)
{
	test_match();
	test_server();
	test_exchanges();
	return tap_done();
}
