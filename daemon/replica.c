/*
 * replica.c - a replication connection on its own thread (see replica.h).
 *
 * The dump is started with MariaDB Connector/C's mariadb_rpl_open(); events
 * are then read as raw packets with mysql_net_read_packet(), so that every
 * event, of any type and from any server version, reaches ringwatch's own
 * parser unchanged (mariadb_rpl_fetch() would refuse MySQL 8 types it does
 * not know).
 */
#include "replica.h"

#include "config.h"
#include "mysql_conn.h"

#include "ringwatch/binlog_event_type.h"
#include "ringwatch/binlog_reader.h"
#include "ringwatch/binlog_trx.h"
#include "ringwatch/row_batch.h"
#include "ringwatch/schema.h"

#include <errno.h>
#include <mysql.h> /* before mariadb_rpl.h, which needs its types */
#include <ma_pvio.h>
#include <mariadb_rpl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONNECT_TIMEOUT 5 /* seconds */
/*
 * Events that arrive together go to the loop as one letter (REPLICA_EVENTS),
 * up to these bounds: one wake-up of the loop for a transaction's events,
 * not one for each.  BATCH_BYTES bounds the events' bytes, LETTER_BYTES the
 * letter's with the row batches (larger than their events: JSON images).
 */
#define BATCH_BYTES  ((size_t)64 << 10)
#define LETTER_BYTES ((size_t)512 << 10)
#define BATCH_EVENTS 256
/*
 * A larger rows event (big BLOBs) goes without a batch: its images as JSON
 * could be several times its size; the loop decodes it.
 */
#define BATCH_EVENT_MAX ((size_t)1 << 20)
/* letters in a row that find the loop's mailbox empty before batches stop */
#define IDLE_LETTERS 8
/*
 * An event inside a transaction waits this long at most for the next one
 * (the rest of a transaction follows at once: the master writes it to its
 * binlog whole); the event that ends a transaction never waits.
 */
#define LINGER_MS 2

/*
 * The letter being filled (REPLICA_EVENTS), in place: room for a struct
 * replica_letter, then each event as a u32 length and its bytes, and its
 * row batch's.  Posting it hands the memory over (nothing is copied); the
 * next letter starts at the size the last one reached.
 */
struct batch {
	rw_buf buf;
	size_t event_bytes; /* of it, the events' */
	unsigned events;
	size_t hint; /* the size to start a letter with */
};

/*
 * The thread's own reading of the events, for the row batches: a reader
 * and the open transaction's boundaries, the shapes it decodes with, and
 * the ones the loop handed over since (next, under lock).
 */
struct predecode {
	binlog_reader *reader; /* NULL: stopped (an event it could not read) */
	binlog_trx trx;
	uint64_t trx_rows; /* row changes of the open transaction batched so far */
	size_t max_rows;   /* past it, rows are only counted */
	bool batching;     /* the letter being filled gets batches */
	unsigned idle;     /* letters in a row that found the mailbox empty */
	schema_db *shapes; /* NULL: none yet */
	uint64_t tag;

	pthread_mutex_t lock;
	schema_db *next;
	uint64_t next_tag;
	atomic_bool fresh; /* next is there */
};

struct replica {
	pthread_t thread;
	struct mailbox *mb;
	atomic_bool stop;
	pthread_mutex_t fd_lock; /* guards fd between replica_stop() and close */
	int fd;

	struct replica_args args;
	struct mysql_conn_target target; /* the thread's own copy of the settings */
	struct batch batch;
	struct predecode pd;
};

static int post(struct replica *r, enum replica_letter_kind kind, const void *body, size_t len)
{
	struct replica_letter *l = malloc(sizeof(*l) + len);

	if (l == NULL)
		return -1;
	l->hdr.kind = kind;
	l->hdr.size = sizeof(*l) + len;
	l->generation = r->args.generation;
	l->len = len;
	memcpy(l->body, body, len);
	return mailbox_post(r->mb, &l->hdr);
}

