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
	       "Unsafe schema changes seen in the binlogs (each once, as it first appears).");
	fprintf(out, "ringwatch_ddl_unsafe_total %llu\n", (unsigned long long)v->ddl_unsafe);
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

static void audit_metrics(FILE *out, const struct status *st)
{
	family(out, "ringwatch_audit_ok", "gauge",
	       "1 while this configuration check passes on this master (\"\" for the ring).");
	for (size_t i = 0; i < st->n_audit; i++) {
		fprintf(out, "ringwatch_audit_ok{check=\"");
		put_label(out, st->audit[i].check);
		fprintf(out, "\",master=\"");
		put_label(out, st->audit[i].master);
		fprintf(out, "\"} %d\n", st->audit[i].ok ? 1 : 0);
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
	audit_metrics(out, st);
	state_metrics(out, st);
	gate_metrics(out, st);
	if (fclose(out) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
