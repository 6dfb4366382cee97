/*
 * ddl_lex.c - tokens of SQL statements and statements of SQL scripts.
 */
#include "ddl_lex.h"

#include "ringwatch/rw_buf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int is_word_byte(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

/* Where a quoted run starting at s[i] (the quote) ends: past the closing quote. */
static size_t quoted_end(const char *s, size_t len, size_t i)
{
	char q = s[i++];

	while (i < len) {
		if (s[i] == '\\' && q != '`' && i + 1 < len) {
			i += 2;
			continue;
		}
		if (s[i] == q) {
			if (i + 1 < len && s[i + 1] == q) { /* a doubled quote */
				i += 2;
				continue;
			}
			return i + 1;
		}
		i++;
	}
	return len;
}

/* Past a comment starting at s[i], or i when none starts there. */
static size_t comment_end(const char *s, size_t len, size_t i)
{
	if (s[i] == '#' || (s[i] == '-' && i + 2 <= len && s[i + 1] == '-' &&
			    (i + 2 == len || isspace((unsigned char)s[i + 2]) ||
			     iscntrl((unsigned char)s[i + 2])))) {
		const char *nl = memchr(s + i, '\n', len - i);
		return nl != NULL ? (size_t)(nl - s) + 1 : len;
	}
	if (s[i] == '/' && i + 1 < len && s[i + 1] == '*') {
		for (size_t j = i + 2; j + 1 < len; j++) {
			if (s[j] == '*' && s[j + 1] == '/')
				return j + 2;
		}
		return len;
	}
	return i;
}

/*
 * At "/x!" or "/xM!": whether the server of opt runs it, and where its
 * content starts.  0 when s[i] starts no executable comment.
 */
static int exec_comment(const char *s, size_t len, size_t i, const ddl_options *opt, int *run,
			size_t *content)
{
	size_t j = i + 2;
	unsigned long v = 0;
	int digits = 0, maria = 0;

	if (i + 2 >= len || s[i] != '/' || s[i + 1] != '*')
		return 0;
	if (s[j] == 'M' && j + 1 < len && s[j + 1] == '!') {
		maria = 1;
		j += 2;
	} else if (s[j] == '!') {
		j++;
	} else {
		return 0;
	}
	while (j < len && digits < 6 && isdigit((unsigned char)s[j])) {
		v = v * 10 + (unsigned long)(s[j] - '0');
		j++;
		digits++;
	}
	if (maria && !opt->mariadb)
		*run = 0;
	else
		*run = digits == 0 || opt->version == 0 || v <= opt->version;
	*content = j;
	return 1;
}

static int push(ddl_tok **toks, size_t *n, size_t *cap, int kind, const char *s, size_t from,
		size_t to)
{
	ddl_tok *t;

	if (rw_array_grow(toks, cap, *n + 1, sizeof(**toks), 64) < 0)
		return RW_E_NOMEM;
	t = &(*toks)[(*n)++];
	t->kind = kind;
	t->p = s + from;
	t->len = to - from;
	t->off = from;
	t->c = kind == TOK_PUNCT ? s[from] : 0;
	return 0;
}

/* A number: digits, a fraction, an exponent; 0x.. hex.  Past its end. */
static size_t number_end(const char *s, size_t len, size_t i)
{
	if (s[i] == '0' && i + 1 < len && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
		i += 2;
		while (i < len && isxdigit((unsigned char)s[i]))
			i++;
		return i;
	}
	while (i < len && isdigit((unsigned char)s[i]))
		i++;
	if (i < len && s[i] == '.') {
		i++;
		while (i < len && isdigit((unsigned char)s[i]))
			i++;
	}
	if (i + 1 < len && (s[i] == 'e' || s[i] == 'E') &&
	    (isdigit((unsigned char)s[i + 1]) ||
	     ((s[i + 1] == '-' || s[i + 1] == '+') && i + 2 < len &&
	      isdigit((unsigned char)s[i + 2])))) {
		i += 2;
		while (i < len && isdigit((unsigned char)s[i]))
			i++;
	}
	return i;
}

/* One token at s[i] (no space or comment there); past its end, or 0 when out of memory. */
static size_t lex_one(const char *s, size_t len, size_t i, ddl_tok **toks, size_t *n, size_t *cap)
{
	unsigned char c = (unsigned char)s[i];
	size_t end;
	int kind;

	if (c == '`' || c == '"' || c == '\'') {
		end = quoted_end(s, len, i);
		kind = c == '`' ? TOK_QIDENT : c == '"' ? TOK_DQ : TOK_STRING;
	} else if (isdigit(c) || (c == '.' && i + 1 < len && isdigit((unsigned char)s[i + 1]) &&
				  (*n == 0 || (*toks)[*n - 1].kind == TOK_PUNCT))) {
		end = number_end(s, len, i);
		kind = TOK_NUMBER;
		if (end < len && is_word_byte((unsigned char)s[end]) && s[end] != '$') {
			/* 1col: an identifier that starts with digits */
			while (end < len && is_word_byte((unsigned char)s[end]))
				end++;
			kind = TOK_WORD;
		}
	} else if (is_word_byte(c)) {
		end = i;
		while (end < len && is_word_byte((unsigned char)s[end]))
			end++;
		kind = TOK_WORD;
	} else {
		end = i + 1;
		kind = TOK_PUNCT;
	}
	return push(toks, n, cap, kind, s, i, end) == 0 ? end : 0;
}

