/* Cores. Each core runs one piece of work at a time: a hard IRQ, an hrtimer
 * interrupt, one napi->poll (of net_rx_action, or of a NAPI kthread), or a
 * piece of its application thread. Priority: hard IRQs, timers, softirq
 * (unless handed to ksoftirqd, which takes turns with the thread), a
 * preempted app piece, the app thread, idle. An IRQ preempts an app piece;
 * the piece resumes later and pays the pollution the interruption left
 * behind (cost.c). With threaded NAPI the kthread is a task like the app
 * thread and the scheduler below decides between them. Time is charged to
 * user, sys, softirq (hard IRQ time included, as the thesis figures have no
 * irq column) or idle. */
#include "sim.h"

static void core_next(struct sim *s, int core);
static void preempt_app(struct sim *s, int core, bool handler);

static void account(struct sim *s, struct sim_core *c)
{
	sim_t dt = s->now - c->start;

	c->acct[c->cat] += dt;
	if (s->vm)
		vm_account(s, c, dt, false);
	if (c->cur == W_APP && c->spin) {
		c->cycles += (double)dt * s->e->freq_ghz;
		c->instr += cost_spin_instr(s, dt);
	}
	c->start = s->now;
}

static void begin(struct sim *s, int core, enum work w, enum cat cat,
		  sim_t dur, bool spin)
{
	struct sim_core *c = &s->cores[core];

	if (c->cur == W_NONE) {
		c->acct[CAT_IDLE] += s->now - c->idle_since;
		if (s->vm)
			vm_account(s, c, s->now - c->idle_since, true);
	}
	c->cur = w;
	c->cat = cat;
	c->spin = spin;
	c->start = c->piece_start = s->now;
	c->end = s->now + dur;
	c->gen++;
	evq_push(&s->q, c->end, EV_CORE, (uint32_t)core, c->gen);
}

static void charge(struct sim *s, struct sim_core *c, double instr, sim_t dur)
{
	c->instr += instr;
	c->cycles += (double)dur * s->e->freq_ghz;
}

/* A piece of guest (or bare-metal) kernel work. In a VM, an interrupt
 * handler also pays the exits of its delivery and its EOI (vm.c), any
 * guest piece the synchronous exits owed. */
static void kernel_piece(struct sim *s, int core, enum work w, int q,
			 double instr, enum cat cat, double pen)
{
	struct sim_core *c = &s->cores[core];
	sim_t dur, exits = 0;

	if (s->vm)
		exits = (sim_t)(w == W_SOFTIRQ || w == W_TXPOLL ?
				vm_guest_entry(s, core, &pen) :
				vm_irq_entry(s, core, &pen));
	dur = cost_ns(s, instr, pen);
	charge(s, c, instr, dur);
	begin(s, core, w, cat, dur + exits, false);
	c->kq = q;
}

/* Host work (a VM's host side). On a core with a vCPU the guest's clock
 * runs on meanwhile. A vhost worker preempting the vCPU thread is steal
 * time (KVM's steal-time MSR), not in the guest's shares (CAT_HOST); host
 * IRQ and softirq work done in the vCPU thread's exit, like the exits'
 * own service time, is charged by the guest to the context the vCPU left
 * (the category of its last guest piece), or idle if it was halted. */
void cpu_host_piece(struct sim *s, int core, enum work w, int kq, sim_t dur)
{
	struct sim_core *c = &s->cores[core];
	enum cat cat = CAT_HOST;

	if (c->vcpu && (c->halted || (w == W_EXIT && kq != EXIT_IO)))
		cat = CAT_IDLE;
	else if (c->vcpu && w != W_VHOST)
		cat = c->cat == CAT_HOST ? CAT_SYS : c->cat;
	begin(s, core, w, cat, dur, false);
	c->kq = kq;
}

