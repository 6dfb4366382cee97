/*
 * conflict_feed.c - binlog events into conflict-engine transactions.
 */
#include "ringwatch/conflict_feed.h"

#include "ringwatch/ddl.h"
#include "ringwatch/schema_history.h"

#include "ringwatch/binlog_trx.h"
#include "ringwatch/row_batch.h"
#include "ringwatch/row_change.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* ---- the key cache ------------------------------------------------------------ */

/* A key's JSON is kept in its slot when short (most are), else on the heap. */
#define KEY_SLOT_INLINE 48

struct key_slot {
	uint64_t hash;
	char *json; /* small, or a heap copy; NULL: empty */
	char small[KEY_SLOT_INLINE];
};

struct conflict_keys {
	size_t n;
	struct key_slot *slots;
};

conflict_keys *conflict_keys_new(size_t slots)
{
	conflict_keys *k = calloc(1, sizeof(*k));

	if (k == NULL || slots == 0)
		goto fail;
	k->n = 1; /* a power of two, so a slot is a mask away, not a division */
	while (k->n < slots && k->n < ((size_t)1 << 40))
		k->n *= 2;
	k->slots = calloc(k->n, sizeof(*k->slots));
	if (k->slots == NULL)
		goto fail;
	return k;
fail:
	free(k);
	return NULL;
}

void conflict_keys_free(conflict_keys *k)
{
	if (k == NULL)
		return;
	for (size_t i = 0; i < k->n; i++)
		if (k->slots[i].json != k->slots[i].small)
			free(k->slots[i].json);
	free(k->slots);
	free(k);
}

static struct key_slot *keys_slot(conflict_keys *k, uint64_t h)
{
	return &k->slots[h & (k->n - 1)];
}

static void keys_store(conflict_keys *k, uint64_t h, const char *json)
{
	struct key_slot *s = keys_slot(k, h);
	size_t n;

	if (s->json != NULL && s->hash == h)
		return;
	if (s->json != s->small)
		free(s->json);
	s->hash = h;
	n = strlen(json);
	if (n < KEY_SLOT_INLINE) { /* no allocation, nothing to free later */
		memcpy(s->small, json, n + 1);
		s->json = s->small;
	} else {
		s->json = strdup(json);
	}
}

const char *conflict_keys_json(const conflict_keys *k, const uint8_t *key, size_t len)
{
	uint64_t h = XXH3_64bits(key, len);
	const struct key_slot *s = &k->slots[h & (k->n - 1)];

	return s->json != NULL && s->hash == h ? s->json : NULL;
}

/* ---- the feed --------------------------------------------------------------------- */

/*
 * A gathered row change: its bytes in the feed's arena from at: the key,
 * then each unique key as a u32 length and its bytes.  Its before and after
 * images are in the feed's images, after those of the rows before it (so
 * that they can go at once when the transaction passes max_image_bytes).
 * Its schema and table are those of tables[table] (one entry per rows
 * event's table, not a copy per row).
 */
#define GATHERED_NONE UINT32_MAX /* no such image */

struct gathered {
	size_t at;
	uint32_t key_len, before_len, after_len;
	uint32_t table;
	uint8_t op, n_unique;
};

struct gathered_table {
	size_t at; /* schema, then table, in the arena */
	uint32_t schema_len, table_len;
};

struct conflict_feed {
	conflict_engine *e;
	unsigned master;
	conflict_origin_fn origin;
	void *origin_arg;
	schema_db *schema;      /* the shapes as of pos (schema_history.h) */
	uint64_t schema_pos;    /* DDL at or before it is in schema already */
	conflict_stream_pos at; /* the file and the end of the last event read */
	ddl_options ddl;        /* from the FORMAT_DESCRIPTION */
	int sequence;           /* the rows event's table is a sequence (key_source) */
	conflict_schema_hooks hooks;
	conflict_feed_row_fn row_fn; /* conflict_feed_set_row_hook() */
	void *row_arg;
	char why[400];
	conflict_keys *keys;
	/*
	 * The keys of a rows event, stored in the key cache at its end: the
	 * cache's slots are fetched from memory together first (one by one,
	 * each row waited for its own).
	 */
	struct pending_key {
		uint64_t hash;
		size_t json; /* offset in key_json */
	} * pend;
	size_t n_pend, cap_pend;
	rw_buf key_json;

	binlog_trx trx;
	uint64_t begin_pos; /* where the open transaction started */
	rw_buf arena;       /* bytes of the gathered rows but their images */
	rw_buf images;      /* their images, in row order (freed at no_images) */
	/*
	 * Without a GTID: a hash of the gathered bytes, in the order they were
	 * gathered (key, images, unique keys), for the fallback identity.
	 */
	XXH3_state_t *hash;
	int hash_started, hashing;
	/*
	 * The gathered rows; at the end of the transaction the same memory
	 * holds their conflict rows (build_rows()), so the two never take
	 * room at once.
	 */
	struct gathered *rows;
	size_t n_rows, cap_rows;
	struct gathered_table *tables; /* of the open transaction's rows events */
	size_t n_tables, cap_tables;
	conflict_bytes *uniques; /* the rows' unique keys */
	size_t cap_uniques;
	/*
	 * The open transaction's bounds (conflict_feed_set_bounds()): past
	 * max_rows row changes it is not gathered (dropped counts them), past
	 * max_image_bytes of images it keeps none (no_images).
	 */
	size_t max_rows, max_image_bytes;
	size_t image_bytes;
	uint64_t dropped;
	int no_images;
	int stub;  /* the engine follows it as a stub already: nothing to gather */
	int light; /* a copy the engine has the origin's images of (conflict_engine_known) */
	uint64_t rows_hash; /* without a GTID: of every rows event's row images, for the identity */
	int decided;        /* stub and light were decided, at the transaction's first rows event */
	value_datum *count_vals; /* count_rows(): 2 x cap_count values */
	uint32_t cap_count;
	row_change change;
	row_change view; /* a batch's change (row_batch.h): views, owns nothing */
	/* the shapes' tag (conflict_feed_shape_tag()): one more at each replacement or
	 * change of schema, whose generation it last saw */
	uint64_t shape_tag, schema_gen;
	conflict_feed_stats stats;
	int fed_any;
	uint64_t last_pos; /* of the last transaction fed */
	/* conflict_feed_gap(): waiting for the event that says what the purged binlogs held;
	 * what it said, for the engine's covered() (one of the two) */
	int gap_wait;
	uint8_t *gap_entries; /* MariaDB: count * (domain, server, seq), 16 bytes each */
	uint32_t gap_count;
	char *gap_set; /* MySQL: the GTID set as text, "uuid:1-5:7,uuid:..." */
};

