/* Store: hash table, LRU eviction order, memory limit, cas, arithmetic,
 * append/prepend, expiry, flush. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "../../kv/store.h"
#include "../../kv/kv.h"

static struct store *mk(size_t mem, size_t item_max, int shards)
{
	struct store_cfg c = { mem, item_max, shards };

	return store_new(&c);
}

static int has(struct store *s, const char *k, uint32_t now)
{
	return store_get(s, k, strlen(k), now, NULL, NULL, NULL);
}

static enum st_res put(struct store *s, enum st_op op, const char *k,
		       const char *v, uint64_t cas, uint32_t now)
{
	return store_put(s, op, k, strlen(k), 0, 0, v, strlen(v), cas, now, NULL);
}

static const char *val(struct store *s, const char *k)
{
	static struct buf b;
	struct st_meta m;

	b.len = 0;
	if (!store_get(s, k, strlen(k), 10, NULL, &m, &b))
		return "(miss)";
	buf_add(&b, "", 1);
	b.p[m.nbytes] = 0;	/* drop the "\r\n" */
	return b.p;
}

static void test_basic(void)
{
	struct store *s = mk(64 << 20, 1 << 20, 4);
	struct st_meta m;
	uint64_t cas1, cas2, v;
	char key[32];
	int all = 1;

	ok(put(s, ST_SET, "a", "1", 0, 10) == ST_STORED, "set stores");
	is_str(val(s, "a"), "1", "get returns the value");
	ok(put(s, ST_ADD, "a", "2", 0, 10) == ST_NOT_STORED, "add on existing: NOT_STORED");
	ok(put(s, ST_REPLACE, "b", "2", 0, 10) == ST_NOT_STORED, "replace on missing: NOT_STORED");
	ok(put(s, ST_APPEND, "b", "2", 0, 10) == ST_NOT_STORED, "append on missing: NOT_STORED");
	ok(put(s, ST_APPEND, "a", "xy", 0, 10) == ST_STORED &&
	   put(s, ST_PREPEND, "a", "<", 0, 10) == ST_STORED, "append/prepend store");
	is_str(val(s, "a"), "<1xy", "append and prepend land at the ends");

	store_put(s, ST_SET, "c", 1, 7, 0, "v", 1, 0, 10, &cas1);
	ok(store_put(s, ST_CAS, "c", 1, 0, 0, "w", 1, cas1 + 100, 10, NULL) == ST_EXISTS,
	   "cas with a stale unique: EXISTS");
	ok(store_put(s, ST_CAS, "c", 1, 0, 0, "w", 1, cas1, 10, &cas2) == ST_STORED && cas2 > cas1,
	   "cas with the current unique stores and bumps cas");
	ok(store_put(s, ST_CAS, "zz", 2, 0, 0, "w", 1, 1, 10, NULL) == ST_NOT_FOUND,
	   "cas on a missing key: NOT_FOUND");
	ok(store_get(s, "c", 1, 10, NULL, &m, NULL) && m.flags == 0 && m.cas == cas2,
	   "cas replaced flags and unique");
	ok(store_put(s, ST_APPEND, "c", 1, 99, 0, "+", 1, 0, 10, NULL) == ST_STORED &&
	   store_get(s, "c", 1, 10, NULL, &m, NULL) && m.flags == 0,
	   "append keeps the old flags");

	ok(put(s, ST_SET, "n", "18446744073709551615", 0, 10) == ST_STORED &&
	   store_arith(s, "n", 1, true, 2, 0, NULL, 10, &v, NULL) == ST_STORED && v == 1,
	   "incr wraps at 2^64");
	is_str(val(s, "n"), "1                   ", "a shorter result is padded in place");
	ok(store_arith(s, "n", 1, false, 5, 0, NULL, 10, &v, NULL) == ST_STORED && v == 0,
	   "decr stops at 0");
	ok(put(s, ST_SET, "x", "abc", 0, 10) == ST_STORED &&
	   store_arith(s, "x", 1, true, 1, 0, NULL, 10, &v, NULL) == ST_NON_NUMERIC,
	   "incr of a non-number: NON_NUMERIC");
	ok(put(s, ST_SET, "e", "", 0, 10) == ST_STORED &&
	   store_arith(s, "e", 1, true, 1, 0, NULL, 10, &v, NULL) == ST_NON_NUMERIC,
	   "incr of an empty value: NON_NUMERIC (memcached's rule)");
	ok(put(s, ST_SET, "w", "99", 0, 10) == ST_STORED &&
	   store_arith(s, "w", 1, true, 1, 0, NULL, 10, &v, NULL) == ST_STORED && v == 100,
	   "incr growing the number reallocates");
	is_str(val(s, "w"), "100", "grown number stored");
	ok(store_arith(s, "nope", 4, true, 1, 0, NULL, 10, &v, NULL) == ST_NOT_FOUND,
	   "incr of a missing key: NOT_FOUND");
	{
		struct st_autoviv av = { true, 0, 13 };

		ok(store_arith(s, "viv", 3, true, 1, 0, &av, 10, &v, NULL) == ST_STORED && v == 13,
		   "autovivify creates the key with the initial value");
	}

	ok(store_delete(s, "a", 1, 0, 10) == ST_DELETED && !has(s, "a", 10),
	   "delete removes");
	ok(store_delete(s, "a", 1, 0, 10) == ST_NOT_FOUND, "second delete: NOT_FOUND");

	/* expiry: relative exptime 20 is dead at 20 */
	store_put(s, ST_SET, "t", 1, 0, 20, "v", 1, 0, 10, NULL);
	ok(has(s, "t", 19) && !has(s, "t", 20), "item expires at its exptime");
	store_put(s, ST_SET, "t", 1, 0, 20, "v", 1, 0, 10, NULL);
	ok(store_touch(s, "t", 1, 0, 15) == ST_TOUCHED && has(s, "t", 1000),
	   "touch to 0 removes the expiry");

	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "key:%d", i);
		store_put(s, ST_SET, key, strlen(key), (uint32_t)i, 0, key, strlen(key), 0, 10, NULL);
	}
	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "key:%d", i);
		all &= !strcmp(val(s, key), key);
	}
	ok(all, "20000 keys survive hash table growth");
	store_flush(s, 10, 0);
	ok(!has(s, "key:1", 10) && !has(s, "c", 10), "flush_all drops everything");
	store_put(s, ST_SET, "f", 1, 0, 0, "v", 1, 0, 10, NULL);
	store_flush(s, 10, 30);
	ok(has(s, "f", 29) && !has(s, "f", 30), "delayed flush hides items from its time on");
	store_free(s);
}

