/*
 * http.c - libmicrohttpd inside the libevent loop, with a route table.
 */
#include "http.h"

#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct http_server {
	struct MHD_Daemon *mhd;
	struct event *ready; /* MHD's epoll fd is readable */
	struct event *timer; /* MHD's own timeouts */
	const struct http_route *routes;
	void *ctx;
	unsigned port;
};

/* Per-request state, kept by MHD between calls of the access handler. */
struct request_state {
	char *body;
	size_t len;
	size_t cap;
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

static enum MHD_Result send_response(struct MHD_Connection *conn, struct http_response *resp)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (resp->body == NULL)
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	else
		r = MHD_create_response_from_buffer(resp->len, resp->body, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(resp->body);
		return MHD_NO;
	}
	resp->body = NULL; /* MHD owns it now */
	if (resp->content_type != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, resp->content_type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (resp->allow != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, resp->allow);
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

/* Route the finished request; 404 or 405 when nothing takes it. */
static void dispatch(struct http_server *srv, struct http_request *req, struct http_response *resp)
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
			r->handler(srv->ctx, req, resp);
			return;
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
		http_reply_error(resp, 405, "method %s not allowed on %s", req->method, req->path);
		resp->allow = allow;
	} else {
		http_reply_error(resp, 404, "no such endpoint");
	}
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct http_server *srv = cls;
	struct request_state *rs = *con_cls;
	struct http_request req;
	struct http_response resp = { 0 };
	enum MHD_Result ret;

	(void)version;
	if (rs == NULL) {
		rs = calloc(1, sizeof(*rs));
		if (rs == NULL)
			return MHD_NO;
		*con_cls = rs;
		if (declared_too_large(conn)) {
			rs->answered = true;
			return send_error(conn, 413, "request body larger than 1 MiB");
		}
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
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
	dispatch(srv, &req, &resp);
	log_debug("http: %s %s -> %u", method, url, resp.status);
	ret = send_response(conn, &resp);
	return ret;
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

static int resolve(const char *host, unsigned port, struct sockaddr_storage *ss, char *err,
		   size_t errlen)
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
	freeaddrinfo(res);
	return 0;
}

struct http_server *http_server_start(struct event_base *base, const char *host, unsigned port,
				      const struct http_route *routes, void *ctx, char *err,
				      size_t errlen)
{
	struct http_server *srv;
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;

	if (resolve(host, port, &ss, err, errlen) != 0)
		return NULL;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	srv->routes = routes;
	srv->ctx = ctx;
	srv->mhd = MHD_start_daemon(
	    flags, (uint16_t)port, NULL, NULL, on_request, srv, MHD_OPTION_SOCK_ADDR,
	    (struct sockaddr *)&ss, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv, MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)15, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536,
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_END);
	if (srv->mhd == NULL) {
		snprintf(err, errlen, "cannot listen on %s:%u: %s", host, port,
			 errno != 0 ? strerror(errno) : "libmicrohttpd refused to start");
		free(srv);
		return NULL;
	}
	info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info != NULL ? info->port : port;
	info = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	srv->ready = event_new(base, info->epoll_fd, EV_READ | EV_PERSIST, on_ready, srv);
	srv->timer = evtimer_new(base, on_ready, srv);
	if (srv->ready == NULL || srv->timer == NULL || event_add(srv->ready, NULL) != 0) {
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

void http_server_free(struct http_server *srv)
{
	if (srv == NULL)
		return;
	if (srv->ready != NULL)
		event_free(srv->ready);
	if (srv->timer != NULL)
		event_free(srv->timer);
	if (srv->mhd != NULL)
		MHD_stop_daemon(srv->mhd);
	free(srv);
}
