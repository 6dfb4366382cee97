/*
 * schema_history.h - a master's table shapes carried along its binlog: each
 * DDL statement of the stream applied, in order, to a schema_db.
 *
 * The rule is that of a key: a shape is certain or the table is unknown.
 * What the parser cannot read, an ALTER of a table whose shape is not
 * known, a CREATE TABLE ... SELECT, an index or column a statement names
 * that the shape lacks: each makes the table unknown with the reason, and
 * only a fresh shape (information_schema, FULL row metadata) makes it known
 * again.
 */
#ifndef RINGWATCH_SCHEMA_HISTORY_H
#define RINGWATCH_SCHEMA_HISTORY_H

#include "ringwatch/ddl.h"
#include "ringwatch/rw_error.h"
#include "ringwatch/schema.h"

/* A table whose entry changed (its shape, unknown, renamed away or dropped). */
typedef void (*schema_touch_fn)(const char *schema, const char *table, void *arg);

/*
 * Apply statement s, read with default database db (the QUERY event's; NULL
 * or "" when none), to sdb; fn (may be NULL) hears of every table touched.
 * 0, or RW_E_NOMEM (sdb may be half changed: drop it).
 */
RW_MUST_CHECK int schema_apply(schema_db *sdb, const ddl_stmt *s, const char *db,
			       schema_touch_fn fn, void *arg, rw_error *err);

/*
 * The tables statement s (read with default database db) would touch if
 * applied, without applying it: fn hears each.  1 when it may touch tables
 * it does not name (DROP DATABASE, a statement it could not read and that
 * names none, a name without a database), else 0.
 */
int schema_stmt_tables(const ddl_stmt *s, const char *db, schema_touch_fn fn, void *arg);

/*
 * Parse and apply one statement's text: ddl_parse() then schema_apply().
 * *kind (may be NULL) gets the statement's enum ddl_kind.
 */
RW_MUST_CHECK int schema_apply_sql(schema_db *sdb, const char *sql, size_t len, const char *db,
				   const ddl_options *opt, schema_touch_fn fn, void *arg, int *kind,
				   rw_error *err);

/*
 * Apply a script (mysqldump --no-data output, SHOW CREATE TABLE output, the
 * history's own dump): every statement in order, USE changing the default
 * database.  *unreadable counts the table statements that could not be read
 * (their tables are unknown).  0 or RW_E_NOMEM.
 */
RW_MUST_CHECK int schema_apply_script(schema_db *sdb, const char *text, size_t len, const char *db,
				      const ddl_options *opt, size_t *unreadable, rw_error *err);

#endif
