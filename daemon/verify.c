/*
 * verify.c - verification jobs, the loop's side (see verify.h and
 * doc/verify.md).
 */
#include "verify.h"

#include "clock.h"
#include "common/hex.h"
#include "config.h"
#include "gate.h"
#include "ledger.h"
#include "log.h"
#include "mailbox.h"
#include "state.h"
#include "status.h"
#include "tracker.h"
#include "verify_store.h"
#include "verify_worker.h"

#include "ringwatch/conflict_feed.h"
#include "ringwatch/verify_touch.h"

#include <event2/event.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define TOUCH_BYTES    (8u << 20) /* the ring of recent row changes */
#define WINDOW_TIMEOUT 30.0       /* seconds for every stream to pass the snapshots */
#define TICK           0.05       /* seconds between looks at a pending question */
#define SCHEDULE_TICK  10.0       /* seconds between looks at the schedule */
#define MAILBOX_BYTES  (4u << 20)
#define RATE_WINDOW    10.0 /* seconds of rows for the rate */
#define WINDOW_SLACK   0.1  /* seconds before the oldest transaction on its way */

struct verify {
	struct verify_config c;
	struct event_base *base;
	struct mailbox *mb;
	struct event *tick;
	struct event *schedule;
	verify_touches *touches;
	struct verify_worker *worker;
	int64_t job;
	double started_at, ended_at; /* unix */
	const char *state;
	char table[300];
	char paused[600];
	char said[600]; /* the last reason to wait logged */
	char error[512];
	/* the question waiting for the streams */
	bool pending;
	uint64_t seq;
	json_t *question;
	double asked_at;
	/* the rate: rows read at the start of the window */
	double rate_at;
	uint64_t rate_rows, rows_now;
	double rate;
	/* since the start */
	uint64_t total_rows, total_equal, total_different, total_unsure, total_drift;
	uint64_t job_drift; /* drift records of this job (since it started or resumed) */
};

void verify_row_seen(void *arg, unsigned master, uint64_t trx, uint64_t pos, const uint8_t *key,
		     size_t len, int table_only)
{
	struct verify *v = arg;

	/*
	 * Only while a job runs: a chunk asks about the moments since shortly
	 * before its snapshots, and a window the ring does not reach back to
	 * is unsure (verify_touches_since()), so the first chunks of a job may
	 * be read again; between jobs the loop does no work per row for it.
	 */
	if (v->worker == NULL)
		return;
	verify_touches_add(v->touches, clock_mono(), master, trx, pos, key, len, table_only != 0);
}

/* ---- the questions ---------------------------------------------------------------- */

static void answer(struct verify *v, uint64_t seq, json_t *a)
{
	if (v->worker != NULL)
		verify_worker_answer(v->worker, seq, a);
	else
		json_decref(a);
}

/*
 * How far back the window reaches: the largest lag of any link now plus a
 * little; a link whose lag was never measured (no GTIDs, or no
 * transaction yet) counts as max_lag, the most the gate lets through.
 */
static double window_margin(const struct verify *v)
{
	size_t n = v->c.cfg->n_masters;
	double worst = 0, now = clock_mono();

	if (v->c.lag == NULL)
		return v->c.cfg->gate_max_lag + 1.0;
	for (size_t a = 0; a < n; a++)
		for (size_t b = 0; b < n; b++) {
			double l = a != b ? lag_get(v->c.lag, a, b, now) : 0;
			if (l < 0)
				l = v->c.cfg->gate_max_lag;
			if (l > worst)
				worst = l;
		}
	return worst + WINDOW_SLACK;
}

