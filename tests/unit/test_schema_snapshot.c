/*
 * test_schema_snapshot.c - information_schema rows into CREATE TABLE
 * statements (daemon/schema_snapshot.c), read back by the DDL parser with
 * schema_apply_script(): the columns, the key and the unique keys come out
 * as the server has them.  MariaDB rows as 10.11 gives them, MySQL rows as
 * 8.0 does (raw defaults, escaped expressions, functional key parts).  No
 * server.
 */
#include "../../daemon/schema_snapshot.h"

#include "ringwatch/schema_history.h"

#include "../tap.h"

#include <stdlib.h>
#include <string.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------- helpers ---- */

struct rows {
	const char *const (*tables)[SNAP_T_N];
	size_t n_tables;
	const char *const (*columns)[SNAP_C_N];
	size_t n_columns;
	const char *const (*index)[SNAP_I_N];
	size_t n_index;
};

/* The statements for rows, or NULL; *n_tables statements. */
static char *snapshot(const struct rows *r, bool mariadb, uint32_t version, size_t *n_tables)
{
	struct schema_snapshot *s = schema_snapshot_new(mariadb, version);
	char *text = NULL;
	size_t len;
	int rc = s != NULL ? 0 : -1;

	for (size_t i = 0; rc == 0 && i < r->n_tables; i++)
		rc = schema_snapshot_add_table(s, r->tables[i]);
	for (size_t i = 0; rc == 0 && i < r->n_columns; i++)
		rc = schema_snapshot_add_column(s, r->columns[i]);
	for (size_t i = 0; rc == 0 && i < r->n_index; i++)
		rc = schema_snapshot_add_index_part(s, r->index[i]);
	if (rc == 0)
		text = schema_snapshot_sql(s, &len, n_tables);
	ok(text != NULL && strlen(text) == len, "the statements are built");
	schema_snapshot_free(s);
	return text;
}

/* The text read by schema_apply_script(); NULL on failure. */
static schema_db *parsed(const char *text, bool mariadb, uint32_t version, size_t *unreadable)
{
	ddl_options opt = { mariadb, version };
	schema_db *db = schema_db_new();
	rw_error err;

	*unreadable = 0;
	if (db == NULL ||
	    schema_apply_script(db, text, strlen(text), NULL, &opt, unreadable, &err) != 0) {
		schema_db_free(db);
		return NULL;
	}
	return db;
}

/*
 * A table as "a!,b~,c* | key a | unique b;c,d": columns with ! NOT NULL,
 * ~ invisible, * generated; the key's columns; the other unique keys.
 * "unknown: why" or "absent" when the db holds no shape.
 */
static void shape(const schema_db *db, const char *schema, const char *table, char *out, size_t len)
{
	const schema_table *t;
	const char *why;
	size_t o = 0;

	switch (schema_db_get(db, schema, table, &t, &why)) {
	case SCHEMA_UNKNOWN:
		snprintf(out, len, "unknown: %s", why);
		return;
	case SCHEMA_ABSENT:
		snprintf(out, len, "absent");
		return;
	}
	out[0] = '\0';
	for (uint32_t i = 0; i < t->ncols && o < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%s%s%s%s", i ? "," : "", t->cols[i].name,
				      t->cols[i].nullable ? "" : "!",
				      t->cols[i].invisible ? "~" : "",
				      t->cols[i].generated ? "*" : "");
	if (o < len)
		o += (size_t)snprintf(out + o, len - o, " | key ");
	for (uint32_t k = 0; k < t->n_key && o < len; k++)
		o += (size_t)snprintf(out + o, len - o, "%s%s", k ? "," : "",
				      t->cols[t->key[k]].name);
	if (o < len)
		o += (size_t)snprintf(out + o, len - o, " | unique ");
	for (uint32_t u = 0; u < t->n_unique && o < len; u++)
		for (uint32_t k = 0; k < t->unique_len[u] && o < len; k++)
			o += (size_t)snprintf(out + o, len - o, "%s%s",
					      k   ? ","
					      : u ? ";"
						  : "",
					      t->cols[t->unique[u][k]].name);
	if (t->versioned && o < len)
		snprintf(out + o, len - o, " | versioned");
}

