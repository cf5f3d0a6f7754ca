/* The generic netlink transport every family shares: sockets, one request
 * at a time, the reply loop with extended acks, and the nlctrl family
 * lookup. Family messages live in nl_netdev.c and nl_ethtool.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "irqlab/nl.h"

struct nlmsghdr *il_genl_put(void *buf, uint16_t type, uint16_t flags,
			     uint32_t seq, uint8_t cmd, uint8_t version)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = version;
	return nlh;
}

struct nlmsghdr *il_nl_family_req(void *buf, uint32_t seq, const char *name)
{
	struct nlmsghdr *nlh;

	/* libmnl leaves attribute padding as it finds it: zero it, so no
	 * stale bytes go to the kernel. */
	memset(buf, 0, MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct genlmsghdr)) +
	       MNL_ATTR_HDRLEN + MNL_ALIGN(strlen(name) + 1));
	nlh = il_genl_put(buf, GENL_ID_CTRL, NLM_F_ACK, seq,
			  CTRL_CMD_GETFAMILY, 1);

	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, name);
	return nlh;
}

/* The policy of one op tells which attributes this kernel accepts. */
struct nlmsghdr *il_nl_policy_req(void *buf, uint32_t seq, uint16_t family,
				  uint32_t op)
{
	struct nlmsghdr *nlh;

	/* The u16 family id has two bytes of padding. */
	memset(buf, 0, 64);
	nlh = il_genl_put(buf, GENL_ID_CTRL, NLM_F_DUMP, seq,
			  CTRL_CMD_GETPOLICY, 1);

	mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, family);
	mnl_attr_put_u32(nlh, CTRL_ATTR_OP, op);
	return nlh;
}

/* Walks the attributes after the genl header; any attribute running past
 * the message end makes the whole message malformed. */
int il_nl_attrs_ok(const struct nlmsghdr *nlh)
{
	const struct nlattr *a;
	const char *end = (const char *)nlh + nlh->nlmsg_len;
	size_t off = MNL_ALIGN(sizeof(struct genlmsghdr));

	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + off)
		return 0;
	mnl_attr_for_each(a, nlh, off) {
		/* libmnl measures against the aligned tail: an attribute
		 * may still reach past an unaligned message end. */
		if ((const char *)a + a->nla_len > end)
			return 0;
	}
	/* mnl_attr_for_each stops at the first attribute that does not fit:
	 * a well-formed message ends exactly at its tail. */
	return (const char *)a >= (const char *)mnl_nlmsg_get_payload_tail(nlh);
}

/* Extended ack TLVs follow the echoed request (or only its header when the
 * socket asked for capped acks). */
static void parse_extack(const struct nlmsghdr *nlh, struct il_nl_status *st)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	size_t off = sizeof(*e);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	if (MNL_NLMSG_HDRLEN + off > nlh->nlmsg_len)
		return;
	mnl_attr_for_each(a, nlh, off) {
		uint16_t t = mnl_attr_get_type(a);

		/* A bounded copy by hand: this runs in the restore path,
		 * which may be a signal handler (no stdio there). */
		if (t == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0) {
			const char *m = mnl_attr_get_str(a);
			size_t i;

			for (i = 0; m[i] && i + 1 < sizeof(st->ext); i++)
				st->ext[i] = m[i];
			st->ext[i] = '\0';
		} else if (t == NLMSGERR_ATTR_MISS_TYPE &&
			   mnl_attr_validate(a, MNL_TYPE_U32) == 0) {
			st->miss_type = mnl_attr_get_u32(a);
		} else if (t == NLMSGERR_ATTR_OFFS &&
			   mnl_attr_validate(a, MNL_TYPE_U32) == 0) {
			st->bad_offset = mnl_attr_get_u32(a);
		}
	}
}

