/*
 * probe.c - SQL probes of one master on their own thread (see probe.h).
 *
 * A round collects into a draft (growable arrays, strings malloc'd one by
 * one), then packs the draft into one block that becomes the letter: the
 * mailbox may free undelivered letters with a plain free(), so a letter
 * must not own other allocations.
 */
#include "probe.h"

#include "clock.h"
#include "config.h"
#include "mysql_conn.h"
#include "schema_snapshot.h"

#include "ringwatch/audit.h"
#include "ringwatch/rw_buf.h"

#include <errno.h>
#include <inttypes.h>
#include <mysql.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#define CONNECT_TIMEOUT   5    /* seconds */
#define WRITE_TIMEOUT     10   /* seconds */
#define READ_TIMEOUT_BASE 10   /* seconds, plus the interval */
#define BACKOFF_FIRST     0.25 /* seconds before the first reconnect */
#define BACKOFF_MAX       5.0  /* and the longest wait (never over the interval) */
#define MIN_INTERVAL      0.05

/* ------------------------------------------------------------ parsing ---- */

/*
 * The variables later checks need.  One list for MariaDB and MySQL: a name
 * the server does not have is simply absent from the answer.  sql_log_bin
 * is session-only, so not here.
 */
#define PROBE_VARIABLES                                                                            \
	"'server_id','version','read_only','log_bin','log_slave_updates',"                         \
	"'log_replica_updates','binlog_format','binlog_row_image','binlog_row_metadata',"          \
	"'binlog_checksum','gtid_domain_id','gtid_strict_mode','gtid_binlog_pos',"                 \
	"'gtid_current_pos','gtid_slave_pos','auto_increment_increment',"                          \
	"'auto_increment_offset','slave_exec_mode','replica_exec_mode','sync_binlog',"             \
	"'innodb_flush_log_at_trx_commit','max_allowed_packet','gtid_mode',"                       \
	"'enforce_gtid_consistency','server_uuid','gtid_executed','slave_skip_errors',"            \
	"'replica_skip_errors','replicate_same_server_id'"

static const char variables_query[] =
    "SHOW GLOBAL VARIABLES WHERE Variable_name IN (" PROBE_VARIABLES ")";

static const char trx_query[] = "SELECT COALESCE(MAX(TIMESTAMPDIFF(SECOND, trx_started, NOW())), "
				"0) FROM information_schema.INNODB_TRX";

enum column_type {
	COL_TEXT,     /* char array */
	COL_UINT,     /* unsigned */
	COL_U32,      /* uint32_t */
	COL_U64,      /* uint64_t */
	COL_SBM,      /* seconds_behind_master and its known flag */
	COL_GTID,     /* the malloc'd gtid_io_pos */
	COL_AUTO_POS, /* MySQL Auto_Position 0/1 into using_gtid */
};

struct link_column {
	const char *name;
	enum column_type type;
	size_t offset;
	size_t size;
};

#define FIELD(name, type, f)                                                                       \
	{                                                                                          \
		name, type, offsetof(struct probe_link, f), sizeof(((struct probe_link *)0)->f)    \
	}

/* Every column name a server may use, MariaDB and MySQL, old and new. */
static const struct link_column link_columns[] = {
	FIELD("Connection_name", COL_TEXT, connection_name),
	FIELD("Channel_Name", COL_TEXT, connection_name),
	FIELD("Master_Host", COL_TEXT, source_host),
	FIELD("Source_Host", COL_TEXT, source_host),
	FIELD("Master_Port", COL_UINT, source_port),
	FIELD("Source_Port", COL_UINT, source_port),
	FIELD("Master_Server_Id", COL_U32, source_server_id),
	FIELD("Source_Server_Id", COL_U32, source_server_id),
	FIELD("Slave_IO_Running", COL_TEXT, io_state),
	FIELD("Replica_IO_Running", COL_TEXT, io_state),
	FIELD("Slave_SQL_Running", COL_TEXT, sql_state),
	FIELD("Replica_SQL_Running", COL_TEXT, sql_state),
	FIELD("Last_IO_Errno", COL_UINT, last_io_errno),
	FIELD("Last_IO_Error", COL_TEXT, last_io_error),
	FIELD("Last_SQL_Errno", COL_UINT, last_sql_errno),
	FIELD("Last_SQL_Error", COL_TEXT, last_sql_error),
	FIELD("Seconds_Behind_Master", COL_SBM, seconds_behind_master),
	FIELD("Seconds_Behind_Source", COL_SBM, seconds_behind_master),
	FIELD("Gtid_IO_Pos", COL_GTID, gtid_io_pos),
	FIELD("Retrieved_Gtid_Set", COL_GTID, gtid_io_pos),
	FIELD("Master_Log_File", COL_TEXT, master_log_file),
	FIELD("Source_Log_File", COL_TEXT, master_log_file),
	FIELD("Read_Master_Log_Pos", COL_U64, read_master_log_pos),
	FIELD("Read_Source_Log_Pos", COL_U64, read_master_log_pos),
	FIELD("Relay_Master_Log_File", COL_TEXT, relay_master_log_file),
	FIELD("Relay_Source_Log_File", COL_TEXT, relay_master_log_file),
	FIELD("Exec_Master_Log_Pos", COL_U64, exec_master_log_pos),
	FIELD("Exec_Source_Log_Pos", COL_U64, exec_master_log_pos),
	FIELD("Using_Gtid", COL_TEXT, using_gtid),
	FIELD("Auto_Position", COL_AUTO_POS, using_gtid),
};

