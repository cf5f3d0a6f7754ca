/* Counters and "stats" replies (see stats.h for how counting, reading and
 * resetting stay race-free). */
#include "stats.h"

#include <inttypes.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "kv.h"
#include "prefix.h"
#include "settings.h"

static const struct {
	const char *name;
	size_t off;
	int flags;
} rows[] = {
#define KV_STAT_ROW(name, flags) { #name, offsetof(struct kv_stats, name), flags },
	KV_STATS(KV_STAT_ROW)
#undef KV_STAT_ROW
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

/* Guards every thread's base (kv_thread.base). */
static pthread_mutex_t base_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t *field(struct kv_stats *s, size_t row)
{
	return (uint64_t *)((char *)s + rows[row].off);
}

/* Thread t's counters since the last reset, added to out. Caller holds
 * base_lock. */
static void do_add_thread(struct kv_thread *t, struct kv_stats *out)
{
	for (size_t r = 0; r < NROWS; r++)
		*field(out, r) += __atomic_load_n(field(&t->st, r), __ATOMIC_RELAXED) -
				  *field(&t->base, r);
}

void kv_stats_sum(struct kv_stats *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&base_lock);
	for (int i = 0; i < kv_nthreads; i++)
		do_add_thread(&kv_threads[i], out);
	pthread_mutex_unlock(&base_lock);
}

static void thread_stats(int i, struct kv_stats *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&base_lock);
	do_add_thread(&kv_threads[i], out);
	pthread_mutex_unlock(&base_lock);
}

void kv_stats_reset(void)
{
	pthread_mutex_lock(&base_lock);
	for (int i = 0; i < kv_nthreads; i++)
		for (size_t r = 0; r < NROWS; r++)
			if (!(rows[r].flags & KV_S_KEEP))
				*field(&kv_threads[i].base, r) =
					__atomic_load_n(field(&kv_threads[i].st, r), __ATOMIC_RELAXED);
	pthread_mutex_unlock(&base_lock);
}

static void stat_u(struct buf *o, const char *name, uint64_t v)
{
	char line[160];
	int n = snprintf(line, sizeof(line), "STAT %s %" PRIu64 "\r\n", name, v);

	buf_add(o, line, (size_t)n);
}

static void stat_s(struct buf *o, const char *name, const char *v)
{
	char line[300];
	int n = snprintf(line, sizeof(line), "STAT %s %s\r\n", name, v);

	buf_add(o, line, (size_t)n);
}

/* The counters of the table that carry `flag`, named prefix + name. */
static void stat_rows(struct buf *o, struct kv_stats *s, int flag, const char *prefix)
{
	char name[96];

	for (size_t r = 0; r < NROWS; r++)
		if (rows[r].flags & flag) {
			snprintf(name, sizeof(name), "%s%s", prefix, rows[r].name);
			stat_u(o, name, *field(s, r));
		}
}

