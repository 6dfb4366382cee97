/*
 * binlog_reader.c - framing: input buffering, FORMAT_DESCRIPTION tracking,
 * checksums, table maps by id, transaction payloads and compressed events.
 */
#include "ringwatch/binlog_reader.h"

#include "binlog_inflate.h"
#include "rw_bytes.h"

#include <stdlib.h>
#include <string.h>
#include <libdeflate.h>

/* Table maps kept at most; older ones are dropped (a transaction needs few). */
#define READER_MAX_TABLES 1024

struct binlog_reader {
	int mode;
	size_t limit;
	const uint8_t *in; /* input not consumed yet is in[start, len): buf, or the caller's */
	uint8_t *buf;      /* the reader's own copy of input */
	size_t start, len, cap;
	uint8_t borrowed; /* in is the caller's (binlog_reader_feed_ref) */
	uint8_t skim;     /* no checksums, compressed rows left as they are */
	int64_t pos;      /* stream offset of in[start] */
	uint8_t magic_done;
	uint8_t have_fde;
	binlog_fde fde;
	binlog_table_map *tables[READER_MAX_TABLES];
	size_t ntables;
	rw_obuf payload; /* inflated TRANSACTION_PAYLOAD */
	size_t payload_pos;
	uint8_t in_payload;
	int64_t payload_position, payload_next; /* of the outer event */
	rw_obuf zrows, zquery;                  /* inflated MariaDB events */
	int failed;
	rw_error saved;
};

binlog_reader *binlog_reader_new(int mode)
{
	binlog_reader *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->mode = mode;
	r->limit = BINLOG_READER_DEFAULT_LIMIT;
	r->magic_done = mode == BINLOG_READER_STREAM;
	binlog_fde_default(&r->fde);
	return r;
}

static void reader_forget_tables(binlog_reader *r)
{
	for (size_t i = 0; i < r->ntables; i++)
		binlog_table_map_free(r->tables[i]);
	r->ntables = 0;
}

void binlog_reader_free(binlog_reader *r)
{
	if (r == NULL)
		return;
	reader_forget_tables(r);
	rw_obuf_free(&r->payload);
	rw_obuf_free(&r->zrows);
	rw_obuf_free(&r->zquery);
	free(r->buf);
	free(r);
}

void binlog_reader_set_limit(binlog_reader *r, size_t limit)
{
	r->limit = limit;
}

void binlog_reader_set_position(binlog_reader *r, int64_t pos)
{
	r->pos = pos;
}

int64_t binlog_reader_position(const binlog_reader *r)
{
	return r->pos;
}

void binlog_reader_set_skim(binlog_reader *r, int skim)
{
	r->skim = skim != 0;
}

int binlog_reader_peek_type(const binlog_reader *r)
{
	if (r->failed || r->in_payload || !r->magic_done || r->len - r->start < BINLOG_HEADER_LEN)
		return -1;
	return r->in[r->start + 4];
}

binlog_reader *binlog_reader_fork(const binlog_reader *r, rw_error *err)
{
	binlog_reader *f;

	if (r->failed || r->in_payload) {
		rw_error_set(err, RW_E_INVALID, r->pos, "a reader %s cannot be forked",
			     r->failed ? "that failed" : "inside a TRANSACTION_PAYLOAD");
		return NULL;
	}
	f = binlog_reader_new(r->mode);
	if (f == NULL) {
		rw_error_set(err, RW_E_NOMEM, r->pos, "out of memory");
		return NULL;
	}
	f->limit = r->limit;
	f->pos = r->pos;
	f->magic_done = r->magic_done;
	f->have_fde = r->have_fde;
	f->fde = r->fde;
	for (size_t i = 0; i < r->ntables; i++) {
		if (binlog_table_map_dup(r->tables[i], &f->tables[i], err) < 0) {
			binlog_reader_free(f);
			return NULL;
		}
		f->ntables++;
	}
	return f;
}

const binlog_fde *binlog_reader_fde(const binlog_reader *r)
{
	return &r->fde;
}

const binlog_table_map *binlog_reader_table(const binlog_reader *r, uint64_t table_id)
{
	for (size_t i = r->ntables; i-- > 0;)
		if (r->tables[i]->table_id == table_id)
			return r->tables[i];
	return NULL;
}

/* The reader takes tm; it replaces an older map of the same id. */
static void reader_keep_table(binlog_reader *r, binlog_table_map *tm)
{
	for (size_t i = 0; i < r->ntables; i++) {
		if (r->tables[i]->table_id != tm->table_id)
			continue;
		binlog_table_map_free(r->tables[i]);
		memmove(&r->tables[i], &r->tables[i + 1],
			(r->ntables - i - 1) * sizeof(r->tables[0]));
		r->ntables--;
		break;
	}
	if (r->ntables == READER_MAX_TABLES) {
		size_t half = READER_MAX_TABLES / 2;

		for (size_t i = 0; i < half; i++)
			binlog_table_map_free(r->tables[i]);
		memmove(&r->tables[0], &r->tables[half], half * sizeof(r->tables[0]));
		r->ntables = half;
	}
	r->tables[r->ntables++] = tm;
}

