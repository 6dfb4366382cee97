/*
 * decode_only.c - the binlog reader and row decoder alone, no output: how
 * many row changes per second one core decodes.
 *
 *	bench/decode_only [-p PASSES] FILE...
 *
 * Every file is read into memory first; then, PASSES times (default 3), each
 * file goes through a fresh FILE-mode reader in 4 MiB feeds (as `ringwatch
 * dump` reads it) and every rows event through row_iter_next(), which
 * decodes every column of every image into rw_values.  Nothing is printed
 * per event.  One line per pass, then the best pass:
 *
 *	pass 1: 1533333 row changes, 16571 events, 124454424 bytes in 0.142 s (cpu 0.141 s)
 *	best: ... row_changes_per_s=10800000 mb_per_s=...
 *
 * Exit 0, 1 when a file is damaged (the reader's error on stderr), 2 on
 * usage or I/O errors.
 */
#include "ringwatch/binlog_reader.h"
#include "ringwatch/row_decode.h"
#include "ringwatch/value.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FEED (4u << 20)

struct file {
	const char *path;
	uint8_t *data;
	size_t len;
};

struct counts {
	uint64_t events, rows_events, changes, bytes;
};

static value_datum before[BINLOG_MAX_COLUMNS], after[BINLOG_MAX_COLUMNS];

static double now(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int load(struct file *f)
{
	FILE *fp = fopen(f->path, "rb");
	size_t cap = 1u << 20, n;

	if (fp == NULL) {
		fprintf(stderr, "decode_only: %s: %s\n", f->path, strerror(errno));
		return -1;
	}
	f->data = malloc(cap);
	f->len = 0;
	while (f->data != NULL && (n = fread(f->data + f->len, 1, cap - f->len, fp)) > 0) {
		f->len += n;
		if (f->len == cap) {
			uint8_t *p = realloc(f->data, cap * 2);

			if (p == NULL)
				free(f->data);
			f->data = p;
			cap *= 2;
		}
	}
	if (f->data == NULL || ferror(fp)) {
		fprintf(stderr, "decode_only: %s: cannot read\n", f->path);
		fclose(fp);
		return -1;
	}
	fclose(fp);
	return 0;
}

/* Every event and every row change of one file; 0 or a negative RW_E_*. */
static int decode(const struct file *f, struct counts *c, rw_error *err)
{
	binlog_reader *r = binlog_reader_new(BINLOG_READER_FILE);
	binlog_event ev;
	int rc = 0;

	if (r == NULL)
		return rw_error_set(err, RW_E_NOMEM, 0, "out of memory");
	for (size_t off = 0; off < f->len && rc == 0; off += FEED) {
		size_t n = f->len - off < FEED ? f->len - off : FEED;

		rc = binlog_reader_feed(r, f->data + off, n, err);
		while (rc == 0 && (rc = binlog_reader_next(r, &ev, err)) == 1) {
			row_iter it;

			rc = 0;
			c->events++;
			if (!binlog_event_is_rows(ev.hdr.type))
				continue;
			c->rows_events++;
			rc = row_iter_init(&it, &ev.u.rows, err);
			while (rc == 0 && (rc = row_iter_next(&it, before, after, err)) == 1) {
				c->changes++;
				rc = 0;
			}
		}
	}
	if (rc == 0)
		rc = binlog_reader_finish(r, err);
	binlog_reader_free(r);
	c->bytes += f->len;
	return rc;
}

int main(int argc, char **argv)
{
	int passes = 3, first = 1;
	struct file *files;
	size_t nfiles;
	double best = 0, best_cpu = 0;
	struct counts bc = { 0 };

	if (argc > 2 && strcmp(argv[1], "-p") == 0) {
		passes = atoi(argv[2]);
		first = 3;
	}
	if (first >= argc || passes < 1) {
		fprintf(stderr, "usage: decode_only [-p PASSES] FILE...\n");
		return 2;
	}
	nfiles = (size_t)(argc - first);
	files = calloc(nfiles, sizeof(*files));
	if (files == NULL)
		return 2;
	for (size_t i = 0; i < nfiles; i++) {
		files[i].path = argv[first + (int)i];
		if (load(&files[i]) < 0)
			return 2;
	}
	for (int p = 1; p <= passes; p++) {
		struct counts c = { 0 };
		double t0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID), t, cpu;

		for (size_t i = 0; i < nfiles; i++) {
			rw_error err;
			int rc;

			rw_error_clear(&err);
			rc = decode(&files[i], &c, &err);
			if (rc < 0) {
				fprintf(stderr, "decode_only: %s: %s at offset %" PRId64 ": %s\n",
					files[i].path, rw_error_name(rc), err.offset, err.text);
				return 1;
			}
		}
		t = now(CLOCK_MONOTONIC) - t0;
		cpu = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
		printf("pass %d: %" PRIu64 " row changes, %" PRIu64 " events (%" PRIu64
		       " rows events), %" PRIu64 " bytes in %.3f s (cpu %.3f s)\n",
		       p, c.changes, c.events, c.rows_events, c.bytes, t, cpu);
		if (p == 1 || t < best) {
			best = t;
			best_cpu = cpu;
			bc = c;
		}
	}
	printf("best: row_changes=%" PRIu64 " events=%" PRIu64 " bytes=%" PRIu64
	       " seconds=%.4f cpu_seconds=%.4f row_changes_per_s=%.0f mb_per_s=%.1f\n",
	       bc.changes, bc.events, bc.bytes, best, best_cpu,
	       best > 0 ? (double)bc.changes / best : 0.0,
	       best > 0 ? (double)bc.bytes / best / 1e6 : 0.0);
	for (size_t i = 0; i < nfiles; i++)
		free(files[i].data);
	free(files);
	return 0;
}
