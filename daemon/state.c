/*
 * state.c - durable state in SQLite: opening it (the lock, the integrity
 * check, the schema), and the checkpoints, gaps, engine marks and schema
 * journal.
 */
#include "state.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

struct state {
	sqlite3 *db;
	int lock_fd;
	char path[4096]; /* of the database */
	char error[700]; /* why the last call failed */
};

/* Schema versions, applied in order; PRAGMA user_version says how far. */
static const char *const migrations[] = {
	"CREATE TABLE checkpoint ("
	"  master TEXT PRIMARY KEY,"
	"  server_id INTEGER NOT NULL,"
	"  gtid TEXT NOT NULL,"
	"  file TEXT NOT NULL,"
	"  offset INTEGER NOT NULL,"
	"  saved_at REAL NOT NULL);"
	"CREATE TABLE gap ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  master TEXT NOT NULL,"
	"  from_pos TEXT NOT NULL,"
	"  to_pos TEXT NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  at REAL NOT NULL,"
	"  acknowledged INTEGER NOT NULL DEFAULT 0);",
	/* 2: the conflict ledger (ledger.c) */
	"CREATE TABLE conflict ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  uid TEXT NOT NULL UNIQUE,"
	"  kind TEXT NOT NULL,"
	"  schema_name TEXT NOT NULL,"
	"  table_name TEXT NOT NULL,"
	"  key_json TEXT NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'open',"
	"  diverged INTEGER NOT NULL,"
	"  detected_at REAL NOT NULL,"
	"  detection_delay REAL,"
	"  writes_json TEXT NOT NULL,"
	"  final_json TEXT NOT NULL,"
	"  resolved_at REAL,"
	"  resolved_by TEXT);"
	"CREATE INDEX conflict_state ON conflict (state, id);",
	/* 3: the conflict engine's checkpoint (tracker.c), and the key bytes of
	 * conflicts, to hand open ones back to the engine after a restart */
	"ALTER TABLE conflict ADD COLUMN key_hex TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE conflict ADD COLUMN unique_key INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE engine_mark ("
	"  master TEXT PRIMARY KEY,"
	"  fed INTEGER NOT NULL,"
	"  last INTEGER NOT NULL,"
	"  unsettled INTEGER NOT NULL,"
	"  low_water INTEGER NOT NULL,"
	"  file TEXT NOT NULL);"
	"CREATE TABLE engine_unsettled (hash INTEGER NOT NULL);",
	/* 4: the open conflicts on one row, found by its key (ledger.c) */
	"CREATE INDEX conflict_row ON conflict (schema_name, table_name, key_hex, state);",
	/* 5: each master's schema history (tracker.c): a table's shape from pos on;
	 * sql and why both NULL: the table is gone */
	"CREATE TABLE schema_journal ("
	"  master TEXT NOT NULL,"
	"  pos INTEGER NOT NULL,"
	"  schema_name TEXT NOT NULL,"
	"  table_name TEXT NOT NULL,"
	"  sql TEXT,"
	"  why TEXT,"
	"  source INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (master, schema_name, table_name, pos));",
};

static int exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int user_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int migrate(sqlite3 *db, char *err, size_t errlen)
{
	int have = user_version(db);
	int want = (int)(sizeof(migrations) / sizeof(migrations[0]));
	char sql[64];

	if (have < 0 || have > want) {
		snprintf(err, errlen, "schema version %d is not one this version knows (%d)", have,
			 want);
		return -1;
	}
	for (int v = have; v < want; v++) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (exec(db, "BEGIN") != 0 || exec(db, migrations[v]) != 0 || exec(db, sql) != 0 ||
		    exec(db, "COMMIT") != 0) {
			snprintf(err, errlen, "schema step %d: %s", v + 1, sqlite3_errmsg(db));
			exec(db, "ROLLBACK");
			return -1;
		}
	}
	return 0;
}

