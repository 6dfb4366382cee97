/*
 * log.h - ringwatchd's log: one line per message on stderr.
 *
 * Under systemd (JOURNAL_STREAM set) each line starts with "<N>" so journald
 * records the priority; otherwise with a UTC timestamp and the level name.
 * Messages must never carry secrets (passwords, tokens).
 */
#ifndef RINGWATCHD_LOG_H
#define RINGWATCHD_LOG_H

#include <syslog.h>

/* Set the most verbose level written (LOG_ERR ... LOG_DEBUG). */
void log_set_level(int level);

/* Whether a message at level would be written. */
int log_enabled(int level);

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...)  log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)   log_msg(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)   log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)  log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
