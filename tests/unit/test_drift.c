/*
 * test_drift.c - schema drift between masters: shapes that differ, tables on
 * one master only, DDL not replicated in time, and what is not compared.
 */
#include "../../daemon/drift.h"

#include "ringwatch/schema_history.h"

#include "../tap.h"
#include "long_ddl.h"

#include <string.h>

static const char *const names[] = { "west", "east", "north" };

static void run(schema_db *db, const char *sql)
{
	rw_error err;

	if (schema_apply_sql(db, sql, strlen(sql), "app", NULL, NULL, NULL, NULL, &err) != 0)
		printf("# %s\n", err.text);
}

/* The findings as /v1/status shows them, "schema.table: detail" joined by " | ". */
static void findings(struct drift *d, schema_db **dbs, bool current, double now, char *out,
		     size_t len)
{
	struct drift_entry e[8];
	size_t n = drift_find(d, (const schema_db *const *)dbs, current, 30, now, e, 8), o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && i < 8 && o < len; i++) {
		char shown[600];
		drift_entry_show(&e[i], shown, sizeof(shown));
		o += (size_t)snprintf(out + o, len - o, "%s%s.%s: %s", i ? " | " : "", e[i].schema,
				      e[i].table, shown);
	}
}

/* A DDL's finding: its words carry no age, and stay; shown, it has its age. */
static void test_ddl_age(struct drift *d, schema_db **dbs)
{
	const char *words =
	    "DDL not replicated to north: ALTER TABLE t ADD COLUMN c int (1-1-42 from west)";
	struct drift_entry e[2], later[2];
	char shown[600];

	ok(drift_find(d, (const schema_db *const *)dbs, true, 30, 131, e, 2) == 1 &&
	       drift_find(d, (const schema_db *const *)dbs, true, 30, 500, later, 2) == 1,
	   "one finding, 31 s and 400 s after the DDL");
	is_str(e[0].detail, words, "its detail has no age");
	is_str(later[0].detail, words, "and the same words 369 s later");
	drift_entry_show(&later[0], shown, sizeof(shown));
	is_str(shown,
	       "DDL not replicated to north: ALTER TABLE t ADD COLUMN c int (1-1-42 from west, "
	       "400 s ago)",
	       "shown with its age");
}

/*
 * Long findings (long_ddl.h): shown, each is what it was before, cut at
 * 511 bytes; its words, which the alert quotes, are the same 31 s and
 * 400 s after the DDL.
 */
static void test_ddl_long(void)
{
	struct long_ddl l;
	const struct drift_entry *e = l.at31, *later = l.at400;

	ok(long_ddl_init(&l), "two long findings, 31 s and 400 s after the DDL");
	for (int k = 0; k < 2; k++) {
		char shown[600], want[512];

		is_str(later[k].detail, e[k].detail, "DDL %d: the same words 369 s later", k + 1);
		drift_entry_show(&e[k], shown, sizeof(shown));
		ok(long_ddl_old_text(&l, k, 31, want) > 511, "DDL %d: longer than 511 bytes",
		   k + 1);
		is_str(shown, want, "DDL %d: shown as before, cut at 511 bytes, 31 s later", k + 1);
		drift_entry_show(&later[k], shown, sizeof(shown));
		ok(long_ddl_old_text(&l, k, 400, want) > 511, "DDL %d: longer still", k + 1);
		is_str(shown, want, "DDL %d: and 400 s later", k + 1);
	}
	long_ddl_free(&l);
}