/* Post the letter being filled, if any: 0, or -1 when the mailbox is closed or memory ran out. */
static int flush_batch(struct replica *r)
{
	struct batch *b = &r->batch;
	struct replica_letter *l = (struct replica_letter *)(void *)b->buf.p;

	if (b->events == 0)
		return 0;
	if (rw_buf_failed(&b->buf)) {
		rw_buf_free(&b->buf);
		return -1;
	}
	l->hdr.next = NULL;
	l->hdr.kind = REPLICA_EVENTS;
	l->hdr.size = b->buf.cap;
	l->generation = r->args.generation;
	l->len = b->buf.len - sizeof(*l);
	/* not from a big event's letter: the next one holds no more than LETTER_BYTES */
	b->hint = b->buf.len < BATCH_BYTES        ? BATCH_BYTES
		  : b->buf.len > 2 * LETTER_BYTES ? 2 * LETTER_BYTES
						  : b->buf.len;
	b->buf = (rw_buf)RW_BUF_INIT; /* the letter's now */
	b->event_bytes = 0;
	b->events = 0;
	return mailbox_post(r->mb, &l->hdr);
}

static void put_u32(rw_buf *b, size_t v)
{
	uint32_t n = (uint32_t)v;

	rw_buf_put(b, &n, sizeof(n));
}

static size_t predecode(struct predecode *pd, const uint8_t *p, size_t len, rw_buf *out);

/*
 * Add one event and its row batch to the letter (rw_buf_failed() when out
 * of memory: the connection ends).
 */
static void add_to_batch(struct replica *r, const uint8_t *p, size_t len)
{
	struct batch *b = &r->batch;
	size_t at, rows;
	uint32_t n;

	if (b->buf.len == 0) {
		struct replica_letter room;
		size_t waiting, bytes;
		/*
		 * Batches only while the loop is behind (a letter still waits for
		 * it): then they take work off it; when it keeps up they would only
		 * add to the daemon's cpu (the loop reads a copy light, the thread
		 * could not know).  Behind until the mailbox was found empty at
		 * IDLE_LETTERS letters in a row: a loop that catches up for a
		 * moment, since the thread decodes, does not stop the batches.
		 */
		mailbox_usage(r->mb, &waiting, &bytes);
		if (waiting > 0)
			r->pd.idle = 0;
		else if (r->pd.idle < IDLE_LETTERS)
			r->pd.idle++;
		r->pd.batching = r->pd.idle < IDLE_LETTERS;
		/* meanwhile it only follows the events (the loop checks them) */
		if (r->pd.reader != NULL)
			binlog_reader_set_skim(r->pd.reader, !r->pd.batching);
		if (rw_buf_reserve(&b->buf, b->hint > len ? b->hint : len + BATCH_BYTES) < 0)
			return;
		memset(&room, 0, sizeof(room));
		rw_buf_put(&b->buf, &room, sizeof(room));
	}
	put_u32(&b->buf, len);
	rw_buf_put(&b->buf, p, len);
	at = b->buf.len;
	put_u32(&b->buf, 0);
	rows = predecode(&r->pd, p, len, &b->buf);
	if (rows > 0 && !rw_buf_failed(&b->buf)) {
		n = (uint32_t)rows;
		memcpy(b->buf.p + at, &n, sizeof(n));
	}
	b->event_bytes += len;
	b->events++;
}

/* ---- row batches ------------------------------------------------------------- */

void replica_set_shapes(struct replica *r, schema_db *db, uint64_t tag)
{
	struct predecode *pd = &r->pd;

	pthread_mutex_lock(&pd->lock);
	schema_db_free(pd->next);
	pd->next = db;
	pd->next_tag = tag;
	atomic_store(&pd->fresh, true);
	pthread_mutex_unlock(&pd->lock);
}

/* The shapes the loop handed over last, if new. */
static void take_shapes(struct predecode *pd)
{
	if (!atomic_load_explicit(&pd->fresh, memory_order_acquire))
		return;
	pthread_mutex_lock(&pd->lock);
	schema_db_free(pd->shapes);
	pd->shapes = pd->next;
	pd->tag = pd->next_tag;
	pd->next = NULL;
	atomic_store(&pd->fresh, false);
	pthread_mutex_unlock(&pd->lock);
}

/*
 * Read one event (len bytes at p) as the loop will and, while batching,
 * append the batch of its rows to out: how many bytes (0: none).  An event
 * the thread cannot read stops its batches for the connection: the loop
 * reads every event anyway, and says what is wrong with it.
 */
