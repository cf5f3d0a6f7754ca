/* irqlab nic: the NIC side of an experiment by hand, ethtool -c/-l/-g and
 * the IRQ and RPS settings of each rx queue in one view, and the published
 * cases (--coalesce adaptive|off, queues, one queue's IRQ per core, RPS off)
 * set with every old value recorded and put back with --hold. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/ethtool_netlink.h>

#include "cli.h"
#include "irqlab/nic.h"
#include "irqlab/opt.h"

static int usage(FILE *f)
{
	fprintf(f,
"usage: irqlab nic show --dev DEV [--json]\n"
"       irqlab nic set --dev DEV [settings] [--hold]\n"
"\n"
"show: the driver (ethtool -i), coalescing (-c), channels (-l), ring sizes (-g),\n"
"and each rx queue's IRQ, the CPUs it may run on and its RPS CPUs\n"
"  -d, --dev DEV             the device\n"
"  -j, --json                one JSON object instead of text\n"
"\n"
"set: change them (needs CAP_NET_ADMIN); every old value is recorded first\n"
"  -c, --coalesce adaptive|off  the published cases: adaptive-rx/tx on; or no\n"
"                            coalescing: adaptive off, rx-usecs 0, rx-frames 1\n"
"                            (only what DEV supports; an error if none)\n"
"      --adaptive-rx on|off, --adaptive-tx on|off, --cqe-mode-rx on|off,\n"
"      --cqe-mode-tx on|off  one coalescing field (ethtool -C), over the preset\n"
"      --rx-usecs N, --rx-frames N, --tx-usecs N, --tx-frames N\n"
"                            0..4294967295\n"
"  -q, --queues N            N queues: combined channels where DEV has them,\n"
"                            else rx and tx channels; 1..65535\n"
"      --combined N, --rx-queues N, --tx-queues N   one channel count (-L)\n"
"      --rx-ring N, --tx-ring N   ring sizes (ethtool -G), 1..4294967295\n"
"  -i, --irq-cpus LIST       rx queue i's IRQ on CPU LIST[i mod n]; \"0-3\" puts\n"
"                            one queue's IRQ on each of 4 cores\n"
"      --rps off             RPS off on every rx queue (rps_cpus 0)\n"
"  -H, --hold                keep the settings until Ctrl-C or SIGTERM, then\n"
"                            restore the old values (without --hold the\n"
"                            change is permanent; the undo commands are\n"
"                            printed)\n"
"  -h, --help                this text\n"
"\n"
"IRQLAB_NL_DEBUG=1 prints every netlink message.\n");
	return f == stderr ? 2 : 0;
}

/* --- show ---------------------------------------------------------------- */

static void print_kind(const struct il_nic_state *s, enum il_et_kind k)
{
	const struct il_et *v = &s->et[k];

	printf("  %-9s", il_et_kind_name(k));
	if (s->err[k] == -EOPNOTSUPP) {
		printf(" not supported by %s (ethtool %s)\n", s->dev,
		       il_et_kind_flag(k));
		return;
	}
	/* Settable fields first, then what the device only reports. */
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < il_nic_nfields; i++) {
			const struct il_nic_field *f = &il_nic_fields[i];

			if (f->kind != k || !(v->have & (1u << f->attr)) ||
			    !!(f->flags & IL_NF_SET) != (pass == 0))
				continue;
			if (f->flags & IL_NF_BOOL)
				printf(" %s %s", f->name,
				       v->v[f->attr] ? "on" : "off");
			else
				printf(" %s %" PRIu32, f->name, v->v[f->attr]);
		}
	printf("%s\n", v->have ? "" : " (nothing reported)");
}

