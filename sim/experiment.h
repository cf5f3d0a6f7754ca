/* irqlab-sim's experiment description: machine, NIC, kernel knobs, mode
 * (the mode names and knobs of libirqlab, mode.h, so a simulated run and an
 * `irqlab bench` run describe the same settings), workload, run length and
 * the cost model. Read from a config file of `key = value` lines grouped in
 * [sections] (docs/sim.md documents every key), and overridden key by key
 * from the command line ("section.key=val"). Values go through irqlab/opt.h:
 * errors name the key and what it accepts.
 *
 * Units: times in ns (suffixes ns/us/ms/s accepted), rates per second,
 * costs in instructions, penalties in cycles. */
#ifndef IRQLAB_SIM_EXPERIMENT_H
#define IRQLAB_SIM_EXPERIMENT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "irqlab/dist.h"
#include "irqlab/mode.h"

enum coalesce { COAL_STATIC, COAL_ADAPTIVE };
/* Where queue i's device interrupt (and its softirq) runs: app core i, a
 * core without an app thread, or a core outside the server (a veth pair:
 * the sender's CPU schedules the receiver's NAPI); that core is simulated
 * but not reported. */
enum affinity { AFF_ALIGNED, AFF_PACKED, AFF_REMOTE };
/* Threaded NAPI: polls run in a per-NAPI kthread instead of softirq, on the
 * app core of its queue (aligned) or on another core (separate). */
enum napi_thread { NT_NONE, NT_ALIGNED, NT_SEPARATE };
enum load_kind { LOAD_CLOSED, LOAD_OPEN };

/* Cost model parameters (docs/sim.md, "Cost model"). Instruction counts are
 * per operation; pollution penalties are cycles added to the work that runs
 * next on the interrupted core, with no instructions retired. */
struct cost {
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

struct experiment {
	char name[64];
	char source_note[128];		/* where the setup comes from */
	/* [machine] */
	int cores;			/* server cores, one app thread each */
	double freq_ghz;
	/* [nic] */
	int queues;			/* receive queues, one MSI-X vector each */
	int ring_size;			/* descriptors per receive ring */
	enum coalesce coalesce;
	uint64_t rx_usecs;		/* ns internally; static coalescing */
	uint32_t rx_frames;
	enum affinity affinity;	/* IRQ cores: with the app or apart */
	/* [kernel] */
	int napi_weight;		/* 64 */
	int netdev_budget;		/* 300 */
	uint64_t netdev_budget_usecs;	/* 2 ms, ns internally */
	int maxevents;			/* epoll_wait maxevents of the app */
	uint64_t sched_slice_ns;	/* EEVDF base slice; 0 = the kernel's
					 * 0.75 ms x (1 + log2(min(cores, 8))) */
	/* [napi] */
	enum napi_thread threaded;
	/* [mode] */
	struct il_mode mode;
	char mode_spec[128];
	/* [workload] */
	enum load_kind load;
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
	struct cost cost;
};

/* Defaults: the thesis machine (8 cores, 3 GHz, 25G NIC), base mode,
 * closed loop 256 x 1, calibrated cost model. */
void experiment_defaults(struct experiment *e);

/* Sets "section.key" (or a bare key when unique) to a value. Returns -1 and a
 * one-line message naming the key and its allowed range on error. */
int experiment_set(struct experiment *e, const char *key, const char *val,
	       char *err, size_t errlen);

/* Reads a config file on top of *e. Errors name the file and line. */
int experiment_load(struct experiment *e, const char *path, char *err,
		size_t errlen);
/* Same, from a string (tests, built-in calibration setups). */
int experiment_load_string(struct experiment *e, const char *text,
		       const char *what, char *err, size_t errlen);

/* Cross-key checks, and derived fields (parsed mode and distributions). */
int experiment_finish(struct experiment *e, char *err, size_t errlen);

/* Writes the full description back as a config file (round-trips). */
void experiment_write(FILE *f, const struct experiment *e);

/* Prints every key with its section, unit and range (for --help-config). */
void experiment_keys_help(FILE *f);

#endif
