/*
 * test_schema_history.c - DDL statements carried into a master's shapes:
 * every statement the history applies, and each way a table becomes unknown.
 */
#include "ringwatch/rw_buf.h"
#include "ringwatch/schema_history.h"

#include "../tap.h"

#include <stdlib.h>
#include <string.h>

static const ddl_options maria = { true, 101106 };

static void run(schema_db *db, const char *dflt, const char *sql)
{
	rw_error err;
	int kind;

	if (schema_apply_sql(db, sql, strlen(sql), dflt, &maria, NULL, NULL, &kind, &err) != 0)
		printf("# %s: %s\n", sql, err.text);
}

/* "a,b,c key(a)" of a known table, "unknown: why" or "absent". */
static void state(const schema_db *db, const char *schema, const char *table, char *out, size_t len)
{
	const schema_table *t;
	const char *why;
	size_t o = 0;

	switch (schema_db_get(db, schema, table, &t, &why)) {
	case SCHEMA_KNOWN:
		for (uint32_t i = 0; i < t->ncols; i++)
			o += (size_t)snprintf(out + o, len - o, "%s%s", i ? "," : "",
					      t->cols[i].name);
		o += (size_t)snprintf(out + o, len - o, " key(");
		for (uint32_t k = 0; k < t->n_key; k++)
			o += (size_t)snprintf(out + o, len - o, "%s%u", k ? "," : "", t->key[k]);
		snprintf(out + o, len - o, ") u%u", t->n_unique);
		break;
	case SCHEMA_UNKNOWN:
		snprintf(out, len, "unknown: %s", why);
		break;
	default:
		snprintf(out, len, "absent");
	}
}

#define expect(db, schema, table, want)                                                            \
	do {                                                                                       \
		char got_[1024];                                                                   \
		state(db, schema, table, got_, sizeof(got_));                                      \
		is_str(got_, want, "%s.%s", schema, table);                                        \
	} while (0)

static void expect_unknown(const schema_db *db, const char *schema, const char *table,
			   const char *part)
{
	char got[1024];

	state(db, schema, table, got, sizeof(got));
	ok(strncmp(got, "unknown: ", 9) == 0 && strstr(got, part) != NULL, "%s.%s unknown (%s)",
	   schema, table, got);
}

