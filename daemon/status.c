/*
 * status.c - the snapshot behind /v1/status and /metrics, and both renderers.
 */
#include "status.h"

#include "build_config.h"
#include "clock.h"
#include "config.h"
#include "daemon.h"
#include "gate.h"
#include "ledger.h"
#include "probe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Which master a link reads from: the connection's name when it is a master's
 * name (as the harness and most rings name them), else the source server_id,
 * else the source address.
 */
static void link_source(struct rwd *d, struct status *st, const struct probe_link *l,
			struct status_link *out)
{
	out->source_index = (size_t)-1;
	for (size_t i = 0; i < d->cfg.n_masters; i++) {
		if (strcmp(l->connection_name, d->cfg.masters[i].name) == 0) {
			out->source = d->cfg.masters[i].name;
			out->source_index = i;
			return;
		}
	}
	for (size_t i = 0; i < st->n_masters && l->source_server_id != 0; i++) {
		if (st->masters[i].server_id == l->source_server_id) {
			out->source = st->masters[i].name;
			out->source_index = i;
			return;
		}
	}
	for (size_t i = 0; i < d->cfg.n_masters; i++) {
		const struct rw_master_config *m = &d->cfg.masters[i];
		if (m->host != NULL && strcmp(m->host, l->source_host) == 0 &&
		    m->port == l->source_port) {
			out->source = m->name;
			out->source_index = i;
			return;
		}
	}
	snprintf(out->source_buf, sizeof(out->source_buf), "%s:%u", l->source_host, l->source_port);
	out->source = out->source_buf;
}

static int collect_links(struct rwd *d, struct status *st)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n_streams && d->probe_last_ok != NULL; i++)
		n += d->probe_last_ok[i] != NULL ? d->probe_last_ok[i]->n_links : 0;
	st->links = calloc(n > 0 ? n : 1, sizeof(*st->links));
	st->probe_ok = calloc(st->n_masters > 0 ? st->n_masters : 1, sizeof(*st->probe_ok));
	st->probe_error = calloc(st->n_masters > 0 ? st->n_masters : 1, sizeof(*st->probe_error));
	st->trx_age_known = calloc(st->n_masters > 0 ? st->n_masters : 1, sizeof(bool));
	st->trx_age = calloc(st->n_masters > 0 ? st->n_masters : 1, sizeof(double));
	st->trx_error = calloc(st->n_masters > 0 ? st->n_masters : 1, sizeof(char *));
	if (st->links == NULL || st->probe_ok == NULL || st->probe_error == NULL ||
	    st->trx_age_known == NULL || st->trx_age == NULL || st->trx_error == NULL)
		return -1;
	for (size_t i = 0; i < d->n_streams && d->probe_last != NULL; i++) {
		const struct probe_result *last = d->probe_last[i];
		const struct probe_result *good = d->probe_last_ok[i];

		st->probe_ok[i] = last != NULL && last->ok;
		st->probe_error[i] = last == NULL ? "no probe yet" : last->ok ? "" : last->error;
		st->trx_age_known[i] = st->probe_ok[i] && last->trx_age_known;
		st->trx_age[i] = st->trx_age_known[i] ? last->trx_age : 0;
		st->trx_error[i] = !st->probe_ok[i]      ? st->probe_error[i]
				   : last->trx_age_known ? ""
							 : last->trx_error;
		for (size_t k = 0; good != NULL && k < good->n_links; k++) {
			struct status_link *sl = &st->links[st->n_links++];
			sl->replica = d->cfg.masters[i].name;
			sl->replica_index = i;
			sl->l = &good->links[k];
			sl->stale = !st->probe_ok[i];
			link_source(d, st, sl->l, sl);
			sl->lag = sl->source_index == (size_t)-1 || d->lag == NULL
				      ? -1
				      : lag_get(d->lag, sl->source_index, i, clock_mono());
			sl->state = sl->stale ? "unknown" : probe_link_state(sl->l, st->max_lag);
			if (sl->state == NULL)
				sl->state = "unknown";
		}
	}
	return 0;
}

/* Schema drift, compared only while every stream is current. */
static int collect_drift(struct rwd *d, struct status *st)
{
	bool all_current = true;
	size_t room = 16, n;

	for (size_t i = 0; i < st->n_masters; i++)
		all_current = all_current && status_master_current(st, &st->masters[i]);
	/* one comparison of every table; a second only when the findings did not fit */
	for (;;) {
		free(st->drift);
		st->drift = calloc(room, sizeof(*st->drift));
		if (st->drift == NULL)
			return -1;
		n = tracker_drift(d->tracker, all_current, st->ddl_replication_timeout, st->drift,
				  room);
		if (n <= room)
			break;
		room = n;
	}
	st->n_drift = n;
	return 0;
}

