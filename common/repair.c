/*
 * repair.c - the SQL that makes every master hold the same row again after
 * a conflict (see repair.h).
 *
 * The row to keep is the after image of the write made on the preferred
 * master, or else of the later of the two writes.  Every master that holds
 * something else gets its own statements, run there with sql_log_bin=0:
 * they are not replicated, so they cannot race with anything and start no
 * new conflict; each master is set to the same row directly.  Then the
 * conflict is marked resolved.
 */
#include "repair.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool before_image(json_t *c)
{
	const char *kind = json_string_value(json_object_get(c, "kind"));

	return kind != NULL && strcmp(kind, "before-image") == 0;
}

/* Found by verification: the rows differ and no write made them. */
static bool drift(json_t *c)
{
	const char *kind = json_string_value(json_object_get(c, "kind"));

	return kind != NULL && strcmp(kind, "drift") == 0;
}

/* A backquoted identifier. */
static void put_ident(FILE *out, const char *name)
{
	fputc('`', out);
	for (; *name != '\0'; name++) {
		if (*name == '`')
			fputc('`', out);
		fputc(*name, out);
	}
	fputc('`', out);
}

/* A JSON value as an SQL literal. */
static void put_literal(FILE *out, json_t *v)
{
	const char *s;

	if (json_is_null(v) || v == NULL) {
		fputs("NULL", out);
	} else if (json_is_true(v) || json_is_false(v)) {
		fputs(json_is_true(v) ? "1" : "0", out);
	} else if (json_is_integer(v)) {
		fprintf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (json_is_real(v)) {
		fprintf(out, "%.17g", json_real_value(v));
	} else if (json_is_object(v) && json_is_string(json_object_get(v, "base64"))) {
		fprintf(out, "FROM_BASE64('%s')", json_string_value(json_object_get(v, "base64")));
	} else if (json_is_string(v)) {
		fputc('\'', out);
		for (s = json_string_value(v); *s != '\0'; s++) {
			if (*s == '\'' || *s == '\\')
				fputc(*s == '\'' ? '\'' : '\\', out);
			fputc(*s, out);
		}
		fputc('\'', out);
	} else { /* a JSON document: its text */
		char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		json_t *as_string = json_string(text != NULL ? text : "null");
		put_literal(out, as_string);
		json_decref(as_string);
		free(text);
	}
}

static void put_table(FILE *out, json_t *c)
{
	put_ident(out, json_string_value(json_object_get(c, "schema")));
	fputc('.', out);
	put_ident(out, json_string_value(json_object_get(c, "table")));
}

/* WHERE k1 = v1 AND ... from the conflict's key. */
static void put_where(FILE *out, json_t *key)
{
	const char *name;
	json_t *v;
	int first = 1;

	json_object_foreach(key, name, v)
	{
		fputs(first ? " WHERE " : " AND ", out);
		first = 0;
		put_ident(out, name);
		fputs(json_is_null(v) ? " IS " : " = ", out);
		put_literal(out, v);
	}
}

static void put_replace(FILE *out, json_t *c, json_t *row)
{
	const char *name;
	json_t *v;
	int first = 1;

	fputs("REPLACE INTO ", out);
	put_table(out, c);
	fputs(" (", out);
	json_object_foreach(row, name, v)
	{
		fputs(first ? "" : ", ", out);
		first = 0;
		put_ident(out, name);
	}
	fputs(") VALUES (", out);
	first = 1;
	json_object_foreach(row, name, v)
	{
		fputs(first ? "" : ", ", out);
		first = 0;
		put_literal(out, v);
	}
	fputs(");\n", out);
}

/*
 * The write made on master: the one it originated.  A before-image record's
 * second write is the first one's copy on another master, made there by
 * nobody.  NULL when master made neither write.
 */
static json_t *write_made_on(json_t *c, const char *master)
{
	json_t *writes = json_object_get(c, "writes");
	size_t n = before_image(c) ? 1 : json_array_size(writes);

	for (size_t i = 0; i < n; i++) {
		json_t *w = json_array_get(writes, i);
		const char *m = json_string_value(json_object_get(w, "master"));
		if (m != NULL && strcmp(m, master) == 0)
			return w;
	}
	return NULL;
}

/*
 * A write's after image: the row it left, JSON null for a delete.  NULL
 * after saying so when an insert's or update's image is not known (not
 * logged with binlog_row_image=MINIMAL, or no longer kept): a null there
 * is no "no row", and repairing to it would delete the row everywhere.
 */
static json_t *write_after(json_t *w, const char *master, char *err, size_t len)
{
	json_t *after = json_object_get(w, "after");
	const char *op = json_string_value(json_object_get(w, "op"));

	if (after != NULL && (!json_is_null(after) || (op != NULL && strcmp(op, "delete") == 0)))
		return after;
	snprintf(err, len,
		 "the row %s's %s left is not known (no after image: binlog_row_image is not "
		 "FULL, or the image was no longer kept)",
		 master, op != NULL ? op : "write");
	return NULL;
}

/*
 * The row to keep, with a description of it for the header; NULL after
 * saying what is wrong.  --prefer NAME keeps the write made on NAME: after
 * crossing writes each master holds the other's write (it applied that one
 * last), so the row NAME holds now is not NAME's write.  Only when NAME made
 * neither write (a third master, a before-image copier) is its present row
 * the one to keep.  Without --prefer: the later commit's write.
 */
static json_t *target_row(json_t *c, const char *prefer, char *what, size_t size, char *err,
			  size_t len)
{
	json_t *writes = json_object_get(c, "writes");
	json_t *w0 = json_array_get(writes, 0), *w1 = json_array_get(writes, 1), *w;
	const char *t0, *t1, *master;

	if (prefer != NULL && (w = write_made_on(c, prefer)) != NULL) {
		snprintf(what, size, "%s's write (--prefer %s)", prefer, prefer);
		return write_after(w, prefer, err, len);
	}
	if (prefer != NULL) {
		w = json_object_get(json_object_get(c, "final"), prefer);
		if (w == NULL) {
			snprintf(err, len,
				 "master '%s' made neither write of this conflict and its row is "
				 "not known",
				 prefer);
			return NULL;
		}
		snprintf(what, size, "the row %s holds now (--prefer %s; it made neither write)",
			 prefer, prefer);
		return w;
	}
	t0 = json_string_value(json_object_get(w0, "committed_at"));
	t1 = json_string_value(json_object_get(w1, "committed_at"));
	/* ties: the second write as the engine ordered them */
	w = t0 != NULL && t1 != NULL && strcmp(t0, t1) > 0 ? w0 : w1;
	master = json_string_value(json_object_get(w, "master"));
	snprintf(what, size, "%s's write, the later commit", master != NULL ? master : "?");
	return write_after(w, master != NULL ? master : "?", err, len);
}

static void print_repair(FILE *out, json_t *c, json_t *target, const char *what)
{
	json_t *final = json_object_get(c, "final");
	const char *master;
	json_t *row;
	int any = 0;

	fprintf(out, "-- conflict #%lld: %s on ",
		(long long)json_integer_value(json_object_get(c, "id")),
		json_string_value(json_object_get(c, "kind")));
	put_table(out, c);
	fprintf(out, "\n-- keep %s:", what);
	if (json_is_null(target)) {
		fprintf(out, " no row\n");
	} else {
		fprintf(out, "\n--   ");
		json_dumpf(target, out, JSON_COMPACT);
		fprintf(out, "\n");
	}
	json_object_foreach(final, master, row)
	{
		if (json_equal(row, target))
			continue;
		any = 1;
		fprintf(out, "\n-- on %s (it holds ", master);
		json_dumpf(row, out, JSON_COMPACT | JSON_ENCODE_ANY);
		fprintf(out, "):\nSET SESSION sql_log_bin = 0;\n");
		if (json_is_null(target)) {
			fputs("DELETE FROM ", out);
			put_table(out, c);
			put_where(out, json_object_get(c, "key"));
			fputs(";\n", out);
		} else {
			put_replace(out, c, target);
		}
		fprintf(out, "SET SESSION sql_log_bin = 1;\n");
	}
	if (!any)
		fprintf(out, "\n-- every master already holds that row: nothing to run.\n");
	fprintf(
	    out,
	    "\n-- A master whose SQL thread stopped on this row (error 1062 or 1032) still holds\n"
	    "-- the event that failed; once the rows are equal, skip it there (CONN: the\n"
	    "-- replication connection it stopped on):\n"
	    "--   STOP SLAVE 'CONN'; SET @@default_master_connection = 'CONN';\n"
	    "--   SET GLOBAL sql_slave_skip_counter = 1; START SLAVE 'CONN';\n");
	fprintf(
	    out,
	    "\n-- sql_log_bin = 0 keeps these statements out of the binlog: each master is set\n"
	    "-- to the same row directly, nothing is replicated, so nothing can race with them\n"
	    "-- and no new conflict can start.  Then mark the conflict resolved:\n"
	    "--   curl -X POST .../v1/conflicts/%lld/resolve\n",
	    (long long)json_integer_value(json_object_get(c, "id")));
}

int repair_sql(json_t *c, const char *prefer, FILE *out, char *err, size_t len)
{
	char what[160];
	json_t *target;

	if (!json_is_object(c) || !json_is_string(json_object_get(c, "schema")) ||
	    !json_is_string(json_object_get(c, "table")) ||
	    !json_is_string(json_object_get(c, "kind")) ||
	    !json_is_object(json_object_get(c, "key")) ||
	    !json_is_array(json_object_get(c, "writes"))) {
		snprintf(err, len, "not a conflict record");
		return -1;
	}
	if (before_image(c) && prefer == NULL) {
		snprintf(err, len,
			 "a before-image finding has no later write to prefer: say which "
			 "master's row to keep with --prefer NAME");
		return -1;
	}
	if (drift(c) && prefer == NULL) {
		snprintf(err, len,
			 "a drift record has no write to prefer (nobody wrote the row): say which "
			 "master's row to keep with --prefer NAME");
		return -1;
	}
	target = target_row(c, prefer, what, sizeof(what), err, len);
	if (target == NULL)
		return -1;
	print_repair(out, c, target, what);
	return 0;
}