/* May the worker read a chunk now?  The gate's lag, replication and streams checks say. */
static void ask_go(struct verify *v, uint64_t seq)
{
	struct status st;
	char reason[600] = "", bad[64];
	size_t o = 0;
	bool go = false;

	if (v->c.status != NULL && v->c.status(v->c.arg, &st) == 0) {
		struct gate g = st.gate;
		(void)gate_only(&g, "lag,replication,streams", bad, sizeof(bad));
		go = g.safe;
		for (size_t i = 0; i < g.n && o < sizeof(reason); i++)
			if (!g.checks[i].ok)
				o += (size_t)snprintf(reason + o, sizeof(reason) - o, "%s%s: %s",
						      o ? "; " : "", g.checks[i].name,
						      g.checks[i].detail);
		status_release(&st);
	} else {
		snprintf(reason, sizeof(reason), "no status snapshot (out of memory)");
	}
	snprintf(v->paused, sizeof(v->paused), "%s", reason);
	answer(v, seq,
	       json_pack("{s:b,s:s,s:f,s:f}", "go", go, "reason", reason, "t0", clock_mono(),
			 "margin", window_margin(v)));
}

/* Whether every stream has passed its master's snapshot position. */
static bool streams_passed(const struct verify *v, json_t *q)
{
	json_t *positions = json_object_get(q, "positions"), *p;
	size_t i;

	json_array_foreach(positions, i, p)
	{
		const char *file = json_string_value(json_object_get(p, "file"));
		uint64_t at = (uint64_t)json_integer_value(json_object_get(p, "pos"));
		if (file == NULL || v->c.tracker == NULL ||
		    tracker_stream_pos(v->c.tracker, i) < conflict_feed_position(file, at))
			return false;
	}
	return true;
}

/* The answer to a window question once the streams passed: touched or not. */
static json_t *window_answer(struct verify *v, json_t *q)
{
	const char *schema = json_string_value(json_object_get(q, "schema"));
	const char *table = json_string_value(json_object_get(q, "table"));
	json_t *ord = json_object_get(q, "ordered"), *positions = json_object_get(q, "positions"),
	       *p;
	uint64_t snap[CONFLICT_MAX_MASTERS];
	size_t n_snap = 0, i;
	bool whole = json_is_true(json_object_get(q, "whole"));
	bool ordered[64];
	uint8_t *lo = NULL, *hi = NULL, *name;
	size_t lo_len = 0, hi_len = 0, sl = strlen(schema), tl = strlen(table);
	verify_touch_query tq;
	int found;

	memset(&tq, 0, sizeof(tq));
	name = malloc(sl + tl + 2);
	if (name == NULL)
		return json_pack("{s:b,s:s}", "touched", 1, "why", "out of memory");
	memcpy(name, schema, sl + 1);
	memcpy(name + sl + 1, table, tl + 1);
	for (size_t k = 0; k < json_array_size(ord) && k < 64; k++)
		ordered[k] = !whole && json_is_true(json_array_get(ord, k));
	if (!whole && json_is_string(json_object_get(q, "lo")))
		lo = hex_decode(json_string_value(json_object_get(q, "lo")), &lo_len);
	if (!whole && json_is_string(json_object_get(q, "hi")))
		hi = hex_decode(json_string_value(json_object_get(q, "hi")), &hi_len);
	tq = (verify_touch_query){ .table = name,
				   .table_len = sl + tl + 2,
				   .lo = lo,
				   .lo_len = lo_len,
				   .hi = hi,
				   .hi_len = hi_len,
				   .ordered = ordered,
				   .n = json_array_size(ord) < 64 ? json_array_size(ord) : 64,
				   .point = json_is_true(json_object_get(q, "point")) && !whole };
	json_array_foreach(positions, i, p)
	{
		if (i < CONFLICT_MAX_MASTERS)
			snap[n_snap++] = conflict_feed_position(
			    json_string_value(json_object_get(p, "file")),
			    (uint64_t)json_integer_value(json_object_get(p, "pos")));
	}
	tq.snap = snap;
	tq.n_streams = n_snap;
	found = verify_touches_find(v->touches, json_real_value(json_object_get(q, "from")), &tq);
	free(name);
	free(lo);
	free(hi);
	return json_pack("{s:b,s:s}", "touched", found != 0, "why",
			 found < 0   ? "the ring of recent changes does not reach back so far"
			 : found > 0 ? "a change to a key of the chunk is in some snapshots only"
				     : "");
}

