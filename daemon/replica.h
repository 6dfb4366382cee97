/*
 * replica.h - one replication connection to one master, on its own thread.
 *
 * A replica thread lives for exactly one connection: it connects, sets the
 * session variables a replica needs, registers with the master, starts the
 * binlog dump from the position it was given, and posts every raw event to
 * its mailbox until the connection ends; then it posts a last letter saying
 * why, and exits.  Reconnecting, backoff and positions belong to the event
 * loop (stream.c), which starts a new replica thread each time.
 *
 * The thread also reads the events itself and decodes each rows event's row
 * changes into a batch (row_batch.h) against the latest copy of the feed's
 * shapes the loop handed it (replica_set_shapes()): the batch goes with the
 * event, and the loop's feed takes it instead of decoding the rows again
 * when its shapes are still those (doc/data-flow.md).  The thread shares
 * nothing with the loop but the mailbox, the shapes' hand-over and an atomic
 * stop flag.
 */
#ifndef RINGWATCHD_REPLICA_H
#define RINGWATCHD_REPLICA_H

#include "mailbox.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct config_master;

enum replica_letter_kind {
	REPLICA_CONNECTED, /* body: struct replica_hello */
	REPLICA_EVENT,     /* body: the event bytes (header to checksum) */
	/*
	 * body: events that arrived together, each a u32 length (native order)
	 * and its bytes, then a u32 length and the bytes of its batch
	 * (row_batch.h; 0: none) (replica_events_next() walks them)
	 */
	REPLICA_EVENTS,
	REPLICA_ENDED, /* body: struct replica_end; the thread's last letter */
};

struct replica_hello {
	uint32_t server_id;
	char version[64];
	char binlog_checksum[16]; /* "CRC32" or "NONE" */
	bool is_mariadb;
	char oldest_binlog[256]; /* first row of SHOW BINARY LOGS */
	char tls_cipher[64];     /* "" without TLS */
};

struct replica_end {
	unsigned err_code; /* server error code (e.g. 1236), or a client CR_ code */
	bool connected;    /* whether the connection was ever up */
	bool stopped;      /* ended because it was asked to */
	bool clash; /* the configuration is wrong (a server_id taken): retrying cannot help */
	char message[512]; /* never holds a secret */
};

/* Every letter the thread posts. */
struct replica_letter {
	struct mail hdr;
	uint32_t generation; /* the connection it came from */
	size_t len;
	uint8_t body[]; /* len bytes */
};

/* The next n bytes of a letter's body at *at, after their u32 length; false past its end. */
static inline bool replica_letter_part(const struct replica_letter *l, size_t *at,
				       const uint8_t **p, size_t *len)
{
	uint32_t n;

	if (*at + sizeof(n) > l->len)
		return false;
	__builtin_memcpy(&n, l->body + *at, sizeof(n));
	if (n > l->len - *at - sizeof(n))
		return false;
	*p = l->body + *at + sizeof(n);
	*len = n;
	*at += sizeof(n) + n;
	return true;
}

/*
 * The next event of a REPLICA_EVENTS letter and its batch (NULL and 0:
 * none): at is where to read (0 for the first); true with them set and at
 * moved past them, false at the end.
 */
static inline bool replica_events_next(const struct replica_letter *l, size_t *at,
				       const uint8_t **event, size_t *len, const uint8_t **batch,
				       size_t *batch_len)
{
	if (!replica_letter_part(l, at, event, len) ||
	    !replica_letter_part(l, at, batch, batch_len))
		return false;
	if (*batch_len == 0)
		*batch = NULL;
	return true;
}

/* Where to start, and how to connect; copied, so the caller may free its own. */
struct replica_args {
	uint32_t generation;
	uint32_t replica_server_id;
	double heartbeat_period; /* seconds */
	char *gtid_state;        /* MariaDB "d-s-n,..." or NULL to start by file */
	char *file;              /* binlog file, "" for the oldest */
	uint64_t offset;         /* in file, >= 4 */
	/* a transaction's row changes past which its rows are only counted (the feed's bound) */
	size_t max_rows;
};

struct replica;

/*
 * Start a replica thread for master m, posting to mb.  The master's settings
 * and args are copied.  NULL (with a reason in err) if the thread could not
 * be started; connection failures are reported as a REPLICA_ENDED letter.
 */
struct replica *replica_start(const struct config_master *m, const struct replica_args *args,
			      struct mailbox *mb, char *err, size_t errlen);

/*
 * The shapes to decode rows events with from now on: db (taken; a copy
 * the loop no longer touches), the feed's tag of them (conflict_feed.h).
 * Loop thread.
 */
struct schema_db;
void replica_set_shapes(struct replica *r, struct schema_db *db, uint64_t tag);

/* Ask the thread to end (it posts REPLICA_ENDED with stopped set).  Loop thread. */
void replica_stop(struct replica *r);

/* Wait for the thread to end and free it.  Call after REPLICA_ENDED arrived,
 * or after replica_stop() and mailbox_close(). */
void replica_join(struct replica *r);

#endif
