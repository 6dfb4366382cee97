/*
 * binlog_trx.h - where transactions begin and end in a binlog stream.
 *
 * Feed every decoded event in stream order; each call says what the event
 * does to the current transaction, and the tracker keeps the transaction's
 * identity (GTID text, origin server, timestamp).  Rules:
 *   - MariaDB GTID event: begins a group; with the STANDALONE flag the group
 *     is the single statement that follows (DDL), else it ends at XID or at
 *     a COMMIT/ROLLBACK query.
 *   - MySQL GTID, ANONYMOUS_GTID, GTID_TAGGED: the next QUERY either opens a
 *     group (BEGIN) or is the whole transaction (DDL).
 *   - Without GTIDs (old servers): BEGIN ... XID/COMMIT, and any other
 *     statement alone is a transaction of its own.
 * A GTID that arrives while a group is open means the open group was cut
 * short (a reconnect resumed at a boundary): it is reported as BEGIN with
 * cut set, and the caller drops what it had gathered.
 */
#ifndef RINGWATCH_BINLOG_TRX_H
#define RINGWATCH_BINLOG_TRX_H

#include "ringwatch/binlog_event.h"

#include <stdint.h>

enum binlog_trx_mark {
	BINLOG_TRX_NONE,   /* outside any transaction (FDE, ROTATE, heartbeat, ...) */
	BINLOG_TRX_BEGIN,  /* the event opens a transaction */
	BINLOG_TRX_INSIDE, /* the event belongs to the open transaction */
	BINLOG_TRX_END,    /* the event closes the open transaction */
	BINLOG_TRX_SINGLE, /* the event is a whole transaction by itself */
};

typedef struct binlog_trx {
	int state;
	uint8_t cut;              /* the last BEGIN cut an open group short */
	uint8_t has_mariadb_gtid; /* domain/server/seq are valid */
	uint32_t domain, server;  /* MariaDB GTID of the current/last transaction */
	uint64_t seq;
	uint32_t origin_server_id; /* server_id of the event that began it */
	uint32_t timestamp;        /* its header timestamp (seconds) */
	uint64_t commit_ts_us;     /* MySQL 8 original commit timestamp, 0 if unknown */
	char gtid[80];             /* "d-s-n", "uuid:gno", "" without GTIDs */
} binlog_trx;

/* A tracker outside any transaction. */
void binlog_trx_init(binlog_trx *t);

/* What ev does (enum binlog_trx_mark); updates t. */
int binlog_trx_feed(binlog_trx *t, const binlog_event *ev);

/* Whether a transaction is open. */
int binlog_trx_open(const binlog_trx *t);

#endif
