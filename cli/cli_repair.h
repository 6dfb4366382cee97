/*
 * cli_repair.h - `ringwatch repair ID [--prefer NAME] [--url URL]`: prints
 * the SQL that makes every master hold the same row (by default the row the
 * later commit left), saying on which master to run each part and why it
 * will not conflict again.  Exit 0 printed, 2 usage or no such conflict.
 */
#ifndef RINGWATCH_CLI_REPAIR_H
#define RINGWATCH_CLI_REPAIR_H

int cli_repair(int argc, char **argv);

#endif
