/*
 * verify_touch.h - the recent row changes the streams showed, for the
 * verifier's question "did any stream show a change to a key of this chunk
 * between these two moments?" (doc/verify.md).
 *
 * A ring of a fixed number of bytes keeps, in the order they were added,
 * one entry per row change as one stream showed it: the moment (the
 * caller's monotonic seconds), the stream, the transaction (a hash of its
 * identity, 0 when not known) and its position in that stream, and the
 * row's canonical key bytes, "schema NUL table NUL" then the key columns'
 * encodings (row_change.h).  An entry may also stand for every row of a
 * table (rows the feed could not key) or for every row of every table (an
 * event it could not decode).  Old entries are overwritten; the ring says
 * from when on it still holds everything.
 */
#ifndef RINGWATCH_VERIFY_TOUCH_H
#define RINGWATCH_VERIFY_TOUCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct verify_touches verify_touches;

/* A ring of about bytes bytes (at least 4 KiB); NULL when out of memory. */
verify_touches *verify_touches_new(size_t bytes);
void verify_touches_free(verify_touches *t);

/*
 * A row change seen at now: key is "schema NUL table NUL" and the key
 * columns (len bytes).  table_only: the change is to some row of the table
 * key names (key holds only "schema NUL table NUL"); key NULL: to any row
 * of any table.  now never goes back (a smaller one is taken as the last).
 */
void verify_touches_add(verify_touches *t, double now, unsigned stream, uint64_t trx, uint64_t pos,
			const uint8_t *key, size_t len, bool table_only);

/* The moment from which on the ring holds every change (0 while nothing was overwritten). */
double verify_touches_since(const verify_touches *t);

/* Forget every change: the ring holds every change from now on (since = now). */
void verify_touches_clear(verify_touches *t, double now);

/* A question: a table's chunk (lo, hi] over n key columns. */
typedef struct verify_touch_query {
	const uint8_t *table; /* "schema NUL table NUL" */
	size_t table_len;
	const uint8_t *lo, *hi; /* key column encodings; NULL: open end */
	size_t lo_len, hi_len;
	const bool *ordered; /* n: whether column i's bytes keep the server's order */
	size_t n;
	bool point; /* the one key lo (hi unused) */
	/* each stream's snapshot position; n_streams 0: any change in the window counts */
	const uint64_t *snap;
	size_t n_streams;
} verify_touch_query;

/*
 * Whether a change shown at or after from may make the snapshots of the
 * chunk differ: 1 yes (or cannot be told: an unordered key, a whole-table
 * or any-table entry, a transaction whose identity is not known), 0 no, -1
 * when the ring no longer holds everything since from.  With snapshot
 * positions, a transaction that every stream showed before its snapshot,
 * or none did (after it, or not yet: the caller asks once every stream has
 * passed its snapshot), is in all snapshots or in none and does not count;
 * one that some streams showed before and others not does.
 */
int verify_touches_find(const verify_touches *t, double from, const verify_touch_query *q);

/* Entries held, for the tests and the status. */
size_t verify_touches_count(const verify_touches *t);

#endif