static size_t predecode(struct predecode *pd, const uint8_t *p, size_t len, rw_buf *out)
{
	size_t start = out->len;
	binlog_event ev;
	row_batch b;
	rw_error err;
	int rc;

	if (pd->reader == NULL || rw_buf_failed(out))
		return 0;
	take_shapes(pd);
	/* copied: the client library reads the next packet into the same memory */
	if (binlog_reader_feed(pd->reader, p, len, &err) != 0)
		goto stop;
	while ((rc = binlog_reader_next(pd->reader, &ev, &err)) == 1) {
		if (binlog_trx_feed(&pd->trx, &ev) == BINLOG_TRX_BEGIN)
			pd->trx_rows = 0;
		if (!pd->batching || len > BATCH_EVENT_MAX || ev.in_payload || out->len > start ||
		    pd->shapes == NULL || !binlog_event_is_rows(ev.hdr.type))
			continue;
		if (row_batch_make(out, &ev, pd->shapes, pd->tag, pd->trx_rows >= pd->max_rows) !=
			1 ||
		    row_batch_open(&b, out->p + start, out->len - start) != 0) {
			/* none, or out of memory: the loop decodes it */
			rw_buf_truncate(out, start);
			continue;
		}
		pd->trx_rows += b.counts_only ? b.rows : b.changes;
	}
	if (rc == 0)
		return out->len - start;
stop:
	binlog_reader_free(pd->reader);
	pd->reader = NULL;
	rw_buf_truncate(out, start);
	return 0;
}

/* Whether the socket has bytes to read (within ms milliseconds). */
static bool readable(MYSQL *m, int ms)
{
	struct pollfd pfd;
	my_socket fd = mysql_get_socket(m);

	if (fd == MARIADB_INVALID_SOCKET)
		return false;
	pfd.fd = (int)fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	return poll(&pfd, 1, ms) == 1 && (pfd.revents & POLLIN) != 0;
}

/* What the client library read ahead from the socket and holds (ma_pvio.h). */
static bool read_ahead(MYSQL *m)
{
	const MARIADB_PVIO *pvio = m->net.pvio;

	return pvio != NULL && pvio->cache != NULL &&
	       pvio->cache_pos < pvio->cache + pvio->cache_size;
}

/*
 * Whether bytes of the next packet are there already (in the client
 * library's read-ahead buffer or the socket's); its rest may still be on
 * its way, so only an event inside a transaction waits for it.
 */
static bool more_ready(MYSQL *m)
{
	return read_ahead(m) || readable(m, 0);
}

/* Whether an event is always followed by more of its transaction (a GTID, a table map, rows). */
static bool inside_transaction(const uint8_t *ev, size_t len)
{
	if (len < 5)
		return false;
	switch (ev[4]) {
	case BINLOG_TABLE_MAP:
	case BINLOG_WRITE_ROWS_V1:
	case BINLOG_UPDATE_ROWS_V1:
	case BINLOG_DELETE_ROWS_V1:
	case BINLOG_ROWS_QUERY:
	case BINLOG_WRITE_ROWS:
	case BINLOG_UPDATE_ROWS:
	case BINLOG_DELETE_ROWS:
	case BINLOG_GTID:
	case BINLOG_ANONYMOUS_GTID:
	case BINLOG_PARTIAL_UPDATE_ROWS:
	case BINLOG_GTID_TAGGED:
	case BINLOG_ANNOTATE_ROWS:
	case BINLOG_MARIADB_GTID:
	case BINLOG_WRITE_ROWS_COMPRESSED_V1:
	case BINLOG_UPDATE_ROWS_COMPRESSED_V1:
	case BINLOG_DELETE_ROWS_COMPRESSED_V1:
	case BINLOG_WRITE_ROWS_COMPRESSED:
	case BINLOG_UPDATE_ROWS_COMPRESSED:
	case BINLOG_DELETE_ROWS_COMPRESSED:
		return true;
	default:
		return false;
	}
}

/* Wait a little for the rest of a transaction; not with TLS, whose buffers are not seen. */
static bool wait_for_rest(MYSQL *m)
{
	return m->net.pvio != NULL && m->net.pvio->ctls == NULL && readable(m, LINGER_MS);
}

static void set_options(struct replica *r, MYSQL *m)
{
	/* three heartbeats missed: the connection is dead even without a RST */
	unsigned read_timeout = (unsigned)(r->args.heartbeat_period * 3 + 2);
	unsigned long max_packet = 1024UL * 1024 * 1024;

	mysql_conn_set_options(m, &r->target, CONNECT_TIMEOUT, read_timeout, 10);
	mysql_optionsv(m, MYSQL_OPT_MAX_ALLOWED_PACKET, &max_packet);
	mysql_optionsv(m, MARIADB_OPT_RPL_REGISTER_REPLICA, "ringwatch", 0);
}

