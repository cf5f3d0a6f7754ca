/* `irqlab tune`: options, the backend, the search, the re-measurement and
 * the outputs (docs/tune.md). */
#define _GNU_SOURCE
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "irqlab/opt.h"
#include "irqlab/report.h"
#include "irqlab/signals.h"
#include "tune.h"

#define MAX_LIST 32

struct opts {
	struct tune_objective obj;
	const char *sim, *candidates, *out, *dev, *server;
	const char *sets[MAX_LIST], *space[MAX_LIST];
	int nsets, nspace;
	int measure, measure_top, dry_run, threads, leaders, eta, srv_cpu, cli_cpu, conns;
	int no_remeasure, have_qps, have_slo, exhaustive;
	double budget_s, conf, time_s, short_s, warmup_s, noise;
	uint64_t seed;
	char cmdline[1024];
};

static volatile int stop_flag;

static void on_stop(int sig, void *arg)
{
	(void)sig;
	(void)arg;
	stop_flag = 1;
	bench_stop = 1;		/* the bench world's waits notice it */
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: irqlab tune (--qps N | --max-qps) --slo PCT<=TIME [options]\n"
"Finds the interrupt-handling settings (mode preset and knobs, NIC coalescing)\n"
"with the least server CPU that keep a latency target at a rate, or the highest\n"
"rate that keeps it; measured on this machine (root) or simulated (docs/tune.md).\n"
"objective:\n"
"      --qps N            the rate to sustain (open loop, req/s; k/M suffixes)\n"
"      --max-qps          instead: the highest rate that keeps the target\n"
"      --slo PCT<=TIME    PCT: p50, p95, p99, p999; e.g. p99<=200us\n"
"      --cpu<=N           also: server CPU busy at most N%% (1..100)\n"
"backend (default: measured on the bench's veth pair, needs root):\n"
"      --sim CONFIG       simulate with an irqlab-sim config (sim/examples/*.conf)\n"
"      --set KEY=VALUE    with --sim: a config override (repeatable)\n"
"      --measure          with --sim: rank in the model, then measure the best few\n"
"      --measure-top N    how many to measure (1..16, default 3)\n"
"      --server NAME      measured: kv (irqlab-kv, default) or memcached (preload shim)\n"
"      --srv-cpu N, --cli-cpu N   measured: server and generator CPUs (default 1, 0)\n"
"      --connections N    measured: generator connections (1..1024; default 16 per\n"
"                         20k req/s of --qps, at least 16)\n"
"search:\n"
"      --space KNOB=LIST  narrow the default space (repeatable): mode=suspend,defer;\n"
"                         gro_flush_timeout=20us,50us or =20us..100us; coalesce=\n"
"                         as-is,adaptive,off,static:8us/128; any mode.h knob\n"
"      --candidates FILE  only these: one mode spec per line [nic=adaptive|off|...]\n"
"      --budget TIME      wall time for the search (s/m/h; default sim 5m, measured 10m)\n"
"      --confidence PCT   of every interval and decision (50..99.9, default 95)\n"
"      --time S           length of a full run (sim: simulated s, default the config's\n"
"                         run.time; measured, also with --measure: 2 s); first-round\n"
"                         runs are a quarter (measured: half) of it\n"
"      --warmup S         measured: warm-up per run (0..60, default 0.5)\n"
"      --leaders N        candidates in the repeat phase (2..16, default 4)\n"
"      --eta N            keep 1/N per halving round (2..10, default 3)\n"
"      --threads N        sim: simulations at once (1..16, default: online CPUs)\n"
"      --seed N           first seed of the simulated runs\n"
"      --noise PCT        sim, for tests: add PCT%% relative noise to CPU and latency\n"
"      --no-remeasure     measured: skip re-measuring the recommendation\n"
"      --exhaustive       no halving: every candidate 3 full-length runs, then the\n"
"                         same decision (the baseline the search saves time against)\n"
"output:\n"
"  -o, --out DIR          tune.json, candidates.tsv, report.md, tune.png (default\n"
"                         irqlab-tune/<timestamp>)\n"
"      --dev DEV          the device named in the apply commands (default DEV)\n"
"      --dry-run          print the plan and its estimated duration, run nothing\n"
"  -h, --help             this text\n"
"exit: 0 a recommendation (or a tie), 1 infeasible or undecided or an error,\n"
"2 bad options, 130 interrupted (what was run is still reported)\n");
}

