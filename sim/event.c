/* Event queue: a binary min-heap of small events in one preallocated array.
 * Ties on time pop in insertion order (seq), so a run is deterministic and
 * "at the same instant" means "in the order it was caused". The array only
 * grows (doubling) when more events are pending than ever before. */
#include <stdlib.h>

#include "sim.h"

int evq_init(struct evq *q, uint32_t cap)
{
	q->h = malloc(sizeof(*q->h) * cap);
	q->n = 0;
	q->cap = cap;
	q->seq = 0;
	return q->h ? 0 : -1;
}

void evq_free(struct evq *q)
{
	free(q->h);
	q->h = NULL;
}

static inline bool before(const struct sim_ev *a, const struct sim_ev *b)
{
	/* seq wraps after 4G events; the unsigned difference keeps the order
	 * right as long as two tied events are less than 2G pushes apart. */
	return a->t < b->t || (a->t == b->t && (int32_t)(a->seq - b->seq) < 0);
}

void evq_push(struct evq *q, sim_t t, uint32_t type, uint32_t id, uint32_t gen)
{
	if (q->n == q->cap) {
		struct sim_ev *h = realloc(q->h, sizeof(*h) * q->cap * 2);
		if (!h)
			abort();	/* out of memory: nothing sensible to do */
		q->h = h;
		q->cap *= 2;
	}
	struct sim_ev ev = { t, type, id, gen, q->seq++ };
	uint32_t i = q->n++;

	while (i) {
		uint32_t p = (i - 1) / 2;
		if (!before(&ev, &q->h[p]))
			break;
		q->h[i] = q->h[p];
		i = p;
	}
	q->h[i] = ev;
}

bool evq_pop(struct evq *q, struct sim_ev *out)
{
	if (!q->n)
		return false;
	*out = q->h[0];
	struct sim_ev last = q->h[--q->n];
	uint32_t i = 0, n = q->n;

	for (;;) {
		uint32_t l = 2 * i + 1, m;
		if (l >= n)
			break;
		m = (l + 1 < n && before(&q->h[l + 1], &q->h[l])) ? l + 1 : l;
		if (!before(&q->h[m], &last))
			break;
		q->h[i] = q->h[m];
		i = m;
	}
	if (n)
		q->h[i] = last;
	return true;
}
