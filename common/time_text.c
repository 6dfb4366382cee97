/*
 * time_text.c - ISO 8601 times in UTC (see time_text.h).
 */
#include "time_text.h"

#include <math.h>
#include <stdio.h>
#include <time.h>

void time_text(double t, char buf[32])
{
	long long ms = llround(t * 1000.0); /* to the nearest millisecond */
	time_t secs = (time_t)(ms / 1000);
	char date[24];
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, 32, "%.19s.%03lldZ", date, ms % 1000);
}
