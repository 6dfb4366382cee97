/*
 * notify_listen.c - stand in for systemd's notification socket in tests.
 *
 * usage: notify_listen SOCKET_PATH OUTPUT_FILE
 * Binds a unix datagram socket at SOCKET_PATH and appends every message it
 * receives to OUTPUT_FILE as one line (newlines inside become spaces), until
 * killed.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sa;
	char buf[4096];
	int fd;

	if (argc != 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: notify_listen SOCKET_PATH OUTPUT_FILE\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, argv[1]);
	unlink(argv[1]);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("notify_listen");
		return 1;
	}
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
		FILE *out;
		if (n < 0)
			continue;
		buf[n] = '\0';
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n')
				buf[i] = ' ';
		}
		out = fopen(argv[2], "a");
		if (out == NULL)
			return 1;
		fprintf(out, "%s\n", buf);
		fclose(out);
	}
}