static void is_shape(const schema_db *db, const char *schema, const char *table, const char *want)
{
	char got[1024];

	shape(db, schema, table, got, sizeof(got));
	is_str(got, want, "%s.%s", schema, table);
}

/* The default of column col of a known table, "(none)" when it has none. */
static const char *default_of(const schema_db *db, const char *schema, const char *table,
			      const char *col)
{
	const schema_table *t;
	const char *why;
	int c;

	if (schema_db_get(db, schema, table, &t, &why) != SCHEMA_KNOWN ||
	    (c = schema_table_column(t, col)) < 0)
		return "(no such column)";
	return t->cols[c].def != NULL ? t->cols[c].def : "(none)";
}

/* The statement of one table in text (up to its ";\n"), into out. */
static void statement_of(const char *text, const char *head, char *out, size_t len)
{
	const char *at = strstr(text, head);
	const char *end = at != NULL ? strstr(at, ";\n") : NULL;

	snprintf(out, len, "%.*s", end != NULL ? (int)(end - at + 1) : 0, at != NULL ? at : "");
}

/* ------------------------------------------------------------- MariaDB ---- */

/* As MariaDB 10.11 gives them (see tests/integration/probe.sh for the DDL). */
static const char *const maria_tables[][SNAP_T_N] = {
	{ "x", "comp", "BASE TABLE" },         { "x", "nn", "BASE TABLE" },
	{ "x", "gen", "BASE TABLE" },          { "x", "es", "BASE TABLE" },
	{ "x", "ver", "SYSTEM VERSIONED" },    { "x", "ver3", "SYSTEM VERSIONED" },
	{ "x", "geo", "BASE TABLE" },          { "x", "ord", "BASE TABLE" },
	{ "x", "cmp", "BASE TABLE" },          { "x", "we`ird", "BASE TABLE" },
	{ "a", "first", "BASE TABLE" },        { "x", "nocols", "BASE TABLE" },
	{ "x", "lu", "BASE TABLE", "InnoDB" }, { "x", "mem", "BASE TABLE", "MEMORY" },
	{ "x", "sq", "SEQUENCE", "InnoDB" },
};

