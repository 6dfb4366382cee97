/*
 * http_door.c - the HTTP server's door (see http_door.h): accept, hold a
 * connection until its request head has come, hand it to the server.
 */
#include "http_door.h"

#include "clock.h"
#include "http.h"
#include "http_head.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* Seconds a connection the door answered is read from before it is closed,
 * so that the client reads the answer rather than a reset. */
#define DOOR_LINGER 2
/* Connections accepted in one go before the loop serves others. */
#define DOOR_ACCEPT_BATCH 64
/* Seconds between two log lines about clients that hold connections and send too little. */
#define DOOR_NOTE_EVERY 60.0

enum arrival_state {
	ARRIVAL_WAITING, /* for its request head */
	ARRIVAL_CLOSING, /* answered by the door; read until the client closes */
};

/* A connection the door holds: accepted, not (yet) libmicrohttpd's. */
struct arrival {
	struct arrival *prev, *next; /* the door's list, oldest first */
	struct http_door *door;
	evutil_socket_t fd;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct event *ev; /* readable, or its deadline passed */
	enum arrival_state state;
	double since;   /* accepted, monotonic seconds */
	size_t seen;    /* bytes of its head read so far */
	size_t drained; /* CLOSING: bytes read and dropped */
};

/* Connections open from one remote address. */
struct ip_count {
	unsigned char addr[16]; /* IPv6, or IPv4-mapped IPv6 */
	unsigned n;
};

struct http_door {
	struct event_base *base;
	evutil_socket_t listen_fd;
	unsigned port;
	bool tls; /* it sees ciphertext: no head to check, no answer to write */
	unsigned limit;
	struct http_door_hooks hooks;
	struct event *accept_ev;
	struct event *accept_pause;   /* out of descriptors: accept again later */
	struct arrival *first, *last; /* oldest first */
	unsigned n_arrivals;
	struct ip_count *ips;
	size_t n_ips, cap_ips;
	struct http_door_stats stats; /* waiting is n_arrivals */
	/* the slow clients said in the log: when, and the counts then */
	double noted_at;
	uint64_t noted_idle, noted_slow;
};

/* Say in the log that clients hold connections and send too little: the first time at once,
 * then at most once every DOOR_NOTE_EVERY seconds, with the counts since. */
static void note_slow(struct http_door *door, const struct sockaddr *sa)
{
	char host[INET6_ADDRSTRLEN] = "?";
	double now = clock_mono();

	if (door->noted_at > 0 && now - door->noted_at < DOOR_NOTE_EVERY)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, host,
			  sizeof(host));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			  host, sizeof(host));
	log_warn("http: slow clients: %llu connection(s) closed after %d s without a byte and "
		 "%llu answered 408 after %d s without a whole request head%s; the latest from %s",
		 (unsigned long long)(door->stats.idle_closed - door->noted_idle),
		 HTTP_IDLE_TIMEOUT,
		 (unsigned long long)(door->stats.head_timeouts - door->noted_slow),
		 HTTP_HEAD_TIMEOUT, door->noted_at > 0 ? " since the last such line" : "", host);
	door->noted_at = now;
	door->noted_idle = door->stats.idle_closed;
	door->noted_slow = door->stats.head_timeouts;
}

/* ---- connections per remote address */

/* sa as a key of door->ips; false for loopback and other families, which
 * are not counted per address. */
static bool ip_key(const struct sockaddr *sa, unsigned char key[16])
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const unsigned char loopback6[16] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
	};

	if (sa->sa_family == AF_INET) {
		memcpy(key, mapped, sizeof(mapped));
		memcpy(key + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
	} else {
		return false;
	}
	if (memcmp(key, mapped, sizeof(mapped)) == 0)
		return key[12] != 127;
	return memcmp(key, loopback6, sizeof(loopback6)) != 0;
}

static struct ip_count *ip_find(struct http_door *door, const unsigned char key[16])
{
	for (size_t i = 0; i < door->n_ips; i++) {
		if (memcmp(door->ips[i].addr, key, 16) == 0)
			return &door->ips[i];
	}
	return NULL;
}

