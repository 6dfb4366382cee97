/*
 * config.c - reading and validating ringwatchd.conf.
 *
 * inih does the INI syntax.  Every key is one row of a table (section, name,
 * type, target, default); defaults go through the same setters
 * as values from the file, so a default can never be invalid.  inih is fed
 * through our own line reader, which counts lines (inih only reports them on
 * syntax errors) and sees section headers even when a section has no keys.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#define SECRET_MAX 4096
#define PEM_MAX    (1024 * 1024)

enum section_kind {
	SEC_NONE,
	SEC_DAEMON,
	SEC_MASTER,
	SEC_GATE,
	SEC_VERIFY,
	SEC_ALERTS,
};

enum key_type {
	T_STRING,    /* non-empty string */
	T_OPTSTRING, /* string; empty means unset */
	T_PATH,      /* non-empty path, relative to the file's directory */
	T_OPTPATH,   /* path; empty means unset */
	T_SECRET,    /* string never echoed in errors */
	T_PORT,
	T_SERVER_ID,
	T_COUNT,   /* unsigned integer, 0 allowed */
	T_SECONDS, /* positive number of seconds */
	T_LISTEN,
	T_SSL_MODE,
	T_URL,  /* http(s) URL; empty means unset */
	T_URLS, /* comma-separated http(s) URLs; empty means unset */
	T_LOG_LEVEL,
	T_SWITCH,   /* true or false; empty means the default */
	T_SCHEDULE, /* "", daily, hourly, weekly, or a duration (3600, 30m, 24h, 7d): seconds */
};

struct key_def {
	enum section_kind section;
	const char *name;
	enum key_type type;
	size_t offset;   /* into struct config, or struct config_master */
	const char *def; /* default as it would be written in the file, or NULL */
};

#define CFG(field) offsetof(struct config, field)
#define MST(field) offsetof(struct config_master, field)

static const struct key_def key_table[] = {
	{ SEC_DAEMON, "listen", T_LISTEN, CFG(listen), "127.0.0.1:9477" },
	{ SEC_DAEMON, "state_dir", T_PATH, CFG(state_dir), "/var/lib/ringwatch" },
	{ SEC_DAEMON, "server_id", T_SERVER_ID, CFG(server_id), "4242001" },
	{ SEC_DAEMON, "auth_token_file", T_OPTPATH, CFG(auth_token_file), NULL },
	{ SEC_DAEMON, "basic_auth_file", T_OPTPATH, CFG(basic_auth_file), NULL },
	{ SEC_DAEMON, "log_level", T_LOG_LEVEL, CFG(log_level), "info" },
	{ SEC_DAEMON, "probe_interval", T_SECONDS, CFG(probe_interval), "2" },
	{ SEC_DAEMON, "max_tracked_writes", T_COUNT, CFG(max_tracked_writes), "1000000" },
	{ SEC_DAEMON, "ring_name", T_STRING, CFG(ring_name), "ring" },
	{ SEC_DAEMON, "tls_cert_file", T_OPTPATH, CFG(tls_cert_file), NULL },
	{ SEC_DAEMON, "tls_key_file", T_OPTPATH, CFG(tls_key_file), NULL },
	{ SEC_DAEMON, "protect_rows", T_SWITCH, CFG(protect_rows), NULL },

	{ SEC_MASTER, "host", T_STRING, MST(host), NULL },
	{ SEC_MASTER, "port", T_PORT, MST(port), "3306" },
	{ SEC_MASTER, "socket", T_PATH, MST(socket), NULL },
	{ SEC_MASTER, "user", T_STRING, MST(user), NULL },
	{ SEC_MASTER, "password", T_SECRET, MST(password), NULL },
	{ SEC_MASTER, "password_file", T_PATH, MST(password_file), NULL },
	{ SEC_MASTER, "ssl_mode", T_SSL_MODE, MST(ssl_mode), "preferred" },
	{ SEC_MASTER, "ssl_ca", T_OPTPATH, MST(ssl_ca), NULL },
	{ SEC_MASTER, "ssl_cert", T_OPTPATH, MST(ssl_cert), NULL },
	{ SEC_MASTER, "ssl_key", T_OPTPATH, MST(ssl_key), NULL },

	{ SEC_GATE, "max_lag", T_SECONDS, CFG(gate_max_lag), "5" },
	{ SEC_GATE, "max_trx_age", T_SECONDS, CFG(gate_max_trx_age), "60" },
	{ SEC_GATE, "max_open_conflicts", T_COUNT, CFG(gate_max_open_conflicts), "0" },
	{ SEC_GATE, "ddl_replication_timeout", T_SECONDS, CFG(gate_ddl_replication_timeout), "30" },

	{ SEC_VERIFY, "schedule", T_SCHEDULE, CFG(verify_schedule), NULL },
	{ SEC_VERIFY, "chunk_time", T_SECONDS, CFG(verify_chunk_time), "0.5" },
	{ SEC_VERIFY, "max_load", T_COUNT, CFG(verify_max_load), "25" },

	{ SEC_ALERTS, "alertmanager_url", T_URLS, CFG(alertmanager_url), NULL },
	{ SEC_ALERTS, "webhook_url", T_URL, CFG(webhook_url), NULL },
	{ SEC_ALERTS, "webhook_secret_file", T_OPTPATH, CFG(webhook_secret_file), NULL },
	{ SEC_ALERTS, "instance", T_OPTSTRING, CFG(alert_instance), NULL },
};

