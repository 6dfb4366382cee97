/*
 * ddl_rules.c - the verdict on a schema change for a master-master ring
 * (see ddl_rules.h and doc/ddl-rules.md).
 */
#include "ringwatch/ddl_rules.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *ddl_verdict_name(int verdict)
{
	switch (verdict) {
	case DDL_SAFE:
		return "safe";
	case DDL_CAUTION:
		return "caution";
	default:
		return "unsafe";
	}
}

const char *ddl_algorithm_name(int algorithm)
{
	switch (algorithm) {
	case DDL_ALG_NONE:
		return NULL;
	case DDL_ALG_INSTANT:
		return "INSTANT";
	case DDL_ALG_INPLACE:
		return "INPLACE";
	case DDL_ALG_INPLACE_LOCKED:
		return "INPLACE, LOCK=SHARED";
	case DDL_ALG_COPY:
		return "COPY";
	default:
		return "unknown";
	}
}

static void reason(ddl_judgement *j, int verdict, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reason(ddl_judgement *j, int verdict, const char *fmt, ...)
{
	va_list ap;

	if (verdict > j->verdict)
		j->verdict = verdict;
	if (j->n >= DDL_MAX_REASONS)
		return;
	j->reasons[j->n].verdict = verdict;
	va_start(ap, fmt);
	vsnprintf(j->reasons[j->n].text, sizeof(j->reasons[j->n].text), fmt, ap);
	va_end(ap);
	j->n++;
}

struct judge {
	const ddl_context *ctx;
	ddl_judgement *j;
	bool heavy; /* some clause builds an index or rebuilds or copies the table */
};

static const char *schema_of(const struct judge *g, const ddl_name *n)
{
	if (n->schema != NULL)
		return n->schema;
	return g->ctx != NULL && g->ctx->db != NULL && g->ctx->db[0] != '\0' ? g->ctx->db : NULL;
}

/* The live shape of schema.table: SCHEMA_KNOWN with *t, or SCHEMA_UNKNOWN / SCHEMA_ABSENT; -1 offline. */
static int live(const struct judge *g, const char *schema, const char *table,
		const schema_table **t)
{
	const char *why;

	*t = NULL;
	if (g->ctx == NULL || g->ctx->schema == NULL || schema == NULL)
		return -1;
	return schema_db_get(g->ctx->schema, schema, table, t, &why);
}

/* The table's recent writes, said as a reason when it was written; 1 written, 0 not, -1 not known. */
/* The table's recent row changes and how many masters wrote them: 0, or -1 not known. */
static int writes_of(const struct judge *g, const char *schema, const char *table, uint64_t *rows,
		     unsigned *masters)
{
	*rows = 0;
	*masters = 0;
	if (g->ctx == NULL || g->ctx->writes == NULL || schema == NULL)
		return -1;
	return g->ctx->writes(g->ctx->arg, schema, table, rows, masters) == 0 ? 0 : -1;
}

static int written(const struct judge *g, const char *schema, const char *table, int verdict,
		   const char *what)
{
	uint64_t rows;
	unsigned masters;

	if (writes_of(g, schema, table, &rows, &masters) != 0)
		return -1;
	if (rows == 0)
		return 0;
	reason(g->j, verdict, "%s.%s was written lately (%llu row changes, on %u master%s): %s",
	       schema, table, (unsigned long long)rows, masters, masters == 1 ? "" : "s", what);
	return 1;
}

static const schema_column *column_of(const schema_table *t, const char *name)
{
	int i = t != NULL && name != NULL ? schema_table_column(t, name) : -1;

	return i >= 0 ? &t->cols[i] : NULL;
}

/* ---- how InnoDB runs it (doc/ddl-rules.md, "Algorithms") ------------------------- */

enum {
	I = DDL_ALG_INSTANT,
	P = DDL_ALG_INPLACE,
	L = DDL_ALG_INPLACE_LOCKED,
	C = DDL_ALG_COPY
};
enum {
	U = DDL_ALG_UNKNOWN
};

/* A clause that needs at least mariadb and mysql; heavy when it builds or rebuilds. */
static void algo(struct judge *g, int mariadb, int mysql, bool heavy)
{
	int *a = g->j->algorithm;

	if (mariadb > a[DDL_FLAVOUR_MARIADB])
		a[DDL_FLAVOUR_MARIADB] = mariadb;
	if (mysql > a[DDL_FLAVOUR_MYSQL])
		a[DDL_FLAVOUR_MYSQL] = mysql;
	g->heavy = g->heavy || heavy;
}

/* N of "varchar(N)" or "varbinary(N)", 0 for another type. */
static unsigned long var_length(const char *type)
{
	const char *p = NULL;

	if (strncmp(type, "varchar(", 8) == 0)
		p = type + 8;
	else if (strncmp(type, "varbinary(", 10) == 0)
		p = type + 10;
	return p != NULL ? strtoul(p, NULL, 10) : 0;
}

/*
 * A VARCHAR or VARBINARY made longer (same character set); *same_prefix
 * when its length prefix keeps its size: under 256 bytes before and after
 * (63 characters of any character set at most), or 2 bytes already (256
 * characters or more before).
 */
static bool widened(const schema_column *old, const schema_column *new, bool *same_prefix)
{
	unsigned long a = var_length(old->type), b = var_length(new->type);

	*same_prefix = false;
	if (a == 0 || b < a || strncmp(old->type, new->type, 5) != 0 ||
	    old->binlog_type != new->binlog_type)
		return false;
	if ((old->charset == NULL) != (new->charset == NULL) ||
	    (old->charset != NULL && strcasecmp(old->charset, new->charset) != 0))
		return false;
	*same_prefix = b <= 63 || a >= 256;
	return true;
}

/* Whether a key of t has a part on column name. */
static bool indexed(const schema_table *t, const char *name)
{
	for (uint32_t i = 0; i < t->nidx; i++) {
		for (uint32_t k = 0; k < t->idx[i].n; k++) {
			if (t->idx[i].cols[k] != NULL && strcasecmp(t->idx[i].cols[k], name) == 0)
				return true;
		}
	}
	return false;
}

static void modify_algorithm(struct judge *g, const schema_column *old, const ddl_alter *c)
{
	bool same_prefix;

	if (old == NULL || old->type == NULL || c->col.type == NULL) {
		algo(g, U, U, true);
		return;
	}
	if (strcmp(old->type, c->col.type) != 0 || old->is_unsigned != c->col.is_unsigned) {
		if (widened(old, &c->col, &same_prefix) && same_prefix)
			algo(g, I, P, false);
		else if (widened(old, &c->col, &same_prefix))
			algo(g, I, C, true); /* a longer length prefix: MySQL copies */
		else
			algo(g, C, C, true);
	}
	if (old->nullable != c->col.nullable)
		algo(g, P, P, true);
	if (old->generated || c->col.generated || old->auto_increment != c->col.auto_increment)
		algo(g, U, U, true);
	if (c->at != DDL_AT_END)
		algo(g, I, P, true); /* MySQL rebuilds to reorder */
	algo(g, I, I, false);
}

/* An option clause by its first words (ddl.h's DDL_ALTER_OPTION name). */
static void option_algorithm(struct judge *g, const char *name)
{
	if (name == NULL || strcmp(name, "ALGORITHM") == 0 || strcmp(name, "LOCK") == 0)
		return;
	if (strcmp(name, "COMMENT") == 0)
		algo(g, I, I, false);
	else if (strcmp(name, "AUTO_INCREMENT") == 0)
		algo(g, I, P, false);
	else if (strcmp(name, "FORCE") == 0 || strcmp(name, "ROW_FORMAT") == 0 ||
		 strcmp(name, "KEY_BLOCK_SIZE") == 0)
		algo(g, P, P, true);
	else if (strcmp(name, "ADD FOREIGN") == 0 || strcmp(name, "ADD CONSTRAINT") == 0)
		algo(g, C, C, true); /* INPLACE only with foreign_key_checks=0 */
	else if (strcmp(name, "DROP FOREIGN") == 0)
		algo(g, I, P, false);
	else
		algo(g, U, U, true);
}

static void clause_algorithm(struct judge *g, const schema_table *t, const ddl_alter *c,
			     bool adds_primary)
{
	switch (c->op) {
	case DDL_ALTER_ADD_COLUMN:
		if (c->col.auto_increment)
			algo(g, L, L, true);
		else if (c->col.generated)
			algo(g, U, U, true); /* VIRTUAL is INSTANT, STORED fills every row */
		else if (c->col_primary || c->col_unique)
			algo(g, P, P, true);
		else
			algo(g, I, I, false);
		break;
	case DDL_ALTER_DROP_COLUMN:
		if (column_of(t, c->name) == NULL)
			algo(g, U, U, true);
		else if (indexed(t, c->name))
			algo(g, P, P, true); /* its keys change with it */
		else
			algo(g, I, I, false);
		break;
	case DDL_ALTER_MODIFY_COLUMN:
	case DDL_ALTER_CHANGE_COLUMN:
		modify_algorithm(
		    g, column_of(t, c->op == DDL_ALTER_CHANGE_COLUMN ? c->name : c->col.name), c);
		break;
	case DDL_ALTER_RENAME_COLUMN:
	case DDL_ALTER_COLUMN_DEFAULT:
	case DDL_ALTER_COLUMN_VISIBLE:
	case DDL_ALTER_RENAME_TABLE:
		algo(g, I, I, false);
		break;
	case DDL_ALTER_ADD_INDEX:
		if (c->index.kind == SCHEMA_INDEX_FULLTEXT || c->index.kind == SCHEMA_INDEX_SPATIAL)
			algo(g, L, L, true);
		else if (c->index.hash)
			algo(g, U, U, true);
		else
			algo(g, P, P, true);
		break;
	case DDL_ALTER_DROP_INDEX:
	case DDL_ALTER_DROP_CONSTRAINT:
		algo(g, P, P, false);
		break;
	case DDL_ALTER_RENAME_INDEX:
		algo(g, I, P, false);
		break;
	case DDL_ALTER_DROP_PRIMARY:
		if (adds_primary)
			algo(g, P, P, true);
		else
			algo(g, C, C, true);
		break;
	case DDL_ALTER_ADD_VERSIONING:
	case DDL_ALTER_CONVERT_CHARSET:
		algo(g, C, C, true);
		break;
	case DDL_ALTER_OPTION:
		option_algorithm(g, c->name);
		break;
	default:
		algo(g, U, U, true);
		break;
	}
}

/* 1 when schema.table is large (a reason says how large and what to do), 0 not, -1 not known. */
static int large(struct judge *g, const char *schema, const char *table, const char *what)
{
	uint64_t rows = 0, bytes = 0;

	if (g->ctx == NULL || g->ctx->size == NULL || schema == NULL || table == NULL ||
	    g->ctx->size(g->ctx->arg, schema, table, &rows, &bytes) != 0)
		return -1;
	if (rows < DDL_LARGE_ROWS && bytes < DDL_LARGE_BYTES)
		return 0;
	reason(g->j, DDL_CAUTION,
	       "%s.%s is large (about %llu rows, %.1f GiB): %s takes long, and the other "
	       "master's SQL thread runs it after this one, so what replication brings waits "
	       "behind it; run it online (ALGORITHM=INPLACE, LOCK=NONE), or with gh-ost or "
	       "pt-online-schema-change where only one master writes the table",
	       schema, table, (unsigned long long)rows, (double)bytes / (double)(1ULL << 30), what);
	return 1;
}

/* ---- ALTER TABLE clauses ---------------------------------------------------------- */

static void missing_column(struct judge *g, const schema_table *t, const char *name, bool if_exists)
{
	if (t != NULL && name != NULL && column_of(t, name) == NULL && !if_exists)
		reason(g->j, DDL_UNSAFE, "%s.%s has no column %s: the statement fails", t->schema,
		       t->name, name);
}

static void place(struct judge *g, const schema_table *t, const ddl_alter *c, const char *what)
{
	if (c->at == DDL_AT_END)
		return;
	reason(g->j, DDL_UNSAFE,
	       "%s %s %s: the columns after it move, so row events a master writes before it "
	       "runs the change no longer fit the other's table (error 1677 stops replication); "
	       "add columns at the end, never reorder",
	       what, c->col.name != NULL ? c->col.name : "?",
	       c->at == DDL_AT_FIRST ? "FIRST" : "AFTER another column");
	if (c->at == DDL_AT_AFTER)
		missing_column(g, t, c->after, false);
}

static void add_column(struct judge *g, const schema_table *t, const ddl_alter *c)
{
	const schema_column *col = &c->col;

	if (t != NULL && column_of(t, col->name) != NULL && !c->if_not_exists) {
		reason(g->j, DDL_UNSAFE, "column %s exists already: the statement fails (1060)",
		       col->name);
		return;
	}
	if (c->at != DDL_AT_END) {
		place(g, t, c, "ADD COLUMN");
		return;
	}
	if (!col->nullable && col->def == NULL && !col->auto_increment && !col->generated) {
		reason(g->j, DDL_UNSAFE,
		       "ADD COLUMN %s NOT NULL without a DEFAULT: old code's INSERTs that do not "
		       "name it fail; give it a default, or make it NULL",
		       col->name);
		return;
	}
	if (col->auto_increment) {
		reason(g->j, DDL_CAUTION,
		       "ADD COLUMN %s AUTO_INCREMENT: each master numbers the existing rows on its "
		       "own, so the values may differ between the masters",
		       col->name);
		return;
	}
	reason(g->j, DDL_SAFE,
	       "ADD COLUMN %s at the end, %s: old rows and old code fit (MariaDB 10.3+ and MySQL "
	       "8.0.12+ can add it ALGORITHM=INSTANT)",
	       col->name, col->nullable ? "NULL" : "with a DEFAULT");
	if (c->col_primary)
		reason(
		    g->j, DDL_CAUTION,
		    "the new column is the PRIMARY KEY: the masters find each other's rows by it");
	if (c->col_unique)
		reason(
		    g->j, DDL_CAUTION,
		    "the new column is UNIQUE: a duplicate written on the other master meanwhile "
		    "stops replication (1062)");
}

/* MODIFY and CHANGE: the same column with another definition (and maybe name or place). */
static void modify_column(struct judge *g, const schema_table *t, const ddl_alter *c)
{
	const char *old_name = c->op == DDL_ALTER_CHANGE_COLUMN ? c->name : c->col.name;
	const schema_column *old = column_of(t, old_name);

	if (t != NULL && old == NULL) {
		missing_column(g, t, old_name, c->if_exists);
		return;
	}
	if (c->op == DDL_ALTER_CHANGE_COLUMN && old_name != NULL && c->col.name != NULL &&
	    strcasecmp(old_name, c->col.name) != 0)
		reason(g->j, DDL_UNSAFE,
		       "CHANGE %s %s renames the column: old code still uses the old name; add the "
		       "new column, move the code, then drop the old one",
		       old_name, c->col.name);
	if (c->at != DDL_AT_END)
		place(g, t, c, c->op == DDL_ALTER_CHANGE_COLUMN ? "CHANGE" : "MODIFY");
	if (old == NULL) {
		reason(g->j, DDL_CAUTION,
		       "%s %s: unsafe if it changes the type, length or signedness (row events of "
		       "the old type stop replication with 1677); check against the live schema "
		       "(ringwatch check-ddl --url)",
		       c->op == DDL_ALTER_CHANGE_COLUMN ? "CHANGE" : "MODIFY",
		       old_name != NULL ? old_name : "?");
		return;
	}
	if (old->type != NULL && c->col.type != NULL &&
	    (strcmp(old->type, c->col.type) != 0 || old->is_unsigned != c->col.is_unsigned ||
	     old->binlog_type != c->col.binlog_type)) {
		reason(g->j, DDL_UNSAFE,
		       "%s changes from %s to %s: row events of the old type no longer fit the "
		       "other master's table (1677, unless slave_type_conversions allows it)",
		       old_name, old->type, c->col.type);
		return;
	}
	if (old->nullable && !c->col.nullable)
		reason(g->j, DDL_CAUTION,
		       "%s becomes NOT NULL: old code writing NULL fails, and existing NULLs must "
		       "be gone on every master",
		       old_name);
	else
		reason(g->j, DDL_SAFE, "%s keeps its type (%s)", old_name, old->type);
}

static void add_index(struct judge *g, const schema_index *ix)
{
	const char *name = ix->name != NULL ? ix->name : "";

	switch (ix->kind) {
	case SCHEMA_INDEX_PRIMARY:
		reason(g->j, DDL_CAUTION,
		       "a new PRIMARY KEY: the masters find each other's rows by it, and a "
		       "duplicate on any master makes it fail there");
		break;
	case SCHEMA_INDEX_UNIQUE:
		reason(g->j, DDL_CAUTION,
		       "UNIQUE %s: a duplicate written on the other master meanwhile stops "
		       "replication with 1062; check every master for duplicates first",
		       name);
		break;
	default:
		reason(g->j, DDL_SAFE,
		       "an index %s: rows keep their shape; on a large table run it online "
		       "(ALGORITHM=INPLACE, LOCK=NONE, or pt-online-schema-change or gh-ost where "
		       "the table is written on one master only)",
		       name);
	}
}

static void drop_index(struct judge *g, const schema_table *t, const char *name, bool if_exists)
{
	if (name != NULL && strcasecmp(name, "PRIMARY") == 0) {
		reason(g->j, DDL_UNSAFE,
		       "DROP PRIMARY KEY: the masters find each other's rows by it; without a key "
		       "every replicated UPDATE and DELETE scans the table");
		return;
	}
	if (t != NULL && name != NULL && schema_table_index(t, name) < 0 && !if_exists) {
		reason(g->j, DDL_UNSAFE, "%s.%s has no index %s: the statement fails", t->schema,
		       t->name, name);
		return;
	}
	reason(g->j, DDL_SAFE, "DROP INDEX %s: rows keep their shape", name != NULL ? name : "");
}

/* An ALTER option by its first words (ddl.h's DDL_ALTER_OPTION name). */
static void option(struct judge *g, const char *name)
{
	static const char *const partitioning[] = { "PARTITION", "ADD PARTITION", "DROP PARTITION",
						    "COALESCE",  "REORGANIZE",    "EXCHANGE",
						    "TRUNCATE",  "REMOVE",        "REBUILD",
						    "DISCARD",   "IMPORT" };

	if (name == NULL)
		return;
	if (strcmp(name, "ADD FOREIGN") == 0 ||
	    (strncmp(name, "ADD CONSTRAINT", 14) == 0 && name[14] == '\0')) {
		reason(g->j, DDL_CAUTION,
		       "a constraint (%s): rows the other master writes meanwhile, or a child row "
		       "arriving before its parent, may violate it and stop replication (1452)",
		       name);
		return;
	}
	if (strcmp(name, "ADD CHECK") == 0) {
		reason(g->j, DDL_CAUTION,
		       "a CHECK constraint: rows the other master writes meanwhile may violate it "
		       "and stop replication");
		return;
	}
	if (strcmp(name, "ENGINE") == 0 || strcmp(name, "FORCE") == 0) {
		reason(
		    g->j, DDL_CAUTION,
		    "%s rebuilds the table: on a large table it runs long and the other master's "
		    "rows wait behind it",
		    name);
		return;
	}
	for (size_t i = 0; i < sizeof(partitioning) / sizeof(partitioning[0]); i++) {
		if (strcmp(name, partitioning[i]) == 0) {
			reason(g->j, DDL_CAUTION,
			       "partitioning (%s) moves or rebuilds rows: run it where nothing "
			       "writes the table",
			       name);
			return;
		}
	}
}

static void alter_clause(struct judge *g, const schema_table *t, const ddl_alter *c)
{
	switch (c->op) {
	case DDL_ALTER_ADD_COLUMN:
		add_column(g, t, c);
		break;
	case DDL_ALTER_DROP_COLUMN:
		missing_column(g, t, c->name, c->if_exists);
		reason(g->j, DDL_UNSAFE,
		       "DROP COLUMN %s: rows the other master still writes with it no longer fit "
		       "(1677), and old code using it fails: drop it only after every master and "
		       "every client stopped using it",
		       c->name != NULL ? c->name : "?");
		break;
	case DDL_ALTER_MODIFY_COLUMN:
	case DDL_ALTER_CHANGE_COLUMN:
		modify_column(g, t, c);
		break;
	case DDL_ALTER_RENAME_COLUMN:
		missing_column(g, t, c->name, false);
		reason(g->j, DDL_UNSAFE,
		       "RENAME COLUMN %s TO %s: old code still uses the old name; add the new "
		       "column, move the code, then drop the old one",
		       c->name != NULL ? c->name : "?", c->to != NULL ? c->to : "?");
		break;
	case DDL_ALTER_COLUMN_DEFAULT:
	case DDL_ALTER_COLUMN_VISIBLE:
		missing_column(g, t, c->name, false);
		reason(g->j, DDL_SAFE, "%s keeps its type", c->name != NULL ? c->name : "?");
		break;
	case DDL_ALTER_ADD_INDEX:
		if (t != NULL && c->index.name != NULL &&
		    schema_table_index(t, c->index.name) >= 0 && !c->if_not_exists)
			reason(g->j, DDL_UNSAFE,
			       "%s.%s has an index %s already: the statement fails", t->schema,
			       t->name, c->index.name);
		add_index(g, &c->index);
		break;
	case DDL_ALTER_DROP_INDEX:
		drop_index(g, t, c->name, c->if_exists);
		break;
	case DDL_ALTER_DROP_PRIMARY:
		drop_index(g, t, "PRIMARY", false);
		break;
	case DDL_ALTER_DROP_CONSTRAINT:
	case DDL_ALTER_RENAME_INDEX:
		reason(g->j, DDL_SAFE, "rows keep their shape");
		break;
	case DDL_ALTER_RENAME_TABLE:
		reason(g->j, DDL_UNSAFE,
		       "RENAME TO: old code and the other master's writes still use the old name");
		break;
	case DDL_ALTER_ADD_VERSIONING:
	case DDL_ALTER_DROP_VERSIONING:
		reason(g->j, DDL_UNSAFE,
		       "system versioning adds or drops hidden row_start/row_end columns: row "
		       "events of the other shape no longer fit (1677)");
		break;
	case DDL_ALTER_CONVERT_CHARSET:
		reason(g->j, DDL_UNSAFE,
		       "CONVERT TO CHARACTER SET retypes every text column: row events of the old "
		       "character set no longer fit (1677)");
		break;
	case DDL_ALTER_ADD_PERIOD:
		reason(g->j, DDL_CAUTION,
		       "ADD PERIOD makes %s and %s NOT NULL: old code writing NULL there fails",
		       c->name != NULL ? c->name : "?", c->to != NULL ? c->to : "?");
		break;
	case DDL_ALTER_PARTITION_TO_TABLE:
	case DDL_ALTER_TABLE_TO_PARTITION:
		reason(g->j, DDL_CAUTION,
		       "moves rows between a partition and a table: run it where nothing writes "
		       "either");
		break;
	default:
		option(g, c->name);
		break;
	}
}

static void alter_table(struct judge *g, const ddl_stmt *s, const char *schema)
{
	uint64_t rows;
	unsigned masters;
	const schema_table *t = NULL;
	int state = live(g, schema, s->table.table, &t);
	char detail[512] = "";
	bool adds_primary = false;

	if (state == SCHEMA_ABSENT && !s->if_exists) {
		reason(g->j, DDL_UNSAFE, "no table %s.%s: the statement fails", schema,
		       s->table.table);
		return;
	}
	if (g->ctx != NULL && g->ctx->drift != NULL && schema != NULL &&
	    g->ctx->drift(g->ctx->arg, schema, s->table.table, detail, sizeof(detail)) == 0 &&
	    detail[0] != '\0')
		reason(g->j, DDL_UNSAFE,
		       "%s.%s differs between the masters (%s): make them equal before changing it",
		       schema, s->table.table, detail);
	for (uint32_t i = 0; i < s->n_alters; i++) {
		const ddl_alter *c = &s->alters[i];
		adds_primary =
		    adds_primary ||
		    (c->op == DDL_ALTER_ADD_INDEX && c->index.kind == SCHEMA_INDEX_PRIMARY) ||
		    (c->op == DDL_ALTER_ADD_COLUMN && c->col_primary);
	}
	algo(g, I, I, false);
	for (uint32_t i = 0; i < s->n_alters; i++) {
		alter_clause(g, state == SCHEMA_KNOWN ? t : NULL, &s->alters[i]);
		clause_algorithm(g, state == SCHEMA_KNOWN ? t : NULL, &s->alters[i], adds_primary);
	}
	if (g->j->n == 0)
		reason(g->j, DDL_SAFE, "table options only: rows keep their shape");
	if (g->heavy)
		large(g, schema, s->table.table, "building an index or rebuilding the table");
	if (writes_of(g, schema, s->table.table, &rows, &masters) == 0 && masters > 1)
		reason(g->j, DDL_CAUTION,
		       "%s.%s is written on %u masters: run it as a plain ALTER, not with a tool "
		       "that copies the table and swaps it (pt-online-schema-change, gh-ost): the "
		       "other masters' writes reach the old table",
		       schema, s->table.table, masters);
}

/*
 * The table a copy-and-swap tool's new table copies, from its name:
 * pt-online-schema-change's _T_new (more underscores in front when taken),
 * gh-ost's _T_gho; T itself may begin with underscores, so the name is read
 * with strip (1 to the number of leading underscores) of them taken off.
 * 1 with T in orig and the tool, else 0.
 */
static int swap_copy_of(const char *name, size_t strip, char *orig, size_t len, const char **tool)
{
	size_t n = strlen(name), lead = strspn(name, "_");

	if (strip == 0 || strip > lead || n < strip + 5)
		return 0;
	if (strcasecmp(name + n - 4, "_new") == 0)
		*tool = "pt-online-schema-change";
	else if (strcasecmp(name + n - 4, "_gho") == 0)
		*tool = "gh-ost";
	else
		return 0;
	snprintf(orig, len, "%.*s", (int)(n - 4 - strip), name + strip);
	return 1;
}

/*
 * A copy-and-swap tool starting on a table that more than one master wrote
 * lately: pt-online-schema-change's triggers fire for the writes made on
 * the master it runs on, not for the row events the others' writes arrive
 * as, and those in flight at the swap stop replication (1146); gh-ost
 * supports a master-master ring only with one master writing the table (it
 * cannot tell every write reached the copy before the cut-over).
 */
static void copy_and_swap(struct judge *g, const ddl_stmt *s, const char *schema)
{
	char orig[SCHEMA_NAME_MAX];
	const char *tool = NULL;
	uint64_t rows;
	unsigned masters;

	for (size_t strip = 1; swap_copy_of(s->table.table, strip, orig, sizeof(orig), &tool);
	     strip++) {
		if (s->kind == DDL_CREATE_LIKE && strcmp(s->like.table, orig) != 0)
			continue; /* a copy of another table: not the tool's */
		if (writes_of(g, schema, orig, &rows, &masters) == 0 && masters > 1) {
			reason(g->j, DDL_UNSAFE,
			       "%s.%s looks like %s copying %s.%s, which %u masters wrote lately: "
			       "a copy-and-swap tool needs one master writing the table, else the "
			       "others' writes miss the copy and those in flight at the swap stop "
			       "replication (1146); write it on one master only, or run a plain "
			       "ALTER",
			       schema, s->table.table, tool, schema, orig, masters);
			return;
		}
	}
}

/* ---- statements ------------------------------------------------------------------- */

static void create_table(struct judge *g, const ddl_stmt *s, const char *schema)
{
	const schema_table *t;
	int state = live(g, schema, s->table.table, &t);
	bool exists = state == SCHEMA_KNOWN || state == SCHEMA_UNKNOWN;

	if (exists && s->or_replace) {
		reason(g->j, DDL_UNSAFE,
		       "CREATE OR REPLACE drops %s.%s and its rows on every master first", schema,
		       s->table.table);
		written(g, schema, s->table.table, DDL_UNSAFE, "old code still uses it");
		return;
	}
	if (exists && !s->if_not_exists) {
		reason(g->j, DDL_UNSAFE, "%s.%s exists already: the statement fails (1050)", schema,
		       s->table.table);
		return;
	}
	copy_and_swap(g, s, schema);
	if (s->kind == DDL_CREATE_SELECT) {
		reason(g->j, DDL_CAUTION,
		       "CREATE TABLE ... SELECT copies rows in one statement: on a large table it "
		       "runs long, and its columns come from the query");
		return;
	}
	if (s->or_replace && state == -1)
		reason(g->j, DDL_CAUTION,
		       "CREATE OR REPLACE drops the table first if it exists (check with --url)");
	else
		reason(g->j, DDL_SAFE, "a new table: no row of an old shape can reach it");
}

static void drop_table(struct judge *g, const ddl_stmt *s)
{
	for (uint32_t i = 0; i < s->n_names; i++) {
		const char *schema = schema_of(g, &s->names[i]);
		const char *table = s->names[i].table;
		const schema_table *t;
		int state = live(g, schema, table, &t);

		if (state == SCHEMA_ABSENT) {
			reason(g->j, s->if_exists ? DDL_SAFE : DDL_UNSAFE, "no table %s.%s: %s",
			       schema, table,
			       s->if_exists ? "nothing happens" : "the statement fails");
			continue;
		}
		switch (written(g, schema, table, DDL_UNSAFE, "old code still writes it")) {
		case 0:
			reason(g->j, DDL_CAUTION,
			       "nothing wrote %s.%s lately; make sure no code still reads it",
			       schema, table);
			break;
		case 1:
			break;
		default:
			reason(g->j, DDL_UNSAFE,
			       "DROP TABLE %s%s%s: its rows go on every master; unsafe while any "
			       "code may still use it (ringwatch check-ddl --url says whether it "
			       "was written lately)",
			       schema != NULL ? schema : "", schema != NULL ? "." : "", table);
		}
	}
}

static void rename_tables(struct judge *g, const ddl_stmt *s)
{
	for (uint32_t i = 0; i + 1 < s->n_names; i += 2) {
		const char *schema = schema_of(g, &s->names[i]);
		reason(g->j, DDL_UNSAFE,
		       "RENAME TABLE %s TO %s: old code and the other master's writes still use "
		       "the old name",
		       s->names[i].table, s->names[i + 1].table);
		written(g, schema, s->names[i].table, DDL_UNSAFE,
			"a table written on more than one master is not safe for a tool that swaps "
			"tables (pt-online-schema-change, gh-ost)");
	}
}

void ddl_judge(const ddl_stmt *s, const ddl_context *ctx, ddl_judgement *out)
{
	struct judge g = { .ctx = ctx, .j = out };
	const char *schema = s->table.table != NULL ? schema_of(&g, &s->table) : NULL;
	const schema_table *t;

	memset(out, 0, sizeof(*out));
	if (s->temporary) {
		reason(out, DDL_SAFE, "a temporary table: its rows never replicate as rows");
		return;
	}
	switch (s->kind) {
	case DDL_NONE:
		reason(out, DDL_SAFE, "changes no table");
		break;
	case DDL_UNPARSED:
		reason(out, DDL_CAUTION, "ringwatch could not read it (%s): never judged safe",
		       s->error);
		break;
	case DDL_CREATE_TABLE:
	case DDL_CREATE_LIKE:
	case DDL_CREATE_SELECT:
		create_table(&g, s, schema);
		break;
	case DDL_ALTER_TABLE:
		alter_table(&g, s, schema);
		break;
	case DDL_CREATE_INDEX: {
		ddl_alter as_clause = { .op = DDL_ALTER_ADD_INDEX, .index = s->index };
		if (live(&g, schema, s->table.table, &t) == SCHEMA_ABSENT)
			reason(out, DDL_UNSAFE, "no table %s.%s: the statement fails", schema,
			       s->table.table);
		add_index(&g, &s->index);
		clause_algorithm(&g, NULL, &as_clause, s->index.kind == SCHEMA_INDEX_PRIMARY);
		large(&g, schema, s->table.table, "building the index");
		break;
	}
	case DDL_DROP_INDEX:
		if (live(&g, schema, s->table.table, &t) != SCHEMA_KNOWN)
			t = NULL;
		for (uint32_t i = 0; i < s->n_alters; i++) {
			drop_index(&g, t, s->alters[i].name, s->alters[i].if_exists);
			clause_algorithm(&g, t, &s->alters[i], false);
		}
		break;
	case DDL_RENAME_TABLE:
		rename_tables(&g, s);
		algo(&g, I, I, false);
		break;
	case DDL_DROP_TABLE:
		drop_table(&g, s);
		break;
	case DDL_TRUNCATE:
		reason(out, DDL_UNSAFE,
		       "TRUNCATE deletes every row on every master: rows the other master writes "
		       "meanwhile survive only there");
		written(&g, schema, s->table.table, DDL_UNSAFE, "code still writes it");
		break;
	case DDL_CREATE_DATABASE:
		reason(out, DDL_SAFE, "a new database");
		break;
	case DDL_DROP_DATABASE:
		reason(out, DDL_UNSAFE, "DROP DATABASE %s drops every table in it on every master",
		       s->database != NULL ? s->database : "");
		break;
	default:
		reason(out, DDL_CAUTION, "a statement ringwatch has no rule for");
		break;
	}
	if (out->n == 0)
		reason(out, DDL_CAUTION, "nothing in it ringwatch could judge");
}
