/*
 * drift.c - schema drift between the masters (see drift.h).
 */
#include "drift.h"

#include "ringwatch/rw_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* DDL transactions followed at once; past it the oldest is forgotten. */
#define PENDING_MAX 256
/* Tables remembered per DDL transaction. */
#define PENDING_TABLES 8

struct pending {
	char trx[96];
	char sql[200];
	double first;  /* when the first stream showed it */
	uint64_t seen; /* bit m: master m's stream showed it */
	size_t first_master;
	struct {
		char schema[SCHEMA_NAME_MAX], table[SCHEMA_NAME_MAX];
	} tables[PENDING_TABLES];
	size_t n_tables;
};

struct drift {
	size_t n;
	const char *const *names;
	struct pending *p; /* a FIFO of PENDING_MAX */
	size_t head, len;
	struct pending *last; /* the one drift_ddl_table() adds to */
};

struct drift *drift_new(size_t n, const char *const *names)
{
	struct drift *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->p = calloc(PENDING_MAX, sizeof(*d->p));
	if (d->p == NULL || n > 64) {
		drift_free(d);
		return NULL;
	}
	d->n = n;
	d->names = names;
	return d;
}

void drift_free(struct drift *d)
{
	if (d == NULL)
		return;
	free(d->p);
	free(d);
}

static struct pending *at(const struct drift *d, size_t i)
{
	return &d->p[(d->head + i) % PENDING_MAX];
}

static uint64_t everyone(const struct drift *d)
{
	return d->n >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << d->n) - 1;
}

/* Drop the DDL every master has shown from the front of the FIFO. */
static void settle(struct drift *d)
{
	while (d->len > 0 && at(d, 0)->seen == everyone(d)) {
		if (d->last == at(d, 0))
			d->last = NULL;
		d->head = (d->head + 1) % PENDING_MAX;
		d->len--;
	}
}

void drift_ddl(struct drift *d, size_t m, const char *trx, const char *sql, size_t len, double now)
{
	struct pending *p = NULL;

	d->last = NULL;
	if (m >= d->n)
		return;
	for (size_t i = 0; i < d->len && p == NULL; i++) {
		if (strcmp(at(d, i)->trx, trx) == 0)
			p = at(d, i);
	}
	if (p == NULL) {
		if (d->len == PENDING_MAX) { /* forget the oldest */
			d->head = (d->head + 1) % PENDING_MAX;
			d->len--;
		}
		p = at(d, d->len++);
		memset(p, 0, sizeof(*p));
		snprintf(p->trx, sizeof(p->trx), "%s", trx);
		snprintf(p->sql, sizeof(p->sql), "%.*s%s", (int)(len > 150 ? 150 : len), sql,
			 len > 150 ? "..." : "");
		for (char *c = p->sql; *c != '\0'; c++) {
			if (*c == '\n' || *c == '\r' || *c == '\t')
				*c = ' ';
		}
		p->first = now;
		p->first_master = m;
		d->last = p;
	}
	p->seen |= (uint64_t)1 << m;
	settle(d);
}

void drift_ddl_table(struct drift *d, size_t m, const char *schema, const char *table)
{
	struct pending *p = d->last;

	(void)m;
	if (p == NULL || p->n_tables >= PENDING_TABLES)
		return;
	for (size_t i = 0; i < p->n_tables; i++) {
		if (strcmp(p->tables[i].schema, schema) == 0 &&
		    strcmp(p->tables[i].table, table) == 0)
			return;
	}
	snprintf(p->tables[p->n_tables].schema, SCHEMA_NAME_MAX, "%s", schema);
	snprintf(p->tables[p->n_tables].table, SCHEMA_NAME_MAX, "%s", table);
	p->n_tables++;
}

/* ---- findings ------------------------------------------------------------------------ */

struct finder {
	struct drift *d;
	const schema_db *const *dbs;
	size_t master; /* the db being walked */
	struct drift_entry *out;
	size_t max, n;
};

static struct drift_entry *add(struct finder *f, const char *schema, const char *table)
{
	struct drift_entry *e;

	if (f->n++ >= f->max)
		return NULL;
	e = &f->out[f->n - 1];
	snprintf(e->schema, sizeof(e->schema), "%s", schema);
	snprintf(e->table, sizeof(e->table), "%s", table);
	e->detail[0] = '\0';
	e->age = 0;
	e->age_at = 0;
	return e;
}

