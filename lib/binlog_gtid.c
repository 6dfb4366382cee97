/*
 * binlog_gtid.c - MySQL GTID, ANONYMOUS_GTID, GTID_TAGGED and PREVIOUS_GTIDS;
 * MariaDB GTID and GTID_LIST.
 */
#include "ringwatch/binlog_event.h"

#include "binlog_decode.h"
#include "rw_bytes.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void binlog_uuid_format(const uint8_t sid[16], char buf[37])
{
	static const char hex[] = "0123456789abcdef";
	char *o = buf;

	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		*o++ = hex[sid[i] >> 4];
		*o++ = hex[sid[i] & 15];
	}
	*o = '\0';
}

static void gtid_text(binlog_gtid *g)
{
	char uuid[37];

	binlog_uuid_format(g->sid, uuid);
	if (g->tag[0] != '\0')
		snprintf(g->text, sizeof(g->text), "%s:%s:%" PRId64, uuid, g->tag, g->gno);
	else
		snprintf(g->text, sizeof(g->text), "%s:%" PRId64, uuid, g->gno);
}

/* The optional tail of a MySQL 5.7+/8.0 GTID event, after the logical clock. */
static int gtid_tail(binlog_gtid *g, rw_cur *c, rw_error *err)
{
	uint64_t v;
	int rc = 0;

	if (rw_cur_left(c) >= 7) {
		rc = rw_cur_uint(c, 7, &v, err);
		g->has_commit_ts = 1;
		g->immediate_commit_ts = g->original_commit_ts = v & ~(1ULL << 55);
		if (rc == 0 && (v >> 55) & 1)
			rc = rw_cur_uint(c, 7, &g->original_commit_ts, err);
	}
	if (rc == 0 && rw_cur_left(c) > 0) {
		rc = rw_cur_lenenc(c, &g->transaction_length, err);
		g->has_trx_length = 1;
	}
	if (rc == 0 && rw_cur_left(c) >= 4) {
		rc = rw_cur_uint(c, 4, &v, err);
		g->has_server_version = 1;
		g->immediate_server_version = g->original_server_version =
		    (uint32_t)(v & 0x7fffffffu);
		if (rc == 0 && (v >> 31) & 1) {
			rc = rw_cur_uint(c, 4, &v, err);
			g->original_server_version = (uint32_t)v;
		}
	}
	if (rc == 0 && rw_cur_left(c) >= 8) {
		rc = rw_cur_uint(c, 8, &g->commit_group_ticket, err);
		g->has_ticket = 1;
	}
	return rc;
}

int binlog_gtid_decode(const uint8_t *body, size_t len, int64_t pos, binlog_gtid *out,
		       rw_error *err)
{
	binlog_gtid g;
	rw_cur c;
	const uint8_t *sid = NULL;
	uint64_t gno;
	int rc;

	memset(&g, 0, sizeof(g));
	rw_cur_init(&c, body, len, pos, "GTID");
	rc = rw_cur_u8(&c, &g.flags, err);
	if (rc == 0)
		rc = rw_cur_bytes(&c, 16, &sid, err);
	if (rc == 0)
		rc = rw_cur_uint(&c, 8, &gno, err);
	if (rc == 0 && rw_cur_left(&c) >= 17 && c.p[c.pos] == 2) {
		uint64_t lc = 0, seq = 0;

		c.pos++;
		rc = rw_cur_uint(&c, 8, &lc, err);
		if (rc == 0)
			rc = rw_cur_uint(&c, 8, &seq, err);
		g.has_logical_clock = 1;
		g.last_committed = (int64_t)lc;
		g.sequence_number = (int64_t)seq;
		if (rc == 0)
			rc = gtid_tail(&g, &c, err);
	}
	if (rc < 0)
		return rc;
	memcpy(g.sid, sid, 16);
	g.gno = (int64_t)gno;
	gtid_text(&g);
	*out = g;
	return 0;
}

/* MySQL serialization library: unsigned varlen (trailing 1-bits count extra bytes). */
static int ser_uint(rw_cur *c, uint64_t *out, rw_error *err)
{
	unsigned n = 1;
	int rc = rw_cur_need(c, 1, err);

	if (rc < 0)
		return rc;
	while (n < 9 && (c->p[c->pos] >> (n - 1)) & 1)
		n++;
	rc = rw_cur_need(c, n, err);
	if (rc < 0)
		return rc;
	if (n == 9)
		*out = rw_le(c->p + c->pos + 1, 8);
	else
		*out = rw_le(c->p + c->pos, n) >> n;
	c->pos += n;
	return 0;
}

static int ser_int(rw_cur *c, int64_t *out, rw_error *err)
{
	uint64_t u;
	int rc = ser_uint(c, &u, err);

	if (rc == 0)
		*out = (u & 1) ? -(int64_t)(u >> 1) - 1 : (int64_t)(u >> 1);
	return rc;
}