void cpu_start_app(struct sim *s, int core, enum cat cat, double instr,
		   bool polluted)
{
	struct sim_core *c = &s->cores[core];
	double pen = polluted ? c->pen : 0;
	sim_t dur;

	if (polluted)
		c->pen = 0;
	if (polluted && cat == CAT_USER) {
		pen += c->pen_user;	/* a VM's exits: vm.c, take_exit */
		c->pen_user = 0;
	}
	if (cat == CAT_SYS) {
		instr += c->sys_extra;
		c->sys_extra = 0;
	}
	sim_t exits = s->vm ? (sim_t)vm_guest_entry(s, core, &pen) : 0;
	dur = cost_ns(s, instr, pen);
	charge(s, c, instr, dur);
	begin(s, core, W_APP, cat, dur + exits, false);
	c->pen_ns = cost_ns(s, 0, pen);
}

void cpu_start_spin(struct sim *s, int core, sim_t until)
{
	if (s->vm)
		s->cores[core].in_guest = true;	/* owed exits wait for real work */
	begin(s, core, W_APP, CAT_SYS, until > s->now ? until - s->now : 0, true);
	s->cores[core].app_spin_until = until;
}

static bool thread_wants_cpu(struct sim *s, struct sim_core *c)
{
	if (c->app_preempted)
		return true;
	if (c->thread < 0)
		return false;
	return s->th[c->thread].state != T_SLEEP;
}

/* The NAPI poll of the head of the poll list: take up to a weight of
 * packets now, deliver them when the piece ends. */
static void softirq_piece(struct sim *s, int core)
{
	struct sim_core *c = &s->cores[core];
	const struct cost *k = s->c;
	int q = c->poll_list[0];
	double instr = k->poll, rx = s->nq[q].rx_instr;

	if (s->e->threaded) {
		/* napi_threaded_poll_loop: no net_rx_action. The kernel counts
		 * the kthread as system time; like `irqlab bench` (docs/bench.md,
		 * CPU split) we count receive work as softirq wherever it runs. */
		if (c->task != TASK_KT) {
			/* the switch to the kthread and, later, away from it */
			instr += k->cs;
			if (c->task == TASK_APP && thread_wants_cpu(s, c))
				c->cs++;	/* the app thread is preempted */
			c->task = TASK_KT;
			c->task_since = s->now;
		}
	} else if (!c->in_softirq) {
		net_rx_action_begin(s, core);
		instr += k->softirq;
	}
	c->kn = nic_take(s, q, (uint32_t)s->e->napi_weight, &c->kpkts);
	instr += c->kn * rx;
	/* the same poll reaps transmit completions: mlx5e_poll_tx_cq, or
	 * virtio's virtnet_poll_cleantx */
	instr += s->nq[q].virtio ? virtio_tx_clean(s, q, false) : nic_tx_reap(s, q);
	/* the packets pollute the cache of whatever runs next here */
	c->pen += c->kn * k->pen_pkt;
	struct sim_thread *t = &s->th[s->nq[q].thread];
	c->kwake = c->kn && t->state == T_SLEEP;
	if (c->kwake)
		instr += k->wake;
	kernel_piece(s, core, W_SOFTIRQ, q, instr, CAT_SOFTIRQ, 0);
}

/* A virtio guest's tx NAPI poll (virtnet_poll_tx): free_old_xmit reaps
 * the used tx buffers (vhost.c finishes it). */
static void txpoll_piece(struct sim *s, int core)
{
	struct sim_core *c = &s->cores[core];
	int q = c->txpoll[0];

	c->softirqs++;
	kernel_piece(s, core, W_TXPOLL, q, s->c->softirq + s->c->poll + nic_tx_reap(s, q),
		     CAT_SOFTIRQ, 0);
}

/* The scheduler between a core's app thread and its NAPI kthread (EEVDF
 * with equal weights, as kernel/sched/fair.c since 6.6): the task on the
 * CPU keeps it until it blocks or has run sched_slice since it was picked
 * (RUN_TO_PARITY slice protection: a woken task does not preempt before);
 * then the other runnable task gets it. */
static bool kthread_runs_next(struct sim *s, struct sim_core *c)
{
	if (!thread_wants_cpu(s, c))
		return true;
	bool expired = s->now - c->task_since >= s->slice;
	return c->task == TASK_KT ? !expired : c->task == TASK_NONE || expired;
}

