/*
 * alerts_run.c - the alerts inside ringwatchd (alerts.h): once a second
 * their input read from the status snapshot (masters, links, schema
 * drift, the audit, the conflict engine's blindness, the gate), the
 * ledger (conflicts) and the schema histories (unsafe DDL), the rules
 * applied, and the changes handed to the sender's threads.
 */
#include "alerts.h"

#include "alert_sender.h"
#include "build_config.h"
#include "clock.h"
#include "config.h"
#include "ledger.h"
#include "log.h"
#include "probe.h"
#include "schemas.h"
#include "status.h"
#include "tracker.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The newest conflicts looked at each tick: the work stays bounded in a storm of them. */
#define RECENT_LIMIT 1000

/* Unsafe schema changes asked for each tick (the schema histories keep as many). */
#define DDL_ASKED 16

struct alerts_run {
	struct alerts *alerts;
	struct alert_sender *sender;
	struct event *timer;
	struct alerts_sources src;
};

struct gathered {
	struct alerts_input in;
	struct alerts_master *masters;
	struct alerts_link *links;
	struct alerts_drift *drift;
	struct alerts_audit *audit;
	struct alerts_gate_check *gate_failing;
	struct alerts_conflicts *conflicts;
	size_t cap_conflicts;
	struct alerts_diverged *diverged;
	size_t cap_diverged;
	struct schemas_unsafe unsafe[DDL_ASKED];
	struct alerts_ddl ddl[DDL_ASKED];
	char **owned; /* copies of the ledger's names, which live only for its callback */
	size_t n_owned, cap_owned;
	bool failed;
};

static bool grow(void **v, size_t n, size_t *cap, size_t size)
{
	void *grown;
	size_t more = *cap > 0 ? 2 * *cap : 16;

	if (n < *cap)
		return true;
	grown = realloc(*v, more * size);
	if (grown == NULL)
		return false;
	*v = grown;
	*cap = more;
	return true;
}

/* A copy of s that lives as long as g; NULL (g failed) when out of memory. */
static const char *keep(struct gathered *g, const char *s)
{
	char *copy;

	if (!grow((void **)&g->owned, g->n_owned, &g->cap_owned, sizeof(*g->owned)) ||
	    (copy = strdup(s)) == NULL) {
		g->failed = true;
		return NULL;
	}
	g->owned[g->n_owned++] = copy;
	return copy;
}

static void add_recent(const struct ledger_recent *r, void *arg)
{
	struct gathered *g = arg;
	struct alerts_conflicts k = {
		keep(g, r->schema), keep(g, r->table), keep(g, r->kind), r->n, r->open,
		r->newest_id,       r->newest_at
	};

	if (g->failed || !grow((void **)&g->conflicts, g->in.n_conflicts, &g->cap_conflicts,
			       sizeof(*g->conflicts))) {
		g->failed = true;
		return;
	}
	g->conflicts[g->in.n_conflicts++] = k;
}

static void add_diverged(const char *schema, const char *table, int64_t n, int64_t newest_id,
			 void *arg)
{
	struct gathered *g = arg;
	struct alerts_diverged k = { keep(g, schema), keep(g, table), n, newest_id };

	if (g->failed || !grow((void **)&g->diverged, g->in.n_diverged, &g->cap_diverged,
			       sizeof(*g->diverged))) {
		g->failed = true;
		return;
	}
	g->diverged[g->in.n_diverged++] = k;
}

/* Drift (compared only while every stream is current), the audit, the tracker and the gate. */
static void gather_findings(struct gathered *g, const struct status *st)
{
	g->in.drift_known = true;
	for (size_t i = 0; i < st->n_masters; i++)
		g->in.drift_known = g->in.drift_known && st->current[i];
	for (size_t i = 0; i < st->n_drift; i++) {
		const struct drift_entry *d = &st->drift[i];
		g->drift[i] = (struct alerts_drift){ d->schema, d->table, d->detail };
	}
	g->in.drift = g->drift;
	g->in.n_drift = st->n_drift;
	for (size_t i = 0; i < st->n_audit; i++) {
		const audit_finding *f = &st->audit[i];
		if (!f->ok && f->severity == AUDIT_CRITICAL)
			g->audit[g->in.n_audit++] =
			    (struct alerts_audit){ f->check, f->master, f->detail };
	}
	g->in.audit = g->audit;
	g->in.blind = st->has_tracker && st->tracker.blind;
	g->in.gate_closed = !st->gate.safe;
	for (size_t i = 0; i < st->gate.n; i++) {
		const struct gate_check *k = &st->gate.checks[i];
		if (!k->ok)
			g->gate_failing[g->in.n_gate_failing++] =
			    (struct alerts_gate_check){ k->name, k->detail };
	}
	g->in.gate_failing = g->gate_failing;
}

