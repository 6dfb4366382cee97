/*
 * conflict_store.c - the conflict engine's store: its transactions, and per
 * key the list of their writes (unsettled ones, and the kept settled ones,
 * see conflict.c).  The rule (conflict.c), the reports (conflict_open.c),
 * the before-image check (conflict_before.c) and restarts
 * (conflict_restart.c) build on it; it calls none of them.
 */
#include "conflict_int.h"

#include <stdlib.h>

/* ---- transactions ---- */

struct cf_trx *cf_trx_alloc(conflict_engine *e, uint64_t id, unsigned origin, size_t nw)
{
	size_t size =
	    sizeof(struct cf_trx) + nw * sizeof(struct cf_write) + e->n * sizeof(uint64_t);
	struct cf_trx *t = calloc(1, size);

	if (t == NULL)
		return NULL;
	t->id = id;
	t->ref = CONFLICT_RING_NONE;
	t->nw = nw & 0xfffffu;
	t->origin = origin & 15u;
	e->trx_bytes += size;
	return t;
}

void cf_trx_free(conflict_engine *e, struct cf_trx *t)
{
	e->trx_bytes -= sizeof(*t) + t->nw * sizeof(struct cf_write) + e->n * sizeof(uint64_t);
	free(t);
}

/* ---- key lists ---- */

struct cf_write *cf_key_head(const conflict_engine *e, uint64_t key)
{
	void **slot = conflict_table_find(&e->keys, key);

	return slot ? *slot : NULL;
}

void cf_link_write(conflict_engine *e, struct cf_write *w)
{
	void **slot = conflict_table_find(&e->keys, w->key);

	w->flags |= CFW_LINKED;
	cf_write_trx(w)->nlinked++;
	if (slot == NULL) {
		w->next = NULL;
		conflict_table_add(&e->keys, w);
		return;
	}
	w->next = *slot;
	if (w->next->flags & CFW_LIST_KEPT) {
		w->next->flags &= (uint8_t)~CFW_LIST_KEPT;
		w->flags |= CFW_LIST_KEPT;
	}
	*slot = w;
}

static void cf_unlink_write(conflict_engine *e, struct cf_write *w)
{
	struct cf_trx *t = cf_write_trx(w);

	w->flags &= (uint8_t)~CFW_LINKED;
	if (w->flags & CFW_SETTLED)
		e->kept_writes--;
	if (--t->nlinked == 0 && (t->flags & CFT_SETTLED))
		cf_trx_free(e, t);
}

/*
 * Drop the settled writes of key that are no stream's last write on it, or
 * all of them when no unsettled write is left.  A settled write was seen in
 * every stream, so it is superseded when each stream showed a later one.
 */
void cf_key_gc(conflict_engine *e, uint64_t key)
{
	void **slot = conflict_table_find(&e->keys, key);
	uint64_t maxpos[CONFLICT_MAX_MASTERS] = { 0 };
	uint16_t any = 0;
	struct cf_write *w, **pp;
	bool live = false, kept = false;
	unsigned m;

	if (slot == NULL || !(((struct cf_write *)*slot)->flags & CFW_LIST_KEPT))
		return; /* nothing settled on the key: nothing to drop */
	for (w = *slot; w != NULL; w = w->next) {
		const struct cf_trx *t = cf_write_trx(w);

		live |= !(w->flags & CFW_SETTLED);
		for (m = 0; m < e->n; m++)
			if (cf_seen(t, m) && (!((any >> m) & 1) || cf_pos(t)[m] > maxpos[m])) {
				maxpos[m] = cf_pos(t)[m];
				any |= (uint16_t)(1u << m);
			}
	}
	for (pp = (struct cf_write **)slot; (w = *pp) != NULL;) {
		bool drop = !live;

		if (live && (w->flags & CFW_SETTLED)) {
			const struct cf_trx *t = cf_write_trx(w);

			drop = true;
			for (m = 0; m < e->n; m++)
				drop &= !cf_seen(t, m) || cf_pos(t)[m] < maxpos[m];
		}
		if (!drop) {
			kept |= (w->flags & CFW_SETTLED) != 0;
			w->flags &= (uint8_t)~CFW_LIST_KEPT;
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		cf_unlink_write(e, w);
	}
	if (*slot == NULL)
		conflict_table_remove(&e->keys, slot);
	else if (kept)
		((struct cf_write *)*slot)->flags |= CFW_LIST_KEPT;
}

void cf_key_kept(conflict_engine *e, uint64_t key)
{
	void **slot = conflict_table_find(&e->keys, key);

	if (slot != NULL)
		((struct cf_write *)*slot)->flags |= CFW_LIST_KEPT;
}
