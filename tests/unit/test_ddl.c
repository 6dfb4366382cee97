/*
 * test_ddl.c - the DDL parser: tokens, executable comments, every statement
 * it reads, and what it refuses to guess.
 */
#include "ringwatch/ddl.h"

#include "../tap.h"

#include <stdlib.h>
#include <string.h>

static const ddl_options maria = { true, 101106 };
static const ddl_options mysql = { false, 80036 };

/* "a int!, b varchar(20)" (! = NOT NULL) | key (a) | unique u(b) | index ... */
static void shape(const schema_table *t, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (uint32_t i = 0; i < t->ncols && o < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%s %s%s%s%s", i ? ", " : "",
				      t->cols[i].name, t->cols[i].type,
				      t->cols[i].nullable ? "" : "!",
				      t->cols[i].def != NULL ? "=" : "",
				      t->cols[i].def != NULL ? t->cols[i].def : "");
	if (o < len)
		o += (size_t)snprintf(out + o, len - o, " | key (");
	for (uint32_t k = 0; k < t->n_key && o < len; k++)
		o += (size_t)snprintf(out + o, len - o, "%s%s", k ? "," : "",
				      t->cols[t->key[k]].name);
	if (o < len)
		o += (size_t)snprintf(out + o, len - o, ")");
	for (uint32_t i = 0; i < t->nidx && o < len; i++) {
		const schema_index *ix = &t->idx[i];
		if (ix->kind == SCHEMA_INDEX_PRIMARY)
			continue;
		o += (size_t)snprintf(out + o, len - o, " | %s %s(",
				      ix->kind == SCHEMA_INDEX_UNIQUE ? "unique" : "index",
				      ix->name);
		for (uint32_t k = 0; k < ix->n && o < len; k++)
			o += (size_t)snprintf(out + o, len - o, "%s%s", k ? "," : "",
					      ix->cols[k] != NULL ? ix->cols[k] : "(expr)");
		if (o < len)
			o += (size_t)snprintf(out + o, len - o, ")");
	}
}

static int parse(const char *sql, const ddl_options *opt, ddl_stmt *s)
{
	rw_error err;

	if (ddl_parse(sql, strlen(sql), opt, s, &err) != 0) {
		printf("# %s\n", err.text);
		return -1;
	}
	if (s->kind == DDL_UNPARSED)
		printf("# unparsed: %s\n", s->error);
	return 0;
}

/* A CREATE TABLE's shape as shape() writes it, or the kind's name. */
static void created(const char *sql, const ddl_options *opt, const char *want)
{
	ddl_stmt s;
	char got[2048];

	if (parse(sql, opt, &s) != 0) {
		ok(0, "%s", sql);
		return;
	}
	if (s.kind == DDL_CREATE_TABLE && s.def != NULL)
		shape(s.def, got, sizeof(got));
	else
		snprintf(got, sizeof(got), "%s",
			 s.kind == DDL_UNPARSED ? "UNPARSED" : ddl_kind_name(s.kind));
	is_str(got, want, "%.70s", sql);
	ddl_stmt_free(&s);
}

