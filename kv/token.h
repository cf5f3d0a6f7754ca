/* memcached's lexical rules: a command line split into tokens, and the
 * number syntax of its arguments (also used by the store to read a value
 * for incr/decr). Pure functions over bytes: no connection, no store. */
#ifndef KV_TOKEN_H
#define KV_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KV_TOK_MAX 24	/* memcached's MAX_TOKENS */

struct kv_tok {
	const char *p;
	size_t n;
};

/* Splits on spaces; returns the token count, at most max (more tokens are
 * reported as max + 1, the tokens past max not stored). */
int kv_tokenize(const char *line, size_t len, struct kv_tok *t, int max);
bool kv_tok_is(const struct kv_tok *t, const char *s);
/* memcached's safe_strtoull / safe_strtol (into an int32) on a token. */
bool kv_tok_u64(const struct kv_tok *t, uint64_t *v);
bool kv_tok_i32(const struct kv_tok *t, int32_t *v);

/* memcached's number rules (safe_strtoull): optional leading space and sign,
 * digits, then a space or the end; a negative number is refused. */
bool kv_strtoull(const char *p, const char *end, uint64_t *out);

#endif
