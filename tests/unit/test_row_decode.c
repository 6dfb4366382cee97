/*
 * test_row_decode.c - the tricky column decoders: DECIMAL, TIME2 (negative,
 * fractional, over 24 hours), DATETIME2, TIMESTAMP2, BIT, ENUM/SET names,
 * CHAR over 255 bytes, binary JSON, and the canonical key encoding.
 */
#include "ringwatch/binlog_table_map.h"
#include "ringwatch/json_binary.h"
#include "ringwatch/row_decode.h"
#include "ringwatch/value.h"

#include "../tap.h"

#include <stdlib.h>

/* Decode bytes as a column and render the value as JSON text. */
static const char *render(const binlog_column *col, const uint8_t *p, size_t len, size_t *used)
{
	static rw_buf out = RW_BUF_INIT;
	static rw_error err;
	value_datum v;
	size_t n = 0;

	rw_buf_reset(&out);
	if (row_value_decode(col, p, len, 0, &v, &n, &err) < 0)
		return err.text;
	if (value_to_json(&v, &out, &err) < 0)
		return err.text;
	if (used != NULL)
		*used = n;
	return out.p;
}

static binlog_column column(uint8_t type, uint16_t meta)
{
	binlog_column c;

	memset(&c, 0, sizeof(c));
	c.type = c.real_type = type;
	c.meta = meta;
	return c;
}

static void test_decimal(void)
{
	binlog_column c = column(BINLOG_TYPE_NEWDECIMAL, 14 << 8 | 4);
	const uint8_t pos[] = { 0x81, 0x0d, 0xfb, 0x38, 0xd2, 0x04, 0xd2 };
	const uint8_t neg[] = { 0x7e, 0xf2, 0x04, 0xc7, 0x2d, 0xfb, 0x2d };
	const uint8_t zero[] = { 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 };
	const uint8_t bad[] = { 0x80, 0x3b, 0x9a, 0xca, 0x00, 0x00, 0x00 }; /* group = 1e9 */
	size_t used = 0;

	is_str(render(&c, pos, sizeof(pos), &used), "\"1234567890.1234\"",
	       "DECIMAL(14,4) positive");
	is_int(used, 7, "DECIMAL(14,4) takes 7 bytes");
	is_str(render(&c, neg, sizeof(neg), NULL), "\"-1234567890.1234\"",
	       "DECIMAL(14,4) negative");
	is_str(render(&c, zero, sizeof(zero), NULL), "\"0.0000\"", "DECIMAL zero keeps its scale");
	ok(strstr(render(&c, bad, sizeof(bad), NULL), "DECIMAL") != NULL,
	   "a DECIMAL group over 999999999 is an error");
	ok(strstr(render(&c, pos, 6, NULL), "needs") != NULL, "a short DECIMAL is truncated");
	is_int(value_decimal_size(65, 30), 30, "DECIMAL(65,30) takes 30 bytes");
	is_int(value_decimal_size(10, 11), 0, "scale over precision is invalid");
}

static void test_time2(void)
{
	binlog_column c1 = column(BINLOG_TYPE_TIME2, 1), c0 = column(BINLOG_TYPE_TIME2, 0);
	binlog_column c6 = column(BINLOG_TYPE_TIME2, 6);
	const uint8_t neg_frac[] = { 0x7f, 0xff, 0xfe, 0xce };         /* -00:00:01.5 */
	const uint8_t over24[] = { 0xb4, 0x6e, 0xfb };                 /* 838:59:59 */
	const uint8_t neg6[] = { 0x7f, 0xff, 0xfe, 0xf8, 0x5e, 0xe0 }; /* -00:00:01.500000 */

	is_str(render(&c1, neg_frac, sizeof(neg_frac), NULL), "\"-00:00:01.5\"",
	       "TIME(1) negative with a fraction");
	is_str(render(&c0, over24, sizeof(over24), NULL), "\"838:59:59\"", "TIME over 24 hours");
	is_str(render(&c6, neg6, sizeof(neg6), NULL), "\"-00:00:01.500000\"",
	       "TIME(6) negative with a fraction");
}

static void test_datetime(void)
{
	binlog_column dt = column(BINLOG_TYPE_DATETIME2, 3), ts = column(BINLOG_TYPE_TIMESTAMP2, 0);
	binlog_column y = column(BINLOG_TYPE_YEAR, 0), d = column(BINLOG_TYPE_DATE, 0);
	const uint8_t dtv[] = { 0x99, 0x9e, 0x0e, 0xc8, 0xb8, 0x1e, 0xd2 };
	const uint8_t tsv[] = { 0x65, 0x53, 0xf1, 0x00 }; /* 1700000000 */
	const uint8_t zero4[] = { 0, 0, 0, 0 }, zero3[] = { 0, 0, 0 }, yv[] = { 124 };

	is_str(render(&dt, dtv, sizeof(dtv), NULL), "\"2017-11-07 12:34:56.789\"", "DATETIME(3)");
	is_str(render(&ts, tsv, sizeof(tsv), NULL), "\"2023-11-14 22:13:20\"", "TIMESTAMP in UTC");
	is_str(render(&ts, zero4, sizeof(zero4), NULL), "\"0000-00-00 00:00:00\"",
	       "zero TIMESTAMP");
	is_str(render(&d, zero3, sizeof(zero3), NULL), "\"0000-00-00\"", "zero DATE");
	is_str(render(&y, yv, sizeof(yv), NULL), "2024", "YEAR");
}

