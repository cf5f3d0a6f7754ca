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
	evq_free(&q);
	return tap_done();
}