/* Take what is left of borrowed input into the reader's own buffer. */
static int reader_own_input(binlog_reader *r, rw_error *err)
{
	const uint8_t *left = r->in + r->start;
	size_t n = r->len - r->start;

	r->borrowed = 0;
	r->in = r->buf;
	r->start = r->len = 0;
	return n > 0 ? binlog_reader_feed(r, left, n, err) : 0;
}

int binlog_reader_feed_ref(binlog_reader *r, const uint8_t *buf, size_t len, rw_error *err)
{
	if (r->len > r->start)
		return binlog_reader_feed(r, buf, len, err);
	r->borrowed = 1;
	r->in = buf;
	r->start = 0;
	r->len = len;
	return 0;
}

int binlog_reader_feed(binlog_reader *r, const uint8_t *buf, size_t len, rw_error *err)
{
	if (r->borrowed) {
		int rc = reader_own_input(r, err);

		if (rc < 0)
			return rc;
	}
	if (r->start > 0 && (r->start >= r->len || r->start > r->cap / 2)) {
		memmove(r->buf, r->buf + r->start, r->len - r->start);
		r->len -= r->start;
		r->start = 0;
	}
	if (len > r->cap - r->len) {
		size_t want = r->len + len, cap = r->cap ? r->cap : 65536;
		uint8_t *p;

		while (cap < want)
			cap *= 2;
		p = realloc(r->buf, cap);
		if (p == NULL)
			return rw_error_set(err, RW_E_NOMEM, r->pos,
					    "out of memory buffering input");
		r->buf = p;
		r->cap = cap;
	}
	if (len > 0)
		memcpy(r->buf + r->len, buf, len);
	r->in = r->buf;
	r->len += len;
	return 0;
}

static int reader_fail(binlog_reader *r, int rc, const rw_error *e, rw_error *err)
{
	r->failed = rc;
	r->saved = *e;
	if (err != NULL)
		*err = *e;
	return rc;
}

/* CRC32 of the event; FORMAT_DESCRIPTION's is taken with its in-use flag cleared. */
static int reader_crc_ok(const uint8_t *ev, size_t size)
{
	uint32_t want = (uint32_t)rw_le(ev + size - BINLOG_CHECKSUM_LEN, 4);
	uint32_t c;

	if (ev[4] == BINLOG_FORMAT_DESCRIPTION) {
		uint8_t flags[2] = { (uint8_t)(ev[17] & ~BINLOG_FLAG_IN_USE), ev[18] };

		c = libdeflate_crc32(0, ev, 17);
		c = libdeflate_crc32(c, flags, 2);
		c = libdeflate_crc32(c, ev + BINLOG_HEADER_LEN,
				     size - BINLOG_CHECKSUM_LEN - BINLOG_HEADER_LEN);
	} else {
		c = libdeflate_crc32(0, ev, size - BINLOG_CHECKSUM_LEN);
	}
	return c == want;
}

/*
 * Does this event end with a CRC32?  Before any FDE (a dump's first ROTATE): if it
 * matches.  When skimming, a CRC32 is not checked.
 */
static int reader_event_has_crc(binlog_reader *r, const uint8_t *ev, size_t size, int64_t pos,
				rw_error *err, int *has)
{
	*has = 0;
	if (ev[4] == BINLOG_FORMAT_DESCRIPTION) {
		binlog_fde f;
		int rc = binlog_fde_decode(ev, size, pos, &f, err);

		if (rc < 0)
			return rc;
		*has = f.checksum_alg == BINLOG_CHECKSUM_CRC32;
	} else if (r->have_fde) {
		*has = r->fde.checksum_alg == BINLOG_CHECKSUM_CRC32;
	} else {
		*has = size >= BINLOG_HEADER_LEN + BINLOG_CHECKSUM_LEN && reader_crc_ok(ev, size);
		return 0;
	}
	if (*has && size < BINLOG_HEADER_LEN + BINLOG_CHECKSUM_LEN)
		return rw_error_set(err, RW_E_INVALID, pos,
				    "event of %zu bytes has no room for a checksum", size);
	if (*has && !r->skim && !reader_crc_ok(ev, size))
		return rw_error_set(err, RW_E_CHECKSUM, pos, "%s: CRC32 checksum mismatch",
				    binlog_event_type_name(ev[4]) ? binlog_event_type_name(ev[4])
								  : "event");
	return 0;
}

