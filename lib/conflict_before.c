/*
 * conflict_before.c - the second, independent signal (doc/conflict-rule.md):
 * a master that applies a write logs its own before image of the row; when
 * it is not the one the origin logged, that master's row had already
 * diverged.
 *
 * Streams are fed at their own pace, so a copy may come before its origin:
 * the first appearance's images are the transaction's ring record until the
 * origin's replace them; later early copies wait in the pending table with
 * the hash of their before image.  A difference that a conflict of this
 * write with the copier's previous write on the row explains is that
 * conflict, reported by the rule, and not reported twice.
 */
#include "conflict_int.h"

#include <stdlib.h>

static int pend_add(conflict_engine *e, const struct cf_trx *t, uint32_t idx, unsigned master,
		    const conflict_bytes *before)
{
	uint64_t before_hash = cf_image_hash(before);
	struct cf_pend *p;
	void **slot;

	if (conflict_table_reserve(&e->pend, 1) != 0 || (p = malloc(sizeof(*p))) == NULL)
		return RW_E_NOMEM;
	*p = (struct cf_pend){ .trx = t->id,
			       .before_hash = before_hash,
			       .before_shape = cf_image_shape(before),
			       .idx = idx,
			       .master = (uint8_t)master };
	slot = conflict_table_find(&e->pend, t->id);
	if (slot == NULL) {
		conflict_table_add(&e->pend, p);
	} else {
		p->next = *slot;
		*slot = p;
	}
	e->npend++;
	return 0;
}

/* Take t's waiting copies out of the pending table (pend_free() frees them). */
static struct cf_pend *pend_take(conflict_engine *e, struct cf_trx *t)
{
	void **slot = conflict_table_find(&e->pend, t->id);
	struct cf_pend *p;

	t->flags &= (uint8_t)~CFT_PENDING;
	if (slot == NULL)
		return NULL;
	p = *slot;
	conflict_table_remove(&e->pend, slot);
	return p;
}

static void pend_free(conflict_engine *e, struct cf_pend *p)
{
	struct cf_pend *next;

	for (; p != NULL; p = next) {
		next = p->next;
		free(p);
		e->npend--;
	}
}

/*
 * The merged writes of a copy line up with the transaction's when they have
 * the same keys in the same order (the same transaction logged twice).
 */
static bool merged_match(const struct cf_trx *t, const struct cf_merged *mw, size_t nw)
{
	size_t i;

	if (nw != t->nw)
		return false;
	for (i = 0; i < nw; i++)
		if (mw[i].key != t->w[i].key)
			return false;
	return true;
}

static bool merged_before(const conflict_trx *trx, const struct cf_merged *m, conflict_bytes *b)
{
	const conflict_row *r = &trx->rows[m->first];

	if (m->unique || r->op == CONFLICT_OP_INSERT || r->before.p == NULL)
		return false;
	*b = r->before;
	return true;
}

/*
 * The row master held before applying t's write w is the after image of z,
 * the write master's stream showed last on the key, and z and w are, or may
 * still turn out to be, a conflict (neither is known to be first in the
 * other's origin): the difference is that conflict, reported as such.  If
 * they turn out causal, master's before image was z's after image at the
 * origin too, so nothing is lost.  A key with an open diverged record is
 * known to differ already.
 */
static bool explained_by_conflict(const conflict_engine *e, const struct cf_trx *t,
				  const struct cf_write *w, unsigned master, uint64_t before_hash)
{
	const struct cf_write *z, *last = NULL;
	const struct cf_trx *zt;
	struct cf_entry en;
	unsigned a = t->origin, b;

	if (cf_open_diverged(e, w->key))
		return true;
	for (z = cf_key_head(e, w->key); z != NULL; z = z->next) {
		zt = cf_write_trx(z);
		if (zt == t || !cf_seen(zt, master) ||
		    (cf_seen(t, master) && cf_pos(zt)[master] > cf_pos(t)[master]))
			continue; /* the copy came earlier: only the writes before it count */
		if (last == NULL || cf_pos(zt)[master] > cf_pos(cf_write_trx(last))[master])
			last = z;
	}
	if (last == NULL)
		return false;
	zt = cf_write_trx(last);
	b = zt->origin;
	if (b == a || (cf_seen(zt, a) && (!cf_seen(t, a) || cf_pos(zt)[a] < cf_pos(t)[a])) ||
	    (cf_seen(t, b) && (!cf_seen(zt, b) || cf_pos(t)[b] < cf_pos(zt)[b])))
		return false;
	if (last->op == CONFLICT_OP_DELETE || !cf_record_entry(e, zt, last->idx, &en))
		return false;
	return en.has_after && en.after_hash == before_hash;
}