static void test_create_alter(void)
{
	schema_db *db = schema_db_new();

	run(db, "app", "CREATE TABLE t(id INT PRIMARY KEY, v VARCHAR(20))");
	expect(db, "app", "t", "id,v key(0) u0");
	run(db, "app", "ALTER TABLE app.t ADD COLUMN z INT NOT NULL DEFAULT 5 FIRST");
	expect(db, "app", "t", "z,id,v key(1) u0");
	run(db, "other", "ALTER TABLE app.t ADD w int AFTER id, ADD e int");
	expect(db, "app", "t", "z,id,w,v,e key(1) u0");
	run(db, "app", "ALTER TABLE t DROP COLUMN z, CHANGE COLUMN v vv varchar(40) FIRST");
	expect(db, "app", "t", "vv,id,w,e key(1) u0");
	run(db, "app", "ALTER TABLE t MODIFY e bigint AFTER vv, RENAME COLUMN w TO ww");
	expect(db, "app", "t", "vv,e,id,ww key(2) u0");
	run(db, "app",
	    "ALTER TABLE t DROP PRIMARY KEY, ADD PRIMARY KEY (ww, id), ADD UNIQUE u (vv)");
	expect(db, "app", "t", "vv,e,id,ww key(3,2) u1");
	run(db, "app", "CREATE UNIQUE INDEX ue ON t (e)");
	expect(db, "app", "t", "vv,e,id,ww key(3,2) u2");
	run(db, "app", "CREATE OR REPLACE INDEX ue ON t (e, id)");
	expect(db, "app", "t", "vv,e,id,ww key(3,2) u1");
	run(db, "app", "CREATE OR REPLACE UNIQUE INDEX ue ON t (e)");
	expect(db, "app", "t", "vv,e,id,ww key(3,2) u2");
	run(db, "app", "DROP INDEX u ON t");
	expect(db, "app", "t", "vv,e,id,ww key(3,2) u1");
	run(db, "app", "ALTER TABLE t DROP PRIMARY KEY");
	expect(db, "app", "t", "vv,e,id,ww key() u1");
	run(db, "app", "ALTER TABLE t MODIFY e bigint NOT NULL");
	expect(db, "app", "t", "vv,e,id,ww key(1) u0");
	run(db, "app", "ALTER TABLE t DROP COLUMN e");
	expect(db, "app", "t", "vv,id,ww key() u0");
	run(db, "app", "ALTER TABLE t ADD COLUMN IF NOT EXISTS id int, DROP COLUMN IF EXISTS nope");
	expect(db, "app", "t", "vv,id,ww key() u0");
	run(db, "app", "ALTER TABLE t ADD COLUMN k int PRIMARY KEY FIRST, ENGINE=InnoDB");
	expect(db, "app", "t", "k,vv,id,ww key(0) u0");
	/* a partition made a table, and a table made a partition */
	run(db, "app",
	    "CREATE TABLE pt (id int PRIMARY KEY, v int) PARTITION BY RANGE (id) "
	    "(PARTITION p0 VALUES LESS THAN (10), PARTITION p1 VALUES LESS THAN (20))");
	run(db, "app", "ALTER TABLE pt CONVERT PARTITION p0 TO TABLE pt0");
	expect(db, "app", "pt0", "id,v key(0) u0");
	run(db, "app", "ALTER TABLE pt CONVERT TABLE pt0 TO PARTITION p0 VALUES LESS THAN (10)");
	expect(db, "app", "pt0", "absent");
	expect(db, "app", "pt", "id,v key(0) u0");
	/* a sequence, and its journal text read back */
	run(db, "app", "CREATE SEQUENCE sq INCREMENT BY 0");
	expect(db, "app", "sq",
	       "next_not_cached_value,minimum_value,maximum_value,start_value,increment,cache_"
	       "size,cycle_option,cycle_count key() u0");
	{
		const schema_table *sq;
		const char *why;
		rw_buf sql = RW_BUF_INIT;
		schema_db *again = schema_db_new();
		ok(schema_db_get(db, "app", "sq", &sq, &why) == SCHEMA_KNOWN && sq->sequence,
		   "a sequence");
		schema_table_sql(sq, &sql);
		is_str(sql.p, "CREATE SEQUENCE `app`.`sq`", "written as a sequence");
		run(again, NULL, sql.p);
		ok(schema_db_get(again, "app", "sq", &sq, &why) == SCHEMA_KNOWN && sq->sequence &&
		       sq->ncols == 8,
		   "and read back as one");
		rw_buf_free(&sql);
		schema_db_free(again);
	}
	run(db, "app", "DROP SEQUENCE sq");
	expect(db, "app", "sq", "absent");
	/* a period's columns become NOT NULL: a UNIQUE key on them may become the key */
	run(db, "app", "CREATE TABLE pp (s date, e date, UNIQUE KEY us (s))");
	expect(db, "app", "pp", "s,e key() u1");
	run(db, "app", "ALTER TABLE pp ADD PERIOD IF NOT EXISTS FOR p (s, e)");
	expect(db, "app", "pp", "s,e key(0) u0");
	run(db, "app", "ALTER TABLE pp ADD PERIOD FOR q (s, nope)");
	expect_unknown(db, "app", "pp", "no column nope for the period");
	schema_db_free(db);
}

