/* Counters of a run -> one result row, the same fields `irqlab bench`
 * measures (result.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sim.h"

void sim_result_fill(const struct sim *s, struct il_result *r)
{
	const struct experiment *e = s->e;
	double secs = (double)(s->end - s->measure_from) / 1e9;
	double acct[NCAT] = { 0 }, total = 0, cycles = 0, instr = 0;
	double irqs = 0, sirqs = 0, cs = 0;

	il_result_init(r);
	snprintf(r->mode, sizeof(r->mode), "%.31s", e->name[0] ? e->name : e->mode.name);
	snprintf(r->kind, sizeof(r->kind), "%s",
		 e->load == LOAD_OPEN ? "open" : "closed");
	snprintf(r->source, sizeof(r->source), "simulated");
	snprintf(r->server, sizeof(r->server), "sim");
	r->rep = 0;
	r->target_qps = e->load == LOAD_OPEN ? e->qps : 0;
	/* the server's cores; not the remote one (a veth sender's CPU) */
	for (int i = 0; i < s->nserver; i++) {
		const struct sim_core *c = &s->cores[i];
		for (int k = 0; k < NCAT; k++)
			acct[k] += (double)c->acct[k];
		cycles += c->cycles;
		instr += c->instr;
		irqs += (double)c->irqs;
		sirqs += (double)c->softirqs;
		cs += (double)c->cs;
	}
	/* the guest's view: host work on its cores is not in its shares */
	for (int k = 0; k < NCAT; k++)
		if (k != CAT_HOST)
			total += acct[k];
	if (total > 0) {
		r->cpu_user = 100.0 * acct[CAT_USER] / total;
		r->cpu_sys = 100.0 * acct[CAT_SYS] / total;
		r->cpu_softirq = 100.0 * acct[CAT_SOFTIRQ] / total;
		r->cpu_idle = 100.0 * acct[CAT_IDLE] / total;
	}
	r->duration_s = secs;
	r->requests = (double)s->st.completed;
	r->errors = (double)s->st.dropped;
	r->qps = secs > 0 ? (double)s->st.completed / secs : NAN;
	if (s->st.completed) {
		r->p50_us = (double)il_hist_quantile(s->lat, 0.50) / 1e3;
		r->p95_us = (double)il_hist_quantile(s->lat, 0.95) / 1e3;
		r->p99_us = (double)il_hist_quantile(s->lat, 0.99) / 1e3;
	}
	r->irq_per_s = irqs / secs;
	r->softirq_per_s = sirqs / secs;
	r->cs_per_s = cs / secs;
	r->busy_polled = (double)s->st.busy_polled;
	r->cycles = cycles;
	r->instructions = instr;
	r->ipc = cycles > 0 ? instr / cycles : NAN;
	if (s->st.completed) {
		r->cpq = cycles / (double)s->st.completed;
		r->ipq = instr / (double)s->st.completed;
	}
	vm_result(s, r, secs);
	r->gen_cpu = NAN;
	r->noise_cpu = NAN;
	/* a cpu_loop's QPS is its iterations, not the packet rate */
	bool behind = e->load == LOAD_OPEN && e->app != APP_CPU_LOOP &&
		      r->qps < 0.95 * e->qps;
	r->flagged = s->saturated || behind || s->st.dropped;
	if (s->saturated)
		snprintf(r->note, sizeof(r->note), "open loop fell behind (backlog cap)");
	else if (behind)
		snprintf(r->note, sizeof(r->note), "saturated: %.0f%% of the target rate",
			 100 * r->qps / e->qps);
	else if (s->st.dropped)
		snprintf(r->note, sizeof(r->note), "%llu ring drops",
			 (unsigned long long)s->st.dropped);
}
