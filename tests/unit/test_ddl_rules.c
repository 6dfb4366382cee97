/*
 * test_ddl_rules.c - the verdicts on schema changes for a master-master
 * ring: a table of statements, offline (the statement alone) and against a
 * live schema (tables as they are, what was written lately, drift), among
 * them the statements deploys and online schema change tools really run.
 */
#include "ringwatch/ddl_rules.h"
#include "ringwatch/schema_history.h"

#include "../tap.h"

#include <string.h>
#include <strings.h>

static const ddl_options maria = { true, 101106 };

struct case_ {
	const char *sql;
	int verdict;
	const char *part; /* a piece of one of the reasons */
};

/* The statement alone: what a pipeline knows before it asks the daemon. */
static const struct case_ offline[] = {
	/* expand: safe */
	{ "CREATE TABLE app.orders (id BIGINT PRIMARY KEY, total DECIMAL(10,2))", DDL_SAFE,
	  "a new table" },
	{ "CREATE TABLE IF NOT EXISTS app.audit (id INT AUTO_INCREMENT PRIMARY KEY, at DATETIME)",
	  DDL_SAFE, "a new table" },
	{ "CREATE TABLE app.orders_copy LIKE app.orders", DDL_SAFE, "a new table" },
	{ "ALTER TABLE app.t ADD COLUMN note VARCHAR(200)", DDL_SAFE, "at the end, NULL" },
	{ "ALTER TABLE app.t ADD COLUMN flags INT NOT NULL DEFAULT 0", DDL_SAFE, "with a DEFAULT" },
	{ "ALTER TABLE app.t ADD note TEXT NULL, ALGORITHM=INSTANT", DDL_SAFE, "INSTANT" },
	{ "ALTER TABLE app.t ADD COLUMN IF NOT EXISTS note TEXT", DDL_SAFE, "at the end" },
	{ "ALTER TABLE app.t ADD COLUMN total_x2 INT AS (total * 2) VIRTUAL", DDL_SAFE,
	  "at the end" },
	{ "ALTER TABLE app.t ADD INDEX ix_created (created_at)", DDL_SAFE,
	  "rows keep their shape" },
	{ "CREATE INDEX ix_a ON app.t (a)", DDL_SAFE, "an index" },
	{ "ALTER TABLE app.t ADD INDEX ix_b (b), ALGORITHM=INPLACE, LOCK=NONE", DDL_SAFE,
	  "an index" },
	{ "ALTER TABLE app.t ADD FULLTEXT INDEX ft (body)", DDL_SAFE, "an index" },
	{ "ALTER TABLE app.t DROP INDEX ix_old", DDL_SAFE, "DROP INDEX" },
	{ "DROP INDEX ix_old ON app.t", DDL_SAFE, "DROP INDEX" },
	{ "ALTER TABLE app.t ALTER COLUMN status SET DEFAULT 'new'", DDL_SAFE, "keeps its type" },
	{ "ALTER TABLE app.t ALTER COLUMN status DROP DEFAULT", DDL_SAFE, "keeps its type" },
	{ "ALTER TABLE app.t RENAME INDEX ix_a TO ix_b", DDL_SAFE, "rows keep their shape" },
	{ "ALTER TABLE app.t COMMENT = 'orders'", DDL_SAFE, "table options only" },
	{ "ALTER TABLE app.t AUTO_INCREMENT = 1000", DDL_SAFE, "table options only" },
	{ "ALTER TABLE app.t DROP FOREIGN KEY fk_user", DDL_SAFE, "rows keep their shape" },
	{ "CREATE DATABASE reports", DDL_SAFE, "a new database" },
	{ "CREATE TEMPORARY TABLE tmp (id INT)", DDL_SAFE, "temporary" },
	{ "CREATE VIEW app.v AS SELECT 1", DDL_SAFE, "changes no table" },
	{ "CREATE USER 'app'@'%' IDENTIFIED BY 'x'", DDL_SAFE, "changes no table" },
	/* caution */
	{ "ALTER TABLE app.t ADD UNIQUE KEY uq_email (email)", DDL_CAUTION, "1062" },
	{ "CREATE UNIQUE INDEX uq_sku ON app.products (sku)", DDL_CAUTION, "1062" },
	{ "ALTER TABLE app.t ADD PRIMARY KEY (id)", DDL_CAUTION, "PRIMARY KEY" },
	{ "ALTER TABLE app.t ADD CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id)",
	  DDL_CAUTION, "1452" },
	{ "ALTER TABLE app.t ADD FOREIGN KEY (user_id) REFERENCES users (id)", DDL_CAUTION,
	  "1452" },
	{ "ALTER TABLE app.t ADD CONSTRAINT chk CHECK (total >= 0)", DDL_CAUTION, "violate" },
	{ "ALTER TABLE app.t ENGINE = InnoDB", DDL_CAUTION, "rebuilds" },
	{ "ALTER TABLE app.t FORCE", DDL_CAUTION, "rebuilds" },
	{ "OPTIMIZE TABLE app.t", DDL_SAFE, "changes no table" },
	{ "ALTER TABLE app.t MODIFY status VARCHAR(40)", DDL_CAUTION, "live schema" },
	{ "ALTER TABLE app.t ADD COLUMN seq INT AUTO_INCREMENT UNIQUE", DDL_CAUTION,
	  "AUTO_INCREMENT" },
	{ "ALTER TABLE app.t PARTITION BY HASH (id) PARTITIONS 4", DDL_CAUTION, "partitioning" },
	{ "CREATE TABLE app.summary AS SELECT user_id, COUNT(*) n FROM app.t GROUP BY user_id",
	  DDL_CAUTION, "SELECT" },
	{ "ALTER TABLE app.t ADD PERIOD FOR valid (starts, ends)", DDL_CAUTION, "NOT NULL" },
	{ "CREATE OR REPLACE TABLE app.cache (k INT PRIMARY KEY)", DDL_CAUTION, "drops" },
	{ "ALTER TABLE app.t FROBNICATE everything", DDL_CAUTION, "could not read" },
	/* contract, rename, reorder: unsafe */
	{ "ALTER TABLE app.t ADD COLUMN tenant INT FIRST", DDL_UNSAFE, "1677" },
	{ "ALTER TABLE app.t ADD COLUMN middle_name VARCHAR(50) AFTER first_name", DDL_UNSAFE,
	  "1677" },
	{ "ALTER TABLE app.t ADD COLUMN region VARCHAR(10) NOT NULL", DDL_UNSAFE,
	  "without a DEFAULT" },
	{ "ALTER TABLE app.t DROP COLUMN legacy", DDL_UNSAFE, "DROP COLUMN legacy" },
	{ "ALTER TABLE app.t DROP legacy, DROP other", DDL_UNSAFE, "1677" },
	{ "ALTER TABLE app.t CHANGE name full_name VARCHAR(100)", DDL_UNSAFE, "renames" },
	{ "ALTER TABLE app.t RENAME COLUMN name TO full_name", DDL_UNSAFE, "old name" },
	{ "ALTER TABLE app.t MODIFY status VARCHAR(40) AFTER id", DDL_UNSAFE, "1677" },
	{ "ALTER TABLE app.t RENAME TO app.t_old", DDL_UNSAFE, "old name" },
	{ "RENAME TABLE app.t TO app.t_old", DDL_UNSAFE, "old name" },
	{ "RENAME TABLE app.t TO app._t_old, app._t_new TO app.t", DDL_UNSAFE, "old name" },
	{ "DROP TABLE app.t", DDL_UNSAFE, "every master" },
	{ "DROP TABLE IF EXISTS app.t_old", DDL_UNSAFE, "every master" },
	{ "TRUNCATE TABLE app.sessions", DDL_UNSAFE, "every row" },
	{ "DROP DATABASE app", DDL_UNSAFE, "every table" },
	{ "ALTER TABLE app.t DROP PRIMARY KEY", DDL_UNSAFE, "scans the table" },
	{ "ALTER TABLE app.t DROP PRIMARY KEY, ADD PRIMARY KEY (tenant, id)", DDL_UNSAFE,
	  "scans the table" },
	{ "ALTER TABLE app.t ADD SYSTEM VERSIONING", DDL_UNSAFE, "hidden" },
	{ "ALTER TABLE app.t CONVERT TO CHARACTER SET utf8mb4", DDL_UNSAFE, "retypes" },
	{ "ALTER TABLE app.t ADD COLUMN a INT, DROP COLUMN b", DDL_UNSAFE, "DROP COLUMN b" },
	/* what migrations and tools run */
	{ "ALTER TABLE `app`.`users` ADD `confirmed_at` datetime(6)", DDL_SAFE, "at the end" },
	{ "ALTER TABLE `app`.`users` ADD `role` varchar(255) DEFAULT 'member' NOT NULL", DDL_SAFE,
	  "with a DEFAULT" },
	{ "CREATE INDEX `index_users_on_email` ON `app`.`users` (`email`)", DDL_SAFE, "an index" },
	{ "ALTER TABLE `app`.`users` RENAME COLUMN `name` TO `display_name`", DDL_UNSAFE,
	  "old name" },
	{ "CREATE TABLE `app`.`_users_gho` LIKE `app`.`users`", DDL_SAFE, "a new table" },
	{ "RENAME TABLE `app`.`users` TO `app`.`_users_del`, `app`.`_users_gho` TO `app`.`users`",
	  DDL_UNSAFE, "old name" },
	{ "/*!40101 ALTER TABLE app.t ADD COLUMN z INT FIRST */", DDL_UNSAFE, "1677" },
};

