/*
 * hex.h - bytes as lowercase hexadecimal text, and back: conflict keys in
 * the ledger and in reports.  Used by ringwatchd and the ringwatch CLI.
 */
#ifndef RINGWATCH_COMMON_HEX_H
#define RINGWATCH_COMMON_HEX_H

#include <stddef.h>
#include <stdint.h>

/*
 * len bytes at p as hex into out (room bytes, NUL-terminated): as many
 * whole bytes as fit.  Returns the characters written.
 */
size_t hex_put(char *out, size_t room, const uint8_t *p, size_t len);

/* len bytes at p as hex (malloc'd), or NULL when out of memory. */
char *hex_encode(const uint8_t *p, size_t len);

/*
 * The bytes of an even-length hex text (malloc'd; *len set), or NULL when
 * it is not one (a digit outside 0-9a-f, an odd length) or out of memory.
 */
uint8_t *hex_decode(const char *hex, size_t *len);

#endif
