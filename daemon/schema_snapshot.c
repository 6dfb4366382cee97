/*
 * schema_snapshot.c - information_schema rows as CREATE TABLE statements
 * (see schema_snapshot.h).
 *
 * Each column's definition is written as its row arrives; the keys are
 * gathered part by part (a key's parts may come in any order) and written
 * when the text is asked for.
 */
#include "schema_snapshot.h"

#include "ringwatch/rw_buf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MARIADB_SQL_DEFAULTS   100207 /* COLUMN_DEFAULT is SQL text from MariaDB 10.2.7 */
#define MARIADB_GENERATION     100205 /* COLUMNS.GENERATION_EXPRESSION from MariaDB 10.2.5 */
#define MYSQL_GENERATION       50706  /* and from MySQL 5.7.6 */
#define MYSQL_INDEX_EXPRESSION 80013  /* STATISTICS.EXPRESSION from MySQL 8.0.13 */
#define MAX_KEY_PARTS          64     /* more than either server allows */
#define KEY_RANKS              6      /* see key_rank() */

#define USER_TABLES " TABLE_SCHEMA NOT IN (" SCHEMA_SNAPSHOT_SYSTEM ")"

static const char tables_query[] =
    "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_ROWS, DATA_LENGTH + INDEX_LENGTH "
    "FROM information_schema.TABLES "
    "WHERE TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED', 'SEQUENCE') AND" USER_TABLES;

#define COLUMNS_QUERY(generation)                                                                  \
	"SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, "                 \
	"COLUMN_DEFAULT, EXTRA, CHARACTER_SET_NAME, " generation                                   \
	" FROM information_schema.COLUMNS WHERE" USER_TABLES                                       \
	" ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION"

#define INDEX_QUERY(expression)                                                                    \
	"SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME, "     \
	"SUB_PART, INDEX_TYPE, " expression                                                        \
	" FROM information_schema.STATISTICS WHERE" USER_TABLES

enum key_kind {
	KEY_PRIMARY = 0,
	KEY_UNIQUE,
	KEY_PLAIN,
	KEY_FULLTEXT,
	KEY_SPATIAL,
};

/* One key part; neither col nor expr while its row has not come. */
struct part {
	char *col;
	char *expr; /* the expression of a functional part, copyable */
	unsigned long sub_part;
};

struct key {
	char *name;
	int kind; /* enum key_kind */
	struct part *parts;
	size_t n;  /* the highest SEQ_IN_INDEX seen */
	bool skip; /* a part the text cannot hold */
	bool hash; /* a UNIQUE key MariaDB keeps as a hash (a hidden column) */
};

struct column {
	char *name;
	bool nullable;
};

struct table {
	char *schema, *name;
	bool versioned;   /* MariaDB's WITH SYSTEM VERSIONING */
	bool memory;      /* ENGINE=MEMORY: its HASH keys are no long UNIQUE keys */
	bool sequence;    /* MariaDB's sequence: its columns are every sequence's */
	char *unreadable; /* the first column whose type cannot be copied */
	rw_buf defs;      /* the column definitions, each after ",\n  " */
	struct column *cols;
	size_t ncols, cap_cols;
	struct key *keys;
	size_t nkeys, cap_keys;
	char *row_start, *row_end; /* the declared period columns of a versioned table */
	bool sized;                /* TABLE_ROWS and the lengths were given */
	uint64_t rows, bytes;
};

struct schema_snapshot {
	bool is_mariadb;
	uint32_t version;
	struct table *t;
	size_t n, cap;
	bool sorted; /* t is in table_cmp order, for bsearch */
};

/* ------------------------------------------------------------- queries ---- */

const char *schema_snapshot_tables_query(void)
{
	return tables_query;
}

const char *schema_snapshot_columns_query(bool is_mariadb, uint32_t version)
{
	static const char with[] = COLUMNS_QUERY("GENERATION_EXPRESSION");
	static const char without[] = COLUMNS_QUERY("NULL");

	return version >= (is_mariadb ? MARIADB_GENERATION : MYSQL_GENERATION) ? with : without;
}

