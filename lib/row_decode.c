/*
 * row_decode.c - row images: present and null bitmaps, and every column type
 * as MySQL and MariaDB write it into rows events.
 */
#include "ringwatch/row_decode.h"

#include "rw_bytes.h"

#include <string.h>

static int need(size_t n, size_t len, int64_t pos, const binlog_column *col, rw_error *err)
{
	if (n <= len)
		return 0;
	return rw_error_set(err, RW_E_TRUNCATED, pos, "column of type %u needs %zu bytes, %zu left",
			    col->type, n, len);
}

static int64_t sign_extend(uint64_t v, unsigned bytes)
{
	unsigned shift = 64 - 8 * bytes;

	return (int64_t)(v << shift) >> shift;
}

static int dec_int(const binlog_column *col, const uint8_t *p, size_t len, int64_t pos, unsigned n,
		   value_datum *out, size_t *used, rw_error *err)
{
	uint64_t v;
	int rc = need(n, len, pos, col, err);

	if (rc < 0)
		return rc;
	v = rw_le(p, n);
	if (col->is_unsigned) {
		out->kind = VALUE_UINT;
		out->v.u = v;
	} else {
		out->kind = VALUE_INT;
		out->v.i = sign_extend(v, n);
	}
	*used = n;
	return 0;
}

static int dec_float(const binlog_column *col, const uint8_t *p, size_t len, int64_t pos,
		     value_datum *out, size_t *used, rw_error *err)
{
	int rc = need(col->type == BINLOG_TYPE_FLOAT ? 4 : 8, len, pos, col, err);

	if (rc < 0)
		return rc;
	if (col->type == BINLOG_TYPE_FLOAT) {
		uint32_t u = (uint32_t)rw_le(p, 4);
		float f;

		memcpy(&f, &u, 4);
		out->kind = VALUE_FLOAT;
		out->v.d = f;
		*used = 4;
	} else {
		uint64_t u = rw_le(p, 8);

		memcpy(&out->v.d, &u, 8);
		out->kind = VALUE_DOUBLE;
		*used = 8;
	}
	return 0;
}

/* A length prefix of lenlen bytes, then that many bytes. */
static int dec_counted(const binlog_column *col, const uint8_t *p, size_t len, int64_t pos,
		       unsigned lenlen, value_datum *out, size_t *used, rw_error *err)
{
	uint64_t n;
	int rc;

	if (lenlen < 1 || lenlen > 4)
		return rw_error_set(err, RW_E_INVALID, pos, "column type %u: length of %u bytes",
				    col->type, lenlen);
	rc = need(lenlen, len, pos, col, err);
	if (rc < 0)
		return rc;
	n = rw_le(p, lenlen);
	rc = need(lenlen + (size_t)n, len, pos, col, err);
	if (rc < 0)
		return rc;
	out->v.b.p = p + lenlen;
	out->v.b.len = (size_t)n;
	*used = lenlen + (size_t)n;
	return 0;
}

static void set_text_kind(const binlog_column *col, value_datum *out)
{
	out->kind = col->charset == BINLOG_CHARSET_BINARY ? VALUE_BINARY : VALUE_STRING;
	out->charset = col->charset;
}

static int dec_blob(const binlog_column *col, const uint8_t *p, size_t len, int64_t pos,
		    value_datum *out, size_t *used, rw_error *err)
{
	int rc = dec_counted(col, p, len, pos, col->meta, out, used, err);

	if (rc < 0)
		return rc;
	switch (col->type) {
	case BINLOG_TYPE_JSON:
		out->kind = VALUE_JSON;
		break;
	case BINLOG_TYPE_GEOMETRY:
		out->kind = VALUE_BINARY;
		break;
	case BINLOG_TYPE_VECTOR:
		out->kind = VALUE_VECTOR;
		break;
	case BINLOG_TYPE_BLOB_COMPRESSED:
		out->kind = VALUE_BINARY; /* MariaDB compressed column: raw */
		break;
	default:
		set_text_kind(col, out);
	}
	return 0;
}

