/*
 * test_schema.c - table shapes built by hand: their keys, their fit with
 * table maps, their CREATE TABLE, fingerprint and diff, and a schema_db.
 */
#include "ringwatch/schema.h"

#include "../tap.h"

#include <stdlib.h>

/* ---- building shapes -------------------------------------------------------- */

static void bail(const char *what)
{
	printf("Bail out! %s\n", what);
	exit(1);
}

static schema_table *table(const char *name)
{
	schema_table *t = schema_table_new("s", name);

	if (t == NULL)
		bail("schema_table_new");
	return t;
}

/* strdup() that keeps NULL, for fields of the caller's own columns and indexes. */
static char *dup(const char *s)
{
	char *d = s != NULL ? strdup(s) : NULL;

	if (s != NULL && d == NULL)
		bail("strdup");
	return d;
}

/* A column: def NULL for none.  Built as a caller would, added, then cleared. */
static void column(schema_table *t, const char *name, const char *type, uint8_t binlog_type,
		   bool nullable, const char *def)
{
	schema_column c = {
		.name = dup(name),
		.type = dup(type),
		.def = dup(def),
		.binlog_type = binlog_type,
		.nullable = nullable,
	};

	if (schema_table_add_column(t, &c, -1) < 0)
		bail("schema_table_add_column");
	schema_column_clear(&c);
	if (c.name != NULL || c.def != NULL)
		bail("schema_column_clear left strings");
}

/* An index of n parts; NULL parts are expressions, prefix may be NULL (whole columns). */
static void index_of(schema_table *t, int kind, const char *name, uint32_t n,
		     const char *const *cols, const uint32_t *prefix)
{
	schema_index ix = {
		.name = dup(name),
		.kind = kind,
		.n = n,
		.cols = calloc(n + 1, sizeof(char *)),
		.prefix = prefix != NULL ? calloc(n + 1, sizeof(uint32_t)) : NULL,
	};

	if (ix.cols == NULL || (prefix != NULL && ix.prefix == NULL))
		bail("calloc");
	for (uint32_t p = 0; p < n; p++) {
		ix.cols[p] = dup(cols[p]);
		if (prefix != NULL)
			ix.prefix[p] = prefix[p];
	}
	if (schema_table_add_index(t, &ix) < 0)
		bail("schema_table_add_index");
	schema_index_clear(&ix);
	if (ix.cols != NULL || ix.name != NULL)
		bail("schema_index_clear left strings");
}

#define COLS(...)                                                                                  \
	(const char *const[])                                                                      \
	{                                                                                          \
		__VA_ARGS__                                                                        \
	}

static void finish(schema_table *t)
{
	rw_error err;

	if (schema_table_finish(t, &err) < 0)
		bail(err.text);
}

/* id int NOT NULL, a varchar(20) NULL, b int NOT NULL: keys added by each test */
static schema_table *abc(const char *name)
{
	schema_table *t = table(name);

	column(t, "id", "int", BINLOG_TYPE_LONG, false, NULL);
	column(t, "a", "varchar(20)", BINLOG_TYPE_VARCHAR, true, NULL);
	column(t, "b", "int", BINLOG_TYPE_LONG, false, "5");
	return t;
}

/* ---- keys ------------------------------------------------------------------- */

