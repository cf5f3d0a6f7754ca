/* One memcached text-protocol connection: requests are appended to a write
 * buffer and go out in one write per batch; replies are parsed in place in
 * the read buffer (value bytes are skipped, never copied) and matched to
 * the FIFO of outstanding requests. No allocation per request. The
 * epoll engine calls lconn_read/lconn_flush; the io_uring engine (uring.c)
 * does its own recv/send and uses the pieces: lconn_rspace/lconn_received,
 * lconn_stamp/lconn_sent. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "irqlab/fmt.h"
#include "load.h"

#define RBUF_INIT 65536
#define RBUF_MAX (1 << 20)	/* longest reply line we accept */
#define WBUF_INIT 65536

int lconn_init(struct lconn *c, struct thread *t, int id, unsigned depth)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->t = t;
	c->id = id;
	c->cap = depth;
	c->ring = calloc(depth, sizeof(*c->ring));
	c->rbuf = malloc(RBUF_INIT);
	c->wbuf = malloc(WBUF_INIT);
	c->rcap = RBUF_INIT;
	c->wcap = WBUF_INIT;
	return c->ring && c->rbuf && c->wbuf ? 0 : -1;
}

void lconn_free(struct lconn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->ring);
	free(c->rbuf);
	free(c->wbuf);
	c->ring = NULL;
	c->rbuf = c->wbuf = NULL;
}

/* Non-blocking connect with a deadline, so an unreachable address fails
 * in --timeout, not after the kernel's minutes of SYN retries. */
int lconn_connect(struct lconn *c, const struct sockaddr_storage *sa,
		 socklen_t salen, int timeout_ms, char *err, size_t errlen)
{
	int fd, one = 1, soerr = 0;
	socklen_t sl = sizeof(soerr);
	struct pollfd pfd;

	fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)sa, salen) < 0) {
		if (errno != EINPROGRESS) {
			snprintf(err, errlen, "connect: %s", strerror(errno));
			close(fd);
			return -1;
		}
		pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
		if (poll(&pfd, 1, timeout_ms) != 1) {
			snprintf(err, errlen, "connect: no answer within %d ms (unreachable?)",
				 timeout_ms);
			close(fd);
			return -1;
		}
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		if (soerr) {
			snprintf(err, errlen, "connect: %s", strerror(soerr));
			close(fd);
			return -1;
		}
	}
	c->fd = fd;
	return 0;
}

int lconn_timestamps(struct lconn *c, enum il_load_tstamp how, int tx, char *err, size_t errlen)
{
	int flags = how == IL_TSTAMP_HW ?
		SOF_TIMESTAMPING_RX_HARDWARE | SOF_TIMESTAMPING_RAW_HARDWARE :
		SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;

	/* OPT_ID numbers each transmit stamp by the stream offset of its
	 * send's last byte, counted from here: nothing is queued yet */
	if (tx && how == IL_TSTAMP_SW)
		flags |= SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_OPT_ID |
			 SOF_TIMESTAMPING_OPT_TSONLY;
	c->txstamps = tx && how == IL_TSTAMP_SW;
	c->txend = 0;
	c->txh = c->txn = 0;

	c->tstamp = how;
	if (how == IL_TSTAMP_OFF)
		return 0;
	if (CMSG_SPACE(sizeof(struct scm_timestamping)) > sizeof(c->ctrl.buf)) {
		snprintf(err, errlen, "control buffer too small for struct scm_timestamping");
		return -1;
	}
	if (setsockopt(c->fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof(flags)) < 0) {
		snprintf(err, errlen, "SO_TIMESTAMPING: %s", strerror(errno));
		return -1;
	}
	return 0;
}

struct msghdr *lconn_msg(struct lconn *c, char *p, size_t room)
{
	c->iov = (struct iovec){ p, room };
	/* Cleared: io_uring may not write back msg_controllen, so the walk
	 * over the control messages stops at the first empty header. */
	memset(&c->ctrl, 0, sizeof(c->ctrl));
	c->msg = (struct msghdr){ .msg_iov = &c->iov, .msg_iovlen = 1,
				  .msg_control = c->ctrl.buf, .msg_controllen = sizeof(c->ctrl) };
	return &c->msg;
}

