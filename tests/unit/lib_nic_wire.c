/* ethtool netlink messages without a kernel: requests are checked byte by
 * byte against the kernel's ABI numbers (written out here, not taken from
 * the header the code uses, so a wrong header would show), replies are
 * built with libmnl and fed to the parser; the sentences users read. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "irqlab/nic.h"
#include "tap.h"

#define FAMILY 0x15	/* any id: the kernel assigns it at boot */

/* Linux's ethtool netlink ABI (ethtool_netlink_generated.h, 6.18). */
enum {
	CMD_RINGS_GET = 15, CMD_RINGS_SET = 16, CMD_CHANNELS_GET = 17,
	CMD_CHANNELS_SET = 18, CMD_COALESCE_GET = 19, CMD_COALESCE_SET = 20,
	REPLY_RINGS = 16, REPLY_CHANNELS = 18, REPLY_COALESCE = 20,
	A_HEADER = 1, A_HEADER_DEV_INDEX = 1, A_HEADER_DEV_NAME = 2,
	CO_RX_USECS = 2, CO_RX_FRAMES = 3, CO_ADAPTIVE_RX = 11,
	CO_ADAPTIVE_TX = 12, CO_CQE_TX = 24, CO_CQE_RX = 25,
	CO_TX_AGGR_MAX_BYTES = 26, CO_RX_PROFILE = 29,
	CH_RX_MAX = 2, CH_COMBINED_MAX = 5, CH_RX = 6, CH_COMBINED = 9,
	RI_RX_MAX = 2, RI_RX = 6, RI_TX = 9, RI_TX_PUSH = 13, RI_RX_PUSH = 14,
	RI_HDS_THRESH = 17,
};

static uint8_t buf[8192] __attribute__((aligned(8)));

