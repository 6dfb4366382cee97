/*
 * conflict_table.c - linear probing over item pointers keyed by their first
 * uint64_t member.  The capacity grows by half (not doubles), so that the
 * load stays between 1/2 and 3/4: the slots are a good part of the memory
 * per tracked write.  A key's home slot is key * cap / 2^64 (keys are
 * xxHash output, uniform in their high bits).
 */
#include "conflict_table.h"

#include <stdlib.h>
#include <string.h>

static uint64_t item_key(const void *item)
{
	uint64_t k;

	memcpy(&k, item, sizeof(k));
	return k;
}

static size_t home(uint64_t key, size_t cap)
{
	return (size_t)(((unsigned __int128)key * cap) >> 64);
}

static size_t step(size_t i, size_t cap)
{
	return i + 1 == cap ? 0 : i + 1;
}

void conflict_table_free(conflict_table *t)
{
	free(t->slot);
	t->slot = NULL;
	t->cap = 0;
	t->n = 0;
}

void **conflict_table_find(const conflict_table *t, uint64_t key)
{
	size_t i;

	if (t->cap == 0)
		return NULL;
	for (i = home(key, t->cap); t->slot[i] != NULL; i = step(i, t->cap))
		if (item_key(t->slot[i]) == key)
			return &t->slot[i];
	return NULL;
}

static void table_put(void **slot, size_t cap, void *item)
{
	size_t i;

	for (i = home(item_key(item), cap); slot[i] != NULL; i = step(i, cap))
		;
	slot[i] = item;
}

int conflict_table_reserve(conflict_table *t, size_t extra)
{
	size_t cap = t->cap ? t->cap : 16, i;
	void **slot;

	if (extra > SIZE_MAX / 8 - t->n)
		return RW_E_NOMEM;
	while ((t->n + extra) * 4 > cap * 3)
		cap += cap / 2;
	if (cap == t->cap)
		return 0;
	slot = calloc(cap, sizeof(*slot));
	if (slot == NULL)
		return RW_E_NOMEM;
	for (i = 0; i < t->cap; i++)
		if (t->slot[i] != NULL)
			table_put(slot, cap, t->slot[i]);
	free(t->slot);
	t->slot = slot;
	t->cap = cap;
	return 0;
}

void conflict_table_add(conflict_table *t, void *item)
{
	table_put(t->slot, t->cap, item);
	t->n++;
}

/* How far slot i is from slot from, going forward around the table. */
static size_t dist(size_t from, size_t i, size_t cap)
{
	return i >= from ? i - from : i + cap - from;
}

void conflict_table_remove(conflict_table *t, void **slot)
{
	size_t hole = (size_t)(slot - t->slot), i = hole;

	t->slot[hole] = NULL;
	t->n--;
	/* move back every later item of the run whose home is not in (hole, i] */
	for (;;) {
		i = step(i, t->cap);
		if (t->slot[i] == NULL)
			return;
		if (dist(home(item_key(t->slot[i]), t->cap), i, t->cap) >= dist(hole, i, t->cap)) {
			t->slot[hole] = t->slot[i];
			t->slot[i] = NULL;
			hole = i;
		}
	}
}
