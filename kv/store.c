/* The store's operations (see store.h): each hashes its key to a shard,
 * takes that shard's lock and works through the do_ functions of items.c
 * and assoc.c. A set or an incr that needs memory only the slow path can
 * find (a page taken from another class, an item evicted in another shard)
 * gives up its lock and redoes the whole operation under every shard lock
 * (store_lock_all), so the item may have changed in between and nothing
 * deadlocks. Values are copied out under the lock: a reply never points
 * into memory another thread may reuse. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "token.h"

size_t store_item_size(size_t nkey, size_t nbytes)
{
	return item_total(nkey, nbytes);
}

size_t store_item_max(const struct store *s)
{
	return s->item_max;
}

struct store *store_new(const struct store_cfg *cfg)
{
	/* aligned as its slab classes are (64: a cache line each) */
	struct store *s = aligned_alloc(64, (sizeof(*s) + 63) & ~(size_t)63);
	int shards = 1;

	if (!s)
		return NULL;
	memset(s, 0, sizeof(*s));
	while (shards < cfg->nshards)
		shards *= 2;
	s->nshards = shards;
	for (s->shift = 64; shards > 1; shards /= 2)
		s->shift--;
	s->mem_limit = cfg->mem_limit;
	s->item_max = cfg->item_max;
	s->page_size = cfg->page_size ? cfg->page_size : PAGE_DEFAULT;
	atomic_init(&s->cas, 0);
	atomic_init(&s->mem_used, 0);
	atomic_init(&s->automove, 1);
	s->sh = aligned_alloc(64, sizeof(struct shard) * s->nshards);
	if (slabs_init(s, cfg->chunk_min ? cfg->chunk_min : 48,
		       cfg->factor > 1.0 ? cfg->factor : 1.25) || !s->sh) {
		store_free(s);
		return NULL;
	}
	memset(s->sh, 0, sizeof(struct shard) * s->nshards);
	for (int i = 0; i < s->nshards; i++) {
		struct shard *sh = &s->sh[i];

		pthread_mutex_init(&sh->lock, NULL);
		sh->mask = 1023;
		sh->tab = calloc(sh->mask + 1, sizeof(*sh->tab));
		if (!sh->tab) {
			store_free(s);
			return NULL;
		}
	}
	return s;
}

void store_free(struct store *s)
{
	if (!s)
		return;
	free(s->sizes);
	for (int i = 0; i < s->nshards && s->sh; i++) {
		struct shard *sh = &s->sh[i];

		for (struct item *it = sh->lru[CLS_LARGE].head, *next; it; it = next) {
			next = it->next;
			free(it);
		}
		free(sh->tab);
		pthread_mutex_destroy(&sh->lock);
	}
	slabs_free(s);
	free(s->sh);
	free(s);
}

void store_lock_all(struct store *s)
{
	for (int i = 0; i < s->nshards; i++)
		pthread_mutex_lock(&s->sh[i].lock);
}

void store_unlock_all(struct store *s)
{
	for (int i = s->nshards - 1; i >= 0; i--)
		pthread_mutex_unlock(&s->sh[i].lock);
}

/* A read: the live item of key (NULL: miss), its metadata in *m, its value
 * and "\r\n" appended to val, touched, marked fetched, made most recent;
 * counted as a hit of its class (a touch hit when touched, as memcached
 * counts gat). */
static struct item *do_read(struct store *s, struct shard *sh, uint64_t h,
			    const char *key, size_t nkey, uint32_t now,
			    const uint32_t *touch, struct st_meta *m, struct buf *val)
{
	struct item *it = *do_item_find(s, sh, h, key, nkey, now);

	if (!it)
		return NULL;
	if (touch)
		sh->cc[it->cls].touch_hits++;
	else
		sh->cc[it->cls].get_hits++;
	if (m)
		do_item_meta(it, m);
	if (val)
		buf_add(val, it->data + it->nkey, it->nbytes + 2);
	if (touch)
		it->exptime = *touch;
	it->iflags |= IT_FETCHED;
	do_item_bump(sh, it, now);
	return it;
}

bool store_get(struct store *s, const char *key, size_t nkey, uint32_t now,
	       const uint32_t *touch, struct st_meta *m, struct buf *val)
{
	uint64_t h = assoc_hash(key, nkey);
	struct shard *sh = assoc_shard(s, h);
	struct item *it;

	pthread_mutex_lock(&sh->lock);
	it = do_read(s, sh, h, key, nkey, now, touch, m, val);
	pthread_mutex_unlock(&sh->lock);
	return it != NULL;
}

