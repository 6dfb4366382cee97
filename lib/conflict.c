/*
 * conflict.c - the conflict engine: tracking unsettled writes and the rule.
 *
 * The rule, and when it is decided.  For writes w (origin A) and v (origin
 * B) to one key, let "x first in S" mean that S's stream showed x before y,
 * or showed x and not (yet) y.  They conflict iff w is first in A and v is
 * first in B.  A's order is fixed by the first of w, v to appear in A, B's by
 * the first to appear in B; so a conflicting pair is decided by two origin
 * appearances (w in A, v in B), and at the later of them: at an origin
 * appearance of x in M = origin(x), every live write y of another origin B
 * with "y not yet in M" (x first in M) and "y first in B" is a conflict, and
 * nothing else is.  Each pair meets that test at most once: at the earlier
 * of the two origin appearances the other write is not yet in its own
 * origin's stream.  Copies never decide a conflict; C's stream (a third
 * master) is never waited for.
 *
 * Settled writes.  A transaction is settled once every stream showed it.
 * Claim: a settled write s (origin A) conflicts with no write that is not
 * tracked yet, and all its pairs with tracked writes are decided.  Proof: a
 * write y not seen anywhere when s settles has origin B, and B's stream
 * already showed s; it will show y later, so s is first in B, and y, to
 * conflict, would have to be first in B: impossible.  For a tracked y, s is
 * in A's and B's streams, so both orders are fixed and the test above ran at
 * the later origin appearance.  So settled writes are dropped from the
 * rule; one is kept ("kept write") only while it is the last write on its
 * key in some stream, because that master's final row is its after image.
 * When no unsettled write is left on a key, its list is dropped.
 *
 * A write seen in origin A before v (origin B) reached A, while B's stream
 * has not shown either yet, stays undecided: memory grows with the slowest
 * stream, up to max_writes, past which new transactions are kept as stubs
 * (appearances only, no writes: "blind", counted in dropped_writes), so a
 * dropped transaction's later copies are still recognised and settle.
 *
 * Cost.  An appearance costs a hash lookup, and for each key it writes a
 * walk of that key's list (its unsettled writes and kept ones) at its
 * origin appearance, unless no write anywhere can pair with it
 * (cand_update()), and when something on the key settled.  Lists are short
 * while the streams keep up (write rate on the row x replication delay).
 * When a replication link stalls, the writes it holds back are real
 * candidates and a hot row's walks grow with them, up to max_writes.
 */
#include "conflict_int.h"

#include "ringwatch/rw_buf.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_WRITES 1000000
#define DEFAULT_RING_BYTES (16u << 20)
#define MAX_ROWS           (1u << 24)

int conflict_engine_new(const conflict_config *cfg, conflict_engine **out, rw_error *err)
{
	size_t ring = cfg->ring_bytes ? cfg->ring_bytes : DEFAULT_RING_BYTES;
	conflict_engine *e;
	unsigned m;

	if (cfg->n_masters < 2 || cfg->n_masters > CONFLICT_MAX_MASTERS)
		return rw_error_set(err, RW_E_INVALID, -1, "conflict engine: %u masters (2 to %d)",
				    cfg->n_masters, CONFLICT_MAX_MASTERS);
	if (ring < 64 || ring > UINT32_MAX)
		return rw_error_set(err, RW_E_INVALID, -1,
				    "conflict engine: image ring of %zu bytes (64 to 4 GiB)", ring);
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return rw_error_set(err, RW_E_NOMEM, -1, "conflict engine: out of memory");
	e->n = cfg->n_masters;
	e->all = (uint16_t)((1u << e->n) - 1);
	e->max_writes = cfg->max_writes ? cfg->max_writes : DEFAULT_MAX_WRITES;
	e->cb = cfg->cb;
	for (m = 0; m < e->n; m++) {
		if (conflict_ring_init(&e->ring[m], ring) != 0) {
			conflict_engine_free(e);
			return rw_error_set(err, RW_E_NOMEM, -1, "conflict engine: out of memory");
		}
	}
	*out = e;
	return 0;
}

void conflict_engine_free(conflict_engine *e)
{
	size_t i;
	unsigned m;

	if (e == NULL)
		return;
	/* every write lives in its transaction: free the kept ones, then the unsettled ones */
	for (i = 0; i < e->keys.cap; i++) {
		struct cf_write *w = e->keys.slot[i], *next;

		for (; w != NULL; w = next) {
			struct cf_trx *t = cf_write_trx(w);

			next = w->next;
			if (--t->nlinked == 0 && (t->flags & CFT_SETTLED))
				free(t);
		}
	}
	for (i = 0; i < e->trx.cap; i++)
		free(e->trx.slot[i]);
	cf_open_free_all(e);
	conflict_table_free(&e->trx);
	conflict_table_free(&e->keys);
	conflict_table_free(&e->opens);
	for (m = 0; m < e->n; m++)
		conflict_ring_free(&e->ring[m]);
	cf_before_free_all(e);
	conflict_table_free(&e->pend);
	free(e->restored);
	free(e->restored_used);
	free(e->big);
	free(e);
}

