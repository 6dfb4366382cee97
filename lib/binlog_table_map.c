/*
 * binlog_table_map.c - decoding TABLE_MAP events and their optional metadata.
 */
#include "ringwatch/binlog_table_map.h"

#include "rw_bytes.h"

#include <stdlib.h>
#include <string.h>

/* Optional metadata field types (MySQL 8 / MariaDB 10.5 binlog_row_metadata). */
enum {
	TM_SIGNEDNESS = 1,
	TM_DEFAULT_CHARSET = 2,
	TM_COLUMN_CHARSET = 3,
	TM_COLUMN_NAME = 4,
	TM_SET_STR_VALUE = 5,
	TM_ENUM_STR_VALUE = 6,
	TM_GEOMETRY_TYPE = 7,
	TM_SIMPLE_PRIMARY_KEY = 8,
	TM_PRIMARY_KEY_WITH_PREFIX = 9,
	TM_ENUM_AND_SET_DEFAULT_CHARSET = 10,
	TM_ENUM_AND_SET_COLUMN_CHARSET = 11,
	TM_COLUMN_VISIBILITY = 12,
};

/* Owned storage a table map's strings are copied into. */
typedef struct tm_arena {
	uint8_t *body; /* room for a copy of the event body */
	char *chars;
	size_t chars_len, chars_cap;
	const char **ptrs;
	size_t ptrs_len, ptrs_cap;
} tm_arena;

int binlog_column_type_is_numeric(unsigned type)
{
	switch (type) {
	case BINLOG_TYPE_TINY:
	case BINLOG_TYPE_SHORT:
	case BINLOG_TYPE_INT24:
	case BINLOG_TYPE_LONG:
	case BINLOG_TYPE_LONGLONG:
	case BINLOG_TYPE_FLOAT:
	case BINLOG_TYPE_DOUBLE:
	case BINLOG_TYPE_NEWDECIMAL:
	case BINLOG_TYPE_DECIMAL:
		return 1;
	}
	return 0;
}

static int column_is_character(const binlog_column *c)
{
	switch (c->real_type) {
	case BINLOG_TYPE_STRING:
	case BINLOG_TYPE_VAR_STRING:
	case BINLOG_TYPE_VARCHAR:
	case BINLOG_TYPE_BLOB:
	case BINLOG_TYPE_TINY_BLOB:
	case BINLOG_TYPE_MEDIUM_BLOB:
	case BINLOG_TYPE_LONG_BLOB:
		return 1;
	}
	return 0;
}

static int column_is_enum_or_set(const binlog_column *c)
{
	return c->real_type == BINLOG_TYPE_ENUM || c->real_type == BINLOG_TYPE_SET;
}

static unsigned column_meta_size(unsigned type)
{
	switch (type) {
	case BINLOG_TYPE_FLOAT:
	case BINLOG_TYPE_DOUBLE:
	case BINLOG_TYPE_BLOB:
	case BINLOG_TYPE_TINY_BLOB:
	case BINLOG_TYPE_MEDIUM_BLOB:
	case BINLOG_TYPE_LONG_BLOB:
	case BINLOG_TYPE_GEOMETRY:
	case BINLOG_TYPE_JSON:
	case BINLOG_TYPE_VECTOR:
	case BINLOG_TYPE_BLOB_COMPRESSED:
	case BINLOG_TYPE_TIMESTAMP2:
	case BINLOG_TYPE_DATETIME2:
	case BINLOG_TYPE_TIME2:
		return 1;
	case BINLOG_TYPE_VARCHAR:
	case BINLOG_TYPE_VARCHAR_COMPRESSED:
	case BINLOG_TYPE_VAR_STRING:
	case BINLOG_TYPE_STRING:
	case BINLOG_TYPE_NEWDECIMAL:
	case BINLOG_TYPE_BIT:
	case BINLOG_TYPE_ENUM:
	case BINLOG_TYPE_SET:
		return 2;
	}
	return 0;
}

