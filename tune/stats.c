/* Means and confidence intervals. Latencies are compared on a log scale
 * (their noise is multiplicative and skewed), CPU shares on a linear one.
 * Student's t quantile is the library's (il_t_quantile, the one irqlab-load's
 * self-checks use): exact for df 1 and 2, Cornish-Fisher from Acklam's normal
 * quantile above, within 1% of the table. */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "irqlab/load_stats.h"
#include "tune.h"

/* conf is two-sided (0.95: 2.5% in each tail); the library's quantile is
 * one-sided. */
double tune_t_quantile(double conf, int df)
{
	if (df < 1)
		return INFINITY;
	return il_t_quantile(1 - (1 - conf) / 2, df);
}

struct tune_ci tune_ci(const double *x, int n, double conf)
{
	struct tune_ci c = { NAN, -INFINITY, INFINITY, 0 };
	double s = 0, ss = 0;
	int k = 0;

	for (int i = 0; i < n; i++)
		if (isfinite(x[i])) {
			s += x[i];
			k++;
		}
	c.n = k;
	if (!k)
		return c;
	c.mean = s / k;
	if (k < 2)
		return c;
	for (int i = 0; i < n; i++)
		if (isfinite(x[i]))
			ss += (x[i] - c.mean) * (x[i] - c.mean);
	double half = tune_t_quantile(conf, k - 1) * sqrt(ss / (k - 1) / k);
	c.lo = c.mean - half;
	c.hi = c.mean + half;
	return c;
}

struct tune_ci tune_ci_log(const double *x, int n, double conf)
{
	double l[n > 0 ? n : 1];

	for (int i = 0; i < n; i++)
		l[i] = x[i] > 0 ? log(x[i]) : NAN;
	struct tune_ci c = tune_ci(l, n, conf);
	c.mean = exp(c.mean);
	c.lo = exp(c.lo);
	c.hi = exp(c.hi);
	return c;
}

double tune_obs_lat(const struct tune_job *j, enum tune_pct p)
{
	switch (p) {
	case PCT_P50: return j->r.p50_us;
	case PCT_P95: return j->r.p95_us;
	case PCT_P99: return j->r.p99_us;
	case PCT_P999: return j->p999_us;
	default: return NAN;
	}
}

double tune_obs_cpu(const struct tune_job *j)
{
	return isfinite(j->r.cpu_idle) ? 100 - j->r.cpu_idle : NAN;
}
