/* Shared by the sim unit tests: build a model from config text, inject
 * request packets at chosen times, run to a time. Not a test itself. */
#ifndef SIM_HARNESS_H
#define SIM_HARNESS_H

#include "../../sim/sim.h"
#include "tap.h"

static inline int harness_make(struct sim *s, struct experiment *e, const char *cfg)
{
	char err[256];

	experiment_defaults(e);
	if (experiment_load_string(e, cfg, "test", err, sizeof(err)) ||
	    experiment_finish(e, err, sizeof(err))) {
		tap_diag("config: %s", err);
		return -1;
	}
	if (sim_init(s, e))
		return -1;
	s->measuring = true;
	/* the app threads enter epoll_wait (and sleep: nothing yet) */
	for (int i = 0; i < s->nthreads; i++)
		cpu_kick(s, s->th[i].core);
	return 0;
}

static inline void harness_inject(struct sim *s, sim_t t, uint32_t conn)
{
	uint32_t id = sim_req_new(s);

	s->reqs[id].conn = conn;
	s->reqs[id].sched = t;
	evq_push(&s->q, t, EV_RX, id, 0);
}

/* One core, one queue, one connection, open loop (replies just end). */
#define HARNESS_ONE_CORE \
	"[machine]\ncores = 1\n[nic]\nqueues = 1\ncoalesce = static\n" \
	"[workload]\nload = open\nconns = 1\nwire = 0\n"

#endif
