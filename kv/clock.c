/* The server clock (see clock.h). */
#include "clock.h"

#include "irqlab/clock.h"

#define NS 1000000000ull
#define MAXDELTA (60 * 60 * 24 * 30)	/* longer exptimes are unix times */

static time_t started;		/* unix time of relative second 0 */
static uint64_t mono_base;	/* monotonic second of relative second 0 */

void kv_clock_init(void)
{
	/* like memcached: start at 2 so "1" can mean "already expired" */
	started = time(NULL) - 2;
	mono_base = il_now_coarse_ns() / NS - 2;
}

uint32_t kv_clock_at(uint64_t mono_ns)
{
	return (uint32_t)(mono_ns / NS - mono_base);
}

uint32_t kv_clock(void)
{
	return kv_clock_at(il_now_coarse_ns());
}

uint64_t kv_clock_next(uint64_t mono_ns)
{
	return (mono_ns / NS + 1) * NS;
}

time_t kv_clock_started(void)
{
	return started;
}

uint32_t kv_realtime(int64_t exptime, uint32_t now)
{
	if (exptime == 0)
		return 0;
	if (exptime < 0)
		return 1;
	if (exptime > MAXDELTA) {
		if (exptime <= started)
			return 1;
		return (uint32_t)(exptime - started);
	}
	return (uint32_t)exptime + now;
}