#define N_KEYS (sizeof(key_table) / sizeof(key_table[0]))

static const char *const ssl_mode_names[] = {
	[CONFIG_SSL_DISABLED] = "disabled",
	[CONFIG_SSL_PREFERRED] = "preferred",
	[CONFIG_SSL_REQUIRED] = "required",
	[CONFIG_SSL_VERIFY_CA] = "verify_ca",
	[CONFIG_SSL_VERIFY_IDENTITY] = "verify_identity",
};

static const struct {
	const char *name;
	int level;
} log_levels[] = {
	{ "error", LOG_ERR }, { "warning", LOG_WARNING }, { "notice", LOG_NOTICE },
	{ "info", LOG_INFO }, { "debug", LOG_DEBUG },
};

/* Where a key was set, to report duplicates and to point post-checks at a line. */
struct key_seen {
	size_t section_index; /* 0: a global section; i + 1: masters[i] */
	const struct key_def *def;
	unsigned line;
};

struct parse_ctx {
	struct config *cfg;
	struct config_error *err;
	const char *name;
	char *basedir;
	bool failed;

	/* line reader state */
	FILE *fp;
	const char *text;
	size_t text_pos;
	unsigned line;

	/* current section */
	enum section_kind section;
	size_t master_index;
	unsigned section_line[SEC_ALERTS + 1];

	struct key_seen *seen;
	size_t n_seen;
};

static void set_error(struct parse_ctx *ctx, unsigned line, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void set_error(struct parse_ctx *ctx, unsigned line, const char *key, const char *fmt, ...)
{
	struct config_error *err = ctx->err;
	va_list ap;

	if (ctx->failed)
		return;
	ctx->failed = true;
	if (err == NULL)
		return;
	snprintf(err->file, sizeof(err->file), "%s", ctx->name);
	err->line = line;
	snprintf(err->key, sizeof(err->key), "%s", key);
	va_start(ap, fmt);
	vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
	va_end(ap);
	snprintf(err->message, sizeof(err->message), "%s:%u: %s: %s", err->file, line, err->key,
		 err->reason);
}

static char *path_join(const char *base, const char *path)
{
	size_t n;
	char *out;

	if (path[0] == '/' || base == NULL)
		return strdup(path);
	n = strlen(base) + strlen(path) + 2;
	out = malloc(n);
	if (out != NULL)
		snprintf(out, n, "%s/%s", base, path);
	return out;
}

static char *dir_of(const char *name)
{
	const char *slash = strrchr(name, '/');
	char *dir;
	char *abs;

	if (slash == NULL)
		dir = strdup(".");
	else if (slash == name)
		dir = strdup("/");
	else
		dir = strndup(name, (size_t)(slash - name));
	if (dir == NULL)
		return NULL;
	abs = realpath(dir, NULL);
	if (abs == NULL)
		return dir;
	free(dir);
	return abs;
}

/* ---- values ---------------------------------------------------------------- */

static bool parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return false;
	*out = v;
	return true;
}

static bool parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	if ((*s < '0' || *s > '9') && *s != '.')
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(v) || v <= 0 || v > 86400.0 * 365)
		return false;
	*out = v;
	return true;
}

/*
 * "HOST:PORT" or "[V6]:PORT".  Returns an error text, or NULL when valid.
 */
