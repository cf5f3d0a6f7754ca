/* Minimal TAP producer for the unit tests; prove reads the output.
 * Each test file: plan with tap_plan(n) or end with tap_done(); tap_skip_all()
 * when the world it needs is missing, with the reason. */
#ifndef IRQLAB_TAP_H
#define IRQLAB_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

static inline void tap_plan(int n) { printf("1..%d\n", n); }

static inline void tap_skip_all(const char *why)
{
	printf("1..0 # SKIP %s\n", why);
	exit(0);
}

static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("# ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
}

static inline int tap_ok(int cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	if (!cond)
		tap_failed++;
	fflush(stdout);
	return cond;
}

static inline void tap_skip(const char *why)
{
	printf("ok %d # SKIP %s\n", ++tap_n, why);
}

/* Closes a test without a plan; returns the exit status for main. */
static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#define ok(cond, ...) tap_ok(!!(cond), __VA_ARGS__)
#define is_int(got, want, name)                                              \
	do {                                                                 \
		long long g_ = (long long)(got), w_ = (long long)(want);    \
		if (!tap_ok(g_ == w_, "%s", name))                          \
			tap_diag("  got %lld, want %lld", g_, w_);          \
	} while (0)
#define is_str(got, want, name)                                              \
	do {                                                                 \
		const char *g_ = (got), *w_ = (want);                       \
		if (!tap_ok(g_ && w_ && strcmp(g_, w_) == 0, "%s", name))   \
			tap_diag("  got '%s', want '%s'", g_ ? g_ : "(null)", \
				 w_ ? w_ : "(null)");                        \
	} while (0)

#endif
