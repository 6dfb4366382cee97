/*
 * binlog_inflate.h - the compressions found inside binlogs (private to lib/):
 * MariaDB's compressed events (a length header, then zlib) and MySQL's
 * TRANSACTION_PAYLOAD (zstd).
 */
#ifndef RINGWATCH_LIB_BINLOG_INFLATE_H
#define RINGWATCH_LIB_BINLOG_INFLATE_H

#include "ringwatch/rw_error.h"

#include <stddef.h>
#include <stdint.h>

/* A growable output buffer reused across calls. */
typedef struct rw_obuf {
	uint8_t *p;
	size_t len, cap;
} rw_obuf;

void rw_obuf_free(rw_obuf *b);

/*
 * MariaDB: byte 0 = 0x80 | n, n big-endian bytes of the inflated length,
 * then a zlib stream.  Inflates into out (replacing its contents).
 */
RW_MUST_CHECK int binlog_inflate_mariadb(const uint8_t *in, size_t len, int64_t pos, size_t limit,
					 rw_obuf *out, rw_error *err);

/* A zstd frame (TRANSACTION_PAYLOAD); size_hint may be 0 when unknown. */
RW_MUST_CHECK int binlog_inflate_zstd(const uint8_t *in, size_t len, int64_t pos,
				      uint64_t size_hint, size_t limit, rw_obuf *out,
				      rw_error *err);

#endif
