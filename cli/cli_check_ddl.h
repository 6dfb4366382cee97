/*
 * cli_check_ddl.h - `ringwatch check-ddl [--url URL] [--json] [SQL | -f FILE]`
 * (else the SQL on standard input):
 * is a schema change safe on the ring?  Offline the statements alone are
 * judged (ddl_rules.h); with --url the daemon judges them against the live
 * schema (POST /v1/ddl/check).
 */
#ifndef RINGWATCH_CLI_CHECK_DDL_H
#define RINGWATCH_CLI_CHECK_DDL_H

/*
 * argv[0] is "check-ddl".  Exit code: 0 nothing unsafe (cautions are
 * printed), 1 some statement unsafe, 2 a statement ringwatch could not read,
 * or usage, a file that cannot be read, a daemon that does not answer.
 */
int cli_check_ddl(int argc, char **argv);

#endif
