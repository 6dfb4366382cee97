/*
 * cli_check_ddl.c - `ringwatch check-ddl` (see cli_check_ddl.h).
 */
#include "cli_check_ddl.h"

#include "cli_client.h"
#include "common/ddl_check.h"

#include "ringwatch/rw_buf.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The statements and their reasons, for people; the exit code. */
static int report(json_t *answer, int as_json)
{
	json_t *statements = json_object_get(answer, "statements"), *s;
	size_t i, unsafe = 0, unread = 0;

	if (!json_is_array(statements)) {
		fprintf(stderr, "ringwatch check-ddl: an answer without statements\n");
		return 2;
	}
	json_array_foreach(statements, i, s)
	{
		const char *verdict = json_string_value(json_object_get(s, "verdict"));
		json_t *reasons = json_object_get(s, "reasons"), *r, *algorithm;
		const char *maria, *mysql;
		size_t k;

		unsafe += verdict != NULL && strcmp(verdict, "unsafe") == 0;
		unread += json_is_false(json_object_get(s, "read"));
		if (as_json)
			continue;
		printf("%s: %s\n", verdict != NULL ? verdict : "?",
		       json_string_value(json_object_get(s, "sql")));
		json_array_foreach(reasons, k, r) printf("  - %s\n", json_string_value(r));
		algorithm = json_object_get(s, "algorithm");
		maria = json_string_value(json_object_get(algorithm, "mariadb"));
		mysql = json_string_value(json_object_get(algorithm, "mysql"));
		if (maria != NULL && mysql != NULL)
			printf("  algorithm: MariaDB %s, MySQL %s\n", maria, mysql);
	}
	if (as_json) {
		char *text = json_dumps(answer, JSON_INDENT(2));
		if (text != NULL)
			puts(text);
		free(text);
	} else {
		printf("%zu statement%s, %zu unsafe%s\n", json_array_size(statements),
		       json_array_size(statements) == 1 ? "" : "s", unsafe,
		       unread > 0 ? ", some not read" : "");
	}
	return unread > 0 ? 2 : unsafe > 0 ? 1 : 0;
}

int cli_check_ddl(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "file", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url = NULL, *file = NULL;
	rw_buf sql = RW_BUF_INIT;
	json_t *answer = NULL;
	int as_json = 0, c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "u:f:j", opts, NULL)) != -1) {
		if (c == 'u')
			url = optarg;
		else if (c == 'f')
			file = optarg;
		else if (c == 'j')
			as_json = 1;
		else
			return 2;
	}
	if ((file != NULL && optind < argc) || argc - optind > 1 ||
	    (file == NULL && optind == argc && isatty(STDIN_FILENO))) {
		fprintf(stderr, "usage: ringwatch check-ddl [--url URL] [--json] [SQL | -f FILE] "
				"(else standard input)\n");
		return 2;
	}
	if (file == NULL && optind == argc)
		file = "-";
	if (file != NULL) {
		FILE *f = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
		if (f == NULL || cli_read_all(f, &sql) != 0) {
			perror(file);
			if (f != NULL && f != stdin)
				fclose(f);
			rw_buf_free(&sql);
			return 2;
		}
		if (f != stdin)
			fclose(f);
	} else {
		rw_buf_puts(&sql, argv[optind]);
	}
	rw_buf_put(&sql, "", 0); /* terminated, even when empty */
	if (strspn(sql.p, " \t\r\n;") == sql.len) {
		fprintf(stderr, "ringwatch check-ddl: no statement to check\n");
		rw_buf_free(&sql);
		return 2;
	}
	if (url != NULL) {
		long code = cli_request(url, "/v1/ddl/check", sql.p, &answer);
		if (code < 0) {
			rw_buf_free(&sql);
			return 2;
		}
		if (code != 200) {
			const char *why = json_string_value(json_object_get(answer, "error"));
			fprintf(stderr, "ringwatch check-ddl: %s answered %ld%s%s\n", url, code,
				why != NULL ? ": " : "", why != NULL ? why : "");
			json_decref(answer);
			rw_buf_free(&sql);
			return 2;
		}
	} else {
		ddl_options opt = { true, 0 }; /* MariaDB's and MySQL's executable comments */
		answer = ddl_check_json(sql.p, sql.len, &opt, NULL, NULL);
		if (answer == NULL) {
			fprintf(stderr, "ringwatch check-ddl: out of memory\n");
			rw_buf_free(&sql);
			return 2;
		}
	}
	rc = report(answer, as_json);
	json_decref(answer);
	rw_buf_free(&sql);
	return rc;
}
