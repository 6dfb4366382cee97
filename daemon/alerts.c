/*
 * alerts.c - the rules that decide which alerts fire, the set of those that
 * do, and their changes as Alertmanager and webhook JSON (alerts.h).
 *
 * Each tick the rules turn the input into candidates, each with its labels
 * and annotations; the set compares them with what fires by fingerprint
 * (the name and the labels): a new candidate starts (or waits its pending
 * time first), one whose annotations changed is sent again, an alert no
 * candidate matches any more ends.  A candidate that only holds keeps an
 * alert as it is without starting one: a link whose state is not known
 * now (the replica's probe failed) neither fires nor clears.
 */
#include "alerts.h"

#include "common/time_text.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* The rules, as data: each alert's name and severity. */
enum rule {
	RULE_LINK_BROKEN,
	RULE_CONFLICT,
	RULE_DIVERGED,
	RULE_DDL_UNSAFE,
	RULE_MASTER,
	RULE_LINK_LAGGING,
	RULE_DRIFT,
	RULE_AUDIT,
	RULE_BLIND,
	RULE_GATE,
};

static const struct {
	const char *name;
	const char *severity;
} rules[] = {
	[RULE_LINK_BROKEN] = { "RingwatchLinkBroken", "critical" },
	[RULE_CONFLICT] = { "RingwatchConflictDetected", "warning" },
	[RULE_DIVERGED] = { "RingwatchRowsDiverged", "critical" },
	[RULE_DDL_UNSAFE] = { "RingwatchDDLUnsafe", "warning" },
	[RULE_MASTER] = { "RingwatchMasterDisconnected", "critical" },
	[RULE_LINK_LAGGING] = { "RingwatchLinkLagging", "warning" },
	[RULE_DRIFT] = { "RingwatchSchemaDrift", "warning" },
	[RULE_AUDIT] = { "RingwatchAuditCritical", "critical" },
	[RULE_BLIND] = { "RingwatchTrackingBlind", "warning" },
	[RULE_GATE] = { "RingwatchGateClosed", "warning" },
};

#define MAX_LABELS 3

/* Unsafe schema changes remembered for their alerts. */
#define DDL_KEPT 16

struct alert {
	uint64_t fp;
	enum rule rule;
	size_t n_labels;
	struct {
		const char *key;
		char value[256];
	} labels[MAX_LABELS];
	char summary[256];
	char description[1024];
	char path[128];   /* of generatorURL */
	double ends_at;   /* an event's: when it ends by itself; 0: while its cause lasts */
	double for_s;     /* seconds pending before it fires */
	bool hold_only;   /* a candidate that only keeps a firing alert as it is */
	double active_at; /* unix time it became pending (firing at once: started) */
	double sent_at;   /* unix time it was last sent to Alertmanager, 0 never */
	bool firing;
	bool seen; /* matched by a candidate this tick */
};

struct ddl_event {
	uint64_t seq; /* 0: an empty slot */
	double at;    /* unix time it was first seen here */
	char master[64], schema[256], table[256], trx[96], sql[200], reason[256];
};

struct alerts {
	char *instance, *base_url;
	double resend, hold, master_for;
	double lagging_for, drift_for, audit_for, blind_for, gate_for;
	struct alert *set;
	size_t n, cap;
	struct ddl_event ddl[DDL_KEPT];
	uint64_t ddl_seq; /* the newest seen */
	uint64_t dropped;
};

/* Candidates of one tick, and the items to send. */
struct cands {
	struct alert *v;
	size_t n, cap;
	bool failed;
};

struct items {
	struct alerts_item *v;
	size_t n, cap;
	bool failed;
};

enum change {
	CHANGE_STARTED,
	CHANGE_UPDATED,
	CHANGE_RESOLVED,
	CHANGE_RESEND, /* Alertmanager only */
};

static const char *const change_names[] = { "started", "updated", "resolved", "resend" };

