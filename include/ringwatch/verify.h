/*
 * verify.h - the pure parts of verifying tables between the masters
 * (doc/verify.md): what kind of value each column holds, the SQL that reads
 * a chunk's checksum, its rows and its bounds, the canonical key bytes of a
 * key read over SQL, the order of two keys, the verdict on a chunk, the
 * rows two masters' lists disagree on, and the next chunk's size.
 *
 * SQL text is built from identifiers (quoted here) and literals the caller
 * has quoted already (with its client library's escaping), so nothing here
 * knows a connection.
 */
#ifndef RINGWATCH_VERIFY_H
#define RINGWATCH_VERIFY_H

#include "ringwatch/rw_buf.h"
#include "ringwatch/rw_error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a column holds, as far as reading and comparing it goes. */
enum verify_kind {
	VERIFY_INT,     /* signed integer types */
	VERIFY_UINT,    /* unsigned integer types, YEAR */
	VERIFY_DECIMAL, /* DECIMAL, NUMERIC */
	VERIFY_FLOAT,   /* FLOAT, DOUBLE */
	VERIFY_DATE,    /* DATE, DATETIME, TIMESTAMP: text in a fixed format */
	VERIFY_TIME,    /* TIME (may be negative: its text is not in order) */
	VERIFY_BINARY,  /* VARBINARY, BLOB types: bytes */
	VERIFY_FIXBIN,  /* BINARY(n): bytes, padded */
	VERIFY_UTF8,    /* character data in utf8, utf8mb3, utf8mb4 or ascii */
	VERIFY_CHAR,    /* character data in another character set */
	VERIFY_BIT,     /* BIT(n): bytes, big-endian */
	VERIFY_ENUM,    /* ENUM, SET: member names */
	VERIFY_JSON,    /* MySQL's JSON type */
	VERIFY_OTHER,   /* spatial types and anything else: bytes */
};

/*
 * The kind of a column from information_schema.COLUMNS: DATA_TYPE
 * ("int"), COLUMN_TYPE ("int(10) unsigned") and CHARACTER_SET_NAME (NULL
 * for non-character data).
 */
enum verify_kind verify_kind_of(const char *data_type, const char *column_type,
				const char *charset);

/* One table as the verifier reads it. */
typedef struct verify_table {
	const char *schema;
	const char *table;
	const char *const *cols;      /* n_cols column names, in table order */
	const enum verify_kind *kind; /* n_cols kinds */
	size_t n_cols;
	const size_t *pk; /* n_pk column indexes, in key order */
	size_t n_pk;
} verify_table;

/*
 * A chunk's rows: pk > lo (lo NULL: from the first row) and pk <= hi (hi
 * NULL: to the last row), each an array of n_pk quoted SQL literals.
 */
typedef struct verify_range {
	const char *const *lo;
	const char *const *hi;
} verify_range;

/* The per-row checksum expression: CRC32(CONCAT_WS('#', bytes of every column, NULL flags)). */
void verify_sql_row_crc(rw_buf *out, const verify_table *t);

/* The WHERE condition of a range (without WHERE); "1" for the whole table. */
void verify_sql_range(rw_buf *out, const verify_table *t, const verify_range *r);

/* SELECT COUNT(*), COALESCE(BIT_XOR(row crc), 0) FROM t WHERE range. */
void verify_sql_chunk(rw_buf *out, const verify_table *t, const verify_range *r);

/* SELECT pk columns..., row crc FROM t WHERE range ORDER BY pk. */
void verify_sql_rows(rw_buf *out, const verify_table *t, const verify_range *r);

/*
 * The key of the chunk of rows rows after lo (NULL: from the start):
 * SELECT pk columns FROM t WHERE pk > lo ORDER BY pk LIMIT 1 OFFSET rows-1.
 */
void verify_sql_bound(rw_buf *out, const verify_table *t, const char *const *lo, uint64_t rows);

/* SELECT every column FROM t WHERE pk = key (n_pk quoted literals). */
void verify_sql_row(rw_buf *out, const verify_table *t, const char *const *key);

/* A backquoted identifier. */
void verify_sql_ident(rw_buf *out, const char *name);

/*
 * Append the canonical key encoding (value.h, value_key_encode) of one
 * column's value as the server printed it (len bytes of text; for binary
 * kinds the bytes themselves) to out.  RW_E_UNSUPPORTED for a kind whose
 * encoding cannot be told from its text (FLOAT, TIME, BINARY(n), BIT,
 * ENUM, JSON, character data in other sets than utf8/ascii, others),
 * RW_E_INVALID for text that is not a value of its kind.  out is left as it
 * was on failure.
 */
RW_MUST_CHECK int verify_key_encode(rw_buf *out, enum verify_kind kind, const char *v, size_t len,
				    rw_error *err);

/* Whether a key column of this kind sorts, in the server, as its key bytes compare. */
bool verify_kind_ordered(enum verify_kind kind);

/*
 * Compare two encoded keys of n columns (the column encodings only, no
 * schema and table prefix); ordered[i] says whether column i's bytes keep
 * the server's order (verify_kind_ordered).  Sets *cmp to <0, 0 or >0 and
 * returns 0; returns 1 when the order cannot be told (an unordered column
 * decides it), -1 when a key is malformed.
 */
int verify_key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
		   const bool *ordered, size_t n, int *cmp);

/*
 * Whether key (column encodings) may lie in the range (lo, hi]: lo and hi
 * NULL for an open end.  true when it does or when the order cannot be told
 * (conservative), false only when it certainly does not.
 */
bool verify_key_in_range(const uint8_t *key, size_t len, const uint8_t *lo, size_t lo_len,
			 const uint8_t *hi, size_t hi_len, const bool *ordered, size_t n);

/* Compare two exact decimal texts ("-12.50", "3"): <0, 0, >0. */
int verify_decimal_cmp(const char *a, size_t alen, const char *b, size_t blen);

enum verify_verdict {
	VERIFY_EQUAL,
	VERIFY_DIFFERENT,
	VERIFY_UNSURE,
};

/* "equal", "different", "unsure". */
const char *verify_verdict_name(enum verify_verdict v);

/*
 * The verdict on a chunk read on n masters: count[m] rows with checksum
 * sum[m] on master m; touched: a stream showed a change to a key of the
 * chunk while it was read (or could not tell).
 */
enum verify_verdict verify_chunk_verdict(size_t n, const uint64_t *count, const uint64_t *sum,
					 bool touched);

/* One row of a master's list: its key as bytes (any form equal rows share) and checksum. */
typedef struct verify_row {
	const uint8_t *key;
	size_t len;
	uint64_t crc;
} verify_row;

/*
 * The keys two masters' lists disagree on: in one list only, or with
 * different checksums.  a and b are sorted in place (by key bytes); fn is
 * called once per differing key with the row of a and of b (NULL where
 * absent).  Returns the number of differing keys.
 */
size_t verify_diff(verify_row *a, size_t na, verify_row *b, size_t nb,
		   void (*fn)(const verify_row *a, const verify_row *b, void *arg), void *arg);

/*
 * The size of the next chunk: rows read in elapsed seconds, aiming at
 * target seconds; rate is the caller's running rows per second (0 at
 * first), updated.  Never below 10 rows or above 1,000,000, never more than
 * twice the last size.
 */
uint64_t verify_next_rows(uint64_t rows, double elapsed, double target, double *rate);

#endif
