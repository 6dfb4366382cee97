/*
 * lag.h - replication delay measured from the binlog streams alone.
 *
 * ringwatch reads every master's binlog in one process, so the time between
 * a transaction appearing in one master's stream and appearing in another's
 * is measured on one clock: no heartbeat table, no writes, no clock sync
 * between servers (doc/data-flow.md, "Lag").
 *
 * The caller reports each transaction as it completes in each stream, by a
 * 64-bit hash of its identity (its GTID) and its origin master.  For a link
 * src -> dst the matcher keeps, in order, the transactions that appeared in
 * src's stream before dst's and did not come from dst; when one appears in
 * dst's stream, the time since it appeared in src's is a lag sample.  The
 * lag of a link is the larger of the age of its oldest transaction still on
 * the way and the last sample, or 0 when none is on the way (caught up, as
 * Seconds_Behind_Master is 0 on an idle replica).  Memory is bounded by the capacity given at
 * creation: past it the oldest transactions are forgotten (and counted).
 */
#ifndef RINGWATCH_LAG_H
#define RINGWATCH_LAG_H

#include <stddef.h>
#include <stdint.h>

#define LAG_ORIGIN_UNKNOWN ((size_t)-1)

typedef struct lag_matcher lag_matcher;

/* For n_masters (2..64) streams, remembering up to capacity transactions. */
lag_matcher *lag_new(size_t n_masters, size_t capacity);

void lag_free(lag_matcher *lm);

/*
 * Transaction trx, made on master origin (LAG_ORIGIN_UNKNOWN if not known),
 * completed in master m's stream at time now (seconds, any monotonic clock).
 * Seeing it again in the same stream (a re-read after a reconnect) changes
 * nothing.
 */
void lag_seen(lag_matcher *lm, uint64_t trx, size_t origin, size_t m, double now);

/*
 * The delay of link src -> dst at time now, in seconds; -1 when nothing has
 * been measured on it yet.
 */
double lag_get(const lag_matcher *lm, size_t src, size_t dst, double now);

/* Transactions still on the way from src to dst. */
/* The last sample of src -> dst, in seconds: how long the last transaction took; -1 none yet. */
double lag_last(const lag_matcher *lm, size_t src, size_t dst);

size_t lag_pending(const lag_matcher *lm, size_t src, size_t dst);

/* Transactions forgotten because the capacity was reached. */
uint64_t lag_forgotten(const lag_matcher *lm);

#endif
