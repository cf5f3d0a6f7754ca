/* irqlab probe: what this kernel, this process and this device can do,
 * explained for someone who has never heard of NAPI. Run this first. */
#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "irqlab/opt.h"
#include "irqlab/napi.h"
#include "irqlab/nic.h"
#include "irqlab/result.h"

struct probe {
	struct il_napi_support s;
	const char *dev;
	bool dev_missing;
	bool cap_net_admin;
	struct il_napi napi[IL_NAPI_MAX];
	int nnapi;			/* -errno if listing failed */
	char napi_err[256];
	struct il_queue q[IL_NAPI_MAX];
	int nq;				/* -errno if queue-get failed */
	long long busy_poll_rx;		/* -1 if unreadable */
	struct il_nic_support nic;	/* ethtool family */
	struct il_nic_state *nic_state;	/* DEV's coalescing, channels, ...;
					 * NULL when unreadable (nic_err) */
	char nic_err[256];
};

static int usage(FILE *f)
{
	fprintf(f,
"usage: irqlab probe [--dev DEV] [--json]\n"
"What this kernel supports (epoll busy-poll parameters, the netdev netlink\n"
"family, per-NAPI settings, IRQ suspend, threaded NAPI), the NAPIs of DEV\n"
"with their settings, IRQs and kthreads, the rx queue -> NAPI map, and how\n"
"many packets busy polling has received so far.\n"
"  -d, --dev DEV   the device to look at (default: every NAPI in this\n"
"                  network namespace)\n"
"  -j, --json      machine-readable output\n"
"  -h, --help      this text\n");
	return f == stderr ? 2 : 0;
}

/* CAP_NET_ADMIN is bit 12 of the effective set. */
static bool has_cap_net_admin(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	unsigned long long caps = 0;

	if (!f)
		return geteuid() == 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return caps & (1ULL << 12);
}

/* TcpExt BusyPollRxPackets: a header line of names, then one of values. */
static long long busy_poll_rx(void)
{
	char names[8192], vals[8192], *sn, *sv, *n, *v;
	FILE *f = fopen("/proc/net/netstat", "r");
	long long out = -1;

	if (!f)
		return -1;
	while (fgets(names, sizeof(names), f) && fgets(vals, sizeof(vals), f)) {
		if (strncmp(names, "TcpExt:", 7))
			continue;
		n = strtok_r(names, " \n", &sn);
		v = strtok_r(vals, " \n", &sv);
		while (n && v) {
			if (!strcmp(n, "BusyPollRxPackets"))
				out = atoll(v);
			n = strtok_r(NULL, " \n", &sn);
			v = strtok_r(NULL, " \n", &sv);
		}
	}
	fclose(f);
	return out;
}