static void test_unknown(void)
{
	schema_db *db = schema_db_new();

	run(db, "app", "CREATE TABLE t (id int PRIMARY KEY)");
	run(db, "app", "ALTER TABLE t DROP COLUMN nope");
	expect_unknown(db, "app", "t", "no column nope");
	run(db, "app", "ALTER TABLE t ADD COLUMN x int");
	expect_unknown(db, "app", "t", "no column nope"); /* stays unknown: no guess */
	run(db, "app", "CREATE TABLE u (id int PRIMARY KEY)");
	run(db, "app", "ALTER TABLE u ADD COLUMN z FROB");
	expect_unknown(db, "app", "u", "could not read");
	run(db, "app", "ALTER TABLE never ADD COLUMN z int");
	expect_unknown(db, "app", "never", "not known");
	run(db, "app", "CREATE TABLE s SELECT 1 AS a");
	expect_unknown(db, "app", "s", "SELECT");
	run(db, "app", "CREATE TABLE l LIKE nothing");
	expect_unknown(db, "app", "l", "LIKE app.nothing");
	run(db, "app", "CREATE TABLE v (id int PRIMARY KEY)");
	run(db, "app", "ALTER TABLE v ADD SYSTEM VERSIONING");
	expect_unknown(db, "app", "v", "versioning");
	run(db, "app", "CREATE TABLE w (id int PRIMARY KEY)");
	run(db, "app", "ALTER TABLE w ADD id int");
	expect_unknown(db, "app", "w", "exists already");
	/* a statement with no table name the parser could find: the whole database */
	run(db, "db2", "CREATE TABLE a (x int)");
	run(db, "db2", "CREATE TABLE b (x int)");
	run(db, "db2", "ALTER TABLE");
	expect_unknown(db, "db2", "a", "could not read");
	expect_unknown(db, "db2", "b", "could not read");
	expect(db, "app", "v",
	       "unknown: ALTER TABLE does not fit the known shape: system "
	       "versioning changed (hidden columns)");
	/* a known shape again only from a new statement that says it all */
	run(db, "app", "CREATE OR REPLACE TABLE t (id int PRIMARY KEY, x int)");
	expect(db, "app", "t", "id,x key(0) u0");
	schema_db_free(db);
}

/* MariaDB's long UNIQUE keys: hidden hash columns last, as the table map has them (a
 * prefix key is no long UNIQUE, and no key to compare inserts by). */
static void test_long_unique(void)
{
	schema_db *db = schema_db_new();

	run(db, "app",
	    "CREATE TABLE h (id int PRIMARY KEY, b blob, c text, UNIQUE KEY ub (b), "
	    "UNIQUE KEY uc (c), UNIQUE KEY up (c(10)))");
	expect(db, "app", "h", "id,b,c,DB_ROW_HASH_1,DB_ROW_HASH_2 key(0) u2");
	run(db, "app", "ALTER TABLE h ADD COLUMN d int");
	expect(db, "app", "h", "id,b,c,d,DB_ROW_HASH_1,DB_ROW_HASH_2 key(0) u2");
	run(db, "app", "ALTER TABLE h DROP INDEX ub");
	expect(db, "app", "h", "id,b,c,d,DB_ROW_HASH_1 key(0) u1");
	run(db, "app", "ALTER TABLE h ADD COLUMN e int FIRST, DROP COLUMN c");
	expect(db, "app", "h", "e,id,b,d key(1) u0");
	/* USING HASH, as information_schema says of a key too long for InnoDB */
	run(db, "app",
	    "CREATE TABLE v (id int PRIMARY KEY, b varchar(2000), c int, "
	    "UNIQUE KEY ub (b) USING HASH, UNIQUE KEY uc USING BTREE (c))");
	expect(db, "app", "v", "id,b,c,DB_ROW_HASH_1 key(0) u2");
	run(db, "app", "CREATE UNIQUE INDEX ud USING HASH ON v (c)");
	expect(db, "app", "v", "id,b,c,DB_ROW_HASH_1,DB_ROW_HASH_2 key(0) u3");
	run(db, "app", "CREATE UNIQUE INDEX ue ON v (id) USING HASH ALGORITHM=COPY");
	expect(db, "app", "v", "id,b,c,DB_ROW_HASH_1,DB_ROW_HASH_2,DB_ROW_HASH_3 key(0) u4");
	run(db, "app", "ALTER TABLE v DROP INDEX ub, DROP INDEX ud, DROP INDEX ue");
	expect(db, "app", "v", "id,b,c key(0) u1");
	schema_db_free(db);
}

