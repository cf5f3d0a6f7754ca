/* Per-prefix counters for "stats detail" (see prefix.h). One table under
 * one lock: it is only touched while detail mode is on, as in memcached. */
#include "prefix.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 256	/* memcached's PREFIX_HASH_SIZE: the dump's order */

struct prefix {
	struct prefix *next;
	uint64_t gets, hits, sets, dels;
	size_t n;
	char key[];
};

int kv_detail_on;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct prefix *table[NBUCKETS];
static int nprefixes;

static uint32_t rotl32(uint32_t x, int r)
{
	return (x << r) | (x >> (32 - r));
}

/* MurmurHash3's 32-bit x86 variant, seed 0: memcached's default hash, so
 * prefixes land in the buckets memcached puts them in. */
static uint32_t murmur3_32(const unsigned char *p, size_t n)
{
	const uint32_t c1 = 0xcc9e2d51, c2 = 0x1b873593;
	uint32_t h = 0, k;
	size_t i, blocks = n / 4;

	for (i = 0; i < blocks; i++) {
		k = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
		    (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
		k *= c1;
		k = rotl32(k, 15);
		k *= c2;
		h ^= k;
		h = rotl32(h, 13);
		h = h * 5 + 0xe6546b64;
	}
	k = 0;
	switch (n & 3) {
	case 3: k ^= (uint32_t)p[4 * blocks + 2] << 16; /* fall through */
	case 2: k ^= (uint32_t)p[4 * blocks + 1] << 8; /* fall through */
	case 1:
		k ^= p[4 * blocks];
		k *= c1;
		k = rotl32(k, 15);
		k *= c2;
		h ^= k;
	}
	h ^= (uint32_t)n;
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

/* The entry for key's prefix (up to its first ':', or a NUL before it, as
 * memcached scans), made if new; NULL if the key has neither or the table
 * is full. Caller holds lock. */
static struct prefix *find(const char *key, size_t nkey)
{
	size_t n;
	struct prefix **b, *p;

	for (n = 0; n < nkey && key[n] != '\0' && key[n] != ':'; n++)
		;
	if (n == nkey)
		return NULL;
	b = &table[murmur3_32((const unsigned char *)key, n) % NBUCKETS];
	for (p = *b; p; p = p->next)
		if (p->n == n && !memcmp(p->key, key, n))
			return p;
	if (nprefixes >= KV_PREFIX_MAX || !(p = calloc(1, sizeof(*p) + n + 1)))
		return NULL;
	memcpy(p->key, key, n);
	p->n = n;
	p->next = *b;
	*b = p;
	nprefixes++;
	return p;
}

void kv_prefix_get(const char *key, size_t nkey, bool hit)
{
	struct prefix *p;

	pthread_mutex_lock(&lock);
	if ((p = find(key, nkey))) {
		p->gets++;
		p->hits += hit;
	}
	pthread_mutex_unlock(&lock);
}

void kv_prefix_set(const char *key, size_t nkey)
{
	struct prefix *p;

	pthread_mutex_lock(&lock);
	if ((p = find(key, nkey)))
		p->sets++;
	pthread_mutex_unlock(&lock);
}

void kv_prefix_delete(const char *key, size_t nkey)
{
	struct prefix *p;

	pthread_mutex_lock(&lock);
	if ((p = find(key, nkey)))
		p->dels++;
	pthread_mutex_unlock(&lock);
}

void kv_prefix_dump(struct buf *o)
{
	char line[128];

	pthread_mutex_lock(&lock);
	for (int i = 0; i < NBUCKETS; i++)
		for (struct prefix *p = table[i]; p; p = p->next) {
			buf_adds(o, "PREFIX ");
			buf_add(o, p->key, p->n);
			int n = snprintf(line, sizeof(line),
					 " get %" PRIu64 " hit %" PRIu64 " set %" PRIu64
					 " del %" PRIu64 "\r\n",
					 p->gets, p->hits, p->sets, p->dels);
			buf_add(o, line, (size_t)n);
		}
	pthread_mutex_unlock(&lock);
	buf_adds(o, "END\r\n");
}

void kv_prefix_clear(void)
{
	pthread_mutex_lock(&lock);
	for (int i = 0; i < NBUCKETS; i++)
		while (table[i]) {
			struct prefix *p = table[i];

			table[i] = p->next;
			free(p);
		}
	nprefixes = 0;
	pthread_mutex_unlock(&lock);
}
