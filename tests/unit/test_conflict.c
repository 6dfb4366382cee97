/*
 * test_conflict.c - the conflict engine on hand-written binlog streams: each
 * kind of conflict, the cases that are not conflicts, rings of three, keys,
 * multi-row transactions, stalled streams and the bound, restarts, before
 * images, resolution, and the memory each unsettled write costs.
 */
#include "ringwatch/conflict.h"

#include "../../lib/conflict_ring.h"
#include "../../lib/conflict_table.h"
#include "../tap.h"

#include <stdlib.h>
#include <string.h>

#define MAXREC 512

struct rec {
	conflict_id id;
	int kind;
	unsigned m0, m1;
	char id0[48], id1[48];
	int op0, op1;
	char key[64];
	char b0[64], b1[64];
	char final[CONFLICT_MAX_MASTERS][64]; /* "-" no row, "?" pending, "!" evicted */
	int diverged, complete, unique;
	int64_t appeared, decided;
};

/* What the callbacks saw; large (MAXREC records): the tests keep theirs static, off the stack. */
struct cap {
	struct rec r[MAXREC];
	int n;
	int updates, resolved;
	int released, released_known, newer_known; /* on_released() */
	conflict_id last_resolved;
	char upd_final[CONFLICT_MAX_MASTERS][64];
	int upd_diverged, upd_complete;
	conflict_id known[MAXREC];
	int nknown;
};

static void image_text(const conflict_image *img, char *out)
{
	switch (img->state) {
	case CONFLICT_IMAGE_ROW:
		snprintf(out, 64, "%.*s", (int)img->row.len, (const char *)img->row.p);
		break;
	case CONFLICT_IMAGE_NONE:
		strcpy(out, "-");
		break;
	case CONFLICT_IMAGE_PENDING:
		strcpy(out, "?");
		break;
	case CONFLICT_IMAGE_EVICTED:
		strcpy(out, "!");
		break;
	}
}

static void on_conflict(const conflict_record *r, void *arg)
{
	struct cap *c = arg;
	struct rec *o;
	unsigned m;

	if (c->n == MAXREC)
		return;
	o = &c->r[c->n++];
	memset(o, 0, sizeof(*o));
	o->id = r->id;
	o->kind = r->kind;
	o->m0 = r->writes[0].master;
	o->m1 = r->writes[1].master;
	snprintf(o->id0, sizeof(o->id0), "%.*s", (int)r->writes[0].identity.len,
		 (const char *)r->writes[0].identity.p);
	snprintf(o->id1, sizeof(o->id1), "%.*s", (int)r->writes[1].identity.len,
		 (const char *)r->writes[1].identity.p);
	o->op0 = r->writes[0].op;
	o->op1 = r->writes[1].op;
	snprintf(o->key, sizeof(o->key), "%.*s.%.*s:%.*s", (int)r->schema.len,
		 (const char *)r->schema.p, (int)r->table.len, (const char *)r->table.p,
		 (int)r->key.len, (const char *)r->key.p);
	image_text(&r->writes[0].before, o->b0);
	image_text(&r->writes[1].before, o->b1);
	for (m = 0; m < r->n_masters; m++)
		image_text(&r->final[m], o->final[m]);
	o->diverged = r->diverged;
	o->complete = r->complete;
	o->unique = r->unique_key;
	o->appeared = r->appeared_at;
	o->decided = r->decided_at;
}

static void on_update(const conflict_update *u, void *arg)
{
	struct cap *c = arg;
	unsigned m;

	c->updates++;
	for (m = 0; m < u->n_masters; m++)
		if ((u->changed >> m) & 1)
			image_text(&u->final[m], c->upd_final[m]);
	c->upd_diverged = u->diverged;
	c->upd_complete = u->complete;
}

static void on_resolved(const conflict_id *id, int64_t now, void *arg)
{
	struct cap *c = arg;

	(void)now;
	c->resolved++;
	c->last_resolved = *id;
}

static void on_released(const conflict_id *id, const conflict_id *newer, int64_t now, void *arg)
{
	struct cap *c = arg;
	int i;

	(void)now;
	c->released++;
	/* it was reported, and the newer one too */
	for (i = 0; i < c->n; i++) {
		if (conflict_id_equal(&c->r[i].id, id))
			c->released_known++;
		if (conflict_id_equal(&c->r[i].id, newer))
			c->newer_known++;
	}
}

static int on_known(const conflict_id *id, void *arg)
{
	struct cap *c = arg;
	int i;

	for (i = 0; i < c->nknown; i++)
		if (conflict_id_equal(&c->known[i], id))
			return 1;
	return 0;
}

static conflict_engine *engine(unsigned n, size_t max_writes, size_t ring, struct cap *c)
{
	conflict_config cfg;
	conflict_engine *e = NULL;
	rw_error err;

	memset(&cfg, 0, sizeof(cfg));
	memset(c, 0, sizeof(*c));
	cfg.n_masters = n;
	cfg.max_writes = max_writes;
	cfg.ring_bytes = ring;
	cfg.cb =
	    (conflict_callbacks){ on_conflict, on_update, on_resolved, on_known, on_released, c };
	if (conflict_engine_new(&cfg, &e, &err) != 0) {
		printf("Bail out! engine: %s\n", err.text);
		exit(1);
	}
	return e;
}

static conflict_bytes B(const char *s)
{
	return (conflict_bytes){ (const uint8_t *)s, s ? strlen(s) : 0 };
}

static conflict_row row3(const char *table, const char *key, enum conflict_op op,
			 const char *before, const char *after)
{
	conflict_row r;

	memset(&r, 0, sizeof(r));
	r.schema = B("app");
	r.table = B(table);
	r.key = B(key);
	r.op = op;
	r.before = B(before);
	r.after = B(after);
	return r;
}

static int feedn(conflict_engine *e, unsigned m, const char *gtid, unsigned origin, uint64_t pos,
		 const conflict_row *rows, size_t n)
{
	conflict_trx t = { 0 };
	rw_error err;
	int rc;

	t.identity = B(gtid);
	t.origin = origin;
	t.commit_time = 1000 + (int64_t)origin;
	t.pos = pos;
	t.rows = rows;
	t.n_rows = n;
	rc = conflict_engine_feed(e, m, &t, (int64_t)pos, &err);
	if (rc != 0)
		printf("# feed: %s\n", err.text);
	return rc;
}

/* One row on table t, key k. */
static int feed1(conflict_engine *e, unsigned m, const char *gtid, unsigned origin, uint64_t pos,
		 const char *key, enum conflict_op op, const char *before, const char *after)
{
	conflict_row r = row3("t", key, op, before, after);

	return feedn(e, m, gtid, origin, pos, &r, 1);
}

#define U CONFLICT_OP_UPDATE
#define I CONFLICT_OP_INSERT
#define D CONFLICT_OP_DELETE

