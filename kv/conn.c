/* Connection I/O: one read per readable event, the protocol consumes every
 * complete command, one write sends every reply. A client that does not
 * read its replies stops being read from (EPOLLOUT only) until it does, and
 * the parser stops while KV_OUT_HIGH bytes of replies are unsent, so
 * pipelined requests cannot grow the output without bound. */
#include "conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "clock.h"
#include "proto.h"
#include "settings.h"

#define READ_MIN 16384		/* free space offered to each read */
#define KEEP_MAX (256 * 1024)	/* buffers above this are released when idle */

static const char too_many[] = "ERROR Too many open connections\r\n";

void kv_conn_refuse(int fd)
{
	/* best effort, like memcached: the client may already be gone */
	if (write(fd, too_many, sizeof(too_many) - 1) < 0)
		(void)0;
	close(fd);
}

static void conn_close(struct il_loop *l, struct kv_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		c->t->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	il_loop_del(l, &c->io);
	close(c->io.fd);
	buf_free(&c->in);
	buf_free(&c->out);
	free(c);
	__atomic_fetch_sub(&kv_curr_conns, 1, __ATOMIC_RELAXED);
	il_loop_conn_closed(l);
}

/* Writes what is pending; returns -1 on a dead connection. */
static int flush_out(struct il_loop *l, struct kv_conn *c)
{
	while (c->wpos < c->out.len) {
		ssize_t n = write(c->io.fd, c->out.p + c->wpos, c->out.len - c->wpos);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -1;
			if (!c->want_out) {
				il_loop_mod(l, &c->io, EPOLLOUT);
				c->want_out = true;
			}
			return 0;
		}
		KV_INC(c->t, writes);
		KV_ADD(c->t, bytes_written, (uint64_t)n);
		c->wpos += (size_t)n;
	}
	c->wpos = c->out.len = c->flush_mark = 0;
	if (c->out.cap > KEEP_MAX)
		buf_free(&c->out);
	if (c->want_out) {
		il_loop_mod(l, &c->io, EPOLLIN);
		c->want_out = false;
	}
	return 0;
}

static int read_in(struct kv_conn *c)
{
	struct buf *in = &c->in;
	size_t want = READ_MIN;
	ssize_t n;

	if (c->rpos) {
		memmove(in->p, in->p + c->rpos, in->len - c->rpos);
		in->len -= c->rpos;
		c->rpos = 0;
	}
	if (c->need > in->len && c->need - in->len > want)
		want = c->need - in->len;
	buf_reserve(in, want);
	n = read(c->io.fd, in->p + in->len, in->cap - in->len);
	if (n <= 0)
		return n == 0 || (errno != EAGAIN && errno != EINTR) ? -1 : 0;
	KV_INC(c->t, reads);
	KV_ADD(c->t, bytes_read, (uint64_t)n);
	in->len += (size_t)n;
	return 1;
}

/* Parses what is buffered and writes the replies; while the parser paused
 * for output (KV_OUT_HIGH) and the socket takes everything, goes on.
 * Returns -1 when the connection is to be closed. */
static int serve(struct il_loop *l, struct kv_conn *c)
{
	for (;;) {
		if (kv_proto_process(c) == PROTO_CLOSE)
			c->closing = true;
		if (c->rpos == c->in.len) {
			c->rpos = c->in.len = 0;
			if (c->in.cap > KEEP_MAX)
				buf_free(&c->in);
		}
		if (flush_out(l, c) < 0 || (c->closing && !c->want_out))
			return -1;
		if (!c->paused || c->want_out || c->closing)
			return 0;
	}
}

static void on_io(struct il_loop *l, struct il_io *io, uint32_t events)
{
	struct kv_conn *c = (struct kv_conn *)io;
	int r;

	if (events & EPOLLOUT) {
		if (flush_out(l, c) < 0 || (c->closing && c->wpos == c->out.len))
			goto close;
		if (c->want_out)
			return;
		/* commands buffered while the output was full go first:
		 * nothing more is read until they are answered */
		if (c->paused && !c->closing) {
			if (serve(l, c) < 0)
				goto close;
			return;
		}
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)) || c->closing ||
	    c->paused)
		return;
	r = read_in(c);
	if (r < 0)
		goto close;
	if (r == 0)
		return;
	if (serve(l, c) < 0)
		goto close;
	return;
close:
	conn_close(l, c);
}

void kv_conn_open(struct il_loop *l, int fd, uint32_t napi_id)
{
	struct kv_thread *t = il_loop_data(l);
	struct kv_conn *c;
	int n = __atomic_add_fetch(&kv_curr_conns, 1, __ATOMIC_RELAXED);

	KV_INC(t, total_connections);
	if (n > kv_set.maxconns || !(c = calloc(1, sizeof(*c)))) {
		__atomic_fetch_sub(&kv_curr_conns, 1, __ATOMIC_RELAXED);
		KV_INC(t, rejected_connections);
		kv_conn_refuse(fd);
		il_loop_conn_closed(l);
		return;
	}
	if (kv_verbosity() > 1)
		fprintf(stderr, "irqlab-kv: connection fd %d NAPI %u on thread %d\n",
			fd, napi_id, il_loop_index(l));
	c->io.fd = fd;
	c->io.fn = on_io;
	c->t = t;
	c->napi_id = napi_id;
	if (il_loop_add(l, &c->io, EPOLLIN)) {
		free(c);
		close(fd);
		__atomic_fetch_sub(&kv_curr_conns, 1, __ATOMIC_RELAXED);
		il_loop_conn_closed(l);
		return;
	}
	c->next = t->conns;
	if (t->conns)
		t->conns->prev = c;
	t->conns = c;
}

void kv_conn_close_all(struct kv_thread *t)
{
	while (t->conns)
		conn_close(t->loop, t->conns);
}
