/* The server thread (memcached/libevent style), one per queue, pinned to
 * its core: epoll_wait, then for each ready connection read, serve, reply;
 * then epoll_wait again. A UDP sink reads without replying; a cpu_loop
 * thread only computes, never sleeping. app_next starts the thread's next piece of work;
 * app_piece_done applies its effects when it ends. */
#include "sim.h"

void app_next(struct sim *s, int th)
{
	struct sim_thread *t = &s->th[th];
	struct sim_core *c = &s->cores[t->core];
	const struct cost *k = s->c;
	int core = t->core;

	for (;;) {
		if (t->state == T_SLEEP)
			return;
		t->state = T_RUN;
		switch (t->phase) {
		case P_EPOLL:
			t->bl_done = false;
			cpu_start_app(s, core, CAT_SYS, k->epoll, true);
			return;
		case P_WAKE:
			cpu_start_app(s, core, CAT_SYS, k->cs, true);
			return;
		case P_REQ_USER:
			t->cur_req = fifo_pop(s, &t->ready);
			t->in_service = true;
			cpu_start_app(s, core, CAT_USER,
				      il_dist_sample(&s->e->service, &s->rng), true);
			return;
		case P_REQ_SYS:
			cpu_start_app(s, core, CAT_SYS, s->e->app == APP_UDP_SINK ?
				      k->sys_udp : k->sys_req, true);
			return;
		case P_LOOP:
			cpu_start_app(s, core, CAT_USER,
				      il_dist_sample(&s->e->service, &s->rng), true);
			return;
		case P_BL_POLL:
		case P_BL_STOP:
			t->bl_n = nic_take(s, t->queue, ep_busy_budget(s), &t->blpkts);
			cpu_start_app(s, core, CAT_SYS, k->poll +
				      t->bl_n * s->nq[t->queue].rx_instr +
				      (s->nq[t->queue].virtio ? virtio_tx_clean(s, t->queue, false) :
				       nic_tx_reap(s, t->queue)), true);
			return;
		case P_BL_SPIN:
			cpu_start_spin(s, core, t->bl_start +
				       (sim_t)s->e->mode.busy_poll_usecs * 1000 + 1);
			return;
		case P_USPIN:
			cpu_start_spin(s, core, s->now + 1000000);
			return;
		case P_AFTER_BL:
			if (t->ready.n)
				ep_poll(s, t);
			else
				ep_no_events(s, t);
			/* napi_resume_irqs ran the softirq first (threaded:
			 * it only woke the kthread) */
			if ((c->npoll && !s->e->threaded) || c->irq_pending ||
			    c->timer_pending || c->txirq_pending)
				return;
			continue;
		}
	}
}

static void busy_polled(struct sim *s, struct sim_thread *t)
{
	if (s->measuring)
		s->st.busy_polled += t->bl_n;
	napi_deliver(s, t->queue, &t->blpkts, t->core);
}

/* The request is done: memcached replies (through the guest's virtio
 * transmit queue in a virtio VM), a UDP sink just consumed a packet. */
static void reply(struct sim *s, struct sim_thread *t)
{
	if (s->e->app == APP_UDP_SINK)
		client_consumed(s, t->cur_req, true);
	else if (s->nhostq)
		vhost_guest_tx(s, t->queue, t->cur_req, t->core);
	else {
		client_send_reply(s, t->cur_req);
		nic_tx_sent(s, t->queue);	/* its send completion */
	}
}

void app_piece_done(struct sim *s, int th)
{
	struct sim_thread *t = &s->th[th];

	switch (t->phase) {
	case P_EPOLL:
	case P_WAKE:
		ep_poll(s, t);
		break;
	case P_REQ_USER:
		t->phase = P_REQ_SYS;
		break;
	case P_REQ_SYS:
		reply(s, t);
		t->in_service = false;
		s->st.served_total++;
		t->batch--;
		t->phase = t->batch && t->ready.n ? P_REQ_USER : P_EPOLL;
		break;
	case P_BL_POLL:
		busy_polled(s, t);
		ep_busy_loop_step(s, t);
		break;
	case P_BL_SPIN:
		ep_busy_loop_step(s, t);
		break;
	case P_BL_STOP:
		busy_polled(s, t);
		busy_poll_stop_done(s, t->queue, t->core, t, t->bl_n);
		ep_busy_loop_end(s, t);
		break;
	case P_USPIN:
		t->phase = P_EPOLL;
		break;
	case P_LOOP:
		if (s->measuring)
			s->st.completed++;	/* cpu_loop: iterations */
		s->st.served_total++;
		break;
	case P_AFTER_BL:
		break;
	}
}