static int dec_string(const binlog_column *col, const uint8_t *p, size_t len, int64_t pos,
		      value_datum *out, size_t *used, rw_error *err)
{
	int rc = dec_counted(col, p, len, pos, col->meta < 256 ? 1 : 2, out, used, err);

	if (rc == 0)
		set_text_kind(col, out);
	if (rc == 0 && col->type == BINLOG_TYPE_VARCHAR_COMPRESSED)
		out->kind = VALUE_BINARY;
	return rc;
}

static int dec_enum_set(const binlog_column *col, const uint8_t *p, size_t len, int64_t pos,
			value_datum *out, size_t *used, rw_error *err)
{
	unsigned n = col->meta;
	int rc;

	if (n < 1 || n > 8 || (col->real_type == BINLOG_TYPE_ENUM && n > 2))
		return rw_error_set(err, RW_E_INVALID, pos, "ENUM/SET of %u bytes", n);
	rc = need(n, len, pos, col, err);
	if (rc < 0)
		return rc;
	out->kind = col->real_type == BINLOG_TYPE_ENUM ? VALUE_ENUM : VALUE_SET;
	out->v.u = rw_le(p, n);
	out->names = col->n_strs ? col : NULL;
	*used = n;
	return 0;
}

static int dec_bit(const binlog_column *col, const uint8_t *p, size_t len, int64_t pos,
		   value_datum *out, size_t *used, rw_error *err)
{
	unsigned n = (col->meta >> 8) + ((col->meta & 0xff) != 0);
	int rc;

	if (n < 1 || n > 8)
		return rw_error_set(err, RW_E_INVALID, pos, "BIT of %u bytes", n);
	rc = need(n, len, pos, col, err);
	if (rc < 0)
		return rc;
	out->kind = VALUE_BIT;
	out->v.u = rw_be(p, n);
	*used = n;
	return 0;
}

/* Fractional seconds: (fsp + 1) / 2 big-endian bytes, scaled to microseconds. */
static uint32_t frac_usec(const uint8_t *p, unsigned fsp)
{
	switch ((fsp + 1) / 2) {
	case 1:
		return p[0] * 10000u;
	case 2:
		return (uint32_t)rw_be(p, 2) * 100u;
	case 3:
		return (uint32_t)rw_be(p, 3);
	}
	return 0;
}

static int check_fsp(const binlog_column *col, int64_t pos, rw_error *err)
{
	if (col->meta > 6)
		return rw_error_set(err, RW_E_INVALID, pos, "column type %u: %u fractional digits",
				    col->type, col->meta);
	return 0;
}

static int dec_time2(const binlog_column *col, const uint8_t *p, size_t len, int64_t pos,
		     value_datum *out, size_t *used, rw_error *err)
{
	unsigned fsp = col->meta, n = 3 + (fsp + 1) / 2;
	int64_t packed, ip, frac = 0;
	int rc = check_fsp(col, pos, err);

	if (rc == 0)
		rc = need(n, len, pos, col, err);
	if (rc < 0)
		return rc;
	memset(&out->v.t, 0, sizeof(out->v.t));
	if (n == 6) {
		packed = (int64_t)rw_be(p, 6) - 0x800000000000LL;
	} else {
		ip = (int64_t)rw_be(p, 3) - 0x800000;
		if (n == 4)
			frac = p[3], frac = (ip < 0 && frac) ? frac - 0x100 : frac;
		else if (n == 5)
			frac = (int64_t)rw_be(p + 3, 2),
			frac = (ip < 0 && frac) ? frac - 0x10000 : frac;
		if (ip < 0 && frac)
			ip++;
		packed = ip * (1 << 24) + frac * (n == 4 ? 10000 : n == 5 ? 100 : 1);
	}
	out->kind = VALUE_TIME;
	out->v.t.neg = packed < 0;
	if (packed < 0)
		packed = -packed;
	out->v.t.usec = (uint32_t)(packed % (1 << 24));
	packed >>= 24;
	out->v.t.hour = (uint32_t)((packed >> 12) % (1 << 10));
	out->v.t.minute = (uint8_t)((packed >> 6) % (1 << 6));
	out->v.t.second = (uint8_t)(packed % (1 << 6));
	out->v.t.fsp = (uint8_t)fsp;
	*used = n;
	return 0;
}