/* First line of a small /proc file, newline stripped. */
static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	buf[0] = '\0';
	if (f) {
		if (fgets(buf, (int)len, f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
}

static void kthread_cpus(int pid, char *buf, size_t len)
{
	char path[64], line[256];
	FILE *f;

	snprintf(buf, len, "?");
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (!(f = fopen(path, "r")))
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Cpus_allowed_list:", 18)) {
			snprintf(buf, len, "%s", line + 18 + strspn(line + 18, " \t"));
			buf[strcspn(buf, "\n")] = '\0';
		}
	fclose(f);
}

static const char *dev_name(int ifindex, char *buf)
{
	if (!if_indextoname((unsigned)ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "if%d", ifindex);
	return buf;
}

static void gather(struct probe *p)
{
	char err[256];

	il_napi_probe(&p->s);
	p->cap_net_admin = has_cap_net_admin();
	p->busy_poll_rx = busy_poll_rx();
	if (p->dev && !if_nametoindex(p->dev))
		p->dev_missing = true;
	p->nnapi = -1;
	p->nq = -1;
	il_nic_probe(&p->nic);
	if (p->dev && !p->dev_missing && (p->nic_state = malloc(sizeof(*p->nic_state))) &&
	    il_nic_read(p->dev, p->nic_state, p->nic_err, sizeof(p->nic_err))) {
		free(p->nic_state);
		p->nic_state = NULL;
	}
	if (p->dev_missing || !p->s.napi_get)
		return;
	p->nnapi = il_napi_list(p->dev, p->napi, IL_NAPI_MAX, p->napi_err,
				sizeof(p->napi_err));
	if (p->s.queue_get)
		p->nq = il_queue_list(p->dev, p->q, IL_NAPI_MAX, err, sizeof(err));
}

static const char *yes(bool b)
{
	return b ? "yes" : "no ";
}

static void print_support(const struct probe *p)
{
	const struct il_napi_support *s = &p->s;

	printf("kernel %s\n\n", s->kernel);
	printf("kernel support\n");
	printf("  %s  epoll busy-poll parameters, EPIOCSPARAMS   (Linux 6.9+)\n",
	       yes(s->epoll_params));
	printf("  %s  netdev netlink family                      (Linux 6.3+)\n",
	       yes(s->netdev_family));
	printf("  %s  napi-get, queue-get: list NAPIs and queues (Linux 6.8+)\n",
	       yes(s->napi_get && s->queue_get));
	printf("  %s  napi-set defer_hard_irqs, gro_flush_timeout (Linux 6.13+)\n",
	       yes(s->napi_set));
	printf("  %s  napi-set irq_suspend_timeout: IRQ suspend  (Linux 6.13+)%s\n",
	       yes(s->irq_suspend && s->napi_set),
	       s->policy_known || !s->napi_set ? "" : " (assumed)");
	printf("  %s  napi-set threaded=1: per-NAPI kthread      (Linux 6.17+)\n",
	       yes(s->threaded_attr));
	printf("  %s  napi-set threaded=2: busy-polling kthread  (Linux 6.19+)\n",
	       yes(s->threaded_busy_poll));
	printf("  %s  ethtool netlink: coalescing, channels, rings (Linux 5.7+)\n",
	       yes(p->nic.kind[IL_ET_COALESCE] && p->nic.kind[IL_ET_CHANNELS] &&
		   p->nic.kind[IL_ET_RINGS]));
	if (s->family_err && !s->netdev_family)
		printf("  (netdev family lookup failed: %s)\n",
		       strerror(-s->family_err));
	printf("\n");
}

/* "6.18" from "6.18.44-foo": the release users compare against. */
static const char *short_release(const char *rel, char *buf, size_t len)
{
	int major, minor;

	if (sscanf(rel, "%d.%d", &major, &minor) == 2)
		snprintf(buf, len, "%d.%d", major, minor);
	else
		snprintf(buf, len, "%s", rel);
	return buf;
}

/* The one-paragraph summary of the kernel, in words. */
static void explain_kernel(const struct probe *p)
{
	const struct il_napi_support *s = &p->s;
	char k[80];

	printf("what this means\n");
	if (s->napi_set && s->irq_suspend && s->epoll_params)
		printf("  - kernel %s: every irqlab mode works here, irq suspend "
		       "available.\n", short_release(s->kernel, k, sizeof(k)));
	else if (s->epoll_params)
		printf("  - kernel %s: epoll busy polling works; per-NAPI settings "
		       "%s (irq suspend needs Linux 6.13).\n",
		       short_release(s->kernel, k, sizeof(k)),
		       s->napi_set ? "work" : "do not");
	else
		printf("  - kernel %s: no per-epoll busy polling (needs Linux "
		       "6.9); only the base and defer modes apply.\n",
		       short_release(s->kernel, k, sizeof(k)));
	if (!s->threaded_attr && s->napi_set)
		printf("  - per-NAPI threaded needs Linux 6.17; the device-wide "
		       "/sys/class/net/DEV/threaded still works.\n");
	if (p->cap_net_admin)
		printf("  - this process has CAP_NET_ADMIN: it may change NAPI "
		       "settings.\n");
	else
		printf("  - this process lacks CAP_NET_ADMIN: listing works, but "
		       "changing NAPI settings (napi-set) and busy_poll_budget "
		       "above 64 need CAP_NET_ADMIN (run as root).\n");
}

/* The driver behind a device, from sysfs; false for virtual devices. */
static bool driver_of(int ifindex, char *buf, size_t len)
{
	char name[IF_NAMESIZE], path[128], link[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/class/net/%s/device/driver",
		 dev_name(ifindex, name));
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = '\0';
	snprintf(buf, len, "%.60s", strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
	return true;
}

static void explain_napis(const struct probe *p)
{
	char name[IF_NAMESIZE], why[400], drv[64];

	if (p->dev_missing) {
		printf("  - no device '%s' in this network namespace (ip link "
		       "shows the devices; ip netns exec NS irqlab probe looks "
		       "inside a namespace).\n", p->dev);
		return;
	}
	if (!p->dev)
		printf("  - no device given: listing all NAPIs in this "
		       "namespace.\n");
	if (p->nnapi < 0) {
		printf("  - cannot list NAPIs: %s\n", p->s.napi_get ? p->napi_err :
		       "napi-get needs Linux 6.8");
		return;
	}
	if (p->nnapi == 0) {
		if (p->dev)
			il_napi_explain_none(p->dev, why, sizeof(why));
		else
			snprintf(why, sizeof(why), "no NAPI in this namespace: "
				 "busy polling needs a device with NAPI (a real "
				 "NIC, or a veth with GRO on)");
		printf("  - %s.\n", why);
		return;
	}
	for (int i = 0; i < p->nnapi; i++) {
		const struct il_napi *n = &p->napi[i];

		printf("  - %s: NAPI %u polls its receive queue; ",
		       dev_name(n->ifindex, name), n->id);
		if (n->irq < 0 && !driver_of(n->ifindex, drv, sizeof(drv)))
			printf("it has no hardware IRQ: a virtual device is "
			       "polled on the sending CPU unless threaded");
		else if (n->irq < 0)
			printf("its driver (%s) does not report the IRQ to "
			       "netlink; /proc/interrupts lists it", drv);
		else
			printf("IRQ %d wakes it", n->irq);
		if (n->pid > 0)
			printf(", and kthread %d runs the poll (threaded)", n->pid);
		printf(".\n");
		if (n->defer_hard_irqs || n->gro_flush_timeout ||
		    n->irq_suspend_timeout)
			printf("    its deferral settings are not the defaults: "
			       "another run (or a permanent irqlab napi set) "
			       "left them.\n");
	}
	printf("  - irqlab modes need a NAPI id per socket: SO_INCOMING_NAPI_ID "
	       "is 0 on loopback and when the sending veth has TSO/GSO on.\n");
}

static void print_napis(const struct probe *p)
{
	char name[IF_NAMESIZE], gro[32], susp[32], cpus[64], path[64], aff[64];

	if (p->nnapi <= 0)
		return;
	printf("NAPIs%s%s\n", p->dev ? " of " : " in this namespace",
	       p->dev ? p->dev : "");
	printf("  %-12s %8s %6s %10s %8s %8s %10s %11s\n", "DEV", "NAPI-ID",
	       "IRQ", "KTHREAD", "THREADED", "DEFER", "GRO-FLUSH", "IRQ-SUSPEND");
	for (int i = 0; i < p->nnapi; i++) {
		const struct il_napi *n = &p->napi[i];
		char irq[16], pid[16];

		il_fmt_time_ns(n->gro_flush_timeout, gro, sizeof(gro));
		il_fmt_time_ns(n->irq_suspend_timeout, susp, sizeof(susp));
		snprintf(irq, sizeof(irq), n->irq >= 0 ? "%d" : "-", n->irq);
		snprintf(pid, sizeof(pid), n->pid > 0 ? "%d" : "-", n->pid);
		printf("  %-12s %8u %6s %10s %8d %8" PRIu32 " %10s %11s\n",
		       dev_name(n->ifindex, name), n->id, irq, pid, n->threaded,
		       n->defer_hard_irqs, gro, susp);
		if (n->irq >= 0) {
			snprintf(path, sizeof(path),
				 "/proc/irq/%d/smp_affinity_list", n->irq);
			read_line(path, aff, sizeof(aff));
			printf("  %12s IRQ %d may run on CPUs %s\n", "", n->irq,
			       aff[0] ? aff : "?");
		}
		if (n->pid > 0) {
			kthread_cpus(n->pid, cpus, sizeof(cpus));
			printf("  %12s kthread %d may run on CPUs %s\n", "",
			       n->pid, cpus);
		}
	}
	printf("\n");
}

/* The NAPIs of one device in the probe's list: how many, and the first. */
static int napis_of(const struct probe *p, int ifindex, uint32_t *first)
{
	int n = 0;

	for (int i = 0; i < p->nnapi; i++)
		if (p->napi[i].ifindex == ifindex && !n++)
			*first = p->napi[i].id;
	return n;
}

static void print_queues(const struct probe *p)
{
	char name[IF_NAMESIZE];

	if (p->nq < 0 || p->nnapi <= 0)
		return;
	printf("rx queue -> NAPI\n");
	for (int i = 0; i < p->nq; i++) {
		const struct il_queue *q = &p->q[i];
		uint32_t only = 0;
		int n = napis_of(p, q->ifindex, &only);

		printf("  %-12s rx%-3u -> ", dev_name(q->ifindex, name), q->id);
		if (q->napi_id)
			printf("NAPI %u\n", q->napi_id);
		else if (n == 0)
			printf("none (the device has no NAPI)\n");
		else if (n == 1)
			printf("NAPI %u (not linked by the driver, as with veth; "
			       "it is the device's only NAPI)\n", only);
		else
			printf("not linked by the driver (one of the device's %d "
			       "NAPIs serves it)\n", n);
	}
	printf("\n");
}

static void print_text(const struct probe *p)
{
	print_support(p);
	print_napis(p);
	print_queues(p);
	if (p->nic_state) {
		printf("NIC settings (irqlab nic show)\n");
		nic_print_state(p->nic_state);
		printf("\n");
	} else if (p->dev && !p->dev_missing) {
		printf("NIC settings: %s\n\n", p->nic_err);
	}
	if (p->busy_poll_rx >= 0)
		printf("busy polling so far in this namespace: TcpExt "
		       "BusyPollRxPackets = %lld\n\n", p->busy_poll_rx);
	explain_kernel(p);
	explain_napis(p);
}

static void print_json(const struct probe *p)
{
	const struct il_napi_support *s = &p->s;
	char name[IF_NAMESIZE];

	printf("{\n  \"kernel\": \"%s\",\n", s->kernel);
	printf("  \"support\": {\"epoll_params\": %s, \"netdev_family\": %s, "
	       "\"napi_get\": %s, \"queue_get\": %s, \"napi_set\": %s, "
	       "\"irq_suspend\": %s, \"threaded_attr\": %s, "
	       "\"threaded_busy_poll\": %s, \"policy_known\": %s},\n",
	       s->epoll_params ? "true" : "false",
	       s->netdev_family ? "true" : "false",
	       s->napi_get ? "true" : "false", s->queue_get ? "true" : "false",
	       s->napi_set ? "true" : "false", s->irq_suspend ? "true" : "false",
	       s->threaded_attr ? "true" : "false",
	       s->threaded_busy_poll ? "true" : "false",
	       s->policy_known ? "true" : "false");
	printf("  \"cap_net_admin\": %s,\n", p->cap_net_admin ? "true" : "false");
	if (p->dev)
	{
		printf("  \"dev\": ");
		il_json_str(stdout, p->dev);
		printf(",\n  \"dev_found\": %s,\n",
		       p->dev_missing ? "false" : "true");
	}
	else
		printf("  \"dev\": null,\n");
	printf("  \"napis\": [");
	for (int i = 0; i < p->nnapi; i++) {
		printf("%s\n    ", i ? "," : "");
		il_napi_print_json(stdout, &p->napi[i]);
	}
	printf("%s],\n  \"rx_queues\": [", p->nnapi > 0 ? "\n  " : "");
	for (int i = 0; i < p->nq; i++) {
		printf("%s\n    {\"dev\": ", i ? "," : "");
		il_json_str(stdout, dev_name(p->q[i].ifindex, name));
		printf(", \"queue\": %u, \"napi_id\": %u}", p->q[i].id,
		       p->q[i].napi_id);
	}
	printf("%s],\n", p->nq > 0 ? "\n  " : "");
	printf("  \"ethtool_netlink\": %s,\n  \"nic\": ",
	       p->nic.family ? "true" : "false");
	if (p->nic_state)
		il_nic_print_json(stdout, p->nic_state);
	else
		printf("null");
	printf(",\n");
	printf("  \"busy_poll_rx_packets\": %lld\n}\n", p->busy_poll_rx);
}

int cmd_probe(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct probe *p = calloc(1, sizeof(*p));
	int c, json = 0, rc = 0;

	if (!p)
		return 1;
	while ((c = getopt_long(argc, argv, "d:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'd': p->dev = optarg; break;
		case 'j': json = 1; break;
		case 'h': free(p); return usage(stdout);
		default: free(p); return usage(stderr);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "irqlab probe: unexpected '%s'\n", argv[optind]);
		free(p);
		return 2;
	}
	gather(p);
	if (json)
		print_json(p);
	else
		print_text(p);
	/* A device that does not exist is a user error; everything else is
	 * information, however little the kernel supports. */
	if (p->dev_missing)
		rc = 1;
	free(p->nic_state);
	free(p);
	return rc;
}
