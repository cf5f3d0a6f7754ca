/* Plots through gnuplot (pngcairo): p95 and p99 latency against achieved
 * QPS and server CPU against achieved QPS, one line per mode, error bars
 * from min..max over repetitions. The data files and the script stay in the
 * output directory so a user can restyle and re-run them. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

#define OFF(f) offsetof(struct il_result, f)

static int write_dat(const struct bench_cfg *c, const struct sweep *s, int m)
{
	char path[700];
	FILE *f;
	int rows = 0;

	snprintf(path, sizeof(path), "%s/plot-%d.dat", c->out_dir, m);
	if (!(f = fopen(path, "w")))
		return -1;
	fprintf(f, "# %s: target qps_med qps_min qps_max p95 (med min max) p99 (med min max) "
		   "busy%% (med min max)\n", bench_mode_label(c, m));
	for (int p = 0; p < s->npoints; p++) {
		const char *mode = bench_mode_label(c, m);
		double t = s->points[p];
		struct stat3 q = sweep_stat(s, mode, "open", t, OFF(qps));
		struct stat3 p95 = sweep_stat(s, mode, "open", t, OFF(p95_us));
		struct stat3 p99 = sweep_stat(s, mode, "open", t, OFF(p99_us));
		struct stat3 idle = sweep_stat(s, mode, "open", t, OFF(cpu_idle));

		if (!q.n || !p99.n)
			continue;
		fprintf(f, "%.0f %.1f %.1f %.1f %.2f %.2f %.2f %.2f %.2f %.2f %.2f %.2f %.2f\n",
			t, q.med, q.min, q.max, p95.med, p95.min, p95.max, p99.med, p99.min, p99.max,
			100 - idle.med, 100 - idle.max, 100 - idle.min);
		rows++;
	}
	fclose(f);
	return rows;
}

static void plot_cmd(FILE *f, const struct bench_cfg *c, const int *ok, const char *png,
		     const char *ylabel, const char *cols, int logy)
{
	int first = 1;

	fprintf(f, "set output '%s/%s'\n", c->out_dir, png);
	fprintf(f, "set ylabel '%s'\n", ylabel);
	fprintf(f, logy ? "set logscale y\n" : "unset logscale y\n");
	fprintf(f, "plot ");
	for (int m = 0; m < c->nmodes; m++) {
		if (!ok[m])
			continue;
		fprintf(f, "%s'%s/plot-%d.dat' using %s with xyerrorlines lt %d lw 2 ps 0.9 "
			   "title '%s'", first ? "" : ", \\\n     ", c->out_dir, m, cols, m + 1,
			bench_mode_label(c, m));
		first = 0;
	}
	fprintf(f, "\n");
}

int plot_all(const struct bench_cfg *c, const struct sweep *s, char *err, size_t len)
{
	char path[700], out[512];
	int ok[BENCH_MAX_MODES], any = 0;
	FILE *f;

	for (int m = 0; m < c->nmodes; m++)
		any += (ok[m] = write_dat(c, s, m) > 0);
	if (!any) {
		snprintf(err, len, "no open-loop points to plot");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/plots.gp", c->out_dir);
	if (!(f = fopen(path, "w"))) {
		snprintf(err, len, "cannot write %s", path);
		return -1;
	}
	fprintf(f, "# gnuplot %s/plots.gp  (written by irqlab bench)\n", c->out_dir);
	/* gnuplot-nox has pngcairo; builds without cairo only have png (libgd) */
	char *probe[] = { "gnuplot", "-e", "set terminal pngcairo", NULL };
	if (run_cmd(NULL, probe, out, sizeof(out)) == 0 && !strstr(out, "unknown"))
		fprintf(f, "set terminal pngcairo size 900,600 noenhanced font ',11'\n");
	else
		fprintf(f, "set terminal png size 900,600 noenhanced\n");
	fprintf(f, "set grid\nset key top left box opaque\n");
	/* Okabe-Ito colours: distinct for colour-blind readers, dark enough
	 * on white (gnuplot's default yellow is not) */
	static const char *col[] = { "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00",
				      "#56B4E9", "#000000", "#F0E442" };
	for (int i = 0; i < 8; i++)
		fprintf(f, "set linetype %d lc rgb '%s' pt %d\n", i + 1, col[i], 5 + 2 * (i % 4));
	fprintf(f, "set xlabel 'achieved QPS (median; bars: min..max of %d runs)'\n", c->reps);
	fprintf(f, "set title 'p99 latency against load (%s, veth, threaded NAPI: %s)'\n",
		c->server, c->napi_thread);
	plot_cmd(f, c, ok, "latency-p99.png", "p99 latency (us, log scale)", "2:8:3:4:9:10", 1);
	fprintf(f, "set title 'p95 latency against load (%s, veth, threaded NAPI: %s)'\n",
		c->server, c->napi_thread);
	plot_cmd(f, c, ok, "latency-p95.png", "p95 latency (us, log scale)", "2:5:3:4:6:7", 1);
	fprintf(f, "set title 'server CPU busy against load (user+sys+softirq)'\n");
	fprintf(f, "set yrange [0:105]\n");
	plot_cmd(f, c, ok, "cpu.png", "server CPU busy (% of one core)", "2:11:3:4:12:13", 0);
	fclose(f);

	char *argv[] = { "gnuplot", path, NULL };
	int st = run_cmd(NULL, argv, out, sizeof(out));
	if (st < 0) {
		snprintf(err, len, "gnuplot not found (install gnuplot-nox); data and script are in %s",
			 c->out_dir);
		return -2;
	}
	if (st != 0) {
		out[strcspn(out, "\n")] = 0;
		snprintf(err, len, "gnuplot failed (exit %d): %s", st, out);
		return -1;
	}
	return 3;
}
