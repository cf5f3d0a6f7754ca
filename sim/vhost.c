/* VirtIO-net's host side with vhost-net (vm.nic = virtio). Requests reach
 * the host's physical NIC (nic.c rings, coalescing and MSI-X, queue i+Q for
 * the guest's queue i); its IRQ and NAPI run in the host's softirq on the
 * host IRQ core (base mode: no deferral), through bridge and tap, to queue
 * i's vhost worker, which copies them into the guest's receive virtqueue
 * (the guest queue's ring, virtio.queue_size) and signals the guest through
 * irqfd (a virtual interrupt, vm.c). The guest's replies go into its
 * transmit virtqueue; the worker takes them to the tap, the bridge and the
 * NIC. Notification suppression both ways:
 *   - guest -> host: the guest kicks (an I/O exit) only when the worker is
 *     idle; while it is woken or running, vhost has notifications off
 *     (VRING_USED_F_NO_NOTIFY / event index) and finds new buffers itself;
 *   - host -> guest: the guest queue's vector fires once and stays quiet
 *     while the guest's NAPI has callbacks disabled (nic.c), with static
 *     coalescing virtio.rx_frames / rx_usecs (no adaptive); re-enabling
 *     callbacks with buffers pending reschedules NAPI in place
 *     (virtqueue_napi_complete), without an interrupt.
 * Transmit completions (virtio.napi_tx): the worker's tx pass puts the
 * sent buffers in the used ring and signals the guest if its tx callbacks
 * are on (tx_used); the guest's tx virtqueue interrupt schedules its tx
 * NAPI, which reaps them (virtio_tx_*; docs/sim.md "Transmit completions").
 * Placement: aligned puts worker i and host queue i's IRQ on host core i
 * (with app vCPU i), packed on the vm.host_irq_cores cores after them. */
#include <stdlib.h>

#include "sim.h"

#define VHOST_BATCH 64	/* packets per worker pass before it looks again */

int vhost_core(const struct experiment *e, int i)
{
	if (e->vm.vhost == VHOST_ALIGNED)
		return i;
	return e->cores + i % e->vm.host_irq_cores;
}

int vhost_init(struct sim *s)
{
	s->vh = calloc((size_t)s->nqueues, sizeof(*s->vh));
	if (!s->vh)
		return -1;
	for (int i = 0; i < s->nqueues; i++) {
		s->vh[i].core = vhost_core(s->e, i);
		s->vh[i].queue = i;
	}
	return 0;
}

/* vhost_poll_wakeup / vhost_work_queue: the worker is woken (and guest
 * kicks are suppressed from now until it goes idle). */
void vhost_wake(struct sim *s, int v)
{
	struct vhost *w = &s->vh[v];
	struct sim_core *c = &s->cores[w->core];

	if (w->runnable)
		return;
	w->runnable = true;
	if (c->nvh < MAX_POLL_LIST)
		c->vh[c->nvh++] = v;
	vm_vhost_woken(s, w->core);
}

/* virtnet's start_xmit: the reply goes into the tx virtqueue; a kick (an
 * I/O exit, ioeventfd wakes the worker) only if the worker is idle. */
void vhost_guest_tx(struct sim *s, int q, uint32_t req, int core)
{
	struct vhost *w = &s->vh[q];

	/* start_xmit: free_old_xmit first (virtqueue_enable_cb_delayed after
	 * it with napi_tx), paid by the thread's next syscall work */
	s->cores[core].sys_extra += virtio_tx_clean(s, q, true);
	fifo_push(s, &w->tx, req);
	if (w->runnable)
		return;
	vm_sync_exit(s, core, EXIT_IO);
	s->cores[core].in_guest = false;	/* the worker runs from the exit */
	vhost_wake(s, q);
}

/* The host NIC's IRQ handler ended: napi_schedule on this core. */
void vhost_host_irq_done(struct sim *s, int core, int hq)
{
	struct sim_core *c = &s->cores[core];

	list_add_once(c->hpoll, &c->nhpoll, MAX_POLL_LIST, hq);
}

/* Host softirq: one poll of the head host NAPI, up to a weight of packets
 * through the driver, the bridge and the tap. */
void vhost_host_poll_start(struct sim *s, int core, sim_t exit_ns)
{
	struct sim_core *c = &s->cores[core];
	int hq = c->hpoll[0];
	struct vhost *w = &s->vh[hq - s->nqueues];
	double instr = s->c->poll;

	c->kn = nic_take(s, hq, (uint32_t)s->e->napi_weight, &c->kpkts);
	instr += c->kn * s->nq[hq].rx_instr + nic_tx_reap(s, hq);
	if (c->kn && !w->runnable)
		instr += s->c->wake;
	if (c->vcpu)
		c->pen += c->kn * s->c->pen_pkt;	/* the guest's caches */
	cpu_host_piece(s, core, W_HPOLL, hq, cost_host_ns(s, instr) + exit_ns);
}

void vhost_host_poll_done(struct sim *s, int core)
{
	struct sim_core *c = &s->cores[core];
	int hq = c->hpoll[0];
	int v = hq - s->nqueues;
	uint32_t n = c->kn;

	while (c->kpkts.n)
		fifo_push(s, &s->vh[v].rx, fifo_pop(s, &c->kpkts));
	if (n)
		vhost_wake(s, v);
	for (int i = 1; i < c->nhpoll; i++)
		c->hpoll[i - 1] = c->hpoll[i];
	c->nhpoll--;
	nic_dim_poll(s, hq, n);
	if (n < (uint32_t)s->e->napi_weight)
		nic_irq_enable(s, hq);		/* napi_complete_done: re-arm */
	else
		c->hpoll[c->nhpoll++] = hq;	/* repoll */
}

