/*
 * notify.c - sd_notify(3) wrappers.
 */
#include "notify.h"

#include "build_config.h"
#include "clock.h"

#include <stdio.h>
#include <time.h>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>

static void notify_send(const char *state)
{
	(void)sd_notify(0, state);
}

int notify_supported(void)
{
	return 1;
}
#else
static void notify_send(const char *state)
{
	(void)state;
}

int notify_supported(void)
{
	return 0;
}
#endif

void notify_ready(void)
{
	notify_send("READY=1\nSTATUS=running");
}

void notify_reloading(void)
{
	char msg[96];

	/* MONOTONIC_USEC lets systemd >= 253 (Type=notify-reload) match the reload */
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading",
		 (unsigned long long)clock_mono_us());
	notify_send(msg);
}

void notify_stopping(void)
{
	notify_send("STOPPING=1\nSTATUS=stopping");
}

void notify_status(const char *text)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "STATUS=%s", text);
	notify_send(msg);
}
