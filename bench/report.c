/* What a user reads: the terminal table, results.json/csv, summary.csv and
 * report.md with the plots; and `irqlab report`, the same plots and report
 * from results.json files (measured, simulated, or both to compare). */
#define _GNU_SOURCE
#include <getopt.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "irqlab/mode.h"
#include "irqlab/report.h"
#include "bench.h"

#define OFF(f) offsetof(struct il_result, f)

static void spread_line(FILE *f, const struct bench_cfg *c, const struct sweep *s)
{
	struct il_stat base = sweep_stat(s, bench_mode_label(c, 0), "closed", 0, OFF(qps));

	fprintf(f, "closed-loop QPS, median [min..max] of %d and ratio to %s:\n", c->reps,
		bench_mode_label(c, 0));
	for (int m = 0; m < c->nmodes; m++) {
		struct il_stat q = sweep_stat(s, bench_mode_label(c, m), "closed", 0, OFF(qps));
		/* spread: (max - min) / median, the run-to-run noise of this point */
		fprintf(f, "  %-10s %9.0f [%.0f..%.0f] spread %4.1f%%  x%.2f\n", bench_mode_label(c, m),
			q.med, q.min, q.max, 100 * (q.max - q.min) / q.med, q.med / base.med);
	}
}

void report_table(FILE *f, const struct bench_cfg *c, const struct sweep *s)
{
	struct il_result r;

	fprintf(f, "\nClosed loop: maximum throughput (medians of %d runs)\n", c->reps);
	il_result_table_header(f);
	for (int m = 0; m < c->nmodes; m++)
		if (!sweep_median_row(s, bench_mode_label(c, m), "closed", 0, &r))
			il_result_table_row(f, &r);
	spread_line(f, c, s);
	if (s->npoints) {
		fprintf(f, "\nOpen loop: targets at fractions of the smallest maximum (%.0f QPS)\n",
			s->max_qps);
		il_result_table_header(f);
		for (int m = 0; m < c->nmodes; m++)
			for (int p = 0; p < s->npoints; p++)
				if (!sweep_median_row(s, bench_mode_label(c, m), "open", s->points[p], &r))
					il_result_table_row(f, &r);
	}
	fprintf(f, "(* = a repetition was flagged: noise, missed target or errors; see results.csv)\n");
}

static void md_rows(FILE *f, const struct sweep *s, const char *kind)
{
	il_report_md_rows(f, s->rows, s->n, kind);
}

static FILE *open_out(const struct bench_cfg *c, const char *name, char *err, size_t len)
{
	char path[700];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", c->out_dir, name);
	if (!(f = fopen(path, "w")))
		snprintf(err, len, "cannot write %s: %m", path);
	return f;
}