/* The pid written in a lock file, or 0 when it says none. */
static long lock_holder(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	char *end;
	long pid;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	pid = strtol(buf, &end, 10);
	return end != buf && (*end == '\n' || *end == '\0') && pid > 0 ? pid : 0;
}

/*
 * Hold DIR/ringwatchd.lock (flock) with this process's pid in it: the file
 * descriptor, or -1 with err.  Two ringwatchd on one state_dir would record
 * every conflict twice over and undo each other's checkpoints.
 */
static int lock_dir(const char *dir, char *err, size_t errlen)
{
	char path[4200], pid[32];
	int fd, n;

	snprintf(path, sizeof(path), "%s/ringwatchd.lock", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		long other = e == EWOULDBLOCK ? lock_holder(fd) : 0;
		if (e != EWOULDBLOCK)
			snprintf(err, errlen, "%s: %s", path, strerror(e));
		else if (other > 0)
			snprintf(err, errlen,
				 "state_dir %s is in use by process %ld (it holds %s): is another "
				 "ringwatchd running with this state_dir?",
				 dir, other, path);
		else
			snprintf(err, errlen,
				 "state_dir %s is in use by another process (it holds %s): is "
				 "another ringwatchd running with this state_dir?",
				 dir, path);
		close(fd);
		return -1;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Create path 0600 unless it exists (SQLite gives its -wal and -shm files the
 * database's mode): 0, 1 when it was created, -1 with err. */
static int create_private(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd >= 0) {
		close(fd);
		return 1;
	}
	if (errno == EEXIST)
		return 0;
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return -1;
}

/*
 * SQLite's integrity check (every page, and every index against its table):
 * 0 when the database is whole, 1 when it is damaged (its first findings in
 * why), -1 when it could not be checked (why says so).
 */
static int check_integrity(sqlite3 *db, char *why, size_t len)
{
	sqlite3_stmt *s = NULL;
	size_t used = 0;
	int rc;

	why[0] = '\0';
	rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check(5)", -1, &s, NULL);
	while (s != NULL && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *line = (const char *)sqlite3_column_text(s, 0);
		if (line == NULL || strcmp(line, "ok") == 0 || used + 3 >= len)
			continue;
		used +=
		    (size_t)snprintf(why + used, len - used, "%s%s", used > 0 ? "; " : "", line);
		if (used >= len)
			used = len - 1;
	}
	if (rc != SQLITE_DONE && used == 0)
		snprintf(why, len, "%s", sqlite3_errmsg(db));
	sqlite3_finalize(s);
	for (char *nl = strchr(why, '\n'); nl != NULL; nl = strchr(nl, '\n'))
		*nl = ' '; /* one line for the log */
	if (used > 0 || (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Open path, a database whose file exists; 0, or -1 with err. */
static int open_db(struct state *st, char *err, size_t errlen)
{
	char why[400];
	int rc;

	if (sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", st->path,
			 st->db != NULL ? sqlite3_errmsg(st->db) : "no memory");
		return -1;
	}
	sqlite3_busy_timeout(st->db, 2000);
	rc = check_integrity(st->db, why, sizeof(why));
	if (rc == 1) {
		snprintf(err, errlen,
			 "%s is damaged (SQLite's integrity check: %s); move it aside with its "
			 "-wal and -shm files and start ringwatchd again: it then makes a new "
			 "state and reads each master's binlogs from the oldest it still has "
			 "(ringwatchd(8), STATE)",
			 st->path, why);
		return -1;
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot be checked: %s", st->path, why);
		return -1;
	}
	if (exec(st->db, "PRAGMA journal_mode = WAL") != 0 ||
	    exec(st->db, "PRAGMA synchronous = NORMAL") != 0) {
		snprintf(err, errlen, "%s: %s", st->path, sqlite3_errmsg(st->db));
		return -1;
	}
	if (migrate(st->db, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "%s: %s", st->path, why);
		return -1;
	}
	return 0;
}

struct state *state_open(const char *dir, char *err, size_t errlen)
{
	struct state *st = calloc(1, sizeof(*st));
	int created;

	if (st == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st->lock_fd = lock_dir(dir, err, errlen);
	if (st->lock_fd < 0) {
		free(st);
		return NULL;
	}
	snprintf(st->path, sizeof(st->path), "%s/ringwatch.db", dir);
	created = create_private(st->path, err, errlen);
	if (created < 0 || open_db(st, err, errlen) != 0) {
		state_close(st);
		return NULL;
	}
	if (created)
		log_notice("state: %s is new: each master's binlogs are read from the oldest it "
			   "still has, and what they hold is recorded anew",
			   st->path);
	return st;
}

void state_close(struct state *st)
{
	if (st == NULL)
		return;
	sqlite3_close(st->db);
	if (st->lock_fd >= 0)
		close(st->lock_fd); /* the lock goes with it */
	free(st);
}

/* ---- errors --------------------------------------------------------------------- */

/* Note SQLite's last error as the reason; returns -1. */
static int fail(struct state *st)
{
	snprintf(st->error, sizeof(st->error), "%.300s: %.380s", st->path, sqlite3_errmsg(st->db));
	return -1;
}

int state_fail(struct state *st, const char *fmt, ...)
{
	char what[500];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(st->error, sizeof(st->error), "%.300s: %.380s", st->path, what);
	return -1;
}

const char *state_error(const struct state *st)
{
	return st->error;
}

static void copy_text(char *dst, size_t len, sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	snprintf(dst, len, "%s", t != NULL ? (const char *)t : "");
}

int state_engine_save(struct state *st, const struct engine_mark *marks, size_t n,
		      const uint64_t *hashes, size_t n_hashes)
{
	sqlite3_stmt *m = NULL, *h = NULL;
	int rc = -1;

	if (exec(st->db, "BEGIN") != 0)
		return fail(st);
	if (exec(st->db, "DELETE FROM engine_unsettled") != 0 ||
	    sqlite3_prepare_v2(st->db,
			       "INSERT OR REPLACE INTO engine_mark (master, fed, last, unsettled, "
			       "low_water, file) VALUES (?, ?, ?, ?, ?, ?)",
			       -1, &m, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, "INSERT INTO engine_unsettled (hash) VALUES (?)", -1, &h,
			       NULL) != SQLITE_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		sqlite3_reset(m);
		sqlite3_bind_text(m, 1, marks[i].master, -1, SQLITE_STATIC);
		sqlite3_bind_int(m, 2, marks[i].fed);
		sqlite3_bind_int64(m, 3, (sqlite3_int64)marks[i].last);
		sqlite3_bind_int(m, 4, marks[i].unsettled);
		sqlite3_bind_int64(m, 5, (sqlite3_int64)marks[i].low_water);
		sqlite3_bind_text(m, 6, marks[i].file, -1, SQLITE_STATIC);
		if (sqlite3_step(m) != SQLITE_DONE)
			goto out;
	}
	for (size_t i = 0; i < n_hashes; i++) {
		sqlite3_reset(h);
		sqlite3_bind_int64(h, 1, (sqlite3_int64)hashes[i]);
		if (sqlite3_step(h) != SQLITE_DONE)
			goto out;
	}
	rc = exec(st->db, "COMMIT");
out:
	sqlite3_finalize(m);
	sqlite3_finalize(h);
	if (rc != 0) {
		fail(st); /* before the rollback clears SQLite's words */
		exec(st->db, "ROLLBACK");
	}
	return rc;
}

int state_engine_mark(struct state *st, const char *master, struct engine_mark *out)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(
		st->db,
		"SELECT fed, last, unsettled, low_water, file FROM engine_mark WHERE "
		"master = ?",
		-1, &s, NULL) != SQLITE_OK)
		return fail(st);
	sqlite3_bind_text(s, 1, master, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		snprintf(out->master, sizeof(out->master), "%s", master);
		out->fed = sqlite3_column_int(s, 0);
		out->last = (uint64_t)sqlite3_column_int64(s, 1);
		out->unsettled = sqlite3_column_int(s, 2);
		out->low_water = (uint64_t)sqlite3_column_int64(s, 3);
		copy_text(out->file, sizeof(out->file), s, 4);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? 1 : fail(st);
	}
	sqlite3_finalize(s);
	return rc;
}

int state_engine_unsettled(struct state *st, void (*fn)(uint64_t hash, void *arg), void *arg)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, "SELECT hash FROM engine_unsettled", -1, &s, NULL) !=
	    SQLITE_OK)
		return fail(st);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn((uint64_t)sqlite3_column_int64(s, 0), arg);
	rc = rc == SQLITE_DONE ? 0 : fail(st);
	sqlite3_finalize(s);
	return rc;
}

