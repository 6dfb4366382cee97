/*
 * conflict_open.c - the conflict engine's reports: conflict and
 * before-image records, each master's final row, and the open records kept
 * until a later write resolves them.
 *
 * Finals.  A master's final row on a key is the after image of the last
 * write to the key in its stream.  The key's list holds every unsettled
 * write and, for each stream, its last settled one (conflict.c), so the
 * stream's final is the write of the list it showed last; a stream that
 * showed none since the list was last emptied has applied neither write of
 * a new record (PENDING), or for an older open record still holds the row
 * recorded then.  Finals are compared by hash; images come from the ring.
 *
 * Resolution.  A write x is after both writes of a record in every stream
 * when each stream showed x later than both; only then can x repair the
 * row everywhere.  x is checked when it settles (every stream showed it);
 * the record is resolved at that moment or a later settle on the key when
 * every master's final is known and equal.
 */
#include "conflict_int.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* The hash of "no row" among the finals. */
#define CF_OPEN_PER_KEY 256 /* open records followed per key */
#define FINAL_NONE      0x6e6f20726f770a00ULL

struct finals {
	conflict_image img[CONFLICT_MAX_MASTERS];
	uint64_t hash[CONFLICT_MAX_MASTERS];
	uint16_t known; /* hash[m] is master m's final */
	uint16_t shown; /* master m's stream showed a write of the list */
};

static void final_of(conflict_engine *e, const struct cf_write *w, conflict_image *img,
		     uint64_t *hash, bool *known)
{
	struct cf_entry en;

	*known = false;
	if (w->op == CONFLICT_OP_DELETE && !(w->flags & CFW_UNIQUE)) {
		*img = (conflict_image){ CONFLICT_IMAGE_NONE, { NULL, 0 } };
		*hash = FINAL_NONE;
		*known = true;
		return;
	}
	if (!cf_record_entry(e, cf_write_trx(w), w->idx, &en)) {
		e->st.evicted++;
		*img = (conflict_image){ CONFLICT_IMAGE_EVICTED, { NULL, 0 } };
		return;
	}
	if (!en.has_after) {
		/* an insert or update without an after image (MINIMAL): unknown row */
		*img = (conflict_image){ CONFLICT_IMAGE_EVICTED, { NULL, 0 } };
		return;
	}
	*img = (conflict_image){ CONFLICT_IMAGE_ROW, en.after };
	*hash = en.after_hash;
	*known = true;
}

static void key_finals(conflict_engine *e, uint64_t key, struct finals *f)
{
	const struct cf_write *best[CONFLICT_MAX_MASTERS] = { NULL };
	const struct cf_write *w;
	unsigned m;

	memset(f, 0, sizeof(*f));
	for (w = cf_key_head(e, key); w != NULL; w = w->next) {
		const struct cf_trx *t = cf_write_trx(w);

		for (m = 0; m < e->n; m++)
			if (cf_seen(t, m) &&
			    (best[m] == NULL || cf_pos(t)[m] > cf_pos(cf_write_trx(best[m]))[m]))
				best[m] = w;
	}
	for (m = 0; m < e->n; m++) {
		bool known;

		if (best[m] == NULL) {
			f->img[m].state = CONFLICT_IMAGE_PENDING;
			continue;
		}
		f->shown |= (uint16_t)(1u << m);
		final_of(e, best[m], &f->img[m], &f->hash[m], &known);
		if (known)
			f->known |= (uint16_t)(1u << m);
	}
}

static bool finals_differ(unsigned n, const uint64_t *hash, uint16_t known)
{
	unsigned m, first = n;

	for (m = 0; m < n; m++) {
		if (!((known >> m) & 1))
			continue;
		if (first == n)
			first = m;
		else if (hash[m] != hash[first])
			return true;
	}
	return false;
}

/* ---- ids ---- */

static conflict_id make_id(uint64_t a, uint64_t b, uint64_t key, uint64_t tag)
{
	uint64_t buf[4] = { a < b ? a : b, a < b ? b : a, key, tag };
	XXH128_hash_t h = XXH3_128bits(buf, sizeof(buf));

	return (conflict_id){ h.high64, h.low64 };
}

bool conflict_id_equal(const conflict_id *a, const conflict_id *b)
{
	return a->hi == b->hi && a->lo == b->lo;
}

