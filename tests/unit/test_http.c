/*
 * test_http.c - route matching, and real requests against the server running
 * in a libevent loop (a client thread speaks raw HTTP over loopback).
 */
#include "../../daemon/http.h"

#include "../tap.h"
#include "http_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
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

/* http_head_check() on its own: whole heads, partial ones, refusals. */
static void test_head_check(void)
{
	static const struct {
		const char *head;
		long want; /* > 0: the length; 0: more needed; < 0: minus the status */
	} cases[] = {
		{ "GE", 0 },
		{ "GET / HTTP/1.1\r\nHost: x\r\n", 0 },
		{ "GET / HTTP/1.1\r\nHost: x\r\n\r\nbody", 27 },
		{ "GET / HTTP/1.1\nHost: x\n\n", 24 },
		{ "\r\n\r\nGET / HTTP/1.1\r\n\r\n", 22 },
		{ "GET /?a=%20 HTTP/1.0\r\n\r\n", 24 },
		{ "POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n", 57 },
		{ "POST / HTTP/1.1\r\nContent-Length:  12 \r\n\r\n", 41 },
		{ "POST / HTTP/1.1\r\nContent-Length: 1048576\r\n\r\n", 44 },
		{ "POST / HTTP/1.1\r\nContent-Length: 1048577\r\n\r\n", -413 },
		{ "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", -413 },
		{ "POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", -400 },
		{ "POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n", -400 },
		{ "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", -400 },
		{ "POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n", 47 },
		{ "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", -501 },
		{ "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", -400 },
		{ "GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n", -400 },
		{ "GET / HTTP/1.1\r\nX: caf\xc3\xa9\r\n\r\n", 28 },
		{ "GET / HTTP/1.1\r\n: no name\r\n\r\n", -400 },
		{ "GET  / HTTP/1.1\r\n\r\n", -400 },
		{ "GET / HTTP/1.1 \r\n\r\n", -400 },
		{ "GET /\x01 HTTP/1.1\r\n\r\n", -400 },
		{ "G(T / HTTP/1.1\r\n\r\n", -400 },
		{ "GET / HTTP/1.9\r\n\r\n", 18 },
		{ "GET / HTTP/3.0\r\n\r\n", -505 },
		{ "GET / http/1.1\r\n\r\n", -400 },
	};
	static char big[HTTP_MAX_HEAD + 64];
	struct http_head_error err;
	long got;
	size_t n;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&err, 0, sizeof(err));
		got = http_head_check(cases[i].head, strlen(cases[i].head), &err);
		if (got < 0)
			got = -(long)err.status;
		ok(got == cases[i].want, "head %zu: %ld (want %ld) %s", i, got, cases[i].want,
		   err.reason);
	}
	/* a request line still coming, already too long for any target */
	n = (size_t)snprintf(big, sizeof(big), "GET /");
	memset(big + n, 'a', HTTP_MAX_TARGET + 100);
	n += HTTP_MAX_TARGET + 100;
	ok(http_head_check(big, n, &err) == -1 && err.status == 414, "414 before the line ends");
	/* fields that never end */
	n = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nX: ");
	memset(big + n, 'a', HTTP_MAX_HEAD - n - 1);
	ok(http_head_check(big, HTTP_MAX_HEAD - 1, &err) == 0, "a byte short of the limit: wait");
	memset(big + n, 'a', HTTP_MAX_HEAD);
	ok(http_head_check(big, HTTP_MAX_HEAD, &err) == -1 && err.status == 431,
	   "at the limit without an end: 431");
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

static unsigned count_calls;

/* A HTTP_SHARED route that says how often it was called. */
static void h_count(void *ctx, const struct http_request *req, struct http_response *resp)
{
	char text[32];

	(void)ctx;
	(void)req;
	snprintf(text, sizeof(text), "calls=%u", ++count_calls);
	http_reply_text(resp, 200, "text/plain", text);
}

