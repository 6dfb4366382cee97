/*
 * test_tracker.c - the conflict engine inside ringwatchd, alone: a real
 * binlog (MySQL 8, one table created and written) fed as west's stream,
 * then as east's; what the engine tracks, where a restart would resume, the
 * tables it saw, and that copies settle without a conflict.
 */
#include "../../daemon/ledger.h"
#include "../../daemon/state.h"
#include "../../daemon/tracker.h"

#include "ringwatch/binlog_event_type.h"
#include "ringwatch/binlog_reader.h"

#include "../tap.h"
#include "state_dir.h"

#include <stdlib.h>
#include <string.h>

#define FIXTURE "rust_mysql_common/binlog-invisible-columns.000001"

/* server_id 1 wrote the fixture: west */
static int origin_of(uint32_t server_id, void *arg)
{
	(void)arg;
	return server_id == 1 ? 0 : -1;
}

/* Feed the fixture as master m's stream, a ROTATE naming its file first; the
 * offset of the GTID event of the third transaction into *third. */
static int feed(struct tracker *t, size_t m, int64_t *third)
{
	const char *dir = getenv("RW_FIXTURES");
	char path[1024];
	binlog_reader *r = binlog_reader_new(BINLOG_READER_FILE);
	binlog_event rot, ev;
	uint8_t buf[65536];
	rw_error err;
	size_t n;
	int gtids = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "../shared/fixtures/binlog", FIXTURE);
	if ((fp = fopen(path, "rb")) == NULL || r == NULL) {
		binlog_reader_free(r);
		if (fp != NULL)
			fclose(fp);
		return -1;
	}
	memset(&rot, 0, sizeof(rot));
	rot.hdr.type = BINLOG_ROTATE;
	rot.u.rotate.file = (binlog_str){ "binlog.000001", 13 };
	rot.u.rotate.position = 4;
	tracker_event(t, m, &rot, NULL, 0);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0) {
		if (binlog_reader_feed(r, buf, n, &err) != 0)
			break;
		while (binlog_reader_next(r, &ev, &err) == 1) {
			if (ev.hdr.type == BINLOG_GTID && ++gtids == 3 && third != NULL)
				*third = ev.position;
			tracker_event(t, m, &ev, NULL, 0);
		}
	}
	fclose(fp);
	binlog_reader_free(r);
	return 0;
}

int main(void)
{
	const char *names[] = { "west", "east" };
	char dir[] = "/tmp/rw-tracker.XXXXXX", err[256] = "", file[64] = "";
	struct tracker_config tc = {
		.n_masters = 2, .names = names, .origin = origin_of, .origin_arg = NULL
	};
	struct tracker *t, *again;
	struct tracker_view v;
	struct state *st;
	int64_t third = -1, open = -1, total = -1;
	uint64_t offset = 0;
	json_t *tables, *t1;

	if (mkdtemp(dir) == NULL || (st = state_open(dir, err, sizeof(err))) == NULL) {
		ok(0, "a state in %s: %s", dir, err);
		return tap_done();
	}
	tc.state = st;
	t = tracker_new(&tc);
	ok(t != NULL, "an engine for west and east");
	if (t == NULL)
		return tap_done();

	is_int(feed(t, 0, &third), 0, "the fixture as west's stream");
	tracker_view(t, &v);
	ok(v.tracked_keys > 0, "west's writes are tracked until east shows them (%zu keys)",
	   v.tracked_keys);
	is_int(v.unknown_rows, 0, "every row keyed: the CREATE TABLE is in the binlog");
	is_int(v.unknown_origin, 0, "every transaction's origin known");

	tables = tracker_tables_json(t);
	t1 = NULL;
	for (size_t i = 0; i < json_array_size(tables); i++) {
		json_t *e = json_array_get(tables, i);
		if (strcmp(json_string_value(json_object_get(e, "table")), "t1") == 0)
			t1 = e;
	}
	ok(t1 != NULL, "/v1/tables lists t1");
	is_str(json_string_value(json_object_get(
		   json_object_get(json_object_get(t1, "masters"), "west"), "key_source")),
	       "binlog", "its key from the table maps (written with FULL metadata)");
	ok(json_integer_value(json_object_get(
	       json_object_get(json_object_get(t1, "masters"), "west"), "writes_10m")) > 0,
	   "west wrote it lately");
	json_decref(tables);

	/* a restart now resumes west at its oldest unsettled transaction */
	tracker_checkpoint(t);
	again = tracker_new(&tc);
	tracker_restore(again);
	ok(tracker_resume(again, 0, file, sizeof(file), &offset), "west resumes from the mark");
	is_str(file, "binlog.000001", "in the file the stream named");
	is_int((int64_t)offset, third, "at the first unsettled transaction (the first write)");
	ok(!tracker_resume(again, 1, file, sizeof(file), &offset),
	   "east, never fed, resumes from its own checkpoint");
	tracker_free(again);

	/* east shows the same transactions: copies, settled, no conflict */
	is_int(feed(t, 1, NULL), 0, "the fixture as east's stream");
	tracker_view(t, &v);
	is_int(v.tracked_keys, 0, "every write settled");
	ok(ledger_counts(st, &open, &total) == 0 && total == 0, "no conflict (%lld)",
	   (long long)total);
	tracker_checkpoint(t);
	again = tracker_new(&tc);
	tracker_restore(again);
	ok(tracker_resume(again, 0, file, sizeof(file), &offset) && (int64_t)offset > third,
	   "settled: west resumes after what it read (%llu)", (unsigned long long)offset);
	tracker_free(again);

	tracker_free(t);
	state_close(st);
	ok(state_dir_remove(dir) == 0, "temp dir removed");
	return tap_done();
}
