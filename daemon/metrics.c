/*
 * metrics.c - the status snapshot (status.h) in the Prometheus text format
 * of GET /metrics.
 */
#include "status.h"

#include "build_config.h"
#include "gate.h"
#include "probe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A label value with \, " and newline escaped, as the text format wants. */
static void put_label(FILE *out, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', out), fputc(*v, out);
		else if (*v == '\n')
			fputs("\\n", out);
		else
			fputc(*v, out);
	}
}

static void family(FILE *out, const char *name, const char *type, const char *help);

/* One sample of name per master, labelled with its name: v[i] is master i's. */
static void by_master(FILE *out, const struct status *st, const char *name, const uint64_t *v)
{
	for (size_t i = 0; i < st->n_masters && i < CONFLICT_MAX_MASTERS; i++) {
		fprintf(out, "%s{master=\"", name);
		put_label(out, st->masters[i].name);
		fprintf(out, "\"} %llu\n", (unsigned long long)v[i]);
	}
}

/*
 * One sample of a link; none when value is NaN (not known: a stale probe, a
 * NULL Seconds_Behind_Master).  A NaN sample would make `== 0` false, so an
 * alert on a stopped thread would never fire while the probe fails; an
 * absent one is what Prometheus users expect, and ringwatch_master_probe_ok
 * says why.
 */
static void sample_link(FILE *out, const char *name, const struct status_link *sl, double value)
{
	if (isnan(value))
		return;
	fprintf(out, "%s{source=\"", name);
	put_label(out, sl->source);
	fprintf(out, "\",replica=\"");
	put_label(out, sl->replica);
	fprintf(out, "\"} %.17g\n", value);
}

/* One metric family with one sample per link. */
static void per_link(FILE *out, const struct status *st, const char *name, const char *help,
		     double (*get)(const struct status_link *))
{
	family(out, name, "gauge", help);
	for (size_t i = 0; i < st->n_links; i++)
		sample_link(out, name, &st->links[i], get(&st->links[i]));
}

static double l_io(const struct status_link *sl)
{
	return sl->stale ? NAN : sl->l->io_running;
}

static double l_sql(const struct status_link *sl)
{
	return sl->stale ? NAN : sl->l->sql_running;
}

static double l_behind(const struct status_link *sl)
{
	return sl->stale || !sl->l->seconds_behind_known ? NAN
							 : (double)sl->l->seconds_behind_master;
}

static double l_lag(const struct status_link *sl)
{
	return sl->lag >= 0 ? sl->lag : NAN;
}

static double l_error(const struct status_link *sl)
{
	unsigned code = 0;
	const char *msg;

	if (sl->stale)
		return NAN;
	return probe_link_last_error(sl->l, &code, &msg) ? code : 0;
}

static double l_ok(const struct status_link *sl)
{
	return strcmp(sl->state, "ok") == 0;
}

/* ringwatch_link_info: what a link is, for joins; always 1. */
static void link_info(FILE *out, const struct status *st)
{
	family(out, "ringwatch_link_info", "gauge",
	       "A replication link as the replica reports it, always 1: source and replica "
	       "(master names as configured), source_host, source_port, connection_name.");
	for (size_t i = 0; i < st->n_links; i++) {
		const struct status_link *sl = &st->links[i];
		fprintf(out, "ringwatch_link_info{source=\"");
		put_label(out, sl->source);
		fprintf(out, "\",replica=\"");
		put_label(out, sl->replica);
		fprintf(out, "\",source_host=\"");
		put_label(out, sl->l->source_host);
		fprintf(out, "\",source_port=\"%u\",connection_name=\"", sl->l->source_port);
		put_label(out, sl->l->connection_name);
		fprintf(out, "\"} 1\n");
	}
}

static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample of a master; none when value is NaN (not known). */
static void sample_master(FILE *out, const char *name, const char *master, double value)
{
	if (isnan(value))
		return;
	fprintf(out, "%s{master=\"", name);
	put_label(out, master);
	fprintf(out, "\"} %.17g\n", value);
}

