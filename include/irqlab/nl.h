/* Generic netlink transport shared by the families irqlab talks to
 * ("netdev" in napi.c, "ethtool" in nic.c): one socket per struct il_nl,
 * one request at a time, replies fed to a callback, extended acks decoded.
 * The message builders of each family live in nl_<family>.c; this file's
 * functions know nothing about any family's attributes.
 *
 * IRQLAB_NL_DEBUG=1 in the environment prints every message sent and
 * received on a socket opened with il_nl_open, decoded one line each, to
 * stderr; restore sockets, which may run in a signal handler, never print. */
#ifndef IRQLAB_NL_H
#define IRQLAB_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct nlmsghdr;
struct mnl_socket;

/* Dump replies are sized by the kernel up to 32 KiB per recv. */
#define IL_NL_BUF 32768

/* Names for the IRQLAB_NL_DEBUG dump: a family's commands and, per
 * command, its attributes (attrs[type], NULL for unnamed). */
struct il_nl_cmd_names {
	uint8_t cmd;
	const char *name;
	const char *const *attrs;
	unsigned nattrs;
};
struct il_nl_names {
	const char *family;
	const struct il_nl_cmd_names *cmds;
	unsigned ncmds;
};

struct il_nl {
	struct mnl_socket *sock;
	uint32_t portid, seq;
	uint16_t family;	/* family id, 0 = not resolved */
	bool debug;		/* IRQLAB_NL_DEBUG: dump messages to stderr */
	const struct il_nl_names *names;	/* the family's, for the dump */
};

struct il_nl_status {
	int err;		/* -errno from NLMSG_ERROR / NLMSG_DONE */
	char ext[160];		/* extended ack message, "" if none */
	uint32_t miss_type;	/* extended ack: missing attribute, 0 none */
	uint32_t bad_offset;	/* extended ack: offset of the attribute the
				 * kernel rejected in the request, 0 none */
};
typedef int (*il_nl_msg_fn)(const struct nlmsghdr *nlh, void *arg);

/* Opens and binds nl->sock (no-op when open), asking for extended acks
 * without the echoed request. 0 or -errno. */
int il_nl_open(struct il_nl *nl);
void il_nl_close(struct il_nl *nl);

/* Sends nlh and feeds every reply message to fn (may be NULL) until the ACK
 * or DONE; buf (IL_NL_BUF bytes) receives. 0 or -errno, st has the kernel's
 * words. No allocation, no stdio unless nl->debug: restore paths call this
 * from signal handlers. */
int il_nl_talk(struct il_nl *nl, struct nlmsghdr *nlh, il_nl_msg_fn fn,
	       void *arg, struct il_nl_status *st, char *buf);

/* The IRQLAB_NL_DEBUG dump of the messages in buf, one line each, to f
 * (lib/nl_debug.c); nl gives the family's names. */
void il_nl_debug_dump(FILE *f, const struct il_nl *nl, bool sent,
		      const void *buf, size_t len);

/* A family as nlctrl describes it. */
struct il_nl_family {
	uint16_t id;
	bool ops[64];		/* ops[cmd]: this kernel has the command */
};

/* Looks the family up by name; -ENOENT when this kernel has none. On
 * success nl->family is set. */
int il_nl_family_lookup(struct il_nl *nl, const char *name,
			struct il_nl_family *fi, struct il_nl_status *st,
			char *buf);

/* Wire level, public for the unit tests: a genl header (netlink header,
 * then the command), the nlctrl family and policy requests, the check that
 * a message's attributes end exactly at its end, and the reply loop. */
struct nlmsghdr *il_genl_put(void *buf, uint16_t type, uint16_t flags,
			     uint32_t seq, uint8_t cmd, uint8_t version);
struct nlmsghdr *il_nl_family_req(void *buf, uint32_t seq, const char *name);
struct nlmsghdr *il_nl_policy_req(void *buf, uint32_t seq, uint16_t family,
				  uint32_t op);
int il_nl_family_parse(const struct nlmsghdr *nlh, struct il_nl_family *fi);
int il_nl_attrs_ok(const struct nlmsghdr *nlh);

/* Runs the callback over the messages in one recv'd buffer. Returns 1 when
 * more messages are expected, 0 when the reply is complete (ACK or DONE),
 * -errno on an error message (st has the details) or when fn fails. */
int il_nl_run(const void *buf, size_t len, uint32_t seq, uint32_t portid,
	      il_nl_msg_fn fn, void *arg, struct il_nl_status *st);

#endif
