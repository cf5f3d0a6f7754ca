/* Item store (see store.h).
 *
 * Memory layout, chosen to keep resident memory below memcached's for the
 * same items: one chunk per item holding a 51-byte header, the key, the
 * value and its "\r\n" (so a reply copies the value and terminator in one
 * memcpy). Chunks come from 64 KiB slab pages cut into fine size classes
 * (8-byte steps up to 512 bytes, then 1/16 growth), so rounding wastes a few
 * bytes per item where memcached's factor-1.25 classes waste about 10%.
 * Items larger than the biggest class get their own malloc. The hash table
 * is chained through the item (8 bytes) with at most 1.5 items per bucket.
 *
 * Table and LRUs are per shard, under the shard's lock; size classes are
 * shared (a leaf lock each) so memory is never stranded in one shard; the
 * memory count and the cas counter are atomics. */
#include "store.h"

#include "token.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_SIZE	(64 * 1024)
#define CHUNK_MAX	(PAGE_SIZE / 4)
#define NCLS_MAX	128
#define CLS_LARGE	0	/* class 0: individually allocated */
#define BALANCE_EVERY	64	/* evictions in a class between page-balance checks */

enum { IT_FETCHED = 1, IT_WON = 2, IT_STALE = 4 };

struct item {
	struct item *next, *prev;	/* LRU, head = most recent */
	struct item *hnext;		/* hash chain */
	uint64_t cas;
	uint32_t exptime;
	uint32_t atime;
	uint32_t flags;
	uint32_t nbytes;		/* value without "\r\n" */
	uint8_t nkey;
	uint8_t cls;
	uint8_t iflags;
	char data[];			/* key, value, "\r\n" */
};

#define HDR offsetof(struct item, data)

/* Size classes are shared by all shards (a leaf lock each, taken inside a
 * shard lock, never the other way round), so pages are not stranded in one
 * shard: with per-shard classes, 16 shards x 60 classes of 64 KiB pages
 * would not even fit in a small memory limit. */
struct slab {
	pthread_mutex_t lock;
	uint32_t size;
	void *free;			/* free chunks, linked through item.next */
	char *cur;			/* carving position in the newest page */
	uint32_t left;			/* chunks left to carve */
	uint32_t pages;
	uint32_t balance_in;		/* evictions until the next balance check */
} __attribute__((aligned(64)));

/* Every slab page and the class that owns it, so a page can be emptied and
 * handed to another class (or freed for a large item). */
struct page {
	char *mem;
	int cls;
};

struct lru {
	struct item *head, *tail;	/* head = most recent */
	uint64_t count;
};

struct shard {
	pthread_mutex_t lock;
	struct item **tab;
	uint64_t mask;
	uint64_t count;
	uint32_t flush_when;		/* delayed flush_all, 0 = none */
	struct lru lru[NCLS_MAX];	/* per class: eviction stays in class */
	struct store_stats st;
} __attribute__((aligned(64)));

struct store {
	int nshards, shift;
	int ncls;
	size_t mem_limit, item_max;
	_Atomic size_t mem_used;
	_Atomic uint64_t cas;
	struct shard *sh;
	struct slab slab[NCLS_MAX];
	pthread_mutex_t pages_lock;	/* the page list */
	struct page *pages;
	size_t npages, cappages;
	_Atomic uint64_t slabs_moved;	/* pages given to another class */
	struct item *pin;		/* the slow path must not free it */
	uint8_t small_cls[512 / 8 + 1];	/* total/8 -> class, totals <= 512 */
};

static size_t total_of(size_t nkey, size_t nbytes)
{
	return (HDR + nkey + nbytes + 2 + 7) & ~(size_t)7;
}

size_t store_item_size(size_t nkey, size_t nbytes)
{
	return total_of(nkey, nbytes);
}

size_t store_item_max(const struct store *s)
{
	return s->item_max;
}

static uint64_t hash(const char *k, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ (n * 0xff51afd7ed558ccdull);
	uint64_t v;

	for (; n >= 8; k += 8, n -= 8) {
		memcpy(&v, k, 8);
		h = (h ^ v) * 0xff51afd7ed558ccdull;
		h ^= h >> 31;
	}
	v = 0;
	memcpy(&v, k, n);
	h = (h ^ v) * 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 29;
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 32);
}

