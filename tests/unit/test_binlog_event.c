/*
 * test_binlog_event.c - single events built by hand: QUERY status variables
 * (an unknown code skips the rest of the block), HEARTBEAT and HEARTBEAT_V2,
 * INCIDENT, XID, START_ENCRYPTION (unsupported), unknown types with and
 * without the IGNORABLE flag, impossible lengths.
 */
#include "ringwatch/binlog_event.h"

#include "../tap.h"

/* A 19-byte common header followed by body; returns the event length. */
static size_t event(uint8_t *out, uint8_t type, uint16_t flags, const uint8_t *body, size_t n)
{
	memset(out, 0, 19);
	out[4] = type;
	out[5] = 9; /* server_id 9 */
	out[9] = (uint8_t)(19 + n);
	out[17] = (uint8_t)flags;
	out[18] = (uint8_t)(flags >> 8);
	memcpy(out + 19, body, n);
	return 19 + n;
}

static int decode(const uint8_t *buf, size_t len, binlog_event *ev, rw_error *err)
{
	binlog_fde fde;

	binlog_fde_default(&fde);
	return binlog_event_decode(&fde, buf, len, 100, ev, err);
}

static void test_query(void)
{
	/* thread 7, exec 0, db "db", error 0; status: SQL_MODE, unknown code 99, then junk */
	const uint8_t body[] = { 7,   0,    0, 0,   0,   0,   0,   0,   2,   0,   0,    13,   0,
				 1,   0x22, 0, 0,   0,   0,   0,   0,   0,   99,  0xff, 0xff, 0xff,
				 'd', 'b',  0, 'S', 'E', 'L', 'E', 'C', 'T', ' ', '1' };
	uint8_t buf[128];
	binlog_event ev;
	rw_error err;

	ok(decode(buf, event(buf, BINLOG_QUERY, 0, body, sizeof(body)), &ev, &err) == 0,
	   "QUERY decodes");
	ok(ev.u.query.has_sql_mode && ev.u.query.sql_mode == 0x22, "sql_mode status variable");
	is_int(ev.u.query.status_unknown_code, 99, "an unknown status code stops the block");
	ok(ev.u.query.schema.len == 2 && memcmp(ev.u.query.schema.p, "db", 2) == 0, "schema");
	ok(ev.u.query.sql.len == 8 && memcmp(ev.u.query.sql.p, "SELECT 1", 8) == 0, "sql text");
	is_int(ev.position, 100, "position as given");
}

static void test_small_events(void)
{
	const uint8_t hb[] = { 'b', 'i', 'n', '.', '1' };
	const uint8_t hb2[] = { 1, 5, 'b', 'i', 'n', '.', '2', 2, 3, 0xfc, 0x10, 0x27, 0 };
	const uint8_t inc[] = { 1, 0, 4, 'l', 'o', 's', 't' };
	const uint8_t xid[] = { 42, 0, 0, 0, 0, 0, 0, 0 };
	uint8_t buf[128];
	binlog_event ev;
	rw_error err;

	ok(decode(buf, event(buf, BINLOG_HEARTBEAT, 0, hb, sizeof(hb)), &ev, &err) == 0 &&
	       ev.u.heartbeat.file.len == 5,
	   "HEARTBEAT names the file");
	ok(decode(buf, event(buf, BINLOG_HEARTBEAT_V2, 0, hb2, sizeof(hb2)), &ev, &err) == 0 &&
	       ev.u.heartbeat.file.len == 5 && ev.u.heartbeat.position == 10000,
	   "HEARTBEAT_V2 file and position");
	ok(decode(buf, event(buf, BINLOG_INCIDENT, 0, inc, sizeof(inc)), &ev, &err) == 0 &&
	       ev.u.incident.type == 1 && ev.u.incident.message.len == 4,
	   "INCIDENT type and message");
	ok(decode(buf, event(buf, BINLOG_XID, 0, xid, sizeof(xid)), &ev, &err) == 0 &&
	       ev.u.xid == 42,
	   "XID");
	ok(decode(buf, event(buf, BINLOG_XID, 0, xid, 7), &ev, &err) == RW_E_TRUNCATED,
	   "a short XID is truncated");
	ok(decode(buf, event(buf, BINLOG_INCIDENT, 0, inc, 5), &ev, &err) == RW_E_TRUNCATED &&
	       err.offset == 100 + 19 + 2,
	   "an INCIDENT message past the end names its offset");
}

static void test_unknown(void)
{
	uint8_t buf[64];
	binlog_event ev;
	rw_error err;

	ok(decode(buf, event(buf, 99, BINLOG_FLAG_IGNORABLE, (const uint8_t *)"xx", 2), &ev,
		  &err) == 0 &&
	       ev.unknown,
	   "an unknown ignorable type is skipped");
	is_int(decode(buf, event(buf, 99, 0, (const uint8_t *)"xx", 2), &ev, &err),
	       RW_E_UNSUPPORTED, "an unknown type without the flag is an error");
	ok(strstr(err.text, "99") != NULL, "which names the type");
	is_int(decode(buf, event(buf, BINLOG_START_ENCRYPTION, 0, (const uint8_t *)"xx", 2), &ev,
		      &err),
	       RW_E_UNSUPPORTED, "START_ENCRYPTION is reported as unsupported");
	ok(strstr(err.text, "encrypted") != NULL, "saying the binlog is encrypted");
	is_int(decode(buf, 10, &ev, &err), RW_E_TRUNCATED, "a cut header is truncated");
}

int main(void)
{
	test_query();
	test_small_events();
	test_unknown();
	return tap_done();
}