const char *schema_snapshot_index_query(bool is_mariadb, uint32_t version)
{
	static const char with[] = INDEX_QUERY("EXPRESSION");
	static const char without[] = INDEX_QUERY("NULL");

	return !is_mariadb && version >= MYSQL_INDEX_EXPRESSION ? with : without;
}

/* ------------------------------------------------------------- SQL text ---- */

/*
 * Whether s can be copied into a statement as it is: every quote closes
 * (backslash escapes as the lexer reads them), parentheses balance, and
 * nothing outside quotes ends the statement or comments out the rest of
 * the line.  A closed block comment (MariaDB's /x M!100301 COMPRESSED x/
 * in a COLUMN_TYPE) is fine.
 */
static bool copyable(const char *s)
{
	int depth = 0;
	char q = 0;

	for (; *s != '\0'; s++) {
		if (q != 0) {
			if (*s == '\\' && q != '`' && s[1] != '\0')
				s++;
			else if (*s == q)
				q = 0; /* a doubled quote closes and opens again */
			continue;
		}
		if (*s == '\'' || *s == '"' || *s == '`') {
			q = *s;
		} else if (*s == '(') {
			depth++;
		} else if (*s == ')') {
			if (--depth < 0)
				return false;
		} else if (*s == ';' || *s == '#' || (*s == '-' && s[1] == '-')) {
			return false;
		} else if (*s == '/' && s[1] == '*') {
			const char *end = strstr(s + 2, "*/");
			if (end == NULL)
				return false;
			s = end + 1;
		}
	}
	return q == 0 && depth == 0;
}

static void put_ident(rw_buf *b, const char *name)
{
	rw_buf_putc(b, '`');
	for (const char *c = name; *c != '\0'; c++) {
		if (*c == '`')
			rw_buf_putc(b, '`');
		rw_buf_putc(b, *c);
	}
	rw_buf_putc(b, '`');
}

/* A string literal: quotes doubled, backslashes escaped. */
static void put_string(rw_buf *b, const char *s)
{
	rw_buf_putc(b, '\'');
	for (; *s != '\0'; s++) {
		if (*s == '\'' || *s == '\\')
			rw_buf_putc(b, *s);
		rw_buf_putc(b, *s);
	}
	rw_buf_putc(b, '\'');
}

