/* irqlab-sim: a discrete-event model of interrupt handling on a multi-core
 * server. One file per subsystem; the names follow Linux (net/core/dev.c,
 * fs/eventpoll.c) so the model can be read against the kernel:
 *   event.c   event queue (4-ary heap of preallocated events + a FIFO delay
 *             line for the wire legs)
 *   nic.c     receive rings, RSS, hardware coalescing (static, DIM), MSI-X
 *   napi.c    napi_schedule, net_rx_action, threaded NAPI,
 *             napi_complete_done, hrtimer, busy_poll_stop,
 *             napi_suspend_irqs, napi_resume_irqs
 *   cpu.c     cores: what runs next, preemption by IRQs, the scheduler
 *             between the app thread and a NAPI kthread, CPU accounting
 *   epoll.c   ep_poll, ep_busy_loop, napi_busy_loop (application side)
 *   app.c     the server thread: epoll loop, per-request work
 *   client.c  closed- and open-loop clients, latency
 *   cost.c    cycles, instructions and pollution (docs/sim.md equations)
 *   result.c  counters -> struct il_result
 *   sim.c     setup, main loop, teardown
 * Around the model: experiment.c (the description and its keys), calib.c
 * (published setups), opts.c / run.c / speed.c / main.c (the program).
 * Time is in ns (uint64). All state is preallocated at setup; the event loop
 * does not allocate, except the open-loop request pool, which doubles. */
#ifndef IRQLAB_SIM_H
#define IRQLAB_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "irqlab/dist.h"
#include "experiment.h"
#include "irqlab/hist.h"
#include "irqlab/result.h"

typedef uint64_t sim_t;
#define SIM_NEVER UINT64_MAX
#define NIL UINT32_MAX

/* ---- event queue (event.c) ---- */
enum ev_type {
	EV_RX,		/* request packet reaches its NIC queue (id = request) */
	EV_REPLY,	/* reply reaches the client (id = request) */
	EV_ARRIVAL,	/* open loop: next scheduled request */
	EV_COAL,	/* coalescing timer of queue id (gen) */
	EV_TXCOAL,	/* TX completion moderation timer of queue id (gen) */
	EV_NAPI_TIMER,	/* napi hrtimer of queue id (gen) */
	EV_CORE,	/* core id ends its current piece of work (gen) */
	EV_RETX,	/* dropped request retransmitted (id = request) */
	EV_RESCHED,	/* core id: the running task's slice protection ends (gen) */
	EV_HRESCHED,	/* core id: the same on the host (vCPU vs vhost, gen) */
	EV_MEASURE,	/* warm-up over: reset counters */
	EV_END,
};

struct sim_ev {
	sim_t t;
	uint32_t type, id, gen, seq;
};

struct evq_ent {
	uint64_t key;		/* time << 24 | push counter */
	uint32_t type, id, gen;
};

struct evq {
	struct evq_ent *h;		/* heap */
	uint32_t n, cap, seq;
	struct evq_ent *line;		/* delay line (FIFO ring) */
	uint32_t lhead, ln, lcap;
};

int evq_init(struct evq *q, uint32_t cap);
void evq_free(struct evq *q);
void evq_push(struct evq *q, sim_t t, uint32_t type, uint32_t id, uint32_t gen);
bool evq_pop(struct evq *q, struct sim_ev *out);
sim_t evq_next_time(const struct evq *q);	/* SIM_NEVER if empty */
/* For events at now + a constant delay: FIFO unless out of order. */
void evq_push_line(struct evq *q, sim_t t, uint32_t type, uint32_t id, uint32_t gen);
uint32_t evq_pending(const struct evq *q);

/* ---- requests ---- */
struct sim_req {
	sim_t sched;		/* scheduled send time (latency origin) */
	uint32_t conn, next;	/* next: ring/socket FIFO or free list */
};

/* A FIFO of requests linked through sim_req.next. */
struct fifo { uint32_t head, tail, n; };

/* ---- NIC queue + its NAPI instance (nic.c, napi.c) ---- */
#define NAPIF_SCHED		1u
#define NAPIF_MISSED		2u
#define NAPIF_IN_BUSY_POLL	4u
#define NAPIF_PREFER_BUSY_POLL	8u