static const struct link_column *link_column(const char *name)
{
	for (size_t i = 0; i < sizeof(link_columns) / sizeof(link_columns[0]); i++) {
		if (strcasecmp(link_columns[i].name, name) == 0)
			return &link_columns[i];
	}
	return NULL;
}

/* A decimal number; false (and *out untouched) unless the whole text is one. */
static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = v;
	return true;
}

/* Store one column's value into l; -1 when out of memory. */
static int set_column(struct probe_link *l, const struct link_column *c, const char *v)
{
	char *field = (char *)l + c->offset;
	uint64_t n = 0;
	bool have = parse_u64(v, &n);

	switch (c->type) {
	case COL_TEXT:
		snprintf(field, c->size, "%s", v != NULL ? v : "");
		break;
	case COL_UINT:
		*(unsigned *)(void *)field = have && n <= UINT32_MAX ? (unsigned)n : 0;
		break;
	case COL_U32:
		*(uint32_t *)(void *)field = have && n <= UINT32_MAX ? (uint32_t)n : 0;
		break;
	case COL_U64:
		*(uint64_t *)(void *)field = have ? n : 0;
		break;
	case COL_SBM:
		l->seconds_behind_known = have && n <= INT64_MAX;
		l->seconds_behind_master = l->seconds_behind_known ? (int64_t)n : 0;
		break;
	case COL_GTID: {
		char *copy = strdup(v != NULL ? v : "");
		if (copy == NULL)
			return -1;
		free(l->gtid_io_pos);
		l->gtid_io_pos = copy;
		break;
	}
	case COL_AUTO_POS:
		snprintf(field, c->size, "%s", have && n != 0 ? "Yes" : "No");
		break;
	}
	return 0;
}

int probe_link_from_row(struct probe_link *l, size_t n_cols, const char *const *names,
			const char *const *values)
{
	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < n_cols; i++) {
		const struct link_column *c = names[i] != NULL ? link_column(names[i]) : NULL;

		if (c != NULL && set_column(l, c, values[i]) != 0) {
			probe_link_clear(l);
			return -1;
		}
	}
	if (l->gtid_io_pos == NULL && (l->gtid_io_pos = strdup("")) == NULL)
		return -1;
	l->io_running = strcasecmp(l->io_state, "Yes") == 0;
	l->sql_running = strcasecmp(l->sql_state, "Yes") == 0;
	return 0;
}

void probe_link_clear(struct probe_link *l)
{
	free(l->gtid_io_pos);
	l->gtid_io_pos = NULL;
}

const char *probe_link_state(const struct probe_link *l, double max_lag)
{
	if (l == NULL)
		return "unknown";
	if (!l->io_running || !l->sql_running || l->last_io_errno != 0 || l->last_sql_errno != 0)
		return "broken";
	if (!l->seconds_behind_known)
		return "unknown";
	if ((double)l->seconds_behind_master > max_lag)
		return "lagging";
	return "ok";
}

bool probe_link_last_error(const struct probe_link *l, unsigned *code, const char **message)
{
	if (l->last_sql_errno != 0) {
		*code = l->last_sql_errno;
		*message = l->last_sql_error;
		return true;
	}
	if (l->last_io_errno != 0) {
		*code = l->last_io_errno;
		*message = l->last_io_error;
		return true;
	}
	return false;
}

bool probe_is_mariadb(const char *version)
{
	return version != NULL && strstr(version, "MariaDB") != NULL;
}

const char *probe_status_query(const char *version)
{
	unsigned major = 0, minor = 0, patch = 0;

	if (probe_is_mariadb(version))
		return "SHOW ALL SLAVES STATUS";
	if (version != NULL && sscanf(version, "%u.%u.%u", &major, &minor, &patch) >= 2 &&
	    (major > 8 || (major == 8 && (minor > 0 || patch >= 22))))
		return "SHOW REPLICA STATUS";
	return "SHOW SLAVE STATUS";
}

uint32_t probe_version_number(const char *version)
{
	unsigned major = 0, minor = 0, patch = 0;

	if (version == NULL)
		return 0;
	if (strncmp(version, "5.5.5-", 6) == 0 && probe_is_mariadb(version))
		version += 6; /* the replication-era prefix of old MariaDB servers */
	if (sscanf(version, "%u.%u.%u", &major, &minor, &patch) < 2 || major > 99 || minor > 99)
		return 0;
	return (uint32_t)(major * 10000 + minor * 100 + (patch > 99 ? 99 : patch));
}