void nic_print_state(const struct il_nic_state *s)
{
	printf("%s\n", s->dev);
	if (s->drv.driver[0])
		printf("  driver    %s version %s firmware %s bus %s\n", s->drv.driver,
		       s->drv.version[0] ? s->drv.version : "-",
		       s->drv.firmware[0] ? s->drv.firmware : "-",
		       s->drv.bus_info[0] ? s->drv.bus_info : "-");
	for (int k = 0; k < IL_ET_KINDS; k++)
		print_kind(s, (enum il_et_kind)k);
	printf("  %-6s %-6s %-18s %-10s %s\n", "rxq", "irq", "irq from",
	       "cpus", "rps cpus");
	for (int i = 0; i < s->nqueues; i++) {
		const struct il_nic_queue *q = &s->q[i];
		char irq[16];

		snprintf(irq, sizeof(irq), q->irq >= 0 ? "%d" : "-", q->irq);
		printf("  %-6d %-6s %-18s %-10s %s\n", q->index, irq,
		       q->irq >= 0 ? q->irq_from : "-",
		       q->affinity[0] ? q->affinity : "-",
		       q->rps[0] ? q->rps : "-");
	}
}

static int cmd_show(int argc, char **argv)
{
	struct il_nic_state *s;
	const char *dev = NULL;
	int json = 0, c, rc;
	char err[256];

	if ((c = cli_dev_json(argc, argv, usage, &dev, &json)) >= 0)
		return c;
	if (!dev || optind < argc) {
		fprintf(stderr, "irqlab nic show: %s\n", dev ? "unexpected "
			"argument" : "--dev DEV is required");
		return 2;
	}
	if (!(s = malloc(sizeof(*s))))
		return 1;
	rc = il_nic_read(dev, s, err, sizeof(err));
	if (rc)
		fprintf(stderr, "irqlab nic show: %s\n", err);
	else if (json) {
		il_nic_print_json(stdout, s);
		putchar('\n');
	} else {
		nic_print_state(s);
	}
	free(s);
	return rc ? 1 : 0;
}

/* --- set ----------------------------------------------------------------- */

/* Long options without a short letter, and the field each one sets. */
enum { O_ONOFF = 256, O_U32 = 320, O_RPS = 400, O_QUEUES };
static const struct { const char *opt; enum il_et_kind kind; int attr; } hand[] = {
	{ "adaptive-rx", IL_ET_COALESCE, ETHTOOL_A_COALESCE_USE_ADAPTIVE_RX },
	{ "adaptive-tx", IL_ET_COALESCE, ETHTOOL_A_COALESCE_USE_ADAPTIVE_TX },
	{ "cqe-mode-rx", IL_ET_COALESCE, ETHTOOL_A_COALESCE_USE_CQE_MODE_RX },
	{ "cqe-mode-tx", IL_ET_COALESCE, ETHTOOL_A_COALESCE_USE_CQE_MODE_TX },
	{ "rx-usecs", IL_ET_COALESCE, ETHTOOL_A_COALESCE_RX_USECS },
	{ "rx-frames", IL_ET_COALESCE, ETHTOOL_A_COALESCE_RX_MAX_FRAMES },
	{ "tx-usecs", IL_ET_COALESCE, ETHTOOL_A_COALESCE_TX_USECS },
	{ "tx-frames", IL_ET_COALESCE, ETHTOOL_A_COALESCE_TX_MAX_FRAMES },
	{ "combined", IL_ET_CHANNELS, ETHTOOL_A_CHANNELS_COMBINED_COUNT },
	{ "rx-queues", IL_ET_CHANNELS, ETHTOOL_A_CHANNELS_RX_COUNT },
	{ "tx-queues", IL_ET_CHANNELS, ETHTOOL_A_CHANNELS_TX_COUNT },
	{ "rx-ring", IL_ET_RINGS, ETHTOOL_A_RINGS_RX },
	{ "tx-ring", IL_ET_RINGS, ETHTOOL_A_RINGS_TX },
};
#define NHAND (int)(sizeof(hand) / sizeof(hand[0]))

struct want {
	const char *dev;
	struct il_nic_case c;
	int cpus[IL_NIC_QMAX];
	int hold;
};

