/*
 * lag.c - replication delay from the order transactions appear in streams.
 *
 * Transactions live in a ring of `capacity` slots (oldest evicted first),
 * found by an open-addressing index of twice that many buckets (linear
 * probing, backward-shift deletion).  Each ordered pair of masters has a
 * FIFO of (slot, generation, time) for the transactions on their way; a
 * slot's generation changes when it is reused, so a FIFO entry whose
 * transaction was evicted is recognised and dropped.
 */
#include "ringwatch/lag.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MASTERS 64
#define EMPTY       UINT32_MAX

struct trx {
	uint64_t hash;
	uint32_t gen;
	uint8_t used;
	uint64_t seen_mask; /* bit m: appeared in master m's stream */
};

struct pend {
	uint32_t slot;
	uint32_t gen;
	double at; /* when it appeared in the source's stream */
};

struct fifo {
	struct pend *p;
	size_t head, len, size; /* size grows by doubling up to the capacity */
	double last;            /* last sample, -1 none */
};

struct lag_matcher {
	size_t n;
	size_t cap;
	struct trx *ring;
	size_t next; /* ring slot to fill next */
	uint32_t *index;
	size_t index_size;  /* power of two >= 2 * cap */
	struct fifo *links; /* n * n, [src * n + dst] */
	uint64_t forgotten;
};

static size_t bucket_of(const lag_matcher *lm, uint64_t hash)
{
	/* the hash is already well mixed (xxHash of the identity) */
	return (size_t)(hash ^ (hash >> 29)) & (lm->index_size - 1);
}

static uint32_t find(const lag_matcher *lm, uint64_t hash)
{
	size_t b = bucket_of(lm, hash);

	while (lm->index[b] != EMPTY) {
		if (lm->ring[lm->index[b]].hash == hash)
			return lm->index[b];
		b = (b + 1) & (lm->index_size - 1);
	}
	return EMPTY;
}

static void index_remove(lag_matcher *lm, uint32_t slot)
{
	size_t mask = lm->index_size - 1;
	size_t b = bucket_of(lm, lm->ring[slot].hash);

	while (lm->index[b] != slot)
		b = (b + 1) & mask;
	/* backward-shift: pull later entries of the probe run into the hole */
	for (size_t j = (b + 1) & mask; lm->index[j] != EMPTY; j = (j + 1) & mask) {
		size_t home = bucket_of(lm, lm->ring[lm->index[j]].hash);
		if (((j - home) & mask) >= ((j - b) & mask)) {
			lm->index[b] = lm->index[j];
			b = j;
		}
	}
	lm->index[b] = EMPTY;
}

static uint32_t insert(lag_matcher *lm, uint64_t hash)
{
	uint32_t slot = (uint32_t)lm->next;
	struct trx *t = &lm->ring[slot];
	size_t b;

	if (t->used) {
		index_remove(lm, slot);
		lm->forgotten++;
	}
	t->hash = hash;
	t->gen++;
	t->used = 1;
	t->seen_mask = 0;
	b = bucket_of(lm, hash);
	while (lm->index[b] != EMPTY)
		b = (b + 1) & (lm->index_size - 1);
	lm->index[b] = slot;
	lm->next = (lm->next + 1) % lm->cap;
	return slot;
}

lag_matcher *lag_new(size_t n_masters, size_t capacity)
{
	lag_matcher *lm;

	if (n_masters < 2 || n_masters > MAX_MASTERS || capacity < 2 || capacity > UINT32_MAX / 4)
		return NULL;
	lm = calloc(1, sizeof(*lm));
	if (lm == NULL)
		return NULL;
	lm->n = n_masters;
	lm->cap = capacity;
	lm->index_size = 1;
	while (lm->index_size < capacity * 2)
		lm->index_size <<= 1;
	lm->ring = calloc(capacity, sizeof(*lm->ring));
	lm->index = malloc(lm->index_size * sizeof(*lm->index));
	lm->links = calloc(n_masters * n_masters, sizeof(*lm->links));
	if (lm->ring == NULL || lm->index == NULL || lm->links == NULL) {
		lag_free(lm);
		return NULL;
	}
	memset(lm->index, 0xff, lm->index_size * sizeof(*lm->index));
	for (size_t i = 0; i < n_masters * n_masters; i++)
		lm->links[i].last = -1;
	return lm;
}

void lag_free(lag_matcher *lm)
{
	if (lm == NULL)
		return;
	for (size_t i = 0; lm->links != NULL && i < lm->n * lm->n; i++)
		free(lm->links[i].p);
	free(lm->links);
	free(lm->index);
	free(lm->ring);
	free(lm);
}

