/*
 * conflict.h - the conflict engine: every pair of concurrent writes to one
 * row on two masters of a ring, found from the masters' binlogs alone.
 *
 * The caller feeds, for each master M and in M's binlog order, every
 * transaction M's binlog holds (M's own and the copies it applied), with M's
 * position of it and its row changes.  Streams may be fed interleaved in any
 * order and at any speed.  The engine reports (doc/conflict-rule.md):
 *
 *   a conflict: writes w (origin A) and v (origin B != A) to one key with
 *   posA(w) < posA(v) and posB(v) < posB(w), a write not yet seen in a stream
 *   counting as later than everything seen there.  Each pair once, at the
 *   feed that makes it certain: the later of "w in A's stream" and "v in B's
 *   stream" (the other masters' streams are never waited for).
 *
 *   a before-image divergence: master M's copy of a write logged a before
 *   image that differs from the one its origin logged.
 *
 *   updates of a conflict's final rows, and its resolution: a later write on
 *   the key, seen after both of its writes in every stream, that leaves every
 *   master with the same row.
 *
 * Everything is in memory and pure: no I/O, no threads, no clock (the caller
 * passes "now" with each feed, in any unit it likes; the engine only copies it).
 *
 * Terms.  A write is one transaction's change of one key: several changes
 * of a row in one transaction are one write (first before image, last after
 * image; insert..delete counts as a delete, delete..insert as an update).
 * Transactions and keys are matched by 64-bit xxHash of the identity and of
 * schema, table and key (key bytes are compared again before a report).
 * UNIQUE keys are registered by inserts only.  Two writes of one origin are
 * never a conflict: every master applies one origin's transactions in order.
 *
 * Memory: only unsettled transactions (not yet seen in every stream) are
 * tracked: 24 + 8 x masters bytes per transaction, 24 per row it writes,
 * and two hash table slots of 8 bytes (load 1/2 to 3/4): about 90 bytes per
 * unsettled one-row transaction with two masters, 98 with three (measured
 * by the unit test through conflict_engine_stats()).  Their identities, keys
 * and row images live in a byte ring per origin master with a fixed size;
 * an image the ring has overwritten is reported as CONFLICT_IMAGE_EVICTED,
 * never read.  Past max_writes the engine is blind: new transactions are
 * only counted as they appear (dropped_writes), so their copies still
 * settle, until the tracked writes fall under 3/4 of the bound.
 */
#ifndef RINGWATCH_CONFLICT_H
#define RINGWATCH_CONFLICT_H

#include "ringwatch/rw_error.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFLICT_MAX_MASTERS 16

/* Length of conflict_id_format()'s text with its NUL. */
#define CONFLICT_ID_TEXT 33

typedef struct conflict_engine conflict_engine;

enum conflict_op {
	CONFLICT_OP_INSERT = 1,
	CONFLICT_OP_UPDATE = 2,
	CONFLICT_OP_DELETE = 3,
};

/* The two operations of a pair in alphabetical order, as a CONFLICT's "kind" names them. */
enum conflict_kind {
	CONFLICT_DELETE_DELETE,
	CONFLICT_DELETE_INSERT,
	CONFLICT_DELETE_UPDATE,
	CONFLICT_INSERT_INSERT,
	CONFLICT_INSERT_UPDATE,
	CONFLICT_UPDATE_UPDATE,
	/*
	 * "before-image": one write, logged by its copy on writes[1].master with
	 * a before image other than its origin's (writes[0]).  That master's row
	 * had already diverged: an earlier conflict, a write made with
	 * sql_log_bin=0, a manual fix, or anything from before ringwatch watched.
	 * writes[1] repeats writes[0] but for master and before (EVICTED when
	 * that copy came before its origin and only its hash was kept).  Not
	 * reported when a conflict of the write with the copier's previous write
	 * on the row (decided or still possible) explains the difference, nor on
	 * a key with an open diverged record.  Only rows with both images.
	 */
	CONFLICT_BEFORE_IMAGE,
};

/* Opaque bytes; p may be NULL only when len is 0. */
typedef struct conflict_bytes {
	const uint8_t *p;
	size_t len;
} conflict_bytes;

/* One row change of a fed transaction. */
typedef struct conflict_row {
	conflict_bytes schema;
	conflict_bytes table;
	conflict_bytes key; /* canonical primary key (or row hash): equal bytes, same row */
	enum conflict_op op;
	/* canonical JSON of the full row; NULL p: not logged (insert/delete, MINIMAL) */
	conflict_bytes before;
	conflict_bytes after;
	/* inserts only: canonical values of the row's UNIQUE keys (insert-insert) */
	const conflict_bytes *unique_keys;
	size_t n_unique_keys;
} conflict_row;

