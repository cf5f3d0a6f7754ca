/* The search (docs/tune.md, "Method"):
 *
 * 1. Successive halving. Every candidate runs once with short runs (a few
 *    get a second run: the noise probe, which sizes the noise of that run
 *    length); the best third by score go on with runs twice as long, and so
 *    on until the leaders are left. A candidate within the noise of the
 *    cut survives it (up to twice the planned number), so short, noisy
 *    runs do not throw out a candidate that is as good as the kept ones.
 * 2. Leaders. Full-length runs, at least 3 each, then more of the best and
 *    of every candidate whose interval overlaps it, until the intervals
 *    separate, a candidate reaches max_reps, or the budget ends. A winner
 *    is declared only when its interval is clear of all others; otherwise
 *    the result is a tie, listed as such.
 *
 * Score (least CPU): a candidate that may meet the target (its mean within
 * a tolerance that shrinks with the run length) ranks by CPU; the others
 * after all of those, by how far they miss. Highest rate: the rate found by
 * bisection at short runs ranks; the leaders' rates are then confirmed with
 * full runs (stepping down when a rate fails). */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tune.h"

#define MIN_REPS 3	/* runs per leader before an interval counts */

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double target_of(const struct tune_run *r, int c)
{
	return r->obj->goal == GOAL_MIN_CPU ? r->obj->qps : r->space->c[c].rate;
}

static double elapsed(const struct tune_run *r)
{
	return mono() - r->t0;
}

/* ---- progress ----------------------------------------------------------- */

static void progress(const struct tune_run *r, const char *phase, int done, int n, double left)
{
	if (!r->progress)
		return;
	fprintf(stderr, "\r\033[K[tune] %s: %d/%d runs, %.0f s elapsed, about %.0f s left "
		"(budget %.0f s)", phase, done, n, elapsed(r), left, r->budget_s);
	fflush(stderr);
}

static void progress_end(const struct tune_run *r)
{
	if (r->progress)
		fprintf(stderr, "\r\033[K");
}

/* ---- running jobs ------------------------------------------------------- */

static int push_job(struct tune_run *r, const struct tune_job *j)
{
	if (r->njobs == r->capjobs) {
		int cap = r->capjobs ? 2 * r->capjobs : 1024;
		struct tune_job *n = realloc(r->jobs, (size_t)cap * sizeof(*n));
		if (!n)
			return -1;
		r->jobs = n;
		r->capjobs = cap;
	}
	r->jobs[r->njobs++] = *j;
	return 0;
}

/* How many runs c already has at this length and rate (the next seed). */
static int count_runs(const struct tune_run *r, int c, double run_s, double qps)
{
	int n = 0;
	for (int i = 0; i < r->njobs; i++)
		if (r->jobs[i].cand == c && r->jobs[i].run_s == run_s && r->jobs[i].qps == qps)
			n++;
	return n;
}

struct batch {
	struct tune_job *j;
	int n, cap;
};

static int batch_add(struct tune_run *r, struct batch *b, int c, double qps, double run_s)
{
	int k = count_runs(r, c, run_s, qps);
	for (int i = 0; i < b->n; i++)
		if (b->j[i].cand == c && b->j[i].run_s == run_s && b->j[i].qps == qps)
			k++;
	if (b->n == b->cap) {
		int cap = b->cap ? 2 * b->cap : 64;
		struct tune_job *n = realloc(b->j, (size_t)cap * sizeof(*n));
		if (!n)
			return -1;
		b->j = n;
		b->cap = cap;
	}
	struct tune_job *j = &b->j[b->n++];
	memset(j, 0, sizeof(*j));
	j->cand = c;
	j->qps = qps;
	j->run_s = run_s;
	j->seed = r->seed + (uint64_t)k;	/* rep k of every candidate: same seed */
	j->round = r->rounds;
	return 0;
}

static double batch_estimate(const struct tune_run *r, const struct batch *b)
{
	double s = 0;
	for (int i = 0; i < b->n; i++)
		s += r->be->estimate(r->be->ctx, &b->j[i]);
	return s / (r->be->parallel > 0 ? r->be->parallel : 1);
}