/* STRING/VAR_STRING/ENUM/SET metadata: real type and length, CHAR > 255 bytes included. */
static void column_string_meta(binlog_column *c, uint8_t b0, uint8_t b1)
{
	unsigned real = b0, length = b1;

	if ((b0 & 0x30) != 0x30) {
		/* CHAR over 255 bytes: two high length bits are stored, inverted, in b0 */
		length = b1 | (((unsigned)(b0 & 0x30) ^ 0x30) << 4);
		real = b0 | 0x30;
	}
	if (real == BINLOG_TYPE_ENUM || real == BINLOG_TYPE_SET) {
		c->real_type = (uint8_t)real;
		c->meta = b1; /* pack length */
		return;
	}
	c->real_type = BINLOG_TYPE_STRING;
	c->meta = (uint16_t)length;
}

static int column_meta_decode(binlog_column *c, rw_cur *cur, rw_error *err)
{
	const uint8_t *m;
	unsigned n = column_meta_size(c->type);
	int rc = rw_cur_bytes(cur, n, &m, err);

	if (rc < 0)
		return rc;
	c->real_type = c->type;
	switch (c->type) {
	case BINLOG_TYPE_VARCHAR:
	case BINLOG_TYPE_VARCHAR_COMPRESSED:
		c->meta = (uint16_t)rw_le(m, 2);
		break;
	case BINLOG_TYPE_VAR_STRING:
	case BINLOG_TYPE_STRING:
	case BINLOG_TYPE_ENUM:
	case BINLOG_TYPE_SET:
		column_string_meta(c, m[0], m[1]);
		break;
	case BINLOG_TYPE_NEWDECIMAL:
	case BINLOG_TYPE_BIT:
		if (c->type == BINLOG_TYPE_NEWDECIMAL)
			c->meta = (uint16_t)((m[0] << 8) | m[1]);
		else
			c->meta = (uint16_t)((m[1] << 8) | m[0]);
		break;
	default:
		c->meta = n == 1 ? m[0] : 0;
	}
	return 0;
}

static char *arena_str(tm_arena *a, const uint8_t *p, size_t n)
{
	char *s = a->chars + a->chars_len;

	/* capacity was sized for every byte of the body plus one NUL per string */
	if (n + 1 > a->chars_cap - a->chars_len)
		return NULL;
	memcpy(s, p, n);
	s[n] = '\0';
	a->chars_len += n + 1;
	return s;
}

static int read_lenenc_str(rw_cur *cur, tm_arena *a, const char **out, rw_error *err)
{
	uint64_t n;
	const uint8_t *p = NULL;
	int rc = rw_cur_lenenc(cur, &n, err);

	if (rc == 0 && n > rw_cur_left(cur))
		return rw_error_set(err, RW_E_TRUNCATED, rw_cur_off(cur),
				    "TABLE_MAP: string of %llu bytes, only %zu left",
				    (unsigned long long)n, rw_cur_left(cur));
	if (rc == 0)
		rc = rw_cur_bytes(cur, (size_t)n, &p, err);
	if (rc < 0)
		return rc;
	*out = arena_str(a, p, (size_t)n);
	if (*out == NULL)
		return rw_error_set(err, RW_E_INVALID, rw_cur_off(cur),
				    "TABLE_MAP: strings overflow");
	return 0;
}

/* Bitmap over the columns for which pick() holds, most significant bit first. */
static void apply_bitmap(binlog_table_map *tm, const uint8_t *bits, size_t nbytes,
			 int (*pick)(const binlog_column *), int which)
{
	size_t k = 0;

	for (uint32_t i = 0; i < tm->ncols; i++) {
		binlog_column *c = &tm->cols[i];
		int set;

		if (pick != NULL && !pick(c))
			continue;
		if (k / 8 >= nbytes)
			return;
		set = (bits[k / 8] >> (7 - k % 8)) & 1;
		k++;
		if (which == TM_SIGNEDNESS)
			c->is_unsigned = (uint8_t)set;
		else
			c->visible = (uint8_t)set;
	}
}

static int pick_numeric(const binlog_column *c)
{
	return binlog_column_type_is_numeric(c->type);
}

static binlog_column *nth_column(binlog_table_map *tm, int (*pick)(const binlog_column *),
				 uint64_t n)
{
	for (uint32_t i = 0; i < tm->ncols; i++) {
		if (!pick(&tm->cols[i]))
			continue;
		if (n-- == 0)
			return &tm->cols[i];
	}
	return NULL;
}

