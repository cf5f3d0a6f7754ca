/* The NIC: one receive ring per queue (RSS picks the queue per connection),
 * drops when the ring is full, hardware interrupt moderation (static
 * rx-usecs/rx-frames, an interrupt throttle rate, or net_dim) and one MSI-X
 * vector per queue that fires once and stays quiet until the driver re-arms
 * it (mlx5 CQ arming), which it does when napi_complete_done says so. */
#include "sim.h"

/* A dropped request is retransmitted after TCP's minimum RTO (200 ms). */
#define RTO_NS 200000000ULL

static void coal_fire(struct sim *s, int qi)
{
	struct sim_queue *q = &s->nq[qi];

	q->irq_armed = false;
	q->coal_running = false;
	q->last_fire = s->now;
	q->coal_gen++;
	q->coal_frames = 0;
	q->irqs++;
	q->dim.events++;
	cpu_raise_irq(s, q->irq_core, qi);
}

/* A completion arrived (or was pending at re-arm): count it against the
 * moderation thresholds; the interrupt fires after rx_frames completions or
 * rx_usecs after the first one, whichever comes first. */
static void coal_count(struct sim *s, int qi, uint32_t n)
{
	struct sim_queue *q = &s->nq[qi];

	if (!q->irq_armed)
		return;
	q->coal_frames += n;
	if (q->itr) {
		/* an interrupt throttle (ixgbe EITR): at most one interrupt per
		 * interval; a completion after a quiet interval fires at once */
		sim_t next = q->last_fire + q->usecs_ns;
		if (s->now >= next || !q->last_fire) {
			coal_fire(s, qi);
		} else if (!q->coal_running) {
			q->coal_running = true;
			evq_push(&s->q, next, EV_COAL, (uint32_t)qi, q->coal_gen);
		}
		return;
	}
	if (!q->usecs_ns || (q->frames && q->coal_frames >= q->frames)) {
		coal_fire(s, qi);
		return;
	}
	if (!q->coal_running) {
		q->coal_running = true;
		evq_push(&s->q, s->now + q->usecs_ns, EV_COAL, (uint32_t)qi, q->coal_gen);
	}
}

void nic_coal_timer(struct sim *s, int qi, uint32_t gen)
{
	struct sim_queue *q = &s->nq[qi];

	if (gen != q->coal_gen || !q->coal_running || !q->irq_armed)
		return;
	coal_fire(s, qi);
}

/* A packet into queue qi's ring: dropped if full (TCP retransmits after
 * its minimum RTO; a UDP packet is lost), else counted for coalescing. */
static void ring_put(struct sim *s, int qi, uint32_t req)
{
	struct sim_queue *q = &s->nq[qi];

	q->pkts_in++;
	if (q->rcount == q->rsize) {
		q->drops++;
		if (s->measuring)
			s->st.dropped++;
		if (s->e->app == APP_MEMCACHED)
			evq_push(&s->q, s->now + RTO_NS, EV_RETX, req, 0);
		else
			client_consumed(s, req, false);
		return;
	}
	uint32_t slot = q->rhead + q->rcount++;
	q->ring[slot >= q->rsize ? slot - q->rsize : slot] = req;
	coal_count(s, qi, 1);
	if (!q->host)
		ep_ring_activity(s, qi);
}

/* From the wire: RSS picks the queue (virtio: the host NIC's). */
void nic_rx(struct sim *s, uint32_t req)
{
	int qi = (int)s->conn_queue[s->reqs[req].conn];

	ring_put(s, s->nhostq ? qi + s->nqueues : qi, req);
}

/* vhost put a packet into guest queue qi's receive virtqueue. */
void nic_guest_rx(struct sim *s, int qi, uint32_t req)
{
	ring_put(s, qi, req);
}

/* The driver re-arms the vector. Completions already in the ring count at
 * once, as the CQ raises an event for them when armed. */
static void tx_rearm(struct sim *s, int qi);

void nic_irq_enable(struct sim *s, int qi)
{
	struct sim_queue *q = &s->nq[qi];

	tx_rearm(s, qi);
	if (q->irq_armed)
		return;
	if (q->virtio && q->rcount) {
		/* virtqueue_napi_complete: buffers arrived meanwhile, poll
		 * again (callbacks stay off, no interrupt) */
		napi_schedule(s, qi, q->irq_core);
		return;
	}
	q->irq_armed = true;
	q->coal_frames = 0;
	if (q->rcount)
		coal_count(s, qi, q->rcount);
}

