/* memcached's lexical rules (see token.h). */
#include "token.h"

#include <string.h>

static bool is_space(char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

bool kv_strtoull(const char *p, const char *end, uint64_t *out)
{
	uint64_t v = 0;
	bool neg = false;
	const char *d;

	while (p < end && is_space(*p))
		p++;
	if (p < end && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	for (d = p; p < end && *p >= '0' && *p <= '9'; p++) {
		uint64_t n = v * 10 + (uint64_t)(*p - '0');

		if (v > UINT64_MAX / 10 || n < v * 10)
			return false;
		v = n;
	}
	if (p == d)
		return false;
	if (p < end && !is_space(*p))
		return false;
	if (neg) {
		/* strtoull negates; memcached then refuses anything that
		 * became "negative" as a signed number */
		v = (uint64_t)0 - v;
		if ((int64_t)v < 0)
			return false;
	}
	*out = v;
	return true;
}

bool kv_tok_u64(const struct kv_tok *t, uint64_t *v)
{
	return kv_strtoull(t->p, t->p + t->n, v);
}

/* memcached's safe_strtol into an int32: strtol (64-bit long) with its
 * range error, then a plain assignment to int32_t, so out-of-range values
 * wrap (memcached: "set k 0 2147483648 1" stores an expired item, a length
 * of 4294967296 is 0); after the digits, the end or a space. */
bool kv_tok_i32(const struct kv_tok *t, int32_t *v)
{
	const char *p = t->p, *end = t->p + t->n, *d;
	bool neg = false;
	uint64_t x = 0;

	while (p < end && is_space(*p))
		p++;
	if (p < end && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	for (d = p; p < end && *p >= '0' && *p <= '9'; p++) {
		x = x * 10 + (uint64_t)(*p - '0');
		if (x > (uint64_t)INT64_MAX + neg)	/* ERANGE */
			return false;
	}
	if (p == d || (p < end && !is_space(*p)))
		return false;
	*v = (int32_t)(uint32_t)(neg ? (uint64_t)0 - x : x);
	return true;
}
