/*
 * conflict_ring.c - a byte ring of variable-length records.
 *
 * Offsets are logical (they only grow); the byte of logical offset o is at
 * buf[o % cap].  A record is a 4-byte length and its bytes, never split at
 * the end of the buffer: when it does not fit there, the rest of the buffer
 * is skipped (marked with a PAD length when there is room for one).
 * Everything in [tail, head) is held; a reference below tail was evicted.
 */
#include "conflict_ring.h"

#include <stdlib.h>
#include <string.h>

#define RING_PAD UINT32_MAX

int conflict_ring_init(conflict_ring *r, size_t cap)
{
	uint8_t *buf;

	if (cap < 64 || cap > UINT32_MAX)
		return RW_E_INVALID;
	buf = malloc(cap);
	if (buf == NULL)
		return RW_E_NOMEM;
	r->buf = buf;
	r->cap = cap;
	r->head = 0;
	r->tail = 0;
	return 0;
}

void conflict_ring_free(conflict_ring *r)
{
	free(r->buf);
	r->buf = NULL;
}

/* Drop the oldest record (or the skipped end of the buffer). */
static void ring_evict_one(conflict_ring *r)
{
	size_t at = (size_t)(r->tail % r->cap);
	uint32_t len;

	if (r->cap - at < 4) {
		r->tail += r->cap - at;
		return;
	}
	memcpy(&len, r->buf + at, 4);
	if (len == RING_PAD)
		r->tail += r->cap - at;
	else
		r->tail += 4 + (uint64_t)len;
}

uint64_t conflict_ring_put(conflict_ring *r, size_t len, uint8_t **out)
{
	size_t need = len + 4, at;
	uint32_t len32 = (uint32_t)len;
	uint64_t ref;

	if (len >= RING_PAD || need > r->cap)
		return CONFLICT_RING_NONE;
	at = (size_t)(r->head % r->cap);
	if (r->cap - at < need) {
		/* skip the end of the buffer; the records there go first */
		while (r->head + (r->cap - at) - r->tail > r->cap)
			ring_evict_one(r);
		if (r->cap - at >= 4) {
			uint32_t pad = RING_PAD;
			memcpy(r->buf + at, &pad, 4);
		}
		r->head += r->cap - at;
		at = 0;
	}
	while (r->head + need - r->tail > r->cap)
		ring_evict_one(r);
	ref = r->head;
	memcpy(r->buf + at, &len32, 4);
	r->head += need;
	*out = r->buf + at + 4;
	return ref;
}

const uint8_t *conflict_ring_get(const conflict_ring *r, uint64_t ref, size_t *len)
{
	uint32_t len32;
	size_t at;

	if (ref == CONFLICT_RING_NONE || ref < r->tail || ref >= r->head)
		return NULL;
	at = (size_t)(ref % r->cap);
	memcpy(&len32, r->buf + at, 4);
	*len = len32;
	return r->buf + at + 4;
}
