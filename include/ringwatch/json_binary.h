/*
 * json_binary.h - MySQL's binary JSON (the storage format of JSON columns,
 * also in rows events) to JSON text, and PARTIAL_UPDATE_ROWS diff vectors.
 */
#ifndef RINGWATCH_JSON_BINARY_H
#define RINGWATCH_JSON_BINARY_H

#include "ringwatch/rw_buf.h"
#include "ringwatch/rw_error.h"

#include <stddef.h>
#include <stdint.h>

/* Deepest nesting accepted (MySQL's own limit is 100). */
#define JSON_BINARY_MAX_DEPTH 150

/*
 * Append the JSON text of the binary document p[0..len) to out.  pos is the
 * stream offset of p[0] for errors (-1 if none).  Opaque values (DECIMAL,
 * temporal types inside JSON) become what MySQL prints for them; other
 * opaque data "base64:typeN:...".  Returns 0, or RW_E_INVALID/RW_E_TRUNCATED.
 */
RW_MUST_CHECK int json_binary_to_text(const uint8_t *p, size_t len, int64_t pos, rw_buf *out,
				      rw_error *err);

/*
 * A PARTIAL_UPDATE_ROWS JSON diff vector as a JSON array of
 * {"op": "replace"|"insert"|"remove", "path": "$...", "value": ...}.
 */
RW_MUST_CHECK int json_binary_diff_to_text(const uint8_t *p, size_t len, int64_t pos, rw_buf *out,
					   rw_error *err);

#endif
