/* Log-linear latency histogram (the HdrHistogram idea): values below 2^SUB_BITS
 * are counted exactly; above, each power of two is split into 2^SUB_BITS
 * equal buckets, so a bucket is at most 1/128 of its lower bound wide and
 * its midpoint is within 0.4% of any value in it. 7424 counters cover
 * 1 ns .. 2^64 ns in a fixed 58 KiB; recording is a clz and an increment. */
#include <stdlib.h>
#include <string.h>

#include "irqlab/hist.h"

#define SUB_BITS 7
#define SUB (1u << SUB_BITS)
#define NBUCKETS ((64 - SUB_BITS + 1) * SUB)

struct il_hist {
	uint64_t count, min, max;
	double sum;
	uint64_t b[NBUCKETS];
};

static unsigned bucket_of(uint64_t v)
{
	unsigned e, shift;

	if (v < SUB)
		return (unsigned)v;
	e = 63 - (unsigned)__builtin_clzll(v);	/* >= SUB_BITS */
	shift = e - SUB_BITS;
	return (e - SUB_BITS + 1) * SUB + (unsigned)((v >> shift) - SUB);
}

static uint64_t bucket_lo(unsigned i, uint64_t *width)
{
	unsigned shift;

	if (i < SUB) {
		*width = 1;
		return i;
	}
	shift = i / SUB - 1;
	*width = 1ULL << shift;
	return (uint64_t)(SUB + i % SUB) << shift;
}

struct il_hist *il_hist_new(void)
{
	struct il_hist *h = malloc(sizeof(*h));

	if (h)
		il_hist_reset(h);
	return h;
}

void il_hist_free(struct il_hist *h)
{
	free(h);
}

void il_hist_reset(struct il_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void il_hist_record(struct il_hist *h, uint64_t ns)
{
	h->b[bucket_of(ns)]++;
	h->count++;
	h->sum += (double)ns;
	if (ns < h->min)
		h->min = ns;
	if (ns > h->max)
		h->max = ns;
}

void il_hist_merge(struct il_hist *dst, const struct il_hist *src)
{
	if (!src->count)
		return;
	for (unsigned i = 0; i < NBUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t il_hist_count(const struct il_hist *h) { return h->count; }
uint64_t il_hist_min(const struct il_hist *h) { return h->count ? h->min : 0; }
uint64_t il_hist_max(const struct il_hist *h) { return h->max; }

double il_hist_mean(const struct il_hist *h)
{
	return h->count ? h->sum / (double)h->count : 0;
}

size_t il_hist_size(void)
{
	return sizeof(struct il_hist);
}

/* The q-quantile is the ceil(q*n)-th smallest sample (the "nearest rank"
 * definition, so p100 is the max); it is reported as its bucket's midpoint,
 * clamped to the exact min and max. */
uint64_t il_hist_quantile(const struct il_hist *h, double q)
{
	uint64_t rank, seen = 0, w, lo, v;

	if (!h->count)
		return 0;
	if (q <= 0)
		return h->min;
	if (q >= 1)
		return h->max;
	rank = (uint64_t)(q * (double)h->count);
	if ((double)rank < q * (double)h->count)
		rank++;
	if (rank < 1)
		rank = 1;
	for (unsigned i = 0; i < NBUCKETS; i++) {
		seen += h->b[i];
		if (seen < rank)
			continue;
		lo = bucket_lo(i, &w);
		v = lo + (w - 1) / 2;
		if (v < h->min)
			v = h->min;
		if (v > h->max)
			v = h->max;
		return v;
	}
	return h->max;
}

unsigned il_hist_nbuckets(void)
{
	return NBUCKETS;
}

uint64_t il_hist_bucket(const struct il_hist *h, unsigned i, uint64_t *lo,
			uint64_t *width)
{
	uint64_t w = 1, l = 0;

	if (i < NBUCKETS)
		l = bucket_lo(i, &w);
	if (lo)
		*lo = l;
	if (width)
		*width = w;
	return i < NBUCKETS ? h->b[i] : 0;
}

int il_hist_add_bucket(struct il_hist *h, unsigned i, uint64_t count)
{
	if (i >= NBUCKETS)
		return -1;
	h->b[i] += count;
	h->count += count;
	return 0;
}

void il_hist_set_exact(struct il_hist *h, uint64_t min, uint64_t max, double sum)
{
	h->min = h->count ? min : UINT64_MAX;
	h->max = h->count ? max : 0;
	h->sum = h->count ? sum : 0;
}
