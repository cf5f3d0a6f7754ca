/* /proc readers for benchmark accounting. Each reads one file once; callers
 * take a snapshot before and after a run and subtract. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "irqlab/sysstat.h"

double il_ticks_to_s(uint64_t ticks)
{
	static long hz;

	if (!hz)
		hz = sysconf(_SC_CLK_TCK);
	return (double)ticks / (double)(hz > 0 ? hz : 100);
}

int il_cpu_time(int cpu, struct il_cpu_time *out)
{
	char want[32], line[512];
	FILE *f = fopen("/proc/stat", "r");
	int rc = -ENOENT;

	if (!f)
		return -errno;
	snprintf(want, sizeof(want), "cpu%d ", cpu);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, want, strlen(want)))
			continue;
		unsigned long long v[8] = { 0 };
		if (sscanf(line + strlen(want), "%llu %llu %llu %llu %llu %llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) < 7)
			break;
		*out = (struct il_cpu_time){ v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7] };
		rc = 0;
		break;
	}
	fclose(f);
	return rc;
}

/* Column cpu of a per-CPU table line "NAME: c0 c1 ...". */
static int column(const char *p, int cpu, uint64_t *out)
{
	char *end;

	for (int i = 0; i <= cpu; i++) {
		while (*p == ' ')
			p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		unsigned long long v = strtoull(p, &end, 10);
		if (i == cpu) {
			*out = v;
			return 0;
		}
		p = end;
	}
	return -1;
}

int il_softirq_count(const char *name, int cpu, uint64_t *out)
{
	char line[4096];
	FILE *f = fopen("/proc/softirqs", "r");
	int rc = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *colon = strchr(line, ':');

		while (*p == ' ')
			p++;
		if (!colon || strncmp(p, name, (size_t)(colon - p)) || strlen(name) != (size_t)(colon - p))
			continue;
		rc = column(colon + 1, cpu, out) ? -EINVAL : 0;
		break;
	}
	fclose(f);
	return rc;
}

int il_irq_count(int cpu, uint64_t *out)
{
	char line[4096];
	FILE *f = fopen("/proc/interrupts", "r");
	uint64_t sum = 0, v;

	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f)) {	/* header: CPU0 CPU1 ... */
		fclose(f);
		return -EINVAL;
	}
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		/* ERR/MIS lines have one column only: column() fails, skip. */
		if (colon && column(colon + 1, cpu, &v) == 0)
			sum += v;
	}
	fclose(f);
	*out = sum;
	return 0;
}

/* Fields after "(comm)": comm may hold spaces and parentheses. */
static int stat_times(const char *path, uint64_t *ut, uint64_t *st, uint64_t *children,
		      char *comm, size_t clen)
{
	char buf[1024];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *open = strchr(buf, '('), *close = strrchr(buf, ')');
	if (!open || !close)
		return -EINVAL;
	if (comm) {
		size_t l = (size_t)(close - open - 1);
		if (l >= clen)
			l = clen - 1;
		memcpy(comm, open + 1, l);
		comm[l] = 0;
	}
	/* close+2 is field 3 (state); utime and stime are fields 14 and 15. */
	unsigned long long u, s;
	long long cu = 0, cs = 0;
	if (sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %lld %lld",
		   &u, &s, &cu, &cs) != 4)
		return -EINVAL;
	*ut = u;
	*st = s;
	if (children)	/* fields 16, 17: reaped children's utime + stime */
		*children = (uint64_t)(cu > 0 ? cu : 0) + (uint64_t)(cs > 0 ? cs : 0);
	return 0;
}

static int status_csw(const char *path, uint64_t *v, uint64_t *nv)
{
	char line[256];
	FILE *f = fopen(path, "r");
	unsigned long long x;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "voluntary_ctxt_switches: %llu", &x) == 1)
			*v += x;
		else if (sscanf(line, "nonvoluntary_ctxt_switches: %llu", &x) == 1)
			*nv += x;
	}
	fclose(f);
	return 0;
}

int il_proc_time(pid_t pid, struct il_proc_time *out)
{
	char path[64];
	DIR *d;
	struct dirent *e;
	int rc;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	rc = stat_times(path, &out->utime, &out->stime, NULL, NULL, 0);
	if (rc)
		return rc;
	/* /proc/PID/status counts the main thread only: sum all threads. */
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	if (!(d = opendir(path)))
		return -errno;
	while ((e = readdir(d))) {
		char p[300];

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(p, sizeof(p), "/proc/%d/task/%s/status", (int)pid, e->d_name);
		status_csw(p, &out->vcsw, &out->nvcsw);
	}
	closedir(d);
	return 0;
}

