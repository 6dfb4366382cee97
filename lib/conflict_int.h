/*
 * conflict_int.h - the conflict engine's private structures, shared by
 * conflict.c (tracking and the rule), conflict_store.c (transactions and the
 * write lists of keys), conflict_before.c (before images),
 * conflict_restart.c (checkpoints), conflict_image.c (the ring records) and
 * conflict_open.c (reports, finals, resolution).
 */
#ifndef RINGWATCH_CONFLICT_INT_H
#define RINGWATCH_CONFLICT_INT_H

#include "ringwatch/conflict.h"

#include "conflict_ring.h"
#include "conflict_table.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* cf_write.flags */
#define CFW_LINKED    0x01 /* on its key's list */
#define CFW_UNIQUE    0x02 /* a UNIQUE key of an inserted row, not its primary key */
#define CFW_SETTLED   0x04 /* its transaction was seen in every stream */
#define CFW_LIST_KEPT 0x08 /* on a list's head only: the list holds a settled write */
#define CFW_NO_PK     UINT16_MAX

/*
 * One transaction's change of one key (several changes of one key in one
 * transaction are merged).  24 bytes.  The head write of a key's list is the
 * item of the key table, keyed by the key hash.
 */
struct cf_write {
	uint64_t key;          /* hash of schema, table and key bytes */
	struct cf_write *next; /* the next write on the same key, any order */
	uint32_t idx;          /* index in its transaction's w[] */
	uint8_t op;            /* enum conflict_op */
	uint8_t flags;         /* CFW_* */
	uint16_t pk;           /* CFW_UNIQUE: idx of its row's primary-key write, or CFW_NO_PK */
};

/* cf_trx.flags */
#define CFT_STUB       0x1 /* dropped while blind: only its appearances are tracked */
#define CFT_SETTLED    0x2
#define CFT_IMG_ORIGIN 0x4 /* its ring record holds the origin's images */
#define CFT_PENDING    0x8 /* copies wait in e->pend for the origin's before images */

/* Writes one transaction may have; a larger one is only counted (a stub). */
#define CF_MAX_TRX_WRITES ((1u << 20) - 2)

/*
 * An unsettled transaction: 24 bytes, then its writes, then its position in
 * each stream (valid where its bit in seen is set).  The item of the
 * transaction table, keyed by the identity hash.  While a function works on
 * a transaction it holds one extra nlinked, so that nothing frees it.
 */
struct cf_trx {
	uint64_t id;  /* conflict_identity_hash() */
	uint64_t ref; /* its record in the origin's ring (conflict_image.c) */
	uint64_t nw : 20;
	uint64_t nlinked : 20; /* writes still on a key list (+1 while held) */
	uint64_t seen : 16;    /* bit m: master m's stream showed it */
	uint64_t origin : 4;
	uint64_t flags : 4; /* CFT_* */
	struct cf_write w[];
};

/*
 * A copy's before image waiting for the origin's (streams fed out of
 * order); the item of the pending table, chained per transaction.
 */
struct cf_pend {
	uint64_t trx;
	struct cf_pend *next;
	uint64_t before_hash;
	uint64_t before_shape; /* cf_image_shape() of the copy's before image */
	uint32_t idx;
	uint8_t master;
};

/*
 * An open record (conflict or before-image divergence), kept until resolved,
 * followed by after[n] (the latest position of its writes in each stream)
 * and final[n] (the hash of each master's final row).  The head of a key's
 * chain is the item of the open table, keyed by the key hash.
 */
struct cf_open {
	uint64_t key;
	struct cf_open *next;
	conflict_id id;
	uint64_t trx[2]; /* identity hashes of its transactions */
	uint16_t seen[2];
	uint16_t final_known;
	uint8_t ntrx;
	uint8_t causal;   /* a write after all of its writes in every stream settled */
	uint8_t restored; /* from before a restart: finals unknown, taken as diverged */
	uint8_t drift;    /* rows read outside the binlogs: only a later write tells its finals */
	uint64_t pos[];
};

struct cf_stream {
	bool fed;
	bool replay;             /* restored: positions up to replay_end replay */
	bool restored_unsettled; /* the checkpoint had unsettled ones from restored_low on */
	uint64_t last;
	uint64_t replay_end;
	uint64_t restored_low;
	/* conflict_engine_gap(): what the purged binlogs held is shown at gap_pos */
	conflict_covered_fn gap_covered; /* NULL: no gap */
	void *gap_arg;
	uint64_t gap_pos;
};

struct conflict_engine {
	unsigned n;
	uint16_t all;
	size_t max_writes;
	conflict_callbacks cb;
	conflict_table trx;   /* unsettled transactions */
	conflict_table keys;  /* key hash -> its list of writes */
	conflict_table opens; /* key hash -> its open records */
	conflict_ring ring[CONFLICT_MAX_MASTERS];
	struct cf_stream stream[CONFLICT_MAX_MASTERS];
	conflict_table pend; /* transaction identity hash -> its waiting copies */
	size_t npend;
	uint64_t *restored;     /* the checkpoint's unsettled identity hashes, sorted once fed */
	uint8_t *restored_used; /* tracked again since (NULL until sorted) */
	size_t nrestored, caprestored, restored_left;
	bool restored_sorted;
	bool blind;
	/* the identity hashes of the unsettled stubs fed with dropped_rows (few: each is a
	 * transaction of hundreds of thousands of rows) */
	uint64_t *big;
	size_t nbig, capbig;
	size_t live_writes, kept_writes, trx_bytes, open_bytes, nopen;
	size_t cand[CONFLICT_MAX_MASTERS]; /* see cand_update() in conflict.c */
	conflict_stats st;                 /* counters */
};

