/* irqlab agent's jobs beyond cli/agent.c: the server host's measurements
 * for a run's window (cli/agent_stats.c). Each job fills res (a JSON
 * object) and returns 0, or -1 with a sentence in err. */
#ifndef IRQLAB_CLI_AGENT_H
#define IRQLAB_CLI_AGENT_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

/* Waits until the wall clock reads t (s since the epoch); t in the past or
 * 0: returns at once. */
void agent_sleep_until(double t);

/* {"op": "stats-begin", "cpus": "0-3", "at": T}: at wall-clock time T (now
 * if absent) a snapshot of the CPUs' /proc/stat columns, interrupts and
 * NET_RX softirqs, the server's (srv, 0 if none) context switches and the
 * namespace's busy-polled packets, and cycles/instructions per CPU where
 * perf_event_open works. */
int agent_stats_begin(json_t *job, json_t *res, pid_t srv, char *err, size_t len);
/* {"op": "stats-end", "at": T}: the second snapshot; answers the window
 * (wall_s), per CPU the split in percent (user, sys, irq, softirq, steal,
 * idle: they sum to 100) with irq_per_s and net_rx_per_s, and the totals
 * (docs/multihost.md, "Server measurements"). */
int agent_stats_end(json_t *job, json_t *res, pid_t srv, char *err, size_t len);
/* {"op": "server-stats", "port": P}: the server's `stats` (memcached text
 * protocol, on 127.0.0.1:P) as {"stats": {"cmd_get": N, ...}}. */
int agent_server_stats(json_t *job, json_t *res, char *err, size_t len);

#endif
