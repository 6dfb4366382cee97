/*
 * test_gtid_pos.c - MariaDB GTID positions: parse, update, format, GTID_LIST.
 */
#include "ringwatch/gtid_pos.h"

#include "../tap.h"

static void test_parse_format(void)
{
	gtid_pos p;
	rw_error err;
	char buf[GTID_POS_TEXT_MAX];

	ok(gtid_pos_parse("", &p, &err) == 0 && p.n == 0, "empty position");
	ok(gtid_pos_parse("1-2-17, 0-1-5", &p, &err) == 0, "two domains");
	is_int(p.n, 2, "two entries");
	is_int(p.e[0].domain, 0, "sorted by domain");
	ok(gtid_pos_format(&p, buf, sizeof(buf)) > 0, "formats");
	is_str(buf, "0-1-5,1-2-17", "canonical text");
	ok(gtid_pos_parse("4294967295-4294967295-18446744073709551615", &p, &err) == 0 &&
	       p.e[0].seq == UINT64_MAX,
	   "largest values");
	ok(gtid_pos_parse("4294967296-1-1", &p, &err) == RW_E_INVALID, "domain overflow");
	ok(gtid_pos_parse("0-1-18446744073709551616", &p, &err) == RW_E_INVALID, "seq overflow");
	ok(gtid_pos_parse("0-1", &p, &err) == RW_E_INVALID, "missing seq");
	is_int(err.offset, 0, "error offset");
	ok(gtid_pos_parse("0-1-1,", &p, &err) == RW_E_INVALID, "trailing comma");
	ok(gtid_pos_parse("0-1-1;1-1-1", &p, &err) == RW_E_INVALID, "bad separator");
	is_int(err.offset, 5, "separator offset");
	ok(gtid_pos_parse("0-1-1,0-2-2", &p, &err) == RW_E_INVALID, "domain twice");
	ok(gtid_pos_parse("a-1-1", &p, &err) == RW_E_INVALID, "letters");
	ok(gtid_pos_format(&p, buf, 3) == RW_E_LIMIT || p.n == 0, "small buffer refused");
}

static void test_update(void)
{
	gtid_pos p;
	char buf[64];

	gtid_pos_clear(&p);
	ok(gtid_pos_update(&p, 2, 2, 10) == 0, "insert");
	ok(gtid_pos_update(&p, 1, 1, 4) == 0, "insert before");
	ok(gtid_pos_update(&p, 2, 1, 11) == 0, "replace domain 2");
	ok(gtid_pos_format(&p, buf, sizeof(buf)) == 12, "format length");
	is_str(buf, "1-1-4,2-1-11", "updated text");
	ok(gtid_pos_get(&p, 3) == NULL, "absent domain");
	is_int(gtid_pos_format(&p, buf, 5), RW_E_LIMIT, "too small for the text");
	is_str(buf, "", "buffer emptied on failure");
	int failures = 0;
	for (uint32_t d = 0; d < GTID_POS_MAX - 2; d++)
		failures += gtid_pos_update(&p, d + 10, 1, 1) != 0;
	is_int(failures, 0, "fills up to the bound");
	is_int(gtid_pos_update(&p, 9999, 1, 1), RW_E_LIMIT, "bounded");
}

static void put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}

static void test_from_list(void)
{
	uint8_t raw[3 * 16];
	gtid_pos p;
	rw_error err;
	char buf[64];

	/* domain 1 written by servers 1 and 2: the later (higher seq) is the position */
	put32(raw, 1), put32(raw + 4, 2), put32(raw + 8, 9), put32(raw + 12, 0);
	put32(raw + 16, 1), put32(raw + 20, 1), put32(raw + 24, 7), put32(raw + 28, 0);
	put32(raw + 32, 0), put32(raw + 36, 3), put32(raw + 40, 5), put32(raw + 44, 1);
	ok(gtid_pos_from_list(raw, 3, &p, &err) == 0, "list read");
	ok(gtid_pos_format(&p, buf, sizeof(buf)) > 0, "formats");
	is_str(buf, "0-3-4294967301,1-2-9", "latest GTID of each domain, 64-bit seq");
}

/* Whether a replica applied a transaction: the GTID of a write against what it applied. */
static void test_applied(void)
{
	static const struct {
		const char *gtid, *pos;
		int want;
		const char *what;
	} cases[] = {
		{ "2-2-15", "1-1-40,2-2-14", 0, "MariaDB: the next of its domain, not applied" },
		{ "2-2-15", "1-1-40,2-2-15", 1, "MariaDB: the last applied" },
		{ "2-2-15", "1-1-40, 2-2-90", 1, "MariaDB: an earlier one" },
		{ "0-2-15", "0-1-20", 1,
		  "MariaDB: one domain shared, a later seq from another server" },
		{ "3-3-1", "1-1-40,2-2-14", 0, "MariaDB: a domain never applied" },
		{ "2-2-15", "", 0, "MariaDB: nothing applied yet" },
		{ "3E11FA47-71CA-11E1-9E33-C80AA9429562:23",
		  "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-22,\n57f8d2a4-1111-11e1-9e33-"
		  "c80aa9429562:1-9",
		  0, "MySQL: past its server's interval" },
		{ "3e11fa47-71ca-11e1-9e33-c80aa9429562:5",
		  "57f8d2a4-1111-11e1-9e33-c80aa9429562:1-9,\n3e11fa47-71ca-11e1-9e33-c80aa9429562:"
		  "1-4:5",
		  1, "MySQL: a single-number interval, after a line break" },
		{ "3e11fa47-71ca-11e1-9e33-c80aa9429562:7",
		  "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:8-9", 0, "MySQL: in a hole" },
		{ "3e11fa47-71ca-11e1-9e33-c80aa9429562:9",
		  "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:8-9", 1,
		  "MySQL: in the second interval" },
		{ "3e11fa47-71ca-11e1-9e33-c80aa9429562:3",
		  "57f8d2a4-1111-11e1-9e33-c80aa9429562:1-9", 0, "MySQL: another server's only" },
		{ "3e11fa47-71ca-11e1-9e33-c80aa9429562:tag:2",
		  "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:tag:1-3", -1,
		  "MySQL 8.3+: a tagged GTID is not known (not read here)" },
		{ "", "1-1-40", -1, "no GTID: not known" },
		{ "2-2-15", NULL, -1, "no position: not known" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(gtid_applied(cases[i].gtid, cases[i].pos), cases[i].want, "%s",
		       cases[i].what);
}

int main(void)
{
	test_parse_format();
	test_update();
	test_from_list();
	test_applied();
	return tap_done();
}