static void test_update_update(void)
{
	static struct cap c;
	conflict_engine *e = engine(2, 0, 1 << 16, &c);
	conflict_stats st;

	/* west (0) and east (1) update row 1 at once; each applies the other's last */
	ok(feed1(e, 0, "1-1-5", 0, 100, "1", U, "v=0", "v=west") == 0, "west writes");
	ok(feed1(e, 1, "2-2-1", 1, 100, "1", U, "v=0", "v=east") == 0, "east writes");
	is_int(c.n, 1, "decided when both writes are in their own streams");
	is_int(c.r[0].kind, CONFLICT_UPDATE_UPDATE, "update-update");
	is_str(conflict_kind_name(c.r[0].kind), "update-update", "kind name");
	is_str(c.r[0].key, "app.t:1", "schema, table, key");
	ok(c.r[0].m0 == 0 && c.r[0].m1 == 1, "writes by master");
	is_str(c.r[0].id0, "1-1-5", "west's gtid");
	is_str(c.r[0].id1, "2-2-1", "east's gtid");
	is_str(c.r[0].final[0], "v=west", "west holds its own row so far");
	is_str(c.r[0].final[1], "v=east", "east holds its own row so far");
	ok(c.r[0].diverged && c.r[0].complete, "diverged, finals known");
	is_int(c.r[0].decided, 100, "decision time");
	ok(feed1(e, 0, "2-2-1", 1, 200, "1", U, "v=west", "v=east") == 0, "west applies east's");
	ok(feed1(e, 1, "1-1-5", 0, 200, "1", U, "v=east", "v=west") == 0, "east applies west's");
	is_int(c.n, 1, "no before-image finding: the conflict explains it");
	ok(c.updates >= 1, "finals updated when the rows settle");
	is_str(c.upd_final[0], "v=east", "west ends with east's row");
	is_str(c.upd_final[1], "v=west", "east ends with west's row");
	ok(c.upd_diverged && c.upd_complete, "still diverged");
	conflict_engine_stats(e, &st);
	is_int(st.tracked_writes, 0, "everything settled");
	is_int(st.tracked_keys, 0, "no key kept");
	is_int(st.open, 1, "the conflict stays open");
	conflict_engine_free(e);
}

static void test_same_value(void)
{
	static struct cap c;
	conflict_engine *e = engine(2, 0, 1 << 16, &c);

	ok(feed1(e, 0, "w1", 0, 10, "7", U, "v=0", "v=1") == 0 &&
	       feed1(e, 1, "e1", 1, 10, "7", U, "v=0", "v=1") == 0 &&
	       feed1(e, 0, "e1", 1, 20, "7", U, "v=1", "v=1") == 0 &&
	       feed1(e, 1, "w1", 0, 20, "7", U, "v=1", "v=1") == 0,
	   "both write the same value");
	is_int(c.n, 1, "still a conflict");
	ok(!c.r[0].diverged, "not diverged");
	conflict_engine_free(e);
}

static void test_insert_insert(void)
{
	static struct cap c;
	conflict_engine *e = engine(2, 0, 1 << 16, &c);
	conflict_row rw, re;
	conflict_bytes uw = B("email=a@x"), ue = B("email=a@x");

	ok(feed1(e, 0, "w1", 0, 10, "5", I, NULL, "id=5,v=w") == 0 &&
	       feed1(e, 1, "e1", 1, 10, "5", I, NULL, "id=5,v=e") == 0,
	   "both insert id 5");
	is_int(c.n, 1, "insert-insert before any copy (both SQL threads would stop on 1062)");
	is_int(c.r[0].kind, CONFLICT_INSERT_INSERT, "insert-insert");
	is_str(c.r[0].b0, "-", "an insert has no before image");
	ok(c.r[0].diverged, "rows differ");
	/* different primary keys, same UNIQUE key */
	rw = row3("u", "1", I, NULL, "id=1,email=a@x");
	rw.unique_keys = &uw;
	rw.n_unique_keys = 1;
	re = row3("u", "2", I, NULL, "id=2,email=a@x");
	re.unique_keys = &ue;
	re.n_unique_keys = 1;
	ok(feedn(e, 0, "w2", 0, 20, &rw, 1) == 0 && feedn(e, 1, "e2", 1, 20, &re, 1) == 0,
	   "inserts with one unique value");
	is_int(c.n, 2, "insert-insert on the unique key");
	ok(c.r[1].unique && c.r[1].kind == CONFLICT_INSERT_INSERT, "flagged as a unique key");
	is_str(c.r[1].key, "app.u:email=a@x", "the unique key is the key");
	/* same primary key and same unique key: one conflict, not two */
	rw = row3("u", "3", I, NULL, "id=3,email=b@x");
	re = row3("u", "3", I, NULL, "id=3,email=b@x");
	uw = B("email=b@x");
	ue = B("email=b@x");
	rw.unique_keys = &uw;
	rw.n_unique_keys = 1;
	re.unique_keys = &ue;
	re.n_unique_keys = 1;
	ok(feedn(e, 0, "w3", 0, 30, &rw, 1) == 0 && feedn(e, 1, "e3", 1, 30, &re, 1) == 0,
	   "same row inserted on both");
	is_int(c.n, 3, "reported once, on the primary key");
	ok(!c.r[2].unique && !c.r[2].diverged, "primary key, same row");
	conflict_engine_free(e);
}

static void test_update_delete(void)
{
	static struct cap c;
	conflict_engine *e = engine(2, 0, 1 << 16, &c);

	ok(feed1(e, 0, "w1", 0, 10, "9", U, "v=0", "v=1") == 0 &&
	       feed1(e, 1, "e1", 1, 10, "9", D, "v=0", NULL) == 0,
	   "west updates, east deletes");
	is_int(c.n, 1, "one conflict");
	is_int(c.r[0].kind, CONFLICT_DELETE_UPDATE, "delete-update");
	ok(c.r[0].m0 == 1 && c.r[0].op0 == D, "the delete first (alphabetical)");
	is_str(c.r[0].final[1], "-", "east holds no row");
	is_str(c.r[0].final[0], "v=1", "west holds its update");
	ok(c.r[0].diverged, "diverged");
	/* west applies the delete (row gone); east cannot apply the update (1032): never copied */
	ok(feed1(e, 0, "e1", 1, 20, "9", D, "v=1", NULL) == 0, "west applies the delete");
	is_str(c.upd_final[0], "-", "settled: west's final updated");
	ok(!c.upd_diverged, "no row on either: not diverged");
	conflict_engine_free(e);
}

static void test_delete_delete(void)
{
	static struct cap c;
	conflict_engine *e = engine(2, 0, 1 << 16, &c);

	ok(feed1(e, 0, "w1", 0, 10, "4", D, "v=0", NULL) == 0 &&
	       feed1(e, 1, "e1", 1, 10, "4", D, "v=0", NULL) == 0 &&
	       feed1(e, 0, "e1", 1, 20, "4", D, "v=0", NULL) == 0 &&
	       feed1(e, 1, "w1", 0, 20, "4", D, "v=0", NULL) == 0,
	   "both delete row 4");
	is_int(c.n, 1, "one conflict");
	is_int(c.r[0].kind, CONFLICT_DELETE_DELETE, "delete-delete");
	ok(!c.r[0].diverged, "not diverged: no row anywhere");
	is_str(c.r[0].final[0], "-", "west: no row");
	conflict_engine_free(e);
}

static void test_causal(void)
{
	static struct cap c;
	conflict_engine *e = engine(2, 0, 1 << 16, &c);

	/* west writes, east applies it, then east overwrites it, west applies that */
	ok(feed1(e, 0, "w1", 0, 10, "1", U, "v=0", "v=1") == 0 &&
	       feed1(e, 1, "w1", 0, 10, "1", U, "v=0", "v=1") == 0 &&
	       feed1(e, 1, "e1", 1, 20, "1", U, "v=1", "v=2") == 0 &&
	       feed1(e, 0, "e1", 1, 20, "1", U, "v=1", "v=2") == 0,
	   "east overwrites after west's write reached it");
	/* then the other way round, the streams fed out of order */
	ok(feed1(e, 1, "e2", 1, 30, "1", U, "v=2", "v=3") == 0 &&
	       feed1(e, 1, "w2", 0, 40, "1", U, "v=3", "v=4") == 0 &&
	       feed1(e, 0, "e2", 1, 30, "1", U, "v=2", "v=3") == 0 &&
	       feed1(e, 0, "w2", 0, 40, "1", U, "v=3", "v=4") == 0,
	   "west overwrites after east's write reached it");
	is_int(c.n, 0, "causal overwrites are no conflicts");
	conflict_engine_free(e);
}