uint64_t conflict_feed_position(const char *file, uint64_t offset)
{
	const char *dot = strrchr(file, '.');
	uint64_t seq = 0;

	if (dot != NULL) {
		for (const char *p = dot + 1; *p >= '0' && *p <= '9'; p++)
			seq = seq * 10 + (uint64_t)(*p - '0');
	}
	return (seq & 0xffffff) << 40 | (offset & (((uint64_t)1 << 40) - 1));
}

int conflict_feed_file_of(uint64_t pos, const char *pattern, char *file, size_t len,
			  uint64_t *offset)
{
	const char *dot = strrchr(pattern, '.');
	size_t width;
	int n;

	if (dot == NULL || dot[1] < '0' || dot[1] > '9')
		return -1;
	width = strspn(dot + 1, "0123456789");
	n = snprintf(file, len, "%.*s%0*llu", (int)(dot + 1 - pattern), pattern, (int)width,
		     (unsigned long long)(pos >> 40));
	if (n < 0 || (size_t)n >= len)
		return -1;
	*offset = pos & (((uint64_t)1 << 40) - 1);
	return 0;
}

const char *conflict_feed_file(const conflict_feed *f)
{
	return f->at.file;
}

conflict_feed *conflict_feed_new(conflict_engine *e, unsigned master, conflict_origin_fn origin,
				 void *arg, conflict_keys *keys)
{
	conflict_feed *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->e = e;
	f->master = master;
	f->origin = origin;
	f->origin_arg = arg;
	f->keys = keys;
	f->schema = schema_db_new();
	if (f->schema == NULL) {
		free(f);
		return NULL;
	}
	binlog_trx_init(&f->trx);
	row_change_init(&f->change);
	f->shape_tag = 1;
	f->schema_gen = schema_db_generation(f->schema);
	conflict_feed_set_bounds(f, 0, 0);
	return f;
}

void conflict_feed_set_bounds(conflict_feed *f, size_t max_rows, size_t max_image_bytes)
{
	conflict_stats st;

	conflict_engine_stats(f->e, &st);
	f->max_rows = max_rows != 0 ? max_rows : CONFLICT_FEED_MAX_ROWS;
	/* a quarter of an image ring: one transaction does not push out the images of
	 * all others */
	f->max_image_bytes = max_image_bytes != 0
				 ? max_image_bytes
				 : st.ring_bytes / conflict_engine_masters(f->e) / 4;
}

void conflict_feed_free(conflict_feed *f)
{
	if (f == NULL)
		return;
	rw_buf_free(&f->arena);
	rw_buf_free(&f->images);
	XXH3_freeState(f->hash);
	rw_buf_free(&f->key_json);
	free(f->pend);
	free(f->rows);
	free(f->tables);
	free(f->count_vals);
	free(f->uniques);
	row_change_free(&f->change);
	schema_db_free(f->schema);
	free(f->gap_entries);
	free(f->gap_set);
	free(f);
}

schema_db *conflict_feed_schema(conflict_feed *f)
{
	return f->schema;
}

void conflict_feed_schema_replace(conflict_feed *f, schema_db *db, uint64_t pos)
{
	schema_db_free(f->schema);
	f->schema = db;
	f->schema_pos = pos;
	f->shape_tag++;
	f->schema_gen = schema_db_generation(db);
}

uint64_t conflict_feed_shape_tag(conflict_feed *f)
{
	uint64_t g = schema_db_generation(f->schema);

	if (g != f->schema_gen) {
		f->schema_gen = g;
		f->shape_tag++;
	}
	return f->shape_tag;
}

uint64_t conflict_feed_schema_pos(const conflict_feed *f)
{
	return f->schema_pos;
}

uint64_t conflict_feed_pos(const conflict_feed *f)
{
	return f->at.pos;
}

void conflict_feed_set_schema_hooks(conflict_feed *f, const conflict_schema_hooks *h)
{
	f->hooks = *h;
}

void conflict_feed_set_row_hook(conflict_feed *f, conflict_feed_row_fn fn, void *arg)
{
	f->row_fn = fn;
	f->row_arg = arg;
}

static void row_seen(const conflict_feed *f, const uint8_t *key, size_t len, int table_only)
{
	uint64_t trx = f->trx.gtid[0] != '\0' ? XXH3_64bits(f->trx.gtid, strlen(f->trx.gtid)) : 0;

	f->row_fn(f->row_arg, f->master, trx, f->begin_pos, key, len, table_only);
}

/* Rows of tm's table that were not keyed; of any table without tm. */
static void row_unkeyed(const conflict_feed *f, const binlog_table_map *tm)
{
	char key[2 * SCHEMA_NAME_MAX + 2];
	size_t s, t;

	if (f->row_fn == NULL)
		return;
	if (tm == NULL) {
		row_seen(f, NULL, 0, 0);
		return;
	}
	s = strlen(tm->schema);
	t = strlen(tm->table);
	if (s + t + 2 > sizeof(key)) {
		row_seen(f, NULL, 0, 0);
		return;
	}
	memcpy(key, tm->schema, s + 1);
	memcpy(key + s + 1, tm->table, t + 1);
	row_seen(f, (const uint8_t *)key, s + t + 2, 1);
}