static const struct http_route routes[] = {
	{ "GET", "/hello", h_hello, 0 },
	{ "GET", "/count", h_count, HTTP_SHARED },
	{ "POST", "/echo/{id}", h_echo, 0 },
	{ NULL, NULL, NULL, 0 },
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
	srv = http_server_start(base, "127.0.0.1", 0, NULL, routes, NULL, err, sizeof(err));
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
	{ "Content-Length -1: 400 as JSON, one head",
	  "POST /echo/1 HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", "400",
	  "\r\nContent-Type: application/json\r\n" },
	{ "Content-Length 2^64: 413 as JSON, one head",
	  "POST /echo/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551616\r\n\r\n", "413",
	  "{\"error\":\"request body larger than 1 MiB\"}" },
	{ "Content-Length twice, two values: 400",
	  "POST /echo/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
	  "400", "{\"error\":\"Content-Length given twice\"}" },
	{ "Content-Length and Transfer-Encoding: 400",
	  "POST /echo/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	  "400", "{\"error\":\"both Content-Length and Transfer-Encoding\"}" },
	{ "a transfer coding other than chunked: 501",
	  "POST /echo/1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", "501",
	  "{\"error\":" },
	{ "a garbage request line: 400 as JSON", "GARBAGE\r\n\r\n", "400", "{\"error\":" },
	{ "HTTP/2.0 over HTTP/1 framing: 505 as JSON", "GET /hello HTTP/2.0\r\nHost: x\r\n\r\n",
	  "505", "{\"error\":" },
	{ "no version (HTTP/0.9): 505 as JSON", "GET /hello\r\n\r\n", "505", "{\"error\":" },
	{ "HTTP/1.0 is served", "GET /hello HTTP/1.0\r\n\r\n", "200", "hello" },
	{ "a header line without a colon: 400 as JSON",
	  "GET /hello HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n", "400", "{\"error\":" },
	{ "a space in a field name: 400 as JSON",
	  "GET /hello HTTP/1.1\r\nHost: x\r\nX A: b\r\n\r\n", "400", "{\"error\":" },
	{ "a folded header line: 400 as JSON",
	  "GET /hello HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n", "400", "{\"error\":" },
	{ "a control character in a value: 400 as JSON",
	  "GET /hello HTTP/1.1\r\nHost: x\r\nX-A: b\x01c\r\n\r\n", "400", "{\"error\":" },
	{ "leading empty lines are allowed", "\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n", "200",
	  "hello" },
	{ "bare LF line ends are allowed", "GET /hello HTTP/1.1\nHost: x\n\n", "200", "hello" },
	{ "every answer closes the connection", "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", "200",
	  "Connection: close\r\n" },
	{ "distinct query keys are fine",
	  "GET /hello?q=1&r=2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "200", "hello" },
};

#define N_EXCHANGES (sizeof(exchanges) / sizeof(exchanges[0]))

struct exchanges_run {
	unsigned port;
	char answers[N_EXCHANGES][2048];
	char long_target[2048];
	char args64[2048], args65[2048];
	char big_head[2048];
};

static void *exchanges_main(void *arg)
{
	struct exchanges_run *run = arg;
	static char big[HTTP_MAX_HEAD + 1024];
	size_t n, m;

	for (size_t i = 0; i < N_EXCHANGES; i++)
		http_roundtrip(run->port, exchanges[i].request, strlen(exchanges[i].request),
			       run->answers[i], sizeof(run->answers[i]));
	/* 64 query arguments, then 65 */
	n = (size_t)snprintf(big, sizeof(big), "GET /hello?");
	for (int k = 0; k < 65; k++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "%sk%d=1", k ? "&" : "", k);
	m = (size_t)snprintf(big + n, sizeof(big) - n, " HTTP/1.1\r\nHost: x\r\n\r\n");
	http_roundtrip(run->port, big, n + m, run->args65, sizeof(run->args65));
	n -= strlen("&k64=1");
	m = (size_t)snprintf(big + n, sizeof(big) - n, " HTTP/1.1\r\nHost: x\r\n\r\n");
	http_roundtrip(run->port, big, n + m, run->args64, sizeof(run->args64));
	/* a target over HTTP_MAX_TARGET */
	n = (size_t)snprintf(big, sizeof(big), "GET /");
	memset(big + n, 'a', HTTP_MAX_TARGET);
	n += HTTP_MAX_TARGET;
	n += (size_t)snprintf(big + n, sizeof(big) - n, " HTTP/1.1\r\nHost: x\r\n\r\n");
	http_roundtrip(run->port, big, n, run->long_target, sizeof(run->long_target));
	/* a head over HTTP_MAX_HEAD */
	n = (size_t)snprintf(big, sizeof(big), "GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: ");
	memset(big + n, 'a', HTTP_MAX_HEAD);
	n += HTTP_MAX_HEAD;
	n += (size_t)snprintf(big + n, sizeof(big) - n, "\r\n\r\n");
	http_roundtrip(run->port, big, n, run->big_head, sizeof(run->big_head));
	return NULL;
}

/* A JSON error with status, and one head only. */
static bool json_error(const char *a, const char *status)
{
	const char *second = strstr(a, "\nHTTP/1.1 ");

	return strncmp(a, "HTTP/1.1 ", 9) == 0 && strncmp(a + 9, status, 3) == 0 &&
	       strstr(a, "\r\nContent-Type: application/json\r\n") != NULL &&
	       strstr(a, "\r\n\r\n{\"error\":\"") != NULL && second == NULL;
}

static void test_exchanges(void)
{
	static struct exchanges_run run;
	struct event_base *base = event_base_new();
	struct http_server *srv;
	char err[256];

	srv = http_server_start(base, "127.0.0.1", 0, NULL, routes, NULL, err, sizeof(err));
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
		if (good && exchanges[i].status[0] >= '4' && strncmp(a, "HEAD", 4) != 0 &&
		    strncmp(exchanges[i].request, "HEAD", 4) != 0)
			good = json_error(a, exchanges[i].status);
		ok(good, "%s", exchanges[i].name);
		if (!good)
			tap_diag("answer: %.400s", a);
	}
	ok(strncmp(run.args64, "HTTP/1.1 200", 12) == 0, "64 query arguments are fine");
	ok(json_error(run.args65, "400") && strstr(run.args65, "more than 64 query arguments"),
	   "65 are 400");
	ok(json_error(run.long_target, "414"), "a target over %d bytes: 414 as JSON",
	   HTTP_MAX_TARGET);
	if (!json_error(run.long_target, "414"))
		tap_diag("answer: %.400s", run.long_target);
	ok(json_error(run.big_head, "431"), "a head over %d bytes: 431 as JSON", HTTP_MAX_HEAD);
	if (!json_error(run.big_head, "431"))
		tap_diag("answer: %.400s", run.big_head);
	http_server_free(srv);
	event_base_free(base);
}

#define N_SHARED 20

/* Send request on n new connections before the loop runs, then serve them
 * all; their answers' bodies into bodies (empty when none came). */
static void serve_at_once(struct event_base *base, unsigned port, const char *const *requests,
			  size_t n, char bodies[][64])
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fds[N_SHARED];
	char buf[N_SHARED][1024];
	size_t got[N_SHARED] = { 0 }, open = 0;

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	for (size_t i = 0; i < n; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
		    write(fds[i], requests[i], strlen(requests[i])) < 0)
			continue;
		fcntl(fds[i], F_SETFL, O_NONBLOCK);
		open++;
	}
	for (int round = 0; open > 0 && round < 5000; round++) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		for (size_t i = 0; i < n; i++) {
			ssize_t r;
			if (fds[i] < 0)
				continue;
			r = read(fds[i], buf[i] + got[i], sizeof(buf[i]) - 1 - got[i]);
			if (r > 0) {
				got[i] += (size_t)r;
			} else if (r == 0 || errno != EAGAIN) {
				close(fds[i]);
				fds[i] = -1;
				open--;
			}
		}
		usleep(1000);
	}
	for (size_t i = 0; i < n; i++) {
		const char *body;
		buf[i][got[i]] = '\0';
		body = strstr(buf[i], "\r\n\r\n");
		snprintf(bodies[i], 64, "%s", body != NULL ? body + 4 : "");
		if (fds[i] >= 0)
			close(fds[i]);
	}
}