/* Runs a batch in chunks (for the progress line), appends the jobs. */
static int run_batch(struct tune_run *r, struct batch *b, const char *phase, double later_s,
		     char *err, size_t len)
{
	/* chunks for the progress line: big enough that threads stay busy */
	int chunk = r->progress ? (b->n / 16 > 8 * r->be->parallel ? b->n / 16 : 8 * r->be->parallel)
				: b->n;
	double est = batch_estimate(r, b);
	double t_start = mono();

	for (int i = 0; i < b->n; i += chunk) {
		int n = b->n - i < chunk ? b->n - i : chunk;
		double done_frac = (double)i / b->n;
		double left = done_frac > 0 ? (mono() - t_start) / done_frac * (1 - done_frac) : est;
		progress(r, phase, i, b->n, left + later_s);
		if (r->stop && *r->stop) {
			r->interrupted = true;
			b->n = i;
			break;
		}
		if (r->be->run(r->be->ctx, r->space, b->j + i, n, err, len)) {
			if (r->stop && *r->stop) {
				r->interrupted = true;
				b->n = i;
				break;
			}
			return -1;
		}
	}
	for (int i = 0; i < b->n; i++) {
		if (b->j[i].rc && !r->interrupted)
			fprintf(stderr, "%s[tune] %s (%s): %s\n", r->progress ? "\r\033[K" : "",
				r->space->c[b->j[i].cand].label, r->space->c[b->j[i].cand].spec,
				b->j[i].err);
		if (push_job(r, &b->j[i])) {
			snprintf(err, len, "out of memory");
			return -1;
		}
	}
	b->n = 0;
	return 0;
}

/* ---- statistics of a candidate ------------------------------------------ */

/* A run that surely missed its rate: the server fell behind (a backlog
 * that grew: the simulator's cap, bench's "backlog grew"), or the rate fell
 * short by more than counting noise can explain. A short run's count of
 * exponential arrivals varies by a few percent, so the rate_ok test (95%)
 * applies to the mean over the runs. A generator that sent late ("fell
 * behind" its schedule) is no miss: latency counts from the scheduled send
 * time, so its lateness is in the latency already. */
static bool missed(const struct tune_run *r, const struct tune_job *j)
{
	(void)r;
	if (j->qps <= 0)
		return false;
	return !(j->r.qps >= 0.8 * j->qps) || !strncmp(j->r.note, "open loop fell", 14) ||
	       strstr(j->r.note, "backlog grew") != NULL;
}

static struct tune_summary summarize_at(const struct tune_run *r, int c, double run_s, double qps)
{
	struct tune_summary s;
	int cap = r->njobs > 0 ? r->njobs : 1, n = 0;
	double *lat = malloc(sizeof(double) * (size_t)cap * 3), *cpu = lat + cap, *q = cpu + cap;

	memset(&s, 0, sizeof(s));
	s.cand = c;
	for (int i = 0; lat && i < r->njobs; i++) {
		const struct tune_job *j = &r->jobs[i];
		if (j->cand != c || j->rc || (run_s > 0 && j->run_s != run_s) ||
		    (qps >= 0 && j->qps != qps))
			continue;
		lat[n] = tune_obs_lat(j, r->obj->pct);
		cpu[n] = tune_obs_cpu(j);
		q[n] = j->r.qps;
		s.rate_missed += missed(r, j);
		n++;
	}
	s.n = n;
	s.run_s = run_s;
	s.lat = tune_ci_log(lat, n, r->conf);
	s.cpu = tune_ci(cpu, n, r->conf);
	s.qps = tune_ci(q, n, r->conf);
	free(lat);
	double L = r->obj->slo_us, cap_cpu = r->obj->cpu_cap;
	bool cap_ok = !isfinite(cap_cpu) || s.cpu.hi <= cap_cpu;
	bool cap_bad = isfinite(cap_cpu) && s.cpu.lo > cap_cpu;
	double want = r->obj->rate_ok * qps;
	bool rate_ok = qps <= 0 || s.qps.mean >= want;
	if (qps > 0 && n && !rate_ok && !s.rate_missed)
		s.rate_missed = 1;	/* short on average */
	s.feasible_sure = n >= 2 && s.lat.hi <= L && !s.rate_missed && cap_ok;
	s.infeasible_sure = n >= 2 && (s.lat.lo > L || s.rate_missed * 2 > n || cap_bad ||
				       (qps > 0 && s.qps.hi < want));
	/* a latency lost to a missed rate is no latency: infeasible */
	if (n >= 1 && !isfinite(s.lat.mean) && s.rate_missed == n)
		s.infeasible_sure = true;
	return s;
}

