/*
 * test_rw_buf.c - the text writers of the row rendering hot path against
 * plain reference versions: integers, fixed-width digits, JSON strings
 * (UTF-8 and latin1) across the 8-byte blocks the writers skip through,
 * UTF-8 validation, DECIMAL text and temporal text.
 */
#include "ringwatch/rw_buf.h"
#include "ringwatch/value.h"

#include "../../lib/rw_fmt.h"
#include "../tap.h"

#include <stdio.h>
#include <stdlib.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void test_integers(void)
{
	rw_buf b = RW_BUF_INIT;
	char want[64];
	int bad = 0, n = 0;
	uint64_t p = 1;

	for (int e = 0; e < 20; e++, p *= 10) {
		uint64_t vals[] = { p - 1, p, p + 1, p * 9 / 10 + 3 };

		for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++, n++) {
			rw_buf_reset(&b);
			rw_buf_put_u64(&b, vals[i]);
			snprintf(want, sizeof(want), "%" PRIu64, vals[i]);
			bad += strcmp(b.p, want) != 0;
		}
	}
	for (int i = 0; i < 100000; i++, n++) {
		uint64_t v = rng() >> (rng() % 64);
		int64_t s = (int64_t)rng() >> (rng() % 64);

		rw_buf_reset(&b);
		rw_buf_put_u64(&b, v);
		snprintf(want, sizeof(want), "%" PRIu64, v);
		bad += strcmp(b.p, want) != 0;
		rw_buf_reset(&b);
		rw_buf_put_i64(&b, s);
		snprintf(want, sizeof(want), "%" PRId64, s);
		bad += strcmp(b.p, want) != 0;
	}
	is_int(bad, 0, "%d integers match printf", n);

	rw_buf_reset(&b);
	rw_buf_put_u64(&b, UINT64_MAX);
	rw_buf_putc(&b, ' ');
	rw_buf_put_i64(&b, INT64_MIN);
	rw_buf_putc(&b, ' ');
	rw_buf_put_i64(&b, INT64_MAX);
	rw_buf_putc(&b, ' ');
	rw_buf_put_u64(&b, 0);
	is_str(b.p, "18446744073709551615 -9223372036854775808 9223372036854775807 0",
	       "integer extremes");

	bad = 0;
	for (unsigned w = 1; w <= 20; w++) {
		for (int i = 0; i < 2000; i++) {
			uint64_t v = rng() >> (rng() % 64), m = 1;

			for (unsigned k = 0; k < w && k < 19; k++)
				m *= 10;
			rw_buf_reset(&b);
			if (rw_buf_reserve(&b, 24) == 0)
				rw_buf_commit(&b, rw_fmt_digits(rw_buf_end(&b), v, w));
			if (w < 20)
				snprintf(want, sizeof(want), "%0*" PRIu64, (int)w, v % m);
			else
				snprintf(want, sizeof(want), "%020" PRIu64, v);
			bad += strcmp(b.p, want) != 0 || b.len != w;
		}
	}
	is_int(bad, 0, "fixed-width digits keep the lowest digits, zero-padded");
	rw_buf_free(&b);
}

/* The plain escaper the fast one must agree with. */
static void ref_json(rw_buf *b, const uint8_t *s, size_t n, int latin1)
{
	rw_buf_putc(b, '"');
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];

		if (c == '"' || c == '\\') {
			rw_buf_putc(b, '\\');
			rw_buf_putc(b, (char)c);
		} else if (c == '\n') {
			rw_buf_puts(b, "\\n");
		} else if (c == '\t') {
			rw_buf_puts(b, "\\t");
		} else if (c == '\r') {
			rw_buf_puts(b, "\\r");
		} else if (c < 0x20) {
			rw_buf_printf(b, "\\u%04x", c);
		} else if (c >= 0x80 && latin1) {
			rw_buf_putc(b, (char)(0xc0 | (c >> 6)));
			rw_buf_putc(b, (char)(0x80 | (c & 0x3f)));
		} else {
			rw_buf_putc(b, (char)c);
		}
	}
	rw_buf_putc(b, '"');
}