/* mg's N: an empty item whose first reader (this client) gets the win; a
 * racing vivify simply loses (its add fails) and reads what is there. */
static bool vivify(struct store *s, struct shard *sh, uint64_t h, const char *key,
		   size_t nkey, uint32_t now, const struct st_getopt *o,
		   struct st_meta *m, struct buf *val)
{
	struct item *it;
	uint64_t cas = 0;

	pthread_mutex_lock(&sh->lock);
	it = *do_item_find(s, sh, h, key, nkey, now);
	pthread_mutex_unlock(&sh->lock);
	if (it || store_put(s, ST_ADD, key, nkey, 0, o->viv_exptime, "", 0, 0,
			    now, &cas) != ST_STORED)
		return false;
	pthread_mutex_lock(&sh->lock);
	it = *do_item_find(s, sh, h, key, nkey, now);
	if (it) {
		do_item_meta(it, m);
		it->iflags |= IT_WON | IT_FETCHED;
	} else {
		/* dead on arrival (an N ttl in the past, e.g. N99999999999
		 * wrapped to a 2008 unix time): memcached still answers with
		 * the item it made, so do we */
		*m = (struct st_meta){ .cas = cas, .exptime = o->viv_exptime,
				       .atime = now, .nbytes = 0 };
	}
	m->win = true;
	m->won = false;
	if (val)
		buf_add(val, "\r\n", 2);
	pthread_mutex_unlock(&sh->lock);
	return true;
}

bool store_mget(struct store *s, const char *key, size_t nkey, uint32_t now,
		const struct st_getopt *o, struct st_meta *m, struct buf *val)
{
	uint64_t h = assoc_hash(key, nkey);
	struct shard *sh = assoc_shard(s, h);
	struct item *it;

	if (o->vivify && vivify(s, sh, h, key, nkey, now, o, m, val))
		return true;
	pthread_mutex_lock(&sh->lock);
	it = do_read(s, sh, h, key, nkey, now, o->touch, m, val);
	/* recache: a stale item, or one expiring within R seconds, is won by
	 * its first reader */
	if (it && !(it->iflags & IT_WON) &&
	    ((it->iflags & IT_STALE) ||
	     (o->recache && it->exptime && it->exptime - now < o->recache_ttl))) {
		it->iflags |= IT_WON;
		m->win = true;
	}
	pthread_mutex_unlock(&sh->lock);
	return it != NULL;
}

/* Whether op may store over `old` (NULL: none): ST_STORED to go on. */
static enum st_res put_allowed(enum st_op op, const struct item *old, uint64_t cas_in)
{
	if (!old && (op == ST_REPLACE || op == ST_APPEND || op == ST_PREPEND))
		return ST_NOT_STORED;
	bool cas = op == ST_CAS || op == ST_CAS_STALE;

	if (!old && (cas || cas_in))
		return ST_NOT_FOUND;
	if (old && op == ST_ADD)
		return ST_NOT_STORED;
	if (old && op == ST_CAS_STALE && cas_in < old->cas)
		return ST_STORED;
	if (old && (cas || cas_in) && old->cas != cas_in)
		return ST_EXISTS;
	return ST_STORED;
}

/* A new item's key, value (with old's value around it for append and
 * prepend, which also keep old's flags and expiry, as memcached does) and
 * "\r\n". */
static void fill_item(struct item *it, enum st_op op, const char *key,
		      size_t nkey, const char *data, size_t nbytes,
		      const struct item *old, uint32_t flags, uint32_t exptime)
{
	char *v = it->data + nkey;

	memcpy(it->data, key, nkey);
	if (op == ST_APPEND) {
		memcpy(v, old->data + nkey, old->nbytes);
		memcpy(v + old->nbytes, data, nbytes);
	} else if (op == ST_PREPEND) {
		memcpy(v, data, nbytes);
		memcpy(v + nbytes, old->data + nkey, old->nbytes);
	} else {
		memcpy(v, data, nbytes);
	}
	memcpy(it->data + nkey + it->nbytes, "\r\n", 2);
	it->flags = old && (op == ST_APPEND || op == ST_PREPEND) ? old->flags : flags;
	it->exptime = old && (op == ST_APPEND || op == ST_PREPEND) ? old->exptime : exptime;
}

