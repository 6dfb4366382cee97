/*
 * page.h - the status page, GET /: one HTML page embedded in the binary
 * (HTML, CSS and JavaScript written for it in daemon/page/status.html,
 * nothing loaded from the network) that draws the ring from /v1/status
 * every 2 s, with the gate, the open conflicts (both writes, the rows each
 * master holds, the repair SQL), drift, audit findings and tables not
 * known.  Reading needs no token where the API needs none; an action
 * (resolving a conflict) asks for it.
 */
#ifndef RINGWATCHD_PAGE_H
#define RINGWATCHD_PAGE_H

#include <stddef.h>

extern const char page_html[];
extern const size_t page_html_len;

#endif
