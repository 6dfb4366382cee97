/*
 * test_probe_parse.c - replica status rows are read by column name (MariaDB,
 * MySQL's new and old names), NULLs and odd values are handled, and the link
 * state and last-error rules of GET /v1/status hold, server versions read
 * as numbers.
 * No server: synthetic rows.
 */
#include "../../daemon/probe.h"

#include "../tap.h"

#include <stdlib.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* A MariaDB 10.11 SHOW ALL SLAVES STATUS row (most columns), out of the
 * usual order on purpose: parsing must not depend on positions. */
static const char *const maria_names[] = {
	"Connection_name",     "Slave_SQL_State",       "Slave_IO_State",   "Master_Host",
	"Master_User",         "Master_Port",           "Connect_Retry",    "Master_Log_File",
	"Read_Master_Log_Pos", "Relay_Log_File",        "Relay_Log_Pos",    "Relay_Master_Log_File",
	"Slave_IO_Running",    "Slave_SQL_Running",     "Last_Errno",       "Last_Error",
	"Exec_Master_Log_Pos", "Seconds_Behind_Master", "Last_IO_Errno",    "Last_IO_Error",
	"Last_SQL_Errno",      "Last_SQL_Error",        "Master_Server_Id", "Using_Gtid",
	"Gtid_IO_Pos",         "Parallel_Mode",         "SQL_Delay",        "Gtid_Slave_Pos",
};
static const char *const maria_values[] = {
	"west",
	"Slave has read all relay log; waiting for more updates",
	"Waiting for master to send event",
	"127.0.0.1",
	"repl",
	"13306",
	"1",
	"binlog.000002",
	"4711",
	"relay-bin-west.000003",
	"900",
	"binlog.000002",
	"Yes",
	"Yes",
	"0",
	"",
	"4711",
	"0",
	"0",
	"",
	"0",
	"",
	"1",
	"Slave_Pos",
	"1-1-42,2-2-7",
	"optimistic",
	"0",
	"1-1-42,2-2-7",
};

static void test_mariadb(void)
{
	struct probe_link l;

	ok(N(maria_names) == N(maria_values), "MariaDB fixture is consistent");
	is_int(probe_link_from_row(&l, N(maria_names), maria_names, maria_values), 0,
	       "MariaDB row parses");
	is_str(l.connection_name, "west", "Connection_name");
	is_str(l.source_host, "127.0.0.1", "Master_Host");
	is_int(l.source_port, 13306, "Master_Port");
	is_int(l.source_server_id, 1, "Master_Server_Id");
	is_str(l.io_state, "Yes", "Slave_IO_Running text");
	ok(l.io_running && l.sql_running, "both threads running");
	ok(l.seconds_behind_known, "Seconds_Behind_Master known");
	is_int(l.seconds_behind_master, 0, "Seconds_Behind_Master 0");
	is_str(l.gtid_io_pos, "1-1-42,2-2-7", "Gtid_IO_Pos");
	is_str(l.master_log_file, "binlog.000002", "Master_Log_File");
	is_int(l.read_master_log_pos, 4711, "Read_Master_Log_Pos");
	is_str(l.relay_master_log_file, "binlog.000002", "Relay_Master_Log_File");
	is_int(l.exec_master_log_pos, 4711, "Exec_Master_Log_Pos");
	is_str(l.using_gtid, "Slave_Pos", "Using_Gtid");
	is_str(probe_link_state(&l, 5), "ok", "a healthy link is ok");
	probe_link_clear(&l);
	ok(l.gtid_io_pos == NULL, "clear releases the GTID text");
}

/* MySQL 8.0.22+ SHOW REPLICA STATUS: the new names. */
static void test_mysql_new_names(void)
{
	const char *names[] = {
		"Replica_IO_State",      "Source_Host",           "Source_User",
		"Source_Port",           "Source_Log_File",       "Read_Source_Log_Pos",
		"Relay_Source_Log_File", "Replica_IO_Running",    "Replica_SQL_Running",
		"Exec_Source_Log_Pos",   "Seconds_Behind_Source", "Last_IO_Errno",
		"Last_IO_Error",         "Last_SQL_Errno",        "Last_SQL_Error",
		"Source_Server_Id",      "Retrieved_Gtid_Set",    "Executed_Gtid_Set",
		"Auto_Position",         "Channel_Name",
	};
	const char *values[] = {
		"Waiting for source to send event",
		"db-east.example",
		"repl",
		"3306",
		"binlog.000007",
		"157",
		"binlog.000007",
		"Yes",
		"No",
		"120",
		NULL,
		"0",
		"",
		"1062",
		"Could not execute Write_rows event on table app.t; Duplicate entry '1'",
		"2",
		"3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5",
		"3e11fa47-71ca-11e1-9e33-c80aa9429562:1-4",
		"1",
		"from_east",
	};
	struct probe_link l;
	unsigned code = 0;
	const char *msg = NULL;

	is_int(probe_link_from_row(&l, N(names), names, values), 0, "MySQL (new names) row parses");
	is_str(l.connection_name, "from_east", "Channel_Name");
	is_str(l.source_host, "db-east.example", "Source_Host");
	is_int(l.source_port, 3306, "Source_Port");
	is_int(l.source_server_id, 2, "Source_Server_Id");
	ok(l.io_running && !l.sql_running, "Replica_IO_Running / Replica_SQL_Running");
	is_str(l.sql_state, "No", "SQL state text kept");
	ok(!l.seconds_behind_known, "Seconds_Behind_Source NULL is unknown");
	is_str(l.gtid_io_pos, "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5", "Retrieved_Gtid_Set");
	is_str(l.master_log_file, "binlog.000007", "Source_Log_File");
	is_int(l.read_master_log_pos, 157, "Read_Source_Log_Pos");
	is_int(l.exec_master_log_pos, 120, "Exec_Source_Log_Pos");
	is_str(l.using_gtid, "Yes", "Auto_Position 1");
	is_int(l.last_sql_errno, 1062, "Last_SQL_Errno");
	is_str(probe_link_state(&l, 5), "broken", "a stopped SQL thread is broken");
	ok(probe_link_last_error(&l, &code, &msg), "it has a last error");
	is_int(code, 1062, "its code");
	is_str(msg, values[14], "its message");
	probe_link_clear(&l);
}

