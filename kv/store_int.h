/* The store's insides, shared by its files (not an interface: use
 * store.h). memcached's layout, one job per file:
 *   assoc.c  the hash table (one per shard)
 *   items.c  items in table and LRU: link, unlink, find, evict, allocate
 *   slabs.c  memory: size classes and pages laid out as memcached's
 *            (-n, -f, 1 MiB pages), moving pages between classes
 *   store.c  the operations of store.h, each taking the locks it needs
 *
 * Locks, and how a function's name says which it expects held:
 *   do_...   the caller holds the shard lock of the item or key involved
 *            (memcached's convention); chunks are only allocated or freed
 *            under some shard lock, which is what lets the page mover see
 *            every chunk of a page hold still
 *   all_...  the caller holds every shard lock (store_lock_all: the slow
 *            path that moves pages between classes)
 *   ..._locked  the caller holds the size class's leaf lock
 * Order: shard locks in index order (others only by trylock while holding
 * one), then a class lock, then the page-list lock. The memory count, the
 * cas counter and slabs_moved are atomics. */
#ifndef KV_STORE_INT_H
#define KV_STORE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#include "store.h"

#define PAGE_DEFAULT	(1024 * 1024)	/* memcached's slab_page_size */
#define NCLS_MAX	64	/* memcached's MAX_NUMBER_OF_SLAB_CLASSES */
#define SMALL_MAX	1024	/* class sizes up to this by table lookup */
#define RECLAIM_TRIES	5	/* LRU tail items probed for a dead one */
#define CLS_LARGE	0	/* class 0: individually allocated */
#define BALANCE_EVERY	64	/* at most this many evictions in a class between
				 * page-balance checks */

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

/* Per class and shard, under the shard lock: memcached's "stats items" and
 * "stats slabs" counters of the class. */
struct cls_count {
	uint64_t bytes;		/* mem_requested: item_class_size()s */
	uint64_t evicted, evicted_nonzero, evicted_time, evicted_at;
	uint64_t outofmemory, reclaimed, expired_unfetched, evicted_unfetched;
	uint64_t get_hits, cmd_set, delete_hits, incr_hits, decr_hits,
		 cas_hits, cas_badval, touch_hits;
	uint64_t crawler_reclaimed, crawler_items_checked;
};

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
	struct cls_count cc[NCLS_MAX];
	struct store_stats st;
} __attribute__((aligned(64)));

struct store {
	int nshards, shift;
	int ncls;
	size_t mem_limit, item_max;
	size_t page_size, chunk_max;	/* chunk_max: the largest class */
	uint64_t *freemap;		/* all_clear_page's, a bit per chunk */
	_Atomic size_t mem_used;
	_Atomic uint64_t cas;
	struct shard *sh;
	struct slab slab[NCLS_MAX];
	pthread_mutex_t pages_lock;	/* the page list */
	struct page *pages;
	size_t npages, cappages;
	_Atomic uint64_t slabs_moved;	/* pages given to another class */
	_Atomic int automove;		/* "slabs automove" (1) */
	/* "stats sizes": items per 32-byte size bucket (memcached's item
	 * sizes), NULL while disabled; only items with a cas from sizes_cas
	 * on count (as memcached: those stored since enabling). The pointer
	 * changes with every shard locked; counts are atomic (any shard) */
	uint32_t *sizes;
	size_t nsizes;
	uint64_t sizes_cas;
	struct item *pin;		/* the slow path must not free it */
	uint8_t small_cls[SMALL_MAX / 8 + 1];	/* ceil(size/8) -> class */
};

/* Bytes an item takes: header, key, value, "\r\n", 8-byte aligned. */
static inline size_t item_total(size_t nkey, size_t nbytes)
{
	return (HDR + nkey + nbytes + 2 + 7) & ~(size_t)7;
}

/* The bytes memcached 1.6 asks its slab allocator for the same item (a
 * 48-byte header, the key and a NUL, the client flags when not 0, the value
 * and "\r\n", the cas): the class is chosen by it, so an item lands in the
 * class memcached would put it in, and per-class figures compare. It is at
 * least item_total(), so the item fits the chunk. */
static inline size_t item_class_size(size_t nkey, size_t nbytes, uint32_t flags)
{
	return 48 + nkey + 1 + (flags ? 4 : 0) + nbytes + 2 + 8;
}

static inline struct shard *assoc_shard(struct store *s, uint64_t h)
{
	return s->nshards == 1 ? &s->sh[0] : &s->sh[h >> s->shift];
}

static inline void do_lru_unlink(struct lru *c, struct item *it)
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

static inline void do_lru_push(struct lru *c, struct item *it)
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

static inline bool do_item_dead(const struct shard *sh, const struct item *it, uint32_t now)
{
	if (it->exptime && it->exptime <= now)
		return true;
	return sh->flush_when && sh->flush_when <= now && it->atime <= sh->flush_when;
}

