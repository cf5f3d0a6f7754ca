/* A libFuzzer target over irqlab-kv's connections, also run as a unit test.
 *
 * The input drives up to four client connections to one worker thread the
 * way its event loop would, with the fuzzer in charge of what a real loop
 * leaves to the network and the clock: each connection is a socketpair
 * (small socket buffers, so replies back up), registered with a real loop
 * (kv/conn.c: kv_conn_open, its I/O callback, close), and the fuzzer
 * chooses which client sends which bytes (any split: a command may arrive
 * in many reads), when a client reads its replies (back-pressure, paused
 * parsing), when a client hangs up, and how the server clock moves
 * (expiry, delayed flush, -o idle_timeout). The store is small (256 KiB in
 * 64 KiB pages, items up to 100 KiB), so evictions, page moves and large
 * items happen within one input; it is emptied before each input.
 *
 * Input: byte 0 sets the input budget (-o read_buf_mem_limit 16, 1 or 0
 * MB: bits 0-1), idle_timeout (0 or 3 s: bit 2) and the number of
 * connections (1-4: bits 3-4). Then operations, one byte each (high 3
 * bits: what, low 2 bits: which connection) with their arguments:
 *   0-2 send N+1 bytes (N the next byte) of the data that follows
 *   3   send (N+1)*16 bytes
 *   4   the client reads up to (N+1) KiB of replies
 *   5   the clock moves N % 64 seconds (the loop's timer: idle check)
 *   6   the client hangs up; a new client takes its place
 *   7   every connection is served as the loop would (readable/writable)
 * scripts/kv-fuzz.sh builds it with libFuzzer, seeds it from the
 * conformance scripts (tests/integration/kv_requests) and reports
 * coverage per file.
 *
 * Checked besides "no crash, no sanitizer report": the parser never
 * passes its input, after every connection closed none is counted open
 * and the input budget holds exactly the thread's spare blocks, and the
 * store's per-class item counts add up to its item count within its
 * memory limit. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tap.h"
#include "../../kv/conn.h"
#include "../../kv/clock.h"
#include "../../kv/kv.h"
#include "../../kv/settings.h"

#define NCONN 4
#define MEM (256 << 10)	/* 4 pages: evictions and page moves */
#define RUNS 5000	/* inputs make check runs */

static struct kv_thread *th;
static struct il_loop *loop;

struct client {
	int fd;			/* the client's end; -1: none */
	int sfd;		/* the server's end, to find its kv_conn */
};
static struct client cl[NCONN];

static void setup(void)
{
	struct store_cfg sc = { .mem_limit = MEM, .item_max = 100 * 1024, .nshards = 2,
				.page_size = 64 * 1024 };
	struct il_mode m;
	struct il_group *g;
	char err[200];

	if (th)
		return;
	signal(SIGPIPE, SIG_IGN);	/* as main.c: a gone client is an error return */
	kv_settings_init(&kv_set);
	kv_clock_init();
	il_mode_preset("base", &m);
	g = il_group_new(NULL, 1, &m, err, sizeof(err));
	if (!g || kv_threads_init(g, store_new(&sc))) {
		fprintf(stderr, "kv_fuzz: setup failed: %s\n", g ? "threads" : err);
		abort();
	}
	th = &kv_threads[0];
	loop = th->loop;
	for (int i = 0; i < NCONN; i++)
		cl[i].fd = -1;
}

/* The server's connection of client i, NULL once the server closed it. */
static struct kv_conn *conn_of(int i)
{
	for (struct kv_conn *c = th->conns; c; c = c->next)
		if (cl[i].fd >= 0 && c->io.fd == cl[i].sfd)
			return c;
	return NULL;
}

static void client_open(int i)
{
	int sv[2], small = 4096;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
		abort();
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	cl[i].fd = sv[0];
	cl[i].sfd = sv[1];
	kv_set.verbose = 0;	/* an input's "verbosity 2" would log each one */
	kv_conn_open(loop, sv[1], 0);
}

static void client_close(int i)
{
	if (cl[i].fd >= 0)
		close(cl[i].fd);
	cl[i].fd = -1;
}

