/* irqlab bench: options, checks, and the order of things: build the world,
 * run the sweep, tear the world down, write the outputs. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "irqlab/mode.h"
#include "irqlab/napi.h"
#include "irqlab/opt.h"
#include "irqlab/perf.h"
#include "irqlab/report.h"
#include "irqlab/signals.h"
#include "bench.h"
#include "multi.h"
#include "../cli/cli.h"

volatile sig_atomic_t bench_stop;

static const char *const all_modes[] = { "base", "defer", "napibusy", "busywait", "suspend" };

static void set_defaults_for(struct bench_cfg *c, int level)
{
	/* level 0 quick (make demo), 1 default, 2 full */
	static const double q[] = { 0.2, 0.4, 0.6, 0.8 };
	static const double d[] = { 0.1, 0.3, 0.5, 0.7, 0.9 };
	static const double f[] = { 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9 };
	const double *p = level == 0 ? q : level == 1 ? d : f;

	c->npoints = level == 0 ? 4 : level == 1 ? 5 : 9;
	for (int i = 0; i < c->npoints; i++)
		c->fracs[i] = p[i];
	c->duration = level == 0 ? 1 : level == 1 ? 3 : 10;
	c->warmup = level == 0 ? 0.5 : level == 1 ? 1 : 2;
	c->reps = level == 2 ? 5 : 3;
	/* quick keeps its time bound on a busy machine: noisy runs are kept
	 * flagged instead of repeated */
	c->noise_retries = level == 0 ? 0 : level == 1 ? 1 : 2;
	/* the published workload has 1,000,000 keys; fewer keep preloading
	 * short where runs are short */
	c->records = level == 2 ? 1000000 : 100000;
}

/* Programs live next to the irqlab binary (build/). */
static void sibling(char *out, size_t len, const char *name)
{
	char self[400];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0) {
		snprintf(out, len, "%s", name);
		return;
	}
	self[n] = 0;
	char *slash = strrchr(self, '/');
	if (slash)
		*slash = 0;
	snprintf(out, len, "%s/%s", self, name);
}

void bench_defaults(struct bench_cfg *c)
{
	time_t now = time(NULL);
	char ts[32];

	memset(c, 0, sizeof(*c));
	strftime(ts, sizeof(ts), "%Y%m%d-%H%M%S", localtime(&now));
	snprintf(c->out_dir, sizeof(c->out_dir), "irqlab-results/%s", ts);
	snprintf(c->server, sizeof(c->server), "kv");
	for (int i = 0; i < 5; i++)
		snprintf(c->modes[i], sizeof(c->modes[i]), "%s", all_modes[i]);
	c->nmodes = 5;
	snprintf(c->napi_thread, sizeof(c->napi_thread), "none");
	c->srv_cpu = 1;
	c->cli_cpu = 0;
	set_defaults_for(c, 1);
	c->connections = 16;
	c->depth = 1;
	c->noise_limit = 15;
	c->noise_retries = 1;
	c->port = 11311;
	sibling(c->kv_bin, sizeof(c->kv_bin), "irqlab-kv");
	sibling(c->load_bin, sizeof(c->load_bin), "irqlab-load");
	sibling(c->shim, sizeof(c->shim), "libirqlab-preload.so");
	snprintf(c->memcached_bin, sizeof(c->memcached_bin), "/usr/bin/memcached");
	snprintf(c->remote_bin_dir, sizeof(c->remote_bin_dir), "/usr/local/bin");
	c->srv_cores = 1;
	c->client_threads = 1;
	c->rx_usecs = 8;
	c->rx_frames = 128;
}

