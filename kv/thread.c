/* The worker threads: one kv_thread per event loop, and the objects all of
 * them share (the store, the loop group, the connection count). */
#include <stdlib.h>

#include "clock.h"
#include "conn.h"
#include "kv.h"

struct store *kv_store;
struct il_group *kv_group;
struct kv_thread *kv_threads;
int kv_nthreads;
int kv_curr_conns;

int kv_threads_init(struct il_group *g, struct store *s)
{
	kv_threads = calloc((size_t)g->n, sizeof(*kv_threads));
	if (!kv_threads)
		return -1;
	kv_group = g;
	kv_store = s;
	kv_nthreads = g->n;
	for (int i = 0; i < g->n; i++) {
		kv_threads[i].loop = &g->loops[i];
		kv_threads[i].store = s;
		kv_threads[i].now = kv_clock();
		g->loops[i].user = &kv_threads[i];
	}
	return 0;
}

void kv_threads_free(void)
{
	for (int i = 0; i < kv_nthreads; i++)
		kv_conn_close_all(&kv_threads[i]);
	free(kv_threads);
	kv_threads = NULL;
	kv_nthreads = 0;
}