sqlite3 *state_db(struct state *st)
{
	return st->db;
}

int state_checkpoint_load(struct state *st, const char *master, struct checkpoint *out)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db,
			       "SELECT server_id, gtid, file, offset, saved_at FROM checkpoint "
			       "WHERE master = ?",
			       -1, &s, NULL) != SQLITE_OK)
		return fail(st);
	sqlite3_bind_text(s, 1, master, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		out->server_id = (uint32_t)sqlite3_column_int64(s, 0);
		copy_text(out->gtid, sizeof(out->gtid), s, 1);
		copy_text(out->file, sizeof(out->file), s, 2);
		out->offset = (uint64_t)sqlite3_column_int64(s, 3);
		out->saved_at = sqlite3_column_double(s, 4);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? 1 : fail(st);
	}
	sqlite3_finalize(s);
	return rc;
}

int state_checkpoint_save(struct state *st, const char *master, const struct checkpoint *cp)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db,
			       "INSERT INTO checkpoint (master, server_id, gtid, file, offset, "
			       "saved_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(master) DO UPDATE "
			       "SET server_id = excluded.server_id, gtid = excluded.gtid, file = "
			       "excluded.file, offset = excluded.offset, saved_at = "
			       "excluded.saved_at",
			       -1, &s, NULL) != SQLITE_OK)
		return fail(st);
	sqlite3_bind_text(s, 1, master, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, cp->server_id);
	sqlite3_bind_text(s, 3, cp->gtid, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, cp->file, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)cp->offset);
	sqlite3_bind_double(s, 6, cp->saved_at);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : fail(st);
	sqlite3_finalize(s);
	return rc;
}

