/*
 * conflict_restart.c - checkpoints and restarts (DESIGN.md "Durability").
 *
 * A checkpoint, taken at one moment, is each stream's low-water mark (the
 * position of its oldest unsettled transaction) and last position, and the
 * identity hashes of the unsettled transactions.  After a restart each
 * stream replays from its low-water mark.  A replayed transaction (at or
 * before the stream's last position) that is not in the unsettled set had
 * settled before the checkpoint: every pair with it was decided then, and
 * it cannot conflict with anything later (conflict.c), so it is not tracked;
 * it only joins its keys' lists as a kept write of this stream, because it
 * may be this master's last write on a key (its final row).  Its other
 * appearances lie before every replayed position of their streams.  An
 * unsettled transaction is replayed by every stream that had shown it (its
 * position there is at or after that stream's low-water mark) and is
 * tracked again as if new; pairs decided twice are dropped by the caller's
 * "known" callback.
 */
#include "conflict_int.h"

#include <stdlib.h>

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static bool restored_has(conflict_engine *e, uint64_t id)
{
	if (!e->restored_sorted) {
		qsort(e->restored, e->nrestored, sizeof(uint64_t), cmp_u64);
		e->restored_sorted = true;
	}
	return bsearch(&id, e->restored, e->nrestored, sizeof(uint64_t), cmp_u64) != NULL;
}

bool cf_restart_settled(conflict_engine *e, unsigned master, const conflict_trx *trx, uint64_t id)
{
	const struct cf_stream *s = &e->stream[master];

	return s->replay && trx->pos <= s->replay_end && !restored_has(e, id);
}

int conflict_engine_restore_stream(conflict_engine *e, unsigned master, uint64_t last,
				   rw_error *err)
{
	if (master >= e->n || e->stream[master].fed)
		return rw_error_set(err, RW_E_INVALID, -1,
				    "conflict engine: restore master %u: unknown or already fed",
				    master);
	e->stream[master].replay = true;
	e->stream[master].replay_end = last;
	return 0;
}

int conflict_engine_restore_unsettled(conflict_engine *e, uint64_t id_hash, rw_error *err)
{
	if (e->nrestored == e->caprestored) {
		size_t cap = e->caprestored ? 2 * e->caprestored : 64;
		uint64_t *r = realloc(e->restored, cap * sizeof(*r));

		if (r == NULL)
			return rw_error_set(err, RW_E_NOMEM, -1, "conflict engine: out of memory");
		e->restored = r;
		e->caprestored = cap;
	}
	e->restored[e->nrestored++] = id_hash;
	e->restored_sorted = false;
	return 0;
}

int conflict_engine_mark(const conflict_engine *e, unsigned master, conflict_mark *out,
			 rw_error *err)
{
	conflict_mark mk = { 0 };
	size_t i;

	if (master >= e->n)
		return rw_error_set(err, RW_E_INVALID, -1, "conflict engine: master %u", master);
	mk.fed = e->stream[master].fed;
	mk.last = e->stream[master].last;
	for (i = 0; i < e->trx.cap; i++) {
		const struct cf_trx *t = e->trx.slot[i];

		if (t == NULL || !cf_seen(t, master))
			continue;
		if (!mk.unsettled || cf_pos(t)[master] < mk.low_water)
			mk.low_water = cf_pos(t)[master];
		mk.unsettled = true;
	}
	*out = mk;
	return 0;
}

int conflict_engine_unsettled(const conflict_engine *e, int (*fn)(uint64_t id_hash, void *arg),
			      void *arg)
{
	size_t i;
	int rc;

	for (i = 0; i < e->trx.cap; i++) {
		const struct cf_trx *t = e->trx.slot[i];

		if (t != NULL && (rc = fn(t->id, arg)) != 0)
			return rc;
	}
	return 0;
}

int cf_restart_replay(conflict_engine *e, unsigned master, const conflict_trx *trx, uint64_t id,
		      int64_t now)
{
	struct cf_merged *mw;
	struct cf_trx *t;
	size_t nw, i;

	if (cf_merge(trx, &mw, &nw) != 0)
		return RW_E_NOMEM;
	if (nw > CF_MAX_TRX_WRITES) {
		free(mw);
		return 0;
	}
	t = cf_trx_alloc(e, id, trx->origin, nw);
	if (t == NULL || conflict_table_reserve(&e->keys, nw) != 0) {
		if (t != NULL)
			cf_trx_free(e, t);
		free(mw);
		return RW_E_NOMEM;
	}
	t->ref = cf_record_put(e, trx, mw, nw, master, now);
	t->flags = CFT_SETTLED;
	t->nlinked = 1; /* held */
	t->seen = (uint16_t)(1u << master);
	cf_pos(t)[master] = trx->pos;
	for (i = 0; i < nw; i++) {
		t->w[i] = (struct cf_write){ .key = mw[i].key,
					     .idx = (uint32_t)i,
					     .op = mw[i].op,
					     .flags = CFW_SETTLED | (mw[i].unique ? CFW_UNIQUE : 0),
					     .pk = mw[i].pk };
		cf_link_write(e, &t->w[i]);
		cf_key_kept(e, t->w[i].key);
		e->kept_writes++;
	}
	free(mw);
	for (i = 0; i < nw; i++) {
		if (e->opens.n > 0)
			cf_open_settled(e, NULL, &t->w[i], now);
		cf_key_gc(e, t->w[i].key);
	}
	if (--t->nlinked == 0)
		cf_trx_free(e, t);
	return 0;
}