const char *bench_mode_label(const struct bench_cfg *c, int i)
{
	return c->modes[i];
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: irqlab bench [options]      compare the interrupt-handling modes end to end\n"
"\n"
"Single host (default): two network namespaces joined by a veth pair, the server\n"
"on one CPU, irqlab-load on the other; needs root and Linux 6.13+.\n"
"  -o, --out DIR          output directory (default ./irqlab-results/<timestamp>)\n"
"      --server NAME      kv (irqlab-kv, default) or memcached (Debian's, under the preload shim)\n"
"      --modes LIST       comma-separated presets (default all: " IL_MODE_NAMES ")\n"
"      --mode SPEC        add one mode with knobs, e.g. 'suspend,irq_suspend_timeout=5ms' (repeatable)\n"
"      --napi-thread HOW  none (default), aligned (threaded NAPI kthread on the server CPU)\n"
"                         or separate (on the generator CPU)\n"
"      --quick            short runs (make demo): 1 s runs, 3 reps, 4 sweep points, noisy runs flagged\n"
"      --full             thorough: 10 s runs, 5 reps, 9 sweep points\n"
"      --time S           measured seconds per run (0.2..600)\n"
"      --warmup S         warm-up seconds per run (0..60)\n"
"      --reps N           repetitions of every point (1..50)\n"
"      --points LIST      open-loop targets as fractions of the smallest maximum, e.g. 0.1,0.5,0.9\n"
"                         (each 0.01..1.5; 'none' for closed loop only)\n"
"      --connections N    connections of the load generator (1..1024, default 16)\n"
"      --depth N          pipeline depth per connection (1..64, default 1)\n"
"      --records N        keys, preloaded once per mode (1000..10000000;\n"
"                         default 100000, --full 1000000)\n"
"      --srv-cpu N        server CPU (default 1)\n"
"      --cli-cpu N        load generator CPU (default 0)\n"
"      --port N           server TCP port (1..65535, default 11311)\n"
"      --noise-limit PCT  flag a run when other processes took more than PCT%% of a core (default 15)\n"
"      --noise-retries N  repeat a noisy run up to N times before keeping it flagged\n"
"                         (0..10; default 1, --quick 0, --full 2)\n"
"      --no-plots         skip gnuplot\n"
"      --kv PATH, --load PATH, --shim PATH, --memcached PATH   programs to use\n"
"\n"
"Across machines: irqlab runs `irqlab agent` on every host over ssh (docs/multihost.md):\n"
"      --server-host H    server host with the real NIC (ssh destination)\n"
"      --client-host H    load generator host (repeatable)\n"
"      --dev DEV          the server's NIC\n"
"      --srv-cores N      server cores = queues (1..256, default 1)\n"
"      --client-threads N threads per client host (default 1)\n"
"      --rates LIST       open-loop targets in QPS instead of --points, e.g. 100000,200000\n"
"                         (across machines: the total, split evenly over the client hosts)\n"
"      --rx-usecs N, --rx-frames N   NIC coalescing of the 'adaptive' case (default 8, 128)\n"
"      --remote-bin DIR   where irqlab, irqlab-kv, irqlab-load are on the hosts (default /usr/local/bin)\n"
"      --install          copy this build to a per-run directory on hosts where --remote-bin\n"
"                         lacks it (same architecture); without it another build is refused\n"
"      --restore          undo what a run killed hard left on the hosts (their agents'\n"
"                         journals: irqlab agent --restore on each), then exit\n"
"      --ssh CMD          the ssh command, e.g. 'ssh -F FILE' (default ssh; BatchMode and one\n"
"                         multiplexed connection per host are added)\n"
"      --dry-run          print a shell plan of the same experiment and exit\n"
"  -h, --help             this text\n");
}

/* The option table: one row per option, the field it fills and its range.
 * Rows of the special kinds (K_MODES ..) are handled in set_special. */
enum kind { K_STR, K_INT, K_UINT, K_NUM, K_FLAG, K_CHOICE, K_LEVEL, K_MODES, K_MODE,
	    K_POINTS, K_RATES, K_HOST };

struct bopt {
	const char *name;
	enum kind kind;
	size_t off, size;
	double lo, hi;
	const char *const *names;	/* K_CHOICE */
	int nnames;
};

#define F(f) offsetof(struct bench_cfg, f), sizeof(((struct bench_cfg *)0)->f)
#define NONE 0, 0
static const char *const servers[] = { "kv", "memcached" };
static const char *const napi_threads[] = { "none", "aligned", "separate" };

