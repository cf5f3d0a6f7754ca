/* The statistics irqlab-load checks itself with (issue 13, after Lancet):
 * confidence intervals of percentiles by batch means, a two-sample
 * Kolmogorov-Smirnov distance between histograms (stationarity), and the
 * Anderson-Darling statistic of a sample against a distribution (did the
 * achieved inter-arrival times follow the requested ones). Pure functions
 * over histograms and arrays: tests/unit/load_stats.c checks them on
 * synthetic data with known answers. */
#ifndef IRQLAB_LOAD_STATS_H
#define IRQLAB_LOAD_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "irqlab/hist.h"

/* Student's t quantile (p in (0.5, 1), df >= 1): exact for df 1 and 2,
 * Cornish-Fisher expansion beyond (error < 1e-3 from df 3). */
double il_t_quantile(double p, int df);

/* The confidence interval of the q-quantile by batch quantiles: b[0..nb)
 * are the histograms of consecutive, equally long stretches of the run,
 * `all` their sum. Centre: the quantile of all; half-width:
 * t(level, nb-1) * sd(the batches' quantiles) / sqrt(nb). Returns 0, or -1
 * (lo = hi = NAN) with fewer than 10 batches or a batch holding fewer than
 * 10 / (1 - q) values (its quantile would be mostly noise). ns. */
int il_ci_batch_quantile(struct il_hist *const *b, int nb, const struct il_hist *all,
			 double q, double level, double *lo, double *hi);

/* max |F_a(x) - F_b(x)| over the buckets (0 if either is empty), and the
 * distance above which two samples of n and m values differ at level alpha
 * (c(alpha) sqrt((n + m) / (n m))). */
double il_ks_distance(const struct il_hist *a, const struct il_hist *b);
double il_ks_critical(double alpha, uint64_t n, uint64_t m);

/* One-sample Kolmogorov-Smirnov distance of x[0..n) (sorted in place)
 * from the CDF: max |F_n(x) - F(x)|. NAN for n < 8. */
double il_ks_one(double *x, size_t n, double (*cdf)(double x, const void *arg),
		 const void *arg);

/* Anderson-Darling A^2 of x[0..n) (sorted in place) against the continuous
 * CDF cdf(x, arg). With the parameters known in advance (not fitted) A^2 >
 * 3.857 rejects at 1%, > 2.492 at 5%. NAN for n < 8. */
double il_anderson_darling(double *x, size_t n, double (*cdf)(double x, const void *arg),
			   const void *arg);

#endif
