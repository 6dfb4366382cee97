/*
 * test_ledger.c - conflicts recorded once per uid, listed newest first,
 * resolved once, rendered as the conflict objects of GET /v1/conflicts, kept
 * across a reopen; a damaged ledger is an error, never an empty or partial
 * answer; the engine's writes that fail are kept and written later; the
 * conflicts behind a stopped link are read again only when the ledger changed.
 */
#include "../../daemon/ledger.h"
#include "../../daemon/ledger_memo.h"
#include "../../daemon/state.h"
#include "ringwatch/gtid_pos.h"

#include "../tap.h"
#include "state_dir.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

static struct ledger_entry entry(const char *uid, const char *kind, int id)
{
	struct ledger_entry e = { 0 };

	e.uid = uid;
	e.kind = kind;
	e.schema = "app";
	e.table = "t";
	e.key = json_pack("{s:i}", "id", id);
	e.diverged = true;
	e.detected_at = 1795850032.12;
	e.detection_delay = 0.004;
	e.writes = json_pack("[{s:s,s:s,s:s},{s:s,s:s,s:s}]", "master", "west", "gtid", "1-1-5",
			     "op", "update", "master", "east", "gtid", "2-2-1", "op", "update");
	e.final = json_pack("{s:{s:i,s:s},s:{s:i,s:s}}", "west", "id", id, "v", "east", "east",
			    "id", id, "v", "west");
	e.key_hex = id == 1 ? "0a0b" : "0c0d";
	e.unique_key = id == 2;
	return e;
}

static void drop(struct ledger_entry *e)
{
	json_decref(e->key);
	json_decref(e->writes);
	json_decref(e->final);
}

static int n_totals, n_open;

static void count_open(const struct ledger_open *o, void *arg)
{
	(void)arg;
	n_open +=
	    strcmp(o->key_hex, "0a0b") == 0 || (strcmp(o->key_hex, "0c0d") == 0 && o->unique_key);
}

static void count_total(const char *schema, const char *table, const char *kind, int64_t n,
			void *arg)
{
	(void)schema, (void)table, (void)arg;
	if (strcmp(kind, "update-update") == 0 && n == 2)
		n_totals++;
}

/* A ledger of three conflicts in a new state_dir (dir a mkdtemp template). */
static struct state *three(char *dir)
{
	char err[256] = "";
	struct state *st = mkdtemp(dir) != NULL ? state_open(dir, err, sizeof(err)) : NULL;
	const char *uids[] = { "1111", "2222", "3333" };
	bool created;

	for (int i = 0; st != NULL && i < 3; i++) {
		struct ledger_entry e = entry(uids[i], "update-update", i + 1);
		e.key_hex = i == 0 ? "c0ffee0c0ffee0c0ffee" : "0c0d";
		if (ledger_add(st, &e, &created) != i + 1)
			tap_diag("ledger_add %d: %s", i, state_error(st));
		drop(&e);
	}
	return st;
}

