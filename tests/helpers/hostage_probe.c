/* A 1-ms latency probe for a memcached-protocol server that shares a NAPI
 * with a server in IRQ-suspend mode (tests/integration/hostage.sh,
 * docs/bench.md "The hostage risk"). One connection, one `get` of a
 * missing key every --interval-us on a fixed schedule; a reply's latency
 * is measured from its scheduled send time, so a stall shows as its full
 * length even though the probe waits for each reply before sending the
 * next (no coordinated omission).
 *
 * Optionally it stops another process itself (--stop PID --stop-at S
 * --stop-for S: SIGSTOP, then SIGCONT) so the stop and the samples share
 * one clock. It prints key=value lines: the probe's windows before, during
 * and after the stop (n, p50, p99, max in us), the worst stall and where
 * it began, and every stall over --stall-us as "stall at_ms=... us=...".
 * Times are ms since the first scheduled send; "start_realtime" is that
 * instant in CLOCK_REALTIME seconds, for lining up with other logs.
 *   hostage_probe -s HOST:PORT [--interval-us 1000] [--duration S]
 *                 [--stop PID --stop-at S --stop-for S] [--stall-us US]
 *                 [--log FILE]
 * Exit: 0 ok, 1 the server stopped answering (2 s) or an error, 2 usage. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "irqlab/clock.h"

#define REPLY_TIMEOUT_MS 2000

static struct {
	char host[64];
	int port;
	uint64_t interval_ns;
	double duration_s;
	pid_t stop_pid;
	double stop_at_s, stop_for_s;
	uint64_t stall_ns;
	const char *log;
} o = { .interval_ns = 1000000, .duration_s = 3, .stall_ns = 5000000 };

static uint64_t t0;	/* first scheduled send, CLOCK_MONOTONIC ns */

static void sleep_until(uint64_t t)
{
	struct timespec ts = { (time_t)(t / 1000000000ull), (long)(t % 1000000000ull) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* The stopper runs on its own thread: a stalled reply must not delay the
 * SIGCONT, or the stop would be longer than asked. */
static void *stopper(void *arg)
{
	(void)arg;
	sleep_until(t0 + (uint64_t)(o.stop_at_s * 1e9));
	kill(o.stop_pid, SIGSTOP);
	sleep_until(t0 + (uint64_t)((o.stop_at_s + o.stop_for_s) * 1e9));
	kill(o.stop_pid, SIGCONT);
	return NULL;
}

static int dial(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)o.port) };
	int fd, one = 1;

	if (inet_pton(AF_INET, o.host, &sa.sin_addr) != 1) {
		fprintf(stderr, "hostage_probe: -s: '%s' is not an IPv4 address\n", o.host);
		return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		fprintf(stderr, "hostage_probe: connect %s:%d: %s\n", o.host, o.port, strerror(errno));
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* One request, waits for its "END\r\n" (bounded). */
static int ask(int fd)
{
	static const char req[] = "get hostage_probe_key\r\n";
	char buf[256];
	size_t have = 0;

	if (send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof(req) - 1))
		return -1;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, REPLY_TIMEOUT_MS) <= 0)
			return -1;
		n = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);
		if (n <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = 0;
		if (strstr(buf, "END\r\n"))
			return 0;
		if (have >= sizeof(buf) - 1)
			return -1;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* key=value summary of the samples whose send time is in [from, to) ms */
static void window(const char *name, const uint64_t *at, const uint64_t *lat, size_t n,
		   double from_ms, double to_ms)
{
	uint64_t *v = malloc((n ? n : 1) * sizeof(*v));
	size_t k = 0;

	for (size_t i = 0; v && i < n; i++)
		if (at[i] / 1e6 >= from_ms && at[i] / 1e6 < to_ms)
			v[k++] = lat[i];
	if (!v || !k) {
		printf("%s_n=0\n", name);
		free(v);
		return;
	}
	qsort(v, k, sizeof(*v), cmp_u64);
	printf("%s_n=%zu %s_p50_us=%.0f %s_p99_us=%.0f %s_max_us=%.0f\n", name, k,
	       name, v[k / 2] / 1e3, name, v[(k * 99) / 100] / 1e3, name, v[k - 1] / 1e3);
	free(v);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: hostage_probe -s HOST:PORT [--interval-us US] [--duration S]\n"
		   "                     [--stop PID --stop-at S --stop-for S] [--stall-us US] [--log FILE]\n");
}

