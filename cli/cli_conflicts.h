/*
 * cli_conflicts.h - `ringwatch conflicts [--url URL] [--json] [--all]
 * [--limit N] [ID]`: the daemon's conflicts, newest first, or one in full.
 * Exit code: 0 none open (or the one asked for shown), 1 open conflicts
 * listed, 2 the daemon could not be asked or has no such conflict.
 */
#ifndef RINGWATCH_CLI_CONFLICTS_H
#define RINGWATCH_CLI_CONFLICTS_H

int cli_conflicts(int argc, char **argv);

#endif
