/* irqlab-sim: command line. Reads an experiment (config file, then
 * overrides), runs the model, prints the same rows as `irqlab bench`. */
#define _GNU_SOURCE
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "irqlab/report.h"
#include "calib.h"
#include "sim.h"

static void usage(FILE *f)
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

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The machine is shared: rates use this process's CPU time, so another
 * process taking the core does not count against the simulator. */
static double now_s(void)
{
	return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The 8-core cover-letter machine at 1M QPS open loop (below its capacity
 * in every mode but base), one simulated second after 0.1 s of warm-up,
 * three times; median events per second and wall time. */
static int bench(const char *mode)
{
	struct experiment e;
	char err[256];
	double rate[3], wall[3];
	uint64_t events = 0;
	struct il_result r;

	for (int i = 0; i < 3; i++) {
		if (calib_experiment(6, &e, 0, err, sizeof(err)) ||
		    experiment_set(&e, "workload.load", "open", err, sizeof(err)) ||
		    experiment_set(&e, "workload.qps", "1000000", err, sizeof(err)) ||
		    experiment_set(&e, "workload.ia", "exponential:1", err, sizeof(err)) ||
		    experiment_set(&e, "run.time", "1", err, sizeof(err)) ||
		    experiment_set(&e, "run.warmup", "0.1", err, sizeof(err)) ||
		    experiment_set(&e, "mode.spec", mode, err, sizeof(err)) ||
		    experiment_finish(&e, err, sizeof(err))) {
			fprintf(stderr, "irqlab-sim: %s\n", err);
			return 2;
		}
		double t0 = now_s(), w0 = clock_s(CLOCK_MONOTONIC);
		if (sim_experiment(&e, &r, &events))
			return 2;
		wall[i] = clock_s(CLOCK_MONOTONIC) - w0;
		rate[i] = (double)events / (now_s() - t0);
	}
	qsort(rate, 3, sizeof(double), cmp_dbl);
	qsort(wall, 3, sizeof(double), cmp_dbl);
	/* the peer in the same run: the event queue alone, same number of
	 * pops with 512 events pending (the model has a few hundred) */
	double peer[3];
	for (int i = 0; i < 3; i++) {
		struct evq q;
		struct sim_ev ev;
		uint64_t x = 88172645463325252ULL;
		if (evq_init(&q, 8192))
			return 2;
		for (int k = 0; k < 512; k++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			evq_push(&q, x % 1000000, EV_CORE, 0, 0);
		}
		double t0 = now_s();
		for (uint64_t k = 0; k < events; k++) {
			evq_pop(&q, &ev);
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			evq_push(&q, ev.t + x % 100000, EV_CORE, 0, 0);
		}
		peer[i] = (double)events / (now_s() - t0);
		evq_free(&q);
	}
	qsort(peer, 3, sizeof(double), cmp_dbl);
	printf("bench: 8 cores, open loop 1M QPS, mode %s, 1.1 simulated s\n",
	       e.mode_spec);
	printf("bench: %llu events per run, %.2f s wall (median of 3), "
	       "%.1f M events per CPU-second (min %.1f, max %.1f), achieved %.0f QPS\n",
	       (unsigned long long)events, wall[1], rate[1] / 1e6, rate[0] / 1e6,
	       rate[2] / 1e6, r.qps);
	printf("bench: peer (event queue alone, same pops): %.1f M events/s; "
	       "the model runs at %.0f%% of it\n", peer[1] / 1e6,
	       100 * rate[1] / peer[1]);
	return 0;
}

/* --out: the files `irqlab bench` writes, from the simulated rows. */
static int write_out(const char *dir, const struct experiment *e, const char *cmdline,
		     const struct il_result *rows, int n)
{
	char ctx[96], intro[2048], err[512];
	struct il_plot_cfg p = {
		.dir = dir, .by = "irqlab-sim", .context = ctx,
		.cpu_title = "simulated server CPU busy against load (user+sys+softirq)",
		.cpu_ylabel = "server CPU busy (% of all server cores)",
	};

	snprintf(ctx, sizeof(ctx), "simulated, %d server cores, %.1f GHz", e->cores, e->freq_ghz);
	snprintf(intro, sizeof(intro), "Simulated by irqlab-sim (the model in docs/sim.md), not "
		 "measured: %d server cores at %.1f GHz, %g s measured after %g s warm-up, seed "
		 "%llu, one run per point.\n\nCommand: `%s`", e->cores, e->freq_ghz,
		 (double)e->time_ns / 1e9, (double)e->warmup_ns / 1e9,
		 (unsigned long long)e->seed, cmdline);
	int np = il_report_dir(&p, "irqlab-sim report", intro, rows, n, err, sizeof(err));
	if (np < 0) {
		fprintf(stderr, "irqlab-sim: --out: %s\n", err);
		return 1;
	}
	if (!np)
		fprintf(stderr, "irqlab-sim: %s\n", err);
	fprintf(stderr, "irqlab-sim: wrote %s/results.json, results.csv, report.md%s\n", dir,
		np ? ", latency-p99.png, latency-p95.png, cpu.png" : "");
	return 0;
}

/* One run per (mode, rate); every experiment is checked before the first
 * run so a bad combination fails fast. */
static int run_all(const struct experiment *base, char (*modes)[128],
		   int nmodes, const double *qpss, int nqps, int print, int json,
		   int csv, const char *out, const char *cmdline)
{
	int nm = modes ? nmodes : 1, nq = nqps ? nqps : 1, n = 0;
	struct il_result *rows = calloc((size_t)(nm * nq), sizeof(*rows));
	struct experiment *ex = calloc((size_t)(nm * nq), sizeof(*ex));
	char err[256], v[64];
	int rc = 0;

	if (!rows || !ex) {
		fprintf(stderr, "irqlab-sim: out of memory\n");
		rc = 2;
		goto out;
	}
	for (int m = 0; m < nm; m++) {
		for (int q = 0; q < nq; q++, n++) {
			struct experiment *e = &ex[n];
			*e = *base;
			if (modes && (experiment_set(e, "mode.spec", modes[m], err, sizeof(err)) ||
				      experiment_set(e, "experiment.name", modes[m], err,
						 sizeof(err))))
				goto bad;
			if (nqps) {
				snprintf(v, sizeof(v), "%.0f", qpss[q]);
				if (experiment_set(e, "workload.load", "open", err, sizeof(err)) ||
				    experiment_set(e, "workload.qps", v, err, sizeof(err)))
					goto bad;
			}
			if (experiment_finish(e, err, sizeof(err)))
				goto bad;
			if (print) {
				experiment_write(stdout, e);
				continue;
			}
		}
	}
	if (print)
		goto out;
	/* before the runs: a bad --out must not cost them */
	if (out && il_mkdir_p(out)) {
		fprintf(stderr, "irqlab-sim: --out: cannot create %s: %m\n", out);
		rc = 1;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		if (sim_experiment(&ex[i], &rows[i], NULL)) {
			fprintf(stderr, "irqlab-sim: out of memory\n");
			rc = 2;
			goto out;
		}
		if (!json && !csv) {
			if (!i)
				il_result_table_header(stdout);
			il_result_table_row(stdout, &rows[i]);
			fflush(stdout);
		}
	}
	if (json) {
		il_result_json(stdout, rows, n);
	} else if (csv) {
		il_result_csv_header(stdout);
		for (int i = 0; i < n; i++)
			il_result_csv_row(stdout, &rows[i]);
	}
	if (out)
		rc = write_out(out, &ex[0], cmdline, rows, n);
	goto out;
bad:
	fprintf(stderr, "irqlab-sim: %s\n", err);
	rc = 2;
out:
	free(rows);
	free(ex);
	return rc;
}

int main(int argc, char **argv)
{
	enum { O_SET = 256, O_JSON, O_CSV, O_PRINT, O_HELPCFG, O_CAL, O_CALT,
	       O_TOL, O_BENCH, O_CONNS, O_CORES, O_WARM, O_CALCFG };
	static const struct option opts[] = {
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
	struct experiment e;
	char err[256];
	int o, json = 0, csv = 0, print = 0, cal = 0, do_bench = 0;
	double cal_time = 0.05, tol = 10;
	/* options apply in order, after the config file: keep them */
	const char *cfg = NULL, *out = NULL;
	/* the command line, quoted in --out's report.md */
	static char cmdline[1024];
	for (int i = 0; i < argc; i++) {
		size_t l = strlen(cmdline);
		snprintf(cmdline + l, sizeof(cmdline) - l, "%s%s", i ? " " : "", argv[i]);
	}
	/* overrides, kept in order; no heap, so error exits leak nothing */
	static char setbuf[128][320];
	char *sets[128];
	int nsets = 0;
#define ADD_SET(str) do { if (nsets < 128) { \
		snprintf(setbuf[nsets], sizeof(setbuf[0]), "%s", (str)); \
		sets[nsets] = setbuf[nsets]; nsets++; } } while (0)

	/* --mode and --qps lists: one run per (mode, rate) */
	static char modes[16][128];
	int nmodes = 0;
	double qpss[64];
	int nqps = 0;

	experiment_defaults(&e);
	while ((o = getopt_long(argc, argv, "c:m:q:t:s:o:h", opts, NULL)) != -1) {
		char buf[300];
		const char *kv = NULL;

		switch (o) {
		case 'c': cfg = optarg; break;
		case 'm':
			if (nmodes == 16 || strlen(optarg) >= sizeof(modes[0])) {
				fprintf(stderr, "irqlab-sim: --mode: at most 16 modes of "
					"under 128 characters\n");
				return 2;
			}
			snprintf(modes[nmodes++], sizeof(modes[0]), "%s", optarg);
			break;
		case 'q': {
			char list[512], *save = NULL, *tok;
			snprintf(list, sizeof(list), "%s", optarg);
			for (tok = strtok_r(list, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				char *end;
				double v = strtod(tok, &end);
				if (*end || !(v >= 1 && v <= 1e9) || nqps == 64) {
					fprintf(stderr, "irqlab-sim: --qps: '%s' invalid, allowed "
						"1..1e9 requests/s, at most 64 rates\n", tok);
					return 2;
				}
				qpss[nqps++] = v;
			}
			break;
		}
		case O_CONNS: snprintf(buf, sizeof(buf), "workload.conns=%s", optarg); kv = buf; break;
		case O_CORES:
			{
				char b2[64];
				snprintf(b2, sizeof(b2), "nic.queues=%s", optarg);
				ADD_SET(b2);
			}
			snprintf(buf, sizeof(buf), "machine.cores=%s", optarg); kv = buf; break;
		case 't': snprintf(buf, sizeof(buf), "run.time=%s", optarg); kv = buf; break;
		case O_WARM: snprintf(buf, sizeof(buf), "run.warmup=%s", optarg); kv = buf; break;
		case 's': snprintf(buf, sizeof(buf), "run.seed=%s", optarg); kv = buf; break;
		case O_SET: kv = optarg; break;
		case O_JSON: json = 1; break;
		case O_CSV: csv = 1; break;
		case 'o':
			if (!*optarg || strlen(optarg) > 400) {
				fprintf(stderr, "irqlab-sim: --out: a directory name of 1..400 "
					"characters\n");
				return 2;
			}
			out = optarg;
			break;
		case O_PRINT: print = 1; break;
		case O_HELPCFG: experiment_keys_help(stdout); return 0;
		case O_CAL: cal = 1; break;
		case O_CALT: {
			char *end;
			cal_time = strtod(optarg, &end);
			if (*end || !(cal_time >= 0.001 && cal_time <= 100)) {
				fprintf(stderr, "irqlab-sim: --calib-time: '%s' invalid, "
					"allowed 0.001..100 (simulated seconds)\n", optarg);
				return 2;
			}
			break;
		}
		case O_TOL: {
			char *end;
			tol = strtod(optarg, &end);
			if (*end || !(tol > 0 && tol <= 100)) {
				fprintf(stderr, "irqlab-sim: --tolerance: '%s' invalid, "
					"allowed 0..100 (percent)\n", optarg);
				return 2;
			}
			break;
		}
		case O_BENCH: do_bench = 1; break;
		case O_CALCFG: {
			for (int i = 0; i < calib_nrows; i++) {
				if (strcmp(calib_rows[i].name, optarg))
					continue;
				if (calib_experiment(i, &e, 0, err, sizeof(err))) {
					fprintf(stderr, "irqlab-sim: %s\n", err);
					return 2;
				}
				experiment_write(stdout, &e);
				return 0;
			}
			fprintf(stderr, "irqlab-sim: --calib-config: no setup '%s' "
				"(see --calibrate)\n", optarg);
			return 2;
		}
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if (kv)
			ADD_SET(kv);
	}
	if (optind < argc) {
		fprintf(stderr, "irqlab-sim: unexpected argument '%s' (see --help)\n",
			argv[optind]);
		return 2;
	}
	if (do_bench)
		return bench(nmodes ? modes[0] : "suspend");
	for (int i = 0; i < nmodes; i++) {
		char b[160];
		snprintf(b, sizeof(b), "mode.spec=%s", modes[i]);
		if (cal || nmodes == 1)
			ADD_SET(b);	/* applies to every run */
	}
	if (cal) {
		calib_set_overrides(sets, nsets);
		int bad = calib_run(stdout, cal_time, tol, json);
		return bad < 0 ? 2 : bad ? 1 : 0;
	}
	if (cfg && experiment_load(&e, cfg, err, sizeof(err))) {
		fprintf(stderr, "irqlab-sim: %s\n", err);
		return 2;
	}
	for (int i = 0; i < nsets; i++) {
		char *eq = strchr(sets[i], '=');
		int rc = -1;

		if (!eq)
			snprintf(err, sizeof(err), "--set: '%s' is not KEY=VALUE", sets[i]);
		else {
			*eq = '\0';
			rc = experiment_set(&e, sets[i], eq + 1, err, sizeof(err));
		}
		if (rc) {
			fprintf(stderr, "irqlab-sim: %s\n", err);
			return 2;
		}
	}
	return run_all(&e, nmodes > 1 ? modes : NULL, nmodes, qpss, nqps, print,
		       json, csv, out, cmdline);
}
