/* NIC settings of an experiment case: ethtool coalescing, channels and
 * rings over generic netlink (messages in nl_ethtool.c, transport in nl.c),
 * IRQ affinity per queue and RPS through /proc and /sys, and the records
 * that put every changed value back. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/ethtool.h>
#include <linux/ethtool_netlink.h>
#include <linux/sockios.h>

#include "irqlab/compat.h"
#include "irqlab/guard.h"
#include "irqlab/napi.h"
#include "irqlab/nic.h"
#include "irqlab/result.h"
#include "irqlab/signals.h"

/* --- files under a movable root ------------------------------------------ */

static char root[256];

void il_nic_set_root(const char *r)
{
	snprintf(root, sizeof(root), "%s", r ? r : "");
}

/* Reads a small /proc or /sys file, trailing newline dropped. 0 or -errno. */
static int read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), e;
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	e = errno;
	close(fd);
	if (n < 0)
		return -e;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

/* One write(2) of the whole value, as /proc and /sys want it (O_TRUNC as a
 * shell's redirection does; the fake tree of the tests needs it). No stdio, no
 * allocation: the restore path calls this from a signal handler. */
static int write_small(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC), e = 0;
	size_t n = strlen(val);

	if (fd < 0)
		return -errno;
	if (write(fd, val, n) != (ssize_t)n)
		e = errno ? -errno : -EIO;
	close(fd);
	return e;
}

static void irq_path(char *buf, size_t len, int irq)
{
	snprintf(buf, len, "%s/proc/irq/%d/smp_affinity_list", root, irq);
}

static void rps_path(char *buf, size_t len, const char *dev, int rxq)
{
	snprintf(buf, len, "%s/sys/class/net/%s/queues/rx-%d/rps_cpus", root,
		 dev, rxq);
}

/* --- records ------------------------------------------------------------- */

/* Written completely before the count grows, so a signal handler never
 * reads a half-made record. */
#define REC_FILE IL_NIC_FILE
#define REC_MAX 640
static struct il_nic_rec recs[REC_MAX];
static volatile sig_atomic_t nrec;
static volatile sig_atomic_t restoring;

static int find_rec(int type, int ifindex, const char *path)
{
	for (int i = 0; i < nrec; i++)
		if (recs[i].type == type &&
		    (type == REC_FILE ? strcmp(recs[i].path, path) == 0 :
		     recs[i].ifindex == ifindex))
			return i;
	return -1;
}

/* Records the old values of the fields in want that are not recorded yet;
 * *added says which, so a refused set can take them back. */
static int rec_et_unlocked(enum il_et_kind k, int ifindex, const char *dev,
			   const struct il_et *cur, uint32_t want, uint32_t *added)
{
	int i = find_rec((int)k, ifindex, NULL);
	struct il_nic_rec *r;

	if (i >= 0) {
		r = &recs[i];
		*added = want & ~r->old.have;
		for (int a = 0; a < IL_ET_ATTRS; a++)
			if (*added & (1u << a))
				r->old.v[a] = cur->v[a];
		r->old.have |= *added;
		return 0;
	}
	if (nrec >= REC_MAX)
		return -ENOSPC;
	r = &recs[nrec];
	memset(r, 0, sizeof(*r));
	r->type = (int)k;
	r->ifindex = ifindex;
	snprintf(r->dev, sizeof(r->dev), "%s", dev);
	r->old = *cur;
	r->old.have = want;
	*added = want;
	nrec = nrec + 1;
	return 0;
}

static void unrec_et_unlocked(enum il_et_kind k, int ifindex, uint32_t added)
{
	int i = find_rec((int)k, ifindex, NULL);

	if (i < 0)
		return;
	recs[i].old.have &= ~added;
	/* Only the newest record can go: older ones keep their order. */
	if (!recs[i].old.have && i == nrec - 1)
		nrec = nrec - 1;
}

/* Records a file's current content once; -errno when it cannot be read. */
static int rec_file_unlocked(const char *path, const char *content)
{
	struct il_nic_rec *r;

	if (find_rec(REC_FILE, 0, path) >= 0)
		return 0;
	if (nrec >= REC_MAX)
		return -ENOSPC;
	if (strlen(path) >= sizeof(r->path) ||
	    strlen(content) >= sizeof(r->content))
		return -ENAMETOOLONG;
	r = &recs[nrec];
	memset(r, 0, sizeof(*r));
	r->type = REC_FILE;
	snprintf(r->path, sizeof(r->path), "%s", path);
	snprintf(r->content, sizeof(r->content), "%s", content);
	nrec = nrec + 1;
	return 0;
}

/* Setters may run on several threads (the signal handler only reads). */
static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;

static int rec_et(enum il_et_kind k, int ifindex, const char *dev,
		  const struct il_et *cur, uint32_t want, uint32_t *added)
{
	int rc;

	pthread_mutex_lock(&rec_lock);
	rc = rec_et_unlocked(k, ifindex, dev, cur, want, added);
	pthread_mutex_unlock(&rec_lock);
	return rc;
}

