/* Store: hash table, LRU eviction order, memory limit, cas, arithmetic,
 * append/prepend, expiry, flush. */
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

		ok(store_put(s, ST_SET, "L", 1, 0, 0, large, sizeof(large), 0, 10, NULL) == ST_NO_MEMORY,
		   "a large item with all memory in small pages: out of memory");
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

static void test_numbers(void)
{
	uint64_t v;
	const char *good[] = { "0", "12", " 12", "+5", "18446744073709551615", "-0", "7 " };
	const char *bad[] = { "", "x", "1x", "0x1", "-1", "18446744073709551616", " ", "+" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(kv_strtoull(good[i], good[i] + strlen(good[i]), &v), "number '%s' accepted", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(!kv_strtoull(bad[i], bad[i] + strlen(bad[i]), &v), "number '%s' refused", bad[i]);
}

int main(void)
{
	test_basic();
	test_lru();
	test_shards();
	test_numbers();
	return tap_done();
}
