/* Per-thread epoll loops (see loop.h). Loop 0 also accepts; a connection is
 * handed to its owner through a mutex-protected queue and an eventfd, which
 * costs a lock per connection, never per request.
 *
 * Statistics are written only by the loop's own thread (relaxed atomic
 * stores, as cheap as plain ones) and read by any thread through
 * il_loop_stats/il_group_stats (relaxed atomic loads), so a "stats" request
 * on another thread never races with the loop counting. */
#define _GNU_SOURCE
#include "irqlab/loop.h"
#include "irqlab/clock.h"
#include "irqlab/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_EVENTS 128

const char *il_epoll_strerror(int e)
{
	switch (e) {
	case -ENOTTY:
		return "needs Linux 6.9 for epoll busy poll parameters (EPIOCSPARAMS)";
	case -EINVAL:
		return "the kernel refused these epoll busy poll parameters (EINVAL)";
	case -EPERM:
		return "busy_poll_budget > 64 needs CAP_NET_ADMIN";
	default:
		return strerror(-e);
	}
}

/* Counting by the one thread that writes x. */
#define COUNT(x, n) __atomic_store_n(&(x), (x) + (n), __ATOMIC_RELAXED)
#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

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
	uint64_t now_ns;	/* read once after each wait */
	uint64_t timer_at;	/* deadline of timer_fn */
	il_timer_fn *timer_fn;
	il_hook_fn *before_wait;
	struct il_loop_stats st;
	void *data;		/* the application's per-thread state */
};

struct il_group {
	int n;
	struct il_loop loops[IL_LOOP_MAX];
	struct il_mode mode;
	struct il_steer steer;	/* loop 0's thread only */
	struct il_io listen_io;
	il_conn_fn *on_conn;
	il_refuse_fn *on_refuse;
	int stop;		/* atomic: set from a signal handler too */
	/* Out of fds (EMFILE/ENFILE): the listener is out of loop 0's epoll
	 * set until a connection closes (or PAUSE_RETRY_NS passed). Atomic:
	 * any loop's close asks loop 0 to take it back. */
	int paused;
	uint64_t paused_at;	/* loop 0's clock */
	int reserve_fd;		/* one fd kept free to refuse a client with */
	struct il_group_stats st;	/* written by loop 0's thread */
};

/* While paused, the listener is retried at least this often, for fds that
 * free up outside the loops (another thread's files, a system-wide
 * ENFILE). The loop wakes at least once a second anyway. */
#define PAUSE_RETRY_NS (100 * 1000000ull)

int il_loop_add(struct il_loop *l, struct il_io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, io->fd, &ev);
}

int il_loop_mod(struct il_loop *l, struct il_io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev);
}

void il_loop_del(struct il_loop *l, struct il_io *io)
{
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
}

void il_loop_conn_closed(struct il_loop *l)
{
	struct il_group *g = l->grp;
	uint64_t one = 1;
	int paused = 1;

	COUNT(l->st.conns, -1);
	/* an fd is free again: loop 0 takes the listener back (on_wake) */
	if (__atomic_load_n(&g->paused, __ATOMIC_RELAXED) == 1 &&
	    __atomic_compare_exchange_n(&g->paused, &paused, 2, false,
					__ATOMIC_ACQ_REL, __ATOMIC_RELAXED) &&
	    write(g->loops[0].wake_fd, &one, sizeof(one)) < 0)
		(void)0;	/* only on counter overflow: a wake-up is pending */
}

int il_loop_index(const struct il_loop *l)
{
	return l->idx;
}

int il_loop_cpu(const struct il_loop *l)
{
	return l->cpu;
}

void il_loop_set_data(struct il_loop *l, void *data)
{
	l->data = data;
}

void *il_loop_data(const struct il_loop *l)
{
	return l->data;
}

void il_loop_set_timer(struct il_loop *l, uint64_t when_ns, il_timer_fn *fn)
{
	l->timer_at = when_ns;
	l->timer_fn = fn;
}

void il_loop_set_before_wait(struct il_loop *l, il_hook_fn *fn)
{
	l->before_wait = fn;
}

uint64_t il_loop_now_ns(const struct il_loop *l)
{
	return l->now_ns;
}

void il_loop_stats(const struct il_loop *l, struct il_loop_stats *out)
{
	out->waits = LOAD(l->st.waits);
	out->events = LOAD(l->st.events);
	out->spins = LOAD(l->st.spins);
	out->timer_runs = LOAD(l->st.timer_runs);
	out->conns_total = LOAD(l->st.conns_total);
	out->handoffs = LOAD(l->st.handoffs);
	out->conns = LOAD(l->st.conns);
	out->napi_id = LOAD(l->st.napi_id);
}

