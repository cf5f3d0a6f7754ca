/* irqlab napi: list and set per-NAPI settings, like `ethtool -C` for the
 * knobs that live on a NAPI rather than on the NIC. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "irqlab/opt.h"
#include "irqlab/mode.h"
#include "irqlab/napi.h"

static int usage(FILE *f)
{
	fprintf(f,
"usage: irqlab napi list [--dev DEV] [--json]\n"
"       irqlab napi set (--dev DEV | --id N) [settings] [--hold]\n"
"\n"
"list: every NAPI of DEV (default: all devices of this network namespace)\n"
"  -d, --dev DEV                only NAPIs of this device\n"
"  -j, --json                   JSON instead of a table\n"
"\n"
"set: change NAPI settings (needs CAP_NET_ADMIN, Linux 6.13+)\n"
"  -d, --dev DEV                every NAPI of DEV\n"
"  -i, --id N                   one NAPI by id (see irqlab napi list)\n"
"  -D, --defer-hard-irqs N      empty polls before the IRQ is re-enabled,\n"
"                               0..2147483647\n"
"  -g, --gro-flush-timeout T    timer that re-polls instead of re-enabling\n"
"                               the IRQ: 0..4294967295ns, takes ns/us/ms/s\n"
"  -s, --irq-suspend-timeout T  IRQ suspend safety net while the application\n"
"                               busy polls (Linux 6.13+): 0..4294967295ns\n"
"  -t, --threaded 0|1|2         poll in a kernel thread: 0 softirq, 1 kthread\n"
"                               (Linux 6.17+), 2 busy-polling kthread (6.19+)\n"
"  -m, --mode SPEC              the NAPI knobs (defer, gro flush, suspend) of\n"
"                               a mode: %s,\n"
"                               then ,knob=value...; explicit options win\n"
"  -H, --hold                   keep the settings until Ctrl-C or SIGTERM,\n"
"                               then restore the old values (without --hold\n"
"                               the change is permanent; the undo command is\n"
"                               printed)\n"
"  -h, --help                   this text\n", IL_MODE_NAMES);
	return f == stderr ? 2 : 0;
}

static const char *dev_name(int ifindex, char *buf)
{
	if (!if_indextoname((unsigned)ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "if%d", ifindex);
	return buf;
}

/* "0,1,3": the rx queues served by a NAPI, from queue-get. A driver that
 * links no queue (veth) but has one NAPI: that NAPI serves them all, "0*". */
static void queues_of(const struct il_napi *napi, const struct il_napi *all,
		      int count, const struct il_queue *q, int nq,
		      char *buf, size_t len)
{
	size_t off = 0;
	int napis = 0;
	bool linked = false;

	for (int i = 0; i < count; i++)
		napis += all[i].ifindex == napi->ifindex;
	for (int i = 0; i < nq; i++)
		linked |= q[i].ifindex == napi->ifindex && q[i].napi_id;
	buf[0] = '\0';
	for (int i = 0; i < nq && off < len; i++) {
		bool mine = linked ? q[i].napi_id == napi->id :
			    napis == 1 && q[i].ifindex == napi->ifindex;

		if (mine)
			off += (size_t)snprintf(buf + off, len - off, "%s%u%s",
						off ? "," : "", q[i].id,
						linked ? "" : "*");
	}
	if (!buf[0])
		snprintf(buf, len, "-");
}

static void print_table(const struct il_napi *n, int count,
			const struct il_queue *q, int nq)
{
	char name[IF_NAMESIZE], gro[32], susp[32], irq[16], pid[16], qs[64];
	bool star = false;

	printf("%-12s %8s %6s %8s %8s %8s %10s %11s %s\n", "DEV", "NAPI-ID",
	       "IRQ", "KTHREAD", "THREADED", "DEFER", "GRO-FLUSH",
	       "IRQ-SUSPEND", "RX-QUEUES");
	for (int i = 0; i < count; i++) {
		il_fmt_time_ns(n[i].gro_flush_timeout, gro, sizeof(gro));
		il_fmt_time_ns(n[i].irq_suspend_timeout, susp, sizeof(susp));
		snprintf(irq, sizeof(irq), n[i].irq >= 0 ? "%d" : "-", n[i].irq);
		snprintf(pid, sizeof(pid), n[i].pid > 0 ? "%d" : "-", n[i].pid);
		queues_of(&n[i], n, count, q, nq, qs, sizeof(qs));
		printf("%-12s %8u %6s %8s %8d %8" PRIu32 " %10s %11s %s\n",
		       dev_name(n[i].ifindex, name), n[i].id, irq, pid,
		       n[i].threaded, n[i].defer_hard_irqs,
		       n[i].has_gro ? gro : "n/a",
		       n[i].has_suspend ? susp : "n/a", qs);
		star |= strchr(qs, '*') != NULL;
	}
	if (star)
		printf("* the driver links no rx queue to a NAPI (veth); the "
		       "device's only NAPI serves them\n");
}

