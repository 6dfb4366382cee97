/*
 * conflict_restart.c - checkpoints and restarts (doc/checkpoint.md).
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

#include "ringwatch/rw_buf.h"

#include <stdlib.h>

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sort the restored hashes at the first feed (restores come before it). */
static bool restored_sort(conflict_engine *e)
{
	if (e->restored_sorted)
		return true;
	if (e->nrestored > 0 && (e->restored_used = calloc(e->nrestored, 1)) == NULL)
		return false;
	if (e->nrestored > 0)
		qsort(e->restored, e->nrestored, sizeof(uint64_t), cmp_u64);
	e->restored_sorted = true;
	e->restored_left = e->nrestored;
	return true;
}

static const uint64_t *restored_find(conflict_engine *e, uint64_t id)
{
	if (!restored_sort(e) || e->nrestored == 0)
		return NULL;
	return bsearch(&id, e->restored, e->nrestored, sizeof(uint64_t), cmp_u64);
}

static bool restored_has(conflict_engine *e, uint64_t id)
{
	return restored_find(e, id) != NULL;
}

void cf_restart_consume(conflict_engine *e, uint64_t id)
{
	const uint64_t *at = restored_find(e, id);
	size_t i;

	if (at == NULL)
		return;
	i = (size_t)(at - e->restored);
	if (!e->restored_used[i]) {
		e->restored_used[i] = 1;
		e->restored_left--;
	}
}

bool cf_restart_settled(conflict_engine *e, unsigned master, const conflict_trx *trx, uint64_t id)
{
	const struct cf_stream *s = &e->stream[master];

	return s->replay && trx->pos <= s->replay_end && !restored_has(e, id);
}

int conflict_engine_restore_mark(conflict_engine *e, unsigned master, const conflict_mark *mk,
				 rw_error *err)
{
	struct cf_stream *s;

	if (master >= e->n || e->stream[master].fed || e->restored_sorted)
		return rw_error_set(err, RW_E_INVALID, -1,
				    "conflict engine: restore master %u: unknown or already fed",
				    master);
	if (!mk->fed)
		return 0;
	s = &e->stream[master];
	s->replay = true;
	s->replay_end = mk->last;
	s->restored_unsettled = mk->unsettled;
	s->restored_low = mk->low_water;
	return 0;
}

int conflict_engine_restore_stream(conflict_engine *e, unsigned master, uint64_t last,
				   rw_error *err)
{
	conflict_mark mk = { .fed = true, .last = last };

	return conflict_engine_restore_mark(e, master, &mk, err);
}

int conflict_engine_restore_unsettled(conflict_engine *e, uint64_t id_hash, rw_error *err)
{
	if (e->restored_sorted)
		return rw_error_set(err, RW_E_INVALID, -1,
				    "conflict engine: restore before the first feed");
	if (rw_array_grow(&e->restored, &e->caprestored, e->nrestored, sizeof(*e->restored), 64) <
	    0)
		return rw_error_set(err, RW_E_NOMEM, -1, "conflict engine: out of memory");
	e->restored[e->nrestored++] = id_hash;
	e->restored_sorted = false;
	return 0;
}

/*
 * The stream may still replay a restored unsettled transaction: the
 * checkpoint had one in it and the stream has not fed again everything up
 * to its checkpoint position.  (Such a transaction may be tracked again
 * already, from another stream, without this one having shown it.)
 */
static bool replay_pending(const struct cf_stream *s)
{
	return s->replay && s->restored_unsettled && !(s->fed && s->last >= s->replay_end);
}

int conflict_engine_mark(const conflict_engine *e, unsigned master, conflict_mark *out,
			 rw_error *err)
{
	const struct cf_stream *s = &e->stream[master < e->n ? master : 0];
	conflict_mark mk = { 0 };
	size_t i;

	if (master >= e->n)
		return rw_error_set(err, RW_E_INVALID, -1, "conflict engine: master %u", master);
	mk.fed = s->fed || s->replay;
	mk.last = s->fed ? s->last : 0;
	if (s->replay && s->replay_end > mk.last)
		mk.last = s->replay_end;
	for (i = 0; i < e->trx.cap; i++) {
		const struct cf_trx *t = e->trx.slot[i];

		if (t == NULL || !cf_seen(t, master))
			continue;
		if (!mk.unsettled || cf_pos(t)[master] < mk.low_water)
			mk.low_water = cf_pos(t)[master];
		mk.unsettled = true;
	}
	if (replay_pending(s)) {
		/* restored ones not replayed yet lie after what this stream fed again */
		uint64_t from = s->fed ? s->last : s->restored_low;

		if (!mk.unsettled || from < mk.low_water)
			mk.low_water = from;
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
	/* restored ones not tracked again yet are still unsettled */
	for (i = 0; i < e->nrestored; i++)
		if ((!e->restored_sorted || !e->restored_used[i]) &&
		    (rc = fn(e->restored[i], arg)) != 0)
			return rc;
	return 0;
}

int cf_restart_replay(conflict_engine *e, unsigned master, const conflict_trx *trx, uint64_t id,
		      int64_t now)
{
	struct cf_merged *mw;
	struct cf_trx *t;
	size_t nw, i;

	if (trx->dropped_rows > 0)
		return 0; /* too big to gather: nothing to keep of it */
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
