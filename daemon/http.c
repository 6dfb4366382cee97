/*
 * http.c - libmicrohttpd inside the libevent loop, with a route table, behind
 * a door that accepts connections and holds each one until its request head
 * has come (see http.h).
 */
#include "http.h"

#include "clock.h"
#include "http_head.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* Seconds a connection the door answered is read from before it is closed,
 * so that the client reads the answer rather than a reset. */
#define DOOR_LINGER 2
/* Connections accepted in one go before the loop serves others. */
#define DOOR_ACCEPT_BATCH 64
/* Descriptors left to the rest of the daemon (masters, probes, state, logs). */
#define FD_RESERVE 256
/* Distinct targets of HTTP_SHARED routes whose answers one turn keeps. */
#define SHARED_MAX 8

enum arrival_state {
	ARRIVAL_WAITING, /* for its request head */
	ARRIVAL_CLOSING, /* answered by the door; read until the client closes */
};

/* A connection the door holds: accepted, not (yet) libmicrohttpd's. */
struct arrival {
	struct arrival *prev, *next; /* the door's list, oldest first */
	struct http_server *srv;
	evutil_socket_t fd;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct event *ev; /* readable, or its deadline passed */
	enum arrival_state state;
	double since;   /* accepted, monotonic seconds */
	size_t seen;    /* bytes of its head read so far */
	size_t drained; /* CLOSING: bytes read and dropped */
};

/* The answer to a HTTP_SHARED route's target, kept for the rest of the turn. */
struct shared_answer {
	char *target; /* raw: path and query as the client sent them */
	unsigned status;
	struct MHD_Response *r; /* a reference of its own */
};

/* Connections open from one remote address. */
struct ip_count {
	unsigned char addr[16]; /* IPv6, or IPv4-mapped IPv6 */
	unsigned n;
};

struct http_server {
	struct MHD_Daemon *mhd;
	struct event_base *base;
	evutil_socket_t listen_fd;
	struct event *accept_ev;
	struct event *accept_pause; /* out of descriptors: accept again later */
	struct event *ready;        /* MHD's epoll fd is readable */
	struct event *timer;        /* MHD's own timeouts */
	struct arrival *first, *last;
	unsigned n_arrivals;
	struct ip_count *ips;
	size_t n_ips, cap_ips;
	bool handing; /* inside MHD_add_connection() */
	bool started; /* ...and MHD has counted the connection as started */
	struct shared_answer shared[SHARED_MAX];
	size_t n_shared;
	unsigned limit;
	bool tls; /* the door sees ciphertext: no head to check, no answer to write */
	const struct http_route *routes;
	void *ctx;
	unsigned port;
};

/* Per-request state, made when the request line has come (on_uri()) and
 * kept by MHD between calls of the access handler. */
struct request_state {
	char *body;
	size_t len;
	size_t cap;
	char *target; /* raw: path and query as the client sent them */
	double since; /* its head came, monotonic seconds */
	bool nul;     /* the request target holds %00 */
	bool checked; /* the first call of the access handler has been */
	bool too_large;
	bool answered;
};

bool http_route_match(const char *pattern, const char *path, uint64_t *id)
{
	uint64_t value = 0;

	while (*pattern != '\0' && *path != '\0') {
		if (strncmp(pattern, "{name}", 6) == 0) { /* one segment, any text */
			size_t n = strcspn(path, "/");
			if (n == 0)
				return false;
			path += n;
			pattern += 6;
			continue;
		}
		if (strncmp(pattern, "{id}", 4) == 0) {
			size_t digits = 0;
			while (*path >= '0' && *path <= '9') {
				unsigned d = (unsigned)(*path - '0');
				if (value > (UINT64_MAX - d) / 10)
					return false;
				value = value * 10 + d;
				path++;
				digits++;
			}
			if (digits == 0)
				return false;
			pattern += 4;
			continue;
		}
		if (*pattern != *path)
			return false;
		pattern++;
		path++;
	}
	if (*pattern != '\0' || *path != '\0')
		return false;
	*id = value;
	return true;
}

