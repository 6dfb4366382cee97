/*
 * fuzz_binlog_reader.c - the whole event path on arbitrary bytes: framing,
 * checksums, every event decoder, payload inflation, and the rows of every
 * rows event rendered as JSON and as key bytes.  It must return errors,
 * never crash or read past its input.  The input is a binlog file (the
 * magic is added when missing) fed in two chunks split where its first
 * byte says; when that byte is odd and there is no magic, it is read as a
 * replication stream instead.
 */
#include "ringwatch/binlog_reader.h"
#include "ringwatch/row_decode.h"
#include "ringwatch/value.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* results that do not matter here, kept so warn_unused_result stays quiet */
static int sink;

static void fuzz_rows(const binlog_event *ev, value_datum *a, value_datum *b, rw_buf *out)
{
	row_iter it;
	rw_error err;

	if (row_iter_init(&it, &ev->u.rows, &err) < 0)
		return;
	while (row_iter_next(&it, a, b, &err) == 1) {
		for (uint32_t i = 0; i < ev->u.rows.ncols; i++) {
			rw_buf_reset(out);
			if (value_to_json(&a[i], out, &err) < 0 && err.text[0] == '\0')
				abort(); /* every failure must say why */
			sink += value_to_json(&b[i], out, &err);
			sink += value_key_encode(&a[i], out, &err);
			sink += value_key_encode(&b[i], out, &err);
		}
	}
}

static void fuzz_events(binlog_reader *r, value_datum *a, value_datum *b, rw_buf *out)
{
	binlog_event ev;
	rw_error err;
	int rc;

	while ((rc = binlog_reader_next(r, &ev, &err)) == 1) {
		if (binlog_event_is_rows(ev.hdr.type))
			fuzz_rows(&ev, a, b, out);
		if (ev.hdr.type == BINLOG_PREVIOUS_GTIDS)
			sink += binlog_previous_gtids_text(&ev.u.prev_gtids, 0, out, &err);
	}
	if (rc < 0 && err.text[0] == '\0')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t magic[4] = { 0xfe, 0x62, 0x69, 0x6e };
	/* odd first bytes read the input as a replication stream (no magic) */
	int stream = size > 4 && (data[0] & 1) && memcmp(data, magic, 4) != 0;
	binlog_reader *r = binlog_reader_new(stream ? BINLOG_READER_STREAM : BINLOG_READER_FILE);
	value_datum *a = calloc(BINLOG_MAX_COLUMNS, sizeof(*a));
	value_datum *b = calloc(BINLOG_MAX_COLUMNS, sizeof(*b));
	rw_buf out = RW_BUF_INIT;
	rw_error err;
	size_t split = size > 0 ? (size_t)data[0] * 7 % (size + 1) : 0;

	if (r == NULL || a == NULL || b == NULL)
		goto done;
	binlog_reader_set_limit(r, 16u << 20);
	if (!stream && (size < 4 || memcmp(data, magic, 4) != 0))
		sink += binlog_reader_feed(r, magic, 4, &err);
	if (binlog_reader_feed(r, data, split, &err) == 0)
		fuzz_events(r, a, b, &out);
	if (binlog_reader_feed(r, data + split, size - split, &err) == 0)
		fuzz_events(r, a, b, &out);
	sink += binlog_reader_finish(r, &err);
done:
	rw_buf_free(&out);
	free(a);
	free(b);
	binlog_reader_free(r);
	return 0;
}