/* What the loop would do for connection i: EPOLLOUT while it waits to
 * write (the client may have read), EPOLLIN (a read that finds nothing is
 * what a spurious wake-up does) as long as the server takes bytes. */
static void serve(int i)
{
	for (int n = 0; n < 8; n++) {
		struct kv_conn *c = conn_of(i);
		uint64_t got = th->st.bytes_read, reads = th->st.reads;

		if (!c)
			return;
		c->io.fn(loop, &c->io, EPOLLIN | (c->want_out ? EPOLLOUT : 0));
		if (th->st.bytes_read == got && th->st.reads == reads)
			return;		/* nothing read: nothing more to do now */
	}
}

static void client_send(int i, const uint8_t *p, size_t n)
{
	while (n && cl[i].fd >= 0) {
		ssize_t w = write(cl[i].fd, p, n);

		if (w <= 0) {
			/* the server is not reading (paused or gone): serve
			 * it once and give up the rest if it still is not */
			struct kv_conn *c = conn_of(i);
			size_t before = c ? c->in.len : 0;

			serve(i);
			if (!conn_of(i) || conn_of(i)->in.len == before)
				return;
			continue;
		}
		p += w;
		n -= (size_t)w;
		serve(i);
	}
}

static void client_read(int i, size_t max)
{
	char b[4096];

	while (max && cl[i].fd >= 0) {
		ssize_t r = read(cl[i].fd, b, max < sizeof(b) ? max : sizeof(b));

		if (r <= 0)
			break;
		max -= (size_t)r;
	}
	serve(i);
}

static void check_store(void)
{
	struct store_stats ss;
	uint64_t items = 0;

	store_stats(kv_store, &ss);
	for (int c = 0; c < store_classes(kv_store); c++) {
		struct store_class sc;

		store_class_stats(kv_store, c, &sc);
		items += sc.items;
	}
	if (items != ss.curr_items || ss.mem_used > MEM)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t budget[] = { 16, 1, 0, 16 };
	size_t pos = 1, nconn;

	setup();
	if (!size)
		return 0;
	kv_set.read_buf_mb = budget[data[0] & 3];
	kv_set.idle_timeout = data[0] & 4 ? 3 : 0;
	kv_set.verbose = 0;
	nconn = 1 + (data[0] >> 3) % NCONN;
	th->now = 10;
	store_flush(kv_store, th->now, 0);
	for (size_t i = 0; i < nconn; i++)
		client_open((int)i);
	while (pos < size) {
		int op = data[pos] >> 5, i = (int)(data[pos] & 3) % (int)nconn;
		size_t arg = pos + 1 < size ? data[pos + 1] : 0, n;

		pos += 2;
		if (!conn_of(i)) {	/* closed by either side: a new client */
			client_close(i);
			client_open(i);
		}
		switch (op) {
		case 0: case 1: case 2: case 3:
			n = op == 3 ? (arg + 1) * 16 : arg + 1;
			if (pos >= size)
				break;
			if (n > size - pos)
				n = size - pos;
			client_send(i, data + pos, n);
			pos += n;
			break;
		case 4:
			client_read(i, (arg + 1) * 1024);
			break;
		case 5:
			th->now += (uint32_t)(arg % 64);
			if (kv_set.idle_timeout)
				kv_conn_idle_check(th);
			break;
		case 6:
			shutdown(cl[i].fd, SHUT_WR);
			serve(i);
			client_close(i);
			break;
		default:
			for (size_t k = 0; k < nconn; k++)
				serve((int)k);
			break;
		}
		for (struct kv_conn *c = th->conns; c; c = c->next)
			if (c->rpos > c->in.len)
				abort();	/* parsed past the input */
	}
	/* the clients read everything, then leave */
	for (size_t i = 0; i < nconn; i++)
		client_read((int)i, 1 << 30);
	kv_conn_close_all(th);
	for (size_t i = 0; i < nconn; i++)
		client_close((int)i);
	if (__atomic_load_n(&kv_curr_conns, __ATOMIC_RELAXED) != 0 ||
	    kv_read_buf_bytes != (size_t)th->nblocks * 16384)
		abort();	/* a connection or input buffer not accounted */
	check_store();
	return 0;
}