/* The kernel's stamp of the last read, as CLOCK_MONOTONIC ns (0: none).
 * TCP reports the stamp of the newest segment the read consumed, i.e. of
 * the last byte read (coalesced segments keep the newest stamp). */
static uint64_t rx_stamp(const struct lconn *c)
{
	struct msghdr m = c->msg;
	struct cmsghdr *cm;

	m.msg_controllen = sizeof(c->ctrl);
	for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
		const struct scm_timestamping *ts;
		const struct timespec *t;
		int64_t ns;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_TIMESTAMPING)
			continue;
		ts = (const struct scm_timestamping *)CMSG_DATA(cm);
		t = &ts->ts[c->tstamp == IL_TSTAMP_HW ? 2 : 0];
		if (!t->tv_sec && !t->tv_nsec)
			return 0;
		ns = (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec - c->t->rt_off;
		return ns > 0 ? (uint64_t)ns : 0;
	}
	return 0;
}

static int wreserve(struct lconn *c, size_t more)
{
	size_t need = c->wlen + more, cap = c->wcap;
	char *nb;

	if (need <= cap)
		return 0;
	/* io_uring reads the buffer of a send in flight: it must not move. */
	if (c->sending)
		return -1;
	/* Grows only for rare large values: amortised, not per request. */
	while (cap < need)
		cap *= 2;
	nb = realloc(c->wbuf, cap);
	if (!nb)
		return -1;
	c->wbuf = nb;
	c->wcap = cap;
	return 0;
}

int lconn_add(struct lconn *c, const struct workload *w, enum op op,
	     uint64_t key, uint32_t vlen, uint64_t sched, int measured)
{
	struct req *rq;
	char *p;

	if (c->n == c->cap || wreserve(c, KEY_MAX + 64 + (op == OP_SET ? vlen : 0)))
		return -1;
	p = c->wbuf + c->wlen;
	memcpy(p, op == OP_GET ? (c->meta ? "mg " : "get ") : (c->meta ? "ms " : "set "),
	       c->meta ? 3 : 4);
	p += c->meta ? 3 : 4;
	p += workload_key(w, key, p);
	if (op == OP_GET) {
		if (c->meta) {		/* v: return the value */
			memcpy(p, " v", 2);
			p += 2;
		}
	} else {
		if (c->meta) {		/* ms KEY DATALEN */
			*p++ = ' ';
		} else {		/* set KEY FLAGS EXPTIME BYTES */
			memcpy(p, " 0 0 ", 5);
			p += 5;
		}
		p = il_u64toa(vlen, p);
		*p++ = '\r';
		*p++ = '\n';
		memcpy(p, w->value_data, vlen);
		p += vlen;
	}
	*p++ = '\r';
	*p++ = '\n';
	c->txend += (uint32_t)((size_t)(p - c->wbuf) - c->wlen);
	c->wlen = (size_t)(p - c->wbuf);
	rq = &c->ring[(c->head + c->n) % c->cap];
	rq->sched = sched;
	rq->sent = 0;
	rq->ktx = 0;
	rq->txkey = c->txend - 1;
	rq->op = (uint8_t)op;
	rq->measured = (uint8_t)measured;
	c->n++;
	c->wreqs++;
	return 0;
}

void lconn_stamp(struct lconn *c, uint64_t now)
{
	/* The requests added since the last stamp leave now (the newest
	 * wreqs entries of the ring). */
	for (unsigned i = c->n - c->wreqs; i < c->n; i++) {
		struct req *rq = &c->ring[(c->head + i) % c->cap];

		rq->sent = now;
		if (!rq->sched)		/* closed loop: due when sent */
			rq->sched = now;
	}
	c->wreqs = 0;
}