/* The longest run length c has (0: none). */
static double longest(const struct tune_run *r, int c)
{
	double m = 0;
	for (int i = 0; i < r->njobs; i++)
		if (r->jobs[i].cand == c && !r->jobs[i].rc && r->jobs[i].run_s > m &&
		    (r->obj->goal == GOAL_MIN_CPU || r->jobs[i].qps == r->space->c[c].rate))
			m = r->jobs[i].run_s;
	return m;
}

struct tune_summary tune_summarize(const struct tune_run *r, int c, double run_s)
{
	if (run_s <= 0)
		run_s = longest(r, c);
	return summarize_at(r, c, run_s, target_of(r, c));
}

/* ---- successive halving ------------------------------------------------- */

struct ranked { int c; double score, sd; bool meets; };

static int by_score(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	return (x->score > y->score) - (x->score < y->score);
}

/* The score of a candidate at a run length (lower is better). */
static double score(const struct tune_run *r, const struct tune_summary *s, double tol)
{
	double L = r->obj->slo_us;

	if (r->obj->goal == GOAL_MAX_QPS)
		return -r->space->c[s->cand].rate;
	if (!s->n)
		return 1e12;
	bool ok = s->lat.mean <= L * (1 + tol) && s->rate_missed * 2 <= s->n &&
		  (!isfinite(r->obj->cpu_cap) || s->cpu.mean <= r->obj->cpu_cap * (1 + tol));
	if (ok)
		return s->cpu.mean;
	return 1000 + (isfinite(s->lat.mean) ? s->lat.mean / L : 1e6) + 1e3 * s->rate_missed;
}

/* Pooled standard deviation of CPU at a run length: the noise probe. */
static double pooled_cpu_sd(const struct tune_run *r, double run_s)
{
	double ss = 0;
	int df = 0;

	for (int c = 0; c < r->space->n; c++) {
		double x[64];
		int n = 0;
		for (int i = 0; i < r->njobs && n < 64; i++)
			if (r->jobs[i].cand == c && r->jobs[i].run_s == run_s && !r->jobs[i].rc &&
			    r->jobs[i].qps == target_of(r, c) && isfinite(tune_obs_cpu(&r->jobs[i])))
				x[n++] = tune_obs_cpu(&r->jobs[i]);
		if (n < 2)
			continue;
		double m = 0;
		for (int i = 0; i < n; i++)
			m += x[i] / n;
		for (int i = 0; i < n; i++)
			ss += (x[i] - m) * (x[i] - m);
		df += n - 1;
	}
	return df ? sqrt(ss / df) : NAN;
}

/* The noise at a run length: measured there, or scaled from the probe's
 * length (the sd of a mean over a run falls with the square root of its
 * length). */
static double noise_sd(const struct tune_run *r, double run_s)
{
	double sd = pooled_cpu_sd(r, run_s);
	if (isfinite(sd))
		return sd;
	sd = pooled_cpu_sd(r, r->be->short_s);
	return sd * sqrt(r->be->short_s / run_s);
}

static int nalive(const struct tune_run *r)
{
	int n = 0;
	for (int c = 0; c < r->space->n; c++)
		n += r->space->c[c].alive;
	return n;
}

/* Keeps the best by score, plus those within the noise of the cut. */
static void halve(struct tune_run *r, double run_s, double tol)
{
	struct tune_space *sp = r->space;
	struct ranked *k = calloc((size_t)sp->n, sizeof(*k));
	int n = 0;
	double sd = noise_sd(r, run_s);

	if (!k)
		return;
	for (int c = 0; c < sp->n; c++) {
		if (!sp->c[c].alive)
			continue;
		struct tune_summary s = summarize_at(r, c, run_s, target_of(r, c));
		k[n].c = c;
		k[n].score = score(r, &s, tol);
		k[n].sd = s.n ? 1 / sqrt(s.n) : 1;
		k[n].meets = r->obj->goal == GOAL_MIN_CPU && k[n].score < 1000 &&
			     s.lat.mean <= r->obj->slo_us;
		n++;
	}
	qsort(k, (size_t)n, sizeof(*k), by_score);
	int keep = (n + r->eta - 1) / r->eta;
	if (keep < r->leaders)
		keep = r->leaders;
	double cut = keep < n ? k[keep - 1].score : INFINITY;
	/* within noise: both feasible-looking, CPU difference inside the
	 * interval of a difference of two means at this length */
	double z = tune_t_quantile(r->conf, 30);
	int meeting = 0;
	for (int i = 0; i < n; i++) {
		struct tune_cand *c = &sp->c[k[i].c];
		meeting += k[i].meets;
		if (i < keep)
			continue;
		/* near-misses within the tolerance rank by CPU too and can push out
		 * every candidate that met a tight target outright (a busy mode at
		 * 100% CPU): the cheapest few of those always go on */
		if (k[i].meets && meeting <= r->leaders)
			continue;
		bool near = r->obj->goal == GOAL_MIN_CPU && isfinite(sd) && cut < 1000 &&
			    k[i].score < 1000 &&
			    k[i].score - cut <= z * sd * sqrt(k[i].sd * k[i].sd + 1.0);
		if (near && i < 2 * keep)
			continue;
		c->alive = 0;
		c->out_round = r->rounds;
		if (r->obj->goal == GOAL_MAX_QPS)
			snprintf(c->why, sizeof(c->why), "round %d: lower rate (%.0f/s)", r->rounds,
				 c->rate);
		else if (k[i].score >= 1000)
			snprintf(c->why, sizeof(c->why), "round %d: misses the target", r->rounds);
		else if (near)
			snprintf(c->why, sizeof(c->why), "round %d: cut by rank within noise (%.2f%% CPU, "
				 "cut at %.2f%%) to keep the budget", r->rounds, k[i].score,
				 cut);
		else
			snprintf(c->why, sizeof(c->why), "round %d: more CPU (%.2f%%, cut at %.2f%%)",
				 r->rounds, k[i].score, cut);
	}
	free(k);
}