static const char *const maria_columns[][SNAP_C_N] = {
	{ "a", "first", "id", "int(11)", "NO", NULL, "", NULL, NULL },
	{ "x", "comp", "a", "int(11)", "NO", NULL, "", NULL, NULL },
	{ "x", "comp", "b", "varchar(10)", "NO", NULL, "", "latin1", NULL },
	{ "x", "comp", "c", "text", "YES", "NULL", "", "latin1", NULL },
	{ "x", "nn", "a", "int(11)", "NO", NULL, "", NULL, NULL },
	{ "x", "nn", "b", "int(11)", "NO", NULL, "", NULL, NULL },
	{ "x", "nn", "c", "int(11)", "YES", "NULL", "", NULL, NULL },
	{ "x", "gen", "a", "int(11)", "NO", NULL, "", NULL, NULL },
	{ "x", "gen", "b", "int(11)", "YES", NULL, "VIRTUAL GENERATED", NULL, "`a` + 1" },
	{ "x", "gen", "c", "varchar(20)", "YES", NULL, "STORED GENERATED", "latin1",
	  "concat('x\\'',`a`)" },
	{ "x", "es", "id", "int(11)", "NO", NULL, "auto_increment", NULL, NULL },
	{ "x", "es", "e", "enum('a','b''c')", "NO", "'b''c'", "", "latin1", NULL },
	{ "x", "es", "s", "set('x','y')", "YES", "'x,y'", "", "latin1", NULL },
	{ "x", "es", "q", "varchar(10)", "YES", "'it''s \\\\ ok'", "", "latin1", NULL },
	{ "x", "es", "nn", "varchar(5)", "YES", "'NULL'", "", "latin1", NULL },
	{ "x", "es", "ts", "timestamp(3)", "NO", "current_timestamp(3)",
	  "on update current_timestamp(3)", NULL, NULL },
	{ "x", "es", "x", "int(11)", "YES", "(1 + 2)", "", NULL, NULL },
	{ "x", "es", "h", "int(11)", "YES", "5", "INVISIBLE", NULL, NULL },
	{ "x", "es", "j", "longtext", "YES", "NULL", "", "utf8mb4", NULL },
	{ "x", "es", "tn", "timestamp", "YES", "NULL", "", NULL, NULL },
	{ "x", "es", "ft", "text", "YES", "NULL", "", "latin1", NULL },
	{ "x", "ver", "x", "int(11)", "NO", NULL, "", NULL, NULL },
	{ "x", "ver", "y", "int(11)", "YES", "NULL", "", NULL, NULL },
	{ "x", "ver3", "x", "int(11)", "YES", "NULL", "", NULL, NULL },
	{ "x", "ver3", "u", "int(11)", "YES", "NULL", "", NULL, NULL },
	{ "x", "ver3", "rs", "timestamp(6)", "NO", NULL, "STORED GENERATED, INVISIBLE", NULL,
	  "ROW START" },
	{ "x", "ver3", "re", "timestamp(6)", "NO", NULL, "STORED GENERATED, INVISIBLE", NULL,
	  "ROW END" },
	{ "x", "geo", "id", "int(11)", "NO", NULL, "", NULL, NULL },
	{ "x", "geo", "g", "geometry", "NO", NULL, "", NULL, NULL },
	{ "x", "ord", "a", "int(11)", "YES", "NULL", "", NULL, NULL },
	{ "x", "ord", "b", "int(11)", "NO", NULL, "", NULL, NULL },
	{ "x", "ord", "c", "int(11)", "NO", NULL, "", NULL, NULL },
	{ "x", "ord", "d", "text", "YES", "NULL", "", "latin1", NULL },
	{ "x", "cmp", "a", "int(11)", "NO", NULL, "", NULL, NULL },
	{ "x", "cmp", "b", "varchar(100) /*M!100301 COMPRESSED*/", "YES", "NULL", "", "latin1",
	  NULL },
	{ "x", "we`ird", "a b", "int(10) unsigned zerofill", "YES", "NULL", "", NULL, NULL },
	{ "x", "we`ird", "c`d", "bit(3)", "YES", "b'101'", "", NULL, NULL },
	{ "x", "lu", "id", "int(11)", "NO", NULL, "", NULL, NULL },
	{ "x", "lu", "b", "varchar(2000)", "YES", "NULL", "", "utf8mb4", NULL },
	{ "x", "mem", "id", "int(11)", "NO", NULL, "", NULL, NULL },
	{ "x", "mem", "u", "int(11)", "NO", NULL, "", NULL, NULL },
	/* a view's columns: not in the snapshot; a sequence's: every sequence's */
	{ "x", "v", "1", "int(1)", "NO", "0", "", NULL, NULL },
	{ "x", "sq", "next_not_cached_value", "bigint(21)", "NO", NULL, "", NULL, NULL },
};

static const char *const maria_index[][SNAP_I_N] = {
	/* the second part before the first: parts go by SEQ_IN_INDEX */
	{ "x", "comp", "PRIMARY", "0", "2", "b", NULL, "BTREE", NULL },
	{ "x", "comp", "PRIMARY", "0", "1", "a", NULL, "BTREE", NULL },
	{ "x", "comp", "kc", "1", "1", "c", "20", "BTREE", NULL },
	{ "x", "nn", "ub", "0", "1", "b", NULL, "BTREE", NULL },
	{ "x", "nn", "ub", "0", "2", "a", NULL, "BTREE", NULL },
	{ "x", "nn", "uc", "0", "1", "c", NULL, "BTREE", NULL },
	{ "x", "gen", "PRIMARY", "0", "1", "a", NULL, "BTREE", NULL },
	{ "x", "gen", "kb", "1", "1", "b", NULL, "BTREE", NULL },
	{ "x", "es", "PRIMARY", "0", "1", "id", NULL, "BTREE", NULL },
	{ "x", "es", "f", "1", "1", "ft", NULL, "FULLTEXT", NULL },
	/* an implicitly versioned table's keys lack row_end: the parser adds it */
	{ "x", "ver", "PRIMARY", "0", "1", "x", NULL, "BTREE", NULL },
	{ "x", "ver", "uy", "0", "1", "y", NULL, "BTREE", NULL },
	{ "x", "ver3", "uu", "0", "1", "u", NULL, "BTREE", NULL },
	{ "x", "ver3", "uu", "0", "2", "re", NULL, "BTREE", NULL },
	{ "x", "geo", "PRIMARY", "0", "1", "id", NULL, "BTREE", NULL },
	{ "x", "geo", "sg", "1", "1", "g", "32", "SPATIAL", NULL },
	/* the server's order: NOT NULL unique keys first, in definition order */
	{ "x", "ord", "zz", "0", "1", "b", NULL, "BTREE", NULL },
	{ "x", "ord", "mm", "0", "1", "c", NULL, "BTREE", NULL },
	{ "x", "ord", "aa_null", "0", "1", "a", NULL, "BTREE", NULL },
	{ "x", "ord", "pre", "0", "1", "d", "10", "BTREE", NULL },
	{ "x", "ord", "k1", "1", "1", "a", NULL, "BTREE", NULL },
	{ "x", "ord", "ft", "1", "1", "d", NULL, "FULLTEXT", NULL },
	{ "x", "cmp", "PRIMARY", "0", "1", "a", NULL, "BTREE", NULL },
	/* a UNIQUE key too long for InnoDB: MariaDB keeps a hash (a hidden column) */
	{ "x", "lu", "PRIMARY", "0", "1", "id", NULL, "BTREE", NULL },
	{ "x", "lu", "ub", "0", "1", "b", NULL, "HASH", NULL },
	/* a MEMORY table's HASH keys are its own */
	{ "x", "mem", "PRIMARY", "0", "1", "id", NULL, "HASH", NULL },
	{ "x", "mem", "uu", "0", "1", "u", NULL, "HASH", NULL },
};