static int tagged_field(binlog_gtid *g, uint64_t id, rw_cur *c, rw_error *err)
{
	uint64_t v = 0;
	int rc = 0;

	switch (id) {
	case 0: /* flags */
		rc = ser_uint(c, &v, err);
		g->flags = (uint8_t)v;
		return rc;
	case 1: /* sid: 16 varlen bytes */
		for (int i = 0; rc == 0 && i < 16; i++) {
			rc = ser_uint(c, &v, err);
			g->sid[i] = (uint8_t)v;
		}
		return rc;
	case 2:
		rc = ser_int(c, &g->gno, err);
		return rc;
	case 3: { /* tag: varlen length + bytes */
		const uint8_t *p = NULL;

		rc = ser_uint(c, &v, err);
		if (rc == 0 && v >= sizeof(g->tag))
			return rw_error_set(err, RW_E_INVALID, rw_cur_off(c),
					    "GTID_TAGGED: tag of %" PRIu64 " bytes", v);
		if (rc == 0)
			rc = rw_cur_bytes(c, (size_t)v, &p, err);
		if (rc == 0) {
			memcpy(g->tag, p, (size_t)v);
			g->tag[v] = '\0';
		}
		return rc;
	}
	case 4:
		rc = ser_int(c, &g->last_committed, err);
		g->has_logical_clock = 1;
		return rc;
	case 5:
		return ser_int(c, &g->sequence_number, err);
	case 6:
		rc = ser_uint(c, &g->immediate_commit_ts, err);
		g->original_commit_ts = g->immediate_commit_ts;
		g->has_commit_ts = 1;
		return rc;
	case 7:
		return ser_uint(c, &g->original_commit_ts, err);
	case 8:
		g->has_trx_length = 1;
		return ser_uint(c, &g->transaction_length, err);
	case 9:
		rc = ser_uint(c, &v, err);
		g->immediate_server_version = g->original_server_version = (uint32_t)v;
		g->has_server_version = 1;
		return rc;
	case 10:
		rc = ser_uint(c, &v, err);
		g->original_server_version = (uint32_t)v;
		return rc;
	case 11:
		g->has_ticket = 1;
		return ser_uint(c, &g->commit_group_ticket, err);
	}
	return 1; /* unknown field: its size is unknown, stop */
}

int binlog_gtid_tagged_decode(const uint8_t *body, size_t len, int64_t pos, binlog_gtid *out,
			      rw_error *err)
{
	binlog_gtid g;
	rw_cur c;
	uint64_t version, size, last_non_ignorable, id;
	int rc;

	memset(&g, 0, sizeof(g));
	rw_cur_init(&c, body, len, pos, "GTID_TAGGED");
	rc = ser_uint(&c, &version, err);
	if (rc == 0)
		rc = ser_uint(&c, &size, err);
	if (rc == 0)
		rc = ser_uint(&c, &last_non_ignorable, err);
	if (rc == 0 && size < c.pos)
		rc = rw_error_set(err, RW_E_INVALID, pos, "GTID_TAGGED: payload size %" PRIu64,
				  size);
	if (rc == 0 && size < len)
		c.len = (size_t)size; /* fields end where the payload does */
	while (rc == 0 && rw_cur_left(&c) > 0) {
		int64_t at = rw_cur_off(&c);

		rc = ser_uint(&c, &id, err);
		if (rc == 0)
			rc = tagged_field(&g, id, &c, err);
		if (rc == 1 && id <= last_non_ignorable)
			rc = rw_error_set(err, RW_E_UNSUPPORTED, at,
					  "GTID_TAGGED: unknown required field %" PRIu64, id);
		if (rc == 1)
			rc = 0, c.pos = c.len;
	}
	if (rc < 0)
		return rc;
	gtid_text(&g);
	*out = g;
	return 0;
}

int binlog_previous_gtids_decode(const uint8_t *body, size_t len, int64_t pos,
				 binlog_previous_gtids *out, rw_error *err)
{
	uint64_t n;

	if (len < 8)
		return rw_error_set(err, RW_E_TRUNCATED, pos,
				    "PREVIOUS_GTIDS: %zu bytes, at least 8 needed", len);
	n = rw_le(body, 8);
	out->tagged = (uint8_t)(n >> 56) == 1;
	out->n_sids = out->tagged ? (n >> 8) & 0xffffffffffffULL : n & 0xffffffffffffffULL;
	out->data = body + 8;
	out->len = len - 8;
	return 0;
}

static int mgtid_xa(binlog_mariadb_gtid *g, rw_cur *c, rw_error *err)
{
	uint32_t fmt;
	int rc = rw_cur_u32(c, &fmt, err);

	if (rc == 0)
		rc = rw_cur_u8(c, &g->xa_gtrid_len, err);
	if (rc == 0)
		rc = rw_cur_u8(c, &g->xa_bqual_len, err);
	if (rc == 0 && g->xa_gtrid_len + g->xa_bqual_len > 128)
		return rw_error_set(err, RW_E_INVALID, rw_cur_off(c),
				    "MARIADB_GTID: XID of %u bytes",
				    g->xa_gtrid_len + g->xa_bqual_len);
	if (rc == 0)
		rc = rw_cur_bytes(c, (size_t)g->xa_gtrid_len + g->xa_bqual_len, &g->xa_data, err);
	g->xa_format_id = (int32_t)fmt;
	return rc;
}

