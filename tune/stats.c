/* Means and confidence intervals. Latencies are compared on a log scale
 * (their noise is multiplicative and skewed), CPU shares on a linear one.
 * The t quantile comes from the normal one (Acklam's rational
 * approximation) through the Cornish-Fisher expansion: within 1% of the
 * table for df >= 2, which is all the search uses (it needs 2 runs for an
 * interval and asks for 3). */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "tune.h"

static double norm_quantile(double p)
{
	static const double a[] = { -3.969683028665376e+01, 2.209460984245205e+02,
		-2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01,
		2.506628277459239e+00 };
	static const double b[] = { -5.447609879822406e+01, 1.615858368580409e+02,
		-1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01 };
	static const double c[] = { -7.784894002430293e-03, -3.223964580411365e-01,
		-2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00,
		2.938163982698783e+00 };
	static const double d[] = { 7.784695709041462e-03, 3.224671290700398e-01,
		2.445134137142996e+00, 3.754408661907416e+00 };
	double q, r;

	if (p < 0.02425) {
		q = sqrt(-2 * log(p));
		return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		       ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	}
	if (p > 1 - 0.02425)
		return -norm_quantile(1 - p);
	q = p - 0.5;
	r = q * q;
	return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
	       (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

double tune_t_quantile(double conf, int df)
{
	double z = norm_quantile(1 - (1 - conf) / 2), v = df;
	double z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z, z9 = z7 * z * z;

	if (df < 1)
		return INFINITY;
	if (df == 1)	/* the expansion is poor here: exact, tan(pi/2 * conf) */
		return tan(M_PI / 2 * conf);
	return z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v) +
	       (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * v * v * v) +
	       (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / (92160 * v * v * v * v);
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