static const char *parse_listen(const char *s, char **host, unsigned *port)
{
	const char *colon;
	const char *h = s;
	size_t hlen;
	unsigned long long p;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || close[1] != ':')
			return "expected [ADDRESS]:PORT";
		h = s + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return "expected ADDRESS:PORT";
		if (memchr(s, ':', (size_t)(colon - s)) != NULL)
			return "an IPv6 address goes in brackets: [ADDRESS]:PORT";
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0)
		return "the address is empty (use 0.0.0.0 or [::] to listen everywhere)";
	if (!parse_uint(colon + 1, 65535, &p))
		return "the port is not a number from 0 to 65535";
	*host = strndup(h, hlen);
	if (*host == NULL)
		return "out of memory";
	*port = (unsigned)p;
	return NULL;
}

/* A [verify] schedule: "" (none: 0), a name, or a duration with an s/m/h/d unit. */
static bool parse_schedule(const char *s, double *out)
{
	static const struct {
		const char *name;
		double seconds;
	} names[] = { { "hourly", 3600 }, { "daily", 86400 }, { "weekly", 7 * 86400 } };
	char *end;
	double v;

	if (*s == '\0') {
		*out = 0;
		return true;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(s, names[i].name) == 0) {
			*out = names[i].seconds;
			return true;
		}
	}
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || !isfinite(v) || v <= 0)
		return false;
	if (strcmp(end, "m") == 0)
		v *= 60;
	else if (strcmp(end, "h") == 0)
		v *= 3600;
	else if (strcmp(end, "d") == 0)
		v *= 86400;
	else if (*end != '\0' && strcmp(end, "s") != 0)
		return false;
	if (v < 60 || v > 86400.0 * 365)
		return false;
	*out = v;
	return true;
}

static bool valid_url(const char *s)
{
	const char *rest;

	if (strncmp(s, "http://", 7) == 0)
		rest = s + 7;
	else if (strncmp(s, "https://", 8) == 0)
		rest = s + 8;
	else
		return false;
	if (*rest == '\0' || *rest == '/')
		return false;
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return false;
	}
	return true;
}

/* Each item of a comma-separated list of URLs (spaces around the commas allowed). */
static bool valid_urls(const char *s)
{
	char item[2048];

	while (*s != '\0') {
		size_t n = strcspn(s, ",");
		const char *start = s;
		while (n > 0 && *start == ' ')
			start++, n--;
		while (n > 0 && start[n - 1] == ' ')
			n--;
		if (n == 0 || n >= sizeof(item))
			return false;
		memcpy(item, start, n);
		item[n] = '\0';
		if (!valid_url(item))
			return false;
		s = start + strcspn(start, ",");
		if (*s == ',')
			s++;
	}
	return true;
}

static bool replace_string(char **slot, char *value)
{
	if (value == NULL)
		return false;
	free(*slot);
	*slot = value;
	return true;
}

