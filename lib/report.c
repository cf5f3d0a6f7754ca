/* Plots (gnuplot) and report.md from result rows, shared by irqlab bench,
 * irqlab-sim --out and `irqlab report`. The data files and the script stay
 * in the output directory so a user can restyle and re-run them. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "irqlab/report.h"

#define OFF(f) offsetof(struct il_result, f)
#define MAX_SERIES 16
#define MAX_POINTS 64

static int match(const struct il_result *r, const char *mode, const char *source,
		 const char *kind, double target)
{
	return !strcmp(r->mode, mode) && !strcmp(r->source, source) &&
	       !strcmp(r->kind, kind) && fabs(r->target_qps - target) < 0.5;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct il_stat il_rows_stat(const struct il_result *rows, int n, const char *mode,
			    const char *source, const char *kind, double target, size_t off)
{
	struct il_stat st = { NAN, NAN, NAN, 0 };
	double *v = malloc(sizeof(double) * (size_t)(n + 1));

	if (!v)
		return st;
	for (int i = 0; i < n; i++) {
		double x = *(const double *)((const char *)&rows[i] + off);
		if (match(&rows[i], mode, source, kind, target) && isfinite(x))
			v[st.n++] = x;
	}
	if (st.n) {
		qsort(v, (size_t)st.n, sizeof(double), cmp_d);
		st.min = v[0];
		st.max = v[st.n - 1];
		st.med = st.n % 2 ? v[st.n / 2] : (v[st.n / 2 - 1] + v[st.n / 2]) / 2;
	}
	free(v);
	return st;
}

static const size_t num_fields[] = {
	OFF(qps), OFF(duration_s), OFF(requests), OFF(errors), OFF(p50_us), OFF(p95_us),
	OFF(p99_us), OFF(cpu_user), OFF(cpu_sys), OFF(cpu_softirq), OFF(cpu_idle),
	OFF(irq_per_s), OFF(softirq_per_s), OFF(gen_irq_per_s), OFF(gen_softirq_per_s),
	OFF(cs_per_s), OFF(busy_polled), OFF(cycles), OFF(instructions), OFF(ipc), OFF(cpq),
	OFF(ipq), OFF(gen_cpu), OFF(noise_cpu),
};

int il_rows_median(const struct il_result *rows, int n, const char *mode, const char *source,
		   const char *kind, double target, struct il_result *out)
{
	int found = 0;

	il_result_init(out);
	for (int i = 0; i < n; i++) {
		if (!match(&rows[i], mode, source, kind, target))
			continue;
		if (!found++) {
			*out = rows[i];
			out->note[0] = 0;
			out->flagged = 0;
		}
		out->flagged |= rows[i].flagged;
	}
	if (!found)
		return -1;
	out->rep = found;
	for (size_t i = 0; i < sizeof(num_fields) / sizeof(num_fields[0]); i++)
		*(double *)((char *)out + num_fields[i]) =
			il_rows_stat(rows, n, mode, source, kind, target, num_fields[i]).med;
	return 0;
}

/* The series in order of first appearance, so bench's modes keep their
 * order and colours; a mode keeps its colour across sources, and a second
 * source is drawn dashed. Returns -1 when there are more than MAX_SERIES. */
struct series {
	const char *mode, *source;
	int colour, dash;
	double t[MAX_POINTS];	/* open-loop targets, ascending */
	int nt;
};

static int find_series(const struct il_result *rows, int n, struct series *s, int *nsrc)
{
	const char *modes[MAX_SERIES], *srcs[MAX_SERIES];
	int ns = 0, nm = 0;

	*nsrc = 0;
	for (int i = 0; i < n; i++) {
		const struct il_result *r = &rows[i];
		int k, m, src;

		for (k = 0; k < ns; k++)
			if (!strcmp(s[k].mode, r->mode) && !strcmp(s[k].source, r->source))
				break;
		if (k == MAX_SERIES)
			return -1;
		if (k == ns) {
			for (m = 0; m < nm && strcmp(modes[m], r->mode); m++)
				;
			if (m == nm)
				modes[nm++] = r->mode;
			for (src = 0; src < *nsrc && strcmp(srcs[src], r->source); src++)
				;
			if (src == *nsrc)
				srcs[(*nsrc)++] = r->source;
			s[ns] = (struct series){ r->mode, r->source, m, src, { 0 }, 0 };
			ns++;
		}
		if (strcmp(r->kind, "open"))
			continue;
		int j;
		for (j = 0; j < s[k].nt && fabs(s[k].t[j] - r->target_qps) >= 0.5; j++)
			;
		if (j == s[k].nt && s[k].nt < MAX_POINTS)
			s[k].t[s[k].nt++] = r->target_qps;
	}
	for (int k = 0; k < ns; k++)
		qsort(s[k].t, (size_t)s[k].nt, sizeof(double), cmp_d);
	return ns;
}

