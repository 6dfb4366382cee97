/*
 * status_collect.c - the snapshot behind /v1/status, /metrics and /v1/gate
 * (status.h): read once from the daemon's parts, the gate evaluated on it.
 * status_json.c and metrics.c render it; neither reads anything else.
 */
#include "status.h"

#include "build_config.h"
#include "config.h"
#include "gate.h"
#include "ledger.h"
#include "ledger_memo.h"
#include "probe.h"
#include "ringwatch/gtid_pos.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Which master a link reads from: the connection's name when it is a master's
 * name (as the harness and most rings name them), else the source server_id,
 * else the source address.
 */
static void link_source(const struct status_sources *d, struct status *st,
			const struct probe_link *l, struct status_link *out)
{
	out->source_index = (size_t)-1;
	for (size_t i = 0; i < d->cfg->n_masters; i++) {
		if (strcmp(l->connection_name, d->cfg->masters[i].name) == 0) {
			out->source = d->cfg->masters[i].name;
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
	for (size_t i = 0; i < d->cfg->n_masters; i++) {
		const struct config_master *m = &d->cfg->masters[i];
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

/* The table a replication error names ("on table app.t;", "of table 'app.t'",
 * "Table 'app.t' doesn't exist"): 0 with schema and table. */
static int error_table(const char *msg, char *schema, size_t slen, char *table, size_t tlen)
{
	static const char *const marks[] = { "on table ", "of table '", "Table '" };
	const char *p = NULL, *dot, *end;

	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]) && p == NULL; i++) {
		p = strstr(msg, marks[i]);
		if (p != NULL)
			p += strlen(marks[i]);
	}
	if (p == NULL || (end = p + strcspn(p, "'; ,")) == p ||
	    (dot = memchr(p, '.', (size_t)(end - p))) == NULL)
		return -1;
	snprintf(schema, slen, "%.*s", (int)(dot - p), p);
	snprintf(table, tlen, "%.*s", (int)(end - dot - 1), dot + 1);
	return 0;
}

/* ledger_each_between()'s callback: the conflict whose other write (the
 * source's, or with three or more masters one the source passes on) the
 * replica has not applied yet, the one the link stopped on. */
struct conflict_pick {
	const char *applied; /* the replica's gtid_slave_pos / gtid_executed; NULL unknown */
	int64_t id;
	char kind[32];
	bool unsure; /* a conflict whose source write may or may not be applied */
};

static int pick_unapplied(const struct ledger_between *c, void *arg)
{
	struct conflict_pick *k = arg;
	int applied = gtid_applied(c->other_gtid, k->applied);

	if (applied == 1)
		return 0;
	if (applied < 0) {
		k->unsure = true;
		return 1;
	}
	k->id = c->id;
	snprintf(k->kind, sizeof(k->kind), "%s", c->kind);
	return 1;
}

/*
 * The conflict on schema.table, of one of kinds, that the link sl stopped
 * on: one between the replica's write and another master's (the source's,
 * or one the source passes on) that the replica has not applied yet (an
 * older one, resolved or applied since, does not explain the error).  1
 * found (id, kind), 0 certainly none (the ledger read, every candidate's
 * write known applied, and every master's stream current: a conflict would
 * have been seen), -1 not known.
 */
static int link_conflict(const struct status_sources *d, const struct status *st,
			 const struct status_link *sl, const char *schema, const char *table,
			 const char *kinds, struct conflict_pick *pick)
{
	const struct probe_result *r = d->probe_last_ok[sl->replica_index];
	const char *v = probe_result_var(r, "gtid_slave_pos");

	if (d->state == NULL)
		return -1;
	pick->applied = v != NULL && v[0] != '\0' ? v : probe_result_var(r, "gtid_executed");
	if (pick->applied == NULL)
		pick->applied = v;
	pick->id = 0;
	pick->unsure = false;
	if (ledger_memo_each_between(d->ledger_memo, d->state, schema, table, kinds, sl->replica,
				     pick_unapplied, pick) < 0 ||
	    pick->unsure)
		return -1;
	if (pick->id != 0)
		return 1;
	/* every master's stream current: a write of any of them the link carries was seen */
	for (size_t m = 0; m < st->n_masters; m++) {
		if (!st->current[m])
			return -1;
	}
	return 0;
}

/* What made a link stop, where ringwatch knows: the conflict, or the DDL, behind its error. */
static void link_cause(const struct status_sources *d, const struct status *st,
		       struct status_link *sl)
{
	unsigned code = 0;
	const char *msg = NULL;
	char schema[SCHEMA_NAME_MAX], table[SCHEMA_NAME_MAX], ddl[300];
	struct conflict_pick pick = { NULL, 0, "", false };
	bool named;
	int found;

	sl->cause[0] = '\0';
	if (!probe_link_last_error(sl->l, &code, &msg)) {
		bool io_stopped = strcmp(sl->l->io_state, "No") == 0;
		if (!sl->l->sql_running || io_stopped)
			snprintf(sl->cause, sizeof(sl->cause),
				 "stopped without an error on %s: STOP SLAVE%s", sl->replica,
				 sl->l->sql_running ? " IO_THREAD"
				 : io_stopped       ? ""
						    : " SQL_THREAD");
		return;
	}
	named = error_table(msg, schema, sizeof(schema), table, sizeof(table)) == 0;
	switch (code) {
	case 1062:
	case 1032:
		if (!named)
			break;
		found = link_conflict(
		    d, st, sl, schema, table,
		    code == 1062 ? "insert-insert,insert-update"
				 : "delete-delete,delete-update,delete-insert,update-update",
		    &pick);
		if (found == 1)
			snprintf(sl->cause, sizeof(sl->cause), "%s conflict %lld on %.64s.%.64s",
				 pick.kind, (long long)pick.id, schema, table);
		else if (found == 0 && code == 1062)
			snprintf(
			    sl->cause, sizeof(sl->cause),
			    "the key already exists on %s and no conflict explains it: the row "
			    "was written outside replication (sql_log_bin=0?)",
			    sl->replica);
		else if (found == 0)
			snprintf(sl->cause, sizeof(sl->cause),
				 "the row is missing on %s and no conflict explains it: it was "
				 "changed outside replication (sql_log_bin=0?)",
				 sl->replica);
		break;
	case 1677:
	case 1146:
	case 1054:
		if (named && d->tracker != NULL &&
		    tracker_last_ddl(d->tracker, schema, table, ddl, sizeof(ddl)) == 0)
			snprintf(sl->cause, sizeof(sl->cause), "%.64s.%.64s was changed by %.250s",
				 schema, table, ddl);
		break;
	case 1396:
		snprintf(sl->cause, sizeof(sl->cause),
			 "a replicated account statement that does not fit %s's accounts",
			 sl->replica);
		break;
	default:
		break;
	}
}

static int collect_links(const struct status_sources *d, struct status *st)
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
			sl->replica = d->cfg->masters[i].name;
			sl->replica_index = i;
			sl->l = &good->links[k];
			sl->stale = !st->probe_ok[i];
			link_source(d, st, sl->l, sl);
			sl->lag = sl->source_index == (size_t)-1 || d->lag == NULL
				      ? -1
				      : lag_get(d->lag, sl->source_index, i, d->now);
			sl->state = sl->stale ? "unknown" : probe_link_state(sl->l, st->max_lag);
			link_cause(d, st, sl);
			/* the streams see what the replica's own status may not: the
			 * source's transactions not reaching the replica's binlog */
			if (!sl->stale && strcmp(sl->state, "broken") != 0 &&
			    sl->lag > st->max_lag && st->current[i]) {
				sl->state = "lagging";
				if (sl->cause[0] == '\0')
					snprintf(sl->cause, sizeof(sl->cause),
						 "transactions of %s not in %s's binlog for %.1f s",
						 sl->source, sl->replica, sl->lag);
			}
			if (sl->state == NULL)
				sl->state = "unknown";
		}
	}
	return 0;
}

