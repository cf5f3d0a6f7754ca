/* irqlab bench internals: configuration, the world (namespaces, veth,
 * server, generator), one run, the sweep, and the outputs. */
#ifndef IRQLAB_BENCH_H
#define IRQLAB_BENCH_H

#include <signal.h>
#include <stdio.h>
#include <sys/types.h>

#include "irqlab/clock.h"
#include "irqlab/report.h"
#include "irqlab/result.h"

#define BENCH_MAX_MODES 8
#define BENCH_MAX_POINTS 16
#define BENCH_MAX_CLIENTS 8

struct bench_cfg {
	char out_dir[512];
	char server[16];		/* "kv" or "memcached" */
	char modes[BENCH_MAX_MODES][128]; /* mode specs (mode.h syntax) */
	int nmodes;
	char napi_thread[16];		/* none | aligned | separate */
	int srv_cpu, cli_cpu;
	double duration, warmup;	/* seconds per run */
	int reps;			/* closed-loop and open-loop repetitions */
	int npoints;
	double fracs[BENCH_MAX_POINTS];	/* open-loop targets, fractions of max */
	int connections, depth;
	int records;			/* keys, preloaded once per mode */
	double noise_limit;		/* % of one core taken by others */
	int noise_retries;
	int quick, full, dry_run, no_plots;
	unsigned port;
	/* where the programs are */
	char kv_bin[512], load_bin[512], shim[512], memcached_bin[512];
	/* across machines */
	char server_host[128], dev[32];
	char client_hosts[BENCH_MAX_CLIENTS][128];
	int nclients;
	char remote_bin_dir[256];
	int srv_cores, client_threads;
	int rx_usecs, rx_frames;	/* the "adaptive" case's NIC coalescing */
	double rates[BENCH_MAX_POINTS];	/* open-loop targets across machines */
	char ssh[512];			/* --ssh: the ssh command (words) */
	int install;			/* --install: copy this build where missing */
	int restore;			/* --restore: undo a run killed hard */
	int nrates;
};

extern volatile sig_atomic_t bench_stop;	/* set by SIGINT/SIGTERM */

/* bench.c: option parsing (also used by the unit tests) */
void bench_defaults(struct bench_cfg *c);
/* Returns 0, or -1 with a one-line message in err. */
int bench_parse(struct bench_cfg *c, int argc, char **argv, char *err, size_t len);
const char *bench_mode_label(const struct bench_cfg *c, int i);

/* topology.c: commands with checked exit codes, namespaces, veth */
struct topo {
	char ns_srv[32], ns_cli[32], dev_srv[32], dev_cli[32];
	char srv_ip[32], cli_ip[32];
	int up;
	int napi_pid;			/* threaded NAPI kthread, -1 if none */
	FILE *log;			/* every command run, for plan.txt */
};

/* Runs argv (argv[0] searched in PATH) and waits; returns its exit status,
 * or -1 if it could not start / was killed. Output goes to /dev/null
 * unless out is given (captures up to len-1 bytes of stdout). */
int run_cmd(FILE *log, char *const argv[], char *out, size_t len);
void topo_names(struct topo *t, pid_t pid);
int topo_up(struct topo *t, char *err, size_t len);
/* Threaded NAPI on the server veth, kthread pinned to cpu (none: -1). */
int topo_napi_thread(struct topo *t, int cpu, char *err, size_t len);
void topo_down(struct topo *t);
/* Starts argv in namespace ns pinned to cpu with extra environment
 * (NULL-terminated "K=V" list, may be NULL); returns its pid or -1. */
pid_t spawn_in_ns(const char *ns, int cpu, char *const argv[], char *const env[],
		  const char *out_path);
/* Stops a child: SIGTERM, then SIGKILL after a grace period. */
void stop_child(pid_t pid);
/* Waits until pid listens on TCP port (its namespace's /proc/PID/net/tcp). */
int wait_listen(pid_t pid, unsigned port, double timeout_s);