/* DEFAULT_CHARSET: a default, then (index among the picked columns, collation) pairs. */
static int tm_default_charset(binlog_table_map *tm, rw_cur *cur, int (*pick)(const binlog_column *),
			      rw_error *err)
{
	uint64_t def, idx, cs;
	int rc = rw_cur_lenenc(cur, &def, err);

	for (uint32_t i = 0; rc == 0 && i < tm->ncols; i++)
		if (pick(&tm->cols[i]))
			tm->cols[i].charset = (uint16_t)def;
	while (rc == 0 && rw_cur_left(cur) > 0) {
		binlog_column *c;

		rc = rw_cur_lenenc(cur, &idx, err);
		if (rc == 0)
			rc = rw_cur_lenenc(cur, &cs, err);
		if (rc == 0 && (c = nth_column(tm, pick, idx)) != NULL)
			c->charset = (uint16_t)cs;
	}
	return rc;
}

static int tm_column_charset(binlog_table_map *tm, rw_cur *cur, int (*pick)(const binlog_column *),
			     rw_error *err)
{
	uint64_t cs;
	int rc = 0;

	for (uint32_t i = 0; rc == 0 && i < tm->ncols && rw_cur_left(cur) > 0; i++) {
		if (!pick(&tm->cols[i]))
			continue;
		rc = rw_cur_lenenc(cur, &cs, err);
		if (rc == 0)
			tm->cols[i].charset = (uint16_t)cs;
	}
	return rc;
}

static int tm_column_names(binlog_table_map *tm, rw_cur *cur, tm_arena *a, rw_error *err)
{
	int rc = 0;

	for (uint32_t i = 0; rc == 0 && i < tm->ncols && rw_cur_left(cur) > 0; i++)
		rc = read_lenenc_str(cur, a, &tm->cols[i].name, err);
	if (rc == 0)
		tm->has_names = 1;
	return rc;
}

static int tm_str_values(binlog_table_map *tm, rw_cur *cur, tm_arena *a, unsigned real,
			 rw_error *err)
{
	int rc = 0;

	for (uint32_t i = 0; rc == 0 && i < tm->ncols && rw_cur_left(cur) > 0; i++) {
		binlog_column *c = &tm->cols[i];
		uint64_t n;

		if (c->real_type != real)
			continue;
		rc = rw_cur_lenenc(cur, &n, err);
		if (rc == 0 && (n > rw_cur_left(cur) || n > a->ptrs_cap - a->ptrs_len))
			rc = rw_error_set(err, RW_E_INVALID, rw_cur_off(cur),
					  "TABLE_MAP: %llu ENUM/SET members in %zu bytes",
					  (unsigned long long)n, rw_cur_left(cur));
		if (rc < 0)
			break;
		c->strs = a->ptrs + a->ptrs_len;
		c->n_strs = (uint32_t)n;
		a->ptrs_len += n;
		for (uint64_t k = 0; rc == 0 && k < n; k++)
			rc = read_lenenc_str(cur, a, &a->ptrs[a->ptrs_len - n + k], err);
	}
	return rc;
}

static int tm_geometry(binlog_table_map *tm, rw_cur *cur, rw_error *err)
{
	int rc = 0;

	for (uint32_t i = 0; rc == 0 && i < tm->ncols && rw_cur_left(cur) > 0; i++) {
		uint64_t g;

		if (tm->cols[i].type != BINLOG_TYPE_GEOMETRY)
			continue;
		rc = rw_cur_lenenc(cur, &g, err);
		if (rc == 0)
			tm->cols[i].geometry_type = (uint32_t)g;
	}
	return rc;
}

