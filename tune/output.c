/* What a tune says: the recommendation with its evidence and the commands
 * that apply it (terminal and report.md), every run as result rows
 * (tune.json, docs/result-schema.md; the mode field is the candidate's
 * label, candidates.tsv maps labels to specs), and the CPU-latency plot
 * with the Pareto front and the target (tune.gp, tune.png). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "irqlab/report.h"
#include "irqlab/result.h"
#include "tune.h"

static const char *pct(const struct tune_run *r)
{
	return tune_pct_names[r->obj->pct];
}

static void ci_str(char *b, size_t n, const struct tune_ci *c, const char *unit, int prec)
{
	if (isfinite(c->lo) && isfinite(c->hi))
		snprintf(b, n, "%.*f%s [%.*f, %.*f]", prec, c->mean, unit, prec, c->lo, prec, c->hi);
	else
		snprintf(b, n, "%.*f%s [n=%d, no interval]", prec, c->mean, unit, c->n);
}

/* "p99 212us [205, 219], CPU 47.3% [46.9, 47.7], 600.1k/s achieved, 8 runs of 0.2 s" */
static void evidence(char *b, size_t n, const struct tune_run *r, const struct tune_summary *s)
{
	char l[96], c[96];
	const struct tune_cand *cd = &r->space->c[s->cand];
	double target = r->obj->goal == GOAL_MIN_CPU ? r->obj->qps : cd->rate;

	ci_str(l, sizeof(l), &s->lat, "us", 0);
	ci_str(c, sizeof(c), &s->cpu, "%", 1);
	snprintf(b, n, "%s %s, CPU %s busy, %.0f/s achieved of %.0f%s, %d runs", pct(r), l, c,
		 s->qps.mean, target, s->rate_missed ? " (rate MISSED in some runs)" : "", s->n);
}

static void cand_line(FILE *f, const struct tune_run *r, int c, const char *in)
{
	const struct tune_cand *cd = &r->space->c[c];
	fprintf(f, "%s%s  --mode '%s'%s%s\n", in, cd->label, cd->spec,
		cd->coal == TC_AS_IS ? "" : "  NIC coalescing: ", cd->coal == TC_AS_IS ? "" : cd->nic);
}

/* Candidates set apart at the repeat cap: cheaper, target not shown. */
static int not_shown(const struct tune_run *r)
{
	int n = 0;
	for (int c = 0; c < r->space->n; c++)
		n += !r->space->c[c].alive && strstr(r->space->c[c].why, "not shown to meet") != NULL;
	return n;
}

static int category(const char *why)
{
	if (strstr(why, "misses") || strstr(why, "no rate"))
		return 0;
	/* a cut inside the noise is not evidence of more CPU: its own group,
	 * else a candidate may be listed as "more CPU" with less than the pick */
	if (strstr(why, "within noise"))
		return 4;
	if (strstr(why, "more CPU"))
		return 1;
	if (strstr(why, "lower rate"))
		return 2;
	return 3;
}

/* No recommendation: say what the user can do next, as commands. */
static void next_steps(FILE *f, const struct tune_run *r, const char *dev)
{
	if (r->obj->goal == GOAL_MIN_CPU)
		fprintf(f, "next: the highest rate that keeps the target: irqlab tune --max-qps "
			"--slo '%s<=%gus' (same backend options), or a looser --slo\n",
			pct(r), r->obj->slo_us);
	if (r->closest < 0)
		return;
	fprintf(f, "apply the closest anyway (%s; %s = the server's device):\n",
		r->verdict == V_INFEASIBLE ? "it did not meet the target" :
		"not shown to meet the target", dev);
	tune_apply_commands(f, &r->space->c[r->closest], dev, "  ");
}

/* Why the others lost: counts per reason, with the closest three of each
 * (misses: lowest latency; more CPU: least CPU; lower rate: highest). */