struct alerts *alerts_new(const struct alerts_config *c)
{
	struct alerts *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->instance = strdup(c->instance != NULL ? c->instance : "");
	a->base_url = strdup(c->base_url != NULL ? c->base_url : "");
	a->resend = c->resend > 0 ? c->resend : ALERTS_RESEND;
	a->hold = c->hold > 0 ? c->hold : ALERTS_HOLD;
	a->master_for = c->master_for >= 0 ? c->master_for : ALERTS_MASTER_FOR;
	a->lagging_for = c->lagging_for >= 0 ? c->lagging_for : ALERTS_LAGGING_FOR;
	a->drift_for = c->drift_for >= 0 ? c->drift_for : ALERTS_DRIFT_FOR;
	a->audit_for = c->audit_for >= 0 ? c->audit_for : ALERTS_AUDIT_FOR;
	a->blind_for = c->blind_for >= 0 ? c->blind_for : ALERTS_BLIND_FOR;
	a->gate_for = c->gate_for >= 0 ? c->gate_for : ALERTS_GATE_FOR;
	if (a->instance == NULL || a->base_url == NULL) {
		alerts_free(a);
		return NULL;
	}
	return a;
}

void alerts_free(struct alerts *a)
{
	if (a == NULL)
		return;
	free(a->instance);
	free(a->base_url);
	free(a->set);
	free(a);
}

double alerts_hold(const struct alerts *a)
{
	return a->hold;
}

size_t alerts_count(const struct alerts *a)
{
	size_t n = 0;

	for (size_t i = 0; i < a->n; i++)
		n += a->set[i].firing;
	return n;
}

uint64_t alerts_dropped(const struct alerts *a)
{
	return a->dropped;
}

/* ---- candidates ---------------------------------------------------------------------- */

static struct alert *cand_add(struct cands *c, enum rule r)
{
	if (c->n == c->cap) {
		size_t cap = c->cap > 0 ? 2 * c->cap : 16;
		struct alert *grown = realloc(c->v, cap * sizeof(*grown));
		if (grown == NULL) {
			c->failed = true;
			return NULL;
		}
		c->v = grown;
		c->cap = cap;
	}
	memset(&c->v[c->n], 0, sizeof(c->v[c->n]));
	c->v[c->n].rule = r;
	return &c->v[c->n++];
}

static void label(struct alert *e, const char *key, const char *value)
{
	if (e->n_labels == MAX_LABELS)
		return;
	e->labels[e->n_labels].key = key;
	snprintf(e->labels[e->n_labels].value, sizeof(e->labels[0].value), "%s",
		 value != NULL ? value : "");
	e->n_labels++;
}

/* The identity of an alert: its name and its labels, in the rule's order. */
static uint64_t fingerprint(const struct alert *e)
{
	XXH3_state_t *x = XXH3_createState();
	uint64_t h;

	if (x == NULL)
		return 0;
	XXH3_64bits_reset(x);
	XXH3_64bits_update(x, rules[e->rule].name, strlen(rules[e->rule].name) + 1);
	for (size_t i = 0; i < e->n_labels; i++) {
		XXH3_64bits_update(x, e->labels[i].key, strlen(e->labels[i].key) + 1);
		XXH3_64bits_update(x, e->labels[i].value, strlen(e->labels[i].value) + 1);
	}
	h = XXH3_64bits_digest(x);
	XXH3_freeState(x);
	return h;
}

/* The candidate just added is complete: one of the same identity added earlier gives way. */
static void cand_done(struct cands *c)
{
	struct alert *e = &c->v[c->n - 1];

	e->fp = fingerprint(e);
	for (size_t i = 0; i + 1 < c->n; i++) {
		if (c->v[i].fp == e->fp) {
			c->v[i] = *e;
			c->n--;
			return;
		}
	}
}

static void rule_masters(const struct alerts *a, const struct alerts_input *in, struct cands *c)
{
	for (size_t i = 0; i < in->n_masters; i++) {
		const struct alerts_master *m = &in->masters[i];
		struct alert *e;

		if (m->connected || (e = cand_add(c, RULE_MASTER)) == NULL)
			continue;
		label(e, "master", m->name);
		snprintf(e->summary, sizeof(e->summary),
			 "ringwatchd does not read master %s's binlog", m->name);
		snprintf(
		    e->description, sizeof(e->description),
		    "The binlog stream of master %s is not connected%s%.600s: its conflicts, its "
		    "links' lag and its schema changes are not seen.",
		    m->name, m->error[0] != '\0' ? "; last error: " : "", m->error);
		snprintf(e->path, sizeof(e->path), "/v1/status");
		e->for_s = a->master_for;
		cand_done(c);
	}
}