/* net_dim's state (lib/dim/net_dim.c): parked on top or tired, or going
 * right (more moderation) or left; the last window's rates. */
enum dim_state { DIM_PARK_TOP, DIM_PARK_TIRED, DIM_RIGHT, DIM_LEFT };
struct dim {
	int ix;				/* profile index */
	enum dim_state state;
	int steps_right, steps_left, tired;
	uint64_t events, pkts;		/* since window start */
	sim_t start;
	double prev_ppms, prev_epms;
};

struct sim_queue {
	/* ring */
	uint32_t *ring;
	uint32_t rhead, rcount, rsize;
	/* MSI-X vector and coalescing */
	bool irq_armed;			/* CQ armed / vector unmasked */
	bool coal_running;
	uint32_t coal_gen, coal_frames;
	uint64_t usecs_ns;		/* current moderation (DIM may change) */
	uint32_t frames;
	struct dim dim;
	int irq_core;
	/* NAPI */
	unsigned state;
	int defer_count;
	bool timer_armed;
	uint32_t timer_gen;
	sim_t timer_exp;
	int timer_core;
	int thread;			/* app thread owning this queue's sockets */
	int kt_core;			/* threaded NAPI: where its kthread runs */
	/* VM: a host NIC queue of a virtio setup (host softirq, packets go to
	 * vhost), or a guest virtqueue (filled by vhost) */
	bool host, virtio, adaptive, itr;
	sim_t last_fire;		/* itr: the last interrupt */
	double rx_instr;		/* receive path per packet */
	/* transmit completions (nic.c: mlx5's TX CQ on this queue's vector;
	 * vhost.c: a guest's tx virtqueue with napi_tx) */
	uint32_t txc;			/* completed, not reaped yet */
	bool tx_armed;			/* TX CQ armed / tx callbacks on */
	bool tx_coal_running, tx_adaptive, tx_sched;	/* tx_sched: virtio tx NAPI */
	uint32_t tx_gen, tx_coal_frames, tx_frames;
	uint64_t tx_usecs_ns;
	struct dim txdim;
	/* counters */
	uint64_t pkts_in, drops, irqs, polls, polled, tx_irqs, tx_reaped;
};

/* Adds v to a small list unless it is there (poll lists). */
static inline void list_add_once(int *list, int *n, int max, int v)
{
	for (int i = 0; i < *n; i++)
		if (list[i] == v)
			return;
	if (*n < max)
		list[(*n)++] = v;
}

/* ---- cores (cpu.c) ---- */
/* CAT_HOST: host work on a host core without a vCPU (not reported). */
enum cat { CAT_USER, CAT_SYS, CAT_SOFTIRQ, CAT_IDLE, CAT_HOST, NCAT };

enum work {
	W_NONE,
	W_APP,		/* a piece of the app thread's work (phase says which) */
	W_HARDIRQ,	/* device IRQ of queue kq */
	W_TIMER,	/* napi hrtimer interrupt of queue kq */
	W_SOFTIRQ,	/* one napi->poll inside net_rx_action */
	W_TXIRQ,	/* a virtio guest's tx virtqueue interrupt (queue kq) */
	W_TXPOLL,	/* ... and its tx NAPI poll (virtnet_poll_tx) */
	/* host work (a VM's host side, vm.c and vhost.c) */
	W_HIRQ,		/* host NIC IRQ of host queue kq */
	W_HPOLL,	/* host softirq: one poll of host queue kq */
	W_VHOST,	/* one pass of vhost worker kq */
	W_EXIT,		/* HLT exit (kq = EXIT_HLT) or a halted vCPU's wake-up */
};

enum exit_reason { EXIT_EXTINT, EXIT_EOI, EXIT_HLT, EXIT_IO, EXIT_TIMER, EXIT_IPI,
		   NEXIT, EXIT_WAKE = NEXIT };
enum htask { H_NONE, H_VCPU, H_VHOST };

#define MAX_POLL_LIST 64

/* The task on a core's CPU (threaded NAPI: the app thread and the NAPI
 * kthread compete for it; cpu.c, "scheduler"). */
enum task { TASK_NONE, TASK_APP, TASK_KT };

