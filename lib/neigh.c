/* Neighbours on a NAPI (irqlab/neigh.h): other processes' sockets that
 * receive through a device, found in /proc/net/{tcp,udp}{,6} of this
 * network namespace, named through /proc/PID/fd. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "irqlab/neigh.h"

#define MAXADDR 32
#define MAXOWN 4096
#define WILD4 "00000000"
#define WILD6 "00000000000000000000000000000000"

/* /proc/net's hex form back to the usual text, for the user */
static void addr_text(const char *hex, char *out, size_t len)
{
	unsigned w[4] = { 0 };
	char txt[INET6_ADDRSTRLEN];

	if (strlen(hex) == 8 && sscanf(hex, "%8x", &w[0]) == 1) {
		inet_ntop(AF_INET, w, txt, sizeof(txt));
		snprintf(out, len, "%s", txt);
	} else if (strlen(hex) == 32 &&
		   sscanf(hex, "%8x%8x%8x%8x", &w[0], &w[1], &w[2], &w[3]) == 4) {
		inet_ntop(AF_INET6, w, txt, sizeof(txt));
		snprintf(out, len, "[%s]", txt);
	} else {
		snprintf(out, len, "%s", hex);
	}
}

static void append(char *d, size_t len, const char *s)
{
	size_t n = strlen(d);

	if (n + 1 < len)
		snprintf(d + n, len - n, "%s%s", n ? "; " : "", s);
}

/* A listener on the wildcard address receives through every device; a
 * connected socket only through the device that owns its local address. */
static int matches(const char *addr, int listening, const char *const *addrs, int naddrs)
{
	if (listening && (!strcmp(addr, WILD4) || !strcmp(addr, WILD6)))
		return 1;
	for (int i = 0; i < naddrs; i++)
		if (!strcasecmp(addr, addrs[i]))
			return 1;
	return 0;
}

int il_neigh_scan_file(const char *path, const char *const *addrs, int naddrs,
		       const unsigned long *own, int nown, char *desc, size_t desclen)
{
	char line[512], addr[40];
	unsigned port, st;
	unsigned long inode;
	int n = 0, udp = strstr(path, "udp") != NULL;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;	/* no IPv6, no UDP: nothing there */
	if (!fgets(line, sizeof(line), f)) {	/* header */
		fclose(f);
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		int listening, mine = 0;

		/* sl local:port rem:port st tx:rx tr:when retr uid timeout inode */
		if (sscanf(line, " %*d: %39[0-9A-Fa-f]:%x %*s %x %*s %*s %*s %*d %*d %lu",
			   addr, &port, &st, &inode) != 4 || !inode)
			continue;	/* inode 0: TIME_WAIT and the like, no owner */
		listening = udp ? 1 : st == 0x0A;	/* TCP_LISTEN; UDP binds receive */
		if (!udp && st != 0x01 && st != 0x0A)
			continue;	/* only established and listening TCP */
		for (int i = 0; i < nown && !mine; i++)
			mine = own[i] == inode;
		if (mine || !matches(addr, listening, addrs, naddrs))
			continue;
		if (n < 3) {
			char s[160], txt[64];

			addr_text(addr, txt, sizeof(txt));
			snprintf(s, sizeof(s), "%s:%u (inode %lu, %s %s)", txt, port, inode,
				 udp ? "udp" : "tcp", listening ? "listening" : "connected");
			append(desc, desclen, s);
		}
		n++;
	}
	fclose(f);
	return n;
}

/* This process's socket inodes, so a server's own sockets never count. */
static int own_inodes(unsigned long *own, int max)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char p[300], l[64];
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		ssize_t k;

		snprintf(p, sizeof(p), "/proc/self/fd/%s", e->d_name);
		if ((k = readlink(p, l, sizeof(l) - 1)) <= 0)
			continue;
		l[k] = 0;
		if (sscanf(l, "socket:[%lu]", &own[n]) == 1)
			n++;
	}
	closedir(d);
	return n;
}

/* The device's addresses in /proc/net's hex form: the address's bytes as
 * the kernel prints them, 32-bit words with %08X. */
static int dev_addrs(const char *dev, char store[][33], int max)
{
	struct ifaddrs *ifa, *i;
	int n = 0;

	if (getifaddrs(&ifa))
		return -1;
	for (i = ifa; i && n < max; i = i->ifa_next) {
		if (!i->ifa_addr || strcmp(i->ifa_name, dev))
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			struct sockaddr_in *s = (struct sockaddr_in *)i->ifa_addr;

			snprintf(store[n++], 33, "%08X", (unsigned)s->sin_addr.s_addr);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			struct sockaddr_in6 *s = (struct sockaddr_in6 *)i->ifa_addr;
			unsigned w[4];

			memcpy(w, &s->sin6_addr, sizeof(w));
			snprintf(store[n++], 33, "%08X%08X%08X%08X", w[0], w[1], w[2], w[3]);
		}
	}
	freeifaddrs(ifa);
	return n;
}

/* "memcached (pid 42)" for the process holding socket inode, if any. */
static void owner_of(unsigned long inode, char *out, size_t len)
{
	DIR *pd = opendir("/proc"), *fd;
	struct dirent *p, *e;
	char want[40], path[600], l[64];

	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	*out = 0;
	while (pd && (p = readdir(pd)) && !*out) {
		if (p->d_name[0] < '1' || p->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", p->d_name);
		if (!(fd = opendir(path)))
			continue;
		while ((e = readdir(fd)) && !*out) {
			ssize_t k;

			snprintf(path, sizeof(path), "/proc/%s/fd/%s", p->d_name, e->d_name);
			if ((k = readlink(path, l, sizeof(l) - 1)) <= 0)
				continue;
			l[k] = 0;
			if (!strcmp(l, want)) {
				char comm[64] = "?";
				FILE *c;

				snprintf(path, sizeof(path), "/proc/%s/comm", p->d_name);
				if ((c = fopen(path, "r"))) {
					if (fgets(comm, sizeof(comm), c))
						comm[strcspn(comm, "\n")] = 0;
					fclose(c);
				}
				snprintf(out, len, "%.64s (pid %.16s)", comm, p->d_name);
			}
		}
		closedir(fd);
	}
	if (pd)
		closedir(pd);
}

int il_napi_neighbours(const char *dev, char *desc, size_t desclen, char *err, size_t errlen)
{
	static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6",
					     "/proc/net/udp", "/proc/net/udp6" };
	char store[MAXADDR][33], raw[512] = "";
	const char *addrs[MAXADDR];
	unsigned long *own = calloc(MAXOWN, sizeof(*own));
	int naddr, nown, n = 0;

	if (!own) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	naddr = dev_addrs(dev, store, MAXADDR);
	if (naddr < 0) {
		snprintf(err, errlen, "getifaddrs: %s", strerror(errno));
		free(own);
		return -1;
	}
	for (int i = 0; i < naddr; i++)
		addrs[i] = store[i];
	nown = own_inodes(own, MAXOWN);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		n += il_neigh_scan_file(files[i], addrs, naddr, own, nown, raw, sizeof(raw));
	free(own);
	/* name the owner of the first one: the user needs to know who it is */
	if (desclen)
		*desc = 0;
	if (n > 0) {
		unsigned long inode = 0;
		char who[128] = "";
		const char *in = strstr(raw, "(inode ");

		if (in && sscanf(in, "(inode %lu", &inode) == 1)
			owner_of(inode, who, sizeof(who));
		snprintf(desc, desclen, "%s%s%s", who, *who ? ": " : "", raw);
	}
	return n;
}
