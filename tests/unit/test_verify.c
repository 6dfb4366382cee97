/*
 * test_verify.c - the pure parts of verification: column kinds, the SQL of
 * a chunk, key bytes from SQL text (the same as the binlog's), key order and
 * ranges, the chunk verdict, the row diff, the chunk size, the ring of
 * recent changes.
 */
#include "../tap.h"

#include "ringwatch/rw_buf.h"
#include "ringwatch/value.h"
#include "ringwatch/verify.h"
#include "ringwatch/verify_touch.h"

#include <stdlib.h>
#include <string.h>

static void test_kinds(void)
{
	is_int(verify_kind_of("int", "int(11)", NULL), VERIFY_INT, "int is signed");
	is_int(verify_kind_of("bigint", "bigint(20) unsigned", NULL), VERIFY_UINT,
	       "bigint unsigned");
	is_int(verify_kind_of("decimal", "decimal(12,2)", NULL), VERIFY_DECIMAL, "decimal");
	is_int(verify_kind_of("varchar", "varchar(20)", "utf8mb4"), VERIFY_UTF8, "utf8mb4 text");
	is_int(verify_kind_of("varchar", "varchar(20)", "latin1"), VERIFY_CHAR,
	       "latin1 text: its key bytes are not its SQL text");
	is_int(verify_kind_of("varbinary", "varbinary(8)", NULL), VERIFY_BINARY, "varbinary");
	is_int(verify_kind_of("binary", "binary(8)", NULL), VERIFY_FIXBIN, "binary(n)");
	is_int(verify_kind_of("datetime", "datetime(3)", NULL), VERIFY_DATE, "datetime");
	is_int(verify_kind_of("time", "time", NULL), VERIFY_TIME, "time");
	is_int(verify_kind_of("json", "json", NULL), VERIFY_JSON, "json");
	is_int(verify_kind_of("point", "point", NULL), VERIFY_OTHER, "spatial");
}

static const char *const cols2[] = { "a", "b", "v" };
static const enum verify_kind kinds2[] = { VERIFY_INT, VERIFY_UTF8, VERIFY_JSON };
static const size_t pk2[] = { 0, 1 };
static const verify_table t2 = { "app", "t`x", cols2, kinds2, 3, pk2, 2 };

static void test_sql(void)
{
	rw_buf b = RW_BUF_INIT;
	const char *lo[] = { "'1'", "'x'" }, *hi[] = { "'5'", "'y'" };
	verify_range whole = { NULL, NULL }, r = { lo, hi }, from = { lo, NULL };

	verify_sql_chunk(&b, &t2, &whole);
	is_str(b.p,
	       "SELECT COUNT(*), COALESCE(BIT_XOR(CRC32(CONCAT_WS('#',CAST(`a` AS BINARY),"
	       "CAST(`b` AS BINARY),CAST(CAST(`v` AS CHAR) AS BINARY),CONCAT(ISNULL(`a`),"
	       "ISNULL(`b`),ISNULL(`v`))))), 0) FROM `app`.`t``x` WHERE 1",
	       "the whole table's checksum: every column's bytes and NULL flags");
	rw_buf_reset(&b);
	verify_sql_range(&b, &t2, &r);
	is_str(b.p,
	       "((`a` > '1') OR (`a` = '1' AND `b` > 'x')) AND ((`a` < '5') OR (`a` = '5' AND "
	       "`b` <= 'y'))",
	       "a two-column range, expanded: after lo, up to hi included");
	rw_buf_reset(&b);
	verify_sql_range(&b, &t2, &from);
	is_str(b.p, "((`a` > '1') OR (`a` = '1' AND `b` > 'x'))",
	       "the last chunk has no upper end");
	rw_buf_reset(&b);
	verify_sql_bound(&b, &t2, lo, 1000);
	is_str(b.p,
	       "SELECT `a`,`b` FROM `app`.`t``x` WHERE ((`a` > '1') OR (`a` = '1' AND `b` > "
	       "'x')) ORDER BY `a`,`b` LIMIT 1 OFFSET 999",
	       "the next chunk's upper key");
	rw_buf_reset(&b);
	verify_sql_row(&b, &t2, hi);
	is_str(b.p, "SELECT `a`,`b`,`v` FROM `app`.`t``x` WHERE `a` = '5' AND `b` = 'y'",
	       "one row by its key");
	rw_buf_reset(&b);
	verify_sql_rows(&b, &t2, &whole);
	ok(strncmp(b.p, "SELECT `a`,`b`,CRC32(", 21) == 0 && strstr(b.p, " ORDER BY `a`,`b`"),
	   "the rows of a chunk: keys and row checksums in key order");
	rw_buf_free(&b);
}

