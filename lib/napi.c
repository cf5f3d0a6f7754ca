/* NAPI and queue settings through the generic netlink family "netdev":
 * sockets and transactions, what the kernel supports, and save/restore of
 * every value this process changes. Message bytes live in nl_netdev.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "irqlab/compat.h"
#include "irqlab/napi.h"
#include "irqlab/result.h"

#define NL_BUF IL_NL_BUF

/* The main socket, shared by all callers under a lock. The restore path
 * has its own socket so a signal arriving in the middle of a transaction on
 * the main one cannot read that transaction's replies. */
static pthread_mutex_t nl_lock = PTHREAD_MUTEX_INITIALIZER;
static struct il_nl main_nl;
static struct il_nl restore_nl;

static void err_set(char *err, size_t errlen, int rc, enum il_nl_op op,
		    uint32_t id, unsigned what, const struct il_napi *val,
		    const char *ext)
{
	if (err && errlen)
		il_nl_strerror(rc, op, id, what, val, ext, err, errlen);
}

/* --- family and policy -------------------------------------------------- */

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
	char *buf = malloc(NL_BUF);
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
	pthread_mutex_lock(&nl_lock);
	rc = il_nl_family_lookup(&main_nl, IL_NETDEV_FAMILY_NAME, &fi, &st, buf);
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
	rc = il_nl_talk(&main_nl, il_nl_policy_req(buf, ++main_nl.seq, fi.id,
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
	pthread_mutex_unlock(&nl_lock);
	free(buf);
}

/* The probe result, computed once: set/apply check attributes against it. */
static struct il_napi_support probed;

static void probe_once(void)
{
	il_napi_probe(&probed);
}

static const struct il_napi_support *support(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, probe_once);
	return &probed;
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
		err_set(err, errlen, rc, which_op(rc, &main_nl, IL_OP_NAPI_DUMP),
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
		err_set(err, errlen, rc, which_op(rc, &main_nl, IL_OP_NAPI_GET),
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
		err_set(err, errlen, rc, which_op(rc, &main_nl, IL_OP_QUEUE_DUMP),
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

/* --- set, save, restore -------------------------------------------------- */

/* Old values, one entry per NAPI id, written completely before count grows
 * so the signal handler never reads a half-made entry. */
struct saved {
	struct il_napi old;
	unsigned what;
};
static struct saved saved[IL_NAPI_MAX];
static volatile sig_atomic_t nsaved;
static volatile sig_atomic_t restoring;
static char restore_buf[NL_BUF];

static int find_saved(uint32_t id)
{
	for (int i = 0; i < nsaved; i++)
		if (saved[i].old.id == id)
			return i;
	return -1;
}

/* Records the fields of cur named in what that are not saved yet; *added
 * says which, so a failed set can take them back. */
static int save_old(const struct il_napi *cur, unsigned what, unsigned *added)
{
	int i = find_saved(cur->id);
	struct saved *s;

	if (i < 0) {
		if (nsaved >= IL_NAPI_MAX)
			return -ENOSPC;
		s = &saved[nsaved];
		s->old = *cur;
		s->what = what;
		*added = what;
		nsaved = nsaved + 1;
		return 0;
	}
	s = &saved[i];
	what &= ~s->what;
	*added = what;
	if (what & IL_SET_DEFER)
		s->old.defer_hard_irqs = cur->defer_hard_irqs;
	if (what & IL_SET_GRO)
		s->old.gro_flush_timeout = cur->gro_flush_timeout;
	if (what & IL_SET_SUSPEND)
		s->old.irq_suspend_timeout = cur->irq_suspend_timeout;
	if (what & IL_SET_THREADED)
		s->old.threaded = cur->threaded;
	s->what |= what;
	return 0;
}

/* The kernel refused the change: nothing to restore for those fields. */
static void unsave(uint32_t id, unsigned added)
{
	int i = find_saved(id);

	if (i < 0)
		return;
	saved[i].what &= ~added;
	if (saved[i].what)
		return;
	/* Drop the entry; the last one moves into its place, complete
	 * before the count shrinks. */
	if (i != nsaved - 1)
		saved[i] = saved[nsaved - 1];
	nsaved = nsaved - 1;
}

/* Which requested field this kernel cannot set, as a sentence. */
static int check_support(unsigned what, const struct il_napi *val,
			 char *err, size_t errlen)
{
	return il_napi_check_support(support(), what, val, err, errlen);
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
		err_set(err, errlen, s->family_err ? s->family_err : -ENOENT,
			IL_OP_FAMILY, 0, 0, NULL, NULL);
		return s->family_err ? s->family_err : -ENOENT;
	}
	if (err && errlen)
		snprintf(err, errlen, "needs Linux %s for %s (running %s)",
			 need, attr, s->kernel);
	return -EOPNOTSUPP;
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
	if ((rc = check_support(what, val, err, errlen)))
		return rc;
	/* Read first: the old values are what restore puts back. */
	if ((rc = il_napi_get(id, &cur, err, errlen)))
		return rc;
	if ((rc = save_old(&cur, what, &added))) {
		if (err && errlen)
			snprintf(err, errlen, "napi-set: more than %d NAPIs "
				 "changed, cannot save more old values",
				 IL_NAPI_MAX);
		return rc;
	}
	/* The restore socket exists before the first change, so a signal
	 * handler never has to open one. */
	if (!restore_nl.sock) {
		pthread_mutex_lock(&nl_lock);
		rc = il_nl_open(&restore_nl);
		restore_nl.family = main_nl.family;
		/* It may talk from a signal handler: no stdio dumps. */
		restore_nl.debug = false;
		pthread_mutex_unlock(&nl_lock);
		if (rc) {
			err_set(err, errlen, rc, IL_OP_NAPI_SET, id, what, val, NULL);
			return rc;
		}
	}
	rc = main_talk(build_napi_set, &a, NULL, NULL, &st);
	if (rc < 0)
		unsave(id, added);
	if (rc < 0)
		err_set(err, errlen, rc, which_op(rc, &main_nl, IL_OP_NAPI_SET),
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
	if (m->irq_suspend_timeout || support()->irq_suspend)
		what |= IL_SET_SUSPEND;
	memset(&val, 0, sizeof(val));
	val.defer_hard_irqs = m->defer_hard_irqs;
	val.gro_flush_timeout = m->gro_flush_timeout;
	val.irq_suspend_timeout = m->irq_suspend_timeout;
	if ((rc = check_support(what, &val, err, errlen)))
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

/* Puts one saved entry back. Async-signal-safe: a prepared socket, a
 * static buffer, no stdio, no allocation. */
static int restore_one(const struct saved *s)
{
	struct il_nl_status st;
	struct nlmsghdr *nlh;

	nlh = il_nl_napi_set_req(restore_buf, restore_nl.family,
				 ++restore_nl.seq, s->old.id, s->what, &s->old);
	return il_nl_talk(&restore_nl, nlh, NULL, NULL, &st, restore_buf);
}

int il_napi_restore_all(void)
{
	sigset_t block, old;
	int first = 0;

	/* Idempotent, and a signal during an atexit restore waits until it
	 * is done instead of killing the process half way. */
	if (restoring || !nsaved || !restore_nl.sock)
		return 0;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	restoring = 1;
	/* Newest first, so a NAPI changed twice ends at its first value. */
	for (int i = nsaved - 1; i >= 0; i--) {
		int rc = restore_one(&saved[i]);

		/* A NAPI that vanished (link or GRO toggled) took its
		 * settings with it: nothing to restore there. */
		if (rc < 0 && rc != -ENOENT && !first)
			first = rc;
	}
	nsaved = 0;
	restoring = 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return first;
}

void il_napi_keep_all(void)
{
	nsaved = 0;
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

int il_napi_saved_count(void)
{
	return nsaved;
}

int il_napi_saved(int i, struct il_napi *old, unsigned *what)
{
	if (i < 0 || i >= nsaved)
		return -1;
	*old = saved[i].old;
	*what = saved[i].what;
	return 0;
}

static void restore_at_exit(void)
{
	il_napi_restore_all();
}

static void restore_on_signal(int sig)
{
	int e = errno;

	il_napi_restore_all();
	/* Die of the same signal, so the parent sees what happened. */
	signal(sig, SIG_DFL);
	raise(sig);
	errno = e;
}

void il_napi_restore_on_exit(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	static int installed;
	struct sigaction sa;

	if (installed++)
		return;
	atexit(restore_at_exit);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = restore_on_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&sa.sa_mask, sigs[i]);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction old;

		/* Respect a caller that ignores the signal (nohup). */
		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler == SIG_IGN)
			continue;
		sigaction(sigs[i], &sa, NULL);
	}
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
