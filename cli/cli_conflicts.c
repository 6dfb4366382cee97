/*
 * cli_conflicts.c - `ringwatch conflicts`.
 */
#include "cli_conflicts.h"

#include "cli_client.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "?";
}

/* One conflict in a few lines: what, where, who wrote what, who holds what. */
static void print_conflict(json_t *c)
{
	char *key = json_dumps(json_object_get(c, "key"), JSON_COMPACT);
	json_t *w, *final = json_object_get(c, "final");
	const char *master;
	json_t *row;
	size_t i;

	printf("#%lld %s %s.%s %s  %s%s  detected %s\n",
	       (long long)json_integer_value(json_object_get(c, "id")), str(c, "kind"),
	       str(c, "schema"), str(c, "table"), key != NULL ? key : "?", str(c, "state"),
	       json_is_true(json_object_get(c, "diverged")) ? ", DIVERGED" : "",
	       str(c, "detected_at"));
	free(key);
	json_array_foreach(json_object_get(c, "writes"), i, w)
	{
		char *after =
		    json_dumps(json_object_get(w, "after"), JSON_COMPACT | JSON_ENCODE_ANY);
		printf("    %-8s %-6s %-16s -> %s\n", str(w, "master"), str(w, "op"),
		       str(w, "gtid"), after != NULL ? after : "?");
		free(after);
	}
	json_object_foreach(final, master, row)
	{
		char *text = json_dumps(row, JSON_COMPACT | JSON_ENCODE_ANY);
		printf("    %-8s holds  %s\n", master, text != NULL ? text : "?");
		free(text);
	}
}

int cli_conflicts(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },
		{ "limit", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url = CLI_DEFAULT_URL;
	int as_json = 0, all = 0, c, rc;
	long limit = 100;
	char path[128], *end;
	json_t *answer, *list, *item;
	long code;
	size_t i;

	optind = 1;
	while ((c = getopt_long(argc, argv, "u:jal:", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			url = optarg;
			break;
		case 'j':
			as_json = 1;
			break;
		case 'a':
			all = 1;
			break;
		case 'l':
			limit = strtol(optarg, &end, 10);
			if (*end != '\0' || limit < 1 || limit > 10000) {
				fprintf(stderr, "ringwatch conflicts: --limit takes 1 to 10000\n");
				return 2;
			}
			break;
		default:
			return 2;
		}
	}
	if (optind < argc) {
		long id = strtol(argv[optind], &end, 10);
		if (*end != '\0' || id < 1 || optind + 1 != argc) {
			fprintf(stderr, "ringwatch conflicts: expected one conflict id\n");
			return 2;
		}
		snprintf(path, sizeof(path), "/v1/conflicts/%ld", id);
	} else {
		snprintf(path, sizeof(path), "/v1/conflicts?state=%s&limit=%ld",
			 all ? "all" : "open", limit);
	}
	code = cli_request(url, path, NULL, &answer);
	if (code < 0)
		return 2;
	if (code != 200) {
		fprintf(stderr, "ringwatch conflicts: %s answered %ld: %s\n", url, code,
			str(answer, "error"));
		json_decref(answer);
		return 2;
	}
	if (as_json) {
		json_dumpf(answer, stdout, JSON_INDENT(2));
		printf("\n");
	}
	list = json_object_get(answer, "conflicts");
	if (!json_is_array(list)) { /* one conflict */
		if (!as_json)
			print_conflict(answer);
		json_decref(answer);
		return 0;
	}
	rc = 0;
	json_array_foreach(list, i, item)
	{
		if (!as_json)
			print_conflict(item);
		if (strcmp(str(item, "state"), "open") == 0)
			rc = 1;
	}
	if (!as_json && json_array_size(list) == 0)
		printf("no %sconflicts\n", all ? "" : "open ");
	json_decref(answer);
	return rc;
}