const char *probe_binlog_status_query(bool is_mariadb, uint32_t version)
{
	/* MySQL 8.2 renamed it; 8.4 dropped the old name.  MariaDB keeps it. */
	return !is_mariadb && version >= 80200 ? "SHOW BINARY LOG STATUS" : "SHOW MASTER STATUS";
}

const char *probe_variables_query(void)
{
	return variables_query;
}

void probe_result_free(struct probe_result *r)
{
	free(r);
}

const char *probe_result_var(const struct probe_result *r, const char *name)
{
	for (size_t i = 0; i < r->n_vars; i++) {
		if (strcasecmp(r->vars[i].name, name) == 0)
			return r->vars[i].value;
	}
	return NULL;
}

/* ------------------------------------------------------ draft, letter ---- */

struct draft_var {
	char *name;
	char *value;
};

struct draft_binlog {
	char *name;
	uint64_t size;
};

/* One round's findings before they are packed into a letter. */
struct draft {
	struct probe_result r; /* links, vars, binlogs: unset */
	struct probe_link *links;
	size_t n_links, cap_links;
	struct draft_var *vars;
	size_t n_vars, cap_vars;
	struct draft_binlog *binlogs;
	size_t n_binlogs, cap_binlogs;
};

static void draft_clear(struct draft *d)
{
	for (size_t i = 0; i < d->n_links; i++)
		probe_link_clear(&d->links[i]);
	for (size_t i = 0; i < d->n_vars; i++) {
		free(d->vars[i].name);
		free(d->vars[i].value);
	}
	for (size_t i = 0; i < d->n_binlogs; i++)
		free(d->binlogs[i].name);
	free(d->links);
	free(d->vars);
	free(d->binlogs);
}

/* Room for one more link; NULL when out of memory. */
static struct probe_link *draft_new_link(struct draft *d)
{
	if (rw_array_grow(&d->links, &d->cap_links, d->n_links, sizeof(*d->links), 4) < 0)
		return NULL;
	return &d->links[d->n_links];
}

static int draft_add_var(struct draft *d, const char *name, const char *value)
{
	char *n, *v;

	if (rw_array_grow(&d->vars, &d->cap_vars, d->n_vars, sizeof(*d->vars), 32) < 0)
		return -1;
	n = strdup(name);
	v = strdup(value != NULL ? value : "");
	if (n == NULL || v == NULL) {
		free(n);
		free(v);
		return -1;
	}
	d->vars[d->n_vars].name = n;
	d->vars[d->n_vars].value = v;
	d->n_vars++;
	return 0;
}

static int draft_add_binlog(struct draft *d, const char *name, uint64_t size)
{
	char *n;

	if (rw_array_grow(&d->binlogs, &d->cap_binlogs, d->n_binlogs, sizeof(*d->binlogs), 16) < 0)
		return -1;
	if ((n = strdup(name)) == NULL)
		return -1;
	d->binlogs[d->n_binlogs].name = n;
	d->binlogs[d->n_binlogs].size = size;
	d->n_binlogs++;
	return 0;
}

/* Copy s into the block's string area at *tail; returns where it went. */
static char *pack_string(char **tail, const char *s)
{
	char *at = *tail;
	size_t n = strlen(s) + 1;

	memcpy(at, s, n);
	*tail += n;
	return at;
}

/* The draft as one malloc'd letter, or NULL when out of memory. */
static struct probe_result *draft_pack(const struct draft *d)
{
	size_t size = sizeof(struct probe_result) + d->n_links * sizeof(struct probe_link) +
		      d->n_vars * sizeof(struct probe_var) +
		      d->n_binlogs * sizeof(struct probe_binlog);
	struct probe_result *r;
	char *tail;

	for (size_t i = 0; i < d->n_links; i++)
		size += strlen(d->links[i].gtid_io_pos) + 1;
	for (size_t i = 0; i < d->n_vars; i++)
		size += strlen(d->vars[i].name) + strlen(d->vars[i].value) + 2;
	for (size_t i = 0; i < d->n_binlogs; i++)
		size += strlen(d->binlogs[i].name) + 1;
	r = malloc(size);
	if (r == NULL)
		return NULL;
	*r = d->r;
	r->hdr.kind = PROBE_RESULT;
	r->hdr.size = size;
	r->links = (struct probe_link *)(r + 1);
	r->n_links = d->n_links;
	r->vars = (struct probe_var *)(r->links + d->n_links);
	r->n_vars = d->n_vars;
	r->binlogs = (struct probe_binlog *)(r->vars + d->n_vars);
	r->n_binlogs = d->n_binlogs;
	tail = (char *)(r->binlogs + d->n_binlogs);
	for (size_t i = 0; i < d->n_links; i++) {
		r->links[i] = d->links[i];
		r->links[i].gtid_io_pos = pack_string(&tail, d->links[i].gtid_io_pos);
	}
	for (size_t i = 0; i < d->n_vars; i++) {
		r->vars[i].name = pack_string(&tail, d->vars[i].name);
		r->vars[i].value = pack_string(&tail, d->vars[i].value);
	}
	for (size_t i = 0; i < d->n_binlogs; i++) {
		r->binlogs[i].name = pack_string(&tail, d->binlogs[i].name);
		r->binlogs[i].size = d->binlogs[i].size;
	}
	return r;
}