int il_nl_run(const void *buf, size_t len, uint32_t seq, uint32_t portid,
	      il_nl_msg_fn fn, void *arg, struct il_nl_status *st)
{
	const struct nlmsghdr *nlh = buf;
	int n = (int)len;

	st->err = 0;
	st->ext[0] = '\0';
	st->miss_type = 0;
	st->bad_offset = 0;
	for (; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n)) {
		if (!mnl_nlmsg_portid_ok(nlh, portid) ||
		    !mnl_nlmsg_seq_ok(nlh, seq))
			continue;	/* a late answer to an earlier request */
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e))
				return st->err = -EBADMSG;
			if (e->error == 0)
				return 0;	/* the ACK ends a "do" */
			parse_extack(nlh, st);
			return st->err = e->error < 0 ? e->error : -e->error;
		}
		if (nlh->nlmsg_type == NLMSG_DONE) {
			/* A dump that failed part way carries its errno here. */
			if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int)) {
				int e = *(const int *)mnl_nlmsg_get_payload(nlh);

				if (e < 0)
					return st->err = e;
			}
			return 0;
		}
		if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
			continue;	/* NOOP, OVERRUN */
		if (fn) {
			int rc = fn(nlh, arg);

			if (rc < 0)
				return st->err = rc;
		}
	}
	if (n > 0)	/* bytes left that are not a whole message */
		return st->err = -EBADMSG;
	return 1;
}

int il_nl_open(struct il_nl *nl)
{
	const char *dbg = getenv("IRQLAB_NL_DEBUG");
	int one = 1;

	if (nl->sock)
		return 0;
	nl->sock = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->sock)
		return -errno;
	/* Error messages with the kernel's reason, without the echoed
	 * request; both are best effort on old kernels. */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = -errno;

		mnl_socket_close(nl->sock);
		nl->sock = NULL;
		return e;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)getpid() << 8;
	nl->debug = dbg && *dbg && strcmp(dbg, "0") != 0;
	return 0;
}

void il_nl_close(struct il_nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
	nl->family = 0;
}

int il_nl_talk(struct il_nl *nl, struct nlmsghdr *nlh, il_nl_msg_fn fn,
	       void *arg, struct il_nl_status *st, char *buf)
{
	int rc;

	if (nl->debug)
		il_nl_debug_dump(stderr, nl, true, nlh, nlh->nlmsg_len);
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		ssize_t n = mnl_socket_recvfrom(nl->sock, buf, IL_NL_BUF);

		if (n < 0 && errno == EINTR) {
			rc = 1;
			continue;
		}
		if (n < 0)
			return -errno;
		if (nl->debug)
			il_nl_debug_dump(stderr, nl, false, buf, (size_t)n);
		rc = il_nl_run(buf, (size_t)n, nlh->nlmsg_seq, nl->portid, fn,
			       arg, st);
	} while (rc == 1);
	return rc;
}

static int family_attr(const struct nlattr *a, void *data)
{
	struct il_nl_family *fi = data;
	const struct nlattr *op, *oa;

	if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID &&
	    mnl_attr_validate(a, MNL_TYPE_U16) == 0)
		fi->id = mnl_attr_get_u16(a);
	if (mnl_attr_get_type(a) != CTRL_ATTR_OPS)
		return MNL_CB_OK;
	mnl_attr_for_each_nested(op, a) {
		mnl_attr_for_each_nested(oa, op) {
			if (mnl_attr_get_type(oa) == CTRL_ATTR_OP_ID &&
			    mnl_attr_validate(oa, MNL_TYPE_U32) == 0 &&
			    mnl_attr_get_u32(oa) < 64)
				fi->ops[mnl_attr_get_u32(oa)] = true;
		}
	}
	return MNL_CB_OK;
}

int il_nl_family_parse(const struct nlmsghdr *nlh, struct il_nl_family *fi)
{
	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_attr, fi) < 0)
		return -EBADMSG;
	return 0;
}

static int family_msg(const struct nlmsghdr *nlh, void *arg)
{
	return il_nl_family_parse(nlh, arg);
}

int il_nl_family_lookup(struct il_nl *nl, const char *name,
			struct il_nl_family *fi, struct il_nl_status *st,
			char *buf)
{
	int rc;

	memset(fi, 0, sizeof(*fi));
	if ((rc = il_nl_open(nl)))
		return rc;
	rc = il_nl_talk(nl, il_nl_family_req(buf, ++nl->seq, name),
			family_msg, fi, st, buf);
	if (rc)
		return rc;
	if (!fi->id)
		return -ENOENT;
	nl->family = fi->id;
	return 0;
}
