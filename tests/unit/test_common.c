/*
 * test_common.c - what ringwatchd and the CLI share (common/): hex text both
 * ways, times as text, conflict ids as text and back.
 */
#include "common/conflict_json.h"
#include "common/hex.h"
#include "common/repair.h"
#include "common/time_text.h"

#include "../tap.h"

#include <stdlib.h>
#include <string.h>

static void test_hex(void)
{
	const uint8_t bytes[] = { 0x00, 0x7f, 0xab, 0xff };
	char small[6], *all = hex_encode(bytes, sizeof(bytes));
	uint8_t *back;
	size_t n = 99;

	is_str(all, "007fabff", "bytes as lowercase hex");
	is_int(hex_put(small, sizeof(small), bytes, sizeof(bytes)), 4, "whole bytes that fit");
	is_str(small, "007f", "cut at a byte, terminated");
	is_int(hex_put(small, 1, bytes, sizeof(bytes)), 0, "no room: the empty text");
	back = hex_decode(all, &n);
	ok(back != NULL && n == 4 && memcmp(back, bytes, 4) == 0, "and back");
	free(back);
	ok(hex_decode("abc", &n) == NULL, "an odd length is no hex");
	ok(hex_decode("0g", &n) == NULL, "nor a digit outside 0-9a-f");
	ok(hex_decode("AB", &n) == NULL, "nor an upper-case digit (ringwatch writes lower case)");
	back = hex_decode("", &n);
	ok(back != NULL && n == 0, "the empty text is no bytes");
	free(back);
	free(all);
}

static void test_time(void)
{
	char when[32];

	time_text(0.9996, when);
	is_str(when, "1970-01-01T00:00:01.000Z", "rounded to the millisecond, into the second");
	time_text(1796321675.123, when);
	is_str(when, "2026-12-03T18:14:35.123Z", "a date in UTC");
}

static void test_uid(void)
{
	conflict_id id = { 0x0123456789abcdefULL, 0xfedcba9876543210ULL }, back;
	char text[CONFLICT_ID_TEXT];

	conflict_uid(&id, text);
	ok(conflict_uid_parse(text, &back) == 0 && back.hi == id.hi && back.lo == id.lo,
	   "a conflict id read back from its text (%s)", text);
	ok(conflict_uid_parse("0123", &back) != 0, "a short text is no id");
	ok(conflict_uid_parse("0123456789abcdef0123456789abcdeX", &back) != 0,
	   "nor one with a stray character");
}

/* The repair of a drift record: no write, so the row kept is the one --prefer NAME holds. */
static void test_repair_drift(void)
{
	json_t *c = json_loads("{\"id\": 4, \"kind\": \"drift\", \"schema\": \"app\", "
			       "\"table\": \"t\", \"key\": {\"id\": 7}, \"writes\": [], "
			       "\"final\": {\"west\": {\"id\": 7, \"v\": \"a\"}, "
			       "\"east\": null}}",
			       0, NULL);
	char *text = NULL, err[256] = "";
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	ok(c != NULL, "a drift record");
	is_int(repair_sql(c, NULL, out, err, sizeof(err)), -1, "without --prefer: refused");
	ok(strstr(err, "--prefer NAME") != NULL, "saying to choose a master (%s)", err);
	is_int(repair_sql(c, "west", out, err, sizeof(err)), 0, "--prefer west");
	fflush(out);
	ok(strstr(text, "-- on east (it holds null):\nSET SESSION sql_log_bin = 0;\nREPLACE INTO "
			"`app`.`t` (`id`, `v`) VALUES (7, 'a');") != NULL,
	   "east gets west's row");
	ok(strstr(text, "-- on west") == NULL, "west holds it already: nothing to run there");
	fclose(out);
	free(text);
	out = open_memstream(&text, &len);
	is_int(repair_sql(c, "east", out, err, sizeof(err)), 0, "--prefer east");
	fflush(out);
	ok(strstr(text, "DELETE FROM `app`.`t` WHERE `id` = 7;") != NULL,
	   "east has no row: west's is deleted");
	fclose(out);
	free(text);
	json_decref(c);
}

int main(void)
{
	test_hex();
	test_time();
	test_uid();
	test_repair_drift();
	return tap_done();
}