static void test_bit_enum_set(void)
{
	binlog_column bit = column(BINLOG_TYPE_BIT, 1 << 8 | 2); /* BIT(10) */
	binlog_column e = column(BINLOG_TYPE_ENUM, 1), s = column(BINLOG_TYPE_SET, 1);
	const char *names[] = { "a", "b", "c" };
	const uint8_t bv[] = { 0x02, 0xa5 }, ev[] = { 2 }, sv[] = { 5 }, big[] = { 9 };

	is_str(render(&bit, bv, sizeof(bv), NULL), "677", "BIT(10) is big-endian");
	e.strs = s.strs = names;
	e.n_strs = s.n_strs = 3;
	is_str(render(&e, ev, 1, NULL), "\"b\"", "ENUM member name");
	is_str(render(&s, sv, 1, NULL), "\"a,c\"", "SET members joined by commas");
	is_str(render(&e, big, 1, NULL), "9", "ENUM index past the names stays a number");
}

/* A TABLE_MAP body with one CHAR(100) utf8mb4 column (400 bytes: metadata 0xee 0x90). */
static void test_char_over_255(void)
{
	const uint8_t body[] = { 1,    0,    0,    0,    0,   0, /* table id */
				 0,    0,                        /* flags */
				 1,    'd',  0,    1,    't', 0, /* schema, table */
				 1,    0xfe,                     /* 1 column of type STRING */
				 2,    0xee, 0x90,               /* metadata */
				 0x00,                           /* null bitmap */
				 3,    3,    0xfc, 0xff, 0x00 }; /* COLUMN_CHARSET: 255 */
	uint8_t row[2 + 300];
	binlog_table_map *tm = NULL;
	rw_error err;
	size_t used = 0;

	ok(binlog_table_map_decode(body, sizeof(body), 8, 0, &tm, &err) == 0, "TABLE_MAP decodes");
	if (tm == NULL)
		return;
	is_int(tm->cols[0].real_type, BINLOG_TYPE_STRING, "CHAR over 255 stays a STRING");
	is_int(tm->cols[0].meta, 400, "CHAR(100) utf8mb4 holds 400 bytes");
	is_int(tm->cols[0].charset, 255, "column charset from the optional metadata");
	row[0] = 300 & 0xff;
	row[1] = 300 >> 8;
	memset(row + 2, 'x', 300);
	render(&tm->cols[0], row, sizeof(row), &used);
	is_int(used, 302, "a 2-byte length prefix is read");
	binlog_table_map_free(tm);
}

static void test_json(void)
{
	/* {"a": 1, "b": [true, "x"]} */
	const uint8_t doc[] = { 0x00, 0x02, 0x00, 0x20, 0x00, /* small object, 2, 32 */
				0x12, 0x00, 0x01, 0x00, 0x13, 0x00, 0x01, 0x00, /* keys */
				0x05, 0x01, 0x00, 0x02, 0x14, 0x00, /* int16 1; array at 20 */
				'a',  'b',                          /* key bytes */
				0x02, 0x00, 0x0c, 0x00, 0x04, 0x01, 0x00, 0x0c,
				0x0a, 0x00, 0x01, 'x' };
	rw_buf out = RW_BUF_INIT;
	rw_error err;

	ok(json_binary_to_text(doc, sizeof(doc), 0, &out, &err) == 0, "binary JSON decodes");
	is_str(out.p, "{\"a\": 1, \"b\": [true, \"x\"]}", "binary JSON text");
	rw_buf_reset(&out);
	ok(json_binary_to_text(doc, 12, 0, &out, &err) < 0, "a cut JSON document is an error");
	rw_buf_free(&out);
}

static void test_key(void)
{
	value_datum v;
	rw_buf k = RW_BUF_INIT;
	rw_error err;
	const uint8_t want[] = { 'I', 0x80, 0, 0, 0, 0, 0, 0, 1 };

	memset(&v, 0, sizeof(v));
	v.kind = VALUE_INT;
	v.v.i = 1;
	ok(value_key_encode(&v, &k, &err) == 0, "key of an int");
	ok(k.len == sizeof(want) && memcmp(k.p, want, sizeof(want)) == 0, "int key bytes");
	rw_buf_reset(&k);
	v.kind = VALUE_STRING;
	v.v.b.p = (const uint8_t *)"ab";
	v.v.b.len = 2;
	ok(value_key_encode(&v, &k, &err) == 0 && k.len == 7 && memcmp(k.p, "S\0\0\0\2ab", 7) == 0,
	   "string key: tag, length, bytes");
	rw_buf_free(&k);
}

int main(void)
{
	test_decimal();
	test_time2();
	test_datetime();
	test_bit_enum_set();
	test_char_over_255();
	test_json();
	test_key();
	return tap_done();
}