/* Apply one value to its target; on failure, set the error naming key and line. */
static void set_value(struct parse_ctx *ctx, void *base, const struct key_def *def,
		      const char *value, unsigned line)
{
	void *target = (char *)base + def->offset;
	unsigned long long n;
	size_t i;

	switch (def->type) {
	case T_STRING:
	case T_SECRET:
		if (*value == '\0') {
			set_error(ctx, line, def->name, "must not be empty");
			return;
		}
		if (!replace_string(target, strdup(value)))
			set_error(ctx, line, def->name, "out of memory");
		return;
	case T_OPTSTRING:
		if (!replace_string(target, strdup(value)))
			set_error(ctx, line, def->name, "out of memory");
		return;
	case T_PATH:
	case T_OPTPATH:
		if (*value == '\0') {
			if (def->type == T_PATH)
				set_error(ctx, line, def->name, "must not be empty");
			free(*(char **)target);
			*(char **)target = NULL;
			return;
		}
		if (!replace_string(target, path_join(ctx->basedir, value)))
			set_error(ctx, line, def->name, "out of memory");
		return;
	case T_PORT:
		if (!parse_uint(value, 65535, &n) || n == 0)
			set_error(ctx, line, def->name, "'%s' is not a port number (1-65535)",
				  value);
		else
			*(unsigned *)target = (unsigned)n;
		return;
	case T_SERVER_ID:
		if (!parse_uint(value, UINT32_MAX, &n) || n == 0)
			set_error(ctx, line, def->name, "'%s' is not a server_id (1-4294967295)",
				  value);
		else
			*(uint32_t *)target = (uint32_t)n;
		return;
	case T_COUNT:
		if (!parse_uint(value, UINT_MAX, &n))
			set_error(ctx, line, def->name, "'%s' is not a whole number", value);
		else
			*(unsigned *)target = (unsigned)n;
		return;
	case T_SECONDS:
		if (!parse_seconds(value, (double *)target))
			set_error(ctx, line, def->name, "'%s' is not a positive number of seconds",
				  value);
		return;
	case T_LISTEN: {
		char *host = NULL;
		unsigned port = 0;
		const char *why = parse_listen(value, &host, &port);
		if (why != NULL) {
			set_error(ctx, line, def->name, "'%s': %s", value, why);
			return;
		}
		replace_string(&ctx->cfg->listen_host, host);
		ctx->cfg->listen_port = port;
		if (!replace_string(target, strdup(value)))
			set_error(ctx, line, def->name, "out of memory");
		return;
	}
	case T_SSL_MODE:
		for (i = 0; i < sizeof(ssl_mode_names) / sizeof(ssl_mode_names[0]); i++) {
			if (strcasecmp(value, ssl_mode_names[i]) == 0) {
				*(enum config_ssl_mode *)target = (enum config_ssl_mode)i;
				return;
			}
		}
		set_error(ctx, line, def->name,
			  "'%s' is not one of disabled, preferred, required, verify_ca, "
			  "verify_identity",
			  value);
		return;
	case T_URL:
	case T_URLS:
		if (*value == '\0') {
			free(*(char **)target);
			*(char **)target = NULL;
			return;
		}
		if (def->type == T_URL ? !valid_url(value) : !valid_urls(value))
			set_error(ctx, line, def->name, "'%s' is not an http:// or https:// URL%s",
				  value, def->type == T_URL ? "" : " (or a comma-separated list)");
		else if (!replace_string(target, strdup(value)))
			set_error(ctx, line, def->name, "out of memory");
		return;
	case T_LOG_LEVEL:
		for (i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++) {
			if (strcasecmp(value, log_levels[i].name) == 0) {
				*(int *)target = log_levels[i].level;
				return;
			}
		}
		set_error(ctx, line, def->name,
			  "'%s' is not one of error, warning, notice, info, debug", value);
		return;
	case T_SWITCH:
		if (*value == '\0')
			*(enum config_switch *)target = CONFIG_AUTO;
		else if (strcasecmp(value, "true") == 0)
			*(enum config_switch *)target = CONFIG_ON;
		else if (strcasecmp(value, "false") == 0)
			*(enum config_switch *)target = CONFIG_OFF;
		else
			set_error(ctx, line, def->name, "'%s' is not true or false", value);
		return;
	case T_SCHEDULE:
		if (!parse_schedule(value, (double *)target))
			set_error(ctx, line, def->name,
				  "'%s' is not hourly, daily, weekly or a duration of at least a "
				  "minute (3600, 30m, 24h, 7d)",
				  value);
		return;
	}
}

static void apply_defaults(struct parse_ctx *ctx, enum section_kind section, void *base)
{
	size_t i;

	for (i = 0; i < N_KEYS; i++) {
		if (key_table[i].section == section && key_table[i].def != NULL)
			set_value(ctx, base, &key_table[i], key_table[i].def, 0);
	}
}

/* ---- sections -------------------------------------------------------------- */

static bool valid_master_name(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return false;
	}
	return true;
}

static void open_master(struct parse_ctx *ctx, const char *name)
{
	struct config *cfg = ctx->cfg;
	struct config_master *m;
	struct config_master *grown;
	size_t i;

	if (!valid_master_name(name)) {
		set_error(ctx, ctx->line, "master",
			  "'%s' is not a master name (letters, digits, '_' and '-')", name);
		return;
	}
	for (i = 0; i < cfg->n_masters; i++) {
		if (strcmp(cfg->masters[i].name, name) == 0) {
			set_error(ctx, ctx->line, "master",
				  "[master.%s] appears twice (first on line %u)", name,
				  cfg->masters[i].line);
			return;
		}
	}
	grown = realloc(cfg->masters, (cfg->n_masters + 1) * sizeof(*grown));
	if (grown == NULL) {
		set_error(ctx, ctx->line, "master", "out of memory");
		return;
	}
	cfg->masters = grown;
	m = &cfg->masters[cfg->n_masters];
	memset(m, 0, sizeof(*m));
	m->name = strdup(name);
	m->line = ctx->line;
	cfg->n_masters++;
	if (m->name == NULL) {
		set_error(ctx, ctx->line, "master", "out of memory");
		return;
	}
	ctx->master_index = cfg->n_masters - 1;
	apply_defaults(ctx, SEC_MASTER, m);
}

