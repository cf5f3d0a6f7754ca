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

#endif
