/* The ethtool generic netlink messages irqlab sends (coalesce, channels and
 * rings, each a get and a set), one small function per message, the reply
 * parser, the names of the fields and the sentences for errors. No sockets
 * here: nic.c talks through nl.c, the unit tests feed canned bytes.
 *
 * Every message of the three kinds has the same shape: a nested header
 * (ETHTOOL_A_*_HEADER = 1, holding the ifindex) and flat u32 or u8
 * attributes, so one table row per kind says which is which. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/ethtool_netlink.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "irqlab/compat.h"
#include "irqlab/nic.h"

#define B(a) (1u << (a))
/* bits lo..hi */
#define RANGE(lo, hi) ((uint32_t)((2ull << (hi)) - (1ull << (lo))))

static const struct et_kind {
	const char *name;	/* for messages: "coalesce-set" */
	const char *flag;	/* the ethtool option, for the user */
	uint8_t get, set, reply;
	uint32_t u8, u32;	/* attribute types by size; others skipped */
} kinds[IL_ET_KINDS] = {
	[IL_ET_COALESCE] = {
		"coalesce", "-C", ETHTOOL_MSG_COALESCE_GET,
		ETHTOOL_MSG_COALESCE_SET, ETHTOOL_MSG_COALESCE_GET_REPLY,
		B(ETHTOOL_A_COALESCE_USE_ADAPTIVE_RX) |
		B(ETHTOOL_A_COALESCE_USE_ADAPTIVE_TX) |
		B(ETHTOOL_A_COALESCE_USE_CQE_MODE_TX) |
		B(ETHTOOL_A_COALESCE_USE_CQE_MODE_RX),
		/* rx-usecs .. rate-sample-interval minus the two bools */
		RANGE(ETHTOOL_A_COALESCE_RX_USECS,
		      ETHTOOL_A_COALESCE_RATE_SAMPLE_INTERVAL) &
		~(B(ETHTOOL_A_COALESCE_USE_ADAPTIVE_RX) |
		  B(ETHTOOL_A_COALESCE_USE_ADAPTIVE_TX)),
	},
	[IL_ET_CHANNELS] = {
		"channels", "-L", ETHTOOL_MSG_CHANNELS_GET,
		ETHTOOL_MSG_CHANNELS_SET, ETHTOOL_MSG_CHANNELS_GET_REPLY,
		0,
		RANGE(ETHTOOL_A_CHANNELS_RX_MAX,
		      ETHTOOL_A_CHANNELS_COMBINED_COUNT),
	},
	[IL_ET_RINGS] = {
		"rings", "-G", ETHTOOL_MSG_RINGS_GET,
		ETHTOOL_MSG_RINGS_SET, ETHTOOL_MSG_RINGS_GET_REPLY,
		B(ETHTOOL_A_RINGS_TCP_DATA_SPLIT) | B(ETHTOOL_A_RINGS_TX_PUSH) |
		B(IL_ETHTOOL_A_RINGS_RX_PUSH),
		RANGE(ETHTOOL_A_RINGS_RX_MAX, ETHTOOL_A_RINGS_RX_BUF_LEN) |
		B(ETHTOOL_A_RINGS_CQE_SIZE),
	},
};

