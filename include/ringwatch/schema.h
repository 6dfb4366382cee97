/*
 * schema.h - table shapes: what a table's columns, keys and indexes are, a
 * set of them for one master (a schema_db), and the checks ringwatch makes
 * with them.
 *
 * A schema_table is the shape of one table as the DDL parser (ddl.h) reads
 * it from a CREATE TABLE, information_schema, a --schema file or the stored
 * history.  Its primary key is the PRIMARY KEY, or when there is none the
 * first UNIQUE key whose columns are all NOT NULL (the key the server itself
 * treats as primary); a table with neither is keyed by a hash of the row.
 *
 * A schema_db maps (schema, table) to a shape or to "unknown, because ..."
 * (a statement the parser could not read, a CREATE TABLE ... SELECT, a table
 * map that does not fit).  Rows of an unknown table are never keyed.
 */
#ifndef RINGWATCH_SCHEMA_H
#define RINGWATCH_SCHEMA_H

#include "ringwatch/binlog_table_map.h"
#include "ringwatch/row_change.h"
#include "ringwatch/rw_buf.h"
#include "ringwatch/rw_error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Names are at most 64 characters in MySQL and MariaDB; with room for UTF-8. */
#define SCHEMA_NAME_MAX 256

typedef struct schema_column {
	char *name;
	char *type;          /* the type as written, lower case: "varchar(20)", "int unsigned" */
	char *charset;       /* CHARACTER SET when given, else NULL */
	char *def;           /* DEFAULT as written, NULL when none */
	uint8_t binlog_type; /* the TABLE_MAP type (real type for STRING), 0: not known */
	uint8_t alt_type;    /* a second code the same column may be written with, or 0 */
	bool nullable;
	bool is_unsigned;
	bool auto_increment;
	bool generated; /* AS (...) VIRTUAL or STORED */
	bool invisible;
} schema_column;

enum schema_index_kind {
	SCHEMA_INDEX_PRIMARY = 1,
	SCHEMA_INDEX_UNIQUE = 2,
	SCHEMA_INDEX_PLAIN = 3,
	SCHEMA_INDEX_FULLTEXT = 4,
	SCHEMA_INDEX_SPATIAL = 5,
};

typedef struct schema_index {
	char *name;       /* "PRIMARY" for the primary key */
	int kind;         /* enum schema_index_kind */
	uint32_t n;       /* key parts */
	char **cols;      /* column names; NULL for an expression part */
	uint32_t *prefix; /* a part's prefix length, 0 = the whole column */
	bool hash;        /* USING HASH: on a UNIQUE key, MariaDB's long unique (a hidden column) */
} schema_index;

/* Where a shape came from. */
enum schema_source {
	SCHEMA_SOURCE_DDL = 0,      /* a statement the parser read (the binlog, a file) */
	SCHEMA_SOURCE_SNAPSHOT = 1, /* the master's information_schema */
};

typedef struct schema_table {
	char *schema;
	char *name;
	uint32_t ncols;
	schema_column *cols;
	uint32_t nidx;
	schema_index *idx;
	bool versioned; /* WITH SYSTEM VERSIONING */
	bool sequence;  /* MariaDB's CREATE SEQUENCE: its one row is the server's, never compared */
	uint8_t source; /* enum schema_source: where the shape came from (not in the fingerprint) */
	/* derived by schema_table_finish(): */
	const char **names; /* the column names, for row_table_info */
	uint16_t *key;      /* the primary key's column indexes (see above) */
	uint32_t n_key;
	uint16_t **unique; /* the other UNIQUE keys usable for insert-insert */
	uint32_t *unique_len;
	uint32_t n_unique;
	row_table_info info;
} schema_table;

schema_table *schema_table_new(const char *schema, const char *name);
void schema_table_free(schema_table *t);
/* A deep copy under another name (either may be NULL: keep t's); NULL when out of memory. */
schema_table *schema_table_copy(const schema_table *t, const char *schema, const char *name);

/*
 * Add a copy of c (its strings are copied; c stays the caller's) as column
 * `at` (0 = first; the columns from there move one on), or last when at is
 * -1.  0, RW_E_INVALID when at > ncols, RW_E_LIMIT past BINLOG_MAX_COLUMNS,
 * or RW_E_NOMEM (t unchanged).  Call schema_table_finish() after changes.
 */
RW_MUST_CHECK int schema_table_add_column(schema_table *t, const schema_column *c, int at);
/*
 * Add a copy of ix (name, column names and prefixes copied; a NULL prefix
 * array means whole columns) after the others, as the server would: an
 * unnamed one named after its first column (then _2, _3 ...), a PRIMARY
 * key's columns made NOT NULL.  0 or RW_E_NOMEM (t unchanged).
 */