/* One field given by hand: on|off for the bools, else a number. */
static int parse_hand(int i, const char *arg, struct want *w)
{
	static const char *const onoff[] = { "off", "on" };
	struct il_et *e = &w->c.set[hand[i].kind];
	char opt[40], err[200];
	long long v;

	snprintf(opt, sizeof(opt), "--%s", hand[i].opt);
	if (i < 4) {
		v = il_opt_choice(opt, arg, onoff, 2, err, sizeof(err));
		if (v < 0)
			goto bad;
	} else {
		/* Ring and channel counts of 0 mean nothing: start at 1. */
		long long lo = hand[i].kind == IL_ET_COALESCE ? 0 : 1;
		long long hi = hand[i].kind == IL_ET_CHANNELS ? 65535 : UINT32_MAX;

		if (il_opt_int(opt, arg, lo, hi, &v, err, sizeof(err)))
			goto bad;
	}
	e->have |= 1u << hand[i].attr;
	e->v[hand[i].attr] = (uint32_t)v;
	return 0;
bad:
	fprintf(stderr, "irqlab nic set: %s\n", err);
	return -1;
}

/* Options other than the fields by hand. */
static int parse_other(int c, const char *arg, struct want *w)
{
	static const char *const presets[] = { "adaptive", "off" };
	static const char *const off[] = { "off" };
	char err[200];
	long long v;
	int n;

	switch (c) {
	case 'd':
		w->dev = arg;
		return 0;
	case 'c':
		if ((n = il_opt_choice("--coalesce", arg, presets, 2, err,
				       sizeof(err))) < 0)
			break;
		w->c.coalesce = n == 0 ? IL_COALESCE_ADAPTIVE : IL_COALESCE_OFF;
		return 0;
	case 'q':
		if (il_opt_int("--queues", arg, 1, 65535, &v, err, sizeof(err)))
			break;
		w->c.queues = (uint32_t)v;
		return 0;
	case 'i':
		if ((n = il_opt_cpus("--irq-cpus", arg, w->cpus, IL_NIC_QMAX,
				     err, sizeof(err))) < 0)
			break;
		w->c.irq_cpus = w->cpus;
		w->c.n_irq_cpus = n;
		return 0;
	case O_RPS:
		if (il_opt_choice("--rps", arg, off, 1, err, sizeof(err)) < 0)
			break;
		w->c.rps_off = true;
		return 0;
	case 'H':
		w->hold = 1;
		return 0;
	}
	fprintf(stderr, "irqlab nic set: %s\n", err);
	return -1;
}

static int parse_set(int argc, char **argv, struct want *w)
{
	static struct option opts[8 + NHAND + 1] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "coalesce", required_argument, NULL, 'c' },
		{ "queues", required_argument, NULL, 'q' },
		{ "irq-cpus", required_argument, NULL, 'i' },
		{ "rps", required_argument, NULL, O_RPS },
		{ "hold", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
	};
	int c;

	for (int i = 0; i < NHAND; i++)
		opts[7 + i] = (struct option){ hand[i].opt, required_argument,
					       NULL, O_ONOFF + i };
	while ((c = getopt_long(argc, argv, "d:c:q:i:Hh", opts, NULL)) != -1) {
		if (c == 'h')
			return usage(stdout), 1;
		if (c == '?')
			return usage(stderr), -1;
		if (c >= O_ONOFF && c < O_ONOFF + NHAND ?
		    parse_hand(c - O_ONOFF, optarg, w) : parse_other(c, optarg, w))
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "irqlab nic set: unexpected '%s'\n", argv[optind]);
		return -1;
	}
	if (!w->dev) {
		fprintf(stderr, "irqlab nic set: --dev DEV is required\n");
		return -1;
	}
	if (!w->c.queues && !w->c.coalesce && !w->c.n_irq_cpus &&
	    !w->c.rps_off && !w->c.set[0].have && !w->c.set[1].have &&
	    !w->c.set[2].have) {
		fprintf(stderr, "irqlab nic set: nothing to set (--coalesce, "
			"--queues, --irq-cpus, --rps, or a field such as "
			"--rx-usecs; see --help)\n");
		return -1;
	}
	return 0;
}