#define S IL_NF_SET
#define BS (IL_NF_BOOL | IL_NF_SET)
const struct il_nic_field il_nic_fields[] = {
	{ IL_ET_COALESCE, ETHTOOL_A_COALESCE_USE_ADAPTIVE_RX, BS, "adaptive-rx" },
	{ IL_ET_COALESCE, ETHTOOL_A_COALESCE_USE_ADAPTIVE_TX, BS, "adaptive-tx" },
	{ IL_ET_COALESCE, ETHTOOL_A_COALESCE_RX_USECS, S, "rx-usecs" },
	{ IL_ET_COALESCE, ETHTOOL_A_COALESCE_RX_MAX_FRAMES, S, "rx-frames" },
	{ IL_ET_COALESCE, ETHTOOL_A_COALESCE_TX_USECS, S, "tx-usecs" },
	{ IL_ET_COALESCE, ETHTOOL_A_COALESCE_TX_MAX_FRAMES, S, "tx-frames" },
	{ IL_ET_COALESCE, ETHTOOL_A_COALESCE_USE_CQE_MODE_RX, BS, "cqe-mode-rx" },
	{ IL_ET_COALESCE, ETHTOOL_A_COALESCE_USE_CQE_MODE_TX, BS, "cqe-mode-tx" },
	{ IL_ET_COALESCE, ETHTOOL_A_COALESCE_RX_USECS_IRQ, 0, "rx-usecs-irq" },
	{ IL_ET_COALESCE, ETHTOOL_A_COALESCE_RX_MAX_FRAMES_IRQ, 0, "rx-frames-irq" },
	{ IL_ET_COALESCE, ETHTOOL_A_COALESCE_TX_USECS_IRQ, 0, "tx-usecs-irq" },
	{ IL_ET_COALESCE, ETHTOOL_A_COALESCE_TX_MAX_FRAMES_IRQ, 0, "tx-frames-irq" },
	{ IL_ET_COALESCE, ETHTOOL_A_COALESCE_STATS_BLOCK_USECS, 0, "stats-block-usecs" },
	{ IL_ET_COALESCE, ETHTOOL_A_COALESCE_RATE_SAMPLE_INTERVAL, 0, "sample-interval" },
	{ IL_ET_COALESCE, ETHTOOL_A_COALESCE_PKT_RATE_LOW, 0, "pkt-rate-low" },
	{ IL_ET_COALESCE, ETHTOOL_A_COALESCE_RX_USECS_LOW, 0, "rx-usecs-low" },
	{ IL_ET_COALESCE, ETHTOOL_A_COALESCE_RX_MAX_FRAMES_LOW, 0, "rx-frames-low" },
	{ IL_ET_COALESCE, ETHTOOL_A_COALESCE_TX_USECS_LOW, 0, "tx-usecs-low" },
	{ IL_ET_COALESCE, ETHTOOL_A_COALESCE_TX_MAX_FRAMES_LOW, 0, "tx-frames-low" },
	{ IL_ET_COALESCE, ETHTOOL_A_COALESCE_PKT_RATE_HIGH, 0, "pkt-rate-high" },
	{ IL_ET_COALESCE, ETHTOOL_A_COALESCE_RX_USECS_HIGH, 0, "rx-usecs-high" },
	{ IL_ET_COALESCE, ETHTOOL_A_COALESCE_RX_MAX_FRAMES_HIGH, 0, "rx-frames-high" },
	{ IL_ET_COALESCE, ETHTOOL_A_COALESCE_TX_USECS_HIGH, 0, "tx-usecs-high" },
	{ IL_ET_COALESCE, ETHTOOL_A_COALESCE_TX_MAX_FRAMES_HIGH, 0, "tx-frames-high" },
	{ IL_ET_CHANNELS, ETHTOOL_A_CHANNELS_RX_COUNT, S, "rx" },
	{ IL_ET_CHANNELS, ETHTOOL_A_CHANNELS_TX_COUNT, S, "tx" },
	{ IL_ET_CHANNELS, ETHTOOL_A_CHANNELS_OTHER_COUNT, S, "other" },
	{ IL_ET_CHANNELS, ETHTOOL_A_CHANNELS_COMBINED_COUNT, S, "combined" },
	{ IL_ET_CHANNELS, ETHTOOL_A_CHANNELS_RX_MAX, 0, "rx-max" },
	{ IL_ET_CHANNELS, ETHTOOL_A_CHANNELS_TX_MAX, 0, "tx-max" },
	{ IL_ET_CHANNELS, ETHTOOL_A_CHANNELS_OTHER_MAX, 0, "other-max" },
	{ IL_ET_CHANNELS, ETHTOOL_A_CHANNELS_COMBINED_MAX, 0, "combined-max" },
	{ IL_ET_RINGS, ETHTOOL_A_RINGS_RX, S, "rx" },
	{ IL_ET_RINGS, ETHTOOL_A_RINGS_TX, S, "tx" },
	{ IL_ET_RINGS, ETHTOOL_A_RINGS_RX_MINI, S, "rx-mini" },
	{ IL_ET_RINGS, ETHTOOL_A_RINGS_RX_JUMBO, S, "rx-jumbo" },
	{ IL_ET_RINGS, ETHTOOL_A_RINGS_RX_MAX, 0, "rx-max" },
	{ IL_ET_RINGS, ETHTOOL_A_RINGS_TX_MAX, 0, "tx-max" },
	{ IL_ET_RINGS, ETHTOOL_A_RINGS_RX_MINI_MAX, 0, "rx-mini-max" },
	{ IL_ET_RINGS, ETHTOOL_A_RINGS_RX_JUMBO_MAX, 0, "rx-jumbo-max" },
	{ IL_ET_RINGS, ETHTOOL_A_RINGS_RX_BUF_LEN, 0, "rx-buf-len" },
	{ IL_ET_RINGS, ETHTOOL_A_RINGS_CQE_SIZE, 0, "cqe-size" },
	{ IL_ET_RINGS, ETHTOOL_A_RINGS_TCP_DATA_SPLIT, 0, "tcp-data-split" },
	{ IL_ET_RINGS, ETHTOOL_A_RINGS_TX_PUSH, IL_NF_BOOL, "tx-push" },
	{ IL_ET_RINGS, IL_ETHTOOL_A_RINGS_RX_PUSH, IL_NF_BOOL, "rx-push" },
};
#undef S
#undef BS
const int il_nic_nfields = sizeof(il_nic_fields) / sizeof(il_nic_fields[0]);

