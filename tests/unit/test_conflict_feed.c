/*
 * test_conflict_feed.c - a real binlog through the feed: one engine
 * transaction per binlog transaction, its rows decoded, positions growing
 * across files, keys remembered for the reports, re-reads skipped.
 */
#include "ringwatch/binlog_reader.h"
#include "ringwatch/conflict_feed.h"

#include "../tap.h"

#include <stdlib.h>

static int origin_one(uint32_t server_id, void *arg)
{
	(void)arg;
	return server_id == 1 ? 0 : -1;
}

static int feed_file(conflict_feed *f, const char *name, int *gtids)
{
	const char *dir = getenv("RW_FIXTURES");
	char path[1024];
	binlog_reader *r = binlog_reader_new(BINLOG_READER_FILE);
	uint8_t buf[65536];
	binlog_event ev;
	rw_error err;
	size_t n;
	int bad = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "../shared/fixtures/binlog", name);
	fp = fopen(path, "rb");
	conflict_feed_set_file(f, "mariadb-bin.000001");
	while (fp != NULL && (n = fread(buf, 1, sizeof(buf), fp)) > 0) {
		bad += binlog_reader_feed(r, buf, n, &err) != 0;
		while (binlog_reader_next(r, &ev, &err) == 1) {
			*gtids += ev.hdr.type == BINLOG_MARIADB_GTID;
			bad += conflict_feed_event(f, &ev, 0, &err) != 0;
		}
	}
	if (fp != NULL)
		fclose(fp);
	binlog_reader_free(r);
	return fp == NULL ? -1 : bad;
}

int main(void)
{
	conflict_config cfg = { 0 };
	conflict_engine *e = NULL;
	conflict_keys *keys = conflict_keys_new(64);
	conflict_feed *f;
	conflict_feed_stats st;
	rw_error err;
	int gtids = 0, again = 0;

	ok(conflict_feed_position("binlog.000002", 4) >
	       conflict_feed_position("binlog.000001", 9999),
	   "positions grow across files");
	ok(conflict_feed_position("mariadb-bin.000123", 77) == ((uint64_t)123 << 40 | 77),
	   "file sequence in the top bits");
	{
		char file[64];
		uint64_t off = 0;
		ok(conflict_feed_file_of(conflict_feed_position("binlog.000123", 4567),
					 "binlog.000009", file, sizeof(file), &off) == 0 &&
		       strcmp(file, "binlog.000123") == 0 && off == 4567,
		   "a position back to its file and offset (%s:%llu)", file,
		   (unsigned long long)off);
		ok(conflict_feed_file_of(1, "nodigits", file, sizeof(file), &off) < 0,
		   "a pattern without digits");
	}
	cfg.n_masters = 2;
	ok(conflict_engine_new(&cfg, &e, &err) == 0, "engine");
	f = conflict_feed_new(e, 0, origin_one, NULL, keys);
	is_int(feed_file(f, "rust_mysql_common/mariadb-bin.000001", &gtids), 0,
	       "the fixture feeds without error");
	conflict_feed_stats_get(f, &st);
	ok(gtids > 0, "it has %d GTIDs", gtids);
	is_int(st.transactions, gtids, "one engine transaction per GTID");
	is_int(st.rows, 2, "its two inserted rows");
	is_int(st.undecodable, 0, "every rows event decoded");
	is_int(st.unknown_origin, 0, "every origin known");
	/* the same file again, as after a reconnect that resumed from an older position */
	is_int(feed_file(f, "rust_mysql_common/mariadb-bin.000001", &again), 0, "read again");
	conflict_feed_stats_get(f, &st);
	is_int(st.transactions, gtids, "nothing fed twice");
	is_int(st.replayed, gtids, "the re-read ones counted as replayed");
	conflict_feed_free(f);
	conflict_engine_free(e);
	conflict_keys_free(keys);
	return tap_done();
}