static void test_primary(void)
{
	schema_table *t = abc("t");
	schema_column z = { .name = "z", .type = "int", .nullable = true };
	const row_table_info *info;

	index_of(t, SCHEMA_INDEX_PRIMARY, "PRIMARY", 1, COLS("ID"), NULL);
	index_of(t, SCHEMA_INDEX_UNIQUE, "ua", 1, COLS("a"), NULL);
	index_of(t, SCHEMA_INDEX_UNIQUE, "ub", 1, COLS("b"), NULL);
	index_of(t, SCHEMA_INDEX_PLAIN, "k", 2, COLS("a", "b"), NULL);
	finish(t);
	info = schema_table_info(t);
	is_int(t->n_key, 1, "PRIMARY is the key (named in another case)");
	is_int(t->key[0], 0, "on column 0");
	ok(!schema_table_keyless(t), "not keyless");
	is_int(t->n_unique, 2, "both UNIQUE keys are the others, the nullable one too");
	ok(t->n_unique == 2 && t->unique_len[0] == 1 && t->unique[0][0] == 1 &&
	       t->unique_len[1] == 1 && t->unique[1][0] == 2,
	   "ua on column 1, ub on column 2");
	ok(info->n_names == 3 && strcmp(info->names[1], "a") == 0 && info->pk == t->key &&
	       info->n_pk == 1 && info->n_unique == 2 && info->unique_len[1] == 1,
	   "row_table_info carries names, key and unique keys");
	is_int(schema_table_column(t, "B"), 2, "columns found case-insensitively");
	is_int(schema_table_column(t, "nope"), -1, "a missing column is -1");
	is_int(schema_table_index(t, "UB"), 2, "indexes found case-insensitively");
	is_int(schema_table_index(t, "nope"), -1, "a missing index is -1");

	/* a column added first: finish again and every position moves */
	is_int(schema_table_add_column(t, &z, 0), 0, "column added first");
	is_int(schema_table_add_column(t, &z, 9), RW_E_INVALID, "past the end: RW_E_INVALID");
	finish(t);
	ok(t->ncols == 4 && strcmp(t->names[0], "z") == 0 && strcmp(t->names[1], "id") == 0,
	   "finished again: names follow");
	ok(t->n_key == 1 && t->key[0] == 1, "key follows (column 1)");
	ok(t->n_unique == 2 && t->unique[0][0] == 2 && t->unique[1][0] == 3, "unique keys follow");
	schema_table_free(t);
}

static void test_unique_as_key(void)
{
	schema_table *t = abc("t");

	index_of(t, SCHEMA_INDEX_UNIQUE, "ua", 1, COLS("a"), NULL);
	index_of(t, SCHEMA_INDEX_UNIQUE, "u_id_b", 2, COLS("id", "b"), NULL);
	index_of(t, SCHEMA_INDEX_UNIQUE, "ub", 1, COLS("b"), NULL);
	finish(t);
	ok(t->n_key == 2 && t->key[0] == 0 && t->key[1] == 2,
	   "no PRIMARY: the first NOT NULL UNIQUE is the key (id, b)");
	ok(t->n_unique == 2 && t->unique[0][0] == 1 && t->unique[1][0] == 2,
	   "the nullable one and the later one are unique keys");
	schema_table_free(t);
}

static void test_keyless(void)
{
	schema_table *t = abc("t");

	index_of(t, SCHEMA_INDEX_UNIQUE, "ua", 1, COLS("a"), NULL);
	index_of(t, SCHEMA_INDEX_PLAIN, "kb", 1, COLS("b"), NULL);
	finish(t);
	ok(schema_table_keyless(t), "only a nullable UNIQUE: keyless");
	ok(t->key == NULL && t->info.pk == NULL && t->info.n_pk == 0, "no key in the info");
	ok(t->n_unique == 1 && t->unique[0][0] == 1, "the nullable UNIQUE is listed");
	schema_table_free(t);

	t = abc("t");
	index_of(t, SCHEMA_INDEX_UNIQUE, "u_prefix", 1, COLS("b"), (const uint32_t[]){ 4 });
	index_of(t, SCHEMA_INDEX_UNIQUE, "u_expr", 2, COLS("id", NULL), NULL);
	index_of(t, SCHEMA_INDEX_UNIQUE, "u_empty", 0, NULL, NULL);
	finish(t);
	ok(schema_table_keyless(t), "a prefix or expression UNIQUE is no key");
	is_int(t->n_unique, 0, "nor a unique key");
	schema_table_free(t);

	t = abc("t");
	index_of(t, SCHEMA_INDEX_PRIMARY, "PRIMARY", 2, COLS("a", "id"),
		 (const uint32_t[]){ 8, 0 });
	finish(t);
	ok(t->n_key == 2 && t->key[0] == 1 && t->key[1] == 0,
	   "a PRIMARY with a prefix part is still the key, by whole columns");
	schema_table_free(t);

	t = table("empty");
	finish(t);
	ok(schema_table_keyless(t) && t->info.n_names == 0, "a table of no columns finishes");
	schema_table_free(t);
}

