/*
 * cli_dump.c - `ringwatch dump FILE...`: the library's binlog reader and row
 * decoder over files, one JSON object per event on stdout.
 *
 * The JSON is written by hand into one reused buffer (values come already as
 * JSON text from value_to_json()), which keeps dump fast on large binlogs.
 */
#include "build_config.h"

#include "cli_dump.h"

#include "ringwatch/binlog_reader.h"
#include "ringwatch/row_decode.h"
#include "ringwatch/rw_buf.h"
#include "ringwatch/value.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
	DUMP_OK = 0,
	DUMP_DAMAGED = 1,
	DUMP_USAGE = 2
};

/* A file could not be read or standard output written (dump's own rw_error code). */
#define DUMP_E_IO (-100)

/*
 * One renderer of events (the main thread's, or a worker's): what it
 * remembers across events, the current transaction's GTID, and where its
 * JSON lines go.
 */
/* Which transaction an event belongs to, as far as the events so far say. */
typedef struct dump_trx {
	char gtid[80]; /* "" outside a transaction with a GTID */
	int in_begin;  /* a BEGIN was seen since the GTID */
} dump_trx;

typedef struct dump_state {
	dump_trx trx;
	rw_value *before, *after;
	rw_buf *line;      /* the lines rendered so far; each event goes in whole */
	rw_buf keys;       /* the current rows event's column keys: , "name": */
	uint32_t *key_off; /* where key i starts in keys (BINLOG_MAX_COLUMNS + 1) */
} dump_state;

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