int status_collect(struct rwd *d, struct status *st)
{
	memset(st, 0, sizeof(*st));
	st->version = PACKAGE_VERSION;
	st->uptime = clock_mono() - d->started;
	st->heartbeat_period = 1.0;
	st->max_lag = d->cfg.gate_max_lag;
	st->max_trx_age = d->cfg.gate_max_trx_age;
	st->max_open_conflicts = d->cfg.gate_max_open_conflicts;
	st->state = d->state;
	st->has_tracker = d->tracker != NULL;
	if (st->has_tracker) {
		tracker_view(d->tracker, &st->tracker);
		st->n_unknown = tracker_unknown_tables(d->tracker, NULL, 0);
		st->unknown = calloc(st->n_unknown > 0 ? st->n_unknown : 1, sizeof(*st->unknown));
		if (st->unknown == NULL)
			return -1;
		st->n_unknown = tracker_unknown_tables(d->tracker, st->unknown, st->n_unknown);
	}
	if (d->state == NULL ||
	    ledger_counts(d->state, &st->conflicts_open, &st->conflicts_total) != 0)
		st->conflicts_open = st->conflicts_total = -1;
	st->n_masters = d->n_streams;
	st->masters = calloc(d->n_streams > 0 ? d->n_streams : 1, sizeof(*st->masters));
	if (st->masters == NULL)
		return -1;
	for (size_t i = 0; i < d->n_streams; i++)
		stream_view(d->streams[i], &st->masters[i]);
	st->ddl_replication_timeout = d->cfg.gate_ddl_replication_timeout;
	if (st->has_tracker && collect_drift(d, st) != 0) {
		status_release(st);
		return -1;
	}
	if (collect_links(d, st) != 0) {
		status_release(st);
		return -1;
	}
	return 0;
}

void status_release(struct status *st)
{
	free(st->unknown);
	free(st->drift);
	free(st->masters);
	free(st->links);
	free(st->probe_ok);
	free(st->probe_error);
	free(st->trx_age_known);
	free(st->trx_age);
	free(st->trx_error);
	memset(st, 0, sizeof(*st));
}

bool status_master_current(const struct status *st, const struct stream_view *m)
{
	return m->connected && m->last_event_age >= 0 &&
	       m->last_event_age < 3 * st->heartbeat_period + 1;
}

/* ---- JSON ------------------------------------------------------------------------ */

static json_t *master_json(const struct status *st, const struct stream_view *m)
{
	json_t *o = json_object();
	json_t *pos = json_object();

	json_object_set_new(o, "name", json_string(m->name));
	json_object_set_new(o, "host", m->host ? json_string(m->host) : json_null());
	json_object_set_new(o, "port", m->host ? json_integer(m->port) : json_null());
	if (m->socket != NULL)
		json_object_set_new(o, "socket", json_string(m->socket));
	json_object_set_new(o, "server_id",
			    m->server_id ? json_integer(m->server_id) : json_null());
	json_object_set_new(o, "version", m->version[0] ? json_string(m->version) : json_null());
	json_object_set_new(o, "connected", json_boolean(m->connected));
	json_object_set_new(
	    o, "tls", m->connected && m->tls_cipher[0] ? json_string(m->tls_cipher) : json_null());
	json_object_set_new(o, "state", json_string(stream_state_name(m->state)));
	json_object_set_new(o, "current", json_boolean(status_master_current(st, m)));
	json_object_set_new(pos, "file", m->file[0] ? json_string(m->file) : json_null());
	json_object_set_new(pos, "offset", json_integer((json_int_t)m->offset));
	json_object_set_new(pos, "gtid", m->gtid[0] ? json_string(m->gtid) : json_null());
	json_object_set_new(o, "position", pos);
	json_object_set_new(o, "last_event_age_seconds",
			    m->last_event_age >= 0 ? json_real(m->last_event_age) : json_null());
	json_object_set_new(o, "events_total", json_integer((json_int_t)m->events_total));
	json_object_set_new(o, "bytes_total", json_integer((json_int_t)m->bytes_total));
	json_object_set_new(o, "transactions_total",
			    json_integer((json_int_t)m->transactions_total));
	json_object_set_new(o, "reconnects_total", json_integer((json_int_t)m->reconnects_total));
	json_object_set_new(o, "last_error",
			    m->last_error[0] ? json_pack("{s:i,s:s}", "code", (int)m->last_errno,
							 "message", m->last_error)
					     : json_null());
	json_object_set_new(
	    o, "gap",
	    m->gap ? json_pack("{s:I,s:s}", "id", (json_int_t)m->gap_id, "detail", m->gap_detail)
		   : json_null());
	return o;
}

