/*
 * verify_worker.c - a verification job's thread (see verify_worker.h and
 * doc/verify.md): the tables read chunk by chunk on every master in
 * consistent snapshots, the loop asked before each chunk and about the
 * writes its streams showed, the rows of a different chunk found.
 */
#include "verify_worker.h"

#include "clock.h"
#include "config.h"
#include "mysql_conn.h"
#include "probe.h"
#include "verify_key.h"

#include "ringwatch/rw_buf.h"
#include "ringwatch/verify.h"

#include <errno.h>
#include <inttypes.h>
#include <mysql.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#define MAX_PK        VERIFY_KEY_MAX
#define MAX_DIFF_ROWS 1000 /* rows of one chunk reported at most */
#define RETRY_TRIES   5    /* an unsure chunk is read again at most this often */
#define FAIL_MAX      10   /* failures in a row before a table is given up */
#define CONNECT_TO    5
#define READ_TO       600
#define FIRST_ROWS    1000

struct conn {
	MYSQL *h;
	bool mariadb;
	uint32_t version;
};

struct retry {
	struct verify_key lo, hi;
	int tries;
	double due;
};

struct table {
	char *schema, *table;
	char **cols;
	enum verify_kind *kind;
	size_t n_cols;
	size_t pk[MAX_PK];
	size_t n_pk;
	struct verify_key_shape shape; /* the key columns' kinds */
	verify_table vt;
	struct retry *retries;
	size_t n_retries;
	uint64_t not_verified;
};

struct verify_worker {
	pthread_t thread;
	struct mailbox *mb;
	atomic_bool stop;
	pthread_mutex_t lock; /* asked, answered, answer, fds */
	pthread_cond_t cond;
	uint64_t asked, answered;
	json_t *answer;
	int *fds;

	struct mysql_conn_target *targets;
	char **names;
	size_t n;
	struct conn *c;
	json_t *job;
	double chunk_time;
	unsigned max_load;
	uint64_t fixed_rows; /* --chunk-rows; 0: adaptive */
	uint64_t rows;       /* the next chunk's size */
	double rate;         /* rows per second, for the next size */
	double t_from;       /* the window's start, from the last go-ahead */
	char err[512];
};

/* ---- letters -------------------------------------------------------------------- */

static int post(struct verify_worker *w, int type, uint64_t seq, json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT);
	size_t len = text != NULL ? strlen(text) : 2;
	struct verify_letter *l = calloc(1, sizeof(*l) + len + 1);

	json_decref(j);
	if (l == NULL) {
		free(text);
		return -1;
	}
	l->hdr.kind = VERIFY_LETTER;
	l->hdr.size = sizeof(*l) + len + 1;
	l->type = type;
	l->seq = seq;
	memcpy(l->json, text != NULL ? text : "{}", len + 1);
	free(text);
	return mailbox_post(w->mb, &l->hdr);
}

/* A question to the loop; its answer (new reference), or NULL when stopping. */
static json_t *ask(struct verify_worker *w, int type, json_t *j)
{
	json_t *a = NULL;
	uint64_t seq;

	pthread_mutex_lock(&w->lock);
	seq = ++w->asked;
	pthread_mutex_unlock(&w->lock);
	if (post(w, type, seq, j) != 0)
		return NULL;
	pthread_mutex_lock(&w->lock);
	while (w->answered < seq && !atomic_load(&w->stop))
		pthread_cond_wait(&w->cond, &w->lock);
	if (w->answered == seq) {
		a = w->answer;
		w->answer = NULL;
	}
	pthread_mutex_unlock(&w->lock);
	return a;
}

void verify_worker_answer(struct verify_worker *w, uint64_t seq, json_t *answer)
{
	pthread_mutex_lock(&w->lock);
	json_decref(w->answer);
	w->answer = answer;
	w->answered = seq;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static bool stopping(struct verify_worker *w)
{
	return atomic_load(&w->stop);
}

/* Sleep s seconds, or until stopped. */
static void nap(struct verify_worker *w, double s)
{
	struct timespec ts;
	double t;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	t = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + s;
	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	pthread_mutex_lock(&w->lock);
	while (!atomic_load(&w->stop) && pthread_cond_timedwait(&w->cond, &w->lock, &ts) == 0)
		;
	pthread_mutex_unlock(&w->lock);
}

/* ---- connections ---------------------------------------------------------------- */

static void conn_close(struct verify_worker *w, size_t i)
{
	if (w->c[i].h == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->fds[i] = -1;
	pthread_mutex_unlock(&w->lock);
	mysql_close(w->c[i].h);
	w->c[i].h = NULL;
}

static int fail(struct verify_worker *w, size_t i, const char *doing)
{
	snprintf(w->err, sizeof(w->err), "%s: %s: %s", w->names[i], doing,
		 w->c[i].h != NULL ? mysql_error(w->c[i].h) : "not connected");
	if (w->c[i].h != NULL && mysql_conn_error_is_fatal(mysql_errno(w->c[i].h)))
		conn_close(w, i);
	return -1;
}

static int exec(struct verify_worker *w, size_t i, const char *sql)
{
	MYSQL_RES *res;

	if (w->c[i].h == NULL || mysql_query(w->c[i].h, sql) != 0)
		return fail(w, i, sql);
	res = mysql_store_result(w->c[i].h);
	mysql_free_result(res);
	return 0;
}

static int conn_open(struct verify_worker *w, size_t i)
{
	static const char *const session[] = {
		"SET SESSION time_zone = '+00:00'",
		"SET SESSION lock_wait_timeout = 5",
		"SET SESSION innodb_lock_wait_timeout = 5",
		"SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
	};
	char version[96];
	MYSQL *h = mysql_init(NULL);

	if (h == NULL) {
		snprintf(w->err, sizeof(w->err), "out of memory");
		return -1;
	}
	mysql_conn_set_options(h, &w->targets[i], CONNECT_TO, READ_TO, READ_TO);
	w->c[i].h = h;
	if (!mysql_conn_connect(h, &w->targets[i]))
		return fail(w, i, "connecting"), conn_close(w, i), -1;
	if (mysql_conn_tls_refusal(h, w->targets[i].ssl_mode) != NULL) {
		snprintf(w->err, sizeof(w->err), "%s: %s", w->names[i],
			 mysql_conn_tls_refusal(h, w->targets[i].ssl_mode));
		conn_close(w, i);
		return -1;
	}
	pthread_mutex_lock(&w->lock);
	w->fds[i] = (int)mysql_get_socket(h);
	pthread_mutex_unlock(&w->lock);
	if (mysql_conn_value(h, "SELECT @@version", version, sizeof(version)) != 0)
		return fail(w, i, "SELECT @@version"), conn_close(w, i), -1;
	w->c[i].mariadb = probe_is_mariadb(version);
	w->c[i].version = probe_version_number(version);
	for (size_t k = 0; k < sizeof(session) / sizeof(session[0]); k++)
		if (exec(w, i, session[k]) != 0)
			return conn_close(w, i), -1;
	return 0;
}

static int conns_ready(struct verify_worker *w)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->c[i].h == NULL && conn_open(w, i) != 0)
			return -1;
	return 0;
}

