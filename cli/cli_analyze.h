/*
 * cli_analyze.h - `ringwatch analyze --master NAME=FILE[,FILE...] --master
 * NAME=FILE[,FILE...] ...`: prints the conflicts as GET /v1/conflicts does,
 * newest first.  Exit 0: no open diverged conflict; 1: some rows diverged;
 * 2: usage, or a file that cannot be read (named, with the offset).
 */
#ifndef RINGWATCH_CLI_ANALYZE_H
#define RINGWATCH_CLI_ANALYZE_H

int cli_analyze(int argc, char **argv);

#endif
