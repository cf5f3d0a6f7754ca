/* Memory: size classes, slab pages, and moving pages between classes (see
 * store_int.h for the lock naming).
 *
 * Classes and pages are memcached 1.6's (slabs.c:slabs_init): the first
 * class is -n (48) bytes plus memcached's 48-byte item header, each next
 * one -f (1.25) times bigger, 8-byte aligned, and the last is half a 1 MiB
 * page; an item goes to the class memcached would choose for it
 * (item_class_size). So "stats slabs"/"stats items" number the same
 * classes with the same chunk sizes, and memcached-tool and exporters read
 * them unchanged. One chunk holds irqlab-kv's 51-byte header, the key, the
 * value and its "\r\n" (a reply copies value and terminator in one
 * memcpy). Items larger than the largest class (class 0) take a whole
 * page each (memcached chains chunks instead); beyond a page (-I above the
 * page size) their own malloc. A page freed (moved to large items, or a
 * large item deleted) goes to a spare list, reused before any new malloc:
 * the heap only ever holds page-sized blocks, so RSS stays at the limit
 * plus a fixed overhead. The limit counts pages (spare ones included)
 * plus large mallocs. */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

int slabs_init(struct store *s, size_t chunk_min, double factor)
{
	size_t size = 48 + chunk_min;
	int n = 1;

	s->chunk_max = s->page_size / 2;
	/* memcached's loop: stop once the next size would pass chunk_max /
	 * factor, or when the table is one short of full */
	while (n < NCLS_MAX - 1 && (double)size < (double)s->chunk_max / factor) {
		size = (size + 7) & ~(size_t)7;
		s->slab[n++].size = (uint32_t)size;
		size = (size_t)((double)size * factor);
	}
	s->slab[n++].size = (uint32_t)s->chunk_max;
	s->ncls = n;
	for (size_t t = 0, c = 1; t <= SMALL_MAX / 8; t++) {
		while (c < (size_t)n - 1 && s->slab[c].size < t * 8)
			c++;
		s->small_cls[t] = (uint8_t)c;
	}
	s->freemap = calloc(s->page_size / s->slab[1].size / 64 + 1, sizeof(uint64_t));
	pthread_mutex_init(&s->pages_lock, NULL);
	for (int c = 0; c < n; c++)
		pthread_mutex_init(&s->slab[c].lock, NULL);
	return s->freemap ? 0 : -1;
}

void slabs_free(struct store *s)
{
	for (size_t p = 0; p < s->npages; p++)
		free(s->pages[p].mem);
	while (s->spare) {
		void *next = *(void **)s->spare;

		free(s->spare);
		s->spare = next;
	}
	free(s->pages);
	free(s->freemap);
	for (int c = 0; c < s->ncls; c++)
		pthread_mutex_destroy(&s->slab[c].lock);
	pthread_mutex_destroy(&s->pages_lock);
}

