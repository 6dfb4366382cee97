/*
 * status_json.c - the status snapshot (status.h) as the JSON of GET
 * /v1/status and GET /v1/gate.
 */
#include "status.h"

#include "gate.h"
#include "probe.h"
#include "common/time_text.h"

#include <string.h>

/* null, or how far master i's stream is behind while it catches up. */
static json_t *catching_up_json(const struct status *st, size_t i)
{
	const struct catchup_verdict *v = &st->catchup[i];

	if (!status_catching_up(st, i))
		return json_null();
	return json_pack("{s:I,s:o,s:o}", "bytes", (json_int_t)v->bytes, "transactions",
			 v->transactions >= 0 ? json_integer((json_int_t)v->transactions)
					      : json_null(),
			 "seconds", v->seconds >= 0 ? json_real(v->seconds) : json_null());
}

/* Where master i's binlog ended at its latest probe round, or why that is unknown. */
static void master_position_json(const struct status *st, size_t i, json_t *o)
{
	const struct catchup_verdict *v = &st->catchup[i];

	if (v->end_file[0] == '\0') {
		json_object_set_new(o, "master_position", json_null());
		json_object_set_new(
		    o, "master_position_error",
		    json_string(v->end_unknown != NULL ? v->end_unknown : "unknown"));
		return;
	}
	json_object_set_new(o, "master_position",
			    json_pack("{s:s,s:I,s:o}", "file", v->end_file, "offset",
				      (json_int_t)v->end_offset, "gtid",
				      v->end_gtid[0] ? json_string(v->end_gtid) : json_null()));
	json_object_set_new(o, "master_position_error", json_null());
}

static json_t *master_json(const struct status *st, const struct stream_view *m)
{
	json_t *o = json_object();
	json_t *pos = json_object();
	size_t i = (size_t)(m - st->masters);

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
	json_object_set_new(o, "state", json_string(status_master_state(st, i)));
	json_object_set_new(o, "current", json_boolean(st->current[i]));
	json_object_set_new(o, "catching_up", catching_up_json(st, i));
	json_object_set_new(pos, "file", m->file[0] ? json_string(m->file) : json_null());
	json_object_set_new(pos, "offset", json_integer((json_int_t)m->offset));
	json_object_set_new(pos, "gtid", m->gtid[0] ? json_string(m->gtid) : json_null());
	json_object_set_new(o, "position", pos);
	master_position_json(st, i, o);
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
	if (sl->cause[0] != '\0') {
		/* what made it broken or lagging, whichever field a reader looks in */
		json_object_set_new(o, "cause", json_string(sl->cause));
		if (json_is_object(json_object_get(o, "last_error")))
			json_object_set_new(json_object_get(o, "last_error"), "cause",
					    json_string(sl->cause));
		else if (strcmp(sl->state, "broken") == 0)
			json_object_set_new(o, "stopped", json_string(sl->cause));
	}
	json_object_set_new(o, "seconds_behind_master",
			    l->seconds_behind_known ? json_integer(l->seconds_behind_master)
						    : json_null());
	json_object_set_new(o, "lag_seconds", sl->lag >= 0 ? json_real(sl->lag) : json_null());
	json_object_set_new(o, "connection_name", json_string(l->connection_name));
	json_object_set_new(o, "gtid_io_pos", json_string(l->gtid_io_pos));
	json_object_set_new(o, "stale", json_boolean(sl->stale));
	return o;
}

json_t *status_gate_json(const struct status *st, double max_lag, const char *checks, char *bad,
			 size_t len)
{
	struct gate g = st->gate;

	if (max_lag != st->max_lag)
		gate_evaluate(st, max_lag, st->max_trx_age, &g); /* ?max_lag=N: another threshold */
	if (checks != NULL && gate_only(&g, checks, bad, len) != 0)
		return NULL;
	return gate_json(&g);
}

/* Tables whose shapes differ between masters, and DDL not replicated. */
static json_t *drift_json(const struct status *st)
{
	json_t *a = json_array();

	for (size_t i = 0; i < st->n_drift; i++) {
		char detail[DRIFT_DETAIL_MAX];
		drift_entry_show(&st->drift[i], detail, sizeof(detail));
		json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "schema", st->drift[i].schema,
						   "table", st->drift[i].table, "detail", detail));
	}
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

