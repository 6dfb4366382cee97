/*
 * schema_history.c - DDL statements applied to a schema_db (see schema_history.h).
 *
 * An ALTER TABLE works on a copy of the table; the first clause that does
 * not fit the shape (a column or index it names is missing, a column it
 * adds is there already) makes the table unknown instead: the server ran
 * the statement, so the history was wrong, and a wrong shape must not key
 * a single row.
 */
#include "ringwatch/schema_history.h"

#include "ddl_lex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct apply {
	schema_db *sdb;
	const char *db;
	schema_touch_fn fn;
	void *arg;
	int nomem;
};

static const char *schema_of(const struct apply *a, const ddl_name *n)
{
	return n->schema != NULL ? n->schema : a->db;
}

static void touched(struct apply *a, const char *schema, const char *table)
{
	if (a->fn != NULL)
		a->fn(schema, table, a->arg);
}

static void unknown(struct apply *a, const char *schema, const char *table, const char *why)
{
	if (schema_db_set_unknown(a->sdb, schema, table, why) != 0)
		a->nomem = 1;
	touched(a, schema, table);
}

static void put(struct apply *a, schema_table *t)
{
	char schema[SCHEMA_NAME_MAX], table[SCHEMA_NAME_MAX];

	snprintf(schema, sizeof(schema), "%s", t->schema);
	snprintf(table, sizeof(table), "%s", t->name);
	if (schema_db_put(a->sdb, t) != 0)
		a->nomem = 1;
	touched(a, schema, table);
}

/* ---- ALTER TABLE clauses ----------------------------------------------------------- */

/* Where a column goes: FIRST, AFTER x, or def (its place, or the end); -1 when x is missing. */
static int place(const schema_table *t, const ddl_alter *c, int def)
{
	int after;

	switch (c->at) {
	case DDL_AT_FIRST:
		return 0;
	case DDL_AT_AFTER:
		after = schema_table_column(t, c->after);
		return after < 0 ? -1 : after + 1;
	default:
		return def;
	}
}

static void remove_column(schema_table *t, int i)
{
	schema_column_clear(&t->cols[i]);
	memmove(&t->cols[i], &t->cols[i + 1], (t->ncols - (uint32_t)i - 1) * sizeof(*t->cols));
	t->ncols--;
}

static void remove_index(schema_table *t, int i)
{
	schema_index_clear(&t->idx[i]);
	memmove(&t->idx[i], &t->idx[i + 1], (t->nidx - (uint32_t)i - 1) * sizeof(*t->idx));
	t->nidx--;
}

/* A column dropped: out of every index too; an index left with no part goes. */
static void drop_from_indexes(schema_table *t, const char *col)
{
	for (uint32_t i = t->nidx; i-- > 0;) {
		schema_index *ix = &t->idx[i];
		for (uint32_t k = ix->n; k-- > 0;) {
			if (ix->cols[k] == NULL || strcasecmp(ix->cols[k], col) != 0)
				continue;
			free(ix->cols[k]);
			memmove(&ix->cols[k], &ix->cols[k + 1],
				(ix->n - k - 1) * sizeof(*ix->cols));
			memmove(&ix->prefix[k], &ix->prefix[k + 1],
				(ix->n - k - 1) * sizeof(*ix->prefix));
			ix->n--;
		}
		if (ix->n == 0)
			remove_index(t, (int)i);
	}
}

/* A column renamed: in every index too.  0, or -1 when out of memory. */
static int rename_in_indexes(schema_table *t, const char *from, const char *to)
{
	for (uint32_t i = 0; i < t->nidx; i++) {
		schema_index *ix = &t->idx[i];
		for (uint32_t k = 0; k < ix->n; k++) {
			char *c;
			if (ix->cols[k] == NULL || strcasecmp(ix->cols[k], from) != 0)
				continue;
			c = strdup(to);
			if (c == NULL)
				return -1;
			free(ix->cols[k]);
			ix->cols[k] = c;
		}
	}
	return 0;
}

