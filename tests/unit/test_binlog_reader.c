/*
 * test_binlog_reader.c - framing over real fixture files: any chunking gives
 * the same events, a flipped byte is a checksum error at the event's
 * offset, a cut file is a truncation at the cut event, STREAM mode follows
 * log positions, TRANSACTION_PAYLOAD yields its inner events, and a ROTATE
 * forgets the table maps.
 */
#include "ringwatch/binlog_reader.h"
#include "ringwatch/row_decode.h"

#include "../tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

static uint8_t *load(const char *rel, size_t *len)
{
	const char *dir = getenv("RW_FIXTURES");
	char path[4096];
	FILE *f;
	uint8_t *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "../shared/fixtures/binlog", rel);
	f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

typedef struct walk {
	int events, inner, rows;
	int64_t last_pos, pos_sum;
	int rc;
	rw_error err;
} walk;

/* Count an event and decode every row of it. */
static void count_event(walk *w, const binlog_event *ev, value_datum *a, value_datum *b)
{
	row_iter it;

	w->events++;
	w->inner += ev->in_payload;
	w->last_pos = ev->position;
	w->pos_sum += ev->position;
	if (binlog_event_is_rows(ev->hdr.type) && row_iter_init(&it, &ev->u.rows, &w->err) == 0)
		while (row_iter_next(&it, a, b, &w->err) == 1)
			w->rows++;
}

/* Feed buf in chunks of `chunk` bytes; count events, decode every row. */
static walk run(const uint8_t *buf, size_t len, size_t chunk, int mode)
{
	binlog_reader *r = binlog_reader_new(mode);
	value_datum *a = calloc(BINLOG_MAX_COLUMNS, sizeof(*a)),
		    *b = calloc(BINLOG_MAX_COLUMNS, sizeof(*b));
	walk w;
	binlog_event ev;

	memset(&w, 0, sizeof(w));
	for (size_t off = 0; off < len && w.rc >= 0; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;

		w.rc = binlog_reader_feed(r, buf + off, n, &w.err);
		while (w.rc >= 0 && (w.rc = binlog_reader_next(r, &ev, &w.err)) == 1)
			count_event(&w, &ev, a, b);
	}
	if (w.rc >= 0)
		w.rc = binlog_reader_finish(r, &w.err);
	binlog_reader_free(r);
	free(a);
	free(b);
	return w;
}

static void test_chunking(const uint8_t *buf, size_t len)
{
	walk whole = run(buf, len, len, BINLOG_READER_FILE);
	walk bytes = run(buf, len, 1, BINLOG_READER_FILE);
	walk odd = run(buf, len, 777, BINLOG_READER_FILE);

	is_int(whole.rc, 0, "crc32 file reads cleanly");
	is_int(whole.events, 303, "303 events (as the fixtures README says)");
	is_int(whole.rows, 63, "63 row changes (as mariadb-binlog shows)");
	ok(bytes.rc == 0 && bytes.events == whole.events && bytes.pos_sum == whole.pos_sum,
	   "one byte at a time gives the same events");
	ok(odd.rc == 0 && odd.events == whole.events && odd.pos_sum == whole.pos_sum,
	   "777-byte chunks give the same events");
}

static void test_damage(const uint8_t *buf, size_t len)
{
	uint8_t *copy = malloc(len);
	walk w;

	memcpy(copy, buf, len);
	copy[1000] ^= 0x40;
	w = run(copy, len, 4096, BINLOG_READER_FILE);
	is_int(w.rc, RW_E_CHECKSUM, "a flipped byte is a checksum error");
	ok(w.err.offset > 0 && w.err.offset <= 1000 && w.err.offset > w.last_pos,
	   "the error names the damaged event's offset (%lld)", (long long)w.err.offset);
	w = run(buf, 1000, 4096, BINLOG_READER_FILE);
	is_int(w.rc, RW_E_TRUNCATED, "a cut file is truncated");
	ok(w.err.offset > w.last_pos && w.err.offset < 1000, "at the cut event (%lld)",
	   (long long)w.err.offset);
	w = run(buf + 1, len - 1, len, BINLOG_READER_FILE);
	is_int(w.rc, RW_E_INVALID, "no magic, no binlog");
	free(copy);
}