/* run.c: one measured run against a running server */
struct run_spec {
	int mode;			/* index into cfg->modes */
	const char *kind;		/* "closed" or "open" */
	double target_qps;		/* open loop */
	int rep;
};

struct bench_ops {
	/* start/stop the server for a mode; run one point */
	int (*mode_begin)(void *ctx, int mode, char *err, size_t len);
	void (*mode_end)(void *ctx, int mode);
	int (*run)(void *ctx, const struct run_spec *s, struct il_result *r,
		   char *err, size_t len);
	void *ctx;
};

struct world {
	const struct bench_cfg *cfg;
	struct topo topo;
	pid_t srv_pid;
	int perf_ok;
	char perf_why[160];
	char tmp[600];			/* scratch files */
};

extern const struct bench_ops world_ops;	/* ops->ctx = struct world * */

/* sweep.c: closed-loop maxima, then the open-loop sweep */
struct sweep {
	struct il_result *rows;
	int n, cap;
	double max_qps;			/* smallest closed-loop median */
	double points[BENCH_MAX_POINTS];
	int npoints;
	int planned, done;		/* runs, for the progress bar */
	double t_start;
};

int sweep_run(const struct bench_cfg *c, const struct bench_ops *ops,
	      struct sweep *s, char *err, size_t len);
void sweep_free(struct sweep *s);
/* run.c: flags an open-loop row whose backlog grew (see there). */
void run_flag_backlog(struct il_result *r, double unc_p99);
/* Median, min and max of one field over the rows of (mode, kind, target). */
struct il_stat sweep_stat(const struct sweep *s, const char *mode, const char *kind,
			double target, size_t field_off);
/* A row of medians for (mode, kind, target); flagged if any rep was. */
int sweep_median_row(const struct sweep *s, const char *mode, const char *kind,
		     double target, struct il_result *out);

/* run.c: irqlab-load's options for one run against server ("HOST:PORT"),
 * the target rate qps (0 = closed loop) with threads generator threads;
 * the command line comes from il_load_opts_argv (irqlab/load_opts.h), so
 * it cannot drift from load's parser. 0, or -1 with why in err. */
struct il_load_opts;
int bench_load_opts(const struct bench_cfg *c, const char *server, unsigned threads,
		    double qps, struct il_load_opts *o, char *err, size_t len);

/* run.c: the preload shim's environment for a mode spec ("suspend",
 * "base,defer_hard_irqs=2" -> IRQLAB_MODE=base, IRQLAB_DEFER_HARD_IRQS=2);
 * returns how many of max entries it filled. */
int bench_mode_env(const char *spec, char env[][160], int max);

/* run.c: a row's figures from irqlab-load's summary (one generator's, or
 * the merged summary of several hosts'): 0, or -1 with why in err. */
struct il_load_summary;
int bench_result_from_load(const struct il_load_summary *ls, struct il_result *r,
			   char *err, size_t len);

/* report.c */
void report_table(FILE *f, const struct bench_cfg *c, const struct sweep *s);
int report_files(const struct bench_cfg *c, const struct sweep *s,
		 const struct world *w, char *err, size_t len);

/* plot.c: gnuplot; returns the number of PNGs written, -2 when gnuplot is
 * not installed, -1 when it failed (message in err) */
int plot_all(const struct bench_cfg *c, const struct sweep *s, char *err, size_t len);

/* remote.c: the multi-host plan (--dry-run; multi.c runs it for real) */
struct plan {
	char **cmd;
	int n, cap;
};
int remote_plan(const struct bench_cfg *c, struct plan *p, char *err, size_t len);
/* The host names and the device as shell-safe words: 0, or -1 with why. */
int remote_check_hosts(const struct bench_cfg *c, char *err, size_t len);
void plan_print(FILE *f, const struct plan *p);
void plan_free(struct plan *p);

/* progress.c */
void progress(const struct sweep *s, const char *what);
void progress_done(void);

#endif
