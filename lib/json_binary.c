/*
 * json_binary.c - MySQL binary JSON to JSON text (MySQL's own spacing:
 * {"a": 1, "b": [1, 2]}), and PARTIAL_UPDATE_ROWS diff vectors.
 *
 * It and value.c use each other, as the data does: a JSON document holds
 * DECIMAL and temporal scalars (written by value.c), and a JSON column's
 * value is a document (read here).
 */
#include "ringwatch/json_binary.h"

#include "ringwatch/value.h"
#include "rw_bytes.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	JB_SMALL_OBJECT = 0,
	JB_LARGE_OBJECT = 1,
	JB_SMALL_ARRAY = 2,
	JB_LARGE_ARRAY = 3,
	JB_LITERAL = 4,
	JB_INT16 = 5,
	JB_UINT16 = 6,
	JB_INT32 = 7,
	JB_UINT32 = 8,
	JB_INT64 = 9,
	JB_UINT64 = 10,
	JB_DOUBLE = 11,
	JB_STRING = 12,
	JB_OPAQUE = 15,
};

typedef struct jb {
	const uint8_t *base; /* the whole document, for error offsets */
	int64_t pos;
	rw_buf *out;
	rw_error *err;
} jb;

static int jb_fail(const jb *j, const uint8_t *at, int code, const char *what)
{
	return rw_error_set(j->err, code, j->pos < 0 ? -1 : j->pos + (at - j->base),
			    "JSON document: %s", what);
}

static int jb_value(const jb *j, unsigned type, const uint8_t *p, size_t len, int depth);

/* Variable-length size: 7 bits a byte, low first, high bit = more (at most 5 bytes). */
static int jb_varlen(const jb *j, const uint8_t *p, size_t len, size_t *n, size_t *used)
{
	uint64_t v = 0;

	for (size_t i = 0; i < len && i < 5; i++) {
		v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			if (v > UINT32_MAX)
				break;
			*n = (size_t)v;
			*used = i + 1;
			return 0;
		}
	}
	return jb_fail(j, p, RW_E_INVALID, "bad length");
}