/* Estimated wall time of what remains after halving at this point. */
static double later_estimate(const struct tune_run *r, int alive, double run_s)
{
	struct tune_job j = { .run_s = run_s, .qps = r->obj->qps };
	double t = 0;
	int p = r->be->parallel > 0 ? r->be->parallel : 1;

	while (alive > r->leaders && run_s < r->be->full_s) {
		alive = (alive + r->eta - 1) / r->eta;
		run_s = fmin(run_s * 2, r->be->full_s);
		j.run_s = run_s;
		t += alive * r->be->estimate(r->be->ctx, &j) / p;
	}
	j.run_s = r->be->full_s;
	int lead = alive < r->leaders ? alive : r->leaders;
	t += lead * MIN_REPS * r->be->estimate(r->be->ctx, &j) / p;
	return t;
}

double tune_plan(const struct tune_run *r, FILE *f)
{
	double run_s = r->be->short_s, t = 0;
	int alive = r->space->n, p = r->be->parallel > 0 ? r->be->parallel : 1, round = 0;
	struct tune_job j = { .qps = r->obj->qps };

	if (r->exhaustive) {
		j.run_s = r->be->full_s;
		t = alive * MIN_REPS * r->be->estimate(r->be->ctx, &j) / p;
		if (f)
			fprintf(f, "  exhaustive: %d candidates x %d runs of %g s, no halving: "
				"about %.0f s (budget %.0f s)\n", alive, MIN_REPS, r->be->full_s, t,
				r->budget_s);
		return t;
	}

	if (r->obj->goal == GOAL_MAX_QPS) {
		j.run_s = run_s;
		double one = r->be->estimate(r->be->ctx, &j);
		t += alive * one * 6 / p;
		if (f)
			fprintf(f, "  rate search: %d candidates x (1 closed-loop run + about 5 "
				"halving/bisection steps) of %g s: about %.0f s\n", alive, run_s,
				alive * one * 6 / p);
	}
	for (;;) {
		j.run_s = run_s;
		double one = r->be->estimate(r->be->ctx, &j);
		int probe = round == 0 && alive > 1 ? (alive < 8 ? alive : 8) : 0;
		double rt = (alive + probe) * one / p;
		t += rt;
		if (f)
			fprintf(f, "  round %d: %d candidates x 1 run of %g s%s: about %.0f s\n",
				round, alive, run_s, probe ? " (+8 noise-probe runs)" : "", rt);
		if (alive <= r->leaders)
			break;
		alive = (alive + r->eta - 1) / r->eta;
		if (alive < r->leaders)
			alive = r->leaders;
		if (run_s >= r->be->full_s && alive <= r->leaders)
			break;
		run_s = fmin(run_s * 2, r->be->full_s);
		round++;
	}
	j.run_s = r->be->full_s;
	double one = r->be->estimate(r->be->ctx, &j);
	int lead = alive < r->leaders ? alive : r->leaders;
	double lt = lead * MIN_REPS * one / p;
	t += lt;
	if (f) {
		fprintf(f, "  leaders: %d x at least %d runs of %g s: about %.0f s; then repeats "
			"of the closest ones (up to %d runs each) while the budget lasts\n", lead,
			MIN_REPS, r->be->full_s, lt, r->be->max_reps);
		fprintf(f, "  planned: about %.0f s (budget %.0f s)\n", t, r->budget_s);
	}
	return t;
}

