/* perf counters: either they work and count plausibly, or opening fails
 * with a sentence that says why (this VM has no PMU). */
#include <stdio.h>
#include <string.h>

#include "irqlab/perf.h"
#include "tap.h"

/* a global sink keeps the busy loop from being optimised away */
static volatile unsigned long x;

int main(void)
{
	struct il_perf p;
	char err[256] = "";
	int rc = il_perf_open(&p, 0, err, sizeof(err));

	if (rc < 0) {
		ok(strlen(err) > 10, "open failed with a reason: %s", err);
		ok(p.fd_cycles == -1 && p.fd_instr == -1, "nothing left open");
		return tap_done();
	}
	uint64_t c = 0, i = 0;

	ok(il_perf_start(&p) == 0, "counters started");
	for (unsigned long k = 0; k < 20000000; k++)
		x += k;
	ok(il_perf_stop(&p, &c, &i) == 0, "counters read");
	ok(c > 1000000 && i > 1000000, "cycles %llu and instructions %llu counted",
	   (unsigned long long)c, (unsigned long long)i);
	il_perf_close(&p);
	return tap_done();
}
