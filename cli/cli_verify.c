/*
 * cli_verify.c - `ringwatch verify` (see cli_verify.h).
 */
#include "cli_verify.h"

#include "cli_client.h"

#include <getopt.h>
#include <stdbool.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int usage(void)
{
	fprintf(stderr, "usage: ringwatch verify [--url URL] [--table SCHEMA.TABLE ...] "
			"[--chunk-rows N] [--wait] [--status] [--json]\n");
	return 2;
}

static json_int_t num(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static void print_status(json_t *v)
{
	json_t *chunks = json_object_get(v, "chunks"), *s;
	const char *str;
	char eta[32];
	size_t i;

	printf("state: %s", json_string_value(json_object_get(v, "state")));
	if (json_is_integer(json_object_get(v, "job")))
		printf(" (job %" JSON_INTEGER_FORMAT ")", num(v, "job"));
	printf("\n");
	if ((str = json_string_value(json_object_get(v, "table"))) != NULL)
		printf("table: %s\n", str);
	if ((str = json_string_value(json_object_get(v, "paused"))) != NULL)
		printf("paused: %s\n", str);
	if ((str = json_string_value(json_object_get(v, "error"))) != NULL)
		printf("error: %s\n", str);
	printf("tables: %" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT " done\n",
	       num(v, "tables_done"), num(v, "tables_total"));
	json_array_foreach(json_object_get(v, "skipped"), i, s)
	    printf("skipped: %s: %s\n", json_string_value(json_object_get(s, "table")),
		   json_string_value(json_object_get(s, "reason")));
	printf("chunks: %" JSON_INTEGER_FORMAT " equal, %" JSON_INTEGER_FORMAT
	       " different, %" JSON_INTEGER_FORMAT " unsure (%" JSON_INTEGER_FORMAT
	       " not verified)\n",
	       num(chunks, "equal"), num(chunks, "different"), num(chunks, "unsure"),
	       num(v, "not_verified_chunks"));
	printf("rows: %" JSON_INTEGER_FORMAT " read, %" JSON_INTEGER_FORMAT " different\n",
	       num(v, "rows"), num(v, "different_rows"));
	if (json_is_number(json_object_get(v, "rows_per_second")))
		printf("rate: %.0f rows/s\n",
		       json_number_value(json_object_get(v, "rows_per_second")));
	if (json_is_number(json_object_get(v, "eta_seconds"))) {
		cli_duration(json_number_value(json_object_get(v, "eta_seconds")), eta,
			     sizeof(eta));
		printf("eta: %s\n", eta);
	}
}

/* GET /v1/verify into *v: 0, or 2 after saying why. */
static int get_status(const char *url, json_t **v)
{
	long code = cli_request(url, "/v1/verify", NULL, v);

	if (code < 0)
		return 2;
	if (code != 200) {
		fprintf(stderr, "ringwatch verify: %s answered %ld: %s\n", url, code,
			json_string_value(json_object_get(*v, "error")));
		json_decref(*v);
		return 2;
	}
	return 0;
}

static bool running(json_t *v)
{
	const char *s = json_string_value(json_object_get(v, "state"));

	return s != NULL && (strcmp(s, "running") == 0 || strcmp(s, "paused") == 0);
}

/* The status, waited for the job's end when wait; exit 1 when rows differ or it failed. */
static int show(const char *url, bool wait, bool as_json)
{
	json_t *v;
	int rc;

	for (;;) {
		if ((rc = get_status(url, &v)) != 0)
			return rc;
		if (!wait || !running(v))
			break;
		json_decref(v);
		sleep(1);
	}
	if (as_json) {
		json_dumpf(v, stdout, JSON_INDENT(2));
		printf("\n");
	} else {
		print_status(v);
	}
	rc = num(v, "different_rows") > 0 ||
		     strcmp(json_string_value(json_object_get(v, "state")), "failed") == 0
		 ? 1
		 : 0;
	json_decref(v);
	return rc;
}

static int start(const char *url, json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT);
	json_t *answer;
	long code = cli_request(url, "/v1/verify", text != NULL ? text : "{}", &answer);
	int rc = 0;

	free(text);
	if (code < 0)
		return 2;
	if (code == 202) {
		printf("verification job %" JSON_INTEGER_FORMAT " started\n", num(answer, "job"));
	} else {
		fprintf(stderr, "ringwatch verify: %s answered %ld: %s\n", url, code,
			json_string_value(json_object_get(answer, "error")));
		rc = code == 409 ? 1 : 2;
	}
	json_decref(answer);
	return rc;
}

int cli_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "table", required_argument, NULL, 't' },
		{ "chunk-rows", required_argument, NULL, 'r' },
		{ "status", no_argument, NULL, 's' },
		{ "wait", no_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url = CLI_DEFAULT_URL;
	json_t *body = json_object(), *tables = json_array();
	bool status = false, wait = false, as_json = false;
	int c, rc;

	json_object_set_new(body, "tables", tables);
	optind = 1;
	while ((c = getopt_long(argc, argv, "u:t:r:swj", opts, NULL)) != -1) {
		char *end;
		long long n;
		switch (c) {
		case 'u':
			url = optarg;
			break;
		case 't':
			if (strchr(optarg, '.') == NULL || optarg[0] == '.') {
				fprintf(stderr, "ringwatch verify: --table takes SCHEMA.TABLE\n");
				json_decref(body);
				return 2;
			}
			json_array_append_new(tables, json_string(optarg));
			break;
		case 'r':
			n = strtoll(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n < 1) {
				fprintf(stderr, "ringwatch verify: --chunk-rows takes a number of "
						"rows\n");
				json_decref(body);
				return 2;
			}
			json_object_set_new(body, "chunk_rows", json_integer(n));
			break;
		case 's':
			status = true;
			break;
		case 'w':
			wait = true;
			break;
		case 'j':
			as_json = true;
			break;
		default:
			json_decref(body);
			return usage();
		}
	}
	if (optind != argc) {
		json_decref(body);
		return usage();
	}
	rc = status ? 0 : start(url, body);
	json_decref(body);
	if (rc == 0 && (status || wait))
		rc = show(url, wait, as_json);
	return rc;
}
