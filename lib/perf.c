/* perf_event_open for two hardware counters on one CPU. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "irqlab/perf.h"

static int open_one(uint64_t config, int cpu)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_HARDWARE;
	a.config = config;
	a.disabled = 1;
	a.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
	/* pid -1 + cpu: everything on the server CPU, kernel work included,
	 * since softirq processing is part of what the modes change. */
	return (int)syscall(SYS_perf_event_open, &a, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

int il_perf_open(struct il_perf *p, int cpu, char *err, size_t errlen)
{
	p->fd_cycles = open_one(PERF_COUNT_HW_CPU_CYCLES, cpu);
	if (p->fd_cycles < 0) {
		int e = errno;

		p->fd_instr = -1;
		if (e == ENOENT || e == EOPNOTSUPP || e == ENODEV)
			snprintf(err, errlen, "hardware counters not available here "
				 "(no PMU exposed: perf_event_open: %s)", strerror(e));
		else if (e == EACCES || e == EPERM)
			snprintf(err, errlen, "hardware counters need root or "
				 "kernel.perf_event_paranoid <= 0 (%s)", strerror(e));
		else
			snprintf(err, errlen, "perf_event_open cycles on cpu %d: %s", cpu, strerror(e));
		return -e;
	}
	p->fd_instr = open_one(PERF_COUNT_HW_INSTRUCTIONS, cpu);
	if (p->fd_instr < 0) {
		int e = errno;

		snprintf(err, errlen, "perf_event_open instructions on cpu %d: %s", cpu, strerror(e));
		il_perf_close(p);
		return -e;
	}
	return 0;
}

int il_perf_start(struct il_perf *p)
{
	int fds[2] = { p->fd_cycles, p->fd_instr };

	for (int i = 0; i < 2; i++)
		if (ioctl(fds[i], PERF_EVENT_IOC_RESET, 0) || ioctl(fds[i], PERF_EVENT_IOC_ENABLE, 0))
			return -errno;
	return 0;
}

static int read_scaled(int fd, uint64_t *out)
{
	uint64_t v[3];	/* value, time enabled, time running */

	if (ioctl(fd, PERF_EVENT_IOC_DISABLE, 0) || read(fd, v, sizeof(v)) != sizeof(v))
		return -EIO;
	if (v[2] == 0)
		return -ENODATA;	/* never scheduled on the PMU */
	*out = v[2] < v[1] ? (uint64_t)((double)v[0] * v[1] / v[2]) : v[0];
	return 0;
}

int il_perf_stop(struct il_perf *p, uint64_t *cycles, uint64_t *instr)
{
	int rc = read_scaled(p->fd_cycles, cycles);

	return rc ? rc : read_scaled(p->fd_instr, instr);
}

void il_perf_close(struct il_perf *p)
{
	if (p->fd_cycles >= 0)
		close(p->fd_cycles);
	if (p->fd_instr >= 0)
		close(p->fd_instr);
	p->fd_cycles = p->fd_instr = -1;
}
