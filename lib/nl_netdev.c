/* The netdev generic netlink messages, one small function per message,
 * and the parsers for their replies. No sockets here: napi.c does the
 * talking (through nl.c), the unit tests feed these functions canned
 * bytes. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "irqlab/compat.h"
#include "napi_int.h"

/* Names for the IRQLAB_NL_DEBUG dump. */
static const char *const napi_attrs[] = {
	[IL_NETDEV_A_NAPI_IFINDEX] = "ifindex",
	[IL_NETDEV_A_NAPI_ID] = "id",
	[IL_NETDEV_A_NAPI_IRQ] = "irq",
	[IL_NETDEV_A_NAPI_PID] = "pid",
	[IL_NETDEV_A_NAPI_DEFER_HARD_IRQS] = "defer-hard-irqs",
	[IL_NETDEV_A_NAPI_GRO_FLUSH_TIMEOUT] = "gro-flush-timeout",
	[IL_NETDEV_A_NAPI_IRQ_SUSPEND_TIMEOUT] = "irq-suspend-timeout",
	[IL_NETDEV_A_NAPI_THREADED] = "threaded",
};
static const char *const queue_attrs[] = {
	[IL_NETDEV_A_QUEUE_ID] = "id",
	[IL_NETDEV_A_QUEUE_IFINDEX] = "ifindex",
	[IL_NETDEV_A_QUEUE_TYPE] = "type",
	[IL_NETDEV_A_QUEUE_NAPI_ID] = "napi-id",
};
static const struct il_nl_cmd_names netdev_cmds[] = {
	{ IL_NETDEV_CMD_QUEUE_GET, "queue-get", queue_attrs, 5 },
	{ IL_NETDEV_CMD_NAPI_GET, "napi-get", napi_attrs, 9 },
	{ IL_NETDEV_CMD_NAPI_SET, "napi-set", napi_attrs, 9 },
};
const struct il_nl_names il_netdev_names = { "netdev", netdev_cmds, 3 };

struct nlmsghdr *il_nl_napi_get_req(void *buf, uint16_t family, uint32_t seq,
				    uint32_t id)
{
	struct nlmsghdr *nlh = il_genl_put(buf, family, NLM_F_ACK, seq,
					IL_NETDEV_CMD_NAPI_GET, 1);

	mnl_attr_put_u32(nlh, IL_NETDEV_A_NAPI_ID, id);
	return nlh;
}

struct nlmsghdr *il_nl_napi_dump_req(void *buf, uint16_t family, uint32_t seq,
				     int ifindex)
{
	struct nlmsghdr *nlh = il_genl_put(buf, family, NLM_F_DUMP, seq,
					IL_NETDEV_CMD_NAPI_GET, 1);

	if (ifindex > 0)
		mnl_attr_put_u32(nlh, IL_NETDEV_A_NAPI_IFINDEX, (uint32_t)ifindex);
	return nlh;
}

struct nlmsghdr *il_nl_queue_dump_req(void *buf, uint16_t family, uint32_t seq,
				      int ifindex)
{
	struct nlmsghdr *nlh = il_genl_put(buf, family, NLM_F_DUMP, seq,
					IL_NETDEV_CMD_QUEUE_GET, 1);

	if (ifindex > 0)
		mnl_attr_put_u32(nlh, IL_NETDEV_A_QUEUE_IFINDEX, (uint32_t)ifindex);
	return nlh;
}

/* The kernel's "uint" attributes are 4 bytes when the value fits, else 8
 * (nla_put_uint); send them the same way so any kernel reads them. */
static void put_uint(struct nlmsghdr *nlh, uint16_t type, uint64_t v)
{
	if (v <= UINT32_MAX)
		mnl_attr_put_u32(nlh, type, (uint32_t)v);
	else
		mnl_attr_put_u64(nlh, type, v);
}

