/*
 * conflict_ring.h - the conflict engine's image store: a byte ring of fixed
 * size holding variable-length records.  Appending overwrites the oldest
 * records; a reference to an overwritten record reads as NULL, never as
 * someone else's bytes.
 */
#ifndef RINGWATCH_CONFLICT_RING_H
#define RINGWATCH_CONFLICT_RING_H

#include "ringwatch/rw_error.h"

#include <stddef.h>
#include <stdint.h>

/* A reference no record has: "nothing stored". */
#define CONFLICT_RING_NONE UINT64_MAX

typedef struct conflict_ring {
	uint8_t *buf;
	size_t cap;
	uint64_t head; /* logical offset where the next record goes */
	uint64_t tail; /* logical offset of the oldest record still held */
} conflict_ring;

RW_MUST_CHECK int conflict_ring_init(conflict_ring *r, size_t cap);
void conflict_ring_free(conflict_ring *r);

/*
 * Room for a record of len bytes, evicting the oldest ones; returns its
 * reference and the bytes to fill in *out, or CONFLICT_RING_NONE when len
 * does not fit the ring at all.
 */
uint64_t conflict_ring_put(conflict_ring *r, size_t len, uint8_t **out);

/* The record at ref and its length, or NULL when evicted or never stored. */
const uint8_t *conflict_ring_get(const conflict_ring *r, uint64_t ref, size_t *len);

#endif
