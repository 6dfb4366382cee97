/*
 * binlog_inflate.c - zlib (MariaDB compressed events) and zstd
 * (TRANSACTION_PAYLOAD) decompression into a reusable buffer.
 */
#include "binlog_inflate.h"

#include <stdlib.h>
#include <zlib.h>
#include <zstd.h>

void rw_obuf_free(rw_obuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

static int obuf_reserve(rw_obuf *b, size_t n, int64_t pos, rw_error *err)
{
	uint8_t *p;

	if (n <= b->cap)
		return 0;
	p = realloc(b->p, n);
	if (p == NULL)
		return rw_error_set(err, RW_E_NOMEM, pos, "out of memory inflating %zu bytes", n);
	b->p = p;
	b->cap = n;
	return 0;
}

int binlog_inflate_mariadb(const uint8_t *in, size_t len, int64_t pos, size_t limit, rw_obuf *out,
			   rw_error *err)
{
	unsigned n;
	uint64_t want = 0;
	uLongf got;
	int rc;

	if (len < 1 || (in[0] & 0xe0) != 0x80 || (n = in[0] & 0x07) < 1 || n > 4 || len < 1 + n)
		return rw_error_set(err, RW_E_INVALID, pos, "compressed event: bad header");
	for (unsigned i = 1; i <= n; i++)
		want = (want << 8) | in[i];
	if (want > limit)
		return rw_error_set(err, RW_E_LIMIT, pos,
				    "compressed event: inflates to %llu bytes (limit %zu)",
				    (unsigned long long)want, limit);
	rc = obuf_reserve(out, want ? (size_t)want : 1, pos, err);
	if (rc < 0)
		return rc;
	got = (uLongf)want;
	if (uncompress(out->p, &got, in + 1 + n, (uLong)(len - 1 - n)) != Z_OK || got != want)
		return rw_error_set(err, RW_E_INVALID, pos,
				    "compressed event: zlib data does not inflate to %llu bytes",
				    (unsigned long long)want);
	out->len = (size_t)want;
	return 0;
}

static int zstd_run(ZSTD_DStream *z, const uint8_t *in, size_t len, int64_t pos, size_t limit,
		    rw_obuf *out, rw_error *err)
{
	ZSTD_inBuffer zin = { in, len, 0 };
	size_t ret = 1;

	out->len = 0;
	while (ret != 0) {
		ZSTD_outBuffer zout;
		int rc;

		if (out->len == out->cap) {
			size_t grow = out->cap < 65536 ? 65536 : out->cap * 2;

			if (out->cap >= limit)
				return rw_error_set(err, RW_E_LIMIT, pos,
						    "TRANSACTION_PAYLOAD: inflates past %zu bytes",
						    limit);
			rc = obuf_reserve(out, grow > limit ? limit : grow, pos, err);
			if (rc < 0)
				return rc;
		}
		zout.dst = out->p;
		zout.size = out->cap;
		zout.pos = out->len;
		ret = ZSTD_decompressStream(z, &zout, &zin);
		out->len = zout.pos;
		if (ZSTD_isError(ret))
			return rw_error_set(err, RW_E_INVALID, pos, "TRANSACTION_PAYLOAD: zstd: %s",
					    ZSTD_getErrorName(ret));
		if (ret != 0 && zin.pos == zin.size && zout.pos < zout.size)
			return rw_error_set(err, RW_E_TRUNCATED, pos,
					    "TRANSACTION_PAYLOAD: zstd frame ends early");
	}
	return 0;
}

int binlog_inflate_zstd(const uint8_t *in, size_t len, int64_t pos, uint64_t size_hint,
			size_t limit, rw_obuf *out, rw_error *err)
{
	ZSTD_DStream *z;
	int rc;

	if (size_hint > 0 && size_hint <= limit) {
		rc = obuf_reserve(out, (size_t)size_hint, pos, err);
		if (rc < 0)
			return rc;
	}
	z = ZSTD_createDStream();
	if (z == NULL)
		return rw_error_set(err, RW_E_NOMEM, pos, "out of memory for zstd");
	ZSTD_initDStream(z);
	rc = zstd_run(z, in, len, pos, limit, out, err);
	ZSTD_freeDStream(z);
	return rc;
}
