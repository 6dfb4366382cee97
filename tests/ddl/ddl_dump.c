/*
 * ddl_dump.c - apply a SQL script to a schema_db and print the tables it
 * leaves, in a stable text form the differential test (differential.sh)
 * compares with information_schema.
 *
 * usage: ddl_dump [-m] [-V VERSION] [-d DB] [-s] [FILE]   (no FILE: stdin)
 *   -m          MySQL's dialect (default MariaDB's)
 *   -V VERSION  the server's version, as 101119 (default 0: every executable comment)
 *   -d DB       the default database (USE statements change it, except with -s)
 *   -s          statement by statement: after each one, its kind and the
 *               state of every table it touched; without -s, every table
 *               once, after the whole script
 *
 * Output, one item a line (a newline in a name or a message is written \n, a
 * backslash \\); names are `quoted` with backquotes doubled:
 *   statement N @OFFSET KIND [ERROR]      (-s) N from 1, OFFSET of its text,
 *                                         KIND the enum ddl_kind's name: CREATE_SELECT
 *   table `s`.`t`                         a known shape, then its lines:
 *   versioned                             WITH SYSTEM VERSIONING
 *   column `a` null|notnull [invisible]
 *   primary `a`,`b`                       the PRIMARY index, if any
 *   unique `u` `a`,(expr)                 each UNIQUE index, in order
 *   key `a`,`b`                           the key rows are keyed by (schema.h)
 *   unknown `s`.`t` WHY                   the table exists, its shape is not known
 *   absent `s`.`t`                        (-s) the statement removed it
 *
 * Exit status: 0, 1 on a usage or read error, 2 when out of memory.
 */
#include "ringwatch/ddl.h"
#include "ringwatch/rw_buf.h"
#include "ringwatch/schema.h"
#include "ringwatch/schema_history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The tables one statement touched, in order, without repeats. */
struct touched {
	char **schema, **table;
	size_t n, cap;
	int nomem;
};

/* Text on one line: a newline is written \n, a backslash \\. */
static void put_text(FILE *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\n')
			fputs("\\n", out);
		else if (*s == '\\')
			fputs("\\\\", out);
		else
			putc(*s, out);
	}
}

/* `name`, backquotes in it doubled, on one line as put_text() writes it. */
static void put_name(FILE *out, const char *s)
{
	putc('`', out);
	for (; *s != '\0'; s++) {
		char one[2] = { *s, '\0' };
		if (*s == '`')
			putc('`', out);
		put_text(out, one);
	}
	putc('`', out);
}

static void put_parts(FILE *out, const schema_index *ix)
{
	for (uint32_t k = 0; k < ix->n; k++) {
		if (k > 0)
			putc(',', out);
		if (ix->cols[k] == NULL)
			fputs("(expr)", out);
		else
			put_name(out, ix->cols[k]);
	}
}

static void put_table(FILE *out, const char *schema, const char *table, const schema_table *t,
		      const char *why)
{
	fputs(t != NULL ? "table " : "unknown ", out);
	put_name(out, schema);
	putc('.', out);
	put_name(out, table);
	if (t == NULL) {
		putc(' ', out);
		put_text(out, why != NULL ? why : "");
		putc('\n', out);
		return;
	}
	putc('\n', out);
	if (t->versioned)
		fputs("versioned\n", out);
	for (uint32_t i = 0; i < t->ncols; i++) {
		fputs("column ", out);
		put_name(out, t->cols[i].name);
		fputs(t->cols[i].nullable ? " null" : " notnull", out);
		fputs(t->cols[i].invisible ? " invisible\n" : "\n", out);
	}
	for (uint32_t i = 0; i < t->nidx; i++) {
		const schema_index *ix = &t->idx[i];
		if (ix->kind == SCHEMA_INDEX_PRIMARY) {
			fputs("primary ", out);
		} else if (ix->kind == SCHEMA_INDEX_UNIQUE) {
			fputs("unique ", out);
			put_name(out, ix->name != NULL ? ix->name : "");
			putc(' ', out);
		} else {
			continue;
		}
		put_parts(out, ix);
		putc('\n', out);
	}
	fputs("key ", out);
	for (uint32_t k = 0; k < t->n_key; k++) {
		if (k > 0)
			putc(',', out);
		put_name(out, t->cols[t->key[k]].name);
	}
	putc('\n', out);
}

static void each_table(const char *schema, const char *table, const schema_table *t,
		       const char *why, void *arg)
{
	put_table(arg, schema, table, t, why);
}

static void touch(const char *schema, const char *table, void *arg)
{
	struct touched *w = arg;
	char **s, **t;

	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->schema[i], schema) == 0 && strcmp(w->table[i], table) == 0)
			return;
	if (w->n == w->cap) {
		size_t cap = w->cap > 0 ? w->cap * 2 : 8;
		s = realloc(w->schema, cap * sizeof(*s));
		if (s != NULL)
			w->schema = s;
		t = realloc(w->table, cap * sizeof(*t));
		if (t != NULL)
			w->table = t;
		if (s == NULL || t == NULL) {
			w->nomem = 1;
			return;
		}
		w->cap = cap;
	}
	w->schema[w->n] = strdup(schema);
	w->table[w->n] = strdup(table);
	if (w->schema[w->n] == NULL || w->table[w->n] == NULL) {
		free(w->schema[w->n]);
		free(w->table[w->n]);
		w->nomem = 1;
		return;
	}
	w->n++;
}