/* One metric family with one sample per master; get() says NAN for a value not known. */
static void per_master(FILE *out, const struct status *st, const char *name, const char *type,
		       const char *help,
		       double (*get)(const struct status *, const struct stream_view *))
{
	family(out, name, type, help);
	for (size_t i = 0; i < st->n_masters; i++) {
		double v = get(st, &st->masters[i]);
		if (!isnan(v)) /* unknown: left out */
			sample_master(out, name, st->masters[i].name, v);
	}
}

static double m_connected(const struct status *st, const struct stream_view *m)
{
	(void)st;
	return m->connected;
}

static double m_current(const struct status *st, const struct stream_view *m)
{
	return st->current[m - st->masters];
}

static double m_events(const struct status *st, const struct stream_view *m)
{
	(void)st;
	return (double)m->events_total;
}

static double m_bytes(const struct status *st, const struct stream_view *m)
{
	(void)st;
	return (double)m->bytes_total;
}

static double m_transactions(const struct status *st, const struct stream_view *m)
{
	(void)st;
	return (double)m->transactions_total;
}

static double m_reconnects(const struct status *st, const struct stream_view *m)
{
	(void)st;
	return (double)m->reconnects_total;
}

static double m_last_event(const struct status *st, const struct stream_view *m)
{
	(void)st;
	return m->last_event_received > 0 ? m->last_event_received : NAN;
}

static double m_gap(const struct status *st, const struct stream_view *m)
{
	(void)st;
	return m->gap;
}

static double m_catching_up(const struct status *st, const struct stream_view *m)
{
	size_t i = (size_t)(m - st->masters);

	return st->catchup[i].known ? status_catching_up(st, i) : NAN;
}

static double m_behind_bytes(const struct status *st, const struct stream_view *m)
{
	const struct catchup_verdict *v = &st->catchup[m - st->masters];

	return v->known ? (double)v->bytes : NAN;
}

static double m_behind_trx(const struct status *st, const struct stream_view *m)
{
	const struct catchup_verdict *v = &st->catchup[m - st->masters];

	return v->known && v->transactions >= 0 ? (double)v->transactions : NAN;
}

static double m_probe_ok(const struct status *st, const struct stream_view *m)
{
	return st->probe_ok[m - st->masters];
}

static double m_trx_age(const struct status *st, const struct stream_view *m)
{
	size_t i = (size_t)(m - st->masters);

	return st->trx_age_known != NULL && st->trx_age_known[i] ? st->trx_age[i] : NAN;
}

static void conflict_metrics(FILE *out, const struct status *st)
{
	family(out, "ringwatch_conflicts_total", "counter",
	       "Conflicts found: two masters wrote the same row, neither seeing the other.");
	for (size_t i = 0; i < st->n_totals; i++) {
		fprintf(out, "ringwatch_conflicts_total{schema=\"");
		put_label(out, st->totals[i].schema);
		fprintf(out, "\",table=\"");
		put_label(out, st->totals[i].table);
		fprintf(out, "\",kind=\"");
		put_label(out, st->totals[i].kind);
		fprintf(out, "\"} %lld\n", (long long)st->totals[i].n);
	}
	family(out, "ringwatch_conflicts_open", "gauge", "Conflicts not resolved yet.");
	fprintf(out, "ringwatch_conflicts_open %lld\n",
		(long long)(st->conflicts_open < 0 ? 0 : st->conflicts_open));
	family(out, "ringwatch_conflicts_diverged_rows", "gauge",
	       "Rows that open conflicts left different between the masters (each row once): "
	       "the rows to repair.");
	if (st->diverged_rows >= 0)
		fprintf(out, "ringwatch_conflicts_diverged_rows %lld\n",
			(long long)st->diverged_rows);
}