/* MySQL before 8.0.22 (SHOW SLAVE STATUS), lower-case channel column. */
static void test_mysql_old_names(void)
{
	const char *names[] = { "Slave_IO_State",     "Master_Host",
				"Master_Port",        "Slave_IO_Running",
				"Slave_SQL_Running",  "Seconds_Behind_Master",
				"Master_Server_Id",   "Auto_Position",
				"channel_name",       "Relay_Master_Log_File",
				"Exec_Master_Log_Pos" };
	const char *values[] = {
		"Connecting to master", "10.0.0.2", "3307", "Connecting", "Yes", NULL, "0", "0", "",
		"mysql-bin.000001",     "154"
	};
	struct probe_link l;

	is_int(probe_link_from_row(&l, N(names), names, values), 0, "MySQL (old names) row parses");
	is_str(l.connection_name, "", "default channel is \"\"");
	is_str(l.io_state, "Connecting", "Connecting kept as text");
	ok(!l.io_running, "Connecting is not running");
	ok(l.sql_running, "SQL thread running");
	is_str(l.using_gtid, "No", "Auto_Position 0");
	is_str(l.gtid_io_pos, "", "no GTID column: empty, not NULL");
	is_str(l.relay_master_log_file, "mysql-bin.000001", "Relay_Master_Log_File");
	is_int(l.exec_master_log_pos, 154, "Exec_Master_Log_Pos");
	is_str(probe_link_state(&l, 5), "broken", "a connecting IO thread is not running");
	probe_link_clear(&l);
}

/* Everything NULL or malformed: no crash, zeros, unknown lag. */
static void test_nulls_and_junk(void)
{
	const char *names[] = { "Master_Port",           "Master_Server_Id",
				"Seconds_Behind_Master", "Exec_Master_Log_Pos",
				"Last_SQL_Errno",        "Gtid_IO_Pos",
				"Slave_IO_Running",      NULL,
				"Connection_name" };
	const char *values[] = { "99999999999", "-1", "12abc",   NULL, "x",
				 NULL,          NULL, "ignored", NULL };
	struct probe_link l;

	is_int(probe_link_from_row(&l, N(names), names, values), 0, "NULL/junk row parses");
	is_int(l.source_port, 0, "out-of-range port is 0");
	is_int(l.source_server_id, 0, "negative server id is 0");
	ok(!l.seconds_behind_known, "junk lag is unknown");
	is_int(l.exec_master_log_pos, 0, "NULL position is 0");
	is_int(l.last_sql_errno, 0, "junk errno is 0");
	is_str(l.gtid_io_pos, "", "NULL GTID is empty");
	is_str(l.io_state, "", "NULL state is empty");
	ok(!l.io_running, "and not running");
	is_str(l.connection_name, "", "NULL name is empty");
	probe_link_clear(&l);

	is_int(probe_link_from_row(&l, 0, names, values), 0, "an empty row parses");
	is_str(probe_link_state(&l, 5), "broken", "no thread known running: broken");
	probe_link_clear(&l);
}