static void test_ring_of_three(void)
{
	static struct cap c;
	conflict_engine *e = engine(3, 0, 1 << 16, &c);
	conflict_stats st;

	/* A (0) and B (1) race on row 1; C (2) is stalled and has shown nothing */
	ok(feed1(e, 0, "a1", 0, 10, "1", U, "v=0", "v=a") == 0, "A writes");
	ok(feed1(e, 1, "b1", 1, 10, "1", U, "v=0", "v=b") == 0, "B writes");
	is_int(c.n, 1, "decided without waiting for C");
	is_int(c.r[0].appeared, 10, "the later write appeared at 10");
	is_int(c.r[0].decided, 10, "and was decided then");
	is_str(c.r[0].final[2], "?", "C has applied neither");
	ok(!c.r[0].complete, "finals not complete");
	/* C's own write reached A before A's? no: C writes after seeing b1 only */
	ok(feed1(e, 2, "b1", 1, 10, "1", U, "v=0", "v=b") == 0 &&
	       feed1(e, 2, "c1", 2, 20, "1", U, "v=b", "v=c") == 0,
	   "C applies b1 then writes c1");
	ok(feed1(e, 1, "c1", 2, 20, "1", U, "v=b", "v=c") == 0, "B applies c1 (causal after b1)");
	is_int(c.n, 2, "c1 conflicts with a1 (neither saw the other), not with b1");
	ok(c.r[1].m0 == 0 && c.r[1].m1 == 2, "a1 with c1");
	ok(feed1(e, 0, "b1", 1, 20, "1", U, "v=a", "v=b") == 0 &&
	       feed1(e, 0, "c1", 2, 30, "1", U, "v=b", "v=c") == 0 &&
	       feed1(e, 1, "a1", 0, 30, "1", U, "v=c", "v=a") == 0 &&
	       feed1(e, 2, "a1", 0, 30, "1", U, "v=c", "v=a") == 0,
	   "everything copied everywhere");
	is_int(c.n, 2, "no other conflict");
	conflict_engine_stats(e, &st);
	is_int(st.tracked_writes, 0, "all settled");
	conflict_engine_free(e);
}

/* The later write shows in a third stream first: the record says when, and when decided. */
static void test_detection_time(void)
{
	static struct cap c;
	conflict_engine *e = engine(3, 0, 1 << 16, &c);

	ok(feed1(e, 0, "a1", 0, 5, "1", U, "v=0", "v=a") == 0, "A writes (time 5)");
	ok(feed1(e, 2, "b1", 1, 7, "1", U, "v=0", "v=b") == 0, "C shows B's write (time 7)");
	is_int(c.n, 0, "not certain yet: B's own stream has not shown it");
	ok(feed1(e, 1, "b1", 1, 12, "1", U, "v=0", "v=b") == 0, "B's stream shows it (time 12)");
	is_int(c.n, 1, "decided");
	is_int(c.r[0].appeared, 7, "appeared at 7");
	is_int(c.r[0].decided, 12, "decided at 12: a delay of 5");
	conflict_engine_free(e);
}

/* The widest ring: 16 masters, a race between the first and the last. */
static void test_sixteen_masters(void)
{
	static struct cap c;
	conflict_engine *e = engine(16, 0, 1 << 16, &c);
	conflict_stats st;
	unsigned m;
	int fails = 0;

	ok(feed1(e, 0, "a", 0, 10, "1", U, "v=0", "v=a") == 0 &&
	       feed1(e, 15, "p", 15, 10, "1", U, "v=0", "v=p") == 0,
	   "masters 0 and 15 write row 1");
	is_int(c.n, 1, "conflict");
	ok(c.r[0].m0 == 0 && c.r[0].m1 == 15, "between 0 and 15");
	for (m = 1; m < 16; m++)
		fails += feed1(e, m, "a", 0, m == 15 ? 20 : 10, "1", U, "v=0", "v=a") != 0;
	for (m = 0; m < 15; m++)
		fails += feed1(e, m, "p", 15, m == 0 ? 20 : 30, "1", U, "v=a", "v=p") != 0;
	is_int(fails, 0, "copied everywhere");
	conflict_engine_stats(e, &st);
	ok(st.tracked_trx == 0 && st.tracked_keys == 0, "settled on all 16 streams");
	is_str(c.upd_final[15], "v=a", "master 15 ends with 0's row");
	is_str(c.upd_final[7], "v=p", "the others with 15's");
	conflict_engine_free(e);
}

static void test_keys_and_tables(void)
{
	static struct cap c;
	conflict_engine *e = engine(2, 0, 1 << 16, &c);
	conflict_row w[3], v[2];

	/* composite-looking keys are just bytes: "1|2" and "1|20" differ */
	w[0] = row3("orders", "1|2", U, "q=0", "q=1");
	w[1] = row3("items", "7", U, "n=0", "n=1");
	w[2] = row3("orders", "1|3", U, "q=0", "q=5");
	v[0] = row3("orders", "1|20", U, "q=0", "q=2");
	v[1] = row3("items", "7", U, "n=0", "n=2");
	ok(feedn(e, 0, "w1", 0, 10, w, 3) == 0 && feedn(e, 1, "e1", 1, 10, v, 2) == 0,
	   "multi-row, multi-table transactions");
	is_int(c.n, 1, "only app.items:7 is shared");
	is_str(c.r[0].key, "app.items:7", "the shared row");
	/* the same key in another table or schema is another row */
	w[0] = row3("other", "7", U, "n=0", "n=1");
	v[0] = row3("items", "7", U, "n=1", "n=3");
	v[0].schema = B("app2");
	ok(feedn(e, 0, "w2", 0, 20, w, 1) == 0 && feedn(e, 1, "e2", 1, 20, v, 1) == 0,
	   "same key bytes, other table/schema");
	is_int(c.n, 1, "no conflict");
	/* a transaction changing one row twice is one write of it */
	w[0] = row3("t", "k", U, "a=0", "a=1");
	w[1] = row3("t", "k", U, "a=1", "a=2");
	v[0] = row3("t", "k", D, "a=0", NULL);
	ok(feedn(e, 0, "w3", 0, 30, w, 2) == 0 && feedn(e, 1, "e3", 1, 30, v, 1) == 0,
	   "two updates of one row in one transaction");
	is_int(c.n, 2, "one conflict");
	is_str(c.r[1].final[0], "a=2", "its last after image");
	conflict_engine_free(e);
}

/* A transaction of 300 rows, one key twice, against a one-row write on one of them. */
static void test_big_transaction(void)
{
	static conflict_row rows[300];
	static char keys[300][16];
	static struct cap c;
	conflict_engine *e = engine(2, 0, 1 << 20, &c);
	conflict_stats st;
	int i;

	for (i = 0; i < 300; i++) {
		snprintf(keys[i], sizeof(keys[i]), "%d", i < 299 ? i : 7);
		rows[i] = row3("big", keys[i], U, "v=0", i < 299 ? "v=1" : "v=2");
	}
	ok(feedn(e, 0, "w1", 0, 10, rows, 300) == 0, "west updates 300 rows, row 7 twice");
	conflict_engine_stats(e, &st);
	is_int(st.tracked_writes, 299, "299 writes: row 7's two changes are one");
	rows[0] = row3("big", "7", D, "v=0", NULL);
	ok(feedn(e, 1, "e1", 1, 10, rows, 1) == 0, "east deletes row 7");
	is_int(c.n, 1, "one conflict");
	is_str(c.r[0].key, "app.big:7", "on row 7");
	is_str(c.r[0].final[0], "v=2", "west's last change of it");
	conflict_engine_free(e);
}

