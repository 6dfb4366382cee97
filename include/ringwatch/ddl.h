/*
 * ddl.h - a parser of the SQL statements that change table shapes, as they
 * appear in binlog QUERY events, in information_schema-built definitions,
 * in mysqldump --no-data output and in deploy scripts.
 *
 * It reads MySQL's and MariaDB's dialects: backquoted and double-quoted
 * identifiers, strings with escapes, comments (--, #, and the block kind),
 * and executable comments /x!NNNNN ... x/ and /xM!NNNNNN ... x/ (x = '*')
 * read as a server of the given version would.  A statement that changes no
 * table shape (GRANT, CREATE VIEW, an INSERT ...) is DDL_NONE; a table
 * statement it cannot read is DDL_UNPARSED with the reason and, when they
 * can be found lexically, the tables it names: never a guess at their shape.
 */
#ifndef RINGWATCH_DDL_H
#define RINGWATCH_DDL_H

#include "ringwatch/rw_error.h"
#include "ringwatch/schema.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ddl_kind {
	DDL_NONE = 0,        /* changes no table shape */
	DDL_CREATE_TABLE,    /* def holds the shape */
	DDL_CREATE_LIKE,     /* table LIKE like */
	DDL_CREATE_SELECT,   /* columns come from a query: the shape is not in the text */
	DDL_ALTER_TABLE,     /* alters[] in order */
	DDL_RENAME_TABLE,    /* names[] in pairs: from, to, from, to ... */
	DDL_DROP_TABLE,      /* names[] */
	DDL_TRUNCATE,        /* table */
	DDL_CREATE_DATABASE, /* database */
	DDL_DROP_DATABASE,   /* database */
	DDL_CREATE_INDEX,    /* table, index */
	DDL_DROP_INDEX,      /* table, alters[0] (a DDL_ALTER_DROP_INDEX) */
	DDL_UNPARSED,        /* a table statement it cannot read: error; names[] if found */
};

/* A table name; schema is NULL when the statement did not qualify it. */
typedef struct ddl_name {
	char *schema;
	char *table;
} ddl_name;

enum ddl_alter_op {
	DDL_ALTER_OPTION =
	    0, /* changes no column or key (ENGINE=, ALGORITHM=, ...); name: its first words ("ENGINE", "ADD FOREIGN") */
	DDL_ALTER_ADD_COLUMN,     /* col, at */
	DDL_ALTER_DROP_COLUMN,    /* name */
	DDL_ALTER_MODIFY_COLUMN,  /* col (its name is the column's), at */
	DDL_ALTER_CHANGE_COLUMN,  /* name -> col, at */
	DDL_ALTER_RENAME_COLUMN,  /* name -> to */
	DDL_ALTER_COLUMN_DEFAULT, /* name; col.def the new default or NULL (DROP DEFAULT) */
	DDL_ALTER_COLUMN_VISIBLE, /* name; col.invisible */
	DDL_ALTER_ADD_INDEX,      /* index */
	DDL_ALTER_DROP_INDEX,     /* name */
	DDL_ALTER_DROP_PRIMARY,
	DDL_ALTER_DROP_CONSTRAINT, /* name: an index of that name, if any, goes */
	DDL_ALTER_RENAME_INDEX,    /* name -> to */
	DDL_ALTER_RENAME_TABLE,    /* rename_to */
	DDL_ALTER_ADD_VERSIONING,
	DDL_ALTER_DROP_VERSIONING,
	DDL_ALTER_CONVERT_CHARSET,    /* to: the character set */
	DDL_ALTER_ADD_PERIOD,         /* name, to: its start and end columns (made NOT NULL) */
	DDL_ALTER_PARTITION_TO_TABLE, /* rename_to: a new table of the altered one's shape */
	DDL_ALTER_TABLE_TO_PARTITION, /* rename_to: a table that becomes a partition (gone) */
};

enum ddl_position {
	DDL_AT_END = 0, /* ADD: last; MODIFY/CHANGE: where it was */
	DDL_AT_FIRST = 1,
	DDL_AT_AFTER = 2, /* after */
};

typedef struct ddl_alter {
	int op; /* enum ddl_alter_op */
	bool if_exists, if_not_exists;
	char *name;
	char *to;
	schema_column col;
	bool col_primary, col_unique; /* PRIMARY KEY / UNIQUE written on the column */
	int at;                       /* enum ddl_position */
	char *after;
	schema_index index;
	ddl_name rename_to;
} ddl_alter;

typedef struct ddl_stmt {
	int kind; /* enum ddl_kind */
	ddl_name table;
	bool if_not_exists, if_exists, or_replace, temporary;
	schema_table *def; /* DDL_CREATE_TABLE: finished, named after table */
	ddl_name like;
	ddl_alter *alters;
	uint32_t n_alters;
	ddl_name *names;
	uint32_t n_names;
	char *database;
	schema_index index; /* DDL_CREATE_INDEX */
	char error[200];    /* DDL_UNPARSED: why, with the token where it stopped */
	int64_t error_offset;
} ddl_stmt;

typedef struct ddl_options {
	bool mariadb;     /* /xM!...x/ comments are read; JSON is a text column */
	uint32_t version; /* the server's, as 100611 or 80036; 0: read every executable comment */
} ddl_options;

/*
 * Parse one statement.  Returns 0 with *out filled (DDL_UNPARSED is a
 * result, not an error), or RW_E_NOMEM with *out empty.  Free with
 * ddl_stmt_free().
 */
RW_MUST_CHECK int ddl_parse(const char *sql, size_t len, const ddl_options *opt, ddl_stmt *out,
			    rw_error *err);
void ddl_stmt_free(ddl_stmt *s);

/*
 * A quick look at the first word: 0 when sql cannot be a table statement
 * (BEGIN, COMMIT, INSERT ...), 1 when it may be (then parse it).
 */
int ddl_may_change_tables(const char *sql, size_t len);

/* "CREATE TABLE", "ALTER TABLE", ... */
const char *ddl_kind_name(int kind);

/*
 * Statements of a script (mysqldump output, a deploy's .sql file): each
 * ddl_script_next() gives the next one, without its terminator, in *stmt
 * and *stmt_len (pointing into text).  Knows DELIMITER lines and never
 * splits inside a string, identifier or comment; empty statements are
 * skipped.  1 with a statement, 0 at the end.
 */
typedef struct ddl_script {
	const char *text;
	size_t len, pos;
	char delim[16];
} ddl_script;

void ddl_script_init(ddl_script *sc, const char *text, size_t len);
int ddl_script_next(ddl_script *sc, const char **stmt, size_t *stmt_len);

#endif
