/*
 * binlog_rows.c - the framing of rows events (WRITE/UPDATE/DELETE_ROWS v1
 * and v2, PARTIAL_UPDATE_ROWS, MariaDB's compressed rows): table id, flags,
 * extra data, column count and present-column bitmaps.  The row images are
 * decoded by row_decode.c.
 */
#include "ringwatch/binlog_event.h"
#include "ringwatch/binlog_event_type.h"

#include "binlog_decode.h"
#include "rw_bytes.h"

#include <string.h>

int binlog_event_is_rows(unsigned type)
{
	return (type >= BINLOG_PRE_GA_WRITE_ROWS && type <= BINLOG_DELETE_ROWS_V1) ||
	       (type >= BINLOG_WRITE_ROWS && type <= BINLOG_DELETE_ROWS) ||
	       type == BINLOG_PARTIAL_UPDATE_ROWS ||
	       (type >= BINLOG_WRITE_ROWS_COMPRESSED_V1 && type <= BINLOG_DELETE_ROWS_COMPRESSED);
}

static void rows_kind(unsigned type, binlog_rows *r)
{
	static const struct {
		uint8_t type, kind, version, compressed;
	} map[] = {
		{ BINLOG_PRE_GA_WRITE_ROWS, BINLOG_ROWS_WRITE, 1, 0 },
		{ BINLOG_PRE_GA_UPDATE_ROWS, BINLOG_ROWS_UPDATE, 1, 0 },
		{ BINLOG_PRE_GA_DELETE_ROWS, BINLOG_ROWS_DELETE, 1, 0 },
		{ BINLOG_WRITE_ROWS_V1, BINLOG_ROWS_WRITE, 1, 0 },
		{ BINLOG_UPDATE_ROWS_V1, BINLOG_ROWS_UPDATE, 1, 0 },
		{ BINLOG_DELETE_ROWS_V1, BINLOG_ROWS_DELETE, 1, 0 },
		{ BINLOG_WRITE_ROWS, BINLOG_ROWS_WRITE, 2, 0 },
		{ BINLOG_UPDATE_ROWS, BINLOG_ROWS_UPDATE, 2, 0 },
		{ BINLOG_DELETE_ROWS, BINLOG_ROWS_DELETE, 2, 0 },
		{ BINLOG_PARTIAL_UPDATE_ROWS, BINLOG_ROWS_PARTIAL_UPDATE, 2, 0 },
		{ BINLOG_WRITE_ROWS_COMPRESSED_V1, BINLOG_ROWS_WRITE, 1, 1 },
		{ BINLOG_UPDATE_ROWS_COMPRESSED_V1, BINLOG_ROWS_UPDATE, 1, 1 },
		{ BINLOG_DELETE_ROWS_COMPRESSED_V1, BINLOG_ROWS_DELETE, 1, 1 },
		{ BINLOG_WRITE_ROWS_COMPRESSED, BINLOG_ROWS_WRITE, 2, 1 },
		{ BINLOG_UPDATE_ROWS_COMPRESSED, BINLOG_ROWS_UPDATE, 2, 1 },
		{ BINLOG_DELETE_ROWS_COMPRESSED, BINLOG_ROWS_DELETE, 2, 1 },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (map[i].type != type)
			continue;
		r->kind = map[i].kind;
		r->version = map[i].version;
		r->compressed = map[i].compressed;
		return;
	}
}

static int rows_extra(binlog_rows *r, rw_cur *c, rw_error *err)
{
	uint16_t n;
	int64_t at = rw_cur_off(c);
	int rc = rw_cur_u16(c, &n, err);

	if (rc < 0)
		return rc;
	if (n < 2)
		return rw_error_set(err, RW_E_INVALID, at, "rows event: extra data length %u", n);
	r->extra_len = n - 2u;
	return rw_cur_bytes(c, r->extra_len, &r->extra, err);
}

int binlog_rows_decode(unsigned type, const uint8_t *body, size_t len, unsigned post_header_len,
		       int64_t pos, binlog_rows *out, rw_error *err)
{
	binlog_rows r;
	rw_cur c;
	uint64_t ncols = 0;
	unsigned id_len = post_header_len == 6 ? 4 : 6;
	unsigned fixed = id_len + 2;
	int rc;

	memset(&r, 0, sizeof(r));
	rows_kind(type, &r);
	rw_cur_init(&c, body, len, pos, binlog_event_type_name(type));
	rc = rw_cur_uint(&c, id_len, &r.table_id, err);
	if (rc == 0)
		rc = rw_cur_u16(&c, &r.flags, err);
	if (rc == 0 && r.version == 2)
		rc = rows_extra(&r, &c, err), fixed += 2;
	if (rc == 0 && post_header_len > fixed)
		rc = rw_cur_skip(&c, post_header_len - fixed, err);
	if (rc == 0)
		rc = rw_cur_lenenc(&c, &ncols, err);
	if (rc == 0 && (ncols == 0 || ncols > BINLOG_MAX_COLUMNS))
		rc = rw_error_set(err, RW_E_INVALID, rw_cur_off(&c), "%s: %llu columns",
				  binlog_event_type_name(type), (unsigned long long)ncols);
	if (rc == 0)
		rc = rw_cur_bytes(&c, (size_t)(ncols + 7) / 8, &r.present, err);
	if (rc == 0 && (r.kind == BINLOG_ROWS_UPDATE || r.kind == BINLOG_ROWS_PARTIAL_UPDATE))
		rc = rw_cur_bytes(&c, (size_t)(ncols + 7) / 8, &r.present_update, err);
	if (rc < 0)
		return rc;
	r.ncols = (uint32_t)ncols;
	r.data = rw_cur_ptr(&c);
	r.data_len = rw_cur_left(&c);
	r.data_offset = rw_cur_off(&c);
	*out = r;
	return 0;
}