static const struct bopt opts[] = {
	{ "out", K_STR, F(out_dir), 0, 0, NULL, 0 },
	{ "server", K_CHOICE, F(server), 0, 0, servers, 2 },
	{ "modes", K_MODES, NONE, 0, 0, NULL, 0 },
	{ "mode", K_MODE, NONE, 0, 0, NULL, 0 },
	{ "napi-thread", K_CHOICE, F(napi_thread), 0, 0, napi_threads, 3 },
	{ "quick", K_LEVEL, F(quick), 0, 0, NULL, 0 },
	{ "full", K_LEVEL, F(full), 2, 0, NULL, 0 },
	{ "time", K_NUM, F(duration), 0.2, 600, NULL, 0 },
	{ "warmup", K_NUM, F(warmup), 0, 60, NULL, 0 },
	{ "reps", K_INT, F(reps), 1, 50, NULL, 0 },
	{ "points", K_POINTS, NONE, 0.01, 1.5, NULL, 0 },
	{ "connections", K_INT, F(connections), 1, 1024, NULL, 0 },
	{ "depth", K_INT, F(depth), 1, 64, NULL, 0 },
	{ "records", K_INT, F(records), 1000, 10000000, NULL, 0 },
	{ "srv-cpu", K_INT, F(srv_cpu), 0, 4095, NULL, 0 },
	{ "cli-cpu", K_INT, F(cli_cpu), 0, 4095, NULL, 0 },
	{ "port", K_UINT, F(port), 1, 65535, NULL, 0 },
	{ "noise-limit", K_NUM, F(noise_limit), 0, 200, NULL, 0 },
	{ "noise-retries", K_INT, F(noise_retries), 0, 10, NULL, 0 },
	{ "no-plots", K_FLAG, F(no_plots), 0, 0, NULL, 0 },
	{ "kv", K_STR, F(kv_bin), 0, 0, NULL, 0 },
	{ "load", K_STR, F(load_bin), 0, 0, NULL, 0 },
	{ "shim", K_STR, F(shim), 0, 0, NULL, 0 },
	{ "memcached", K_STR, F(memcached_bin), 0, 0, NULL, 0 },
	{ "server-host", K_STR, F(server_host), 0, 0, NULL, 0 },
	{ "client-host", K_HOST, NONE, 0, 0, NULL, 0 },
	{ "dev", K_STR, F(dev), 0, 0, NULL, 0 },
	{ "srv-cores", K_INT, F(srv_cores), 1, 256, NULL, 0 },
	{ "client-threads", K_INT, F(client_threads), 1, 256, NULL, 0 },
	{ "rates", K_RATES, NONE, 1, 1e9, NULL, 0 },
	{ "rx-usecs", K_INT, F(rx_usecs), 0, 100000, NULL, 0 },
	{ "rx-frames", K_INT, F(rx_frames), 0, 100000, NULL, 0 },
	{ "remote-bin", K_STR, F(remote_bin_dir), 0, 0, NULL, 0 },
	{ "ssh", K_STR, F(ssh), 0, 0, NULL, 0 },
	{ "install", K_FLAG, F(install), 0, 0, NULL, 0 },
	{ "restore", K_FLAG, F(restore), 0, 0, NULL, 0 },
	{ "dry-run", K_FLAG, F(dry_run), 0, 0, NULL, 0 },
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))
#define AT(c, d, type) ((type *)((char *)(c) + (d)->off))

static int add_mode(struct bench_cfg *c, const char *spec, int *custom, char *err, size_t len)
{
	struct il_mode m;
	char e[200];

	if (!*custom) {		/* the first --mode/--modes replaces the default list */
		c->nmodes = 0;
		*custom = 1;
	}
	if (c->nmodes == BENCH_MAX_MODES) {
		snprintf(err, len, "--modes: at most %d modes", BENCH_MAX_MODES);
		return -1;
	}
	/* "adaptive" (NIC coalescing) only exists across machines */
	if (strcmp(spec, "adaptive") && il_mode_parse(spec, &m, e, sizeof(e))) {
		snprintf(err, len, "--modes: %s", e);
		return -1;
	}
	if (strlen(spec) > 31) {	/* it labels result rows: il_result.mode */
		snprintf(err, len, "--mode: '%s' is longer than 31 characters", spec);
		return -1;
	}
	snprintf(c->modes[c->nmodes++], sizeof(c->modes[0]), "%s", spec);
	return 0;
}

static int add_modes(struct bench_cfg *c, const char *list, int *custom, char *err, size_t len)
{
	char buf[512], *save, *tok;
	int rc = 0;

	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save))
		rc = add_mode(c, tok, custom, err, len);
	return rc;
}