/* ---- input checks ---- */

static int check_bytes(const conflict_bytes *b, size_t max)
{
	return (b->p == NULL && b->len > 0) || b->len > max;
}

static int check_row(const conflict_row *r)
{
	size_t i;

	if (r->op < CONFLICT_OP_INSERT || r->op > CONFLICT_OP_DELETE)
		return 1;
	if (check_bytes(&r->schema, UINT16_MAX) || check_bytes(&r->table, UINT16_MAX) ||
	    check_bytes(&r->key, UINT32_MAX - 1) || r->before.len >= UINT32_MAX ||
	    r->after.len >= UINT32_MAX)
		return 1;
	if (r->n_unique_keys > 0 && r->unique_keys == NULL)
		return 1;
	for (i = 0; i < r->n_unique_keys; i++)
		if (check_bytes(&r->unique_keys[i], UINT32_MAX - 1))
			return 1;
	return 0;
}

static int check_trx(const conflict_engine *e, unsigned master, const conflict_trx *trx,
		     rw_error *err)
{
	size_t i;

	if (master >= e->n || trx->origin >= e->n)
		return rw_error_set(err, RW_E_INVALID, -1,
				    "conflict engine: master %u, origin %u of %u masters", master,
				    trx->origin, e->n);
	if (e->stream[master].fed && trx->pos <= e->stream[master].last)
		return rw_error_set(err, RW_E_INVALID, -1,
				    "conflict engine: position %llu after %llu on master %u",
				    (unsigned long long)trx->pos,
				    (unsigned long long)e->stream[master].last, master);
	if (trx->identity.len == 0 || check_bytes(&trx->identity, UINT16_MAX))
		return rw_error_set(err, RW_E_INVALID, -1, "conflict engine: bad identity");
	if (trx->n_rows > MAX_ROWS || (trx->n_rows > 0 && trx->rows == NULL))
		return rw_error_set(err, RW_E_LIMIT, -1, "conflict engine: %zu rows", trx->n_rows);
	for (i = 0; i < trx->n_rows; i++)
		if (check_row(&trx->rows[i]))
			return rw_error_set(err, RW_E_INVALID, -1, "conflict engine: bad row %zu",
					    i);
	return 0;
}

/* Over the bound, or still recovering from it: track only the appearances. */
static bool trx_too_many(conflict_engine *e, size_t nw)
{
	if (e->blind && e->live_writes > e->max_writes / 4 * 3)
		return true;
	if (e->live_writes + nw > e->max_writes) {
		e->blind = true;
		return true;
	}
	e->blind = false;
	return false;
}

/* First appearance of a transaction (in any stream): its writes, record and links. */
static int trx_new(conflict_engine *e, unsigned master, const conflict_trx *trx, uint64_t id,
		   int64_t now, struct cf_trx **out)
{
	struct cf_merged *mw;
	struct cf_trx *t;
	size_t nw, i;
	bool stub;

	if (cf_merge(trx, &mw, &nw) != 0)
		return RW_E_NOMEM;
	if (trx->dropped_rows > 0)
		stub = true; /* the caller's bound: too big to gather */
	else if (nw > CF_MAX_TRX_WRITES)
		e->blind = stub = true; /* one transaction larger than the engine follows */
	else
		stub = trx_too_many(e, nw);
	t = cf_trx_alloc(e, id, trx->origin, stub ? 0 : nw);
	if (t == NULL || conflict_table_reserve(&e->trx, 1) != 0 ||
	    conflict_table_reserve(&e->keys, stub ? 0 : nw) != 0) {
		if (t != NULL)
			cf_trx_free(e, t);
		free(mw);
		return RW_E_NOMEM;
	}
	if (stub) {
		t->flags |= CFT_STUB;
		e->st.dropped_writes += nw + trx->dropped_rows;
		if (trx->dropped_rows > 0 &&
		    rw_array_grow(&e->big, &e->capbig, e->nbig, sizeof(*e->big), 4) == 0) {
			/* its identity, for a gap's purged binlogs to show it */
			t->ref = cf_record_put(e, trx, mw, 0, master, now);
			e->big[e->nbig++] = id;
			e->st.big++;
		}
	} else {
		t->ref = cf_record_put(e, trx, mw, nw, master, now);
		if (trx->no_images)
			e->st.no_images++;
		if (master == trx->origin)
			t->flags |= CFT_IMG_ORIGIN;
		for (i = 0; i < nw; i++) {
			t->w[i] = (struct cf_write){ .key = mw[i].key,
						     .idx = (uint32_t)i,
						     .op = mw[i].op,
						     .flags = mw[i].unique ? CFW_UNIQUE : 0,
						     .pk = mw[i].pk };
			cf_link_write(e, &t->w[i]);
		}
		e->live_writes += nw;
	}
	free(mw);
	conflict_table_add(&e->trx, t);
	if (e->nrestored > 0)
		cf_restart_consume(e, id);
	*out = t;
	return 0;
}