static void test_mariadb(void)
{
	const struct rows r = { maria_tables,     N(maria_tables), maria_columns,
				N(maria_columns), maria_index,     N(maria_index) };
	size_t n = 0, unreadable = 99;
	char *text = snapshot(&r, true, 101119, &n);
	schema_db *db = text != NULL ? parsed(text, true, 101119, &unreadable) : NULL;
	char stmt[2048];

	if (db == NULL) {
		ok(0, "the text parses");
		free(text);
		return;
	}
	is_int(n, 14, "one statement per table with columns (not the column-less one)");
	is_int(unreadable, 0, "every statement is read");
	is_int(schema_db_count(db), 14, "fourteen tables in the db");
	ok(strncmp(text, "CREATE TABLE `a`.`first`", 24) == 0, "ordered by schema, then name");

	statement_of(text, "CREATE TABLE `x`.`es`", stmt, sizeof(stmt));
	is_str(stmt,
	       "CREATE TABLE `x`.`es` (\n"
	       "  `id` int(11) NOT NULL AUTO_INCREMENT,\n"
	       "  `e` enum('a','b''c') CHARACTER SET latin1 NOT NULL DEFAULT 'b''c',\n"
	       "  `s` set('x','y') CHARACTER SET latin1 DEFAULT 'x,y',\n"
	       "  `q` varchar(10) CHARACTER SET latin1 DEFAULT 'it''s \\\\ ok',\n"
	       "  `nn` varchar(5) CHARACTER SET latin1 DEFAULT 'NULL',\n"
	       "  `ts` timestamp(3) NOT NULL DEFAULT current_timestamp(3) ON UPDATE "
	       "current_timestamp(3),\n"
	       "  `x` int(11) DEFAULT (1 + 2),\n"
	       "  `h` int(11) DEFAULT 5 INVISIBLE,\n"
	       "  `j` longtext CHARACTER SET utf8mb4 DEFAULT NULL,\n"
	       "  `tn` timestamp NULL DEFAULT NULL,\n"
	       "  `ft` text CHARACTER SET latin1 DEFAULT NULL,\n"
	       "  PRIMARY KEY (`id`),\n"
	       "  FULLTEXT KEY `f` (`ft`)\n"
	       ");",
	       "MariaDB: defaults copied as the server wrote them");
	is_shape(db, "x", "es", "id!,e!,s,q,nn,ts!,x,h~,j,tn,ft | key id | unique ");
	is_str(default_of(db, "x", "es", "q"), "'it''s \\\\ ok'", "a quoted default");
	is_str(default_of(db, "x", "es", "nn"), "'NULL'", "the string 'NULL' is no NULL");
	is_str(default_of(db, "x", "es", "j"), "(none)", "DEFAULT NULL: the parser keeps none");

	is_shape(db, "x", "comp", "a!,b!,c | key a,b | unique ");
	is_shape(db, "x", "nn", "a!,b!,c | key b,a | unique c");
	is_shape(db, "x", "gen", "a!,b*,c* | key a | unique ");
	statement_of(text, "CREATE TABLE `x`.`gen`", stmt, sizeof(stmt));
	ok(strstr(stmt, "`c` varchar(20) CHARACTER SET latin1 GENERATED ALWAYS AS "
			"(concat('x\\'',`a`)) STORED,") != NULL,
	   "a generated column with its expression");
	is_shape(db, "x", "ver",
		 "x!,y,row_start!~,row_end!~ | key x,row_end | unique y,row_end | "
		 "versioned");
	statement_of(text, "CREATE TABLE `x`.`ver3`", stmt, sizeof(stmt));
	ok(strstr(stmt, "`rs` timestamp(6) GENERATED ALWAYS AS ROW START NOT NULL INVISIBLE") !=
		   NULL &&
	       strstr(stmt, "PERIOD FOR SYSTEM_TIME (`rs`, `re`)\n) WITH SYSTEM VERSIONING;") !=
		   NULL,
	   "declared period columns and the period");
	is_shape(db, "x", "ver3", "x,u,rs!~,re!~ | key  | unique u,re | versioned");
	is_shape(db, "x", "geo", "id!,g! | key id | unique ");
	statement_of(text, "CREATE TABLE `x`.`geo`", stmt, sizeof(stmt));
	ok(strstr(stmt, "SPATIAL KEY `sg` (`g`)") != NULL, "a SPATIAL key has no prefix");
	is_shape(db, "x", "ord", "a,b!,c!,d | key b | unique c;a");
	statement_of(text, "CREATE TABLE `x`.`ord`", stmt, sizeof(stmt));
	ok(strstr(stmt, "UNIQUE KEY `zz` (`b`),\n  UNIQUE KEY `mm` (`c`),\n  UNIQUE KEY "
			"`aa_null` (`a`),\n  UNIQUE KEY `pre` (`d`(10)),\n  KEY `k1` (`a`),\n"
			"  FULLTEXT KEY `ft` (`d`)") != NULL,
	   "keys in the server's order");
	is_shape(db, "x", "cmp", "a!,b | key a | unique ");
	statement_of(text, "CREATE TABLE `x`.`lu`", stmt, sizeof(stmt));
	ok(strstr(stmt, "UNIQUE KEY `ub` (`b`) USING HASH") != NULL, "a long UNIQUE: USING HASH");
	is_shape(db, "x", "lu", "id!,b,DB_ROW_HASH_1~ | key id | unique b");
	statement_of(text, "CREATE TABLE `x`.`mem`", stmt, sizeof(stmt));
	ok(strstr(stmt, "USING HASH") == NULL, "a MEMORY table's HASH keys: no USING HASH");
	is_shape(db, "x", "mem", "id!,u! | key id | unique u");
	ok(strstr(text, "CREATE SEQUENCE `x`.`sq`;\n") != NULL, "a sequence");
	is_shape(db, "x", "sq",
		 "next_not_cached_value!,minimum_value!,maximum_value!,start_value!,increment!,"
		 "cache_size!,cycle_option!,cycle_count! | key  | unique ");
	is_shape(db, "x", "we`ird", "a b,c`d | key  | unique ");
	is_str(default_of(db, "x", "we`ird", "c`d"), "b'101'", "a bit default");
	is_shape(db, "x", "v", "absent");
	is_shape(db, "x", "nocols", "absent");
	schema_db_free(db);
	free(text);
}