static int gather_status(struct gathered *g, const struct status *st)
{
	g->masters = calloc(st->n_masters > 0 ? st->n_masters : 1, sizeof(*g->masters));
	g->links = calloc(st->n_links > 0 ? st->n_links : 1, sizeof(*g->links));
	g->drift = calloc(st->n_drift > 0 ? st->n_drift : 1, sizeof(*g->drift));
	g->audit = calloc(st->n_audit > 0 ? st->n_audit : 1, sizeof(*g->audit));
	g->gate_failing = calloc(st->gate.n > 0 ? st->gate.n : 1, sizeof(*g->gate_failing));
	if (g->masters == NULL || g->links == NULL || g->drift == NULL || g->audit == NULL ||
	    g->gate_failing == NULL)
		return -1;
	for (size_t i = 0; i < st->n_masters; i++) {
		const struct stream_view *m = &st->masters[i];
		g->masters[i] = (struct alerts_master){ m->name, m->connected, m->last_error };
	}
	for (size_t i = 0; i < st->n_links; i++) {
		const struct status_link *sl = &st->links[i];
		struct alerts_link *l = &g->links[i];
		const char *msg = NULL;
		unsigned code = 0;

		if (!probe_link_last_error(sl->l, &code, &msg))
			code = 0, msg = "";
		*l = (struct alerts_link){ .source = sl->source,
					   .replica = sl->replica,
					   .state = sl->state,
					   .io_running = sl->l->io_running,
					   .sql_running = sl->l->sql_running,
					   .error_code = code,
					   .error = msg,
					   .cause = sl->cause,
					   .lag = sl->lag,
					   .behind = sl->l->seconds_behind_known
							 ? (double)sl->l->seconds_behind_master
							 : -1 };
	}
	g->in.masters = g->masters;
	g->in.n_masters = st->n_masters;
	g->in.links = g->links;
	g->in.n_links = st->n_links;
	g->in.max_lag = st->max_lag;
	gather_findings(g, st);
	return 0;
}

static void gather_ddl(struct gathered *g, const struct tracker *tracker)
{
	size_t n = tracker != NULL ? tracker_ddl_unsafe_recent(tracker, g->unsafe, DDL_ASKED) : 0;

	for (size_t i = 0; i < n; i++) {
		const struct schemas_unsafe *u = &g->unsafe[i];
		g->ddl[i] = (struct alerts_ddl){ .seq = u->seq,
						 .master = u->master,
						 .schema = u->schema,
						 .table = u->table,
						 .trx = u->trx,
						 .sql = u->sql,
						 .reason = u->reason };
	}
	g->in.ddl = g->ddl;
	g->in.n_ddl = n;
}

static void gathered_free(struct gathered *g)
{
	for (size_t i = 0; i < g->n_owned; i++)
		free(g->owned[i]);
	free(g->owned);
	free(g->conflicts);
	free(g->diverged);
	free(g->masters);
	free(g->links);
	free(g->drift);
	free(g->audit);
	free(g->gate_failing);
}

/* One tick: 0, or -1 when out of memory or the ledger could not be read. */
static int tick(struct alerts *a, struct alert_sender *sender, const struct status *st,
		struct state *state, const struct tracker *tracker, double now)
{
	struct gathered g;
	struct alerts_item *items = NULL;
	size_t n = 0;
	int rc = 0;