static void tracker_metrics(FILE *out, const struct status *st)
{
	const struct tracker_view *v = &st->tracker;
	uint64_t cum = 0;

	if (!st->has_tracker)
		return;
	family(out, "ringwatch_schema_drift_tables", "gauge",
	       "Schema drift findings: tables whose shapes differ between the masters, and DDL "
	       "not replicated to every master in time (see schema_drift in /v1/status).");
	fprintf(out, "ringwatch_schema_drift_tables %zu\n", st->n_drift);
	family(out, "ringwatch_schema_unknown_tables", "gauge",
	       "Tables whose shape ringwatch does not know at its stream position: their rows "
	       "are not compared (see unknown_tables in /v1/status).");
	fprintf(out, "ringwatch_schema_unknown_tables %zu\n", st->n_unknown);
	family(out, "ringwatch_schema_unknown_rows_total", "counter",
	       "Row changes not compared because their table's shape was not known.");
	fprintf(out, "ringwatch_schema_unknown_rows_total %llu\n",
		(unsigned long long)v->unknown_rows);
	family(out, "ringwatch_ddl_unsafe_total", "counter",
	       "Unsafe schema changes seen in the binlogs, each once, by the master whose binlog "
	       "showed it first (normally the one it ran on).");
	by_master(out, st, "ringwatch_ddl_unsafe_total", v->ddl_unsafe_on);
	family(out, "ringwatch_stream_row_batches_total", "counter",
	       "Rows events of the master's stream whose row changes its replica thread decoded "
	       "ahead of the event loop (the loop took them from the batch, not decoding them "
	       "again), since the start.");
	by_master(out, st, "ringwatch_stream_row_batches_total", v->row_batches);
	family(out, "ringwatch_conflicts_superseded_total", "counter",
	       "Open conflict records marked superseded since the start: more than 256 were open "
	       "on one row, and the oldest is no longer followed (the newer ones say whether the "
	       "row differs).");
	fprintf(out, "ringwatch_conflicts_superseded_total %llu\n",
		(unsigned long long)v->superseded);
	family(out, "ringwatch_gap_transactions_total", "counter",
	       "Transactions the conflict engine waited for that a gap's purged binlogs held (the "
	       "master's binlog says so): taken as applied there, since the start.");
	fprintf(out, "ringwatch_gap_transactions_total %llu\n", (unsigned long long)v->gap_shown);
	family(out, "ringwatch_gap_pairs_undecided_total", "counter",
	       "Pairs of writes both in a gap's purged binlogs: their order there is not known, "
	       "so whether they crossed is not decided, since the start.");
	fprintf(out, "ringwatch_gap_pairs_undecided_total %llu\n",
		(unsigned long long)v->gap_undecided);
	family(out, "ringwatch_engine_memory_bytes", "gauge",
	       "Memory of the conflict engine, in bytes: tracking (transactions, writes, keys, "
	       "open records) and image_rings (the rings of recent row images, written so far; "
	       "they stop growing at ringwatch_engine_image_rings_capacity_bytes).");
	fprintf(out,
		"ringwatch_engine_memory_bytes{part=\"tracking\"} %zu\n"
		"ringwatch_engine_memory_bytes{part=\"image_rings\"} %zu\n",
		v->engine_bytes, v->ring_used);
	family(out, "ringwatch_engine_image_rings_capacity_bytes", "gauge",
	       "What the conflict engine's image rings hold at most, in bytes (16 MiB a master).");
	fprintf(out, "ringwatch_engine_image_rings_capacity_bytes %zu\n", v->ring_bytes);
	family(out, "ringwatch_tracked_keys", "gauge",
	       "Row keys with writes the conflict engine still tracks (not yet settled).");
	fprintf(out, "ringwatch_tracked_keys %zu\n", v->tracked_keys);
	family(out, "ringwatch_tracking_blind", "gauge",
	       "1 while the conflict engine is over its bound and does not compare writes.");
	fprintf(out, "ringwatch_tracking_blind %d\n", v->blind ? 1 : 0);
	family(out, "ringwatch_tracking_dropped_writes_total", "counter",
	       "Writes never compared because the engine was blind.");
	fprintf(out, "ringwatch_tracking_dropped_writes_total %llu\n",
		(unsigned long long)v->dropped_writes);
	family(out, "ringwatch_tracking_big_transactions_total", "counter",
	       "Transactions of more row changes than the engine gathers for one (262,144): "
	       "followed by their appearances only, their writes not compared.");
	fprintf(out, "ringwatch_tracking_big_transactions_total %llu\n",
		(unsigned long long)v->big_transactions);
	family(out, "ringwatch_tracking_big_unsettled", "gauge",
	       "Of them, those not yet shown by every master's stream.");
	fprintf(out, "ringwatch_tracking_big_unsettled %zu\n", v->big_unsettled);
	family(out, "ringwatch_tracking_images_dropped_total", "counter",
	       "Transactions whose row images were over a quarter of an image ring: compared "
	       "without them (a conflict's images show as evicted).");
	fprintf(out, "ringwatch_tracking_images_dropped_total %llu\n",
		(unsigned long long)v->no_images);
	family(out, "ringwatch_tracking_unknown_origin_total", "counter",
	       "Transactions not compared: their server_id is none of the masters'.");
	fprintf(out, "ringwatch_tracking_unknown_origin_total %llu\n",
		(unsigned long long)v->unknown_origin);
	family(out, "ringwatch_detection_delay_seconds", "histogram",
	       "Time from the later write of a conflict appearing in a stream to the decision, "
	       "in seconds.");
	for (int b = 0; b < TRACKER_BUCKETS; b++) {
		cum = v->delay_buckets[b];
		fprintf(out, "ringwatch_detection_delay_seconds_bucket{le=\"%g\"} %llu\n",
			tracker_bucket_bounds[b], (unsigned long long)cum);
	}
	fprintf(out, "ringwatch_detection_delay_seconds_bucket{le=\"+Inf\"} %llu\n",
		(unsigned long long)v->delay_count);
	fprintf(out, "ringwatch_detection_delay_seconds_sum %.9g\n", v->delay_sum);
	fprintf(out, "ringwatch_detection_delay_seconds_count %llu\n",
		(unsigned long long)v->delay_count);
}

