/* The application side of the kernel, after fs/eventpoll.c (6.13+):
 * ep_poll's loop (events -> return, suspending IRQs; else busy loop; else
 * sleep), ep_busy_loop / napi_busy_loop (own the NAPI, poll it from the
 * thread until events or busy_poll_usecs), and ep_poll_callback. */
#include "sim.h"

static bool ep_busy_loop_on(const struct sim *s)
{
	/* 6.13: prefer_busy_poll alone also triggers the busy loop */
	return s->e->mode.busy_poll_usecs || s->e->mode.prefer_busy_poll;
}

uint32_t ep_busy_budget(const struct sim *s)
{
	/* BUSY_POLL_BUDGET when the epoll instance sets none */
	return s->e->mode.busy_poll_budget ? s->e->mode.busy_poll_budget : 8;
}

/* ep_poll found nothing and will not busy poll (again). */
void ep_no_events(struct sim *s, struct sim_thread *t)
{
	if (s->e->mode.wait == IL_WAIT_SPIN) {
		/* epoll_pwait2 with 1 ns returned 0; the app calls again. Without
		 * a NAPI id the next call cannot busy poll: the app spins in
		 * user space until the softirq delivers something. */
		t->phase = t->napi_valid && ep_busy_loop_on(s) ? P_EPOLL : P_USPIN;
		return;
	}
	t->state = T_SLEEP;
	s->cores[t->core].cs++;
}

static void napi_busy_loop_begin(struct sim *s, struct sim_thread *t)
{
	struct sim_queue *n = &s->nq[t->queue];
	unsigned prefer = s->e->mode.prefer_busy_poll ? NAPIF_PREFER_BUSY_POLL : 0;

	t->bl_start = s->now;
	if (n->state & (NAPIF_SCHED | NAPIF_IN_BUSY_POLL)) {
		/* someone owns it (softirq): only flag our preference */
		n->state |= prefer;
		t->bl_owned = false;
		t->phase = P_BL_SPIN;
		return;
	}
	n->state |= NAPIF_SCHED | NAPIF_IN_BUSY_POLL | prefer;
	t->bl_owned = true;
	t->phase = P_BL_POLL;
}

/* The decision point at the top of ep_poll's loop. */
void ep_poll(struct sim *s, struct sim_thread *t)
{
	if (t->ready.n) {
		uint32_t max = (uint32_t)s->e->maxevents;
		t->batch = t->ready.n < max ? t->ready.n : max;
		/* ep_suspend_napi_irqs */
		if (s->e->mode.prefer_busy_poll && t->napi_valid)
			napi_suspend_irqs(s, t->queue);
		t->phase = P_REQ_USER;
		return;
	}
	if (!t->bl_done && ep_busy_loop_on(s) && t->napi_valid) {
		t->bl_done = true;
		napi_busy_loop_begin(s, t);
		return;
	}
	ep_no_events(s, t);
}

/* napi_busy_loop returned to ep_busy_loop. */
void ep_busy_loop_end(struct sim *s, struct sim_thread *t)
{
	if (t->ready.n) {
		ep_poll(s, t);
		return;
	}
	/* busy poll timed out: resume IRQs, drop the NAPI id */
	if (s->e->mode.prefer_busy_poll)
		napi_resume_irqs(s, t->queue, t->core);
	t->napi_valid = false;
	t->phase = P_AFTER_BL;
}

/* One step of napi_busy_loop's for(;;) after a poll or a spin. */
void ep_busy_loop_step(struct sim *s, struct sim_thread *t)
{
	struct sim_queue *n = &s->nq[t->queue];
	struct sim_core *c = &s->cores[t->core];
	sim_t limit = (sim_t)s->e->mode.busy_poll_usecs * 1000;
	/* need_resched: ksoftirqd, or a NAPI kthread past our slice */
	bool resched = c->npoll && (c->ksoftirqd || (s->e->threaded &&
			s->now - c->task_since >= s->slice));
	bool end = t->ready.n || s->now - t->bl_start > limit || resched;

	if (!end) {
		if (!t->bl_owned) {
			if (!(n->state & (NAPIF_SCHED | NAPIF_IN_BUSY_POLL))) {
				sim_t start = t->bl_start;
				napi_busy_loop_begin(s, t);
				t->bl_start = start;
			} else {
				t->phase = P_BL_SPIN;
			}
		} else {
			t->phase = n->rcount ? P_BL_POLL : P_BL_SPIN;
		}
		return;
	}
	if (t->bl_owned) {
		busy_poll_stop_arm(s, t->queue, t->core, t);
		t->phase = P_BL_STOP;
		return;
	}
	ep_busy_loop_end(s, t);
}

/* Data reached one of the thread's sockets. */
void ep_poll_callback(struct sim *s, int th, uint32_t n)
{
	struct sim_thread *t = &s->th[th];

	(void)n;
	t->napi_valid = true;		/* ep_set_busy_poll_napi_id */
	if (t->state == T_SLEEP)
		cpu_wake_thread(s, th);
	else
		app_spin_check(s, th);
}

/* A packet entered queue q's ring: a busy poller spinning on it notices. */
void ep_ring_activity(struct sim *s, int q)
{
	int th = s->nq[q].thread;
	struct sim_thread *t = &s->th[th];

	if (t->phase == P_BL_SPIN && t->bl_owned)
		app_spin_check(s, th);
}

/* A spinning thread re-checks what it waits for. */
void app_spin_check(struct sim *s, int th)
{
	struct sim_thread *t = &s->th[th];
	struct sim_core *c = &s->cores[t->core];
	bool done = false;

	if (c->cur != W_APP || !c->spin)
		return;
	if (t->phase == P_BL_SPIN)
		done = t->ready.n || (t->bl_owned && s->nq[t->queue].rcount) ||
		       (!t->bl_owned && !(s->nq[t->queue].state &
					  (NAPIF_SCHED | NAPIF_IN_BUSY_POLL)));
	else if (t->phase == P_USPIN)
		done = t->ready.n > 0;
	if (done)
		cpu_end_spin(s, t->core);
}