/* --------------------------------------------------------- the thread ---- */

struct probe {
	pthread_t thread;
	struct mailbox *mb;
	atomic_bool stop;
	pthread_mutex_t lock; /* guards fd; with wake, the sleep between rounds */
	pthread_cond_t wake;
	int fd; /* the connection's socket, for probe_stop(); -1 when none */

	struct mysql_conn_target target;
	size_t master_index;
	uint32_t generation;
	double interval;

	/* the thread's own */
	MYSQL *h;
	bool is_mariadb;
	char version[96];
	uint64_t round;
	unsigned connects;
	double backoff;            /* seconds before the next reconnect */
	atomic_bool schema_wanted; /* send the tables (PROBE_SCHEMA) at the next chance */
	atomic_bool schema_now;    /* and that chance is now: the next round starts at once */
};

/* The error of the last call on p->h, into the draft, with what was tried. */
static void fail(struct probe *p, struct draft *d, const char *doing)
{
	d->r.ok = false;
	d->r.err_code = mysql_errno(p->h);
	snprintf(d->r.error, sizeof(d->r.error), "%s: %s", doing, mysql_error(p->h));
}

static void disconnect(struct probe *p)
{
	if (p->h == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->fd = -1;
	pthread_mutex_unlock(&p->lock);
	mysql_close(p->h);
	p->h = NULL;
}

/* Close the connection when the error of the last call killed it. */
static void drop_if_dead(struct probe *p)
{
	if (p->h != NULL && mysql_conn_error_is_fatal(mysql_errno(p->h)))
		disconnect(p);
}

static int probe_connect(struct probe *p, struct draft *d)
{
	unsigned read_timeout = READ_TIMEOUT_BASE + (unsigned)p->interval;

	p->h = mysql_init(NULL);
	if (p->h == NULL) {
		snprintf(d->r.error, sizeof(d->r.error), "out of memory");
		return -1;
	}
	mysql_conn_set_options(p->h, &p->target, CONNECT_TIMEOUT, read_timeout, WRITE_TIMEOUT);
	if (!mysql_conn_connect(p->h, &p->target)) {
		fail(p, d, "connecting");
		mysql_close(p->h);
		p->h = NULL;
		return -1;
	}
	if (mysql_conn_tls_refusal(p->h, p->target.ssl_mode) != NULL) {
		d->r.err_code = MYSQL_CONN_TLS_ERROR;
		snprintf(d->r.error, sizeof(d->r.error), "connecting: %s",
			 mysql_conn_tls_refusal(p->h, p->target.ssl_mode));
		mysql_close(p->h);
		p->h = NULL;
		return -1;
	}
	pthread_mutex_lock(&p->lock);
	p->fd = (int)mysql_get_socket(p->h);
	pthread_mutex_unlock(&p->lock);
	if (mysql_conn_value(p->h, "SELECT @@version", p->version, sizeof(p->version)) != 0) {
		fail(p, d, "reading @@version");
		disconnect(p);
		return -1;
	}
	p->is_mariadb = probe_is_mariadb(p->version);
	p->connects++;
	return 0;
}

/* Each row of the replica status, mapped by column name. */
static int read_links(struct probe *p, struct draft *d)
{
	const char *sql = probe_status_query(p->version);
	const char *names[256];
	MYSQL_FIELD *fields;
	MYSQL_RES *res;
	MYSQL_ROW row;
	size_t n;
	int rc = 0;

	if (mysql_query(p->h, sql) != 0 || (res = mysql_store_result(p->h)) == NULL) {
		fail(p, d, sql);
		return -1;
	}
	fields = mysql_fetch_fields(res);
	n = mysql_num_fields(res);
	if (n > sizeof(names) / sizeof(names[0]))
		n = sizeof(names) / sizeof(names[0]);
	for (size_t i = 0; i < n; i++)
		names[i] = fields[i].name;
	while (rc == 0 && (row = mysql_fetch_row(res)) != NULL) {
		struct probe_link *l = draft_new_link(d);

		if (l == NULL || probe_link_from_row(l, n, names, (const char *const *)row) != 0)
			rc = -1;
		else
			d->n_links++;
	}
	mysql_free_result(res);
	if (rc != 0)
		snprintf(d->r.error, sizeof(d->r.error), "%s: out of memory", sql);
	return rc;
}

static int read_vars(struct probe *p, struct draft *d)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	int rc = 0;

	if (mysql_query(p->h, variables_query) != 0 || (res = mysql_store_result(p->h)) == NULL) {
		fail(p, d, "SHOW GLOBAL VARIABLES");
		return -1;
	}
	if (mysql_num_fields(res) < 2) {
		mysql_free_result(res);
		snprintf(d->r.error, sizeof(d->r.error),
			 "SHOW GLOBAL VARIABLES: unexpected answer");
		return -1;
	}
	while (rc == 0 && (row = mysql_fetch_row(res)) != NULL) {
		if (row[0] != NULL && draft_add_var(d, row[0], row[1]) != 0) {
			snprintf(d->r.error, sizeof(d->r.error),
				 "SHOW GLOBAL VARIABLES: out of memory");
			rc = -1;
		}
	}
	mysql_free_result(res);
	return rc;
}

