/* Setup, the event loop, teardown. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

/* DIM profiles (rx-usecs, rx-frames), lowest moderation first, after the
 * mlx5 default receive table in CQE mode. */
static const uint64_t dim_usecs[] = { 2000, 8000, 16000, 32000, 64000 };
static const uint32_t dim_frames[] = { 256, 128, 64, 64, 64 };

void fifo_push(struct sim *s, struct fifo *f, uint32_t req)
{
	s->reqs[req].next = NIL;
	if (f->n)
		s->reqs[f->tail].next = req;
	else
		f->head = req;
	f->tail = req;
	f->n++;
}

uint32_t fifo_pop(struct sim *s, struct fifo *f)
{
	uint32_t r = f->head;

	if (!f->n)
		return NIL;
	f->head = s->reqs[r].next;
	f->n--;
	return r;
}

/* RSS: a hash of the connection picks the queue (Toeplitz stands in for a
 * good mixer here; what matters is that it is uneven like the real one). */
static uint32_t rss_hash(uint64_t conn, uint64_t seed)
{
	uint64_t x = conn * 0x9e3779b97f4a7c15ULL + seed;

	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return (uint32_t)x;
}

/* Queue i's IRQ: on app core i (aligned), on a core without an app thread
 * (packed), or on the core outside the server (remote, index cores). */
static int irq_core(const struct experiment *e, int i)
{
	if (e->affinity == AFF_REMOTE)
		return e->cores;
	if (e->affinity == AFF_ALIGNED || e->cores <= e->queues)
		return i;
	return e->queues + i % (e->cores - e->queues);
}

/* Threaded NAPI: queue i's kthread runs on app core i (aligned) or on
 * another core: the remote one, one without an app thread, or else the
 * next app core (separate; experiment_finish made sure there is one). */
static int kthread_core(const struct experiment *e, int i)
{
	if (e->threaded != NT_SEPARATE)
		return i;
	if (e->affinity == AFF_REMOTE)
		return e->cores;
	if (e->cores > e->queues)
		return e->queues + i % (e->cores - e->queues);
	return (i + 1) % e->cores;
}

/* sysctl_sched_base_slice: 0.75 ms scaled by 1 + log2(CPUs), CPUs capped
 * at 8 (SCHED_TUNABLESCALING_LOG, kernel/sched/fair.c). */
static sim_t sched_slice(const struct experiment *e, int cpus)
{
	int lg = 0;

	if (e->sched_slice_ns)
		return e->sched_slice_ns;
	for (int n = cpus < 8 ? cpus : 8; n > 1; n >>= 1)
		lg++;
	return 750000ULL * (sim_t)(1 + lg);
}

/* The receive path's instructions per packet of a guest (or bare-metal)
 * queue: TCP or UDP, plus big-buffer refills without mergeable buffers. */
static double rx_instr(const struct experiment *e)
{
	double rx = e->app == APP_MEMCACHED ? e->cost.rx_pkt : e->cost.rx_udp;

	if (e->vm.nic == VMNIC_VIRTIO && !e->vm.mergeable)
		rx += e->vm.cost.bigbuf;
	return rx;
}

/* Queue i: a guest (or bare-metal) queue below nqueues, a host NIC queue
 * of a virtio setup above. */
static int queue_setup(struct sim *s, int i)
{
	const struct experiment *e = s->e;
	struct sim_queue *q = &s->nq[i];
	bool host = i >= s->nqueues, virtio = !host && s->nhostq;

	q->host = host;
	q->virtio = virtio;
	q->rsize = (uint32_t)(virtio ? e->vm.queue_size : e->ring_size);
	q->ring = malloc(sizeof(*q->ring) * q->rsize);
	if (!q->ring)
		return -1;
	q->irq_armed = true;
	/* mlx5: DIM starts parked on its default profile (index 1 in CQE
	 * mode) and leaves it at the first window */
	q->dim.ix = 1;
	q->dim.state = DIM_PARK_TOP;
	/* virtio: static coalescing only; the host NIC and a VF: nic.* */
	q->adaptive = !virtio && e->coalesce == COAL_ADAPTIVE;
	q->itr = !virtio && e->coalesce == COAL_ITR;
	q->usecs_ns = q->adaptive ? dim_usecs[1] : virtio ? e->vm.rx_usecs : e->rx_usecs;
	q->frames = q->adaptive ? dim_frames[1] : virtio ? e->vm.rx_frames : e->rx_frames;
	nic_tx_init(s, i);
	if (virtio)
		q->tx_armed = e->vm.napi_tx;	/* tx callbacks */
	if (host) {
		q->thread = -1;
		q->irq_core = q->timer_core = q->kt_core = vhost_core(e, i - s->nqueues);
		q->rx_instr = e->vm.cost.host_rx_pkt;
		return 0;
	}
	q->rx_instr = rx_instr(e);
	q->thread = i;
	/* app thread i on core i; its IRQ on core i (aligned) or on one of
	 * the cores without a thread (packed) */
	q->irq_core = irq_core(e, i);
	q->kt_core = kthread_core(e, i);
	q->timer_core = q->irq_core;
	return 0;
}

