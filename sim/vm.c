/* The virtualization layer (docs/sim.md, "Virtual machines"). The model's
 * cores are the guest's app vCPUs, each pinned on its own host core; the
 * guest kernel on them is the bare-metal model unchanged. This file adds:
 *   - VM exits by reason, each with a service time (host ns) and the
 *     pollution it leaves the guest code that runs next (pen_exit);
 *     synchronous ones (EOI, timer programming, kick, IPI send) are paid by
 *     the guest piece that causes them, asynchronous ones (external
 *     interrupt) by the interrupt handler or host work that follows;
 *   - interrupt delivery: emulated (KVM without APICv: a running vCPU exits
 *     to take the interrupt, and its EOI write exits), posted (APICv and
 *     VT-d posted interrupts: no exit while running, EOI virtualized; the
 *     host's timer for the guest's deadline still exits) or DID (device,
 *     virtual-device and timer interrupts straight to the running guest,
 *     EOI direct, timers armed without an exit);
 *   - HLT: an idle vCPU exits and its host core runs host work or idles
 *     until an interrupt for the guest wakes it (wake-up + VM entry);
 *   - the host scheduler between the vCPU thread and the vhost workers on
 *     its core (the same slice rule as cpu.c's, one level down), host
 *     interrupts before both; host work that takes the CPU from a running
 *     vCPU costs an external-interrupt exit (an NMI with DID);
 *   - accounting: time in guest, in exits (and host work) and halted per
 *     vCPU, which sum to the run's time; exits by reason; injections. */
#include <math.h>

#include "sim.h"

static double exit_cost(const struct sim *s, enum exit_reason r)
{
	const struct vm_cost *v = &s->e->vm.cost;

	switch (r) {
	case EXIT_EXTINT: return v->exit_extint;
	case EXIT_EOI: return v->exit_eoi;
	case EXIT_HLT: return v->exit_hlt;
	case EXIT_IO: return v->exit_io;
	case EXIT_TIMER: return v->exit_timer;
	case EXIT_IPI: return v->exit_ipi;
	case EXIT_WAKE: return v->wake;
	}
	return 0;
}

/* One exit of the vCPU on core: counted; returns its service time. Every
 * exit leaves pollution for the guest code that runs next (pen_exit: the
 * handler after an external-interrupt exit, the kernel path after a
 * kick). An asynchronous exit (external interrupt) also runs the host's
 * interrupt handler code (vfio/irqfd and the IPI, or the host NIC's
 * driver) in the middle of the app's work: the app's user code refills
 * the TLB entries it evicted (pen_exit_app, paid by the next user piece):
 * memcached's hash table and items sit on 4K pages with two-dimensional
 * page walks under nested paging, while the guest kernel's direct map
 * uses huge pages. A synchronous exit (EOI and TSC-deadline MSR writes, a
 * kick, an IPI send) happens at a kernel step the app does not see. */
static double take_exit(struct sim *s, struct sim_core *c, enum exit_reason r)
{
	c->exits[r]++;
	c->exit_pen += s->e->vm.cost.pen_exit;
	if (r == EXIT_EXTINT)
		c->pen_user += s->e->vm.cost.pen_exit_app;
	return exit_cost(s, r);
}

/* Does delivering this interrupt to a vCPU in guest mode force an exit? */
static bool delivery_exits(const struct sim *s, bool timer)
{
	switch (s->e->vm.delivery) {
	case DELIV_EMULATED:
		return true;
	case DELIV_POSTED:
		return timer;	/* the host hrtimer behind the guest's deadline */
	case DELIV_DID:
		return false;
	}
	return true;
}

void vm_init_core(struct sim *s, int core)
{
	struct sim_core *c = &s->cores[core];

	c->vcpu = core < s->nserver;
	c->in_guest = c->vcpu;
	c->htask = H_NONE;
}

/* An asynchronous exit (external interrupt) of the vCPU on core: it
 * happens now. If the guest is in the middle of kernel work (a hard IRQ,
 * timer or softirq piece, which the model does not split), that piece is
 * stretched by the exit's service time: the vCPU exits, and re-enters to
 * finish it. Otherwise the exit is owed and served before the guest runs
 * again (vm_pick), after preempting the app piece: for an interrupt the
 * guest then handles (handler), with an interrupt handler's pollution
 * (pen_async) as on bare metal; for one only the host handles, with the
 * exit's own (take_exit). */