/* Count one more connection from sa; false, counting nothing, when its
 * address has HTTP_PER_IP_LIMIT open already (or no memory is left). */
static bool ip_take(struct http_door *door, const struct sockaddr *sa)
{
	unsigned char key[16];
	struct ip_count *c;

	if (!ip_key(sa, key))
		return true;
	c = ip_find(door, key);
	if (c != NULL) {
		if (c->n >= HTTP_PER_IP_LIMIT)
			return false;
		c->n++;
		return true;
	}
	if (door->n_ips == door->cap_ips) {
		size_t cap = door->cap_ips == 0 ? 16 : door->cap_ips * 2;
		struct ip_count *grown = realloc(door->ips, cap * sizeof(*grown));
		if (grown == NULL)
			return false;
		door->ips = grown;
		door->cap_ips = cap;
	}
	c = &door->ips[door->n_ips++];
	memcpy(c->addr, key, 16);
	c->n = 1;
	return true;
}

static void ip_release(struct http_door *door, const struct sockaddr *sa)
{
	unsigned char key[16];
	struct ip_count *c;

	if (!ip_key(sa, key) || (c = ip_find(door, key)) == NULL)
		return;
	if (--c->n == 0)
		*c = door->ips[--door->n_ips];
}

/* ---- the connections the door holds */

/* Write {"error": reason} with status on a connection the server never
 * saw.  The socket's buffer is empty, so the few hundred bytes fit. */