static int parse(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "server", 1, 0, 's' }, { "interval-us", 1, 0, 'i' }, { "duration", 1, 0, 'd' },
		{ "stop", 1, 0, 'p' }, { "stop-at", 1, 0, 'a' }, { "stop-for", 1, 0, 'f' },
		{ "stall-us", 1, 0, 'S' }, { "log", 1, 0, 'l' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 }
	};
	int c;
	char *colon;

	while ((c = getopt_long(argc, argv, "s:h", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			snprintf(o.host, sizeof(o.host), "%s", optarg);
			colon = strchr(o.host, ':');
			if (!colon || (o.port = atoi(colon + 1)) < 1 || o.port > 65535) {
				fprintf(stderr, "hostage_probe: -s: want HOST:PORT with PORT 1-65535\n");
				return -1;
			}
			*colon = 0;
			break;
		case 'i':
			if (atof(optarg) < 100 || atof(optarg) > 1e6) {
				fprintf(stderr, "hostage_probe: --interval-us: 100-1000000\n");
				return -1;
			}
			o.interval_ns = (uint64_t)(atof(optarg) * 1e3);
			break;
		case 'd':
			if ((o.duration_s = atof(optarg)) <= 0 || o.duration_s > 600) {
				fprintf(stderr, "hostage_probe: --duration: 0-600 s\n");
				return -1;
			}
			break;
		case 'p': o.stop_pid = (pid_t)atoi(optarg); break;
		case 'a': o.stop_at_s = atof(optarg); break;
		case 'f': o.stop_for_s = atof(optarg); break;
		case 'S': o.stall_ns = (uint64_t)(atof(optarg) * 1e3); break;
		case 'l': o.log = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (!o.port) {
		usage(stderr);
		return -1;
	}
	if (o.stop_pid && (o.stop_for_s <= 0 || o.stop_at_s < 0 ||
			   o.stop_at_s + o.stop_for_s >= o.duration_s)) {
		fprintf(stderr, "hostage_probe: --stop-at/--stop-for: the stop must end before --duration\n");
		return -1;
	}
	return 0;
}

/* The probe's samples: send time since t0 and latency, in ns. */
struct samples {
	uint64_t *at, *lat;
	size_t n, cap;
	uint64_t worst, worst_at;
};

/* One get per interval on the fixed schedule until --duration; 1 when the
 * server stops answering. */
static int probe(int fd, FILE *log, struct samples *sm)
{
	for (sm->n = 0; sm->n < sm->cap; sm->n++) {
		size_t n = sm->n;
		uint64_t due = t0 + n * o.interval_ns, done;

		if (due - t0 >= (uint64_t)(o.duration_s * 1e9))
			break;
		sleep_until(due);
		if (ask(fd)) {
			fprintf(stderr, "hostage_probe: no answer within %d ms at %.1f ms\n",
				REPLY_TIMEOUT_MS, (due - t0) / 1e6);
			return 1;
		}
		done = il_now_ns();
		sm->at[n] = due - t0;
		sm->lat[n] = done - due;
		if (sm->lat[n] > sm->worst) {
			sm->worst = sm->lat[n];
			sm->worst_at = sm->at[n];
		}
		if (log)
			fprintf(log, "%.3f %.1f\n", sm->at[n] / 1e6, sm->lat[n] / 1e3);
	}
	return 0;
}

/* stalls: runs of samples over the threshold, reported by their first
 * sample's send time and the longest latency in the run */
static void print_stalls(const uint64_t *at, const uint64_t *lat, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (lat[i] < o.stall_ns)
			continue;
		size_t j = i;
		uint64_t m = lat[i];

		while (j + 1 < n && at[j + 1] < at[i] + m) {	/* sent during the stall */
			j++;
			if (at[j] + lat[j] > at[i] + m)
				m = at[j] + lat[j] - at[i];
		}
		printf("stall at_ms=%.1f us=%.0f\n", at[i] / 1e6, m / 1e3);
		i = j;
	}
}

static void report(const struct samples *sm, const struct timespec *rt)
{
	printf("start_realtime=%.6f samples=%zu worst_us=%.0f worst_at_ms=%.1f\n",
	       rt->tv_sec + rt->tv_nsec / 1e9 + 0.001, sm->n, sm->worst / 1e3, sm->worst_at / 1e6);
	window("all", sm->at, sm->lat, sm->n, 0, 1e12);
	if (o.stop_pid) {
		double a = o.stop_at_s * 1e3, b = (o.stop_at_s + o.stop_for_s) * 1e3;

		window("before", sm->at, sm->lat, sm->n, 0, a);
		window("stopped", sm->at, sm->lat, sm->n, a, b);
		/* the first 50 ms after SIGCONT belong to the recovery */
		window("after", sm->at, sm->lat, sm->n, b + 50, 1e12);
	}
	print_stalls(sm->at, sm->lat, sm->n);
}

int main(int argc, char **argv)
{
	struct samples sm = { 0 };
	pthread_t th;
	struct timespec rt;
	int fd, rc;
	FILE *log = NULL;

	if (parse(argc, argv))
		return 2;
	if ((fd = dial()) < 0)
		return 1;
	if (o.log && !(log = fopen(o.log, "w"))) {
		fprintf(stderr, "hostage_probe: --log %s: %s\n", o.log, strerror(errno));
		return 1;
	}
	sm.cap = (size_t)(o.duration_s * 1e9 / (double)o.interval_ns) + 2;
	sm.at = calloc(sm.cap, sizeof(*sm.at));
	sm.lat = calloc(sm.cap, sizeof(*sm.lat));
	if (!sm.at || !sm.lat)
		return 1;
	t0 = il_now_ns() + 1000000;
	clock_gettime(CLOCK_REALTIME, &rt);
	if (o.stop_pid && pthread_create(&th, NULL, stopper, NULL)) {
		fprintf(stderr, "hostage_probe: thread: %s\n", strerror(errno));
		return 1;
	}
	rc = probe(fd, log, &sm);
	if (o.stop_pid) {
		pthread_join(th, NULL);
		kill(o.stop_pid, SIGCONT);	/* whatever happened above */
	}
	report(&sm, &rt);
	if (log)
		fclose(log);
	free(sm.at);
	free(sm.lat);
	close(fd);
	return rc;
}
