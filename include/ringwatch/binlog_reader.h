/*
 * binlog_reader.h - framing a binlog into events.
 *
 * The reader is fed bytes and hands back decoded events.  In FILE mode the
 * input is a binlog file from its first byte (the fe 62 69 6e magic) in
 * chunks of any size; in STREAM mode each feed is events as a replica
 * receives them from COM_BINLOG_DUMP (no magic; usually one whole event per
 * feed, the 0x00 OK byte already stripped).
 *
 * The reader keeps the state a binlog needs: the FORMAT_DESCRIPTION
 * (checksum algorithm, post-header lengths), the TABLE_MAPs by table id
 * (forgotten at a real ROTATE), and the events inside a TRANSACTION_PAYLOAD,
 * which it inflates and hands back one by one as events of their own
 * (in_payload set).  It verifies CRC32 checksums and inflates MariaDB's
 * compressed query and rows events, so callers only ever see plain events.
 *
 * Positions are the stream's own byte offsets: the offset in the file (FILE
 * mode) or, in STREAM mode, the master's log position, counted from the
 * ROTATE that starts the dump (log_pos is used when the server sets it).
 *
 * After an error the reader stays failed: every later call returns the same
 * error.  Everything handed back before it is good.
 */
#ifndef RINGWATCH_BINLOG_READER_H
#define RINGWATCH_BINLOG_READER_H

#include "ringwatch/binlog_event.h"
#include "ringwatch/rw_error.h"

#include <stddef.h>
#include <stdint.h>

typedef struct binlog_reader binlog_reader;

enum binlog_reader_mode {
	BINLOG_READER_FILE = 0,
	BINLOG_READER_STREAM = 1,
};

/* Default bound on one event and on any inflated payload (bytes). */
#define BINLOG_READER_DEFAULT_LIMIT ((size_t)1 << 30)

/* A new reader in mode (enum binlog_reader_mode); NULL when out of memory. */
binlog_reader *binlog_reader_new(int mode);

void binlog_reader_free(binlog_reader *r);

/* Refuse events and inflated payloads larger than limit bytes (RW_E_LIMIT). */
void binlog_reader_set_limit(binlog_reader *r, size_t limit);

/*
 * STREAM mode: the log position of the next byte fed (COM_BINLOG_DUMP's
 * start position).  The dump's first, artificial ROTATE also sets it.
 */
void binlog_reader_set_position(binlog_reader *r, int64_t pos);

/* Append len bytes of input (copied). */
RW_MUST_CHECK int binlog_reader_feed(binlog_reader *r, const uint8_t *buf, size_t len,
				     rw_error *err);

/*
 * Read buf[0, len) in place, without copying it.  The caller keeps buf as it
 * is until the next binlog_reader_feed(), binlog_reader_feed_ref() or
 * binlog_reader_free() (a feed copies what is left of it: an event cut short
 * at its end), and while it uses the last event handed back.  With input
 * still pending it copies, like binlog_reader_feed().
 */
RW_MUST_CHECK int binlog_reader_feed_ref(binlog_reader *r, const uint8_t *buf, size_t len,
					 rw_error *err);

/*
 * Skimming: no CRC32 checks and MariaDB's compressed rows events are not
 * inflated (their data stays compressed).  For a first pass that only needs
 * the reader's state at event boundaries (binlog_reader_fork); the pass that
 * decodes the rows checks everything.
 */
void binlog_reader_set_skim(binlog_reader *r, int skim);

/*
 * The type code of the next event when its header is buffered (outside a
 * TRANSACTION_PAYLOAD), else -1.  Nothing is consumed.
 */
int binlog_reader_peek_type(const binlog_reader *r);

/*
 * A new reader in r's state at its position: its FORMAT_DESCRIPTION, copies
 * of its table maps, its position, no input.  Fed the bytes from that
 * position on, it hands back what r would.  NULL (err set) when r failed, is
 * inside a TRANSACTION_PAYLOAD, or memory ran out.  Not skimming.
 */
binlog_reader *binlog_reader_fork(const binlog_reader *r, rw_error *err);

/*
 * The next event: 1 with *ev filled, 0 when more input is needed, or a
 * negative RW_E_* (err names the offset).  ev and everything it points to
 * (raw bytes, the table map of a TABLE_MAP or rows event) stay valid until
 * the next call of binlog_reader_next(), binlog_reader_feed(),
 * binlog_reader_feed_ref() or binlog_reader_free(); the caller must not free
 * or clean ev up.
 */
RW_MUST_CHECK int binlog_reader_next(binlog_reader *r, binlog_event *ev, rw_error *err);

/*
 * End of input: 0 when it ended on an event boundary, RW_E_TRUNCATED (with
 * the offset of the incomplete event) otherwise.
 */
RW_MUST_CHECK int binlog_reader_finish(binlog_reader *r, rw_error *err);

/* The binlog's FORMAT_DESCRIPTION so far (a default v4 one before any). */
const binlog_fde *binlog_reader_fde(const binlog_reader *r);

/* The table map last seen for table_id, or NULL. */
const binlog_table_map *binlog_reader_table(const binlog_reader *r, uint64_t table_id);

/* Stream offset of the next byte the reader will decode. */
int64_t binlog_reader_position(const binlog_reader *r);

#endif
