/*
 * fuzz_binlog_rows.c - TABLE_MAP and rows event decoding, row images, value
 * rendering and key encoding on arbitrary bytes (layout: binlog_rows_layout.h).
 */
#include "ringwatch/binlog_event.h"
#include "ringwatch/row_decode.h"
#include "ringwatch/value.h"

#include "binlog_rows_layout.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* results that do not matter here, kept so warn_unused_result stays quiet */
static int sink;

static void render_rows(const binlog_rows *rows)
{
	value_datum *a = calloc(BINLOG_MAX_COLUMNS, sizeof(*a));
	value_datum *b = calloc(BINLOG_MAX_COLUMNS, sizeof(*b));
	rw_buf out = RW_BUF_INIT;
	row_iter it;
	rw_error err;

	if (a != NULL && b != NULL && row_iter_init(&it, rows, &err) == 0)
		while (row_iter_next(&it, a, b, &err) == 1)
			for (uint32_t i = 0; i < rows->ncols; i++) {
				sink += value_to_json(&a[i], &out, &err);
				sink += value_to_json(&b[i], &out, &err);
				sink += value_key_encode(&a[i], &out, &err);
				sink += value_key_encode(&b[i], &out, &err);
				rw_buf_reset(&out);
			}
	rw_buf_free(&out);
	free(a);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	binlog_table_map *tm = NULL;
	binlog_fde fde;
	binlog_event ev;
	rw_error err;
	uint8_t *event;
	size_t n, body;

	if (size < 3)
		return 0;
	n = data[0] | (size_t)data[1] << 8;
	if (n > size - 3)
		return 0;
	if (binlog_table_map_decode(data + 2, n, FUZZ_ROWS_TM_POST_HEADER, 0, &tm, &err) < 0)
		return 0;
	body = size - 3 - n;
	event = malloc(19 + body);
	if (event != NULL) {
		memset(event, 0, 19);
		event[4] = data[2 + n];
		memcpy(event + 19, data + 3 + n, body);
		binlog_fde_default(&fde);
		if (binlog_event_decode(&fde, event, 19 + body, 0, &ev, &err) == 0) {
			if (binlog_event_is_rows(ev.hdr.type) && !ev.u.rows.compressed) {
				ev.u.rows.table = tm;
				render_rows(&ev.u.rows);
			}
			binlog_event_cleanup(&ev);
		}
	}
	free(event);
	binlog_table_map_free(tm);
	return 0;
}
