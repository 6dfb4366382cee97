/*
 * ddl.c - the DDL parser (see ddl.h): recursive descent over the tokens of
 * ddl_lex.c.  A parse error anywhere turns the statement into DDL_UNPARSED
 * naming the token where it stopped; what was parsed before is dropped,
 * except the names of the tables the statement touches.
 */
#include "ringwatch/ddl.h"

#include "ddl_lex.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct parser {
	const char *sql;
	ddl_tok *t;
	size_t n, i;
	const ddl_options *opt;
	ddl_stmt *out;
	int failed; /* a parse error: out->error says where */
	int nomem;
};

/* ---- tokens ------------------------------------------------------------------- */

static const ddl_tok *peek(const struct parser *p, size_t k)
{
	return &p->t[p->i + k < p->n ? p->i + k : p->n];
}

static int tok_is(const ddl_tok *t, const char *word)
{
	return t->kind == TOK_WORD && strlen(word) == t->len &&
	       strncasecmp(t->p, word, t->len) == 0;
}

static int is_kw(const struct parser *p, size_t k, const char *word)
{
	return tok_is(peek(p, k), word);
}

static int is_punct(const struct parser *p, size_t k, char c)
{
	const ddl_tok *t = peek(p, k);

	return t->kind == TOK_PUNCT && t->c == c;
}

static int at_end(const struct parser *p)
{
	return p->failed || p->nomem || peek(p, 0)->kind == TOK_END ||
	       (is_punct(p, 0, ';') && peek(p, 1)->kind == TOK_END);
}

static int accept_kw(struct parser *p, const char *word)
{
	if (!p->failed && is_kw(p, 0, word)) {
		p->i++;
		return 1;
	}
	return 0;
}

static int accept_punct(struct parser *p, char c)
{
	if (!p->failed && is_punct(p, 0, c)) {
		p->i++;
		return 1;
	}
	return 0;
}

/* Stop with an error naming the current token. */
static void fail(struct parser *p, const char *what)
{
	const ddl_tok *t = peek(p, 0);

	if (p->failed)
		return;
	p->failed = 1;
	p->out->error_offset = (int64_t)t->off;
	if (t->kind == TOK_END)
		snprintf(p->out->error, sizeof(p->out->error), "%s at the end of the statement",
			 what);
	else
		snprintf(p->out->error, sizeof(p->out->error), "%s near '%.*s' (offset %zu)", what,
			 (int)(t->len > 40 ? 40 : t->len), t->p, t->off);
}

static void expect_kw(struct parser *p, const char *word)
{
	char what[64];

	if (!accept_kw(p, word)) {
		snprintf(what, sizeof(what), "expected %s", word);
		fail(p, what);
	}
}

static void expect_punct(struct parser *p, char c)
{
	char what[32];

	if (!accept_punct(p, c)) {
		snprintf(what, sizeof(what), "expected '%c'", c);
		fail(p, what);
	}
}

static char *dup_text(struct parser *p, const ddl_tok *t)
{
	char *s = ddl_tok_text(t);

	if (s == NULL)
		p->nomem = 1;
	return s;
}

static char *dup_span(struct parser *p, size_t from, size_t to)
{
	char *s = strndup(p->sql + from, to - from);

	if (s == NULL)
		p->nomem = 1;
	return s;
}

/* An identifier (a word, `quoted` or "quoted"), malloc'd; NULL and failed if none. */
static char *ident(struct parser *p)
{
	const ddl_tok *t = peek(p, 0);

	if (p->failed || (t->kind != TOK_WORD && t->kind != TOK_QIDENT && t->kind != TOK_DQ)) {
		fail(p, "expected a name");
		return NULL;
	}
	p->i++;
	return dup_text(p, t);
}

/* An identifier or a string (CHARACTER SET 'utf8'), malloc'd. */
static char *ident_or_string(struct parser *p)
{
	const ddl_tok *t = peek(p, 0);

	if (t->kind == TOK_STRING) {
		p->i++;
		return dup_text(p, t);
	}
	return ident(p);
}

static void table_name(struct parser *p, ddl_name *out)
{
	char *a = ident(p);

	if (a == NULL)
		return;
	if (accept_punct(p, '.')) {
		out->schema = a;
		out->table = ident(p);
	} else {
		out->table = a;
	}
}

/* Skip a balanced (...) starting at '('. */
static void skip_parens(struct parser *p)
{
	int depth = 0;

	if (!is_punct(p, 0, '(')) {
		fail(p, "expected '('");
		return;
	}
	do {
		const ddl_tok *t = peek(p, 0);
		if (t->kind == TOK_END) {
			fail(p, "unbalanced parentheses");
			return;
		}
		if (t->kind == TOK_PUNCT && t->c == '(')
			depth++;
		else if (t->kind == TOK_PUNCT && t->c == ')')
			depth--;
		p->i++;
	} while (depth > 0);
}

/* Skip to the next ',' or ')' at this depth (not consumed). */
static void skip_to_separator(struct parser *p)
{
	while (!at_end(p) && !is_punct(p, 0, ',') && !is_punct(p, 0, ')')) {
		if (is_punct(p, 0, '('))
			skip_parens(p);
		else
			p->i++;
	}
}

/* One operand of an expression: a literal, a name, a call, (...). */
static void skip_operand(struct parser *p)
{
	const ddl_tok *t;

	while (is_punct(p, 0, '-') || is_punct(p, 0, '+') || is_punct(p, 0, '~') ||
	       is_punct(p, 0, '!'))
		p->i++;
	t = peek(p, 0);
	if (t->kind == TOK_PUNCT && t->c == '(') {
		skip_parens(p);
		return;
	}
	if (t->kind == TOK_PUNCT && t->c == '@') { /* @@sql_mode, @@session.x, @v */
		p->i += is_punct(p, 1, '@') ? 2 : 1;
		t = peek(p, 0);
		if (t->kind != TOK_WORD && t->kind != TOK_QIDENT) {
			fail(p, "expected a variable name");
			return;
		}
		p->i++;
		if (accept_punct(p, '.') && !at_end(p))
			p->i++;
		return;
	}
	if (t->kind == TOK_END || t->kind == TOK_PUNCT) {
		fail(p, "expected a value");
		return;
	}
	p->i++;
	if (t->kind == TOK_WORD && is_punct(p, 0, '(')) {
		skip_parens(p);
		return;
	}
	/* _utf8mb4'x', x'41', b'1', N'x' and 'a' 'b' concatenations */
	while (peek(p, 0)->kind == TOK_STRING || peek(p, 0)->kind == TOK_DQ)
		p->i++;
	if (accept_punct(p, '.') && !at_end(p)) /* a qualified name */
		p->i++;
}

static int binary_operator(const struct parser *p)
{
	static const char ops[] = "+-*/%|&^";
	const ddl_tok *t = peek(p, 0);

	if (t->kind == TOK_PUNCT && strchr(ops, t->c) != NULL)
		return 1;
	return is_kw(p, 0, "DIV") || is_kw(p, 0, "MOD") || is_kw(p, 0, "OR") ||
	       is_kw(p, 0, "AND") || is_kw(p, 0, "XOR");
}

/* An expression of operands joined by arithmetic; its text, malloc'd. */
static char *expression(struct parser *p)
{
	size_t from = peek(p, 0)->off;

	skip_operand(p);
	while (!p->failed && binary_operator(p)) {
		while (binary_operator(p)) /* || and the like */
			p->i++;
		skip_operand(p);
	}
	if (p->failed)
		return NULL;
	return dup_span(p, from, p->t[p->i - 1].off + p->t[p->i - 1].len);
}

/* "= value" or "value" of a table or index option: one token or (...). */
static void option_value(struct parser *p)
{
	(void)accept_punct(p, '=');
	if (is_punct(p, 0, '('))
		skip_parens(p);
	else if (at_end(p))
		fail(p, "expected a value");
	else
		skip_operand(p);
}

/* ---- column types --------------------------------------------------------------- */

enum type_kind {
	K_PLAIN = 0, /* no arguments kept */
	K_INT,       /* display width dropped */
	K_FLOAT,     /* FLOAT(p) over 24 is a DOUBLE */
	K_DECIMAL,   /* (p) is (p,0); none is (10,0) */
	K_LENGTH,    /* (n), 1 when not given: CHAR, BINARY, BIT */
	K_ARGS,      /* arguments kept as written: VARCHAR(n), ENUM(...), VECTOR(n) */
	K_TEMPORAL,  /* (0) dropped */
	K_SERIAL,    /* BIGINT UNSIGNED NOT NULL AUTO_INCREMENT UNIQUE */
};

struct type_def {
	const char *word, *canon;
	uint8_t binlog_type, alt_type, kind;
};