static void test_finish_errors(void)
{
	schema_table *t = abc("t");
	rw_error err;

	index_of(t, SCHEMA_INDEX_PRIMARY, "PRIMARY", 1, COLS("id"), NULL);
	finish(t);
	index_of(t, SCHEMA_INDEX_UNIQUE, "ix_gone", 2, COLS("a", "gone"), NULL);
	is_int(schema_table_finish(t, &err), RW_E_INVALID, "an index on a missing column");
	ok(strstr(err.text, "ix_gone") != NULL && strstr(err.text, "gone,") != NULL,
	   "the error names the index and the column: %s", err.text);
	ok(t->n_key == 1 && t->key[0] == 0 && t->names != NULL,
	   "the derived fields stay as they were");
	schema_table_free(t);

	t = abc("t");
	for (int k = 0; k < 10; k++) {
		char name[8];
		snprintf(name, sizeof(name), "u%d", k);
		index_of(t, SCHEMA_INDEX_UNIQUE, name, 1, COLS("a"), NULL);
	}
	finish(t);
	is_int(t->n_unique, ROW_CHANGE_MAX_UNIQUE, "at most ROW_CHANGE_MAX_UNIQUE unique keys");
	schema_table_free(t);
}

static void test_copy(void)
{
	schema_table *t = abc("t"), *c;

	index_of(t, SCHEMA_INDEX_PRIMARY, "PRIMARY", 1, COLS("id"), NULL);
	index_of(t, SCHEMA_INDEX_UNIQUE, "ua", 1, COLS("a"), NULL);
	t->versioned = true;
	finish(t);
	c = schema_table_copy(t, NULL, "t2");
	ok(c != NULL, "copied");
	if (c == NULL)
		bail("schema_table_copy");
	ok(strcmp(c->schema, "s") == 0 && strcmp(c->name, "t2") == 0, "under the new name only");
	ok(c->ncols == 3 && c->cols[0].name != t->cols[0].name &&
	       strcmp(c->cols[2].def, "5") == 0 && c->versioned,
	   "columns are copies");
	ok(c->nidx == 2 && c->idx[1].cols[0] != t->idx[1].cols[0] &&
	       strcmp(c->idx[1].cols[0], "a") == 0,
	   "indexes are copies");
	ok(c->names != t->names && c->names[1] == c->cols[1].name && c->key != t->key &&
	       c->n_key == 1 && c->key[0] == 0,
	   "derived fields are the copy's own");
	ok(c->n_unique == 1 && c->unique[0] != t->unique[0] && c->unique[0][0] == 1 &&
	       c->info.names == (const char *const *)c->names && c->info.pk == c->key,
	   "unique keys and info too");
	schema_table_free(t);
	ok(strcmp(c->names[0], "id") == 0, "and outlive the original");
	schema_table_free(c);
}

/* ---- table maps ------------------------------------------------------------- */

struct map {
	binlog_column cols[4];
	uint16_t pk[4];
	binlog_table_map tm;
};

/* The map of abc() with PRIMARY (id): names and pk given. */
static void map_of_abc(struct map *m)
{
	memset(m, 0, sizeof(*m));
	m->cols[0] = (binlog_column){ .type = BINLOG_TYPE_LONG,
				      .real_type = BINLOG_TYPE_LONG,
				      .name = "id" };
	m->cols[1] = (binlog_column){ .type = BINLOG_TYPE_VARCHAR,
				      .real_type = BINLOG_TYPE_VARCHAR,
				      .name = "a" };
	m->cols[2] =
	    (binlog_column){ .type = BINLOG_TYPE_LONG, .real_type = BINLOG_TYPE_LONG, .name = "b" };
	m->pk[0] = 0;
	m->tm = (binlog_table_map){ .schema = "s",
				    .table = "t",
				    .ncols = 3,
				    .cols = m->cols,
				    .n_pk = 1,
				    .pk = m->pk,
				    .has_names = 1,
				    .has_pk = 1 };
}

