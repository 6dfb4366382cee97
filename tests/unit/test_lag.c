/*
 * test_lag.c - lag from the order transactions appear in the streams.
 */
#include "ringwatch/lag.h"

#include "../tap.h"

#include <math.h>
#include <stdlib.h>

static int near(double a, double b)
{
	return fabs(a - b) < 1e-9;
}

static void test_two_masters(void)
{
	lag_matcher *lm = lag_new(2, 1000);

	ok(lm != NULL, "matcher for two masters");
	ok(lag_get(lm, 0, 1, 0) == -1, "nothing measured yet");
	/* trx 1 made on 0 at t=10, applied by 1 at t=10.25 */
	lag_seen(lm, 1, 0, 0, 10.0);
	ok(near(lag_get(lm, 0, 1, 10.1), 0.1), "on its way: the age of the oldest (0.1)");
	is_int(lag_pending(lm, 0, 1), 1, "one pending 0->1");
	is_int(lag_pending(lm, 1, 0), 0, "none pending 1->0 (1 made nothing, 0 made it)");
	lag_seen(lm, 1, 0, 1, 10.25);
	ok(near(lag_get(lm, 0, 1, 11.0), 0), "arrived: caught up (0)");
	ok(near(lag_last(lm, 0, 1), 0.25), "the sample: 0.25");
	is_int(lag_pending(lm, 0, 1), 0, "nothing pending");
	lag_seen(lm, 1, 0, 1, 12.0);
	ok(near(lag_get(lm, 0, 1, 13.0), 0), "seen again after a reconnect: unchanged");
	ok(lag_get(lm, 1, 0, 13.0) == -1, "the other direction still unmeasured");
	/* a stalled link: the lag grows with time */
	lag_seen(lm, 2, 0, 0, 20.0);
	lag_seen(lm, 3, 0, 0, 21.0);
	ok(near(lag_get(lm, 0, 1, 25.0), 5.0), "stalled: grows from the oldest (5)");
	ok(near(lag_get(lm, 0, 1, 30.0), 10.0), "and keeps growing (10)");
	lag_seen(lm, 2, 0, 1, 30.5);
	ok(near(lag_get(lm, 0, 1, 30.5), 10.5), "first arrives: the sample dominates (10.5)");
	lag_seen(lm, 3, 0, 1, 30.6);
	ok(near(lag_get(lm, 0, 1, 31.0), 0), "caught up: 0, though the last took 9.6 s");
	/* the replica's reader is ahead: a copy on 1 seen before the origin's own on 0 */
	lag_seen(lm, 4, 0, 1, 40.0);
	lag_seen(lm, 4, 0, 0, 40.1);
	is_int(lag_pending(lm, 1, 0), 0, "a copy is never pending back to its origin");
	is_int(lag_pending(lm, 0, 1), 0, "nor to where it already is");
	ok(near(lag_get(lm, 0, 1, 41.0), 0), "and no bogus sample");
	lag_seen(lm, 5, 0, 0, 42.0);
	ok(near(lag_get(lm, 0, 1, 42.1), 9.6), "the next on its way: the last sample again (9.6)");
	lag_free(lm);
}

static void test_three_masters(void)
{
	/* ring 0 -> 1 -> 2 -> 0 */
	lag_matcher *lm = lag_new(3, 1000);

	lag_seen(lm, 7, 0, 0, 1.0);
	lag_seen(lm, 7, 0, 1, 1.5);
	lag_seen(lm, 7, 0, 2, 2.25);
	ok(near(lag_last(lm, 0, 1), 0.5), "0->1: 0.5");
	ok(near(lag_last(lm, 1, 2), 0.75), "1->2: 0.75");
	ok(near(lag_last(lm, 0, 2), 1.25), "0->2 over two hops: 1.25");
	ok(near(lag_get(lm, 0, 2, 3.0), 0), "and caught up");
	ok(lag_get(lm, 2, 0, 3.0) == -1, "2->0 carries nothing of 0's");
	lag_free(lm);
}

static void test_bounded(void)
{
	lag_matcher *lm = lag_new(2, 100);
	int bad = 0;

	for (uint64_t i = 1; i <= 10000; i++)
		lag_seen(lm, i * 2654435761u, 0, 0, (double)i);
	is_int(lag_forgotten(lm), 9900, "only the capacity is remembered");
	ok(lag_pending(lm, 0, 1) <= 100, "pending bounded (%zu)", lag_pending(lm, 0, 1));
	for (uint64_t i = 9901; i <= 10000; i++) {
		lag_seen(lm, i * 2654435761u, 0, 1, (double)i + 0.5);
		bad += !near(lag_last(lm, 0, 1), 0.5) && i == 10000;
	}
	is_int(bad, 0, "the remembered ones still measure 0.5");
	is_int(lag_pending(lm, 0, 1), 0, "all arrived");
	ok(lag_new(1, 10) == NULL && lag_new(65, 10) == NULL, "master count checked");
	lag_free(lm);
}

int main(void)
{
	test_two_masters();
	test_three_masters();
	test_bounded();
	return tap_done();
}