static void audit_metrics(FILE *out, const struct status *st)
{
	family(out, "ringwatch_audit_ok", "gauge",
	       "1 while this configuration check passes on this master (\"\" for the ring); "
	       "severity: what a failure of it is (critical, warning, info).");
	for (size_t i = 0; i < st->n_audit; i++) {
		fprintf(out, "ringwatch_audit_ok{check=\"");
		put_label(out, st->audit[i].check);
		fprintf(out, "\",master=\"");
		put_label(out, st->audit[i].master);
		fprintf(out, "\",severity=\"%s\"} %d\n", audit_severity_name(st->audit[i].severity),
			st->audit[i].ok ? 1 : 0);
	}
}

static void state_metrics(FILE *out, const struct status *st)
{
	family(out, "ringwatch_state_write_errors_total", "counter",
	       "Failed attempts to write to state_dir (each retry counted).");
	fprintf(out, "ringwatch_state_write_errors_total %llu\n",
		(unsigned long long)st->state.write_errors);
	family(out, "ringwatch_state_writes_kept", "gauge",
	       "Writes to state_dir that failed, kept in memory and tried again each second.");
	fprintf(out, "ringwatch_state_writes_kept %zu\n", st->state.kept);
	family(out, "ringwatch_state_writes_lost_total", "counter",
	       "Writes to state_dir given up: the writes kept in memory were at their bound.");
	fprintf(out, "ringwatch_state_writes_lost_total %llu\n",
		(unsigned long long)st->state.writes_lost);
}

