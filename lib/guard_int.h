/* Inside the library only: the guard's records and messages on the wire,
 * and how one record is put back (tests/unit/lib_guard.c checks both). */
#ifndef IRQLAB_GUARD_INT_H
#define IRQLAB_GUARD_INT_H

#include <stddef.h>
#include <stdint.h>

#include "irqlab/guard.h"
#include "irqlab/napi.h"
#include "irqlab/nl.h"

#define IL_GUARD_PATH_MAX 256	/* with the NUL */
#define IL_GUARD_DATA_MAX 4096
#define IL_GUARD_ARGS_MAX 32
/* One message: the 8-byte header and the largest record. */
#define IL_GUARD_MSG_MAX (8 + 8 + IL_GUARD_PATH_MAX + IL_GUARD_DATA_MAX)

/* Message types: a record (its kind) or a command. */
enum {
	IL_GM_RESTORE = 16,	/* arg: kinds; the guard answers IL_GM_DONE */
	IL_GM_KEEP = 17,	/* arg: kinds */
	IL_GM_HELLO = 18,	/* guard -> program, arg: the guard's pid */
	IL_GM_DONE = 19,	/* arg: count restored; int32 rc; message */
};
#define IL_GUARD_VERSION 1

struct il_guard_rec {
	unsigned kind;				/* IL_GUARD_NAPI/FILE/RUN */
	unsigned what;				/* NAPI: IL_SET_* fields */
	struct il_napi old, set;		/* NAPI: before, and what we set */
	char path[IL_GUARD_PATH_MAX];		/* FILE */
	char data[IL_GUARD_DATA_MAX];		/* FILE: old content; RUN: words,
						 * each NUL-terminated */
	size_t len;				/* bytes used in data */
	int argc;				/* RUN */
};

/* A record as one message. Returns its length, 0 when it does not fit. */
size_t il_guard_encode(const struct il_guard_rec *r, uint8_t *buf, size_t size);
/* 0, or -EBADMSG when buf is not one whole, valid record. */
int il_guard_decode(const uint8_t *buf, size_t n, struct il_guard_rec *r);
/* A command message (restore, keep, hello). Returns its length. */
size_t il_guard_cmd(uint8_t *buf, int type, uint32_t arg);

/* Puts one record back (the guard's side). 1 when something was restored,
 * 0 when there was nothing to do, -errno on failure; msg says why when it
 * is worth saying (also for some 0s: "changed by someone else"). nl is the
 * guard's netlink socket, opened on first use. */
int il_guard_apply(const struct il_guard_rec *r, struct il_nl *nl,
		   char *msg, size_t len);

/* napi_save.c: the NAPI case of il_guard_apply. */
int il_napi_guard_apply(const struct il_guard_rec *r, struct il_nl *nl,
			char *msg, size_t len);

#endif
