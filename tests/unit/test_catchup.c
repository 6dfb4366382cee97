/*
 * test_catchup.c - a stream against its master's binlog end (catchup.c):
 * the bytes behind across binlog files, the transactions behind over GTID
 * domains, the rule that says catching up, and the tracker's memory of the
 * ends not passed yet (how long behind) and of the stream's byte counter
 * (the estimate in seconds).
 */
#include "../../daemon/catchup.h"
#include "../../daemon/probe.h"
#include "../../daemon/stream.h"

#include "../tap.h"

#include <stdlib.h>
#include <string.h>

#define MIB ((int64_t)1 << 20)

static const struct probe_binlog three[] = {
	{ "binlog.000007", 1000 },
	{ "binlog.000008", 5000 },
	{ "binlog.000009", 300 }, /* the current file: the binlog ends at 300 */
};

static void test_bytes(void)
{
	is_int(catchup_bytes_behind(three, 3, "binlog.000009", 300), 0, "at the end: 0");
	is_int(catchup_bytes_behind(three, 3, "binlog.000009", 310), 0,
	       "past the end (written since the probe): 0");
	is_int(catchup_bytes_behind(three, 3, "binlog.000009", 120), 180,
	       "in the current file: the rest of it");
	is_int(catchup_bytes_behind(three, 3, "binlog.000008", 4000), 1000 + 300,
	       "the rest of its file and the current file's bytes");
	is_int(catchup_bytes_behind(three, 3, "binlog.000007", 4), 996 + 5000 + 300,
	       "and every whole file between");
	is_int(catchup_bytes_behind(three, 3, "binlog.000007", 1000), 5300,
	       "at the end of an older file: the later files");
	is_int(catchup_bytes_behind(three, 3, "binlog.000010", 4), 0,
	       "a file newer than the probe's last (rotated since): 0");
	is_int(catchup_bytes_behind(three, 3, "binlog.000005", 700), 6300,
	       "a file older than the first listed (purged): every listed byte");
	is_int(catchup_bytes_behind(three + 2, 1, "binlog.000009", 0), 300, "one file");
	is_int(catchup_bytes_behind(three, 0, "binlog.000009", 0), -1, "no binlogs: unknown");
	is_int(catchup_bytes_behind(three, 3, "", 0), -1, "no file: unknown");
	is_int(catchup_bytes_behind(three, 3, "binlog", 0), -1, "a file without a number: unknown");
	{
		static const struct probe_binlog big[] = {
			{ "mysql-bin.000001", (uint64_t)1 << 30 },
			{ "mysql-bin.000002", (uint64_t)1 << 30 },
			{ "mysql-bin.000003", 100 },
		};
		is_int(catchup_bytes_behind(big, 3, "mysql-bin.000001", 1024),
		       ((int64_t)2 << 30) - 1024 + 100, "gigabytes");
	}
}

static void test_transactions(void)
{
	is_int(catchup_trx_behind("1-1-900", "1-1-88"), 812, "one domain");
	is_int(catchup_trx_behind("1-1-900,2-2-50", "1-1-880,2-2-40"), 30,
	       "the sum over the domains");
	is_int(catchup_trx_behind("1-1-900,2-2-50", "1-1-900,2-2-50"), 0, "none behind");
	is_int(catchup_trx_behind("1-1-900,2-2-50", "1-1-890"), 10,
	       "a domain the stream has not seen yet is left out");
	is_int(catchup_trx_behind("1-1-900", "1-1-950"), 0,
	       "a stream ahead (the master read earlier) is not behind");
	is_int(catchup_trx_behind("1-1-900,2-2-50", "0-9-5"), -1, "no domain in common: unknown");
	is_int(catchup_trx_behind("", "1-1-5"), -1, "no master position (MySQL): unknown");
	is_int(catchup_trx_behind("3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5", "1-1-5"), -1,
	       "a MySQL GTID set: unknown");
	is_int(catchup_trx_behind(NULL, "1-1-5"), -1, "NULL: unknown");
	is_int(catchup_trx_behind("1-1-5", NULL), -1, "NULL stream: unknown");
}

