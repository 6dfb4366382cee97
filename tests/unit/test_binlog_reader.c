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

/* Feed buf in chunks of `chunk` bytes; count events, decode every row. */
static walk run(const uint8_t *buf, size_t len, size_t chunk, int mode)
{
	binlog_reader *r = binlog_reader_new(mode);
	rw_value *a = calloc(BINLOG_MAX_COLUMNS, sizeof(*a)),
		 *b = calloc(BINLOG_MAX_COLUMNS, sizeof(*b));
	walk w;
	binlog_event ev;

	memset(&w, 0, sizeof(w));
	for (size_t off = 0; off < len && w.rc >= 0; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;

		w.rc = binlog_reader_feed(r, buf + off, n, &w.err);
		while (w.rc >= 0 && (w.rc = binlog_reader_next(r, &ev, &w.err)) == 1) {
			row_iter it;

			w.events++;
			w.inner += ev.in_payload;
			w.last_pos = ev.position;
			w.pos_sum += ev.position;
			if (binlog_event_is_rows(ev.hdr.type) &&
			    row_iter_init(&it, &ev.u.rows, &w.err) == 0)
				while (row_iter_next(&it, a, b, &w.err) == 1)
					w.rows++;
		}
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
	free(buf);
	return tap_done();
}