/* --------------------------------------------------------------- MySQL ---- */

static const char *const mysql_tables[][SNAP_T_N] = {
	{ "app", "t", "BASE TABLE" },
	{ "app", "bad", "BASE TABLE" },
	{ "app", "good", "BASE TABLE" },
};

/* MySQL 8.0: raw defaults, DEFAULT_GENERATED, GENERATION_EXPRESSION '' when
 * not generated, quotes in expressions escaped. */
static const char *const mysql_columns[][SNAP_C_N] = {
	{ "app", "t", "id", "int", "NO", NULL, "auto_increment", NULL, "" },
	{ "app", "t", "s", "varchar(20)", "YES", "it's \\ ok", "", "utf8mb4", "" },
	{ "app", "t", "n", "varchar(5)", "YES", NULL, "", "utf8mb4", "" },
	{ "app", "t", "nn", "varchar(5)", "YES", "NULL", "", "utf8mb4", "" },
	{ "app", "t", "ts", "timestamp", "NO", "CURRENT_TIMESTAMP",
	  "DEFAULT_GENERATED on update CURRENT_TIMESTAMP", NULL, "" },
	{ "app", "t", "dt", "datetime(3)", "YES", "CURRENT_TIMESTAMP(3)", "DEFAULT_GENERATED", NULL,
	  "" },
	{ "app", "t", "f", "float", "YES", "(rand() * rand())", "DEFAULT_GENERATED", NULL, "" },
	{ "app", "t", "e", "varchar(30)", "YES", "concat(_utf8mb4\\'x\\',`s`)", "DEFAULT_GENERATED",
	  "utf8mb4", "" },
	{ "app", "t", "b", "bit(3)", "YES", "b'101'", "", NULL, "" },
	{ "app", "t", "d", "decimal(5,2)", "YES", "-3.25", "", NULL, "" },
	{ "app", "t", "i", "int unsigned", "NO", "0", "", NULL, "" },
	{ "app", "t", "g", "int", "YES", NULL, "VIRTUAL GENERATED", NULL, "(`i` + 1)" },
	{ "app", "t", "g2", "varchar(9)", "NO", NULL, "STORED GENERATED", "utf8mb4",
	  "concat(_utf8mb4\\'a\\'\\'b\\',`s`)" },
	{ "app", "t", "hid", "int", "YES", NULL, "INVISIBLE", NULL, "" },
	{ "app", "t", "j", "json", "YES", NULL, "", NULL, "" },
	{ "app", "t", "pt", "point", "NO", NULL, "", NULL, "" },
	/* what the lexer would misread: never copied */
	{ "app", "bad", "a", "enum('a\\')", "YES", NULL, "", "utf8mb4", "" },
	{ "app", "good", "a", "int", "NO", NULL, "", NULL, "" },
	{ "app", "good", "b", "int", "YES", NULL, "VIRTUAL GENERATED", NULL, "concat('x" },
	{ "app", "good", "c", "varchar(9)", "YES", "concat('x", "DEFAULT_GENERATED", NULL, "" },
	{ "app", "good", "d", "int", "YES", "1 -- 2", "DEFAULT_GENERATED", NULL, "" },
};

