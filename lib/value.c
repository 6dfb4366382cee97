/*
 * value.c - column values as JSON text and as canonical key bytes; exact
 * DECIMAL text; temporal text.
 *
 * It and json_binary.c use each other, as the data does: a JSON column's
 * value is a binary document (read by json_binary.c), whose DECIMAL and
 * temporal scalars are written here.
 */
#include "ringwatch/value.h"

#include "ringwatch/binlog_table_map.h"
#include "ringwatch/json_binary.h"
#include "rw_bytes.h"
#include "rw_fmt.h"
#include "value_key.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t dig2bytes[10] = { 0, 1, 1, 2, 2, 3, 3, 4, 4, 4 };
static const uint32_t pow10_tab[10] = { 1,      10,      100,      1000,      10000,
					100000, 1000000, 10000000, 100000000, 1000000000 };

size_t value_decimal_size(unsigned precision, unsigned scale)
{
	unsigned intg;

	if (precision == 0 || precision > 65 || scale > 38 || scale > precision)
		return 0;
	intg = precision - scale;
	return (intg / 9) * 4 + dig2bytes[intg % 9] + (scale / 9) * 4 + dig2bytes[scale % 9];
}

/*
 * The next group of `digits` decimal digits at p[*at]: nbytes big-endian,
 * every bit flipped when the number is negative (mask), and the sign bit of
 * the number's first byte flipped (first).
 */
static inline int dec_group(const uint8_t *p, size_t *at, unsigned digits, uint32_t mask, int first,
			    uint32_t *v, rw_error *err)
{
	unsigned nbytes = digits == 9 ? 4 : dig2bytes[digits];
	const uint8_t *q = p + *at;
	uint32_t x;

	switch (nbytes) {
	case 4:
		x = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
		break;
	case 3:
		x = (uint32_t)q[0] << 16 | (uint32_t)q[1] << 8 | q[2];
		break;
	case 2:
		x = (uint32_t)q[0] << 8 | q[1];
		break;
	default:
		x = q[0];
	}
	if (first)
		x ^= 0x80u << (8 * (nbytes - 1));
	x ^= mask >> (8 * (4 - nbytes));
	*v = x;
	*at += nbytes;
	if (x >= pow10_tab[digits])
		return rw_error_set(err, RW_E_INVALID, -1, "DECIMAL: group %u has %u digits", x,
				    digits);
	return 0;
}

/* A damaged DECIMAL: out keeps what it had (and its NUL); the error. */
static int dec_fail(rw_buf *out, const rw_error *err)
{
	*rw_buf_end(out) = '\0';
	return err->code;
}

/* Longest text of a DECIMAL: 65 digits, a sign, a point and a leading 0. */
#define DECIMAL_TEXT_MAX 72