static void async_exit(struct sim *s, int core, bool handler)
{
	struct sim_core *c = &s->cores[core];
	double ns = take_exit(s, c, EXIT_EXTINT);

	if (c->cur == W_HARDIRQ || c->cur == W_TIMER || c->cur == W_SOFTIRQ ||
	    c->cur == W_TXIRQ || c->cur == W_TXPOLL) {
		c->end += (sim_t)ns;
		c->gen++;
		c->vm_exit_ns += (sim_t)ns;
		evq_push(&s->q, c->end, EV_CORE, (uint32_t)core, c->gen);
		return;
	}
	c->exit_ns_owed += ns;
	if (handler)
		cpu_interrupt(s, core);
	else
		cpu_interrupt_host_only(s, core);
}

/* Emulated delivery of an assigned device's interrupt (vm.host_irq =
 * spread): the physical MSI-X is remapped to a host vector the host's
 * allocator put on another core than the target vCPU's. With every host
 * core running a vCPU (the thesis: 8 vCPUs on the 8-core host), that
 * vCPU exits for it (vfio's handler, irqfd, kvm_set_msi: the external-
 * interrupt exit's service time), and the host kicks the target with an
 * IPI, which exits there too (vm_interrupt). Only host code runs in that
 * vCPU's exit, not the guest's interrupt handler and softirq, so the app
 * it preempts pays the exit's pollution (pen_exit, pen_exit_app), not an
 * interrupt handler's (pen_async). A halted vCPU's core takes it without
 * an exit. The host core is the next app vCPU's. */
static void host_irq_elsewhere(struct sim *s, int target)
{
	if (s->e->vm.delivery != DELIV_EMULATED || s->nhostq ||
	    s->e->vm.host_irq != HIRQ_SPREAD || s->nserver < 2)
		return;
	int h = (target + 1) % s->nserver;
	struct sim_core *c = &s->cores[h];

	if (c->halted || !c->in_guest)
		return;
	async_exit(s, h, false);
}

/* A virtual interrupt for the guest on core's vCPU: a device queue's, the
 * guest's NAPI hrtimer, or a virtio tx virtqueue's (napi_tx). */
void vm_interrupt(struct sim *s, int core, int q, enum vint kind)
{
	struct sim_core *c = &s->cores[core];
	bool timer = kind == VI_TIMER;

	if (s->measuring)
		c->injected++;
	if (timer)
		c->timer_pending |= 1ULL << (q & 63);
	else if (kind == VI_TX)
		c->txirq_pending |= 1ULL << (q & 63);
	else
		c->irq_pending |= 1ULL << (q & 63);
	if (kind == VI_DEV)
		host_irq_elsewhere(s, core);
	if (c->halted) {
		c->wake_pending = true;
		cpu_kick(s, core);
		return;
	}
	/* The exit happens now, in whatever the guest was running: its time
	 * is charged there (tick-based accounting samples the interrupted
	 * context), the handler pays its pollution. */
	if (c->in_guest && delivery_exits(s, timer))
		async_exit(s, core, true);
	else
		cpu_interrupt(s, core);
}

/* A synchronous exit of the guest code that just ran on core (a kick at
 * the end of sendmsg, a timer armed, an IPI sent): served at once, before
 * anything else runs there (vm_pick), charged to that code's category. */
void vm_sync_exit(struct sim *s, int core, enum exit_reason r)
{
	struct sim_core *c = &s->cores[core];

	c->exit_ns_owed += take_exit(s, c, r);
	cpu_kick(s, core);
}

/* A guest piece starts: the vCPU is in guest mode, on the CPU, and pays
 * the exits owed: their service time (returned, ns the piece takes longer
 * on the host) and their pollution (added to *pen: cycles of the piece). */
double vm_guest_entry(struct sim *s, int core, double *pen)
{
	struct sim_core *c = &s->cores[core];
	double ns = c->exit_ns_owed;

	*pen += c->exit_pen;
	c->exit_pen = 0;
	c->in_guest = true;
	if (c->htask != H_VCPU) {
		c->htask = H_VCPU;
		c->htask_since = s->now;
	}
	c->exit_ns_owed = 0;
	c->vm_exit_ns += (sim_t)ns;
	return ns;
}

/* A guest interrupt handler starts: emulated, it pays the exit of its EOI
 * write (hard IRQ time in the guest). Its delivery's exit was taken when
 * the interrupt arrived (vm_interrupt). */
double vm_irq_entry(struct sim *s, int core, double *pen)
{
	struct sim_core *c = &s->cores[core];
	double ns = 0;

	if (s->e->vm.delivery == DELIV_EMULATED)
		ns += take_exit(s, c, EXIT_EOI);
	c->exit_ns_owed += ns;
	return vm_guest_entry(s, core, pen);
}

