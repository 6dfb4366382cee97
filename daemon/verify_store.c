/*
 * verify_store.c - verification jobs in SQLite (see verify_store.h).
 */
#include "verify_store.h"

#include "state.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char schema_sql[] = "CREATE TABLE IF NOT EXISTS verify_job ("
				 "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
				 "  state TEXT NOT NULL,"
				 "  chunk_rows INTEGER NOT NULL DEFAULT 0,"
				 "  started_at REAL NOT NULL,"
				 "  ended_at REAL,"
				 "  error TEXT);"
				 "CREATE TABLE IF NOT EXISTS verify_table ("
				 "  job INTEGER NOT NULL,"
				 "  seq INTEGER NOT NULL,"
				 "  schema_name TEXT NOT NULL,"
				 "  table_name TEXT NOT NULL,"
				 "  rows_estimate INTEGER NOT NULL DEFAULT 0,"
				 "  state TEXT NOT NULL DEFAULT 'pending',"
				 "  reason TEXT,"
				 "  last_json TEXT,"
				 "  retries_json TEXT,"
				 "  scanned INTEGER NOT NULL DEFAULT 0,"
				 "  not_verified INTEGER NOT NULL DEFAULT 0,"
				 "  rows INTEGER NOT NULL DEFAULT 0,"
				 "  equal INTEGER NOT NULL DEFAULT 0,"
				 "  different INTEGER NOT NULL DEFAULT 0,"
				 "  unsure INTEGER NOT NULL DEFAULT 0,"
				 "  drift INTEGER NOT NULL DEFAULT 0,"
				 "  PRIMARY KEY (job, schema_name, table_name));";

int verify_store_init(struct state *st)
{
	return sqlite3_exec(state_db(st), schema_sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static sqlite3_stmt *prepare(struct state *st, const char *sql)
{
	sqlite3_stmt *s;

	return sqlite3_prepare_v2(state_db(st), sql, -1, &s, NULL) == SQLITE_OK ? s : NULL;
}

/* Step a statement to its end and finalise it: 0 or -1. */
static int run(sqlite3_stmt *s)
{
	int rc;

	if (s == NULL)
		return -1;
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(s);
	return rc;
}

int64_t verify_store_job_new(struct state *st, uint64_t chunk_rows, double now)
{
	sqlite3_stmt *s = prepare(
	    st, "INSERT INTO verify_job (state, chunk_rows, started_at) VALUES ('running', ?, ?)");

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, (sqlite3_int64)chunk_rows);
	sqlite3_bind_double(s, 2, now);
	return run(s) == 0 ? sqlite3_last_insert_rowid(state_db(st)) : -1;
}

int verify_store_running(struct state *st, int64_t *id, uint64_t *chunk_rows, double *started)
{
	sqlite3_stmt *s = prepare(st, "SELECT id, chunk_rows, started_at FROM verify_job WHERE "
				      "state = 'running' ORDER BY id DESC LIMIT 1");
	int rc = 1;

	if (s == NULL)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		*chunk_rows = (uint64_t)sqlite3_column_int64(s, 1);
		*started = sqlite3_column_double(s, 2);
		rc = 0;
	}
	sqlite3_finalize(s);
	return rc;
}

int verify_store_job_end(struct state *st, int64_t id, const char *state, const char *error,
			 double now)
{
	sqlite3_stmt *s =
	    prepare(st, "UPDATE verify_job SET state = ?, error = ?, ended_at = ? WHERE id = ?");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, state, -1, SQLITE_STATIC);
	if (error != NULL)
		sqlite3_bind_text(s, 2, error, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 2);
	sqlite3_bind_double(s, 3, now);
	sqlite3_bind_int64(s, 4, id);
	return run(s);
}

double verify_store_last_end(struct state *st)
{
	sqlite3_stmt *s = prepare(st, "SELECT COALESCE(MAX(ended_at), 0) FROM verify_job");
	double at = 0;

	if (s != NULL && sqlite3_step(s) == SQLITE_ROW)
		at = sqlite3_column_double(s, 0);
	sqlite3_finalize(s);
	return at;
}

int verify_store_tables(struct state *st, int64_t job, json_t *tables)
{
	json_t *t;
	size_t i;
	int rc = 0;

	json_array_foreach(tables, i, t)
	{
		sqlite3_stmt *s = prepare(st, "INSERT OR IGNORE INTO verify_table (job, seq, "
					      "schema_name, table_name, rows_estimate) VALUES "
					      "(?, ?, ?, ?, ?)");
		if (s == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, job);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)i);
		sqlite3_bind_text(s, 3, json_string_value(json_object_get(t, "schema")), -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(s, 4, json_string_value(json_object_get(t, "table")), -1,
				  SQLITE_STATIC);
		sqlite3_bind_int64(s, 5, json_integer_value(json_object_get(t, "rows")));
		rc |= run(s);
	}
	return rc;
}

int verify_store_skip(struct state *st, int64_t job, const char *schema, const char *table,
		      const char *reason)
{
	sqlite3_stmt *s = prepare(st, "UPDATE verify_table SET state = 'skipped', reason = ? "
				      "WHERE job = ? AND schema_name = ? AND table_name = ?");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, job);
	sqlite3_bind_text(s, 3, schema, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, table, -1, SQLITE_STATIC);
	return run(s);
}

static void bind_json(sqlite3_stmt *s, int col, json_t *v)
{
	char *text = json_dumps(v != NULL ? v : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);

	if (text == NULL)
		sqlite3_bind_null(s, col);
	else
		sqlite3_bind_text(s, col, text, -1, free);
}