/* HTTP_SHARED: the requests one turn serves share one answer per target. */
static void test_shared(void)
{
	struct event_base *base = event_base_new();
	const char *requests[N_SHARED];
	char bodies[N_SHARED][64];
	struct http_server *srv;
	char err[256];
	bool same = true;

	srv = http_server_start(base, "127.0.0.1", 0, NULL, routes, NULL, err, sizeof(err));
	ok(srv != NULL, "a server for the shared answers (%s)", srv ? "ok" : err);
	if (srv == NULL)
		return;
	for (size_t i = 0; i < N_SHARED; i++)
		requests[i] = i < N_SHARED - 2 ? "GET /count HTTP/1.1\r\nHost: x\r\n\r\n"
					       : "HEAD /count?x=1 HTTP/1.1\r\nHost: x\r\n\r\n";
	serve_at_once(base, http_server_port(srv), requests, N_SHARED, bodies);
	for (size_t i = 1; i < N_SHARED - 2; i++)
		same = same && strcmp(bodies[i], bodies[0]) == 0;
	ok(same && strncmp(bodies[0], "calls=", 6) == 0, "%d requests for /count: one answer (%s)",
	   N_SHARED - 2, bodies[0]);
	is_int(count_calls, 2, "made by two calls: /count, and /count?x=1 (HEAD) for itself");
	requests[0] = "GET /count HTTP/1.1\r\nHost: x\r\n\r\n";
	serve_at_once(base, http_server_port(srv), requests, 1, bodies);
	ok(strcmp(bodies[0], "calls=3") == 0, "a later turn makes a new one (%s)", bodies[0]);
	http_server_free(srv);
	event_base_free(base);
}

int main(void)
{
	test_match();
	test_head_check();
	test_server();
	test_exchanges();
	test_shared();
	return tap_done();
}
