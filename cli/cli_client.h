/*
 * cli_client.h - the ringwatch CLI's way of asking a running ringwatchd.
 *
 * One HTTP request to the daemon's API (libcurl), the answer parsed as JSON.
 * Failures to ask (no daemon, a timeout, an answer that is not JSON) are
 * reported on stderr in one line and make the command exit 2.
 */
#ifndef RINGWATCH_CLI_CLIENT_H
#define RINGWATCH_CLI_CLIENT_H

#include "ringwatch/rw_buf.h"

#include <jansson.h>
#include <stdio.h>

#define CLI_DEFAULT_URL "http://127.0.0.1:9477"

/*
 * GET (body NULL) or POST (body given) base_url + path.  Returns the HTTP
 * status and sets *json to the parsed answer (new reference), or returns -1
 * after printing why on stderr.  A token (for POST endpoints) is read from
 * the environment variable RINGWATCH_TOKEN, never from the command line,
 * so that it stays out of process titles.
 */
long cli_request(const char *base_url, const char *path, const char *body, json_t **json);

/* All that f holds appended to b; 0, or -1 on a read error or out of memory. */
int cli_read_all(FILE *f, rw_buf *b);

/* "12.3s", "4m05s", "2h13m", "3d04h" for a duration in seconds. */
void cli_duration(double seconds, char *buf, size_t len);

#endif
