/*
 * ledger.c - the conflict ledger in SQLite (table "conflict", state.c's schema).
 *
 * Every write here that changes a column ledger_each_between() reads (id,
 * kind, schema_name, table_name, state, resolved_by, writes_json) calls
 * state_conflict_changed() once it is done: the memo of link causes
 * (ledger_memo.c) reads the conflicts again only then.  A new write to the
 * table must say at its site which it is.
 */
#include "ledger.h"

#include "common/conflict_json.h"
#include "common/time_text.h"
#include "log.h"
#include "state.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* SQLite's last error as the reason; -1. */
static int db_fail(struct state *st)
{
	return state_fail(st, "%s", sqlite3_errmsg(state_db(st)));
}

/* The ledger id of uid into *id (0: none): SQLITE_OK or SQLite's code. */
static int find_uid(sqlite3 *db, const char *uid, int64_t *id)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(db, "SELECT id FROM conflict WHERE uid = ?", -1, &s, NULL);

	*id = 0;
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_text(s, 1, uid, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

bool ledger_known(struct state *st, const char *uid)
{
	int64_t id;

	return find_uid(state_db(st), uid, &id) == SQLITE_OK && id > 0;
}

/* JSON as compact text (malloc'd), "null" when it cannot be. */
static char *json_text(const json_t *v)
{
	char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	return text != NULL ? text : strdup("null");
}

/* A conflict to record, its JSON as text (the strings first: state_keep_copy()). */
struct add {
	const char *uid, *kind, *schema, *table, *key, *writes, *final, *key_hex;
	int diverged, unique_key;
	double detected_at, delay; /* delay < 0: unknown */
	int64_t id;                /* out: its ledger id, */
	bool created;              /* and whether this write made it */
	bool kept;                 /* a copy kept after a failure (state.h) */
};

static int add_apply(struct state *st, void *arg)
{
	struct add *a = arg;
	sqlite3 *db = state_db(st);
	sqlite3_stmt *s;
	int rc = find_uid(db, a->uid, &a->id);

	a->created = false;
	if (rc != SQLITE_OK || a->id != 0)
		return rc;
	rc = sqlite3_prepare_v2(
	    db,
	    "INSERT INTO conflict (uid, kind, schema_name, table_name, key_json, diverged, "
	    "detected_at, detection_delay, writes_json, final_json, key_hex, unique_key) VALUES "
	    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	    -1, &s, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_text(s, 1, a->uid, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, a->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, a->schema, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, a->table, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, a->key, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 6, a->diverged);
	sqlite3_bind_double(s, 7, a->detected_at);
	if (a->delay >= 0)
		sqlite3_bind_double(s, 8, a->delay);
	else
		sqlite3_bind_null(s, 8);
	sqlite3_bind_text(s, 9, a->writes, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 10, a->final, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 11, a->key_hex, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 12, a->unique_key);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return rc;
	a->id = sqlite3_last_insert_rowid(db);
	a->created = true;
	state_conflict_changed(st); /* a new row for ledger_each_between() */
	if (a->kept)                /* the engine heard nothing of it when it was found */
		log_notice("conflict %lld: %s on %s.%s %s, recorded now (writing it had failed)",
			   (long long)a->id, a->kind, a->schema, a->table, a->key);
	return SQLITE_OK;
}

static void *add_keep(const void *arg, size_t *size)
{
	struct add *copy = state_keep_copy(arg, sizeof(struct add), 8, size);

	if (copy != NULL)
		copy->kept = true;
	return copy;
}

static const struct state_op add_op = {
	.what = "a conflict",
	.apply = add_apply,
	.keep = add_keep,
	.release = free,
};

int64_t ledger_add(struct state *st, const struct ledger_entry *e, bool *created)
{
	char *key = json_text(e->key), *writes = json_text(e->writes), *final = json_text(e->final);
	struct add a = {
		.uid = e->uid,
		.kind = e->kind,
		.schema = e->schema,
		.table = e->table,
		.key = key,
		.writes = writes,
		.final = final,
		.key_hex = e->key_hex != NULL ? e->key_hex : "",
		.diverged = e->diverged,
		.unique_key = e->unique_key,
		.detected_at = e->detected_at,
		.delay = e->detection_delay,
	};
	int rc = key != NULL && writes != NULL && final != NULL ? state_write(st, &add_op, &a)
								: state_fail(st, "out of memory");

	free(key);
	free(writes);
	free(final);
	*created = rc == 0 && a.created;
	return rc < 0 ? -1 : rc == 0 ? a.id : 0;
}

/*
 * Set uid's finals to text: SQLITE_OK (*changed: whether there was such a
 * conflict) or SQLite's code.  final_json and diverged are not read by
 * ledger_each_between(), so no state_conflict_changed(): the engine writes
 * them at every write on the row of an open conflict, and the memo of link
 * causes would be read again at nearly every snapshot of a conflict storm.
 */
static int put_final(sqlite3 *db, const char *uid, const char *text, int diverged, int *changed)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(
	    db, "UPDATE conflict SET final_json = ?, diverged = ? WHERE uid = ?", -1, &s, NULL);

	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, diverged);
	sqlite3_bind_text(s, 3, uid, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	*changed = rc == SQLITE_DONE && sqlite3_changes(db) > 0;
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* New finals of a conflict (the strings first: state_keep_copy()). */
struct final {
	const char *uid, *text;
	int diverged;
	int changed; /* out */
};

static int final_apply(struct state *st, void *arg)
{
	struct final *f = arg;

	return put_final(state_db(st), f->uid, f->text, f->diverged, &f->changed);
}

static void *final_keep(const void *arg, size_t *size)
{
	return state_keep_copy(arg, sizeof(struct final), 2, size);
}

static const struct state_op final_op = {
	.what = "a conflict's finals",
	.apply = final_apply,
	.keep = final_keep,
	.release = free,
};

int ledger_update_final(struct state *st, const char *uid, json_t *final, bool diverged)
{
	char *text = json_text(final);
	struct final f = { uid, text, diverged, 0 };
	int rc = text != NULL ? state_write(st, &final_op, &f) : state_fail(st, "out of memory");

	free(text);
	return rc < 0 ? -1 : rc == 0 && !f.changed ? 1 : 0;
}

/* NULL when the column holds no JSON (the row is damaged). */
static json_t *column_json(sqlite3_stmt *s, int col)
{
	const char *text = (const char *)sqlite3_column_text(s, col);

	return text != NULL ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
}

/* A change of a conflict's finals (the strings first: state_keep_copy()). */
struct merge {
	const char *uid, *changes, *unknown;
	int diverged;
	int changed; /* out */
};

/* Read the conflict's finals, apply the change, write them: SQLITE_OK when
 * done or when there is no such conflict. */
static int merge_apply(struct state *st, void *arg)
{
	struct merge *m = arg;
	sqlite3 *db = state_db(st);
	sqlite3_stmt *s;
	json_t *final = NULL, *changes, *unknown;
	char *text;
	int rc =
	    sqlite3_prepare_v2(db, "SELECT final_json FROM conflict WHERE uid = ?", -1, &s, NULL);

	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_text(s, 1, m->uid, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		final = column_json(s, 0); /* not in json_is_object(): a macro reads it twice */
	if (rc == SQLITE_ROW && !json_is_object(final)) {
		json_decref(final);
		final = json_object();
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? SQLITE_OK : rc;
	changes = json_loads(m->changes, JSON_DECODE_ANY, NULL);
	unknown = json_loads(m->unknown, JSON_DECODE_ANY, NULL);
	conflict_final_apply(final, changes, unknown);
	text = json_text(final);
	json_decref(final);
	json_decref(changes);
	json_decref(unknown);
	if (text == NULL)
		return SQLITE_NOMEM;
	rc = put_final(db, m->uid, text, m->diverged, &m->changed);
	free(text);
	return rc;
}

static void *merge_keep(const void *arg, size_t *size)
{
	return state_keep_copy(arg, sizeof(struct merge), 3, size);
}

static const struct state_op merge_op = {
	.what = "a conflict's finals",
	.apply = merge_apply,
	.keep = merge_keep,
	.release = free,
};

int ledger_merge_final(struct state *st, const char *uid, json_t *changes, json_t *unknown,
		       bool diverged)
{
	char *c = json_text(changes), *u = json_text(unknown);
	struct merge m = { uid, c, u, diverged, 0 };
	int rc = c != NULL && u != NULL ? state_write(st, &merge_op, &m)
					: state_fail(st, "out of memory");

	free(c);
	free(u);
	return rc < 0 ? -1 : rc == 0 && !m.changed ? 1 : 0;
}

/*
 * The finals changes of several conflicts (the string first: state_keep_copy()): batch
 * while fresh, its JSON text once kept.
 */
struct merges {
	const char *text;
	json_t *batch;
};

/* uid's change with the statements get and put; SQLITE_OK also when there is no such uid. */
static int merge_one(sqlite3_stmt *get, sqlite3_stmt *put, const char *uid, json_t *one)
{
	json_t *final = NULL;
	char *text;
	int rc;

	sqlite3_reset(get);
	sqlite3_bind_text(get, 1, uid, -1, SQLITE_STATIC);
	rc = sqlite3_step(get);
	if (rc == SQLITE_ROW)
		final = column_json(get, 0); /* not in json_is_object(): a macro reads it twice */
	if (rc == SQLITE_ROW && !json_is_object(final)) {
		json_decref(final);
		final = json_object();
	}
	sqlite3_reset(get);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? SQLITE_OK : rc;
	conflict_final_apply(final, json_object_get(one, "changes"),
			     json_object_get(one, "unknown"));
	text = json_text(final);
	json_decref(final);
	if (text == NULL)
		return SQLITE_NOMEM;
	sqlite3_reset(put);
	sqlite3_bind_text(put, 1, text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(put, 2, json_is_true(json_object_get(one, "diverged")));
	sqlite3_bind_text(put, 3, uid, -1, SQLITE_STATIC);
	rc = sqlite3_step(put);
	free(text);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int merges_rows(struct state *st, void *arg)
{
	const struct merges *m = arg;
	sqlite3 *db = state_db(st);
	json_t *batch =
	    m->batch != NULL ? json_incref(m->batch) : json_loads(m->text, JSON_DECODE_ANY, NULL);
	sqlite3_stmt *get = NULL, *put = NULL;
	const char *uid;
	json_t *one;
	int rc = json_is_object(batch) ? SQLITE_OK : SQLITE_NOMEM;

	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "SELECT final_json FROM conflict WHERE uid = ?", -1,
					&get, NULL);
	/* finals only, as put_final(): no state_conflict_changed() */
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(
		    db, "UPDATE conflict SET final_json = ?, diverged = ? WHERE uid = ?", -1, &put,
		    NULL);
	json_object_foreach(batch, uid, one)
	{
		if (rc != SQLITE_OK)
			break;
		rc = merge_one(get, put, uid, one);
	}
	sqlite3_finalize(get);
	sqlite3_finalize(put);
	json_decref(batch);
	return rc;
}

static int merges_apply(struct state *st, void *arg)
{
	return state_in_transaction(st, merges_rows, arg);
}

static void *merges_keep(const void *arg, size_t *size)
{
	const struct merges *m = arg;
	char *text = m->batch != NULL ? json_text(m->batch) : NULL;
	struct merges copy = { text != NULL ? text : m->text, NULL };
	void *kept = copy.text != NULL ? state_keep_copy(&copy, sizeof(copy), 1, size) : NULL;

	free(text);
	return kept;
}

static const struct state_op merges_op = {
	.what = "conflicts' finals",
	.apply = merges_apply,
	.keep = merges_keep,
	.release = free,
};

int ledger_merge_finals(struct state *st, json_t *batch)
{
	struct merges m = { NULL, batch };

	return state_write(st, &merges_op, &m) < 0 ? -1 : 0;
}

int ledger_uid(struct state *st, int64_t id, char *buf, size_t len)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(state_db(st), "SELECT uid FROM conflict WHERE id = ?", -1, &s,
			       NULL) != SQLITE_OK)
		return db_fail(st);
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		snprintf(buf, len, "%s", (const char *)sqlite3_column_text(s, 0));
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? 1 : db_fail(st);
	}
	sqlite3_finalize(s);
	return rc;
}

/* Resolving a conflict (the string first: state_keep_copy()). */
struct resolve {
	const char *by, *uid; /* uid NULL: by id */
	int64_t id;
	double at;
	int changed; /* out */
};

static int resolve_apply(struct state *st, void *arg)
{
	struct resolve *r = arg;
	sqlite3 *db = state_db(st);
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(db,
				    "UPDATE conflict SET state = 'resolved', resolved_at = ?, "
				    "resolved_by = ? WHERE state = 'open' AND (id = ? OR uid = ?)",
				    -1, &s, NULL);

	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_double(s, 1, r->at);
	sqlite3_bind_text(s, 2, r->by, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, r->id);
	sqlite3_bind_text(s, 4, r->uid != NULL ? r->uid : "", -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	r->changed = rc == SQLITE_DONE && sqlite3_changes(db) > 0;
	if (r->changed) /* state and resolved_by, which ledger_each_between() reads */
		state_conflict_changed(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void *resolve_keep(const void *arg, size_t *size)
{
	return state_keep_copy(arg, sizeof(struct resolve), 2, size);
}

static const struct state_op resolve_op = {
	.what = "a conflict's resolution",
	.apply = resolve_apply,
	.keep = resolve_keep,
	.release = free,
};

int ledger_resolve(struct state *st, int64_t id, const char *uid, const char *by, double at)
{
	struct resolve r = { by, uid, id, at, 0 };
	int rc;

	if (uid == NULL) {
		/* a person asked: the answer is now, not a write kept for later */
		if (resolve_apply(st, &r) != SQLITE_OK)
			return db_fail(st);
		return r.changed ? 0 : 1;
	}
	rc = state_write(st, &resolve_op, &r);
	return rc < 0 ? -1 : rc == 0 && !r.changed ? 1 : 0;
}

#define SELECT_CONFLICT                                                                            \
	"SELECT id, kind, schema_name, table_name, key_json, state, diverged, detected_at, "       \
	"detection_delay, writes_json, final_json, resolved_at, resolved_by, uid, unique_key "     \
	"FROM conflict "

/* One row of SELECT_CONFLICT as a CONFLICT object; NULL when a column that holds JSON does
 * not (the row is damaged). */
static json_t *row_json(sqlite3_stmt *s)
{
	char when[32];
	json_t *o = json_object(), *key = column_json(s, 4), *writes = column_json(s, 9),
	       *final = column_json(s, 10);

	if (o == NULL || key == NULL || writes == NULL || final == NULL) {
		json_decref(o);
		json_decref(key);
		json_decref(writes);
		json_decref(final);
		return NULL;
	}
	time_text(sqlite3_column_double(s, 7), when);
	json_object_set_new(o, "id", json_integer(sqlite3_column_int64(s, 0)));
	json_object_set_new(o, "kind", json_string((const char *)sqlite3_column_text(s, 1)));
	json_object_set_new(o, "schema", json_string((const char *)sqlite3_column_text(s, 2)));
	json_object_set_new(o, "table", json_string((const char *)sqlite3_column_text(s, 3)));
	json_object_set_new(o, "key", key);
	json_object_set_new(o, "state", json_string((const char *)sqlite3_column_text(s, 5)));
	json_object_set_new(o, "diverged", json_boolean(sqlite3_column_int(s, 6)));
	json_object_set_new(o, "detected_at", json_string(when));
	json_object_set_new(o, "detection_delay_seconds",
			    sqlite3_column_type(s, 8) == SQLITE_NULL
				? json_null()
				: json_real(sqlite3_column_double(s, 8)));
	json_object_set_new(o, "writes", writes);
	json_object_set_new(o, "final", final);
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

/* The row s stands on as a CONFLICT, or NULL with the reason noted. */
static json_t *row_or_fail(struct state *st, sqlite3_stmt *s)
{
	json_t *o = row_json(s);

	if (o == NULL)
		state_fail(st,
			   "conflict %lld: a column that holds JSON does not; the ledger is "
			   "damaged",
			   (long long)sqlite3_column_int64(s, 0));
	return o;
}

int ledger_find(struct state *st, int64_t id, json_t **out)
{
	sqlite3_stmt *s;
	int rc;

	*out = NULL;
	if (sqlite3_prepare_v2(state_db(st), SELECT_CONFLICT "WHERE id = ?", -1, &s, NULL) !=
	    SQLITE_OK)
		return db_fail(st);
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = (*out = row_or_fail(st, s)) != NULL ? 0 : -1;
	else
		rc = rc == SQLITE_DONE ? 1 : db_fail(st);
	sqlite3_finalize(s);
	return rc;
}

json_t *ledger_get(struct state *st, int64_t id)
{
	json_t *o;

	return ledger_find(st, id, &o) == 0 ? o : NULL;
}

json_t *ledger_list(struct state *st, bool open_only, int limit)
{
	sqlite3_stmt *s;
	json_t *list = json_array(), *o;
	const char *sql = open_only ? SELECT_CONFLICT
			      "WHERE state = 'open' ORDER BY id DESC LIMIT ?"
				    : SELECT_CONFLICT "ORDER BY id DESC LIMIT ?";
	int rc;

	if (list == NULL || sqlite3_prepare_v2(state_db(st), sql, -1, &s, NULL) != SQLITE_OK) {
		json_decref(list);
		db_fail(st);
		return NULL;
	}
	sqlite3_bind_int(s, 1, limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if ((o = row_or_fail(st, s)) == NULL)
			break;
		json_array_append_new(list, o);
	}
	if (rc != SQLITE_DONE) {
		if (rc != SQLITE_ROW)
			db_fail(st);
		json_decref(list);
		list = NULL;
	}
	sqlite3_finalize(s);
	return list;
}

/*
 * Its columns are the ones whose writes call state_conflict_changed(): one
 * more read here wants a call at each write of it.
 */
int ledger_each_between(struct state *st, const char *schema, const char *table, const char *kinds,
			const char *replica, int (*fn)(const struct ledger_between *c, void *arg),
			void *arg)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(
		state_db(st),
		"SELECT id, kind, state = 'open', (SELECT json_extract(w.value, '$.gtid') FROM "
		"json_each(writes_json) w WHERE json_extract(w.value, '$.master') <> ?4 LIMIT 1) "
		"FROM conflict WHERE schema_name = ?1 AND table_name = ?2 AND instr(?3, kind) > 0 "
		"AND (state = 'open' OR resolved_by = 'engine') AND EXISTS (SELECT 1 FROM "
		"json_each(writes_json) w WHERE json_extract(w.value, '$.master') = ?4) AND EXISTS "
		"(SELECT 1 FROM json_each(writes_json) w WHERE json_extract(w.value, '$.master') "
		"<> "
		"?4) ORDER BY id DESC LIMIT 64",
		-1, &s, NULL) != SQLITE_OK)
		return db_fail(st);
	sqlite3_bind_text(s, 1, schema, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, table, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, kinds, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, replica, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *gtid = (const char *)sqlite3_column_text(s, 3);
		struct ledger_between c = {
			sqlite3_column_int64(s, 0),
			(const char *)sqlite3_column_text(s, 1),
			sqlite3_column_int(s, 2) != 0,
			gtid != NULL ? gtid : "",
		};
		if (fn(&c, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	rc = rc == SQLITE_DONE ? 0 : db_fail(st);
	sqlite3_finalize(s);
	return rc;
}

int ledger_each_open(struct state *st, double resolved_since,
		     void (*fn)(const struct ledger_open *o, void *arg), void *arg)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(
		state_db(st),
		"SELECT uid, schema_name, table_name, key_hex, unique_key, kind = 'drift' FROM "
		"conflict "
		"WHERE key_hex != '' AND (state = 'open' OR (?1 > 0 AND state = "
		"'resolved' AND resolved_by = 'engine' AND resolved_at >= ?1)) "
		"ORDER BY id",
		-1, &s, NULL) != SQLITE_OK)
		return db_fail(st);
	sqlite3_bind_double(s, 1, resolved_since);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct ledger_open o = {
			(const char *)sqlite3_column_text(s, 0),
			(const char *)sqlite3_column_text(s, 1),
			(const char *)sqlite3_column_text(s, 2),
			(const char *)sqlite3_column_text(s, 3),
			sqlite3_column_int(s, 4) != 0,
			sqlite3_column_int(s, 5) != 0,
		};
		fn(&o, arg);
	}
	rc = rc == SQLITE_DONE ? 0 : db_fail(st);
	sqlite3_finalize(s);
	return rc;
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
		return db_fail(st);
	if (sqlite3_step(s) == SQLITE_ROW) {
		*open = sqlite3_column_int64(s, 0);
		*total = sqlite3_column_int64(s, 1);
		rc = 0;
	} else {
		db_fail(st);
	}
	sqlite3_finalize(s);
	return rc;
}

int ledger_diverged_rows(struct state *st, int64_t *rows)
{
	sqlite3_stmt *s;
	int rc = -1;

	if (sqlite3_prepare_v2(
		state_db(st),
		"SELECT COUNT(*) FROM (SELECT DISTINCT schema_name, table_name, key_hex "
		"FROM conflict WHERE state = 'open' AND diverged)",
		-1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW) {
		*rows = sqlite3_column_int64(s, 0);
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
	int rc;

	if (sqlite3_prepare_v2(
		state_db(st),
		"SELECT schema_name, table_name, kind, COUNT(*) FROM conflict GROUP BY "
		"schema_name, table_name, kind ORDER BY 1, 2, 3",
		-1, &s, NULL) != SQLITE_OK)
		return db_fail(st);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn((const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
		   (const char *)sqlite3_column_text(s, 2), sqlite3_column_int64(s, 3), arg);
	rc = rc == SQLITE_DONE ? 0 : db_fail(st);
	sqlite3_finalize(s);
	return rc;
}

int ledger_open_totals(struct state *st,
		       void (*fn)(const char *schema, const char *table, int64_t n, void *arg),
		       void *arg)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(state_db(st),
			       "SELECT schema_name, table_name, COUNT(*) FROM conflict WHERE state "
			       "= 'open' GROUP BY schema_name, table_name",
			       -1, &s, NULL) != SQLITE_OK)
		return db_fail(st);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn((const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
		   sqlite3_column_int64(s, 2), arg);
	rc = rc == SQLITE_DONE ? 0 : db_fail(st);
	sqlite3_finalize(s);
	return rc;
}

int ledger_recent(struct state *st, double since, int limit,
		  void (*fn)(const struct ledger_recent *r, void *arg), void *arg)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(
		state_db(st),
		"SELECT schema_name, table_name, kind, COUNT(*), COALESCE(SUM(state = 'open'), 0), "
		"MAX(id), MAX(detected_at) FROM conflict WHERE id > (SELECT COALESCE(MAX(id), 0) "
		"FROM conflict) - ?2 AND detected_at >= ?1 GROUP BY schema_name, table_name, kind",
		-1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_double(s, 1, since);
	sqlite3_bind_int(s, 2, limit);
	while (sqlite3_step(s) == SQLITE_ROW) {
		struct ledger_recent r = {
			(const char *)sqlite3_column_text(s, 0),
			(const char *)sqlite3_column_text(s, 1),
			(const char *)sqlite3_column_text(s, 2),
			sqlite3_column_int64(s, 3),
			sqlite3_column_int64(s, 4),
			sqlite3_column_int64(s, 5),
			sqlite3_column_double(s, 6),
		};
		fn(&r, arg);
	}
	sqlite3_finalize(s);
	return 0;
}

int ledger_open_diverged(struct state *st,
			 void (*fn)(const char *schema, const char *table, int64_t n,
				    int64_t newest_id, void *arg),
			 void *arg)
{
	sqlite3_stmt *s;

	if (sqlite3_prepare_v2(state_db(st),
			       "SELECT schema_name, table_name, COUNT(*), MAX(id) FROM conflict "
			       "WHERE state = 'open' AND diverged GROUP BY schema_name, table_name",
			       -1, &s, NULL) != SQLITE_OK)
		return -1;
	while (sqlite3_step(s) == SQLITE_ROW)
		fn((const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
		   sqlite3_column_int64(s, 2), sqlite3_column_int64(s, 3), arg);
	sqlite3_finalize(s);
	return 0;
}
