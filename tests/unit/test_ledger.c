/*
 * test_ledger.c - conflicts recorded once per uid, listed newest first,
 * resolved once, rendered as the conflict objects of GET /v1/conflicts, kept
 * across a reopen.
 */
#include "../../daemon/ledger.h"
#include "../../daemon/state.h"

#include "../tap.h"
#include "state_dir.h"

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
	ok(ledger_each_open(st, count_open, NULL) == 0 && n_open == 2,
	   "both open ones handed back with their key bytes");

	list = ledger_list(st, true, 10);
	is_int(json_array_size(list), 2, "two open");
	ok(json_integer_value(json_object_get(json_array_get(list, 0), "id")) == id2,
	   "newest first");
	json_decref(list);
	list = ledger_list(st, true, 1);
	is_int(json_array_size(list), 1, "limit");
	json_decref(list);

	ok(ledger_diverged_rows(st, &open) == 0 && open == 2, "two diverged rows open (%lld)",
	   (long long)open);
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
	return tap_done();
}