static void test_lru(void)
{
	/* 1 MB limit, one shard: 16 pages of 64 KiB */
	struct store *s = mk(1 << 20, 512 * 1024, 1);
	struct store_stats st;
	char key[32], value[1000];
	int first_alive = -1, gap = 0;

	memset(value, 'v', sizeof(value));
	int all_stored = 1;

	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		all_stored &= store_put(s, ST_SET, key, strlen(key), 0, 0, value,
					sizeof(value), 0, 10, NULL) == ST_STORED;
	}
	ok(all_stored, "every set under memory pressure stores (by evicting)");
	store_stats(s, &st);
	ok(st.mem_used <= (1 << 20), "memory used %llu <= limit", (unsigned long long)st.mem_used);
	ok(st.evictions > 3000, "evictions happened (%llu)", (unsigned long long)st.evictions);
	for (int i = 1; i < 5000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		if (has(s, key, 10) && first_alive < 0)
			first_alive = i;
		else if (first_alive >= 0 && !has(s, key, 10))
			gap = 1;
	}
	ok(first_alive > 0 && !gap, "evicted in LRU order: k1..k%d gone, the rest kept", first_alive - 1);
	ok(has(s, "k4999", 10), "newest item kept");
	store_put(s, ST_SET, "big", 3, 0, 0, value, 0, 0, 10, NULL);
	{
		static char large[400 * 1024];

		ok(store_put(s, ST_SET, "L", 1, 0, 0, large, sizeof(large), 0, 10, NULL) == ST_STORED &&
		   has(s, "L", 10),
		   "a large item with all memory in small pages: pages are freed for it");
		store_stats(s, &st);
		ok(st.mem_used <= (1 << 20) && st.slabs_moved >= 6,
		   "limit honoured (%llu), %llu pages given up", (unsigned long long)st.mem_used,
		   (unsigned long long)st.slabs_moved);
	}
	ok(store_item_size(10, 100) < 10 + 100 + 64, "item header is compact (%zu bytes for 110)",
	   store_item_size(10, 100));
	ok(store_put(s, ST_SET, "z", 1, 0, 0, value, 600 * 1024, 0, 10, NULL) == ST_TOO_LARGE,
	   "item over the max size: TOO_LARGE");
	store_free(s);

	/* large items are evicted among themselves */
	s = mk(4 << 20, 1 << 20, 1);
	{
		static char large[300 * 1024];
		int stored = 1;

		for (int i = 0; i < 30; i++) {
			snprintf(key, sizeof(key), "L%d", i);
			stored &= store_put(s, ST_SET, key, strlen(key), 0, 0, large,
					    sizeof(large), 0, 10, NULL) == ST_STORED;
		}
		store_stats(s, &st);
		ok(stored && st.mem_used <= (4 << 20) && has(s, "L29", 10) && !has(s, "L0", 10),
		   "large items: limit honoured, oldest evicted");
	}
	store_free(s);
}