static bool word_byte(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* Whether EXTRA holds word (case-insensitive, as a whole word). */
static bool extra_has(const char *extra, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = extra; *p != '\0'; p++) {
		if (strncasecmp(p, word, n) == 0 && (p == extra || !word_byte(p[-1])) &&
		    !word_byte(p[n]))
			return true;
	}
	return false;
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* CURRENT_TIMESTAMP, CURRENT_TIMESTAMP(), CURRENT_TIMESTAMP(3). */
static bool is_current_timestamp(const char *s)
{
	if (!starts_with(s, "CURRENT_TIMESTAMP"))
		return false;
	s += strlen("CURRENT_TIMESTAMP");
	if (*s == '\0')
		return true;
	if (*s++ != '(')
		return false;
	while (isdigit((unsigned char)*s))
		s++;
	return s[0] == ')' && s[1] == '\0';
}

/* MySQL's information_schema escapes the quotes of an expression (\'); the
 * expression itself has none.  A malloc'd copy without them, or NULL. */
static char *mysql_expression(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (; *s != '\0'; s++) {
		if (s[0] == '\\' && s[1] == '\'')
			s++;
		*o++ = *s;
	}
	*o = '\0';
	return out;
}

/* An expression as the flavour gave it, ready to copy: malloc'd, or NULL
 * when it cannot be copied (or out of memory). */
static char *expression(const struct schema_snapshot *s, const char *text)
{
	char *e = s->is_mariadb ? strdup(text) : mysql_expression(text);

	if (e != NULL && !copyable(e)) {
		free(e);
		return NULL;
	}
	return e;
}

/*
 * " DEFAULT ..." from COLUMN_DEFAULT.  MariaDB 10.2.7+ gives SQL ('abc',
 * NULL, current_timestamp(), (1 + 2)); MySQL and older MariaDB the raw
 * value (abc, SQL NULL for none), CURRENT_TIMESTAMP and b'101' as they are
 * written, and an expression (EXTRA DEFAULT_GENERATED) without parentheses.
 */
static void put_default(const struct schema_snapshot *s, rw_buf *b, const char *type,
			const char *def, const char *extra)
{
	char *e;

	if (def == NULL)
		return;
	if (s->is_mariadb && s->version >= MARIADB_SQL_DEFAULTS) {
		if (copyable(def))
			rw_buf_printf(b, " DEFAULT %s", def);
	} else if (is_current_timestamp(def) &&
		   (starts_with(type, "timestamp") || starts_with(type, "datetime"))) {
		rw_buf_printf(b, " DEFAULT %s", def);
	} else if (starts_with(type, "bit") && def[0] == 'b' && def[1] == '\'' && copyable(def)) {
		rw_buf_printf(b, " DEFAULT %s", def);
	} else if (extra_has(extra, "DEFAULT_GENERATED")) {
		if ((e = expression(s, def)) != NULL)
			rw_buf_printf(b, " DEFAULT (%s)", e);
		free(e);
	} else {
		rw_buf_puts(b, " DEFAULT ");
		put_string(b, def);
	}
}

/* " ON UPDATE f" from an EXTRA of "on update current_timestamp(3)". */
static void put_on_update(rw_buf *b, const char *extra)
{
	for (const char *p = extra; *p != '\0'; p++) {
		if (starts_with(p, "on update ")) {
			const char *f = p + strlen("on update ");
			size_t n = strcspn(f, " ,");
			if (n > 0 && n < 64) {
				char fn[64];
				memcpy(fn, f, n);
				fn[n] = '\0';
				if (copyable(fn))
					rw_buf_printf(b, " ON UPDATE %s", fn);
			}
			return;
		}
	}
}

/* " GENERATED ALWAYS AS ..." of a generated column: 1, or 0 when it is
 * not one, or -1 when out of memory. */
static int put_generated(const struct schema_snapshot *s, struct table *t, const char *const *row)
{
	rw_buf *b = &t->defs;
	const char *extra = row[SNAP_C_EXTRA] != NULL ? row[SNAP_C_EXTRA] : "";
	const char *gen = row[SNAP_C_GENERATION];
	bool stored = extra_has(extra, "STORED") || extra_has(extra, "PERSISTENT");
	char *e;

	if (!stored && !extra_has(extra, "VIRTUAL"))
		return 0;
	if (s->is_mariadb && t->versioned && gen != NULL &&
	    (strcasecmp(gen, "ROW START") == 0 || strcasecmp(gen, "ROW END") == 0)) {
		char **period = strcasecmp(gen, "ROW START") == 0 ? &t->row_start : &t->row_end;
		free(*period);
		if ((*period = strdup(row[SNAP_C_NAME])) == NULL)
			return -1;
		rw_buf_printf(b, " GENERATED ALWAYS AS %s", gen);
		return 1;
	}
	/* a server without GENERATION_EXPRESSION, or one the text cannot hold:
	 * the shape is kept, the parser keeps no expression anyway */
	e = gen != NULL && gen[0] != '\0' ? expression(s, gen) : NULL;
	rw_buf_printf(b, " GENERATED ALWAYS AS (%s) %s", e != NULL ? e : "NULL",
		      stored ? "STORED" : "VIRTUAL");
	free(e);
	return 1;
}

/* A character set name is a plain word; anything else is not copied. */
static bool plain_word(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	}
	return true;
}