/* ---- the rule ---- */

/* Two inserts' UNIQUE-key pair that is also their primary-key pair: reported there. */
static bool same_row_pair(const struct cf_trx *x, const struct cf_write *xw, const struct cf_trx *y,
			  const struct cf_write *yw)
{
	if (!(xw->flags & CFW_UNIQUE) || !(yw->flags & CFW_UNIQUE) || xw->pk == CFW_NO_PK ||
	    yw->pk == CFW_NO_PK)
		return false;
	return x->w[xw->pk].key == y->w[yw->pk].key;
}

/* x and y were both shown in m's stream at its gap: their order there is not known. */
static bool at_gap(const conflict_engine *e, unsigned m, const struct cf_trx *x,
		   const struct cf_trx *y)
{
	const struct cf_stream *s = &e->stream[m];

	return s->gap_covered != NULL && cf_seen(x, m) && cf_seen(y, m) &&
	       cf_pos(x)[m] == s->gap_pos && cf_pos(y)[m] == s->gap_pos;
}

/* x just appeared in its origin's stream: the conflicts this decides (see the top). */
static void origin_pairs(conflict_engine *e, struct cf_trx *x, int64_t now)
{
	unsigned a = x->origin;
	uint32_t i;

	if (e->cand[a] == 0)
		return;
	for (i = 0; i < x->nw; i++) {
		struct cf_write *xw = &x->w[i], *yw, *next;

		for (yw = cf_key_head(e, xw->key); yw != NULL; yw = next) {
			struct cf_trx *y = cf_write_trx(yw);
			unsigned b = y->origin;

			next = yw->next;
			if (y == x || (yw->flags & CFW_SETTLED) || b == a)
				continue;
			/* a showed y first (before x: a gap shows x late, at its position) */
			if (cf_seen(y, a) && cf_pos(y)[a] < cf_pos(x)[a])
				continue;
			if (!cf_seen(y, b) || (cf_seen(x, b) && cf_pos(x)[b] < cf_pos(y)[b]))
				continue;
			/* no stream shows that one came first, and a gap hides the order in one */
			if (at_gap(e, a, x, y) || at_gap(e, b, x, y)) {
				e->st.gap_undecided++;
				continue;
			}
			if (same_row_pair(x, xw, y, yw))
				continue;
			cf_report_pair(e, x, xw, y, yw, now);
		}
	}
}

static void trx_settle(conflict_engine *e, struct cf_trx *t, int64_t now)
{
	void **slot = conflict_table_find(&e->trx, t->id);
	uint32_t i;

	conflict_table_remove(&e->trx, slot);
	for (i = 0; (t->flags & CFT_STUB) && i < e->nbig; i++) {
		if (e->big[i] == t->id) {
			e->big[i] = e->big[--e->nbig];
			break;
		}
	}
	t->flags |= CFT_SETTLED;
	t->nlinked++; /* held */
	for (i = 0; i < t->nw; i++) {
		t->w[i].flags |= CFW_SETTLED;
		cf_key_kept(e, t->w[i].key);
		e->live_writes--;
		e->kept_writes++;
	}
	if (t->flags & CFT_PENDING)
		cf_before_forget(e, t);
	for (i = 0; i < t->nw; i++) {
		if (e->opens.n > 0)
			cf_open_settled(e, t, &t->w[i], now);
		cf_key_gc(e, t->w[i].key);
	}
	if (--t->nlinked == 0)
		cf_trx_free(e, t);
	if (e->blind && e->live_writes <= e->max_writes / 4 * 3)
		e->blind = false;
}

/*
 * e->cand[a]: the live writes that an origin appearance in a's stream has
 * to look at, those shown by their own origin's stream and not yet by a's.
 * When there is none (say while the reader of another master is stalled),
 * an appearance of a's own writes decides nothing and walks no list.
 * Called before master joins t->seen.
 */
