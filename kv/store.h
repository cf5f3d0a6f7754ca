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

enum st_op { ST_SET, ST_ADD, ST_REPLACE, ST_APPEND, ST_PREPEND, ST_CAS };

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
	uint32_t total;		/* bytes the item occupies */
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
};
int store_classes(const struct store *s);
void store_class_stats(struct store *s, int cls, struct store_class *out);

#endif
