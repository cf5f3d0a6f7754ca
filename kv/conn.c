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

/* ---- the input buffer budget (-o read_buf_mem_limit) ----
 * Every connection's input buffer (a partial line, a partial value) is
 * counted in kv_read_buf_bytes, as are the idle READ_MIN blocks a thread
 * keeps for reuse. An idle connection holds none: its block goes back to
 * its thread once everything read was parsed. Past the budget a set whose
 * value is still arriving is refused like memcached refuses a set it has
 * no memory for, and a connection that needs room for a line is closed
 * (read_buf_oom). */

/* Takes n bytes of the budget; false past it. */
static bool budget_take(size_t n)
{
	size_t lim = kv_set.read_buf_mb * 1024 * 1024;

	if (__atomic_add_fetch(&kv_read_buf_bytes, n, __ATOMIC_RELAXED) <= lim || !lim)
		return true;
	__atomic_sub_fetch(&kv_read_buf_bytes, n, __ATOMIC_RELAXED);
	return false;
}

static void budget_give(size_t n)
{
	__atomic_sub_fetch(&kv_read_buf_bytes, n, __ATOMIC_RELAXED);
}

/* Everything read was parsed: the buffer goes back to the thread (a
 * READ_MIN block, while it keeps fewer than KV_BLOCKS) or is freed. */
static void in_release(struct kv_conn *c)
{
	struct kv_thread *t = c->t;

	c->rpos = c->in.len = 0;
	if (!c->in.cap)
		return;
	if (c->in.p == t->scratch) {
		/* the thread's, lent for one read */
	} else if (c->in.cap == READ_MIN && t->nblocks < KV_BLOCKS) {
		t->blocks[t->nblocks++] = c->in.p;
	} else {
		budget_give(c->in.cap);
		free(c->in.p);
	}
	c->in.p = NULL;
	c->in.cap = 0;
}

/* Room for `want` more bytes in c->in, within the budget. */
static bool in_room(struct kv_conn *c, size_t want)
{
	struct kv_thread *t = c->t;
	size_t cap;

	if (!c->in.cap && want <= READ_MIN && t->nblocks) {
		c->in.p = t->blocks[--t->nblocks];
		c->in.cap = READ_MIN;
		return true;
	}
	if (c->in.p == t->scratch) {
		/* what is left of a read into the scratch buffer: into a
		 * buffer of its own, if the budget allows */
		struct buf b = { NULL, 0, 0 };
		size_t need = c->in.len + want;

		cap = buf_grown_cap(&b, need);
		if (!budget_take(cap))
			return false;
		buf_reserve(&b, need);
		buf_add(&b, c->in.p, c->in.len);
		c->in = b;
		return true;
	}
	cap = buf_grown_cap(&c->in, want);
	if (cap == c->in.cap)
		return true;
	if (!budget_take(cap - c->in.cap))
		return false;
	buf_reserve(&c->in, want);
	return true;
}

void kv_conn_blocks_free(struct kv_thread *t)
{
	free(t->scratch);
	t->scratch = NULL;
	while (t->nblocks) {
		free(t->blocks[--t->nblocks]);
		budget_give(READ_MIN);
	}
}

static const char too_many[] = "ERROR Too many open connections\r\n";

void kv_conn_refuse(int fd)
{
	/* best effort, like memcached: the client may already be gone */
	if (write(fd, too_many, sizeof(too_many) - 1) < 0)
		(void)0;
	close(fd);
}

