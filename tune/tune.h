/* irqlab tune: the cheapest interrupt-handling settings that keep a latency
 * target (docs/tune.md). The pieces, one file each:
 *   objective.c  --qps/--max-qps, --slo pXX<=T, --cpu<=N
 *   space.c      the candidates: default grid, --space, --candidates FILE,
 *                and the commands that apply one to a real server
 *   stats.c      means, confidence intervals (Student t), decisions
 *   search.c     successive halving, then repeats of the leaders until
 *                their intervals separate or the budget ends
 *   simback.c    backend: irqlab-sim in-process, on every core
 *   measure.c    backend: the bench's veth world (bench/bench.h), measured
 *   output.c     the recommendation, tune.json, report.md, the plot
 *   cmd.c        `irqlab tune`'s options and the run
 * The search talks to a backend only through struct tune_backend, so the
 * unit tests drive it with synthetic backends whose optimum is known. */
#ifndef IRQLAB_TUNE_H
#define IRQLAB_TUNE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "irqlab/mode.h"
#include "irqlab/result.h"

/* ---- objective ---------------------------------------------------------- */

enum tune_goal { GOAL_MIN_CPU, GOAL_MAX_QPS };
enum tune_pct { PCT_P50, PCT_P95, PCT_P99, PCT_P999, PCT_N };
extern const char *const tune_pct_names[PCT_N];	/* "p50", ... "p999" */

struct tune_objective {
	enum tune_goal goal;
	double qps;		/* GOAL_MIN_CPU: the rate to sustain */
	enum tune_pct pct;	/* which latency percentile */
	double slo_us;		/* pct <= slo_us */
	double cpu_cap;		/* busy % that must not be exceeded; NAN none */
	double rate_ok;		/* achieved/target that counts as achieved (0.95) */
};

/* "p99<=200us" (also "<", ms/us/ns/s, bare number = us). 0 or -1 + err. */
int tune_parse_slo(const char *s, struct tune_objective *o, char *err, size_t len);
/* "60" or "<=60" (percent busy, 1..100). */
int tune_parse_cpu(const char *s, struct tune_objective *o, char *err, size_t len);
/* "p99 <= 200 us at 600000 req/s, CPU <= 60%" */
void tune_objective_str(const struct tune_objective *o, char *buf, size_t len);

/* ---- candidates --------------------------------------------------------- */

/* NIC coalescing of a candidate; where the device has none, only TC_AS_IS. */
enum tune_coal { TC_AS_IS, TC_ADAPTIVE, TC_OFF, TC_STATIC };

struct tune_cand {
	char label[12];		/* "c007": the mode field of tune.json rows */
	char spec[160];		/* the exact --mode spec */
	struct il_mode mode;
	enum tune_coal coal;
	uint32_t rx_usecs, rx_frames;	/* TC_STATIC */
	char nic[40];		/* "as configured", "adaptive", "off", "static 8us/128" */
	/* search state */
	int alive;		/* still in the race */
	int out_round;		/* round it was eliminated in, -1 */
	char why[96];		/* why it lost, for the report */
	double rate;		/* GOAL_MAX_QPS: highest rate found to hold */
	double rate_lo, rate_hi;	/* ... bracket of the bisection */
};

struct tune_space {
	struct tune_cand *c;
	int n, cap;
	bool nic_coalesce;	/* the device has coalescing (grid includes it) */
	char note[160];		/* e.g. why the NIC dimension is missing */
};

/* The default grid (docs/tune.md), narrowed by --space lists ("KNOB=V1,V2";
 * KNOB is mode, one of mode.h's knobs, or coalesce). 0 or -1 + err. */
int tune_space_default(struct tune_space *s, const char *const *narrow, int nnarrow,
		       bool nic_coalesce, char *err, size_t len);
/* One mode spec per line, optionally followed by " nic=adaptive|off|as-is|
 * static:8us/128"; '#' comments, blank lines skipped. */
int tune_space_file(struct tune_space *s, const char *path, char *err, size_t len);
/* Adds one candidate (dedupes equal settings); 1 added, 0 duplicate, -1 err. */
int tune_space_add(struct tune_space *s, const char *spec, const char *nic,
		   char *err, size_t len);
void tune_space_free(struct tune_space *s);
/* The spec in canonical form from a mode (only knobs that differ from the
 * preset are written). */
void tune_mode_spec(const struct il_mode *m, char *buf, size_t len);
/* The commands that apply a candidate to a server on dev (shell lines). */
void tune_apply_commands(FILE *f, const struct tune_cand *c, const char *dev,
			 const char *indent);

/* ---- observations and backends ------------------------------------------ */

struct tune_job {
	int cand;		/* index in the space */
	double qps;		/* open-loop target; 0 = closed loop (max) */
	double run_s;		/* measured length (sim: simulated seconds) */
	uint64_t seed;
	int round;		/* search round, for the record */
	/* filled by the backend */
	struct il_result r;
	double p999_us;
	double wall_s;		/* what the job cost */
	int rc;
	char err[200];
};

struct tune_backend {
	const char *source;	/* "simulated" or "measured" */
	double full_s;		/* run length of a full run */
	double short_s;		/* run length of the first round */
	int max_reps;		/* repeats of one candidate at most */
	int parallel;		/* jobs run at once */
	/* Runs n jobs (in any order, maybe at once); each sets rc/err.
	 * Returns -1 only when the whole tune must stop (interrupted, the
	 * world broke), with err. */
	int (*run)(void *ctx, const struct tune_space *s, struct tune_job *jobs, int n,
		   char *err, size_t len);
	/* Wall seconds one job of run_s is expected to take. */
	double (*estimate)(void *ctx, const struct tune_job *j);
	void *ctx;
};