static void test_check_map(void)
{
	schema_table *t = abc("t");
	struct map m;
	char why[200];

	index_of(t, SCHEMA_INDEX_PRIMARY, "PRIMARY", 1, COLS("id"), NULL);
	finish(t);
	map_of_abc(&m);
	is_int(schema_table_check_map(t, &m.tm, why, sizeof(why)), 0, "the map fits");
	is_str(why, "", "and says nothing");

	m.tm.ncols = 2;
	is_int(schema_table_check_map(t, &m.tm, why, sizeof(why)), -1, "a column short");
	is_str(why, "2 columns in the binlog, 3 in the history", "says the counts");

	map_of_abc(&m);
	m.cols[1].type = m.cols[1].real_type = BINLOG_TYPE_LONG;
	is_int(schema_table_check_map(t, &m.tm, why, sizeof(why)), -1, "a type differs");
	is_str(why, "column 2 (a) is LONG in the binlog, varchar(20) in the history",
	       "says which and how");
	is_int(schema_table_check_map(t, &m.tm, NULL, 0), -1, "why may be NULL");

	map_of_abc(&m);
	m.cols[0].name = "ident";
	is_int(schema_table_check_map(t, &m.tm, why, sizeof(why)), -1, "a name differs");
	is_str(why, "column 1 is named ident in the binlog, id in the history", "says the names");
	m.cols[0].name = "ID";
	is_int(schema_table_check_map(t, &m.tm, why, sizeof(why)), 0,
	       "names compare case-insensitively");
	m.cols[0].name = "ident";
	m.tm.has_names = 0;
	is_int(schema_table_check_map(t, &m.tm, why, sizeof(why)), 0,
	       "without names metadata, names are not compared");

	map_of_abc(&m);
	m.pk[1] = 2;
	m.tm.n_pk = 2;
	is_int(schema_table_check_map(t, &m.tm, why, sizeof(why)), -1, "the primary key differs");
	is_str(why, "primary key (id, b) in the binlog, (id) in the history", "says both keys");
	m.tm.n_pk = 0;
	is_int(schema_table_check_map(t, &m.tm, why, sizeof(why)), -1, "no primary key in the map");
	is_str(why, "no primary key in the binlog, (id) in the history", "says so");
	m.tm.has_pk = 0;
	is_int(schema_table_check_map(t, &m.tm, why, sizeof(why)), 0,
	       "without pk metadata, the key is not compared");
	schema_table_free(t);
}

static void test_check_map_types(void)
{
	schema_table *t = table("t");
	schema_column c = { .name = "ts",
			    .type = "timestamp",
			    .binlog_type = BINLOG_TYPE_TIMESTAMP2,
			    .alt_type = BINLOG_TYPE_TIMESTAMP };
	struct map m;
	char why[200];

	if (schema_table_add_column(t, &c, -1) < 0)
		bail("add ts");
	column(t, "e", "enum('x','y')", BINLOG_TYPE_ENUM, true, NULL);
	column(t, "v", "varchar(9) compressed", BINLOG_TYPE_VARCHAR_COMPRESSED, true, NULL);
	column(t, "u", "mystery", 0, true, NULL);
	finish(t);
	memset(&m, 0, sizeof(m));
	m.cols[0] =
	    (binlog_column){ .type = BINLOG_TYPE_TIMESTAMP2, .real_type = BINLOG_TYPE_TIMESTAMP2 };
	m.cols[1] = (binlog_column){ .type = BINLOG_TYPE_STRING, .real_type = BINLOG_TYPE_ENUM };
	m.cols[2] = (binlog_column){ .type = BINLOG_TYPE_VARCHAR_COMPRESSED,
				     .real_type = BINLOG_TYPE_VARCHAR_COMPRESSED };
	m.cols[3] =
	    (binlog_column){ .type = BINLOG_TYPE_GEOMETRY, .real_type = BINLOG_TYPE_GEOMETRY };
	m.tm = (binlog_table_map){ .ncols = 4, .cols = m.cols };
	is_int(schema_table_check_map(t, &m.tm, why, sizeof(why)), 0,
	       "TIMESTAMP2, STRING resolved to ENUM, VARCHAR_COMPRESSED, any for type 0: fit");
	m.cols[0].type = m.cols[0].real_type = BINLOG_TYPE_TIMESTAMP;
	is_int(schema_table_check_map(t, &m.tm, why, sizeof(why)), 0,
	       "old TIMESTAMP: the alt type");
	m.cols[0].type = m.cols[0].real_type = BINLOG_TYPE_DATETIME2;
	is_int(schema_table_check_map(t, &m.tm, why, sizeof(why)), -1, "DATETIME2 does not fit");
	is_str(why, "column 1 (ts) is DATETIME2 in the binlog, timestamp in the history", "why");
	m.cols[0].type = m.cols[0].real_type = BINLOG_TYPE_TIMESTAMP2;
	m.cols[1].real_type = BINLOG_TYPE_STRING;
	is_int(schema_table_check_map(t, &m.tm, why, sizeof(why)), -1, "a CHAR is no ENUM");
	is_str(why, "column 2 (e) is STRING in the binlog, enum('x','y') in the history", "why");
	m.cols[1].real_type = BINLOG_TYPE_ENUM;
	m.cols[2].type = m.cols[2].real_type = BINLOG_TYPE_VARCHAR;
	is_int(schema_table_check_map(t, &m.tm, why, sizeof(why)), -1,
	       "a plain VARCHAR is no compressed column");
	is_str(why, "column 3 (v) is VARCHAR in the binlog, varchar(9) compressed in the history",
	       "why");
	schema_table_free(t);
}

