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

typedef struct ddl_judgement {
	int verdict; /* the worst of the reasons', DDL_SAFE without any */
	size_t n;
	ddl_reason reasons[DDL_MAX_REASONS]; /* more are dropped, the verdict kept */
} ddl_judgement;

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
	void *arg;
} ddl_context;

/* Judge statement s (ddl_parse()'s) with what ctx knows (NULL: nothing). */
void ddl_judge(const ddl_stmt *s, const ddl_context *ctx, ddl_judgement *out);

/* "safe", "caution", "unsafe". */
const char *ddl_verdict_name(int verdict);

#endif
