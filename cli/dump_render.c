/*
 * dump_render.c - one binlog event as one line of JSON (see dump_render.h).
 *
 * The JSON is written by hand into one reused buffer (values come already as
 * JSON text from value_to_json()), which keeps dump fast on large binlogs.
 */
#include "dump_render.h"

#include "ringwatch/binlog_event_type.h"
#include "ringwatch/binlog_table_map.h"
#include "ringwatch/row_decode.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void put_key(rw_buf *b, const char *key)
{
	rw_buf_puts(b, ", \"");
	rw_buf_puts(b, key);
	rw_buf_puts(b, "\": ");
}

static void put_str_field(rw_buf *b, const char *key, const char *s, size_t n)
{
	put_key(b, key);
	rw_buf_json_str(b, s, n);
}

static void put_u64_field(rw_buf *b, const char *key, uint64_t v)
{
	put_key(b, key);
	rw_buf_put_u64(b, v);
}

static void put_i64_field(rw_buf *b, const char *key, int64_t v)
{
	put_key(b, key);
	rw_buf_put_i64(b, v);
}

/* A column's key: its name, or "@N" (1-based) when the binlog has no names. */
static void put_column_name(rw_buf *b, const binlog_table_map *tm, uint32_t i)
{
	const char *name = tm->cols[i].name;

	if (name != NULL) {
		rw_buf_json_str(b, name, strlen(name));
		return;
	}
	rw_buf_puts(b, "\"@");
	rw_buf_put_u64(b, i + 1);
	rw_buf_putc(b, '"');
}

static void dump_query(rw_buf *b, const binlog_query *q)
{
	put_str_field(b, "schema", q->schema.p, q->schema.len);
	put_u64_field(b, "thread_id", q->thread_id);
	put_u64_field(b, "exec_time", q->exec_time);
	put_u64_field(b, "error_code", q->error_code);
	if (q->has_sql_mode)
		put_u64_field(b, "sql_mode", q->sql_mode);
	if (q->has_charset)
		put_u64_field(b, "charset_client", q->charset_client);
	if (q->time_zone.len)
		put_str_field(b, "time_zone", q->time_zone.p, q->time_zone.len);
	if (q->has_ddl_xid)
		put_u64_field(b, "ddl_xid", q->ddl_xid);
	if (q->has_mariadb_xid)
		put_u64_field(b, "xid", q->mariadb_xid);
	if (q->compressed)
		rw_buf_puts(b, ", \"compressed\": true");
	put_str_field(b, "sql", q->sql.p, q->sql.len);
}

static void dump_gtid(rw_buf *b, const binlog_event *ev)
{
	const binlog_gtid *g = &ev->u.gtid;

	if (ev->hdr.type != BINLOG_ANONYMOUS_GTID)
		put_str_field(b, "gtid", g->text, strlen(g->text));
	if (g->tag[0])
		put_str_field(b, "tag", g->tag, strlen(g->tag));
	put_u64_field(b, "gtid_flags", g->flags);
	if (g->has_logical_clock) {
		put_u64_field(b, "last_committed", (uint64_t)g->last_committed);
		put_u64_field(b, "sequence_number", (uint64_t)g->sequence_number);
	}
	if (g->has_commit_ts) {
		put_u64_field(b, "immediate_commit_timestamp", g->immediate_commit_ts);
		put_u64_field(b, "original_commit_timestamp", g->original_commit_ts);
	}
	if (g->has_trx_length)
		put_u64_field(b, "transaction_length", g->transaction_length);
	if (g->has_server_version) {
		put_u64_field(b, "immediate_server_version", g->immediate_server_version);
		put_u64_field(b, "original_server_version", g->original_server_version);
	}
}

static void dump_mariadb_gtid(rw_buf *b, const binlog_mariadb_gtid *g)
{
	put_str_field(b, "gtid", g->text, strlen(g->text));
	put_u64_field(b, "domain_id", g->domain_id);
	put_u64_field(b, "seq_no", g->seq_no);
	put_u64_field(b, "gtid_flags", g->flags2);
	if (g->flags2 & BINLOG_MARIADB_GTID_GROUP_COMMIT)
		put_u64_field(b, "commit_id", g->commit_id);
	if (g->xa_data != NULL) {
		put_u64_field(b, "xa_format_id", (uint32_t)g->xa_format_id);
		put_key(b, "xa_gtrid");
		rw_buf_json_base64(b, g->xa_data, g->xa_gtrid_len);
		put_key(b, "xa_bqual");
		rw_buf_json_base64(b, g->xa_data + g->xa_gtrid_len, g->xa_bqual_len);
	}
}