/* ---- text forms ------------------------------------------------------------- */

static void test_sql(void)
{
	schema_table *t = schema_table_new("my`db", "t");
	schema_column id = {
		.name = "id", .type = "int unsigned", .is_unsigned = true, .auto_increment = true
	};
	schema_column nm = { .name = "na`me",
			     .type = "varchar(20)",
			     .charset = "utf8mb4",
			     .def = "'x'",
			     .nullable = true };
	schema_column ts = { .name = "ts", .type = "timestamp", .def = "NULL", .nullable = true };
	schema_column g = {
		.name = "g", .type = "int", .generated = true, .nullable = true, .invisible = true
	};
	rw_buf out = RW_BUF_INIT;

	if (t == NULL || schema_table_add_column(t, &id, -1) < 0 ||
	    schema_table_add_column(t, &nm, -1) < 0 || schema_table_add_column(t, &ts, -1) < 0 ||
	    schema_table_add_column(t, &g, -1) < 0)
		bail("sql table");
	index_of(t, SCHEMA_INDEX_PRIMARY, "PRIMARY", 1, COLS("id"), NULL);
	index_of(t, SCHEMA_INDEX_UNIQUE, "u", 2, COLS("na`me", "ts"), NULL);
	index_of(t, SCHEMA_INDEX_PLAIN, "k", 1, COLS("na`me"), (const uint32_t[]){ 10 });
	index_of(t, SCHEMA_INDEX_PLAIN, "e", 2, COLS(NULL, "id"), NULL);
	index_of(t, SCHEMA_INDEX_FULLTEXT, "ft", 1, COLS("na`me"), NULL);
	index_of(t, SCHEMA_INDEX_SPATIAL, "sp", 1, COLS("g"), NULL);
	t->versioned = true;
	finish(t);
	schema_table_sql(t, &out);
	is_str(out.p,
	       "CREATE TABLE `my``db`.`t` (\n"
	       "  `id` int unsigned NOT NULL AUTO_INCREMENT,\n"
	       "  `na``me` varchar(20) CHARACTER SET utf8mb4 DEFAULT 'x',\n"
	       "  `ts` timestamp NULL DEFAULT NULL,\n"
	       "  `g` int GENERATED ALWAYS AS (NULL) VIRTUAL INVISIBLE,\n"
	       "  PRIMARY KEY (`id`),\n"
	       "  UNIQUE KEY `u` (`na``me`,`ts`),\n"
	       "  KEY `k` (`na``me`(10)),\n"
	       "  KEY `e` ((NULL),`id`),\n"
	       "  FULLTEXT KEY `ft` (`na``me`),\n"
	       "  SPATIAL KEY `sp` (`g`)\n"
	       ") WITH SYSTEM VERSIONING",
	       "CREATE TABLE of every kind of column and key");
	schema_table_free(t);

	t = schema_table_new("", "bare");
	rw_buf_reset(&out);
	schema_table_sql(t, &out);
	is_str(out.p, "CREATE TABLE `bare` (\n)", "no schema, no columns");
	schema_table_free(t);
	rw_buf_free(&out);
}

