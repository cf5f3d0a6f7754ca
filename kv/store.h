/* The item store: a sharded hash table (chained, per-shard lock), slab
 * allocation with fine size classes, an LRU per size class, and a memory
 * limit honoured by evicting from the LRU tail.
 *
 * Times are the server's relative seconds (see clock.h: kv_realtime); 0 means
 * "never expires". Values are copied out under the shard lock, so a reply
 * never points into memory another thread may reuse. */
#ifndef KV_STORE_H
#define KV_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define KV_KEY_MAX 250

/* ST_CAS_STALE: ms with I and C (memcached's set_stale): like ST_CAS, but a
 * cas older than the item's still stores, keeping the old item's expiry and
 * marking the new one stale (and won, if the old one's win was handed out). */
enum st_op { ST_SET, ST_ADD, ST_REPLACE, ST_APPEND, ST_PREPEND, ST_CAS,
	     ST_CAS_STALE };

enum st_res {
	ST_STORED, ST_NOT_STORED, ST_EXISTS, ST_NOT_FOUND, ST_DELETED,
	ST_TOUCHED, ST_TOO_LARGE, ST_NO_MEMORY, ST_NON_NUMERIC,
};

struct st_meta {
	uint32_t flags;
	uint64_t cas;
	uint32_t exptime;	/* relative, 0 = never */
	uint32_t atime;		/* last access before this one */
	bool fetched;		/* had been read before this access */
	uint8_t cls;		/* size class (1-based like memcached) */
	uint32_t total;		/* its size as memcached counts it (the
				 * class is chosen by it; "me" shows it) */
	uint32_t nbytes;	/* value length */
	bool win;		/* meta: this client should recache (W) */
	bool won;		/* meta: another client already won (Z) */
	bool stale;		/* meta: invalidated by "md I" (X) */
};

/* Meta get options: touch, vivify on miss (N), recache below a TTL (R). */
struct st_getopt {
	const uint32_t *touch;
	bool vivify;
	uint32_t viv_exptime;
	bool recache;
	uint32_t recache_ttl;
};

struct store_cfg {
	size_t mem_limit;	/* bytes */
	size_t item_max;	/* largest item (header + key + value) */
	int nshards;		/* rounded up to a power of two */
	/* slab layout, memcached's (0: its defaults); the largest class is
	 * half a page */
	size_t page_size;	/* 1 MiB */
	size_t chunk_min;	/* -n: first class = 48 + this (48) */
	double factor;		/* -f: growth between classes (1.25) */
};

struct store_stats {
	uint64_t curr_items, total_items, bytes, evictions, reclaimed,
		 expired_unfetched, evicted_unfetched, mem_used, mem_limit,
		 hash_buckets, pages, large_items, slabs_moved;
};

/* Arithmetic on a missing key may create it (meta "ma N"). */
struct st_autoviv {
	bool on;
	uint32_t exptime;
	uint64_t initial;
};

struct store;

struct store *store_new(const struct store_cfg *cfg);
void store_free(struct store *s);

/* Item bytes for a key/value, as the memory limit counts them. */
size_t store_item_size(size_t nkey, size_t nbytes);
size_t store_item_max(const struct store *s);

/* Looks a key up. On a hit fills *m and, when val is not NULL, appends the
 * value followed by "\r\n" to val. touch (not NULL) sets a new exptime. */
bool store_get(struct store *s, const char *key, size_t nkey, uint32_t now,
	       const uint32_t *touch, struct st_meta *m, struct buf *val);

/* Stores nbytes of data (without the "\r\n"). cas_in is compared for ST_CAS
 * and, when nonzero, for any op (meta "C"). *cas_out gets the new cas. */
enum st_res store_put(struct store *s, enum st_op op, const char *key,
		      size_t nkey, uint32_t flags, uint32_t exptime,
		      const char *data, size_t nbytes, uint64_t cas_in,
		      uint32_t now, uint64_t *cas_out);

/* Meta get: store_get plus the recache protocol. A miss with vivify
 * creates an empty item and hands this client the win. */
bool store_mget(struct store *s, const char *key, size_t nkey, uint32_t now,
		const struct st_getopt *o, struct st_meta *m, struct buf *val);

