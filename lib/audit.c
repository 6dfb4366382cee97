/*
 * audit.c - the configuration audit of a ring (see audit.h, doc/audit.md).
 */
#include "ringwatch/audit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *audit_severity_name(int severity)
{
	switch (severity) {
	case AUDIT_INFO:
		return "info";
	case AUDIT_WARNING:
		return "warning";
	default:
		return "critical";
	}
}

struct run {
	audit_finding *out;
	size_t max, n;
};

static void finding(struct run *r, const char *check, const char *master, bool ok, int severity,
		    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void finding(struct run *r, const char *check, const char *master, bool ok, int severity,
		    const char *fmt, ...)
{
	audit_finding *f;
	va_list ap;

	if (r->n >= r->max)
		return;
	f = &r->out[r->n++];
	f->check = check;
	f->master = master;
	f->ok = ok;
	f->severity = severity;
	va_start(ap, fmt);
	vsnprintf(f->detail, sizeof(f->detail), fmt, ap);
	va_end(ap);
}

static const char *var(const audit_server *s, const char *name)
{
	for (size_t i = 0; i < s->n_vars; i++)
		if (strcasecmp(s->var_names[i], name) == 0)
			return s->var_values[i];
	return NULL;
}

/* The first of two names the variable goes by (MariaDB's and MySQL's), or NULL. */
static const char *var2(const audit_server *s, const char *a, const char *b)
{
	const char *v = var(s, a);

	return v != NULL ? v : var(s, b);
}

static bool is(const char *v, const char *want)
{
	return v != NULL && strcasecmp(v, want) == 0;
}

static bool on(const char *v)
{
	return is(v, "ON") || is(v, "1") || is(v, "YES") || is(v, "TRUE");
}

static long num(const char *v, long def)
{
	char *end;
	long n;

	if (v == NULL || *v == '\0')
		return def;
	n = strtol(v, &end, 10);
	return *end == '\0' ? n : def;
}

/* A ring-wide check: a value that must differ on every master. */
static void distinct(struct run *r, const audit_server *s, size_t n, const char *check,
		     const char *name, int severity)
{
	for (size_t i = 0; i < n; i++) {
		const char *v = s[i].known ? var(&s[i], name) : NULL;
		bool clash = false;
		if (v == NULL)
			continue;
		for (size_t k = 0; k < i && !clash; k++) {
			const char *w = s[k].known ? var(&s[k], name) : NULL;
			if (w != NULL && strcmp(v, w) == 0) {
				finding(r, check, s[i].name, false, severity, "%s %s equals %s's",
					name, v, s[k].name);
				clash = true;
			}
		}
		if (!clash)
			finding(r, check, s[i].name, true, severity, "%s %s", name, v);
	}
}

static void auto_increment(struct run *r, const audit_server *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		long inc, off;
		bool clash = false;
		if (!s[i].known)
			continue;
		inc = num(var(&s[i], "auto_increment_increment"), 1);
		off = num(var(&s[i], "auto_increment_offset"), 1);
		if (inc < (long)n) {
			finding(r, "auto_increment", s[i].name, false, AUDIT_CRITICAL,
				"auto_increment_increment %ld is less than the %zu masters: both "
				"masters hand out the same ids and inserts collide (1062)",
				inc, n);
			continue;
		}
		for (size_t k = 0; k < i && !clash; k++) {
			if (s[k].known &&
			    num(var(&s[k], "auto_increment_offset"), 1) % inc == off % inc) {
				finding(r, "auto_increment", s[i].name, false, AUDIT_CRITICAL,
					"auto_increment_offset %ld equals %s's", off, s[k].name);
				clash = true;
			}
		}
		if (!clash)
			finding(r, "auto_increment", s[i].name, true, AUDIT_CRITICAL,
				"auto_increment_increment %ld, offset %ld", inc, off);
	}
}

/* A variable that must have one value: critical or a warning when not. */
static void want(struct run *r, const audit_server *s, const char *check, const char *value,
		 bool good, int severity, const char *why)
{
	if (good)
		finding(r, check, s->name, true, severity, "%s", value != NULL ? value : "default");
	else
		finding(r, check, s->name, false, severity, "%s is %s: %s", check,
			value != NULL ? value : "not set", why);
}

