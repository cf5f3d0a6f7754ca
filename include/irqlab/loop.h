/* Per-thread epoll event loops with NAPI-aware connection steering.
 *
 * One thread per CPU the user names, each pinned, each with its own epoll fd
 * carrying the mode's busy-poll parameters (mode.h). A listening socket lives
 * on loop 0; each accepted connection is handed to the loop that owns the
 * NAPI it arrives on (SO_INCOMING_NAPI_ID), so every epoll instance sees one
 * NAPI and busy polls the right queue.
 *
 * Usage (the shape of Redis' ae.c, one loop per thread):
 *   il_group_init(&g, cpus, n, &mode, err, sizeof(err));
 *   il_group_listen(&g, lfd, on_conn);     // on_conn runs in the owning loop
 *   il_loop_add(l, &myobj->io, EPOLLIN);    // io.fd, io.fn set by the caller
 *   il_group_run(&g);                       // returns after il_group_stop()
 */
#ifndef IRQLAB_LOOP_H
#define IRQLAB_LOOP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "irqlab/mode.h"

#define IL_LOOP_MAX 64		/* threads per group */
#define IL_STEER_MAX 256	/* distinct NAPI ids remembered */

struct il_loop;
struct il_io;

/* Called when fd is ready; events as epoll reports them. */
typedef void il_io_fn(struct il_loop *l, struct il_io *io, uint32_t events);
/* Called in the loop that now owns a freshly accepted connection. */
typedef void il_conn_fn(struct il_loop *l, int fd, uint32_t napi_id);

/* Embed as the first member of whatever an fd belongs to. */
struct il_io {
	int fd;
	il_io_fn *fn;
};

struct il_loop_stats {
	uint64_t waits;		/* epoll_wait / epoll_pwait2 calls */
	uint64_t events;	/* events returned */
	uint64_t spins;		/* spin modes: waits that returned no event */
	uint64_t conns_total;	/* connections this loop has owned */
	uint64_t handoffs;	/* of which were handed in from loop 0 */
	int64_t conns;		/* connections owned now */
};

/* NAPI id -> thread. Pure data, no sockets: unit-testable. Only the accepting
 * thread calls il_steer_pick, so it needs no lock. */
struct il_steer {
	int nthreads;
	int nmap;
	uint32_t napi[IL_STEER_MAX];
	int thread[IL_STEER_MAX];
	int next_new;		/* first-come: next thread for a new id */
	uint64_t rr;		/* id 0 round robin */
	uint64_t by_napi;	/* picks of a known (mapped or seen) id */
	uint64_t first_come;	/* new ids assigned on first sight */
	uint64_t round_robin;	/* picks for id 0 (no NAPI, e.g. loopback) */
};

void il_steer_init(struct il_steer *s, int nthreads);
/* Deterministic map from a device: rx queue i's NAPI -> thread i mod n.
 * Queues without a NAPI (id 0) are skipped. */
void il_steer_map_queues(struct il_steer *s, const uint32_t *rxq_napi, int nq);
/* Thread index for a connection that arrived on napi_id. */
int il_steer_pick(struct il_steer *s, uint32_t napi_id);

struct il_group;

struct il_loop {
	struct il_group *grp;
	int idx;
	int cpu;		/* -1: not pinned */
	int epfd;
	int wake_fd;		/* eventfd: handoffs and stop */
	struct il_io wake_io;
	pthread_t tid;
	pthread_mutex_t lock;	/* protects the handoff queue only */
	int *pend_fd;
	uint32_t *pend_napi;
	int npend, cap;
	struct il_loop_stats st;
	uint32_t napi_seen;	/* last NAPI id of a connection owned here */
	void *user;		/* the application's per-thread state */
};

struct il_group {
	int n;
	struct il_loop loops[IL_LOOP_MAX];
	struct il_mode mode;
	struct il_steer steer;
	struct il_io listen_io;
	il_conn_fn *on_conn;
	volatile int stop;
	uint64_t accepted;
	uint64_t accept_errors;
	char epoll_note[160];	/* why epoll knobs were not applied, or "" */
};

/* Creates n loops (cpus may be NULL: unpinned). Applies the mode's epoll
 * knobs to each epoll fd; failure is an error (message in err). */
int il_group_init(struct il_group *g, const int *cpus, int n,
		  const struct il_mode *m, char *err, size_t errlen);
/* Accepts on lfd (non-blocking, listening) in loop 0 and steers. */
int il_group_listen(struct il_group *g, int lfd, il_conn_fn *on_conn);
/* Optional: deterministic steering from a device's rx queue -> NAPI map. */
void il_group_steer_queues(struct il_group *g, const uint32_t *rxq_napi, int nq);
/* Runs loops 1..n-1 in threads and loop 0 in the caller; returns when
 * il_group_stop() was called and every thread has finished. */
int il_group_run(struct il_group *g);
/* Async-signal-safe. */
void il_group_stop(struct il_group *g);
void il_group_free(struct il_group *g);

int il_loop_add(struct il_loop *l, struct il_io *io, uint32_t events);
int il_loop_mod(struct il_loop *l, struct il_io *io, uint32_t events);
void il_loop_del(struct il_loop *l, struct il_io *io);
/* The application closed a connection it owned (keeps conns counts right). */
void il_loop_conn_closed(struct il_loop *l);

/* Words for il_mode_apply_epoll's -errno. */
const char *il_epoll_strerror(int neg_errno);

#endif
