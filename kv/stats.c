/* Statistics, settings and the server clock. Counters are per thread and
 * summed here without locks: a report can be off by requests in flight. */
#include "stats.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "kv.h"

struct kv_settings kv_set = {
	.port = 11211,
	.listen = "",
	.threads = 4,
	.mem_mb = 64,
	.maxconns = 1024,
	.item_max = 1024 * 1024,
};
struct store *kv_store;
struct il_group *kv_group;
struct kv_thread *kv_threads;
time_t kv_started;
volatile int kv_curr_conns;

static time_t mono_base;

static time_t mono_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec;
}

void kv_clock_init(void)
{
	/* like memcached: start at 2 so "1" can mean "already expired" */
	kv_started = time(NULL) - 2;
	mono_base = mono_sec() - 2;
}

uint32_t kv_clock(void)
{
	return (uint32_t)(mono_sec() - mono_base);
}

#define MAXDELTA (60 * 60 * 24 * 30)

uint32_t kv_realtime(int64_t exptime, uint32_t now)
{
	if (exptime == 0)
		return 0;
	if (exptime < 0)
		return 1;
	if (exptime > MAXDELTA) {
		if (exptime <= kv_started)
			return 1;
		return (uint32_t)(exptime - kv_started);
	}
	return (uint32_t)exptime + now;
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

static void sum(struct kv_stats *t)
{
	memset(t, 0, sizeof(*t));
	for (int i = 0; kv_group && i < kv_group->n; i++) {
		const uint64_t *s = (const uint64_t *)&kv_threads[i].st;
		uint64_t *d = (uint64_t *)t;

		for (size_t k = 0; k < sizeof(*t) / sizeof(uint64_t); k++)
			d[k] += s[k];
	}
}

void stats_general(struct buf *o)
{
	struct kv_stats t;
	struct store_stats ss;
	struct rusage ru;
	char v[64];

	sum(&t);
	store_stats(kv_store, &ss);
	getrusage(RUSAGE_SELF, &ru);
	stat_u(o, "pid", (uint64_t)getpid());
	stat_u(o, "uptime", kv_clock() - 2);
	stat_u(o, "time", (uint64_t)time(NULL));
	stat_s(o, "version", KV_VERSION);
	stat_u(o, "pointer_size", sizeof(void *) * 8);
	snprintf(v, sizeof(v), "%ld.%06ld", (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec);
	stat_s(o, "rusage_user", v);
	snprintf(v, sizeof(v), "%ld.%06ld", (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec);
	stat_s(o, "rusage_system", v);
	stat_u(o, "max_connections", (uint64_t)kv_set.maxconns);
	stat_u(o, "curr_connections", (uint64_t)__atomic_load_n(&kv_curr_conns, __ATOMIC_RELAXED));
	stat_u(o, "total_connections", t.total_connections);
	stat_u(o, "rejected_connections", t.rejected_connections);
	stat_u(o, "cmd_get", t.cmd_get);
	stat_u(o, "cmd_set", t.cmd_set);
	stat_u(o, "cmd_flush", t.cmd_flush);
	stat_u(o, "cmd_touch", t.cmd_touch);
	stat_u(o, "cmd_meta", t.cmd_meta);
	stat_u(o, "get_hits", t.get_hits);
	stat_u(o, "get_misses", t.get_misses);
	stat_u(o, "delete_misses", t.delete_misses);
	stat_u(o, "delete_hits", t.delete_hits);
	stat_u(o, "incr_misses", t.incr_misses);
	stat_u(o, "incr_hits", t.incr_hits);
	stat_u(o, "decr_misses", t.decr_misses);
	stat_u(o, "decr_hits", t.decr_hits);
	stat_u(o, "cas_misses", t.cas_misses);
	stat_u(o, "cas_hits", t.cas_hits);
	stat_u(o, "cas_badval", t.cas_badval);
	stat_u(o, "touch_hits", t.touch_hits);
	stat_u(o, "touch_misses", t.touch_misses);
	stat_u(o, "store_too_large", t.store_too_large);
	stat_u(o, "store_no_memory", t.store_no_memory);
	stat_u(o, "bytes_read", t.bytes_read);
	stat_u(o, "bytes_written", t.bytes_written);
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
	stats_irqlab(o);
}

/* irqlab's own counters, also alone as "stats irqlab". */
void stats_irqlab(struct buf *o)
{
	char v[256], name[64];

	if (kv_group) {
		il_mode_format(&kv_group->mode, v, sizeof(v));
		stat_s(o, "irqlab_mode", v);
		stat_u(o, "irqlab_napis_configured", (uint64_t)kv_set.napis_configured);
		stat_u(o, "irqlab_accepted", kv_group->accepted);
		stat_u(o, "irqlab_steer_by_napi", kv_group->steer.by_napi);
		stat_u(o, "irqlab_steer_first_come", kv_group->steer.first_come);
		stat_u(o, "irqlab_steer_round_robin", kv_group->steer.round_robin);
		for (int i = 0; i < kv_group->n; i++) {
			const struct il_loop *l = &kv_group->loops[i];
			const struct {
				const char *n;
				uint64_t v;
			} f[] = {
				{ "cpu", (uint64_t)(int64_t)l->cpu },
				{ "conns", (uint64_t)l->st.conns },
				{ "conns_total", l->st.conns_total },
				{ "handoffs", l->st.handoffs },
				{ "epoll_waits", l->st.waits },
				{ "epoll_events", l->st.events },
				{ "epoll_zero_spins", l->st.spins },
				{ "napi_id", l->napi_seen },
				{ "reads", kv_threads[i].st.reads },
				{ "writes", kv_threads[i].st.writes },
			};

			for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++) {
				snprintf(name, sizeof(name), "irqlab_thread%d_%s", i, f[k].n);
				if (k == 0 && l->cpu < 0)
					stat_s(o, name, "any");
				else
					stat_u(o, name, f[k].v);
			}
		}
	}
	buf_adds(o, "END\r\n");
}

void stats_settings(struct buf *o)
{
	char v[256];

	stat_u(o, "maxbytes", kv_set.mem_mb * 1024 * 1024);
	stat_u(o, "maxconns", (uint64_t)kv_set.maxconns);
	stat_u(o, "tcpport", (uint64_t)kv_set.port);
	stat_u(o, "udpport", 0);
	stat_s(o, "inter", kv_set.listen[0] ? kv_set.listen : "NULL");
	stat_u(o, "verbosity", (uint64_t)kv_set.verbose);
	stat_s(o, "evictions", "on");
	stat_u(o, "num_threads", (uint64_t)kv_set.threads);
	stat_s(o, "cas_enabled", "yes");
	stat_u(o, "item_size_max", kv_set.item_max);
	stat_s(o, "flush_enabled", "yes");
	il_mode_format(&kv_set.mode, v, sizeof(v));
	stat_s(o, "irqlab_mode", v);
	stat_s(o, "irqlab_dev", kv_set.dev[0] ? kv_set.dev : "NULL");
	buf_adds(o, "END\r\n");
}

/* memcached's "stats slabs": one block per size class that has pages. */
void stats_slabs(struct buf *o)
{
	struct store_stats ss;
	char name[64];
	int active = 0;

	for (int c = 1; c < store_classes(kv_store); c++) {
		struct store_class sc;
		uint64_t per_page;

		store_class_stats(kv_store, c, &sc);
		if (!sc.pages)
			continue;
		active++;
		per_page = 65536 / sc.chunk_size;
#define SLAB_STAT(field, v) \
	do { snprintf(name, sizeof(name), "%d:%s", c, field); stat_u(o, name, v); } while (0)
		SLAB_STAT("chunk_size", sc.chunk_size);
		SLAB_STAT("chunks_per_page", per_page);
		SLAB_STAT("total_pages", sc.pages);
		SLAB_STAT("total_chunks", sc.pages * per_page);
		SLAB_STAT("used_chunks", sc.items);
		SLAB_STAT("free_chunks", sc.pages * per_page - sc.items);
#undef SLAB_STAT
	}
	store_stats(kv_store, &ss);
	stat_u(o, "active_slabs", (uint64_t)active);
	stat_u(o, "total_malloced", ss.mem_used);
	buf_adds(o, "END\r\n");
}

/* memcached's "stats items": item count and LRU-tail age per class; class
 * 0 holds the items too big for a slab chunk. */
void stats_items(struct buf *o)
{
	uint32_t now = kv_clock();
	char name[64];

	for (int c = 0; c < store_classes(kv_store); c++) {
		struct store_class sc;

		store_class_stats(kv_store, c, &sc);
		if (!sc.items)
			continue;
		snprintf(name, sizeof(name), "items:%d:number", c);
		stat_u(o, name, sc.items);
		snprintf(name, sizeof(name), "items:%d:age", c);
		stat_u(o, name, now > sc.oldest_atime ? now - sc.oldest_atime : 0);
	}
	buf_adds(o, "END\r\n");
}

void stats_reset(void)
{
	for (int i = 0; kv_group && i < kv_group->n; i++) {
		uint64_t tc = kv_threads[i].st.total_connections;

		memset(&kv_threads[i].st, 0, sizeof(kv_threads[i].st));
		kv_threads[i].st.total_connections = tc;
	}
}