/* Twenty writes on each side of one row before any copy: 400 pairs. */
static void test_storm(void)
{
	static struct cap c;
	conflict_engine *e = engine(2, 0, 1 << 20, &c);
	conflict_stats st;
	char gtid[16];
	int i, fails = 0;

	for (i = 0; i < 20; i++) {
		snprintf(gtid, sizeof(gtid), "w%d", i);
		fails += feed1(e, 0, gtid, 0, 10 + (uint64_t)i, "1", U, "v=0", "v=w") != 0;
	}
	for (i = 0; i < 20; i++) {
		snprintf(gtid, sizeof(gtid), "e%d", i);
		fails += feed1(e, 1, gtid, 1, 10 + (uint64_t)i, "1", U, "v=0", "v=e") != 0;
	}
	is_int(fails, 0, "fed");
	conflict_engine_stats(e, &st);
	is_int(st.conflicts, 400, "every crossing pair, once");
	is_int(st.open, 256, "at most 256 open records followed on one key");
	is_int(st.released, 144, "the others released, and said so");
	is_int(c.released, 144, "each to the callback");
	is_int(c.released_known, 144, "each a reported record");
	is_int(c.newer_known, 144, "each for a newer reported one on the row");
	conflict_engine_free(e);
}

static void test_stalled_and_blind(void)
{
	static struct cap c;
	conflict_engine *e = engine(2, 10, 1 << 16, &c);
	conflict_stats st;
	char gtid[32], key[16];
	int i, fails = 0;

	/* east's stream is stalled: west's writes cannot settle */
	for (i = 0; i < 14; i++) {
		snprintf(gtid, sizeof(gtid), "w%d", i);
		snprintf(key, sizeof(key), "%d", i);
		fails += feed1(e, 0, gtid, 0, 10 + (uint64_t)i, key, U, "v=0", "v=1") != 0;
	}
	is_int(fails, 0, "fed");
	conflict_engine_stats(e, &st);
	ok(st.blind && conflict_engine_blind(e), "blind past 10 tracked writes");
	is_int(st.tracked_writes, 10, "10 tracked");
	is_int(st.dropped_writes, 4, "4 dropped, and said so");
	/* east catches up: everything settles, including the dropped ones */
	for (i = 0; i < 14; i++) {
		snprintf(gtid, sizeof(gtid), "w%d", i);
		snprintf(key, sizeof(key), "%d", i);
		fails += feed1(e, 1, gtid, 0, 10 + (uint64_t)i, key, U, "v=0", "v=1") != 0;
	}
	conflict_engine_stats(e, &st);
	ok(!st.blind, "recovered");
	is_int(st.tracked_trx, 0, "nothing left, stubs included");
	is_int(st.dropped_writes, 4, "the count stays");
	is_int(c.n, 0, "no false conflict from the dropped writes");
	conflict_engine_free(e);
}

static void test_bad_input(void)
{
	static struct cap c;
	conflict_engine *e = engine(2, 0, 1 << 16, &c);
	conflict_row r = row3("t", "1", U, "a", "b");
	conflict_config cfg;
	conflict_engine *e2 = NULL;
	rw_error err;

	is_int(feed1(e, 2, "x", 0, 1, "1", U, "a", "b"), RW_E_INVALID, "master out of range");
	is_int(feed1(e, 0, "x", 5, 1, "1", U, "a", "b"), RW_E_INVALID, "origin out of range");
	ok(feed1(e, 0, "x", 0, 10, "1", U, "a", "b") == 0, "fed");
	is_int(feed1(e, 0, "y", 0, 10, "1", U, "a", "b"), RW_E_INVALID, "position must grow");
	r.op = 7;
	is_int(feedn(e, 0, "z", 0, 20, &r, 1), RW_E_INVALID, "bad op");
	is_int(feed1(e, 0, "", 0, 30, "1", U, "a", "b"), RW_E_INVALID, "empty identity");
	ok(feedn(e, 0, "empty", 0, 40, NULL, 0) == 0, "a transaction without rows");
	memset(&cfg, 0, sizeof(cfg));
	cfg.n_masters = 1;
	is_int(conflict_engine_new(&cfg, &e2, &err), RW_E_INVALID, "one master is no ring");
	ok(e2 == NULL, "output untouched");
	cfg.n_masters = 17;
	is_int(conflict_engine_new(&cfg, &e2, &err), RW_E_INVALID, "too many masters");
	conflict_engine_free(e);
}

struct ids {
	uint64_t h[64];
	int n;
};

static int save_id(uint64_t h, void *arg)
{
	struct ids *s = arg;

	s->h[s->n++] = h;
	return 0;
}

/* The streams of a two-master race used by the restart test. */
static int restart_feed(conflict_engine *e, unsigned m, int from, int to)
{
	static const struct {
		unsigned m;
		const char *g;
		unsigned o;
		uint64_t pos;
		const char *k, *b, *a;
	} s[] = {
		{ 0, "w1", 0, 10, "1", "v=0", "v=w1" },  { 1, "e1", 1, 10, "1", "v=0", "v=e1" },
		{ 0, "e1", 1, 20, "1", "v=w1", "v=e1" }, { 0, "w2", 0, 30, "2", "v=0", "v=w2" },
		{ 1, "e2", 1, 20, "2", "v=0", "v=e2" },  { 1, "w1", 0, 30, "1", "v=e1", "v=w1" },
		{ 0, "e2", 1, 40, "2", "v=w2", "v=e2" }, { 1, "w2", 0, 40, "2", "v=e2", "v=w2" },
	};
	int i, rc = 0;

	for (i = from; i < to && i < 8; i++)
		if (s[i].m == m || m > 1)
			rc |= feed1(e, s[i].m, s[i].g, s[i].o, s[i].pos, s[i].k, U, s[i].b, s[i].a);
	return rc;
}

