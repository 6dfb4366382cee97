/*
 * http_crowd.c - a crowd and a slow loris against an HTTP server, while two
 * well-behaved clients time their answers.
 *
 * usage: http_crowd [-c CROWD] [-s SLOW] [-d SECONDS] [-l LIMIT] HOST PORT
 *
 * For SECONDS (default 20): SLOW connections (default 300) that send nothing
 * (a third of them), a request head one byte a second (a third), or a whole
 * head and then a body one byte a second (a third), each opened again
 * whenever the server closes it; CROWD connections (default
 * 1000, from the second second on) that each GET /metrics or /v1/status,
 * read the whole answer and start over on a new connection; a scraper that
 * GETs /metrics once a second and a poller that GETs /v1/gate ten times a
 * second, each request on a new connection.
 *
 * Prints one line per kind of client, key=value words:
 *   scrape sent=N answered=N late=N max=SECONDS
 *   gate sent=N answered=N late=N max=SECONDS
 *   crowd answered=N refused=N cut=N max=SECONDS
 *   slow opened=N idle_closed=N trickle_closed=N body_closed=N
 * answered: a status line came back (200 for the scrape and the crowd, 200
 * or 503 for the gate); late: the whole answer took longer than LIMIT
 * seconds (default 1); refused: an answer other than 200; cut: the
 * connection ended without a status line; idle_closed, trickle_closed,
 * body_closed: how often the server closed a silent connection, one
 * trickling its head, one trickling its body.  Exits 0 when every scrape and
 * gate request was answered within LIMIT, 1 otherwise, 2 on a usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum conn_kind {
	CROWD,
	IDLE,    /* connects and sends nothing */
	TRICKLE, /* sends a head one byte a second */
	BODY,    /* sends a head, then its body one byte a second */
};

struct conn {
	int fd;
	enum conn_kind kind;
	bool connected;
	const char *out; /* what is left to send now */
	size_t out_len;
	char head[16]; /* the answer's first bytes */
	size_t head_len;
	double started;
	double next_byte; /* TRICKLE: when to send the next byte */
};

struct probe {
	const char *name;
	const char *path;
	double interval;
	unsigned sent, answered, late;
	double max;
};

static struct sockaddr_in server;
static double limit = 1.0;
static double end_at;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
	double d = t - now();
	struct timespec ts;

	if (d <= 0)
		return;
	ts.tv_sec = (time_t)d;
	ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

/* One GET on a new blocking connection; the status code, or 0 when none came. */
static int get_once(const char *path)
{
	struct timeval tv = { .tv_sec = 10 };
	char req[256], buf[4096], head[16] = "";
	size_t got = 0;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int len, status = 0;

	if (fd < 0)
		return 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		       path);
	if (connect(fd, (struct sockaddr *)&server, sizeof(server)) != 0 ||
	    write(fd, req, (size_t)len) != len) {
		close(fd);
		return 0;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n && got + 1 < sizeof(head); i++)
			head[got++] = buf[i];
	}
	close(fd);
	if (n == 0 && strncmp(head, "HTTP/1.1 ", 9) == 0)
		status = atoi(head + 9);
	return status;
}

static void *probe_main(void *arg)
{
	struct probe *p = arg;
	double next = now();

	while (next < end_at) {
		double t0, took;
		int status;

		sleep_until(next);
		next += p->interval;
		t0 = now();
		status = get_once(p->path);
		took = now() - t0;
		p->sent++;
		if (status == 200 || (status == 503 && strcmp(p->name, "gate") == 0))
			p->answered++;
		else
			fprintf(stderr, "%s: status %d after %.3f s\n", p->name, status, took);
		if (took > limit)
			p->late++;
		if (took > p->max)
			p->max = took;
	}
	return NULL;
}

/* The crowd's and the slow connections' side, on one epoll loop. */
struct crowd {
	int ep;
	struct conn *conns;
	size_t n_crowd, n_slow;
	unsigned long answered, refused, cut, opened, idle_closed, trickle_closed, body_closed;
	double max;
};

