/* Store: hash table, LRU eviction order, memory limit, cas, arithmetic,
 * append/prepend, expiry, flush. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "../../kv/store.h"
#include "../../kv/kv.h"

/* 64 KiB pages, so a few MB hold enough pages to move between classes. */
static struct store *mk(size_t mem, size_t item_max, int shards)
{
	struct store_cfg c = { .mem_limit = mem, .item_max = item_max,
			       .nshards = shards, .page_size = 64 * 1024 };

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

/* Long on purpose: one list of basic cases in TAP order. */
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
 * (memcached's slab rebalancing), evicting what they held.
 * Long on purpose: one scenario, fill then refill, checked step by step. */
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

/* store_new with memcached's layout (1 MiB pages), -n and -f. */
static struct store *mk_mc(size_t mem, int shards, size_t chunk_min, double factor)
{
	struct store_cfg c = { .mem_limit = mem, .item_max = 1 << 20, .nshards = shards,
			       .chunk_min = chunk_min, .factor = factor };

	return store_new(&c);
}

static struct store_class cls(struct store *s, int c)
{
	struct store_class sc;

	store_class_stats(s, c, &sc);
	return sc;
}

/* The class table against memcached 1.6.18's "memcached -vv" (defaults, and
 * -n 8 -f 2), and where items go (checked with "stats items" there). */
static void test_layout(void)
{
	static const uint32_t mc[] = {
		96, 120, 152, 192, 240, 304, 384, 480, 600, 752, 944, 1184, 1480,
		1856, 2320, 2904, 3632, 4544, 5680, 7104, 8880, 11104, 13880, 17352,
		21696, 27120, 33904, 42384, 52984, 66232, 82792, 103496, 129376,
		161720, 202152, 252696, 315872, 394840, 524288 };
	static const uint32_t mc_n8f2[] = {
		56, 112, 224, 448, 896, 1792, 3584, 7168, 14336, 28672, 57344,
		114688, 229376, 524288 };
	static char v[200000];
	struct store *s = mk_mc(64 << 20, 1, 0, 0);
	bool same = store_classes(s) == 40;

	for (int c = 1; same && c < 40; c++)
		same = cls(s, c).chunk_size == mc[c - 1] &&
		       cls(s, c).per_page == (1 << 20) / mc[c - 1];
	ok(same, "default classes: memcached's 39 (96 .. 394840, 524288 bytes; chunks per 1 MiB page)");
	/* 48 + key + 1 + [4 flags] + value + 2 + 8 cas = 96: class 1 */
	memset(v, 'v', sizeof(v));
	store_put(s, ST_SET, "k", 1, 0, 0, v, 36, 0, 10, NULL);
	store_put(s, ST_SET, "l", 1, 0, 0, v, 37, 0, 10, NULL);
	store_put(s, ST_SET, "f", 1, 7, 0, v, 32, 0, 10, NULL);
	store_put(s, ST_SET, "g", 1, 7, 0, v, 33, 0, 10, NULL);
	store_put(s, ST_SET, "b", 1, 0, 0, v, 200000, 0, 10, NULL);
	ok(cls(s, 1).items == 2 && cls(s, 2).items == 2 && cls(s, 35).items == 1,
	   "items go to memcached's class: 96 bytes with or without flags in class 1, 97 in 2, 200 kB in 35");
	ok(cls(s, 1).pages == 1 && cls(s, 35).pages == 1 && cls(s, 3).pages == 0,
	   "a class takes a 1 MiB page when it stores its first item");
	store_free(s);

	s = mk_mc(64 << 20, 1, 8, 2.0);
	same = store_classes(s) == 15;
	for (int c = 1; same && c < 15; c++)
		same = cls(s, c).chunk_size == mc_n8f2[c - 1];
	ok(same, "-n 8 -f 2: memcached's 14 classes (56 .. 229376, 524288)");
	store_free(s);
	s = mk_mc(64 << 20, 1, 48, 1.01);
	ok(store_classes(s) == 64 && cls(s, 63).chunk_size == 512 * 1024 &&
	   cls(s, 62).chunk_size < 2000,
	   "-f 1.01: 63 classes at most, the last one 512 KiB (memcached's table size)");
	store_free(s);
}

/* Expired items' chunks are reused before a new page is taken, in any
 * shard; counted per class as memcached does. */
static void test_reclaim(void)
{
	static char v[100000];
	char k[32];

	memset(v, 'r', sizeof(v));
	for (int shards = 1; shards <= 4; shards *= 4) {
		struct store *s = mk_mc(64 << 20, shards, 0, 0);
		struct store_stats a, b;
		struct store_class sc;
		bool stored = true;
		int c;

		for (int i = 0; i < 40; i++) {
			snprintf(k, sizeof(k), "old%d", i);
			stored &= store_put(s, ST_SET, k, strlen(k), 0, 12, v, sizeof(v), 0, 10,
					    NULL) == ST_STORED;
		}
		store_stats(s, &a);
		for (int i = 0; i < 40; i++) {
			snprintf(k, sizeof(k), "new%d", i);
			stored &= store_put(s, ST_SET, k, strlen(k), 0, 0, v, sizeof(v), 0, 20,
					    NULL) == ST_STORED;
		}
		store_stats(s, &b);
		c = 32;	/* 100 kB values: memcached's class 32, 103496 bytes */
		sc = cls(s, c);
		ok(stored && a.mem_used == 4 << 20 && b.mem_used == a.mem_used,
		   "%d shard(s): 40 expired 100 kB items replaced by 40 new ones: %llu -> %llu bytes malloced",
		   shards, (unsigned long long)a.mem_used, (unsigned long long)b.mem_used);
		ok(sc.reclaimed == 40 && sc.expired_unfetched == 40 && sc.evicted == 0 &&
		   sc.items == 40 && b.reclaimed == 40,
		   "%d shard(s): class %d reclaimed %llu, expired_unfetched %llu, evicted %llu",
		   shards, c, (unsigned long long)sc.reclaimed,
		   (unsigned long long)sc.expired_unfetched, (unsigned long long)sc.evicted);
		store_free(s);
	}
}

/* memcached's per-class counters of "stats slabs" and "stats items". */
static void test_class_counters(void)
{
	struct store *s = mk_mc(2 << 20, 1, 0, 0);
	static char v[300000];
	struct store_class sc;
	uint64_t cas = 0, n;

	memset(v, '1', 10);
	store_put(s, ST_SET, "a", 1, 0, 0, v, 5, 0, 10, &cas);		/* class 1 */
	store_put(s, ST_ADD, "a", 1, 0, 0, v, 5, 0, 10, NULL);		/* not stored */
	store_put(s, ST_CAS, "a", 1, 0, 0, v, 5, cas + 9, 10, NULL);	/* badval */
	store_put(s, ST_CAS, "a", 1, 0, 0, v, 5, cas, 10, NULL);	/* hit */
	store_get(s, "a", 1, 10, NULL, NULL, NULL);
	store_get(s, "a", 1, 10, (const uint32_t[]){ 0 }, NULL, NULL);	/* gat */
	store_touch(s, "a", 1, 0, 10);
	store_arith(s, "a", 1, true, 1, 0, NULL, 10, &n, NULL);
	store_arith(s, "a", 1, false, 1, 0, NULL, 10, &n, NULL);
	store_delete(s, "a", 1, 0, 10);
	sc = cls(s, 1);
	ok(sc.cmd_set == 4 && sc.get_hits == 1 && sc.touch_hits == 2 && sc.cas_hits == 1 &&
	   sc.cas_badval == 1 && sc.incr_hits == 1 && sc.decr_hits == 1 && sc.delete_hits == 1,
	   "class 1: cmd_set 4, get_hits 1, touch_hits 2, cas 1/1, incr 1, decr 1, delete 1 "
	   "(%llu %llu %llu %llu/%llu %llu %llu %llu)",
	   (unsigned long long)sc.cmd_set, (unsigned long long)sc.get_hits,
	   (unsigned long long)sc.touch_hits, (unsigned long long)sc.cas_hits,
	   (unsigned long long)sc.cas_badval, (unsigned long long)sc.incr_hits,
	   (unsigned long long)sc.decr_hits, (unsigned long long)sc.delete_hits);
	/* 2 MB: two 1 MiB pages; 300 kB values (class 37, 3 a page) evict
	 * each other, the oldest first: the one with a ttl, set 5 s before */
	memset(v, 'e', sizeof(v));
	store_put(s, ST_SET, "t", 1, 0, 100, v, sizeof(v), 0, 10, NULL);
	for (int i = 0; i < 8 && !cls(s, 37).evicted; i++) {
		char k[16];

		snprintf(k, sizeof(k), "e%d", i);
		store_put(s, ST_SET, k, strlen(k), 0, 0, v, sizeof(v), 0, 15, NULL);
	}
	sc = cls(s, 37);
	ok(sc.evicted == 1 && sc.evicted_nonzero == 1 && sc.evicted_time == 5 &&
	   sc.evicted_unfetched == 1 && !has(s, "t", 15) &&
	   sc.mem_requested == sc.items * (48 + 2 + 1 + sizeof(v) + 2 + 8),
	   "class 37: the first eviction counted (evicted %llu, nonzero %llu, evicted_time %llu s), "
	   "mem_requested %llu for %llu items",
	   (unsigned long long)sc.evicted, (unsigned long long)sc.evicted_nonzero,
	   (unsigned long long)sc.evicted_time, (unsigned long long)sc.mem_requested,
	   (unsigned long long)sc.items);
	store_free(s);
	/* an item that cannot fit (1.5 MB, 1 MB of memory): outofmemory of
	 * its class (0: too big for a chunk) */
	{
		struct store_cfg c = { .mem_limit = 1 << 20, .item_max = 2 << 20, .nshards = 1 };
		static char big[1500 * 1024];

		s = store_new(&c);
		ok(store_put(s, ST_SET, "h", 1, 0, 0, big, sizeof(big), 0, 15, NULL) == ST_NO_MEMORY &&
		   cls(s, 0).outofmemory == 1, "an item larger than the memory: outofmemory 1 in class 0");
	}
	store_free(s);
}

/* Items above the largest class take a whole slab page (1 MiB), and a
 * page they free is reused by any class: the heap only holds pages. */
static void test_large_pages(void)
{
	static char large[1000 * 1024], small[1000];
	struct store_cfg c = { .mem_limit = 8 << 20, .item_max = 1 << 20, .nshards = 1 };
	struct store *s = store_new(&c);
	struct store_stats st;
	char key[32];
	int stored = 1;

	memset(large, 'l', sizeof(large));
	memset(small, 's', sizeof(small));
	stored &= put(s, ST_SET, "big", "x", 0, 10) == ST_STORED;	/* a small page */
	stored &= store_put(s, ST_SET, "big", 3, 0, 0, large, 600 * 1024, 0, 10, NULL) ==
		  ST_STORED;
	store_stats(s, &st);
	ok(stored && st.mem_used == 2u << 20,
	   "a 600 KB item takes one 1 MiB page (%llu bytes in use, 2 pages)",
	   (unsigned long long)st.mem_used);
	store_delete(s, "big", 3, 0, 10);
	for (int i = 0; i < 500; i++) {	/* under one page of 1000-byte items */
		snprintf(key, sizeof(key), "s%d", i);
		stored &= store_put(s, ST_SET, key, strlen(key), 0, 0, small, sizeof(small), 0, 10,
				    NULL) == ST_STORED;
	}
	store_stats(s, &st);
	ok(stored && st.mem_used == 2u << 20,
	   "its page, freed, is reused by another class (%llu bytes)", (unsigned long long)st.mem_used);
	for (int i = 0; i < 400; i++) {
		snprintf(key, sizeof(key), "L%d", i % 40);
		stored &= store_put(s, ST_SET, key, strlen(key), 0, 0, large,
				    (size_t)(100 * 1024 + (i * 7919) % (900 * 1024)), 0, 10, NULL) ==
			  ST_STORED;
	}
	store_stats(s, &st);
	ok(stored && st.mem_used <= (size_t)8 << 20 && st.mem_used % (1 << 20) == 0,
	   "400 sets of 100-1000 KB: every set stored, only whole pages (%llu bytes <= 8 MiB)",
	   (unsigned long long)st.mem_used);
	store_free(s);
}

int main(void)
{
	test_basic();
	test_lru();
	test_shards();
	test_rebalance();
	test_rebalance_threads();
	test_layout();
	test_reclaim();
	test_class_counters();
	test_large_pages();
	return tap_done();
}
