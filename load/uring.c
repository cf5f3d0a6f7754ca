/* The io_uring engine. Every connection always has one recv in flight
 * into its read buffer (re-armed after each completion); the sends of a
 * batch are queued as SQEs; one io_uring_enter then submits them, sleeps
 * until a completion or the next send time (a nanosecond timeout) and
 * reaps what completed. At depth 1 that is one system call per wake-up
 * instead of a send, a recv and an epoll_wait per request.
 *
 * The ring is DEFER_TASKRUN + SINGLE_ISSUER where the kernel has them
 * (6.1): completions are only run when the thread waits, never by
 * interrupting it. That ties the ring to the thread that made it, so the
 * thread itself ends it (uring_stop from thread_stop_io).
 *
 * A buffer the kernel may still write to must never be freed or moved:
 * lconn_add does not grow the write buffer while a send is in flight, a
 * recv is only armed after the previous one completed, and uring_stop
 * waits for every request to finish (shutdown() ends the pending recvs). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "load.h"

#if __has_include(<liburing.h>)
#include <liburing.h>

/* user_data: the connection pointer, low bit set for a send. */
#define UD_SEND 1UL

static int ring_init(struct io_uring *ring, unsigned entries)
{
	int rc = io_uring_queue_init(entries, ring, IORING_SETUP_SINGLE_ISSUER |
				     IORING_SETUP_DEFER_TASKRUN);

	if (rc == -EINVAL)	/* before 6.1 */
		rc = io_uring_queue_init(entries, ring, 0);
	return rc;
}

int uring_probe(char *why, size_t len)
{
	struct io_uring ring;
	int rc = ring_init(&ring, 4);

	if (rc < 0) {
		snprintf(why, len, "io_uring_setup: %s%s", strerror(-rc),
			 rc == -EPERM ? " (sysctl kernel.io_uring_disabled?)" : "");
		return -1;
	}
	/* The wait with a timeout in one call (IORING_FEAT_EXT_ARG, 5.11). */
	if (!(ring.features & IORING_FEAT_EXT_ARG)) {
		snprintf(why, len, "io_uring without IORING_FEAT_EXT_ARG (needs Linux 5.11)");
		rc = -1;
	}
	io_uring_queue_exit(&ring);
	return rc < 0 ? -1 : 0;
}

int uring_setup(struct thread *t, char *err, size_t errlen)
{
	/* a recv and a send per connection at most, and a little slack */
	unsigned entries = 2 * t->nconns + 8;
	int rc;

	t->ring = calloc(1, sizeof(*t->ring));
	if (!t->ring) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = ring_init(t->ring, entries < 32768 ? entries : 32768);
	if (rc < 0) {
		snprintf(err, errlen, "io_uring_setup: %s (try --engine epoll)", strerror(-rc));
		free(t->ring);
		t->ring = NULL;
		return -1;
	}
	return 0;
}

static struct io_uring_sqe *sqe_get(struct thread *t)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(t->ring);

	if (!sqe) {		/* SQ full: hand the queued ones over now */
		io_uring_submit(t->ring);
		t->tot.waits++;
		sqe = io_uring_get_sqe(t->ring);
	}
	return sqe;
}

void uring_arm(struct thread *t, struct lconn *c)
{
	struct io_uring_sqe *sqe;
	char err[200], *p;
	size_t room;

	if (c->dead || c->reading)
		return;
	if (!(p = lconn_rspace(c, &room, err, sizeof(err)))) {
		lconn_fail(t, c, err);
		return;
	}
	if (!(sqe = sqe_get(t))) {
		lconn_fail(t, c, "io_uring: no free submission entry");
		return;
	}
	if (c->tstamp)		/* recvmsg: the stamp comes as a control message */
		io_uring_prep_recvmsg(sqe, c->fd, lconn_msg(c, p, room), 0);
	else
		io_uring_prep_recv(sqe, c->fd, p, room, 0);
	io_uring_sqe_set_data(sqe, c);
	c->reading = 1;
	t->inflight++;
}

void uring_flush(struct thread *t, struct lconn *c, uint64_t now)
{
	struct io_uring_sqe *sqe;

	/* One send in flight per connection: what is added meanwhile goes
	 * when it completes (thread_progress marks the connection again). */
	if (c->dead || c->sending || c->woff == c->wlen)
		return;
	if (!(sqe = sqe_get(t))) {
		lconn_fail(t, c, "io_uring: no free submission entry");
		return;
	}
	lconn_stamp(c, now);
	/* Without MSG_DONTWAIT: when the socket is full, io_uring waits for
	 * room by itself (the epoll engine's EPOLLOUT). */
	io_uring_prep_send(sqe, c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL);
	io_uring_sqe_set_data(sqe, (void *)((uintptr_t)c | UD_SEND));
	c->sending = 1;
	t->inflight++;
	t->usends++;
}