/* STREAM mode: events handed one by one, positions from log_pos. */
static void test_stream(const uint8_t *buf, size_t len)
{
	binlog_reader *r = binlog_reader_new(BINLOG_READER_STREAM);
	binlog_event ev;
	rw_error err;
	size_t off = 4;
	int good = 1, n = 0;

	while (off + 19 <= len) {
		size_t size = buf[off + 9] | buf[off + 10] << 8 | (size_t)buf[off + 11] << 16;

		if (binlog_reader_feed(r, buf + off, size, &err) < 0 ||
		    binlog_reader_next(r, &ev, &err) != 1) {
			good = 0;
			break;
		}
		good &= ev.position == (int64_t)off;
		n++;
		off += size;
	}
	ok(good && n == 303, "STREAM mode: %d events at their file offsets", n);
	binlog_reader_free(r);
}

static void test_payload(void)
{
	size_t len = 0;
	uint8_t *buf = load("rust_mysql_common/transaction_compression.000001", &len);
	walk w;

	if (buf == NULL) {
		ok(0, "transaction_compression fixture");
		return;
	}
	w = run(buf, len, len, BINLOG_READER_FILE);
	is_int(w.rc, 0, "transaction_compression reads cleanly");
	is_int(w.inner, 4, "4 events inside the TRANSACTION_PAYLOAD");
	is_int(w.rows, 1, "its WRITE_ROWS decodes");
	free(buf);
}

static void test_rotate_forgets_tables(const uint8_t *buf, size_t len)
{
	binlog_reader *r = binlog_reader_new(BINLOG_READER_FILE);
	binlog_event ev;
	rw_error err;
	uint64_t id = 0;
	int saw = 0;

	if (binlog_reader_feed(r, buf, len, &err) == 0)
		while (binlog_reader_next(r, &ev, &err) == 1) {
			if (ev.hdr.type == BINLOG_TABLE_MAP)
				id = ev.u.table_map->table_id;
			if (id != 0 && ev.hdr.type != BINLOG_ROTATE)
				saw |= binlog_reader_table(r, id) != NULL;
		}
	ok(saw, "table maps are kept by id");
	ok(binlog_reader_table(r, id) == NULL, "the final ROTATE forgets them");
	binlog_reader_free(r);
}

/* Walk what is left of buf for a reader (fed in place); count as run() does. */
static walk rest(binlog_reader *r, const uint8_t *buf, size_t len)
{
	value_datum *a = calloc(BINLOG_MAX_COLUMNS, sizeof(*a)),
		    *b = calloc(BINLOG_MAX_COLUMNS, sizeof(*b));
	binlog_event ev;
	walk w;

	memset(&w, 0, sizeof(w));
	w.rc = binlog_reader_feed_ref(r, buf, len, &w.err);
	while (w.rc >= 0 && (w.rc = binlog_reader_next(r, &ev, &w.err)) == 1)
		count_event(&w, &ev, a, b);
	if (w.rc >= 0)
		w.rc = binlog_reader_finish(r, &w.err);
	free(a);
	free(b);
	return w;
}

/*
 * Forking: at every event boundary of a skimming pass, a fork fed the rest
 * of the file in place hands back exactly the events (and rows) a plain
 * reader has from there on; skimming skips checksums; no fork inside a
 * TRANSACTION_PAYLOAD.
 */