/* "the SQL thread stopped" and the like, for a broken link's description. */
static const char *threads_text(const struct alerts_link *l)
{
	if (!l->io_running && !l->sql_running)
		return "both replication threads stopped";
	if (!l->sql_running)
		return "the SQL thread stopped";
	if (!l->io_running)
		return "the IO thread does not run";
	return "its threads run";
}

static void rule_links(const struct alerts_input *in, struct cands *c)
{
	for (size_t i = 0; i < in->n_links; i++) {
		const struct alerts_link *l = &in->links[i];
		bool unknown = strcmp(l->state, "unknown") == 0;
		char error[700] = "";
		struct alert *e;

		if ((!unknown && strcmp(l->state, "broken") != 0) ||
		    (e = cand_add(c, RULE_LINK_BROKEN)) == NULL)
			continue;
		label(e, "source", l->source);
		label(e, "replica", l->replica);
		e->hold_only = unknown;
		if (l->error_code != 0)
			snprintf(error, sizeof(error), " with error %u: %.600s", l->error_code,
				 l->error);
		snprintf(e->summary, sizeof(e->summary), "Replication %s→%s is broken", l->source,
			 l->replica);
		snprintf(e->description, sizeof(e->description),
			 "%s does not apply what %s writes: %s%s.%s%.400s", l->replica, l->source,
			 threads_text(l), error, l->cause[0] != '\0' ? " Cause: " : "", l->cause);
		snprintf(e->path, sizeof(e->path), "/v1/status");
		cand_done(c);
	}
}

static void rule_conflicts(const struct alerts *a, const struct alerts_input *in, struct cands *c)
{
	char at[32];

	for (size_t i = 0; i < in->n_conflicts; i++) {
		const struct alerts_conflicts *k = &in->conflicts[i];
		struct alert *e;

		if (k->n <= 0 || k->open <= 0 || in->now >= k->newest_at + a->hold ||
		    (e = cand_add(c, RULE_CONFLICT)) == NULL)
			continue;
		label(e, "schema", k->schema);
		label(e, "table", k->table);
		label(e, "kind", k->kind);
		time_text(k->newest_at, at);
		snprintf(e->summary, sizeof(e->summary), "Conflicting writes on %s.%s (%s)",
			 k->schema, k->table, k->kind);
		snprintf(e->description, sizeof(e->description),
			 "%lld %s conflict%s on %s.%s in the last %.0f minutes, %lld of them open: "
			 "two masters wrote the same row, neither seeing the other. The newest is "
			 "conflict %lld, detected at %s.",
			 (long long)k->n, k->kind, k->n == 1 ? "" : "s", k->schema, k->table,
			 a->hold / 60, (long long)k->open, (long long)k->newest_id, at);
		snprintf(e->path, sizeof(e->path), "/v1/conflicts/%lld", (long long)k->newest_id);
		e->ends_at = k->newest_at + a->hold;
		cand_done(c);
	}
}

static void rule_diverged(const struct alerts_input *in, struct cands *c)
{
	for (size_t i = 0; i < in->n_diverged; i++) {
		const struct alerts_diverged *k = &in->diverged[i];
		struct alert *e;

		if (k->n <= 0 || (e = cand_add(c, RULE_DIVERGED)) == NULL)
			continue;
		label(e, "schema", k->schema);
		label(e, "table", k->table);
		snprintf(e->summary, sizeof(e->summary), "Rows of %s.%s differ between the masters",
			 k->schema, k->table);
		snprintf(
		    e->description, sizeof(e->description),
		    "%lld open conflict%s left rows of %s.%s different between the masters; the "
		    "newest is conflict %lld (`ringwatch repair %lld` prints the SQL that makes "
		    "them equal).",
		    (long long)k->n, k->n == 1 ? "" : "s", k->schema, k->table,
		    (long long)k->newest_id, (long long)k->newest_id);
		snprintf(e->path, sizeof(e->path), "/v1/conflicts/%lld", (long long)k->newest_id);
		cand_done(c);
	}
}

