/* Whole-model invariants: packets in = served + dropped + queued, CPU
 * shares sum to 100%, QPS = cycles/s x IPC / IPQ, determinism per seed. */
#include <math.h>

#include "sim_harness.h"

static uint64_t queued(const struct sim *s)
{
	uint64_t n = 0;

	for (int i = 0; i < s->nqueues; i++)
		n += s->nq[i].rcount;
	for (int i = 0; i < s->ncores; i++)
		n += s->cores[i].kpkts.n;
	for (int i = 0; i < s->nthreads; i++)
		n += s->th[i].ready.n + s->th[i].blpkts.n + s->th[i].in_service;
	return n;
}

static void conservation(const char *mode, const char *extra)
{
	struct sim s;
	struct experiment e;
	char cfg[512];

	snprintf(cfg, sizeof(cfg), "[mode]\nspec = %s\n[run]\ntime = 0.01\n"
		 "warmup = 0.002\n%s", mode, extra);
	if (harness_make(&s, &e, cfg))
		return;
	sim_free(&s);
	if (sim_init(&s, &e))
		return;
	sim_run(&s);
	uint64_t in = 0, drops = 0;
	for (int i = 0; i < s.nqueues; i++) {
		in += s.nq[i].pkts_in;
		drops += s.nq[i].drops;
	}
	uint64_t q = queued(&s);
	ok(in == s.st.served_total + drops + q,
	   "%s%s: in %llu = served %llu + dropped %llu + queued %llu", mode,
	   *extra ? " (small ring)" : "", (unsigned long long)in,
	   (unsigned long long)s.st.served_total, (unsigned long long)drops,
	   (unsigned long long)q);
	if (*extra)
		ok(drops > 0, "  the small ring dropped (%llu)", (unsigned long long)drops);
	struct il_result r;
	sim_result_fill(&s, &r);
	double sum = r.cpu_user + r.cpu_sys + r.cpu_softirq + r.cpu_idle;
	ok(fabs(sum - 100) < 1e-6, "%s: CPU shares sum to 100%% (%.9f)", mode, sum);
	/* busy cycles per second from the time accounting vs the cycle
	 * counters: QPS = f x busy x IPC / IPQ */
	double qps = e.freq_ghz * 1e9 * e.cores * (100 - r.cpu_idle) / 100 *
		     r.ipc / r.ipq;
	ok(fabs(qps - r.qps) / r.qps < 0.02,
	   "%s: QPS %.0f = cycles/s x IPC / IPQ = %.0f", mode, r.qps, qps);
	sim_free(&s);
}

static void determinism(void)
{
	struct experiment e;
	struct il_result a, b, c;
	char err[256];

	experiment_defaults(&e);
	if (experiment_load_string(&e, "[mode]\nspec = suspend\n[workload]\nload = open\n"
			       "qps = 300000\nia = fb_ia\nservice = exponential:0.0002\n"
			       "[run]\ntime = 0.01\nwarmup = 0.001\n", "t", err, sizeof(err)) ||
	    experiment_finish(&e, err, sizeof(err))) {
		tap_diag("%s", err);
		return;
	}
	sim_experiment(&e, &a, NULL);
	sim_experiment(&e, &b, NULL);
	e.seed = 2;
	sim_experiment(&e, &c, NULL);
	ok(a.qps == b.qps && a.p99_us == b.p99_us && a.cpu_sys == b.cpu_sys &&
	   a.cycles == b.cycles, "same seed, same result");
	ok(a.cycles != c.cycles, "another seed, another run");
	ok(fabs(a.qps - 300000) / 300000 < 0.05, "open loop reaches its target "
	   "(%.0f of 300000)", a.qps);
	ok(a.p50_us > 2 * 10, "latency includes both wire legs (p50 %.1f us)", a.p50_us);
}