enum { O_QPS = 256, O_MAXQPS, O_SLO, O_CPU, O_SIM, O_SET, O_MEASURE, O_TOP, O_SERVER,
       O_SRV, O_CLI, O_CONNS, O_SPACE, O_CANDS, O_BUDGET, O_CONF, O_TIME, O_WARM,
       O_LEAD, O_ETA, O_THREADS, O_SEED, O_NOISE, O_NOREM, O_DEV, O_DRY, O_EXH };

static const struct option longopts[] = {
	{ "qps", required_argument, 0, O_QPS }, { "max-qps", no_argument, 0, O_MAXQPS },
	{ "slo", required_argument, 0, O_SLO }, { "cpu", required_argument, 0, O_CPU },
	{ "sim", required_argument, 0, O_SIM }, { "set", required_argument, 0, O_SET },
	{ "measure", no_argument, 0, O_MEASURE }, { "measure-top", required_argument, 0, O_TOP },
	{ "server", required_argument, 0, O_SERVER }, { "srv-cpu", required_argument, 0, O_SRV },
	{ "cli-cpu", required_argument, 0, O_CLI }, { "connections", required_argument, 0, O_CONNS },
	{ "space", required_argument, 0, O_SPACE }, { "candidates", required_argument, 0, O_CANDS },
	{ "budget", required_argument, 0, O_BUDGET }, { "confidence", required_argument, 0, O_CONF },
	{ "time", required_argument, 0, O_TIME }, { "warmup", required_argument, 0, O_WARM },
	{ "leaders", required_argument, 0, O_LEAD }, { "eta", required_argument, 0, O_ETA },
	{ "threads", required_argument, 0, O_THREADS }, { "seed", required_argument, 0, O_SEED },
	{ "noise", required_argument, 0, O_NOISE }, { "no-remeasure", no_argument, 0, O_NOREM },
	{ "out", required_argument, 0, 'o' }, { "dev", required_argument, 0, O_DEV },
	{ "dry-run", no_argument, 0, O_DRY }, { "help", no_argument, 0, 'h' },
	{ "exhaustive", no_argument, 0, O_EXH },
	{ 0, 0, 0, 0 },
};

static int inum(const char *opt, const char *s, long long lo, long long hi, int *out,
		char *err, size_t len)
{
	long long v;
	if (il_opt_int(opt, s, lo, hi, &v, err, len))
		return -1;
	*out = (int)v;
	return 0;
}

/* --set and --space, each up to MAX_LIST times. */
static int add_list(struct opts *o, int set, const char *a, char *err, size_t len)
{
	const char **l = set ? o->sets : o->space;
	int *n = set ? &o->nsets : &o->nspace;

	if (*n == MAX_LIST) {
		snprintf(err, len, "%s: at most %d", set ? "--set" : "--space", MAX_LIST);
		return -1;
	}
	l[(*n)++] = a;
	return 0;
}

/* --budget: minutes and hours too (a budget is "10m", not "600s"); a bare
 * number counts seconds; 1 s..24 h. */
static int parse_budget(struct opts *o, const char *a, char *err, size_t len)
{
	size_t l = strlen(a);
	double mult = 1, v;
	uint64_t ns;
	char num[32];

	if (l && l < sizeof(num) && (a[l - 1] == 'h' || (a[l - 1] == 'm' && (l < 2 ||
						       a[l - 2] != 'm')))) {
		mult = a[l - 1] == 'h' ? 3600 : 60;
		snprintf(num, sizeof(num), "%.*s", (int)l - 1, a);
		if (il_opt_num("--budget", num, 0.001, 1440, 0, &v, err, len)) {
			snprintf(err, len, "--budget: '%s' is not a time in 1s..24h "
				 "(s, m, h; a bare number counts seconds)", a);
			return -1;
		}
		o->budget_s = v * mult;
	} else if (il_opt_time("--budget", a, 1000000000ULL, 1000000000ULL,
			       86400000000000ULL, &ns, err, len)) {
		return -1;
	} else {
		o->budget_s = (double)ns / 1e9;
	}
	if (o->budget_s < 1 || o->budget_s > 86400) {
		snprintf(err, len, "--budget: '%s' is not a time in 1s..24h", a);
		return -1;
	}
	return 0;
}