void kv_conn_refuse_fd(struct il_loop *l, int fd)
{
	struct kv_thread *t = il_loop_data(l);

	KV_INC(t, rejected_connections);
	kv_conn_refuse(fd);
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
	in_release(c);
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

/* A refused value's bytes while nothing else is buffered: read and
 * dropped without a buffer (one that is still arriving must not need the
 * budget it was refused for). */
static int read_swallow(struct kv_conn *c)
{
	char scratch[READ_MIN];
	size_t want = c->swallow < sizeof(scratch) ? (size_t)c->swallow : sizeof(scratch);
	ssize_t n = read(c->io.fd, scratch, want);

	if (n <= 0)
		return n == 0 || (errno != EAGAIN && errno != EINTR) ? -1 : 0;
	KV_INC(c->t, reads);
	KV_ADD(c->t, bytes_read, (uint64_t)n);
	c->swallow -= (uint64_t)n;
	return 0;
}

/* Past the budget: a set waiting for its value is answered as memcached
 * answers a set it has no memory for and its value is swallowed (1: go
 * on parsing); any other connection is closed (-1). */
static int out_of_budget(struct kv_conn *c)
{
	if (!c->need) {
		KV_INC(c->t, read_buf_oom);
		return -1;
	}
	KV_INC(c->t, read_buf_refused);
	c->no_room = true;	/* the pending set sees it (proto.c) */
	kv_proto_process(c);
	c->no_room = false;
	return 1;
}

/* Nothing buffered and no budget for a buffer: one read into the
 * thread's scratch buffer (a fixed cost per thread, outside the budget),
 * so a new client is still heard; serve() parses it, and whatever is left
 * must then find room in the budget (keep_rest). */
static bool in_scratch(struct kv_conn *c, size_t want)
{
	struct kv_thread *t = c->t;

	if (c->in.cap || want > READ_MIN)
		return false;
	if (!t->scratch && !(t->scratch = malloc(READ_MIN)))
		return false;
	c->in.p = t->scratch;
	c->in.cap = READ_MIN;
	return true;
}

/* After parsing a read into the scratch buffer: what is left (a partial
 * line or value) moves to a buffer of the budget, or is refused (-1:
 * close). */
static int keep_rest(struct kv_conn *c)
{
	if (c->in.p != c->t->scratch)
		return 0;
	if (c->rpos) {
		memmove(c->in.p, c->in.p + c->rpos, c->in.len - c->rpos);
		c->in.len -= c->rpos;
		c->rpos = 0;
	}
	if (in_room(c, 0))
		return 0;
	if (out_of_budget(c) < 0)
		return -1;
	if (c->rpos == c->in.len) {
		in_release(c);
		return 0;
	}
	KV_INC(c->t, read_buf_oom);	/* a partial line after the value */
	return -1;
}

/* 1: bytes were read (or a refused value left bytes to parse), 0: none
 * now, -1: close. */
static int read_in(struct kv_conn *c)
{
	struct buf *in = &c->in;
	size_t want = READ_MIN;
	ssize_t n;

	if (c->swallow && c->rpos == in->len) {
		in_release(c);
		return read_swallow(c);
	}
	if (c->rpos) {
		memmove(in->p, in->p + c->rpos, in->len - c->rpos);
		in->len -= c->rpos;
		c->rpos = 0;
	}
	if (c->need > in->len && c->need - in->len > want)
		want = c->need - in->len;
	if (!in_room(c, want) && !in_scratch(c, want))
		return out_of_budget(c);
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
		if (c->rpos == c->in.len)
			in_release(c);
		else if (!c->closing && keep_rest(c) < 0)
			return -1;
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
	c->last_cmd = t->now;
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

void kv_conn_idle_check(struct kv_thread *t)
{
	uint32_t limit = (uint32_t)kv_set.idle_timeout;
	struct kv_conn *c, *next;

	/* memcached closes connections waiting for a command; here also
	 * those whose line or value has stopped arriving (slowloris), not
	 * those whose client does not read (back-pressure, see flush_out) */
	for (c = t->conns; c; c = next) {
		next = c->next;
		if (!c->want_out && t->now - c->last_cmd > limit) {
			KV_INC(t, idle_kicks);
			conn_close(t->loop, c);
		}
	}
}

void kv_conn_close_all(struct kv_thread *t)
{
	while (t->conns)
		conn_close(t->loop, t->conns);
}
