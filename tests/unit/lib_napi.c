/* netdev netlink messages without a kernel: requests are checked byte by
 * byte, replies are built here with libmnl and fed to the parsers. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "irqlab/opt.h"
#include "irqlab/compat.h"
#include "irqlab/napi.h"
#include "lib/napi_int.h"
#include "tap.h"

#define FAMILY 0x1d	/* any id: the kernel assigns it at boot */

static uint8_t buf[8192];

static uint16_t u16_at(const void *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t u32_at(const void *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t u64_at(const void *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* Checks one attribute at byte offset off: length, type, then returns the
 * offset of the next one. */
static size_t attr_at(const uint8_t *b, size_t off, uint16_t len, uint16_t type,
		      const char *name)
{
	ok(u16_at(b + off) == len && u16_at(b + off + 2) == type,
	   "%s: nla_len %u type %u", name, u16_at(b + off), u16_at(b + off + 2));
	return off + ((len + 3u) & ~3u);
}

static void header(const struct nlmsghdr *nlh, uint16_t type, uint16_t flags,
		   uint32_t seq, uint8_t cmd, const char *name)
{
	const uint8_t *b = (const uint8_t *)nlh;

	is_int(u16_at(b + 4), type, "header type");
	ok(u16_at(b + 6) == flags, "%s: flags 0x%x", name, u16_at(b + 6));
	is_int(u32_at(b + 8), seq, "header seq");
	ok(b[16] == cmd && b[17] == 1, "%s: genl cmd %u version %u", name,
	   b[16], b[17]);
}

static void test_requests(void)
{
	struct nlmsghdr *nlh;
	struct il_napi v = { 0 };
	const uint8_t *b = buf;
	size_t off;

	memset(buf, 0xff, sizeof(buf));	/* stale bytes must not leak out */
	nlh = il_nl_family_req(buf, 7, "netdev");
	header(nlh, GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK, 7,
	       CTRL_CMD_GETFAMILY, "getfamily");
	off = attr_at(b, 20, 4 + 7, CTRL_ATTR_FAMILY_NAME, "family name");
	ok(memcmp(b + 24, "netdev", 7) == 0, "family name bytes incl. NUL");
	is_int(nlh->nlmsg_len, off, "getfamily length");
	is_int(b[31], 0, "attribute padding is zeroed");

	nlh = il_nl_policy_req(buf, 8, FAMILY, IL_NETDEV_CMD_NAPI_SET);
	header(nlh, GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_DUMP, 8,
	       CTRL_CMD_GETPOLICY, "getpolicy");
	off = attr_at(b, 20, 6, CTRL_ATTR_FAMILY_ID, "policy family id");
	is_int(u16_at(b + 24), FAMILY, "policy family id value");
	off = attr_at(b, off, 8, CTRL_ATTR_OP, "policy op");
	is_int(u32_at(b + off - 4), 14, "policy op is napi-set (14)");
	is_int(nlh->nlmsg_len, off, "getpolicy length");

	nlh = il_nl_napi_dump_req(buf, FAMILY, 9, 0);
	header(nlh, FAMILY, NLM_F_REQUEST | NLM_F_DUMP, 9, 11, "napi-get dump");
	is_int(nlh->nlmsg_len, 20, "napi dump of all devices has no attribute");
	nlh = il_nl_napi_dump_req(buf, FAMILY, 10, 5);
	off = attr_at(b, 20, 8, IL_NETDEV_A_NAPI_IFINDEX, "napi dump ifindex");
	is_int(u32_at(b + 24), 5, "napi dump ifindex value");
	is_int(nlh->nlmsg_len, off, "napi dump length");

	nlh = il_nl_napi_get_req(buf, FAMILY, 11, 8193);
	header(nlh, FAMILY, NLM_F_REQUEST | NLM_F_ACK, 11, 11, "napi-get do");
	attr_at(b, 20, 8, IL_NETDEV_A_NAPI_ID, "napi-get id");
	is_int(u32_at(b + 24), 8193, "napi-get id value");

	nlh = il_nl_queue_dump_req(buf, FAMILY, 12, 3);
	header(nlh, FAMILY, NLM_F_REQUEST | NLM_F_DUMP, 12, 10, "queue-get dump");
	attr_at(b, 20, 8, IL_NETDEV_A_QUEUE_IFINDEX, "queue dump ifindex");
	is_int(u32_at(b + 24), 3, "queue dump ifindex value");

	/* napi-set with every field: small times go as u32, a time beyond
	 * 32 bits as u64, like the kernel's nla_put_uint. */
	v.defer_hard_irqs = 100;
	v.gro_flush_timeout = 20000;
	v.irq_suspend_timeout = 5000000000ULL;
	v.threaded = 1;
	nlh = il_nl_napi_set_req(buf, FAMILY, 13, 8193, IL_SET_DEFER | IL_SET_GRO |
				 IL_SET_SUSPEND | IL_SET_THREADED, &v);
	header(nlh, FAMILY, NLM_F_REQUEST | NLM_F_ACK, 13, 14, "napi-set");
	off = attr_at(b, 20, 8, IL_NETDEV_A_NAPI_ID, "set id");
	is_int(u32_at(b + 24), 8193, "set id value");
	off = attr_at(b, off, 8, IL_NETDEV_A_NAPI_DEFER_HARD_IRQS, "set defer");
	is_int(u32_at(b + off - 4), 100, "set defer value");
	off = attr_at(b, off, 8, IL_NETDEV_A_NAPI_GRO_FLUSH_TIMEOUT, "set gro (u32)");
	is_int(u32_at(b + off - 4), 20000, "set gro value");
	off = attr_at(b, off, 12, IL_NETDEV_A_NAPI_IRQ_SUSPEND_TIMEOUT,
		      "set suspend (u64)");
	ok(u64_at(b + off - 8) == 5000000000ULL, "set suspend value 5s");
	off = attr_at(b, off, 8, IL_NETDEV_A_NAPI_THREADED, "set threaded");
	is_int(u32_at(b + off - 4), 1, "set threaded value");
	is_int(nlh->nlmsg_len, off, "napi-set length covers exactly the attributes");

	/* Only the flagged fields go out. */
	nlh = il_nl_napi_set_req(buf, FAMILY, 14, 42, IL_SET_GRO, &v);
	off = attr_at(b, 20, 8, IL_NETDEV_A_NAPI_ID, "gro-only id");
	off = attr_at(b, off, 8, IL_NETDEV_A_NAPI_GRO_FLUSH_TIMEOUT, "gro-only gro");
	is_int(nlh->nlmsg_len, off, "gro-only napi-set has two attributes");
}

/* A kernel-style reply: netlink header, genl header, attributes. */
static struct nlmsghdr *reply(void *b, uint32_t seq, uint8_t cmd)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(b);
	struct genlmsghdr *g;

	nlh->nlmsg_type = FAMILY;
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_pid = 1234;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = 1;
	return nlh;
}

static void test_parse_napi(void)
{
	struct nlmsghdr *nlh;
	struct il_napi n;

	nlh = reply(buf, 1, IL_NETDEV_CMD_NAPI_GET);
	mnl_attr_put_u32(nlh, IL_NETDEV_A_NAPI_ID, 8193);
	mnl_attr_put_u32(nlh, IL_NETDEV_A_NAPI_IFINDEX, 4);
	mnl_attr_put_u32(nlh, IL_NETDEV_A_NAPI_IRQ, 33);
	mnl_attr_put_u32(nlh, IL_NETDEV_A_NAPI_PID, 777);
	mnl_attr_put_u32(nlh, IL_NETDEV_A_NAPI_DEFER_HARD_IRQS, 100);
	mnl_attr_put_u32(nlh, IL_NETDEV_A_NAPI_GRO_FLUSH_TIMEOUT, 20000);
	mnl_attr_put_u64(nlh, IL_NETDEV_A_NAPI_IRQ_SUSPEND_TIMEOUT, 5000000000ULL);
	mnl_attr_put_u32(nlh, IL_NETDEV_A_NAPI_THREADED, 1);
	mnl_attr_put_u32(nlh, 99, 5);	/* an attribute from a future kernel */
	is_int(il_nl_parse_napi(nlh, &n), 0, "full napi reply parses");
	ok(n.id == 8193 && n.ifindex == 4 && n.irq == 33 && n.pid == 777,
	   "id, ifindex, irq, pid");
	ok(n.defer_hard_irqs == 100 && n.gro_flush_timeout == 20000 &&
	   n.irq_suspend_timeout == 5000000000ULL && n.threaded == 1,
	   "defer, gro (u32), suspend (u64), threaded");
	ok(n.has_defer && n.has_gro && n.has_suspend && n.has_threaded,
	   "has_* flags set for reported attributes");

	/* A 6.8-6.12 kernel: no settings, no threaded attribute. */
	nlh = reply(buf, 1, IL_NETDEV_CMD_NAPI_GET);
	mnl_attr_put_u32(nlh, IL_NETDEV_A_NAPI_ID, 300);
	mnl_attr_put_u32(nlh, IL_NETDEV_A_NAPI_IFINDEX, 2);
	mnl_attr_put_u32(nlh, IL_NETDEV_A_NAPI_PID, 55);
	is_int(il_nl_parse_napi(nlh, &n), 0, "old-kernel reply parses");
	ok(!n.has_defer && !n.has_gro && !n.has_suspend && !n.has_threaded,
	   "old kernel: no has_* flags");
	ok(n.irq == -1 && n.pid == 55 && n.threaded == 1,
	   "no IRQ is -1; threaded inferred from the kthread pid");

	/* Malformed replies. */
	nlh = reply(buf, 1, IL_NETDEV_CMD_NAPI_GET);
	mnl_attr_put_u32(nlh, IL_NETDEV_A_NAPI_IFINDEX, 2);
	is_int(il_nl_parse_napi(nlh, &n), -EBADMSG, "reply without id refused");

	nlh = reply(buf, 1, IL_NETDEV_CMD_NAPI_GET);
	mnl_attr_put_u32(nlh, IL_NETDEV_A_NAPI_ID, 300);
	mnl_attr_put_u16(nlh, IL_NETDEV_A_NAPI_DEFER_HARD_IRQS, 3);
	is_int(il_nl_parse_napi(nlh, &n), -EBADMSG, "2-byte u32 attribute refused");

	nlh = reply(buf, 1, IL_NETDEV_CMD_NAPI_GET);
	mnl_attr_put_u32(nlh, IL_NETDEV_A_NAPI_ID, 300);
	mnl_attr_put(nlh, IL_NETDEV_A_NAPI_GRO_FLUSH_TIMEOUT, 3, "abc");
	is_int(il_nl_parse_napi(nlh, &n), -EBADMSG, "3-byte uint attribute refused");

	/* Truncated: the last attribute claims more bytes than the message
	 * has (a short read, or a lying kernel). */
	nlh = reply(buf, 1, IL_NETDEV_CMD_NAPI_GET);
	mnl_attr_put_u32(nlh, IL_NETDEV_A_NAPI_ID, 300);
	mnl_attr_put_u32(nlh, IL_NETDEV_A_NAPI_IFINDEX, 2);
	nlh->nlmsg_len -= 4;
	is_int(il_nl_parse_napi(nlh, &n), -EBADMSG, "truncated attribute refused");

	nlh = reply(buf, 1, IL_NETDEV_CMD_NAPI_GET);
	nlh->nlmsg_len = 18;	/* shorter than the genl header */
	is_int(il_nl_parse_napi(nlh, &n), -EBADMSG, "message shorter than genl header");
}

static void test_parse_queue(void)
{
	struct nlmsghdr *nlh;
	struct il_queue q;

	nlh = reply(buf, 1, IL_NETDEV_CMD_QUEUE_GET);
	mnl_attr_put_u32(nlh, IL_NETDEV_A_QUEUE_ID, 3);
	mnl_attr_put_u32(nlh, IL_NETDEV_A_QUEUE_IFINDEX, 7);
	mnl_attr_put_u32(nlh, IL_NETDEV_A_QUEUE_TYPE, IL_NETDEV_QUEUE_TYPE_RX);
	mnl_attr_put_u32(nlh, IL_NETDEV_A_QUEUE_NAPI_ID, 8200);
	is_int(il_nl_parse_queue(nlh, &q), 0, "queue reply parses");
	ok(q.id == 3 && q.ifindex == 7 && q.type == 0 && q.napi_id == 8200,
	   "queue 3 of ifindex 7, rx, napi 8200");

	nlh = reply(buf, 1, IL_NETDEV_CMD_QUEUE_GET);
	mnl_attr_put_u32(nlh, IL_NETDEV_A_QUEUE_ID, 0);
	mnl_attr_put_u32(nlh, IL_NETDEV_A_QUEUE_IFINDEX, 7);
	mnl_attr_put_u32(nlh, IL_NETDEV_A_QUEUE_TYPE, IL_NETDEV_QUEUE_TYPE_RX);
	is_int(il_nl_parse_queue(nlh, &q), 0, "queue without NAPI parses");
	is_int(q.napi_id, 0, "queue without NAPI has napi_id 0");

	nlh = reply(buf, 1, IL_NETDEV_CMD_QUEUE_GET);
	mnl_attr_put_u32(nlh, IL_NETDEV_A_QUEUE_ID, 0);
	is_int(il_nl_parse_queue(nlh, &q), -EBADMSG, "queue without type refused");
}

static int count_msgs(const struct nlmsghdr *nlh, void *arg)
{
	struct il_napi n;

	if (il_nl_parse_napi(nlh, &n))
		return -EBADMSG;
	(*(int *)arg)++;
	return 0;
}

/* Appends an NLMSG_ERROR carrying err (and optionally an extack text). */
static size_t put_error(uint8_t *b, uint32_t seq, int err, const char *ext)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(b);
	struct nlmsgerr *e;

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_pid = 1234;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = err;
	e->msg.nlmsg_len = 36;	/* the request it answers, capped to its header */
	e->msg.nlmsg_seq = seq;
	if (ext) {
		nlh->nlmsg_flags |= NLM_F_CAPPED | NLM_F_ACK_TLVS;
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, ext);
	}
	return nlh->nlmsg_len;
}

