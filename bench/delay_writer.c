/*
 * delay_writer.c - a paced writer for bench/delay.sh: single-row UPDATE
 * transactions (autocommit) on a few hundred hot rows, at a fixed rate, over
 * one connection.
 *
 *	delay_writer -S SOCKET [-u USER] [-r RATE] [-t SECONDS] [-k ROWS] [-s SEED] [-l LOG]
 *
 * Statement i is due at start + i / RATE (absolute deadlines, so a late
 * statement is followed by the next ones without sleeping until the writer
 * is back on schedule).  Each is
 *	UPDATE app.hot SET v = V WHERE id = 1 + RANDOM % ROWS
 * where V = (SEED % 100) * 10,000,000 + i is unique to the statement, so a
 * conflict's row image names the statement.  With -l, LOG gets one line per
 * statement, "V MICROSECONDS", the wall clock (CLOCK_REALTIME) when the
 * server answered its commit.
 * Built by bench/delay.sh with `mariadb_config --cflags --libs` (not by
 * make).  At the end, one line:
 *	sent=N seconds=S rate=R late_ms_max=L lat_p50_ms=.. lat_p99_ms=.. lat_max_ms=.. cpu_s=..
 * late_ms_max is how far behind its schedule the writer ever was.  Exit 0, 1
 * on a server error (printed), 2 on usage errors.
 */
#include <mysql.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *user = "root";
	double rate = 1000, seconds = 30;
	long rows = 300;
	unsigned seed = 1;
	const char *log = NULL;
	int64_t start, due, t0, t1, late = 0, *lat, *done;
	long n, i;
	struct rusage ru;
	char sql[128];
	MYSQL *db;
	int c;

	while ((c = getopt(argc, argv, "S:u:r:t:k:s:l:")) != -1) {
		switch (c) {
		case 'S':
			sock = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 'r':
			rate = atof(optarg);
			break;
		case 't':
			seconds = atof(optarg);
			break;
		case 'k':
			rows = atol(optarg);
			break;
		case 's':
			seed = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'l':
			log = optarg;
			break;
		default:
			sock = NULL;
			optind = argc + 1;
			break;
		}
	}
	if (sock == NULL || optind != argc || rate <= 0 || seconds <= 0 || rows < 1) {
		fprintf(stderr, "usage: delay_writer -S SOCKET [-u USER] [-r RATE] [-t SECONDS] "
				"[-k ROWS] [-s SEED] [-l LOG]\n");
		return 2;
	}
	n = (long)(rate * seconds);
	lat = calloc((size_t)n, sizeof(*lat));
	done = calloc((size_t)n, sizeof(*done));
	db = mysql_init(NULL);
	if (lat == NULL || done == NULL || db == NULL ||
	    mysql_real_connect(db, NULL, user, NULL, NULL, 0, sock, 0) == NULL) {
		fprintf(stderr, "delay_writer: %s\n",
			db != NULL ? mysql_error(db) : "out of memory");
		return 1;
	}
	srand(seed);
	start = now_ns();
	for (i = 0; i < n; i++) {
		due = start + (int64_t)((double)i * 1e9 / rate);
		t0 = now_ns();
		if (t0 < due) {
			struct timespec ts = { (time_t)(due / 1000000000),
					       (long)(due % 1000000000) };
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
			t0 = now_ns();
		} else if (t0 - due > late) {
			late = t0 - due;
		}
		snprintf(sql, sizeof(sql), "UPDATE app.hot SET v = %ld WHERE id = %ld",
			 (long)(seed % 100) * 10000000 + i, 1 + rand() % rows);
		if (mysql_query(db, sql) != 0) {
			fprintf(stderr, "delay_writer: %s\n", mysql_error(db));
			return 1;
		}
		t1 = now_ns();
		lat[i] = t1 - t0;
		done[i] = wall_us();
	}
	t1 = now_ns();
	getrusage(RUSAGE_SELF, &ru);
	if (log != NULL) {
		FILE *f = fopen(log, "w");

		for (i = 0; f != NULL && i < n; i++)
			fprintf(f, "%ld %lld\n", (long)(seed % 100) * 10000000 + i,
				(long long)done[i]);
		if (f == NULL || fclose(f) != 0) {
			fprintf(stderr, "delay_writer: cannot write %s\n", log);
			return 1;
		}
	}
	qsort(lat, (size_t)n, sizeof(*lat), cmp_i64);
	printf("sent=%ld seconds=%.3f rate=%.1f late_ms_max=%.1f lat_p50_ms=%.3f lat_p99_ms=%.3f "
	       "lat_max_ms=%.3f cpu_s=%.2f\n",
	       n, (double)(t1 - start) / 1e9, (double)n * 1e9 / (double)(t1 - start),
	       (double)late / 1e6, (double)lat[n / 2] / 1e6, (double)lat[n * 99 / 100] / 1e6,
	       (double)lat[n - 1] / 1e6,
	       (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
		   (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	mysql_close(db);
	free(lat);
	free(done);
	return 0;
}