static int one_opt(struct opts *o, int c, const char *a, char *err, size_t len)
{
	long long ll;

	switch (c) {
	case O_QPS: o->have_qps = 1; return il_opt_num("--qps", a, 1, 1e9, 0, &o->obj.qps, err, len);
	case O_MAXQPS: o->obj.goal = GOAL_MAX_QPS; return 0;
	case O_SLO: o->have_slo = 1; return tune_parse_slo(a, &o->obj, err, len);
	case O_CPU: return tune_parse_cpu(a, &o->obj, err, len);
	case O_SIM: o->sim = a; return 0;
	case O_SET:
	case O_SPACE: return add_list(o, c == O_SET, a, err, len);
	case O_MEASURE: o->measure = 1; return 0;
	case O_TOP: return inum("--measure-top", a, 1, 16, &o->measure_top, err, len);
	case O_SERVER:
		if (strcmp(a, "kv") && strcmp(a, "memcached")) {
			snprintf(err, len, "--server: '%s' is not kv or memcached", a);
			return -1;
		}
		o->server = a;
		return 0;
	case O_SRV: return inum("--srv-cpu", a, 0, 4095, &o->srv_cpu, err, len);
	case O_CLI: return inum("--cli-cpu", a, 0, 4095, &o->cli_cpu, err, len);
	case O_CONNS: return inum("--connections", a, 1, 1024, &o->conns, err, len);
	case O_CANDS: o->candidates = a; return 0;
	case O_BUDGET: return parse_budget(o, a, err, len);
	case O_CONF:
		if (il_opt_num("--confidence", a, 50, 99.9, 0, &o->conf, err, len))
			return -1;
		o->conf /= 100;
		return 0;
	case O_TIME: return il_opt_num("--time", a, 0.001, 600, 0, &o->time_s, err, len);
	case O_WARM: return il_opt_num("--warmup", a, 0, 60, 0, &o->warmup_s, err, len);
	case O_LEAD: return inum("--leaders", a, 2, 16, &o->leaders, err, len);
	case O_ETA: return inum("--eta", a, 2, 10, &o->eta, err, len);
	case O_THREADS: return inum("--threads", a, 1, 16, &o->threads, err, len);
	case O_SEED:
		if (il_opt_int("--seed", a, 0, (long long)1 << 62, &ll, err, len))
			return -1;
		o->seed = (uint64_t)ll;
		return 0;
	case O_NOISE: return il_opt_num("--noise", a, 0, 100, 0, &o->noise, err, len);
	case O_NOREM: o->no_remeasure = 1; return 0;
	case 'o':
		if (!*a || strlen(a) > 400) {
			snprintf(err, len, "--out: a directory name of 1..400 characters");
			return -1;
		}
		o->out = a;
		return 0;
	case O_DEV: o->dev = a; return 0;
	case O_DRY: o->dry_run = 1; return 0;
	case O_EXH: o->exhaustive = 1; return 0;
	}
	snprintf(err, len, "unknown option (see --help)");
	return -1;
}

/* "--cpu<=60" is not getopt's syntax: it becomes "--cpu=60". */
static char *fix_cpu_arg(const char *a)
{
	if (strncmp(a, "--cpu<", 6))
		return NULL;
	const char *v = a + 6 + (a[6] == '=');
	char *out = malloc(strlen(v) + 8);
	if (out)
		sprintf(out, "--cpu=%s", v);
	return out;
}

