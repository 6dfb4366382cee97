/*
 * verify_worker.h - the thread that reads the tables of a verification job
 * on every master (doc/verify.md).
 *
 * The worker owns one client connection per master and nothing of the
 * loop's state.  It tells the loop what it learns, and asks what only the
 * loop knows, through letters (struct verify_letter, a JSON text each) in
 * the mailbox it is given; the loop answers a question with
 * verify_worker_answer().  A job ends with a VL_DONE letter, after which
 * the thread exits.
 */
#ifndef RINGWATCHD_VERIFY_WORKER_H
#define RINGWATCHD_VERIFY_WORKER_H

#include "mailbox.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct config_master;

/* The struct mail kind of the worker's letters. */
#define VERIFY_LETTER 0x56455249 /* "VERI" */

enum verify_letter_type {
	/* questions: the worker waits for verify_worker_answer() with the letter's seq */
	VL_ASK_GO,     /* {} -> {"go": bool, "reason": str, "t0": s, "margin": s} */
	VL_ASK_WINDOW, /* {"schema", "table", "from": s, "positions": [{"file", "pos"}],
			* "kinds": [ordered bool], "lo": hex|null, "hi": hex|null,
			* "point": bool} -> {"touched": bool, "why": str} */
	VL_ASK_OPEN,   /* {"schema", "table"} -> {"drift": [{"id", "key": {...}}]} */
	/* news */
	VL_TABLES,   /* {"tables": [{"schema", "table", "rows"}]}: the job's tables, found */
	VL_TABLE,    /* {"schema", "table"}: reading it now */
	VL_SKIP,     /* {"schema", "table", "reason"} */
	VL_PROGRESS, /* {"schema", "table", "last": [hex]|null, "retries": [...],
		      * "chunk": "equal"|"different"|"unsure"|null, "rows", "done": bool,
		      * "not_verified"} */
	VL_RECORD,   /* {"schema", "table", "key", "key_hex", "final": {master: row|null}} */
	VL_RESOLVE,  /* {"id"}: an open drift record's rows are equal again */
	VL_PAUSE,    /* {"reason"}: waiting (load); "" when going on */
	VL_DONE,     /* {"error": str|null}: the job is over */
};

/* A letter: one malloc'd block, free() releases it. */
struct verify_letter {
	struct mail hdr; /* kind VERIFY_LETTER */
	int type;        /* enum verify_letter_type */
	uint64_t seq;    /* of a question; 0 for news */
	char json[];     /* NUL-terminated */
};

struct verify_worker;

struct verify_worker_config {
	const struct config_master *masters; /* copied */
	size_t n_masters;
	struct mailbox *mb;
	/*
	 * The job: {"id", "tables": [{"schema", "table", "last": [hex]|null,
	 * "retries": [...]}] (empty: every table, found by the worker),
	 * "chunk_rows": N (0: adaptive)}.  Copied.
	 */
	json_t *job;
	double chunk_time;
	unsigned max_load;
};

/* Start the thread; NULL with a reason in err. */
struct verify_worker *verify_worker_start(const struct verify_worker_config *c, char *err,
					  size_t len);

/* The loop's answer to question seq (answer is taken). */
void verify_worker_answer(struct verify_worker *w, uint64_t seq, json_t *answer);

/* Ask the thread to end (any query in progress is cut short); returns at once. */
void verify_worker_stop(struct verify_worker *w);

/* Wait for the thread to end and free w; after verify_worker_stop() or VL_DONE. */
void verify_worker_join(struct verify_worker *w);

#endif