static int dump_image(dump_state *st, const rw_value *v, uint32_t n, rw_error *err)
{
	rw_buf *b = st->line;
	uint32_t comma = 2; /* bytes of ", " to leave out: the first key's */

	rw_buf_putc(b, '{');
	for (uint32_t i = 0; i < n; i++) {
		int rc;

		if (v[i].kind == RW_VALUE_ABSENT)
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
static void dump_track_gtid(dump_trx *st, const binlog_event *ev)
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

static void dump_end_trx(dump_trx *st, const binlog_event *ev)
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

static int dump_event(dump_state *st, const binlog_event *ev, rw_error *err)
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
	if (rc < 0) { /* nothing of a damaged event (or one out of memory) is printed */
		b->failed = 0;
		b->len = start;
		if (b->p != NULL)
			b->p[start] = '\0';
	}
	return rc;
}

/*
 * Reading a file.  A regular file is mapped and read in place.  When it is
 * large and there is more than one cpu, it is cut into pieces at event
 * boundaries by a skimming reader, which hands each piece a fork of its
 * state (format description, table maps) and the transaction (GTID) it is
 * in; worker threads render the pieces and the main thread writes them out
 * in order.  What a piece prints is what one reader over the whole file
 * prints for those events.
 * A damaged piece is written up to its damage, then the error, then nothing
 * after it.  Other inputs (pipes) are read in chunks by one reader.
 */

#define DUMP_FLUSH       (1u << 20) /* write the main thread's lines out from this size */
#define DUMP_SEGMENT     (1u << 20) /* default input bytes a piece */
#define DUMP_MAX_THREADS 64

typedef struct dump_opts {
	int threads;     /* renderers; 1: the main thread alone */
	size_t seg_size; /* input bytes a piece at least */
} dump_opts;

typedef struct dump_seg {
	int64_t start, end; /* file offsets */
	binlog_reader *r;   /* in the state at start */
	dump_trx trx;       /* the transaction at start */
	int last;           /* the file ends with it: an event cut short is damage */
	rw_buf out;
	int rc;
	rw_error err;
	int done;
	struct dump_seg *next; /* in the order of the file */
} dump_seg;

typedef struct dump_pool {
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	const uint8_t *map;
	dump_seg *todo; /* the next piece for a worker, in the list of pieces */
	int stop;
} dump_pool;

static int dump_state_init(dump_state *st, rw_buf *line)
{
	memset(st, 0, sizeof(*st));
	st->line = line;
	st->before = calloc(BINLOG_MAX_COLUMNS, sizeof(rw_value));
	st->after = calloc(BINLOG_MAX_COLUMNS, sizeof(rw_value));
	st->key_off = calloc(BINLOG_MAX_COLUMNS + 1, sizeof(uint32_t));
	return st->before != NULL && st->after != NULL && st->key_off != NULL ? 0 : -1;
}

static void dump_state_free(dump_state *st)
{
	rw_buf_free(&st->keys);
	free(st->key_off);
	free(st->before);
	free(st->after);
}

/* Write all of b to standard output; -1 (errno set) on a write error. */
static int dump_write(rw_buf *b)
{
	size_t off = 0;

	while (off < b->len) {
		ssize_t n = write(STDOUT_FILENO, b->p + off, b->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		off += (size_t)n;
	}
	rw_buf_reset(b);
	return 0;
}

/*
 * Render every event r hands back from what it was fed into st->line; flush:
 * write the lines out as they pile up (else they stay for the caller).
 * last: the input ends here, so an event cut short is an error.
 */
static int dump_run(dump_state *st, binlog_reader *r, int last, int flush, rw_error *err)
{
	binlog_event ev;
	int rc = 0;

	while (rc == 0 && (rc = binlog_reader_next(r, &ev, err)) == 1) {
		rc = dump_event(st, &ev, err);
		if (rc == 0 && flush && st->line->len >= DUMP_FLUSH && dump_write(st->line) < 0)
			rc = rw_error_set(err, DUMP_E_IO, ev.next_position, "write error: %s",
					  strerror(errno));
	}
	if (rc == 0 && last)
		rc = binlog_reader_finish(r, err);
	return rc;
}

/* Render piece s of the file at map into s->out with renderer st. */
static void dump_render(dump_state *st, const uint8_t *map, dump_seg *s)
{
	rw_buf *line = st->line;

	rw_error_clear(&s->err);
	st->line = &s->out;
	st->trx = s->trx;
	s->rc = binlog_reader_feed_ref(s->r, map + s->start, (size_t)(s->end - s->start), &s->err);
	if (s->rc == 0)
		s->rc = dump_run(st, s->r, s->last, 0, &s->err);
	st->line = line;
	binlog_reader_free(s->r);
	s->r = NULL;
}

static void *dump_worker(void *arg)
{
	dump_pool *pool = arg;
	dump_state st;
	rw_buf none = RW_BUF_INIT;
	int ok = dump_state_init(&st, &none) == 0;

	pthread_mutex_lock(&pool->mu);
	for (;;) {
		dump_seg *s;

		while (!pool->stop && pool->todo == NULL)
			pthread_cond_wait(&pool->work, &pool->mu);
		if (pool->stop)
			break;
		s = pool->todo;
		pool->todo = s->next;
		pthread_mutex_unlock(&pool->mu);

		if (ok)
			dump_render(&st, pool->map, s);
		else
			s->rc = rw_error_set(&s->err, RW_E_NOMEM, s->start, "out of memory");

		pthread_mutex_lock(&pool->mu);
		s->done = 1;
		pthread_cond_broadcast(&pool->done);
	}
	pthread_mutex_unlock(&pool->mu);
	dump_state_free(&st);
	return NULL;
}

static void dump_seg_free_list(dump_seg *s)
{
	while (s != NULL) {
		dump_seg *next = s->next;

		binlog_reader_free(s->r);
		rw_buf_free(&s->out);
		free(s);
		s = next;
	}
}

/*
 * The next piece from the skimming reader: from *start to the first event
 * boundary at least seg_size bytes on (or to the end of the file); *r is the
 * reader for it and becomes the one for the piece after; *trx follows the
 * transactions the skimming reader passes.
 */
static dump_seg *dump_cut(binlog_reader *skim, binlog_reader **r, dump_trx *trx, int64_t *start,
			  int64_t size, size_t seg_size, dump_seg **spare)
{
	dump_seg *s = *spare;
	binlog_event ev;
	rw_error err;

	if (s != NULL) { /* a piece written already: its buffer is kept */
		rw_buf out = s->out;

		*spare = s->next;
		memset(s, 0, sizeof(*s));
		s->out = out;
		rw_buf_reset(&s->out);
	} else if ((s = calloc(1, sizeof(*s))) == NULL) {
		return NULL;
	}
	s->start = *start;
	s->r = *r;
	s->trx = *trx;
	s->end = size;
	*r = NULL;
	for (;;) {
		int64_t at = binlog_reader_position(skim);

		/* not inside a TRANSACTION_PAYLOAD: peek says -1 there */
		if (at - s->start >= (int64_t)seg_size && binlog_reader_peek_type(skim) >= 0 &&
		    (*r = binlog_reader_fork(skim, &err)) != NULL) {
			s->end = at;
			break;
		}
		/* the end, or damage: the rest is one piece, whose reader finds it */
		if (binlog_reader_next(skim, &ev, &err) != 1) {
			s->last = 1;
			break;
		}
		dump_track_gtid(trx, &ev);
		dump_end_trx(trx, &ev);
	}
	*start = s->end;
	return s;
}

/*
 * The pieces of a mapped file, rendered by `threads` workers (or by st in
 * this thread when threads is 1), written in order.
 */
static int dump_pieces(dump_state *st, const uint8_t *map, int64_t size, int threads,
		       size_t seg_size, rw_error *err)
{
	dump_pool pool = { .map = map };
	pthread_t tid[DUMP_MAX_THREADS];
	binlog_reader *skim = binlog_reader_new(BINLOG_READER_FILE);
	binlog_reader *r = binlog_reader_new(BINLOG_READER_FILE);
	dump_seg *head = NULL, *tail = NULL, *spare = NULL;
	dump_trx trx = { "", 0 };
	rw_error cut_err;
	int64_t start = 0;
	int cut_rc = 0;
	int nthreads = 0, inflight = 0, max_inflight = threads > 1 ? 2 * threads + 2 : 1, rc = 0;
	long pagesize = sysconf(_SC_PAGESIZE);
	uintptr_t page = pagesize > 0 ? (uintptr_t)pagesize : 4096;

	pthread_mutex_init(&pool.mu, NULL);
	pthread_cond_init(&pool.work, NULL);
	pthread_cond_init(&pool.done, NULL);
	if (skim == NULL || r == NULL || binlog_reader_feed_ref(skim, map, (size_t)size, err) < 0)
		rc = rw_error_set(err, RW_E_NOMEM, 0, "out of memory");
	else
		binlog_reader_set_skim(skim, 1);
	for (; rc == 0 && threads > 1 && nthreads < threads; nthreads++)
		if (pthread_create(&tid[nthreads], NULL, dump_worker, &pool) != 0)
			break;

	while (rc == 0) {
		dump_seg *s;

		/* cut pieces ahead, as many as may wait in memory */
		while (inflight < max_inflight && r != NULL) {
			s = dump_cut(skim, &r, &trx, &start, size, seg_size, &spare);
			if (s == NULL) { /* the pieces cut so far are written first */
				cut_rc = rw_error_set(&cut_err, RW_E_NOMEM, start, "out of memory");
				binlog_reader_free(r);
				r = NULL;
				break;
			}
			if (nthreads == 0) { /* no workers: render it here */
				dump_render(st, map, s);
				s->done = 1;
			}
			pthread_mutex_lock(&pool.mu);
			if (tail != NULL)
				tail->next = s;
			else
				head = s;
			tail = s;
			if (pool.todo == NULL)
				pool.todo = s;
			inflight++;
			pthread_cond_signal(&pool.work);
			pthread_mutex_unlock(&pool.mu);
		}
		if (head == NULL) {
			if (cut_rc < 0) {
				rc = cut_rc;
				*err = cut_err;
			}
			break;
		}
		/* write the oldest piece when it is done */
		pthread_mutex_lock(&pool.mu);
		while (!head->done)
			pthread_cond_wait(&pool.done, &pool.mu);
		s = head;
		head = s->next;
		if (head == NULL)
			tail = NULL;
		pthread_mutex_unlock(&pool.mu);
		inflight--;
		if (dump_write(&s->out) < 0)
			rc = rw_error_set(err, DUMP_E_IO, s->start, "write error: %s",
					  strerror(errno));
		else if (s->rc < 0) {
			rc = s->rc;
			*err = s->err;
		}
		/* what is written is not needed again: let the kernel drop its pages */
		madvise((void *)((uintptr_t)(map + s->start) & ~(page - 1)),
			(size_t)(s->end - s->start), MADV_DONTNEED);
		s->next = spare; /* its output buffer serves a later piece */
		spare = s;
	}

	pthread_mutex_lock(&pool.mu);
	pool.stop = 1;
	pthread_cond_broadcast(&pool.work);
	pthread_mutex_unlock(&pool.mu);
	for (int i = 0; i < nthreads; i++)
		pthread_join(tid[i], NULL);
	dump_seg_free_list(head); /* pieces after an error: rendered or not, dropped */
	dump_seg_free_list(spare);
	binlog_reader_free(r);
	binlog_reader_free(skim);
	pthread_cond_destroy(&pool.done);
	pthread_cond_destroy(&pool.work);
	pthread_mutex_destroy(&pool.mu);
	return rc;
}

/* A file that cannot be mapped (a pipe): read in chunks by one reader. */
static int dump_stream(dump_state *st, int fd, rw_error *err)
{
	binlog_reader *r = binlog_reader_new(BINLOG_READER_FILE);
	uint8_t *chunk = malloc(DUMP_SEGMENT);
	int rc = 0;

	if (r == NULL || chunk == NULL)
		rc = rw_error_set(err, RW_E_NOMEM, 0, "out of memory");
	while (rc == 0) {
		ssize_t n = read(fd, chunk, DUMP_SEGMENT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = rw_error_set(err, DUMP_E_IO, binlog_reader_position(r),
					  "read error: %s", strerror(errno));
		else if (n == 0)
			rc = binlog_reader_finish(r, err);
		else
			rc = binlog_reader_feed(r, chunk, (size_t)n, err);
		if (rc < 0 || n == 0)
			break;
		rc = dump_run(st, r, 0, 1, err);
	}
	binlog_reader_free(r);
	free(chunk);
	return rc;
}

static int dump_fd(dump_state *st, int fd, const dump_opts *o, rw_error *err)
{
	struct stat sb;
	uint8_t *map;
	int rc;

	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size == 0 ||
	    (map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		rc = dump_stream(st, fd, err);
		/* the lines not written yet, those before any damage included */
		if (dump_write(st->line) < 0 && rc == 0)
			rc = rw_error_set(err, DUMP_E_IO, 0, "write error: %s", strerror(errno));
		return rc;
	}
	madvise(map, (size_t)sb.st_size, MADV_SEQUENTIAL);
	rc = dump_pieces(st, map, sb.st_size,
			 (uint64_t)sb.st_size >= 2 * (uint64_t)o->seg_size ? o->threads : 1,
			 o->seg_size, err);
	munmap(map, (size_t)sb.st_size);
	return rc;
}

static int dump_file(dump_state *st, const char *path, const dump_opts *o)
{
	rw_error err;
	int fd = open(path, O_RDONLY);
	int rc;

	if (fd < 0) {
		fprintf(stderr, "ringwatch dump: %s: %s\n", path, strerror(errno));
		return DUMP_USAGE;
	}
	rw_error_clear(&err);
	memset(&st->trx, 0, sizeof(st->trx));
	rc = dump_fd(st, fd, o, &err);
	close(fd);
	if (rc == 0)
		return DUMP_OK;
	if (rc == DUMP_E_IO) {
		fprintf(stderr, "ringwatch dump: %s: %s\n", path, err.text);
		return DUMP_USAGE;
	}
	fprintf(stderr, "ringwatch dump: %s: %s at offset %" PRId64 ": %s\n", path,
		rw_error_name(rc), err.offset, err.text);
	return DUMP_DAMAGED;
}

static int dump_usage(FILE *f, int rc)
{
	fprintf(f, "usage: ringwatch dump [--threads N] [--segment-size BYTES] FILE...\n");
	return rc;
}

/* A count option's value: 1 to max. */
static int dump_count(const char *opt, const char *v, unsigned long long max,
		      unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = v != NULL ? strtoull(v, &end, 10) : 0;
	if (v == NULL || errno != 0 || *end != '\0' || v[0] == '-' || *out < 1 || *out > max) {
		fprintf(stderr, "ringwatch dump: %s needs a number from 1 to %llu\n", opt, max);
		return -1;
	}
	return 0;
}

int cli_dump(int argc, char **argv)
{
	dump_state st;
	rw_buf line = RW_BUF_INIT;
	dump_opts o;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int worst = DUMP_OK, i;

	o.threads = ncpu < 1 ? 1 : ncpu > 8 ? 8 : (int)ncpu;
	o.seg_size = DUMP_SEGMENT;
	/* options, each with its value in the next argument */
	for (i = 1; i < argc && argv[i][0] == '-'; i += 2) {
		unsigned long long v;

		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return dump_usage(stdout, DUMP_OK);
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "--threads") == 0) {
			if (dump_count("--threads", argv[i + 1], DUMP_MAX_THREADS, &v) < 0)
				return DUMP_USAGE;
			o.threads = (int)v;
		} else if (strcmp(argv[i], "--segment-size") == 0) {
			if (dump_count("--segment-size", argv[i + 1], 1ULL << 40, &v) < 0)
				return DUMP_USAGE;
			o.seg_size = (size_t)v;
		} else {
			fprintf(stderr, "ringwatch dump: unknown option %s\n", argv[i]);
			return dump_usage(stderr, DUMP_USAGE);
		}
	}
	if (i >= argc)
		return dump_usage(stderr, DUMP_USAGE);
	if (dump_state_init(&st, &line) < 0) {
		fprintf(stderr, "ringwatch dump: out of memory\n");
		dump_state_free(&st);
		return DUMP_USAGE;
	}
	for (; i < argc; i++) {
		int rc = dump_file(&st, argv[i], &o);

		worst = rc > worst ? rc : worst;
	}
	rw_buf_free(&line);
	dump_state_free(&st);
	return worst;
}