static int dec_datetime2(const binlog_column *col, const uint8_t *p, size_t len, int64_t pos,
			 value_datum *out, size_t *used, rw_error *err)
{
	unsigned fsp = col->meta, n = 5 + (fsp + 1) / 2;
	int64_t ip, ymd, ym, hms;
	int rc = check_fsp(col, pos, err);

	if (rc == 0)
		rc = need(n, len, pos, col, err);
	if (rc < 0)
		return rc;
	memset(&out->v.t, 0, sizeof(out->v.t));
	ip = (int64_t)rw_be(p, 5) - 0x8000000000LL;
	if (ip < 0)
		ip = -ip; /* not written by servers; keep it printable */
	ymd = ip >> 17;
	ym = ymd >> 5;
	hms = ip % (1 << 17);
	out->kind = VALUE_DATETIME;
	out->v.t.year = (uint32_t)(ym / 13);
	out->v.t.month = (uint8_t)(ym % 13);
	out->v.t.day = (uint8_t)(ymd % (1 << 5));
	out->v.t.hour = (uint32_t)(hms >> 12);
	out->v.t.minute = (uint8_t)((hms >> 6) % (1 << 6));
	out->v.t.second = (uint8_t)(hms % (1 << 6));
	out->v.t.usec = frac_usec(p + 5, fsp);
	out->v.t.fsp = (uint8_t)fsp;
	*used = n;
	return 0;
}

static int dec_timestamp(const binlog_column *col, const uint8_t *p, size_t len, int64_t pos,
			 value_datum *out, size_t *used, rw_error *err)
{
	int v2 = col->type == BINLOG_TYPE_TIMESTAMP2;
	unsigned fsp = v2 ? col->meta : 0, n = 4 + (fsp + 1) / 2;
	int rc = v2 ? check_fsp(col, pos, err) : 0;

	if (rc == 0)
		rc = need(n, len, pos, col, err);
	if (rc < 0)
		return rc;
	memset(&out->v.t, 0, sizeof(out->v.t));
	out->kind = VALUE_TIMESTAMP;
	out->v.t.epoch = (int64_t)(v2 ? rw_be(p, 4) : rw_le(p, 4));
	out->v.t.usec = frac_usec(p + 4, fsp);
	out->v.t.fsp = (uint8_t)fsp;
	*used = n;
	return 0;
}

static int dec_old_temporal(const binlog_column *col, const uint8_t *p, size_t len, int64_t pos,
			    value_datum *out, size_t *used, rw_error *err)
{
	unsigned n = col->type == BINLOG_TYPE_DATETIME ? 8 : 3;
	int rc = need(n, len, pos, col, err);
	value_temporal *t = &out->v.t;
	uint64_t v;

	if (rc < 0)
		return rc;
	memset(&out->v.t, 0, sizeof(out->v.t));
	v = rw_le(p, n);
	if (col->type == BINLOG_TYPE_DATETIME) {
		uint64_t d = v / 1000000, tm = v % 1000000;

		out->kind = VALUE_DATETIME;
		t->year = (uint32_t)(d / 10000), t->month = (uint8_t)(d / 100 % 100);
		t->day = (uint8_t)(d % 100), t->hour = (uint32_t)(tm / 10000);
		t->minute = (uint8_t)(tm / 100 % 100), t->second = (uint8_t)(tm % 100);
	} else if (col->type == BINLOG_TYPE_TIME) {
		int64_t s = sign_extend(v, 3);

		out->kind = VALUE_TIME;
		t->neg = s < 0;
		s = s < 0 ? -s : s;
		t->hour = (uint32_t)(s / 10000), t->minute = (uint8_t)(s / 100 % 100);
		t->second = (uint8_t)(s % 100);
	} else { /* DATE, NEWDATE */
		out->kind = VALUE_DATE;
		t->day = (uint8_t)(v & 31), t->month = (uint8_t)((v >> 5) & 15);
		t->year = (uint32_t)(v >> 9);
	}
	*used = n;
	return 0;
}

