/*
 * fuzz_http_head.c - the HTTP door's request-head checks on arbitrary bytes:
 * a verdict for every input, never a crash or a read past it.  A whole head
 * ends with its empty line; a refusal has a status the door answers and a
 * reason; "more needed" only below the head's limit; and a verdict on the
 * input is the verdict on any longer input once the head is whole.
 */
#include "../../daemon/http_head.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_verdict(long got, const char *buf, size_t len, const struct http_head_error *err)
{
	if (got > 0 && ((size_t)got > len || buf[got - 1] != '\n'))
		abort();
	if (got == 0 && len >= HTTP_MAX_HEAD)
		abort();
	if (got < 0 && (err->reason[0] == '\0' ||
			(err->status != 400 && err->status != 413 && err->status != 414 &&
			 err->status != 431 && err->status != 501 && err->status != 505)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_head_error err, again;
	char *buf = malloc(size + 1);
	long got, more;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	memset(&err, 0, sizeof(err));
	got = http_head_check(buf, size, &err);
	check_verdict(got, buf, size, &err);
	/* one more byte changes nothing about a whole head */
	buf[size] = 'x';
	memset(&again, 0, sizeof(again));
	more = http_head_check(buf, size + 1, &again);
	if (got > 0 && more != got)
		abort();
	free(buf);
	return 0;
}