/* ---- highest rate: the bisection ---------------------------------------- */

static bool holds(const struct tune_run *r, const struct tune_job *j)
{
	double lat = tune_obs_lat(j, r->obj->pct);
	return !j->rc && !missed(r, j) && lat <= r->obj->slo_us &&
	       (!isfinite(r->obj->cpu_cap) || tune_obs_cpu(j) <= r->obj->cpu_cap);
}

static int rate_search(struct tune_run *r, char *err, size_t len)
{
	struct tune_space *sp = r->space;
	struct batch b = { 0 };
	double run_s = r->be->short_s;
	int rc = 0;

	/* the closed-loop maximum bounds the search */
	for (int c = 0; c < sp->n && !rc; c++)
		rc = batch_add(r, &b, c, 0, run_s);
	if (!rc)
		rc = run_batch(r, &b, "rate search: maxima", 0, err, len);
	for (int c = 0; c < sp->n && !rc; c++) {
		struct tune_cand *cd = &sp->c[c];
		double m = 0;
		for (int i = 0; i < r->njobs; i++)
			if (r->jobs[i].cand == c && r->jobs[i].qps == 0 && !r->jobs[i].rc)
				m = fmax(m, r->jobs[i].r.qps);
		cd->rate_lo = 0;
		cd->rate_hi = m > 0 ? m * 1.05 : 0;
		cd->rate = 0;
	}
	/* halve from the maximum until a rate holds (at most 6 times), then
	 * bisect until the bracket is within 4% (10 steps at most) */
	for (int step = 0; step < 10 && !rc && !r->interrupted; step++) {
		char ph[48];
		for (int c = 0; c < sp->n && !rc; c++) {
			struct tune_cand *cd = &sp->c[c];
			if (cd->rate_hi <= 0 || (cd->rate_lo > 0 && cd->rate_hi - cd->rate_lo <
						 0.04 * cd->rate_hi) ||
			    (cd->rate_lo <= 0 && step >= 6))
				continue;
			/* the first probe at half the maximum, then halving the bracket */
			double mid = cd->rate_lo > 0 ? (cd->rate_lo + cd->rate_hi) / 2 : cd->rate_hi / 2;
			mid = round(mid);
			rc = batch_add(r, &b, c, mid, run_s);
		}
		snprintf(ph, sizeof(ph), "rate search: step %d", step + 1);
		if (!b.n)
			break;
		if (!rc)
			rc = run_batch(r, &b, ph, 0, err, len);
		/* the newest job of each candidate tells which half to keep */
		for (int c = 0; c < sp->n && !rc; c++) {
			struct tune_cand *cd = &sp->c[c];
			for (int i = r->njobs - 1; i >= 0; i--) {
				const struct tune_job *j = &r->jobs[i];
				if (j->cand != c)
					continue;
				if (j->qps > 0) {
					if (holds(r, j))
						cd->rate_lo = j->qps;
					else
						cd->rate_hi = j->qps;
				}
				break;
			}
		}
	}
	for (int c = 0; c < sp->n; c++) {
		struct tune_cand *cd = &sp->c[c];
		cd->rate = cd->rate_lo;
		if (cd->rate <= 0) {
			cd->alive = 0;
			cd->out_round = 0;
			snprintf(cd->why, sizeof(cd->why), "misses the target even at %.0f/s",
				 cd->rate_hi);
		}
	}
	free(b.j);
	return rc;
}

/* ---- rounds and leaders ------------------------------------------------- */