/* Returns 0, 1 for --help, -1 with err. */
static int parse(struct opts *o, int argc, char **argv, char *err, size_t len)
{
	char **av = calloc((size_t)argc + 1, sizeof(*av)), *fixed[8];
	int nfixed = 0, c, rc = 0;

	memset(o, 0, sizeof(*o));
	o->obj.goal = GOAL_MIN_CPU;
	o->obj.cpu_cap = NAN;
	o->obj.rate_ok = 0.95;
	o->obj.pct = PCT_P99;
	o->conf = 0.95;
	o->measure_top = 3;
	o->srv_cpu = 1;
	o->warmup_s = 0.5;
	o->seed = 1;
	for (int i = 0; i < argc; i++) {
		size_t l = strlen(o->cmdline);
		snprintf(o->cmdline + l, sizeof(o->cmdline) - l, "%s%s", i ? " " : "irqlab ", argv[i]);
		char *f = nfixed < 8 ? fix_cpu_arg(argv[i]) : NULL;
		av[i] = f ? (fixed[nfixed++] = f) : argv[i];
	}
	optind = 0;
	opterr = 0;
	while (!rc && (c = getopt_long(argc, av, "o:h", longopts, NULL)) != -1) {
		if (c == 'h')
			rc = 1;
		else if (c == '?' || c == ':') {
			snprintf(err, len, "%s: unknown option or missing value (see --help)",
				 av[optind - 1]);
			rc = -1;
		} else if (one_opt(o, c, optarg, err, len))
			rc = -1;
	}
	if (!rc && optind < argc) {
		snprintf(err, len, "unexpected argument '%s' (see --help)", av[optind]);
		rc = -1;
	}
	for (int i = 0; i < nfixed; i++)
		free(fixed[i]);
	free(av);
	if (rc)
		return rc;
	if (o->have_qps == (o->obj.goal == GOAL_MAX_QPS)) {
		snprintf(err, len, "--qps N or --max-qps: one of them (see --help)");
		return -1;
	}
	if (!o->have_slo) {
		snprintf(err, len, "--slo: a latency target is needed, e.g. --slo p99<=200us");
		return -1;
	}
	if (o->measure && !o->sim) {
		snprintf(err, len, "--measure: only with --sim CONFIG (without --sim every run is "
			 "measured)");
		return -1;
	}
	if ((o->nsets || o->noise > 0) && !o->sim) {
		snprintf(err, len, "%s: only with --sim CONFIG", o->nsets ? "--set" : "--noise");
		return -1;
	}
	if (o->exhaustive && (o->obj.goal == GOAL_MAX_QPS || o->measure)) {
		snprintf(err, len, "--exhaustive: only with --qps (least CPU), without --measure");
		return -1;
	}
	if (o->candidates && o->nspace) {
		snprintf(err, len, "--candidates and --space: one or the other");
		return -1;
	}
	return 0;
}

/* ---- spaces ------------------------------------------------------------- */

/* A measured candidate costs seconds, not milliseconds: without --space the
 * measured search starts from the five presets and the knob values the
 * published tables single out, not the whole grid. */
static const char *const measured_default[] = {
	"base", "defer", "defer,gro_flush_timeout=50us", "defer,gro_flush_timeout=200us",
	"napibusy", "napibusy,busy_poll_usecs=32", "busywait",
	"suspend", "suspend,gro_flush_timeout=50us", "suspend,irq_suspend_timeout=5ms",
	"suspend,gro_flush_timeout=200us,irq_suspend_timeout=5ms",
};

static int build_space(const struct opts *o, struct tune_space *sp, bool measured,
		       char *err, size_t len)
{
	memset(sp, 0, sizeof(*sp));
	if (measured)
		snprintf(sp->note, sizeof(sp->note), "the veth pair has no interrupt coalescing: "
			 "the NIC dimension is not searched when measuring here");
	if (o->candidates)
		return tune_space_file(sp, o->candidates, err, len);
	if (measured && !o->nspace) {
		for (size_t i = 0; i < sizeof(measured_default) / sizeof(*measured_default); i++)
			if (tune_space_add(sp, measured_default[i], NULL, err, len) < 0)
				return -1;
		return 0;
	}
	return tune_space_default(sp, o->space, o->nspace, !measured, err, len);
}

/* ---- dry run ------------------------------------------------------------ */

static double dry_meas_estimate(void *ctx, const struct tune_job *j)
{
	const struct opts *o = ctx;
	return o->warmup_s + j->run_s + 3.0;
}

/* ---- the measured re-check ---------------------------------------------- */

static char remeasure_text[1024];