/* New unsafe schema changes in the input are remembered with the time they were first seen. */
static void ddl_remember(struct alerts *a, const struct alerts_input *in)
{
	uint64_t newest = a->ddl_seq;

	for (size_t i = 0; i < in->n_ddl; i++) {
		const struct alerts_ddl *d = &in->ddl[i];
		struct ddl_event *ev = &a->ddl[d->seq % DDL_KEPT];

		if (d->seq <= a->ddl_seq)
			continue;
		ev->seq = d->seq;
		ev->at = in->now;
		snprintf(ev->master, sizeof(ev->master), "%s", d->master);
		snprintf(ev->schema, sizeof(ev->schema), "%s", d->schema);
		snprintf(ev->table, sizeof(ev->table), "%s", d->table);
		snprintf(ev->trx, sizeof(ev->trx), "%s", d->trx);
		snprintf(ev->sql, sizeof(ev->sql), "%s", d->sql);
		snprintf(ev->reason, sizeof(ev->reason), "%s", d->reason);
		newest = d->seq > newest ? d->seq : newest;
	}
	a->ddl_seq = newest;
}

static void rule_ddl(const struct alerts *a, double now, struct cands *c)
{
	/* oldest first, so that the newest change of a table is what its alert says */
	for (uint64_t k = a->ddl_seq >= DDL_KEPT ? a->ddl_seq - DDL_KEPT + 1 : 1; k <= a->ddl_seq;
	     k++) {
		const struct ddl_event *ev = &a->ddl[k % DDL_KEPT];
		struct alert *e;

		if (ev->seq != k || now >= ev->at + a->hold ||
		    (e = cand_add(c, RULE_DDL_UNSAFE)) == NULL)
			continue;
		label(e, "master", ev->master);
		label(e, "schema", ev->schema);
		label(e, "table", ev->table);
		snprintf(e->summary, sizeof(e->summary), "An unsafe schema change of %s.%s on %s",
			 ev->schema, ev->table, ev->master);
		snprintf(e->description, sizeof(e->description), "%s (%s): %s: %s", ev->master,
			 ev->trx, ev->sql, ev->reason);
		snprintf(e->path, sizeof(e->path), "/v1/tables");
		e->ends_at = ev->at + a->hold;
		cand_done(c);
	}
}

/*
 * A link over max_lag.  The text says no lag figure, nor which of the two
 * lags is over: both change each second, and a text that changes sends
 * the alert again.
 */
static void rule_lagging(const struct alerts *a, const struct alerts_input *in, struct cands *c)
{
	for (size_t i = 0; i < in->n_links; i++) {
		const struct alerts_link *l = &in->links[i];
		bool unknown = strcmp(l->state, "unknown") == 0;
		struct alert *e;

		if ((!unknown && strcmp(l->state, "lagging") != 0) ||
		    (e = cand_add(c, RULE_LINK_LAGGING)) == NULL)
			continue;
		label(e, "source", l->source);
		label(e, "replica", l->replica);
		e->hold_only = unknown;
		snprintf(e->summary, sizeof(e->summary), "Replication %s→%s lags", l->source,
			 l->replica);
		snprintf(
		    e->description, sizeof(e->description),
		    "Transactions written on %s reach %s more than max_lag (%g s) late, as "
		    "ringwatch measures it from the binlogs or as the replica's "
		    "Seconds_Behind_Master says, for %.0f minutes now: writes to the same rows on "
		    "both masters inside that window become conflicts. Its lag and cause: "
		    "/v1/status links[].",
		    l->source, l->replica, in->max_lag, a->lagging_for / 60);
		snprintf(e->path, sizeof(e->path), "/v1/status");
		e->for_s = a->lagging_for;
		cand_done(c);
	}
}

static void rule_drift(const struct alerts *a, const struct alerts_input *in, struct cands *c)
{
	for (size_t i = 0; in->drift_known && i < in->n_drift; i++) {
		const struct alerts_drift *d = &in->drift[i];
		struct alert *e = cand_add(c, RULE_DRIFT);

		if (e == NULL)
			continue;
		label(e, "schema", d->schema);
		label(e, "table", d->table);
		snprintf(e->summary, sizeof(e->summary), "The masters' schemas of %s.%s differ",
			 d->schema, d->table);
		snprintf(
		    e->description, sizeof(e->description),
		    "%s.%s: %.700s. The next row event on the table can stop replication (1677, "
		    "1054) or land in the wrong column.",
		    d->schema, d->table, d->detail);
		snprintf(e->path, sizeof(e->path), "/v1/status");
		e->for_s = a->drift_for;
		cand_done(c);
	}
}