RW_MUST_CHECK int schema_table_add_index(schema_table *t, const schema_index *ix);
/* Free what a column or an index owns and zero it (for ones the caller built or copied). */
void schema_column_clear(schema_column *c);
void schema_index_clear(schema_index *ix);

/* Column i by name (case-insensitive, as the servers compare them), or -1. */
int schema_table_column(const schema_table *t, const char *name);
/* Index by name (case-insensitive), or -1. */
int schema_table_index(const schema_table *t, const char *name);

/*
 * Compute the derived fields after the columns or indexes changed: 0, or
 * RW_E_INVALID (err says why) when an index names a missing column.
 */
RW_MUST_CHECK int schema_table_finish(schema_table *t, rw_error *err);

/* The row_table_info of a finished table (names, key, unique keys). */
const row_table_info *schema_table_info(const schema_table *t);

/* True when the table has no key: rows are keyed by a hash of the whole row. */
bool schema_table_keyless(const schema_table *t);

/*
 * Does the table map fit the shape?  Column count, each column's binlog
 * type, and, when the map carries them (binlog_row_metadata=FULL), the
 * column names and the primary key.  0 when it fits; -1 with a sentence in
 * why ("3 columns in the binlog, 2 in the history") when it does not.
 */
int schema_table_check_map(const schema_table *t, const binlog_table_map *tm, char *why,
			   size_t len);

/* The shape as one CREATE TABLE statement the DDL parser reads back. */
void schema_table_sql(const schema_table *t, rw_buf *out);

/*
 * The fingerprint: columns in order with type, nullability and default;
 * the primary key; the other indexes by name.  Equal shapes give equal
 * text; schema_table_diff() says in words how two shapes differ.
 */
void schema_table_fingerprint(const schema_table *t, rw_buf *out);
uint64_t schema_table_fingerprint_hash(const schema_table *t);

/*
 * How b differs from a, for people, naming a's master as an and b's as bn:
 * "column note only on west", "b is varchar(20) on west, varchar(40) on
 * east", "index ix_a missing on east"; clauses joined by "; ".  Empty when
 * the fingerprints are equal.
 */
void schema_table_diff(const schema_table *a, const char *an, const schema_table *b, const char *bn,
		       rw_buf *out);

/* ---- a set of tables -------------------------------------------------------- */

typedef struct schema_db schema_db;

schema_db *schema_db_new(void);
void schema_db_free(schema_db *db);

/*
 * What the db says of a table: SCHEMA_KNOWN with the shape in *t,
 * SCHEMA_UNKNOWN with the reason in *why (the table is known to exist but
 * not its shape), or SCHEMA_ABSENT (the db holds nothing of it).
 */
enum schema_state {
	SCHEMA_ABSENT = 0,
	SCHEMA_KNOWN = 1,
	SCHEMA_UNKNOWN = 2,
};
int schema_db_get(const schema_db *db, const char *schema, const char *table,
		  const schema_table **t, const char **why);

/* The db's own shape of a known table, to change in place (then finish it), or NULL
 * (counted as a change: schema_db_generation()). */
schema_table *schema_db_find(schema_db *db, const char *schema, const char *table);

/* Put a shape (the db takes t, replacing what it held); 0 or RW_E_NOMEM (t freed). */
RW_MUST_CHECK int schema_db_put(schema_db *db, schema_table *t);
/* Mark a table unknown with a reason (its shape, if any, is dropped). */
RW_MUST_CHECK int schema_db_set_unknown(schema_db *db, const char *schema, const char *table,
					const char *why);
/* Forget a table; a no-op when absent. */
void schema_db_remove(schema_db *db, const char *schema, const char *table);
/* Forget every table of a schema (DROP DATABASE). */
void schema_db_remove_schema(schema_db *db, const char *schema);
/* Move a table to another name (what was there is replaced); -1 when absent. */
int schema_db_rename(schema_db *db, const char *schema, const char *table, const char *to_schema,
		     const char *to_table);

size_t schema_db_count(const schema_db *db);

/*
 * A number that changes whenever the db does (a put, an unknown, a
 * removal, a rename, or a shape handed out by schema_db_find() to change in
 * place): equal numbers of one db, no change between them.
 */
uint64_t schema_db_generation(const schema_db *db);

/* Every entry in a stable order (schema, then table); t is NULL for an unknown one. */
typedef void (*schema_db_visit_fn)(const char *schema, const char *table, const schema_table *t,
				   const char *why, void *arg);
void schema_db_each(const schema_db *db, schema_db_visit_fn fn, void *arg);

/* A deep copy; NULL when out of memory. */
schema_db *schema_db_copy(const schema_db *db);

#endif
