/*
 * state.c - durable state in SQLite: opening it (the lock, the integrity
 * check, the schema), the queue of writes kept after a failure, and the
 * checkpoints, gaps, engine marks and schema journal.
 */
#include "state.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define DB_FILE   "ringwatch.db"
#define LOCK_FILE "ringwatchd.lock"

/* A write that failed, kept to be tried again (state_write()). */
struct kept {
	struct kept *next;
	const struct state_op *op;
	void *data;
	size_t size;
};

struct state {
	sqlite3 *db;
	int lock_fd;
	char path[4096]; /* of the database */
	char error[700]; /* why the last call failed */
	struct kept *kept, *kept_tail;
	size_t n_kept, kept_bytes;
	uint64_t write_errors, writes_lost;
	uint64_t rewritten; /* kept writes written since writes began to fail */
	bool failing;       /* writes fail: said in the log, not said again until they work */
	bool noted;         /* the write being applied has put its failure in error */
	/* state_conflict_changed() calls, for state_conflict_version() */
	uint64_t conflict_changes;
};

static void unkeep(struct state *st, struct kept *prev, struct kept *k);

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
	/*
	 * 2: the conflict ledger (ledger.c).  A write to it that changes a
	 * column ledger_each_between() reads (id, kind, schema_name,
	 * table_name, state, resolved_by, writes_json) calls
	 * state_conflict_changed(), or the memo of link causes
	 * (ledger_memo.c) keeps an answer that is no longer true.
	 */
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
	/* 6: where acknowledging a gap moved reading to (state_gap_ack()); one step,
	 * two statements */
	("ALTER TABLE gap ADD COLUMN moved_file TEXT;"
	 "ALTER TABLE gap ADD COLUMN moved_offset INTEGER;"),
	/* 7: when the engine's checkpoint was taken: the records a later write resolved after
	 * it are handed back to the engine at a restart (tracker_restore()) */
	"ALTER TABLE engine_mark ADD COLUMN saved_at REAL NOT NULL DEFAULT 0;",
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

/* ---- opening ---------------------------------------------------------------------- */

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

	snprintf(path, sizeof(path), "%s/" LOCK_FILE, dir);
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
	snprintf(st->path, sizeof(st->path), "%s/" DB_FILE, dir);
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
	while (st->db != NULL && state_retry(st) > 0)
		;
	if (st->kept != NULL)
		log_error("state: %zu writes to %s are lost (%s); no checkpoint was saved past "
			  "them, so the next start reads their binlogs again",
			  st->n_kept, st->path, st->error);
	while (st->kept != NULL)
		unkeep(st, NULL, st->kept);
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

sqlite3 *state_db(struct state *st)
{
	return st->db;
}

void state_conflict_changed(struct state *st)
{
	st->conflict_changes++;
}

int state_conflict_version(struct state *st, struct state_version *out)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, "PRAGMA data_version", -1, &s, NULL) != SQLITE_OK)
		return fail(st);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->writes = st->conflict_changes;
		out->others = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : fail(st);
}

/* ---- writes, and those kept after a failure --------------------------------------- */

/* Whether a write that failed with rc may work later (else SQLite refuses it for good). */
static bool may_pass(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_ERROR:
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_TOOBIG:
	case SQLITE_RANGE:
	case SQLITE_MISUSE:
		return false;
	default:
		return true;
	}
}

static void lose(struct state *st, const struct state_op *op, const char *why)
{
	if (st->writes_lost++ == 0)
		log_error("state: writing %s to %s: %s; from now on no checkpoint is saved, so "
			  "that the next start reads the binlogs again from before what was lost",
			  op->what, st->path, why);
	else
		log_debug("state: %s lost: %s", op->what, why);
}

/* Drop k, which follows prev (NULL: k is first), from the kept writes. */
static void unkeep(struct state *st, struct kept *prev, struct kept *k)
{
	if (prev != NULL)
		prev->next = k->next;
	else
		st->kept = k->next;
	if (st->kept_tail == k)
		st->kept_tail = prev;
	st->n_kept--;
	st->kept_bytes -= k->size;
	k->op->release(k->data);
	free(k);
}

