/* Outputs from a synthetic sweep (no root needed): the terminal table,
 * results.json (valid against docs/result-schema.md), CSV, report.md and
 * the gnuplot PNGs. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../bench/bench.h"
#include "irqlab/report.h"
#include "tap.h"

static int f_begin(void *ctx, int mode, char *err, size_t len)
{
	(void)ctx; (void)mode; (void)err; (void)len;
	return 0;
}

static void f_end(void *ctx, int mode)
{
	(void)ctx; (void)mode;
}

/* Latency grows with load, more steeply for mode 0; suspend busy-polls. */
static int f_run(void *ctx, const struct run_spec *s, struct il_result *r, char *err, size_t len)
{
	(void)ctx; (void)err; (void)len;
	double max = 10000 * (s->mode + 1);
	r->qps = s->target_qps > 0 ? s->target_qps * (0.98 + 0.01 * s->rep) : max + 100 * s->rep;
	r->duration_s = 1;
	r->requests = r->qps;
	r->errors = 0;
	r->p50_us = 50 + s->rep;
	r->p95_us = 80 + 1000 * r->qps / max / (s->mode + 1);
	r->p99_us = 2 * r->p95_us + 10 * s->rep;
	r->cpu_user = 10;
	r->cpu_sys = 20 + 30 * r->qps / max;
	r->cpu_softirq = 5;
	r->cpu_idle = 100 - r->cpu_user - r->cpu_sys - r->cpu_softirq;
	r->busy_polled = s->mode == 1 ? 1000 : 0;
	r->noise_cpu = 0.5;
	return 0;
}

static int png_ok(const char *dir, const char *name)
{
	static const unsigned char sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	unsigned char got[8];
	char path[700];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "rb")))
		return 0;
	ok = fread(got, 1, 8, f) == 8 && !memcmp(got, sig, 8);
	fclose(f);
	return ok;
}

