/*
 * rw_buf.c - growable text buffer, JSON string escaping and base64.
 */
#include "ringwatch/rw_buf.h"

#include "rw_fmt.h"

#include <stdarg.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rw_buf_free(rw_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->failed = 0;
}

void rw_buf_reset(rw_buf *b)
{
	rw_buf_truncate(b, 0);
}

void rw_buf_truncate(rw_buf *b, size_t len)
{
	b->len = len;
	b->failed = 0;
	if (b->p != NULL)
		b->p[len] = '\0';
}

int rw_buf_grow(rw_buf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->failed)
		return -1;
	if (n < b->cap - b->len)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap - b->len <= n) {
		if (cap > SIZE_MAX / 2) {
			b->failed = 1;
			return -1;
		}
		cap *= 2;
	}
	p = realloc(b->p, cap);
	if (p == NULL) {
		b->failed = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

int rw_array_realloc(void *items, size_t *cap, size_t size, size_t first)
{
	size_t c = *cap ? *cap * 2 : first;
	void *p;

	if (c == 0 || c > SIZE_MAX / size)
		return -1;
	memcpy(&p, items, sizeof(p)); /* items is a T **: the pointer's bytes */
	p = realloc(p, c * size);
	if (p == NULL)
		return -1;
	memcpy(items, &p, sizeof(p));
	*cap = c;
	return 0;
}

void rw_buf_printf(rw_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (rw_buf_reserve(b, 64) < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = 1;
		return;
	}
	if ((size_t)n >= b->cap - b->len) {
		if (rw_buf_reserve(b, (size_t)n + 1) < 0)
			return;
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

const char rw_fmt_pairs[200] = "00010203040506070809"
			       "10111213141516171819"
			       "20212223242526272829"
			       "30313233343536373839"
			       "40414243444546474849"
			       "50515253545556575859"
			       "60616263646566676869"
			       "70717273747576777879"
			       "80818283848586878889"
			       "90919293949596979899";

void rw_buf_put_u64(rw_buf *b, uint64_t v)
{
	if (rw_buf_reserve(b, 24) < 0)
		return;
	rw_buf_commit(b, rw_fmt_u64(rw_buf_end(b), v));
}

void rw_buf_put_i64(rw_buf *b, int64_t v)
{
	if (rw_buf_reserve(b, 24) < 0)
		return;
	rw_buf_commit(b, rw_fmt_i64(rw_buf_end(b), v));
}

#define RW_ONES  (~(uint64_t)0 / 255)
#define RW_HIGHS (RW_ONES * 0x80)

/* A byte of x is zero (no false positives when none is). */
static inline uint64_t swar_zero(uint64_t x)
{
	return (x - RW_ONES) & ~x & RW_HIGHS;
}

/*
 * Can the 8 bytes at s go into a JSON string as they are: none below 0x20,
 * none '"' or '\\', and (ascii) none from 0x80?
 */
static inline int swar_plain(const char *s, int ascii)
{
	uint64_t x, bad;

	memcpy(&x, s, 8);
	bad = ((x - RW_ONES * 0x20) & ~x) | swar_zero(x ^ (RW_ONES * '"')) |
	      swar_zero(x ^ (RW_ONES * '\\'));
	if (ascii)
		bad |= x;
	return (bad & RW_HIGHS) == 0;
}

/* One byte that needs care: an escape, or (latin1) two bytes of UTF-8. */
static char *json_byte(char *o, unsigned char c, int latin1)
{
	static const char hex[] = "0123456789abcdef";

	if (c >= 0x80 && latin1) {
		*o++ = (char)(0xc0 | (c >> 6));
		*o++ = (char)(0x80 | (c & 0x3f));
		return o;
	}
	if (c >= 0x20 && c != '"' && c != '\\') {
		*o++ = (char)c;
		return o;
	}
	*o++ = '\\';
	switch (c) {
	case '"':
	case '\\':
		*o++ = (char)c;
		break;
	case '\n':
		*o++ = 'n';
		break;
	case '\t':
		*o++ = 't';
		break;
	case '\r':
		*o++ = 'r';
		break;
	default:
		*o++ = 'u';
		*o++ = '0';
		*o++ = '0';
		*o++ = hex[c >> 4];
		*o++ = hex[c & 15];
	}
	return o;
}

#if defined(__SSE2__)
/* Which of the 16 bytes at s need care, as a bit mask (bit k: s[k]). */
static inline unsigned block_bad(const char *s, int ascii)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);
	__m128i bad = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
				   _mm_cmpeq_epi8(x, _mm_set1_epi8('\\')));

	if (ascii) /* signed: below 0x20, or from 0x80 */
		bad = _mm_or_si128(bad, _mm_cmplt_epi8(x, _mm_set1_epi8(0x20)));
	else /* unsigned: below 0x20 */
		bad = _mm_or_si128(
		    bad, _mm_cmpeq_epi8(_mm_max_epu8(x, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f)));
	return (unsigned)_mm_movemask_epi8(bad);
}
#endif

