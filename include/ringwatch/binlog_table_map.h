/*
 * binlog_table_map.h - a TABLE_MAP event: which table a table id names, the
 * binlog type and metadata of each column, and the optional metadata
 * (binlog_row_metadata=FULL on MySQL 8 / MariaDB 10.5+): signedness,
 * charsets, names, ENUM/SET strings, primary key, visibility.
 *
 * A decoded table map owns its memory (one allocation for the struct and its
 * arrays, one copy of the event body for the strings) and outlives the event
 * buffer; free it with binlog_table_map_free().
 */
#ifndef RINGWATCH_BINLOG_TABLE_MAP_H
#define RINGWATCH_BINLOG_TABLE_MAP_H

#include "ringwatch/rw_error.h"

#include <stddef.h>
#include <stdint.h>

/* Column types as written in binlogs (MySQL's enum_field_types). */
enum binlog_column_type {
	BINLOG_TYPE_DECIMAL = 0,
	BINLOG_TYPE_TINY = 1,
	BINLOG_TYPE_SHORT = 2,
	BINLOG_TYPE_LONG = 3,
	BINLOG_TYPE_FLOAT = 4,
	BINLOG_TYPE_DOUBLE = 5,
	BINLOG_TYPE_NULL = 6,
	BINLOG_TYPE_TIMESTAMP = 7,
	BINLOG_TYPE_LONGLONG = 8,
	BINLOG_TYPE_INT24 = 9,
	BINLOG_TYPE_DATE = 10,
	BINLOG_TYPE_TIME = 11,
	BINLOG_TYPE_DATETIME = 12,
	BINLOG_TYPE_YEAR = 13,
	BINLOG_TYPE_NEWDATE = 14,
	BINLOG_TYPE_VARCHAR = 15,
	BINLOG_TYPE_BIT = 16,
	BINLOG_TYPE_TIMESTAMP2 = 17,
	BINLOG_TYPE_DATETIME2 = 18,
	BINLOG_TYPE_TIME2 = 19,
	BINLOG_TYPE_BLOB_COMPRESSED = 140,    /* MariaDB */
	BINLOG_TYPE_VARCHAR_COMPRESSED = 141, /* MariaDB */
	BINLOG_TYPE_VECTOR = 242,
	BINLOG_TYPE_INVALID = 243,
	BINLOG_TYPE_BOOL = 244,
	BINLOG_TYPE_JSON = 245,
	BINLOG_TYPE_NEWDECIMAL = 246,
	BINLOG_TYPE_ENUM = 247,
	BINLOG_TYPE_SET = 248,
	BINLOG_TYPE_TINY_BLOB = 249,
	BINLOG_TYPE_MEDIUM_BLOB = 250,
	BINLOG_TYPE_LONG_BLOB = 251,
	BINLOG_TYPE_BLOB = 252,
	BINLOG_TYPE_VAR_STRING = 253,
	BINLOG_TYPE_STRING = 254,
	BINLOG_TYPE_GEOMETRY = 255,
};

/* Collation id of binary strings (BLOB, VARBINARY, BINARY). */
#define BINLOG_CHARSET_BINARY 63

typedef struct binlog_column {
	uint8_t type;      /* as in the TABLE_MAP */
	uint8_t real_type; /* STRING resolved to ENUM/SET/STRING; = type otherwise */
	uint16_t meta;     /* normalised metadata, see binlog_table_map_decode() */
	uint8_t nullable;
	uint8_t is_unsigned; /* from SIGNEDNESS metadata; 0 when not known */
	uint8_t visible;     /* 1 unless COLUMN_VISIBILITY says otherwise */
	uint8_t in_pk;       /* part of the primary key */
	uint16_t charset;    /* collation id; 0 when not known */
	uint16_t pk_prefix;  /* key prefix length, 0 = whole column */
	uint32_t geometry_type;
	const char *name;  /* NUL-terminated; NULL when not known */
	uint32_t n_strs;   /* ENUM/SET member count, 0 when not known */
	const char **strs; /* ENUM/SET members, NUL-terminated, n_strs of them */
} binlog_column;

typedef struct binlog_table_map {
	uint64_t table_id;
	uint16_t flags;
	const char *schema; /* NUL-terminated */
	const char *table;  /* NUL-terminated */
	uint32_t ncols;
	binlog_column *cols;
	uint32_t n_pk;
	uint16_t *pk; /* primary key column indexes, in key order */
	uint8_t has_names, has_signedness, has_charsets, has_pk;
	uint8_t post_header_len; /* what it was decoded with */
	const uint8_t *body;     /* a copy of the event body it was decoded from */
	size_t body_len;
	int64_t body_pos;
} binlog_table_map;

/* Most columns a table can have (MySQL and MariaDB both stop at 4096). */
#define BINLOG_MAX_COLUMNS 4096

/*
 * Decode the body of a TABLE_MAP (after the 19-byte common header, checksum
 * excluded).  post_header_len is the FORMAT_DESCRIPTION's entry for type 19
 * (6: 4-byte table id, 8: 6-byte table id).  pos is the stream offset of
 * body[0].  On success *out is a new table map.
 *
 * Normalised meta: FLOAT/DOUBLE/BLOB family/GEOMETRY/JSON/VECTOR: byte count
 * of the length (or value); VARCHAR/VAR_STRING/STRING: maximum byte length;
 * ENUM/SET: pack length in bytes; NEWDECIMAL: precision << 8 | scale;
 * BIT: bytes << 8 | extra bits; TIME2/DATETIME2/TIMESTAMP2: fractional digits.
 */
RW_MUST_CHECK int binlog_table_map_decode(const uint8_t *body, size_t len, unsigned post_header_len,
					  int64_t pos, binlog_table_map **out, rw_error *err);

void binlog_table_map_free(binlog_table_map *tm);

/* A copy of tm that lives on its own (decoded again from tm's body). */
RW_MUST_CHECK int binlog_table_map_dup(const binlog_table_map *tm, binlog_table_map **out,
				       rw_error *err);

/* "LONG", "VARCHAR", "NEWDECIMAL", ...; NULL for a code that is not a type. */
const char *binlog_column_type_name(unsigned type);

/* Is a column of this binlog type a number for SIGNEDNESS metadata? */
int binlog_column_type_is_numeric(unsigned type);

#endif