static void thread_setup(struct sim *s, int i)
{
	struct sim_thread *t = &s->th[i];

	t->core = i;
	t->queue = i;
	t->state = T_RUN;
	t->phase = s->e->app == APP_CPU_LOOP ? P_LOOP : P_EPOLL;
	t->napi_valid = false;
	t->cur_req = NIL;
	s->cores[i].thread = i;
}

/* Cores: the server's (a guest's app vCPUs), then a VM's own host cores
 * (packed vhost) or the remote one (a veth sender). */
static int core_count(const struct experiment *e)
{
	if (e->vm.nic != VMNIC_NONE)
		return e->cores + (e->vm.nic == VMNIC_VIRTIO && e->vm.vhost == VHOST_PACKED ?
				   e->vm.host_irq_cores : 0);
	return e->cores + (e->affinity == AFF_REMOTE);
}

static int sim_alloc(struct sim *s)
{
	const struct experiment *e = s->e;

	s->reqs = calloc(s->cap_reqs, sizeof(*s->reqs));
	s->conn_queue = calloc((size_t)e->conns, sizeof(*s->conn_queue));
	s->conn_out = calloc((size_t)e->conns, sizeof(*s->conn_out));
	s->conn_wait = calloc((size_t)e->conns, sizeof(*s->conn_wait));
	s->nq = calloc((size_t)(s->nqueues + s->nhostq), sizeof(*s->nq));
	s->cores = calloc((size_t)s->ncores, sizeof(*s->cores));
	s->th = calloc((size_t)s->nthreads, sizeof(*s->th));
	s->lat = il_hist_new();
	if (!s->reqs || !s->conn_queue || !s->conn_out || !s->conn_wait || !s->nq ||
	    !s->cores || !s->th || !s->lat || evq_init(&s->q, 4096 + s->cap_reqs * 2) ||
	    (s->nhostq && vhost_init(s)))
		return -1;
	for (int i = 0; i < s->nqueues + s->nhostq; i++)
		if (queue_setup(s, i))
			return -1;
	return 0;
}

int sim_init(struct sim *s, const struct experiment *e)
{
	memset(s, 0, sizeof(*s));
	s->e = e;
	s->c = &e->cost;
	s->vm = e->vm.nic != VMNIC_NONE;
	/* a guest's code runs at a fraction of bare metal's IPC (nested
	 * paging); the host's at bare metal's */
	s->inv_ipc0 = 1.0 / (e->cost.ipc0 * (s->vm ? e->vm.cost.ipc : 1.0));
	s->inv_ipc_host = 1.0 / e->cost.ipc0;
	s->inv_ghz = 1.0 / e->freq_ghz;
	il_rng_seed(&s->rng, e->seed);
	s->nserver = e->cores;
	s->ncores = core_count(e);
	s->slice = sched_slice(e, s->ncores);
	s->nqueues = e->queues;
	s->nhostq = e->vm.nic == VMNIC_VIRTIO ? e->queues : 0;
	s->nthreads = e->queues;
	s->dim_usecs = dim_usecs;
	s->dim_frames = dim_frames;
	s->dim_nprof = (int)(sizeof(dim_usecs) / sizeof(dim_usecs[0]));
	s->cap_reqs = e->load == LOAD_OPEN ? 4096 :
		      (uint32_t)e->conns * (uint32_t)e->depth;
	s->inflight_cap = 4000000;
	if (sim_alloc(s)) {
		sim_free(s);
		return -1;
	}
	for (uint32_t i = 0; i < s->cap_reqs; i++)
		s->reqs[i].next = i + 1 < s->cap_reqs ? i + 1 : NIL;
	s->free_req = 0;
	for (int c = 0; c < e->conns; c++)
		s->conn_queue[c] = rss_hash((uint64_t)c, e->seed) % (uint32_t)s->nqueues;
	for (int i = 0; i < s->ncores; i++) {
		s->cores[i].thread = -1;
		s->cores[i].cur = W_NONE;
		if (s->vm)
			vm_init_core(s, i);
	}
	for (int i = 0; i < s->nthreads; i++)
		thread_setup(s, i);
	return 0;
}

