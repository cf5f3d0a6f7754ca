/* Statistics that check themselves (issue 13, after Lancet). While the run
 * goes, each thread cuts its measured window into stretches of time
 * ("batches", by when it handled the reply) with one histogram each, and
 * keeps a sample of the gaps between its sends. After the run (and, with
 * --ci, twice a second during it) these give:
 *   - a 95% confidence interval for every reported percentile (batch
 *     quantiles: lib/load_stats.c);
 *   - stationarity: the first third of the batches against the last
 *     third: fails when they differ beyond chance (Kolmogorov-Smirnov) and
 *     by enough to matter (p50 or p90 moved by over 10%);
 *   - inter-arrival: the achieved gaps against the requested distribution
 *     (one-sample KS distance over 0.05 fails; Anderson-Darling's A^2 is
 *     shown too, but it rejects the microseconds of jitter any sleeping
 *     generator has), open loop;
 *   - schedule: the share of sends later than --late-us with a connection
 *     free, open loop;
 *   - ci: the p99 interval's half-width as a share of p99.
 * Batches start 100 ms long (or --time/32 for shorter runs); when LB_MAX
 * are full, neighbours are merged and the length doubles, so a run of any
 * length has 16-32 of them. A thread takes its batch lock only to close a
 * batch or merge; the main thread takes it to read closed batches. */
#define _GNU_SOURCE
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irqlab/load_stats.h"
#include "load.h"

#define GAP_MAX 4096		/* gap samples kept per thread */
#define AD_MAX 2000		/* gaps tested (strided over all threads') */

int checks_init(struct thread *t)
{
	struct lbatches *b = &t->bat;
	double len = t->o->time / 32;

	pthread_mutex_init(&b->mu, NULL);
	b->len = (uint64_t)(1e9 * (len < 0.1 ? len : 0.1));
	if (!b->len)
		b->len = 1;
	t->gaps = calloc(GAP_MAX, sizeof(*t->gaps));
	il_rng_seed(&t->gap_rng, t->o->seed ^ 0x5bd1e995u ^ (uint64_t)t->id);
	return t->gaps ? 0 : -1;
}

void checks_free(struct thread *t)
{
	for (int op = 0; op < 2; op++)
		for (int i = 0; i < LB_MAX; i++) {
			il_hist_free(t->bat.h[op][i]);
			t->bat.h[op][i] = NULL;
		}
	free(t->gaps);
	t->gaps = NULL;
	pthread_mutex_destroy(&t->bat.mu);
}

/* Merges neighbouring batches and doubles the length (lock held). */
static void halve(struct lbatches *b)
{
	for (int op = 0; op < 2; op++)
		for (int i = 0; i < LB_MAX; i++) {
			struct il_hist **dst = &b->h[op][i / 2], *src = b->h[op][i];

			b->h[op][i] = NULL;
			if (!src)
				continue;
			if (!*dst) {
				*dst = src;
			} else {
				il_hist_merge(*dst, src);
				il_hist_free(src);
			}
		}
	b->len *= 2;
	b->closed /= 2;
	b->cur /= 2;
}

static void advance(struct lbatches *b, uint64_t now)
{
	pthread_mutex_lock(&b->mu);
	while ((now - b->t0) / b->len >= LB_MAX)
		halve(b);
	b->cur = (unsigned)((now - b->t0) / b->len);
	b->closed = b->cur;
	pthread_mutex_unlock(&b->mu);
}

void checks_record(struct thread *t, int op, uint64_t v, uint64_t now)
{
	struct lbatches *b = &t->bat;
	struct il_hist **h;

	if (!b->len)		/* no checks_init (the unit tests' threads) */
		return;
	if (now < b->t0)
		now = b->t0;
	if ((now - b->t0) / b->len != b->cur)
		advance(b, now);
	h = &b->h[op][b->cur];
	if (!*h && !(*h = il_hist_new()))	/* the open batch: ours alone */
		return;
	il_hist_record(*h, v);
}

void checks_send(struct thread *t, uint64_t now)
{
	uint64_t seen = t->gaps_seen++;

	if (t->last_send && t->gaps) {
		double gap = (double)(now - t->last_send);

		if (seen < GAP_MAX)		/* reservoir sampling */
			t->gaps[seen] = gap;
		else if (il_rng_next(&t->gap_rng) % (seen + 1) < GAP_MAX)
			t->gaps[il_rng_next(&t->gap_rng) % GAP_MAX] = gap;
	} else {
		t->gaps_seen = 0;
	}
	t->last_send = now;
}