static void dump_gtid_list(rw_buf *b, const binlog_gtid_list *l)
{
	put_key(b, "gtid_list");
	rw_buf_putc(b, '[');
	for (uint32_t i = 0; i < l->count; i++) {
		const uint8_t *e = l->entries + 16 * (size_t)i;
		uint64_t seq = 0;

		for (int k = 7; k >= 0; k--)
			seq = (seq << 8) | e[8 + k];
		rw_buf_printf(b, "%s\"%" PRIu32 "-%" PRIu32 "-%" PRIu64 "\"", i ? ", " : "",
			      (uint32_t)(e[0] | e[1] << 8 | e[2] << 16 | (uint32_t)e[3] << 24),
			      (uint32_t)(e[4] | e[5] << 8 | e[6] << 16 | (uint32_t)e[7] << 24),
			      seq);
	}
	rw_buf_putc(b, ']');
}

static void dump_table_map(rw_buf *b, const binlog_table_map *tm)
{
	put_u64_field(b, "table_id", tm->table_id);
	put_str_field(b, "schema", tm->schema, strlen(tm->schema));
	put_str_field(b, "table", tm->table, strlen(tm->table));
	put_key(b, "columns");
	rw_buf_putc(b, '[');
	for (uint32_t i = 0; i < tm->ncols; i++) {
		const binlog_column *c = &tm->cols[i];
		const char *tn = binlog_column_type_name(c->real_type);

		rw_buf_puts(b, i ? ", {\"name\": " : "{\"name\": ");
		put_column_name(b, tm, i);
		rw_buf_printf(b, ", \"type\": \"%s\", \"meta\": %u", tn ? tn : "?", c->meta);
		if (c->nullable)
			rw_buf_puts(b, ", \"nullable\": true");
		if (c->is_unsigned)
			rw_buf_puts(b, ", \"unsigned\": true");
		if (c->charset)
			rw_buf_printf(b, ", \"charset\": %u", c->charset);
		if (c->in_pk)
			rw_buf_puts(b, ", \"primary_key\": true");
		if (!c->visible)
			rw_buf_puts(b, ", \"visible\": false");
		rw_buf_putc(b, '}');
	}
	rw_buf_putc(b, ']');
}

/*
 * Render every column's key once per rows event (its rows all share them),
 * each as `, "name": `; an image's first key goes without the comma.
 */
static void dump_keys(dump_state *st, const binlog_table_map *tm, uint32_t n)
{
	rw_buf_reset(&st->keys);
	for (uint32_t i = 0; i < n; i++) {
		st->key_off[i] = (uint32_t)st->keys.len;
		rw_buf_put(&st->keys, ", ", 2);
		put_column_name(&st->keys, tm, i);
		rw_buf_put(&st->keys, ": ", 2);
	}
	st->key_off[n] = (uint32_t)st->keys.len;
	rw_buf_reserve(&st->keys, 16); /* put_key16() may read 16 bytes of the last key */
}

/* Append a column key (usually short) from st->keys: 16 bytes copied at once. */
static inline void put_key16(rw_buf *b, const char *p, size_t n)
{
	if (n > 16 || rw_buf_reserve(b, 16) < 0) {
		rw_buf_put(b, p, n);
		return;
	}
	memcpy(b->p + b->len, p, 16);
	b->len += n;
	b->p[b->len] = '\0';
}

static int dump_image(dump_state *st, const value_datum *v, uint32_t n, rw_error *err)
{
	rw_buf *b = st->line;
	uint32_t comma = 2; /* bytes of ", " to leave out: the first key's */

	rw_buf_putc(b, '{');
	for (uint32_t i = 0; i < n; i++) {
		int rc;

		if (v[i].kind == VALUE_ABSENT)
			continue;
		put_key16(b, st->keys.p + st->key_off[i] + comma,
			  st->key_off[i + 1] - st->key_off[i] - comma);
		comma = 0;
		rc = value_to_json(&v[i], b, err);
		if (rc < 0)
			return rc;
	}
	rw_buf_putc(b, '}');
	return 0;
}