static void test_rule(void)
{
	ok(!catchup_rule(0, 500, 60, 1), "passed the end: never catching up");
	ok(catchup_rule(MIB + 1, 1, 0, 1), "over 1 MiB behind");
	ok(!catchup_rule(MIB, 10, 0, 1), "1 MiB and 10 transactions: a moment behind, current");
	ok(catchup_rule(2000, 11, 0, 1), "over 10 transactions behind");
	ok(catchup_rule(2000, -1, 2.5, 1), "behind an end read over 2 s ago");
	ok(!catchup_rule(2000, -1, 1.9, 0.5), "under 2 s, with a short probe_interval");
	ok(!catchup_rule(2000, 3, 9.9, 5), "under 2 x probe_interval");
	ok(catchup_rule(2000, 3, 10.1, 5), "over 2 x probe_interval");
	ok(!catchup_rule(-1, -1, 0, 1), "nothing known: not catching up");
}

/* A probe round that listed three's binlogs, the last one ending at end, at time at. */
static struct probe_result *round_at(uint64_t end, double at)
{
	struct probe_result *r = calloc(1, sizeof(*r) + sizeof(three));

	r->ok = true;
	r->binlogs_known = true;
	r->binlogs_at = at;
	r->binlogs = (struct probe_binlog *)(r + 1);
	r->n_binlogs = 3;
	memcpy(r->binlogs, three, sizeof(three));
	r->binlogs[2].size = end;
	return r;
}

static void stream_at(struct stream_view *v, const char *file, uint64_t offset, uint64_t bytes)
{
	memset(v, 0, sizeof(*v));
	v->name = "west";
	v->state = STREAM_STREAMING;
	v->connected = true;
	v->file = file;
	v->offset = offset;
	v->gtid = "1-1-100";
	v->bytes_total = bytes;
}