static uint16_t u16_at(const void *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t u32_at(const void *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* Checks one attribute at byte offset off (length, type), returns the
 * offset of the next one. */
static size_t attr_at(size_t off, uint16_t len, uint16_t type, const char *name)
{
	ok(u16_at(buf + off) == len && u16_at(buf + off + 2) == type,
	   "%s: nla_len %u type 0x%x", name, u16_at(buf + off),
	   u16_at(buf + off + 2));
	return off + ((len + 3u) & ~3u);
}

/* The netlink + genl header and the device header nest every request has;
 * returns the offset after it. */
static size_t head(const struct nlmsghdr *nlh, uint8_t cmd, int ifindex,
		   const char *name)
{
	size_t off;

	ok(nlh->nlmsg_type == FAMILY &&
	   nlh->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK) &&
	   nlh->nlmsg_seq == 9, "%s: type, flags request|ack, seq", name);
	ok(buf[16] == cmd && buf[17] == 1 && buf[18] == 0 && buf[19] == 0,
	   "%s: genl cmd %u version %u, reserved zero", name, buf[16], buf[17]);
	/* The header is a nest (NLA_F_NESTED: the kernel's strict policy
	 * wants it) holding the ifindex. */
	off = attr_at(20, 12, NLA_F_NESTED | A_HEADER, "header nest");
	attr_at(24, 8, A_HEADER_DEV_INDEX, "dev index");
	is_int(u32_at(buf + 28), ifindex, "ifindex value");
	return off;
}

static void test_get_requests(void)
{
	struct nlmsghdr *nlh;

	memset(buf, 0xff, sizeof(buf));
	nlh = il_et_coalesce_get_req(buf, FAMILY, 9, 7);
	is_int(head(nlh, CMD_COALESCE_GET, 7, "coalesce-get"), nlh->nlmsg_len,
	       "coalesce-get is the header only");
	nlh = il_et_channels_get_req(buf, FAMILY, 9, 8);
	is_int(head(nlh, CMD_CHANNELS_GET, 8, "channels-get"), nlh->nlmsg_len,
	       "channels-get is the header only");
	nlh = il_et_rings_get_req(buf, FAMILY, 9, 9);
	is_int(head(nlh, CMD_RINGS_GET, 9, "rings-get"), nlh->nlmsg_len,
	       "rings-get is the header only");
	nlh = il_et_req(buf, FAMILY, 9, IL_ET_RINGS, false, 9, NULL);
	is_int(buf[16], CMD_RINGS_GET, "il_et_req picks the kind's get");
}

static void test_set_requests(void)
{
	struct il_et v = { 0 };
	struct nlmsghdr *nlh;
	size_t off;

	memset(buf, 0xff, sizeof(buf));	/* stale bytes must not leak out */
	v.have = 1u << CO_ADAPTIVE_RX | 1u << CO_RX_USECS | 1u << CO_RX_FRAMES |
		 1u << CO_CQE_RX;
	v.v[CO_ADAPTIVE_RX] = 7;	/* any non-zero is "on": sent as 1 */
	v.v[CO_RX_USECS] = 0;
	v.v[CO_RX_FRAMES] = 1;
	v.v[CO_CQE_RX] = 0;
	nlh = il_et_coalesce_set_req(buf, FAMILY, 9, 3, &v);
	off = head(nlh, CMD_COALESCE_SET, 3, "coalesce-set");
	/* Lowest attribute first, u32s as 8 bytes, u8 bools as 5 + pad. */
	off = attr_at(off, 8, CO_RX_USECS, "rx-usecs u32");
	is_int(u32_at(buf + off - 4), 0, "rx-usecs 0");
	off = attr_at(off, 8, CO_RX_FRAMES, "rx-frames u32");
	is_int(u32_at(buf + off - 4), 1, "rx-frames 1");
	off = attr_at(off, 5, CO_ADAPTIVE_RX, "adaptive-rx u8");
	ok(buf[off - 4] == 1 && buf[off - 3] == 0 && buf[off - 2] == 0 &&
	   buf[off - 1] == 0, "adaptive-rx byte 1 and zero padding");
	off = attr_at(off, 5, CO_CQE_RX, "cqe-mode-rx u8");
	ok(buf[off - 4] == 0 && buf[off - 3] == 0, "cqe-mode-rx 0, zero pad");
	is_int(nlh->nlmsg_len, off, "coalesce-set length");

	memset(&v, 0, sizeof(v));
	v.have = 1u << CH_COMBINED | 1u << CH_COMBINED_MAX;
	v.v[CH_COMBINED] = 4;
	v.v[CH_COMBINED_MAX] = 64;	/* read-only: a set carries it as given */
	nlh = il_et_channels_set_req(buf, FAMILY, 9, 3, &v);
	off = head(nlh, CMD_CHANNELS_SET, 3, "channels-set");
	off = attr_at(off, 8, CH_COMBINED_MAX, "combined-max u32");
	off = attr_at(off, 8, CH_COMBINED, "combined u32");
	is_int(u32_at(buf + off - 4), 4, "combined 4");
	is_int(nlh->nlmsg_len, off, "channels-set length");

	memset(&v, 0, sizeof(v));
	v.have = 1u << RI_RX | 1u << RI_TX | 1u << 0 | 1u << 1;
	v.v[RI_RX] = 4096;
	v.v[RI_TX] = 512;
	nlh = il_et_rings_set_req(buf, FAMILY, 9, 3, &v);
	off = head(nlh, CMD_RINGS_SET, 3, "rings-set");
	off = attr_at(off, 8, RI_RX, "rx ring u32 (types 0 and 1 not sent)");
	is_int(u32_at(buf + off - 4), 4096, "rx ring 4096");
	off = attr_at(off, 8, RI_TX, "tx ring u32");
	is_int(u32_at(buf + off - 4), 512, "tx ring 512");
	is_int(nlh->nlmsg_len, off, "rings-set length");

	/* The extended ack names the rejected attribute by its offset. */
	is_int(il_et_attr_at(nlh, 32), RI_RX, "offset 32 is the rx ring");
	is_int(il_et_attr_at(nlh, 40), RI_TX, "offset 40 is the tx ring");
	is_int(il_et_attr_at(nlh, 24), -1, "offset 24 is in the header");
	is_int(il_et_attr_at(nlh, 36), -1, "offset 36 is no attribute start");
	is_int(il_et_attr_at(nlh, 400), -1, "offset past the end");
	is_int(il_et_attr_at(NULL, 32), -1, "no request");
}

/* A get reply of cmd about ifindex, the header nest as the kernel writes
 * it (index and name). */
static struct nlmsghdr *reply(uint8_t cmd, int ifindex)
{
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	struct nlattr *nest;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = FAMILY;
	nlh->nlmsg_seq = 9;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = 1;
	nest = mnl_attr_nest_start(nlh, A_HEADER);
	if (ifindex)
		mnl_attr_put_u32(nlh, A_HEADER_DEV_INDEX, (uint32_t)ifindex);
	mnl_attr_put_strz(nlh, A_HEADER_DEV_NAME, "tp0");
	mnl_attr_nest_end(nlh, nest);
	return nlh;
}

static void test_parse(void)
{
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	struct il_et v;
	int ifindex;

	/* tap: only rx-frames; plus attributes of newer kernels. */
	nlh = reply(REPLY_COALESCE, 4);
	mnl_attr_put_u32(nlh, CO_RX_FRAMES, 5);
	mnl_attr_put_u8(nlh, CO_ADAPTIVE_TX, 1);
	mnl_attr_put_u32(nlh, CO_TX_AGGR_MAX_BYTES, 77);
	nest = mnl_attr_nest_start(nlh, CO_RX_PROFILE);
	mnl_attr_put_u32(nlh, 1, 8);
	mnl_attr_nest_end(nlh, nest);
	is_int(il_et_parse(nlh, IL_ET_COALESCE, &v, &ifindex), 0,
	       "coalesce reply parses");
	is_int(ifindex, 4, "device from the header nest");
	is_int(v.have, 1u << CO_RX_FRAMES | 1u << CO_ADAPTIVE_TX,
	       "only the reported known fields are flagged");
	is_int(v.v[CO_RX_FRAMES], 5, "rx-frames value");
	is_int(v.v[CO_ADAPTIVE_TX], 1, "adaptive-tx value");
	is_int(il_et_parse(nlh, IL_ET_CHANNELS, &v, &ifindex), -EBADMSG,
	       "a coalesce reply is not a channels reply");

	nlh = reply(REPLY_CHANNELS, 4);
	mnl_attr_put_u32(nlh, CH_RX_MAX, 2);
	mnl_attr_put_u32(nlh, CH_RX, 1);
	is_int(il_et_parse(nlh, IL_ET_CHANNELS, &v, &ifindex), 0,
	       "channels reply parses");
	ok(v.have == (1u << CH_RX_MAX | 1u << CH_RX) && v.v[CH_RX_MAX] == 2 &&
	   v.v[CH_RX] == 1, "veth-like channels: rx 1 of 2");

	nlh = reply(REPLY_RINGS, 4);
	mnl_attr_put_u32(nlh, RI_RX_MAX, 8192);
	mnl_attr_put_u32(nlh, RI_RX, 1024);
	mnl_attr_put_u8(nlh, RI_TX_PUSH, 0);
	mnl_attr_put_u8(nlh, RI_RX_PUSH, 1);
	mnl_attr_put_u32(nlh, RI_HDS_THRESH, 256);
	is_int(il_et_parse(nlh, IL_ET_RINGS, &v, &ifindex), 0,
	       "rings reply parses");
	ok(v.v[RI_RX_MAX] == 8192 && v.v[RI_RX] == 1024 && v.v[RI_RX_PUSH] == 1 &&
	   (v.have & 1u << RI_TX_PUSH) && !(v.have & 1u << RI_HDS_THRESH),
	   "rings: sizes, rx-push (Linux 6.3) read; hds-thresh skipped");

	/* Malformed replies. */
	nlh = reply(REPLY_COALESCE, 4);
	mnl_attr_put(nlh, CO_RX_USECS, 2, "\1\2");
	is_int(il_et_parse(nlh, IL_ET_COALESCE, &v, &ifindex), -EBADMSG,
	       "a 2-byte u32 is malformed");
	nlh = reply(REPLY_COALESCE, 0);
	mnl_attr_put_u32(nlh, CO_RX_FRAMES, 5);
	is_int(il_et_parse(nlh, IL_ET_COALESCE, &v, &ifindex), -EBADMSG,
	       "a reply without the device index is malformed");
	nlh = reply(REPLY_COALESCE, 4);
	mnl_attr_put_u32(nlh, CO_RX_FRAMES, 5);
	nlh->nlmsg_len -= 2;
	is_int(il_et_parse(nlh, IL_ET_COALESCE, &v, &ifindex), -EBADMSG,
	       "an attribute running past the end is malformed");
}

/* An NLMSG_ERROR with extended ack TLVs after the capped request header. */
static size_t put_err(int err, const char *msg, uint32_t offs)
{
	struct nlmsghdr *nlh;
	struct nlmsgerr *e;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = NLM_F_CAPPED | NLM_F_ACK_TLVS;
	nlh->nlmsg_seq = 9;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = err;
	e->msg.nlmsg_len = 64;	/* the request's: not echoed (capped) */
	e->msg.nlmsg_seq = 9;
	mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, msg);
	mnl_attr_put_u32(nlh, NLMSGERR_ATTR_OFFS, offs);
	return nlh->nlmsg_len;
}

