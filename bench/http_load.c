/*
 * http_load.c - a closed-loop HTTP load: CONNS threads, each sending a GET
 * (one request a connection, as ringwatchd closes every answer's
 * connection) to the PATHs in turn for SECONDS, reading each whole answer.
 *
 * usage: http_load [-c CONNS] [-d SECONDS] HOST PORT PATH...
 *
 * SIGINT or SIGTERM ends it early, with the figures so far.
 * Prints one line per path, key=value words:
 *   path=/metrics requests=N not_200=N rps=N p50_ms=X p99_ms=X max_ms=X
 * Exits 0, or 2 on a usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PATHS   8
#define MAX_SAMPLES 4000000

struct path {
	const char *path;
	double *ms; /* latencies, shared by the threads under mu */
	size_t n;
	size_t not_200;
};

static struct path paths[MAX_PATHS];
static size_t n_paths;
static struct sockaddr_in addr;
static double deadline;
static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One request: its status code, or 0 when the connection failed. */
static int request(const char *path)
{
	char buf[65536], head[13];
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, status = 0;
	size_t got = 0;
	ssize_t n;
	int len;

	if (fd < 0)
		return 0;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
		close(fd);
		return 0;
	}
	len = snprintf(buf, sizeof(buf),
		       "GET %s HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n", path);
	if (write(fd, buf, (size_t)len) != len) {
		close(fd);
		return 0;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		/* "HTTP/1.1 200": the status from the first 12 bytes */
		size_t take = got < 12 ? 12 - got : 0;
		if (take > (size_t)n)
			take = (size_t)n;
		memcpy(head + got, buf, take);
		got += take;
	}
	head[got] = '\0';
	if (got == 12)
		status = atoi(head + 9);
	close(fd);
	return status;
}

static void *worker(void *arg)
{
	size_t k = (size_t)(uintptr_t)arg;

	while (!stopping && now() < deadline) {
		struct path *p = &paths[k++ % n_paths];
		double t0 = now();
		int status = request(p->path);
		double ms = (now() - t0) * 1e3;

		pthread_mutex_lock(&mu);
		if (p->n < MAX_SAMPLES)
			p->ms[p->n++] = ms;
		p->not_200 += status != 200;
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int conns = 16, opt;
	double seconds = 10;
	pthread_t *t;
	struct sigaction sa = { 0 };
	double started;

	while ((opt = getopt(argc, argv, "c:d:")) != -1) {
		if (opt == 'c')
			conns = atoi(optarg);
		else if (opt == 'd')
			seconds = atof(optarg);
		else
			return 2;
	}
	if (argc - optind < 3 || conns < 1 || seconds <= 0 || argc - optind - 2 > MAX_PATHS) {
		fprintf(stderr, "usage: http_load [-c CONNS] [-d SECONDS] HOST PORT PATH...\n");
		return 2;
	}
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)atoi(argv[optind + 1]));
	if (inet_pton(AF_INET, argv[optind], &addr.sin_addr) != 1) {
		fprintf(stderr, "http_load: %s is no IPv4 address\n", argv[optind]);
		return 2;
	}
	for (int i = optind + 2; i < argc; i++) {
		paths[n_paths].path = argv[i];
		paths[n_paths].ms = malloc(MAX_SAMPLES * sizeof(double));
		if (paths[n_paths].ms == NULL)
			return 1;
		n_paths++;
	}
	t = calloc((size_t)conns, sizeof(*t));
	if (t == NULL)
		return 1;
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	started = now();
	deadline = started + seconds;
	for (int i = 0; i < conns; i++)
		pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i);
	for (int i = 0; i < conns; i++)
		pthread_join(t[i], NULL);
	seconds = now() - started;
	for (size_t i = 0; i < n_paths; i++) {
		struct path *p = &paths[i];
		qsort(p->ms, p->n, sizeof(double), cmp);
		printf("path=%s requests=%zu not_200=%zu rps=%.0f p50_ms=%.2f p99_ms=%.2f "
		       "max_ms=%.2f\n",
		       p->path, p->n, p->not_200, (double)p->n / seconds,
		       p->n ? p->ms[p->n / 2] : 0, p->n ? p->ms[p->n * 99 / 100] : 0,
		       p->n ? p->ms[p->n - 1] : 0);
		free(p->ms);
	}
	free(t);
	return 0;
}