/* One column's definition, after the others in t->defs; 0 or -1 when out of memory. */
static int column_sql(const struct schema_snapshot *s, struct table *t, const char *const *row,
		      bool nullable)
{
	rw_buf *b = &t->defs;
	const char *type = row[SNAP_C_TYPE];
	const char *extra = row[SNAP_C_EXTRA] != NULL ? row[SNAP_C_EXTRA] : "";
	const char *cs = row[SNAP_C_CHARSET];
	bool auto_inc = extra_has(extra, "auto_increment");
	int generated;

	if (!copyable(type) && t->unreadable == NULL &&
	    (t->unreadable = strdup(row[SNAP_C_NAME])) == NULL)
		return -1;
	rw_buf_puts(b, b->len > 0 ? ",\n  " : "\n  ");
	put_ident(b, row[SNAP_C_NAME]);
	rw_buf_putc(b, ' ');
	rw_buf_puts(b, type);
	if (cs != NULL && plain_word(cs))
		rw_buf_printf(b, " CHARACTER SET %s", cs);
	if ((generated = put_generated(s, t, row)) < 0)
		return -1;
	if (!nullable)
		rw_buf_puts(b, " NOT NULL");
	else if (starts_with(type, "timestamp"))
		/* as SHOW CREATE TABLE: a server with explicit_defaults_for_timestamp
		 * off would read the column back as NOT NULL */
		rw_buf_puts(b, " NULL");
	if (!generated && !auto_inc)
		put_default(s, b, type, row[SNAP_C_DEFAULT], extra);
	put_on_update(b, extra);
	if (auto_inc)
		rw_buf_puts(b, " AUTO_INCREMENT");
	if (extra_has(extra, "INVISIBLE"))
		rw_buf_puts(b, " INVISIBLE");
	return rw_buf_failed(b) ? -1 : 0;
}

/* -------------------------------------------------------------- tables ---- */

/* A table's name, the key of find_table()'s search. */
struct table_key {
	const char *schema, *name;
};

static int name_cmp(const char *schema, const char *name, const struct table *t)
{
	int c = strcmp(schema, t->schema);

	return c != 0 ? c : strcmp(name, t->name);
}

static int table_cmp(const void *a, const void *b)
{
	const struct table *x = a;

	return name_cmp(x->schema, x->name, b);
}

static int key_cmp(const void *key, const void *elem)
{
	const struct table_key *k = key;

	return name_cmp(k->schema, k->name, elem);
}

static void sort_tables(struct schema_snapshot *s)
{
	if (!s->sorted && s->n > 1)
		qsort(s->t, s->n, sizeof(*s->t), table_cmp);
	s->sorted = true;
}

static struct table *find_table(struct schema_snapshot *s, const char *schema, const char *name)
{
	struct table_key key = { schema, name };

	if (schema == NULL || name == NULL || s->n == 0)
		return NULL;
	sort_tables(s);
	return bsearch(&key, s->t, s->n, sizeof(*s->t), key_cmp);
}

static void key_clear(struct key *k)
{
	for (size_t i = 0; i < k->n; i++) {
		free(k->parts[i].col);
		free(k->parts[i].expr);
	}
	free(k->parts);
	free(k->name);
}

/* A whole decimal number. */
static bool decimal(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = v;
	return true;
}

static void table_clear(struct table *t)
{
	for (size_t i = 0; i < t->ncols; i++)
		free(t->cols[i].name);
	for (size_t i = 0; i < t->nkeys; i++)
		key_clear(&t->keys[i]);
	free(t->cols);
	free(t->keys);
	rw_buf_free(&t->defs);
	free(t->schema);
	free(t->name);
	free(t->row_start);
	free(t->row_end);
	free(t->unreadable);
}

struct schema_snapshot *schema_snapshot_new(bool is_mariadb, uint32_t version)
{
	struct schema_snapshot *s = calloc(1, sizeof(*s));

	if (s != NULL) {
		s->is_mariadb = is_mariadb;
		s->version = version;
	}
	return s;
}

void schema_snapshot_free(struct schema_snapshot *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n; i++)
		table_clear(&s->t[i]);
	free(s->t);
	free(s);
}