/* The configuration audit: every check, failing or passing. */
static json_t *audit_json(const struct status *st)
{
	json_t *a = json_array();

	for (size_t i = 0; i < st->n_audit; i++) {
		const audit_finding *f = &st->audit[i];
		json_array_append_new(a, json_pack("{s:s,s:s,s:b,s:s,s:s}", "check", f->check,
						   "master", f->master, "ok", f->ok, "severity",
						   audit_severity_name(f->severity), "detail",
						   f->detail));
	}
	return a;
}

/* The HTTP server's connections: what a crowd or a slow client costs (doc/http.md). */
static json_t *http_json(const struct status *st)
{
	const struct http_stats *h = &st->http;

	if (!st->has_http)
		return json_null();
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "connections",
			 (json_int_t)(h->door.waiting + h->serving), "limit", (json_int_t)h->limit,
			 "accepted_total", (json_int_t)h->door.accepted, "idle_closed_total",
			 (json_int_t)h->door.idle_closed, "head_timeouts_total",
			 (json_int_t)h->door.head_timeouts, "bad_requests_total",
			 (json_int_t)h->door.bad_heads, "evicted_total",
			 (json_int_t)h->door.evicted, "refused_total", (json_int_t)h->door.refused,
			 "refused_address_total", (json_int_t)h->door.refused_address,
			 "timeouts_total", (json_int_t)h->timeouts);
}

/* The configuration reloads since the start. */
static json_t *reload_json(const struct status *st)
{
	const struct reload_view *r = &st->reload;
	char at[32];

	if (r->last_at <= 0)
		return json_pack("{s:I,s:I,s:n}", "ok_total", (json_int_t)r->ok, "failed_total",
				 (json_int_t)r->failed, "last");
	time_text(r->last_at, at);
	return json_pack("{s:I,s:I,s:{s:s,s:b,s:s?}}", "ok_total", (json_int_t)r->ok,
			 "failed_total", (json_int_t)r->failed, "last", "at", at, "ok", r->last_ok,
			 "error", r->last_ok ? NULL : r->last_error);
}

/* The times the loop did not run for a while. */
static json_t *stall_json(const struct status *st)
{
	char at[32];

	if (st->stalls.last_at <= 0)
		return json_pack("{s:I,s:n}", "total", (json_int_t)st->stalls.total, "last");
	time_text(st->stalls.last_at, at);
	return json_pack("{s:I,s:{s:s,s:f}}", "total", (json_int_t)st->stalls.total, "last", "at",
			 at, "seconds", st->stalls.last_seconds);
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
	json_object_set_new(
	    o, "conflicts",
	    st->conflicts_total < 0
		? json_null()
		: json_pack("{s:I,s:I,s:o}", "open", (json_int_t)st->conflicts_open, "total",
			    (json_int_t)st->conflicts_total, "diverged_rows",
			    st->diverged_rows >= 0 ? json_integer((json_int_t)st->diverged_rows)
						   : json_null()));
	json_object_set_new(o, "schema_drift", drift_json(st));
	json_object_set_new(o, "unknown_tables", unknown_json(st));
	json_object_set_new(o, "audit", audit_json(st));
	json_object_set_new(o, "state",
			    json_pack("{s:I,s:I,s:I,s:s?}", "writes_kept",
				      (json_int_t)st->state.kept, "write_errors_total",
				      (json_int_t)st->state.write_errors, "writes_lost_total",
				      (json_int_t)st->state.writes_lost, "error",
				      st->state.detail[0] ? st->state.detail : NULL));
	json_object_set_new(o, "gate", gate_json(&st->gate));
	json_object_set_new(o, "http", http_json(st));
	json_object_set_new(o, "reloads", reload_json(st));
	json_object_set_new(o, "stalls", stall_json(st));
	if (st->has_verify)
		json_object_set_new(o, "verify", verify_view_json(&st->verify));
	return o;
}