/* The kthread of a NAPI on this core was woken (____napi_schedule:
 * wake_up_process). If the app thread holds the CPU, it is preempted when
 * its slice protection ends, not before. */
void cpu_kthread_wake(struct sim *s, int core)
{
	struct sim_core *c = &s->cores[core];

	if (c->task != TASK_APP || !thread_wants_cpu(s, c)) {
		cpu_kick(s, core);
		return;
	}
	c->resched_gen++;
	evq_push(&s->q, c->task_since + s->slice > s->now ? c->task_since + s->slice :
		 s->now, EV_RESCHED, (uint32_t)core, c->resched_gen);
}

/* EV_RESCHED: the app thread's slice protection ended with the kthread
 * waiting (the tick's resched_curr). */
void cpu_resched(struct sim *s, int core, uint32_t gen)
{
	struct sim_core *c = &s->cores[core];

	if (gen != c->resched_gen || !c->npoll || c->task != TASK_APP ||
	    c->deciding)
		return;
	if (c->cur == W_APP) {
		preempt_app(s, core, true);
		core_next(s, core);
	} else if (c->cur == W_NONE) {
		core_next(s, core);
	}
}

/* A hard IRQ or hrtimer handler that schedules a threaded NAPI also wakes
 * its kthread (try_to_wake_up, paid by the handler). */
static double wake_cost(const struct sim *s, int q)
{
	return s->e->threaded && !(s->nq[q].state & NAPIF_SCHED) ? s->c->wake : 0;
}

/* A pending (guest or bare-metal) device IRQ or hrtimer interrupt. */
static bool pick_interrupt(struct sim *s, int core)
{
	struct sim_core *c = &s->cores[core];
	const struct cost *k = s->c;

	if (c->irq_pending) {
		int q = __builtin_ctzll(c->irq_pending);
		c->irq_pending &= c->irq_pending - 1;
		c->irqs++;
		kernel_piece(s, core, W_HARDIRQ, q, k->irq + wake_cost(s, q),
			     CAT_SOFTIRQ, k->pen_kern);
		return true;
	}
	if (c->txirq_pending) {
		/* skb_xmit_done (virtio napi_tx) */
		int q = __builtin_ctzll(c->txirq_pending);
		c->txirq_pending &= c->txirq_pending - 1;
		c->irqs++;
		kernel_piece(s, core, W_TXIRQ, q, k->irq, CAT_SOFTIRQ, k->pen_kern);
		return true;
	}
	if (c->timer_pending) {
		int q = __builtin_ctzll(c->timer_pending);
		c->timer_pending &= c->timer_pending - 1;
		c->timers++;
		kernel_piece(s, core, W_TIMER, q, k->timer + wake_cost(s, q),
			     CAT_SOFTIRQ, k->pen_kern);
		return true;
	}
	return false;
}

