/* Event loop and NAPI steering: the steering policy as a pure function,
 * --cpus parsing, and a real two-thread group accepting on loopback. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tap.h"
#include "irqlab/loop.h"

static void test_steer(void)
{
	struct il_steer s;
	uint32_t map[4] = { 101, 102, 0, 104 };
	int t[8];

	il_steer_init(&s, 2);
	t[0] = il_steer_pick(&s, 0);
	t[1] = il_steer_pick(&s, 0);
	t[2] = il_steer_pick(&s, 0);
	ok(t[0] == 0 && t[1] == 1 && t[2] == 0 && s.round_robin == 3,
	   "id 0 (no NAPI) goes round robin");
	t[0] = il_steer_pick(&s, 77);
	t[1] = il_steer_pick(&s, 88);
	t[2] = il_steer_pick(&s, 77);
	t[3] = il_steer_pick(&s, 99);
	ok(t[0] == 0 && t[1] == 1 && t[2] == 0 && t[3] == 0,
	   "first come: a new id takes the next thread, a known id keeps its thread");
	ok(s.first_come == 3 && s.by_napi == 1, "counters: 3 first-come, 1 by napi");

	il_steer_init(&s, 3);
	il_steer_map_queues(&s, map, 4);
	ok(il_steer_pick(&s, 101) == 0 && il_steer_pick(&s, 102) == 1 &&
	   il_steer_pick(&s, 104) == 0, "queue i's NAPI goes to thread i mod n (queue 3 -> 0)");
	ok(s.by_napi == 3 && s.first_come == 0, "mapped ids count as steered by napi");
	ok(il_steer_pick(&s, 555) == 1, "an id not in the map continues after the map");

	il_steer_init(&s, 1);
	for (uint32_t id = 1; id < 1000; id++)
		il_steer_pick(&s, id);
	ok(il_steer_pick(&s, 5) == 0 && s.nmap == IL_STEER_MAX,
	   "one thread: everything on thread 0, table bounded");
}

static struct il_group g;
static int owner[16], nconn;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void on_conn(struct il_loop *l, int fd, uint32_t napi)
{
	(void)napi;
	pthread_mutex_lock(&mu);
	owner[nconn++] = l->idx;
	pthread_mutex_unlock(&mu);
	/* the thread that runs this must be the loop's own */
	if (l->idx > 0 && !pthread_equal(pthread_self(), l->tid))
		owner[nconn - 1] = -1;
	close(fd);
	il_loop_conn_closed(l);
	if (nconn == 4)
		il_group_stop(&g);
}

static void *runner(void *arg)
{
	(void)arg;
	il_group_run(&g);
	return NULL;
}

static void test_group(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	struct il_mode m;
	char err[200];
	pthread_t th;
	int lfd, fds[4];

	il_mode_preset("base", &m);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 16) ||
	    getsockname(lfd, (struct sockaddr *)&a, &len)) {
		tap_skip("no loopback TCP here");
		return;
	}
	ok(il_group_init(&g, NULL, 2, &m, err, sizeof(err)) == 0, "group of 2 loops");
	ok(il_group_listen(&g, lfd, on_conn) == 0, "listen on loop 0");
	pthread_create(&th, NULL, runner, NULL);
	for (int i = 0; i < 4; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		connect(fds[i], (struct sockaddr *)&a, sizeof(a));
	}
	pthread_join(th, NULL);
	ok(nconn == 4, "4 connections delivered");
	{
		int n0 = 0, n1 = 0;

		for (int i = 0; i < nconn; i++) {
			n0 += owner[i] == 0;
			n1 += owner[i] == 1;
		}
		ok(n0 == 2 && n1 == 2,
		   "loopback (NAPI id 0): round robin, 2 connections per loop, each run by its own thread");
	}
	ok(g.steer.round_robin == 4 && g.loops[1].st.handoffs == 2,
	   "counters: 4 round-robin picks, 2 handoffs to loop 1");
	ok(g.loops[0].st.waits > 0 && g.loops[1].st.waits > 0, "both loops waited in epoll");
	for (int i = 0; i < 4; i++)
		close(fds[i]);
	close(lfd);
	il_group_free(&g);

	m.busy_poll_usecs = 10;
	m.busy_poll_budget = 8;
	m.prefer_busy_poll = 1;
	{
		int rc = il_group_init(&g, NULL, 1, &m, err, sizeof(err));

		ok(rc == 0 || strstr(err, "needs Linux 6.9"),
		   "epoll busy-poll knobs applied, or refused in words: %s", rc ? err : "applied");
		if (rc == 0)
			il_group_free(&g);
	}
	ok(strstr(il_epoll_strerror(-25 /* ENOTTY */), "Linux 6.9") &&
	   strstr(il_epoll_strerror(-1 /* EPERM */), "CAP_NET_ADMIN"),
	   "EPIOCSPARAMS errors in words");
}

int main(void)
{
	test_steer();
	test_group();
	return tap_done();
}
