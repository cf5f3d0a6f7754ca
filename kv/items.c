/* Items in the table and the LRUs (see store_int.h for the lock naming):
 * linking, unlinking, finding (dead items are reclaimed on sight),
 * evicting, and allocating the chunk of a new item. Each shard has one LRU
 * per size class, so eviction frees memory of the size that is needed. */
#include <stdlib.h>

#include "store_int.h"

/* Takes an item out of its LRU and the counters and frees it (the caller
 * takes it out of the table). */
/* it's bucket of "stats sizes" changes by d (shard lock held). */
static void do_sizes_count(struct store *s, const struct item *it, int d)
{
	size_t b;

	if (!s->sizes || it->cas < s->sizes_cas)
		return;
	b = (item_class_size(it->nkey, it->nbytes, it->flags) + 31) / 32;
	if (b < s->nsizes)
		__atomic_fetch_add(&s->sizes[b], (uint32_t)d, __ATOMIC_RELAXED);
}

static void do_item_free(struct store *s, struct shard *sh, struct item *it)
{
	do_sizes_count(s, it, -1);
	do_lru_unlink(&sh->lru[it->cls], it);
	sh->count--;
	sh->st.curr_items--;
	sh->st.bytes -= item_total(it->nkey, it->nbytes);
	sh->cc[it->cls].bytes -= item_class_size(it->nkey, it->nbytes, it->flags);
	if (it->cls == CLS_LARGE)
		sh->st.large_items--;
	do_chunk_free(s, it);
}

void do_item_unlink(struct store *s, struct shard *sh, struct item **pp)
{
	struct item *it = *pp;

	*pp = it->hnext;
	do_item_free(s, sh, it);
}

void do_item_link(struct store *s, struct shard *sh, struct item **pp,
		  struct item *it)
{
	struct item *old = *pp;

	it->hnext = old ? old->hnext : NULL;
	if (old)
		do_item_free(s, sh, old);
	*pp = it;
	do_sizes_count(s, it, 1);
	do_lru_push(&sh->lru[it->cls], it);
	sh->count++;
	sh->st.curr_items++;
	sh->st.total_items++;
	sh->st.bytes += item_total(it->nkey, it->nbytes);
	sh->cc[it->cls].bytes += item_class_size(it->nkey, it->nbytes, it->flags);
	if (it->cls == CLS_LARGE)
		sh->st.large_items++;
	if (sh->count > sh->mask + 1 + (sh->mask + 1) / 2)
		do_assoc_grow(sh);
}

/* Counts an item about to be freed other than by a delete, as memcached
 * counts it: a dead item is "reclaimed", a live one "evicted". */
static void do_count_removal(struct shard *sh, const struct item *it, uint32_t now)
{
	bool unfetched = !(it->iflags & IT_FETCHED);
	struct cls_count *cc = &sh->cc[it->cls];

	if (do_item_dead(sh, it, now)) {
		sh->st.reclaimed++;
		sh->st.expired_unfetched += unfetched;
		cc->reclaimed++;
		cc->expired_unfetched += unfetched;
	} else {
		sh->st.evictions++;
		sh->st.evicted_unfetched += unfetched;
		cc->evicted++;
		cc->evicted_unfetched += unfetched;
		cc->evicted_nonzero += it->exptime != 0;
		/* memcached's evicted_time: how long ago the last evicted
		 * item was used */
		cc->evicted_time = now > it->atime ? now - it->atime : 0;
		cc->evicted_at = now;
	}
}

void do_item_reclaim(struct store *s, struct shard *sh, struct item **pp,
		     uint32_t now)
{
	do_count_removal(sh, *pp, now);
	do_item_unlink(s, sh, pp);
}

void do_item_evict(struct store *s, struct shard *sh, struct item *it,
		   uint32_t now)
{
	struct item **pp = do_assoc_slot(sh, assoc_hash(it->data, it->nkey),
					 it->data, it->nkey);

	do_count_removal(sh, it, now);
	if (*pp == it)
		do_item_unlink(s, sh, pp);
}