static const char *const mysql_index[][SNAP_I_N] = {
	{ "app", "t", "PRIMARY", "0", "1", "id", NULL, "BTREE", NULL },
	{ "app", "t", "u_s", "0", "1", "s", "10", "BTREE", NULL },
	{ "app", "t", "u_s", "0", "2", "i", NULL, "BTREE", NULL },
	{ "app", "t", "fx", "1", "1", NULL, NULL, "BTREE", "(`i` + 1)" },
	{ "app", "t", "ufx", "0", "1", "i", NULL, "BTREE", NULL },
	{ "app", "t", "ufx", "0", "2", NULL, NULL, "BTREE", "lower(_utf8mb4\\'a\\')" },
	{ "app", "t", "noexpr", "1", "1", NULL, NULL, "BTREE", NULL },
	{ "app", "t", "sp", "1", "1", "pt", "32", "SPATIAL", NULL },
	{ "app", "good", "PRIMARY", "0", "1", "a", NULL, "BTREE", NULL },
	{ "app", "good", "badx", "1", "1", NULL, NULL, "BTREE", "concat('x" },
	/* a part of a key whose other part never comes */
	{ "app", "good", "gap", "1", "2", "a", NULL, "BTREE", NULL },
};

static void test_mysql(void)
{
	const struct rows r = { mysql_tables,     N(mysql_tables), mysql_columns,
				N(mysql_columns), mysql_index,     N(mysql_index) };
	size_t n = 0, unreadable = 99;
	char *text = snapshot(&r, false, 80036, &n);
	schema_db *db = text != NULL ? parsed(text, false, 80036, &unreadable) : NULL;
	char stmt[2048];

	if (db == NULL) {
		ok(0, "the text parses");
		free(text);
		return;
	}
	is_int(n, 3, "three statements");
	is_int(unreadable, 1, "one statement the parser refuses");
	statement_of(text, "CREATE TABLE `app`.`t`", stmt, sizeof(stmt));
	is_str(stmt,
	       "CREATE TABLE `app`.`t` (\n"
	       "  `id` int NOT NULL AUTO_INCREMENT,\n"
	       "  `s` varchar(20) CHARACTER SET utf8mb4 DEFAULT 'it''s \\\\ ok',\n"
	       "  `n` varchar(5) CHARACTER SET utf8mb4,\n"
	       "  `nn` varchar(5) CHARACTER SET utf8mb4 DEFAULT 'NULL',\n"
	       "  `ts` timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,\n"
	       "  `dt` datetime(3) DEFAULT CURRENT_TIMESTAMP(3),\n"
	       "  `f` float DEFAULT ((rand() * rand())),\n"
	       "  `e` varchar(30) CHARACTER SET utf8mb4 DEFAULT (concat(_utf8mb4'x',`s`)),\n"
	       "  `b` bit(3) DEFAULT b'101',\n"
	       "  `d` decimal(5,2) DEFAULT '-3.25',\n"
	       "  `i` int unsigned NOT NULL DEFAULT '0',\n"
	       "  `g` int GENERATED ALWAYS AS ((`i` + 1)) VIRTUAL,\n"
	       "  `g2` varchar(9) CHARACTER SET utf8mb4 GENERATED ALWAYS AS "
	       "(concat(_utf8mb4'a''b',`s`)) STORED NOT NULL,\n"
	       "  `hid` int INVISIBLE,\n"
	       "  `j` json,\n"
	       "  `pt` point NOT NULL,\n"
	       "  PRIMARY KEY (`id`),\n"
	       "  UNIQUE KEY `u_s` (`s`(10),`i`),\n"
	       "  UNIQUE KEY `ufx` (`i`,(lower(_utf8mb4'a'))),\n"
	       "  KEY `fx` (((`i` + 1))),\n"
	       "  SPATIAL KEY `sp` (`pt`)\n"
	       ");",
	       "MySQL: raw defaults quoted, expressions in parentheses, functional parts");
	is_shape(db, "app", "t",
		 "id!,s,n,nn,ts!,dt,f,e,b,d,i!,g*,g2!*,hid~,j,pt! | key id | unique ");
	is_str(default_of(db, "app", "t", "s"), "'it''s \\\\ ok'", "a raw string quoted");
	is_str(default_of(db, "app", "t", "n"), "(none)", "SQL NULL: no default");
	is_str(default_of(db, "app", "t", "ts"), "CURRENT_TIMESTAMP", "CURRENT_TIMESTAMP as is");
	is_str(default_of(db, "app", "t", "e"), "(concat(_utf8mb4'x',`s`))",
	       "an expression default, unescaped");
	is_str(default_of(db, "app", "t", "i"), "'0'", "a number quoted, as SHOW CREATE TABLE");
	ok(strncmp(default_of(db, "app", "bad", "a"), "(no such", 8) == 0, "bad: not known");
	shape(db, "app", "bad", stmt, sizeof(stmt));
	ok(strncmp(stmt, "unknown: ", 9) == 0 && strstr(stmt, "type_unreadable") != NULL,
	   "a column type that cannot be copied: the table is unknown (%s)", stmt);
	statement_of(text, "CREATE TABLE `app`.`bad`", stmt, sizeof(stmt));
	is_str(stmt, "CREATE TABLE `app`.`bad` (`a` type_unreadable_in_information_schema);",
	       "the statement the parser refuses");
	statement_of(text, "CREATE TABLE `app`.`good`", stmt, sizeof(stmt));
	is_str(stmt,
	       "CREATE TABLE `app`.`good` (\n"
	       "  `a` int NOT NULL,\n"
	       "  `b` int GENERATED ALWAYS AS (NULL) VIRTUAL,\n"
	       "  `c` varchar(9),\n"
	       "  `d` int,\n"
	       "  PRIMARY KEY (`a`)\n"
	       ");",
	       "expressions that cannot be copied are left out");
	is_shape(db, "app", "good", "a!,b*,c,d | key a | unique ");
	schema_db_free(db);
	free(text);
}