static schema_table *shape(const char *name)
{
	schema_table *t = abc(name);

	index_of(t, SCHEMA_INDEX_PRIMARY, "PRIMARY", 1, COLS("id"), NULL);
	index_of(t, SCHEMA_INDEX_PLAIN, "kb", 1, COLS("b"), NULL);
	index_of(t, SCHEMA_INDEX_UNIQUE, "ua", 2, COLS("a", NULL), (const uint32_t[]){ 4, 0 });
	finish(t);
	return t;
}

static void test_fingerprint(void)
{
	schema_table *a = shape("t"), *b = table("other");
	rw_buf fa = RW_BUF_INIT, fb = RW_BUF_INIT;

	schema_table_fingerprint(a, &fa);
	is_str(fa.p,
	       "id int notnull\n"
	       "a varchar(20) null\n"
	       "b int notnull default=5\n"
	       "pk(id)\n"
	       "index kb(b)\n"
	       "unique ua(a(4),())\n",
	       "fingerprint text: columns, key, indexes by name");

	/* the same shape: names in other cases, indexes in another order */
	column(b, "ID", "int", BINLOG_TYPE_LONG, false, NULL);
	column(b, "A", "varchar(20)", BINLOG_TYPE_VARCHAR, true, NULL);
	column(b, "b", "int", BINLOG_TYPE_LONG, false, "5");
	index_of(b, SCHEMA_INDEX_UNIQUE, "UA", 2, COLS("A", NULL), (const uint32_t[]){ 4, 0 });
	index_of(b, SCHEMA_INDEX_PLAIN, "kb", 1, COLS("B"), NULL);
	index_of(b, SCHEMA_INDEX_PRIMARY, "PRIMARY", 1, COLS("Id"), NULL);
	finish(b);
	schema_table_fingerprint(b, &fb);
	is_str(fb.p, fa.p, "an equal shape gives equal text");
	ok(schema_table_fingerprint_hash(a) == schema_table_fingerprint_hash(b),
	   "and equal hashes");

	free(b->cols[2].def);
	b->cols[2].def = strdup("6");
	ok(schema_table_fingerprint_hash(a) != schema_table_fingerprint_hash(b),
	   "a default changed: the hash differs");
	free(b->cols[2].def);
	b->cols[2].def = NULL;
	ok(schema_table_fingerprint_hash(a) != schema_table_fingerprint_hash(b),
	   "a default dropped: the hash differs");
	b->versioned = true;
	rw_buf_reset(&fb);
	schema_table_fingerprint(b, &fb);
	ok(strstr(fb.p, "pk(id)\nversioned\n") != NULL, "versioning is in the fingerprint");
	rw_buf_free(&fa);
	rw_buf_free(&fb);
	schema_table_free(a);
	schema_table_free(b);
}

static void diff_is(const schema_table *a, const schema_table *b, const char *want,
		    const char *name)
{
	rw_buf out = RW_BUF_INIT;

	schema_table_diff(a, "west", b, "east", &out);
	is_str(out.p != NULL ? out.p : "", want, "diff: %s", name);
	rw_buf_free(&out);
}