/* Sums batch i of every thread into out[op][i], for the batches every
 * thread has closed (live, during the run: each thread's lock is held
 * only while its own batches are read) or has at all (after the run,
 * when threads with shorter batches are first brought to the longest).
 * Returns the count, 0 when a thread is just doubling (try again). */
static int gather(struct thread *ts, unsigned n, struct il_hist *out[2][LB_MAX], int live)
{
	uint64_t len = 0;
	unsigned nb = LB_MAX;

	for (unsigned k = 0; k < n; k++) {
		struct lbatches *b = &ts[k].bat;
		unsigned have;

		if (live)
			pthread_mutex_lock(&b->mu);
		len = b->len > len ? b->len : len;
		have = live ? b->closed : b->cur + 1;
		nb = have < nb ? have : nb;
		if (live)
			pthread_mutex_unlock(&b->mu);
	}
	if (!live) {		/* after the run: all to the longest batches */
		nb = 0;
		for (unsigned k = 0; k < n; k++) {
			while (ts[k].bat.len < len)
				halve(&ts[k].bat);
			nb = ts[k].bat.cur + 1 > nb ? ts[k].bat.cur + 1 : nb;
		}
	}
	for (int op = 0; op < 2; op++)
		for (unsigned i = 0; i < nb; i++)
			il_hist_reset(out[op][i]);
	for (unsigned k = 0; k < n; k++) {
		struct lbatches *b = &ts[k].bat;
		int same;

		if (live)
			pthread_mutex_lock(&b->mu);
		same = b->len == len;
		for (int op = 0; op < 2 && same; op++)
			for (unsigned i = 0; i < nb; i++)
				if (b->h[op][i])
					il_hist_merge(out[op][i], b->h[op][i]);
		if (live)
			pthread_mutex_unlock(&b->mu);
		if (!same)
			return 0;
	}
	return (int)nb;
}

struct batches_all {
	struct il_hist *h[2][LB_MAX];
	struct il_hist *sum[2];
};

static struct batches_all *batches_new(void)
{
	struct batches_all *a = calloc(1, sizeof(*a));

	for (int op = 0; a && op < 2; op++) {
		a->sum[op] = il_hist_new();
		for (int i = 0; i < LB_MAX; i++)
			a->h[op][i] = il_hist_new();
	}
	return a;
}

static void batches_free(struct batches_all *a)
{
	for (int op = 0; a && op < 2; op++) {
		il_hist_free(a->sum[op]);
		for (int i = 0; i < LB_MAX; i++)
			il_hist_free(a->h[op][i]);
	}
	free(a);
}

/* The op with more values in the batches: the one the stop rule and the
 * ci check follow. */
static int main_op(struct batches_all *a, int nb)
{
	uint64_t c[2] = { 0, 0 };

	for (int op = 0; op < 2; op++) {
		il_hist_reset(a->sum[op]);
		for (int i = 0; i < nb; i++)
			il_hist_merge(a->sum[op], a->h[op][i]);
		c[op] = il_hist_count(a->sum[op]);
	}
	return c[OP_SET] > c[OP_GET] ? OP_SET : OP_GET;
}

/* The interval of quantile q from the batches h[0..nb); when a batch
 * holds too few values for q, from half as many batches of twice the
 * length (down to 10 batches). ns; -1 if none can be had. */
static int ci(struct il_hist *const *h, int nb, const struct il_hist *all, double q,
	      double *lo, double *hi)
{
	struct il_hist *m[LB_MAX / 2];
	int rc;

	rc = il_ci_batch_quantile(h, nb, all, q, 0.95, lo, hi);
	if (rc == 0 || nb < 20)
		return rc;
	for (int i = 0; i < nb / 2; i++) {
		if (!(m[i] = il_hist_new())) {
			while (i--)
				il_hist_free(m[i]);
			return -1;
		}
		il_hist_merge(m[i], h[2 * i]);
		il_hist_merge(m[i], h[2 * i + 1]);
	}
	rc = ci(m, nb / 2, all, q, lo, hi);
	for (int i = 0; i < nb / 2; i++)
		il_hist_free(m[i]);
	return rc;
}

/* p99's half-width / p99, of the main op, or NAN. */
static double p99_width(struct batches_all *a, int nb, int op)
{
	double lo, hi, p99 = (double)il_hist_quantile(a->sum[op], 0.99);

	if (ci(a->h[op], nb, a->sum[op], 0.99, &lo, &hi) < 0 || !(p99 > 0))
		return NAN;
	return (hi - lo) / 2 / p99;
}