void conflict_feed_set_file(conflict_feed *f, const char *file)
{
	snprintf(f->at.file, sizeof(f->at.file), "%s", file);
}

/* Buffers larger than this are given back after a transaction that needed them. */
#define KEEP_BYTES ((size_t)4 << 20)

/*
 * The gathered rows and their bytes go; large buffers are given back (also
 * when a transaction stops being gathered: the rest of it is only counted).
 */
static void forget_rows(conflict_feed *f)
{
	f->n_rows = 0;
	f->n_tables = 0;
	if (f->arena.cap > KEEP_BYTES)
		rw_buf_free(&f->arena);
	rw_buf_reset(&f->arena);
	if (f->images.cap > KEEP_BYTES)
		rw_buf_free(&f->images);
	rw_buf_reset(&f->images);
	f->hash_started = 0;
	if (f->cap_rows * sizeof(*f->rows) > KEEP_BYTES) {
		free(f->rows);
		f->rows = NULL;
		f->cap_rows = 0;
	}
}

static void clear_rows(conflict_feed *f)
{
	forget_rows(f);
	if (f->cap_uniques * sizeof(*f->uniques) > KEEP_BYTES) {
		free(f->uniques);
		f->uniques = NULL;
		f->cap_uniques = 0;
	}
	f->image_bytes = 0;
	f->dropped = 0;
	f->no_images = 0;
	f->stub = 0;
	f->light = 0;
	f->decided = 0;
	f->rows_hash = 0;
}

/* ---- gaps ------------------------------------------------------------------------ */

void conflict_feed_gap(conflict_feed *f)
{
	f->gap_wait = 1;
}

/* n from "...-n" or "...:n" at the end of s[0..len); 0 when there is none. */
static int tail_number(const char *s, size_t len, size_t *start, uint64_t *n)
{
	size_t i = len;

	while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9')
		i--;
	if (i == len || len - i > 19)
		return -1;
	*n = strtoull(s + i, NULL, 10);
	*start = i;
	return 0;
}

/* MariaDB: "domain-server-seq" is covered when the list's (domain, server) is at seq or later. */
static bool covered_mariadb(const conflict_feed *f, const char *id, size_t len)
{
	uint64_t seq;
	unsigned long domain, server;
	size_t at;
	char head[48];

	if (tail_number(id, len, &at, &seq) != 0 || at < 2 || id[at - 1] != '-' ||
	    at > sizeof(head))
		return false;
	memcpy(head, id, at - 1);
	head[at - 1] = '\0';
	if (sscanf(head, "%lu-%lu", &domain, &server) != 2)
		return false;
	for (uint32_t i = 0; i < f->gap_count; i++) {
		const uint8_t *e = f->gap_entries + 16 * (size_t)i;
		uint32_t d = (uint32_t)e[0] | (uint32_t)e[1] << 8 | (uint32_t)e[2] << 16 |
			     (uint32_t)e[3] << 24;
		uint32_t s = (uint32_t)e[4] | (uint32_t)e[5] << 8 | (uint32_t)e[6] << 16 |
			     (uint32_t)e[7] << 24;
		uint64_t q = 0;

		for (int b = 7; b >= 0; b--)
			q = q << 8 | e[8 + b];
		if (d == domain && s == server)
			return seq <= q;
	}
	return false;
}

/* MySQL: "uuid[:tag]:gno" is covered when the set's uuid[:tag] has an interval holding gno. */
static bool covered_mysql(const conflict_feed *f, const char *id, size_t len)
{
	uint64_t gno;
	size_t at;
	const char *p = f->gap_set;

	if (tail_number(id, len, &at, &gno) != 0 || at < 2 || id[at - 1] != ':')
		return false;
	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, ',');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);

		if (n > at && memcmp(p, id, at) == 0) {
			/* its intervals: "a" or "a-b", separated by ':' */
			const char *q = p + at, *stop = p + n;
			while (q < stop) {
				char *rest;
				uint64_t a = strtoull(q, &rest, 10), b = a;
				if (rest == q)
					break; /* a tag: another entry */
				if (*rest == '-')
					b = strtoull(rest + 1, &rest, 10);
				if (gno >= a && gno <= b)
					return true;
				q = *rest == ':' ? rest + 1 : stop;
			}
		}
		p = end != NULL ? end + 1 : NULL;
	}
	return false;
}

static bool feed_covered(const conflict_bytes *identity, void *arg)
{
	const conflict_feed *f = arg;
	const char *id = (const char *)identity->p;

	if (f->gap_entries != NULL)
		return covered_mariadb(f, id, identity->len);
	if (f->gap_set != NULL)
		return covered_mysql(f, id, identity->len);
	return false;
}