int binlog_mariadb_gtid_decode(const uint8_t *body, size_t len, int64_t pos, uint32_t server_id,
			       binlog_mariadb_gtid *out, rw_error *err)
{
	binlog_mariadb_gtid g;
	rw_cur c;
	int rc;

	memset(&g, 0, sizeof(g));
	rw_cur_init(&c, body, len, pos, "MARIADB_GTID");
	rc = rw_cur_uint(&c, 8, &g.seq_no, err);
	if (rc == 0)
		rc = rw_cur_u32(&c, &g.domain_id, err);
	if (rc == 0)
		rc = rw_cur_u8(&c, &g.flags2, err);
	if (rc == 0 && (g.flags2 & BINLOG_MARIADB_GTID_GROUP_COMMIT))
		rc = rw_cur_uint(&c, 8, &g.commit_id, err);
	else if (rc == 0 &&
		 (g.flags2 & (BINLOG_MARIADB_GTID_PREPARED_XA | BINLOG_MARIADB_GTID_COMPLETED_XA)))
		rc = mgtid_xa(&g, &c, err);
	if (rc < 0)
		return rc;
	/* MariaDB 10.5+ may follow with flags_extra and its fields; only the flags are kept */
	if (rw_cur_left(&c) > 0 && !(g.flags2 & BINLOG_MARIADB_GTID_GROUP_COMMIT) &&
	    g.xa_data == NULL && rw_cur_left(&c) > 6)
		g.flags_extra = c.p[c.pos + 6];
	else if (rw_cur_left(&c) > 0 && (g.flags2 & BINLOG_MARIADB_GTID_GROUP_COMMIT || g.xa_data))
		g.flags_extra = c.p[c.pos];
	snprintf(g.text, sizeof(g.text), "%" PRIu32 "-%" PRIu32 "-%" PRIu64, g.domain_id, server_id,
		 g.seq_no);
	*out = g;
	return 0;
}

int binlog_gtid_list_decode(const uint8_t *body, size_t len, int64_t pos, binlog_gtid_list *out,
			    rw_error *err)
{
	uint32_t w, n;

	if (len < 4)
		return rw_error_set(err, RW_E_TRUNCATED, pos, "GTID_LIST: %zu bytes", len);
	w = (uint32_t)rw_le(body, 4);
	n = w & 0x0fffffffu;
	if ((uint64_t)n * 16 > len - 4)
		return rw_error_set(err, RW_E_TRUNCATED, pos + 4,
				    "GTID_LIST: %" PRIu32 " entries need %" PRIu64
				    " bytes, %zu left",
				    n, (uint64_t)n * 16, len - 4);
	out->count = n;
	out->flags = (uint8_t)(w >> 28);
	out->entries = body + 4;
	return 0;
}

/* One sid of a GTID set: uuid, [tag,] n_intervals, (start, end exclusive) pairs. */
static int prev_sid(rw_cur *c, int tagged, rw_buf *out, rw_error *err)
{
	const uint8_t *sid = NULL, *tag = NULL;
	uint64_t n = 0, tag_len = 0;
	char uuid[37];
	int rc = rw_cur_bytes(c, 16, &sid, err);

	if (rc == 0 && tagged)
		rc = ser_uint(c, &tag_len, err);
	if (rc == 0 && tag_len > 32)
		rc = rw_error_set(err, RW_E_INVALID, rw_cur_off(c), "PREVIOUS_GTIDS: bad tag");
	if (rc == 0)
		rc = rw_cur_bytes(c, (size_t)tag_len, &tag, err);
	if (rc == 0)
		rc = rw_cur_uint(c, 8, &n, err);
	if (rc == 0 && n > rw_cur_left(c) / 16)
		rc = rw_error_set(err, RW_E_TRUNCATED, rw_cur_off(c),
				  "PREVIOUS_GTIDS: %" PRIu64 " intervals", n);
	if (rc < 0)
		return rc;
	binlog_uuid_format(sid, uuid);
	rw_buf_puts(out, uuid);
	if (tag_len > 0) {
		rw_buf_putc(out, ':');
		rw_buf_put(out, tag, (size_t)tag_len);
	}
	for (uint64_t i = 0; i < n; i++) {
		uint64_t a = rw_le(c->p + c->pos, 8), b = rw_le(c->p + c->pos + 8, 8);

		c->pos += 16;
		if (b == a + 1)
			rw_buf_printf(out, ":%" PRIu64, a);
		else
			rw_buf_printf(out, ":%" PRIu64 "-%" PRIu64, a, b - 1);
	}
	return 0;
}

int binlog_previous_gtids_text(const binlog_previous_gtids *g, int64_t pos, rw_buf *out,
			       rw_error *err)
{
	rw_cur c;
	int rc = 0;

	rw_cur_init(&c, g->data, g->len, pos + 8, "PREVIOUS_GTIDS");
	for (uint64_t i = 0; rc == 0 && i < g->n_sids; i++) {
		if (i > 0)
			rw_buf_putc(out, ',');
		rc = prev_sid(&c, g->tagged, out, err);
	}
	return rc;
}
