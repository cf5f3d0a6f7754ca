/* What a user reads of a bench run: the terminal table, results.json/csv,
 * summary.csv, and report.md through the library's one writer (lib/report.c,
 * which `irqlab report` and irqlab-sim use too). */
#define _GNU_SOURCE
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
#include "multi.h"

#define OFF(f) offsetof(struct il_result, f)

static void spread_line(FILE *f, const struct bench_cfg *c, const struct sweep *s)
{
	struct il_stat base = sweep_stat(s, bench_mode_label(c, 0), "closed", 0, OFF(qps));
	int noisy = 0;

	fprintf(f, "closed-loop QPS, median [min..max] of %d and ratio to %s:\n", c->reps,
		bench_mode_label(c, 0));
	for (int m = 0; m < c->nmodes; m++) {
		struct il_stat q = sweep_stat(s, bench_mode_label(c, m), "closed", 0, OFF(qps));
		struct il_result r;
		int flagged = !sweep_median_row(s, bench_mode_label(c, m), "closed", 0, &r) &&
			      r.flagged;

		noisy |= flagged;
		/* spread: (max - min) / median, the run-to-run noise of this point */
		fprintf(f, "  %-10s %9.0f [%.0f..%.0f] spread %4.1f%%  x%.2f%s\n",
			bench_mode_label(c, m), q.med, q.min, q.max, 100 * (q.max - q.min) / q.med,
			q.med / base.med, flagged ? "  *" : "");
	}
	if (noisy)	/* a ranking from such a row may say more about the machine */
		fprintf(f, "  * a run was flagged (e.g. others took more than --noise-limit %% of a"
			" core); results.json's note says why\n");
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
		if (c->nrates)
			fprintf(f, "\nOpen loop: targets from --rates\n");
		else
			fprintf(f, "\nOpen loop: targets at fractions of the smallest maximum "
				"(%.0f QPS)\n", s->max_qps);
		il_result_table_header(f);
		for (int m = 0; m < c->nmodes; m++)
			for (int p = 0; p < s->npoints; p++)
				if (!sweep_median_row(s, bench_mode_label(c, m), "open", s->points[p], &r))
					il_result_table_row(f, &r);
	}
	fprintf(f, "(* = a repetition was flagged: noise, missed target or errors; see results.csv)\n");
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

/* report.md's "Setup": the world, the server, the runs, the modes. */
static void md_setup(FILE *f, const struct bench_cfg *c, const struct sweep *s,
		     const struct world *w)
{
	if (c->server_host[0]) {
		multi_md_setup(f, c);	/* bench/multi.c */
		goto runs;
	}
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
runs:
	fprintf(f, "- Runs: %g s warm-up + %g s measured, %d repetition(s) per point; "
		   "open-loop targets at", c->warmup, c->duration, c->reps);
	for (int i = 0; i < (c->nrates ? 0 : c->npoints); i++)
		fprintf(f, " %.0f%%", 100 * c->fracs[i]);
	for (int i = 0; i < c->nrates; i++)
		fprintf(f, "%s %.0f", i ? "," : "", c->rates[i]);
	if (c->nrates)
		fprintf(f, " QPS (--rates; the smallest closed-loop median was %.0f QPS).\n",
			s->max_qps);
	else
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
	fprintf(f, "- Hardware counters: %s.\n", c->server_host[0] ? multi_md_perf() : w->perf_ok ?
		"cycles and instructions of the server CPU" : w->perf_why);
}

/* report.md's bench-specific "Reading it" bullets. */
static void md_reading(FILE *f, const struct bench_cfg *c)
{
	if (c->server_host[0]) {
		multi_md_reading(f, c);	/* bench/multi.c */
		return;
	}
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

/* report.md through the library's one writer (irqlab/report.h). */
static int md_report(const struct bench_cfg *c, const struct sweep *s, const struct world *w,
		     char *err, size_t len)
{
	struct utsname u;
	time_t now = time(NULL);
	char when[64], path[700], *intro = NULL, *setup = NULL, *reading = NULL;
	size_t n1, n2, n3;
	FILE *fi = open_memstream(&intro, &n1), *fs = open_memstream(&setup, &n2),
	     *fr = open_memstream(&reading, &n3);
	int rc = -1;

	if (fi && fs && fr) {
		uname(&u);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&now));
		fprintf(fi, "%s, Linux %s (%s), %s.", when, u.release, u.machine,
			c->quick ? "quick run (`make demo` / `--quick`): short runs, few repetitions; "
				   "read it as a demonstration, not a measurement to quote" : "full run");
		md_setup(fs, c, s, w);
		md_reading(fr, c);
	}
	if (fi)
		fclose(fi);
	if (fs)
		fclose(fs);
	if (fr)
		fclose(fr);
	if (intro && setup && reading) {
		struct il_report_doc d = { "irqlab bench report", intro, setup, reading,
					   s->npoints > 0 && !c->no_plots };
		snprintf(path, sizeof(path), "%s/report.md", c->out_dir);
		rc = il_report_md(path, &d, s->rows, s->n, err, len);
	} else {
		snprintf(err, len, "out of memory");
	}
	free(intro);
	free(setup);
	free(reading);
	return rc;
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
	return md_report(c, s, w, err, len);
}
