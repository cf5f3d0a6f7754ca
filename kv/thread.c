/* The worker threads: one kv_thread per event loop, and the objects all of
 * them share (the store, the loop group, the connection count). Each
 * thread's loop timer fires at every whole second of the server clock and
 * refreshes the thread's copy of it (kv_thread.now), so requests read a
 * field instead of the clock. */
#include <stdlib.h>

#include "irqlab/clock.h"
#include "clock.h"
#include "conn.h"
#include "kv.h"
#include "settings.h"

struct store *kv_store;
struct il_group *kv_group;
struct kv_thread *kv_threads;
int kv_nthreads;
int kv_curr_conns;
int kv_listen_fd = -1;
size_t kv_read_buf_bytes;

/* The loop's timer: the server clock's next second has come. */
static uint64_t tick(struct il_loop *l, uint64_t now_ns)
{
	struct kv_thread *t = il_loop_data(l);

	t->now = kv_clock_at(now_ns);
	if (kv_set.idle_timeout)
		kv_conn_idle_check(t);
	return kv_clock_next(now_ns);
}

int kv_threads_init(struct il_group *g, struct store *s)
{
	int n = il_group_size(g);
	uint64_t now = il_now_coarse_ns();

	kv_threads = calloc((size_t)n, sizeof(*kv_threads));
	if (!kv_threads)
		return -1;
	kv_group = g;
	kv_store = s;
	kv_nthreads = n;
	for (int i = 0; i < n; i++) {
		struct il_loop *l = il_group_loop(g, i);

		kv_threads[i].loop = l;
		kv_threads[i].store = s;
		pthread_mutex_init(&kv_threads[i].conns_lock, NULL);
		kv_threads[i].now = kv_clock_at(now);
		il_loop_set_data(l, &kv_threads[i]);
		il_loop_set_timer(l, kv_clock_next(now), tick);
	}
	return 0;
}

void kv_threads_free(void)
{
	for (int i = 0; i < kv_nthreads; i++) {
		kv_conn_close_all(&kv_threads[i]);
		kv_conn_blocks_free(&kv_threads[i]);
	}
	free(kv_threads);
	kv_threads = NULL;
	kv_nthreads = 0;
}