static void not_null_key(schema_table *t)
{
	int p = schema_table_index(t, "PRIMARY");

	for (uint32_t k = 0; p >= 0 && k < t->idx[p].n; k++) {
		int c = t->idx[p].cols[k] != NULL ? schema_table_column(t, t->idx[p].cols[k]) : -1;
		if (c >= 0)
			t->cols[c].nullable = false;
	}
}

/* Add index ix (copied), unless the table has its primary key or name already. */
static int add_index(schema_table *t, const schema_index *ix, char *why, size_t len)
{
	if (ix->kind == SCHEMA_INDEX_PRIMARY && schema_table_index(t, "PRIMARY") >= 0) {
		snprintf(why, len, "a second primary key");
		return -1;
	}
	if (ix->name != NULL && schema_table_index(t, ix->name) >= 0) {
		snprintf(why, len, "index %s exists already", ix->name);
		return -1;
	}
	if (schema_table_add_index(t, ix) != 0) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	return 0;
}

/* A one-column index for PRIMARY KEY or UNIQUE written on an added column. */
static int column_key(schema_table *t, const char *col, int kind, char *why, size_t len)
{
	char *cols[1] = { (char *)(uintptr_t)col };
	uint32_t prefix[1] = { 0 };
	schema_index ix = {
		.name = kind == SCHEMA_INDEX_PRIMARY ? (char *)(uintptr_t) "PRIMARY" : NULL,
		.kind = kind,
		.n = 1,
		.cols = cols,
		.prefix = prefix,
	};

	return add_index(t, &ix, why, len);
}

static int add_column(schema_table *t, const ddl_alter *c, char *why, size_t len)
{
	int have = schema_table_column(t, c->col.name), at;

	if (have >= 0 && t->cols[have].invisible &&
	    strncasecmp(c->col.name, "DB_ROW_HASH_", 12) == 0) {
		remove_column(t, have); /* a hidden hash column: finish() numbers them anew */
		have = -1;
	}
	if (have >= 0) {
		if (c->if_not_exists)
			return 0;
		snprintf(why, len, "column %s exists already", c->col.name);
		return -1;
	}
	at = place(t, c, -1);
	if (at < 0 && c->at == DDL_AT_AFTER) {
		snprintf(why, len, "no column %s to add %s after", c->after, c->col.name);
		return -1;
	}
	if (schema_table_add_column(t, &c->col, at) != 0) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	if (c->col_primary && column_key(t, c->col.name, SCHEMA_INDEX_PRIMARY, why, len) != 0)
		return -1;
	if (c->col_unique && column_key(t, c->col.name, SCHEMA_INDEX_UNIQUE, why, len) != 0)
		return -1;
	return 0;
}

/* MODIFY and CHANGE: column name becomes c->col, in its place or where c says. */
static int replace_column(schema_table *t, const char *name, const ddl_alter *c, char *why,
			  size_t len)
{
	int i = schema_table_column(t, name), at;

	if (i < 0) {
		if (c->if_exists)
			return 0;
		snprintf(why, len, "no column %s to change", name);
		return -1;
	}
	if (strcasecmp(name, c->col.name) != 0 && schema_table_column(t, c->col.name) >= 0) {
		snprintf(why, len, "column %s exists already", c->col.name);
		return -1;
	}
	remove_column(t, i);
	at = place(t, c, i);
	if (at < 0) {
		snprintf(why, len, "no column %s to move %s after", c->after, c->col.name);
		return -1;
	}
	if (schema_table_add_column(t, &c->col, at) != 0 ||
	    rename_in_indexes(t, name, c->col.name) != 0) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	not_null_key(t);
	if (c->col_primary && column_key(t, c->col.name, SCHEMA_INDEX_PRIMARY, why, len) != 0)
		return -1;
	if (c->col_unique && column_key(t, c->col.name, SCHEMA_INDEX_UNIQUE, why, len) != 0)
		return -1;
	return 0;
}