const struct il_nic_field *il_nic_field_find(enum il_et_kind kind,
					     const char *name)
{
	for (int i = 0; i < il_nic_nfields; i++)
		if ((kind == IL_ET_KINDS || il_nic_fields[i].kind == kind) &&
		    strcmp(il_nic_fields[i].name, name) == 0)
			return &il_nic_fields[i];
	return NULL;
}

const struct il_nic_field *il_nic_field_of(enum il_et_kind kind, int attr)
{
	for (int i = 0; i < il_nic_nfields; i++)
		if (il_nic_fields[i].kind == kind && il_nic_fields[i].attr == attr)
			return &il_nic_fields[i];
	return NULL;
}

const char *il_et_kind_name(enum il_et_kind kind)
{
	return kind < IL_ET_KINDS ? kinds[kind].name : "ethtool";
}

const char *il_et_kind_flag(enum il_et_kind kind)
{
	return kind < IL_ET_KINDS ? kinds[kind].flag : "";
}

/* Names for the IRQLAB_NL_DEBUG dump, from the field table. A set request
 * and a get reply share a command number (coalesce-set and its get reply
 * are both 20) and their attributes, so one entry names both. */
static const char *attr_names[IL_ET_KINDS][IL_ET_ATTRS];
static struct il_nl_cmd_names cmd_names[2 * IL_ET_KINDS];
static struct il_nl_names et_names = { "ethtool", cmd_names, 2 * IL_ET_KINDS };

static void names_once(void)
{
	static const char *const cmd[IL_ET_KINDS][2] = {
		{ "coalesce-get", "coalesce-set/get-reply" },
		{ "channels-get", "channels-set/get-reply" },
		{ "rings-get", "rings-set/get-reply" },
	};

	for (int i = 0; i < il_nic_nfields; i++)
		attr_names[il_nic_fields[i].kind][il_nic_fields[i].attr] =
			il_nic_fields[i].name;
	for (int k = 0; k < IL_ET_KINDS; k++) {
		attr_names[k][1] = "header";
		for (int j = 0; j < 2; j++)
			cmd_names[2 * k + j] = (struct il_nl_cmd_names){
				j ? kinds[k].set : kinds[k].get, cmd[k][j],
				attr_names[k], IL_ET_ATTRS };
	}
}

const struct il_nl_names *il_et_names(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, names_once);
	return &et_names;
}

/* The request header every ethtool message starts with: the device by
 * ifindex (names are per namespace too, but an index survives a rename). */
static struct nlmsghdr *et_put(void *buf, uint16_t family, uint32_t seq,
			       uint8_t cmd, int ifindex)
{
	struct nlmsghdr *nlh;
	struct nlattr *nest;

	/* libmnl leaves attribute padding as it finds it; the largest
	 * request is under 512 bytes. */
	memset(buf, 0, 512);
	nlh = il_genl_put(buf, family, NLM_F_ACK, seq, cmd, ETHTOOL_GENL_VERSION);
	nest = mnl_attr_nest_start(nlh, 1 /* ETHTOOL_A_*_HEADER */);
	mnl_attr_put_u32(nlh, ETHTOOL_A_HEADER_DEV_INDEX, (uint32_t)ifindex);
	mnl_attr_nest_end(nlh, nest);
	return nlh;
}