/* store_put with sh locked (all: every shard is). */
static enum st_res do_store_put(struct store *s, struct shard *sh, uint64_t h,
				enum st_op op, const char *key, size_t nkey,
				uint32_t flags, uint32_t exptime, const char *data,
				size_t nbytes, uint64_t cas_in, uint32_t now,
				uint64_t *cas_out, bool all, bool *room)
{
	struct item *old = *do_item_find(s, sh, h, key, nkey, now), *it;
	size_t vlen = nbytes;
	enum st_res r = put_allowed(op, old, cas_in);
	int ci;

	if (r != ST_STORED) {
		/* memcached allocates the item before it compares: the
		 * command counts in the new item's class */
		if (item_total(nkey, nbytes) <= s->item_max) {
			ci = slab_class_of(s, item_class_size(nkey, nbytes, flags));
			sh->cc[ci].cmd_set++;
		}
		/* in the stored item's class, as memcached counts cas */
		if ((op == ST_CAS || op == ST_CAS_STALE) && r == ST_EXISTS)
			sh->cc[old->cls].cas_badval++;
		/* memcached bumps the existing item on a failed add */
		if (op == ST_ADD && r == ST_NOT_STORED)
			do_item_bump(sh, old, now);
		return r;
	}
	if (op == ST_APPEND || op == ST_PREPEND) {
		vlen = old->nbytes + nbytes;
		flags = old->flags;
	}
	if (item_total(nkey, vlen) > s->item_max)
		return ST_TOO_LARGE;
	it = do_item_alloc(s, sh, old, nkey, vlen, flags, now, all, room);
	if (!it)
		return ST_NO_MEMORY;
	sh->cc[it->cls].cmd_set++;
	if (op == ST_CAS || op == ST_CAS_STALE)
		sh->cc[old->cls].cas_hits++;
	it->nkey = (uint8_t)nkey;
	it->nbytes = (uint32_t)vlen;
	it->atime = now;
	it->iflags = 0;
	fill_item(it, op, key, nkey, data, nbytes, old, flags, exptime);
	if (op == ST_CAS_STALE && old->cas != cas_in) {
		/* memcached's CAS_STALE: the old expiry, stale, and the
		 * win stays handed out if it was */
		it->exptime = old->exptime;
		it->iflags = (uint8_t)(IT_STALE | (old->iflags & IT_WON));
	}
	it->cas = store_next_cas(s);
	if (cas_out)
		*cas_out = it->cas;
	do_item_link(s, sh, do_assoc_slot(sh, h, key, nkey), it);
	return ST_STORED;
}

enum st_res store_put(struct store *s, enum st_op op, const char *key,
		      size_t nkey, uint32_t flags, uint32_t exptime,
		      const char *data, size_t nbytes, uint64_t cas_in,
		      uint32_t now, uint64_t *cas_out)
{
	uint64_t h = assoc_hash(key, nkey);
	struct shard *sh = assoc_shard(s, h);
	enum st_res r;
	bool room = false;

	if (nkey > KV_KEY_MAX)
		return ST_NOT_STORED;
	pthread_mutex_lock(&sh->lock);
	r = do_store_put(s, sh, h, op, key, nkey, flags, exptime, data, nbytes,
			 cas_in, now, cas_out, false, &room);
	pthread_mutex_unlock(&sh->lock);
	if (r != ST_NO_MEMORY || !room)
		return r;
	store_lock_all(s);
	r = do_store_put(s, sh, h, op, key, nkey, flags, exptime, data, nbytes,
			 cas_in, now, cas_out, true, &room);
	store_unlock_all(s);
	return r;
}

enum st_res store_delete(struct store *s, const char *key, size_t nkey,
			 uint64_t cas_in, uint32_t now)
{
	uint64_t h = assoc_hash(key, nkey);
	struct shard *sh = assoc_shard(s, h);
	struct item **pp;
	enum st_res r = ST_NOT_FOUND;

	pthread_mutex_lock(&sh->lock);
	pp = do_item_find(s, sh, h, key, nkey, now);
	if (*pp) {
		if (cas_in && (*pp)->cas != cas_in) {
			r = ST_EXISTS;
		} else {
			sh->cc[(*pp)->cls].delete_hits++;
			do_item_unlink(s, sh, pp);
			r = ST_DELETED;
		}
	}
	pthread_mutex_unlock(&sh->lock);
	return r;
}