static void jb_double(rw_buf *out, double d)
{
	char tmp[40];

	if (!isfinite(d)) {
		rw_buf_puts(out, "null");
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	rw_buf_puts(out, tmp);
}

static int jb_string(const jb *j, const uint8_t *p, size_t len)
{
	size_t n, used;
	int rc = jb_varlen(j, p, len, &n, &used);

	if (rc < 0)
		return rc;
	if (n > len - used)
		return jb_fail(j, p, RW_E_TRUNCATED, "string runs past the document");
	rw_buf_json_str(j->out, (const char *)p + used, n);
	return 0;
}

/* A scalar stored inline in a value entry, or at an offset. */
static int jb_scalar(const jb *j, unsigned type, const uint8_t *p, size_t len)
{
	static const uint8_t width[] = {
		[JB_INT16] = 2, [JB_UINT16] = 2, [JB_INT32] = 4,  [JB_UINT32] = 4,
		[JB_INT64] = 8, [JB_UINT64] = 8, [JB_DOUBLE] = 8, [JB_LITERAL] = 1
	};
	uint64_t u;

	if (len < width[type])
		return jb_fail(j, p, RW_E_TRUNCATED, "scalar runs past the document");
	u = rw_le(p, width[type]);
	switch (type) {
	case JB_LITERAL:
		if (u > 2)
			return jb_fail(j, p, RW_E_INVALID, "bad literal");
		rw_buf_puts(j->out, u == 0 ? "null" : u == 1 ? "true" : "false");
		return 0;
	case JB_INT16:
		rw_buf_printf(j->out, "%d", (int16_t)u);
		return 0;
	case JB_INT32:
		rw_buf_printf(j->out, "%" PRId32, (int32_t)u);
		return 0;
	case JB_INT64:
		rw_buf_printf(j->out, "%" PRId64, (int64_t)u);
		return 0;
	case JB_DOUBLE: {
		double d;

		memcpy(&d, &u, 8);
		jb_double(j->out, d);
		return 0;
	}
	}
	rw_buf_printf(j->out, "%" PRIu64, u);
	return 0;
}

static int jb_inline(unsigned type, int large)
{
	return type == JB_LITERAL || type == JB_INT16 || type == JB_UINT16 ||
	       (large && (type == JB_INT32 || type == JB_UINT32));
}

static int jb_key(const jb *j, const uint8_t *p, size_t size, const uint8_t *entry, unsigned w)
{
	size_t off = (size_t)rw_le(entry, w), n = (size_t)rw_le(entry + w, 2);

	if (off > size || n > size - off)
		return jb_fail(j, entry, RW_E_INVALID, "key outside its object");
	rw_buf_json_str(j->out, (const char *)p + off, n);
	rw_buf_puts(j->out, ": ");
	return 0;
}

static int jb_container(const jb *j, unsigned type, const uint8_t *p, size_t len, int depth)
{
	int large = type == JB_LARGE_OBJECT || type == JB_LARGE_ARRAY;
	int obj = type == JB_SMALL_OBJECT || type == JB_LARGE_OBJECT;
	unsigned w = large ? 4 : 2;
	size_t count, size, ventries;
	int rc = 0;

	if (depth > JSON_BINARY_MAX_DEPTH)
		return jb_fail(j, p, RW_E_LIMIT, "nested too deeply");
	if (len < 2 * w)
		return jb_fail(j, p, RW_E_TRUNCATED, "container header runs past the document");
	count = (size_t)rw_le(p, w);
	size = (size_t)rw_le(p + w, w);
	ventries = 2 * w + (obj ? count * (w + 2) : 0);
	if (size > len || count > size || ventries + count * (1 + w) > size)
		return jb_fail(j, p, RW_E_INVALID, "container larger than its room");
	rw_buf_putc(j->out, obj ? '{' : '[');
	for (size_t i = 0; rc == 0 && i < count; i++) {
		const uint8_t *e = p + ventries + i * (1 + w);

		if (i > 0)
			rw_buf_puts(j->out, ", ");
		if (obj)
			rc = jb_key(j, p, size, p + 2 * w + i * (w + 2), w);
		if (rc < 0)
			break;
		if (jb_inline(e[0], large)) {
			rc = jb_scalar(j, e[0], e + 1, w);
		} else {
			size_t off = (size_t)rw_le(e + 1, w);

			if (off >= size)
				return jb_fail(j, e, RW_E_INVALID, "value outside its container");
			rc = jb_value(j, e[0], p + off, size - off, depth + 1);
		}
	}
	rw_buf_putc(j->out, obj ? '}' : ']');
	return rc;
}

/* Opaque DECIMAL and temporal values print as MySQL prints them; others as base64. */
static int jb_opaque_known(const jb *j, unsigned ftype, const uint8_t *p, size_t n)
{
	value_datum v;
	int64_t packed, ip;

	if (ftype == 246 && n >= 2) {
		rw_error e;

		if (value_decimal_text(p + 2, n - 2, p[0], p[1], j->out, &e) == 0)
			return 1;
		return 0;
	}
	if ((ftype != 10 && ftype != 11 && ftype != 12 && ftype != 7) || n < 8)
		return 0;
	packed = (int64_t)rw_le(p, 8);
	memset(&v, 0, sizeof(v));
	v.v.t.neg = packed < 0;
	if (packed < 0)
		packed = -packed;
	v.v.t.usec = (uint32_t)(packed % (1 << 24));
	ip = packed >> 24;
	v.v.t.fsp = 6;
	if (ftype == 11) {
		v.kind = VALUE_TIME;
		v.v.t.hour = (uint32_t)((ip >> 12) % (1 << 10));
	} else {
		int64_t ymd = ip >> 17, ym = ymd >> 5;

		v.kind = ftype == 10 ? VALUE_DATE : VALUE_DATETIME;
		v.v.t.year = (uint32_t)(ym / 13), v.v.t.month = (uint8_t)(ym % 13);
		v.v.t.day = (uint8_t)(ymd % 32);
		ip %= 1 << 17;
		v.v.t.hour = (uint32_t)(ip >> 12);
	}
	v.v.t.minute = (uint8_t)((ip >> 6) % 64);
	v.v.t.second = (uint8_t)(ip % 64);
	return value_to_json(&v, j->out, NULL) == 0;
}

static int jb_opaque(const jb *j, const uint8_t *p, size_t len)
{
	size_t n, used;
	int rc;

	if (len < 1)
		return jb_fail(j, p, RW_E_TRUNCATED, "opaque value runs past the document");
	rc = jb_varlen(j, p + 1, len - 1, &n, &used);
	if (rc < 0)
		return rc;
	if (n > len - 1 - used)
		return jb_fail(j, p, RW_E_TRUNCATED, "opaque value runs past the document");
	if (jb_opaque_known(j, p[0], p + 1 + used, n))
		return 0;
	{
		rw_buf tmp = RW_BUF_INIT;

		rw_buf_json_base64(&tmp, p + 1 + used, n);
		/* {"base64": "XXXX"} -> "base64:typeN:XXXX", as MySQL prints it */
		if (!rw_buf_failed(&tmp) && tmp.len >= 14)
			rw_buf_printf(j->out, "\"base64:type%u:%.*s\"", p[0], (int)(tmp.len - 14),
				      tmp.p + 12);
		else
			j->out->failed = 1;
		rw_buf_free(&tmp);
	}
	return 0;
}

static int jb_value(const jb *j, unsigned type, const uint8_t *p, size_t len, int depth)
{
	switch (type) {
	case JB_SMALL_OBJECT:
	case JB_LARGE_OBJECT:
	case JB_SMALL_ARRAY:
	case JB_LARGE_ARRAY:
		return jb_container(j, type, p, len, depth);
	case JB_LITERAL:
	case JB_INT16:
	case JB_UINT16:
	case JB_INT32:
	case JB_UINT32:
	case JB_INT64:
	case JB_UINT64:
	case JB_DOUBLE:
		return jb_scalar(j, type, p, len);
	case JB_STRING:
		return jb_string(j, p, len);
	case JB_OPAQUE:
		return jb_opaque(j, p, len);
	}
	return jb_fail(j, p, RW_E_INVALID, "unknown value type");
}

int json_binary_to_text(const uint8_t *p, size_t len, int64_t pos, rw_buf *out, rw_error *err)
{
	jb j = { p, pos, out, err };

	if (len < 1)
		return jb_fail(&j, p, RW_E_TRUNCATED, "empty");
	return jb_value(&j, p[0], p + 1, len - 1, 0);
}

static int diff_one(const jb *j, rw_cur *c)
{
	static const char *const ops[] = { "replace", "insert", "remove" };
	uint8_t op;
	uint64_t n;
	const uint8_t *path = NULL, *val = NULL;
	int rc = rw_cur_u8(c, &op, j->err);

	if (rc == 0 && op > 2)
		return jb_fail(j, c->p + c->pos - 1, RW_E_INVALID, "bad diff operation");
	if (rc == 0)
		rc = rw_cur_lenenc(c, &n, j->err);
	if (rc == 0)
		rc = rw_cur_bytes(c, n > rw_cur_left(c) ? rw_cur_left(c) + 1 : (size_t)n, &path,
				  j->err);
	if (rc < 0)
		return rc;
	rw_buf_printf(j->out, "{\"op\": \"%s\", \"path\": ", ops[op]);
	rw_buf_json_str(j->out, (const char *)path, (size_t)n);
	if (op != 2) {
		rc = rw_cur_lenenc(c, &n, j->err);
		if (rc == 0)
			rc = rw_cur_bytes(c, n > rw_cur_left(c) ? rw_cur_left(c) + 1 : (size_t)n,
					  &val, j->err);
		if (rc == 0) {
			rw_buf_puts(j->out, ", \"value\": ");
			rc = n > 0 ? jb_value(j, val[0], val + 1, (size_t)n - 1, 0)
				   : jb_fail(j, val, RW_E_INVALID, "empty diff value");
		}
	}
	rw_buf_putc(j->out, '}');
	return rc;
}

int json_binary_diff_to_text(const uint8_t *p, size_t len, int64_t pos, rw_buf *out, rw_error *err)
{
	jb j = { p, pos, out, err };
	rw_cur c;
	int rc = 0;

	rw_cur_init(&c, p, len, pos, "JSON diff");
	rw_buf_putc(out, '[');
	for (int i = 0; rc == 0 && rw_cur_left(&c) > 0; i++) {
		if (i > 0)
			rw_buf_puts(out, ", ");
		rc = diff_one(&j, &c);
	}
	rw_buf_putc(out, ']');
	return rc;
}
