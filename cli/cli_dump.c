/*
 * cli_dump.c - `ringwatch dump FILE...`: the library's binlog reader over
 * files, one JSON object per event on stdout (dump_render.c renders them):
 * large files are cut into pieces rendered by worker threads.
 */
#include "build_config.h"

#include "cli_dump.h"
#include "dump_render.h"

#include "ringwatch/binlog_reader.h"
#include "ringwatch/rw_buf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
	DUMP_OK = 0,
	DUMP_DAMAGED = 1,
	DUMP_USAGE = 2
};

/* A file could not be read or standard output written (dump's own rw_error code). */
#define DUMP_E_IO (-100)

/*
 * Reading a file.  A regular file is mapped and read in place.  When it is
 * large and there is more than one cpu, it is cut into pieces at event
 * boundaries by a skimming reader, which hands each piece a fork of its
 * state (format description, table maps) and the transaction (GTID) it is
 * in; worker threads render the pieces and the main thread writes them out
 * in order.  What a piece prints is what one reader over the whole file
 * prints for those events.
 * A damaged piece is written up to its damage, then the error, then nothing
 * after it.  Other inputs (pipes) are read in chunks by one reader.
 */

#define DUMP_FLUSH       (1u << 20) /* write the main thread's lines out from this size */
#define DUMP_SEGMENT     (1u << 20) /* default input bytes a piece */
#define DUMP_MAX_THREADS 64

typedef struct dump_opts {
	int threads;     /* renderers; 1: the main thread alone */
	size_t seg_size; /* input bytes a piece at least */
} dump_opts;

typedef struct dump_seg {
	int64_t start, end; /* file offsets */
	binlog_reader *r;   /* in the state at start */
	dump_trx trx;       /* the transaction at start */
	int last;           /* the file ends with it: an event cut short is damage */
	rw_buf out;
	int rc;
	rw_error err;
	int done;
	struct dump_seg *next; /* in the order of the file */
} dump_seg;

typedef struct dump_pool {
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	const uint8_t *map;
	dump_seg *todo; /* the next piece for a worker, in the list of pieces */
	int stop;
} dump_pool;