static void test_diff(void)
{
	schema_table *a = shape("t"), *b = shape("t");

	diff_is(a, b, "", "equal shapes: nothing");

	column(a, "note", "text", BINLOG_TYPE_BLOB, true, NULL);
	column(b, "extra", "int", BINLOG_TYPE_LONG, true, NULL);
	finish(a);
	finish(b);
	diff_is(a, b, "column note only on west; column extra only on east", "columns on one side");
	schema_table_free(a);
	schema_table_free(b);

	a = shape("t");
	b = shape("t");
	free(b->cols[1].type);
	b->cols[1].type = strdup("varchar(40)");
	b->cols[1].nullable = false;
	free(b->cols[2].def);
	b->cols[2].def = NULL;
	finish(b);
	diff_is(a, b,
		"a is varchar(20) on west, varchar(40) on east; "
		"a is NULL on west, NOT NULL on east; "
		"b has default 5 on west, none on east",
		"type, nullability, default");
	diff_is(b, a,
		"a is varchar(40) on west, varchar(20) on east; "
		"a is NOT NULL on west, NULL on east; "
		"b has no default on west, 5 on east",
		"and the other way");
	schema_table_free(b);

	b = table("t");
	column(b, "b", "int", BINLOG_TYPE_LONG, false, "5");
	column(b, "id", "int", BINLOG_TYPE_LONG, false, NULL);
	column(b, "a", "varchar(20)", BINLOG_TYPE_VARCHAR, true, NULL);
	index_of(b, SCHEMA_INDEX_PRIMARY, "PRIMARY", 2, COLS("id", "b"), NULL);
	index_of(b, SCHEMA_INDEX_PLAIN, "kb", 2, COLS("b", "a"), NULL);
	index_of(b, SCHEMA_INDEX_PLAIN, "ua", 2, COLS("a", NULL), (const uint32_t[]){ 4, 0 });
	index_of(b, SCHEMA_INDEX_PLAIN, "kc", 1, COLS("a"), NULL);
	finish(b);
	diff_is(
	    a, b,
	    "column order differs: west (id, a, b), east (b, id, a); "
	    "primary key (id) on west, (id, b) on east; "
	    "index kb is (b) on west, (b, a) on east; "
	    "index ua is unique (a(4), (expression)) on west, plain (a(4), (expression)) on east; "
	    "index kc missing on west",
	    "order, primary key, indexes");
	schema_table_free(b);

	b = shape("t");
	b->idx[0].kind = SCHEMA_INDEX_UNIQUE;
	free(b->idx[0].name);
	b->idx[0].name = strdup("uid");
	b->versioned = true;
	finish(b);
	diff_is(a, b,
		"primary key (id) on west, no primary key on east; "
		"index uid missing on west; system versioning only on east",
		"primary key dropped, versioning");
	diff_is(b, a,
		"no primary key on west, (id) on east; "
		"index uid missing on east; system versioning only on west",
		"primary key added");
	schema_table_free(a);
	schema_table_free(b);
}

/* ---- schema_db -------------------------------------------------------------- */

static void collect(const char *schema, const char *table, const schema_table *t, const char *why,
		    void *arg)
{
	rw_buf *out = arg;

	rw_buf_printf(out, "%s.%s=%s ", schema, table, t != NULL ? t->name : why);
}

static char *listing(const schema_db *db)
{
	rw_buf out = RW_BUF_INIT;

	rw_buf_puts(&out, "");
	schema_db_each(db, collect, &out);
	return out.p;
}

static void test_db_basics(void)
{
	schema_db *db = schema_db_new();
	const schema_table *t;
	const char *why;
	char *list;

	if (db == NULL)
		bail("schema_db_new");
	is_int(schema_db_get(db, "s", "t", &t, &why), SCHEMA_ABSENT, "absent at first");
	ok(t == NULL && why == NULL, "with nothing to say");
	is_int(schema_db_put(db, shape("t")), 0, "put");
	is_int(schema_db_get(db, "s", "t", &t, &why), SCHEMA_KNOWN, "known");
	ok(t != NULL && t->ncols == 3 && why == NULL, "with its shape");
	is_int(schema_db_get(db, "s", "T", NULL, NULL), SCHEMA_ABSENT,
	       "table names are case-sensitive");
	is_int(schema_db_get(db, "S", "t", NULL, NULL), SCHEMA_ABSENT, "schema names too");
	is_int(schema_db_set_unknown(db, "s", "t", "CREATE TABLE ... SELECT"), 0, "set unknown");
	is_int(schema_db_get(db, "s", "t", &t, &why), SCHEMA_UNKNOWN, "unknown now");
	ok(t == NULL && why != NULL && strcmp(why, "CREATE TABLE ... SELECT") == 0, "with why");
	is_int(schema_db_put(db, shape("t")), 0, "put over unknown");
	is_int(schema_db_get(db, "s", "t", NULL, NULL), SCHEMA_KNOWN, "known again");
	is_int(schema_db_count(db), 1, "one entry");

	is_int(schema_db_put(db, shape("u")), 0, "another");
	is_int(schema_db_set_unknown(db, "a", "z", "why z"), 0, "an unknown in another schema");
	is_int(schema_db_rename(db, "s", "t", "s", "u"), 0, "rename onto u");
	is_int(schema_db_count(db), 2, "u replaced");
	is_int(schema_db_get(db, "s", "t", NULL, NULL), SCHEMA_ABSENT, "t gone");
	is_int(schema_db_get(db, "s", "u", &t, NULL), SCHEMA_KNOWN, "u there");
	ok(t != NULL && strcmp(t->name, "u") == 0 && strcmp(t->schema, "s") == 0,
	   "the shape renamed too");
	is_int(schema_db_rename(db, "s", "nope", "s", "x"), -1, "renaming an absent table: -1");
	is_int(schema_db_rename(db, "s", "u", "b", "u"), 0, "rename to another schema");
	is_int(schema_db_rename(db, "a", "z", "b", "a"), 0, "rename an unknown");
	is_int(schema_db_get(db, "b", "a", NULL, &why), SCHEMA_UNKNOWN, "still unknown");
	is_str(why, "why z", "with its reason");
	is_int(schema_db_rename(db, "b", "a", "b", "a"), 0, "rename to itself");
	is_int(schema_db_count(db), 2, "changes nothing");

	list = listing(db);
	is_str(list, "b.a=why z b.u=u ", "each visits every entry");
	free(list);
	schema_db_remove(db, "b", "a");
	schema_db_remove(db, "b", "nope");
	is_int(schema_db_count(db), 1, "removed one");
	schema_db_free(db);
}

