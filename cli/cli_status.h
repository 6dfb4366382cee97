/*
 * cli_status.h - `ringwatch status [--url URL] [--json]`: the daemon's
 * /v1/status for people (a table per section), or as it is with --json.
 * Exit code: 0 the daemon answered, 2 it could not be asked.
 */
#ifndef RINGWATCH_CLI_STATUS_H
#define RINGWATCH_CLI_STATUS_H

int cli_status(int argc, char **argv);

#endif
