/* The server clock: memcached's relative seconds since start, which item
 * times (exptime, last access) are kept in. Each worker thread holds its
 * own copy (kv_thread.now), refreshed by its loop's timer at every whole
 * second (thread.c), so requests never read the clock themselves. */
#ifndef KV_CLOCK_H
#define KV_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Starts the clock (once, before serving). */
void kv_clock_init(void);
/* Relative seconds now. */
uint32_t kv_clock(void);
/* Relative seconds at a monotonic time (irqlab/clock.h's coarse clock, as
 * the loops read it). */
uint32_t kv_clock_at(uint64_t mono_ns);
/* The monotonic time of the next whole relative second after mono_ns. */
uint64_t kv_clock_next(uint64_t mono_ns);
/* Unix time of relative second 0. */
time_t kv_clock_started(void);
/* memcached's exptime rule: 0 never, negative = already expired, up to 30
 * days relative, beyond that a unix time. Returns relative time. */
uint32_t kv_realtime(int64_t exptime, uint32_t now);

#endif