static void rule_audit(const struct alerts *a, const struct alerts_input *in, struct cands *c)
{
	for (size_t i = 0; i < in->n_audit; i++) {
		const struct alerts_audit *f = &in->audit[i];
		bool one = f->master[0] != '\0';
		struct alert *e = cand_add(c, RULE_AUDIT);

		if (e == NULL)
			continue;
		label(e, "check", f->check);
		if (one)
			label(e, "master", f->master);
		snprintf(e->summary, sizeof(e->summary), "Ring configuration check %s fails%s%s",
			 f->check, one ? " on " : "", f->master);
		snprintf(
		    e->description, sizeof(e->description),
		    "The configuration audit finds a critical problem (%s%s%s): %.600s. With it "
		    "the ring loses or diverges rows silently.",
		    f->check, one ? " on " : "", f->master, f->detail);
		snprintf(e->path, sizeof(e->path), "/v1/status");
		e->for_s = a->audit_for;
		cand_done(c);
	}
}

static void rule_blind(const struct alerts *a, const struct alerts_input *in, struct cands *c)
{
	struct alert *e;

	if (!in->blind || (e = cand_add(c, RULE_BLIND)) == NULL)
		return;
	snprintf(e->summary, sizeof(e->summary),
		 "ringwatch's conflict engine is blind: writes are not compared");
	snprintf(
	    e->description, sizeof(e->description),
	    "More writes wait to be settled than max_tracked_writes allows (usually a "
	    "stalled or lagging link), so ringwatchd compares no writes until it catches "
	    "up: conflicts in this time are not found (ringwatch_tracking_dropped_writes_total "
	    "counts them).");
	snprintf(e->path, sizeof(e->path), "/v1/status");
	e->for_s = a->blind_for;
	cand_done(c);
}

static void rule_gate(const struct alerts *a, const struct alerts_input *in, struct cands *c)
{
	char checks[512] = "";
	size_t used = 0;
	struct alert *e;

	if (!in->gate_closed || (e = cand_add(c, RULE_GATE)) == NULL)
		return;
	for (size_t i = 0; i < in->n_gate_failing && used < sizeof(checks); i++) {
		int n = snprintf(checks + used, sizeof(checks) - used, "%s%s", i > 0 ? ", " : "",
				 in->gate_failing[i].name);
		used += n > 0 ? (size_t)n : 0;
	}
	snprintf(e->summary, sizeof(e->summary), "The deploy gate has been closed for %.0f minutes",
		 a->gate_for / 60);
	snprintf(e->description, sizeof(e->description),
		 "ringwatch gate says not safe to deploy; failing checks: %s. Deploys and online "
		 "schema changes that ask the gate wait. Details: /v1/gate, or `ringwatch gate`.",
		 checks[0] != '\0' ? checks : "none named");
	snprintf(e->path, sizeof(e->path), "/v1/gate");
	e->for_s = a->gate_for;
	cand_done(c);
}

/* ---- rendering ------------------------------------------------------------------------- */

/* A JSON string of s; bytes that are not UTF-8 (a cut character, binary data) become '?'. */
static json_t *text(const char *s)
{
	json_t *j = json_string(s);
	char *copy;

	if (j != NULL)
		return j;
	copy = strdup(s);
	if (copy == NULL)
		return NULL;
	for (char *p = copy; *p != '\0'; p++) {
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	}
	j = json_string(copy);
	free(copy);
	return j;
}

static json_t *time_json(double t)
{
	char buf[32];

	time_text(t, buf);
	return json_string(buf);
}

static json_t *labels_json(const struct alerts *a, const struct alert *e)
{
	json_t *o = json_object();

	json_object_set_new(o, "alertname", json_string(rules[e->rule].name));
	json_object_set_new(o, "severity", json_string(rules[e->rule].severity));
	json_object_set_new(o, "job", json_string("ringwatch"));
	json_object_set_new(o, "instance", text(a->instance));
	for (size_t i = 0; i < e->n_labels; i++)
		json_object_set_new(o, e->labels[i].key, text(e->labels[i].value));
	return o;
}

