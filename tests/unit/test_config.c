/*
 * test_config.c - configuration values land where they should.
 * (Error texts are covered by the golden cases in tests/config/.)
 */
#include "../../daemon/config.h"

#include "../tap.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

static const char two_masters[] =
    "[master.west]\nhost = 127.0.0.1\nuser = rw\npassword = a\n"
    "[master.east]\nhost = ::1\nport = 3307\nuser = rw\npassword = b\n";

static void test_defaults(void)
{
	struct config cfg;
	struct config_error err;

	ok(config_load_string("/etc/ringwatch/x.conf", two_masters, &cfg, &err) == 0,
	   "two masters load");
	is_str(cfg.listen, "127.0.0.1:9477", "listen default");
	is_str(cfg.listen_host, "127.0.0.1", "listen host default");
	is_int(cfg.listen_port, 9477, "listen port default");
	is_str(cfg.state_dir, "/var/lib/ringwatch", "state_dir default");
	is_int(cfg.server_id, 4242001, "server_id default");
	ok(cfg.auth_token_file == NULL && cfg.auth_token == NULL, "no token by default");
	ok(cfg.tls_cert == NULL && cfg.tls_key == NULL, "no TLS by default");
	is_int(cfg.protect_rows, CONFIG_AUTO, "protect_rows: by default as listen says");
	ok(cfg.gate_max_lag == 5.0, "max_lag default 5");
	ok(cfg.gate_max_trx_age == 60.0, "max_trx_age default 60");
	is_int(cfg.gate_max_open_conflicts, 0, "max_open_conflicts default 0");
	ok(cfg.alertmanager_url == NULL && cfg.webhook_url == NULL, "no alert targets");
	is_int(cfg.log_level, LOG_INFO, "log_level default info");
	is_int(cfg.n_masters, 2, "two masters");
	is_str(cfg.masters[0].name, "west", "file order kept (0)");
	is_str(cfg.masters[1].name, "east", "file order kept (1)");
	is_int(cfg.masters[0].port, 3306, "port default 3306");
	is_int(cfg.masters[1].port, 3307, "port set");
	is_int(cfg.masters[0].ssl_mode, CONFIG_SSL_PREFERRED, "ssl_mode default preferred");
	is_str(cfg.masters[1].host, "::1", "host kept as written");
	is_int(cfg.masters[0].line, 1, "section line recorded");
	is_int(cfg.masters[1].line, 5, "second section line recorded");
	ok(config_master(&cfg, "east") == &cfg.masters[1], "lookup by name");
	ok(config_master(&cfg, "nope") == NULL, "unknown name");
	config_free(&cfg);
}