static void stat_rusage(struct buf *o)
{
	struct rusage ru;
	char v[64];

	getrusage(RUSAGE_SELF, &ru);
	snprintf(v, sizeof(v), "%ld.%06ld", (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec);
	stat_s(o, "rusage_user", v);
	snprintf(v, sizeof(v), "%ld.%06ld", (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec);
	stat_s(o, "rusage_system", v);
}

static void stat_store(struct buf *o)
{
	struct store_stats ss;

	store_stats(kv_store, &ss);
	stat_u(o, "limit_maxbytes", ss.mem_limit);
	stat_u(o, "threads", (uint64_t)kv_set.threads);
	stat_u(o, "hash_bytes", ss.hash_buckets * sizeof(void *));
	stat_u(o, "bytes", ss.bytes);
	stat_u(o, "curr_items", ss.curr_items);
	stat_u(o, "total_items", ss.total_items);
	stat_u(o, "expired_unfetched", ss.expired_unfetched);
	stat_u(o, "evicted_unfetched", ss.evicted_unfetched);
	stat_u(o, "evictions", ss.evictions);
	stat_u(o, "reclaimed", ss.reclaimed);
	stat_u(o, "slab_pages", ss.pages);
	stat_u(o, "slabs_moved", ss.slabs_moved);
	stat_u(o, "malloced_bytes", ss.mem_used);
}

/* memcached's names for the listener's state: accepting_conns is 0 while
 * the listener is not polled for lack of fds, listen_disabled_num counts
 * those pauses (clients refused with the reserved fd count as
 * rejected_connections). */
static void stat_listen(struct buf *o)
{
	struct il_group_stats gs = { .accepting = true };

	if (kv_group)
		il_group_stats(kv_group, &gs);
	stat_u(o, "accepting_conns", gs.accepting);
	stat_u(o, "listen_disabled_num", gs.listen_disabled);
}

void kv_stats_general(struct buf *o)
{
	struct kv_stats t;

	kv_stats_sum(&t);
	stat_u(o, "pid", (uint64_t)getpid());
	stat_u(o, "uptime", kv_clock() - 2);
	stat_u(o, "time", (uint64_t)time(NULL));
	stat_s(o, "version", KV_VERSION);
	stat_u(o, "pointer_size", sizeof(void *) * 8);
	stat_rusage(o);
	stat_u(o, "max_connections", (uint64_t)kv_set.maxconns);
	stat_u(o, "curr_connections", (uint64_t)__atomic_load_n(&kv_curr_conns, __ATOMIC_RELAXED));
	stat_listen(o);
	stat_u(o, "read_buf_bytes", __atomic_load_n(&kv_read_buf_bytes, __ATOMIC_RELAXED));
	stat_rows(o, &t, KV_S_GENERAL, "");
	stat_store(o);
	kv_stats_irqlab(o);
}

/* One thread's loop and connection counters. */
static void stat_thread(struct buf *o, int i)
{
	const struct il_loop *l = il_group_loop(kv_group, i);
	struct il_loop_stats ls;
	struct kv_stats t;
	char name[64];

	il_loop_stats(l, &ls);
	const struct {
		const char *n;
		uint64_t v;
	} f[] = {
		{ "conns", (uint64_t)ls.conns },
		{ "conns_total", ls.conns_total },
		{ "handoffs", ls.handoffs },
		{ "epoll_waits", ls.waits },
		{ "epoll_events", ls.events },
		{ "epoll_zero_spins", ls.spins },
		{ "napi_id", ls.napi_id },
	};

	snprintf(name, sizeof(name), "irqlab_thread%d_cpu", i);
	if (il_loop_cpu(l) < 0)
		stat_s(o, name, "any");
	else
		stat_u(o, name, (uint64_t)il_loop_cpu(l));
	for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++) {
		snprintf(name, sizeof(name), "irqlab_thread%d_%s", i, f[k].n);
		stat_u(o, name, f[k].v);
	}
	thread_stats(i, &t);
	snprintf(name, sizeof(name), "irqlab_thread%d_", i);
	stat_rows(o, &t, KV_S_THREAD, name);
}

/* irqlab's own counters, also at the end of "stats". */
void kv_stats_irqlab(struct buf *o)
{
	struct il_group_stats gs;
	struct kv_stats t;
	char v[256];

	if (kv_group) {
		il_group_stats(kv_group, &gs);
		il_mode_format(il_group_mode(kv_group), v, sizeof(v));
		stat_s(o, "irqlab_mode", v);
		stat_u(o, "irqlab_napis_configured", (uint64_t)kv_set.napis_configured);
		stat_u(o, "irqlab_accepted", gs.accepted);
		stat_u(o, "irqlab_steer_by_napi", gs.by_napi);
		stat_u(o, "irqlab_steer_first_come", gs.first_come);
		stat_u(o, "irqlab_steer_round_robin", gs.round_robin);
		kv_stats_sum(&t);
		stat_rows(o, &t, KV_S_IRQLAB, "irqlab_");
		for (int i = 0; i < il_group_size(kv_group); i++)
			stat_thread(o, i);
	}
	buf_adds(o, "END\r\n");
}

/* "1,3" for --cpus 1,3; "NULL" when unpinned (memcached's word for unset). */
static void cpu_list(char *v, size_t len)
{
	size_t n = 0;

	snprintf(v, len, "NULL");
	for (int i = 0; i < kv_set.ncpus && n < len; i++)
		n += (size_t)snprintf(v + n, len - n, "%s%d", i ? "," : "", kv_set.cpus[i]);
}

void kv_stats_settings(struct buf *o)
{
	char v[256];

	stat_u(o, "maxbytes", kv_set.mem_mb * 1024 * 1024);
	stat_u(o, "maxconns", (uint64_t)kv_set.maxconns);
	stat_u(o, "tcpport", (uint64_t)kv_set.port);
	stat_u(o, "udpport", 0);
	stat_s(o, "inter", kv_set.listen[0] ? kv_set.listen : "NULL");
	stat_u(o, "verbosity", (uint64_t)kv_verbosity());
	stat_s(o, "evictions", "on");
	stat_u(o, "num_threads", (uint64_t)kv_set.threads);
	stat_s(o, "stat_key_prefix", ":");
	stat_s(o, "detail_enabled", kv_detail() ? "yes" : "no");
	stat_s(o, "cas_enabled", "yes");
	snprintf(v, sizeof(v), "%.2f", kv_set.factor);
	stat_s(o, "growth_factor", v);
	stat_u(o, "chunk_size", (uint64_t)kv_set.chunk_min);
	stat_u(o, "item_size_max", kv_set.item_max);
	if (kv_store)
		stat_u(o, "slab_automove", (uint64_t)store_automove(kv_store));
	if (kv_store) {
		struct store_class sc;

		store_class_stats(kv_store, store_classes(kv_store) - 1, &sc);
		stat_u(o, "slab_chunk_max", sc.chunk_size);
	}
	stat_s(o, "flush_enabled", "yes");
	stat_u(o, "idle_timeout", (uint64_t)kv_set.idle_timeout);
	stat_u(o, "read_buf_mem_limit", kv_set.read_buf_mb * 1024 * 1024);
	il_mode_format(&kv_set.mode, v, sizeof(v));
	stat_s(o, "irqlab_mode", v);
	stat_s(o, "irqlab_dev", kv_set.dev[0] ? kv_set.dev : "NULL");
	cpu_list(v, sizeof(v));
	stat_s(o, "irqlab_cpus", v);
	buf_adds(o, "END\r\n");
}

/* "N:name value" / "items:N:name value" lines of class c. */
static void stat_cls(struct buf *o, const char *prefix, int c, const char *field, uint64_t v)
{
	char name[64];

	snprintf(name, sizeof(name), "%s%d:%s", prefix, c, field);
	stat_u(o, name, v);
}

/* memcached's "stats slabs": one block per size class that has pages, in
 * memcached 1.6.18's order and names (free_chunks_end is 0 there too: a
 * page is cut into chunks when it is assigned). */
void kv_stats_slabs(struct buf *o)
{
	struct store_stats ss;
	int active = 0;

	for (int c = 1; c < store_classes(kv_store); c++) {
		struct store_class sc;
		uint64_t total;

		store_class_stats(kv_store, c, &sc);
		if (!sc.pages)
			continue;
		active++;
		total = (uint64_t)sc.pages * sc.per_page;
		stat_cls(o, "", c, "chunk_size", sc.chunk_size);
		stat_cls(o, "", c, "chunks_per_page", sc.per_page);
		stat_cls(o, "", c, "total_pages", sc.pages);
		stat_cls(o, "", c, "total_chunks", total);
		stat_cls(o, "", c, "used_chunks", sc.items);
		stat_cls(o, "", c, "free_chunks", total - sc.items);
		stat_cls(o, "", c, "free_chunks_end", 0);
		stat_cls(o, "", c, "get_hits", sc.get_hits);
		stat_cls(o, "", c, "cmd_set", sc.cmd_set);
		stat_cls(o, "", c, "delete_hits", sc.delete_hits);
		stat_cls(o, "", c, "incr_hits", sc.incr_hits);
		stat_cls(o, "", c, "decr_hits", sc.decr_hits);
		stat_cls(o, "", c, "cas_hits", sc.cas_hits);
		stat_cls(o, "", c, "cas_badval", sc.cas_badval);
		stat_cls(o, "", c, "touch_hits", sc.touch_hits);
	}
	store_stats(kv_store, &ss);
	stat_u(o, "active_slabs", (uint64_t)active);
	stat_u(o, "total_malloced", ss.mem_used);
	buf_adds(o, "END\r\n");
}

/* memcached's "stats items": per class with items, the counters memcached
 * 1.6.18 prints that irqlab-kv has (one LRU per class, no hot/warm/cold
 * segments and no background crawler, so those lines are left out rather
 * than printed as zeros); class 0 holds the items too big for a slab
 * chunk. */
void kv_stats_items(struct buf *o)
{
	uint32_t now = kv_clock();

	for (int c = 0; c < store_classes(kv_store); c++) {
		struct store_class sc;

		store_class_stats(kv_store, c, &sc);
		if (!sc.items)	/* as memcached: classes holding items */
			continue;
		stat_cls(o, "items:", c, "number", sc.items);
		stat_cls(o, "items:", c, "age", now > sc.oldest_atime ? now - sc.oldest_atime : 0);
		stat_cls(o, "items:", c, "mem_requested", sc.mem_requested);
		stat_cls(o, "items:", c, "evicted", sc.evicted);
		stat_cls(o, "items:", c, "evicted_nonzero", sc.evicted_nonzero);
		stat_cls(o, "items:", c, "evicted_time", sc.evicted_time);
		stat_cls(o, "items:", c, "outofmemory", sc.outofmemory);
		stat_cls(o, "items:", c, "reclaimed", sc.reclaimed);
		stat_cls(o, "items:", c, "expired_unfetched", sc.expired_unfetched);
		stat_cls(o, "items:", c, "evicted_unfetched", sc.evicted_unfetched);
		stat_cls(o, "items:", c, "crawler_reclaimed", sc.crawler_reclaimed);
		stat_cls(o, "items:", c, "crawler_items_checked", sc.crawler_items_checked);
	}
	buf_adds(o, "END\r\n");
}