/* The rows of SHOW BINARY LOGS into d, by column name; -1 with the reason in
 * d->r.binlogs_error. */
static int binlogs_from_result(MYSQL_RES *res, struct draft *d)
{
	MYSQL_FIELD *fields = mysql_fetch_fields(res);
	unsigned n = mysql_num_fields(res), name_col = n, size_col = n;
	MYSQL_ROW row;
	uint64_t size;

	for (unsigned i = 0; i < n; i++) {
		if (strcasecmp(fields[i].name, "Log_name") == 0)
			name_col = i;
		else if (strcasecmp(fields[i].name, "File_size") == 0)
			size_col = i;
	}
	if (name_col == n || size_col == n) {
		snprintf(d->r.binlogs_error, sizeof(d->r.binlogs_error),
			 "SHOW BINARY LOGS: unexpected answer");
		return -1;
	}
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (row[name_col] == NULL || !parse_u64(row[size_col], &size)) {
			snprintf(d->r.binlogs_error, sizeof(d->r.binlogs_error),
				 "SHOW BINARY LOGS: unexpected answer");
			return -1;
		}
		if (draft_add_binlog(d, row[name_col], size) != 0) {
			snprintf(d->r.binlogs_error, sizeof(d->r.binlogs_error),
				 "SHOW BINARY LOGS: out of memory");
			return -1;
		}
	}
	if (d->n_binlogs == 0) {
		snprintf(d->r.binlogs_error, sizeof(d->r.binlogs_error),
			 "SHOW BINARY LOGS: no binlog listed");
		return -1;
	}
	return 0;
}

/* Where the master's binlog ends (the files and their sizes); a failure
 * (binary logging off, a privilege missing) only leaves it unknown. */
static void read_binlogs(struct probe *p, struct draft *d)
{
	MYSQL_RES *res;
	int rc;

	if (mysql_query(p->h, "SHOW BINARY LOGS") != 0 ||
	    (res = mysql_store_result(p->h)) == NULL) {
		unsigned code = mysql_errno(p->h);
		const char *hint = "";
		if (code == 1227 || code == 1142) /* access denied */
			hint = p->is_mariadb ? " (does the user have BINLOG MONITOR?)"
					     : " (does the user have REPLICATION CLIENT?)";
		snprintf(d->r.binlogs_error, sizeof(d->r.binlogs_error), "SHOW BINARY LOGS: %s%s",
			 mysql_error(p->h), hint);
		drop_if_dead(p);
		return;
	}
	d->r.binlogs_at = clock_mono();
	rc = binlogs_from_result(res, d);
	mysql_free_result(res);
	d->r.binlogs_known = rc == 0;
	if (rc != 0) {
		for (size_t i = 0; i < d->n_binlogs; i++)
			free(d->binlogs[i].name);
		d->n_binlogs = 0;
	}
}

/* The oldest open transaction; a failure (no PROCESS privilege) only makes
 * the age unknown. */
static void read_trx_age(struct probe *p, struct draft *d)
{
	char value[32];
	char *end;

	if (mysql_conn_value(p->h, trx_query, value, sizeof(value)) != 0) {
		snprintf(d->r.trx_error, sizeof(d->r.trx_error),
			 "information_schema.INNODB_TRX: %s (does the user have PROCESS?)",
			 mysql_errno(p->h) != 0 ? mysql_error(p->h) : "no answer");
		drop_if_dead(p);
		return;
	}
	d->r.trx_age = strtod(value, &end);
	d->r.trx_age_known = end != value;
	if (!d->r.trx_age_known)
		snprintf(d->r.trx_error, sizeof(d->r.trx_error),
			 "information_schema.INNODB_TRX: unexpected answer");
}

/* The probe user's grants, joined by newlines, as the pseudo-variable
 * AUDIT_GRANTS_VAR (audit.h reads them); a failure only leaves them out. */
static void read_grants(struct probe *p, struct draft *d)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	rw_buf text = RW_BUF_INIT;

	if (mysql_query(p->h, "SHOW GRANTS FOR CURRENT_USER()") != 0 ||
	    (res = mysql_store_result(p->h)) == NULL) {
		drop_if_dead(p);
		return;
	}
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (row[0] != NULL) {
			rw_buf_puts(&text, row[0]);
			rw_buf_putc(&text, '\n');
		}
	}
	mysql_free_result(res);
	rw_buf_put(&text, "", 0);
	if (!rw_buf_failed(&text))
		(void)draft_add_var(d, AUDIT_GRANTS_VAR, text.p);
	rw_buf_free(&text);
}