static void look_at_question(struct verify *v)
{
	json_t *a;

	if (!v->pending)
		return;
	if (streams_passed(v, v->question))
		a = window_answer(v, v->question);
	else if (clock_mono() - v->asked_at > WINDOW_TIMEOUT)
		a = json_pack("{s:b,s:s}", "touched", 1, "why",
			      "the streams did not pass the snapshots in time");
	else
		return;
	v->pending = false;
	json_decref(v->question);
	v->question = NULL;
	answer(v, v->seq, a);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	look_at_question(arg);
}

static void ask_window(struct verify *v, uint64_t seq, json_t *q)
{
	json_decref(v->question);
	v->question = json_incref(q);
	v->seq = seq;
	v->asked_at = clock_mono();
	v->pending = true;
	look_at_question(v);
}

static void ask_open(struct verify *v, uint64_t seq, json_t *q)
{
	json_t *list =
	    ledger_open_drift(v->c.state, json_string_value(json_object_get(q, "schema")),
			      json_string_value(json_object_get(q, "table")));

	answer(v, seq, json_pack("{s:o}", "drift", list != NULL ? list : json_array()));
}

/* ---- the news ------------------------------------------------------------------- */

/* A row that differs: a drift record, unless an open record on the row says so already. */
static void on_record(struct verify *v, json_t *r)
{
	struct ledger_entry e;
	const char *key_hex = json_string_value(json_object_get(r, "key_hex"));
	char *key_text = json_dumps(json_object_get(r, "key"), JSON_COMPACT);
	char uid[CONFLICT_ID_TEXT], seed[64];
	XXH128_hash_t h;
	rw_buf b = RW_BUF_INIT;
	bool created = false;
	int64_t id;

	memset(&e, 0, sizeof(e));
	e.kind = "drift";
	e.schema = json_string_value(json_object_get(r, "schema"));
	e.table = json_string_value(json_object_get(r, "table"));
	e.key = json_object_get(r, "key");
	e.key_hex = key_hex != NULL ? key_hex : "";
	if (e.schema == NULL || e.table == NULL || key_text == NULL ||
	    ledger_open_on_row(v->c.state, e.schema, e.table, e.key_hex, key_text) != 0) {
		free(key_text);
		return; /* known to differ already */
	}
	snprintf(seed, sizeof(seed), "drift %.6f ", clock_wall());
	rw_buf_puts(&b, seed);
	rw_buf_puts(&b, e.schema), rw_buf_putc(&b, 0);
	rw_buf_puts(&b, e.table), rw_buf_putc(&b, 0);
	rw_buf_puts(&b, key_text);
	h = XXH3_128bits(b.p != NULL ? b.p : "", b.len);
	rw_buf_free(&b);
	snprintf(uid, sizeof(uid), "%016llx%016llx", (unsigned long long)h.high64,
		 (unsigned long long)h.low64);
	e.uid = uid;
	e.diverged = true;
	e.detected_at = clock_wall();
	e.detection_delay = -1;
	e.writes = json_array();
	e.final = json_object_get(r, "final");
	id = ledger_add(v->c.state, &e, &created);
	json_decref(e.writes);
	if (id < 0) {
		log_error("verify: cannot record drift on %s.%s %s: %s", e.schema, e.table,
			  key_text, state_error(v->c.state));
	} else if (created) {
		log_warn("conflict %lld: drift on %s.%s %s: the masters' rows differ and no write "
			 "explains it",
			 (long long)id, e.schema, e.table, key_text);
		v->total_drift++;
		v->job_drift++;
		if (v->c.tracker != NULL && e.key_hex[0] != '\0')
			tracker_follow(v->c.tracker, uid, e.schema, e.table, e.key_hex);
	}
	free(key_text);
}

static void on_resolve(struct verify *v, json_t *r)
{
	int64_t id = json_integer_value(json_object_get(r, "id"));

	if (ledger_resolve(v->c.state, id, NULL, "verify", clock_wall()) == 0) {
		log_info("conflict %lld resolved: verification read the same row on every master",
			 (long long)id);
		if (v->c.tracker != NULL)
			tracker_resolved(v->c.tracker, id);
	}
}