static int drop_column(schema_table *t, const ddl_alter *c, char *why, size_t len)
{
	int i = schema_table_column(t, c->name);

	if (i < 0) {
		if (c->if_exists)
			return 0;
		snprintf(why, len, "no column %s to drop", c->name);
		return -1;
	}
	remove_column(t, i);
	drop_from_indexes(t, c->name);
	return 0;
}

static int drop_index(schema_table *t, const char *name, int if_exists, int constraint, char *why,
		      size_t len)
{
	int i = schema_table_index(t, name);

	if (i < 0) {
		if (if_exists || constraint) /* a CHECK or FOREIGN KEY constraint */
			return 0;
		snprintf(why, len, "no index %s to drop", name);
		return -1;
	}
	remove_index(t, i);
	return 0;
}

static int rename_column(schema_table *t, const ddl_alter *c, char *why, size_t len)
{
	int i = schema_table_column(t, c->name);
	char *to;

	if (i < 0 && c->if_exists)
		return 0;
	if (i < 0 || (schema_table_column(t, c->to) >= 0 && strcasecmp(c->name, c->to) != 0)) {
		snprintf(why, len, i < 0 ? "no column %s to rename" : "column %s exists already",
			 i < 0 ? c->name : c->to);
		return -1;
	}
	to = strdup(c->to);
	if (to == NULL || rename_in_indexes(t, c->name, c->to) != 0) {
		free(to);
		snprintf(why, len, "out of memory");
		return -1;
	}
	free(t->cols[i].name);
	t->cols[i].name = to;
	return 0;
}

static int rename_index(schema_table *t, const ddl_alter *c, char *why, size_t len)
{
	int i = schema_table_index(t, c->name);
	char *to;

	if (i < 0 && c->if_exists)
		return 0;
	if (i < 0) {
		snprintf(why, len, "no index %s to rename", c->name);
		return -1;
	}
	to = strdup(c->to);
	if (to == NULL) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	free(t->idx[i].name);
	t->idx[i].name = to;
	return 0;
}

static int column_default(schema_table *t, const ddl_alter *c, char *why, size_t len)
{
	int i = schema_table_column(t, c->name);
	char *def = NULL;

	if (i < 0 && c->if_exists)
		return 0;
	if (i < 0) {
		snprintf(why, len, "no column %s", c->name);
		return -1;
	}
	if (c->op == DDL_ALTER_COLUMN_VISIBLE) {
		t->cols[i].invisible = c->col.invisible;
		return 0;
	}
	if (c->col.def != NULL && (def = strdup(c->col.def)) == NULL) {
		snprintf(why, len, "out of memory");
		return -1;
	}
	free(t->cols[i].def);
	t->cols[i].def = def;
	return 0;
}

static int convert_charset(schema_table *t, const ddl_alter *c)
{
	for (uint32_t i = 0; c->to != NULL && i < t->ncols; i++) {
		schema_column *col = &t->cols[i];
		char *cs;
		if (col->charset == NULL)
			continue;
		cs = strdup(c->to);
		if (cs == NULL)
			return -1;
		free(col->charset);
		col->charset = cs;
	}
	return 0;
}

