/* NAPI and queue settings through the generic netlink family "netdev":
 * lists, reads and changes, on one socket shared under a lock. What the
 * kernel supports is napi_probe.c, the old values and their restore
 * napi_save.c, the message bytes nl_netdev.c, the socket nl.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "irqlab/compat.h"
#include "irqlab/result.h"
#include "irqlab/guard.h"
#include "napi_int.h"

#define NL_BUF IL_NL_BUF

static pthread_mutex_t nl_lock = PTHREAD_MUTEX_INITIALIZER;
static struct il_nl main_nl = { .names = &il_netdev_names };

void il_napi_err(char *err, size_t errlen, int rc, enum il_nl_op op,
		 uint32_t id, unsigned what, const struct il_napi *val,
		 const char *ext)
{
	if (err && errlen)
		il_nl_strerror(rc, op, id, what, val, ext, err, errlen);
}

/* Resolves the family id once per socket. */
static int nl_ready(struct il_nl *nl, struct il_nl_status *st, char *buf)
{
	struct il_nl_family fi;
	int rc;

	if ((rc = il_nl_open(nl)))
		return rc;
	if (nl->family)
		return 0;
	return il_nl_family_lookup(nl, IL_NETDEV_FAMILY_NAME, &fi, st, buf);
}

/* --- lists -------------------------------------------------------------- */

struct napi_list {
	struct il_napi *out;
	int n, max;
};

static int napi_list_msg(const struct nlmsghdr *nlh, void *arg)
{
	struct napi_list *l = arg;
	struct il_napi n;

	if (il_nl_parse_napi(nlh, &n))
		return -EBADMSG;
	if (l->n < l->max)
		l->out[l->n] = n;
	l->n++;
	return 0;
}

static int dev_index(const char *dev, char *err, size_t errlen)
{
	unsigned idx;

	if (!dev)
		return 0;
	idx = if_nametoindex(dev);
	if (!idx) {
		if (err && errlen)
			snprintf(err, errlen, "no device '%s' in this network "
				 "namespace", dev);
		return -ENODEV;
	}
	return (int)idx;
}

/* Runs one request on the main socket, under the lock. */
static int main_talk(struct nlmsghdr *(*build)(void *, uint16_t, uint32_t, void *),
		     void *barg, il_nl_msg_fn fn, void *arg,
		     struct il_nl_status *st)
{
	char *buf = malloc(NL_BUF);
	int rc;

	if (!buf)
		return -ENOMEM;
	pthread_mutex_lock(&nl_lock);
	rc = nl_ready(&main_nl, st, buf);
	if (!rc)
		rc = il_nl_talk(&main_nl, build(buf, main_nl.family, ++main_nl.seq,
					     barg), fn, arg, st, buf);
	pthread_mutex_unlock(&nl_lock);
	free(buf);
	return rc;
}

static struct nlmsghdr *build_napi_dump(void *buf, uint16_t fam, uint32_t seq,
					void *arg)
{
	return il_nl_napi_dump_req(buf, fam, seq, *(int *)arg);
}

static struct nlmsghdr *build_queue_dump(void *buf, uint16_t fam, uint32_t seq,
					 void *arg)
{
	return il_nl_queue_dump_req(buf, fam, seq, *(int *)arg);
}

static struct nlmsghdr *build_napi_get(void *buf, uint16_t fam, uint32_t seq,
				       void *arg)
{
	return il_nl_napi_get_req(buf, fam, seq, *(uint32_t *)arg);
}

/* The family lookup failing is its own sentence, whatever the op. */
static enum il_nl_op which_op(int rc, const struct il_nl *nl, enum il_nl_op op)
{
	return (rc && !nl->family) ? IL_OP_FAMILY : op;
}

