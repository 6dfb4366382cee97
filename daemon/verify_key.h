/*
 * verify_key.h - keys and values of the tables a verification reads, as
 * the server printed them over SQL: copies of keys, their SQL literals,
 * their JSON in the worker's letters, their canonical key bytes (those of
 * the binlog, value.h), and column values as the conflict records show rows
 * (numbers, strings, {"base64": ...} for binary data, null).  Used by the
 * verifier's thread (verify_worker.c).
 */
#ifndef RINGWATCHD_VERIFY_KEY_H
#define RINGWATCHD_VERIFY_KEY_H

#include "ringwatch/rw_buf.h"
#include "ringwatch/verify.h"

#include <jansson.h>
#include <mysql.h>
#include <stdbool.h>
#include <stddef.h>

#define VERIFY_KEY_MAX 16 /* key columns at most */

/* A key: the values of its columns as the server printed them (owned); set false: none. */
struct verify_key {
	bool set;
	char *v[VERIFY_KEY_MAX];
	size_t len[VERIFY_KEY_MAX];
};

/* What a key is made of: its columns' kinds, in key order. */
struct verify_key_shape {
	size_t n;
	enum verify_kind kind[VERIFY_KEY_MAX];
};

/* Free the values; k is left unset. */
void verify_key_clear(struct verify_key *k);

/* dst (cleared first) becomes a copy of src's n values. */
void verify_key_copy(struct verify_key *dst, const struct verify_key *src, size_t n);

/*
 * k's values as SQL literals, malloc'd into lits[0..shape->n): binary kinds
 * as X'...', others quoted with h's escaping (a NULL entry when out of
 * memory).  Release with verify_key_literals_free().
 */
void verify_key_literals(MYSQL *h, const struct verify_key_shape *shape, const struct verify_key *k,
			 char **lits);
void verify_key_literals_free(char **lits, size_t n);

/* Bytes as a JSON string of lowercase hex (new reference). */
json_t *verify_hex_json(const void *p, size_t len);

/* k as [hex, ...] for the letters and the progress, or null when unset (new reference). */
json_t *verify_key_hex_json(const struct verify_key_shape *shape, const struct verify_key *k);

/* The inverse: k from [hex, ...]; unset when j is not one of shape->n values. */
void verify_key_from_json(const struct verify_key_shape *shape, json_t *j, struct verify_key *k);

/* Append k's canonical key bytes (verify_key_encode); false when a column has none. */
bool verify_key_bytes(const struct verify_key_shape *shape, const struct verify_key *k,
		      rw_buf *out);

/* A column's value (len bytes, NULL for SQL NULL) as the records show it (new reference). */
json_t *verify_value_json(enum verify_kind kind, const char *v, size_t len);

#endif
