/*
 * verify_key.c - keys and values of verified tables as the server printed
 * them (see verify_key.h).
 */
#include "verify_key.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void verify_key_clear(struct verify_key *k)
{
	for (size_t i = 0; i < VERIFY_KEY_MAX; i++)
		free(k->v[i]);
	memset(k, 0, sizeof(*k));
}

void verify_key_copy(struct verify_key *dst, const struct verify_key *src, size_t n)
{
	verify_key_clear(dst);
	dst->set = src->set;
	for (size_t i = 0; src->set && i < n; i++) {
		dst->v[i] = malloc(src->len[i] + 1);
		if (dst->v[i] != NULL) {
			memcpy(dst->v[i], src->v[i], src->len[i]);
			dst->v[i][src->len[i]] = '\0';
		}
		dst->len[i] = src->len[i];
	}
}

static bool binary_kind(enum verify_kind k)
{
	return k == VERIFY_BINARY || k == VERIFY_FIXBIN || k == VERIFY_BIT || k == VERIFY_OTHER;
}

void verify_key_literals(MYSQL *h, const struct verify_key_shape *t, const struct verify_key *k,
			 char **lits)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < t->n; i++) {
		size_t len = k->len[i];
		char *o = malloc(2 * len + 4);

		lits[i] = o;
		if (o == NULL)
			continue;
		if (binary_kind(t->kind[i])) {
			*o++ = 'X', *o++ = '\'';
			for (size_t b = 0; b < len; b++) {
				*o++ = hex[(uint8_t)k->v[i][b] >> 4];
				*o++ = hex[(uint8_t)k->v[i][b] & 15];
			}
		} else {
			*o++ = '\'';
			o += mysql_real_escape_string(h, o, k->v[i], (unsigned long)len);
		}
		*o++ = '\'';
		*o = '\0';
	}
}

void verify_key_literals_free(char **lits, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(lits[i]);
}

json_t *verify_hex_json(const void *p, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	char *s = malloc(2 * len + 1);
	json_t *j;

	if (s == NULL)
		return json_null();
	for (size_t i = 0; i < len; i++) {
		s[2 * i] = hex[((const uint8_t *)p)[i] >> 4];
		s[2 * i + 1] = hex[((const uint8_t *)p)[i] & 15];
	}
	s[2 * len] = '\0';
	j = json_string(s);
	free(s);
	return j;
}

static int unhex(const char *s, char **out, size_t *len)
{
	size_t n = strlen(s) / 2;
	char *o = malloc(n + 1);

	if (o == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1) {
			free(o);
			return -1;
		}
		o[i] = (char)v;
	}
	o[n] = '\0';
	*out = o;
	*len = n;
	return 0;
}

json_t *verify_key_hex_json(const struct verify_key_shape *t, const struct verify_key *k)
{
	json_t *a;

	if (!k->set)
		return json_null();
	a = json_array();
	for (size_t i = 0; i < t->n; i++)
		json_array_append_new(a, verify_hex_json(k->v[i], k->len[i]));
	return a;
}

void verify_key_from_json(const struct verify_key_shape *t, json_t *j, struct verify_key *k)
{
	verify_key_clear(k);
	if (!json_is_array(j) || json_array_size(j) != t->n)
		return;
	for (size_t i = 0; i < t->n; i++) {
		const char *s = json_string_value(json_array_get(j, i));
		if (s == NULL || unhex(s, &k->v[i], &k->len[i]) != 0) {
			verify_key_clear(k);
			return;
		}
	}
	k->set = true;
}

bool verify_key_bytes(const struct verify_key_shape *t, const struct verify_key *k, rw_buf *out)
{
	for (size_t i = 0; i < t->n; i++)
		if (verify_key_encode(out, t->kind[i], k->v[i], k->len[i], NULL) != 0)
			return false;
	return !rw_buf_failed(out);
}

static json_t *base64_json(const char *v, size_t len)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *s = malloc(4 * (len / 3 + 1) + 1), *o = s;
	const uint8_t *p = (const uint8_t *)v;
	json_t *j;

	if (s == NULL)
		return json_null();
	for (size_t i = 0; i < len; i += 3) {
		uint32_t x = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0) |
			     (i + 2 < len ? p[i + 2] : 0);
		*o++ = tbl[x >> 18 & 63];
		*o++ = tbl[x >> 12 & 63];
		*o++ = i + 1 < len ? tbl[x >> 6 & 63] : '=';
		*o++ = i + 2 < len ? tbl[x & 63] : '=';
	}
	*o = '\0';
	j = json_pack("{s:s}", "base64", s);
	free(s);
	return j;
}

json_t *verify_value_json(enum verify_kind kind, const char *v, size_t len)
{
	char *end;

	if (v == NULL)
		return json_null();
	switch (kind) {
	case VERIFY_INT:
	case VERIFY_UINT: {
		long long n;
		errno = 0;
		n = strtoll(v, &end, 10);
		return errno == 0 && *end == '\0' ? json_integer(n) : json_stringn(v, len);
	}
	case VERIFY_FLOAT:
		return json_real(strtod(v, NULL));
	case VERIFY_BIT: {
		json_int_t n = 0;
		for (size_t i = 0; i < len; i++)
			n = n << 8 | (uint8_t)v[i];
		return json_integer(n);
	}
	case VERIFY_JSON: {
		json_t *j = json_loadb(v, len, JSON_DECODE_ANY, NULL);
		return j != NULL ? j : json_stringn(v, len);
	}
	case VERIFY_BINARY:
	case VERIFY_FIXBIN:
	case VERIFY_OTHER:
		return base64_json(v, len);
	default: { /* text, as UTF-8; bytes that are not UTF-8 as base64 */
		json_t *j = json_stringn(v, len);
		return j != NULL ? j : base64_json(v, len);
	}
	}
}
