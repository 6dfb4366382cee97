/*
 * gtid_pos.h - a MariaDB GTID position: for each replication domain, the
 * last GTID (domain-server-seq) applied.  It is what @@gtid_binlog_pos,
 * @@gtid_current_pos and @slave_connect_state hold, and what a replica
 * resumes from: "0-1-5,1-2-17".
 */
#ifndef RINGWATCH_GTID_POS_H
#define RINGWATCH_GTID_POS_H

#include "ringwatch/rw_error.h"

#include <stddef.h>
#include <stdint.h>

/* Domains one position holds; more is RW_E_LIMIT (rings use a handful). */
#define GTID_POS_MAX 64

/* Longest text of a full position: "4294967295-4294967295-18446744073709551615," x 64. */
#define GTID_POS_TEXT_MAX (GTID_POS_MAX * 43 + 1)

typedef struct gtid_pos_entry {
	uint32_t domain;
	uint32_t server;
	uint64_t seq;
} gtid_pos_entry;

typedef struct gtid_pos {
	size_t n;
	gtid_pos_entry e[GTID_POS_MAX]; /* sorted by domain, one entry each */
} gtid_pos;

/* The empty position. */
void gtid_pos_clear(gtid_pos *p);

/* Parse "d-s-n[,d-s-n...]" (blanks around entries allowed, "" is empty). */
RW_MUST_CHECK int gtid_pos_parse(const char *text, gtid_pos *out, rw_error *err);

/* Record GTID domain-server-seq as the last of its domain. */
RW_MUST_CHECK int gtid_pos_update(gtid_pos *p, uint32_t domain, uint32_t server, uint64_t seq);

/*
 * Replace out with the position a GTID_LIST event states: count entries of
 * 16 bytes each, domain (4), server (4), seq (8), little-endian.
 */
RW_MUST_CHECK int gtid_pos_from_list(const uint8_t *entries, uint32_t count, gtid_pos *out,
				     rw_error *err);

/* The entry of domain, or NULL. */
const gtid_pos_entry *gtid_pos_get(const gtid_pos *p, uint32_t domain);

/*
 * Write the text form (domains in ascending order) into buf; returns its
 * length, or RW_E_LIMIT when len is too small (buf then holds "").
 */
RW_MUST_CHECK int gtid_pos_format(const gtid_pos *p, char *buf, size_t len);

/*
 * Whether the transaction gtid ("D-S-N" on MariaDB, "UUID:N" on MySQL) is in
 * pos, what a replica applied (MariaDB's gtid_slave_pos: the last of each
 * domain; MySQL's gtid_executed: UUID:A-B:C,...): 1 yes, 0 no, -1 not known
 * (an empty or unreadable gtid, pos NULL).
 */
int gtid_applied(const char *gtid, const char *pos);

#endif
