/*
 * test_audit.c - the configuration audit of a ring: each check failing and
 * passing, on the variables two or three masters would show.
 */
#include "ringwatch/audit.h"

#include "../tap.h"

#include <string.h>

#define MAX_VARS 24

struct server {
	const char *names[MAX_VARS], *values[MAX_VARS];
	size_t n;
};

static void set(struct server *s, const char *name, const char *value)
{
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->names[i], name) == 0) {
			s->values[i] = value;
			return;
		}
	}
	s->names[s->n] = name;
	s->values[s->n++] = value;
}

/* A well-configured MariaDB master number i (1-based) of a ring of n. */
static void good(struct server *s, int i)
{
	static const char *const ids[] = { "0", "1", "2", "3" };

	memset(s, 0, sizeof(*s));
	set(s, "server_id", ids[i]);
	set(s, "gtid_domain_id", ids[i]);
	set(s, "auto_increment_increment", "3");
	set(s, "auto_increment_offset", ids[i]);
	set(s, "log_slave_updates", "ON");
	set(s, "binlog_format", "ROW");
	set(s, "binlog_row_image", "FULL");
	set(s, "binlog_row_metadata", "NO_LOG");
	set(s, "slave_exec_mode", "STRICT");
	set(s, "slave_skip_errors", "OFF");
	set(s, "replicate_same_server_id", "OFF");
	set(s, "binlog_checksum", "CRC32");
	set(s, "sync_binlog", "1");
	set(s, "innodb_flush_log_at_trx_commit", "1");
}

static struct server vars[3];
static audit_server servers[3];
static audit_finding found[AUDIT_MAX_FINDINGS(3)];
static size_t n_found;

static void run(size_t n)
{
	static const char *const names[] = { "west", "east", "north" };

	for (size_t i = 0; i < n; i++)
		servers[i] = (audit_server){ names[i],  true,          true,
					     vars[i].n, vars[i].names, vars[i].values };
	n_found = audit_run(servers, n, found, sizeof(found) / sizeof(found[0]));
}

/* "ok"/"FAIL severity: detail" of check on master. */
static const char *result(const char *check, const char *master)
{
	static char buf[400];

	for (size_t i = 0; i < n_found; i++) {
		if (strcmp(found[i].check, check) == 0 && strcmp(found[i].master, master) == 0) {
			snprintf(buf, sizeof(buf), "%s %s: %s", found[i].ok ? "ok" : "FAIL",
				 audit_severity_name(found[i].severity), found[i].detail);
			return buf;
		}
	}
	return "none";
}

static size_t failing(void)
{
	size_t n = 0;

	for (size_t i = 0; i < n_found; i++)
		n += !found[i].ok;
	return n;
}

