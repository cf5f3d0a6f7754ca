/* irqlab-kv's shared state: protocol limits, the worker threads and the
 * objects every thread uses (store, loop group). Settings are in
 * settings.h, the server clock in clock.h, counters in stats.h. */
#ifndef KV_KV_H
#define KV_KV_H

#include <pthread.h>
#include <stdint.h>

#include "irqlab/loop.h"
#include "stats.h"
#include "store.h"
#include "token.h"

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

#define KV_BLOCKS 32	/* idle 16 KiB input buffers a thread keeps */

struct kv_conn;

/* One worker thread: one event loop, its connections, its counters. */
struct kv_thread {
	struct il_loop *loop;
	struct kv_conn *conns;	/* open connections (shutdown, stats conns) */
	pthread_mutex_t conns_lock;	/* conns' links, for other threads */
	struct store *store;
	uint32_t now;		/* server clock (clock.h), set by the loop timer */
	struct kv_req req;	/* the command being run (proto.c) */
	struct kv_stats st;	/* written by this thread only (stats.h) */
	struct kv_stats base;	/* st at the last "stats reset" (stats.c) */
	char *blocks[KV_BLOCKS];	/* idle input buffers for reuse (conn.c) */
	int nblocks;
	char *scratch;		/* a read with no budget left (conn.c) */
};

extern struct store *kv_store;
extern struct il_group *kv_group;
extern struct kv_thread *kv_threads;	/* one per loop */
extern int kv_nthreads;
extern int kv_curr_conns;		/* atomic: open connections */
extern size_t kv_read_buf_bytes;	/* atomic: input buffer bytes (conn.c) */
extern int kv_listen_fd;		/* the listener, for "stats conns" */

/* One kv_thread per loop of g, all on store s (kv_threads, kv_nthreads). */
int kv_threads_init(struct il_group *g, struct store *s);
/* After the loops stopped: closes every connection, frees the threads. */
void kv_threads_free(void);

#endif