/* MariaDB's JSON is LONGTEXT; MySQL's is its own type (see json_type()). */
static const struct type_def type_defs[] = {
	{ "tinyint", "tinyint", 1, 0, K_INT },
	{ "int1", "tinyint", 1, 0, K_INT },
	{ "bool", "tinyint", 1, 0, K_PLAIN }, /* as TINYINT(1): display widths are dropped */
	{ "boolean", "tinyint", 1, 0, K_PLAIN },
	{ "smallint", "smallint", 2, 0, K_INT },
	{ "int2", "smallint", 2, 0, K_INT },
	{ "mediumint", "mediumint", 9, 0, K_INT },
	{ "middleint", "mediumint", 9, 0, K_INT },
	{ "int3", "mediumint", 9, 0, K_INT },
	{ "int", "int", 3, 0, K_INT },
	{ "integer", "int", 3, 0, K_INT },
	{ "int4", "int", 3, 0, K_INT },
	{ "bigint", "bigint", 8, 0, K_INT },
	{ "int8", "bigint", 8, 0, K_INT },
	{ "serial", "bigint unsigned", 8, 0, K_SERIAL },
	{ "float", "float", 4, 0, K_FLOAT },
	{ "float4", "float", 4, 0, K_FLOAT },
	{ "double", "double", 5, 0, K_ARGS },
	{ "float8", "double", 5, 0, K_ARGS },
	{ "real", "double", 5, 0, K_ARGS },
	{ "decimal", "decimal", 246, 0, K_DECIMAL },
	{ "dec", "decimal", 246, 0, K_DECIMAL },
	{ "numeric", "decimal", 246, 0, K_DECIMAL },
	{ "fixed", "decimal", 246, 0, K_DECIMAL },
	{ "bit", "bit", 16, 0, K_LENGTH },
	{ "date", "date", 10, 14, K_PLAIN },
	{ "time", "time", 19, 11, K_TEMPORAL },
	{ "datetime", "datetime", 18, 12, K_TEMPORAL },
	{ "timestamp", "timestamp", 17, 7, K_TEMPORAL },
	{ "year", "year", 13, 0, K_PLAIN },
	{ "char", "char", 254, 0, K_LENGTH },
	{ "character", "char", 254, 0, K_LENGTH },
	{ "nchar", "char", 254, 0, K_LENGTH },
	{ "binary", "binary", 254, 0, K_LENGTH },
	{ "varchar", "varchar", 15, 0, K_ARGS },
	{ "nvarchar", "varchar", 15, 0, K_ARGS },
	{ "varcharacter", "varchar", 15, 0, K_ARGS },
	{ "varbinary", "varbinary", 15, 0, K_ARGS },
	{ "tinytext", "tinytext", 252, 0, K_PLAIN },
	{ "text", "text", 252, 0, K_PLAIN },
	{ "mediumtext", "mediumtext", 252, 0, K_PLAIN },
	{ "longtext", "longtext", 252, 0, K_PLAIN },
	{ "tinyblob", "tinyblob", 252, 0, K_PLAIN },
	{ "blob", "blob", 252, 0, K_PLAIN },
	{ "mediumblob", "mediumblob", 252, 0, K_PLAIN },
	{ "longblob", "longblob", 252, 0, K_PLAIN },
	{ "long", "mediumtext", 252, 0, K_PLAIN },
	{ "enum", "enum", 247, 0, K_ARGS },
	{ "set", "set", 248, 0, K_ARGS },
	{ "json", "json", 245, 252, K_PLAIN },
	{ "geometry", "geometry", 255, 0, K_PLAIN },
	{ "point", "point", 255, 0, K_PLAIN },
	{ "linestring", "linestring", 255, 0, K_PLAIN },
	{ "polygon", "polygon", 255, 0, K_PLAIN },
	{ "multipoint", "multipoint", 255, 0, K_PLAIN },
	{ "multilinestring", "multilinestring", 255, 0, K_PLAIN },
	{ "multipolygon", "multipolygon", 255, 0, K_PLAIN },
	{ "geometrycollection", "geometrycollection", 255, 0, K_PLAIN },
	{ "geomcollection", "geometrycollection", 255, 0, K_PLAIN },
	{ "inet6", "inet6", 254, 0, K_PLAIN },
	{ "inet4", "inet4", 254, 0, K_PLAIN },
	{ "uuid", "uuid", 254, 0, K_PLAIN },
	{ "vector", "vector", 242, 15, K_ARGS },
};

static const struct type_def *type_named(const char *word)
{
	for (size_t i = 0; i < sizeof(type_defs) / sizeof(type_defs[0]); i++) {
		if (strcmp(type_defs[i].word, word) == 0)
			return &type_defs[i];
	}
	return NULL;
}

static const struct type_def *type_lookup(const ddl_tok *t)
{
	if (t->kind != TOK_WORD)
		return NULL;
	for (size_t i = 0; i < sizeof(type_defs) / sizeof(type_defs[0]); i++) {
		if (tok_is(t, type_defs[i].word))
			return &type_defs[i];
	}
	return NULL;
}

/* The words that make one type of several: DOUBLE PRECISION, NATIONAL CHAR VARYING, ... */
static const struct type_def *type_words(struct parser *p)
{
	static const struct type_def varchar = { "varchar", "varchar", 15, 0, K_ARGS };
	static const struct type_def varbinary = { "varbinary", "varbinary", 15, 0, K_ARGS };
	static const struct type_def mediumblob = { "long", "mediumblob", 252, 0, K_PLAIN };
	const struct type_def *d;

	(void)accept_kw(p, "NATIONAL");
	if (accept_kw(p, "LONG")) {
		if (accept_kw(p, "VARBINARY"))
			return &mediumblob;
		if (accept_kw(p, "CHAR") || accept_kw(p, "CHARACTER"))
			expect_kw(p, "VARYING");
		else
			(void)accept_kw(p, "VARCHAR");
		return type_named("long"); /* MEDIUMTEXT */
	}
	if (peek(p, 0)->kind == TOK_WORD && is_punct(p, 1, '.') && peek(p, 2)->kind == TOK_WORD)
		p->i += 2; /* mariadb_schema.TIMESTAMP: the type of another sql_mode */
	d = type_lookup(peek(p, 0));
	if (d == NULL) {
		fail(p, "unknown column type");
		return NULL;
	}
	p->i++;
	if (strcmp(d->canon, "double") == 0)
		(void)accept_kw(p, "PRECISION");
	if ((strcmp(d->canon, "char") == 0) && accept_kw(p, "VARYING"))
		return &varchar;
	if (strcmp(d->canon, "binary") == 0 && accept_kw(p, "VARYING"))
		return &varbinary;
	return d;
}

/* The arguments of a type, "(...)" as written, or NULL. */
static char *type_args(struct parser *p)
{
	rw_buf b = RW_BUF_INIT;
	int depth = 0;

	if (!is_punct(p, 0, '('))
		return NULL;
	/* rebuilt from the tokens: "( 20 )" is "(20)", as information_schema has it */
	do {
		const ddl_tok *t = peek(p, 0);
		if (t->kind == TOK_END) {
			fail(p, "unbalanced parentheses");
			break;
		}
		depth += t->kind == TOK_PUNCT && t->c == '(';
		depth -= t->kind == TOK_PUNCT && t->c == ')';
		if (b.len > 0 && t->kind != TOK_PUNCT && b.p[b.len - 1] != '(' &&
		    b.p[b.len - 1] != ',')
			rw_buf_putc(&b, ' ');
		rw_buf_put(&b, t->p, t->len);
		p->i++;
	} while (depth > 0);
	if (p->failed || b.failed || memchr(b.p, '\0', b.len) != NULL) {
		if (!p->failed)
			fail(p, b.failed ? "out of memory" : "a NUL byte in a type");
		rw_buf_free(&b);
		return NULL;
	}
	return b.p;
}

static void lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* The canonical type text of d with arguments args (may be NULL). */
static char *type_text(struct parser *p, const struct type_def *d, const char *args,
		       schema_column *c)
{
	rw_buf buf = RW_BUF_INIT;
	const char *canon = d->canon;
	char *a = NULL;

	if (args != NULL) {
		a = strdup(args);
		if (a == NULL) {
			p->nomem = 1;
			return NULL;
		}
		if (d->kind != K_ARGS ||
		    (strcmp(d->canon, "enum") != 0 && strcmp(d->canon, "set") != 0))
			lower(a);
		/* no spaces inside numeric arguments: "(10, 2)" is "(10,2)" */
		if (d->kind == K_DECIMAL || d->kind == K_FLOAT) {
			char *w = a;
			for (char *r = a; *r != '\0'; r++) {
				if (!isspace((unsigned char)*r))
					*w++ = *r;
			}
			*w = '\0';
		}
	}
	switch (d->kind) {
	case K_INT:
	case K_PLAIN:
	case K_SERIAL:
		rw_buf_printf(&buf, "%s", canon);
		break;
	case K_FLOAT:
		if (a != NULL && strchr(a, ',') == NULL && atoi(a + 1) > 24) {
			rw_buf_printf(&buf, "double");
			c->binlog_type = 5;
		} else if (a != NULL && strchr(a, ',') == NULL) {
			rw_buf_printf(&buf, "float");
		} else {
			rw_buf_printf(&buf, "%s%s", canon, a != NULL ? a : "");
		}
		break;
	case K_DECIMAL:
		if (a == NULL)
			rw_buf_printf(&buf, "%s(10,0)", canon);
		else if (strchr(a, ',') == NULL)
			rw_buf_printf(&buf, "%s(%d,0)", canon, atoi(a + 1));
		else
			rw_buf_printf(&buf, "%s%s", canon, a);
		break;
	case K_LENGTH:
		rw_buf_printf(&buf, "%s%s", canon, a != NULL ? a : "(1)");
		break;
	case K_TEMPORAL:
		if (a != NULL && atoi(a + 1) == 0)
			rw_buf_printf(&buf, "%s", canon);
		else
			rw_buf_printf(&buf, "%s%s", canon, a != NULL ? a : "");
		break;
	default:
		rw_buf_printf(&buf, "%s%s", canon, a != NULL ? a : "");
		break;
	}
	free(a);
	if (buf.failed || buf.p == NULL) {
		p->nomem = 1;
		rw_buf_free(&buf);
		return NULL;
	}
	return buf.p;
}