int value_decimal_text(const uint8_t *p, size_t len, unsigned precision, unsigned scale,
		       rw_buf *out, rw_error *err)
{
	size_t size = value_decimal_size(precision, scale), at = 0;
	unsigned intg = precision - scale, ngroups, digits;
	uint32_t v, nonzero = 0, mask;
	char *o, *start, *ip;
	int neg, first = 1;

	if (size == 0)
		return rw_error_set(err, RW_E_INVALID, -1, "DECIMAL(%u,%u)", precision, scale);
	if (len < size)
		return rw_error_set(err, RW_E_TRUNCATED, -1, "DECIMAL: %zu of %zu bytes", len,
				    size);
	if (rw_buf_reserve(out, DECIMAL_TEXT_MAX) < 0)
		return 0; /* out is failed; the caller checks it */
	neg = !(p[0] & 0x80);
	mask = neg ? 0xffffffffu : 0;
	o = start = rw_buf_end(out);
	if (neg)
		*o++ = '-';
	ip = o;
	if (intg <= 18 && scale <= 18) { /* each part fits a uint64_t: print it whole */
		uint64_t iv = 0, fv = 0;

		ngroups = intg / 9 + (intg % 9 != 0);
		digits = intg % 9 ? intg % 9 : 9;
		for (unsigned g = 0; g < ngroups; g++, digits = 9, first = 0) {
			if (dec_group(p, &at, digits, mask, first, &v, err) < 0)
				return dec_fail(out, err);
			iv = iv * pow10_tab[digits] + v;
		}
		for (unsigned f = 0; f < scale; f += digits, first = 0) {
			digits = scale - f < 9 ? scale - f : 9;
			if (dec_group(p, &at, digits, mask, first, &v, err) < 0)
				return dec_fail(out, err);
			fv = fv * pow10_tab[digits] + v;
		}
		if (neg && iv == 0 && fv == 0)
			o = start; /* -0.00 is 0.00 */
		o = rw_fmt_u64(o, iv);
		if (scale > 0) {
			*o++ = '.';
			o = rw_fmt_digits(o, fv, scale);
		}
		rw_buf_commit(out, o);
		return 0;
	}
	/* the integer part without leading zeroes: a partial group, then groups of 9 */
	ngroups = intg / 9 + (intg % 9 != 0);
	digits = intg % 9 ? intg % 9 : 9;
	for (unsigned g = 0; g < ngroups; g++, digits = 9, first = 0) {
		if (dec_group(p, &at, digits, mask, first, &v, err) < 0)
			return dec_fail(out, err);
		nonzero |= v;
		o = o == ip ? (v ? rw_fmt_u64(o, v) : o) : rw_fmt_digits(o, v, digits);
	}
	if (o == ip)
		*o++ = '0';
	if (scale > 0)
		*o++ = '.';
	for (unsigned f = 0; f < scale; f += digits, first = 0) {
		digits = scale - f < 9 ? scale - f : 9;
		if (dec_group(p, &at, digits, mask, first, &v, err) < 0)
			return dec_fail(out, err);
		nonzero |= v;
		o = rw_fmt_digits(o, v, digits);
	}
	if (neg && !nonzero) { /* -0.00 is 0.00 */
		memmove(start, start + 1, (size_t)(o - start - 1));
		o--;
	}
	rw_buf_commit(out, o);
	return 0;
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	yoe = z - era * 146097;
	yoe = (yoe - yoe / 1460 + yoe / 36524 - yoe / 146096) / 365;
	doy = z - era * 146097 - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* "YYYY-MM-DD" (years past 9999 keep their digits). */
static inline char *fmt_date(char *o, uint64_t y, unsigned m, unsigned d)
{
	if (y <= 9999) {
		o = rw_fmt_2(o, (unsigned)y / 100);
		o = rw_fmt_2(o, (unsigned)y % 100);
	} else {
		o = rw_fmt_digits(o, y, 5);
	}
	*o++ = '-';
	o = rw_fmt_2(o, m % 100);
	*o++ = '-';
	return rw_fmt_2(o, d % 100);
}

/* "HH:MM:SS"; TIME hours may have 3 digits. */
static inline char *fmt_clock(char *o, uint64_t h, unsigned m, unsigned s)
{
	if (h <= 99)
		o = rw_fmt_2(o, (unsigned)h);
	else
		o = rw_fmt_digits(o, h, h > 999 ? 4 : 3);
	*o++ = ':';
	o = rw_fmt_2(o, m % 100);
	*o++ = ':';
	return rw_fmt_2(o, s % 100);
}

/* Longest temporal text: "-1234:59:59.123456" or "12345-12-31 23:59:59.123456". */
#define TEMPORAL_TEXT_MAX 40

/* The text of a temporal value, without quotes, into reserved room. */
static char *temporal_fmt(const value_datum *v, char *o)
{
	const value_temporal *t = &v->v.t;

	switch (v->kind) {
	case VALUE_DATE:
		return fmt_date(o, t->year, t->month, t->day);
	case VALUE_TIME:
		if (t->neg)
			*o++ = '-';
		o = fmt_clock(o, t->hour, t->minute, t->second);
		break;
	case VALUE_DATETIME:
		o = fmt_date(o, t->year, t->month, t->day);
		*o++ = ' ';
		o = fmt_clock(o, t->hour, t->minute, t->second);
		break;
	default: { /* TIMESTAMP: UTC; 0 is MySQL's zero timestamp */
		int64_t y = 0, s = t->epoch % 86400;
		unsigned m = 0, d = 0;

		if (t->epoch != 0)
			civil_from_days(t->epoch / 86400, &y, &m, &d);
		else
			s = 0;
		o = fmt_date(o, (uint64_t)y, m, d);
		*o++ = ' ';
		o = fmt_clock(o, (uint64_t)(s / 3600), (unsigned)(s / 60 % 60), (unsigned)(s % 60));
	}
	}
	if (t->fsp > 0 && t->fsp <= 6) {
		/* the first fsp of six digits: usec / 10^(6 - fsp) in fsp digits */
		*o++ = '.';
		rw_fmt_digits(o, t->usec % 1000000, 6);
		o += t->fsp;
	}
	return o;
}

static void temporal_text(const value_datum *v, rw_buf *out)
{
	if (rw_buf_reserve(out, TEMPORAL_TEXT_MAX) < 0)
		return;
	rw_buf_commit(out, temporal_fmt(v, rw_buf_end(out)));
}

/* The shortest text that reads back as the same float (is_float) or double. */
static void put_double(rw_buf *out, double d, int is_float)
{
	char tmp[40];

	if (!isfinite(d)) {
		rw_buf_puts(out, "null");
		return;
	}
	for (int prec = is_float ? 6 : 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (is_float ? strtof(tmp, NULL) == (float)d : strtod(tmp, NULL) == d)
			break;
	}
	rw_buf_puts(out, tmp);
}

static int charset_is_latin1(unsigned cs)
{
	return cs == 5 || cs == 8 || cs == 15 || cs == 31 || cs == 47 || cs == 48 || cs == 49 ||
	       cs == 94;
}

static void put_string(rw_buf *out, const value_datum *v)
{
	const uint8_t *p = v->v.b.p;
	size_t n = v->v.b.len;

	if (v->kind == VALUE_STRING && charset_is_latin1(v->charset))
		rw_buf_json_latin1(out, p, n);
	else if (v->kind == VALUE_STRING && rw_utf8_valid(p, n))
		rw_buf_json_str(out, (const char *)p, n);
	else
		rw_buf_json_base64(out, p, n);
}

/* A SET value as MySQL shows it: its members' names joined by commas. */
static void join_set(rw_buf *out, const binlog_column *c, uint64_t bits)
{
	rw_buf tmp = RW_BUF_INIT;

	for (uint32_t i = 0; i < c->n_strs && i < 64; i++) {
		if (!((bits >> i) & 1))
			continue;
		if (tmp.len > 0)
			rw_buf_putc(&tmp, ',');
		rw_buf_puts(&tmp, c->strs[i]);
	}
	if (rw_buf_failed(&tmp))
		out->failed = 1;
	else
		rw_buf_json_str(out, tmp.p ? tmp.p : "", tmp.len);
	rw_buf_free(&tmp);
}

static void put_enum_set(rw_buf *out, const value_datum *v)
{
	const binlog_column *c = v->names;

	if (c == NULL) {
		rw_buf_printf(out, "%" PRIu64, v->v.u);
		return;
	}
	if (v->kind == VALUE_ENUM) {
		if (v->v.u > c->n_strs)
			rw_buf_printf(out, "%" PRIu64, v->v.u);
		else
			rw_buf_json_str(out, v->v.u ? c->strs[v->v.u - 1] : "",
					v->v.u ? strlen(c->strs[v->v.u - 1]) : 0);
		return;
	}
	join_set(out, c, v->v.u);
}

static void put_vector(rw_buf *out, const value_datum *v)
{
	if (v->v.b.len % 4 != 0) {
		rw_buf_json_base64(out, v->v.b.p, v->v.b.len);
		return;
	}
	rw_buf_putc(out, '[');
	for (size_t i = 0; i < v->v.b.len; i += 4) {
		uint32_t u = (uint32_t)rw_le(v->v.b.p + i, 4);
		float f;

		memcpy(&f, &u, 4);
		if (i > 0)
			rw_buf_putc(out, ',');
		put_double(out, f, 1);
	}
	rw_buf_putc(out, ']');
}

static int put_json_doc(rw_buf *out, const value_datum *v, rw_error *err)
{
	if (v->v.b.len == 0) {
		rw_buf_puts(out, "null");
		return 0;
	}
	if (v->kind == VALUE_JSON_DIFF)
		return json_binary_diff_to_text(v->v.b.p, v->v.b.len, -1, out, err);
	return json_binary_to_text(v->v.b.p, v->v.b.len, -1, out, err);
}

int value_to_json(const value_datum *v, rw_buf *out, rw_error *err)
{
	switch (v->kind) {
	case VALUE_ABSENT:
	case VALUE_NULL:
		rw_buf_puts(out, "null");
		return 0;
	case VALUE_INT:
		if (rw_buf_reserve(out, 24) == 0)
			rw_buf_commit(out, rw_fmt_i64(rw_buf_end(out), v->v.i));
		return 0;
	case VALUE_UINT:
	case VALUE_BIT:
	case VALUE_YEAR:
		if (rw_buf_reserve(out, 24) == 0)
			rw_buf_commit(out, rw_fmt_u64(rw_buf_end(out), v->v.u));
		return 0;
	case VALUE_FLOAT:
	case VALUE_DOUBLE:
		put_double(out, v->v.d, v->kind == VALUE_FLOAT);
		return 0;
	case VALUE_DECIMAL: {
		size_t start = out->len;
		int rc;

		rw_buf_putc(out, '"');
		rc = value_decimal_text(v->v.b.p, v->v.b.len, v->precision, v->scale, out, err);
		rw_buf_putc(out, '"');
		if (rc < 0 && !rw_buf_failed(out)) /* nothing of a damaged value */
			rw_buf_commit(out, out->p + start);
		return rc;
	}
	case VALUE_STRING:
	case VALUE_BINARY:
		put_string(out, v);
		return 0;
	case VALUE_JSON:
	case VALUE_JSON_DIFF:
		return put_json_doc(out, v, err);
	case VALUE_VECTOR:
		put_vector(out, v);
		return 0;
	case VALUE_ENUM:
	case VALUE_SET:
		put_enum_set(out, v);
		return 0;
	}
	if (rw_buf_reserve(out, TEMPORAL_TEXT_MAX + 2) == 0) {
		char *o = rw_buf_end(out);

		*o++ = '"';
		o = temporal_fmt(v, o);
		*o++ = '"';
		rw_buf_commit(out, o);
	}
	return 0;
}

void value_key_u64(rw_buf *out, char tag, uint64_t u)
{
	uint8_t b[9];

	b[0] = (uint8_t)tag;
	for (int i = 0; i < 8; i++)
		b[1 + i] = (uint8_t)(u >> (56 - 8 * i));
	rw_buf_put(out, b, 9);
}

void value_key_counted(rw_buf *out, char tag, const void *p, size_t n)
{
	uint8_t b[5] = { (uint8_t)tag, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8),
			 (uint8_t)n };

	rw_buf_put(out, b, 5);
	rw_buf_put(out, p, n);
}