/* Move everything from the WAL into the database file, and forget the cached pages. */
static void to_file(struct state *st)
{
	sqlite3_exec(state_db(st), "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
}

/* The root page of table in st's database, and the page size. */
static long root_page(struct state *st, const char *table, long *size)
{
	sqlite3_stmt *s;
	long page = 0;

	*size = 0;
	if (sqlite3_prepare_v2(state_db(st),
			       "SELECT rootpage, (SELECT page_size FROM pragma_page_size) FROM "
			       "sqlite_master WHERE name = ?",
			       -1, &s, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(s, 1, table, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW) {
		page = sqlite3_column_int64(s, 0);
		*size = sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	return page;
}

/* XOR n bytes of dir/ringwatch.db at offset with mask. */
static int flip(const char *dir, long offset, size_t n, unsigned char mask)
{
	char path[256];
	unsigned char buf[4096];
	int fd, rc = -1;

	snprintf(path, sizeof(path), "%s/ringwatch.db", dir);
	fd = open(path, O_RDWR);
	if (fd >= 0 && n <= sizeof(buf) && pread(fd, buf, n, offset) == (ssize_t)n) {
		for (size_t i = 0; i < n; i++)
			buf[i] ^= mask;
		rc = pwrite(fd, buf, n, offset) == (ssize_t)n ? 0 : -1;
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

/* A row whose JSON text is damaged (no page check sees it): an error, not null. */
static void test_damaged_row(void)
{
	char dir[] = "/tmp/rw-test-ledger-row.XXXXXX";
	struct state *st = three(dir);
	json_t *c = NULL;

	ok(st != NULL, "three conflicts");
	ok(sqlite3_exec(state_db(st),
			"UPDATE conflict SET writes_json = '[{\"master\": \"we' WHERE id = 2", NULL,
			NULL, NULL) == SQLITE_OK,
	   "conflict 2's writes damaged");
	is_int(ledger_find(st, 1, &c), 0, "conflict 1 reads");
	json_decref(c);
	is_int(ledger_find(st, 2, &c), -1, "conflict 2 is an error");
	ok(c == NULL && ledger_get(st, 2) == NULL, "no object with \"writes\": null");
	ok(strstr(state_error(st), "conflict 2") != NULL &&
	       strstr(state_error(st), "ringwatch.db") != NULL,
	   "the reason names the conflict and the file (%s)", state_error(st));
	ok(ledger_list(st, false, 10) == NULL, "the list is an error too, not two of three");
	state_close(st);
	ok(state_dir_remove(dir) == 0, "temp dir removed");
}

/* The conflict table's page damaged under a running state: errors, never an empty list. */
static void test_damaged_page(void)
{
	char dir[] = "/tmp/rw-test-ledger-page.XXXXXX";
	struct state *st = three(dir);
	long size = 0, page = st != NULL ? root_page(st, "conflict", &size) : 0;
	json_t *c = NULL, *list;

	ok(page > 1, "three conflicts, on page %ld", page);
	to_file(st);
	ok(flip(dir, (page - 1) * size, 200, 0xff) == 0, "200 bytes of that page flipped");
	sqlite3_db_release_memory(state_db(st)); /* read from the file again */
	list = ledger_list(st, false, 10);
	ok(list == NULL, "the list is an error, not []");
	json_decref(list);
	ok(strstr(state_error(st), "malformed") != NULL, "SQLite's words (%s)", state_error(st));
	is_int(ledger_find(st, 1, &c), -1, "conflict 1 is an error, not \"none\"");
	state_close(st);
	ok(state_dir_remove(dir) == 0, "temp dir removed");
}

/*
 * A key in the table that its index does not have: only the full integrity
 * check (PRAGMA integrity_check, not quick_check) sees it, and the state is
 * refused at open.
 */
static void test_damaged_index(void)
{
	char dir[] = "/tmp/rw-test-ledger-index.XXXXXX", err[1024] = "", path[256];
	struct state *st = three(dir);
	long size, page = st != NULL ? root_page(st, "conflict", &size) : 0;
	char *file = NULL;
	long len = 0, at = -1;
	FILE *f;

	ok(page > 1, "three conflicts, on page %ld", page);
	state_close(st);
	snprintf(path, sizeof(path), "%s/ringwatch.db", dir);
	f = fopen(path, "rb");
	if (f != NULL && fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 &&
	    (file = malloc((size_t)len)) != NULL && fseek(f, 0, SEEK_SET) == 0 &&
	    fread(file, 1, (size_t)len, f) == (size_t)len) {
		/* conflict 1's key_hex in the table's page (not in the index's) */
		for (long i = (page - 1) * size; i + 20 <= page * size && i + 20 <= len; i++) {
			if (memcmp(file + i, "c0ffee0c0ffee0c0ffee", 20) == 0)
				at = i;
		}
	}
	if (f != NULL)
		fclose(f);
	free(file);
	ok(at > 0 && flip(dir, at, 4, 0x01) == 0, "conflict 1's key bytes changed in the table");
	st = state_open(dir, err, sizeof(err));
	ok(st == NULL, "the state is refused");
	ok(strstr(err, "is damaged") != NULL && strstr(err, "missing from index") != NULL,
	   "the integrity check names the index (%s)", err);
	state_close(st);
	ok(state_dir_remove(dir) == 0, "temp dir removed");
}

/* The engine's writes that fail are kept, in order, and written once they can be. */
static void test_kept(void)
{
	char dir[] = "/tmp/rw-test-ledger-kept.XXXXXX";
	struct state *st = three(dir);
	struct ledger_entry e = entry("4444", "update-update", 4);
	struct state_health h;
	json_t *changes = json_pack("{s:{s:i,s:s}}", "west", "id", 4, "v", "same");
	json_t *unknown = json_pack("[s]", "east");
	json_t *c = NULL;
	bool created = true;

	ok(st != NULL, "three conflicts");
	sqlite3_exec(state_db(st), "PRAGMA query_only = 1", NULL, NULL, NULL);
	is_int(ledger_add(st, &e, &created), 0, "a conflict that cannot be written is kept");
	ok(!created, "not created yet");
	is_int(ledger_merge_final(st, "4444", changes, unknown, false), 0, "its finals, behind it");
	is_int(ledger_resolve(st, 0, "4444", "engine", 1795850050.0), 0,
	       "its resolution by the engine, behind them");
	is_int(ledger_resolve(st, 1, NULL, "api", 1795850050.0), -1,
	       "a person's resolution fails now, it is not kept");
	state_health(st, &h);
	is_int(h.kept, 3, "three writes kept");
	is_int(ledger_find(st, 4, &c), 1, "not in the ledger yet");
	sqlite3_exec(state_db(st), "PRAGMA query_only = 0", NULL, NULL, NULL);
	is_int(state_retry(st), 0, "written on the retry");
	ok(ledger_find(st, 4, &c) == 0 && c != NULL, "the conflict is in the ledger");
	is_str(json_string_value(json_object_get(c, "state")), "resolved", "resolved");
	is_str(json_string_value(
		   json_object_get(json_object_get(json_object_get(c, "final"), "west"), "v")),
	       "same", "with its finals merged");
	ok(json_object_get(json_object_get(c, "final"), "east") == NULL, "east's final unknown");
	json_decref(c);
	json_decref(changes);
	json_decref(unknown);
	drop(&e);
	state_close(st);
	ok(state_dir_remove(dir) == 0, "temp dir removed");
}

/* The v of master's final of conflict id, "" when it has none. */
static const char *final_v(json_t *c, const char *master)
{
	const char *v = json_string_value(
	    json_object_get(json_object_get(json_object_get(c, "final"), master), "v"));

	return v != NULL ? v : "";
}

/* The finals changes of several conflicts in one write, also when it is kept and retried. */
static void test_merges(void)
{
	char dir[] = "/tmp/rw-test-ledger-merges.XXXXXX";
	struct state *st = three(dir);
	struct state_health h;
	json_t *batch, *c1 = NULL, *c2 = NULL, *c3 = NULL;

	ok(st != NULL, "three conflicts");
	batch = json_pack("{s:{s:{s:{s:i,s:s}},s:[s],s:b},s:{s:{s:n},s:[],s:b},"
			  "s:{s:{},s:[],s:b}}",
			  "1111", "changes", "west", "id", 1, "v", "new", "unknown", "east",
			  "diverged", false, "2222", "changes", "east", "unknown", "diverged", true,
			  "9999", "changes", "unknown", "diverged", true);
	is_int(ledger_merge_finals(st, batch), 0, "two conflicts' finals and an unknown uid");
	ok(ledger_find(st, 1, &c1) == 0 && ledger_find(st, 2, &c2) == 0 &&
	       ledger_find(st, 3, &c3) == 0,
	   "read back");
	is_str(final_v(c1, "west"), "new", "west's final of the first changed");
	ok(json_object_get(json_object_get(c1, "final"), "east") == NULL,
	   "east's final of the first not known any more");
	ok(json_is_false(json_object_get(c1, "diverged")), "the first no longer diverged");
	is_str(final_v(c2, "west"), "east", "west's final of the second as it was");
	ok(json_is_null(json_object_get(json_object_get(c2, "final"), "east")),
	   "east's final of the second: no row");
	ok(json_is_true(json_object_get(c2, "diverged")), "the second diverged");
	is_str(final_v(c3, "west"), "east", "the third untouched");
	json_decref(c1);
	json_decref(c2);
	json_decref(c3);
	json_decref(batch);

	sqlite3_exec(state_db(st), "PRAGMA query_only = 1", NULL, NULL, NULL);
	batch = json_pack("{s:{s:{s:{s:i,s:s}},s:[],s:b}}", "3333", "changes", "west", "id", 3, "v",
			  "later", "unknown", "diverged", false);
	is_int(ledger_merge_finals(st, batch), 0, "a batch that cannot be written is kept");
	json_decref(batch);
	state_health(st, &h);
	is_int(h.kept, 1, "one write kept");
	sqlite3_exec(state_db(st), "PRAGMA query_only = 0", NULL, NULL, NULL);
	is_int(state_retry(st), 0, "written on the retry");
	ok(ledger_find(st, 3, &c3) == 0, "read back");
	is_str(final_v(c3, "west"), "later", "with its finals");
	ok(json_is_false(json_object_get(c3, "diverged")), "and no longer diverged");
	json_decref(c3);
	state_close(st);
	ok(state_dir_remove(dir) == 0, "temp dir removed");
}

/* What the status asks of a link's conflicts: the newest whose other write is not applied. */
struct unapplied {
	const char *applied; /* the replica's gtid_slave_pos */
	int64_t id;          /* 0: none */
};

static int first_unapplied(const struct ledger_between *c, void *arg)
{
	struct unapplied *u = arg;

	if (gtid_applied(c->other_gtid, u->applied) == 1)
		return 0;
	u->id = c->id;
	return 1;
}

/* The conflict a link to west stopped on (1032's kinds), with west at applied; -1 on error. */
static int64_t stopped_on(struct ledger_memo *m, struct state *st, const char *applied)
{
	struct unapplied u = { applied, 0 };

	if (ledger_memo_each_between(m, st, "app", "t",
				     "delete-delete,delete-update,delete-insert,update-update",
				     "west", first_unapplied, &u) != 0)
		return -1;
	return u.id;
}

/* Another conflict on app.t between west and east's write gtid. */
static void add_conflict(struct state *st, const char *uid, const char *gtid)
{
	struct ledger_entry e = entry(uid, "update-update", 7);
	bool created;

	json_decref(e.writes);
	e.writes = json_pack("[{s:s,s:s,s:s},{s:s,s:s,s:s}]", "master", "west", "gtid", "1-1-9",
			     "op", "update", "master", "east", "gtid", gtid, "op", "update");
	if (ledger_add(st, &e, &created) <= 0)
		tap_diag("ledger_add %s: %s", uid, state_error(st));
	drop(&e);
}

/*
 * The tracker's writes to the rows of open conflicts: finals and diverged
 * only, which ledger_each_between() does not read.
 */
static void finals_written(struct state *st)
{
	json_t *final = json_pack("{s:{s:i}}", "west", "id", 3);
	json_t *changes = json_pack("{s:{s:i,s:s}}", "east", "id", 3, "v", "x");
	json_t *unknown = json_array();
	json_t *batch = json_pack("{s:{s:{s:n},s:[],s:b},s:{s:{},s:[s],s:b}}", "3333", "changes",
				  "west", "unknown", "diverged", 1, "2222", "changes", "unknown",
				  "east", "diverged", 0);

	ok(ledger_update_final(st, "3333", final, true) == 0 &&
	       ledger_merge_final(st, "3333", changes, unknown, false) == 0 &&
	       ledger_merge_finals(st, batch) == 0,
	   "finals written three ways: updated, merged, merged in a batch");
	json_decref(final);
	json_decref(changes);
	json_decref(unknown);
	json_decref(batch);
}

/*
 * A link stopped on a 1032 is asked after at every snapshot: the ledger is
 * read once while nothing it reads changes (a checkpoint, the conflicts'
 * finals are not), and read again after anything that could change the
 * answer: a conflict added, one resolved by a person, a write to the
 * database by another connection.  The replica's position is judged afresh
 * every time, without a read.
 */
static void test_memo(void)
{
	char dir[] = "/tmp/rw-test-ledger-memo.XXXXXX", path[256];
	struct state *st = three(dir);
	struct ledger_memo *m = ledger_memo_new();
	struct checkpoint cp = { .server_id = 1, .gtid = "1-1-9", .file = "bin.000001" };
	sqlite3 *other = NULL;

	ok(st != NULL && m != NULL, "three conflicts, east's write 2-2-1 in each");
	is_int(stopped_on(m, st, "2-2-0"), 3, "west not past 2-2-0: the newest conflict");
	is_int(stopped_on(m, st, "2-2-0"), 3, "asked again: the same");
	is_int(ledger_memo_reads(m), 1, "the ledger read once for both");
	is_int(stopped_on(m, st, "2-2-1"), 0, "west past 2-2-1: none");
	is_int(ledger_memo_reads(m), 1, "the position judged again without a read");
	ok(state_checkpoint_save(st, "west", &cp) == 0, "a checkpoint saved");
	is_int(stopped_on(m, st, "2-2-1"), 0, "none still");
	is_int(ledger_memo_reads(m), 1, "no read for a write outside the conflict table");
	finals_written(st);
	is_int(stopped_on(m, st, "2-2-0"), 3, "the cause is the same after finals are written");
	is_int(ledger_memo_reads(m), 1, "no read for the conflicts' finals (the query reads none)");

	add_conflict(st, "4444", "2-2-7");
	is_int(stopped_on(m, st, "2-2-1"), 4, "a new conflict on the table: it is the cause");
	is_int(ledger_memo_reads(m), 2, "read again");
	is_int(ledger_resolve(st, 4, NULL, "api", 1795850050.0), 0, "a person resolves it");
	is_int(stopped_on(m, st, "2-2-1"), 0, "then none");
	is_int(ledger_memo_reads(m), 3, "read again");

	snprintf(path, sizeof(path), "%s/ringwatch.db", dir);
	ok(sqlite3_open(path, &other) == SQLITE_OK &&
	       sqlite3_exec(other,
			    "UPDATE conflict SET state = 'resolved', resolved_by = 'api' "
			    "WHERE id = 3",
			    NULL, NULL, NULL) == SQLITE_OK,
	   "another connection resolves conflict 3");
	sqlite3_close(other);
	is_int(stopped_on(m, st, "2-2-0"), 2, "then conflict 2 is the cause");
	is_int(ledger_memo_reads(m), 4, "read again");
	is_int(stopped_on(NULL, st, "2-2-0"), 2, "without a memo: the same answer");
	is_int(ledger_memo_reads(m), 4, "(read apart from the memo)");

	ledger_memo_free(m);
	state_close(st);
	ok(state_dir_remove(dir) == 0, "temp dir removed");
}

static int count_row(const struct ledger_between *c, void *arg)
{
	(void)c;
	++*(int *)arg;
	return 0;
}

/*
 * Links stopped on as many questions as a ring of 5 masters has links (20,
 * one from each master into each other), asked in turn at every snapshot:
 * each kept, the second round reads nothing.
 */
static void test_memo_links(void)
{
	char dir[] = "/tmp/rw-test-ledger-links.XXXXXX";
	struct state *st = three(dir);
	struct ledger_memo *m = ledger_memo_new();
	int rows = 0, failed = 0;

	ok(st != NULL && m != NULL, "a ledger and a memo");
	for (int round = 0; round < 2; round++) {
		for (int q = 0; q < 20; q++) {
			char replica[16];

			snprintf(replica, sizeof(replica), "m%d", q);
			failed |= ledger_memo_each_between(m, st, "app", "t", "update-update",
							   q == 0 ? "west" : replica, count_row,
							   &rows) != 0;
		}
	}
	ok(!failed, "20 questions, twice");
	is_int(rows, 6, "west's question answered by its 3 conflicts each round");
	is_int(ledger_memo_reads(m), 20, "each question read once: the memo holds them all");
	ledger_memo_free(m);
	state_close(st);
	ok(state_dir_remove(dir) == 0, "temp dir removed");
}

int main(void)
{
	char dir[] = "/tmp/rw-test-ledger.XXXXXX";
	char err[256] = "";
	struct ledger_entry a, b;
	struct state *st;
	bool created;
	int64_t id1, id2, open, total;
	json_t *c, *list;

	ok(mkdtemp(dir) != NULL, "temp dir");
	st = state_open(dir, err, sizeof(err));
	ok(st != NULL, "state opens (%s)", err);
	a = entry("aaaa", "update-update", 1);
	b = entry("bbbb", "update-update", 2);
	id1 = ledger_add(st, &a, &created);
	ok(id1 > 0 && created, "first conflict recorded as %lld", (long long)id1);
	ok(ledger_add(st, &a, &created) == id1 && !created, "the same uid is not recorded twice");
	ok(ledger_known(st, "aaaa") && !ledger_known(st, "zzzz"), "known uids");
	id2 = ledger_add(st, &b, &created);
	ok(id2 > id1, "second conflict");

	c = ledger_get(st, id1);
	ok(c != NULL, "get by id");
	is_str(json_string_value(json_object_get(c, "kind")), "update-update", "kind");
	is_str(json_string_value(json_object_get(c, "state")), "open", "open");
	ok(json_is_true(json_object_get(c, "diverged")), "diverged");
	ok(json_integer_value(json_object_get(json_object_get(c, "key"), "id")) == 1, "key");
	is_str(json_string_value(json_object_get(c, "detected_at")), "2026-11-28T07:13:52.120Z",
	       "detected_at in ISO 8601 UTC with milliseconds");
	is_str(json_string_value(
		   json_object_get(json_object_get(json_object_get(c, "final"), "west"), "v")),
	       "east", "finals per master");
	is_int(json_array_size(json_object_get(c, "writes")), 2, "two writes");
	json_decref(c);
	ok(ledger_get(st, 999) == NULL, "no such id");
	c = ledger_get(st, id2);
	ok(json_is_true(json_object_get(c, "unique_key")), "a unique-key conflict says so");
	json_decref(c);
	n_open = 0;
	ok(ledger_each_open(st, 0, count_open, NULL) == 0 && n_open == 2,
	   "both open ones handed back with their key bytes");

	list = ledger_list(st, true, 10);
	is_int(json_array_size(list), 2, "two open");
	ok(json_integer_value(json_object_get(json_array_get(list, 0), "id")) == id2,
	   "newest first");
	json_decref(list);
	list = ledger_list(st, true, 1);
	is_int(json_array_size(list), 1, "limit");
	json_decref(list);

	open = -1;
	ok(ledger_diverged_rows(st, &open) == 0 && open == 2, "two diverged rows open");
	c = json_pack("{s:n,s:n}", "west", "east");
	is_int(ledger_update_final(st, "aaaa", c, false), 0, "finals updated");
	ok(ledger_diverged_rows(st, &open) == 0 && open == 1, "one, once a row converged");
	json_decref(c);
	is_int(ledger_update_final(st, "nope", json_null(), false), 1, "unknown uid");
	is_int(ledger_resolve(st, id1, NULL, "api", 1795850040.0), 0, "resolved");
	is_int(ledger_resolve(st, id1, NULL, "api", 1795850041.0), 1, "only once");
	is_int(ledger_resolve(st, 0, "bbbb", "engine", 1795850042.0), 0, "resolved by uid");
	ok(ledger_counts(st, &open, &total) == 0 && open == 0 && total == 2, "counts 0 open, 2");
	ok(ledger_totals(st, count_total, NULL) == 0 && n_totals == 1, "totals by table and kind");
	state_close(st);

	st = state_open(dir, err, sizeof(err));
	c = ledger_get(st, id1);
	is_str(json_string_value(json_object_get(c, "state")), "resolved", "kept across a reopen");
	is_str(json_string_value(json_object_get(c, "resolved_by")), "api", "by whom");
	ok(json_is_false(json_object_get(c, "diverged")), "the updated finals too");
	json_decref(c);
	state_close(st);

	drop(&a);
	drop(&b);
	ok(state_dir_remove(dir) == 0, "temp dir removed");
	test_damaged_row();
	test_damaged_page();
	test_damaged_index();
	test_kept();
	test_merges();
	test_memo();
	test_memo_links();
	return tap_done();
}
