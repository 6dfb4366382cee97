/*
 * api.h - the HTTP endpoints of ringwatchd(8), as a route table for http.c.
 * Every handler takes a struct api as its context: what the endpoints read
 * and act on, handed in by the daemon.
 */
#ifndef RINGWATCHD_API_H
#define RINGWATCHD_API_H

#include "http.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct config;
struct state;
struct status;

struct api {
	const struct config *cfg; /* auth_token, [gate] max_lag (a reload changes them in place) */
	struct state *state;      /* the conflict ledger */
	/* a status snapshot (status.h; the caller releases it): 0, or -1 */
	int (*status)(void *arg, struct status *st);
	/* GET /v1/tables without the open conflicts (new reference); NULL: not running */
	json_t *(*tables)(void *arg);
	/* conflict id was resolved through the API */
	void (*resolved)(void *arg, int64_t id);
	/* POST /v1/ddl/check: the statements of sql judged (new reference); NULL: not running */
	json_t *(*ddl_check)(void *arg, const char *sql, size_t len, const char *db);
	/* acknowledge gap id: 0 done, 1 no such open gap */
	int (*ack_gap)(void *arg, int64_t id);
	/* POST /v1/verify: start a job (verify.h, verify_start): its id, 0 when one runs, -1 */
	int64_t (*verify)(void *arg, json_t *tables, uint64_t chunk_rows, char *err, size_t len);
	void *arg;
	struct basic_auth *basic; /* Basic credentials checked so far (basic_auth.h); may be NULL */
};

extern const struct http_route api_routes[];

/*
 * Whether the endpoints that show rows (GET /v1/conflicts and
 * /v1/conflicts/ID: keys, before and after images, final rows) need the
 * token: protect_rows, by default on unless listen is loopback.  When they
 * do and no auth_token_file is set, they answer 403 to everyone.
 */
bool api_rows_protected(const struct config *cfg);

/*
 * Log at start who can read what over the network: rows readable by anyone
 * who reaches a listen address that is not loopback, rows nobody can read
 * (protected without a token), the token crossing the network without TLS.
 */
void api_log_exposure(const struct config *cfg);

#endif