static int ref_utf8_valid(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint8_t c = p[i];
		size_t k;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3, cp = c & 0x07;
		else
			return 0;
		if (k > n - i - 1)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + j] & 0x3f);
		}
		if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return 0;
		i += k + 1;
	}
	return 1;
}

/* A byte of each kind the writers tell apart, mostly plain ASCII. */
static uint8_t some_byte(void)
{
	static const uint8_t special[] = { '"',  '\\', '\n', '\t', '\r', 0x00, 0x01, 0x1f,
					   0x20, 0x7f, 0x80, 0xbf, 0xc3, 0xe2, 0xf0, 0xff };
	uint64_t r = rng();

	if (r % 8 != 0)
		return (uint8_t)(0x21 + (r >> 8) % 0x5e);
	return special[(r >> 8) % sizeof(special)];
}

static void test_strings(void)
{
	rw_buf got = RW_BUF_INIT, want = RW_BUF_INIT;
	uint8_t s[80];
	int bad_json = 0, bad_latin1 = 0, bad_utf8 = 0, n = 0;

	for (size_t len = 0; len <= 40; len++) {
		for (int i = 0; i < 400; i++, n++) {
			for (size_t k = 0; k < len; k++)
				s[k] = some_byte();
			/* one special byte at every place of a block now and then */
			if (len > 0 && i % 3 == 0)
				s[(size_t)i % len] = (uint8_t) "\"\\\x01\xe9"[i % 4];
			rw_buf_reset(&got);
			rw_buf_reset(&want);
			rw_buf_json_str(&got, (const char *)s, len);
			ref_json(&want, s, len, 0);
			bad_json += got.len != want.len || memcmp(got.p, want.p, got.len) != 0;
			rw_buf_reset(&got);
			rw_buf_reset(&want);
			rw_buf_json_latin1(&got, s, len);
			ref_json(&want, s, len, 1);
			bad_latin1 += got.len != want.len || memcmp(got.p, want.p, got.len) != 0;
			bad_utf8 += rw_utf8_valid(s, len) != ref_utf8_valid(s, len);
		}
	}
	is_int(bad_json, 0, "%d JSON strings escape as the reference does", n);
	is_int(bad_latin1, 0, "%d latin1 strings become the reference UTF-8", n);
	is_int(bad_utf8, 0, "%d UTF-8 checks agree with the reference", n);

	rw_buf_reset(&got);
	rw_buf_json_latin1(&got, (const uint8_t *)"caf\xe9 \"x\"\n", 9);
	is_str(got.p, "\"caf\xc3\xa9 \\\"x\\\"\\n\"", "latin1 e-acute, quotes and newline");
	ok(rw_utf8_valid((const uint8_t *)"abcdefgh\xf0\x9f\x98\x80ijklmnop", 20),
	   "a 4-byte character between ASCII blocks is valid");
	ok(!rw_utf8_valid((const uint8_t *)"abcdefgh\xed\xa0\x80ijklmnop", 19),
	   "a surrogate between ASCII blocks is not");
	ok(!rw_utf8_valid((const uint8_t *)"abcdefgh\xc3", 9), "a cut character at the end is not");
	rw_buf_free(&got);
	rw_buf_free(&want);
}

/* MySQL's binary DECIMAL of a digit string: int digits, scale fraction digits. */
static size_t encode_decimal(const char *ip, unsigned intg, const char *fp, unsigned scale, int neg,
			     uint8_t *out)
{
	static const unsigned dig2bytes[10] = { 0, 1, 1, 2, 2, 3, 3, 4, 4, 4 };
	size_t n = 0;
	unsigned at = 0;

	/* the integer part: a leading partial group, then groups of 9 */
	for (unsigned g = intg % 9 ? intg % 9 : 9; at < intg; at += g, g = 9) {
		uint32_t v = 0;
		unsigned nb = g == 9 ? 4 : dig2bytes[g];

		for (unsigned k = 0; k < g; k++)
			v = v * 10 + (uint32_t)(ip[at + k] - '0');
		for (unsigned k = nb; k-- > 0;)
			out[n++] = (uint8_t)(v >> (8 * k));
	}
	for (at = 0; at < scale;) {
		unsigned g = scale - at < 9 ? scale - at : 9, nb = g == 9 ? 4 : dig2bytes[g];
		uint32_t v = 0;

		for (unsigned k = 0; k < g; k++)
			v = v * 10 + (uint32_t)(fp[at + k] - '0');
		for (unsigned k = nb; k-- > 0;)
			out[n++] = (uint8_t)(v >> (8 * k));
		at += g;
	}
	if (neg)
		for (size_t k = 0; k < n; k++)
			out[k] ^= 0xff;
	out[0] ^= 0x80;
	return n;
}