int il_napi_list(const char *dev, struct il_napi *out, int max,
		 char *err, size_t errlen)
{
	struct napi_list l = { out, 0, max };
	struct il_nl_status st;
	int ifindex = dev_index(dev, err, errlen), rc;

	if (ifindex < 0)
		return ifindex;
	rc = main_talk(build_napi_dump, &ifindex, napi_list_msg, &l, &st);
	if (rc < 0) {
		il_napi_err(err, errlen, rc, which_op(rc, &main_nl, IL_OP_NAPI_DUMP),
			0, 0, NULL, st.ext);
		return rc;
	}
	/* Filter again: the result must not depend on the kernel honouring
	 * the dump filter. */
	if (ifindex > 0) {
		int k = 0;

		for (int i = 0; i < l.n && i < max; i++)
			if (out[i].ifindex == ifindex)
				out[k++] = out[i];
		return k;
	}
	return l.n < max ? l.n : max;
}

static int napi_get_msg(const struct nlmsghdr *nlh, void *arg)
{
	return il_nl_parse_napi(nlh, arg);
}

int il_napi_get(uint32_t id, struct il_napi *out, char *err, size_t errlen)
{
	struct il_nl_status st;
	int rc;

	out->id = 0;
	rc = main_talk(build_napi_get, &id, napi_get_msg, out, &st);
	if (rc == 0 && out->id != id)
		rc = -EBADMSG;
	if (rc < 0)
		il_napi_err(err, errlen, rc, which_op(rc, &main_nl, IL_OP_NAPI_GET),
			id, 0, NULL, st.ext);
	return rc;
}

struct queue_list {
	struct il_queue *out;
	int n, max;
	int ifindex;		/* 0 = all devices */
};

static int queue_list_msg(const struct nlmsghdr *nlh, void *arg)
{
	struct queue_list *l = arg;
	struct il_queue q;

	if (il_nl_parse_queue(nlh, &q))
		return -EBADMSG;
	/* Filter again, as for napi-get; and keep rx queues only. */
	if (q.type != IL_NETDEV_QUEUE_TYPE_RX ||
	    (l->ifindex > 0 && q.ifindex != l->ifindex))
		return 0;
	if (l->n < l->max)
		l->out[l->n] = q;
	l->n++;
	return 0;
}

int il_queue_list(const char *dev, struct il_queue *out, int max,
		  char *err, size_t errlen)
{
	struct queue_list l = { out, 0, max, 0 };
	struct il_nl_status st;
	int ifindex = dev_index(dev, err, errlen), rc;

	if (ifindex < 0)
		return ifindex;
	l.ifindex = ifindex;
	rc = main_talk(build_queue_dump, &ifindex, queue_list_msg, &l, &st);
	if (rc < 0) {
		il_napi_err(err, errlen, rc, which_op(rc, &main_nl, IL_OP_QUEUE_DUMP),
			0, 0, NULL, st.ext);
		return rc;
	}
	return l.n < max ? l.n : max;
}

int il_queue_napi_ids(const char *dev, uint32_t *rxq_napi, int max,
		      char *err, size_t errlen)
{
	struct il_queue q[IL_NAPI_MAX];
	int n = il_queue_list(dev, q, IL_NAPI_MAX, err, errlen), nq = 0;
	bool linked = false;

	if (n < 0)
		return n;
	for (int i = 0; i < max; i++)
		rxq_napi[i] = 0;
	for (int i = 0; i < n; i++) {
		if (q[i].id < (uint32_t)max)
			rxq_napi[q[i].id] = q[i].napi_id;
		if (q[i].napi_id)
			linked = true;
		if ((int)q[i].id + 1 > nq)
			nq = (int)q[i].id + 1;
	}
	/* veth links no queue to its NAPI; with a single NAPI on the device
	 * there is no doubt which one serves every rx queue. */
	if (dev && nq > 0 && !linked) {
		struct il_napi only[2];

		if (il_napi_list(dev, only, 2, NULL, 0) == 1)
			for (int i = 0; i < nq && i < max; i++)
				rxq_napi[i] = only[0].id;
	}
	return nq;
}

struct set_arg {
	uint32_t id;
	unsigned what;
	const struct il_napi *val;
};

