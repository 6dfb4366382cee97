/*
 * deploy_load.c - the application load of tests/integration/deploy.sh and
 * scripts/demo.sh: one writer on one master of a ring, at a steady rate,
 * recording every write the server acknowledged.
 *
 *	deploy_load -S SOCKET -i INDEX -c CONTROL -o STATUS -l LOG [-r RATE] [-m MIN] [-s SEED]
 *
 * INDEX is the master's place in the ring (1..N): the rows it inserts get
 * ids of its auto_increment_offset, its column `origin` is INDEX, and it
 * updates and deletes only the rows it inserted itself (one writer per row),
 * so nothing it does can conflict with the writers on the other masters.
 *
 * What it writes is read from the file CONTROL whenever that changes: words
 * separated by spaces,
 *	v1        the old code: app.orders (id, origin, ver, qty, price_cents, coupon)
 *	v2        the new code: app.orders (id, origin, ver, qty, price_cents,
 *	          total_cents) without coupon, and with each order change one
 *	          row of app.order_events in the same transaction
 *	orders    write app.orders (insert 40%, update 45%, delete 15%)
 *	events    (v2) insert into app.order_events alone
 *	kv        also update one row of app.kv (its own rows: id % 16 == INDEX)
 *	stock     and, in a transaction of its own (autocommit), add 1 to v of one
 *	          row of app.stock (its own rows too)
 *	pause     write nothing;   stop   exit
 * Every statement names its columns.  A transaction is due every 1/RATE s
 * (absolute deadlines: a late writer sends without sleeping until it is
 * back on schedule, and starts the schedule over when a second behind).
 * A deadlock or lock wait timeout (1213, 1205) rolls the transaction back
 * and is counted as a retry; any other error is counted and printed.
 *
 * LOG gets one line per acknowledged write, written when COMMIT returned:
 *	I ID VER      an order inserted        U ID VER   an order updated
 *	D ID          an order deleted         E ID       an event inserted
 *	K ID VER      a kv row updated         S ID       1 added to app.stock's v
 * so that the final rows every master must hold follow from the log alone.
 * STATUS is rewritten (atomically) every second and as soon as a change of
 * CONTROL is in force, with what is being written:
 *	mode=v2 orders committed=N retries=N errors=N active_s=S rate=R min_rate=R
 *	seconds=N below=N
 * rate is committed transactions per second of writing (paused seconds
 * left out); min_rate the fewest committed in one whole second of writing;
 * seconds how many whole seconds of writing there were, below how many of
 * them committed fewer than MIN transactions (default: 80% of RATE).
 * Exit 0 after "stop" (or SIGTERM), 1 when the connection is lost, 2 usage.
 *
 *	deploy_load -w -o OUT SOCKET...
 *
 * watches the replication threads instead: every 100 ms SHOW ALL SLAVES
 * STATUS on each master (one connection each), until SIGTERM.  OUT is
 * rewritten every second with "samples=N bad=N", N the rounds and how many
 * of them found a connection whose IO or SQL thread was not running or
 * had an error, followed by one line for each of the first 20 such rows:
 *	bad MS_SINCE_START MASTER_SOCKET CONNECTION IO SQL IO_ERRNO SQL_ERRNO ERROR
 */
#include <mysql.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KV_ROWS 16 /* app.kv has ids 1..16*N; a writer updates those of its index */

static volatile sig_atomic_t stop_now;