uint32_t nic_take(struct sim *s, int qi, uint32_t max, struct fifo *out)
{
	struct sim_queue *q = &s->nq[qi];
	uint32_t n = q->rcount < max ? q->rcount : max;

	for (uint32_t i = 0; i < n; i++) {
		fifo_push(s, out, q->ring[q->rhead]);
		if (++q->rhead == q->rsize)
			q->rhead = 0;
	}
	q->rcount -= n;
	q->polls++;
	q->polled += n;
	/* the guest refilled buffers vhost was waiting for: it kicks */
	if (q->virtio && n && s->vh[qi].rx.n && !s->vh[qi].runnable) {
		vm_sync_exit(s, q->irq_core, EXIT_IO);
		vhost_wake(s, qi);
	}
	return n;
}

/* DIM, after net_dim (lib/dim/net_dim.c): every 64 interrupts compare the
 * window's packet rate, then its interrupt rate, with the previous one (a
 * difference over 10% counts; more packets, or the same with fewer
 * interrupts, is better). Going right (more moderation) or left, a step
 * that is not better turns back; after turning around a best profile it
 * parks "on top" until the rates change; after 2 x profiles steps it parks
 * "tired" for as many windows, then explores again. Bytes are not
 * compared (every packet of the model has one size). */
#define DIM_NEVENTS 64

static int dim_cmp(double cur, double prev, bool fewer_is_better)
{
	if (prev <= 0)
		return 0;
	double d = (cur - prev) / prev;
	if (d > 0.10)
		return fewer_is_better ? -1 : 1;
	if (d < -0.10)
		return fewer_is_better ? 1 : -1;
	return 0;
}

static void dim_park(struct dim *d, enum dim_state st)
{
	d->steps_right = d->steps_left = 0;
	if (st == DIM_PARK_TOP)
		d->tired = 0;
	d->state = st;
}

static bool dim_on_top(const struct dim *d)
{
	if (d->state == DIM_RIGHT)
		return d->steps_left > 1 && d->steps_right == 1;
	if (d->state == DIM_LEFT)
		return d->steps_right > 1 && d->steps_left == 1;
	return true;
}

/* net_dim_step; false when on the edge or too tired (it parks). */
static bool dim_step(struct sim *s, struct dim *d)
{
	if (d->tired == s->dim_nprof * 2) {
		dim_park(d, DIM_PARK_TIRED);
		return false;
	}
	if ((d->state == DIM_RIGHT && d->ix == s->dim_nprof - 1) ||
	    (d->state == DIM_LEFT && d->ix == 0)) {
		dim_park(d, DIM_PARK_TOP);
		return false;
	}
	if (d->state == DIM_RIGHT) {
		d->ix++;
		d->steps_right++;
	} else if (d->state == DIM_LEFT) {
		d->ix--;
		d->steps_left++;
	}
	d->tired++;
	return true;
}

static void dim_exit_parking(struct sim *s, struct dim *d)
{
	d->state = d->ix ? DIM_LEFT : DIM_RIGHT;
	dim_step(s, d);
}

static void dim_turn(struct dim *d)
{
	if (d->state == DIM_RIGHT) {
		d->state = DIM_LEFT;
		d->steps_left = 0;
	} else if (d->state == DIM_LEFT) {
		d->state = DIM_RIGHT;
		d->steps_right = 0;
	}
}

/* net_dim_decision for one window's rates. */
static void dim_decide(struct sim *s, struct dim *d, double ppms, double epms)
{
	enum dim_state prev_state = d->state;
	int verdict = d->prev_ppms <= 0 ? (ppms > 0) : dim_cmp(ppms, d->prev_ppms, false);

	if (!verdict && d->prev_ppms > 0)
		verdict = dim_cmp(epms, d->prev_epms, true);
	switch (d->state) {
	case DIM_PARK_TOP:
		if (verdict)
			dim_exit_parking(s, d);
		break;
	case DIM_PARK_TIRED:
		if (!--d->tired)
			dim_exit_parking(s, d);
		break;
	case DIM_RIGHT:
	case DIM_LEFT:
		if (verdict <= 0)
			dim_turn(d);
		if (dim_on_top(d))
			dim_park(d, DIM_PARK_TOP);
		else
			dim_step(s, d);
		break;
	}
	if (prev_state != DIM_PARK_TOP || d->state != DIM_PARK_TOP) {
		d->prev_ppms = ppms;
		d->prev_epms = epms;
	}
}

static void dim_apply(struct sim *s, struct sim_queue *q)
{
	q->usecs_ns = s->dim_usecs[q->dim.ix];
	q->frames = s->dim_frames[q->dim.ix];
}

void nic_dim_poll(struct sim *s, int qi, uint32_t work)
{
	struct sim_queue *q = &s->nq[qi];
	struct dim *d = &q->dim;

	if (!q->adaptive)
		return;
	d->pkts += work;
	if (d->events < DIM_NEVENTS)
		return;
	double ms = (double)(s->now - d->start) / 1e6;
	if (ms <= 0)
		return;
	dim_decide(s, d, (double)d->pkts / ms, (double)d->events / ms);
	dim_apply(s, q);
	d->events = d->pkts = 0;
	d->start = s->now;
}