static void remeasure(struct tune_run *r, const struct tune_backend *be)
{
	struct tune_space one = { 0 };
	struct tune_job jobs[3];
	char err[200];
	const struct tune_cand *c = &r->space->c[r->best];
	const char *nic = c->coal == TC_AS_IS ? NULL : c->coal == TC_ADAPTIVE ? "adaptive" : "off";
	double lat[3], cpu[3], q[3], target = r->obj->goal == GOAL_MIN_CPU ? r->obj->qps : c->rate;
	int n = 0, missed = 0;

	if (tune_space_add(&one, c->spec, nic, err, sizeof(err)) <= 0)
		return;
	memset(jobs, 0, sizeof(jobs));
	for (int i = 0; i < 3; i++) {
		jobs[i].cand = 0;
		jobs[i].qps = target;
		jobs[i].run_s = be->full_s;
		jobs[i].seed = 1000 + (uint64_t)i;
	}
	if (be->run(be->ctx, &one, jobs, 3, err, sizeof(err)) == 0)
		for (int i = 0; i < 3; i++) {
			if (jobs[i].rc)
				continue;
			lat[n] = tune_obs_lat(&jobs[i], r->obj->pct);
			cpu[n] = tune_obs_cpu(&jobs[i]);
			q[n] = jobs[i].r.qps;
			missed += !(q[n] >= r->obj->rate_ok * target);
			n++;
		}
	tune_space_free(&one);
	if (!n) {
		snprintf(remeasure_text, sizeof(remeasure_text), "re-measurement: failed (%s)\n", err);
		return;
	}
	struct tune_ci l = tune_ci_log(lat, n, r->conf), cc = tune_ci(cpu, n, r->conf),
		       qq = tune_ci(q, n, r->conf);
	bool meets = l.mean <= r->obj->slo_us && !missed;
	snprintf(remeasure_text, sizeof(remeasure_text),
		 "re-measurement of %s (%d fresh runs of %g s, server restarted): %s %.0fus "
		 "[%.0f, %.0f], CPU %.1f%% [%.1f, %.1f], %.0f/s achieved of %.0f: %s\n",
		 c->label, n, be->full_s, tune_pct_names[r->obj->pct], l.mean, l.lo, l.hi, cc.mean,
		 cc.lo, cc.hi, qq.mean, target,
		 meets ? (l.hi <= r->obj->slo_us ? "meets the target" :
			  "meets the target on average (its interval reaches above it)")
		       : "DOES NOT meet the target");
}

/* ---- the run ------------------------------------------------------------ */

static int search_and_report(struct opts *o, struct tune_space *sp, struct tune_backend *be,
			     const char *setup, const char *out_dir, struct tune_run *r,
			     bool write)
{
	char err[512];

	memset(r, 0, sizeof(*r));
	r->obj = &o->obj;
	r->space = sp;
	r->be = be;
	r->conf = o->conf;
	r->budget_s = o->budget_s;
	r->eta = o->eta ? o->eta : 3;
	r->leaders = o->leaders ? o->leaders : 4;
	r->seed = o->seed;
	r->exhaustive = o->exhaustive;
	r->progress = isatty(2);
	r->stop = &stop_flag;
	fprintf(stderr, "irqlab tune: %d candidates, %s; plan:\n", sp->n, setup);
	tune_plan(r, stderr);
	if (tune_search(r, err, sizeof(err))) {
		fprintf(stderr, "irqlab tune: %s\n", err);
		return -1;
	}
	if (!write)
		return 0;
	struct tune_out out = { out_dir, o->cmdline, setup, o->dev, NULL };
	if (!strcmp(be->source, "measured") && r->best >= 0 && !o->no_remeasure &&
	    !r->interrupted && !stop_flag) {
		remeasure(r, be);
		out.remeasure = remeasure_text;
	}
	tune_print(stdout, r, &out);
	if (tune_write_dir(r, &out, err, sizeof(err)))
		fprintf(stderr, "irqlab tune: %s\n", err);
	else
		printf("wrote %s/{tune.json,candidates.tsv,report.md,tune.png}\n", out_dir);
	return 0;
}

/* --measure: the sim's best few, by its ranking, as a new space. */
/* Whether candidate c's mode spec is among the first n of order: the
 * measured veth pair has no interrupt coalescing, so candidates that differ
 * only in the NIC's are one candidate there. */
static bool spec_taken(const struct tune_run *r, const int *order, int n, int c)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(r->space->c[order[i]].spec, r->space->c[c].spec))
			return true;
	return false;
}

static int top_of(const struct tune_run *r, int k, struct tune_space *out, char *err, size_t len)
{
	int order[64], n = 0;

	memset(out, 0, sizeof(*out));
	if (r->best >= 0)
		order[n++] = r->best;
	for (int i = 0; i < r->ntied && n < k; i++)
		if (!spec_taken(r, order, n, r->tied[i]))
			order[n++] = r->tied[i];
	/* then by mean CPU (or rate) at full length among the target keepers */
	while (n < k) {
		int pick = -1;
		double ps = INFINITY;
		for (int c = 0; c < r->space->n; c++) {
			if (spec_taken(r, order, n, c))
				continue;
			struct tune_summary s = tune_summarize(r, c, 0);
			if (!s.n || s.lat.mean > r->obj->slo_us)
				continue;
			double sc = r->obj->goal == GOAL_MIN_CPU ? s.cpu.mean - 1000 * s.run_s
								 : -r->space->c[c].rate;
			if (sc < ps) {
				ps = sc;
				pick = c;
			}
		}
		if (pick < 0)
			break;
		order[n++] = pick;
	}
	for (int i = 0; i < n; i++)
		if (tune_space_add(out, r->space->c[order[i]].spec, NULL, err, len) < 0)
			return -1;
	if (!out->n) {
		snprintf(err, len, "--measure: the simulation found no candidate to measure");
		return -1;
	}
	return 0;
}

