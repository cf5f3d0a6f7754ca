/* A minimal memcached text-protocol responder for the load generator's
 * tests: gets always miss ("END"), sets are swallowed ("STORED"). Every
 * --stall-every ms it stops answering for --stall-for ms (a GC pause, a
 * preempted server), which an open-loop generator must see in its
 * corrected latency. --garbage answers gets with a line that is not
 * memcached protocol. --slow-after MS --slow-us US: from MS ms after the
 * start, every batch of answers waits US us first (a server that slows
 * down halfway, for the stationarity check). Prints "port N" when
 * listening; exits after --lifetime seconds at the latest.
 *   stall_server [--port P] [--stall-every MS] [--stall-for MS]
 *                [--slow-after MS --slow-us US] [--lifetime S] [--garbage] */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXC 1024
#define BUF 65536

struct cl {
	int fd;
	size_t len;
	uint64_t skip;	/* set data still to swallow */
	char buf[BUF];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int garbage;
static uint64_t slow_at, slow_us;	/* --slow-after (absolute ms), --slow-us */

static void slow_down(void)
{
	struct timespec ts = { 0, (long)(slow_us * 1000) };

	if (slow_us && now_ms() >= slow_at)
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
}

static int put(int fd, const char *out, size_t olen)
{
	for (size_t off = 0; off < olen;) {
		/* MSG_NOSIGNAL: a client that left must not kill the server */
		ssize_t n = send(fd, out + off, olen - off, MSG_NOSIGNAL);

		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

/* Answers every complete command in the buffer; -1 closes the client. */
static int serve(struct cl *c)
{
	char out[BUF];
	size_t pos = 0, olen = 0;

	while (pos < c->len) {
		char *s = c->buf + pos, *nl;
		size_t avail = c->len - pos;

		if (c->skip) {
			size_t take = avail < c->skip ? avail : (size_t)c->skip;

			pos += take;
			c->skip -= take;
			if (!c->skip) {
				if (olen + 8 > sizeof(out)) {
					if (put(c->fd, out, olen) < 0)
						return -1;
					olen = 0;
				}
				memcpy(out + olen, "STORED\r\n", 8);
				olen += 8;
			}
			continue;
		}
		nl = memchr(s, '\n', avail);
		if (!nl)
			break;
		if (olen + 64 > sizeof(out)) {
			if (put(c->fd, out, olen) < 0)
				return -1;
			olen = 0;
		}
		if (!strncmp(s, "get ", 4)) {
			const char *r = garbage ? "BOGUS\r\n" : "END\r\n";

			memcpy(out + olen, r, strlen(r));
			olen += strlen(r);
		} else if (!strncmp(s, "set ", 4)) {
			/* set KEY FLAGS EXP BYTES: data of BYTES plus \r\n follows */
			char *sp = memrchr(s, ' ', (size_t)(nl - s));

			c->skip = sp ? strtoull(sp + 1, NULL, 10) + 2 : 2;
			/* STORED is written once the data is in */
		} else {
			memcpy(out + olen, "ERROR\r\n", 7);
			olen += 7;
		}
		pos = (size_t)(nl - c->buf) + 1;
	}
	memmove(c->buf, c->buf + pos, c->len - pos);
	c->len -= pos;
	if (olen)
		slow_down();
	return put(c->fd, out, olen);
}

struct opts {
	int port, every, stall, life;
};

static struct cl *cls[MAXC];	/* by fd */

/* 0 when the options are good, else the exit status (2). */
static int parse_args(int argc, char **argv, struct opts *o)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--garbage")) {
			garbage = 1;
			continue;
		}
		if (i + 1 >= argc) {
			fprintf(stderr, "stall_server: %s needs a value\n", argv[i]);
			return 2;
		}
		if (!strcmp(argv[i], "--port"))
			o->port = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--stall-every"))
			o->every = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--stall-for"))
			o->stall = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--lifetime"))
			o->life = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--slow-after"))
			slow_at = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--slow-us"))
			slow_us = strtoull(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "stall_server: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (o->every < 1 || o->stall < 0 || o->life < 1) {
		fprintf(stderr, "stall_server: --stall-every >= 1, --stall-for >= 0, --lifetime >= 1\n");
		return 2;
	}
	return 0;
}

/* Listens on 127.0.0.1:port and prints the port it got; -1 on failure. */
static int listen_loopback(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int one = 1, lfd;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 128) < 0) {
		perror("stall_server: bind/listen");
		return -1;
	}
	getsockname(lfd, (struct sockaddr *)&sa, &sl);
	printf("port %d\n", ntohs(sa.sin_port));
	fflush(stdout);
	return lfd;
}

static void accept_client(int ep, int lfd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int one = 1, cfd = accept(lfd, NULL, NULL);

	if (cfd < 0)
		return;
	if (cfd >= MAXC) {
		close(cfd);
		return;
	}
	setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	cls[cfd] = calloc(1, sizeof(struct cl));
	cls[cfd]->fd = cfd;
	ev.data.fd = cfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ev);
}

/* Reads what a client sent and answers it; closes it on EOF or error. */
static void read_client(int fd)
{
	struct cl *c = cls[fd];
	ssize_t r = read(fd, c->buf + c->len, BUF - c->len);

	if (r <= 0 || (c->len += (size_t)r, serve(c) < 0)) {
		close(fd);
		free(c);
		cls[fd] = NULL;
	}
}

/* Serves until the lifetime is up, stalling every o->every ms. */
static void run(const struct opts *o, int lfd)
{
	struct epoll_event ev = { .events = EPOLLIN }, evs[64];
	uint64_t start, next;
	int ep;

	ep = epoll_create1(0);
	ev.data.fd = lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	start = now_ms();
	next = start + (uint64_t)o->every;
	slow_at += start;
	while (now_ms() < start + (uint64_t)o->life * 1000) {
		uint64_t now = now_ms();
		int n;

		if (o->stall && now >= next) {
			sleep_ms((uint64_t)o->stall);	/* the stall: nobody is served */
			next += (uint64_t)o->every;
			if (next < now_ms())
				next = now_ms() + (uint64_t)o->every;
			continue;
		}
		n = epoll_wait(ep, evs, 64, (int)(next - now) + 1);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.fd == lfd)
				accept_client(ep, lfd);
			else
				read_client(evs[i].data.fd);
		}
	}
}

int main(int argc, char **argv)
{
	struct opts o = { .port = 0, .every = 100, .stall = 10, .life = 60 };
	int rc, lfd;

	rc = parse_args(argc, argv, &o);
	if (rc)
		return rc;
	lfd = listen_loopback(o.port);
	if (lfd < 0)
		return 1;
	run(&o, lfd);
	for (int i = 0; i < MAXC; i++)
		if (cls[i]) {
			close(i);
			free(cls[i]);
		}
	return 0;
}
