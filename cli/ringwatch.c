/*
 * ringwatch.c - the command-line client: a thin client of ringwatchd's HTTP
 * API plus offline tools that run the library directly.
 */
#include "build_config.h"

#include "cli_analyze.h"
#include "cli_check_ddl.h"
#include "cli_conflicts.h"
#include "cli_dump.h"
#include "cli_gate.h"
#include "cli_repair.h"
#include "cli_status.h"
#include "cli_verify.h"

#include <stdio.h>
#include <string.h>

enum {
	EXIT_OK = 0,
	EXIT_NO = 1,
	EXIT_USAGE = 2,
};

typedef int (*command_fn)(int argc, char **argv);

struct command {
	const char *name;
	const char *synopsis;
	command_fn run; /* NULL: not built yet */
};

static const struct command commands[] = {
	{ "status", "status [--url URL] [--json]", cli_status },
	{ "conflicts", "conflicts [--url URL] [--json] [--all] [--limit N] [ID]", cli_conflicts },
	{ "gate", "gate [--url URL] [--max-lag SECONDS] [--checks NAME,...] [--json]", cli_gate },
	{ "check-ddl", "check-ddl [--url URL] [--json] [SQL | -f FILE]", cli_check_ddl },
	{ "dump", "dump [--threads N] [--segment-size BYTES] FILE...", cli_dump },
	{ "analyze", "analyze --master NAME=FILE[,FILE...] --master NAME=FILE[,FILE...]",
	  cli_analyze },
	{ "repair", "repair ID [--prefer NAME] [--url URL]", cli_repair },
	{ "verify",
	  "verify [--url URL] [--table SCHEMA.TABLE ...] [--chunk-rows N] [--wait] [--status] "
	  "[--json]",
	  cli_verify },
	{ NULL, NULL, NULL },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: ringwatch COMMAND [OPTIONS]\n\ncommands:\n");
	for (const struct command *c = commands; c->name != NULL; c++)
		fprintf(out, "  ringwatch %s\n", c->synopsis);
	fprintf(out, "\n  ringwatch --version\n");
}

int main(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("ringwatch %s\n", PACKAGE_VERSION);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	for (c = commands; c->name != NULL; c++) {
		if (strcmp(c->name, argv[1]) != 0)
			continue;
		if (c->run == NULL) {
			fprintf(stderr, "ringwatch: '%s' is not built yet in this version\n",
				c->name);
			return EXIT_USAGE;
		}
		return c->run(argc - 1, argv + 1);
	}
	fprintf(stderr, "ringwatch: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