/* Type words, arguments and modifiers into c. */
static void column_type(struct parser *p, schema_column *c)
{
	const struct type_def *d = type_words(p);
	char *args, *text;
	rw_buf full = RW_BUF_INIT;
	int zerofill = 0;

	if (d == NULL)
		return;
	args = type_args(p);
	c->binlog_type = d->binlog_type;
	c->alt_type = d->alt_type;
	if (strcmp(d->word, "json") == 0 && p->opt->mariadb) {
		d = type_named("longtext");
		c->binlog_type = 252;
		c->alt_type = 0;
	}
	if (strcmp(d->word, "vector") == 0 && p->opt->mariadb) {
		c->binlog_type = 15;
		c->alt_type = 0;
	}
	if (d->kind == K_SERIAL) {
		c->is_unsigned = true;
		c->nullable = false;
		c->auto_increment = true;
	}
	text = type_text(p, d, args, c);
	free(args);
	if (text == NULL)
		return;
	for (;;) {
		if (accept_kw(p, "UNSIGNED"))
			c->is_unsigned = true;
		else if (accept_kw(p, "ZEROFILL"))
			zerofill = c->is_unsigned = true;
		else if (!accept_kw(p, "SIGNED"))
			break;
	}
	rw_buf_printf(&full, "%s%s%s", text,
		      c->is_unsigned && d->kind != K_SERIAL ? " unsigned" : "",
		      zerofill ? " zerofill" : "");
	free(text);
	if (full.failed || full.p == NULL) {
		rw_buf_free(&full);
		p->nomem = 1;
		return;
	}
	c->type = full.p;
}

/* ---- columns -------------------------------------------------------------------- */

/* What a column definition says beyond its schema_column. */
struct column_extra {
	bool primary, unique;
	bool said_null; /* NULL written on the column */
	int row_period; /* 1: GENERATED ALWAYS AS ROW START, 2: ... ROW END */
};

static void charset_clause(struct parser *p, schema_column *c)
{
	char *cs = ident_or_string(p);

	if (cs == NULL)
		return;
	if (cs[0] == '\0') { /* CHARSET '': the server's default, as if not said */
		free(cs);
		return;
	}
	lower(cs);
	free(c->charset);
	c->charset = cs;
}

/* Skip REFERENCES t (cols) [MATCH x] [ON DELETE|UPDATE action]... */
static void references(struct parser *p)
{
	ddl_name n = { NULL, NULL };

	table_name(p, &n);
	free(n.schema);
	free(n.table);
	if (is_punct(p, 0, '('))
		skip_parens(p);
	for (;;) {
		if (accept_kw(p, "MATCH")) {
			p->i++;
		} else if (accept_kw(p, "ON")) {
			if (!accept_kw(p, "DELETE"))
				expect_kw(p, "UPDATE");
			if (accept_kw(p, "SET") || accept_kw(p, "NO"))
				p->i++;
			else if (!accept_kw(p, "RESTRICT") && !accept_kw(p, "CASCADE"))
				fail(p, "expected a referential action");
		} else {
			break;
		}
	}
}

/* GENERATED ALWAYS AS (expr) | AS ROW START|END, after GENERATED ALWAYS or AS. */
static void generated(struct parser *p, schema_column *c, struct column_extra *x)
{
	if (accept_kw(p, "ROW")) {
		x->row_period = accept_kw(p, "START") ? 1 : (expect_kw(p, "END"), 2);
		c->nullable = false; /* the server makes period columns NOT NULL */
		return;
	}
	skip_parens(p);
	c->generated = true;
	if (!accept_kw(p, "VIRTUAL") && !accept_kw(p, "STORED"))
		(void)accept_kw(p, "PERSISTENT");
}

/* One attribute after the type; 0 when the next token is none. */
static int column_attribute(struct parser *p, schema_column *c, struct column_extra *x)
{
	if (accept_kw(p, "NOT")) {
		expect_kw(p, "NULL");
		c->nullable = false;
	} else if (accept_kw(p, "NULL")) {
		c->nullable = true;
		x->said_null = true;
	} else if (accept_kw(p, "DEFAULT")) {
		free(c->def);
		c->def = expression(p);
		if (c->def != NULL && strcasecmp(c->def, "NULL") == 0) {
			free(c->def); /* DEFAULT NULL: what no DEFAULT means */
			c->def = NULL;
		}
	} else if (accept_kw(p, "AUTO_INCREMENT")) {
		c->auto_increment = true;
	} else if (accept_kw(p, "PRIMARY") || is_kw(p, 0, "KEY")) {
		expect_kw(p, "KEY");
		x->primary = true;
	} else if (accept_kw(p, "UNIQUE")) {
		if (!accept_kw(p, "KEY"))
			(void)accept_kw(p, "INDEX");
		x->unique = true;
	} else if (accept_kw(p, "COMMENT") || accept_kw(p, "COLUMN_FORMAT") ||
		   accept_kw(p, "STORAGE") || accept_kw(p, "SRID") ||
		   accept_kw(p, "ENGINE_ATTRIBUTE") || accept_kw(p, "SECONDARY_ENGINE_ATTRIBUTE")) {
		option_value(p);
	} else if (accept_kw(p, "COLLATE")) {
		(void)accept_punct(p, '=');
		free(ident_or_string(p));
	} else if (accept_kw(p, "CHARSET") ||
		   (accept_kw(p, "CHARACTER") && (expect_kw(p, "SET"), 1))) {
		charset_clause(p, c);
	} else if (accept_kw(p, "BINARY") || accept_kw(p, "ASCII") || accept_kw(p, "UNICODE") ||
		   accept_kw(p, "BYTE")) {
	} else if (accept_kw(p, "GENERATED")) {
		expect_kw(p, "ALWAYS");
		expect_kw(p, "AS");
		generated(p, c, x);
	} else if (accept_kw(p, "AS")) {
		generated(p, c, x);
	} else if (accept_kw(p, "VIRTUAL") || accept_kw(p, "STORED") ||
		   accept_kw(p, "PERSISTENT")) {
	} else if (accept_kw(p, "ON")) {
		expect_kw(p, "UPDATE");
		skip_operand(p);
	} else if (accept_kw(p, "REFERENCES")) {
		references(p);
	} else if (accept_kw(p, "CONSTRAINT")) {
		if (!is_kw(p, 0, "CHECK"))
			free(ident(p));
		expect_kw(p, "CHECK");
		skip_parens(p);
	} else if (accept_kw(p, "CHECK")) {
		skip_parens(p);
	} else if (accept_kw(p, "INVISIBLE")) {
		c->invisible = true;
	} else if (accept_kw(p, "VISIBLE")) {
		c->invisible = false;
	} else if (accept_kw(p, "WITH") || accept_kw(p, "WITHOUT")) {
		expect_kw(p, "SYSTEM");
		expect_kw(p, "VERSIONING");
	} else if (accept_kw(p, "COMPRESSED")) {
		if (accept_punct(p, '='))
			p->i++;
		c->binlog_type = c->binlog_type == 15 ? 141 : 140;
	} else if (accept_kw(p, "SERIAL")) {
		expect_kw(p, "DEFAULT");
		expect_kw(p, "VALUE");
		c->nullable = false;
		c->auto_increment = true;
		x->unique = true;
	} else if (accept_kw(p, "ENFORCED")) {
	} else {
		return 0;
	}
	return !p->failed;
}

/* name type attributes... into *c (cleared first). */
static void column_def(struct parser *p, schema_column *c, struct column_extra *x)
{
	memset(c, 0, sizeof(*c));
	memset(x, 0, sizeof(*x));
	c->nullable = true;
	c->name = ident(p);
	if (c->name == NULL)
		return;
	x->unique = is_kw(p, 0, "SERIAL"); /* BIGINT UNSIGNED NOT NULL AUTO_INCREMENT UNIQUE */
	column_type(p, c);
	while (!p->failed && !p->nomem && column_attribute(p, c, x))
		;
	if (x->primary || (c->auto_increment && !x->said_null)) /* as the server does */
		c->nullable = false;
}

/* ---- indexes -------------------------------------------------------------------- */

static void index_part(struct parser *p, schema_index *ix, char *col, uint32_t prefix)
{
	char **cols = realloc(ix->cols, (ix->n + 1) * sizeof(*cols));
	uint32_t *pre;

	if (cols == NULL) {
		free(col);
		p->nomem = 1;
		return;
	}
	ix->cols = cols;
	pre = realloc(ix->prefix, (ix->n + 1) * sizeof(*pre));
	if (pre == NULL) {
		free(col);
		p->nomem = 1;
		return;
	}
	ix->prefix = pre;
	ix->cols[ix->n] = col;
	ix->prefix[ix->n] = prefix;
	ix->n++;
}