/* Room in the guest's receive virtqueue (buffers the guest has posted). */
static uint32_t vq_room(const struct sim *s, int q)
{
	const struct sim_queue *n = &s->nq[q];

	return n->rsize - n->rcount;
}

/* One pass of the head worker: the guest's replies first (handle_tx), else
 * the tap's packets into the guest (handle_rx), a batch at a time. */
void vhost_pass_start(struct sim *s, int core, sim_t exit_ns)
{
	struct sim_core *c = &s->cores[core];
	struct vhost *w = &s->vh[c->vh[0]];
	const struct vm_cost *k = &s->e->vm.cost;
	struct fifo *from = w->tx.n ? &w->tx : &w->rx;
	uint32_t max = VHOST_BATCH, n = 0;
	double instr = k->vhost_run;

	w->pass_tx = w->tx.n > 0;
	if (!w->pass_tx && vq_room(s, w->queue) < max)
		max = vq_room(s, w->queue);
	while (n < max && from->n) {
		fifo_push(s, &w->pkts, fifo_pop(s, from));
		n++;
	}
	instr += n * (w->pass_tx ? k->vhost_tx_pkt : k->vhost_rx_pkt);
	if (w->pass_tx)
		w->signal = n && s->nq[w->queue].tx_armed;
	else
		w->signal = n && s->nq[w->queue].irq_armed;
	if (w->signal)
		instr += k->signal;
	if (c->vcpu)
		c->pen += n * s->c->pen_pkt;
	cpu_host_piece(s, core, W_VHOST, c->vh[0], cost_host_ns(s, instr) + exit_ns);
}

/* vhost_add_used_and_signal_n on the tx virtqueue: the guest's sent
 * buffers are used; with napi_tx and the guest's tx callbacks on
 * (start_xmit and the rx poll's cleantx leave them on with
 * virtqueue_enable_cb_delayed, whose event index a pass crosses) vhost
 * signals: a tx virtqueue interrupt, whose handler (skb_xmit_done) turns
 * the callbacks off and schedules the tx NAPI. */
static void tx_used(struct sim *s, int qi, uint32_t n)
{
	struct sim_queue *q = &s->nq[qi];

	q->txc += n;
	if (!s->e->vm.napi_tx || !q->tx_armed)
		return;
	q->tx_armed = false;
	q->tx_irqs++;
	vm_interrupt(s, q->irq_core, qi, VI_TX);
}

static void vh_list_del_head(struct sim_core *c)
{
	for (int i = 1; i < c->nvh; i++)
		c->vh[i - 1] = c->vh[i];
	c->nvh--;
}

void vhost_pass_done(struct sim *s, int core)
{
	struct sim_core *c = &s->cores[core];
	int v = c->kq;
	struct vhost *w = &s->vh[v];

	uint32_t sent = 0;

	while (w->pkts.n) {
		uint32_t req = fifo_pop(s, &w->pkts);
		if (w->pass_tx) {
			client_wire_reply(s, req);	/* tap, bridge, NIC, wire */
			nic_tx_sent(s, s->nqueues + w->queue);	/* host NIC's CQE */
			sent++;
		} else {
			nic_guest_rx(s, w->queue, req);	/* used ring; maybe signal */
		}
	}
	if (sent)
		tx_used(s, w->queue, sent);
	vh_list_del_head(c);
	/* more to do (and buffers to put it in): stay woken, round robin */
	if (w->tx.n || (w->rx.n && vq_room(s, w->queue))) {
		c->vh[c->nvh++] = v;
		return;
	}
	/* vhost_enable_notify: idle; without guest buffers it waits for the
	 * guest's refill kick (nic_take) */
	w->runnable = false;
}

/* The guest's tx virtqueue interrupt handler ended: napi_schedule of the
 * queue pair's tx NAPI (on the vCPU that took it). */
void virtio_tx_irq_done(struct sim *s, int core, int qi)
{
	struct sim_queue *q = &s->nq[qi];
	struct sim_core *c = &s->cores[core];

	if (q->tx_sched)
		return;
	q->tx_sched = true;
	list_add_once(c->txpoll, &c->ntxpoll, MAX_POLL_LIST, qi);
}

/* virtnet_poll_tx ended (it reaped at its start): napi_complete_done and
 * the callbacks back on (virtqueue_enable_cb_prepare); buffers used since
 * (virtqueue_poll) make it poll again. */
void virtio_tx_poll_done(struct sim *s, int core)
{
	struct sim_core *c = &s->cores[core];
	int qi = c->txpoll[0];
	struct sim_queue *q = &s->nq[qi];

	for (int i = 1; i < c->ntxpoll; i++)
		c->txpoll[i - 1] = c->txpoll[i];
	c->ntxpoll--;
	if (q->txc) {
		c->txpoll[c->ntxpoll++] = qi;
		return;
	}
	q->tx_sched = false;
	q->tx_armed = true;
}

/* free_old_xmit outside the tx NAPI: start_xmit (xmit) and, with napi_tx,
 * the rx poll's virtnet_poll_cleantx; both leave the tx callbacks on
 * (virtqueue_enable_cb_delayed) with napi_tx. Returns the instructions. */
double virtio_tx_clean(struct sim *s, int qi, bool xmit)
{
	struct sim_queue *q = &s->nq[qi];

	if (!s->e->vm.napi_tx)
		return xmit ? nic_tx_reap(s, qi) : 0;
	q->tx_armed = true;
	return nic_tx_reap(s, qi);
}