static void on_progress(struct verify *v, json_t *p)
{
	const char *chunk = json_string_value(json_object_get(p, "chunk"));
	uint64_t rows = (uint64_t)json_integer_value(json_object_get(p, "rows"));

	v->rows_now += rows;
	v->total_rows += rows;
	if (chunk != NULL && strcmp(chunk, "equal") == 0)
		v->total_equal++;
	else if (chunk != NULL && strcmp(chunk, "different") == 0)
		v->total_different++;
	else if (chunk != NULL)
		v->total_unsure++;
	if (clock_mono() - v->rate_at >= RATE_WINDOW) {
		v->rate = (double)(v->rows_now - v->rate_rows) / (clock_mono() - v->rate_at);
		v->rate_at = clock_mono();
		v->rate_rows = v->rows_now;
	}
	if (verify_store_progress(v->c.state, v->job, p, 0) != 0)
		log_error("verify: saving the progress: %s", state_error(v->c.state));
}

static void job_end(struct verify *v, json_t *d)
{
	const char *error = json_string_value(json_object_get(d, "error"));
	bool stopped = json_is_true(json_object_get(d, "stopped"));

	if (stopped)
		return; /* ringwatchd stops: the job stays running, to resume */
	v->state = error != NULL ? "failed" : "done";
	snprintf(v->error, sizeof(v->error), "%s", error != NULL ? error : "");
	v->ended_at = clock_wall();
	v->table[0] = v->paused[0] = '\0';
	verify_store_job_end(v->c.state, v->job, v->state, error, v->ended_at);
	if (error != NULL)
		log_error("verify: job %lld failed: %s", (long long)v->job, error);
	else
		log_info("verify: job %lld done", (long long)v->job);
	verify_worker_join(v->worker);
	v->worker = NULL;
}

static void on_news(struct verify *v, int type, json_t *j)
{
	const char *schema = json_string_value(json_object_get(j, "schema"));
	const char *table = json_string_value(json_object_get(j, "table"));

	switch (type) {
	case VL_TABLES:
		verify_store_tables(v->c.state, v->job, json_object_get(j, "tables"));
		break;
	case VL_TABLE:
		snprintf(v->table, sizeof(v->table), "%s.%s", schema, table);
		log_info("verify: reading %s", v->table);
		break;
	case VL_SKIP:
		verify_store_skip(v->c.state, v->job, schema, table,
				  json_string_value(json_object_get(j, "reason")));
		log_notice("verify: %s.%s skipped: %s", schema, table,
			   json_string_value(json_object_get(j, "reason")));
		break;
	case VL_PROGRESS:
		on_progress(v, j);
		break;
	case VL_RECORD:
		on_record(v, j);
		break;
	case VL_RESOLVE:
		on_resolve(v, j);
		break;
	case VL_PAUSE:
		if (strcmp(v->said, json_string_value(json_object_get(j, "reason"))) != 0)
			log_info("verify: %s%s",
				 *json_string_value(json_object_get(j, "reason")) ? "waiting: "
										  : "going on",
				 json_string_value(json_object_get(j, "reason")));
		snprintf(v->said, sizeof(v->said), "%s",
			 json_string_value(json_object_get(j, "reason")));
		snprintf(v->paused, sizeof(v->paused), "%s",
			 json_string_value(json_object_get(j, "reason")));
		break;
	case VL_DONE:
		job_end(v, j);
		break;
	default:
		break;
	}
}

static void on_letter(void *ctx, struct mail *m)
{
	struct verify *v = ctx;
	struct verify_letter *l = (struct verify_letter *)m;
	json_t *j = json_loads(l->json, 0, NULL);

	if (j == NULL) {
		log_error("verify: a letter that is not JSON");
	} else if (l->type == VL_ASK_GO) {
		ask_go(v, l->seq);
	} else if (l->type == VL_ASK_WINDOW) {
		ask_window(v, l->seq, j);
	} else if (l->type == VL_ASK_OPEN) {
		ask_open(v, l->seq, j);
	} else {
		on_news(v, l->type, j);
	}
	json_decref(j);
	free(m);
}

/* ---- jobs ----------------------------------------------------------------------- */