static void unrec_et(enum il_et_kind k, int ifindex, uint32_t added)
{
	pthread_mutex_lock(&rec_lock);
	unrec_et_unlocked(k, ifindex, added);
	pthread_mutex_unlock(&rec_lock);
}

static int rec_file(const char *path, const char *content)
{
	int rc;

	pthread_mutex_lock(&rec_lock);
	rc = rec_file_unlocked(path, content);
	pthread_mutex_unlock(&rec_lock);
	return rc;
}

/* Records path's current content here (il_nic_restore_all) and with the
 * guard (after SIGKILL too), before anything writes it. */
static int keep_file(const char *path, const char *old, char *err,
		     size_t errlen)
{
	int rc = rec_file(path, old);

	if (rc) {
		snprintf(err, errlen, "cannot record %s: %s", path, strerror(-rc));
		return rc;
	}
	rc = il_guard_file(path, err, errlen);
	return rc < 0 ? rc : 0;
}

/* --- netlink ------------------------------------------------------------- */

/* The main socket, shared under a lock; the restore path has its own so a
 * signal in the middle of a transaction cannot read that one's replies. */
static pthread_mutex_t nl_lock = PTHREAD_MUTEX_INITIALIZER;
static struct il_nl main_nl, restore_nl;
static char restore_buf[IL_NL_BUF];
static char restore_req[512] __attribute__((aligned(8)));

static void family_err(int rc, char *err, size_t errlen)
{
	struct utsname u;
	const char *rel = uname(&u) == 0 ? u.release : "unknown";

	if (rc == -ENOENT)
		snprintf(err, errlen, "generic netlink family 'ethtool' not "
			 "found: needs Linux 5.7 (running %s)", rel);
	else
		snprintf(err, errlen, "ethtool netlink family lookup: %s",
			 strerror(-rc));
}

void il_nic_probe(struct il_nic_support *s)
{
	char *buf = malloc(IL_NL_BUF);
	struct il_nl_status st;
	struct il_nl_family fi;
	struct utsname u;
	int rc;

	memset(s, 0, sizeof(*s));
	if (uname(&u) == 0)
		snprintf(s->kernel, sizeof(s->kernel), "%s", u.release);
	if (!buf) {
		s->family_err = -ENOMEM;
		return;
	}
	pthread_mutex_lock(&nl_lock);
	main_nl.names = il_et_names();
	rc = il_nl_family_lookup(&main_nl, ETHTOOL_GENL_NAME, &fi, &st, buf);
	pthread_mutex_unlock(&nl_lock);
	free(buf);
	s->family_err = rc;
	if (rc)
		return;
	s->family = true;
	s->kind[IL_ET_COALESCE] = fi.ops[ETHTOOL_MSG_COALESCE_GET] &&
				  fi.ops[ETHTOOL_MSG_COALESCE_SET];
	s->kind[IL_ET_CHANNELS] = fi.ops[ETHTOOL_MSG_CHANNELS_GET] &&
				  fi.ops[ETHTOOL_MSG_CHANNELS_SET];
	s->kind[IL_ET_RINGS] = fi.ops[ETHTOOL_MSG_RINGS_GET] &&
			       fi.ops[ETHTOOL_MSG_RINGS_SET];
}

struct get_arg {
	enum il_et_kind k;
	struct il_et *out;
	int ifindex;
	bool seen;
};

static int get_msg(const struct nlmsghdr *nlh, void *arg)
{
	struct get_arg *g = arg;

	if (il_et_parse(nlh, g->k, g->out, &g->ifindex))
		return -EBADMSG;
	g->seen = true;
	return 0;
}

/* One get or set on the main socket. req gets the request (its own buffer:
 * the extended ack points into it). */
static int et_talk(enum il_et_kind k, bool set, int ifindex,
		   const struct il_et *val, struct il_et *out,
		   struct il_nl_status *st, char *req, char *err, size_t errlen)
{
	struct get_arg g = { k, out, 0, false };
	struct il_nl_family fi;
	char *buf = malloc(IL_NL_BUF);
	int rc;

	st->ext[0] = '\0';
	st->bad_offset = 0;
	if (!buf)
		return -ENOMEM;
	pthread_mutex_lock(&nl_lock);
	main_nl.names = il_et_names();
	rc = main_nl.family ? il_nl_open(&main_nl) :
	     il_nl_family_lookup(&main_nl, ETHTOOL_GENL_NAME, &fi, st, buf);
	if (rc) {
		pthread_mutex_unlock(&nl_lock);
		free(buf);
		family_err(rc, err, errlen);
		return rc;
	}
	rc = il_nl_talk(&main_nl, il_et_req(req, main_nl.family, ++main_nl.seq,
					    k, set, ifindex, val),
			set ? NULL : get_msg, &g, st, buf);
	pthread_mutex_unlock(&nl_lock);
	free(buf);
	if (rc == 0 && !set && (!g.seen || g.ifindex != ifindex))
		rc = -EBADMSG;
	return rc;
}

static int dev_index(const char *dev, char *err, size_t errlen)
{
	unsigned idx = dev ? if_nametoindex(dev) : 0;

	if (!idx) {
		snprintf(err, errlen, "no device '%s' in this network namespace",
			 dev ? dev : "(none)");
		return -ENODEV;
	}
	return (int)idx;
}

