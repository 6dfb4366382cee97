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
	uint32_t len; /* key bytes after the header */
	uint32_t flags;
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

void verify_touches_add(verify_touches *t, double now, const uint8_t *key, size_t len,
			bool table_only)
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
	e.len = (uint32_t)len;
	e.flags = key == NULL ? TOUCH_ALL : table_only ? TOUCH_TABLE : TOUCH_ROW;
	memcpy(t->buf + t->tail, &e, sizeof(e));
	if (len > 0)
		memcpy(t->buf + t->tail + sizeof(e), key, len);
	t->tail += n;
	t->count++;
	t->last = now;
}

double verify_touches_since(const verify_touches *t)
{
	return t->since;
}

size_t verify_touches_count(const verify_touches *t)
{
	return t->count;
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

int verify_touches_find(const verify_touches *t, double from, const verify_touch_query *q)
{
	size_t off = t->head;

	if (t->since >= from)
		return -1;
	for (size_t i = 0; i < t->count; i++) {
		const struct entry *e;

		if (t->wrapped && off >= t->wrap && off >= t->head)
			off = 0;
		e = entry_at(t, off);
		if (e->at >= from && entry_touches(e, t->buf + off + sizeof(*e), q))
			return 1;
		off += entry_size(e->len);
	}
	return 0;
}
