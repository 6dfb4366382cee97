/*
 * binlog_event.c - decoding one event: the dispatch over event types and the
 * events small enough to need no file of their own.
 */
#include "ringwatch/binlog_event.h"

#include "binlog_decode.h"
#include "rw_bytes.h"

#include <string.h>

static void set_str(binlog_str *s, const uint8_t *p, size_t n)
{
	s->p = (const char *)p;
	s->len = n;
}

static int decode_rotate(const uint8_t *b, size_t n, unsigned ph, int64_t pos, binlog_rotate *r,
			 rw_error *err)
{
	if (ph >= 8 && n < 8)
		return rw_error_set(err, RW_E_TRUNCATED, pos, "ROTATE: %zu bytes", n);
	r->position = ph >= 8 ? rw_le(b, 8) : 4;
	set_str(&r->file, b + (ph >= 8 ? 8 : 0), n - (ph >= 8 ? 8 : 0));
	return 0;
}

static int decode_xa_prepare(const uint8_t *b, size_t n, int64_t pos, binlog_xa_prepare *x,
			     rw_error *err)
{
	if (n < 13)
		return rw_error_set(err, RW_E_TRUNCATED, pos, "XA_PREPARE: %zu bytes", n);
	x->one_phase = b[0];
	x->format_id = (int32_t)rw_le(b + 1, 4);
	x->gtrid_len = (uint32_t)rw_le(b + 5, 4);
	x->bqual_len = (uint32_t)rw_le(b + 9, 4);
	if (x->gtrid_len > 64 || x->bqual_len > 64 || x->gtrid_len + x->bqual_len > n - 13)
		return rw_error_set(err, RW_E_INVALID, pos + 5, "XA_PREPARE: XID lengths %u+%u",
				    x->gtrid_len, x->bqual_len);
	x->data = b + 13;
	return 0;
}

static int decode_incident(const uint8_t *b, size_t n, int64_t pos, binlog_incident *in,
			   rw_error *err)
{
	if (n < 2)
		return rw_error_set(err, RW_E_TRUNCATED, pos, "INCIDENT: %zu bytes", n);
	in->type = (uint16_t)rw_le(b, 2);
	set_str(&in->message, b + 2, 0);
	if (n > 2) {
		size_t m = b[2];

		if (m > n - 3)
			return rw_error_set(err, RW_E_TRUNCATED, pos + 2,
					    "INCIDENT: message of %zu bytes, %zu left", m, n - 3);
		set_str(&in->message, b + 3, m);
	}
	return 0;
}

/* HEARTBEAT_V2: (field type, length, value) triples, lenenc encoded. */
static int decode_heartbeat_v2(const uint8_t *b, size_t n, int64_t pos, binlog_heartbeat *hb,
			       rw_error *err)
{
	rw_cur c;

	rw_cur_init(&c, b, n, pos, "HEARTBEAT_V2");
	while (rw_cur_left(&c) > 0) {
		uint64_t type, len = 0;
		const uint8_t *p = NULL;
		int rc = rw_cur_lenenc(&c, &type, err);

		if (rc == 0 && type == 0)
			break; /* end mark */
		if (rc == 0)
			rc = rw_cur_lenenc(&c, &len, err);
		if (rc == 0 && len > rw_cur_left(&c))
			rc = rw_error_set(err, RW_E_TRUNCATED, rw_cur_off(&c),
					  "HEARTBEAT_V2: field of %llu bytes",
					  (unsigned long long)len);
		if (rc == 0)
			rc = rw_cur_bytes(&c, (size_t)len, &p, err);
		if (rc < 0)
			return rc;
		if (type == 1)
			set_str(&hb->file, p, (size_t)len);
		else if (type == 2) {
			rw_cur v;

			rw_cur_init(&v, p, (size_t)len, pos, "HEARTBEAT_V2 position");
			if (rw_cur_lenenc(&v, &hb->position, NULL) < 0)
				hb->position = 0;
		}
	}
	return 0;
}