static json_t *link_json(const struct status_link *sl)
{
	const struct probe_link *l = sl->l;
	json_t *o = json_object();
	const char *msg = NULL;
	unsigned code = 0;

	json_object_set_new(o, "source", json_string(sl->source));
	json_object_set_new(o, "replica", json_string(sl->replica));
	json_object_set_new(o, "state", json_string(sl->state));
	json_object_set_new(o, "io_running", json_boolean(l->io_running));
	json_object_set_new(o, "sql_running", json_boolean(l->sql_running));
	json_object_set_new(o, "io_state", json_string(l->io_state));
	json_object_set_new(o, "last_error",
			    probe_link_last_error(l, &code, &msg)
				? json_pack("{s:i,s:s}", "code", (int)code, "message", msg)
				: json_null());
	json_object_set_new(o, "seconds_behind_master",
			    l->seconds_behind_known ? json_integer(l->seconds_behind_master)
						    : json_null());
	json_object_set_new(o, "lag_seconds", sl->lag >= 0 ? json_real(sl->lag) : json_null());
	json_object_set_new(o, "connection_name", json_string(l->connection_name));
	json_object_set_new(o, "gtid_io_pos", json_string(l->gtid_io_pos));
	json_object_set_new(o, "stale", json_boolean(sl->stale));
	return o;
}

json_t *status_gate_json(const struct status *st, double max_lag)
{
	struct gate g;

	gate_evaluate(st, max_lag, st->max_trx_age, &g);
	return gate_json(&g);
}

/* Tables whose shapes differ between masters, and DDL not replicated. */
static json_t *drift_json(const struct status *st)
{
	json_t *a = json_array();

	for (size_t i = 0; i < st->n_drift; i++)
		json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "schema", st->drift[i].schema,
						   "table", st->drift[i].table, "detail",
						   st->drift[i].detail));
	return a;
}

/* Tables whose rows were not compared, each with the reason. */
static json_t *unknown_json(const struct status *st)
{
	json_t *a = json_array();

	for (size_t i = 0; i < st->n_unknown; i++) {
		const struct schemas_unknown *u = &st->unknown[i];
		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s,s:I}", "master", u->master,
						   "schema", u->schema, "table", u->table, "reason",
						   u->reason, "rows_not_compared",
						   (json_int_t)u->rows));
	}
	return a;
}

json_t *status_json(const struct status *st)
{
	json_t *o = json_object();
	json_t *masters = json_array();
	json_t *links = json_array();

	json_object_set_new(o, "version", json_string(st->version));
	json_object_set_new(o, "uptime_seconds", json_real(st->uptime));
	for (size_t i = 0; i < st->n_masters; i++) {
		json_t *m = master_json(st, &st->masters[i]);
		json_object_set_new(m, "probe_ok", json_boolean(st->probe_ok[i]));
		json_object_set_new(m, "probe_error",
				    st->probe_ok[i] ? json_null()
						    : json_string(st->probe_error[i]));
		json_array_append_new(masters, m);
	}
	json_object_set_new(o, "masters", masters);
	for (size_t i = 0; i < st->n_links; i++)
		json_array_append_new(links, link_json(&st->links[i]));
	json_object_set_new(o, "links", links);
	json_object_set_new(o, "conflicts",
			    st->conflicts_total < 0
				? json_null()
				: json_pack("{s:I,s:I}", "open", (json_int_t)st->conflicts_open,
					    "total", (json_int_t)st->conflicts_total));
	json_object_set_new(o, "schema_drift", drift_json(st));
	json_object_set_new(o, "unknown_tables", unknown_json(st));
	json_object_set_new(o, "gate", status_gate_json(st, st->max_lag));
	return o;
}

/* ---- Prometheus text ------------------------------------------------------------ */

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

