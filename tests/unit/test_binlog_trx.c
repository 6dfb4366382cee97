/*
 * test_binlog_trx.c - transaction boundaries on real binlogs: every GTID
 * opens exactly one transaction, each closes before the next begins, and
 * every XID closes one.
 */
#include "ringwatch/binlog_reader.h"
#include "ringwatch/binlog_trx.h"

#include "../tap.h"

#include <stdlib.h>

struct counts {
	int gtids, xids, begins, ends, singles, cuts, inside_outside, ok;
};

static struct counts scan(const char *name)
{
	struct counts c = { 0 };
	char path[1024];
	const char *dir = getenv("RW_FIXTURES");
	binlog_reader *r = binlog_reader_new(BINLOG_READER_FILE);
	binlog_trx t;
	binlog_event ev;
	rw_error err;
	uint8_t buf[65536];
	size_t n;
	FILE *fp;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "../shared/fixtures/binlog", name);
	fp = fopen(path, "rb");
	if (fp == NULL || r == NULL) {
		tap_diag("cannot open %s", path);
		if (fp != NULL)
			fclose(fp);
		binlog_reader_free(r);
		return c;
	}
	binlog_trx_init(&t);
	c.ok = 1;
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0) {
		if (binlog_reader_feed(r, buf, n, &err) != 0) {
			c.ok = 0;
			break;
		}
		while ((rc = binlog_reader_next(r, &ev, &err)) == 1) {
			int open_before = binlog_trx_open(&t);
			int mark = binlog_trx_feed(&t, &ev);
			c.gtids += ev.hdr.type == BINLOG_MARIADB_GTID ||
				   ev.hdr.type == BINLOG_GTID ||
				   ev.hdr.type == BINLOG_ANONYMOUS_GTID ||
				   ev.hdr.type == BINLOG_GTID_TAGGED;
			c.xids += ev.hdr.type == BINLOG_XID;
			c.begins += mark == BINLOG_TRX_BEGIN;
			c.ends += mark == BINLOG_TRX_END;
			c.singles += mark == BINLOG_TRX_SINGLE;
			c.cuts += mark == BINLOG_TRX_BEGIN && t.cut;
			c.inside_outside += mark == BINLOG_TRX_INSIDE && !open_before;
		}
		if (rc < 0) {
			c.ok = 0;
			break;
		}
	}
	fclose(fp);
	binlog_reader_free(r);
	return c;
}

static void check(const char *name, int gtid_file)
{
	struct counts c = scan(name);

	ok(c.ok, "%s: read", name);
	is_int(c.cuts, 0, "%s: no transaction cut short", name);
	is_int(c.inside_outside, 0, "%s: nothing inside a closed transaction", name);
	ok(c.ends + c.singles >= c.xids, "%s: every XID closes one (%d ends, %d XIDs)", name,
	   c.ends, c.xids);
	if (gtid_file) {
		ok(c.gtids > 0, "%s: has GTIDs (%d)", name, c.gtids);
		is_int(c.begins, c.gtids, "%s: one transaction per GTID", name);
		is_int(c.ends, c.gtids, "%s: each one closed", name);
	}
}

int main(void)
{
	check("rust_mysql_common/mariadb-bin.000001", 1);
	check("mariadb-poc/domain_id_0_mariadb-repl-bin.000005", 1);
	check("mariadb-poc/domain_id_1_mariadb-repl-bin.000002", 1);
	check("mysql-binlog-connector-java/mysql-bin.checksum-crc32", 1);
	check("rust_mysql_common/binlog_transaction_with_GTID.000001", 1);
	check("rust_mysql_common/transaction_compression.000001", 1);
	check("rust_mysql_common/json.binlog.000001", 1);
	return tap_done();
}
