/*
 * rw_bytes.h - bounds-checked little-endian reads over an input buffer
 * (private to lib/).
 *
 * A cursor walks a buffer; every read first checks that the bytes are there
 * and, if not, fills the caller's rw_error with the absolute offset (base +
 * position) and returns RW_E_TRUNCATED.  Nothing is ever read past len.
 */
#ifndef RINGWATCH_LIB_RW_BYTES_H
#define RINGWATCH_LIB_RW_BYTES_H

#include "ringwatch/rw_error.h"

#include <stddef.h>
#include <stdint.h>

typedef struct rw_cur {
	const uint8_t *p; /* start of the buffer */
	size_t len;       /* bytes in it */
	size_t pos;       /* next byte to read */
	int64_t base;     /* absolute offset of p[0] in the input, for errors */
	const char *what; /* name of the structure being read, for errors */
} rw_cur;

static inline void rw_cur_init(rw_cur *c, const uint8_t *p, size_t len, int64_t base,
			       const char *what)
{
	c->p = p;
	c->len = len;
	c->pos = 0;
	c->base = base;
	c->what = what;
}

static inline size_t rw_cur_left(const rw_cur *c)
{
	return c->len - c->pos;
}

static inline int64_t rw_cur_off(const rw_cur *c)
{
	return c->base + (int64_t)c->pos;
}

static inline const uint8_t *rw_cur_ptr(const rw_cur *c)
{
	return c->p + c->pos;
}

static inline int rw_cur_need(rw_cur *c, size_t n, rw_error *err)
{
	if (n > c->len - c->pos)
		return rw_error_set(err, RW_E_TRUNCATED, rw_cur_off(c),
				    "%s: needs %zu more bytes, only %zu left", c->what, n,
				    c->len - c->pos);
	return 0;
}

static inline uint64_t rw_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static inline uint64_t rw_be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Read an n-byte (n <= 8) little-endian unsigned integer. */
static inline int rw_cur_uint(rw_cur *c, unsigned n, uint64_t *out, rw_error *err)
{
	int rc = rw_cur_need(c, n, err);

	if (rc < 0)
		return rc;
	*out = rw_le(c->p + c->pos, n);
	c->pos += n;
	return 0;
}

static inline int rw_cur_u8(rw_cur *c, uint8_t *out, rw_error *err)
{
	uint64_t v;
	int rc = rw_cur_uint(c, 1, &v, err);

	if (rc == 0)
		*out = (uint8_t)v;
	return rc;
}

static inline int rw_cur_u16(rw_cur *c, uint16_t *out, rw_error *err)
{
	uint64_t v;
	int rc = rw_cur_uint(c, 2, &v, err);

	if (rc == 0)
		*out = (uint16_t)v;
	return rc;
}

static inline int rw_cur_u32(rw_cur *c, uint32_t *out, rw_error *err)
{
	uint64_t v;
	int rc = rw_cur_uint(c, 4, &v, err);

	if (rc == 0)
		*out = (uint32_t)v;
	return rc;
}

/* Take n bytes: *out points at them inside the buffer. */
static inline int rw_cur_bytes(rw_cur *c, size_t n, const uint8_t **out, rw_error *err)
{
	int rc = rw_cur_need(c, n, err);

	if (rc < 0)
		return rc;
	*out = c->p + c->pos;
	c->pos += n;
	return 0;
}

static inline int rw_cur_skip(rw_cur *c, size_t n, rw_error *err)
{
	int rc = rw_cur_need(c, n, err);

	if (rc == 0)
		c->pos += n;
	return rc;
}

/*
 * MySQL's length-encoded integer: < 0xfb one byte, 0xfc + 2, 0xfd + 3,
 * 0xfe + 8.  0xfb (NULL) and 0xff are invalid here.
 */
static inline int rw_cur_lenenc(rw_cur *c, uint64_t *out, rw_error *err)
{
	uint8_t b;
	int64_t at = rw_cur_off(c);
	int rc = rw_cur_u8(c, &b, err);

	if (rc < 0)
		return rc;
	if (b < 0xfb) {
		*out = b;
		return 0;
	}
	if (b == 0xfc)
		return rw_cur_uint(c, 2, out, err);
	if (b == 0xfd)
		return rw_cur_uint(c, 3, out, err);
	if (b == 0xfe)
		return rw_cur_uint(c, 8, out, err);
	return rw_error_set(err, RW_E_INVALID, at, "%s: bad length-encoded integer prefix 0x%02x",
			    c->what, b);
}

#endif