static void md_report(FILE *f, const struct bench_cfg *c, const struct sweep *s,
		      const struct world *w)
{
	struct utsname u;
	time_t now = time(NULL);
	char when[64];
	int flagged = 0;

	uname(&u);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
	fprintf(f, "# irqlab bench report\n\n");
	fprintf(f, "%s, Linux %s (%s), %s.\n\n", when, u.release, u.machine,
		c->quick ? "quick run (`make demo` / `--quick`): short runs, few repetitions; "
			   "read it as a demonstration, not a measurement to quote" :
			   "full run");
	fprintf(f, "## Setup\n\n");
	fprintf(f, "- World: two network namespaces (`%s`, `%s`) joined by a veth pair "
		   "(`%s` / `%s`), GRO on (each veth gets a NAPI), TSO/GSO off (TCP takes "
		   "the NAPI path), %s <-> %s.\n",
		w->topo.ns_srv, w->topo.ns_cli, w->topo.dev_srv, w->topo.dev_cli,
		w->topo.srv_ip, w->topo.cli_ip);
	fprintf(f, "- Server: %s, one thread, pinned to CPU %d. Load generator: irqlab-load, "
		   "pinned to CPU %d, %d connections, depth %d.\n",
		strcmp(c->server, "kv") ? "Debian memcached under libirqlab-preload.so" : "irqlab-kv",
		c->srv_cpu, c->cli_cpu, c->connections, c->depth);
	fprintf(f, "- Threaded NAPI: %s%s.\n", c->napi_thread,
		!strcmp(c->napi_thread, "aligned") ? " (kthread on the server CPU)" :
		!strcmp(c->napi_thread, "separate") ? " (kthread on the generator CPU)" :
		" (receive processing runs in softirq on the sending CPU, see below)");
	fprintf(f, "- Runs: %g s warm-up + %g s measured, %d repetition(s) per point; "
		   "open-loop targets at", c->warmup, c->duration, c->reps);
	for (int i = 0; i < c->npoints; i++)
		fprintf(f, " %.0f%%", 100 * c->fracs[i]);
	fprintf(f, " of the smallest closed-loop median (%.0f QPS).\n", s->max_qps);
	fprintf(f, "- Modes:\n");
	for (int m = 0; m < c->nmodes; m++) {
		struct il_mode md;
		char err[160], buf[256];
		if (il_mode_parse(c->modes[m], &md, err, sizeof(err)) == 0) {
			il_mode_format(&md, buf, sizeof(buf));
			fprintf(f, "  - `%s`: %s\n", c->modes[m], buf);
		}
	}
	fprintf(f, "- Hardware counters: %s.\n\n", w->perf_ok ? "cycles and instructions of the server CPU"
		: w->perf_why);

	fprintf(f, "## Closed loop: maximum throughput\n\n");
	md_rows(f, s, "closed");
	fprintf(f, "\n");
	spread_line(f, c, s);
	fprintf(f, "\n## Open loop: latency and CPU against load\n\n");
	md_rows(f, s, "open");
	fprintf(f, "\n![p99 latency](latency-p99.png)\n\n![p95 latency](latency-p95.png)\n\n"
		   "![server CPU](cpu.png)\n\n");
	for (int i = 0; i < s->n; i++)
		flagged += s->rows[i].flagged;
	fprintf(f, "## Reading it\n\n");
	fprintf(f, "- Values are medians over repetitions; the plots' error bars span min..max. "
		   "%d of %d runs were flagged (noise from other processes, a missed open-loop "
		   "target, or errors); the flags and reasons are in results.csv (`flagged`, `note`).\n",
		flagged, s->n);
	fprintf(f, "- Server CPU split: user = server utime / wall, sys = server stime / wall, "
		   "softirq = the server CPU's softirq time (/proc/stat)%s / wall, idle = 100 - the "
		   "rest (/proc/stat's idle column under-reports in VMs). See docs/bench.md.\n",
		!strcmp(c->napi_thread, "aligned") ? " + the NAPI kthread's time" : "");
	fprintf(f, "- veth has no hardware interrupts: `IRQ/s` counts timer and IPI interrupts only. "
		   "Without threaded NAPI, the server's receive processing runs in softirq on the "
		   "*sender's* CPU (the generator's), so the server CPU's NET_RX count stays low in "
		   "base mode and the generator's is high; busy polling moves that work onto the "
		   "server CPU (busy-polled packets > 0). These runs show each mechanism at work, "
		   "not the throughput gains a NIC with real interrupts would show.\n");
	fprintf(f, "- Interrupt and softirq counts are per CPU, not per namespace: other work on "
		   "the machine (noise %%, the last column) adds to them. Busy-polled packets are "
		   "counted in the server's namespace only.\n");
	fprintf(f, "- The machine may be shared and virtualized: compare modes within this run "
		   "(ratios), not absolute numbers across runs.\n");
}

static int write_summary(FILE *f, const struct bench_cfg *c, const struct sweep *s)
{
	static const struct { const char *name; size_t off; } cols[] = {
		{ "qps", OFF(qps) }, { "p50_us", OFF(p50_us) }, { "p95_us", OFF(p95_us) },
		{ "p99_us", OFF(p99_us) }, { "cpu_idle", OFF(cpu_idle) },
		{ "softirq_per_s", OFF(softirq_per_s) }, { "busy_polled", OFF(busy_polled) },
	};
	fprintf(f, "mode,kind,target_qps,n");
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		fprintf(f, ",%s_med,%s_min,%s_max", cols[i].name, cols[i].name, cols[i].name);
	fputc('\n', f);
	for (int m = 0; m < c->nmodes; m++) {
		for (int p = -1; p < s->npoints; p++) {
			double t = p < 0 ? 0 : s->points[p];
			const char *kind = p < 0 ? "closed" : "open";
			struct il_stat q = sweep_stat(s, bench_mode_label(c, m), kind, t, OFF(qps));
			if (!q.n)
				continue;
			fprintf(f, "%s,%s,%.0f,%d", bench_mode_label(c, m), kind, t, q.n);
			for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
				struct il_stat v = sweep_stat(s, bench_mode_label(c, m), kind, t, cols[i].off);
				if (v.n)
					fprintf(f, ",%.6g,%.6g,%.6g", v.med, v.min, v.max);
				else
					fprintf(f, ",,,");
			}
			fputc('\n', f);
		}
	}
	return 0;
}

int report_files(const struct bench_cfg *c, const struct sweep *s,
		 const struct world *w, char *err, size_t len)
{
	FILE *f;

	if (!(f = open_out(c, "results.json", err, len)))
		return -1;
	il_result_json(f, s->rows, s->n);
	fclose(f);
	if (!(f = open_out(c, "results.csv", err, len)))
		return -1;
	il_result_csv_header(f);
	for (int i = 0; i < s->n; i++)
		il_result_csv_row(f, &s->rows[i]);
	fclose(f);
	if (!(f = open_out(c, "summary.csv", err, len)))
		return -1;
	write_summary(f, c, s);
	fclose(f);
	if (!(f = open_out(c, "report.md", err, len)))
		return -1;
	md_report(f, c, s, w);
	fclose(f);
	return 0;
}

