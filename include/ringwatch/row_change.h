/*
 * row_change.h - the row changes of a rows event, in the form the conflict
 * engine compares: which row (a canonical key), what happened to it, and the
 * row before and after as canonical JSON text.
 *
 * The key of a row is "schema NUL table NUL" followed by the canonical key
 * encoding (value_key_encode) of each primary-key column in key order, so
 * equal rows on two masters give equal bytes.  A table without a primary key
 * is keyed by "schema NUL table NUL #" and a 128-bit hash of the whole image
 * (the before image of an update or delete, the inserted row of an insert).
 * An update that changes the primary key is two changes: a delete of the old
 * key and an insert of the new one.
 *
 * Images are JSON objects of the columns present in the image, named by the
 * table map's column names (binlog_row_metadata=FULL), by the names the
 * caller supplies from the master's information_schema, or "@1", "@2"...
 */
#ifndef RINGWATCH_ROW_CHANGE_H
#define RINGWATCH_ROW_CHANGE_H

#include "ringwatch/binlog_event.h"
#include "ringwatch/row_decode.h"
#include "ringwatch/rw_buf.h"
#include "ringwatch/rw_error.h"

#include <stddef.h>
#include <stdint.h>

enum row_change_op {
	ROW_CHANGE_INSERT = 1,
	ROW_CHANGE_UPDATE = 2,
	ROW_CHANGE_DELETE = 3,
};

/* What the caller knows of a table beyond its table map (NULL fields: not known). */
typedef struct row_table_info {
	const char *const *names; /* n_names column names, in table order */
	uint32_t n_names;
	const uint16_t *pk; /* primary-key column indexes, in key order */
	uint32_t n_pk;
	/* UNIQUE keys: n_unique keys, key k's column indexes unique[k], unique_len[k] of them */
	const uint16_t *const *unique;
	const uint32_t *unique_len;
	uint32_t n_unique;
} row_table_info;

/* Most UNIQUE keys of a table that are compared for insert-insert. */
#define ROW_CHANGE_MAX_UNIQUE 8

typedef struct row_change {
	int op; /* enum row_change_op */
	const char *schema;
	const char *table;
	rw_buf key;        /* canonical key bytes (may hold NULs) */
	rw_buf key_json;   /* the key for people: {"id": 1}, or {"#": "<hex hash>"} */
	rw_buf before;     /* JSON object, "" when the change has no before image */
	rw_buf after;      /* JSON object, "" when it has no after image */
	int key_from_hash; /* the table has no primary key */
	/* inserts: the row's UNIQUE keys, each "schema NUL table NUL U<k> NUL" and the
	 * canonical values (a key with a NULL value is left out: NULLs never collide) */
	rw_buf unique[ROW_CHANGE_MAX_UNIQUE];
	rw_buf unique_json[ROW_CHANGE_MAX_UNIQUE]; /* each for people: {"email": "..."} */
	uint32_t n_unique;
} row_change;

/* Iterates the row changes of one rows event. */
typedef struct row_change_iter {
	row_iter rows;
	const binlog_table_map *tm;
	const row_table_info *info;
	value_datum *before, *after; /* ncols values each (owned) */
	int pending_insert;          /* a primary-key update's insert half is next */
	int no_images;               /* set by the caller: before and after stay "" */
	/* set by the caller: no after image and no JSON of the keys ("" each), the keys'
	 * bytes and the before image only */
	int light;
	rw_buf names;       /* each column's "name": rendered once (owned) */
	uint32_t *name_off; /* where column i's starts in names (ncols + 1) */
} row_change_iter;

/*
 * Start on a rows event (WRITE/UPDATE/DELETE, v1 or v2; not PARTIAL_UPDATE,
 * which holds no full after image: RW_E_UNSUPPORTED).  info may be NULL.
 */
RW_MUST_CHECK int row_change_iter_init(row_change_iter *it, const binlog_rows *rows,
				       const row_table_info *info, rw_error *err);

/*
 * The next change into *out (its buffers are reused: row_change_init() it
 * once, row_change_free() it at the end): 1, 0 at the end, or RW_E_*.
 */
RW_MUST_CHECK int row_change_next(row_change_iter *it, row_change *out, rw_error *err);

/*
 * Step over the next row (a pending primary-key update's insert half
 * first) without keying or rendering it: 1, 0 at the end, or RW_E_*.  A
 * primary-key update skipped whole counts once.
 */
RW_MUST_CHECK int row_change_skip(row_change_iter *it, rw_error *err);

void row_change_iter_free(row_change_iter *it);

void row_change_init(row_change *c);
void row_change_free(row_change *c);

#endif
