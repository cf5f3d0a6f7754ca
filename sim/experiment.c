/* Experiment description: defaults, a table of keys that drives the config
 * parser, the command-line overrides, the writer and the help text. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irqlab/opt.h"
#include "experiment.h"

enum ktype { K_INT, K_U64, K_TIME, K_DBL, K_STR, K_ENUM };

struct key {
	const char *section, *name;
	enum ktype type;
	size_t off, size;	/* size: strings */
	double min, max;
	const char *enums;	/* K_ENUM: comma-separated names, value = index */
	const char *help;
};

#define OFF(f) offsetof(struct experiment, f)
#define SZ(f) sizeof(((struct experiment *)0)->f)
static const struct key keys[] = {
	{ "experiment", "name", K_STR, OFF(name), SZ(name), 0, 0, NULL, "label" },
	{ "experiment", "source", K_STR, OFF(source_note), SZ(source_note), 0, 0, NULL,
	  "where the setup and its published figures come from" },
	{ "machine", "cores", K_INT, OFF(cores), 0, 1, 256, NULL, "server cores" },
	{ "machine", "freq_ghz", K_DBL, OFF(freq_ghz), 0, 0.1, 10, NULL, "core clock, GHz" },
	{ "nic", "queues", K_INT, OFF(queues), 0, 1, 64, NULL, "receive queues (RSS)" },
	{ "nic", "ring_size", K_INT, OFF(ring_size), 0, 1, 65536, NULL, "descriptors per ring" },
	{ "nic", "coalesce", K_ENUM, OFF(coalesce), 0, 0, 0, "static,adaptive,itr",
	  "hardware interrupt coalescing: rx_usecs after the first packet or "
	  "rx_frames (mlx5), net_dim, or at most one interrupt per rx_usecs (ixgbe ITR)" },
	{ "nic", "rx_usecs", K_TIME, OFF(rx_usecs), 0, 0, 1e9, NULL,
	  "static coalescing delay, or the ITR interval (bare number = us)" },
	{ "nic", "rx_frames", K_INT, OFF(rx_frames), 0, 0, 65535, NULL,
	  "static coalescing frame count (0 = no frame limit)" },
	{ "nic", "tx_irq", K_ENUM, OFF(tx_irq), 0, 0, 0, "off,on",
	  "a transmit completion raises the queue's interrupt (mlx5: the channel's TX CQ "
	  "shares its vector and NAPI); off: completions are only reaped by polls" },
	{ "nic", "tx_coalesce", K_ENUM, OFF(tx_coalesce), 0, 0, 0, "static,adaptive",
	  "TX completion moderation: tx_usecs after the first completion or tx_frames, "
	  "or net_dim's TX profiles (mlx5's default) (itr NICs: the vector's throttle)" },
	{ "nic", "tx_usecs", K_TIME, OFF(tx_usecs), 0, 0, 1e9, NULL,
	  "static TX moderation delay (bare number = us)" },
	{ "nic", "tx_frames", K_INT, OFF(tx_frames), 0, 0, 65535, NULL,
	  "static TX moderation frame count (0 = no frame limit)" },
	{ "nic", "affinity", K_ENUM, OFF(affinity), 0, 0, 0, "aligned,packed,remote",
	  "IRQ of queue i on app core i, on the other cores, or outside the server "
	  "(veth: the sender's CPU; simulated, not reported)" },
	{ "kernel", "napi_weight", K_INT, OFF(napi_weight), 0, 1, 65535, NULL, "packets per poll" },
	{ "kernel", "netdev_budget", K_INT, OFF(netdev_budget), 0, 1, 1000000, NULL,
	  "packets per net_rx_action round" },
	{ "kernel", "netdev_budget_usecs", K_TIME, OFF(netdev_budget_usecs), 0, 1000, 1e9, NULL,
	  "time per net_rx_action round (bare number = us)" },
	{ "kernel", "maxevents", K_INT, OFF(maxevents), 0, 1, 65536, NULL,
	  "epoll_wait maxevents of the application" },
	{ "kernel", "sched_slice", K_TIME, OFF(sched_slice_ns), 0, 0, 1e9, NULL,
	  "scheduler slice a task runs before a woken task may preempt it "
	  "(bare number = ns; 0 = EEVDF's 0.75 ms x (1 + log2(min(CPUs, 8))), CPUs incl. a remote IRQ core)" },
	{ "napi", "threaded", K_ENUM, OFF(threaded), 0, 0, 0, "none,aligned,separate",
	  "NAPI polls in softirq, or in a per-NAPI kthread on the app core of its "
	  "queue (aligned) or on another core (separate)" },
	{ "mode", "spec", K_STR, OFF(mode_spec), SZ(mode_spec), 0, 0, NULL,
	  "mode preset[,knob=value...] as `irqlab bench --mode`" },
	{ "workload", "app", K_ENUM, OFF(app), 0, 0, 0, "memcached,udp_sink,cpu_loop",
	  "server: requests and replies, a UDP sink (no replies), or a CPU-bound loop "
	  "beside UDP packets dropped at the socket (QPS = loop iterations/s)" },
	{ "workload", "load", K_ENUM, OFF(load), 0, 0, 0, "closed,open", "client loop" },
	{ "workload", "conns", K_INT, OFF(conns), 0, 1, 1000000, NULL, "connections" },
	{ "workload", "depth", K_INT, OFF(depth), 0, 1, 1024, NULL,
	  "outstanding requests per connection (closed loop)" },
	{ "workload", "qps", K_DBL, OFF(qps), 0, 1, 1e9, NULL, "open loop target rate" },
	{ "workload", "ia", K_STR, OFF(ia_spec), SZ(ia_spec), 0, 0, NULL,
	  "open loop inter-arrivals (dist.h syntax, rescaled to qps): exponential:1, fb_ia" },
	{ "workload", "service", K_STR, OFF(service_spec), SZ(service_spec), 0, 0, NULL,
	  "user instructions per request, a distribution (dist.h syntax)" },
	{ "workload", "wire", K_TIME, OFF(wire_ns), 0, 0, 1e9, NULL,
	  "one-way client stack + wire delay (bare number = ns)" },
	{ "run", "time", K_TIME, OFF(time_ns), 0, 1e5, 9e11, NULL,
	  "simulated time measured (bare number = s)" },
	{ "run", "warmup", K_TIME, OFF(warmup_ns), 0, 0, 1e11, NULL,
	  "simulated time before measuring (bare number = s)" },
	{ "run", "seed", K_U64, OFF(seed), 0, 0, 9.2e18, NULL, "random seed" },
#define C(f, lo, hi, h) { "cost", #f, K_DBL, OFF(cost.f), 0, lo, hi, NULL, h }
	C(ipc0, 0.05, 8, "IPC of unpolluted work"),
	C(ipc_spin, 0.05, 8, "IPC of an empty polling loop"),
	C(sys_req, 0, 1e7, "instructions: recv + send syscalls per request"),
	C(epoll, 0, 1e7, "instructions: one epoll_wait call"),
	C(rx_pkt, 0, 1e7, "instructions: receive path per packet"),
	C(poll, 0, 1e7, "instructions: napi->poll call, fixed part"),
	C(irq, 0, 1e7, "instructions: hard IRQ"),
	C(softirq, 0, 1e7, "instructions: softirq entry/exit + net_rx_action"),
	C(wake, 0, 1e7, "instructions: try_to_wake_up (waker pays)"),
	C(cs, 0, 1e7, "instructions: context switch out+in (sleeper pays)"),
	C(timer, 0, 1e7, "instructions: hrtimer interrupt"),
	C(arm, 0, 1e7, "instructions: hrtimer_start from the app's syscall"),
	C(pen_async, 0, 1e8, "cycles: pollution per asynchronous interruption"),
	C(pen_kern, 0, 1e8, "cycles: cold caches met by each interrupt's handler path"),
	C(pen_pkt, 0, 1e8, "cycles: pollution per packet processed asynchronously"),
	C(pen_wake, 0, 1e8, "cycles: pollution after a sleep"),
	C(tx_cqe, 0, 1e7, "instructions: reaping one transmit completion (unmap, free the skb)"),
	C(rx_udp, 0, 1e7, "instructions: UDP receive path per packet (udp_sink, cpu_loop)"),
	C(sys_udp, 0, 1e7, "instructions: one recvmsg of the UDP sink"),
#undef C
	{ "vm", "nic", K_ENUM, OFF(vm.nic), 0, 0, 0, "none,virtio,sriov,passthrough",
	  "bare metal, or a guest with a VirtIO NIC (vhost-net), an SR-IOV VF or a "
	  "passthrough device" },
	{ "vm", "delivery", K_ENUM, OFF(vm.delivery), 0, 0, 0, "emulated,posted,did",
	  "virtual interrupt delivery: KVM without APICv, posted interrupts, or direct (DID)" },
	{ "vm", "vcpus", K_INT, OFF(vm.vcpus), 0, 1, 256, NULL,
	  "guest vCPUs, pinned 1:1 on host cores (only the app ones are simulated)" },
	{ "vm", "app_cores", K_INT, OFF(cores), 0, 1, 256, NULL,
	  "vCPUs with an app thread and a queue each: another name for machine.cores "
	  "that also sets nic.queues" },
	{ "vm", "vhost", K_ENUM, OFF(vm.vhost), 0, 0, 0, "aligned,packed",
	  "host NIC IRQs and vhost workers on the app vCPUs' host cores, or on "
	  "host_irq_cores cores of their own" },
	{ "vm", "host_irq_cores", K_INT, OFF(vm.host_irq_cores), 0, 1, 64, NULL,
	  "packed: host cores for the host NIC's IRQs and the vhost workers" },
	{ "vm", "guest_idle", K_ENUM, OFF(vm.idle), 0, 0, 0, "halt,poll",
	  "an idle vCPU executes HLT (an exit; woken by the next interrupt), or "
	  "polls in the guest (idle=poll)" },
	{ "vm", "host_sched", K_ENUM, OFF(vm.host_sched), 0, 0, 0, "eevdf,cfs",
	  "host scheduler between a vCPU thread and a vhost worker on one core: "
	  "slice protection (EEVDF), or a woken worker preempts at once (CFS)" },
	{ "vm", "host_irq", K_ENUM, OFF(vm.host_irq), 0, 0, 0, "spread,target",
	  "sriov/passthrough with emulated delivery: the host takes the device's "
	  "interrupt on another vCPU's host core (which exits for it) and IPIs the "
	  "target, or on the target's own core" },
	{ "virtio", "queue_size", K_INT, OFF(vm.queue_size), 0, 1, 32768, NULL,
	  "virtqueue descriptors (the guest's receive ring)" },
	{ "virtio", "rx_frames", K_INT, OFF(vm.rx_frames), 0, 1, 65535, NULL,
	  "rx coalescing: signal the guest every N used buffers (1 = every packet)" },
	{ "virtio", "rx_usecs", K_TIME, OFF(vm.rx_usecs), 0, 0, 1e9, NULL,
	  "rx coalescing: ... or this long after the first (bare number = us)" },
	{ "virtio", "mergeable", K_ENUM, OFF(vm.mergeable), 0, 0, 0, "off,on",
	  "mergeable rx buffers (off: big buffers, a costlier refill per packet)" },
	{ "virtio", "napi_tx", K_ENUM, OFF(vm.napi_tx), 0, 0, 0, "off,on",
	  "virtio-net napi_tx: vhost signals used tx buffers (a guest interrupt and a "
	  "tx NAPI poll) while the guest has tx callbacks on; off: freed in start_xmit only" },
#define V(f, lo, hi, h) { "vmcost", #f, K_DBL, OFF(vm.cost.f), 0, lo, hi, NULL, h }
	V(exit_extint, 0, 1e6, "ns: external interrupt exit (NMI with DID), service + entry"),
	V(exit_eoi, 0, 1e6, "ns: EOI write exit (x2APIC MSR)"),
	V(exit_hlt, 0, 1e6, "ns: HLT exit"),
	V(exit_io, 0, 1e6, "ns: virtqueue kick exit (MMIO write, ioeventfd)"),
	V(exit_timer, 0, 1e6, "ns: timer programming exit (TSC-deadline MSR write)"),
	V(exit_ipi, 0, 1e6, "ns: IPI send exit (ICR MSR write)"),
	V(wake, 0, 1e7, "ns: waking a halted vCPU (host wake-up + VM entry)"),
	V(pen_exit, 0, 1e8, "cycles: pollution an exit leaves the guest code that runs next"),
	V(pen_exit_app, 0, 1e8, "cycles: pollution an exit leaves the app thread (paid when it runs)"),
	V(ipc, 0.05, 2, "guest IPC relative to bare metal (nested paging, TLB)"),
	V(host_rx_pkt, 0, 1e7, "instructions: host driver + bridge + tap, per packet"),
	V(vhost_rx_pkt, 0, 1e7, "instructions: vhost tap -> guest rx virtqueue, per packet"),
	V(vhost_tx_pkt, 0, 1e7, "instructions: vhost guest tx -> tap -> host NIC, per packet"),
	V(vhost_run, 0, 1e7, "instructions: one vhost worker pass (work item, notify toggles)"),
	V(signal, 0, 1e7, "instructions: vhost_signal (eventfd, irqfd injection)"),
	V(bigbuf, 0, 1e7, "instructions: guest refill per packet without mergeable buffers"),
	V(iotlb_passthrough, 0, 1e6, "ns: IOMMU translation per packet DMA, passthrough"),
	V(iotlb_sriov, 0, 1e6, "ns: IOMMU translation per packet DMA, SR-IOV VF"),
#undef V
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

void experiment_defaults(struct experiment *e)
{
	memset(e, 0, sizeof(*e));
	e->name[0] = '\0';	/* rows are then labelled by the mode preset */
	e->cores = 8;
	e->freq_ghz = 3.0;
	e->queues = 8;
	e->ring_size = 1024;
	e->coalesce = COAL_STATIC;
	e->rx_usecs = 1000;
	e->rx_frames = 0;
	e->tx_irq = 0;
	e->tx_coalesce = COAL_ADAPTIVE;
	e->tx_usecs = 16000;	/* mlx5 without TX DIM: 16 us / 32 CQEs */
	e->tx_frames = 32;
	e->affinity = AFF_ALIGNED;
	e->napi_weight = 64;
	e->netdev_budget = 300;
	e->netdev_budget_usecs = 2000000;
	e->sched_slice_ns = 0;
	e->threaded = NT_NONE;
	e->maxevents = 1024;	/* libevent grows its epoll array when full */
	snprintf(e->mode_spec, sizeof(e->mode_spec), "base");
	e->load = LOAD_CLOSED;
	e->conns = 256;
	e->depth = 1;
	e->qps = 200000;
	snprintf(e->ia_spec, sizeof(e->ia_spec), "exponential:1");
	snprintf(e->service_spec, sizeof(e->service_spec), "fixed:5031");
	e->wire_ns = 10000;
	e->time_ns = 200000000;
	e->warmup_ns = 20000000;
	e->seed = 1;
	/* Fitted on the thesis table; docs/sim.md gives the fit. */
	e->cost = (struct cost){
		.ipc0 = 0.901, .ipc_spin = 1.5, .sys_req = 11429, .epoll = 1500,
		.rx_pkt = 5672, .poll = 600, .irq = 902, .softirq = 500,
		.wake = 994, .cs = 2938, .timer = 458, .arm = 300,
		.pen_async = 4035, .pen_kern = 4198, .pen_pkt = 280, .pen_wake = 2790,
		.tx_cqe = 0, .rx_udp = 3000, .sys_udp = 4000,
	};
	e->app = APP_MEMCACHED;
	/* Bare metal; the VM values below apply when vm.nic is set.
	 * docs/sim.md, "Virtual machines", gives each one's source. */
	e->vm = (struct vm_conf){
		.nic = VMNIC_NONE, .delivery = DELIV_EMULATED, .vcpus = 8,
		.vhost = VHOST_ALIGNED, .host_irq_cores = 2,
		.idle = VIDLE_HALT, .queue_size = 256, .rx_frames = 1,
		.rx_usecs = 10000, .mergeable = 1, .napi_tx = 0,
		.cost = {
			.exit_extint = 1970, .exit_eoi = 850, .exit_hlt = 1000,
			.exit_io = 1959, .exit_timer = 850, .exit_ipi = 1500,
			.wake = 10000, .pen_exit = 296, .pen_exit_app = 782,
			.ipc = 0.7772, .host_rx_pkt = 3000, .vhost_rx_pkt = 3036,
			.vhost_tx_pkt = 4248,
			.vhost_run = 1000, .signal = 1000, .bigbuf = 2000,
			.iotlb_passthrough = 50, .iotlb_sriov = 150,
		},
	};
}

static const struct key *find_key(const char *section, const char *name,
				  int *ambiguous)
{
	const struct key *hit = NULL;

	*ambiguous = 0;
	for (size_t i = 0; i < NKEYS; i++) {
		if (strcmp(keys[i].name, name) ||
		    (section && strcmp(keys[i].section, section)))
			continue;
		if (hit)
			*ambiguous = 1;
		hit = &keys[i];
	}
	return hit;
}

/* For --help-config: what a key accepts. */
static void range_str(const struct key *k, char *buf, size_t len)
{
	if (k->type == K_ENUM)
		snprintf(buf, len, "one of %s", k->enums);
	else if (k->type == K_STR)
		snprintf(buf, len, "a string under %zu bytes", k->size);
	else if (k->type == K_TIME)
		snprintf(buf, len, "%.0f..%.0f ns (ns/us/ms/s suffix)", k->min, k->max);
	else
		snprintf(buf, len, "%g..%g", k->min, k->max);
}

/* Bare numbers of a time key are in the key's natural unit. */
static uint64_t time_unit(const struct key *k)
{
	if (!strcmp(k->section, "run"))
		return 1000000000ULL;
	if (!strcmp(k->name, "rx_usecs") || !strcmp(k->name, "tx_usecs") ||
	    !strcmp(k->name, "netdev_budget_usecs"))
		return 1000ULL;
	return 1;
}

/* A bare fraction ("0.5" for run.time) gets the key's unit as a suffix,
 * as opt.h takes fractions only with one. */
static const char *with_unit(const struct key *k, const char *val, char *buf,
			     size_t len)
{
	uint64_t u = time_unit(k);
	size_t n = strlen(val);

	if (!strchr(val, '.') || !n || !isdigit((unsigned char)val[n - 1]))
		return val;
	snprintf(buf, len, "%s%s", val, u == 1000000000ULL ? "s" : u == 1000 ? "us" : "ns");
	return buf;
}

/* K_ENUM: its comma-separated names -> il_opt_choice. */
static int set_enum(const struct key *k, const char *opt, const char *val,
		    int *out, char *err, size_t errlen)
{
	char buf[128], *save = NULL;
	const char *names[16];
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", k->enums);
	for (char *t = strtok_r(buf, ",", &save); t && n < 16; t = strtok_r(NULL, ",", &save))
		names[n++] = t;
	int i = il_opt_choice(opt, val, names, n, err, errlen);
	if (i < 0)
		return -1;
	*out = i;
	return 0;
}

/* One key from its text, through opt.h; errors name "section.key" and what
 * it accepts. */
static int set_key(struct experiment *e, const struct key *k,
		   const char *val, char *err, size_t errlen)
{
	char *p = (char *)e + k->off, opt[64], buf[64];
	double d;

	snprintf(opt, sizeof(opt), "%s.%s", k->section, k->name);
	switch (k->type) {
	case K_STR:
		if (strlen(val) >= k->size) {
			snprintf(err, errlen, "%s: '%s' is longer than %zu characters",
				 opt, val, k->size - 1);
			return -1;
		}
		strcpy(p, val);
		return 0;
	case K_ENUM:
		return set_enum(k, opt, val, (int *)p, err, errlen);
	case K_TIME:
		return il_opt_time(opt, with_unit(k, val, buf, sizeof(buf)), time_unit(k),
				   (uint64_t)k->min, (uint64_t)k->max, (uint64_t *)p, err,
				   errlen);
	case K_INT:
		if (il_opt_num(opt, val, k->min, k->max, 1, &d, err, errlen))
			return -1;
		*(int *)p = (int)d;
		return 0;
	case K_U64: {
		long long v;

		if (il_opt_int(opt, val, (long long)k->min, (long long)k->max, &v, err,
			       errlen))
			return -1;
		*(uint64_t *)p = (uint64_t)v;
		return 0;
	}
	case K_DBL:
		return il_opt_num(opt, val, k->min, k->max, 0, (double *)p, err, errlen);
	}
	return -1;
}

int experiment_set(struct experiment *e, const char *key, const char *val,
	       char *err, size_t errlen)
{
	char sect[32] = "", name[64];
	const char *dot = strchr(key, '.');
	const struct key *k;
	int amb;

	if (dot) {
		if ((size_t)(dot - key) >= sizeof(sect) || strlen(dot + 1) >= sizeof(name))
			goto unknown;
		memcpy(sect, key, (size_t)(dot - key));
		sect[dot - key] = '\0';
		snprintf(name, sizeof(name), "%s", dot + 1);
	} else {
		if (strlen(key) >= sizeof(name))
			goto unknown;
		snprintf(name, sizeof(name), "%s", key);
	}
	/* [mode] also takes every knob of mode.h, applied after the spec. */
	if (!strcmp(sect, "mode") && strcmp(name, "spec")) {
		size_t n = strlen(e->mode_spec);
		struct il_mode m;

		/* Check the knob alone; cross-knob rules wait for experiment_finish. */
		il_mode_preset("base", &m);
		if (il_mode_set(&m, name, val, err, errlen))
			return -1;
		if (n + strlen(name) + strlen(val) + 3 >= sizeof(e->mode_spec)) {
			snprintf(err, errlen, "mode: too many knobs");
			return -1;
		}
		snprintf(e->mode_spec + n, sizeof(e->mode_spec) - n, ",%s=%s",
			 name, val);
		return 0;
	}
	k = find_key(*sect ? sect : NULL, name, &amb);
	if (k && !amb) {
		if (set_key(e, k, val, err, errlen))
			return -1;
		/* in a VM the app vCPUs are the model's cores */
		if (!strcmp(k->section, "vm") && !strcmp(k->name, "app_cores"))
			e->queues = e->cores;
		return 0;
	}
unknown:
	snprintf(err, errlen, "unknown or ambiguous key '%s' (see --help-config)", key);
	return -1;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

int experiment_load_string(struct experiment *e, const char *text,
		       const char *what, char *err, size_t errlen)
{
	char sect[32] = "", line[512], full[128], msg[256];
	const char *p = text;
	int lineno = 0;

	while (*p) {
		size_t n = strcspn(p, "\n");

		lineno++;
		if (n >= sizeof(line)) {
			snprintf(err, errlen, "%s:%d: line too long", what, lineno);
			return -1;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		p += n + (p[n] == '\n');
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *s = trim(line);
		if (!*s)
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');
			if (!close || close[1] || close - s - 1 >= (long)sizeof(sect)) {
				snprintf(err, errlen, "%s:%d: bad section header", what, lineno);
				return -1;
			}
			*close = '\0';
			snprintf(sect, sizeof(sect), "%s", s + 1);
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq || !*sect) {
			snprintf(err, errlen, "%s:%d: expected key = value inside a [section]",
				 what, lineno);
			return -1;
		}
		*eq = '\0';
		char *k = trim(s), *v = trim(eq + 1);
		snprintf(full, sizeof(full), "%s.%s", sect, k);
		if (experiment_set(e, full, v, msg, sizeof(msg))) {
			snprintf(err, errlen, "%s:%d: %s", what, lineno, msg);
			return -1;
		}
	}
	return 0;
}

int experiment_load(struct experiment *e, const char *path, char *err,
		size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;
	int rc;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || n > (1 << 20) ||
	    fseek(f, 0, SEEK_SET)) {
		snprintf(err, errlen, "%s: unreadable or larger than 1 MiB", path);
		fclose(f);
		return -1;
	}
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		snprintf(err, errlen, "%s: read failed", path);
		free(buf);
		fclose(f);
		return -1;
	}
	buf[n] = '\0';
	fclose(f);
	rc = experiment_load_string(e, buf, path, err, errlen);
	free(buf);
	return rc;
}

