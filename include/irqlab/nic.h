/* The NIC side of an experiment case: interrupt coalescing, channels (queue
 * counts) and ring sizes through the generic netlink family "ethtool"
 * (libmnl), IRQ affinity per queue (/proc/irq) and RPS (/sys/class/net),
 * with save-and-restore of everything this process changes.
 *
 * Every setter reads the current values first and records them twice
 * before changing anything: here, so il_nic_restore_all() (also on exit and
 * on SIGINT/SIGTERM/SIGHUP once il_nic_restore_on_exit() ran) puts back
 * exactly this module's changes, newest first; and with the restore guard
 * (irqlab/guard.h), which puts them back however the process ends, SIGKILL
 * included: files as their old content, ethtool settings as the `ethtool`
 * command with the old values (so ethtool must be in PATH). The guard's
 * copy is replayed at exit too, which writes the same old values again.
 * Functions
 * return 0 (or a count) or -errno with one line for the user in err:
 *   "tp0 does not support interrupt coalescing (ethtool -C): the adaptive
 *    and no-coalescing cases cannot be applied"
 *   "coalesce-set: needs CAP_NET_ADMIN (run as root)"
 *   "IRQ 45 (eth0-TxRx-0) is managed by the kernel: its affinity is fixed"
 *
 * A program that applies a whole case (the multi-host agent) fills a
 * struct il_nic_case and calls il_nic_apply(); il_nic_read() and
 * il_nic_print_json() report the state before and after. */
#ifndef IRQLAB_NIC_H
#define IRQLAB_NIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "irqlab/nl.h"

/* --- values -------------------------------------------------------------- */

/* The three ethtool messages irqlab uses. */
enum il_et_kind { IL_ET_COALESCE, IL_ET_CHANNELS, IL_ET_RINGS, IL_ET_KINDS };

/* One message's values, indexed by the kernel's own attribute numbers
 * (ETHTOOL_A_COALESCE_RX_USECS, ETHTOOL_A_CHANNELS_COMBINED_COUNT, ...). In
 * a reply, bit a of have says the device reported v[a] (the kernel leaves
 * out what the driver does not support); in a request, what to set. */
#define IL_ET_ATTRS 32
struct il_et {
	uint32_t have;
	uint32_t v[IL_ET_ATTRS];
};

/* The fields a user sees, named as ethtool names them; the CLI's options,
 * `show` lines and JSON keys come from this table. */
enum { IL_NF_BOOL = 1, IL_NF_SET = 2 };	/* on/off value; settable */
struct il_nic_field {
	enum il_et_kind kind;
	uint8_t attr;
	uint8_t flags;
	const char *name;
};
extern const struct il_nic_field il_nic_fields[];
extern const int il_nic_nfields;
/* The field called name in kind (IL_ET_KINDS: any kind), or NULL. */
const struct il_nic_field *il_nic_field_find(enum il_et_kind kind,
					     const char *name);
const struct il_nic_field *il_nic_field_of(enum il_et_kind kind, int attr);
/* "coalesce", "channels", "rings"; the ethtool option that sets them. */
const char *il_et_kind_name(enum il_et_kind kind);
const char *il_et_kind_flag(enum il_et_kind kind);	/* "-C", "-L", "-G" */

/* --- ethtool settings ---------------------------------------------------- */

/* What the running kernel has: the family (Linux 5.6) and its messages. */
struct il_nic_support {
	bool family;
	bool kind[IL_ET_KINDS];		/* get and set of coalesce/channels/rings */
	int family_err;			/* -errno of the lookup, 0 ok */
	char kernel[65];
};
void il_nic_probe(struct il_nic_support *s);

/* Reads one kind of settings of dev. -EOPNOTSUPP: the driver has none. */
int il_nic_get(const char *dev, enum il_et_kind kind, struct il_et *out,
	       char *err, size_t errlen);

/* Sets the fields flagged in val->have, after reading and recording their
 * old values. Fields the device does not report are refused before anything
 * is sent ("tp0 does not support rx-usecs (ethtool -C)"). A channels change
 * also records the RPS setting of every rx queue: a queue it removes takes
 * its setting along, and restoring the count brings it back with the
 * default. */
int il_nic_set(const char *dev, enum il_et_kind kind, const struct il_et *val,
	       char *err, size_t errlen);