static void test_create(void)
{
	created("CREATE TABLE app.t(id INT PRIMARY KEY, v VARCHAR(20))", &maria,
		"id int!, v varchar(20) | key (id)");
	created("create table `t` (`id` int(11) NOT NULL AUTO_INCREMENT, `v` varchar(20) "
		"CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT 'x''y', PRIMARY KEY (`id`), "
		"UNIQUE KEY `uv` (`v`), KEY `kv` (`v`(5))) ENGINE=InnoDB DEFAULT CHARSET=latin1",
		&maria, "id int!, v varchar(20)='x''y' | key (id) | unique uv(v) | index kv(v)");
	created("CREATE TABLE t (a bigint unsigned NOT NULL, b int, UNIQUE (a), INDEX (b), "
		"INDEX (b, a))",
		&maria,
		"a bigint unsigned!, b int | key (a) | unique a(a) | index b(b) | index b_2(b,a)");
	created("CREATE TABLE t (a int, b int, PRIMARY KEY (a, b) USING BTREE COMMENT 'pk')",
		&maria, "a int!, b int! | key (a,b)");
	created("CREATE TABLE t (a int NULL UNIQUE, b text)", &maria,
		"a int, b text | key () | unique a(a)");
	created("CREATE TABLE t (id serial, d decimal, e dec(5), f numeric(10, 2), g float(30), "
		"h double precision, i bool, j char, k national char varying(3), l long)",
		&maria,
		"id bigint unsigned!, d decimal(10,0), e decimal(5,0), f decimal(10,2), g double, "
		"h double, i tinyint, j char(1), k varchar(3), l mediumtext | key (id) | unique "
		"id(id)");
	created("CREATE TABLE t (a TIMESTAMP(0) NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE "
		"CURRENT_TIMESTAMP, b datetime(6) DEFAULT now(6), c time, d year(4), e json, "
		"f enum('A','b') DEFAULT 'A', g bit)",
		&maria,
		"a timestamp!=CURRENT_TIMESTAMP, b datetime(6)=now(6), c time, d year, e longtext, "
		"f enum('A','b')='A', g bit(1) | key ()");
	created("CREATE TABLE t (e json)", &mysql, "e json | key ()");
	created("CREATE TABLE t (a int, b int AS (a + 1) VIRTUAL, c int GENERATED ALWAYS AS "
		"(a * 2) STORED NOT NULL, d int DEFAULT (a - 1), CHECK (a > 0), CONSTRAINT ck "
		"CHECK (b < 9), PRIMARY KEY (a))",
		&mysql, "a int!, b int, c int!, d int=(a - 1) | key (a)");
	created("CREATE TABLE IF NOT EXISTS `we``ird`.\"t 2\" (`a b` int, KEY ((a + 1)))", &mysql,
		"a b int | key () | index expr((expr))");
	created("CREATE TABLE c (id int PRIMARY KEY, p int, CONSTRAINT fk FOREIGN KEY (p) "
		"REFERENCES par(id) ON DELETE CASCADE ON UPDATE SET NULL)",
		&mysql, "id int!, p int | key (id) | index fk(p)");
	created("CREATE TABLE c (id int, p int, KEY kp (p, id), FOREIGN KEY (p) REFERENCES "
		"par(id))",
		&mysql, "id int, p int | key () | index kp(p,id)");
	created("CREATE TABLE t (a int) PARTITION BY HASH (a) PARTITIONS 4", &maria,
		"a int | key ()");
	created("CREATE TABLE t (a int NOT NULL, b varchar(10) NOT NULL, UNIQUE KEY ub (b), "
		"UNIQUE KEY ua (a))",
		&maria, "a int!, b varchar(10)! | key (b) | unique ub(b) | unique ua(a)");
	created("CREATE TABLE t (x int) WITH SYSTEM VERSIONING", &maria,
		"x int, row_start timestamp(6)!, row_end timestamp(6)! | key ()");
	created("CREATE TABLE t (x int PRIMARY KEY) WITH SYSTEM VERSIONING", &maria,
		"x int!, row_start timestamp(6)!, row_end timestamp(6)! | key (x,row_end)");
	created("CREATE TABLE t (a int COMPRESSED, b varchar(10) COMPRESSED=zlib, c inet6, "
		"d uuid)",
		&maria, "a int, b varchar(10), c inet6, d uuid | key ()");
	created("CREATE TABLE t (period int, b int)", &maria,
		"period int, b int | key ()"); /* PERIOD is not reserved */
	created("CREATE TEMPORARY TABLE t (a int)", &maria, "a int | key ()");
	created("CREATE TABLE t LIKE s", &maria, "CREATE TABLE ... LIKE");
	created("CREATE TABLE t (LIKE s)", &maria, "CREATE TABLE ... LIKE");
	created("CREATE TABLE t SELECT * FROM s", &maria, "CREATE TABLE");
	created("CREATE TABLE t AS SELECT 1 AS a", &maria, "CREATE TABLE");
	created("CREATE TABLE t (a int) ENGINE=InnoDB SELECT b AS a FROM s", &maria,
		"CREATE TABLE");
	created("CREATE TABLE t (a int) IGNORE SELECT 1", &maria, "CREATE TABLE");
	created("CREATE TABLE t (a int) START TRANSACTION", &mysql, "a int | key ()");
	created("CREATE TABLE t (a int, b int, PRIMARY KEY pk USING BTREE (a))", &maria,
		"a int!, b int | key (a)");
	created("CREATE TABLE t (id int, s date, e date, period for p(s,e), unique(id, p without "
		"overlaps))",
		&maria, "id int, s date!, e date! | key () | unique id(id,(expr))");
	created("CREATE TABLE t (a INT AUTO_INCREMENT, b int, KEY (a))", &maria,
		"a int!, b int | key () | index a(a)");
	created("CREATE TABLE t (a mariadb_schema.TIMESTAMP)", &maria, "a timestamp | key ()");
	created("CREATE TABLE t (a varchar(100) default @@sql_mode, b int default @x)", &maria,
		"a varchar(100)=@@sql_mode, b int=@x | key ()");
	created("CREATE TABLE t (c INT AUTO_INCREMENT NULL UNIQUE)", &maria,
		"c int | key () | unique c(c)");
	created("create table t1 (f1 int) partition by hash (f1) as select 1", &maria,
		"CREATE TABLE");
	created("CREATE TABLE t (a varchar( 20 /* n */), b decimal( 10 , 2 ), c enum('x', 'y'), "
		"d char(3) CHARSET '')",
		&maria, "a varchar(20), b decimal(10,2), c enum('x','y'), d char(3) | key ()");
	created("CREATE TABLE t (a strangetype)", &maria, "UNPARSED");
	created("CREATE TABLE t (a int,", &maria, "UNPARSED");
	created("CREATE TABLE t", &maria, "UNPARSED");
	created("CREATE TABLE t (a int, UNIQUE KEY u (nope))", &maria, "UNPARSED");
}