static void cand_update(conflict_engine *e, const struct cf_trx *t, unsigned master)
{
	unsigned o = t->origin, m;

	if (master == o) {
		for (m = 0; m < e->n; m++)
			if (m != o && !cf_seen(t, m))
				e->cand[m] += t->nw;
	} else if (cf_seen(t, o)) {
		e->cand[master] -= t->nw;
	}
}

/* t appeared in master's stream at pos. */
static void trx_seen(conflict_engine *e, struct cf_trx *t, unsigned master, uint64_t pos,
		     int64_t now)
{
	uint32_t i;

	cand_update(e, t, master);
	t->seen |= (uint16_t)(1u << master);
	cf_pos(t)[master] = pos;
	if (e->opens.n > 0)
		cf_open_seen(e, t, master);
	if (master == t->origin)
		origin_pairs(e, t, now);
	if (t->seen == e->all) {
		trx_settle(e, t, now);
		return;
	}
	for (i = 0; i < t->nw; i++)
		cf_key_gc(e, t->w[i].key);
}

static bool gap_covers(conflict_engine *e, struct cf_trx *t, unsigned master,
		       const conflict_bytes *identity, int64_t now);

int conflict_engine_feed(conflict_engine *e, unsigned master, const conflict_trx *trx, int64_t now,
			 rw_error *err)
{
	struct cf_trx *t;
	void **slot;
	uint64_t id;
	int rc;

	if ((rc = check_trx(e, master, trx, err)) != 0)
		return rc;
	id = conflict_identity_hash(trx->identity.p, trx->identity.len);
	if (trx->n_rows == 0 && trx->dropped_rows == 0)
		goto advance;
	if (cf_restart_settled(e, master, trx, id)) {
		if (cf_restart_replay(e, master, trx, id, now) != 0)
			return rw_error_set(err, RW_E_NOMEM, -1, "conflict engine: out of memory");
		e->st.skipped_replays++;
		goto advance;
	}
	slot = conflict_table_find(&e->trx, id);
	if (slot == NULL) {
		if (trx_new(e, master, trx, id, now, &t) != 0)
			return rw_error_set(err, RW_E_NOMEM, -1, "conflict engine: out of memory");
		if (gap_covers(e, t, master, &trx->identity, now))
			goto advance; /* it settled */
	} else {
		t = *slot;
		if (cf_seen(t, master)) {
			e->st.duplicates++;
			goto advance;
		}
		if (cf_before_check(e, t, master, trx, now) != 0)
			return rw_error_set(err, RW_E_NOMEM, -1, "conflict engine: out of memory");
	}
	trx_seen(e, t, master, trx->pos, now);
advance:
	e->stream[master].fed = true;
	e->stream[master].last = trx->pos;
	return 0;
}

/* ---- gaps ---- */

/*
 * Show t at the gap of every other stream whose purged binlogs held it, before master shows it
 * (so that its own appearance sees them).  true when t settled and is gone.
 */
static bool gap_covers(conflict_engine *e, struct cf_trx *t, unsigned master,
		       const conflict_bytes *identity, int64_t now)
{
	uint64_t id = t->id;

	for (unsigned m = 0; m < e->n; m++) {
		const struct cf_stream *s = &e->stream[m];

		if (m == master || s->gap_covered == NULL || cf_seen(t, m) ||
		    !s->gap_covered(identity, s->gap_arg))
			continue;
		e->st.gap_shown++;
		trx_seen(e, t, m, s->gap_pos, now);
		if (conflict_table_find(&e->trx, id) == NULL)
			return true;
	}
	return false;
}

