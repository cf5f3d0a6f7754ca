/* memcached's lexical rules: a command line split into tokens, and the
 * number syntax of its arguments (also used by the store to read a value
 * for incr/decr). Pure functions over bytes: no connection, no store. */
#ifndef KV_TOKEN_H
#define KV_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define KV_TOK_MAX 24	/* memcached's MAX_TOKENS */

struct kv_tok {
	const char *p;
	size_t n;
};

/* One command line, tokenized, and what follows it in the input (proto.c
 * fills it for the command it runs). */
struct kv_req {
	struct kv_tok t[KV_TOK_MAX];
	int nt;			/* KV_TOK_MAX: more tokens than t holds */
	const char *end;	/* end of the line (before "\r\n") */
	const char *data;	/* the bytes after the line's "\n" */
	size_t avail;		/* how many of them have arrived */
	bool noreply;		/* last token is "noreply" (commands that have it) */
};

/* Splits on spaces; returns the token count, at most max (more tokens are
 * reported as max + 1, the tokens past max not stored). Inline: it runs
 * for every request. */
static inline int kv_tokenize(const char *line, size_t len, struct kv_tok *t, int max)
{
	const char *p = line, *end = line + len;
	int n = 0;

	while (p < end) {
		const char *s;

		while (p < end && *p == ' ')
			p++;
		if (p == end)
			break;
		if (n == max)
			return max + 1;
		for (s = p; p < end && *p != ' '; p++)
			;
		t[n].p = s;
		t[n].n = (size_t)(p - s);
		n++;
	}
	return n;
}

/* Whether the token is s (inline: with a constant s the length folds). */
static inline bool kv_tok_is(const struct kv_tok *t, const char *s)
{
	size_t n = strlen(s);

	return t->n == n && !memcmp(t->p, s, n);
}

/* memcached's safe_strtoull / safe_strtol (into an int32) on a token. */
bool kv_tok_u64(const struct kv_tok *t, uint64_t *v);
bool kv_tok_i32(const struct kv_tok *t, int32_t *v);

/* memcached's number rules (safe_strtoull): optional leading space and sign,
 * digits, then a space or the end; a negative number is refused. */
bool kv_strtoull(const char *p, const char *end, uint64_t *out);

#endif
