/* irqlab-sim's options (opts.h). Shortcuts (--cores, --time, ...) become
 * "section.key=value" overrides so that they apply, in order, after the
 * config file, exactly like --set. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "irqlab/mode.h"
#include "irqlab/opt.h"
#include "opts.h"

void sim_usage(FILE *f)
{
	fprintf(f,
"usage: irqlab-sim [options]\n"
"Simulates interrupt handling (NIC coalescing, NAPI, softirq, epoll busy\n"
"polling, IRQ suspend) on a multi-core server; prints QPS, latency, CPU split,\n"
"interrupt/softirq/context-switch rates and modelled IPC (docs/sim.md).\n"
"  -c, --config FILE     experiment file (sim/examples/*.conf)\n"
"  -m, --mode SPEC       mode, e.g. suspend,irq_suspend_timeout=20ms\n"
"                        (" IL_MODE_NAMES "); repeat to compare modes\n"
"  -q, --qps N[,N...]    open loop at N requests/s (default: closed loop);\n"
"                        a list runs every rate (x every --mode)\n"
"      --conns N         client connections\n"
"      --cores N         server cores, one queue and app thread each\n"
"  -t, --time T          simulated measuring time (s, or ms/us suffix)\n"
"      --warmup T        simulated warm-up before measuring\n"
"  -s, --seed N          random seed (runs are deterministic per seed)\n"
"      --set KEY=VALUE   any config key, e.g. nic.coalesce=static (repeatable)\n"
"      --json            JSON output (docs/result-schema.md)\n"
"      --csv             CSV output\n"
"  -o, --out DIR         also write DIR/results.json, results.csv, report.md\n"
"                        and, for open-loop rates, the plots of `irqlab bench`\n"
"                        (latency-p99.png, latency-p95.png, cpu.png; gnuplot)\n"
"      --print-config    print the full experiment as a config file and exit\n"
"      --help-config     list every config key and exit\n"
"      --calibrate       run the published setups, print published vs\n"
"                        simulated with %% error (exit 1 if outside tolerance)\n"
"      --calib-time T    simulated time per calibration run (default 0.05 s)\n"
"      --tolerance PCT   calibration tolerance (default 10)\n"
"      --calib-config NAME  print calibration setup NAME as a config file\n"
"                        (names: --calibrate output; sim/examples/NAME.conf)\n"
"      --bench           measure simulator speed (events per second)\n"
"  -h, --help            this help\n");
}

enum { O_SET = 256, O_JSON, O_CSV, O_PRINT, O_HELPCFG, O_CAL, O_CALT, O_TOL,
       O_BENCH, O_CONNS, O_CORES, O_WARM, O_CALCFG };

static const struct option long_opts[] = {
	{ "config", required_argument, 0, 'c' },
	{ "mode", required_argument, 0, 'm' },
	{ "qps", required_argument, 0, 'q' },
	{ "conns", required_argument, 0, O_CONNS },
	{ "cores", required_argument, 0, O_CORES },
	{ "time", required_argument, 0, 't' },
	{ "warmup", required_argument, 0, O_WARM },
	{ "seed", required_argument, 0, 's' },
	{ "set", required_argument, 0, O_SET },
	{ "json", no_argument, 0, O_JSON },
	{ "csv", no_argument, 0, O_CSV },
	{ "out", required_argument, 0, 'o' },
	{ "print-config", no_argument, 0, O_PRINT },
	{ "help-config", no_argument, 0, O_HELPCFG },
	{ "calibrate", no_argument, 0, O_CAL },
	{ "calib-time", required_argument, 0, O_CALT },
	{ "tolerance", required_argument, 0, O_TOL },
	{ "bench", no_argument, 0, O_BENCH },
	{ "calib-config", required_argument, 0, O_CALCFG },
	{ "help", no_argument, 0, 'h' },
	{ 0, 0, 0, 0 },
};

static int add_set(struct sim_opts *o, const char *key, const char *val,
		   char *err, size_t errlen)
{
	if (o->nsets == SIM_MAX_SETS ||
	    strlen(key) + strlen(val) + 2 > sizeof(o->sets[0])) {
		snprintf(err, errlen, "--set: at most %d overrides of under %zu characters",
			 SIM_MAX_SETS, sizeof(o->sets[0]));
		return -1;
	}
	snprintf(o->sets[o->nsets++], sizeof(o->sets[0]), "%s%s%s", key,
		 *val ? "=" : "", val);
	return 0;
}

static int add_mode(struct sim_opts *o, const char *spec, char *err, size_t errlen)
{
	if (o->nmodes == SIM_MAX_MODES || strlen(spec) >= sizeof(o->modes[0])) {
		snprintf(err, errlen, "--mode: at most %d modes of under %zu characters",
			 SIM_MAX_MODES, sizeof(o->modes[0]));
		return -1;
	}
	snprintf(o->modes[o->nmodes++], sizeof(o->modes[0]), "%s", spec);
	return 0;
}

static int add_rates(struct sim_opts *o, const char *list, char *err, size_t errlen)
{
	int n = il_opt_nums("--qps", list, 1, 1e9, 0, o->qps + o->nqps,
			    SIM_MAX_RATES - o->nqps, err, errlen);
	if (n < 0)
		return -1;
	o->nqps += n;
	return 0;
}

/* The shortcuts: an option that is a config key. */
static const char *shortcut_key(int c)
{
	switch (c) {
	case O_CONNS: return "workload.conns";
	case 't': return "run.time";
	case O_WARM: return "run.warmup";
	case 's': return "run.seed";
	default: return NULL;
	}
}