static void test_restart(void)
{
	static struct cap c, c2;
	conflict_engine *e = engine(2, 0, 1 << 16, &c), *e2;
	conflict_mark mk[2];
	struct ids ids = { .n = 0 };
	rw_error err;
	int i;

	ok(restart_feed(e, 9, 0, 5) == 0, "first run: 5 transactions");
	is_int(c.n, 2, "two conflicts so far");
	ok(conflict_engine_mark(e, 0, &mk[0], &err) == 0 &&
	       conflict_engine_mark(e, 1, &mk[1], &err) == 0,
	   "marks");
	ok(mk[0].unsettled && mk[0].low_water == 10, "west resumes at w1 (not in east yet)");
	ok(mk[1].unsettled && mk[1].low_water == 20, "east resumes at e2 (e1 settled)");
	is_int(mk[1].last, 20, "east's last position");
	is_int(conflict_engine_unsettled(e, save_id, &ids), 0, "unsettled identities");
	is_int(ids.n, 3, "w1, w2 and e2");
	/* restart: a new engine that knows the reported ids */
	e2 = engine(2, 0, 1 << 16, &c2);
	for (i = 0; i < c.n; i++)
		c2.known[c2.nknown++] = c.r[i].id;
	ok(conflict_engine_restore_mark(e2, 0, &mk[0], &err) == 0 &&
	       conflict_engine_restore_mark(e2, 1, &mk[1], &err) == 0,
	   "restore streams");
	for (i = 0; i < ids.n; i++)
		ok(conflict_engine_restore_unsettled(e2, ids.h[i], &err) == 0, "restore id %d", i);
	{
		conflict_bytes app = B("app"), t = B("t"), k1 = B("1"), k2 = B("2");

		ok(conflict_engine_restore_open(e2, &c.r[0].id, &app, &t, &k1, false, NULL, &err) ==
			   0 &&
		       conflict_engine_restore_open(e2, &c.r[1].id, &app, &t, &k2, false, NULL,
						    &err) == 0,
		   "the ledger's open conflicts");
	}
	/* replay each stream from its low-water mark, then the rest */
	ok(feed1(e2, 0, "w1", 0, 10, "1", U, "v=0", "v=w1") == 0 &&
	       feed1(e2, 0, "e1", 1, 20, "1", U, "v=w1", "v=e1") == 0 &&
	       feed1(e2, 0, "w2", 0, 30, "2", U, "v=0", "v=w2") == 0,
	   "west replays w1, e1 (settled: skipped), w2");
	ok(feed1(e2, 1, "e2", 1, 20, "2", U, "v=0", "v=e2") == 0, "east replays e2");
	ok(restart_feed(e2, 9, 5, 8) == 0, "then the new transactions");
	is_int(c2.n, 0, "nothing reported twice");
	{
		conflict_stats st;

		conflict_engine_stats(e2, &st);
		is_int(st.suppressed, 1, "the re-decided pair was recognised");
		is_int(st.skipped_replays, 1, "e1 skipped");
		is_int(st.tracked_trx, 0, "all settled after the restart");
	}
	/* the same streams in one run give the same two conflicts */
	ok(restart_feed(e, 9, 5, 8) == 0, "first engine continues");
	is_int(c.n, 2, "same count without restart");
	conflict_engine_free(e);
	conflict_engine_free(e2);
}

/*
 * A drift record (rows a verification read) followed across a restart: the
 * writes read again, settled or not before the checkpoint, are in the rows
 * read and leave it alone; a write after it counts.  A record restored with
 * conflict_engine_restore_open() takes its finals from the same replay.
 */
static void restart_drift(bool drift, struct cap *c2)
{
	static struct cap c;
	conflict_engine *e = engine(2, 0, 1 << 16, &c), *e2;
	conflict_bytes app = B("app"), t = B("t"), k = B("1");
	conflict_id id = { 7, 7 };
	conflict_mark mk[2];
	struct ids ids = { .n = 0 };
	rw_error err;
	int i;

	/* w1 settles on row 1; w2 is still on its way to east at the checkpoint */
	ok(feed1(e, 0, "w1", 0, 10, "1", U, "v=0", "v=1") == 0 &&
	       feed1(e, 1, "w1", 0, 10, "1", U, "v=0", "v=1") == 0 &&
	       feed1(e, 0, "w2", 0, 20, "1", U, "v=1", "v=2") == 0,
	   "w1 settled, w2 on its way");
	ok(conflict_engine_mark(e, 0, &mk[0], &err) == 0 &&
	       conflict_engine_mark(e, 1, &mk[1], &err) == 0 &&
	       conflict_engine_unsettled(e, save_id, &ids) == 0,
	   "the checkpoint");
	/* ... then a row changed with sql_log_bin=0 is found, and ringwatchd restarts */
	e2 = engine(2, 0, 1 << 16, c2);
	ok(conflict_engine_restore_mark(e2, 0, &mk[0], &err) == 0 &&
	       conflict_engine_restore_mark(e2, 1, &mk[1], &err) == 0,
	   "restore streams");
	for (i = 0; i < ids.n; i++)
		ok(conflict_engine_restore_unsettled(e2, ids.h[i], &err) == 0, "restore w2");
	ok((drift ? conflict_engine_follow_drift(e2, &id, &app, &t, &k, false, &err)
		  : conflict_engine_restore_open(e2, &id, &app, &t, &k, false, NULL, &err)) == 0,
	   "the ledger's open record on row 1 (%s)", drift ? "drift" : "restored");
	ok(feed1(e2, 0, "w1", 0, 10, "1", U, "v=0", "v=1") == 0 &&
	       feed1(e2, 1, "w1", 0, 10, "1", U, "v=0", "v=1") == 0,
	   "both streams read w1 again (settled before the checkpoint)");
	ok(feed1(e2, 0, "w2", 0, 20, "1", U, "v=1", "v=2") == 0 &&
	       feed1(e2, 1, "w2", 0, 30, "1", U, "v=1", "v=2") == 0,
	   "west reads w2 again, east shows it for the first time");
	conflict_engine_free(e);
	if (!drift) {
		conflict_engine_free(e2);
		return;
	}
	is_int(c2->updates, 0, "drift: no finals taken from writes before it");
	is_int(c2->resolved, 0, "nor resolved by them");
	ok(feed1(e2, 0, "w3", 0, 30, "1", U, "v=2", "v=3") == 0 &&
	       feed1(e2, 1, "w3", 0, 40, "1", U, "v=9", "v=3") == 0,
	   "a write after it, on both");
	ok(c2->updates == 1 && !c2->upd_diverged && c2->upd_complete, "its finals: the same row");
	is_str(c2->upd_final[1], "v=3", "east's");
	ok(c2->resolved == 1 && conflict_id_equal(&c2->last_resolved, &id), "resolved");
	is_int(c2->n, 0, "and no before-image finding on the row it was known to differ on");
	conflict_engine_free(e2);
}

static void test_drift_restart(void)
{
	static struct cap c;

	restart_drift(false, &c);
	ok(c.updates > 0 && !c.upd_diverged,
	   "restored (not drift): the finals come from the writes read again");
	restart_drift(true, &c);
}

static void test_before_image(void)
{
	static struct cap c;
	conflict_engine *e = engine(3, 0, 1 << 16, &c);

	/* east's row 3 had drifted (a write with sql_log_bin=0) */
	ok(feed1(e, 0, "w1", 0, 10, "3", U, "v=0", "v=1") == 0, "west updates row 3");
	ok(feed1(e, 1, "w1", 0, 10, "3", U, "v=9", "v=1") == 0, "east applies it over v=9");
	is_int(c.n, 1, "one finding");
	is_int(c.r[0].kind, CONFLICT_BEFORE_IMAGE, "before-image");
	is_str(conflict_kind_name(CONFLICT_BEFORE_IMAGE), "before-image", "its name");
	ok(c.r[0].m0 == 0 && c.r[0].m1 == 1, "origin west, copied by east");
	is_str(c.r[0].b0, "v=0", "west's before image");
	is_str(c.r[0].b1, "v=9", "east's before image");
	/* the copy fed before the origin: compared when the origin comes */
	ok(feed1(e, 2, "w2", 0, 20, "5", U, "v=7", "v=8") == 0, "third master's copy first");
	ok(feed1(e, 1, "w2", 0, 20, "5", U, "v=6", "v=8") == 0, "east's copy");
	is_int(c.n, 1, "nothing to compare with yet");
	ok(feed1(e, 0, "w2", 0, 30, "5", U, "v=6", "v=8") == 0, "the origin");
	is_int(c.n, 2, "the third master differs, east does not");
	ok(c.n == 2 && c.r[1].m1 == 2, "found at the third master");
	is_str(c.r[1].b1, "v=7", "with its before image");
	/* a column added at the end on east first: east's image is longer, not different */
	ok(feed1(e, 0, "w3", 0, 40, "6", U, "{\"id\":6,\"v\":\"a\"}", "{\"id\":6,\"v\":\"b\"}") ==
		   0 &&
	       feed1(e, 1, "w3", 0, 40, "6", U, "{\"id\":6,\"v\":\"a\",\"c\":0}",
		     "{\"id\":6,\"v\":\"b\",\"c\":0}") == 0,
	   "west's update, applied by east that has a new column c");
	is_int(c.n, 2, "no finding: the images have other columns, not other values");
	ok(feed1(e, 2, "w3", 0, 40, "6", U, "{\"id\":6,\"v\":\"z\"}", "{\"id\":6,\"v\":\"b\"}") ==
	       0,
	   "the third master, with the same columns, held another value");
	is_int(c.n, 3, "a finding there");
	/* the copy before its origin (kept as a hash): the same rule */
	ok(feed1(e, 1, "w4", 0, 50, "7", U, "{\"id\":7,\"v\":\"a\",\"c\":0}",
		 "{\"id\":7,\"v\":\"b\",\"c\":0}") == 0 &&
	       feed1(e, 0, "w4", 0, 60, "7", U, "{\"id\":7,\"v\":\"a\"}",
		     "{\"id\":7,\"v\":\"b\"}") == 0,
	   "east's longer copy first, then the origin");
	is_int(c.n, 3, "no finding either");
	conflict_engine_free(e);
}