const char *http_query(const struct http_request *req, const char *key)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *http_header(const struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

static void set_body(struct http_response *resp, char *body, size_t len)
{
	free(resp->body);
	resp->body = body;
	resp->len = len;
}

void http_reply_text(struct http_response *resp, unsigned status, const char *content_type,
		     const char *text)
{
	char *copy = strdup(text);

	if (copy == NULL) {
		http_reply_error(resp, 503, "out of memory");
		return;
	}
	resp->status = status;
	resp->content_type = content_type;
	set_body(resp, copy, strlen(copy));
}

void http_reply_json(struct http_response *resp, unsigned status, json_t *value)
{
	char *text = value == NULL ? NULL : json_dumps(value, JSON_COMPACT | JSON_ENSURE_ASCII);
	size_t len;

	json_decref(value);
	if (text == NULL) {
		/* the one body that needs no allocation */
		resp->status = 503;
		resp->content_type = "application/json";
		set_body(resp, NULL, 0);
		return;
	}
	len = strlen(text);
	/* jansson allocates with malloc by default, so free() can release it */
	resp->status = status;
	resp->content_type = "application/json";
	set_body(resp, text, len);
}

void http_reply_error(struct http_response *resp, unsigned status, const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	http_reply_json(resp, status, json_pack("{s:s}", "error", reason));
	resp->status = status;
}

/* resp as an MHD response (resp's body passes to it), or NULL. */
static struct MHD_Response *make_response(struct http_response *resp)
{
	struct MHD_Response *r;

	if (resp->body == NULL)
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	else
		r = MHD_create_response_from_buffer(resp->len, resp->body, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(resp->body);
		resp->body = NULL;
		return NULL;
	}
	resp->body = NULL; /* MHD owns it now */
	if (resp->content_type != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	/* one request a connection: the next one comes through the door again */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	if (resp->allow != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, resp->allow);
	if (resp->authenticate != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, resp->authenticate);
	return r;
}

static enum MHD_Result send_response(struct MHD_Connection *conn, struct http_response *resp)
{
	struct MHD_Response *r = make_response(resp);
	enum MHD_Result ret;

	if (r == NULL)
		return MHD_NO;
	ret = MHD_queue_response(conn, resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, unsigned status, const char *reason)
{
	struct http_response resp = { 0 };

	http_reply_error(&resp, status, "%s", reason);
	return send_response(conn, &resp);
}

/* The route of the finished request, its {id} in req (method is what the
 * client sent; a GET route takes HEAD too); NULL with 404 or 405 in resp
 * when there is none. */
static const struct http_route *route_of(struct http_server *srv, const char *method,
					 struct http_request *req, struct http_response *resp)
{
	static char allow[128];
	const struct http_route *r;
	bool path_known = false;
	uint64_t id = 0;

	allow[0] = '\0';
	for (r = srv->routes; r->method != NULL; r++) {
		if (!http_route_match(r->pattern, req->path, &id))
			continue;
		if (strcmp(r->method, req->method) == 0) {
			req->id = id;
			return r;
		}
		path_known = true;
		if (strstr(allow, r->method) == NULL &&
		    strlen(allow) + strlen(r->method) + 8 < sizeof(allow)) {
			if (allow[0] != '\0')
				strcat(allow, ", ");
			strcat(allow, r->method);
			if (strcmp(r->method, "GET") == 0)
				strcat(allow, ", HEAD");
		}
	}
	if (path_known) {
		http_reply_error(resp, 405, "method %s not allowed on %s", method, req->path);
		resp->allow = allow;
	} else {
		http_reply_error(resp, 404, "no such endpoint");
	}
	return NULL;
}

/* Drop the answers kept for HTTP_SHARED routes (MHD keeps those it still sends). */
static void shared_forget(struct http_server *srv)
{
	for (size_t i = 0; i < srv->n_shared; i++) {
		free(srv->shared[i].target);
		MHD_destroy_response(srv->shared[i].r);
	}
	srv->n_shared = 0;
}

static const struct shared_answer *shared_find(const struct http_server *srv, const char *target)
{
	for (size_t i = 0; i < srv->n_shared; i++) {
		if (strcmp(srv->shared[i].target, target) == 0)
			return &srv->shared[i];
	}
	return NULL;
}

/* Keep r, the answer to target, for the rest of the turn; false (nothing
 * kept: the caller still holds r) when there is no room. */
static bool shared_keep(struct http_server *srv, const char *target, unsigned status,
			struct MHD_Response *r)
{
	char *copy;

	if (srv->n_shared == SHARED_MAX || (copy = strdup(target)) == NULL)
		return false;
	srv->shared[srv->n_shared++] = (struct shared_answer){ copy, status, r };
	return true;
}

/* Answer the finished request: from the route's handler, or for a
 * HTTP_SHARED route with the answer this turn made for the same target. */
static enum MHD_Result answer(struct http_server *srv, struct MHD_Connection *conn,
			      const char *method, const char *target, struct http_request *req)
{
	struct http_response resp = { 0 };
	const struct http_route *route = route_of(srv, method, req, &resp);
	bool shared = route != NULL && (route->flags & HTTP_SHARED) && target != NULL;
	const struct shared_answer *sa = shared ? shared_find(srv, target) : NULL;
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (sa != NULL) {
		log_debug("http: %s %s -> %u (shared)", method, req->path, sa->status);
		return MHD_queue_response(conn, sa->status, sa->r);
	}
	if (route != NULL) {
		route->handler(srv->ctx, req, &resp);
		if (!shared)
			shared_forget(srv); /* it may have changed what they were made of */
	}
	log_debug("http: %s %s -> %u", method, req->path, resp.status);
	r = make_response(&resp);
	if (r == NULL)
		return MHD_NO;
	ret = MHD_queue_response(conn, resp.status, r);
	if (!shared || !shared_keep(srv, target, resp.status, r))
		MHD_destroy_response(r);
	return ret;
}

static bool append_body(struct request_state *rs, const char *data, size_t size)
{
	if (rs->len + size > HTTP_MAX_BODY)
		return false;
	if (rs->len + size + 1 > rs->cap) {
		size_t cap = rs->cap == 0 ? 4096 : rs->cap;
		char *grown;
		while (cap < rs->len + size + 1)
			cap *= 2;
		grown = realloc(rs->body, cap);
		if (grown == NULL)
			return false;
		rs->body = grown;
		rs->cap = cap;
	}
	memcpy(rs->body + rs->len, data, size);
	rs->len += size;
	rs->body[rs->len] = '\0';
	return true;
}

#define QUERY_MAX 64

struct query_scan {
	const char *keys[QUERY_MAX];
	size_t n;
	const char *twice; /* the first key given twice */
	bool too_many;
};

static enum MHD_Result scan_query(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *value)
{
	struct query_scan *q = cls;

	(void)kind;
	(void)value;
	for (size_t i = 0; i < q->n; i++) {
		if (strcmp(q->keys[i], key) == 0) {
			q->twice = key;
			return MHD_NO;
		}
	}
	if (q->n == QUERY_MAX) {
		q->too_many = true;
		return MHD_NO;
	}
	q->keys[q->n++] = key;
	return MHD_YES;
}

static bool declared_too_large(struct MHD_Connection *conn)
{
	const char *cl =
	    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	char *end;
	unsigned long long n;

	if (cl == NULL)
		return false;
	errno = 0;
	n = strtoull(cl, &end, 10);
	return errno != 0 || *end != '\0' || n > HTTP_MAX_BODY;
}

/*
 * What is wrong with a request before its body is read: a status and the
 * reason in why, or 0.  %00 would cut the path or a value short (MHD hands
 * them on as C strings), and of a key given twice only one value would count.
 */
static unsigned request_refusal(struct MHD_Connection *conn, const struct request_state *rs,
				char *why, size_t len)
{
	struct query_scan q = { .n = 0 };

	if (rs->nul) {
		snprintf(why, len, "the request target holds %%00");
		return 400;
	}
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, scan_query, &q);
	if (q.twice != NULL) {
		snprintf(why, len, "query argument %.100s given twice", q.twice);
		return 400;
	}
	if (q.too_many) {
		snprintf(why, len, "more than %d query arguments", QUERY_MAX);
		return 400;
	}
	if (declared_too_large(conn)) {
		snprintf(why, len, "request body larger than 1 MiB");
		return 413;
	}
	return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct http_server *srv = cls;
	struct request_state *rs = *con_cls;
	struct http_request req;

	(void)version;
	if (rs == NULL) /* on_uri() had no memory */
		return MHD_NO;
	if (!rs->checked) {
		char why[160];
		unsigned status = request_refusal(conn, rs, why, sizeof(why));
		rs->checked = true;
		if (status == 0)
			return MHD_YES;
		rs->answered = true;
		log_debug("http: %s %s -> %u %s", method, url, status, why);
		return send_error(conn, status, why);
	}
	if (*upload_data_size != 0) {
		if (clock_mono() - rs->since > HTTP_BODY_TIMEOUT) {
			/* MHD cannot queue an answer while the body comes */
			log_debug("http: %s %s: the body did not come in time", method, url);
			return MHD_NO;
		}
		if (!rs->too_large && !rs->answered &&
		    !append_body(rs, upload_data, *upload_data_size))
			rs->too_large = true;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rs->answered)
		return MHD_YES;
	rs->answered = true;
	if (rs->too_large)
		return send_error(conn, 413, "request body larger than 1 MiB");

	memset(&req, 0, sizeof(req));
	req.method = strcmp(method, "HEAD") == 0 ? "GET" : method;
	req.path = url;
	req.body = rs->body != NULL ? rs->body : "";
	req.body_len = rs->len;
	req.conn = conn;
	return answer(srv, conn, method, rs->target, &req);
}

/* The request line has come: the request's state, with what only the raw
 * target shows. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct request_state *rs = calloc(1, sizeof(*rs));

	(void)cls;
	(void)conn;
	if (rs != NULL) {
		rs->nul = strstr(uri, "%00") != NULL;
		rs->since = clock_mono();
		rs->target = strdup(uri); /* NULL: not shared */
	}
	return rs;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct request_state *rs = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (rs == NULL)
		return;
	free(rs->target);
	free(rs->body);
	free(rs);
	*con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("http: %s", line);
}