/* -------------------------------------------------------------- others ---- */

static void test_empty_and_queries(void)
{
	struct schema_snapshot *s = schema_snapshot_new(true, 101119);
	size_t len = 9, n = 9;
	char *text = s != NULL ? schema_snapshot_sql(s, &len, &n) : NULL;
	const char *const orphan[SNAP_C_N] = {
		"x", "none", "a", "int", "NO", NULL, "", NULL, NULL
	};

	ok(s != NULL && schema_snapshot_add_column(s, orphan) == 0,
	   "a column of a table not listed is ignored");
	ok(text != NULL && len == 0 && n == 0 && text[0] == '\0', "no table: empty text");
	free(text);
	schema_snapshot_free(s);

	ok(strstr(schema_snapshot_tables_query(), "'SYSTEM VERSIONED'") != NULL &&
	       strstr(schema_snapshot_tables_query(), "'performance_schema'") != NULL,
	   "the tables query: base and versioned tables, no system schema");
	ok(strstr(schema_snapshot_columns_query(true, 101119), "GENERATION_EXPRESSION") != NULL,
	   "MariaDB 10.11 has GENERATION_EXPRESSION");
	ok(strstr(schema_snapshot_columns_query(true, 100137), "GENERATION_EXPRESSION") == NULL,
	   "MariaDB 10.1 does not");
	ok(strstr(schema_snapshot_columns_query(false, 50644), "GENERATION_EXPRESSION") == NULL,
	   "MySQL 5.6 does not");
	ok(strstr(schema_snapshot_index_query(false, 80036), "EXPRESSION") != NULL,
	   "MySQL 8.0.36 has STATISTICS.EXPRESSION");
	ok(strstr(schema_snapshot_index_query(true, 110402), "EXPRESSION") == NULL,
	   "MariaDB has no STATISTICS.EXPRESSION");
	ok(strstr(schema_snapshot_index_query(false, 80036), "ORDER BY") == NULL,
	   "the keys come in the server's order");
}

