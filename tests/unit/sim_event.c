/* Event queue: time order, insertion order on ties, growth. */
#include "../../sim/sim.h"
#include "tap.h"

int main(void)
{
	struct evq q;
	struct sim_ev ev;
	sim_t last = 0;
	int sorted = 1, n = 0;

	ok(evq_init(&q, 4) == 0, "queue allocated");
	/* a scrambled sequence, more than the initial capacity */
	for (uint32_t i = 0; i < 1000; i++)
		evq_push(&q, (i * 7919u) % 1000, EV_CORE, i, 0);
	ok(q.n == 1000 && q.cap >= 1000, "grows past its capacity (%u)", q.cap);
	while (evq_pop(&q, &ev)) {
		if (ev.t < last)
			sorted = 0;
		last = ev.t;
		n++;
	}
	ok(sorted && n == 1000, "pops 1000 events in time order");
	ok(!evq_pop(&q, &ev), "empty queue pops nothing");

	/* ties keep insertion order */
	for (uint32_t i = 0; i < 50; i++)
		evq_push(&q, 42, EV_CORE, i, 0);
	evq_push(&q, 41, EV_CORE, 999, 0);
	evq_pop(&q, &ev);
	ok(ev.t == 41 && ev.id == 999, "earlier time first");
	int fifo = 1;
	for (uint32_t i = 0; i < 50; i++) {
		evq_pop(&q, &ev);
		if (ev.id != i)
			fifo = 0;
	}
	ok(fifo, "equal times pop in insertion order");

	/* the delay line merges with the heap by time, ties by insertion */
	evq_push_line(&q, 10, EV_RX, 1, 0);
	evq_push(&q, 10, EV_CORE, 2, 0);
	evq_push_line(&q, 20, EV_RX, 3, 0);
	evq_push(&q, 5, EV_CORE, 4, 0);
	evq_push_line(&q, 15, EV_RX, 5, 0);	/* out of order: goes to the heap */
	evq_push(&q, 30, EV_CORE, 6, 0);
	ok(evq_next_time(&q) == 5 && evq_pending(&q) == 6, "next time 5, 6 pending");
	static const uint32_t want[] = { 4, 1, 2, 5, 3, 6 };
	int merged = 1;
	for (int i = 0; i < 6; i++) {
		evq_pop(&q, &ev);
		if (ev.id != want[i])
			merged = 0;
	}
	ok(merged, "line and heap pop in (time, insertion) order");
	ok(evq_next_time(&q) == SIM_NEVER, "empty: next time is never");
	/* the line grows past its capacity */
	for (uint32_t i = 0; i < 100000; i++)
		evq_push_line(&q, 100 + i, EV_RX, i, 0);
	int inorder = 1;
	for (uint32_t i = 0; i < 100000; i++)
		if (!evq_pop(&q, &ev) || ev.id != i)
			inorder = 0;
	ok(inorder, "100000 line events come back in order");
	evq_free(&q);
	return tap_done();
}