int64_t state_gap_add(struct state *st, const struct gap *g)
{
	sqlite3_stmt *s;
	int64_t id = -1;

	if (sqlite3_prepare_v2(st->db,
			       "INSERT INTO gap (master, from_pos, to_pos, reason, at) VALUES "
			       "(?, ?, ?, ?, ?)",
			       -1, &s, NULL) != SQLITE_OK)
		return fail(st);
	sqlite3_bind_text(s, 1, g->master, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, g->from, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, g->to, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, g->reason, -1, SQLITE_STATIC);
	sqlite3_bind_double(s, 5, g->at);
	if (sqlite3_step(s) == SQLITE_DONE)
		id = sqlite3_last_insert_rowid(st->db);
	else
		fail(st);
	sqlite3_finalize(s);
	return id;
}

int state_gap_open(struct state *st, const char *master, struct gap *out)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db,
			       "SELECT id, master, from_pos, to_pos, reason, at FROM gap WHERE "
			       "master = ? AND acknowledged = 0 ORDER BY id DESC LIMIT 1",
			       -1, &s, NULL) != SQLITE_OK)
		return fail(st);
	sqlite3_bind_text(s, 1, master, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		out->id = sqlite3_column_int64(s, 0);
		copy_text(out->master, sizeof(out->master), s, 1);
		copy_text(out->from, sizeof(out->from), s, 2);
		copy_text(out->to, sizeof(out->to), s, 3);
		copy_text(out->reason, sizeof(out->reason), s, 4);
		out->at = sqlite3_column_double(s, 5);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? 1 : fail(st);
	}
	sqlite3_finalize(s);
	return rc;
}