static int tm_primary_key(binlog_table_map *tm, rw_cur *cur, int with_prefix, rw_error *err)
{
	int rc = 0;

	while (rc == 0 && rw_cur_left(cur) > 0) {
		uint64_t idx, prefix = 0;
		int64_t at = rw_cur_off(cur);

		rc = rw_cur_lenenc(cur, &idx, err);
		if (rc == 0 && with_prefix)
			rc = rw_cur_lenenc(cur, &prefix, err);
		if (rc < 0)
			break;
		if (idx >= tm->ncols || tm->cols[idx].in_pk || tm->n_pk >= tm->ncols)
			return rw_error_set(err, RW_E_INVALID, at,
					    "TABLE_MAP: bad primary key column %llu",
					    (unsigned long long)idx);
		tm->cols[idx].in_pk = 1;
		tm->cols[idx].pk_prefix = (uint16_t)prefix;
		tm->pk[tm->n_pk++] = (uint16_t)idx;
	}
	if (rc == 0)
		tm->has_pk = 1;
	return rc;
}

static int tm_optional_field(binlog_table_map *tm, unsigned type, rw_cur *f, tm_arena *a,
			     rw_error *err)
{
	switch (type) {
	case TM_SIGNEDNESS:
		tm->has_signedness = 1;
		apply_bitmap(tm, rw_cur_ptr(f), rw_cur_left(f), pick_numeric, TM_SIGNEDNESS);
		return 0;
	case TM_DEFAULT_CHARSET:
		tm->has_charsets = 1;
		return tm_default_charset(tm, f, column_is_character, err);
	case TM_COLUMN_CHARSET:
		tm->has_charsets = 1;
		return tm_column_charset(tm, f, column_is_character, err);
	case TM_ENUM_AND_SET_DEFAULT_CHARSET:
		return tm_default_charset(tm, f, column_is_enum_or_set, err);
	case TM_ENUM_AND_SET_COLUMN_CHARSET:
		return tm_column_charset(tm, f, column_is_enum_or_set, err);
	case TM_COLUMN_NAME:
		return tm_column_names(tm, f, a, err);
	case TM_SET_STR_VALUE:
		return tm_str_values(tm, f, a, BINLOG_TYPE_SET, err);
	case TM_ENUM_STR_VALUE:
		return tm_str_values(tm, f, a, BINLOG_TYPE_ENUM, err);
	case TM_GEOMETRY_TYPE:
		return tm_geometry(tm, f, err);
	case TM_SIMPLE_PRIMARY_KEY:
	case TM_PRIMARY_KEY_WITH_PREFIX:
		if (tm->has_pk)
			return 0;
		return tm_primary_key(tm, f, type == TM_PRIMARY_KEY_WITH_PREFIX, err);
	case TM_COLUMN_VISIBILITY:
		apply_bitmap(tm, rw_cur_ptr(f), rw_cur_left(f), NULL, TM_COLUMN_VISIBILITY);
		return 0;
	}
	return 0; /* a newer field: skipped, its length is known */
}

