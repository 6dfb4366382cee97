/*
 * conflict_image.c - what the conflict engine keeps of a transaction beside
 * its tracking structures: identity, commit time, keys and row images, as
 * one record in its origin's byte ring (conflict_ring.c).
 *
 * Record: u16 identity length, u8 master whose stream the images came from,
 * u8 0, u32 writes, i64 commit time, i64 "now" when first fed, the identity;
 * u32 per write: where its entry starts in the record (so any entry is read
 * without walking those before it); then per write: u16 schema length, u16 table length, u32 key length,
 * u32 before length, u32 after length (CF_ABSENT: no image), u64 before
 * hash, u64 after hash, and the bytes of schema, table, key, before, after.
 * Native byte order: the ring never leaves the process.
 */
#include "conflict_int.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define CF_ABSENT  UINT32_MAX
#define CF_DROPPED (UINT32_MAX - 1) /* the caller kept no image (conflict_trx.no_images) */
#define HEAD_SIZE  24
#define ENTRY_SIZE 32

uint64_t cf_image_hash(const conflict_bytes *b)
{
	return XXH3_64bits(b->p, b->len);
}

uint64_t cf_image_shape(const conflict_bytes *b)
{
	uint64_t h = 0x5348415045ULL;
	int depth = 0;
	bool in_string = false, escaped = false, is_key = false;
	size_t start = 0;

	/* canonical JSON: {"name":value,...}; a key is a string at depth 1
	 * followed by ':' */
	for (size_t i = 0; i < b->len; i++) {
		uint8_t c = b->p[i];
		if (in_string) {
			if (escaped)
				escaped = false;
			else if (c == '\\')
				escaped = true;
			else if (c == '"') {
				in_string = false;
				if (is_key && i + 1 < b->len && b->p[i + 1] == ':')
					h = XXH3_64bits_withSeed(b->p + start, i - start, h);
			}
			continue;
		}
		switch (c) {
		case '"':
			in_string = true;
			is_key = depth == 1;
			start = i + 1;
			break;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			depth--;
			break;
		default:
			break;
		}
	}
	return h;
}

uint64_t conflict_identity_hash(const uint8_t *p, size_t len)
{
	return XXH3_64bits(p, len);
}

/* Schema, table and key chained through the seed: ("ab","c") and ("a","bc") differ. */
uint64_t cf_key_hash(const conflict_row *row, const conflict_bytes *ukey)
{
	uint64_t h = XXH3_64bits_withSeed(row->schema.p, row->schema.len, 0x52574b);

	h = XXH3_64bits_withSeed(row->table.p, row->table.len, h);
	if (ukey != NULL)
		return XXH3_64bits_withSeed(ukey->p, ukey->len, h ^ 0x554e49515545ULL);
	return XXH3_64bits_withSeed(row->key.p, row->key.len, h);
}

static uint8_t merge_op(uint8_t first, uint8_t last)
{
	if (last == CONFLICT_OP_DELETE)
		return CONFLICT_OP_DELETE;
	if (first == CONFLICT_OP_INSERT)
		return CONFLICT_OP_INSERT;
	return CONFLICT_OP_UPDATE;
}

/* Index of the merged write with key in mw[0..n), through a small index table. */
struct merge_index {
	uint32_t *slot; /* 1 + index, 0 empty */
	size_t mask;
};

static size_t merge_find(const struct merge_index *ix, const struct cf_merged *mw, uint64_t key,
			 size_t *hole)
{
	size_t i;

	for (i = (size_t)key & ix->mask; ix->slot[i] != 0; i = (i + 1) & ix->mask)
		if (mw[ix->slot[i] - 1].key == key)
			return ix->slot[i] - 1;
	*hole = i;
	return SIZE_MAX;
}

static void merge_one(struct merge_index *ix, struct cf_merged *mw, size_t *n, uint64_t key,
		      uint32_t row, uint8_t op, const conflict_bytes *ukey, uint16_t pk)
{
	size_t hole = 0, at = merge_find(ix, mw, key, &hole);

	if (at != SIZE_MAX) {
		if (ukey == NULL) {
			mw[at].op = merge_op(mw[at].op, op);
			mw[at].last = row;
		}
		return;
	}
	mw[*n] = (struct cf_merged){ .key = key,
				     .first = row,
				     .last = row,
				     .op = op,
				     .unique = ukey != NULL,
				     .pk = pk,
				     .ukey = ukey };
	ix->slot[hole] = (uint32_t)(*n + 1);
	(*n)++;
}