static void test_errors(void)
{
	static uint8_t req[512] __attribute__((aligned(8)));
	struct il_nl_status st;
	struct il_et v = { 0 };
	struct nlmsghdr *r;
	char m[300];
	size_t len;

	/* What tun answers to rx-usecs (seen with ethtool -C on Linux 6.18). */
	v.have = 1u << CO_RX_USECS;
	v.v[CO_RX_USECS] = 5;
	memset(req, 0, sizeof(req));
	r = il_et_coalesce_set_req(req, FAMILY, 9, 3, &v);
	len = put_err(-EINVAL, "cannot modify an unsupported parameter", 32);
	is_int(il_nl_run(buf, len, 9, 0, NULL, NULL, &st), -EINVAL,
	       "error ack returns -EINVAL");
	is_str(st.ext, "cannot modify an unsupported parameter",
	       "extended ack message");
	is_int(st.bad_offset, 32, "extended ack offset");
	il_et_strerror(-EINVAL, IL_ET_COALESCE, true, "tp0", &st, r, m, sizeof(m));
	is_str(m, "tp0 does not support rx-usecs (ethtool -C tp0 rx-usecs)",
	       "rejected attribute named from the offset");

	il_et_strerror(-EOPNOTSUPP, IL_ET_COALESCE, false, "va", NULL, NULL, m,
		       sizeof(m));
	is_str(m, "va does not support interrupt coalescing (ethtool -C): the "
	       "adaptive and no-coalescing cases cannot be applied",
	       "veth: no coalescing, in the issue's words");
	il_et_strerror(-EOPNOTSUPP, IL_ET_RINGS, false, "va", NULL, NULL, m,
		       sizeof(m));
	is_str(m, "va does not support changing its ring sizes (ethtool -G)",
	       "no rings");
	il_et_strerror(-EPERM, IL_ET_COALESCE, true, "tp0", NULL, NULL, m,
		       sizeof(m));
	is_str(m, "coalesce-set on tp0: needs CAP_NET_ADMIN (run as root)",
	       "EPERM names the capability");

	memset(&v, 0, sizeof(v));
	v.have = 1u << CH_RX;
	v.v[CH_RX] = 3;
	r = il_et_channels_set_req(req, FAMILY, 9, 3, &v);
	len = put_err(-EINVAL, "requested channel count exceeds maximum", 32);
	il_nl_run(buf, len, 9, 0, NULL, NULL, &st);
	il_et_strerror(st.err, IL_ET_CHANNELS, true, "va", &st, r, m, sizeof(m));
	is_str(m, "va refused channels rx (kernel says: requested channel count "
	       "exceeds maximum)", "a refused value with the kernel's reason");
	il_et_strerror(-EBUSY, IL_ET_CHANNELS, true, "va", NULL, NULL, m,
		       sizeof(m));
	is_str(m, "channels-set on va: Device or resource busy",
	       "other errors: kind, device, errno text");
}