void conflict_id_format(const conflict_id *id, char *buf)
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 16; i++) {
		buf[i] = hex[(id->hi >> (60 - 4 * i)) & 15];
		buf[16 + i] = hex[(id->lo >> (60 - 4 * i)) & 15];
	}
	buf[32] = '\0';
}

static bool known_before(conflict_engine *e, const conflict_id *id)
{
	return e->cb.known != NULL && e->cb.known(id, e->cb.arg) != 0;
}

/* ---- open records ---- */

static uint64_t *open_after(const struct cf_open *c)
{
	return (uint64_t *)(uintptr_t)c->pos;
}

static uint64_t *open_final(const conflict_engine *e, const struct cf_open *c)
{
	return (uint64_t *)(uintptr_t)c->pos + e->n;
}

static struct cf_open *open_head(const conflict_engine *e, uint64_t key)
{
	void **slot = conflict_table_find(&e->opens, key);

	return slot ? *slot : NULL;
}

static void open_track(conflict_engine *e, struct cf_open *c, int i, const struct cf_trx *t)
{
	unsigned m;

	c->trx[i] = t->id;
	c->seen[i] = t->seen;
	for (m = 0; m < e->n; m++)
		if (cf_seen(t, m) && cf_pos(t)[m] > open_after(c)[m])
			open_after(c)[m] = cf_pos(t)[m];
}

static void open_remove(conflict_engine *e, struct cf_open *c)
{
	void **slot = conflict_table_find(&e->opens, c->key);
	struct cf_open **pp;

	for (pp = (struct cf_open **)slot; *pp != c; pp = &(*pp)->next)
		;
	*pp = c->next;
	if (*slot == NULL)
		conflict_table_remove(&e->opens, slot);
	e->open_bytes -= sizeof(*c) + 2 * e->n * sizeof(uint64_t);
	e->nopen--;
	free(c);
}

static struct cf_open *open_add(conflict_engine *e, uint64_t key, const conflict_id *id,
				const struct cf_trx *x, const struct cf_trx *y,
				const struct finals *f, int64_t now)
{
	size_t size = sizeof(struct cf_open) + 2 * e->n * sizeof(uint64_t);
	struct cf_open *c, *old, *oldest = NULL;
	size_t on_key = 0;
	void **slot;
	unsigned m;

	for (old = open_head(e, key); old != NULL; old = old->next, on_key++) {
		if (conflict_id_equal(&old->id, id))
			return old;
		oldest = old;
	}
	if (on_key >= CF_OPEN_PER_KEY) {
		/* a storm on one row: stop following its oldest record, and say so */
		conflict_id gone = oldest->id;

		open_remove(e, oldest);
		e->st.released++;
		if (e->cb.released != NULL)
			e->cb.released(&gone, id, now, e->cb.arg);
	}
	if (conflict_table_reserve(&e->opens, 1) != 0 || (c = calloc(1, size)) == NULL)
		return NULL; /* the record was reported; only its later updates are lost */
	c->key = key;
	c->id = *id;
	c->ntrx = y ? 2 : 1;
	open_track(e, c, 0, x);
	if (y != NULL)
		open_track(e, c, 1, y);
	c->final_known = f->known;
	for (m = 0; m < e->n; m++)
		open_final(e, c)[m] = f->hash[m];
	slot = conflict_table_find(&e->opens, key);
	if (slot == NULL) {
		conflict_table_add(&e->opens, c);
	} else {
		c->next = *slot;
		*slot = c;
	}
	e->open_bytes += size;
	e->nopen++;
	return c;
}

void cf_open_free_all(conflict_engine *e)
{
	size_t i;

	for (i = 0; i < e->opens.cap; i++) {
		struct cf_open *c = e->opens.slot[i], *next;

		for (; c != NULL; c = next) {
			next = c->next;
			free(c);
		}
	}
}

bool cf_open_diverged(const conflict_engine *e, uint64_t key)
{
	const struct cf_open *c;

	for (c = open_head(e, key); c != NULL; c = c->next)
		if (c->restored || finals_differ(e->n, open_final(e, c), c->final_known))
			return true;
	return false;
}

void cf_open_seen(conflict_engine *e, const struct cf_trx *x, unsigned m)
{
	uint32_t i;
	int k;

	for (i = 0; i < x->nw; i++) {
		struct cf_open *c;

		for (c = open_head(e, x->w[i].key); c != NULL; c = c->next)
			for (k = 0; k < c->ntrx; k++)
				if (c->trx[k] == x->id) {
					c->seen[k] |= (uint16_t)(1u << m);
					if (cf_pos(x)[m] > open_after(c)[m])
						open_after(c)[m] = cf_pos(x)[m];
				}
	}
}

