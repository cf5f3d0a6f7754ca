/* Neighbours on a NAPI: sockets of other processes that receive through a
 * device, and so may share the NAPI that an IRQ-suspend server masks.
 *
 * While a server in suspend mode holds a NAPI (irq_suspend_timeout armed,
 * the device's interrupt masked), packets on that NAPI are only processed
 * when the server busy polls or when the timer fires. A neighbour socket
 * on the same NAPI then waits up to irq_suspend_timeout whenever the server
 * stops polling: stopped, descheduled, or busy with data it already has
 * (docs/bench.md, "The hostage risk").
 *
 * Which NAPI a socket's packets use is only known for one's own sockets
 * (SO_INCOMING_NAPI_ID, after the first packet). For other processes'
 * sockets the heuristic is: a TCP/UDP socket (IPv4 or IPv6) that listens
 * on, or is connected through, one of the device's addresses, or listens
 * on the wildcard address, in this network namespace. On a device with
 * one NAPI (veth, a single-queue NIC) every such socket shares it; on a
 * multi-queue NIC it shares the NAPI only when RSS or steering puts its
 * flows on the same queue, so the count is an upper bound. */
#ifndef IRQLAB_NEIGH_H
#define IRQLAB_NEIGH_H

#include <stddef.h>

/* Counts other processes' sockets that may receive through DEV (see
 * above); desc gets a short description of the first few, e.g.
 * "memcached (pid 42) listening on 198.18.0.1:11212". Sockets of this
 * process are not counted. Returns the count, or -1 (err says why). */
int il_napi_neighbours(const char *dev, char *desc, size_t desclen, char *err, size_t errlen);

/* The part that reads one /proc/net/{tcp,tcp6,udp,udp6} file, for tests:
 * addrs holds the device's addresses in that file's hex form (8 hex digits
 * for IPv4, 32 for IPv6), own the inodes to skip. Appends "ADDR:PORT
 * (inode N, listening|connected)" of the first matches to desc. */
int il_neigh_scan_file(const char *path, const char *const *addrs, int naddrs,
		       const unsigned long *own, int nown, char *desc, size_t desclen);

#endif
