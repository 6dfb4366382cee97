/*
 * cli_repair.h - `ringwatch repair ID [--prefer NAME] [--url URL]`: prints
 * the SQL that makes every master hold the same row, saying on which master
 * to run each part and why it will not conflict again.  The row is the after
 * image of the write made on NAME (of the later commit without --prefer);
 * only when NAME made neither write, the row NAME holds now.  Exit 0
 * printed, 2 usage, no such conflict, or the row to keep is not known.
 */
#ifndef RINGWATCH_CLI_REPAIR_H
#define RINGWATCH_CLI_REPAIR_H

int cli_repair(int argc, char **argv);

#endif
