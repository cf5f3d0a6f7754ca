/* irqlab agent: the server host's measurements for the window of a run
 * (stats-begin / stats-end) and the server's own request counters
 * (server-stats). The same /proc readers and perf counters as the
 * single-host bench (irqlab/sysstat.h, irqlab/perf.h), over the server's
 * cores instead of one CPU. */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "agent.h"
#include "irqlab/clock.h"
#include "irqlab/opt.h"
#include "irqlab/perf.h"
#include "irqlab/sysstat.h"

#define STATS_MAXCPU 256

struct cpu_snap {
	struct il_cpu_time t;
	uint64_t irq, netrx;
};

static struct {
	int on, n;
	int cpu[STATS_MAXCPU];
	struct cpu_snap a[STATS_MAXCPU];
	struct il_perf perf[STATS_MAXCPU];
	int perf_on;
	char perf_why[200];
	double t0;
	pid_t srv;
	struct il_proc_time srv_a;
	uint64_t bpoll;
	int has_srv, has_bpoll;
} S;

static void snap_cpus(struct cpu_snap *s)
{
	for (int i = 0; i < S.n; i++) {
		memset(&s[i], 0, sizeof(s[i]));
		il_cpu_time(S.cpu[i], &s[i].t);
		il_irq_count(S.cpu[i], &s[i].irq);
		il_softirq_count("NET_RX", S.cpu[i], &s[i].netrx);
	}
}

static void perf_close_all(void)
{
	for (int i = 0; i < S.n; i++)
		if (S.perf[i].fd_cycles >= 0)
			il_perf_close(&S.perf[i]);
	S.perf_on = 0;
}

/* Cycles and instructions on every CPU of the window, or none (why). */
static void perf_begin(void)
{
	S.perf_on = 1;
	S.perf_why[0] = 0;
	for (int i = 0; i < S.n; i++)
		S.perf[i] = (struct il_perf){ -1, -1 };
	for (int i = 0; i < S.n && S.perf_on; i++)
		if (il_perf_open(&S.perf[i], S.cpu[i], S.perf_why, sizeof(S.perf_why)) ||
		    il_perf_start(&S.perf[i])) {
			if (!S.perf_why[0])
				snprintf(S.perf_why, sizeof(S.perf_why), "perf counters on cpu %d "
					 "would not start", S.cpu[i]);
			perf_close_all();
		}
}

