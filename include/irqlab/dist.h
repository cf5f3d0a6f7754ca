/* Random number generation and workload distributions (mutilate's names),
 * shared by irqlab-load and irqlab-sim. Deterministic for a seed. */
#ifndef IRQLAB_DIST_H
#define IRQLAB_DIST_H

#include <stddef.h>
#include <stdint.h>

struct il_rng { uint64_t s[4]; };		/* xoshiro256** */

void il_rng_seed(struct il_rng *r, uint64_t seed);
uint64_t il_rng_next(struct il_rng *r);
double il_rng_uniform(struct il_rng *r);	/* [0, 1) */

enum il_dist_kind {
	IL_DIST_FIXED, IL_DIST_UNIFORM, IL_DIST_NORMAL, IL_DIST_EXPONENTIAL,
	IL_DIST_PARETO, IL_DIST_GEV, IL_DIST_FB_KEY, IL_DIST_FB_VALUE,
	IL_DIST_FB_IA,
};

struct il_dist {
	enum il_dist_kind kind;
	double p[3];		/* parameters, meaning per kind */
	double scale;		/* for inter-arrivals: rescale to a mean */
};

/* Parses mutilate syntax: "fixed:N", "uniform:MAX", "normal:MEAN,SD",
 * "exponential:LAMBDA", "pareto:LOC,SCALE,SHAPE", "gev:LOC,SCALE,SHAPE",
 * "fb_key", "fb_value", "fb_ia". One-line error in err on failure. */
int il_dist_parse(const char *spec, struct il_dist *d, char *err, size_t errlen);

double il_dist_sample(const struct il_dist *d, struct il_rng *r);

/* Analytic mean (NAN where undefined); used by tests and by rate scaling. */
double il_dist_mean(const struct il_dist *d);

/* Makes an inter-arrival distribution have the given mean (seconds). */
void il_dist_set_mean(struct il_dist *d, double mean);

#endif