static int dec_decimal(const binlog_column *col, const uint8_t *p, size_t len, int64_t pos,
		       value_datum *out, size_t *used, rw_error *err)
{
	unsigned prec = col->meta >> 8, scale = col->meta & 0xff;
	size_t n = value_decimal_size(prec, scale);
	int rc;

	if (n == 0)
		return rw_error_set(err, RW_E_INVALID, pos, "DECIMAL(%u,%u)", prec, scale);
	rc = need(n, len, pos, col, err);
	if (rc < 0)
		return rc;
	out->kind = VALUE_DECIMAL;
	out->precision = (uint8_t)prec;
	out->scale = (uint8_t)scale;
	out->v.b.p = p;
	out->v.b.len = n;
	*used = n;
	return 0;
}

static int dec_year(const binlog_column *col, const uint8_t *p, size_t len, int64_t pos,
		    value_datum *out, size_t *used, rw_error *err)
{
	int rc = need(1, len, pos, col, err);

	if (rc < 0)
		return rc;
	out->kind = VALUE_YEAR;
	out->v.u = p[0] ? 1900u + p[0] : 0;
	*used = 1;
	return 0;
}

/*
 * Decode into *vp directly (row images are decoded in place: copying a value
 * assembled on the stack stalled on store forwarding).  *vp is unspecified
 * on failure; row_value_decode() keeps the library's contract.  A switch,
 * not a table of functions, so the common decoders inline.
 */
static int value_decode_into(const binlog_column *col, const uint8_t *p, size_t len, int64_t pos,
			     value_datum *vp, size_t *used, rw_error *err)
{
	/* only the fields every kind reads are cleared: this runs once per value */
	vp->type = col->real_type;
	vp->precision = vp->scale = 0;
	vp->charset = 0;
	vp->names = NULL;
	vp->v.u = 0;
	switch (col->real_type) {
	case BINLOG_TYPE_TINY:
		return dec_int(col, p, len, pos, 1, vp, used, err);
	case BINLOG_TYPE_SHORT:
		return dec_int(col, p, len, pos, 2, vp, used, err);
	case BINLOG_TYPE_INT24:
		return dec_int(col, p, len, pos, 3, vp, used, err);
	case BINLOG_TYPE_LONG:
		return dec_int(col, p, len, pos, 4, vp, used, err);
	case BINLOG_TYPE_LONGLONG:
		return dec_int(col, p, len, pos, 8, vp, used, err);
	case BINLOG_TYPE_FLOAT:
	case BINLOG_TYPE_DOUBLE:
		return dec_float(col, p, len, pos, vp, used, err);
	case BINLOG_TYPE_NEWDECIMAL:
		return dec_decimal(col, p, len, pos, vp, used, err);
	case BINLOG_TYPE_YEAR:
		return dec_year(col, p, len, pos, vp, used, err);
	case BINLOG_TYPE_DATE:
	case BINLOG_TYPE_NEWDATE:
	case BINLOG_TYPE_TIME:
	case BINLOG_TYPE_DATETIME:
		return dec_old_temporal(col, p, len, pos, vp, used, err);
	case BINLOG_TYPE_TIME2:
		return dec_time2(col, p, len, pos, vp, used, err);
	case BINLOG_TYPE_DATETIME2:
		return dec_datetime2(col, p, len, pos, vp, used, err);
	case BINLOG_TYPE_TIMESTAMP:
	case BINLOG_TYPE_TIMESTAMP2:
		return dec_timestamp(col, p, len, pos, vp, used, err);
	case BINLOG_TYPE_VARCHAR:
	case BINLOG_TYPE_VAR_STRING:
	case BINLOG_TYPE_STRING:
	case BINLOG_TYPE_VARCHAR_COMPRESSED:
		return dec_string(col, p, len, pos, vp, used, err);
	case BINLOG_TYPE_ENUM:
	case BINLOG_TYPE_SET:
		return dec_enum_set(col, p, len, pos, vp, used, err);
	case BINLOG_TYPE_BIT:
		return dec_bit(col, p, len, pos, vp, used, err);
	case BINLOG_TYPE_BLOB:
	case BINLOG_TYPE_TINY_BLOB:
	case BINLOG_TYPE_MEDIUM_BLOB:
	case BINLOG_TYPE_LONG_BLOB:
	case BINLOG_TYPE_GEOMETRY:
	case BINLOG_TYPE_JSON:
	case BINLOG_TYPE_VECTOR:
	case BINLOG_TYPE_BLOB_COMPRESSED:
		return dec_blob(col, p, len, pos, vp, used, err);
	case BINLOG_TYPE_NULL:
		vp->kind = VALUE_NULL;
		*used = 0;
		return 0;
	}
	return rw_error_set(err, RW_E_UNSUPPORTED, pos, "column type %u is not supported",
			    col->real_type);
}

