/*
 * cli_verify.h - `ringwatch verify [--url URL] [--table SCHEMA.TABLE ...]
 * [--chunk-rows N] [--wait] [--status] [--json]`: starts an online
 * comparison of tables between the masters (POST /v1/verify), or shows how
 * it goes (GET /v1/verify).  Exit 0 started, or (--status, --wait) no row
 * found different; 1 rows differ (drift records), the job failed, or one
 * runs already; 2 usage or could not ask.
 */
#ifndef RINGWATCH_CLI_VERIFY_H
#define RINGWATCH_CLI_VERIFY_H

int cli_verify(int argc, char **argv);

#endif