/* The values flagged in val->have, each at its kernel size, lowest
 * attribute first; attributes this kind does not know are not sent. */
static void put_vals(struct nlmsghdr *nlh, enum il_et_kind k,
		     const struct il_et *val)
{
	for (int a = 2; a < IL_ET_ATTRS; a++) {
		if (!(val->have & B(a)))
			continue;
		if (kinds[k].u8 & B(a))
			mnl_attr_put_u8(nlh, (uint16_t)a, val->v[a] ? 1 : 0);
		else if (kinds[k].u32 & B(a))
			mnl_attr_put_u32(nlh, (uint16_t)a, val->v[a]);
	}
}

struct nlmsghdr *il_et_coalesce_get_req(void *buf, uint16_t family,
					uint32_t seq, int ifindex)
{
	return et_put(buf, family, seq, ETHTOOL_MSG_COALESCE_GET, ifindex);
}

struct nlmsghdr *il_et_coalesce_set_req(void *buf, uint16_t family,
					uint32_t seq, int ifindex,
					const struct il_et *val)
{
	struct nlmsghdr *nlh = et_put(buf, family, seq,
				      ETHTOOL_MSG_COALESCE_SET, ifindex);

	put_vals(nlh, IL_ET_COALESCE, val);
	return nlh;
}

struct nlmsghdr *il_et_channels_get_req(void *buf, uint16_t family,
					uint32_t seq, int ifindex)
{
	return et_put(buf, family, seq, ETHTOOL_MSG_CHANNELS_GET, ifindex);
}

struct nlmsghdr *il_et_channels_set_req(void *buf, uint16_t family,
					uint32_t seq, int ifindex,
					const struct il_et *val)
{
	struct nlmsghdr *nlh = et_put(buf, family, seq,
				      ETHTOOL_MSG_CHANNELS_SET, ifindex);

	put_vals(nlh, IL_ET_CHANNELS, val);
	return nlh;
}

struct nlmsghdr *il_et_rings_get_req(void *buf, uint16_t family,
				     uint32_t seq, int ifindex)
{
	return et_put(buf, family, seq, ETHTOOL_MSG_RINGS_GET, ifindex);
}

struct nlmsghdr *il_et_rings_set_req(void *buf, uint16_t family,
				     uint32_t seq, int ifindex,
				     const struct il_et *val)
{
	struct nlmsghdr *nlh = et_put(buf, family, seq,
				      ETHTOOL_MSG_RINGS_SET, ifindex);

	put_vals(nlh, IL_ET_RINGS, val);
	return nlh;
}

struct nlmsghdr *il_et_req(void *buf, uint16_t family, uint32_t seq,
			   enum il_et_kind k, bool set, int ifindex,
			   const struct il_et *val)
{
	struct nlmsghdr *nlh = et_put(buf, family, seq,
				      set ? kinds[k].set : kinds[k].get, ifindex);

	if (set)
		put_vals(nlh, k, val);
	return nlh;
}

/* The header nest of a reply: the device it is about. */
static int parse_header(const struct nlattr *nest, int *ifindex)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, nest) {
		if (mnl_attr_get_type(a) != ETHTOOL_A_HEADER_DEV_INDEX)
			continue;
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return -EBADMSG;
		*ifindex = (int)mnl_attr_get_u32(a);
	}
	return 0;
}

int il_et_parse(const struct nlmsghdr *nlh, enum il_et_kind k,
		struct il_et *out, int *ifindex)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	memset(out, 0, sizeof(*out));
	*ifindex = 0;
	if (k >= IL_ET_KINDS || !il_nl_attrs_ok(nlh) || g->cmd != kinds[k].reply)
		return -EBADMSG;
	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		uint16_t t = mnl_attr_get_type(a);

		if (t == 1) {	/* ETHTOOL_A_*_HEADER */
			if (parse_header(a, ifindex))
				return -EBADMSG;
			continue;
		}
		/* Newer kernels add attributes (nests, u64s): not ours. */
		if (t >= IL_ET_ATTRS || !((kinds[k].u8 | kinds[k].u32) & B(t)))
			continue;
		if (mnl_attr_validate(a, (kinds[k].u8 & B(t)) ? MNL_TYPE_U8 :
				      MNL_TYPE_U32) < 0)
			return -EBADMSG;
		out->v[t] = (kinds[k].u8 & B(t)) ? mnl_attr_get_u8(a) :
			    mnl_attr_get_u32(a);
		out->have |= B(t);
	}
	return *ifindex > 0 ? 0 : -EBADMSG;
}