int cf_merge(const conflict_trx *trx, struct cf_merged **out, size_t *nout)
{
	size_t total = trx->n_rows, cap = 16, n = 0, i, j;
	struct merge_index ix;
	struct cf_merged *mw;

	for (i = 0; i < trx->n_rows; i++)
		if (trx->rows[i].op == CONFLICT_OP_INSERT)
			total += trx->rows[i].n_unique_keys;
	while (cap < 2 * total)
		cap *= 2;
	mw = malloc((total > 0 ? total : 1) * sizeof(*mw));
	ix.slot = calloc(cap, sizeof(*ix.slot));
	ix.mask = cap - 1;
	if (mw == NULL || ix.slot == NULL) {
		free(mw);
		free(ix.slot);
		return RW_E_NOMEM;
	}
	for (i = 0; i < trx->n_rows; i++) {
		const conflict_row *r = &trx->rows[i];
		size_t hole = 0, pk;

		merge_one(&ix, mw, &n, cf_key_hash(r, NULL), (uint32_t)i, (uint8_t)r->op, NULL, 0);
		if (r->op != CONFLICT_OP_INSERT)
			continue;
		pk = merge_find(&ix, mw, cf_key_hash(r, NULL), &hole);
		for (j = 0; j < r->n_unique_keys; j++)
			merge_one(&ix, mw, &n, cf_key_hash(r, &r->unique_keys[j]), (uint32_t)i,
				  CONFLICT_OP_INSERT, &r->unique_keys[j],
				  pk < CFW_NO_PK ? (uint16_t)pk : CFW_NO_PK);
	}
	free(ix.slot);
	*out = mw;
	*nout = n;
	return 0;
}

/* The before and after images a merged write records. */
static void merged_images(const conflict_trx *trx, const struct cf_merged *m, conflict_bytes *bf,
			  conflict_bytes *af, bool *has_b, bool *has_a)
{
	const conflict_row *first = &trx->rows[m->first], *last = &trx->rows[m->last];

	*has_b = !m->unique && first->op != CONFLICT_OP_INSERT && first->before.p != NULL;
	*has_a = last->op != CONFLICT_OP_DELETE && last->after.p != NULL;
	if (m->unique)
		*has_a = first->after.p != NULL;
	*bf = first->before;
	*af = m->unique ? first->after : last->after;
}

static size_t entry_size(const conflict_trx *trx, const struct cf_merged *m)
{
	const conflict_row *r = &trx->rows[m->first];
	conflict_bytes bf, af;
	bool hb, ha;

	merged_images(trx, m, &bf, &af, &hb, &ha);
	return ENTRY_SIZE + r->schema.len + r->table.len + (m->unique ? m->ukey->len : r->key.len) +
	       (hb ? bf.len : 0) + (ha ? af.len : 0);
}

static uint8_t *put_bytes(uint8_t *p, const conflict_bytes *b)
{
	if (b->len > 0)
		memcpy(p, b->p, b->len);
	return p + b->len;
}

static uint8_t *put_entry(uint8_t *p, const conflict_trx *trx, const struct cf_merged *m)
{
	const conflict_row *r = &trx->rows[m->first];
	const conflict_bytes *key = m->unique ? m->ukey : &r->key;
	conflict_bytes bf, af;
	bool hb, ha;
	uint16_t sl = (uint16_t)r->schema.len, tl = (uint16_t)r->table.len;
	uint32_t kl = (uint32_t)key->len, bl, al;
	uint64_t bh, ah;

	merged_images(trx, m, &bf, &af, &hb, &ha);
	bl = hb ? (uint32_t)bf.len : CF_ABSENT;
	al = ha ? (uint32_t)af.len : CF_ABSENT;
	if (trx->no_images) { /* the images the write has, not kept */
		const conflict_row *first = &trx->rows[m->first], *last = &trx->rows[m->last];
		hb = ha = false;
		bl = !m->unique && first->op != CONFLICT_OP_INSERT ? CF_DROPPED : CF_ABSENT;
		al = (m->unique ? first->op : last->op) != CONFLICT_OP_DELETE ? CF_DROPPED
									      : CF_ABSENT;
	}
	bh = hb ? cf_image_hash(&bf) : 0;
	ah = ha ? cf_image_hash(&af) : 0;
	memcpy(p, &sl, 2);
	memcpy(p + 2, &tl, 2);
	memcpy(p + 4, &kl, 4);
	memcpy(p + 8, &bl, 4);
	memcpy(p + 12, &al, 4);
	memcpy(p + 16, &bh, 8);
	memcpy(p + 24, &ah, 8);
	p = put_bytes(p + ENTRY_SIZE, &r->schema);
	p = put_bytes(p, &r->table);
	p = put_bytes(p, key);
	if (hb)
		p = put_bytes(p, &bf);
	if (ha)
		p = put_bytes(p, &af);
	return p;
}

