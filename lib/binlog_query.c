/*
 * binlog_query.c - QUERY and QUERY_COMPRESSED events and their status variables.
 */
#include "ringwatch/binlog_event.h"

#include "binlog_decode.h"
#include "rw_bytes.h"

#include <string.h>

/* Status variable codes (MySQL 0-20, MariaDB 128+). */
enum {
	Q_FLAGS2 = 0,
	Q_SQL_MODE = 1,
	Q_CATALOG = 2,
	Q_AUTO_INCREMENT = 3,
	Q_CHARSET = 4,
	Q_TIME_ZONE = 5,
	Q_CATALOG_NZ = 6,
	Q_LC_TIME_NAMES = 7,
	Q_CHARSET_DATABASE = 8,
	Q_TABLE_MAP_FOR_UPDATE = 9,
	Q_MASTER_DATA_WRITTEN = 10,
	Q_INVOKER = 11,
	Q_UPDATED_DB_NAMES = 12,
	Q_MICROSECONDS = 13,
	Q_COMMIT_TS = 14,
	Q_COMMIT_TS2 = 15,
	Q_EXPLICIT_DEFAULTS_FOR_TIMESTAMP = 16,
	Q_DDL_LOGGED_WITH_XID = 17,
	Q_DEFAULT_COLLATION_FOR_UTF8MB4 = 18,
	Q_SQL_REQUIRE_PRIMARY_KEY = 19,
	Q_DEFAULT_TABLE_ENCRYPTION = 20,
	Q_HRNOW = 128,
	Q_XID = 129,
	Q_GTID_FLAGS3 = 130,
};

static int status_str(rw_cur *c, binlog_str *out, rw_error *err)
{
	uint8_t n;
	const uint8_t *p = NULL;
	int rc = rw_cur_u8(c, &n, err);

	if (rc == 0)
		rc = rw_cur_bytes(c, n, &p, err);
	if (rc == 0) {
		out->p = (const char *)p;
		out->len = n;
	}
	return rc;
}

static int status_updated_dbs(rw_cur *c, rw_error *err)
{
	uint8_t n;
	int rc = rw_cur_u8(c, &n, err);

	if (rc < 0 || n == 254) /* 254: more databases than were listed */
		return rc;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *p = rw_cur_ptr(c);
		const uint8_t *nul = memchr(p, 0, rw_cur_left(c));

		if (nul == NULL)
			return rw_error_set(err, RW_E_TRUNCATED, rw_cur_off(c),
					    "QUERY: unterminated updated-database name");
		c->pos += (size_t)(nul - p) + 1;
	}
	return 0;
}

static int status_fixed(rw_cur *c, unsigned n, uint64_t *out, rw_error *err)
{
	return rw_cur_uint(c, n, out, err);
}

/* Status variables of MySQL 5.0 to 5.6; 1 when the code is not one of them. */
static int status_var_early(binlog_query *q, uint8_t code, rw_cur *c, rw_error *err)
{
	uint64_t v = 0, v2 = 0;
	int rc = 0;

	switch (code) {
	case Q_FLAGS2:
		rc = status_fixed(c, 4, &v, err);
		q->flags2 = (uint32_t)v;
		q->has_flags2 = 1;
		break;
	case Q_SQL_MODE:
		rc = status_fixed(c, 8, &q->sql_mode, err);
		q->has_sql_mode = 1;
		break;
	case Q_CATALOG:
		rc = status_str(c, &q->catalog, err);
		if (rc == 0)
			rc = rw_cur_skip(c, 1, err);
		break;
	case Q_AUTO_INCREMENT:
		rc = status_fixed(c, 2, &v, err);
		if (rc == 0)
			rc = status_fixed(c, 2, &v2, err);
		q->auto_increment_increment = (uint16_t)v;
		q->auto_increment_offset = (uint16_t)v2;
		break;
	case Q_CHARSET:
		rc = status_fixed(c, 6, &v, err);
		q->charset_client = (uint16_t)v;
		q->collation_connection = (uint16_t)(v >> 16);
		q->collation_server = (uint16_t)(v >> 32);
		q->has_charset = 1;
		break;
	case Q_TIME_ZONE:
		rc = status_str(c, &q->time_zone, err);
		break;
	case Q_CATALOG_NZ:
		rc = status_str(c, &q->catalog, err);
		break;
	case Q_LC_TIME_NAMES:
		rc = status_fixed(c, 2, &v, err);
		q->lc_time_names = (uint16_t)v;
		break;
	case Q_CHARSET_DATABASE:
		rc = status_fixed(c, 2, &v, err);
		q->charset_database = (uint16_t)v;
		break;
	case Q_TABLE_MAP_FOR_UPDATE:
		rc = status_fixed(c, 8, &q->table_map_for_update, err);
		break;
	case Q_MASTER_DATA_WRITTEN:
		rc = rw_cur_skip(c, 4, err);
		break;
	case Q_INVOKER:
		rc = status_str(c, &q->invoker_user, err);
		if (rc == 0)
			rc = status_str(c, &q->invoker_host, err);
		break;
	case Q_UPDATED_DB_NAMES:
		rc = status_updated_dbs(c, err);
		break;
	default:
		return 1;
	}
	return rc;
}

