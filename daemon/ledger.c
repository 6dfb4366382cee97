/*
 * ledger.c - the conflict ledger in SQLite (table "conflict", state.c's schema).
 */
#include "ledger.h"

#include "common/conflict_json.h"
#include "common/time_text.h"
#include "state.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t find_uid(sqlite3 *db, const char *uid)
{
	sqlite3_stmt *s;
	int64_t id = 0;

	if (sqlite3_prepare_v2(db, "SELECT id FROM conflict WHERE uid = ?", -1, &s, NULL) !=
	    SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, uid, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return id;
}

bool ledger_known(struct state *st, const char *uid)
{
	return find_uid(state_db(st), uid) > 0;
}

/* Bind a JSON value as compact text. */
static void bind_json(sqlite3_stmt *s, int col, const json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	if (text == NULL)
		sqlite3_bind_text(s, col, "null", -1, SQLITE_STATIC);
	else
		sqlite3_bind_text(s, col, text, -1, free);
}

int64_t ledger_add(struct state *st, const struct ledger_entry *e, bool *created)
{
	sqlite3 *db = state_db(st);
	sqlite3_stmt *s;
	int64_t id = find_uid(db, e->uid);

	*created = false;
	if (id != 0)
		return id;
	if (sqlite3_prepare_v2(
		db,
		"INSERT INTO conflict (uid, kind, schema_name, table_name, key_json, "
		"diverged, detected_at, detection_delay, writes_json, final_json, key_hex, "
		"unique_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		-1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, e->uid, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, e->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, e->schema, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, e->table, -1, SQLITE_STATIC);
	bind_json(s, 5, e->key);
	sqlite3_bind_int(s, 6, e->diverged);
	sqlite3_bind_double(s, 7, e->detected_at);
	if (e->detection_delay >= 0)
		sqlite3_bind_double(s, 8, e->detection_delay);
	else
		sqlite3_bind_null(s, 8);
	bind_json(s, 9, e->writes);
	bind_json(s, 10, e->final);
	sqlite3_bind_text(s, 11, e->key_hex != NULL ? e->key_hex : "", -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 12, e->unique_key);
	if (sqlite3_step(s) == SQLITE_DONE) {
		id = sqlite3_last_insert_rowid(db);
		*created = true;
	} else {
		id = -1;
	}
	sqlite3_finalize(s);
	return id;
}

int ledger_update_final(struct state *st, const char *uid, json_t *final, bool diverged)
{
	sqlite3 *db = state_db(st);
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db, "UPDATE conflict SET final_json = ?, diverged = ? WHERE uid = ?",
			       -1, &s, NULL) != SQLITE_OK)
		return -1;
	bind_json(s, 1, final);
	sqlite3_bind_int(s, 2, diverged);
	sqlite3_bind_text(s, 3, uid, -1, SQLITE_STATIC);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(s);
	return rc == 0 && sqlite3_changes(db) == 0 ? 1 : rc;
}

static json_t *column_json(sqlite3_stmt *s, int col)
{
	const char *text = (const char *)sqlite3_column_text(s, col);
	json_t *v = text != NULL ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;

	return v != NULL ? v : json_null();
}

int ledger_merge_final(struct state *st, const char *uid, json_t *changes, json_t *unknown,
		       bool diverged)
{
	sqlite3 *db = state_db(st);
	sqlite3_stmt *s;
	json_t *final = NULL;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT final_json FROM conflict WHERE uid = ?", -1, &s, NULL) !=
	    SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, uid, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		final = column_json(s, 0);
	sqlite3_finalize(s);
	if (final == NULL)
		return 1;
	if (!json_is_object(final)) {
		json_decref(final);
		final = json_object();
	}
	conflict_final_apply(final, changes, unknown);
	rc = ledger_update_final(st, uid, final, diverged);
	json_decref(final);
	return rc;
}

int ledger_uid(struct state *st, int64_t id, char *buf, size_t len)
{
	sqlite3_stmt *s;
	int rc = 1;

	if (sqlite3_prepare_v2(state_db(st), "SELECT uid FROM conflict WHERE id = ?", -1, &s,
			       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		snprintf(buf, len, "%s", (const char *)sqlite3_column_text(s, 0));
		rc = 0;
	}
	sqlite3_finalize(s);
	return rc;
}

int ledger_resolve(struct state *st, int64_t id, const char *uid, const char *by, double at)
{
	sqlite3 *db = state_db(st);
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(db,
			       "UPDATE conflict SET state = 'resolved', resolved_at = ?, "
			       "resolved_by = ? WHERE state = 'open' AND (id = ? OR uid = ?)",
			       -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_double(s, 1, at);
	sqlite3_bind_text(s, 2, by, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, id);
	sqlite3_bind_text(s, 4, uid != NULL ? uid : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(s);
	return rc == 0 && sqlite3_changes(db) == 0 ? 1 : rc;
}

#define SELECT_CONFLICT                                                                            \
	"SELECT id, kind, schema_name, table_name, key_json, state, diverged, detected_at, "       \
	"detection_delay, writes_json, final_json, resolved_at, resolved_by, uid, unique_key "     \
	"FROM conflict "

/* One row of SELECT_CONFLICT as a CONFLICT object. */
static json_t *row_json(sqlite3_stmt *s)
{
	char when[32];
	json_t *o = json_object();

	time_text(sqlite3_column_double(s, 7), when);
	json_object_set_new(o, "id", json_integer(sqlite3_column_int64(s, 0)));
	json_object_set_new(o, "kind", json_string((const char *)sqlite3_column_text(s, 1)));
	json_object_set_new(o, "schema", json_string((const char *)sqlite3_column_text(s, 2)));
	json_object_set_new(o, "table", json_string((const char *)sqlite3_column_text(s, 3)));
	json_object_set_new(o, "key", column_json(s, 4));
	json_object_set_new(o, "state", json_string((const char *)sqlite3_column_text(s, 5)));
	json_object_set_new(o, "diverged", json_boolean(sqlite3_column_int(s, 6)));
	json_object_set_new(o, "detected_at", json_string(when));
	json_object_set_new(o, "detection_delay_seconds",
			    sqlite3_column_type(s, 8) == SQLITE_NULL
				? json_null()
				: json_real(sqlite3_column_double(s, 8)));
	json_object_set_new(o, "writes", column_json(s, 9));
	json_object_set_new(o, "final", column_json(s, 10));
	if (sqlite3_column_type(s, 11) != SQLITE_NULL) {
		time_text(sqlite3_column_double(s, 11), when);
		json_object_set_new(o, "resolved_at", json_string(when));
		json_object_set_new(o, "resolved_by",
				    json_string((const char *)sqlite3_column_text(s, 12)));
	}
	json_object_set_new(o, "uid", json_string((const char *)sqlite3_column_text(s, 13)));
	if (sqlite3_column_int(s, 14))
		json_object_set_new(o, "unique_key", json_true());
	return o;
}

json_t *ledger_get(struct state *st, int64_t id)
{
	sqlite3_stmt *s;
	json_t *o = NULL;

	if (sqlite3_prepare_v2(state_db(st), SELECT_CONFLICT "WHERE id = ?", -1, &s, NULL) !=
	    SQLITE_OK)
		return NULL;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW)
		o = row_json(s);
	sqlite3_finalize(s);
	return o;
}

json_t *ledger_list(struct state *st, bool open_only, int limit)
{
	sqlite3_stmt *s;
	json_t *list = json_array();
	const char *sql = open_only ? SELECT_CONFLICT
			      "WHERE state = 'open' ORDER BY id DESC LIMIT ?"
				    : SELECT_CONFLICT "ORDER BY id DESC LIMIT ?";

	if (sqlite3_prepare_v2(state_db(st), sql, -1, &s, NULL) != SQLITE_OK) {
		json_decref(list);
		return NULL;
	}
	sqlite3_bind_int(s, 1, limit);
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(list, row_json(s));
	sqlite3_finalize(s);
	return list;
}

int ledger_newest_on(struct state *st, const char *schema, const char *table, const char *kinds,
		     int64_t *id, char *kind, size_t len)
{
	sqlite3_stmt *s;
	int rc = 1;

	if (sqlite3_prepare_v2(
		state_db(st),
		"SELECT id, kind FROM conflict WHERE schema_name = ? AND table_name = ? "
		"AND instr(?, kind) > 0 ORDER BY id DESC LIMIT 1",
		-1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, schema, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, kinds, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		snprintf(kind, len, "%s", (const char *)sqlite3_column_text(s, 1));
		rc = 0;
	}
	sqlite3_finalize(s);
	return rc;
}

int ledger_each_open(struct state *st, void (*fn)(const struct ledger_open *o, void *arg),
		     void *arg)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(
		state_db(st),
		"SELECT uid, schema_name, table_name, key_hex, unique_key FROM conflict "
		"WHERE state = 'open' AND key_hex != '' ORDER BY id",
		-1, &s, NULL) != SQLITE_OK)
		return -1;
	while (sqlite3_step(s) == SQLITE_ROW) {
		struct ledger_open o = {
			(const char *)sqlite3_column_text(s, 0),
			(const char *)sqlite3_column_text(s, 1),
			(const char *)sqlite3_column_text(s, 2),
			(const char *)sqlite3_column_text(s, 3),
			sqlite3_column_int(s, 4) != 0,
		};
		fn(&o, arg);
	}
	sqlite3_finalize(s);
	return 0;
}

int64_t ledger_open_on_row(struct state *st, const char *schema, const char *table,
			   const char *key_hex, const char *key_json)
{
	sqlite3_stmt *s;
	int64_t id = 0;

	if (sqlite3_prepare_v2(state_db(st),
			       "SELECT id FROM conflict WHERE schema_name = ? AND table_name = ? "
			       "AND state = 'open' AND diverged = 1 AND ((key_hex != '' AND "
			       "key_hex = ?) OR key_json = ?) LIMIT 1",
			       -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, schema, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, key_hex, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, key_json, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return id;
}

json_t *ledger_open_drift(struct state *st, const char *schema, const char *table)
{
	sqlite3_stmt *s;
	json_t *list = json_array();

	if (sqlite3_prepare_v2(state_db(st),
			       "SELECT id, key_json FROM conflict WHERE schema_name = ? AND "
			       "table_name = ? AND state = 'open' AND kind = 'drift' ORDER BY id",
			       -1, &s, NULL) != SQLITE_OK) {
		json_decref(list);
		return NULL;
	}
	sqlite3_bind_text(s, 1, schema, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, table, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW)
		json_array_append_new(list, json_pack("{s:I,s:o}", "id",
						      (json_int_t)sqlite3_column_int64(s, 0), "key",
						      column_json(s, 1)));
	sqlite3_finalize(s);
	return list;
}

int ledger_counts(struct state *st, int64_t *open, int64_t *total)
{
	sqlite3_stmt *s;
	int rc = -1;

	if (sqlite3_prepare_v2(state_db(st),
			       "SELECT COALESCE(SUM(state = 'open'), 0), COUNT(*) FROM conflict",
			       -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW) {
		*open = sqlite3_column_int64(s, 0);
		*total = sqlite3_column_int64(s, 1);
		rc = 0;
	}
	sqlite3_finalize(s);
	return rc;
}

int ledger_totals(struct state *st,
		  void (*fn)(const char *schema, const char *table, const char *kind, int64_t n,
			     void *arg),
		  void *arg)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(
		state_db(st),
		"SELECT schema_name, table_name, kind, COUNT(*) FROM conflict GROUP BY "
		"schema_name, table_name, kind ORDER BY 1, 2, 3",
		-1, &s, NULL) != SQLITE_OK)
		return -1;
	while (sqlite3_step(s) == SQLITE_ROW)
		fn((const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
		   (const char *)sqlite3_column_text(s, 2), sqlite3_column_int64(s, 3), arg);
	sqlite3_finalize(s);
	return 0;
}

int ledger_open_totals(struct state *st,
		       void (*fn)(const char *schema, const char *table, int64_t n, void *arg),
		       void *arg)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(state_db(st),
			       "SELECT schema_name, table_name, COUNT(*) FROM conflict WHERE state "
			       "= 'open' GROUP BY schema_name, table_name",
			       -1, &s, NULL) != SQLITE_OK)
		return -1;
	while (sqlite3_step(s) == SQLITE_ROW)
		fn((const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
		   sqlite3_column_int64(s, 2), arg);
	sqlite3_finalize(s);
	return 0;
}