int main(void)
{
	for (int i = 0; i < 3; i++)
		good(&vars[i], i + 1);
	run(3);
	is_int(failing(), 6,
	       "a well-configured ring: only the row metadata (info) and the grants not read "
	       "(warning) are said, on each master");
	ok(strncmp(result("grants", "west"),
		   "FAIL warning: ringwatch's grants on west could not be read", 58) == 0,
	   "grants that could not be read are said so, not taken as granted");
	ok(strncmp(result("binlog_row_metadata", "west"), "FAIL info", 9) == 0,
	   "binlog_row_metadata NO_LOG: info");
	ok(strncmp(result("server_id", "north"), "ok", 2) == 0, "server_id passes");
	ok(strncmp(result("auto_increment", "east"), "ok", 2) == 0, "auto_increment passes");
	ok(strncmp(result("log_slave_updates", "west"), "ok", 2) == 0, "log_slave_updates passes");

	set(&vars[2], "server_id", "1");
	run(3);
	is_str(result("server_id", "north"), "FAIL critical: server_id 1 equals west's",
	       "a server_id used twice");
	good(&vars[2], 3);

	set(&vars[1], "auto_increment_offset", "1");
	run(3);
	is_str(result("auto_increment", "east"),
	       "FAIL critical: auto_increment_offset 1 equals west's", "the same offset");
	set(&vars[1], "auto_increment_offset", "4");
	run(3);
	is_str(result("auto_increment", "east"),
	       "FAIL critical: auto_increment_offset 4 equals west's",
	       "the same offset modulo the increment");
	good(&vars[1], 2);
	for (int i = 0; i < 3; i++)
		set(&vars[i], "auto_increment_increment", "2");
	run(3);
	ok(strstr(result("auto_increment", "west"), "less than the 3 masters") != NULL,
	   "an increment smaller than the ring");
	run(2);
	ok(strncmp(result("auto_increment", "west"), "ok", 2) == 0, "enough for two masters");
	for (int i = 0; i < 3; i++)
		good(&vars[i], i + 1);

	set(&vars[0], "gtid_domain_id", "2");
	run(3);
	is_str(result("gtid_domain_id", "east"), "FAIL critical: gtid_domain_id 2 equals west's",
	       "a GTID domain used twice");
	good(&vars[0], 1);

	set(&vars[0], "log_slave_updates", "OFF");
	set(&vars[1], "binlog_format", "MIXED");
	set(&vars[2], "slave_exec_mode", "IDEMPOTENT");
	run(3);
	ok(strncmp(result("log_slave_updates", "west"), "FAIL critical", 13) == 0,
	   "log_slave_updates OFF: critical");
	ok(strncmp(result("binlog_format", "east"), "FAIL critical: binlog_format is MIXED", 37) ==
	       0,
	   "binlog_format MIXED: critical");
	ok(strncmp(result("slave_exec_mode", "north"), "FAIL critical", 13) == 0,
	   "IDEMPOTENT: critical");
	for (int i = 0; i < 3; i++)
		good(&vars[i], i + 1);

	set(&vars[0], "replica_skip_errors", "1062,1032");
	vars[0].values[9] = NULL; /* MariaDB's name absent: MySQL's read instead */
	vars[0].names[9] = "unused";
	set(&vars[1], "replicate_same_server_id", "ON");
	set(&vars[2], "binlog_row_image", "MINIMAL");
	set(&vars[2], "sync_binlog", "0");
	set(&vars[2], "binlog_checksum", "NONE");
	run(3);
	ok(strncmp(result("slave_skip_errors", "west"),
		   "FAIL critical: slave_skip_errors is 1062,1032", 45) == 0,
	   "skipped errors: critical");
	ok(strncmp(result("replicate_same_server_id", "east"), "FAIL critical", 13) == 0,
	   "replicate_same_server_id: critical");
	ok(strncmp(result("binlog_row_image", "north"), "FAIL warning", 12) == 0,
	   "binlog_row_image MINIMAL: a warning");
	ok(strncmp(result("sync_binlog", "north"), "FAIL warning", 12) == 0, "sync_binlog 0");
	ok(strncmp(result("binlog_checksum", "north"), "FAIL warning", 12) == 0,
	   "binlog_checksum NONE");
	for (int i = 0; i < 3; i++)
		good(&vars[i], i + 1);

	/* MySQL: gtid_mode alike, enforce_gtid_consistency with it */
	for (int i = 0; i < 2; i++) {
		set(&vars[i], "gtid_mode", "ON");
		set(&vars[i], "enforce_gtid_consistency", "ON");
	}
	set(&vars[1], "gtid_mode", "OFF_PERMISSIVE");
	run(2);
	servers[0].mariadb = servers[1].mariadb = false;
	n_found = audit_run(servers, 2, found, sizeof(found) / sizeof(found[0]));
	is_str(result("gtid_mode", "east"), "FAIL critical: gtid_mode OFF_PERMISSIVE, west's is ON",
	       "MySQL: gtid_mode differs");
	set(&vars[1], "gtid_mode", "ON");
	set(&vars[1], "enforce_gtid_consistency", "OFF");
	run(2);
	servers[0].mariadb = servers[1].mariadb = false;
	n_found = audit_run(servers, 2, found, sizeof(found) / sizeof(found[0]));
	ok(strncmp(result("gtid_consistency", "east"), "FAIL warning", 12) == 0,
	   "MySQL: enforce_gtid_consistency OFF with gtid_mode ON");
	ok(strcmp(result("gtid_domain_id", "west"), "none") == 0, "MySQL has no GTID domains");
	set(&vars[1], "enforce_gtid_consistency", "ON");
	run(2);
	servers[0].mariadb = servers[1].mariadb = false;
	n_found = audit_run(servers, 2, found, sizeof(found) / sizeof(found[0]));
	is_str(result("gtid_mode", ""), "ok critical: gtid_mode ON everywhere",
	       "MySQL: gtid_mode ON on both masters passes, for the ring");
	ok(strncmp(result("gtid_consistency", "east"), "ok warning", 10) == 0,
	   "MySQL: enforce_gtid_consistency ON with gtid_mode ON passes");

	/* the durability and metadata settings, failing and passing */
	for (int i = 0; i < 3; i++)
		good(&vars[i], i + 1);
	set(&vars[0], "innodb_flush_log_at_trx_commit", "2");
	set(&vars[1], "binlog_row_metadata", "FULL");
	run(3);
	ok(strncmp(result("innodb_flush_log_at_trx_commit", "west"), "FAIL warning", 12) == 0,
	   "innodb_flush_log_at_trx_commit 2: a warning");
	ok(strncmp(result("innodb_flush_log_at_trx_commit", "east"), "ok warning", 10) == 0,
	   "innodb_flush_log_at_trx_commit 1 passes");
	ok(strncmp(result("binlog_row_metadata", "east"), "ok info", 7) == 0,
	   "binlog_row_metadata FULL passes");
	ok(strncmp(result("binlog_row_metadata", "west"), "FAIL info", 9) == 0,
	   "binlog_row_metadata NO_LOG beside it: info");

	/* log_replica_updates, the newer name, read when log_slave_updates is absent */
	for (int i = 0; i < 3; i++)
		good(&vars[i], i + 1);
	for (int i = 0; i < 2; i++) {
		vars[i].names[4] = "unused"; /* log_slave_updates */
		set(&vars[i], "log_replica_updates", i == 0 ? "OFF" : "ON");
	}
	run(3);
	ok(strncmp(result("log_slave_updates", "west"), "FAIL critical", 13) == 0,
	   "log_replica_updates OFF: critical");
	ok(strncmp(result("log_slave_updates", "east"), "ok critical", 11) == 0,
	   "log_replica_updates ON passes");

	/* the grants ringwatch's own user needs */
	for (int i = 0; i < 3; i++)
		good(&vars[i], i + 1);
	set(&vars[0], AUDIT_GRANTS_VAR,
	    "GRANT REPLICATION SLAVE, BINLOG MONITOR, SLAVE MONITOR, PROCESS, SELECT ON *.* TO "
	    "`ringwatch`@`127.0.0.1` IDENTIFIED BY PASSWORD '*X'\n");
	set(&vars[1], AUDIT_GRANTS_VAR,
	    "GRANT USAGE ON *.* TO `ringwatch`@`%`\nGRANT REPLICATION SLAVE, BINLOG MONITOR, SLAVE "
	    "MONITOR ON *.* TO `ringwatch`@`%`\nGRANT SELECT ON `app`.* TO `ringwatch`@`%`\n");
	set(&vars[2], AUDIT_GRANTS_VAR, "GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost`\n");
	run(3);
	is_str(result("grants", "west"), "ok critical: ringwatch's user has what it needs",
	       "every grant ringwatch needs");
	is_str(result("grants", "east"),
	       "FAIL critical: ringwatch's user lacks PROCESS: GRANT PROCESS ON *.* TO "
	       "`ringwatch`@`%`",
	       "a missing grant, with the statement to run");
	ok(strncmp(result("grants", "north"), "ok", 2) == 0, "ALL PRIVILEGES is everything");
	set(&vars[1], AUDIT_GRANTS_VAR,
	    "GRANT REPLICATION SLAVE, REPLICATION CLIENT, PROCESS, SELECT ON *.* TO `rw`@`%`\n");
	run(2);
	ok(strncmp(result("grants", "east"), "FAIL critical: ringwatch's user lacks SLAVE MONITOR",
		   51) == 0,
	   "MariaDB wants SLAVE MONITOR for the replica status");
	servers[1].mariadb = false;
	n_found = audit_run(servers, 2, found, sizeof(found) / sizeof(found[0]));
	ok(strncmp(result("grants", "east"), "ok", 2) == 0, "MySQL's REPLICATION CLIENT is enough");

	/* a master whose variables could not be read */
	for (int i = 0; i < 3; i++)
		good(&vars[i], i + 1);
	run(3);
	servers[1].known = false;
	n_found = audit_run(servers, 3, found, sizeof(found) / sizeof(found[0]));
	ok(strncmp(result("variables", "east"), "FAIL critical: the configuration of east", 40) ==
	       0,
	   "unknown variables: critical, never passed");
	is_str(audit_severity_name(AUDIT_WARNING), "warning", "severity names");
	return tap_done();
}
