/*
 * catchup.h - has a master's stream caught up with the master?
 *
 * A stream that receives events is not necessarily current: after a start or
 * an outage it may be reading a backlog of many megabytes.  What it has not
 * read yet is measured against the master's own binlog, as the master's SQL
 * probe last listed it (SHOW BINARY LOGS: each file and its size, the last
 * size where the binlog ends) and, on MariaDB, its @@gtid_binlog_pos.  The
 * probe reads where the binlog ends at some moment; a stream only moves
 * forward, so once it has passed that end it was caught up as of that
 * moment.
 *
 * A tracker remembers, per master, the ends of recent probe rounds that the
 * stream had not passed yet (how long it has been behind) and samples of
 * the stream's byte counter (how fast it reads).  No I/O and no clock: the
 * caller passes the time, monotonic seconds.  Loop thread.
 */
#ifndef RINGWATCHD_CATCHUP_H
#define RINGWATCHD_CATCHUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct probe_binlog;
struct probe_result;
struct stream_view;

/*
 * A stream that has not passed its master's binlog end is catching up when
 * it is more than this many bytes or transactions behind it, or when that
 * end was read more than max(CATCHUP_PATIENCE, 2 x probe_interval) seconds
 * ago.  Less is a stream a moment behind a busy master: current.
 */
#define CATCHUP_BYTES        ((int64_t)1 << 20)
#define CATCHUP_TRANSACTIONS 10
#define CATCHUP_PATIENCE     2.0

/* How far a master's stream is behind the master. */
struct catchup_verdict {
	const char *end_file;    /* where the master's binlog ended at its latest probe round */
	uint64_t end_offset;     /* that worked; "" unknown */
	const char *end_gtid;    /* its @@gtid_binlog_pos then; "" unknown (MySQL) */
	const char *end_unknown; /* when end_file is "": why; else NULL */
	bool known;              /* and the stream's position: the figures below are known */
	const char *unknown;     /* when !known: why */
	bool catching_up;        /* known and catchup_rule() says so */
	int64_t bytes;           /* behind that end; -1 unknown */
	int64_t transactions;    /* behind that @@gtid_binlog_pos; -1 unknown */
	double seconds;    /* estimated until it has read bytes, at its recent rate; -1 unknown */
	double behind_for; /* since the oldest binlog end it has not passed was read; 0 none */
};

/*
 * The bytes from file:offset to the end of binlogs (n files, oldest first,
 * the last one the master's current file): the rest of file and every later
 * file whole.  0 when file:offset is at or past the end; a file that is not
 * listed is placed by the number after its last '.' (an older one, purged,
 * counts none of its own bytes).  -1 when it cannot be told: no binlogs, no
 * file, or a file without such a number.
 */
int64_t catchup_bytes_behind(const struct probe_binlog *binlogs, size_t n, const char *file,
			     uint64_t offset);

/*
 * The transactions in master_gtid not in stream_gtid (MariaDB GTID
 * positions, "0-1-5,1-2-17"): for each domain both hold, by how much the
 * master's sequence number is ahead.  -1 when unknown: a position that does
 * not parse (a MySQL GTID set, ""), or no domain in common.
 */
int64_t catchup_trx_behind(const char *master_gtid, const char *stream_gtid);

/*
 * Whether a stream bytes and transactions (-1 unknown) behind its master's
 * binlog end, an end read behind_for seconds ago, is catching up: not when
 * it has passed the end (bytes 0), else when one of the limits above is
 * over.
 */
bool catchup_rule(int64_t bytes, int64_t transactions, double behind_for, double probe_interval);

struct catchup;

/* A tracker for n masters; NULL when out of memory. */
struct catchup *catchup_new(size_t n);
void catchup_free(struct catchup *c);

/*
 * Master m's probe round r ended (the loop received its letter at now) and
 * its stream is v: remember where r says the binlog ended, if it listed the
 * binlogs, forget the ends v has passed, and sample v's byte counter.
 */
void catchup_observe(struct catchup *c, size_t m, const struct probe_result *r,
		     const struct stream_view *v, double now);

/*
 * The verdict on master m's stream v as of now, from r, its latest probe
 * round that worked (NULL: none yet), and master_gtid, the master's
 * @@gtid_binlog_pos read in that round (NULL or "" unknown).  Not known
 * while v is not connected.  Pointers in out point into r, master_gtid
 * and static strings.
 */
void catchup_judge(const struct catchup *c, size_t m, const struct probe_result *r,
		   const char *master_gtid, const struct stream_view *v, double now,
		   double probe_interval, struct catchup_verdict *out);

#endif