static void test_tracker(void)
{
	struct catchup *c = catchup_new(2);
	struct catchup_verdict out;
	struct stream_view v;
	struct probe_result *r1 = round_at(300, 10.0), *r2 = round_at(2000, 11.0),
			    *r3 = round_at(2000, 12.0), *r4 = round_at(2500, 13.0);

	/* a stream far behind: 1.5 MB in */
	stream_at(&v, "binlog.000007", 4, 0);
	catchup_judge(c, 0, NULL, NULL, &v, 10.0, 1, &out);
	ok(!out.known && !out.catching_up && strcmp(out.end_file, "") == 0,
	   "before any probe round: not known");
	is_str(out.unknown, "no probe round has worked yet", "and why");
	catchup_observe(c, 0, r1, &v, 10.1);
	catchup_judge(c, 0, r1, "1-1-105", &v, 10.1, 1, &out);
	ok(out.known && !out.catching_up, "6,296 bytes and 5 transactions behind: current");
	is_int(out.bytes, 6296, "bytes behind");
	is_int(out.transactions, 5, "transactions behind (the stream at 1-1-100)");
	is_str(out.end_file, "binlog.000009", "the master's binlog end: its file");
	is_int(out.end_offset, 300, "and offset");
	is_str(out.end_gtid, "1-1-105", "and GTID position");
	ok(out.seconds < 0, "no read rate yet: no estimate");
	catchup_judge(c, 0, r1, "1-1-900", &v, 10.1, 1, &out);
	ok(out.catching_up && out.transactions == 800, "800 transactions behind: catching up");

	/* a second later it read 1,000 bytes: 1,000 bytes a second */
	stream_at(&v, "binlog.000008", 1000, 1000);
	catchup_observe(c, 0, r2, &v, 11.1);
	catchup_judge(c, 0, r2, "1-1-100", &v, 11.1, 1, &out);
	is_int(out.bytes, 4000 + 2000, "behind the newer end");
	ok(out.seconds > 5.99 && out.seconds < 6.01, "6,000 bytes at 1,000 a second: ~6 s (%g)",
	   out.seconds);
	ok(out.behind_for > 1.09 && out.behind_for < 1.11,
	   "behind the end read at 10.0 since then (%g s)", out.behind_for);
	ok(!out.catching_up, "a few kB, no transaction, for 1.1 s: current");
	catchup_judge(c, 0, r2, "1-1-100", &v, 12.05, 1, &out);
	ok(out.catching_up && out.behind_for > 2,
	   "the end read at 10.0 still not passed 2.05 s later: catching up");

	/* the stream passes the first end (300 of binlog.000009) */
	stream_at(&v, "binlog.000009", 400, 5000);
	catchup_observe(c, 0, r3, &v, 12.1);
	catchup_judge(c, 0, r3, "1-1-100", &v, 12.2, 1, &out);
	ok(out.behind_for > 1.19 && out.behind_for < 1.21,
	   "behind since the end read at 11.0 (the same end again at 12.0 is no newer) (%g s)",
	   out.behind_for);
	ok(!out.catching_up, "1,600 bytes, 1.2 s: current");

	/* passes it all */
	stream_at(&v, "binlog.000009", 2500, 7000);
	catchup_observe(c, 0, r4, &v, 13.1);
	catchup_judge(c, 0, r4, "1-1-100", &v, 20, 1, &out);
	ok(out.known && !out.catching_up && out.bytes == 0 && out.behind_for == 0,
	   "at the end: caught up, 0 behind, for no time");

	/* the other master is apart; not connected: not known */
	stream_at(&v, "binlog.000007", 4, 0);
	v.connected = false;
	catchup_judge(c, 1, r4, "1-1-100", &v, 20, 1, &out);
	ok(!out.known && strcmp(out.unknown, "the stream is not reading") == 0,
	   "a stream not connected: not known");
	is_str(out.end_file, "binlog.000009", "the master's end is known all the same");
	v.connected = true;
	catchup_judge(c, 1, r4, "1-1-100", &v, 20, 1, &out);
	ok(out.catching_up && out.behind_for > 6.9,
	   "master 1 never observed: behind since the round's time");
	ok(out.seconds < 0, "and no rate");

	/* a round that could not list the binlogs */
	r4->binlogs_known = false;
	snprintf(r4->binlogs_error, sizeof(r4->binlogs_error), "SHOW BINARY LOGS: denied");
	catchup_judge(c, 0, r4, "1-1-100", &v, 20, 1, &out);
	ok(!out.known && strcmp(out.end_unknown, "SHOW BINARY LOGS: denied") == 0 &&
	       strcmp(out.unknown, out.end_unknown) == 0,
	   "SHOW BINARY LOGS failed: not known, and why");
	free(r1);
	free(r2);
	free(r3);
	free(r4);
	catchup_free(c);
}

/* More rounds than the tracker keeps, none passed: still behind since long ago. */
static void test_many_rounds(void)
{
	struct catchup *c = catchup_new(1);
	struct catchup_verdict out;
	struct stream_view v;
	struct probe_result *r = NULL;

	stream_at(&v, "binlog.000007", 4, 0);
	for (int k = 0; k < 40; k++) {
		free(r);
		r = round_at(1000 + (uint64_t)k, (double)k);
		v.bytes_total = (uint64_t)k * 100;
		catchup_observe(c, 0, r, &v, (double)k + 0.1);
	}
	catchup_judge(c, 0, r, NULL, &v, 40, 1, &out);
	ok(out.catching_up && out.behind_for > 10,
	   "40 rounds behind: catching up, behind for longer than the tracker remembers "
	   "exactly (%g s)",
	   out.behind_for);
	ok(out.transactions == -1, "no GTID: transactions unknown");
	ok(out.seconds > 0, "an estimate from the last seconds' rate (%g s)", out.seconds);
	free(r);
	catchup_free(c);
}

int main(void)
{
	test_bytes();
	test_transactions();
	test_rule();
	test_tracker();
	test_many_rounds();
	return tap_done();
}
