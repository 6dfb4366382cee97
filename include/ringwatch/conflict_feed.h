/*
 * conflict_feed.h - one master's binlog, event by event, turned into the
 * transactions the conflict engine takes (conflict.h).
 *
 * The feed finds transaction boundaries (binlog_trx.h), decodes the row
 * changes of each transaction's rows events into canonical keys and JSON
 * images (row_change.h), and at the end of the transaction feeds it to the
 * engine with its identity (the GTID; without one: origin server_id, commit
 * time and a hash of the row images), its origin master (the caller maps
 * server_ids to masters) and its position: the start of the transaction in
 * the stream, made monotonic across binlog files by conflict_feed_position().
 * The daemon and `ringwatch analyze` run exactly this code.
 *
 * A key cache shared by the feeds of one engine remembers, for recent keys,
 * the key as JSON for people ({"id": 1}), for the reports.
 */
#ifndef RINGWATCH_CONFLICT_FEED_H
#define RINGWATCH_CONFLICT_FEED_H

#include "ringwatch/binlog_event.h"
#include "ringwatch/conflict.h"
#include "ringwatch/row_change.h"
#include "ringwatch/rw_error.h"

#include <stddef.h>
#include <stdint.h>

typedef struct conflict_feed conflict_feed;
typedef struct conflict_keys conflict_keys;

/* The master index of a server_id, or -1 when it is none of the ring's masters. */
typedef int (*conflict_origin_fn)(uint32_t server_id, void *arg);

typedef struct conflict_feed_stats {
	uint64_t transactions;   /* fed to the engine */
	uint64_t rows;           /* row changes fed */
	uint64_t unknown_origin; /* transactions from a server_id that is no master (not fed) */
	uint64_t undecodable;    /* rows events that could not be decoded (no table map, ...) */
	uint64_t cut;            /* transactions cut short by a reset or a new GTID */
	uint64_t replayed;       /* transactions at or before the last one fed (re-read), skipped */
} conflict_feed_stats;

/* A cache of up to slots keys (a power of two is best). */
conflict_keys *conflict_keys_new(size_t slots);
void conflict_keys_free(conflict_keys *k);

/* The JSON of a key, or NULL when the cache no longer has it. */
const char *conflict_keys_json(const conflict_keys *k, const uint8_t *key, size_t len);

/* A feed of master's stream into e; origin maps server_ids; keys may be NULL. */
conflict_feed *conflict_feed_new(conflict_engine *e, unsigned master, conflict_origin_fn origin,
				 void *arg, conflict_keys *keys);
void conflict_feed_free(conflict_feed *f);

/*
 * What the caller knows of a table beyond its table map (column names and
 * primary key, from the master's information_schema), or NULL.
 */
typedef const row_table_info *(*conflict_table_fn)(const char *schema, const char *table,
						   void *arg);

void conflict_feed_set_tables(conflict_feed *f, conflict_table_fn fn, void *arg);

/* The binlog file the next events belong to (a ROTATE event also sets it). */
void conflict_feed_set_file(conflict_feed *f, const char *file);

/*
 * One event, in stream order.  now is the caller's clock (copied to the
 * engine's reports).  Returns 0, or RW_E_* from the engine (a bad position:
 * the stream went backwards).  Events that cannot be decoded are counted,
 * not fatal.
 */
RW_MUST_CHECK int conflict_feed_event(conflict_feed *f, const binlog_event *ev, int64_t now,
				      rw_error *err);

/* The binlog file the feed is in ("" before any). */
const char *conflict_feed_file(const conflict_feed *f);

/*
 * The file and offset of position pos (conflict_feed_position's inverse),
 * given a file name of the same binlog for its pattern: the digits after its
 * last '.' replaced by pos's sequence number, zero-padded to the same width.
 * -1 when pattern has no such digits.
 */
int conflict_feed_file_of(uint64_t pos, const char *pattern, char *file, size_t len,
			  uint64_t *offset);

/* The connection dropped: forget the transaction being gathered. */
void conflict_feed_reset(conflict_feed *f);

void conflict_feed_stats_get(const conflict_feed *f, conflict_feed_stats *out);

/*
 * A position that grows across binlog files: the file's sequence number
 * (the digits after its last '.') in the top 24 bits, the offset below.
 */
uint64_t conflict_feed_position(const char *file, uint64_t offset);

#endif
