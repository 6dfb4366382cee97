/*
 * http_head.h - the checks the HTTP server's door makes on a request head
 * (the request line and the header fields) before libmicrohttpd reads it:
 * bytes in, a verdict out, nothing else.
 */
#ifndef RINGWATCHD_HTTP_HEAD_H
#define RINGWATCHD_HTTP_HEAD_H

#include <stddef.h>

#define HTTP_MAX_BODY   (1024 * 1024)
#define HTTP_MAX_HEAD   (16 * 1024) /* request line and header fields */
#define HTTP_MAX_TARGET (8 * 1024)  /* the request target (path and query) */

/*
 * A request head as the door judges it before libmicrohttpd reads it (its
 * own answers to a malformed request are HTML pages, a closed connection or,
 * for a Content-Length it cannot read, the head sent twice).  Returns the
 * head's length, through its empty line, when it is whole and acceptable; 0
 * while more bytes are needed; -1 with err filled when it is refused: 400
 * (malformed), 413 (a Content-Length over HTTP_MAX_BODY), 414 (a target over
 * HTTP_MAX_TARGET), 431 (no whole head within HTTP_MAX_HEAD bytes), 501 (a
 * transfer coding other than chunked) or 505 (not HTTP/1.x).  The reason
 * says what is wrong for the client to read; buf need not be NUL-terminated.
 */
struct http_head_error {
	unsigned status;
	char reason[128];
};
long http_head_check(const char *buf, size_t len, struct http_head_error *err);

#endif