/* s as a quoted JSON string; latin1: bytes from 0x80 become UTF-8. */
static void json_str(rw_buf *b, const char *s, size_t n, int latin1)
{
	size_t i = 0;
	char *o;

	/* worst case: every byte becomes \u00XX */
	if (n > (SIZE_MAX - 3) / 6 || rw_buf_reserve(b, n * 6 + 3) < 0) {
		b->failed = 1;
		return;
	}
	o = rw_buf_end(b);
	*o++ = '"';
#if defined(__SSE2__)
	/*
	 * 16 bytes a step, stored whole (the room for escapes covers it) and
	 * kept up to the first byte that needs care; the last step looks at the
	 * string's last 16 bytes, of which only those from i on count.
	 */
	while (n >= 16 && i < n) {
		unsigned m;

		if (i + 16 <= n) {
			m = block_bad(s + i, latin1);
			memcpy(o, s + i, 16);
			if (m == 0) {
				o += 16;
				i += 16;
				continue;
			}
		} else {
			m = block_bad(s + n - 16, latin1) >> (i - (n - 16));
			if (m == 0) {
				memcpy(o, s + i, n - i);
				o += n - i;
				i = n;
				break;
			}
			memcpy(o, s + i, n - i);
		}
		o += __builtin_ctz(m);
		i += __builtin_ctz(m);
		o = json_byte(o, (unsigned char)s[i++], latin1);
	}
#endif
	for (;;) {
		while (i + 8 <= n && swar_plain(s + i, latin1)) {
			memcpy(o, s + i, 8);
			o += 8;
			i += 8;
		}
		if (i == n)
			break;
		unsigned char c = (unsigned char)s[i++];

		if (c >= 0x20 && c != '"' && c != '\\' && (c < 0x80 || !latin1))
			*o++ = (char)c;
		else
			o = json_byte(o, c, latin1);
	}
	*o++ = '"';
	rw_buf_commit(b, o);
}

void rw_buf_json_str(rw_buf *b, const char *s, size_t n)
{
	json_str(b, s, n, 0);
}

void rw_buf_json_latin1(rw_buf *b, const uint8_t *p, size_t n)
{
	json_str(b, (const char *)p, n, 1);
}

void rw_buf_json_base64(rw_buf *b, const uint8_t *p, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *o;
	size_t i;

	if (n > SIZE_MAX / 2 || rw_buf_reserve(b, n / 3 * 4 + 32) < 0) {
		b->failed = 1;
		return;
	}
	o = b->p + b->len;
	memcpy(o, "{\"base64\": \"", 12);
	o += 12;
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = tab[(v >> 6) & 63];
		*o++ = tab[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);

		*o++ = tab[v >> 18];
		*o++ = tab[(v >> 12) & 63];
		*o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	memcpy(o, "\"}", 3);
	b->len = (size_t)(o + 2 - b->p);
}

int rw_utf8_valid(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c;
		size_t k;
		uint32_t cp;
		uint64_t x;

		while (i + 8 <= n && (memcpy(&x, p + i, 8), (x & RW_HIGHS) == 0))
			i += 8;
		if (i == n)
			break;
		c = p[i];
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