/* The published coalescing cases. "adaptive": adaptive-rx and adaptive-tx
 * on. "off" (no coalescing): adaptive off, rx-usecs 0, rx-frames 1 (an
 * interrupt per packet; both 0 is not allowed). Only fields the device
 * reports are set; a device that has none of a preset's fields gets the
 * "does not support" sentence. */
enum il_coalesce_preset { IL_COALESCE_LEAVE, IL_COALESCE_ADAPTIVE,
			  IL_COALESCE_OFF };
extern const char *const il_coalesce_preset_names[];	/* "leave", ... */
/* The values preset p sets on a device whose current coalescing is cur
 * (from il_nic_get): 0, or -EOPNOTSUPP with the sentence in err. */
int il_nic_preset(const char *dev, enum il_coalesce_preset p,
		  const struct il_et *cur, struct il_et *val,
		  char *err, size_t errlen);

/* Sets n queues: combined channels where the device has them, else rx and
 * tx channels (veth), through il_nic_set. */
int il_nic_set_queues(const char *dev, uint32_t n, char *err, size_t errlen);

/* --- queues, IRQs, RPS ---------------------------------------------------- */

#define IL_NIC_QMAX 256

/* One rx queue and where its interrupt goes. */
struct il_nic_queue {
	int index;
	uint32_t napi_id;		/* 0: none known */
	int irq;			/* -1: none found (veth, tap) */
	char irq_from[20];		/* "napi" or "/proc/interrupts" */
	char irq_name[48];		/* its /proc/interrupts name, "" */
	char affinity[64];		/* smp_affinity_list, "" unknown */
	char rps[80];			/* rps_cpus (hex mask), "" unknown */
};

/* Lists the rx queues of dev (from /sys/class/net/DEV/queues), each with
 * its IRQ: the netdev family's napi irq where the driver reports one, else
 * the /proc/interrupts line named after the device whose trailing number is
 * the queue index. Returns the count or -errno. */
int il_nic_queues(const char *dev, struct il_nic_queue *out, int max,
		  char *err, size_t errlen);

/* Pins IRQ irq to the CPUs in cpulist ("3", "0-1") through
 * /proc/irq/N/smp_affinity_list, old value recorded first. A managed IRQ
 * (the kernel spreads it; writes fail with EIO) is refused in words. */
int il_nic_irq_pin(int irq, const char *cpulist, char *err, size_t errlen);

/* Writes rx queue rxq's rps_cpus ("0" = RPS off), old value recorded. */
int il_nic_rps_set(const char *dev, int rxq, const char *mask,
		   char *err, size_t errlen);

/* The pid of a running irqbalance, 0 if none: it rewrites IRQ affinity
 * behind our back, so a case that pins IRQs needs it stopped first. */
int il_nic_irqbalance_pid(void);

/* Prefix for every /proc and /sys path ("" = the real ones): the unit
 * tests point it at a fake tree in a temp dir. */
void il_nic_set_root(const char *root);

/* --- a whole case -------------------------------------------------------- */

/* The NIC settings of one experiment case. Zero fields are left alone. */
struct il_nic_case {
	uint32_t queues;		/* channels (il_nic_set_queues) */
	uint32_t rx_ring, tx_ring;	/* ring sizes */
	enum il_coalesce_preset coalesce;
	const int *irq_cpus;		/* queue i's IRQ -> irq_cpus[i % n] */
	int n_irq_cpus;
	bool rps_off;			/* rps_cpus 0 on every rx queue */
	/* Fields by hand (val.have set): channels and rings after queues
	 * and ring sizes above, coalescing over the preset's values. */
	struct il_et set[IL_ET_KINDS];
};

/* Applies c to dev in the order the hardware needs (channels, rings,
 * coalescing, then IRQs and RPS of the queues that exist afterwards),
 * every old value recorded before its change. On error the changes made so
 * far stay recorded (il_nic_restore_all undoes them). */
int il_nic_apply(const char *dev, const struct il_nic_case *c,
		 char *err, size_t errlen);

/* The driver behind a device, as `ethtool -i` shows it ("" where it
 * reports nothing: a veth has no firmware or bus). */
struct il_nic_drvinfo {
	char driver[32], version[32], firmware[32], bus_info[32];
};
/* Reads it (the ETHTOOL_GDRVINFO ioctl: the netlink family has no such
 * message). 0, or -errno with the reason in err. */
int il_nic_drvinfo(const char *dev, struct il_nic_drvinfo *out, char *err,
		   size_t errlen);