/* Guest code on `from` wakes a thread on `to`: an IPI (the ICR write
 * exits); a halted target wakes, a running one exits to take it when
 * delivery is emulated. */
void vm_ipi(struct sim *s, int from, int to)
{
	struct sim_core *t = &s->cores[to];

	vm_sync_exit(s, from, EXIT_IPI);
	if (t->halted) {
		t->wake_pending = true;
	} else if (t->in_guest && s->e->vm.delivery == DELIV_EMULATED) {
		t->exit_ns_owed += take_exit(s, t, EXIT_EXTINT);
		t->exit_ns_owed += take_exit(s, t, EXIT_EOI);
	}
}

/* Host work is taking the CPU from the vCPU: if it was in guest mode, that
 * took an external-interrupt exit (the host's IRQ or tick; an NMI with
 * DID). Returns its service time. */
static sim_t leave_guest(struct sim *s, struct sim_core *c)
{
	if (!c->vcpu || c->halted || !c->in_guest)
		return 0;
	c->in_guest = false;
	return (sim_t)take_exit(s, c, EXIT_EXTINT);
}

static void host_task(struct sim *s, struct sim_core *c, enum htask h)
{
	if (c->htask != h) {
		c->htask = h;
		c->htask_since = s->now;
	}
}

/* The host scheduler between the vCPU thread and the vhost workers of a
 * core: cpu.c's slice rule (kthread_runs_next) one level down, or with CFS
 * the worker first (its sleeper credit keeps it ahead of the vCPU). */
static bool vhost_runs_next(struct sim *s, struct sim_core *c)
{
	bool vcpu_ready = c->vcpu && (!c->halted || c->wake_pending);

	if (!vcpu_ready || s->e->vm.host_sched == VSCHED_CFS)
		return true;
	bool expired = s->now - c->htask_since >= s->slice;
	return c->htask == H_VHOST ? !expired : c->htask == H_NONE || expired;
}

/* A vhost worker on core became runnable: if the vCPU thread holds the
 * CPU, it keeps it until its slice protection ends. */
void vm_vhost_woken(struct sim *s, int core)
{
	struct sim_core *c = &s->cores[core];

	if (!c->vcpu || c->halted || c->htask != H_VCPU) {
		cpu_kick(s, core);
		return;
	}
	if (s->e->vm.host_sched == VSCHED_CFS) {
		cpu_interrupt(s, core);	/* wake-up preemption */
		return;
	}
	c->hresched_gen++;
	sim_t at = c->htask_since + s->slice;
	evq_push(&s->q, at > s->now ? at : s->now, EV_HRESCHED, (uint32_t)core,
		 c->hresched_gen);
}

/* EV_HRESCHED: the vCPU thread's slice ended with a vhost worker waiting. */
void vm_resched(struct sim *s, int core, uint32_t gen)
{
	struct sim_core *c = &s->cores[core];

	if (gen != c->hresched_gen || !c->nvh || c->htask != H_VCPU || c->deciding)
		return;
	if (c->cur == W_APP || c->cur == W_NONE)
		cpu_interrupt(s, core);
}

static bool guest_has_work(const struct sim *s, const struct sim_core *c)
{
	return c->wake_pending || c->irq_pending || c->timer_pending || c->npoll ||
	       c->txirq_pending || c->ntxpoll ||
	       (c->thread >= 0 && s->th[c->thread].state != T_SLEEP);
}

/* The host's turn in cpu.c's pick: its NIC IRQs, then its softirq, then
 * a vhost worker if the scheduler says so, then a halted vCPU's wake-up.
 * Returns 1 when the core has its work (or idles halted), 0 to run the
 * guest. */