static void test_values(void)
{
	char dir[] = "/tmp/rw-test-config.XXXXXX";
	char path[256], pwfile[256];
	struct config cfg;
	struct config_error err;
	FILE *fp;
	static const char text[] =
	    "[ringwatchd]\nlisten = [::1]:0\nstate_dir = st\nserver_id = 4294967295\n"
	    "probe_interval = 0.25\nlog_level = Debug\n"
	    "[master.a]\nsocket = sock/m.sock\nuser = u\npassword_file = pw\n"
	    "ssl_mode = VERIFY_CA\nssl_ca = /etc/ca.pem\n"
	    "[master.b]\nhost = h\nuser = u\npassword = p ; inline comment\n"
	    "[gate]\nmax_lag = 0.5\nmax_open_conflicts = 7\n"
	    "[alerts]\nalertmanager_url = http://127.0.0.1:9093\nwebhook_url =\n";

	ok(mkdtemp(dir) != NULL, "temp dir");
	snprintf(pwfile, sizeof(pwfile), "%s/pw", dir);
	fp = fopen(pwfile, "w");
	fputs("s3cret value\r\nsecond line ignored\n", fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/rw.conf", dir);
	ok(config_load_string(path, text, &cfg, &err) == 0, "full file loads");
	is_str(cfg.listen_host, "::1", "IPv6 listen host");
	is_int(cfg.listen_port, 0, "port 0 allowed for listen");
	ok(strncmp(cfg.state_dir, "/tmp/", 5) == 0 && strstr(cfg.state_dir, "/st") != NULL,
	   "relative state_dir resolved against the file's directory (%s)", cfg.state_dir);
	is_int(cfg.server_id, 4294967295u, "largest server_id");
	ok(cfg.probe_interval == 0.25, "fractional seconds");
	is_int(cfg.log_level, LOG_DEBUG, "log level, case-insensitive");
	ok(strstr(cfg.masters[0].socket, "/sock/m.sock") != NULL, "socket path resolved");
	ok(cfg.masters[0].host == NULL, "no host with socket");
	is_str(cfg.masters[0].password, "s3cret value", "password from file, first line only");
	is_int(cfg.masters[0].ssl_mode, CONFIG_SSL_VERIFY_CA, "ssl_mode case-insensitive");
	is_str(cfg.masters[0].ssl_ca, "/etc/ca.pem", "absolute path kept");
	is_str(cfg.masters[1].password, "p", "inline comment stripped from value");
	ok(cfg.gate_max_lag == 0.5, "max_lag");
	is_int(cfg.gate_max_open_conflicts, 7, "max_open_conflicts");
	is_str(cfg.alertmanager_url, "http://127.0.0.1:9093", "alertmanager_url");
	ok(cfg.webhook_url == NULL, "empty URL means unset");
	is_str(config_ssl_mode_name(cfg.masters[0].ssl_mode), "verify_ca", "ssl mode name");
	is_str(config_log_level_name(cfg.log_level), "debug", "log level name");
	config_free(&cfg);
	unlink(pwfile);
	rmdir(dir);
}

/* Write text to dir/name; the path into out. */
static void write_file(const char *dir, const char *name, const char *text, char *out, size_t len)
{
	FILE *fp;

	snprintf(out, len, "%s/%s", dir, name);
	fp = fopen(out, "w");
	if (fp != NULL) {
		fputs(text, fp);
		fclose(fp);
	}
}

/* tls_cert_file and tls_key_file (both, read whole), protect_rows. */
static void test_tls_and_rows(void)
{
	static const char masters[] = "[master.a]\nhost = h\nuser = u\npassword = p\n"
				      "[master.b]\nhost = h\nuser = u\npassword = p\n";
	static const char pem[] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
	char dir[] = "/tmp/rw-test-config.XXXXXX";
	char path[256], cert[256], key[256], notpem[256], text[1024];
	struct config cfg;
	struct config_error err;

	ok(mkdtemp(dir) != NULL, "temp dir");
	write_file(dir, "cert.pem", pem, cert, sizeof(cert));
	write_file(dir, "key.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
		   key, sizeof(key));
	write_file(dir, "notpem", "just text\n", notpem, sizeof(notpem));
	snprintf(path, sizeof(path), "%s/rw.conf", dir);

	snprintf(text, sizeof(text),
		 "[ringwatchd]\ntls_cert_file = cert.pem\ntls_key_file = key.pem\n"
		 "protect_rows = TRUE\n%s",
		 masters);
	ok(config_load_string(path, text, &cfg, &err) == 0, "TLS files and protect_rows load");
	is_str(cfg.tls_cert, pem, "the certificate, read whole");
	ok(cfg.tls_key != NULL && strstr(cfg.tls_key, "PRIVATE KEY") != NULL,
	   "the key, read whole");
	is_int(cfg.protect_rows, CONFIG_ON, "protect_rows = TRUE");
	config_free(&cfg);

	snprintf(text, sizeof(text), "[ringwatchd]\nprotect_rows = false\n%s", masters);
	ok(config_load_string(path, text, &cfg, &err) == 0 && cfg.protect_rows == CONFIG_OFF &&
	       cfg.tls_cert == NULL,
	   "protect_rows = false, no TLS");
	config_free(&cfg);
	snprintf(text, sizeof(text), "[ringwatchd]\nprotect_rows =\n%s", masters);
	ok(config_load_string(path, text, &cfg, &err) == 0 && cfg.protect_rows == CONFIG_AUTO,
	   "protect_rows empty: the default");
	config_free(&cfg);

	snprintf(text, sizeof(text), "[ringwatchd]\nprotect_rows = maybe\n%s", masters);
	ok(config_load_string(path, text, &cfg, &err) != 0 &&
	       strstr(err.message, ":2: protect_rows: 'maybe' is not true or false") != NULL,
	   "protect_rows = maybe: %s", err.message);
	snprintf(text, sizeof(text), "[ringwatchd]\n\ntls_cert_file = cert.pem\n%s", masters);
	ok(config_load_string(path, text, &cfg, &err) != 0 &&
	       strstr(err.message,
		      ":3: tls_cert_file: tls_cert_file and tls_key_file go together") != NULL,
	   "a certificate without a key: %s", err.message);
	snprintf(text, sizeof(text), "[ringwatchd]\ntls_key_file = key.pem\n%s", masters);
	ok(config_load_string(path, text, &cfg, &err) != 0 &&
	       strstr(err.message, ":2: tls_key_file: ") != NULL,
	   "a key without a certificate: %s", err.message);
	snprintf(text, sizeof(text),
		 "[ringwatchd]\ntls_cert_file = notpem\ntls_key_file = key.pem\n%s", masters);
	ok(config_load_string(path, text, &cfg, &err) != 0 &&
	       strstr(err.message, ":2: tls_cert_file: cannot read ") != NULL &&
	       strstr(err.message, "no PEM block") != NULL,
	   "a certificate file without PEM: %s", err.message);
	snprintf(text, sizeof(text),
		 "[ringwatchd]\ntls_cert_file = cert.pem\ntls_key_file = gone.pem\n%s", masters);
	ok(config_load_string(path, text, &cfg, &err) != 0 &&
	       strstr(err.message, ":3: tls_key_file: cannot read ") != NULL,
	   "a missing key file: %s", err.message);
	unlink(cert);
	unlink(key);
	unlink(notpem);
	rmdir(dir);
}

/* [verify]: the defaults, and the schedule's forms. */
static void test_verify(void)
{
	static const struct {
		const char *value;
		double seconds; /* -1: refused */
	} cases[] = {
		{ "", 0 },       { "daily", 86400 }, { "Hourly", 3600 },    { "weekly", 604800 },
		{ "30m", 1800 }, { "24h", 86400 },   { "7d", 604800 },      { "3600", 3600 },
		{ "90s", 90 },   { "59", -1 },       { "fortnightly", -1 }, { "1w", -1 },
		{ "-1h", -1 },
	};
	struct config cfg;
	struct config_error err;
	char text[1024];

	ok(config_load_string("x.conf", two_masters, &cfg, &err) == 0, "[verify] defaults");
	ok(cfg.verify_schedule == 0, "schedule: none");
	ok(cfg.verify_chunk_time == 0.5, "chunk_time 0.5");
	is_int(cfg.verify_max_load, 25, "max_load 25");
	config_free(&cfg);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;
		snprintf(text, sizeof(text), "%s\n[verify]\nschedule = %s\n", two_masters,
			 cases[i].value);
		rc = config_load_string("x.conf", text, &cfg, &err);
		if (cases[i].seconds < 0) {
			ok(rc != 0 && strstr(err.message, "schedule") != NULL,
			   "schedule = %s refused (%s)", cases[i].value, err.message);
			continue;
		}
		ok(rc == 0 && cfg.verify_schedule == cases[i].seconds, "schedule = '%s': %.0f s",
		   cases[i].value, cases[i].seconds);
		if (rc == 0)
			config_free(&cfg);
	}
}