/* The runbook's section of e's alert: the name in lower case. */
static json_t *runbook_json(const struct alert *e)
{
	char url[sizeof(ALERTS_RUNBOOK) + 64];
	size_t n = (size_t)snprintf(url, sizeof(url), "%s#", ALERTS_RUNBOOK);

	for (const char *p = rules[e->rule].name; *p != '\0' && n + 1 < sizeof(url); p++)
		url[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	url[n] = '\0';
	return json_string(url);
}

static json_t *annotations_json(const struct alert *e)
{
	json_t *o = json_object();

	json_object_set_new(o, "summary", text(e->summary));
	json_object_set_new(o, "description", text(e->description));
	json_object_set_new(o, "runbook_url", runbook_json(e));
	return o;
}

static char *generator_url(const struct alerts *a, const struct alert *e)
{
	size_t n = strlen(a->base_url) + strlen(e->path) + 1;
	char *url = malloc(n);

	if (url != NULL)
		snprintf(url, n, "%s%s", a->base_url, e->path);
	return url;
}

/*
 * An element of POST /api/v2/alerts.  endsAt: now for an alert that ended;
 * an event's own end; else four resends ahead, so that Alertmanager ends
 * it by itself should ringwatchd stop sending (as Prometheus does).
 */
static char *alertmanager_json(const struct alerts *a, const struct alert *e, double now,
			       bool resolved)
{
	double ends = resolved ? now : e->ends_at > 0 ? e->ends_at : now + 4 * a->resend;
	char *url = generator_url(a, e);
	json_t *o = json_object();
	char *s;

	json_object_set_new(o, "labels", labels_json(a, e));
	json_object_set_new(o, "annotations", annotations_json(e));
	json_object_set_new(o, "startsAt", time_json(e->active_at));
	json_object_set_new(o, "endsAt", time_json(ends));
	if (url != NULL)
		json_object_set_new(o, "generatorURL", text(url));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	free(url);
	return s;
}

/* The webhook's object of one change (doc/alerts.md, ringwatchd(8)). */
static char *webhook_json(const struct alerts *a, const struct alert *e, double now, enum change ch)
{
	bool resolved = ch == CHANGE_RESOLVED;
	char fp[17];
	char *url = generator_url(a, e);
	json_t *o = json_object();
	char *s;

	snprintf(fp, sizeof(fp), "%016llx", (unsigned long long)e->fp);
	json_object_set_new(o, "version", json_string("1"));
	json_object_set_new(o, "status", json_string(resolved ? "resolved" : "firing"));
	json_object_set_new(o, "change", json_string(change_names[ch]));
	json_object_set_new(o, "fingerprint", json_string(fp));
	json_object_set_new(o, "labels", labels_json(a, e));
	json_object_set_new(o, "annotations", annotations_json(e));
	json_object_set_new(o, "startsAt", time_json(e->active_at));
	json_object_set_new(o, "endsAt",
			    resolved         ? time_json(now)
			    : e->ends_at > 0 ? time_json(e->ends_at)
					     : json_null());
	if (url != NULL)
		json_object_set_new(o, "generatorURL", text(url));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	free(url);
	return s;
}

/* One change of e to send: to Alertmanager always, to the webhook unless a resend. */
static void emit(struct alerts *a, struct alert *e, double now, enum change ch, struct items *it)
{
	struct alerts_item *item;

	if (it->n == it->cap) {
		size_t cap = it->cap > 0 ? 2 * it->cap : 16;
		struct alerts_item *grown = realloc(it->v, cap * sizeof(*grown));
		if (grown == NULL) {
			it->failed = true;
			return;
		}
		it->v = grown;
		it->cap = cap;
	}
	item = &it->v[it->n];
	item->fingerprint = e->fp;
	item->alertmanager = alertmanager_json(a, e, now, ch == CHANGE_RESOLVED);
	item->webhook = ch == CHANGE_RESEND ? NULL : webhook_json(a, e, now, ch);
	if (item->alertmanager == NULL || (ch != CHANGE_RESEND && item->webhook == NULL)) {
		free(item->alertmanager);
		free(item->webhook);
		it->failed = true;
		return;
	}
	it->n++;
	e->sent_at = now;
}

void alerts_items_free(struct alerts_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(items[i].alertmanager);
		free(items[i].webhook);
	}
	free(items);
}

/* ---- the set ---------------------------------------------------------------------------- */

static struct alert *find(struct alerts *a, uint64_t fp)
{
	for (size_t i = 0; i < a->n; i++) {
		if (a->set[i].fp == fp)
			return &a->set[i];
	}
	return NULL;
}

/* A new candidate joins the set, pending or firing; NULL when the set is full. */
static struct alert *start(struct alerts *a, const struct alert *c, double now)
{
	struct alert *e;

