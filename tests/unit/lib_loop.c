/* Event loop and NAPI steering: the steering policy as a pure function, a
 * real two-thread group accepting on loopback, and the loop's timer and
 * before-wait hook. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tap.h"
#include "irqlab/clock.h"
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

static struct il_group *g;
static int owner[16], nconn;
static pthread_t conn_thread[16], runner_thread;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void on_conn(struct il_loop *l, int fd, uint32_t napi)
{
	(void)napi;
	pthread_mutex_lock(&mu);
	conn_thread[nconn] = pthread_self();
	owner[nconn++] = il_loop_index(l);
	pthread_mutex_unlock(&mu);
	close(fd);
	il_loop_conn_closed(l);
	if (nconn == 4)
		il_group_stop(g);
}

static void *runner(void *arg)
{
	(void)arg;
	il_group_run(g);
	return NULL;
}

/* Loop 0 runs in the thread that calls il_group_run, loop 1 in its own. */
static int own_threads(void)
{
	pthread_t t1 = 0;

	for (int i = 0; i < nconn; i++) {
		if (owner[i] == 0 && !pthread_equal(conn_thread[i], runner_thread))
			return 0;
		if (owner[i] == 1 && pthread_equal(conn_thread[i], runner_thread))
			return 0;
		if (owner[i] == 1 && t1 && !pthread_equal(conn_thread[i], t1))
			return 0;
		if (owner[i] == 1)
			t1 = conn_thread[i];
	}
	return 1;
}

static void test_group(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	struct il_loop_stats s0, s1;
	struct il_group_stats gs;
	struct il_mode m;
	char err[200];
	int lfd, fds[4];

	il_mode_preset("base", &m);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 16) ||
	    getsockname(lfd, (struct sockaddr *)&a, &len)) {
		tap_skip("no loopback TCP here");
		return;
	}
	g = il_group_new(NULL, 2, &m, err, sizeof(err));
	ok(g && il_group_size(g) == 2 && il_loop_cpu(il_group_loop(g, 1)) == -1,
	   "group of 2 loops, unpinned");
	ok(il_group_listen(g, lfd, on_conn) == 0, "listen on loop 0");
	pthread_create(&runner_thread, NULL, runner, NULL);
	for (int i = 0; i < 4; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		connect(fds[i], (struct sockaddr *)&a, sizeof(a));
	}
	pthread_join(runner_thread, NULL);
	ok(nconn == 4, "4 connections delivered");
	{
		int n0 = 0, n1 = 0;

		for (int i = 0; i < nconn; i++) {
			n0 += owner[i] == 0;
			n1 += owner[i] == 1;
		}
		ok(n0 == 2 && n1 == 2 && own_threads(),
		   "loopback (NAPI id 0): round robin, 2 connections per loop, each run by its own thread");
	}
	il_group_stats(g, &gs);
	il_loop_stats(il_group_loop(g, 0), &s0);
	il_loop_stats(il_group_loop(g, 1), &s1);
	ok(gs.round_robin == 4 && gs.accepted == 4 && s1.handoffs == 2 &&
	   s0.conns_total == 2 && s1.conns == 0,
	   "counters: 4 accepted, 4 round-robin picks, 2 handoffs to loop 1, all closed");
	ok(s0.waits > 0 && s1.waits > 0, "both loops waited in epoll");
	for (int i = 0; i < 4; i++)
		close(fds[i]);
	close(lfd);
	il_group_free(g);

	m.busy_poll_usecs = 10;
	m.busy_poll_budget = 8;
	m.prefer_busy_poll = 1;
	g = il_group_new(NULL, 1, &m, err, sizeof(err));
	ok(g || strstr(err, "needs Linux 6.9"),
	   "epoll busy-poll knobs applied, or refused in words: %s", g ? "applied" : err);
	il_group_free(g);
	ok(strstr(il_epoll_strerror(-25 /* ENOTTY */), "Linux 6.9") &&
	   strstr(il_epoll_strerror(-1 /* EPERM */), "CAP_NET_ADMIN"),
	   "EPIOCSPARAMS errors in words");
	ok(!il_group_new(NULL, 0, &m, err, sizeof(err)) && strstr(err, "1-64"),
	   "0 loops refused: %s", err);
}

/* The timer and the before-wait hook on an idle loop: nothing but the
 * timer can wake it, so 5 runs 10 ms apart take about 50 ms, not the 1 s
 * an idle wait would otherwise block. */
static int timer_runs, hook_runs, clock_ok = 1;
static uint64_t last_now;

static uint64_t on_timer(struct il_loop *l, uint64_t now)
{
	if (now < last_now || now != il_loop_now_ns(l))
		clock_ok = 0;
	last_now = now;
	if (++timer_runs == 5) {
		il_group_stop(g);
		return 0;
	}
	return now + 10 * 1000000;
}

static void before_wait(struct il_loop *l)
{
	(void)l;
	hook_runs++;
}

static void test_timer(void)
{
	struct il_loop_stats st;
	struct il_mode m;
	char err[200];
	uint64_t t0;
	int rc;

	il_mode_preset("base", &m);
	g = il_group_new(NULL, 1, &m, err, sizeof(err));
	if (!ok(g != NULL, "group of 1 loop"))
		return;
	il_loop_set_timer(il_group_loop(g, 0), 0, on_timer);
	il_loop_set_before_wait(il_group_loop(g, 0), before_wait);
	t0 = il_now_ns();
	rc = il_group_run(g);
	t0 = (il_now_ns() - t0) / 1000000;
	il_loop_stats(il_group_loop(g, 0), &st);
	ok(rc == 0 && timer_runs == 5 && st.timer_runs == 5, "timer ran 5 times (stats: %llu)",
	   (unsigned long long)st.timer_runs);
	ok(t0 >= 35 && t0 < 500, "an idle loop wakes for its timer: 5 runs 10 ms apart in %llu ms",
	   (unsigned long long)t0);
	ok(hook_runs >= 5, "before-wait hook ran before each wait (%d)", hook_runs);
	ok(clock_ok && last_now, "the timer gets the loop's clock, read after each wait");
	il_group_free(g);
}

int main(void)
{
	test_steer();
	test_group();
	test_timer();
	return tap_done();
}
