/* The memcached protocols (text and meta): bytes in, replies out, store
 * calls in between. Nothing here touches sockets.
 *
 * proto.c frames the input into command lines and data blocks, splits a
 * line into tokens (token.c) and finds its command in one table for both
 * protocols; the commands run in proto_text.c and proto_meta.c. */
#ifndef KV_PROTO_H
#define KV_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "token.h"

enum { PROTO_OK = 0, PROTO_CLOSE = -1 };

/* Consumes every complete command in c->in from c->rpos and appends the
 * replies to c->out; stops early with c->paused set while more than
 * KV_OUT_HIGH bytes of replies are unsent (call again once they are).
 * Returns PROTO_CLOSE when the connection must be closed (after writing
 * what is in c->out). */
int kv_proto_process(struct kv_conn *c);

/* ---- between proto.c and the command files ---- */

/* A command: returns how many bytes after the line it consumed (its data
 * block), or NEED_MORE (the data block is not all here: proto_need was
 * called) or CLOSE_CONN. arg is the table entry's (e.g. the store op). */
enum { NEED_MORE = -1, CLOSE_CONN = -2 };
typedef long kv_cmd_fn(struct kv_conn *c, struct kv_req *r, int arg);

/* Text commands (proto_text.c). */
kv_cmd_fn kv_cmd_get, kv_cmd_gat, kv_cmd_store, kv_cmd_arith, kv_cmd_delete,
	  kv_cmd_touch, kv_cmd_flush, kv_cmd_verbosity, kv_cmd_version,
	  kv_cmd_quit, kv_cmd_stats, kv_cmd_shutdown;
/* Admin commands (proto_admin.c). */
kv_cmd_fn kv_admin_slabs, kv_admin_lru_crawler, kv_admin_lru;
void kv_admin_cachedump(struct kv_conn *c, struct kv_req *r);	/* stats cachedump */
/* Meta commands (proto_meta.c). */
kv_cmd_fn kv_meta_get, kv_meta_set, kv_meta_delete, kv_meta_arith,
	  kv_meta_debug, kv_meta_noop;

/* Drops the replies memcached would not have written yet: those after
 * its last flush (the END of a get, an mn), when it closes or takes them
 * back. */
static inline void kv_proto_drop_unflushed(struct kv_conn *c)
{
	c->out.len = c->flush_mark > c->wpos ? c->flush_mark : c->wpos;
}

/* Waits for `need` bytes from the start of the data block. */
void kv_proto_need(struct kv_conn *c, size_t need);

#endif
