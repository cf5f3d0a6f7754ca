/* Connection I/O: one read per readable event, the protocol consumes every
 * complete command, one write sends every reply. A client that does not
 * read its replies stops being read from (EPOLLOUT only) until it does, and
 * the parser stops while KV_OUT_HIGH bytes of replies are unsent, so
 * pipelined requests cannot grow the output without bound. */
#include "conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
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
	pthread_mutex_lock(&c->t->conns_lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		c->t->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&c->t->conns_lock);
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

/* One wakeup's work; -1: close. */
static int io_step(struct il_loop *l, struct kv_conn *c, uint32_t events)
{
	int r;

	if (events & EPOLLOUT) {
		if (flush_out(l, c) < 0 || (c->closing && c->wpos == c->out.len))
			return -1;
		if (c->want_out)
			return 0;
		/* commands buffered while the output was full go first:
		 * nothing more is read until they are answered */
		if (c->paused && !c->closing)
			return serve(l, c) < 0 ? -1 : 0;
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)) || c->closing ||
	    c->paused)
		return 0;
	r = read_in(c);
	if (r <= 0)
		return r;
	return serve(l, c) < 0 ? -1 : 0;
}

static void on_io(struct il_loop *l, struct il_io *io, uint32_t events)
{
	struct kv_conn *c = (struct kv_conn *)io;
	enum kv_conn_state st;

	if (io_step(l, c, events) < 0) {
		conn_close(l, c);
		return;
	}
	st = c->swallow ? KV_CS_SWALLOW : c->need ? KV_CS_NREAD :
	     c->wpos < c->out.len ? KV_CS_MWRITE : KV_CS_READ;
	__atomic_store_n(&c->state, (uint8_t)st, __ATOMIC_RELAXED);
}

/* ---- stats conns ---- */

struct conn_row {
	int fd;
	uint8_t state;		/* enum kv_conn_state, or 255: the asker */
	uint32_t last_cmd;
};

static int row_cmp(const void *a, const void *b)
{
	const struct conn_row *x = a, *y = b;

	return (x->fd > y->fd) - (x->fd < y->fd);
}

/* memcached's "tcp:1.2.3.4:5" / "tcp6:[::1]:5" for a socket's own (peer:
 * false) or peer address; false if it has none. */
static bool sock_addr(int fd, bool peer, char *out, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN];

	if ((peer ? getpeername(fd, (struct sockaddr *)&ss, &sl)
		  : getsockname(fd, (struct sockaddr *)&ss, &sl)) < 0)
		return false;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		snprintf(out, len, "tcp:%s:%u", host, ntohs(a->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		snprintf(out, len, "tcp6:[%s]:%u", host, ntohs(a->sin6_port));
	} else {
		return false;
	}
	return true;
}

static void conn_line(struct buf *o, int fd, const char *name, const char *v)
{
	char line[160];
	int n = snprintf(line, sizeof(line), "STAT %d:%s %s\r\n", fd, name, v);

	buf_add(o, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

void kv_conn_stats(struct kv_conn *self, struct buf *o)
{
	static const char *const names[] = {
		"conn_read", "conn_nread", "conn_swallow", "conn_mwrite",
	};
	uint32_t now = kv_clock();
	struct conn_row *rows = NULL;
	size_t n = 0, cap = 0;
	char laddr[96] = "", addr[96], num[16];

	/* the rows first (under each thread's lock, briefly), the
	 * addresses after: a connection closed since shows none */
	for (int i = 0; i < kv_nthreads; i++) {
		struct kv_thread *t = &kv_threads[i];

		pthread_mutex_lock(&t->conns_lock);
		for (struct kv_conn *c = t->conns; c; c = c->next) {
			if (n == cap) {
				size_t nc = cap ? cap * 2 : 64;
				struct conn_row *nr = realloc(rows, nc * sizeof(*rows));

				if (!nr)
					break;
				rows = nr;
				cap = nc;
			}
			rows[n].fd = c->io.fd;
			rows[n].state = c == self ? 255 :
					__atomic_load_n(&c->state, __ATOMIC_RELAXED);
			rows[n].last_cmd = __atomic_load_n(&c->last_cmd, __ATOMIC_RELAXED);
			n++;
		}
		pthread_mutex_unlock(&t->conns_lock);
	}
	if (n)
		qsort(rows, n, sizeof(*rows), row_cmp);
	if (kv_listen_fd >= 0 && sock_addr(kv_listen_fd, false, laddr, sizeof(laddr))) {
		conn_line(o, kv_listen_fd, "addr", laddr);
		conn_line(o, kv_listen_fd, "state", "conn_listening");
		snprintf(num, sizeof(num), "%u", now);
		conn_line(o, kv_listen_fd, "secs_since_last_cmd", num);
	}
	for (size_t i = 0; i < n; i++) {
		/* a fd closed (and perhaps reused) since the rows were taken:
		 * its address is whatever the fd is now, or none */
		if (!sock_addr(rows[i].fd, true, addr, sizeof(addr)))
			continue;
		conn_line(o, rows[i].fd, "addr", addr);
		if (laddr[0])
			conn_line(o, rows[i].fd, "listen_addr", laddr);
		conn_line(o, rows[i].fd, "state", rows[i].state == 255 ? "conn_parse_cmd" :
			  names[rows[i].state & 3]);
		snprintf(num, sizeof(num), "%u", now - rows[i].last_cmd);
		conn_line(o, rows[i].fd, "secs_since_last_cmd", num);
	}
	free(rows);
	buf_adds(o, "END\r\n");
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
	pthread_mutex_lock(&t->conns_lock);
	c->next = t->conns;
	if (t->conns)
		t->conns->prev = c;
	t->conns = c;
	pthread_mutex_unlock(&t->conns_lock);
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
