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
#include "ringwatch/ddl.h"
#include "ringwatch/row_change.h"
#include "ringwatch/rw_error.h"
#include "ringwatch/schema.h"

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
	uint64_t unknown_rows;   /* row changes of tables whose shape is not known (not compared) */
	uint64_t ddl;            /* table statements applied to the schema history */
	uint64_t ddl_unreadable; /* of them, statements the parser could not read */
	uint64_t sequence_rows;  /* rows events of MariaDB sequences (the server's, not compared) */
	uint64_t big;            /* transactions over max_rows: followed as stubs, not compared */
	uint64_t big_rows;       /* their row changes */
	uint64_t stub_copies;    /* appearances of transactions the engine follows as stubs */
	uint64_t no_images;      /* transactions over max_image_bytes: fed without images */
	uint64_t light;          /* copies read for keys and before images only */
	uint64_t gaps;           /* gaps whose purged binlogs' content was told the engine */
	uint64_t predecoded;     /* rows events taken from a batch (row_batch.h), not decoded */
	/* what the engine made of them at the time (conflict_stats' gap_* during those calls) */
	uint64_t gap_shown, gap_undecided, gap_unknown;
} conflict_feed_stats;

/*
 * Where a stream is, as the feed keeps it: the binlog file the next events
 * belong to, and the end of the last event read (conflict_feed_position()).
 */
typedef struct conflict_stream_pos {
	char file[256];
	uint64_t pos;
} conflict_stream_pos;

/*
 * Move p over ev: a ROTATE names the file, a heartbeat says where an idle
 * master's binlog ends (pos never goes back for one), any other event ends
 * where it ends.  1 when ev was a ROTATE or a heartbeat (it carries nothing
 * else), else 0.
 */
int conflict_stream_pos_advance(conflict_stream_pos *p, const binlog_event *ev);

/* A cache of up to slots keys (a power of two is best). */
conflict_keys *conflict_keys_new(size_t slots);
void conflict_keys_free(conflict_keys *k);

/* The JSON of a key, or NULL when the cache no longer has it. */
const char *conflict_keys_json(const conflict_keys *k, const uint8_t *key, size_t len);

/* A feed of master's stream into e; origin maps server_ids; keys may be NULL. */
conflict_feed *conflict_feed_new(conflict_engine *e, unsigned master, conflict_origin_fn origin,
				 void *arg, conflict_keys *keys);
void conflict_feed_free(conflict_feed *f);

/* Row changes of one transaction a feed gathers by default (conflict_feed_set_bounds()). */
#define CONFLICT_FEED_MAX_ROWS ((size_t)1 << 18)

/*
 * What the feed holds of one transaction, so that a transaction of millions
 * of rows takes bounded memory:
 *   - past max_rows row changes (0: CONFLICT_FEED_MAX_ROWS), it gathers no
 *     more: the transaction goes to the engine as a stub (conflict_trx's
 *     dropped_rows), followed by its appearances only, its writes not
 *     compared (stats big, big_rows; the engine's dropped_writes);
 *   - past max_image_bytes of row images (0: a quarter of an engine
 *     ring's size, so that one transaction does not push every other's
 *     images out of it), it keeps none: fed with no_images, its writes
 *     are compared, their images reported evicted (stats no_images).
 * Another stream's appearance of a transaction the engine follows as a stub
 * is not gathered at all (stats stub_copies); one of a transaction whose
 * origin's images the engine has is gathered for its keys and before images
 * only (conflict_engine_known(), stats light).
 */
void conflict_feed_set_bounds(conflict_feed *f, size_t max_rows, size_t max_image_bytes);

/*
 * The feed's schema history (schema_history.h): the shapes of the master's
 * tables as of the feed's position.  The feed applies every DDL statement
 * of its stream to it, in order, and checks each rows event's table map
 * against it: a row is keyed only by a shape that fits (or by the table
 * map's own FULL metadata).  Rows of a table whose shape is not known are
 * not compared; the hooks hear of them.  The db is the feed's own.
 */
schema_db *conflict_feed_schema(conflict_feed *f);

/*
 * Replace the history by db (taken) as of stream position pos: DDL
 * statements at or before pos are taken as in db already (a stream read
 * again after a reconnect or a restart) and not applied twice.
 */
void conflict_feed_schema_replace(conflict_feed *f, schema_db *db, uint64_t pos);

/*
 * The shapes' tag: it changes whenever the history does (a DDL applied, a
 * table marked unknown, a replacement, a change through
 * conflict_feed_schema()) and never comes back.  A batch made against a
 * copy of the history taken under a tag is taken only while the tag is the
 * same (row_batch.h).
 */
uint64_t conflict_feed_shape_tag(conflict_feed *f);

