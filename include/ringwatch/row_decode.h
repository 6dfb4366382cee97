/*
 * row_decode.h - the row images of a rows event, decoded against its table
 * map into one value_datum per column.
 *
 *	row_iter it;
 *	value_datum before[BINLOG_MAX_COLUMNS], after[BINLOG_MAX_COLUMNS];
 *	if (row_iter_init(&it, &ev.u.rows, &err) < 0) ...
 *	while ((rc = row_iter_next(&it, before, after, &err)) == 1) ...
 *
 * WRITE gives only an after image, DELETE only a before image (the other
 * image's values are all VALUE_ABSENT), UPDATE and PARTIAL_UPDATE both.
 * A column left out of an image (MINIMAL or NOBLOB row images) is
 * VALUE_ABSENT; a PARTIAL_UPDATE's JSON diff is VALUE_JSON_DIFF.
 * Values point into the event and are valid as long as it is.
 */
#ifndef RINGWATCH_ROW_DECODE_H
#define RINGWATCH_ROW_DECODE_H

#include "ringwatch/binlog_event.h"
#include "ringwatch/binlog_table_map.h"
#include "ringwatch/rw_error.h"
#include "ringwatch/value.h"

#include <stddef.h>
#include <stdint.h>

typedef struct row_iter {
	const binlog_rows *rows;
	const binlog_table_map *tm;
	const uint8_t *p;
	size_t len, pos;
	int64_t base;    /* stream offset of p[0], -1 when p is inflated data */
	uint32_t n_json; /* JSON columns in the table (PARTIAL_UPDATE bitmaps) */
} row_iter;

/*
 * Start on rows.  Fails (RW_E_INVALID) when the event has no table map
 * (rows->table NULL: the stream started mid-transaction) or the table map
 * has fewer columns than the event.
 */
RW_MUST_CHECK int row_iter_init(row_iter *it, const binlog_rows *rows, rw_error *err);

/*
 * The next row change: 1 with before[] and after[] (rows->ncols values each)
 * filled, 0 when there are no more rows, or a negative RW_E_*.
 */
RW_MUST_CHECK int row_iter_next(row_iter *it, value_datum *before, value_datum *after,
				rw_error *err);

/*
 * The rows of rows, counted: each decoded (not kept) into vals, room for
 * 2 x rows->ncols values (at least 2).  How many, or a negative RW_E_*
 * when one cannot be read.
 */
RW_MUST_CHECK int64_t row_iter_count(const binlog_rows *rows, value_datum *vals, rw_error *err);

/*
 * Decode one column value of col's type from p (len bytes available) into
 * *out; *used gets the bytes it took.  pos is the offset of p[0] for errors.
 */
RW_MUST_CHECK int row_value_decode(const binlog_column *col, const uint8_t *p, size_t len,
				   int64_t pos, value_datum *out, size_t *used, rw_error *err);

#endif
