/* Distribution samplers against their analytic means and quantiles, over
 * fixed seeds; parser accepts mutilate's syntax and rejects junk. */
#include <math.h>

#include "irqlab/dist.h"
#include "tap.h"

#define N 400000

static double xs[N];

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double rel(double got, double want)
{
	return fabs(got - want) / (fabs(want) > 1e-12 ? fabs(want) : 1);
}

static void check(const char *spec, double mtol, double qtol)
{
	struct il_dist d;
	struct il_rng r;
	char err[256];
	double sum = 0, m;
	static const double qs[] = { 0.1, 0.5, 0.9, 0.99 };

	if (!ok(il_dist_parse(spec, &d, err, sizeof(err)) == 0, "parse %s", spec)) {
		tap_diag("%s", err);
		return;
	}
	il_rng_seed(&r, 42);
	for (int i = 0; i < N; i++)
		sum += xs[i] = il_dist_sample(&d, &r);
	m = il_dist_mean(&d);
	if (!ok(rel(sum / N, m) < mtol, "%s: sample mean %.4f vs analytic %.4f", spec, sum / N, m))
		tap_diag("relative error %.4f > %.4f", rel(sum / N, m), mtol);
	qsort(xs, N, sizeof(xs[0]), cmpd);
	for (unsigned i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		double want = il_dist_quantile(&d, qs[i]), got = xs[(int)(qs[i] * N)];

		if (isnan(want))
			continue;
		/* Discrete/fixed: exact; continuous: relative plus a small
		 * absolute slack near zero. */
		ok(fabs(got - want) <= qtol * fabs(want) + 1e-3 * (fabs(m) + 1e-9),
		   "%s: p%g %.4f vs analytic %.4f", spec, qs[i] * 100, got, want);
	}
}

/* Deterministic per seed. */
static void test_seeds(void)
{
	struct il_rng r, r2;

	il_rng_seed(&r, 7);
	il_rng_seed(&r2, 7);
	is_int(il_rng_next(&r), il_rng_next(&r2), "same seed, same stream");
	il_rng_seed(&r2, 8);
	ok(il_rng_next(&r) != il_rng_next(&r2), "different seeds differ");
}

/* Every family with an analytic mean and quantile function. */
static void test_analytic(void)
{
	check("fixed:100", 1e-12, 0);
	check("200", 1e-12, 0);
	check("uniform:1000", 0.01, 0.02);
	check("exponential:2", 0.01, 0.02);
	check("pareto:15,214.476,0.348238", 0.02, 0.02);
	check("pareto:0,1,0.2", 0.01, 0.02);
	check("gev:30.7984,8.20449,0.078688", 0.01, 0.01);
	check("gev:0,1,-0.2", 0.02, 0.02);
	check("fb_key", 0.01, 0.01);
	check("fb_value", 0.02, 0.02);
	check("fb_ia", 0.01, 0.02);
}

/* Normal: no closed-form quantile; check mean and sd. */
static void test_normal(void)
{
	struct il_dist d;
	struct il_rng r;
	char err[256];
	double s = 0, s2 = 0;

	if (!ok(il_dist_parse("normal:50,5", &d, err, sizeof(err)) == 0, "parse normal"))
		return;
	il_rng_seed(&r, 3);
	for (int i = 0; i < N; i++) {
		double x = il_dist_sample(&d, &r);

		s += x;
		s2 += x * x;
	}
	ok(rel(s / N, 50) < 0.002, "normal mean %.3f", s / N);
	ok(rel(sqrt(s2 / N - (s / N) * (s / N)), 5) < 0.01, "normal sd %.3f",
	   sqrt(s2 / N - (s / N) * (s / N)));
}

