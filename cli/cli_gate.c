/*
 * cli_gate.c - `ringwatch gate`.
 */
#include "cli_gate.h"

#include "cli_client.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_gate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "max-lag", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "checks", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url = CLI_DEFAULT_URL, *max_lag = NULL, *checks = NULL;
	char path[512];
	int as_json = 0, c;
	json_t *gate, *check;
	long code;
	size_t i;

	optind = 1;
	while ((c = getopt_long(argc, argv, "u:l:jc:", opts, NULL)) != -1) {
		if (c == 'u')
			url = optarg;
		else if (c == 'c')
			checks = optarg;
		else if (c == 'l')
			max_lag = optarg;
		else if (c == 'j')
			as_json = 1;
		else
			return 2;
	}
	if (optind != argc) {
		fprintf(stderr, "ringwatch gate: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (max_lag != NULL) {
		char *end;
		double v = strtod(max_lag, &end);
		if (*max_lag == '\0' || *end != '\0' || !(v >= 0)) {
			fprintf(stderr, "ringwatch gate: --max-lag takes seconds, not '%s'\n",
				max_lag);
			return 2;
		}
		snprintf(path, sizeof(path), "/v1/gate?max_lag=%g", v);
	} else {
		snprintf(path, sizeof(path), "/v1/gate");
	}
	if (checks != NULL) {
		if (checks[0] == '\0' ||
		    strspn(checks, "abcdefghijklmnopqrstuvwxyz_,") != strlen(checks) ||
		    strlen(checks) > 200) {
			fprintf(stderr, "ringwatch gate: --checks takes check names, not '%s'\n",
				checks);
			return 2;
		}
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "%cchecks=%s",
			 strchr(path, '?') != NULL ? '&' : '?', checks);
	}
	code = cli_request(url, path, NULL, &gate);
	if (code < 0)
		return 2;
	if ((code != 200 && code != 503) || !json_is_boolean(json_object_get(gate, "safe"))) {
		const char *why = json_string_value(json_object_get(gate, "error"));
		fprintf(stderr, "ringwatch gate: %s answered %ld%s%s\n", url, code,
			why != NULL ? ": " : " without a gate", why != NULL ? why : "");
		json_decref(gate);
		return 2;
	}
	if (as_json) {
		json_dumpf(gate, stdout, JSON_INDENT(2));
		printf("\n");
	} else if (json_is_true(json_object_get(gate, "safe"))) {
		printf("safe\n");
	}
	json_array_foreach(json_object_get(gate, "checks"), i, check)
	{
		if (!as_json && !json_is_true(json_object_get(check, "ok")))
			printf("%s: %s\n", json_string_value(json_object_get(check, "name")),
			       json_string_value(json_object_get(check, "detail")));
	}
	c = json_is_true(json_object_get(gate, "safe")) ? 0 : 1;
	json_decref(gate);
	return c;
}
