/*
 * cli_dump.h - `ringwatch dump FILE...`: every event of binlog files as one
 * JSON object a line, row values decoded.
 */
#ifndef RINGWATCH_CLI_DUMP_H
#define RINGWATCH_CLI_DUMP_H

/*
 * argv[0] is "dump".  Exit code: 0 all files read, 1 a file is damaged or
 * truncated (every event before the damage printed, then one line on stderr
 * naming the file and the byte offset), 2 usage or a file that cannot be
 * opened.
 */
int cli_dump(int argc, char **argv);

#endif