/* ev says what the binlog held before its file: keep it, and tell the engine. */
static int gap_event(conflict_feed *f, const binlog_event *ev, int64_t now, rw_error *err)
{
	conflict_stats was, is;
	int rc;

	free(f->gap_entries);
	free(f->gap_set);
	f->gap_entries = NULL;
	f->gap_set = NULL;
	f->gap_count = 0;
	f->gap_wait = 0;
	if (ev->hdr.type == BINLOG_MARIADB_GTID_LIST) {
		const binlog_gtid_list *l = &ev->u.gtid_list;
		if (l->count > 0) {
			f->gap_entries = malloc(16 * (size_t)l->count);
			if (f->gap_entries == NULL)
				return rw_error_set(err, RW_E_NOMEM, -1, "out of memory");
			memcpy(f->gap_entries, l->entries, 16 * (size_t)l->count);
			f->gap_count = l->count;
		}
	} else if (!ev->u.prev_gtids.tagged) {
		rw_buf text = RW_BUF_INIT;
		rw_error e2;

		/* a set it cannot read covers nothing: the gap's transactions stay unsettled */
		if (binlog_previous_gtids_text(&ev->u.prev_gtids, ev->position, &text, &e2) == 0 &&
		    !text.failed)
			f->gap_set = strdup(text.p != NULL ? text.p : "");
		rw_buf_free(&text);
	}
	f->stats.gaps++;
	conflict_engine_stats(f->e, &was);
	rc = conflict_engine_gap(f->e, f->master,
				 conflict_feed_position(f->at.file, (uint64_t)ev->position),
				 feed_covered, f, now, err);
	conflict_engine_stats(f->e, &is);
	f->stats.gap_shown += is.gap_shown - was.gap_shown;
	f->stats.gap_undecided += is.gap_undecided - was.gap_undecided;
	f->stats.gap_unknown += is.gap_unknown - was.gap_unknown;
	return rc;
}

void conflict_feed_reset(conflict_feed *f)
{
	if (binlog_trx_open(&f->trx))
		f->stats.cut++;
	binlog_trx_init(&f->trx);
	clear_rows(f);
}

void conflict_feed_stats_get(const conflict_feed *f, conflict_feed_stats *out)
{
	*out = f->stats;
}

/* The transaction's gathered bytes into its hash, without a GTID (fallback_identity()). */
static void hash_bytes(conflict_feed *f, const void *p, size_t len)
{
	if (!f->hash_started) {
		f->hash_started = 1;
		f->hashing = f->trx.gtid[0] == '\0';
		if (f->hashing && f->hash == NULL && (f->hash = XXH3_createState()) == NULL)
			f->arena.failed = 1; /* out of memory: the transaction is not fed */
		if (f->hashing && f->hash != NULL)
			XXH3_64bits_reset(f->hash);
	}
	if (f->hashing && f->hash != NULL)
		XXH3_64bits_update(f->hash, p, len);
}

/* Copy bytes into the arena; their offset. */
static size_t keep(conflict_feed *f, const void *p, size_t len)
{
	size_t at = f->arena.len;

	hash_bytes(f, p, len);
	rw_buf_put(&f->arena, p, len);
	return at;
}

/* A row image into images. */
static void keep_image(conflict_feed *f, const void *p, size_t len)
{
	hash_bytes(f, p, len);
	rw_buf_put(&f->images, p, len);
}

/* Note a key's JSON for the key cache (stored by keys_flush()). */
static void keys_later(conflict_feed *f, const uint8_t *key, size_t len, const char *json)
{
	if (rw_array_grow(&f->pend, &f->cap_pend, f->n_pend, sizeof(*f->pend), 64) < 0)
		return; /* the cache is best effort */
	f->pend[f->n_pend].hash = XXH3_64bits(key, len);
	f->pend[f->n_pend].json = f->key_json.len;
	rw_buf_put(&f->key_json, json, strlen(json) + 1);
	if (rw_buf_failed(&f->key_json)) {
		rw_buf_reset(&f->key_json);
		f->n_pend = 0;
		return;
	}
	__builtin_prefetch(keys_slot(f->keys, f->pend[f->n_pend].hash), 1);
	f->n_pend++;
}

static void keys_flush(conflict_feed *f)
{
	for (size_t i = 0; i < f->n_pend; i++)
		keys_store(f->keys, f->pend[i].hash, f->key_json.p + f->pend[i].json);
	f->n_pend = 0;
	rw_buf_reset(&f->key_json);
}

/* The table of the rows event being gathered: the last entry, or a new one. */
static int gather_table(conflict_feed *f, const char *schema, const char *table)
{
	size_t sl = strlen(schema), tl = strlen(table);
	struct gathered_table *g;

	if (f->n_tables > 0) {
		g = &f->tables[f->n_tables - 1];
		if (g->schema_len == sl && g->table_len == tl &&
		    memcmp(f->arena.p + g->at, schema, sl) == 0 &&
		    memcmp(f->arena.p + g->at + sl, table, tl) == 0)
			return 0;
	}
	if (rw_array_grow(&f->tables, &f->cap_tables, f->n_tables, sizeof(*f->tables), 4) < 0)
		return RW_E_NOMEM;
	g = &f->tables[f->n_tables];
	g->schema_len = (uint32_t)sl;
	g->table_len = (uint32_t)tl;
	g->at = keep(f, schema, sl);
	keep(f, table, tl);
	if (f->arena.failed)
		return RW_E_NOMEM;
	f->n_tables++;
	return 0;
}

/* Past max_image_bytes, the transaction keeps no images (the engine's ring could not). */
static void image_budget(conflict_feed *f, const row_change *c)
{
	f->image_bytes += c->before.len + c->after.len;
	if (f->image_bytes > f->max_image_bytes) {
		f->no_images = 1;
		/* none of them will be fed: their memory goes now, not at the end */
		rw_buf_free(&f->images);
	}
}

