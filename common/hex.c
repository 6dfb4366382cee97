/*
 * hex.c - bytes as lowercase hexadecimal text (see hex.h).
 */
#include "hex.h"

#include <stdlib.h>
#include <string.h>

static const char digits[] = "0123456789abcdef";

size_t hex_put(char *out, size_t room, const uint8_t *p, size_t len)
{
	size_t n = 0;

	if (room == 0)
		return 0;
	for (size_t i = 0; i < len && n + 2 < room; i++) {
		out[n++] = digits[p[i] >> 4];
		out[n++] = digits[p[i] & 15];
	}
	out[n] = '\0';
	return n;
}

char *hex_encode(const uint8_t *p, size_t len)
{
	char *out = malloc(len * 2 + 1);

	if (out != NULL)
		hex_put(out, len * 2 + 1, p, len);
	return out;
}

static int nibble(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

uint8_t *hex_decode(const char *hex, size_t *len)
{
	size_t chars = strlen(hex), n = chars / 2;
	uint8_t *out;

	if (chars % 2 != 0 || (out = malloc(n > 0 ? n : 1)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(out);
			return NULL;
		}
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n;
	return out;
}