/* The VM layer's cross-key rules. */
static int vm_check(const struct experiment *e, char *err, size_t errlen)
{
	const struct vm_conf *v = &e->vm;

	if (e->app != APP_MEMCACHED && e->load != LOAD_OPEN) {
		snprintf(err, errlen, "workload.app: %s needs workload.load = open "
			 "(packets at a rate)", e->app == APP_UDP_SINK ? "udp_sink" : "cpu_loop");
		return -1;
	}
	if (v->nic == VMNIC_NONE)
		return 0;
	if (e->queues != e->cores) {
		snprintf(err, errlen, "nic.queues: %d, but vm.app_cores %d: in a VM each app "
			 "vCPU has one queue (set vm.app_cores)", e->queues, e->cores);
		return -1;
	}
	if (v->vcpus < e->cores) {
		snprintf(err, errlen, "vm.vcpus: %d is fewer than vm.app_cores %d",
			 v->vcpus, e->cores);
		return -1;
	}
	if (e->affinity != AFF_ALIGNED) {
		snprintf(err, errlen, "nic.affinity: a guest takes each queue's interrupt "
			 "on its app vCPU (aligned); vm.vhost places the host side");
		return -1;
	}
	return 0;
}

int experiment_finish(struct experiment *e, char *err, size_t errlen)
{
	char msg[200];

	if (il_mode_parse(e->mode_spec, &e->mode, msg, sizeof(msg))) {
		snprintf(err, errlen, "mode.spec: %s", msg);
		return -1;
	}
	if (il_dist_parse(e->ia_spec, &e->ia, msg, sizeof(msg))) {
		snprintf(err, errlen, "workload.ia: %s", msg);
		return -1;
	}
	if (il_dist_parse(e->service_spec, &e->service, msg, sizeof(msg))) {
		snprintf(err, errlen, "workload.service: %s", msg);
		return -1;
	}
	if (!(il_dist_mean(&e->service) >= 0)) {
		snprintf(err, errlen, "workload.service: '%s' needs a finite mean",
			 e->service_spec);
		return -1;
	}
	if (e->load == LOAD_OPEN) {
		double m = il_dist_mean(&e->ia);
		if (!(m > 0) || !isfinite(m)) {
			snprintf(err, errlen, "workload.ia: '%s' needs a finite mean",
				 e->ia_spec);
			return -1;
		}
		il_dist_set_mean(&e->ia, 1e9 / e->qps);	/* ns */
	}
	if (e->queues > e->cores) {
		snprintf(err, errlen,
			 "nic.queues: %d exceeds machine.cores %d (one queue per app core)",
			 e->queues, e->cores);
		return -1;
	}
	if (e->threaded == NT_SEPARATE && e->cores == 1 &&
	    e->affinity != AFF_REMOTE) {
		snprintf(err, errlen, "napi.threaded: separate needs a core other than "
			 "the app's (machine.cores > 1 or nic.affinity = remote)");
		return -1;
	}
	if (e->affinity == AFF_PACKED && e->cores <= e->queues) {
		snprintf(err, errlen, "nic.affinity: packed needs more cores (%d) than "
			 "queues (%d): the IRQs go to the cores without app threads",
			 e->cores, e->queues);
		return -1;
	}
	return vm_check(e, err, errlen);
}