/*
 * Whether ringwatchd's server_id is taken where it connects: the master's
 * own (the master refuses the dump, and would for ever), or a replica's of
 * this master (SHOW SLAVE HOSTS; a dump with its server_id makes the
 * master end that replica's connection, and its reconnection ends ours).
 * 1 with end->message, 0 not (or SHOW SLAVE HOSTS not allowed).
 */
static int server_id_taken(struct replica *r, MYSQL *m, uint32_t master_id, struct replica_end *end)
{
	uint32_t mine = r->args.replica_server_id;
	MYSQL_RES *res;
	MYSQL_ROW row;
	int taken = 0;

	if (master_id == mine) {
		snprintf(end->message, sizeof(end->message),
			 "ringwatchd's server_id %u is this master's own @@server_id: a replica "
			 "needs a server_id no server of the ring has; set another [ringwatchd] "
			 "server_id (not retrying until the configuration changes)",
			 mine);
		return 1;
	}
	if (mysql_query(m, "SHOW SLAVE HOSTS") != 0 || (res = mysql_store_result(m)) == NULL)
		return 0; /* not allowed: the master's own id is checked all the same */
	while (!taken && (row = mysql_fetch_row(res)) != NULL) {
		/* Server_id, Host, Port, Master_id */
		if (mysql_num_fields(res) < 3 || row[0] == NULL ||
		    strtoul(row[0], NULL, 10) != mine ||
		    (row[1] != NULL && strcmp(row[1], "ringwatch") == 0))
			continue;
		snprintf(end->message, sizeof(end->message),
			 "ringwatchd's server_id %u is that of a replica of this master (host "
			 "'%.64s', port %.8s): connecting with it would end that replica's "
			 "replication; set another [ringwatchd] server_id (not retrying until the "
			 "configuration changes)",
			 mine, row[1] != NULL ? row[1] : "", row[2] != NULL ? row[2] : "?");
		taken = 1;
	}
	mysql_free_result(res);
	return taken;
}

/*
 * The master ended the dump because another replica has the same server_id
 * (MariaDB's ER_SLAVE_SAME_ID 4052; MySQL says so in a 1236): the other
 * one reconnected and the master dropped this one, or the reverse.
 */
static bool same_server_id(const struct replica_end *end)
{
	return end->err_code == 4052 || strstr(end->message, "same server_uuid/server_id") != NULL;
}

static void name_clash(struct replica *r, struct replica_end *end)
{
	char said[sizeof(end->message)];

	snprintf(said, sizeof(said), "%s", end->message);
	snprintf(end->message, sizeof(end->message),
		 "ringwatchd's server_id %u is that of another replica of this master (%.200s): "
		 "each connection ends the other's; set another [ringwatchd] server_id (not "
		 "retrying until the configuration changes)",
		 r->args.replica_server_id, said);
	end->clash = true;
}

static int hello(struct replica *r, MYSQL *m, struct replica_end *end)
{
	struct replica_hello h;
	char id[32];

	memset(&h, 0, sizeof(h));
	if (mysql_conn_value(m, "SELECT @@server_id", id, sizeof(id)) != 0 ||
	    mysql_conn_value(m, "SELECT @@version", h.version, sizeof(h.version)) != 0 ||
	    mysql_conn_value(m, "SELECT @@global.binlog_checksum", h.binlog_checksum,
			     sizeof(h.binlog_checksum)) != 0) {
		end->err_code = mysql_errno(m);
		snprintf(end->message, sizeof(end->message), "reading server variables: %s",
			 mysql_error(m));
		return -1;
	}
	h.server_id = (uint32_t)strtoul(id, NULL, 10);
	if (server_id_taken(r, m, h.server_id, end)) {
		end->clash = true;
		return -1;
	}
	snprintf(h.tls_cipher, sizeof(h.tls_cipher), "%s",
		 mysql_get_ssl_cipher(m) != NULL ? mysql_get_ssl_cipher(m) : "");
	h.is_mariadb = strstr(h.version, "MariaDB") != NULL;
	if (mysql_conn_value(m, "SHOW BINARY LOGS", h.oldest_binlog, sizeof(h.oldest_binlog)) !=
	    0) {
		end->err_code = mysql_errno(m);
		snprintf(end->message, sizeof(end->message),
			 "SHOW BINARY LOGS: %s (is log_bin on, and does the user have "
			 "BINLOG MONITOR / REPLICATION CLIENT?)",
			 mysql_error(m));
		return -1;
	}
	return post(r, REPLICA_CONNECTED, &h, sizeof(h));
}