/* TABLE_ROWS and the lengths come back as sizes, a table without them left out. */
static void test_sizes(void)
{
	static const char *const tables[][SNAP_T_N] = {
		{ "app", "big", "BASE TABLE", "InnoDB", "2500000", "3221225472" },
		{ "app", "we\tird", "BASE TABLE", "InnoDB", "7", "16384" },
		{ "app", "nosize", "BASE TABLE", "InnoDB", NULL, NULL },
		{ "app", "junk", "BASE TABLE", "InnoDB", "12x", "1" },
	};
	struct schema_snapshot *s = schema_snapshot_new(true, 101100);
	const char *schema, *table;
	uint64_t rows, bytes;
	size_t len = 0, pos = 0, n = 0;
	char *block;
	int rc = s != NULL ? 0 : -1;

	for (size_t i = 0; rc == 0 && i < N(tables); i++)
		rc = schema_snapshot_add_table(s, tables[i]);
	block = rc == 0 ? schema_snapshot_sizes(s, &len) : NULL;
	ok(block != NULL, "the sizes are built");
	while (block != NULL &&
	       schema_snapshot_next_size(block, len, &pos, &schema, &table, &rows, &bytes) == 1) {
		n++;
		if (strcmp(table, "big") == 0)
			ok(strcmp(schema, "app") == 0 && rows == 2500000 && bytes == 3221225472ULL,
			   "a large table's rows and bytes");
		else
			ok(strcmp(table, "we\tird") == 0 && rows == 7 && bytes == 16384,
			   "a name with a tab, kept whole (%s)", table);
	}
	ok(n == 2, "tables without a size, or with one that is no number, are left out (%zu)", n);
	ok(block != NULL &&
	       schema_snapshot_next_size(block, len - 1, &(size_t){ 0 }, &schema, &table, &rows,
					 &bytes) == 1 &&
	       schema_snapshot_next_size(block, 3, &(size_t){ 0 }, &schema, &table, &rows,
					 &bytes) == 0,
	   "a cut block ends where its last whole entry does");
	ok(strstr(schema_snapshot_tables_query(), "TABLE_ROWS") != NULL, "the query asks for them");
	free(block);
	schema_snapshot_free(s);
}

int main(void)
{
	test_sizes();
	test_mariadb();
	test_mysql();
	test_empty_and_queries();
	return tap_done();
}
