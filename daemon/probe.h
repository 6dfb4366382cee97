/*
 * probe.h - SQL probes: what each master says about its replication links
 * into it, its server variables and its oldest open transaction.
 *
 * One probe thread per master keeps a client connection (reconnecting after
 * a failure with a short backoff) and, every interval seconds, runs the
 * replica status query of the server's flavour, one SHOW GLOBAL VARIABLES,
 * SHOW BINARY LOGS (where the master's binlog ends, for catchup.h) and an
 * information_schema.INNODB_TRX query.  Each round posts its
 * findings to the mailbox as a struct probe_result letter (none when the
 * thread is stopping or out of memory): the event loop never blocks on a
 * server.  When the tables were asked for (at the start, through
 * probe_refresh_schema() and probe_read_schema_now()), a round that worked
 * posts a second letter after it, a struct probe_schema (kind PROBE_SCHEMA)
 * with the master's tables as SQL, or why they could not be read.  So one
 * round posts one or two letters.  The thread shares nothing with the loop
 * but the mailbox and its flags.
 *
 * The parsing is separate from the I/O: probe_link_from_row() and
 * probe_link_state() take plain arrays and structs, and schema_snapshot.h
 * turns information_schema rows into SQL, so they are unit-tested without
 * a server.
 */
#ifndef RINGWATCHD_PROBE_H
#define RINGWATCHD_PROBE_H

#include "mailbox.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config_master;

/* The struct mail kind of a probe letter; distinct from the replica
 * letters' kinds, so one mailbox may carry both. */
#define PROBE_RESULT 0x50524f42 /* "PROB" */
#define PROBE_SCHEMA 0x53434845 /* "SCHE" */

/*
 * The tables of a master, as SQL: sent after the first round that works and
 * after probe_refresh_schema(), once that round is over.
 *
 * text holds one "CREATE TABLE `schema`.`table` (...);" statement per base
 * table outside the system schemas (MariaDB's system-versioned tables
 * included; views, sequences and temporary tables not), built from
 * information_schema by schema_snapshot.h, which says what the statements
 * hold.  Read it with schema_apply_script(), giving it
 * ddl_options { is_mariadb, version }.
 *
 * The positions say when the tables were read: P1 is the master's binlog
 * position (SHOW MASTER STATUS, or SHOW BINARY LOG STATUS on MySQL 8.2+)
 * just before information_schema was read, P2 just after.  A table change
 * in the binlog before P1 is in text, one from P2 on is not, one between
 * may or may not be.  gtid_pos is, on MariaDB, @@gtid_binlog_pos read after
 * information_schema and before P2; on MySQL the Executed_Gtid_Set of P2's
 * statement: no transaction outside it is reflected in text.
 *
 * One malloc'd block: text and gtid_pos point inside it, free() releases it.
 */
struct probe_schema {
	struct mail hdr; /* kind PROBE_SCHEMA */
	size_t master_index;
	uint32_t generation;
	bool ok;          /* information_schema was read; else error says why */
	char error[256];  /* "" when ok */
	bool is_mariadb;  /* the server's flavour and version, for ddl_options */
	uint32_t version; /* as 100611 or 80036 (probe_version_number()); 0 unknown */

	bool has_positions;        /* P1 and P2 were read (binary logging on, privilege held) */
	char positions_error[256]; /* when !has_positions: why */
	char p1_file[256];         /* P1: binlog file and offset, before the read */
	uint64_t p1_offset;
	char p2_file[256]; /* P2: after it */
	uint64_t p2_offset;
	const char *gtid_pos; /* inside the block; "" when unknown or !has_positions */
	const char *sizes;    /* inside the block: schema_snapshot_sizes() */
	size_t sizes_len;

	size_t n_tables; /* statements in text */
	size_t len;      /* of text; 0 when !ok */
	char text[];     /* len bytes and a NUL */
};

/*
 * One replication link into the probed master: a row of SHOW ALL SLAVES
 * STATUS (MariaDB) or SHOW REPLICA|SLAVE STATUS (MySQL), whichever column
 * names the server uses.  Text fields are NUL-terminated and truncated to
 * fit; "" when the server did not give the column.
 */