/* ---- statistics --------------------------------------------------------- */

/* Two-sided quantile of Student's t for confidence conf (0.95) with df. */
double tune_t_quantile(double conf, int df);

struct tune_ci { double mean, lo, hi; int n; };
/* Mean and conf interval of x[0..n-1]; n < 2: lo = -inf, hi = +inf. */
struct tune_ci tune_ci(const double *x, int n, double conf);
/* The same on log(x) (latencies: skewed, multiplicative noise), back in x. */
struct tune_ci tune_ci_log(const double *x, int n, double conf);

/* One latency percentile of an observation (us), NAN if unknown. */
double tune_obs_lat(const struct tune_job *j, enum tune_pct p);
double tune_obs_cpu(const struct tune_job *j);	/* busy % */

/* ---- the search --------------------------------------------------------- */

enum tune_verdict { V_WINNER, V_TIE, V_INFEASIBLE, V_NONE };

struct tune_summary {
	int cand;		/* index */
	struct tune_ci lat, cpu, qps;
	int n;
	double run_s;		/* the run length these are of */
	int rate_missed;	/* reps whose achieved rate missed the target */
	bool feasible_sure, infeasible_sure;
};

struct tune_run {
	/* inputs */
	const struct tune_objective *obj;
	struct tune_space *space;
	const struct tune_backend *be;
	double conf;		/* 0.95 */
	double budget_s;	/* wall seconds for the whole search */
	int eta;		/* survivors per round: 1/eta */
	int leaders;		/* how many go to the repeat phase */
	uint64_t seed;
	bool progress;		/* a progress line on stderr */
	bool exhaustive;	/* no halving: every candidate gets MIN_REPS full
				 * runs, then one leader decision (the baseline
				 * the halving's cost is measured against) */
	volatile int *stop;	/* set asynchronously: end soon, report */
	/* every job run, in order */
	struct tune_job *jobs;
	int njobs, capjobs;
	/* outcome */
	enum tune_verdict verdict;
	int best, second;	/* candidates, -1 */
	int tied[32], ntied;	/* with V_TIE: indistinguishable from best */
	int closest;		/* V_INFEASIBLE: lowest latency */
	struct tune_summary sbest, ssecond, sclosest;
	int rounds;
	double elapsed_s;
	bool budget_hit, interrupted;
	char why_stop[160];
	double t0;
};

/* Runs the search. 0, or -1 with err when the backend failed for good
 * (an interrupted search returns 0 with interrupted set and what it had). */
int tune_search(struct tune_run *r, char *err, size_t len);
void tune_run_free(struct tune_run *r);
/* Statistics of candidate c over its jobs of length run_s at rate qps
 * (qps < 0: every rate; run_s 0: the longest length it has). */
struct tune_summary tune_summarize(const struct tune_run *r, int c, double run_s);
/* The plan: rounds, jobs, estimated duration (for --dry-run and the start). */
double tune_plan(const struct tune_run *r, FILE *f);

/* ---- backends ----------------------------------------------------------- */

/* simback.c: irqlab-sim in-process on `threads` threads. The config is the
 * experiment file; sets are extra "section.key=value" overrides. */
struct tune_sim;
struct tune_sim *tune_sim_new(const char *config, const char *const *sets, int nsets,
			      int threads, double noise_pct, char *err, size_t len);
void tune_sim_backend(struct tune_sim *s, struct tune_backend *be);
void tune_sim_free(struct tune_sim *s);
/* The experiment's description for the report (cores, GHz, NIC). */
const char *tune_sim_describe(const struct tune_sim *s);

/* measure.c: the bench's veth world, one server per candidate. */
struct tune_meas_cfg {
	double run_s, short_s, warmup_s;
	int srv_cpu, cli_cpu;
	int connections;	/* 0: sized for qps */
	double qps;		/* the target rate; 0 with --max-qps */
	const char *server;	/* "kv" or "memcached" */
	const char *out_dir;	/* logs */
	volatile int *stop;
};
struct tune_meas;
struct tune_meas *tune_meas_new(const struct tune_meas_cfg *c, char *err, size_t len);
void tune_meas_backend(struct tune_meas *m, struct tune_backend *be);
/* Tears the world down (also on SIGINT); idempotent. */
void tune_meas_free(struct tune_meas *m);
/* "veth pair in namespaces, server irqlab-kv on CPU 1, load on CPU 0" */
const char *tune_meas_describe(const struct tune_meas *m);

/* ---- output ------------------------------------------------------------- */

struct tune_out {
	const char *dir;	/* NULL: terminal only */
	const char *cmdline;
	const char *setup;	/* backend's description */
	const char *dev;	/* device in the apply commands ("DEV") */
	const char *remeasure;	/* extra text: the re-measurement */
};

/* The recommendation on f (terminal). */
void tune_print(FILE *f, const struct tune_run *r, const struct tune_out *o);
/* Measured runs flagged as disturbed by other processes, and the median
 * share of a core those took (NAN when none). */
int tune_noisy_runs(const struct tune_run *r, double *median_noise);
/* tune.json (result rows), candidates.tsv, tune.gp + tune.png, report.md. */
int tune_write_dir(const struct tune_run *r, const struct tune_out *o, char *err,
		   size_t len);

/* cmd.c */
int tune_main(int argc, char **argv);

#endif