static void on_term(int sig)
{
	(void)sig;
	stop_now = 1;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct mode {
	int v2, orders, events, kv, stock, pause, stop;
	char text[128];
};

struct writer {
	MYSQL *db;
	int index;
	unsigned seed;
	FILE *log;
	const char *control, *status;
	struct timespec control_mtime;
	struct mode m;
	/* the orders this writer inserted and did not delete, with their versions */
	uint64_t *ids;
	unsigned *vers;
	size_t n_ids, cap_ids;
	unsigned kv_ver[KV_ROWS];
	/* what it did */
	long committed, retries, errors;
	double active_s;
	long this_second, min_rate, seconds, below, min_wanted;
	int64_t second_start;
	/* lines of the transaction under way, written to LOG once it commits */
	char pending[1024];
	size_t pending_len;
};

static void parse_mode(struct mode *m, const char *text)
{
	char buf[128], *save = NULL, *w;

	memset(m, 0, sizeof(*m));
	snprintf(buf, sizeof(buf), "%s", text);
	buf[strcspn(buf, "\n")] = '\0';
	snprintf(m->text, sizeof(m->text), "%s", buf);
	for (w = strtok_r(buf, " \t", &save); w != NULL; w = strtok_r(NULL, " \t", &save)) {
		if (strcmp(w, "v1") == 0)
			m->v2 = 0;
		else if (strcmp(w, "v2") == 0)
			m->v2 = 1;
		else if (strcmp(w, "orders") == 0)
			m->orders = 1;
		else if (strcmp(w, "events") == 0)
			m->events = 1;
		else if (strcmp(w, "kv") == 0)
			m->kv = 1;
		else if (strcmp(w, "stock") == 0)
			m->stock = 1;
		else if (strcmp(w, "pause") == 0)
			m->pause = 1;
		else if (strcmp(w, "stop") == 0)
			m->stop = 1;
	}
	if (!m->v2)
		m->events = 0; /* v1 knows no app.order_events */
}

static int writing(const struct mode *m)
{
	return !m->pause && !m->stop && (m->orders || m->events || m->kv || m->stock);
}

static void write_status(struct writer *w)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", w->status);
	f = fopen(tmp, "w");
	if (f == NULL)
		return;
	fprintf(f,
		"mode=%s committed=%ld retries=%ld errors=%ld active_s=%.1f rate=%.1f min_rate=%ld "
		"seconds=%ld below=%ld\n",
		w->m.text, w->committed, w->retries, w->errors, w->active_s,
		w->active_s > 0 ? (double)w->committed / w->active_s : 0.0,
		w->min_rate < 0 ? 0 : w->min_rate, w->seconds, w->below);
	if (fclose(f) == 0)
		rename(tmp, w->status);
}