static void per_master(struct run *r, const audit_server *s, size_t n_masters)
{
	const char *v;

	v = var2(s, "log_slave_updates", "log_replica_updates");
	want(r, s, "log_slave_updates", v, on(v), AUDIT_CRITICAL,
	     "a master's binlog then lacks what it applied from the others: a ring of more "
	     "than two stops there, and ringwatch never sees the copies that settle a write");
	v = var(s, "binlog_format");
	want(r, s, "binlog_format", v, is(v, "ROW"), AUDIT_CRITICAL,
	     "statements replayed on another master can write other rows, and ringwatch reads "
	     "rows: set binlog_format=ROW");
	v = var(s, "binlog_row_image");
	want(r, s, "binlog_row_image", v, v == NULL || is(v, "FULL"), AUDIT_WARNING,
	     "updates carry only some columns: the before-image check and the rows each master "
	     "holds are partial");
	v = var(s, "binlog_row_metadata");
	if (v != NULL)
		want(r, s, "binlog_row_metadata", v, is(v, "FULL"), AUDIT_INFO,
		     "ringwatch reads table shapes from information_schema (FULL puts names and "
		     "keys in the binlog)");
	v = var2(s, "slave_exec_mode", "replica_exec_mode");
	want(r, s, "slave_exec_mode", v, v == NULL || is(v, "STRICT"), AUDIT_CRITICAL,
	     "IDEMPOTENT skips duplicate-key and missing-row errors: rows diverge silently");
	v = var2(s, "slave_skip_errors", "replica_skip_errors");
	want(r, s, "slave_skip_errors", v, v == NULL || is(v, "OFF") || *v == '\0', AUDIT_CRITICAL,
	     "a skipped error is a silent divergence");
	v = var(s, "replicate_same_server_id");
	want(r, s, "replicate_same_server_id", v, v == NULL || !on(v), AUDIT_CRITICAL,
	     "a master applies its own writes again when they come round the ring");
	v = var(s, "binlog_checksum");
	want(r, s, "binlog_checksum", v, v == NULL || !is(v, "NONE"), AUDIT_WARNING,
	     "a damaged event is not caught in transit");
	v = var(s, "sync_binlog");
	want(r, s, "sync_binlog", v, v == NULL || num(v, 0) == 1, AUDIT_WARNING,
	     "a crash loses binlog events the other masters may already have applied");
	v = var(s, "innodb_flush_log_at_trx_commit");
	want(r, s, "innodb_flush_log_at_trx_commit", v, v == NULL || num(v, 0) == 1, AUDIT_WARNING,
	     "a crash loses commits the binlog (and the other masters) have");
	if (!s->mariadb) {
		const char *mode = var(s, "gtid_mode"), *enf = var(s, "enforce_gtid_consistency");
		if (mode != NULL && is(mode, "ON"))
			want(r, s, "gtid_consistency", enf, on(enf), AUDIT_WARNING,
			     "gtid_mode=ON wants enforce_gtid_consistency=ON");
	}
	(void)n_masters;
}

/* MySQL: gtid_mode the same on every master. */
static void gtid_mode(struct run *r, const audit_server *s, size_t n)
{
	const char *first = NULL, *first_name = NULL;

	for (size_t i = 0; i < n; i++) {
		const char *v = s[i].known && !s[i].mariadb ? var(&s[i], "gtid_mode") : NULL;
		if (v == NULL)
			continue;
		if (first == NULL) {
			first = v;
			first_name = s[i].name;
		} else if (strcasecmp(first, v) != 0) {
			finding(r, "gtid_mode", s[i].name, false, AUDIT_CRITICAL,
				"gtid_mode %s, %s's is %s", v, first_name, first);
			return;
		}
	}
	if (first != NULL)
		finding(r, "gtid_mode", "", true, AUDIT_CRITICAL, "gtid_mode %s everywhere", first);
}