void lconn_sent(struct lconn *c, size_t n)
{
	c->t->st.bytes_tx += (uint64_t)n;
	c->woff += n;
	if (c->woff == c->wlen)
		c->woff = c->wlen = 0;
}

int lconn_flush(struct lconn *c, uint64_t now)
{
	ssize_t n;

	lconn_stamp(c, now);
	if (c->woff == c->wlen)
		return 0;
	/* send/recv rather than write/read: sockets only, and they skip the
	 * VFS layer (fsnotify, position lock) on every request. */
	n = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_DONTWAIT | MSG_NOSIGNAL);
	c->t->tot.writes++;
	if (n < 0) {
		if (errno == EAGAIN)
			return 0;
		return -1;
	}
	lconn_sent(c, (size_t)n);
	return 0;
}

static int starts(const char *s, size_t len, const char *lit)
{
	size_t n = strlen(lit);

	return len >= n && !memcmp(s, lit, n);
}

static int perr(char *err, size_t errlen, const char *what, const char *s, size_t len)
{
	snprintf(err, errlen, "protocol error: %s: '%.*s'", what, (int)(len > 60 ? 60 : len), s);
	return -1;
}

/* Reads the transmit stamps waiting in c's error queue into c->tx. */
void lconn_tx_drain(struct lconn *c)
{
	union { char buf[256]; struct cmsghdr align; } ctl;

	for (;;) {
		struct msghdr m = { .msg_control = ctl.buf, .msg_controllen = sizeof(ctl) };
		struct cmsghdr *cm;
		uint64_t ns = 0;
		int64_t key = -1;

		if (recvmsg(c->fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return;
		for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPING) {
				const struct scm_timestamping *ts = (const void *)CMSG_DATA(cm);
				int64_t v = (int64_t)ts->ts[0].tv_sec * 1000000000LL +
					    ts->ts[0].tv_nsec - c->t->rt_off;
				ns = v > 0 ? (uint64_t)v : 0;
			} else if ((cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) ||
				   (cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR)) {
				const struct sock_extended_err *ee = (const void *)CMSG_DATA(cm);
				if (ee->ee_origin == SO_EE_ORIGIN_TIMESTAMPING &&
				    ee->ee_info == SCM_TSTAMP_SND)
					key = ee->ee_data;
			}
		}
		if (key < 0 || !ns)
			continue;
		if (c->txn == sizeof(c->tx) / sizeof(c->tx[0])) {	/* oldest goes */
			c->txh = (c->txh + 1) % (sizeof(c->tx) / sizeof(c->tx[0]));
			c->txn--;
		}
		unsigned i = (c->txh + c->txn++) % (sizeof(c->tx) / sizeof(c->tx[0]));
		c->tx[i].key = (uint32_t)key;
		c->tx[i].ns = ns;
	}
}

/* The kernel's send stamp of the request whose last byte is at key: the
 * first stamp at or after it (one send, one stamp for its last byte; the
 * requests before it in that send left with it). 0 if there is none. */
static uint64_t tx_stamp(struct lconn *c, uint32_t key)
{
	for (int pass = 0; pass < 2; pass++) {
		while (c->txn && (int32_t)(c->tx[c->txh].key - key) < 0) {
			c->txh = (c->txh + 1) % (sizeof(c->tx) / sizeof(c->tx[0]));
			c->txn--;
		}
		if (c->txn)
			return c->tx[c->txh].ns;
		if (!pass)
			lconn_tx_drain(c);
	}
	return 0;
}

/* Finishes the oldest outstanding request. */
static int complete(struct lconn *c, int result, uint64_t now, const char *line,
		    size_t len, char *err, size_t errlen)
{
	struct req rq;

	if (!c->n)
		return perr(err, errlen, "reply without a request", line, len);
	rq = c->ring[c->head];
	c->head = (c->head + 1) % c->cap;
	c->n--;
	if (c->txstamps)
		rq.ktx = tx_stamp(c, rq.txkey);
	lconn_done(c->t, &rq, result, now, c->kts);
	return 0;
}

