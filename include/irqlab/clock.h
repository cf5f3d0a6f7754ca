/* The one monotonic clock of every program: CLOCK_MONOTONIC in ns (and the
 * coarse variant for once-per-loop server clocks, about 1-4 ms resolution,
 * a third of the cost). Inline: it sits on hot paths. */
#ifndef IRQLAB_CLOCK_H
#define IRQLAB_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t il_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t il_now_coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline double il_now_s(void)
{
	return (double)il_now_ns() / 1e9;
}

#endif
