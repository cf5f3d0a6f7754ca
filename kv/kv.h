/* irqlab-kv's shared state: settings, per-thread context and counters,
 * server time. */
#ifndef KV_KV_H
#define KV_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "irqlab/loop.h"
#include "irqlab/mode.h"
#include "store.h"

#define KV_VERSION "1.6.18"	/* the memcached release we answer like */
#define KV_LINE_MAX 2048	/* longest command line without "\n" */
#define KV_GET_LINE_MAX (1024 * 1024)	/* long multi-gets, bounded */
/* Output bounds per connection. Commands are not parsed while more than
 * KV_OUT_HIGH bytes of replies wait to be sent (the client is not read
 * either): a client that pipelines requests without reading its replies
 * holds at most this plus one command's replies. One get's replies are
 * capped at KV_GET_OUT_MAX (plus the value that crosses it): beyond, the
 * get answers "SERVER_ERROR out of memory writing get response". */
#define KV_OUT_HIGH (1024 * 1024)
#define KV_GET_OUT_MAX (64 * 1024 * 1024)

struct kv_settings {
	int port;
	char listen[64];
	int threads;
	size_t mem_mb;
	int maxconns;
	size_t item_max;
	int verbose;
	struct il_mode mode;
	char mode_spec[128];
	char dev[32];
	int cpus[IL_LOOP_MAX];
	int ncpus;
	int napis_configured;	/* NAPIs the mode was applied to */
};

/* Counters one thread owns; "stats" sums them without locks (a report
 * may be off by a request in flight). */
struct kv_stats {
	uint64_t cmd_get, get_hits, get_misses, cmd_set, cmd_touch, touch_hits,
		 touch_misses, delete_hits, delete_misses, incr_hits,
		 incr_misses, decr_hits, decr_misses, cas_hits, cas_misses,
		 cas_badval, cmd_flush, cmd_meta, bytes_read, bytes_written,
		 store_too_large, store_no_memory, get_out_of_memory, total_connections,
		 rejected_connections, reads, writes;
};

struct conn;

struct kv_thread {
	struct il_loop *loop;
	struct conn *conns;	/* open connections, for shutdown */
	struct store *store;
	uint32_t now;		/* relative seconds, refreshed per event */
	struct kv_stats st;
};

extern struct kv_settings kv_set;
extern struct store *kv_store;
extern struct il_group *kv_group;
extern struct kv_thread *kv_threads;	/* one per loop */
extern time_t kv_started;		/* unix time of relative second 0 */
extern volatile int kv_curr_conns;

/* Relative seconds since kv_started (monotonic). */
uint32_t kv_clock(void);
/* memcached's exptime rule: 0 never, negative = already expired, up to 30
 * days relative, beyond that a unix time. Returns relative time. */
uint32_t kv_realtime(int64_t exptime, uint32_t now);
/* Initialises the clock (call once before serving). */
void kv_clock_init(void);

#endif