static int expect(struct lconn *c, enum op op)
{
	return c->n && c->ring[c->head].op == op;
}

/* Data length of a VALUE or VA line: VALUE's last field, VA's first. */
static int data_len(const char *q, const char *end, uint64_t *n)
{
	*n = 0;
	if (q >= end)
		return -1;
	for (; q < end && *q != ' '; q++) {
		if (*q < '0' || *q > '9' || *n > (1ULL << 40))
			return -1;
		*n = *n * 10 + (uint64_t)(*q - '0');
	}
	return 0;
}

static int is(const char *s, size_t len, const char *lit)
{
	return len == strlen(lit) && !memcmp(s, lit, len);
}

static int parse_line(struct lconn *c, const char *s, size_t len, uint64_t now,
		      char *err, size_t errlen)
{
	if (starts(s, len, "VA ")) {	/* meta: VA DATALEN FLAGS*, data, done */
		uint64_t n;

		if (!expect(c, OP_GET) || c->hit)
			return perr(err, errlen, "unexpected VA", s, len);
		if (data_len(s + 3, s + len, &n) < 0)
			return perr(err, errlen, "bad VA length", s, len);
		c->hit = 2;
		c->skip = n + 2;
		c->pstate = P_DATA;
		return 0;
	}
	if (is(s, len, "EN")) {
		if (!expect(c, OP_GET) || c->hit)
			return perr(err, errlen, "unexpected EN", s, len);
		return complete(c, R_MISS, now, s, len, err, errlen);
	}
	if (is(s, len, "HD") || starts(s, len, "HD ")) {
		if (!expect(c, OP_SET))
			return perr(err, errlen, "unexpected HD", s, len);
		return complete(c, R_STORED, now, s, len, err, errlen);
	}
	if (is(s, len, "NS") || is(s, len, "EX") || is(s, len, "NF")) {
		if (!expect(c, OP_SET))
			return perr(err, errlen, "unexpected meta set reply", s, len);
		return complete(c, R_NOT_STORED, now, s, len, err, errlen);
	}
	if (starts(s, len, "VALUE ")) {
		const char *sp = memrchr(s, ' ', len);
		uint64_t n = 0;

		if (!expect(c, OP_GET) || c->hit)
			return perr(err, errlen, "unexpected VALUE", s, len);
		if (!sp || sp + 1 == s + len)
			return perr(err, errlen, "bad VALUE line", s, len);
		for (const char *q = sp + 1; q < s + len; q++) {
			if (*q < '0' || *q > '9' || n > (1ULL << 40))
				return perr(err, errlen, "bad VALUE length", s, len);
			n = n * 10 + (uint64_t)(*q - '0');
		}
		c->hit = 1;
		c->skip = n + 2;	/* data and its \r\n */
		c->pstate = P_DATA;
		return 0;
	}
	if (len == 3 && !memcmp(s, "END", 3)) {
		int hit = c->hit;

		if (!expect(c, OP_GET))
			return perr(err, errlen, "unexpected END", s, len);
		c->hit = 0;
		return complete(c, hit ? R_HIT : R_MISS, now, s, len, err, errlen);
	}
	if (len == 6 && !memcmp(s, "STORED", 6)) {
		if (!expect(c, OP_SET))
			return perr(err, errlen, "unexpected STORED", s, len);
		return complete(c, R_STORED, now, s, len, err, errlen);
	}
	if ((len == 10 && !memcmp(s, "NOT_STORED", 10)) || (len == 6 && !memcmp(s, "EXISTS", 6)) ||
	    (len == 9 && !memcmp(s, "NOT_FOUND", 9))) {
		if (!expect(c, OP_SET))
			return perr(err, errlen, "unexpected set reply", s, len);
		return complete(c, R_NOT_STORED, now, s, len, err, errlen);
	}
	if ((len == 5 && !memcmp(s, "ERROR", 5)) || starts(s, len, "CLIENT_ERROR") ||
	    starts(s, len, "SERVER_ERROR")) {
		/* The server answered, with an error: count it, carry on. A
		 * get that already had a VALUE cannot get here (expects END). */
		c->hit = 0;
		return complete(c, R_ERROR, now, s, len, err, errlen);
	}
	return perr(err, errlen, "unknown reply", s, len);
}