/* Keep op's write of arg, queued behind the others: 1, or -1 when it is lost. */
static int keep(struct state *st, const struct state_op *op, void *arg)
{
	struct kept *k, *prev = NULL;
	size_t size = 0;

	for (k = st->kept; op->same != NULL && k != NULL; prev = k, k = k->next) {
		if (k->op == op && op->same(k->data, arg)) {
			unkeep(st, prev, k);
			break;
		}
	}
	k = calloc(1, sizeof(*k));
	if (k == NULL || st->kept_bytes >= STATE_KEPT_MAX ||
	    (k->data = op->keep(arg, &size)) == NULL || st->kept_bytes + size > STATE_KEPT_MAX) {
		if (k != NULL && k->data != NULL)
			op->release(k->data);
		lose(st, op,
		     k != NULL && k->data != NULL ? "the writes kept in memory are at their bound"
						  : "out of memory");
		free(k);
		return -1;
	}
	k->op = op;
	k->size = size + sizeof(*k);
	if (st->kept_tail != NULL)
		st->kept_tail->next = k;
	else
		st->kept = k;
	st->kept_tail = k;
	st->n_kept++;
	st->kept_bytes += k->size;
	if (!st->failing) {
		st->failing = true;
		st->rewritten = 0;
		log_error("state: writing %s to %s failed (%s); kept in memory and tried again "
			  "each second, with the writes that follow it",
			  op->what, st->path, st->error);
	}
	return 1;
}

/* A write failed with rc: count it, and say why in st->error. */
static void failed(struct state *st, int rc)
{
	st->write_errors++;
	if (st->noted)
		return;
	if (sqlite3_errcode(st->db) != SQLITE_OK)
		fail(st);
	else
		snprintf(st->error, sizeof(st->error), "%.300s: %.380s", st->path,
			 sqlite3_errstr(rc));
}

/* op's apply() of arg, st->noted cleared for it. */
static int apply(struct state *st, const struct state_op *op, void *arg)
{
	st->noted = false;
	return op->apply(st, arg);
}

int state_write(struct state *st, const struct state_op *op, void *arg)
{
	int rc;

	if (op->resume_point && st->writes_lost > 0)
		return 0; /* the next start reads again from the last one saved */
	if (st->kept == NULL) {
		rc = apply(st, op, arg);
		if (rc == SQLITE_OK)
			return 0;
		failed(st, rc);
		if (!may_pass(rc))
			return -1;
	}
	return keep(st, op, arg);
}

int state_retry(struct state *st)
{
	for (int n = 0; st->kept != NULL; n++) {
		int rc;

		if (n == STATE_RETRY_BATCH)
			return 1; /* the loop has other work; the rest at the next call */
		rc = apply(st, st->kept->op, st->kept->data);
		if (rc != SQLITE_OK) {
			failed(st, rc);
			if (may_pass(rc)) {
				log_debug("state: %s still cannot be written: %s",
					  st->kept->op->what, st->error);
				return -1;
			}
			lose(st, st->kept->op, st->error);
		} else {
			st->rewritten++;
		}
		unkeep(st, NULL, st->kept);
	}
	if (st->failing) {
		st->failing = false;
		log_notice("state: %s can be written again: the %llu writes kept meanwhile are "
			   "written",
			   st->path, (unsigned long long)st->rewritten);
	}
	return 0;
}

void state_health(const struct state *st, struct state_health *out)
{
	size_t used = 0;

	memset(out, 0, sizeof(*out));
	out->kept = st->n_kept;
	out->write_errors = st->write_errors;
	out->writes_lost = st->writes_lost;
	if (st->n_kept > 0)
		used = (size_t)snprintf(out->detail, sizeof(out->detail),
					"%zu writes failed, kept in memory and tried again each "
					"second: %.400s",
					st->n_kept, st->error);
	if (st->writes_lost > 0 && used < sizeof(out->detail))
		snprintf(out->detail + used, sizeof(out->detail) - used,
			 "%s%llu writes lost (the writes kept in memory were at their bound): "
			 "restart ringwatchd once the state can be written, to read the binlogs "
			 "again from before them",
			 used > 0 ? "; " : "", (unsigned long long)st->writes_lost);
}

