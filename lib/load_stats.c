/* Self-check statistics of irqlab-load (load_stats.h). */
#include "irqlab/load_stats.h"

#include <math.h>
#include <stdlib.h>

/* Standard normal quantile (P. J. Acklam's rational approximation, relative
 * error below 1.2e-9), p in (0, 1). */
static double normal_quantile(double p)
{
	static const double a[] = { -3.969683028665376e+01, 2.209460984245205e+02,
				    -2.759285104469687e+02, 1.383577518672690e+02,
				    -3.066479806614716e+01, 2.506628277459239e+00 };
	static const double b[] = { -5.447609879822406e+01, 1.615858368580409e+02,
				    -1.556989798598866e+02, 6.680131188771972e+01,
				    -1.328068155288572e+01 };
	static const double c[] = { -7.784894002430293e-03, -3.223964580411365e-01,
				    -2.400758277161838e+00, -2.549732539343734e+00,
				    4.374664141464968e+00, 2.938163982698783e+00 };
	static const double d[] = { 7.784695709041462e-03, 3.224671290700398e-01,
				    2.445134137142996e+00, 3.754408661907416e+00 };
	double q, r;

	if (p < 0.02425) {
		q = sqrt(-2 * log(p));
		return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
		       ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
	}
	if (p > 1 - 0.02425)
		return -normal_quantile(1 - p);
	q = p - 0.5;
	r = q * q;
	return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
	       (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

double il_t_quantile(double p, int df)
{
	double z = normal_quantile(p), z2 = z * z, v = df;

	if (df <= 1)
		return tan(M_PI * (p - 0.5));
	if (df == 2)
		return (2 * p - 1) / sqrt(2 * p * (1 - p));
	/* Abramowitz & Stegun 26.7.5 */
	return z + (z2 + 1) * z / (4 * v) +
	       ((5 * z2 + 16) * z2 + 3) * z / (96 * v * v) +
	       (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / (384 * v * v * v) +
	       ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / (92160 * v * v * v * v);
}

int il_ci_batch_quantile(struct il_hist *const *b, int nb, const struct il_hist *all,
			 double q, double level, double *lo, double *hi)
{
	double sum = 0, sq = 0, mean, sd, half, centre;
	double need = 10 / (1 - q);

	*lo = *hi = NAN;
	if (nb < 10)
		return -1;
	for (int i = 0; i < nb; i++) {
		double x;

		if ((double)il_hist_count(b[i]) < need)
			return -1;
		x = (double)il_hist_quantile(b[i], q);
		sum += x;
		sq += x * x;
	}
	mean = sum / nb;
	sd = sqrt(fmax(0, (sq - nb * mean * mean) / (nb - 1)));
	half = il_t_quantile(1 - (1 - level) / 2, nb - 1) * sd / sqrt(nb);
	centre = (double)il_hist_quantile(all, q);
	*lo = centre - half;
	*hi = centre + half;
	return 0;
}

double il_ks_distance(const struct il_hist *a, const struct il_hist *b)
{
	double na = (double)il_hist_count(a), nb = (double)il_hist_count(b), d = 0;
	uint64_t ca = 0, cb = 0;
	unsigned n = il_hist_nbuckets();

	if (!na || !nb)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		ca += il_hist_bucket(a, i, NULL, NULL);
		cb += il_hist_bucket(b, i, NULL, NULL);
		d = fmax(d, fabs(ca / na - cb / nb));
	}
	return d;
}

double il_ks_critical(double alpha, uint64_t n, uint64_t m)
{
	if (!n || !m)
		return NAN;
	return sqrt(-log(alpha / 2) / 2) * sqrt((double)(n + m) / ((double)n * (double)m));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double il_anderson_darling(double *x, size_t n, double (*cdf)(double x, const void *arg),
			   const void *arg)
{
	double s = 0;

	if (n < 8)
		return NAN;
	qsort(x, n, sizeof(*x), cmp_double);
	for (size_t i = 0; i < n; i++) {
		double f1 = fmin(fmax(cdf(x[i], arg), 1e-12), 1 - 1e-12);
		double f2 = fmin(fmax(cdf(x[n - 1 - i], arg), 1e-12), 1 - 1e-12);

		s += (2.0 * (double)i + 1) * (log(f1) + log(1 - f2));
	}
	return -(double)n - s / (double)n;
}

double il_ks_one(double *x, size_t n, double (*cdf)(double x, const void *arg),
		 const void *arg)
{
	double d = 0;

	if (n < 8)
		return NAN;
	qsort(x, n, sizeof(*x), cmp_double);
	for (size_t i = 0; i < n; i++) {
		double f = cdf(x[i], arg);

		d = fmax(d, fmax((double)(i + 1) / (double)n - f, f - (double)i / (double)n));
	}
	return d;
}