static struct nlmsghdr *build_napi_set(void *buf, uint16_t fam, uint32_t seq,
				       void *arg)
{
	const struct set_arg *a = arg;

	return il_nl_napi_set_req(buf, fam, seq, a->id, a->what, a->val);
}

int il_napi_set(uint32_t id, unsigned what, const struct il_napi *val,
		char *err, size_t errlen)
{
	struct set_arg a = { id, what, val };
	struct il_nl_status st;
	struct il_napi cur;
	unsigned added = 0;
	int rc;

	if (!what)
		return 0;
	if ((rc = il_napi_check_support(il_napi_support_once(), what, val, err, errlen)))
		return rc;
	/* Read first: the old values are what restore puts back. */
	if ((rc = il_napi_get(id, &cur, err, errlen)))
		return rc;
	if ((rc = il_napi_save(&cur, what, &added))) {
		if (err && errlen)
			snprintf(err, errlen, "napi-set: more than %d NAPIs "
				 "changed, cannot save more old values",
				 IL_NAPI_MAX);
		return rc;
	}
	/* The guard has the old values before the kernel gets the new. */
	if ((rc = il_guard_napi(&cur, what, val, err, errlen))) {
		il_napi_unsave(id, added);
		return rc;
	}
	rc = main_talk(build_napi_set, &a, NULL, NULL, &st);
	if (rc < 0)
		il_napi_unsave(id, added);
	if (rc < 0)
		il_napi_err(err, errlen, rc, which_op(rc, &main_nl, IL_OP_NAPI_SET),
			id, what, val, st.ext);
	return rc;
}

int il_napi_apply_mode(const char *dev, const struct il_mode *m,
		       char *err, size_t errlen)
{
	struct il_napi list[IL_NAPI_MAX], val;
	unsigned what = IL_SET_DEFER | IL_SET_GRO;
	int n, rc;

	if (!dev) {
		if (err && errlen)
			snprintf(err, errlen, "apply mode: no device given");
		return -EINVAL;
	}
	/* A mode without suspend still turns an old suspend off where the
	 * kernel has the knob; a mode with suspend needs it (checked next). */
	if (m->irq_suspend_timeout || il_napi_support_once()->irq_suspend)
		what |= IL_SET_SUSPEND;
	memset(&val, 0, sizeof(val));
	val.defer_hard_irqs = m->defer_hard_irqs;
	val.gro_flush_timeout = m->gro_flush_timeout;
	val.irq_suspend_timeout = m->irq_suspend_timeout;
	if ((rc = il_napi_check_support(il_napi_support_once(), what, &val, err, errlen)))
		return rc;
	n = il_napi_list(dev, list, IL_NAPI_MAX, err, errlen);
	if (n < 0)
		return n;
	if (n == 0) {
		if (err && errlen)
			il_napi_explain_none(dev, err, errlen);
		return -ENOENT;
	}
	for (int i = 0; i < n; i++)
		if ((rc = il_napi_set(list[i].id, what, &val, err, errlen)) < 0)
			return rc;
	return n;
}

void il_napi_print_json(FILE *f, const struct il_napi *n)
{
	char name[IF_NAMESIZE];

	if (!if_indextoname((unsigned)n->ifindex, name))
		snprintf(name, sizeof(name), "if%d", n->ifindex);
	fprintf(f, "{\"id\": %u, \"dev\": ", n->id);
	il_json_str(f, name);
	fprintf(f, ", \"ifindex\": %d, \"irq\": %d, \"pid\": %d, "
		"\"threaded\": %d, \"defer_hard_irqs\": %" PRIu32 ", "
		"\"gro_flush_timeout_ns\": %" PRIu64 ", "
		"\"irq_suspend_timeout_ns\": %" PRIu64 "}",
		n->ifindex, n->irq, n->pid, n->threaded, n->defer_hard_irqs,
		n->gro_flush_timeout, n->irq_suspend_timeout);
}