static void test_names(void)
{
	schema_db *db = schema_db_new();

	run(db, "app", "CREATE TABLE a (id int PRIMARY KEY, x int)");
	run(db, "app", "CREATE TABLE IF NOT EXISTS a (other int)");
	expect(db, "app", "a", "id,x key(0) u0");
	run(db, "app", "CREATE TABLE b LIKE a");
	expect(db, "app", "b", "id,x key(0) u0");
	/* gh-ost's swap */
	run(db, "app", "CREATE TABLE _a_gho LIKE a");
	run(db, "app", "ALTER TABLE _a_gho ADD COLUMN y int");
	run(db, "app", "RENAME TABLE a TO _a_del, _a_gho TO a");
	expect(db, "app", "a", "id,x,y key(0) u0");
	expect(db, "app", "_a_del", "id,x key(0) u0");
	expect(db, "app", "_a_gho", "absent");
	run(db, "app", "DROP TABLE IF EXISTS _a_del, b");
	expect(db, "app", "_a_del", "absent");
	expect(db, "app", "b", "absent");
	run(db, "app", "ALTER TABLE a RENAME TO arch.a2");
	expect(db, "arch", "a2", "id,x,y key(0) u0");
	expect(db, "app", "a", "absent");
	/* a new table under an old name, with another key */
	run(db, "app", "CREATE TABLE a (k varchar(10) NOT NULL, UNIQUE KEY (k))");
	expect(db, "app", "a", "k key(0) u0");
	run(db, "app", "RENAME TABLE ghost TO haunted");
	expect_unknown(db, "app", "haunted", "renamed from app.ghost");
	run(db, "app", "TRUNCATE a");
	expect(db, "app", "a", "k key(0) u0");
	run(db, "x", "DROP DATABASE app");
	expect(db, "app", "a", "absent");
	expect(db, "arch", "a2", "id,x,y key(0) u0");
	run(db, "x", "CREATE TEMPORARY TABLE tmp (a int)");
	expect(db, "x", "tmp", "absent");
	schema_db_free(db);
}

/* Every shape written by schema_table_sql() reads back to the same fingerprint. */
struct round {
	schema_db *copy;
	int mismatches, tables;
};

static void round_trip(const char *schema, const char *table, const schema_table *t,
		       const char *why, void *arg)
{
	struct round *r = arg;
	rw_buf sql = RW_BUF_INIT, a = RW_BUF_INIT, b = RW_BUF_INIT;
	const schema_table *back;
	const char *w;
	rw_error err;

	(void)why;
	if (t == NULL)
		return;
	schema_table_sql(t, &sql);
	r->tables++;
	if (schema_apply_sql(r->copy, sql.p, sql.len, NULL, &maria, NULL, NULL, NULL, &err) != 0 ||
	    schema_db_get(r->copy, schema, table, &back, &w) != SCHEMA_KNOWN) {
		r->mismatches++;
		printf("# %s does not read back\n", sql.p);
	} else {
		schema_table_fingerprint(t, &a);
		schema_table_fingerprint(back, &b);
		if (a.len != b.len || memcmp(a.p, b.p, a.len) != 0) {
			r->mismatches++;
			printf("# %s\n# reads back as another shape:\n# %.*s\n", sql.p, (int)b.len,
			       b.p);
		}
	}
	rw_buf_free(&sql);
	rw_buf_free(&a);
	rw_buf_free(&b);
}

static void test_round_trip(void)
{
	static const char script[] =
	    "CREATE TABLE a (id int unsigned NOT NULL AUTO_INCREMENT, v varchar(20) CHARACTER SET "
	    "utf8mb4 DEFAULT 'it''s', d decimal(10,2) DEFAULT 0.5, e enum('x','y') NOT NULL, j "
	    "json, g int AS (id + 1) VIRTUAL, ts timestamp(3) NULL DEFAULT NULL, PRIMARY KEY "
	    "(id), UNIQUE KEY uv (v(5), e), KEY kd (d));\n"
	    "CREATE TABLE b (x int NOT NULL, y blob, UNIQUE (x), UNIQUE (y)) ENGINE=Aria;\n"
	    "CREATE TABLE c (z int PRIMARY KEY) WITH SYSTEM VERSIONING;\n"
	    "CREATE TABLE `we``ird` (`a b` bit(3), `c` set('p','q') DEFAULT 'p', d year, "
	    "e inet6 INVISIBLE);\n";
	struct round r = { schema_db_new(), 0, 0 };
	schema_db *db = schema_db_new();
	size_t unread;
	rw_error err;

	ok(schema_apply_script(db, script, strlen(script), "app", &maria, &unread, &err) == 0 &&
	       unread == 0,
	   "the script applies");
	is_int(schema_db_count(db), 4, "four tables");
	schema_db_each(db, round_trip, &r);
	is_int(r.tables, 4, "four shapes written");
	is_int(r.mismatches, 0, "each reads back with the same fingerprint");
	schema_db_free(db);
	schema_db_free(r.copy);
}

