/* irqlab-load's result as a typed struct: the one JSON writer (what
 * `irqlab-load --json` prints) and the one reader (what `irqlab bench` and the
 * multi-host runs use instead of scanning the text). Built on jansson; the
 * schema is in docs/load.md.
 *
 * Schema versions (the "schema" key): 1 = the first release; 2 adds
 * "histograms" (every distribution's buckets, so summaries from several
 * processes or hosts merge exactly) and "checks". The reader takes 1 and 2;
 * what a version lacks is left unknown (NULL histograms, no checks). New keys
 * are only ever added, never renamed: a reader ignores keys it does not know.
 *
 * Latencies and times in the JSON are in microseconds (seconds where the
 * key says _s); in the struct the same units, NAN when unknown. */
#ifndef IRQLAB_LOAD_SUMMARY_H
#define IRQLAB_LOAD_SUMMARY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "irqlab/hist.h"
#include "irqlab/load_opts.h"

#define IL_LOAD_SCHEMA 2

enum il_load_op { IL_OP_GET, IL_OP_SET, IL_NOPS };

/* How a latency was measured: from the scheduled send time (corrected: no
 * coordinated omission) or the actual send (uncorrected: what mutilate
 * reports); the reply stamped in user space when the generator saw it, or by
 * the kernel when the stack received it (kernel_*: not inflated by a late
 * wake-up). JSON names: corrected, uncorrected, kernel_corrected,
 * kernel_uncorrected. A kind with count 0 was not measured. */
enum il_load_lat {
	IL_LAT_CORRECTED, IL_LAT_UNCORRECTED,
	IL_LAT_KERNEL, IL_LAT_KERNEL_UNCORRECTED,
	IL_NLATS
};

/* The percentiles every distribution reports: p50 p90 p95 p99 p999. */
#define IL_LOAD_NQ 5
extern const double il_load_q[IL_LOAD_NQ];
extern const char *const il_load_qname[IL_LOAD_NQ];

/* One distribution, in microseconds. */
struct il_load_stat {
	uint64_t count;
	double min, mean, max;
	double p[IL_LOAD_NQ];		/* at il_load_q */
	/* confidence interval of each percentile at the summary's ci_level;
	 * NAN where none was computed */
	double ci_lo[IL_LOAD_NQ], ci_hi[IL_LOAD_NQ];
};

/* A self-check of the measurement (stationarity, inter-arrival fit, schedule
 * keeping, CI width): the statistic, the limit it was held to, and a
 * sentence (printed as a warning when it failed). */
#define IL_LOAD_MAX_CHECKS 8
struct il_load_check {
	char name[32];
	int ok;				/* 1 passed, 0 failed, -1 could not run */
	double stat, limit;
	char detail[200];
};

struct il_load_config {
	char servers[IL_LOAD_MAX_SERVERS][272];
	int nservers;
	unsigned threads, conns, depth;	/* conns: per thread */
	int open;			/* open loop (target_qps > 0) */
	double target_qps;
	char iadist[IL_LOAD_SPEC], keysize[IL_LOAD_SPEC], valuesize[IL_LOAD_SPEC];
	char popularity[IL_LOAD_SPEC];
	char protocol[8];		/* text | meta */
	char engine[8];			/* uring | epoll */
	char timestamps[8];		/* off | sw | hw (schema 2) */
	unsigned batch;			/* replies per wake-up (schema 2) */
	uint64_t records;
	double update, time_s, warmup_s;
	uint64_t seed;
	double start_at;		/* --start-at, unix s; NAN: not given */
};