static int set_session(struct replica *r, MYSQL *m, struct replica_end *end)
{
	char sql[1024];
	const char *fixed[] = {
		"SET @master_binlog_checksum = @@global.binlog_checksum",
		"SET @source_binlog_checksum = @@global.binlog_checksum",
		/* 4: real GTID and ANNOTATE events, not dummies */
		"SET @mariadb_slave_capability = 4",
		"SET @slave_gtid_strict_mode = 0",
		"SET @slave_gtid_ignore_duplicates = 0",
	};

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (mysql_query(m, fixed[i]) != 0)
			goto fail;
	}
	snprintf(sql, sizeof(sql), "SET @master_heartbeat_period = %llu",
		 (unsigned long long)(r->args.heartbeat_period * 1e9));
	if (mysql_query(m, sql) != 0)
		goto fail;
	if (r->args.gtid_state != NULL) {
		char escaped[700];
		if (strlen(r->args.gtid_state) * 2 + 1 > sizeof(escaped))
			goto fail;
		mysql_real_escape_string(m, escaped, r->args.gtid_state,
					 strlen(r->args.gtid_state));
		snprintf(sql, sizeof(sql), "SET @slave_connect_state = '%s'", escaped);
		if (mysql_query(m, sql) != 0)
			goto fail;
	}
	return 0;
fail:
	end->err_code = mysql_errno(m);
	snprintf(end->message, sizeof(end->message), "setting up the replica session: %s",
		 mysql_error(m));
	return -1;
}

static int start_dump(struct replica *r, MYSQL *m, MARIADB_RPL **rplp, struct replica_end *end)
{
	MARIADB_RPL *rpl = mariadb_rpl_init(m);

	*rplp = rpl;
	if (rpl == NULL) {
		snprintf(end->message, sizeof(end->message), "mariadb_rpl_init failed");
		return -1;
	}
	mariadb_rpl_optionsv(rpl, MARIADB_RPL_SERVER_ID, (unsigned)r->args.replica_server_id);
	mariadb_rpl_optionsv(rpl, MARIADB_RPL_START, (unsigned long)r->args.offset);
	mariadb_rpl_optionsv(rpl, MARIADB_RPL_FILENAME, r->args.file, strlen(r->args.file));
	mariadb_rpl_optionsv(rpl, MARIADB_RPL_FLAGS, 0U);
	if (mariadb_rpl_open(rpl) != 0) {
		end->err_code = mysql_errno(m);
		snprintf(end->message, sizeof(end->message), "starting the binlog dump: %s",
			 mysql_error(m));
		return -1;
	}
	return 0;
}

/* Read packets until the connection ends; fills end. */
static void pump(struct replica *r, MYSQL *m, struct replica_end *end)
{
	for (;;) {
		unsigned long len = mysql_net_read_packet(m);
		const uint8_t *p;

		if (atomic_load(&r->stop))
			return;
		if (len == (unsigned long)-1 || len == 0xffffffffUL) {
			end->err_code = mysql_errno(m);
			snprintf(end->message, sizeof(end->message), "reading the binlog: %s",
				 mysql_error(m));
			return;
		}
		p = m->net.read_pos;
		if (len < 9 && p[0] == 0xFE) {
			snprintf(end->message, sizeof(end->message), "the master ended the dump");
			return;
		}
		if (len < 2 || p[0] != 0x00) {
			snprintf(end->message, sizeof(end->message),
				 "unexpected packet (%lu bytes, first byte 0x%02x)", len, p[0]);
			return;
		}
		add_to_batch(r, p + 1, len - 1);
		if (rw_buf_failed(&r->batch.buf)) {
			snprintf(end->message, sizeof(end->message), "out of memory");
			return;
		}
		/* the rest of a transaction is taken if it is there or comes at once; the
		 * event that ends one goes now, even if more bytes wait (they may be part
		 * of a packet, or with TLS no event at all) */
		if (r->batch.event_bytes < BATCH_BYTES && r->batch.buf.len < LETTER_BYTES &&
		    r->batch.events < BATCH_EVENTS && inside_transaction(p + 1, len - 1) &&
		    (more_ready(m) || wait_for_rest(m)))
			continue;
		if (flush_batch(r) != 0)
			return; /* mailbox closed: the daemon is stopping */
	}
}