/* Run MHD, then arm the timer for its next deadline. */
static void run_mhd(struct http_server *srv)
{
	MHD_UNSIGNED_LONG_LONG ms = 0;
	struct timeval tv;

	MHD_run(srv->mhd);
	shared_forget(srv); /* answers are shared within one turn only */
	if (MHD_get_timeout(srv->mhd, &ms) == MHD_YES) {
		tv.tv_sec = (time_t)(ms / 1000);
		tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
		evtimer_add(srv->timer, &tv);
	} else {
		evtimer_del(srv->timer);
	}
}

static void on_ready(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	run_mhd(arg);
}

/* ---- connections per remote address */

/* sa as a key of srv->ips; false for loopback and other families, which
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

static struct ip_count *ip_find(struct http_server *srv, const unsigned char key[16])
{
	for (size_t i = 0; i < srv->n_ips; i++) {
		if (memcmp(srv->ips[i].addr, key, 16) == 0)
			return &srv->ips[i];
	}
	return NULL;
}

/* Count one more connection from sa; false, counting nothing, when its
 * address has HTTP_PER_IP_LIMIT open already (or no memory is left). */
static bool ip_take(struct http_server *srv, const struct sockaddr *sa)
{
	unsigned char key[16];
	struct ip_count *c;

	if (!ip_key(sa, key))
		return true;
	c = ip_find(srv, key);
	if (c != NULL) {
		if (c->n >= HTTP_PER_IP_LIMIT)
			return false;
		c->n++;
		return true;
	}
	if (srv->n_ips == srv->cap_ips) {
		size_t cap = srv->cap_ips == 0 ? 16 : srv->cap_ips * 2;
		struct ip_count *grown = realloc(srv->ips, cap * sizeof(*grown));
		if (grown == NULL)
			return false;
		srv->ips = grown;
		srv->cap_ips = cap;
	}
	c = &srv->ips[srv->n_ips++];
	memcpy(c->addr, key, 16);
	c->n = 1;
	return true;
}