/* Transmit completions (mlx5). Each channel has a TX CQ beside its RX CQ,
 * on the same EQ, MSI-X vector and NAPI (mlx5e_napi_poll polls the TX CQs
 * first, mlx5e_poll_tx_cq, then the RX CQ, and on completion re-arms both,
 * each after its own net_dim step). A reply's send completion (CQE) counts
 * against the TX CQ's moderation while it is armed: the event fires
 * tx_usecs after the first CQE since the arm or at tx_frames CQEs, raises
 * the queue's vector (a hard IRQ, napi_schedule) and disarms the TX CQ
 * until the next napi_complete_done. Polls reap whatever completions are
 * there, softirq or busy poll. TX DIM uses net_dim's TX profiles in EQE
 * mode (lib/dim/net_dim.c, NET_DIM_TX_EQE_PROFILES: 1, 8, 32, 64, 128 us,
 * 128 CQEs; mlx5 starts on index 1 and enables it when the device can
 * moderate, mlx5e_build_nic_params). An ixgbe-style vector (nic.coalesce =
 * itr) cleans TX and RX in one poll and throttles both: a TX completion
 * counts on the shared throttle. */
static const uint64_t tx_dim_usecs[] = { 1000, 8000, 32000, 64000, 128000 };
#define TX_DIM_FRAMES 128

void nic_tx_init(struct sim *s, int qi)
{
	struct sim_queue *q = &s->nq[qi];
	const struct experiment *e = s->e;

	q->tx_armed = true;
	q->tx_adaptive = e->tx_coalesce == COAL_ADAPTIVE;
	q->txdim.ix = 1;
	q->txdim.state = DIM_PARK_TOP;
	q->tx_usecs_ns = q->tx_adaptive ? tx_dim_usecs[1] : e->tx_usecs;
	q->tx_frames = q->tx_adaptive ? TX_DIM_FRAMES : e->tx_frames;
}

static void tx_fire(struct sim *s, int qi)
{
	struct sim_queue *q = &s->nq[qi];

	q->tx_armed = false;
	q->tx_coal_running = false;
	q->tx_gen++;
	q->tx_coal_frames = 0;
	q->tx_irqs++;
	q->txdim.events++;
	cpu_raise_irq(s, q->irq_core, qi);
}

static void tx_count(struct sim *s, int qi, uint32_t n)
{
	struct sim_queue *q = &s->nq[qi];

	if (!q->tx_armed)
		return;
	q->tx_coal_frames += n;
	if (!q->tx_usecs_ns || (q->tx_frames && q->tx_coal_frames >= q->tx_frames)) {
		tx_fire(s, qi);
		return;
	}
	if (!q->tx_coal_running) {
		q->tx_coal_running = true;
		evq_push(&s->q, s->now + q->tx_usecs_ns, EV_TXCOAL, (uint32_t)qi, q->tx_gen);
	}
}

void nic_tx_timer(struct sim *s, int qi, uint32_t gen)
{
	struct sim_queue *q = &s->nq[qi];

	if (gen != q->tx_gen || !q->tx_coal_running || !q->tx_armed)
		return;
	tx_fire(s, qi);
}

/* A reply left through queue qi (bare metal, a VF or passthrough device,
 * or a virtio host's NIC): its CQE. */
void nic_tx_sent(struct sim *s, int qi)
{
	struct sim_queue *q = &s->nq[qi];

	q->txc++;
	if (!s->e->tx_irq)
		return;
	if (q->itr)
		coal_count(s, qi, 1);
	else
		tx_count(s, qi, 1);
}

/* A poll of queue qi's NAPI reaps the TX completions there; returns the
 * instructions (at the caller's IPC: guest or host). */
double nic_tx_reap(struct sim *s, int qi)
{
	struct sim_queue *q = &s->nq[qi];
	uint32_t n = q->txc;

	q->txc = 0;
	q->tx_reaped += n;
	q->txdim.pkts += n;
	return n * s->c->tx_cqe;
}

/* mlx5e_handle_tx_dim + mlx5e_cq_arm of the TX CQ, at napi_complete_done. */
static void tx_rearm(struct sim *s, int qi)
{
	struct sim_queue *q = &s->nq[qi];
	struct dim *d = &q->txdim;

	if (q->virtio || q->itr || !s->e->tx_irq)
		return;
	if (q->tx_adaptive && d->events >= DIM_NEVENTS) {
		double ms = (double)(s->now - d->start) / 1e6;
		if (ms > 0) {
			dim_decide(s, d, (double)d->pkts / ms, (double)d->events / ms);
			q->tx_usecs_ns = tx_dim_usecs[d->ix];
			d->events = d->pkts = 0;
			d->start = s->now;
		}
	}
	if (q->tx_armed)
		return;
	q->tx_armed = true;
	q->tx_coal_frames = 0;
	if (q->txc)
		tx_count(s, qi, q->txc);
}