static size_t put_done(uint8_t *b, uint32_t seq, int err)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(b);
	int *v;

	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_pid = 1234;
	v = mnl_nlmsg_put_extra_header(nlh, sizeof(int));
	*v = err;
	return nlh->nlmsg_len;
}

static size_t put_napi(uint8_t *b, uint32_t seq, uint32_t id)
{
	struct nlmsghdr *nlh = reply(b, seq, IL_NETDEV_CMD_NAPI_GET);

	nlh->nlmsg_flags = NLM_F_MULTI;
	mnl_attr_put_u32(nlh, IL_NETDEV_A_NAPI_ID, id);
	mnl_attr_put_u32(nlh, IL_NETDEV_A_NAPI_IFINDEX, 2);
	return nlh->nlmsg_len;
}

static void test_run(void)
{
	struct il_nl_status st;
	size_t len;
	int count = 0;

	len = put_napi(buf, 5, 300);
	len += put_napi(buf + len, 4, 301);	/* stale seq: skipped */
	len += put_napi(buf + len, 5, 302);
	is_int(il_nl_run(buf, len, 5, 1234, count_msgs, &count, &st), 1,
	   "dump part without DONE wants more");
	is_int(count, 2, "two messages of our seq, the stale one skipped");
	len += put_done(buf + len, 5, 0);
	count = 0;
	is_int(il_nl_run(buf, len, 5, 1234, count_msgs, &count, &st), 0,
	       "DONE ends the dump");
	is_int(count, 2, "callback saw both NAPIs");

	len = put_done(buf, 5, -ENODEV);
	is_int(il_nl_run(buf, len, 5, 1234, NULL, NULL, &st), -ENODEV,
	       "errno carried in DONE");

	len = put_error(buf, 6, 0, NULL);
	is_int(il_nl_run(buf, len, 6, 1234, NULL, NULL, &st), 0, "ACK ends a do");

	len = put_error(buf, 6, -EPERM, NULL);
	is_int(il_nl_run(buf, len, 6, 1234, NULL, NULL, &st), -EPERM,
	       "NLMSG_ERROR -EPERM");
	len = put_error(buf, 6, -ERANGE, "integer out of range");
	is_int(il_nl_run(buf, len, 6, 1234, NULL, NULL, &st), -ERANGE,
	       "NLMSG_ERROR -ERANGE");
	is_str(st.ext, "integer out of range", "extended ack message read");

	/* A buffer cut in the middle of a message. */
	len = put_napi(buf, 5, 300);
	len += put_napi(buf + len, 5, 301);
	is_int(il_nl_run(buf, len - 6, 5, 1234, count_msgs, &count, &st),
	       -EBADMSG, "partial trailing message is an error");

	/* A callback refusing a malformed message stops the run. */
	{
		struct nlmsghdr *nlh = reply(buf, 5, IL_NETDEV_CMD_NAPI_GET);

		mnl_attr_put_u16(nlh, IL_NETDEV_A_NAPI_ID, 1);
		is_int(il_nl_run(buf, nlh->nlmsg_len, 5, 1234, count_msgs,
				 &count, &st), -EBADMSG,
		       "malformed message in a dump is reported");
	}
}