struct sim_core {
	enum work cur;
	uint32_t gen;
	sim_t start, end;
	enum cat cat;
	bool spin;		/* current app piece is a spin (ends on events) */
	int kq;			/* queue of the current kernel work */
	uint32_t kn;		/* packets taken by the current poll */
	struct fifo kpkts;	/* ... and the packets themselves */
	bool kwake;		/* the current poll wakes the app thread */
	/* preempted app piece */
	bool app_preempted;
	sim_t app_left;
	enum cat app_cat;
	bool app_spin;
	sim_t app_spin_until;
	sim_t piece_start;	/* start of the current piece (start: accounting) */
	sim_t pen_ns;		/* pollution time in the current app piece */
	sim_t app_pen_left;	/* ... still owed by the preempted piece */
	/* pending kernel work */
	uint64_t irq_pending;	/* bitmask of queues (<= 64 per core) */
	uint64_t timer_pending;
	uint64_t txirq_pending;	/* virtio tx virtqueue interrupts */
	int txpoll[MAX_POLL_LIST], ntxpoll;	/* virtio tx NAPIs scheduled */
	int poll_list[MAX_POLL_LIST];	/* softirq's list, or the NAPIs whose
					 * kthreads are runnable here */
	int npoll;
	enum task task;		/* threaded NAPI: who holds the CPU ... */
	sim_t task_since;	/* ... since when (slice protection) */
	uint32_t resched_gen;
	bool in_softirq;	/* inside a net_rx_action round */
	int sirq_budget, sirq_restarts;
	sim_t sirq_limit;
	bool ksoftirqd;		/* softirq handed to ksoftirqd */
	bool ksoftirqd_turn;
	bool deciding;		/* inside core_next or a completion handler */
	int thread;		/* app thread bound to this core, -1 none */
	double pen;		/* pollution cycles owed by the next app work */
	double sys_extra;	/* instructions owed by the next sys piece */
	sim_t idle_since;
	/* accounting */
	sim_t acct[NCAT];
	double cycles, instr;
	uint64_t irqs, timers, softirqs, cs;
	/* VM (vm.c): the vCPU pinned here, if any, and the host's work */
	bool vcpu;		/* a vCPU runs on this host core */
	bool halted;		/* it executed HLT and waits for an interrupt */
	bool in_guest;		/* it was in guest mode when last looked at */
	bool wake_pending;	/* an interrupt for it arrived while halted */
	double exit_ns_owed;	/* exits' service time, paid next (ns) */
	double exit_pen;	/* exits' pollution, paid by the next guest piece */
	double pen_user;	/* exits' TLB pollution, paid by the next user piece */
	uint64_t hirq_pending;	/* host NIC queues (host index) */
	int hpoll[MAX_POLL_LIST], nhpoll;	/* host NAPIs scheduled here */
	int vh[MAX_POLL_LIST], nvh;		/* runnable vhost workers here */
	enum htask htask;	/* host scheduler: vCPU thread or vhost ... */
	sim_t htask_since;	/* ... since when */
	uint32_t hresched_gen;
	sim_t vm_exit_ns, vm_halt_ns, host_ns;
	uint64_t exits[NEXIT], injected;
};

/* One vhost-net worker (one per queue pair, vhost.c). */
struct vhost {
	int core, queue;		/* its host core; the guest queue it serves */
	struct fifo rx, tx;		/* tap queue; the guest's tx virtqueue */
	bool runnable;			/* woken (notifications off) or running */
	bool pass_tx;			/* the current pass: tx or rx ... */
	struct fifo pkts;		/* ... and the packets it took */
	bool signal;			/* the rx pass signals the guest */
};

/* ---- application threads (app.c, epoll.c) ---- */
enum phase {
	P_EPOLL,	/* epoll_wait entry */
	P_REQ_USER,	/* service a request (user) */
	P_REQ_SYS,	/* recv + send syscalls (sys) */
	P_BL_POLL,	/* napi_busy_loop: one napi->poll */
	P_BL_SPIN,	/* napi_busy_loop: nothing in the ring, spinning */
	P_BL_STOP,	/* busy_poll_stop: the last napi->poll */
	P_AFTER_BL,	/* ep_busy_loop returned: check, then sleep */
	P_USPIN,	/* user-level loop around a 1 ns epoll_pwait2 */
	P_WAKE,		/* context switch in after a wake-up */
	P_LOOP,		/* cpu_loop: one iteration of user work */
};