static int copy(char *dst, size_t n, const char *opt, const char *s, char *err, size_t len)
{
	if (strlen(s) >= n) {
		snprintf(err, len, "%s: longer than %zu characters", opt, n - 1);
		return -1;
	}
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

/* A number list, or "none" where the option allows an empty list. */
static int nums(const char *opt, const char *s, double lo, double hi, double *out, int *n,
		char *err, size_t len)
{
	int k;

	if (!strcmp(s, "none")) {
		*n = 0;
		return 0;
	}
	if ((k = il_opt_nums(opt, s, lo, hi, 0, out, BENCH_MAX_POINTS, err, len)) < 0)
		return -1;
	*n = k;
	return 0;
}

/* The kinds that are more than a field and a range. */
static int set_special(struct bench_cfg *c, const struct bopt *d, const char *opt,
		       const char *v, int *custom, char *err, size_t len)
{
	switch (d->kind) {
	case K_MODES:
		return add_modes(c, v, custom, err, len);
	case K_MODE:
		return add_mode(c, v, custom, err, len);
	case K_POINTS:
		return nums(opt, v, d->lo, d->hi, c->fracs, &c->npoints, err, len);
	case K_RATES:
		return nums(opt, v, d->lo, d->hi, c->rates, &c->nrates, err, len);
	case K_HOST:
		if (c->nclients == BENCH_MAX_CLIENTS) {
			snprintf(err, len, "%s: at most %d hosts", opt, BENCH_MAX_CLIENTS);
			return -1;
		}
		return copy(c->client_hosts[c->nclients++], sizeof(c->client_hosts[0]), opt, v,
			    err, len);
	default:
		return 0;
	}
}

/* One option's value into its field (opt.h's parsers and messages). */
static int set_one(struct bench_cfg *c, const struct bopt *d, const char *v, int *custom,
		   char *err, size_t len)
{
	char opt[40];
	double x;
	int k;

	snprintf(opt, sizeof(opt), "--%s", d->name);
	switch (d->kind) {
	case K_STR:
		return copy(AT(c, d, char), d->size, opt, v, err, len);
	case K_INT:
	case K_UINT:
		if (il_opt_num(opt, v, d->lo, d->hi, 1, &x, err, len))
			return -1;
		if (d->kind == K_INT)
			*AT(c, d, int) = (int)x;
		else
			*AT(c, d, unsigned) = (unsigned)x;
		return 0;
	case K_NUM:
		return il_opt_num(opt, v, d->lo, d->hi, 0, AT(c, d, double), err, len);
	case K_FLAG:
		*AT(c, d, int) = 1;
		return 0;
	case K_LEVEL:		/* applied before the others: see bench_parse */
		return 0;
	case K_CHOICE:
		if ((k = il_opt_choice(opt, v, d->names, d->nnames, err, len)) < 0)
			return -1;
		snprintf(AT(c, d, char), d->size, "%s", d->names[k]);
		return 0;
	default:
		return set_special(c, d, opt, v, custom, err, len);
	}
}

/* What no single option can check. */
static int check_cfg(const struct bench_cfg *c, char *err, size_t len)
{
	if (c->srv_cpu == c->cli_cpu) {
		snprintf(err, len, "--srv-cpu and --cli-cpu must differ (both %d)", c->srv_cpu);
		return -1;
	}
	if (c->server_host[0] && !c->dev[0] && !c->restore) {
		snprintf(err, len, "--server-host needs --dev (the server's NIC)");
		return -1;
	}
	if (!c->server_host[0] && (c->nclients || c->dev[0])) {
		snprintf(err, len, "--client-host and --dev need --server-host");
		return -1;
	}
	for (int m = 0; m < c->nmodes; m++)
		if (!c->server_host[0] && !strcmp(c->modes[m], "adaptive")) {
			snprintf(err, len, "--modes: 'adaptive' (NIC coalescing) needs --server-host; veth has no coalescing");
			return -1;
		}
	return 0;
}

/* getopt's table from ours: option i returns 256 + i. */
static void longopts(struct option *lo)
{
	for (size_t i = 0; i < NOPTS; i++)
		lo[i] = (struct option){ opts[i].name,
					 opts[i].kind == K_FLAG || opts[i].kind == K_LEVEL ?
					 no_argument : required_argument, NULL, 256 + (int)i };
	lo[NOPTS] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[NOPTS + 1] = (struct option){ 0, 0, 0, 0 };
}

/* --quick/--full set defaults that explicit options override whatever the
 * order: a first pass applies the last of them, the second pass the rest. */
static void parse_level(struct bench_cfg *c, int argc, char **argv, const struct option *lo)
{
	int o, level = -1;

	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":o:h", lo, NULL)) != -1)
		if (o >= 256 && opts[o - 256].kind == K_LEVEL)
			level = (int)opts[o - 256].lo;
	if (level < 0)
		return;
	set_defaults_for(c, level);
	c->quick = level == 0;
	c->full = level == 2;
}

