/*
 * row_change.c - rows events as keyed row changes (see row_change.h).
 */
#include "ringwatch/row_change.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

void row_change_init(row_change *c)
{
	memset(c, 0, sizeof(*c));
}

void row_change_free(row_change *c)
{
	rw_buf_free(&c->key);
	rw_buf_free(&c->key_json);
	rw_buf_free(&c->before);
	rw_buf_free(&c->after);
	for (uint32_t k = 0; k < ROW_CHANGE_MAX_UNIQUE; k++) {
		rw_buf_free(&c->unique[k]);
		rw_buf_free(&c->unique_json[k]);
	}
}

static int render_names(row_change_iter *it, uint32_t ncols);

int row_change_iter_init(row_change_iter *it, const binlog_rows *rows, const row_table_info *info,
			 rw_error *err)
{
	row_change_iter tmp;
	int rc;

	if (rows->kind == BINLOG_ROWS_PARTIAL_UPDATE)
		return rw_error_set(err, RW_E_UNSUPPORTED, rows->data_offset,
				    "PARTIAL_UPDATE_ROWS holds JSON diffs, not full rows");
	memset(&tmp, 0, sizeof(tmp));
	rc = row_iter_init(&tmp.rows, rows, err);
	if (rc < 0)
		return rc;
	tmp.tm = rows->table;
	tmp.info = info;
	tmp.before = calloc(rows->ncols > 0 ? rows->ncols : 1, sizeof(value_datum));
	tmp.after = calloc(rows->ncols > 0 ? rows->ncols : 1, sizeof(value_datum));
	tmp.name_off = calloc((size_t)rows->ncols + 1, sizeof(uint32_t));
	if (tmp.before == NULL || tmp.after == NULL || tmp.name_off == NULL ||
	    render_names(&tmp, rows->ncols) < 0) {
		row_change_iter_free(&tmp);
		return rw_error_set(err, RW_E_NOMEM, -1, "out of memory");
	}
	*it = tmp;
	return 0;
}

void row_change_iter_free(row_change_iter *it)
{
	free(it->before);
	free(it->after);
	free(it->name_off);
	rw_buf_free(&it->names);
	it->before = it->after = NULL;
	it->name_off = NULL;
}

/* Column i's "name": as rendered by render_names(). */
static void put_name(const row_change_iter *it, rw_buf *out, uint32_t i)
{
	rw_buf_put(out, it->names.p + it->name_off[i], it->name_off[i + 1] - it->name_off[i]);
}

/* A JSON string literal of s. */
static void put_json_string(rw_buf *out, const char *s)
{
	rw_buf_put(out, "\"", 1);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			rw_buf_put(out, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			rw_buf_put(out, esc, 6);
		} else {
			rw_buf_put(out, s, 1);
		}
	}
	rw_buf_put(out, "\"", 1);
}

static const char *column_name(const row_change_iter *it, uint32_t i, char *buf, size_t len)
{
	if (it->tm->has_names && it->tm->cols[i].name != NULL)
		return it->tm->cols[i].name;
	if (it->info != NULL && it->info->names != NULL && i < it->info->n_names &&
	    it->info->names[i] != NULL)
		return it->info->names[i];
	snprintf(buf, len, "@%u", i + 1);
	return buf;
}

/* Every column's "name": once per rows event: the rows share them. */
static int render_names(row_change_iter *it, uint32_t ncols)
{
	char name[16];

	for (uint32_t i = 0; i < ncols; i++) {
		it->name_off[i] = (uint32_t)it->names.len;
		put_json_string(&it->names, column_name(it, i, name, sizeof(name)));
		rw_buf_put(&it->names, ":", 1);
	}
	it->name_off[ncols] = (uint32_t)it->names.len;
	return rw_buf_failed(&it->names) || it->names.p == NULL ? -1 : 0;
}

static int image_json(const row_change_iter *it, const value_datum *vals, rw_buf *out,
		      rw_error *err)
{
	int first = 1;

	rw_buf_reset(out);
	rw_buf_put(out, "{", 1);
	for (uint32_t i = 0; i < it->rows.rows->ncols; i++) {
		int rc;
		if (vals[i].kind == VALUE_ABSENT)
			continue;
		if (!first)
			rw_buf_put(out, ",", 1);
		first = 0;
		put_name(it, out, i);
		rc = value_to_json(&vals[i], out, err);
		if (rc < 0)
			return rc;
	}
	rw_buf_put(out, "}", 1);
	return out->failed ? rw_error_set(err, RW_E_NOMEM, -1, "out of memory") : 0;
}