int value_key_encode(const value_datum *v, rw_buf *out, rw_error *err)
{
	rw_buf tmp = RW_BUF_INIT;
	double d;
	int rc = 0;

	switch (v->kind) {
	case VALUE_ABSENT:
	case VALUE_NULL:
		rw_buf_putc(out, 'N');
		return 0;
	case VALUE_INT:
		value_key_u64(out, 'I', (uint64_t)v->v.i ^ (1ULL << 63));
		return 0;
	case VALUE_UINT:
	case VALUE_BIT:
	case VALUE_ENUM:
	case VALUE_SET:
	case VALUE_YEAR:
		value_key_u64(out, 'U', v->v.u);
		return 0;
	case VALUE_FLOAT:
	case VALUE_DOUBLE: {
		uint64_t u;

		d = v->v.d == 0 ? 0.0 : v->v.d;
		memcpy(&u, &d, 8);
		value_key_u64(out, 'F', u);
		return 0;
	}
	case VALUE_STRING:
	case VALUE_BINARY:
	case VALUE_JSON:
	case VALUE_JSON_DIFF:
	case VALUE_VECTOR:
		value_key_counted(out, 'S', v->v.b.p, v->v.b.len);
		return 0;
	case VALUE_DECIMAL:
		rc = value_decimal_text(v->v.b.p, v->v.b.len, v->precision, v->scale, &tmp, err);
		if (rc == 0)
			value_key_counted(out, 'D', tmp.p ? tmp.p : "", tmp.len);
		break;
	default:
		temporal_text(v, &tmp);
		value_key_counted(out, 'T', tmp.p ? tmp.p : "", tmp.len);
	}
	if (rw_buf_failed(&tmp))
		out->failed = 1;
	rw_buf_free(&tmp);
	return rc;
}