static void ip_release(struct http_server *srv, const struct sockaddr *sa)
{
	unsigned char key[16];
	struct ip_count *c;

	if (!ip_key(sa, key) || (c = ip_find(srv, key)) == NULL)
		return;
	if (--c->n == 0)
		*c = srv->ips[--srv->n_ips];
}

/* ---- the door */

static unsigned mhd_connections(const struct http_server *srv)
{
	const union MHD_DaemonInfo *info =
	    MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	return info != NULL ? info->num_connections : 0;
}

/* Write {"error": reason} with status on a connection libmicrohttpd never
 * saw.  The socket's buffer is empty, so the few hundred bytes fit. */
static void door_write_error(evutil_socket_t fd, unsigned status, const char *reason)
{
	struct http_response resp = { 0 };
	char head[384];
	struct iovec iov[2];
	struct msghdr mh;
	int n;

	http_reply_error(&resp, status, "%s", reason);
	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %u %s\r\nContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\nCache-Control: no-store\r\n"
		     "X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
		     resp.status, MHD_get_reason_phrase_for(resp.status), resp.len);
	iov[0].iov_base = head;
	iov[0].iov_len = (size_t)n;
	iov[1].iov_base = resp.body;
	iov[1].iov_len = resp.body != NULL ? resp.len : 0;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	if (sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("http: cannot answer %u: %s", status, strerror(errno));
	free(resp.body);
}