enum st_res store_delete(struct store *s, const char *key, size_t nkey,
			 uint64_t cas_in, uint32_t now);
/* "md key I [T]": keeps the item but marks it stale (new cas, optional new
 * exptime); the next reader wins. */
enum st_res store_invalidate(struct store *s, const char *key, size_t nkey,
			     uint64_t cas_in, const uint32_t *exptime,
			     uint32_t now);

enum st_res store_touch(struct store *s, const char *key, size_t nkey,
			uint32_t exptime, uint32_t now);

/* incr/decr with memcached's rules: decr stops at 0, incr wraps at 2^64,
 * a value that is not a number is ST_NON_NUMERIC. */
enum st_res store_arith(struct store *s, const char *key, size_t nkey,
			bool incr, uint64_t delta, uint64_t cas_in,
			const struct st_autoviv *av, uint32_t now,
			uint64_t *value, struct st_meta *m);

/* when == 0: drop everything now. Otherwise items last touched at or before
 * `when` are invisible once the clock reaches `when` (memcached's rule; it
 * may already have). */
void store_flush(struct store *s, uint32_t now, uint32_t when);

void store_stats(struct store *s, struct store_stats *out);

/* Per size class, for "stats slabs" / "stats items" (memcached's names).
 * Class 0 holds the items too big for a slab chunk (chunk_size 0, pages
 * 0). */
struct store_class {
	uint32_t chunk_size, per_page;
	uint32_t pages;
	uint64_t items;
	uint32_t oldest_atime;	/* last access of the oldest LRU tail, 0 = none */
	uint64_t mem_requested;	/* sizes its items asked the allocator for:
				 * memcached's (item_class_size), the
				 * chunk holds irqlab-kv's smaller item */
	uint64_t evicted, evicted_nonzero, evicted_time, outofmemory;
	uint64_t reclaimed, expired_unfetched, evicted_unfetched;
	uint64_t get_hits, cmd_set, delete_hits, incr_hits, decr_hits,
		 cas_hits, cas_badval, touch_hits;
	uint64_t crawler_reclaimed, crawler_items_checked;
};
int store_classes(const struct store *s);
void store_class_stats(struct store *s, int cls, struct store_class *out);

/* ---- memcached's admin commands ---- */

/* "slabs reassign src dst": a page of class src (-1: any class with a
 * page to spare) goes to class dst, its items evicted. memcached's
 * checks, in its order: src == dst, class ids, src has fewer than 2 pages
 * (or its only spare page holds the item being stored). */
enum st_reassign { ST_RA_OK, ST_RA_SAME, ST_RA_BADCLASS, ST_RA_NOSPARE };
enum st_reassign store_reassign(struct store *s, int src, int dst, uint32_t now);
/* "slabs automove 0|1|2": 0 moves a page to a class only when it has
 * nothing to evict; 1 and 2 also when another class's oldest item is
 * older than its own (checked every page's worth of evictions). */
void store_set_automove(struct store *s, int mode);
int store_automove(const struct store *s);
/* "lru_crawler crawl": frees every dead (expired or flushed) item of
 * class cls, counted as crawler_reclaimed; returns how many. */
uint64_t store_crawl(struct store *s, int cls, uint32_t now);

/* "stats sizes_enable" (counts the items stored from then on, as
 * memcached does), "stats sizes_disable", "stats sizes": "STAT <size>
 * <count>" lines for nonzero buckets, or false while disabled. */
void store_sizes_enable(struct store *s);
void store_sizes_disable(struct store *s);
bool store_sizes(struct store *s, struct buf *o);

/* An item as the dumps show it. */
struct st_item_info {
	const char *key;
	size_t nkey;
	uint32_t nbytes, exptime, atime, size;
	uint64_t cas;
	bool fetched;
	int cls;
};
/* Calls fn for the live items of class cls, most recent first, shard by
 * shard, under the shard's lock (fn must not call the store); stops when
 * fn returns false. */
void store_walk(struct store *s, int cls, uint32_t now,
		bool (*fn)(void *arg, const struct st_item_info *it), void *arg);

#endif