void sim_free(struct sim *s)
{
	if (s->nq)
		for (int i = 0; i < s->nqueues + s->nhostq; i++)
			free(s->nq[i].ring);
	free(s->nq);
	free(s->vh);
	free(s->reqs);
	free(s->conn_queue);
	free(s->conn_out);
	free(s->conn_wait);
	free(s->cores);
	free(s->th);
	if (s->lat)
		il_hist_free(s->lat);
	evq_free(&s->q);
	memset(s, 0, sizeof(*s));
}

static void start_measuring(struct sim *s)
{
	uint64_t served = s->st.served_total;

	cpu_account_flush(s);
	cpu_reset_counters(s);
	memset(&s->st, 0, sizeof(s->st));
	s->st.served_total = served;
	il_hist_reset(s->lat);
	s->measuring = true;
	s->measure_from = s->now;
}

/* A model bug that keeps scheduling work at one instant would spin for
 * ever; no legitimate run has millions of events at the same ns. */
static void stuck_check(struct sim *s, sim_t t)
{
	if (t != s->stuck_t) {
		s->stuck_t = t;
		s->stuck_n = 0;
	} else if (++s->stuck_n > 10000000) {
		fprintf(stderr, "irqlab-sim: model stuck at t=%llu ns (bug)\n",
			(unsigned long long)t);
		abort();
	}
}

/* Handles one event; false at EV_END. */
static bool dispatch(struct sim *s, const struct sim_ev *ev)
{
	stuck_check(s, ev->t);
	switch (ev->type) {
	case EV_RX:
	case EV_RETX:
		nic_rx(s, ev->id);
		break;
	case EV_REPLY:
		client_reply(s, ev->id);
		break;
	case EV_ARRIVAL:
		client_arrival(s);
		break;
	case EV_COAL:
		nic_coal_timer(s, (int)ev->id, ev->gen);
		break;
	case EV_TXCOAL:
		nic_tx_timer(s, (int)ev->id, ev->gen);
		break;
	case EV_NAPI_TIMER:
		napi_watchdog(s, (int)ev->id, ev->gen);
		break;
	case EV_CORE:
		cpu_event(s, (int)ev->id, ev->gen);
		break;
	case EV_RESCHED:
		cpu_resched(s, (int)ev->id, ev->gen);
		break;
	case EV_HRESCHED:
		vm_resched(s, (int)ev->id, ev->gen);
		break;
	case EV_MEASURE:
		start_measuring(s);
		break;
	case EV_END:
		return false;
	}
	return true;
}

/* Runs events up to and including time t (tests drive the model this way). */
void sim_run_until(struct sim *s, sim_t t)
{
	struct sim_ev ev;

	while (evq_next_time(&s->q) <= t) {
		evq_pop(&s->q, &ev);
		s->now = ev.t;
		s->st.events++;
		if (!dispatch(s, &ev))
			break;
	}
	if (s->now < t)
		s->now = t;
}

void sim_run(struct sim *s)
{
	const struct experiment *e = s->e;
	struct sim_ev ev;
	uint64_t events = 0;

	s->end = e->warmup_ns + e->time_ns;
	evq_push(&s->q, e->warmup_ns, EV_MEASURE, 0, 0);
	evq_push(&s->q, s->end, EV_END, 0, 0);
	client_start(s);
	for (int i = 0; i < s->nthreads; i++)
		cpu_kick(s, s->th[i].core);
	while (evq_pop(&s->q, &ev)) {
		s->now = ev.t;
		events++;
		if (!dispatch(s, &ev))
			break;
	}
	cpu_account_flush(s);
	s->st.events = events;
}

int sim_experiment(const struct experiment *e, struct il_result *r,
		   uint64_t *events)
{
	struct sim s;

	if (sim_init(&s, e))
		return -1;
	sim_run(&s);
	sim_result_fill(&s, r);
	if (events)
		*events = s.st.events;
	sim_free(&s);
	return 0;
}
