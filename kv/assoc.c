/* The hash table: one per shard, chained through the items (8 bytes per
 * item), at most 1.5 items per bucket before it doubles. */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

uint64_t assoc_hash(const char *k, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ (n * 0xff51afd7ed558ccdull);
	uint64_t v;

	for (; n >= 8; k += 8, n -= 8) {
		memcpy(&v, k, 8);
		h = (h ^ v) * 0xff51afd7ed558ccdull;
		h ^= h >> 31;
	}
	v = 0;
	memcpy(&v, k, n);
	h = (h ^ v) * 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 29;
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 32);
}

void do_assoc_grow(struct shard *sh)
{
	uint64_t nmask = sh->mask * 2 + 1;
	struct item **nt = calloc(nmask + 1, sizeof(*nt));

	if (!nt)
		return;		/* longer chains, still correct */
	for (uint64_t b = 0; b <= sh->mask; b++) {
		struct item *it = sh->tab[b], *next;

		for (; it; it = next) {
			uint64_t h = assoc_hash(it->data, it->nkey);

			next = it->hnext;
			it->hnext = nt[h & nmask];
			nt[h & nmask] = it;
		}
	}
	free(sh->tab);
	sh->tab = nt;
	sh->mask = nmask;
}