/* The position of the last DDL applied (or of the history's replacement). */
uint64_t conflict_feed_schema_pos(const conflict_feed *f);

/* Where the feed is: the end of the last event read (conflict_feed_position). */
uint64_t conflict_feed_pos(const conflict_feed *f);

typedef struct conflict_schema_hooks {
	/*
	 * table's entry changed at stream position pos: by a DDL statement
	 * (ddl 1), or it became unknown because a table map did not fit (0)
	 */
	void (*touched)(void *arg, const char *schema, const char *table, uint64_t pos, int ddl);
	/* rows row changes of a table whose shape is not known (why) were not compared */
	void (*unknown)(void *arg, const char *schema, const char *table, const char *why,
			uint64_t rows);
	/*
	 * a DDL statement (enum ddl_kind; DDL_UNPARSED included) was applied at
	 * pos; trx is its transaction's identity across binlogs (the GTID, or
	 * origin server_id, time and a hash of the statement without one)
	 */
	void (*ddl)(void *arg, uint64_t pos, int kind, const char *sql, size_t len,
		    const char *error, const char *trx);
	/*
	 * rows row changes of schema.table were keyed, in a transaction of
	 * master origin (-1: none of the ring's); full: the table map carries
	 * FULL metadata (names and primary key), checked against the shape
	 */
	void (*written)(void *arg, int origin, const char *schema, const char *table, uint64_t rows,
			int full);
	void *arg;
	/*
	 * a DDL statement (parsed, not DDL_UNPARSED) about to be applied: shape
	 * holds the tables as they were before it, db is its default database;
	 * trx as for ddl, which follows once it is applied
	 */
	void (*before_ddl)(void *arg, const ddl_stmt *s, const char *db, const schema_db *shape,
			   const char *trx);
} conflict_schema_hooks;

/* Hooks for the schema history's events (any may be NULL); h is copied. */
void conflict_feed_set_schema_hooks(conflict_feed *f, const conflict_schema_hooks *h);

/*
 * Every row change of a rows event, as it is read (before its transaction
 * ends, a transaction cut short included), for the verifier's ring of
 * recent changes (verify_touch.h): the feed's master, the transaction (a
 * hash of its GTID, 0 without one) and where it starts in the stream
 * (conflict_feed_position), and key, the change's canonical key
 * (row_change.h); with table_only, key is "schema NUL table NUL" for rows
 * of that table the feed could not key; key NULL for an event it could not
 * tie to a table.  Sequences' rows are not passed.  fn NULL: none.
 */
typedef void (*conflict_feed_row_fn)(void *arg, unsigned master, uint64_t trx, uint64_t pos,
				     const uint8_t *key, size_t len, int table_only);
void conflict_feed_set_row_hook(conflict_feed *f, conflict_feed_row_fn fn, void *arg);

/*
 * Whether the feed, as it stands, would key the rows of ev: 0 for a rows
 * event of a table whose shape is not known or does not fit its table map
 * (and that carries no FULL metadata), else 1.  Nothing changes: a caller
 * may first read the table's shape again and then feed ev.
 */
int conflict_feed_keyable(const conflict_feed *f, const binlog_event *ev);

/* How the feed reads its stream's DDL (the server's flavour and version, from its FDE). */
const ddl_options *conflict_feed_ddl_options(const conflict_feed *f);

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

/*
 * The same, with the batch of len bytes made of ev ahead of the feed
 * (row_batch_make(); NULL: none).  The feed takes its row changes from it
 * when it was made of these bytes under the feed's present shape tag, else
 * it reads ev itself: the outcome is the same either way.
 */
RW_MUST_CHECK int conflict_feed_event_batch(conflict_feed *f, const binlog_event *ev,
					    const void *batch, size_t len, int64_t now,
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

/*
 * The stream had a gap: the binlogs it would have read next were purged, and
 * the next connection starts at the oldest file the master still has.  The
 * next GTID_LIST (MariaDB) or PREVIOUS_GTIDS (MySQL, untagged) event, at that
 * file's start, says which transactions the purged binlogs held; the feed
 * gives that to the engine (conflict_engine_gap()) at the event's position.
 * A transaction before such an event (a server without GTIDs) ends the wait:
 * nothing is known then.
 */
void conflict_feed_gap(conflict_feed *f);

/* The connection dropped: forget the transaction being gathered. */
void conflict_feed_reset(conflict_feed *f);

void conflict_feed_stats_get(const conflict_feed *f, conflict_feed_stats *out);

/*
 * A position that grows across binlog files: the file's sequence number
 * (the digits after its last '.') in the top 24 bits, the offset below.
 */
uint64_t conflict_feed_position(const char *file, uint64_t offset);

#endif