/* One option; 0 or -1 with err. */
static int apply(struct sim_opts *o, int c, const char *arg, char *err, size_t errlen)
{
	const char *key = shortcut_key(c);

	if (key)
		return add_set(o, key, arg, err, errlen);
	switch (c) {
	case 'c': o->config = arg; return 0;
	case 'm': return add_mode(o, arg, err, errlen);
	case 'q': return add_rates(o, arg, err, errlen);
	case O_CORES:	/* one queue and one app thread per core */
		return add_set(o, "nic.queues", arg, err, errlen) ||
		       add_set(o, "machine.cores", arg, err, errlen) ? -1 : 0;
	case O_SET:
		if (!strchr(arg, '=')) {
			snprintf(err, errlen, "--set: '%s' is not KEY=VALUE", arg);
			return -1;
		}
		return add_set(o, arg, "", err, errlen);
	case O_JSON: o->json = 1; return 0;
	case O_CSV: o->csv = 1; return 0;
	case 'o':
		if (!*arg || strlen(arg) > 400) {
			snprintf(err, errlen, "--out: a directory name of 1..400 characters");
			return -1;
		}
		o->out = arg;
		return 0;
	case O_PRINT: o->print = 1; return 0;
	case O_HELPCFG: o->action = ACT_HELP_CONFIG; return 0;
	case O_CAL: o->action = ACT_CALIBRATE; return 0;
	case O_CALT:
		return il_opt_num("--calib-time", arg, 0.001, 100, 0, &o->calib_time,
				  err, errlen);
	case O_TOL:
		return il_opt_num("--tolerance", arg, 0.001, 100, 0, &o->tol, err, errlen);
	case O_BENCH: o->action = ACT_BENCH; return 0;
	case O_CALCFG: o->action = ACT_CALIB_CONFIG; o->calib_config = arg; return 0;
	case 'h': o->action = ACT_HELP; return 0;
	}
	snprintf(err, errlen, "unknown option (see --help)");
	return -1;
}

int sim_opts_parse(int argc, char **argv, struct sim_opts *o, char *err,
		   size_t errlen)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->calib_time = 0.05;
	o->tol = 10;
	for (int i = 0; i < argc; i++) {
		size_t l = strlen(o->cmdline);
		snprintf(o->cmdline + l, sizeof(o->cmdline) - l, "%s%s", i ? " " : "", argv[i]);
	}
	optind = 0;	/* restart getopt (glibc), for repeated calls in tests */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:m:q:t:s:o:h", long_opts, NULL)) != -1) {
		if (c == '?' || c == ':') {
			snprintf(err, errlen, "%s: unknown option or missing value (see --help)",
				 argv[optind - 1]);
			return -1;
		}
		if (apply(o, c, optarg, err, errlen))
			return -1;
		if (o->action == ACT_HELP || o->action == ACT_HELP_CONFIG)
			return 0;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
		return -1;
	}
	/* one --mode applies to every run (and every calibration setup) */
	if (o->nmodes == 1 || (o->nmodes && o->action == ACT_CALIBRATE))
		for (int i = 0; i < o->nmodes; i++)
			if (add_set(o, "mode.spec", o->modes[i], err, errlen))
				return -1;
	return 0;
}

int sim_opts_experiment(const struct sim_opts *o, struct experiment *e,
			char *err, size_t errlen)
{
	experiment_defaults(e);
	if (o->config && experiment_load(e, o->config, err, errlen))
		return -1;
	for (int i = 0; i < o->nsets; i++) {
		char kv[320];
		snprintf(kv, sizeof(kv), "%s", o->sets[i]);
		char *eq = strchr(kv, '=');
		*eq = '\0';
		if (experiment_set(e, kv, eq + 1, err, errlen))
			return -1;
	}
	return 0;
}