static void label(char *buf, size_t len, const struct series *s, int nsrc)
{
	if (nsrc > 1)
		snprintf(buf, len, "%s (%s)", s->mode, s->source);
	else
		snprintf(buf, len, "%s", s->mode);
}

/* Returns the number of points written, -1 if the file cannot be made;
 * reps[0..1] span the fewest and most repetitions seen at one point. */
static int write_dat(const char *dir, int k, const struct series *s, const char *lab,
		     const struct il_result *rows, int n, int *reps)
{
	char path[700];
	FILE *f;
	int pts = 0;

	snprintf(path, sizeof(path), "%s/plot-%d.dat", dir, k);
	if (!(f = fopen(path, "w")))
		return -1;
	fprintf(f, "# %s: target qps_med qps_min qps_max p95 (med min max) p99 (med min max) "
		   "busy%% (med min max)\n", lab);
	for (int p = 0; p < s->nt; p++) {
		double t = s->t[p];
		struct il_stat q = il_rows_stat(rows, n, s->mode, s->source, "open", t, OFF(qps));
		struct il_stat p95 = il_rows_stat(rows, n, s->mode, s->source, "open", t, OFF(p95_us));
		struct il_stat p99 = il_rows_stat(rows, n, s->mode, s->source, "open", t, OFF(p99_us));
		struct il_stat idle = il_rows_stat(rows, n, s->mode, s->source, "open", t, OFF(cpu_idle));

		if (!q.n || !p99.n)
			continue;
		fprintf(f, "%.0f %.1f %.1f %.1f %.2f %.2f %.2f %.2f %.2f %.2f %.2f %.2f %.2f\n",
			t, q.med, q.min, q.max, p95.med, p95.min, p95.max, p99.med, p99.min, p99.max,
			100 - idle.med, 100 - idle.max, 100 - idle.min);
		if (!reps[0] || q.n < reps[0])
			reps[0] = q.n;
		if (q.n > reps[1])
			reps[1] = q.n;
		pts++;
	}
	fclose(f);
	return pts;
}

/* A gnuplot single-quoted string: a quote inside is doubled. Labels come
 * from results files, which a user may have written. */
static void gp_str(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', f);
		if (*s != '\n')
			fputc(*s, f);
	}
	fputc('\'', f);
}

static void gp_title(FILE *f, const char *title)
{
	fprintf(f, "set title ");
	gp_str(f, title);
	fputc('\n', f);
}

static void plot_cmd(FILE *f, const char *dir, const struct series *s, const int *ok, int ns,
		     int nsrc, const char *png, const char *ylabel, const char *cols, int logy)
{
	int first = 1;
	char lab[96], path[700];

	snprintf(path, sizeof(path), "%s/%s", dir, png);
	fprintf(f, "set output ");
	gp_str(f, path);
	fprintf(f, "\nset ylabel ");
	gp_str(f, ylabel);
	fprintf(f, logy ? "\nset logscale y\n" : "\nunset logscale y\n");
	fprintf(f, "plot ");
	for (int k = 0; k < ns; k++) {
		if (!ok[k])
			continue;
		label(lab, sizeof(lab), &s[k], nsrc);
		snprintf(path, sizeof(path), "%s/plot-%d.dat", dir, k);
		fprintf(f, "%s", first ? "" : ", \\\n     ");
		gp_str(f, path);
		fprintf(f, " using %s with xyerrorlines lt %d", cols, s[k].colour % 8 + 1);
		if (s[k].dash)
			fprintf(f, " dt %d", s[k].dash + 1);
		fprintf(f, " lw 2 ps 0.9 title ");
		gp_str(f, lab);
		first = 0;
	}
	fprintf(f, "\n");
}

