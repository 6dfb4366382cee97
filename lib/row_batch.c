/*
 * row_batch.c - row changes decoded ahead of the feed (row_batch.h).
 *
 * A batch, in native byte order (it never leaves the process):
 *
 *   u32 magic, u32 flags (BATCH_COUNTS_ONLY), u64 tag, u64 check, u64 rows,
 *   u64 changes, u64 length of what follows; then each change:
 *   u8 op, u8 second, u8 n_unique, u8 key_from_hash, u32 lengths of the key, the JSON
 *   key, the before and the after image, then each of those bytes and a NUL;
 *   then each UNIQUE key: u32 its length, u32 its JSON's, the bytes and a
 *   NUL each.
 */
#include "ringwatch/row_batch.h"

#include "ringwatch/row_decode.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define BATCH_MAGIC       0x31425752u /* "RWB1" */
#define BATCH_COUNTS_ONLY 1u

struct batch_head {
	uint32_t magic, flags;
	uint64_t tag, check, rows, changes, len;
};

uint64_t row_batch_check(const binlog_event *ev)
{
	const binlog_table_map *tm = ev->u.rows.table;
	uint64_t where[4] = { ev->hdr.type, (uint64_t)ev->position, ev->u.rows.data_len,
			      ev->u.rows.table_id };

	/* the event by where it is and what it holds; its table by its map's bytes */
	return XXH3_64bits_withSeed(
	    where, sizeof(where),
	    XXH3_64bits(tm->body != NULL ? (const void *)tm->body : "", tm->body_len));
}

/* The shape that keys tm's rows in db, as the feed would take it; 0: none the feed takes as is. */
static int batch_info(const schema_db *db, const binlog_table_map *tm, const row_table_info **info)
{
	const schema_table *t;
	const char *why;
	char misfit[8];

	*info = NULL;
	switch (schema_db_get(db, tm->schema, tm->table, &t, &why)) {
	case SCHEMA_KNOWN:
		if (schema_table_check_map(t, tm, misfit, sizeof(misfit)) != 0 || t->sequence)
			return 0; /* the feed marks it unknown first, or passes over it */
		*info = schema_table_info(t);
		return 1;
	case SCHEMA_UNKNOWN:
		return tm->has_names; /* the map's own FULL metadata */
	default:
		return 0; /* the feed marks it unknown first */
	}
}

static void put_u32(rw_buf *out, size_t v)
{
	uint32_t n = (uint32_t)v;

	rw_buf_put(out, &n, sizeof(n));
}

/* bytes, then a NUL */
static void put_text(rw_buf *out, const rw_buf *b)
{
	rw_buf_put(out, b->p != NULL ? b->p : "", b->len);
	rw_buf_putc(out, '\0');
}

static void put_change(rw_buf *out, const row_change *c, int second)
{
	uint8_t head[4] = { (uint8_t)c->op, (uint8_t)second, (uint8_t)c->n_unique,
			    (uint8_t)c->key_from_hash };

	rw_buf_put(out, head, sizeof(head));
	put_u32(out, c->key.len);
	put_u32(out, c->key_json.len);
	put_u32(out, c->before.len);
	put_u32(out, c->after.len);
	put_text(out, &c->key);
	put_text(out, &c->key_json);
	put_text(out, &c->before);
	put_text(out, &c->after);
	for (uint32_t k = 0; k < c->n_unique; k++) {
		put_u32(out, c->unique[k].len);
		put_u32(out, c->unique_json[k].len);
		put_text(out, &c->unique[k]);
		put_text(out, &c->unique_json[k]);
	}
}

/* Every row change of ev into out: 1, or 0 when one cannot be read. */
static int put_changes(rw_buf *out, const binlog_event *ev, const row_table_info *info,
		       struct batch_head *h)
{
	row_change_iter it;
	row_change c;
	rw_error err;
	int rc, second;

	if (row_change_iter_init(&it, &ev->u.rows, info, &err) != 0)
		return 0;
	row_change_init(&c);
	for (;;) {
		second = it.pending_insert;
		if ((rc = row_change_next(&it, &c, &err)) != 1)
			break;
		put_change(out, &c, second);
		h->changes++;
		h->rows += !second;
	}
	row_change_free(&c);
	row_change_iter_free(&it);
	return rc == 0;
}

