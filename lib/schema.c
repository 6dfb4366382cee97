/*
 * schema.c - table shapes, their checks against table maps, their text
 * forms (CREATE TABLE, fingerprint, diff) and a set of them (see schema.h).
 *
 * Column and index names compare case-insensitively in ASCII, as the
 * servers compare them for the names people write; table and schema names
 * in a schema_db compare exactly (lower_case_table_names=0).
 */
#include "ringwatch/schema.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* ---- names ------------------------------------------------------------------ */

static int fold(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* strcmp() of the ASCII lower-case forms, whatever the locale. */
static int name_cmp(const char *a, const char *b)
{
	a = a != NULL ? a : "";
	b = b != NULL ? b : "";
	while (*a != '\0' && fold((unsigned char)*a) == fold((unsigned char)*b)) {
		a++;
		b++;
	}
	return fold((unsigned char)*a) - fold((unsigned char)*b);
}

static bool name_eq(const char *a, const char *b)
{
	return name_cmp(a, b) == 0;
}

/* strdup() that keeps NULL: false when out of memory. */
static bool dup_opt(char **to, const char *s)
{
	*to = s != NULL ? strdup(s) : NULL;
	return s == NULL || *to != NULL;
}

static void put_lower(rw_buf *out, const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		rw_buf_putc(out, (char)fold((unsigned char)*s));
}

/* A buffer's text, "" when it holds none (out of memory). */
static const char *text_of(const rw_buf *b)
{
	return b->p != NULL && !b->failed ? b->p : "";
}

/* `name`, with backquotes in it doubled. */
static void put_ident(rw_buf *out, const char *s)
{
	rw_buf_putc(out, '`');
	for (; s != NULL && *s != '\0'; s++) {
		if (*s == '`')
			rw_buf_putc(out, '`');
		rw_buf_putc(out, *s);
	}
	rw_buf_putc(out, '`');
}

/* ---- columns and indexes ---------------------------------------------------- */

void schema_column_clear(schema_column *c)
{
	free(c->name);
	free(c->type);
	free(c->charset);
	free(c->def);
	memset(c, 0, sizeof(*c));
}

void schema_index_clear(schema_index *ix)
{
	for (uint32_t p = 0; ix->cols != NULL && p < ix->n; p++)
		free(ix->cols[p]);
	free(ix->cols);
	free(ix->prefix);
	free(ix->name);
	memset(ix, 0, sizeof(*ix));
}

static int column_copy(schema_column *to, const schema_column *from)
{
	schema_column c = *from;

	c.name = c.type = c.charset = c.def = NULL;
	if (!dup_opt(&c.name, from->name) || !dup_opt(&c.type, from->type) ||
	    !dup_opt(&c.charset, from->charset) || !dup_opt(&c.def, from->def)) {
		schema_column_clear(&c);
		return RW_E_NOMEM;
	}
	*to = c;
	return 0;
}

static int index_copy(schema_index *to, const schema_index *from)
{
	schema_index ix = { .kind = from->kind, .n = from->n, .hash = from->hash };
	bool ok = dup_opt(&ix.name, from->name);
	size_t n = from->n > 0 ? from->n : 1;

	ix.cols = calloc(n, sizeof(*ix.cols));
	ix.prefix = calloc(n, sizeof(*ix.prefix));
	ok = ok && ix.cols != NULL && ix.prefix != NULL;
	for (uint32_t p = 0; ok && p < from->n; p++) {
		ok = dup_opt(&ix.cols[p], from->cols[p]);
		ix.prefix[p] = from->prefix != NULL ? from->prefix[p] : 0;
	}
	if (!ok) {
		schema_index_clear(&ix);
		return RW_E_NOMEM;
	}
	*to = ix;
	return 0;
}

/* ---- tables ----------------------------------------------------------------- */

schema_table *schema_table_new(const char *schema, const char *name)
{
	schema_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->schema = strdup(schema != NULL ? schema : "");
	t->name = strdup(name != NULL ? name : "");
	if (t->schema == NULL || t->name == NULL) {
		schema_table_free(t);
		return NULL;
	}
	return t;
}

/* The derived fields of a table, built aside and then installed whole. */
struct derived {
	const char **names;
	uint16_t *key;
	uint32_t n_key;
	uint16_t **unique;
	uint32_t *unique_len;
	uint32_t n_unique;
};

static void derived_free(struct derived *d)
{
	for (uint32_t k = 0; d->unique != NULL && k < d->n_unique; k++)
		free(d->unique[k]);
	free(d->unique);
	free(d->unique_len);
	free(d->key);
	free((void *)d->names);
	memset(d, 0, sizeof(*d));
}

static struct derived derived_of(schema_table *t)
{
	struct derived d = { t->names, t->key, t->n_key, t->unique, t->unique_len, t->n_unique };

	return d;
}

static void derived_install(schema_table *t, const struct derived *d)
{
	t->names = d->names;
	t->key = d->key;
	t->n_key = d->n_key;
	t->unique = d->unique;
	t->unique_len = d->unique_len;
	t->n_unique = d->n_unique;
	t->info = (row_table_info){
		.names = (const char *const *)d->names,
		.n_names = d->names != NULL ? t->ncols : 0,
		.pk = d->key,
		.n_pk = d->n_key,
		.unique = (const uint16_t *const *)d->unique,
		.unique_len = d->unique_len,
		.n_unique = d->n_unique,
	};
}

void schema_table_free(schema_table *t)
{
	struct derived d;

	if (t == NULL)
		return;
	d = derived_of(t);
	derived_free(&d);
	for (uint32_t i = 0; t->cols != NULL && i < t->ncols; i++)
		schema_column_clear(&t->cols[i]);
	for (uint32_t i = 0; t->idx != NULL && i < t->nidx; i++)
		schema_index_clear(&t->idx[i]);
	free(t->cols);
	free(t->idx);
	free(t->schema);
	free(t->name);
	free(t);
}

/* A copy of from's derived arrays, its names pointing into to's columns. */
static int derived_copy(schema_table *to, const schema_table *from)
{
	struct derived d = { 0 };
	bool ok = true;

	if (from->names != NULL) {
		d.names = calloc(from->ncols > 0 ? from->ncols : 1, sizeof(*d.names));
		ok = d.names != NULL;
		for (uint32_t i = 0; ok && i < from->ncols; i++)
			d.names[i] = to->cols[i].name;
	}
	if (ok && from->n_key > 0) {
		d.key = malloc(from->n_key * sizeof(*d.key));
		ok = d.key != NULL;
		if (ok) {
			memcpy(d.key, from->key, from->n_key * sizeof(*d.key));
			d.n_key = from->n_key;
		}
	}
	if (ok && from->n_unique > 0) {
		d.unique = calloc(from->n_unique, sizeof(*d.unique));
		d.unique_len = calloc(from->n_unique, sizeof(*d.unique_len));
		ok = d.unique != NULL && d.unique_len != NULL;
		for (uint32_t k = 0; ok && k < from->n_unique; k++, d.n_unique++) {
			size_t bytes = from->unique_len[k] * sizeof(**d.unique);
			d.unique[k] = malloc(bytes > 0 ? bytes : 1);
			ok = d.unique[k] != NULL;
			if (ok) {
				memcpy(d.unique[k], from->unique[k], bytes);
				d.unique_len[k] = from->unique_len[k];
			}
		}
	}
	if (!ok) {
		derived_free(&d);
		return RW_E_NOMEM;
	}
	derived_install(to, &d);
	return 0;
}

schema_table *schema_table_copy(const schema_table *t, const char *schema, const char *name)
{
	schema_table *c =
	    schema_table_new(schema != NULL ? schema : t->schema, name != NULL ? name : t->name);
	bool ok = c != NULL;

	if (ok && t->ncols > 0) {
		c->cols = calloc(t->ncols, sizeof(*c->cols));
		ok = c->cols != NULL;
		for (; ok && c->ncols < t->ncols; c->ncols++)
			ok = column_copy(&c->cols[c->ncols], &t->cols[c->ncols]) == 0;
	}
	if (ok && t->nidx > 0) {
		c->idx = calloc(t->nidx, sizeof(*c->idx));
		ok = c->idx != NULL;
		for (; ok && c->nidx < t->nidx; c->nidx++)
			ok = index_copy(&c->idx[c->nidx], &t->idx[c->nidx]) == 0;
	}
	if (ok) {
		c->versioned = t->versioned;
		c->sequence = t->sequence;
		c->source = t->source;
		ok = derived_copy(c, t) == 0;
	}
	if (!ok) {
		/* the column or index that failed to copy is counted but zeroed */
		schema_table_free(c);
		return NULL;
	}
	return c;
}

int schema_table_add_column(schema_table *t, const schema_column *c, int at)
{
	schema_column *cols;
	uint32_t pos = at < 0 ? t->ncols : (uint32_t)at;

	if (pos > t->ncols)
		return RW_E_INVALID;
	if (t->ncols >= BINLOG_MAX_COLUMNS)
		return RW_E_LIMIT;
	/* one more each time: the struct keeps no capacity, and tables are small */
	cols = realloc(t->cols, (t->ncols + 1) * sizeof(*cols));
	if (cols == NULL)
		return RW_E_NOMEM;
	t->cols = cols;
	memmove(&cols[pos + 1], &cols[pos], (t->ncols - pos) * sizeof(*cols));
	if (column_copy(&cols[pos], c) < 0) {
		memmove(&cols[pos], &cols[pos + 1], (t->ncols - pos) * sizeof(*cols));
		return RW_E_NOMEM;
	}
	t->ncols++;
	return 0;
}

int schema_table_add_index(schema_table *t, const schema_index *ix)
{
	schema_index *idx = realloc(t->idx, (t->nidx + 1) * sizeof(*idx));
	schema_index named = *ix;
	char name[SCHEMA_NAME_MAX + 16];

	if (idx == NULL)
		return RW_E_NOMEM;
	t->idx = idx;
	if (ix->name == NULL) { /* the server's name: the first column's, then _2, _3 ... */
		const char *base = ix->n > 0 && ix->cols[0] != NULL ? ix->cols[0] : "expr";
		snprintf(name, sizeof(name), "%s", base);
		for (int k = 2; schema_table_index(t, name) >= 0; k++)
			snprintf(name, sizeof(name), "%s_%d", base, k);
		named.name = name;
	}
	if (index_copy(&idx[t->nidx], &named) < 0)
		return RW_E_NOMEM;
	t->nidx++;
	for (uint32_t k = 0; ix->kind == SCHEMA_INDEX_PRIMARY && k < ix->n; k++) {
		int c = ix->cols[k] != NULL ? schema_table_column(t, ix->cols[k]) : -1;
		if (c >= 0) /* a primary key's columns are NOT NULL */
			t->cols[c].nullable = false;
	}
	return 0;
}

int schema_table_column(const schema_table *t, const char *name)
{
	for (uint32_t i = 0; i < t->ncols; i++)
		if (name_eq(t->cols[i].name, name))
			return (int)i;
	return -1;
}

int schema_table_index(const schema_table *t, const char *name)
{
	for (uint32_t i = 0; i < t->nidx; i++)
		if (name_eq(t->idx[i].name, name))
			return (int)i;
	return -1;
}

/* ---- keys ------------------------------------------------------------------- */

static int index_check(const schema_table *t, const schema_index *ix, rw_error *err)
{
	for (uint32_t p = 0; p < ix->n; p++)
		if (ix->cols[p] != NULL && schema_table_column(t, ix->cols[p]) < 0)
			return rw_error_set(err, RW_E_INVALID, -1,
					    "%s.%s: index %s names column %s, which the table "
					    "does not have",
					    t->schema, t->name,
					    ix->name != NULL ? ix->name : "(unnamed)", ix->cols[p]);
	return 0;
}

static bool index_has_expr(const schema_index *ix)
{
	for (uint32_t p = 0; p < ix->n; p++)
		if (ix->cols[p] == NULL)
			return true;
	return false;
}

/*
 * Can a UNIQUE index tell rows apart by whole column values?  Not with an
 * expression part or a prefix part: rows equal in the prefix collide in the
 * index but not in our key (and the server does not promote it either).
 */
static bool unique_usable(const schema_index *ix)
{
	if (ix->kind != SCHEMA_INDEX_UNIQUE || ix->n == 0 || index_has_expr(ix))
		return false;
	for (uint32_t p = 0; ix->prefix != NULL && p < ix->n; p++)
		if (ix->prefix[p] != 0)
			return false;
	return true;
}

static bool index_not_null(const schema_table *t, const schema_index *ix)
{
	for (uint32_t p = 0; p < ix->n; p++)
		if (t->cols[schema_table_column(t, ix->cols[p])].nullable)
			return false;
	return true;
}

/* The index whose columns key the rows, or -1: see schema.h. */
static int key_index(const schema_table *t)
{
	for (uint32_t i = 0; i < t->nidx; i++)
		if (t->idx[i].kind == SCHEMA_INDEX_PRIMARY && t->idx[i].n > 0 &&
		    !index_has_expr(&t->idx[i]))
			return (int)i;
	for (uint32_t i = 0; i < t->nidx; i++)
		if (unique_usable(&t->idx[i]) && index_not_null(t, &t->idx[i]))
			return (int)i;
	return -1;
}

/* The column positions of a checked index without expression parts; NULL when out of memory. */
static uint16_t *index_positions(const schema_table *t, const schema_index *ix)
{
	uint16_t *pos = malloc((ix->n > 0 ? ix->n : 1) * sizeof(*pos));

	for (uint32_t p = 0; pos != NULL && p < ix->n; p++)
		pos[p] = (uint16_t)schema_table_column(t, ix->cols[p]);
	return pos;
}

static int derive(const schema_table *t, struct derived *d)
{
	int key = key_index(t);

	d->names = calloc(t->ncols > 0 ? t->ncols : 1, sizeof(*d->names));
	d->unique = calloc(ROW_CHANGE_MAX_UNIQUE, sizeof(*d->unique));
	d->unique_len = calloc(ROW_CHANGE_MAX_UNIQUE, sizeof(*d->unique_len));
	if (d->names == NULL || d->unique == NULL || d->unique_len == NULL)
		return RW_E_NOMEM;
	for (uint32_t i = 0; i < t->ncols; i++)
		d->names[i] = t->cols[i].name;
	if (key >= 0) {
		d->key = index_positions(t, &t->idx[key]);
		if (d->key == NULL)
			return RW_E_NOMEM;
		d->n_key = t->idx[key].n;
	}
	for (uint32_t i = 0; i < t->nidx && d->n_unique < ROW_CHANGE_MAX_UNIQUE; i++) {
		if ((int)i == key || !unique_usable(&t->idx[i]))
			continue;
		d->unique[d->n_unique] = index_positions(t, &t->idx[i]);
		if (d->unique[d->n_unique] == NULL)
			return RW_E_NOMEM;
		d->unique_len[d->n_unique++] = t->idx[i].n;
	}
	return 0;
}

#define HASH_PREFIX "DB_ROW_HASH_"

/* A UNIQUE key MariaDB keeps as a hash: a BLOB or TEXT part without a prefix
 * (MySQL refuses such a key), or USING HASH, which information_schema says of
 * a key too long for the engine as well (an InnoDB table's: a MEMORY table's
 * HASH keys are its own, and the snapshot does not say USING HASH of them). */
static bool long_unique(const schema_table *t, const schema_index *ix)
{
	if (ix->kind != SCHEMA_INDEX_UNIQUE)
		return false;
	if (ix->hash)
		return true;
	for (uint32_t k = 0; k < ix->n; k++) {
		int c = ix->cols[k] != NULL ? schema_table_column(t, ix->cols[k]) : -1;
		if (c >= 0 && t->cols[c].binlog_type == BINLOG_TYPE_BLOB && ix->prefix[k] == 0)
			return true;
	}
	return false;
}

/*
 * MariaDB's hidden hash columns: one DB_ROW_HASH_n (a LONGLONG) per long
 * UNIQUE key, in key order, after every other column.  The table map has
 * them; neither a CREATE TABLE nor information_schema shows them.  Put
 * back where the table map has them after any change of columns or keys.
 */
static int hash_columns(schema_table *t)
{
	uint32_t n = 0;

	for (uint32_t i = t->ncols; i-- > 0;) {
		schema_column *c = &t->cols[i];
		if (!c->invisible || strncmp(c->name, HASH_PREFIX, strlen(HASH_PREFIX)) != 0)
			continue;
		schema_column_clear(c);
		memmove(c, c + 1, (t->ncols - i - 1) * sizeof(*c));
		t->ncols--;
	}
	for (uint32_t i = 0; i < t->nidx; i++) {
		char name[32], type[] = "bigint unsigned";
		schema_column c;
		if (!long_unique(t, &t->idx[i]))
			continue;
		do /* a number no column of the user's has */
			snprintf(name, sizeof(name), HASH_PREFIX "%u", ++n);
		while (schema_table_column(t, name) >= 0);
		memset(&c, 0, sizeof(c));
		c.name = name;
		c.type = type;
		c.binlog_type = BINLOG_TYPE_LONGLONG;
		c.nullable = true;
		c.is_unsigned = true;
		c.invisible = true;
		if (schema_table_add_column(t, &c, -1) != 0)
			return RW_E_NOMEM;
	}
	return 0;
}

int schema_table_finish(schema_table *t, rw_error *err)
{
	struct derived d = { 0 }, old;
	int rc;

	if (hash_columns(t) != 0)
		return rw_error_set(err, RW_E_NOMEM, -1, "out of memory");
	if (t->ncols > BINLOG_MAX_COLUMNS)
		return rw_error_set(err, RW_E_LIMIT, -1, "%s.%s: %u columns, more than %d",
				    t->schema, t->name, t->ncols, BINLOG_MAX_COLUMNS);
	for (uint32_t i = 0; i < t->nidx; i++) {
		rc = index_check(t, &t->idx[i], err);
		if (rc < 0)
			return rc;
	}
	rc = derive(t, &d);
	if (rc < 0) {
		derived_free(&d);
		return rw_error_set(err, rc, -1, "out of memory");
	}
	old = derived_of(t);
	derived_free(&old);
	if (d.n_unique == 0) {
		free(d.unique);
		free(d.unique_len);
		d.unique = NULL;
		d.unique_len = NULL;
	}
	derived_install(t, &d);
	return 0;
}

const row_table_info *schema_table_info(const schema_table *t)
{
	return &t->info;
}

bool schema_table_keyless(const schema_table *t)
{
	return t->n_key == 0;
}

/* ---- table maps ------------------------------------------------------------- */

static const char *type_name(unsigned type, char *buf, size_t len)
{
	const char *name = binlog_column_type_name(type);

	if (name != NULL)
		return name;
	snprintf(buf, len, "type %u", type);
	return buf;
}

/* "(a, b)" of column positions, named by the table map when it can, else by t. */
static void put_key_names(rw_buf *out, const schema_table *t, const binlog_table_map *tm,
			  const uint16_t *key, uint32_t n)
{
	rw_buf_putc(out, '(');
	for (uint32_t k = 0; k < n; k++) {
		if (k > 0)
			rw_buf_puts(out, ", ");
		if (tm != NULL && key[k] < tm->ncols && tm->cols[key[k]].name != NULL)
			rw_buf_puts(out, tm->cols[key[k]].name);
		else if (key[k] < t->ncols)
			rw_buf_puts(out, t->cols[key[k]].name);
		else
			rw_buf_printf(out, "@%u", key[k] + 1u);
	}
	rw_buf_putc(out, ')');
}

static int check_pk(const schema_table *t, const binlog_table_map *tm, char *why, size_t len)
{
	rw_buf a = RW_BUF_INIT, b = RW_BUF_INIT;
	bool same = tm->n_pk == t->n_key;

	for (uint32_t k = 0; same && k < tm->n_pk; k++)
		same = tm->pk[k] == t->key[k];
	if (same)
		return 0;
	if (tm->n_pk > 0)
		put_key_names(&a, t, tm, tm->pk, tm->n_pk);
	if (t->n_key > 0)
		put_key_names(&b, t, NULL, t->key, t->n_key);
	if (tm->n_pk == 0)
		snprintf(why, len, "no primary key in the binlog, %s in the history", text_of(&b));
	else if (t->n_key == 0)
		snprintf(why, len, "primary key %s in the binlog, none in the history",
			 text_of(&a));
	else
		snprintf(why, len, "primary key %s in the binlog, %s in the history", text_of(&a),
			 text_of(&b));
	rw_buf_free(&a);
	rw_buf_free(&b);
	return -1;
}

/* Does column i of the map fit? */
static int check_column(const schema_table *t, const binlog_table_map *tm, uint32_t i, char *why,
			size_t len)
{
	const schema_column *c = &t->cols[i];
	const binlog_column *m = &tm->cols[i];
	char buf[16];

	/* real_type: STRING resolved to ENUM/SET/STRING, and the compressed
	 * types (MariaDB) kept as they are, fitting a column declared COMPRESSED */
	if (c->binlog_type != 0 && m->real_type != c->binlog_type &&
	    (c->alt_type == 0 || m->real_type != c->alt_type)) {
		snprintf(why, len, "column %u (%s) is %s in the binlog, %s in the history", i + 1,
			 c->name, type_name(m->real_type, buf, sizeof(buf)), c->type);
		return -1;
	}
	if (tm->has_names && m->name != NULL && !name_eq(m->name, c->name)) {
		snprintf(why, len, "column %u is named %s in the binlog, %s in the history", i + 1,
			 m->name, c->name);
		return -1;
	}
	return 0;
}

int schema_table_check_map(const schema_table *t, const binlog_table_map *tm, char *why, size_t len)
{
	char scratch[8];

	if (why == NULL || len == 0) {
		why = scratch;
		len = sizeof(scratch);
	}
	why[0] = '\0';
	if (tm->ncols != t->ncols) {
		snprintf(why, len, "%u column%s in the binlog, %u in the history", tm->ncols,
			 tm->ncols == 1 ? "" : "s", t->ncols);
		return -1;
	}
	for (uint32_t i = 0; i < t->ncols; i++)
		if (check_column(t, tm, i, why, len) < 0)
			return -1;
	if (tm->has_pk)
		return check_pk(t, tm, why, len);
	return 0;
}

/* ---- CREATE TABLE ----------------------------------------------------------- */

static void sql_column(rw_buf *out, const schema_column *c)
{
	put_ident(out, c->name);
	rw_buf_putc(out, ' ');
	rw_buf_puts(out, c->type);
	if (c->charset != NULL)
		rw_buf_printf(out, " CHARACTER SET %s", c->charset);
	/* only the shape is kept, not the expression: NULL stands in for it */
	if (c->generated)
		rw_buf_puts(out, " GENERATED ALWAYS AS (NULL) VIRTUAL");
	if (!c->nullable)
		rw_buf_puts(out, " NOT NULL");
	else if (strncmp(c->type, "timestamp", 9) == 0)
		/* as SHOW CREATE TABLE: without it, explicit_defaults_for_timestamp=OFF
		 * would read the column back as NOT NULL */
		rw_buf_puts(out, " NULL");
	if (c->def != NULL && !c->generated)
		rw_buf_printf(out, " DEFAULT %s", c->def);
	if (c->auto_increment)
		rw_buf_puts(out, " AUTO_INCREMENT");
	if (c->invisible)
		rw_buf_puts(out, " INVISIBLE");
}

/* "(`a`,`b`(10),(NULL))": an expression part's expression is not kept (shape only). */
static void sql_parts(rw_buf *out, const schema_index *ix)
{
	rw_buf_putc(out, '(');
	for (uint32_t p = 0; p < ix->n; p++) {
		if (p > 0)
			rw_buf_putc(out, ',');
		if (ix->cols[p] == NULL) {
			rw_buf_puts(out, "(NULL)");
			continue;
		}
		put_ident(out, ix->cols[p]);
		if (ix->prefix != NULL && ix->prefix[p] != 0)
			rw_buf_printf(out, "(%u)", ix->prefix[p]);
	}
	rw_buf_putc(out, ')');
}

static void sql_index(rw_buf *out, const schema_index *ix)
{
	static const char *const kinds[] = {
		[SCHEMA_INDEX_UNIQUE] = "UNIQUE KEY",
		[SCHEMA_INDEX_PLAIN] = "KEY",
		[SCHEMA_INDEX_FULLTEXT] = "FULLTEXT KEY",
		[SCHEMA_INDEX_SPATIAL] = "SPATIAL KEY",
	};

	if (ix->kind == SCHEMA_INDEX_PRIMARY) {
		rw_buf_puts(out, "PRIMARY KEY ");
	} else {
		bool known = ix->kind > 0 && ix->kind <= SCHEMA_INDEX_SPATIAL;
		rw_buf_puts(out, known ? kinds[ix->kind] : "KEY");
		rw_buf_putc(out, ' ');
		if (ix->name != NULL) {
			put_ident(out, ix->name);
			rw_buf_putc(out, ' ');
		}
	}
	sql_parts(out, ix);
	if (ix->hash)
		rw_buf_puts(out, " USING HASH");
}

void schema_table_sql(const schema_table *t, rw_buf *out)
{
	rw_buf_puts(out, t->sequence ? "CREATE SEQUENCE " : "CREATE TABLE ");
	if (t->schema[0] != '\0') {
		put_ident(out, t->schema);
		rw_buf_putc(out, '.');
	}
	put_ident(out, t->name);
	if (t->sequence)
		return; /* its columns are every sequence's */
	rw_buf_puts(out, " (");
	for (uint32_t i = 0; i < t->ncols; i++) {
		rw_buf_puts(out, i > 0 ? ",\n  " : "\n  ");
		sql_column(out, &t->cols[i]);
	}
	for (uint32_t i = 0; i < t->nidx; i++) {
		rw_buf_puts(out, i + t->ncols > 0 ? ",\n  " : "\n  ");
		sql_index(out, &t->idx[i]);
	}
	rw_buf_puts(out, "\n)");
	if (t->versioned)
		rw_buf_puts(out, " WITH SYSTEM VERSIONING");
}

/* ---- fingerprint ------------------------------------------------------------ */

static const schema_index *primary_of(const schema_table *t)
{
	for (uint32_t i = 0; i < t->nidx; i++)
		if (t->idx[i].kind == SCHEMA_INDEX_PRIMARY)
			return &t->idx[i];
	return NULL;
}

/* "a,b(10),()": names lower-cased; "()" is an expression part (no column is named ""). */
static void fp_parts(rw_buf *out, const schema_index *ix)
{
	for (uint32_t p = 0; ix != NULL && p < ix->n; p++) {
		if (p > 0)
			rw_buf_putc(out, ',');
		if (ix->cols[p] == NULL)
			rw_buf_puts(out, "()");
		else
			put_lower(out, ix->cols[p]);
		if (ix->prefix != NULL && ix->prefix[p] != 0)
			rw_buf_printf(out, "(%u)", ix->prefix[p]);
	}
}

static const char *kind_word(int kind)
{
	switch (kind) {
	case SCHEMA_INDEX_PRIMARY:
		return "primary";
	case SCHEMA_INDEX_UNIQUE:
		return "unique";
	case SCHEMA_INDEX_FULLTEXT:
		return "fulltext";
	case SCHEMA_INDEX_SPATIAL:
		return "spatial";
	default:
		return "index";
	}
}

/* Is index i before index j by (lower-case name, position)? */
static bool index_before(const schema_table *t, uint32_t i, uint32_t j)
{
	int c = name_cmp(t->idx[i].name, t->idx[j].name);

	return c < 0 || (c == 0 && i < j);
}

/*
 * The secondary index after `prev` in name order (prev = nidx: the first),
 * or nidx.  A selection, not a sort: it needs no memory, and tables have
 * few indexes (64 at most).
 */
static uint32_t next_by_name(const schema_table *t, uint32_t prev)
{
	uint32_t best = t->nidx;

	for (uint32_t i = 0; i < t->nidx; i++) {
		if (t->idx[i].kind == SCHEMA_INDEX_PRIMARY)
			continue;
		if (prev < t->nidx && !index_before(t, prev, i))
			continue;
		if (best == t->nidx || index_before(t, i, best))
			best = i;
	}
	return best;
}

void schema_table_fingerprint(const schema_table *t, rw_buf *out)
{
	for (uint32_t i = 0; i < t->ncols; i++) {
		const schema_column *c = &t->cols[i];
		put_lower(out, c->name);
		rw_buf_printf(out, " %s %s", c->type, c->nullable ? "null" : "notnull");
		if (c->def != NULL)
			rw_buf_printf(out, " default=%s", c->def);
		rw_buf_putc(out, '\n');
	}
	rw_buf_puts(out, "pk(");
	fp_parts(out, primary_of(t));
	rw_buf_puts(out, ")\n");
	if (t->versioned)
		rw_buf_puts(out, "versioned\n");
	if (t->sequence)
		rw_buf_puts(out, "sequence\n");
	for (uint32_t i = next_by_name(t, t->nidx); i < t->nidx; i = next_by_name(t, i)) {
		rw_buf_printf(out, "%s ", kind_word(t->idx[i].kind));
		put_lower(out, t->idx[i].name);
		rw_buf_putc(out, '(');
		fp_parts(out, &t->idx[i]);
		rw_buf_puts(out, ")\n");
	}
}

uint64_t schema_table_fingerprint_hash(const schema_table *t)
{
	rw_buf b = RW_BUF_INIT;
	uint64_t h = 0;

	schema_table_fingerprint(t, &b);
	if (!rw_buf_failed(&b))
		h = XXH3_64bits(b.p != NULL ? b.p : "", b.len);
	rw_buf_free(&b);
	return h;
}

/* ---- diff ------------------------------------------------------------------- */

static void clause(rw_buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void clause(rw_buf *out, const char *fmt, ...)
{
	va_list ap, again;
	int n;

	if (out->len > 0)
		rw_buf_puts(out, "; ");
	va_start(ap, fmt);
	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	if (n < 0) {
		out->failed = 1;
	} else if (rw_buf_reserve(out, (size_t)n) == 0) {
		vsnprintf(out->p + out->len, (size_t)n + 1, fmt, again);
		out->len += (size_t)n;
	}
	va_end(again);
	va_end(ap);
}

static void diff_only(rw_buf *out, const schema_table *a, const schema_table *b, const char *an)
{
	for (uint32_t i = 0; i < a->ncols; i++)
		if (schema_table_column(b, a->cols[i].name) < 0)
			clause(out, "column %s only on %s", a->cols[i].name, an);
}

static void diff_column(rw_buf *out, const schema_column *x, const char *an, const schema_column *y,
			const char *bn)
{
	if (strcmp(x->type, y->type) != 0)
		clause(out, "%s is %s on %s, %s on %s", x->name, x->type, an, y->type, bn);
	if (x->nullable != y->nullable)
		clause(out, "%s is %s on %s, %s on %s", x->name, x->nullable ? "NULL" : "NOT NULL",
		       an, y->nullable ? "NULL" : "NOT NULL", bn);
	if (x->def == NULL && y->def != NULL)
		clause(out, "%s has no default on %s, %s on %s", x->name, an, y->def, bn);
	else if (x->def != NULL && (y->def == NULL || strcmp(x->def, y->def) != 0))
		clause(out, "%s has default %s on %s, %s on %s", x->name, x->def, an,
		       y->def != NULL ? y->def : "none", bn);
}

static void put_column_list(rw_buf *out, const schema_table *t)
{
	rw_buf_putc(out, '(');
	for (uint32_t i = 0; i < t->ncols; i++) {
		if (i > 0)
			rw_buf_puts(out, ", ");
		rw_buf_puts(out, t->cols[i].name);
	}
	rw_buf_putc(out, ')');
}

static void diff_columns(rw_buf *out, const schema_table *a, const char *an, const schema_table *b,
			 const char *bn)
{
	size_t before = out->len;
	bool same_set, reordered = false;

	diff_only(out, a, b, an);
	diff_only(out, b, a, bn);
	same_set = out->len == before && a->ncols == b->ncols;
	for (uint32_t i = 0; i < a->ncols; i++) {
		int j = schema_table_column(b, a->cols[i].name);
		if (j >= 0)
			diff_column(out, &a->cols[i], an, &b->cols[j], bn);
	}
	if (!same_set)
		return; /* a column added or dropped: the order says nothing more */
	for (uint32_t i = 0; i < a->ncols && i < b->ncols; i++)
		reordered = reordered || !name_eq(a->cols[i].name, b->cols[i].name);
	if (reordered) {
		rw_buf wa = RW_BUF_INIT, wb = RW_BUF_INIT;
		put_column_list(&wa, a);
		put_column_list(&wb, b);
		clause(out, "column order differs: %s %s, %s %s", an, text_of(&wa), bn,
		       text_of(&wb));
		rw_buf_free(&wa);
		rw_buf_free(&wb);
	}
}

/* "(a, b(10), (expression))" as written, for people. */
static void put_parts(rw_buf *out, const schema_index *ix)
{
	rw_buf_putc(out, '(');
	for (uint32_t p = 0; p < ix->n; p++) {
		if (p > 0)
			rw_buf_puts(out, ", ");
		rw_buf_puts(out, ix->cols[p] != NULL ? ix->cols[p] : "(expression)");
		if (ix->prefix != NULL && ix->prefix[p] != 0)
			rw_buf_printf(out, "(%u)", ix->prefix[p]);
	}
	rw_buf_putc(out, ')');
}

static bool same_parts(const schema_index *x, const schema_index *y)
{
	if (x->n != y->n)
		return false;
	for (uint32_t p = 0; p < x->n; p++) {
		uint32_t px = x->prefix != NULL ? x->prefix[p] : 0;
		uint32_t py = y->prefix != NULL ? y->prefix[p] : 0;
		if ((x->cols[p] == NULL) != (y->cols[p] == NULL) || px != py ||
		    (x->cols[p] != NULL && !name_eq(x->cols[p], y->cols[p])))
			return false;
	}
	return true;
}

static void diff_primary(rw_buf *out, const schema_table *a, const char *an, const schema_table *b,
			 const char *bn)
{
	const schema_index *x = primary_of(a), *y = primary_of(b);
	rw_buf wx = RW_BUF_INIT, wy = RW_BUF_INIT;

	if (x == NULL && y == NULL)
		return;
	if (x != NULL && y != NULL && same_parts(x, y))
		return;
	if (x != NULL)
		put_parts(&wx, x);
	if (y != NULL)
		put_parts(&wy, y);
	if (x == NULL)
		clause(out, "no primary key on %s, %s on %s", an, text_of(&wy), bn);
	else if (y == NULL)
		clause(out, "primary key %s on %s, no primary key on %s", text_of(&wx), an, bn);
	else
		clause(out, "primary key %s on %s, %s on %s", text_of(&wx), an, text_of(&wy), bn);
	rw_buf_free(&wx);
	rw_buf_free(&wy);
}

static const char *kind_label(int kind)
{
	return kind == SCHEMA_INDEX_PLAIN ? "plain" : kind_word(kind);
}

static void diff_index(rw_buf *out, const schema_index *x, const char *an, const schema_index *y,
		       const char *bn)
{
	rw_buf wx = RW_BUF_INIT, wy = RW_BUF_INIT;

	if (x->kind == y->kind && same_parts(x, y))
		return;
	put_parts(&wx, x);
	put_parts(&wy, y);
	if (x->kind != y->kind)
		clause(out, "index %s is %s %s on %s, %s %s on %s", x->name, kind_label(x->kind),
		       text_of(&wx), an, kind_label(y->kind), text_of(&wy), bn);
	else
		clause(out, "index %s is %s on %s, %s on %s", x->name, text_of(&wx), an,
		       text_of(&wy), bn);
	rw_buf_free(&wx);
	rw_buf_free(&wy);
}

/* A secondary index of t by name, or NULL. */
static const schema_index *secondary(const schema_table *t, const char *name)
{
	for (uint32_t i = 0; i < t->nidx; i++)
		if (t->idx[i].kind != SCHEMA_INDEX_PRIMARY && name_eq(t->idx[i].name, name))
			return &t->idx[i];
	return NULL;
}

static void diff_indexes(rw_buf *out, const schema_table *a, const char *an, const schema_table *b,
			 const char *bn)
{
	for (uint32_t i = next_by_name(a, a->nidx); i < a->nidx; i = next_by_name(a, i)) {
		const schema_index *y = secondary(b, a->idx[i].name);
		if (y == NULL)
			clause(out, "index %s missing on %s", a->idx[i].name, bn);
		else
			diff_index(out, &a->idx[i], an, y, bn);
	}
	for (uint32_t i = next_by_name(b, b->nidx); i < b->nidx; i = next_by_name(b, i))
		if (secondary(a, b->idx[i].name) == NULL)
			clause(out, "index %s missing on %s", b->idx[i].name, an);
}

void schema_table_diff(const schema_table *a, const char *an, const schema_table *b, const char *bn,
		       rw_buf *out)
{
	rw_buf fa = RW_BUF_INIT, fb = RW_BUF_INIT, d = RW_BUF_INIT;
	bool same;

	schema_table_fingerprint(a, &fa);
	schema_table_fingerprint(b, &fb);
	same = fa.len == fb.len && (fa.len == 0 || memcmp(fa.p, fb.p, fa.len) == 0);
	if (rw_buf_failed(&fa) || rw_buf_failed(&fb))
		out->failed = 1;
	rw_buf_free(&fa);
	rw_buf_free(&fb);
	if (same || rw_buf_failed(out))
		return;
	diff_columns(&d, a, an, b, bn);
	diff_primary(&d, a, an, b, bn);
	diff_indexes(&d, a, an, b, bn);
	if (a->versioned != b->versioned)
		clause(&d, "system versioning only on %s", a->versioned ? an : bn);
	if (a->sequence != b->sequence)
		clause(&d, "a sequence only on %s", a->sequence ? an : bn);
	if (d.len == 0 && !rw_buf_failed(&d))
		clause(&d, "the shapes differ"); /* a difference no clause above names */
	if (rw_buf_failed(&d))
		out->failed = 1;
	else
		rw_buf_put(out, d.p, d.len);
	rw_buf_free(&d);
}

/* ---- schema_db -------------------------------------------------------------- */

/*
 * Separate chaining over a power-of-two bucket array, keyed by the xxHash of
 * (schema, table).  Both names compare exactly, as the servers do with
 * lower_case_table_names=0 (the Linux default).
 */
struct entry {
	struct entry *next;
	uint64_t hash;
	char *schema, *table;
	schema_table *t; /* NULL for an unknown table */
	char *why;       /* an unknown table's reason */
};

struct schema_db {
	struct entry **bucket;
	size_t nbucket; /* a power of two */
	size_t count;
	uint64_t generation; /* one more at each change (schema_db_generation()) */
};

static uint64_t key_hash(const char *schema, const char *table)
{
	return XXH3_64bits_withSeed(table, strlen(table), XXH3_64bits(schema, strlen(schema)));
}

static void entry_free(struct entry *e)
{
	schema_table_free(e->t);
	free(e->why);
	free(e->schema);
	free(e->table);
	free(e);
}

/* The link that points to the entry of (schema, table), or to the NULL ending its chain. */
static struct entry **find(const schema_db *db, const char *schema, const char *table)
{
	uint64_t h = key_hash(schema, table);
	struct entry **link = &db->bucket[h & (db->nbucket - 1)];

	for (; *link != NULL; link = &(*link)->next)
		if ((*link)->hash == h && strcmp((*link)->schema, schema) == 0 &&
		    strcmp((*link)->table, table) == 0)
			break;
	return link;
}

schema_db *schema_db_new(void)
{
	schema_db *db = calloc(1, sizeof(*db));

	if (db == NULL)
		return NULL;
	db->nbucket = 64;
	db->bucket = calloc(db->nbucket, sizeof(*db->bucket));
	if (db->bucket == NULL) {
		free(db);
		return NULL;
	}
	return db;
}

void schema_db_free(schema_db *db)
{
	if (db == NULL)
		return;
	for (size_t b = 0; b < db->nbucket; b++) {
		while (db->bucket[b] != NULL) {
			struct entry *e = db->bucket[b];
			db->bucket[b] = e->next;
			entry_free(e);
		}
	}
	free(db->bucket);
	free(db);
}

/* Double the buckets when as many as entries; out of memory only lengthens the chains. */
static void maybe_grow(schema_db *db)
{
	size_t n = db->nbucket * 2;
	struct entry **bucket;

	if (db->count < db->nbucket || n > SIZE_MAX / sizeof(*bucket))
		return;
	bucket = calloc(n, sizeof(*bucket));
	if (bucket == NULL)
		return;
	for (size_t b = 0; b < db->nbucket; b++) {
		while (db->bucket[b] != NULL) {
			struct entry *e = db->bucket[b];
			db->bucket[b] = e->next;
			e->next = bucket[e->hash & (n - 1)];
			bucket[e->hash & (n - 1)] = e;
		}
	}
	free(db->bucket);
	db->bucket = bucket;
	db->nbucket = n;
}

/* The entry of (schema, table), added empty when absent; NULL when out of memory. */
static struct entry *slot(schema_db *db, const char *schema, const char *table)
{
	struct entry **link = find(db, schema, table), *e;

	if (*link != NULL)
		return *link;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	e->schema = strdup(schema);
	e->table = strdup(table);
	if (e->schema == NULL || e->table == NULL) {
		entry_free(e);
		return NULL;
	}
	e->hash = key_hash(schema, table);
	*link = e;
	db->count++;
	maybe_grow(db);
	return e;
}

int schema_db_get(const schema_db *db, const char *schema, const char *table,
		  const schema_table **t, const char **why)
{
	const struct entry *e = *find(db, schema, table);

	if (t != NULL)
		*t = e != NULL ? e->t : NULL;
	if (why != NULL)
		*why = e != NULL ? e->why : NULL;
	if (e == NULL)
		return SCHEMA_ABSENT;
	return e->t != NULL ? SCHEMA_KNOWN : SCHEMA_UNKNOWN;
}

schema_table *schema_db_find(schema_db *db, const char *schema, const char *table)
{
	struct entry *e = *find(db, schema, table);

	if (e != NULL && e->t != NULL)
		db->generation++; /* the caller may change it */
	return e != NULL ? e->t : NULL;
}

int schema_db_put(schema_db *db, schema_table *t)
{
	struct entry *e = slot(db, t->schema, t->name);

	if (e == NULL) {
		schema_table_free(t);
		return RW_E_NOMEM;
	}
	schema_table_free(e->t);
	free(e->why);
	e->t = t;
	e->why = NULL;
	db->generation++;
	return 0;
}

int schema_db_set_unknown(schema_db *db, const char *schema, const char *table, const char *why)
{
	char *text = strdup(why != NULL ? why : "");
	struct entry *e = text != NULL ? slot(db, schema, table) : NULL;

	if (e == NULL) {
		free(text);
		return RW_E_NOMEM;
	}
	schema_table_free(e->t);
	free(e->why);
	e->t = NULL;
	e->why = text;
	db->generation++;
	return 0;
}

static void unlink_entry(schema_db *db, struct entry **link)
{
	struct entry *e = *link;

	*link = e->next;
	db->count--;
	db->generation++;
	entry_free(e);
}

void schema_db_remove(schema_db *db, const char *schema, const char *table)
{
	struct entry **link = find(db, schema, table);

	if (*link != NULL)
		unlink_entry(db, link);
}

void schema_db_remove_schema(schema_db *db, const char *schema)
{
	for (size_t b = 0; b < db->nbucket; b++) {
		struct entry **link = &db->bucket[b];
		while (*link != NULL) {
			if (strcmp((*link)->schema, schema) == 0)
				unlink_entry(db, link);
			else
				link = &(*link)->next;
		}
	}
}

/*
 * Move the entry of (schema, table) to (to_schema, to_table).  Every
 * allocation comes first, so that out of memory (RW_E_NOMEM) leaves the db
 * as it was.
 */
int schema_db_rename(schema_db *db, const char *schema, const char *table, const char *to_schema,
		     const char *to_table)
{
	struct entry **link = find(db, schema, table), *e = *link;
	char *s[4] = { NULL, NULL, NULL, NULL };

	if (e == NULL)
		return -1;
	if (strcmp(schema, to_schema) == 0 && strcmp(table, to_table) == 0)
		return 0;
	s[0] = strdup(to_schema);
	s[1] = strdup(to_table);
	if (e->t != NULL) {
		s[2] = strdup(to_schema);
		s[3] = strdup(to_table);
	}
	if (s[0] == NULL || s[1] == NULL || (e->t != NULL && (s[2] == NULL || s[3] == NULL))) {
		for (int i = 0; i < 4; i++)
			free(s[i]);
		return RW_E_NOMEM;
	}
	*link = e->next;
	schema_db_remove(db, to_schema, to_table);
	free(e->schema);
	free(e->table);
	e->schema = s[0];
	e->table = s[1];
	if (e->t != NULL) {
		free(e->t->schema);
		free(e->t->name);
		e->t->schema = s[2];
		e->t->name = s[3];
	}
	e->hash = key_hash(to_schema, to_table);
	link = &db->bucket[e->hash & (db->nbucket - 1)];
	e->next = *link;
	*link = e;
	db->generation++;
	return 0;
}

size_t schema_db_count(const schema_db *db)
{
	return db->count;
}

uint64_t schema_db_generation(const schema_db *db)
{
	return db->generation;
}

static int entry_cmp(const struct entry *x, const struct entry *y)
{
	int c = strcmp(x->schema, y->schema);

	return c != 0 ? c : strcmp(x->table, y->table);
}

static int entry_ptr_cmp(const void *x, const void *y)
{
	return entry_cmp(*(const struct entry *const *)x, *(const struct entry *const *)y);
}

static void visit(const struct entry *e, schema_db_visit_fn fn, void *arg)
{
	fn(e->schema, e->table, e->t, e->why, arg);
}

/* The order of schema_db_each() without memory: the least entry after prev, each time. */
static void each_slowly(const schema_db *db, schema_db_visit_fn fn, void *arg)
{
	const struct entry *prev = NULL;

	for (size_t k = 0; k < db->count; k++) {
		const struct entry *best = NULL;
		for (size_t b = 0; b < db->nbucket; b++)
			for (const struct entry *e = db->bucket[b]; e != NULL; e = e->next)
				if ((prev == NULL || entry_cmp(e, prev) > 0) &&
				    (best == NULL || entry_cmp(e, best) < 0))
					best = e;
		visit(best, fn, arg);
		prev = best;
	}
}

void schema_db_each(const schema_db *db, schema_db_visit_fn fn, void *arg)
{
	const struct entry **all = malloc((db->count > 0 ? db->count : 1) * sizeof(*all));
	size_t n = 0;

	if (all == NULL) {
		each_slowly(db, fn, arg);
		return;
	}
	for (size_t b = 0; b < db->nbucket; b++)
		for (const struct entry *e = db->bucket[b]; e != NULL; e = e->next)
			all[n++] = e;
	qsort(all, n, sizeof(*all), entry_ptr_cmp);
	for (size_t i = 0; i < n; i++)
		visit(all[i], fn, arg);
	free(all);
}

schema_db *schema_db_copy(const schema_db *db)
{
	schema_db *c = schema_db_new();

	for (size_t b = 0; c != NULL && b < db->nbucket; b++) {
		for (const struct entry *e = db->bucket[b]; e != NULL; e = e->next) {
			int rc;
			if (e->t != NULL) {
				schema_table *t = schema_table_copy(e->t, NULL, NULL);
				rc = t != NULL ? schema_db_put(c, t) : RW_E_NOMEM;
			} else {
				rc = schema_db_set_unknown(c, e->schema, e->table, e->why);
			}
			if (rc < 0) {
				schema_db_free(c);
				return NULL;
			}
		}
	}
	return c;
}