int checks_ci_reached(struct thread *ts, unsigned n, double target, double *width)
{
	static struct batches_all *a;
	int nb;

	*width = NAN;
	if (!a && !(a = batches_new()))
		return 0;
	nb = gather(ts, n, a->h, 1);
	if (nb < 10)
		return 0;
	*width = p99_width(a, nb, main_op(a, nb));
	return *width <= target;
}

/* Adds a check; a failed one also becomes a warning (unless warn is 0:
 * another warning says it already). */
static void check(struct il_load_summary *s, int warn, const char *name, int ok, double stat,
		  double limit, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static void check(struct il_load_summary *s, int warn, const char *name, int ok, double stat,
		  double limit, const char *fmt, ...)
{
	struct il_load_check *c;
	va_list ap;

	if (s->nchecks == IL_LOAD_MAX_CHECKS)
		return;
	c = &s->checks[s->nchecks++];
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->ok = ok;
	c->stat = stat;
	c->limit = limit;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
	if (ok == 0 && warn)
		il_load_summary_warn(s, "%s", c->detail);
}

/* The last batch holds the drain after the window (replies handled late):
 * when it has under half of a typical batch's values it is merged into
 * the one before. */
static int trim(struct batches_all *a, int nb)
{
	uint64_t last, before;

	if (nb < 3)
		return nb;
	last = il_hist_count(a->h[0][nb - 1]) + il_hist_count(a->h[1][nb - 1]);
	before = il_hist_count(a->h[0][nb - 2]) + il_hist_count(a->h[1][nb - 2]);
	if (2 * last >= before)
		return nb;
	for (int op = 0; op < 2; op++)
		il_hist_merge(a->h[op][nb - 2], a->h[op][nb - 1]);
	return nb - 1;
}

/* Confidence intervals of every percentile of the latency kind that was
 * batched (kernel-stamped where there were stamps). */
static void intervals(struct il_load_summary *s, struct batches_all *a, int nb, int kind)
{
	s->ci_level = 0.95;
	for (int op = 0; op < 2; op++) {
		struct il_load_stat *st = &s->lat[op][kind];

		for (int q = 0; q < IL_LOAD_NQ; q++) {
			double lo, hi;

			if (ci(a->h[op], nb, a->sum[op], il_load_q[q], &lo, &hi) < 0)
				continue;
			st->ci_lo[q] = lo / 1000;
			st->ci_hi[q] = hi / 1000;
		}
	}
}

static void stationarity(struct il_load_summary *s, struct batches_all *a, int nb)
{
	struct il_hist *first = il_hist_new(), *last = il_hist_new();
	int third = nb / 3, moved;
	double d, crit, shift = 0;

	if (!first || !last || third < 1) {
		check(s, 1, "stationarity", -1, NAN, NAN, "stationarity: too few batches (%d)", nb);
		goto out;
	}
	for (int i = 0; i < third; i++)
		for (int op = 0; op < 2; op++) {
			il_hist_merge(first, a->h[op][i]);
			il_hist_merge(last, a->h[op][nb - 1 - i]);
		}
	/* Statistically different (KS beyond its 0.1% critical distance) is
	 * not enough: with 1e5 values a 3% shift of a narrow distribution is
	 * significant. It must also matter: p50 or p90 moved by over 10%. */
	d = il_ks_distance(first, last);
	crit = il_ks_critical(0.001, il_hist_count(first), il_hist_count(last));
	for (int i = 0; i < 2; i++) {
		double qf = (double)il_hist_quantile(first, i ? 0.9 : 0.5);
		double ql = (double)il_hist_quantile(last, i ? 0.9 : 0.5);

		shift = fmax(shift, qf > 0 ? fabs(ql / qf - 1) : 0);
	}
	moved = d > crit && shift > 0.1;
	check(s, 1, "stationarity", isnan(crit) ? -1 : !moved, shift, 0.1,
	      "latency in the last third of the run %s the first (p50 %.1f vs %.1f us, p90 %.1f vs "
	      "%.1f us; KS distance %.3f, critical %.3f)", moved ? "differs from" : "matches",
	      il_hist_quantile(first, 0.5) / 1000.0, il_hist_quantile(last, 0.5) / 1000.0,
	      il_hist_quantile(first, 0.9) / 1000.0, il_hist_quantile(last, 0.9) / 1000.0, d, crit);
out:
	il_hist_free(first);
	il_hist_free(last);
}

/* CDF of an inter-arrival distribution at x ns, by bisection on its
 * quantile function (monotone). */
static double ia_cdf(double x, const void *arg)
{
	const struct il_dist *d = arg;
	double lo = 0, hi = 1;

	for (int i = 0; i < 60; i++) {
		double mid = (lo + hi) / 2;

		if (il_dist_quantile(d, mid) < x)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

static void interarrival(struct il_load_summary *s, const struct il_load_opts *o,
			 struct thread *ts, unsigned n)
{
	size_t have = 0, m = 0;
	double *x, a2, ks, limit;
	struct il_dist d = ts[0].ia;

	if (o->qps <= 0)
		return;
	if (isnan(il_dist_quantile(&d, 0.5)) || d.kind == IL_DIST_FIXED) {
		check(s, 1, "interarrival", -1, NAN, NAN, "inter-arrival check: needs a continuous "
		      "distribution with a quantile function (not %s)", o->ia_spec);
		return;
	}
	for (unsigned k = 0; k < n; k++)
		have += ts[k].gaps_seen < GAP_MAX ? ts[k].gaps_seen : GAP_MAX;
	if (!(x = malloc((have < AD_MAX ? have : AD_MAX) * sizeof(*x) + 1)))
		return;
	/* every (have / AD_MAX)-th of all threads' samples */
	for (unsigned k = 0, seen = 0; k < n; k++) {
		size_t g = ts[k].gaps_seen < GAP_MAX ? ts[k].gaps_seen : GAP_MAX;

		for (size_t i = 0; i < g; i++, seen++)
			if (m < AD_MAX && (uint64_t)seen * AD_MAX / have >= m)
				x[m++] = ts[k].gaps[i];
	}
	/* Anderson-Darling rejects the microsecond jitter of any sleeping
	 * generator (two sends due within one wake-up leave together: gaps
	 * of 0); the verdict is the KS distance, with 0.05 as the smallest
	 * difference worth a warning, and A^2 is shown beside it. */
	ks = il_ks_one(x, m, ia_cdf, &d);
	a2 = il_anderson_darling(x, m, ia_cdf, &d);
	limit = fmax(1.63 / sqrt((double)m), 0.05);	/* c(1%) = 1.63 */
	check(s, 1, "interarrival", isnan(ks) ? -1 : ks <= limit, ks, limit,
	      "achieved gaps between sends %s the requested %s (KS distance %.3f, limit %.3f, "
	      "A^2 %.0f, %zu gaps; send lag p50 %.0f us, mean gap %.0f us)",
	      ks <= limit ? "follow" : "do not follow", o->ia_spec, ks, limit, a2, m,
	      s->schedule.send_lag.p[0], il_dist_mean(&d) / 1000);
	free(x);
}

void checks_fill(struct il_load_summary *s, const struct il_load_opts *o, struct thread *ts,
		 unsigned n)
{
	struct batches_all *a = batches_new();
	int nb, op, kind = s->lat[0][IL_LAT_KERNEL].count || s->lat[1][IL_LAT_KERNEL].count ?
		IL_LAT_KERNEL : IL_LAT_CORRECTED;
	double w;

	if (!a)
		return;
	nb = trim(a, gather(ts, n, a->h, 0));

	op = main_op(a, nb);
	intervals(s, a, nb, kind);
	w = p99_width(a, nb, op);
	if (isnan(w))
		check(s, 1, "ci", -1, w, NAN, "p99's confidence interval: too few values per batch "
		      "(%d batches, each needs 1000)", nb);
	else	/* without --ci, wider than 25% is worth a warning */
		check(s, 1, "ci", w <= (o->ci > 0 ? o->ci : 0.25), w, o->ci > 0 ? o->ci : 0.25,
		      "p99 known to +-%.1f%% (95%% confidence, %d batches of %.3f s)", 100 * w, nb,
		      ts[0].bat.len / 1e9);
	stationarity(s, a, nb);
	interarrival(s, o, ts, n);
	if (o->qps > 0 && s->requests.sent) {
		double late = (double)s->schedule.late_sends / (double)s->requests.sent;

		/* its warning is the "fell behind" one */
		check(s, 0, "schedule", late <= 0.01, late, 0.01, "%.2f%% of sends more than %.0f us "
		      "late with a connection free (send lag p50 %.1f, p99 %.1f us)", 100 * late,
		      o->late_us, s->schedule.send_lag.p[0], s->schedule.send_lag.p[3]);
	}
	batches_free(a);
}