static void arrival_unlink(struct arrival *a)
{
	struct http_server *srv = a->srv;

	if (a->prev != NULL)
		a->prev->next = a->next;
	else
		srv->first = a->next;
	if (a->next != NULL)
		a->next->prev = a->prev;
	else
		srv->last = a->prev;
	srv->n_arrivals--;
	event_free(a->ev);
}

/* Close the connection and forget it. */
static void arrival_close(struct arrival *a)
{
	arrival_unlink(a);
	ip_release(a->srv, (const struct sockaddr *)&a->addr);
	close(a->fd);
	free(a);
}

/* Answer {"error": reason} and read what the client still sends for a
 * while, then close: closing with unread bytes would reset the connection
 * and the client could lose the answer. */
static void arrival_refuse(struct arrival *a, unsigned status, const char *reason)
{
	struct timeval tv = { DOOR_LINGER, 0 };

	log_debug("http: door answers %u: %s", status, reason);
	if (a->srv->tls) {
		arrival_close(a);
		return;
	}
	door_write_error(a->fd, status, reason);
	shutdown(a->fd, SHUT_WR);
	a->state = ARRIVAL_CLOSING;
	if (event_add(a->ev, &tv) != 0)
		arrival_close(a);
}

/* The connection becomes libmicrohttpd's; it stays counted for its address
 * until MHD says it closed (on_connection()). */