static int judge(const char *sql, const ddl_context *ctx, ddl_judgement *j)
{
	ddl_stmt s;
	rw_error err;

	if (ddl_parse(sql, strlen(sql), &maria, &s, &err) != 0)
		return -1;
	ddl_judge(&s, ctx, j);
	ddl_stmt_free(&s);
	return 0;
}

static bool has_reason(const ddl_judgement *j, const char *part)
{
	for (size_t i = 0; i < j->n; i++)
		if (strstr(j->reasons[i].text, part) != NULL)
			return true;
	return false;
}

static void run(const struct case_ *cases, size_t n, const ddl_context *ctx, const char *how)
{
	for (size_t i = 0; i < n; i++) {
		ddl_judgement j = { 0 };
		bool good = judge(cases[i].sql, ctx, &j) == 0 && j.verdict == cases[i].verdict &&
			    has_reason(&j, cases[i].part);
		ok(good, "%s: %s: %.70s", how, ddl_verdict_name(cases[i].verdict), cases[i].sql);
		if (!good)
			for (size_t k = 0; k < j.n; k++)
				tap_diag("  got %s: %s", ddl_verdict_name(j.reasons[k].verdict),
					 j.reasons[k].text);
	}
}

/* ---- against the live schema ---------------------------------------------------- */

