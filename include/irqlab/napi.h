/* NAPI and queue configuration over the generic netlink family "netdev"
 * (libmnl). Every change is recorded with the restore guard
 * (irqlab/guard.h) before it is applied, so it is undone however the
 * process ends: exit, error, any signal, SIGKILL.
 *
 * Errors come back as -errno with a sentence in err:
 *   -EPERM  "needs CAP_NET_ADMIN"
 *   -ENOENT "NAPI id N not found in this network namespace"
 *   -EOPNOTSUPP "... needs Linux 6.X for <attribute>"  (family/attr missing) */
#ifndef IRQLAB_NAPI_H
#define IRQLAB_NAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "irqlab/mode.h"

#define IL_NAPI_MAX 256

struct il_napi {
	uint32_t id;
	int ifindex;
	int irq;			/* -1 if none (veth) */
	int pid;			/* threaded NAPI kthread, -1 if none */
	bool has_defer, has_gro, has_suspend, has_threaded; /* kernel reported it */
	uint32_t defer_hard_irqs;
	uint64_t gro_flush_timeout;	/* ns */
	uint64_t irq_suspend_timeout;	/* ns */
	int threaded;			/* 0/1, -1 unknown */
};

/* What the running kernel supports, for `irqlab probe` and for skips. */
struct il_napi_support {
	bool netdev_family;		/* Linux 6.3+ */
	bool napi_get;			/* 6.8+ */
	bool napi_set;			/* 6.13+ (defer, gro) */
	bool irq_suspend;		/* 6.13+ */
	bool threaded_attr;		/* 6.17+ per-NAPI threaded attribute */
	bool epoll_params;		/* EPIOCSPARAMS, 6.9+ */
	bool queue_get;			/* 6.8+ */
	bool threaded_busy_poll;	/* threaded=2 accepted, 6.19+ */
	bool policy_known;		/* napi-set policy was readable; else
					 * the attribute flags are guesses */
	int family_err;			/* -errno of the family lookup, 0 ok */
	char kernel[65];		/* uname -r */
};

void il_napi_probe(struct il_napi_support *s);

/* Lists the NAPIs of dev (NULL = all devices of this namespace). Returns the
 * count (<= max) or -errno. */
int il_napi_list(const char *dev, struct il_napi *out, int max,
		 char *err, size_t errlen);

/* Reads one NAPI by id. */
int il_napi_get(uint32_t id, struct il_napi *out, char *err, size_t errlen);

/* Maps rx queue index -> NAPI id for dev via queue-get; rxq_napi[i] = 0 when a
 * queue has no NAPI. Returns the number of rx queues or -errno.
 * dev should be given: queue indexes of different devices
 * collide. A driver that links no queue to a NAPI (veth) but has exactly one
 * NAPI gets that NAPI for every rx queue. */
int il_queue_napi_ids(const char *dev, uint32_t *rxq_napi, int max,
		      char *err, size_t errlen);

/* Sets NAPI knobs. Fields not flagged in what are left alone. Reads the old
 * values and hands them to the restore guard first (starting it on first
 * use), so they come back at exit or with il_napi_restore_all(). */
enum { IL_SET_DEFER = 1, IL_SET_GRO = 2, IL_SET_SUSPEND = 4, IL_SET_THREADED = 8 };
int il_napi_set(uint32_t id, unsigned what, const struct il_napi *val,
		char *err, size_t errlen);

/* Applies a mode's NAPI knobs (defer, gro flush, suspend) to every NAPI of
 * dev, saving old values. Returns the number of NAPIs changed or -errno. */
int il_napi_apply_mode(const char *dev, const struct il_mode *m,
		       char *err, size_t errlen);

/* Restores every saved NAPI setting now, through the guard (idempotent;
 * async-signal-safe). 0 or the first -errno. */
int il_napi_restore_all(void);

/* One rx or tx queue from queue-get. */
struct il_queue {
	uint32_t id;
	int ifindex;
	int type;			/* IL_NETDEV_QUEUE_TYPE_RX/TX */
	uint32_t napi_id;		/* 0 = no NAPI */
};

/* Lists rx queues of dev (NULL = all devices) with their NAPI ids. */
int il_queue_list(const char *dev, struct il_queue *out, int max,
		  char *err, size_t errlen);

/* Number of NAPI ids with saved values (what il_napi_restore_all undoes). */
int il_napi_saved_count(void);
/* The i-th saved entry: old values in *old, the fields saved in *what. */
int il_napi_saved(int i, struct il_napi *old, unsigned *what);

/* Whether a kernel with support s can take this napi-set: 0, or -errno
 * with "needs Linux 6.13 for irq_suspend_timeout (running X)" and the like
 * in err. il_napi_set/apply_mode check the running kernel with it. */
int il_napi_check_support(const struct il_napi_support *s, unsigned what,
			  const struct il_napi *val, char *err, size_t errlen);

/* Forgets the saved values: what was set stays after exit (the
 * permanent `irqlab napi set` without --hold). */
void il_napi_keep_all(void);

/* Why dev has no NAPI, in words a new user understands. */
void il_napi_explain_none(const char *dev, char *buf, size_t len);

/* One NAPI as a JSON object on one line (no newline), device name
 * resolved in this namespace: {"id": .., "dev": "..", ...}. */
void il_napi_print_json(FILE *f, const struct il_napi *n);

#endif