static void test_state_rules(void)
{
	struct probe_link l;
	unsigned code = 0;
	const char *msg = NULL;

	memset(&l, 0, sizeof(l));
	l.io_running = l.sql_running = true;
	l.seconds_behind_known = true;
	is_str(probe_link_state(NULL, 5), "unknown", "no data: unknown");
	l.seconds_behind_master = 5;
	is_str(probe_link_state(&l, 5), "ok", "lag equal to max_lag: ok");
	l.seconds_behind_master = 6;
	is_str(probe_link_state(&l, 5), "lagging", "lag over max_lag: lagging");
	l.seconds_behind_known = false;
	is_str(probe_link_state(&l, 5), "unknown", "running, lag NULL: unknown");
	l.seconds_behind_known = true;
	l.seconds_behind_master = 0;
	l.last_io_errno = 2003;
	snprintf(l.last_io_error, sizeof(l.last_io_error), "error connecting to master");
	is_str(probe_link_state(&l, 5), "broken", "an IO error code: broken");
	ok(probe_link_last_error(&l, &code, &msg) && code == 2003, "IO error reported alone");
	is_str(msg, "error connecting to master", "IO error message");
	l.last_sql_errno = 1032;
	snprintf(l.last_sql_error, sizeof(l.last_sql_error), "Can't find record");
	ok(probe_link_last_error(&l, &code, &msg) && code == 1032, "SQL error wins over IO error");
	is_str(msg, "Can't find record", "SQL error message");
	l.last_io_errno = l.last_sql_errno = 0;
	ok(!probe_link_last_error(&l, &code, &msg), "no error: none");
	l.sql_running = false;
	is_str(probe_link_state(&l, 5), "broken", "SQL thread stopped without error: broken");
	l.seconds_behind_master = 100;
	is_str(probe_link_state(&l, 5), "broken", "broken wins over lagging");
}

static void test_flavour(void)
{
	ok(probe_is_mariadb("10.11.6-MariaDB-0+deb12u1-log"), "MariaDB detected");
	ok(!probe_is_mariadb("8.0.36"), "MySQL is not MariaDB");
	ok(!probe_is_mariadb(NULL), "no version is not MariaDB");
	is_str(probe_status_query("10.11.6-MariaDB-log"), "SHOW ALL SLAVES STATUS", "MariaDB");
	is_str(probe_status_query("5.5.5-10.6.12-MariaDB"), "SHOW ALL SLAVES STATUS",
	       "MariaDB with the 5.5.5 prefix");
	is_str(probe_status_query("8.0.22"), "SHOW REPLICA STATUS", "MySQL 8.0.22");
	is_str(probe_status_query("8.0.36-0ubuntu0.22.04.1"), "SHOW REPLICA STATUS",
	       "MySQL 8.0.36");
	is_str(probe_status_query("8.4.0"), "SHOW REPLICA STATUS", "MySQL 8.4");
	is_str(probe_status_query("9.1.0"), "SHOW REPLICA STATUS", "MySQL 9");
	is_str(probe_status_query("8.0.21"), "SHOW SLAVE STATUS", "MySQL 8.0.21");
	is_str(probe_status_query("5.7.44-log"), "SHOW SLAVE STATUS", "MySQL 5.7");
	is_str(probe_status_query("garbage"), "SHOW SLAVE STATUS", "unknown: the old statement");
	ok(strstr(probe_variables_query(), "'auto_increment_offset'") != NULL &&
	       strstr(probe_variables_query(), "'gtid_mode'") != NULL &&
	       strstr(probe_variables_query(), "sql_log_bin") == NULL,
	   "the variables query lists the global variables only");
}

/* The version as the DDL parser's options take it, and the binlog position statement. */
static void test_version(void)
{
	is_int(probe_version_number("10.11.6-MariaDB-0+deb12u1-log"), 101106, "MariaDB 10.11.6");
	is_int(probe_version_number("10.6.11-MariaDB-log"), 100611, "MariaDB 10.6.11");
	is_int(probe_version_number("5.5.5-10.6.12-MariaDB"), 100612, "the 5.5.5 prefix skipped");
	is_int(probe_version_number("11.4.2-MariaDB"), 110402, "MariaDB 11.4.2");
	is_int(probe_version_number("8.0.36-0ubuntu0.22.04.1"), 80036, "MySQL 8.0.36");
	is_int(probe_version_number("5.7.44-log"), 50744, "MySQL 5.7.44");
	is_int(probe_version_number("9.1"), 90100, "no patch level");
	is_int(probe_version_number("garbage"), 0, "unknown: 0");
	is_int(probe_version_number(NULL), 0, "no version: 0");
	is_str(probe_binlog_status_query(true, 101106), "SHOW MASTER STATUS", "MariaDB");
	is_str(probe_binlog_status_query(false, 80036), "SHOW MASTER STATUS", "MySQL 8.0");
	is_str(probe_binlog_status_query(false, 80200), "SHOW BINARY LOG STATUS", "MySQL 8.2");
	is_str(probe_binlog_status_query(false, 80400), "SHOW BINARY LOG STATUS", "MySQL 8.4");
	is_str(probe_binlog_status_query(true, 110402), "SHOW MASTER STATUS", "MariaDB 11.4");
}

static void test_result_var(void)
{
	struct probe_var vars[] = { { "server_id", "2" }, { "auto_increment_offset", "2" } };
	struct probe_result r;

	memset(&r, 0, sizeof(r));
	r.vars = vars;
	r.n_vars = N(vars);
	is_str(probe_result_var(&r, "SERVER_ID"), "2", "variables by name, any case");
	is_str(probe_result_var(&r, "gtid_mode"), NULL, "an absent variable is NULL");
}

int main(void)
{
	test_mariadb();
	test_mysql_new_names();
	test_mysql_old_names();
	test_nulls_and_junk();
	test_state_rules();
	test_flavour();
	test_version();
	test_result_var();
	return tap_done();
}