/* The optional metadata: (type byte, lenenc length, value) until the end. */
static int tm_optional(binlog_table_map *tm, rw_cur *cur, tm_arena *a, rw_error *err)
{
	while (rw_cur_left(cur) > 0) {
		uint8_t type;
		uint64_t n;
		const uint8_t *p = NULL;
		rw_cur f;
		int rc = rw_cur_u8(cur, &type, err);

		if (rc == 0)
			rc = rw_cur_lenenc(cur, &n, err);
		if (rc == 0 && n > rw_cur_left(cur))
			rc = rw_error_set(err, RW_E_TRUNCATED, rw_cur_off(cur),
					  "TABLE_MAP: metadata field %u of %llu bytes, %zu left",
					  type, (unsigned long long)n, rw_cur_left(cur));
		if (rc == 0) {
			int64_t at = rw_cur_off(cur);

			rc = rw_cur_bytes(cur, (size_t)n, &p, err);
			rw_cur_init(&f, p, (size_t)n, at, "TABLE_MAP metadata");
		}
		if (rc == 0)
			rc = tm_optional_field(tm, type, &f, a, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static binlog_table_map *tm_alloc(uint32_t ncols, size_t body_len, tm_arena *a)
{
	size_t sz = sizeof(binlog_table_map) + ncols * sizeof(binlog_column) +
		    ncols * sizeof(uint16_t) + (body_len + 1) * sizeof(char *) + 3 * body_len + 16;
	binlog_table_map *tm = calloc(1, sz);
	uint8_t *p = (uint8_t *)tm;

	if (tm == NULL)
		return NULL;
	p += sizeof(*tm);
	tm->cols = (binlog_column *)(void *)p;
	p += ncols * sizeof(binlog_column);
	a->ptrs = (const char **)(void *)p;
	a->ptrs_cap = body_len + 1;
	a->ptrs_len = 0;
	p += (body_len + 1) * sizeof(char *);
	tm->pk = (uint16_t *)(void *)p;
	p += ncols * sizeof(uint16_t);
	a->chars = (char *)p;
	a->chars_cap = 2 * body_len + 16;
	a->chars_len = 0;
	p += a->chars_cap;
	a->body = p; /* the event body, for binlog_table_map_dup() */
	tm->ncols = ncols;
	return tm;
}

typedef struct tm_head {
	uint64_t table_id;
	uint16_t flags;
	const uint8_t *schema, *table;
	uint8_t schema_len, table_len;
	uint64_t ncols;
	const uint8_t *types;
} tm_head;

static int tm_name(rw_cur *cur, const uint8_t **p, uint8_t *n, rw_error *err)
{
	int rc = rw_cur_u8(cur, n, err);

	if (rc == 0)
		rc = rw_cur_bytes(cur, *n, p, err);
	if (rc == 0)
		rc = rw_cur_skip(cur, 1, err); /* NUL */
	return rc;
}

static int tm_head_decode(rw_cur *cur, unsigned post_header_len, tm_head *h, rw_error *err)
{
	int rc = rw_cur_uint(cur, post_header_len == 6 ? 4 : 6, &h->table_id, err);

	if (rc == 0)
		rc = rw_cur_u16(cur, &h->flags, err);
	if (rc == 0 && post_header_len > 8)
		rc = rw_cur_skip(cur, post_header_len - 8, err);
	if (rc == 0)
		rc = tm_name(cur, &h->schema, &h->schema_len, err);
	if (rc == 0)
		rc = tm_name(cur, &h->table, &h->table_len, err);
	if (rc == 0)
		rc = rw_cur_lenenc(cur, &h->ncols, err);
	if (rc == 0 && (h->ncols == 0 || h->ncols > BINLOG_MAX_COLUMNS))
		rc = rw_error_set(err, RW_E_INVALID, rw_cur_off(cur),
				  "TABLE_MAP: %llu columns (1 to %d allowed)",
				  (unsigned long long)h->ncols, BINLOG_MAX_COLUMNS);
	if (rc == 0)
		rc = rw_cur_bytes(cur, (size_t)h->ncols, &h->types, err);
	return rc;
}

static int tm_columns(binlog_table_map *tm, const tm_head *h, rw_cur *cur, rw_error *err)
{
	uint64_t meta_len;
	const uint8_t *meta = NULL, *nulls = NULL;
	rw_cur m;
	int64_t at;
	int rc = rw_cur_lenenc(cur, &meta_len, err);

	if (rc == 0 && meta_len > rw_cur_left(cur))
		rc = rw_error_set(err, RW_E_TRUNCATED, rw_cur_off(cur),
				  "TABLE_MAP: metadata of %llu bytes, %zu left",
				  (unsigned long long)meta_len, rw_cur_left(cur));
	at = rw_cur_off(cur);
	if (rc == 0)
		rc = rw_cur_bytes(cur, (size_t)meta_len, &meta, err);
	if (rc < 0)
		return rc;
	rw_cur_init(&m, meta, (size_t)meta_len, at, "TABLE_MAP column metadata");
	for (uint32_t i = 0; i < tm->ncols; i++) {
		tm->cols[i].type = h->types[i];
		tm->cols[i].visible = 1;
		rc = column_meta_decode(&tm->cols[i], &m, err);
		if (rc < 0)
			return rc;
	}
	rc = rw_cur_bytes(cur, (tm->ncols + 7) / 8, &nulls, err);
	for (uint32_t i = 0; rc == 0 && i < tm->ncols; i++)
		tm->cols[i].nullable = (nulls[i / 8] >> (i % 8)) & 1;
	return rc;
}

int binlog_table_map_decode(const uint8_t *body, size_t len, unsigned post_header_len, int64_t pos,
			    binlog_table_map **out, rw_error *err)
{
	rw_cur cur;
	tm_head h;
	tm_arena a;
	binlog_table_map *tm;
	int rc;

	rw_cur_init(&cur, body, len, pos, "TABLE_MAP");
	rc = tm_head_decode(&cur, post_header_len, &h, err);
	if (rc < 0)
		return rc;
	tm = tm_alloc((uint32_t)h.ncols, len, &a);
	if (tm == NULL)
		return rw_error_set(err, RW_E_NOMEM, pos, "TABLE_MAP: out of memory");
	memcpy(a.body, body, len);
	tm->body = a.body;
	tm->body_len = len;
	tm->body_pos = pos;
	tm->post_header_len = (uint8_t)post_header_len;
	tm->table_id = h.table_id;
	tm->flags = h.flags;
	tm->schema = arena_str(&a, h.schema, h.schema_len);
	tm->table = arena_str(&a, h.table, h.table_len);
	rc = tm_columns(tm, &h, &cur, err);
	if (rc == 0)
		rc = tm_optional(tm, &cur, &a, err);
	if (rc < 0) {
		free(tm);
		return rc;
	}
	*out = tm;
	return 0;
}

void binlog_table_map_free(binlog_table_map *tm)
{
	free(tm);
}

int binlog_table_map_dup(const binlog_table_map *tm, binlog_table_map **out, rw_error *err)
{
	return binlog_table_map_decode(tm->body, tm->body_len, tm->post_header_len, tm->body_pos,
				       out, err);
}

const char *binlog_column_type_name(unsigned type)
{
	static const char *const names[256] = {
		[BINLOG_TYPE_DECIMAL] = "DECIMAL",
		[BINLOG_TYPE_TINY] = "TINY",
		[BINLOG_TYPE_SHORT] = "SHORT",
		[BINLOG_TYPE_LONG] = "LONG",
		[BINLOG_TYPE_FLOAT] = "FLOAT",
		[BINLOG_TYPE_DOUBLE] = "DOUBLE",
		[BINLOG_TYPE_NULL] = "NULL",
		[BINLOG_TYPE_TIMESTAMP] = "TIMESTAMP",
		[BINLOG_TYPE_LONGLONG] = "LONGLONG",
		[BINLOG_TYPE_INT24] = "INT24",
		[BINLOG_TYPE_DATE] = "DATE",
		[BINLOG_TYPE_TIME] = "TIME",
		[BINLOG_TYPE_DATETIME] = "DATETIME",
		[BINLOG_TYPE_YEAR] = "YEAR",
		[BINLOG_TYPE_NEWDATE] = "NEWDATE",
		[BINLOG_TYPE_VARCHAR] = "VARCHAR",
		[BINLOG_TYPE_BIT] = "BIT",
		[BINLOG_TYPE_TIMESTAMP2] = "TIMESTAMP2",
		[BINLOG_TYPE_DATETIME2] = "DATETIME2",
		[BINLOG_TYPE_TIME2] = "TIME2",
		[BINLOG_TYPE_BLOB_COMPRESSED] = "BLOB_COMPRESSED",
		[BINLOG_TYPE_VARCHAR_COMPRESSED] = "VARCHAR_COMPRESSED",
		[BINLOG_TYPE_VECTOR] = "VECTOR",
		[BINLOG_TYPE_BOOL] = "BOOL",
		[BINLOG_TYPE_JSON] = "JSON",
		[BINLOG_TYPE_NEWDECIMAL] = "NEWDECIMAL",
		[BINLOG_TYPE_ENUM] = "ENUM",
		[BINLOG_TYPE_SET] = "SET",
		[BINLOG_TYPE_TINY_BLOB] = "TINY_BLOB",
		[BINLOG_TYPE_MEDIUM_BLOB] = "MEDIUM_BLOB",
		[BINLOG_TYPE_LONG_BLOB] = "LONG_BLOB",
		[BINLOG_TYPE_BLOB] = "BLOB",
		[BINLOG_TYPE_VAR_STRING] = "VAR_STRING",
		[BINLOG_TYPE_STRING] = "STRING",
		[BINLOG_TYPE_GEOMETRY] = "GEOMETRY",
	};

	return type < 256 ? names[type] : NULL;
}