enum st_res store_invalidate(struct store *s, const char *key, size_t nkey,
			     uint64_t cas_in, const uint32_t *exptime, uint32_t now)
{
	uint64_t h = assoc_hash(key, nkey);
	struct shard *sh = assoc_shard(s, h);
	struct item *it;
	enum st_res r = ST_NOT_FOUND;

	pthread_mutex_lock(&sh->lock);
	it = *do_item_find(s, sh, h, key, nkey, now);
	if (it) {
		if (cas_in && it->cas != cas_in) {
			r = ST_EXISTS;
		} else {
			/* memcached gives the stale item a new cas */
			it->iflags = (uint8_t)((it->iflags | IT_STALE) & ~IT_WON);
			it->cas = store_next_cas(s);
			if (exptime)
				it->exptime = *exptime;
			r = ST_DELETED;
		}
	}
	pthread_mutex_unlock(&sh->lock);
	return r;
}

enum st_res store_touch(struct store *s, const char *key, size_t nkey,
			uint32_t exptime, uint32_t now)
{
	uint64_t h = assoc_hash(key, nkey);
	struct shard *sh = assoc_shard(s, h);
	struct item *it;

	pthread_mutex_lock(&sh->lock);
	it = *do_item_find(s, sh, h, key, nkey, now);
	if (it) {
		sh->cc[it->cls].touch_hits++;
		it->exptime = exptime;
		do_item_bump(sh, it, now);
	}
	pthread_mutex_unlock(&sh->lock);
	return it ? ST_TOUCHED : ST_NOT_FOUND;
}

/* store_arith with sh locked (all: every shard is). */
static enum st_res do_arith(struct store *s, struct shard *sh, uint64_t h,
			    const char *key, size_t nkey, bool incr, uint64_t delta,
			    uint64_t cas_in, uint32_t now, bool all, bool *room,
			    uint64_t *value, struct st_meta *m)
{
	struct item *it = *do_item_find(s, sh, h, key, nkey, now), *nit;
	char num[24];
	uint64_t v;
	int len;

	if (!it)
		return ST_NOT_FOUND;
	if (cas_in && it->cas != cas_in)
		return ST_EXISTS;
	/* the value is followed by "\r\n" in the item, so the parser stops */
	if (!kv_strtoull(it->data + it->nkey, it->data + it->nkey + it->nbytes + 2, &v))
		return ST_NON_NUMERIC;
	v = incr ? v + delta : delta > v ? 0 : v - delta;
	len = snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	if ((uint32_t)len <= it->nbytes) {
		/* memcached rewrites in place, padding with spaces */
		memset(it->data + it->nkey, ' ', it->nbytes);
		memcpy(it->data + it->nkey, num, (size_t)len);
		it->cas = store_next_cas(s);
		do_item_bump(sh, it, now);
	} else {
		nit = do_item_alloc(s, sh, it, nkey, (size_t)len, it->flags, now, all, room);
		if (!nit)
			return ST_NO_MEMORY;
		nit->nkey = (uint8_t)nkey;
		nit->nbytes = (uint32_t)len;
		nit->atime = now;
		nit->iflags = it->iflags;
		fill_item(nit, ST_SET, key, nkey, num, (size_t)len, NULL, it->flags, it->exptime);
		nit->cas = store_next_cas(s);
		do_item_link(s, sh, do_assoc_slot(sh, h, key, nkey), nit);
		it = nit;
	}
	*value = v;
	if (incr)
		sh->cc[it->cls].incr_hits++;
	else
		sh->cc[it->cls].decr_hits++;
	if (m)
		do_item_meta(it, m);
	return ST_STORED;
}

enum st_res store_arith(struct store *s, const char *key, size_t nkey,
			bool incr, uint64_t delta, uint64_t cas_in,
			const struct st_autoviv *av, uint32_t now,
			uint64_t *value, struct st_meta *m)
{
	uint64_t h = assoc_hash(key, nkey);
	struct shard *sh = assoc_shard(s, h);
	bool room = false;
	enum st_res r;
	char num[24];
	int len;

	pthread_mutex_lock(&sh->lock);
	r = do_arith(s, sh, h, key, nkey, incr, delta, cas_in, now, false, &room, value, m);
	pthread_mutex_unlock(&sh->lock);
	if (r == ST_NO_MEMORY && room) {
		store_lock_all(s);
		r = do_arith(s, sh, h, key, nkey, incr, delta, cas_in, now, true, &room, value, m);
		store_unlock_all(s);
	}
	if (r != ST_NOT_FOUND || !av || !av->on)
		return r;
	/* ma's N: create it with J's value; a racing add is fine, report what
	 * is stored now */
	len = snprintf(num, sizeof(num), "%llu", (unsigned long long)av->initial);
	(void)store_put(s, ST_ADD, key, nkey, 0, av->exptime, num, (size_t)len, 0,
			now, NULL);
	*value = av->initial;
	if (m) {
		struct item *it;

		pthread_mutex_lock(&sh->lock);
		it = *do_item_find(s, sh, h, key, nkey, now);
		if (it)
			do_item_meta(it, m);
		else
			memset(m, 0, sizeof(*m));
		pthread_mutex_unlock(&sh->lock);
	}
	return ST_STORED;
}

