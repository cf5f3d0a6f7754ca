/* NAPI-aware steering: which loop thread owns a connection, from the NAPI
 * id its packets arrive on. Pure function over ids (no sockets) so the
 * policy is unit-tested directly.
 *
 * One epoll instance busy polls one NAPI (the id of the last socket it saw
 * with one), so mixing queues on a thread makes busy polling poll the wrong
 * queue half the time. Keeping each NAPI on one thread avoids that. */
#include "irqlab/loop.h"

#include <string.h>

void il_steer_init(struct il_steer *s, int nthreads)
{
	memset(s, 0, sizeof(*s));
	s->nthreads = nthreads > 0 ? nthreads : 1;
}

static int find(const struct il_steer *s, uint32_t id)
{
	for (int i = 0; i < s->nmap; i++)
		if (s->napi[i] == id)
			return i;
	return -1;
}

static void remember(struct il_steer *s, uint32_t id, int thread)
{
	/* A full table only loses memory of old ids (veth re-creates NAPIs
	 * with new ids); a slot picked by the id is recycled. */
	int slot = s->nmap < IL_STEER_MAX ? s->nmap++ : (int)(id % IL_STEER_MAX);

	s->napi[slot] = id;
	s->thread[slot] = thread;
}

void il_steer_map_queues(struct il_steer *s, const uint32_t *rxq_napi, int nq)
{
	int t = 0;

	for (int q = 0; q < nq; q++) {
		int i;

		if (!rxq_napi[q])
			continue;
		i = find(s, rxq_napi[q]);
		if (i >= 0)
			s->thread[i] = q % s->nthreads;
		else
			remember(s, rxq_napi[q], q % s->nthreads);
		t = (q + 1) % s->nthreads;
	}
	/* ids that show up later (NAPI re-created) continue the rotation */
	s->next_new = t;
}

int il_steer_pick(struct il_steer *s, uint32_t napi_id)
{
	int i, t;

	if (!napi_id) {
		s->round_robin++;
		return (int)(s->rr++ % (uint64_t)s->nthreads);
	}
	i = find(s, napi_id);
	if (i >= 0) {
		s->by_napi++;
		return s->thread[i];
	}
	t = s->next_new;
	s->next_new = (s->next_new + 1) % s->nthreads;
	remember(s, napi_id, t);
	s->first_come++;
	return t;
}
