/*
 * rw_fmt.h - number and text writers into room already reserved in an
 * rw_buf (private to lib/).
 *
 * The row rendering hot path reserves the most a value can take once, then
 * writes through a cursor: each writer returns the end of what it wrote, and
 * rw_buf_commit() sets the length and the NUL.  Two digits are written at a
 * time from a table (no byte-built temporaries, no per-byte bounds checks).
 */
#ifndef RINGWATCH_LIB_RW_FMT_H
#define RINGWATCH_LIB_RW_FMT_H

#include "ringwatch/rw_buf.h"

#include <stdint.h>
#include <string.h>

extern const char rw_fmt_pairs[200]; /* "00" "01" ... "99" */

/* The first free byte of b (after rw_buf_reserve() succeeded). */
static inline char *rw_buf_end(rw_buf *b)
{
	return b->p + b->len;
}

/* Everything up to end was written: take it into b. */
static inline void rw_buf_commit(rw_buf *b, char *end)
{
	b->len = (size_t)(end - b->p);
	*end = '\0';
}

static inline char *rw_fmt_2(char *o, unsigned v)
{
	memcpy(o, rw_fmt_pairs + 2 * v, 2);
	return o + 2;
}

static inline unsigned rw_fmt_ndigits(uint64_t v)
{
	unsigned n = 1;

	for (;;) {
		if (v < 10)
			return n;
		if (v < 100)
			return n + 1;
		if (v < 1000)
			return n + 2;
		if (v < 10000)
			return n + 3;
		v /= 10000;
		n += 4;
	}
}

/* v in exactly width digits (its lowest ones, zero-padded); width <= 20. */
static inline char *rw_fmt_digits(char *o, uint64_t v, unsigned width)
{
	char *end = o + width, *p = end;

	/* 64-bit division by 100 costs more than 32-bit: use it only while needed */
	while (v > UINT32_MAX && p - o >= 2) {
		p -= 2;
		memcpy(p, rw_fmt_pairs + 2 * (v % 100), 2);
		v /= 100;
	}
	for (uint32_t w = (uint32_t)v; p - o >= 2;) {
		p -= 2;
		memcpy(p, rw_fmt_pairs + 2 * (w % 100), 2);
		w /= 100;
		v = w;
	}
	if (p > o)
		*o = (char)('0' + v % 10);
	return end;
}

/* v in decimal: at most 20 bytes. */
static inline char *rw_fmt_u64(char *o, uint64_t v)
{
	if (v < 10) {
		*o = (char)('0' + v);
		return o + 1;
	}
	return rw_fmt_digits(o, v, rw_fmt_ndigits(v));
}

/* v in decimal: at most 20 bytes. */
static inline char *rw_fmt_i64(char *o, int64_t v)
{
	if (v < 0) {
		*o++ = '-';
		return rw_fmt_u64(o, (uint64_t) - (v + 1) + 1);
	}
	return rw_fmt_u64(o, (uint64_t)v);
}

#endif