/* IRQLAB_NL_DEBUG: one decoded line per message, with names. */
static void test_debug_dump(void)
{
	struct il_nl nl = { .names = &il_netdev_names };
	struct il_napi v = { .defer_hard_irqs = 100, .gro_flush_timeout = 20000 };
	char *out = NULL;
	size_t olen = 0, len;
	FILE *f = open_memstream(&out, &olen);
	struct nlmsghdr *nlh;

	nlh = il_nl_napi_set_req(buf, FAMILY, 7, 8193, IL_SET_DEFER | IL_SET_GRO, &v);
	il_nl_debug_dump(f, &nl, true, nlh, nlh->nlmsg_len);
	len = put_napi(buf, 5, 300);
	len += put_done(buf + len, 5, 0);
	il_nl_debug_dump(f, &nl, false, buf, len);
	len = put_error(buf, 6, -ERANGE, "integer out of range");
	il_nl_debug_dump(f, &nl, false, buf, len);
	nlh = il_nl_family_req(buf, 9, "netdev");
	il_nl_debug_dump(f, &nl, true, nlh, nlh->nlmsg_len);
	fclose(f);
	ok(strstr(out, "irqlab netlink -> seq 7 request,ack: netdev napi-set: id=8193 "
		  "defer-hard-irqs=100 gro-flush-timeout=20000\n") != NULL,
	   "request decoded with command and attribute names");
	ok(strstr(out, "<- seq 5 multi: netdev napi-get: id=300 ifindex=2\n"
		  "irqlab netlink <- seq 5 multi: done\n") != NULL, "reply and DONE decoded");
	ok(strstr(out, "<- seq 6 capped,ack-tlvs: error -34 (Numerical result out of "
		  "range) \"integer out of range\"\n") != NULL, "error with extended ack decoded");
	ok(strstr(out, "-> seq 9 request,ack: nlctrl getfamily: family-name=\"netdev\"\n") != NULL,
	   "nlctrl request decoded");
	if (tap_failed)
		tap_diag("%s", out);
	free(out);
}