int lconn_parse(struct lconn *c, uint64_t now, char *err, size_t errlen)
{
	size_t pos = 0;

	while (pos < c->rlen) {
		if (c->pstate == P_DATA) {
			size_t take = c->rlen - pos;

			if (take > c->skip)
				take = (size_t)c->skip;
			/* The data ends with \r\n: byte i of this chunk has
			 * skip - i bytes left, check the ones with 2 and 1. */
			uint64_t sk = c->skip;

			if ((sk >= 2 && sk - 2 < take && c->rbuf[pos + sk - 2] != '\r') ||
			    (sk >= 1 && sk - 1 < take && c->rbuf[pos + sk - 1] != '\n'))
				return perr(err, errlen, "value not followed by CRLF",
					    c->rbuf + pos, c->rlen - pos);
			pos += take;
			c->skip -= take;
			if (c->skip)
				break;
			c->pstate = P_LINE;
			if (c->hit == 2) {	/* meta VA: the data ends the reply */
				c->hit = 0;
				if (complete(c, R_HIT, now, "VA", 2, err, errlen) < 0)
					return -1;
			}
			continue;
		}
		{
			char *s = c->rbuf + pos, *nl = memchr(s, '\n', c->rlen - pos);
			size_t len;

			if (!nl)
				break;
			len = (size_t)(nl - s);
			if (!len || s[len - 1] != '\r')
				return perr(err, errlen, "line not ended by CRLF", s, len);
			if (parse_line(c, s, len - 1, now, err, errlen) < 0)
				return -1;
			pos += len + 1;
		}
	}
	/* Keep the unparsed tail (a partial line) at the front. */
	if (pos) {
		memmove(c->rbuf, c->rbuf + pos, c->rlen - pos);
		c->rlen -= pos;
	}
	return 0;
}

char *lconn_rspace(struct lconn *c, size_t *room, char *err, size_t errlen)
{
	if (c->rlen == c->rcap) {	/* a line longer than the buffer */
		char *nb;

		if (c->rcap >= RBUF_MAX) {
			perr(err, errlen, "reply line too long", c->rbuf, 60);
			return NULL;
		}
		nb = realloc(c->rbuf, c->rcap * 2);
		if (!nb) {
			snprintf(err, errlen, "out of memory");
			return NULL;
		}
		c->rbuf = nb;
		c->rcap *= 2;
	}
	*room = c->rcap - c->rlen;
	return c->rbuf + c->rlen;
}

int lconn_received(struct lconn *c, size_t n, char *err, size_t errlen)
{
	c->rlen += n;
	c->t->st.bytes_rx += (uint64_t)n;
	c->kts = c->tstamp ? rx_stamp(c) : 0;
	return lconn_parse(c, il_now_ns(), err, errlen);
}

int lconn_read(struct lconn *c, char *err, size_t errlen)
{
	size_t room;
	char *p = lconn_rspace(c, &room, err, errlen);
	ssize_t n;

	if (!p)
		return -1;
	n = c->tstamp ? recvmsg(c->fd, lconn_msg(c, p, room), MSG_DONTWAIT) :
			recv(c->fd, p, room, MSG_DONTWAIT);
	c->t->tot.reads++;
	if (n <= 0) {
		if (n < 0 && errno == EAGAIN)
			return 0;
		snprintf(err, errlen, "%s", n == 0 ? "server closed the connection" : strerror(errno));
		return -1;
	}
	if (lconn_received(c, (size_t)n, err, errlen) < 0)
		return -1;
	return (size_t)n == room;	/* 1: the socket may hold more */
}