/* Reads CONTROL again when it changed; 1 when the mode changed. */
static int read_control(struct writer *w)
{
	struct stat st;
	char buf[128];
	struct mode m;
	FILE *f;
	size_t n;

	if (stat(w->control, &st) != 0)
		return 0;
	if (st.st_mtim.tv_sec == w->control_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == w->control_mtime.tv_nsec)
		return 0;
	f = fopen(w->control, "r");
	if (f == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (n == 0)
		return 0; /* being written */
	w->control_mtime = st.st_mtim;
	parse_mode(&m, buf);
	if (strcmp(m.text, w->m.text) == 0)
		return 0;
	w->m = m;
	return 1;
}

static void pend(struct writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void pend(struct writer *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(w->pending + w->pending_len, sizeof(w->pending) - w->pending_len, fmt, ap);
	va_end(ap);
	if (n > 0 && w->pending_len + (size_t)n < sizeof(w->pending))
		w->pending_len += (size_t)n;
}

/* 0 done, 1 retry (deadlock, lock wait), -1 an error (printed). */
static int query(struct writer *w, const char *sql)
{
	unsigned e;

	if (mysql_query(w->db, sql) == 0)
		return 0;
	e = mysql_errno(w->db);
	if (e == 1213 || e == 1205)
		return 1;
	fprintf(stderr, "deploy_load %d: %u %s: %s\n", w->index, e, mysql_error(w->db), sql);
	return -1;
}

static unsigned rnd(struct writer *w, unsigned n)
{
	return (unsigned)(rand_r(&w->seed) % n);
}

/* The statements of one order change; the ids' list is changed only after the commit. */
enum op {
	OP_INSERT,
	OP_UPDATE,
	OP_DELETE
};

static int order_change(struct writer *w, enum op op, size_t slot, uint64_t *new_id)
{
	char sql[512];
	unsigned qty = 1 + rnd(w, 20), price = 100 + rnd(w, 9900);
	unsigned ver = op == OP_INSERT ? 1 : w->vers[slot] + 1;
	uint64_t id = op == OP_INSERT ? 0 : w->ids[slot];
	int rc;

	if (op == OP_INSERT && !w->m.v2)
		snprintf(sql, sizeof(sql),
			 "INSERT INTO app.orders (origin, ver, qty, price_cents, coupon) "
			 "VALUES (%d, 1, %u, %u, 'c%u')",
			 w->index, qty, price, rnd(w, 1000));
	else if (op == OP_INSERT)
		snprintf(sql, sizeof(sql),
			 "INSERT INTO app.orders (origin, ver, qty, price_cents, total_cents) "
			 "VALUES (%d, 1, %u, %u, %u)",
			 w->index, qty, price, qty * price);
	else if (op == OP_UPDATE && !w->m.v2)
		snprintf(sql, sizeof(sql),
			 "UPDATE app.orders SET ver = %u, qty = %u, coupon = 'c%u' WHERE id = %llu",
			 ver, qty, rnd(w, 1000), (unsigned long long)id);
	else if (op == OP_UPDATE)
		snprintf(sql, sizeof(sql),
			 "UPDATE app.orders SET ver = %u, qty = %u, total_cents = %u * price_cents "
			 "WHERE id = %llu",
			 ver, qty, qty, (unsigned long long)id);
	else
		snprintf(sql, sizeof(sql), "DELETE FROM app.orders WHERE id = %llu",
			 (unsigned long long)id);
	if ((rc = query(w, sql)) != 0)
		return rc;
	if (op == OP_INSERT) {
		id = mysql_insert_id(w->db);
		*new_id = id;
		pend(w, "I %llu 1\n", (unsigned long long)id);
	} else if (op == OP_UPDATE) {
		if (mysql_affected_rows(w->db) != 1) {
			fprintf(stderr, "deploy_load %d: order %llu not updated\n", w->index,
				(unsigned long long)id);
			return -1;
		}
		pend(w, "U %llu %u\n", (unsigned long long)id, ver);
	} else {
		if (mysql_affected_rows(w->db) != 1) {
			fprintf(stderr, "deploy_load %d: order %llu not deleted\n", w->index,
				(unsigned long long)id);
			return -1;
		}
		pend(w, "D %llu\n", (unsigned long long)id);
	}
	if (w->m.v2) {
		snprintf(sql, sizeof(sql),
			 "INSERT INTO app.order_events (order_id, origin, ver, total_cents) "
			 "VALUES (%llu, %d, %u, %u)",
			 (unsigned long long)id, w->index, op == OP_DELETE ? 0 : ver,
			 op == OP_DELETE ? 0 : qty * price);
		if ((rc = query(w, sql)) != 0)
			return rc;
		pend(w, "E %llu\n", (unsigned long long)mysql_insert_id(w->db));
	}
	return 0;
}

static int event_alone(struct writer *w)
{
	char sql[256];
	int rc;

	snprintf(sql, sizeof(sql),
		 "INSERT INTO app.order_events (order_id, origin, ver, total_cents) "
		 "VALUES (0, %d, 0, %u)",
		 w->index, rnd(w, 100000));
	if ((rc = query(w, sql)) != 0)
		return rc;
	pend(w, "E %llu\n", (unsigned long long)mysql_insert_id(w->db));
	return 0;
}

/* One transaction; 0 committed, 1 rolled back to retry, -1 error. */
static int transaction(struct writer *w)
{
	enum op op = OP_INSERT;
	size_t slot = 0;
	uint64_t new_id = 0;
	unsigned k = 0;
	char sql[160];
	int rc = 0;

	w->pending_len = 0;
	if (!w->m.orders && !w->m.events && !w->m.kv)
		goto stock;
	if (w->m.orders) {
		unsigned r = rnd(w, 100);
		if (w->n_ids > 0 && r >= 40) {
			op = r < 85 ? OP_UPDATE : OP_DELETE;
			slot = rnd(w, (unsigned)w->n_ids);
		}
	}
	if (query(w, "BEGIN") != 0)
		return -1;
	if (w->m.orders)
		rc = order_change(w, op, slot, &new_id);
	else if (w->m.events)
		rc = event_alone(w);
	if (rc == 0 && w->m.kv) {
		k = rnd(w, KV_ROWS);
		snprintf(sql, sizeof(sql), "UPDATE app.kv SET ver = %u, v = %u WHERE id = %d",
			 w->kv_ver[k] + 1, rnd(w, 1000000), k * 16 + w->index);
		rc = query(w, sql);
		if (rc == 0)
			pend(w, "K %d %u\n", k * 16 + w->index, w->kv_ver[k] + 1);
	}
	if (rc == 0)
		rc = query(w, "COMMIT");
	if (rc != 0) {
		if (mysql_query(w->db, "ROLLBACK") != 0 && rc == 0)
			rc = -1;
		return rc;
	}
stock:
	/* acknowledged: record it */
	fwrite(w->pending, 1, w->pending_len, w->log);
	if (w->m.stock) {
		unsigned rnd_stock = rnd(w, KV_ROWS) * 16 + (unsigned)w->index;

		snprintf(sql, sizeof(sql), "UPDATE app.stock SET v = v + 1 WHERE id = %u",
			 rnd_stock);
		if (query(w, sql) < 0)
			w->errors++;
		else if (mysql_affected_rows(w->db) == 1)
			fprintf(w->log, "S %u\n", rnd_stock);
		else
			fprintf(stderr, "deploy_load %d: stock %u not updated\n", w->index,
				rnd_stock);
	}
	if (w->m.kv)
		w->kv_ver[k]++;
	if (!w->m.orders)
		return 0;
	if (op == OP_INSERT) {
		if (w->n_ids == w->cap_ids) {
			size_t cap = w->cap_ids ? w->cap_ids * 2 : 4096;
			uint64_t *ids = realloc(w->ids, cap * sizeof(*ids));
			unsigned *vers = ids ? realloc(w->vers, cap * sizeof(*vers)) : NULL;
			if (ids == NULL || vers == NULL) {
				fprintf(stderr, "deploy_load: out of memory\n");
				exit(1);
			}
			w->ids = ids;
			w->vers = vers;
			w->cap_ids = cap;
		}
		w->ids[w->n_ids] = new_id;
		w->vers[w->n_ids++] = 1;
	} else if (op == OP_UPDATE) {
		w->vers[slot]++;
	} else {
		w->n_ids--;
		w->ids[slot] = w->ids[w->n_ids];
		w->vers[slot] = w->vers[w->n_ids];
	}
	return 0;
}

/* Column I of the result's field named NAME, or -1. */
static int field_index(MYSQL_RES *res, const char *name)
{
	unsigned n = mysql_num_fields(res);
	MYSQL_FIELD *f = mysql_fetch_fields(res);

	for (unsigned i = 0; i < n; i++) {
		if (strcmp(f[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

#define WATCH_MAX 8

static int watch(const char *out, int n, char **socks)
{
	MYSQL *db[WATCH_MAX];
	char lines[20][512], tmp[4096];
	int n_lines = 0;
	long samples = 0, bad = 0;
	int64_t start = now_ns(), last = start, due = start;

	if (n < 1 || n > WATCH_MAX)
		return 2;
	for (int m = 0; m < n; m++) {
		db[m] = mysql_init(NULL);
		if (db[m] == NULL ||
		    mysql_real_connect(db[m], NULL, "root", NULL, NULL, 0, socks[m], 0) == NULL) {
			fprintf(stderr, "deploy_load -w: %s: %s\n", socks[m],
				db[m] ? mysql_error(db[m]) : "out of memory");
			return 1;
		}
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	while (!stop_now) {
		int round_bad = 0;

		for (int m = 0; m < n; m++) {
			MYSQL_RES *res;
			MYSQL_ROW row;
			int c_name, c_io, c_sql, c_ioe, c_sqle, c_err;

			if (mysql_query(db[m], "SHOW ALL SLAVES STATUS") != 0 ||
			    (res = mysql_store_result(db[m])) == NULL) {
				fprintf(stderr, "deploy_load -w: %s: %s\n", socks[m],
					mysql_error(db[m]));
				return 1;
			}
			c_name = field_index(res, "Connection_name");
			c_io = field_index(res, "Slave_IO_Running");
			c_sql = field_index(res, "Slave_SQL_Running");
			c_ioe = field_index(res, "Last_IO_Errno");
			c_sqle = field_index(res, "Last_SQL_Errno");
			c_err = field_index(res, "Last_Error");
			while ((row = mysql_fetch_row(res)) != NULL) {
				if (c_name < 0 || c_io < 0 || c_sql < 0 || c_ioe < 0 ||
				    c_sqle < 0 || c_err < 0)
					break;
				if (strcmp(row[c_io] ? row[c_io] : "", "Yes") == 0 &&
				    strcmp(row[c_sql] ? row[c_sql] : "", "Yes") == 0 &&
				    strcmp(row[c_ioe] ? row[c_ioe] : "", "0") == 0 &&
				    strcmp(row[c_sqle] ? row[c_sqle] : "", "0") == 0)
					continue;
				round_bad = 1;
				if (n_lines < 20)
					snprintf(lines[n_lines++], sizeof(lines[0]),
						 "bad %lld %s %s %s %s %s %s %.300s",
						 (long long)((now_ns() - start) / 1000000),
						 socks[m], row[c_name] ? row[c_name] : "",
						 row[c_io] ? row[c_io] : "",
						 row[c_sql] ? row[c_sql] : "",
						 row[c_ioe] ? row[c_ioe] : "",
						 row[c_sqle] ? row[c_sqle] : "",
						 row[c_err] ? row[c_err] : "");
			}
			mysql_free_result(res);
		}
		samples++;
		bad += round_bad;
		if (now_ns() - last >= 1000000000 || stop_now) {
			FILE *f;

			snprintf(tmp, sizeof(tmp), "%s.tmp", out);
			if ((f = fopen(tmp, "w")) != NULL) {
				fprintf(f, "samples=%ld bad=%ld\n", samples, bad);
				for (int l = 0; l < n_lines; l++)
					fprintf(f, "%s\n", lines[l]);
				if (fclose(f) == 0)
					rename(tmp, out);
			}
			last = now_ns();
		}
		due += 100000000;
		if (due < now_ns())
			due = now_ns();
		struct timespec ts = { (time_t)(due / 1000000000), (long)(due % 1000000000) };
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	{
		FILE *f;

		snprintf(tmp, sizeof(tmp), "%s.tmp", out);
		if ((f = fopen(tmp, "w")) != NULL) {
			fprintf(f, "samples=%ld bad=%ld\n", samples, bad);
			for (int l = 0; l < n_lines; l++)
				fprintf(f, "%s\n", lines[l]);
			if (fclose(f) == 0)
				rename(tmp, out);
		}
	}
	for (int m = 0; m < n; m++)
		mysql_close(db[m]);
	mysql_library_end();
	return 0;
}

int main(int argc, char **argv)
{
	struct writer w;
	const char *sock = NULL, *logpath = NULL;
	double rate = 250;
	int64_t start, due, last_status, t;
	long i = 0;
	const char *watch_out = NULL;
	int c, watching = 0;

	memset(&w, 0, sizeof(w));
	w.seed = 1;
	w.min_rate = -1;
	w.min_wanted = -1;
	while ((c = getopt(argc, argv, "wS:i:c:o:l:r:m:s:")) != -1) {
		switch (c) {
		case 'w':
			watching = 1;
			break;
		case 'S':
			sock = optarg;
			break;
		case 'i':
			w.index = atoi(optarg);
			break;
		case 'c':
			w.control = optarg;
			break;
		case 'o':
			w.status = watch_out = optarg;
			break;
		case 'l':
			logpath = optarg;
			break;
		case 'r':
			rate = atof(optarg);
			break;
		case 'm':
			w.min_wanted = atol(optarg);
			break;
		case 's':
			w.seed = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			sock = NULL;
			break;
		}
	}
	if (watching && watch_out != NULL && optind < argc) {
		int rc = watch(watch_out, argc - optind, argv + optind);
		if (rc == 2)
			fprintf(stderr, "deploy_load -w: 1 to %d sockets\n", WATCH_MAX);
		return rc;
	}
	if (sock == NULL || w.control == NULL || w.status == NULL || logpath == NULL ||
	    w.index < 1 || w.index > 15 || rate <= 0 || optind != argc) {
		fprintf(stderr,
			"usage: deploy_load -S SOCKET -i INDEX -c CONTROL -o STATUS -l LOG "
			"[-r RATE] [-m MIN] [-s SEED]\n       deploy_load -w -o OUT SOCKET...\n");
		return 2;
	}
	if (w.min_wanted < 0)
		w.min_wanted = (long)(rate * 0.8);
	w.log = fopen(logpath, "a");
	w.db = mysql_init(NULL);
	if (w.log == NULL || w.db == NULL ||
	    mysql_real_connect(w.db, NULL, "root", NULL, NULL, 0, sock, 0) == NULL) {
		fprintf(stderr, "deploy_load %d: %s\n", w.index,
			w.log == NULL ? strerror(errno) : mysql_error(w.db));
		return 1;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	parse_mode(&w.m, "pause");
	read_control(&w);
	write_status(&w);
	start = now_ns();
	last_status = start;
	w.second_start = start;
	while (!stop_now && !w.m.stop) {
		int was_writing = writing(&w.m);

		if (read_control(&w)) {
			/* a new mode: restart the schedule, and say it is in force */
			fflush(w.log);
			start = now_ns();
			i = 0;
			if (was_writing) /* the part second before the change */
				w.active_s += (double)(start - w.second_start) / 1e9;
			w.second_start = start;
			w.this_second = 0;
			write_status(&w);
			continue;
		}
		t = now_ns();
		if (!writing(&w.m)) {
			if (t - last_status >= 1000000000) {
				write_status(&w);
				last_status = t;
			}
			usleep(10000);
			continue;
		}
		due = start + (int64_t)((double)i * 1e9 / rate);
		if (t - due > 1000000000) {
			start = due = t;
			i = 0;
		}
		if (t < due) {
			struct timespec ts = { (time_t)(due / 1000000000),
					       (long)(due % 1000000000) };
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		}
		i++;
		switch (transaction(&w)) {
		case 0:
			w.committed++;
			w.this_second++;
			break;
		case 1:
			w.retries++;
			break;
		default:
			w.errors++;
			if (mysql_ping(w.db) != 0) {
				fprintf(stderr, "deploy_load %d: %s\n", w.index, mysql_error(w.db));
				fflush(w.log);
				write_status(&w);
				return 1;
			}
			break;
		}
		t = now_ns();
		if (t - w.second_start >= 1000000000) {
			w.active_s += (double)(t - w.second_start) / 1e9;
			if (w.min_rate < 0 || w.this_second < w.min_rate)
				w.min_rate = w.this_second;
			w.seconds++;
			if (w.this_second < w.min_wanted)
				w.below++;
			w.this_second = 0;
			w.second_start = t;
		}
		if (t - last_status >= 1000000000) {
			fflush(w.log);
			write_status(&w);
			last_status = t;
		}
	}
	fflush(w.log);
	write_status(&w);
	fclose(w.log);
	mysql_close(w.db);
	mysql_library_end();
	free(w.ids);
	free(w.vers);
	return 0;
}