static int dump_rows(dump_state *st, const binlog_event *ev, rw_error *err)
{
	const binlog_rows *r = &ev->u.rows;
	rw_buf *b = st->line;
	row_iter it;
	int rc, n = 0;

	put_u64_field(b, "table_id", r->table_id);
	if (r->table != NULL) {
		put_str_field(b, "schema", r->table->schema, strlen(r->table->schema));
		put_str_field(b, "table", r->table->table, strlen(r->table->table));
	}
	put_u64_field(b, "rows_flags", r->flags);
	rc = row_iter_init(&it, r, err);
	if (rc < 0)
		return rc;
	dump_keys(st, r->table, r->ncols);
	if (rw_buf_failed(&st->keys))
		return rw_error_set(err, RW_E_NOMEM, ev->position, "out of memory");
	put_key(b, "rows");
	rw_buf_putc(b, '[');
	while ((rc = row_iter_next(&it, st->before, st->after, err)) == 1) {
		rw_buf_puts(b, n++ ? ", {" : "{");
		if (r->kind != BINLOG_ROWS_WRITE) {
			rw_buf_puts(b, "\"before\": ");
			rc = dump_image(st, st->before, r->ncols, err);
		}
		if (rc >= 0 && r->kind != BINLOG_ROWS_DELETE) {
			rw_buf_puts(b,
				    r->kind == BINLOG_ROWS_WRITE ? "\"after\": " : ", \"after\": ");
			rc = dump_image(st, st->after, r->ncols, err);
		}
		if (rc < 0)
			return rc;
		rw_buf_putc(b, '}');
	}
	rw_buf_putc(b, ']');
	return rc;
}

static int dump_misc(rw_buf *b, const binlog_event *ev, rw_error *err)
{
	switch (ev->hdr.type) {
	case BINLOG_FORMAT_DESCRIPTION:
		put_str_field(b, "server_version", ev->u.fde.server_version,
			      strlen(ev->u.fde.server_version));
		put_u64_field(b, "binlog_version", ev->u.fde.binlog_version);
		put_str_field(b, "checksum", ev->u.fde.checksum_alg ? "crc32" : "none",
			      ev->u.fde.checksum_alg ? 5 : 4);
		return 0;
	case BINLOG_ROTATE:
		put_str_field(b, "file", ev->u.rotate.file.p, ev->u.rotate.file.len);
		put_u64_field(b, "file_position", ev->u.rotate.position);
		return 0;
	case BINLOG_XID:
		put_u64_field(b, "xid", ev->u.xid);
		return 0;
	case BINLOG_PREVIOUS_GTIDS:
		put_key(b, "gtid_set");
		rw_buf_putc(b, '"');
		if (binlog_previous_gtids_text(&ev->u.prev_gtids, ev->position + 19, b, err) < 0)
			return err->code;
		rw_buf_putc(b, '"');
		return 0;
	case BINLOG_ROWS_QUERY:
	case BINLOG_ANNOTATE_ROWS:
		put_str_field(b, "sql", ev->u.text.p, ev->u.text.len);
		return 0;
	case BINLOG_BINLOG_CHECKPOINT:
		put_str_field(b, "file", ev->u.text.p, ev->u.text.len);
		return 0;
	case BINLOG_INCIDENT:
		put_u64_field(b, "incident", ev->u.incident.type);
		put_str_field(b, "message", ev->u.incident.message.p, ev->u.incident.message.len);
		return 0;
	case BINLOG_HEARTBEAT:
	case BINLOG_HEARTBEAT_V2:
		put_str_field(b, "file", ev->u.heartbeat.file.p, ev->u.heartbeat.file.len);
		put_u64_field(b, "file_position", ev->u.heartbeat.position);
		return 0;
	case BINLOG_TRANSACTION_PAYLOAD:
		put_str_field(b, "compression", ev->u.payload.compression ? "none" : "zstd", 4);
		put_u64_field(b, "payload_size", ev->u.payload.len);
		put_u64_field(b, "uncompressed_size", ev->u.payload.uncompressed_size);
		return 0;
	case BINLOG_XA_PREPARE:
		rw_buf_printf(b, ", \"one_phase\": %s, \"xa_format_id\": %" PRId32,
			      ev->u.xa.one_phase ? "true" : "false", ev->u.xa.format_id);
		put_key(b, "xa_gtrid");
		rw_buf_json_base64(b, ev->u.xa.data, ev->u.xa.gtrid_len);
		put_key(b, "xa_bqual");
		rw_buf_json_base64(b, ev->u.xa.data + ev->u.xa.gtrid_len, ev->u.xa.bqual_len);
		return 0;
	}
	return 0;
}

/* Which transaction an event belongs to: set by a GTID, ended by its commit. */
void dump_track_gtid(dump_trx *st, const binlog_event *ev)
{
	const binlog_query *q = &ev->u.query;

	switch (ev->hdr.type) {
	case BINLOG_GTID:
	case BINLOG_GTID_TAGGED:
		snprintf(st->gtid, sizeof(st->gtid), "%s", ev->u.gtid.text);
		st->in_begin = 0;
		return;
	case BINLOG_ANONYMOUS_GTID:
		st->gtid[0] = '\0';
		return;
	case BINLOG_MARIADB_GTID:
		snprintf(st->gtid, sizeof(st->gtid), "%s", ev->u.mgtid.text);
		st->in_begin = !(ev->u.mgtid.flags2 & BINLOG_MARIADB_GTID_STANDALONE);
		return;
	case BINLOG_QUERY:
	case BINLOG_QUERY_COMPRESSED:
		if (q->sql.len == 5 && strncmp(q->sql.p, "BEGIN", 5) == 0)
			st->in_begin = 1;
		return;
	}
}