/* (part, ...): a column with an optional (prefix) and ASC/DESC, or (expression). */
static void key_parts(struct parser *p, schema_index *ix)
{
	expect_punct(p, '(');
	do {
		char *col = NULL;
		uint32_t prefix = 0;
		if (is_punct(p, 0, '(')) {
			skip_parens(p);
		} else {
			col = ident(p);
			if (accept_punct(p, '(')) {
				if (peek(p, 0)->kind != TOK_NUMBER)
					fail(p, "expected a prefix length");
				prefix = (uint32_t)strtoul(peek(p, 0)->p, NULL, 10);
				p->i++;
				expect_punct(p, ')');
			}
		}
		if (p->failed) {
			free(col);
			return;
		}
		if (accept_kw(p, "WITHOUT")) { /* an application-time period: no column */
			expect_kw(p, "OVERLAPS");
			free(col);
			col = NULL;
		}
		index_part(p, ix, col, prefix);
		if (!accept_kw(p, "ASC"))
			(void)accept_kw(p, "DESC");
	} while (accept_punct(p, ','));
	expect_punct(p, ')');
}

/* Whether the next tokens start an index definition (after CONSTRAINT [name]). */
static int starts_index(const struct parser *p)
{
	return is_kw(p, 0, "PRIMARY") || is_kw(p, 0, "UNIQUE") || is_kw(p, 0, "KEY") ||
	       is_kw(p, 0, "INDEX") || is_kw(p, 0, "FULLTEXT") || is_kw(p, 0, "SPATIAL");
}

/* [USING | TYPE] {BTREE | HASH | RTREE}: HASH noted. */
static void index_type(struct parser *p, schema_index *ix)
{
	if (!accept_kw(p, "USING") && !accept_kw(p, "TYPE"))
		return;
	if (is_kw(p, 0, "HASH"))
		ix->hash = true;
	p->i++;
}

/*
 * PRIMARY KEY | UNIQUE [KEY] | KEY | FULLTEXT [KEY] ... [IF NOT EXISTS] [name] [USING t]
 * (parts) options, into *ix (cleared first); name is the CONSTRAINT's (taken), NULL if
 * none; *if_not_exists set when the statement says so.
 */
static void index_def(struct parser *p, schema_index *ix, char *name, bool *if_not_exists)
{
	memset(ix, 0, sizeof(*ix));
	if (accept_kw(p, "PRIMARY")) {
		expect_kw(p, "KEY");
		ix->kind = SCHEMA_INDEX_PRIMARY;
		free(name);
		name = strdup("PRIMARY");
		if (name == NULL)
			p->nomem = 1;
		if (accept_kw(p, "IF")) {
			expect_kw(p, "NOT");
			expect_kw(p, "EXISTS");
			*if_not_exists = true;
		}
		if (!is_punct(p, 0, '(') && !is_kw(p, 0, "USING") && !p->failed)
			free(ident(p)); /* a name: the primary key is PRIMARY all the same */
	} else {
		ix->kind = accept_kw(p, "UNIQUE")     ? SCHEMA_INDEX_UNIQUE
			   : accept_kw(p, "FULLTEXT") ? SCHEMA_INDEX_FULLTEXT
			   : accept_kw(p, "SPATIAL")  ? SCHEMA_INDEX_SPATIAL
						      : SCHEMA_INDEX_PLAIN;
		if (!accept_kw(p, "KEY") && !accept_kw(p, "INDEX") &&
		    ix->kind == SCHEMA_INDEX_PLAIN)
			fail(p, "expected KEY or INDEX");
		if (accept_kw(p, "IF")) {
			expect_kw(p, "NOT");
			expect_kw(p, "EXISTS");
			*if_not_exists = true;
		}
		if (!is_punct(p, 0, '(') && !is_kw(p, 0, "USING")) {
			free(name);
			name = ident(p);
		}
	}
	ix->name = name;
	index_type(p, ix);
	key_parts(p, ix);
	/* USING, COMMENT, KEY_BLOCK_SIZE, VISIBLE, ... */
	while (!at_end(p) && !is_punct(p, 0, ',') && !is_punct(p, 0, ')')) {
		if (is_kw(p, 0, "USING") || is_kw(p, 0, "TYPE"))
			index_type(p, ix);
		else if (is_punct(p, 0, '('))
			skip_parens(p);
		else
			p->i++;
	}
}

/* Add ix to t (taken; schema_table_add_index() names it if need be). */
static void add_index(struct parser *p, schema_table *t, schema_index *ix)
{
	if (!p->nomem && schema_table_add_index(t, ix) != 0)
		p->nomem = 1;
	schema_index_clear(ix);
}

/* A one-column index for PRIMARY KEY or UNIQUE written on a column. */
static void column_index(struct parser *p, schema_index *ix, int kind, const char *col)
{
	char *c = strdup(col);

	memset(ix, 0, sizeof(*ix));
	ix->kind = kind;
	if (kind == SCHEMA_INDEX_PRIMARY)
		ix->name = strdup("PRIMARY");
	if (c == NULL || (kind == SCHEMA_INDEX_PRIMARY && ix->name == NULL))
		p->nomem = 1;
	index_part(p, ix, c, 0);
}

/* FOREIGN KEY [IF NOT EXISTS] [name] (cols) REFERENCES ...: InnoDB adds an index
 * on the columns unless one starts with them. */
static void foreign_key(struct parser *p, schema_table *t, char *constraint)
{
	schema_index ix;

	memset(&ix, 0, sizeof(ix));
	expect_kw(p, "KEY");
	if (accept_kw(p, "IF")) {
		expect_kw(p, "NOT");
		expect_kw(p, "EXISTS");
	}
	ix.kind = SCHEMA_INDEX_PLAIN;
	ix.name = constraint;
	if (!is_punct(p, 0, '(')) {
		free(ix.name);
		ix.name = ident(p);
	}
	key_parts(p, &ix);
	expect_kw(p, "REFERENCES");
	if (!p->failed)
		references(p);
	for (uint32_t i = 0; !p->failed && i < t->nidx; i++) {
		const schema_index *o = &t->idx[i];
		uint32_t k = 0;
		while (k < ix.n && k < o->n && o->cols[k] != NULL && ix.cols[k] != NULL &&
		       strcasecmp(o->cols[k], ix.cols[k]) == 0)
			k++;
		if (k == ix.n) { /* an index starts with the columns already */
			schema_index_clear(&ix);
			return;
		}
	}
	if (p->failed)
		schema_index_clear(&ix);
	else
		add_index(p, t, &ix);
}

/* ---- CREATE TABLE ---------------------------------------------------------------- */

/* What a CREATE TABLE's definitions said beyond columns and indexes. */
struct create_ctx {
	char *row_start, *row_end; /* AS ROW START/END columns, by name */
};

static void add_column(struct parser *p, schema_table *t, schema_column *c, int at)
{
	if (!p->nomem && schema_table_add_column(t, c, at) != 0)
		p->nomem = 1;
	schema_column_clear(c);
}

/* A column definition with its inline keys, added to t at the end. */
static void create_column(struct parser *p, schema_table *t, struct create_ctx *ctx)
{
	schema_column c;
	struct column_extra x;
	schema_index ix;
	char *name;

	column_def(p, &c, &x);
	if (p->failed || c.name == NULL) {
		schema_column_clear(&c);
		return;
	}
	name = strdup(c.name);
	if (name == NULL)
		p->nomem = 1;
	if (x.row_period == 1 && ctx->row_start == NULL)
		ctx->row_start = strdup(c.name);
	if (x.row_period == 2 && ctx->row_end == NULL)
		ctx->row_end = strdup(c.name);
	add_column(p, t, &c, -1);
	if (name != NULL && x.primary) {
		column_index(p, &ix, SCHEMA_INDEX_PRIMARY, name);
		add_index(p, t, &ix);
	}
	if (name != NULL && x.unique) {
		column_index(p, &ix, SCHEMA_INDEX_UNIQUE, name);
		add_index(p, t, &ix);
	}
	free(name);
}

/* PERIOD FOR name (start, end): the server makes both columns NOT NULL. */
static void period(struct parser *p, schema_table *t)
{
	free(ident(p)); /* SYSTEM_TIME or the period's name */
	expect_punct(p, '(');
	for (int k = 0; k < 2 && !p->failed; k++) {
		char *col = ident(p);
		int i = col != NULL ? schema_table_column(t, col) : -1;
		if (i >= 0)
			t->cols[i].nullable = false;
		free(col);
		if (k == 0)
			expect_punct(p, ',');
	}
	expect_punct(p, ')');
}

