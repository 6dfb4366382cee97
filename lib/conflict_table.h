/*
 * conflict_table.h - the conflict engine's hash tables: open addressing with
 * linear probing over pointers to items whose first member is their 64-bit
 * key (already a good hash: xxHash output).  One slot per item, no per-item
 * allocation; deletion shifts the probe run back (no tombstones).
 */
#ifndef RINGWATCH_CONFLICT_TABLE_H
#define RINGWATCH_CONFLICT_TABLE_H

#include "ringwatch/rw_error.h"

#include <stddef.h>
#include <stdint.h>

typedef struct conflict_table {
	void **slot;
	size_t cap; /* 0 before the first reserve */
	size_t n;
} conflict_table;

void conflict_table_free(conflict_table *t);

/* The slot holding the item whose key is key, or NULL. */
void **conflict_table_find(const conflict_table *t, uint64_t key);

/* Make room for extra more items (load stays at most 3/4). */
RW_MUST_CHECK int conflict_table_reserve(conflict_table *t, size_t extra);

/* Add item (its key must not be in the table); needs room reserved. */
void conflict_table_add(conflict_table *t, void *item);

/* Remove the item in slot (from conflict_table_find). */
void conflict_table_remove(conflict_table *t, void **slot);

#endif
