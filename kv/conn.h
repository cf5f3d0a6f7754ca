/* A client connection: its buffers and where the protocol stands. */
#ifndef KV_CONN_H
#define KV_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "irqlab/loop.h"
#include "buf.h"
#include "kv.h"

struct kv_conn {
	struct il_io io;	/* first: the loop hands us this pointer */
	struct kv_thread *t;
	struct kv_conn *prev, *next;	/* the thread's open connections */
	struct buf in;		/* received bytes, parsed up to rpos */
	struct buf out;		/* replies, written up to wpos */
	size_t rpos, wpos;
	uint64_t swallow;	/* bytes of a refused value still to discard */
	bool closing;		/* close once out is written */
	bool want_out;		/* EPOLLOUT registered */
	bool paused;		/* commands left unparsed: output over KV_OUT_HIGH */
	bool no_room;		/* the input budget refused the pending value */
	uint32_t last_cmd;	/* server clock at the last command (idle_timeout) */
	size_t flush_mark;	/* out length where memcached would have
				 * written its replies (a get's END, mn) */
	size_t need;		/* bytes from rpos the current command waits for */
	uint32_t napi_id;
	uint8_t state;		/* atomic: enum kv_conn_state, for stats conns */
};

/* memcached's connection states as "stats conns" names them. */
enum kv_conn_state { KV_CS_READ, KV_CS_NREAD, KV_CS_SWALLOW, KV_CS_MWRITE };

/* Sets up a connection on fd owned by loop l (called by the loop). */
void kv_conn_open(struct il_loop *l, int fd, uint32_t napi_id);
/* Refuses a connection over the limit the way memcached does. */
void kv_conn_refuse(int fd);
/* The same for a connection loop 0 accepted with its reserved fd when the
 * process was out of fds (il_group_on_refuse); counted. */
void kv_conn_refuse_fd(struct il_loop *l, int fd);
/* Closes every connection of a thread (after its loop stopped). */
void kv_conn_close_all(struct kv_thread *t);
/* Frees the input blocks a thread keeps for reuse. */
void kv_conn_blocks_free(struct kv_thread *t);
/* Thread t's timer, each second: closes connections without a complete
 * command for -o idle_timeout seconds (not those waiting for the client to
 * read its replies). */
void kv_conn_idle_check(struct kv_thread *t);
/* "stats conns": the listener and every connection (self: the one
 * asking), by fd, with memcached's lines. */
void kv_conn_stats(struct kv_conn *self, struct buf *o);

#endif
