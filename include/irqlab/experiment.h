/* The experiment description shared by `irqlab bench` (run for real) and
 * irqlab-sim (modelled): machine, NIC, kernel knobs, mode, workload, run
 * length and, for the simulator, the cost model. Read from a config file of
 * `key = value` lines grouped in [sections] (docs/sim.md documents every
 * key), and overridden key by key from the command line ("section.key=val").
 *
 * Units: times in ns (suffixes ns/us/ms/s accepted), rates per second,
 * costs in instructions, penalties in cycles. */
#ifndef IRQLAB_EXPERIMENT_H
#define IRQLAB_EXPERIMENT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "irqlab/dist.h"
#include "irqlab/mode.h"

enum il_coalesce { IL_COAL_STATIC, IL_COAL_ADAPTIVE };
/* Where queue i's device interrupt (and its softirq) runs: app core i, a
 * core without an app thread, or a core outside the server (a veth pair:
 * the sender's CPU schedules the receiver's NAPI); that core is simulated
 * but not reported. */
enum il_affinity { IL_AFF_ALIGNED, IL_AFF_PACKED, IL_AFF_REMOTE };
/* Threaded NAPI: polls run in a per-NAPI kthread instead of softirq, on the
 * app core of its queue (aligned) or on another core (separate). */
enum il_napi_thread { IL_NT_NONE, IL_NT_ALIGNED, IL_NT_SEPARATE };
enum il_load_kind { IL_LOAD_CLOSED, IL_LOAD_OPEN };

/* Cost model parameters (docs/sim.md, "Cost model"). Instruction counts are
 * per operation; pollution penalties are cycles added to the work that runs
 * next on the interrupted core, with no instructions retired. */
struct il_cost {
	double ipc0;		/* IPC of unpolluted work */
	double ipc_spin;	/* IPC of an empty polling loop */
	double sys_req;		/* recv + send syscalls, per request */
	double epoll;		/* one epoll_wait call (entry, exit, copy) */
	double rx_pkt;		/* driver + IP/TCP + socket queue, per packet */
	double poll;		/* one napi->poll call, fixed part */
	double irq;		/* hard IRQ entry, handler, exit */
	double softirq;		/* softirq entry/exit, net_rx_action fixed part */
	double wake;		/* try_to_wake_up, paid by the waker */
	double cs;		/* context switch out + in, paid by the sleeper */
	double timer;		/* hrtimer interrupt (napi watchdog) */
	double arm;		/* hrtimer_start from a syscall (suspend, busy poll stop) */
	double pen_async;	/* cycles: pollution an interruption leaves the app */
	double pen_kern;	/* cycles: cold caches met by an interrupt's own path */
	double pen_pkt;		/* cycles: extra pollution per packet it processed */
	double pen_wake;	/* cycles: pollution after sleeping (cold caches) */
};

struct il_experiment {
	char name[64];
	char source_note[128];		/* where the setup comes from */
	/* [machine] */
	int cores;			/* server cores, one app thread each */
	double freq_ghz;
	/* [nic] */
	int queues;			/* receive queues, one MSI-X vector each */
	int ring_size;			/* descriptors per receive ring */
	enum il_coalesce coalesce;
	uint64_t rx_usecs;		/* ns internally; static coalescing */
	uint32_t rx_frames;
	enum il_affinity affinity;	/* IRQ cores: with the app or apart */
	/* [kernel] */
	int napi_weight;		/* 64 */
	int netdev_budget;		/* 300 */
	uint64_t netdev_budget_usecs;	/* 2 ms, ns internally */
	int maxevents;			/* epoll_wait maxevents of the app */
	uint64_t sched_slice_ns;	/* EEVDF base slice; 0 = the kernel's
					 * 0.75 ms x (1 + log2(min(cores, 8))) */
	/* [napi] */
	enum il_napi_thread threaded;
	/* [mode] */
	struct il_mode mode;
	char mode_spec[128];
	/* [workload] */
	enum il_load_kind load;
	int conns, depth;		/* closed loop: outstanding = conns*depth */
	double qps;			/* open loop target */
	char ia_spec[64];		/* open loop inter-arrival: exponential, fb_ia */
	struct il_dist ia;
	char service_spec[64];		/* user instructions per request */
	struct il_dist service;
	uint64_t wire_ns;		/* one way: client stack + wire + NIC */
	/* [run] */
	uint64_t time_ns, warmup_ns;
	uint64_t seed;
	/* [cost] */
	struct il_cost cost;
};

/* Defaults: the thesis machine (8 cores, 3 GHz, 25G NIC), base mode,
 * closed loop 256 x 1, calibrated cost model. */
void il_exp_defaults(struct il_experiment *e);

/* Sets "section.key" (or a bare key when unique) to a value. Returns -1 and a
 * one-line message naming the key and its allowed range on error. */
int il_exp_set(struct il_experiment *e, const char *key, const char *val,
	       char *err, size_t errlen);

/* Reads a config file on top of *e. Errors name the file and line. */
int il_exp_load(struct il_experiment *e, const char *path, char *err,
		size_t errlen);
/* Same, from a string (tests, built-in calibration setups). */
int il_exp_load_string(struct il_experiment *e, const char *text,
		       const char *what, char *err, size_t errlen);

/* Cross-key checks, and derived fields (parsed mode and distributions). */
int il_exp_finish(struct il_experiment *e, char *err, size_t errlen);

/* Writes the full description back as a config file (round-trips). */
void il_exp_write(FILE *f, const struct il_experiment *e);

/* Prints every key with its section, unit and range (for --help-config). */
void il_exp_keys_help(FILE *f);

#endif
