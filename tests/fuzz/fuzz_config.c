/*
 * fuzz_config.c - the configuration parser on arbitrary bytes: it must
 * return an error or a configuration, never crash, leak or read past input.
 */
#include "../../daemon/config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	struct config_error err;
	char *text = malloc(size + 1);

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (config_load_string("/nonexistent/fuzz.conf", text, &cfg, &err) == 0)
		config_free(&cfg);
	else if (strlen(err.message) == 0)
		abort(); /* every failure must say why */
	free(text);
	return 0;
}
