/*
 * binlog_event.h - one binlog event, decoded.
 *
 * binlog_event_decode() is pure: it turns the bytes of one event (common
 * header included, checksum excluded) into a binlog_event whose pointers
 * point into those bytes.  Only TABLE_MAP allocates (binlog_table_map, see
 * binlog_table_map.h); binlog_event_cleanup() frees what decode allocated.
 *
 * Rows events are decoded up to their row data; the rows themselves are
 * decoded by row_decode.h against the matching table map.
 */
#ifndef RINGWATCH_BINLOG_EVENT_H
#define RINGWATCH_BINLOG_EVENT_H

#include "ringwatch/binlog_event_type.h"
#include "ringwatch/binlog_table_map.h"
#include "ringwatch/rw_buf.h"
#include "ringwatch/rw_error.h"

#include <stddef.h>
#include <stdint.h>

#define BINLOG_HEADER_LEN   19
#define BINLOG_CHECKSUM_LEN 4

enum binlog_checksum_alg {
	BINLOG_CHECKSUM_OFF = 0,
	BINLOG_CHECKSUM_CRC32 = 1,
	BINLOG_CHECKSUM_UNDEF = 255,
};

/* The common header every v4 event starts with. */
typedef struct binlog_header {
	uint32_t timestamp; /* seconds since the epoch, UTC */
	uint8_t type;       /* enum binlog_event_type (or a code ringwatch does not know) */
	uint32_t server_id; /* the server where the event originated */
	uint32_t event_size;
	uint32_t log_pos; /* as written; 0 inside MariaDB 11.4+ transactions */
	uint16_t flags;
} binlog_header;

/* FORMAT_DESCRIPTION: how to read every following event of the binlog. */
typedef struct binlog_fde {
	uint16_t binlog_version;
	char server_version[51]; /* NUL-terminated */
	uint32_t create_timestamp;
	uint8_t header_len;
	uint8_t checksum_alg;     /* enum binlog_checksum_alg */
	uint16_t n_post_header;   /* entries in post_header[] the event had */
	uint8_t post_header[256]; /* post-header length by event type code */
	uint8_t is_mariadb;
	uint16_t version[3]; /* major, minor, patch from server_version */
} binlog_fde;

typedef struct binlog_str {
	const char *p; /* not NUL-terminated */
	size_t len;
} binlog_str;

/* QUERY and MariaDB QUERY_COMPRESSED (query already inflated by the reader). */
typedef struct binlog_query {
	uint32_t thread_id;
	uint32_t exec_time;
	uint16_t error_code;
	binlog_str schema;
	binlog_str sql;
	/* status variables (present[] says which were in the event) */
	uint32_t flags2;
	uint64_t sql_mode;
	uint16_t charset_client, collation_connection, collation_server;
	binlog_str time_zone;
	binlog_str catalog;
	uint16_t auto_increment_increment, auto_increment_offset;
	uint16_t lc_time_names, charset_database;
	uint64_t table_map_for_update;
	binlog_str invoker_user, invoker_host;
	uint32_t microseconds;
	uint64_t ddl_xid;
	uint16_t default_collation_utf8mb4;
	uint8_t explicit_defaults_ts, sql_require_pk, default_table_encryption;
	uint64_t mariadb_xid;
	uint32_t hrnow_usec;
	uint8_t has_flags2, has_sql_mode, has_charset, has_ddl_xid, has_mariadb_xid, has_hrnow;
	uint8_t has_microseconds;
	uint8_t status_unknown_code; /* first unknown status code (parsing stopped there), 0 none */
	uint8_t compressed;          /* came from QUERY_COMPRESSED */
	const uint8_t *zdata;        /* QUERY_COMPRESSED: compressed query (reader inflates) */
	size_t zlen;
} binlog_query;

typedef struct binlog_rotate {
	uint64_t position;
	binlog_str file;
} binlog_rotate;