	memset(&g, 0, sizeof(g));
	g.in.now = now;
	if (gather_status(&g, st) != 0) {
		gathered_free(&g);
		return -1;
	}
	gather_ddl(&g, tracker);
	g.in.ledger_known =
	    state != NULL &&
	    ledger_recent(state, now - alerts_hold(a), RECENT_LIMIT, add_recent, &g) == 0 &&
	    ledger_open_diverged(state, add_diverged, &g) == 0 && !g.failed;
	g.in.conflicts = g.conflicts;
	g.in.diverged = g.diverged;
	if (state != NULL && !g.in.ledger_known)
		rc = -1;
	if (alerts_update(a, &g.in, &items, &n) != 0)
		rc = -1;
	alert_sender_post(sender, items, n);
	alerts_items_free(items, n);
	if (alert_sender_recovered(sender) && alerts_firing(a, now, &items, &n) == 0) {
		alert_sender_post(sender, items, n);
		alerts_items_free(items, n);
	}
	gathered_free(&g);
	return rc;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct alerts_run *r = arg;
	struct status st;

	(void)fd;
	(void)what;
	if (r->src.status(r->src.arg, &st) != 0)
		return;
	if (tick(r->alerts, r->sender, &st, r->src.state, r->src.tracker, clock_wall()) != 0)
		log_debug("alerts: the ledger could not be read, or out of memory");
	status_release(&st);
}

/* Where generatorURL points: the API as this host serves it. */
static void base_url(const struct config *cfg, unsigned port, char *out, size_t len)
{
	const char *h = cfg->listen_host;
	char host[256];
	bool v6;

	if ((strcmp(h, "0.0.0.0") == 0 || strcmp(h, "::") == 0) &&
	    gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		h = host;
	}
	v6 = strchr(h, ':') != NULL;
	snprintf(out, len, "http://%s%s%s:%u", v6 ? "[" : "", h, v6 ? "]" : "", port);
}

static int start(struct alerts_run *r, struct event_base *base, const struct config *cfg,
		 unsigned port)
{
	char url[320], err[256];
	struct alerts_config ac = {
		.instance = cfg->alert_instance != NULL && cfg->alert_instance[0] != '\0'
				? cfg->alert_instance
				: cfg->listen,
		.base_url = url,
		.resend = ALERTS_RESEND,
		.hold = ALERTS_HOLD,
		.master_for = ALERTS_MASTER_FOR,
		.lagging_for = ALERTS_LAGGING_FOR,
		.drift_for = ALERTS_DRIFT_FOR,
		.audit_for = ALERTS_AUDIT_FOR,
		.blind_for = ALERTS_BLIND_FOR,
		.gate_for = ALERTS_GATE_FOR,
	};
	struct alert_sender_config sc = {
		.alertmanager_urls = cfg->alertmanager_url,
		.webhook_url = cfg->webhook_url,
		.webhook_secret = cfg->webhook_secret,
		.user_agent = "ringwatchd/" PACKAGE_VERSION,
	};

	base_url(cfg, port, url, sizeof(url));
	r->alerts = alerts_new(&ac);
	r->timer = event_new(base, -1, EV_PERSIST, on_tick, r);
	if (r->alerts == NULL || r->timer == NULL ||
	    event_add(r->timer, &(struct timeval){ .tv_sec = 1 }) != 0) {
		log_error("alerts: out of memory");
		return -1;
	}
	r->sender = alert_sender_start(&sc, err, sizeof(err));
	if (r->sender == NULL)
		log_error("alerts: %s", err);
	return r->sender != NULL ? 0 : -1;
}

int alerts_run_start(struct event_base *base, const struct config *cfg, unsigned port,
		     const struct alerts_sources *src, struct alerts_run **out)
{
	struct alerts_run *r;

	*out = NULL;
	if (cfg->alertmanager_url == NULL && cfg->webhook_url == NULL)
		return 0;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -1;
	r->src = *src;
	if (start(r, base, cfg, port) != 0) {
		alerts_run_stop(r);
		return -1;
	}
	*out = r;
	return 0;
}

void alerts_run_stop(struct alerts_run *r)
{
	if (r == NULL)
		return;
	if (r->timer != NULL)
		event_free(r->timer);
	alert_sender_stop(r->sender);
	alerts_free(r->alerts);
	free(r);
}

struct alert_sender *alerts_run_sender(const struct alerts_run *r)
{
	return r != NULL ? r->sender : NULL;
}

static bool same_text(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

bool alerts_run_same_config(const struct config *a, const struct config *b)
{
	return same_text(a->alertmanager_url, b->alertmanager_url) &&
	       same_text(a->webhook_url, b->webhook_url) &&
	       same_text(a->webhook_secret, b->webhook_secret) &&
	       same_text(a->alert_instance, b->alert_instance);
}