struct nlmsghdr *il_nl_napi_set_req(void *buf, uint16_t family, uint32_t seq,
				    uint32_t id, unsigned what,
				    const struct il_napi *val)
{
	struct nlmsghdr *nlh = il_genl_put(buf, family, NLM_F_ACK, seq,
					IL_NETDEV_CMD_NAPI_SET, 1);

	mnl_attr_put_u32(nlh, IL_NETDEV_A_NAPI_ID, id);
	if (what & IL_SET_DEFER)
		mnl_attr_put_u32(nlh, IL_NETDEV_A_NAPI_DEFER_HARD_IRQS,
				 val->defer_hard_irqs);
	if (what & IL_SET_GRO)
		put_uint(nlh, IL_NETDEV_A_NAPI_GRO_FLUSH_TIMEOUT,
			 val->gro_flush_timeout);
	if (what & IL_SET_SUSPEND)
		put_uint(nlh, IL_NETDEV_A_NAPI_IRQ_SUSPEND_TIMEOUT,
			 val->irq_suspend_timeout);
	if (what & IL_SET_THREADED)
		mnl_attr_put_u32(nlh, IL_NETDEV_A_NAPI_THREADED,
				 (uint32_t)val->threaded);
	return nlh;
}

static int get_u32(const struct nlattr *a, uint32_t *v)
{
	if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return -EBADMSG;
	*v = mnl_attr_get_u32(a);
	return 0;
}

static int get_uint(const struct nlattr *a, uint64_t *v)
{
	if (mnl_attr_get_payload_len(a) == 4)
		*v = mnl_attr_get_u32(a);
	else if (mnl_attr_get_payload_len(a) == 8)
		*v = mnl_attr_get_u64(a);
	else
		return -EBADMSG;
	return 0;
}

static int napi_attr(const struct nlattr *a, struct il_napi *n)
{
	uint32_t v = 0;
	int rc = 0;

	switch (mnl_attr_get_type(a)) {
	case IL_NETDEV_A_NAPI_IFINDEX:
		rc = get_u32(a, &v);
		n->ifindex = (int)v;
		break;
	case IL_NETDEV_A_NAPI_ID:
		rc = get_u32(a, &n->id);
		break;
	case IL_NETDEV_A_NAPI_IRQ:
		rc = get_u32(a, &v);
		n->irq = (int)v;
		break;
	case IL_NETDEV_A_NAPI_PID:
		rc = get_u32(a, &v);
		n->pid = (int)v;
		break;
	case IL_NETDEV_A_NAPI_DEFER_HARD_IRQS:
		rc = get_u32(a, &n->defer_hard_irqs);
		n->has_defer = true;
		break;
	case IL_NETDEV_A_NAPI_GRO_FLUSH_TIMEOUT:
		rc = get_uint(a, &n->gro_flush_timeout);
		n->has_gro = true;
		break;
	case IL_NETDEV_A_NAPI_IRQ_SUSPEND_TIMEOUT:
		rc = get_uint(a, &n->irq_suspend_timeout);
		n->has_suspend = true;
		break;
	case IL_NETDEV_A_NAPI_THREADED:
		rc = get_u32(a, &v);
		n->threaded = (int)v;
		n->has_threaded = true;
		break;
	}
	return rc;
}

int il_nl_parse_napi(const struct nlmsghdr *nlh, struct il_napi *n)
{
	const struct nlattr *a;
	bool have_id = false;

	memset(n, 0, sizeof(*n));
	n->irq = n->pid = n->threaded = -1;
	if (!il_nl_attrs_ok(nlh))
		return -EBADMSG;
	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		if (napi_attr(a, n))
			return -EBADMSG;
		if (mnl_attr_get_type(a) == IL_NETDEV_A_NAPI_ID)
			have_id = true;
	}
	/* Before 6.17 the kernel reports no threaded attribute, but a NAPI
	 * has a kthread pid exactly when it runs threaded. */
	if (!n->has_threaded)
		n->threaded = n->pid > 0;
	return have_id && n->id ? 0 : -EBADMSG;
}