void agent_sleep_until(double t)
{
	struct timespec ts = { .tv_sec = (time_t)t,
			       .tv_nsec = (long)((t - (double)(time_t)t) * 1e9) };

	if (t <= 0)
		return;
	while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static double wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int agent_stats_begin(json_t *job, json_t *res, pid_t srv, char *err, size_t len)
{
	const char *cpus = json_string_value(json_object_get(job, "cpus"));

	if (S.on)
		perf_close_all();
	S.on = 0;
	if (!cpus) {
		snprintf(err, len, "stats-begin needs \"cpus\" (e.g. \"0-3\")");
		return -1;
	}
	S.n = il_opt_cpus("cpus", cpus, S.cpu, STATS_MAXCPU, err, len);
	if (S.n <= 0)
		return -1;
	for (int i = 0; i < S.n; i++) {
		struct il_cpu_time t;
		if (il_cpu_time(S.cpu[i], &t)) {
			snprintf(err, len, "no cpu%d in /proc/stat (this host has %ld CPUs online)",
				 S.cpu[i], sysconf(_SC_NPROCESSORS_ONLN));
			return -1;
		}
	}
	agent_sleep_until(json_number_value(json_object_get(job, "at")));
	perf_begin();
	S.srv = srv;
	S.has_srv = srv > 0 && il_proc_time(srv, &S.srv_a) == 0;
	S.has_bpoll = il_netstat(srv > 0 ? srv : 0, "BusyPollRxPackets", &S.bpoll) == 0;
	S.t0 = il_now_s();
	snap_cpus(S.a);
	S.on = 1;
	json_object_set_new(res, "at", json_real(wall_now()));
	json_object_set_new(res, "perf", S.perf_on ? json_true() : json_string(S.perf_why));
	return 0;
}

/* One CPU's shares of the window, percent; they sum to 100 (ticks can
 * overshoot the wall time by one: scaled down then, as il_cpu_split). */
static json_t *cpu_split(int i, const struct cpu_snap *b, double wall)
{
	const struct cpu_snap *a = &S.a[i];
#define PCT(f) (100 * il_ticks_to_s(b->t.f - a->t.f) / wall)
	double v[5] = { PCT(user) + PCT(nice), PCT(system), PCT(irq), PCT(softirq), PCT(steal) };
#undef PCT
	double busy = v[0] + v[1] + v[2] + v[3] + v[4];

	if (busy > 100) {
		for (int k = 0; k < 5; k++)
			v[k] *= 100 / busy;
		busy = 100;
	}
	return json_pack("{s:i, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "cpu", S.cpu[i],
			 "user", v[0], "sys", v[1], "irq", v[2], "softirq", v[3], "steal", v[4],
			 "idle", 100 - busy, "irq_per_s", (double)(b->irq - a->irq) / wall,
			 "net_rx_per_s", (double)(b->netrx - a->netrx) / wall);
}

static void perf_end(json_t *res)
{
	uint64_t cyc = 0, ins = 0;

	for (int i = 0; i < S.n && S.perf_on; i++) {
		uint64_t c, n;
		if (il_perf_stop(&S.perf[i], &c, &n)) {
			snprintf(S.perf_why, sizeof(S.perf_why), "perf counters on cpu %d "
				 "could not be read", S.cpu[i]);
			S.perf_on = 0;
			break;
		}
		cyc += c;
		ins += n;
	}
	if (S.perf_on) {
		json_object_set_new(res, "cycles", json_integer((json_int_t)cyc));
		json_object_set_new(res, "instructions", json_integer((json_int_t)ins));
	} else {
		json_object_set_new(res, "perf", json_string(S.perf_why));
	}
	perf_close_all();
}

int agent_stats_end(json_t *job, json_t *res, pid_t srv, char *err, size_t len)
{
	static struct cpu_snap b[STATS_MAXCPU];
	struct il_proc_time sp;
	uint64_t bpoll = 0, irq = 0, netrx = 0;
	json_t *per = json_array();

	if (!S.on) {
		json_decref(per);
		snprintf(err, len, "stats-end without stats-begin");
		return -1;
	}
	agent_sleep_until(json_number_value(json_object_get(job, "at")));
	snap_cpus(b);
	double wall = il_now_s() - S.t0;
	int has_srv = S.has_srv && srv == S.srv && il_proc_time(srv, &sp) == 0;
	int has_bpoll = S.has_bpoll && il_netstat(srv > 0 ? srv : 0, "BusyPollRxPackets", &bpoll) == 0;
	perf_end(res);
	S.on = 0;
	for (int i = 0; i < S.n; i++) {
		json_array_append_new(per, cpu_split(i, &b[i], wall));
		irq += b[i].irq - S.a[i].irq;
		netrx += b[i].netrx - S.a[i].netrx;
	}
	json_object_set_new(res, "wall_s", json_real(wall));
	json_object_set_new(res, "cpus", per);
	json_object_set_new(res, "irq_per_s", json_real((double)irq / wall));
	json_object_set_new(res, "net_rx_per_s", json_real((double)netrx / wall));
	json_object_set_new(res, "cs_per_s", has_srv ? json_real((double)(sp.vcsw + sp.nvcsw -
			    S.srv_a.vcsw - S.srv_a.nvcsw) / wall) : json_null());
	json_object_set_new(res, "busy_polled", has_bpoll ?
			    json_integer((json_int_t)(bpoll - S.bpoll)) : json_null());
	return 0;
}

/* --- server-stats ------------------------------------------------------------ */

static int dial(const char *host, int port, char *err, size_t len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai, *p;
	struct timeval tv = { 5, 0 };
	char svc[16];
	int fd = -1, rc;

	snprintf(svc, sizeof(svc), "%d", port);
	if ((rc = getaddrinfo(host, svc, &hints, &ai))) {
		snprintf(err, len, "%s: %s", host, gai_strerror(rc));
		return -1;
	}
	for (p = ai; p && fd < 0; p = p->ai_next) {
		fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (connect(fd, p->ai_addr, p->ai_addrlen)) {
			snprintf(err, len, "the server on %s port %d: %s", host, port, strerror(errno));
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	return fd;
}

/* "STAT name value" lines up to "END" into obj (numbers where they are). */
static int parse_stats(char *text, json_t *obj)
{
	char *save, *line;
	int end = 0;

	for (line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		char name[64], val[128], *e;
		if (!strcmp(line, "END")) {
			end = 1;
			break;
		}
		if (sscanf(line, "STAT %63s %127s", name, val) != 2)
			continue;
		unsigned long long v = strtoull(val, &e, 10);
		json_object_set_new(obj, name, *e || val[0] == '-' ? json_string(val) :
				    json_integer((json_int_t)v));
	}
	return end ? 0 : -1;
}

int agent_server_stats(json_t *job, json_t *res, char *err, size_t len)
{
	const char *host = json_string_value(json_object_get(job, "host"));
	int port = (int)json_integer_value(json_object_get(job, "port"));
	size_t n = 0, cap = 16384;
	char *buf;
	ssize_t k;
	int fd;

	if (port <= 0 || port > 65535) {
		snprintf(err, len, "server-stats needs \"port\" (1..65535)");
		return -1;
	}
	if ((fd = dial(host ? host : "127.0.0.1", port, err, len)) < 0)
		return -1;
	if (write(fd, "stats\r\n", 7) != 7 || !(buf = malloc(cap))) {
		snprintf(err, len, "stats to port %d: %s", port, strerror(errno));
		close(fd);
		return -1;
	}
	/* the reply ends with "END\r\n" */
	while (n + 1 < cap && (k = read(fd, buf + n, cap - n - 1)) > 0) {
		n += (size_t)k;
		buf[n] = 0;
		if (n >= 5 && !strcmp(buf + n - 5, "END\r\n"))
			break;
	}
	buf[n] = 0;
	close(fd);
	json_t *obj = json_object();
	if (parse_stats(buf, obj)) {
		snprintf(err, len, "the server on port %d gave no complete `stats` reply "
			 "(%zu bytes)", port, n);
		json_decref(obj);
		free(buf);
		return -1;
	}
	free(buf);
	json_object_set_new(res, "stats", obj);
	return 0;
}