/* Everything `irqlab nic show` reports about dev. */
struct il_nic_state {
	char dev[16];
	struct il_nic_drvinfo drv;	/* all "" when unreadable */
	int err[IL_ET_KINDS];		/* 0, or -errno (-EOPNOTSUPP: none) */
	struct il_et et[IL_ET_KINDS];
	int nqueues;
	struct il_nic_queue q[IL_NIC_QMAX];
};
int il_nic_read(const char *dev, struct il_nic_state *s, char *err,
		size_t errlen);
/* One JSON object, no newline: {"dev": .., "coalesce": {"rx-usecs": 8,
 * ...} or null, "channels": .., "rings": .., "queues": [{"queue": 0,
 * "irq": 45, ...}]}. */
void il_nic_print_json(FILE *f, const struct il_nic_state *s);

/* --- save and restore ---------------------------------------------------- */

/* Restores every recorded value, newest first (idempotent, async-signal-
 * safe). Returns 0 or the first -errno; a device or IRQ that is gone is not
 * an error. */
int il_nic_restore_all(void);
/* Forgets the records, here and the guard's file and command records of
 * this process: the settings stay after exit (`set` without --hold). */
void il_nic_keep_all(void);
/* Restores at exit and on SIGINT/SIGTERM/SIGHUP through the library's
 * signal owner (irqlab/signals.h), which then lets the process die of it. */
void il_nic_restore_on_exit(void);
int il_nic_saved_count(void);
/* The i-th record (oldest first): an ethtool kind of one device (old.have:
 * the fields it puts back) or one file's old content. 0, or -1 past the
 * end. */
#define IL_NIC_FILE IL_ET_KINDS
struct il_nic_rec {
	int type;			/* IL_ET_* or IL_NIC_FILE */
	int ifindex;
	char dev[16];
	struct il_et old;
	char path[112];
	char content[200];
};
int il_nic_saved(int i, struct il_nic_rec *out);
/* The i-th record (oldest first) as the command that puts it back:
 * "irqlab nic set --dev tp0 --rx-frames 0", "echo 0-1 >
 * /proc/irq/45/smp_affinity_list". 0, or -1 past the end. */
int il_nic_saved_undo(int i, char *buf, size_t len);

/* --- wire level: one small function per ethtool message, public for the
 * unit tests (no kernel needed) ------------------------------------------ */
struct nlmsghdr;
struct nlmsghdr *il_et_coalesce_get_req(void *buf, uint16_t family,
					uint32_t seq, int ifindex);
struct nlmsghdr *il_et_coalesce_set_req(void *buf, uint16_t family,
					uint32_t seq, int ifindex,
					const struct il_et *val);
struct nlmsghdr *il_et_channels_get_req(void *buf, uint16_t family,
					uint32_t seq, int ifindex);
struct nlmsghdr *il_et_channels_set_req(void *buf, uint16_t family,
					uint32_t seq, int ifindex,
					const struct il_et *val);
struct nlmsghdr *il_et_rings_get_req(void *buf, uint16_t family,
				     uint32_t seq, int ifindex);
struct nlmsghdr *il_et_rings_set_req(void *buf, uint16_t family,
				     uint32_t seq, int ifindex,
				     const struct il_et *val);
/* The family's command and attribute names for the IRQLAB_NL_DEBUG dump. */
const struct il_nl_names *il_et_names(void);
/* The request of kind k (get or set), for callers that hold a kind. */
struct nlmsghdr *il_et_req(void *buf, uint16_t family, uint32_t seq,
			   enum il_et_kind k, bool set, int ifindex,
			   const struct il_et *val);

/* Parses a get reply of kind k: 0, or -EBADMSG (malformed, or another
 * message). *ifindex gets the device the reply is about. */
int il_et_parse(const struct nlmsghdr *nlh, enum il_et_kind k,
		struct il_et *out, int *ifindex);

/* The attribute type at byte offset off of request req (the extended ack's
 * NLMSGERR_ATTR_OFFS), or -1. */
int il_et_attr_at(const struct nlmsghdr *req, uint32_t off);

/* The sentence for err from a get or set of kind k on dev; st (may be NULL)
 * carries the kernel's words and the offset of a rejected attribute in req
 * (may be NULL). */
void il_et_strerror(int err, enum il_et_kind k, bool set, const char *dev,
		    const struct il_nl_status *st, const struct nlmsghdr *req,
		    char *buf, size_t len);

#endif