int ddl_lex(const char *s, size_t len, const ddl_options *opt, ddl_tok **toks, size_t *n)
{
	ddl_tok *out = NULL;
	size_t count = 0, cap = 0, i = 0;
	int in_exec = 0;

	while (i < len) {
		size_t next, content;
		int run;
		if (isspace((unsigned char)s[i])) {
			i++;
			continue;
		}
		if (in_exec && s[i] == '*' && i + 1 < len && s[i + 1] == '/') {
			in_exec = 0;
			i += 2;
			continue;
		}
		if (!in_exec && exec_comment(s, len, i, opt, &run, &content)) {
			if (run) {
				in_exec = 1;
				i = content;
			} else {
				i = comment_end(s, len, i);
			}
			continue;
		}
		next = comment_end(s, len, i);
		if (next != i) {
			i = next;
			continue;
		}
		next = lex_one(s, len, i, &out, &count, &cap);
		if (next == 0) {
			free(out);
			return RW_E_NOMEM;
		}
		i = next;
	}
	if (push(&out, &count, &cap, TOK_END, s, len, len) != 0) {
		free(out);
		return RW_E_NOMEM;
	}
	*toks = out;
	*n = count - 1;
	return 0;
}

static char unescape(char c)
{
	switch (c) {
	case 'n':
		return '\n';
	case 't':
		return '\t';
	case 'r':
		return '\r';
	case '0':
		return '\0';
	case 'b':
		return '\b';
	case 'Z':
		return 26;
	default:
		return c;
	}
}

char *ddl_tok_text(const ddl_tok *t)
{
	char *out = malloc(t->len + 1);
	size_t o = 0;

	if (out == NULL)
		return NULL;
	if (t->kind != TOK_QIDENT && t->kind != TOK_DQ && t->kind != TOK_STRING) {
		memcpy(out, t->p, t->len);
		out[t->len] = '\0';
		return out;
	}
	for (size_t i = 1; i < t->len; i++) {
		char c = t->p[i];
		if (c == t->p[0]) {
			if (i + 1 < t->len && t->p[i + 1] == c) {
				out[o++] = c;
				i++;
				continue;
			}
			break; /* the closing quote */
		}
		if (c == '\\' && t->kind != TOK_QIDENT && i + 2 < t->len) {
			out[o++] = unescape(t->p[++i]);
			continue;
		}
		out[o++] = c;
	}
	out[o] = '\0';
	return out;
}

/* ---- scripts ------------------------------------------------------------------ */

static int starts_word(const char *s, size_t len, size_t i, const char *w)
{
	size_t n = strlen(w);

	return i + n <= len && strncasecmp(s + i, w, n) == 0 &&
	       (i + n == len || isspace((unsigned char)s[i + n]));
}

/* "DELIMITER xx" at line start i: the new delimiter into delim, past the line. */
static size_t delimiter_line(const char *s, size_t len, size_t i, char *delim, size_t dlen)
{
	const char *nl = memchr(s + i, '\n', len - i);
	size_t end = nl != NULL ? (size_t)(nl - s) : len, a = i + strlen("DELIMITER"), b;

	while (a < end && isspace((unsigned char)s[a]))
		a++;
	b = a;
	while (b < end && !isspace((unsigned char)s[b]))
		b++;
	if (b > a && b - a < dlen && memchr(s + a, '\0', b - a) == NULL) {
		memcpy(delim, s + a, b - a); /* an empty one would never end a statement */
		delim[b - a] = '\0';
	}
	return nl != NULL ? end + 1 : len;
}

void ddl_script_init(ddl_script *sc, const char *text, size_t len)
{
	sc->text = text;
	sc->len = len;
	sc->pos = 0;
	snprintf(sc->delim, sizeof(sc->delim), ";");
}

int ddl_script_next(ddl_script *sc, const char **stmt, size_t *stmt_len)
{
	const char *s = sc->text;
	size_t len = sc->len, i = sc->pos, start, next;

	for (;;) {
		size_t dl = strlen(sc->delim);
		while (i < len && isspace((unsigned char)s[i]))
			i++;
		if (i >= len) {
			sc->pos = len;
			return 0;
		}
		if ((i == 0 || s[i - 1] == '\n') && starts_word(s, len, i, "DELIMITER")) {
			i = delimiter_line(s, len, i, sc->delim, sizeof(sc->delim));
			continue;
		}
		next = comment_end(s, len, i);
		if (next != i &&
		    !(s[i] == '/' && i + 2 < len && (s[i + 2] == '!' || s[i + 2] == 'M'))) {
			i = next;
			continue;
		}
		start = i;
		while (i < len && !(i + dl <= len && memcmp(s + i, sc->delim, dl) == 0)) {
			if (s[i] == '\'' || s[i] == '"' || s[i] == '`') {
				i = quoted_end(s, len, i);
			} else {
				next = comment_end(s, len, i);
				i = next != i ? next : i + 1;
			}
		}
		*stmt = s + start;
		*stmt_len = i - start;
		i = i < len ? i + dl : len; /* past the delimiter, an empty statement too */
		sc->pos = i;
		if (*stmt_len > 0)
			return 1;
	}
}
