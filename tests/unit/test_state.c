/*
 * test_state.c - checkpoints and gaps survive a reopen; the schema migrates
 * once; state_dir is locked for one process; the files are private; a
 * damaged database is refused at open; writes that fail are kept, tried
 * again in order, and lost only past their bound.
 */
#include "../../daemon/state.h"

#include "../tap.h"
#include "state_dir.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct loaded {
	char text[512];
};

static void collect(const char *schema, const char *table, const char *sql, const char *why,
		    int source, void *arg)
{
	struct loaded *l = arg;
	size_t n = strlen(l->text);

	snprintf(l->text + n, sizeof(l->text) - n, "%s%s.%s=%s%s", n > 0 ? " " : "", schema, table,
		 sql != NULL   ? sql
		 : why != NULL ? why
			       : "?",
		 source ? "*" : "");
}

/* The schema journal: each table's latest entry at or before a position. */
static void test_schema_journal(struct state *st)
{
	struct loaded l;
	uint64_t last;

	ok(state_schema_put(st, "west", 100, "app", "t", "v1", NULL, 0) == 0 &&
	       state_schema_put(st, "west", 200, "app", "u", NULL, "unreadable", 0) == 0 &&
	       state_schema_put(st, "west", 300, "app", "t", "v2", NULL, 1) == 0 &&
	       state_schema_put(st, "west", 400, "app", "u", NULL, NULL, 0) == 0 &&
	       state_schema_put(st, "east", 150, "app", "t", "e1", NULL, 0) == 0,
	   "journal entries written");
	memset(&l, 0, sizeof(l));
	ok(state_schema_load(st, "west", 99, collect, &l, &last) == 0 && l.text[0] == '\0' &&
	       last == 0,
	   "nothing before the first entry");
	memset(&l, 0, sizeof(l));
	ok(state_schema_load(st, "west", 300, collect, &l, &last) == 0, "load at 300");
	is_str(l.text, "app.t=v2* app.u=unreadable", "each table's latest entry at or before it");
	is_int(last, 300, "the latest position");
	memset(&l, 0, sizeof(l));
	ok(state_schema_load(st, "west", 1000, collect, &l, &last) == 0, "load at the end");
	is_str(l.text, "app.t=v2*", "a table gone is left out (* from information_schema)");
	is_int(last, 400, "its going counts as the latest position");
	ok(state_schema_forget(st, "west", 250, 0) == 0, "forget what lies after 250");
	memset(&l, 0, sizeof(l));
	ok(state_schema_load(st, "west", 1000, collect, &l, &last) == 0, "load again");
	is_str(l.text, "app.t=v1 app.u=unreadable", "as it was at 250");
	ok(state_schema_put(st, "west", 300, "app", "t", "v2", NULL, 1) == 0 &&
	       state_schema_forget(st, "west", INT64_MAX, 300) == 0,
	   "compact up to 300");
	memset(&l, 0, sizeof(l));
	ok(state_schema_load(st, "west", 250, collect, &l, &last) == 0, "load at 250");
	is_str(l.text, "app.u=unreadable", "the replaced entry of app.t is gone");
	memset(&l, 0, sizeof(l));
	ok(state_schema_load(st, "east", 1000, collect, &l, &last) == 0, "east");
	is_str(l.text, "app.t=e1", "masters apart");
}

/* The permission bits of dir/name, or -1 when it is not there. */
static int mode_of(const char *dir, const char *name)
{
	char path[256];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &sb) == 0 ? (int)(sb.st_mode & 07777) : -1;
}