static void test_resolution(void)
{
	static struct cap c;
	conflict_engine *e = engine(2, 0, 1 << 16, &c);
	conflict_stats st;
	rw_error err;

	ok(feed1(e, 0, "w1", 0, 10, "1", U, "v=0", "v=w") == 0 &&
	       feed1(e, 1, "e1", 1, 10, "1", U, "v=0", "v=e") == 0 &&
	       feed1(e, 0, "e1", 1, 20, "1", U, "v=w", "v=e") == 0 &&
	       feed1(e, 1, "w1", 0, 20, "1", U, "v=e", "v=w") == 0,
	   "update-update, diverged");
	is_int(c.n, 1, "reported");
	/* a repair on west: both streams show it after both writes */
	ok(feed1(e, 0, "w2", 0, 30, "1", U, "v=e", "v=fixed") == 0, "west writes the fix");
	is_int(c.resolved, 0, "not yet: east has not applied it");
	ok(feed1(e, 1, "w2", 0, 30, "1", U, "v=w", "v=fixed") == 0, "east applies it");
	is_int(c.resolved, 1, "resolved");
	ok(conflict_id_equal(&c.last_resolved, &c.r[0].id), "that conflict");
	conflict_engine_stats(e, &st);
	is_int(st.open, 0, "nothing open");
	/* a later write that is not after both does not resolve */
	ok(feed1(e, 0, "w3", 0, 40, "2", U, "v=0", "v=w") == 0 &&
	       feed1(e, 1, "e3", 1, 40, "2", U, "v=0", "v=e") == 0 &&
	       feed1(e, 0, "w4", 0, 50, "2", U, "v=w", "v=x") == 0 &&
	       feed1(e, 1, "w3", 0, 50, "2", U, "v=e", "v=w") == 0 &&
	       feed1(e, 1, "w4", 0, 60, "2", U, "v=w", "v=x") == 0,
	   "w4 written on west before e3 arrived there");
	is_int(c.n, 3, "e3 conflicts with w3 and with w4");
	ok(feed1(e, 0, "e3", 1, 60, "2", U, "v=x", "v=e") == 0, "west applies e3 last");
	is_int(c.resolved, 1, "no resolution: east holds x, west holds e");
	conflict_engine_stats(e, &st);
	is_int(st.open, 2, "both open");
	ok(conflict_engine_resolve(e, &c.r[1].id, &err) == 0, "a person marks one resolved");
	is_int(conflict_engine_resolve(e, &c.r[1].id, &err), RW_E_INVALID, "only once");
	conflict_engine_free(e);
}

static void test_evicted_images(void)
{
	static struct cap c;
	conflict_engine *e = engine(2, 0, 256, &c);
	char gtid[16], key[16];
	int i;

	ok(feed1(e, 0, "w1", 0, 10, "1", U, "v=0", "v=w") == 0, "west writes");
	for (i = 0; i < 20; i++) {
		snprintf(gtid, sizeof(gtid), "x%d", i);
		snprintf(key, sizeof(key), "k%d", i);
		if (feed1(e, 0, gtid, 0, 20 + (uint64_t)i, key, U, "v=0", "v=1") != 0)
			break;
	}
	ok(feed1(e, 1, "e1", 1, 10, "1", U, "v=0", "v=e") == 0, "east writes");
	is_int(c.n, 1, "still reported");
	is_str(c.r[0].b0, "!", "west's images were overwritten: said so");
	is_str(c.r[0].key, "app.t:1", "the key from east's record");
	conflict_engine_free(e);
}

/* A transaction its feed did not gather (dropped rows) or kept no images of. */
static int feed_bounded(conflict_engine *e, unsigned m, const char *gtid, unsigned origin,
			uint64_t pos, const conflict_row *rows, size_t n, size_t dropped,
			bool no_images)
{
	conflict_trx t = { 0 };
	rw_error err;

	t.identity = B(gtid);
	t.origin = origin;
	t.pos = pos;
	t.rows = rows;
	t.n_rows = n;
	t.dropped_rows = dropped;
	t.no_images = no_images;
	return conflict_engine_feed(e, m, &t, (int64_t)pos, &err);
}

/* Which appearances the engine reads only the keys and before images of. */
static void test_copy_known(void)
{
	static struct cap c;
	conflict_engine *e = engine(3, 0, 1 << 16, &c);

	ok(feed1(e, 0, "w1", 0, 10, "1", U, "v=0", "v=w") == 0, "west writes");
	ok(conflict_engine_known(e, 1, 10, (const uint8_t *)"w1", 2) == CONFLICT_KNOWN_COPY,
	   "east's appearance of it is a copy of known images");
	ok(conflict_engine_known(e, 0, 20, (const uint8_t *)"w1", 2) != CONFLICT_KNOWN_COPY,
	   "not west's again (its origin)");
	ok(conflict_engine_known(e, 1, 10, (const uint8_t *)"w9", 2) != CONFLICT_KNOWN_COPY,
	   "nor an unknown one");
	ok(feed1(e, 2, "e1", 1, 10, "2", U, "v=0", "v=e") == 0, "north shows east's e1 first");
	ok(conflict_engine_known(e, 0, 20, (const uint8_t *)"e1", 2) != CONFLICT_KNOWN_COPY,
	   "a copy's images first: the next appearance is read whole");
	ok(feed1(e, 1, "w1", 0, 10, "1", U, "v=0", "v=w") == 0, "east shows w1");
	ok(conflict_engine_known(e, 1, 30, (const uint8_t *)"w1", 2) != CONFLICT_KNOWN_COPY,
	   "not for a stream that showed it already");
	ok(conflict_engine_known(e, 2, 20, (const uint8_t *)"w1", 2) == CONFLICT_KNOWN_COPY,
	   "north's still is");
	conflict_engine_free(e);
}

