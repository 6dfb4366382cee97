/*
 * rw_error.h - the one error convention of the ringwatch library.
 *
 * Every fallible library function returns 0 on success or a negative
 * RW_E* code, leaves its outputs untouched on failure, and, when the caller
 * passes a non-NULL rw_error, fills it with where the problem is (a byte
 * offset into the input, or -1 when no position applies) and a sentence that
 * names it.  The text never holds secrets: callers must not pass them in.
 */
#ifndef RINGWATCH_RW_ERROR_H
#define RINGWATCH_RW_ERROR_H

#include <stdarg.h>
#include <stdint.h>

#define RW_MUST_CHECK __attribute__((warn_unused_result))

enum rw_errcode {
	RW_OK = 0,
	RW_E_INVALID = -1,     /* the input breaks the format */
	RW_E_TRUNCATED = -2,   /* the input ends before the structure does */
	RW_E_CHECKSUM = -3,    /* a checksum does not match */
	RW_E_UNSUPPORTED = -4, /* valid, but not something ringwatch reads */
	RW_E_NOMEM = -5,       /* an allocation failed */
	RW_E_LIMIT = -6,       /* the input exceeds a configured bound */
};

typedef struct rw_error {
	int64_t offset; /* byte offset of the problem, -1 if none */
	int code;       /* the enum rw_errcode returned with it */
	char text[240];
} rw_error;

/*
 * Fill err (when not NULL) and return code, so that a failing path reads
 * "return rw_error_set(err, RW_E_TRUNCATED, off, "...", ...);".
 */
int rw_error_set(rw_error *err, int code, int64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Reset err to "no error". */
void rw_error_clear(rw_error *err);

/* A short, constant name for an rw_errcode ("truncated", "checksum", ...). */
const char *rw_error_name(int code);

#endif