void *state_keep_copy(const void *arg, size_t size, size_t n, size_t *total)
{
	const char *const *from = arg;
	size_t len = size;
	char *block, *at;
	const char **to;

	for (size_t i = 0; i < n; i++)
		len += from[i] != NULL ? strlen(from[i]) + 1 : 0;
	block = malloc(len);
	if (block == NULL)
		return NULL;
	memcpy(block, arg, size);
	to = (const char **)(void *)block;
	at = block + size;
	for (size_t i = 0; i < n; i++) {
		if (from[i] == NULL)
			continue;
		to[i] = memcpy(at, from[i], strlen(from[i]) + 1);
		at += strlen(from[i]) + 1;
	}
	*total = len;
	return block;
}

/* A statement's step, finalized: SQLITE_OK when it ran to its end. */
static int step_done(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Prepare sql: SQLITE_OK, or SQLite's code. */
static int prepare(struct state *st, const char *sql, sqlite3_stmt **s)
{
	return sqlite3_prepare_v2(st->db, sql, -1, s, NULL);
}

static int exec_rc(struct state *st, const char *sql)
{
	return sqlite3_exec(st->db, sql, NULL, NULL, NULL);
}

static void copy_text(char *dst, size_t len, sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	snprintf(dst, len, "%s", t != NULL ? (const char *)t : "");
}

/* ---- the conflict engine's checkpoint ---------------------------------------------- */

struct engine_write {
	const struct engine_mark *marks;
	size_t n;
	const uint64_t *hashes;
	size_t n_hashes;
};

static int engine_rows(struct state *st, void *arg)
{
	const struct engine_write *w = arg;
	sqlite3_stmt *m = NULL, *h = NULL;
	int rc;

	if ((rc = exec_rc(st, "DELETE FROM engine_unsettled")) != SQLITE_OK ||
	    (rc = prepare(st,
			  "INSERT OR REPLACE INTO engine_mark (master, fed, last, unsettled, "
			  "low_water, file, saved_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
			  &m)) != SQLITE_OK ||
	    (rc = prepare(st, "INSERT INTO engine_unsettled (hash) VALUES (?)", &h)) != SQLITE_OK)
		goto out;
	for (size_t i = 0; i < w->n && rc == SQLITE_OK; i++) {
		sqlite3_reset(m);
		sqlite3_bind_text(m, 1, w->marks[i].master, -1, SQLITE_STATIC);
		sqlite3_bind_int(m, 2, w->marks[i].fed);
		sqlite3_bind_int64(m, 3, (sqlite3_int64)w->marks[i].last);
		sqlite3_bind_int(m, 4, w->marks[i].unsettled);
		sqlite3_bind_int64(m, 5, (sqlite3_int64)w->marks[i].low_water);
		sqlite3_bind_text(m, 6, w->marks[i].file, -1, SQLITE_STATIC);
		sqlite3_bind_double(m, 7, w->marks[i].saved_at);
		rc = sqlite3_step(m) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(st->db);
	}
	for (size_t i = 0; i < w->n_hashes && rc == SQLITE_OK; i++) {
		sqlite3_reset(h);
		sqlite3_bind_int64(h, 1, (sqlite3_int64)w->hashes[i]);
		rc = sqlite3_step(h) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(st->db);
	}
out:
	sqlite3_finalize(m);
	sqlite3_finalize(h);
	return rc;
}

/* Run fn in one SQLite transaction: SQLITE_OK, or the failure's code (rolled back, and
 * its words noted before the rollback clears them). */
static int in_transaction(struct state *st, int (*fn)(struct state *st, void *arg), void *arg)
{
	int rc = exec_rc(st, "BEGIN");

	if (rc != SQLITE_OK)
		return rc;
	rc = fn(st, arg);
	if (rc == SQLITE_OK)
		rc = exec_rc(st, "COMMIT");
	if (rc != SQLITE_OK) {
		fail(st);
		st->noted = true;
		exec_rc(st, "ROLLBACK");
	}
	return rc;
}

int state_in_transaction(struct state *st, int (*fn)(struct state *st, void *arg), void *arg)
{
	return in_transaction(st, fn, arg);
}

static int engine_apply(struct state *st, void *arg)
{
	return in_transaction(st, engine_rows, arg);
}

static void *engine_keep(const void *arg, size_t *size)
{
	const struct engine_write *w = arg;
	size_t marks = w->n * sizeof(*w->marks), hashes = w->n_hashes * sizeof(*w->hashes);
	struct engine_write *copy = malloc(sizeof(*copy) + marks + hashes);

	if (copy == NULL)
		return NULL;
	copy->n = w->n;
	copy->n_hashes = w->n_hashes;
	copy->marks = (const struct engine_mark *)(copy + 1);
	copy->hashes = (const uint64_t *)((char *)(copy + 1) + marks);
	if (marks > 0) /* memcpy() of NULL is undefined, even of 0 bytes */
		memcpy(copy + 1, w->marks, marks);
	if (hashes > 0)
		memcpy((char *)(copy + 1) + marks, w->hashes, hashes);
	*size = sizeof(*copy) + marks + hashes;
	return copy;
}

static int engine_same(const void *kept, const void *arg)
{
	(void)kept;
	(void)arg;
	return 1; /* the whole checkpoint, every time */
}

static const struct state_op engine_op = {
	.what = "the conflict engine's checkpoint",
	.apply = engine_apply,
	.keep = engine_keep,
	.release = free,
	.same = engine_same,
	.resume_point = 1,
};

int state_engine_save(struct state *st, const struct engine_mark *marks, size_t n,
		      const uint64_t *hashes, size_t n_hashes)
{
	struct engine_write w = { marks, n, hashes, n_hashes };

	return state_write(st, &engine_op, &w) < 0 ? -1 : 0;
}
int state_engine_mark(struct state *st, const char *master, struct engine_mark *out)
{
	sqlite3_stmt *s;
	int rc;

	if (prepare(st,
		    "SELECT fed, last, unsettled, low_water, file, saved_at FROM engine_mark "
		    "WHERE master = ?",
		    &s) != SQLITE_OK)
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
		out->saved_at = sqlite3_column_double(s, 5);
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

	if (prepare(st, "SELECT hash FROM engine_unsettled", &s) != SQLITE_OK)
		return fail(st);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn((uint64_t)sqlite3_column_int64(s, 0), arg);
	rc = rc == SQLITE_DONE ? 0 : fail(st);
	sqlite3_finalize(s);
	return rc;
}

/* ---- a stream's checkpoint --------------------------------------------------------- */

int state_checkpoint_load(struct state *st, const char *master, struct checkpoint *out)
{
	sqlite3_stmt *s;
	int rc;

	if (prepare(
		st,
		"SELECT server_id, gtid, file, offset, saved_at FROM checkpoint WHERE master = ?",
		&s) != SQLITE_OK)
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

struct checkpoint_write {
	char master[64];
	struct checkpoint cp;
};

/* Replace master's checkpoint: SQLITE_OK or SQLite's code. */
static int put_checkpoint(struct state *st, const char *master, const struct checkpoint *cp)
{
	sqlite3_stmt *s;
	int rc = prepare(st,
			 "INSERT INTO checkpoint (master, server_id, gtid, file, offset, saved_at) "
			 "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(master) DO UPDATE SET server_id = "
			 "excluded.server_id, gtid = excluded.gtid, file = excluded.file, offset = "
			 "excluded.offset, saved_at = excluded.saved_at",
			 &s);

	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_text(s, 1, master, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, cp->server_id);
	sqlite3_bind_text(s, 3, cp->gtid, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, cp->file, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)cp->offset);
	sqlite3_bind_double(s, 6, cp->saved_at);
	return step_done(s);
}

static int checkpoint_apply(struct state *st, void *arg)
{
	const struct checkpoint_write *w = arg;

	return put_checkpoint(st, w->master, &w->cp);
}

static void *checkpoint_keep(const void *arg, size_t *size)
{
	struct checkpoint_write *copy = malloc(sizeof(*copy));

	if (copy != NULL)
		memcpy(copy, arg, sizeof(*copy));
	*size = sizeof(*copy);
	return copy;
}

static int checkpoint_same(const void *kept, const void *arg)
{
	const struct checkpoint_write *a = kept, *b = arg;

	return strcmp(a->master, b->master) == 0;
}

static const struct state_op checkpoint_op = {
	.what = "a stream's checkpoint",
	.apply = checkpoint_apply,
	.keep = checkpoint_keep,
	.release = free,
	.same = checkpoint_same,
	.resume_point = 1,
};

int state_checkpoint_save(struct state *st, const char *master, const struct checkpoint *cp)
{
	struct checkpoint_write w;

	snprintf(w.master, sizeof(w.master), "%s", master);
	w.cp = *cp;
	return state_write(st, &checkpoint_op, &w) < 0 ? -1 : 0;
}

/* ---- gaps ------------------------------------------------------------------------- */

struct gap_write {
	struct gap g;
	int64_t id; /* when written */
};

static int gap_apply(struct state *st, void *arg)
{
	struct gap_write *w = arg;
	sqlite3_stmt *s;
	int rc = prepare(st,
			 "INSERT INTO gap (master, from_pos, to_pos, reason, at) VALUES "
			 "(?, ?, ?, ?, ?)",
			 &s);

	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_text(s, 1, w->g.master, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, w->g.from, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, w->g.to, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, w->g.reason, -1, SQLITE_STATIC);
	sqlite3_bind_double(s, 5, w->g.at);
	rc = step_done(s);
	if (rc == SQLITE_OK)
		w->id = sqlite3_last_insert_rowid(st->db);
	return rc;
}

static void *gap_keep(const void *arg, size_t *size)
{
	struct gap_write *copy = malloc(sizeof(*copy));

	if (copy != NULL)
		memcpy(copy, arg, sizeof(*copy));
	*size = sizeof(*copy);
	return copy;
}

static const struct state_op gap_op = {
	.what = "a gap",
	.apply = gap_apply,
	.keep = gap_keep,
	.release = free,
};

int64_t state_gap_add(struct state *st, const struct gap *g)
{
	struct gap_write w = { .g = *g, .id = 0 };
	int rc = state_write(st, &gap_op, &w);

	return rc < 0 ? -1 : rc == 0 ? w.id : 0;
}

int state_gap_open(struct state *st, const char *master, struct gap *out)
{
	sqlite3_stmt *s;
	int rc;

	if (prepare(st,
		    "SELECT id, master, from_pos, to_pos, reason, at FROM gap WHERE master = ? AND "
		    "acknowledged = 0 ORDER BY id DESC LIMIT 1",
		    &s) != SQLITE_OK)
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

struct gap_ack {
	int64_t id;
	const struct checkpoint *moved_to;
	int changed;
};

/* The acknowledgement and, with it, the checkpoint where reading went on. */
static int ack_rows(struct state *st, void *arg)
{
	struct gap_ack *a = arg;
	sqlite3_stmt *s;
	char master[64] = "";
	int rc = prepare(st, "SELECT master FROM gap WHERE id = ? AND acknowledged = 0", &s);

	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(s, 1, a->id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		copy_text(master, sizeof(master), s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? SQLITE_OK : rc; /* none: nothing to do */
	rc = prepare(
	    st, "UPDATE gap SET acknowledged = 1, moved_file = ?, moved_offset = ? WHERE id = ?",
	    &s);
	if (rc != SQLITE_OK)
		return rc;
	if (a->moved_to != NULL) {
		sqlite3_bind_text(s, 1, a->moved_to->file, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, (sqlite3_int64)a->moved_to->offset);
	}
	sqlite3_bind_int64(s, 3, a->id);
	rc = step_done(s);
	a->changed = rc == SQLITE_OK;
	if (rc != SQLITE_OK || a->moved_to == NULL)
		return rc;
	return put_checkpoint(st, master, a->moved_to);
}

int state_gap_ack(struct state *st, int64_t id, const struct checkpoint *moved_to)
{
	struct gap_ack a = { id, moved_to, 0 };

	/* a person asked: the answer is now, not kept for later */
	if (in_transaction(st, ack_rows, &a) != SQLITE_OK)
		return -1;
	return a.changed ? 0 : 1;
}

int state_gap_moved_to(struct state *st, const char *master, char *file, size_t len,
		       uint64_t *offset)
{
	sqlite3_stmt *s;
	int rc;

	if (prepare(
		st,
		"SELECT moved_file, moved_offset FROM gap WHERE master = ? AND acknowledged = 1 "
		"AND moved_file IS NOT NULL ORDER BY id DESC LIMIT 1",
		&s) != SQLITE_OK)
		return fail(st);
	sqlite3_bind_text(s, 1, master, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		copy_text(file, len, s, 0);
		*offset = (uint64_t)sqlite3_column_int64(s, 1);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? 1 : fail(st);
	}
	sqlite3_finalize(s);
	return rc;
}

/* ---- the schema journal ---------------------------------------------------------- */

struct schema_write {
	const char *master, *schema, *table, *sql, *why; /* state_keep_copy() */
	uint64_t pos;
	int source;
};

static int schema_put_apply(struct state *st, void *arg)
{
	const struct schema_write *w = arg;
	sqlite3_stmt *s;
	int rc = prepare(st,
			 "INSERT OR REPLACE INTO schema_journal (master, pos, schema_name, "
			 "table_name, sql, why, source) VALUES (?, ?, ?, ?, ?, ?, ?)",
			 &s);

	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_text(s, 1, w->master, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)w->pos);
	sqlite3_bind_text(s, 3, w->schema, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, w->table, -1, SQLITE_STATIC);
	if (w->sql != NULL)
		sqlite3_bind_text(s, 5, w->sql, -1, SQLITE_STATIC);
	if (w->why != NULL)
		sqlite3_bind_text(s, 6, w->why, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 7, w->source);
	return step_done(s);
}

static void *schema_keep(const void *arg, size_t *size)
{
	return state_keep_copy(arg, sizeof(struct schema_write), 5, size);
}

static const struct state_op schema_put_op = {
	.what = "a schema journal entry",
	.apply = schema_put_apply,
	.keep = schema_keep,
	.release = free,
};

int state_schema_put(struct state *st, const char *master, uint64_t pos, const char *schema,
		     const char *table, const char *sql, const char *why, int source)
{
	struct schema_write w = { master, schema, table, sql, why, pos, source };

	return state_write(st, &schema_put_op, &w) < 0 ? -1 : 0;
}

int state_schema_load(struct state *st, const char *master, uint64_t at,
		      void (*fn)(const char *schema, const char *table, const char *sql,
				 const char *why, int source, void *arg),
		      void *arg, uint64_t *last)
{
	sqlite3_stmt *s = NULL;
	int rc;

	*last = 0;
	if (prepare(st,
		    "SELECT j.schema_name, j.table_name, j.sql, j.why, j.pos, j.source FROM "
		    "schema_journal j WHERE j.master = ?1 AND j.pos = (SELECT MAX(pos) "
		    "FROM schema_journal k WHERE k.master = ?1 AND k.schema_name = "
		    "j.schema_name AND k.table_name = j.table_name AND k.pos <= ?2)",
		    &s) != SQLITE_OK)
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

struct schema_forget {
	const char *master; /* state_keep_copy() */
	uint64_t from, upto;
};

static int schema_forget_apply(struct state *st, void *arg)
{
	const struct schema_forget *w = arg;
	sqlite3_stmt *s;
	/* entries after from: the stream reads them again; entries that a later
	 * one of the same table at or before upto replaces: no restart needs them */
	int rc = prepare(st,
			 "DELETE FROM schema_journal WHERE master = ?1 AND (pos > ?2 OR pos < "
			 "(SELECT MAX(pos) FROM schema_journal k WHERE k.master = ?1 AND "
			 "k.schema_name = schema_journal.schema_name AND k.table_name = "
			 "schema_journal.table_name AND k.pos <= ?3))",
			 &s);

	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_text(s, 1, w->master, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, (sqlite3_int64)w->from);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)w->upto);
	return step_done(s);
}

static void *schema_forget_keep(const void *arg, size_t *size)
{
	return state_keep_copy(arg, sizeof(struct schema_forget), 1, size);
}

static const struct state_op schema_forget_op = {
	.what = "a schema journal clean-up",
	.apply = schema_forget_apply,
	.keep = schema_forget_keep,
	.release = free,
};

int state_schema_forget(struct state *st, const char *master, uint64_t from, uint64_t upto)
{
	struct schema_forget w = { master, from, upto };

	return state_write(st, &schema_forget_op, &w) < 0 ? -1 : 0;
}