enum tstate { T_RUN, T_SLEEP, T_RUNNABLE };

struct sim_thread {
	int core, queue;
	enum tstate state;
	enum phase phase;
	struct fifo ready;		/* sockets with data (ep ready list) */
	uint32_t batch;			/* events left from the last return */
	uint32_t cur_req;
	bool in_service;		/* cur_req taken, reply not sent yet */
	bool napi_valid;		/* ep->napi_id set */
	bool bl_owned;			/* this busy loop owns the NAPI */
	bool bl_skip_schedule;
	bool bl_done;			/* busy loop tried in this epoll_wait */
	sim_t bl_start;
	uint32_t bl_n;
	struct fifo blpkts;		/* packets taken by the current poll */
};

/* ---- the simulation ---- */
struct sim_stats {
	uint64_t sent, completed, dropped, busy_polled, suspends, resumes;
	uint64_t events;
	uint64_t served_total;		/* replies sent since time 0 */
	uint64_t sunk;			/* cpu_loop: packets dropped at the socket */
};

struct sim {
	const struct experiment *e;
	const struct cost *c;
	struct il_rng rng;
	struct evq q;
	sim_t now, measure_from, end;
	bool measuring, saturated;
	struct sim_req *reqs;
	uint32_t nreqs, cap_reqs, free_req;
	uint32_t *conn_queue;		/* RSS: connection -> queue */
	uint32_t *conn_out;		/* open loop: requests outstanding */
	struct fifo *conn_wait;		/* open loop: waiting at the client */
	uint32_t next_conn;
	struct sim_queue *nq;
	struct sim_core *cores;
	struct sim_thread *th;
	int nqueues, ncores, nthreads;
	int nserver;			/* cores reported (ncores - the remote one) */
	bool vm;			/* a guest: vm.c, vhost.c */
	struct vhost *vh;		/* virtio: one per guest queue */
	int nhostq;			/* virtio: host NIC queues, after the guest's */
	sim_t slice;			/* scheduler slice (threaded NAPI) */
	struct il_hist *lat;
	struct sim_stats st;
	/* DIM profile table (usecs in ns, frames) */
	const uint64_t *dim_usecs;
	const uint32_t *dim_frames;
	int dim_nprof;
	uint64_t inflight_cap;
	double inv_ipc0, inv_ghz;	/* cost.c's divisions, done once */
	double inv_ipc_host;		/* host work in a VM (guest: inv_ipc0) */
	sim_t stuck_t;
	uint64_t stuck_n;
};

/* sim.c */
int sim_init(struct sim *s, const struct experiment *e);
void sim_free(struct sim *s);
void sim_run(struct sim *s);
void sim_run_until(struct sim *s, sim_t t);
/* Runs an experiment start to end and fills a result row. */
int sim_experiment(const struct experiment *e, struct il_result *r,
		   uint64_t *events);

/* fifo */
void fifo_push(struct sim *s, struct fifo *f, uint32_t req);
uint32_t fifo_pop(struct sim *s, struct fifo *f);

/* nic.c */
void nic_rx(struct sim *s, uint32_t req);
void nic_guest_rx(struct sim *s, int qi, uint32_t req);
void nic_coal_timer(struct sim *s, int q, uint32_t gen);
void nic_irq_enable(struct sim *s, int q);
uint32_t nic_take(struct sim *s, int q, uint32_t max, struct fifo *out);
void nic_dim_poll(struct sim *s, int q, uint32_t work);
void nic_tx_init(struct sim *s, int q);
void nic_tx_sent(struct sim *s, int q);
void nic_tx_timer(struct sim *s, int q, uint32_t gen);
double nic_tx_reap(struct sim *s, int q);

/* napi.c */
void napi_schedule(struct sim *s, int q, int core);
bool napi_complete_done(struct sim *s, int q, uint32_t work, int core);
void napi_timer_start(struct sim *s, int q, sim_t timeout, int core);
void napi_watchdog(struct sim *s, int q, uint32_t gen);
void napi_deliver(struct sim *s, int q, struct fifo *pkts, int core);
void net_rx_action_begin(struct sim *s, int core);
void net_rx_action_poll_done(struct sim *s, int core);
void napi_suspend_irqs(struct sim *s, int q);
void napi_resume_irqs(struct sim *s, int q, int core);
void busy_poll_stop_arm(struct sim *s, int q, int core, struct sim_thread *t);
void busy_poll_stop_done(struct sim *s, int q, int core, struct sim_thread *t,
			 uint32_t work);

