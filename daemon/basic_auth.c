/*
 * basic_auth.c - Basic credentials against bcrypt hashes, remembered and
 * rate-bounded (see basic_auth.h).
 */
#include "basic_auth.h"

#include <crypt.h>
#include <stdint.h>
#include <stdio.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct basic_auth {
	unsigned char seen[BASIC_AUTH_REMEMBERED][32]; /* digests of verified user/password/hash */
	size_t next;
	double tokens, refilled; /* the bcrypt budget */
	bool started;
};

struct basic_auth *basic_auth_new(void)
{
	return calloc(1, sizeof(struct basic_auth));
}

void basic_auth_free(struct basic_auth *a)
{
	if (a != NULL)
		explicit_bzero(a, sizeof(*a));
	free(a);
}

static bool same(const unsigned char *x, const unsigned char *y, size_t n)
{
	unsigned char d = 0;

	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(x[i] ^ y[i]);
	return d == 0;
}

/* SHA-256 of user, password and hash, each ended by a NUL; -1 on failure. */
static int digest(const char *user, const char *password, const char *hash, unsigned char out[32])
{
	size_t lu = strlen(user) + 1, lp = strlen(password) + 1, lh = strlen(hash) + 1;
	char *buf = malloc(lu + lp + lh);
	int rc;

	if (buf == NULL)
		return -1;
	memcpy(buf, user, lu);
	memcpy(buf + lu, password, lp);
	memcpy(buf + lu + lp, hash, lh);
	rc = gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, lu + lp + lh, out) == 0 ? 0 : -1;
	explicit_bzero(buf, lu + lp + lh);
	free(buf);
	return rc;
}

/* One bcrypt check may run now: the budget refills BASIC_AUTH_PER_SECOND a second. */
static bool spend(struct basic_auth *a, double now)
{
	if (!a->started) {
		a->started = true;
		a->tokens = BASIC_AUTH_BURST;
		a->refilled = now;
	}
	a->tokens += (now - a->refilled) * BASIC_AUTH_PER_SECOND;
	if (a->tokens > BASIC_AUTH_BURST)
		a->tokens = BASIC_AUTH_BURST;
	a->refilled = now;
	if (a->tokens < 1)
		return false;
	a->tokens -= 1;
	return true;
}

/* "Basic <base64 of user:password>" into a malloc'd "user:password"; NULL if not one. */
static char *credentials(const char *header)
{
	gnutls_datum_t in, out = { NULL, 0 };
	char *text;

	if (header == NULL || strncasecmp(header, "Basic ", 6) != 0)
		return NULL;
	header += 6;
	while (*header == ' ')
		header++;
	in.data = (unsigned char *)(uintptr_t)header;
	in.size = (unsigned)strcspn(header, " \t");
	if (in.size == 0 || gnutls_base64_decode2(&in, &out) != 0)
		return NULL;
	text = malloc(out.size + 1);
	if (text != NULL) {
		memcpy(text, out.data, out.size);
		text[out.size] = '\0';
		if (strlen(text) != out.size) { /* a NUL inside */
			explicit_bzero(text, out.size);
			free(text);
			text = NULL;
		}
	}
	explicit_bzero(out.data, out.size);
	gnutls_free(out.data);
	return text;
}

int basic_auth_check(struct basic_auth *a, const struct config *cfg, const char *header, double now,
		     char *user, size_t user_len)
{
	char *pair = credentials(header), *password;
	const struct config_user *u = NULL;
	unsigned char d[32];
	struct crypt_data *cd;
	int rc = BASIC_AUTH_WRONG;
	const char *got;

	if (pair == NULL)
		return header != NULL && strncasecmp(header, "Basic ", 6) == 0 ? BASIC_AUTH_WRONG
									       : BASIC_AUTH_NONE;
	password = strchr(pair, ':');
	if (password == NULL)
		goto out;
	*password++ = '\0';
	for (size_t i = 0; i < cfg->n_users && u == NULL; i++) {
		if (strcmp(cfg->users[i].name, pair) == 0)
			u = &cfg->users[i];
	}
	if (u == NULL || digest(u->name, password, u->hash, d) != 0)
		goto out;
	for (size_t i = 0; i < BASIC_AUTH_REMEMBERED; i++) {
		if (same(a->seen[i], d, sizeof(d))) {
			rc = BASIC_AUTH_OK;
			goto out;
		}
	}
	if (!spend(a, now)) {
		rc = BASIC_AUTH_BUSY;
		goto out;
	}
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL)
		goto out;
	got = crypt_r(password, u->hash, cd);
	if (got != NULL && strlen(got) == strlen(u->hash) &&
	    same((const unsigned char *)got, (const unsigned char *)u->hash, strlen(got))) {
		memcpy(a->seen[a->next++ % BASIC_AUTH_REMEMBERED], d, sizeof(d));
		rc = BASIC_AUTH_OK;
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
out:
	if (rc == BASIC_AUTH_OK && user != NULL)
		snprintf(user, user_len, "%s", pair);
	explicit_bzero(pair, strlen(pair) + (password != NULL ? strlen(password) + 1 : 0));
	free(pair);
	explicit_bzero(d, sizeof(d));
	return rc;
}