static int start_worker(struct verify *v, json_t *job, char *err, size_t len)
{
	struct verify_worker_config wc = {
		.masters = v->c.cfg->masters,
		.n_masters = v->c.cfg->n_masters,
		.mb = v->mb,
		.job = job,
		.chunk_time = v->c.cfg->verify_chunk_time,
		.max_load = v->c.cfg->verify_max_load,
	};

	/* the ring holds the changes from this moment on (verify_row_seen()) */
	verify_touches_clear(v->touches, clock_mono());
	v->worker = verify_worker_start(&wc, err, len);
	if (v->worker == NULL)
		return -1;
	v->state = "running";
	v->error[0] = v->paused[0] = v->table[0] = '\0';
	v->rate_at = clock_mono();
	v->rate_rows = v->rows_now = 0;
	v->rate = -1;
	v->job_drift = 0;
	return 0;
}

/* "schema.table" strings into [{"schema", "table"}]; NULL when one has no dot. */
static json_t *table_list(json_t *tables, char *err, size_t len)
{
	json_t *out = json_array(), *t;
	size_t i;

	json_array_foreach(tables, i, t)
	{
		const char *s = json_string_value(t), *dot = s != NULL ? strchr(s, '.') : NULL;
		if (dot == NULL || dot == s || dot[1] == '\0') {
			snprintf(err, len, "a table is named SCHEMA.TABLE, not '%s'",
				 s != NULL ? s : "?");
			json_decref(out);
			return NULL;
		}
		json_array_append_new(
		    out, json_pack("{s:s#,s:s}", "schema", s, (int)(dot - s), "table", dot + 1));
	}
	return out;
}

int64_t verify_start(struct verify *v, json_t *tables, uint64_t chunk_rows, char *err, size_t len)
{
	json_t *list, *job;
	int64_t id;

	if (v->worker != NULL)
		return 0;
	list = table_list(tables, err, len);
	if (list == NULL)
		return -1;
	id = verify_store_job_new(v->c.state, chunk_rows, clock_wall());
	if (id < 0 || verify_store_tables(v->c.state, id, list) != 0) {
		snprintf(err, len, "the state database: %s", state_error(v->c.state));
		json_decref(list);
		return -1;
	}
	job = json_pack("{s:I,s:I,s:o}", "id", (json_int_t)id, "chunk_rows", (json_int_t)chunk_rows,
			"tables", list);
	v->job = id;
	v->started_at = clock_wall();
	v->ended_at = 0;
	if (start_worker(v, job, err, len) != 0) {
		verify_store_job_end(v->c.state, id, "failed", err, clock_wall());
		v->state = "failed";
		snprintf(v->error, sizeof(v->error), "%s", err);
		json_decref(job);
		return -1;
	}
	json_decref(job);
	log_info("verify: job %lld started (%s)", (long long)id,
		 json_array_size(tables) > 0 ? "the tables named" : "every table");
	return id;
}

void verify_resume(struct verify *v)
{
	uint64_t chunk_rows;
	double started;
	int64_t id;
	char err[256];
	json_t *job;

	if (v->worker != NULL || verify_store_running(v->c.state, &id, &chunk_rows, &started) != 0)
		return;
	job = verify_store_job(v->c.state, id);
	if (job == NULL)
		return;
	v->job = id;
	v->started_at = started;
	if (start_worker(v, job, err, sizeof(err)) != 0)
		log_error("verify: cannot resume job %lld: %s", (long long)id, err);
	else
		log_info("verify: job %lld resumed where it was", (long long)id);
	json_decref(job);
}

static void on_schedule(evutil_socket_t fd, short what, void *arg)
{
	struct verify *v = arg;
	double every = v->c.cfg->verify_schedule, last;
	char err[256];

	(void)fd;
	(void)what;
	if (every <= 0 || v->worker != NULL)
		return;
	last = verify_store_last_end(v->c.state);
	if (last > 0 && clock_wall() - last < every)
		return;
	if (verify_start(v, NULL, 0, err, sizeof(err)) < 0)
		log_error("verify: the scheduled job did not start: %s", err);
}

/* ---- life ----------------------------------------------------------------------- */

struct verify *verify_new(struct event_base *base, const struct verify_config *c)
{
	struct verify *v = calloc(1, sizeof(*v));
	struct timeval tick = { 0, (suseconds_t)(TICK * 1e6) };
	struct timeval sched = { (time_t)SCHEDULE_TICK, 0 };