static int gather_change(conflict_feed *f, const row_change *c)
{
	struct gathered *g;
	uint32_t len;

	if (rw_array_grow(&f->rows, &f->cap_rows, f->n_rows, sizeof(*f->rows), 16) < 0)
		return RW_E_NOMEM;
	if (!f->no_images)
		image_budget(f, c);
	g = &f->rows[f->n_rows++];
	g->op = (uint8_t)c->op;
	g->table = (uint32_t)(f->n_tables - 1);
	g->key_len = (uint32_t)c->key.len;
	g->at = keep(f, c->key.p, c->key.len);
	g->before_len = GATHERED_NONE;
	g->after_len = GATHERED_NONE;
	if (!f->no_images && c->before.len > 0) {
		g->before_len = (uint32_t)c->before.len;
		keep_image(f, c->before.p, c->before.len);
	}
	if (!f->no_images && c->after.len > 0) {
		g->after_len = (uint32_t)c->after.len;
		keep_image(f, c->after.p, c->after.len);
	}
	g->n_unique = (uint8_t)c->n_unique;
	for (uint32_t k = 0; k < c->n_unique; k++) {
		len = (uint32_t)c->unique[k].len;
		keep(f, &len, sizeof(len));
		keep(f, c->unique[k].p, len);
		if (f->keys != NULL && c->unique_json[k].len > 0)
			keys_later(f, (const uint8_t *)c->unique[k].p, c->unique[k].len,
				   c->unique_json[k].p);
	}
	if (f->keys != NULL && c->key_json.len > 0)
		keys_later(f, (const uint8_t *)c->key.p, c->key.len, c->key_json.p);
	return f->arena.failed || f->images.failed ? RW_E_NOMEM : 0;
}

/*
 * The open transaction is too big to gather (max_rows), or the engine
 * follows it as a stub already: what was gathered goes, and its row
 * changes are only counted.
 */
static void stop_gathering(conflict_feed *f)
{
	f->dropped += f->n_rows;
	forget_rows(f);
}

static void touched(conflict_feed *f, const char *schema, const char *table, int ddl)
{
	if (f->hooks.touched != NULL)
		f->hooks.touched(f->hooks.arg, schema, table, f->at.pos, ddl);
}

/*
 * What keys tm's rows: *info a shape from the history that fits (NULL with
 * 1: the table map's own FULL metadata), or 0 with f->why when the shape is
 * not known.  A known shape that does not fit becomes unknown.
 */
static int key_source(conflict_feed *f, const binlog_table_map *tm, const row_table_info **info)
{
	const schema_table *t;
	const char *why;
	char misfit[240];
	int state = schema_db_get(f->schema, tm->schema, tm->table, &t, &why);

	*info = NULL;
	f->sequence = 0;
	if (state == SCHEMA_KNOWN) {
		if (schema_table_check_map(t, tm, misfit, sizeof(misfit)) == 0) {
			*info = schema_table_info(t);
			f->sequence = t->sequence;
			return 1;
		}
		snprintf(f->why, sizeof(f->why),
			 "the binlog's table map does not fit the shape "
			 "ringwatch knows: %s",
			 misfit);
		if (schema_db_set_unknown(f->schema, tm->schema, tm->table, f->why) == 0)
			touched(f, tm->schema, tm->table, 0);
	} else if (state == SCHEMA_UNKNOWN) {
		snprintf(f->why, sizeof(f->why), "%s", why);
	} else { /* it exists, though nothing showed it: unknown, not absent */
		snprintf(f->why, sizeof(f->why),
			 "no CREATE TABLE or snapshot of it seen: its shape is not known");
		if (schema_db_set_unknown(f->schema, tm->schema, tm->table, f->why) == 0)
			touched(f, tm->schema, tm->table, 0);
	}
	/* binlog_row_metadata=FULL: names and the primary key (or that there is
	 * none) come with the table map itself */
	return tm->has_names ? 1 : 0;
}

const ddl_options *conflict_feed_ddl_options(const conflict_feed *f)
{
	return &f->ddl;
}

int conflict_feed_keyable(const conflict_feed *f, const binlog_event *ev)
{
	const binlog_table_map *tm;
	const schema_table *t;
	const char *why;
	char misfit[8];

	if (!binlog_event_is_rows(ev->hdr.type) || (tm = ev->u.rows.table) == NULL ||
	    tm->has_names || ev->u.rows.kind == BINLOG_ROWS_PARTIAL_UPDATE)
		return 1;
	return schema_db_get(f->schema, tm->schema, tm->table, &t, &why) == SCHEMA_KNOWN &&
	       schema_table_check_map(t, tm, misfit, sizeof(misfit)) == 0;
}

/* Rows of a table whose key is not known: counted, not compared. */
static void unknown_rows(conflict_feed *f, const binlog_event *ev)
{
	const binlog_table_map *tm = ev->u.rows.table;
	row_change_iter it;
	rw_error err;
	uint64_t n = 0;

	if (row_change_iter_init(&it, &ev->u.rows, NULL, &err) == 0) {
		while (row_change_next(&it, &f->change, &err) == 1)
			n++;
		row_change_iter_free(&it);
	}
	f->stats.unknown_rows += n;
	row_unkeyed(f, tm);
	if (f->hooks.unknown != NULL)
		f->hooks.unknown(f->hooks.arg, tm->schema, tm->table, f->why, n);
}

/* The row changes of a rows event, counted without keying them (the open
 * transaction is not gathered); -1 when they cannot be read. */
static int64_t count_rows(conflict_feed *f, const binlog_event *ev)
{
	uint32_t n = ev->u.rows.ncols > 0 ? ev->u.rows.ncols : 1;
	rw_error err;
	int64_t rows;

	if (n > f->cap_count) {
		value_datum *grown = realloc(f->count_vals, 2 * (size_t)n * sizeof(*grown));
		if (grown == NULL)
			return -1;
		f->count_vals = grown;
		f->cap_count = n;
	}
	rows = row_iter_count(&ev->u.rows, f->count_vals, &err);
	return rows < 0 ? -1 : rows;
}

/* The table's writes, for the schema hooks (each in its origin's stream). */
static void written(const conflict_feed *f, const binlog_table_map *tm, uint64_t n)
{
	if (f->hooks.written != NULL && n > 0)
		f->hooks.written(f->hooks.arg, f->origin(f->trx.origin_server_id, f->origin_arg),
				 tm->schema, tm->table, n, tm->has_names);
}

