/*
 * verify.c - the pure parts of verifying tables (see verify.h).
 */
#include "ringwatch/verify.h"

#include "value_key.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- column kinds ---------------------------------------------------------------- */

static bool one_of(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcasecmp(s, *list) == 0)
			return true;
	return false;
}

static bool utf8_charset(const char *cs)
{
	static const char *const sets[] = { "utf8", "utf8mb3", "utf8mb4", "ascii", NULL };

	return one_of(cs, sets);
}

enum verify_kind verify_kind_of(const char *data_type, const char *column_type, const char *charset)
{
	static const char *const ints[] = { "tinyint", "smallint", "mediumint", "int",
					    "integer", "bigint",   NULL };
	static const char *const bins[] = { "varbinary",  "tinyblob", "blob",
					    "mediumblob", "longblob", NULL };
	static const char *const chars[] = { "char",       "varchar",  "tinytext", "text",
					     "mediumtext", "longtext", NULL };
	static const char *const dates[] = { "date", "datetime", "timestamp", NULL };

	if (one_of(data_type, ints))
		return column_type != NULL && strstr(column_type, "unsigned") != NULL ? VERIFY_UINT
										      : VERIFY_INT;
	if (strcasecmp(data_type, "year") == 0)
		return VERIFY_UINT;
	if (strcasecmp(data_type, "decimal") == 0 || strcasecmp(data_type, "numeric") == 0)
		return VERIFY_DECIMAL;
	if (strcasecmp(data_type, "float") == 0 || strcasecmp(data_type, "double") == 0 ||
	    strcasecmp(data_type, "real") == 0)
		return VERIFY_FLOAT;
	if (one_of(data_type, dates))
		return VERIFY_DATE;
	if (strcasecmp(data_type, "time") == 0)
		return VERIFY_TIME;
	if (one_of(data_type, bins))
		return VERIFY_BINARY;
	if (strcasecmp(data_type, "binary") == 0)
		return VERIFY_FIXBIN;
	if (one_of(data_type, chars))
		return charset != NULL && utf8_charset(charset) ? VERIFY_UTF8 : VERIFY_CHAR;
	if (strcasecmp(data_type, "bit") == 0)
		return VERIFY_BIT;
	if (strcasecmp(data_type, "enum") == 0 || strcasecmp(data_type, "set") == 0)
		return VERIFY_ENUM;
	if (strcasecmp(data_type, "json") == 0)
		return VERIFY_JSON;
	return VERIFY_OTHER;
}

/* ---- SQL ----------------------------------------------------------------------- */

void verify_sql_ident(rw_buf *out, const char *name)
{
	rw_buf_putc(out, '`');
	for (; *name != '\0'; name++) {
		if (*name == '`')
			rw_buf_putc(out, '`');
		rw_buf_putc(out, *name);
	}
	rw_buf_putc(out, '`');
}

static void put_table(rw_buf *out, const verify_table *t)
{
	verify_sql_ident(out, t->schema);
	rw_buf_putc(out, '.');
	verify_sql_ident(out, t->table);
}

/* A column as its bytes: collation-free, and no mix of character sets to refuse. */
static void put_col_bytes(rw_buf *out, const verify_table *t, size_t i)
{
	if (t->kind[i] == VERIFY_JSON) {
		rw_buf_puts(out, "CAST(CAST(");
		verify_sql_ident(out, t->cols[i]);
		rw_buf_puts(out, " AS CHAR) AS BINARY)");
		return;
	}
	rw_buf_puts(out, "CAST(");
	verify_sql_ident(out, t->cols[i]);
	rw_buf_puts(out, " AS BINARY)");
}

void verify_sql_row_crc(rw_buf *out, const verify_table *t)
{
	rw_buf_puts(out, "CRC32(CONCAT_WS('#'");
	for (size_t i = 0; i < t->n_cols; i++) {
		rw_buf_putc(out, ',');
		put_col_bytes(out, t, i);
	}
	rw_buf_puts(out, ",CONCAT(");
	for (size_t i = 0; i < t->n_cols; i++) {
		if (i > 0)
			rw_buf_putc(out, ',');
		rw_buf_puts(out, "ISNULL(");
		verify_sql_ident(out, t->cols[i]);
		rw_buf_putc(out, ')');
	}
	rw_buf_puts(out, ")))");
}

static void put_pk_list(rw_buf *out, const verify_table *t)
{
	for (size_t k = 0; k < t->n_pk; k++) {
		if (k > 0)
			rw_buf_putc(out, ',');
		verify_sql_ident(out, t->cols[t->pk[k]]);
	}
}