/* One clause on t: 0, or -1 with why. */
static int alter_clause(schema_table *t, const ddl_alter *c, char *why, size_t len)
{
	switch (c->op) {
	case DDL_ALTER_ADD_COLUMN:
		return add_column(t, c, why, len);
	case DDL_ALTER_DROP_COLUMN:
		return drop_column(t, c, why, len);
	case DDL_ALTER_MODIFY_COLUMN:
		return replace_column(t, c->col.name, c, why, len);
	case DDL_ALTER_CHANGE_COLUMN:
		return replace_column(t, c->name, c, why, len);
	case DDL_ALTER_RENAME_COLUMN:
		return rename_column(t, c, why, len);
	case DDL_ALTER_COLUMN_DEFAULT:
	case DDL_ALTER_COLUMN_VISIBLE:
		return column_default(t, c, why, len);
	case DDL_ALTER_ADD_INDEX:
		if (c->if_not_exists && c->index.name != NULL &&
		    schema_table_index(t, c->index.name) >= 0)
			return 0;
		return add_index(t, &c->index, why, len);
	case DDL_ALTER_DROP_INDEX:
	case DDL_ALTER_DROP_CONSTRAINT:
		return drop_index(t, c->name, c->if_exists, c->op == DDL_ALTER_DROP_CONSTRAINT, why,
				  len);
	case DDL_ALTER_DROP_PRIMARY:
		/* none left: an earlier clause dropped its last column (the server
		 * checks the clauses against the table as it was) */
		return drop_index(t, "PRIMARY", 1, 0, why, len);
	case DDL_ALTER_RENAME_INDEX:
		return rename_index(t, c, why, len);
	case DDL_ALTER_ADD_VERSIONING:
	case DDL_ALTER_DROP_VERSIONING:
		snprintf(why, len, "system versioning changed (hidden columns)");
		return -1;
	case DDL_ALTER_ADD_PERIOD: {
		/* the server makes the period's columns NOT NULL */
		int b = c->name != NULL ? schema_table_column(t, c->name) : -1;
		int e = c->to != NULL ? schema_table_column(t, c->to) : -1;
		if (b < 0 || e < 0) {
			const char *miss = b < 0 ? c->name : c->to;
			snprintf(why, len, "no column %s for the period",
				 miss != NULL ? miss : "?");
			return -1;
		}
		t->cols[b].nullable = false;
		t->cols[e].nullable = false;
		return 0;
	}
	case DDL_ALTER_CONVERT_CHARSET:
		if (convert_charset(t, c) != 0) {
			snprintf(why, len, "out of memory");
			return -1;
		}
		return 0;
	default: /* options, RENAME TO (done after the shape) */
		return 0;
	}
}

/* CONVERT PARTITION ... TO TABLE (a new table of table's shape) and CONVERT TABLE ... TO PARTITION (gone). */
static void partition_table(struct apply *a, const ddl_alter *c, const char *schema,
			    const char *table)
{
	const char *ts = c->rename_to.table != NULL ? schema_of(a, &c->rename_to) : NULL;
	const schema_table *cur;
	const char *why;
	schema_table *t;

	if (ts == NULL)
		return;
	if (c->op == DDL_ALTER_TABLE_TO_PARTITION) {
		schema_db_remove(a->sdb, ts, c->rename_to.table);
		touched(a, ts, c->rename_to.table);
	} else if (c->op == DDL_ALTER_PARTITION_TO_TABLE) {
		if (schema_db_get(a->sdb, schema, table, &cur, &why) != SCHEMA_KNOWN) {
			unknown(a, ts, c->rename_to.table,
				"a partition of a table whose shape is not known");
		} else if ((t = schema_table_copy(cur, ts, c->rename_to.table)) == NULL) {
			a->nomem = 1;
		} else {
			put(a, t);
		}
	}
}

/* The ALTERed shape, or unknown; then the RENAME TO of its clauses, if any. */
static void alter_table(struct apply *a, const ddl_stmt *s, const char *schema, const char *table)
{
	const schema_table *cur;
	const char *why;
	schema_table *t;
	const ddl_name *to = NULL;
	char reason[200], msg[320];
	rw_error err;
	int state = schema_db_get(a->sdb, schema, table, &cur, &why);

	if (state == SCHEMA_ABSENT && s->if_exists)
		return;
	for (uint32_t i = 0; i < s->n_alters; i++) {
		if (s->alters[i].op == DDL_ALTER_RENAME_TABLE)
			to = &s->alters[i].rename_to;
	}
	if (state != SCHEMA_KNOWN) {
		if (state == SCHEMA_ABSENT)
			unknown(a, schema, table,
				"ALTER TABLE of a table whose shape is not known");
	} else if ((t = schema_table_copy(cur, NULL, NULL)) == NULL) {
		a->nomem = 1;
		return;
	} else {
		reason[0] = '\0';
		for (uint32_t i = 0; i < s->n_alters && reason[0] == '\0'; i++) {
			if (alter_clause(t, &s->alters[i], reason, sizeof(reason)) != 0 &&
			    reason[0] == '\0')
				snprintf(reason, sizeof(reason), "a clause does not fit");
		}
		if (reason[0] == '\0' && schema_table_finish(t, &err) != 0)
			snprintf(reason, sizeof(reason), "%s", err.text);
		if (reason[0] != '\0') {
			schema_table_free(t);
			snprintf(msg, sizeof(msg), "ALTER TABLE does not fit the known shape: %s",
				 reason);
			unknown(a, schema, table, msg);
		} else {
			put(a, t);
		}
	}
	for (uint32_t i = 0; i < s->n_alters; i++)
		partition_table(a, &s->alters[i], schema, table);
	if (to != NULL) {
		const char *ts = schema_of(a, to);
		if (ts == NULL || schema_db_rename(a->sdb, schema, table, ts, to->table) != 0)
			return;
		touched(a, schema, table);
		touched(a, ts, to->table);
	}
}

