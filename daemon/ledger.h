/*
 * ledger.h - the conflicts ringwatchd found, kept in SQLite, and their
 * rendering as the CONFLICT objects of GET /v1/conflicts.
 *
 * A conflict is keyed by its uid, the conflict engine's stable identity of
 * the pair (the two transactions and the row), so re-reading binlogs after a
 * restart finds the same uid and never records it twice.  The ledger's own
 * id (1, 2, ...) is the one the API and the CLI show.
 *
 * The engine's writes (add, finals, a resolution by uid) that the database
 * refuses for a while are kept and tried again, in order (state.h); a read
 * that fails is an error (with state_error()), never an empty answer.
 */
#ifndef RINGWATCHD_LEDGER_H
#define RINGWATCHD_LEDGER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct state;

struct ledger_entry {
	const char *uid;  /* stable identity (hex) */
	const char *kind; /* "update-update", ... */
	const char *schema;
	const char *table;
	json_t *key; /* {"id": 1} */
	bool diverged;
	double detected_at; /* unix time */
	double
	    detection_delay; /* seconds from the later write's appearance to the decision, <0 unknown */
	json_t *writes; /* [{"master", "gtid", "op", "committed_at", "before", "after"}, ...] */
	json_t *final;  /* {"west": {...} | null, ...} */
	const char *key_hex; /* the engine's canonical key bytes in hex, "" if not known */
	bool unique_key;     /* the key is a UNIQUE key, not the primary key */
};

/* A conflict between two masters' writes, as ledger_each_between() gives it. */
struct ledger_between {
	int64_t id;
	const char *kind;
	bool open; /* else resolved by the engine (a later write made the rows the same) */
	const char *other_gtid; /* the identity of the other master's write; "" unknown */
};

/*
 * The conflicts on schema.table whose kind is one of kinds, with a write of
 * replica and one of another master (whichever master: with three or more,
 * a link carries the writes of every master before its source too), open
 * or resolved by the engine (not by a person, not superseded), newest first
 * (at most 64): fn on each until it returns non-zero.  0, or -1 on error.
 */
int ledger_each_between(struct state *st, const char *schema, const char *table, const char *kinds,
			const char *replica, int (*fn)(const struct ledger_between *c, void *arg),
			void *arg);

/* What the engine needs of an open conflict after a restart. */
struct ledger_open {
	const char *uid;
	const char *schema;
	const char *table;
	const char *key_hex;
	bool unique_key;
	bool drift; /* kind "drift": rows a verification read */
};

/*
 * Record e.  Returns the ledger id (> 0); when the uid is known already, its
 * existing id and *created false; 0 when the write is kept to be tried again
 * (state.h: no id yet).  -1 on a database error.
 */
int64_t ledger_add(struct state *st, const struct ledger_entry *e, bool *created);

/* Whether a conflict with this uid was recorded. */
bool ledger_known(struct state *st, const char *uid);

/* New finals of a recorded conflict; 0 (also when kept), 1 when no such uid, -1 on error. */
int ledger_update_final(struct state *st, const char *uid, json_t *final, bool diverged);

/*
 * Change some masters' finals: changes maps a master to its row (or null:
 * no row); each master in unknown is removed (its final is not known).
 * 0 (also when kept), 1 when no such uid, -1 on error.
 */
int ledger_merge_final(struct state *st, const char *uid, json_t *changes, json_t *unknown,
		       bool diverged);

/*
 * ledger_merge_final() of several conflicts in one write: batch maps a uid to its
 * {"changes", "unknown", "diverged"}.  0 (also when kept), -1 on error.
 */
int ledger_merge_finals(struct state *st, json_t *batch);

/* The uid of a ledger id into buf; 0, 1 when none, -1 on error. */
int ledger_uid(struct state *st, int64_t id, char *buf, size_t len);

/*
 * Mark it resolved, by uid (the engine: a later write made the rows equal;
 * kept when it cannot be written now) or, uid NULL, by id (a person: written
 * now or not at all).  by says who ("engine", "api").  0, 1 when there is no
 * such open conflict, -1 on error.
 */
int ledger_resolve(struct state *st, int64_t id, const char *uid, const char *by, double at);

/* The CONFLICT object of id (new reference) into *out: 0, 1 when there is none, -1 when it
 * cannot be read (state_error() says why). */
int ledger_find(struct state *st, int64_t id, json_t **out);

/* The CONFLICT object of id (new reference); NULL when there is none or it cannot be read. */
json_t *ledger_get(struct state *st, int64_t id);

/* Newest first; open_only or all; at most limit.  NULL when they cannot be read. */
json_t *ledger_list(struct state *st, bool open_only, int limit);

/*
 * Calls fn for every open conflict, and for every one a later write resolved at or after
 * resolved_since (seconds since the epoch; 0: none of those): a restart hands those back
 * too, because the streams read that write again (doc/checkpoint.md, "A restart").
 * 0 or -1.
 */
int ledger_each_open(struct state *st, double resolved_since,
		     void (*fn)(const struct ledger_open *o, void *arg), void *arg);

/*
 * Whether an open record whose rows differ is on the row: by its key bytes
 * (key_hex, when not "") or its key as compact JSON.  Its id, 0 when none,
 * -1 on error.
 */
int64_t ledger_open_on_row(struct state *st, const char *schema, const char *table,
			   const char *key_hex, const char *key_json);

/* The open drift records of a table: [{"id", "key"}] (new reference), NULL on error. */
json_t *ledger_open_drift(struct state *st, const char *schema, const char *table);

/* Counts for /v1/status and the metrics. */
int ledger_counts(struct state *st, int64_t *open, int64_t *total);

/* The rows that open diverged conflicts are on (each row once): 0, or -1. */
int ledger_diverged_rows(struct state *st, int64_t *rows);

/* Calls fn once per (schema, table, kind) with the number of conflicts; 0 or -1. */
int ledger_totals(struct state *st,
		  void (*fn)(const char *schema, const char *table, const char *kind, int64_t n,
			     void *arg),
		  void *arg);

/* The open conflicts per table, through fn; 0 or -1. */
int ledger_open_totals(struct state *st,
		       void (*fn)(const char *schema, const char *table, int64_t n, void *arg),
		       void *arg);

/* A table's conflicts of one kind detected lately (ledger_recent). */
struct ledger_recent {
	const char *schema, *table, *kind;
	int64_t n;         /* detected since the time asked for */
	int64_t open;      /* of them, not resolved */
	int64_t newest_id; /* the newest of them */
	double newest_at;  /* when it was detected (unix time) */
};

/*
 * The conflicts detected at since (unix time) or later, one call of fn per
 * table and kind; only the newest limit conflicts are looked at, so the
 * work stays bounded however large the ledger is.  0, or -1 on error.
 */
int ledger_recent(struct state *st, double since, int limit,
		  void (*fn)(const struct ledger_recent *r, void *arg), void *arg);

/* The open conflicts that left rows diverged, per table: how many, and the newest's id. */
int ledger_open_diverged(struct state *st,
			 void (*fn)(const char *schema, const char *table, int64_t n,
				    int64_t newest_id, void *arg),
			 void *arg);

#endif