static int reader_inflate_query(binlog_reader *r, binlog_event *ev, rw_error *err)
{
	binlog_query *q = &ev->u.query;
	int rc = binlog_inflate_mariadb(q->zdata, q->zlen, ev->position, r->limit, &r->zquery, err);

	if (rc < 0)
		return rc;
	q->sql.p = (const char *)r->zquery.p;
	q->sql.len = r->zquery.len;
	return 0;
}

static int reader_inflate_rows(binlog_reader *r, binlog_event *ev, rw_error *err)
{
	binlog_rows *rows = &ev->u.rows;
	int rc = binlog_inflate_mariadb(rows->data, rows->data_len, rows->data_offset, r->limit,
					&r->zrows, err);

	if (rc < 0)
		return rc;
	rows->data = r->zrows.p;
	rows->data_len = r->zrows.len;
	rows->data_offset = -1;
	return 0;
}

static int reader_start_payload(binlog_reader *r, binlog_event *ev, rw_error *err)
{
	binlog_payload *p = &ev->u.payload;
	int rc;

	if (p->compression != 0 && p->compression != 255)
		return rw_error_set(err, RW_E_UNSUPPORTED, ev->position,
				    "TRANSACTION_PAYLOAD: compression type %llu",
				    (unsigned long long)p->compression);
	if (p->compression == 255) {
		if (p->len > r->payload.cap) {
			uint8_t *b = realloc(r->payload.p, p->len);

			if (b == NULL)
				return rw_error_set(err, RW_E_NOMEM, ev->position, "out of memory");
			r->payload.p = b;
			r->payload.cap = p->len;
		}
		if (p->len > 0)
			memcpy(r->payload.p, p->data, p->len);
		r->payload.len = p->len;
	} else {
		rc = binlog_inflate_zstd(p->data, p->len, ev->position, p->uncompressed_size,
					 r->limit, &r->payload, err);
		if (rc < 0)
			return rc;
	}
	r->in_payload = r->payload.len > 0; /* an empty payload holds no events */
	r->payload_pos = 0;
	r->payload_position = ev->position;
	r->payload_next = ev->next_position;
	return 0;
}

/* What an event changes in the reader, and what the reader adds to the event. */
static int reader_apply(binlog_reader *r, binlog_event *ev, rw_error *err)
{
	unsigned type = ev->hdr.type;

	if (ev->unknown)
		return 0;
	switch (type) {
	case BINLOG_FORMAT_DESCRIPTION:
		r->fde = ev->u.fde;
		r->have_fde = 1;
		return 0;
	case BINLOG_TABLE_MAP:
		reader_keep_table(r, ev->u.table_map);
		return 0;
	case BINLOG_ROTATE:
		if (!(ev->hdr.flags & BINLOG_FLAG_ARTIFICIAL) && !ev->in_payload)
			reader_forget_tables(r);
		return 0;
	case BINLOG_QUERY_COMPRESSED:
		return reader_inflate_query(r, ev, err);
	case BINLOG_TRANSACTION_PAYLOAD:
		if (ev->in_payload)
			return rw_error_set(err, RW_E_INVALID, ev->position,
					    "TRANSACTION_PAYLOAD inside a TRANSACTION_PAYLOAD");
		return reader_start_payload(r, ev, err);
	}
	if (!binlog_event_is_rows(type))
		return 0;
	ev->u.rows.table = binlog_reader_table(r, ev->u.rows.table_id);
	return ev->u.rows.compressed && !r->skim ? reader_inflate_rows(r, ev, err) : 0;
}

/* The next event inside the current TRANSACTION_PAYLOAD (no checksums there). */
static int reader_next_inner(binlog_reader *r, binlog_event *ev, rw_error *err)
{
	const uint8_t *p = r->payload.p + r->payload_pos;
	size_t left = r->payload.len - r->payload_pos;
	binlog_header h;
	int rc = binlog_header_decode(p, left, r->payload_position, &h, err);

	if (rc < 0)
		return rc;
	if (h.event_size < BINLOG_HEADER_LEN || h.event_size > left)
		return rw_error_set(err, RW_E_INVALID, r->payload_position,
				    "TRANSACTION_PAYLOAD: inner event at byte %zu has size %u, "
				    "%zu bytes left",
				    r->payload_pos, h.event_size, left);
	rc = binlog_event_decode(&r->fde, p, h.event_size, r->payload_position, ev, err);
	if (rc < 0)
		return rc;
	ev->in_payload = 1;
	ev->next_position = r->payload_next;
	rc = reader_apply(r, ev, err);
	if (rc < 0) {
		if (ev->hdr.type != BINLOG_TABLE_MAP)
			binlog_event_cleanup(ev);
		return rc;
	}
	r->payload_pos += h.event_size;
	if (r->payload_pos == r->payload.len)
		r->in_payload = 0;
	return 1;
}