static char *slurp(const char *dir, const char *name)
{
	static char buf[1 << 16];
	char path[700];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (!(f = fopen(path, "r")))
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* One row as a CSV line, to compare rows field by field. */
static void csv_line(char *out, size_t len, const struct il_result *r)
{
	FILE *x = fmemopen(out, len, "w");

	il_result_csv_row(x, r);
	fclose(x);
}

/* results.json back into rows: what `irqlab report` reads. */
static void test_json_roundtrip(const struct sweep *s)
{
	char *buf = NULL, err[256] = "";
	size_t len = 0;
	struct il_result *rows;
	int n = -1, same;
	FILE *f = open_memstream(&buf, &len);

	il_result_json(f, s->rows, s->n);
	fclose(f);
	ok(il_result_parse_json(buf, &rows, &n, err, sizeof(err)) == 0, "parse results.json (%s)", err);
	is_int(n, s->n, "  every row back");
	same = n == s->n;
	for (int i = 0; same && i < n; i++) {
		char a[1024], b[1024];

		csv_line(a, sizeof(a), &rows[i]);
		csv_line(b, sizeof(b), &s->rows[i]);
		same = !strcmp(a, b);
	}
	ok(same, "  the same rows (compared as CSV)");
	ok(n > 0 && isnan(rows[0].ipc) && !strcmp(rows[0].source, "measured"), "  null stays unknown (NAN)");
	free(rows);
	free(buf);
}

/* escapes, a long note, unknown fields ignored, simulated source */
static void test_json_odd_rows(void)
{
	char *buf = NULL, err[256];
	size_t len = 0;
	struct il_result *rows, odd[2];
	int n = -1;
	FILE *f;

	il_result_init(&odd[0]);
	strcpy(odd[0].mode, "it's \"x\"");
	strcpy(odd[0].kind, "open");
	strcpy(odd[0].source, "simulated");
	snprintf(odd[0].note, sizeof(odd[0].note), "a\tb\\c");
	odd[0].target_qps = 1000;
	odd[0].qps = 999.5;
	odd[0].flagged = 1;
	odd[1] = odd[0];
	odd[1].rep = 1;
	f = open_memstream(&buf, &len);
	il_result_json(f, odd, 2);
	fclose(f);
	ok(il_result_parse_json(buf, &rows, &n, err, sizeof(err)) == 0 && n == 2 &&
	   !strcmp(rows[0].mode, odd[0].mode) && !strcmp(rows[1].note, odd[0].note) &&
	   rows[1].rep == 1 && rows[0].qps == 999.5 && rows[0].flagged == 1,
	   "parse: escapes, integers and numbers survive");
	free(rows);
	free(buf);
	ok(il_result_parse_json("[{\"mode\": \"a\", \"future\": 3}]", &rows, &n, err, sizeof(err)) == 0 &&
	   n == 1 && isnan(rows[0].qps), "parse: unknown field ignored, missing number unknown");
	free(rows);
	ok(il_result_parse_json("[]", &rows, &n, err, sizeof(err)) == 0 && n == 0, "parse: empty array");
	free(rows);
}

/* Bad input fails with a reason (the line for a syntax error). */
static void test_json_errors(void)
{
	struct il_result *rows;
	char err[256];
	int n = -1;

	ok(il_result_parse_json("[\n{\"mode\": \"a\",\n \"qps\": x}]", &rows, &n, err, sizeof(err)) == -1 &&
	   strstr(err, "line 3") != NULL, "parse: an error names its line (%s)", err);
	ok(il_result_parse_json("[{\"qps\": \"fast\"}]", &rows, &n, err, sizeof(err)) == -1 &&
	   strstr(err, "string where a number") != NULL, "parse: a string for a number refused");
	ok(il_result_parse_json("{}", &rows, &n, err, sizeof(err)) == -1 && strstr(err, "'['"),
	   "parse: not an array refused");
	ok(il_result_parse_json("[{\"mode\": \"a\"}] x", &rows, &n, err, sizeof(err)) == -1,
	   "parse: trailing text refused");
}

/* Measured and simulated rows of the same mode: two table lines; more
 * than 16 lines are refused by the plots. */
static void test_mixed_sources(void)
{
	struct il_result mix[3], many[17];
	struct il_plot_cfg pc = { .dir = "/nonexistent" };
	struct il_stat st;
	char md[4096], err[256];
	FILE *f;

	for (int i = 0; i < 3; i++) {
		il_result_init(&mix[i]);
		strcpy(mix[i].mode, "base");
		strcpy(mix[i].kind, "open");
		strcpy(mix[i].source, i < 2 ? "measured" : "simulated");
		mix[i].target_qps = 5000;
		mix[i].qps = 4900 + 50 * i;
		mix[i].p99_us = 100 + 10 * i;
	}
	f = fmemopen(md, sizeof(md), "w");
	il_report_md_rows(f, mix, 3, "open");
	fclose(f);
	ok(strstr(md, "| base (measured) | 5000 | 4925 | 4900..4950 | n/a | n/a | 105 |") &&
	   strstr(md, "| base (simulated) | 5000 | 5000 | 5000..5000 | n/a | n/a | 120 |"),
	   "report.md rows: one line per mode and source, medians of each");
	st = il_rows_stat(mix, 3, "base", "measured", "open", 5000, offsetof(struct il_result, p99_us));
	ok(st.n == 2 && st.med == 105 && st.min == 100 && st.max == 110, "il_rows_stat: per source");

	for (int i = 0; i < 17; i++) {
		many[i] = mix[0];
		snprintf(many[i].mode, sizeof(many[i].mode), "m%d", i);
	}
	ok(il_plot(&pc, many, 17, err, sizeof(err)) == -1 && strstr(err, "more than 16"),
	   "plots: more than 16 lines refused with a reason (%s)", err);
}

static void parse_tests(const struct sweep *s)
{
	test_json_roundtrip(s);
	test_json_odd_rows();
	test_json_errors();
	test_mixed_sources();
}

int main(void)
{
	struct bench_cfg c;
	struct sweep s;
	struct world w;
	struct bench_ops ops = { f_begin, f_end, f_run, NULL };
	char err[256] = "", dir[] = "/tmp/irqlab-bench-report.XXXXXX", *t;

	if (!mkdtemp(dir))
		tap_skip_all("cannot create a temporary directory");
	bench_defaults(&c);
	c.nmodes = 2;
	strcpy(c.modes[0], "base");
	strcpy(c.modes[1], "suspend");
	c.reps = 3;
	c.npoints = 3;
	c.fracs[0] = 0.2;
	c.fracs[1] = 0.5;
	c.fracs[2] = 0.8;
	snprintf(c.out_dir, sizeof(c.out_dir), "%s", dir);
	memset(&w, 0, sizeof(w));
	topo_names(&w.topo, 4242);
	snprintf(w.perf_why, sizeof(w.perf_why), "hardware counters not available here (test)");

	ok(sweep_run(&c, &ops, &s, err, sizeof(err)) == 0, "synthetic sweep");
	{
		char buf[16384];
		FILE *f = fmemopen(buf, sizeof(buf), "w");
		report_table(f, &c, &s);
		fclose(f);
		ok(strstr(buf, "base      closed     max   10.1k") != NULL, "table: closed-loop median of base");
		ok(strstr(buf, "suspend   open      2.0k") != NULL, "table: open-loop row at 20%% of 10.1k");
		ok(strstr(buf, "spread  2.0%  x1.00") != NULL, "table: spread and ratio");
	}
	ok(report_files(&c, &s, &w, err, sizeof(err)) == 0, "report files written");
	t = slurp(dir, "results.csv");
	ok(t && strncmp(t, "mode,kind,source,server,rep,", 28) == 0, "results.csv header");
	int lines = 0;
	for (char *p = t; p && *p; p++)
		lines += *p == '\n';
	ok(lines == 1 + 2 * 3 * 4, "results.csv: a line per run (%d)", lines);
	t = slurp(dir, "report.md");
	ok(t && strstr(t, "| suspend | max | 20100 |") != NULL, "report.md: closed-loop table");
	ok(t && strstr(t, "hardware counters not available here") != NULL, "report.md: why no IPC");
	ok(t && strstr(t, "![p99 latency](latency-p99.png)") != NULL, "report.md: plots");
	t = slurp(dir, "summary.csv");
	ok(t && strstr(t, "base,open,2020,3,") != NULL, "summary.csv: n per point");

	const char *src = getenv("IRQLAB_SRC");
	char cmd[1024];
	if (src && access("/usr/bin/perl", X_OK) == 0) {
		snprintf(cmd, sizeof(cmd), "perl %s/bench/schema-check.pl %s/docs/result-schema.md %s/results.json >/dev/null",
			 src, src, dir);
		ok(system(cmd) == 0, "results.json valid against docs/result-schema.md");
	} else {
		tap_skip("needs perl and IRQLAB_SRC (run through make check)");
	}
	if (system("command -v gnuplot >/dev/null 2>&1") == 0) {
		ok(plot_all(&c, &s, err, sizeof(err)) == 3, "gnuplot ran (%s)", err);
		ok(png_ok(dir, "latency-p99.png") && png_ok(dir, "latency-p95.png") && png_ok(dir, "cpu.png"),
		   "three valid PNGs");
		t = slurp(dir, "plot-0.dat");
		ok(t && strstr(t, "\n2020 1999.8 1979.6 2020.0 ") != NULL, "plot data: median, min, max QPS");
	} else {
		tap_skip("gnuplot not installed");
	}
	parse_tests(&s);
	sweep_free(&s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		tap_diag("could not remove %s", dir);
	return tap_done();
}
