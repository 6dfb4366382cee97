/*
 * http_door.h - the HTTP server's door (http.c's own; see http.h): the
 * listening socket, and every connection from its accept until its request
 * head has come, when the server takes it.
 *
 * The door closes a connection that sends nothing for HTTP_IDLE_TIMEOUT
 * seconds and answers 408 to one whose head is not whole HTTP_HEAD_TIMEOUT
 * seconds after its accept; it answers a head http_head_check() refuses with
 * that JSON error; it keeps the connections it holds plus those the server
 * holds (hooks->busy) at the limit, closing the oldest that has not sent a
 * whole head to make room (503 when there is none); and it counts
 * connections per remote address, loopback aside, up to HTTP_PER_IP_LIMIT
 * (503 past it), from accept until the server releases them.  Over TLS it
 * cannot read the head: it hands a connection on at its first byte and
 * closes what it refuses without an answer.  All on the loop thread.
 */
#ifndef RINGWATCHD_HTTP_DOOR_H
#define RINGWATCHD_HTTP_DOOR_H

#include <event2/util.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct event_base;
struct http_door;

/* What the door did since it opened: the connections a misbehaving or crowding client costs. */
struct http_door_stats {
	unsigned waiting;         /* connections held now, their request head not whole yet */
	uint64_t accepted;        /* connections accepted */
	uint64_t idle_closed;     /* closed after HTTP_IDLE_TIMEOUT seconds without a byte */
	uint64_t head_timeouts;   /* answered 408: the head not whole in HTTP_HEAD_TIMEOUT */
	uint64_t bad_heads;       /* answered with the error http_head_check() found */
	uint64_t evicted;         /* closed without a head to make room for a new one */
	uint64_t refused;         /* refused: no room at the limit */
	uint64_t refused_address; /* refused: HTTP_PER_IP_LIMIT from its address */
};

struct http_door_hooks {
	/* Connections the server holds besides the door's. */
	unsigned (*busy)(void *ctx);
	/*
	 * Take fd, whose request head waits unread in it (or, over TLS, its
	 * first bytes).  true: the server holds it now and calls
	 * http_door_release() when it closes it; false: it could not, and fd
	 * is closed.
	 */
	bool (*take)(void *ctx, evutil_socket_t fd, const struct sockaddr *addr, socklen_t len);
	void *ctx;
};

/*
 * Listen on host:port (port 0: any free port) for base, over TLS when tls,
 * with at most limit connections in all.  NULL with a reason in err.
 */
struct http_door *http_door_open(struct event_base *base, const char *host, unsigned port, bool tls,
				 unsigned limit, const struct http_door_hooks *hooks, char *err,
				 size_t errlen);

/* The port bound. */
unsigned http_door_port(const struct http_door *door);

/* What it did so far. */
void http_door_stats(const struct http_door *door, struct http_door_stats *out);

/* The server closed a connection it took from the door. */
void http_door_release(struct http_door *door, const struct sockaddr *addr);

/* Stop listening, close the connections the door holds, free it.  NULL is fine. */
void http_door_close(struct http_door *door);

#endif
