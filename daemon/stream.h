/*
 * stream.h - one master's binlog, followed for as long as the daemon runs.
 *
 * A stream owns the connection lifecycle of one [master.NAME]: it starts a
 * replica thread (replica.h) from the right position, decodes what arrives
 * with the library's binlog reader, tracks where the last complete
 * transaction ended (the checkpoint, saved at most once a second and at a
 * clean stop), and on any failure reconnects with exponential backoff and
 * jitter.  Every state change is logged once, with the master's name.
 * Everything here runs on the event loop thread.
 */
#ifndef RINGWATCHD_STREAM_H
#define RINGWATCHD_STREAM_H

#include "ringwatch/binlog_event.h"
#include "ringwatch/binlog_trx.h"
#include "ringwatch/gtid_pos.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct config_master;
struct state;
struct stream;

enum stream_state {
	STREAM_STOPPED,
	STREAM_CONNECTING,
	STREAM_STREAMING,
	STREAM_BACKOFF,
};

/* What a stream hands to whoever consumes its events (the conflict engine). */
struct stream_sink {
	/*
	 * Each decoded event, with the stream's master index and the row batch
	 * the replica thread made of it (row_batch.h; NULL and 0: none); ev and
	 * batch are only valid during the call.
	 */
	void (*event)(void *ctx, size_t master, const binlog_event *ev, const void *batch,
		      size_t batch_len);
	/*
	 * The shapes the replica thread is to make row batches with (NULL: no
	 * such sink): a copy (the caller's to free) and its tag in *tag when
	 * the tag is not *tag any more, else NULL.
	 */
	struct schema_db *(*shapes)(void *ctx, size_t master, uint64_t *tag);
	/*
	 * Whether events may be processed yet (NULL: always).  Until it says
	 * so, a stream holds what it receives (bounded): the daemon waits until
	 * every master's server_id is known, so that the origin of every
	 * transaction can be told.
	 */
	bool (*ready)(void *ctx);
	/*
	 * Whether ev may be taken now (NULL: always).  false: the stream keeps
	 * ev and everything after it, in order, until stream_resume() (the
	 * sink reads a table's shape first); meanwhile held() hears of every
	 * event the stream receives, read without its rows, and a true from it
	 * resumes the stream.  Past a bound of bytes held the stream calls
	 * give_up() and goes on.  Events inside a TRANSACTION_PAYLOAD are never
	 * asked about.
	 */
	bool (*admit)(void *ctx, size_t master, const binlog_event *ev);
	bool (*held)(void *ctx, size_t master, const binlog_event *ev);
	void (*give_up)(void *ctx, size_t master);
	/* A new connection: what a previous one left half-read is gone (a hold too). */
	void (*reset)(void *ctx, size_t master);
	/* A gap (NULL: not told): the next connection reads from the oldest binlog. */
	void (*gap)(void *ctx, size_t master);
	/* Each transaction as it completes in the stream. */
	void (*trx_end)(void *ctx, size_t master, const binlog_trx *t);
	void *ctx;
};

/* A read-only view of a stream, for /v1/status and /metrics. */
struct stream_view {
	const char *name;
	const char *host;   /* NULL with a socket */
	const char *socket; /* NULL with a host */
	unsigned port;
	enum stream_state state;
	bool connected;
	uint32_t server_id; /* 0 until first connected */
	const char *version;
	const char *tls_cipher;      /* "" without TLS */
	const char *file;            /* binlog file being read */
	uint64_t offset;             /* offset after the last event read */
	const char *gtid;            /* GTID position after the last complete transaction */
	double last_event_age;       /* seconds since the last event (heartbeats count); -1 never */
	double last_event_received;  /* unix time it arrived, 0 never */
	double last_event_timestamp; /* the master's own timestamp of the last event that
				      * had one (heartbeats have none), 0 never */
	uint64_t events_total;
	uint64_t bytes_total;
	uint64_t transactions_total;
	uint64_t reconnects_total;
	const char *last_error; /* "" when none */
	unsigned last_errno;
	bool gap; /* an unacknowledged gap (binlogs purged past the checkpoint) */
	int64_t gap_id;
	const char *gap_detail;
};

/*
 * A stream for master number index (its config must outlive the stream or be
 * replaced with stream_reconfigure()).  st may be NULL (no durable state).
 */
struct stream *stream_new(struct event_base *base, size_t index, const struct config_master *m,
			  uint32_t replica_server_id, struct state *st, struct stream_sink sink);

/* Start reading: from the saved checkpoint, or from the oldest binlog. */
void stream_start(struct stream *s);

/* Start reading at file and offset (the conflict engine's low-water mark);
 * the stream's own checkpoint is loaded for everything else. */
void stream_start_from(struct stream *s, const char *file, uint64_t offset);

/* Take the events held since the sink refused one (stream_sink.admit), in order. */
void stream_resume(struct stream *s);

/* Stop the replica thread, save the checkpoint, free everything. */
void stream_free(struct stream *s);

/*
 * Point the stream at a reloaded configuration of the same master (and
 * ringwatchd's server_id); a changed address or credential takes effect at
 * the next connection.  A stream stopped because its server_id was taken
 * (replica.h's clash) connects again at once.
 */
void stream_reconfigure(struct stream *s, const struct config_master *m,
			uint32_t replica_server_id);

/* Fill v (pointers valid until the next loop iteration). */
void stream_view(struct stream *s, struct stream_view *v);

/* The master's server_id, 0 until it was first connected. */
uint32_t stream_server_id(const struct stream *s);

/* Acknowledge the open gap with this id; 0 done, 1 no such gap. */
int stream_ack_gap(struct stream *s, int64_t id);

static inline const char *stream_state_name(enum stream_state st)
{
	static const char *const names[] = {
		[STREAM_STOPPED] = "stopped",
		[STREAM_CONNECTING] = "connecting",
		[STREAM_STREAMING] = "streaming",
		[STREAM_BACKOFF] = "backoff",
	};

	return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "?";
}

#endif