/* Where key is in sh's table, or the empty link to append it at. */
static inline struct item **do_assoc_slot(struct shard *sh, uint64_t h,
					  const char *key, size_t nkey)
{
	struct item **pp = &sh->tab[h & sh->mask];

	for (; *pp; pp = &(*pp)->hnext)
		if ((*pp)->nkey == nkey && !memcmp((*pp)->data, key, nkey))
			return pp;
	return pp;
}

static inline void do_item_bump(struct shard *sh, struct item *it, uint32_t now)
{
	struct lru *c = &sh->lru[it->cls];

	it->atime = now;
	if (c->head != it) {
		do_lru_unlink(c, it);
		do_lru_push(c, it);
	}
}

/* ---- assoc.c: the hash table ---- */

uint64_t assoc_hash(const char *key, size_t nkey);
/* (do_assoc_slot, above, is inline: every operation calls it) */
/* Doubles the buckets (on failure, chains just get longer). */
void do_assoc_grow(struct shard *sh);

/* ---- items.c: items in table and LRU ---- */

/* Unlinks the dead item at *pp, counted as reclaimed. */
void do_item_reclaim(struct store *s, struct shard *sh, struct item **pp,
		     uint32_t now);
/* Links a fresh item where *pp points, replacing what is there. */
void do_item_link(struct store *s, struct shard *sh, struct item **pp,
		  struct item *it);
/* Unlinks *pp from table and LRU and frees it. */
void do_item_unlink(struct store *s, struct shard *sh, struct item **pp);
/* Frees a linked item to make room, counted as reclaimed or evicted. */
void do_item_evict(struct store *s, struct shard *sh, struct item *it,
		   uint32_t now);
void do_item_meta(const struct item *it, struct st_meta *m);
/* A chunk for an item of that key length, value length and flags; see
 * items.c. */
struct item *do_item_alloc(struct store *s, struct shard *sh,
			   struct item *pin, size_t nkey, size_t nbytes,
			   uint32_t flags, uint32_t now, bool all, bool *room);
/* Evicts the LRU tail of class c: this shard's, another not busy shard's,
 * or (all_) the oldest over every shard. False: the class is empty. */
bool do_lru_evict_tail(struct store *s, struct shard *sh, int c, uint32_t now);
bool do_evict_other(struct store *s, struct shard *mine, int c, uint32_t now);
bool all_evict_oldest(struct store *s, int c, uint32_t now);
/* Frees a dead (expired or flushed) item among the last RECLAIM_TRIES of
 * class c's LRU, in this shard or another not busy one, so its chunk is
 * reused before a new page is taken. False: none found. */
bool do_lru_reclaim_dead(struct store *s, struct shard *sh, int c, uint32_t now);
uint64_t store_next_cas(struct store *s);

/* The item of key (a dead one is reclaimed first), as its table link;
 * inline: every operation starts with it. */
static inline struct item **do_item_find(struct store *s, struct shard *sh,
					 uint64_t h, const char *key, size_t nkey,
					 uint32_t now)
{
	struct item **pp = do_assoc_slot(sh, h, key, nkey);

	if (*pp && do_item_dead(sh, *pp, now)) {
		do_item_reclaim(s, sh, pp, now);
		return do_assoc_slot(sh, h, key, nkey);
	}
	return pp;
}

/* ---- slabs.c: size classes and pages ---- */

/* Classes as memcached's slabs_init: chunk_min + 48, times factor, 8-byte
 * aligned, the last one page_size / 2. -1 when out of memory. */
int slabs_init(struct store *s, size_t chunk_min, double factor);
void slabs_free(struct store *s);
/* The class for an item_class_size(), CLS_LARGE above the largest. */
int slab_class_of(const struct store *s, size_t size);
void do_chunk_free(struct store *s, struct item *it);
/* The fast path, under the caller's shard lock: a chunk of class ci (or a
 * large item's `total` bytes); NULL with *room set when only the slow path
 * can find the memory. */
struct item *do_chunk_alloc(struct store *s, struct shard *sh, int ci,
			    size_t total, uint32_t now, bool *room);
/* The slow path: memory for a slab item / a large item, moving pages
 * between classes or evicting across shards as needed. */
struct item *all_room_slab(struct store *s, int ci, uint32_t now);
struct item *all_room_large(struct store *s, size_t total, uint32_t now);
/* Moves a page of class v to class `to` (false: v has none that may go). */
bool all_move_page(struct store *s, int v, int to, uint32_t now);
/* The oldest LRU tail of class c over all shards (NULL: no items). */
struct item *all_oldest_tail(struct store *s, int c, struct shard **where);

/* ---- store.c ---- */

void store_lock_all(struct store *s);
void store_unlock_all(struct store *s);

#endif
