/*
 * time_text.h - a time as people and JSON read it: ISO 8601 in UTC to the
 * millisecond ("2026-12-06T18:14:35.123Z").  Used by the ledger, the logs'
 * readers and ringwatch analyze.
 */
#ifndef RINGWATCH_COMMON_TIME_TEXT_H
#define RINGWATCH_COMMON_TIME_TEXT_H

/* Seconds since the epoch t, to the nearest millisecond, into buf. */
void time_text(double t, char buf[32]);

#endif