static void test_bounded_transactions(void)
{
	static struct cap c;
	conflict_engine *e = engine(2, 0, 1 << 16, &c);
	conflict_row r = row3("t", "5", U, NULL, NULL);
	conflict_stats st;

	ok(feed_bounded(e, 0, "big", 0, 10, NULL, 0, 300000, false) == 0,
	   "west's transaction of 300,000 row changes, not gathered");
	conflict_engine_stats(e, &st);
	ok(st.big == 1 && st.big_unsettled == 1, "followed as a big stub, unsettled");
	is_int((int)st.dropped_writes, 300000, "its row changes counted as dropped");
	is_int((int)st.tracked_writes, 0, "no writes tracked");
	ok(conflict_engine_known(e, 1, 20, (const uint8_t *)"big", 3) == CONFLICT_KNOWN_STUB,
	   "the engine says it is a stub");
	ok(conflict_engine_known(e, 1, 20, (const uint8_t *)"other", 5) == CONFLICT_KNOWN_NONE,
	   "and of no other");
	ok(!conflict_engine_blind(e), "not blind: one transaction, not the stream, is over");
	ok(feed1(e, 1, "e1", 1, 10, "1", U, "v=0", "v=e") == 0, "east writes row 1");
	ok(conflict_engine_known(e, 1, 20, (const uint8_t *)"big", 3) != CONFLICT_KNOWN_COPY,
	   "a stub's copy is no copy checked against images");
	ok(feed_bounded(e, 1, "big", 0, 20, NULL, 0, 1, false) == 0, "east's copy of it");
	ok(feed1(e, 0, "e1", 1, 20, "1", U, "v=0", "v=e") == 0, "west's copy of east's");
	conflict_engine_stats(e, &st);
	is_int((int)st.big_unsettled, 0, "settled: shown by every stream");
	is_int(c.n, 0, "nothing compared, nothing claimed");

	/* no images kept: its writes are still compared */
	ok(feed_bounded(e, 0, "w2", 0, 30, &r, 1, 0, true) == 0, "west updates row 5, no images");
	ok(feed1(e, 1, "e2", 1, 30, "5", U, "v=0", "v=e") == 0, "east updates row 5");
	is_int(c.n, 1, "update-update found");
	is_str(c.r[0].b0, "!", "west's images: not kept, said so");
	is_str(c.r[0].b1, "v=0", "east's kept");
	is_str(c.r[0].key, "app.t:5", "the key from east's record");
	ok(feed_bounded(e, 1, "w2", 0, 40, &r, 1, 0, true) == 0 &&
	       feed1(e, 0, "e2", 1, 40, "5", U, "v=1", "v=e") == 0,
	   "each applies the other's");
	conflict_engine_stats(e, &st);
	is_int((int)st.no_images, 1, "counted once");
	is_int(c.n, 2, "west's copy of e2 held another row than e2's origin, unexplained");
	is_int(c.r[1].kind, CONFLICT_BEFORE_IMAGE,
	       "a before-image record: no after image "
	       "of w2 says what west held");
	is_int((int)st.tracked_writes, 0, "all settled");
	conflict_engine_free(e);
}

/*
 * Memory: bytes of tracking structures per unsettled write, the other
 * streams stalled, one-row transactions on distinct keys (the worst case:
 * nothing shared).  The figure moves with the hash tables' load (3/8 to 3/4),
 * so it is sampled every 500 writes up to 40,000.
 */
static void test_memory(void)
{
	static struct cap c;
	const unsigned masters[] = { 2, 3 };
	size_t k;

	for (k = 0; k < 2; k++) {
		conflict_engine *e = engine(masters[k], 0, 1 << 20, &c);
		conflict_stats st;
		char gtid[32], key[32];
		int i, fails = 0, samples = 0;
		double per, lo = 1e9, hi = 0, sum = 0;

		for (i = 0; i < 40000; i++) {
			snprintf(gtid, sizeof(gtid), "0-1-%d", i);
			snprintf(key, sizeof(key), "%d", i);
			fails += feed1(e, 0, gtid, 0, 10 + (uint64_t)i, key, U, "v=0", "v=1") != 0;
			if ((i + 1) % 500 != 0)
				continue;
			conflict_engine_stats(e, &st);
			per = (double)st.bytes_used / (double)st.tracked_writes;
			lo = per < lo ? per : lo;
			hi = per > hi ? per : hi;
			sum += per;
			samples++;
		}
		conflict_engine_stats(e, &st);
		tap_diag("%u masters, %zu unsettled writes: %.1f to %.1f bytes each, mean %.1f",
			 masters[k], st.tracked_writes, lo, hi, sum / samples);
		ok(fails == 0 && st.tracked_writes == 40000, "%u masters: all tracked", masters[k]);
		ok(sum / samples <= 100.0, "%u masters: mean at most 100 bytes per write (%.1f)",
		   masters[k], sum / samples);
		ok(hi <= 96.0 + 8.0 * (masters[k] - 2),
		   "%u masters: at most %u at the emptiest tables (%.1f)", masters[k],
		   96 + 8 * (masters[k] - 2), hi);
		conflict_engine_free(e);
	}
}

/* The hash table against a plain array, through growth and deletions. */
static void test_table(void)
{
	static uint64_t items[4096];
	static int in[4096];
	conflict_table t = { 0 };
	uint64_t rng = 42;
	int i, bad = 0, n = 0;

	for (i = 0; i < 4096; i++) {
		/* clustered keys: the high bits decide the home slot */
		items[i] = ((uint64_t)(i % 64) << 56) | (uint64_t)i;
	}
	for (i = 0; i < 200000; i++) {
		int k;
		void **slot;

		rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
		k = (int)((rng >> 33) % 4096);
		slot = conflict_table_find(&t, items[k]);
		bad += (slot != NULL) != in[k] || (slot != NULL && *slot != &items[k]);
		if (slot != NULL) {
			conflict_table_remove(&t, slot);
			in[k] = 0;
			n--;
		} else if (conflict_table_reserve(&t, 1) == 0) {
			conflict_table_add(&t, &items[k]);
			in[k] = 1;
			n++;
		}
		bad += t.n != (size_t)n || t.n * 4 > t.cap * 3;
	}
	is_int(bad, 0, "table: finds what it holds, nothing else, load at most 3/4");
	conflict_table_free(&t);
}

/* The ring: records come back whole until overwritten, then never. */
static void test_ring(void)
{
	conflict_ring r;
	uint64_t refs[200];
	size_t len;
	int i, bad = 0, held = 0;

	ok(conflict_ring_init(&r, 10) == RW_E_INVALID, "ring: too small refused");
	ok(conflict_ring_init(&r, 1000) == 0, "ring of 1000 bytes");
	for (i = 0; i < 200; i++) {
		uint8_t *p;
		size_t n = 1 + (size_t)(i * 37 % 90);

		refs[i] = conflict_ring_put(&r, n, &p);
		if (refs[i] != CONFLICT_RING_NONE)
			memset(p, i, n);
	}
	for (i = 0; i < 200; i++) {
		const uint8_t *p = conflict_ring_get(&r, refs[i], &len);
		size_t j;

		if (p == NULL)
			continue;
		held++;
		bad += len != 1 + (size_t)(i * 37 % 90);
		for (j = 0; j < len; j++)
			bad += p[j] != (uint8_t)i;
	}
	is_int(bad, 0, "ring: held records intact");
	ok(held > 5 && held < 60, "ring: the oldest overwritten (%d held)", held);
	ok(conflict_ring_get(&r, refs[0], &len) == NULL, "ring: the first is gone");
	{
		uint8_t *p;

		ok(conflict_ring_put(&r, 997, &p) == CONFLICT_RING_NONE, "ring: too big refused");
	}
	conflict_ring_free(&r);
}