void do_item_meta(const struct item *it, struct st_meta *m)
{
	m->flags = it->flags;
	m->cas = it->cas;
	m->exptime = it->exptime;
	m->atime = it->atime;
	m->fetched = it->iflags & IT_FETCHED;
	m->cls = it->cls;
	m->total = (uint32_t)item_class_size(it->nkey, it->nbytes, it->flags);
	m->nbytes = it->nbytes;
	m->win = false;
	m->won = it->iflags & IT_WON;
	m->stale = it->iflags & IT_STALE;
}

uint64_t store_next_cas(struct store *s)
{
	return atomic_fetch_add(&s->cas, 1) + 1;
}

bool do_lru_evict_tail(struct store *s, struct shard *sh, int c, uint32_t now)
{
	struct item *it = sh->lru[c].tail;

	if (!it)
		return false;
	do_item_evict(s, sh, it, now);
	return true;
}

/* Another shard's tail, if that shard is not busy: trylock keeps the
 * one-shard-lock-at-a-time rule deadlock-free. */
bool do_evict_other(struct store *s, struct shard *mine, int c, uint32_t now)
{
	for (int i = 0; i < s->nshards; i++) {
		struct shard *o = &s->sh[i];
		bool done;

		/* the tail is only read under the lock (no racy peek) */
		if (o == mine || pthread_mutex_trylock(&o->lock))
			continue;
		done = do_lru_evict_tail(s, o, c, now);
		pthread_mutex_unlock(&o->lock);
		if (done)
			return true;
	}
	return false;
}

/* A dead item among the last RECLAIM_TRIES of sh's LRU of class c. */
static bool do_reclaim_one(struct store *s, struct shard *sh, int c, uint32_t now)
{
	struct item *it = sh->lru[c].tail;

	for (int i = 0; it && i < RECLAIM_TRIES; i++, it = it->prev)
		if (do_item_dead(sh, it, now)) {
			do_item_evict(s, sh, it, now);
			return true;
		}
	return false;
}

bool do_lru_reclaim_dead(struct store *s, struct shard *sh, int c, uint32_t now)
{
	if (do_reclaim_one(s, sh, c, now))
		return true;
	for (int i = 0; i < s->nshards; i++) {
		struct shard *o = &s->sh[i];
		bool done;

		if (o == sh || pthread_mutex_trylock(&o->lock))
			continue;
		done = do_reclaim_one(s, o, c, now);
		pthread_mutex_unlock(&o->lock);
		if (done)
			return true;
	}
	return false;
}

bool all_evict_oldest(struct store *s, int c, uint32_t now)
{
	struct shard *sh = NULL;
	struct item *it = all_oldest_tail(s, c, &sh);

	if (!it)
		return false;
	do_item_evict(s, sh, it, now);
	return true;
}

/* An item's chunk, keeping `pin` (an existing item still needed, e.g. the
 * value an append extends) from being evicted. all: every shard lock is
 * held, so the slow path may run (all_room_slab, all_room_large); else the
 * fast path under the caller's shard lock, which sets *room when only the
 * slow path can help. A failure in the slow path counts as the class's
 * outofmemory. */
struct item *do_item_alloc(struct store *s, struct shard *sh,
			   struct item *pin, size_t nkey, size_t nbytes,
			   uint32_t flags, uint32_t now, bool all, bool *room)
{
	int ci = slab_class_of(s, item_class_size(nkey, nbytes, flags));
	size_t total = item_total(nkey, nbytes);
	struct item *it;

	if (pin)
		do_lru_unlink(&sh->lru[pin->cls], pin);
	if (all) {
		s->pin = pin;
		it = ci == CLS_LARGE ? all_room_large(s, total, now) :
				       all_room_slab(s, ci, now);
		s->pin = NULL;
		if (!it)
			sh->cc[ci].outofmemory++;
	} else {
		it = do_chunk_alloc(s, sh, ci, total, now, room);
	}
	if (pin)
		do_lru_push(&sh->lru[pin->cls], pin);
	return it;
}
