/* Hardware counters (cycles, instructions) of one CPU via perf_event_open.
 * Many VMs expose no PMU: il_perf_open then fails with a reason and callers
 * report the derived figures (IPC, cycles/query) as not available. */
#ifndef IRQLAB_PERF_H
#define IRQLAB_PERF_H

#include <stddef.h>
#include <stdint.h>

struct il_perf {
	int fd_cycles, fd_instr;	/* -1 when closed */
};

/* Opens cycles and instructions counting everything on cpu (needs root or
 * perf_event_paranoid <= 0). Returns 0 or -errno with a sentence in err. */
int il_perf_open(struct il_perf *p, int cpu, char *err, size_t errlen);
int il_perf_start(struct il_perf *p);		/* reset and enable */
/* Disables and reads; scaled for multiplexing. */
int il_perf_stop(struct il_perf *p, uint64_t *cycles, uint64_t *instr);
void il_perf_close(struct il_perf *p);

#endif