/*
 * pk > v (op ">") or pk <= v (op "<") over the key's columns, expanded:
 * (a > x) OR (a = x AND b > y) ..., the last term of "<=" with equality.
 */
static void put_bound(rw_buf *out, const verify_table *t, const char *const *v, const char *op,
		      bool or_equal)
{
	rw_buf_putc(out, '(');
	for (size_t k = 0; k < t->n_pk; k++) {
		if (k > 0)
			rw_buf_puts(out, " OR ");
		rw_buf_putc(out, '(');
		for (size_t j = 0; j < k; j++) {
			verify_sql_ident(out, t->cols[t->pk[j]]);
			rw_buf_printf(out, " = %s AND ", v[j]);
		}
		verify_sql_ident(out, t->cols[t->pk[k]]);
		rw_buf_printf(out, " %s%s %s)", op, or_equal && k + 1 == t->n_pk ? "=" : "", v[k]);
	}
	rw_buf_putc(out, ')');
}

void verify_sql_range(rw_buf *out, const verify_table *t, const verify_range *r)
{
	if (r->lo == NULL && r->hi == NULL) {
		rw_buf_putc(out, '1');
		return;
	}
	if (r->lo != NULL)
		put_bound(out, t, r->lo, ">", false);
	if (r->lo != NULL && r->hi != NULL)
		rw_buf_puts(out, " AND ");
	if (r->hi != NULL)
		put_bound(out, t, r->hi, "<", true);
}

void verify_sql_chunk(rw_buf *out, const verify_table *t, const verify_range *r)
{
	rw_buf_puts(out, "SELECT COUNT(*), COALESCE(BIT_XOR(");
	verify_sql_row_crc(out, t);
	rw_buf_puts(out, "), 0) FROM ");
	put_table(out, t);
	rw_buf_puts(out, " WHERE ");
	verify_sql_range(out, t, r);
}

void verify_sql_rows(rw_buf *out, const verify_table *t, const verify_range *r)
{
	rw_buf_puts(out, "SELECT ");
	put_pk_list(out, t);
	rw_buf_putc(out, ',');
	verify_sql_row_crc(out, t);
	rw_buf_puts(out, " FROM ");
	put_table(out, t);
	rw_buf_puts(out, " WHERE ");
	verify_sql_range(out, t, r);
	rw_buf_puts(out, " ORDER BY ");
	put_pk_list(out, t);
}

void verify_sql_bound(rw_buf *out, const verify_table *t, const char *const *lo, uint64_t rows)
{
	rw_buf_puts(out, "SELECT ");
	put_pk_list(out, t);
	rw_buf_puts(out, " FROM ");
	put_table(out, t);
	if (lo != NULL) {
		rw_buf_puts(out, " WHERE ");
		put_bound(out, t, lo, ">", false);
	}
	rw_buf_puts(out, " ORDER BY ");
	put_pk_list(out, t);
	rw_buf_printf(out, " LIMIT 1 OFFSET %" PRIu64, rows > 0 ? rows - 1 : 0);
}

void verify_sql_row(rw_buf *out, const verify_table *t, const char *const *key)
{
	rw_buf_puts(out, "SELECT ");
	for (size_t i = 0; i < t->n_cols; i++) {
		if (i > 0)
			rw_buf_putc(out, ',');
		verify_sql_ident(out, t->cols[i]);
	}
	rw_buf_puts(out, " FROM ");
	put_table(out, t);
	rw_buf_puts(out, " WHERE ");
	for (size_t k = 0; k < t->n_pk; k++) {
		if (k > 0)
			rw_buf_puts(out, " AND ");
		verify_sql_ident(out, t->cols[t->pk[k]]);
		rw_buf_printf(out, " = %s", key[k]);
	}
}

/* ---- key bytes ------------------------------------------------------------------- */

