/* /proc accounting: the readers parse this machine's files, counters move
 * the right way, CPU burnt by a process that is not ours shows up as noise
 * and ours does not, and the CPU split always sums to 100. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "irqlab/sysstat.h"
#include "tap.h"

/* a global sink keeps the busy loop from being optimised away */
static volatile unsigned long x;

/* Burns s seconds of this process's own CPU time, not wall time, so the
 * amount is the same on a loaded machine. */
static void burn(double s)
{
	struct timespec a, b;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	do {
		for (int i = 0; i < 100000; i++)
			x += (unsigned long)i;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	} while ((b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9 < s);
}

static pid_t burner(double s)
{
	pid_t p = fork();

	if (p == 0) {
		burn(s);
		_exit(0);
	}
	return p;
}

/* /proc/stat, /proc/softirqs and /proc/interrupts of cpu0. */
static void test_cpu_counters(void)
{
	struct il_cpu_time c0, c1;
	uint64_t v, v2;

	ok(il_cpu_time(0, &c0) == 0 && c0.user + c0.system + c0.idle > 0, "cpu0 line of /proc/stat parsed");
	ok(il_cpu_time(4096, &c1) == -ENOENT, "a CPU that does not exist is -ENOENT");
	ok(il_softirq_count("NET_RX", 0, &v) == 0, "NET_RX count of cpu0 read");
	ok(il_softirq_count("TIMER", 0, &v) == 0 && v > 0, "TIMER softirqs of cpu0 > 0");
	ok(il_softirq_count("NOPE", 0, &v) == -ENOENT, "unknown softirq is -ENOENT");
	ok(il_irq_count(0, &v) == 0 && v > 0, "interrupts of cpu0 > 0");
	burn(0.05);
	ok(il_irq_count(0, &v2) == 0 && v2 >= v, "interrupt count does not go backwards");
}

/* Our own /proc/PID/stat, and /proc/net/netstat's TcpExt line. */
static void test_proc_and_netstat(void)
{
	struct il_proc_time p0, p1;
	uint64_t v;

	ok(il_proc_time(getpid(), &p0) == 0, "own /proc/PID/stat read");
	burn(0.3);
	usleep(20000);
	ok(il_proc_time(getpid(), &p1) == 0, "read again");
	ok(p1.utime + p1.stime >= p0.utime + p0.stime + 10 * sysconf(_SC_CLK_TCK) / 100 / 2,
	   "0.3 s of burning shows in utime+stime (%llu -> %llu ticks)",
	   (unsigned long long)(p0.utime + p0.stime), (unsigned long long)(p1.utime + p1.stime));
	ok(p1.vcsw > p0.vcsw, "sleeping counts a voluntary context switch");
	ok(il_proc_time(999999999, &p1) < 0, "a pid that does not exist fails");

	ok(il_netstat(0, "BusyPollRxPackets", &v) == 0, "TcpExt BusyPollRxPackets read");
	ok(il_netstat(0, "NoSuchCounter", &v) == -ENOENT, "unknown TcpExt key is -ENOENT");
}

/* Two snapshots over the same interval, one listing the burner as ours:
 * their difference is the burner alone, whatever else the shared machine
 * runs meanwhile. */
static void test_noise_foreign(void)
{
	struct il_noise *all, *mine;
	struct il_proc_time b0, b1;
	double t_mine, t_all;
	char top[64];
	pid_t b;

	b = burner(2);
	usleep(50000);
	all = il_noise_start(NULL, 0);
	mine = il_noise_start(&b, 1);
	il_proc_time(b, &b0);
	/* wait until the burner has had 0.3 s of CPU (at most 5 s): on a
	 * loaded machine 400 ms of wall time may give it much less */
	for (int i = 0; i < 500; i++) {
		usleep(10000);
		il_proc_time(b, &b1);
		if (il_ticks_to_s(b1.utime + b1.stime - b0.utime - b0.stime) >= 0.3)
			break;
	}
	t_mine = il_ticks_to_s(il_noise_end(mine, NULL, 0));
	t_all = il_ticks_to_s(il_noise_end(all, top, sizeof(top)));
	ok(t_all - t_mine >= 0.15, "a foreign busy process counts as noise, listed as ours it does not "
	   "(%.2f s vs %.2f s)", t_all, t_mine);
	tap_diag("largest consumer: %s", top);
	kill(b, SIGKILL);
	waitpid(b, NULL, 0);
}

/* A foreign parent whose child burns and exits inside the interval: seen
 * through the parent's children time. -1 when a pipe fails. */
static int test_noise_child(void)
{
	struct il_noise *all, *mine;
	double t_mine, t_all;
	int go[2], done[2];
	pid_t parent;
	char c;

	if (pipe(go) || pipe(done))
		return -1;
	parent = fork();
	if (parent == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		waitpid(burner(0.3), NULL, 0);
		if (write(done[1], "x", 1) != 1)
			_exit(1);
		pause();	/* alive until killed, after the end snapshot */
		_exit(0);
	}
	close(go[0]);
	all = il_noise_start(NULL, 0);
	mine = il_noise_start(&parent, 1);
	if (write(go[1], "x", 1) != 1)
		return -1;
	/* end the interval once the child is reaped, however long the
	 * loaded machine took to give it its 0.3 s of CPU */
	if (read(done[0], &c, 1) != 1)
		return -1;
	usleep(20000);
	t_mine = il_ticks_to_s(il_noise_end(mine, NULL, 0));
	t_all = il_ticks_to_s(il_noise_end(all, NULL, 0));
	ok(t_all - t_mine >= 0.2, "a short-lived foreign process counts through its parent "
	   "(%.2f s vs %.2f s)", t_all, t_mine);
	kill(parent, SIGKILL);
	waitpid(parent, NULL, 0);
	close(go[1]);
	return 0;
}

static void test_cpu_split(void)
{
	struct il_cpu_split sp;

	il_cpu_split(0.2, 0.3, 0.1, 1.0, &sp);
	ok(fabs(sp.user - 20) < 1e-9 && fabs(sp.sys - 30) < 1e-9 && fabs(sp.softirq - 10) < 1e-9 &&
	   fabs(sp.idle - 40) < 1e-9, "split: shares of wall time, idle is the rest");
	il_cpu_split(0.6, 0.6, 0.3, 1.0, &sp);
	ok(fabs(sp.user + sp.sys + sp.softirq - 100) < 1e-9 && sp.idle == 0 && fabs(sp.user - 40) < 1e-9,
	   "split: over-counted busy scales to 100, idle 0");
}

int main(void)
{
	test_cpu_counters();
	test_proc_and_netstat();
	test_noise_foreign();
	if (test_noise_child() < 0)
		return 1;
	test_cpu_split();
	return tap_done();
}
