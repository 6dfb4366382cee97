/*
 * http_client.h - one HTTP request on a fresh loopback connection, and a
 * client thread run while the event loop serves, for the tests of the HTTP
 * server and of the API.
 */
#ifndef RINGWATCH_TESTS_HTTP_CLIENT_H
#define RINGWATCH_TESTS_HTTP_CLIENT_H

#include <arpa/inet.h>
#include <event2/event.h>
#include <pthread.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

/* Send len bytes of req to 127.0.0.1:port; the answer (possibly cut) into out. */
static inline void http_roundtrip(unsigned port, const char *req, size_t len, char *out,
				  size_t outlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	size_t got = 0;
	ssize_t n;

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	out[0] = '\0';
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (fd >= 0)
			close(fd);
		return;
	}
	(void)!write(fd, req, len);
	shutdown(fd, SHUT_WR);
	while (got + 1 < outlen && (n = read(fd, out + got, outlen - got - 1)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(fd);
}

struct http_client_run {
	void *(*fn)(void *);
	void *arg;
	int fd;
};

static inline void *http_client_thread(void *p)
{
	struct http_client_run *r = p;

	r->fn(r->arg);
	(void)!write(r->fd, "x", 1);
	return NULL;
}

static inline void http_client_done(evutil_socket_t fd, short what, void *base)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(base);
}

/* Run fn(arg) on a thread of its own while base serves; return once fn has
 * returned: 0, or -1 when the thread could not be started. */
static inline int http_serve_while(struct event_base *base, void *(*fn)(void *), void *arg)
{
	struct http_client_run r = { fn, arg, -1 };
	struct event *done = NULL;
	pthread_t th;
	int fds[2], rc = -1;

	if (pipe(fds) != 0)
		return -1;
	r.fd = fds[1];
	done = event_new(base, fds[0], EV_READ, http_client_done, base);
	if (done != NULL && event_add(done, NULL) == 0 &&
	    pthread_create(&th, NULL, http_client_thread, &r) == 0) {
		event_base_dispatch(base);
		pthread_join(th, NULL);
		rc = 0;
	}
	if (done != NULL)
		event_free(done);
	close(fds[0]);
	close(fds[1]);
	return rc;
}

#endif
