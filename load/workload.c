/* Keys and value sizes with mutilate's semantics: record i's key is i in
 * decimal, zero-padded to a length drawn from the key-size distribution
 * with a uniform derived from a hash of i (so a key's length never changes
 * during a run and needs no table); value sizes are drawn per set. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

int workload_init(struct workload *w, char *err, size_t errlen)
{
	uint64_t n = w->records ? w->records - 1 : 0;

	w->min_keylen = 1;
	while (n >= 10) {
		n /= 10;
		w->min_keylen++;
	}
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
	double u = (mix64(idx + 0x9e3779b97f4a7c15ULL) >> 11) * 0x1.0p-53;
	struct il_rng lr, *rp = NULL;
	double g;
	unsigned len, nd = 0;
	char digits[24];
	long lg;

	/* Two samplers draw a second uniform: derive it from idx too. */
	if (w->keysize.kind == IL_DIST_NORMAL || w->keysize.kind == IL_DIST_FB_VALUE) {
		il_rng_seed(&lr, idx);
		rp = &lr;
	}
	g = il_dist_sample_u(&w->keysize, u, rp);
	lg = isfinite(g) ? lround(g) : 0;
	len = lg < (long)w->min_keylen ? w->min_keylen : lg > KEY_MAX ? KEY_MAX : (unsigned)lg;
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
