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

/* static: an interrupt rx_usecs after the first completion or at
 * rx_frames (mlx5 CQ moderation); adaptive: net_dim; itr: at most one
 * interrupt per rx_usecs (an interrupt throttle rate, ixgbe's EITR). */
enum coalesce { COAL_STATIC, COAL_ADAPTIVE, COAL_ITR };
/* Where queue i's device interrupt (and its softirq) runs: app core i, a
 * core without an app thread, or a core outside the server (a veth pair:
 * the sender's CPU schedules the receiver's NAPI); that core is simulated
 * but not reported. */
enum affinity { AFF_ALIGNED, AFF_PACKED, AFF_REMOTE };
/* Threaded NAPI: polls run in a per-NAPI kthread instead of softirq, on the
 * app core of its queue (aligned) or on another core (separate). */
enum napi_thread { NT_NONE, NT_ALIGNED, NT_SEPARATE };
enum load_kind { LOAD_CLOSED, LOAD_OPEN };
/* What the app thread does: memcached (request in, reply out), a UDP sink
 * (packets in at a rate, no replies), or a CPU-bound loop (never sleeps)
 * beside UDP packets received in softirq and dropped at the socket. */
enum app_kind { APP_MEMCACHED, APP_UDP_SINK, APP_CPU_LOOP };

/* The virtualization layer (docs/sim.md, "Virtual machines"): the server
 * runs in a guest whose app vCPUs are the model's cores, pinned 1:1 on host
 * cores; the guest NIC is VirtIO (vhost-net on the host), an SR-IOV VF or a
 * passthrough device; virtual interrupts are delivered emulated, posted or
 * directly (DID). */
enum vm_nic { VMNIC_NONE, VMNIC_VIRTIO, VMNIC_SRIOV, VMNIC_PASSTHROUGH };
enum vm_delivery { DELIV_EMULATED, DELIV_POSTED, DELIV_DID };
enum vm_vhost { VHOST_ALIGNED, VHOST_PACKED };
enum vm_idle { VIDLE_HALT, VIDLE_POLL };
/* The host scheduler between a vCPU thread and a vhost worker on one core:
 * EEVDF's slice protection (6.6+), or CFS, whose sleeper credit lets a
 * woken vhost worker preempt the CPU-bound vCPU thread at once. */
enum vm_sched { VSCHED_EEVDF, VSCHED_CFS };
/* Where the host takes an assigned device's (VF, passthrough) physical
 * interrupt with emulated delivery: on the target vCPU's host core, or
 * spread over the host's cores (the kernel's vector allocator; with every
 * host core running a vCPU, another vCPU exits for it and the host IPIs the
 * target). */
enum vm_host_irq { HIRQ_SPREAD, HIRQ_TARGET };

/* VM costs. Exit service times are host ns per exit (exit, handling, entry),
 * as measured (DID paper); per-packet host work is instructions at the
 * host's ipc0. */
struct vm_cost {
	double exit_extint;	/* ns: external interrupt (or NMI, DID) exit */
	double exit_eoi;	/* ns: x2APIC EOI MSR write exit */
	double exit_hlt;	/* ns: HLT exit */
	double exit_io;		/* ns: virtqueue kick (MMIO/PIO write, ioeventfd) */
	double exit_timer;	/* ns: TSC-deadline MSR write (arming a timer) */
	double exit_ipi;	/* ns: ICR MSR write (sending an IPI) */
	double wake;		/* ns: a halted vCPU woken: host wake-up + VM entry */
	double pen_exit;	/* cycles: pollution an exit leaves the guest
				 * code that runs next */
	double pen_exit_app;	/* cycles: ... and the app thread, when it
				 * next runs (its own cache lines) */
	double ipc;		/* guest IPC relative to bare metal (nested paging) */
	double host_rx_pkt;	/* host driver + bridge + tap, per packet */
	double vhost_rx_pkt;	/* vhost: tap -> guest rx virtqueue, per packet */
	double vhost_tx_pkt;	/* vhost: guest tx virtqueue -> tap -> NIC */
	double vhost_run;	/* vhost worker: one pass (work item, switch) */
	double signal;		/* vhost_signal: eventfd -> irqfd -> injection */
	double bigbuf;		/* guest rx refill per packet without mergeable
				 * buffers (big buffers) */
	double iotlb_passthrough, iotlb_sriov;	/* ns of DMA per packet */
};

struct vm_conf {
	enum vm_nic nic;
	enum vm_delivery delivery;
	int vcpus;			/* guest vCPUs; the app ones (machine.cores,
					 * alias vm.app_cores) are simulated */
	enum vm_vhost vhost;		/* host NIC IRQs + vhost: app cores or own */
	int host_irq_cores;		/* packed: host cores for IRQs + vhost */
	enum vm_idle idle;		/* guest idle: HLT, or poll (idle=poll) */
	enum vm_sched host_sched;
	enum vm_host_irq host_irq;	/* sriov/passthrough, emulated */
	int queue_size;			/* virtio: virtqueue descriptors */
	uint32_t rx_frames;		/* virtio: rx coalescing frames max */
	uint64_t rx_usecs;		/* virtio: rx coalescing timeout, ns */
	int mergeable;			/* virtio: mergeable rx buffers */
	int napi_tx;			/* virtio: tx completions by interrupt + NAPI */
	struct vm_cost cost;
};

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
	double tx_cqe;		/* reaping one transmit completion (unmap, free) */
	double rx_udp;		/* driver + IP/UDP + socket queue, per packet */
	double sys_udp;		/* one recvmsg of a UDP sink */
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
	/* transmit completions (mlx5: a TX CQ per channel on the queue's
	 * vector and NAPI, its own moderation, static or net_dim) */
	int tx_irq;			/* a TX completion raises the vector */
	enum coalesce tx_coalesce;	/* static or adaptive */
	uint64_t tx_usecs;		/* ns internally; static TX moderation */
	uint32_t tx_frames;
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
	enum app_kind app;
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
	/* [vm], [virtio], [vmcost] */
	struct vm_conf vm;
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