/* One element of a CREATE TABLE's list: a column, an index, a constraint, a period. */
static void create_element(struct parser *p, schema_table *t, struct create_ctx *ctx)
{
	char *constraint = NULL;
	schema_index ix;

	if (accept_kw(p, "CONSTRAINT")) {
		if (!is_kw(p, 0, "PRIMARY") && !is_kw(p, 0, "UNIQUE") && !is_kw(p, 0, "FOREIGN") &&
		    !is_kw(p, 0, "CHECK"))
			constraint = ident(p);
	}
	if (starts_index(p)) {
		bool ine = false;
		index_def(p, &ix, constraint, &ine);
		if (p->failed)
			schema_index_clear(&ix);
		else
			add_index(p, t, &ix);
	} else if (accept_kw(p, "FOREIGN")) {
		foreign_key(p, t, constraint);
	} else if (is_kw(p, 0, "PERIOD") && is_kw(p, 1, "FOR")) {
		free(constraint);
		p->i += 2;
		period(p, t);
	} else if (accept_kw(p, "CHECK")) {
		free(constraint);
		skip_to_separator(p);
	} else {
		free(constraint);
		create_column(p, t, ctx);
	}
}

static int starts_select(const struct parser *p)
{
	size_t k = 0;

	while (is_punct(p, k, '('))
		k++;
	return is_kw(p, k, "SELECT") || is_kw(p, k, "WITH") || is_kw(p, k, "VALUES") ||
	       is_kw(p, k, "TABLE");
}

/* After the list: table options, partitioning, a query.  1 when a query follows. */
static int create_tail(struct parser *p, schema_table *t)
{
	while (!at_end(p)) {
		if (is_kw(p, 0, "WITH") && is_kw(p, 1, "SYSTEM")) {
			p->i += 3;
			t->versioned = true;
		} else if (starts_select(p) && !is_kw(p, 0, "WITH") && !is_kw(p, 0, "TABLE")) {
			return 1;
		} else if ((is_kw(p, 0, "AS") || is_kw(p, 0, "IGNORE") || is_kw(p, 0, "REPLACE"))) {
			p->i++;
			if (starts_select(p))
				return 1;
		} else if (is_kw(p, 0, "PARTITION")) {
			/* partitioning changes no column, but a query may follow it */
			while (!at_end(p) && !starts_select(p)) {
				if (is_punct(p, 0, '('))
					skip_parens(p);
				else
					p->i++;
			}
		} else if (is_punct(p, 0, '(')) {
			skip_parens(p);
		} else {
			p->i++;
		}
	}
	return 0;
}

/* MariaDB's system versioning: the row_start/row_end columns (hidden when not
 * declared) and row_end in the primary key and every UNIQUE key. */
static void versioning(struct parser *p, schema_table *t, struct create_ctx *ctx)
{
	static const char *const names[2] = { "row_start", "row_end" };
	const char *end = ctx->row_end != NULL ? ctx->row_end : names[1];

	if (ctx->row_start == NULL && schema_table_column(t, names[0]) < 0) {
		for (int k = 0; k < 2; k++) {
			schema_column c;
			memset(&c, 0, sizeof(c));
			c.name = strdup(names[k]);
			c.type = strdup("timestamp(6)");
			c.binlog_type = 17;
			c.invisible = true;
			if (c.name == NULL || c.type == NULL)
				p->nomem = 1;
			add_column(p, t, &c, -1);
		}
	}
	for (uint32_t i = 0; i < t->nidx; i++) {
		schema_index *ix = &t->idx[i];
		char *c;
		int has = 0;
		if (ix->kind != SCHEMA_INDEX_PRIMARY && ix->kind != SCHEMA_INDEX_UNIQUE)
			continue;
		for (uint32_t k = 0; k < ix->n; k++)
			has |= ix->cols[k] != NULL && strcasecmp(ix->cols[k], end) == 0;
		if (has) /* written out by schema_table_sql() */
			continue;
		c = strdup(end);
		if (c == NULL)
			p->nomem = 1;
		else
			index_part(p, ix, c, 0);
	}
}

static void create_table(struct parser *p)
{
	ddl_stmt *s = p->out;
	struct create_ctx ctx = { NULL, NULL };
	rw_error err;

	if (is_punct(p, 0, '(') && is_kw(p, 1, "LIKE")) { /* CREATE TABLE t (LIKE s) */
		p->i += 2;
		s->kind = DDL_CREATE_LIKE;
		table_name(p, &s->like);
		expect_punct(p, ')');
		return;
	}
	if (accept_kw(p, "LIKE")) {
		s->kind = DDL_CREATE_LIKE;
		table_name(p, &s->like);
		return;
	}
	s->kind = DDL_CREATE_TABLE;
	s->def = schema_table_new(s->table.schema != NULL ? s->table.schema : "", s->table.table);
	if (s->def == NULL) {
		p->nomem = 1;
		return;
	}
	if (is_punct(p, 0, '(') && !starts_select(p)) {
		p->i++;
		do
			create_element(p, s->def, &ctx);
		while (!p->failed && !p->nomem && accept_punct(p, ','));
		expect_punct(p, ')');
	} else if (!starts_select(p) && !is_kw(p, 0, "AS") && !is_kw(p, 0, "SELECT")) {
		if (create_tail(p, s->def) == 0 && s->def->ncols == 0)
			fail(p, "expected a column list, LIKE or a query");
	}
	if (!p->failed && create_tail(p, s->def))
		s->kind = DDL_CREATE_SELECT;
	else if (!p->failed && s->def->ncols == 0)
		s->kind = DDL_CREATE_SELECT;
	if (!p->failed && s->def->versioned)
		versioning(p, s->def, &ctx);
	free(ctx.row_start);
	free(ctx.row_end);
	if (!p->failed && !p->nomem && s->kind == DDL_CREATE_TABLE &&
	    schema_table_finish(s->def, &err) != 0) {
		p->failed = 1;
		snprintf(s->error, sizeof(s->error), "%s", err.text);
	}
}

/* ---- ALTER TABLE ------------------------------------------------------------------ */

static ddl_alter *new_alter(struct parser *p, int op)
{
	ddl_stmt *s = p->out;
	ddl_alter *a = realloc(s->alters, (s->n_alters + 1) * sizeof(*a));

	if (a == NULL) {
		p->nomem = 1;
		return NULL;
	}
	s->alters = a;
	a = &s->alters[s->n_alters++];
	memset(a, 0, sizeof(*a));
	a->op = op;
	return a;
}

/* ADD PERIOD [IF NOT EXISTS] FOR name (start, end): SYSTEM_TIME's columns are the row's own. */
static void add_period(struct parser *p)
{
	ddl_alter *a;
	char *name;

	if (accept_kw(p, "IF")) {
		expect_kw(p, "NOT");
		expect_kw(p, "EXISTS");
	}
	expect_kw(p, "FOR");
	name = ident(p);
	if (name == NULL || strcasecmp(name, "SYSTEM_TIME") == 0 || p->failed) {
		free(name);
		(void)new_alter(p, DDL_ALTER_OPTION);
		skip_to_separator(p);
		return;
	}
	free(name);
	if ((a = new_alter(p, DDL_ALTER_ADD_PERIOD)) == NULL)
		return;
	expect_punct(p, '(');
	a->name = ident(p);
	expect_punct(p, ',');
	a->to = ident(p);
	expect_punct(p, ')');
}

static void if_exists(struct parser *p, ddl_alter *a)
{
	if (accept_kw(p, "IF")) {
		if (accept_kw(p, "NOT"))
			a->if_not_exists = true;
		else
			a->if_exists = true;
		expect_kw(p, "EXISTS");
	}
}

static void position(struct parser *p, ddl_alter *a)
{
	if (accept_kw(p, "FIRST")) {
		a->at = DDL_AT_FIRST;
	} else if (accept_kw(p, "AFTER")) {
		a->at = DDL_AT_AFTER;
		a->after = ident(p);
	}
}

/* ADD/MODIFY/CHANGE's column definition into a, then FIRST/AFTER. */
static void alter_column_def(struct parser *p, ddl_alter *a)
{
	struct column_extra x;

	column_def(p, &a->col, &x);
	a->col_primary = x.primary;
	a->col_unique = x.unique;
	position(p, a);
}

static void alter_add(struct parser *p)
{
	ddl_alter *a;
	char *constraint = NULL;

	if (accept_kw(p, "CONSTRAINT")) {
		if (accept_kw(p, "IF")) {
			expect_kw(p, "NOT");
			expect_kw(p, "EXISTS");
		}
		if (!is_kw(p, 0, "PRIMARY") && !is_kw(p, 0, "UNIQUE") && !is_kw(p, 0, "FOREIGN") &&
		    !is_kw(p, 0, "CHECK"))
			constraint = ident(p);
	}
	if (starts_index(p)) {
		a = new_alter(p, DDL_ALTER_ADD_INDEX);
		if (a != NULL)
			index_def(p, &a->index, constraint, &a->if_not_exists);
		else
			free(constraint);
		return;
	}
	free(constraint);
	if ((is_kw(p, 1, "FOR") || is_kw(p, 1, "IF")) && accept_kw(p, "PERIOD")) {
		add_period(p);
		return;
	}
	if (accept_kw(p, "FOREIGN") || accept_kw(p, "CHECK") || accept_kw(p, "PARTITION")) {
		/* a foreign key's own index is left to the next snapshot's fingerprint */
		(void)new_alter(p, DDL_ALTER_OPTION);
		skip_to_separator(p);
		return;
	}
	if (accept_kw(p, "SYSTEM")) {
		expect_kw(p, "VERSIONING");
		(void)new_alter(p, DDL_ALTER_ADD_VERSIONING);
		return;
	}
	(void)accept_kw(p, "COLUMN");
	if (accept_punct(p, '(')) {
		do {
			a = new_alter(p, DDL_ALTER_ADD_COLUMN);
			if (a == NULL)
				return;
			if (starts_index(p)) {
				a->op = DDL_ALTER_ADD_INDEX;
				index_def(p, &a->index, NULL, &a->if_not_exists);
			} else {
				alter_column_def(p, a);
			}
		} while (!p->failed && accept_punct(p, ','));
		expect_punct(p, ')');
		return;
	}
	a = new_alter(p, DDL_ALTER_ADD_COLUMN);
	if (a == NULL)
		return;
	if_exists(p, a);
	alter_column_def(p, a);
}

