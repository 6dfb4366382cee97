/*
 * cli_status.c - `ringwatch status`.
 */
#include "cli_status.h"

#include "cli_client.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *str(json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : dflt;
}

static void print_masters(json_t *masters)
{
	size_t i;
	json_t *m;

	printf("%-12s %-11s %-10s %-28s %-24s %-10s %s\n", "MASTER", "STATE", "SERVER_ID",
	       "POSITION", "GTID", "LAST EVENT", "EVENTS");
	json_array_foreach(masters, i, m)
	{
		json_t *pos = json_object_get(m, "position");
		json_t *gap = json_object_get(m, "gap");
		json_t *err = json_object_get(m, "last_error");
		char where[300], age[32];
		json_t *age_v = json_object_get(m, "last_event_age_seconds");

		snprintf(where, sizeof(where), "%s:%lld", str(pos, "file", "-"),
			 (long long)json_integer_value(json_object_get(pos, "offset")));
		cli_duration(json_is_number(age_v) ? json_number_value(age_v) : -1, age,
			     sizeof(age));
		printf("%-12s %-11s %-10lld %-28s %-24s %-10s %lld\n", str(m, "name", "?"),
		       str(m, "state", "?"),
		       (long long)json_integer_value(json_object_get(m, "server_id")), where,
		       str(pos, "gtid", "-"), age,
		       (long long)json_integer_value(json_object_get(m, "events_total")));
		if (json_is_object(gap))
			printf("  GAP %lld: %s (acknowledge: POST /v1/gaps/%lld/ack)\n",
			       (long long)json_integer_value(json_object_get(gap, "id")),
			       str(gap, "detail", ""),
			       (long long)json_integer_value(json_object_get(gap, "id")));
		if (json_is_object(err) && !json_is_true(json_object_get(m, "connected")))
			printf("  last error %lld: %s\n",
			       (long long)json_integer_value(json_object_get(err, "code")),
			       str(err, "message", ""));
	}
}

static void print_links(json_t *links)
{
	size_t i;
	json_t *l;

	if (!json_is_array(links) || json_array_size(links) == 0)
		return;
	printf("\n%-24s %-9s %-4s %-4s %-8s %-10s %s\n", "LINK", "STATE", "IO", "SQL", "BEHIND",
	       "LAG", "ERROR");
	json_array_foreach(links, i, l)
	{
		char name[200], lag[32], behind[32];
		json_t *err = json_object_get(l, "last_error");
		json_t *sbm = json_object_get(l, "seconds_behind_master");
		json_t *lag_v = json_object_get(l, "lag_seconds");

		snprintf(name, sizeof(name), "%s -> %s", str(l, "source", "?"),
			 str(l, "replica", "?"));
		if (json_is_integer(sbm))
			snprintf(behind, sizeof(behind), "%lld",
				 (long long)json_integer_value(sbm));
		else
			snprintf(behind, sizeof(behind), "-");
		cli_duration(json_is_number(lag_v) ? json_number_value(lag_v) : -1, lag,
			     sizeof(lag));
		printf("%-24s %-9s %-4s %-4s %-8s %-10s ", name, str(l, "state", "?"),
		       json_is_true(json_object_get(l, "io_running")) ? "yes" : "no",
		       json_is_true(json_object_get(l, "sql_running")) ? "yes" : "no", behind, lag);
		if (json_is_object(err))
			printf("%lld: %s\n",
			       (long long)json_integer_value(json_object_get(err, "code")),
			       str(err, "message", ""));
		else
			printf("-\n");
	}
}

/* Schema drift and the tables whose rows are not compared, when there are any. */
static void print_schema(json_t *st)
{
	size_t i;
	json_t *e;

	if (json_array_size(json_object_get(st, "schema_drift")) > 0)
		printf("\nschema drift:\n");
	json_array_foreach(json_object_get(st, "schema_drift"), i, e)
	{
		if (str(e, "table", "")[0] != '\0')
			printf("  %s.%s: %s\n", str(e, "schema", "?"), str(e, "table", "?"),
			       str(e, "detail", ""));
		else
			printf("  %s\n", str(e, "detail", ""));
	}
	if (json_array_size(json_object_get(st, "unknown_tables")) > 0)
		printf("\nrows not compared (table shape not known):\n");
	json_array_foreach(json_object_get(st, "unknown_tables"), i, e)
	{
		printf("  %s.%s on %s: %lld row changes: %s\n", str(e, "schema", "?"),
		       str(e, "table", "?"), str(e, "master", "?"),
		       (long long)json_integer_value(json_object_get(e, "rows_not_compared")),
		       str(e, "reason", ""));
	}
}

static void print_gate(json_t *gate)
{
	size_t i;
	json_t *c;

	if (!json_is_object(gate))
		return;
	printf("\ngate: %s\n", json_is_true(json_object_get(gate, "safe")) ? "SAFE" : "NOT SAFE");
	json_array_foreach(json_object_get(gate, "checks"), i, c)
	{
		printf("  %-4s %-14s %s\n", json_is_true(json_object_get(c, "ok")) ? "ok" : "FAIL",
		       str(c, "name", "?"), str(c, "detail", ""));
	}
}

int cli_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url = CLI_DEFAULT_URL;
	int as_json = 0, c;
	json_t *st;
	long code;
	char up[32];

	optind = 1;
	while ((c = getopt_long(argc, argv, "u:j", opts, NULL)) != -1) {
		if (c == 'u')
			url = optarg;
		else if (c == 'j')
			as_json = 1;
		else
			return 2;
	}
	if (optind != argc) {
		fprintf(stderr, "ringwatch status: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	code = cli_request(url, "/v1/status", NULL, &st);
	if (code < 0)
		return 2;
	if (code != 200) {
		fprintf(stderr, "ringwatch status: %s answered %ld: %s\n", url, code,
			str(st, "error", "?"));
		json_decref(st);
		return 2;
	}
	if (as_json) {
		json_dumpf(st, stdout, JSON_INDENT(2));
		printf("\n");
	} else {
		cli_duration(json_number_value(json_object_get(st, "uptime_seconds")), up,
			     sizeof(up));
		printf("ringwatchd %s at %s, up %s\n\n", str(st, "version", "?"), url, up);
		print_masters(json_object_get(st, "masters"));
		print_links(json_object_get(st, "links"));
		print_schema(st);
		print_gate(json_object_get(st, "gate"));
	}
	json_decref(st);
	return 0;
}