struct probe_link {
	char connection_name[72];  /* MariaDB Connection_name, MySQL Channel_Name; "" = default */
	char source_host[256];     /* Master_Host / Source_Host */
	unsigned source_port;      /* Master_Port / Source_Port; 0 unknown */
	uint32_t source_server_id; /* Master_Server_Id / Source_Server_Id; 0 unknown */
	char io_state[16];         /* Slave_IO_Running: "Yes", "No", "Connecting" */
	bool io_running;           /* io_state is "Yes" */
	char sql_state[16];        /* Slave_SQL_Running: "Yes", "No" */
	bool sql_running;          /* sql_state is "Yes" */
	unsigned last_io_errno;
	char last_io_error[1024];
	unsigned last_sql_errno;
	char last_sql_error[1024];
	bool seconds_behind_known;       /* false when the server said NULL */
	int64_t seconds_behind_master;   /* Seconds_Behind_Master / _Source */
	char *gtid_io_pos;               /* Gtid_IO_Pos / Retrieved_Gtid_Set; never NULL */
	char master_log_file[256];       /* Master_Log_File / Source_Log_File */
	uint64_t read_master_log_pos;    /* Read_Master_Log_Pos / Read_Source_Log_Pos */
	char relay_master_log_file[256]; /* Relay_Master_Log_File / Relay_Source_Log_File */
	uint64_t exec_master_log_pos;    /* Exec_Master_Log_Pos / Exec_Source_Log_Pos */
	char using_gtid[32];             /* MariaDB Using_Gtid ("No", "Slave_Pos", "Current_Pos");
				MySQL Auto_Position as "Yes"/"No" */
};

/* One binlog file of the probed master, as SHOW BINARY LOGS lists it. */
struct probe_binlog {
	const char *name; /* Log_name */
	uint64_t size;    /* File_size; of the last (current) file: where the binlog ends */
};

/* One server variable, as SHOW GLOBAL VARIABLES printed it. */
struct probe_var {
	const char *name;
	const char *value; /* never NULL */
};

/*
 * The letter of each round (a round may add a struct probe_schema after
 * it).  A single malloc'd block (pointers point inside it), so free() or
 * probe_result_free() releases all of it, and hdr.size is its real size.
 */
struct probe_result {
	struct mail hdr;     /* kind PROBE_RESULT */
	size_t master_index; /* as given to probe_start() */
	uint32_t generation; /* as given to probe_start() */
	uint64_t round;      /* 1, 2, ... per probe thread */
	double started;      /* CLOCK_MONOTONIC seconds at the round's start */
	double duration;     /* seconds the round took */
	unsigned connects;   /* successful connections so far, this one included */

	bool ok;           /* the round ran: connected, status and variables read */
	unsigned err_code; /* when !ok: server error or client CR_ code, 0 if none */
	char error[512];   /* when !ok: why (never a secret) */

	bool is_mariadb;  /* when ok */
	char version[96]; /* @@version, when ok */

	struct probe_link *links; /* n_links, in the server's order */
	size_t n_links;
	struct probe_var *vars; /* n_vars, in the server's order */
	size_t n_vars;

	/*
	 * The master's binlogs (SHOW BINARY LOGS, read after the variables, so
	 * the gtid_binlog_pos among them is at or before their end), oldest
	 * first.  Unknown, with why, when binary logging is off or the user
	 * lacks BINLOG MONITOR (MariaDB) or REPLICATION CLIENT (MySQL); that
	 * does not fail the round.
	 */
	bool binlogs_known;
	char binlogs_error[256]; /* when !binlogs_known and ok: why */
	double binlogs_at;       /* CLOCK_MONOTONIC seconds their answer came */
	struct probe_binlog *binlogs;
	size_t n_binlogs;

	bool trx_age_known;  /* the INNODB_TRX query worked */
	double trx_age;      /* seconds; the oldest open transaction, 0 if none */
	char trx_error[256]; /* when !trx_age_known: why */
};

