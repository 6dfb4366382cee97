/*
 * test_schemas.c - holding a master's events while its tables are read
 * again (schemas.h): when a hold begins, when a snapshot read meanwhile is
 * placed where it began, when DDL among the held events keeps it out, and
 * that a hold always ends: by its time limit, or for good for a shape that
 * did not fit before.
 */
#include "schemas.h"

#include "ringwatch/binlog_event_type.h"

#include "../tap.h"

#include <stdlib.h>
#include <string.h>

static int origin_none(uint32_t server_id, void *arg)
{
	(void)server_id;
	(void)arg;
	return 0;
}

/* A WRITE_ROWS event of app.NAME (two INT columns, no FULL metadata) at [pos, pos+100). */
struct rows {
	binlog_column cols[2];
	binlog_table_map tm;
	binlog_event ev;
};

static void rows_of(struct rows *r, const char *name, int64_t pos)
{
	memset(r, 0, sizeof(*r));
	for (int i = 0; i < 2; i++)
		r->cols[i] = (binlog_column){ .type = BINLOG_TYPE_LONG,
					      .real_type = BINLOG_TYPE_LONG,
					      .nullable = 1,
					      .visible = 1 };
	r->tm = (binlog_table_map){ .schema = "app", .table = name, .ncols = 2, .cols = r->cols };
	r->ev.hdr.type = BINLOG_WRITE_ROWS;
	r->ev.position = pos;
	r->ev.next_position = pos + 100;
	r->ev.u.rows.kind = BINLOG_ROWS_WRITE;
	r->ev.u.rows.version = 2;
	r->ev.u.rows.ncols = 2;
	r->ev.u.rows.table = &r->tm;
}

/* A QUERY event of sql (default database app) ending at next. */
static binlog_event query_at(const char *sql, int64_t next)
{
	binlog_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.hdr.type = BINLOG_QUERY;
	ev.position = next - 50;
	ev.next_position = next;
	ev.u.query.schema = (binlog_str){ "app", 3 };
	ev.u.query.sql = (binlog_str){ sql, strlen(sql) };
	return ev;
}

static uint64_t at(uint64_t offset)
{
	return conflict_feed_position("bin.000001", offset);
}

static void snapshot(struct schemas *s, const char *text, uint64_t p1, uint64_t p2)
{
	struct schemas_snapshot snap = {
		.text = text,
		.len = strlen(text),
		.opt = { true, 101106 },
		.has_positions = true,
		.p1 = at(p1),
		.p2 = at(p2),
	};

	schemas_snapshot(s, 0, &snap);
}

int main(void)
{
	const char *names[] = { "west" };
	conflict_config cfg = { 0 };
	conflict_engine *e = NULL;
	conflict_feed *f;
	struct schemas *s;
	struct rows r;
	binlog_event q;
	rw_error err;

	cfg.n_masters = 2;
	if (conflict_engine_new(&cfg, &e, &err) != 0)
		return 1;
	f = conflict_feed_new(e, 0, origin_none, NULL, NULL);
	s = schemas_new(1, names, NULL);
	schemas_attach(s, 0, f);
	conflict_feed_set_file(f, "bin.000001");

	/* a table no binlog created: a hold, ended by its time limit */
	schemas_set_time(s, 100);
	rows_of(&r, "t", 1000);
	ok(!schemas_admit(s, 0, &r.ev), "rows of a table not known: refused, the stream holds");
	ok(schemas_want_snapshot(s, 0, 100, 0), "and its tables are wanted at once");
	ok(!schemas_admit(s, 0, &r.ev), "refused while the hold lasts");
	ok(!schemas_hold_check(s, 0), "not over before its time");
	schemas_set_time(s, 104.9);
	ok(!schemas_hold_check(s, 0), "not over at 4.9 s");
	schemas_set_time(s, 105.1);
	ok(schemas_hold_check(s, 0), "over after 5 s without a shape");
	ok(schemas_admit(s, 0, &r.ev), "the held event is taken now");
	rows_of(&r, "t", 5000);
	ok(schemas_admit(s, 0, &r.ev), "a later one too: no new hold for the same shape");

	/* a snapshot read meanwhile, placed where the hold began */
	rows_of(&r, "u", 6000);
	ok(!schemas_admit(s, 0, &r.ev), "app.u not known: a hold");
	ok(!conflict_feed_keyable(f, &r.ev), "its rows cannot be keyed yet");
	snapshot(s, "CREATE TABLE app.u (id INT PRIMARY KEY, n INT)", 6500, 7000);
	ok(!schemas_hold_check(s, 0), "the snapshot waits: the held events are not at p2 yet");
	q = query_at("INSERT INTO app.x VALUES (1)", 6900);
	ok(!schemas_held(s, 0, &q), "still short of p2");
	q = query_at("BEGIN", 7000);
	ok(schemas_held(s, 0, &q), "at p2: over");
	ok(conflict_feed_keyable(f, &r.ev), "the held rows are keyed by the snapshot's shape");
	ok(schemas_admit(s, 0, &r.ev), "and taken");

	/* DDL among the held events keeps the snapshot's shape out */
	rows_of(&r, "w", 8000);
	ok(!schemas_admit(s, 0, &r.ev), "app.w not known: a hold");
	snapshot(s, "CREATE TABLE app.w (id INT PRIMARY KEY, n INT)", 8200, 8600);
	q = query_at("ALTER TABLE w ADD COLUMN z INT", 8400);
	ok(!schemas_held(s, 0, &q), "an ALTER of it among the held events");
	q = query_at("COMMIT", 8600);
	ok(schemas_held(s, 0, &q), "at p2: over");
	ok(!conflict_feed_keyable(f, &r.ev),
	   "not keyed: the snapshot's shape is not the one where the hold began");

	/* a snapshot the stream had passed when the hold began */
	rows_of(&r, "y", 9000);
	ok(!schemas_admit(s, 0, &r.ev), "app.y not known: a hold");
	schemas_set_time(s, 106);
	snapshot(s, "CREATE TABLE app.y (id INT PRIMARY KEY, n INT)", 1, 2);
	ok(schemas_hold_check(s, 0), "installed at once: over");
	ok(conflict_feed_keyable(f, &r.ev), "keyed");

	/* FULL metadata, or a system schema: never held */
	rows_of(&r, "z", 10000);
	r.tm.has_names = 1;
	ok(schemas_admit(s, 0, &r.ev), "a table map with FULL metadata is taken");
	rows_of(&r, "z", 10000);
	r.tm.schema = "mysql";
	ok(schemas_admit(s, 0, &r.ev), "rows of the server's own schema are taken");
	q = query_at("BEGIN", 10100);
	ok(schemas_admit(s, 0, &q), "other events are taken");

	/* a reconnect ends a hold */
	rows_of(&r, "n", 11000);
	ok(!schemas_admit(s, 0, &r.ev), "app.n: a hold");
	schemas_hold_end(s, 0, false);
	ok(!schemas_hold_check(s, 0), "dropped: nothing to resume");
	rows_of(&r, "n", 11000);
	ok(schemas_admit(s, 0, &r.ev), "read again after the reconnect: not held twice");

	schemas_free(s);
	conflict_feed_free(f);
	conflict_engine_free(e);
	return tap_done();
}