int slab_class_of(const struct store *s, size_t size)
{
	int lo, hi;

	if (size <= SMALL_MAX)
		return s->small_cls[(size + 7) / 8];
	if (size > s->chunk_max)
		return CLS_LARGE;
	lo = s->small_cls[SMALL_MAX / 8];
	hi = s->ncls - 1;
	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (s->slab[mid].size >= size)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static bool mem_take(struct store *s, size_t n)
{
	size_t used = atomic_load(&s->mem_used);

	do {
		if (used + n > s->mem_limit)
			return false;
	} while (!atomic_compare_exchange_weak(&s->mem_used, &used, used + n));
	return true;
}

/* A page: a spare one, or a new one within the limit; NULL if neither. */
static void *page_get(struct store *s)
{
	void *p;

	pthread_mutex_lock(&s->pages_lock);
	p = s->spare;
	if (p)
		s->spare = *(void **)p;
	pthread_mutex_unlock(&s->pages_lock);
	if (p || !mem_take(s, s->page_size))
		return p;
	if (!(p = malloc(s->page_size)))
		atomic_fetch_sub(&s->mem_used, s->page_size);
	return p;
}

/* A page no longer used, kept for reuse (still counted). */
static void page_put(struct store *s, void *p)
{
	pthread_mutex_lock(&s->pages_lock);
	*(void **)p = s->spare;
	s->spare = p;
	pthread_mutex_unlock(&s->pages_lock);
}

/* Gives a spare page back to libc (room for a malloc beyond a page). */
static bool spare_free_one(struct store *s)
{
	void *p;

	pthread_mutex_lock(&s->pages_lock);
	p = s->spare;
	if (p)
		s->spare = *(void **)p;
	pthread_mutex_unlock(&s->pages_lock);
	if (!p)
		return false;
	free(p);
	atomic_fetch_sub(&s->mem_used, s->page_size);
	return true;
}

/* A large item's memory: a page, or beyond a page its own malloc. */
static struct item *large_get(struct store *s, size_t total)
{
	struct item *it;

	if (total <= s->page_size) {
		it = page_get(s);
	} else {
		while (!mem_take(s, total))
			if (!spare_free_one(s))
				return NULL;
		if (!(it = malloc(total)))
			atomic_fetch_sub(&s->mem_used, total);
	}
	if (it)
		it->cls = CLS_LARGE;
	return it;
}

static bool in_page(const struct store *s, const void *p, const char *mem)
{
	return (const char *)p >= mem && (const char *)p < mem + s->page_size;
}

/* Class c carves its chunks from page mem from now on. */
static void give_page_locked(struct store *s, struct slab *c, char *mem)
{
	c->cur = mem;
	c->left = (uint32_t)(s->page_size / c->size);
	c->pages++;
}

static bool new_page_locked(struct store *s, struct slab *c)
{
	void *p;

	if (!(p = page_get(s)))
		return false;
	pthread_mutex_lock(&s->pages_lock);
	if (p && s->npages == s->cappages) {
		size_t cap = s->cappages ? s->cappages * 2 : 64;
		struct page *np = realloc(s->pages, cap * sizeof(*np));

		if (np) {
			s->pages = np;
			s->cappages = cap;
		}
	}
	if (s->npages == s->cappages) {
		pthread_mutex_unlock(&s->pages_lock);
		page_put(s, p);
		return false;
	}
	s->pages[s->npages].mem = p;
	s->pages[s->npages++].cls = (int)(c - s->slab);
	pthread_mutex_unlock(&s->pages_lock);
	give_page_locked(s, c, p);
	return true;
}

void do_chunk_free(struct store *s, struct item *it)
{
	struct slab *c = &s->slab[it->cls];

	if (it->cls == CLS_LARGE) {
		size_t total = item_total(it->nkey, it->nbytes);

		if (total <= s->page_size) {
			page_put(s, it);
		} else {
			atomic_fetch_sub(&s->mem_used, total);
			free(it);
		}
		return;
	}
	pthread_mutex_lock(&c->lock);
	it->next = c->free;
	c->free = it;
	pthread_mutex_unlock(&c->lock);
}

/* A free or never-used chunk of class c, or (grow) a new page while the
 * limit allows; NULL when the class needs eviction or another class's
 * page. */
static struct item *do_slab_take(struct store *s, struct slab *c, bool grow)
{
	struct item *it = NULL;

	pthread_mutex_lock(&c->lock);
	if (c->free) {
		it = c->free;
		c->free = it->next;
	} else if (c->left || (grow && new_page_locked(s, c))) {
		it = (struct item *)c->cur;
		c->cur += c->size;
		c->left--;
	}
	pthread_mutex_unlock(&c->lock);
	return it;
}

/* Evictions in class c between two page-balance checks: a page's worth,
 * at most BALANCE_EVERY (a class of two 512 KiB chunks a page looks again
 * after two). */
static uint32_t balance_every(const struct store *s, const struct slab *c)
{
	uint32_t per = (uint32_t)(s->page_size / c->size);

	return per < BALANCE_EVERY ? per : BALANCE_EVERY;
}

/* Also returns NULL with *room set every balance_every() evictions of a
 * class, so the slow path can weigh moving a page against evicting in the
 * class (memcached's slab automove, done inline). */
struct item *do_chunk_alloc(struct store *s, struct shard *sh, int ci,
			    size_t total, uint32_t now, bool *room)
{
	struct slab *c = &s->slab[ci];
	struct item *it;

	if (ci == CLS_LARGE) {
		/* with memory full, what to evict (a large item or a page of
		 * smaller ones) is decided by age across all shards: slow path */
		it = large_get(s, total);
		*room = !it;
		return it;
	}
	/* memory of a dead item near the LRU tail before a new page */
	it = do_slab_take(s, c, false);
	if (!it && do_lru_reclaim_dead(s, sh, ci, now))
		it = do_slab_take(s, c, false);
	/* few chunks a page (16 KiB and up): evict the oldest over all
	 * shards, in the slow path; one shard's tail may be a recent item */
	if (!it && !(it = do_slab_take(s, c, true)) &&
	    s->page_size / c->size < BALANCE_EVERY) {
		*room = true;
		return NULL;
	}
	while (!it && !(it = do_slab_take(s, c, true))) {
		bool check;

		pthread_mutex_lock(&c->lock);
		check = !c->balance_in && atomic_load(&s->automove);
		if (c->balance_in)
			c->balance_in--;
		pthread_mutex_unlock(&c->lock);
		/* our shard's tail first, then another shard's; with none,
		 * the slow path frees large items or moves a page */
		if (check || (!do_lru_evict_tail(s, sh, ci, now) &&
			      !do_evict_other(s, sh, ci, now))) {
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
 * do_evict_other). All chunk allocation and freeing happens under some
 * shard lock, so the slabs hold still: every chunk of a page is either on
 * its class's free list, not carved yet, or a linked item. */

/* LRU age across classes and shards: last access (seconds), then the cas
 * (store order) within the same second. */
static bool item_older(const struct item *a, const struct item *b)
{
	return a->atime < b->atime || (a->atime == b->atime && a->cas < b->cas);
}

struct item *all_oldest_tail(struct store *s, int c, struct shard **where)
{
	struct item *best = NULL;

	for (int i = 0; i < s->nshards; i++) {
		struct item *t = s->sh[i].lru[c].tail;

		if (t && (!best || item_older(t, best))) {
			best = t;
			*where = &s->sh[i];
		}
	}
	return best;
}

/* The class to take a page from: one holding pages but no items costs no
 * eviction; else the one whose LRU tail is oldest. -1 if no class but
 * `not` has pages. *tail gets the victim's oldest item (NULL: none). */
static int all_victim_class(struct store *s, int not, struct item **tail)
{
	int best = -1;
	struct shard *sh;

	*tail = NULL;
	for (int c = 1; c < s->ncls; c++) {
		struct item *t;

		if (c == not || !s->slab[c].pages)
			continue;
		/* the pinned item's page is not emptied (all_victim_page) */
		if (s->pin && s->pin->cls == c && s->slab[c].pages < 2)
			continue;
		t = all_oldest_tail(s, c, &sh);
		if (!t) {
			*tail = NULL;
			return c;
		}
		if (best < 0 || item_older(t, *tail)) {
			best = c;
			*tail = t;
		}
	}
	return best;
}

/* The page of class c to empty: the one holding its oldest item. */
static size_t all_victim_page(struct store *s, int c)
{
	struct shard *sh;
	struct item *t = all_oldest_tail(s, c, &sh);
	size_t first = s->npages;

	for (size_t p = 0; p < s->npages; p++) {
		char *m = s->pages[p].mem;

		if (s->pages[p].cls != c || in_page(s, s->pin, m))
			continue;
		if (!t || in_page(s, t, m))
			return p;
		if (first == s->npages)
			first = p;
	}
	return first;
}

/* Evicts every item in page p and takes its chunks off its class. */
static void all_clear_page(struct store *s, size_t p, uint32_t now)
{
	char *mem = s->pages[p].mem;
	struct slab *c = &s->slab[s->pages[p].cls];
	uint32_t n = (uint32_t)(s->page_size / c->size), carved = n;
	uint64_t *freemap = s->freemap;
	struct item **pp;

	memset(freemap, 0, (n / 64 + 1) * sizeof(*freemap));
	pthread_mutex_lock(&c->lock);
	if (c->left && in_page(s, c->cur, mem))
		carved = (uint32_t)((c->cur - mem) / c->size);
	for (struct item *f = c->free; f; f = f->next)
		if (in_page(s, f, mem)) {
			uint32_t k = (uint32_t)(((char *)f - mem) / c->size);

			freemap[k / 64] |= 1ull << (k % 64);
		}
	pthread_mutex_unlock(&c->lock);
	for (uint32_t k = 0; k < carved; k++) {
		struct item *it = (struct item *)(mem + (size_t)k * c->size);

		if (!(freemap[k / 64] & (1ull << (k % 64))))
			do_item_evict(s, assoc_shard(s, assoc_hash(it->data, it->nkey)), it, now);
	}
	pthread_mutex_lock(&c->lock);
	for (pp = (struct item **)&c->free; *pp;)
		if (in_page(s, *pp, mem))
			*pp = (*pp)->next;
		else
			pp = &(*pp)->next;
	if (c->left && in_page(s, c->cur, mem)) {
		c->cur = NULL;
		c->left = 0;
	}
	c->pages--;
	pthread_mutex_unlock(&c->lock);
}

/* Empties a page of class v: its index, or s->npages when v has none that
 * may be emptied. */
static size_t all_empty_page(struct store *s, int v, uint32_t now)
{
	size_t p = all_victim_page(s, v);

	if (p < s->npages) {
		all_clear_page(s, p, now);
		atomic_fetch_add(&s->slabs_moved, 1);
	}
	return p;
}

/* Empties a page of class v and gives it to class to. */
bool all_move_page(struct store *s, int v, int to, uint32_t now)
{
	size_t p = all_empty_page(s, v, now);
	struct slab *c = &s->slab[to];

	if (p == s->npages)
		return false;
	pthread_mutex_lock(&c->lock);
	s->pages[p].cls = to;
	give_page_locked(s, c, s->pages[p].mem);
	pthread_mutex_unlock(&c->lock);
	return true;
}

/* Empties a page of class v and returns its memory (for large items). */
static bool all_release_page(struct store *s, int v, uint32_t now)
{
	size_t p = all_empty_page(s, v, now);
	void *mem;

	if (p == s->npages)
		return false;
	pthread_mutex_lock(&s->pages_lock);
	mem = s->pages[p].mem;
	s->pages[p] = s->pages[--s->npages];
	pthread_mutex_unlock(&s->pages_lock);
	page_put(s, mem);
	return true;
}

/* Once per slow path, and whenever the class's own LRU is empty, a page
 * whose oldest item is older than this class's oldest serves the LRU
 * better here; else the oldest item of this class (or a large one) goes. */
struct item *all_room_slab(struct store *s, int ci, uint32_t now)
{
	struct slab *c = &s->slab[ci];
	struct shard *sh;
	struct item *it, *mine, *theirs;
	bool check = atomic_load(&s->automove) != 0;
	int v;

	while (!(it = do_slab_take(s, c, true))) {
		if (check) {
			bool moved;

			check = false;
			mine = all_oldest_tail(s, ci, &sh);
			v = all_victim_class(s, ci, &theirs);
			moved = v > 0 && (!theirs || !mine || item_older(theirs, mine)) &&
				all_move_page(s, v, ci, now);
			/* a page that held no items: look again as soon as this
			 * one is used up, there may be more (after deletes) */
			pthread_mutex_lock(&c->lock);
			c->balance_in = moved && !theirs ? 0 : balance_every(s, c);
			pthread_mutex_unlock(&c->lock);
			if (moved)
				continue;
		}
		if (all_evict_oldest(s, ci, now) || all_evict_oldest(s, CLS_LARGE, now))
			continue;
		v = all_victim_class(s, ci, &theirs);
		if (v < 0 || !all_move_page(s, v, ci, now))
			return NULL;
	}
	it->cls = (uint8_t)ci;
	return it;
}

/* Memory for a large item: evicts the older of the oldest large item and
 * the oldest slab class's tail (freeing that page). */
struct item *all_room_large(struct store *s, size_t total, uint32_t now)
{
	struct shard *sh;
	struct item *big, *theirs, *it;
	int v;

	while (!(it = large_get(s, total))) {
		big = all_oldest_tail(s, CLS_LARGE, &sh);
		v = all_victim_class(s, CLS_LARGE, &theirs);
		if (v > 0 && (!big || !theirs || item_older(theirs, big)) &&
		    all_release_page(s, v, now))
			continue;
		if (!big)
			return NULL;
		do_item_evict(s, sh, big, now);
	}
	return it;
}
