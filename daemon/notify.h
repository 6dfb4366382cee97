/*
 * notify.h - telling systemd about the daemon's state (Type=notify).
 * Without systemd support compiled in, or outside systemd, these do nothing.
 */
#ifndef RINGWATCHD_NOTIFY_H
#define RINGWATCHD_NOTIFY_H

/* Whether sd_notify support is compiled in. */
int notify_supported(void);

void notify_ready(void);
void notify_reloading(void);
void notify_stopping(void);
void notify_status(const char *text);

#endif
