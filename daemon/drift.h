/*
 * drift.h - schema drift between the masters: tables whose shapes differ
 * from one master's history to another's, and DDL statements one master
 * wrote that another has not shown within a timeout.
 *
 * A DDL statement is followed by its transaction's identity (the GTID)
 * from the first stream that shows it until every stream has; the tables it
 * touched are not compared meanwhile (the masters are expected to differ
 * while it replicates).  Nothing is reported unless every stream is
 * current, so a stream behind is not taken for drift.  No I/O, no clock:
 * the caller passes the time.
 */
#ifndef RINGWATCHD_DRIFT_H
#define RINGWATCHD_DRIFT_H

#include "ringwatch/schema.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct drift;

/* A finding's sentence, shown or not, is cut at DRIFT_DETAIL_MAX - 1 bytes. */
#define DRIFT_DETAIL_MAX 512

/*
 * One finding: the table (schema and table "" for none) and a sentence
 * whose words stay the same for as long as the finding lasts (an alert
 * quotes it).  A DDL not replicated has an age too, kept apart: seconds
 * since the first stream showed it, and where in detail (before its
 * closing parenthesis) drift_entry_show() writes it; age_at 0 for none.
 * A sentence cut before its age has age_at at its end, and no
 * parenthesis.
 */
struct drift_entry {
	char schema[SCHEMA_NAME_MAX];
	char table[SCHEMA_NAME_MAX];
	char detail[DRIFT_DETAIL_MAX];
	double age;
	size_t age_at;
};

/* For n masters named names (not copied: they must outlive d). */
struct drift *drift_new(size_t n, const char *const *names);
void drift_free(struct drift *d);

/* Master m's stream showed DDL transaction trx (sql, its text) at time now. */
void drift_ddl(struct drift *d, size_t m, const char *trx, const char *sql, size_t len, double now);

/* A table the DDL master m showed last touched (call after drift_ddl). */
void drift_ddl_table(struct drift *d, size_t m, const char *schema, const char *table);

/*
 * The findings as of now, when all_current (else none): DDL not shown by
 * every master within timeout seconds, and the tables whose shapes differ between
 * dbs[0..n-1] (one per master; a table unknown anywhere is not compared).
 * Up to max entries into out; returns how many there are.
 */
size_t drift_find(struct drift *d, const schema_db *const *dbs, bool all_current, double timeout,
		  double now, struct drift_entry *out, size_t max);

/*
 * e's detail as /v1/status and the gate show it, into buf (len bytes): a
 * DDL not replicated with its age, "(1-1-42 from west, 31 s ago)".  The
 * text is cut at DRIFT_DETAIL_MAX - 1 bytes whatever len, as the whole
 * sentence was when the age was part of it: one cut before its age shows
 * as it is, with no age after it.
 */
void drift_entry_show(const struct drift_entry *e, char *buf, size_t len);

#endif