static void losers(FILE *f, const struct tune_run *r, const char *in)
{
	static const char *names[] = { "miss the target", "need more CPU", "hold a lower rate",
				       "were not decided",
				       "were cut by rank inside the noise (not shown worse; one short run each)" };
	int n = r->space->n;
	double *key = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
	struct tune_summary *s = malloc(sizeof(*s) * (size_t)(n > 0 ? n : 1));

	if (!key || !s)
		goto out;
	for (int c = 0; c < n; c++)
		s[c] = tune_summarize(r, c, 0);
	for (int k = 0; k < 5; k++) {
		int cnt = 0, shown = 0;
		for (int c = 0; c < n; c++) {
			const struct tune_cand *cd = &r->space->c[c];
			key[c] = INFINITY;
			if (cd->alive || !cd->why[0] || category(cd->why) != k)
				continue;
			cnt++;
			key[c] = k == 0 ? s[c].lat.mean : k == 2 ? -cd->rate : s[c].cpu.mean;
			if (!isfinite(key[c]))
				key[c] = 1e300;
		}
		if (!cnt)
			continue;
		fprintf(f, "%s%d %s:\n", in, cnt, names[k]);
		while (shown < 3 && shown < cnt) {
			int b = -1;
			for (int c = 0; c < n; c++)
				if (key[c] < INFINITY && (b < 0 || key[c] < key[b]))
					b = c;
			if (b < 0)
				break;
			const struct tune_cand *cd = &r->space->c[b];
			fprintf(f, "%s  %s %s%s%s: %s; %s %.0fus, CPU %.1f%%\n", in, cd->label,
				cd->spec, cd->coal == TC_AS_IS ? "" : " nic=",
				cd->coal == TC_AS_IS ? "" : cd->nic, cd->why, pct(r),
				s[b].lat.mean, s[b].cpu.mean);
			key[b] = INFINITY;
			shown++;
		}
		if (cnt > shown)
			fprintf(f, "%s  ... and %d more (report.md lists all)\n", in, cnt - shown);
	}
out:
	free(key);
	free(s);
}

static void verdict(FILE *f, const struct tune_run *r, const struct tune_out *o)
{
	char ev[320];
	const char *dev = o->dev ? o->dev : "DEV";
	int conf = (int)lround(r->conf * 100);

	switch (r->verdict) {
	case V_WINNER:
	case V_TIE:
		if (r->verdict == V_WINNER && not_shown(r)) {
			fprintf(f, "recommendation (the cheapest shown to meet the target at %d%% "
				"confidence; %d cheaper could not be shown to meet it: see \"were not "
				"decided\"):\n", conf, not_shown(r));
		} else if (r->verdict == V_WINNER) {
			fprintf(f, "recommendation (a winner at %d%% confidence):\n", conf);
		} else {
			fprintf(f, "no single winner: the candidates below are indistinguishable at "
				"%d%% confidence (%s); each meets the target. Listed first: the one "
				"with the fewest changes, not a declared winner:\n", conf, r->why_stop[0] ? r->why_stop :
				"their intervals overlap");
		}
		cand_line(f, r, r->best, "  ");
		evidence(ev, sizeof(ev), r, &r->sbest);
		fprintf(f, "    %s\n", ev);
		for (int i = 0; i < r->ntied && i < 3; i++) {
			struct tune_summary s = tune_summarize(r, r->tied[i], 0);
			cand_line(f, r, r->tied[i], "  ");
			evidence(ev, sizeof(ev), r, &s);
			fprintf(f, "    %s\n", ev);
		}
		if (r->ntied > 3)
			fprintf(f, "  ... and %d more tied (report.md lists them)\n", r->ntied - 3);
		if (r->verdict == V_WINNER && r->second >= 0) {
			fprintf(f, "runner-up:\n");
			cand_line(f, r, r->second, "  ");
			evidence(ev, sizeof(ev), r, &r->ssecond);
			fprintf(f, "    %s\n    lost: %s\n", ev, r->space->c[r->second].why[0] ?
				r->space->c[r->second].why : "its interval is clear of the winner's");
		}
		fprintf(f, "apply it (%s = the server's device):\n", dev);
		tune_apply_commands(f, &r->space->c[r->best], dev, "  ");
		break;
	case V_INFEASIBLE:
	case V_NONE:
		if (r->verdict == V_INFEASIBLE)
			fprintf(f, "infeasible: no candidate keeps %s <= %g us%s%s.\n", pct(r),
				r->obj->slo_us, r->obj->goal == GOAL_MIN_CPU ? " at the rate" : "",
				isfinite(r->obj->cpu_cap) ? " within the CPU cap" : "");
		else
			fprintf(f, "undecided: no candidate was shown to meet the target within the "
				"budget (%s).\n", r->why_stop[0] ? r->why_stop : "runs too noisy");
		if (r->closest >= 0) {
			evidence(ev, sizeof(ev), r, &r->sclosest);
			fprintf(f, "closest: %s %s: %s\n", r->space->c[r->closest].label,
				r->space->c[r->closest].spec, ev);
		}
		next_steps(f, r, dev);
		break;
	}
}

