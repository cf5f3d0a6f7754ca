/* Event queue: a 4-ary min-heap of small entries in one preallocated array,
 * ordered by one 64-bit key: time (ns) in the high 40 bits, a push counter
 * in the low 24, so that ties pop in insertion order ("at the same instant"
 * means "in the order it was caused") and a run is deterministic. A 4-ary
 * heap is half as deep as a binary one; popping dominates the profile.
 * The array only grows (doubling) when more events are pending than ever
 * before. Times past 2^40 ns (18 minutes) are clamped: runs are shorter. */
#include <stdlib.h>

#include "sim.h"

#define SEQ_BITS 24
#define T_MAX ((1ULL << (64 - SEQ_BITS)) - 1)

int evq_init(struct evq *q, uint32_t cap)
{
	uint32_t p2 = 16;

	while (p2 < cap)
		p2 *= 2;
	cap = p2;
	q->h = malloc(sizeof(*q->h) * cap);
	q->line = malloc(sizeof(*q->line) * cap);
	q->n = 0;
	q->cap = cap;
	q->seq = 0;
	q->lhead = q->ln = 0;
	q->lcap = cap;	/* a power of two: indexes wrap with a mask */
	return q->h && q->line ? 0 : -1;
}

void evq_free(struct evq *q)
{
	free(q->h);
	free(q->line);
	q->h = NULL;
	q->line = NULL;
}

static uint64_t make_key(struct evq *q, sim_t t)
{
	if (t > T_MAX)
		t = T_MAX;
	return (t << SEQ_BITS) | (q->seq++ & ((1u << SEQ_BITS) - 1));
}

/* The delay line: events pushed in time order (a constant wire delay after
 * "now") wait in a FIFO instead of the heap; pop takes the earlier of the
 * two heads. Most of a run's events are wire legs, so the heap stays small. */
void evq_push_line(struct evq *q, sim_t t, uint32_t type, uint32_t id, uint32_t gen)
{
	if (q->ln) {
		const struct evq_ent *tail = &q->line[(q->lhead + q->ln - 1) & (q->lcap - 1)];
		if ((tail->key >> SEQ_BITS) > t) {
			evq_push(q, t, type, id, gen);	/* out of order */
			return;
		}
	}
	if (q->ln == q->lcap) {
		struct evq_ent *l = malloc(sizeof(*l) * q->lcap * 2);
		if (!l)
			abort();
		for (uint32_t i = 0; i < q->ln; i++)
			l[i] = q->line[(q->lhead + i) & (q->lcap - 1)];
		free(q->line);
		q->line = l;
		q->lhead = 0;
		q->lcap *= 2;
	}
	struct evq_ent ev = { make_key(q, t), type, id, gen };
	q->line[(q->lhead + q->ln++) & (q->lcap - 1)] = ev;
}

void evq_push(struct evq *q, sim_t t, uint32_t type, uint32_t id, uint32_t gen)
{
	if (q->n == q->cap) {
		struct evq_ent *h = realloc(q->h, sizeof(*h) * q->cap * 2);
		if (!h)
			abort();	/* out of memory: nothing sensible to do */
		q->h = h;
		q->cap *= 2;
	}
	struct evq_ent ev = { make_key(q, t), type, id, gen };
	uint32_t i = q->n++;

	while (i) {
		uint32_t p = (i - 1) / 4;
		if (q->h[p].key <= ev.key)
			break;
		q->h[i] = q->h[p];
		i = p;
	}
	q->h[i] = ev;
}

static void fill(struct sim_ev *out, const struct evq_ent *e)
{
	out->t = e->key >> SEQ_BITS;
	out->type = e->type;
	out->id = e->id;
	out->gen = e->gen;
	out->seq = (uint32_t)(e->key & ((1u << SEQ_BITS) - 1));
}

bool evq_pop(struct evq *q, struct sim_ev *out)
{
	if (q->ln && (!q->n || q->line[q->lhead].key < q->h[0].key)) {
		fill(out, &q->line[q->lhead]);
		q->lhead = (q->lhead + 1) & (q->lcap - 1);
		q->ln--;
		return true;
	}
	if (!q->n)
		return false;
	struct evq_ent top = q->h[0], last = q->h[--q->n];
	uint32_t i = 0, n = q->n;

	for (;;) {
		uint32_t c = 4 * i + 1, m = c;
		if (c >= n)
			break;
		uint32_t end = c + 4 < n ? c + 4 : n;
		for (uint32_t k = c + 1; k < end; k++)
			if (q->h[k].key < q->h[m].key)
				m = k;
		if (q->h[m].key >= last.key)
			break;
		q->h[i] = q->h[m];
		i = m;
	}
	if (n)
		q->h[i] = last;
	fill(out, &top);
	return true;
}

sim_t evq_next_time(const struct evq *q)
{
	uint64_t k = UINT64_MAX;

	if (q->n)
		k = q->h[0].key;
	if (q->ln && q->line[q->lhead].key < k)
		k = q->line[q->lhead].key;
	return k == UINT64_MAX ? SIM_NEVER : k >> SEQ_BITS;
}

uint32_t evq_pending(const struct evq *q)
{
	return q->n + q->ln;
}