static void touched_clear(struct touched *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->schema[i]);
		free(w->table[i]);
	}
	w->n = 0;
}

/* enum ddl_kind by name (ddl_kind_name() gives CREATE TABLE ... SELECT as CREATE TABLE). */
static const char *kind_word(int kind)
{
	static const char *const words[] = {
		[DDL_NONE] = "NONE",
		[DDL_CREATE_TABLE] = "CREATE_TABLE",
		[DDL_CREATE_LIKE] = "CREATE_LIKE",
		[DDL_CREATE_SELECT] = "CREATE_SELECT",
		[DDL_ALTER_TABLE] = "ALTER_TABLE",
		[DDL_RENAME_TABLE] = "RENAME_TABLE",
		[DDL_DROP_TABLE] = "DROP_TABLE",
		[DDL_TRUNCATE] = "TRUNCATE",
		[DDL_CREATE_DATABASE] = "CREATE_DATABASE",
		[DDL_DROP_DATABASE] = "DROP_DATABASE",
		[DDL_CREATE_INDEX] = "CREATE_INDEX",
		[DDL_DROP_INDEX] = "DROP_INDEX",
		[DDL_UNPARSED] = "UNPARSED",
	};

	if (kind < 0 || (size_t)kind >= sizeof(words) / sizeof(words[0]) || words[kind] == NULL)
		return "?";
	return words[kind];
}

/* One statement: its line, then the state of every table it touched.  0 or -1 (no memory). */
static int one_statement(schema_db *sdb, const char *sql, size_t len, size_t n, size_t off,
			 const char *db, const ddl_options *opt, struct touched *w)
{
	ddl_stmt s;
	rw_error err;
	int rc;

	if (ddl_parse(sql, len, opt, &s, &err) != 0)
		return -1;
	printf("statement %zu @%zu %s", n, off, kind_word(s.kind));
	if (s.kind == DDL_UNPARSED) {
		putchar(' ');
		put_text(stdout, s.error);
	}
	putchar('\n');
	rc = schema_apply(sdb, &s, db, touch, w, &err);
	ddl_stmt_free(&s);
	if (rc != 0 || w->nomem)
		return -1;
	for (size_t i = 0; i < w->n; i++) {
		const schema_table *t;
		const char *why;
		if (schema_db_get(sdb, w->schema[i], w->table[i], &t, &why) == SCHEMA_ABSENT) {
			fputs("absent ", stdout);
			put_name(stdout, w->schema[i]);
			putchar('.');
			put_name(stdout, w->table[i]);
			putchar('\n');
		} else {
			put_table(stdout, w->schema[i], w->table[i], t, why);
		}
	}
	touched_clear(w);
	return 0;
}

static int by_statement(schema_db *sdb, const char *text, size_t len, const char *db,
			const ddl_options *opt)
{
	struct touched w = { NULL, NULL, 0, 0, 0 };
	const char *stmt;
	size_t stmt_len, n = 0;
	int rc = 0;

	ddl_script sc;

	ddl_script_init(&sc, text, len);
	while (rc == 0 && ddl_script_next(&sc, &stmt, &stmt_len) == 1)
		rc = one_statement(sdb, stmt, stmt_len, ++n, (size_t)(stmt - text), db, opt, &w);
	touched_clear(&w);
	free(w.schema);
	free(w.table);
	return rc;
}

static char *read_all(FILE *fp, size_t *len)
{
	rw_buf b = RW_BUF_INIT;
	char chunk[65536];
	size_t got;

	while ((got = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		rw_buf_put(&b, chunk, got);
	if (ferror(fp) || rw_buf_failed(&b)) {
		rw_buf_free(&b);
		return NULL;
	}
	*len = b.len;
	return b.p != NULL ? b.p : strdup("");
}

static int usage(void)
{
	fprintf(stderr, "usage: ddl_dump [-m] [-V VERSION] [-d DB] [-s] [FILE]\n");
	return 1;
}

int main(int argc, char **argv)
{
	ddl_options opt = { true, 0 };
	const char *db = NULL;
	int steps = 0, c, rc;
	size_t len, unreadable;
	schema_db *sdb;
	rw_error err;
	FILE *fp = stdin;
	char *text;

	while ((c = getopt(argc, argv, "mV:d:s")) != -1) {
		switch (c) {
		case 'm':
			opt.mariadb = false;
			break;
		case 'V':
			opt.version = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'd':
			db = optarg;
			break;
		case 's':
			steps = 1;
			break;
		default:
			return usage();
		}
	}
	if (argc - optind > 1)
		return usage();
	if (optind < argc && (fp = fopen(argv[optind], "rb")) == NULL) {
		perror(argv[optind]);
		return 1;
	}
	text = read_all(fp, &len);
	if (fp != stdin)
		fclose(fp);
	if (text == NULL) {
		fprintf(stderr, "ddl_dump: cannot read the script\n");
		return 1;
	}
	sdb = schema_db_new();
	if (sdb == NULL) {
		free(text);
		return 2;
	}
	if (steps) {
		rc = by_statement(sdb, text, len, db, &opt);
	} else {
		rc = schema_apply_script(sdb, text, len, db, &opt, &unreadable, &err);
		if (rc == 0)
			schema_db_each(sdb, each_table, stdout);
	}
	schema_db_free(sdb);
	free(text);
	if (rc != 0) {
		fprintf(stderr, "ddl_dump: out of memory\n");
		return 2;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
