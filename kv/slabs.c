/* Memory: size classes, 64 KiB slab pages, and moving pages between
 * classes (see store_int.h for the lock naming).
 *
 * Memory layout, chosen to keep resident memory below memcached's for the
 * same items: one chunk per item holding a 51-byte header, the key, the
 * value and its "\r\n" (so a reply copies the value and terminator in one
 * memcpy). Chunks come from 64 KiB slab pages cut into fine size classes
 * (8-byte steps up to 512 bytes, then 1/16 growth), so rounding wastes a
 * few bytes per item where memcached's factor-1.25 classes waste about
 * 10%. Items larger than the biggest class get their own malloc. The memory
 * limit counts pages plus large items. */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

void slabs_init(struct store *s)
{
	uint32_t sizes[NCLS_MAX];
	int n = 1;

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
}

void slabs_free(struct store *s)
{
	for (size_t p = 0; p < s->npages; p++)
		free(s->pages[p].mem);
	free(s->pages);
	for (int c = 0; c < s->ncls; c++)
		pthread_mutex_destroy(&s->slab[c].lock);
	pthread_mutex_destroy(&s->pages_lock);
}

int slab_class_of(const struct store *s, size_t total)
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

static bool mem_take(struct store *s, size_t n)
{
	size_t used = atomic_load(&s->mem_used);

	do {
		if (used + n > s->mem_limit)
			return false;
	} while (!atomic_compare_exchange_weak(&s->mem_used, &used, used + n));
	return true;
}

/* A large item's memory, already counted by mem_take. */
static struct item *large_malloc(struct store *s, size_t total)
{
	struct item *it = malloc(total);

	if (!it) {
		atomic_fetch_sub(&s->mem_used, total);
		return NULL;
	}
	it->cls = CLS_LARGE;
	return it;
}

static bool in_page(const void *p, const char *mem)
{
	return (const char *)p >= mem && (const char *)p < mem + PAGE_SIZE;
}

/* Class c carves its chunks from page mem from now on. */
static void give_page_locked(struct slab *c, char *mem)
{
	c->cur = mem;
	c->left = PAGE_SIZE / c->size;
	c->pages++;
}

static bool new_page_locked(struct store *s, struct slab *c)
{
	void *p;

	if (!mem_take(s, PAGE_SIZE))
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
	give_page_locked(c, p);
	return true;
}

void do_chunk_free(struct store *s, struct item *it)
{
	struct slab *c = &s->slab[it->cls];

	if (it->cls == CLS_LARGE) {
		atomic_fetch_sub(&s->mem_used, item_total(it->nkey, it->nbytes));
		free(it);
		return;
	}
	pthread_mutex_lock(&c->lock);
	it->next = c->free;
	c->free = it;
	pthread_mutex_unlock(&c->lock);
}

/* A free or never-used chunk of class c, or a new page while the limit
 * allows; NULL when the class needs eviction or another class's page. */
static struct item *do_slab_take(struct store *s, struct slab *c)
{
	struct item *it = NULL;

	pthread_mutex_lock(&c->lock);
	if (c->free) {
		it = c->free;
		c->free = it->next;
	} else if (c->left || new_page_locked(s, c)) {
		it = (struct item *)c->cur;
		c->cur += c->size;
		c->left--;
	}
	pthread_mutex_unlock(&c->lock);
	return it;
}

/* Also returns NULL with *room set every BALANCE_EVERY evictions of a
 * class, so the slow path can weigh moving a page against evicting in the
 * class (memcached's slab automove, done inline). */
struct item *do_chunk_alloc(struct store *s, struct shard *sh, size_t total,
			    uint32_t now, bool *room)
{
	int ci = slab_class_of(s, total);
	struct slab *c = &s->slab[ci];
	struct item *it;

	if (ci == CLS_LARGE) {
		/* with memory full, what to evict (a large item or a page of
		 * smaller ones) is decided by age across all shards: slow path */
		*room = !mem_take(s, total);
		return *room ? NULL : large_malloc(s, total);
	}
	while (!(it = do_slab_take(s, c))) {
		bool check;

		pthread_mutex_lock(&c->lock);
		check = !c->balance_in;
		if (!check)
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

		if (s->pages[p].cls != c || in_page(s->pin, m))
			continue;
		if (!t || in_page(t, m))
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
	uint32_t n = PAGE_SIZE / c->size, carved = n;
	uint64_t freemap[PAGE_SIZE / 64 / 64] = { 0 };
	struct item **pp;

	pthread_mutex_lock(&c->lock);
	if (c->left && in_page(c->cur, mem))
		carved = (uint32_t)((c->cur - mem) / c->size);
	for (struct item *f = c->free; f; f = f->next)
		if (in_page(f, mem)) {
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
		if (in_page(*pp, mem))
			*pp = (*pp)->next;
		else
			pp = &(*pp)->next;
	if (c->left && in_page(c->cur, mem)) {
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
static bool all_move_page(struct store *s, int v, int to, uint32_t now)
{
	size_t p = all_empty_page(s, v, now);
	struct slab *c = &s->slab[to];

	if (p == s->npages)
		return false;
	pthread_mutex_lock(&c->lock);
	s->pages[p].cls = to;
	give_page_locked(c, s->pages[p].mem);
	pthread_mutex_unlock(&c->lock);
	return true;
}

/* Empties a page of class v and returns its memory (for large items). */
static bool all_release_page(struct store *s, int v, uint32_t now)
{
	size_t p = all_empty_page(s, v, now);

	if (p == s->npages)
		return false;
	pthread_mutex_lock(&s->pages_lock);
	free(s->pages[p].mem);
	s->pages[p] = s->pages[--s->npages];
	pthread_mutex_unlock(&s->pages_lock);
	atomic_fetch_sub(&s->mem_used, PAGE_SIZE);
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
	bool check = true;
	int v;

	while (!(it = do_slab_take(s, c))) {
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
			c->balance_in = moved && !theirs ? 0 : BALANCE_EVERY;
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
	struct item *big, *theirs;
	int v;

	while (!mem_take(s, total)) {
		big = all_oldest_tail(s, CLS_LARGE, &sh);
		v = all_victim_class(s, CLS_LARGE, &theirs);
		if (v > 0 && (!big || !theirs || item_older(theirs, big)) &&
		    all_release_page(s, v, now))
			continue;
		if (!big)
			return NULL;
		do_item_evict(s, sh, big, now);
	}
	return large_malloc(s, total);
}
