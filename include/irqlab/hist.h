/* Log-linear latency histogram: constant memory, relative error <= 1% over
 * 1 ns .. ~1 hour, mergeable across threads. Shared by load, bench and sim. */
#ifndef IRQLAB_HIST_H
#define IRQLAB_HIST_H

#include <stddef.h>
#include <stdint.h>

struct il_hist;

struct il_hist *il_hist_new(void);
void il_hist_free(struct il_hist *h);
void il_hist_reset(struct il_hist *h);
void il_hist_record(struct il_hist *h, uint64_t ns);
void il_hist_merge(struct il_hist *dst, const struct il_hist *src);
uint64_t il_hist_count(const struct il_hist *h);
uint64_t il_hist_min(const struct il_hist *h);
uint64_t il_hist_max(const struct il_hist *h);
double il_hist_mean(const struct il_hist *h);
/* q in [0,1]; value within 1% of the true sample quantile. */
uint64_t il_hist_quantile(const struct il_hist *h, double q);
/* Bytes one histogram takes: the same for every histogram, whatever it
 * recorded (constant memory). */
size_t il_hist_size(void);

/* The buckets, for writing a histogram out and reading it back exactly
 * (merging across processes and hosts) or in other formats (.hgrm).
 * Bucket i (0 <= i < il_hist_nbuckets()) holds the values in
 * [lo, lo + width); il_hist_bucket returns its count. */
unsigned il_hist_nbuckets(void);
uint64_t il_hist_bucket(const struct il_hist *h, unsigned i, uint64_t *lo,
			uint64_t *width);
/* Rebuilding a written-out histogram: add count values to bucket i (-1 if
 * i is out of range), then set the exact aggregates that buckets do not
 * carry (min, max, sum of the values; the count is the buckets'). */
int il_hist_add_bucket(struct il_hist *h, unsigned i, uint64_t count);
void il_hist_set_exact(struct il_hist *h, uint64_t min, uint64_t max, double sum);

#endif