static void test_comments(void)
{
	created("/* a */ CREATE -- x\n TABLE # y\n t (a int /*!50100 NOT NULL */, b int "
		"/*!99999 NOT NULL */, c int /*M!100100 NOT NULL */, d int /*M!999999 NOT NULL*/)",
		&maria, "a int!, b int!, c int!, d int | key ()");
	created("CREATE TABLE t (b int /*!99999 NOT NULL */, c int /*M!100100 NOT NULL */)", &mysql,
		"b int, c int | key ()");
	created("/*!40101 CREATE TABLE t (a int) */", &maria, "a int | key ()");
	created("CREATE TABLE t (a varchar(5) DEFAULT 'it''s -- not # a /* comment', b int)",
		&maria, "a varchar(5)='it''s -- not # a /* comment', b int | key ()");
	created("CREATE TABLE t (a varchar(5) DEFAULT 'back\\'slash', b int)", &maria,
		"a varchar(5)='back\\'slash', b int | key ()");
	created("SET STATEMENT max_statement_time=10, sql_mode='' FOR CREATE TABLE t (a int)",
		&maria, "a int | key ()");
}

/* The alters of an ALTER TABLE as "op:name>to@at" words. */
static void altered(const char *sql, const char *want)
{
	static const char *const ops[] = { "opt",    "add",     "drop",  "modify", "change",
					   "rename", "default", "vis",   "addix",  "dropix",
					   "droppk", "dropc",   "renix", "renat",  "+ver",
					   "-ver",   "conv",    "period" };
	ddl_stmt s;
	char got[1024];
	size_t o = 0;

	if (parse(sql, &maria, &s) != 0) {
		ok(0, "%s", sql);
		return;
	}
	got[0] = '\0';
	if (s.kind != DDL_ALTER_TABLE)
		snprintf(got, sizeof(got), "%s",
			 s.kind == DDL_UNPARSED ? "UNPARSED" : ddl_kind_name(s.kind));
	for (uint32_t i = 0; s.kind == DDL_ALTER_TABLE && i < s.n_alters && o < sizeof(got); i++) {
		const ddl_alter *a = &s.alters[i];
		const char *name = a->name != NULL              ? a->name
				   : a->col.name != NULL        ? a->col.name
				   : a->index.name != NULL      ? a->index.name
				   : a->rename_to.table != NULL ? a->rename_to.table
								: "";
		o += (size_t)snprintf(got + o, sizeof(got) - o, "%s%s:%s", i ? " " : "", ops[a->op],
				      name);
		if (a->to != NULL)
			o += (size_t)snprintf(got + o, sizeof(got) - o, ">%s", a->to);
		if (a->col.type != NULL)
			o += (size_t)snprintf(got + o, sizeof(got) - o, "(%s)", a->col.type);
		if (a->at == DDL_AT_FIRST)
			o += (size_t)snprintf(got + o, sizeof(got) - o, "@first");
		if (a->at == DDL_AT_AFTER)
			o += (size_t)snprintf(got + o, sizeof(got) - o, "@%s", a->after);
	}
	is_str(got, want, "%.70s", sql);
	ddl_stmt_free(&s);
}

