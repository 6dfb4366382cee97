/*
 * conflict_json.h - the conflict engine's records as the CONFLICT objects
 * of GET /v1/conflicts (without "id", "state" and "detected_at", which the
 * ledger or the caller adds), for ringwatchd's ledger and `ringwatch analyze`.
 */
#ifndef RINGWATCH_CONFLICT_JSON_H
#define RINGWATCH_CONFLICT_JSON_H

#include "ringwatch/conflict.h"
#include "ringwatch/conflict_feed.h"

#include <jansson.h>

/*
 * kind, schema, table, key (from keys when it still knows it, else the key
 * bytes as {"#": hex}), diverged, writes (master names from names[],
 * identity as "gtid", op, committed_at, before, after) and final.
 */
json_t *conflict_record_json(const conflict_record *r, const char *const *names,
			     const conflict_keys *keys);

/* {"west": row|null, ...} of n finals; masters whose final is not known are
 * left out (a master that applied neither write yet, an evicted image). */
json_t *conflict_finals_json(unsigned n, const conflict_image *final, const char *const *names);

/*
 * The finals an update changed: changes gets master -> row (or null: no
 * row), unknown the names of masters whose final is not known any more.
 */
void conflict_update_json(const conflict_update *u, const char *const *names, json_t *changes,
			  json_t *unknown);

/* Apply changes and unknown (as above) to a "final" object. */
void conflict_final_apply(json_t *final, json_t *changes, json_t *unknown);

/* A uid for the ledger: the record id as 32 hex digits. */
void conflict_uid(const conflict_id *id, char buf[CONFLICT_ID_TEXT]);

/* The conflict id of its text (conflict_uid's inverse): 0, or -1 when uid is none. */
int conflict_uid_parse(const char *uid, conflict_id *id);

#endif