/* A whole decimal integer of text (optional '-' when sign): 0, or -1. */
static int parse_int(const char *v, size_t len, bool sign, bool *neg, uint64_t *mag)
{
	char buf[32];
	char *end;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, v, len);
	buf[len] = '\0';
	*neg = buf[0] == '-';
	if ((*neg && !sign) || (buf[*neg] < '0' || buf[*neg] > '9'))
		return -1;
	errno = 0;
	*mag = strtoull(buf + *neg, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

static bool decimal_text(const char *v, size_t len)
{
	size_t i = len > 0 && v[0] == '-' ? 1 : 0, digits = 0, dots = 0;

	for (; i < len; i++) {
		if (v[i] == '.')
			dots++;
		else if (v[i] >= '0' && v[i] <= '9')
			digits++;
		else
			return false;
	}
	return digits > 0 && dots <= 1;
}

int verify_key_encode(rw_buf *out, enum verify_kind kind, const char *v, size_t len, rw_error *err)
{
	uint64_t mag;
	bool neg;

	switch (kind) {
	case VERIFY_INT:
		if (parse_int(v, len, true, &neg, &mag) != 0 ||
		    mag > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
			return rw_error_set(err, RW_E_INVALID, -1, "not an integer");
		value_key_u64(out, 'I', (neg ? (uint64_t)0 - mag : mag) ^ (1ULL << 63));
		return 0;
	case VERIFY_UINT:
		if (parse_int(v, len, false, &neg, &mag) != 0)
			return rw_error_set(err, RW_E_INVALID, -1, "not an unsigned integer");
		value_key_u64(out, 'U', mag);
		return 0;
	case VERIFY_DECIMAL:
		if (!decimal_text(v, len))
			return rw_error_set(err, RW_E_INVALID, -1, "not a decimal");
		value_key_counted(out, 'D', v, len);
		return 0;
	case VERIFY_DATE:
		value_key_counted(out, 'T', v, len);
		return 0;
	case VERIFY_BINARY:
	case VERIFY_UTF8:
		value_key_counted(out, 'S', v, len);
		return 0;
	default:
		return rw_error_set(err, RW_E_UNSUPPORTED, -1,
				    "this column type's key bytes cannot be told from its text");
	}
}

bool verify_kind_ordered(enum verify_kind kind)
{
	/* FLOAT keys compare as doubles (verify_key_cmp), DECIMAL numerically */
	return kind == VERIFY_INT || kind == VERIFY_UINT || kind == VERIFY_DECIMAL ||
	       kind == VERIFY_DATE || kind == VERIFY_BINARY || kind == VERIFY_FLOAT;
}

/* ---- key order ------------------------------------------------------------------- */

/* One column of an encoding: tag, payload; its length, or 0 when malformed. */
static size_t col_len(const uint8_t *p, size_t len)
{
	size_t n;

	if (len < 1)
		return 0;
	switch (p[0]) {
	case 'N':
		return 1;
	case 'I':
	case 'U':
	case 'F':
		return len >= 9 ? 9 : 0;
	case 'D':
	case 'S':
	case 'T':
		if (len < 5)
			return 0;
		n = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4];
		return n <= len - 5 ? 5 + n : 0;
	default:
		return 0;
	}
}

/* Skip the integer part's leading zeros; the digits before the point. */
static size_t int_digits(const char **p, size_t *len)
{
	size_t n = 0;

	while (*len > 1 && (*p)[0] == '0' && (*p)[1] != '.') {
		(*p)++;
		(*len)--;
	}
	while (n < *len && (*p)[n] != '.')
		n++;
	return n;
}

/* |a| against |b| for unsigned decimal texts. */
static int magnitude_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t ai = int_digits(&a, &alen), bi = int_digits(&b, &blen), i;
	const char *af = a + ai, *bf = b + bi;
	size_t afl = alen - ai, bfl = blen - bi;
	int c;

	if (ai != bi)
		return ai < bi ? -1 : 1;
	if ((c = memcmp(a, b, ai)) != 0)
		return c;
	/* fractions: skip the points, compare digit by digit, a missing digit is 0 */
	if (afl > 0)
		af++, afl--;
	if (bfl > 0)
		bf++, bfl--;
	for (i = 0; i < afl || i < bfl; i++) {
		char x = i < afl ? af[i] : '0', y = i < bfl ? bf[i] : '0';
		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

static bool decimal_zero(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] >= '1' && s[i] <= '9')
			return false;
	return true;
}

int verify_decimal_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	bool an = alen > 0 && a[0] == '-' && !decimal_zero(a, alen);
	bool bn = blen > 0 && b[0] == '-' && !decimal_zero(b, blen);

	if (alen > 0 && a[0] == '-')
		a++, alen--;
	if (blen > 0 && b[0] == '-')
		b++, blen--;
	if (an != bn)
		return an ? -1 : 1;
	return an ? -magnitude_cmp(a, alen, b, blen) : magnitude_cmp(a, alen, b, blen);
}

static double be_double(const uint8_t *p)
{
	uint64_t u = 0;
	double d;

	for (int i = 0; i < 8; i++)
		u = u << 8 | p[i];
	memcpy(&d, &u, 8);
	return d;
}

