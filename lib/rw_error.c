/*
 * rw_error.c - filling the library's positional error struct.
 */
#include "ringwatch/rw_error.h"

#include <stdio.h>
#include <string.h>

int rw_error_set(rw_error *err, int code, int64_t offset, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	err->offset = offset;
	va_start(ap, fmt);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
	return code;
}

void rw_error_clear(rw_error *err)
{
	if (err == NULL)
		return;
	err->code = RW_OK;
	err->offset = -1;
	err->text[0] = '\0';
}

const char *rw_error_name(int code)
{
	switch (code) {
	case RW_OK:
		return "ok";
	case RW_E_INVALID:
		return "invalid";
	case RW_E_TRUNCATED:
		return "truncated";
	case RW_E_CHECKSUM:
		return "checksum";
	case RW_E_UNSUPPORTED:
		return "unsupported";
	case RW_E_NOMEM:
		return "out of memory";
	case RW_E_LIMIT:
		return "limit";
	}
	return "unknown error";
}