/* The key bytes value_key_encode gives the binlog's value. */
static void encode_datum(rw_buf *out, const value_datum *d)
{
	rw_error err;

	if (value_key_encode(d, out, &err) != 0)
		out->failed = 1;
}

static bool same_bytes(const rw_buf *a, const rw_buf *b)
{
	return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

static void test_key_encode(void)
{
	rw_buf sql = RW_BUF_INIT, bin = RW_BUF_INIT;
	value_datum d;
	rw_error err;

	memset(&d, 0, sizeof(d));
	d.kind = VALUE_INT;
	d.v.i = -42;
	encode_datum(&bin, &d);
	ok(verify_key_encode(&sql, VERIFY_INT, "-42", 3, &err) == 0 && same_bytes(&sql, &bin),
	   "INT -42: the same bytes as the binlog's value");
	rw_buf_reset(&sql), rw_buf_reset(&bin);
	d.kind = VALUE_UINT;
	d.v.u = 18446744073709551615ULL;
	encode_datum(&bin, &d);
	ok(verify_key_encode(&sql, VERIFY_UINT, "18446744073709551615", 20, &err) == 0 &&
	       same_bytes(&sql, &bin),
	   "BIGINT UNSIGNED max");
	rw_buf_reset(&sql), rw_buf_reset(&bin);
	d.kind = VALUE_STRING;
	d.v.b.p = (const uint8_t *)"héllo";
	d.v.b.len = strlen("héllo");
	encode_datum(&bin, &d);
	ok(verify_key_encode(&sql, VERIFY_UTF8, "héllo", strlen("héllo"), &err) == 0 &&
	       same_bytes(&sql, &bin),
	   "utf8 text");
	rw_buf_reset(&sql);
	ok(verify_key_encode(&sql, VERIFY_INT, "12x", 3, &err) == RW_E_INVALID && sql.len == 0,
	   "not an integer: refused, nothing written");
	ok(verify_key_encode(&sql, VERIFY_INT, "9223372036854775808", 19, &err) == RW_E_INVALID,
	   "past INT64_MAX: refused");
	ok(verify_key_encode(&sql, VERIFY_CHAR, "x", 1, &err) == RW_E_UNSUPPORTED,
	   "latin1 text: unsupported");
	ok(verify_key_encode(&sql, VERIFY_FLOAT, "1.5", 3, &err) == RW_E_UNSUPPORTED,
	   "float: unsupported");
	rw_buf_free(&sql);
	rw_buf_free(&bin);
}

static rw_buf key_of(enum verify_kind k1, const char *v1, enum verify_kind k2, const char *v2)
{
	rw_buf b = RW_BUF_INIT;
	rw_error err;

	if (verify_key_encode(&b, k1, v1, strlen(v1), &err) != 0 ||
	    (v2 != NULL && verify_key_encode(&b, k2, v2, strlen(v2), &err) != 0))
		b.failed = 1;
	return b;
}

static int cmp_of(const char *a, const char *b, enum verify_kind k)
{
	rw_buf x = key_of(k, a, k, NULL), y = key_of(k, b, k, NULL);
	bool ordered = verify_kind_ordered(k);
	int c = 99;

	if (verify_key_cmp((const uint8_t *)x.p, x.len, (const uint8_t *)y.p, y.len, &ordered, 1,
			   &c) != 0)
		c = 99;
	rw_buf_free(&x);
	rw_buf_free(&y);
	return c == 99 ? 99 : c < 0 ? -1 : c > 0 ? 1 : 0;
}

static void test_key_order(void)
{
	rw_buf lo, hi, in, below, above, at_lo, at_hi, other;
	bool ord2[] = { true, true }, unord[] = { false, true };

	is_int(cmp_of("-5", "3", VERIFY_INT), -1, "-5 < 3 (sign bit flipped)");
	is_int(cmp_of("300", "20", VERIFY_UINT), 1, "300 > 20");
	is_int(cmp_of("-12.50", "-3", VERIFY_DECIMAL), -1, "-12.50 < -3");
	is_int(cmp_of("10.5", "9.75", VERIFY_DECIMAL), 1, "10.5 > 9.75");
	is_int(cmp_of("1.50", "1.5", VERIFY_DECIMAL), 0, "1.50 = 1.5");
	is_int(cmp_of("-0.00", "0.00", VERIFY_DECIMAL), 0, "-0.00 = 0.00");
	is_int(cmp_of("2024-01-31 10:00:00", "2024-02-01 00:00:00", VERIFY_DATE), -1,
	       "datetimes in order");
	is_int(cmp_of("ab", "abc", VERIFY_BINARY), -1, "binary: a prefix first");
	is_int(cmp_of("a", "B", VERIFY_UTF8), 99, "text: the order is the collation's: not told");
	is_int(verify_decimal_cmp("007.1", 5, "7.10", 4), 0, "leading zeros");

	lo = key_of(VERIFY_INT, "10", VERIFY_INT, "5");
	hi = key_of(VERIFY_INT, "20", VERIFY_INT, "0");
	in = key_of(VERIFY_INT, "15", VERIFY_INT, "99");
	below = key_of(VERIFY_INT, "10", VERIFY_INT, "4");
	above = key_of(VERIFY_INT, "20", VERIFY_INT, "1");
	at_lo = key_of(VERIFY_INT, "10", VERIFY_INT, "5");
	at_hi = key_of(VERIFY_INT, "20", VERIFY_INT, "0");
#define IN(k, o)                                                                                   \
	verify_key_in_range((const uint8_t *)(k).p, (k).len, (const uint8_t *)lo.p, lo.len,        \
			    (const uint8_t *)hi.p, hi.len, (o), 2)
	ok(IN(in, ord2), "(15,99) in ((10,5), (20,0)]");
	ok(!IN(below, ord2), "(10,4) below");
	ok(!IN(above, ord2), "(20,1) above");
	ok(!IN(at_lo, ord2), "lo itself is not in (lo, hi]");
	ok(IN(at_hi, ord2), "hi itself is");
	ok(IN(below, unord), "an unordered first column: may be in (conservative)");
	other = key_of(VERIFY_INT, "30", VERIFY_INT, "1");
	ok(verify_key_in_range((const uint8_t *)other.p, other.len, (const uint8_t *)lo.p, lo.len,
			       NULL, 0, ord2, 2),
	   "no upper end: (30,1) in");
	rw_buf_free(&lo), rw_buf_free(&hi), rw_buf_free(&in), rw_buf_free(&below);
	rw_buf_free(&above), rw_buf_free(&at_lo), rw_buf_free(&at_hi), rw_buf_free(&other);
}

static void test_verdict(void)
{
	uint64_t c[] = { 10, 10 }, s[] = { 7, 7 }, s2[] = { 7, 8 }, c2[] = { 10, 9 };

	is_str(verify_verdict_name(verify_chunk_verdict(2, c, s, false)), "equal",
	       "same count and checksum: equal");
	is_str(verify_verdict_name(verify_chunk_verdict(2, c, s2, false)), "different",
	       "checksums differ: different");
	is_str(verify_verdict_name(verify_chunk_verdict(2, c2, s, false)), "different",
	       "counts differ: different");
	is_str(verify_verdict_name(verify_chunk_verdict(2, c, s2, true)), "unsure",
	       "a write in the window: unsure, whatever the checksums");
	is_str(verify_verdict_name(verify_chunk_verdict(2, c, s, true)), "unsure",
	       "even when they agree");
}

struct diffs {
	char seen[8][8];
	int n;
};

static void on_diff(const verify_row *a, const verify_row *b, void *arg)
{
	struct diffs *d = arg;
	const verify_row *r = a != NULL ? a : b;

	if (d->n < 8)
		snprintf(d->seen[d->n++], 8, "%c%.*s",
			 a == NULL   ? '+'
			 : b == NULL ? '-'
				     : '~',
			 (int)r->len, (const char *)r->key);
}

static void test_diff(void)
{
	verify_row a[] = { { (const uint8_t *)"3", 1, 30 },
			   { (const uint8_t *)"1", 1, 10 },
			   { (const uint8_t *)"2", 1, 20 },
			   { (const uint8_t *)"5", 1, 50 } };
	verify_row b[] = { { (const uint8_t *)"1", 1, 10 },
			   { (const uint8_t *)"4", 1, 40 },
			   { (const uint8_t *)"3", 1, 31 },
			   { (const uint8_t *)"5", 1, 50 } };
	struct diffs d = { .n = 0 };
	size_t n = verify_diff(a, 4, b, 4, on_diff, &d);

	is_int(n, 3, "three keys differ");
	is_str(d.seen[0], "-2", "2 only on the first master");
	is_str(d.seen[1], "~3", "3 on both, other checksums");
	is_str(d.seen[2], "+4", "4 only on the second");
	is_int(verify_diff(a, 0, b, 0, on_diff, &d), 0, "two empty lists agree");
}

static void test_next_rows(void)
{
	double rate = 0;
	uint64_t n = verify_next_rows(1000, 0.05, 0.5, &rate);

	is_int(n, 2000, "fast: at most doubled");
	n = verify_next_rows(n, 0.5, 0.5, &rate);
	ok(n > 2000 && n <= 4000, "still faster than the target: grows (%llu)",
	   (unsigned long long)n);
	rate = 0;
	n = verify_next_rows(100000, 5.0, 0.5, &rate);
	is_int(n, 10000, "slow: 20,000 rows/s x 0.5 s");
	rate = 0;
	is_int(verify_next_rows(10, 100.0, 0.5, &rate), 10, "never under 10 rows");
}

static void touch(verify_touches *t, double at, const char *table, enum verify_kind k,
		  const char *v)
{
	rw_buf b = RW_BUF_INIT;
	rw_error err;

	rw_buf_put(&b, table, strlen(table) + 1);
	rw_buf_put(&b, table + strlen(table) + 1, strlen(table + strlen(table) + 1) + 1);
	if (v != NULL && verify_key_encode(&b, k, v, strlen(v), &err) != 0)
		b.failed = 1;
	verify_touches_add(t, at, 0, 0, 0, (const uint8_t *)b.p, b.len, v == NULL);
	rw_buf_free(&b);
}

static void test_touches(void)
{
	verify_touches *t = verify_touches_new(4096);
	rw_buf lo = key_of(VERIFY_INT, "100", VERIFY_INT, NULL);
	rw_buf hi = key_of(VERIFY_INT, "200", VERIFY_INT, NULL);
	bool ord = true;
	verify_touch_query q = { .table = (const uint8_t *)"app\0t",
				 .table_len = 6,
				 .lo = (const uint8_t *)lo.p,
				 .lo_len = lo.len,
				 .hi = (const uint8_t *)hi.p,
				 .hi_len = hi.len,
				 .ordered = &ord,
				 .n = 1 };
	int i;

	touch(t, 1.0, "app\0t", VERIFY_INT, "150");
	touch(t, 2.0, "app\0t", VERIFY_INT, "250");
	touch(t, 2.5, "app\0u", VERIFY_INT, "150");
	is_int(verify_touches_find(t, 0.5, &q), 1, "150 at 1.0 is in (100, 200]");
	is_int(verify_touches_find(t, 1.5, &q), 0, "after 1.5: only 250 and another table's 150");
	touch(t, 3.0, "app\0t", VERIFY_INT, NULL);
	is_int(verify_touches_find(t, 2.8, &q), 1, "a whole-table entry touches every chunk");
	verify_touches_add(t, 4.0, 0, 0, 0, NULL, 0, false);
	is_int(verify_touches_find(t, 3.5, &q), 1, "an any-table entry too");
	for (i = 0; i < 400; i++)
		touch(t, 5.0 + i, "app\0t", VERIFY_INT, "999");
	ok(verify_touches_since(t) > 4.0, "the ring dropped its oldest entries (since %.1f)",
	   verify_touches_since(t));
	is_int(verify_touches_find(t, 4.5, &q), -1, "a question from before that: cannot tell");
	is_int(verify_touches_find(t, 400.0, &q), 0, "one from later: answered (999 is out)");
	ok(verify_touches_count(t) < 400, "bounded: %zu entries in 4 KiB", verify_touches_count(t));
	touch(t, 500.0, "app\0t", VERIFY_INT, "101");
	is_int(verify_touches_find(t, 499.0, &q), 1, "after wrapping: the newest is found");
	q.point = true;
	is_int(verify_touches_find(t, 499.0, &q), 0, "one key, 100: 101 is another");
	touch(t, 501.0, "app\0t", VERIFY_INT, "100");
	is_int(verify_touches_find(t, 499.0, &q), 1, "100 itself");
	/* cleared at a job's start: nothing before then is known, the rest is */
	verify_touches_clear(t, 600.0);
	is_int(verify_touches_find(t, 550.0, &q), -1,
	       "cleared: a question from before: cannot tell");
	is_int(verify_touches_find(t, 600.5, &q), 0, "from then on: nothing changed");
	touch(t, 601.0, "app\0t", VERIFY_INT, "100");
	is_int(verify_touches_find(t, 600.5, &q), 1, "and a change after it is found");
	rw_buf_free(&lo);
	rw_buf_free(&hi);
	verify_touches_free(t);
}

/* A change of a key of the chunk (100, 200] by transaction trx in stream s at pos, at time at. */
static void shown(verify_touches *t, double at, unsigned s, uint64_t trx, uint64_t pos,
		  const char *id)
{
	rw_buf b = RW_BUF_INIT;
	rw_error err;

	rw_buf_put(&b, "app\0t\0", 6);
	if (verify_key_encode(&b, VERIFY_INT, id, strlen(id), &err) != 0)
		b.failed = 1;
	verify_touches_add(t, at, s, trx, pos, (const uint8_t *)b.p, b.len, false);
	rw_buf_free(&b);
}

/* With the snapshots' positions: only a change in some snapshots and not in others counts. */
static void test_touch_sides(void)
{
	verify_touches *t = verify_touches_new(1 << 16);
	rw_buf lo = key_of(VERIFY_INT, "100", VERIFY_INT, NULL);
	rw_buf hi = key_of(VERIFY_INT, "200", VERIFY_INT, NULL);
	uint64_t snap[2] = { 1000, 5000 }; /* west's snapshot at 1000, east's at 5000 */
	bool ord = true;
	verify_touch_query q = { .table = (const uint8_t *)"app\0t",
				 .table_len = 6,
				 .lo = (const uint8_t *)lo.p,
				 .lo_len = lo.len,
				 .hi = (const uint8_t *)hi.p,
				 .hi_len = hi.len,
				 .ordered = &ord,
				 .n = 1,
				 .snap = snap,
				 .n_streams = 2 };

	shown(t, 1.0, 0, 11, 900, "150");  /* before west's snapshot */
	shown(t, 1.1, 1, 11, 4900, "150"); /* and before east's: in both */
	is_int(verify_touches_find(t, 0.5, &q), 0, "a write in both snapshots does not count");
	shown(t, 1.2, 0, 12, 1100, "160"); /* after west's */
	shown(t, 1.3, 1, 12, 5100, "160"); /* after east's: in neither */
	is_int(verify_touches_find(t, 0.5, &q), 0, "nor one in neither");
	shown(t, 1.4, 0, 13, 1200, "170"); /* after west's, not shown by east yet */
	is_int(verify_touches_find(t, 0.5, &q), 0,
	       "nor one after a snapshot that the other stream has not shown");
	shown(t, 1.5, 0, 14, 950, "180");  /* before west's snapshot... */
	shown(t, 1.6, 1, 14, 5200, "180"); /* ...after east's: west has it, east not */
	is_int(verify_touches_find(t, 0.5, &q), 1,
	       "one in west's snapshot and not in east's counts");
	is_int(verify_touches_find(t, 1.55, &q), 1, "also found by its later appearance");
	verify_touches_free(t);
	t = verify_touches_new(1 << 16);
	shown(t, 1.0, 0, 15, 990, "190"); /* before west's, east has not shown it: in flight */
	is_int(verify_touches_find(t, 0.5, &q), 1,
	       "one west has and east has not shown at all counts");
	shown(t, 1.1, 1, 0, 4000, "120");
	is_int(verify_touches_find(t, 1.05, &q), 1, "a transaction without an identity counts");
	q.n_streams = 0;
	verify_touches_free(t);
	t = verify_touches_new(1 << 16);
	shown(t, 1.0, 0, 11, 900, "150");
	shown(t, 1.1, 1, 11, 4900, "150");
	is_int(verify_touches_find(t, 0.5, &q), 1,
	       "without positions any change in the window counts");
	rw_buf_free(&lo);
	rw_buf_free(&hi);
	verify_touches_free(t);
}

int main(void)
{
	test_kinds();
	test_sql();
	test_key_encode();
	test_key_order();
	test_verdict();
	test_diff();
	test_next_rows();
	test_touches();
	test_touch_sides();
	return tap_done();
}