static void test_sentences(void)
{
	struct il_napi v = { .threaded = 2 };
	char m[300];

	il_nl_strerror(-EPERM, IL_OP_NAPI_SET, 8193, IL_SET_DEFER, NULL, "", m,
		       sizeof(m));
	ok(strstr(m, "needs CAP_NET_ADMIN") != NULL, "EPERM: %s", m);
	il_nl_strerror(-ENOENT, IL_OP_NAPI_SET, 8193, IL_SET_DEFER, NULL, "", m,
		       sizeof(m));
	ok(strstr(m, "NAPI id 8193 not found in this network namespace") &&
	   strstr(m, "napi-set only works from the namespace that owns the device"),
	   "ENOENT: %s", m);
	il_nl_strerror(-ERANGE, IL_OP_NAPI_SET, 8193, IL_SET_THREADED, &v,
		       "integer out of range", m, sizeof(m));
	ok(strstr(m, "threaded=2 (busy-poll) needs Linux 6.19") != NULL,
	   "ERANGE threaded=2: %s", m);
	il_nl_strerror(-ERANGE, IL_OP_NAPI_SET, 8193, IL_SET_DEFER, NULL,
		       "integer out of range", m, sizeof(m));
	ok(strstr(m, "out of the kernel's range") &&
	   strstr(m, "integer out of range"), "ERANGE other: %s", m);
	il_nl_strerror(-ENOENT, IL_OP_FAMILY, 0, 0, NULL, NULL, m, sizeof(m));
	ok(strstr(m, "'netdev'") && strstr(m, "needs Linux 6.3"),
	   "family missing: %s", m);
	il_nl_strerror(-EOPNOTSUPP, IL_OP_NAPI_DUMP, 0, 0, NULL, NULL, m, sizeof(m));
	ok(strstr(m, "napi-get dump needs Linux 6.8") != NULL,
	   "napi-get missing: %s", m);
	il_nl_strerror(-EOPNOTSUPP, IL_OP_NAPI_SET, 0, 0, NULL, NULL, m, sizeof(m));
	ok(strstr(m, "napi-set needs Linux 6.13") != NULL, "napi-set missing: %s", m);
	il_nl_strerror(-EBADMSG, IL_OP_QUEUE_DUMP, 0, 0, NULL, NULL, m, sizeof(m));
	ok(strstr(m, "malformed") != NULL, "EBADMSG: %s", m);

	/* The sentence for an error message parsed off the wire. */
	{
		struct il_nl_status st;
		size_t len = put_error(buf, 9, -ENOENT, NULL);
		int rc = il_nl_run(buf, len, 9, 1234, NULL, NULL, &st);

		il_nl_strerror(rc, IL_OP_NAPI_GET, 4242, 0, NULL, st.ext, m,
			       sizeof(m));
		ok(strstr(m, "NAPI id 4242 not found") != NULL,
		   "wire ENOENT -> sentence: %s", m);
	}
}