/* Make room for one more; false when the FIFO is at the capacity. */
static int grow(lag_matcher *lm, struct fifo *f)
{
	size_t size = f->size == 0 ? 64 : f->size * 2;
	struct pend *p;

	if (f->len < f->size)
		return 1;
	if (f->size >= lm->cap)
		return 0;
	if (size > lm->cap)
		size = lm->cap;
	p = malloc(size * sizeof(*p));
	if (p == NULL)
		return 0;
	for (size_t i = 0; i < f->len; i++)
		p[i] = f->p[(f->head + i) % f->size];
	free(f->p);
	f->p = p;
	f->head = 0;
	f->size = size;
	return 1;
}

static void push(lag_matcher *lm, struct fifo *f, uint32_t slot, double at)
{
	if (!grow(lm, f)) {
		if (f->size == 0)
			return;                    /* no memory at all: this link goes unmeasured */
		f->head = (f->head + 1) % f->size; /* full: the oldest is forgotten */
		f->len--;
	}
	f->p[(f->head + f->len) % f->size] = (struct pend){ slot, lm->ring[slot].gen, at };
	f->len++;
}

static int stale(const lag_matcher *lm, const struct pend *p)
{
	return lm->ring[p->slot].gen != p->gen;
}

/*
 * slot arrived at dst at time now: sample its delay, and drop it with what
 * was queued before it (those were skipped or forgotten on the way).  When
 * it is not queued (the FIFO overflowed), nothing changes.
 */
static void arrive(lag_matcher *lm, struct fifo *f, uint32_t slot, double now)
{
	uint32_t gen = lm->ring[slot].gen;

	for (size_t i = 0; i < f->len; i++) {
		const struct pend *p = &f->p[(f->head + i) % f->size];
		if (p->slot == slot && p->gen == gen) {
			f->last = now - p->at;
			f->head = (f->head + i + 1) % f->size;
			f->len -= i + 1;
			return;
		}
	}
}

void lag_seen(lag_matcher *lm, uint64_t trx, size_t origin, size_t m, double now)
{
	uint32_t slot = find(lm, trx);
	uint64_t bit = (uint64_t)1 << m;
	struct trx *t;

	if (m >= lm->n)
		return;
	if (slot == EMPTY)
		slot = insert(lm, trx);
	t = &lm->ring[slot];
	if (t->seen_mask & bit)
		return; /* read again after a reconnect */
	/* it was queued for m wherever it appeared before, unless m made it */
	for (size_t src = 0; src < lm->n && m != origin; src++) {
		if (src != m && (t->seen_mask & ((uint64_t)1 << src)))
			arrive(lm, &lm->links[src * lm->n + m], slot, now);
	}
	for (size_t dst = 0; dst < lm->n; dst++) {
		if (dst != m && dst != origin && !(t->seen_mask & ((uint64_t)1 << dst)))
			push(lm, &lm->links[m * lm->n + dst], slot, now);
	}
	t->seen_mask |= bit;
}

/* The oldest transaction on its way on f that is still remembered, or NULL. */
static const struct pend *oldest(const lag_matcher *lm, const struct fifo *f)
{
	for (size_t i = 0; i < f->len; i++) {
		const struct pend *p = &f->p[(f->head + i) % f->size];
		if (!stale(lm, p))
			return p;
	}
	return NULL;
}

double lag_get(const lag_matcher *lm, size_t src, size_t dst, double now)
{
	const struct fifo *f;
	const struct pend *p;

	if (src >= lm->n || dst >= lm->n || src == dst)
		return -1;
	f = &lm->links[src * lm->n + dst];
	p = oldest(lm, f);
	if (p != NULL)
		return fmax(now - p->at, f->last);
	return f->last < 0 ? -1 : 0; /* caught up */
}

double lag_last(const lag_matcher *lm, size_t src, size_t dst)
{
	if (src >= lm->n || dst >= lm->n || src == dst)
		return -1;
	return lm->links[src * lm->n + dst].last;
}

size_t lag_pending(const lag_matcher *lm, size_t src, size_t dst)
{
	const struct fifo *f;
	size_t n = 0;

	if (src >= lm->n || dst >= lm->n || src == dst)
		return 0;
	f = &lm->links[src * lm->n + dst];
	for (size_t i = 0; i < f->len; i++)
		n += !stale(lm, &f->p[(f->head + i) % f->size]);
	return n;
}

uint64_t lag_forgotten(const lag_matcher *lm)
{
	return lm->forgotten;
}