/* One round into d; whether it got as far as connecting (for the backoff). */
static bool probe_round(struct probe *p, struct draft *d)
{
	memset(d, 0, sizeof(*d));
	d->r.master_index = p->master_index;
	d->r.generation = p->generation;
	d->r.round = ++p->round;
	d->r.started = clock_mono();
	if (p->h == NULL && probe_connect(p, d) != 0) {
		d->r.duration = clock_mono() - d->r.started;
		d->r.connects = p->connects;
		return false;
	}
	d->r.connects = p->connects;
	d->r.is_mariadb = p->is_mariadb;
	snprintf(d->r.version, sizeof(d->r.version), "%s", p->version);
	if (read_links(p, d) == 0 && read_vars(p, d) == 0) {
		d->r.ok = true;
		/* each of these may lose the connection: what follows is then unknown */
		read_binlogs(p, d);
		if (p->h != NULL)
			read_trx_age(p, d);
		else
			snprintf(d->r.trx_error, sizeof(d->r.trx_error),
				 "information_schema.INNODB_TRX: the connection was lost");
		if (p->h != NULL)
			read_grants(p, d);
	} else {
		drop_if_dead(p);
	}
	d->r.duration = clock_mono() - d->r.started;
	return p->h != NULL;
}

/* ---------------------------------------------------------- the tables ---- */

/* What read_schema() gathers before it becomes a letter. */
struct schema_read {
	bool ok;
	char error[256];
	char *text; /* the statements (malloc'd), when ok */
	size_t len, n_tables;
	char *sizes; /* schema_snapshot_sizes() (malloc'd), when ok */
	size_t sizes_len;
	bool has_positions;
	char positions_error[256];
	char p1_file[256], p2_file[256];
	uint64_t p1_offset, p2_offset;
	char *gtid_pos; /* malloc'd; NULL when unknown */
};

/* A copy of s without the newlines MySQL puts in a GTID set; NULL when out of memory. */
static char *gtid_copy(const char *s)
{
	char *out = strdup(s != NULL ? s : ""), *o = out;

	for (const char *c = out; out != NULL && *c != '\0'; c++) {
		if (*c != '\n' && *c != '\r')
			*o++ = *c;
	}
	if (out != NULL)
		*o = '\0';
	return out;
}

/* One row of SHOW MASTER STATUS, by column name, into file and *offset (and
 * MySQL's Executed_Gtid_Set into *gtid when gtid is not NULL). */
static int binlog_pos_from_row(MYSQL_RES *res, MYSQL_ROW row, char *file, size_t filelen,
			       uint64_t *offset, char **gtid)
{
	MYSQL_FIELD *fields = mysql_fetch_fields(res);
	unsigned n = mysql_num_fields(res);
	bool have_file = false, have_offset = false;

	for (unsigned i = 0; i < n; i++) {
		if (strcasecmp(fields[i].name, "File") == 0 && row[i] != NULL &&
		    row[i][0] != '\0') {
			snprintf(file, filelen, "%s", row[i]);
			have_file = true;
		} else if (strcasecmp(fields[i].name, "Position") == 0) {
			have_offset = parse_u64(row[i], offset);
		} else if (gtid != NULL && strcasecmp(fields[i].name, "Executed_Gtid_Set") == 0) {
			free(*gtid);
			*gtid = gtid_copy(row[i]);
		}
	}
	return have_file && have_offset ? 0 : -1;
}

/* The binlog position now (P1 or P2); -1 with the reason in r->positions_error. */
static int read_binlog_pos(struct probe *p, struct schema_read *r, char *file, size_t filelen,
			   uint64_t *offset, char **gtid)
{
	const char *sql =
	    probe_binlog_status_query(p->is_mariadb, probe_version_number(p->version));
	MYSQL_RES *res;
	MYSQL_ROW row;
	int rc = -1;

	if (mysql_query(p->h, sql) != 0 || (res = mysql_store_result(p->h)) == NULL) {
		snprintf(r->positions_error, sizeof(r->positions_error),
			 "%s: %s (does the user have %s?)", sql, mysql_error(p->h),
			 p->is_mariadb ? "BINLOG MONITOR" : "REPLICATION CLIENT");
		return -1;
	}
	if ((row = mysql_fetch_row(res)) == NULL)
		snprintf(r->positions_error, sizeof(r->positions_error),
			 "%s: no row (binary logging is off)", sql);
	else if ((rc = binlog_pos_from_row(res, row, file, filelen, offset, gtid)) != 0)
		snprintf(r->positions_error, sizeof(r->positions_error), "%s: unexpected answer",
			 sql);
	mysql_free_result(res);
	return rc;
}

/* One information_schema query, every row handed to add; -1 with r->error. */
static int snapshot_rows(MYSQL *h, const char *sql, unsigned n_cols, struct schema_snapshot *ss,
			 int (*add)(struct schema_snapshot *, const char *const *),
			 struct schema_read *r)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	int rc = 0;

	/* streamed: a large schema is never held twice */
	if (mysql_query(h, sql) != 0 || (res = mysql_use_result(h)) == NULL) {
		snprintf(r->error, sizeof(r->error), "reading information_schema: %s",
			 mysql_error(h));
		return -1;
	}
	if (mysql_num_fields(res) < n_cols) {
		snprintf(r->error, sizeof(r->error),
			 "reading information_schema: unexpected answer");
		rc = -1;
	}
	while (rc == 0 && (row = mysql_fetch_row(res)) != NULL) {
		if (add(ss, (const char *const *)row) != 0) {
			snprintf(r->error, sizeof(r->error),
				 "reading information_schema: out of memory");
			rc = -1;
		}
	}
	if (rc == 0 && mysql_errno(h) != 0) {
		snprintf(r->error, sizeof(r->error), "reading information_schema: %s",
			 mysql_error(h));
		rc = -1;
	}
	mysql_free_result(res); /* reads what is left of the rows */
	return rc;
}