void il_group_stats(const struct il_group *g, struct il_group_stats *out)
{
	out->accepted = LOAD(g->st.accepted);
	out->accept_errors = LOAD(g->st.accept_errors);
	out->by_napi = LOAD(g->st.by_napi);
	out->first_come = LOAD(g->st.first_come);
	out->round_robin = LOAD(g->st.round_robin);
	out->refused = LOAD(g->st.refused);
	out->listen_disabled = LOAD(g->st.listen_disabled);
	out->accepting = !__atomic_load_n(&g->paused, __ATOMIC_RELAXED);
}

int il_group_size(const struct il_group *g)
{
	return g->n;
}

struct il_loop *il_group_loop(struct il_group *g, int i)
{
	return &g->loops[i];
}

const struct il_mode *il_group_mode(const struct il_group *g)
{
	return &g->mode;
}

static void own(struct il_loop *l, int fd, uint32_t napi, int handed)
{
	COUNT(l->st.conns, 1);
	COUNT(l->st.conns_total, 1);
	COUNT(l->st.handoffs, handed);
	if (napi)
		__atomic_store_n(&l->st.napi_id, napi, __ATOMIC_RELAXED);
	l->grp->on_conn(l, fd, napi);
}

static void listen_resume(struct il_group *g);

static void on_wake(struct il_loop *l, struct il_io *io, uint32_t events)
{
	uint64_t v;
	int fds[64];
	uint32_t ids[64];
	int n;

	(void)events;
	if (read(io->fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	if (l->idx == 0 && __atomic_load_n(&l->grp->paused, __ATOMIC_RELAXED) == 2)
		listen_resume(l->grp);
	do {
		pthread_mutex_lock(&l->lock);
		n = l->npend < 64 ? l->npend : 64;
		if (!n) {
			pthread_mutex_unlock(&l->lock);
			break;
		}
		memcpy(fds, l->pend_fd, n * sizeof(int));
		memcpy(ids, l->pend_napi, n * sizeof(uint32_t));
		l->npend -= n;
		memmove(l->pend_fd, l->pend_fd + n, l->npend * sizeof(int));
		memmove(l->pend_napi, l->pend_napi + n, l->npend * sizeof(uint32_t));
		pthread_mutex_unlock(&l->lock);
		for (int i = 0; i < n; i++)
			own(l, fds[i], ids[i], 1);
	} while (n == 64);
}

static int hand_off(struct il_loop *to, int fd, uint32_t napi)
{
	uint64_t one = 1;

	pthread_mutex_lock(&to->lock);
	if (to->npend == to->cap) {
		int cap = to->cap ? to->cap * 2 : 64;
		int *f = realloc(to->pend_fd, cap * sizeof(int));
		uint32_t *id = f ? realloc(to->pend_napi, cap * sizeof(uint32_t)) : NULL;

		if (f)
			to->pend_fd = f;
		if (!f || !id) {
			pthread_mutex_unlock(&to->lock);
			return -1;
		}
		to->pend_napi = id;
		to->cap = cap;
	}
	to->pend_fd[to->npend] = fd;
	to->pend_napi[to->npend++] = napi;
	pthread_mutex_unlock(&to->lock);
	/* an eventfd write only fails on counter overflow, and then a wake-up
	 * is pending anyway: the queued fd is picked up either way */
	ssize_t w = write(to->wake_fd, &one, sizeof(one));

	(void)w;
	return 0;
}

/* The steering counters, published for il_group_stats (il_steer itself is
 * plain data of the accepting thread). */
static void publish_steer(struct il_group *g)
{
	__atomic_store_n(&g->st.by_napi, g->steer.by_napi, __ATOMIC_RELAXED);
	__atomic_store_n(&g->st.first_come, g->steer.first_come, __ATOMIC_RELAXED);
	__atomic_store_n(&g->st.round_robin, g->steer.round_robin, __ATOMIC_RELAXED);
}

/* The fd kept free for refusing clients when the process is out of fds. */
static void reserve_open(struct il_group *g)
{
	if (g->reserve_fd < 0)
		g->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void listen_pause(struct il_loop *l)
{
	struct il_group *g = l->grp;
	struct epoll_event ev = { .events = 0, .data.ptr = &g->listen_io };

	/* no events wanted: a pending connection no longer wakes the loop */
	epoll_ctl(l->epfd, EPOLL_CTL_MOD, g->listen_io.fd, &ev);
	g->paused_at = l->now_ns;
	COUNT(g->st.listen_disabled, 1);
	__atomic_store_n(&g->paused, 1, __ATOMIC_RELEASE);
}

/* Loop 0: the listener back in the epoll set, the reserve fd again. */
static void listen_resume(struct il_group *g)
{
	__atomic_store_n(&g->paused, 0, __ATOMIC_RELEASE);
	reserve_open(g);
	il_loop_mod(&g->loops[0], &g->listen_io, EPOLLIN);
}

/* accept4 failed for lack of fds (EMFILE: ours, ENFILE: the system's).
 * Like memcached, the client is told: the reserved fd is closed so one
 * accept succeeds, the application refuses that connection, the fd is
 * reserved again. Without a reserve (another thread took it) the listener
 * stops being polled until a connection closes: a readable listener that
 * cannot be accepted from would otherwise wake the loop at once, forever.
 * Returns whether to go on accepting. */
static bool out_of_fds(struct il_loop *l, struct il_io *io)
{
	struct il_group *g = l->grp;
	int fd;

	if (g->reserve_fd >= 0) {
		close(g->reserve_fd);
		g->reserve_fd = -1;
		fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			COUNT(g->st.refused, 1);
			if (g->on_refuse)
				g->on_refuse(l, fd);
			else
				close(fd);
		}
		reserve_open(g);
		if (fd >= 0 && g->reserve_fd >= 0)
			return true;
		if (fd < 0 && errno == EAGAIN)
			return false;
	}
	listen_pause(l);
	return false;
}

static void on_accept(struct il_loop *l, struct il_io *io, uint32_t events)
{
	struct il_group *g = l->grp;

	(void)events;
	for (int i = 0; i < 64; i++) {
		uint32_t napi = 0;
		socklen_t len = sizeof(napi);
		int one = 1, fd, t;

		fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				COUNT(g->st.accept_errors, 1);
				if (out_of_fds(l, io))
					continue;
				return;
			}
			if (errno != EAGAIN && errno != EINTR)
				COUNT(g->st.accept_errors, 1);
			return;
		}
		COUNT(g->st.accepted, 1);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		/* AF_UNIX and old kernels: no id, treated like loopback */
		if (getsockopt(fd, SOL_SOCKET, SO_INCOMING_NAPI_ID, &napi, &len))
			napi = 0;
		t = il_steer_pick(&g->steer, napi);
		publish_steer(g);
		if (t == l->idx)
			own(l, fd, napi, 0);
		else if (hand_off(&g->loops[t], fd, napi))
			close(fd);
	}
}