int il_nic_get(const char *dev, enum il_et_kind kind, struct il_et *out,
	       char *err, size_t errlen)
{
	struct il_nl_status st;
	char req[512] __attribute__((aligned(8)));
	int ifindex = dev_index(dev, err, errlen), rc;

	memset(out, 0, sizeof(*out));
	if (ifindex < 0)
		return ifindex;
	rc = et_talk(kind, false, ifindex, NULL, out, &st, req, err, errlen);
	if (rc < 0 && main_nl.family)
		il_et_strerror(rc, kind, false, dev, &st, (const void *)req, err, errlen);
	return rc;
}

/* Every field asked for must be one the device reports and that can be
 * set: refuse before anything changes. */
static int check_fields(const char *dev, enum il_et_kind k,
			const struct il_et *cur, const struct il_et *val,
			char *err, size_t errlen)
{
	for (int a = 0; a < IL_ET_ATTRS; a++) {
		const struct il_nic_field *f = il_nic_field_of(k, a);

		if (!(val->have & (1u << a)))
			continue;
		if (!f || !(f->flags & IL_NF_SET)) {
			snprintf(err, errlen, "%s: %s attribute %d cannot be set",
				 dev, il_et_kind_name(k), a);
			return -EINVAL;
		}
		if (!(cur->have & (1u << a))) {
			snprintf(err, errlen, "%s does not support %s (ethtool "
				 "%s %s %s)", dev, f->name, il_et_kind_flag(k),
				 dev, f->name);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

/* The restore socket exists before the first change, so a signal handler
 * never has to open one. */
static int restore_ready(void)
{
	int rc = 0;

	pthread_mutex_lock(&nl_lock);
	if (!restore_nl.sock) {
		rc = il_nl_open(&restore_nl);
		/* It may talk from a signal handler: no stdio dumps. */
		restore_nl.debug = false;
	}
	restore_nl.family = main_nl.family;
	pthread_mutex_unlock(&nl_lock);
	return rc;
}

/* The ethtool command that puts the fields in old->have back on dev:
 * "ethtool -C tp0 rx-frames 0". words holds the numbers. Returns argc. */
#define UNDO_ARGS (3 + 2 * IL_ET_ATTRS + 1)
static int undo_argv(enum il_et_kind k, const char *dev, const struct il_et *old,
		     const char *argv[UNDO_ARGS], char words[IL_ET_ATTRS][12])
{
	int n = 0;

	argv[n++] = "ethtool";
	argv[n++] = il_et_kind_flag(k);
	argv[n++] = dev;
	for (int a = 0; a < IL_ET_ATTRS; a++) {
		const struct il_nic_field *f = il_nic_field_of(k, a);

		if (!(old->have & (1u << a)) || !f)
			continue;
		argv[n++] = f->name;
		if (f->flags & IL_NF_BOOL)
			argv[n++] = old->v[a] ? "on" : "off";
		else {
			snprintf(words[a], sizeof(words[a]), "%" PRIu32, old->v[a]);
			argv[n++] = words[a];
		}
	}
	argv[n] = NULL;
	return n;
}

/* Whether prog is an executable in PATH. */
static bool in_path(const char *prog)
{
	const char *p = getenv("PATH");
	char dir[4096];

	for (p = p ? p : "/usr/sbin:/usr/bin:/sbin:/bin"; *p; ) {
		size_t n = strcspn(p, ":");

		snprintf(dir, sizeof(dir), "%.*s/%s", (int)n, p, prog);
		if (n && access(dir, X_OK) == 0)
			return true;
		p += n + (p[n] == ':');
	}
	return false;
}

/* Hands the guard the command that undoes this change if irqlab dies
 * without restoring (SIGKILL): it runs ethtool with the old values. */
static int guard_et(enum il_et_kind k, const char *dev, const struct il_et *cur,
		    uint32_t fields, char *err, size_t errlen)
{
	char words[IL_ET_ATTRS][12];
	const char *argv[UNDO_ARGS];
	struct il_et old = *cur;
	int rc;

	if (!fields)
		return 0;
	if (!in_path("ethtool")) {
		snprintf(err, errlen, "needs ethtool in PATH: the restore guard "
			 "undoes %s settings with it if irqlab is killed (apt-get "
			 "install ethtool)", il_et_kind_name(k));
		return -ENOENT;
	}
	old.have = fields;
	undo_argv(k, dev, &old, argv, words);
	rc = il_guard_run(argv, err, errlen);
	return rc < 0 ? rc : 0;
}

/* Records rps_cpus of every rx queue before the queue count changes. */
static int rec_all_rps(const char *dev, char *err, size_t errlen);

int il_nic_set(const char *dev, enum il_et_kind kind, const struct il_et *val,
	       char *err, size_t errlen)
{
	struct il_nl_status st;
	struct il_et cur;
	uint32_t added = 0;
	char req[512] __attribute__((aligned(8)));
	int ifindex, rc;

	if (!val->have)
		return 0;
	/* Read first: the old values are what restore puts back. */
	if ((rc = il_nic_get(dev, kind, &cur, err, errlen)))
		return rc;
	ifindex = (int)if_nametoindex(dev);
	if ((rc = check_fields(dev, kind, &cur, val, err, errlen)))
		return rc;
	if ((rc = restore_ready())) {
		snprintf(err, errlen, "restore socket: %s", strerror(-rc));
		return rc;
	}
	if (kind == IL_ET_CHANNELS && (rc = rec_all_rps(dev, err, errlen)))
		return rc;
	if ((rc = rec_et(kind, ifindex, dev, &cur, val->have, &added))) {
		snprintf(err, errlen, "%s: more than %d changes, cannot record "
			 "more old values", dev, REC_MAX);
		return rc;
	}
	if ((rc = guard_et(kind, dev, &cur, added, err, errlen))) {
		unrec_et(kind, ifindex, added);
		return rc;
	}
	rc = et_talk(kind, true, ifindex, val, NULL, &st, req, err, errlen);
	if (rc < 0) {
		unrec_et(kind, ifindex, added);
		il_et_strerror(rc, kind, true, dev, &st, (const void *)req, err, errlen);
	}
	return rc;
}

/* --- presets and queue counts -------------------------------------------- */

const char *const il_coalesce_preset_names[] = { "leave", "adaptive", "off" };

static void want(struct il_et *val, const struct il_et *cur, int attr,
		 uint32_t v)
{
	if (cur->have & (1u << attr)) {
		val->have |= 1u << attr;
		val->v[attr] = v;
	}
}

int il_nic_preset(const char *dev, enum il_coalesce_preset p,
		  const struct il_et *cur, struct il_et *val,
		  char *err, size_t errlen)
{
	memset(val, 0, sizeof(*val));
	if (p == IL_COALESCE_ADAPTIVE) {
		want(val, cur, ETHTOOL_A_COALESCE_USE_ADAPTIVE_RX, 1);
		want(val, cur, ETHTOOL_A_COALESCE_USE_ADAPTIVE_TX, 1);
		if (!(val->have & (1u << ETHTOOL_A_COALESCE_USE_ADAPTIVE_RX))) {
			snprintf(err, errlen, "%s does not support adaptive "
				 "interrupt coalescing (ethtool -C %s adaptive-rx "
				 "on): the adaptive case cannot be applied",
				 dev, dev);
			return -EOPNOTSUPP;
		}
	} else if (p == IL_COALESCE_OFF) {
		want(val, cur, ETHTOOL_A_COALESCE_USE_ADAPTIVE_RX, 0);
		want(val, cur, ETHTOOL_A_COALESCE_USE_ADAPTIVE_TX, 0);
		want(val, cur, ETHTOOL_A_COALESCE_RX_USECS, 0);
		/* usecs 0 and frames 0 would mean "never interrupt": one
		 * frame is the smallest batch. */
		want(val, cur, ETHTOOL_A_COALESCE_RX_MAX_FRAMES, 1);
		if (!(val->have & ((1u << ETHTOOL_A_COALESCE_RX_USECS) |
				   (1u << ETHTOOL_A_COALESCE_RX_MAX_FRAMES)))) {
			snprintf(err, errlen, "%s does not support rx-usecs or "
				 "rx-frames (ethtool -C): the no-coalescing case "
				 "cannot be applied", dev);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

int il_nic_set_queues(const char *dev, uint32_t n, char *err, size_t errlen)
{
	struct il_et cur, val = { 0 };
	int combined = ETHTOOL_A_CHANNELS_COMBINED_COUNT, rc;

	if ((rc = il_nic_get(dev, IL_ET_CHANNELS, &cur, err, errlen)))
		return rc;
	if ((cur.have & (1u << ETHTOOL_A_CHANNELS_COMBINED_MAX)) &&
	    cur.v[ETHTOOL_A_CHANNELS_COMBINED_MAX] > 0) {
		if (n > cur.v[ETHTOOL_A_CHANNELS_COMBINED_MAX]) {
			snprintf(err, errlen, "%s has at most %u combined "
				 "channels, %u asked", dev,
				 cur.v[ETHTOOL_A_CHANNELS_COMBINED_MAX], n);
			return -ERANGE;
		}
		val.have = 1u << combined;
		val.v[combined] = n;
	} else {
		for (int a = ETHTOOL_A_CHANNELS_RX_COUNT;
		     a <= ETHTOOL_A_CHANNELS_TX_COUNT; a++) {
			uint32_t max = cur.v[a - 4];	/* rx-max, tx-max */

			if (!(cur.have & (1u << a)))
				continue;
			if (n > max) {
				snprintf(err, errlen, "%s has at most %u %s "
					 "channels, %u asked", dev, max,
					 a == ETHTOOL_A_CHANNELS_RX_COUNT ?
					 "rx" : "tx", n);
				return -ERANGE;
			}
			val.have |= 1u << a;
			val.v[a] = n;
		}
	}
	if (!val.have) {
		il_et_strerror(-EOPNOTSUPP, IL_ET_CHANNELS, true, dev, NULL,
			       NULL, err, errlen);
		return -EOPNOTSUPP;
	}
	return il_nic_set(dev, IL_ET_CHANNELS, &val, err, errlen);
}

/* --- queues, IRQs, RPS ---------------------------------------------------- */

/* Where the device's name sits in an interrupt name, as a whole word:
 * "eth0-TxRx-3", "i40e-eth0-TxRx-3"; not "eth10-rx-3" for eth1. */
static const char *dev_in(const char *name, const char *dev)
{
	size_t n = strlen(dev);

	for (const char *p = strstr(name, dev); p; p = strstr(p + 1, dev)) {
		bool start = p == name || p[-1] == '-' || p[-1] == '_';
		char after = p[n];

		if (start && (after == '\0' || after == '-' || after == '_' ||
			      after == '@' || after == ':'))
			return p + n;
	}
	return NULL;
}

/* The rx queue an interrupt name stands for, or -1: the number at the end
 * of what follows the device name; a bare device name is queue 0. Vectors
 * that only serve transmit are not an rx queue's. */
static int irq_queue(const char *name, const char *dev)
{
	const char *rest = dev_in(name, dev), *end;
	char low[48];
	size_t i;

	if (!rest)
		return -1;
	if (!*rest)
		return 0;
	for (i = 0; rest[i] && i + 1 < sizeof(low); i++)
		low[i] = (char)tolower((unsigned char)rest[i]);
	low[i] = '\0';
	if (strstr(low, "tx") && !strstr(low, "rx"))
		return -1;
	end = rest + strlen(rest);
	if (end == rest || !isdigit((unsigned char)end[-1]))
		return -1;
	while (end > rest && isdigit((unsigned char)end[-1]))
		end--;
	return atoi(end);
}

/* Fills irq and irq_name of queues that have no IRQ yet from
 * /proc/interrupts lines named after dev. */
static void irqs_from_proc(const char *dev, struct il_nic_queue *q, int n)
{
	char path[300], line[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/proc/interrupts", root);
	if (!(f = fopen(path, "r")))
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':'), *name, *sp;
		int irq, qi;

		if (!colon || sscanf(line, " %d:", &irq) != 1)
			continue;	/* the CPU header, NMI, LOC, ... */
		line[strcspn(line, "\n")] = '\0';
		/* The name is the last word of the line. */
		while ((sp = strrchr(line, ' ')) && sp[1] == '\0')
			*sp = '\0';
		name = strrchr(line, ' ');
		name = name ? name + 1 : colon + 1;
		qi = irq_queue(name, dev);
		for (int i = 0; i < n; i++) {
			if (q[i].index != qi || q[i].irq >= 0)
				continue;
			q[i].irq = irq;
			snprintf(q[i].irq_from, sizeof(q[i].irq_from),
				 "/proc/interrupts");
			snprintf(q[i].irq_name, sizeof(q[i].irq_name), "%s", name);
		}
	}
	fclose(f);
}

/* The netdev family's view: queue -> NAPI -> irq (drivers that call
 * netif_napi_set_irq, Linux 6.9+). Silently nothing on older kernels or
 * a device this namespace does not have (the unit tests' fake root). */
static void irqs_from_napi(const char *dev, struct il_nic_queue *q, int n)
{
	static struct il_napi napis[IL_NAPI_MAX];
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	uint32_t ids[IL_NIC_QMAX];
	int nq, nn;

	if (*root)	/* a fake tree: the kernel knows nothing of it */
		return;
	pthread_mutex_lock(&lock);
	nq = il_queue_napi_ids(dev, ids, IL_NIC_QMAX, NULL, 0);
	nn = nq > 0 ? il_napi_list(dev, napis, IL_NAPI_MAX, NULL, 0) : 0;
	for (int i = 0; i < n; i++) {
		if (q[i].index >= nq)
			continue;
		q[i].napi_id = ids[q[i].index];
		for (int j = 0; j < nn; j++)
			if (napis[j].id == q[i].napi_id && napis[j].irq > 0) {
				q[i].irq = napis[j].irq;
				snprintf(q[i].irq_from, sizeof(q[i].irq_from),
					 "napi");
			}
	}
	pthread_mutex_unlock(&lock);
}

static int cmp_queue(const void *a, const void *b)
{
	return ((const struct il_nic_queue *)a)->index -
	       ((const struct il_nic_queue *)b)->index;
}

/* The rx queue directories of dev, sorted by index. */
static int list_rx(const char *dev, struct il_nic_queue *out, int max,
		   char *err, size_t errlen)
{
	char path[300];
	struct dirent *d;
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "%s/sys/class/net/%s/queues", root, dev);
	if (!(dir = opendir(path))) {
		int e = -errno;

		snprintf(err, errlen, "no device '%s' in this network "
			 "namespace (%s: %s)", dev, path, strerror(-e));
		return e == -ENOENT ? -ENODEV : e;
	}
	while ((d = readdir(dir)) && n < max) {
		int idx;
		char tail;

		if (sscanf(d->d_name, "rx-%d%c", &idx, &tail) != 1 || idx < 0)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		out[n].index = idx;
		out[n].irq = -1;
		n++;
	}
	closedir(dir);
	qsort(out, (size_t)n, sizeof(*out), cmp_queue);
	return n;
}

int il_nic_queues(const char *dev, struct il_nic_queue *out, int max,
		  char *err, size_t errlen)
{
	char path[300];
	int n = list_rx(dev, out, max, err, errlen);

	if (n <= 0)
		return n;
	irqs_from_napi(dev, out, n);
	irqs_from_proc(dev, out, n);
	for (int i = 0; i < n; i++) {
		rps_path(path, sizeof(path), dev, out[i].index);
		read_small(path, out[i].rps, sizeof(out[i].rps));
		if (out[i].irq < 0)
			continue;
		irq_path(path, sizeof(path), out[i].irq);
		read_small(path, out[i].affinity, sizeof(out[i].affinity));
	}
	return n;
}

static int rec_all_rps(const char *dev, char *err, size_t errlen)
{
	struct il_nic_queue *q = calloc(IL_NIC_QMAX, sizeof(*q));
	char path[300];
	int n, rc = 0;

	if (!q)
		return -ENOMEM;
	n = list_rx(dev, q, IL_NIC_QMAX, err, errlen);
	for (int i = 0; i < n && !rc; i++) {
		char old[200];

		rps_path(path, sizeof(path), dev, q[i].index);
		/* No RPS in this kernel (CONFIG_RPS off): nothing to keep. */
		if (read_small(path, old, sizeof(old)))
			continue;
		rc = keep_file(path, old, err, errlen);
	}
	free(q);
	return n < 0 ? n : rc;
}

/* Reads, records, writes. A read or write failure is -errno for the
 * caller's sentence; a record failure has its sentence in err already and
 * *said set. */
static int change_file(const char *path, const char *val, char *err,
		       size_t errlen, bool *said)
{
	char old[200];
	int rc;

	*said = false;
	if ((rc = read_small(path, old, sizeof(old))))
		return rc;
	if ((rc = keep_file(path, old, err, errlen))) {
		*said = true;
		return rc;
	}
	return write_small(path, val);
}

int il_nic_irq_pin(int irq, const char *cpulist, char *err, size_t errlen)
{
	char path[300];
	bool said;
	int rc;

	irq_path(path, sizeof(path), irq);
	rc = change_file(path, cpulist, err, errlen, &said);
	if (said)
		return rc;
	if (rc == -EIO)
		snprintf(err, errlen, "IRQ %d is managed by the kernel: its "
			 "affinity is fixed (writing %s: %s); choose the queues "
			 "with --queues instead", irq, path, strerror(EIO));
	else if (rc == -ENOENT)
		snprintf(err, errlen, "no IRQ %d (%s missing)", irq, path);
	else if (rc == -EACCES || rc == -EPERM)
		snprintf(err, errlen, "IRQ %d affinity: needs root (%s: %s)",
			 irq, path, strerror(-rc));
	else if (rc == -EINVAL)
		snprintf(err, errlen, "IRQ %d: the kernel refused CPUs '%s' "
			 "(offline, or not allowed for interrupts)", irq, cpulist);
	else if (rc)
		snprintf(err, errlen, "IRQ %d affinity: %s: %s", irq, path,
			 strerror(-rc));
	return rc;
}

int il_nic_rps_set(const char *dev, int rxq, const char *mask,
		   char *err, size_t errlen)
{
	char path[300];
	bool said;
	int rc;

	rps_path(path, sizeof(path), dev, rxq);
	rc = change_file(path, mask, err, errlen, &said);
	if (said)
		return rc;
	if (rc == -ENOENT)
		snprintf(err, errlen, "%s rx queue %d has no RPS setting (%s "
			 "missing: no such queue, or a kernel without RPS)", dev,
			 rxq, path);
	else if (rc)
		snprintf(err, errlen, "%s rx-%d RPS: %s: %s", dev, rxq, path,
			 strerror(-rc));
	return rc;
}

int il_nic_irqbalance_pid(void)
{
	char path[600], comm[32];
	struct dirent *d;
	DIR *dir;
	int pid = 0;

	snprintf(path, sizeof(path), "%s/proc", root);
	if (!(dir = opendir(path)))
		return 0;
	while (!pid && (d = readdir(dir))) {
		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "%s/proc/%s/comm", root, d->d_name);
		if (read_small(path, comm, sizeof(comm)) == 0 &&
		    strcmp(comm, "irqbalance") == 0)
			pid = atoi(d->d_name);
	}
	closedir(dir);
	return pid;
}

/* --- a whole case -------------------------------------------------------- */

/* The preset's values on this device, then the fields given by hand. */
static int apply_coalesce(const char *dev, const struct il_nic_case *c,
			  char *err, size_t errlen)
{
	const struct il_et *hand = &c->set[IL_ET_COALESCE];
	struct il_et cur, val;
	int rc = il_nic_get(dev, IL_ET_COALESCE, &cur, err, errlen);

	if (rc)
		return rc;
	if ((rc = il_nic_preset(dev, c->coalesce, &cur, &val, err, errlen)))
		return rc;
	for (int a = 0; a < IL_ET_ATTRS; a++)
		if (hand->have & (1u << a))
			val.v[a] = hand->v[a];
	val.have |= hand->have;
	return il_nic_set(dev, IL_ET_COALESCE, &val, err, errlen);
}

static int apply_queues(const char *dev, const struct il_nic_case *c,
			char *err, size_t errlen)
{
	struct il_nic_queue *q = calloc(IL_NIC_QMAX, sizeof(*q));
	char cpu[16];
	int n, rc = 0;

	if (!q)
		return -ENOMEM;
	n = il_nic_queues(dev, q, IL_NIC_QMAX, err, errlen);
	if (n < 0)
		rc = n;
	for (int i = 0; i < n && !rc && c->n_irq_cpus > 0; i++) {
		if (q[i].irq < 0) {
			snprintf(err, errlen, "%s rx queue %d: no IRQ found "
				 "(neither napi irq nor a /proc/interrupts "
				 "name with %s)", dev, q[i].index, dev);
			rc = -ENOENT;
			break;
		}
		snprintf(cpu, sizeof(cpu), "%d", c->irq_cpus[i % c->n_irq_cpus]);
		rc = il_nic_irq_pin(q[i].irq, cpu, err, errlen);
	}
	for (int i = 0; i < n && !rc && c->rps_off; i++)
		rc = il_nic_rps_set(dev, q[i].index, "0", err, errlen);
	free(q);
	return rc;
}

int il_nic_apply(const char *dev, const struct il_nic_case *c,
		 char *err, size_t errlen)
{
	struct il_et rings = c->set[IL_ET_RINGS];
	int rc;

	/* Channels first: they make the queues (and on some drivers reset
	 * rings and coalescing) that everything after is about. */
	if (c->queues && (rc = il_nic_set_queues(dev, c->queues, err, errlen)))
		return rc;
	if ((rc = il_nic_set(dev, IL_ET_CHANNELS, &c->set[IL_ET_CHANNELS],
			     err, errlen)))
		return rc;
	if (c->rx_ring && !(rings.have & (1u << ETHTOOL_A_RINGS_RX))) {
		rings.have |= 1u << ETHTOOL_A_RINGS_RX;
		rings.v[ETHTOOL_A_RINGS_RX] = c->rx_ring;
	}
	if (c->tx_ring && !(rings.have & (1u << ETHTOOL_A_RINGS_TX))) {
		rings.have |= 1u << ETHTOOL_A_RINGS_TX;
		rings.v[ETHTOOL_A_RINGS_TX] = c->tx_ring;
	}
	if ((rc = il_nic_set(dev, IL_ET_RINGS, &rings, err, errlen)))
		return rc;
	if ((c->coalesce != IL_COALESCE_LEAVE || c->set[IL_ET_COALESCE].have) &&
	    (rc = apply_coalesce(dev, c, err, errlen)))
		return rc;
	if (c->n_irq_cpus > 0 || c->rps_off)
		return apply_queues(dev, c, err, errlen);
	return 0;
}

int il_nic_drvinfo(const char *dev, struct il_nic_drvinfo *out, char *err,
		   size_t errlen)
{
	struct ethtool_drvinfo d = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = { .ifr_data = (void *)&d };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	memset(out, 0, sizeof(*out));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (fd < 0 || ioctl(fd, SIOCETHTOOL, &ifr) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: driver information (ethtool -i): %s",
			 dev, strerror(errno));
	} else {
		snprintf(out->driver, sizeof(out->driver), "%.31s", d.driver);
		snprintf(out->version, sizeof(out->version), "%.31s", d.version);
		snprintf(out->firmware, sizeof(out->firmware), "%.31s", d.fw_version);
		snprintf(out->bus_info, sizeof(out->bus_info), "%.31s", d.bus_info);
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

int il_nic_read(const char *dev, struct il_nic_state *s, char *err,
		size_t errlen)
{
	char e[256];
	int n;

	memset(s, 0, sizeof(*s));
	snprintf(s->dev, sizeof(s->dev), "%s", dev);
	il_nic_drvinfo(dev, &s->drv, e, sizeof(e));	/* best effort */
	for (int k = 0; k < IL_ET_KINDS; k++) {
		s->err[k] = il_nic_get(dev, (enum il_et_kind)k, &s->et[k], e,
				       sizeof(e));
		/* No device, no family, no permission: nothing else works. */
		if (s->err[k] && s->err[k] != -EOPNOTSUPP) {
			snprintf(err, errlen, "%s", e);
			return s->err[k];
		}
	}
	n = il_nic_queues(dev, s->q, IL_NIC_QMAX, err, errlen);
	if (n < 0)
		return n;
	s->nqueues = n;
	return 0;
}

static void print_et_json(FILE *f, const struct il_nic_state *s,
			  enum il_et_kind k)
{
	bool first = true;

	fprintf(f, ", \"%s\": ", il_et_kind_name(k));
	if (s->err[k]) {
		fprintf(f, "null");
		return;
	}
	fputc('{', f);
	for (int i = 0; i < il_nic_nfields; i++) {
		const struct il_nic_field *fl = &il_nic_fields[i];

		if (fl->kind != k || !(s->et[k].have & (1u << fl->attr)))
			continue;
		fprintf(f, "%s\"%s\": ", first ? "" : ", ", fl->name);
		if (fl->flags & IL_NF_BOOL)
			fprintf(f, "%s", s->et[k].v[fl->attr] ? "true" : "false");
		else
			fprintf(f, "%" PRIu32, s->et[k].v[fl->attr]);
		first = false;
	}
	fputc('}', f);
}

void il_nic_print_json(FILE *f, const struct il_nic_state *s)
{
	fprintf(f, "{\"dev\": ");
	il_json_str(f, s->dev);
	fprintf(f, ", \"driver\": {\"name\": ");
	il_json_str(f, s->drv.driver);
	fprintf(f, ", \"version\": ");
	il_json_str(f, s->drv.version);
	fprintf(f, ", \"firmware\": ");
	il_json_str(f, s->drv.firmware);
	fprintf(f, ", \"bus_info\": ");
	il_json_str(f, s->drv.bus_info);
	fputc('}', f);
	for (int k = 0; k < IL_ET_KINDS; k++)
		print_et_json(f, s, (enum il_et_kind)k);
	fprintf(f, ", \"queues\": [");
	for (int i = 0; i < s->nqueues; i++) {
		const struct il_nic_queue *q = &s->q[i];

		fprintf(f, "%s{\"queue\": %d, \"napi_id\": %" PRIu32 ", "
			"\"irq\": %d, \"irq_from\": ", i ? ", " : "", q->index,
			q->napi_id, q->irq);
		il_json_str(f, q->irq_from);
		fprintf(f, ", \"irq_name\": ");
		il_json_str(f, q->irq_name);
		fprintf(f, ", \"affinity\": ");
		il_json_str(f, q->affinity);
		fprintf(f, ", \"rps_cpus\": ");
		il_json_str(f, q->rps);
		fputc('}', f);
	}
	fprintf(f, "]}");
}

/* --- restore ------------------------------------------------------------- */

/* Puts one record back. Async-signal-safe: a prepared socket, static
 * buffers, no stdio, no allocation. */
static int restore_one(const struct il_nic_rec *r)
{
	struct il_nl_status st;
	struct nlmsghdr *nlh;

	if (r->type == REC_FILE)
		return write_small(r->path, r->content);
	if (!r->old.have)
		return 0;
	nlh = il_et_req(restore_req, restore_nl.family, ++restore_nl.seq,
			(enum il_et_kind)r->type, true, r->ifindex, &r->old);
	return il_nl_talk(&restore_nl, nlh, NULL, NULL, &st, restore_buf);
}

int il_nic_restore_all(void)
{
	sigset_t block, old;
	int first = 0;

	if (restoring || !nrec)
		return 0;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	restoring = 1;
	/* Newest first: a value changed twice ends at its first value, and
	 * queue settings go back before the queue count does. */
	for (int i = nrec - 1; i >= 0; i--) {
		int rc = restore_one(&recs[i]);

		/* A device, queue or IRQ that is gone took its setting with
		 * it: nothing to put back there. */
		if (rc < 0 && rc != -ENOENT && rc != -ENODEV && !first)
			first = rc;
	}
	nrec = 0;
	restoring = 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return first;
}

void il_nic_keep_all(void)
{
	nrec = 0;
	/* The guard's file and command records are all this process's
	 * (the CLI's permanent set is the only caller). */
	il_guard_keep(IL_GUARD_FILE | IL_GUARD_RUN);
}

int il_nic_saved_count(void)
{
	return nrec;
}

int il_nic_saved(int i, struct il_nic_rec *out)
{
	if (i < 0 || i >= nrec)
		return -1;
	*out = recs[i];
	return 0;
}

int il_nic_saved_undo(int i, char *buf, size_t len)
{
	char words[IL_ET_ATTRS][12];
	const char *argv[UNDO_ARGS];
	const struct il_nic_rec *r;
	size_t off = 0;
	int argc;

	if (i < 0 || i >= nrec)
		return -1;
	r = &recs[i];
	if (r->type == REC_FILE) {
		snprintf(buf, len, "echo %s > %s", r->content, r->path);
		return 0;
	}
	argc = undo_argv((enum il_et_kind)r->type, r->dev, &r->old, argv, words);
	buf[0] = '\0';
	for (int a = 0; a < argc && off < len; a++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", a ? " " : "",
					argv[a]);
	return 0;
}

static void restore_at_exit(void)
{
	il_nic_restore_all();
}

static void restore_on_signal(int sig, void *arg)
{
	(void)sig;
	(void)arg;
	il_nic_restore_all();
}

/* The library's one signal owner runs the restore and then lets the
 * process die of the signal. */
void il_nic_restore_on_exit(void)
{
	static int installed;

	if (installed++)
		return;
	atexit(restore_at_exit);
	il_signals_on_restore(restore_on_signal, NULL);
}