static int writes(void *arg, const char *schema, const char *table, uint64_t *rows,
		  unsigned *masters)
{
	(void)arg;
	if (strcmp(schema, "app") != 0)
		return -1;
	if (strcmp(table, "orders") == 0 || strcmp(table, "_sessions") == 0) {
		*rows = 120;
		*masters = 2;
	} else {
		*rows = 0;
		*masters = 0;
	}
	return 0;
}

static int drift(void *arg, const char *schema, const char *table, char *detail, size_t len)
{
	(void)arg;
	(void)schema;
	snprintf(detail, len, "%s", strcmp(table, "skewed") == 0 ? "column note only on east" : "");
	return 0;
}

/* orders is large, archive small, the rest not known. */
static int size(void *arg, const char *schema, const char *table, uint64_t *rows, uint64_t *bytes)
{
	(void)arg;
	if (strcmp(schema, "app") != 0)
		return -1;
	if (strcmp(table, "orders") == 0) {
		*rows = 5000000;
		*bytes = 3ULL << 30;
		return 0;
	}
	if (strcmp(table, "archive") == 0) {
		*rows = 10;
		*bytes = 16384;
		return 0;
	}
	return -1;
}

static const struct case_ with_live[] = {
	{ "ALTER TABLE orders ADD INDEX ix_status (status)", DDL_CAUTION,
	  "app.orders is large (about 5000000 rows, 3.0 GiB): building an index" },
	{ "CREATE INDEX ix_status ON orders (status)", DDL_CAUTION,
	  "is large (about 5000000 rows, 3.0 GiB): building the index takes long" },
	{ "ALTER TABLE archive ADD INDEX ix_id2 (id)", DDL_SAFE, "an index ix_id2" },
	{ "ALTER TABLE orders MODIFY qty BIGINT", DDL_UNSAFE, "is large" },
	{ "ALTER TABLE orders MODIFY status VARCHAR(20) NOT NULL", DDL_CAUTION, "keeps its type" },
	{ "ALTER TABLE orders MODIFY status VARCHAR(40) NOT NULL", DDL_UNSAFE,
	  "from varchar(20) to varchar(40)" },
	{ "ALTER TABLE orders MODIFY qty BIGINT", DDL_UNSAFE, "from int to bigint" },
	{ "ALTER TABLE orders MODIFY qty INT UNSIGNED", DDL_UNSAFE, "changes from" },
	{ "ALTER TABLE orders MODIFY note TEXT NOT NULL", DDL_CAUTION, "becomes NOT NULL" },
	{ "ALTER TABLE orders MODIFY nope INT", DDL_UNSAFE, "no column nope" },
	{ "ALTER TABLE orders DROP COLUMN nope", DDL_UNSAFE, "no column nope" },
	{ "ALTER TABLE orders ADD COLUMN qty INT", DDL_UNSAFE, "exists already" },
	{ "ALTER TABLE orders ADD COLUMN extra INT", DDL_CAUTION, "written on 2 masters" },
	{ "ALTER TABLE archive ADD COLUMN extra INT", DDL_SAFE, "at the end" },
	{ "ALTER TABLE missing ADD COLUMN extra INT", DDL_UNSAFE, "no table app.missing" },
	{ "ALTER TABLE skewed ADD COLUMN extra INT", DDL_UNSAFE, "differs between the masters" },
	{ "CREATE TABLE orders (id INT PRIMARY KEY)", DDL_UNSAFE, "exists already" },
	{ "CREATE TABLE IF NOT EXISTS orders (id INT PRIMARY KEY)", DDL_SAFE, "a new table" },
	{ "CREATE OR REPLACE TABLE orders (id INT PRIMARY KEY)", DDL_UNSAFE, "written lately" },
	{ "DROP TABLE orders", DDL_UNSAFE, "120 row changes, on 2 masters" },
	{ "DROP TABLE archive", DDL_CAUTION, "nothing wrote app.archive lately" },
	{ "DROP TABLE IF EXISTS gone", DDL_SAFE, "nothing happens" },
	{ "DROP TABLE gone", DDL_UNSAFE, "the statement fails" },
	{ "RENAME TABLE orders TO orders_old", DDL_UNSAFE, "not safe for a tool that swaps" },
	{ "ALTER TABLE orders DROP INDEX nope", DDL_UNSAFE, "no index nope" },
	{ "ALTER TABLE orders ADD INDEX ix_qty (qty)", DDL_UNSAFE, "has an index ix_qty already" },
	{ "CREATE INDEX ix_x ON missing (a)", DDL_UNSAFE, "no table app.missing" },
	{ "ALTER TABLE orders ADD COLUMN c INT AFTER nope", DDL_UNSAFE, "no column nope" },
	/* a copy-and-swap tool starting on a table both masters write */
	{ "CREATE TABLE `app`.`_orders_gho` LIKE `app`.`orders`", DDL_UNSAFE,
	  "app._orders_gho looks like gh-ost copying app.orders, which 2 masters wrote lately" },
	{ "CREATE TABLE `app`.`_orders_new` (id INT PRIMARY KEY, qty BIGINT)", DDL_UNSAFE,
	  "looks like pt-online-schema-change copying app.orders" },
	{ "CREATE TABLE __orders_new LIKE orders", DDL_UNSAFE, "stop replication (1146)" },
	{ "CREATE TABLE _archive_gho LIKE archive", DDL_SAFE, "a new table" },
	{ "CREATE TABLE _orders_gho LIKE archive", DDL_SAFE, "a new table" },
	{ "CREATE TABLE orders_new LIKE orders", DDL_SAFE, "a new table" },
	/* a table whose name begins with an underscore: gh-ost's __T_gho */
	{ "CREATE TABLE __sessions_gho LIKE _sessions", DDL_UNSAFE,
	  "app.__sessions_gho looks like gh-ost copying app._sessions" },
	{ "CREATE TABLE `app`.`__sessions_new` (id INT PRIMARY KEY)", DDL_UNSAFE,
	  "looks like pt-online-schema-change copying app._sessions" },
};

