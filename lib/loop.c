/* Per-thread epoll loops (see loop.h). Loop 0 also accepts; a connection is
 * handed to its owner through a mutex-protected queue and an eventfd, which
 * costs a lock per connection, never per request. */
#define _GNU_SOURCE
#include "irqlab/loop.h"
#include "irqlab/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	l->st.conns--;
}

static void own(struct il_loop *l, int fd, uint32_t napi, int handed)
{
	l->st.conns++;
	l->st.conns_total++;
	l->st.handoffs += handed;
	if (napi)
		l->napi_seen = napi;
	l->grp->on_conn(l, fd, napi);
}

static void on_wake(struct il_loop *l, struct il_io *io, uint32_t events)
{
	uint64_t v;
	int fds[64];
	uint32_t ids[64];
	int n;

	(void)events;
	if (read(io->fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
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
			if (errno != EAGAIN && errno != EINTR)
				g->accept_errors++;
			return;
		}
		g->accepted++;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		/* AF_UNIX and old kernels: no id, treated like loopback */
		if (getsockopt(fd, SOL_SOCKET, SO_INCOMING_NAPI_ID, &napi, &len))
			napi = 0;
		t = il_steer_pick(&g->steer, napi);
		if (t == l->idx)
			own(l, fd, napi, 0);
		else if (hand_off(&g->loops[t], fd, napi))
			close(fd);
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
	while (!__atomic_load_n(&g->stop, __ATOMIC_ACQUIRE)) {
		int n = il_mode_wait(l->epfd, ev, MAX_EVENTS, 1000, &g->mode);

		l->st.waits++;
		if (n <= 0) {
			/* in blocking modes 0 is the 1 s timeout, not a spin */
			l->st.spins += n == 0 && g->mode.wait == IL_WAIT_SPIN;
			continue;
		}
		l->st.events += n;
		for (int i = 0; i < n; i++) {
			struct il_io *io = ev[i].data.ptr;

			io->fn(l, io, ev[i].events);
		}
	}
	return NULL;
}

int il_group_init(struct il_group *g, const int *cpus, int n,
		  const struct il_mode *m, char *err, size_t errlen)
{
	memset(g, 0, sizeof(*g));
	if (n < 1 || n > IL_LOOP_MAX) {
		snprintf(err, errlen, "threads: %d out of range 1-%d", n, IL_LOOP_MAX);
		return -1;
	}
	g->n = n;
	g->mode = *m;
	il_steer_init(&g->steer, n);
	for (int i = 0; i < n; i++) {
		struct il_loop *l = &g->loops[i];
		int rc;

		l->grp = g;
		l->idx = i;
		l->cpu = cpus ? cpus[i] : -1;
		pthread_mutex_init(&l->lock, NULL);
		l->epfd = epoll_create1(EPOLL_CLOEXEC);
		l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (l->epfd < 0 || l->wake_fd < 0) {
			snprintf(err, errlen, "epoll/eventfd: %s", strerror(errno));
			return -1;
		}
		rc = il_mode_apply_epoll(l->epfd, m);
		if (rc) {
			snprintf(err, errlen, "--mode %s: %s", m->name,
				 il_epoll_strerror(rc));
			return -1;
		}
		l->wake_io.fd = l->wake_fd;
		l->wake_io.fn = on_wake;
		if (il_loop_add(l, &l->wake_io, EPOLLIN)) {
			snprintf(err, errlen, "epoll_ctl: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
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
	return il_loop_add(&g->loops[0], &g->listen_io, EPOLLIN);
}

int il_group_run(struct il_group *g)
{
	int rc = 0;

	for (int i = 1; i < g->n; i++)
		if (pthread_create(&g->loops[i].tid, NULL, run, &g->loops[i])) {
			__atomic_store_n(&g->stop, 1, __ATOMIC_RELEASE);
			for (int j = 1; j < i; j++)
				pthread_join(g->loops[j].tid, NULL);
			return -1;
		}
	run(&g->loops[0]);
	for (int i = 1; i < g->n; i++)
		rc |= pthread_join(g->loops[i].tid, NULL);
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
	for (int i = 0; i < g->n; i++) {
		struct il_loop *l = &g->loops[i];

		for (int j = 0; j < l->npend; j++)
			close(l->pend_fd[j]);
		free(l->pend_fd);
		free(l->pend_napi);
		close(l->epfd);
		close(l->wake_fd);
		pthread_mutex_destroy(&l->lock);
	}
}