static void alter_drop(struct parser *p)
{
	ddl_alter *a;

	if (accept_kw(p, "PRIMARY") ||
	    (is_kw(p, 0, "CONSTRAINT") && is_kw(p, 1, "PRIMARY") && (p->i += 2, 1))) {
		expect_kw(p, "KEY");
		(void)new_alter(p, DDL_ALTER_DROP_PRIMARY);
		return;
	}
	if (accept_kw(p, "SYSTEM")) {
		expect_kw(p, "VERSIONING");
		(void)new_alter(p, DDL_ALTER_DROP_VERSIONING);
		return;
	}
	if (accept_kw(p, "PARTITION") || accept_kw(p, "CHECK") ||
	    ((is_kw(p, 1, "FOR") || is_kw(p, 1, "IF")) && accept_kw(p, "PERIOD")) ||
	    (accept_kw(p, "FOREIGN") && (expect_kw(p, "KEY"), 1))) {
		/* the foreign key's index stays (InnoDB keeps it) */
		(void)new_alter(p, DDL_ALTER_OPTION);
		skip_to_separator(p);
		return;
	}
	if (accept_kw(p, "INDEX") || accept_kw(p, "KEY")) {
		a = new_alter(p, DDL_ALTER_DROP_INDEX);
	} else if (accept_kw(p, "CONSTRAINT")) {
		a = new_alter(p, DDL_ALTER_DROP_CONSTRAINT);
	} else {
		(void)accept_kw(p, "COLUMN");
		a = new_alter(p, DDL_ALTER_DROP_COLUMN);
	}
	if (a == NULL)
		return;
	if_exists(p, a);
	a->name = ident(p);
	if (!accept_kw(p, "RESTRICT"))
		(void)accept_kw(p, "CASCADE");
}

/* ALTER [COLUMN] c SET DEFAULT v | DROP DEFAULT | SET [IN]VISIBLE; ALTER INDEX ...; ALTER CHECK ... */
static void alter_alter(struct parser *p)
{
	ddl_alter *a;

	if (accept_kw(p, "INDEX") || accept_kw(p, "KEY") || accept_kw(p, "CHECK") ||
	    accept_kw(p, "CONSTRAINT")) {
		(void)new_alter(p, DDL_ALTER_OPTION);
		skip_to_separator(p);
		return;
	}
	(void)accept_kw(p, "COLUMN");
	a = new_alter(p, DDL_ALTER_COLUMN_DEFAULT);
	if (a == NULL)
		return;
	if_exists(p, a);
	a->name = ident(p);
	if (accept_kw(p, "DROP")) {
		expect_kw(p, "DEFAULT");
	} else {
		expect_kw(p, "SET");
		if (accept_kw(p, "DEFAULT")) {
			a->col.def = expression(p);
		} else if (accept_kw(p, "VISIBLE")) {
			a->op = DDL_ALTER_COLUMN_VISIBLE;
		} else {
			expect_kw(p, "INVISIBLE");
			a->op = DDL_ALTER_COLUMN_VISIBLE;
			a->col.invisible = true;
		}
	}
}

static void alter_rename(struct parser *p)
{
	ddl_alter *a;
	int op = accept_kw(p, "COLUMN")                           ? DDL_ALTER_RENAME_COLUMN
		 : (accept_kw(p, "INDEX") || accept_kw(p, "KEY")) ? DDL_ALTER_RENAME_INDEX
								  : DDL_ALTER_RENAME_TABLE;

	a = new_alter(p, op);
	if (a == NULL)
		return;
	if (op == DDL_ALTER_RENAME_TABLE) {
		if (!accept_kw(p, "TO"))
			(void)accept_kw(p, "AS");
		table_name(p, &a->rename_to);
		return;
	}
	if_exists(p, a);
	a->name = ident(p);
	expect_kw(p, "TO");
	a->to = ident(p);
}

/* Words that start an ALTER TABLE clause changing no column or key; each takes a value. */
static const char *const option_words[] = {
	"ALGORITHM",
	"LOCK",
	"ENGINE",
	"AUTO_INCREMENT",
	"AVG_ROW_LENGTH",
	"CHECKSUM",
	"COMMENT",
	"COMPRESSION",
	"CONNECTION",
	"DELAY_KEY_WRITE",
	"ENCRYPTION",
	"ENCRYPTED",
	"ENCRYPTION_KEY_ID",
	"INSERT_METHOD",
	"KEY_BLOCK_SIZE",
	"MAX_ROWS",
	"MIN_ROWS",
	"PACK_KEYS",
	"PAGE_CHECKSUM",
	"PAGE_COMPRESSED",
	"PAGE_COMPRESSION_LEVEL",
	"PASSWORD",
	"ROW_FORMAT",
	"STATS_AUTO_RECALC",
	"STATS_PERSISTENT",
	"STATS_SAMPLE_PAGES",
	"TABLESPACE",
	"TRANSACTIONAL",
	"UNION",
	"IETF_QUOTES",
	"STORAGE",
	"ENGINE_ATTRIBUTE",
	"SECONDARY_ENGINE",
	"SECONDARY_ENGINE_ATTRIBUTE",
	"AUTOEXTEND_SIZE",
	"SEQUENCE",
	"WAIT",
};

/* Clauses that take no value and change no column or key. */
static const char *const flag_words[] = { "FORCE", "NOWAIT", "ONLINE", "IGNORE" };

static int table_option(struct parser *p)
{
	for (size_t i = 0; i < sizeof(flag_words) / sizeof(flag_words[0]); i++) {
		if (accept_kw(p, flag_words[i]))
			return 1;
	}
	(void)accept_kw(p, "DEFAULT");
	if (accept_kw(p, "CHARSET") ||
	    (is_kw(p, 0, "CHARACTER") && (p->i++, 1) && (expect_kw(p, "SET"), 1)) ||
	    accept_kw(p, "COLLATE")) {
		option_value(p);
		return 1;
	}
	if (accept_kw(p, "DATA") || accept_kw(p, "INDEX")) {
		expect_kw(p, "DIRECTORY");
		option_value(p);
		return 1;
	}
	for (size_t i = 0; i < sizeof(option_words) / sizeof(option_words[0]); i++) {
		if (accept_kw(p, option_words[i])) {
			option_value(p);
			return 1;
		}
	}
	return 0;
}

/* Partition maintenance, ENABLE KEYS, ORDER BY, ...: no column or key changes. */
static int other_clause(struct parser *p)
{
	static const char *const partition_ops[] = { "COALESCE", "REORGANIZE", "EXCHANGE",
						     "ANALYZE",  "CHECK",      "OPTIMIZE",
						     "REBUILD",  "REPAIR",     "TRUNCATE",
						     "DISCARD",  "IMPORT",     "REMOVE" };

	if (is_kw(p, 0, "PARTITION") && is_kw(p, 1, "BY")) {
		p->i = p->n;
		return 1;
	}
	for (size_t i = 0; i < sizeof(partition_ops) / sizeof(partition_ops[0]); i++) {
		if (accept_kw(p, partition_ops[i])) {
			skip_to_separator(p); /* ... PARTITION p1, p2 is one clause */
			p->i = p->n;
			return 1;
		}
	}
	if (accept_kw(p, "ENABLE") || accept_kw(p, "DISABLE")) {
		expect_kw(p, "KEYS");
		return 1;
	}
	if (accept_kw(p, "ORDER")) { /* ORDER BY a, b DESC: the last clause */
		expect_kw(p, "BY");
		p->i = p->n;
		return 1;
	}
	if ((is_kw(p, 0, "WITH") || is_kw(p, 0, "WITHOUT")) && is_kw(p, 1, "VALIDATION")) {
		p->i += 2;
		return 1;
	}
	return 0;
}