static bool in_flight(const struct drift *d, const char *schema, const char *table)
{
	for (size_t i = 0; i < d->len; i++) {
		const struct pending *p = at(d, i);
		for (size_t k = 0; k < p->n_tables; k++) {
			if (strcmp(p->tables[k].schema, schema) == 0 &&
			    strcmp(p->tables[k].table, table) == 0)
				return true;
		}
	}
	return false;
}

/* "DDL not replicated to east: ALTER ... (1-1-42 from west)", its age apart. */
static void ddl_detail(struct drift_entry *e, const char *missing, const struct pending *p,
		       const char *from, double age)
{
	int o = snprintf(e->detail, sizeof(e->detail), "DDL not replicated to %s: %s (%s from %s",
			 missing, p->sql, p->trx, from);

	e->age = age;
	e->age_at = o < 0 ? 0 : (size_t)o < sizeof(e->detail) ? (size_t)o : sizeof(e->detail) - 1;
	snprintf(e->detail + e->age_at, sizeof(e->detail) - e->age_at, ")");
}

static void pending_findings(struct finder *f, double timeout, double now)
{
	for (size_t i = 0; i < f->d->len; i++) {
		const struct pending *p = at(f->d, i);
		struct drift_entry *e;
		char missing[256] = "";
		size_t o = 0;
		if (now - p->first < timeout)
			continue;
		for (size_t m = 0; m < f->d->n && o < sizeof(missing); m++) {
			if (!(p->seen & ((uint64_t)1 << m)))
				o += (size_t)snprintf(missing + o, sizeof(missing) - o, "%s%s",
						      o > 0 ? ", " : "", f->d->names[m]);
		}
		e = add(f, p->n_tables > 0 ? p->tables[0].schema : "",
			p->n_tables > 0 ? p->tables[0].table : "");
		if (e != NULL)
			ddl_detail(e, missing, p, f->d->names[p->first_master], now - p->first);
	}
}

/* Master f->master's table against every other master's. */
static void compare_one(const char *schema, const char *table, const schema_table *t,
			const char *why, void *arg)
{
	struct finder *f = arg;
	const struct drift *d = f->d;
	const schema_table *other;
	char absent[256] = "";
	size_t o = 0;

	(void)why;
	if (t == NULL || in_flight(d, schema, table))
		return;
	for (size_t m = 0; m < d->n; m++) {
		const char *w;
		int state = m == f->master ? SCHEMA_KNOWN
					   : schema_db_get(f->dbs[m], schema, table, &other, &w);
		if (state == SCHEMA_UNKNOWN || (state == SCHEMA_KNOWN && m < f->master))
			return; /* not comparable, or compared from that master's walk */
		if (state == SCHEMA_ABSENT && o < sizeof(absent))
			o += (size_t)snprintf(absent + o, sizeof(absent) - o, "%s%s",
					      o > 0 ? ", " : "", d->names[m]);
	}
	if (o > 0) {
		struct drift_entry *e = add(f, schema, table);
		if (e != NULL)
			snprintf(e->detail, sizeof(e->detail), "table missing on %s", absent);
	}
	for (size_t m = f->master + 1; m < d->n; m++) {
		const char *w;
		rw_buf diff = RW_BUF_INIT;
		struct drift_entry *e;
		if (schema_db_get(f->dbs[m], schema, table, &other, &w) != SCHEMA_KNOWN ||
		    schema_table_fingerprint_hash(t) == schema_table_fingerprint_hash(other))
			continue;
		schema_table_diff(t, d->names[f->master], other, d->names[m], &diff);
		e = add(f, schema, table);
		if (e != NULL)
			snprintf(e->detail, sizeof(e->detail), "%s",
				 diff.p != NULL && diff.len > 0 ? diff.p : "the shapes differ");
		rw_buf_free(&diff);
	}
}

size_t drift_find(struct drift *d, const schema_db *const *dbs, bool all_current, double timeout,
		  double now, struct drift_entry *out, size_t max)
{
	struct finder f = { d, dbs, 0, out, max, 0 };

	if (!all_current)
		return 0; /* a stream behind has not shown what it will show */
	pending_findings(&f, timeout, now);
	for (f.master = 0; f.master < d->n; f.master++)
		schema_db_each(dbs[f.master], compare_one, &f);
	return f.n;
}

void drift_entry_show(const struct drift_entry *e, char *buf, size_t len)
{
	if (len > sizeof(e->detail))
		len = sizeof(e->detail);
	if (e->age_at == 0)
		snprintf(buf, len, "%s", e->detail);
	else
		snprintf(buf, len, "%.*s, %.0f s ago%s", (int)e->age_at, e->detail, e->age,
			 e->detail + e->age_at);
}