/* ---- statements ----------------------------------------------------------------------- */

static void create_table(struct apply *a, const ddl_stmt *s, const char *schema)
{
	const schema_table *cur;
	const char *why;
	schema_table *t;

	if (s->if_not_exists &&
	    schema_db_get(a->sdb, schema, s->table.table, &cur, &why) != SCHEMA_ABSENT)
		return; /* CREATE TABLE IF NOT EXISTS on an existing table does nothing */
	switch (s->kind) {
	case DDL_CREATE_TABLE:
		t = schema_table_copy(s->def, schema, s->table.table);
		if (t == NULL)
			a->nomem = 1;
		else
			put(a, t);
		break;
	case DDL_CREATE_SELECT:
		unknown(a, schema, s->table.table,
			"created by CREATE TABLE ... SELECT: its columns are not in the statement");
		break;
	default: { /* LIKE */
		const char *ls = schema_of(a, &s->like);
		char msg[SCHEMA_NAME_MAX * 2 + 80];
		if (ls != NULL &&
		    schema_db_get(a->sdb, ls, s->like.table, &cur, &why) == SCHEMA_KNOWN) {
			t = schema_table_copy(cur, schema, s->table.table);
			if (t == NULL)
				a->nomem = 1;
			else
				put(a, t);
			break;
		}
		snprintf(msg, sizeof(msg), "created LIKE %s.%s, whose shape is not known",
			 ls != NULL ? ls : "?", s->like.table);
		unknown(a, schema, s->table.table, msg);
		break;
	}
	}
}

static void rename_tables(struct apply *a, const ddl_stmt *s)
{
	for (uint32_t i = 0; i + 1 < s->n_names; i += 2) {
		const char *fs = schema_of(a, &s->names[i]), *ts = schema_of(a, &s->names[i + 1]);
		const char *ft = s->names[i].table, *tt = s->names[i + 1].table;
		char msg[SCHEMA_NAME_MAX * 2 + 80];
		if (fs == NULL || ts == NULL)
			continue;
		if (schema_db_rename(a->sdb, fs, ft, ts, tt) != 0) {
			snprintf(msg, sizeof(msg), "renamed from %s.%s, whose shape is not known",
				 fs, ft);
			unknown(a, ts, tt, msg);
			continue;
		}
		touched(a, fs, ft);
		touched(a, ts, tt);
	}
}

static void drop_tables(struct apply *a, const ddl_stmt *s)
{
	for (uint32_t i = 0; i < s->n_names; i++) {
		const char *schema = schema_of(a, &s->names[i]);
		if (schema == NULL)
			continue;
		schema_db_remove(a->sdb, schema, s->names[i].table);
		touched(a, schema, s->names[i].table);
	}
}

struct in_schema {
	struct apply *a;
	const char *schema;
	const char *why; /* NULL: dropped */
};

static void each_in_schema(const char *schema, const char *table, const schema_table *t,
			   const char *why, void *arg)
{
	struct in_schema *w = arg;

	(void)t;
	(void)why;
	if (strcmp(schema, w->schema) == 0)
		touched(w->a, schema, table);
}

