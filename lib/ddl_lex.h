/*
 * ddl_lex.h - the tokens of one SQL statement, for the DDL parser (ddl.c).
 *
 * Comments are dropped; an executable comment /x!NNNNN ... x/ whose version
 * the server would run contributes its tokens, as if the comment marks were
 * not there (x = '*').
 */
#ifndef RINGWATCH_DDL_LEX_H
#define RINGWATCH_DDL_LEX_H

#include "ringwatch/ddl.h"

#include <stddef.h>

enum ddl_tok_kind {
	TOK_END = 0,
	TOK_WORD,   /* a keyword or unquoted identifier */
	TOK_QIDENT, /* `quoted identifier` */
	TOK_DQ,     /* "double quoted": an identifier or a string, by position */
	TOK_STRING, /* 'single quoted' */
	TOK_NUMBER,
	TOK_PUNCT, /* one character: c */
};

typedef struct ddl_tok {
	int kind;
	const char *p; /* the token's text in the statement (quotes included) */
	size_t len;
	size_t off; /* offset in the statement */
	char c;     /* TOK_PUNCT: the character */
} ddl_tok;

/*
 * The tokens of sql into *toks (malloc'd, ending with a TOK_END), their
 * count without it in *n.  0, or RW_E_NOMEM.  An unterminated string or
 * comment ends the tokens there.
 */
int ddl_lex(const char *sql, size_t len, const ddl_options *opt, ddl_tok **toks, size_t *n);

/* The text of an identifier or string token, unquoted and unescaped (malloc'd). */
char *ddl_tok_text(const ddl_tok *t);

#endif