static void complete(struct thread *t, struct io_uring_cqe *cqe, int stopping)
{
	uintptr_t ud = (uintptr_t)io_uring_cqe_get_data(cqe);
	struct lconn *c = (struct lconn *)(ud & ~UD_SEND);
	int res = cqe->res;
	char err[200];

	t->inflight--;
	if (ud & UD_SEND)
		c->sending = 0;
	else
		c->reading = 0;
	if (c->dead || stopping)
		return;
	/* --tx-stamps: queued send stamps raise POLLERR, which ends a recv
	 * with nothing to read */
	if (res == -EAGAIN && !(ud & UD_SEND) && c->txstamps) {
		lconn_tx_drain(c);
		uring_arm(t, c);
		return;
	}
	if (res < 0 || (res == 0 && !(ud & UD_SEND))) {
		lconn_fail(t, c, res == 0 ? "server closed the connection" : strerror(-res));
		return;
	}
	if (ud & UD_SEND) {
		lconn_sent(c, (size_t)res);
	} else if (lconn_received(c, (size_t)res, err, sizeof(err)) < 0) {
		lconn_fail(t, c, err);
		return;
	}
	thread_progress(t, c);
	uring_arm(t, c);
}

/* How many completions to wait for: the sends just queued complete during
 * the submit, so one more than those, or with --batch up to N replies (no
 * more than the connections that await one, or the wait would always run
 * to its timeout). The kernel wakes the thread only when that many are in
 * (DEFER_TASKRUN), and kernel stamps keep the replies' times exact. */
static unsigned want(const struct thread *t)
{
	unsigned busy = 0, b = t->o ? t->o->batch : 1;

	if (b > 1)
		for (unsigned i = 0; i < t->nconns && busy < b; i++)
			busy += t->conns[i].n > 0 && !t->conns[i].dead;
	return t->usends + (busy > 1 ? busy : 1);
}

static void reap(struct thread *t, uint64_t now, uint64_t until, int stopping)
{
	uint64_t d = until > now ? until - now : 0;
	struct __kernel_timespec ts = { (long long)(d / 1000000000ULL),
					(long long)(d % 1000000000ULL) };
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	t->tot.waits++;		/* the only system call of the engine */
	/* A zero timeout (--spin-us polling, a send already due) must not
	 * sleep: even an expired timer costs tens of us to fire in this VM. */
	if (!d)
		io_uring_submit_and_get_events(t->ring);
	else	/* -ETIME (timeout) and -EINTR (signal) are normal wake-ups. */
		io_uring_submit_and_wait_timeout(t->ring, &cqe, stopping ? 1 : want(t), &ts, NULL);
	t->usends = 0;
	thread_woke(t);
	io_uring_for_each_cqe(t->ring, head, cqe) {
		n++;
		if (cqe->user_data != LIBURING_UDATA_TIMEOUT)
			complete(t, cqe, stopping);
	}
	io_uring_cq_advance(t->ring, n);
}

void uring_wait(struct thread *t, uint64_t now, uint64_t until)
{
	reap(t, now, until, 0);
}

void uring_stop(struct thread *t)
{
	uint64_t end = il_now_ns() + 2000000000ULL;

	for (unsigned i = 0; i < t->nconns; i++)
		if (t->conns[i].fd >= 0 && !t->conns[i].dead)
			shutdown(t->conns[i].fd, SHUT_RDWR);
	while (t->inflight && il_now_ns() < end)
		reap(t, il_now_ns(), il_now_ns() + 100000000ULL, 1);
	if (t->inflight) {
		/* The kernel may still write into these buffers: leak them
		 * rather than free them under it (never seen; bounded wait). */
		for (unsigned i = 0; i < t->nconns; i++)
			t->conns[i].rbuf = t->conns[i].wbuf = NULL;
	}
	io_uring_queue_exit(t->ring);
	free(t->ring);
	t->ring = NULL;
}

#else /* no liburing at build time: epoll only */

int uring_probe(char *why, size_t len)
{
	snprintf(why, len, "built without liburing (install liburing-dev)");
	return -1;
}

int uring_setup(struct thread *t, char *err, size_t errlen)
{
	(void)t;
	return uring_probe(err, errlen);
}

void uring_arm(struct thread *t, struct lconn *c) { (void)t; (void)c; }
void uring_flush(struct thread *t, struct lconn *c, uint64_t now) { (void)t; (void)c; (void)now; }
void uring_wait(struct thread *t, uint64_t now, uint64_t until) { (void)t; (void)now; (void)until; }
void uring_stop(struct thread *t) { (void)t; }

#endif
