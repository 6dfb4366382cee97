/*
 * mysql_conn.h - how ringwatchd opens a client connection to a master.
 *
 * The replica threads and the SQL probes connect to the same servers with
 * the same account, TLS settings and character set; this is the part they
 * share.  Everything here runs on the thread that owns the MYSQL handle.
 */
#ifndef RINGWATCHD_MYSQL_CONN_H
#define RINGWATCHD_MYSQL_CONN_H

#include "config.h"

#include <mysql.h>
#include <stdbool.h>

/*
 * A thread's own copy of a master's connection settings (the configuration
 * may be reloaded and freed while the thread runs).
 */
struct mysql_conn_target {
	char *host;   /* NULL when socket is used */
	char *socket; /* NULL when host is used */
	unsigned port;
	char *user;
	char *password; /* secret: wiped by mysql_conn_target_clear() */
	enum config_ssl_mode ssl_mode;
	char *ssl_ca;
	char *ssl_cert;
	char *ssl_key;
};

/* Copy m's connection settings into t.  0, or -1 when out of memory (t is
 * then cleared). */
int mysql_conn_target_copy(struct mysql_conn_target *t, const struct config_master *m)
    __attribute__((warn_unused_result));

/* Wipe the password and free every string of t; t is left zeroed. */
void mysql_conn_target_clear(struct mysql_conn_target *t);

/*
 * Apply an ssl_mode and its files to h before connecting.  disabled: no TLS;
 * preferred: TLS when the server offers it, unverified; required: TLS or
 * fail; verify_ca and verify_identity: Connector/C checks the chain and the
 * host name together.
 */
void mysql_conn_set_tls(MYSQL *h, enum config_ssl_mode mode, const char *ca, const char *cert,
			const char *key);

/*
 * Set the options every ringwatchd connection uses on h: the timeouts (in
 * seconds; 0 keeps the library's default), utf8mb4, and t's TLS settings.
 */
void mysql_conn_set_options(MYSQL *h, const struct mysql_conn_target *t, unsigned connect_timeout,
			    unsigned read_timeout, unsigned write_timeout);

/* mysql_real_connect() to t with no default schema.  true when connected;
 * otherwise mysql_errno()/mysql_error() on h say why. */
bool mysql_conn_connect(MYSQL *h, const struct mysql_conn_target *t);

/*
 * After connecting: NULL when the connection meets mode, else why not.
 * Connector/C 3.3 falls back to plain text when the server offers no TLS
 * even with MYSQL_OPT_SSL_ENFORCE set (only certificate verification makes
 * it refuse), so ssl_mode=required is checked here, on the live connection.
 */
const char *mysql_conn_tls_refusal(MYSQL *h, enum config_ssl_mode mode);

/* CR_SSL_CONNECTION_ERROR, the code reported with a refusal. */
#define MYSQL_CONN_TLS_ERROR 2026

/* The first column of the first row of a query, into out: 0, or -1 (no
 * row, a NULL, or an error: mysql_errno()/mysql_error() on h say which). */
int mysql_conn_value(MYSQL *h, const char *sql, char *out, size_t outlen);

/* Whether an error code means the connection itself is gone or unusable (a
 * client CR_ code), so the handle must be closed and a new one opened. */
bool mysql_conn_error_is_fatal(unsigned err_code);

#endif
