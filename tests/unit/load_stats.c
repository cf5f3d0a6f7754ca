/* The self-check statistics on synthetic data with known answers: the
 * batch-quantile confidence interval covers the true percentile at about
 * its stated rate, the KS distance tells a shifted distribution from the
 * same one, Anderson-Darling accepts exponential gaps and rejects gaps that
 * are not, and the t quantiles match the tables. */
#include <math.h>
#include <stdlib.h>

#include "irqlab/dist.h"
#include "irqlab/load_stats.h"
#include "tap.h"

static double exp_cdf(double x, const void *arg)
{
	return x <= 0 ? 0 : 1 - exp(-x / *(const double *)arg);
}

/* Coverage of the 95% interval of quantile q over `trials` runs of
 * nb x per iid exponential values (mean 100 us, in ns). */
static double coverage(double q, int trials, int nb, int per, struct il_rng *r)
{
	const double mean = 100000, truth = -mean * log(1 - q);
	struct il_hist *b[32], *all = il_hist_new();
	int covered = 0, done = 0;

	for (int i = 0; i < nb; i++)
		b[i] = il_hist_new();
	for (int t = 0; t < trials; t++) {
		double lo, hi;

		il_hist_reset(all);
		for (int i = 0; i < nb; i++) {
			il_hist_reset(b[i]);
			for (int k = 0; k < per; k++)
				il_hist_record(b[i], (uint64_t)(-mean * log(il_rng_uniform_pos(r))));
			il_hist_merge(all, b[i]);
		}
		if (il_ci_batch_quantile(b, nb, all, q, 0.95, &lo, &hi) < 0)
			continue;
		done++;
		/* the histogram's own resolution (0.4%) widens the target a little */
		covered += lo <= truth * 1.004 && truth * 0.996 <= hi;
	}
	for (int i = 0; i < nb; i++)
		il_hist_free(b[i]);
	il_hist_free(all);
	return done == trials ? (double)covered / trials : -1;
}

int main(void)
{
	struct il_rng r;
	double x[4000], mean = 1000, c;
	struct il_hist *a = il_hist_new(), *b = il_hist_new(), *s = il_hist_new();
	struct il_hist *few[12];
	double lo, hi;

	il_rng_seed(&r, 42);
	ok(fabs(il_t_quantile(0.975, 1) - 12.706) < 0.01, "t(0.975, 1) = 12.706");
	ok(fabs(il_t_quantile(0.975, 2) - 4.303) < 0.01, "t(0.975, 2) = 4.303");
	ok(fabs(il_t_quantile(0.975, 5) - 2.571) < 0.005, "t(0.975, 5) = 2.571 (%.4f)",
	   il_t_quantile(0.975, 5));
	ok(fabs(il_t_quantile(0.975, 19) - 2.093) < 0.002, "t(0.975, 19) = 2.093");
	ok(fabs(il_t_quantile(0.995, 30) - 2.750) < 0.002, "t(0.995, 30) = 2.750");

	/* 400 runs each (a fixed seed: the same every time). The interval is a
	 * little conservative (97-98% measured), so the band is 92-99%. */
	c = coverage(0.5, 400, 20, 2000, &r);
	ok(c >= 0.92 && c <= 0.99, "95%% CI of p50 covers the true median in %.1f%% of 400 runs", 100 * c);
	c = coverage(0.99, 400, 20, 2000, &r);
	ok(c >= 0.92 && c <= 0.99, "95%% CI of p99 covers the true p99 in %.1f%% of 400 runs", 100 * c);
	c = coverage(0.999, 200, 20, 20000, &r);
	ok(c >= 0.90 && c <= 0.99, "95%% CI of p99.9 covers the true p99.9 in %.1f%% of 200 runs", 100 * c);

	for (int i = 0; i < 12; i++) {
		few[i] = il_hist_new();
		for (int k = 0; k < 50; k++)
			il_hist_record(few[i], 1000 + (uint64_t)k);
		il_hist_merge(s, few[i]);
	}
	ok(il_ci_batch_quantile(few, 12, s, 0.99, 0.95, &lo, &hi) == -1 && isnan(lo),
	   "no interval for p99 from batches of 50 values");
	ok(il_ci_batch_quantile(few, 9, s, 0.5, 0.95, &lo, &hi) == -1, "no interval from 9 batches");
	for (int i = 0; i < 12; i++)
		il_hist_free(few[i]);

	/* KS: two samples of one distribution are close, a 30% shift is not */
	for (int i = 0; i < 20000; i++) {
		il_hist_record(a, (uint64_t)(-100000 * log(il_rng_uniform_pos(&r))));
		il_hist_record(b, (uint64_t)(-100000 * log(il_rng_uniform_pos(&r))));
	}
	ok(il_ks_distance(a, b) < il_ks_critical(0.001, 20000, 20000),
	   "KS: same distribution below the 0.1%% critical distance (%.4f < %.4f)", il_ks_distance(a, b),
	   il_ks_critical(0.001, 20000, 20000));
	il_hist_reset(b);
	for (int i = 0; i < 20000; i++)
		il_hist_record(b, (uint64_t)(30000 - 100000 * log(il_rng_uniform_pos(&r))));
	ok(il_ks_distance(a, b) > 0.2, "KS: shifted by 30 us of 100: distance %.3f > 0.2",
	   il_ks_distance(a, b));

	/* Anderson-Darling against exponential(mean 1000) */
	for (int i = 0; i < 4000; i++)
		x[i] = -mean * log(il_rng_uniform_pos(&r));
	c = il_anderson_darling(x, 4000, exp_cdf, &mean);
	ok(c < 3.857, "AD: exponential gaps accepted (A^2 = %.2f < 3.857)", c);
	for (int i = 0; i < 4000; i++)	/* gaps rounded up to 200: a coarse clock */
		x[i] = 200 * ceil(-mean * log(il_rng_uniform_pos(&r)) / 200);
	c = il_anderson_darling(x, 4000, exp_cdf, &mean);
	ok(c > 3.857, "AD: gaps on a 200-unit grid rejected (A^2 = %.1f)", c);
	for (int i = 0; i < 4000; i++)
		x[i] = 2 * mean * il_rng_uniform(&r);
	c = il_anderson_darling(x, 4000, exp_cdf, &mean);
	ok(c > 3.857, "AD: uniform gaps of the same mean rejected (A^2 = %.1f)", c);
	for (int i = 0; i < 4000; i++)
		x[i] = -mean * log(il_rng_uniform_pos(&r));
	c = il_ks_one(x, 4000, exp_cdf, &mean);
	ok(c < 0.03, "KS one-sample: exponential gaps at distance %.4f < 0.03", c);
	for (int i = 0; i < 4000; i++)	/* the first 5% of gaps collapse to 0 */
		x[i] = fmax(0, -mean * log(il_rng_uniform_pos(&r)) - 51.3);
	c = il_ks_one(x, 4000, exp_cdf, &mean);
	ok(c > 0.04 && c < 0.07, "KS one-sample: a 5%% atom at 0 gives distance %.4f (about 0.05)", c);
	il_hist_free(a);
	il_hist_free(b);
	il_hist_free(s);
	return tap_done();
}
