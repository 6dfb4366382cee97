/*
 * fuzz_ddl.c - the DDL parser and the schema history on arbitrary bytes.
 * The input is one statement for ddl_parse() and a script for
 * schema_apply_script(), read in MariaDB's dialect and in MySQL's.  Neither
 * may crash, leak or read past the input, a statement it cannot read must
 * say why, and every shape either produces must survive its own
 * CREATE TABLE: schema_table_sql() parsed back gives a CREATE TABLE of the
 * same fingerprint (abort() when not: the history would store one shape and
 * read back another).  The DDL rules judge every statement, offline and
 * against the script's tables: a verdict and a reason, always.
 */
#include "ringwatch/ddl.h"
#include "ringwatch/ddl_rules.h"
#include "ringwatch/rw_buf.h"
#include "ringwatch/schema.h"
#include "ringwatch/schema_history.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const ddl_options dialects[] = {
	{ true, 101106 }, /* MariaDB 10.11 */
	{ false, 80036 }, /* MySQL 8.0 */
};

/* Does b have a's fingerprint, and no difference from it?  (false when out of memory) */
static bool same_shape(const schema_table *a, const schema_table *b, const char *sql)
{
	rw_buf fa = RW_BUF_INIT, fb = RW_BUF_INIT, diff = RW_BUF_INIT;
	bool same = true;

	schema_table_fingerprint(a, &fa);
	schema_table_fingerprint(b, &fb);
	schema_table_diff(a, "before", b, "after", &diff);
	if (!rw_buf_failed(&fa) && !rw_buf_failed(&fb) && !rw_buf_failed(&diff) &&
	    (fa.len != fb.len || memcmp(fa.p, fb.p, fa.len) != 0 || diff.len != 0)) {
		fprintf(stderr, "round trip: %s\nfingerprint before:\n%s\nafter:\n%s\ndiff: %s\n",
			sql, fa.p, fb.p, diff.len ? diff.p : "(none)");
		same = false;
	}
	rw_buf_free(&fa);
	rw_buf_free(&fb);
	rw_buf_free(&diff);
	return same;
}

/* t's CREATE TABLE must read back as t. */
static void round_trip(const schema_table *t, const ddl_options *opt)
{
	rw_buf sql = RW_BUF_INIT;
	ddl_stmt back;
	rw_error err;

	schema_table_sql(t, &sql);
	if (rw_buf_failed(&sql) || ddl_parse(sql.p, sql.len, opt, &back, &err) != 0) {
		rw_buf_free(&sql);
		return; /* out of memory */
	}
	if (back.kind != DDL_CREATE_TABLE || back.def == NULL) {
		fprintf(stderr, "round trip: %s\nreads back as %s: %s\n", sql.p,
			ddl_kind_name(back.kind), back.error);
		abort();
	} else if (!same_shape(t, back.def, sql.p)) {
		abort();
	}
	ddl_stmt_free(&back);
	rw_buf_free(&sql);
}

static void each_table(const char *schema, const char *table, const schema_table *t,
		       const char *why, void *arg)
{
	(void)schema;
	(void)table;
	if (t != NULL)
		round_trip(t, arg);
	else if (why == NULL || why[0] == '\0')
		abort(); /* an unknown table must say why */
}

/* The rules judge whatever the parser gave, offline and against a history
 * holding the statement's table (from the script pass): a verdict, each
 * reason said. */
static schema_db *judged_db;

static void judge(const ddl_stmt *s)
{
	ddl_context ctx = { .schema = judged_db, .db = "db" };
	ddl_judgement j;

	for (int pass = 0; pass < 2; pass++) {
		ddl_judge(s, pass == 0 ? NULL : &ctx, &j);
		if (j.verdict < DDL_SAFE || j.verdict > DDL_UNSAFE || j.n == 0)
			abort(); /* every statement gets a verdict and a reason */
		for (size_t i = 0; i < j.n; i++) {
			if (j.reasons[i].text[0] == '\0' || j.reasons[i].verdict > j.verdict)
				abort();
		}
	}
}

static void fuzz_statement(const char *sql, size_t len, const ddl_options *opt)
{
	ddl_stmt s;
	rw_error err;

	if (ddl_parse(sql, len, opt, &s, &err) != 0)
		return;
	if (s.kind == DDL_UNPARSED && s.error[0] == '\0')
		abort(); /* every failure must say why */
	if (s.kind == DDL_CREATE_TABLE && s.def == NULL)
		abort();
	if (s.kind == DDL_CREATE_TABLE)
		round_trip(s.def, opt);
	judge(&s);
	ddl_stmt_free(&s);
}

static void fuzz_script(const char *text, size_t len, const ddl_options *opt)
{
	schema_db *sdb = schema_db_new();
	size_t unreadable;
	rw_error err;

	if (sdb == NULL)
		return;
	if (schema_apply_script(sdb, text, len, "db", opt, &unreadable, &err) == 0)
		schema_db_each(sdb, each_table, (void *)(uintptr_t)opt);
	schema_db_free(judged_db);
	judged_db = sdb; /* the next statement pass judges against it */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy: the parser must not need a terminating NUL */
	char *text = malloc(size > 0 ? size : 1);

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	for (size_t i = 0; i < sizeof(dialects) / sizeof(dialects[0]); i++) {
		fuzz_script(text, size, &dialects[i]);
		fuzz_statement(text, size, &dialects[i]);
	}
	schema_db_free(judged_db);
	judged_db = NULL;
	free(text);
	return 0;
}