static void test_alter(void)
{
	altered("ALTER TABLE app.t ADD COLUMN z INT NOT NULL DEFAULT 5 FIRST", "add:z(int)@first");
	altered("ALTER TABLE t ADD z INT AFTER a, ADD COLUMN IF NOT EXISTS y text, ADD (p int, q "
		"int)",
		"add:z(int)@a add:y(text) add:p(int) add:q(int)");
	altered("ALTER TABLE t DROP COLUMN a, DROP b, DROP IF EXISTS c CASCADE",
		"drop:a drop:b drop:c");
	altered("ALTER TABLE t MODIFY a bigint unsigned NOT NULL, CHANGE COLUMN b c varchar(40) "
		"AFTER a",
		"modify:a(bigint unsigned) change:b(varchar(40))@a");
	altered("ALTER TABLE t RENAME COLUMN a TO b, RENAME INDEX i TO j, RENAME TO t2",
		"rename:a>b renix:i>j renat:t2");
	altered("ALTER TABLE t RENAME AS s.t2", "renat:t2");
	altered("ALTER TABLE t ADD PRIMARY KEY (a), DROP PRIMARY KEY, ADD UNIQUE u (b), ADD "
		"CONSTRAINT c UNIQUE (c), DROP INDEX i, DROP KEY IF EXISTS j, ADD INDEX (d)",
		"addix:PRIMARY droppk: addix:u addix:c dropix:i dropix:j addix:");
	altered("ALTER TABLE t ALTER COLUMN a SET DEFAULT 3, ALTER b DROP DEFAULT, ALTER c SET "
		"INVISIBLE",
		"default:a default:b vis:c");
	altered("ALTER TABLE t ENGINE=InnoDB ROW_FORMAT=DYNAMIC, ALGORITHM=INPLACE, LOCK=NONE",
		"opt:ENGINE opt:ALGORITHM opt:LOCK");
	altered("ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
		"conv:>utf8mb4");
	altered("ALTER TABLE t ADD SYSTEM VERSIONING", "+ver:");
	altered("ALTER TABLE t FORCE", "opt:FORCE");
	altered("ALTER TABLE t", "");
	altered("ALTER ONLINE IGNORE TABLE IF EXISTS t WAIT 5 ADD c int", "add:c(int)");
	altered("ALTER TABLE t ADD FOREIGN KEY (a) REFERENCES p(id), DROP FOREIGN KEY fk_1",
		"opt:ADD FOREIGN opt:DROP FOREIGN");
	altered("ALTER TABLE t ADD period int, DROP period, ADD PERIOD IF NOT EXISTS FOR p(s, e), "
		"DROP PERIOD FOR p",
		"add:period(int) drop:period period:s>e opt:DROP PERIOD");
	altered("ALTER TABLE t PARTITION BY HASH(a) PARTITIONS 3", "opt:PARTITION");
	altered("ALTER TABLE t COALESCE PARTITION 2", "opt:COALESCE");
	altered("ALTER TABLE t ADD PRIMARY KEY IF NOT EXISTS pk (a), ADD KEY IF NOT EXISTS k (b)",
		"addix:PRIMARY addix:k");
	altered("ALTER TABLE t add column c int, order by a, b DESC", "add:c(int) opt:ORDER");
	altered("ALTER TABLE t WITH SYSTEM VERSIONING", "+ver:");
	altered("ALTER TABLE t WITHOUT SYSTEM VERSIONING, WITH VALIDATION", "-ver: opt:WITH");
	altered("ALTER TABLE t DROP CONSTRAINT PRIMARY KEY", "droppk:");
	altered("ALTER TABLE t add column b int remove partitioning", "add:b(int)");
	altered("ALTER TABLE t engine=myisam, add column c int partition by key(c) partitions 2",
		"opt:ENGINE add:c(int)");
	altered("ALTER TABLE t FROBNICATE", "UNPARSED");
	altered("ALTER TABLE t ADD COLUMN", "UNPARSED");
	altered("ALTER TABLE t ADD a int b int", "UNPARSED");
	altered("ALTER TABLE t /*!50100 ADD COLUMN w int */", "add:w(int)");
}