/* What each kernel generation is told, without such a kernel at hand. */
static void test_support(void)
{
	struct il_napi_support k68 = { .netdev_family = true, .napi_get = true,
				       .queue_get = true, .policy_known = true };
	struct il_napi_support k613 = k68, k617, k618, none = { 0 };
	struct il_napi v = { .threaded = 1 }, v2 = { .threaded = 2 };
	char m[300];

	strcpy(k68.kernel, "6.8.0");
	k613.napi_set = k613.irq_suspend = true;
	strcpy(k613.kernel, "6.13.2");
	k617 = k613;
	k617.threaded_attr = true;
	k618 = k617;
	strcpy(k618.kernel, "6.18.1");

	is_int(il_napi_check_support(&k68, IL_SET_DEFER, &v, m, sizeof(m)),
	       -EOPNOTSUPP, "6.8: napi-set refused");
	ok(strstr(m, "needs Linux 6.13 for napi-set") && strstr(m, "running 6.8.0"),
	   "6.8: %s", m);
	is_int(il_napi_check_support(&k613, IL_SET_DEFER | IL_SET_GRO |
				     IL_SET_SUSPEND, &v, m, sizeof(m)), 0,
	       "6.13: defer, gro, suspend accepted");
	k613.irq_suspend = false;	/* a 6.13 napi-set without suspend */
	is_int(il_napi_check_support(&k613, IL_SET_SUSPEND, &v, m, sizeof(m)),
	       -EOPNOTSUPP, "no suspend attribute: refused");
	ok(strstr(m, "needs Linux 6.13 for irq_suspend_timeout") != NULL,
	   "suspend missing: %s", m);
	is_int(il_napi_check_support(&k613, IL_SET_DEFER, &v, m, sizeof(m)), 0,
	       "defer alone still fine there");
	is_int(il_napi_check_support(&k613, IL_SET_THREADED, &v, m, sizeof(m)),
	       -EOPNOTSUPP, "6.13: threaded refused");
	ok(strstr(m, "needs Linux 6.17 for per-NAPI threaded") != NULL,
	   "threaded missing: %s", m);
	is_int(il_napi_check_support(&k617, IL_SET_THREADED, &v, m, sizeof(m)), 0,
	       "6.17: threaded=1 accepted");
	is_int(il_napi_check_support(&k618, IL_SET_THREADED, &v2, m, sizeof(m)),
	       -ERANGE, "6.18: threaded=2 refused");
	ok(strstr(m, "threaded=2 (busy-poll) needs Linux 6.19 (running 6.18.1)") != NULL,
	   "threaded=2: %s", m);
	k618.threaded_busy_poll = true;
	is_int(il_napi_check_support(&k618, IL_SET_THREADED, &v2, m, sizeof(m)), 0,
	       "6.19: threaded=2 accepted");
	none.family_err = -ENOENT;
	is_int(il_napi_check_support(&none, IL_SET_DEFER, &v, m, sizeof(m)),
	       -ENOENT, "no netdev family: refused");
	ok(strstr(m, "'netdev' not found: needs Linux 6.3") != NULL,
	   "no family: %s", m);
}

