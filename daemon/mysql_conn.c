/*
 * mysql_conn.c - connection settings shared by replica.c and probe.c (see
 * mysql_conn.h).
 */
#include "mysql_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int dup_into(char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return 0;
	*dst = strdup(src);
	return *dst == NULL ? -1 : 0;
}

int mysql_conn_target_copy(struct mysql_conn_target *t, const struct config_master *m)
{
	int rc = 0;

	memset(t, 0, sizeof(*t));
	rc |= dup_into(&t->host, m->host);
	rc |= dup_into(&t->socket, m->socket);
	rc |= dup_into(&t->user, m->user);
	rc |= dup_into(&t->password, m->password);
	rc |= dup_into(&t->ssl_ca, m->ssl_ca);
	rc |= dup_into(&t->ssl_cert, m->ssl_cert);
	rc |= dup_into(&t->ssl_key, m->ssl_key);
	t->port = m->port;
	t->ssl_mode = m->ssl_mode;
	if (rc != 0) {
		mysql_conn_target_clear(t);
		return -1;
	}
	return 0;
}

void mysql_conn_target_clear(struct mysql_conn_target *t)
{
	if (t->password != NULL)
		explicit_bzero(t->password, strlen(t->password));
	free(t->host);
	free(t->socket);
	free(t->user);
	free(t->password);
	free(t->ssl_ca);
	free(t->ssl_cert);
	free(t->ssl_key);
	memset(t, 0, sizeof(*t));
}

void mysql_conn_set_tls(MYSQL *h, enum config_ssl_mode mode, const char *ca, const char *cert,
			const char *key)
{
	my_bool yes = 1, no = 0;

	if (mode == CONFIG_SSL_DISABLED)
		return;
	if (ca != NULL || cert != NULL || key != NULL)
		mysql_ssl_set(h, key, cert, ca, NULL, NULL);
	/*
	 * Connector/C 3.3 asks for TLS only with MYSQL_OPT_SSL_ENFORCE (or a
	 * file set above), and even then goes on in plain text when the server
	 * offers none: that is "preferred".  "required" is checked after the
	 * connection is up (mysql_conn_tls_refusal).  Verification checks the
	 * chain and the host name together; there is no chain-only mode.
	 */
	mysql_optionsv(h, MYSQL_OPT_SSL_ENFORCE, &yes);
	mysql_optionsv(h, MYSQL_OPT_SSL_VERIFY_SERVER_CERT,
		       mode >= CONFIG_SSL_VERIFY_CA ? &yes : &no);
}

void mysql_conn_set_options(MYSQL *h, const struct mysql_conn_target *t, unsigned connect_timeout,
			    unsigned read_timeout, unsigned write_timeout)
{
	if (connect_timeout > 0)
		mysql_optionsv(h, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout);
	if (read_timeout > 0)
		mysql_optionsv(h, MYSQL_OPT_READ_TIMEOUT, &read_timeout);
	if (write_timeout > 0)
		mysql_optionsv(h, MYSQL_OPT_WRITE_TIMEOUT, &write_timeout);
	mysql_optionsv(h, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_conn_set_tls(h, t->ssl_mode, t->ssl_ca, t->ssl_cert, t->ssl_key);
}

bool mysql_conn_connect(MYSQL *h, const struct mysql_conn_target *t)
{
	return mysql_real_connect(h, t->host, t->user, t->password, NULL, t->port, t->socket, 0) !=
	       NULL;
}

const char *mysql_conn_tls_refusal(MYSQL *h, enum config_ssl_mode mode)
{
	if (mode < CONFIG_SSL_REQUIRED || mysql_get_ssl_cipher(h) != NULL)
		return NULL;
	return "ssl_mode requires TLS, but the server offered none (is have_ssl YES on it?)";
}

int mysql_conn_value(MYSQL *h, const char *sql, char *out, size_t outlen)
{
	MYSQL_RES *res;
	MYSQL_ROW row;
	int rc = -1;

	if (mysql_query(h, sql) != 0 || (res = mysql_store_result(h)) == NULL)
		return -1;
	row = mysql_fetch_row(res);
	if (row != NULL && row[0] != NULL) {
		snprintf(out, outlen, "%s", row[0]);
		rc = 0;
	}
	mysql_free_result(res);
	return rc;
}

bool mysql_conn_error_is_fatal(unsigned err_code)
{
	/* 1053 server shutdown, 1927 connection killed (MariaDB), and the
	 * client's own CR_ codes: the handle is unusable.  Other server errors
	 * (a missing privilege, a bad statement) leave it working. */
	return err_code == 1053 || err_code == 1927 || (err_code >= 2000 && err_code < 3000);
}