/* Release a letter the loop received (the free_fn of probe letters). */
void probe_result_free(struct probe_result *r);

/* The value of variable name in r (case-insensitive), or NULL if absent. */
const char *probe_result_var(const struct probe_result *r, const char *name);

/* Whether @@version names a MariaDB server. */
bool probe_is_mariadb(const char *version);

/*
 * The replica status statement for a server: "SHOW ALL SLAVES STATUS" on
 * MariaDB, "SHOW REPLICA STATUS" on MySQL 8.0.22 and later, "SHOW SLAVE
 * STATUS" before.
 */
const char *probe_status_query(const char *version);

/*
 * A server version as one number, major * 10000 + minor * 100 + patch:
 * 100611 for "10.6.11-MariaDB-log", 80036 for "8.0.36"; 0 when version does
 * not start with one.  The form ddl_options.version takes.
 */
uint32_t probe_version_number(const char *version);

/* The statement giving the binlog position: "SHOW BINARY LOG STATUS" on
 * MySQL 8.2 and later, "SHOW MASTER STATUS" elsewhere. */
const char *probe_binlog_status_query(bool is_mariadb, uint32_t version);

/* The SHOW GLOBAL VARIABLES statement listing every variable a probe
 * collects (a static string). */
const char *probe_variables_query(void);

/*
 * Fill l from one row of a replica status result, by column name (old and
 * new MySQL names, MariaDB names; case-insensitive; unknown columns are
 * ignored).  values[i] is NULL for SQL NULL.  l->gtid_io_pos is strdup'd:
 * release it with probe_link_clear().  Returns 0, or -1 when out of memory
 * (l then holds no allocation).
 */
int probe_link_from_row(struct probe_link *l, size_t n_cols, const char *const *names,
			const char *const *values) __attribute__((warn_unused_result));

/* Free what probe_link_from_row() allocated in l. */
void probe_link_clear(struct probe_link *l);

/*
 * The state of a link as /v1/status names it: "unknown" when l is NULL (no
 * data, e.g. the last probe of its replica failed); "broken" when a thread
 * is not running or an error code is set; "unknown" when
 * Seconds_Behind_Master is NULL; "lagging" when it is over max_lag;
 * otherwise "ok".
 */
const char *probe_link_state(const struct probe_link *l, double max_lag);

/*
 * A link's last error as /v1/status gives it: false when none; else sets
 * *code and *message (pointing into l).  The SQL thread's error wins over
 * the IO thread's when both are set.
 */
bool probe_link_last_error(const struct probe_link *l, unsigned *code, const char **message);

struct probe;

/*
 * Start the probe thread of master m (its settings are copied), posting one
 * struct probe_result a round to mb: the first round at once, then every
 * interval seconds (cfg->probe_interval; at least 0.05).  master_index and
 * generation are copied into every letter so the loop can tell masters and
 * configurations apart.  NULL (with a reason in err) if the thread could not
 * be started; connection failures arrive as letters with ok false, and the
 * next attempt follows after 0.25 s, then 0.5, 1, ... up to 5 s (never more
 * than interval).  mysql_library_init() must have run before (main thread).
 */
struct probe *probe_start(const struct config_master *m, size_t master_index, double interval,
			  struct mailbox *mb, uint32_t generation, char *err, size_t errlen);

/*
 * Ask the thread to end (loop thread; returns at once).  A query in progress
 * is cut short by shutting the socket down; a connection attempt may take up
 * to its 5 s timeout.  The thread posts nothing once it has seen the request,
 * but a letter posted just before may still be queued: the loop tells stale
 * letters by their generation.
 */
void probe_stop(struct probe *p);

/* Ask for the master's tables again (after DDL): a PROBE_SCHEMA letter
 * follows the next round that works; any thread. */
void probe_refresh_schema(struct probe *p);

/* The same, without waiting for the next round: a stream waits for it. */
void probe_read_schema_now(struct probe *p);

/* Wait for the thread to end and free p.  Call after probe_stop(); if the
 * thread may be blocked posting, close the mailbox first. */
void probe_join(struct probe *p);

#endif