/* A rows event of a transaction that is not gathered: its row changes are counted. */
static void drop_rows(conflict_feed *f, const binlog_event *ev, const row_batch *b)
{
	int64_t n = b != NULL ? (int64_t)b->rows : count_rows(f, ev);

	if (n < 0) {
		f->stats.undecodable++;
		n = 0;
	}
	f->dropped += (uint64_t)n;
	written(f, ev->u.rows.table, (uint64_t)n);
	row_unkeyed(f, ev->u.rows.table);
}

/*
 * The row changes of a rows event, from the event itself (row_change_iter)
 * or from a batch decoded ahead of the feed (row_batch.h): the same
 * changes, in the same order.
 */
struct rows_source {
	row_change_iter it;
	row_batch_iter bi;
	const binlog_event *ev;
	int batch;
	int skipping; /* a batch: past the bound, counting as row_change_skip() does */
};

/* The next change (in f->change, or in f->view from a batch): 1, 0 at the end, or RW_E_*. */
static int source_next(conflict_feed *f, struct rows_source *src, const row_change **c,
		       rw_error *err)
{
	row_change *v = &f->view;
	int second;

	if (!src->batch) {
		*c = &f->change;
		return row_change_next(&src->it, &f->change, err);
	}
	if (!row_batch_next(&src->bi, src->ev, v, &second))
		return 0;
	/* what row_change_next() leaves "" for such a copy or transaction */
	if (src->it.light) {
		v->key_json.len = 0;
		v->after.len = 0;
		for (uint32_t k = 0; k < v->n_unique; k++)
			v->unique_json[k].len = 0;
	}
	if (src->it.no_images) {
		v->before.len = 0;
		v->after.len = 0;
	}
	*c = v;
	return 1;
}

/* Step over the next row as row_change_skip() does: 1, 0 at the end, or RW_E_*. */
static int source_skip(conflict_feed *f, struct rows_source *src, rw_error *err)
{
	int second, first = !src->skipping;

	if (!src->batch)
		return row_change_skip(&src->it, err);
	src->skipping = 1;
	while (row_batch_next(&src->bi, src->ev, &f->view, &second)) {
		/* a key-moving update's insert half counts only as the pending one */
		if (!second || first)
			return 1;
		first = 0;
	}
	return 0;
}

/* The batch b if it holds what the feed would read of ev now, else NULL. */
static const row_batch *usable(conflict_feed *f, const binlog_event *ev, const row_batch *b)
{
	if (b == NULL || b->check != row_batch_check(ev) ||
	    (!b->counts_only && b->tag != conflict_feed_shape_tag(f)))
		return NULL;
	return b;
}

static void gather_rows(conflict_feed *f, const binlog_event *ev, const row_batch *b)
{
	const binlog_table_map *tm = ev->u.rows.table;
	const row_table_info *info = NULL;
	const row_change *c;
	struct rows_source src;
	rw_error err;
	uint64_t n = 0;
	int rc;

	if (tm == NULL || ev->u.rows.kind == BINLOG_ROWS_PARTIAL_UPDATE) {
		f->stats.undecodable++;
		row_unkeyed(f, tm);
		return;
	}
	if (!key_source(f, tm, &info)) {
		unknown_rows(f, ev);
		return;
	}
	if (f->sequence) {
		/* a sequence's row is the server's state, not the application's:
		 * the rows that take its numbers are compared */
		f->stats.sequence_rows++;
		return;
	}
	if (f->trx.gtid[0] == '\0' && ev->u.rows.data != NULL)
		f->rows_hash =
		    XXH3_64bits_withSeed(ev->u.rows.data, ev->u.rows.data_len, f->rows_hash);
	if (!f->decided && f->trx.gtid[0] != '\0') {
		enum conflict_known k =
		    conflict_engine_known(f->e, f->master, f->begin_pos,
					  (const uint8_t *)f->trx.gtid, strlen(f->trx.gtid));
		f->stub = k == CONFLICT_KNOWN_STUB;
		f->light = k == CONFLICT_KNOWN_COPY;
	}
	f->decided = 1;
	b = usable(f, ev, b);
	if (f->stub || f->dropped > 0) {
		f->stats.predecoded += b != NULL;
		drop_rows(f, ev, b);
		return;
	}
	memset(&src, 0, sizeof(src));
	src.ev = ev;
	src.batch = b != NULL && !b->counts_only;
	if (src.batch)
		row_batch_iter_init(&src.bi, b);
	else if (row_change_iter_init(&src.it, &ev->u.rows, info, &err) != 0) {
		f->stats.undecodable++;
		row_unkeyed(f, tm);
		return;
	}
	f->stats.predecoded += src.batch;
	if (gather_table(f, tm->schema, tm->table) != 0) {
		if (!src.batch)
			row_change_iter_free(&src.it);
		f->stats.undecodable++;
		row_unkeyed(f, tm);
		return;
	}
	src.it.no_images = f->no_images;
	src.it.light = f->light;
	while ((rc = source_next(f, &src, &c, &err)) == 1) {
		if (f->n_rows >= f->max_rows) {
			/* one past the bound: too big to gather, this and the rest are counted */
			stop_gathering(f);
			f->dropped++;
			n++;
			while ((rc = source_skip(f, &src, &err)) == 1) {
				f->dropped++;
				n++;
			}
			row_unkeyed(f, tm);
			break;
		}
		if (f->row_fn != NULL)
			row_seen(f, (const uint8_t *)c->key.p, c->key.len, 0);
		if (gather_change(f, c) != 0) {
			rc = -1;
			break;
		}
		src.it.no_images = f->no_images;
		n++;
	}
	written(f, tm, n);
	if (rc < 0) {
		f->stats.undecodable++;
		row_unkeyed(f, tm);
	}
	if (!src.batch)
		row_change_iter_free(&src.it);
	if (f->keys != NULL)
		keys_flush(f);
}

