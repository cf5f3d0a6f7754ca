/* Per-thread epoll event loops with NAPI-aware connection steering.
 *
 * One thread per CPU the user names, each pinned, each with its own epoll fd
 * carrying the mode's busy-poll parameters (mode.h). A listening socket lives
 * on loop 0; each accepted connection is handed to the loop that owns the
 * NAPI it arrives on (SO_INCOMING_NAPI_ID), so every epoll instance sees one
 * NAPI and busy polls the right queue.
 *
 * Each iteration of a loop: the before-wait hook, one wait (il_mode_wait,
 * no longer than the timer's deadline), one read of the clock
 * (il_loop_now_ns), the timer if it is due, then every ready fd's handler.
 * Per-loop work (a server clock, idle timeouts) hangs off the timer, not
 * off every event.
 *
 * Usage (the shape of Redis' ae.c, one loop per thread):
 *   g = il_group_new(cpus, n, &mode, err, sizeof(err));
 *   l = il_group_loop(g, i);                // for each loop, before running:
 *   il_loop_set_data(l, mine[i]);           //   the application's state
 *   il_loop_set_timer(l, when_ns, tick);    //   tick returns the next deadline
 *   il_group_listen(g, lfd, on_conn);       // on_conn runs in the owning loop
 *   il_loop_add(l, &myobj->io, EPOLLIN);    // io.fd, io.fn set by the caller
 *   il_group_run(g);                        // returns after il_group_stop()
 *   il_group_free(g);
 * A loop's setters and il_loop_add/mod/del are called before il_group_run
 * or from that loop's own thread; the stats accessors from any thread.
 */
#ifndef IRQLAB_LOOP_H
#define IRQLAB_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "irqlab/mode.h"

#define IL_LOOP_MAX 64		/* threads per group */
#define IL_STEER_MAX 256	/* distinct NAPI ids remembered */

struct il_loop;
struct il_group;
struct il_io;

/* Called when fd is ready; events as epoll reports them. */
typedef void il_io_fn(struct il_loop *l, struct il_io *io, uint32_t events);
/* Called in the loop that now owns a freshly accepted connection. */
typedef void il_conn_fn(struct il_loop *l, int fd, uint32_t napi_id);
/* Called in loop 0 with a connection accepted only to be refused (the
 * process was out of fds); it must close fd. */
typedef void il_refuse_fn(struct il_loop *l, int fd);
/* The loop's timer is due (now_ns is il_loop_now_ns): returns the next
 * deadline in the same clock, or 0 to stop the timer. */
typedef uint64_t il_timer_fn(struct il_loop *l, uint64_t now_ns);
/* Runs before every wait. */
typedef void il_hook_fn(struct il_loop *l);

/* Embed as the first member of whatever an fd belongs to. */
struct il_io {
	int fd;
	il_io_fn *fn;
};

struct il_loop_stats {
	uint64_t waits;		/* epoll_wait / epoll_pwait2 calls */
	uint64_t events;	/* events returned */
	uint64_t spins;		/* spin modes: waits that returned no event */
	uint64_t timer_runs;	/* timer callbacks */
	uint64_t conns_total;	/* connections this loop has owned */
	uint64_t handoffs;	/* of which were handed in from loop 0 */
	int64_t conns;		/* connections owned now */
	uint32_t napi_id;	/* NAPI id of the last connection owned here */
};

struct il_group_stats {
	uint64_t accepted;	/* connections accepted (by loop 0) */
	uint64_t accept_errors;	/* accept4 failures other than EAGAIN/EINTR */
	uint64_t by_napi;	/* steered by a known (mapped or seen) NAPI id */
	uint64_t first_come;	/* new NAPI ids assigned on first sight */
	uint64_t round_robin;	/* id 0 (no NAPI, e.g. loopback) */
	uint64_t refused;	/* accepted with the reserved fd and refused:
				 * the process was out of fds */
	uint64_t listen_disabled;	/* times the listener stopped being
					 * polled (out of fds, no reserve) */
	bool accepting;		/* the listener is polled now */
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

/* Creates n loops (cpus may be NULL: unpinned). Applies the mode's epoll
 * knobs to each epoll fd; failure is an error (NULL, message in err). */
struct il_group *il_group_new(const int *cpus, int n, const struct il_mode *m,
			      char *err, size_t errlen);
/* After il_group_run returned; closes connections still queued for a
 * hand-off. */
void il_group_free(struct il_group *g);
int il_group_size(const struct il_group *g);
struct il_loop *il_group_loop(struct il_group *g, int i);
const struct il_mode *il_group_mode(const struct il_group *g);
/* Accepts on lfd (non-blocking, listening) in loop 0 and steers. */
int il_group_listen(struct il_group *g, int lfd, il_conn_fn *on_conn);
/* Out of fds (EMFILE/ENFILE), loop 0 frees a reserved fd, accepts one
 * pending connection with it and hands it to fn to be refused (default:
 * closed), then reserves the fd again; if it cannot, the listener is not
 * polled until a connection closes (il_loop_conn_closed) or, for fds
 * freed elsewhere, 100 ms passed (checked after each of loop 0's waits,
 * which end at least once a second).
 * Never a busy loop on a listener that cannot be accepted from. */
void il_group_on_refuse(struct il_group *g, il_refuse_fn *fn);
/* Optional: deterministic steering from a device's rx queue -> NAPI map. */
void il_group_steer_queues(struct il_group *g, const uint32_t *rxq_napi, int nq);
/* Runs loops 1..n-1 in threads and loop 0 in the caller; returns 0 when
 * il_group_stop() was called and every thread has finished, -1 (errno
 * set) when a thread could not be started or joined. */
int il_group_run(struct il_group *g);
/* Async-signal-safe. */
void il_group_stop(struct il_group *g);
void il_group_stats(const struct il_group *g, struct il_group_stats *out);

int il_loop_index(const struct il_loop *l);
int il_loop_cpu(const struct il_loop *l);	/* -1: not pinned */
void il_loop_set_data(struct il_loop *l, void *data);
void *il_loop_data(const struct il_loop *l);
/* The loop's one timer: fn runs in the loop once il_loop_now_ns reaches
 * when_ns (0: at the first iteration); fn == NULL removes it. */
void il_loop_set_timer(struct il_loop *l, uint64_t when_ns, il_timer_fn *fn);
void il_loop_set_before_wait(struct il_loop *l, il_hook_fn *fn);
/* The loop's time: irqlab/clock.h's coarse monotonic ns, read once after
 * each wait. */
uint64_t il_loop_now_ns(const struct il_loop *l);
void il_loop_stats(const struct il_loop *l, struct il_loop_stats *out);

int il_loop_add(struct il_loop *l, struct il_io *io, uint32_t events);
int il_loop_mod(struct il_loop *l, struct il_io *io, uint32_t events);
void il_loop_del(struct il_loop *l, struct il_io *io);
/* The application closed a connection this loop owned (an fd is free:
 * a listener paused for lack of fds is polled again). */
void il_loop_conn_closed(struct il_loop *l);

/* Words for il_mode_apply_epoll's -errno. */
const char *il_epoll_strerror(int neg_errno);

#endif
