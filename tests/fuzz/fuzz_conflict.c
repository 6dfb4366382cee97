/*
 * fuzz_conflict.c - the conflict engine driven by arbitrary bytes: streams
 * fed out of order, duplicate and unknown transactions, bad positions and
 * ops, tiny image rings and bounds, manual resolution, checkpoints and
 * restarts from them (resumed where they say, or anywhere).  It must
 * return results or errors that say why, and never crash, leak or read out
 * of bounds.
 */
#include "ringwatch/conflict.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *p;
	size_t n;
};

static unsigned next(struct input *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

static const char *const images[] = { "a=1", "a=2", "a=3", "", "{\"id\":1,\"v\":\"x\"}" };

static conflict_bytes image(unsigned b)
{
	const char *s = images[b % 5];

	if (b % 7 == 6)
		return (conflict_bytes){ NULL, 0 };
	return (conflict_bytes){ (const uint8_t *)s, strlen(s) };
}

static void on_conflict(const conflict_record *r, void *arg)
{
	conflict_id *last = arg;
	unsigned m;

	/* touch everything the record points to */
	for (m = 0; m < r->n_masters; m++)
		if (r->final[m].state == CONFLICT_IMAGE_ROW && r->final[m].row.len > 0 &&
		    r->final[m].row.p[0] == 0xff)
			abort();
	if (r->key.len > 0 && r->key.p[r->key.len - 1] == 0xff)
		abort();
	*last = r->id;
}

static void feed_one(conflict_engine *e, struct input *in, unsigned n, uint64_t *pos)
{
	static const char *const keys[] = { "1", "2", "1|2", "k" };
	conflict_row rows[3];
	conflict_bytes uk[1];
	conflict_trx t = { 0 };
	char id[8];
	unsigned m = next(in) % n, nrows = next(in) % 4, i;
	rw_error err;

	snprintf(id, sizeof(id), "%u-%u", next(in) % n, next(in) % 16);
	memset(rows, 0, sizeof(rows));
	for (i = 0; i < nrows && i < 3; i++) {
		unsigned b = next(in);

		rows[i].schema = (conflict_bytes){ (const uint8_t *)"s", 1 };
		rows[i].table = (conflict_bytes){ (const uint8_t *)(b & 0x80 ? "t" : "u"), 1 };
		rows[i].key = (conflict_bytes){ (const uint8_t *)keys[b % 4], strlen(keys[b % 4]) };
		rows[i].op = (enum conflict_op)(b / 4 % 4 == 0 ? 1 + b / 16 % 5 : 1 + b / 4 % 3);
		rows[i].before = image(next(in));
		rows[i].after = image(next(in));
		if (b & 0x40) {
			uk[0] = (conflict_bytes){ (const uint8_t *)"e", 1 };
			rows[i].unique_keys = uk;
			rows[i].n_unique_keys = 1;
		}
	}
	t.identity = (conflict_bytes){ (const uint8_t *)id, strlen(id) };
	t.origin = (unsigned)(id[0] - '0');
	/* now and then a transaction its feed did not gather, or kept no images of */
	t.dropped_rows = next(in) % 16 == 0 ? 1 + nrows : 0;
	t.no_images = next(in) % 16 == 0;
	t.commit_time = 0;
	/* mostly increasing, sometimes repeated (refused) */
	pos[m] += next(in) % 3;
	t.pos = pos[m];
	t.rows = rows;
	t.n_rows = nrows;
	if (conflict_engine_feed(e, m, &t, (int64_t)in->n, &err) != 0 && err.text[0] == '\0')
		abort(); /* every failure must say why */
}

struct ids {
	uint64_t h[64];
	size_t n;
};

static int keep_ids(uint64_t h, void *arg)
{
	struct ids *ids = arg;

	if (ids->n == 64)
		return 1;
	ids->h[ids->n++] = h;
	return 0;
}

/*
 * Checkpoint, then a new engine restored from it; the streams go on from
 * their low-water marks (or wherever the input says: a careless caller).
 */
static conflict_engine *restart(conflict_engine *e, const conflict_config *cfg, unsigned n,
				uint64_t *pos, struct input *in)
{
	conflict_mark mk[CONFLICT_MAX_MASTERS];
	struct ids ids = { .n = 0 };
	conflict_engine *e2;
	conflict_id any = { 1, 2 }, drift = { 3, 4 };
	conflict_bytes s = { (const uint8_t *)"s", 1 }, k = { (const uint8_t *)"1", 1 };
	rw_error err;
	unsigned m;
	size_t i;

	for (m = 0; m < n; m++)
		if (conflict_engine_mark(e, m, &mk[m], &err) != 0)
			abort();
	(void)conflict_engine_unsettled(e, keep_ids, &ids);
	conflict_engine_free(e);
	if (conflict_engine_new(cfg, &e2, &err) != 0)
		abort();
	for (m = 0; m < n; m++) {
		if (conflict_engine_restore_mark(e2, m, &mk[m], &err) != 0)
			abort();
		if (next(in) % 2 == 0 && mk[m].unsettled)
			pos[m] = mk[m].low_water;
	}
	for (i = 0; i < ids.n; i++)
		if (conflict_engine_restore_unsettled(e2, ids.h[i], &err) != 0)
			abort();
	if (conflict_engine_restore_open(e2, &any, &s, &s, &k, next(in) & 1, NULL, &err) != 0)
		abort();
	if (next(in) & 1 && conflict_engine_follow_drift(e2, &drift, &s, &s, &k, false, &err) != 0)
		abort();
	return e2;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	unsigned n = 2 + next(&in) % 3;
	conflict_config cfg;
	conflict_engine *e;
	conflict_id last = { 0, 0 };
	uint64_t pos[CONFLICT_MAX_MASTERS] = { 0 };
	conflict_stats st;
	conflict_mark mk;
	rw_error err;

	memset(&cfg, 0, sizeof(cfg));
	cfg.n_masters = n;
	cfg.ring_bytes = 64 + next(&in) * 16;
	cfg.max_writes = 1 + next(&in) % 40;
	cfg.cb.conflict = on_conflict;
	cfg.cb.arg = &last;
	if (conflict_engine_new(&cfg, &e, &err) != 0)
		return 0;
	while (in.n > 0) {
		unsigned op = next(&in) % 16;

		if (op < 13)
			feed_one(e, &in, n, pos);
		else if (op == 13 && conflict_engine_mark(e, next(&in) % n, &mk, &err) != 0)
			abort();
		else if (op == 14 && conflict_engine_resolve(e, &last, &err) != 0 &&
			 err.text[0] == '\0')
			abort();
		else if (op == 15)
			e = restart(e, &cfg, n, pos, &in);
	}
	conflict_engine_stats(e, &st);
	if (st.blind && st.dropped_writes == 0)
		abort(); /* blind says what it dropped */
	conflict_engine_free(e);
	return 0;
}