/* The primary key's columns: from the table map, else from the caller. */
static uint32_t primary_key(const row_change_iter *it, const uint16_t **pk)
{
	if (it->tm->has_pk && it->tm->n_pk > 0) {
		*pk = it->tm->pk;
		return it->tm->n_pk;
	}
	if (it->info != NULL && it->info->pk != NULL && it->info->n_pk > 0) {
		*pk = it->info->pk;
		return it->info->n_pk;
	}
	*pk = NULL;
	return 0;
}

/* Whether every primary-key column is in the image. */
static int has_key(const row_change_iter *it, const value_datum *vals)
{
	const uint16_t *pk;
	uint32_t n = primary_key(it, &pk);

	for (uint32_t k = 0; k < n; k++) {
		if (pk[k] >= it->rows.rows->ncols || vals[pk[k]].kind == VALUE_ABSENT)
			return 0;
	}
	return n > 0;
}

/* {"col": value, ...} of the primary key, or {"#": hex} for a hashed row. */
static int key_json(const row_change_iter *it, const value_datum *vals, row_change *c,
		    rw_error *err)
{
	const uint16_t *pk;
	uint32_t n = primary_key(it, &pk);
	int rc;

	rw_buf_reset(&c->key_json);
	rw_buf_put(&c->key_json, "{", 1);
	if (n == 0) {
		static const char hex[] = "0123456789abcdef";
		const uint8_t *h = (const uint8_t *)c->key.p + c->key.len - 16;
		rw_buf_put(&c->key_json, "\"#\":\"", 5);
		for (int i = 0; i < 16; i++) {
			rw_buf_put(&c->key_json, &hex[h[i] >> 4], 1);
			rw_buf_put(&c->key_json, &hex[h[i] & 15], 1);
		}
		rw_buf_put(&c->key_json, "\"", 1);
	}
	for (uint32_t k = 0; k < n; k++) {
		if (k > 0)
			rw_buf_put(&c->key_json, ",", 1);
		put_name(it, &c->key_json, pk[k]);
		rc = value_to_json(&vals[pk[k]], &c->key_json, err);
		if (rc < 0)
			return rc;
	}
	rw_buf_put(&c->key_json, "}", 1);
	return c->key_json.failed ? rw_error_set(err, RW_E_NOMEM, -1, "out of memory") : 0;
}

static int make_key(const row_change_iter *it, const value_datum *vals, row_change *c,
		    rw_error *err)
{
	const uint16_t *pk;
	uint32_t n = primary_key(it, &pk);
	int rc;

	rw_buf_reset(&c->key);
	rw_buf_put(&c->key, it->tm->schema, strlen(it->tm->schema) + 1);
	rw_buf_put(&c->key, it->tm->table, strlen(it->tm->table) + 1);
	c->key_from_hash = n == 0;
	if (n > 0) {
		if (!has_key(it, vals))
			return rw_error_set(err, RW_E_INVALID, it->rows.base,
					    "%s.%s: a primary-key column is missing from the image",
					    it->tm->schema, it->tm->table);
		for (uint32_t k = 0; k < n; k++) {
			rc = value_key_encode(&vals[pk[k]], &c->key, err);
			if (rc < 0)
				return rc;
		}
	} else {
		rw_buf whole = RW_BUF_INIT;
		XXH128_hash_t h;
		uint8_t bytes[17];

		for (uint32_t i = 0; i < it->rows.rows->ncols; i++) {
			rc = value_key_encode(&vals[i], &whole, err);
			if (rc < 0) {
				rw_buf_free(&whole);
				return rc;
			}
		}
		h = XXH3_128bits(whole.p != NULL ? whole.p : "", whole.len);
		rw_buf_free(&whole);
		bytes[0] = '#';
		for (int b = 0; b < 8; b++) {
			bytes[1 + b] = (uint8_t)(h.high64 >> (56 - 8 * b));
			bytes[9 + b] = (uint8_t)(h.low64 >> (56 - 8 * b));
		}
		rw_buf_put(&c->key, bytes, sizeof(bytes));
	}
	return c->key.failed ? rw_error_set(err, RW_E_NOMEM, -1, "out of memory") : 0;
}

