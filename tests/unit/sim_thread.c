/* Threaded NAPI: the poll runs in the NAPI's kthread on the app core
 * (aligned) or another core (separate), not in softirq; on the app core the
 * kthread waits for the app thread's slice protection to end; a remote IRQ
 * core (veth's sender) is simulated but not reported. */
#include <math.h>
#include <string.h>

#include "sim_harness.h"

/* One request, the app asleep: IRQ, kthread poll, app wakes and serves. */
static void aligned_idle(void)
{
	struct sim s;
	struct experiment e;

	if (harness_make(&s, &e, HARNESS_ONE_CORE "[nic]\nrx_usecs = 0\n"
			 "[napi]\nthreaded = aligned\n"))
		return;
	is_int(s.nq[0].kt_core, 0, "aligned: the kthread is on the app core");
	harness_inject(&s, 1000, 0);
	sim_run_until(&s, 1000000);
	is_int(s.st.served_total, 1, "aligned: the request is served");
	is_int(s.nq[0].polls, 1, "aligned: one poll, by the kthread");
	is_int(s.cores[0].softirqs, 0, "aligned: no NET_RX softirq");
	ok(s.cores[0].acct[CAT_SOFTIRQ] > 0, "aligned: its time counts as receive "
	   "(softirq) work");
	is_int(s.cores[0].cs, 2, "aligned: the app slept twice, never preempted");
	ok(s.nq[0].irq_armed, "aligned: the IRQ is re-armed after the poll");
	sim_free(&s);
}

/* The app thread serves a long request; a packet for the kthread arrives
 * 100 us in. The kthread waits for the app's slice (500 us here) to end. */
static void slice_protection(void)
{
	struct sim s;
	struct experiment e;

	if (harness_make(&s, &e, HARNESS_ONE_CORE "[nic]\nrx_usecs = 0\n"
			 "[napi]\nthreaded = aligned\n[kernel]\nsched_slice = 500us\n"
			 "[workload]\nservice = fixed:9000000\n"))
		return;
	harness_inject(&s, 0, 0);
	sim_run_until(&s, 50000);
	ok(s.th[0].in_service, "the app serves the first request (3.3 ms of work)");
	sim_t picked = s.cores[0].task_since;
	ok(s.cores[0].task == TASK_APP && picked < 50000,
	   "  it holds the CPU since %llu ns", (unsigned long long)picked);
	harness_inject(&s, 100000, 0);
	sim_run_until(&s, picked + 500000 - 1000);
	is_int(s.nq[0].polls, 1, "second packet: no poll before the app's slice ends");
	is_int(s.nq[0].irqs, 2, "  (its IRQ did fire and woke the kthread)");
	sim_run_until(&s, picked + 500000 + 30000);
	is_int(s.nq[0].polls, 2, "  the kthread polls once the slice is over");
	is_int(s.cores[0].cs, 2, "  preempting the app (one involuntary switch)");
	ok(s.th[0].in_service, "  the app then goes on with its request");
	sim_run_until(&s, 10000000);
	is_int(s.st.served_total, 2, "both requests served");
	sim_free(&s);

	/* without threaded NAPI the softirq runs at the IRQ's exit */
	if (harness_make(&s, &e, HARNESS_ONE_CORE "[nic]\nrx_usecs = 0\n"
			 "[workload]\nservice = fixed:9000000\n"))
		return;
	harness_inject(&s, 0, 0);
	harness_inject(&s, 100000, 0);
	sim_run_until(&s, 130000);
	is_int(s.nq[0].polls, 2, "softirq NAPI: polled at once, within 30 us");
	is_int(s.cores[0].softirqs, 2, "  in two NET_RX softirqs");
	sim_free(&s);
}

/* separate: the kthread has its own core and polls at once. */
static void separate(void)
{
	struct sim s;
	struct experiment e;

	if (harness_make(&s, &e, "[machine]\ncores = 2\n[nic]\nqueues = 1\n"
			 "coalesce = static\nrx_usecs = 0\n[napi]\nthreaded = separate\n"
			 "[workload]\nload = open\nconns = 1\nwire = 0\n"
			 "service = fixed:9000000\n"))
		return;
	is_int(s.nq[0].kt_core, 1, "separate: the kthread is on core 1");
	harness_inject(&s, 0, 0);
	harness_inject(&s, 100000, 0);
	sim_run_until(&s, 130000);
	is_int(s.nq[0].polls, 2, "separate: the second packet is polled at once");
	ok(s.cores[1].acct[CAT_SOFTIRQ] > 0 && s.cores[0].acct[CAT_SOFTIRQ] > 0,
	   "separate: poll time on core 1, IRQ time on core 0 (aligned IRQ)");
	is_int(s.cores[0].cs, 1, "separate: the app is never preempted");
	sim_free(&s);
}

/* remote IRQ (a veth sender): no IRQ and, without threads, no receive work
 * on the server core; the remote core is not in the result. */
static void remote(void)
{
	struct experiment e;
	struct il_result none, aligned;
	char err[256];
	const char *cfg = "[machine]\ncores = 1\n[nic]\nqueues = 1\naffinity = remote\n"
			  "coalesce = static\nrx_usecs = 0\n[workload]\nconns = 16\n"
			  "[run]\ntime = 0.01\nwarmup = 0.001\n";

	experiment_defaults(&e);
	if (experiment_load_string(&e, cfg, "t", err, sizeof(err)) ||
	    experiment_finish(&e, err, sizeof(err))) {
		tap_diag("%s", err);
		return;
	}
	sim_experiment(&e, &none, NULL);
	experiment_set(&e, "napi.threaded", "aligned", err, sizeof(err));
	experiment_finish(&e, err, sizeof(err));
	sim_experiment(&e, &aligned, NULL);
	ok(none.cpu_softirq == 0 && none.irq_per_s == 0,
	   "remote, softirq NAPI: no receive work on the server core");
	ok(aligned.cpu_softirq > 5 && aligned.irq_per_s == 0,
	   "remote, aligned kthread: receive work on the server core (%.1f%%)",
	   aligned.cpu_softirq);
	ok(aligned.qps < none.qps, "  which costs throughput (%.0f < %.0f QPS)",
	   aligned.qps, none.qps);
	double sum = aligned.cpu_user + aligned.cpu_sys + aligned.cpu_softirq +
		     aligned.cpu_idle;
	ok(fabs(sum - 100) < 1e-6, "  CPU shares of the one server core sum to 100%%");
}

static void config(void)
{
	struct experiment e;
	char err[256];

	experiment_defaults(&e);
	ok(experiment_set(&e, "napi.threaded", "sideways", err, sizeof(err)) == -1 &&
	   strstr(err, "napi.threaded") && strstr(err, "none, aligned or separate"),
	   "bad napi.threaded: %s", err);
	experiment_load_string(&e, "[machine]\ncores = 1\n[nic]\nqueues = 1\n"
			   "[napi]\nthreaded = separate\n", "t", err, sizeof(err));
	ok(experiment_finish(&e, err, sizeof(err)) == -1 && strstr(err, "separate needs"),
	   "separate on one core: %s", err);
	experiment_set(&e, "nic.affinity", "remote", err, sizeof(err));
	ok(experiment_finish(&e, err, sizeof(err)) == 0,
	   "separate on one core with a remote IRQ core is fine");
}

int main(void)
{
	aligned_idle();
	slice_protection();
	separate();
	remote();
	config();
	return tap_done();
}