static int by_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Measured: how many runs other processes disturbed (the bench's noise
 * check, over --noise-limit of a core), with the median of what they took.
 * 0 when none (or simulated). */
int tune_noisy_runs(const struct tune_run *r, double *median_noise)
{
	int n = 0;
	double *v = calloc((size_t)r->njobs + 1, sizeof(*v));

	for (int i = 0; i < r->njobs; i++) {
		const struct tune_job *j = &r->jobs[i];
		if (j->rc || strcmp(j->r.source, "measured"))
			continue;
		if (j->r.flagged && strstr(j->r.note, "noise") && v)
			v[n++] = j->r.noise_cpu;
	}
	if (median_noise) {
		*median_noise = NAN;
		if (n && v) {
			qsort(v, (size_t)n, sizeof(*v), by_double);
			*median_noise = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
		}
	}
	free(v);
	return n;
}

static void busy_warning(FILE *f, const struct tune_run *r)
{
	double med;
	int n = tune_noisy_runs(r, &med), all = 0;

	for (int i = 0; i < r->njobs; i++)
		all += !r->jobs[i].rc && !strcmp(r->jobs[i].r.source, "measured");
	if (!n)
		return;
	fprintf(f, "warning: %d of %d measured runs were disturbed by other processes (they took "
		"a median %.0f%% of a core; each run's note in tune.json names the biggest)%s\n",
		n, all, med, n * 2 > all ? ": the latencies and CPU shares are not this machine's "
		"own; rerun when it is quiet" : "");
}

void tune_print(FILE *f, const struct tune_run *r, const struct tune_out *o)
{
	char obj[200];
	int nmeas = 0;

	for (int i = 0; i < r->njobs; i++)
		nmeas += !r->jobs[i].rc;
	tune_objective_str(r->obj, obj, sizeof(obj));
	fprintf(f, "irqlab tune: %s\n  %s\n", obj, o->setup ? o->setup : "");
	char how[64];
	if (r->exhaustive)
		snprintf(how, sizeof(how), "exhaustive (every one at full length)");
	else
		snprintf(how, sizeof(how), "%d halving rounds + leaders", r->rounds);
	fprintf(f, "searched %d candidates: %s, %d runs (%s), %.1f s of "
		"%.0f s budget%s%s%s\n", r->space->n, how, nmeas, r->be->source, r->elapsed_s,
		r->budget_s, r->interrupted ? "; INTERRUPTED" : "",
		r->why_stop[0] && r->verdict != V_TIE ? "; " : "",
		r->why_stop[0] && r->verdict != V_TIE ? r->why_stop : "");
	busy_warning(f, r);
	verdict(f, r, o);
	int lost = 0;
	for (int c = 0; c < r->space->n; c++)
		lost += !r->space->c[c].alive && r->space->c[c].why[0];
	if ((r->verdict == V_WINNER || r->verdict == V_TIE) && lost) {
		fprintf(f, "why the others lost:\n");
		losers(f, r, "  ");
	}
	if (o->remeasure)
		fprintf(f, "%s", o->remeasure);
}

/* ---- files -------------------------------------------------------------- */

static int run_quiet(char *const argv[])
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static FILE *open_in(const char *dir, const char *name, char *path, size_t plen)
{
	snprintf(path, plen, "%s/%s", dir, name);
	return fopen(path, "w");
}

/* One point per candidate: means at its longest runs. */
struct pt { double cpu, lat; int c, ok; };

static int by_cpu(const void *a, const void *b)
{
	const struct pt *x = a, *y = b;
	return (x->cpu > y->cpu) - (x->cpu < y->cpu);
}

