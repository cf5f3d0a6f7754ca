/* Keys and value sizes with mutilate's semantics; value sizes are drawn
 * per set. Keys are mutilate's own strings (its KeyGenerator::generate),
 * so a store loaded by either tool serves the other: record i's key is i
 * in decimal, zero-padded to
 *   max(round(K(U)), floor(log10(records)) + 1) characters,
 *   U = FNV-1a-64(the 8 bytes of i, little-endian) / 2^64,
 * K the key-size distribution evaluated at U with mutilate's formulas
 * (key_size below); at most 250 (memcached's limit; mutilate would send a
 * longer key, which memcached refuses). A key keeps its length for the
 * whole run and needs no table. tests/unit/load_workload.c checks this
 * against keys recorded from mutilate runs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"

/* FNV-1a, 64 bits, over the index's bytes in memory order (mutilate's
 * fnv_64 on x86: little-endian). */
static uint64_t fnv1a64(uint64_t v)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (int i = 0; i < 8; i++) {
		h ^= (v >> (8 * i)) & 0xff;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The key-size distribution at U, term for term as mutilate's generators
 * compute it (rounding must agree at .5: the same operations in the same
 * order). Normal reuses U for both Box-Muller uniforms and fb_value's tail
 * takes U too, as mutilate does. */
static double key_size(const struct il_dist *d, double u)
{
	const double *p = d->p;

	switch (d->kind) {
	case IL_DIST_FIXED:
		return p[0];
	case IL_DIST_UNIFORM:
		return p[0] * u;
	case IL_DIST_NORMAL:
		return p[0] + p[1] * (sqrt(-2 * log(u)) * cos(2 * M_PI * u));
	case IL_DIST_EXPONENTIAL:
		return p[0] <= 0 ? 0.0 : -log(u) / p[0];
	case IL_DIST_PARETO:
	case IL_DIST_FB_IA:
		return p[0] + p[1] * (pow(u, -p[2]) - 1) / p[2];
	case IL_DIST_GEV:
	case IL_DIST_FB_KEY:
		return p[0] + p[1] * (pow(-log(u) / 1.0, -p[2]) - 1) / p[2];
	case IL_DIST_FB_VALUE: {
		/* the table is the library's (its quantile function walks it
		 * as mutilate does); the tail starts at 15 */
		double v = il_dist_quantile(d, u);

		return v < 15 ? v : p[0] + p[1] * (pow(u, -p[2]) - 1) / p[2];
	}
	}
	return NAN;
}

int workload_init(struct workload *w, char *err, size_t errlen)
{
	/* mutilate: floor(log10(records)) + 1, the digits of records (not
	 * of records - 1, the largest index) */
	w->min_keylen = (unsigned)(floor(log10((double)(w->records ? w->records : 1))) + 1);
	w->value_max = VALUE_MAX;
	w->value_data = malloc(VALUE_MAX + 2);
	if (!w->value_data) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* Printable filler; content does not matter to the server. */
	for (size_t i = 0; i < VALUE_MAX; i++)
		w->value_data[i] = (char)('a' + i % 26);
	return 0;
}

void workload_free(struct workload *w)
{
	free(w->value_data);
	w->value_data = NULL;
}

uint32_t workload_value_len(const struct workload *w, struct il_rng *r)
{
	double v = il_dist_sample(&w->valuesize, r);

	if (!(v > 0))
		return 0;
	if (v >= w->value_max)
		return w->value_max;
	return (uint32_t)v;	/* truncation, as mutilate */
}

void workload_next(const struct workload *w, struct il_rng *r, enum op *op,
		   uint64_t *key, uint32_t *vlen)
{
	if (w->zipf) {
		/* Scatter ranks over the key space with a multiplicative
		 * bijection (2654435761 is prime) so the hot keys are not
		 * neighbours. */
		uint64_t rank = il_zipf_sample(&w->z, r);

		*key = (uint64_t)(((unsigned __int128)rank * 2654435761u) % w->records);
	} else {
		*key = (uint64_t)(((unsigned __int128)il_rng_next(r) * w->records) >> 64);
	}
	if (w->update > 0 && il_rng_uniform(r) < w->update) {
		*op = OP_SET;
		*vlen = workload_value_len(w, r);
	} else {
		*op = OP_GET;
		*vlen = 0;
	}
}

unsigned workload_key(const struct workload *w, uint64_t idx, char *buf)
{
	double u = (double)fnv1a64(idx) / (double)UINT64_MAX;
	double g = round(key_size(&w->keysize, u));
	unsigned len, nd = 0;
	char digits[24];

	/* mutilate: MAX(round(G), digits), so a NaN or short G gives digits */
	len = g > (double)w->min_keylen ? (g < KEY_MAX ? (unsigned)g : KEY_MAX) : w->min_keylen;
	do {
		digits[nd++] = (char)('0' + idx % 10);
		idx /= 10;
	} while (idx);
	if (len < nd)
		len = nd;
	memset(buf, '0', len - nd);
	for (unsigned i = 0; i < nd; i++)
		buf[len - 1 - i] = digits[i];
	return len;
}