/* Runs argv (searched in PATH) with stdout and stderr into out; returns the
 * exit status, or -1 when the program could not be started. */
static int run(char *const argv[], char *out, size_t len)
{
	int fd[2], st;
	size_t got = 0;
	ssize_t r;
	pid_t pid;

	if (pipe(fd))
		return -1;
	if ((pid = fork()) < 0) {
		close(fd[0]);
		close(fd[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(fd[1], 1);
		dup2(fd[1], 2);
		close(fd[0]);
		close(fd[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fd[1]);
	for (;;) {
		char sink[256];
		r = got + 1 < len ? read(fd[0], out + got, len - 1 - got) : read(fd[0], sink, sizeof(sink));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (got + 1 < len)
			got += (size_t)r;
	}
	close(fd[0]);
	if (len)
		out[got] = 0;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st) == 127 ? -1 : WEXITSTATUS(st);
}

static void script_head(FILE *f, const struct il_plot_cfg *p, const int *reps, int nsrc)
{
	char out[512];
	/* Okabe-Ito colours: distinct for colour-blind readers, dark enough
	 * on white (gnuplot's default yellow is not) */
	static const char *col[] = { "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00",
				      "#56B4E9", "#000000", "#F0E442" };
	char *probe[] = { "gnuplot", "-e", "set terminal pngcairo", NULL };

	fprintf(f, "# gnuplot %s/plots.gp  (written by %s)\n", p->dir, p->by ? p->by : "irqlab");
	/* gnuplot-nox has pngcairo; builds without cairo only have png (libgd) */
	if (run(probe, out, sizeof(out)) == 0 && !strstr(out, "unknown"))
		fprintf(f, "set terminal pngcairo size 900,600 noenhanced font ',11'\n");
	else
		fprintf(f, "set terminal png size 900,600 noenhanced\n");
	/* two sources: twice the lines, a legend inside would hide points */
	fprintf(f, "set grid\nset key %s box opaque\n", nsrc > 1 ? "outside right top" : "top left");
	for (int i = 0; i < 8; i++)
		fprintf(f, "set linetype %d lc rgb '%s' pt %d\n", i + 1, col[i], 5 + 2 * (i % 4));
	if (reps[0] > 1 && reps[0] == reps[1])
		fprintf(f, "set xlabel 'achieved QPS (median; bars: min..max of %d runs)'\n", reps[1]);
	else if (reps[1] > 1)
		fprintf(f, "set xlabel 'achieved QPS (median; bars: min..max of %d to %d runs)'\n",
			reps[0], reps[1]);
	else
		fprintf(f, "set xlabel 'achieved QPS (requests/s)'\n");
}

int il_plot(const struct il_plot_cfg *p, const struct il_result *rows, int n,
	    char *err, size_t len)
{
	struct series s[MAX_SERIES];
	char path[700], out[512], lab[96], title[256];
	int ok[MAX_SERIES], any = 0, nsrc, reps[2] = { 0, 0 }, ns = find_series(rows, n, s, &nsrc);
	const char *ctx = p->context ? p->context : "irqlab";
	FILE *f;

	if (ns < 0) {
		snprintf(err, len, "more than %d (mode, source) lines to draw; report fewer files or modes",
			 MAX_SERIES);
		return -1;
	}
	for (int k = 0; k < ns; k++) {
		label(lab, sizeof(lab), &s[k], nsrc);
		any += (ok[k] = write_dat(p->dir, k, &s[k], lab, rows, n, reps) > 0);
	}
	if (!any) {
		snprintf(err, len, "no open-loop points to plot");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/plots.gp", p->dir);
	if (!(f = fopen(path, "w"))) {
		snprintf(err, len, "cannot write %s", path);
		return -1;
	}
	script_head(f, p, reps, nsrc);
	snprintf(title, sizeof(title), "p99 latency against load (%s)", ctx);
	gp_title(f, title);
	plot_cmd(f, p->dir, s, ok, ns, nsrc, "latency-p99.png", "p99 latency (us, log scale)",
		 "2:8:3:4:9:10", 1);
	snprintf(title, sizeof(title), "p95 latency against load (%s)", ctx);
	gp_title(f, title);
	plot_cmd(f, p->dir, s, ok, ns, nsrc, "latency-p95.png", "p95 latency (us, log scale)",
		 "2:5:3:4:6:7", 1);
	gp_title(f, p->cpu_title ? p->cpu_title : "server CPU busy against load (user+sys+softirq)");
	fprintf(f, "set yrange [0:105]\n");
	plot_cmd(f, p->dir, s, ok, ns, nsrc, "cpu.png", p->cpu_ylabel ? p->cpu_ylabel :
		 "server CPU busy (% of all server cores)", "2:11:3:4:12:13", 0);
	fclose(f);

	char *argv[] = { "gnuplot", path, NULL };
	int st = run(argv, out, sizeof(out));
	if (st < 0) {
		snprintf(err, len, "gnuplot not found (install gnuplot-nox); data and script are in %s",
			 p->dir);
		return -2;
	}
	if (st != 0) {
		out[strcspn(out, "\n")] = 0;
		snprintf(err, len, "gnuplot failed (exit %d): %s", st, out);
		return -1;
	}
	return 3;
}

static void md_num(FILE *f, double v, int prec)
{
	if (isfinite(v))
		fprintf(f, " %.*f |", prec, v);
	else
		fprintf(f, " n/a |");
}

void il_report_md_rows(FILE *f, const struct il_result *rows, int n, const char *kind)
{
	struct series s[MAX_SERIES];
	int nsrc, ns = find_series(rows, n, s, &nsrc), closed = !strcmp(kind, "closed");

	fprintf(f, "| mode | target | QPS | QPS min..max | p50 µs | p95 µs | p99 µs | IPC | CPQ "
		   "| usr %% | sys %% | softirq %% | idle %% | NET_RX/s srv | NET_RX/s gen "
		   "| IRQ/s srv | cs/s | busy-polled pkts | gen CPU %% | noise %% |\n");
	fprintf(f, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
	if (ns < 0)
		fprintf(f, "\n(more than %d modes x sources: see results.csv)\n", MAX_SERIES);
	for (int k = 0; k < ns; k++) {
		for (int p = 0; p < (closed ? 1 : s[k].nt); p++) {
			double t = closed ? 0 : s[k].t[p];
			struct il_result r;
			struct il_stat q = il_rows_stat(rows, n, s[k].mode, s[k].source, kind, t, OFF(qps));

			if (il_rows_median(rows, n, s[k].mode, s[k].source, kind, t, &r))
				continue;
			fprintf(f, "| %s", r.mode);
			if (nsrc > 1)
				fprintf(f, " (%s)", r.source);
			fprintf(f, "%s |", r.flagged ? " *" : "");
			if (t > 0)
				fprintf(f, " %.0f |", t);
			else
				fprintf(f, " max |");
			md_num(f, r.qps, 0);
			fprintf(f, " %.0f..%.0f |", q.min, q.max);
			md_num(f, r.p50_us, 0);
			md_num(f, r.p95_us, 0);
			md_num(f, r.p99_us, 0);
			md_num(f, r.ipc, 2);
			md_num(f, r.cpq, 0);
			md_num(f, r.cpu_user, 1);
			md_num(f, r.cpu_sys, 1);
			md_num(f, r.cpu_softirq, 1);
			md_num(f, r.cpu_idle, 1);
			md_num(f, r.softirq_per_s, 0);
			md_num(f, r.gen_softirq_per_s, 0);
			md_num(f, r.irq_per_s, 0);
			md_num(f, r.cs_per_s, 0);
			md_num(f, r.busy_polled, 0);
			md_num(f, r.gen_cpu, 0);
			md_num(f, r.noise_cpu, 1);
			fputc('\n', f);
		}
	}
}

/* ---- the ranking of the modes (closed loop) ---------------------------- */

/* "suspend@none" -> setup "none"; "" for the headline setup. */
static const char *setup_of(const char *mode)
{
	const char *at = strchr(mode, '@');

	return at ? at + 1 : "";
}

static int is_base(const char *mode)
{
	return !strncmp(mode, "base", 4) && (mode[4] == 0 || mode[4] == '@');
}

struct ranked {
	const char *mode;
	struct il_stat q;
	int left_out;		/* flagged runs not counted in q */
	int suspect;		/* fewer than two unflagged runs: q has flagged ones */
};

static int cmp_ranked(const void *a, const void *b)
{
	double x = ((const struct ranked *)a)->q.med, y = ((const struct ranked *)b)->q.med;

	return (x < y) - (x > y);	/* highest first */
}

/* Within this share of each other, one run each (a deterministic
 * simulation) does not rank two modes. */
#define TIE 0.02

/* Two modes are told apart when each ran at least twice and their min..max
 * ranges do not overlap: that order held in every repetition. With one
 * run of either, when the medians are more than TIE apart. */
static int apart(const struct il_stat *hi, const struct il_stat *lo)
{
	if (hi->n < 2 || lo->n < 2)
		return hi->med > lo->med * (1 + TIE);
	return hi->min > lo->max;
}

/* A mode's closed-loop QPS over its unflagged runs when at least two are
 * left: a run another process disturbed (or whose backlog grew) would
 * otherwise decide the order. Else over all runs. */
static struct il_stat clean_stat(const struct il_result *rows, int n, const char *mode,
				 const char *source, int *left_out, int *suspect)
{
	struct il_stat all = il_rows_stat(rows, n, mode, source, "closed", 0, OFF(qps)), q;
	struct il_result *clean = malloc(sizeof(*clean) * (size_t)(n + 1));
	int m = 0;

	if (!clean)
		return all;
	for (int i = 0; i < n; i++)
		if (!rows[i].flagged)
			clean[m++] = rows[i];
	q = il_rows_stat(clean, m, mode, source, "closed", 0, OFF(qps));
	free(clean);
	if (q.n >= 2 && q.n < all.n) {
		*left_out = all.n - q.n;
		return q;
	}
	*suspect = q.n < all.n;
	return all;
}

/* The closed-loop medians of one (source, setup) group, highest first;
 * returns the count and the reference (base, else the first mode). */
static int group_ranked(const struct il_result *rows, int n, const struct series *s, int ns,
			const char *source, const char *setup, struct ranked *out,
			struct il_stat *ref)
{
	int k = 0, got_base = 0;

	for (int i = 0; i < ns; i++) {
		if (strcmp(s[i].source, source) || strcmp(setup_of(s[i].mode), setup))
			continue;
		int left_out = 0, suspect = 0;
		struct il_stat q = clean_stat(rows, n, s[i].mode, source, &left_out, &suspect);
		if (!q.n)
			continue;
		if (!k || (!got_base && is_base(s[i].mode))) {
			*ref = q;
			got_base |= is_base(s[i].mode);
		}
		out[k++] = (struct ranked){ s[i].mode, q, left_out, suspect };
	}
	qsort(out, (size_t)k, sizeof(*out), cmp_ranked);
	return k;
}

static void ranking_table(FILE *f, const struct ranked *r, int k, const struct il_stat *ref)
{
	int left_out = 0, suspect = 0;

	fprintf(f, "| rank | mode | QPS (median) | min..max | runs | spread | x base |\n"
		   "|---|---|---|---|---|---|---|\n");
	for (int i = 0; i < k; i++) {
		char runs[32];

		if (r[i].suspect)
			snprintf(runs, sizeof(runs), "%d (flagged)", r[i].q.n);
		else
			snprintf(runs, sizeof(runs), r[i].left_out ? "%d (+%d flagged)" : "%d",
				 r[i].q.n, r[i].left_out);
		left_out += r[i].left_out;
		suspect |= r[i].suspect;
		fprintf(f, "| %d | %s | %.0f | %.0f..%.0f | %s | %.1f%% | %.2f |\n", i + 1,
			r[i].mode, r[i].q.med, r[i].q.min, r[i].q.max, runs,
			100 * (r[i].q.max - r[i].q.min) / r[i].q.med, r[i].q.med / ref->med);
	}
	if (left_out)
		fprintf(f, "\n%d flagged run(s) left out of the ranking (another process took more "
			   "than the noise limit, or the backlog grew: see the table's notes); "
			   "the closed-loop table above keeps them.\n", left_out);
	if (suspect)
		fprintf(f, "\n`*`: fewer than two of this mode's runs were unflagged; its place "
			   "may say more about the machine than about the mode.\n");
	fprintf(f, "\nOrder: ");
	for (int i = 0; i < k; i++)
		fprintf(f, "%s%s%s", i ? (apart(&r[i - 1].q, &r[i].q) ? " > " : " ≈ ") : "",
			r[i].mode, r[i].suspect ? "*" : "");
	if (r[0].q.n >= 2)
		fprintf(f, "  \n`>`: the min..max ranges are apart, the order held in every run "
			   "(stable); `≈`: the ranges overlap, these runs cannot rank the two.\n\n");
	else
		fprintf(f, "  \nOne run per mode: `>` means more than %.0f%% apart, `≈` within "
			   "%.0f%%.\n\n", 100 * TIE, 100 * TIE);
}

/* Model against machine in one setup: each mode's ratio to base on both
 * sides, and whether the model orders the pairs the machine told apart
 * the same way. */
static void model_vs_machine(FILE *f, const struct ranked *m, int km, const struct il_stat *mref,
			     const struct ranked *s, int ks, const struct il_stat *sref)
{
	int same = 0, differ = 0, tie = 0;
	char diff[512] = "";

	double gap = 0, gm = 0, gs = 0;
	const char *gmode = NULL;

	fprintf(f, "| mode | measured x base | simulated x base |\n|---|---|---|\n");
	for (int i = 0; i < km; i++)
		for (int j = 0; j < ks; j++) {
			double xm = m[i].q.med / mref->med, xs = s[j].q.med / sref->med;
			if (strcmp(m[i].mode, s[j].mode))
				continue;
			fprintf(f, "| %s | %.2f | %.2f |\n", m[i].mode, xm, xs);
			if (fabs(xm - xs) > gap) {
				gap = fabs(xm - xs);
				gmode = m[i].mode;
				gm = xm;
				gs = xs;
			}
		}
	/* m is sorted: i < j is "i above j" on the machine */
	for (int i = 0; i < km; i++)
		for (int j = i + 1; j < km; j++) {
			const struct ranked *a = NULL, *b = NULL;
			if (!apart(&m[i].q, &m[j].q))
				continue;
			for (int x = 0; x < ks; x++) {
				if (!strcmp(s[x].mode, m[i].mode))
					a = &s[x];
				if (!strcmp(s[x].mode, m[j].mode))
					b = &s[x];
			}
			if (!a || !b)
				continue;
			if (a->q.med > b->q.med * (1 + TIE)) {
				same++;
			} else if (a->q.med * (1 + TIE) >= b->q.med) {
				tie++;
			} else {
				differ++;
				size_t l = strlen(diff);
				snprintf(diff + l, sizeof(diff) - l, "%s%s > %s", l ? ", " : "",
					 m[i].mode, m[j].mode);
			}
		}
	fprintf(f, "\nOf the %d pairs of modes the machine ranks stably, the model orders %d "
		   "the same way, calls %d a tie (within %.0f%%) and orders %d the other way%s%s%s.\n\n",
		same + tie + differ, same, tie, 100 * TIE, differ, differ ? " (measured " : "",
		diff, differ ? "; the model says otherwise)" : "");
	if (gmode)
		fprintf(f, "The sizes differ most for %s: %.2fx base measured, %.2fx simulated.\n\n",
			gmode, gm, gs);
}

void il_report_ranking(FILE *f, const struct il_result *rows, int n)
{
	struct series s[MAX_SERIES];
	struct ranked meas[MAX_SERIES], sim[MAX_SERIES], r[MAX_SERIES];
	struct il_stat ref, mref, sref;
	int nsrc, ns = find_series(rows, n, s, &nsrc);

	for (int i = 0; i < ns; i++) {
		const char *setup = setup_of(s[i].mode);
		int first = 1;

		/* each (source, setup) group once, where its first series is */
		for (int j = 0; j < i && first; j++)
			first = strcmp(s[j].source, s[i].source) || strcmp(setup_of(s[j].mode), setup);
		int k = first ? group_ranked(rows, n, s, ns, s[i].source, setup, r, &ref) : 0;
		if (k < 2)
			continue;
		fprintf(f, "### Ranking by closed-loop QPS (%s%s%s)\n\n", s[i].source,
			*setup ? ", setup " : "", setup);
		ranking_table(f, r, k, &ref);
		/* the simulated group of a setup, after its measured one */
		if (strcmp(s[i].source, "simulated"))
			continue;
		int km = group_ranked(rows, n, s, ns, "measured", setup, meas, &mref);
		int ks = group_ranked(rows, n, s, ns, "simulated", setup, sim, &sref);
		if (km >= 2 && ks >= 2) {
			fprintf(f, "### Model and machine%s%s\n\n", *setup ? ", setup " : "", setup);
			model_vs_machine(f, meas, km, &mref, sim, ks, &sref);
		}
	}
}

/* ---- report.md ----------------------------------------------------------- */

static void reading_generic(FILE *f, const struct il_result *rows, int n)
{
	int flagged = 0, meas = 0, sim = 0;

	for (int i = 0; i < n; i++) {
		flagged += rows[i].flagged;
		meas += !strcmp(rows[i].source, "measured");
		sim += !strcmp(rows[i].source, "simulated");
	}
	fprintf(f, "- Values are medians over repetitions (the plots' error bars span min..max); "
		   "%d of %d rows were flagged (`flagged`, `note` in results.csv): noise, a missed "
		   "open-loop target, errors, or a saturated simulation.\n", flagged, n);
	if (sim)
		fprintf(f, "- *simulated* rows come from irqlab-sim's model (docs/sim.md), not from "
			   "a machine: CPU shares are of all simulated server cores, there is no load "
			   "generator CPU or noise (n/a), and IPC is modelled.\n");
	if (meas && sim)
		fprintf(f, "- Measured and simulated rows describe different machines unless the "
			   "simulation was configured after the measured one: compare the shapes "
			   "(where latency bends, which mode costs CPU), not absolute values.\n");
}

int il_report_md(const char *path, const struct il_report_doc *d,
		 const struct il_result *rows, int n, char *err, size_t len)
{
	int closed = 0, open = 0, meas = 0, sim = 0;
	FILE *f = fopen(path, "w");

	if (!f) {
		snprintf(err, len, "cannot write %s: %m", path);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		closed += !strcmp(rows[i].kind, "closed");
		open += !strcmp(rows[i].kind, "open");
		meas += !strcmp(rows[i].source, "measured");
		sim += !strcmp(rows[i].source, "simulated");
	}
	fprintf(f, "# %s\n\n", d->title);
	if (d->intro)
		fprintf(f, "%s\n\n", d->intro);
	if (d->setup)
		fprintf(f, "## Setup\n\n%s\n", d->setup);
	fprintf(f, "%d rows: %d measured, %d simulated.\n\n", n, meas, sim);
	if (closed) {
		fprintf(f, "## Closed loop: maximum throughput\n\n");
		il_report_md_rows(f, rows, n, "closed");
		fprintf(f, "\n");
		il_report_ranking(f, rows, n);
	}
	if (open) {
		fprintf(f, "## Open loop: latency and CPU against load\n\n");
		il_report_md_rows(f, rows, n, "open");
		fprintf(f, "\n");
	}
	if (d->plots)
		fprintf(f, "![p99 latency](latency-p99.png)\n\n![p95 latency](latency-p95.png)\n\n"
			   "![server CPU](cpu.png)\n\n");
	fprintf(f, "## Reading it\n\n");
	reading_generic(f, rows, n);
	if (d->reading)
		fprintf(f, "%s", d->reading);
	fprintf(f, "- Field definitions: docs/result-schema.md.\n");
	if (fclose(f)) {
		snprintf(err, len, "cannot write %s: %m", path);
		return -1;
	}
	return 0;
}

int il_report_read(const char *path, const char *tag, struct il_result **all, int *n,
		   char *err, size_t len)
{
	struct il_result *rows, *t;
	char *text = NULL, e[256];
	size_t cap = 0;
	int k;
	FILE *f = fopen(path, "r");

	if (!f) {
		snprintf(err, len, "cannot read %s: %m", path);
		return -1;
	}
	ssize_t got = getdelim(&text, &cap, 0, f);	/* the whole file: JSON has no NUL */
	fclose(f);
	if (got < 0) {
		free(text);
		snprintf(err, len, "cannot read %s (empty?)", path);
		return -1;
	}
	if (il_result_parse_json(text, &rows, &k, e, sizeof(e))) {
		free(text);
		snprintf(err, len, "%s: %s (expected a results.json array, docs/result-schema.md)",
			 path, e);
		return -1;
	}
	free(text);
	for (int i = 0; i < k; i++) {
		if ((strcmp(rows[i].kind, "open") && strcmp(rows[i].kind, "closed")) ||
		    !rows[i].mode[0] || !rows[i].source[0]) {
			snprintf(err, len, "%s: row %d lacks mode, source or kind (open or closed)",
				 path, i + 1);
			free(rows);
			return -1;
		}
		if (tag && *tag) {
			char m[sizeof(rows[i].mode)];
			if (snprintf(m, sizeof(m), "%s@%s", rows[i].mode, tag) >= (int)sizeof(m)) {
				snprintf(err, len, "%s: mode '%s@%s' is longer than %zu characters",
					 path, rows[i].mode, tag, sizeof(m) - 1);
				free(rows);
				return -1;
			}
			memcpy(rows[i].mode, m, sizeof(m));
		}
	}
	if (!(t = realloc(*all, (size_t)(*n + k + 1) * sizeof(*t)))) {
		free(rows);
		snprintf(err, len, "out of memory");
		return -1;
	}
	memcpy(t + *n, rows, (size_t)k * sizeof(*t));
	*all = t;
	*n += k;
	free(rows);
	return 0;
}

int il_mkdir_p(const char *dir)
{
	char p[600];

	snprintf(p, sizeof(p), "%s", dir);
	for (char *q = p + 1; *q; q++) {
		if (*q != '/')
			continue;
		*q = 0;
		if (mkdir(p, 0755) && errno != EEXIST)
			return -1;
		*q = '/';
	}
	return mkdir(p, 0755) && errno != EEXIST ? -1 : 0;
}

int il_report_dir_doc(const struct il_plot_cfg *p, const struct il_report_doc *d,
		      const struct il_result *rows, int n, char *err, size_t len)
{
	char path[700];
	int open = 0, np = 0;
	FILE *f;

	if (il_mkdir_p(p->dir)) {
		snprintf(err, len, "cannot create %s: %m", p->dir);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/results.json", p->dir);
	if (!(f = fopen(path, "w")))
		goto bad;
	il_result_json(f, rows, n);
	if (fclose(f))
		goto bad;
	snprintf(path, sizeof(path), "%s/results.csv", p->dir);
	if (!(f = fopen(path, "w")))
		goto bad;
	il_result_csv_header(f);
	for (int i = 0; i < n; i++)
		il_result_csv_row(f, &rows[i]);
	if (fclose(f))
		goto bad;
	for (int i = 0; i < n; i++)
		open += !strcmp(rows[i].kind, "open");
	err[0] = 0;
	if (!open)
		snprintf(err, len, "no plots: no open-loop rows (give a rate, e.g. --qps)");
	else if ((np = il_plot(p, rows, n, err, len)) == -1)
		return -1;
	if (np < 0)
		np = 0;
	snprintf(path, sizeof(path), "%s/report.md", p->dir);
	{
		char e2[256];
		struct il_report_doc doc = *d;

		doc.plots = np > 0;
		if (il_report_md(path, &doc, rows, n, e2, sizeof(e2))) {
			snprintf(err, len, "%s", e2);
			return -1;
		}
	}
	return np;
bad:
	snprintf(err, len, "cannot write %s: %m", path);
	return -1;
}

int il_report_dir(const struct il_plot_cfg *p, const char *title, const char *intro,
		  const struct il_result *rows, int n, char *err, size_t len)
{
	struct il_report_doc d = { .title = title, .intro = intro };

	return il_report_dir_doc(p, &d, rows, n, err, len);
}