	if (v == NULL)
		return NULL;
	v->c = *c;
	v->base = base;
	v->state = "idle";
	v->rate = -1;
	v->touches = verify_touches_new(TOUCH_BYTES);
	v->mb = mailbox_new(base, MAILBOX_BYTES, on_letter, v);
	v->tick = event_new(base, -1, EV_PERSIST, on_tick, v);
	v->schedule = event_new(base, -1, EV_PERSIST, on_schedule, v);
	if (v->touches == NULL || v->mb == NULL || v->tick == NULL || v->schedule == NULL ||
	    verify_store_init(c->state) != 0 || event_add(v->tick, &tick) != 0 ||
	    event_add(v->schedule, &sched) != 0) {
		log_error("verify: cannot start (out of memory, or the state database: %s)",
			  c->state != NULL ? state_error(c->state) : "none");
		verify_free(v);
		return NULL;
	}
	{
		uint64_t rows;
		double started;
		int64_t id;
		if (verify_store_running(c->state, &id, &rows, &started) == 0)
			v->job = id, v->started_at = started, v->state = "stopped";
	}
	return v;
}

void verify_free(struct verify *v)
{
	if (v == NULL)
		return;
	if (v->worker != NULL) {
		verify_worker_stop(v->worker);
		if (v->mb != NULL)
			mailbox_close(v->mb);
		verify_worker_join(v->worker);
	}
	if (v->tick != NULL)
		event_free(v->tick);
	if (v->schedule != NULL)
		event_free(v->schedule);
	mailbox_free(v->mb);
	json_decref(v->question);
	verify_touches_free(v->touches);
	free(v);
}

/* ---- the view ------------------------------------------------------------------- */

static void view_skipped(struct verify *v, struct verify_view *o)
{
	json_t *list = verify_store_skipped(v->c.state, v->job), *s;
	size_t i;

	json_array_foreach(list, i, s)
	{
		if (o->n_skipped >= VERIFY_VIEW_SKIPPED)
			break;
		snprintf(o->skipped[o->n_skipped].table, sizeof(o->skipped[0].table), "%s",
			 json_string_value(json_object_get(s, "table")));
		snprintf(o->skipped[o->n_skipped].reason, sizeof(o->skipped[0].reason), "%s",
			 json_string_value(json_object_get(s, "reason")));
		o->n_skipped++;
	}
	json_decref(list);
}

void verify_view(struct verify *v, struct verify_view *o)
{
	struct verify_totals t;

	memset(o, 0, sizeof(*o));
	o->running = v->worker != NULL;
	o->waiting = o->running && v->paused[0] != '\0';
	o->state = o->waiting ? "paused" : v->state;
	o->job = v->job;
	o->started_at = v->started_at;
	o->ended_at = v->ended_at;
	snprintf(o->table, sizeof(o->table), "%s", o->running ? v->table : "");
	snprintf(o->paused, sizeof(o->paused), "%s", o->waiting ? v->paused : "");
	snprintf(o->error, sizeof(o->error), "%s", v->error);
	o->rows_per_second = o->running ? v->rate : -1;
	o->eta_seconds = -1;
	if (v->job > 0 && verify_store_totals(v->c.state, v->job, &t) == 0) {
		o->tables_total = t.tables;
		o->tables_done = t.done;
		o->tables_skipped = t.skipped;
		o->chunks_equal = t.equal;
		o->chunks_different = t.different;
		o->chunks_unsure = t.unsure;
		o->rows = t.rows;
		o->not_verified = t.not_verified;
		if (o->running && v->rate > 0 && t.rows_estimate >= t.rows)
			o->eta_seconds = (double)(t.rows_estimate - t.rows) / v->rate;
		else if (o->running && v->rate > 0)
			o->eta_seconds = 0;
		view_skipped(v, o);
	}
	o->drift_rows = v->job_drift;
	o->total_rows = v->total_rows;
	o->total_equal = v->total_equal;
	o->total_different = v->total_different;
	o->total_unsure = v->total_unsure;
	o->total_drift = v->total_drift;
}