/* One transaction as one master's binlog holds it. */
typedef struct conflict_trx {
	conflict_bytes identity; /* GTID text or the caller's fallback identity */
	unsigned origin;         /* master index of the server that wrote it */
	int64_t commit_time;     /* the origin's commit timestamp, copied to reports */
	uint64_t pos;            /* position in the fed master's stream, strictly increasing */
	const conflict_row *rows;
	size_t n_rows;
	/*
	 * Row changes the caller left out, over a bound of its own (a
	 * transaction too big to gather): not 0, the transaction is followed
	 * by its appearances only, as a stub (rows, if any, are not read), and
	 * n_rows + dropped_rows are counted in dropped_writes; while such a
	 * transaction is unsettled, conflict_stats.big_unsettled says so.
	 */
	size_t dropped_rows;
	/*
	 * The caller kept no row images (over a bound of its own): the rows'
	 * before and after are absent.  The engine records the writes without
	 * them (a report shows them as evicted), checks no appearance's before
	 * images against the transaction's, and cannot tell from its after
	 * images whether it explains another copy's before image.
	 */
	bool no_images;
} conflict_trx;

/*
 * Stable identity of a record: a hash of the two transaction identities
 * (in sorted order) and the key, or for CONFLICT_BEFORE_IMAGE of the
 * identity, the copying master and the key.  Re-reading the binlogs after a
 * restart finds the same ids.
 */
typedef struct conflict_id {
	uint64_t hi;
	uint64_t lo;
} conflict_id;

enum conflict_image_state {
	CONFLICT_IMAGE_ROW,     /* p/len hold the row */
	CONFLICT_IMAGE_NONE,    /* no row: before an insert, after a delete, or not logged */
	CONFLICT_IMAGE_PENDING, /* final only: this master has applied neither write yet */
	CONFLICT_IMAGE_EVICTED, /* the image ring no longer holds it */
};

typedef struct conflict_image {
	enum conflict_image_state state;
	conflict_bytes row;
} conflict_image;

typedef struct conflict_write {
	unsigned master;         /* origin (for writes[1] of a before-image record: the copier) */
	conflict_bytes identity; /* empty when evicted */
	enum conflict_op op;
	int64_t commit_time;
	conflict_image before;
	conflict_image after;
} conflict_write;

/* Valid only during the callback; copy what must be kept. */
typedef struct conflict_record {
	conflict_id id;
	enum conflict_kind kind;
	bool unique_key;  /* the key is a UNIQUE key of both inserts, not the primary key */
	bool key_evicted; /* schema/table/key are no longer in the ring (empty) */
	conflict_bytes schema;
	conflict_bytes table;
	conflict_bytes key;
	conflict_write writes[2]; /* ordered by op name, then master */
	unsigned n_masters;
	/* the after image of the last write to the key in each master's stream so far */
	conflict_image final[CONFLICT_MAX_MASTERS];
	bool diverged;       /* two masters' known finals differ */
	bool complete;       /* every final is known (no PENDING, no EVICTED) */
	int64_t appeared_at; /* "now" when the later of the two writes was first fed */
	int64_t decided_at;  /* "now" of the feed that decided it */
} conflict_record;

/*
 * New finals of a reported record (same id); valid only during the callback.
 * Only the masters in changed carry a final; the others' are as before.
 */
typedef struct conflict_update {
	conflict_id id;
	unsigned n_masters;
	uint32_t changed; /* bit m: final[m] is master m's new final */
	conflict_image final[CONFLICT_MAX_MASTERS];
	bool diverged;
	bool complete;
	int64_t now;
} conflict_update;

typedef struct conflict_callbacks {
	/* a new conflict or before-image divergence */
	void (*conflict)(const conflict_record *rec, void *arg);
	/* the finals of an open record changed (they are computed when a write on its key settles) */
	void (*updated)(const conflict_update *upd, void *arg);
	/* a later write, after both of its writes in every stream, left every master the same row */
	void (*resolved)(const conflict_id *id, int64_t now, void *arg);
	/* optional: nonzero when id was reported before (a restart re-reading); then not reported */
	int (*known)(const conflict_id *id, void *arg);
	/*
	 * optional: the engine no longer follows open record id, the oldest of more than 256
	 * open on its key, to follow newer, a newer one on the same key: newer's finals say
	 * what the row is now, and no later write will resolve id; now as fed (0 while restoring)
	 */
	void (*released)(const conflict_id *id, const conflict_id *newer, int64_t now, void *arg);
	void *arg;
} conflict_callbacks;

typedef struct conflict_config {
	unsigned n_masters; /* 2 .. CONFLICT_MAX_MASTERS */
	size_t max_writes;  /* bound on tracked writes; 0: 1,000,000 */
	size_t ring_bytes;  /* image ring per master; 0: 16 MiB */
	conflict_callbacks cb;
} conflict_config;