static void write_error(evutil_socket_t fd, unsigned status, const char *reason)
{
	json_t *value = json_pack("{s:s}", "error", reason);
	char *body = value != NULL ? json_dumps(value, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	size_t len = body != NULL ? strlen(body) : 0;
	char head[384];
	struct iovec iov[2];
	struct msghdr mh;
	int n;

	json_decref(value);
	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %u %s\r\nContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\nCache-Control: no-store\r\n"
		     "X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
		     status, MHD_get_reason_phrase_for(status), len);
	iov[0].iov_base = head;
	iov[0].iov_len = (size_t)n;
	iov[1].iov_base = body;
	iov[1].iov_len = len;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	if (sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("http: cannot answer %u: %s", status, strerror(errno));
	free(body);
}

static void arrival_unlink(struct arrival *a)
{
	struct http_door *door = a->door;

	if (a->prev != NULL)
		a->prev->next = a->next;
	else
		door->first = a->next;
	if (a->next != NULL)
		a->next->prev = a->prev;
	else
		door->last = a->prev;
	door->n_arrivals--;
	event_free(a->ev);
}

/* Close the connection and forget it. */
static void arrival_close(struct arrival *a)
{
	arrival_unlink(a);
	ip_release(a->door, (const struct sockaddr *)&a->addr);
	close(a->fd);
	free(a);
}

/* Read what a refused client still sends, until it closes or the time is up. */
static void arrival_drain(struct arrival *a, short what)
{
	static char sink[16384];
	ssize_t n;

	if (what & EV_TIMEOUT) {
		arrival_close(a);
		return;
	}
	while ((n = recv(a->fd, sink, sizeof(sink), MSG_DONTWAIT)) > 0) {
		a->drained += (size_t)n;
		if (a->drained > HTTP_MAX_BODY) {
			arrival_close(a);
			return;
		}
	}
	if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
		arrival_close(a);
}

/* Answer {"error": reason} and read what the client still sends for a
 * while, then close: closing with unread bytes would reset the connection
 * and the client could lose the answer. */
static void arrival_refuse(struct arrival *a, unsigned status, const char *reason)
{
	struct timeval tv = { DOOR_LINGER, 0 };

	log_debug("http: door answers %u: %s", status, reason);
	if (a->door->tls) {
		arrival_close(a);
		return;
	}
	write_error(a->fd, status, reason);
	shutdown(a->fd, SHUT_WR);
	a->state = ARRIVAL_CLOSING;
	if (event_add(a->ev, &tv) != 0) {
		arrival_close(a);
		return;
	}
	/* what is there already will not wake an edge-triggered event */
	arrival_drain(a, EV_READ);
}

/* The connection becomes the server's; it stays counted for its address
 * until the server releases it (http_door_release()). */
static void arrival_hand_over(struct arrival *a)
{
	struct http_door *door = a->door;
	struct sockaddr_storage addr = a->addr;
	socklen_t addrlen = a->addrlen;
	evutil_socket_t fd = a->fd;

	arrival_unlink(a);
	free(a);
	if (!door->hooks.take(door->hooks.ctx, fd, (const struct sockaddr *)&addr, addrlen))
		ip_release(door, (const struct sockaddr *)&addr);
}

static void on_arrival(evutil_socket_t fd, short what, void *arg)
{
	static char buf[HTTP_MAX_HEAD];
	struct arrival *a = arg;
	struct http_head_error err;
	struct timeval tv;
	double left;
	ssize_t n;
	long head;

	if (a->state == ARRIVAL_CLOSING) {
		arrival_drain(a, what);
		return;
	}
	if (what & EV_TIMEOUT) {
		struct http_door *door = a->door;
		struct sockaddr_storage addr = a->addr;

		if (a->seen == 0) {
			door->stats.idle_closed++;
			arrival_close(a); /* sent nothing: no one to answer */
		} else {
			door->stats.head_timeouts++;
			arrival_refuse(a, 408, "the request head did not come in time");
		}
		note_slow(door, (const struct sockaddr *)&addr);
		return;
	}
	n = recv(fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		arrival_close(a);
		return;
	}
	head = a->door->tls ? 1 : http_head_check(buf, (size_t)n, &err);
	if (head < 0) {
		a->door->stats.bad_heads++;
		arrival_refuse(a, err.status, err.reason);
		return;
	}
	if (head > 0) {
		arrival_hand_over(a);
		return;
	}
	if ((size_t)n == a->seen) {
		/* woken without a new byte: the client closed its side, which a peek at the bytes
		 * still unread does not show; its head can never be whole */
		struct pollfd p = { .fd = fd, .events = POLLRDHUP };
		if (poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			arrival_close(a);
		return;
	}
	/* some of the head has come: the rest must come by the head's deadline */
	a->seen = (size_t)n;
	left = a->since + HTTP_HEAD_TIMEOUT - clock_mono();
	if (left < 0.001)
		left = 0.001;
	tv.tv_sec = (time_t)left;
	tv.tv_usec = (suseconds_t)((left - (double)tv.tv_sec) * 1e6);
	if (event_add(a->ev, &tv) != 0)
		arrival_close(a);
}

/* Close the oldest connection still waiting for its head; false when none is. */
static bool door_evict(struct http_door *door)
{
	for (struct arrival *a = door->first; a != NULL; a = a->next) {
		if (a->state == ARRIVAL_WAITING) {
			log_debug("http: at %u connections: closing the oldest without a request",
				  door->limit);
			door->stats.evicted++;
			arrival_close(a);
			return true;
		}
	}
	return false;
}

/* A new connection: held by the door, or refused when there is no room. */
static void door_admit(struct http_door *door, evutil_socket_t fd,
		       const struct sockaddr_storage *addr, socklen_t addrlen)
{
	struct timeval tv = { HTTP_IDLE_TIMEOUT, 0 };
	struct arrival *a;

	if (door->n_arrivals + door->hooks.busy(door->hooks.ctx) >= door->limit &&
	    !door_evict(door)) {
		door->stats.refused++;
		if (!door->tls)
			write_error(fd, 503, "too many connections");
		close(fd);
		return;
	}
	if (!ip_take(door, (const struct sockaddr *)addr)) {
		door->stats.refused_address++;
		if (!door->tls)
			write_error(fd, 503, "too many connections from this address");
		close(fd);
		return;
	}
	a = calloc(1, sizeof(*a));
	if (a != NULL)
		/* edge-triggered: a peek leaves the bytes unread, so only new
		 * bytes (or the end) should wake the door again */
		a->ev = event_new(door->base, fd, EV_READ | EV_PERSIST | EV_ET, on_arrival, a);
	if (a == NULL || a->ev == NULL || event_add(a->ev, &tv) != 0) {
		if (a != NULL && a->ev != NULL)
			event_free(a->ev);
		free(a);
		ip_release(door, (const struct sockaddr *)addr);
		close(fd);
		return;
	}
	a->door = door;
	a->fd = fd;
	a->addr = *addr;
	a->addrlen = addrlen;
	a->since = clock_mono();
	a->prev = door->last;
	if (door->last != NULL)
		door->last->next = a;
	else
		door->first = a;
	door->last = a;
	door->n_arrivals++;
}

static void on_accept(evutil_socket_t fd, short what, void *arg)
{
	struct http_door *door = arg;
	struct timeval pause = { 0, 100000 };

	(void)what;
	for (int i = 0; i < DOOR_ACCEPT_BATCH; i++) {
		struct sockaddr_storage addr;
		socklen_t addrlen = sizeof(addr);
		/* blocking, as accept() leaves it: the door reads with
		 * MSG_DONTWAIT, MHD_add_connection() makes it non-blocking */
		evutil_socket_t c = accept(fd, (struct sockaddr *)&addr, &addrlen);
		if (c >= 0) {
			door->stats.accepted++;
			door_admit(door, c, &addr, addrlen);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			/* the connection waits in the backlog; trying again at once would spin */
			log_warn("http: cannot accept: %s", strerror(errno));
			event_del(door->accept_ev);
			evtimer_add(door->accept_pause, &pause);
		}
		return;
	}
}

static void on_accept_pause(evutil_socket_t fd, short what, void *arg)
{
	struct http_door *door = arg;

	(void)fd;
	(void)what;
	event_add(door->accept_ev, NULL);
}

static int resolve(const char *host, unsigned port, struct sockaddr_storage *ss, socklen_t *len,
		   char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	char service[8];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(service, sizeof(service), "%u", port);
	rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* The listening socket on host:port, non-blocking; its port in *bound. */
static evutil_socket_t listen_on(const char *host, unsigned port, unsigned *bound, char *err,
				 size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	evutil_socket_t fd;
	int one = 1;

	if (resolve(host, port, &ss, &len, err, errlen) != 0)
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    (ss.ss_family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) ||
	    bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, SOMAXCONN) != 0) {
		snprintf(err, errlen, "cannot listen on %s:%u: %s", host, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		*bound =
		    ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)(void *)&ss)->sin6_port
						   : ((struct sockaddr_in *)(void *)&ss)->sin_port);
	else
		*bound = port;
	return fd;
}