static void print_json(const struct il_napi *n, int count)
{
	printf("[");
	for (int i = 0; i < count; i++) {
		printf("%s\n  ", i ? "," : "");
		il_napi_print_json(stdout, &n[i]);
	}
	printf("%s]\n", count ? "\n" : "");
}

static int cmd_list(int argc, char **argv)
{
	struct il_napi n[IL_NAPI_MAX];
	struct il_queue q[IL_NAPI_MAX];
	const char *dev = NULL;
	char err[256];
	int c, count, nq, json = 0;

	if ((c = cli_dev_json(argc, argv, usage, &dev, &json)) >= 0)
		return c;
	if (optind < argc) {
		fprintf(stderr, "irqlab napi list: unexpected '%s'\n", argv[optind]);
		return 2;
	}
	count = il_napi_list(dev, n, IL_NAPI_MAX, err, sizeof(err));
	if (count < 0) {
		fprintf(stderr, "irqlab napi list: %s\n", err);
		return 1;
	}
	if (json) {
		print_json(n, count);
		return 0;
	}
	if (count == 0) {
		if (dev)
			il_napi_explain_none(dev, err, sizeof(err));
		else
			snprintf(err, sizeof(err), "no NAPI in this network "
				 "namespace: busy polling needs a device with "
				 "NAPI (a real NIC, or a veth with GRO on)");
		printf("%s\n", err);
		return 0;
	}
	/* The queue map is a bonus: older kernels may lack queue-get. */
	nq = il_queue_list(dev, q, IL_NAPI_MAX, err, sizeof(err));
	print_table(n, count, q, nq > 0 ? nq : 0);
	return 0;
}

/* What `set` was asked to do. */
struct want {
	unsigned what;
	struct il_napi val;
	struct il_mode mode;
	bool mode_only;		/* --mode without overrides */
};

/* Parses a count or a time option (opt.h), the message naming the option
 * as the user typed it and its range. */
static int opt_value(const char *opt, const char *arg, bool time,
		     uint64_t max, uint64_t *out)
{
	char name[48], err[256];
	long long v;
	int rc;

	snprintf(name, sizeof(name), "--%s", opt);
	if (time)
		rc = il_opt_time(name, arg, 1, 0, max, out, err, sizeof(err));
	else if ((rc = il_opt_int(name, arg, 0, (long long)max, &v, err, sizeof(err))) == 0)
		*out = (uint64_t)v;
	if (rc)
		fprintf(stderr, "irqlab napi set: %s\n", err);
	return rc;
}

/* One "name old -> new" item of describe(); "old -> " only with a before
 * (had); times (time_ns) formatted, other values as numbers. */
static void describe_item(const char **sep, const char *name, int time_ns,
			  long long now, int had, long long before)
{
	char a[32], b[32];

	if (time_ns) {
		il_fmt_time_ns((uint64_t)now, a, sizeof(a));
		il_fmt_time_ns((uint64_t)before, b, sizeof(b));
	} else {
		snprintf(a, sizeof(a), "%lld", now);
		snprintf(b, sizeof(b), "%lld", before);
	}
	printf("%s %s %s%s%s", *sep, name, had ? b : "", had ? " -> " : "", a);
	*sep = ",";
}

static void describe(const char *verb, const struct il_napi *n, unsigned what,
		     const struct il_napi *before)
{
	const struct il_napi *o = before ? before : n;	/* o: read only if before */
	char name[IF_NAMESIZE];
	const char *sep = "";
	int had = before != NULL;

	printf("%s napi %u (%s):", verb, n->id, dev_name(n->ifindex, name));
	if (what & IL_SET_DEFER)
		describe_item(&sep, "defer_hard_irqs", 0, n->defer_hard_irqs, had,
			      o->defer_hard_irqs);
	if (what & IL_SET_GRO)
		describe_item(&sep, "gro_flush_timeout", 1, (long long)n->gro_flush_timeout,
			      had, (long long)o->gro_flush_timeout);
	if (what & IL_SET_SUSPEND)
		describe_item(&sep, "irq_suspend_timeout", 1, (long long)n->irq_suspend_timeout,
			      had, (long long)o->irq_suspend_timeout);
	if (what & IL_SET_THREADED) {
		describe_item(&sep, "threaded", 0, n->threaded, had, o->threaded);
		if (n->pid > 0)
			printf(" (kthread pid %d)", n->pid);
	}
	printf("\n");
}