static void test_fork(const uint8_t *buf, size_t len)
{
	walk whole = run(buf, len, len, BINLOG_READER_FILE), w;
	binlog_reader *r = binlog_reader_new(BINLOG_READER_FILE), *f;
	binlog_event ev;
	rw_error err;
	int64_t pos_left = whole.pos_sum;
	int i = 0, forks = 0, same = 0, rows_seen = 0, rc;
	uint8_t *copy = malloc(len);
	value_datum *va = calloc(BINLOG_MAX_COLUMNS, sizeof(*va)),
		    *vb = calloc(BINLOG_MAX_COLUMNS, sizeof(*vb));
	row_iter it;
	size_t at;

	w = rest(r, buf, len);
	ok(w.rc == 0 && w.events == whole.events && w.pos_sum == whole.pos_sum &&
	       w.rows == whole.rows,
	   "input fed in place gives the same events and rows");
	binlog_reader_free(r);

	r = binlog_reader_new(BINLOG_READER_FILE);
	binlog_reader_set_skim(r, 1);
	rc = binlog_reader_feed_ref(r, buf, len, &err);
	while (rc == 0) {
		int64_t at_pos = binlog_reader_position(r);

		if (binlog_reader_peek_type(r) >= 0 && (f = binlog_reader_fork(r, &err)) != NULL) {
			w = rest(f, buf + at_pos, len - (size_t)at_pos);
			forks++;
			same += w.rc == 0 && w.events == whole.events - i &&
				w.pos_sum == pos_left && w.rows == whole.rows - rows_seen;
			binlog_reader_free(f);
		}
		if ((rc = binlog_reader_next(r, &ev, &err)) != 1)
			break;
		pos_left -= ev.position;
		i++;
		rc = 0;
		if (binlog_event_is_rows(ev.hdr.type) && row_iter_init(&it, &ev.u.rows, &err) == 0)
			while (row_iter_next(&it, va, vb, &err) == 1)
				rows_seen++;
	}
	is_int(i, whole.events, "skimming hands back every event");
	ok(forks > 100 && same == forks, "%d of %d forks go on exactly as the reader did", same,
	   forks);
	binlog_reader_free(r);

	/* damage the checksum of the event after the FORMAT_DESCRIPTION */
	memcpy(copy, buf, len);
	at = 4 + (size_t)(buf[4 + 9] | buf[4 + 10] << 8);
	at += (size_t)(buf[at + 9] | buf[at + 10] << 8) - 1;
	copy[at] ^= 0x01;
	w = run(copy, len, len, BINLOG_READER_FILE);
	is_int(w.rc, RW_E_CHECKSUM, "a damaged checksum is an error when reading");
	r = binlog_reader_new(BINLOG_READER_FILE);
	binlog_reader_set_skim(r, 1);
	w = rest(r, copy, len);
	ok(w.rc == 0 && w.events == whole.events, "and passes when skimming");
	binlog_reader_free(r);
	free(copy);
	free(va);
	free(vb);
}

static void test_fork_payload(void)
{
	size_t len = 0;
	uint8_t *buf = load("rust_mysql_common/transaction_compression.000001", &len);
	binlog_reader *r = binlog_reader_new(BINLOG_READER_FILE), *f;
	binlog_event ev;
	rw_error err;
	int inner = 0, refused = 0, peeked = 0;

	if (buf == NULL) {
		ok(0, "transaction_compression fixture");
		binlog_reader_free(r);
		return;
	}
	if (binlog_reader_feed_ref(r, buf, len, &err) == 0)
		while (binlog_reader_next(r, &ev, &err) == 1) {
			if (!ev.in_payload || ev.hdr.type == BINLOG_XID)
				continue;
			inner++;
			peeked += binlog_reader_peek_type(r) == -1;
			f = binlog_reader_fork(r, &err);
			refused += f == NULL && err.code == RW_E_INVALID;
			binlog_reader_free(f);
		}
	ok(inner > 0 && refused == inner && peeked == inner,
	   "inside a TRANSACTION_PAYLOAD nothing is peeked and no fork is made (%d)", inner);
	binlog_reader_free(r);
	free(buf);
}

/* An event made by the master itself (artificial ROTATE, HEARTBEAT), with a CRC32. */
static size_t made_event(uint8_t *out, uint8_t type, uint16_t flags, uint32_t log_pos,
			 const uint8_t *body, size_t n)
{
	size_t size = 19 + n + 4;
	uLong crc;

	memset(out, 0, 19);
	out[4] = type;
	out[5] = 1;
	for (int i = 0; i < 4; i++) {
		out[9 + i] = (uint8_t)(size >> (8 * i));
		out[13 + i] = (uint8_t)(log_pos >> (8 * i));
	}
	out[17] = (uint8_t)flags;
	memcpy(out + 19, body, n);
	crc = crc32(crc32(0L, Z_NULL, 0), out, (uInt)(19 + n));
	for (int i = 0; i < 4; i++)
		out[19 + n + i] = (uint8_t)(crc >> (8 * i));
	return size;
}

/*
 * A dump that starts mid-file, as a MariaDB 11.8 master sends it: an
 * artificial ROTATE to the start position, the FDE again (log_pos 0), then
 * events whose log_pos is 0 inside transactions, and a heartbeat.
 */