uint64_t cf_record_put(conflict_engine *e, const conflict_trx *trx, const struct cf_merged *mw,
		       size_t nw, unsigned img_master, int64_t now)
{
	size_t len = HEAD_SIZE + trx->identity.len, i;
	uint16_t il = (uint16_t)trx->identity.len;
	uint32_t nw32 = (uint32_t)nw;
	uint8_t *p, *start, *offs, im = (uint8_t)img_master, zero = 0;
	uint64_t ref;

	len += 4 * nw; /* the entries' offsets */
	for (i = 0; i < nw; i++)
		len += entry_size(trx, &mw[i]);
	if (len > UINT32_MAX)
		return CONFLICT_RING_NONE;
	ref = conflict_ring_put(&e->ring[trx->origin], len, &p);
	if (ref == CONFLICT_RING_NONE)
		return ref;
	memcpy(p, &il, 2);
	p[2] = im;
	p[3] = zero;
	memcpy(p + 4, &nw32, 4);
	memcpy(p + 8, &trx->commit_time, 8);
	memcpy(p + 16, &now, 8);
	start = p;
	p = put_bytes(p + HEAD_SIZE, &trx->identity);
	offs = p;
	p += 4 * nw;
	for (i = 0; i < nw; i++) {
		uint32_t off = (uint32_t)(p - start);

		memcpy(offs + 4 * i, &off, 4);
		p = put_entry(p, trx, &mw[i]);
	}
	return ref;
}

bool cf_record_head(const conflict_engine *e, const struct cf_trx *t, struct cf_head *out)
{
	size_t len;
	const uint8_t *p = conflict_ring_get(&e->ring[t->origin], t->ref, &len);
	uint16_t il;

	if (p == NULL)
		return false;
	memcpy(&il, p, 2);
	out->img_master = p[2];
	memcpy(&out->nw, p + 4, 4);
	memcpy(&out->commit_time, p + 8, 8);
	memcpy(&out->first_seen, p + 16, 8);
	out->identity = (conflict_bytes){ p + HEAD_SIZE, il };
	return true;
}

static const uint8_t *get_image(const uint8_t *p, uint32_t len, conflict_bytes *out, bool *has,
				bool *dropped)
{
	*dropped = len == CF_DROPPED;
	*has = len != CF_ABSENT && !*dropped;
	*out = (conflict_bytes){ *has ? p : NULL, *has ? len : 0 };
	return p + out->len;
}

/* Read the entry at p into out; returns the next entry. */
static const uint8_t *read_entry(const uint8_t *p, struct cf_entry *out)
{
	uint16_t sl, tl;
	uint32_t kl, bl, al;

	memcpy(&sl, p, 2);
	memcpy(&tl, p + 2, 2);
	memcpy(&kl, p + 4, 4);
	memcpy(&bl, p + 8, 4);
	memcpy(&al, p + 12, 4);
	memcpy(&out->before_hash, p + 16, 8);
	memcpy(&out->after_hash, p + 24, 8);
	p += ENTRY_SIZE;
	out->schema = (conflict_bytes){ p, sl };
	out->table = (conflict_bytes){ p + sl, tl };
	out->key = (conflict_bytes){ p + sl + tl, kl };
	p += (size_t)sl + tl + kl;
	p = get_image(p, bl, &out->before, &out->has_before, &out->dropped_before);
	return get_image(p, al, &out->after, &out->has_after, &out->dropped_after);
}

bool cf_record_entry(const conflict_engine *e, const struct cf_trx *t, uint32_t idx,
		     struct cf_entry *out)
{
	size_t len;
	const uint8_t *p = conflict_ring_get(&e->ring[t->origin], t->ref, &len);
	uint16_t il;
	uint32_t nw, off;

	if (p == NULL)
		return false;
	memcpy(&il, p, 2);
	memcpy(&nw, p + 4, 4);
	if (idx >= nw)
		return false;
	/* the record starts with every entry's offset: no walk over the ones before */
	memcpy(&off, p + HEAD_SIZE + il + 4 * (size_t)idx, 4);
	read_entry(p + off, out);
	return true;
}
