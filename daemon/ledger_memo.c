/*
 * ledger_memo.c - the answers of ledger_each_between() kept while the
 * conflict table does not change in what they read (ledger_memo.h).
 */
#include "ledger_memo.h"

#include "state.h"

#include "ringwatch/conflict.h"
#include "ringwatch/rw_buf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/*
 * Questions kept.  A link stopped on a 1062 or a 1032 asks one at each
 * snapshot, keyed on its replica, its error's table and kinds, so the
 * questions asked in turn are at most the links: one from each other
 * master into each of up to CONFLICT_MAX_MASTERS, 240.  Fewer slots than
 * links stopped at once would have each evict the next one's answer.
 */
#define MEMO_SLOTS (CONFLICT_MAX_MASTERS * (CONFLICT_MAX_MASTERS - 1))

struct memo_row {
	int64_t id;
	bool open;
	char *kind, *other_gtid;
};

/* One question and the conflicts the ledger answered at version v. */
struct memo_slot {
	char *schema, *table, *kinds, *replica; /* NULL: a free slot */
	struct state_version v;
	uint64_t used; /* m->tick when last asked */
	struct memo_row *rows;
	size_t n, cap;
};

struct ledger_memo {
	struct memo_slot slot[MEMO_SLOTS];
	uint64_t tick, reads;
};

struct ledger_memo *ledger_memo_new(void)
{
	return calloc(1, sizeof(struct ledger_memo));
}

static void forget_rows(struct memo_slot *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->rows[i].kind);
		free(s->rows[i].other_gtid);
	}
	s->n = 0;
}

static void forget(struct memo_slot *s)
{
	forget_rows(s);
	free(s->rows);
	free(s->schema);
	free(s->table);
	free(s->kinds);
	free(s->replica);
	memset(s, 0, sizeof(*s));
}

void ledger_memo_free(struct ledger_memo *m)
{
	for (size_t i = 0; m != NULL && i < MEMO_SLOTS; i++)
		forget(&m->slot[i]);
	free(m);
}

uint64_t ledger_memo_reads(const struct ledger_memo *m)
{
	return m->reads;
}

/* The slot of this question, else a free one or the one asked longest ago (emptied). */
static struct memo_slot *slot_of(struct ledger_memo *m, const char *schema, const char *table,
				 const char *kinds, const char *replica, bool *found)
{
	struct memo_slot *pick = &m->slot[0];

	for (size_t i = 0; i < MEMO_SLOTS; i++) {
		struct memo_slot *s = &m->slot[i];
		if (s->schema != NULL && strcmp(s->schema, schema) == 0 &&
		    strcmp(s->table, table) == 0 && strcmp(s->kinds, kinds) == 0 &&
		    strcmp(s->replica, replica) == 0) {
			*found = true;
			return s;
		}
		if (pick->schema != NULL && (s->schema == NULL || s->used < pick->used))
			pick = s;
	}
	*found = false;
	forget(pick);
	return pick;
}

/* ledger_each_between()'s callback: a copy of each conflict, in its order. */
struct fill {
	struct memo_slot *s;
	bool failed; /* out of memory: the copy is not whole */
};

static int keep_row(const struct ledger_between *c, void *arg)
{
	struct fill *f = arg;
	struct memo_slot *s = f->s;
	struct memo_row *r;

	if (rw_array_grow(&s->rows, &s->cap, s->n, sizeof(*s->rows), 16) < 0) {
		f->failed = true;
		return 1;
	}
	r = &s->rows[s->n++];
	r->id = c->id;
	r->open = c->open;
	r->kind = strdup(c->kind);
	r->other_gtid = strdup(c->other_gtid);
	f->failed = r->kind == NULL || r->other_gtid == NULL;
	return f->failed ? 1 : 0;
}

/* Read the answer to s's question from the ledger (s emptied first): 0, or -1 (s forgotten). */
static int fill(struct ledger_memo *m, struct memo_slot *s, struct state *st)
{
	struct fill f = { s, false };
	int rc;

	forget_rows(s);
	m->reads++;
	rc = ledger_each_between(st, s->schema, s->table, s->kinds, s->replica, keep_row, &f);
	if (rc == 0 && f.failed)
		rc = state_fail(st, "out of memory");
	if (rc != 0)
		forget(s);
	return rc;
}

int ledger_memo_each_between(struct ledger_memo *m, struct state *st, const char *schema,
			     const char *table, const char *kinds, const char *replica,
			     int (*fn)(const struct ledger_between *c, void *arg), void *arg)
{
	struct state_version v;
	struct memo_slot *s;
	bool found;

	if (m == NULL)
		return ledger_each_between(st, schema, table, kinds, replica, fn, arg);
	/* the version before the read: a change made after it is a change seen next time */
	if (state_conflict_version(st, &v) != 0)
		return -1;
	s = slot_of(m, schema, table, kinds, replica, &found);
	if (!found) {
		s->schema = strdup(schema);
		s->table = strdup(table);
		s->kinds = strdup(kinds);
		s->replica = strdup(replica);
		if (s->schema == NULL || s->table == NULL || s->kinds == NULL ||
		    s->replica == NULL) {
			forget(s);
			return state_fail(st, "out of memory");
		}
	}
	if (!found || s->v.writes != v.writes || s->v.others != v.others) {
		if (fill(m, s, st) != 0)
			return -1;
		s->v = v;
	}
	s->used = ++m->tick;
	for (size_t i = 0; i < s->n; i++) {
		struct ledger_between c = { s->rows[i].id, s->rows[i].kind, s->rows[i].open,
					    s->rows[i].other_gtid };
		if (fn(&c, arg) != 0)
			break;
	}
	return 0;
}