/* Helpers across the engine's files. */
static inline uint64_t *cf_pos(const struct cf_trx *t)
{
	return (uint64_t *)(uintptr_t)(t->w + t->nw);
}

static inline struct cf_trx *cf_write_trx(const struct cf_write *w)
{
	return (struct cf_trx *)(uintptr_t)((const char *)(w - w->idx) -
					    offsetof(struct cf_trx, w));
}

static inline bool cf_seen(const struct cf_trx *t, unsigned m)
{
	return (t->seen >> m) & 1u;
}

/* What one merged write of a fed transaction is made of. */
struct cf_merged {
	uint64_t key;
	uint32_t first, last; /* rows */
	uint8_t op;
	uint8_t unique;
	uint16_t pk;
	const conflict_bytes *ukey;
};

/* One write's entry in a ring record, pointing into the ring. */
struct cf_entry {
	conflict_bytes schema, table, key;
	conflict_bytes before, after;
	bool has_before, has_after;
	bool dropped_before, dropped_after; /* the write had it; its feed did not keep it */
	uint64_t before_hash, after_hash;
};

/* The header of a ring record. */
struct cf_head {
	conflict_bytes identity;
	int64_t commit_time;
	int64_t first_seen;
	unsigned img_master;
	uint32_t nw;
};

/* conflict_store.c: transactions and the write lists of keys (it calls none of the others) */
struct cf_trx *cf_trx_alloc(conflict_engine *e, uint64_t id, unsigned origin, size_t nw);
void cf_trx_free(conflict_engine *e, struct cf_trx *t);
void cf_link_write(conflict_engine *e, struct cf_write *w);
void cf_key_gc(conflict_engine *e, uint64_t key);
void cf_key_kept(conflict_engine *e, uint64_t key); /* a write on key settled */
struct cf_write *cf_key_head(const conflict_engine *e, uint64_t key);

/* conflict_before.c: before-image checks of an appearance of t that is not its first */
RW_MUST_CHECK int cf_before_check(conflict_engine *e, struct cf_trx *t, unsigned master,
				  const conflict_trx *trx, int64_t now);
void cf_before_forget(conflict_engine *e, struct cf_trx *t);
void cf_before_free_all(conflict_engine *e);

/* conflict_restart.c: a replay of a transaction settled before the checkpoint */
bool cf_restart_settled(conflict_engine *e, unsigned master, const conflict_trx *trx, uint64_t id);
void cf_restart_consume(conflict_engine *e, uint64_t id); /* a restored one is tracked again */
RW_MUST_CHECK int cf_restart_replay(conflict_engine *e, unsigned master, const conflict_trx *trx,
				    uint64_t id, int64_t now);

/* conflict_image.c */
RW_MUST_CHECK int cf_merge(const conflict_trx *trx, struct cf_merged **out, size_t *nout);
uint64_t cf_key_hash(const conflict_row *row, const conflict_bytes *ukey);
uint64_t cf_image_hash(const conflict_bytes *b);

/*
 * The hash of an image's column names in order (the top-level keys of its
 * canonical JSON): two images of one row compare only when their shapes
 * do; a master that already has a column the origin had not yet added
 * logs a longer image of the same row, which is no divergence.
 */
uint64_t cf_image_shape(const conflict_bytes *b);
uint64_t cf_record_put(conflict_engine *e, const conflict_trx *trx, const struct cf_merged *mw,
		       size_t nw, unsigned img_master, int64_t now);
bool cf_record_head(const conflict_engine *e, const struct cf_trx *t, struct cf_head *out);
bool cf_record_entry(const conflict_engine *e, const struct cf_trx *t, uint32_t idx,
		     struct cf_entry *out);

/* conflict_open.c */
void cf_report_pair(conflict_engine *e, struct cf_trx *x, struct cf_write *xw, struct cf_trx *y,
		    struct cf_write *yw, int64_t now);
void cf_report_before(conflict_engine *e, struct cf_trx *x, struct cf_write *xw, unsigned master,
		      const conflict_bytes *origin_before, const conflict_bytes *copy_before,
		      int64_t now);
void cf_open_seen(conflict_engine *e, const struct cf_trx *x, unsigned m);
/* xw's transaction x settled (x NULL: a replayed one, settled before the restart). */
void cf_open_settled(conflict_engine *e, const struct cf_trx *x, const struct cf_write *xw,
		     int64_t now);
void cf_open_free_all(conflict_engine *e);
bool cf_open_diverged(const conflict_engine *e, uint64_t key);

#endif