/* MySQL GTID, ANONYMOUS_GTID and GTID_TAGGED. */
typedef struct binlog_gtid {
	uint8_t flags; /* 1: may commit in parallel (commit_flag) */
	uint8_t sid[16];
	int64_t gno;
	char tag[33]; /* GTID_TAGGED only, "" otherwise */
	uint8_t has_logical_clock;
	int64_t last_committed, sequence_number;
	uint8_t has_commit_ts;
	uint64_t immediate_commit_ts, original_commit_ts; /* microseconds since the epoch */
	uint8_t has_trx_length;
	uint64_t transaction_length;
	uint8_t has_server_version;
	uint32_t immediate_server_version, original_server_version;
	uint8_t has_ticket;
	uint64_t commit_group_ticket;
	char text[80]; /* "uuid:gno" or "uuid:tag:gno"; "ANONYMOUS" */
} binlog_gtid;

/* MariaDB GTID event: starts a transaction (event group). */
typedef struct binlog_mariadb_gtid {
	uint64_t seq_no;
	uint32_t domain_id;
	uint8_t flags2;
	uint64_t commit_id; /* group commit id, when flags2 & 2 */
	int32_t xa_format_id;
	uint8_t xa_gtrid_len, xa_bqual_len;
	const uint8_t *xa_data; /* gtrid then bqual; NULL unless an XA flag is set */
	uint8_t flags_extra;
	char text[64]; /* "domain-server-seq" */
} binlog_mariadb_gtid;

#define BINLOG_MARIADB_GTID_STANDALONE     0x01
#define BINLOG_MARIADB_GTID_GROUP_COMMIT   0x02
#define BINLOG_MARIADB_GTID_TRANSACTIONAL  0x04
#define BINLOG_MARIADB_GTID_ALLOW_PARALLEL 0x08
#define BINLOG_MARIADB_GTID_WAITED         0x10
#define BINLOG_MARIADB_GTID_DDL            0x20
#define BINLOG_MARIADB_GTID_PREPARED_XA    0x40
#define BINLOG_MARIADB_GTID_COMPLETED_XA   0x80

/* MariaDB GTID_LIST: count entries of (domain, server, seq), raw. */
typedef struct binlog_gtid_list {
	uint32_t count;
	uint8_t flags;          /* top 4 bits of the count word */
	const uint8_t *entries; /* count * 16 bytes: domain(4) server(4) seq(8), little-endian */
} binlog_gtid_list;

/* MySQL PREVIOUS_GTIDS: the raw set (n_sids, then per sid uuid + intervals). */
typedef struct binlog_previous_gtids {
	uint64_t n_sids;
	uint8_t tagged; /* MySQL 8.3+ tagged format */
	const uint8_t *data;
	size_t len;
} binlog_previous_gtids;

typedef struct binlog_xa_prepare {
	uint8_t one_phase;
	int32_t format_id;
	uint32_t gtrid_len, bqual_len;
	const uint8_t *data;
} binlog_xa_prepare;

typedef struct binlog_incident {
	uint16_t type;
	binlog_str message;
} binlog_incident;

typedef struct binlog_heartbeat {
	binlog_str file;
	uint64_t position; /* HEARTBEAT_V2 only (v1: the header's log_pos) */
} binlog_heartbeat;

/* TRANSACTION_PAYLOAD: compressed events (the reader inflates them). */
typedef struct binlog_payload {
	uint64_t payload_size;
	uint64_t compression; /* 0 zstd, 255 none */
	uint64_t uncompressed_size;
	const uint8_t *data;
	size_t len;
} binlog_payload;

enum binlog_rows_kind {
	BINLOG_ROWS_WRITE,
	BINLOG_ROWS_UPDATE,
	BINLOG_ROWS_DELETE,
	BINLOG_ROWS_PARTIAL_UPDATE,
};

/* WRITE/UPDATE/DELETE_ROWS v1/v2, PARTIAL_UPDATE_ROWS and MariaDB's compressed rows. */
typedef struct binlog_rows {
	uint8_t kind;       /* enum binlog_rows_kind */
	uint8_t version;    /* 1 or 2 */
	uint8_t compressed; /* MariaDB: data is zlib-compressed (reader inflates) */
	uint64_t table_id;
	uint16_t flags;       /* 1: end of statement */
	const uint8_t *extra; /* v2 extra data (without its length), may be NULL */
	size_t extra_len;
	uint32_t ncols;
	const uint8_t *present;        /* columns in the before image (or the only image) */
	const uint8_t *present_update; /* UPDATE: columns in the after image; else NULL */
	const uint8_t *data;           /* the row images */
	size_t data_len;
	int64_t data_offset;           /* stream offset of data[0] (-1 when inflated) */
	const binlog_table_map *table; /* set by the reader; NULL if unknown */
} binlog_rows;