/* Does a "GRANT p1, p2 ON x TO ..." line give priv (on *.* when global)? */
static bool line_grants(const char *line, size_t len, const char *priv, bool global)
{
	const char *on = NULL;
	char privs[512];
	size_t plen = strlen(priv);

	for (size_t i = 0; i + 4 <= len; i++) {
		if (strncmp(line + i, " ON ", 4) == 0) {
			on = line + i;
			break;
		}
	}
	if (on == NULL || strncmp(line, "GRANT ", 6) != 0 ||
	    (size_t)(on - line - 6) >= sizeof(privs))
		return false;
	if (global && strncmp(on + 4, "*.*", 3) != 0)
		return false;
	snprintf(privs, sizeof(privs), "%.*s", (int)(on - line - 6), line + 6);
	for (char *p = privs; *p != '\0';) {
		size_t w = strcspn(p, ",");
		while (*p == ' ')
			p++, w--;
		while (w > 0 && p[w - 1] == ' ')
			w--;
		if ((w == plen && strncasecmp(p, priv, plen) == 0) ||
		    (w == 14 && strncasecmp(p, "ALL PRIVILEGES", 14) == 0))
			return true;
		p += strcspn(p, ",");
		p += *p == ',';
	}
	return false;
}

static bool granted(const char *grants, const char *const *privs, bool global)
{
	for (const char *line = grants; *line != '\0';) {
		size_t len = strcspn(line, "\n");
		for (size_t k = 0; privs[k] != NULL; k++) {
			if (line_grants(line, len, privs[k], global))
				return true;
		}
		line += len;
		line += *line == '\n';
	}
	return false;
}

/* The privileges ringwatch's own user needs on this master. */
static void grants(struct run *r, const audit_server *s)
{
	static const char *const slave[] = { "REPLICATION SLAVE", "SUPER", NULL };
	static const char *const positions[] = { "BINLOG MONITOR", "REPLICATION CLIENT", "SUPER",
						 NULL };
	static const char *const monitor[] = { "SLAVE MONITOR", "REPLICA MONITOR", "SUPER", NULL };
	static const char *const client[] = { "REPLICATION CLIENT", "SUPER", NULL };
	static const char *const process[] = { "PROCESS", NULL };
	static const char *const select[] = { "SELECT", NULL };
	const struct {
		const char *const *privs;
		bool global;
		const char *what;
	} needs[] = {
		{ slave, true, "to read the binlog" },
		{ positions, true, "to read binlog positions" },
		{ s->mariadb ? monitor : client, true, "to read replica status" },
		{ process, true, "to see open transactions" },
		{ select, false, "to see the tables in information_schema" },
	};
	const char *g = var(s, AUDIT_GRANTS_VAR), *to;
	char missing[200] = "", user[160] = "'ringwatch'@'%'";
	size_t o = 0;

	if (g == NULL) {
		finding(r, "grants", s->name, false, AUDIT_WARNING,
			"ringwatch's grants on %s could not be read (SHOW GRANTS failed): not "
			"checked",
			s->name);
		return;
	}
	if ((to = strstr(g, " TO ")) != NULL)
		snprintf(user, sizeof(user), "%.*s", (int)strcspn(to + 4, " \n"), to + 4);
	for (size_t i = 0; i < sizeof(needs) / sizeof(needs[0]); i++) {
		if (!granted(g, needs[i].privs, needs[i].global) && o < sizeof(missing))
			o += (size_t)snprintf(missing + o, sizeof(missing) - o, "%s%s",
					      o ? ", " : "", needs[i].privs[0]);
	}
	if (o == 0)
		finding(r, "grants", s->name, true, AUDIT_CRITICAL,
			"ringwatch's user has what it needs");
	else
		finding(r, "grants", s->name, false, AUDIT_CRITICAL,
			"ringwatch's user lacks %s: GRANT %s ON *.* TO %s", missing, missing, user);
}

size_t audit_run(const audit_server *s, size_t n, audit_finding *out, size_t max)
{
	struct run r = { out, max, 0 };
	bool mariadb = false;

	for (size_t i = 0; i < n; i++) {
		if (!s[i].known) {
			finding(&r, "variables", s[i].name, false, AUDIT_CRITICAL,
				"the configuration of %s could not be read (its SQL probe fails)",
				s[i].name);
			continue;
		}
		mariadb = mariadb || s[i].mariadb;
	}
	distinct(&r, s, n, "server_id", "server_id", AUDIT_CRITICAL);
	auto_increment(&r, s, n);
	if (mariadb)
		distinct(&r, s, n, "gtid_domain_id", "gtid_domain_id", AUDIT_CRITICAL);
	gtid_mode(&r, s, n);
	for (size_t i = 0; i < n; i++) {
		if (s[i].known) {
			per_master(&r, &s[i], n);
			grants(&r, &s[i]);
		}
	}
	return r.n;
}
