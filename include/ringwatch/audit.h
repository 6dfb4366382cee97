/*
 * audit.h - the configuration audit: the server variables of every master
 * of a ring, checked against what a master-master ring and ringwatch need.
 *
 * Each finding names its check, the master it is about ("" for the ring as
 * a whole), a severity and a detail a person can act on; a check that
 * passes is a finding too (ok), so every check shows, failing or passing.
 * Critical findings make the deploy gate unsafe: a ring that replicates in
 * a way that loses or skips rows (doc/audit.md).
 */
#ifndef RINGWATCH_AUDIT_H
#define RINGWATCH_AUDIT_H

#include <stdbool.h>
#include <stddef.h>

enum audit_severity {
	AUDIT_INFO = 0,
	AUDIT_WARNING = 1,
	AUDIT_CRITICAL = 2,
};

/* Among a master's variables, the audit reads its user's SHOW GRANTS lines
 * (joined by newlines) under this name: the grants ringwatch needs. */
#define AUDIT_GRANTS_VAR "ringwatch.grants"

/* One master's variables, as SHOW GLOBAL VARIABLES gave them. */
typedef struct audit_server {
	const char *name;
	bool known; /* its variables were read; else only "unknown" findings */
	bool mariadb;
	size_t n_vars;
	const char *const *var_names; /* case-insensitive */
	const char *const *var_values;
} audit_server;

typedef struct audit_finding {
	const char *check;  /* "server_id", "auto_increment", ... */
	const char *master; /* a master's name, "" for the whole ring */
	bool ok;
	int severity; /* enum audit_severity: what it is when not ok */
	char detail[256];
} audit_finding;

/* Most findings audit_run() gives for n masters. */
#define AUDIT_MAX_FINDINGS(n) (16 * (n) + 8)

/* Every check over the n masters into out (room for max); how many there are. */
size_t audit_run(const audit_server *servers, size_t n, audit_finding *out, size_t max);

/* "info", "warning", "critical". */
const char *audit_severity_name(int severity);

#endif
