/*
 * verify_touch.c - the ring of recent row changes (see verify_touch.h).
 *
 * Entries are laid one after the other in one buffer: a header (moment,
 * length, flags) and the key bytes, padded to 8.  An entry never wraps: when
 * it does not fit before the end, the rest of the buffer is left and the
 * entry starts at 0.  The oldest entries are dropped as new ones need their
 * room; `since` is the moment of the newest entry dropped.
 */
#include "ringwatch/verify_touch.h"

#include "ringwatch/verify.h"

#include <stdlib.h>
#include <string.h>

enum {
	TOUCH_ROW = 0,
	TOUCH_TABLE = 1,
	TOUCH_ALL = 2
};

struct entry {
	double at;
	uint64_t trx; /* identity hash, 0 unknown */
	uint64_t pos; /* the transaction's position in the stream */
	uint32_t len; /* key bytes after the header */
	uint16_t flags;
	uint16_t stream;
};

struct verify_touches {
	uint8_t *buf;
	size_t size;
	size_t head;  /* the oldest entry */
	size_t tail;  /* where the next one goes */
	size_t wrap;  /* while wrapped: the end of the older part, [head, wrap) */
	bool wrapped; /* the entries are [head, wrap) then [0, tail) */
	size_t count; /* entries held */
	double since; /* the newest moment dropped */
	double last;  /* the newest moment added */
};

static size_t entry_size(size_t len)
{
	return (sizeof(struct entry) + len + 7) & ~(size_t)7;
}

