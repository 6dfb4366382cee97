/*
 * ddl_rules.h - is a schema change safe on a master-master ring?
 *
 * Judged for a ring where old and new application code run at once and
 * each master applies the other's row events, which carry the columns of
 * the origin's table by position and type: a change that moves, drops,
 * renames or retypes a column breaks the rows that still come in the old
 * shape (error 1677 stops the SQL thread), a new NOT NULL column without a
 * default breaks old code's INSERTs, a new UNIQUE key lets the other
 * master's duplicate stop replication (1062).  Expand, then contract: add
 * before use, stop using before drop, never rename in place
 * (doc/ddl-rules.md).
 *
 * Each statement gets a verdict, the worst of its reasons'.  With the live
 * shapes (a schema_db as of now) the rules also see a missing table or
 * column, a MODIFY that changes a type, and tables written lately.
 */
#ifndef RINGWATCH_DDL_RULES_H
#define RINGWATCH_DDL_RULES_H

#include "ringwatch/ddl.h"
#include "ringwatch/schema.h"

#include <stddef.h>
#include <stdint.h>

enum ddl_verdict {
	DDL_SAFE = 0,
	DDL_CAUTION = 1,
	DDL_UNSAFE = 2,
};

#define DDL_MAX_REASONS 8

typedef struct ddl_reason {
	int verdict; /* enum ddl_verdict: what this reason alone makes the statement */
	char text[256];
} ddl_reason;

/*
 * How InnoDB can run an ALTER TABLE, from the cheapest: INSTANT changes
 * the table's metadata only; INPLACE builds or rebuilds in place while
 * writes go on; INPLACE_LOCKED does so but blocks writes (LOCK=SHARED);
 * COPY copies every row into a new table and blocks writes meanwhile.
 * On a ring the other master runs the same statement from its SQL thread,
 * so everything that master's replication brings waits behind it.
 */
enum ddl_algorithm {
	DDL_ALG_NONE = 0, /* not a statement with an ALGORITHM= (CREATE, DROP, ...) */
	DDL_ALG_INSTANT,
	DDL_ALG_INPLACE,
	DDL_ALG_INPLACE_LOCKED,
	DDL_ALG_COPY,
	DDL_ALG_UNKNOWN, /* depends on what ringwatch does not know (a type, an engine) */
};

/* The flavours an algorithm is given for: MariaDB 10.6+ and MySQL 8.0.29+ with InnoDB. */
enum ddl_flavour {
	DDL_FLAVOUR_MARIADB = 0,
	DDL_FLAVOUR_MYSQL = 1,
	DDL_FLAVOURS = 2,
};

typedef struct ddl_judgement {
	int verdict; /* the worst of the reasons', DDL_SAFE without any */
	size_t n;
	ddl_reason reasons[DDL_MAX_REASONS]; /* more are dropped, the verdict kept */
	int algorithm[DDL_FLAVOURS];         /* enum ddl_algorithm, per enum ddl_flavour */
} ddl_judgement;

/*
 * A table at least this large (rows or bytes, information_schema's
 * estimates) makes a change that builds an index or copies rows a caution.
 */
#define DDL_LARGE_ROWS  1000000ULL
#define DDL_LARGE_BYTES (1ULL << 30)

/* What is known of the ring now (every field optional). */
typedef struct ddl_context {
	const schema_db *schema; /* the tables as they are (NULL: offline, no such checks) */
	const char *db;          /* the default database of the statement */
	/*
	 * Row changes written to schema.table in the last minutes, and by how
	 * many masters: 0 with them, -1 when not known.
	 */
	int (*writes)(void *arg, const char *schema, const char *table, uint64_t *rows,
		      unsigned *masters);
	/* How the table differs between the masters ("" when it does not): 0, -1 not known. */
	int (*drift)(void *arg, const char *schema, const char *table, char *detail, size_t len);
	/*
	 * The table's size on the largest master, information_schema's
	 * estimate (TABLE_ROWS, DATA_LENGTH + INDEX_LENGTH): 0, -1 not known.
	 */
	int (*size)(void *arg, const char *schema, const char *table, uint64_t *rows,
		    uint64_t *bytes);
	void *arg;
} ddl_context;

/* Judge statement s (ddl_parse()'s) with what ctx knows (NULL: nothing). */
void ddl_judge(const ddl_stmt *s, const ddl_context *ctx, ddl_judgement *out);

/* "safe", "caution", "unsafe". */
const char *ddl_verdict_name(int verdict);

/* "INSTANT", "INPLACE", "INPLACE, LOCK=SHARED", "COPY", "unknown"; NULL for DDL_ALG_NONE. */
const char *ddl_algorithm_name(int algorithm);

#endif