static bool pick(struct sim *s, int core)
{
	struct sim_core *c = &s->cores[core];
	bool deferred = c->ksoftirqd;

	if (s->vm && vm_pick(s, core))
		return true;	/* host work, a halted vCPU, or its wake-up */
	if (pick_interrupt(s, core))
		return true;
	if (c->ntxpoll) {
		txpoll_piece(s, core);
		return true;
	}
	if (c->npoll && s->e->threaded) {
		if (kthread_runs_next(s, c)) {
			softirq_piece(s, core);
			return true;
		}
	} else if (c->npoll) {
		if (!deferred || c->ksoftirqd_turn || !thread_wants_cpu(s, c)) {
			if (deferred && !c->ksoftirqd_turn)
				c->cs++;	/* switch to the kthread */
			c->ksoftirqd_turn = false;
			softirq_piece(s, core);
			return true;
		}
		c->ksoftirqd_turn = true;
		c->cs++;
	}
	if (thread_wants_cpu(s, c) && c->task != TASK_APP) {
		c->task = TASK_APP;
		c->task_since = s->now;
	}
	if (c->app_preempted) {
		c->app_preempted = false;
		if (c->app_spin) {
			/* a spin re-checks its condition instead of resuming */
			cpu_start_spin(s, core, c->app_spin_until);
			app_spin_check(s, c->thread);
			return true;
		}
		/* The refill after this interruption overlaps what is left of
		 * the last one: a piece owes the larger of the two, not the sum
		 * (caches refill once), so a storm of IRQs slows the thread
		 * down but cannot stop it. */
		if (c->app_cat == CAT_USER) {
			c->pen += c->pen_user;
			c->pen_user = 0;
		}
		/* in a VM the vCPU re-enters guest mode (vm_pick has served
		 * the exits owed) and the piece pays the exits' pollution */
		sim_t exits = 0;
		if (s->vm) {
			double pen = 0;
			exits = (sim_t)vm_guest_entry(s, core, &pen);
			c->pen += pen;
		}
		sim_t fresh = cost_ns(s, 0, c->pen), extra = 0;
		c->pen = 0;
		if (fresh > c->app_pen_left)
			extra = fresh - c->app_pen_left;
		charge(s, c, 0, extra);
		begin(s, core, W_APP, c->app_cat, c->app_left + extra + exits, false);
		c->pen_ns = c->app_pen_left + extra;
		return true;
	}
	if (c->thread >= 0 && s->th[c->thread].state != T_SLEEP) {
		app_next(s, c->thread);
		if (c->cur != W_NONE)
			return true;
		/* the thread slept or raised kernel work: pick again */
		if (c->irq_pending || c->timer_pending || c->npoll ||
		    c->txirq_pending || c->ntxpoll ||
		    s->th[c->thread].state != T_SLEEP ||
		    (s->vm && (c->hirq_pending || c->nhpoll || c->nvh)))
			return false;
	}
	c->task = TASK_NONE;
	if (s->vm)
		vm_idle(s, core);	/* HLT, or idle=poll in the guest */
	return true;	/* idle */
}

/* Chooses what the core runs next; the core is idle (W_NONE) on entry. */
static void core_next(struct sim *s, int core)
{
	struct sim_core *c = &s->cores[core];

	c->deciding = true;
	for (int guard = 0; guard < 1000; guard++) {
		if (!pick(s, core))
			continue;
		/* an interrupt raised while deciding preempts at once */
		if (c->cur == W_APP && (c->irq_pending || c->timer_pending ||
					c->txirq_pending)) {
			preempt_app(s, core, true);
			continue;
		}
		break;
	}
	c->deciding = false;
}

/* Something may run on an idle core now. */
void cpu_kick(struct sim *s, int core)
{
	if (s->cores[core].cur == W_NONE && !s->cores[core].deciding)
		core_next(s, core);
}

/* handler: an interrupt handler (and its softirq) or other kernel work
 * runs before the app resumes and leaves pen_async behind; without, only
 * the host's code of a VM exit ran (vm.c charges that exit's pollution). */
static void preempt_app(struct sim *s, int core, bool handler)
{
	struct sim_core *c = &s->cores[core];

	account(s, c);
	c->app_preempted = true;
	c->app_left = c->end - s->now;
	/* pollution is paid first: what of it is still owed */
	sim_t done = s->now - c->piece_start;
	c->app_pen_left = c->spin || c->pen_ns <= done ? 0 : c->pen_ns - done;
	c->app_cat = c->cat;
	c->app_spin = c->spin;
	c->gen++;
	c->cur = W_NONE;
	c->idle_since = s->now;
	if (handler)
		c->pen += s->c->pen_async;
}

static void interrupt(struct sim *s, int core, bool handler)
{
	struct sim_core *c = &s->cores[core];

	if (c->deciding)
		return;		/* core_next looks at pending work last */
	if (c->cur == W_APP) {
		preempt_app(s, core, handler);
		core_next(s, core);
	} else if (c->cur == W_NONE) {
		core_next(s, core);
	}
}

void cpu_interrupt(struct sim *s, int core)
{
	interrupt(s, core, true);
}

/* A VM exit that runs host code only (vm.c: the host taking a spread
 * vector's MSI on this vCPU's core for another vCPU). */