int row_value_decode(const binlog_column *col, const uint8_t *p, size_t len, int64_t pos,
		     value_datum *out, size_t *used, rw_error *err)
{
	value_datum v;
	size_t n = 0;
	int rc = value_decode_into(col, p, len, pos, &v, &n, err);

	if (rc < 0)
		return rc;
	*out = v;
	*used = n;
	return 0;
}

static unsigned popcount_bits(const uint8_t *bits, uint32_t n)
{
	unsigned c = 0;

	for (uint32_t i = 0; i < n; i++)
		c += (bits[i / 8] >> (i % 8)) & 1;
	return c;
}

static int64_t iter_off(const row_iter *it)
{
	return it->base < 0 ? -1 : it->base + (int64_t)it->pos;
}

static int iter_take(row_iter *it, size_t n, const uint8_t **p, rw_error *err)
{
	if (n > it->len - it->pos)
		return rw_error_set(err, RW_E_TRUNCATED, iter_off(it),
				    "row image: needs %zu bytes, %zu left", n, it->len - it->pos);
	*p = it->p + it->pos;
	it->pos += n;
	return 0;
}

static int iter_json_diff(row_iter *it, const binlog_column *col, value_datum *out, rw_error *err)
{
	size_t used = 0;
	value_datum v;
	binlog_column c = *col;
	int rc;

	c.type = c.real_type = BINLOG_TYPE_BLOB; /* a diff vector is length-prefixed like a BLOB */
	rc = row_value_decode(&c, it->p + it->pos, it->len - it->pos, iter_off(it), &v, &used, err);
	if (rc < 0)
		return rc;
	v.kind = VALUE_JSON_DIFF;
	v.type = BINLOG_TYPE_JSON;
	*out = v;
	it->pos += used;
	return 0;
}

/* One image: null bitmap over the present columns, then their values. */
static int iter_image(row_iter *it, const uint8_t *present, const uint8_t *partial,
		      value_datum *out, rw_error *err)
{
	uint32_t ncols = it->rows->ncols, k = 0, j = 0;
	const uint8_t *nulls = NULL;
	int rc = iter_take(it, (popcount_bits(present, ncols) + 7) / 8, &nulls, err);

	for (uint32_t i = 0; rc == 0 && i < ncols; i++) {
		const binlog_column *col = &it->tm->cols[i];
		int is_json = col->type == BINLOG_TYPE_JSON;
		size_t used = 0;

		if (!((present[i / 8] >> (i % 8)) & 1)) {
			memset(&out[i], 0, sizeof(out[i]));
			out[i].kind = VALUE_ABSENT;
			out[i].type = col->real_type;
		} else if ((nulls[k / 8] >> (k % 8)) & 1) {
			memset(&out[i], 0, sizeof(out[i]));
			out[i].kind = VALUE_NULL;
			out[i].type = col->real_type;
			k++;
		} else if (is_json && partial != NULL && ((partial[j / 8] >> (j % 8)) & 1)) {
			rc = iter_json_diff(it, col, &out[i], err);
			k++;
		} else {
			rc = value_decode_into(col, it->p + it->pos, it->len - it->pos,
					       iter_off(it), &out[i], &used, err);
			it->pos += used;
			k++;
		}
		j += is_json;
	}
	return rc;
}