/* A TRANSACTION_PAYLOAD header value: a length-encoded integer filling len bytes. */
static int payload_field_value(rw_cur *c, size_t len, uint64_t *v, rw_error *err)
{
	rw_cur f;
	int64_t at = rw_cur_off(c);
	const uint8_t *p = NULL;
	int rc = rw_cur_bytes(c, len, &p, err);

	if (rc < 0)
		return rc;
	rw_cur_init(&f, p, len, at, "TRANSACTION_PAYLOAD field");
	return rw_cur_lenenc(&f, v, err);
}

/* TRANSACTION_PAYLOAD: lenenc (type, length, value) fields, then the payload. */
static int decode_payload(const uint8_t *b, size_t n, int64_t pos, binlog_payload *p, rw_error *err)
{
	rw_cur c;

	memset(p, 0, sizeof(*p));
	p->compression = 255;
	rw_cur_init(&c, b, n, pos, "TRANSACTION_PAYLOAD");
	while (rw_cur_left(&c) > 0) {
		uint64_t type, len, v;
		int rc = rw_cur_lenenc(&c, &type, err);

		if (rc == 0 && type == 0)
			break; /* end of the header fields */
		if (rc == 0)
			rc = rw_cur_lenenc(&c, &len, err);
		if (rc == 0 && (len > 8 || len > rw_cur_left(&c)))
			rc = rw_error_set(err, RW_E_INVALID, rw_cur_off(&c),
					  "TRANSACTION_PAYLOAD: field %llu of %llu bytes",
					  (unsigned long long)type, (unsigned long long)len);
		if (rc == 0)
			rc = payload_field_value(&c, (size_t)len, &v, err);
		if (rc < 0)
			return rc;
		if (type == 1)
			p->payload_size = v;
		else if (type == 2)
			p->compression = v;
		else if (type == 3)
			p->uncompressed_size = v;
	}
	p->data = rw_cur_ptr(&c);
	p->len = rw_cur_left(&c);
	if (p->payload_size != 0 && p->payload_size != p->len)
		return rw_error_set(err, RW_E_INVALID, rw_cur_off(&c),
				    "TRANSACTION_PAYLOAD: payload of %zu bytes, header says %llu",
				    p->len, (unsigned long long)p->payload_size);
	return 0;
}

static int decode_checkpoint(const uint8_t *b, size_t n, int64_t pos, binlog_str *s, rw_error *err)
{
	uint32_t len;

	if (n < 4)
		return rw_error_set(err, RW_E_TRUNCATED, pos, "BINLOG_CHECKPOINT: %zu bytes", n);
	len = (uint32_t)rw_le(b, 4);
	if (len > n - 4)
		return rw_error_set(err, RW_E_TRUNCATED, pos,
				    "BINLOG_CHECKPOINT: file name of %u bytes, %zu left", len,
				    n - 4);
	set_str(s, b + 4, len);
	return 0;
}

static int decode_simple(const binlog_fde *fde, unsigned type, const uint8_t *b, size_t n,
			 int64_t pos, binlog_event *ev, rw_error *err)
{
	switch (type) {
	case BINLOG_ROTATE:
		return decode_rotate(b, n, fde->post_header[type], pos, &ev->u.rotate, err);
	case BINLOG_XID:
		if (n < 8)
			return rw_error_set(err, RW_E_TRUNCATED, pos, "XID: %zu bytes", n);
		ev->u.xid = rw_le(b, 8);
		return 0;
	case BINLOG_XA_PREPARE:
		return decode_xa_prepare(b, n, pos, &ev->u.xa, err);
	case BINLOG_INCIDENT:
		return decode_incident(b, n, pos, &ev->u.incident, err);
	case BINLOG_HEARTBEAT:
		set_str(&ev->u.heartbeat.file, b, n);
		ev->u.heartbeat.position = ev->hdr.log_pos;
		return 0;
	case BINLOG_HEARTBEAT_V2:
		return decode_heartbeat_v2(b, n, pos, &ev->u.heartbeat, err);
	case BINLOG_ROWS_QUERY:
		set_str(&ev->u.text, b + (n > 0), n - (n > 0)); /* 1st byte: a truncated length */
		return 0;
	case BINLOG_ANNOTATE_ROWS:
		set_str(&ev->u.text, b, n);
		return 0;
	case BINLOG_BINLOG_CHECKPOINT:
		return decode_checkpoint(b, n, pos, &ev->u.text, err);
	case BINLOG_TRANSACTION_PAYLOAD:
		return decode_payload(b, n, pos, &ev->u.payload, err);
	case BINLOG_START_ENCRYPTION:
		return rw_error_set(err, RW_E_UNSUPPORTED, pos - BINLOG_HEADER_LEN,
				    "START_ENCRYPTION: the binlog is encrypted, which ringwatch "
				    "cannot read (read it through a replication connection)");
	}
	return 0;
}