/* x (settled) was shown by every stream after all of c's writes. */
static bool after_all(const conflict_engine *e, const struct cf_open *c, const struct cf_trx *x)
{
	uint16_t seen = c->ntrx == 2 ? c->seen[0] & c->seen[1] : c->seen[0];
	unsigned m;

	if (seen != e->all || x->id == c->trx[0] || (c->ntrx == 2 && x->id == c->trx[1]))
		return false;
	for (m = 0; m < e->n; m++)
		if (cf_pos(x)[m] <= open_after(c)[m])
			return false;
	return true;
}

/* Take f's known finals into c; returns the masters whose final changed. */
static uint32_t open_refresh(const conflict_engine *e, struct cf_open *c, const struct finals *f)
{
	uint32_t changed = 0;
	unsigned m;

	for (m = 0; m < e->n; m++) {
		uint16_t bit = (uint16_t)(1u << m);

		if (!(f->known & bit))
			continue;
		if ((c->final_known & bit) && open_final(e, c)[m] == f->hash[m])
			continue;
		changed |= bit;
		c->final_known |= bit;
		open_final(e, c)[m] = f->hash[m];
	}
	return changed;
}

static void open_update(conflict_engine *e, struct cf_open *c, const struct finals *f, int64_t now)
{
	uint32_t changed = open_refresh(e, c, f);
	conflict_update u;
	unsigned m;

	if (changed == 0 || e->cb.updated == NULL)
		return;
	memset(&u, 0, sizeof(u));
	u.id = c->id;
	u.n_masters = e->n;
	u.changed = changed;
	for (m = 0; m < e->n; m++)
		u.final[m] = ((changed >> m) & 1)
				 ? f->img[m]
				 : (conflict_image){ CONFLICT_IMAGE_PENDING, { NULL, 0 } };
	u.diverged = finals_differ(e->n, open_final(e, c), c->final_known);
	u.complete = c->final_known == e->all;
	u.now = now;
	e->cb.updated(&u, e->cb.arg);
}

void cf_open_settled(conflict_engine *e, const struct cf_trx *x, const struct cf_write *xw,
		     int64_t now)
{
	struct cf_open *c, *next;
	struct finals f;

	if (open_head(e, xw->key) == NULL)
		return;
	key_finals(e, xw->key, &f);
	for (c = open_head(e, xw->key); c != NULL; c = next) {
		next = c->next;
		/*
		 * A drift record's rows were read from the tables: a write before it
		 * (one read again after a restart, settled or not) is in them already,
		 * and its after image is not what the masters hold.
		 */
		if (c->drift && (x == NULL || !after_all(e, c, x)))
			continue;
		if (!c->causal && x != NULL && after_all(e, c, x))
			c->causal = 1;
		open_update(e, c, &f, now);
		if (c->final_known == e->all)
			c->restored = 0;
		if (c->causal && c->final_known == e->all &&
		    !finals_differ(e->n, open_final(e, c), c->final_known)) {
			conflict_id id = c->id;

			open_remove(e, c);
			e->st.resolved++;
			if (e->cb.resolved != NULL)
				e->cb.resolved(&id, now, e->cb.arg);
		}
	}
}

int conflict_engine_resolve(conflict_engine *e, const conflict_id *id, rw_error *err)
{
	size_t i;

	for (i = 0; i < e->opens.cap; i++) {
		struct cf_open *c = e->opens.slot[i];

		for (; c != NULL; c = c->next) {
			if (conflict_id_equal(&c->id, id)) {
				open_remove(e, c);
				return 0;
			}
		}
	}
	return rw_error_set(err, RW_E_INVALID, -1, "conflict engine: no open record with that id");
}

/* ---- records ---- */

static unsigned op_rank(uint8_t op)
{
	return op == CONFLICT_OP_DELETE ? 0 : op == CONFLICT_OP_INSERT ? 1 : 2;
}