int schema_snapshot_add_table(struct schema_snapshot *s, const char *const *row)
{
	struct table *t;

	if (row[SNAP_T_SCHEMA] == NULL || row[SNAP_T_NAME] == NULL)
		return 0;
	if (rw_array_grow(&s->t, &s->cap, s->n, sizeof(*s->t), 64) < 0)
		return -1;
	t = &s->t[s->n];
	memset(t, 0, sizeof(*t));
	t->schema = strdup(row[SNAP_T_SCHEMA]);
	t->name = strdup(row[SNAP_T_NAME]);
	t->versioned =
	    row[SNAP_T_TYPE] != NULL && strcmp(row[SNAP_T_TYPE], "SYSTEM VERSIONED") == 0;
	t->sequence = row[SNAP_T_TYPE] != NULL && strcmp(row[SNAP_T_TYPE], "SEQUENCE") == 0;
	t->memory = row[SNAP_T_ENGINE] != NULL && (strcasecmp(row[SNAP_T_ENGINE], "MEMORY") == 0 ||
						   strcasecmp(row[SNAP_T_ENGINE], "HEAP") == 0);
	t->sized = row[SNAP_T_ROWS] != NULL && row[SNAP_T_BYTES] != NULL &&
		   decimal(row[SNAP_T_ROWS], &t->rows) && decimal(row[SNAP_T_BYTES], &t->bytes);
	if (t->schema == NULL || t->name == NULL) {
		table_clear(t);
		return -1;
	}
	s->n++;
	s->sorted = false;
	return 0;
}

int schema_snapshot_add_column(struct schema_snapshot *s, const char *const *row)
{
	struct table *t = find_table(s, row[SNAP_C_SCHEMA], row[SNAP_C_TABLE]);
	struct column *c;

	if (t == NULL || row[SNAP_C_NAME] == NULL || row[SNAP_C_TYPE] == NULL)
		return 0;
	if (rw_array_grow(&t->cols, &t->cap_cols, t->ncols, sizeof(*t->cols), 16) < 0)
		return -1;
	c = &t->cols[t->ncols];
	c->name = strdup(row[SNAP_C_NAME]);
	c->nullable = row[SNAP_C_NULLABLE] != NULL && strcasecmp(row[SNAP_C_NULLABLE], "YES") == 0;
	if (c->name == NULL)
		return -1;
	t->ncols++;
	return column_sql(s, t, row, c->nullable);
}

/* --------------------------------------------------------------- keys ---- */

static struct key *find_key(struct table *t, const char *name)
{
	for (size_t i = 0; i < t->nkeys; i++) {
		if (strcmp(t->keys[i].name, name) == 0)
			return &t->keys[i];
	}
	return NULL;
}

static int key_kind(const char *const *row)
{
	const char *type = row[SNAP_I_TYPE] != NULL ? row[SNAP_I_TYPE] : "";

	if (strcmp(row[SNAP_I_NAME], "PRIMARY") == 0)
		return KEY_PRIMARY;
	if (row[SNAP_I_NON_UNIQUE] != NULL && strcmp(row[SNAP_I_NON_UNIQUE], "0") == 0)
		return KEY_UNIQUE;
	if (strcasecmp(type, "FULLTEXT") == 0)
		return KEY_FULLTEXT;
	if (strcasecmp(type, "SPATIAL") == 0)
		return KEY_SPATIAL;
	return KEY_PLAIN;
}

/* The key named in row, added (after the table's others) when new. */
static struct key *key_of(struct table *t, const char *const *row)
{
	struct key *k = find_key(t, row[SNAP_I_NAME]);

	if (k != NULL)
		return k;
	if (rw_array_grow(&t->keys, &t->cap_keys, t->nkeys, sizeof(*t->keys), 4) < 0)
		return NULL;
	k = &t->keys[t->nkeys];
	memset(k, 0, sizeof(*k));
	k->name = strdup(row[SNAP_I_NAME]);
	k->kind = key_kind(row);
	/* MariaDB's long UNIQUE: on a BLOB, or on columns too long for the engine's keys */
	k->hash = k->kind == KEY_UNIQUE && !t->memory && row[SNAP_I_TYPE] != NULL &&
		  strcasecmp(row[SNAP_I_TYPE], "HASH") == 0;
	if (k->name == NULL)
		return NULL;
	t->nkeys++;
	return k;
}

/* Room for part seq (1-based) in k; NULL when out of memory. */
static struct part *key_part(struct key *k, size_t seq)
{
	if (seq > k->n) {
		struct part *grown = realloc(k->parts, seq * sizeof(*grown));
		if (grown == NULL)
			return NULL;
		memset(grown + k->n, 0, (seq - k->n) * sizeof(*grown));
		k->parts = grown;
		k->n = seq;
	}
	return &k->parts[seq - 1];
}

