/*
 * cli_repair.c - `ringwatch repair ID [--prefer NAME] [--url URL]`: the SQL
 * that makes every master hold the same row again.
 *
 * The SQL is common/repair.h's, from the conflict's record.
 */
#include "cli_repair.h"

#include "cli_client.h"
#include "common/repair.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_repair(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "prefer", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url = CLI_DEFAULT_URL, *prefer = NULL;
	char path[64], err[256], *end;
	json_t *c;
	long code, id;
	int opt, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "u:p:", opts, NULL)) != -1) {
		if (opt == 'u')
			url = optarg;
		else if (opt == 'p')
			prefer = optarg;
		else
			return 2;
	}
	if (optind + 1 != argc || (id = strtol(argv[optind], &end, 10)) < 1 || *end != '\0') {
		fprintf(stderr, "usage: ringwatch repair ID [--prefer NAME] [--url URL]\n");
		return 2;
	}
	snprintf(path, sizeof(path), "/v1/conflicts/%ld", id);
	code = cli_request(url, path, NULL, &c);
	if (code < 0)
		return 2;
	if (code != 200) {
		fprintf(stderr, "ringwatch repair: %s answered %ld: %s\n", url, code,
			json_string_value(json_object_get(c, "error")));
		json_decref(c);
		return 2;
	}
	rc = repair_sql(c, prefer, stdout, err, sizeof(err));
	if (rc != 0)
		fprintf(stderr, "ringwatch repair: %s\n", err);
	json_decref(c);
	return rc == 0 ? 0 : 2;
}
