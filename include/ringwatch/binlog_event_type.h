/*
 * binlog_event_type.h - the binlog event types ringwatch knows, as data.
 *
 * BINLOG_EVENT_TYPES(X) lists (name, code) once; the enum and the name table
 * are both generated from it, so they cannot drift apart.  Codes 0-42 are
 * MySQL's (42: GTID_TAGGED, MySQL 8.3+), 160-171 MariaDB's.
 */
#ifndef RINGWATCH_BINLOG_EVENT_TYPE_H
#define RINGWATCH_BINLOG_EVENT_TYPE_H

#define BINLOG_EVENT_TYPES(X)                                                                      \
	X(UNKNOWN, 0)                                                                              \
	X(START_V3, 1)                                                                             \
	X(QUERY, 2)                                                                                \
	X(STOP, 3)                                                                                 \
	X(ROTATE, 4)                                                                               \
	X(INTVAR, 5)                                                                               \
	X(LOAD, 6)                                                                                 \
	X(SLAVE, 7)                                                                                \
	X(CREATE_FILE, 8)                                                                          \
	X(APPEND_BLOCK, 9)                                                                         \
	X(EXEC_LOAD, 10)                                                                           \
	X(DELETE_FILE, 11)                                                                         \
	X(NEW_LOAD, 12)                                                                            \
	X(RAND, 13)                                                                                \
	X(USER_VAR, 14)                                                                            \
	X(FORMAT_DESCRIPTION, 15)                                                                  \
	X(XID, 16)                                                                                 \
	X(BEGIN_LOAD_QUERY, 17)                                                                    \
	X(EXECUTE_LOAD_QUERY, 18)                                                                  \
	X(TABLE_MAP, 19)                                                                           \
	X(PRE_GA_WRITE_ROWS, 20)                                                                   \
	X(PRE_GA_UPDATE_ROWS, 21)                                                                  \
	X(PRE_GA_DELETE_ROWS, 22)                                                                  \
	X(WRITE_ROWS_V1, 23)                                                                       \
	X(UPDATE_ROWS_V1, 24)                                                                      \
	X(DELETE_ROWS_V1, 25)                                                                      \
	X(INCIDENT, 26)                                                                            \
	X(HEARTBEAT, 27)                                                                           \
	X(IGNORABLE, 28)                                                                           \
	X(ROWS_QUERY, 29)                                                                          \
	X(WRITE_ROWS, 30)                                                                          \
	X(UPDATE_ROWS, 31)                                                                         \
	X(DELETE_ROWS, 32)                                                                         \
	X(GTID, 33)                                                                                \
	X(ANONYMOUS_GTID, 34)                                                                      \
	X(PREVIOUS_GTIDS, 35)                                                                      \
	X(TRANSACTION_CONTEXT, 36)                                                                 \
	X(VIEW_CHANGE, 37)                                                                         \
	X(XA_PREPARE, 38)                                                                          \
	X(PARTIAL_UPDATE_ROWS, 39)                                                                 \
	X(TRANSACTION_PAYLOAD, 40)                                                                 \
	X(HEARTBEAT_V2, 41)                                                                        \
	X(GTID_TAGGED, 42)                                                                         \
	X(ANNOTATE_ROWS, 160)                                                                      \
	X(BINLOG_CHECKPOINT, 161)                                                                  \
	X(MARIADB_GTID, 162)                                                                       \
	X(MARIADB_GTID_LIST, 163)                                                                  \
	X(START_ENCRYPTION, 164)                                                                   \
	X(QUERY_COMPRESSED, 165)                                                                   \
	X(WRITE_ROWS_COMPRESSED_V1, 166)                                                           \
	X(UPDATE_ROWS_COMPRESSED_V1, 167)                                                          \
	X(DELETE_ROWS_COMPRESSED_V1, 168)                                                          \
	X(WRITE_ROWS_COMPRESSED, 169)                                                              \
	X(UPDATE_ROWS_COMPRESSED, 170)                                                             \
	X(DELETE_ROWS_COMPRESSED, 171)

enum binlog_event_type {
#define BINLOG_EVENT_TYPE_ENUM(name, code) BINLOG_##name = code,
	BINLOG_EVENT_TYPES(BINLOG_EVENT_TYPE_ENUM)
#undef BINLOG_EVENT_TYPE_ENUM
};

/* Common-header flags that the reader acts on. */
#define BINLOG_FLAG_IN_USE     0x0001 /* FORMAT_DESCRIPTION: file not closed cleanly */
#define BINLOG_FLAG_ARTIFICIAL 0x0020 /* made up by the master, not in the binlog */
#define BINLOG_FLAG_IGNORABLE  0x0080 /* a reader that does not know the type may skip it */

/* "QUERY", "WRITE_ROWS_V1", ...; NULL for a code not in the table. */
const char *binlog_event_type_name(unsigned type);

#endif
