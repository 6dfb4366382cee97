/*
 * schema_snapshot.h - a master's tables as SQL: the rows of
 * information_schema.TABLES, COLUMNS and STATISTICS turned into one
 * CREATE TABLE statement per base table, in the dialect the DDL parser
 * (ringwatch/ddl.h) reads, so that schema_apply_script() loads them into a
 * schema_db like any other script.
 *
 * Pure: no server and no I/O.  The probe thread (probe.c) runs the three
 * queries named below and hands every row in as it comes, an array of
 * NUL-terminated values in the query's column order (NULL for SQL NULL,
 * i.e. a MYSQL_ROW); unit tests hand in rows of their own.  The order of
 * calls: every table first, then columns, then index parts.
 *
 * What the text holds, per table (`schema`.`table`, backquotes doubled):
 *
 *   `c` <COLUMN_TYPE> [CHARACTER SET cs] [GENERATED ALWAYS AS (expr)
 *       VIRTUAL|STORED | GENERATED ALWAYS AS ROW START|END] [NULL|NOT NULL]
 *       [DEFAULT d] [ON UPDATE f] [AUTO_INCREMENT] [INVISIBLE]
 *   PRIMARY KEY (...), UNIQUE KEY `n` (...), KEY `n` (`c`(len)),
 *   FULLTEXT KEY, SPATIAL KEY; an expression key part as ((expr))
 *   [PERIOD FOR SYSTEM_TIME (`s`, `e`)] ... [WITH SYSTEM VERSIONING]
 *
 * The keys come in the server's own order (PRIMARY, UNIQUE keys over NOT
 * NULL columns, other UNIQUE keys, the rest), so "the first UNIQUE key
 * whose columns are all NOT NULL" of the parser is the server's.  Defaults
 * are SQL on both flavours: MariaDB 10.2.7+ gives them so; MySQL's raw
 * values are quoted and escaped, its expressions (EXTRA DEFAULT_GENERATED)
 * put in parentheses.  An expression the server printed in a form the
 * lexer could misread (an open quote, a ';') is never copied: a default is
 * left out, a generated column's expression becomes (NULL), an index with
 * such a part is left out, and a column type such as an enum that cannot
 * be copied makes the table's statement one the parser refuses, so the
 * table is unknown rather than wrong.
 */
#ifndef RINGWATCHD_SCHEMA_SNAPSHOT_H
#define RINGWATCHD_SCHEMA_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The system schemas, whose tables are never in a snapshot. */
#define SCHEMA_SNAPSHOT_SYSTEM "'mysql', 'information_schema', 'performance_schema', 'sys'"

/* The columns of schema_snapshot_tables_query()'s rows. */
enum schema_snapshot_table_row {
	SNAP_T_SCHEMA = 0,
	SNAP_T_NAME,
	SNAP_T_TYPE,   /* 'BASE TABLE', or MariaDB's 'SYSTEM VERSIONED' or 'SEQUENCE' */
	SNAP_T_ENGINE, /* ENGINE (a MEMORY table's HASH keys are its own) */
	SNAP_T_ROWS,   /* TABLE_ROWS: an estimate for InnoDB; NULL for some engines */
	SNAP_T_BYTES,  /* DATA_LENGTH + INDEX_LENGTH */
	SNAP_T_N,
};

/* The columns of schema_snapshot_columns_query()'s rows. */
enum schema_snapshot_column_row {
	SNAP_C_SCHEMA = 0,
	SNAP_C_TABLE,
	SNAP_C_NAME,
	SNAP_C_TYPE,       /* COLUMN_TYPE */
	SNAP_C_NULLABLE,   /* IS_NULLABLE: "YES" or "NO" */
	SNAP_C_DEFAULT,    /* COLUMN_DEFAULT, as the flavour gives it */
	SNAP_C_EXTRA,      /* auto_increment, VIRTUAL GENERATED, INVISIBLE, on update ... */
	SNAP_C_CHARSET,    /* CHARACTER_SET_NAME */
	SNAP_C_GENERATION, /* GENERATION_EXPRESSION; NULL when the server lacks it */
	SNAP_C_N,
};

/* The columns of schema_snapshot_index_query()'s rows. */
enum schema_snapshot_index_row {
	SNAP_I_SCHEMA = 0,
	SNAP_I_TABLE,
	SNAP_I_NAME,       /* INDEX_NAME; "PRIMARY" for the primary key */
	SNAP_I_NON_UNIQUE, /* "0" or "1" */
	SNAP_I_SEQ,        /* SEQ_IN_INDEX, from 1 */
	SNAP_I_COLUMN,     /* COLUMN_NAME; NULL for an expression part */
	SNAP_I_SUB_PART,   /* the prefix length, or NULL */
	SNAP_I_TYPE,       /* INDEX_TYPE: BTREE, HASH, FULLTEXT, SPATIAL, ... */
	SNAP_I_EXPRESSION, /* MySQL 8.0.13+'s EXPRESSION; NULL elsewhere */
	SNAP_I_N,
};

/*
 * The queries for a server of the given flavour and version (as 100611 or
 * 80036; see probe_version_number()): static strings whose rows have the
 * layouts above.  Base tables (and MariaDB's system-versioned ones) outside
 * the system schemas; views, sequences and temporary tables are not read.
 * The index query has no ORDER BY on purpose: the servers list a table's
 * keys in their own order, which an ORDER BY would lose.
 */
const char *schema_snapshot_tables_query(void);
const char *schema_snapshot_columns_query(bool is_mariadb, uint32_t version);
const char *schema_snapshot_index_query(bool is_mariadb, uint32_t version);

struct schema_snapshot;

/* An empty snapshot of a server of that flavour and version; NULL when out of memory. */
struct schema_snapshot *schema_snapshot_new(bool is_mariadb, uint32_t version);
void schema_snapshot_free(struct schema_snapshot *s);

/*
 * One row of each query (SNAP_T_N, SNAP_C_N or SNAP_I_N values).  Columns
 * and index parts of a table that was not added are ignored, as are rows
 * with a NULL where a name must be.  0, or -1 when out of memory (the
 * snapshot is then of no use: free it).
 */
int schema_snapshot_add_table(struct schema_snapshot *s, const char *const *row)
    __attribute__((warn_unused_result));
int schema_snapshot_add_column(struct schema_snapshot *s, const char *const *row)
    __attribute__((warn_unused_result));
int schema_snapshot_add_index_part(struct schema_snapshot *s, const char *const *row)
    __attribute__((warn_unused_result));

/*
 * The statements, one "CREATE TABLE ...;\n" per table that has columns,
 * ordered by schema then table name (bytewise): a malloc'd NUL-terminated
 * string of *len bytes, *n_tables statements (either pointer may be NULL).
 * NULL when out of memory.
 */
char *schema_snapshot_sql(struct schema_snapshot *s, size_t *len, size_t *n_tables);

/*
 * The tables' sizes where the server gave them: for each, four
 * NUL-terminated strings, schema, table, rows and bytes (decimal), one
 * after the other; *len bytes in all (0 for none), malloc'd.  Read them
 * with schema_snapshot_next_size().  NULL when out of memory.
 */
char *schema_snapshot_sizes(struct schema_snapshot *s, size_t *len);

/* The size at *pos of a schema_snapshot_sizes() block, *pos moved past it: 1, or 0 at the end. */
int schema_snapshot_next_size(const char *block, size_t len, size_t *pos, const char **schema,
			      const char **table, uint64_t *rows, uint64_t *bytes);

#endif