/* PARTIAL_UPDATE_ROWS: value options, and the partial-JSON bitmap, before the after image. */
static int iter_partial_bits(row_iter *it, const uint8_t **partial, rw_error *err)
{
	rw_cur c;
	uint64_t opts = 0;
	int rc;

	rw_cur_init(&c, it->p + it->pos, it->len - it->pos, iter_off(it), "PARTIAL_UPDATE_ROWS");
	rc = rw_cur_lenenc(&c, &opts, err);
	if (rc < 0)
		return rc;
	it->pos += c.pos;
	*partial = NULL;
	if (opts & 1)
		return iter_take(it, (it->n_json + 7) / 8, partial, err);
	return 0;
}

int row_iter_init(row_iter *it, const binlog_rows *rows, rw_error *err)
{
	const binlog_table_map *tm = rows->table;

	if (tm == NULL)
		return rw_error_set(err, RW_E_INVALID, rows->data_offset,
				    "rows event for table id %llu without its TABLE_MAP",
				    (unsigned long long)rows->table_id);
	if (tm->ncols < rows->ncols)
		return rw_error_set(err, RW_E_INVALID, rows->data_offset,
				    "rows event has %u columns, its TABLE_MAP %u", rows->ncols,
				    tm->ncols);
	memset(it, 0, sizeof(*it));
	it->rows = rows;
	it->tm = tm;
	it->p = rows->data;
	it->len = rows->data_len;
	it->base = rows->data_offset;
	for (uint32_t i = 0; i < tm->ncols; i++)
		it->n_json += tm->cols[i].type == BINLOG_TYPE_JSON;
	return 0;
}

static void all_absent(value_datum *v, uint32_t n)
{
	memset(v, 0, n * sizeof(*v));
}

int row_iter_next(row_iter *it, value_datum *before, value_datum *after, rw_error *err)
{
	const binlog_rows *r = it->rows;
	const uint8_t *partial = NULL;
	size_t start = it->pos;
	int rc;

	if (it->pos >= it->len)
		return 0;
	switch (r->kind) {
	case BINLOG_ROWS_WRITE:
		all_absent(before, r->ncols);
		rc = iter_image(it, r->present, NULL, after, err);
		break;
	case BINLOG_ROWS_DELETE:
		all_absent(after, r->ncols);
		rc = iter_image(it, r->present, NULL, before, err);
		break;
	default:
		rc = iter_image(it, r->present, NULL, before, err);
		if (rc == 0 && r->kind == BINLOG_ROWS_PARTIAL_UPDATE)
			rc = iter_partial_bits(it, &partial, err);
		if (rc == 0)
			rc = iter_image(it, r->present_update, partial, after, err);
	}
	if (rc < 0)
		return rc;
	/* a row with no column in its images takes no bytes: it is the only one */
	if (it->pos == start)
		it->pos = it->len;
	return 1;
}

int64_t row_iter_count(const binlog_rows *rows, value_datum *vals, rw_error *err)
{
	uint32_t n = rows->ncols > 0 ? rows->ncols : 1;
	row_iter it;
	int64_t count = 0;
	int rc;

	if ((rc = row_iter_init(&it, rows, err)) < 0)
		return rc;
	while ((rc = row_iter_next(&it, vals, vals + n, err)) == 1)
		count++;
	return rc < 0 ? rc : count;
}
