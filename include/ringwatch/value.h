/*
 * value.h - one column value of a row image, and its two renderings: JSON
 * text (as the API shows row values: numbers, strings, null, {"base64": ...}
 * for binary data) and the canonical key bytes the conflict engine hashes.
 *
 * A value points into the event it was decoded from (strings, decimals,
 * JSON documents are not copied) and is valid as long as that event is.
 */
#ifndef RINGWATCH_VALUE_H
#define RINGWATCH_VALUE_H

#include "ringwatch/rw_buf.h"
#include "ringwatch/rw_error.h"

#include <stddef.h>
#include <stdint.h>

enum value_kind {
	VALUE_ABSENT = 0, /* the column is not in this image */
	VALUE_NULL,
	VALUE_INT,       /* i */
	VALUE_UINT,      /* u */
	VALUE_FLOAT,     /* d (stored as a 4-byte float) */
	VALUE_DOUBLE,    /* d */
	VALUE_DECIMAL,   /* bytes: MySQL binary decimal; precision, scale */
	VALUE_STRING,    /* bytes: character data in charset (0: not known) */
	VALUE_BINARY,    /* bytes: binary data (BLOB, BINARY, GEOMETRY, ...) */
	VALUE_JSON,      /* bytes: MySQL binary JSON */
	VALUE_JSON_DIFF, /* bytes: PARTIAL_UPDATE_ROWS diff vector */
	VALUE_VECTOR,    /* bytes: little-endian float32 array */
	VALUE_BIT,       /* u */
	VALUE_ENUM,      /* u: 1-based member index, 0 = '' */
	VALUE_SET,       /* u: member bitmask */
	VALUE_YEAR,      /* u: 0 or 1901-2155 */
	VALUE_DATE,      /* t */
	VALUE_TIME,      /* t: neg, hour (may exceed 24), minute, second, usec */
	VALUE_DATETIME,  /* t */
	VALUE_TIMESTAMP, /* t: UTC, from seconds since the epoch (sec, usec also in t) */
};

typedef struct value_temporal {
	int64_t epoch; /* TIMESTAMP: seconds since the epoch */
	uint32_t year;
	uint8_t month, day, minute, second;
	uint32_t hour;
	uint32_t usec;
	uint8_t neg;
	uint8_t fsp; /* fractional digits to print, 0-6 */
} value_temporal;

typedef struct value_datum {
	uint8_t kind;             /* enum value_kind */
	uint8_t type;             /* binlog column type it was decoded as */
	uint8_t precision, scale; /* DECIMAL */
	uint16_t charset;         /* STRING: collation id, 0 when not known */
	const void *names; /* ENUM/SET: the column (binlog_column *) for member names, or NULL */
	union {
		int64_t i;
		uint64_t u;
		double d;
		struct {
			const uint8_t *p;
			size_t len;
		} b;
		value_temporal t;
	} v;
} value_datum;

/*
 * Append v as JSON text to out.  Numbers stay numbers (DECIMAL becomes an
 * exact decimal string, BIGINT UNSIGNED a plain integer), character data a
 * JSON string (latin1 converted to UTF-8; bytes that are not valid UTF-8 make
 * it {"base64": ...}), binary data {"base64": ...}, temporal values strings
 * ("2024-01-31", "-838:59:59.000000", "2024-01-31 23:59:59.5"), ENUM/SET
 * their member names when the table map has them (else the number), JSON
 * documents JSON, VECTOR an array of numbers.  Errors: a malformed DECIMAL
 * or JSON document (RW_E_INVALID).  On error out may hold a partial value.
 */
RW_MUST_CHECK int value_to_json(const value_datum *v, rw_buf *out, rw_error *err);

/*
 * Append the canonical key encoding of v to out.  Equal column values give
 * equal bytes whichever server, image or event they came from, so a key is
 * the concatenation of its columns' encodings, in key order.  Each encoding
 * is one tag byte then a payload:
 *   'N'  NULL (no payload)
 *   'I'  signed integer: 8 bytes big-endian, sign bit flipped (sorts right)
 *   'U'  unsigned integer, BIT, ENUM, SET, YEAR: 8 bytes big-endian
 *   'F'  FLOAT/DOUBLE: the IEEE double, 8 bytes big-endian (-0 as +0)
 *   'D'  DECIMAL: 4-byte big-endian length + its exact text, trailing
 *        fraction zeroes kept (scale is part of the column type)
 *   'S'  STRING/BINARY/JSON/VECTOR: 4-byte big-endian length + the bytes
 *   'T'  DATE/TIME/DATETIME/TIMESTAMP: 4-byte length + the JSON text form
 * Binary and character data are compared as bytes (no collation folding).
 */
RW_MUST_CHECK int value_key_encode(const value_datum *v, rw_buf *out, rw_error *err);

/*
 * Render a MySQL binary DECIMAL (precision, scale) as exact text into out.
 * Returns 0 or RW_E_INVALID/RW_E_TRUNCATED.
 */
RW_MUST_CHECK int value_decimal_text(const uint8_t *p, size_t len, unsigned precision,
				     unsigned scale, rw_buf *out, rw_error *err);

/* Bytes a DECIMAL(precision, scale) takes in a row image; 0 if the type is invalid. */
size_t value_decimal_size(unsigned precision, unsigned scale);

#endif
