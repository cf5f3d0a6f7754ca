/* IRQLAB_NL_DEBUG=1: every message a socket sends and receives, decoded on
 * one line each (command and attribute names where the family gave them,
 * numbers, strings, nested attributes in braces), as ethtool's --debug
 * does. When a new kernel answers differently, this is how to see it. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "irqlab/nl.h"

static const char *const ctrl_attrs[] = {
	[CTRL_ATTR_FAMILY_ID] = "family-id",
	[CTRL_ATTR_FAMILY_NAME] = "family-name",
	[CTRL_ATTR_VERSION] = "version",
	[CTRL_ATTR_HDRSIZE] = "hdrsize",
	[CTRL_ATTR_MAXATTR] = "maxattr",
	[CTRL_ATTR_OPS] = "ops",
	[CTRL_ATTR_MCAST_GROUPS] = "mcast-groups",
	[CTRL_ATTR_POLICY] = "policy",
	[CTRL_ATTR_OP_POLICY] = "op-policy",
	[CTRL_ATTR_OP] = "op",
};
#define NATTRS(a) (sizeof(a) / sizeof((a)[0]))
static const struct il_nl_cmd_names ctrl_cmds[] = {
	{ CTRL_CMD_NEWFAMILY, "newfamily", ctrl_attrs, NATTRS(ctrl_attrs) },
	{ CTRL_CMD_GETFAMILY, "getfamily", ctrl_attrs, NATTRS(ctrl_attrs) },
	{ CTRL_CMD_GETPOLICY, "getpolicy", ctrl_attrs, NATTRS(ctrl_attrs) },
};
static const struct il_nl_names ctrl_names = {
	"nlctrl", ctrl_cmds, NATTRS(ctrl_cmds)
};

/* The same bits mean different things in requests and in error replies. */
static void put_flags(FILE *f, uint16_t fl, bool error)
{
	static const struct { uint16_t bit; bool error; const char *name; } names[] = {
		{ NLM_F_REQUEST, 0, "request" }, { NLM_F_MULTI, 0, "multi" },
		{ NLM_F_ACK, 0, "ack" }, { NLM_F_DUMP, 0, "dump" },
		{ NLM_F_CAPPED, 1, "capped" }, { NLM_F_ACK_TLVS, 1, "ack-tlvs" },
	};
	const char *sep = "";

	for (size_t i = 0; i < NATTRS(names); i++)
		if ((fl & names[i].bit) == names[i].bit &&
		    (names[i].bit < NLM_F_CAPPED || names[i].error == error)) {
			fprintf(f, "%s%s", sep, names[i].name);
			sep = ",";
			fl &= (uint16_t)~names[i].bit;
		}
	if (fl)
		fprintf(f, "%s0x%x", sep, fl);
}

static int printable(const char *s, size_t len)
{
	if (!len || s[len - 1] != '\0')
		return 0;
	for (size_t i = 0; i + 1 < len; i++)
		if (!isprint((unsigned char)s[i]))
			return 0;
	return 1;
}

/* A nested attribute is one whose payload is exactly a run of attributes.
 * Kernels rarely set NLA_F_NESTED, so payloads are tried; a number of 4 or
 * 8 bytes can look like a run, so those are tried only inside a nest. */
static int nested_ok(const void *p, size_t len)
{
	size_t off = 0;

	while (off + MNL_ATTR_HDRLEN <= len) {
		const struct nlattr *a = (const void *)((const char *)p + off);

		if (a->nla_len < MNL_ATTR_HDRLEN || off + a->nla_len > len)
			return 0;
		off += MNL_ALIGN(a->nla_len);
	}
	return off == len || off == MNL_ALIGN(len);
}

static void put_attrs(FILE *f, const void *p, size_t len,
		      const char *const *names, unsigned nnames, int depth);

static void put_value(FILE *f, const struct nlattr *a, int try_nest, int depth)
{
	const void *v = mnl_attr_get_payload(a);
	size_t len = mnl_attr_get_payload_len(a);

	if (try_nest && len > MNL_ATTR_HDRLEN && nested_ok(v, len) && depth < 4) {
		fputc('{', f);
		put_attrs(f, v, len, NULL, 0, depth + 1);
		fputc('}', f);
	} else if (printable(v, len)) {
		fprintf(f, "\"%s\"", (const char *)v);
	} else if (len == 1) {
		fprintf(f, "%u", mnl_attr_get_u8(a));
	} else if (len == 2) {
		fprintf(f, "%u", mnl_attr_get_u16(a));
	} else if (len == 4) {
		fprintf(f, "%" PRIu32, mnl_attr_get_u32(a));
	} else if (len == 8) {
		fprintf(f, "%" PRIu64, mnl_attr_get_u64(a));
	} else {
		fprintf(f, "<%zu bytes:", len);
		for (size_t i = 0; i < len && i < 16; i++)
			fprintf(f, " %02x", ((const uint8_t *)v)[i]);
		fprintf(f, "%s>", len > 16 ? " ..." : "");
	}
}