/* One column: 0 with *cmp, 1 when its order cannot be told. */
static int col_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl, bool ordered, int *cmp)
{
	if (a[0] == 'N' || b[0] == 'N') { /* NULL sorts first */
		*cmp = (a[0] != 'N') - (b[0] != 'N');
		return 0;
	}
	if (a[0] != b[0] || !ordered)
		return 1;
	if (a[0] == 'F') {
		double x = be_double(a + 1), y = be_double(b + 1);
		*cmp = (x > y) - (x < y);
		return 0;
	}
	if (a[0] == 'D') {
		*cmp = verify_decimal_cmp((const char *)a + 5, al - 5, (const char *)b + 5, bl - 5);
		return 0;
	}
	if (a[0] == 'I' || a[0] == 'U') {
		*cmp = memcmp(a + 1, b + 1, 8);
		return 0;
	}
	/* S and T: bytes, then the shorter first */
	*cmp = memcmp(a + 5, b + 5, al < bl ? al - 5 : bl - 5);
	if (*cmp == 0)
		*cmp = (al > bl) - (al < bl);
	return 0;
}

int verify_key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
		   const bool *ordered, size_t n, int *cmp)
{
	for (size_t i = 0; i < n; i++) {
		size_t al = col_len(a, alen), bl = col_len(b, blen);
		int c, rc;

		if (al == 0 || bl == 0)
			return -1;
		rc = col_cmp(a, al, b, bl, ordered[i], &c);
		if (rc != 0)
			return rc;
		if (c != 0) {
			*cmp = c;
			return 0;
		}
		a += al, alen -= al;
		b += bl, blen -= bl;
	}
	*cmp = 0;
	return 0;
}

bool verify_key_in_range(const uint8_t *key, size_t len, const uint8_t *lo, size_t lo_len,
			 const uint8_t *hi, size_t hi_len, const bool *ordered, size_t n)
{
	int c;

	if (lo != NULL && verify_key_cmp(key, len, lo, lo_len, ordered, n, &c) == 0 && c <= 0)
		return false;
	if (hi != NULL && verify_key_cmp(key, len, hi, hi_len, ordered, n, &c) == 0 && c > 0)
		return false;
	return true;
}

/* ---- verdicts -------------------------------------------------------------------- */

const char *verify_verdict_name(enum verify_verdict v)
{
	switch (v) {
	case VERIFY_EQUAL:
		return "equal";
	case VERIFY_DIFFERENT:
		return "different";
	default:
		return "unsure";
	}
}

enum verify_verdict verify_chunk_verdict(size_t n, const uint64_t *count, const uint64_t *sum,
					 bool touched)
{
	if (touched)
		return VERIFY_UNSURE;
	for (size_t m = 1; m < n; m++)
		if (count[m] != count[0] || sum[m] != sum[0])
			return VERIFY_DIFFERENT;
	return VERIFY_EQUAL;
}

static int row_cmp(const void *x, const void *y)
{
	const verify_row *a = x, *b = y;
	int c = memcmp(a->key, b->key, a->len < b->len ? a->len : b->len);

	return c != 0 ? c : (a->len > b->len) - (a->len < b->len);
}

size_t verify_diff(verify_row *a, size_t na, verify_row *b, size_t nb,
		   void (*fn)(const verify_row *a, const verify_row *b, void *arg), void *arg)
{
	size_t i = 0, j = 0, n = 0;

	if (na > 1)
		qsort(a, na, sizeof(*a), row_cmp);
	if (nb > 1)
		qsort(b, nb, sizeof(*b), row_cmp);
	while (i < na || j < nb) {
		int c = i == na ? 1 : j == nb ? -1 : row_cmp(&a[i], &b[j]);

		if (c == 0) {
			if (a[i].crc != b[j].crc) {
				fn(&a[i], &b[j], arg);
				n++;
			}
			i++, j++;
		} else if (c < 0) {
			fn(&a[i++], NULL, arg);
			n++;
		} else {
			fn(NULL, &b[j++], arg);
			n++;
		}
	}
	return n;
}

/* ---- chunk size ------------------------------------------------------------------ */

#define ROWS_MIN 10
#define ROWS_MAX 1000000

uint64_t verify_next_rows(uint64_t rows, double elapsed, double target, double *rate)
{
	double want;
	uint64_t next;

	if (elapsed > 0 && rows > 0) {
		double r = (double)rows / elapsed;
		/* weighted like pt-table-checksum: the recent chunks count most */
		*rate = *rate > 0 ? 0.75 * *rate + 0.25 * r : r;
	}
	if (*rate <= 0)
		return rows > 0 ? rows : 1000;
	want = *rate * target;
	if (want > 2.0 * (double)rows && rows > 0)
		want = 2.0 * (double)rows;
	next = want < ROWS_MIN ? ROWS_MIN : want > ROWS_MAX ? ROWS_MAX : (uint64_t)want;
	return next;
}
