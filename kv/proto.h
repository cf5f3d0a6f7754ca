/* The memcached text and meta protocols: bytes in, replies out, store calls
 * in between. Nothing here touches sockets. */
#ifndef KV_PROTO_H
#define KV_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "irqlab/fmt.h"

#include "conn.h"

enum { PROTO_OK = 0, PROTO_CLOSE = -1 };

/* Consumes every complete command in c->in from c->rpos and appends the
 * replies to c->out; stops early with c->paused set while more than
 * KV_OUT_HIGH bytes of replies are unsent (call again once they are).
 * Returns PROTO_CLOSE when the connection must be closed (after writing
 * what is in c->out). */
int proto_process(struct kv_conn *c);

/* ---- shared by the text and meta parsers ---- */

#define TOK_MAX 24	/* memcached's MAX_TOKENS */

struct tok {
	const char *p;
	size_t n;
};

/* Splits on spaces; returns the token count, at most max (more tokens are
 * reported as max + 1). */
int proto_tokenize(const char *line, size_t len, struct tok *t, int max);
bool tok_is(const struct tok *t, const char *s);
bool tok_u64(const struct tok *t, uint64_t *v);
bool tok_i32(const struct tok *t, int32_t *v);

/* Result of one command handler: bytes consumed after the line (a data
 * block), or one of these. */
enum { NEED_MORE = -1, CLOSE_CONN = -2 };

/* Meta commands (proto_meta.c): t[0] is mg/ms/md/mn/ma/me. `data` points
 * past the line's "\n", `avail` bytes are there. */
long proto_meta(struct kv_conn *c, struct tok *t, int nt, const char *data,
		size_t avail);

/* Reserves room for `need` more input bytes (a value being received). */
void proto_need(struct kv_conn *c, size_t need);

#endif
