/* What the running kernel can do with NAPIs: the netdev family and its
 * commands, the napi-set attributes its policy accepts, epoll busy-poll
 * parameters; whether a requested change fits; and, when a device has no
 * NAPI, why. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "irqlab/compat.h"
#include "napi_int.h"

/* napi-set attributes in the kernel's policy, and the threaded maximum. */
struct policy_info {
	bool attr[16];
	uint64_t threaded_max;
};

static int policy_msg(const struct nlmsghdr *nlh, void *arg)
{
	struct policy_info *pi = arg;
	const struct nlattr *a, *idx, *at, *f;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(a) != CTRL_ATTR_POLICY)
			continue;
		/* CTRL_ATTR_POLICY { policy index { attribute type { ... } } } */
		mnl_attr_for_each_nested(idx, a) {
			mnl_attr_for_each_nested(at, idx) {
				uint16_t t = mnl_attr_get_type(at);

				if (t >= 16)
					continue;
				pi->attr[t] = true;
				if (t != IL_NETDEV_A_NAPI_THREADED)
					continue;
				mnl_attr_for_each_nested(f, at)
					if (mnl_attr_get_type(f) ==
						    NL_POLICY_TYPE_ATTR_MAX_VALUE_U &&
					    mnl_attr_get_payload_len(f) == 8)
						pi->threaded_max = mnl_attr_get_u64(f);
			}
		}
	}
	return 0;
}

static int kernel_has_epoll_params(void)
{
	struct epoll_params p;
	int fd = epoll_create1(EPOLL_CLOEXEC), ok;

	if (fd < 0)
		return 0;
	/* Reading is enough to learn whether the ioctl exists; a fresh
	 * epoll instance has nothing to lose either way. */
	ok = ioctl(fd, EPIOCGPARAMS, &p) == 0;
	close(fd);
	return ok;
}

void il_napi_probe(struct il_napi_support *s)
{
	char *buf = malloc(IL_NL_BUF);
	struct il_nl nl = { .names = &il_netdev_names };
	struct il_nl_status st;
	struct il_nl_family fi;
	struct policy_info pi;
	struct utsname u;
	int rc;

	memset(s, 0, sizeof(*s));
	if (uname(&u) == 0)
		snprintf(s->kernel, sizeof(s->kernel), "%s", u.release);
	s->epoll_params = kernel_has_epoll_params();
	if (!buf) {
		s->family_err = -ENOMEM;
		return;
	}
	rc = il_nl_family_lookup(&nl, IL_NETDEV_FAMILY_NAME, &fi, &st, buf);
	if (rc) {
		s->family_err = rc;
		goto out;
	}
	s->netdev_family = true;
	s->napi_get = fi.ops[IL_NETDEV_CMD_NAPI_GET];
	s->queue_get = fi.ops[IL_NETDEV_CMD_QUEUE_GET];
	s->napi_set = fi.ops[IL_NETDEV_CMD_NAPI_SET];
	if (!s->napi_set)
		goto out;
	memset(&pi, 0, sizeof(pi));
	rc = il_nl_talk(&nl, il_nl_policy_req(buf, ++nl.seq, fi.id,
						IL_NETDEV_CMD_NAPI_SET),
		     policy_msg, &pi, &st, buf);
	if (rc == 0) {
		s->policy_known = true;
		s->irq_suspend = pi.attr[IL_NETDEV_A_NAPI_IRQ_SUSPEND_TIMEOUT];
		s->threaded_attr = pi.attr[IL_NETDEV_A_NAPI_THREADED];
		s->threaded_busy_poll = s->threaded_attr && pi.threaded_max >= 2;
	} else {
		/* No policy dump (every 6.13+ kernel has one): suspend came
		 * with napi-set, so assume it; threaded stays unknown. */
		s->irq_suspend = true;
	}
out:
	il_nl_close(&nl);
	free(buf);
}

/* The probe result, computed once: set/apply check attributes against it. */
static struct il_napi_support probed;

static void probe_once(void)
{
	il_napi_probe(&probed);
}

const struct il_napi_support *il_napi_support_once(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, probe_once);
	return &probed;
}

int il_napi_check_support(const struct il_napi_support *s, unsigned what,
			  const struct il_napi *val, char *err, size_t errlen)
{
	const char *need = NULL, *attr = NULL;

	if (!s->napi_set) {
		need = "6.13";
		attr = "napi-set (defer_hard_irqs, gro_flush_timeout)";
	} else if ((what & IL_SET_SUSPEND) && !s->irq_suspend) {
		need = "6.13";
		attr = "irq_suspend_timeout";
	} else if ((what & IL_SET_THREADED) && !s->threaded_attr) {
		need = "6.17";
		attr = "per-NAPI threaded";
	} else if ((what & IL_SET_THREADED) && val->threaded == 2 &&
		   s->policy_known && !s->threaded_busy_poll) {
		if (err && errlen)
			snprintf(err, errlen, "threaded=2 (busy-poll) needs "
				 "Linux 6.19 (running %s)", s->kernel);
		return -ERANGE;
	}
	if (!need)
		return 0;
	if (!s->netdev_family) {
		il_napi_err(err, errlen, s->family_err ? s->family_err : -ENOENT,
			IL_OP_FAMILY, 0, 0, NULL, NULL);
		return s->family_err ? s->family_err : -ENOENT;
	}
	if (err && errlen)
		snprintf(err, errlen, "needs Linux %s for %s (running %s)",
			 need, attr, s->kernel);
	return -EOPNOTSUPP;
}

void il_napi_explain_none(const char *dev, char *buf, size_t len)
{
	char path[300];
	FILE *f;
	int type = 0;

	snprintf(path, sizeof(path), "/sys/class/net/%s/type", dev);
	if (!(f = fopen(path, "r"))) {
		snprintf(buf, len, "no device '%s' in this network namespace",
			 dev);
		return;
	}
	if (fscanf(f, "%d", &type) != 1)
		type = 0;
	fclose(f);
	snprintf(path, sizeof(path), "/sys/class/net/%s/device", dev);
	if (type == 772)	/* ARPHRD_LOOPBACK */
		snprintf(buf, len, "%s has no NAPI: loopback hands packets "
			 "straight to the socket, so there is nothing to busy "
			 "poll or defer; busy polling needs a device with NAPI "
			 "(a real NIC, or a veth with GRO on)", dev);
	else if (access(path, F_OK) != 0)
		snprintf(buf, len, "%s has no NAPI: it is a virtual device; "
			 "a veth gets one once GRO is on (ethtool -K %s gro on) "
			 "or an XDP program is attached", dev, dev);
	else
		snprintf(buf, len, "%s has no NAPI right now: its driver "
			 "registers NAPIs when the link is up (ip link set %s "
			 "up)", dev, dev);
}