static enum conflict_kind pair_kind(uint8_t a, uint8_t b)
{
	static const enum conflict_kind k[3][3] = {
		{ CONFLICT_DELETE_DELETE, CONFLICT_DELETE_INSERT, CONFLICT_DELETE_UPDATE },
		{ CONFLICT_DELETE_INSERT, CONFLICT_INSERT_INSERT, CONFLICT_INSERT_UPDATE },
		{ CONFLICT_DELETE_UPDATE, CONFLICT_INSERT_UPDATE, CONFLICT_UPDATE_UPDATE },
	};

	return k[op_rank(a)][op_rank(b)];
}

const char *conflict_kind_name(enum conflict_kind kind)
{
	static const char *names[] = { "delete-delete", "delete-insert", "delete-update",
				       "insert-insert", "insert-update", "update-update",
				       "before-image" };

	if ((unsigned)kind > CONFLICT_BEFORE_IMAGE)
		return "unknown";
	return names[kind];
}

static conflict_image image_of(bool has, bool dropped, const conflict_bytes *b)
{
	if (dropped)
		return (conflict_image){ CONFLICT_IMAGE_EVICTED, { NULL, 0 } };
	if (!has)
		return (conflict_image){ CONFLICT_IMAGE_NONE, { NULL, 0 } };
	return (conflict_image){ CONFLICT_IMAGE_ROW, *b };
}

/* A write as reported; returns whether its record entry is still in the ring. */
static bool fill_write(conflict_engine *e, const struct cf_trx *t, const struct cf_write *w,
		       conflict_write *out, struct cf_entry *en)
{
	struct cf_head h;
	bool have = cf_record_head(e, t, &h) && cf_record_entry(e, t, w->idx, en);

	memset(out, 0, sizeof(*out));
	out->master = t->origin;
	out->op = (enum conflict_op)w->op;
	if (!have) {
		e->st.evicted++;
		out->before.state = CONFLICT_IMAGE_EVICTED;
		out->after.state = CONFLICT_IMAGE_EVICTED;
		return false;
	}
	out->identity = h.identity;
	out->commit_time = h.commit_time;
	out->before = image_of(en->has_before, en->dropped_before, &en->before);
	out->after = image_of(en->has_after, en->dropped_after, &en->after);
	return true;
}

