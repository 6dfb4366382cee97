/*
 * ledger_memo.h - the answers of ledger_each_between() kept while the
 * conflict table does not change in what they read (state_conflict_version():
 * a conflict recorded or resolved, not the finals the engine writes).
 *
 * A link stopped on error 1062 or 1032 asks the ledger the same question at
 * every status snapshot (/metrics, /v1/status, the alerts' tick), on the
 * event loop; with 100,000 conflicts on its table one answer takes about
 * half a second.  The memo keeps the conflicts the ledger answered, not a
 * verdict: what the caller judges of them (the replica's applied GTIDs, the
 * streams being current) is judged afresh each time.
 */
#ifndef RINGWATCHD_LEDGER_MEMO_H
#define RINGWATCHD_LEDGER_MEMO_H

#include "ledger.h"

#include <stdint.h>

struct state;
struct ledger_memo;

/* A memo, empty; NULL when out of memory.  It serves one state for its whole life. */
struct ledger_memo *ledger_memo_new(void);

/* Free it (NULL: nothing). */
void ledger_memo_free(struct ledger_memo *m);

/*
 * ledger_each_between() on st, the same conflicts in the same order through
 * fn, read from the ledger only when this question (schema, table, kinds,
 * replica) was not answered since the conflict table last changed.  m NULL:
 * always read.  0, or -1 on error (state_error() says why; nothing is kept).
 */
int ledger_memo_each_between(struct ledger_memo *m, struct state *st, const char *schema,
			     const char *table, const char *kinds, const char *replica,
			     int (*fn)(const struct ledger_between *c, void *arg), void *arg);

/* How many times m read the ledger (its cost, for the tests). */
uint64_t ledger_memo_reads(const struct ledger_memo *m);

#endif
