/*
 * cli_gate.h - `ringwatch gate [--url URL] [--max-lag SECONDS] [--json]`:
 * may a deploy proceed?  Exit 0: safe; 1: not safe, the failing checks
 * printed one a line ("check: detail"); 2: the daemon could not be asked.
 */
#ifndef RINGWATCH_CLI_GATE_H
#define RINGWATCH_CLI_GATE_H

int cli_gate(int argc, char **argv);

#endif
