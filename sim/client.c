/* Clients. Closed loop: conns x depth requests in flight, each re-sent as
 * soon as its reply arrives. Open loop: requests at scheduled times
 * (Poisson or fb_ia inter-arrivals at the target rate), spread round-robin
 * over the connections; a connection with `depth` requests outstanding
 * queues the next ones at the client (as mutilate does), so an overloaded
 * server sees at most conns x depth requests, and the wait shows up as
 * latency. Latency runs from the scheduled send time to the reply's
 * arrival, both wire legs included. */
#include <stdlib.h>

#include "sim.h"

uint32_t sim_req_new(struct sim *s)
{
	if (s->free_req == NIL) {
		/* the pool only grows when more requests are in flight than
		 * ever before (open loop); amortised, not per event */
		uint32_t cap = s->cap_reqs * 2;
		struct sim_req *r = realloc(s->reqs, sizeof(*r) * cap);
		if (!r)
			abort();
		s->reqs = r;
		for (uint32_t i = s->cap_reqs; i < cap; i++)
			r[i].next = i + 1 < cap ? i + 1 : NIL;
		s->free_req = s->cap_reqs;
		s->cap_reqs = cap;
	}
	uint32_t id = s->free_req;
	s->free_req = s->reqs[id].next;
	s->reqs[id].next = NIL;
	s->nreqs++;
	return id;
}

static void req_free(struct sim *s, uint32_t id)
{
	s->reqs[id].next = s->free_req;
	s->free_req = id;
	s->nreqs--;
}

/* One way on the wire; with an assigned device (SR-IOV VF, passthrough)
 * its DMA also goes through the IOMMU (an IOTLB cost per packet). */
static sim_t wire_ns(const struct sim *s)
{
	const struct experiment *e = s->e;

	if (e->vm.nic == VMNIC_SRIOV)
		return e->wire_ns + (sim_t)e->vm.cost.iotlb_sriov;
	if (e->vm.nic == VMNIC_PASSTHROUGH)
		return e->wire_ns + (sim_t)e->vm.cost.iotlb_passthrough;
	return e->wire_ns;
}

/* The request leaves at `at`; its latency counts from its schedule. */
static void send_req(struct sim *s, uint32_t id, sim_t sched, sim_t at)
{
	s->reqs[id].sched = sched;
	if (s->measuring)
		s->st.sent++;
	evq_push_line(&s->q, at + wire_ns(s), EV_RX, id, 0);
}

void client_start(struct sim *s)
{
	const struct experiment *e = s->e;

	if (e->load == LOAD_OPEN) {
		evq_push(&s->q, 0, EV_ARRIVAL, 0, 0);
		return;
	}
	for (int c = 0; c < e->conns; c++) {
		for (int d = 0; d < e->depth; d++) {
			uint32_t id = sim_req_new(s);
			s->reqs[id].conn = (uint32_t)c;
			/* spread the first sends over 20 us */
			sim_t t = (sim_t)(il_rng_uniform(&s->rng) * 20000);
			send_req(s, id, t, t);
		}
	}
}

void client_arrival(struct sim *s)
{
	if (s->nreqs >= s->inflight_cap) {
		s->saturated = true;	/* the server fell too far behind */
	} else {
		uint32_t id = sim_req_new(s);
		uint32_t c = s->next_conn++ % (uint32_t)s->e->conns;
		s->reqs[id].conn = c;
		if (s->e->app != APP_MEMCACHED) {
			send_req(s, id, s->now, s->now);	/* UDP: no window */
		} else if (s->conn_out[c] < (uint32_t)s->e->depth) {
			s->conn_out[c]++;
			send_req(s, id, s->now, s->now);
		} else {
			s->reqs[id].sched = s->now;
			fifo_push(s, &s->conn_wait[c], id);
		}
	}
	double gap = il_dist_sample(&s->e->ia, &s->rng);
	evq_push(&s->q, s->now + (sim_t)(gap > 0 ? gap : 0), EV_ARRIVAL, 0, 0);
}

void client_send_reply(struct sim *s, uint32_t id)
{
	evq_push_line(&s->q, s->now + wire_ns(s), EV_REPLY, id, 0);
}

/* A reply the host's NIC sends for a virtio guest (vhost.c). */
void client_wire_reply(struct sim *s, uint32_t id)
{
	client_send_reply(s, id);
}

/* A UDP packet consumed (by the sink: counted, its latency recorded) or
 * dropped (at a full ring, or at the socket of a cpu_loop server). */
void client_consumed(struct sim *s, uint32_t id, bool count)
{
	if (s->measuring && count) {
		s->st.completed++;
		il_hist_record(s->lat, s->now - s->reqs[id].sched);
	}
	req_free(s, id);
}

void client_reply(struct sim *s, uint32_t id)
{
	struct sim_req *r = &s->reqs[id];

	/* every reply inside the window counts, also one scheduled during
	 * the warm-up: an overloaded server then shows its backlog as
	 * latency instead of showing no throughput */
	if (s->measuring) {
		s->st.completed++;
		il_hist_record(s->lat, s->now - r->sched);
	}
	if (s->e->load != LOAD_OPEN) {
		send_req(s, id, s->now, s->now);
		return;
	}
	uint32_t c = r->conn;
	req_free(s, id);
	s->conn_out[c]--;
	if (s->conn_wait[c].n) {
		uint32_t next = fifo_pop(s, &s->conn_wait[c]);
		s->conn_out[c]++;
		send_req(s, next, s->reqs[next].sched, s->now);
	}
}