static void alter_clause(struct parser *p)
{
	ddl_alter *a;

	if (accept_kw(p, "ADD")) {
		alter_add(p);
	} else if (accept_kw(p, "DROP")) {
		alter_drop(p);
	} else if (accept_kw(p, "ALTER")) {
		alter_alter(p);
	} else if (accept_kw(p, "RENAME")) {
		alter_rename(p);
	} else if (accept_kw(p, "MODIFY")) {
		(void)accept_kw(p, "COLUMN");
		if ((a = new_alter(p, DDL_ALTER_MODIFY_COLUMN)) != NULL) {
			if_exists(p, a);
			alter_column_def(p, a);
		}
	} else if (accept_kw(p, "CHANGE")) {
		(void)accept_kw(p, "COLUMN");
		if ((a = new_alter(p, DDL_ALTER_CHANGE_COLUMN)) != NULL) {
			if_exists(p, a);
			a->name = ident(p);
			alter_column_def(p, a);
		}
	} else if (is_kw(p, 0, "CONVERT") && (is_kw(p, 1, "PARTITION") || is_kw(p, 1, "TABLE"))) {
		/* CONVERT PARTITION p TO TABLE t: a new table of this one's shape;
		 * CONVERT TABLE t TO PARTITION p ...: t goes into this one */
		bool to_table = is_kw(p, 1, "PARTITION");
		p->i += 2;
		if ((a = new_alter(p, to_table ? DDL_ALTER_PARTITION_TO_TABLE
					       : DDL_ALTER_TABLE_TO_PARTITION)) != NULL) {
			if (to_table) {
				free(ident(p));
				expect_kw(p, "TO");
				expect_kw(p, "TABLE");
			}
			table_name(p, &a->rename_to);
		}
		skip_to_separator(p); /* TO PARTITION p VALUES ..., WITH/WITHOUT VALIDATION */
	} else if (accept_kw(p, "CONVERT")) {
		expect_kw(p, "TO");
		if (!accept_kw(p, "CHARSET")) {
			expect_kw(p, "CHARACTER");
			expect_kw(p, "SET");
		}
		if ((a = new_alter(p, DDL_ALTER_CONVERT_CHARSET)) != NULL)
			a->to = ident_or_string(p);
		if (accept_kw(p, "COLLATE"))
			option_value(p);
	} else if ((is_kw(p, 0, "WITH") || is_kw(p, 0, "WITHOUT")) && is_kw(p, 1, "SYSTEM")) {
		int op = is_kw(p, 0, "WITH") ? DDL_ALTER_ADD_VERSIONING : DDL_ALTER_DROP_VERSIONING;
		p->i += 2;
		expect_kw(p, "VERSIONING");
		(void)new_alter(p, op);
	} else if (other_clause(p) || table_option(p)) {
		(void)new_alter(p, DDL_ALTER_OPTION);
	} else {
		fail(p, "unknown ALTER TABLE clause");
	}
}

/* An option clause's first word(s), upper case, into its name: "ENGINE", "ADD FOREIGN". */
static void option_name(struct parser *p, size_t start, uint32_t before)
{
	ddl_stmt *s = p->out;
	char words[64] = "";
	size_t n = 0;

	for (size_t k = start; k < start + 2 && k < p->n && !p->failed; k++) {
		const ddl_tok *t = &p->t[k];
		if (t->kind != TOK_WORD ||
		    (k > start && strcmp(words, "ADD") != 0 && strcmp(words, "DROP") != 0 &&
		     strcmp(words, "ALTER") != 0))
			break;
		n += (size_t)snprintf(words + n, sizeof(words) - n, "%s%.*s", n > 0 ? " " : "",
				      (int)t->len, t->p);
		if (n >= sizeof(words))
			break;
	}
	for (char *c = words; *c != '\0'; c++)
		*c = (char)toupper((unsigned char)*c);
	for (uint32_t i = before; i < s->n_alters; i++) {
		if (s->alters[i].op == DDL_ALTER_OPTION && s->alters[i].name == NULL &&
		    words[0] != '\0' && (s->alters[i].name = strdup(words)) == NULL)
			p->nomem = 1;
	}
}

static void alter_table(struct parser *p)
{
	p->out->kind = DDL_ALTER_TABLE;
	while (!at_end(p)) {
		size_t start = p->i;
		uint32_t before = p->out->n_alters;
		alter_clause(p);
		option_name(p, start, before);
		while (!at_end(p) && !is_punct(p, 0, ',') && table_option(p))
			; /* table options need no commas between them */
		if ((is_kw(p, 0, "REMOVE") && is_kw(p, 1, "PARTITIONING")) ||
		    (is_kw(p, 0, "PARTITION") && is_kw(p, 1, "BY")))
			p->i = p->n; /* partitioning ends the statement, no comma before it */
		if (!accept_punct(p, ',') && !at_end(p) && !is_kw(p, 0, "PARTITION"))
			fail(p, "expected ',' between ALTER TABLE clauses");
	}
}

/* ---- other statements --------------------------------------------------------------- */

static void add_name(struct parser *p, ddl_name *n)
{
	ddl_stmt *s = p->out;
	ddl_name *names = realloc(s->names, (s->n_names + 1) * sizeof(*names));

	if (names == NULL) {
		free(n->schema);
		free(n->table);
		p->nomem = 1;
		return;
	}
	s->names = names;
	s->names[s->n_names++] = *n;
}

static void name_list(struct parser *p, int pairs)
{
	do {
		ddl_name n = { NULL, NULL };
		table_name(p, &n);
		if (n.table == NULL) {
			free(n.schema);
			return;
		}
		add_name(p, &n);
		if (pairs && accept_kw(p, "WAIT")) /* RENAME TABLE a WAIT n TO b */
			p->i++;
		else if (pairs)
			(void)accept_kw(p, "NOWAIT");
		if (pairs && accept_kw(p, "TO")) {
			ddl_name to = { NULL, NULL };
			table_name(p, &to);
			if (to.table != NULL)
				add_name(p, &to);
			else
				free(to.schema);
		} else if (pairs) {
			fail(p, "expected TO");
		}
		if (accept_kw(p, "WAIT"))
			p->i++;
		else
			(void)accept_kw(p, "NOWAIT");
	} while (!p->failed && accept_punct(p, ','));
}

static void table_head(struct parser *p, int not_exists)
{
	if (accept_kw(p, "IF")) {
		if (not_exists)
			expect_kw(p, "NOT");
		expect_kw(p, "EXISTS");
		if (not_exists)
			p->out->if_not_exists = true;
		else
			p->out->if_exists = true;
	}
	table_name(p, &p->out->table);
	if (accept_kw(p, "WAIT"))
		p->i++;
	else
		(void)accept_kw(p, "NOWAIT");
}

static void database(struct parser *p, int kind)
{
	p->out->kind = kind;
	if (accept_kw(p, "IF")) {
		if (kind == DDL_CREATE_DATABASE)
			expect_kw(p, "NOT");
		expect_kw(p, "EXISTS");
	}
	p->out->database = ident(p);
	if (kind == DDL_CREATE_DATABASE)
		p->i = p->n; /* CHARACTER SET, COLLATE, COMMENT: no table shape */
}

/* CREATE [OR REPLACE] [ONLINE] [UNIQUE|FULLTEXT|SPATIAL] INDEX ... ON t (parts) */
static void create_index(struct parser *p)
{
	ddl_stmt *s = p->out;
	char *name;
	int kind = accept_kw(p, "UNIQUE")     ? SCHEMA_INDEX_UNIQUE
		   : accept_kw(p, "FULLTEXT") ? SCHEMA_INDEX_FULLTEXT
		   : accept_kw(p, "SPATIAL")  ? SCHEMA_INDEX_SPATIAL
					      : SCHEMA_INDEX_PLAIN;

	expect_kw(p, "INDEX");
	if (accept_kw(p, "IF")) {
		expect_kw(p, "NOT");
		expect_kw(p, "EXISTS");
		s->if_not_exists = true;
	}
	name = ident(p);
	s->kind = DDL_CREATE_INDEX;
	memset(&s->index, 0, sizeof(s->index));
	index_type(p, &s->index);
	expect_kw(p, "ON");
	table_name(p, &s->table);
	s->index.kind = kind;
	s->index.name = name;
	key_parts(p, &s->index);
	while (!at_end(p) && !is_punct(p, 0, ';')) {
		if (is_kw(p, 0, "USING") || is_kw(p, 0, "TYPE"))
			index_type(p, &s->index);
		else
			p->i++;
	}
}

/* DROP INDEX [IF EXISTS] name ON t */
static void drop_index(struct parser *p)
{
	ddl_stmt *s = p->out;
	ddl_alter *a;

	s->kind = DDL_DROP_INDEX;
	a = new_alter(p, DDL_ALTER_DROP_INDEX);
	if (a == NULL)
		return;
	if_exists(p, a);
	a->name = ident(p);
	expect_kw(p, "ON");
	table_name(p, &s->table);
	if (a->name != NULL && strcasecmp(a->name, "PRIMARY") == 0)
		a->op = DDL_ALTER_DROP_PRIMARY;
	while (!at_end(p) && table_option(p)) /* ALGORITHM=, LOCK= */
		;
}

/* Every MariaDB sequence's columns (as SHOW CREATE TABLE gives them). */
static const char sequence_table[] =
    "CREATE TABLE s (next_not_cached_value bigint(21) NOT NULL, minimum_value bigint(21) NOT "
    "NULL, maximum_value bigint(21) NOT NULL, start_value bigint(21) NOT NULL, increment "
    "bigint(21) NOT NULL, cache_size bigint(21) unsigned NOT NULL, cycle_option tinyint(1) "
    "unsigned NOT NULL, cycle_count bigint(21) NOT NULL)";

