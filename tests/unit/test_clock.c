/*
 * test_clock.c - the daemon's clocks agree with the system's and in units.
 */
#include "../../daemon/clock.h"

#include "../tap.h"

#include <time.h>

int main(void)
{
	double m1 = clock_mono(), w = clock_wall(), m2;
	int64_t wus = clock_wall_us();
	uint64_t mus = clock_mono_us();
	struct timespec nap = { 0, 20 * 1000 * 1000 };
	time_t now = time(NULL);

	ok(w > (double)now - 2 && w < (double)now + 2, "wall clock in seconds (%.3f, %lld)", w,
	   (long long)now);
	ok(wus / 1000000 > (int64_t)now - 2 && wus / 1000000 < (int64_t)now + 2,
	   "wall clock in microseconds");
	ok((double)mus / 1e6 >= m1 - 0.5 && (double)mus / 1e6 <= m1 + 2,
	   "monotonic microseconds and seconds agree");
	nanosleep(&nap, NULL);
	m2 = clock_mono();
	ok(m2 - m1 >= 0.019 && m2 - m1 < 5, "monotonic seconds advance (%.4f)", m2 - m1);
	return tap_done();
}
