/* /proc accounting for benchmarks: per-CPU time and softirq/interrupt
 * counts, per-process CPU time and context switches, per-namespace TCP
 * counters, and the CPU time of everything else on the machine (noise).
 *
 * All readers return 0 or -errno and never print. Times are in clock ticks
 * (sysconf(_SC_CLK_TCK)) as /proc gives them; il_ticks_to_s converts. */
#ifndef IRQLAB_SYSSTAT_H
#define IRQLAB_SYSSTAT_H

#include <stdint.h>
#include <sys/types.h>

/* One "cpuN" line of /proc/stat (ticks). */
struct il_cpu_time {
	uint64_t user, nice, system, idle, iowait, irq, softirq, steal;
};

int il_cpu_time(int cpu, struct il_cpu_time *out);

/* Count of one softirq ("NET_RX", "TIMER", ...) on one CPU, /proc/softirqs. */
int il_softirq_count(const char *name, int cpu, uint64_t *out);

/* Sum over every line of /proc/interrupts (device IRQs, LOC, RES, CAL,
 * TLB, ...) of one CPU's column: all interrupts that CPU took. */
int il_irq_count(int cpu, uint64_t *out);

/* A process: utime/stime from /proc/PID/stat (all threads, ticks) and
 * context switches summed over /proc/PID/task/ * /status. */
struct il_proc_time {
	uint64_t utime, stime;
	uint64_t vcsw, nvcsw;
};

int il_proc_time(pid_t pid, struct il_proc_time *out);

/* A TcpExt counter (e.g. "BusyPollRxPackets") as seen by process pid, i.e.
 * in pid's network namespace (/proc/PID/net/netstat). pid 0 = self. */
int il_netstat(pid_t pid, const char *key, uint64_t *out);

/* CPU time of every process on the machine except "ours", between two
 * snapshots: each process's utime+stime plus its reaped children's
 * (cutime+cstime), so a process that starts and ends between the snapshots
 * is counted through its parent once reaped; what a process that ended
 * had used before the start is taken back. Kernel threads that do our
 * network work (ksoftirqd, napi/ *) are counted as ours. */
struct il_noise;

struct il_noise *il_noise_start(const pid_t *ours, int n);
/* Ticks used by others since start. Frees the snapshot. top (may be NULL,
 * len bytes) receives "comm(pid)" of the largest consumer. */
uint64_t il_noise_end(struct il_noise *s, char *top, size_t len);

double il_ticks_to_s(uint64_t ticks);

/* The server CPU split (percent, sums to 100) from process and CPU
 * accounting over wall seconds; see docs/bench.md "CPU split". */
struct il_cpu_split { double user, sys, softirq, idle; };

void il_cpu_split(double utime_s, double stime_s, double softirq_s,
		  double wall_s, struct il_cpu_split *out);

#endif