void dump_end_trx(dump_trx *st, const binlog_event *ev)
{
	const binlog_query *q = &ev->u.query;
	unsigned t = ev->hdr.type;

	if (t == BINLOG_XID || t == BINLOG_XA_PREPARE ||
	    ((t == BINLOG_QUERY || t == BINLOG_QUERY_COMPRESSED) &&
	     (!st->in_begin || (q->sql.len == 6 && strncmp(q->sql.p, "COMMIT", 6) == 0) ||
	      (q->sql.len >= 8 && strncmp(q->sql.p, "ROLLBACK", 8) == 0) ||
	      (q->sql.len >= 9 && strncmp(q->sql.p, "XA COMMIT", 9) == 0))))
		st->gtid[0] = '\0';
	if (t == BINLOG_ROTATE || t == BINLOG_FORMAT_DESCRIPTION)
		st->gtid[0] = '\0';
}

int dump_event(dump_state *st, const binlog_event *ev, rw_error *err)
{
	rw_buf *b = st->line;
	const char *name = binlog_event_type_name(ev->hdr.type);
	size_t start = b->len;
	int rc = 0;

	dump_track_gtid(&st->trx, ev);
	rw_buf_puts(b, "{\"type\": \"");
	if (ev->unknown) {
		rw_buf_puts(b, "UNKNOWN_");
		rw_buf_put_u64(b, ev->hdr.type);
	} else {
		rw_buf_puts(b, name);
	}
	rw_buf_putc(b, '"');
	put_u64_field(b, "server_id", ev->hdr.server_id);
	put_u64_field(b, "timestamp", ev->hdr.timestamp);
	put_i64_field(b, "position", ev->position);
	put_i64_field(b, "next_position", ev->next_position);
	put_u64_field(b, "log_pos", ev->hdr.log_pos);
	put_u64_field(b, "flags", ev->hdr.flags);
	if (ev->in_payload)
		rw_buf_puts(b, ", \"in_payload\": true");
	if (ev->hdr.type == BINLOG_GTID || ev->hdr.type == BINLOG_ANONYMOUS_GTID ||
	    ev->hdr.type == BINLOG_GTID_TAGGED)
		dump_gtid(b, ev);
	else if (ev->hdr.type == BINLOG_MARIADB_GTID)
		dump_mariadb_gtid(b, &ev->u.mgtid);
	else if (st->trx.gtid[0] != '\0')
		put_str_field(b, "gtid", st->trx.gtid, strlen(st->trx.gtid));
	if (ev->unknown)
		; /* nothing more is known */
	else if (ev->hdr.type == BINLOG_QUERY || ev->hdr.type == BINLOG_QUERY_COMPRESSED)
		dump_query(b, &ev->u.query);
	else if (ev->hdr.type == BINLOG_MARIADB_GTID_LIST)
		dump_gtid_list(b, &ev->u.gtid_list);
	else if (ev->hdr.type == BINLOG_TABLE_MAP)
		dump_table_map(b, ev->u.table_map);
	else if (binlog_event_is_rows(ev->hdr.type))
		rc = dump_rows(st, ev, err);
	else
		rc = dump_misc(b, ev, err);
	if (rc == 0) {
		dump_end_trx(&st->trx, ev);
		rw_buf_puts(b, "}\n");
		if (rw_buf_failed(b))
			rc = rw_error_set(err, RW_E_NOMEM, ev->position, "out of memory");
	}
	if (rc < 0) /* nothing of a damaged event (or one out of memory) is printed */
		rw_buf_truncate(b, start);
	return rc;
}

int dump_state_init(dump_state *st, rw_buf *line)
{
	memset(st, 0, sizeof(*st));
	st->line = line;
	st->before = calloc(BINLOG_MAX_COLUMNS, sizeof(value_datum));
	st->after = calloc(BINLOG_MAX_COLUMNS, sizeof(value_datum));
	st->key_off = calloc(BINLOG_MAX_COLUMNS + 1, sizeof(uint32_t));
	return st->before != NULL && st->after != NULL && st->key_off != NULL ? 0 : -1;
}

void dump_state_free(dump_state *st)
{
	rw_buf_free(&st->keys);
	free(st->key_off);
	free(st->before);
	free(st->after);
}