verify_touches *verify_touches_new(size_t bytes)
{
	verify_touches *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->size = bytes < 4096 ? 4096 : bytes & ~(size_t)7;
	t->buf = malloc(t->size);
	if (t->buf == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

void verify_touches_free(verify_touches *t)
{
	if (t == NULL)
		return;
	free(t->buf);
	free(t);
}

static const struct entry *entry_at(const verify_touches *t, size_t off)
{
	return (const struct entry *)(const void *)(t->buf + off);
}

/* Drop the oldest entry. */
static void drop(verify_touches *t)
{
	const struct entry *e = entry_at(t, t->head);

	if (e->at > t->since)
		t->since = e->at;
	t->head += entry_size(e->len);
	t->count--;
	if (t->wrapped && t->head >= t->wrap) {
		t->head = 0;
		t->wrapped = false;
	}
	if (t->count == 0)
		t->head = t->tail = 0, t->wrapped = false;
}

/* Make room for n bytes at tail, dropping the oldest entries as needed. */
static void make_room(verify_touches *t, size_t n)
{
	for (;;) {
		if (!t->wrapped && t->tail + n <= t->size)
			return;
		if (!t->wrapped) { /* no room before the end: leave it, go on at 0 */
			t->wrap = t->tail;
			t->wrapped = true;
			t->tail = 0;
		}
		if (t->tail + n <= t->head)
			return;
		drop(t);
	}
}

void verify_touches_add(verify_touches *t, double now, unsigned stream, uint64_t trx, uint64_t pos,
			const uint8_t *key, size_t len, bool table_only)
{
	struct entry e;
	size_t n;

	if (len > t->size / 4) /* too long to keep: stands for every table */
		len = 0, table_only = false, key = NULL;
	n = entry_size(len);
	if (now < t->last)
		now = t->last;
	make_room(t, n);
	e.at = now;
	e.trx = trx;
	e.pos = pos;
	e.stream = (uint16_t)stream;
	e.len = (uint32_t)len;
	e.flags = key == NULL ? TOUCH_ALL : table_only ? TOUCH_TABLE : TOUCH_ROW;
	memcpy(t->buf + t->tail, &e, sizeof(e));
	if (len > 0)
		memcpy(t->buf + t->tail + sizeof(e), key, len);
	t->tail += n;
	t->count++;
	t->last = now;
}

void verify_touches_clear(verify_touches *t, double now)
{
	t->head = t->tail = t->wrap = 0;
	t->wrapped = false;
	t->count = 0;
	if (now > t->since)
		t->since = now;
	if (now > t->last)
		t->last = now;
}

double verify_touches_since(const verify_touches *t)
{
	return t->since;
}

static bool entry_touches(const struct entry *e, const uint8_t *key, const verify_touch_query *q)
{
	if (e->flags == TOUCH_ALL)
		return true;
	if (e->len < q->table_len || memcmp(key, q->table, q->table_len) != 0)
		return false;
	if (e->flags == TOUCH_TABLE || e->len == q->table_len)
		return true;
	/* another key form (a row hash) fails to compare: in range */
	if (q->point) {
		int c;
		return verify_key_cmp(key + q->table_len, e->len - q->table_len, q->lo, q->lo_len,
				      q->ordered, q->n, &c) != 0 ||
		       c == 0;
	}
	return verify_key_in_range(key + q->table_len, e->len - q->table_len, q->lo, q->lo_len,
				   q->hi, q->hi_len, q->ordered, q->n);
}

/* Calls fn on every entry, oldest first, until it returns nonzero (its value). */
static int each_entry(const verify_touches *t,
		      int (*fn)(const struct entry *e, const uint8_t *key, void *arg), void *arg)
{
	size_t off = t->head;

	for (size_t i = 0; i < t->count; i++) {
		const struct entry *e;
		int rc;

		if (t->wrapped && off >= t->wrap && off >= t->head)
			off = 0;
		e = entry_at(t, off);
		if ((rc = fn(e, t->buf + off + sizeof(*e), arg)) != 0)
			return rc;
		off += entry_size(e->len);
	}
	return 0;
}

#define MAX_TRX 512 /* transactions in one window looked at one by one */

struct find {
	double from;
	const verify_touch_query *q;
	uint64_t trx[MAX_TRX];
	size_t n;
	/* per transaction looked at: the streams that showed it before their snapshot, after it */
	uint32_t before, after;
	uint64_t one;
};

/* Pass 1: the transactions that touched the chunk in the window (1: count it at once). */
static int gather(const struct entry *e, const uint8_t *key, void *arg)
{
	struct find *f = arg;

	if (e->at < f->from || !entry_touches(e, key, f->q))
		return 0;
	if (f->q->n_streams == 0 || e->flags != TOUCH_ROW || e->trx == 0 ||
	    e->stream >= f->q->n_streams || e->stream >= 32)
		return 1;
	for (size_t i = 0; i < f->n; i++)
		if (f->trx[i] == e->trx)
			return 0;
	if (f->n == MAX_TRX)
		return 1;
	f->trx[f->n++] = e->trx;
	return 0;
}

/* Pass 2: where each stream showed one transaction, against its snapshot. */
static int sides(const struct entry *e, const uint8_t *key, void *arg)
{
	struct find *f = arg;

	(void)key;
	if (e->trx != f->one || e->stream >= f->q->n_streams || e->stream >= 32)
		return 0;
	if (e->pos < f->q->snap[e->stream])
		f->before |= 1u << e->stream;
	else
		f->after |= 1u << e->stream;
	return 0;
}

int verify_touches_find(const verify_touches *t, double from, const verify_touch_query *q)
{
	struct find *f;
	uint32_t all;
	int rc;

	if (t->since >= from)
		return -1;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		return 1;
	f->from = from;
	f->q = q;
	rc = each_entry(t, gather, f);
	all = q->n_streams >= 32 ? 0xffffffffu : (1u << q->n_streams) - 1;
	for (size_t i = 0; rc == 0 && i < f->n; i++) {
		f->one = f->trx[i];
		f->before = f->after = 0;
		(void)each_entry(t, sides, f);
		/* in some snapshots and not in others; a stream that has not shown
		 * it has it after its snapshot (it has passed it) */
		if (f->before != 0 && f->before != all)
			rc = 1;
	}
	free(f);
	return rc;
}

size_t verify_touches_count(const verify_touches *t)
{
	return t->count;
}
