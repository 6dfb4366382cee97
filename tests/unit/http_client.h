/*
 * http_client.h - one HTTP request on a fresh loopback connection, for the
 * tests of the HTTP server and of the API.
 */
#ifndef RINGWATCH_TESTS_HTTP_CLIENT_H
#define RINGWATCH_TESTS_HTTP_CLIENT_H

#include <arpa/inet.h>
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

#endif
