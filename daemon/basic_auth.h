/*
 * basic_auth.h - HTTP Basic credentials checked against bcrypt hashes
 * (basic_auth_file: "user:$2y$..." lines, as `htpasswd -B` writes them and
 * Prometheus' exporter-toolkit reads them), for reading what shows rows.
 *
 * bcrypt is slow on purpose (tens of milliseconds at cost 10), and the
 * check runs on the event loop: so a verified pair is remembered (as a
 * SHA-256 digest of user, password and hash, compared in constant time)
 * and later requests with it cost a hash; and at most BASIC_AUTH_PER_SECOND
 * bcrypt checks run in any second (a burst of BASIC_AUTH_BURST): past that a
 * request is told to come back (429) rather than stall everyone else.
 */
#ifndef RINGWATCHD_BASIC_AUTH_H
#define RINGWATCHD_BASIC_AUTH_H

#include "config.h"

#define BASIC_AUTH_PER_SECOND 4.0
#define BASIC_AUTH_BURST      8.0
#define BASIC_AUTH_REMEMBERED 16

enum basic_auth_result {
	BASIC_AUTH_OK = 0,
	BASIC_AUTH_NONE,  /* no Basic credentials in the header */
	BASIC_AUTH_WRONG, /* no such user, a wrong password, a malformed header */
	BASIC_AUTH_BUSY,  /* the bcrypt budget of this second is spent: try again */
};

struct basic_auth;

struct basic_auth *basic_auth_new(void);
void basic_auth_free(struct basic_auth *a);

/*
 * Check the Authorization header value (NULL when absent) against cfg's
 * users at monotonic time now (seconds); user names who it was when OK.
 */
int basic_auth_check(struct basic_auth *a, const struct config *cfg, const char *header, double now,
		     char *user, size_t user_len);

#endif