static int sh_rounds(struct tune_run *r, char *err, size_t len)
{
	struct tune_space *sp = r->space;
	struct batch b = { 0 };
	double run_s = r->be->short_s;
	int rc = 0;

	for (;;) {
		char ph[64];
		int alive = nalive(r), probe = 0;
		for (int c = 0; c < sp->n && !rc; c++)
			if (sp->c[c].alive)
				rc = batch_add(r, &b, c, target_of(r, c), run_s);
		/* noise probe: a second run of up to 8 candidates spread over the
		 * space, so the first cut knows how noisy one short run is */
		if (r->rounds == 0 && alive > 1)
			for (int c = 0, step = alive / 8 ? alive / 8 : 1; c < sp->n && probe < 8 && !rc;
			     c += step)
				if (sp->c[c].alive) {
					rc = batch_add(r, &b, c, target_of(r, c), run_s);
					probe++;
				}
		if (rc)
			break;
		double total = batch_estimate(r, &b) + later_estimate(r, alive, run_s);
		if (r->rounds > 0 && elapsed(r) + total > r->budget_s && alive > r->leaders) {
			/* not enough time for this round: the leaders by the last
			 * round's ranking go on */
			snprintf(r->why_stop, sizeof(r->why_stop), "budget: halving stopped after "
				 "round %d", r->rounds - 1);
			int eta = r->eta;
			r->eta = alive;	/* keep only the leaders */
			halve(r, run_s / 2 >= r->be->short_s ? run_s / 2 : run_s, 0.05);
			r->eta = eta;
			b.n = 0;
			break;
		}
		snprintf(ph, sizeof(ph), "round %d (%d candidates, %g s runs)", r->rounds, alive, run_s);
		rc = run_batch(r, &b, ph, later_estimate(r, alive, run_s), err, len);
		if (rc || r->interrupted)
			break;
		double tol = run_s >= r->be->full_s ? 0.05 : run_s > r->be->short_s ? 0.10 : 0.15;
		if (alive > r->leaders)
			halve(r, run_s, tol);
		if (!r->progress)
			fprintf(stderr, "[tune] round %d: %d candidates, %g s runs: %d go on "
				"(%.0f s elapsed)\n", r->rounds, alive, run_s, nalive(r), elapsed(r));
		r->rounds++;
		/* full-length runs: the leader phase's intervals decide from here */
		if (nalive(r) <= r->leaders || run_s >= r->be->full_s)
			break;
		run_s = fmin(run_s * 2, r->be->full_s);
	}
	free(b.j);
	return rc;
}

static void lose(struct tune_cand *c, int round, const char *fmt, double a, double b)
{
	c->alive = 0;
	c->out_round = round;
	snprintf(c->why, sizeof(c->why), fmt, a, b);
}

/* Changes from a preset: knobs in the spec, plus one for NIC coalescing. */
static int changes(const struct tune_cand *c)
{
	int n = c->coal != TC_AS_IS;
	for (const char *p = c->spec; *p; p++)
		n += *p == ',';
	return n;
}

/* A tie has no winner; the one listed first is the simplest of them (the
 * fewest changes from its preset), so a user who takes it changes least. */
static void simplest_first(struct tune_run *r)
{
	int *b = &r->best;
	for (int i = 0; i < r->ntied; i++) {
		int c = r->tied[i];
		if (changes(&r->space->c[c]) < changes(&r->space->c[*b])) {
			r->tied[i] = *b;
			*b = c;
		}
	}
}

/* At the repeat cap only candidates that surely meet the target share the
 * recommendation; a cheaper one whose latency interval still holds the
 * target is set apart as undecided (else a tie could list it first). */
static int keep_sure_ties(struct tune_run *r, const struct tune_summary *s)
{
	int n = 0;
	for (int i = 0; i < r->ntied; i++) {
		int c = r->tied[i];
		struct tune_cand *cd = &r->space->c[c];
		if (s[c].feasible_sure) {
			r->tied[n++] = c;
			continue;
		}
		cd->alive = 0;
		cd->out_round = r->rounds;
		snprintf(cd->why, sizeof(cd->why), "leaders: not shown to meet the target "
			 "(%s %.0f us [%.0f, %.0f] after %d runs; CPU %.1f%%)",
			 tune_pct_names[r->obj->pct], s[c].lat.mean, s[c].lat.lo, s[c].lat.hi,
			 s[c].n, s[c].cpu.mean);
	}
	r->ntied = n;
	return n;
}

/* One step of the leader phase for least CPU: fills batch b with the runs
 * to do next, or decides (returns 1). */