/* Many shards, little memory, many size classes: pages are shared, so
 * every set still stores (by evicting, from other shards too). */
static void test_shards(void)
{
	struct store *s = mk(8 << 20, 256 * 1024, 16);
	struct store_stats st;
	static char value[3000];
	char key[32];
	int stored = 1;
	unsigned seed = 7;

	for (int i = 0; i < 20000; i++) {
		size_t n;

		seed = seed * 1103515245 + 12345;
		n = 1 + (seed >> 16) % sizeof(value);
		snprintf(key, sizeof(key), "s%d", i);
		stored &= store_put(s, ST_SET, key, strlen(key), 0, 0, value, n, 0, 10, NULL) == ST_STORED;
	}
	store_stats(s, &st);
	ok(stored, "16 shards, 8 MB, values of 1-3000 bytes: all 20000 sets stored");
	ok(st.mem_used <= (8 << 20) && st.evictions > 0, "limit honoured (%llu bytes), %llu evictions",
	   (unsigned long long)st.mem_used, (unsigned long long)st.evictions);
	store_free(s);
}

static int put_n(struct store *s, const char *prefix, int i, size_t n,
		 uint32_t now)
{
	static char value[300 * 1024];
	char key[32];

	snprintf(key, sizeof(key), "%s%d", prefix, i);
	return store_put(s, ST_SET, key, strlen(key), 0, 0, value, n, 0, now,
			 NULL) == ST_STORED;
}

/* Memory full of one size class, then another: pages move between classes
 * (memcached's slab rebalancing), evicting what they held. */