int schema_snapshot_add_index_part(struct schema_snapshot *s, const char *const *row)
{
	struct table *t = find_table(s, row[SNAP_I_SCHEMA], row[SNAP_I_TABLE]);
	const char *seq_text = row[SNAP_I_SEQ];
	unsigned long seq = seq_text != NULL ? strtoul(seq_text, NULL, 10) : 0;
	struct key *k;
	struct part *p;

	if (t == NULL || row[SNAP_I_NAME] == NULL || seq == 0 || seq > MAX_KEY_PARTS)
		return 0;
	if ((k = key_of(t, row)) == NULL || (p = key_part(k, seq)) == NULL)
		return -1;
	if (p->col != NULL || p->expr != NULL)
		return 0; /* the same part twice: keep the first */
	if (row[SNAP_I_COLUMN] != NULL) {
		if ((p->col = strdup(row[SNAP_I_COLUMN])) == NULL)
			return -1;
		/* SPATIAL keys have a SUB_PART that is no prefix */
		if (row[SNAP_I_SUB_PART] != NULL && k->kind != KEY_SPATIAL)
			p->sub_part = strtoul(row[SNAP_I_SUB_PART], NULL, 10);
	} else if (row[SNAP_I_EXPRESSION] != NULL &&
		   (p->expr = expression(s, row[SNAP_I_EXPRESSION])) != NULL) {
		/* a functional key part */
	} else {
		k->skip = true; /* no column and no expression the text can hold */
	}
	return 0;
}

/* --------------------------------------------------------- statements ---- */

static bool column_nullable(const struct table *t, const char *name)
{
	for (size_t i = 0; i < t->ncols; i++) {
		if (strcasecmp(t->cols[i].name, name) == 0)
			return t->cols[i].nullable;
	}
	return true;
}

/*
 * The server's order of keys (its sort_keys()): 0 PRIMARY; UNIQUE keys
 * whose parts are all NOT NULL columns, 1 whole columns before 2 prefixes;
 * 3 other UNIQUE keys; 4 plain and spatial keys; 5 FULLTEXT last.  Within
 * each, the order the rows came in (the order of definition).
 */
static int key_rank(const struct table *t, const struct key *k)
{
	bool prefix = false;

	if (k->kind != KEY_UNIQUE)
		return k->kind == KEY_PRIMARY ? 0 : k->kind == KEY_FULLTEXT ? 5 : 4;
	for (size_t i = 0; i < k->n; i++) {
		if (k->parts[i].col == NULL || column_nullable(t, k->parts[i].col))
			return 3;
		prefix |= k->parts[i].sub_part > 0;
	}
	return prefix ? 2 : 1;
}

static void key_sql(rw_buf *b, const struct key *k)
{
	static const char *const words[] = {
		[KEY_PRIMARY] = "PRIMARY KEY",   [KEY_UNIQUE] = "UNIQUE KEY",   [KEY_PLAIN] = "KEY",
		[KEY_FULLTEXT] = "FULLTEXT KEY", [KEY_SPATIAL] = "SPATIAL KEY",
	};

	rw_buf_printf(b, ",\n  %s ", words[k->kind]);
	if (k->kind != KEY_PRIMARY) {
		put_ident(b, k->name);
		rw_buf_putc(b, ' ');
	}
	rw_buf_putc(b, '(');
	for (size_t i = 0; i < k->n; i++) {
		const struct part *p = &k->parts[i];
		if (i > 0)
			rw_buf_putc(b, ',');
		if (p->col != NULL) {
			put_ident(b, p->col);
			if (p->sub_part > 0)
				rw_buf_printf(b, "(%lu)", p->sub_part);
		} else {
			rw_buf_printf(b, "(%s)", p->expr);
		}
	}
	rw_buf_putc(b, ')');
	if (k->hash)
		rw_buf_puts(b, " USING HASH");
}

