/*
 * status.c - the snapshot behind /v1/status and /metrics, and both renderers.
 */
#include "status.h"

#include "build_config.h"
#include "daemon.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int status_collect(struct rwd *d, struct status *st)
{
	memset(st, 0, sizeof(*st));
	st->version = PACKAGE_VERSION;
	st->uptime = rwd_now() - d->started;
	st->heartbeat_period = 1.0;
	st->n_masters = d->n_streams;
	st->masters = calloc(d->n_streams > 0 ? d->n_streams : 1, sizeof(*st->masters));
	if (st->masters == NULL)
		return -1;
	for (size_t i = 0; i < d->n_streams; i++)
		stream_view(d->streams[i], &st->masters[i]);
	return 0;
}

void status_release(struct status *st)
{
	free(st->masters);
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

json_t *status_json(const struct status *st)
{
	json_t *o = json_object();
	json_t *masters = json_array();

	json_object_set_new(o, "version", json_string(st->version));
	json_object_set_new(o, "uptime_seconds", json_real(st->uptime));
	for (size_t i = 0; i < st->n_masters; i++)
		json_array_append_new(masters, master_json(st, &st->masters[i]));
	json_object_set_new(o, "masters", masters);
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
	if (fclose(out) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