static void *replica_main(void *arg)
{
	struct replica *r = arg;
	struct replica_end end;
	MARIADB_RPL *rpl = NULL;
	MYSQL *m;

	memset(&end, 0, sizeof(end));
	mysql_thread_init();
	m = mysql_init(NULL);
	if (m == NULL) {
		snprintf(end.message, sizeof(end.message), "out of memory");
		goto out;
	}
	set_options(r, m);
	if (!mysql_conn_connect(m, &r->target)) {
		end.err_code = mysql_errno(m);
		snprintf(end.message, sizeof(end.message), "connecting: %s", mysql_error(m));
		goto out;
	}
	if (mysql_conn_tls_refusal(m, r->target.ssl_mode) != NULL) {
		end.err_code = MYSQL_CONN_TLS_ERROR;
		snprintf(end.message, sizeof(end.message), "connecting: %s",
			 mysql_conn_tls_refusal(m, r->target.ssl_mode));
		goto out;
	}
	pthread_mutex_lock(&r->fd_lock);
	r->fd = (int)mysql_get_socket(m);
	pthread_mutex_unlock(&r->fd_lock);
	if (atomic_load(&r->stop) || hello(r, m, &end) != 0 || set_session(r, m, &end) != 0)
		goto out;
	end.connected = true;
	if (start_dump(r, m, &rpl, &end) != 0)
		goto out;
	pump(r, m, &end);
	(void)flush_batch(r); /* what was read whole before the end goes too */
out:
	pthread_mutex_lock(&r->fd_lock);
	r->fd = -1;
	pthread_mutex_unlock(&r->fd_lock);
	if (rpl != NULL)
		mariadb_rpl_close(rpl);
	if (m != NULL)
		mysql_close(m);
	end.stopped = atomic_load(&r->stop);
	if (end.stopped)
		snprintf(end.message, sizeof(end.message), "stopped");
	else if (!end.clash && same_server_id(&end))
		name_clash(r, &end);
	post(r, REPLICA_ENDED, &end, sizeof(end));
	mysql_thread_end();
	return NULL;
}

static char *dup_or_null(const char *s)
{
	return s == NULL ? NULL : strdup(s);
}

static void replica_free(struct replica *r)
{
	free(r->args.gtid_state);
	free(r->args.file);
	rw_buf_free(&r->batch.buf);
	binlog_reader_free(r->pd.reader);
	schema_db_free(r->pd.shapes);
	schema_db_free(r->pd.next);
	pthread_mutex_destroy(&r->pd.lock);
	mysql_conn_target_clear(&r->target);
	pthread_mutex_destroy(&r->fd_lock);
	free(r);
}

struct replica *replica_start(const struct config_master *m, const struct replica_args *args,
			      struct mailbox *mb, char *err, size_t errlen)
{
	struct replica *r = calloc(1, sizeof(*r));
	int rc;

	if (r == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&r->fd_lock, NULL);
	pthread_mutex_init(&r->pd.lock, NULL);
	r->pd.reader = binlog_reader_new(BINLOG_READER_STREAM);
	binlog_trx_init(&r->pd.trx);
	r->pd.max_rows = args->max_rows;
	r->pd.idle = IDLE_LETTERS; /* none until the loop is behind */
	r->fd = -1;
	r->mb = mb;
	r->args = *args;
	r->args.gtid_state = dup_or_null(args->gtid_state);
	r->args.file = strdup(args->file != NULL ? args->file : "");
	if (mysql_conn_target_copy(&r->target, m) != 0 || r->args.file == NULL) {
		snprintf(err, errlen, "out of memory");
		replica_free(r);
		return NULL;
	}
	rc = pthread_create(&r->thread, NULL, replica_main, r);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start a thread: %s", strerror(rc));
		replica_free(r);
		return NULL;
	}
	return r;
}

void replica_stop(struct replica *r)
{
	atomic_store(&r->stop, true);
	pthread_mutex_lock(&r->fd_lock);
	if (r->fd >= 0)
		shutdown(r->fd, SHUT_RDWR);
	pthread_mutex_unlock(&r->fd_lock);
}

void replica_join(struct replica *r)
{
	pthread_join(r->thread, NULL);
	replica_free(r);
}