static void test_live(void)
{
	schema_db *db = schema_db_new();
	const char *script = "CREATE TABLE app.orders (id INT PRIMARY KEY, qty INT, status "
			     "VARCHAR(20) NOT NULL, note TEXT, KEY ix_qty (qty));"
			     "CREATE TABLE app.archive (id INT PRIMARY KEY);"
			     "CREATE TABLE app.skewed (id INT PRIMARY KEY);"
			     "CREATE TABLE app._sessions (id INT PRIMARY KEY);";
	ddl_context ctx = {
		.schema = db, .db = "app", .writes = writes, .drift = drift, .size = size
	};
	size_t unread = 0;
	rw_error err;

	ok(schema_apply_script(db, script, strlen(script), NULL, &maria, &unread, &err) == 0 &&
	       unread == 0,
	   "the live tables");
	run(with_live, sizeof(with_live) / sizeof(with_live[0]), &ctx, "live");
	schema_db_free(db);
}

static void test_shape(void)
{
	ddl_judgement j = { 0 };

	ok(judge("ALTER TABLE t ADD a INT, ADD b INT FIRST, ADD UNIQUE (a)", NULL, &j) == 0 &&
	       j.verdict == DDL_UNSAFE && j.n == 3,
	   "one reason a clause, the verdict the worst (%zu)", j.n);
	ok(j.reasons[0].verdict == DDL_SAFE && j.reasons[1].verdict == DDL_UNSAFE &&
	       j.reasons[2].verdict == DDL_CAUTION,
	   "each reason with its own verdict");
	is_str(ddl_verdict_name(DDL_CAUTION), "caution", "verdict names");
}

