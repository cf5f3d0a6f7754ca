/* A growable byte buffer: connection input/output and value copies.
 * Buffers grow and are reused; they are never freed per request. */
#ifndef KV_BUF_H
#define KV_BUF_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct buf {
	char *p;
	size_t len, cap;
};

/* Running out of memory for a connection buffer is not recoverable in a
 * way a client could observe differently from a dropped connection. */
/* The capacity buf_reserve(b, extra) leaves b with. */
static inline size_t buf_grown_cap(const struct buf *b, size_t extra)
{
	size_t cap;

	if (b->len + extra <= b->cap)
		return b->cap;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + extra)
		cap *= 2;
	return cap;
}

static inline void buf_reserve(struct buf *b, size_t extra)
{
	size_t cap = buf_grown_cap(b, extra);
	char *p;

	if (cap == b->cap)
		return;
	p = realloc(b->p, cap);
	if (!p) {
		fprintf(stderr, "irqlab-kv: out of memory growing a buffer to %zu bytes\n", cap);
		abort();
	}
	b->p = p;
	b->cap = cap;
}

static inline void buf_add(struct buf *b, const void *d, size_t n)
{
	if (!n)		/* d may be NULL then; memcpy must not see it */
		return;
	buf_reserve(b, n);
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static inline void buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static inline void buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

#endif