	if (a->n == ALERTS_MAX) {
		a->dropped++;
		return NULL;
	}
	if (a->n == a->cap) {
		size_t cap = a->cap > 0 ? 2 * a->cap : 16;
		struct alert *grown = realloc(a->set, cap * sizeof(*grown));
		if (grown == NULL)
			return NULL;
		a->set = grown;
		a->cap = cap;
	}
	e = &a->set[a->n++];
	*e = *c;
	e->active_at = now;
	e->sent_at = 0;
	e->firing = false;
	return e;
}

static bool same_text(const struct alert *x, const struct alert *y)
{
	return strcmp(x->summary, y->summary) == 0 && strcmp(x->description, y->description) == 0 &&
	       strcmp(x->path, y->path) == 0 && x->ends_at == y->ends_at;
}

/* A candidate met: it starts, fires after its pending time, or says what changed. */
static void meet(struct alerts *a, const struct alert *c, double now, struct items *it)
{
	struct alert *e = find(a, c->fp);
	bool changed;

	if (e == NULL && c->hold_only)
		return;
	if (e == NULL && (e = start(a, c, now)) == NULL)
		return;
	e->seen = true;
	if (c->hold_only)
		return;
	changed = !same_text(e, c);
	if (changed) {
		memcpy(e->summary, c->summary, sizeof(e->summary));
		memcpy(e->description, c->description, sizeof(e->description));
		memcpy(e->path, c->path, sizeof(e->path));
		e->ends_at = c->ends_at;
	}
	if (!e->firing && now - e->active_at >= e->for_s) {
		e->firing = true;
		emit(a, e, now, CHANGE_STARTED, it);
	} else if (e->firing && changed) {
		emit(a, e, now, CHANGE_UPDATED, it);
	}
}

/*
 * Alerts no candidate met end (a pending one silently); those the ledger
 * feeds stay while it cannot be read, and drift's while it is not compared.
 */
static void end_unseen(struct alerts *a, const struct alerts_input *in, struct items *it)
{
	for (size_t i = a->n; i-- > 0;) {
		struct alert *e = &a->set[i];
		bool from_ledger = e->rule == RULE_CONFLICT || e->rule == RULE_DIVERGED;
		bool drift_unknown = e->rule == RULE_DRIFT && !in->drift_known;

		if (e->seen || (from_ledger && !in->ledger_known) || drift_unknown)
			continue;
		if (e->firing)
			emit(a, e, in->now, CHANGE_RESOLVED, it);
		a->set[i] = a->set[--a->n];
	}
}

static int finish(struct items *it, struct alerts_item **items, size_t *n)
{
	if (it->failed) {
		alerts_items_free(it->v, it->n);
		*items = NULL;
		*n = 0;
		return -1;
	}
	*items = it->v;
	*n = it->n;
	return 0;
}

int alerts_update(struct alerts *a, const struct alerts_input *in, struct alerts_item **items,
		  size_t *n)
{
	struct cands c = { 0 };
	struct items it = { 0 };

	ddl_remember(a, in);
	rule_masters(a, in, &c);
	rule_links(in, &c);
	if (in->ledger_known) {
		rule_conflicts(a, in, &c);
		rule_diverged(in, &c);
	}
	rule_ddl(a, in->now, &c);
	rule_lagging(a, in, &c);
	rule_drift(a, in, &c);
	rule_audit(a, in, &c);
	rule_blind(a, in, &c);
	rule_gate(a, in, &c);
	if (c.failed) {
		free(c.v);
		*items = NULL;
		*n = 0;
		return -1;
	}
	for (size_t i = 0; i < a->n; i++)
		a->set[i].seen = false;
	for (size_t i = 0; i < c.n; i++)
		meet(a, &c.v[i], in->now, &it);
	free(c.v);
	end_unseen(a, in, &it);
	for (size_t i = 0; i < a->n; i++) {
		struct alert *e = &a->set[i];
		if (e->firing && in->now - e->sent_at >= a->resend)
			emit(a, e, in->now, CHANGE_RESEND, &it);
	}
	return finish(&it, items, n);
}

int alerts_firing(struct alerts *a, double now, struct alerts_item **items, size_t *n)
{
	struct items it = { 0 };

	for (size_t i = 0; i < a->n; i++) {
		if (a->set[i].firing)
			emit(a, &a->set[i], now, CHANGE_RESEND, &it);
	}
	return finish(&it, items, n);
}
