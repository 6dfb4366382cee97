/*
 * binlog_decode.h - per-event decoders behind binlog_event_decode() (private
 * to lib/).  Each takes the event body (after the common header, checksum
 * excluded), the stream offset of body[0] for errors, and fills *out only on
 * success.
 */
#ifndef RINGWATCH_LIB_BINLOG_DECODE_H
#define RINGWATCH_LIB_BINLOG_DECODE_H

#include "ringwatch/binlog_event.h"

/* compressed: QUERY_COMPRESSED, whose SQL text is zlib-compressed. */
RW_MUST_CHECK int binlog_query_decode(const uint8_t *body, size_t len, unsigned post_header_len,
				      int64_t pos, int compressed, binlog_query *out,
				      rw_error *err);

/* GTID and ANONYMOUS_GTID (MySQL 5.6+ layout). */
RW_MUST_CHECK int binlog_gtid_decode(const uint8_t *body, size_t len, int64_t pos, binlog_gtid *out,
				     rw_error *err);

/* GTID_TAGGED (MySQL 8.3+ serialization library layout). */
RW_MUST_CHECK int binlog_gtid_tagged_decode(const uint8_t *body, size_t len, int64_t pos,
					    binlog_gtid *out, rw_error *err);

RW_MUST_CHECK int binlog_previous_gtids_decode(const uint8_t *body, size_t len, int64_t pos,
					       binlog_previous_gtids *out, rw_error *err);

RW_MUST_CHECK int binlog_mariadb_gtid_decode(const uint8_t *body, size_t len, int64_t pos,
					     uint32_t server_id, binlog_mariadb_gtid *out,
					     rw_error *err);

RW_MUST_CHECK int binlog_gtid_list_decode(const uint8_t *body, size_t len, int64_t pos,
					  binlog_gtid_list *out, rw_error *err);

/* Any rows event; type picks the kind, version and compression. */
RW_MUST_CHECK int binlog_rows_decode(unsigned type, const uint8_t *body, size_t len,
				     unsigned post_header_len, int64_t pos, binlog_rows *out,
				     rw_error *err);

#endif