/* The command that puts one NAPI back, for permanent changes. */
static void print_undo(const struct il_napi *old, unsigned what)
{
	char t[32];

	printf("  undo: irqlab napi set --id %u", old->id);
	if (what & IL_SET_DEFER)
		printf(" --defer-hard-irqs %" PRIu32, old->defer_hard_irqs);
	if (what & IL_SET_GRO) {
		il_fmt_time_ns(old->gro_flush_timeout, t, sizeof(t));
		printf(" --gro-flush-timeout %s", t);
	}
	if (what & IL_SET_SUSPEND) {
		il_fmt_time_ns(old->irq_suspend_timeout, t, sizeof(t));
		printf(" --irq-suspend-timeout %s", t);
	}
	if (what & IL_SET_THREADED)
		printf(" --threaded %d", old->threaded);
	printf("\n");
}

/* Applies want to each NAPI, printing old -> new as read back. */
static int apply(const struct il_napi *targets, int n, const struct want *w)
{
	char err[256];

	for (int i = 0; i < n; i++) {
		struct il_napi now;

		if (il_napi_set(targets[i].id, w->what, &w->val, err, sizeof(err))) {
			fprintf(stderr, "irqlab napi set: %s\n", err);
			return -1;
		}
		if (il_napi_get(targets[i].id, &now, err, sizeof(err))) {
			fprintf(stderr, "irqlab napi set: reading back: %s\n", err);
			return -1;
		}
		describe("set", &now, w->what, &targets[i]);
	}
	return 0;
}

/* --dev with a plain --mode: the library call servers use, so this
 * command shows exactly what irqlab-kv --mode and the shim would do. */
static int apply_mode(const char *dev, const struct il_mode *m)
{
	char err[256];
	int n = il_napi_apply_mode(dev, m, err, sizeof(err));

	if (n < 0) {
		fprintf(stderr, "irqlab napi set: %s\n", err);
		return -1;
	}
	for (int i = 0; i < il_napi_saved_count(); i++) {
		struct il_napi old, now;
		unsigned what;

		il_napi_saved(i, &old, &what);
		if (il_napi_get(old.id, &now, err, sizeof(err))) {
			fprintf(stderr, "irqlab napi set: reading back: %s\n", err);
			return -1;
		}
		describe("set", &now, what, &old);
	}
	return 0;
}

/* Waits for SIGINT/SIGTERM (blocked by the caller), then restores and
 * prints what the kernel reports afterwards. */