/* The first row of a query's answer into row (copied, n columns): 0, 1 no row, -1. */
static int query_row(struct verify_worker *w, size_t i, const char *sql, char **row, size_t *len,
		     size_t n)
{
	MYSQL_RES *res;
	MYSQL_ROW r;
	int rc = 1;

	if (w->c[i].h == NULL || mysql_query(w->c[i].h, sql) != 0 ||
	    (res = mysql_store_result(w->c[i].h)) == NULL)
		return fail(w, i, "query");
	if ((r = mysql_fetch_row(res)) != NULL && mysql_num_fields(res) >= n) {
		unsigned long *l = mysql_fetch_lengths(res);
		for (size_t k = 0; k < n; k++) {
			row[k] = r[k] != NULL ? strndup(r[k], l[k]) : NULL;
			len[k] = r[k] != NULL ? l[k] : 0;
		}
		rc = 0;
	}
	mysql_free_result(res);
	return rc;
}

/* The connection that escapes literals (any works: all use utf8mb4). */
static MYSQL *escaper(const struct verify_worker *w)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->c[i].h != NULL)
			return w->c[i].h;
	return NULL;
}

/* ---- tables --------------------------------------------------------------------- */

static void table_clear(struct table *t)
{
	for (size_t i = 0; i < t->n_cols; i++)
		free(t->cols[i]);
	for (size_t i = 0; i < t->n_retries; i++) {
		verify_key_clear(&t->retries[i].lo);
		verify_key_clear(&t->retries[i].hi);
	}
	free(t->retries);
	free(t->cols);
	free(t->kind);
	free(t->schema);
	free(t->table);
	memset(t, 0, sizeof(*t));
}

static void quote_into(struct verify_worker *w, rw_buf *b, const char *s)
{
	char *o = malloc(2 * strlen(s) + 1);

	if (o == NULL) {
		b->failed = 1;
		return;
	}
	mysql_real_escape_string(w->c[0].h, o, s, (unsigned long)strlen(s));
	rw_buf_printf(b, "'%s'", o);
	free(o);
}

/*
 * The key to read a table by, from the rows of its unique indexes' columns
 * (index, column, nullable; the primary key first): the first index whose
 * columns are all NOT NULL, into t's pk when t is not NULL.  sig gets every
 * row, to compare the masters' keys.
 */
static void pick_key(MYSQL_RES *res, rw_buf *sig, struct table *t)
{
	char name[200] = "";
	bool done = false, bad = false;
	size_t cols[MAX_PK], n = 0;
	MYSQL_ROW r;

	while ((r = mysql_fetch_row(res)) != NULL) {
		size_t c = 0;

		rw_buf_printf(sig, "%s.%s.%s,", r[0], r[1], r[2]);
		if (done)
			continue;
		if (strcmp(name, r[0]) != 0) { /* a new index: the one before ends */
			if (name[0] != '\0' && !bad && n > 0) {
				done = true;
				continue;
			}
			snprintf(name, sizeof(name), "%s", r[0]);
			bad = false;
			n = 0;
		}
		while (t != NULL && c < t->n_cols && strcmp(t->cols[c], r[1]) != 0)
			c++;
		bad =
		    bad || strcmp(r[2], "YES") == 0 || n == MAX_PK || (t != NULL && c == t->n_cols);
		if (!bad)
			cols[n++] = c;
	}
	done = done || (name[0] != '\0' && !bad && n > 0);
	if (done && t != NULL) {
		memcpy(t->pk, cols, n * sizeof(*cols));
		t->n_pk = n;
	}
}

/*
 * One master's columns and key of schema.table as text ("name type charset|"
 * each, then "PK:a,b"); 0, 1 when the table is not there, -1 on error.
 */
static int table_shape(struct verify_worker *w, size_t i, const char *schema, const char *table,
		       rw_buf *sig, struct table *t)
{
	rw_buf q = RW_BUF_INIT;
	MYSQL_RES *res;
	MYSQL_ROW r;
	int rc = 1;

	rw_buf_puts(&q, "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, CHARACTER_SET_NAME FROM "
			"information_schema.COLUMNS WHERE TABLE_SCHEMA = ");
	quote_into(w, &q, schema);
	rw_buf_puts(&q, " AND TABLE_NAME = ");
	quote_into(w, &q, table);
	rw_buf_puts(&q, " ORDER BY ORDINAL_POSITION");
	if (rw_buf_failed(&q) || mysql_query(w->c[i].h, q.p) != 0 ||
	    (res = mysql_store_result(w->c[i].h)) == NULL) {
		rw_buf_free(&q);
		return fail(w, i, "reading information_schema.COLUMNS");
	}
	while ((r = mysql_fetch_row(res)) != NULL) {
		rc = 0;
		rw_buf_printf(sig, "%s %s %s|", r[0], r[2], r[3] != NULL ? r[3] : "-");
		if (t != NULL) {
			enum verify_kind *k = realloc(t->kind, (t->n_cols + 1) * sizeof(*k));
			char **c;
			if (k == NULL)
				continue;
			t->kind = k;
			c = realloc(t->cols, (t->n_cols + 1) * sizeof(*c));
			if (c == NULL)
				continue;
			t->cols = c;
			t->cols[t->n_cols] = strdup(r[0]);
			t->kind[t->n_cols] = verify_kind_of(r[1], r[2], r[3]);
			t->n_cols++;
		}
	}
	mysql_free_result(res);
	rw_buf_reset(&q);
	/* the primary key, else the first UNIQUE key without a nullable column */
	rw_buf_puts(&q,
		    "SELECT s.INDEX_NAME, s.COLUMN_NAME, c.IS_NULLABLE FROM "
		    "information_schema.STATISTICS s JOIN information_schema.COLUMNS c ON "
		    "c.TABLE_SCHEMA = s.TABLE_SCHEMA AND c.TABLE_NAME = s.TABLE_NAME AND "
		    "c.COLUMN_NAME = s.COLUMN_NAME WHERE s.NON_UNIQUE = 0 AND s.TABLE_SCHEMA = ");
	quote_into(w, &q, schema);
	rw_buf_puts(&q, " AND s.TABLE_NAME = ");
	quote_into(w, &q, table);
	rw_buf_puts(&q, " ORDER BY s.INDEX_NAME != 'PRIMARY', s.INDEX_NAME, s.SEQ_IN_INDEX");
	if (rw_buf_failed(&q) || mysql_query(w->c[i].h, q.p) != 0 ||
	    (res = mysql_store_result(w->c[i].h)) == NULL) {
		rw_buf_free(&q);
		return fail(w, i, "reading information_schema.STATISTICS");
	}
	pick_key(res, sig, t);
	mysql_free_result(res);
	rw_buf_free(&q);
	return rc;
}