static void test_rebalance(void)
{
	struct store *s = mk(2 << 20, 512 * 1024, 4);
	struct store_stats st, st2;
	struct store_class sc;
	uint64_t lru_items = 0;
	int stored = 1, hits = 1, i;
	char key[32];

	for (i = 0; i < 400; i++)
		stored &= put_n(s, "big", i, 10000, 10);
	store_stats(s, &st);
	ok(stored && st.mem_used > (2 << 20) - 65536, "2 MB filled with 10 kB values (%llu bytes)",
	   (unsigned long long)st.mem_used);
	for (i = 0; i < 3000; i++)
		stored &= put_n(s, "small", i, 100, 11);
	store_stats(s, &st2);
	ok(stored, "every 100-byte set after that stores");
	ok(st2.slabs_moved > 0 && st2.evictions > st.evictions,
	   "pages moved (%llu), their items counted as evictions (%llu -> %llu)",
	   (unsigned long long)st2.slabs_moved, (unsigned long long)st.evictions,
	   (unsigned long long)st2.evictions);
	for (i = 2900; i < 3000; i++) {
		snprintf(key, sizeof(key), "small%d", i);
		hits &= has(s, key, 11);
	}
	ok(hits, "the last 100 small keys hit");
	ok(st2.mem_used <= (2 << 20), "limit honoured (%llu)", (unsigned long long)st2.mem_used);
	/* every item the table holds is in an LRU, and no more */
	for (int c = 0; c < store_classes(s); c++) {
		store_class_stats(s, c, &sc);
		lru_items += sc.items;
	}
	ok(lru_items == st2.curr_items, "LRUs hold exactly the %llu items (%llu)",
	   (unsigned long long)st2.curr_items, (unsigned long long)lru_items);

	/* then large items (own mallocs): slab pages are freed for them */
	for (i = 0; i < 10; i++)
		stored &= put_n(s, "huge", i, 300 * 1024, 12);
	store_stats(s, &st);
	ok(stored && has(s, "huge9", 12) && st.mem_used <= (2 << 20),
	   "300 kB items after that store too (%llu bytes used)", (unsigned long long)st.mem_used);
	/* and small ones again, taking memory back from the large items */
	for (i = 0; i < 3000; i++)
		stored &= put_n(s, "again", i, 2000, 13);
	store_stats(s, &st);
	ok(stored && has(s, "again2999", 13) && st.mem_used <= (2 << 20),
	   "2 kB items after that store too (%llu bytes used)", (unsigned long long)st.mem_used);
	/* append whose grown item changes class, with memory full */
	ok(store_put(s, ST_APPEND, "again2999", 9, 0, 0, "0123456789", 10, 0, 13, NULL) == ST_STORED,
	   "append under full memory stores");
	/* incr that grows the value with memory full */
	store_put(s, ST_SET, "n", 1, 0, 0, "9", 1, 0, 13, NULL);
	{
		uint64_t v;

		ok(store_arith(s, "n", 1, true, 1, 0, NULL, 13, &v, NULL) == ST_STORED && v == 10,
		   "incr growing the value under full memory stores");
	}
	store_free(s);

	/* values that came and went: their pages hold no items, so the new
	 * class takes them without evicting anything */
	s = mk(2 << 20, 512 * 1024, 4);
	for (i = 0; i < 400; i++)
		put_n(s, "gone", i, 10000, 14);
	for (i = 0; i < 400; i++) {
		snprintf(key, sizeof(key), "gone%d", i);
		store_delete(s, key, strlen(key), 0, 14);
	}
	store_stats(s, &st);
	for (i = 0; i < 5000; i++)
		stored &= put_n(s, "new", i, 100, 15);
	store_stats(s, &st2);
	ok(stored && st2.curr_items == 5000 && st2.evictions == st.evictions &&
	   st2.slabs_moved > 0,
	   "after deletes: 5000 small items stored in freed pages, no eviction (%llu pages moved)",
	   (unsigned long long)st2.slabs_moved);
	store_free(s);

	/* a different second: the balance check moves pages toward the class
	 * whose oldest item is younger, without waiting for it to be empty */
	s = mk(2 << 20, 512 * 1024, 1);
	for (i = 0; i < 400; i++)
		put_n(s, "a", i, 10000, 20);
	for (i = 0; i < 200; i++)
		put_n(s, "b", i, 100, 30);
	store_stats(s, &st);
	for (i = 0; i < 2000; i++)
		stored &= put_n(s, "b", 200 + i, 100, 31 + i / 500);
	store_stats(s, &st2);
	ok(stored && st2.slabs_moved > st.slabs_moved,
	   "older pages of another class keep moving (%llu -> %llu)",
	   (unsigned long long)st.slabs_moved, (unsigned long long)st2.slabs_moved);
	store_free(s);
}

struct hammer {
	struct store *s;
	int id;
	int stored;
};

static void *hammer_fn(void *arg)
{
	struct hammer *h = arg;
	unsigned seed = (unsigned)h->id * 7919u + 1;
	char prefix[8];

	h->stored = 1;
	snprintf(prefix, sizeof(prefix), "t%d-", h->id);
	for (int i = 0; i < 4000; i++) {
		size_t n;

		seed = seed * 1103515245 + 12345;
		/* phases of small, middle and large values, overlapping
		 * between threads */
		switch ((i / 500 + h->id) % 3) {
		case 0: n = 50 + (seed >> 16) % 200; break;
		case 1: n = 3000 + (seed >> 16) % 9000; break;
		default: n = 20000 + (seed >> 16) % 100000; break;
		}
		h->stored &= put_n(h->s, prefix, i % 1000, n, 10 + (uint32_t)i / 1000);
	}
	return NULL;
}

/* Threads whose size classes shift under a small limit: every set stores
 * while pages move between classes and shards (ASan/UBSan watch this). */
static void test_rebalance_threads(void)
{
	struct store *s = mk(4 << 20, 1 << 20, 8);
	struct hammer h[4];
	pthread_t th[4];
	struct store_stats st;
	int stored = 1;

	for (int i = 0; i < 4; i++) {
		h[i].s = s;
		h[i].id = i;
		pthread_create(&th[i], NULL, hammer_fn, &h[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		stored &= h[i].stored;
	}
	store_stats(s, &st);
	ok(stored, "4 threads, 8 shards, 4 MB, shifting sizes: all 16000 sets stored");
	ok(st.mem_used <= (4 << 20) && st.slabs_moved > 0,
	   "limit honoured (%llu), %llu pages moved", (unsigned long long)st.mem_used,
	   (unsigned long long)st.slabs_moved);
	store_free(s);
}

int main(void)
{
	test_basic();
	test_lru();
	test_shards();
	test_rebalance();
	test_rebalance_threads();
	return tap_done();
}