int bench_parse(struct bench_cfg *c, int argc, char **argv, char *err, size_t len)
{
	struct option lo[NOPTS + 2];
	int o, custom = 0;

	longopts(lo);
	parse_level(c, argc, argv, lo);
	optind = 0;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":o:h", lo, NULL)) != -1) {
		if (o == 'h')
			return 1;
		if (o == ':') {
			snprintf(err, len, "option '%s' needs a value", argv[optind - 1]);
			return -1;
		}
		if (o != 'o' && o < 256) {
			snprintf(err, len, "unknown option '%s' (irqlab bench --help)", argv[optind - 1]);
			return -1;
		}
		if (set_one(c, &opts[o == 'o' ? 0 : o - 256], optarg, &custom, err, len))
			return -1;
	}
	if (optind < argc) {
		snprintf(err, len, "unexpected argument '%s' (irqlab bench --help)", argv[optind]);
		return -1;
	}
	return check_cfg(c, err, len);
}

/* ---- checks before touching anything --------------------------------- */

static int kernel_at_least(int maj, int min)
{
	struct utsname u;
	int a = 0, b = 0;

	uname(&u);
	if (sscanf(u.release, "%d.%d", &a, &b) != 2)
		return 1;	/* unknown: let the operations themselves fail */
	return a > maj || (a == maj && b >= min);
}

static int preflight(const struct bench_cfg *c, char *err, size_t len)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int need_suspend = 0, need_napi = 0, need_epoll = 0;

	if (geteuid() != 0) {
		snprintf(err, len, "needs root: CAP_SYS_ADMIN to create network namespaces and "
			 "CAP_NET_ADMIN for the veth pair and NAPI settings (try sudo)");
		return -1;
	}
	for (int m = 0; m < c->nmodes; m++) {
		struct il_mode md;
		char e[160];
		if (il_mode_parse(c->modes[m], &md, e, sizeof(e)))
			continue;
		need_suspend |= md.irq_suspend_timeout > 0;
		need_napi |= il_mode_has_napi_knobs(&md);
		need_epoll |= il_mode_has_epoll_knobs(&md);
	}
	/* Ask the kernel what it supports (netlink, EPIOCSPARAMS); the version
	 * checks below catch what the probe cannot see. */
	struct il_napi_support sup;
	il_napi_probe(&sup);
	if ((need_napi || need_suspend) && !sup.napi_set) {
		snprintf(err, len, "needs Linux 6.13 for per-NAPI settings (netdev napi-set is missing here)");
		return -1;
	}
	if (need_suspend && !sup.irq_suspend) {
		snprintf(err, len, "needs Linux 6.13 for irq_suspend_timeout (mode suspend); "
			 "choose other modes with --modes");
		return -1;
	}
	if (need_epoll && !sup.epoll_params) {
		snprintf(err, len, "needs Linux 6.9 for epoll busy-poll parameters (EPIOCSPARAMS)");
		return -1;
	}
	if (strcmp(c->napi_thread, "none") && !kernel_at_least(5, 12)) {
		snprintf(err, len, "needs Linux 5.12 for threaded NAPI (--napi-thread)");
		return -1;
	}
	if (need_suspend && !kernel_at_least(6, 13)) {
		snprintf(err, len, "needs Linux 6.13 for irq_suspend_timeout (mode suspend); "
			 "choose other modes with --modes");
		return -1;
	}
	if (need_napi && !kernel_at_least(6, 13)) {
		snprintf(err, len, "needs Linux 6.13 for per-NAPI defer_hard_irqs/gro_flush_timeout (napi-set)");
		return -1;
	}
	if (need_epoll && !kernel_at_least(6, 9)) {
		snprintf(err, len, "needs Linux 6.9 for epoll busy-poll parameters (EPIOCSPARAMS)");
		return -1;
	}
	if (c->srv_cpu >= ncpu || c->cli_cpu >= ncpu) {
		snprintf(err, len, "--srv-cpu %d / --cli-cpu %d: this machine has CPUs 0..%ld",
			 c->srv_cpu, c->cli_cpu, ncpu - 1);
		return -1;
	}
	const char *progs[] = { !strcmp(c->server, "kv") ? c->kv_bin : c->memcached_bin, c->load_bin,
				!strcmp(c->server, "kv") ? NULL : c->shim };
	for (int i = 0; i < 3; i++)
		if (progs[i] && access(progs[i], R_OK | (i == 2 ? 0 : X_OK))) {
			snprintf(err, len, "%s not found (%s)", progs[i],
				 i == 0 && strcmp(c->server, "kv") ? "install memcached" : "run make");
			return -1;
		}
	return 0;
}

