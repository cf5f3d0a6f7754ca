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
double il_rng_uniform_pos(struct il_rng *r);	/* (0, 1): safe for log() */

enum il_dist_kind {
	IL_DIST_FIXED, IL_DIST_UNIFORM, IL_DIST_NORMAL, IL_DIST_EXPONENTIAL,
	IL_DIST_PARETO, IL_DIST_GEV, IL_DIST_FB_KEY, IL_DIST_FB_VALUE,
	IL_DIST_FB_IA,
};

/* Parameters per kind (p[0], p[1], p[2]):
 *   FIXED value | UNIFORM max (samples in [0,max)) | NORMAL mean, sd |
 *   EXPONENTIAL lambda (mean 1/lambda) |
 *   PARETO (generalized) loc, scale, shape | GEV loc, scale, shape |
 *   FB_KEY = GEV(30.7984, 8.20449, 0.078688) |
 *   FB_VALUE = table for 0..14 bytes, else PARETO(15, 214.476, 0.348238) |
 *   FB_IA = PARETO(0, 16.0292, 0.154971).
 * Presets fill p[] in il_dist_parse. */
struct il_dist {
	enum il_dist_kind kind;
	double p[3];		/* parameters, meaning per kind */
	double scale;		/* every sample is multiplied by it; 0 means 1 */
};

/* Parses mutilate syntax: "N" or "fixed:N", "uniform:MAX", "normal:MEAN,SD",
 * "exponential:LAMBDA", "pareto:LOC,SCALE,SHAPE", "gev:LOC,SCALE,SHAPE",
 * "fb_key", "fb_value", "fb_ia"; bare "exponential", "fixed", "uniform"
 * mean parameter 1 (for inter-arrivals, rescaled later). One-line error in
 * err on failure (returns -1). */
int il_dist_parse(const char *spec, struct il_dist *d, char *err, size_t errlen);

double il_dist_sample(const struct il_dist *d, struct il_rng *r);

/* Sample from a given uniform u in (0,1): deterministic per u, e.g. a key's
 * length derived from a hash of the key index (what mutilate does). FB_VALUE
 * and NORMAL need more than one uniform; they use u for the first. */
double il_dist_sample_u(const struct il_dist *d, double u, struct il_rng *r);

/* Analytic mean (NAN where undefined); used by tests and by rate scaling. */
double il_dist_mean(const struct il_dist *d);

/* Analytic quantile function (inverse CDF) for q in (0,1); NAN where there
 * is no closed form (NORMAL). Used by the tests. */
double il_dist_quantile(const struct il_dist *d, double q);

/* Makes an inter-arrival distribution have the given mean (seconds): the
 * shape is kept and every sample is scaled. */
void il_dist_set_mean(struct il_dist *d, double mean);

/* Zipf key popularity over n items with exponent s > 0 (rejection-inversion,
 * W. Hormann and G. Derflinger 1996): O(1) memory and time per sample.
 * Returns ranks 0..n-1, rank 0 the most popular. */
struct il_zipf {
	uint64_t n;
	double s, h_x1, h_n, q;
};
int il_zipf_init(struct il_zipf *z, uint64_t n, double s);
uint64_t il_zipf_sample(const struct il_zipf *z, struct il_rng *r);

#endif