/* The inserted row's UNIQUE keys (from the caller's table info). */
static int unique_keys(const row_change_iter *it, row_change *c, rw_error *err)
{
	const row_table_info *info = it->info;

	c->n_unique = 0;
	for (uint32_t k = 0;
	     info != NULL && k < info->n_unique && c->n_unique < ROW_CHANGE_MAX_UNIQUE; k++) {
		rw_buf *b = &c->unique[c->n_unique];
		char tag[16];
		int usable = info->unique_len[k] > 0, rc;

		for (uint32_t i = 0; i < info->unique_len[k]; i++) {
			uint16_t col = info->unique[k][i];
			if (col >= it->rows.rows->ncols || it->after[col].kind == VALUE_ABSENT ||
			    it->after[col].kind == VALUE_NULL)
				usable = 0;
		}
		if (!usable)
			continue;
		rw_buf_reset(b);
		rw_buf_put(b, it->tm->schema, strlen(it->tm->schema) + 1);
		rw_buf_put(b, it->tm->table, strlen(it->tm->table) + 1);
		snprintf(tag, sizeof(tag), "U%u", k);
		rw_buf_put(b, tag, strlen(tag) + 1);
		rw_buf_reset(&c->unique_json[c->n_unique]);
		rw_buf_put(&c->unique_json[c->n_unique], "{", 1);
		for (uint32_t i = 0; i < info->unique_len[k]; i++) {
			rw_buf *j = &c->unique_json[c->n_unique];
			rc = value_key_encode(&it->after[info->unique[k][i]], b, err);
			if (rc < 0)
				return rc;
			if (it->light)
				continue;
			if (i > 0)
				rw_buf_put(j, ",", 1);
			put_name(it, j, info->unique[k][i]);
			rc = value_to_json(&it->after[info->unique[k][i]], j, err);
			if (rc < 0)
				return rc;
		}
		if (it->light)
			rw_buf_reset(&c->unique_json[c->n_unique]);
		else
			rw_buf_put(&c->unique_json[c->n_unique], "}", 1);
		if (b->failed)
			return rw_error_set(err, RW_E_NOMEM, -1, "out of memory");
		c->n_unique++;
	}
	return 0;
}

static int emit(row_change_iter *it, int op, const value_datum *key_from, row_change *c,
		rw_error *err)
{
	int rc;

	c->op = op;
	c->schema = it->tm->schema;
	c->table = it->tm->table;
	rc = make_key(it, key_from, c, err);
	if (rc < 0)
		return rc;
	rw_buf_reset(&c->key_json);
	if (!it->light && (rc = key_json(it, key_from, c, err)) < 0)
		return rc;
	rw_buf_reset(&c->before);
	rw_buf_reset(&c->after);
	if (op != ROW_CHANGE_INSERT && !it->no_images &&
	    (rc = image_json(it, it->before, &c->before, err)) < 0)
		return rc;
	if (op != ROW_CHANGE_DELETE && !it->no_images && !it->light &&
	    (rc = image_json(it, it->after, &c->after, err)) < 0)
		return rc;
	c->n_unique = 0;
	if (op == ROW_CHANGE_INSERT && (rc = unique_keys(it, c, err)) < 0)
		return rc;
	return 1;
}

/* Whether an update moved the row to another primary key. */
static int key_changed(row_change_iter *it, row_change *c, rw_error *err, int *changed)
{
	rw_buf old = RW_BUF_INIT;
	int rc;

	*changed = 0;
	if (!has_key(it, it->after))
		return 0; /* MINIMAL after image without the key: the key stayed */
	rc = make_key(it, it->before, c, err);
	if (rc < 0)
		return rc;
	rw_buf_put(&old, c->key.p, c->key.len);
	rc = make_key(it, it->after, c, err);
	if (rc == 0)
		*changed = old.len != c->key.len || memcmp(old.p, c->key.p, old.len) != 0;
	rw_buf_free(&old);
	return rc;
}

int row_change_next(row_change_iter *it, row_change *out, rw_error *err)
{
	int rc, changed;

	if (it->pending_insert) {
		it->pending_insert = 0;
		return emit(it, ROW_CHANGE_INSERT, it->after, out, err);
	}
	rc = row_iter_next(&it->rows, it->before, it->after, err);
	if (rc <= 0)
		return rc;
	switch (it->rows.rows->kind) {
	case BINLOG_ROWS_WRITE:
		return emit(it, ROW_CHANGE_INSERT, it->after, out, err);
	case BINLOG_ROWS_DELETE:
		return emit(it, ROW_CHANGE_DELETE, it->before, out, err);
	default:
		if (it->tm->has_pk || (it->info != NULL && it->info->n_pk > 0)) {
			rc = key_changed(it, out, err, &changed);
			if (rc < 0)
				return rc;
			if (changed) {
				it->pending_insert = 1;
				return emit(it, ROW_CHANGE_DELETE, it->before, out, err);
			}
		}
		return emit(it, ROW_CHANGE_UPDATE, it->before, out, err);
	}
}

int row_change_skip(row_change_iter *it, rw_error *err)
{
	if (it->pending_insert) {
		it->pending_insert = 0;
		return 1;
	}
	return row_iter_next(&it->rows, it->before, it->after, err);
}