int conflict_engine_gap(conflict_engine *e, unsigned master, uint64_t pos,
			conflict_covered_fn covered, void *arg, int64_t now, rw_error *err)
{
	struct cf_stream *s;
	uint64_t *ids = NULL;
	size_t n = 0;

	if (master >= e->n || covered == NULL)
		return rw_error_set(err, RW_E_INVALID, -1, "conflict engine: gap of master %u",
				    master);
	s = &e->stream[master];
	if (s->fed && pos <= s->last)
		return rw_error_set(err, RW_E_INVALID, -1,
				    "conflict engine: gap at %llu, not after %llu on master %u",
				    (unsigned long long)pos, (unsigned long long)s->last, master);
	s->gap_covered = covered;
	s->gap_arg = arg;
	s->gap_pos = pos;
	s->fed = true;
	s->last = pos;
	if (e->trx.n > 0 && (ids = malloc(e->trx.n * sizeof(*ids))) == NULL)
		return rw_error_set(err, RW_E_NOMEM, -1, "conflict engine: out of memory");
	/*
	 * As trx_seen() for each, in three steps, so that no pair of two of them is decided on
	 * an order the gap does not show: every one shown first, then the origin appearances'
	 * pairs (at_gap() leaves theirs undecided), then what settles.
	 */
	for (size_t i = 0; i < e->trx.cap; i++) {
		struct cf_trx *t = e->trx.slot[i];
		struct cf_head h;

		if (t == NULL || cf_seen(t, master))
			continue;
		if (!cf_record_head(e, t, &h)) {
			e->st.gap_unknown++; /* a stub, or its record overwritten */
			continue;
		}
		if (!covered(&h.identity, arg))
			continue;
		e->st.gap_shown++;
		/* the others leave master's candidates after the pairs: at_gap() counts theirs */
		if (t->origin == master)
			cand_update(e, t, master);
		t->seen |= (uint16_t)(1u << master);
		cf_pos(t)[master] = pos;
		if (e->opens.n > 0)
			cf_open_seen(e, t, master);
		ids[n++] = t->id;
	}
	for (size_t i = 0; i < n; i++) {
		void **slot = conflict_table_find(&e->trx, ids[i]);
		if (slot != NULL && ((struct cf_trx *)*slot)->origin == master)
			origin_pairs(e, *slot, now);
	}
	for (size_t i = 0; i < n; i++) {
		void **slot = conflict_table_find(&e->trx, ids[i]);
		const struct cf_trx *t = slot != NULL ? *slot : NULL;

		if (t != NULL && t->origin != master && cf_seen(t, t->origin))
			e->cand[master] -= t->nw;
	}
	for (size_t i = 0; i < n; i++) {
		void **slot = conflict_table_find(&e->trx, ids[i]);
		struct cf_trx *t;

		if (slot == NULL)
			continue;
		t = *slot;
		if (t->seen == e->all) {
			trx_settle(e, t, now);
		} else {
			for (uint32_t k = 0; k < t->nw; k++)
				cf_key_gc(e, t->w[k].key);
		}
	}
	free(ids);
	return 0;
}

/* ---- observation ---- */

bool conflict_engine_blind(const conflict_engine *e)
{
	return e->blind;
}

enum conflict_known conflict_engine_known(const conflict_engine *e, unsigned master, uint64_t pos,
					  const uint8_t *identity, size_t len)
{
	void **slot = conflict_table_find(&e->trx, conflict_identity_hash(identity, len));
	const struct cf_trx *t = slot != NULL ? *slot : NULL;

	if (t == NULL)
		return CONFLICT_KNOWN_NONE;
	if (t->flags & CFT_STUB)
		return CONFLICT_KNOWN_STUB;
	/* a stream replaying after a restart may need the rows whole (cf_restart_replay) */
	if (master >= e->n || (e->stream[master].replay && pos <= e->stream[master].replay_end))
		return CONFLICT_KNOWN_NONE;
	return master != t->origin && !cf_seen(t, master) && (t->flags & CFT_IMG_ORIGIN) &&
		       t->ref != CONFLICT_RING_NONE
		   ? CONFLICT_KNOWN_COPY
		   : CONFLICT_KNOWN_NONE;
}

unsigned conflict_engine_masters(const conflict_engine *e)
{
	return e->n;
}

void conflict_engine_stats(const conflict_engine *e, conflict_stats *out)
{
	unsigned m;

	*out = e->st;
	out->tracked_trx = e->trx.n;
	out->tracked_writes = e->live_writes;
	out->kept_writes = e->kept_writes;
	out->tracked_keys = e->keys.n;
	out->open = e->nopen;
	out->blind = e->blind;
	out->big_unsettled = e->nbig;
	out->bytes_used = e->trx_bytes + e->open_bytes +
			  (e->trx.cap + e->keys.cap + e->opens.cap) * sizeof(void *) +
			  e->pend.cap * sizeof(void *) + e->npend * sizeof(struct cf_pend) +
			  e->caprestored * (sizeof(uint64_t) + 1);
	out->ring_bytes = 0;
	out->ring_used = 0;
	for (m = 0; m < e->n; m++) {
		out->ring_bytes += e->ring[m].cap;
		out->ring_used +=
		    e->ring[m].head < e->ring[m].cap ? (size_t)e->ring[m].head : e->ring[m].cap;
	}
}

const char *conflict_op_name(enum conflict_op op)
{
	switch (op) {
	case CONFLICT_OP_INSERT:
		return "insert";
	case CONFLICT_OP_UPDATE:
		return "update";
	case CONFLICT_OP_DELETE:
		return "delete";
	}
	return "unknown";
}