void store_flush(struct store *s, uint32_t now, uint32_t when)
{
	/* memcached spends a cas id on an immediate flush; clients that
	 * compare cas sequences see the same numbers */
	(void)now;	/* a due delayed flush is handled by do_item_dead() */
	if (!when)
		(void)store_next_cas(s);
	for (int i = 0; i < s->nshards; i++) {
		struct shard *sh = &s->sh[i];

		pthread_mutex_lock(&sh->lock);
		if (when) {
			sh->flush_when = when;
		} else {
			for (uint64_t b = 0; b <= sh->mask; b++)
				while (sh->tab[b])
					do_item_unlink(s, sh, &sh->tab[b]);
			sh->flush_when = 0;
		}
		pthread_mutex_unlock(&sh->lock);
	}
}

void store_stats(struct store *s, struct store_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < s->nshards; i++) {
		struct shard *sh = &s->sh[i];

		pthread_mutex_lock(&sh->lock);
		out->curr_items += sh->st.curr_items;
		out->total_items += sh->st.total_items;
		out->bytes += sh->st.bytes;
		out->evictions += sh->st.evictions;
		out->reclaimed += sh->st.reclaimed;
		out->expired_unfetched += sh->st.expired_unfetched;
		out->evicted_unfetched += sh->st.evicted_unfetched;
		out->large_items += sh->st.large_items;
		out->hash_buckets += sh->mask + 1;
		pthread_mutex_unlock(&sh->lock);
	}
	pthread_mutex_lock(&s->pages_lock);
	out->pages = s->npages;
	pthread_mutex_unlock(&s->pages_lock);
	out->slabs_moved = atomic_load(&s->slabs_moved);
	out->mem_used = atomic_load(&s->mem_used);
	out->mem_limit = s->mem_limit;
}

int store_classes(const struct store *s)
{
	return s->ncls;
}

void store_class_stats(struct store *s, int cls, struct store_class *out)
{
	uint64_t evicted_at = 0;

	memset(out, 0, sizeof(*out));
	if (cls < 0 || cls >= s->ncls)
		return;
	if (cls != CLS_LARGE) {
		out->chunk_size = s->slab[cls].size;
		out->per_page = (uint32_t)(s->page_size / s->slab[cls].size);
	}
	pthread_mutex_lock(&s->slab[cls].lock);
	out->pages = s->slab[cls].pages;
	pthread_mutex_unlock(&s->slab[cls].lock);
	for (int i = 0; i < s->nshards; i++) {
		struct shard *sh = &s->sh[i];
		const struct cls_count *cc = &sh->cc[cls];
		struct item *tail;

		pthread_mutex_lock(&sh->lock);
		out->items += sh->lru[cls].count;
		tail = sh->lru[cls].tail;
		if (tail && (!out->oldest_atime || tail->atime < out->oldest_atime))
			out->oldest_atime = tail->atime;
		out->mem_requested += cc->bytes;
		out->evicted += cc->evicted;
		out->evicted_nonzero += cc->evicted_nonzero;
		if (cc->evicted && cc->evicted_at >= evicted_at) {
			evicted_at = cc->evicted_at;
			out->evicted_time = cc->evicted_time;
		}
		out->outofmemory += cc->outofmemory;
		out->reclaimed += cc->reclaimed;
		out->expired_unfetched += cc->expired_unfetched;
		out->evicted_unfetched += cc->evicted_unfetched;
		out->get_hits += cc->get_hits;
		out->cmd_set += cc->cmd_set;
		out->delete_hits += cc->delete_hits;
		out->incr_hits += cc->incr_hits;
		out->decr_hits += cc->decr_hits;
		out->cas_hits += cc->cas_hits;
		out->cas_badval += cc->cas_badval;
		out->touch_hits += cc->touch_hits;
		out->crawler_reclaimed += cc->crawler_reclaimed;
		out->crawler_items_checked += cc->crawler_items_checked;
		pthread_mutex_unlock(&sh->lock);
	}
}