static int reader_magic(binlog_reader *r, rw_error *err)
{
	static const uint8_t magic[4] = { 0xfe, 0x62, 0x69, 0x6e };

	if (r->len - r->start < 4)
		return 0;
	if (memcmp(r->in + r->start, magic, 4) != 0)
		return rw_error_set(err, RW_E_INVALID, r->pos,
				    "not a binlog file (no fe 62 69 6e magic)");
	r->start += 4;
	r->pos += 4;
	r->magic_done = 1;
	return 1;
}

/*
 * Where the next event starts.  STREAM mode: the server's log_pos when set;
 * artificial events, heartbeats and the FDE resent at the start of a dump are
 * not in the binlog at this point and take no room; a ROTATE says where the
 * next event is.
 */
static void reader_advance(binlog_reader *r, binlog_event *ev, size_t size)
{
	const binlog_header *h = &ev->hdr;

	if (r->mode == BINLOG_READER_FILE) {
		r->pos += (int64_t)size;
		return;
	}
	if (h->type == BINLOG_ROTATE) {
		r->pos = (int64_t)ev->u.rotate.position;
		ev->next_position = r->pos;
	} else if ((h->flags & BINLOG_FLAG_ARTIFICIAL) || h->type == BINLOG_HEARTBEAT ||
		   h->type == BINLOG_HEARTBEAT_V2 ||
		   (h->type == BINLOG_FORMAT_DESCRIPTION && h->log_pos == 0)) {
		ev->next_position = ev->position;
	} else if (h->log_pos != 0 && h->log_pos >= size) {
		ev->position = (int64_t)(h->log_pos - size);
		ev->next_position = r->pos = (int64_t)h->log_pos;
	} else {
		r->pos += (int64_t)size;
		ev->next_position = r->pos;
	}
}

static int reader_next_outer(binlog_reader *r, binlog_event *ev, rw_error *err)
{
	size_t avail = r->len - r->start, body;
	const uint8_t *p;
	binlog_header h;
	int has_crc, rc;

	if (avail < BINLOG_HEADER_LEN)
		return 0;
	p = r->in + r->start;
	rc = binlog_header_decode(p, avail, r->pos, &h, err);
	if (rc < 0)
		return rc;
	if (h.event_size < BINLOG_HEADER_LEN || h.event_size > r->limit)
		return rw_error_set(
		    err, h.event_size < BINLOG_HEADER_LEN ? RW_E_INVALID : RW_E_LIMIT, r->pos,
		    "impossible event size %u (type %u)", h.event_size, h.type);
	if (avail < h.event_size)
		return 0;
	rc = reader_event_has_crc(r, p, h.event_size, r->pos, err, &has_crc);
	if (rc < 0)
		return rc;
	body = h.event_size - (has_crc && h.type != BINLOG_FORMAT_DESCRIPTION ? 4 : 0);
	rc = binlog_event_decode(&r->fde, p, body, r->pos, ev, err);
	if (rc < 0)
		return rc;
	ev->next_position = r->pos + h.event_size;
	rc = reader_apply(r, ev, err);
	if (rc < 0)
		return rc;
	reader_advance(r, ev, h.event_size);
	r->start += h.event_size;
	return 1;
}

int binlog_reader_next(binlog_reader *r, binlog_event *ev, rw_error *err)
{
	rw_error e;
	int rc;

	if (r->failed)
		return reader_fail(r, r->failed, &r->saved, err);
	rw_error_clear(&e);
	if (r->in_payload)
		rc = reader_next_inner(r, ev, &e);
	else if (!r->magic_done && (rc = reader_magic(r, &e)) <= 0)
		; /* rc: 0 needs more input, < 0 not a binlog */
	else
		rc = reader_next_outer(r, ev, &e);
	if (rc < 0)
		return reader_fail(r, rc, &e, err);
	return rc;
}

int binlog_reader_finish(binlog_reader *r, rw_error *err)
{
	rw_error e;

	if (r->failed)
		return reader_fail(r, r->failed, &r->saved, err);
	if (r->len == r->start && !r->in_payload && (r->magic_done || r->len == 0))
		return 0;
	if (!r->magic_done)
		rw_error_set(&e, RW_E_TRUNCATED, r->pos, "file ends inside the binlog magic");
	else
		rw_error_set(&e, RW_E_TRUNCATED, r->pos,
			     "file ends inside an event (%zu of its bytes present)",
			     r->len - r->start);
	return reader_fail(r, RW_E_TRUNCATED, &e, err);
}