static void test_stream_resume(void)
{
	size_t len = 0, off = 4, start = 0;
	uint8_t *buf = load("mariadb-poc/domain_id_0_mariadb-repl-bin.000005", &len);
	uint8_t ev_buf[256], rot[64] = { 0 };
	binlog_reader *r = binlog_reader_new(BINLOG_READER_STREAM);
	binlog_event ev;
	rw_error err;
	int good = 1, n = 0, zero_log_pos = 0;
	size_t fde_size;

	if (buf == NULL || r == NULL) {
		ok(0, "mariadb-poc fixture");
		return;
	}
	fde_size = buf[4 + 9] | buf[4 + 10] << 8;
	start = 4 + fde_size; /* resume right after the FDE */
	for (int i = 0; i < 8; i++)
		rot[i] = (uint8_t)(start >> (8 * i));
	memcpy(rot + 8, "bin.000005", 10);
	good &=
	    binlog_reader_feed(
		r, ev_buf, made_event(ev_buf, BINLOG_ROTATE, BINLOG_FLAG_ARTIFICIAL, 0, rot, 18),
		&err) == 0 &&
	    binlog_reader_next(r, &ev, &err) == 1 && ev.hdr.type == BINLOG_ROTATE;
	/* the FDE again, as the master resends it with log_pos 0 */
	memcpy(ev_buf, buf + 4, fde_size);
	memset(ev_buf + 13, 0, 4);
	{
		uLong crc = crc32(crc32(0L, Z_NULL, 0), ev_buf, (uInt)(fde_size - 4));
		uint8_t flags[2] = { (uint8_t)(ev_buf[17] & ~1), ev_buf[18] };

		crc = crc32(crc32(crc32(crc32(0L, Z_NULL, 0), ev_buf, 17), flags, 2), ev_buf + 19,
			    (uInt)(fde_size - 4 - 19));
		for (int i = 0; i < 4; i++)
			ev_buf[fde_size - 4 + i] = (uint8_t)(crc >> (8 * i));
	}
	good &= binlog_reader_feed(r, ev_buf, fde_size, &err) == 0 &&
		binlog_reader_next(r, &ev, &err) == 1 && ev.next_position == ev.position;
	for (off = start; good && off + 19 <= len; n++) {
		size_t size = buf[off + 9] | buf[off + 10] << 8 | (size_t)buf[off + 11] << 16;

		zero_log_pos += buf[off + 13] == 0 && buf[off + 14] == 0 && buf[off + 15] == 0;
		good &= binlog_reader_feed(r, buf + off, size, &err) == 0 &&
			binlog_reader_next(r, &ev, &err) == 1 && ev.position == (int64_t)off &&
			ev.next_position == (ev.hdr.type == BINLOG_ROTATE
						 ? (int64_t)ev.u.rotate.position
						 : (int64_t)(off + size));
		off += size;
		if (n == 2) { /* a heartbeat takes no room in the binlog */
			good &= binlog_reader_feed(r, ev_buf,
						   made_event(ev_buf, BINLOG_HEARTBEAT,
							      BINLOG_FLAG_ARTIFICIAL, (uint32_t)off,
							      (const uint8_t *)"bin.000005", 10),
						   &err) == 0 &&
				binlog_reader_next(r, &ev, &err) == 1 &&
				ev.hdr.type == BINLOG_HEARTBEAT;
		}
	}
	ok(good && n > 5, "STREAM resume: %d events at their file offsets", n);
	ok(zero_log_pos > 0, "(%d of them with log_pos 0)", zero_log_pos);
	is_int(binlog_reader_position(r), 4, "the final ROTATE points at the next file's start");
	binlog_reader_free(r);
	free(buf);
}

int main(void)
{
	size_t len = 0;
	uint8_t *buf = load("mysql-binlog-connector-java/mysql-bin.checksum-crc32", &len);

	if (buf == NULL) {
		printf("1..0 # SKIP fixtures not found (RW_FIXTURES)\n");
		return 0;
	}
	test_chunking(buf, len);
	test_damage(buf, len);
	test_stream(buf, len);
	test_rotate_forgets_tables(buf, len);
	test_payload();
	test_fork(buf, len);
	test_fork_payload();
	test_stream_resume();
	free(buf);
	return tap_done();
}