typedef struct binlog_event {
	binlog_header hdr;
	/*
	 * Stream offsets of the event's first byte and of the byte after it
	 * (checksum included).  Events of a TRANSACTION_PAYLOAD carry the
	 * payload event's.  From a replication stream (binlog_reader.h), master-made
	 * events (heartbeats, the resent FDE) take no room: next_position ==
	 * position, and a ROTATE's next_position is where it points.
	 */
	int64_t position;
	int64_t next_position;
	uint8_t in_payload; /* came out of a TRANSACTION_PAYLOAD */
	uint8_t unknown;    /* ignorable event of a type ringwatch does not decode */
	const uint8_t *raw; /* the whole event, header included, checksum excluded */
	size_t raw_len;
	union {
		binlog_fde fde;
		binlog_query query;
		binlog_rotate rotate;
		uint64_t xid;
		binlog_gtid gtid;
		binlog_mariadb_gtid mgtid;
		binlog_gtid_list gtid_list;
		binlog_previous_gtids prev_gtids;
		binlog_xa_prepare xa;
		binlog_incident incident;
		binlog_heartbeat heartbeat;
		binlog_payload payload;
		binlog_rows rows;
		binlog_str text; /* ROWS_QUERY, ANNOTATE_ROWS, BINLOG_CHECKPOINT file */
		binlog_table_map *table_map;
	} u;
} binlog_event;

/*
 * Read the 19-byte common header at buf (len bytes available).  pos is the
 * stream offset of buf[0], for errors.
 */
RW_MUST_CHECK int binlog_header_decode(const uint8_t *buf, size_t len, int64_t pos,
				       binlog_header *out, rw_error *err);

/*
 * Decode a FORMAT_DESCRIPTION event (buf: whole event including its
 * checksum, if any: whether one is there depends on the server version).
 */
RW_MUST_CHECK int binlog_fde_decode(const uint8_t *buf, size_t len, int64_t pos, binlog_fde *out,
				    rw_error *err);

/*
 * A FORMAT_DESCRIPTION for binlogs whose first event is not one (a relay
 * log fragment, a test): binlog v4, no checksums, MySQL 5.6 post-headers.
 */
void binlog_fde_default(binlog_fde *out);

/*
 * Decode one event: buf holds the event from its common header to its end,
 * without the checksum (except FORMAT_DESCRIPTION, always given whole: its
 * last 5 bytes are the checksum algorithm and a checksum or zeroes).  fde describes the binlog (post-header lengths).
 * pos is the stream offset of buf[0]; it and the length set position and
 * next_position (the caller adds the checksum length to next_position).
 * Returns 0, or RW_E_* with err naming the offset.  An event type that is
 * not known: decoded as "unknown" when it carries the IGNORABLE flag,
 * RW_E_UNSUPPORTED otherwise.  START_ENCRYPTION gives RW_E_UNSUPPORTED.
 */
RW_MUST_CHECK int binlog_event_decode(const binlog_fde *fde, const uint8_t *buf, size_t len,
				      int64_t pos, binlog_event *out, rw_error *err);

/* Free what binlog_event_decode() allocated (the TABLE_MAP). */
void binlog_event_cleanup(binlog_event *ev);

/* Is this type one of the rows events (WRITE/UPDATE/DELETE, any version)? */
int binlog_event_is_rows(unsigned type);

/*
 * Append the GTID set of a PREVIOUS_GTIDS event as MySQL prints it
 * ("uuid:1-5:7,uuid2:tag:1-3"; "" when empty).  0 or RW_E_TRUNCATED/INVALID.
 */
RW_MUST_CHECK int binlog_previous_gtids_text(const binlog_previous_gtids *g, int64_t pos,
					     struct rw_buf *out, rw_error *err);

/* Fill buf with a MySQL uuid "xxxxxxxx-xxxx-..." (37 bytes with NUL). */
void binlog_uuid_format(const uint8_t sid[16], char buf[37]);

#endif
