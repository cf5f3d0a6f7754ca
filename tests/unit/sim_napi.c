/* NAPI: software IRQ deferral re-enables the IRQ only after
 * defer_hard_irqs empty polls; IRQ suspend holds IRQs off while epoll keeps
 * finding events and hands back to deferral when a busy poll finds nothing. */
#include "sim_harness.h"

static void defer(int n)
{
	struct sim s;
	struct experiment e;
	char cfg[512];

	snprintf(cfg, sizeof(cfg), HARNESS_ONE_CORE "[nic]\nrx_usecs = 0\n"
		 "[mode]\nspec = defer,defer_hard_irqs=%d,gro_flush_timeout=20us\n", n);
	if (harness_make(&s, &e, cfg))
		return;
	harness_inject(&s, 0, 0);
	/* step 1 us at a time until the driver re-arms the IRQ */
	sim_t t = 1000;
	sim_run_until(&s, t);
	ok(!s.nq[0].irq_armed, "defer %d: the IRQ masks itself", n);
	while (!s.nq[0].irq_armed && t < 10000000)
		sim_run_until(&s, t += 1000);
	is_int(s.cores[0].timers, n, "defer: IRQ re-armed at the n-th empty (hrtimer) poll");
	ok(t > (sim_t)n * 20000 && t < (sim_t)n * 30000,
	   "defer %d: re-armed after %d x gro_flush_timeout 20 us (at %llu us)", n, n,
	   (unsigned long long)t / 1000);
	sim_run_until(&s, 10000000);
	is_int(s.cores[0].timers, n, "  ... and no timer after that");
	is_int(s.nq[0].irqs, 1, "  one device IRQ in all");
	sim_free(&s);
}

static void no_defer(void)
{
	struct sim s;
	struct experiment e;

	if (harness_make(&s, &e, HARNESS_ONE_CORE "[nic]\nrx_usecs = 0\n[mode]\nspec = base\n"))
		return;
	harness_inject(&s, 0, 0);
	sim_run_until(&s, 10000);
	ok(s.nq[0].irq_armed, "base: IRQ re-armed right after the poll");
	is_int(s.cores[0].timers, 0, "base: no hrtimer");
	sim_free(&s);
}

static void suspend(void)
{
	struct sim s;
	struct experiment e;

	if (harness_make(&s, &e, HARNESS_ONE_CORE "[nic]\nrx_usecs = 0\n[mode]\nspec = suspend\n"))
		return;
	/* a request every 5 us for 1 ms: more than the thread serves */
	for (sim_t t = 0; t < 1000000; t += 5000)
		harness_inject(&s, t, 0);
	sim_run_until(&s, 999999);
	is_int(s.nq[0].irqs, 1, "suspend: one IRQ starts it, none while busy");
	ok(s.st.suspends >= 2, "suspend: epoll re-armed the suspension (%llu times)",
	   (unsigned long long)s.st.suspends);
	is_int(s.st.resumes, 0, "suspend: never resumed while events keep coming");
	ok(s.nq[0].timer_armed && s.nq[0].timer_exp > s.now + 10000000,
	   "suspend: napi timer is the 20 ms suspend timer");
	ok(s.st.busy_polled > 50, "suspend: the thread polls the packets itself (%llu)",
	   (unsigned long long)s.st.busy_polled);
	is_int(s.cores[0].softirqs, 1, "suspend: one softirq (the first IRQ's)");
	/* the traffic stops: the backlog drains, a busy poll finds nothing */
	sim_t t = 1000000;
	while (!s.st.resumes && t < 5000000)
		sim_run_until(&s, t += 1000);
	ok(s.st.resumes == 1, "suspend: resumed when the busy poll found nothing");
	is_int(s.st.served_total, 200, "suspend: all 200 requests served by then");
	is_int(s.nq[0].irqs, 1, "suspend: still that one IRQ");
	ok(!s.nq[0].irq_armed && s.nq[0].timer_armed &&
	   s.nq[0].timer_exp <= s.now + 20000,
	   "suspend: then deferral (gro_flush_timeout 20 us) holds the IRQ");
	/* 100 empty polls of 20 us later the IRQ is back, long before 20 ms */
	sim_t resumed = t;
	while (!s.nq[0].irq_armed && t < resumed + 20000000)
		sim_run_until(&s, t += 10000);
	ok(t - resumed > 2000000 && t - resumed < 3000000,
	   "suspend: IRQ re-armed after 100 deferral polls (%llu us), not 20 ms",
	   (unsigned long long)(t - resumed) / 1000);
	harness_inject(&s, t + 1000, 0);
	sim_run_until(&s, t + 1000);
	is_int(s.nq[0].irqs, 2, "suspend: the next packet raises an IRQ again");
	sim_free(&s);
}

static void busywait(void)
{
	struct sim s;
	struct experiment e;

	if (harness_make(&s, &e, HARNESS_ONE_CORE "[nic]\nrx_usecs = 0\n[mode]\nspec = busywait\n"))
		return;
	for (sim_t t = 0; t < 2000000; t += 20000)
		harness_inject(&s, t, 0);
	sim_run_until(&s, 2000000);
	ok(s.nq[0].irqs <= 1, "busywait: at most the first IRQ (%llu)",
	   (unsigned long long)s.nq[0].irqs);
	ok(s.st.busy_polled >= 98, "busywait: packets busy polled (%llu of 100)",
	   (unsigned long long)s.st.busy_polled);
	ok(s.cores[0].acct[CAT_IDLE] == 0, "busywait: the core never idles");
	sim_free(&s);
}

int main(void)
{
	no_defer();
	defer(1);
	defer(3);
	defer(10);
	suspend();
	busywait();
	return tap_done();
}
