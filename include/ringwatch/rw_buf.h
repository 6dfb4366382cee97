/*
 * rw_buf.h - a growable byte buffer for text the library produces (JSON of
 * values, key encodings).  Allocation failure is sticky: later appends do
 * nothing and rw_buf_failed() says so, so callers check once at the end.
 */
#ifndef RINGWATCH_RW_BUF_H
#define RINGWATCH_RW_BUF_H

#include <stddef.h>
#include <stdint.h>

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

/* Make room for n more bytes; 0 or -1 (failed). */
int rw_buf_reserve(rw_buf *b, size_t n);

void rw_buf_put(rw_buf *b, const void *p, size_t n);
void rw_buf_putc(rw_buf *b, char c);
void rw_buf_puts(rw_buf *b, const char *s);
void rw_buf_printf(rw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append s (n bytes, UTF-8) as a quoted JSON string. */
void rw_buf_json_str(rw_buf *b, const char *s, size_t n);

/* Append {"base64": "..."} for n bytes. */
void rw_buf_json_base64(rw_buf *b, const uint8_t *p, size_t n);

/* Is p[0..n) valid UTF-8 (no overlongs, no surrogates)? */
int rw_utf8_valid(const uint8_t *p, size_t n);

static inline int rw_buf_failed(const rw_buf *b)
{
	return b->failed;
}

#endif