static int write_plot(const struct tune_run *r, const char *dir, char *err, size_t len)
{
	char path[700];
	int n = 0;
	struct pt *p = calloc((size_t)r->space->n + 1, sizeof(*p));
	FILE *f;

	if (!p)
		return -1;
	for (int c = 0; c < r->space->n; c++) {
		struct tune_summary s = tune_summarize(r, c, 0);
		if (!s.n || !isfinite(s.lat.mean) || !isfinite(s.cpu.mean))
			continue;
		p[n++] = (struct pt){ s.cpu.mean, s.lat.mean, c, s.rate_missed * 2 <= s.n };
	}
	qsort(p, (size_t)n, sizeof(*p), by_cpu);
	if (!(f = open_in(dir, "tune-points.dat", path, sizeof(path))))
		goto fail;
	fprintf(f, "# label cpu_busy_pct latency_us rate_achieved (means at each candidate's "
		"longest runs)\n");
	for (int i = 0; i < n; i++)
		fprintf(f, "%s %.3f %.3f %d\n", r->space->c[p[i].c].label, p[i].cpu, p[i].lat, p[i].ok);
	fclose(f);
	/* Pareto front: no other point has both less CPU and less latency */
	if (!(f = open_in(dir, "tune-pareto.dat", path, sizeof(path))))
		goto fail;
	double best = INFINITY;
	for (int i = 0; i < n; i++)
		if (p[i].ok && p[i].lat < best) {
			best = p[i].lat;
			fprintf(f, "%.3f %.3f %s\n", p[i].cpu, p[i].lat, r->space->c[p[i].c].label);
		}
	fclose(f);
	if (!(f = open_in(dir, "tune.gp", path, sizeof(path))))
		goto fail;
	fprintf(f, "# gnuplot %s/tune.gp  (written by irqlab tune)\n"
		"set terminal pngcairo size 900,600 noenhanced font ',11'\n"
		"set output '%s/tune.png'\nset grid\nset key top right box opaque\n"
		"set logscale y\nset xlabel 'server CPU busy (%%, mean)'\n"
		"set ylabel '%s latency (us, mean, log scale)'\n"
		"set title 'irqlab tune: every candidate (%s), Pareto front and target'\n",
		dir, dir, pct(r), r->be->source);
	fprintf(f, "target = %g\n", r->obj->slo_us);
	if (r->obj->goal == GOAL_MIN_CPU && isfinite(r->obj->cpu_cap))
		fprintf(f, "set arrow from %g, graph 0 to %g, graph 1 nohead dt 3 lc rgb '#555555'\n",
			r->obj->cpu_cap, r->obj->cpu_cap);
	fprintf(f, "plot '%s/tune-points.dat' u 2:($4 > 0 ? $3 : 1/0) w p pt 6 lc rgb '#0072B2' "
		"t 'candidate', \\\n"
		"     '%s/tune-points.dat' u 2:($4 > 0 ? 1/0 : $3) w p pt 2 lc rgb '#999999' "
		"t 'rate missed', \\\n"
		"     '%s/tune-pareto.dat' u 1:2 w lp pt 7 lc rgb '#009E73' t 'Pareto front', \\\n"
		"     target w l dt 2 lw 2 lc rgb '#D55E00' t sprintf('target %s <= %%g us', target)",
		dir, dir, dir, pct(r));
	if (r->best >= 0)
		fprintf(f, ", \\\n     '-' u 1:2 w p pt 7 ps 2.5 lc rgb '#CC79A7' t 'recommended %s'\n"
			"%.3f %.3f\ne\n", r->space->c[r->best].label, r->sbest.cpu.mean,
			r->sbest.lat.mean);
	else
		fputc('\n', f);
	fclose(f);
	free(p);
	char *argv[] = { "gnuplot", path, NULL };
	int st = run_quiet(argv);
	if (st == 127 || st < 0) {
		snprintf(err, len, "gnuplot not found (install gnuplot-nox); tune.gp and its data "
			 "are in %s", dir);
		return 0;
	}
	if (st) {
		snprintf(err, len, "gnuplot failed on %s/tune.gp (exit %d)", dir, st);
		return 0;
	}
	return 1;
fail:
	snprintf(err, len, "cannot write %s: %s", path, strerror(errno));
	free(p);
	return -1;
}

