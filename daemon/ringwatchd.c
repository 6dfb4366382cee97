/*
 * ringwatchd.c - the daemon's main: options, start-up, signals, shutdown.
 *
 * Everything runs on one libevent loop.  main() reads and checks the
 * configuration (--check-config stops there) and initialises the client
 * library; start() then makes the state dir and opens the state (locked for
 * this process, its integrity checked: state.h), creates
 * the loop, installs the signal handlers, starts HTTP, the streams (with the
 * lag matcher, the conflict engine restored from its checkpoint and the
 * one-second checkpoint timer), the SQL probes and, when they go somewhere,
 * the alerts (their one-second rules and their sender's thread); READY
 * follows.  stop() ends the alerts and the probes, saves the engine's
 * checkpoint, frees the streams (each saves its own), the engine, the lag
 * matcher, the signal handlers, HTTP, the loop and the state.  SIGHUP reloads the configuration; a file that
 * does not validate is logged and the running configuration stays.
 */
#include "daemon.h"

#include "alert_sender.h"
#include "alerts.h"
#include "api.h"
#include "basic_auth.h"
#include "build_config.h"
#include "catchup.h"
#include "clock.h"
#include "http.h"
#include "ledger_memo.h"
#include "log.h"
#include "mailbox.h"
#include "notify.h"
#include "probe.h"
#include "schemas.h"
#include "state.h"
#include "status.h"
#include "stream.h"
#include "tracker.h"
#include "verify.h"

#include "ringwatch/conflict.h"

#include <mysql.h>
#include <xxhash.h>
#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_CONFIG "/etc/ringwatch/ringwatchd.conf"

enum {
	EXIT_OK = 0,
	EXIT_FAILURE_FOUND = 1,
	EXIT_USAGE = 2,
};

static void usage(FILE *out)
{
	fprintf(out, "usage: ringwatchd [-c FILE] [--check-config] [--version]\n"
		     "  -c, --config FILE   configuration (default " DEFAULT_CONFIG ")\n"
		     "      --check-config  validate the configuration and exit\n"
		     "      --version       print the version and exit\n");
}

/* mkdir -p: 0750 for the parents it creates, 0700 for path itself (state_dir is private). */
static int make_dirs(const char *path)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0750) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0700) != 0 && errno != EEXIST)
		return -1;
	return 0;
}

static void log_masters(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_masters; i++) {
		const struct config_master *m = &cfg->masters[i];
		if (m->host != NULL)
			log_info("master %s: %s@%s:%u, ssl_mode=%s", m->name, m->user, m->host,
				 m->port, config_ssl_mode_name(m->ssl_mode));
		else
			log_info("master %s: %s@%s, ssl_mode=%s", m->name, m->user, m->socket,
				 config_ssl_mode_name(m->ssl_mode));
	}
}

static bool same_masters(const struct config *a, const struct config *b)
{
	if (a->n_masters != b->n_masters)
		return false;
	for (size_t i = 0; i < a->n_masters; i++) {
		if (strcmp(a->masters[i].name, b->masters[i].name) != 0)
			return false;
	}
	return true;
}

/* Point every stream at its master's new settings, or keep the old masters
 * when the set of masters changed (that takes a restart). */
static void reload_masters(struct rwd *d, struct config *fresh)
{
	if (!same_masters(&d->cfg, fresh)) {
		struct config_master *m = fresh->masters;
		size_t n = fresh->n_masters;
		log_warn("reload: the set of masters changed; it takes effect after a restart");
		fresh->masters = d->cfg.masters;
		fresh->n_masters = d->cfg.n_masters;
		d->cfg.masters = m;
		d->cfg.n_masters = n;
		return;
	}
	for (size_t i = 0; i < d->n_streams; i++)
		stream_reconfigure(d->streams[i], &fresh->masters[i], fresh->server_id);
}