static void low_load_modes(void)
{
	struct experiment e;
	struct il_result base, busy, susp;
	char err[256];
	const char *common = "[workload]\nload = open\nqps = 80000\n"
			     "[run]\ntime = 0.02\nwarmup = 0.002\n";

	experiment_defaults(&e);
	experiment_load_string(&e, common, "t", err, sizeof(err));
	experiment_set(&e, "mode.spec", "base", err, sizeof(err));
	experiment_finish(&e, err, sizeof(err));
	sim_experiment(&e, &base, NULL);
	experiment_set(&e, "mode.spec", "busywait", err, sizeof(err));
	experiment_finish(&e, err, sizeof(err));
	sim_experiment(&e, &busy, NULL);
	experiment_set(&e, "mode.spec", "suspend", err, sizeof(err));
	experiment_finish(&e, err, sizeof(err));
	sim_experiment(&e, &susp, NULL);
	ok(busy.cpu_idle < 1, "busywait burns the cores at low load (idle %.1f%%)",
	   busy.cpu_idle);
	ok(base.cpu_idle > 50 && susp.cpu_idle > 50,
	   "base and suspend idle at low load (%.0f%%, %.0f%%)", base.cpu_idle,
	   susp.cpu_idle);
	ok(base.cs_per_s > 0.5 * base.qps, "base sleeps and wakes per request "
	   "(%.0f cs/s)", base.cs_per_s);
	ok(busy.busy_polled > 0 && base.busy_polled == 0, "only busy modes busy poll");
}

/* Packed affinity: IRQs and softirqs on the cores without app threads;
 * threaded NAPI: the poll runs in a kthread (sim_thread tests it closely). */
static void placement(void)
{
	struct sim s;
	struct experiment e;

	if (harness_make(&s, &e, "[machine]\ncores = 4\n[nic]\nqueues = 2\n"
			 "affinity = packed\n[workload]\nconns = 64\n"
			 "[run]\ntime = 0.01\nwarmup = 0.001\n"))
		return;
	sim_free(&s);
	sim_init(&s, &e);
	sim_run(&s);
	ok(s.cores[0].acct[CAT_SOFTIRQ] == 0 && s.cores[1].acct[CAT_SOFTIRQ] == 0 &&
	   s.cores[0].irqs == 0, "packed: no IRQ or softirq on the app cores");
	ok(s.cores[2].acct[CAT_SOFTIRQ] > 0 && s.cores[3].acct[CAT_SOFTIRQ] > 0 &&
	   s.cores[2].acct[CAT_USER] == 0, "packed: softirq on cores 2-3, no user time");
	ok(s.st.served_total > 0, "packed: requests served (%llu)",
	   (unsigned long long)s.st.served_total);
	sim_free(&s);

	struct il_result r;
	experiment_defaults(&e);
	char err[256];
	if (experiment_load_string(&e, "[napi]\nthreaded = aligned\n[run]\ntime = 0.01\n"
			       "warmup = 0.001\n", "t", err, sizeof(err)) ||
	    experiment_finish(&e, err, sizeof(err))) {
		tap_diag("%s", err);
		return;
	}
	sim_experiment(&e, &r, NULL);
	ok(r.qps > 0 && r.softirq_per_s == 0 && r.cpu_softirq > 10,
	   "threaded NAPI: receive work in kthreads, no NET_RX softirq (%.0f QPS, "
	   "%.1f%% receive work)", r.qps, r.cpu_softirq);
}

/* Open loop past capacity: the clients' depth bounds what the server sees
 * (mutilate queues at the client), so throughput stays at capacity and the
 * wait shows as latency. */
static void overload(void)
{
	struct sim s;
	struct experiment e;

	if (harness_make(&s, &e, "[workload]\nload = open\nqps = 3000000\nconns = 64\n"
			 "[run]\ntime = 0.01\nwarmup = 0.002\n"))
		return;
	sim_free(&s);
	sim_init(&s, &e);
	sim_run(&s);
	uint32_t out = 0, waiting = 0;
	for (int c = 0; c < e.conns; c++) {
		out += s.conn_out[c];
		waiting += s.conn_wait[c].n;
	}
	ok(out <= 64, "overload: at most conns x depth outstanding (%u)", out);
	ok(waiting > 1000, "overload: the rest waits at the client (%u)", waiting);
	struct il_result r;
	sim_result_fill(&s, &r);
	ok(r.qps > 500000 && r.flagged, "overload: served at capacity (%.0f QPS), "
	   "flagged: %s", r.qps, r.note);
	sim_free(&s);
}

int main(void)
{
	placement();
	overload();
	conservation("base", "");
	conservation("suspend", "");
	conservation("napibusy", "");
	conservation("busywait", "");
	conservation("base", "[nic]\nring_size = 8\n[workload]\nconns = 2000\n");
	determinism();
	low_load_modes();
	return tap_done();
}