static void mark_schema_unknown(const char *schema, const char *table, const schema_table *t,
				const char *why, void *arg)
{
	struct in_schema *w = arg;

	(void)t;
	(void)why;
	if (strcmp(schema, w->schema) == 0 &&
	    schema_db_set_unknown(w->a->sdb, schema, table, w->why) != 0)
		w->a->nomem = 1;
}

/* A table statement that could not be read: the tables it names, or the
 * whole default database, are unknown from here. */
static void unreadable(struct apply *a, const ddl_stmt *s)
{
	char msg[sizeof(s->error) + 64];

	snprintf(msg, sizeof(msg), "a statement ringwatch could not read: %s", s->error);
	for (uint32_t i = 0; i < s->n_names; i++) {
		const char *schema = schema_of(a, &s->names[i]);
		if (schema != NULL)
			unknown(a, schema, s->names[i].table, msg);
	}
	if (s->n_names == 0 && a->db != NULL) {
		struct in_schema w = { a, a->db, msg };
		schema_db_each(a->sdb, mark_schema_unknown, &w);
		schema_db_each(a->sdb, each_in_schema, &w);
	}
}

static void index_statement(struct apply *a, const ddl_stmt *s, const char *schema)
{
	ddl_stmt alter = *s;
	ddl_alter one;

	ddl_alter two[2];

	if (s->kind == DDL_CREATE_INDEX) {
		memset(two, 0, sizeof(two));
		two[0].op = DDL_ALTER_DROP_INDEX; /* CREATE OR REPLACE INDEX */
		two[0].name = s->index.name;
		two[0].if_exists = true;
		memset(&one, 0, sizeof(one));
		one.op = DDL_ALTER_ADD_INDEX;
		one.index = s->index;
		one.if_not_exists = s->if_not_exists;
		two[1] = one;
		alter.alters = s->or_replace && s->index.name != NULL ? two : &two[1];
		alter.n_alters = s->or_replace && s->index.name != NULL ? 2 : 1;
	}
	alter.if_exists = false;
	alter_table(a, &alter, schema, s->table.table);
}

int schema_apply(schema_db *sdb, const ddl_stmt *s, const char *db, schema_touch_fn fn, void *arg,
		 rw_error *err)
{
	struct apply a = { sdb, db != NULL && db[0] != '\0' ? db : NULL, fn, arg, 0 };
	const char *schema = s->table.table != NULL ? schema_of(&a, &s->table) : NULL;

	if (s->temporary)
		return 0; /* temporary tables have no row events to key */
	switch (s->kind) {
	case DDL_CREATE_TABLE:
	case DDL_CREATE_LIKE:
	case DDL_CREATE_SELECT:
		if (schema != NULL)
			create_table(&a, s, schema);
		break;
	case DDL_ALTER_TABLE:
		if (schema != NULL)
			alter_table(&a, s, schema, s->table.table);
		break;
	case DDL_CREATE_INDEX:
	case DDL_DROP_INDEX:
		if (schema != NULL)
			index_statement(&a, s, schema);
		break;
	case DDL_RENAME_TABLE:
		rename_tables(&a, s);
		break;
	case DDL_DROP_TABLE:
		drop_tables(&a, s);
		break;
	case DDL_DROP_DATABASE: {
		struct in_schema w = { &a, s->database, NULL };
		schema_db_each(sdb, each_in_schema, &w);
		schema_db_remove_schema(sdb, s->database);
		break;
	}
	case DDL_UNPARSED:
		unreadable(&a, s);
		break;
	default: /* TRUNCATE, CREATE DATABASE, statements on no table */
		break;
	}
	if (a.nomem)
		return rw_error_set(err, RW_E_NOMEM, -1, "out of memory");
	return 0;
}