/* The table's shape on every master: 0, or 1 with why it is skipped in reason, -1 error. */
static int table_load(struct verify_worker *w, const char *schema, const char *table,
		      struct table *t, char *reason, size_t len)
{
	rw_buf first = RW_BUF_INIT, other = RW_BUF_INIT;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	t->schema = strdup(schema);
	t->table = strdup(table);
	for (size_t i = 0; i < w->n && rc == 0; i++) {
		rw_buf *sig = i == 0 ? &first : &other;
		int got;
		rw_buf_reset(&other);
		got = table_shape(w, i, schema, table, sig, i == 0 ? t : NULL);
		if (got < 0) {
			rc = -1;
		} else if (got == 1) {
			snprintf(reason, len, "not on %s", w->names[i]);
			rc = 1;
		} else if (i > 0 &&
			   (first.len != other.len || memcmp(first.p, other.p, first.len))) {
			snprintf(reason, len, "its columns or primary key differ between %s and %s",
				 w->names[0], w->names[i]);
			rc = 1;
		}
	}
	if (rc == 0 && t->n_pk == 0) {
		snprintf(reason, len, "no primary key and no UNIQUE key of NOT NULL columns");
		rc = 1;
	}
	rw_buf_free(&first);
	rw_buf_free(&other);
	t->shape.n = t->n_pk;
	for (size_t k = 0; k < t->n_pk; k++)
		t->shape.kind[k] = t->kind[t->pk[k]];
	t->vt =
	    (verify_table){ t->schema, t->table, (const char *const *)t->cols, t->kind, t->n_cols,
			    t->pk,     t->n_pk };
	return rc;
}

/* ---- the throttle --------------------------------------------------------------- */

/* Threads_running of the busiest master, the verifier's own thread not counted. */
static int load_of(struct verify_worker *w, unsigned *worst, size_t *at)
{
	*worst = 0;
	for (size_t i = 0; i < w->n; i++) {
		char *row[2] = { NULL, NULL };
		size_t len[2];
		unsigned v;
		if (query_row(w, i, "SHOW GLOBAL STATUS LIKE 'Threads_running'", row, len, 2) != 0)
			return -1;
		v = row[1] != NULL ? (unsigned)strtoul(row[1], NULL, 10) : 0;
		v = v > 0 ? v - 1 : 0;
		if (v > *worst)
			*worst = v, *at = i;
		free(row[0]);
		free(row[1]);
	}
	return 0;
}

/*
 * Wait until the loop says go (gate checks) and the masters' load allows;
 * sets w->t_from.  false when stopping.
 */
static bool throttle(struct verify_worker *w)
{
	bool said = false;

	while (!stopping(w)) {
		json_t *a;
		char reason[600] = "";
		unsigned load;
		size_t at = 0;

		if (conns_ready(w) != 0) {
			snprintf(reason, sizeof(reason), "%s", w->err);
		} else if ((a = ask(w, VL_ASK_GO, json_object())) == NULL) {
			return false;
		} else {
			bool go = json_is_true(json_object_get(a, "go"));
			snprintf(reason, sizeof(reason), "%s",
				 go ? "" : json_string_value(json_object_get(a, "reason")));
			w->t_from = json_real_value(json_object_get(a, "t0")) -
				    json_real_value(json_object_get(a, "margin"));
			json_decref(a);
			if (go && load_of(w, &load, &at) != 0)
				snprintf(reason, sizeof(reason), "%s", w->err);
			else if (go && load > w->max_load)
				snprintf(reason, sizeof(reason),
					 "%s: Threads_running %u is over max_load %u", w->names[at],
					 load, w->max_load);
		}
		if (reason[0] == '\0') {
			if (said)
				post(w, VL_PAUSE, 0, json_pack("{s:s}", "reason", ""));
			return true;
		}
		post(w, VL_PAUSE, 0, json_pack("{s:s}", "reason", reason));
		said = true;
		for (size_t i = 0; i < w->n; i++) /* a lost connection is opened again */
			if (w->c[i].h != NULL && mysql_ping(w->c[i].h) != 0)
				conn_close(w, i);
		nap(w, 1.0);
	}
	return false;
}

/* ---- snapshots ------------------------------------------------------------------ */

struct snap {
	char file[16][256];
	uint64_t pos[16];
};

