/*
 * ddl_check.h - schema changes judged (ddl_rules.h) and answered as JSON:
 * what POST /v1/ddl/check says and what `ringwatch check-ddl` prints, the
 * same whether the daemon judges with the live schema or the CLI offline.
 */
#ifndef RINGWATCH_COMMON_DDL_CHECK_H
#define RINGWATCH_COMMON_DDL_CHECK_H

#include "ringwatch/ddl.h"
#include "ringwatch/ddl_rules.h"

#include <jansson.h>

/*
 * Every statement of text (a script: DELIMITER lines known) judged with
 * ctx (NULL: offline): {"safe": bool, "statements": [{"sql", "verdict",
 * "reasons": [str], "read": bool}]}, "safe" when no statement is unsafe and
 * every one was read.  *unread (may be NULL) counts the statements ringwatch could not
 * read.  NULL when out of memory.
 */
json_t *ddl_check_json(const char *text, size_t len, const ddl_options *opt, const ddl_context *ctx,
		       size_t *unread);

#endif
