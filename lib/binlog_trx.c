/*
 * binlog_trx.c - transaction boundaries in a binlog stream.
 */
#include "ringwatch/binlog_trx.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

enum trx_state {
	TRX_OUTSIDE,
	TRX_OPEN,        /* inside BEGIN ... COMMIT (or a MariaDB GTID group) */
	TRX_STANDALONE,  /* after a MariaDB GTID with FL_STANDALONE: one statement */
	TRX_MYSQL_FIRST, /* after a MySQL GTID, before its first statement */
};

void binlog_trx_init(binlog_trx *t)
{
	memset(t, 0, sizeof(*t));
	t->state = TRX_OUTSIDE;
}

int binlog_trx_open(const binlog_trx *t)
{
	return t->state != TRX_OUTSIDE;
}

/* Does the statement start with word (case-insensitive, then a non-letter)? */
static int starts_with(const binlog_str *sql, const char *word)
{
	size_t i = 0, n = strlen(word);

	while (i < sql->len &&
	       (sql->p[i] == ' ' || sql->p[i] == '\t' || sql->p[i] == '\n' || sql->p[i] == '\r'))
		i++;
	if (sql->len - i < n || strncasecmp(sql->p + i, word, n) != 0)
		return 0;
	return sql->len - i == n ||
	       !((sql->p[i + n] | 0x20) >= 'a' && (sql->p[i + n] | 0x20) <= 'z');
}

static int is_begin(const binlog_str *sql)
{
	return starts_with(sql, "BEGIN") || starts_with(sql, "XA START");
}

static int is_end(const binlog_str *sql)
{
	return starts_with(sql, "COMMIT") || starts_with(sql, "ROLLBACK") ||
	       starts_with(sql, "XA COMMIT") || starts_with(sql, "XA ROLLBACK") ||
	       starts_with(sql, "XA PREPARE");
}

static int begin(binlog_trx *t, const binlog_event *ev, int state)
{
	t->cut = t->state != TRX_OUTSIDE;
	t->state = state;
	t->origin_server_id = ev->hdr.server_id;
	t->timestamp = ev->hdr.timestamp;
	t->commit_ts_us = 0;
	t->has_mariadb_gtid = 0;
	t->gtid[0] = '\0';
	return BINLOG_TRX_BEGIN;
}

static int on_query(binlog_trx *t, const binlog_event *ev)
{
	const binlog_str *sql = &ev->u.query.sql;

	switch (t->state) {
	case TRX_MYSQL_FIRST:
		if (is_begin(sql)) {
			t->state = TRX_OPEN;
			return BINLOG_TRX_INSIDE;
		}
		t->state = TRX_OUTSIDE;
		return BINLOG_TRX_END;
	case TRX_STANDALONE:
		t->state = TRX_OUTSIDE;
		return BINLOG_TRX_END;
	case TRX_OPEN:
		if (is_end(sql)) {
			t->state = TRX_OUTSIDE;
			return BINLOG_TRX_END;
		}
		return BINLOG_TRX_INSIDE;
	default:
		if (is_begin(sql)) {
			begin(t, ev, TRX_OPEN);
			return BINLOG_TRX_BEGIN;
		}
		begin(t, ev, TRX_OUTSIDE);
		return BINLOG_TRX_SINGLE;
	}
}

static int on_mysql_gtid(binlog_trx *t, const binlog_event *ev)
{
	begin(t, ev, TRX_MYSQL_FIRST);
	if (ev->hdr.type != BINLOG_ANONYMOUS_GTID)
		snprintf(t->gtid, sizeof(t->gtid), "%s", ev->u.gtid.text);
	if (ev->u.gtid.has_commit_ts)
		t->commit_ts_us = ev->u.gtid.original_commit_ts;
	return BINLOG_TRX_BEGIN;
}

static int on_mariadb_gtid(binlog_trx *t, const binlog_event *ev)
{
	const binlog_mariadb_gtid *g = &ev->u.mgtid;

	begin(t, ev, (g->flags2 & BINLOG_MARIADB_GTID_STANDALONE) ? TRX_STANDALONE : TRX_OPEN);
	t->has_mariadb_gtid = 1;
	t->domain = g->domain_id;
	t->server = ev->hdr.server_id;
	t->seq = g->seq_no;
	snprintf(t->gtid, sizeof(t->gtid), "%s", g->text);
	return BINLOG_TRX_BEGIN;
}

int binlog_trx_feed(binlog_trx *t, const binlog_event *ev)
{
	switch (ev->hdr.type) {
	case BINLOG_MARIADB_GTID:
		return on_mariadb_gtid(t, ev);
	case BINLOG_GTID:
	case BINLOG_ANONYMOUS_GTID:
	case BINLOG_GTID_TAGGED:
		return on_mysql_gtid(t, ev);
	case BINLOG_QUERY:
	case BINLOG_QUERY_COMPRESSED:
		return on_query(t, ev);
	case BINLOG_XID:
	case BINLOG_XA_PREPARE:
		if (t->state == TRX_OUTSIDE)
			return BINLOG_TRX_NONE;
		t->state = TRX_OUTSIDE;
		return BINLOG_TRX_END;
	case BINLOG_FORMAT_DESCRIPTION:
	case BINLOG_ROTATE:
	case BINLOG_STOP:
	case BINLOG_HEARTBEAT:
	case BINLOG_HEARTBEAT_V2:
	case BINLOG_PREVIOUS_GTIDS:
	case BINLOG_MARIADB_GTID_LIST:
	case BINLOG_BINLOG_CHECKPOINT:
	case BINLOG_START_ENCRYPTION:
	case BINLOG_INCIDENT:
	case BINLOG_TRANSACTION_PAYLOAD: /* its events follow, one by one */
		return BINLOG_TRX_NONE;
	default:
		if (t->state == TRX_OUTSIDE)
			return BINLOG_TRX_NONE;
		if (t->state == TRX_STANDALONE || t->state == TRX_MYSQL_FIRST)
			t->state = TRX_OPEN; /* rows without BEGIN: keep until XID/COMMIT */
		return BINLOG_TRX_INSIDE;
	}
}