/* Where master i's snapshot is in its binlog (at or after it on MySQL). */
static int snap_position(struct verify_worker *w, size_t i, struct snap *s)
{
	bool maria = w->c[i].mariadb;
	const char *sql = maria ? "SHOW STATUS LIKE 'binlog_snapshot_%'"
				: probe_binlog_status_query(false, w->c[i].version);
	MYSQL_RES *res;
	MYSQL_ROW r;
	bool file = false, pos = false;

	if (mysql_query(w->c[i].h, sql) != 0 || (res = mysql_store_result(w->c[i].h)) == NULL)
		return fail(w, i, sql);
	while ((r = mysql_fetch_row(res)) != NULL && mysql_num_fields(res) >= 2) {
		/* MariaDB: rows (name, value); MySQL: one row (File, Position, ...) */
		const char *f =
		    maria ? (r[0] != NULL && strcasecmp(r[0], "binlog_snapshot_file") == 0 ? r[1]
											   : NULL)
			  : r[0];
		const char *p =
		    maria
			? (r[0] != NULL && strcasecmp(r[0], "binlog_snapshot_position") == 0 ? r[1]
											     : NULL)
			: r[1];
		if (f != NULL && f[0] != '\0') {
			snprintf(s->file[i], sizeof(s->file[i]), "%s", f);
			file = true;
		}
		if (p != NULL) {
			s->pos[i] = strtoull(p, NULL, 10);
			pos = true;
		}
	}
	mysql_free_result(res);
	if (!file || !pos) {
		snprintf(w->err, sizeof(w->err),
			 "%s: the snapshot's binlog position is not known (binary logging off?)",
			 w->names[i]);
		return -1;
	}
	return 0;
}

static int snap_begin(struct verify_worker *w, struct snap *s)
{
	for (size_t i = 0; i < w->n; i++)
		if (exec(w, i, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY") != 0 ||
		    snap_position(w, i, s) != 0)
			return -1;
	return 0;
}

static void snap_end(struct verify_worker *w)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->c[i].h != NULL)
			(void)exec(w, i, "COMMIT");
}

/*
 * Did a stream show a change to a key of (lo, hi] (point: to lo itself)
 * between the go-ahead and every stream passing the snapshots?  true when
 * it did or the loop cannot tell.
 */
static bool touched(struct verify_worker *w, const struct table *t, const struct snap *s,
		    const struct verify_key *lo, const struct verify_key *hi, bool point)
{
	json_t *q = json_pack("{s:s,s:s,s:f,s:b}", "schema", t->schema, "table", t->table, "from",
			      w->t_from, "point", point);
	json_t *pos = json_array(), *ord = json_array(), *a;
	rw_buf b = RW_BUF_INIT;
	bool whole = false, yes;

	for (size_t i = 0; i < w->n; i++)
		json_array_append_new(
		    pos, json_pack("{s:s,s:I}", "file", s->file[i], "pos", (json_int_t)s->pos[i]));
	for (size_t k = 0; k < t->n_pk; k++)
		json_array_append_new(ord, json_boolean(verify_kind_ordered(t->kind[t->pk[k]])));
	json_object_set_new(q, "positions", pos);
	json_object_set_new(q, "ordered", ord);
	if (lo != NULL && lo->set) {
		whole = whole || !verify_key_bytes(&t->shape, lo, &b);
		json_object_set_new(q, "lo", verify_hex_json(b.p, b.len));
	}
	rw_buf_reset(&b);
	if (hi != NULL && hi->set) {
		whole = whole || !verify_key_bytes(&t->shape, hi, &b);
		json_object_set_new(q, "hi", verify_hex_json(b.p, b.len));
	}
	rw_buf_free(&b);
	json_object_set_new(q, "whole", json_boolean(whole));
	a = ask(w, VL_ASK_WINDOW, q);
	yes = a == NULL || !json_is_false(json_object_get(a, "touched"));
	json_decref(a);
	return yes;
}

/* ---- a chunk -------------------------------------------------------------------- */

static void range_of(struct verify_worker *w, const struct table *t, const struct verify_key *lo,
		     const struct verify_key *hi, char **lo_l, char **hi_l, verify_range *r)
{
	r->lo = NULL;
	r->hi = NULL;
	if (lo->set) {
		verify_key_literals(escaper(w), &t->shape, lo, lo_l);
		r->lo = (const char *const *)lo_l;
	}
	if (hi->set) {
		verify_key_literals(escaper(w), &t->shape, hi, hi_l);
		r->hi = (const char *const *)hi_l;
	}
}

/* Send sql to every master at once and read each one's first row (2 columns). */
static int all_checksums(struct verify_worker *w, const char *sql, uint64_t *count, uint64_t *sum,
			 double *slowest)
{
	double t0 = clock_mono();
	int rc = 0;

	for (size_t i = 0; i < w->n; i++)
		if (mysql_send_query(w->c[i].h, sql, (unsigned long)strlen(sql)) != 0)
			return fail(w, i, "sending the chunk's checksum");
	for (size_t i = 0; i < w->n; i++) {
		MYSQL_RES *res = NULL;
		MYSQL_ROW r;
		if (mysql_read_query_result(w->c[i].h) != 0 ||
		    (res = mysql_store_result(w->c[i].h)) == NULL ||
		    (r = mysql_fetch_row(res)) == NULL || r[0] == NULL || r[1] == NULL) {
			rc = rc != 0 ? rc : fail(w, i, "reading the chunk's checksum");
		} else {
			count[i] = strtoull(r[0], NULL, 10);
			sum[i] = strtoull(r[1], NULL, 10);
		}
		mysql_free_result(res);
		if (clock_mono() - t0 > *slowest)
			*slowest = clock_mono() - t0;
	}
	return rc;
}

/* One master's rows of a range: keys (their text, counted) and checksums. */
struct rowlist {
	rw_buf keys;
	size_t *off;
	verify_row *rows;
	size_t n, cap;
};

static int read_rows(struct verify_worker *w, size_t i, const struct table *t, const char *sql,
		     struct rowlist *l)
{
	MYSQL_RES *res;
	MYSQL_ROW r;

	if (mysql_query(w->c[i].h, sql) != 0 || (res = mysql_use_result(w->c[i].h)) == NULL)
		return fail(w, i, "reading a chunk's rows");
	while ((r = mysql_fetch_row(res)) != NULL) {
		unsigned long *len = mysql_fetch_lengths(res);
		if (l->n == l->cap) {
			size_t cap = l->cap > 0 ? 2 * l->cap : 1024;
			verify_row *rows = realloc(l->rows, cap * sizeof(*rows));
			size_t *off;
			if (rows == NULL)
				break;
			l->rows = rows;
			off = realloc(l->off, cap * sizeof(*off));
			if (off == NULL)
				break;
			l->off = off;
			l->cap = cap;
		}
		l->off[l->n] = l->keys.len;
		for (size_t k = 0; k < t->n_pk; k++) {
			uint8_t n4[4] = { (uint8_t)(len[k] >> 24), (uint8_t)(len[k] >> 16),
					  (uint8_t)(len[k] >> 8), (uint8_t)len[k] };
			rw_buf_put(&l->keys, n4, 4);
			rw_buf_put(&l->keys, r[k], len[k]);
		}
		l->rows[l->n].len = l->keys.len - l->off[l->n];
		l->rows[l->n].crc = r[t->n_pk] != NULL ? strtoull(r[t->n_pk], NULL, 10) : 0;
		l->n++;
	}
	mysql_free_result(res);
	if (mysql_errno(w->c[i].h) != 0)
		return fail(w, i, "reading a chunk's rows");
	for (size_t k = 0; k < l->n; k++)
		l->rows[k].key = (const uint8_t *)l->keys.p + l->off[k];
	return rw_buf_failed(&l->keys) ? -1 : 0;
}

