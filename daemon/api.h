/*
 * api.h - the HTTP endpoints of ringwatchd(8), as a route table for http.c.
 * Every handler takes the daemon (struct rwd *) as its context.
 */
#ifndef RINGWATCHD_API_H
#define RINGWATCHD_API_H

#include "http.h"

extern const struct http_route api_routes[];

#endif