/* The tables, columns and keys as statements into r->text; -1 with r->error. */
static int read_tables(struct probe *p, struct schema_read *r)
{
	uint32_t version = probe_version_number(p->version);
	struct schema_snapshot *ss = schema_snapshot_new(p->is_mariadb, version);
	int rc = -1;

	if (ss == NULL)
		snprintf(r->error, sizeof(r->error), "reading information_schema: out of memory");
	else if (snapshot_rows(p->h, schema_snapshot_tables_query(), SNAP_T_N, ss,
			       schema_snapshot_add_table, r) == 0 &&
		 snapshot_rows(p->h, schema_snapshot_columns_query(p->is_mariadb, version),
			       SNAP_C_N, ss, schema_snapshot_add_column, r) == 0 &&
		 snapshot_rows(p->h, schema_snapshot_index_query(p->is_mariadb, version), SNAP_I_N,
			       ss, schema_snapshot_add_index_part, r) == 0) {
		r->text = schema_snapshot_sql(ss, &r->len, &r->n_tables);
		r->sizes = schema_snapshot_sizes(ss, &r->sizes_len);
		if (r->text != NULL && r->sizes != NULL)
			rc = 0;
		else
			snprintf(r->error, sizeof(r->error),
				 "reading information_schema: out of memory");
	}
	schema_snapshot_free(ss);
	return rc;
}

/* MariaDB's @@gtid_binlog_pos (malloc'd), or NULL when it could not be read. */
static char *read_gtid_binlog_pos(struct probe *p)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	char *gtid = NULL;

	if (mysql_query(p->h, "SELECT @@GLOBAL.gtid_binlog_pos") != 0 ||
	    (res = mysql_store_result(p->h)) == NULL)
		return NULL;
	if ((row = mysql_fetch_row(res)) != NULL && row[0] != NULL)
		gtid = gtid_copy(row[0]);
	mysql_free_result(res);
	return gtid;
}

/* P1, the tables, MariaDB's @@gtid_binlog_pos, P2 (see struct probe_schema). */
static void read_schema_into(struct probe *p, struct schema_read *r)
{
	bool p1 = read_binlog_pos(p, r, r->p1_file, sizeof(r->p1_file), &r->p1_offset, NULL) == 0;

	drop_if_dead(p);
	if (p->h == NULL) {
		snprintf(r->error, sizeof(r->error), "reading information_schema: %s",
			 "the connection was lost");
		return;
	}
	if (read_tables(p, r) != 0) {
		drop_if_dead(p);
		return;
	}
	r->ok = true;
	if (!p1)
		return; /* no positions: r->positions_error says why */
	if (p->is_mariadb)
		r->gtid_pos = read_gtid_binlog_pos(p);
	r->has_positions = read_binlog_pos(p, r, r->p2_file, sizeof(r->p2_file), &r->p2_offset,
					   p->is_mariadb ? NULL : &r->gtid_pos) == 0;
	drop_if_dead(p);
}

/* The findings as one malloc'd PROBE_SCHEMA letter; NULL when out of memory. */
static struct probe_schema *schema_letter(const struct probe *p, const struct schema_read *r)
{
	const char *gtid = r->has_positions && r->gtid_pos != NULL ? r->gtid_pos : "";
	size_t len = r->ok ? r->len : 0;
	size_t sizes_len = r->ok ? r->sizes_len : 0;
	size_t size = sizeof(struct probe_schema) + len + 1 + strlen(gtid) + 1 + sizes_len;
	struct probe_schema *s = calloc(1, size);

	if (s == NULL)
		return NULL;
	s->hdr.kind = PROBE_SCHEMA;
	s->hdr.size = size;
	s->master_index = p->master_index;
	s->generation = p->generation;
	s->ok = r->ok;
	snprintf(s->error, sizeof(s->error), "%s", r->ok ? "" : r->error);
	s->is_mariadb = p->is_mariadb;
	s->version = probe_version_number(p->version);
	s->has_positions = r->ok && r->has_positions;
	if (s->has_positions) {
		snprintf(s->p1_file, sizeof(s->p1_file), "%s", r->p1_file);
		s->p1_offset = r->p1_offset;
		snprintf(s->p2_file, sizeof(s->p2_file), "%s", r->p2_file);
		s->p2_offset = r->p2_offset;
	} else {
		snprintf(s->positions_error, sizeof(s->positions_error), "%s",
			 r->ok ? r->positions_error : "information_schema was not read");
	}
	s->n_tables = r->ok ? r->n_tables : 0;
	s->len = len;
	if (len > 0)
		memcpy(s->text, r->text, len);
	s->text[len] = '\0';
	s->gtid_pos = s->text + len + 1;
	memcpy(s->text + len + 1, gtid, strlen(gtid) + 1);
	s->sizes = s->text + len + 1 + strlen(gtid) + 1;
	s->sizes_len = sizes_len;
	if (sizes_len > 0)
		memcpy(s->text + len + 1 + strlen(gtid) + 1, r->sizes, sizes_len);
	return s;
}