static bool key_complete(const struct key *k)
{
	if (k->skip || k->n == 0)
		return false;
	for (size_t i = 0; i < k->n; i++) {
		if (k->parts[i].col == NULL && k->parts[i].expr == NULL)
			return false; /* a part whose row never came */
	}
	return true;
}

static void table_sql(rw_buf *b, const struct table *t)
{
	if (t->sequence) {
		rw_buf_puts(b, "CREATE SEQUENCE ");
		put_ident(b, t->schema);
		rw_buf_putc(b, '.');
		put_ident(b, t->name);
		rw_buf_puts(b, ";\n");
		return;
	}
	rw_buf_puts(b, "CREATE TABLE ");
	put_ident(b, t->schema);
	rw_buf_putc(b, '.');
	put_ident(b, t->name);
	if (t->unreadable != NULL) {
		/* a type the parser would misread: a statement it refuses, so that
		 * the table is unknown, the reason naming the word and the column */
		rw_buf_puts(b, " (");
		put_ident(b, t->unreadable);
		rw_buf_puts(b, " type_unreadable_in_information_schema);\n");
		return;
	}
	rw_buf_puts(b, " (");
	rw_buf_put(b, t->defs.p, t->defs.len);
	for (int rank = 0; rank < KEY_RANKS; rank++) {
		for (size_t i = 0; i < t->nkeys; i++) {
			if (key_rank(t, &t->keys[i]) == rank && key_complete(&t->keys[i]))
				key_sql(b, &t->keys[i]);
		}
	}
	if (t->row_start != NULL && t->row_end != NULL) {
		rw_buf_puts(b, ",\n  PERIOD FOR SYSTEM_TIME (");
		put_ident(b, t->row_start);
		rw_buf_puts(b, ", ");
		put_ident(b, t->row_end);
		rw_buf_putc(b, ')');
	}
	rw_buf_puts(b, t->versioned ? "\n) WITH SYSTEM VERSIONING;\n" : "\n);\n");
}

int schema_snapshot_next_size(const char *block, size_t len, size_t *pos, const char **schema,
			      const char **table, uint64_t *rows, uint64_t *bytes)
{
	const char *field[4];

	for (int i = 0; i < 4; i++) {
		const char *nul;
		if (*pos >= len || (nul = memchr(block + *pos, '\0', len - *pos)) == NULL)
			return 0;
		field[i] = block + *pos;
		*pos = (size_t)(nul - block) + 1;
	}
	if (!decimal(field[2], rows) || !decimal(field[3], bytes))
		return 0;
	*schema = field[0];
	*table = field[1];
	return 1;
}

char *schema_snapshot_sizes(struct schema_snapshot *s, size_t *len)
{
	rw_buf b = RW_BUF_INIT;
	char num[48];

	rw_buf_put(&b, "", 0);
	for (size_t i = 0; i < s->n; i++) {
		const struct table *t = &s->t[i];
		if (!t->sized)
			continue;
		rw_buf_put(&b, t->schema, strlen(t->schema) + 1);
		rw_buf_put(&b, t->name, strlen(t->name) + 1);
		snprintf(num, sizeof(num), "%llu", (unsigned long long)t->rows);
		rw_buf_put(&b, num, strlen(num) + 1);
		snprintf(num, sizeof(num), "%llu", (unsigned long long)t->bytes);
		rw_buf_put(&b, num, strlen(num) + 1);
	}
	if (rw_buf_failed(&b)) {
		rw_buf_free(&b);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

char *schema_snapshot_sql(struct schema_snapshot *s, size_t *len, size_t *n_tables)
{
	rw_buf b = RW_BUF_INIT;
	size_t n = 0;

	(void)find_table(s, "", ""); /* sorts */
	rw_buf_put(&b, "", 0);       /* "" when there is no table */
	for (size_t i = 0; i < s->n; i++) {
		if (s->t[i].ncols == 0)
			continue; /* dropped between the queries, or no column visible */
		table_sql(&b, &s->t[i]);
		n++;
	}
	if (rw_buf_failed(&b)) {
		rw_buf_free(&b);
		return NULL;
	}
	if (len != NULL)
		*len = b.len;
	if (n_tables != NULL)
		*n_tables = n;
	return b.p;
}