/* CREATE SEQUENCE name ...: a table of the sequence's columns, its options skipped. */
static void create_sequence(struct parser *p)
{
	ddl_stmt *s = p->out, seq;
	rw_error err;

	s->kind = DDL_CREATE_TABLE;
	if (ddl_parse(sequence_table, sizeof(sequence_table) - 1, NULL, &seq, &err) != 0) {
		p->nomem = 1;
		return;
	}
	if (seq.def != NULL)
		s->def = schema_table_copy(seq.def, s->table.schema != NULL ? s->table.schema : "",
					   s->table.table);
	ddl_stmt_free(&seq);
	if (s->def == NULL) {
		p->nomem = 1;
		return;
	}
	s->def->sequence = true;
	while (!at_end(p))
		p->i++;
}

static void create(struct parser *p)
{
	ddl_stmt *s = p->out;

	if (accept_kw(p, "OR")) {
		expect_kw(p, "REPLACE");
		s->or_replace = true;
	}
	if (accept_kw(p, "TEMPORARY"))
		s->temporary = true;
	if (!accept_kw(p, "ONLINE"))
		(void)accept_kw(p, "OFFLINE");
	if (accept_kw(p, "TABLE")) {
		table_head(p, 1);
		if (!p->failed)
			create_table(p);
	} else if (accept_kw(p, "SEQUENCE")) {
		table_head(p, 1);
		if (!p->failed)
			create_sequence(p);
	} else if (accept_kw(p, "DATABASE") || accept_kw(p, "SCHEMA")) {
		database(p, DDL_CREATE_DATABASE);
	} else if (is_kw(p, 0, "INDEX") ||
		   ((is_kw(p, 0, "UNIQUE") || is_kw(p, 0, "FULLTEXT") || is_kw(p, 0, "SPATIAL")) &&
		    is_kw(p, 1, "INDEX"))) {
		create_index(p);
	} /* else a view, trigger, routine, user ...: no table shape */
}

static void drop(struct parser *p)
{
	ddl_stmt *s = p->out;

	if (accept_kw(p, "TEMPORARY"))
		s->temporary = true;
	if (accept_kw(p, "TABLE") || accept_kw(p, "TABLES") || accept_kw(p, "SEQUENCE")) {
		s->kind = DDL_DROP_TABLE;
		if (accept_kw(p, "IF")) {
			expect_kw(p, "EXISTS");
			s->if_exists = true;
		}
		name_list(p, 0);
		if (!accept_kw(p, "RESTRICT"))
			(void)accept_kw(p, "CASCADE");
	} else if (accept_kw(p, "DATABASE") || accept_kw(p, "SCHEMA")) {
		database(p, DDL_DROP_DATABASE);
	} else if (!s->temporary && (accept_kw(p, "INDEX"))) {
		if (!accept_kw(p, "ONLINE"))
			(void)accept_kw(p, "OFFLINE");
		drop_index(p);
	}
}

/* SET STATEMENT var = value, ... FOR statement: the statement. */
static void set_statement(struct parser *p)
{
	if (!is_kw(p, 0, "SET") || !is_kw(p, 1, "STATEMENT"))
		return;
	while (!at_end(p) && !is_kw(p, 0, "FOR")) {
		if (is_punct(p, 0, '('))
			skip_parens(p);
		else
			p->i++;
	}
	(void)accept_kw(p, "FOR");
}

static void statement(struct parser *p)
{
	ddl_stmt *s = p->out;

	set_statement(p);
	if (accept_kw(p, "CREATE")) {
		create(p);
	} else if (accept_kw(p, "ALTER")) {
		if (!accept_kw(p, "ONLINE"))
			(void)accept_kw(p, "OFFLINE");
		(void)accept_kw(p, "IGNORE");
		if (accept_kw(p, "TABLE")) {
			table_head(p, 0);
			if (!p->failed)
				alter_table(p);
		}
	} else if (accept_kw(p, "DROP")) {
		drop(p);
	} else if (accept_kw(p, "RENAME")) {
		if (accept_kw(p, "TABLE") || accept_kw(p, "TABLES")) {
			s->kind = DDL_RENAME_TABLE;
			if (is_kw(p, 0, "IF") && is_kw(p, 1, "EXISTS"))
				p->i += 2;
			name_list(p, 1);
		}
	} else if (accept_kw(p, "TRUNCATE")) {
		(void)accept_kw(p, "TABLE");
		s->kind = DDL_TRUNCATE;
		table_head(p, 0);
	}
}

/* ---- the public face ------------------------------------------------------------------ */

static void free_name(ddl_name *n)
{
	free(n->schema);
	free(n->table);
	n->schema = n->table = NULL;
}

void ddl_stmt_free(ddl_stmt *s)
{
	if (s == NULL)
		return;
	free_name(&s->table);
	free_name(&s->like);
	schema_table_free(s->def);
	for (uint32_t i = 0; i < s->n_alters; i++) {
		ddl_alter *a = &s->alters[i];
		free(a->name);
		free(a->to);
		free(a->after);
		schema_column_clear(&a->col);
		schema_index_clear(&a->index);
		free_name(&a->rename_to);
	}
	free(s->alters);
	for (uint32_t i = 0; i < s->n_names; i++)
		free_name(&s->names[i]);
	free(s->names);
	free(s->database);
	schema_index_clear(&s->index);
	memset(s, 0, sizeof(*s));
}

/* A statement that could not be read: keep only the tables it names. */
static void unparsed(ddl_stmt *s)
{
	char error[sizeof(s->error)];
	int64_t at = s->error_offset;
	ddl_name table = s->table, *names = s->names;
	uint32_t n_names = s->n_names;
	int kind = s->kind;

	memcpy(error, s->error, sizeof(error));
	s->table.schema = s->table.table = NULL;
	s->names = NULL;
	s->n_names = 0;
	ddl_stmt_free(s);
	s->kind = DDL_UNPARSED;
	s->error_offset = at;
	if (kind != DDL_NONE && kind != DDL_UNPARSED)
		snprintf(s->error, sizeof(s->error), "%s: %s", ddl_kind_name(kind), error);
	else
		snprintf(s->error, sizeof(s->error), "%s", error);
	s->names = names;
	s->n_names = n_names;
	if (table.table != NULL) {
		ddl_name *grown = realloc(s->names, (s->n_names + 1) * sizeof(*grown));
		if (grown != NULL) {
			s->names = grown;
			s->names[s->n_names++] = table;
			return;
		}
	}
	free_name(&table);
}

int ddl_parse(const char *sql, size_t len, const ddl_options *opt, ddl_stmt *out, rw_error *err)
{
	static const ddl_options defaults = { false, 0 };
	struct parser p;

	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	p.sql = sql;
	p.opt = opt != NULL ? opt : &defaults;
	p.out = out;
	if (ddl_lex(sql, len, p.opt, &p.t, &p.n) != 0)
		return rw_error_set(err, RW_E_NOMEM, -1, "out of memory");
	statement(&p);
	if (!p.failed && !p.nomem && out->kind != DDL_NONE && out->kind != DDL_ALTER_TABLE &&
	    out->kind != DDL_CREATE_SELECT && !at_end(&p) && out->kind != DDL_CREATE_TABLE &&
	    out->kind != DDL_CREATE_INDEX)
		fail(&p, "unexpected text after the statement");
	free(p.t);
	if (p.nomem) {
		ddl_stmt_free(out);
		return rw_error_set(err, RW_E_NOMEM, -1, "out of memory");
	}
	if (p.failed)
		unparsed(out);
	return 0;
}

int ddl_may_change_tables(const char *sql, size_t len)
{
	static const char *const verbs[] = {
		"CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE", "SET"
	};
	size_t i = 0, n;

	while (i < len && isspace((unsigned char)sql[i]))
		i++;
	if (i < len && (sql[i] == '/' || sql[i] == '-' || sql[i] == '#' || sql[i] == '('))
		return 1; /* a comment may hold the statement */
	for (n = 0; i + n < len && isalpha((unsigned char)sql[i + n]); n++)
		;
	for (size_t v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++) {
		if (n == strlen(verbs[v]) && strncasecmp(sql + i, verbs[v], n) == 0)
			return 1;
	}
	return 0;
}

const char *ddl_kind_name(int kind)
{
	switch (kind) {
	case DDL_CREATE_TABLE:
	case DDL_CREATE_SELECT:
		return "CREATE TABLE";
	case DDL_CREATE_LIKE:
		return "CREATE TABLE ... LIKE";
	case DDL_ALTER_TABLE:
		return "ALTER TABLE";
	case DDL_RENAME_TABLE:
		return "RENAME TABLE";
	case DDL_DROP_TABLE:
		return "DROP TABLE";
	case DDL_TRUNCATE:
		return "TRUNCATE TABLE";
	case DDL_CREATE_DATABASE:
		return "CREATE DATABASE";
	case DDL_DROP_DATABASE:
		return "DROP DATABASE";
	case DDL_CREATE_INDEX:
		return "CREATE INDEX";
	case DDL_DROP_INDEX:
		return "DROP INDEX";
	case DDL_UNPARSED:
		return "unreadable statement";
	default:
		return "other statement";
	}
}
