/* The cost model (docs/sim.md, "Cost model"). A piece of work of I
 * instructions that follows an asynchronous interruption takes
 *     C = I / ipc0 + P        cycles,
 * where P is the pollution the interruptions since the thread last ran
 * left behind:
 *     P = n_async * pen_async + n_pkt * pen_pkt + n_wake * pen_wake.
 * Time is C / f. Modelled IPC is then sum(I) / sum(C) over the run, so
 * QPS = f * IPC / IPQ comes out of the model instead of being put in. */
#include "sim.h"

sim_t cost_ns(const struct sim *s, double instr, double pen_cycles)
{
	double ns = (instr * s->inv_ipc0 + pen_cycles) * s->inv_ghz;

	return (sim_t)(ns + 0.5);	/* costs are never negative */
}

/* An empty polling loop retires instructions at ipc_spin. */
double cost_spin_instr(const struct sim *s, sim_t ns)
{
	return (double)ns * s->e->freq_ghz * s->c->ipc_spin;
}

/* Host work of a VM (vhost, host NIC): bare metal's IPC, no pollution
 * modelled on the host side. */
sim_t cost_host_ns(const struct sim *s, double instr)
{
	return (sim_t)(instr * s->inv_ipc_host * s->inv_ghz + 0.5);
}