struct order {
	char schema[32], table[32];
	int n, bad;
};

static void check_order(const char *schema, const char *table, const schema_table *t,
			const char *why, void *arg)
{
	struct order *o = arg;
	int c = strcmp(schema, o->schema);

	if (o->n > 0 && (c < 0 || (c == 0 && strcmp(table, o->table) <= 0)))
		o->bad++;
	if ((t == NULL) == (why == NULL))
		o->bad++;
	snprintf(o->schema, sizeof(o->schema), "%s", schema);
	snprintf(o->table, sizeof(o->table), "%s", table);
	o->n++;
}

static void test_db_many(void)
{
	schema_db *db = schema_db_new(), *copy;
	const schema_table *t;
	struct order order = { .n = 0 };
	char *list, *again;

	if (db == NULL)
		bail("schema_db_new");
	/* enough to grow the buckets, put in an order that is not the sorted one */
	for (int i = 0; i < 300; i++) {
		char schema[16], name[16];
		snprintf(schema, sizeof(schema), "db%d", (i * 7) % 3);
		snprintf(name, sizeof(name), "t%03d", (i * 37) % 300);
		if (i % 5 == 0 ? schema_db_set_unknown(db, schema, name, "?") < 0
			       : schema_db_put(db, schema_table_new(schema, name)) < 0)
			bail("fill");
	}
	is_int(schema_db_count(db), 300, "300 entries");
	schema_db_each(db, check_order, &order);
	ok(order.n == 300 && order.bad == 0, "each visits all in (schema, table) order (%d out)",
	   order.bad);
	list = listing(db);
	ok(strncmp(list, "db0.t000=? db0.t003=", 20) == 0, "from the least: %.20s", list);

	copy = schema_db_copy(db);
	ok(copy != NULL && schema_db_count(copy) == 300, "copied");
	if (copy == NULL)
		bail("schema_db_copy");
	schema_db_remove_schema(db, "db1");
	is_int(schema_db_count(db), 200, "DROP DATABASE db1 forgets its 100 tables");
	is_int(schema_db_get(db, "db1", "t001", NULL, NULL), SCHEMA_ABSENT, "one of them");
	is_int(schema_db_get(db, "db2", "t002", NULL, NULL), SCHEMA_KNOWN, "others stay");
	is_int(schema_db_count(copy), 300, "the copy keeps all");
	is_int(schema_db_get(copy, "db1", "t001", &t, NULL), SCHEMA_KNOWN, "db1.t001 in the copy");
	again = listing(copy);
	is_str(again, list, "the copy lists the same");
	ok(schema_db_get(db, "db2", "t002", &t, NULL) == SCHEMA_KNOWN &&
	       schema_db_get(copy, "db2", "t002", NULL, NULL) == SCHEMA_KNOWN,
	   "both hold db2.t002");
	free(list);
	free(again);
	schema_db_free(db);
	schema_db_free(copy);
}

int main(void)
{
	test_primary();
	test_unique_as_key();
	test_keyless();
	test_finish_errors();
	test_copy();
	test_check_map();
	test_check_map_types();
	test_sql();
	test_fingerprint();
	test_diff();
	test_db_basics();
	test_db_many();
	return tap_done();
}