static void test_shapes(void)
{
	schema_db *dbs[2] = { schema_db_new(), schema_db_new() };
	struct drift *d = drift_new(2, names);
	char got[2048];

	for (int m = 0; m < 2; m++) {
		run(dbs[m], "CREATE TABLE t (id int PRIMARY KEY, b varchar(20), KEY ix_b (b))");
		run(dbs[m], "CREATE TABLE same (id int PRIMARY KEY)");
	}
	findings(d, dbs, true, 0, got, sizeof(got));
	is_str(got, "", "equal shapes: no drift");
	run(dbs[1], "ALTER TABLE t ADD COLUMN note int, MODIFY b varchar(40), DROP INDEX ix_b");
	run(dbs[0], "CREATE TABLE only_west (x int)");
	findings(d, dbs, true, 0, got, sizeof(got));
	ok(strstr(got, "app.t: ") != NULL && strstr(got, "column note only on east") != NULL,
	   "a column on one master (%s)", got);
	ok(strstr(got, "b is varchar(20) on west, varchar(40) on east") != NULL, "a type");
	ok(strstr(got, "index ix_b") != NULL, "an index");
	ok(strstr(got, "app.only_west: table missing on east") != NULL, "a table on one master");
	ok(strstr(got, "app.same") == NULL, "nothing on the equal table");
	findings(d, dbs, false, 0, got, sizeof(got));
	is_str(got, "", "a stream not current: shapes are not compared");
	run(dbs[1], "ALTER TABLE t ADD COLUMN z FROB");
	findings(d, dbs, true, 0, got, sizeof(got));
	ok(strstr(got, "app.t:") == NULL, "a table unknown on one master is not compared (%s)",
	   got);
	drift_free(d);
	schema_db_free(dbs[0]);
	schema_db_free(dbs[1]);
}

static void test_ddl(void)
{
	schema_db *dbs[3] = { schema_db_new(), schema_db_new(), schema_db_new() };
	struct drift *d = drift_new(3, names);
	const char *alter = "ALTER TABLE t ADD COLUMN c int";
	char got[2048];

	for (int m = 0; m < 3; m++)
		run(dbs[m], "CREATE TABLE t (id int PRIMARY KEY)");
	/* west writes the DDL; it reaches east, not north */
	run(dbs[0], alter);
	drift_ddl(d, 0, "1-1-42", alter, strlen(alter), 100);
	drift_ddl_table(d, 0, "app", "t");
	run(dbs[1], alter);
	drift_ddl(d, 1, "1-1-42", alter, strlen(alter), 101);
	findings(d, dbs, true, 110, got, sizeof(got));
	is_str(got, "", "in flight: not drift, and its table is not compared");
	findings(d, dbs, false, 131, got, sizeof(got));
	is_str(got, "", "a stream behind: nothing reported");
	findings(d, dbs, true, 131, got, sizeof(got));
	is_str(got,
	       "app.t: DDL not replicated to north: ALTER TABLE t ADD COLUMN c int (1-1-42 from "
	       "west, 31 s ago)",
	       "past the timeout: named, with the masters that lack it");
	test_ddl_age(d, dbs);
	run(dbs[2], alter);
	drift_ddl(d, 2, "1-1-42", alter, strlen(alter), 140);
	findings(d, dbs, true, 141, got, sizeof(got));
	is_str(got, "", "shown everywhere: settled, and the shapes agree");
	/* a DDL that never reaches north, and north's shape stays behind */
	run(dbs[0], "ALTER TABLE t ADD COLUMN d int");
	drift_ddl(d, 0, "1-1-43", "ALTER TABLE t ADD COLUMN d int", 30, 200);
	drift_ddl_table(d, 0, "app", "t");
	drift_ddl(d, 1, "1-1-43", "ALTER TABLE t ADD COLUMN d int", 30, 201);
	run(dbs[1], "ALTER TABLE t ADD COLUMN d int");
	findings(d, dbs, true, 300, got, sizeof(got));
	ok(strstr(got, "DDL not replicated to north") != NULL && strstr(got, "only on") == NULL,
	   "the DDL, not a column difference, is the finding (%s)", got);
	drift_free(d);
	for (int m = 0; m < 3; m++)
		schema_db_free(dbs[m]);
}

int main(void)
{
	test_shapes();
	test_ddl();
	test_ddl_long();
	return tap_done();
}