static bool bytes_eq(const conflict_bytes *a, const conflict_bytes *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

static void record_key(conflict_record *rec, const struct cf_entry *en, bool have)
{
	rec->key_evicted = !have;
	if (have) {
		rec->schema = en->schema;
		rec->table = en->table;
		rec->key = en->key;
	}
}

static void record_finals(conflict_engine *e, conflict_record *rec, uint64_t key, struct finals *f)
{
	key_finals(e, key, f);
	rec->n_masters = e->n;
	memcpy(rec->final, f->img, sizeof(rec->final));
	rec->diverged = finals_differ(e->n, f->hash, f->known);
	rec->complete = f->known == e->all;
}

static int64_t first_seen(const conflict_engine *e, const struct cf_trx *t, int64_t now)
{
	struct cf_head h;

	return cf_record_head(e, t, &h) ? h.first_seen : now;
}

void cf_report_pair(conflict_engine *e, struct cf_trx *x, struct cf_write *xw, struct cf_trx *y,
		    struct cf_write *yw, int64_t now)
{
	conflict_record rec;
	struct cf_entry ex, ey;
	struct finals f;
	bool hx, hy, swap;
	int64_t tx, ty;

	memset(&rec, 0, sizeof(rec));
	rec.id = make_id(x->id, y->id, xw->key, 0);
	swap = op_rank(yw->op) < op_rank(xw->op) ||
	       (op_rank(yw->op) == op_rank(xw->op) && y->origin < x->origin);
	hx = fill_write(e, x, xw, &rec.writes[swap ? 1 : 0], &ex);
	hy = fill_write(e, y, yw, &rec.writes[swap ? 0 : 1], &ey);
	if (hx && hy &&
	    (!bytes_eq(&ex.key, &ey.key) || !bytes_eq(&ex.schema, &ey.schema) ||
	     !bytes_eq(&ex.table, &ey.table)))
		return; /* two rows whose 64-bit key hashes collide */
	rec.kind = pair_kind(xw->op, yw->op);
	rec.unique_key = (xw->flags & CFW_UNIQUE) != 0;
	record_key(&rec, hx ? &ex : &ey, hx || hy);
	record_finals(e, &rec, xw->key, &f);
	tx = first_seen(e, x, now);
	ty = first_seen(e, y, now);
	rec.appeared_at = tx > ty ? tx : ty;
	rec.decided_at = now;
	if (known_before(e, &rec.id)) {
		e->st.suppressed++;
	} else {
		e->st.conflicts++;
		if (e->cb.conflict != NULL)
			e->cb.conflict(&rec, e->cb.arg);
	}
	(void)open_add(e, xw->key, &rec.id, x, y, &f, now);
}

void cf_report_before(conflict_engine *e, struct cf_trx *x, struct cf_write *xw, unsigned master,
		      const conflict_bytes *origin_before, const conflict_bytes *copy_before,
		      int64_t now)
{
	conflict_record rec;
	struct cf_entry en;
	struct finals f;
	bool have;

	memset(&rec, 0, sizeof(rec));
	rec.id = make_id(x->id, x->id, xw->key, 1 + (uint64_t)master);
	rec.kind = CONFLICT_BEFORE_IMAGE;
	rec.unique_key = (xw->flags & CFW_UNIQUE) != 0;
	have = fill_write(e, x, xw, &rec.writes[0], &en);
	if (origin_before != NULL)
		rec.writes[0].before = (conflict_image){ CONFLICT_IMAGE_ROW, *origin_before };
	rec.writes[1] = rec.writes[0];
	rec.writes[1].master = master;
	if (copy_before != NULL)
		rec.writes[1].before = (conflict_image){ CONFLICT_IMAGE_ROW, *copy_before };
	else
		rec.writes[1].before = (conflict_image){ CONFLICT_IMAGE_EVICTED, { NULL, 0 } };
	record_key(&rec, &en, have);
	record_finals(e, &rec, xw->key, &f);
	rec.appeared_at = first_seen(e, x, now);
	rec.decided_at = now;
	if (known_before(e, &rec.id)) {
		e->st.suppressed++;
	} else {
		e->st.before_images++;
		if (e->cb.conflict != NULL)
			e->cb.conflict(&rec, e->cb.arg);
	}
	(void)open_add(e, xw->key, &rec.id, x, NULL, &f, now);
}

/*
 * Its writes settled before the checkpoint, at or before each stream's
 * restored "last" position: a write is after both in every stream when each
 * stream shows it after that position.
 */
static int follow(conflict_engine *e, const conflict_id *id, const conflict_bytes *schema,
		  const conflict_bytes *table, const conflict_bytes *key, bool unique_key,
		  const conflict_image *final, bool drift, rw_error *err)
{
	struct cf_trx none = { 0 };
	struct finals f;
	struct cf_open *c;
	conflict_row r;
	uint64_t h;
	unsigned m;

	memset(&r, 0, sizeof(r));
	r.schema = *schema;
	r.table = *table;
	r.key = *key;
	h = cf_key_hash(&r, unique_key ? key : NULL);
	for (c = open_head(e, h); c != NULL; c = c->next)
		if (conflict_id_equal(&c->id, id))
			return 0;
	memset(&f, 0, sizeof(f));
	for (m = 0; m < e->n && final != NULL; m++) {
		if (final[m].state == CONFLICT_IMAGE_ROW)
			f.hash[m] = cf_image_hash(&final[m].row);
		else if (final[m].state == CONFLICT_IMAGE_NONE)
			f.hash[m] = FINAL_NONE;
		else
			continue;
		f.known |= (uint16_t)(1u << m);
	}
	c = open_add(e, h, id, &none, NULL, &f, 0);
	if (c == NULL)
		return rw_error_set(err, RW_E_NOMEM, -1, "conflict engine: out of memory");
	c->restored = f.known != e->all;
	c->drift = drift;
	c->seen[0] = e->all;
	for (m = 0; m < e->n; m++)
		open_after(c)[m] = e->stream[m].replay ? e->stream[m].replay_end : 0;
	return 0;
}

int conflict_engine_restore_open(conflict_engine *e, const conflict_id *id,
				 const conflict_bytes *schema, const conflict_bytes *table,
				 const conflict_bytes *key, bool unique_key,
				 const conflict_image *final, rw_error *err)
{
	return follow(e, id, schema, table, key, unique_key, final, false, err);
}

int conflict_engine_follow_drift(conflict_engine *e, const conflict_id *id,
				 const conflict_bytes *schema, const conflict_bytes *table,
				 const conflict_bytes *key, bool unique_key, rw_error *err)
{
	return follow(e, id, schema, table, key, unique_key, NULL, true, err);
}