static void test_decimals(void)
{
	rw_buf got = RW_BUF_INIT;
	rw_error err;
	int bad = 0, n = 0;

	for (int i = 0; i < 20000; i++, n++) {
		unsigned prec = 1 + (unsigned)(rng() % 65), scale = (unsigned)(rng() % (prec + 1));
		unsigned intg = prec - scale;
		char ip[70], fp[40], want[80];
		uint8_t bin[40];
		int neg = (int)(rng() % 2), nonzero = 0;
		size_t w = 0, lead = 0;

		if (scale > 30)
			scale = 30, intg = prec - scale;
		/* many leading zeroes, sometimes all zero */
		for (unsigned k = 0; k < intg; k++)
			ip[k] = (char)(k < intg / 2 && rng() % 2 ? '0' : '0' + rng() % 10);
		for (unsigned k = 0; k < scale; k++)
			fp[k] = (char)(i % 7 == 0 ? '0' : '0' + rng() % 10);
		if (i % 5 == 0)
			memset(ip, '0', intg);
		for (unsigned k = 0; k < intg; k++)
			nonzero |= ip[k] != '0';
		for (unsigned k = 0; k < scale; k++)
			nonzero |= fp[k] != '0';
		if (neg && nonzero)
			want[w++] = '-';
		while (lead + 1 < intg && ip[lead] == '0')
			lead++;
		if (intg == 0)
			want[w++] = '0';
		memcpy(want + w, ip + lead, intg - lead);
		w += intg - lead;
		if (scale > 0) {
			want[w++] = '.';
			memcpy(want + w, fp, scale);
			w += scale;
		}
		want[w] = '\0';
		size_t len = encode_decimal(ip, intg, fp, scale, neg, bin);

		rw_buf_reset(&got);
		if (value_decimal_text(bin, len, intg + scale, scale, &got, &err) < 0 ||
		    strcmp(got.p, want) != 0) {
			if (bad++ == 0)
				printf("# DECIMAL(%u,%u): got '%s', want '%s'\n", intg + scale,
				       scale, got.p ? got.p : "", want);
		}
	}
	is_int(bad, 0, "%d DECIMAL values render as their digits", n);

	/* a group of 1e9 is damage: an error, and nothing half-written */
	{
		uint8_t dmg[] = { 0x80, 0x3b, 0x9a, 0xca, 0x00 };

		rw_buf_reset(&got);
		rw_buf_puts(&got, "x");
		ok(value_decimal_text(dmg, sizeof(dmg), 10, 0, &got, &err) == RW_E_INVALID,
		   "a group of 1000000000 is an error");
		is_str(got.p, "x", "nothing of it is written");
	}
	rw_buf_free(&got);
}

static const char *temporal(uint8_t kind, uint32_t y, unsigned mo, unsigned d, uint32_t h,
			    unsigned mi, unsigned s, uint32_t usec, unsigned fsp, int neg)
{
	static rw_buf out = RW_BUF_INIT;
	static rw_error err;
	value_datum v;

	memset(&v, 0, sizeof(v));
	v.kind = kind;
	v.v.t.year = y, v.v.t.month = (uint8_t)mo, v.v.t.day = (uint8_t)d;
	v.v.t.hour = h, v.v.t.minute = (uint8_t)mi, v.v.t.second = (uint8_t)s;
	v.v.t.usec = usec, v.v.t.fsp = (uint8_t)fsp, v.v.t.neg = (uint8_t)neg;
	v.v.t.epoch = (int64_t)y;
	rw_buf_reset(&out);
	if (value_to_json(&v, &out, &err) < 0)
		return err.text;
	return out.p;
}

