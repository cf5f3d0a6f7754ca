/* NAPI, after net/core/dev.c (6.13+): scheduling, the per-NAPI hrtimer that
 * implements gro_flush_timeout / defer_hard_irqs and irq_suspend_timeout,
 * napi_complete_done, the net_rx_action loop (weight 64, budget 300, 2 ms,
 * restarts then ksoftirqd), threaded NAPI (napi_threaded_poll: the NAPI's
 * kthread polls it until it completes) and the busy-poll side
 * (busy_poll_stop, napi_suspend_irqs, napi_resume_irqs). */
#include "sim.h"

#define MAX_SOFTIRQ_RESTART 10

static void poll_list_add(struct sim *s, int core, int q)
{
	struct sim_core *c = &s->cores[core];

	list_add_once(c->poll_list, &c->npoll, MAX_POLL_LIST, q);
	if (s->e->threaded)
		cpu_kthread_wake(s, core);
	else
		cpu_kick(s, core);
}

static void poll_list_del_head(struct sim_core *c)
{
	for (int i = 1; i < c->npoll; i++)
		c->poll_list[i - 1] = c->poll_list[i];
	c->npoll--;
}

/* ____napi_schedule: put the NAPI on this CPU's poll list, raise NET_RX;
 * or, threaded, set SCHED_THREADED and wake the NAPI's kthread, wherever it
 * runs (its NAPIs are that core's poll list). */
static void __napi_schedule(struct sim *s, int q, int core)
{
	if (s->e->threaded)
		core = s->nq[q].kt_core;
	poll_list_add(s, core, q);
}

/* napi_schedule_prep + __napi_schedule: if someone already owns the NAPI
 * (softirq or a busy poller), just mark it MISSED. */
void napi_schedule(struct sim *s, int q, int core)
{
	struct sim_queue *n = &s->nq[q];

	if (n->state & NAPIF_SCHED) {
		n->state |= NAPIF_MISSED;
		return;
	}
	n->state |= NAPIF_SCHED;
	__napi_schedule(s, q, core);
}

/* hrtimer_start(&napi->timer, timeout, HRTIMER_MODE_REL_PINNED): a restart
 * replaces the pending expiry. */
void napi_timer_start(struct sim *s, int q, sim_t timeout, int core)
{
	struct sim_queue *n = &s->nq[q];

	s->cores[core].sys_extra += s->c->arm;
	/* a guest reprograms its TSC deadline (an MSR write that exits,
	 * except with DID: the timer is the guest's own) only when this timer
	 * expires before the CPU's next event, taken as the next 1 ms tick */
	if (s->vm && s->e->vm.delivery != DELIV_DID &&
	    s->now + timeout < (s->now / 1000000 + 1) * 1000000)
		vm_sync_exit(s, core, EXIT_TIMER);
	n->timer_armed = true;
	n->timer_gen++;
	n->timer_exp = s->now + timeout;
	n->timer_core = core;
	evq_push(&s->q, n->timer_exp, EV_NAPI_TIMER, (uint32_t)q, n->timer_gen);
}

/* The hrtimer fired: an interrupt on the pinned core, whose handler
 * (napi_watchdog) schedules the NAPI unless someone owns it. */
void napi_watchdog(struct sim *s, int q, uint32_t gen)
{
	struct sim_queue *n = &s->nq[q];

	if (gen != n->timer_gen || !n->timer_armed)
		return;
	n->timer_armed = false;
	cpu_raise_timer(s, n->timer_core, q);
}

/* Returns true when the driver may re-enable the device IRQ. */
bool napi_complete_done(struct sim *s, int q, uint32_t work, int core)
{
	struct sim_queue *n = &s->nq[q];
	const struct il_mode *m = &s->e->mode;
	sim_t timeout = 0;
	bool ret = true;

	if (n->state & NAPIF_IN_BUSY_POLL)
		return false;
	if (work) {
		timeout = m->gro_flush_timeout;	/* GRO is on */
		n->defer_count = (int)m->defer_hard_irqs;
	}
	/* 6.13: a busy poller that prefers busy polling keeps the IRQ off
	 * for irq_suspend_timeout, without using up the deferral count */
	if ((n->state & NAPIF_PREFER_BUSY_POLL) && m->irq_suspend_timeout) {
		timeout = m->irq_suspend_timeout;
		ret = false;
	}
	if (ret && n->defer_count > 0) {
		n->defer_count--;
		timeout = m->gro_flush_timeout;
		if (timeout)
			ret = false;
	}
	bool missed = n->state & NAPIF_MISSED;
	n->state &= ~(NAPIF_MISSED | NAPIF_SCHED | NAPIF_PREFER_BUSY_POLL);
	if (missed) {
		/* poll once more: keep SCHED and go back on the list */
		n->state |= NAPIF_SCHED;
		__napi_schedule(s, q, core);
		return false;
	}
	if (timeout)
		napi_timer_start(s, q, timeout, core);
	return ret;
}

/* Packets a poll took reach their sockets: ep_poll_callback per socket. */
void napi_deliver(struct sim *s, int q, struct fifo *pkts, int core)
{
	struct sim_thread *t = &s->th[s->nq[q].thread];
	uint32_t n = pkts->n;

	if (s->e->app == APP_CPU_LOOP) {
		/* nobody reads this socket: the packets are dropped there */
		while (pkts->n) {
			client_consumed(s, fifo_pop(s, pkts), false);
			if (s->measuring)
				s->st.sunk++;
		}
		return;
	}
	while (pkts->n)
		fifo_push(s, &t->ready, fifo_pop(s, pkts));
	if (!n)
		return;
	/* a guest waking a thread on another vCPU sends an IPI */
	if (s->vm && t->core != core && t->state == T_SLEEP)
		vm_ipi(s, core, t->core);
	ep_poll_callback(s, s->nq[q].thread, n);
}

