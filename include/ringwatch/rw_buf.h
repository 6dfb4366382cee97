/*
 * rw_buf.h - a growable byte buffer for text the library produces (JSON of
 * values, key encodings).  Allocation failure is sticky: later appends do
 * nothing and rw_buf_failed() says so, so callers check once at the end.
 */
#ifndef RINGWATCH_RW_BUF_H
#define RINGWATCH_RW_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct rw_buf {
	char *p; /* NUL-terminated while not failed */
	size_t len, cap;
	int failed;
} rw_buf;

#define RW_BUF_INIT                                                                                \
	{                                                                                          \
		NULL, 0, 0, 0                                                                      \
	}

void rw_buf_free(rw_buf *b);

/* Drop the contents, keep the memory. */
void rw_buf_reset(rw_buf *b);

/*
 * Drop the contents from len on (len <= b->len) and a failure to grow
 * since (a failed allocation left the memory as it was): what was put
 * after len is taken back.
 */
void rw_buf_truncate(rw_buf *b, size_t len);

/* The slow path of rw_buf_reserve(): grow the allocation. */
int rw_buf_grow(rw_buf *b, size_t n);

/* Make room for n more bytes and a NUL; 0 or -1 (failed). */
static inline int rw_buf_reserve(rw_buf *b, size_t n)
{
	if (!b->failed && n < b->cap - b->len)
		return 0;
	return rw_buf_grow(b, n);
}

static inline void rw_buf_put(rw_buf *b, const void *p, size_t n)
{
	if (rw_buf_reserve(b, n) < 0)
		return;
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static inline void rw_buf_putc(rw_buf *b, char c)
{
	if (rw_buf_reserve(b, 1) < 0)
		return;
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

static inline void rw_buf_puts(rw_buf *b, const char *s)
{
	rw_buf_put(b, s, strlen(s));
}
void rw_buf_printf(rw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Decimal integers, without printf (the hot path of row rendering). */
void rw_buf_put_u64(rw_buf *b, uint64_t v);
void rw_buf_put_i64(rw_buf *b, int64_t v);

/* Append s (n bytes, UTF-8) as a quoted JSON string. */
void rw_buf_json_str(rw_buf *b, const char *s, size_t n);

/* The slow path of rw_array_grow(): realloc the array. */
int rw_array_realloc(void *items, size_t *cap, size_t size, size_t first);

/*
 * Room for element n of the array at *(T **)items, of *cap elements of size
 * bytes: when n == *cap the capacity doubles (first when it was 0).  0, or -1
 * when out of memory, with the array as it was.
 */
static inline int rw_array_grow(void *items, size_t *cap, size_t n, size_t size, size_t first)
{
	return n < *cap ? 0 : rw_array_realloc(items, cap, size, first);
}

/* Append n bytes of latin1 (ISO-8859-1) as a quoted JSON string, in UTF-8. */
void rw_buf_json_latin1(rw_buf *b, const uint8_t *p, size_t n);

/* Append {"base64": "..."} for n bytes. */
void rw_buf_json_base64(rw_buf *b, const uint8_t *p, size_t n);

/* Is p[0..n) valid UTF-8 (no overlongs, no surrogates)? */
int rw_utf8_valid(const uint8_t *p, size_t n);

static inline int rw_buf_failed(const rw_buf *b)
{
	return b->failed;
}

#endif
