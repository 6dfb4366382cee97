/*
 * gate.c - the deploy gate's checks.
 */
#include "gate.h"

#include "probe.h"
#include "status.h"

#include "ringwatch/conflict_feed.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Append a clause to a check's detail, "; "-separated. */
static void add(struct gate_check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct gate_check *c, const char *fmt, ...)
{
	size_t used = strlen(c->detail);
	va_list ap;

	if (used + 4 >= sizeof(c->detail))
		return;
	if (used > 0) {
		memcpy(c->detail + used, "; ", 3);
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(c->detail + used, sizeof(c->detail) - used, fmt, ap);
	va_end(ap);
}

static struct gate_check *check(struct gate *g, const char *name)
{
	struct gate_check *c = &g->checks[g->n++];

	c->name = name;
	c->ok = true;
	c->detail[0] = '\0';
	return c;
}

static void fail(struct gate_check *c)
{
	c->ok = false;
}

/* A number of bytes as people read it: "812 bytes", "12.3 kB", "101.2 MB", "1.5 GB". */
static void bytes_text(int64_t n, char *buf, size_t len)
{
	static const char *const units[] = { "kB", "MB", "GB", "TB" };
	double v = (double)n;
	size_t u = 0;

	if (n < 1000) {
		snprintf(buf, len, "%lld bytes", (long long)n);
		return;
	}
	for (v /= 1000; v >= 999.95 && u + 1 < sizeof(units) / sizeof(units[0]); u++)
		v /= 1000;
	snprintf(buf, len, "%.1f %s", v, units[u]);
}

/* "west: catching up, 101.2 MB / 812 transactions behind, ~3 s" (what is known of it). */
static void add_catching_up(struct gate_check *c, const char *name, const struct catchup_verdict *v)
{
	char bytes[32], trx[48] = "", eta[32] = "";

	bytes_text(v->bytes, bytes, sizeof(bytes));
	if (v->transactions >= 0)
		snprintf(trx, sizeof(trx), " / %lld transaction%s", (long long)v->transactions,
			 v->transactions == 1 ? "" : "s");
	if (v->seconds >= 1)
		snprintf(eta, sizeof(eta), ", ~%.0f s", v->seconds);
	else if (v->seconds >= 0)
		snprintf(eta, sizeof(eta), ", <1 s");
	add(c, "%s: catching up, %s%s behind%s", name, bytes, trx, eta);
}

static void check_streams(const struct status *st, struct gate *g)
{
	struct gate_check *c = check(g, "streams");

	for (size_t i = 0; i < st->n_masters; i++) {
		const struct stream_view *m = &st->masters[i];
		if (!m->connected) {
			fail(c);
			add(c, "%s: not connected%s%s", m->name, m->last_error[0] ? ": " : "",
			    m->last_error);
		} else if (status_catching_up(st, i)) {
			fail(c);
			add_catching_up(c, m->name, &st->catchup[i]);
		} else if (!st->current[i] && status_stream_live(st, i)) {
			fail(c);
			add(c, "%s: not known to be caught up with its binlog: %s", m->name,
			    st->catchup != NULL && st->catchup[i].unknown != NULL
				? st->catchup[i].unknown
				: "unknown");
		} else if (!st->current[i]) {
			fail(c);
			add(c, "%s: no event for %.1f s", m->name, m->last_event_age);
		}
		if (m->gap) {
			fail(c);
			add(c, "%s: gap %lld not acknowledged (%s)", m->name, (long long)m->gap_id,
			    m->gap_detail);
		}
	}
	if (c->ok)
		add(c, "%zu streams connected and current", st->n_masters);
}

static void check_replication(const struct status *st, struct gate *g)
{
	struct gate_check *c = check(g, "replication");

	for (size_t i = 0; i < st->n_masters; i++) {
		size_t links = 0;
		if (!st->probe_ok[i]) {
			fail(c);
			add(c, "%s: cannot read its replica status: %s", st->masters[i].name,
			    st->probe_error[i]);
			continue;
		}
		for (size_t k = 0; k < st->n_links; k++)
			links += st->links[k].replica_index == i;
		if (links == 0) {
			fail(c);
			add(c, "%s replicates from no master", st->masters[i].name);
		}
	}
	for (size_t k = 0; k < st->n_links; k++) {
		const struct status_link *sl = &st->links[k];
		unsigned code = 0;
		const char *msg = NULL;
		bool err = probe_link_last_error(sl->l, &code, &msg);
		if (sl->stale || (sl->l->io_running && sl->l->sql_running && !err))
			continue;
		fail(c);
		if (!sl->l->sql_running)
			add(c, "%s→%s: SQL thread stopped%s", sl->source, sl->replica,
			    err ? "" : " (no error: STOP SLAVE?)");
		else if (!sl->l->io_running)
			add(c, "%s→%s: IO thread %s", sl->source, sl->replica,
			    strcmp(sl->l->io_state, "Connecting") == 0 ? "connecting" : "stopped");
		if (err)
			add(c, "%s→%s: error %u: %.200s", sl->source, sl->replica, code, msg);
		if (sl->cause[0] != '\0')
			add(c, "%s→%s: cause: %s", sl->source, sl->replica, sl->cause);
	}
	if (c->ok)
		add(c, "%zu links running", st->n_links);
}

static void check_lag(const struct status *st, double max_lag, struct gate *g)
{
	struct gate_check *c = check(g, "lag");
	double worst = 0;

	for (size_t k = 0; k < st->n_links; k++) {
		const struct status_link *sl = &st->links[k];
		double lag = status_link_lag(sl);
		if (lag > worst)
			worst = lag;
		if (lag > max_lag) {
			fail(c);
			add(c, "%s→%s: %.2f s behind (max_lag %.2f s)", sl->source, sl->replica,
			    lag, max_lag);
		}
	}
	if (c->ok)
		add(c, "max %.2f s", worst);
}

static void check_transactions(const struct status *st, double max_trx_age, struct gate *g)
{
	struct gate_check *c = check(g, "transactions");
	double worst = 0;

	for (size_t i = 0; i < st->n_masters; i++) {
		if (!st->trx_age_known[i]) {
			fail(c);
			add(c, "%s: oldest transaction unknown: %s", st->masters[i].name,
			    st->trx_error[i]);
		} else if (st->trx_age[i] > max_trx_age) {
			fail(c);
			add(c,
			    "%s: a transaction open for %.0f s (max_trx_age %.0f s) would block "
			    "DDL",
			    st->masters[i].name, st->trx_age[i], max_trx_age);
		} else if (st->trx_age[i] > worst) {
			worst = st->trx_age[i];
		}
	}
	if (c->ok)
		add(c, "oldest open transaction %.0f s", worst);
}

static void check_conflicts(const struct status *st, struct gate *g)
{
	struct gate_check *c = check(g, "conflicts");

	if (st->conflicts_open < 0) {
		fail(c);
		add(c, "the conflict ledger cannot be read");
	} else if (st->conflicts_open > (int64_t)st->max_open_conflicts) {
		fail(c);
		add(c, "%lld open (max_open_conflicts %u): see ringwatch conflicts",
		    (long long)st->conflicts_open, st->max_open_conflicts);
	} else {
		add(c, "%lld open", (long long)st->conflicts_open);
	}
}

static void check_tracking(const struct status *st, struct gate *g)
{
	struct gate_check *c = check(g, "tracking");

	if (!st->has_tracker) {
		fail(c);
		add(c, "the conflict engine is not running");
	} else if (st->tracker.blind) {
		fail(c);
		add(c,
		    "blind: too many unsettled writes (a stalled stream?); %llu writes not "
		    "compared",
		    (unsigned long long)st->tracker.dropped_writes);
	} else if (st->tracker.big_unsettled > 0) {
		fail(c);
		add(c,
		    "%zu transaction(s) of more than %zu row changes not yet in every stream: "
		    "their writes are not compared",
		    st->tracker.big_unsettled, (size_t)CONFLICT_FEED_MAX_ROWS);
	} else if (st->n_unknown > 0) {
		fail(c);
		for (size_t i = 0; i < st->n_unknown && i < 5; i++)
			add(c, "rows of %s.%s on %s not compared (%s)", st->unknown[i].schema,
			    st->unknown[i].table, st->unknown[i].master, st->unknown[i].reason);
		if (st->n_unknown > 5)
			add(c, "and %zu more tables (/v1/status unknown_tables)",
			    st->n_unknown - 5);
	} else {
		add(c, "%zu keys tracked", st->tracker.tracked_keys);
	}
}

static void check_schema(const struct status *st, struct gate *g)
{
	struct gate_check *c = check(g, "schema");

	if (!st->has_tracker) {
		fail(c);
		add(c, "the schema history is not running");
		return;
	}
	if (st->n_drift == 0) {
		add(c, "no drift between the masters");
		return;
	}
	fail(c);
	for (size_t i = 0; i < st->n_drift && i < 5; i++) {
		char detail[DRIFT_DETAIL_MAX];
		drift_entry_show(&st->drift[i], detail, sizeof(detail));
		if (st->drift[i].table[0] != '\0')
			add(c, "%s.%s: %s", st->drift[i].schema, st->drift[i].table, detail);
		else
			add(c, "%s", detail);
	}
	if (st->n_drift > 5)
		add(c, "and %zu more (/v1/status schema_drift)", st->n_drift - 5);
}

/* No critical finding of the configuration audit. */
static void check_audit(const struct status *st, struct gate *g)
{
	struct gate_check *c = check(g, "audit");
	size_t critical = 0, warnings = 0;

	for (size_t i = 0; i < st->n_audit; i++) {
		const audit_finding *f = &st->audit[i];
		if (f->ok)
			continue;
		if (f->severity == AUDIT_CRITICAL) {
			fail(c);
			if (critical++ < 5)
				add(c, "%s%s%s: %s", f->master, f->master[0] ? " " : "", f->check,
				    f->detail);
		} else if (f->severity == AUDIT_WARNING) {
			warnings++;
		}
	}
	if (critical > 5)
		add(c, "and %zu more (/v1/status audit)", critical - 5);
	if (c->ok)
		add(c, "no critical finding (%zu warning%s)", warnings, warnings == 1 ? "" : "s");
}

/* Every write to state_dir written: none kept for a retry, none lost. */
static void check_state(const struct status *st, struct gate *g)
{
	struct gate_check *c = check(g, "state");

	if (st->state.kept > 0 || st->state.writes_lost > 0) {
		fail(c);
		add(c, "%s", st->state.detail);
	} else {
		add(c, "every write to state_dir written");
	}
}

void gate_evaluate(const struct status *st, double max_lag, double max_trx_age, struct gate *g)
{
	memset(g, 0, sizeof(*g));
	check_streams(st, g);
	check_replication(st, g);
	check_lag(st, max_lag, g);
	check_conflicts(st, g);
	check_schema(st, g);
	check_audit(st, g);
	check_transactions(st, max_trx_age, g);
	check_tracking(st, g);
	check_state(st, g);
	g->safe = true;
	for (size_t i = 0; i < g->n; i++)
		g->safe = g->safe && g->checks[i].ok;
}

int gate_only(struct gate *g, const char *list, char *bad, size_t len)
{
	bool keep[GATE_MAX_CHECKS] = { false };
	const char *p = list;
	size_t n = 0;

	while (*p != '\0') {
		size_t w = strcspn(p, ",");
		bool found = false;
		for (size_t i = 0; i < g->n; i++) {
			if (strlen(g->checks[i].name) == w && strncmp(g->checks[i].name, p, w) == 0)
				keep[i] = found = true;
		}
		if (!found) {
			snprintf(bad, len, "%.*s", (int)w, p);
			return -1;
		}
		p += w;
		p += *p == ',';
	}
	g->safe = true;
	for (size_t i = 0; i < g->n; i++) {
		if (!keep[i])
			continue;
		g->checks[n++] = g->checks[i];
		g->safe = g->safe && g->checks[i].ok;
	}
	g->n = n;
	return 0;
}

json_t *gate_json(const struct gate *g)
{
	json_t *checks = json_array();

	for (size_t i = 0; i < g->n; i++)
		json_array_append_new(checks,
				      json_pack("{s:s,s:b,s:s}", "name", g->checks[i].name, "ok",
						g->checks[i].ok, "detail", g->checks[i].detail));
	return json_pack("{s:b,s:o}", "safe", g->safe, "checks", checks);
}