static void test_script(void)
{
	static const char dump[] = "-- MariaDB dump\n/*!40101 SET NAMES utf8mb4 */;\n"
				   "USE `shop`;\nCREATE TABLE `o` (`id` int(11) NOT NULL, "
				   "PRIMARY KEY (`id`)) ENGINE=InnoDB;\n"
				   "CREATE TABLE `bad` (`x` nosuchtype);\n"
				   "CREATE DATABASE /*!32312 IF NOT EXISTS*/ `crm`;\nUSE crm;\n"
				   "CREATE TABLE c (k int PRIMARY KEY);\n";
	schema_db *db = schema_db_new();
	size_t unread;
	rw_error err;

	ok(schema_apply_script(db, dump, strlen(dump), NULL, &maria, &unread, &err) == 0,
	   "a dump applies");
	is_int(unread, 1, "one table statement could not be read");
	expect(db, "shop", "o", "id key(0) u0");
	expect(db, "crm", "c", "k key(0) u0");
	expect_unknown(db, "shop", "bad", "nosuchtype");
	schema_db_free(db);
}

static void add_name(const char *schema, const char *table, void *arg)
{
	char *out = arg;
	size_t o = strlen(out);

	snprintf(out + o, 256 - o, "%s%s.%s", o ? " " : "", schema, table);
}

/* The tables a statement would touch, without applying it; "*" when it may touch any. */
static void expect_tables(const char *dflt, const char *sql, const char *want)
{
	char got[256] = "";
	ddl_stmt s;
	rw_error err;
	int any;

	if (ddl_parse(sql, strlen(sql), &maria, &s, &err) != 0) {
		ok(0, "%s: %s", sql, err.text);
		return;
	}
	any = schema_stmt_tables(&s, dflt, add_name, got);
	if (any)
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s*", got[0] ? " " : "");
	is_str(got, want, "tables of: %s", sql);
	ddl_stmt_free(&s);
}

static void test_stmt_tables(void)
{
	expect_tables("app", "CREATE TABLE t (id int PRIMARY KEY)", "app.t");
	expect_tables("app", "CREATE TEMPORARY TABLE t (id int)", "");
	expect_tables("app", "ALTER TABLE db2.t ADD x int, RENAME TO u", "db2.t app.u");
	expect_tables("app", "ALTER TABLE t RENAME TO db3.u", "app.t db3.u");
	expect_tables("app", "ALTER TABLE t CONVERT PARTITION p TO TABLE u", "app.t app.u");
	expect_tables("app", "RENAME TABLE a TO b, db2.c TO d", "app.a app.b db2.c app.d");
	expect_tables("app", "DROP TABLE IF EXISTS a, db2.b", "app.a db2.b");
	expect_tables("app", "CREATE INDEX ix ON t (a)", "app.t");
	expect_tables("app", "DROP DATABASE app", "*");
	expect_tables("app", "ALTER TABLE t ADD COLUMN z FROB", "app.t");
	expect_tables("app", "ALTER TABLE", "*");
	expect_tables(NULL, "CREATE TABLE t (id int)", "*");
	expect_tables("app", "TRUNCATE TABLE t", "");
	expect_tables("app", "CREATE DATABASE d2", "");
}

int main(void)
{
	test_create_alter();
	test_unknown();
	test_names();
	test_long_unique();
	test_round_trip();
	test_script();
	test_stmt_tables();
	return tap_done();
}
