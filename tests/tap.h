/*
 * tap.h - a minimal Test Anything Protocol producer for ringwatch's unit tests.
 *
 * Each check prints "ok N - name" or "not ok N - name" plus a diagnostic; the
 * test ends with tap_done(), which prints the plan and returns the exit code
 * (0 when every check passed).  automake's tap-driver.sh reads the output.
 */
#ifndef RINGWATCH_TESTS_TAP_H
#define RINGWATCH_TESTS_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count;
static int tap_failed;

static inline int tap_ok(int cond, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static inline int tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return cond;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...)                                                                     \
	do {                                                                                       \
		long long g_ = (long long)(got), w_ = (long long)(want);                           \
		if (!ok(g_ == w_, __VA_ARGS__))                                                    \
			printf("#   got %lld, want %lld\n", g_, w_);                               \
	} while (0)

#define is_str(got, want, ...)                                                                     \
	do {                                                                                       \
		const char *g_ = (got), *w_ = (want);                                              \
		int same_ = (g_ == NULL && w_ == NULL) ||                                          \
			    (g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0);                     \
		if (!ok(same_, __VA_ARGS__))                                                       \
			printf("#   got '%s'\n#  want '%s'\n", g_ ? g_ : "(null)",                 \
			       w_ ? w_ : "(null)");                                                \
	} while (0)

static inline void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* Print the plan; the exit code for main(). */
static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	if (tap_count == 0) {
		printf("# no checks ran\n");
		return 1;
	}
	return tap_failed == 0 ? 0 : 1;
}

#endif