static void md_candidates(FILE *f, const struct tune_run *r)
{
	fprintf(f, "| label | --mode | NIC | runs | longest run s | %s us (mean) | CPU %% (mean) "
		"| achieved/s | outcome |\n|---|---|---|---|---|---|---|---|---|\n", pct(r));
	for (int c = 0; c < r->space->n; c++) {
		const struct tune_cand *cd = &r->space->c[c];
		struct tune_summary s = tune_summarize(r, c, 0);
		const char *out = c == r->best ? (r->verdict == V_WINNER ? "**recommended**" :
						  "**tied, listed first**") :
				  cd->alive ? (r->verdict == V_TIE ? "tied" : "leader") : cd->why;
		fprintf(f, "| %s | `%s` | %s | %d | %g | %.0f | %.1f | %.0f | %s |\n", cd->label,
			cd->spec, cd->nic, s.n, s.run_s,
			s.lat.mean, s.cpu.mean, s.qps.mean, out);
	}
}

static int write_report(const struct tune_run *r, const struct tune_out *o, int plot)
{
	char path[700];
	FILE *f = open_in(o->dir, "report.md", path, sizeof(path));

	if (!f)
		return -1;
	fprintf(f, "# irqlab tune\n\nCommand: `%s`\n\nSetup: %s\n\n```\n", o->cmdline ? o->cmdline : "",
		o->setup ? o->setup : "");
	tune_print(f, r, o);
	fprintf(f, "```\n\n");
	if (plot)
		fprintf(f, "![every candidate on the CPU-latency plane](tune.png)\n\n"
			"Each point is one candidate's means at its longest runs; the dashed line is "
			"the target; the green line the Pareto front (no other candidate has both "
			"less CPU and less latency); grey crosses missed the rate.\n\n");
	fprintf(f, "## How to read this\n\nIntervals are %.0f%% confidence intervals of the mean "
		"over repeated runs (Student t; latency on a log scale). A winner is declared "
		"only when its CPU interval is clear of every other candidate that may meet the "
		"target; otherwise the result is a tie. Short first-round runs only rank; the "
		"recommendation rests on full-length runs (docs/tune.md).\n\n", r->conf * 100);
	fprintf(f, "## Every candidate\n\n");
	md_candidates(f, r);
	fclose(f);
	return 0;
}

int tune_write_dir(const struct tune_run *r, const struct tune_out *o, char *err, size_t len)
{
	char path[700];
	FILE *f;
	struct il_result *rows;

	if (il_mkdir_p(o->dir)) {
		snprintf(err, len, "cannot create %s: %s", o->dir, strerror(errno));
		return -1;
	}
	rows = calloc((size_t)r->njobs + 1, sizeof(*rows));
	int n = 0;
	for (int i = 0; rows && i < r->njobs; i++) {
		const struct tune_job *j = &r->jobs[i];
		if (j->rc)
			continue;
		rows[n] = j->r;
		snprintf(rows[n].mode, sizeof(rows[n].mode), "%s", r->space->c[j->cand].label);
		snprintf(rows[n].source, sizeof(rows[n].source), "%s", r->be->source);
		rows[n].rep = i;
		n++;
	}
	if (!rows || !(f = open_in(o->dir, "tune.json", path, sizeof(path)))) {
		free(rows);
		snprintf(err, len, "cannot write %s/tune.json: %s", o->dir, strerror(errno));
		return -1;
	}
	il_result_json(f, rows, n);
	fclose(f);
	free(rows);
	if (!(f = open_in(o->dir, "candidates.tsv", path, sizeof(path)))) {
		snprintf(err, len, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(f, "label\tmode\tnic\toutcome\n");
	for (int c = 0; c < r->space->n; c++)
		fprintf(f, "%s\t%s\t%s\t%s\n", r->space->c[c].label, r->space->c[c].spec,
			r->space->c[c].nic, c == r->best ? "recommended" :
			r->space->c[c].alive ? "leader" : r->space->c[c].why);
	fclose(f);
	int plot = write_plot(r, o->dir, err, len);
	if (plot < 0)
		return -1;
	if (!plot)
		fprintf(stderr, "irqlab tune: %s\n", err);
	if (write_report(r, o, plot)) {
		snprintf(err, len, "cannot write %s/report.md: %s", o->dir, strerror(errno));
		return -1;
	}
	return 0;
}