/* fb_value's table: share of 2-byte values is 17.82%. */
static void test_fb_value_table(void)
{
	struct il_dist d;
	struct il_rng r;
	char err[256];
	int twos = 0, below15 = 0;

	il_dist_parse("fb_value", &d, err, sizeof(err));
	il_rng_seed(&r, 5);
	for (int i = 0; i < N; i++) {
		double x = il_dist_sample(&d, &r);

		twos += x == 2;
		below15 += x < 15;
	}
	ok(fabs(twos / (double)N - 0.17820) < 0.003, "fb_value P(2) %.4f ~ 0.1782",
	   twos / (double)N);
	ok(fabs(below15 / (double)N - 0.44155) < 0.004, "fb_value P(<15) %.4f ~ 0.44155",
	   below15 / (double)N);
}

/* Rescaling an inter-arrival distribution keeps its shape. */
static void test_rescale(void)
{
	struct il_dist d;
	struct il_rng r;
	char err[256];
	double s = 0;

	il_dist_parse("fb_ia", &d, err, sizeof(err));
	il_dist_set_mean(&d, 1e-5);
	ok(rel(il_dist_mean(&d), 1e-5) < 1e-9, "fb_ia rescaled to 10 us mean");
	il_rng_seed(&r, 9);
	for (int i = 0; i < N; i++)
		s += il_dist_sample(&d, &r);
	ok(rel(s / N, 1e-5) < 0.01, "rescaled fb_ia sample mean %.3g", s / N);

	il_dist_parse("exponential:1", &d, err, sizeof(err));
	il_dist_set_mean(&d, 2e-6);
	ok(rel(il_dist_mean(&d), 2e-6) < 1e-9, "exponential rescaled");
}

/* Zipf: P(rank 0) = 1 / H(n, s). */
static void test_zipf(void)
{
	struct il_zipf z;
	struct il_rng r;
	double hn = 0;
	int n = 1000, zero = 0, max = 0;

	ok(il_zipf_init(&z, n, 0.99) == 0, "zipf init");
	for (int k = 1; k <= n; k++)
		hn += pow(k, -0.99);
	il_rng_seed(&r, 11);
	for (int i = 0; i < N; i++) {
		uint64_t k = il_zipf_sample(&z, &r);

		zero += k == 0;
		if ((int)k > max)
			max = (int)k;
	}
	ok(fabs(zero / (double)N - 1 / hn) < 0.005, "zipf P(0) %.4f ~ %.4f",
	   zero / (double)N, 1 / hn);
	ok(max < n, "zipf ranks within 0..n-1 (max %d)", max);
	ok(il_zipf_init(&z, n, 0) < 0, "zipf rejects s=0");
}

static void test_parser(void)
{
	struct il_dist d;
	char err[256];

	/* Bare names (mutilate's -i exponential). */
	ok(il_dist_parse("exponential", &d, err, sizeof(err)) == 0 && d.kind == IL_DIST_EXPONENTIAL &&
	   il_dist_mean(&d) == 1, "bare 'exponential' is exponential:1");
	ok(il_dist_parse("fixed", &d, err, sizeof(err)) == 0 && il_dist_mean(&d) == 1, "bare 'fixed' is fixed:1");

	/* Parser errors. */
	ok(il_dist_parse("bogus:1", &d, err, sizeof(err)) < 0 && strstr(err, "bogus"),
	   "unknown name rejected: %s", err);
	ok(il_dist_parse("gev:1,2", &d, err, sizeof(err)) < 0, "missing parameter rejected");
	ok(il_dist_parse("exponential:0", &d, err, sizeof(err)) < 0, "lambda 0 rejected");
	ok(il_dist_parse("pareto:0,1,1.5", &d, err, sizeof(err)) < 0, "infinite mean rejected");
	ok(il_dist_parse("uniform:10x", &d, err, sizeof(err)) < 0, "trailing junk rejected");
}

int main(void)
{
	test_seeds();
	test_analytic();
	test_normal();
	test_fb_value_table();
	test_rescale();
	test_zipf();
	test_parser();
	return tap_done();
}
