/* --bench: the simulator's speed in events per CPU-second of this process
 * (the machine is shared: another process taking the core does not count
 * against the simulator), next to a peer measured in the same run: the
 * bare event queue doing the same number of pops. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "irqlab/clock.h"
#include "calib.h"
#include "sim.h"
#include "speed.h"

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The bare event queue: `events` pops, each followed by a push, with 512
 * events pending (the model has a few hundred). Events per CPU-second. */
static double queue_rate(uint64_t events)
{
	struct evq q;
	struct sim_ev ev;
	uint64_t x = 88172645463325252ULL;

	if (evq_init(&q, 8192))
		return 0;
	for (int k = 0; k < 512; k++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		evq_push(&q, x % 1000000, EV_CORE, 0, 0);
	}
	double t0 = cpu_s();
	for (uint64_t k = 0; k < events; k++) {
		evq_pop(&q, &ev);
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		evq_push(&q, ev.t + x % 100000, EV_CORE, 0, 0);
	}
	double rate = (double)events / (cpu_s() - t0);
	evq_free(&q);
	return rate;
}

/* The setups timed: the 8-core cover-letter machine at 1M QPS open loop
 * (below its capacity in every mode but base), and two VM setups of the
 * thesis (VirtIO aligned at 150K QPS, SR-IOV at 500K), in the mode given,
 * one simulated second after 0.1 s of warm-up each. */
static const struct {
	const char *setup, *qps, *what;
} setups[] = {
	{ "cover-suspend20-max", "1000000", "8 cores, open loop 1M QPS" },
	{ "vm-virtio-aligned", "150000", "VM: VirtIO aligned, 4 vCPUs, 150K QPS" },
	{ "vm-sriov-adaptive", "500000", "VM: SR-IOV, 8 vCPUs, 500K QPS" },
};

static int bench_experiment(struct experiment *e, int i, const char *mode, char *err,
			    size_t errlen)
{
	return calib_experiment(calib_find(setups[i].setup), e, 0, err, errlen) ||
	       experiment_set(e, "workload.load", "open", err, errlen) ||
	       experiment_set(e, "workload.qps", setups[i].qps, err, errlen) ||
	       experiment_set(e, "workload.ia", "exponential:1", err, errlen) ||
	       experiment_set(e, "run.time", "1", err, errlen) ||
	       experiment_set(e, "run.warmup", "0.1", err, errlen) ||
	       experiment_set(e, "mode.spec", mode, err, errlen) ||
	       experiment_finish(e, err, errlen) ? -1 : 0;
}

/* One setup three times: median and range of events per CPU-second. */
static int time_setup(FILE *out, int i, const char *mode, uint64_t *events,
		      char *err, size_t errlen)
{
	struct experiment e;
	double rate[3], wall[3];
	struct il_result r;

	if (bench_experiment(&e, i, mode, err, errlen))
		return -1;
	for (int k = 0; k < 3; k++) {
		double t0 = cpu_s(), w0 = il_now_s();
		if (sim_experiment(&e, &r, events)) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		wall[k] = il_now_s() - w0;
		rate[k] = (double)*events / (cpu_s() - t0);
	}
	qsort(rate, 3, sizeof(double), cmp_dbl);
	qsort(wall, 3, sizeof(double), cmp_dbl);
	fprintf(out, "bench: %s, mode %s, 1.1 simulated s: %llu events per run, "
		"%.2f s wall (median of 3), %.1f M events per CPU-second (min %.1f, "
		"max %.1f), achieved %.0f QPS\n", setups[i].what, e.mode_spec,
		(unsigned long long)*events, wall[1], rate[1] / 1e6, rate[0] / 1e6,
		rate[2] / 1e6, r.qps);
	return 0;
}

int sim_speed(FILE *out, const char *mode, char *err, size_t errlen)
{
	uint64_t events = 0, first = 0;
	double peer[3];

	for (int i = 0; i < (int)(sizeof(setups) / sizeof(setups[0])); i++) {
		if (time_setup(out, i, mode, &events, err, errlen))
			return -1;
		if (!i)
			first = events;
	}
	for (int i = 0; i < 3; i++)
		peer[i] = queue_rate(first);
	qsort(peer, 3, sizeof(double), cmp_dbl);
	fprintf(out, "bench: peer (event queue alone, as many pops as the first "
		"setup): %.1f M events/s\n", peer[1] / 1e6);
	return 0;
}
