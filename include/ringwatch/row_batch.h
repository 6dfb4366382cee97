/*
 * row_batch.h - the row changes of one rows event, decoded ahead of the
 * feed (doc/data-flow.md): a replica thread decodes and keys its master's
 * rows while the event loop is busy with earlier events, and the feed takes
 * them from the batch instead of decoding them again.
 *
 * A batch is made against a copy of the feed's shapes, tagged with the tag
 * the feed had when the copy was taken (conflict_feed_shape_tag()).  The
 * feed takes a batch only when its own tag is still that one when it reaches
 * the event (no DDL, snapshot or unknown table changed its shapes since)
 * and the batch was made from the same event bytes and table map; anything
 * else, it decodes the event itself.  So a batch changes nothing the feed
 * decides: it moves the work, not the answer.
 *
 * A batch holds every row change whole (key, JSON key, both images, UNIQUE
 * keys), or only the count of rows (row_batch_make()'s counts_only): what
 * the feed needs of a transaction too big to gather.
 */
#ifndef RINGWATCH_ROW_BATCH_H
#define RINGWATCH_ROW_BATCH_H

#include "ringwatch/binlog_event.h"
#include "ringwatch/row_change.h"
#include "ringwatch/rw_buf.h"
#include "ringwatch/schema.h"

#include <stddef.h>
#include <stdint.h>

/*
 * The batch of rows event ev (not in a TRANSACTION_PAYLOAD), appended to
 * out, keyed by the shapes in db as the feed would key them (a known shape
 * that fits the table map, or the map's own FULL metadata for a table the
 * db says is unknown); tag is db's (conflict_feed_shape_tag()).  With
 * counts_only, the rows are counted, not keyed.  1 when a batch was
 * appended; 0 when the feed must read ev itself (no table map, a table it
 * would not key or would first mark unknown, a sequence, a partial update,
 * a row that cannot be decoded: out is then as it was).  RW_E_NOMEM.
 */
int row_batch_make(rw_buf *out, const binlog_event *ev, const schema_db *db, uint64_t tag,
		   int counts_only);

/* A batch, read: where it came from and what it holds. */
typedef struct row_batch {
	uint64_t tag;     /* the shapes' tag it was made with */
	uint64_t check;   /* of the event (row_batch_check()) */
	uint64_t rows;    /* rows of the event (an update that moves a key: one) */
	uint64_t changes; /* row changes (an update that moves a key: two) */
	int counts_only;  /* no changes held */
	const uint8_t *p; /* the changes */
	size_t len;
} row_batch;

/* Read a batch from len bytes at p: 0, or -1 when they are not one whole. */
int row_batch_open(row_batch *b, const void *p, size_t len);

/*
 * The check of ev as row_batch_make() computes it (ev must be a rows event
 * with a table): a hash of its type, stream position, length of row data,
 * table id and table map.  A batch travels with its event's bytes (the
 * replica thread's letter): this tells a batch of another event or of
 * another reading of the stream, not damaged bytes (the reader's checksums
 * do that).
 */
uint64_t row_batch_check(const binlog_event *ev);

/*
 * Walks a batch's changes: row_batch_next() fills *c with views into the
 * batch (never row_change_free() it: it owns nothing; its schema and table
 * are ev's table's), and *second with 1 for the insert half of an update
 * that moved a key (row_change_next()'s order).  1, or 0 at the end.
 */
typedef struct row_batch_iter {
	const uint8_t *p, *end;
} row_batch_iter;

void row_batch_iter_init(row_batch_iter *it, const row_batch *b);
int row_batch_next(row_batch_iter *it, const binlog_event *ev, row_change *c, int *second);

#endif
