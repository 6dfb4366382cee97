/*
 * value_key.h - the pieces of a canonical key's bytes (value_key_encode() in
 * value.c), shared with verify.c, which builds the same bytes from the text
 * a server returns: the two must stay byte for byte the same.
 */
#ifndef RINGWATCH_VALUE_KEY_H
#define RINGWATCH_VALUE_KEY_H

#include "ringwatch/rw_buf.h"

#include <stddef.h>
#include <stdint.h>

/* tag, then u as 8 bytes big-endian. */
void value_key_u64(rw_buf *out, char tag, uint64_t u);

/* tag, a 4-byte big-endian length n, then n bytes of p. */
void value_key_counted(rw_buf *out, char tag, const void *p, size_t n);

#endif