int il_et_attr_at(const struct nlmsghdr *req, uint32_t off)
{
	const struct nlattr *a;

	if (!req || off < MNL_NLMSG_HDRLEN + sizeof(struct genlmsghdr) ||
	    off + MNL_ATTR_HDRLEN > req->nlmsg_len)
		return -1;
	/* Top level or inside the header nest: walk both. */
	mnl_attr_for_each(a, req, sizeof(struct genlmsghdr)) {
		const struct nlattr *in;

		if ((const char *)a - (const char *)req == (long)off)
			return mnl_attr_get_type(a);
		if (mnl_attr_get_type(a) != 1)
			continue;
		mnl_attr_for_each_nested(in, a)
			if ((const char *)in - (const char *)req == (long)off)
				return -1;	/* a header field, not a value */
	}
	return -1;
}

/* "rx-usecs" for a rejected attribute, "" when unknown. */
static const char *rejected(enum il_et_kind k, const struct il_nl_status *st,
			    const struct nlmsghdr *req)
{
	const struct il_nic_field *f;
	int t;

	if (!st || !st->bad_offset)
		return "";
	t = il_et_attr_at(req, st->bad_offset);
	f = t > 0 ? il_nic_field_of(k, t) : NULL;
	return f ? f->name : "";
}

/* No such settings on this device, in words per kind. */
static void unsupported(enum il_et_kind k, const char *dev, const char *field,
			char *buf, size_t len)
{
	if (*field)
		snprintf(buf, len, "%s does not support %s (ethtool %s %s %s)",
			 dev, field, kinds[k].flag, dev, field);
	else if (k == IL_ET_COALESCE)
		snprintf(buf, len, "%s does not support interrupt coalescing "
			 "(ethtool -C): the adaptive and no-coalescing cases "
			 "cannot be applied", dev);
	else if (k == IL_ET_CHANNELS)
		snprintf(buf, len, "%s does not support changing its queue "
			 "count (ethtool -L)", dev);
	else
		snprintf(buf, len, "%s does not support changing its ring "
			 "sizes (ethtool -G)", dev);
}

void il_et_strerror(int err, enum il_et_kind k, bool set, const char *dev,
		    const struct il_nl_status *st, const struct nlmsghdr *req,
		    char *buf, size_t len)
{
	const char *field = rejected(k, st, req);
	char tail[200] = "";

	if (k >= IL_ET_KINDS)
		k = IL_ET_COALESCE;
	if (st && st->ext[0])
		snprintf(tail, sizeof(tail), " (kernel says: %s)", st->ext);
	if (err > 0)
		err = -err;
	switch (err) {
	case -EPERM:
	case -EACCES:
		snprintf(buf, len, "%s-%s on %s: needs CAP_NET_ADMIN (run as "
			 "root)", kinds[k].name, set ? "set" : "get", dev);
		return;
	case -EOPNOTSUPP:
		unsupported(k, dev, field, buf, len);
		return;
	case -ENODEV:
		snprintf(buf, len, "no device '%s' in this network namespace",
			 dev);
		return;
	case -EINVAL:
		/* The kernel's own check of a field the driver lacks. */
		if (*field && st && strstr(st->ext, "unsupported")) {
			unsupported(k, dev, field, buf, len);
			return;
		}
		if (*field) {
			snprintf(buf, len, "%s refused %s %s%s", dev,
				 kinds[k].name, field, tail);
			return;
		}
		break;
	case -EBADMSG:
		snprintf(buf, len, "%s-%s on %s: malformed netlink reply from "
			 "the kernel", kinds[k].name, set ? "set" : "get", dev);
		return;
	}
	snprintf(buf, len, "%s-%s on %s: %s%s", kinds[k].name,
		 set ? "set" : "get", dev, strerror(-err), tail);
}