static void test_presets(void)
{
	struct il_et cur = { 0 }, v;
	char m[300] = "";

	/* tap: rx-frames only. */
	cur.have = 1u << CO_RX_FRAMES;
	is_int(il_nic_preset("tp0", IL_COALESCE_OFF, &cur, &v, m, sizeof(m)), 0,
	       "off on tap: applicable");
	ok(v.have == 1u << CO_RX_FRAMES && v.v[CO_RX_FRAMES] == 1,
	   "off on tap: rx-frames 1 only");
	is_int(il_nic_preset("tp0", IL_COALESCE_ADAPTIVE, &cur, &v, m, sizeof(m)),
	       -EOPNOTSUPP, "adaptive on tap: refused");
	is_str(m, "tp0 does not support adaptive interrupt coalescing (ethtool "
	       "-C tp0 adaptive-rx on): the adaptive case cannot be applied",
	       "adaptive refusal in words");

	/* A NIC with the lot. */
	cur.have = 1u << CO_RX_FRAMES | 1u << CO_RX_USECS | 1u << CO_ADAPTIVE_RX |
		   1u << CO_ADAPTIVE_TX | 1u << CO_CQE_RX;
	il_nic_preset("eth9", IL_COALESCE_ADAPTIVE, &cur, &v, m, sizeof(m));
	ok(v.have == (1u << CO_ADAPTIVE_RX | 1u << CO_ADAPTIVE_TX) &&
	   v.v[CO_ADAPTIVE_RX] == 1 && v.v[CO_ADAPTIVE_TX] == 1,
	   "adaptive: adaptive-rx and -tx on, nothing else");
	il_nic_preset("eth9", IL_COALESCE_OFF, &cur, &v, m, sizeof(m));
	ok(v.have == (1u << CO_ADAPTIVE_RX | 1u << CO_ADAPTIVE_TX |
		      1u << CO_RX_USECS | 1u << CO_RX_FRAMES) &&
	   v.v[CO_ADAPTIVE_RX] == 0 && v.v[CO_ADAPTIVE_TX] == 0 &&
	   v.v[CO_RX_USECS] == 0 && v.v[CO_RX_FRAMES] == 1,
	   "off: adaptive off, rx-usecs 0, rx-frames 1");
	is_int(il_nic_preset("eth9", IL_COALESCE_LEAVE, &cur, &v, m, sizeof(m)), 0,
	       "leave: nothing");
	is_int(v.have, 0, "leave sets no field");

	cur.have = 1u << CO_ADAPTIVE_RX;
	is_int(il_nic_preset("x0", IL_COALESCE_OFF, &cur, &v, m, sizeof(m)),
	       -EOPNOTSUPP, "off without rx-usecs and rx-frames: refused");
}

static void test_fields(void)
{
	const struct il_nic_field *f = il_nic_field_find(IL_ET_COALESCE, "rx-usecs");

	ok(f && f->attr == CO_RX_USECS && (f->flags & IL_NF_SET),
	   "rx-usecs is coalesce attribute 2, settable");
	f = il_nic_field_find(IL_ET_RINGS, "rx");
	ok(f && f->attr == RI_RX, "rings rx is attribute 6");
	f = il_nic_field_find(IL_ET_CHANNELS, "rx");
	ok(f && f->attr == CH_RX, "channels rx is attribute 6 of its own kind");
	f = il_nic_field_of(IL_ET_COALESCE, CO_CQE_RX);
	ok(f && strcmp(f->name, "cqe-mode-rx") == 0 && (f->flags & IL_NF_BOOL),
	   "cqe-mode-rx is a bool");
	ok(il_nic_field_find(IL_ET_KINDS, "nonsense") == NULL, "unknown name");
	is_str(il_et_kind_flag(IL_ET_CHANNELS), "-L", "channels are ethtool -L");
}

int main(void)
{
	test_get_requests();
	test_set_requests();
	test_parse();
	test_errors();
	test_presets();
	test_fields();
	return tap_done();
}