/* The HTTP server's connections, and the reloads: faults that last, seen from outside. */
static void http_metrics(FILE *out, const struct status *st)
{
	const struct http_door_stats *d = &st->http.door;
	static const char *const help =
	    "HTTP connections ended for what the client did or the load: idle (no byte in "
	    "the first seconds), head_timeout (408), bad_request, evicted (closed without a "
	    "request to make room), refused (no room), refused_address (too many from its "
	    "address), timeout (idle or too slow after the request head).";

	if (st->has_http) {
		family(
		    out, "ringwatch_http_connections", "gauge",
		    "HTTP connections open now (the limit is ringwatch_http_connections_limit).");
		fprintf(out, "ringwatch_http_connections %u\n", d->waiting + st->http.serving);
		family(out, "ringwatch_http_connections_limit", "gauge",
		       "HTTP connections ringwatchd holds at most.");
		fprintf(out, "ringwatch_http_connections_limit %u\n", st->http.limit);
		family(out, "ringwatch_http_connections_accepted_total", "counter",
		       "HTTP connections accepted.");
		fprintf(out, "ringwatch_http_connections_accepted_total %llu\n",
			(unsigned long long)d->accepted);
		family(out, "ringwatch_http_connections_closed_total", "counter", help);
		fprintf(out,
			"ringwatch_http_connections_closed_total{reason=\"idle\"} %llu\n"
			"ringwatch_http_connections_closed_total{reason=\"head_timeout\"} %llu\n"
			"ringwatch_http_connections_closed_total{reason=\"bad_request\"} %llu\n"
			"ringwatch_http_connections_closed_total{reason=\"evicted\"} %llu\n"
			"ringwatch_http_connections_closed_total{reason=\"refused\"} %llu\n"
			"ringwatch_http_connections_closed_total{reason=\"refused_address\"} %llu\n"
			"ringwatch_http_connections_closed_total{reason=\"timeout\"} %llu\n",
			(unsigned long long)d->idle_closed, (unsigned long long)d->head_timeouts,
			(unsigned long long)d->bad_heads, (unsigned long long)d->evicted,
			(unsigned long long)d->refused, (unsigned long long)d->refused_address,
			(unsigned long long)st->http.timeouts);
	}
	family(out, "ringwatch_loop_stalls_total", "counter",
	       "Times ringwatchd did not run for 3 s or more (stopped with SIGSTOP, or given no "
	       "CPU).");
	fprintf(out, "ringwatch_loop_stalls_total %u\n", st->stalls.total);
	family(out, "ringwatch_config_reloads_total", "counter",
	       "Configuration reloads (SIGHUP), by result.");
	fprintf(out,
		"ringwatch_config_reloads_total{result=\"ok\"} %u\n"
		"ringwatch_config_reloads_total{result=\"failed\"} %u\n",
		st->reload.ok, st->reload.failed);
	family(out, "ringwatch_config_last_reload_successful", "gauge",
	       "0 while the latest configuration reload failed (the running configuration is "
	       "kept), else 1.");
	fprintf(out, "ringwatch_config_last_reload_successful %d\n",
		st->reload.last_at > 0 && !st->reload.last_ok ? 0 : 1);
}

static void gate_metrics(FILE *out, const struct status *st)
{
	const struct gate *g = &st->gate;

	family(out, "ringwatch_gate_safe", "gauge", "1 when every gate check passes.");
	fprintf(out, "ringwatch_gate_safe %d\n", g->safe ? 1 : 0);
	family(out, "ringwatch_gate_check_ok", "gauge", "1 while this gate check passes.");
	for (size_t i = 0; i < g->n; i++)
		fprintf(out, "ringwatch_gate_check_ok{check=\"%s\"} %d\n", g->checks[i].name,
			g->checks[i].ok ? 1 : 0);
}

/* One counter family with one sample per alert receiver. */
static void per_receiver(FILE *out, const struct status *st, const char *name, const char *help,
			 uint64_t (*get)(const struct alert_receiver_view *))
{
	family(out, name, "counter", help);
	for (size_t i = 0; i < st->n_alert_receivers; i++) {
		fprintf(out, "%s{receiver=\"", name);
		put_label(out, st->alert_receivers[i].name);
		fprintf(out, "\"} %llu\n", (unsigned long long)get(&st->alert_receivers[i]));
	}
}

static uint64_t r_sent(const struct alert_receiver_view *r)
{
	return r->sent;
}

static uint64_t r_failed(const struct alert_receiver_view *r)
{
	return r->failed;
}

static uint64_t r_dropped(const struct alert_receiver_view *r)
{
	return r->dropped;
}

static void alert_metrics(FILE *out, const struct status *st)
{
	per_receiver(out, st, "ringwatch_alerts_sent_total",
		     "Alerts (Alertmanager) or alert changes (webhook) delivered to the receiver.",
		     r_sent);
	per_receiver(out, st, "ringwatch_alerts_failed_total",
		     "POSTs of alerts to the receiver that failed; each retry counts.", r_failed);
	per_receiver(out, st, "ringwatch_alerts_dropped_total",
		     "Alerts given up: the receiver's queue was full, or it refused them.",
		     r_dropped);
}