static int decode_body(const binlog_fde *fde, const uint8_t *b, size_t n, int64_t pos,
		       binlog_event *ev, rw_error *err)
{
	unsigned type = ev->hdr.type;
	unsigned ph = fde->post_header[type];

	switch (type) {
	case BINLOG_FORMAT_DESCRIPTION:
		return binlog_fde_decode(ev->raw, ev->raw_len, ev->position, &ev->u.fde, err);
	case BINLOG_QUERY:
	case BINLOG_QUERY_COMPRESSED:
		return binlog_query_decode(b, n, ph, pos, type == BINLOG_QUERY_COMPRESSED,
					   &ev->u.query, err);
	case BINLOG_GTID:
	case BINLOG_ANONYMOUS_GTID:
		return binlog_gtid_decode(b, n, pos, &ev->u.gtid, err);
	case BINLOG_GTID_TAGGED:
		return binlog_gtid_tagged_decode(b, n, pos, &ev->u.gtid, err);
	case BINLOG_PREVIOUS_GTIDS:
		return binlog_previous_gtids_decode(b, n, pos, &ev->u.prev_gtids, err);
	case BINLOG_MARIADB_GTID:
		return binlog_mariadb_gtid_decode(b, n, pos, ev->hdr.server_id, &ev->u.mgtid, err);
	case BINLOG_MARIADB_GTID_LIST:
		return binlog_gtid_list_decode(b, n, pos, &ev->u.gtid_list, err);
	case BINLOG_TABLE_MAP:
		return binlog_table_map_decode(b, n, ph, pos, &ev->u.table_map, err);
	}
	if (binlog_event_is_rows(type))
		return binlog_rows_decode(type, b, n, ph, pos, &ev->u.rows, err);
	return decode_simple(fde, type, b, n, pos, ev, err);
}

int binlog_event_decode(const binlog_fde *fde, const uint8_t *buf, size_t len, int64_t pos,
			binlog_event *out, rw_error *err)
{
	binlog_event ev;
	int rc;

	memset(&ev, 0, sizeof(ev));
	rc = binlog_header_decode(buf, len, pos, &ev.hdr, err);
	if (rc < 0)
		return rc;
	ev.position = pos;
	ev.next_position = pos + (int64_t)len;
	ev.raw = buf;
	ev.raw_len = len;
	if (len < fde->header_len)
		return rw_error_set(err, RW_E_TRUNCATED, pos, "%s: %zu bytes, header is %u",
				    binlog_event_type_name(ev.hdr.type), len, fde->header_len);
	if (binlog_event_type_name(ev.hdr.type) == NULL) {
		if (!(ev.hdr.flags & BINLOG_FLAG_IGNORABLE))
			return rw_error_set(err, RW_E_UNSUPPORTED, pos,
					    "unknown event type %u without the ignorable flag",
					    ev.hdr.type);
		ev.unknown = 1;
		*out = ev;
		return 0;
	}
	rc = decode_body(fde, buf + fde->header_len, len - fde->header_len, pos + fde->header_len,
			 &ev, err);
	if (rc < 0)
		return rc;
	*out = ev;
	return 0;
}

void binlog_event_cleanup(binlog_event *ev)
{
	if (ev->hdr.type == BINLOG_TABLE_MAP && ev->u.table_map != NULL) {
		binlog_table_map_free(ev->u.table_map);
		ev->u.table_map = NULL;
	}
}
