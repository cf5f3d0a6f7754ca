/* Keys and the request mix: mutilate's key strings (record index, zero
 * padded to a per-key length drawn from the key-size distribution), equal
 * to keys recorded from mutilate runs (load_keys_mutilate.txt: `mutilate
 * --loadonly -r N -K DIST` into memcached, keys read back with `lru_crawler
 * metadump all`, sorted by index), the set share, uniform and Zipf
 * popularity. */
#include <math.h>
#include <stdlib.h>

#include "../../load/load.h"
#include "tap.h"

/* Every block of the recorded list: "# mutilate -r N -K DIST", then the
 * keys of records 0..N-1. */
static void mutilate_keys(void)
{
	char path[512], line[300], err[200], key[KEY_MAX + 1];
	const char *src = getenv("IRQLAB_SRC");
	struct workload w = { 0 };
	uint64_t idx = 0, bad = 0, n = 0;
	int blocks = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/unit/load_keys_mutilate.txt", src ? src : ".");
	if (!(f = fopen(path, "r"))) {
		tap_skip("no recorded mutilate keys (run from the source tree or set IRQLAB_SRC)");
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char spec[64];
		unsigned long long r;
		unsigned len;

		line[strcspn(line, "\n")] = 0;
		if (sscanf(line, "# mutilate -r %llu -K %63s", &r, spec) == 2) {
			workload_free(&w);
			w = (struct workload){ .records = r };
			if (il_dist_parse(spec, &w.keysize, err, sizeof(err)) < 0 ||
			    workload_init(&w, err, sizeof(err)) < 0)
				bad++;
			idx = 0;
			blocks++;
			continue;
		}
		len = workload_key(&w, idx++, key);
		key[len] = 0;
		n++;
		if (strcmp(key, line) && bad++ < 3)
			tap_diag("record %llu: mutilate '%s', ours '%s'", (unsigned long long)idx - 1,
				 line, key);
	}
	fclose(f);
	workload_free(&w);
	ok(!bad && n > 2000 && blocks >= 8, "%llu keys of %d key-size distributions equal mutilate's",
	   (unsigned long long)n, blocks);
}

int main(void)
{
	struct workload w = { 0 };
	struct il_rng r;
	char err[200], key[KEY_MAX + 1];
	unsigned len;
	double sum = 0;
	enum { N = 200000 };

	w.records = 1000000;
	w.update = 0.03;
	il_dist_parse("fb_key", &w.keysize, err, sizeof(err));
	il_dist_parse("fb_value", &w.valuesize, err, sizeof(err));
	ok(workload_init(&w, err, sizeof(err)) == 0, "workload init");

	len = workload_key(&w, 42, key);
	key[len] = 0;
	ok(len >= 6 && strspn(key, "0") == len - 2 && !strcmp(key + len - 2, "42"),
	   "key 42 is zero-padded decimal: %s", key);
	{
		char again[KEY_MAX + 1];

		ok(workload_key(&w, 42, again) == len && !memcmp(key, again, len),
		   "a key's length is fixed for the run");
	}
	for (uint64_t i = 0; i < N; i++)
		sum += workload_key(&w, i * 5, key);
	/* fb_key mean 36.2 (GEV); the padding floor (6 digits) and rounding
	 * change it very little. */
	ok(fabs(sum / N - il_dist_mean(&w.keysize)) < 0.5, "fb_key mean length %.2f ~ %.2f", sum / N,
	   il_dist_mean(&w.keysize));
	ok(workload_key(&w, 999999, key) <= KEY_MAX, "keys stay within memcached's 250 bytes");

	{
		int sets = 0, inrange = 1;
		double vsum = 0;
		uint64_t lo = UINT64_MAX, hi = 0;

		il_rng_seed(&r, 1);
		for (int i = 0; i < N; i++) {
			enum op op;
			uint64_t k;
			uint32_t v;

			workload_next(&w, &r, &op, &k, &v);
			sets += op == OP_SET;
			if (op == OP_SET)
				vsum += v;
			inrange &= k < w.records;
			lo = k < lo ? k : lo;
			hi = k > hi ? k : hi;
		}
		ok(fabs(sets / (double)N - 0.03) < 0.003, "set share %.4f ~ 0.03", sets / (double)N);
		ok(inrange && lo < 1000 && hi > w.records - 1000, "uniform keys cover 0..records-1");
		ok(fabs(vsum / sets - il_dist_mean(&w.valuesize)) < 0.1 * il_dist_mean(&w.valuesize),
		   "fb_value mean size %.1f ~ %.1f", vsum / sets, il_dist_mean(&w.valuesize));
	}

	w.zipf = 1;
	il_zipf_init(&w.z, w.records, 0.99);
	{
		uint64_t top = 0, hits = 0;
		enum op op;
		uint32_t v;

		il_rng_seed(&r, 2);
		/* The most popular key is rank 0 scattered to index 0. */
		for (int i = 0; i < N; i++) {
			workload_next(&w, &r, &op, &top, &v);
			hits += top == 0;
		}
		ok(hits > N / 50, "zipf:0.99: the hottest key gets %.1f%% of requests", 100.0 * hits / N);
	}
	workload_free(&w);
	mutilate_keys();
	return tap_done();
}