char *status_metrics(const struct status *st, size_t *len)
{
	char *buf = NULL;
	FILE *out = open_memstream(&buf, len);

	if (out == NULL)
		return NULL;
	family(out, "ringwatch_build_info", "gauge", "ringwatch version, always 1.");
	fprintf(out, "ringwatch_build_info{version=\"");
	put_label(out, st->version);
	fprintf(out, "\"} 1\n");
	family(out, "ringwatch_uptime_seconds", "gauge", "Seconds since ringwatchd started.");
	fprintf(out, "ringwatch_uptime_seconds %.3f\n", st->uptime);
	family(out, "ringwatch_start_time_seconds", "gauge",
	       "Unix time ringwatchd started, in seconds.");
	fprintf(out, "ringwatch_start_time_seconds %.3f\n", st->started_wall);
	per_master(out, st, "ringwatch_master_connected", "gauge",
		   "1 while the binlog stream of the master is connected.", m_connected);
	per_master(out, st, "ringwatch_master_current", "gauge",
		   "1 while events (heartbeats included) arrive from the master and its stream is "
		   "not catching up with the master's binlog.",
		   m_current);
	per_master(out, st, "ringwatch_stream_catching_up", "gauge",
		   "1 while the master's stream is catching up with the master's binlog.",
		   m_catching_up);
	per_master(out, st, "ringwatch_stream_behind_bytes", "gauge",
		   "Bytes of the master's binlog its stream has not read, up to where the binlog "
		   "ended at the latest SQL probe (0 once passed).",
		   m_behind_bytes);
	per_master(out, st, "ringwatch_stream_behind_transactions", "gauge",
		   "Transactions of the master's @@gtid_binlog_pos at the latest SQL probe its "
		   "stream has not read (MariaDB).",
		   m_behind_trx);
	per_master(out, st, "ringwatch_master_events_total", "counter",
		   "Binlog events received from the master, heartbeats included.", m_events);
	per_master(out, st, "ringwatch_master_bytes_total", "counter",
		   "Bytes of binlog events received from the master, in bytes.", m_bytes);
	per_master(out, st, "ringwatch_master_transactions_total", "counter",
		   "Complete transactions read from the master's binlog.", m_transactions);
	per_master(out, st, "ringwatch_master_reconnects_total", "counter",
		   "Times the stream reconnected to the master.", m_reconnects);
	per_master(out, st, "ringwatch_master_last_event_timestamp_seconds", "gauge",
		   "Unix time the last event (heartbeats included) arrived from the master, in "
		   "seconds.",
		   m_last_event);
	per_master(out, st, "ringwatch_master_gap", "gauge",
		   "1 while an unacknowledged gap (binlogs purged past the checkpoint) exists.",
		   m_gap);
	per_master(out, st, "ringwatch_master_probe_ok", "gauge",
		   "1 while the latest SQL probe of the master worked.", m_probe_ok);
	per_master(out, st, "ringwatch_master_oldest_trx_seconds", "gauge",
		   "Age of the oldest open InnoDB transaction on the master, in seconds (0 when "
		   "none; what the gate's transactions check reads).",
		   m_trx_age);
	per_link(out, st, "ringwatch_link_io_running",
		 "1 while the replica's IO thread for this link runs.", l_io);
	per_link(out, st, "ringwatch_link_sql_running",
		 "1 while the replica's SQL thread for this link runs.", l_sql);
	per_link(out, st, "ringwatch_link_seconds_behind_master",
		 "Seconds_Behind_Master as the replica reports it, in seconds (no sample while "
		 "it is NULL or the probe fails).",
		 l_behind);
	per_link(out, st, "ringwatch_link_reported_lag_seconds",
		 "The lag the replica reports, in seconds: Seconds_Behind_Master, MySQL 8.0.22+'s "
		 "Seconds_Behind_Source; the same value as ringwatch_link_seconds_behind_master.",
		 l_behind);
	per_link(out, st, "ringwatch_link_lag_seconds",
		 "Replication delay measured by ringwatch from the binlog streams, in seconds: the "
		 "age of the oldest transaction of source not yet in replica's binlog, 0 when "
		 "caught up.",
		 l_lag);
	per_link(out, st, "ringwatch_link_last_error_code",
		 "The link's last error code (SQL error first), 0 when none.", l_error);
	per_link(out, st, "ringwatch_link_ok", "1 while the link's state is ok.", l_ok);
	link_info(out, st);
	conflict_metrics(out, st);
	tracker_metrics(out, st);
	audit_metrics(out, st);
	state_metrics(out, st);
	gate_metrics(out, st);
	http_metrics(out, st);
	alert_metrics(out, st);
	if (st->has_verify)
		verify_view_metrics(&st->verify, out);
	if (fclose(out) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