/* ---- how InnoDB runs them ----------------------------------------------------------- */

struct algorithm_case {
	const char *sql;
	int mariadb, mysql; /* enum ddl_algorithm */
};

enum {
	NONE = DDL_ALG_NONE,
	INSTANT = DDL_ALG_INSTANT,
	INPLACE = DDL_ALG_INPLACE
};
enum {
	LOCKED = DDL_ALG_INPLACE_LOCKED,
	COPY = DDL_ALG_COPY,
	UNKNOWN = DDL_ALG_UNKNOWN
};

static const struct algorithm_case algorithms[] = {
	{ "ALTER TABLE orders ADD COLUMN c INT", INSTANT, INSTANT },
	{ "ALTER TABLE orders ADD COLUMN c INT AFTER id", INSTANT, INSTANT },
	{ "ALTER TABLE orders ADD COLUMN c INT, ADD INDEX (c)", INPLACE, INPLACE },
	{ "ALTER TABLE orders ADD COLUMN n INT AUTO_INCREMENT UNIQUE", LOCKED, LOCKED },
	{ "ALTER TABLE orders ADD COLUMN g INT AS (qty * 2)", UNKNOWN, UNKNOWN },
	{ "ALTER TABLE orders DROP COLUMN note", INSTANT, INSTANT },
	{ "ALTER TABLE orders DROP COLUMN qty", INPLACE, INPLACE },
	{ "ALTER TABLE orders DROP COLUMN nope", UNKNOWN, UNKNOWN },
	{ "ALTER TABLE orders RENAME COLUMN note TO remark", INSTANT, INSTANT },
	{ "ALTER TABLE orders CHANGE note remark TEXT", INSTANT, INSTANT },
	{ "ALTER TABLE orders MODIFY status VARCHAR(20) NOT NULL AFTER id", INSTANT, INPLACE },
	{ "ALTER TABLE orders MODIFY status VARCHAR(40) NOT NULL", INSTANT, INPLACE },
	{ "ALTER TABLE orders MODIFY status VARCHAR(400) NOT NULL", INSTANT, COPY },
	{ "ALTER TABLE orders MODIFY status VARCHAR(10) NOT NULL", COPY, COPY },
	{ "ALTER TABLE orders MODIFY qty BIGINT", COPY, COPY },
	{ "ALTER TABLE orders MODIFY qty INT NOT NULL", INPLACE, INPLACE },
	{ "ALTER TABLE orders MODIFY nope INT", UNKNOWN, UNKNOWN },
	{ "ALTER TABLE orders ALTER COLUMN qty SET DEFAULT 1", INSTANT, INSTANT },
	{ "ALTER TABLE orders ADD INDEX ix_s (status)", INPLACE, INPLACE },
	{ "ALTER TABLE orders ADD FULLTEXT INDEX ft (note)", LOCKED, LOCKED },
	{ "ALTER TABLE orders DROP INDEX ix_qty", INPLACE, INPLACE },
	{ "DROP INDEX ix_qty ON orders", INPLACE, INPLACE },
	{ "CREATE INDEX ix_s ON orders (status)", INPLACE, INPLACE },
	{ "ALTER TABLE orders RENAME INDEX ix_qty TO ix_q", INSTANT, INPLACE },
	{ "ALTER TABLE orders DROP PRIMARY KEY", COPY, COPY },
	{ "ALTER TABLE orders DROP PRIMARY KEY, ADD PRIMARY KEY (id, qty)", INPLACE, INPLACE },
	{ "ALTER TABLE orders RENAME TO orders2", INSTANT, INSTANT },
	{ "RENAME TABLE orders TO orders2", INSTANT, INSTANT },
	{ "ALTER TABLE orders CONVERT TO CHARACTER SET utf8mb4", COPY, COPY },
	{ "ALTER TABLE orders FORCE", INPLACE, INPLACE },
	{ "ALTER TABLE orders ENGINE = InnoDB", UNKNOWN, UNKNOWN },
	{ "ALTER TABLE orders COMMENT = 'x', ALGORITHM=INSTANT", INSTANT, INSTANT },
	{ "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (qty) REFERENCES archive (id)", COPY,
	  COPY },
	{ "CREATE TABLE t9 (id INT PRIMARY KEY)", NONE, NONE },
	{ "DROP TABLE orders", NONE, NONE },
};