static void test_names(void)
{
	conflict_id id = { 0x0123456789abcdefULL, 0xfedcba9876543210ULL };
	char buf[CONFLICT_ID_TEXT];

	conflict_id_format(&id, buf);
	is_str(buf, "0123456789abcdeffedcba9876543210", "id text");
	is_str(conflict_op_name(CONFLICT_OP_DELETE), "delete", "op name");
	is_str(conflict_kind_name((enum conflict_kind)99), "unknown", "unknown kind");
	ok(conflict_identity_hash((const uint8_t *)"1-1-1", 5) !=
	       conflict_identity_hash((const uint8_t *)"1-1-2", 5),
	   "identity hashes differ");
}

/* A gap's coverage for the tests: the identities listed in arg, a NULL-ended array. */
static bool covered_by(const conflict_bytes *identity, void *arg)
{
	const char *const *list = arg;

	for (; *list != NULL; list++)
		if (strlen(*list) == identity->len &&
		    memcmp(*list, identity->p, identity->len) == 0)
			return true;
	return false;
}

/* A transaction too big to gather, whose copy a gap's purged binlogs held, settles there. */
static void test_big_gap(void)
{
	static const char *lost[] = { "big", NULL };
	static struct cap c;
	conflict_engine *e = engine(2, 0, 1 << 20, &c);
	conflict_stats st;
	rw_error err;

	ok(feed_bounded(e, 1, "big", 1, 10, NULL, 0, 500000, false) == 0,
	   "east's transaction of 500,000 row changes");
	conflict_engine_stats(e, &st);
	is_int((int)st.big_unsettled, 1, "unsettled: west has not shown it");
	ok(conflict_engine_gap(e, 0, 1000, covered_by, (void *)lost, 1, &err) == 0,
	   "west's gap: its purged binlogs held it");
	conflict_engine_stats(e, &st);
	ok(st.gap_shown == 1 && st.big_unsettled == 0 && st.tracked_trx == 0,
	   "shown there by its identity, and settled");
	conflict_engine_free(e);
}

/*
 * West's (0) binlogs between position 100 and 1000 are purged unread: they held east's
 * update e1 of row 1, west's own w1 of row 2 and e3 of row 3, and west's w2 of row 3.
 */
static void test_gap(void)
{
	static const char *lost[] = { "e1", "w1", "e3", "w2", "e4", NULL };
	static struct cap c;
	conflict_engine *e = engine(2, 0, 1 << 20, &c);
	conflict_stats st;
	rw_error err;

	ok(feed1(e, 0, "w0", 0, 100, "9", U, "v=0", "v=w") == 0, "west wrote, before the gap");
	ok(feed1(e, 1, "w0", 0, 100, "9", U, "v=0", "v=w") == 0, "east applied it");
	/* east's stream shows what west's gap hides */
	ok(feed1(e, 1, "e1", 1, 200, "1", U, "v=0", "v=e") == 0, "east writes row 1");
	ok(feed1(e, 1, "w1", 0, 300, "2", U, "v=0", "v=w") == 0, "east applies west's w1");
	ok(feed1(e, 1, "e3", 1, 400, "3", U, "v=0", "v=e") == 0, "east writes row 3");
	ok(feed1(e, 1, "w2", 0, 500, "3", U, "v=e", "v=w") == 0, "east applies west's w2 of it");
	is_int(c.n, 0, "nothing decided: west's stream has not shown them");
	ok(conflict_engine_gap(e, 0, 100, covered_by, (void *)lost, 1, &err) != 0,
	   "a gap not after the stream's last position is refused");
	ok(conflict_engine_gap(e, 0, 1000, covered_by, (void *)lost, 1, &err) == 0, "west's gap");
	conflict_engine_stats(e, &st);
	is_int(st.gap_shown, 4, "the four transactions the purged binlogs held, shown there");
	is_int(st.tracked_trx, 0, "and every one settled");
	is_int(c.n, 0,
	       "no conflict: east's rows reached west before west's own (w2 after e3: "
	       "east's stream says west had e3)");
	/* after the gap: west writes row 1, which it had from east */
	ok(feed1(e, 0, "w3", 0, 1100, "1", U, "v=e", "v=w3") == 0, "west writes row 1 after it");
	is_int(c.n, 0, "not taken for crossing east's e1, which west had before the gap");
	ok(feed1(e, 1, "w3", 0, 1100, "1", U, "v=e", "v=w3") == 0, "east applies it");
	/* tracked only after the gap (a replay of east's stream): shown at the gap too */
	ok(feed1(e, 1, "e4", 1, 1200, "4", U, "v=0", "v=e") == 0,
	   "east writes row 4, which the purged binlogs also held");
	conflict_engine_stats(e, &st);
	is_int(st.gap_shown, 5, "shown at west's gap as it is tracked");
	is_int(st.tracked_trx, 0, "settled at once");
	is_int(c.n, 0, "still nothing");
	conflict_engine_free(e);

	/* both writes of a crossing pair in the purged binlogs: not decided, not guessed */
	static const char *both[] = { "e5", "w5", NULL };
	e = engine(2, 0, 1 << 20, &c);
	ok(feed1(e, 1, "e5", 1, 100, "5", U, "v=0", "v=e") == 0, "east writes row 5");
	ok(feed1(e, 1, "w5", 0, 200, "5", U, "v=0", "v=w") == 0,
	   "east applies west's write of it, made before east's reached west?");
	ok(conflict_engine_gap(e, 0, 1000, covered_by, (void *)both, 1, &err) == 0, "west's gap");
	conflict_engine_stats(e, &st);
	is_int(c.n, 0, "west's order of the two is gone: no conflict claimed");
	is_int(st.gap_undecided, 1, "the pair counted as undecided");
	is_int(st.tracked_trx, 0, "both settled");
	conflict_engine_free(e);

	/* a write of west's not in the purged binlogs still crosses one of east's that is */
	static const char *east_only[] = { "e6", NULL };
	e = engine(2, 0, 1 << 20, &c);
	ok(feed1(e, 1, "e6", 1, 100, "6", U, "v=0", "v=e") == 0, "east writes row 6");
	ok(conflict_engine_gap(e, 0, 1000, covered_by, (void *)east_only, 1, &err) == 0,
	   "west's gap held it");
	ok(feed1(e, 1, "w6", 0, 200, "7", U, "v=0", "v=w") == 0, "east applies west's w6 of row 7");
	ok(feed1(e, 0, "w6", 0, 1100, "7", U, "v=0", "v=w") == 0,
	   "west shows its own after the gap");
	is_int(c.n, 0, "other rows: nothing");
	ok(feed1(e, 1, "e7", 1, 300, "7", U, "v=w", "v=e") == 0, "east writes row 7 too");
	ok(feed1(e, 0, "e7", 1, 1200, "7", U, "v=w", "v=e") == 0, "west applies it after its w6");
	conflict_engine_stats(e, &st);
	is_int(c.n, 0, "causal: east had w6 before e7");
	is_int(st.gap_undecided, 0, "and nothing undecided");
	conflict_engine_free(e);
}

int main(void)
{
	test_update_update();
	test_same_value();
	test_insert_insert();
	test_update_delete();
	test_delete_delete();
	test_causal();
	test_ring_of_three();
	test_detection_time();
	test_sixteen_masters();
	test_keys_and_tables();
	test_big_transaction();
	test_storm();
	test_stalled_and_blind();
	test_bad_input();
	test_restart();
	test_drift_restart();
	test_gap();
	test_big_gap();
	test_before_image();
	test_resolution();
	test_evicted_images();
	test_bounded_transactions();
	test_copy_known();
	test_memory();
	test_table();
	test_ring();
	test_names();
	return tap_done();
}