/* Start of a net_rx_action round on this core. */
void net_rx_action_begin(struct sim *s, int core)
{
	struct sim_core *c = &s->cores[core];

	c->in_softirq = true;
	c->sirq_budget = s->e->netdev_budget;
	c->sirq_limit = s->now + s->e->netdev_budget_usecs;
	c->softirqs++;
}

/* napi_threaded_poll_loop: __napi_poll, then poll again while the NAPI
 * used its whole weight (cond_resched between polls: cpu.c decides whether
 * the app thread gets the CPU first); no budget, no ksoftirqd. */
static void napi_thread_poll_done(struct sim *s, int q, uint32_t work, int core)
{
	struct sim_core *c = &s->cores[core];

	if (work < (uint32_t)s->e->napi_weight) {
		if (napi_complete_done(s, q, work, core))
			nic_irq_enable(s, q);
	} else if (s->nq[q].state & NAPIF_PREFER_BUSY_POLL) {
		if (napi_complete_done(s, q, work, core))
			napi_schedule(s, q, core);
	} else {
		c->poll_list[c->npoll++] = q;	/* repoll */
	}
}

/* One napi_poll of the head of the poll list ended (cpu.c took kn packets
 * at its start). */
void net_rx_action_poll_done(struct sim *s, int core)
{
	struct sim_core *c = &s->cores[core];
	int q = c->poll_list[0];
	struct sim_queue *n = &s->nq[q];
	uint32_t work = c->kn;
	uint32_t weight = (uint32_t)s->e->napi_weight;

	napi_deliver(s, q, &c->kpkts, core);
	nic_dim_poll(s, q, work);
	c->sirq_budget -= (int)work;
	poll_list_del_head(c);
	if (s->e->threaded) {
		napi_thread_poll_done(s, q, work, core);
		return;
	}
	if (work < weight) {
		/* the driver: napi_complete_done, then re-arm the CQ */
		if (napi_complete_done(s, q, work, core))
			nic_irq_enable(s, q);
	} else if (n->state & NAPIF_PREFER_BUSY_POLL) {
		/* __napi_poll: a busy poller wants it; let go early */
		if (napi_complete_done(s, q, work, core))
			napi_schedule(s, q, core);
	} else {
		c->poll_list[c->npoll++] = q;	/* repoll at the tail */
	}
	if (!c->npoll) {
		c->in_softirq = false;
		c->sirq_restarts = 0;
		c->ksoftirqd = false;
		return;
	}
	if (c->sirq_budget <= 0 || s->now >= c->sirq_limit) {
		/* round over with work left: __do_softirq restarts a few
		 * times, then leaves it to ksoftirqd */
		c->in_softirq = false;
		if (++c->sirq_restarts >= MAX_SOFTIRQ_RESTART)
			c->ksoftirqd = true;
	}
}

/* ep_poll returned events: hold the IRQ off for irq_suspend_timeout. */
void napi_suspend_irqs(struct sim *s, int q)
{
	const struct il_mode *m = &s->e->mode;

	if (!m->irq_suspend_timeout)
		return;
	s->st.suspends++;
	napi_timer_start(s, q, m->irq_suspend_timeout, s->th[s->nq[q].thread].core);
}

/* The busy poll found nothing: let interrupts (and deferral) take over. */
void napi_resume_irqs(struct sim *s, int q, int core)
{
	if (!s->e->mode.irq_suspend_timeout)
		return;
	s->st.resumes++;
	if (s->e->threaded && !(s->nq[q].state & NAPIF_SCHED))
		s->cores[core].sys_extra += s->c->wake;	/* wakes the kthread */
	napi_schedule(s, q, core);
}

/* busy_poll_stop, first half: with prefer_busy_poll, keep the IRQ off
 * (skip_schedule) for irq_suspend_timeout if set (6.13), else re-arm the
 * deferral: reload defer_hard_irqs and wait gro_flush_timeout. The last
 * poll's napi_complete_done still sees PREFER_BUSY_POLL. */
void busy_poll_stop_arm(struct sim *s, int q, int core, struct sim_thread *t)
{
	struct sim_queue *n = &s->nq[q];
	const struct il_mode *m = &s->e->mode;
	sim_t timeout;

	n->state &= ~(NAPIF_MISSED | NAPIF_IN_BUSY_POLL);
	t->bl_skip_schedule = false;
	if (m->prefer_busy_poll) {
		timeout = m->irq_suspend_timeout;
		if (!timeout) {
			n->defer_count = (int)m->defer_hard_irqs;
			if (n->defer_count)
				timeout = m->gro_flush_timeout;
		}
		if (timeout) {
			napi_timer_start(s, q, timeout, core);
			t->bl_skip_schedule = true;
		}
	}
}

/* busy_poll_stop, second half, after the last napi->poll(budget). */
void busy_poll_stop_done(struct sim *s, int q, int core, struct sim_thread *t,
			 uint32_t work)
{
	struct sim_queue *n = &s->nq[q];
	uint32_t budget = s->e->mode.busy_poll_budget ? s->e->mode.busy_poll_budget : 8;

	if (work < budget) {
		if (napi_complete_done(s, q, work, core))
			nic_irq_enable(s, q);
		return;
	}
	/* __busy_poll_stop */
	if (!t->bl_skip_schedule) {
		if (s->e->threaded)
			s->cores[core].sys_extra += s->c->wake;
		__napi_schedule(s, q, core);
	}
	else
		n->state &= ~NAPIF_SCHED;
}