static void arrival_hand_over(struct arrival *a)
{
	struct http_server *srv = a->srv;
	struct sockaddr_storage addr = a->addr;
	socklen_t addrlen = a->addrlen;
	evutil_socket_t fd = a->fd;

	arrival_unlink(a);
	free(a);
	srv->handing = true;
	srv->started = false;
	if (MHD_add_connection(srv->mhd, fd, (const struct sockaddr *)&addr, addrlen) != MHD_YES) {
		log_debug("http: libmicrohttpd refused a connection: %s", strerror(errno));
		if (!srv->started) /* else on_connection() has released it */
			ip_release(srv, (const struct sockaddr *)&addr);
	}
	srv->handing = false;
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
		if (a->seen == 0)
			arrival_close(a); /* sent nothing: no one to answer */
		else
			arrival_refuse(a, 408, "the request head did not come in time");
		return;
	}
	n = recv(fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		arrival_close(a);
		return;
	}
	head = a->srv->tls ? 1 : http_head_check(buf, (size_t)n, &err);
	if (head < 0) {
		arrival_refuse(a, err.status, err.reason);
		return;
	}
	if (head > 0) {
		arrival_hand_over(a);
		return;
	}
	if ((size_t)n == a->seen)
		return;
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
static bool door_evict(struct http_server *srv)
{
	for (struct arrival *a = srv->first; a != NULL; a = a->next) {
		if (a->state == ARRIVAL_WAITING) {
			log_debug("http: at %u connections: closing the oldest without a request",
				  srv->limit);
			arrival_close(a);
			return true;
		}
	}
	return false;
}

/* A new connection: held by the door, or refused when there is no room. */
static void door_admit(struct http_server *srv, evutil_socket_t fd,
		       const struct sockaddr_storage *addr, socklen_t addrlen)
{
	struct timeval tv = { HTTP_IDLE_TIMEOUT, 0 };
	struct arrival *a;

	if (srv->n_arrivals + mhd_connections(srv) >= srv->limit && !door_evict(srv)) {
		if (!srv->tls)
			door_write_error(fd, 503, "too many connections");
		close(fd);
		return;
	}
	if (!ip_take(srv, (const struct sockaddr *)addr)) {
		if (!srv->tls)
			door_write_error(fd, 503, "too many connections from this address");
		close(fd);
		return;
	}
	a = calloc(1, sizeof(*a));
	if (a != NULL)
		/* edge-triggered: a peek leaves the bytes unread, so only new
		 * bytes (or the end) should wake the door again */
		a->ev = event_new(srv->base, fd, EV_READ | EV_PERSIST | EV_ET, on_arrival, a);
	if (a == NULL || a->ev == NULL || event_add(a->ev, &tv) != 0) {
		if (a != NULL && a->ev != NULL)
			event_free(a->ev);
		free(a);
		ip_release(srv, (const struct sockaddr *)addr);
		close(fd);
		return;
	}
	a->srv = srv;
	a->fd = fd;
	a->addr = *addr;
	a->addrlen = addrlen;
	a->since = clock_mono();
	a->prev = srv->last;
	if (srv->last != NULL)
		srv->last->next = a;
	else
		srv->first = a;
	srv->last = a;
	srv->n_arrivals++;
}

static void on_accept(evutil_socket_t fd, short what, void *arg)
{
	struct http_server *srv = arg;
	struct timeval pause = { 0, 100000 };

	(void)what;
	for (int i = 0; i < DOOR_ACCEPT_BATCH; i++) {
		struct sockaddr_storage addr;
		socklen_t addrlen = sizeof(addr);
		/* blocking, as accept() leaves it: the door reads with
		 * MSG_DONTWAIT, MHD_add_connection() makes it non-blocking */
		evutil_socket_t c = accept(fd, (struct sockaddr *)&addr, &addrlen);
		if (c >= 0) {
			door_admit(srv, c, &addr, addrlen);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			/* the connection waits in the backlog; trying again at once would spin */
			log_warn("http: cannot accept: %s", strerror(errno));
			event_del(srv->accept_ev);
			evtimer_add(srv->accept_pause, &pause);
		}
		return;
	}
}

static void on_accept_pause(evutil_socket_t fd, short what, void *arg)
{
	struct http_server *srv = arg;

	(void)fd;
	(void)what;
	event_add(srv->accept_ev, NULL);
}