/* Status variables of MySQL 5.7+ and MariaDB; 1 when the code is unknown. */
static int status_var_late(binlog_query *q, uint8_t code, rw_cur *c, rw_error *err)
{
	uint64_t v = 0;
	int rc = 0;

	switch (code) {
	case Q_MICROSECONDS:
		rc = status_fixed(c, 3, &v, err);
		q->microseconds = (uint32_t)v;
		q->has_microseconds = 1;
		break;
	case Q_EXPLICIT_DEFAULTS_FOR_TIMESTAMP:
		rc = rw_cur_u8(c, &q->explicit_defaults_ts, err);
		break;
	case Q_DDL_LOGGED_WITH_XID:
		rc = status_fixed(c, 8, &q->ddl_xid, err);
		q->has_ddl_xid = 1;
		break;
	case Q_DEFAULT_COLLATION_FOR_UTF8MB4:
		rc = status_fixed(c, 2, &v, err);
		q->default_collation_utf8mb4 = (uint16_t)v;
		break;
	case Q_SQL_REQUIRE_PRIMARY_KEY:
		rc = rw_cur_u8(c, &q->sql_require_pk, err);
		break;
	case Q_DEFAULT_TABLE_ENCRYPTION:
		rc = rw_cur_u8(c, &q->default_table_encryption, err);
		break;
	case Q_HRNOW:
		rc = status_fixed(c, 3, &v, err);
		q->hrnow_usec = (uint32_t)v;
		q->has_hrnow = 1;
		break;
	case Q_XID:
		rc = status_fixed(c, 8, &q->mariadb_xid, err);
		q->has_mariadb_xid = 1;
		break;
	case Q_GTID_FLAGS3:
		rc = rw_cur_skip(c, 1, err);
		break;
	default:
		return 1;
	}
	return rc;
}

/* One status variable; returns 1 when the code is unknown (the rest is skipped). */
static int status_var(binlog_query *q, uint8_t code, rw_cur *c, rw_error *err)
{
	int rc = status_var_early(q, code, c, err);

	return rc == 1 ? status_var_late(q, code, c, err) : rc;
}

static int query_status_vars(binlog_query *q, const uint8_t *p, size_t n, int64_t pos,
			     rw_error *err)
{
	rw_cur c;

	rw_cur_init(&c, p, n, pos, "QUERY status variables");
	while (rw_cur_left(&c) > 0) {
		uint8_t code = c.p[c.pos++];
		int rc = status_var(q, code, &c, err);

		if (rc < 0)
			return rc;
		if (rc == 1) {
			q->status_unknown_code = code ? code : 255;
			return 0; /* the block's length is known: skip its unknown rest */
		}
	}
	return 0;
}

int binlog_query_decode(const uint8_t *body, size_t len, unsigned post_header_len, int64_t pos,
			int compressed, binlog_query *out, rw_error *err)
{
	binlog_query q;
	rw_cur c;
	uint8_t db_len;
	uint16_t status_len = 0;
	const uint8_t *p = NULL;
	int rc;

	memset(&q, 0, sizeof(q));
	rw_cur_init(&c, body, len, pos, "QUERY");
	rc = rw_cur_u32(&c, &q.thread_id, err);
	if (rc == 0)
		rc = rw_cur_u32(&c, &q.exec_time, err);
	if (rc == 0)
		rc = rw_cur_u8(&c, &db_len, err);
	if (rc == 0)
		rc = rw_cur_u16(&c, &q.error_code, err);
	if (rc == 0 && post_header_len >= 13)
		rc = rw_cur_u16(&c, &status_len, err);
	if (rc == 0 && post_header_len > 13)
		rc = rw_cur_skip(&c, post_header_len - 13, err);
	if (rc == 0) {
		int64_t at = rw_cur_off(&c);

		rc = rw_cur_bytes(&c, status_len, &p, err);
		if (rc == 0)
			rc = query_status_vars(&q, p, status_len, at, err);
	}
	if (rc == 0)
		rc = rw_cur_bytes(&c, db_len, &p, err);
	if (rc == 0) {
		q.schema.p = (const char *)p;
		q.schema.len = db_len;
		rc = rw_cur_skip(&c, 1, err);
	}
	if (rc < 0)
		return rc;
	p = rw_cur_ptr(&c);
	q.compressed = (uint8_t)compressed;
	if (compressed) {
		q.zdata = p;
		q.zlen = rw_cur_left(&c);
	} else {
		q.sql.p = (const char *)p;
		q.sql.len = rw_cur_left(&c);
	}
	*out = q;
	return 0;
}