static void put_attrs(FILE *f, const void *p, size_t len,
		      const char *const *names, unsigned nnames, int depth)
{
	size_t off = 0;
	const char *sep = "";

	while (off + MNL_ATTR_HDRLEN <= len) {
		const struct nlattr *a = (const void *)((const char *)p + off);
		uint16_t t = mnl_attr_get_type(a);
		const char *name = t < nnames ? names[t] : NULL;

		if (a->nla_len < MNL_ATTR_HDRLEN || off + a->nla_len > len) {
			fprintf(f, "%s<truncated attribute>", sep);
			return;
		}
		if (name)
			fprintf(f, "%s%s=", sep, name);
		else
			fprintf(f, "%s%u=", sep, t);
		put_value(f, a, (a->nla_type & NLA_F_NESTED) || depth ||
			  (a->nla_len - MNL_ATTR_HDRLEN != 4 &&
			   a->nla_len - MNL_ATTR_HDRLEN != 8), depth);
		sep = " ";
		off += MNL_ALIGN(a->nla_len);
	}
}

static const struct il_nl_cmd_names *find_cmd(const struct il_nl_names *n,
					      uint8_t cmd)
{
	for (unsigned i = 0; n && i < n->ncmds; i++)
		if (n->cmds[i].cmd == cmd)
			return &n->cmds[i];
	return NULL;
}

static void put_genl(FILE *f, const struct il_nl *nl, const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
	const struct il_nl_names *fam = nlh->nlmsg_type == GENL_ID_CTRL ?
		&ctrl_names : nl->names;
	const struct il_nl_cmd_names *c;
	size_t off = MNL_ALIGN(sizeof(*g));

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*g)) {
		fprintf(f, " <no genl header>");
		return;
	}
	c = find_cmd(fam, g->cmd);
	fprintf(f, " %s", fam ? fam->family : "family");
	if (c)
		fprintf(f, " %s:", c->name);
	else
		fprintf(f, " cmd %u:", g->cmd);
	if (mnl_nlmsg_get_payload_len(nlh) > off) {
		fputc(' ', f);
		put_attrs(f, (const char *)g + off,
			  mnl_nlmsg_get_payload_len(nlh) - off,
			  c ? c->attrs : NULL, c ? c->nattrs : 0, 0);
	}
}

static void put_error(FILE *f, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	struct il_nl_status st;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
		fprintf(f, " error <truncated>");
		return;
	}
	if (e->error == 0) {
		fprintf(f, " ack");
		return;
	}
	fprintf(f, " error %d (%s)", e->error, strerror(-e->error));
	/* il_nl_run decodes the extended ack the same way the caller sees it. */
	il_nl_run(nlh, nlh->nlmsg_len, nlh->nlmsg_seq, nlh->nlmsg_pid, NULL,
		  NULL, &st);
	if (st.ext[0])
		fprintf(f, " \"%s\"", st.ext);
	if (st.miss_type)
		fprintf(f, " missing-attr=%u", st.miss_type);
	if (st.bad_offset)
		fprintf(f, " bad-attr-offset=%u", st.bad_offset);
}

void il_nl_debug_dump(FILE *f, const struct il_nl *nl, bool sent,
		      const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	int n = (int)len;

	for (; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n)) {
		fprintf(f, "irqlab netlink %s seq %u", sent ? "->" : "<-",
			nlh->nlmsg_seq);
		if (nlh->nlmsg_flags) {
			fputc(' ', f);
			put_flags(f, nlh->nlmsg_flags,
				  nlh->nlmsg_type == NLMSG_ERROR);
		}
		fputc(':', f);
		if (nlh->nlmsg_type == NLMSG_ERROR)
			put_error(f, nlh);
		else if (nlh->nlmsg_type == NLMSG_DONE)
			fprintf(f, " done");
		else if (nlh->nlmsg_type >= NLMSG_MIN_TYPE)
			put_genl(f, nl, nlh);
		else
			fprintf(f, " type %u", nlh->nlmsg_type);
		fputc('\n', f);
	}
	if (n > 0)
		fprintf(f, "irqlab netlink %s %d bytes that are no whole "
			"message\n", sent ? "->" : "<-", n);
}