/* lo exists in every namespace; sysfs shows the one we run in. */
static void test_explain(void)
{
	char m[400];

	if (access("/sys/class/net/lo/type", R_OK) != 0) {
		tap_skip("no sysfs at /sys/class/net");
		tap_skip("no sysfs at /sys/class/net");
		return;
	}
	il_napi_explain_none("lo", m, sizeof(m));
	ok(strstr(m, "lo has no NAPI") && strstr(m, "a veth with GRO on"),
	   "lo explained: %s", m);
	il_napi_explain_none("nosuchdev0", m, sizeof(m));
	ok(strstr(m, "no device 'nosuchdev0' in this network namespace") != NULL,
	   "missing device explained: %s", m);
}

static void test_fmt(void)
{
	char b[32];

	il_fmt_time_ns(0, b, sizeof(b));
	is_str(b, "0", "0 ns");
	il_fmt_time_ns(20000, b, sizeof(b));
	is_str(b, "20us", "20 us");
	il_fmt_time_ns(20000000, b, sizeof(b));
	is_str(b, "20ms", "20 ms");
	il_fmt_time_ns(3000000000ULL, b, sizeof(b));
	is_str(b, "3s", "3 s");
	il_fmt_time_ns(1500, b, sizeof(b));
	is_str(b, "1500ns", "odd values stay in ns");
}

int main(void)
{
	test_requests();
	test_parse_napi();
	test_parse_queue();
	test_run();
	test_debug_dump();
	test_sentences();
	test_support();
	test_explain();
	test_fmt();
	return tap_done();
}