static void open_section(struct parse_ctx *ctx, const char *name)
{
	static const struct {
		const char *name;
		enum section_kind kind;
	} fixed[] = {
		{ "ringwatchd", SEC_DAEMON },
		{ "gate", SEC_GATE },
		{ "verify", SEC_VERIFY },
		{ "alerts", SEC_ALERTS },
	};
	size_t i;

	if (strncmp(name, "master.", 7) == 0) {
		ctx->section = SEC_MASTER;
		open_master(ctx, name + 7);
		return;
	}
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (strcmp(name, fixed[i].name) != 0)
			continue;
		if (ctx->section_line[fixed[i].kind] != 0) {
			set_error(ctx, ctx->line, name, "[%s] appears twice (first on line %u)",
				  name, ctx->section_line[fixed[i].kind]);
			return;
		}
		ctx->section = fixed[i].kind;
		ctx->section_line[fixed[i].kind] = ctx->line;
		return;
	}
	set_error(ctx, ctx->line, name,
		  "unknown section (expected [ringwatchd], [master.NAME], [gate] or [alerts])");
}

/* Look at a line before inih does: note section headers. */
static void scan_line(struct parse_ctx *ctx, const char *line)
{
	const char *p = line;
	const char *close;
	char name[128];
	size_t len;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '[')
		return;
	close = strchr(p, ']');
	if (close == NULL)
		return; /* inih reports the syntax error */
	len = (size_t)(close - p - 1);
	if (len >= sizeof(name)) {
		set_error(ctx, ctx->line, "section", "section name too long");
		return;
	}
	memcpy(name, p + 1, len);
	name[len] = '\0';
	open_section(ctx, name);
}

/* inih reader: one line per call, counted; a line that does not fit is an error. */
static char *read_line(char *buf, int size, void *stream)
{
	struct parse_ctx *ctx = stream;
	size_t n = 0;
	bool complete = false;

	if (ctx->failed)
		return NULL;
	while (n + 1 < (size_t)size) {
		int c;
		if (ctx->fp != NULL) {
			c = fgetc(ctx->fp);
		} else {
			c = (unsigned char)ctx->text[ctx->text_pos];
			if (c == '\0')
				c = EOF;
			else
				ctx->text_pos++;
		}
		if (c == EOF) {
			complete = true;
			break;
		}
		if (c == '\0')
			c = ' '; /* a NUL would cut the line short inside inih */
		buf[n++] = (char)c;
		if (c == '\n') {
			complete = true;
			break;
		}
	}
	if (n == 0)
		return NULL;
	buf[n] = '\0';
	ctx->line++;
	if (!complete) {
		set_error(ctx, ctx->line, "line", "longer than %d characters", size - 2);
		return NULL;
	}
	scan_line(ctx, buf);
	return ctx->failed ? NULL : buf;
}

/* ---- keys ------------------------------------------------------------------ */

static const struct key_def *find_key(enum section_kind section, const char *name)
{
	size_t i;

	for (i = 0; i < N_KEYS; i++) {
		if (key_table[i].section == section && strcmp(key_table[i].name, name) == 0)
			return &key_table[i];
	}
	return NULL;
}

static size_t current_section_index(const struct parse_ctx *ctx)
{
	return ctx->section == SEC_MASTER ? ctx->master_index + 1 : 0;
}

static unsigned seen_line(const struct parse_ctx *ctx, size_t section_index,
			  const struct key_def *def)
{
	size_t i;

	for (i = 0; i < ctx->n_seen; i++) {
		if (ctx->seen[i].section_index == section_index && ctx->seen[i].def == def)
			return ctx->seen[i].line;
	}
	return 0;
}

static bool remember_key(struct parse_ctx *ctx, const struct key_def *def)
{
	size_t idx = current_section_index(ctx);
	unsigned first = seen_line(ctx, idx, def);
	struct key_seen *grown;

	if (first != 0) {
		set_error(ctx, ctx->line, def->name, "set twice (first on line %u)", first);
		return false;
	}
	grown = realloc(ctx->seen, (ctx->n_seen + 1) * sizeof(*grown));
	if (grown == NULL) {
		set_error(ctx, ctx->line, def->name, "out of memory");
		return false;
	}
	ctx->seen = grown;
	ctx->seen[ctx->n_seen].section_index = idx;
	ctx->seen[ctx->n_seen].def = def;
	ctx->seen[ctx->n_seen].line = ctx->line;
	ctx->n_seen++;
	return true;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *ctx = user;
	const struct key_def *def;
	void *base;

	(void)section; /* the reader already tracked it, with its line */
	if (ctx->failed)
		return 1;
	if (ctx->section == SEC_NONE) {
		set_error(ctx, ctx->line, name, "key outside any section");
		return 1;
	}
	def = find_key(ctx->section, name);
	if (def == NULL) {
		set_error(ctx, ctx->line, name, "unknown key in [%s]", section);
		return 1;
	}
	if (!remember_key(ctx, def))
		return 1;
	base = ctx->section == SEC_MASTER ? (void *)&ctx->cfg->masters[ctx->master_index]
					  : (void *)ctx->cfg;
	set_value(ctx, base, def, value, ctx->line);
	return 1;
}

