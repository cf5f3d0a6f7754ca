/* Histogram: relative error <= 1% from 1 ns to hours, merging equals
 * recording into one, constant memory. */
#include <math.h>

#include "irqlab/dist.h"
#include "irqlab/hist.h"
#include "tap.h"

static int cmpu(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

enum { N = 200000 };
static uint64_t v[N];	/* the log-uniform sample, sorted once recorded */

/* Every value from 1 ns to 4 hours (log-spaced sweep including all small
 * values), as the median of {0, v, 10v}: the reported median is v's bucket
 * midpoint, not clamped to the exact min or max. */
static void test_single_values(struct il_hist *h)
{
	double worst = 0;
	uint64_t worst_v = 0;

	for (double x = 1; x < 4 * 3600e9; x = x * 1.0007 + 1) {
		uint64_t val = (uint64_t)x, got;
		double e;

		il_hist_reset(h);
		il_hist_record(h, 0);
		il_hist_record(h, val);
		il_hist_record(h, 10 * val + 1000);
		got = il_hist_quantile(h, 0.5);
		e = fabs((double)got - (double)val) / (double)val;
		if (e > worst) {
			worst = e;
			worst_v = val;
		}
	}
	ok(worst <= 0.01, "single-value relative error <= 1%% over 1 ns..4 h (worst %.5f at %llu)",
	   worst, (unsigned long long)worst_v);
}

/* Records the sample into h, and alternately into a and b (for the merge
 * test), then sorts v for the exact quantiles. */
static void fill_log_uniform(struct il_hist *h, struct il_hist *a, struct il_hist *b)
{
	struct il_rng r;

	il_hist_reset(h);
	il_rng_seed(&r, 1);
	for (int i = 0; i < N; i++) {
		v[i] = (uint64_t)exp(il_rng_uniform(&r) * log(3600e9)) + 1;
		il_hist_record(h, v[i]);
		il_hist_record(i % 2 ? a : b, v[i]);
	}
	qsort(v, N, sizeof(v[0]), cmpu);
}

/* Quantiles of a wide log-uniform sample: each within 1% of the exact
 * nearest-rank quantile; min, max, count and mean exact. */
static void test_sample_stats(const struct il_hist *h)
{
	static const double qs[] = { 0.01, 0.5, 0.9, 0.95, 0.99, 0.999, 0.9999 };
	int good = 1;
	double s = 0;

	for (unsigned i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		uint64_t exact = v[(size_t)ceil(qs[i] * N) - 1], got = il_hist_quantile(h, qs[i]);
		double e = fabs((double)got - (double)exact) / (double)exact;

		if (e > 0.01) {
			good = 0;
			tap_diag("q %g: got %llu exact %llu", qs[i], (unsigned long long)got,
				 (unsigned long long)exact);
		}
	}
	ok(good, "quantiles within 1%% of exact on a log-uniform 1 ns..1 h sample");
	is_int(il_hist_min(h), v[0], "min exact");
	is_int(il_hist_max(h), v[N - 1], "max exact");
	is_int(il_hist_count(h), N, "count");
	is_int(il_hist_quantile(h, 1.0), v[N - 1], "p100 is the max");
	for (int i = 0; i < N; i++)
		s += (double)v[i];
	ok(fabs(il_hist_mean(h) - s / N) / (s / N) < 1e-9, "mean exact");
}

/* Merging two halves equals recording all into one. */
static void test_merge(struct il_hist *h, struct il_hist *a, const struct il_hist *b)
{
	int same;

	il_hist_merge(a, b);
	same = il_hist_count(a) == il_hist_count(h) && il_hist_min(a) == il_hist_min(h) &&
	       il_hist_max(a) == il_hist_max(h);
	for (double q = 0.001; q < 1; q += 0.001)
		same &= il_hist_quantile(a, q) == il_hist_quantile(h, q);
	ok(same, "merge(a, b) gives the same count, min, max and every quantile");
}

/* An empty histogram is well defined, and zero is recordable. */
static void test_empty_and_zero(struct il_hist *h)
{
	il_hist_reset(h);
	is_int(il_hist_count(h), 0, "reset empties");
	is_int(il_hist_quantile(h, 0.99), 0, "empty quantile is 0");
	is_int(il_hist_min(h), 0, "empty min is 0");

	il_hist_record(h, 0);
	is_int(il_hist_quantile(h, 0.5), 0, "zero recorded exactly");
}

int main(void)
{
	struct il_hist *h = il_hist_new(), *a = il_hist_new(), *b = il_hist_new();
	size_t size0 = il_hist_size();

	test_single_values(h);
	fill_log_uniform(h, a, b);
	test_sample_stats(h);
	test_merge(h, a, b);
	is_int(il_hist_size(), size0, "constant memory after 200k records");
	ok(il_hist_size() < 128 * 1024, "histogram size %zu bytes", il_hist_size());
	test_empty_and_zero(h);

	il_hist_free(h);
	il_hist_free(a);
	il_hist_free(b);
	return tap_done();
}