/* cpu.c */
void cpu_raise_irq(struct sim *s, int core, int q);
void cpu_raise_timer(struct sim *s, int core, int q);
void cpu_kick(struct sim *s, int core);
void cpu_event(struct sim *s, int core, uint32_t gen);
void cpu_start_app(struct sim *s, int core, enum cat cat, double instr,
		   bool polluted);
void cpu_start_spin(struct sim *s, int core, sim_t until);
void cpu_account_flush(struct sim *s);
void cpu_reset_counters(struct sim *s);
void cpu_wake_thread(struct sim *s, int th);
void cpu_kthread_wake(struct sim *s, int core);
void cpu_interrupt(struct sim *s, int core);
void cpu_interrupt_host_only(struct sim *s, int core);
void cpu_host_piece(struct sim *s, int core, enum work w, int kq, sim_t dur);
void cpu_resched(struct sim *s, int core, uint32_t gen);
void cpu_end_spin(struct sim *s, int core);

/* app.c / epoll.c */
void app_next(struct sim *s, int th);	/* the thread's next piece */
void app_piece_done(struct sim *s, int th);
void app_spin_check(struct sim *s, int th);	/* something changed */
void ep_poll(struct sim *s, struct sim_thread *t);
void ep_busy_loop_step(struct sim *s, struct sim_thread *t);
void ep_poll_callback(struct sim *s, int th, uint32_t n);
void ep_ring_activity(struct sim *s, int q);
void ep_no_events(struct sim *s, struct sim_thread *t);
void ep_busy_loop_end(struct sim *s, struct sim_thread *t);
uint32_t ep_busy_budget(const struct sim *s);

/* client.c */
uint32_t sim_req_new(struct sim *s);
void client_start(struct sim *s);
void client_arrival(struct sim *s);
void client_reply(struct sim *s, uint32_t req);
void client_send_reply(struct sim *s, uint32_t req);
void client_wire_reply(struct sim *s, uint32_t req);
void client_consumed(struct sim *s, uint32_t req, bool count);

/* cost.c */
sim_t cost_ns(const struct sim *s, double instr, double pen_cycles);
sim_t cost_host_ns(const struct sim *s, double instr);
double cost_spin_instr(const struct sim *s, sim_t ns);

/* vm.c */
void vm_init_core(struct sim *s, int core);
enum vint { VI_DEV, VI_TIMER, VI_TX };
void vm_interrupt(struct sim *s, int core, int q, enum vint kind);
void vm_sync_exit(struct sim *s, int core, enum exit_reason r);
void vm_vhost_woken(struct sim *s, int core);
double vm_guest_entry(struct sim *s, int core, double *pen);
double vm_irq_entry(struct sim *s, int core, double *pen);
void vm_ipi(struct sim *s, int from, int to);
int vm_pick(struct sim *s, int core);
void vm_idle(struct sim *s, int core);
void vm_piece_done(struct sim *s, int core, enum work w);
void vm_account(struct sim *s, struct sim_core *c, sim_t dt, bool idle);
void vm_resched(struct sim *s, int core, uint32_t gen);
void vm_reset_counters(struct sim_core *c);
void vm_result(const struct sim *s, struct il_result *r, double secs);

/* vhost.c */
int vhost_core(const struct experiment *e, int i);
int vhost_init(struct sim *s);
void vhost_wake(struct sim *s, int v);
void vhost_guest_tx(struct sim *s, int q, uint32_t req, int core);
void vhost_host_irq_done(struct sim *s, int core, int hq);
void vhost_host_poll_start(struct sim *s, int core, sim_t exit_ns);
void vhost_host_poll_done(struct sim *s, int core);
void vhost_pass_start(struct sim *s, int core, sim_t exit_ns);
void vhost_pass_done(struct sim *s, int core);
void virtio_tx_irq_done(struct sim *s, int core, int q);
void virtio_tx_poll_done(struct sim *s, int core);
double virtio_tx_clean(struct sim *s, int q, bool xmit);

/* result.c */
void sim_result_fill(const struct sim *s, struct il_result *r);

#endif