#ifndef KV_LIBFUZZER
/* make check: RUNS inputs made of the seed commands below, sent in
 * pseudo-random pieces over pseudo-random connections, with reads, clock
 * steps and hang-ups in between, some bytes flipped.
 * Long on purpose: the replay loop and its checks read best in one piece. */
int main(void)
{
	static const char *seeds[] = {
		"set a 0 0 1\r\nx\r\n", "get a b c\r\n", "gets a\r\n", "ms k 2 T0 F1 c k b\r\nhi\r\n",
		"mg k v s f t c k O1 q h l\r\n", "ma k N0 J5 D2 MD v t c\r\n", "md k q C5\r\n",
		"incr a 5\r\n", "cas a 0 0 1 3\r\ny\r\n", "gat 10 a b\r\n", "flush_all 5\r\n",
		"append a 0 0 1 noreply\r\nz\r\n", "touch a 5\r\n", "me a\r\n", "mn\r\n",
		"set big 0 0 300000\r\n", "verbosity 1\r\n", "stats settings\r\n",
		"set e 0 2 3\r\nabc\r\n", "stats slabs\r\nstats items\r\n", "GET / HTTP/1.1\r\n",
		"set v 0 0 40000\r\n", "get v v v v v v v v v v v v v v v v v v v v v v\r\n",
		"quit\r\n", "stats reset\r\n", "delete a\r\n",
	};
	static char v[40002];
	static uint8_t in[16384];
	unsigned seed = 4242;
	int runs = 0;

	memset(v, 'v', 40000);
	memcpy(v + 40000, "\r\n", 2);
	for (int r = 0; r < RUNS; r++) {
		size_t n = 1;

		seed = seed * 1103515245 + 12345;
		in[0] = (uint8_t)(seed >> 16);
		while (n < 1500) {
			size_t len, k;
			const char *s;

			seed = seed * 1103515245 + 12345;
			k = (seed >> 16) % 16;
			if (k < 11) {	/* a seed command, in 1-3 sends */
				s = seeds[(seed >> 8) % (sizeof(seeds) / sizeof(seeds[0]))];
				len = strlen(s);
				if (!strcmp(s, "set v 0 0 40000\r\n") || !strcmp(s, "set big 0 0 300000\r\n")) {
					/* the value in 4 KiB sends (op 3) */
					if (n + len + 2 + 4 * (4096 + 2) >= sizeof(in))
						break;
					in[n++] = (uint8_t)(1 << 5 | (seed & 3));
					in[n++] = (uint8_t)(len - 1);
					memcpy(in + n, s, len);
					n += len;
					for (int q = 0; q < 4; q++) {
						in[n++] = (uint8_t)(3 << 5 | (seed & 3));
						in[n++] = 255;
						memcpy(in + n, v, 4096);
						n += 4096;
					}
					continue;
				}
				for (size_t off = 0; off < len;) {
					size_t part = len - off;

					seed = seed * 1103515245 + 12345;
					if ((seed >> 20) % 3 == 0 && part > 1)
						part = 1 + (seed >> 8) % (part - 1);
					if (n + 2 + part >= sizeof(in))
						break;
					in[n++] = (uint8_t)((seed >> 24) % 3 << 5 | (seed & 3));
					in[n++] = (uint8_t)(part - 1);
					memcpy(in + n, s + off, part);
					n += part;
					off += part;
				}
			} else if (n + 2 < sizeof(in)) {	/* read, clock, hang-up, serve */
				in[n++] = (uint8_t)((4 + (k - 11) % 4) << 5 | (seed & 3));
				in[n++] = (uint8_t)(seed >> 8);
			}
			if (n + 8300 >= sizeof(in))
				break;
		}
		for (int m = 0; n > 1 && m < r % 4; m++) {
			seed = seed * 1103515245 + 12345;
			in[1 + (seed >> 8) % (n - 1)] ^= (uint8_t)(seed >> 20);
		}
		LLVMFuzzerTestOneInput(in, n);
		runs++;
	}
	ok(runs == RUNS, "%d inputs over 1-4 connections (sends, reads, clock, hang-ups) without a crash", RUNS);
	kv_threads_free();
	store_free(kv_store);
	il_group_free(kv_group);
	return tap_done();
}
#endif