static void default_out(char *buf, size_t len)
{
	time_t now = time(NULL);
	char ts[32];
	strftime(ts, sizeof(ts), "%Y%m%d-%H%M%S", localtime(&now));
	snprintf(buf, len, "irqlab-tune/%s", ts);
}

/* What the options left open: the budget (longer for measured runs) and
 * the simulator's threads (one per CPU, at most 16). */
static void fill_defaults(struct opts *o, bool measured_only)
{
	if (!o->budget_s)
		o->budget_s = measured_only ? 600 : 300;
	if (!o->threads) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		o->threads = n > 0 ? (n > 16 ? 16 : (int)n) : 1;
	}
}

/* --dry-run: the plan, its estimated duration and the first candidates. */
static int dry_run(struct opts *o, struct tune_space *sp, struct tune_backend *be,
		   bool measured_only)
{
	struct tune_run dr = { .obj = &o->obj, .space = sp, .be = be, .conf = o->conf,
			       .budget_s = o->budget_s, .eta = o->eta ? o->eta : 3,
			       .leaders = o->leaders ? o->leaders : 4,
			       .exhaustive = o->exhaustive };
	char obj[200];

	tune_objective_str(&o->obj, obj, sizeof(obj));
	printf("irqlab tune (dry run): %s\n  %d candidates, %s backend%s; plan:\n", obj, sp->n,
	       be->source, o->measure ? ", then the best measured" : "");
	double t = tune_plan(&dr, stdout);
	if (o->measure)
		printf("  then %d candidates measured on the veth pair: about %.0f s more\n",
		       o->measure_top, o->measure_top * 4 * (o->warmup_s + 2 + 3));
	printf("  estimated duration: %.0f s; stops earlier when the leaders separate\n", t);
	if (sp->note[0] && measured_only)
		printf("  note: %s\n", sp->note);
	for (int i = 0; i < sp->n && i < 20; i++)
		printf("  %s %s%s%s\n", sp->c[i].label, sp->c[i].spec,
		       sp->c[i].coal == TC_AS_IS ? "" : " nic=", sp->c[i].coal == TC_AS_IS ?
		       "" : sp->c[i].nic);
	if (sp->n > 20)
		printf("  ... %d more\n", sp->n - 20);
	return 0;
}

/* The simulator backend for --sim; NULL (after saying why) on error. */
static struct tune_sim *sim_backend(struct opts *o, struct tune_backend *be)
{
	char err[512];
	struct tune_sim *ts = tune_sim_new(o->sim, o->sets, o->nsets, o->threads, o->noise,
					   err, sizeof(err));

	if (!ts) {
		fprintf(stderr, "irqlab tune: --sim: %s\n", err);
		return NULL;
	}
	tune_sim_backend(ts, be);
	/* with --measure, --time is the measured runs' length */
	if (o->time_s > 0 && !o->measure) {
		be->full_s = o->time_s;
		be->short_s = o->time_s / 4;
	}
	return ts;
}

/* The measured backend's parameters (the world is built by tune_meas_new;
 * this is enough for --dry-run's estimate). */
static void meas_backend(struct opts *o, const struct tune_meas_cfg *mc, struct tune_backend *be)
{
	memset(be, 0, sizeof(*be));
	be->source = "measured";
	be->full_s = mc->run_s;
	be->short_s = mc->short_s;
	be->max_reps = 10;
	be->parallel = 1;
	be->estimate = dry_meas_estimate;
	be->ctx = o;
}

/* --measure: the simulated ranking is written to OUT/simulated, then its
 * best are measured on the veth pair; *fin becomes that run. */