static int hold_and_restore(void)
{
	int nsaved = il_napi_saved_count(), sig = 0, rc;
	struct il_napi old[IL_NAPI_MAX];
	unsigned what[IL_NAPI_MAX];
	char err[256];

	for (int i = 0; i < nsaved; i++)
		il_napi_saved(i, &old[i], &what[i]);
	sig = cli_hold_wait();
	rc = il_napi_restore_all();
	if (rc < 0)
		fprintf(stderr, "irqlab napi set: restore: %s\n", strerror(-rc));
	for (int i = 0; i < nsaved; i++) {
		struct il_napi now;

		if (il_napi_get(old[i].id, &now, err, sizeof(err)) == 0)
			describe("restored", &now, what[i], NULL);
		else
			printf("restored napi %u: gone (%s)\n", old[i].id, err);
	}
	printf("restored after %s\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
	return rc < 0 ? 1 : 0;
}

static bool kernel_has_suspend(void)
{
	struct il_napi_support s;

	il_napi_probe(&s);
	return s.napi_set && s.irq_suspend;
}

/* The numeric knobs of `napi set`, by option letter. */
static const struct knob {
	int c;
	const char *name;
	unsigned bit;		/* IL_SET_* */
	bool time;
	uint64_t max;
} knobs[] = {
	{ 'D', "defer-hard-irqs", IL_SET_DEFER, false, INT32_MAX },
	{ 'g', "gro-flush-timeout", IL_SET_GRO, true, UINT32_MAX },
	{ 's', "irq-suspend-timeout", IL_SET_SUSPEND, true, UINT32_MAX },
	{ 't', "threaded", IL_SET_THREADED, false, 2 },
};

/* Parses knob option c into val and marks it given in *explicit. */
static int set_knob(int c, const char *arg, struct il_napi *val,
		    unsigned *explicit)
{
	const struct knob *k = knobs;
	uint64_t v;

	while (k->c != c)
		k++;
	if (opt_value(k->name, arg, k->time, k->max, &v))
		return -1;
	switch (k->bit) {
	case IL_SET_DEFER: val->defer_hard_irqs = (uint32_t)v; break;
	case IL_SET_GRO: val->gro_flush_timeout = v; break;
	case IL_SET_SUSPEND: val->irq_suspend_timeout = v; break;
	case IL_SET_THREADED: val->threaded = (int)v; break;
	}
	*explicit |= k->bit;
	return 0;
}

/* --mode: its NAPI values, except those given explicitly, which win. */
static void merge_mode(struct want *w, const struct il_mode *m,
		       unsigned explicit)
{
	w->mode = *m;
	w->mode_only = !explicit;
	if (!(explicit & IL_SET_DEFER))
		w->val.defer_hard_irqs = m->defer_hard_irqs;
	if (!(explicit & IL_SET_GRO))
		w->val.gro_flush_timeout = m->gro_flush_timeout;
	if (!(explicit & IL_SET_SUSPEND))
		w->val.irq_suspend_timeout = m->irq_suspend_timeout;
	w->what = IL_SET_DEFER | IL_SET_GRO;
	/* A mode without suspend still turns an old suspend off, where the
	 * kernel has the knob at all. */
	if (m->irq_suspend_timeout || kernel_has_suspend())
		w->what |= IL_SET_SUSPEND;
}

static int parse_set(int argc, char **argv, struct want *w, const char **dev,
		     int64_t *id, int *hold)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "id", required_argument, NULL, 'i' },
		{ "defer-hard-irqs", required_argument, NULL, 'D' },
		{ "gro-flush-timeout", required_argument, NULL, 'g' },
		{ "irq-suspend-timeout", required_argument, NULL, 's' },
		{ "threaded", required_argument, NULL, 't' },
		{ "mode", required_argument, NULL, 'm' },
		{ "hold", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	unsigned explicit = 0;
	struct il_mode m;
	bool have_mode = false;
	char err[256];
	long long lv;
	int c;

	while ((c = getopt_long(argc, argv, "d:i:D:g:s:t:m:Hh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			*dev = optarg;
			break;
		case 'i':
			if (il_opt_int("--id", optarg, 1, UINT32_MAX, &lv,
				       err, sizeof(err))) {
				fprintf(stderr, "irqlab napi set: %s\n", err);
				return -1;
			}
			*id = lv;
			break;
		case 'D': case 'g': case 's': case 't':
			if (set_knob(c, optarg, &w->val, &explicit))
				return -1;
			break;
		case 'm':
			if (il_mode_parse(optarg, &m, err, sizeof(err))) {
				fprintf(stderr, "irqlab napi set: --mode: %s\n", err);
				return -1;
			}
			have_mode = true;
			break;
		case 'H':
			*hold = 1;
			break;
		case 'h':
			return usage(stdout), 1;
		default:
			return usage(stderr), -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "irqlab napi set: unexpected '%s'\n", argv[optind]);
		return -1;
	}
	if (have_mode)
		merge_mode(w, &m, explicit);
	w->what |= explicit;
	if ((*dev != NULL) == (*id != 0)) {
		fprintf(stderr, "irqlab napi set: give exactly one of --dev DEV "
			"or --id N\n");
		return -1;
	}
	if (!w->what) {
		fprintf(stderr, "irqlab napi set: nothing to set (--defer-hard-irqs, "
			"--gro-flush-timeout, --irq-suspend-timeout, --threaded, "
			"--mode)\n");
		return -1;
	}
	return 0;
}

static int cmd_set(int argc, char **argv)
{
	struct want w = { 0 };
	struct il_napi targets[IL_NAPI_MAX];
	const char *dev = NULL;
	int64_t id = 0;
	int hold = 0, n, rc;
	char err[256];

	rc = parse_set(argc, argv, &w, &dev, &id, &hold);
	if (rc)
		return rc > 0 ? 0 : 2;
	if (dev) {
		n = il_napi_list(dev, targets, IL_NAPI_MAX, err, sizeof(err));
		if (n == 0) {
			il_napi_explain_none(dev, err, sizeof(err));
			n = -ENOENT;
		}
	} else {
		n = il_napi_get((uint32_t)id, &targets[0], err, sizeof(err)) ? -1 : 1;
	}
	if (n < 0) {
		fprintf(stderr, "irqlab napi set: %s\n", err);
		return 1;
	}
	cli_hold_begin(hold);
	if (dev && w.mode_only ? apply_mode(dev, &w.mode) : apply(targets, n, &w)) {
		if (il_napi_saved_count())
			printf("rolling back the NAPIs already changed\n");
		il_napi_restore_all();
		return 1;
	}
	if (hold)
		return hold_and_restore();
	printf("permanent: these settings stay after irqlab exits "
	       "(use --hold to restore them on Ctrl-C); to undo:\n");
	for (int i = 0; i < il_napi_saved_count(); i++) {
		struct il_napi old;
		unsigned what;

		il_napi_saved(i, &old, &what);
		print_undo(&old, what);
	}
	il_napi_keep_all();
	return 0;
}

int cmd_napi(int argc, char **argv)
{
	static const struct cli_sub subs[] = {
		{ "list", cmd_list }, { "set", cmd_set }, { NULL, NULL },
	};

	return cli_dispatch("irqlab napi", argc, argv, subs, usage);
}