/* ---- the run ---------------------------------------------------------- */

static struct world *the_world;

static void teardown(void)
{
	struct world *w = the_world;

	if (!w)
		return;
	if (w->srv_pid > 0)
		stop_child(w->srv_pid);
	w->srv_pid = -1;
	topo_down(&w->topo);
}

/* A stop, registered with the library's signal owner (irqlab/signals.h):
 * the loops notice, stop the children and clean up; a second signal
 * restores through the guard and ends bench at once. */
static void on_stop(int sig, void *arg)
{
	(void)sig;
	(void)arg;
	bench_stop = 1;
}

static int run_remote(const struct bench_cfg *c)
{
	struct plan p;
	char err[256];

	if (remote_plan(c, &p, err, sizeof(err))) {
		fprintf(stderr, "irqlab bench: %s\n", err);
		return 2;
	}
	plan_print(stdout, &p);
	plan_free(&p);
	return 0;
}

static void dry_run_local(const struct bench_cfg *c)
{
	printf("# irqlab bench (dry run): %d modes x (%d closed + %d open points x %d reps), "
	       "%g s + %g s warm-up per run, about %.0f s\n", c->nmodes, c->reps, c->npoints,
	       c->reps, c->duration, c->warmup,
	       c->nmodes * c->reps * (1 + c->npoints) * (c->duration + c->warmup + 1.0));
	for (int m = 0; m < c->nmodes; m++) {
		struct il_mode md;
		char e[160], buf[256];
		if (!il_mode_parse(c->modes[m], &md, e, sizeof(e))) {
			il_mode_format(&md, buf, sizeof(buf));
			printf("# mode %s: %s\n", c->modes[m], buf);
		}
	}
}

/* Output directory, logs, plan.txt, cleanup on exit and on signals, and
 * the hardware counters probe: everything before the world goes up. */
static int world_open(struct world *w, const struct bench_cfg *c)
{
	char plan[700];
	struct il_perf perf;

	if (il_mkdir_p(c->out_dir)) {
		fprintf(stderr, "irqlab bench: cannot create %s: %s\n", c->out_dir, strerror(errno));
		return -1;
	}
	memset(w, 0, sizeof(*w));
	w->cfg = c;
	w->srv_pid = -1;
	snprintf(w->tmp, sizeof(w->tmp), "%s/logs", c->out_dir);
	il_mkdir_p(w->tmp);
	topo_names(&w->topo, getpid());
	snprintf(plan, sizeof(plan), "%s/plan.txt", c->out_dir);
	w->topo.log = fopen(plan, "w");
	the_world = w;
	atexit(teardown);
	il_signals_on_stop(SIGINT, on_stop, NULL);
	il_signals_on_stop(SIGTERM, on_stop, NULL);
	il_signals_on_stop(SIGHUP, on_stop, NULL);
	if (c->server_host[0]) {	/* the rest is about this machine */
		fprintf(stderr, "irqlab bench: %s on %s, modes", c->server, c->server_host);
		for (int m = 0; m < c->nmodes; m++)
			fprintf(stderr, " %s", c->modes[m]);
		fprintf(stderr, "; %d client host(s); output %s\n", c->nclients, c->out_dir);
		return 0;
	}
	/* Hardware counters: probe once, say why not. */
	w->perf_ok = il_perf_open(&perf, c->srv_cpu, w->perf_why, sizeof(w->perf_why)) == 0;
	if (w->perf_ok)
		il_perf_close(&perf);
	fprintf(stderr, "irqlab bench: %s, modes", c->server);
	for (int m = 0; m < c->nmodes; m++)
		fprintf(stderr, " %s", c->modes[m]);
	fprintf(stderr, "; server CPU %d, load CPU %d, threaded NAPI %s; output %s\n",
		c->srv_cpu, c->cli_cpu, c->napi_thread, c->out_dir);
	if (!w->perf_ok)
		fprintf(stderr, "irqlab bench: %s; IPC and cycles per query reported as n/a\n",
			w->perf_why);
	return 0;
}