static void test_temporal(void)
{
	is_str(temporal(VALUE_DATETIME, 2026, 1, 2, 3, 4, 5, 6007, 3, 0),
	       "\"2026-01-02 03:04:05.006\"", "DATETIME(3)");
	is_str(temporal(VALUE_DATETIME, 0, 0, 0, 0, 0, 0, 0, 0, 0), "\"0000-00-00 00:00:00\"",
	       "zero DATETIME");
	is_str(temporal(VALUE_DATETIME, 9999, 12, 31, 23, 59, 59, 999999, 6, 0),
	       "\"9999-12-31 23:59:59.999999\"", "largest DATETIME(6)");
	is_str(temporal(VALUE_TIME, 0, 0, 0, 838, 59, 59, 500000, 1, 1), "\"-838:59:59.5\"",
	       "negative TIME(1) over 99 hours");
	is_str(temporal(VALUE_TIME, 0, 0, 0, 1234, 5, 6, 0, 0, 0), "\"1234:05:06\"",
	       "TIME of 4 hour digits");
	is_str(temporal(VALUE_DATE, 12345, 6, 7, 0, 0, 0, 0, 0, 0), "\"12345-06-07\"",
	       "a year past 9999 keeps its digits");
	is_str(temporal(VALUE_TIMESTAMP, 1767225600, 0, 0, 0, 0, 0, 120000, 2, 0),
	       "\"2026-01-01 00:00:00.12\"", "TIMESTAMP(2) in UTC");
	is_str(temporal(VALUE_TIMESTAMP, 0, 0, 0, 0, 0, 0, 0, 0, 0), "\"0000-00-00 00:00:00\"",
	       "zero TIMESTAMP");
	/* a damaged fraction over a second keeps the digits it always printed */
	is_str(temporal(VALUE_DATETIME, 2026, 1, 1, 0, 0, 0, 2550000, 2, 0),
	       "\"2026-01-01 00:00:00.55\"", "a fraction of 255 hundredths");
}

static void test_array_grow(void)
{
	uint32_t *v = NULL;
	size_t n, cap = 0, caps = 0;
	int bad = 0;

	for (n = 0; n < 1000; n++) {
		size_t before = cap;

		if (rw_array_grow(&v, &cap, n, sizeof(*v), 8) < 0)
			break;
		caps += cap != before;
		bad += cap <= n || (cap != before && cap != (before ? 2 * before : 8));
		v[n] = (uint32_t)n * 7;
	}
	for (size_t i = 0; i < n; i++)
		bad += v[i] != (uint32_t)i * 7;
	ok(n == 1000 && bad == 0, "an array grows to 1000 elements, keeping them (%d bad)", bad);
	is_int(cap, 1024, "doubling from 8");
	is_int(caps, 8, "in 8 reallocations");
	is_int(rw_array_grow(&v, &cap, 5, sizeof(*v), 8), 0, "no growth while there is room");
	is_int(cap, 1024, "the capacity stays");
	free(v);
}

/* What was put after a point is taken back, a failure to grow with it. */
static void test_truncate(void)
{
	rw_buf b = RW_BUF_INIT;

	rw_buf_puts(&b, "keep");
	rw_buf_puts(&b, " and drop");
	rw_buf_truncate(&b, 4);
	ok(b.len == 4 && strcmp(b.p, "keep") == 0, "taken back to what was kept");
	b.failed = 1; /* as after an allocation refused */
	rw_buf_truncate(&b, 2);
	ok(!rw_buf_failed(&b) && strcmp(b.p, "ke") == 0, "the failure taken back too");
	rw_buf_puts(&b, "y");
	is_str(b.p, "key", "and it is written to again");
	rw_buf_reset(&b);
	ok(b.len == 0 && b.p[0] == '\0', "reset is a truncation to nothing");
	rw_buf_free(&b);
}

int main(void)
{
	test_array_grow();
	test_truncate();
	test_integers();
	test_strings();
	test_decimals();
	test_temporal();
	return tap_done();
}