struct http_door *http_door_open(struct event_base *base, const char *host, unsigned port, bool tls,
				 unsigned limit, const struct http_door_hooks *hooks, char *err,
				 size_t errlen)
{
	struct http_door *door = calloc(1, sizeof(*door));

	if (door == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	door->base = base;
	door->tls = tls;
	door->limit = limit;
	door->hooks = *hooks;
	door->listen_fd = listen_on(host, port, &door->port, err, errlen);
	if (door->listen_fd < 0) {
		free(door);
		return NULL;
	}
	door->accept_ev = event_new(base, door->listen_fd, EV_READ | EV_PERSIST, on_accept, door);
	door->accept_pause = evtimer_new(base, on_accept_pause, door);
	if (door->accept_ev == NULL || door->accept_pause == NULL ||
	    event_add(door->accept_ev, NULL) != 0) {
		snprintf(err, errlen, "cannot register the HTTP server with the event loop");
		http_door_close(door);
		return NULL;
	}
	return door;
}

unsigned http_door_port(const struct http_door *door)
{
	return door->port;
}

void http_door_release(struct http_door *door, const struct sockaddr *addr)
{
	ip_release(door, addr);
}

void http_door_close(struct http_door *door)
{
	if (door == NULL)
		return;
	while (door->first != NULL)
		arrival_close(door->first);
	if (door->accept_ev != NULL)
		event_free(door->accept_ev);
	if (door->accept_pause != NULL)
		event_free(door->accept_pause);
	close(door->listen_fd);
	free(door->ips);
	free(door);
}

void http_door_stats(const struct http_door *door, struct http_door_stats *out)
{
	*out = door->stats;
	out->waiting = door->n_arrivals;
}