static void test_algorithms(void)
{
	schema_db *db = schema_db_new();
	const char *script = "CREATE TABLE app.orders (id INT PRIMARY KEY, qty INT, status "
			     "VARCHAR(20) NOT NULL, note TEXT, KEY ix_qty (qty));"
			     "CREATE TABLE app.archive (id INT PRIMARY KEY);";
	ddl_context ctx = { .schema = db, .db = "app", .size = size };
	size_t unread = 0;
	rw_error err;
	ddl_judgement j = { 0 };

	ok(schema_apply_script(db, script, strlen(script), NULL, &maria, &unread, &err) == 0,
	   "the live tables");
	for (size_t i = 0; i < sizeof(algorithms) / sizeof(algorithms[0]); i++) {
		const struct algorithm_case *c = &algorithms[i];
		bool good = judge(c->sql, &ctx, &j) == 0 &&
			    j.algorithm[DDL_FLAVOUR_MARIADB] == c->mariadb &&
			    j.algorithm[DDL_FLAVOUR_MYSQL] == c->mysql;
		ok(good, "%s / %s: %s", c->mariadb == NONE ? "-" : ddl_algorithm_name(c->mariadb),
		   c->mysql == NONE ? "-" : ddl_algorithm_name(c->mysql), c->sql);
		if (!good)
			tap_diag("  got %d / %d", j.algorithm[0], j.algorithm[1]);
	}
	/* a change that only touches metadata is quick on a large table too */
	ok(judge("ALTER TABLE orders ADD COLUMN c INT", &ctx, &j) == 0 &&
	       !has_reason(&j, "is large") && j.verdict == DDL_SAFE,
	   "an INSTANT change of a large table is no caution");
	ok(judge("ALTER TABLE orders ADD INDEX ix_s (status)", NULL, &j) == 0 &&
	       j.verdict == DDL_SAFE && has_reason(&j, "on a large table run it online"),
	   "offline, ADD INDEX is safe and says what to do on a large table");
	is_str(ddl_algorithm_name(DDL_ALG_INPLACE_LOCKED), "INPLACE, LOCK=SHARED", "names");
	ok(ddl_algorithm_name(DDL_ALG_NONE) == NULL, "none for CREATE and DROP");
	schema_db_free(db);
}

int main(void)
{
	size_t n = sizeof(offline) / sizeof(offline[0]);

	ok(n + sizeof(with_live) / sizeof(with_live[0]) >= 60, "at least 60 statements (%zu)",
	   n + sizeof(with_live) / sizeof(with_live[0]));
	run(offline, n, NULL, "offline");
	test_live();
	test_shape();
	test_algorithms();
	return tap_done();
}