static int leaders_step_cpu(struct tune_run *r, struct batch *b)
{
	struct tune_space *sp = r->space;
	double full = r->be->full_s;
	int best = -1;
	struct tune_summary s[sp->n > 0 ? sp->n : 1];

	for (int c = 0; c < sp->n; c++) {
		if (!sp->c[c].alive)
			continue;
		s[c] = summarize_at(r, c, full, target_of(r, c));
		if (s[c].n < MIN_REPS)
			batch_add(r, b, c, target_of(r, c), full);
	}
	if (b->n)
		return 0;
	for (int c = 0; c < sp->n; c++)
		if (sp->c[c].alive && s[c].feasible_sure &&
		    (best < 0 || s[c].cpu.mean < s[best].cpu.mean))
			best = c;
	r->ntied = 0;
	if (best < 0) {
		/* nobody surely meets the target: repeat the uncertain ones */
		int unc = 0;
		for (int c = 0; c < sp->n; c++) {
			if (!sp->c[c].alive || s[c].infeasible_sure)
				continue;
			unc++;
			if (s[c].n < r->be->max_reps)
				batch_add(r, b, c, target_of(r, c), full);
		}
		if (b->n)
			return 0;
		r->verdict = unc ? V_NONE : V_INFEASIBLE;
		r->best = -1;
		return 1;
	}
	r->best = best;
	for (int c = 0; c < sp->n; c++) {
		if (!sp->c[c].alive || c == best)
			continue;
		if (s[c].infeasible_sure) {
			lose(&sp->c[c], r->rounds, "leaders: misses the target", 0, 0);
			snprintf(sp->c[c].why, sizeof(sp->c[c].why), "leaders: misses the target "
				 "(%s %.0f us)", tune_pct_names[r->obj->pct], s[c].lat.mean);
			continue;
		}
		if (s[c].cpu.lo > s[best].cpu.hi) {
			lose(&sp->c[c], r->rounds, "leaders: more CPU (%.1f%% vs %.1f%%, intervals "
			     "separate)", s[c].cpu.mean, s[best].cpu.mean);
			continue;
		}
		if (r->ntied < 32)
			r->tied[r->ntied++] = c;
	}
	if (!r->ntied) {
		r->verdict = V_WINNER;
		return 1;
	}
	for (int i = 0; i < r->ntied; i++)
		if (s[r->tied[i]].n < r->be->max_reps)
			batch_add(r, b, r->tied[i], target_of(r, r->tied[i]), full);
	if (b->n && s[best].n < r->be->max_reps)
		batch_add(r, b, best, target_of(r, best), full);
	if (b->n)
		return 0;
	/* every contender at max_reps, still overlapping */
	if (!keep_sure_ties(r, s)) {
		r->verdict = V_WINNER;
		return 1;
	}
	r->verdict = V_TIE;
	simplest_first(r);
	snprintf(r->why_stop, sizeof(r->why_stop), "%d runs each and the intervals still "
		 "overlap", r->be->max_reps);
	return 1;
}

/* Highest rate: confirm each leader's rate with full runs; a rate that
 * fails steps down to the middle of the bracket below it. */
static int leaders_step_rate(struct tune_run *r, struct batch *b)
{
	struct tune_space *sp = r->space;
	double full = r->be->full_s;
	int best = -1;

	for (int c = 0; c < sp->n; c++) {
		struct tune_cand *cd = &sp->c[c];
		if (!cd->alive)
			continue;
		struct tune_summary s = summarize_at(r, c, full, cd->rate);
		if (s.infeasible_sure || (s.n >= r->be->max_reps && !s.feasible_sure)) {
			cd->rate_hi = cd->rate;
			cd->rate = round(cd->rate * 0.95);
			if (cd->rate < 1) {
				lose(cd, r->rounds, "no rate holds the target", 0, 0);
				continue;
			}
			s = summarize_at(r, c, full, cd->rate);
		}
		if (!s.feasible_sure) {
			batch_add(r, b, c, cd->rate, full);
			continue;
		}
		if (best < 0 || cd->rate > sp->c[best].rate)
			best = c;
	}
	if (b->n)
		return 0;
	r->best = best;
	r->ntied = 0;
	if (best < 0) {
		r->verdict = V_INFEASIBLE;
		return 1;
	}
	/* another candidate whose failing rate lies above the best's confirmed
	 * rate might hold more: indistinguishable at this resolution */
	for (int c = 0; c < sp->n; c++) {
		if (!sp->c[c].alive || c == best)
			continue;
		if (sp->c[c].rate_hi > sp->c[best].rate && r->ntied < 32)
			r->tied[r->ntied++] = c;
		else
			lose(&sp->c[c], r->rounds, "leaders: lower rate (%.0f/s vs %.0f/s)",
			     sp->c[c].rate, sp->c[best].rate);
	}
	r->verdict = r->ntied ? V_TIE : V_WINNER;
	return 1;
}