void experiment_write(FILE *f, const struct experiment *e)
{
	const char *sect = "";

	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];
		const char *p = (const char *)e + k->off;

		if (strcmp(sect, k->section)) {
			fprintf(f, "%s[%s]\n", i ? "\n" : "", k->section);
			sect = k->section;
		}
		fprintf(f, "%s = ", k->name);
		switch (k->type) {
		case K_STR: fprintf(f, "%s\n", p); break;
		case K_INT: fprintf(f, "%d\n", *(const int *)p); break;
		case K_U64: fprintf(f, "%" PRIu64 "\n", *(const uint64_t *)p); break;
		case K_TIME: fprintf(f, "%" PRIu64 "ns\n", *(const uint64_t *)p); break;
		case K_DBL: fprintf(f, "%.15g\n", *(const double *)p); break;
		case K_ENUM: {
			int idx = *(const int *)p;
			const char *s = k->enums;
			while (idx-- > 0 && s)
				s = strchr(s, ',') + 1;
			fprintf(f, "%.*s\n", (int)strcspn(s, ","), s);
			break;
		}
		}
	}
}

void experiment_keys_help(FILE *f)
{
	char range[96];

	for (size_t i = 0; i < NKEYS; i++) {
		range_str(&keys[i], range, sizeof(range));
		fprintf(f, "  [%s] %-20s %s (%s)\n", keys[i].section, keys[i].name,
			keys[i].help, range);
	}
	fprintf(f, "  [mode] any knob of mode.h (defer_hard_irqs, gro_flush_timeout, "
		"irq_suspend_timeout, busy_poll_usecs, busy_poll_budget, "
		"prefer_busy_poll, wait) is appended to the spec\n");
}