/* What the records hold, against what the device has now. */
static void print_changes(const char *verb)
{
	struct il_nic_rec r;
	char err[256], now[256];

	for (int i = 0; il_nic_saved(i, &r) == 0; i++) {
		struct il_et cur;

		if (r.type == IL_NIC_FILE) {
			FILE *f = fopen(r.path, "r");

			if (!f || !fgets(now, sizeof(now), f))
				snprintf(now, sizeof(now), "?\n");
			if (f)
				fclose(f);
			now[strcspn(now, "\n")] = '\0';
			if (strcmp(now, r.content))
				printf("%s %s: %s (was %s)\n", verb, r.path,
				       now, r.content);
			continue;
		}
		if (il_nic_get(r.dev, (enum il_et_kind)r.type, &cur, err,
			       sizeof(err))) {
			printf("%s %s: %s\n", verb, r.dev, err);
			continue;
		}
		printf("%s %s %s:", verb, r.dev, il_et_kind_name(r.type));
		for (int a = 0; a < IL_ET_ATTRS; a++) {
			const struct il_nic_field *f =
				il_nic_field_of((enum il_et_kind)r.type, a);

			if (f && (r.old.have & (1u << a)))
				printf(" %s %" PRIu32 " (was %" PRIu32 ")",
				       f->name, cur.v[a], r.old.v[a]);
		}
		putchar('\n');
	}
}

/* Waits for SIGINT/SIGTERM (blocked by the caller), then restores and
 * prints what the device reports afterwards. */
static int hold_and_restore(const char *dev)
{
	struct il_nic_state *s = malloc(sizeof(*s));
	char err[256];
	int sig = 0, rc;

	sig = cli_hold_wait();
	rc = il_nic_restore_all();
	if (rc < 0)
		fprintf(stderr, "irqlab nic set: restore: %s\n", strerror(-rc));
	if (s && il_nic_read(dev, s, err, sizeof(err)) == 0) {
		printf("restored: ");
		il_nic_print_json(stdout, s);
		putchar('\n');
	}
	free(s);
	printf("restored after %s\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
	return rc < 0 ? 1 : 0;
}

static int cmd_set(int argc, char **argv)
{
	struct want *w = calloc(1, sizeof(*w));
	char err[256], undo[400];
	int rc;

	if (!w)
		return 1;
	rc = parse_set(argc, argv, w);
	if (rc) {
		free(w);
		return rc > 0 ? 0 : 2;
	}
	cli_hold_begin(w->hold);
	il_nic_restore_on_exit();
	if (il_nic_apply(w->dev, &w->c, err, sizeof(err))) {
		fprintf(stderr, "irqlab nic set: %s\n", err);
		if (il_nic_saved_count())
			printf("rolling back what was already changed\n");
		il_nic_restore_all();
		free(w);
		return 1;
	}
	print_changes("set");
	if (w->c.n_irq_cpus > 0 && (rc = il_nic_irqbalance_pid()) > 0)
		fprintf(stderr, "irqlab nic set: warning: irqbalance (pid %d) is "
			"running and will move these IRQs again; stop it for the "
			"experiment (systemctl stop irqbalance)\n", rc);
	if (w->hold) {
		rc = hold_and_restore(w->dev);
		free(w);
		return rc;
	}
	printf("permanent: these settings stay after irqlab exits "
	       "(use --hold to restore them on Ctrl-C); to undo:\n");
	for (int i = il_nic_saved_count() - 1; i >= 0; i--)
		if (il_nic_saved_undo(i, undo, sizeof(undo)) == 0)
			printf("  %s\n", undo);
	il_nic_keep_all();
	free(w);
	return 0;
}

int cmd_nic(int argc, char **argv)
{
	static const struct cli_sub subs[] = {
		{ "show", cmd_show }, { "set", cmd_set }, { NULL, NULL },
	};

	return cli_dispatch("irqlab nic", argc, argv, subs, usage);
}