int schema_stmt_tables(const ddl_stmt *s, const char *db, schema_touch_fn fn, void *arg)
{
	struct apply a = { NULL, db != NULL && db[0] != '\0' ? db : NULL, fn, arg, 0 };
	const char *schema = s->table.table != NULL ? schema_of(&a, &s->table) : NULL;
	int unnamed = 0;

	if (s->temporary)
		return 0;
	switch (s->kind) {
	case DDL_CREATE_TABLE:
	case DDL_CREATE_LIKE:
	case DDL_CREATE_SELECT:
	case DDL_ALTER_TABLE:
	case DDL_CREATE_INDEX:
	case DDL_DROP_INDEX:
		if (schema == NULL)
			return 1; /* no default database: the server refused it, or we cannot tell */
		touched(&a, schema, s->table.table);
		for (uint32_t i = 0; s->kind == DDL_ALTER_TABLE && i < s->n_alters; i++) {
			const ddl_alter *c = &s->alters[i];
			const char *ts;
			if ((c->op != DDL_ALTER_RENAME_TABLE &&
			     c->op != DDL_ALTER_PARTITION_TO_TABLE &&
			     c->op != DDL_ALTER_TABLE_TO_PARTITION) ||
			    c->rename_to.table == NULL)
				continue;
			ts = schema_of(&a, &c->rename_to);
			if (ts == NULL)
				unnamed = 1;
			else
				touched(&a, ts, c->rename_to.table);
		}
		return unnamed;
	case DDL_RENAME_TABLE:
	case DDL_DROP_TABLE:
	case DDL_UNPARSED:
		for (uint32_t i = 0; i < s->n_names; i++) {
			const char *ns = schema_of(&a, &s->names[i]);
			if (ns == NULL)
				unnamed = 1;
			else
				touched(&a, ns, s->names[i].table);
		}
		return s->kind == DDL_UNPARSED && s->n_names == 0 ? 1 : unnamed;
	case DDL_DROP_DATABASE:
		return 1;
	default:
		return 0;
	}
}

int schema_apply_sql(schema_db *sdb, const char *sql, size_t len, const char *db,
		     const ddl_options *opt, schema_touch_fn fn, void *arg, int *kind,
		     rw_error *err)
{
	ddl_stmt s;
	int rc = ddl_parse(sql, len, opt, &s, err);

	if (rc != 0)
		return rc;
	if (kind != NULL)
		*kind = s.kind;
	rc = schema_apply(sdb, &s, db, fn, arg, err);
	ddl_stmt_free(&s);
	return rc;
}

/* "USE db": the new default database into db, 1; 0 when sql is no USE. */
static int use_statement(const char *sql, size_t len, const ddl_options *opt, char *db, size_t dlen)
{
	ddl_tok *t;
	size_t n;
	int found = 0;

	if (len < 4 || strncasecmp(sql, "USE", 3) != 0 || ddl_lex(sql, len, opt, &t, &n) != 0)
		return 0;
	if (n >= 2 && t[0].kind == TOK_WORD && t[0].len == 3) {
		char *name = ddl_tok_text(&t[1]);
		if (name != NULL) {
			snprintf(db, dlen, "%s", name);
			found = 1;
		}
		free(name);
	}
	free(t);
	return found;
}

int schema_apply_script(schema_db *sdb, const char *text, size_t len, const char *db,
			const ddl_options *opt, size_t *unreadable_count, rw_error *err)
{
	char current[SCHEMA_NAME_MAX];
	const char *stmt;
	size_t stmt_len;

	snprintf(current, sizeof(current), "%s", db != NULL ? db : "");
	*unreadable_count = 0;
	ddl_script sc;

	ddl_script_init(&sc, text, len);
	while (ddl_script_next(&sc, &stmt, &stmt_len) == 1) {
		int kind, rc;
		if (use_statement(stmt, stmt_len, opt, current, sizeof(current)))
			continue;
		rc = schema_apply_sql(sdb, stmt, stmt_len, current, opt, NULL, NULL, &kind, err);
		if (rc != 0)
			return rc;
		if (kind == DDL_UNPARSED)
			(*unreadable_count)++;
	}
	return 0;
}