/* The state files are 0600 whatever the umask lets through. */
static void test_private_files(void)
{
	char dir[] = "/tmp/rw-test-state-mode.XXXXXX";
	char err[256] = "";
	struct checkpoint cp = { .server_id = 1, .file = "binlog.000001", .offset = 4 };
	struct state *st;
	mode_t old = umask(022);

	ok(mkdtemp(dir) != NULL, "temp dir");
	st = state_open(dir, err, sizeof(err));
	ok(st != NULL, "open (%s)", err);
	is_int(state_checkpoint_save(st, "west", &cp), 0, "a write, for the -wal and -shm files");
	is_int(mode_of(dir, "ringwatch.db"), 0600, "ringwatch.db is 0600 under umask 022");
	is_int(mode_of(dir, "ringwatch.db-wal"), 0600, "so is its -wal file");
	is_int(mode_of(dir, "ringwatch.db-shm"), 0600, "and its -shm file");
	is_int(mode_of(dir, "ringwatchd.lock"), 0600, "and the lock file");
	state_close(st);
	umask(old);
	ok(state_dir_remove(dir) == 0, "temp dir removed");
}

/* One process per state_dir: a second open fails and names the holder's pid. */
static void test_lock(void)
{
	char dir[] = "/tmp/rw-test-state-lock.XXXXXX";
	char err[512] = "", want[64];
	struct state *st, *again;
	int fds[2], status = 0;
	pid_t child;

	ok(mkdtemp(dir) != NULL, "temp dir");
	st = state_open(dir, err, sizeof(err));
	ok(st != NULL, "open (%s)", err);
	/* flock is per open file: another process, as a second ringwatchd would be */
	ok(pipe(fds) == 0, "pipe");
	child = fork();
	if (child == 0) {
		char e[512] = "";
		struct state *other = state_open(dir, e, sizeof(e));
		ssize_t n = write(fds[1], e, strlen(e) + 1);
		_exit(other == NULL && n > 0 ? 0 : 1);
	}
	memset(err, 0, sizeof(err));
	ok(read(fds[0], err, sizeof(err) - 1) > 0, "the second process answers");
	waitpid(child, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a second process cannot open it");
	snprintf(want, sizeof(want), "in use by process %ld", (long)getpid());
	ok(strstr(err, want) != NULL, "the reason names the holder's pid (%s)", err);
	ok(strstr(err, "ringwatchd.lock") != NULL, "and the lock file");
	close(fds[0]);
	close(fds[1]);
	state_close(st);
	again = state_open(dir, err, sizeof(err));
	ok(again != NULL, "once closed, it opens again (%s)", err);
	state_close(again);
	ok(state_dir_remove(dir) == 0, "temp dir removed");
}

/* Flip n bytes of dir/ringwatch.db at the start of the root page of table. */
static int damage(const char *dir, const char *table, size_t n)
{
	char path[256], sql[128];
	sqlite3 *db;
	sqlite3_stmt *s;
	long page = 0, size = 0;
	unsigned char buf[4096];
	int fd, rc = -1;

	snprintf(path, sizeof(path), "%s/ringwatch.db", dir);
	snprintf(sql, sizeof(sql),
		 "SELECT rootpage, (SELECT page_size FROM pragma_page_size) FROM sqlite_master "
		 "WHERE name = '%s'",
		 table);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW) {
		page = sqlite3_column_int64(s, 0);
		size = sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	fd = open(path, O_RDWR);
	if (fd >= 0 && page > 1 && n <= sizeof(buf) &&
	    pread(fd, buf, n, (page - 1) * size) == (ssize_t)n) {
		for (size_t i = 0; i < n; i++)
			buf[i] ^= 0xff;
		rc = pwrite(fd, buf, n, (page - 1) * size) == (ssize_t)n ? 0 : -1;
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

/* A damaged database is refused at open, named, with what to do. */
static void test_damaged(void)
{
	char dir[] = "/tmp/rw-test-state-damaged.XXXXXX";
	char err[1024] = "";
	struct gap g = { .master = "east", .from = "gtid 2-2-10", .to = "x", .reason = "purged" };
	struct state *st;
	char path[256], text[8192];
	int fd;

	ok(mkdtemp(dir) != NULL, "temp dir");
	st = state_open(dir, err, sizeof(err));
	ok(st != NULL && state_gap_add(st, &g) > 0, "a gap recorded");
	state_close(st);
	ok(damage(dir, "gap", 200) == 0, "200 bytes of the gap table's page flipped");
	st = state_open(dir, err, sizeof(err));
	ok(st == NULL, "the damaged database is refused");
	snprintf(path, sizeof(path), "%s/ringwatch.db is damaged", dir);
	ok(strstr(err, path) != NULL, "the reason names the file (%s)", err);
	ok(strstr(err, "move it aside") != NULL, "and says what to do");
	state_close(st);

	/* not a database at all */
	snprintf(path, sizeof(path), "%s/ringwatch.db", dir);
	memset(text, 't', sizeof(text));
	fd = open(path, O_WRONLY | O_TRUNC);
	ok(fd >= 0 && write(fd, text, sizeof(text)) == (ssize_t)sizeof(text),
	   "the file overwritten with text");
	if (fd >= 0)
		close(fd);
	st = state_open(dir, err, sizeof(err));
	ok(st == NULL && strstr(err, "is damaged") != NULL, "refused as damaged (%s)", err);
	state_close(st);
	ok(state_dir_remove(dir) == 0, "temp dir removed");
}

static void count_entries(const char *schema, const char *table, const char *sql, const char *why,
			  int source, void *arg)
{
	(void)schema, (void)table, (void)sql, (void)why, (void)source;
	(*(int *)arg)++;
}

static void query_only(struct state *st, int on)
{
	sqlite3_exec(state_db(st), on ? "PRAGMA query_only = 1" : "PRAGMA query_only = 0", NULL,
		     NULL, NULL);
}

/* Writes that fail are kept, in order, tried again, and written once they can be. */
static void test_kept_writes(void)
{
	char dir[] = "/tmp/rw-test-state-kept.XXXXXX";
	char err[256] = "";
	struct checkpoint cp = { .server_id = 1, .file = "binlog.000001", .offset = 100 }, got;
	struct gap g = { .master = "east", .from = "f", .to = "t", .reason = "purged" }, open_gap;
	struct state_health h;
	struct state *st;
	uint64_t pos;
	int n = 0;

	ok(mkdtemp(dir) != NULL, "temp dir");
	st = state_open(dir, err, sizeof(err));
	ok(st != NULL, "open (%s)", err);
	is_int(state_checkpoint_save(st, "west", &cp), 0, "a checkpoint written");
	state_health(st, &h);
	ok(h.kept == 0 && h.write_errors == 0 && h.writes_lost == 0 && h.detail[0] == '\0',
	   "all is well");

	query_only(st, 1); /* writes fail from here (SQLITE_READONLY), reads work */
	cp.offset = 200;
	is_int(state_checkpoint_save(st, "west", &cp), 0, "a checkpoint that fails is kept");
	is_int(state_gap_add(st, &g), 0, "so is a gap (no id yet)");
	cp.offset = 300;
	is_int(state_checkpoint_save(st, "west", &cp), 0, "a later checkpoint of west replaces it");
	is_int(state_schema_put(st, "west", 5, "app", "t", "x", NULL, 0), 0,
	       "a write behind them is kept untried");
	state_health(st, &h);
	is_int(h.kept, 3, "three writes kept");
	is_int(h.write_errors, 1, "one failed attempt");
	ok(strstr(h.detail, "3 writes failed, kept in memory") != NULL &&
	       strstr(h.detail, "readonly") != NULL,
	   "the health says so, and why (%s)", h.detail);
	ok(state_checkpoint_load(st, "west", &got) == 0 && got.offset == 100,
	   "the database has the old checkpoint still");
	is_int(state_retry(st), -1, "a retry while it still fails");
	state_health(st, &h);
	ok(h.kept == 3 && h.write_errors == 2, "still kept, the attempt counted");

	query_only(st, 0);
	is_int(state_retry(st), 0, "once it can be written, the kept writes are");
	state_health(st, &h);
	ok(h.kept == 0 && h.writes_lost == 0 && h.detail[0] == '\0', "nothing kept any more");
	ok(state_checkpoint_load(st, "west", &got) == 0 && got.offset == 300,
	   "the latest checkpoint is written");
	ok(state_gap_open(st, "east", &open_gap) == 0 && strcmp(open_gap.reason, "purged") == 0,
	   "the gap is written");
	ok(state_schema_load(st, "west", 5, count_entries, &n, &pos) == 0 && n == 1 && pos == 5,
	   "the schema entry is written");
	is_int(state_schema_put(st, "west", 6, "app", NULL, "x", NULL, 0), -1,
	       "a write SQLite refuses for good (NOT NULL) fails now");
	state_health(st, &h);
	ok(h.kept == 0 && h.writes_lost == 0, "it is not kept, nor lost");
	state_close(st);
	ok(state_dir_remove(dir) == 0, "temp dir removed");
}

/* Past STATE_KEPT_MAX a write is lost, and no checkpoint is written after it. */
static void test_kept_bound(void)
{
	char dir[] = "/tmp/rw-test-state-bound.XXXXXX";
	char err[256] = "";
	struct checkpoint cp = { .server_id = 1, .file = "binlog.000001", .offset = 100 }, got;
	struct state_health h;
	struct state *st;
	size_t len = (size_t)1 << 20;
	char *big = malloc(len);
	int rc = 0, n;

	ok(mkdtemp(dir) != NULL && big != NULL, "temp dir");
	memset(big, 'x', len - 1);
	big[len - 1] = '\0';
	st = state_open(dir, err, sizeof(err));
	ok(st != NULL, "open (%s)", err);
	is_int(state_checkpoint_save(st, "west", &cp), 0, "a checkpoint written");
	query_only(st, 1);
	for (n = 0; n < 100 && rc == 0; n++)
		rc = state_schema_put(st, "west", 10 + (uint64_t)n, "app", "t", big, NULL, 0);
	is_int(rc, -1, "1 MiB writes kept until one is lost");
	ok(n > 60 && n < 70, "at about 64 MiB (write %d)", n);
	state_health(st, &h);
	ok(h.writes_lost == 1 && strstr(h.detail, "1 writes lost") != NULL,
	   "the health says a write was lost (%s)", h.detail);
	cp.offset = 400;
	is_int(state_checkpoint_save(st, "west", &cp), 0, "a checkpoint after the loss");
	query_only(st, 0);
	is_int(state_retry(st), 0, "the kept writes are written");
	ok(state_checkpoint_load(st, "west", &got) == 0 && got.offset == 100,
	   "but no checkpoint after the lost write: a restart reads again from before it");
	state_health(st, &h);
	ok(h.kept == 0 && h.writes_lost == 1, "the loss stays said");
	free(big);
	state_close(st);
	ok(state_dir_remove(dir) == 0, "temp dir removed");
}

/* Acknowledging a gap can move the master's checkpoint to where reading went on. */
static void test_gap_moved(void)
{
	char dir[] = "/tmp/rw-test-state-moved.XXXXXX";
	char err[256] = "", file[256];
	struct checkpoint cp = { .server_id = 2, .file = "binlog.000001", .offset = 1054 }, got;
	struct checkpoint here = { .server_id = 2, .file = "binlog.000003", .offset = 395 };
	struct gap g = { .master = "east",
			 .from = "binlog.000001:1054",
			 .to = "the oldest binlog" };
	struct state *st;
	uint64_t offset = 0;
	int64_t id;

	ok(mkdtemp(dir) != NULL, "temp dir");
	st = state_open(dir, err, sizeof(err));
	ok(st != NULL, "open (%s)", err);
	is_int(state_checkpoint_save(st, "east", &cp), 0, "a checkpoint in a binlog since purged");
	id = state_gap_add(st, &g);
	ok(id > 0, "the gap");
	is_int(state_gap_moved_to(st, "east", file, sizeof(file), &offset), 1,
	       "no acknowledged gap moved anything yet");
	is_int(state_gap_ack(st, id, &here), 0, "acknowledged, reading on at binlog.000003:395");
	state_close(st);
	st = state_open(dir, err, sizeof(err));
	ok(st != NULL, "reopen (%s)", err);
	ok(state_checkpoint_load(st, "east", &got) == 0 && strcmp(got.file, "binlog.000003") == 0 &&
	       got.offset == 395,
	   "the checkpoint moved with the acknowledgement");
	ok(state_gap_moved_to(st, "east", file, sizeof(file), &offset) == 0 &&
	       strcmp(file, "binlog.000003") == 0 && offset == 395,
	   "and the gap says where it moved reading to");
	is_int(state_gap_moved_to(st, "west", file, sizeof(file), &offset), 1, "masters apart");
	is_int(state_gap_ack(st, id, &here), 1, "only once");
	state_close(st);
	ok(state_dir_remove(dir) == 0, "temp dir removed");
}

int main(void)
{
	char dir[] = "/tmp/rw-test-state.XXXXXX";
	char err[256] = "";
	struct checkpoint cp, got;
	struct gap g, open_gap;
	struct state *st;
	int64_t id;

	ok(mkdtemp(dir) != NULL, "temp dir");
	st = state_open(dir, err, sizeof(err));
	ok(st != NULL, "open creates the database (%s)", err);
	is_int(state_checkpoint_load(st, "west", &got), 1, "no checkpoint yet");
	memset(&cp, 0, sizeof(cp));
	cp.server_id = 7;
	snprintf(cp.gtid, sizeof(cp.gtid), "1-1-42,2-2-7");
	snprintf(cp.file, sizeof(cp.file), "mariadb-bin.000003");
	cp.offset = 123456789012ULL;
	cp.saved_at = 1795800000.25;
	is_int(state_checkpoint_save(st, "west", &cp), 0, "save");
	cp.offset = 5;
	is_int(state_checkpoint_save(st, "west", &cp), 0, "save again replaces");
	state_close(st);

	st = state_open(dir, err, sizeof(err));
	ok(st != NULL, "reopen");
	is_int(state_checkpoint_load(st, "west", &got), 0, "checkpoint found after reopen");
	is_str(got.gtid, "1-1-42,2-2-7", "gtid kept");
	is_str(got.file, "mariadb-bin.000003", "file kept");
	is_int(got.offset, 5, "latest offset kept");
	is_int(got.server_id, 7, "server_id kept");
	ok(got.saved_at == 1795800000.25, "time kept");
	is_int(state_checkpoint_load(st, "east", &got), 1, "other master has none");

	memset(&g, 0, sizeof(g));
	snprintf(g.master, sizeof(g.master), "east");
	snprintf(g.from, sizeof(g.from), "gtid 2-2-10");
	snprintf(g.to, sizeof(g.to), "mariadb-bin.000009:4");
	snprintf(g.reason, sizeof(g.reason), "purged");
	g.at = 1.5;
	is_int(state_gap_open(st, "east", &open_gap), 1, "no gap yet");
	id = state_gap_add(st, &g);
	ok(id > 0, "gap recorded");
	is_int(state_gap_open(st, "east", &open_gap), 0, "open gap found");
	is_int(open_gap.id, id, "its id");
	is_str(open_gap.from, "gtid 2-2-10", "its start");
	is_int(state_gap_ack(st, id, NULL), 0, "acknowledged");
	is_int(state_gap_ack(st, id, NULL), 1, "only once");
	is_int(state_gap_open(st, "east", &open_gap), 1, "no open gap after acknowledgement");
	test_schema_journal(st);
	state_close(st);

	ok(state_dir_remove(dir) == 0, "temp dir removed");
	test_private_files();
	test_lock();
	test_damaged();
	test_kept_writes();
	test_kept_bound();
	test_gap_moved();
	return tap_done();
}
