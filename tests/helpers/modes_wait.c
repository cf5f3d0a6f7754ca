/* A tiny epoll program for tests/integration/shim_env.sh: it shows what
 * the preload shim did to it, seen from inside an unmodified application.
 *
 *   modes_wait [--pwait] TIMEOUT_MS [WRITE_AFTER_MS]
 *
 * Creates one epoll fd with epoll_create1 and one with epoll_create, prints
 * their busy-poll parameters as the kernel reports them (EPIOCGPARAMS),
 * then waits once on a pipe with epoll_wait (or epoll_pwait) and TIMEOUT_MS;
 * with WRITE_AFTER_MS a thread writes to the pipe after that long. Prints:
 *   params create1=USECS/BUDGET/PREFER create=USECS/BUDGET/PREFER
 *   wait n=N ms=ELAPSED */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "irqlab/compat.h"

static int pipefd[2];
static int write_after_ms = -1;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void *writer(void *arg)
{
	(void)arg;
	usleep((useconds_t)write_after_ms * 1000);
	if (write(pipefd[1], "x", 1) != 1)
		perror("write");
	return NULL;
}

static void params(int fd, char *buf, size_t len)
{
	struct epoll_params p;

	memset(&p, 0, sizeof(p));
	if (ioctl(fd, EPIOCGPARAMS, &p) < 0)
		snprintf(buf, len, "error:%s", strerror(errno));
	else
		snprintf(buf, len, "%u/%u/%u", p.busy_poll_usecs,
			 (unsigned)p.busy_poll_budget, (unsigned)p.prefer_busy_poll);
}

int main(int argc, char **argv)
{
	struct epoll_event ev = { .events = EPOLLIN }, out;
	char p1[64], p2[64];
	int use_pwait = 0, ep1, ep2, timeout, n;
	pthread_t t;
	double t0;

	if (argc > 1 && strcmp(argv[1], "--pwait") == 0) {
		use_pwait = 1;
		argv++, argc--;
	}
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: modes_wait [--pwait] TIMEOUT_MS [WRITE_AFTER_MS]\n");
		return 2;
	}
	timeout = atoi(argv[1]);
	if (argc == 3)
		write_after_ms = atoi(argv[2]);
	ep1 = epoll_create1(EPOLL_CLOEXEC);
	ep2 = epoll_create(1);
	if (ep1 < 0 || ep2 < 0 || pipe(pipefd) < 0) {
		perror("epoll_create/pipe");
		return 1;
	}
	params(ep1, p1, sizeof(p1));
	params(ep2, p2, sizeof(p2));
	printf("params create1=%s create=%s\n", p1, p2);
	ev.data.fd = pipefd[0];
	if (epoll_ctl(ep1, EPOLL_CTL_ADD, pipefd[0], &ev) < 0) {
		perror("epoll_ctl");
		return 1;
	}
	if (write_after_ms >= 0 && pthread_create(&t, NULL, writer, NULL)) {
		fprintf(stderr, "pthread_create failed\n");
		return 1;
	}
	t0 = now_ms();
	if (use_pwait) {
		sigset_t mask;

		sigemptyset(&mask);
		n = epoll_pwait(ep1, &out, 1, timeout, &mask);
	} else {
		n = epoll_wait(ep1, &out, 1, timeout);
	}
	printf("wait n=%d ms=%.0f\n", n, now_ms() - t0);
	if (write_after_ms >= 0)
		pthread_join(t, NULL);
	return 0;
}