int il_nl_parse_queue(const struct nlmsghdr *nlh, struct il_queue *q)
{
	const struct nlattr *a;
	uint32_t v;
	bool have_id = false, have_type = false;

	memset(q, 0, sizeof(*q));
	if (!il_nl_attrs_ok(nlh))
		return -EBADMSG;
	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		uint16_t t = mnl_attr_get_type(a);

		if (t != IL_NETDEV_A_QUEUE_ID && t != IL_NETDEV_A_QUEUE_IFINDEX &&
		    t != IL_NETDEV_A_QUEUE_TYPE && t != IL_NETDEV_A_QUEUE_NAPI_ID)
			continue;	/* dmabuf, io_uring, xsk: not ours */
		if (get_u32(a, &v))
			return -EBADMSG;
		if (t == IL_NETDEV_A_QUEUE_ID) {
			q->id = v;
			have_id = true;
		} else if (t == IL_NETDEV_A_QUEUE_IFINDEX) {
			q->ifindex = (int)v;
		} else if (t == IL_NETDEV_A_QUEUE_TYPE) {
			q->type = (int)v;
			have_type = true;
		} else {
			q->napi_id = v;
		}
	}
	return have_id && have_type ? 0 : -EBADMSG;
}

static const char *op_name(enum il_nl_op op)
{
	switch (op) {
	case IL_OP_FAMILY: return "netdev family lookup";
	case IL_OP_POLICY: return "netdev policy dump";
	case IL_OP_NAPI_GET: return "napi-get";
	case IL_OP_NAPI_DUMP: return "napi-get dump";
	case IL_OP_QUEUE_DUMP: return "queue-get dump";
	case IL_OP_NAPI_SET: return "napi-set";
	}
	return "netlink";
}

/* Which Linux release brought each piece, for "needs Linux X" sentences. */
static const char *op_needs(enum il_nl_op op)
{
	switch (op) {
	case IL_OP_NAPI_GET: case IL_OP_NAPI_DUMP: case IL_OP_QUEUE_DUMP:
		return "6.8";
	case IL_OP_NAPI_SET:
		return "6.13";
	default:
		return "6.3";
	}
}

void il_nl_strerror(int err, enum il_nl_op op, uint32_t id, unsigned what,
		    const struct il_napi *val, const char *ext,
		    char *buf, size_t len)
{
	struct utsname u;
	const char *rel = uname(&u) == 0 ? u.release : "unknown";
	char tail[200] = "";

	if (ext && *ext)
		snprintf(tail, sizeof(tail), " (kernel says: %s)", ext);
	if (err > 0)
		err = -err;
	switch (err) {
	case -EPERM:
	case -EACCES:
		snprintf(buf, len, "%s: needs CAP_NET_ADMIN (run as root)",
			 op_name(op));
		return;
	case -ENOENT:
		if (op == IL_OP_FAMILY) {
			snprintf(buf, len, "generic netlink family 'netdev' "
				 "not found: needs Linux 6.3 (running %s)", rel);
			return;
		}
		if (op == IL_OP_NAPI_GET || op == IL_OP_NAPI_SET) {
			snprintf(buf, len, "NAPI id %u not found in this network "
				 "namespace (napi-set only works from the "
				 "namespace that owns the device)", id);
			return;
		}
		break;
	case -EOPNOTSUPP:
		snprintf(buf, len, "%s needs Linux %s (running %s)",
			 op_name(op), op_needs(op), rel);
		return;
	case -ERANGE:
		if (op == IL_OP_NAPI_SET && (what & IL_SET_THREADED) && val &&
		    val->threaded == 2) {
			snprintf(buf, len, "threaded=2 (busy-poll) needs Linux "
				 "6.19 (running %s)", rel);
			return;
		}
		snprintf(buf, len, "%s: a value is out of the kernel's range%s",
			 op_name(op), tail);
		return;
	case -ENODEV:
		snprintf(buf, len, "%s: no such device in this network "
			 "namespace", op_name(op));
		return;
	case -EBADMSG:
		snprintf(buf, len, "%s: malformed netlink reply from the "
			 "kernel", op_name(op));
		return;
	case -ENOSPC:
		snprintf(buf, len, "%s: more than %d NAPIs or queues, only "
			 "the first %d are shown", op_name(op), IL_NAPI_MAX,
			 IL_NAPI_MAX);
		return;
	}
	snprintf(buf, len, "%s: %s%s", op_name(op), strerror(-err), tail);
}