static void rowlist_free(struct rowlist *l)
{
	rw_buf_free(&l->keys);
	free(l->off);
	free(l->rows);
	memset(l, 0, sizeof(*l));
}

struct diffkeys {
	struct verify_key *k;
	size_t n;
	const struct table *t;
};

/* A differing key (from its counted text) into the list, once. */
static void on_diff(const verify_row *a, const verify_row *b, void *arg)
{
	struct diffkeys *d = arg;
	const verify_row *r = a != NULL ? a : b;
	const uint8_t *p = r->key;
	struct verify_key k;

	if (d->n >= MAX_DIFF_ROWS)
		return;
	memset(&k, 0, sizeof(k));
	for (size_t i = 0; i < d->t->n_pk; i++) {
		size_t len = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
		k.v[i] = malloc(len + 1);
		if (k.v[i] != NULL) {
			memcpy(k.v[i], p + 4, len);
			k.v[i][len] = '\0';
		}
		k.len[i] = len;
		p += 4 + len;
	}
	k.set = true;
	for (size_t i = 0; i < d->n; i++) {
		bool same = true;
		for (size_t c = 0; c < d->t->n_pk && same; c++)
			same = d->k[i].len[c] == k.len[c] &&
			       memcmp(d->k[i].v[c], k.v[c], k.len[c]) == 0;
		if (same) {
			verify_key_clear(&k);
			return;
		}
	}
	d->k[d->n++] = k;
}

/* One master's row of key as JSON (null: none). */
static int read_row(struct verify_worker *w, size_t i, const struct table *t, const char *sql,
		    json_t **row)
{
	MYSQL_RES *res;
	MYSQL_ROW r;

	*row = json_null();
	if (mysql_query(w->c[i].h, sql) != 0 || (res = mysql_store_result(w->c[i].h)) == NULL)
		return fail(w, i, "reading a row");
	if ((r = mysql_fetch_row(res)) != NULL) {
		unsigned long *len = mysql_fetch_lengths(res);
		*row = json_object();
		for (size_t c = 0; c < t->n_cols; c++)
			json_object_set_new(*row, t->cols[c],
					    verify_value_json(t->kind[c], r[c], len[c]));
	}
	mysql_free_result(res);
	return 0;
}