/* libmicrohttpd took or let go of a connection the door handed over. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct http_server *srv = cls;
	const union MHD_ConnectionInfo *info;

	(void)socket_context;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		srv->started = true;
		return;
	}
	info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (info != NULL && info->client_addr != NULL)
		ip_release(srv, info->client_addr);
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
static evutil_socket_t door_listen(const char *host, unsigned port, unsigned *bound, char *err,
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

/* HTTP_MAX_CONNECTIONS, or what RLIMIT_NOFILE leaves beside FD_RESERVE. */
static unsigned connection_limit(void)
{
	struct rlimit rl;
	rlim_t room;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return HTTP_MAX_CONNECTIONS;
	room = rl.rlim_cur > 2 * FD_RESERVE ? rl.rlim_cur - FD_RESERVE : rl.rlim_cur / 2;
	return room < HTTP_MAX_CONNECTIONS ? (unsigned)room : HTTP_MAX_CONNECTIONS;
}

static int start_mhd(struct http_server *srv, const struct http_tls *tls)
{
	const union MHD_DaemonInfo *info;

	/* without TLS, the MHD_OPTION_END in place of MHD_OPTION_HTTPS_MEM_CERT
	 * ends the list before the certificate and key */
	srv->mhd = MHD_start_daemon(
	    MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET |
		(tls != NULL ? MHD_USE_TLS : 0),
	    0, NULL, NULL, on_request, srv, MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION,
	    on_connection, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
	    MHD_OPTION_CONNECTION_LIMIT, srv->limit, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)HTTP_IDLE_TIMEOUT, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536,
	    tls != NULL ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END,
	    tls != NULL ? tls->cert_pem : NULL, MHD_OPTION_HTTPS_MEM_KEY,
	    tls != NULL ? tls->key_pem : NULL, MHD_OPTION_END);
	if (srv->mhd == NULL)
		return -1;
	info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	srv->ready = event_new(srv->base, info->epoll_fd, EV_READ | EV_PERSIST, on_ready, srv);
	srv->timer = evtimer_new(srv->base, on_ready, srv);
	return srv->ready == NULL || srv->timer == NULL || event_add(srv->ready, NULL) != 0 ? -1
											    : 0;
}

struct http_server *http_server_start(struct event_base *base, const char *host, unsigned port,
				      const struct http_tls *tls, const struct http_route *routes,
				      void *ctx, char *err, size_t errlen)
{
	struct http_server *srv = calloc(1, sizeof(*srv));

	if (srv == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	srv->base = base;
	srv->routes = routes;
	srv->ctx = ctx;
	srv->limit = connection_limit();
	srv->tls = tls != NULL;
	srv->listen_fd = door_listen(host, port, &srv->port, err, errlen);
	if (srv->listen_fd < 0) {
		free(srv);
		return NULL;
	}
	if (start_mhd(srv, tls) != 0) {
		snprintf(err, errlen, "cannot start libmicrohttpd%s",
			 tls != NULL ? " (is the TLS certificate or key bad?)" : "");
		http_server_free(srv);
		return NULL;
	}
	srv->accept_ev = event_new(base, srv->listen_fd, EV_READ | EV_PERSIST, on_accept, srv);
	srv->accept_pause = evtimer_new(base, on_accept_pause, srv);
	if (srv->accept_ev == NULL || srv->accept_pause == NULL ||
	    event_add(srv->accept_ev, NULL) != 0) {
		snprintf(err, errlen, "cannot register the HTTP server with the event loop");
		http_server_free(srv);
		return NULL;
	}
	run_mhd(srv);
	return srv;
}

unsigned http_server_port(const struct http_server *srv)
{
	return srv->port;
}

unsigned http_server_limit(const struct http_server *srv)
{
	return srv->limit;
}

void http_server_free(struct http_server *srv)
{
	if (srv == NULL)
		return;
	while (srv->first != NULL)
		arrival_close(srv->first);
	if (srv->accept_ev != NULL)
		event_free(srv->accept_ev);
	if (srv->accept_pause != NULL)
		event_free(srv->accept_pause);
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	if (srv->ready != NULL)
		event_free(srv->ready);
	if (srv->timer != NULL)
		event_free(srv->timer);
	shared_forget(srv);
	if (srv->mhd != NULL)
		MHD_stop_daemon(srv->mhd);
	free(srv->ips);
	free(srv);
}
