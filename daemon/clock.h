/*
 * clock.h - the daemon's two clocks: monotonic seconds for every interval,
 * timeout and age, and the wall clock for what people and the ledger read.
 * Any thread.
 */
#ifndef RINGWATCHD_CLOCK_H
#define RINGWATCHD_CLOCK_H

#include <stdint.h>

/* Monotonic seconds (CLOCK_MONOTONIC). */
double clock_mono(void);

/* Unix time in seconds (CLOCK_REALTIME). */
double clock_wall(void);

/* Unix time in microseconds. */
int64_t clock_wall_us(void);

/* Monotonic microseconds (what systemd's MONOTONIC_USEC wants). */
uint64_t clock_mono_us(void);

#endif