/* master's copy of t (not its origin): compare, or wait for the origin's images. */
static void check_copy(conflict_engine *e, struct cf_trx *t, unsigned master,
		       const conflict_trx *trx, const struct cf_merged *mw, int64_t now)
{
	uint32_t i;

	for (i = 0; i < t->nw; i++) {
		struct cf_entry en;
		conflict_bytes b;

		if (!merged_before(trx, &mw[i], &b))
			continue;
		if (!(t->flags & CFT_IMG_ORIGIN)) {
			if (pend_add(e, t, i, master, &b) == 0)
				t->flags |= CFT_PENDING;
			continue;
		}
		if (!cf_record_entry(e, t, i, &en)) {
			e->st.evicted++;
			continue;
		}
		if (en.has_before && en.before_hash != cf_image_hash(&b) &&
		    cf_image_shape(&en.before) == cf_image_shape(&b) &&
		    !explained_by_conflict(e, t, &t->w[i], master, cf_image_hash(&b)))
			cf_report_before(e, t, &t->w[i], master, NULL, &b, now);
	}
}

/* The copies that came before the origin: the first one's record, then the pending ones. */
static void check_early_copies(conflict_engine *e, struct cf_trx *t, const conflict_trx *trx,
			       const struct cf_merged *mw, int64_t now)
{
	struct cf_pend *head, *p;
	struct cf_head h;
	size_t i;

	if (cf_record_head(e, t, &h)) {
		for (i = 0; i < t->nw; i++) {
			struct cf_entry en;
			conflict_bytes b;

			if (merged_before(trx, &mw[i], &b) &&
			    cf_record_entry(e, t, (uint32_t)i, &en) && en.has_before &&
			    en.before_hash != cf_image_hash(&b) &&
			    cf_image_shape(&en.before) == cf_image_shape(&b) &&
			    !explained_by_conflict(e, t, &t->w[i], h.img_master, en.before_hash))
				cf_report_before(e, t, &t->w[i], h.img_master, &b, &en.before, now);
		}
	}
	head = (t->flags & CFT_PENDING) ? pend_take(e, t) : NULL;
	for (p = head; p != NULL; p = p->next) {
		conflict_bytes b;

		if (merged_before(trx, &mw[p->idx], &b) && p->before_hash != cf_image_hash(&b) &&
		    p->before_shape == cf_image_shape(&b) &&
		    !explained_by_conflict(e, t, &t->w[p->idx], p->master, p->before_hash))
			cf_report_before(e, t, &t->w[p->idx], p->master, &b, NULL, now);
	}
	pend_free(e, head);
}

int cf_before_check(conflict_engine *e, struct cf_trx *t, unsigned master, const conflict_trx *trx,
		    int64_t now)
{
	struct cf_merged *mw;
	size_t nw;

	if ((t->flags & CFT_STUB) || trx->dropped_rows > 0 || trx->no_images)
		return 0;
	if (master != t->origin && (t->flags & CFT_IMG_ORIGIN) == 0 && t->ref == CONFLICT_RING_NONE)
		return 0;
	if (cf_merge(trx, &mw, &nw) != 0)
		return RW_E_NOMEM;
	if (!merged_match(t, mw, nw)) {
		free(mw);
		return 0;
	}
	if (master != t->origin) {
		check_copy(e, t, master, trx, mw, now);
	} else if (!(t->flags & CFT_IMG_ORIGIN)) {
		/* the origin's images replace the first copy's in the report */
		struct cf_head h;
		int64_t first = cf_record_head(e, t, &h) ? h.first_seen : now;

		check_early_copies(e, t, trx, mw, now);
		t->ref = cf_record_put(e, trx, mw, nw, master, first);
		t->flags |= CFT_IMG_ORIGIN;
	}
	free(mw);
	return 0;
}

void cf_before_forget(conflict_engine *e, struct cf_trx *t)
{
	pend_free(e, pend_take(e, t));
}

void cf_before_free_all(conflict_engine *e)
{
	size_t i;

	for (i = 0; i < e->pend.cap; i++) {
		struct cf_pend *p = e->pend.slot[i], *next;

		for (; p != NULL; p = next) {
			next = p->next;
			free(p);
		}
	}
}
