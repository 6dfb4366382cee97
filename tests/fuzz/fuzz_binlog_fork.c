/*
 * fuzz_binlog_fork.c - reading a file in pieces against reading it whole,
 * on arbitrary bytes (a binlog file; the magic is added when missing).
 *
 * One reader reads the input in place and notes, for every event it hands
 * back, its offset and a digest of the event and of its rows rendered as
 * JSON, then its final result.  A skimming reader walks the same input and,
 * at some event boundaries (chosen by the input's first byte), forks; each
 * fork reads the rest in place.  A fork made where the whole reader also
 * passed must hand back exactly the events the whole reader handed back
 * from there, with the same rows, and end with the same result at the same
 * offset.  Any difference aborts.
 */
#include "ringwatch/binlog_reader.h"
#include "ringwatch/row_decode.h"
#include "ringwatch/value.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct seen {
	int64_t pos;
	uint64_t digest;
} seen;

typedef struct walk {
	seen *ev;
	size_t n, cap;
	int rc;
	int64_t err_offset;
} walk;

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

/* What identifies an event here: header, positions, and its rows as JSON. */
static uint64_t digest(const binlog_event *ev, value_datum *a, value_datum *b, rw_buf *out)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	row_iter it;
	rw_error err;
	int rc;

	h = fnv(h, &ev->hdr.type, sizeof(ev->hdr.type));
	h = fnv(h, &ev->position, sizeof(ev->position));
	h = fnv(h, &ev->next_position, sizeof(ev->next_position));
	h = fnv(h, &ev->in_payload, sizeof(ev->in_payload));
	if (!binlog_event_is_rows(ev->hdr.type))
		return h;
	if (row_iter_init(&it, &ev->u.rows, &err) < 0)
		return fnv(h, "no table", 8);
	rw_buf_reset(out);
	while ((rc = row_iter_next(&it, a, b, &err)) == 1)
		for (uint32_t i = 0; i < ev->u.rows.ncols; i++)
			if (value_to_json(&a[i], out, &err) < 0 ||
			    value_to_json(&b[i], out, &err) < 0)
				rw_buf_puts(out, "!");
	if (rc < 0)
		rw_buf_printf(out, "error %d at %lld", rc, (long long)err.offset);
	return fnv(h, out->p ? out->p : "", out->len);
}

/* Read buf with r to its end, noting every event. */
static void walk_all(binlog_reader *r, const uint8_t *buf, size_t len, walk *w, value_datum *a,
		     value_datum *b, rw_buf *out)
{
	binlog_event ev;
	rw_error err;
	int rc = binlog_reader_feed_ref(r, buf, len, &err);

	while (rc == 0 && (rc = binlog_reader_next(r, &ev, &err)) == 1) {
		if (w->n == w->cap) {
			size_t cap = w->cap ? 2 * w->cap : 64;
			seen *p = realloc(w->ev, cap * sizeof(*p));

			if (p == NULL)
				abort();
			w->ev = p;
			w->cap = cap;
		}
		w->ev[w->n].pos = ev.position;
		w->ev[w->n].digest = digest(&ev, a, b, out);
		w->n++;
		rc = 0;
	}
	if (rc == 0)
		rc = binlog_reader_finish(r, &err);
	w->rc = rc;
	w->err_offset = rc < 0 ? err.offset : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t magic[4] = { 0xfe, 0x62, 0x69, 0x6e };
	int has_magic = size >= 4 && memcmp(data, magic, 4) == 0;
	size_t len = size + (has_magic ? 0 : 4);
	uint8_t *buf = malloc(len ? len : 1);
	value_datum *a = calloc(BINLOG_MAX_COLUMNS, sizeof(*a));
	value_datum *b = calloc(BINLOG_MAX_COLUMNS, sizeof(*b));
	binlog_reader *whole = binlog_reader_new(BINLOG_READER_FILE);
	binlog_reader *skim = binlog_reader_new(BINLOG_READER_FILE);
	unsigned every = size > 0 ? 1 + data[size - 1] % 4 : 1; /* fork at every k-th boundary */
	rw_buf out = RW_BUF_INIT;
	walk w = { 0 };
	binlog_event ev;
	rw_error err;
	size_t i = 0, k = 0;
	int rc;

	if (buf == NULL || a == NULL || b == NULL || whole == NULL || skim == NULL)
		goto done;
	memcpy(buf, magic, 4);
	memcpy(buf + (has_magic ? 0 : 4), data, size);
	binlog_reader_set_limit(whole, 16u << 20);
	binlog_reader_set_limit(skim, 16u << 20);
	walk_all(whole, buf, len, &w, a, b, &out);

	binlog_reader_set_skim(skim, 1);
	rc = binlog_reader_feed_ref(skim, buf, len, &err);
	while (rc == 0) {
		int64_t at = binlog_reader_position(skim);

		/* the whole reader's event i starts here, if it got this far */
		while (i < w.n && w.ev[i].pos < at)
			i++;
		if (i < w.n && w.ev[i].pos == at && binlog_reader_peek_type(skim) >= 0 &&
		    k++ % every == 0) {
			binlog_reader *f = binlog_reader_fork(skim, &err);
			walk fw = { 0 };

			if (f == NULL)
				abort(); /* not failed, not in a payload: a fork must be made */
			walk_all(f, buf + at, len - (size_t)at, &fw, a, b, &out);
			if (fw.n != w.n - i || fw.rc != w.rc || fw.err_offset != w.err_offset)
				abort();
			for (size_t j = 0; j < fw.n; j++)
				if (fw.ev[j].pos != w.ev[i + j].pos ||
				    fw.ev[j].digest != w.ev[i + j].digest)
					abort();
			free(fw.ev);
			binlog_reader_free(f);
		}
		if (binlog_reader_next(skim, &ev, &err) != 1)
			break;
	}
done:
	rw_buf_free(&out);
	free(w.ev);
	binlog_reader_free(whole);
	binlog_reader_free(skim);
	free(a);
	free(b);
	free(buf);
	return 0;
}