/* The table, the files and the plots of a complete sweep: 0 or 1. */
static int outputs(struct bench_cfg *c, const struct sweep *s, const struct world *w)
{
	char err[512];
	int rc = 0;

	report_table(stdout, c, s);
	if (report_files(c, s, w, err, sizeof(err))) {
		fprintf(stderr, "irqlab bench: %s\n", err);
		return 1;
	}
	if (!c->no_plots && s->npoints == 0) {
		printf("\nno open-loop points (--points none): no plots\n");
		c->no_plots = 1;
	}
	if (!c->no_plots) {
		int np = plot_all(c, s, err, sizeof(err));
		if (np < 0) {
			/* missing gnuplot only costs the pictures; a failing one is a bug */
			fprintf(stderr, "irqlab bench: plots: %s\n", err);
			c->no_plots = 1;
			rc = np == -2 ? 0 : 1;
		}
	}
	if (!rc)
		printf("\nwrote %s/{results.json,results.csv,summary.csv,report.md%s}\n", c->out_dir,
		       c->no_plots ? "" : ",latency-p99.png,latency-p95.png,cpu.png");
	return rc;
}

int cmd_bench(int argc, char **argv)
{
	static struct bench_cfg c;
	static struct world w;
	struct sweep s;
	char err[512] = "";
	int rc;

	bench_defaults(&c);
	rc = bench_parse(&c, argc, argv, err, sizeof(err));
	if (rc > 0) {
		usage(stdout);
		return 0;
	}
	if (rc < 0) {
		fprintf(stderr, "irqlab bench: %s\n", err);
		return 2;
	}
	if (c.restore && !c.server_host[0]) {
		fprintf(stderr, "irqlab bench: --restore is for runs across hosts (--server-host); "
			"on one machine the restore guard puts everything back by itself\n");
		return 2;
	}
	if (c.restore)
		return multi_restore(&c);	/* bench/multi.c */
	if (c.server_host[0] && c.dry_run)
		return run_remote(&c);
	if (c.dry_run) {
		dry_run_local(&c);
		return 0;
	}
	if (c.server_host[0] ? remote_check_hosts(&c, err, sizeof(err)) :
	    preflight(&c, err, sizeof(err))) {
		fprintf(stderr, "irqlab bench: %s\n", err);
		return c.server_host[0] ? 2 : 1;
	}
	if (world_open(&w, &c))
		return 1;
	struct bench_ops ops = world_ops;
	ops.ctx = &w;
	if (c.server_host[0]) {
		rc = multi_open(&c, &ops, err, sizeof(err));	/* bench/multi.c */
	} else {
		rc = topo_up(&w.topo, err, sizeof(err));
		if (!rc && strcmp(c.napi_thread, "none"))
			rc = topo_napi_thread(&w.topo, !strcmp(c.napi_thread, "aligned") ?
					      c.srv_cpu : c.cli_cpu, err, sizeof(err));
	}
	memset(&s, 0, sizeof(s));
	if (!rc)
		rc = sweep_run(&c, &ops, &s, err, sizeof(err));
	progress_done();
	teardown();	/* before writing: nothing of ours stays up meanwhile */
	multi_close();	/* every host restores (no-op on a single host) */
	if (rc) {
		fprintf(stderr, "irqlab bench: %s%s\n", err, bench_stop ? " (cleaned up)" : "");
		if (s.n) {
			char e2[256];
			report_files(&c, &s, &w, e2, sizeof(e2));
			fprintf(stderr, "irqlab bench: %d completed runs written to %s (partial)\n",
				s.n, c.out_dir);
		}
		rc = bench_stop ? 130 : 1;
	} else {
		rc = outputs(&c, &s, &w);
	}
	sweep_free(&s);
	if (w.topo.log)
		fclose(w.topo.log);
	return rc;
}
