/*
 * http_head.c - a request head judged before libmicrohttpd reads it (see
 * http_head.h).  Bytes in, a verdict out; no I/O.
 */
#include "http_head.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static long head_error(struct http_head_error *err, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static long head_error(struct http_head_error *err, unsigned status, const char *fmt, ...)
{
	va_list ap;

	err->status = status;
	va_start(ap, fmt);
	vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
	va_end(ap);
	return -1;
}

/* RFC 9110's tchar, of which methods and field names are made. */
static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* METHOD SP TARGET SP HTTP/1.x, line[0..n) without its line end. */
static long check_request_line(const char *line, size_t n, struct http_head_error *err)
{
	const char *v;
	size_t i = 0, target;

	while (i < n && is_tchar((unsigned char)line[i]))
		i++;
	if (i == 0 || i == n || line[i] != ' ')
		return head_error(err, 400, "the request line is not METHOD TARGET HTTP/1.1");
	target = ++i;
	while (i < n && line[i] != ' ') {
		if ((unsigned char)line[i] < 0x21 || line[i] == 0x7f)
			return head_error(err, 400, "the request target holds a control character");
		i++;
	}
	if (i - target > HTTP_MAX_TARGET)
		return head_error(err, 414, "the request target is longer than %d bytes",
				  HTTP_MAX_TARGET);
	if (i == target)
		return head_error(err, 400, "the request line is not METHOD TARGET HTTP/1.1");
	if (i == n)
		return head_error(err, 505, "HTTP/0.9 is not served (HTTP/1.1 is)");
	v = line + i + 1;
	if (n - i - 1 == 8 && memcmp(v, "HTTP/", 5) == 0 && is_digit(v[5]) && v[6] == '.' &&
	    is_digit(v[7]))
		return v[5] == '1'
			   ? 0
			   : head_error(err, 505, "HTTP/%.3s is not served (HTTP/1.1 is)", v + 5);
	return head_error(err, 400, "the request line is not METHOD TARGET HTTP/1.1");
}

/* What the door remembers of a head's fields. */
struct head_fields {
	bool has_length, has_coding;
	unsigned long long length;
};

/* Content-Length's value (trimmed): one number, the same if given again. */
static long check_length(const char *v, size_t n, struct head_fields *f,
			 struct http_head_error *err)
{
	unsigned long long value = 0;

	if (n == 0)
		return head_error(err, 400, "Content-Length must be a number of bytes");
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(v[i]))
			return head_error(err, 400, "Content-Length must be a number of bytes");
		if (value > (unsigned long long)HTTP_MAX_BODY)
			break; /* too large already; no overflow */
		value = value * 10 + (unsigned long long)(v[i] - '0');
	}
	if (f->has_length && f->length != value)
		return head_error(err, 400, "Content-Length given twice");
	if (value > HTTP_MAX_BODY)
		return head_error(err, 413, "request body larger than 1 MiB");
	f->has_length = true;
	f->length = value;
	return 0;
}

/* NAME ":" OWS VALUE OWS, line[0..n) without its line end. */
static long check_field(const char *line, size_t n, struct head_fields *f,
			struct http_head_error *err)
{
	size_t i = 0, end;
	const char *v;

	if (line[0] == ' ' || line[0] == '\t')
		return head_error(err, 400, "a header field folded over two lines");
	while (i < n && is_tchar((unsigned char)line[i]))
		i++;
	if (i == 0 || i == n || line[i] != ':')
		return head_error(err, 400, "a header line is not NAME: VALUE");
	for (size_t j = i + 1; j < n; j++) {
		unsigned char c = (unsigned char)line[j];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return head_error(err, 400, "header field %.*s holds a control character",
					  (int)(i < 64 ? i : 64), line);
	}
	v = line + i + 1;
	end = n - i - 1;
	while (end > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		end--;
	}
	while (end > 0 && (v[end - 1] == ' ' || v[end - 1] == '\t'))
		end--;
	if (i == 14 && strncasecmp(line, "Content-Length", 14) == 0)
		return check_length(v, end, f, err);
	if (i == 17 && strncasecmp(line, "Transfer-Encoding", 17) == 0) {
		if (f->has_coding)
			return head_error(err, 400, "Transfer-Encoding given twice");
		if (end != 7 || strncasecmp(v, "chunked", 7) != 0)
			return head_error(err, 501,
					  "transfer coding %.*s is not supported (chunked is)",
					  (int)(end < 64 ? end : 64), v);
		f->has_coding = true;
	}
	return 0;
}

long http_head_check(const char *buf, size_t len, struct http_head_error *err)
{
	struct head_fields f = { false, false, 0 };
	size_t pos = 0;
	bool first = true;

	if (len > HTTP_MAX_HEAD)
		len = HTTP_MAX_HEAD;
	while (pos < len) {
		const char *line = buf + pos;
		const char *lf = memchr(line, '\n', len - pos);
		size_t n;
		long rc;

		if (lf == NULL)
			break;
		n = (size_t)(lf - line);
		pos += n + 1;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (memchr(line, '\r', n) != NULL || memchr(line, '\0', n) != NULL)
			return head_error(err, 400, "a bare CR or a NUL byte in the request head");
		if (n == 0 && first)
			continue; /* empty lines before the request line are allowed */
		if (n == 0) {
			if (f.has_length && f.has_coding)
				return head_error(err, 400,
						  "both Content-Length and Transfer-Encoding");
			return (long)pos;
		}
		rc = first ? check_request_line(line, n, err) : check_field(line, n, &f, err);
		if (rc != 0)
			return rc;
		first = false;
	}
	if (first && len - pos > HTTP_MAX_TARGET + 64)
		return head_error(err, 414, "the request target is longer than %d bytes",
				  HTTP_MAX_TARGET);
	if (len >= HTTP_MAX_HEAD)
		return head_error(err, 431, "the request head is longer than %d bytes",
				  HTTP_MAX_HEAD);
	return 0;
}