/* Two strings that may be NULL hold the same text. */
static bool same_text(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

static int start_alerts(struct rwd *d);

/*
 * Swap in a new configuration.  What needs a restart (the listening address,
 * state_dir, the set of masters, the TLS certificate) keeps its running value
 * and says so.
 */
static void apply_reload(struct rwd *d, struct config *fresh)
{
	bool alerts_changed;

	if (strcmp(fresh->listen, d->cfg.listen) != 0) {
		log_warn("reload: listen changed from %s to %s; it takes effect after a restart",
			 d->cfg.listen, fresh->listen);
		char *tmp = fresh->listen;
		fresh->listen = d->cfg.listen;
		d->cfg.listen = tmp;
		tmp = fresh->listen_host;
		fresh->listen_host = d->cfg.listen_host;
		d->cfg.listen_host = tmp;
		fresh->listen_port = d->cfg.listen_port;
	}
	if (strcmp(fresh->state_dir, d->cfg.state_dir) != 0) {
		log_warn("reload: state_dir changed from %s to %s; it takes effect after a restart",
			 d->cfg.state_dir, fresh->state_dir);
		char *tmp = fresh->state_dir;
		fresh->state_dir = d->cfg.state_dir;
		d->cfg.state_dir = tmp;
	}
	if (!same_text(fresh->tls_cert, d->cfg.tls_cert) ||
	    !same_text(fresh->tls_key, d->cfg.tls_key))
		log_warn("reload: the TLS certificate or key changed; it takes effect after a "
			 "restart");
	reload_masters(d, fresh);
	alerts_changed = !alerts_run_same_config(&d->cfg, fresh);
	config_free(&d->cfg);
	d->cfg = *fresh;
	log_set_level(d->cfg.log_level);
	api_log_exposure(&d->cfg);
	if (alerts_changed) {
		/* the new receivers learn what fires as it starts again */
		log_info("reload: [alerts] changed; the alerts start over");
		alerts_run_stop(d->alerts);
		start_alerts(d);
	}
}

static void reload(struct rwd *d)
{
	struct config fresh;
	struct config_error err;

	notify_reloading();
	log_info("reload: reading %s", d->config_path);
	d->reload.last_at = clock_wall();
	if (config_load(d->config_path, &fresh, &err) != 0) {
		d->reload.failed++;
		d->reload.last_ok = false;
		snprintf(d->reload.last_error, sizeof(d->reload.last_error), "%s", err.message);
		log_error("reload failed: %s; keeping the running configuration", err.message);
	} else {
		apply_reload(d, &fresh);
		d->reload.ok++;
		d->reload.last_ok = true;
		d->reload.last_error[0] = '\0';
		log_info("reload: done, %zu masters", d->cfg.n_masters);
		log_masters(&d->cfg);
	}
	notify_ready();
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct rwd *d = arg;

	(void)what;
	if (sig == SIGHUP) {
		reload(d);
		return;
	}
	log_info("received %s, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	notify_stopping();
	event_base_loopbreak(d->base);
}

static int add_signal(struct rwd *d, struct event **slot, int sig)
{
	*slot = evsignal_new(d->base, sig, on_signal, d);
	return *slot == NULL || evsignal_add(*slot, NULL) != 0 ? -1 : 0;
}

/* Transactions remembered for lag measurement (about 24 bytes each). */
#define LAG_CAPACITY 262144

/* A transaction completed in master m's stream: a lag observation. */
static void on_trx_end(void *ctx, size_t m, const binlog_trx *t)
{
	struct rwd *d = ctx;
	size_t origin = LAG_ORIGIN_UNKNOWN;

	if (t->gtid[0] == '\0' || d->lag == NULL)
		return; /* without a GTID the identity is not known across streams */
	for (size_t i = 0; i < d->n_streams; i++) {
		if (stream_server_id(d->streams[i]) == t->origin_server_id) {
			origin = i;
			break;
		}
	}
	lag_seen(d->lag, XXH3_64bits(t->gtid, strlen(t->gtid)), origin, m, clock_mono());
}

static void on_event(void *ctx, size_t m, const binlog_event *ev, const void *batch,
		     size_t batch_len)
{
	struct rwd *d = ctx;

	if (d->tracker != NULL)
		tracker_event(d->tracker, m, ev, batch, batch_len);
}

static schema_db *on_shapes(void *ctx, size_t m, uint64_t *tag)
{
	struct rwd *d = ctx;

	return d->tracker != NULL ? tracker_shapes(d->tracker, m, tag) : NULL;
}

/* Probe rounds between two reads of a master's information_schema. */
#define SCHEMA_CHECK_ROUNDS 5

/* Events wait until every master's server_id is known (checkpoints remember
 * them), or for a few seconds at the very first start with a master down. */
#define ORIGIN_WAIT 10.0

static bool streams_ready(void *ctx)
{
	struct rwd *d = ctx;

	if (d->origins_known)
		return true;
	for (size_t i = 0; i < d->n_streams; i++) {
		if (stream_server_id(d->streams[i]) == 0) {
			if (clock_mono() - d->started < ORIGIN_WAIT)
				return false;
			log_warn("master %s has not said its server_id yet: transactions it wrote "
				 "are not compared until it does",
				 d->cfg.masters[i].name);
			break;
		}
	}
	d->origins_known = true;
	return true;
}

/* A row change a stream showed: to verification's ring of recent changes. */
static void on_row(void *ctx, unsigned master, uint64_t trx, uint64_t pos, const uint8_t *key,
		   size_t len, int table_only)
{
	struct rwd *d = ctx;

	if (d->verify != NULL)
		verify_row_seen(d->verify, master, trx, pos, key, len, table_only);
}

static void on_reset(void *ctx, size_t m)
{
	struct rwd *d = ctx;

	if (d->tracker != NULL)
		tracker_reset(d->tracker, m);
}

static void on_gap(void *ctx, size_t m)
{
	struct rwd *d = ctx;

	if (d->tracker != NULL)
		tracker_gap(d->tracker, m);
}

/* A rows event of a table whose shape is not known: the stream holds it while the tables are read. */
static bool on_admit(void *ctx, size_t m, const binlog_event *ev)
{
	struct rwd *d = ctx;

	if (d->tracker == NULL || tracker_admit(d->tracker, m, ev))
		return true;
	if (d->probes != NULL && d->probes[m] != NULL &&
	    tracker_wants_schema(d->tracker, m, clock_mono(), 0))
		probe_read_schema_now(d->probes[m]);
	return false;
}

static bool on_held(void *ctx, size_t m, const binlog_event *ev)
{
	struct rwd *d = ctx;

	return d->tracker == NULL || tracker_held(d->tracker, m, ev);
}

static void on_give_up(void *ctx, size_t m)
{
	struct rwd *d = ctx;

	if (d->tracker != NULL)
		tracker_give_up(d->tracker, m);
}

/* The loop did not run for a while (SIGSTOP, a frozen VM, no CPU): say so once it runs again. */
static void notice_stall(struct rwd *d)
{
	double now = clock_mono(), gap = d->last_tick > 0 ? now - d->last_tick : 0;

	d->last_tick = now;
	if (gap < LOOP_STALL_SECONDS)
		return;
	d->stalls.total++;
	d->stalls.last_at = clock_wall();
	d->stalls.last_seconds = gap;
	log_warn("ringwatchd did not run for %.1f s (stopped with SIGSTOP, or given no CPU): the "
		 "streams, the probes and the HTTP answers waited; catching up now",
		 gap);
}

static void on_checkpoint(evutil_socket_t fd, short what, void *arg)
{
	struct rwd *d = arg;

	(void)fd;
	(void)what;
	notice_stall(d);
	state_retry(d->state); /* writes that failed, oldest first (state.h) */
	if (d->tracker == NULL)
		return;
	tracker_checkpoint(d->tracker);
	for (size_t i = 0; i < d->n_streams; i++) {
		if (tracker_hold_check(d->tracker, i))
			stream_resume(d->streams[i]);
	}
}

/* The master whose stream says it has server_id, or -1. */
static int origin_of(uint32_t server_id, void *arg)
{
	struct rwd *d = arg;

	for (size_t i = 0; i < d->n_streams && server_id != 0; i++) {
		if (stream_server_id(d->streams[i]) == server_id)
			return (int)i;
	}
	return -1;
}

static int start_streams(struct rwd *d)
{
	struct stream_sink sink = {
		.event = on_event,
		.shapes = on_shapes,
		.ready = streams_ready,
		.admit = on_admit,
		.held = on_held,
		.give_up = on_give_up,
		.reset = on_reset,
		.gap = on_gap,
		.trx_end = on_trx_end,
		.ctx = d,
	};

	d->streams = calloc(d->cfg.n_masters, sizeof(*d->streams));
	d->lag = lag_new(d->cfg.n_masters, LAG_CAPACITY);
	if (d->streams == NULL || d->lag == NULL)
		return -1;
	for (size_t i = 0; i < d->cfg.n_masters; i++) {
		d->streams[i] =
		    stream_new(d->base, i, &d->cfg.masters[i], d->cfg.server_id, d->state, sink);
		if (d->streams[i] == NULL)
			return -1;
		d->n_streams++;
	}
	{
		const char *names[CONFLICT_MAX_MASTERS];
		struct tracker_config tc = {
			.n_masters = d->n_streams,
			.names = names,
			.state = d->state,
			.max_tracked_writes = d->cfg.max_tracked_writes,
			.origin = origin_of,
			.origin_arg = d,
			.row = on_row,
			.row_arg = d,
		};
		for (size_t i = 0; i < d->n_streams && i < CONFLICT_MAX_MASTERS; i++)
			names[i] = d->cfg.masters[i].name;
		d->tracker = tracker_new(&tc);
	}
	if (d->tracker == NULL)
		return -1;
	tracker_restore(d->tracker);
	for (size_t i = 0; i < d->n_streams; i++) {
		char file[256];
		uint64_t offset;
		if (tracker_resume(d->tracker, i, file, sizeof(file), &offset))
			stream_start_from(d->streams[i], file, offset);
		else
			stream_start(d->streams[i]);
	}
	d->checkpoint = event_new(d->base, -1, EV_PERSIST, on_checkpoint, d);
	if (d->checkpoint == NULL ||
	    event_add(d->checkpoint, &(struct timeval){ .tv_sec = 1 }) != 0)
		return -1;
	return 0;
}

/* The latest probe round of a master; a failed one keeps the last good one too. */
/* The tables of a master: to the tracker. */
static void on_schema(struct rwd *d, struct probe_schema *s)
{
	if (s->master_index < d->n_streams && d->tracker != NULL) {
		if (s->ok) {
			struct schemas_snapshot snap = {
				.text = s->text,
				.len = s->len,
				.opt = { s->is_mariadb, s->version },
				.has_positions = s->has_positions,
				.p1 = conflict_feed_position(s->p1_file, s->p1_offset),
				.p2 = conflict_feed_position(s->p2_file, s->p2_offset),
				.sizes = s->sizes,
				.sizes_len = s->sizes_len,
			};
			tracker_schema(d->tracker, s->master_index, &snap);
			if (tracker_hold_check(d->tracker, s->master_index))
				stream_resume(d->streams[s->master_index]);
		} else {
			log_warn("master %s: %s", d->cfg.masters[s->master_index].name, s->error);
		}
	}
	free(s);
}

/* The master a link on replica reads from, for the log: the connection's name when it is a
 * master's name, else the source's address. */
static void link_name(const struct rwd *d, size_t replica, const struct probe_link *l, char *buf,
		      size_t len)
{
	for (size_t i = 0; i < d->cfg.n_masters; i++) {
		if (strcmp(l->connection_name, d->cfg.masters[i].name) == 0) {
			snprintf(buf, len, "%s→%s", l->connection_name,
				 d->cfg.masters[replica].name);
			return;
		}
	}
	snprintf(buf, len, "%s:%u→%s (connection '%s')", l->source_host, l->source_port,
		 d->cfg.masters[replica].name, l->connection_name);
}

static bool link_running(const struct probe_link *l)
{
	return l->io_running && l->sql_running;
}

/* Say in the log when a link on master i stops, fails again otherwise, runs again or goes:
 * prev is the probe before r that worked (NULL: none), r one that worked. */
static void log_link_changes(const struct rwd *d, size_t i, const struct probe_result *prev,
			     const struct probe_result *r)
{
	char name[400];

	for (size_t k = 0; k < r->n_links; k++) {
		const struct probe_link *l = &r->links[k], *p = NULL;
		for (size_t j = 0; prev != NULL && j < prev->n_links && p == NULL; j++) {
			if (strcmp(prev->links[j].connection_name, l->connection_name) == 0)
				p = &prev->links[j];
		}
		link_name(d, i, l, name, sizeof(name));
		if (!link_running(l) &&
		    (p == NULL || link_running(p) || p->last_sql_errno != l->last_sql_errno ||
		     p->last_io_errno != l->last_io_errno)) {
			if (l->last_sql_errno != 0)
				log_warn("link %s: SQL thread %s, IO thread %s: error %u: %s", name,
					 l->sql_state, l->io_state, l->last_sql_errno,
					 l->last_sql_error);
			else if (l->last_io_errno != 0)
				log_warn("link %s: IO thread %s, SQL thread %s: error %u: %s", name,
					 l->io_state, l->sql_state, l->last_io_errno,
					 l->last_io_error);
			else
				log_warn("link %s: IO thread %s, SQL thread %s, without an error "
					 "(STOP SLAVE?)",
					 name, l->io_state, l->sql_state);
		} else if (link_running(l) && p != NULL && !link_running(p)) {
			log_info("link %s: runs again", name);
		}
	}
	for (size_t j = 0; prev != NULL && j < prev->n_links; j++) {
		bool still = false;
		for (size_t k = 0; k < r->n_links && !still; k++)
			still = strcmp(prev->links[j].connection_name,
				       r->links[k].connection_name) == 0;
		if (!still) {
			link_name(d, i, &prev->links[j], name, sizeof(name));
			log_warn("link %s: gone from the replica's status (RESET SLAVE ALL?)",
				 name);
		}
	}
}

static void on_probe(void *ctx, struct mail *m)
{
	struct rwd *d = ctx;
	struct probe_result *r = (struct probe_result *)m;
	struct probe_result *prev;
	size_t i = r->master_index;
	bool was_ok;

	if (m->kind == PROBE_SCHEMA) {
		on_schema(d, (struct probe_schema *)m);
		return;
	}
	for (size_t k = 0; d->tracker != NULL && k < d->n_streams; k++) {
		/* and every few rounds: a change made with sql_log_bin=0 shows there only */
		if (tracker_wants_schema(d->tracker, k, clock_mono(),
					 SCHEMA_CHECK_ROUNDS * d->cfg.probe_interval))
			probe_refresh_schema(d->probes[k]);
	}

	if (i >= d->n_streams) {
		probe_result_free(r);
		return;
	}
	prev = d->probe_last[i];
	was_ok = prev == NULL || prev->ok;
	if (was_ok && !r->ok)
		log_warn("master %s: SQL probe failed: %s", d->cfg.masters[i].name, r->error);
	else if (!was_ok && r->ok)
		log_info("master %s: SQL probe works again", d->cfg.masters[i].name);
	/* release what nothing points at any more */
	if (prev != NULL && prev != d->probe_last_ok[i])
		probe_result_free(prev);
	if (r->ok) {
		struct stream_view v;
		log_link_changes(d, i, d->probe_last_ok[i], r);
		probe_result_free(d->probe_last_ok[i]);
		d->probe_last_ok[i] = r;
		stream_view(d->streams[i], &v);
		catchup_observe(d->catchup, i, r, &v, clock_mono());
	}
	d->probe_last[i] = r;
}

static int start_probes(struct rwd *d)
{
	char err[256];
	size_t n = d->n_streams;

	d->probes = calloc(n, sizeof(*d->probes));
	d->probe_last = calloc(n, sizeof(*d->probe_last));
	d->probe_last_ok = calloc(n, sizeof(*d->probe_last_ok));
	d->probe_mb = mailbox_new(d->base, (size_t)16 << 20, on_probe, d);
	d->catchup = catchup_new(n);
	if (d->probes == NULL || d->probe_last == NULL || d->probe_last_ok == NULL ||
	    d->probe_mb == NULL || d->catchup == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		d->probes[i] = probe_start(&d->cfg.masters[i], i, d->cfg.probe_interval,
					   d->probe_mb, 1, err, sizeof(err));
		if (d->probes[i] == NULL) {
			log_error("master %s: %s", d->cfg.masters[i].name, err);
			return -1;
		}
	}
	return 0;
}

static void stop_probes(struct rwd *d)
{
	if (d->probes != NULL) {
		for (size_t i = 0; i < d->n_streams; i++) {
			if (d->probes[i] != NULL)
				probe_stop(d->probes[i]);
		}
		if (d->probe_mb != NULL)
			mailbox_close(d->probe_mb);
		for (size_t i = 0; i < d->n_streams; i++) {
			if (d->probes[i] != NULL)
				probe_join(d->probes[i]);
		}
	}
	mailbox_free(d->probe_mb);
	for (size_t i = 0; d->probe_last != NULL && i < d->n_streams; i++) {
		if (d->probe_last[i] != d->probe_last_ok[i])
			probe_result_free(d->probe_last[i]);
		probe_result_free(d->probe_last_ok[i]);
	}
	free(d->probes);
	free(d->probe_last);
	free(d->probe_last_ok);
	catchup_free(d->catchup);
	d->catchup = NULL;
	d->probes = NULL;
	d->probe_last = d->probe_last_ok = NULL;
	d->probe_mb = NULL;
}

/* ---- what the HTTP API asks of the daemon (api.h) ---------------------------------- */

static int api_status(void *arg, struct status *st)
{
	struct rwd *d = arg;
	struct http_stats http;
	struct status_sources src = {
		.cfg = &d->cfg,
		.uptime = clock_mono() - d->started,
		.started_wall = d->started_wall,
		.now = clock_mono(),
		.streams = d->streams,
		.n_streams = d->n_streams,
		.probe_last = d->probe_last,
		.probe_last_ok = d->probe_last_ok,
		.lag = d->lag,
		.catchup = d->catchup,
		.tracker = d->tracker,
		.state = d->state,
		.ledger_memo = d->ledger_memo,
		.alert_sender = alerts_run_sender(d->alerts),
		.verify = d->verify,
		.reload = &d->reload,
		.stalls = &d->stalls,
	};

	if (d->http != NULL) {
		http_server_stats(d->http, &http);
		src.http = &http;
	}
	return status_collect(&src, st);
}

static json_t *api_tables(void *arg)
{
	struct rwd *d = arg;

	return d->tracker != NULL ? tracker_tables_json(d->tracker) : NULL;
}

static void api_resolved(void *arg, int64_t id)
{
	struct rwd *d = arg;

	if (d->tracker != NULL)
		tracker_resolved(d->tracker, id);
}

static json_t *api_ddl_check(void *arg, const char *sql, size_t len, const char *db)
{
	struct rwd *d = arg;

	return d->tracker != NULL ? tracker_ddl_check(d->tracker, sql, len, db) : NULL;
}

static int api_ack_gap(void *arg, int64_t id)
{
	struct rwd *d = arg;

	for (size_t i = 0; i < d->n_streams; i++) {
		if (stream_ack_gap(d->streams[i], id) == 0)
			return 0;
	}
	return 1;
}

/* The alerts, when [alerts] names where they go: 0, or -1 (logged). */
static int start_alerts(struct rwd *d)
{
	struct alerts_sources src = { api_status, d, d->state, d->tracker };

	return alerts_run_start(d->base, &d->cfg, http_server_port(d->http), &src, &d->alerts);
}

/* Every HTTP connection is a descriptor: take the hard limit, not the
 * soft one (often 1024), before the HTTP server sizes itself from it. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			log_warn("cannot raise the open files limit: %s", strerror(errno));
	}
}

static int64_t api_verify(void *arg, json_t *tables, uint64_t chunk_rows, char *err, size_t len)
{
	struct rwd *d = arg;

	if (d->verify == NULL) {
		snprintf(err, len, "verification does not run");
		return -1;
	}
	return verify_start(d->verify, tables, chunk_rows, err, len);
}

/* Verification jobs (verify.h); one that was running before a stop goes on. */
static int start_verify(struct rwd *d)
{
	struct verify_config vc = {
		.cfg = &d->cfg,
		.state = d->state,
		.tracker = d->tracker,
		.lag = d->lag,
		.status = api_status,
		.arg = d,
	};

	d->verify = verify_new(d->base, &vc);
	if (d->verify == NULL)
		return -1;
	verify_resume(d->verify);
	return 0;
}

static int start(struct rwd *d)
{
	struct http_tls tls;
	char err[1024];

	if (make_dirs(d->cfg.state_dir) != 0) {
		log_error("state_dir %s: %s", d->cfg.state_dir, strerror(errno));
		return -1;
	}
	d->state = state_open(d->cfg.state_dir, err, sizeof(err));
	if (d->state == NULL) {
		log_error("state: %s", err);
		return -1;
	}
	d->ledger_memo = ledger_memo_new();
	if (d->ledger_memo == NULL) {
		log_error("out of memory");
		return -1;
	}
	if (clock_mono() - d->started >= 1.0) /* the integrity check reads every page */
		log_info("state: %s opened and checked after %.1f s", d->cfg.state_dir,
			 clock_mono() - d->started);
	d->base = event_base_new();
	if (d->base == NULL) {
		log_error("cannot create the event loop");
		return -1;
	}
	/* before anything that takes time: a SIGHUP or SIGTERM during start-up is
	 * handled, not fatal */
	if (add_signal(d, &d->sig_term, SIGTERM) != 0 || add_signal(d, &d->sig_int, SIGINT) != 0 ||
	    add_signal(d, &d->sig_hup, SIGHUP) != 0) {
		log_error("cannot install signal handlers");
		return -1;
	}
	d->api = (struct api){ .cfg = &d->cfg,
			       .state = d->state,
			       .status = api_status,
			       .tables = api_tables,
			       .resolved = api_resolved,
			       .ddl_check = api_ddl_check,
			       .ack_gap = api_ack_gap,
			       .verify = api_verify,
			       .arg = d,
			       .basic = basic_auth_new() };
	if (d->api.basic == NULL) {
		log_error("out of memory");
		return -1;
	}
	raise_fd_limit();
	tls = (struct http_tls){ d->cfg.tls_cert, d->cfg.tls_key };
	d->http = http_server_start(d->base, d->cfg.listen_host, d->cfg.listen_port,
				    d->cfg.tls_cert != NULL ? &tls : NULL, api_routes, &d->api, err,
				    sizeof(err));
	if (d->http == NULL) {
		log_error("http: %s", err);
		return -1;
	}
	log_info("listening on http%s://%s%s%s:%u/ (at most %u connections)",
		 d->cfg.tls_cert != NULL ? "s" : "", strchr(d->cfg.listen_host, ':') ? "[" : "",
		 d->cfg.listen_host, strchr(d->cfg.listen_host, ':') ? "]" : "",
		 http_server_port(d->http), http_server_limit(d->http));
	api_log_exposure(&d->cfg);
	if (start_streams(d) != 0) {
		log_error("cannot start the binlog streams");
		return -1;
	}
	if (start_probes(d) != 0) {
		log_error("cannot start the SQL probes");
		return -1;
	}
	if (start_alerts(d) != 0)
		return -1;
	if (start_verify(d) != 0) {
		log_error("cannot start verification");
		return -1;
	}
	return 0;
}

static void stop(struct rwd *d)
{
	alerts_run_stop(d->alerts);
	d->alerts = NULL;
	verify_free(d->verify);
	d->verify = NULL;
	stop_probes(d);
	if (d->checkpoint != NULL)
		event_free(d->checkpoint);
	if (d->tracker != NULL)
		tracker_checkpoint(d->tracker);
	for (size_t i = 0; i < d->n_streams; i++)
		stream_free(d->streams[i]);
	tracker_free(d->tracker);
	d->tracker = NULL;
	free(d->streams);
	d->streams = NULL;
	lag_free(d->lag);
	d->lag = NULL;
	d->n_streams = 0;
	if (d->sig_hup != NULL)
		event_free(d->sig_hup);
	if (d->sig_int != NULL)
		event_free(d->sig_int);
	if (d->sig_term != NULL)
		event_free(d->sig_term);
	http_server_free(d->http);
	d->http = NULL;
	basic_auth_free(d->api.basic);
	d->api.basic = NULL;
	if (d->base != NULL)
		event_base_free(d->base);
	ledger_memo_free(d->ledger_memo);
	state_close(d->state);
	config_free(&d->cfg);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rwd d;
	struct config_error err;
	bool check_only = false;
	int c;
	int rc;

	memset(&d, 0, sizeof(d));
	d.config_path = DEFAULT_CONFIG;
#ifdef M_MMAP_THRESHOLD
	/*
	 * A buffer of 1 MiB or more (a big transaction's rows and keys, the
	 * engine's tables) is mapped on its own and goes back to the system
	 * when freed.  glibc's default raises this threshold to the largest
	 * block freed so far (up to 32 MiB), after which such buffers come from
	 * the heap and their pages stay counted in RSS after they are freed.
	 */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	/*
	 * Setting it also fixes the trim threshold at 128 KiB: the replica
	 * threads' letters (up to about 1 MiB, freed by the loop) would then
	 * give pages back and fault them in again all the time, at up to half
	 * the daemon's cpu while it catches up (bench/README).  32 MiB stays.
	 */
	mallopt(M_TRIM_THRESHOLD, 32 << 20);
#endif
	while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			d.config_path = optarg;
			break;
		case 'C':
			check_only = true;
			break;
		case 'V':
			printf("ringwatchd %s%s\n", PACKAGE_VERSION,
			       notify_supported() ? " (systemd)" : "");
			return EXIT_OK;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "ringwatchd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (config_load(d.config_path, &d.cfg, &err) != 0) {
		fprintf(stderr, "ringwatchd: %s\n", err.message);
		return EXIT_USAGE;
	}
	if (check_only) {
		printf("%s: configuration OK, %zu masters\n", d.config_path, d.cfg.n_masters);
		config_free(&d.cfg);
		return EXIT_OK;
	}

	log_set_level(d.cfg.log_level);
	signal(SIGPIPE, SIG_IGN);
	/* before any thread: the client library's global state is not thread-safe */
	if (mysql_library_init(0, NULL, NULL) != 0) {
		log_error("cannot initialise the MariaDB client library");
		config_free(&d.cfg);
		return EXIT_USAGE;
	}
	if (alert_sender_global_init() != 0) {
		log_error("cannot initialise libcurl");
		config_free(&d.cfg);
		return EXIT_USAGE;
	}
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	d.started = clock_mono();
	d.started_wall = clock_wall();
	log_info("ringwatchd %s starting with %s", PACKAGE_VERSION, d.config_path);
	log_masters(&d.cfg);
	if (start(&d) != 0) {
		stop(&d);
		return EXIT_USAGE;
	}
	notify_ready();
	rc = event_base_dispatch(d.base);
	stop(&d);
	if (rc < 0) {
		log_error("event loop failed");
		return EXIT_FAILURE_FOUND;
	}
	alert_sender_global_cleanup();
	mysql_library_end();
	log_info("stopped");
	return EXIT_OK;
}