typedef struct conflict_stats {
	size_t tracked_trx;    /* unsettled transactions (stubs included) */
	size_t tracked_writes; /* writes of unsettled transactions */
	size_t kept_writes;    /* settled writes kept as some stream's last write on their key */
	size_t tracked_keys;   /* keys with a tracked or kept write */
	size_t open;           /* open records (conflicts and before-image) */
	size_t bytes_used; /* tracking structures (not the rings), allocator overhead excluded */
	size_t ring_bytes; /* the image rings' capacity */
	size_t ring_used;  /* of it, bytes written at least once (memory touched: RSS) */
	bool blind;        /* writes are being dropped: over max_writes */
	uint64_t dropped_writes;  /* writes never examined because of the bound (cumulative) */
	uint64_t conflicts;       /* conflicts reported */
	uint64_t before_images;   /* before-image records reported */
	uint64_t suppressed;      /* records found but already known (callback "known") */
	uint64_t resolved;        /* records resolved by a later write */
	uint64_t skipped_replays; /* replayed transactions that had settled before the checkpoint */
	uint64_t duplicates;      /* transactions fed twice to one stream (ignored) */
	uint64_t evicted;         /* images or keys asked for after the ring overwrote them */
	uint64_t released;        /* open records no longer followed: over 256 on one key */
	uint64_t gap_shown;       /* transactions a gap's purged binlogs held: shown there */
	uint64_t gap_unknown;     /* tracked ones a gap hid whose identity was not known any more */
	uint64_t gap_undecided;   /* pairs a gap hid the order of in a stream: not decided */
	uint64_t big;             /* transactions fed with dropped_rows (cumulative) */
	size_t big_unsettled;     /* of them, those not yet settled (their writes not compared) */
	uint64_t no_images;       /* transactions fed with no_images (cumulative) */
} conflict_stats;

/* Where a master's stream may be resumed after a restart. */
typedef struct conflict_mark {
	bool fed;           /* the stream has a position: fed, or restored from a checkpoint */
	uint64_t last;      /* the position of the last one fed */
	bool unsettled;     /* some transaction of this stream is not yet settled */
	uint64_t low_water; /* if so: the position of the oldest one (resume there, inclusive) */
} conflict_mark;

RW_MUST_CHECK int conflict_engine_new(const conflict_config *cfg, conflict_engine **out,
				      rw_error *err);
void conflict_engine_free(conflict_engine *e);

/*
 * Feed one transaction of master's binlog; callbacks run from inside (they
 * must not call the engine).
 * RW_E_INVALID: bad master/origin/op, or pos not above the stream's last one.
 * A transaction without rows only advances the stream.  Feeding a
 * transaction twice to one stream is ignored (counted in duplicates).
 */
RW_MUST_CHECK int conflict_engine_feed(conflict_engine *e, unsigned master, const conflict_trx *trx,
				       int64_t now, rw_error *err);

void conflict_engine_stats(const conflict_engine *e, conflict_stats *out);
bool conflict_engine_blind(const conflict_engine *e);

/* What the engine has of a transaction already (conflict_engine_known()). */
enum conflict_known {
	CONFLICT_KNOWN_NONE, /* nothing that spares reading master's appearance whole */
	/*
	 * followed as a stub (by its appearances only: too big, or fed while
	 * blind): none of master's rows are read
	 */
	CONFLICT_KNOWN_STUB,
	/*
	 * master's appearance is only a copy checked against the origin's
	 * images: tracked, its origin's images recorded, master not its origin
	 * and not shown by it yet, and pos (where it starts in master's stream)
	 * not in a replay after a restart.  The engine reads of master's rows
	 * only their keys (unique keys included) and before images.
	 */
	CONFLICT_KNOWN_COPY,
};

/* What the engine has of the transaction with this identity, for master's appearance at pos. */
enum conflict_known conflict_engine_known(const conflict_engine *e, unsigned master, uint64_t pos,
					  const uint8_t *identity, size_t len);

/* The number of masters the engine was made for. */
unsigned conflict_engine_masters(const conflict_engine *e);

/*
 * Whether a master's binlog held the transaction of this identity before the
 * file its stream resumed in after a gap (conflict_engine_gap()).
 */
typedef bool (*conflict_covered_fn)(const conflict_bytes *identity, void *arg);

