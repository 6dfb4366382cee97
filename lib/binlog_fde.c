/*
 * binlog_fde.c - the common header and FORMAT_DESCRIPTION events.
 */
#include "ringwatch/binlog_event.h"

#include "rw_bytes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int binlog_header_decode(const uint8_t *buf, size_t len, int64_t pos, binlog_header *out,
			 rw_error *err)
{
	if (len < BINLOG_HEADER_LEN)
		return rw_error_set(err, RW_E_TRUNCATED, pos,
				    "event header: needs %d bytes, only %zu left",
				    BINLOG_HEADER_LEN, len);
	out->timestamp = (uint32_t)rw_le(buf, 4);
	out->type = buf[4];
	out->server_id = (uint32_t)rw_le(buf + 5, 4);
	out->event_size = (uint32_t)rw_le(buf + 9, 4);
	out->log_pos = (uint32_t)rw_le(buf + 13, 4);
	out->flags = (uint16_t)rw_le(buf + 17, 2);
	return 0;
}

static void fde_parse_version(binlog_fde *f)
{
	const char *s = f->server_version;
	char *end;

	for (int i = 0; i < 3; i++) {
		unsigned long v = strtoul(s, &end, 10);

		if (end == s)
			break;
		f->version[i] = (uint16_t)(v > 65535 ? 65535 : v);
		s = end;
		if (*s != '.')
			break;
		s++;
	}
	f->is_mariadb = strstr(f->server_version, "MariaDB") != NULL;
}

/* Servers from MySQL 5.6.1 and MariaDB 5.3 on end the FDE with a checksum algorithm byte. */
static int fde_has_checksum_alg(const binlog_fde *f)
{
	unsigned v = f->version[0] * 10000u + f->version[1] * 100u + f->version[2];

	return f->is_mariadb ? v >= 50300 : v >= 50601;
}

/* MySQL 5.6 post-header lengths, for binlogs whose first event is not an FDE. */
static const uint8_t default_post_header[] = {
	[BINLOG_START_V3] = 56,        [BINLOG_QUERY] = 13,
	[BINLOG_ROTATE] = 8,           [BINLOG_LOAD] = 18,
	[BINLOG_CREATE_FILE] = 4,      [BINLOG_APPEND_BLOCK] = 4,
	[BINLOG_EXEC_LOAD] = 4,        [BINLOG_DELETE_FILE] = 4,
	[BINLOG_NEW_LOAD] = 18,        [BINLOG_FORMAT_DESCRIPTION] = 84,
	[BINLOG_BEGIN_LOAD_QUERY] = 4, [BINLOG_EXECUTE_LOAD_QUERY] = 26,
	[BINLOG_TABLE_MAP] = 8,        [BINLOG_WRITE_ROWS_V1] = 8,
	[BINLOG_UPDATE_ROWS_V1] = 8,   [BINLOG_DELETE_ROWS_V1] = 8,
	[BINLOG_INCIDENT] = 2,         [BINLOG_ROWS_QUERY] = 1,
	[BINLOG_WRITE_ROWS] = 10,      [BINLOG_UPDATE_ROWS] = 10,
	[BINLOG_DELETE_ROWS] = 10,     [BINLOG_GTID] = 42,
	[BINLOG_ANONYMOUS_GTID] = 42,
};

void binlog_fde_default(binlog_fde *out)
{
	memset(out, 0, sizeof(*out));
	out->binlog_version = 4;
	snprintf(out->server_version, sizeof(out->server_version), "5.6.0-default");
	fde_parse_version(out);
	out->header_len = BINLOG_HEADER_LEN;
	out->checksum_alg = BINLOG_CHECKSUM_OFF;
	memcpy(out->post_header, default_post_header, sizeof(default_post_header));
	out->n_post_header = sizeof(default_post_header) - 1;
}

int binlog_fde_decode(const uint8_t *buf, size_t len, int64_t pos, binlog_fde *out, rw_error *err)
{
	binlog_fde f;
	size_t fixed = BINLOG_HEADER_LEN + 2 + 50 + 4 + 1, n;

	if (len < fixed)
		return rw_error_set(err, RW_E_TRUNCATED, pos,
				    "FORMAT_DESCRIPTION: %zu bytes, at least %zu needed", len,
				    fixed);
	memset(&f, 0, sizeof(f));
	f.binlog_version = (uint16_t)rw_le(buf + BINLOG_HEADER_LEN, 2);
	memcpy(f.server_version, buf + BINLOG_HEADER_LEN + 2, 50);
	f.create_timestamp = (uint32_t)rw_le(buf + BINLOG_HEADER_LEN + 52, 4);
	f.header_len = buf[BINLOG_HEADER_LEN + 56];
	fde_parse_version(&f);
	if (f.binlog_version != 4 || f.header_len < BINLOG_HEADER_LEN)
		return rw_error_set(err, RW_E_UNSUPPORTED, pos,
				    "FORMAT_DESCRIPTION: binlog version %u, header length %u "
				    "(only v4 with 19+ byte headers is read)",
				    f.binlog_version, f.header_len);
	n = len - fixed;
	f.checksum_alg = BINLOG_CHECKSUM_OFF;
	if (fde_has_checksum_alg(&f)) {
		if (n < 5)
			return rw_error_set(
			    err, RW_E_TRUNCATED, pos,
			    "FORMAT_DESCRIPTION: no room for the checksum algorithm");
		n -= 5;
		f.checksum_alg = buf[fixed + n];
		if (f.checksum_alg != BINLOG_CHECKSUM_OFF &&
		    f.checksum_alg != BINLOG_CHECKSUM_CRC32 &&
		    f.checksum_alg != BINLOG_CHECKSUM_UNDEF)
			return rw_error_set(err, RW_E_UNSUPPORTED, pos + (int64_t)(fixed + n),
					    "FORMAT_DESCRIPTION: checksum algorithm %u",
					    f.checksum_alg);
		if (f.checksum_alg == BINLOG_CHECKSUM_UNDEF)
			f.checksum_alg = BINLOG_CHECKSUM_OFF;
	}
	if (n > 255)
		n = 255;
	f.n_post_header = (uint16_t)n;
	for (size_t i = 0; i < n; i++)
		f.post_header[i + 1] = buf[fixed + i];
	*out = f;
	return 0;
}