#define IL_LOAD_MAX_WARNINGS 16
struct il_load_summary {
	int schema;			/* as read; the writer writes IL_LOAD_SCHEMA */
	struct il_load_config config;
	double duration_s, qps, target_qps, achieved_ratio;
	/* wall-clock time (unix s) the load started (warm-up included): with
	 * --start-at, that instant unless the generator woke late; NAN in
	 * summaries that predate it */
	double started_at;
	struct {			/* the measured window */
		uint64_t gets, sets, misses, errors, set_failed, sent;
	} requests;
	struct {			/* the whole run: equals the server's stats */
		uint64_t gets, sets, misses, errors, set_failed, protocol_errors;
		uint64_t unanswered, unsent, connection_errors;
	} totals;
	struct il_load_stat lat[IL_NOPS][IL_NLATS];
	struct {
		double late_threshold_us, spin_us;
		uint64_t late_sends;
		struct il_load_stat send_lag;
	} schedule;
	struct {			/* kernel receive stamps (schema 2) */
		uint64_t stamped, unstamped;	/* replies with / without */
		/* how much later user space saw a reply than the kernel got
		 * it: what kernel stamps take out of the latency */
		struct il_load_stat rx_delay;
		/* --tx-stamps: requests with the kernel's send stamp, and how
		 * much later than the user-space stamp the kernel sent them */
		uint64_t tx_stamped;
		struct il_load_stat tx_delay;
		double clock_step_us;	/* REALTIME-MONOTONIC change in the run */
	} timestamps;
	struct {
		double cpu_user_s, cpu_sys_s, cpu_s, cpu_util, cpu_cores;
		double cpu_us_per_request, syscalls_per_request;
		uint64_t syscalls, bytes_rx, bytes_tx;
		int fell_behind, below_target;
	} generator;
	char warnings[IL_LOAD_MAX_WARNINGS][200];
	int nwarnings;
	double ci_level;		/* e.g. 0.95; NAN without intervals */
	struct il_load_check checks[IL_LOAD_MAX_CHECKS];
	int nchecks;
	/* The distributions' buckets (owned; NULL when not known, e.g. read
	 * from schema 1): what makes merging across hosts exact. */
	struct il_hist *hist[IL_NOPS][IL_NLATS];
	struct il_hist *lag_hist;
};

/* Zeroes s (unknown figures NAN, no histograms). */
void il_load_summary_init(struct il_load_summary *s);
/* Frees the histograms. */
void il_load_summary_free(struct il_load_summary *s);
/* The config section from the options (engine: the one that ran). */
void il_load_summary_config(struct il_load_summary *s, const struct il_load_opts *o,
			    enum il_load_engine engine);
/* count, min, mean, max and the percentiles of h, in microseconds (the CI
 * fields are left as they are). */
void il_load_stat_from_hist(struct il_load_stat *st, const struct il_hist *h);
/* Adds a warning (dropped beyond IL_LOAD_MAX_WARNINGS). */
void il_load_summary_warn(struct il_load_summary *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The latency to quote for an op: kernel_corrected where the kernel stamped
 * replies, else corrected. */
const struct il_load_stat *il_load_summary_latency(const struct il_load_summary *s,
						   enum il_load_op op);
/* JSON names of ops and latency kinds. */
extern const char *const il_load_op_name[IL_NOPS];
extern const char *const il_load_lat_name[IL_NLATS];

/* Writes s as JSON (one top-level key per line). 0, or -1 on a write error
 * or out of memory. */
int il_load_summary_write(FILE *f, const struct il_load_summary *s);
/* Reads a summary written by any irqlab-load of schema 1..IL_LOAD_SCHEMA.
 * 0, or -1 with "line N: why" (why names the key path, e.g.
 * "latency_us.get.corrected.p99: not a number") in err. On error s is left
 * freed (nothing to release). */
int il_load_summary_read(const char *text, struct il_load_summary *s, char *err, size_t len);
int il_load_summary_read_file(const char *path, struct il_load_summary *s, char *err,
			      size_t len);

/* HdrHistogram's percentile distribution (.hgrm, the "classic" table that
 * HdrHistogram_c's hdr_percentiles_print, wrk2 and HdrHistogram's plotter
 * use): rows at HdrHistogram's percentile steps (ticks_per_half_distance
 * per halving of the distance to 100%; wrk2 uses 5), values in units of
 * unit_ns (1000: microseconds) as each bucket's highest value, then the
 * Mean/Max/Buckets footer. 0, or -1 on a write error. */
int il_load_hgrm(FILE *f, const struct il_hist *h, int ticks_per_half_distance, double unit_ns);
/* --hdr: every request's latency (gets and sets), kernel-stamped where the
 * kernel stamped replies, from the scheduled send; microseconds. -1 without
 * histograms. */
int il_load_summary_hgrm(FILE *f, const struct il_load_summary *s);

#endif