enum st_reassign store_reassign(struct store *s, int src, int dst, uint32_t now)
{
	enum st_reassign r = ST_RA_NOSPARE;

	if (src == dst)
		return ST_RA_SAME;
	if (src != -1 && (src < 1 || src >= s->ncls))
		return ST_RA_BADCLASS;
	if (dst < 1 || dst >= s->ncls)
		return ST_RA_BADCLASS;
	store_lock_all(s);
	for (int c = 1; src == -1 && c < s->ncls; c++)
		if (c != dst && s->slab[c].pages >= 2)
			src = c;
	if (src > 0 && s->slab[src].pages >= 2 && all_move_page(s, src, dst, now))
		r = ST_RA_OK;
	store_unlock_all(s);
	return r;
}

void store_set_automove(struct store *s, int mode)
{
	atomic_store(&s->automove, mode);
}

int store_automove(const struct store *s)
{
	return atomic_load(&s->automove);
}

uint64_t store_crawl(struct store *s, int cls, uint32_t now)
{
	uint64_t n = 0;

	if (cls < 0 || cls >= s->ncls)
		return 0;
	for (int i = 0; i < s->nshards; i++) {
		struct shard *sh = &s->sh[i];
		struct item *it, *prev;

		pthread_mutex_lock(&sh->lock);
		for (it = sh->lru[cls].tail; it; it = prev) {
			prev = it->prev;
			sh->cc[cls].crawler_items_checked++;
			if (do_item_dead(sh, it, now)) {
				/* memcached's crawler counts here, not in
				 * reclaimed */
				struct item **pp = do_assoc_slot(sh, assoc_hash(it->data, it->nkey),
								 it->data, it->nkey);

				sh->cc[cls].crawler_reclaimed++;
				sh->cc[cls].expired_unfetched += !(it->iflags & IT_FETCHED);
				sh->st.expired_unfetched += !(it->iflags & IT_FETCHED);
				if (*pp == it)
					do_item_unlink(s, sh, pp);
				n++;
			}
		}
		pthread_mutex_unlock(&sh->lock);
	}
	return n;
}

void store_walk(struct store *s, int cls, uint32_t now,
		bool (*fn)(void *arg, const struct st_item_info *it), void *arg)
{
	bool more = true;

	if (cls < 0 || cls >= s->ncls)
		return;
	for (int i = 0; more && i < s->nshards; i++) {
		struct shard *sh = &s->sh[i];

		pthread_mutex_lock(&sh->lock);
		for (struct item *it = sh->lru[cls].head; more && it; it = it->next) {
			struct st_item_info x = {
				.key = it->data, .nkey = it->nkey, .nbytes = it->nbytes,
				.exptime = it->exptime, .atime = it->atime,
				.size = (uint32_t)item_class_size(it->nkey, it->nbytes, it->flags),
				.cas = it->cas, .fetched = it->iflags & IT_FETCHED, .cls = cls,
			};

			if (!do_item_dead(sh, it, now))
				more = fn(arg, &x);
		}
		pthread_mutex_unlock(&sh->lock);
	}
}

void store_sizes_enable(struct store *s)
{
	store_lock_all(s);
	if (!s->sizes) {
		s->nsizes = s->item_max / 32 + 1;	/* memcached's bucket count */
		s->sizes = calloc(s->nsizes, sizeof(*s->sizes));
		/* memcached takes a cas id for it: later cas values match */
		s->sizes_cas = store_next_cas(s);
	}
	store_unlock_all(s);
}

void store_sizes_disable(struct store *s)
{
	store_lock_all(s);
	free(s->sizes);
	s->sizes = NULL;
	store_unlock_all(s);
}

bool store_sizes(struct store *s, struct buf *o)
{
	char line[64];

	store_lock_all(s);
	if (!s->sizes) {
		store_unlock_all(s);
		return false;
	}
	for (size_t i = 0; i < s->nsizes; i++) {
		uint32_t v = __atomic_load_n(&s->sizes[i], __ATOMIC_RELAXED);

		if (v) {
			int n = snprintf(line, sizeof(line), "STAT %zu %u\r\n", i * 32, v);

			buf_add(o, line, (size_t)n);
		}
	}
	store_unlock_all(s);
	return true;
}