static int measure_best(struct opts *o, struct tune_run *r, struct tune_meas_cfg *mc,
			const char *setup, const char *out_dir, struct tune_space *msp,
			struct tune_meas **tm, struct tune_run *mr, struct tune_run **fin)
{
	struct tune_out sout = { out_dir, o->cmdline, setup, o->dev, NULL };
	struct tune_backend mbe;
	char mdir[600], err[512];

	fprintf(stderr, "irqlab tune: simulated ranking done (%d runs, %.1f s); measuring "
		"the best %d\n", r->njobs, r->elapsed_s, o->measure_top);
	snprintf(mdir, sizeof(mdir), "%s/simulated", out_dir);
	sout.dir = mdir;
	if (tune_write_dir(r, &sout, err, sizeof(err)))
		fprintf(stderr, "irqlab tune: %s\n", err);
	if (top_of(r, o->measure_top, msp, err, sizeof(err)) ||
	    !(*tm = tune_meas_new(mc, err, sizeof(err)))) {
		fprintf(stderr, "irqlab tune: %s\n", err);
		return -1;
	}
	tune_meas_backend(*tm, &mbe);
	*fin = mr;
	return search_and_report(o, msp, &mbe, tune_meas_describe(*tm), out_dir, mr, true);
}

int tune_main(int argc, char **argv)
{
	static struct opts o;
	struct tune_space sp = { 0 }, msp = { 0 };
	struct tune_backend be;
	struct tune_sim *ts = NULL;
	struct tune_meas *tm = NULL;
	struct tune_run r, mr;
	char err[512], out_dir[512];
	int rc = parse(&o, argc, argv, err, sizeof(err));

	if (rc > 0) {
		usage(stdout);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "irqlab tune: %s\n", err);
		return 2;
	}
	snprintf(out_dir, sizeof(out_dir), "%s", o.out ? o.out : "");
	if (!o.out)
		default_out(out_dir, sizeof(out_dir));
	bool measured_only = !o.sim;
	if (build_space(&o, &sp, measured_only, err, sizeof(err))) {
		fprintf(stderr, "irqlab tune: %s\n", err);
		return 2;
	}
	fill_defaults(&o, measured_only);
	struct tune_meas_cfg mc = {
		.run_s = o.time_s > 0 ? o.time_s : 2, .warmup_s = o.warmup_s,
		.srv_cpu = o.srv_cpu, .cli_cpu = o.cli_cpu, .connections = o.conns,
		.qps = o.obj.goal == GOAL_MIN_CPU ? o.obj.qps : 0, .server = o.server,
		.out_dir = out_dir, .stop = &stop_flag, .short_s = (o.time_s > 0 ? o.time_s : 2) / 2,
	};
	if (o.sim) {
		if (!(ts = sim_backend(&o, &be))) {
			tune_space_free(&sp);
			return 2;
		}
	} else {
		meas_backend(&o, &mc, &be);
	}
	if (o.dry_run) {
		rc = dry_run(&o, &sp, &be, measured_only);
		tune_sim_free(ts);
		tune_space_free(&sp);
		return rc;
	}
	il_signals_on_stop(SIGINT, on_stop, NULL);
	il_signals_on_stop(SIGTERM, on_stop, NULL);
	il_signals_on_stop(SIGHUP, on_stop, NULL);
	if (il_mkdir_p(out_dir)) {
		fprintf(stderr, "irqlab tune: --out: cannot create %s\n", out_dir);
		return 1;
	}
	if (measured_only) {
		tm = tune_meas_new(&mc, err, sizeof(err));
		if (!tm) {
			fprintf(stderr, "irqlab tune: %s\n", err);
			tune_space_free(&sp);
			return 1;
		}
		tune_meas_backend(tm, &be);
	}
	const char *setup = ts ? tune_sim_describe(ts) : tune_meas_describe(tm);
	rc = search_and_report(&o, &sp, &be, setup, out_dir, &r, !o.measure);
	struct tune_run *fin = &r;

	if (!rc && o.measure && !stop_flag)
		rc = measure_best(&o, &r, &mc, setup, out_dir, &msp, &tm, &mr, &fin);
	int status = rc ? 1 : stop_flag || fin->interrupted ? 130 :
		     fin->verdict == V_WINNER || fin->verdict == V_TIE ? 0 : 1;
	if (fin == &mr)
		tune_run_free(&mr);
	tune_run_free(&r);
	tune_meas_free(tm);
	tune_sim_free(ts);
	tune_space_free(&sp);
	tune_space_free(&msp);
	return status;
}
