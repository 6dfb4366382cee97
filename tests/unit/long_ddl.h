/*
 * long_ddl.h - two long findings of a DDL not replicated, for the tests of
 * drift.c and of those that show or quote its findings.  Two masters whose
 * names are 120 bytes; west writes two statements of 300 bytes (kept as
 * their first 150 and "...") at 100 s, with GTIDs of 80 and 95 bytes, and
 * east shows neither.  The first one's words, "DDL not replicated to east:
 * ... (<GTID> from west", are 505 bytes, so its age is cut at byte 511;
 * the second's are 520, cut before the age.  The findings are taken at 131
 * and at 500 s, 31 s and 400 s after the DDL.
 */
#ifndef RINGWATCH_TESTS_LONG_DDL_H
#define RINGWATCH_TESTS_LONG_DDL_H

#include "../../daemon/drift.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct long_ddl {
	char west[121], east[121], sql[301], trx[2][96];
	const char *names[2];
	schema_db *dbs[2];
	struct drift *d;
	struct drift_entry at31[2], at400[2];
};

/* Whether both findings are there at both times. */
static inline bool long_ddl_init(struct long_ddl *l)
{
	memset(l->west, 'w', 120);
	memset(l->east, 'e', 120);
	l->west[120] = l->east[120] = '\0';
	snprintf(l->sql, sizeof(l->sql), "ALTER TABLE t ADD COLUMN c%0270d int", 0);
	l->names[0] = l->west;
	l->names[1] = l->east;
	l->dbs[0] = schema_db_new();
	l->dbs[1] = schema_db_new();
	l->d = drift_new(2, l->names);
	for (int k = 0; k < 2; k++) {
		snprintf(l->trx[k], sizeof(l->trx[k]), "0-1-%0*d", k == 0 ? 76 : 91, 42 + k);
		drift_ddl(l->d, 0, l->trx[k], l->sql, strlen(l->sql), 100);
		drift_ddl_table(l->d, 0, "app", "t");
	}
	return drift_find(l->d, (const schema_db *const *)l->dbs, true, 30, 131, l->at31, 2) == 2 &&
	       drift_find(l->d, (const schema_db *const *)l->dbs, true, 30, 500, l->at400, 2) == 2;
}

static inline void long_ddl_free(struct long_ddl *l)
{
	drift_free(l->d);
	schema_db_free(l->dbs[0]);
	schema_db_free(l->dbs[1]);
}

/*
 * DDL k's sentence as /v1/status and the gate showed it before its age was
 * kept apart, age seconds after: the whole of it, age included, cut at 511
 * bytes, into buf[512].  Returns the length of the whole.
 */
static inline int long_ddl_old_text(const struct long_ddl *l, int k, double age, char *buf)
{
	return snprintf(buf, 512, "DDL not replicated to %s: %.150s... (%s from %s, %.0f s ago)",
			l->east, l->sql, l->trx[k], l->west, age);
}

#endif
