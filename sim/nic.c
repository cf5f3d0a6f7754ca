/* The NIC: one receive ring per queue (RSS picks the queue per connection),
 * drops when the ring is full, hardware interrupt moderation (static
 * rx-usecs/rx-frames, or a DIM-like adaptive controller) and one MSI-X
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

void nic_rx(struct sim *s, uint32_t req)
{
	int qi = (int)s->conn_queue[s->reqs[req].conn];
	struct sim_queue *q = &s->nq[qi];

	q->pkts_in++;
	if (q->rcount == q->rsize) {
		q->drops++;
		if (s->measuring)
			s->st.dropped++;
		evq_push(&s->q, s->now + RTO_NS, EV_RETX, req, 0);
		return;
	}
	uint32_t slot = q->rhead + q->rcount++;
	q->ring[slot >= q->rsize ? slot - q->rsize : slot] = req;
	coal_count(s, qi, 1);
	ep_ring_activity(s, qi);
}

/* The driver re-arms the vector. Completions already in the ring count at
 * once, as the CQ raises an event for them when armed. */
void nic_irq_enable(struct sim *s, int qi)
{
	struct sim_queue *q = &s->nq[qi];

	if (q->irq_armed)
		return;
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
	return n;
}

/* DIM, after net_dim: every 64 interrupts compare the packet rate and the
 * interrupt rate with the previous window. More packets per ms (>10%) is
 * better; same packets with fewer interrupts is better; keep moving the same
 * way while it gets better, turn back when it gets worse, park when nothing
 * changes. Moving right means more moderation. */
#define DIM_NEVENTS 64

static int dim_cmp(double cur, double prev)
{
	if (prev <= 0)
		return cur > 0 ? 1 : 0;
	double d = (cur - prev) / prev;
	return d > 0.10 ? 1 : d < -0.10 ? -1 : 0;
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

	if (s->e->coalesce != COAL_ADAPTIVE)
		return;
	d->pkts += work;
	if (d->events < DIM_NEVENTS)
		return;
	double ms = (double)(s->now - d->start) / 1e6;
	if (ms <= 0)
		return;
	double ppms = (double)d->pkts / ms, epms = (double)d->events / ms;
	int verdict = dim_cmp(ppms, d->prev_ppms);
	if (!verdict)
		verdict = -dim_cmp(epms, d->prev_epms);	/* fewer IRQs: better */
	if (d->parked) {
		if (verdict) {		/* the load changed: search again */
			d->parked = 0;
			d->dir = d->ix == s->dim_nprof - 1 ? -1 : 1;
		}
	} else if (verdict > 0 || verdict < 0) {
		if (verdict < 0)
			d->dir = -d->dir;
		int nix = d->ix + d->dir;
		if (nix < 0 || nix >= s->dim_nprof)
			d->parked = 1;
		else
			d->ix = nix;
	} else {
		d->parked = 1;
	}
	dim_apply(s, q);
	d->prev_ppms = ppms;
	d->prev_epms = epms;
	d->events = d->pkts = 0;
	d->start = s->now;
}