/* The rows of every master for the keys (in the open snapshots): finals[k] = {master: row}. */
static int read_finals(struct verify_worker *w, const struct table *t, const struct diffkeys *d,
		       json_t **finals)
{
	for (size_t k = 0; k < d->n; k++) {
		char *lits[MAX_PK];
		rw_buf sql = RW_BUF_INIT;
		int rc = 0;

		verify_key_literals(escaper(w), &t->shape, &d->k[k], lits);
		verify_sql_row(&sql, &t->vt, (const char *const *)lits);
		verify_key_literals_free(lits, t->n_pk);
		finals[k] = json_object();
		for (size_t i = 0; i < w->n && rc == 0; i++) {
			json_t *row;
			rc = read_row(w, i, t, sql.p, &row);
			json_object_set_new(finals[k], w->names[i], row);
		}
		rw_buf_free(&sql);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* The key of a row as the records show it: {"id": 7}. */
static json_t *key_object(const struct table *t, const struct verify_key *k)
{
	json_t *o = json_object();

	for (size_t i = 0; i < t->n_pk; i++)
		json_object_set_new(o, t->cols[t->pk[i]],
				    verify_value_json(t->kind[t->pk[i]], k->v[i], k->len[i]));
	return o;
}

static void post_records(struct verify_worker *w, const struct table *t, const struct diffkeys *d,
			 json_t **finals)
{
	for (size_t k = 0; k < d->n; k++) {
		rw_buf hex = RW_BUF_INIT;
		json_t *kh;

		rw_buf_put(&hex, t->schema, strlen(t->schema) + 1);
		rw_buf_put(&hex, t->table, strlen(t->table) + 1);
		kh = verify_key_bytes(&t->shape, &d->k[k], &hex) ? verify_hex_json(hex.p, hex.len)
								 : json_string("");
		rw_buf_free(&hex);
		post(w, VL_RECORD, 0,
		     json_pack("{s:s,s:s,s:o,s:o,s:O}", "schema", t->schema, "table", t->table,
			       "key", key_object(t, &d->k[k]), "key_hex", kh, "final", finals[k]));
	}
}

/*
 * A different chunk, row by row, in new snapshots: the rows that differ
 * become records.  0 with *unsure set when a stream touched the chunk, -1.
 */
static int chunk_rows(struct verify_worker *w, const struct table *t, const struct verify_key *lo,
		      const struct verify_key *hi, const verify_range *r, bool *unsure)
{
	struct rowlist lists[16];
	struct diffkeys d = { calloc(MAX_DIFF_ROWS, sizeof(struct verify_key)), 0, t };
	json_t **finals = calloc(MAX_DIFF_ROWS, sizeof(json_t *));
	rw_buf sql = RW_BUF_INIT;
	struct snap s;
	int rc = -1;

	memset(lists, 0, sizeof(lists));
	*unsure = true;
	if (d.k == NULL || finals == NULL || !throttle(w))
		goto out;
	verify_sql_rows(&sql, &t->vt, r);
	if (snap_begin(w, &s) != 0)
		goto end;
	for (size_t i = 0; i < w->n; i++)
		if (read_rows(w, i, t, sql.p, &lists[i]) != 0)
			goto end;
	for (size_t i = 1; i < w->n; i++)
		verify_diff(lists[0].rows, lists[0].n, lists[i].rows, lists[i].n, on_diff, &d);
	if (read_finals(w, t, &d, finals) != 0)
		goto end;
	rc = 0;
end:
	snap_end(w);
	if (rc == 0 && !(*unsure = touched(w, t, &s, lo, hi, false)))
		post_records(w, t, &d, finals);
out:
	for (size_t i = 0; i < d.n; i++) {
		verify_key_clear(&d.k[i]);
		json_decref(finals[i]);
	}
	for (size_t i = 0; i < 16; i++)
		rowlist_free(&lists[i]);
	free(d.k);
	free(finals);
	rw_buf_free(&sql);
	return rc;
}

/* One chunk (lo, hi]: its verdict into *v, its rows on the first master into *rows. */
static int chunk(struct verify_worker *w, const struct table *t, const struct verify_key *lo,
		 const struct verify_key *hi, enum verify_verdict *v, uint64_t *rows)
{
	char *lo_l[MAX_PK], *hi_l[MAX_PK];
	uint64_t count[16], sum[16];
	double slowest = 0;
	rw_buf sql = RW_BUF_INIT;
	verify_range r;
	struct snap s;
	int rc;

	range_of(w, t, lo, hi, lo_l, hi_l, &r);
	verify_sql_chunk(&sql, &t->vt, &r);
	rc = snap_begin(w, &s);
	if (rc == 0)
		rc = all_checksums(w, sql.p, count, sum, &slowest);
	snap_end(w);
	if (rc == 0) {
		*rows = count[0];
		*v = verify_chunk_verdict(w->n, count, sum, touched(w, t, &s, lo, hi, false));
		if (w->fixed_rows == 0)
			w->rows = verify_next_rows(count[0] > 0 ? count[0] : w->rows, slowest,
						   w->chunk_time, &w->rate);
	}
	if (rc == 0 && *v == VERIFY_DIFFERENT) {
		bool unsure;
		rc = chunk_rows(w, t, lo, hi, &r, &unsure);
		if (rc == 0 && unsure)
			*v = VERIFY_UNSURE;
	}
	if (lo->set)
		verify_key_literals_free(lo_l, t->n_pk);
	if (hi->set)
		verify_key_literals_free(hi_l, t->n_pk);
	rw_buf_free(&sql);
	return rc;
}

/* The key rows after lo on the first master into hi: 0, 1 none (the last chunk), -1. */
static int next_bound(struct verify_worker *w, const struct table *t, const struct verify_key *lo,
		      struct verify_key *hi)
{
	char *lits[MAX_PK];
	rw_buf sql = RW_BUF_INIT;
	int rc;

	if (lo->set)
		verify_key_literals(escaper(w), &t->shape, lo, lits);
	verify_sql_bound(&sql, &t->vt, lo->set ? (const char *const *)lits : NULL,
			 w->fixed_rows > 0 ? w->fixed_rows : w->rows);
	if (lo->set)
		verify_key_literals_free(lits, t->n_pk);
	verify_key_clear(hi);
	rc = query_row(w, 0, sql.p, hi->v, hi->len, t->n_pk);
	hi->set = rc == 0;
	rw_buf_free(&sql);
	return rc;
}

/* ---- progress ------------------------------------------------------------------- */

static json_t *retries_json(const struct table *t)
{
	json_t *a = json_array();

	for (size_t i = 0; i < t->n_retries; i++)
		json_array_append_new(
		    a, json_pack("{s:o,s:o,s:i}", "lo",
				 verify_key_hex_json(&t->shape, &t->retries[i].lo), "hi",
				 verify_key_hex_json(&t->shape, &t->retries[i].hi), "tries",
				 t->retries[i].tries));
	return a;
}

enum {
	P_CHUNK,
	P_SCANNED,
	P_DONE
};

static void progress(struct verify_worker *w, const struct table *t, const struct verify_key *last,
		     const char *verdict, uint64_t rows, int what)
{
	post(w, VL_PROGRESS, 0,
	     json_pack("{s:s,s:s,s:o,s:o,s:s?,s:I,s:b,s:b,s:I}", "schema", t->schema, "table",
		       t->table, "last", verify_key_hex_json(&t->shape, last), "retries",
		       retries_json(t), "chunk", verdict, "rows", (json_int_t)rows, "scanned",
		       what != P_CHUNK, "done", what == P_DONE, "not_verified",
		       (json_int_t)t->not_verified));
}

static void retry_add(struct table *t, const struct verify_key *lo, const struct verify_key *hi,
		      int tries)
{
	struct retry *r = realloc(t->retries, (t->n_retries + 1) * sizeof(*r));

	if (r == NULL) {
		t->not_verified++;
		return;
	}
	t->retries = r;
	r = &t->retries[t->n_retries++];
	memset(r, 0, sizeof(*r));
	verify_key_copy(&r->lo, lo, t->n_pk);
	verify_key_copy(&r->hi, hi, t->n_pk);
	r->tries = tries;
	r->due = clock_mono() + (double)(1 << (tries < 6 ? tries : 6));
}

static void retries_from_json(struct table *t, json_t *a)
{
	size_t i;
	json_t *r;

	json_array_foreach(a, i, r)
	{
		struct verify_key lo = { 0 }, hi = { 0 };
		verify_key_from_json(&t->shape, json_object_get(r, "lo"), &lo);
		verify_key_from_json(&t->shape, json_object_get(r, "hi"), &hi);
		retry_add(t, &lo, &hi, (int)json_integer_value(json_object_get(r, "tries")));
		t->retries[t->n_retries - 1].due = 0;
		verify_key_clear(&lo);
		verify_key_clear(&hi);
	}
}

/* ---- a table -------------------------------------------------------------------- */

/* Read chunk (lo, hi] until it succeeds (or the table is given up): 0, or -1. */
static int chunk_retrying(struct verify_worker *w, const struct table *t,
			  const struct verify_key *lo, const struct verify_key *hi,
			  enum verify_verdict *v, uint64_t *rows)
{
	for (int failures = 0; failures < FAIL_MAX && !stopping(w); failures++) {
		if (!throttle(w))
			return -1;
		if (chunk(w, t, lo, hi, v, rows) == 0)
			return 0;
		post(w, VL_PAUSE, 0, json_pack("{s:s}", "reason", w->err));
		nap(w, 2.0);
	}
	return -1;
}

static int first_pass(struct verify_worker *w, struct table *t, struct verify_key *lo)
{
	struct verify_key hi = { 0 };
	int rc = 0;

	while (!stopping(w)) {
		enum verify_verdict v;
		uint64_t rows = 0;
		int b;

		if (!throttle(w))
			break;
		b = next_bound(w, t, lo, &hi);
		if (b < 0) {
			rc = -1;
			break;
		}
		if (chunk_retrying(w, t, lo, &hi, &v, &rows) != 0) {
			rc = -1;
			break;
		}
		if (v == VERIFY_UNSURE)
			retry_add(t, lo, &hi, 0);
		if (b == 1) { /* the last chunk had no upper end */
			progress(w, t, lo, verify_verdict_name(v), v == VERIFY_UNSURE ? 0 : rows,
				 P_CHUNK);
			break;
		}
		verify_key_copy(lo, &hi, t->n_pk);
		progress(w, t, lo, verify_verdict_name(v), v == VERIFY_UNSURE ? 0 : rows, P_CHUNK);
	}
	verify_key_clear(&hi);
	return stopping(w) ? -1 : rc;
}

static int retry_pass(struct verify_worker *w, struct table *t, const struct verify_key *last)
{
	while (t->n_retries > 0 && !stopping(w)) {
		struct retry r = t->retries[0];
		enum verify_verdict v;
		uint64_t rows = 0;

		if (r.due > clock_mono()) {
			nap(w, r.due - clock_mono());
			continue;
		}
		memmove(t->retries, t->retries + 1, (t->n_retries - 1) * sizeof(*t->retries));
		t->n_retries--;
		if (chunk_retrying(w, t, &r.lo, &r.hi, &v, &rows) != 0) {
			retry_add(t, &r.lo, &r.hi, r.tries);
			verify_key_clear(&r.lo);
			verify_key_clear(&r.hi);
			return -1;
		}
		if (v == VERIFY_UNSURE && r.tries + 1 < RETRY_TRIES)
			retry_add(t, &r.lo, &r.hi, r.tries + 1);
		else if (v == VERIFY_UNSURE)
			t->not_verified++;
		verify_key_clear(&r.lo);
		verify_key_clear(&r.hi);
		progress(w, t, last, verify_verdict_name(v), v == VERIFY_UNSURE ? 0 : rows,
			 P_SCANNED);
	}
	return stopping(w) ? -1 : 0;
}

/* Open drift records of the table whose rows are equal again are resolved. */
static void recheck_open(struct verify_worker *w, const struct table *t)
{
	json_t *a =
	    ask(w, VL_ASK_OPEN, json_pack("{s:s,s:s}", "schema", t->schema, "table", t->table));
	json_t *list = json_object_get(a, "drift"), *rec;
	size_t i;

	json_array_foreach(list, i, rec)
	{
		json_t *key = json_object_get(rec, "key"), *rows[16] = { NULL };
		struct verify_key k = { 0 };
		struct snap s;
		bool equal = true, ok;

		k.set = true;
		for (size_t c = 0; c < t->n_pk; c++) {
			json_t *v = json_object_get(key, t->cols[t->pk[c]]);
			char *text = json_is_string(v)   ? strdup(json_string_value(v))
				     : json_is_object(v) ? NULL /* binary: not read back */
							 : json_dumps(v, JSON_ENCODE_ANY);
			if (text == NULL)
				k.set = false;
			k.v[c] = text;
			k.len[c] = text != NULL ? strlen(text) : 0;
		}
		if (!k.set) {
			verify_key_clear(&k);
			continue;
		}
		if (!throttle(w) || snap_begin(w, &s) != 0) {
			snap_end(w);
			verify_key_clear(&k);
			break;
		}
		{
			char *lits[MAX_PK];
			rw_buf sql = RW_BUF_INIT;
			verify_key_literals(escaper(w), &t->shape, &k, lits);
			verify_sql_row(&sql, &t->vt, (const char *const *)lits);
			verify_key_literals_free(lits, t->n_pk);
			ok = true;
			for (size_t m = 0; m < w->n && ok; m++)
				ok = read_row(w, m, t, sql.p, &rows[m]) == 0;
			rw_buf_free(&sql);
		}
		snap_end(w);
		for (size_t m = 1; m < w->n && ok; m++)
			equal = equal && json_equal(rows[0], rows[m]);
		if (ok && equal && !touched(w, t, &s, &k, &k, true))
			post(w, VL_RESOLVE, 0,
			     json_pack("{s:O}", "id", json_object_get(rec, "id")));
		for (size_t m = 0; m < w->n; m++)
			json_decref(rows[m]);
		verify_key_clear(&k);
	}
	json_decref(a);
}

static void one_table(struct verify_worker *w, json_t *spec)
{
	const char *schema = json_string_value(json_object_get(spec, "schema"));
	const char *name = json_string_value(json_object_get(spec, "table"));
	char reason[400];
	struct table t;
	struct verify_key lo = { 0 };
	int rc = -1;

	if (json_is_true(json_object_get(spec, "done")))
		return;
	for (int tries = 0; rc < 0 && tries < FAIL_MAX && !stopping(w); tries++) {
		if (!throttle(w))
			return;
		rc = table_load(w, schema, name, &t, reason, sizeof(reason));
		if (rc < 0) {
			table_clear(&t);
			post(w, VL_PAUSE, 0, json_pack("{s:s}", "reason", w->err));
			nap(w, 2.0);
		}
	}
	if (rc != 0) {
		post(w, VL_SKIP, 0,
		     json_pack("{s:s,s:s,s:s}", "schema", schema, "table", name, "reason",
			       rc > 0 ? reason : w->err));
		table_clear(&t);
		return;
	}
	post(w, VL_TABLE, 0, json_pack("{s:s,s:s}", "schema", schema, "table", name));
	verify_key_from_json(&t.shape, json_object_get(spec, "last"), &lo);
	retries_from_json(&t, json_object_get(spec, "retries"));
	t.not_verified = (uint64_t)json_integer_value(json_object_get(spec, "not_verified"));
	if (!json_is_true(json_object_get(spec, "scanned")) && first_pass(w, &t, &lo) != 0)
		goto failed;
	progress(w, &t, &lo, NULL, 0, P_SCANNED);
	if (retry_pass(w, &t, &lo) != 0)
		goto failed;
	recheck_open(w, &t);
	progress(w, &t, &lo, NULL, 0, P_DONE);
	goto out;
failed:
	if (!stopping(w)) {
		char why[700];
		snprintf(why, sizeof(why), "given up: %s", w->err);
		post(w, VL_SKIP, 0,
		     json_pack("{s:s,s:s,s:s}", "schema", schema, "table", name, "reason", why));
	}
out:
	verify_key_clear(&lo);
	table_clear(&t);
}

/* Every base table outside the system schemas, with its estimated rows. */
static json_t *all_tables(struct verify_worker *w)
{
	MYSQL_RES *res;
	MYSQL_ROW r;
	json_t *a;

	if (mysql_query(w->c[0].h, "SELECT TABLE_SCHEMA, TABLE_NAME, COALESCE(TABLE_ROWS, 0) FROM "
				   "information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND "
				   "TABLE_SCHEMA NOT IN ('mysql', 'information_schema', "
				   "'performance_schema', 'sys') ORDER BY 1, 2") != 0 ||
	    (res = mysql_store_result(w->c[0].h)) == NULL) {
		fail(w, 0, "listing the tables");
		return NULL;
	}
	a = json_array();
	while ((r = mysql_fetch_row(res)) != NULL)
		json_array_append_new(a, json_pack("{s:s,s:s,s:I}", "schema", r[0], "table", r[1],
						   "rows", (json_int_t)strtoll(r[2], NULL, 10)));
	mysql_free_result(res);
	return a;
}

/* The tables the job names, with their row estimates (or every table). */
static json_t *job_tables(struct verify_worker *w)
{
	json_t *given = json_object_get(w->job, "tables"), *all, *out, *t;
	size_t i, k;

	for (int tries = 0; !stopping(w); tries++) {
		if (throttle(w) && (all = all_tables(w)) != NULL)
			break;
		if (tries >= FAIL_MAX)
			return NULL;
		nap(w, 2.0);
	}
	if (stopping(w))
		return NULL;
	if (json_array_size(given) == 0)
		return all;
	out = json_array();
	json_array_foreach(given, i, t)
	{
		json_t *copy = json_deep_copy(t), *a;
		json_array_foreach(all, k, a)
		{
			if (json_equal(json_object_get(a, "schema"),
				       json_object_get(t, "schema")) &&
			    json_equal(json_object_get(a, "table"), json_object_get(t, "table")))
				json_object_set(copy, "rows", json_object_get(a, "rows"));
		}
		json_array_append_new(out, copy);
	}
	json_decref(all);
	return out;
}

static void *worker_main(void *arg)
{
	struct verify_worker *w = arg;
	json_t *tables, *t;
	size_t i;

	mysql_thread_init();
	tables = job_tables(w);
	if (tables != NULL) {
		post(w, VL_TABLES, 0, json_pack("{s:O}", "tables", tables));
		json_array_foreach(tables, i, t)
		{
			if (stopping(w))
				break;
			one_table(w, t);
		}
	}
	post(w, VL_DONE, 0,
	     json_pack("{s:s?,s:b}", "error", tables == NULL && !stopping(w) ? w->err : NULL,
		       "stopped", stopping(w)));
	json_decref(tables);
	for (size_t m = 0; m < w->n; m++)
		conn_close(w, m);
	mysql_thread_end();
	return NULL;
}

/* ---- life ----------------------------------------------------------------------- */

static void worker_free(struct verify_worker *w)
{
	for (size_t i = 0; i < w->n; i++) {
		if (w->targets != NULL)
			mysql_conn_target_clear(&w->targets[i]);
		if (w->names != NULL)
			free(w->names[i]);
	}
	free(w->targets);
	free(w->names);
	free(w->c);
	free(w->fds);
	json_decref(w->job);
	json_decref(w->answer);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

struct verify_worker *verify_worker_start(const struct verify_worker_config *c, char *err,
					  size_t len)
{
	struct verify_worker *w = calloc(1, sizeof(*w));
	int rc;

	if (w == NULL || c->n_masters > 16) {
		free(w);
		snprintf(err, len, w == NULL ? "out of memory" : "too many masters");
		return NULL;
	}
	{
		pthread_condattr_t attr; /* nap() waits on the monotonic clock */
		pthread_condattr_init(&attr);
		pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
		pthread_cond_init(&w->cond, &attr);
		pthread_condattr_destroy(&attr);
	}
	pthread_mutex_init(&w->lock, NULL);
	w->n = c->n_masters;
	w->mb = c->mb;
	w->targets = calloc(w->n, sizeof(*w->targets));
	w->names = calloc(w->n, sizeof(*w->names));
	w->c = calloc(w->n, sizeof(*w->c));
	w->fds = calloc(w->n, sizeof(*w->fds));
	w->job = json_deep_copy(c->job);
	w->chunk_time = c->chunk_time > 0 ? c->chunk_time : 0.5;
	w->max_load = c->max_load;
	w->fixed_rows = (uint64_t)json_integer_value(json_object_get(c->job, "chunk_rows"));
	w->rows = w->fixed_rows > 0 ? w->fixed_rows : FIRST_ROWS;
	if (w->targets == NULL || w->names == NULL || w->c == NULL || w->fds == NULL ||
	    w->job == NULL) {
		worker_free(w);
		snprintf(err, len, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < w->n; i++) {
		w->fds[i] = -1;
		w->names[i] = strdup(c->masters[i].name);
		if (w->names[i] == NULL || mysql_conn_target_copy(&w->targets[i], &c->masters[i])) {
			worker_free(w);
			snprintf(err, len, "out of memory");
			return NULL;
		}
	}
	rc = pthread_create(&w->thread, NULL, worker_main, w);
	if (rc != 0) {
		snprintf(err, len, "cannot start a thread: %s", strerror(rc));
		worker_free(w);
		return NULL;
	}
	return w;
}

void verify_worker_stop(struct verify_worker *w)
{
	atomic_store(&w->stop, true);
	pthread_mutex_lock(&w->lock);
	for (size_t i = 0; i < w->n; i++)
		if (w->fds[i] >= 0)
			shutdown(w->fds[i], SHUT_RDWR);
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

void verify_worker_join(struct verify_worker *w)
{
	pthread_join(w->thread, NULL);
	worker_free(w);
}
