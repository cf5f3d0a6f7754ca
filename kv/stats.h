/* irqlab-kv's counters and the "stats" replies.
 *
 * Per-thread counters are declared once, in KV_STATS below: adding a
 * counter is one line there, and it is summed, reset and printed from that
 * line. Only the owning thread writes its counters (KV_INC/KV_ADD: relaxed
 * atomic stores, as cheap as plain ones); readers on other threads load
 * them atomically. "stats reset" does not write them: it records each
 * thread's values as a base under one lock, and readers report value -
 * base, so a reset neither races with updates nor loses one (memcached
 * takes a per-thread lock per update for the same guarantee). */
#ifndef KV_STATS_H
#define KV_STATS_H

#include <stdint.h>

#include "buf.h"

/* Where a counter shows, and whether "stats reset" clears it. */
#define KV_S_GENERAL 1	/* a "STAT name" line of "stats", in table order */
#define KV_S_THREAD 2	/* "irqlab_threadN_name" lines of "stats irqlab" */
#define KV_S_IRQLAB 4	/* an "irqlab_name" line of "stats irqlab" */
#define KV_S_KEEP 8	/* survives "stats reset" (memcached keeps it too) */

#define KV_STATS(X) \
	X(total_connections, KV_S_GENERAL | KV_S_KEEP) \
	X(rejected_connections, KV_S_GENERAL) \
	X(cmd_get, KV_S_GENERAL) \
	X(cmd_set, KV_S_GENERAL) \
	X(cmd_flush, KV_S_GENERAL) \
	X(cmd_touch, KV_S_GENERAL) \
	X(cmd_meta, KV_S_GENERAL) \
	X(get_hits, KV_S_GENERAL) \
	X(get_misses, KV_S_GENERAL) \
	X(delete_misses, KV_S_GENERAL) \
	X(delete_hits, KV_S_GENERAL) \
	X(incr_misses, KV_S_GENERAL) \
	X(incr_hits, KV_S_GENERAL) \
	X(decr_misses, KV_S_GENERAL) \
	X(decr_hits, KV_S_GENERAL) \
	X(cas_misses, KV_S_GENERAL) \
	X(cas_hits, KV_S_GENERAL) \
	X(cas_badval, KV_S_GENERAL) \
	X(touch_hits, KV_S_GENERAL) \
	X(touch_misses, KV_S_GENERAL) \
	X(store_too_large, KV_S_GENERAL) \
	X(store_no_memory, KV_S_GENERAL) \
	X(bytes_read, KV_S_GENERAL) \
	X(idle_kicks, KV_S_GENERAL)		/* closed by -o idle_timeout */ \
	X(read_buf_oom, KV_S_GENERAL)		/* closed: no input budget */ \
	X(read_buf_refused, KV_S_IRQLAB)	/* sets refused: no budget */ \
	X(bytes_written, KV_S_GENERAL) \
	X(get_out_of_memory, KV_S_IRQLAB)	/* gets over KV_GET_OUT_MAX */ \
	X(reads, KV_S_THREAD)			/* read() calls with data */ \
	X(writes, KV_S_THREAD)			/* write() calls */

struct kv_stats {
#define KV_STAT_FIELD(name, flags) uint64_t name;
	KV_STATS(KV_STAT_FIELD)
#undef KV_STAT_FIELD
};

/* Counting, by the thread that owns t (struct kv_thread). */
#define KV_ADD(t, name, n) \
	__atomic_store_n(&(t)->st.name, (t)->st.name + (uint64_t)(n), __ATOMIC_RELAXED)
#define KV_INC(t, name) KV_ADD(t, name, 1)

/* Every thread's counters since the last reset, summed. */
void kv_stats_sum(struct kv_stats *out);
void kv_stats_reset(void);

/* The replies ("STAT name value" lines and "END"). */
void kv_stats_general(struct buf *o);	/* "stats" */
void kv_stats_settings(struct buf *o);	/* "stats settings" */
void kv_stats_irqlab(struct buf *o);	/* "stats irqlab" */
void kv_stats_slabs(struct buf *o);	/* "stats slabs" */
void kv_stats_items(struct buf *o);	/* "stats items" */

#endif