static const char *const crowd_reqs[] = {
	"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	"GET /v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
};
static const char trickle_head[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ";
static const char body_head[] = "POST /v1/ddl/check HTTP/1.1\r\nHost: x\r\n"
				"Content-Length: 100000\r\n\r\n";

static void conn_open(struct crowd *cr, struct conn *c)
{
	static unsigned turn;
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	c->connected = false;
	c->head_len = 0;
	c->started = now();
	if (c->kind == CROWD)
		c->out = crowd_reqs[turn++ % 2];
	else if (c->kind == TRICKLE)
		c->out = trickle_head;
	else if (c->kind == BODY)
		c->out = body_head;
	else
		c->out = "";
	c->out_len = strlen(c->out);
	c->next_byte = c->started + 1;
	if (c->fd < 0) {
		perror("socket");
		exit(2);
	}
	if (connect(c->fd, (struct sockaddr *)&server, sizeof(server)) != 0 &&
	    errno != EINPROGRESS) {
		perror("connect");
		exit(2);
	}
	if (c->kind != CROWD)
		cr->opened++;
	epoll_ctl(cr->ep, EPOLL_CTL_ADD, c->fd, &ev);
}

/* The connection ended: count it and open it again. */
static void conn_ended(struct crowd *cr, struct conn *c)
{
	double took = now() - c->started;

	epoll_ctl(cr->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->kind == IDLE) {
		cr->idle_closed++;
	} else if (c->kind == TRICKLE) {
		cr->trickle_closed++;
	} else if (c->kind == BODY) {
		cr->body_closed++;
	} else if (c->head_len >= 12 && strncmp(c->head, "HTTP/1.1 200", 12) == 0) {
		cr->answered++;
		if (took > cr->max)
			cr->max = took;
	} else if (c->head_len > 0) {
		cr->refused++;
	} else {
		cr->cut++;
	}
	conn_open(cr, c);
}

static void conn_write(struct crowd *cr, struct conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	ssize_t n = c->out_len > 0 ? write(c->fd, c->out, c->out_len) : 0;

	if (n < 0 && errno != EAGAIN) {
		conn_ended(cr, c);
		return;
	}
	if (n > 0) {
		c->out += n;
		c->out_len -= (size_t)n;
	}
	if (c->out_len == 0)
		epoll_ctl(cr->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_event(struct crowd *cr, struct conn *c, uint32_t events)
{
	char buf[8192];
	ssize_t n;

	if (!c->connected) {
		int err = 0;
		socklen_t len = sizeof(err);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err != 0) {
			conn_ended(cr, c);
			return;
		}
		c->connected = true;
	}
	if (events & EPOLLOUT) {
		conn_write(cr, c);
		return;
	}
	while ((n = read(c->fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n && c->head_len < sizeof(c->head); i++)
			c->head[c->head_len++] = buf[i];
	}
	if (n == 0 || errno != EAGAIN)
		conn_ended(cr, c);
}

/* Each trickling connection whose second has come sends one more byte. */
static void trickle(struct crowd *cr, double t)
{
	for (size_t i = cr->n_crowd; i < cr->n_crowd + cr->n_slow; i++) {
		struct conn *c = &cr->conns[i];
		if ((c->kind != TRICKLE && c->kind != BODY) || !c->connected || c->out_len != 0 ||
		    t < c->next_byte)
			continue;
		c->next_byte = t + 1;
		if (write(c->fd, "a", 1) < 0 && errno != EAGAIN)
			conn_ended(cr, c);
	}
}

static void crowd_run(struct crowd *cr, double crowd_at)
{
	struct epoll_event evs[256];
	bool crowd_started = false;

	for (size_t i = cr->n_crowd; i < cr->n_crowd + cr->n_slow; i++)
		conn_open(cr, &cr->conns[i]);
	while (now() < end_at) {
		int n = epoll_wait(cr->ep, evs, 256, 50);
		double t = now();
		for (int i = 0; i < n; i++)
			conn_event(cr, evs[i].data.ptr, evs[i].events);
		if (!crowd_started && t >= crowd_at) {
			for (size_t i = 0; i < cr->n_crowd; i++)
				conn_open(cr, &cr->conns[i]);
			crowd_started = true;
		}
		trickle(cr, t);
	}
}

static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int usage(void)
{
	fprintf(stderr,
		"usage: http_crowd [-c CROWD] [-s SLOW] [-d SECONDS] [-l LIMIT] HOST PORT\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct probe scrape = { "scrape", "/metrics", 1.0, 0, 0, 0, 0 };
	struct probe gate = { "gate", "/v1/gate", 0.1, 0, 0, 0, 0 };
	struct crowd cr;
	pthread_t th[2];
	double seconds = 20, start;
	long n_crowd = 1000, n_slow = 300;
	int opt;

	while ((opt = getopt(argc, argv, "c:s:d:l:")) != -1) {
		switch (opt) {
		case 'c':
			n_crowd = atol(optarg);
			break;
		case 's':
			n_slow = atol(optarg);
			break;
		case 'd':
			seconds = atof(optarg);
			break;
		case 'l':
			limit = atof(optarg);
			break;
		default:
			return usage();
		}
	}
	if (argc - optind != 2 || n_crowd < 0 || n_slow < 0 || !(seconds > 1))
		return usage();
	memset(&server, 0, sizeof(server));
	server.sin_family = AF_INET;
	server.sin_port = htons((uint16_t)atoi(argv[optind + 1]));
	if (inet_pton(AF_INET, argv[optind], &server.sin_addr) != 1)
		return usage();
	raise_fd_limit();

	memset(&cr, 0, sizeof(cr));
	cr.n_crowd = (size_t)n_crowd;
	cr.n_slow = (size_t)n_slow;
	cr.conns = calloc(cr.n_crowd + cr.n_slow + 1, sizeof(*cr.conns));
	cr.ep = epoll_create1(0);
	if (cr.conns == NULL || cr.ep < 0)
		return 2;
	for (size_t i = 0; i < cr.n_slow; i++)
		cr.conns[cr.n_crowd + i].kind = i % 3 == 0 ? IDLE : i % 3 == 1 ? TRICKLE : BODY;

	start = now();
	end_at = start + seconds;
	if (pthread_create(&th[0], NULL, probe_main, &scrape) != 0 ||
	    pthread_create(&th[1], NULL, probe_main, &gate) != 0)
		return 2;
	crowd_run(&cr, start + 1);
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);

	printf("scrape sent=%u answered=%u late=%u max=%.3f\n", scrape.sent, scrape.answered,
	       scrape.late, scrape.max);
	printf("gate sent=%u answered=%u late=%u max=%.3f\n", gate.sent, gate.answered, gate.late,
	       gate.max);
	printf("crowd answered=%lu refused=%lu cut=%lu max=%.3f\n", cr.answered, cr.refused, cr.cut,
	       cr.max);
	printf("slow opened=%lu idle_closed=%lu trickle_closed=%lu body_closed=%lu\n", cr.opened,
	       cr.idle_closed, cr.trickle_closed, cr.body_closed);
	fflush(stdout);
	for (size_t i = 0; i < cr.n_crowd + cr.n_slow; i++)
		close(cr.conns[i].fd);
	close(cr.ep);
	free(cr.conns);
	return scrape.sent > 0 && gate.sent > 0 && scrape.answered == scrape.sent &&
		       gate.answered == gate.sent && scrape.late == 0 && gate.late == 0
		   ? 0
		   : 1;
}