static int class_of(const struct store *s, size_t total)
{
	int lo, hi;

	if (total <= 512)
		return s->small_cls[total / 8];
	if (total > s->slab[s->ncls - 1].size)
		return CLS_LARGE;
	lo = s->small_cls[512 / 8];
	hi = s->ncls - 1;
	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (s->slab[mid].size >= total)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

struct store *store_new(const struct store_cfg *cfg)
{
	struct store *s = calloc(1, sizeof(*s));
	uint32_t sizes[NCLS_MAX];
	int n = 1, shards = 1;

	if (!s)
		return NULL;
	while (shards < cfg->nshards)
		shards *= 2;
	s->nshards = shards;
	for (s->shift = 64; shards > 1; shards /= 2)
		s->shift--;
	s->mem_limit = cfg->mem_limit;
	s->item_max = cfg->item_max;
	atomic_init(&s->cas, 0);
	atomic_init(&s->mem_used, 0);

	sizes[0] = 0;
	for (uint32_t sz = 64; sz <= 512; sz += 8)
		sizes[n++] = sz;
	while (n < NCLS_MAX) {
		uint32_t sz = sizes[n - 1] + sizes[n - 1] / 16;

		sz = (sz + 7) & ~7u;
		if (sz > CHUNK_MAX)
			break;
		sizes[n++] = sz;
	}
	s->ncls = n;
	for (int t = 0; t <= 512 / 8; t++) {
		int c = 1;

		while (sizes[c] < (uint32_t)t * 8)
			c++;
		s->small_cls[t] = (uint8_t)c;
	}

	pthread_mutex_init(&s->pages_lock, NULL);
	for (int c = 0; c < n; c++) {
		pthread_mutex_init(&s->slab[c].lock, NULL);
		s->slab[c].size = sizes[c];
	}
	s->sh = aligned_alloc(64, sizeof(struct shard) * s->nshards);
	if (!s->sh) {
		free(s);
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

static void free_large_all(struct lru *c)
{
	struct item *it = c->head, *next;

	for (; it; it = next) {
		next = it->next;
		free(it);
	}
}

void store_free(struct store *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->nshards && s->sh; i++) {
		struct shard *sh = &s->sh[i];

		free_large_all(&sh->lru[CLS_LARGE]);
		free(sh->tab);
		pthread_mutex_destroy(&sh->lock);
	}
	for (size_t p = 0; p < s->npages; p++)
		free(s->pages[p].mem);
	free(s->pages);
	for (int c = 0; c < s->ncls; c++)
		pthread_mutex_destroy(&s->slab[c].lock);
	pthread_mutex_destroy(&s->pages_lock);
	free(s->sh);
	free(s);
}

static struct shard *shard_of(struct store *s, uint64_t h)
{
	return s->nshards == 1 ? &s->sh[0] : &s->sh[h >> s->shift];
}

/* ---- LRU ---- */

static void lru_unlink(struct lru *c, struct item *it)
{
	if (it->prev)
		it->prev->next = it->next;
	else
		c->head = it->next;
	if (it->next)
		it->next->prev = it->prev;
	else
		c->tail = it->prev;
	it->next = it->prev = NULL;
	c->count--;
}

static void lru_push(struct lru *c, struct item *it)
{
	c->count++;
	it->prev = NULL;
	it->next = c->head;
	if (c->head)
		c->head->prev = it;
	else
		c->tail = it;
	c->head = it;
}

/* ---- hash ---- */

static struct item **slot_of(struct shard *sh, uint64_t h, const char *key,
			     size_t nkey)
{
	struct item **pp = &sh->tab[h & sh->mask];

	for (; *pp; pp = &(*pp)->hnext)
		if ((*pp)->nkey == nkey && !memcmp((*pp)->data, key, nkey))
			return pp;
	return pp;
}

static void grow(struct shard *sh)
{
	uint64_t nmask = sh->mask * 2 + 1;
	struct item **nt = calloc(nmask + 1, sizeof(*nt));

	if (!nt)
		return;		/* longer chains, still correct */
	for (uint64_t b = 0; b <= sh->mask; b++) {
		struct item *it = sh->tab[b], *next;

		for (; it; it = next) {
			uint64_t h = hash(it->data, it->nkey);

			next = it->hnext;
			it->hnext = nt[h & nmask];
			nt[h & nmask] = it;
		}
	}
	free(sh->tab);
	sh->tab = nt;
	sh->mask = nmask;
}

/* ---- allocation ---- */

static void chunk_free(struct store *s, struct item *it)
{
	struct slab *c = &s->slab[it->cls];

	if (it->cls == CLS_LARGE) {
		atomic_fetch_sub(&s->mem_used, total_of(it->nkey, it->nbytes));
		free(it);
		return;
	}
	pthread_mutex_lock(&c->lock);
	it->next = c->free;
	c->free = it;
	pthread_mutex_unlock(&c->lock);
}

/* Removes an item from table and LRU and frees it. */
static void unlink_item(struct store *s, struct shard *sh, struct item **pp)
{
	struct item *it = *pp;

	*pp = it->hnext;
	lru_unlink(&sh->lru[it->cls], it);
	sh->count--;
	sh->st.curr_items--;
	sh->st.bytes -= total_of(it->nkey, it->nbytes);
	if (it->cls == CLS_LARGE)
		sh->st.large_items--;
	chunk_free(s, it);
}

static void unlink_ptr(struct store *s, struct shard *sh, struct item *it)
{
	uint64_t h = hash(it->data, it->nkey);
	struct item **pp = slot_of(sh, h, it->data, it->nkey);

	if (*pp == it)
		unlink_item(s, sh, pp);
}

static bool is_dead(const struct shard *sh, const struct item *it, uint32_t now)
{
	if (it->exptime && it->exptime <= now)
		return true;
	return sh->flush_when && sh->flush_when <= now && it->atime <= sh->flush_when;
}

/* Frees a linked item to make room, counted as memcached counts it: a
 * dead item is "reclaimed", a live one "evicted". */
static void evict_item(struct store *s, struct shard *sh, struct item *it,
		       uint32_t now)
{
	if (is_dead(sh, it, now)) {
		sh->st.reclaimed++;
		if (!(it->iflags & IT_FETCHED))
			sh->st.expired_unfetched++;
	} else {
		sh->st.evictions++;
		if (!(it->iflags & IT_FETCHED))
			sh->st.evicted_unfetched++;
	}
	unlink_ptr(s, sh, it);
}

/* Frees the LRU tail of class c; returns false if the class is empty. */
static bool evict_one(struct store *s, struct shard *sh, int c, uint32_t now)
{
	struct item *it = sh->lru[c].tail;

	if (!it)
		return false;
	evict_item(s, sh, it, now);
	return true;
}
static bool take_memory(struct store *s, size_t n)
{
	size_t used = atomic_load(&s->mem_used);

	do {
		if (used + n > s->mem_limit)
			return false;
	} while (!atomic_compare_exchange_weak(&s->mem_used, &used, used + n));
	return true;
}

/* Called with the class lock held. */
static bool new_page(struct store *s, struct slab *c)
{
	void *p;

	if (!take_memory(s, PAGE_SIZE))
		return false;
	p = malloc(PAGE_SIZE);
	pthread_mutex_lock(&s->pages_lock);
	if (p && s->npages == s->cappages) {
		size_t cap = s->cappages ? s->cappages * 2 : 64;
		struct page *np = realloc(s->pages, cap * sizeof(*np));

		if (np) {
			s->pages = np;
			s->cappages = cap;
		}
	}
	if (!p || s->npages == s->cappages) {
		pthread_mutex_unlock(&s->pages_lock);
		free(p);
		atomic_fetch_sub(&s->mem_used, PAGE_SIZE);
		return false;
	}
	s->pages[s->npages].mem = p;
	s->pages[s->npages++].cls = (int)(c - s->slab);
	pthread_mutex_unlock(&s->pages_lock);
	c->cur = p;
	c->left = PAGE_SIZE / c->size;
	c->pages++;
	return true;
}

/* Evicts the LRU tail of class c from another shard, if that shard is not
 * busy: trylock keeps the one-shard-lock-at-a-time rule deadlock-free. */
static bool evict_other(struct store *s, struct shard *mine, int c, uint32_t now)
{
	for (int i = 0; i < s->nshards; i++) {
		struct shard *o = &s->sh[i];
		bool done;

		/* the tail is only read under the lock (no racy peek) */
		if (o == mine || pthread_mutex_trylock(&o->lock))
			continue;
		done = evict_one(s, o, c, now);
		pthread_mutex_unlock(&o->lock);
		if (done)
			return true;
	}
	return false;
}

/* A free or never-used chunk of class c, or a new page while the limit
 * allows; NULL when the class needs eviction or another class's page. */
static struct item *slab_take(struct store *s, struct slab *c)
{
	struct item *it = NULL;

	pthread_mutex_lock(&c->lock);
	if (c->free) {
		it = c->free;
		c->free = it->next;
	} else if (c->left || new_page(s, c)) {
		it = (struct item *)c->cur;
		c->cur += c->size;
		c->left--;
	}
	pthread_mutex_unlock(&c->lock);
	return it;
}

/* The fast path, under the caller's shard lock. Returns NULL with *room
 * set when only the slow path (all shard locks) can find the memory, and
 * every BALANCE_EVERY evictions of a class, so the slow path can weigh
 * moving a page against evicting in the class (memcached's slab automove,
 * done inline). */
static struct item *chunk_alloc(struct store *s, struct shard *sh, size_t total,
				uint32_t now, bool *room)
{
	int ci = class_of(s, total);
	struct slab *c = &s->slab[ci];
	struct item *it;

	if (ci == CLS_LARGE) {
		/* with memory full, what to evict (a large item or a page of
		 * smaller ones) is decided by age across all shards: slow path */
		if (!take_memory(s, total)) {
			*room = true;
			return NULL;
		}
		it = malloc(total);
		if (!it) {
			atomic_fetch_sub(&s->mem_used, total);
			return NULL;
		}
		it->cls = CLS_LARGE;
		return it;
	}
	while (!(it = slab_take(s, c))) {
		bool check;

		pthread_mutex_lock(&c->lock);
		check = !c->balance_in;
		if (!check)
			c->balance_in--;
		pthread_mutex_unlock(&c->lock);
		if (check) {
			*room = true;
			return NULL;
		}
		/* our shard's tail first, then another shard's; with none,
		 * the slow path frees large items or moves a page */
		if (!evict_one(s, sh, ci, now) && !evict_other(s, sh, ci, now)) {
			*room = true;
			return NULL;
		}
	}
	it->cls = (uint8_t)ci;
	return it;
}

/* ---- moving pages between classes ----
 *
 * Everything below runs with every shard lock held (taken in index order by
 * a thread holding none, so it cannot deadlock with the trylock in
 * evict_other). All chunk allocation and freeing happens under some shard
 * lock, so the slabs hold still: every chunk of a page is either on its
 * class's free list, not carved yet, or a linked item. */

static void lock_all(struct store *s)
{
	for (int i = 0; i < s->nshards; i++)
		pthread_mutex_lock(&s->sh[i].lock);
}

static void unlock_all(struct store *s)
{
	for (int i = s->nshards - 1; i >= 0; i--)
		pthread_mutex_unlock(&s->sh[i].lock);
}

/* LRU age across classes and shards: last access (seconds), then the cas
 * (store order) within the same second. */
static bool older(const struct item *a, const struct item *b)
{
	return a->atime < b->atime || (a->atime == b->atime && a->cas < b->cas);
}

/* The oldest LRU tail of class c over all shards (NULL: no items). */
static struct item *oldest_tail(struct store *s, int c, struct shard **where)
{
	struct item *best = NULL;

	for (int i = 0; i < s->nshards; i++) {
		struct item *t = s->sh[i].lru[c].tail;

		if (t && (!best || older(t, best))) {
			best = t;
			*where = &s->sh[i];
		}
	}
	return best;
}

static bool evict_oldest(struct store *s, int c, uint32_t now)
{
	struct shard *sh = NULL;
	struct item *it = oldest_tail(s, c, &sh);

	if (!it)
		return false;
	evict_item(s, sh, it, now);
	return true;
}

/* The class to take a page from: one holding pages but no items costs no
 * eviction; else the one whose LRU tail is oldest. -1 if no class but
 * `not` has pages. *tail gets the victim's oldest item (NULL: none). */
static int victim_class(struct store *s, int not, struct item **tail)
{
	int best = -1;
	struct shard *sh;

	*tail = NULL;
	for (int c = 1; c < s->ncls; c++) {
		struct item *t;

		if (c == not || !s->slab[c].pages)
			continue;
		/* the pinned item's page is not emptied (victim_page) */
		if (s->pin && s->pin->cls == c && s->slab[c].pages < 2)
			continue;
		t = oldest_tail(s, c, &sh);
		if (!t) {
			*tail = NULL;
			return c;
		}
		if (best < 0 || older(t, *tail)) {
			best = c;
			*tail = t;
		}
	}
	return best;
}

/* The page of class c to empty: the one holding its oldest item. */
static size_t victim_page(struct store *s, int c)
{
	struct shard *sh;
	struct item *t = oldest_tail(s, c, &sh);
	size_t first = s->npages;

	for (size_t p = 0; p < s->npages; p++) {
		char *m = s->pages[p].mem;

		if (s->pages[p].cls != c ||
		    ((char *)s->pin >= m && (char *)s->pin < m + PAGE_SIZE))
			continue;
		if (!t || ((char *)t >= m && (char *)t < m + PAGE_SIZE))
			return p;
		if (first == s->npages)
			first = p;
	}
	return first;
}

/* Evicts every item in page p and takes its chunks off its class. */
static void clear_page(struct store *s, size_t p, uint32_t now)
{
	char *mem = s->pages[p].mem;
	struct slab *c = &s->slab[s->pages[p].cls];
	uint32_t n = PAGE_SIZE / c->size, carved = n;
	uint64_t freemap[PAGE_SIZE / 64 / 64] = { 0 };
	struct item **pp;

	pthread_mutex_lock(&c->lock);
	if (c->left && c->cur >= mem && c->cur < mem + PAGE_SIZE)
		carved = (uint32_t)((c->cur - mem) / c->size);
	for (struct item *f = c->free; f; f = f->next)
		if ((char *)f >= mem && (char *)f < mem + PAGE_SIZE) {
			uint32_t k = (uint32_t)(((char *)f - mem) / c->size);

			freemap[k / 64] |= 1ull << (k % 64);
		}
	pthread_mutex_unlock(&c->lock);
	for (uint32_t k = 0; k < carved; k++) {
		struct item *it = (struct item *)(mem + (size_t)k * c->size);

		if (!(freemap[k / 64] & (1ull << (k % 64))))
			evict_item(s, shard_of(s, hash(it->data, it->nkey)), it, now);
	}
	pthread_mutex_lock(&c->lock);
	for (pp = (struct item **)&c->free; *pp;)
		if ((char *)*pp >= mem && (char *)*pp < mem + PAGE_SIZE)
			*pp = (*pp)->next;
		else
			pp = &(*pp)->next;
	if (c->left && c->cur >= mem && c->cur < mem + PAGE_SIZE) {
		c->cur = NULL;
		c->left = 0;
	}
	c->pages--;
	pthread_mutex_unlock(&c->lock);
}

/* Empties a page of class v and gives it to class to. */
static bool move_page(struct store *s, int v, int to, uint32_t now)
{
	size_t p = victim_page(s, v);
	struct slab *c = &s->slab[to];

	if (p == s->npages)
		return false;
	clear_page(s, p, now);
	pthread_mutex_lock(&c->lock);
	s->pages[p].cls = to;
	c->cur = s->pages[p].mem;
	c->left = PAGE_SIZE / c->size;
	c->pages++;
	pthread_mutex_unlock(&c->lock);
	atomic_fetch_add(&s->slabs_moved, 1);
	return true;
}

/* Empties a page of class v and returns its memory (for large items). */
static bool release_page(struct store *s, int v, uint32_t now)
{
	size_t p = victim_page(s, v);

	if (p == s->npages)
		return false;
	clear_page(s, p, now);
	pthread_mutex_lock(&s->pages_lock);
	free(s->pages[p].mem);
	s->pages[p] = s->pages[--s->npages];
	pthread_mutex_unlock(&s->pages_lock);
	atomic_fetch_sub(&s->mem_used, PAGE_SIZE);
	atomic_fetch_add(&s->slabs_moved, 1);
	return true;
}

static struct item *room_slab(struct store *s, int ci, uint32_t now)
{
	struct slab *c = &s->slab[ci];
	struct shard *sh;
	struct item *it, *mine, *theirs;
	bool check = true;
	int v;

	while (!(it = slab_take(s, c))) {
		if (check) {
			bool moved;

			/* a page whose oldest item is older than this class's
			 * oldest serves the LRU better here */
			check = false;
			mine = oldest_tail(s, ci, &sh);
			v = victim_class(s, ci, &theirs);
			moved = v > 0 && (!theirs || !mine || older(theirs, mine)) &&
				move_page(s, v, ci, now);
			/* a page that held no items: look again as soon as this
			 * one is used up, there may be more (after deletes) */
			pthread_mutex_lock(&c->lock);
			c->balance_in = moved && !theirs ? 0 : BALANCE_EVERY;
			pthread_mutex_unlock(&c->lock);
			if (moved)
				continue;
		}
		if (evict_oldest(s, ci, now) || evict_oldest(s, CLS_LARGE, now))
			continue;
		v = victim_class(s, ci, &theirs);
		if (v < 0 || !move_page(s, v, ci, now))
			return NULL;
	}
	it->cls = (uint8_t)ci;
	return it;
}

/* Memory for a large item: evicts the older of the oldest large item and
 * the oldest slab class's tail (freeing that page). */
static struct item *room_large(struct store *s, size_t total, uint32_t now)
{
	struct shard *sh;
	struct item *it, *big, *theirs;
	int v;

	while (!take_memory(s, total)) {
		big = oldest_tail(s, CLS_LARGE, &sh);
		v = victim_class(s, CLS_LARGE, &theirs);
		if (v > 0 && (!big || !theirs || older(theirs, big)) &&
		    release_page(s, v, now))
			continue;
		if (!big)
			return NULL;
		evict_item(s, sh, big, now);
	}
	it = malloc(total);
	if (!it) {
		atomic_fetch_sub(&s->mem_used, total);
		return NULL;
	}
	it->cls = CLS_LARGE;
	return it;
}

/* An item's chunk, keeping `pin` (an existing item still needed) from
 * being evicted. all: every shard lock is held, so the slow path may run
 * (room_slab, room_large); else the fast path under the caller's shard lock, which
 * sets *room when only the slow path can help. */
static struct item *alloc_item(struct store *s, struct shard *sh,
			       struct item *pin, size_t total, uint32_t now,
			       bool all, bool *room)
{
	int ci = class_of(s, total);
	struct item *it;

	if (pin)
		lru_unlink(&sh->lru[pin->cls], pin);
	if (all) {
		s->pin = pin;
		it = ci == CLS_LARGE ? room_large(s, total, now) :
				       room_slab(s, ci, now);
		s->pin = NULL;
	} else {
		it = chunk_alloc(s, sh, total, now, room);
	}
	if (pin)
		lru_push(&sh->lru[pin->cls], pin);
	return it;
}

/* ---- operations ---- */

static struct item **find(struct store *s, struct shard *sh, uint64_t h,
			  const char *key, size_t nkey, uint32_t now)
{
	struct item **pp = slot_of(sh, h, key, nkey);

	if (*pp && is_dead(sh, *pp, now)) {
		if (!((*pp)->iflags & IT_FETCHED))
			sh->st.expired_unfetched++;
		sh->st.reclaimed++;
		unlink_item(s, sh, pp);
		return slot_of(sh, h, key, nkey);
	}
	return pp;
}

static void fill_meta(const struct item *it, struct st_meta *m)
{
	m->flags = it->flags;
	m->cas = it->cas;
	m->exptime = it->exptime;
	m->atime = it->atime;
	m->fetched = it->iflags & IT_FETCHED;
	m->cls = it->cls;
	m->total = (uint32_t)total_of(it->nkey, it->nbytes);
	m->nbytes = it->nbytes;
	m->win = false;
	m->won = it->iflags & IT_WON;
	m->stale = it->iflags & IT_STALE;
}

static void bump(struct shard *sh, struct item *it, uint32_t now)
{
	struct lru *c = &sh->lru[it->cls];

	it->atime = now;
	if (c->head != it) {
		lru_unlink(c, it);
		lru_push(c, it);
	}
}

bool store_get(struct store *s, const char *key, size_t nkey, uint32_t now,
	       const uint32_t *touch, struct st_meta *m, struct buf *val)
{
	uint64_t h = hash(key, nkey);
	struct shard *sh = shard_of(s, h);
	struct item *it;

	pthread_mutex_lock(&sh->lock);
	it = *find(s, sh, h, key, nkey, now);
	if (!it) {
		pthread_mutex_unlock(&sh->lock);
		return false;
	}
	if (m)
		fill_meta(it, m);
	if (val)
		buf_add(val, it->data + it->nkey, it->nbytes + 2);
	if (touch)
		it->exptime = *touch;
	it->iflags |= IT_FETCHED;
	bump(sh, it, now);
	pthread_mutex_unlock(&sh->lock);
	return true;
}

bool store_mget(struct store *s, const char *key, size_t nkey, uint32_t now,
		const struct st_getopt *o, struct st_meta *m, struct buf *val)
{
	uint64_t h = hash(key, nkey);
	struct shard *sh = shard_of(s, h);
	struct item *it;

	if (!o->vivify)
		goto get;
	pthread_mutex_lock(&sh->lock);
	it = *find(s, sh, h, key, nkey, now);
	pthread_mutex_unlock(&sh->lock);
	if (!it) {
		/* vivify: an empty item whose first reader (us) gets the win;
		 * a racing vivify simply loses (add fails) and reads it */
		if (store_put(s, ST_ADD, key, nkey, 0, o->viv_exptime, "", 0, 0,
			      now, NULL) == ST_STORED) {
			pthread_mutex_lock(&sh->lock);
			it = *find(s, sh, h, key, nkey, now);
			if (it) {
				fill_meta(it, m);
				it->iflags |= IT_WON | IT_FETCHED;
				m->win = true;
				m->won = false;
				if (val)
					buf_add(val, "\r\n", 2);
			}
			pthread_mutex_unlock(&sh->lock);
			if (it)
				return true;
		}
	}
get:
	pthread_mutex_lock(&sh->lock);
	it = *find(s, sh, h, key, nkey, now);
	if (!it) {
		pthread_mutex_unlock(&sh->lock);
		return false;
	}
	fill_meta(it, m);
	if (val)
		buf_add(val, it->data + it->nkey, it->nbytes + 2);
	if (o->touch)
		it->exptime = *o->touch;
	if (!(it->iflags & IT_WON) &&
	    ((it->iflags & IT_STALE) ||
	     (o->recache && it->exptime && it->exptime - now < o->recache_ttl))) {
		it->iflags |= IT_WON;
		m->win = true;
	}
	it->iflags |= IT_FETCHED;
	bump(sh, it, now);
	pthread_mutex_unlock(&sh->lock);
	return true;
}

static uint64_t next_cas(struct store *s)
{
	return atomic_fetch_add(&s->cas, 1) + 1;
}

/* Puts a fresh item where *pp points (replacing what is there). */
static void link_item(struct store *s, struct shard *sh, struct item **pp,
		      struct item *it)
{
	if (*pp) {
		it->hnext = (*pp)->hnext;
		(*pp)->hnext = NULL;
		{
			struct item *old = *pp;

			lru_unlink(&sh->lru[old->cls], old);
			sh->st.bytes -= total_of(old->nkey, old->nbytes);
			if (old->cls == CLS_LARGE)
				sh->st.large_items--;
			sh->count--;
			sh->st.curr_items--;
			chunk_free(s, old);
		}
	} else {
		it->hnext = NULL;
	}
	*pp = it;
	lru_push(&sh->lru[it->cls], it);
	sh->count++;
	sh->st.curr_items++;
	sh->st.total_items++;
	sh->st.bytes += total_of(it->nkey, it->nbytes);
	if (it->cls == CLS_LARGE)
		sh->st.large_items++;
	if (sh->count > sh->mask + 1 + (sh->mask + 1) / 2)
		grow(sh);
}

/* store_put with sh locked (all: every shard is). */
static enum st_res put_locked(struct store *s, struct shard *sh, uint64_t h,
			      enum st_op op, const char *key, size_t nkey,
			      uint32_t flags, uint32_t exptime, const char *data,
			      size_t nbytes, uint64_t cas_in, uint32_t now,
			      uint64_t *cas_out, bool all, bool *room)
{
	struct item **pp, *old, *it;
	size_t total, vlen = nbytes;

	pp = find(s, sh, h, key, nkey, now);
	old = *pp;
	switch (op) {
	case ST_ADD:
		if (old) {
			/* memcached bumps the existing item on a failed add */
			bump(sh, old, now);
			goto not_stored;
		}
		break;
	case ST_REPLACE:
	case ST_APPEND:
	case ST_PREPEND:
		if (!old)
			goto not_stored;
		break;
	case ST_CAS:
		if (!old) {
			return ST_NOT_FOUND;
		}
		break;
	case ST_SET:
		break;
	}
	if ((op == ST_CAS || cas_in) && old && old->cas != cas_in) {
		return ST_EXISTS;
	}
	if (cas_in && !old && op != ST_CAS) {
		return ST_NOT_FOUND;
	}
	if (op == ST_APPEND || op == ST_PREPEND)
		vlen = old->nbytes + nbytes;
	total = total_of(nkey, vlen);
	if (total > s->item_max) {
		return ST_TOO_LARGE;
	}
	it = alloc_item(s, sh, old, total, now, all, room);
	if (!it) {
		return ST_NO_MEMORY;
	}
	it->nkey = (uint8_t)nkey;
	it->nbytes = (uint32_t)vlen;
	it->atime = now;
	it->iflags = 0;
	memcpy(it->data, key, nkey);
	if (op == ST_APPEND) {
		memcpy(it->data + nkey, old->data + nkey, old->nbytes);
		memcpy(it->data + nkey + old->nbytes, data, nbytes);
	} else if (op == ST_PREPEND) {
		memcpy(it->data + nkey, data, nbytes);
		memcpy(it->data + nkey + nbytes, old->data + nkey, old->nbytes);
	} else {
		memcpy(it->data + nkey, data, nbytes);
	}
	memcpy(it->data + nkey + vlen, "\r\n", 2);
	if (op == ST_APPEND || op == ST_PREPEND) {
		/* appends keep the old flags and expiry, as memcached does */
		it->flags = old->flags;
		it->exptime = old->exptime;
	} else {
		it->flags = flags;
		it->exptime = exptime;
	}
	it->cas = next_cas(s);
	if (cas_out)
		*cas_out = it->cas;
	link_item(s, sh, slot_of(sh, h, key, nkey), it);
	return ST_STORED;
not_stored:
	return ST_NOT_STORED;
}

enum st_res store_put(struct store *s, enum st_op op, const char *key,
		      size_t nkey, uint32_t flags, uint32_t exptime,
		      const char *data, size_t nbytes, uint64_t cas_in,
		      uint32_t now, uint64_t *cas_out)
{
	uint64_t h = hash(key, nkey);
	struct shard *sh = shard_of(s, h);
	enum st_res r;
	bool room = false;

	if (nkey > KV_KEY_MAX)
		return ST_NOT_STORED;
	pthread_mutex_lock(&sh->lock);
	r = put_locked(s, sh, h, op, key, nkey, flags, exptime, data, nbytes,
		       cas_in, now, cas_out, false, &room);
	pthread_mutex_unlock(&sh->lock);
	if (r != ST_NO_MEMORY || !room)
		return r;
	/* the slow path redoes the whole operation: the item may have
	 * changed while no lock was held */
	lock_all(s);
	r = put_locked(s, sh, h, op, key, nkey, flags, exptime, data, nbytes,
		       cas_in, now, cas_out, true, &room);
	unlock_all(s);
	return r;
}

enum st_res store_delete(struct store *s, const char *key, size_t nkey,
			 uint64_t cas_in, uint32_t now)
{
	uint64_t h = hash(key, nkey);
	struct shard *sh = shard_of(s, h);
	struct item **pp;
	enum st_res r = ST_NOT_FOUND;

	pthread_mutex_lock(&sh->lock);
	pp = find(s, sh, h, key, nkey, now);
	if (*pp) {
		if (cas_in && (*pp)->cas != cas_in) {
			r = ST_EXISTS;
		} else {
			unlink_item(s, sh, pp);
			r = ST_DELETED;
		}
	}
	pthread_mutex_unlock(&sh->lock);
	return r;
}

enum st_res store_invalidate(struct store *s, const char *key, size_t nkey,
			     uint64_t cas_in, const uint32_t *exptime, uint32_t now)
{
	uint64_t h = hash(key, nkey);
	struct shard *sh = shard_of(s, h);
	struct item *it;
	enum st_res r = ST_NOT_FOUND;

	pthread_mutex_lock(&sh->lock);
	it = *find(s, sh, h, key, nkey, now);
	if (it) {
		if (cas_in && it->cas != cas_in) {
			r = ST_EXISTS;
		} else {
			/* memcached gives the stale item a new cas */
			it->iflags = (uint8_t)((it->iflags | IT_STALE) & ~IT_WON);
			it->cas = next_cas(s);
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
	uint64_t h = hash(key, nkey);
	struct shard *sh = shard_of(s, h);
	struct item *it;

	pthread_mutex_lock(&sh->lock);
	it = *find(s, sh, h, key, nkey, now);
	if (it) {
		it->exptime = exptime;
		bump(sh, it, now);
	}
	pthread_mutex_unlock(&sh->lock);
	return it ? ST_TOUCHED : ST_NOT_FOUND;
}

static void release(struct store *s, struct shard *sh, bool all)
{
	if (all)
		unlock_all(s);
	else
		pthread_mutex_unlock(&sh->lock);
}

enum st_res store_arith(struct store *s, const char *key, size_t nkey,
			bool incr, uint64_t delta, uint64_t cas_in,
			const struct st_autoviv *av, uint32_t now,
			uint64_t *value, struct st_meta *m)
{
	uint64_t h = hash(key, nkey);
	struct shard *sh = shard_of(s, h);
	struct item **pp, *it, *nit;
	char num[24];
	int len;
	uint64_t v;
	bool all = false, room = false;

again:
	if (all)
		lock_all(s);
	else
		pthread_mutex_lock(&sh->lock);
	pp = find(s, sh, h, key, nkey, now);
	it = *pp;
	if (!it) {
		release(s, sh, all);
		if (!av || !av->on)
			return ST_NOT_FOUND;
		len = snprintf(num, sizeof(num), "%llu",
			       (unsigned long long)av->initial);
		/* a racing add is fine: report what is stored now */
		(void)store_put(s, ST_ADD, key, nkey, 0, av->exptime, num,
				(size_t)len, 0, now, NULL);
		*value = av->initial;
		if (m && !store_get(s, key, nkey, now, NULL, m, NULL))
			memset(m, 0, sizeof(*m));
		return ST_STORED;
	}
	if (cas_in && it->cas != cas_in) {
		release(s, sh, all);
		return ST_EXISTS;
	}
	/* the value is followed by "\r\n" in the item, so the parser stops */
	if (!kv_strtoull(it->data + it->nkey, it->data + it->nkey + it->nbytes + 2, &v)) {
		release(s, sh, all);
		return ST_NON_NUMERIC;
	}
	if (incr)
		v += delta;
	else
		v = delta > v ? 0 : v - delta;
	len = snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	if ((uint32_t)len <= it->nbytes) {
		/* memcached rewrites in place, padding with spaces */
		memset(it->data + it->nkey, ' ', it->nbytes);
		memcpy(it->data + it->nkey, num, (size_t)len);
		it->cas = next_cas(s);
		bump(sh, it, now);
	} else {
		nit = alloc_item(s, sh, it, total_of(nkey, (size_t)len), now,
				 all, &room);
		if (!nit) {
			release(s, sh, all);
			if (room && !all) {
				/* slow path: redo it all with every shard locked */
				all = true;
				goto again;
			}
			return ST_NO_MEMORY;
		}
		nit->nkey = (uint8_t)nkey;
		nit->nbytes = (uint32_t)len;
		nit->atime = now;
		nit->iflags = it->iflags;
		nit->flags = it->flags;
		nit->exptime = it->exptime;
		memcpy(nit->data, key, nkey);
		memcpy(nit->data + nkey, num, (size_t)len);
		memcpy(nit->data + nkey + len, "\r\n", 2);
		nit->cas = next_cas(s);
		link_item(s, sh, slot_of(sh, h, key, nkey), nit);
		it = nit;
	}
	*value = v;
	if (m)
		fill_meta(it, m);
	release(s, sh, all);
	return ST_STORED;
}

void store_flush(struct store *s, uint32_t now, uint32_t when)
{
	/* memcached spends a cas id on an immediate flush; clients that
	 * compare cas sequences see the same numbers */
	(void)now;	/* a due delayed flush is handled by is_dead() */
	if (!when)
		(void)next_cas(s);
	for (int i = 0; i < s->nshards; i++) {
		struct shard *sh = &s->sh[i];

		pthread_mutex_lock(&sh->lock);
		if (when) {
			sh->flush_when = when;
		} else {
			for (uint64_t b = 0; b <= sh->mask; b++)
				while (sh->tab[b])
					unlink_item(s, sh, &sh->tab[b]);
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
	memset(out, 0, sizeof(*out));
	if (cls < 0 || cls >= s->ncls)
		return;
	out->chunk_size = cls == CLS_LARGE ? 0 : s->slab[cls].size;
	pthread_mutex_lock(&s->slab[cls].lock);
	out->pages = s->slab[cls].pages;
	pthread_mutex_unlock(&s->slab[cls].lock);
	for (int i = 0; i < s->nshards; i++) {
		struct shard *sh = &s->sh[i];
		struct item *tail;

		pthread_mutex_lock(&sh->lock);
		out->items += sh->lru[cls].count;
		tail = sh->lru[cls].tail;
		if (tail && (!out->oldest_atime || tail->atime < out->oldest_atime))
			out->oldest_atime = tail->atime;
		pthread_mutex_unlock(&sh->lock);
	}
}