/* Every row of ev counted: 1, or 0 when one cannot be read. */
static int count_rows(const binlog_event *ev, struct batch_head *h)
{
	uint32_t n = ev->u.rows.ncols > 0 ? ev->u.rows.ncols : 1;
	value_datum *vals = malloc(2 * (size_t)n * sizeof(*vals));
	rw_error err;
	int64_t rows = vals != NULL ? row_iter_count(&ev->u.rows, vals, &err) : -1;

	free(vals);
	h->rows = rows > 0 ? (uint64_t)rows : 0;
	return rows >= 0;
}

int row_batch_make(rw_buf *out, const binlog_event *ev, const schema_db *db, uint64_t tag,
		   int counts_only)
{
	const binlog_table_map *tm = ev->u.rows.table;
	const row_table_info *info = NULL;
	struct batch_head h;
	size_t start = out->len;
	int ok;

	if (!binlog_event_is_rows(ev->hdr.type) || ev->in_payload || tm == NULL ||
	    ev->u.rows.kind == BINLOG_ROWS_PARTIAL_UPDATE)
		return 0;
	if (!counts_only && !batch_info(db, tm, &info))
		return 0;
	memset(&h, 0, sizeof(h));
	h.magic = BATCH_MAGIC;
	h.flags = counts_only ? BATCH_COUNTS_ONLY : 0;
	h.tag = tag;
	h.check = row_batch_check(ev);
	rw_buf_put(out, &h, sizeof(h)); /* its counts are written at the end */
	ok = counts_only ? count_rows(ev, &h) : put_changes(out, ev, info, &h);
	if (rw_buf_failed(out))
		return RW_E_NOMEM;
	if (!ok) {
		rw_buf_truncate(out, start);
		return 0;
	}
	h.len = out->len - start - sizeof(h);
	memcpy(out->p + start, &h, sizeof(h));
	return 1;
}

int row_batch_open(row_batch *b, const void *p, size_t len)
{
	struct batch_head h;

	if (len < sizeof(h))
		return -1;
	memcpy(&h, p, sizeof(h));
	if (h.magic != BATCH_MAGIC || h.len != len - sizeof(h))
		return -1;
	b->tag = h.tag;
	b->check = h.check;
	b->rows = h.rows;
	b->changes = h.changes;
	b->counts_only = (h.flags & BATCH_COUNTS_ONLY) != 0;
	b->p = (const uint8_t *)p + sizeof(h);
	b->len = (size_t)h.len;
	return 0;
}

void row_batch_iter_init(row_batch_iter *it, const row_batch *b)
{
	it->p = b->counts_only ? b->p + b->len : b->p;
	it->end = b->p + b->len;
}

static uint32_t take_u32(row_batch_iter *it)
{
	uint32_t n;

	memcpy(&n, it->p, sizeof(n));
	it->p += sizeof(n);
	return n;
}

/* A view of n bytes (and the NUL after them) at the iterator. */
static void take_text(row_batch_iter *it, rw_buf *b, uint32_t n)
{
	b->p = (char *)(uintptr_t)it->p;
	b->len = n;
	b->cap = 0;
	b->failed = 0;
	it->p += (size_t)n + 1;
}

int row_batch_next(row_batch_iter *it, const binlog_event *ev, row_change *c, int *second)
{
	uint32_t key, key_json, before, after;

	if (it->p >= it->end)
		return 0;
	c->op = it->p[0];
	*second = it->p[1];
	c->n_unique = it->p[2];
	c->key_from_hash = it->p[3];
	it->p += 4;
	key = take_u32(it);
	key_json = take_u32(it);
	before = take_u32(it);
	after = take_u32(it);
	take_text(it, &c->key, key);
	take_text(it, &c->key_json, key_json);
	take_text(it, &c->before, before);
	take_text(it, &c->after, after);
	for (uint32_t k = 0; k < c->n_unique; k++) {
		uint32_t len = take_u32(it), json = take_u32(it);
		take_text(it, &c->unique[k], len);
		take_text(it, &c->unique_json[k], json);
	}
	c->schema = ev->u.rows.table->schema;
	c->table = ev->u.rows.table->table;
	return 1;
}
