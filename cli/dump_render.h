/*
 * dump_render.h - one binlog event as one line of JSON, for ringwatch dump
 * (cli_dump.c reads the files and runs renderers on their pieces).
 */
#ifndef RINGWATCH_CLI_DUMP_RENDER_H
#define RINGWATCH_CLI_DUMP_RENDER_H

#include "ringwatch/binlog_event.h"
#include "ringwatch/rw_buf.h"
#include "ringwatch/rw_error.h"
#include "ringwatch/value.h"

#include <stdint.h>

/*
 * One renderer of events (the main thread's, or a worker's): what it
 * remembers across events, the current transaction's GTID, and where its
 * JSON lines go.
 */
/* Which transaction an event belongs to, as far as the events so far say. */
typedef struct dump_trx {
	char gtid[80]; /* "" outside a transaction with a GTID */
	int in_begin;  /* a BEGIN was seen since the GTID */
} dump_trx;

typedef struct dump_state {
	dump_trx trx;
	value_datum *before, *after;
	rw_buf *line;      /* the lines rendered so far; each event goes in whole */
	rw_buf keys;       /* the current rows event's column keys: , "name": */
	uint32_t *key_off; /* where key i starts in keys (BINLOG_MAX_COLUMNS + 1) */
} dump_state;

/* A renderer writing its lines into line; -1 when out of memory. */
int dump_state_init(dump_state *st, rw_buf *line);
void dump_state_free(dump_state *st);

/*
 * Event ev as one JSON line appended to st->line; 0, or an RW_E_* code with
 * err set and nothing of the event appended.
 */
int dump_event(dump_state *st, const binlog_event *ev, rw_error *err);

/* Which transaction an event belongs to: a GTID sets it (dump_track_gtid),
 * its commit ends it (dump_end_trx); the file splitter follows it too. */
void dump_track_gtid(dump_trx *st, const binlog_event *ev);
void dump_end_trx(dump_trx *st, const binlog_event *ev);

#endif