static void test_others(void)
{
	ddl_stmt s;

	ok(parse("RENAME TABLE a TO b, s.c TO s.a", &maria, &s) == 0 &&
	       s.kind == DDL_RENAME_TABLE && s.n_names == 4 && strcmp(s.names[1].table, "b") == 0 &&
	       strcmp(s.names[2].schema, "s") == 0 && strcmp(s.names[3].table, "a") == 0,
	   "RENAME TABLE pairs");
	ddl_stmt_free(&s);
	ok(parse("DROP TABLE IF EXISTS a, `b`.`c` /* generated by server */", &maria, &s) == 0 &&
	       s.kind == DDL_DROP_TABLE && s.if_exists && s.n_names == 2 &&
	       strcmp(s.names[1].schema, "b") == 0,
	   "DROP TABLE list");
	ddl_stmt_free(&s);
	ok(parse("RENAME TABLE IF EXISTS a WAIT 3 TO b, c NOWAIT TO d", &maria, &s) == 0 &&
	       s.kind == DDL_RENAME_TABLE && s.n_names == 4 && strcmp(s.names[0].table, "a") == 0 &&
	       strcmp(s.names[3].table, "d") == 0,
	   "RENAME TABLE IF EXISTS, WAIT and NOWAIT");
	ddl_stmt_free(&s);
	ok(parse("CREATE SEQUENCE IF NOT EXISTS app.s START WITH 10 INCREMENT BY 0 NOCYCLE", &maria,
		 &s) == 0 &&
	       s.kind == DDL_CREATE_TABLE && s.def != NULL && s.def->sequence &&
	       s.def->ncols == 8 && strcmp(s.def->cols[0].name, "next_not_cached_value") == 0 &&
	       strcmp(s.def->schema, "app") == 0 && strcmp(s.def->name, "s") == 0,
	   "CREATE SEQUENCE: a table of the sequence's columns");
	ddl_stmt_free(&s);
	ok(parse("DROP SEQUENCE IF EXISTS s, t", &maria, &s) == 0 && s.kind == DDL_DROP_TABLE &&
	       s.n_names == 2,
	   "DROP SEQUENCE");
	ddl_stmt_free(&s);
	ok(parse("TRUNCATE t", &maria, &s) == 0 && s.kind == DDL_TRUNCATE &&
	       strcmp(s.table.table, "t") == 0,
	   "TRUNCATE");
	ddl_stmt_free(&s);
	ok(parse("CREATE DATABASE IF NOT EXISTS app CHARACTER SET utf8mb4", &maria, &s) == 0 &&
	       s.kind == DDL_CREATE_DATABASE && strcmp(s.database, "app") == 0,
	   "CREATE DATABASE");
	ddl_stmt_free(&s);
	ok(parse("DROP SCHEMA app", &maria, &s) == 0 && s.kind == DDL_DROP_DATABASE &&
	       strcmp(s.database, "app") == 0,
	   "DROP SCHEMA");
	ddl_stmt_free(&s);
	ok(parse("CREATE UNIQUE INDEX ux ON app.t (a, b(3)) USING BTREE", &maria, &s) == 0 &&
	       s.kind == DDL_CREATE_INDEX && strcmp(s.table.schema, "app") == 0 &&
	       s.index.kind == SCHEMA_INDEX_UNIQUE && s.index.n == 2 && s.index.prefix[1] == 3,
	   "CREATE UNIQUE INDEX");
	ddl_stmt_free(&s);
	ok(parse("DROP INDEX `PRIMARY` ON t ALGORITHM=INPLACE", &maria, &s) == 0 &&
	       s.kind == DDL_DROP_INDEX && s.n_alters == 1 &&
	       s.alters[0].op == DDL_ALTER_DROP_PRIMARY,
	   "DROP INDEX PRIMARY");
	ddl_stmt_free(&s);
	static const char *const none[] = {
		"INSERT INTO t VALUES (1)",
		"CREATE VIEW v AS SELECT 1",
		"GRANT ALL ON *.* TO u",
		"CREATE DEFINER=`root`@`%` TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET @a=1",
		"DROP VIEW v",
		"RENAME USER a TO b",
		"ALTER DATABASE app CHARACTER SET utf8",
		"BEGIN",
		"FLUSH TABLES",
		"",
		"  -- only a comment",
	};
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		ok(parse(none[i], &maria, &s) == 0 && s.kind == DDL_NONE, "not a table shape: %s",
		   none[i]);
		ddl_stmt_free(&s);
	}
	ok(parse("ALTER TABLE app.t ADD COLUMN z FROB", &maria, &s) == 0 &&
	       s.kind == DDL_UNPARSED && s.n_names == 1 && strcmp(s.names[0].schema, "app") == 0 &&
	       strcmp(s.names[0].table, "t") == 0 && strstr(s.error, "FROB") != NULL,
	   "unparsed: the table is named, and where it stopped (%s)", s.error);
	ddl_stmt_free(&s);
}