/* The tables of the master, as a PROBE_SCHEMA letter; NULL when out of memory. */
static struct probe_schema *read_schema(struct probe *p)
{
	struct schema_read r;
	struct probe_schema *s;

	memset(&r, 0, sizeof(r));
	if (p->h != NULL)
		read_schema_into(p, &r);
	else
		snprintf(r.error, sizeof(r.error), "reading information_schema: not connected");
	s = schema_letter(p, &r);
	free(r.text);
	free(r.sizes);
	free(r.gtid_pos);
	return s;
}

/* Sleep until the monotonic time t, or until probe_stop(). */
static void sleep_until(struct probe *p, double t)
{
	struct timespec ts;

	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	if (ts.tv_nsec >= 1000000000L)
		ts.tv_nsec = 999999999L;
	pthread_mutex_lock(&p->lock);
	while (!atomic_load(&p->stop) && !atomic_load(&p->schema_now) &&
	       pthread_cond_timedwait(&p->wake, &p->lock, &ts) == 0)
		;
	pthread_mutex_unlock(&p->lock);
}

/* When the next round starts, given how this one went. */
static double next_round(struct probe *p, const struct draft *d, bool connected)
{
	double wait = p->interval;

	if (connected) {
		p->backoff = BACKOFF_FIRST;
	} else {
		wait = p->backoff < wait ? p->backoff : wait;
		p->backoff = p->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : p->backoff * 2;
	}
	return d->r.started + wait;
}

static void *probe_main(void *arg)
{
	struct probe *p = arg;

	mysql_thread_init();
	while (!atomic_load(&p->stop)) {
		struct draft d;
		bool connected = probe_round(p, &d);
		double next = next_round(p, &d, connected);
		struct probe_result *r = atomic_load(&p->stop) ? NULL : draft_pack(&d);

		bool worked = r != NULL && r->ok; /* r belongs to the loop once posted */

		draft_clear(&d);
		if (r != NULL && mailbox_post(p->mb, &r->hdr) != 0)
			break; /* closed: the daemon is stopping */
		atomic_store(&p->schema_now, false);
		if (connected && worked && atomic_exchange(&p->schema_wanted, false)) {
			struct probe_schema *s = read_schema(p);
			if (s == NULL || !s->ok)
				atomic_store(&p->schema_wanted, true); /* try again next round */
			if (s != NULL && mailbox_post(p->mb, &s->hdr) != 0)
				break;
		}
		sleep_until(p, next);
	}
	disconnect(p);
	mysql_thread_end();
	return NULL;
}

static void probe_free(struct probe *p)
{
	mysql_conn_target_clear(&p->target);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static int probe_init_sync(struct probe *p)
{
	pthread_condattr_t attr;
	int rc;

	if (pthread_condattr_init(&attr) != 0)
		return -1;
	rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(&p->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (rc != 0)
		return -1;
	if (pthread_mutex_init(&p->lock, NULL) != 0) {
		pthread_cond_destroy(&p->wake);
		return -1;
	}
	return 0;
}

struct probe *probe_start(const struct config_master *m, size_t master_index, double interval,
			  struct mailbox *mb, uint32_t generation, char *err, size_t errlen)
{
	struct probe *p = calloc(1, sizeof(*p));
	int rc;

	if (p == NULL || probe_init_sync(p) != 0) {
		free(p);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (mysql_conn_target_copy(&p->target, m) != 0) {
		probe_free(p);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->fd = -1;
	p->mb = mb;
	p->master_index = master_index;
	p->generation = generation;
	p->interval = interval > MIN_INTERVAL ? interval : MIN_INTERVAL;
	p->backoff = BACKOFF_FIRST;
	atomic_store(&p->schema_wanted, true);
	rc = pthread_create(&p->thread, NULL, probe_main, p);
	if (rc != 0) {
		snprintf(err, errlen, "cannot start a thread: %s", strerror(rc));
		probe_free(p);
		return NULL;
	}
	return p;
}

void probe_stop(struct probe *p)
{
	atomic_store(&p->stop, true);
	pthread_mutex_lock(&p->lock);
	if (p->fd >= 0)
		shutdown(p->fd, SHUT_RDWR);
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
}

void probe_refresh_schema(struct probe *p)
{
	atomic_store(&p->schema_wanted, true); /* read at the end of the next round */
}

void probe_read_schema_now(struct probe *p)
{
	atomic_store(&p->schema_wanted, true);
	pthread_mutex_lock(&p->lock);
	atomic_store(&p->schema_now, true);
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
}

void probe_join(struct probe *p)
{
	pthread_join(p->thread, NULL);
	probe_free(p);
}
