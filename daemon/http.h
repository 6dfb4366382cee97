/*
 * http.h - the HTTP server: libmicrohttpd driven by the daemon's libevent loop.
 *
 * Threads: none of its own.  libmicrohttpd runs in external epoll mode and
 * its epoll descriptor is watched by libevent, so every handler runs on the
 * loop thread and reads the daemon's state without locks.  Answers are made
 * on that thread in any case (the status snapshot is the loop's), so a thread
 * pool would only add a hand-over per request; what keeps /healthz, /metrics
 * and the gate answered under a crowd is that nothing waits on a client
 * (every socket is non-blocking, every connection has a deadline) and that
 * what a crowd asks for most is made once a turn of the loop (HTTP_SHARED).
 *
 * The door (http_door.c): the server accepts connections itself and holds
 * each one until its request head (up to the empty line) has come, then
 * hands it to libmicrohttpd, which reads it from the socket.  A connection
 * that sends nothing for HTTP_IDLE_TIMEOUT seconds is closed, and one whose first
 * request head is not whole after HTTP_HEAD_TIMEOUT seconds gets 408, without
 * taking a libmicrohttpd connection meanwhile.  At most http_server_limit()
 * connections are open (sized from RLIMIT_NOFILE); at the limit a new one
 * closes the oldest that has not finished its request head, or gets 503 when
 * there is none.  A remote address (not loopback) has at most
 * HTTP_PER_IP_LIMIT connections; loopback clients share one address and are
 * bounded by the total only.
 *
 * Over TLS (http_tls) the door cannot read the head: it hands a connection on
 * at its first byte, and closes what it refuses without an answer.
 *
 * Every answer closes its connection (Connection: close), so every request
 * comes through the door and its deadlines, and its head is checked there
 * (http_head.h): a malformed one gets a JSON error from the door, where
 * libmicrohttpd 0.9.75 would answer with an HTML page of its own or close
 * the connection, and cannot be made to do otherwise.  What follows the
 * head is libmicrohttpd's to read: a malformed chunked body still gets its
 * HTML 400.  libmicrohttpd closes a connection after HTTP_IDLE_TIMEOUT
 * seconds without progress, and the server one whose body is still coming
 * HTTP_BODY_TIMEOUT seconds after its head.
 *
 * Requests are matched against a route table; a path that exists with
 * another method gets 405 with Allow, an unknown path 404, a body over
 * HTTP_MAX_BODY 413, all as JSON errors.
 */
#ifndef RINGWATCHD_HTTP_H
#define RINGWATCHD_HTTP_H

#include "http_door.h"
#include "http_head.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct MHD_Connection;
struct http_server;

#define HTTP_IDLE_TIMEOUT    5  /* seconds a connection may send nothing */
#define HTTP_HEAD_TIMEOUT    10 /* seconds for a new connection's request head */
#define HTTP_BODY_TIMEOUT    10 /* seconds for the body, after the head */
#define HTTP_PER_IP_LIMIT    64 /* connections from one remote address */
#define HTTP_MAX_CONNECTIONS 4096

struct http_request {
	const char *method; /* HEAD is handled as GET */
	const char *path;
	uint64_t id;      /* value of the route's {id} segment, if it has one */
	const char *body; /* NUL-terminated; "" without a body */
	size_t body_len;
	struct MHD_Connection *conn;
};

struct http_response {
	unsigned status;
	const char *content_type;
	char *body; /* malloc'd; owned by the response */
	size_t len;
	const char *allow;        /* Allow header for 405, or NULL */
	const char *authenticate; /* WWW-Authenticate header for 401, or NULL */
};

/* A handler fills resp; ctx is the pointer given to http_server_start(). */
typedef void (*http_handler_fn)(void *ctx, const struct http_request *req,
				struct http_response *resp);

/*
 * HTTP_SHARED: the route's answer depends on its target (path and query) and
 * the daemon's state alone, never on a header or a body.  Requests for the
 * same target served in one turn of the loop get one answer, made for the
 * first: nothing else runs on the loop in between, so the state they would
 * read is the same.  Under a crowd, one turn serves many requests, and
 * /metrics or /v1/status is rendered once for all of them.
 */
#define HTTP_SHARED 1u

/*
 * One route: method, a path pattern whose segments are literal, "{id}"
 * (a decimal number up to 2^64-1) or "{name}" (any one segment: the handler
 * reads it from the path), the handler, and flags (HTTP_SHARED or 0).
 * Tables end with a NULL method.
 */
struct http_route {
	const char *method;
	const char *pattern;
	http_handler_fn handler;
	unsigned flags;
};

/* HTTPS: a certificate (chain) and its private key, PEM; read at start only. */
struct http_tls {
	const char *cert_pem;
	const char *key_pem;
};

/*
 * Listen on host:port (port 0: any free port) and serve routes from base,
 * over TLS when tls is not NULL.  Returns NULL with a reason in err on
 * failure.
 */
struct http_server *http_server_start(struct event_base *base, const char *host, unsigned port,
				      const struct http_tls *tls, const struct http_route *routes,
				      void *ctx, char *err, size_t errlen);

/* The port actually bound. */
unsigned http_server_port(const struct http_server *srv);

/*
 * The most connections srv keeps open: HTTP_MAX_CONNECTIONS, or fewer when
 * RLIMIT_NOFILE (as it was at start) leaves less room beside the daemon's
 * other descriptors.
 */
unsigned http_server_limit(const struct http_server *srv);

/* The connections: the door's counts, and those the server holds. */
struct http_stats {
	struct http_door_stats door;
	unsigned serving;  /* connections libmicrohttpd holds now */
	unsigned limit;    /* http_server_limit() */
	uint64_t timeouts; /* closed by libmicrohttpd: idle or a body too slow */
};

void http_server_stats(const struct http_server *srv, struct http_stats *out);

/* Stop listening, close every connection, free srv.  NULL is fine. */
void http_server_free(struct http_server *srv);

/* Request helpers: a query argument or header value, NULL when absent. */
const char *http_query(const struct http_request *req, const char *key);
const char *http_header(const struct http_request *req, const char *name);

/* Response helpers. */
void http_reply_text(struct http_response *resp, unsigned status, const char *content_type,
		     const char *text);
/* Takes ownership of value (a json_t reference is stolen). */
void http_reply_json(struct http_response *resp, unsigned status, json_t *value);
/* {"error": "..."} with status. */
void http_reply_error(struct http_response *resp, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Match path against pattern; on success returns true and stores the {id}
 * value (0 when the pattern has none).  Exposed for tests.
 */
bool http_route_match(const char *pattern, const char *path, uint64_t *id);

#endif