static void test_script(void)
{
	const char *text = "-- dump\n/*!40101 SET NAMES utf8 */;\nCREATE TABLE a (x int, y "
			   "varchar(3) DEFAULT ';');\n\nDELIMITER ;;\nCREATE TRIGGER tr BEFORE "
			   "INSERT ON a FOR EACH ROW BEGIN SET @x = 1; END ;;\nDELIMITER ;\nCREATE "
			   "TABLE `b;` (z int) ;";
	const char *stmt;
	size_t len, n = 0;
	char got[4][128];

	ddl_script sc;

	ddl_script_init(&sc, text, strlen(text));
	while (ddl_script_next(&sc, &stmt, &len) == 1 && n < 4) {
		snprintf(got[n], sizeof(got[n]), "%.*s", (int)len, stmt);
		n++;
	}
	is_int(n, 4, "four statements");
	is_str(got[0], "/*!40101 SET NAMES utf8 */", "an executable comment statement");
	is_str(got[1], "CREATE TABLE a (x int, y varchar(3) DEFAULT ';')", "a ';' in a string");
	ok(strncmp(got[2], "CREATE TRIGGER", 14) == 0 && strstr(got[2], "END") != NULL,
	   "DELIMITER ;; keeps the trigger whole");
	is_str(got[3], "CREATE TABLE `b;` (z int) ", "a ';' in a name");
}

/* Scripts that once made the reader loop for ever: every call must move on. */
static void test_script_ends(void)
{
	static const struct {
		const char *text;
		size_t len;
		int statements;
	} cases[] = {
		{ ";", 0, 0 },
		{ ";;\n;create table t1 (a int);\n;\n", 0, 1 },
		{ "DELIMITER \0\nA", 13, 1 }, /* a NUL delimiter is no delimiter */
		{ "DELIMITER \n;x;", 0, 1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ddl_script sc;
		const char *stmt;
		size_t len;
		int n = 0, calls = 0;
		ddl_script_init(&sc, cases[i].text,
				cases[i].len > 0 ? cases[i].len : strlen(cases[i].text));
		while (calls++ < 100 && ddl_script_next(&sc, &stmt, &len) == 1)
			n++;
		ok(calls < 100 && n == cases[i].statements, "script %zu ends, %d statements", i, n);
	}
}

/* A long ENUM keeps every member, and reads back the same. */
static void test_long_enum(void)
{
	char sql[4096];
	size_t o = (size_t)snprintf(sql, sizeof(sql), "CREATE TABLE t (c SET(");
	ddl_stmt s, back;
	rw_buf out = RW_BUF_INIT;

	for (int i = 0; i < 100; i++)
		o += (size_t)snprintf(sql + o, sizeof(sql) - o, "%s'v%03d'", i ? "," : "", i);
	snprintf(sql + o, sizeof(sql) - o, "))");
	ok(parse(sql, &maria, &s) == 0 && s.kind == DDL_CREATE_TABLE &&
	       strstr(s.def->cols[0].type, "'v099')") != NULL,
	   "100 members kept");
	if (s.kind == DDL_CREATE_TABLE) {
		schema_table_sql(s.def, &out);
		ok(parse(out.p, &maria, &back) == 0 && back.kind == DDL_CREATE_TABLE &&
		       strcmp(back.def->cols[0].type, s.def->cols[0].type) == 0,
		   "and read back the same");
		ddl_stmt_free(&back);
	}
	rw_buf_free(&out);
	ddl_stmt_free(&s);
}

int main(void)
{
	test_create();
	test_comments();
	test_alter();
	test_others();
	test_script();
	test_script_ends();
	test_long_enum();
	return tap_done();
}
