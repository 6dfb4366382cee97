/*
 * http.c - libmicrohttpd inside the libevent loop, with a route table, behind
 * the door (http_door.c) that accepts connections and holds each one until
 * its request head has come (see http.h).
 */
#include "http.h"

#include "clock.h"
#include "http_door.h"
#include "http_head.h"
#include "log.h"

#include <errno.h>
#include <event2/event.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

/* Descriptors left to the rest of the daemon (masters, probes, state, logs). */
#define FD_RESERVE 256
/* Distinct targets of HTTP_SHARED routes whose answers one turn keeps. */
#define SHARED_MAX 8

/* The answer to a HTTP_SHARED route's target, kept for the rest of the turn. */
struct shared_answer {
	char *target; /* raw: path and query as the client sent them */
	unsigned status;
	struct MHD_Response *r; /* a reference of its own */
};

struct http_server {
	struct MHD_Daemon *mhd;
	struct event_base *base;
	struct http_door *door; /* accepts, and hands connections over (take()) */
	struct event *ready;    /* MHD's epoll fd is readable */
	struct event *timer;    /* MHD's own timeouts */
	bool started;           /* MHD has counted the connection being taken as started */
	struct shared_answer shared[SHARED_MAX];
	size_t n_shared;
	unsigned limit;
	uint64_t timeouts; /* connections libmicrohttpd closed for their time */
	const struct http_route *routes;
	void *ctx;
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
	struct http_server *srv = cls;

	(void)conn;
	if (toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED)
		srv->timeouts++;
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
		http_door_release(srv->door, info->client_addr);
}

/* The door's hooks: the connections libmicrohttpd holds, and one to take. */
static unsigned serving(const struct http_server *srv)
{
	const union MHD_DaemonInfo *info =
	    MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	return info != NULL ? info->num_connections : 0;
}

static unsigned door_busy(void *ctx)
{
	return serving(ctx);
}

static bool door_take(void *ctx, evutil_socket_t fd, const struct sockaddr *addr, socklen_t len)
{
	struct http_server *srv = ctx;

	srv->started = false;
	if (MHD_add_connection(srv->mhd, fd, addr, len) == MHD_YES)
		return true;
	log_debug("http: libmicrohttpd refused a connection: %s", strerror(errno));
	return srv->started; /* started, then failed: on_connection() released it */
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
	struct http_door_hooks hooks = { door_busy, door_take, srv };

	if (srv == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	srv->base = base;
	srv->routes = routes;
	srv->ctx = ctx;
	srv->limit = connection_limit();
	if (start_mhd(srv, tls) != 0) {
		snprintf(err, errlen, "cannot start libmicrohttpd%s",
			 tls != NULL ? " (is the TLS certificate or key bad?)" : "");
		http_server_free(srv);
		return NULL;
	}
	srv->door = http_door_open(base, host, port, tls != NULL, srv->limit, &hooks, err, errlen);
	if (srv->door == NULL) {
		http_server_free(srv);
		return NULL;
	}
	run_mhd(srv);
	return srv;
}

unsigned http_server_port(const struct http_server *srv)
{
	return http_door_port(srv->door);
}

unsigned http_server_limit(const struct http_server *srv)
{
	return srv->limit;
}

void http_server_stats(const struct http_server *srv, struct http_stats *out)
{
	memset(out, 0, sizeof(*out));
	http_door_stats(srv->door, &out->door);
	out->serving = serving(srv);
	out->limit = srv->limit;
	out->timeouts = srv->timeouts;
}

void http_server_free(struct http_server *srv)
{
	if (srv == NULL)
		return;
	if (srv->ready != NULL)
		event_free(srv->ready);
	if (srv->timer != NULL)
		event_free(srv->timer);
	shared_forget(srv);
	/* before the door: closing its connections, MHD releases them there */
	if (srv->mhd != NULL)
		MHD_stop_daemon(srv->mhd);
	http_door_close(srv->door);
	free(srv);
}