int verify_store_progress(struct state *st, int64_t job, json_t *p, uint64_t drift)
{
	const char *chunk = json_string_value(json_object_get(p, "chunk"));
	sqlite3_stmt *s = prepare(
	    st, "UPDATE verify_table SET state = ?, last_json = ?, retries_json = ?, scanned = ?, "
		"not_verified = ?, rows = rows + ?, equal = equal + ?, different = different + ?, "
		"unsure = unsure + ?, drift = drift + ? WHERE job = ? AND schema_name = ? AND "
		"table_name = ?");

	if (s == NULL)
		return -1;
	sqlite3_bind_text(s, 1, json_is_true(json_object_get(p, "done")) ? "done" : "running", -1,
			  SQLITE_STATIC);
	bind_json(s, 2, json_object_get(p, "last"));
	bind_json(s, 3, json_object_get(p, "retries"));
	sqlite3_bind_int(s, 4, json_is_true(json_object_get(p, "scanned")));
	sqlite3_bind_int64(s, 5, json_integer_value(json_object_get(p, "not_verified")));
	sqlite3_bind_int64(s, 6, json_integer_value(json_object_get(p, "rows")));
	sqlite3_bind_int(s, 7, chunk != NULL && strcmp(chunk, "equal") == 0);
	sqlite3_bind_int(s, 8, chunk != NULL && strcmp(chunk, "different") == 0);
	sqlite3_bind_int(s, 9, chunk != NULL && strcmp(chunk, "unsure") == 0);
	sqlite3_bind_int64(s, 10, (sqlite3_int64)drift);
	sqlite3_bind_int64(s, 11, job);
	sqlite3_bind_text(s, 12, json_string_value(json_object_get(p, "schema")), -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(s, 13, json_string_value(json_object_get(p, "table")), -1, SQLITE_STATIC);
	return run(s);
}

static json_t *column_json(sqlite3_stmt *s, int col)
{
	const char *text = (const char *)sqlite3_column_text(s, col);
	json_t *v = text != NULL ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;

	return v != NULL ? v : json_null();
}

json_t *verify_store_job(struct state *st, int64_t job)
{
	sqlite3_stmt *s = prepare(st, "SELECT schema_name, table_name, last_json, retries_json, "
				      "scanned, state = 'done', not_verified FROM verify_table "
				      "WHERE job = ? AND state != 'skipped' ORDER BY seq");
	sqlite3_stmt *j = prepare(st, "SELECT chunk_rows FROM verify_job WHERE id = ?");
	json_t *tables = json_array(), *out = NULL;

	if (s == NULL || j == NULL)
		goto end;
	sqlite3_bind_int64(s, 1, job);
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(
		    tables, json_pack("{s:s,s:s,s:o,s:o,s:b,s:b,s:I}", "schema",
				      (const char *)sqlite3_column_text(s, 0), "table",
				      (const char *)sqlite3_column_text(s, 1), "last",
				      column_json(s, 2), "retries", column_json(s, 3), "scanned",
				      sqlite3_column_int(s, 4), "done", sqlite3_column_int(s, 5),
				      "not_verified", (json_int_t)sqlite3_column_int64(s, 6)));
	sqlite3_bind_int64(j, 1, job);
	if (sqlite3_step(j) == SQLITE_ROW)
		out = json_pack("{s:I,s:I,s:O}", "id", (json_int_t)job, "chunk_rows",
				(json_int_t)sqlite3_column_int64(j, 0), "tables", tables);
end:
	sqlite3_finalize(s);
	sqlite3_finalize(j);
	json_decref(tables);
	return out;
}

int verify_store_totals(struct state *st, int64_t job, struct verify_totals *t)
{
	sqlite3_stmt *s = prepare(
	    st, "SELECT COUNT(*), COALESCE(SUM(state = 'done'), 0), "
		"COALESCE(SUM(state = 'skipped'), 0), COALESCE(SUM(equal), 0), "
		"COALESCE(SUM(different), 0), COALESCE(SUM(unsure), 0), COALESCE(SUM(rows), 0), "
		"COALESCE(SUM(drift), 0), COALESCE(SUM(not_verified), 0), "
		"COALESCE(SUM(rows_estimate), 0), "
		"COALESCE(SUM(CASE WHEN state = 'done' THEN rows_estimate ELSE 0 END), 0) "
		"FROM verify_table WHERE job = ?");
	int rc = -1;

	memset(t, 0, sizeof(*t));
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, job);
	if (sqlite3_step(s) == SQLITE_ROW) {
		uint64_t *f[] = { &t->tables,       &t->done,          &t->skipped,     &t->equal,
				  &t->different,    &t->unsure,        &t->rows,        &t->drift,
				  &t->not_verified, &t->rows_estimate, &t->rows_of_done };
		for (int i = 0; i < 11; i++)
			*f[i] = (uint64_t)sqlite3_column_int64(s, i);
		rc = 0;
	}
	sqlite3_finalize(s);
	return rc;
}

json_t *verify_store_skipped(struct state *st, int64_t job)
{
	sqlite3_stmt *s =
	    prepare(st, "SELECT schema_name || '.' || table_name, reason FROM "
			"verify_table WHERE job = ? AND state = 'skipped' ORDER BY seq");
	json_t *a = json_array();

	if (s == NULL)
		return a;
	sqlite3_bind_int64(s, 1, job);
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(
		    a, json_pack("{s:s,s:s}", "table", (const char *)sqlite3_column_text(s, 0),
				 "reason", (const char *)sqlite3_column_text(s, 1)));
	sqlite3_finalize(s);
	return a;
}