static void ddl_touched(const char *schema, const char *table, void *arg)
{
	touched(arg, schema, table, 1);
}

/* A QUERY event: a table statement is applied to the history, once. */
static int schema_query(conflict_feed *f, const binlog_event *ev, rw_error *err)
{
	const binlog_query *q = &ev->u.query;
	char db[SCHEMA_NAME_MAX], trx[96];
	uint64_t at = conflict_feed_position(f->at.file, (uint64_t)ev->position);
	ddl_stmt s;
	int rc;

	if (q->sql.len == 0 || !ddl_may_change_tables(q->sql.p, q->sql.len))
		return 0;
	if (at <= f->schema_pos && f->schema_pos != 0)
		return 0; /* read again: in the history already */
	rc = ddl_parse(q->sql.p, q->sql.len, &f->ddl, &s, err);
	if (rc != 0)
		return rc;
	if (s.kind == DDL_NONE) {
		ddl_stmt_free(&s);
		return 0;
	}
	snprintf(db, sizeof(db), "%.*s", (int)q->schema.len, q->schema.p);
	if (f->trx.gtid[0] != '\0')
		snprintf(trx, sizeof(trx), "%s", f->trx.gtid);
	else
		snprintf(trx, sizeof(trx), "S%u:T%u:Q%016llx", ev->hdr.server_id, ev->hdr.timestamp,
			 (unsigned long long)XXH3_64bits(q->sql.p, q->sql.len));
	if (s.kind != DDL_UNPARSED && f->hooks.before_ddl != NULL)
		f->hooks.before_ddl(f->hooks.arg, &s, db, f->schema, trx);
	rc = schema_apply(f->schema, &s, db, ddl_touched, f, err);
	f->schema_pos = at;
	f->stats.ddl++;
	if (s.kind == DDL_UNPARSED)
		f->stats.ddl_unreadable++;
	if (rc == 0 && f->hooks.ddl != NULL) {
		f->hooks.ddl(f->hooks.arg, at, s.kind, q->sql.p, q->sql.len,
			     s.kind == DDL_UNPARSED ? s.error : NULL, trx);
	}
	ddl_stmt_free(&s);
	return rc;
}

/*
 * The conflict rows of the gathered changes (pointers into the arena), in
 * place: the rows' memory grows to hold them and each gathered row becomes
 * its conflict row, the last first (a conflict row is larger: row i's lands
 * past the gathered rows before it).  *out the first, or NULL without rows.
 */
static int build_rows(conflict_feed *f, const conflict_row **out)
{
	const uint8_t *base = (const uint8_t *)f->arena.p;
	const uint8_t *images = (const uint8_t *)f->images.p;
	size_t n_uniques = 0, u, img = f->images.len;
	size_t need = f->n_rows * sizeof(conflict_row);
	conflict_row *built;

	*out = NULL;
	if (f->n_rows == 0)
		return 0;
	for (size_t i = 0; i < f->n_rows; i++)
		n_uniques += f->rows[i].n_unique;
	if (need > f->cap_rows * sizeof(*f->rows)) {
		struct gathered *grown = realloc(f->rows, need);
		if (grown == NULL)
			return RW_E_NOMEM;
		f->rows = grown;
		f->cap_rows = need / sizeof(*grown);
	}
	if (n_uniques > f->cap_uniques) {
		conflict_bytes *grown = realloc(f->uniques, n_uniques * sizeof(*grown));
		if (grown == NULL)
			return RW_E_NOMEM;
		f->uniques = grown;
		f->cap_uniques = n_uniques;
	}
	built = (conflict_row *)(void *)f->rows;
	u = n_uniques;
	for (size_t i = f->n_rows; i-- > 0;) {
		const struct gathered g = f->rows[i]; /* read before built[i] covers it */
		const struct gathered_table *t = &f->tables[g.table];
		const uint8_t *p = base + g.at;
		conflict_row r;

		memset(&r, 0, sizeof(r));
		r.schema = (conflict_bytes){ base + t->at, t->schema_len };
		r.table = (conflict_bytes){ base + t->at + t->schema_len, t->table_len };
		r.op = (enum conflict_op)g.op;
		r.key = (conflict_bytes){ p, g.key_len };
		p += g.key_len;
		if (!f->no_images) { /* else images holds none */
			if (g.after_len != GATHERED_NONE) {
				img -= g.after_len;
				r.after = (conflict_bytes){ images + img, g.after_len };
			}
			if (g.before_len != GATHERED_NONE) {
				img -= g.before_len;
				r.before = (conflict_bytes){ images + img, g.before_len };
			}
		}
		u -= g.n_unique;
		r.unique_keys = g.n_unique > 0 ? &f->uniques[u] : NULL;
		r.n_unique_keys = g.n_unique;
		for (uint32_t k = 0; k < g.n_unique; k++) {
			uint32_t len;
			memcpy(&len, p, sizeof(len));
			f->uniques[u + k] = (conflict_bytes){ p + sizeof(len), len };
			p += sizeof(len) + len;
		}
		built[i] = r;
	}
	*out = built;
	return 0;
}

/* Without a GTID: origin server_id, commit time and a hash of the rows. */
static void fallback_identity(const conflict_feed *f, char *buf, size_t len)
{
	/* a transaction not gathered: its row images as the binlog holds them */
	uint64_t h = f->dropped > 0 || f->stub ? f->rows_hash
		     : f->hash_started && f->hashing && f->hash != NULL
			 ? XXH3_64bits_digest(f->hash)
			 : XXH3_64bits("", 0);

	snprintf(buf, len, "S%u:T%u:H%016llx", f->trx.origin_server_id, f->trx.timestamp,
		 (unsigned long long)h);
}