int il_netstat(pid_t pid, const char *key, uint64_t *out)
{
	char path[64], names[8192], vals[8192];
	FILE *f;
	int rc = -ENOENT;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/net/netstat", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/net/netstat");
	if (!(f = fopen(path, "r")))
		return -errno;
	/* Pairs of lines: "TcpExt: name name ..." then "TcpExt: v v ...". */
	while (fgets(names, sizeof(names), f) && fgets(vals, sizeof(vals), f)) {
		if (strncmp(names, "TcpExt:", 7))
			continue;
		char *sn, *sv;
		char *n = strtok_r(names + 7, " \n", &sn);
		char *v = strtok_r(vals + 7, " \n", &sv);
		for (; n && v; n = strtok_r(NULL, " \n", &sn), v = strtok_r(NULL, " \n", &sv)) {
			if (strcmp(n, key) == 0) {
				*out = strtoull(v, NULL, 10);
				rc = 0;
				break;
			}
		}
		break;
	}
	fclose(f);
	return rc;
}

struct noise_ent { int pid, seen; uint64_t ticks; };

struct il_noise {
	struct noise_ent *e;
	int n, cap;
	pid_t ours[16];
	int nours;
};

static int is_ours(const struct il_noise *s, int pid, const char *comm)
{
	for (int i = 0; i < s->nours; i++)
		if (s->ours[i] == pid)
			return 1;
	/* The receive work of our traffic runs in these kernel threads. */
	return strncmp(comm, "ksoftirqd/", 10) == 0 || strncmp(comm, "napi/", 5) == 0;
}

/* Calls fn for each process that is not ours with its total ticks. */
static void scan(struct il_noise *s, void (*fn)(struct il_noise *, int, uint64_t, const char *, void *),
		 void *arg)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[300], comm[64];
		uint64_t u, st, ch;
		int pid;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		pid = atoi(e->d_name);
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if (stat_times(path, &u, &st, &ch, comm, sizeof(comm)) || is_ours(s, pid, comm))
			continue;
		/* A short-lived process that starts and ends between the
		 * snapshots shows up in its parent's children time once reaped. */
		fn(s, pid, u + st + ch, comm, arg);
	}
	closedir(d);
}

static void add_ent(struct il_noise *s, int pid, uint64_t ticks, const char *comm, void *arg)
{
	(void)comm;
	(void)arg;
	if (s->n == s->cap) {
		int cap = s->cap ? s->cap * 2 : 512;
		struct noise_ent *e = realloc(s->e, (size_t)cap * sizeof(*e));
		if (!e)
			return;
		s->e = e;
		s->cap = cap;
	}
	s->e[s->n++] = (struct noise_ent){ pid, 0, ticks };
}

struct il_noise *il_noise_start(const pid_t *ours, int n)
{
	struct il_noise *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	for (int i = 0; i < n && i < 16; i++)
		s->ours[s->nours++] = ours[i];
	s->ours[s->nours < 16 ? s->nours++ : 15] = getpid();
	scan(s, add_ent, NULL);
	return s;
}

struct noise_sum { uint64_t total, top; char *topname; size_t len; };

static void diff_ent(struct il_noise *s, int pid, uint64_t ticks, const char *comm, void *arg)
{
	struct noise_sum *sum = arg;
	uint64_t before = 0;

	/* /proc lists pids in ascending order, so a binary search would do;
	 * a linear scan over a few hundred entries is cheap enough. */
	for (int i = 0; i < s->n; i++)
		if (s->e[i].pid == pid) {
			before = s->e[i].ticks;
			s->e[i].seen = 1;
			break;
		}
	/* A new pid's whole CPU time falls within the interval. */
	uint64_t d = ticks >= before ? ticks - before : 0;
	sum->total += d;
	if (d > sum->top && sum->topname) {
		sum->top = d;
		snprintf(sum->topname, sum->len, "%s(%d)", comm, pid);
	}
}

uint64_t il_noise_end(struct il_noise *s, char *top, size_t len)
{
	struct noise_sum sum = { 0, 0, top, len };

	if (!s)
		return 0;
	if (top && len)
		top[0] = 0;
	scan(s, diff_ent, &sum);
	/* A process that ended in the interval has its whole life added to
	 * its parent's children time: take back what it had used before. */
	for (int i = 0; i < s->n; i++)
		if (!s->e[i].seen)
			sum.total = sum.total > s->e[i].ticks ? sum.total - s->e[i].ticks : 0;
	free(s->e);
	free(s);
	return sum.total;
}

void il_cpu_split(double utime_s, double stime_s, double softirq_s,
		  double wall_s, struct il_cpu_split *out)
{
	double u = 100 * utime_s / wall_s, s = 100 * stime_s / wall_s;
	double q = 100 * softirq_s / wall_s, busy = u + s + q;

	/* Tick sampling can overshoot wall time by a tick or two, and a softirq
	 * tick that interrupts the server counts in both its stime and the
	 * CPU's softirq column: scale down rather than report > 100%. */
	if (busy > 100) {
		u *= 100 / busy;
		s *= 100 / busy;
		q *= 100 / busy;
		busy = 100;
	}
	*out = (struct il_cpu_split){ u, s, q, 100 - busy };
}