static int leaders(struct tune_run *r, char *err, size_t len)
{
	struct batch b = { 0 };
	int rc = 0;

	for (;;) {
		int done = r->obj->goal == GOAL_MIN_CPU ? leaders_step_cpu(r, &b)
							: leaders_step_rate(r, &b);
		if (done || !b.n)
			break;
		if (elapsed(r) + batch_estimate(r, &b) > r->budget_s) {
			r->budget_hit = true;
			snprintf(r->why_stop, sizeof(r->why_stop), "budget of %.0f s ended",
				 r->budget_s);
			b.n = 0;
			break;
		}
		rc = run_batch(r, &b, "leaders", batch_estimate(r, &b), err, len);
		if (rc || r->interrupted)
			break;
	}
	/* the budget or a Ctrl-C ended it: decide on what there is */
	if (!rc && (r->budget_hit || r->interrupted)) {
		b.n = 0;
		int saved = r->be->max_reps;
		/* with no more runs allowed, a step decides */
		((struct tune_backend *)r->be)->max_reps = 0;
		if (r->obj->goal == GOAL_MIN_CPU)
			leaders_step_cpu(r, &b);
		else
			leaders_step_rate(r, &b);
		((struct tune_backend *)r->be)->max_reps = saved;
		if (b.n && r->verdict == V_NONE && r->best < 0)
			r->verdict = V_NONE;
	}
	free(b.j);
	return rc;
}

/* The closest candidate to the target: lowest latency at its longest runs. */
static void find_closest(struct tune_run *r)
{
	double bestlat = INFINITY;

	r->closest = -1;
	for (int c = 0; c < r->space->n; c++) {
		struct tune_summary s = tune_summarize(r, c, 0);
		double lat = s.rate_missed * 2 > s.n ? INFINITY : s.lat.mean;
		if (s.n && lat < bestlat) {
			bestlat = lat;
			r->closest = c;
		}
	}
	if (r->closest < 0)	/* every one missed the rate: the fastest then */
		for (int c = 0; c < r->space->n; c++) {
			struct tune_summary s = tune_summarize(r, c, 0);
			if (s.n && (r->closest < 0 || s.qps.mean > r->sclosest.qps.mean)) {
				r->closest = c;
				r->sclosest = s;
			}
		}
	if (r->closest >= 0)
		r->sclosest = tune_summarize(r, r->closest, 0);
}

int tune_search(struct tune_run *r, char *err, size_t len)
{
	int rc = 0;

	r->t0 = mono();
	r->best = r->second = r->closest = -1;
	r->verdict = V_NONE;
	if (!r->conf)
		r->conf = 0.95;
	if (r->eta < 2)
		r->eta = 3;
	if (r->leaders < 2)
		r->leaders = 4;
	if (r->exhaustive) {
		/* the baseline: the whole grid at full length, MIN_REPS runs
		 * each, one decision by the leaders' rule (no repeats) */
		struct tune_backend *be = (struct tune_backend *)r->be;
		int saved = be->max_reps;
		be->max_reps = MIN_REPS;
		rc = leaders(r, err, len);
		be->max_reps = saved;
	} else {
		if (r->obj->goal == GOAL_MAX_QPS)
			rc = rate_search(r, err, len);
		if (!rc && !r->interrupted && nalive(r))
			rc = sh_rounds(r, err, len);
		/* interrupted too: the leaders' step decides on what there is */
		if (!rc && nalive(r))
			rc = leaders(r, err, len);
	}
	if (!rc && !nalive(r))
		r->verdict = V_INFEASIBLE;
	progress_end(r);
	find_closest(r);
	if (r->best >= 0) {
		r->sbest = tune_summarize(r, r->best, r->be->full_s);
		/* the runner-up: the closest tied one, else the best of the rest */
		double bs = INFINITY;
		for (int c = 0; c < r->space->n; c++) {
			if (c == r->best)
				continue;
			struct tune_summary s = tune_summarize(r, c, r->be->full_s);
			bool ok = s.n && (r->obj->goal == GOAL_MAX_QPS ||
					  (s.lat.mean <= r->obj->slo_us && s.rate_missed * 2 <= s.n));
			double sc = r->obj->goal == GOAL_MIN_CPU ? s.cpu.mean : -r->space->c[c].rate;
			if (ok && sc < bs) {
				bs = sc;
				r->second = c;
				r->ssecond = s;
			}
		}
	}
	r->elapsed_s = elapsed(r);
	return rc;
}

void tune_run_free(struct tune_run *r)
{
	free(r->jobs);
	r->jobs = NULL;
	r->njobs = r->capjobs = 0;
}
