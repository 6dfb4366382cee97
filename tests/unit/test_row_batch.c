/*
 * test_row_batch.c - row changes decoded ahead of the feed give what the
 * feed decodes itself: every real binlog of the fixtures, each rows event's
 * changes from a batch against the iterator's, and the whole feed (copies
 * read light, transactions over the bounds, DDL between the batches and the
 * feed, batches of other events) with and without batches.
 */
#define _XOPEN_SOURCE 700 /* nftw() */

#include "ringwatch/binlog_reader.h"
#include "ringwatch/conflict_feed.h"
#include "ringwatch/row_batch.h"

#include "../tap.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static const char *fixtures(void)
{
	const char *dir = getenv("RW_FIXTURES");

	return dir != NULL ? dir : "../shared/fixtures/binlog";
}

/* A binlog file whole, or NULL. */
static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *p = NULL;
	long n;

	if (fp == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) > 4 && fseek(fp, 0, SEEK_SET) == 0 &&
	    (p = malloc((size_t)n)) != NULL && fread(p, 1, (size_t)n, fp) != (size_t)n) {
		free(p);
		p = NULL;
	}
	*len = p != NULL ? (size_t)n : 0;
	fclose(fp);
	return p;
}

static int same_buf(const rw_buf *a, const rw_buf *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

static int same_change(const row_change *a, const row_change *b)
{
	if (a->op != b->op || !same_buf(&a->key, &b->key) ||
	    !same_buf(&a->key_json, &b->key_json) || !same_buf(&a->before, &b->before) ||
	    !same_buf(&a->after, &b->after) || a->n_unique != b->n_unique ||
	    a->key_from_hash != b->key_from_hash || strcmp(a->schema, b->schema) != 0 ||
	    strcmp(a->table, b->table) != 0)
		return 0;
	for (uint32_t k = 0; k < a->n_unique; k++)
		if (!same_buf(&a->unique[k], &b->unique[k]) ||
		    !same_buf(&a->unique_json[k], &b->unique_json[k]))
			return 0;
	/* views end in a NUL, as an rw_buf's bytes do (the feed reads the JSON as C text) */
	return b->key_json.p[b->key_json.len] == '\0' && b->before.p[b->before.len] == '\0';
}

/* ---- a batch against the iterator, event by event ------------------------------ */

static struct {
	int files, events, batches, counted, differ;
	uint64_t seconds; /* insert halves of updates that moved a key */
} direct;

/* The changes of ev from the iterator and from its batch (info from db, as the batch's). */
static void compare_event(const binlog_event *ev, const schema_db *db)
{
	rw_buf out = RW_BUF_INIT, counts = RW_BUF_INIT;
	row_batch b;
	row_batch_iter bi;
	row_change_iter it;
	row_change c, v;
	const schema_table *t;
	const char *why;
	const row_table_info *info = NULL;
	rw_error err;
	uint64_t rows = 0, changes = 0;
	int rc, second, want_second;

	direct.events++;
	if (row_batch_make(&out, ev, db, 7, 0) != 1) {
		rw_buf_free(&out);
		return;
	}
	direct.batches++;
	if (schema_db_get(db, ev->u.rows.table->schema, ev->u.rows.table->table, &t, &why) ==
	    SCHEMA_KNOWN)
		info = schema_table_info(t);
	memset(&v, 0, sizeof(v));
	if (row_batch_open(&b, out.p, out.len) != 0 || b.tag != 7 ||
	    b.check != row_batch_check(ev) ||
	    row_change_iter_init(&it, &ev->u.rows, info, &err) != 0) {
		direct.differ++;
		rw_buf_free(&out);
		return;
	}
	row_change_init(&c);
	row_batch_iter_init(&bi, &b);
	for (;;) {
		want_second = it.pending_insert;
		rc = row_change_next(&it, &c, &err);
		if (rc != 1) {
			direct.differ += rc != 0 || row_batch_next(&bi, ev, &v, &second) != 0;
			break;
		}
		if (row_batch_next(&bi, ev, &v, &second) != 1 || second != want_second ||
		    !same_change(&c, &v)) {
			direct.differ++;
			break;
		}
		changes++;
		rows += !second;
		direct.seconds += (uint64_t)second;
	}
	direct.differ += b.rows != rows || b.changes != changes;
	/* counted only: the same rows, no changes */
	if (row_batch_make(&counts, ev, db, 7, 1) == 1 &&
	    row_batch_open(&b, counts.p, counts.len) == 0) {
		direct.counted++;
		row_batch_iter_init(&bi, &b);
		direct.differ +=
		    !b.counts_only || b.rows != rows || row_batch_next(&bi, ev, &v, &second) != 0;
	}
	row_change_free(&c);
	row_change_iter_free(&it);
	rw_buf_free(&out);
	rw_buf_free(&counts);
}

static int origin_zero(uint32_t server_id, void *arg)
{
	(void)server_id;
	(void)arg;
	return 0;
}

/* Read a file through a feed (for its shapes), comparing every rows event on the way. */
static void compare_file(const uint8_t *p, size_t len)
{
	conflict_config cfg = { 0 };
	conflict_engine *e = NULL;
	conflict_feed *f;
	binlog_reader *r = binlog_reader_new(BINLOG_READER_FILE);
	binlog_event ev;
	rw_error err;

	cfg.n_masters = 2;
	if (r == NULL || conflict_engine_new(&cfg, &e, &err) != 0) {
		binlog_reader_free(r);
		return;
	}
	f = conflict_feed_new(e, 0, origin_zero, NULL, NULL);
	if (binlog_reader_feed(r, p, len, &err) == 0) {
		while (binlog_reader_next(r, &ev, &err) == 1) {
			if (binlog_event_is_rows(ev.hdr.type) && ev.u.rows.table != NULL &&
			    !ev.in_payload) {
				/* the feed's own shapes, and the same table marked unknown (the
				 * table map's FULL metadata keys it then) */
				schema_db *unknown = schema_db_new();
				compare_event(&ev, conflict_feed_schema(f));
				if (unknown != NULL &&
				    schema_db_set_unknown(unknown, ev.u.rows.table->schema,
							  ev.u.rows.table->table, "test") == 0)
					compare_event(&ev, unknown);
				schema_db_free(unknown);
			}
			if (conflict_feed_event(f, &ev, 0, &err) != 0)
				break;
		}
	}
	conflict_feed_free(f);
	conflict_engine_free(e);
	binlog_reader_free(r);
}

/* ---- the feed with and without batches ------------------------------------------ */

/* What a run of the feeds said, hashed: rows seen, tables written, records reported. */
struct outcome {
	XXH3_state_t *h;
	uint64_t predecoded, rows_events;
};

static void seen_row(void *arg, unsigned master, uint64_t trx, uint64_t pos, const uint8_t *key,
		     size_t len, int table_only)
{
	struct outcome *o = arg;
	uint64_t head[4] = { master, trx, pos, (uint64_t)table_only };

	XXH3_64bits_update(o->h, head, sizeof(head));
	if (key != NULL)
		XXH3_64bits_update(o->h, key, len);
}

static void seen_written(void *arg, int origin, const char *schema, const char *table,
			 uint64_t rows, int full)
{
	struct outcome *o = arg;
	int64_t head[3] = { origin, (int64_t)rows, full };

	XXH3_64bits_update(o->h, head, sizeof(head));
	XXH3_64bits_update(o->h, schema, strlen(schema) + 1);
	XXH3_64bits_update(o->h, table, strlen(table) + 1);
}

static void seen_record(const conflict_record *rec, void *arg)
{
	struct outcome *o = arg;

	XXH3_64bits_update(o->h, rec->key.p, rec->key.len);
	XXH3_64bits_update(o->h, &rec->kind, sizeof(rec->kind));
	for (unsigned i = 0; i < 2; i++) {
		const conflict_image *im[2] = { &rec->writes[i].before, &rec->writes[i].after };
		for (unsigned j = 0; j < 2; j++) {
			XXH3_64bits_update(o->h, &im[j]->state, sizeof(im[j]->state));
			if (im[j]->state == CONFLICT_IMAGE_ROW)
				XXH3_64bits_update(o->h, im[j]->row.p, im[j]->row.len);
		}
	}
}

enum batches {
	BATCH_NONE,   /* the feed decodes every event */
	BATCH_NOW,    /* each made against the feed's shapes just before it */
	BATCH_OLD,    /* each made against the shapes as they were at the rows event before */
	BATCH_OTHER,  /* each event given the batch of the one before it */
	BATCH_COUNTS, /* counted only */
};

/*
 * The file through two feeds of one engine, master 0 then master 1 (every
 * transaction's origin master 0: the second stream's are copies, read
 * light), with the bounds given and batches made as asked.
 */
static void run_feeds(const uint8_t *p, size_t len, size_t max_rows, size_t max_images,
		      enum batches how, struct outcome *o, conflict_feed_stats *st,
		      conflict_stats *es)
{
	conflict_config cfg = { 0 };
	conflict_engine *e = NULL;
	conflict_feed *f[2];
	conflict_schema_hooks hooks = { 0 };
	schema_db *old = NULL;
	uint64_t old_tag = 0;
	rw_buf batch = RW_BUF_INIT, prev = RW_BUF_INIT;
	rw_error err;

	cfg.n_masters = 2;
	cfg.cb.conflict = seen_record;
	cfg.cb.arg = o;
	hooks.written = seen_written;
	hooks.arg = o;
	memset(st, 0, 2 * sizeof(*st));
	if (conflict_engine_new(&cfg, &e, &err) != 0)
		return;
	for (unsigned m = 0; m < 2; m++) {
		binlog_reader *r = binlog_reader_new(BINLOG_READER_FILE);
		binlog_event ev;

		f[m] = conflict_feed_new(e, m, origin_zero, NULL, NULL);
		conflict_feed_set_bounds(f[m], max_rows, max_images);
		conflict_feed_set_schema_hooks(f[m], &hooks);
		conflict_feed_set_row_hook(f[m], seen_row, o);
		conflict_feed_set_file(f[m], "binlog.000001");
		rw_buf_reset(&prev);
		if (binlog_reader_feed(r, p, len, &err) != 0) {
			binlog_reader_free(r);
			continue;
		}
		while (binlog_reader_next(r, &ev, &err) == 1) {
			const void *b = NULL;
			size_t blen = 0;
			int made = 0;

			rw_buf_reset(&batch);
			if (binlog_event_is_rows(ev.hdr.type)) {
				o->rows_events++;
				if (how == BATCH_NOW)
					made =
					    row_batch_make(&batch, &ev, conflict_feed_schema(f[m]),
							   conflict_feed_shape_tag(f[m]), 0);
				else if (how == BATCH_OLD && old != NULL)
					made = row_batch_make(&batch, &ev, old, old_tag, 0);
				else if (how == BATCH_OTHER)
					made =
					    row_batch_make(&batch, &ev, conflict_feed_schema(f[m]),
							   conflict_feed_shape_tag(f[m]), 0);
				else if (how == BATCH_COUNTS)
					made = row_batch_make(&batch, &ev, NULL, 0, 1);
			}
			if (made == 1 && how == BATCH_OTHER) {
				b = prev.len > 0 ? prev.p : NULL;
				blen = prev.len;
			} else if (made == 1) {
				b = batch.p;
				blen = batch.len;
			}
			if (conflict_feed_event_batch(f[m], &ev, b, blen, 0, &err) != 0)
				break;
			if (made == 1 && how == BATCH_OTHER) {
				rw_buf_reset(&prev);
				rw_buf_put(&prev, batch.p, batch.len);
			}
			if (binlog_event_is_rows(ev.hdr.type) && how == BATCH_OLD) {
				schema_db_free(old);
				old = schema_db_copy(conflict_feed_schema(f[m]));
				old_tag = conflict_feed_shape_tag(f[m]);
			}
		}
		binlog_reader_free(r);
		schema_db_free(old);
		old = NULL;
	}
	for (unsigned m = 0; m < 2; m++) {
		conflict_feed_stats_get(f[m], &st[m]);
		o->predecoded += st[m].predecoded;
		st[m].predecoded = 0; /* the one number that may differ */
		conflict_feed_free(f[m]);
	}
	conflict_engine_stats(e, es);
	conflict_engine_free(e);
	rw_buf_free(&batch);
	rw_buf_free(&prev);
}

static struct {
	int runs, differ;
	uint64_t used[5], light, big, no_images, rows_events;
} feeds;

static void compare_feeds(const char *name, const uint8_t *p, size_t len)
{
	static const size_t bounds[][2] = { { 0, 0 }, { 3, 0 }, { 0, 300 }, { 2, 120 } };

	for (size_t k = 0; k < sizeof(bounds) / sizeof(bounds[0]); k++) {
		struct outcome o[5];
		conflict_feed_stats st[5][2];
		conflict_stats es[5];
		uint64_t digest[5];

		for (int how = BATCH_NONE; how <= BATCH_COUNTS; how++) {
			memset(&o[how], 0, sizeof(o[how]));
			o[how].h = XXH3_createState();
			XXH3_64bits_reset(o[how].h);
			run_feeds(p, len, bounds[k][0], bounds[k][1], (enum batches)how, &o[how],
				  st[how], &es[how]);
			digest[how] = XXH3_64bits_digest(o[how].h);
			XXH3_freeState(o[how].h);
			feeds.used[how] += o[how].predecoded;
		}
		feeds.runs++;
		feeds.light += st[BATCH_NONE][1].light;
		feeds.big += st[BATCH_NONE][0].big;
		feeds.no_images += st[BATCH_NONE][0].no_images;
		feeds.rows_events += o[BATCH_NONE].rows_events;
		for (int how = BATCH_NOW; how <= BATCH_COUNTS; how++) {
			if (digest[how] != digest[BATCH_NONE] ||
			    memcmp(st[how], st[BATCH_NONE], sizeof(st[how])) != 0 ||
			    memcmp(&es[how], &es[BATCH_NONE], sizeof(es[how])) != 0) {
				feeds.differ++;
				tap_diag("%s, bounds %zu/%zu, batches %d: not as without batches",
					 name, bounds[k][0], bounds[k][1], how);
			}
		}
	}
}

static int one_file(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	uint8_t *p;
	size_t len;

	(void)sb;
	(void)ftw;
	if (type != FTW_F || strstr(path, ".md") != NULL || (p = slurp(path, &len)) == NULL)
		return 0;
	/* binlog files start with the magic */
	if (memcmp(p, "\xfe\x62\x69\x6e", 4) == 0) {
		direct.files++;
		compare_file(p, len);
		compare_feeds(path + strlen(fixtures()), p, len);
	}
	free(p);
	return 0;
}

/*
 * The rows of a fixture with batches made just before each is fed; with
 * meddle, the feed's shapes change in between (another table marked
 * unknown: nothing the batch depends on, but the feed cannot know that).
 * The rows events taken from batches.
 */
static uint64_t batches_taken(int meddle)
{
	char path[1024];
	size_t len;
	uint8_t *p;
	conflict_config cfg = { 0 };
	conflict_engine *e = NULL;
	conflict_feed *f;
	conflict_feed_stats st;
	binlog_reader *r;
	binlog_event ev;
	rw_buf batch = RW_BUF_INIT;
	rw_error err;

	snprintf(path, sizeof(path), "%s/rust_mysql_common/mysql-enum-string-set.000001",
		 fixtures());
	cfg.n_masters = 2;
	if ((p = slurp(path, &len)) == NULL || conflict_engine_new(&cfg, &e, &err) != 0) {
		free(p);
		return 0;
	}
	f = conflict_feed_new(e, 0, origin_zero, NULL, NULL);
	r = binlog_reader_new(BINLOG_READER_FILE);
	if (binlog_reader_feed(r, p, len, &err) == 0) {
		while (binlog_reader_next(r, &ev, &err) == 1) {
			int made = binlog_event_is_rows(ev.hdr.type) &&
				   row_batch_make(&batch, &ev, conflict_feed_schema(f),
						  conflict_feed_shape_tag(f), 0) == 1;
			if (made && meddle &&
			    schema_db_set_unknown(conflict_feed_schema(f), "other", "t", "x") != 0)
				break;
			if (conflict_feed_event_batch(f, &ev, made ? batch.p : NULL, batch.len, 0,
						      &err) != 0)
				break;
			rw_buf_reset(&batch);
		}
	}
	conflict_feed_stats_get(f, &st);
	binlog_reader_free(r);
	conflict_feed_free(f);
	conflict_engine_free(e);
	rw_buf_free(&batch);
	free(p);
	return st.predecoded;
}

static void test_tag(void)
{
	uint64_t taken = batches_taken(0);

	ok(taken == 3, "a fixture's 3 rows events taken from batches (%llu)",
	   (unsigned long long)taken);
	taken = batches_taken(1);
	ok(taken == 0, "none when the shapes changed after they were made (%llu)",
	   (unsigned long long)taken);
}

/* A batch that is not one whole is refused. */
static void test_open(void)
{
	row_batch b;
	uint8_t junk[64];

	memset(junk, 0, sizeof(junk));
	ok(row_batch_open(&b, junk, sizeof(junk)) < 0, "bytes that are no batch are refused");
	ok(row_batch_open(&b, junk, 3) < 0, "nor are too few");
}

/*
 * Binlog files named on the command line (tests/integration/row_batch.sh:
 * a real server's, with updates that move keys, read past small bounds).
 */
static int given(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		size_t len;
		uint8_t *p = slurp(argv[i], &len);
		ok(p != NULL, "%s read", argv[i]);
		if (p == NULL)
			continue;
		direct.files++;
		compare_file(p, len);
		compare_feeds(argv[i], p, len);
		free(p);
	}
	ok(direct.batches > 0, "%d batches of %d rows events", direct.batches, direct.events);
	ok(direct.seconds > 0, "%llu updates moved a key", (unsigned long long)direct.seconds);
	is_int(direct.differ, 0, "each batch's changes are the iterator's, in order");
	ok(feeds.big > 0 && feeds.light > 0, "%llu transactions over the bound, %llu light copies",
	   (unsigned long long)feeds.big, (unsigned long long)feeds.light);
	is_int(feeds.differ, 0, "the feeds say the same with and without batches");
	ok(feeds.used[BATCH_NOW] > 0 && feeds.used[BATCH_COUNTS] > 0,
	   "batches taken: %llu, counted ones %llu", (unsigned long long)feeds.used[BATCH_NOW],
	   (unsigned long long)feeds.used[BATCH_COUNTS]);
	return tap_done();
}