int state_gap_ack(struct state *st, int64_t id)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db,
			       "UPDATE gap SET acknowledged = 1 WHERE id = ? AND acknowledged = 0",
			       -1, &s, NULL) != SQLITE_OK)
		return fail(st);
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s) == SQLITE_DONE ? 0 : fail(st);
	sqlite3_finalize(s);
	if (rc == 0 && sqlite3_changes(st->db) == 0)
		rc = 1;
	return rc;
}

int state_schema_put(struct state *st, const char *master, uint64_t pos, const char *schema,
		     const char *table, const char *sql, const char *why, int source)
{
	sqlite3_stmt *s = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(st->db,
			       "INSERT OR REPLACE INTO schema_journal (master, pos, schema_name, "
			       "table_name, sql, why, source) VALUES (?, ?, ?, ?, ?, ?, ?)",
			       -1, &s, NULL) != SQLITE_OK)
		return fail(st);
	sqlite3_bind_text(s, 1, master, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)pos);
	sqlite3_bind_text(s, 3, schema, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, table, -1, SQLITE_STATIC);
	if (sql != NULL)
		sqlite3_bind_text(s, 5, sql, -1, SQLITE_STATIC);
	if (why != NULL)
		sqlite3_bind_text(s, 6, why, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 7, source);
	if (sqlite3_step(s) == SQLITE_DONE)
		rc = 0;
	else
		fail(st);
	sqlite3_finalize(s);
	return rc;
}

int state_schema_load(struct state *st, const char *master, uint64_t at,
		      void (*fn)(const char *schema, const char *table, const char *sql,
				 const char *why, int source, void *arg),
		      void *arg, uint64_t *last)
{
	sqlite3_stmt *s = NULL;
	int rc;

	*last = 0;
	if (sqlite3_prepare_v2(
		st->db,
		"SELECT j.schema_name, j.table_name, j.sql, j.why, j.pos, j.source FROM "
		"schema_journal j WHERE j.master = ?1 AND j.pos = (SELECT MAX(pos) "
		"FROM schema_journal k WHERE k.master = ?1 AND k.schema_name = "
		"j.schema_name AND k.table_name = j.table_name AND k.pos <= ?2)",
		-1, &s, NULL) != SQLITE_OK)
		return fail(st);
	sqlite3_bind_text(s, 1, master, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)at);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		uint64_t pos = (uint64_t)sqlite3_column_int64(s, 4);
		if (pos > *last)
			*last = pos;
		if (sqlite3_column_type(s, 2) == SQLITE_NULL &&
		    sqlite3_column_type(s, 3) == SQLITE_NULL)
			continue; /* gone */
		fn((const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1),
		   (const char *)sqlite3_column_text(s, 2), (const char *)sqlite3_column_text(s, 3),
		   sqlite3_column_int(s, 5), arg);
	}
	rc = rc == SQLITE_DONE ? 0 : fail(st);
	sqlite3_finalize(s);
	return rc;
}

int state_schema_forget(struct state *st, const char *master, uint64_t from, uint64_t upto)
{
	sqlite3_stmt *s = NULL;
	int rc = -1;

	/* entries after from: the stream reads them again; entries that a later
	 * one of the same table at or before upto replaces: no restart needs them */
	if (sqlite3_prepare_v2(
		st->db,
		"DELETE FROM schema_journal WHERE master = ?1 AND (pos > ?2 OR pos < "
		"(SELECT MAX(pos) FROM schema_journal k WHERE k.master = ?1 AND "
		"k.schema_name = schema_journal.schema_name AND k.table_name = "
		"schema_journal.table_name AND k.pos <= ?3))",
		-1, &s, NULL) != SQLITE_OK)
		return fail(st);
	sqlite3_bind_text(s, 1, master, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)from);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)upto);
	if (sqlite3_step(s) == SQLITE_DONE)
		rc = 0;
	else
		fail(st);
	sqlite3_finalize(s);
	return rc;
}