/* ---- checks after parsing ------------------------------------------------- */

/*
 * A regular file opened for reading, never blocking: a FIFO, a device or a
 * socket in its place is refused before it is opened (open() of a FIFO
 * waits for a writer), and checked again on the descriptor.
 */
static FILE *open_regular(const char *path, const char **why)
{
	struct stat st;
	FILE *fp;
	int fd;

	if (stat(path, &st) != 0) {
		*why = strerror(errno);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		return NULL;
	}
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		*why = strerror(errno);
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		*why = "not a regular file";
		return NULL;
	}
	fp = fdopen(fd, "r");
	if (fp == NULL) {
		*why = strerror(errno);
		close(fd);
	}
	return fp;
}

/* Read a secret (first line of a regular file, trailing CR/LF removed). */
static char *read_secret(const char *path, const char **why)
{
	FILE *fp;
	char buf[SECRET_MAX + 2];
	size_t n;
	char *out;

	fp = open_regular(path, why);
	if (fp == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	if (n > SECRET_MAX) {
		*why = "longer than 4096 bytes";
		return NULL;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0') {
		*why = "empty";
		return NULL;
	}
	out = strdup(buf);
	memset(buf, 0, sizeof(buf));
	if (out == NULL)
		*why = "out of memory";
	return out;
}

/* Read a whole PEM file (a certificate chain or a key). */
static char *read_pem(const char *path, const char **why)
{
	struct stat st;
	FILE *fp = open_regular(path, why);
	char *buf;
	size_t n;

	if (fp == NULL)
		return NULL;
	if (fstat(fileno(fp), &st) != 0 || st.st_size > PEM_MAX) {
		fclose(fp);
		*why = "not a regular file of at most 1 MiB";
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	n = buf != NULL ? fread(buf, 1, (size_t)st.st_size, fp) : 0;
	fclose(fp);
	if (buf == NULL) {
		*why = "out of memory";
		return NULL;
	}
	buf[n] = '\0';
	if (strstr(buf, "-----BEGIN ") == NULL) {
		explicit_bzero(buf, n);
		free(buf);
		*why = "no PEM block (-----BEGIN ...) in it";
		return NULL;
	}
	return buf;
}

static unsigned key_line(const struct parse_ctx *ctx, size_t section_index, const char *name)
{
	enum section_kind kind = section_index == 0 ? SEC_DAEMON : SEC_MASTER;
	const struct key_def *def = find_key(kind, name);

	return def == NULL ? 0 : seen_line(ctx, section_index, def);
}

static unsigned alerts_key_line(const struct parse_ctx *ctx, const char *name)
{
	const struct key_def *def = find_key(SEC_ALERTS, name);

	return def == NULL ? 0 : seen_line(ctx, 0, def);
}

static void check_master(struct parse_ctx *ctx, size_t i)
{
	struct config_master *m = &ctx->cfg->masters[i];
	const char *why = NULL;

	if (m->host == NULL && m->socket == NULL) {
		set_error(ctx, m->line, "host", "[master.%s] needs host (or socket)", m->name);
	} else if (m->host != NULL && m->socket != NULL) {
		set_error(ctx, key_line(ctx, i + 1, "socket"), "socket",
			  "[master.%s] has both host and socket; keep one", m->name);
	} else if (m->user == NULL) {
		set_error(ctx, m->line, "user", "[master.%s] needs user", m->name);
	} else if (m->password != NULL && m->password_file != NULL) {
		set_error(ctx, key_line(ctx, i + 1, "password_file"), "password_file",
			  "[master.%s] has both password and password_file; keep one", m->name);
	} else if (m->password_file != NULL) {
		m->password = read_secret(m->password_file, &why);
		if (m->password == NULL)
			set_error(ctx, key_line(ctx, i + 1, "password_file"), "password_file",
				  "cannot read %s: %s", m->password_file, why);
	}
}

/* tls_cert_file and tls_key_file: both or neither, each a readable PEM file. */
static void check_tls(struct parse_ctx *ctx)
{
	struct config *cfg = ctx->cfg;
	const char *why = NULL;

	if ((cfg->tls_cert_file == NULL) != (cfg->tls_key_file == NULL)) {
		const char *set = cfg->tls_cert_file != NULL ? "tls_cert_file" : "tls_key_file";
		set_error(ctx, key_line(ctx, 0, set), set,
			  "tls_cert_file and tls_key_file go together; set both or neither");
		return;
	}
	if (cfg->tls_cert_file == NULL)
		return;
	cfg->tls_cert = read_pem(cfg->tls_cert_file, &why);
	if (cfg->tls_cert == NULL) {
		set_error(ctx, key_line(ctx, 0, "tls_cert_file"), "tls_cert_file",
			  "cannot read %s: %s", cfg->tls_cert_file, why);
		return;
	}
	cfg->tls_key = read_pem(cfg->tls_key_file, &why);
	if (cfg->tls_key == NULL)
		set_error(ctx, key_line(ctx, 0, "tls_key_file"), "tls_key_file",
			  "cannot read %s: %s", cfg->tls_key_file, why);
}

/* A bcrypt hash as crypt(3) writes it: $2a$, $2b$ or $2y$, a cost, 53 characters more. */
static bool bcrypt_hash(const char *h)
{
	return strlen(h) == 60 && h[0] == '$' && h[1] == '2' && strchr("aby", h[2]) != NULL &&
	       h[2] != '\0' && h[3] == '$' && h[4] >= '0' && h[4] <= '3' && h[5] >= '0' &&
	       h[5] <= '9' && h[6] == '$';
}

/*
 * basic_auth_file: "user:hash" lines (bcrypt, as htpasswd -B writes them);
 * blank lines and lines starting with # are skipped.  An error names the
 * file's line, never a hash.
 */
static void read_users(struct parse_ctx *ctx)
{
	struct config *cfg = ctx->cfg;
	const char *why = NULL;
	FILE *fp = open_regular(cfg->basic_auth_file, &why);
	char line[1024];
	unsigned n = 0;

	if (fp == NULL) {
		set_error(ctx, key_line(ctx, 0, "basic_auth_file"), "basic_auth_file",
			  "cannot read %s: %s", cfg->basic_auth_file, why);
		return;
	}
	while (!ctx->failed && fgets(line, sizeof(line), fp) != NULL) {
		char *colon, *end = line + strcspn(line, "\r\n");
		struct config_user *grown;

		n++;
		*end = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		colon = strchr(line, ':');
		if (colon == NULL || colon == line || !bcrypt_hash(colon + 1)) {
			set_error(ctx, key_line(ctx, 0, "basic_auth_file"), "basic_auth_file",
				  "%s:%u: not a user:bcrypt-hash line (htpasswd -B writes them)",
				  cfg->basic_auth_file, n);
			break;
		}
		*colon = '\0';
		grown = realloc(cfg->users, (cfg->n_users + 1) * sizeof(*grown));
		if (grown == NULL) {
			set_error(ctx, 0, "basic_auth_file", "out of memory");
			break;
		}
		cfg->users = grown;
		cfg->users[cfg->n_users].name = strdup(line);
		cfg->users[cfg->n_users].hash = strdup(colon + 1);
		cfg->n_users++;
		if (cfg->users[cfg->n_users - 1].name == NULL ||
		    cfg->users[cfg->n_users - 1].hash == NULL)
			set_error(ctx, 0, "basic_auth_file", "out of memory");
	}
	explicit_bzero(line, sizeof(line));
	fclose(fp);
	if (!ctx->failed && cfg->n_users == 0)
		set_error(ctx, key_line(ctx, 0, "basic_auth_file"), "basic_auth_file",
			  "%s has no user", cfg->basic_auth_file);
}

static void check_config(struct parse_ctx *ctx)
{
	struct config *cfg = ctx->cfg;
	const char *why = NULL;
	size_t i;

	if (cfg->n_masters < 2) {
		set_error(ctx, ctx->line, "master",
			  "a ring needs at least two [master.NAME] sections, found %zu",
			  cfg->n_masters);
		return;
	}
	for (i = 0; i < cfg->n_masters && !ctx->failed; i++)
		check_master(ctx, i);
	/* the last piece of /check/APP/mysql/RING: one path segment */
	if (!ctx->failed && cfg->ring_name != NULL && strchr(cfg->ring_name, '/') != NULL)
		set_error(ctx, key_line(ctx, 0, "ring_name"), "ring_name",
			  "'%s' has a '/': the throttle URL /check/APP/mysql/RING takes one "
			  "path segment",
			  cfg->ring_name);
	if (!ctx->failed && cfg->auth_token_file != NULL) {
		cfg->auth_token = read_secret(cfg->auth_token_file, &why);
		if (cfg->auth_token == NULL)
			set_error(ctx, key_line(ctx, 0, "auth_token_file"), "auth_token_file",
				  "cannot read %s: %s", cfg->auth_token_file, why);
	}
	if (!ctx->failed)
		check_tls(ctx);
	if (!ctx->failed && cfg->basic_auth_file != NULL)
		read_users(ctx);
	if (!ctx->failed && cfg->webhook_secret_file != NULL) {
		cfg->webhook_secret = read_secret(cfg->webhook_secret_file, &why);
		if (cfg->webhook_secret == NULL)
			set_error(ctx, alerts_key_line(ctx, "webhook_secret_file"),
				  "webhook_secret_file", "cannot read %s: %s",
				  cfg->webhook_secret_file, why);
	}
}

/* ---- entry points ---------------------------------------------------------- */

static int load(struct parse_ctx *ctx, struct config *out)
{
	struct config cfg;
	int rc;

	memset(&cfg, 0, sizeof(cfg));
	ctx->cfg = &cfg;
	cfg.path = strdup(ctx->name);
	ctx->basedir = dir_of(ctx->name);
	if (cfg.path == NULL || ctx->basedir == NULL)
		set_error(ctx, 0, "config", "out of memory");
	apply_defaults(ctx, SEC_DAEMON, &cfg);
	apply_defaults(ctx, SEC_GATE, &cfg);
	apply_defaults(ctx, SEC_VERIFY, &cfg);
	apply_defaults(ctx, SEC_ALERTS, &cfg);

	rc = ini_parse_stream(read_line, ctx, on_key, ctx);
	if (rc > 0 && !ctx->failed)
		set_error(ctx, (unsigned)rc, "syntax",
			  "expected [SECTION], KEY = VALUE, or a ; comment");
	if (!ctx->failed)
		check_config(ctx);

	free(ctx->seen);
	free(ctx->basedir);
	if (ctx->failed) {
		config_free(&cfg);
		return -1;
	}
	*out = cfg;
	return 0;
}

int config_load(const char *path, struct config *out, struct config_error *err)
{
	struct parse_ctx ctx;
	const char *why = "";
	int rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.err = err;
	ctx.name = path;
	ctx.fp = open_regular(path, &why);
	if (ctx.fp == NULL) {
		set_error(&ctx, 0, "config", "cannot open: %s", why);
		return -1;
	}
	rc = load(&ctx, out);
	fclose(ctx.fp);
	return rc;
}

int config_load_string(const char *name, const char *text, struct config *out,
		       struct config_error *err)
{
	struct parse_ctx ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.err = err;
	ctx.name = name;
	ctx.text = text;
	return load(&ctx, out);
}

static void free_secret(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

void config_free(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->n_masters; i++) {
		struct config_master *m = &cfg->masters[i];
		free(m->name);
		free(m->host);
		free(m->socket);
		free(m->user);
		free_secret(m->password);
		free(m->password_file);
		free(m->ssl_ca);
		free(m->ssl_cert);
		free(m->ssl_key);
	}
	free(cfg->masters);
	free(cfg->path);
	free(cfg->listen);
	free(cfg->listen_host);
	free(cfg->state_dir);
	free(cfg->auth_token_file);
	free(cfg->basic_auth_file);
	for (size_t u = 0; u < cfg->n_users; u++) {
		free(cfg->users[u].name);
		free_secret(cfg->users[u].hash);
	}
	free(cfg->users);
	free(cfg->ring_name);
	free_secret(cfg->auth_token);
	free(cfg->tls_cert_file);
	free(cfg->tls_key_file);
	free(cfg->tls_cert);
	free_secret(cfg->tls_key);
	free(cfg->alertmanager_url);
	free(cfg->webhook_url);
	free(cfg->webhook_secret_file);
	free_secret(cfg->webhook_secret);
	free(cfg->alert_instance);
	memset(cfg, 0, sizeof(*cfg));
}

const struct config_master *config_master(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->n_masters; i++) {
		if (strcmp(cfg->masters[i].name, name) == 0)
			return &cfg->masters[i];
	}
	return NULL;
}

const char *config_ssl_mode_name(enum config_ssl_mode mode)
{
	if ((size_t)mode >= sizeof(ssl_mode_names) / sizeof(ssl_mode_names[0]))
		return "unknown";
	return ssl_mode_names[mode];
}

const char *config_log_level_name(int level)
{
	size_t i;

	for (i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++) {
		if (log_levels[i].level == level)
			return log_levels[i].name;
	}
	return "unknown";
}
