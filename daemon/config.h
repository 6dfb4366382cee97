/*
 * config.h - ringwatchd's configuration: the INI file of ringwatchd.conf(5).
 *
 * config_load() reads a file, config_load_string() a buffer (for tests and the
 * fuzzer); both validate everything a running daemon would trip over later
 * (unknown keys and sections, bad values, a master without an address,
 * unreadable password, token or TLS files) and report the first problem as
 * "FILE:LINE: KEY: REASON".  Secrets read from the file or from password
 * files are kept in the struct but never appear in an error text.
 */
#ifndef RINGWATCHD_CONFIG_H
#define RINGWATCHD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum config_ssl_mode {
	CONFIG_SSL_DISABLED,
	CONFIG_SSL_PREFERRED,
	CONFIG_SSL_REQUIRED,
	CONFIG_SSL_VERIFY_CA,
	CONFIG_SSL_VERIFY_IDENTITY,
};

/* A switch whose default depends on other keys. */
enum config_switch {
	CONFIG_AUTO, /* unset: the default applies */
	CONFIG_ON,
	CONFIG_OFF,
};

struct config_master {
	char *name;    /* from [master.NAME] */
	unsigned line; /* line of the section header */
	char *host;    /* NULL when socket is used */
	unsigned port; /* 3306 unless set */
	char *socket;  /* NULL when host is used */
	char *user;
	char *password;      /* secret: never logged or printed */
	char *password_file; /* absolute path, or NULL */
	enum config_ssl_mode ssl_mode;
	char *ssl_ca;
	char *ssl_cert;
	char *ssl_key;
};

/* A user of basic_auth_file: Basic credentials for what shows rows. */
struct config_user {
	char *name;
	char *hash; /* bcrypt, as crypt(3) writes it */
};

struct config {
	char *path; /* the file it came from */

	/* [ringwatchd] */
	char *listen;              /* as written: "127.0.0.1:9477", "[::1]:9477" */
	char *listen_host;         /* "127.0.0.1", "::1" */
	unsigned listen_port;      /* 0 picks a free port (tests) */
	char *state_dir;           /* absolute path */
	uint32_t server_id;        /* replica server_id registered on the masters */
	char *auth_token_file;     /* absolute path, or NULL */
	char *auth_token;          /* secret read from auth_token_file, or NULL */
	char *basic_auth_file;     /* absolute path, or NULL: no Basic credentials */
	struct config_user *users; /* read from basic_auth_file */
	size_t n_users;
	int log_level;               /* LOG_ERR..LOG_DEBUG (syslog numbers) */
	double probe_interval;       /* seconds between SQL probes of each master */
	char *ring_name;             /* the STORE of the throttle endpoint /check/APP/mysql/STORE */
	unsigned max_tracked_writes; /* the conflict engine's bound on unsettled writes */
	char *tls_cert_file;         /* absolute path, or NULL: plain HTTP */
	char *tls_key_file;          /* set together with tls_cert_file */
	char *tls_cert;              /* PEM read from tls_cert_file, or NULL */
	char *tls_key;               /* secret PEM read from tls_key_file, or NULL */

	/* the conflict endpoints (they show rows) need the token; AUTO: unless
	 * listen is loopback */
	enum config_switch protect_rows;

	/* [master.NAME], in file order */
	struct config_master *masters;
	size_t n_masters;

	/* [gate] */
	double gate_max_lag;
	double gate_max_trx_age;
	unsigned gate_max_open_conflicts;
	double
	    gate_ddl_replication_timeout; /* seconds: a DDL not on every master by then is drift */

	/* [verify] */
	double verify_schedule;   /* seconds between scheduled jobs; 0: only on request */
	double verify_chunk_time; /* seconds a chunk's read should take */
	unsigned verify_max_load; /* pause while a master's Threads_running is above it */

	/* [alerts] */
	char *alertmanager_url; /* one URL or several, comma-separated */
	char *webhook_url;
	char *webhook_secret_file; /* absolute path, or NULL */
	char *webhook_secret;      /* secret read from webhook_secret_file, or NULL */
	char *alert_instance;      /* the alerts' instance label; NULL: listen */
};

struct config_error {
	char file[256];
	unsigned line; /* 0 when no line applies */
	char key[64];
	char reason[256];
	char message[640]; /* "FILE:LINE: KEY: REASON" */
};

/*
 * Load and validate the configuration at path.  Returns 0 and fills *out, or
 * -1 with *err describing the first problem (out untouched).  Relative paths
 * inside the file are taken relative to the file's directory.
 */
int config_load(const char *path, struct config *out, struct config_error *err)
    __attribute__((warn_unused_result));

/*
 * Same, from a NUL-terminated buffer; name stands for the file in errors and
 * is the base for relative paths (its directory).
 */
int config_load_string(const char *name, const char *text, struct config *out,
		       struct config_error *err) __attribute__((warn_unused_result));

/* Release everything held by cfg (secrets are wiped first). */
void config_free(struct config *cfg);

/* Find a master by name, or NULL. */
const struct config_master *config_master(const struct config *cfg, const char *name);

/* "disabled", "preferred", ... */
const char *config_ssl_mode_name(enum config_ssl_mode mode);

/* "error", "warning", "info", "debug" for a syslog level. */
const char *config_log_level_name(int level);

#endif
