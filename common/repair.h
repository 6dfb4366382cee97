/*
 * repair.h - the SQL that makes every master hold the same row again after
 * a conflict: what `ringwatch repair` prints and ringwatchd serves at
 * GET /v1/conflicts/ID/repair.  It says on which master to run each part
 * and why it will not conflict again.  The row kept is the after image of
 * the write made on the preferred master (of the later commit without
 * one); only when that master made neither write, the row it holds now
 * (always for a drift record, which has no write).
 */
#ifndef RINGWATCH_COMMON_REPAIR_H
#define RINGWATCH_COMMON_REPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/*
 * Write the repair of conflict c (GET /v1/conflicts/ID's JSON) keeping
 * prefer's write (NULL: the later commit's) to out: 0, or -1 with why in
 * err (not a conflict record, a before-image finding without prefer, the
 * row to keep not known).
 */
int repair_sql(json_t *c, const char *prefer, FILE *out, char *err, size_t len);

#endif
