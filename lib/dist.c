/* Workload distributions with mutilate's names and parameterisation, so that
 * "-K fb_key -V fb_value -i fb_ia" mean the same here as there. Samplers use
 * inverse transforms of one uniform wherever possible: deterministic per
 * seed and cheap (one pow/log per sample). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "irqlab/dist.h"

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* splitmix64 expands one seed into the four state words, so that nearby
 * seeds (thread 0, 1, 2...) give unrelated streams. */
static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void il_rng_seed(struct il_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

uint64_t il_rng_next(struct il_rng *r)
{
	uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

double il_rng_uniform(struct il_rng *r)
{
	return (il_rng_next(r) >> 11) * 0x1.0p-53;
}

double il_rng_uniform_pos(struct il_rng *r)
{
	return ((il_rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
}

/* Facebook ETC value sizes below 15 bytes (Atikoglu et al., SIGMETRICS 2012,
 * as tabulated by mutilate): probability of each size 0..14; the remaining
 * mass follows the generalized Pareto tail starting at 15. */
static const double fb_value_p[15] = {
	0.00536, 0.00047, 0.17820, 0.09239, 0.00018, 0.02740, 0.00065, 0.00606,
	0.00023, 0.00837, 0.00837, 0.08989, 0.00092, 0.00326, 0.01980,
};

static double gpareto_q(double loc, double scale, double shape, double u)
{
	/* Inverse CDF at 1-u (u and 1-u are both uniform); shape 0 is the
	 * exponential limit. */
	if (shape == 0)
		return loc - scale * log(u);
	return loc + scale * (pow(u, -shape) - 1) / shape;
}

static double gev_q(double loc, double scale, double shape, double u)
{
	double e = -log(u);	/* standard exponential */

	if (shape == 0)
		return loc - scale * log(e);
	return loc + scale * (pow(e, -shape) - 1) / shape;
}

static double raw_sample(const struct il_dist *d, double u, struct il_rng *r)
{
	const double *p = d->p;
	double v;

	switch (d->kind) {
	case IL_DIST_FIXED:
		return p[0];
	case IL_DIST_UNIFORM:
		return p[0] * u;
	case IL_DIST_NORMAL:	/* Box-Muller with two independent uniforms */
		v = il_rng_uniform(r);
		return p[0] + p[1] * sqrt(-2 * log(u)) * cos(2 * M_PI * v);
	case IL_DIST_EXPONENTIAL:
		return p[0] > 0 ? -log(u) / p[0] : 0;
	case IL_DIST_PARETO:
	case IL_DIST_FB_IA:
		return gpareto_q(p[0], p[1], p[2], u);
	case IL_DIST_GEV:
	case IL_DIST_FB_KEY:
		return gev_q(p[0], p[1], p[2], u);
	case IL_DIST_FB_VALUE: {
		double sum = 0;

		for (int i = 0; i < 15; i++) {
			sum += fb_value_p[i];
			if (u < sum)
				return i;
		}
		/* The tail takes a fresh uniform: reusing u would confine it
		 * to the top of the Pareto range. */
		return gpareto_q(p[0], p[1], p[2], il_rng_uniform_pos(r));
	}
	}
	return NAN;
}

static double dscale(const struct il_dist *d)
{
	return d->scale == 0 ? 1.0 : d->scale;
}

double il_dist_sample_u(const struct il_dist *d, double u, struct il_rng *r)
{
	if (u <= 0)
		u = 0x1.0p-54;
	if (u >= 1)
		u = 1 - 0x1.0p-53;
	return raw_sample(d, u, r) * dscale(d);
}

double il_dist_sample(const struct il_dist *d, struct il_rng *r)
{
	return raw_sample(d, il_rng_uniform_pos(r), r) * dscale(d);
}

static double raw_mean(const struct il_dist *d)
{
	const double *p = d->p;

	switch (d->kind) {
	case IL_DIST_FIXED:
		return p[0];
	case IL_DIST_UNIFORM:
		return p[0] / 2;
	case IL_DIST_NORMAL:
		return p[0];
	case IL_DIST_EXPONENTIAL:
		return p[0] > 0 ? 1 / p[0] : NAN;
	case IL_DIST_PARETO:
	case IL_DIST_FB_IA:
		return p[2] < 1 ? p[0] + p[1] / (1 - p[2]) : NAN;
	case IL_DIST_GEV:
	case IL_DIST_FB_KEY:
		if (p[2] >= 1)
			return NAN;
		if (p[2] == 0)
			return p[0] + p[1] * 0.57721566490153286;
		return p[0] + p[1] * (tgamma(1 - p[2]) - 1) / p[2];
	case IL_DIST_FB_VALUE: {
		double m = 0, rest = 1;

		for (int i = 0; i < 15; i++) {
			m += i * fb_value_p[i];
			rest -= fb_value_p[i];
		}
		return m + rest * (p[0] + p[1] / (1 - p[2]));
	}
	}
	return NAN;
}

double il_dist_mean(const struct il_dist *d)
{
	return raw_mean(d) * dscale(d);
}

double il_dist_quantile(const struct il_dist *d, double q)
{
	const double *p = d->p;
	double s = dscale(d), lo = 0;

	if (!(q > 0 && q < 1))
		return NAN;
	switch (d->kind) {
	case IL_DIST_FIXED:
		return p[0] * s;
	case IL_DIST_UNIFORM:
		return p[0] * q * s;
	case IL_DIST_NORMAL:
		return NAN;
	case IL_DIST_EXPONENTIAL:
		return -log(1 - q) / p[0] * s;
	case IL_DIST_PARETO:
	case IL_DIST_FB_IA:
		return gpareto_q(p[0], p[1], p[2], 1 - q) * s;
	case IL_DIST_GEV:
	case IL_DIST_FB_KEY:
		/* gev_q(u) decreases in u: the CDF at x is u itself. */
		return gev_q(p[0], p[1], p[2], q) * s;
	case IL_DIST_FB_VALUE:
		for (int i = 0; i < 15; i++) {
			lo += fb_value_p[i];
			if (q < lo)
				return i * s;
		}
		/* Conditional quantile within the tail. */
		return gpareto_q(p[0], p[1], p[2], 1 - (q - lo) / (1 - lo)) * s;
	}
	return NAN;
}

void il_dist_set_mean(struct il_dist *d, double mean)
{
	double m = raw_mean(d);

	d->scale = (m > 0 && isfinite(m)) ? mean / m : 0;
	if (d->scale == 0 && mean == 0)
		d->scale = 1e-300;	/* all samples (almost) zero */
	if (!(m > 0 && isfinite(m)) && d->kind == IL_DIST_FIXED) {
		d->p[0] = mean;
		d->scale = 1;
	}
}

static int errf(char *err, size_t len, const char *fmt, const char *spec)
{
	if (err && len)
		snprintf(err, len, fmt, spec);
	return -1;
}

/* Parses up to n comma-separated numbers; all must be present. */
static int parse_nums(const char *s, double *v, int n)
{
	for (int i = 0; i < n; i++) {
		char *end;

		errno = 0;
		v[i] = strtod(s, &end);
		if (end == s || errno || !isfinite(v[i]))
			return -1;
		s = end;
		if (i < n - 1) {
			if (*s != ',')
				return -1;
			s++;
		}
	}
	return *s ? -1 : 0;
}

static const struct { const char *name; enum il_dist_kind kind; int nargs; }
	dist_names[] = {
	{ "fixed", IL_DIST_FIXED, 1 },
	{ "uniform", IL_DIST_UNIFORM, 1 },
	{ "normal", IL_DIST_NORMAL, 2 },
	{ "exponential", IL_DIST_EXPONENTIAL, 1 },
	{ "pareto", IL_DIST_PARETO, 3 },
	{ "gev", IL_DIST_GEV, 3 },
};

static int check_params(struct il_dist *d, const char *spec, char *err, size_t len)
{
	const double *p = d->p;

	switch (d->kind) {
	case IL_DIST_FIXED:
	case IL_DIST_UNIFORM:
		if (p[0] < 0)
			return errf(err, len, "distribution '%s': value must be >= 0", spec);
		break;
	case IL_DIST_NORMAL:
		if (p[1] < 0)
			return errf(err, len, "distribution '%s': sd must be >= 0", spec);
		break;
	case IL_DIST_EXPONENTIAL:
		if (p[0] <= 0)
			return errf(err, len, "distribution '%s': lambda must be > 0", spec);
		break;
	case IL_DIST_PARETO:
	case IL_DIST_GEV:
		if (p[1] <= 0)
			return errf(err, len, "distribution '%s': scale must be > 0", spec);
		if (p[2] >= 1)
			return errf(err, len, "distribution '%s': shape must be < 1 (finite mean)", spec);
		break;
	default:
		break;
	}
	return 0;
}

int il_dist_parse(const char *spec, struct il_dist *d, char *err, size_t len)
{
	const char *colon;

	memset(d, 0, sizeof(*d));
	d->scale = 1;
	if (!spec || !*spec)
		return errf(err, len, "empty distribution%s", "");
	if (!strcmp(spec, "fb_key")) {
		*d = (struct il_dist){ IL_DIST_FB_KEY, { 30.7984, 8.20449, 0.078688 }, 1 };
		return 0;
	}
	if (!strcmp(spec, "fb_value")) {
		*d = (struct il_dist){ IL_DIST_FB_VALUE, { 15.0, 214.476, 0.348238 }, 1 };
		return 0;
	}
	if (!strcmp(spec, "fb_ia")) {
		*d = (struct il_dist){ IL_DIST_FB_IA, { 0, 16.0292, 0.154971 }, 1 };
		return 0;
	}
	/* Bare shape names, as mutilate takes them for inter-arrivals (where
	 * only the shape matters: the mean is set to the rate later). */
	if (!strcmp(spec, "exponential") || !strcmp(spec, "fixed") || !strcmp(spec, "uniform")) {
		d->kind = spec[0] == 'e' ? IL_DIST_EXPONENTIAL : spec[0] == 'f' ? IL_DIST_FIXED :
			  IL_DIST_UNIFORM;
		d->p[0] = 1;
		return 0;
	}
	if (isdigit((unsigned char)spec[0]) || spec[0] == '.') {	/* "N" = fixed:N */
		d->kind = IL_DIST_FIXED;
		if (parse_nums(spec, d->p, 1))
			return errf(err, len, "distribution '%s': not a number", spec);
		return 0;
	}
	colon = strchr(spec, ':');
	for (size_t i = 0; i < sizeof(dist_names) / sizeof(dist_names[0]); i++) {
		size_t n = strlen(dist_names[i].name);

		if (!colon || (size_t)(colon - spec) != n ||
		    strncasecmp(spec, dist_names[i].name, n))
			continue;
		d->kind = dist_names[i].kind;
		if (parse_nums(colon + 1, d->p, dist_names[i].nargs))
			return errf(err, len, "distribution '%s': wrong parameters "
				    "(fixed:N uniform:MAX normal:MEAN,SD exponential:LAMBDA "
				    "pareto:LOC,SCALE,SHAPE gev:LOC,SCALE,SHAPE)", spec);
		return check_params(d, spec, err, len);
	}
	return errf(err, len, "unknown distribution '%s' (fixed:N, uniform:MAX, "
		    "normal:MEAN,SD, exponential:LAMBDA, pareto:LOC,SCALE,SHAPE, "
		    "gev:LOC,SCALE,SHAPE, fb_key, fb_value, fb_ia)", spec);
}

/* Zipf by rejection-inversion: H is the integral of h(x) = x^-s, with the
 * s == 1 limit (log) handled by the helper functions. */
static double helper1(double x)	/* (exp(x) - 1) / x */
{
	return fabs(x) > 1e-8 ? expm1(x) / x : 1 + x / 2 * (1 + x / 3);
}

static double helper2(double x)	/* log(1 + x) / x */
{
	return fabs(x) > 1e-8 ? log1p(x) / x : 1 - x * (0.5 - x / 3);
}

static double zh(double s, double x) { return exp(-s * log(x)); }

static double zH(double s, double x)
{
	double lx = log(x);

	return helper1((1 - s) * lx) * lx;
}

static double zHinv(double s, double x)
{
	double t = x * (1 - s);

	if (t < -1)
		t = -1;
	return exp(helper2(t) * x);
}

int il_zipf_init(struct il_zipf *z, uint64_t n, double s)
{
	if (n < 1 || !(s > 0))
		return -1;
	z->n = n;
	z->s = s;
	z->h_x1 = zH(s, 1.5) - 1;
	z->h_n = zH(s, n + 0.5);
	z->q = 2 - zHinv(s, zH(s, 2.5) - zh(s, 2));
	return 0;
}

uint64_t il_zipf_sample(const struct il_zipf *z, struct il_rng *r)
{
	uint64_t k = 1;

	/* Acceptance is above 90% for every s; the bound only guards
	 * against a numerical pathology looping forever. */
	for (int tries = 0; tries < 1000; tries++) {
		double u = z->h_n + il_rng_uniform(r) * (z->h_x1 - z->h_n);
		double x = zHinv(z->s, u);

		k = (uint64_t)(x + 0.5);
		if (k < 1)
			k = 1;
		if (k > z->n)
			k = z->n;
		if (k - x <= z->q || u >= zH(z->s, k + 0.5) - zh(z->s, (double)k))
			break;
	}
	return k - 1;
}