int vm_pick(struct sim *s, int core)
{
	struct sim_core *c = &s->cores[core];

	if (c->exit_ns_owed > 0) {
		sim_t ns = (sim_t)c->exit_ns_owed;
		c->exit_ns_owed = 0;
		c->in_guest = false;
		cpu_host_piece(s, core, W_EXIT, EXIT_IO, ns);
		return 1;
	}
	if (c->hirq_pending) {
		int hq = __builtin_ctzll(c->hirq_pending);
		c->hirq_pending &= c->hirq_pending - 1;
		sim_t dur = cost_host_ns(s, s->c->irq) + leave_guest(s, c);
		cpu_host_piece(s, core, W_HIRQ, s->nqueues + hq, dur);
		return 1;
	}
	if (c->nhpoll) {
		vhost_host_poll_start(s, core, leave_guest(s, c));
		return 1;
	}
	if (c->nvh && vhost_runs_next(s, c)) {
		sim_t exit = leave_guest(s, c);
		host_task(s, c, H_VHOST);
		vhost_pass_start(s, core, exit);
		return 1;
	}
	if (!c->vcpu) {
		c->htask = H_NONE;
		return 1;		/* a host core with nothing to do */
	}
	if (!c->halted)
		return 0;
	if (guest_has_work(s, c)) {
		cpu_host_piece(s, core, W_EXIT, EXIT_WAKE, (sim_t)exit_cost(s, EXIT_WAKE));
		return 1;
	}
	c->htask = H_NONE;
	return 1;			/* halted, the host core idle */
}

/* The guest has nothing to run: HLT (an exit, then halted), or idle=poll
 * (the vCPU stays in guest mode). */
void vm_idle(struct sim *s, int core)
{
	struct sim_core *c = &s->cores[core];

	if (!c->vcpu)
		return;
	if (s->e->vm.idle == VIDLE_POLL) {
		c->in_guest = true;
		c->cat = CAT_IDLE;	/* what host work now interrupts */
		return;
	}
	c->in_guest = false;
	cpu_host_piece(s, core, W_EXIT, EXIT_HLT, (sim_t)take_exit(s, c, EXIT_HLT));
}

void vm_piece_done(struct sim *s, int core, enum work w)
{
	struct sim_core *c = &s->cores[core];

	switch (w) {
	case W_HIRQ:
		vhost_host_irq_done(s, core, c->kq);
		break;
	case W_HPOLL:
		vhost_host_poll_done(s, core);
		break;
	case W_VHOST:
		vhost_pass_done(s, core);
		break;
	case W_EXIT:
		/* kvm_vcpu_halt blocks only if nothing is pending */
		if (c->kq == EXIT_HLT)
			c->halted = !guest_has_work(s, c);
		else if (c->kq == EXIT_WAKE)
			c->halted = c->wake_pending = false;
		break;
	default:
		break;
	}
}

/* dt of the core's current piece (or idle time) into the vCPU's buckets:
 * halted, exits (and host work while it was runnable), or in guest (the
 * rest); host network work for every core. */
void vm_account(struct sim *s, struct sim_core *c, sim_t dt, bool idle)
{
	bool host = !idle && c->cur >= W_HIRQ;

	(void)s;
	if (host && c->cur != W_EXIT)
		c->host_ns += dt;
	if (!c->vcpu)
		return;
	if (c->halted)
		c->vm_halt_ns += dt;
	else if (host)
		c->vm_exit_ns += dt;
}

void vm_reset_counters(struct sim_core *c)
{
	for (int r = 0; r < NEXIT; r++)
		c->exits[r] = 0;
	c->injected = 0;
	c->vm_exit_ns = c->vm_halt_ns = c->host_ns = 0;
}

/* The VM fields of a result row; NAN (unknown) on bare metal. */
void vm_result(const struct sim *s, struct il_result *r, double secs)
{
	double ex[NEXIT] = { 0 }, out = 0, total = 0, inj = 0, host = 0;
	double *dst[NEXIT] = {
		&r->vm_exits_extint_per_s, &r->vm_exits_eoi_per_s, &r->vm_exits_hlt_per_s,
		&r->vm_exits_io_per_s, &r->vm_exits_timer_per_s, &r->vm_exits_ipi_per_s,
	};

	if (!s->vm || secs <= 0)
		return;
	for (int i = 0; i < s->ncores; i++) {
		const struct sim_core *c = &s->cores[i];
		host += (double)c->host_ns;
		if (!c->vcpu)
			continue;
		for (int k = 0; k < NCAT; k++)
			total += (double)c->acct[k];
		out += (double)(c->vm_exit_ns + c->vm_halt_ns);
		inj += (double)c->injected;
		for (int k = 0; k < NEXIT; k++)
			ex[k] += (double)c->exits[k];
	}
	r->vm_exits_per_s = 0;
	for (int k = 0; k < NEXIT; k++) {
		*dst[k] = ex[k] / secs;
		r->vm_exits_per_s += ex[k] / secs;
	}
	r->time_in_guest_pct = total > 0 ? 100.0 * (total - out) / total : NAN;
	r->injected_irq_per_s = inj / secs;
	r->host_net_cpu = 100.0 * host / (secs * 1e9);
}