static int finish(conflict_feed *f, int64_t now, rw_error *err)
{
	conflict_trx t;
	const conflict_row *rows;
	char fallback[80];
	int origin = f->origin(f->trx.origin_server_id, f->origin_arg);
	int rc;

	if (f->fed_any && f->begin_pos <= f->last_pos) {
		f->stats.replayed++; /* read again after a reconnect: fed already */
		clear_rows(f);
		return 0;
	}
	if (origin < 0) {
		f->stats.unknown_origin++;
		clear_rows(f);
		return 0;
	}
	if (f->arena.failed || f->images.failed || build_rows(f, &rows) != 0) {
		clear_rows(f);
		return rw_error_set(err, RW_E_NOMEM, -1, "out of memory");
	}
	memset(&t, 0, sizeof(t));
	if (f->stub) {
		/* the engine's stub: none of its rows are read */
		f->stats.stub_copies++;
		t.dropped_rows = f->dropped > 0 ? (size_t)f->dropped : 1;
	} else if (f->dropped > 0) {
		f->stats.big++;
		f->stats.big_rows += f->dropped;
		t.dropped_rows = (size_t)f->dropped;
	}
	if (f->light)
		f->stats.light++;
	if (f->no_images && t.dropped_rows == 0) {
		f->stats.no_images++;
		t.no_images = true;
	}
	if (f->trx.gtid[0] != '\0') {
		t.identity.p = (const uint8_t *)f->trx.gtid;
		t.identity.len = strlen(f->trx.gtid);
	} else {
		fallback_identity(f, fallback, sizeof(fallback));
		t.identity.p = (const uint8_t *)fallback;
		t.identity.len = strlen(fallback);
	}
	t.origin = (unsigned)origin;
	t.commit_time = f->trx.commit_ts_us != 0 ? (int64_t)f->trx.commit_ts_us
						 : (int64_t)f->trx.timestamp * 1000000;
	t.pos = f->begin_pos;
	t.rows = t.dropped_rows > 0 ? NULL : rows;
	t.n_rows = t.dropped_rows > 0 ? 0 : f->n_rows;
	rc = conflict_engine_feed(f->e, f->master, &t, now, err);
	if (rc == 0) {
		f->stats.transactions++;
		f->stats.rows += t.n_rows;
		f->fed_any = 1;
		f->last_pos = t.pos;
	}
	clear_rows(f);
	return rc;
}

int conflict_stream_pos_advance(conflict_stream_pos *p, const binlog_event *ev)
{
	if (ev->hdr.type == BINLOG_ROTATE && !ev->in_payload) {
		snprintf(p->file, sizeof(p->file), "%.*s", (int)ev->u.rotate.file.len,
			 ev->u.rotate.file.p);
		return 1;
	}
	if (ev->hdr.type == BINLOG_HEARTBEAT || ev->hdr.type == BINLOG_HEARTBEAT_V2) {
		/* the master is idle and the stream caught up: where its binlog ends */
		uint64_t at =
		    ev->u.heartbeat.position != 0 ? ev->u.heartbeat.position : ev->hdr.log_pos;
		char file[256];
		snprintf(file, sizeof(file), "%.*s", (int)ev->u.heartbeat.file.len,
			 ev->u.heartbeat.file.p);
		if (at > 0 && file[0] != '\0' && conflict_feed_position(file, at) > p->pos)
			p->pos = conflict_feed_position(file, at);
		return 1;
	}
	if (ev->next_position > ev->position && !ev->in_payload)
		p->pos = conflict_feed_position(p->file, (uint64_t)ev->next_position);
	return 0;
}

int conflict_feed_event(conflict_feed *f, const binlog_event *ev, int64_t now, rw_error *err)
{
	return conflict_feed_event_batch(f, ev, NULL, 0, now, err);
}

int conflict_feed_event_batch(conflict_feed *f, const binlog_event *ev, const void *batch,
			      size_t len, int64_t now, rw_error *err)
{
	row_batch b;
	int mark;

	if (conflict_stream_pos_advance(&f->at, ev))
		return 0;
	if (ev->hdr.type == BINLOG_FORMAT_DESCRIPTION) {
		const binlog_fde *d = &ev->u.fde;
		f->ddl.mariadb = d->is_mariadb != 0;
		f->ddl.version =
		    (uint32_t)d->version[0] * 10000 + (uint32_t)d->version[1] * 100 + d->version[2];
	}
	if (ev->hdr.type == BINLOG_QUERY && schema_query(f, ev, err) != 0)
		return RW_E_NOMEM;
	if (f->gap_wait && !ev->in_payload &&
	    (ev->hdr.type == BINLOG_MARIADB_GTID_LIST || ev->hdr.type == BINLOG_PREVIOUS_GTIDS))
		return gap_event(f, ev, now, err);
	mark = binlog_trx_feed(&f->trx, ev);
	if (f->gap_wait && mark != BINLOG_TRX_NONE)
		f->gap_wait = 0; /* a transaction first: nothing says what the gap held */
	switch (mark) {
	case BINLOG_TRX_BEGIN:
		if (f->trx.cut)
			f->stats.cut++;
		clear_rows(f);
		f->begin_pos = conflict_feed_position(f->at.file, (uint64_t)ev->position);
		break;
	case BINLOG_TRX_SINGLE:
		clear_rows(f);
		f->begin_pos = conflict_feed_position(f->at.file, (uint64_t)ev->position);
		return finish(f, now, err);
	case BINLOG_TRX_INSIDE:
		if (binlog_event_is_rows(ev->hdr.type))
			gather_rows(f, ev,
				    batch != NULL && row_batch_open(&b, batch, len) == 0 ? &b
											 : NULL);
		break;
	case BINLOG_TRX_END:
		return finish(f, now, err);
	default:
		break;
	}
	return 0;
}