static void test_error_leaves_output(void)
{
	struct config cfg;
	struct config_error err;

	memset(&cfg, 0x5a, sizeof(cfg));
	ok(config_load_string("x.conf", "[ringwatchd]\nbogus = 1\n", &cfg, &err) != 0,
	   "unknown key fails");
	is_int(err.line, 2, "error line");
	is_str(err.key, "bogus", "error key");
	is_str(err.file, "x.conf", "error file");
	is_str(err.message, "x.conf:2: bogus: unknown key in [ringwatchd]", "error message");
	ok(((unsigned char *)&cfg)[0] == 0x5a && ((unsigned char *)&cfg)[sizeof(cfg) - 1] == 0x5a,
	   "output untouched on failure");
	ok(config_load_string("x.conf", "", &cfg, NULL) != 0, "empty file fails, NULL err ok");
	ok(config_load("/nonexistent/ringwatchd.conf", &cfg, &err) != 0, "missing file fails");
	is_str(err.message,
	       "/nonexistent/ringwatchd.conf:0: config: cannot open: No such file or directory",
	       "missing file message");
}

/* A FIFO where a file is named is refused at once, never waited on for a writer. */
static void test_fifo(void)
{
	char dir[] = "/tmp/rw-test-config.XXXXXX";
	char fifo[256], text[512];
	struct config cfg;
	struct config_error err;

	alarm(10); /* a hang fails the test instead of stalling it */
	ok(mkdtemp(dir) != NULL, "temp dir");
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	ok(mkfifo(fifo, 0600) == 0, "a FIFO");
	snprintf(text, sizeof(text),
		 "[ringwatchd]\nstate_dir = st\nserver_id = 9\n"
		 "[master.a]\nhost = h\nuser = u\npassword_file = %s\n"
		 "[master.b]\nhost = h2\nuser = u\npassword = p\n",
		 fifo);
	ok(config_load_string("x.conf", text, &cfg, &err) != 0, "a FIFO as password_file fails");
	ok(strncmp(err.message, "x.conf:7: password_file: cannot read ", 37) == 0,
	   "named with its line");
	ok(strstr(err.message, "not a regular file") != NULL, "and why (%s)", err.message);
	snprintf(text, sizeof(text),
		 "[ringwatchd]\nstate_dir = st\nserver_id = 9\nauth_token_file = %s\n"
		 "[master.a]\nhost = h\nuser = u\npassword = p\n"
		 "[master.b]\nhost = h2\nuser = u\npassword = p\n",
		 fifo);
	ok(config_load_string("x.conf", text, &cfg, &err) != 0 &&
	       strstr(err.message, "auth_token_file: cannot read") != NULL &&
	       strstr(err.message, "not a regular file") != NULL,
	   "a FIFO as auth_token_file fails (%s)", err.message);
	ok(config_load(fifo, &cfg, &err) != 0 &&
	       strstr(err.message, "cannot open: not a regular file") != NULL,
	   "a FIFO as the configuration file fails (%s)", err.message);
	alarm(0);
	unlink(fifo);
	rmdir(dir);
}

int main(void)
{
	test_verify();
	test_defaults();
	test_fifo();
	test_values();
	test_tls_and_rows();
	test_error_leaves_output();
	return tap_done();
}