static void sample_link(FILE *out, const char *name, const struct status_link *sl, double value)
{
	fprintf(out, "%s{source=\"", name);
	put_label(out, sl->source);
	fprintf(out, "\",replica=\"");
	put_label(out, sl->replica);
	if (isnan(value))
		fprintf(out, "\"} NaN\n");
	else
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

static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample_master(FILE *out, const char *name, const char *master, double value)
{
	fprintf(out, "%s{master=\"", name);
	put_label(out, master);
	if (isnan(value))
		fprintf(out, "\"} NaN\n");
	else
		fprintf(out, "\"} %.17g\n", value);
}

/* One metric family with one sample per master. */
static void per_master(FILE *out, const struct status *st, const char *name, const char *type,
		       const char *help,
		       double (*get)(const struct status *, const struct stream_view *))
{
	family(out, name, type, help);
	for (size_t i = 0; i < st->n_masters; i++)
		sample_master(out, name, st->masters[i].name, get(st, &st->masters[i]));
}

static double m_connected(const struct status *st, const struct stream_view *m)
{
	(void)st;
	return m->connected;
}

static double m_current(const struct status *st, const struct stream_view *m)
{
	return status_master_current(st, m);
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
	return m->last_event_received;
}

static double m_gap(const struct status *st, const struct stream_view *m)
{
	(void)st;
	return m->gap;
}

static double m_probe_ok(const struct status *st, const struct stream_view *m)
{
	return st->probe_ok[m - st->masters];
}

static void conflict_total(const char *schema, const char *table, const char *kind, int64_t n,
			   void *arg)
{
	FILE *out = arg;

	fprintf(out, "ringwatch_conflicts_total{schema=\"");
	put_label(out, schema);
	fprintf(out, "\",table=\"");
	put_label(out, table);
	fprintf(out, "\",kind=\"");
	put_label(out, kind);
	fprintf(out, "\"} %lld\n", (long long)n);
}

static void conflict_metrics(FILE *out, const struct status *st)
{
	family(out, "ringwatch_conflicts_total", "counter",
	       "Conflicts found: two masters wrote the same row, neither seeing the other.");
	if (st->state != NULL)
		ledger_totals(st->state, conflict_total, out);
	family(out, "ringwatch_conflicts_open", "gauge", "Conflicts not resolved yet.");
	fprintf(out, "ringwatch_conflicts_open %lld\n",
		(long long)(st->conflicts_open < 0 ? 0 : st->conflicts_open));
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
	family(out, "ringwatch_tracking_unknown_origin_total", "counter",
	       "Transactions not compared: their server_id is none of the masters'.");
	fprintf(out, "ringwatch_tracking_unknown_origin_total %llu\n",
		(unsigned long long)v->unknown_origin);
	family(out, "ringwatch_detection_delay_seconds", "histogram",
	       "From the later write of a conflict appearing in a stream to the decision.");
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

static void gate_metrics(FILE *out, const struct status *st)
{
	struct gate g;

	gate_evaluate(st, st->max_lag, st->max_trx_age, &g);
	family(out, "ringwatch_gate_safe", "gauge", "1 when every gate check passes.");
	fprintf(out, "ringwatch_gate_safe %d\n", g.safe ? 1 : 0);
	family(out, "ringwatch_gate_check_ok", "gauge", "1 while this gate check passes.");
	for (size_t i = 0; i < g.n; i++)
		fprintf(out, "ringwatch_gate_check_ok{check=\"%s\"} %d\n", g.checks[i].name,
			g.checks[i].ok ? 1 : 0);
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
	per_master(out, st, "ringwatch_master_connected", "gauge",
		   "1 while the binlog stream of the master is connected.", m_connected);
	per_master(out, st, "ringwatch_master_current", "gauge",
		   "1 while events (heartbeats included) arrive from the master.", m_current);
	per_master(out, st, "ringwatch_master_events_total", "counter",
		   "Binlog events received from the master, heartbeats included.", m_events);
	per_master(out, st, "ringwatch_master_bytes_total", "counter",
		   "Bytes of binlog events received from the master.", m_bytes);
	per_master(out, st, "ringwatch_master_transactions_total", "counter",
		   "Complete transactions read from the master's binlog.", m_transactions);
	per_master(out, st, "ringwatch_master_reconnects_total", "counter",
		   "Times the stream reconnected to the master.", m_reconnects);
	per_master(out, st, "ringwatch_master_last_event_timestamp_seconds", "gauge",
		   "Unix time the last event (heartbeats included) arrived from the master.",
		   m_last_event);
	per_master(out, st, "ringwatch_master_gap", "gauge",
		   "1 while an unacknowledged gap (binlogs purged past the checkpoint) exists.",
		   m_gap);
	per_master(out, st, "ringwatch_master_probe_ok", "gauge",
		   "1 while the latest SQL probe of the master worked.", m_probe_ok);
	per_link(out, st, "ringwatch_link_io_running",
		 "1 while the replica's IO thread for this link runs.", l_io);
	per_link(out, st, "ringwatch_link_sql_running",
		 "1 while the replica's SQL thread for this link runs.", l_sql);
	per_link(out, st, "ringwatch_link_seconds_behind_master",
		 "Seconds_Behind_Master as the replica reports it (NaN when NULL).", l_behind);
	per_link(out, st, "ringwatch_link_lag_seconds",
		 "Replication delay measured by ringwatch from the binlog streams.", l_lag);
	per_link(out, st, "ringwatch_link_last_error_code",
		 "The link's last error code (SQL error first), 0 when none.", l_error);
	per_link(out, st, "ringwatch_link_ok", "1 while the link's state is ok.", l_ok);
	conflict_metrics(out, st);
	tracker_metrics(out, st);
	gate_metrics(out, st);
	if (fclose(out) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