/* Schema drift, compared only while every stream is current. */
static int collect_drift(const struct status_sources *d, struct status *st)
{
	bool all_current = true;
	size_t room = 16, n;

	for (size_t i = 0; i < st->n_masters; i++)
		all_current = all_current && st->current[i];
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

/* The configuration audit of each master's latest variables (audit.h). */
static int collect_audit(const struct status_sources *d, struct status *st)
{
	size_t n = d->n_streams, total = 0, at = 0;
	audit_server *servers = calloc(n > 0 ? n : 1, sizeof(*servers));
	const char **names, **values;

	for (size_t i = 0; i < n && d->probe_last_ok != NULL; i++)
		total += d->probe_last_ok[i] != NULL ? d->probe_last_ok[i]->n_vars : 0;
	names = calloc(total > 0 ? total : 1, sizeof(*names));
	values = calloc(total > 0 ? total : 1, sizeof(*values));
	st->audit = calloc(AUDIT_MAX_FINDINGS(n), sizeof(*st->audit));
	if (servers == NULL || names == NULL || values == NULL || st->audit == NULL) {
		free(servers);
		free(names);
		free(values);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct probe_result *r =
		    d->probe_last_ok != NULL ? d->probe_last_ok[i] : NULL;
		servers[i].name = d->cfg->masters[i].name;
		servers[i].known = r != NULL;
		servers[i].mariadb = r != NULL && r->is_mariadb;
		servers[i].var_names = names + at;
		servers[i].var_values = values + at;
		for (size_t k = 0; r != NULL && k < r->n_vars; k++) {
			names[at] = r->vars[k].name;
			values[at] = r->vars[k].value;
			at++;
		}
		servers[i].n_vars = r != NULL ? r->n_vars : 0;
	}
	st->n_audit = audit_run(servers, n, st->audit, AUDIT_MAX_FINDINGS(n));
	free(servers);
	free(names);
	free(values);
	return 0;
}

/*
 * How far master i's stream is behind the master, and so whether it is
 * current: connected with events arriving, and not catching up.  Before
 * the master's first probe round it is not known yet: not current; when
 * the probe cannot list the binlogs, the events alone say.
 */
static void collect_catchup(const struct status_sources *d, struct status *st, size_t i)
{
	const struct probe_result *good = d->probe_last_ok != NULL ? d->probe_last_ok[i] : NULL;
	bool probed = d->probe_last != NULL && d->probe_last[i] != NULL;
	struct catchup_verdict *v = &st->catchup[i];

	if (d->catchup != NULL) {
		catchup_judge(d->catchup, i, good,
			      good != NULL ? probe_result_var(good, "gtid_binlog_pos") : NULL,
			      &st->masters[i], d->now, d->cfg->probe_interval, v);
	} else {
		memset(v, 0, sizeof(*v));
		v->end_file = v->end_gtid = "";
		v->end_unknown = v->unknown = "not followed";
		v->bytes = v->transactions = -1;
		v->seconds = -1;
	}
	st->current[i] = status_stream_live(st, i) && (v->known ? !v->catching_up : probed);
}

static void add_total(const char *schema, const char *table, const char *kind, int64_t n, void *arg)
{
	struct status *st = arg;
	struct status_total *t;

	if (st->n_totals == st->cap_totals) {
		size_t cap = st->cap_totals > 0 ? 2 * st->cap_totals : 16;
		struct status_total *grown = realloc(st->totals, cap * sizeof(*grown));
		if (grown == NULL) {
			st->totals_failed = true;
			return;
		}
		st->totals = grown;
		st->cap_totals = cap;
	}
	t = &st->totals[st->n_totals];
	t->schema = strdup(schema);
	t->table = strdup(table);
	t->kind = strdup(kind);
	t->n = n;
	if (t->schema == NULL || t->table == NULL || t->kind == NULL) {
		free(t->schema);
		free(t->table);
		free(t->kind);
		st->totals_failed = true;
		return;
	}
	st->n_totals++;
}

int status_collect(const struct status_sources *d, struct status *st)
{
	memset(st, 0, sizeof(*st));
	st->version = PACKAGE_VERSION;
	st->uptime = d->uptime;
	st->started_wall = d->started_wall;
	st->heartbeat_period = 1.0;
	st->max_lag = d->cfg->gate_max_lag;
	st->max_trx_age = d->cfg->gate_max_trx_age;
	st->max_open_conflicts = d->cfg->gate_max_open_conflicts;
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
	if (d->state == NULL || ledger_diverged_rows(d->state, &st->diverged_rows) != 0)
		st->diverged_rows = -1;
	if (d->state != NULL) {
		ledger_totals(d->state, add_total, st);
		state_health(d->state, &st->state);
	}
	st->n_masters = d->n_streams;
	st->masters = calloc(d->n_streams > 0 ? d->n_streams : 1, sizeof(*st->masters));
	st->current = calloc(d->n_streams > 0 ? d->n_streams : 1, sizeof(*st->current));
	st->catchup = calloc(d->n_streams > 0 ? d->n_streams : 1, sizeof(*st->catchup));
	if (st->masters == NULL || st->current == NULL || st->catchup == NULL) {
		status_release(st);
		return -1;
	}
	for (size_t i = 0; i < d->n_streams; i++) {
		stream_view(d->streams[i], &st->masters[i]);
		collect_catchup(d, st, i);
	}
	st->ddl_replication_timeout = d->cfg->gate_ddl_replication_timeout;
	if ((st->has_tracker && collect_drift(d, st) != 0) || collect_links(d, st) != 0) {
		status_release(st);
		return -1;
	}
	if (collect_audit(d, st) != 0) {
		status_release(st);
		return -1;
	}
	st->n_alert_receivers = alert_sender_view(d->alert_sender, NULL, 0);
	st->alert_receivers = calloc(st->n_alert_receivers + 1, sizeof(*st->alert_receivers));
	if (st->alert_receivers == NULL) {
		status_release(st);
		return -1;
	}
	alert_sender_view(d->alert_sender, st->alert_receivers, st->n_alert_receivers);
	gate_evaluate(st, st->max_lag, st->max_trx_age, &st->gate);
	st->has_verify = d->verify != NULL;
	if (st->has_verify)
		verify_view(d->verify, &st->verify);
	st->has_http = d->http != NULL;
	if (st->has_http)
		st->http = *d->http;
	if (d->reload != NULL)
		st->reload = *d->reload;
	if (d->stalls != NULL)
		st->stalls = *d->stalls;
	return 0;
}