/* Write all of b to standard output; -1 (errno set) on a write error. */
static int dump_write(rw_buf *b)
{
	size_t off = 0;

	while (off < b->len) {
		ssize_t n = write(STDOUT_FILENO, b->p + off, b->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		off += (size_t)n;
	}
	rw_buf_reset(b);
	return 0;
}

/*
 * Render every event r hands back from what it was fed into st->line; flush:
 * write the lines out as they pile up (else they stay for the caller).
 * last: the input ends here, so an event cut short is an error.
 */
static int dump_run(dump_state *st, binlog_reader *r, int last, int flush, rw_error *err)
{
	binlog_event ev;
	int rc = 0;

	while (rc == 0 && (rc = binlog_reader_next(r, &ev, err)) == 1) {
		rc = dump_event(st, &ev, err);
		if (rc == 0 && flush && st->line->len >= DUMP_FLUSH && dump_write(st->line) < 0)
			rc = rw_error_set(err, DUMP_E_IO, ev.next_position, "write error: %s",
					  strerror(errno));
	}
	if (rc == 0 && last)
		rc = binlog_reader_finish(r, err);
	return rc;
}

/* Render piece s of the file at map into s->out with renderer st. */
static void dump_render(dump_state *st, const uint8_t *map, dump_seg *s)
{
	rw_buf *line = st->line;

	rw_error_clear(&s->err);
	st->line = &s->out;
	st->trx = s->trx;
	s->rc = binlog_reader_feed_ref(s->r, map + s->start, (size_t)(s->end - s->start), &s->err);
	if (s->rc == 0)
		s->rc = dump_run(st, s->r, s->last, 0, &s->err);
	st->line = line;
	binlog_reader_free(s->r);
	s->r = NULL;
}

static void *dump_worker(void *arg)
{
	dump_pool *pool = arg;
	dump_state st;
	rw_buf none = RW_BUF_INIT;
	int ok = dump_state_init(&st, &none) == 0;

	pthread_mutex_lock(&pool->mu);
	for (;;) {
		dump_seg *s;

		while (!pool->stop && pool->todo == NULL)
			pthread_cond_wait(&pool->work, &pool->mu);
		if (pool->stop)
			break;
		s = pool->todo;
		pool->todo = s->next;
		pthread_mutex_unlock(&pool->mu);

		if (ok)
			dump_render(&st, pool->map, s);
		else
			s->rc = rw_error_set(&s->err, RW_E_NOMEM, s->start, "out of memory");

		pthread_mutex_lock(&pool->mu);
		s->done = 1;
		pthread_cond_broadcast(&pool->done);
	}
	pthread_mutex_unlock(&pool->mu);
	dump_state_free(&st);
	return NULL;
}

static void dump_seg_free_list(dump_seg *s)
{
	while (s != NULL) {
		dump_seg *next = s->next;

		binlog_reader_free(s->r);
		rw_buf_free(&s->out);
		free(s);
		s = next;
	}
}

/*
 * The next piece from the skimming reader: from *start to the first event
 * boundary at least seg_size bytes on (or to the end of the file); *r is the
 * reader for it and becomes the one for the piece after; *trx follows the
 * transactions the skimming reader passes.
 */
static dump_seg *dump_cut(binlog_reader *skim, binlog_reader **r, dump_trx *trx, int64_t *start,
			  int64_t size, size_t seg_size, dump_seg **spare)
{
	dump_seg *s = *spare;
	binlog_event ev;
	rw_error err;

	if (s != NULL) { /* a piece written already: its buffer is kept */
		rw_buf out = s->out;

		*spare = s->next;
		memset(s, 0, sizeof(*s));
		s->out = out;
		rw_buf_reset(&s->out);
	} else if ((s = calloc(1, sizeof(*s))) == NULL) {
		return NULL;
	}
	s->start = *start;
	s->r = *r;
	s->trx = *trx;
	s->end = size;
	*r = NULL;
	for (;;) {
		int64_t at = binlog_reader_position(skim);

		/* not inside a TRANSACTION_PAYLOAD: peek says -1 there */
		if (at - s->start >= (int64_t)seg_size && binlog_reader_peek_type(skim) >= 0 &&
		    (*r = binlog_reader_fork(skim, &err)) != NULL) {
			s->end = at;
			break;
		}
		/* the end, or damage: the rest is one piece, whose reader finds it */
		if (binlog_reader_next(skim, &ev, &err) != 1) {
			s->last = 1;
			break;
		}
		dump_track_gtid(trx, &ev);
		dump_end_trx(trx, &ev);
	}
	*start = s->end;
	return s;
}

/*
 * The pieces of a mapped file, rendered by `threads` workers (or by st in
 * this thread when threads is 1), written in order.
 */
static int dump_pieces(dump_state *st, const uint8_t *map, int64_t size, int threads,
		       size_t seg_size, rw_error *err)
{
	dump_pool pool = { .map = map };
	pthread_t tid[DUMP_MAX_THREADS];
	binlog_reader *skim = binlog_reader_new(BINLOG_READER_FILE);
	binlog_reader *r = binlog_reader_new(BINLOG_READER_FILE);
	dump_seg *head = NULL, *tail = NULL, *spare = NULL;
	dump_trx trx = { "", 0 };
	rw_error cut_err;
	int64_t start = 0;
	int cut_rc = 0;
	int nthreads = 0, inflight = 0, max_inflight = threads > 1 ? 2 * threads + 2 : 1, rc = 0;
	long pagesize = sysconf(_SC_PAGESIZE);
	uintptr_t page = pagesize > 0 ? (uintptr_t)pagesize : 4096;

	pthread_mutex_init(&pool.mu, NULL);
	pthread_cond_init(&pool.work, NULL);
	pthread_cond_init(&pool.done, NULL);
	if (skim == NULL || r == NULL || binlog_reader_feed_ref(skim, map, (size_t)size, err) < 0)
		rc = rw_error_set(err, RW_E_NOMEM, 0, "out of memory");
	else
		binlog_reader_set_skim(skim, 1);
	for (; rc == 0 && threads > 1 && nthreads < threads; nthreads++)
		if (pthread_create(&tid[nthreads], NULL, dump_worker, &pool) != 0)
			break;

	while (rc == 0) {
		dump_seg *s;

		/* cut pieces ahead, as many as may wait in memory */
		while (inflight < max_inflight && r != NULL) {
			s = dump_cut(skim, &r, &trx, &start, size, seg_size, &spare);
			if (s == NULL) { /* the pieces cut so far are written first */
				cut_rc = rw_error_set(&cut_err, RW_E_NOMEM, start, "out of memory");
				binlog_reader_free(r);
				r = NULL;
				break;
			}
			if (nthreads == 0) { /* no workers: render it here */
				dump_render(st, map, s);
				s->done = 1;
			}
			pthread_mutex_lock(&pool.mu);
			if (tail != NULL)
				tail->next = s;
			else
				head = s;
			tail = s;
			if (pool.todo == NULL)
				pool.todo = s;
			inflight++;
			pthread_cond_signal(&pool.work);
			pthread_mutex_unlock(&pool.mu);
		}
		if (head == NULL) {
			if (cut_rc < 0) {
				rc = cut_rc;
				*err = cut_err;
			}
			break;
		}
		/* write the oldest piece when it is done */
		pthread_mutex_lock(&pool.mu);
		while (!head->done)
			pthread_cond_wait(&pool.done, &pool.mu);
		s = head;
		head = s->next;
		if (head == NULL)
			tail = NULL;
		pthread_mutex_unlock(&pool.mu);
		inflight--;
		if (dump_write(&s->out) < 0)
			rc = rw_error_set(err, DUMP_E_IO, s->start, "write error: %s",
					  strerror(errno));
		else if (s->rc < 0) {
			rc = s->rc;
			*err = s->err;
		}
		/* what is written is not needed again: let the kernel drop its pages */
		madvise((void *)((uintptr_t)(map + s->start) & ~(page - 1)),
			(size_t)(s->end - s->start), MADV_DONTNEED);
		s->next = spare; /* its output buffer serves a later piece */
		spare = s;
	}

	pthread_mutex_lock(&pool.mu);
	pool.stop = 1;
	pthread_cond_broadcast(&pool.work);
	pthread_mutex_unlock(&pool.mu);
	for (int i = 0; i < nthreads; i++)
		pthread_join(tid[i], NULL);
	dump_seg_free_list(head); /* pieces after an error: rendered or not, dropped */
	dump_seg_free_list(spare);
	binlog_reader_free(r);
	binlog_reader_free(skim);
	pthread_cond_destroy(&pool.done);
	pthread_cond_destroy(&pool.work);
	pthread_mutex_destroy(&pool.mu);
	return rc;
}

/* A file that cannot be mapped (a pipe): read in chunks by one reader. */
static int dump_stream(dump_state *st, int fd, uint64_t *size, rw_error *err)
{
	binlog_reader *r = binlog_reader_new(BINLOG_READER_FILE);
	uint8_t *chunk = malloc(DUMP_SEGMENT);
	int rc = 0;

	*size = 0;
	if (r == NULL || chunk == NULL)
		rc = rw_error_set(err, RW_E_NOMEM, 0, "out of memory");
	while (rc == 0) {
		ssize_t n = read(fd, chunk, DUMP_SEGMENT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = rw_error_set(err, DUMP_E_IO, binlog_reader_position(r),
					  "read error: %s", strerror(errno));
		else if (n == 0)
			rc = binlog_reader_finish(r, err);
		else
			rc = binlog_reader_feed(r, chunk, (size_t)n, err);
		*size += n > 0 ? (uint64_t)n : 0;
		if (rc < 0 || n == 0)
			break;
		rc = dump_run(st, r, 0, 1, err);
	}
	binlog_reader_free(r);
	free(chunk);
	return rc;
}

/* The file on fd as JSON lines; *size: its bytes. */
static int dump_fd(dump_state *st, int fd, const dump_opts *o, uint64_t *size, rw_error *err)
{
	struct stat sb;
	uint8_t *map;
	int rc;

	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size == 0 ||
	    (map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		rc = dump_stream(st, fd, size, err);
		/* the lines not written yet, those before any damage included */
		if (dump_write(st->line) < 0 && rc == 0)
			rc = rw_error_set(err, DUMP_E_IO, 0, "write error: %s", strerror(errno));
		return rc;
	}
	*size = (uint64_t)sb.st_size;
	madvise(map, (size_t)sb.st_size, MADV_SEQUENTIAL);
	rc = dump_pieces(st, map, sb.st_size,
			 (uint64_t)sb.st_size >= 2 * (uint64_t)o->seg_size ? o->threads : 1,
			 o->seg_size, err);
	munmap(map, (size_t)sb.st_size);
	return rc;
}

static int dump_file(dump_state *st, const char *path, const dump_opts *o)
{
	uint64_t size = 0;
	rw_error err;
	int fd = open(path, O_RDONLY);
	int rc;

	if (fd < 0) {
		fprintf(stderr, "ringwatch dump: %s: %s\n", path, strerror(errno));
		return DUMP_USAGE;
	}
	rw_error_clear(&err);
	memset(&st->trx, 0, sizeof(st->trx));
	rc = dump_fd(st, fd, o, &size, &err);
	close(fd);
	if (rc == 0 && size <= 4 /* the magic fe 62 69 6e */) {
		/* nothing to show is no success: a binlog starts with events */
		fprintf(stderr, "ringwatch dump: %s: %s\n", path,
			size == 0 ? "empty: no binlog in it"
				  : "no event in it, only the binlog's magic number");
		return DUMP_DAMAGED;
	}
	if (rc == 0)
		return DUMP_OK;
	if (rc == DUMP_E_IO) {
		fprintf(stderr, "ringwatch dump: %s: %s\n", path, err.text);
		return DUMP_USAGE;
	}
	fprintf(stderr, "ringwatch dump: %s: %s at offset %" PRId64 ": %s\n", path,
		rw_error_name(rc), err.offset, err.text);
	return DUMP_DAMAGED;
}

static int dump_usage(FILE *f, int rc)
{
	fprintf(f, "usage: ringwatch dump [--threads N] [--segment-size BYTES] FILE...\n");
	return rc;
}

/* A count option's value: 1 to max. */
static int dump_count(const char *opt, const char *v, unsigned long long max,
		      unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = v != NULL ? strtoull(v, &end, 10) : 0;
	if (v == NULL || errno != 0 || *end != '\0' || v[0] == '-' || *out < 1 || *out > max) {
		fprintf(stderr, "ringwatch dump: %s needs a number from 1 to %llu\n", opt, max);
		return -1;
	}
	return 0;
}

int cli_dump(int argc, char **argv)
{
	dump_state st;
	rw_buf line = RW_BUF_INIT;
	dump_opts o;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int worst = DUMP_OK, i;

	o.threads = ncpu < 1 ? 1 : ncpu > 8 ? 8 : (int)ncpu;
	o.seg_size = DUMP_SEGMENT;
	/* options, each with its value in the next argument */
	for (i = 1; i < argc && argv[i][0] == '-'; i += 2) {
		unsigned long long v;

		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return dump_usage(stdout, DUMP_OK);
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "--threads") == 0) {
			if (dump_count("--threads", argv[i + 1], DUMP_MAX_THREADS, &v) < 0)
				return DUMP_USAGE;
			o.threads = (int)v;
		} else if (strcmp(argv[i], "--segment-size") == 0) {
			if (dump_count("--segment-size", argv[i + 1], 1ULL << 40, &v) < 0)
				return DUMP_USAGE;
			o.seg_size = (size_t)v;
		} else {
			fprintf(stderr, "ringwatch dump: unknown option %s\n", argv[i]);
			return dump_usage(stderr, DUMP_USAGE);
		}
	}
	if (i >= argc)
		return dump_usage(stderr, DUMP_USAGE);
	if (dump_state_init(&st, &line) < 0) {
		fprintf(stderr, "ringwatch dump: out of memory\n");
		dump_state_free(&st);
		return DUMP_USAGE;
	}
	for (; i < argc; i++) {
		int rc = dump_file(&st, argv[i], &o);

		worst = rc > worst ? rc : worst;
	}
	rw_buf_free(&line);
	dump_state_free(&st);
	return worst;
}