int main(int argc, char **argv)
{
	if (argc > 1)
		return given(argc, argv);
	test_open();
	test_tag();
	ok(nftw(fixtures(), one_file, 16, FTW_PHYS) == 0, "the fixtures were walked");
	ok(direct.files >= 20, "%d binlog files", direct.files);
	ok(direct.batches > 50 && direct.batches <= 2 * direct.events,
	   "%d batches of %d rows events", direct.batches, direct.events);
	is_int(direct.differ, 0, "each batch's changes are the iterator's, in order");
	ok(direct.counted == direct.batches, "and each counted the same (%d)", direct.counted);
	ok(feeds.runs > 0 && feeds.light > 0 && feeds.big > 0 && feeds.no_images > 0,
	   "%d runs of the feeds (%llu light copies, %llu big, %llu without images)", feeds.runs,
	   (unsigned long long)feeds.light, (unsigned long long)feeds.big,
	   (unsigned long long)feeds.no_images);
	is_int(feeds.differ, 0, "the feeds say the same with and without batches");
	is_int(feeds.used[BATCH_NONE], 0, "none used where none was given");
	ok(feeds.used[BATCH_NOW] > 0 && feeds.used[BATCH_NOW] <= 2 * feeds.rows_events,
	   "batches made against the present shapes taken (%llu of %llu rows events)",
	   (unsigned long long)feeds.used[BATCH_NOW], (unsigned long long)feeds.rows_events);
	ok(feeds.used[BATCH_OLD] > 0 && feeds.used[BATCH_OLD] < feeds.used[BATCH_NOW],
	   "of those made against the shapes of the rows event before, %llu taken: those "
	   "before a DDL were not",
	   (unsigned long long)feeds.used[BATCH_OLD]);
	ok(feeds.used[BATCH_OTHER] == 0, "another event's batch is never taken");
	ok(feeds.used[BATCH_COUNTS] > 0, "counted batches taken for what is only counted (%llu)",
	   (unsigned long long)feeds.used[BATCH_COUNTS]);
	return tap_done();
}