/*
 * A gap in master's stream: the binlogs before position pos were purged
 * unread, and the stream goes on at pos.  covered (kept, with arg, as long as
 * the engine lives or until the next gap of this stream) says which
 * transactions they held: each tracked transaction it covers, and each one
 * tracked later, is taken as shown in master's stream at pos, before
 * everything the stream shows after it, so that it settles and a later write
 * of master is not taken for crossing it.  Two such transactions' order in
 * master's stream is not known: a pair that depends on it is not decided
 * (gap_undecided).  RW_E_INVALID: bad master, or pos not after the stream's
 * last position.
 */
RW_MUST_CHECK int conflict_engine_gap(conflict_engine *e, unsigned master, uint64_t pos,
				      conflict_covered_fn covered, void *arg, int64_t now,
				      rw_error *err);

/* A person marked the record resolved: forget its open state.  RW_E_INVALID if not open. */
RW_MUST_CHECK int conflict_engine_resolve(conflict_engine *e, const conflict_id *id, rw_error *err);

/*
 * Restart support (doc/checkpoint.md).  A checkpoint is, taken at one
 * moment: conflict_engine_mark() of every master and the identity hashes of
 * the unsettled transactions (conflict_engine_unsettled()).  After a
 * restart, create the engine, call conflict_engine_restore_mark() for each
 * master and conflict_engine_restore_unsettled() for each hash (and
 * conflict_engine_restore_open() for the ledger's open records), all before
 * the first feed, then resume each stream at its low_water (inclusive), or
 * after "last" when nothing was unsettled.  A checkpoint may be taken again
 * at any time, during the replay too (restarts can follow each other).
 * A replayed transaction (position <= last) that was not unsettled had
 * settled before the checkpoint: all its pairs were decided then and it
 * cannot conflict with anything later, so it only counts for its master's
 * final rows (skipped_replays).  Pairs decided again are reported unless
 * callbacks.known says they were already.  Positions must be the same as
 * before the restart.
 */
RW_MUST_CHECK int conflict_engine_mark(const conflict_engine *e, unsigned master,
				       conflict_mark *out, rw_error *err);
/* Calls fn for each unsettled transaction's identity hash; stops at fn's nonzero return. */
int conflict_engine_unsettled(const conflict_engine *e, int (*fn)(uint64_t id_hash, void *arg),
			      void *arg);
/* Restore master's stream from its mark in the checkpoint (nothing if !fed). */
RW_MUST_CHECK int conflict_engine_restore_mark(conflict_engine *e, unsigned master,
					       const conflict_mark *mk, rw_error *err);
/*
 * The same knowing only "last": enough for one restart, but a checkpoint
 * taken before this stream has replayed up to "last" again cannot name
 * where its restored unsettled transactions start; prefer restore_mark.
 */
RW_MUST_CHECK int conflict_engine_restore_stream(conflict_engine *e, unsigned master, uint64_t last,
						 rw_error *err);
RW_MUST_CHECK int conflict_engine_restore_unsettled(conflict_engine *e, uint64_t id_hash,
						    rw_error *err);

/*
 * A record still open in the caller's ledger, so that after a restart a
 * later write can resolve it and before-image findings on its key are not
 * reported again.  Call after conflict_engine_restore_mark() for every
 * master.  final: the n_masters finals the ledger holds (from the record and
 * its updates), or NULL; PENDING or EVICTED ones are unknown until the key's
 * writes settle again.
 */
RW_MUST_CHECK int conflict_engine_restore_open(conflict_engine *e, const conflict_id *id,
					       const conflict_bytes *schema,
					       const conflict_bytes *table,
					       const conflict_bytes *key, bool unique_key,
					       const conflict_image *final, rw_error *err);
/*
 * A drift record: its rows were read from the tables (a verification) and
 * differ where no write explains it.  Followed like a restored record (with
 * finals unknown, so taken as diverged), except that only a write every
 * stream shows after the record (after the restored "last" positions when
 * following it during a restart's replay) counts for its finals and can
 * resolve it: a write before it, such as one read again after a restart, is
 * in the rows read already, and its after image is not what the masters
 * hold.
 */
RW_MUST_CHECK int conflict_engine_follow_drift(conflict_engine *e, const conflict_id *id,
					       const conflict_bytes *schema,
					       const conflict_bytes *table,
					       const conflict_bytes *key, bool unique_key,
					       rw_error *err);

/* The hash of a transaction identity, as the checkpoint holds it. */
uint64_t conflict_identity_hash(const uint8_t *p, size_t len);

/* "delete-update", ..., "before-image"; "unknown" for anything else. */
const char *conflict_kind_name(enum conflict_kind kind);
/* "insert", "update", "delete". */
const char *conflict_op_name(enum conflict_op op);
/* 32 lowercase hex digits into buf[CONFLICT_ID_TEXT]. */
void conflict_id_format(const conflict_id *id, char *buf);
bool conflict_id_equal(const conflict_id *a, const conflict_id *b);

#endif