void cpu_interrupt_host_only(struct sim *s, int core)
{
	interrupt(s, core, false);
}

/* A device interrupt of queue q on a core: bare metal, a host NIC queue
 * (host IRQ), or a guest queue (a virtual interrupt, delivered by vm.c). */
void cpu_raise_irq(struct sim *s, int core, int q)
{
	if (s->vm && s->nq[q].host) {
		s->cores[core].hirq_pending |= 1ULL << ((q - s->nqueues) & 63);
	} else if (s->vm) {
		vm_interrupt(s, core, q, VI_DEV);
		return;
	} else {
		s->cores[core].irq_pending |= 1ULL << (q & 63);
	}
	cpu_interrupt(s, core);
}

void cpu_raise_timer(struct sim *s, int core, int q)
{
	if (s->vm) {
		vm_interrupt(s, core, q, VI_TIMER);
		return;
	}
	s->cores[core].timer_pending |= 1ULL << (q & 63);
	cpu_interrupt(s, core);
}

void cpu_wake_thread(struct sim *s, int th)
{
	struct sim_thread *t = &s->th[th];
	struct sim_core *c = &s->cores[t->core];

	t->state = T_RUNNABLE;
	t->phase = P_WAKE;
	c->pen += s->c->pen_wake;
	cpu_kick(s, t->core);
}

/* EV_CORE: the current piece of work on a core ended. */
void cpu_event(struct sim *s, int core, uint32_t gen)
{
	struct sim_core *c = &s->cores[core];

	if (gen != c->gen || c->cur == W_NONE)
		return;
	account(s, c);
	enum work w = c->cur;
	c->cur = W_NONE;
	c->idle_since = s->now;
	c->deciding = true;
	switch (w) {
	case W_HARDIRQ:
		/* mlx5e_completion_event -> napi_schedule */
		napi_schedule(s, c->kq, core);
		break;
	case W_TIMER: {
		struct sim_queue *n = &s->nq[c->kq];
		/* napi_watchdog: test_and_set_bit(SCHED), no MISSED */
		if (!(n->state & NAPIF_SCHED))
			napi_schedule(s, c->kq, core);
		break;
	}
	case W_SOFTIRQ:
		net_rx_action_poll_done(s, core);
		break;
	case W_TXIRQ:
		virtio_tx_irq_done(s, core, c->kq);
		break;
	case W_TXPOLL:
		virtio_tx_poll_done(s, core);
		break;
	case W_APP:
		app_piece_done(s, c->thread);
		break;
	case W_HIRQ:
	case W_HPOLL:
	case W_VHOST:
	case W_EXIT:
		vm_piece_done(s, core, w);
		break;
	case W_NONE:
		break;
	}
	c->deciding = false;
	core_next(s, core);
}

/* Ends a spin piece now (its condition became true). */
void cpu_end_spin(struct sim *s, int core)
{
	struct sim_core *c = &s->cores[core];

	if (c->cur != W_APP || !c->spin)
		return;
	c->end = s->now;
	c->gen++;
	evq_push(&s->q, s->now, EV_CORE, (uint32_t)core, c->gen);
}

/* Brings every core's accounting up to now (warm-up end, run end). */
void cpu_account_flush(struct sim *s)
{
	for (int i = 0; i < s->ncores; i++) {
		struct sim_core *c = &s->cores[i];
		if (c->cur == W_NONE) {
			c->acct[CAT_IDLE] += s->now - c->idle_since;
			if (s->vm)
				vm_account(s, c, s->now - c->idle_since, true);
			c->idle_since = s->now;
		} else {
			account(s, c);
		}
	}
}

void cpu_reset_counters(struct sim *s)
{
	for (int i = 0; i < s->ncores; i++) {
		struct sim_core *c = &s->cores[i];
		for (int k = 0; k < NCAT; k++)
			c->acct[k] = 0;
		c->cycles = c->instr = 0;
		c->irqs = c->timers = c->softirqs = c->cs = 0;
		vm_reset_counters(c);
	}
}