static void report_usage(FILE *f)
{
	fprintf(f,
"usage: irqlab report [-o DIR] RESULTS.json [RESULTS.json...]\n"
"Reads results.json files of `irqlab bench` (measured) and/or irqlab-sim --out\n"
"(simulated) and writes, for all their rows together, the same plots and\n"
"report.md as `irqlab bench`: one line per mode and source, so a measured and\n"
"a simulated sweep can be compared on one plot.\n"
"  -o, --out DIR   output directory (default: irqlab-report)\n"
"  -h, --help      this help\n");
}

/* One file's rows appended to *all; -1 with a message on stderr. */
static int read_results(const char *path, struct il_result **all, int *n)
{
	char *text = NULL, err[256];
	size_t len = 0, cap = 0, got;
	struct il_result *rows, *t;
	int k;
	FILE *f = fopen(path, "r");

	if (!f) {
		fprintf(stderr, "irqlab report: cannot read %s: %m\n", path);
		return -1;
	}
	do {
		if (len + 4096 + 1 > cap) {
			char *p = realloc(text, cap = 2 * cap + 8192);
			if (!p) {
				free(text);
				fclose(f);
				fprintf(stderr, "irqlab report: out of memory\n");
				return -1;
			}
			text = p;
		}
		len += got = fread(text + len, 1, 4096, f);
	} while (got);
	fclose(f);
	text[len] = 0;
	if (il_result_parse_json(text, &rows, &k, err, sizeof(err))) {
		free(text);
		fprintf(stderr, "irqlab report: %s: %s (expected a results.json array, "
			"docs/result-schema.md)\n", path, err);
		return -1;
	}
	free(text);
	for (int i = 0; i < k; i++) {
		if ((strcmp(rows[i].kind, "open") && strcmp(rows[i].kind, "closed")) ||
		    !rows[i].mode[0] || !rows[i].source[0]) {
			fprintf(stderr, "irqlab report: %s: row %d lacks mode, source or "
				"kind (open or closed)\n", path, i + 1);
			free(rows);
			return -1;
		}
	}
	if (!(t = realloc(*all, (size_t)(*n + k + 1) * sizeof(*t)))) {
		free(rows);
		fprintf(stderr, "irqlab report: out of memory\n");
		return -1;
	}
	memcpy(t + *n, rows, (size_t)k * sizeof(*t));
	*all = t;
	*n += k;
	free(rows);
	return 0;
}

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, 0, 'o' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *out = "irqlab-report";
	struct il_result *rows = NULL;
	char intro[2048] = "Rows from", err[512];
	int o, n = 0, meas = 0, sim = 0;

	optind = 1;
	while ((o = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (o) {
		case 'o':
			if (!*optarg || strlen(optarg) > 400) {
				fprintf(stderr, "irqlab report: --out: a directory name of "
					"1..400 characters\n");
				return 2;
			}
			out = optarg;
			break;
		case 'h': report_usage(stdout); return 0;
		default: report_usage(stderr); return 2;
		}
	}
	if (optind == argc) {
		fprintf(stderr, "irqlab report: no RESULTS.json given (see --help)\n");
		return 2;
	}
	for (int i = optind; i < argc; i++) {
		int before = n;
		size_t l = strlen(intro);

		if (read_results(argv[i], &rows, &n)) {
			free(rows);
			return 1;
		}
		snprintf(intro + l, sizeof(intro) - l, "%s `%s` (%d rows)", i > optind ? "," : "",
			 argv[i], n - before);
	}
	if (!n) {
		fprintf(stderr, "irqlab report: the files hold no rows\n");
		free(rows);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		meas += !strcmp(rows[i].source, "measured");
		sim += !strcmp(rows[i].source, "simulated");
	}
	strncat(intro, ".", sizeof(intro) - strlen(intro) - 1);
	struct il_plot_cfg p = {
		.dir = out, .by = "irqlab report",
		.context = meas && sim ? "measured and simulated" : sim ? "simulated" : "measured",
		.cpu_title = meas && sim ? "server CPU busy against load, measured and simulated" :
			     sim ? "simulated server CPU busy against load (user+sys+softirq)" :
			     "server CPU busy against load (user+sys+softirq)",
	};
	int np = il_report_dir(&p, "irqlab report", intro, rows, n, err, sizeof(err));
	free(rows);
	if (np < 0) {
		fprintf(stderr, "irqlab report: %s\n", err);
		return 1;
	}
	if (!np)
		fprintf(stderr, "irqlab report: %s\n", err);
	printf("irqlab report: %d rows; wrote %s/results.json, results.csv, report.md%s\n", n, out,
	       np ? ", latency-p99.png, latency-p95.png, cpu.png" : "");
	return 0;
}