/* How long the next wait may block: until the timer is due, at most 1 s
 * (the stop flag is also checked after every wake-up from il_group_stop). */
static int wait_ms(const struct il_loop *l)
{
	uint64_t ms;

	if (!l->timer_fn)
		return 1000;
	if (l->timer_at <= l->now_ns)
		return 0;
	ms = (l->timer_at - l->now_ns + 999999) / 1000000;
	return ms > 1000 ? 1000 : (int)ms;
}

/* After a wait: the loop's time, and the timer when it is due. */
static void tick(struct il_loop *l)
{
	l->now_ns = il_now_coarse_ns();
	if (l->timer_fn && l->now_ns >= l->timer_at) {
		COUNT(l->st.timer_runs, 1);
		l->timer_at = l->timer_fn(l, l->now_ns);
		if (!l->timer_at)
			l->timer_fn = NULL;
	}
}

static void *run(void *arg)
{
	struct il_loop *l = arg;
	struct il_group *g = l->grp;
	struct epoll_event ev[MAX_EVENTS];

	if (l->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(l->cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	l->now_ns = il_now_coarse_ns();
	while (!__atomic_load_n(&g->stop, __ATOMIC_ACQUIRE)) {
		int n;

		if (l->before_wait)
			l->before_wait(l);
		n = il_mode_wait(l->epfd, ev, MAX_EVENTS, wait_ms(l), &g->mode);
		COUNT(l->st.waits, 1);
		tick(l);
		if (l->idx == 0 && __atomic_load_n(&g->paused, __ATOMIC_RELAXED) &&
		    l->now_ns - g->paused_at >= PAUSE_RETRY_NS)
			listen_resume(g);
		if (n <= 0) {
			/* in blocking modes 0 is the timeout, not a spin */
			COUNT(l->st.spins, n == 0 && g->mode.wait == IL_WAIT_SPIN);
			continue;
		}
		COUNT(l->st.events, (uint64_t)n);
		for (int i = 0; i < n; i++) {
			struct il_io *io = ev[i].data.ptr;

			io->fn(l, io, ev[i].events);
		}
	}
	return NULL;
}

static int loop_init(struct il_group *g, int i, const int *cpus, char *err,
		     size_t errlen)
{
	struct il_loop *l = &g->loops[i];
	int rc;

	l->grp = g;
	l->idx = i;
	l->cpu = cpus ? cpus[i] : -1;
	l->epfd = l->wake_fd = -1;
	pthread_mutex_init(&l->lock, NULL);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->epfd < 0 || l->wake_fd < 0) {
		snprintf(err, errlen, "epoll/eventfd: %s", strerror(errno));
		return -1;
	}
	rc = il_mode_apply_epoll(l->epfd, &g->mode);
	if (rc) {
		snprintf(err, errlen, "--mode %s: %s", g->mode.name, il_epoll_strerror(rc));
		return -1;
	}
	l->wake_io.fd = l->wake_fd;
	l->wake_io.fn = on_wake;
	if (il_loop_add(l, &l->wake_io, EPOLLIN)) {
		snprintf(err, errlen, "epoll_ctl: %s", strerror(errno));
		return -1;
	}
	return 0;
}

struct il_group *il_group_new(const int *cpus, int n, const struct il_mode *m,
			      char *err, size_t errlen)
{
	struct il_group *g;

	if (n < 1 || n > IL_LOOP_MAX) {
		snprintf(err, errlen, "threads: %d out of range 1-%d", n, IL_LOOP_MAX);
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	g->mode = *m;
	g->reserve_fd = -1;
	il_steer_init(&g->steer, n);
	for (int i = 0; i < n; i++) {
		g->n = i + 1;	/* what il_group_free has to undo */
		if (loop_init(g, i, cpus, err, errlen)) {
			il_group_free(g);
			return NULL;
		}
	}
	return g;
}

void il_group_on_refuse(struct il_group *g, il_refuse_fn *fn)
{
	g->on_refuse = fn;
}

void il_group_steer_queues(struct il_group *g, const uint32_t *rxq_napi, int nq)
{
	il_steer_map_queues(&g->steer, rxq_napi, nq);
}

int il_group_listen(struct il_group *g, int lfd, il_conn_fn *on_conn)
{
	g->on_conn = on_conn;
	g->listen_io.fd = lfd;
	g->listen_io.fn = on_accept;
	reserve_open(g);
	return il_loop_add(&g->loops[0], &g->listen_io, EPOLLIN);
}

int il_group_run(struct il_group *g)
{
	int rc = 0, e;

	for (int i = 1; i < g->n; i++) {
		e = pthread_create(&g->loops[i].tid, NULL, run, &g->loops[i]);
		if (e) {
			__atomic_store_n(&g->stop, 1, __ATOMIC_RELEASE);
			for (int j = 1; j < i; j++)
				pthread_join(g->loops[j].tid, NULL);
			errno = e;
			return -1;
		}
	}
	run(&g->loops[0]);
	for (int i = 1; i < g->n; i++)
		if ((e = pthread_join(g->loops[i].tid, NULL)))
			rc = e;
	if (rc)
		errno = rc;
	return rc ? -1 : 0;
}

void il_group_stop(struct il_group *g)
{
	uint64_t one = 1;

	__atomic_store_n(&g->stop, 1, __ATOMIC_RELEASE);	/* from a signal handler too */
	for (int i = 0; i < g->n; i++)
		if (write(g->loops[i].wake_fd, &one, sizeof(one)) < 0)
			continue;
}

void il_group_free(struct il_group *g)
{
	if (!g)
		return;
	for (int i = 0; i < g->n; i++) {
		struct il_loop *l = &g->loops[i];

		for (int j = 0; j < l->npend; j++)
			close(l->pend_fd[j]);
		free(l->pend_fd);
		free(l->pend_napi);
		if (l->epfd >= 0)
			close(l->epfd);
		if (l->wake_fd >= 0)
			close(l->wake_fd);
		pthread_mutex_destroy(&l->lock);
	}
	if (g->reserve_fd >= 0)
		close(g->reserve_fd);
	free(g);
}
