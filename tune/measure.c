/* The measured backend: the bench's single-host world (bench/bench.h: two
 * namespaces, a veth pair, irqlab-kv or memcached on one CPU, irqlab-load
 * on the other), through its public operations only: world_ops starts a
 * server in a mode (which applies the mode's NAPI and epoll settings to the
 * server veth itself) and measures one open-loop point. One server per
 * candidate: consecutive jobs of the same candidate share it.
 *
 * What is restored: the namespaces are deleted at the end, which takes the
 * veth pair and every per-NAPI setting on it along; nothing of the host's
 * own devices is touched. The deletion is recorded with the restore guard
 * (irqlab/guard.h) before the namespaces exist, so it also happens when
 * tune is killed (SIGKILL included); Ctrl-C stops the run, tears the world
 * down and still writes what was measured. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "irqlab/guard.h"
#include "irqlab/load_summary.h"
#include "tune.h"

struct tune_meas {
	struct bench_cfg cfg;
	struct world w;
	int cur;		/* candidate whose server runs, -1 */
	const struct tune_space *cur_sp;	/* ... of this space */
	double short_s;
	int up;
	volatile int *stop;
	char desc[256];
};

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* p999 of gets from the scheduled send time: bench's row stops at p99, the
 * generator's report (read with the library's reader) has it. */
static double load_p999(const struct tune_meas *m)
{
	struct il_load_summary s;
	char path[700], err[200];
	double v = NAN;

	snprintf(path, sizeof(path), "%s/load.json", m->w.tmp);
	il_load_summary_init(&s);
	if (!il_load_summary_read_file(path, &s, err, sizeof(err)))
		v = s.lat[IL_OP_GET][IL_LAT_CORRECTED].p[IL_LOAD_NQ - 1];
	il_load_summary_free(&s);
	return v;
}

static int switch_server(struct tune_meas *m, const struct tune_space *sp, int cand,
			 char *err, size_t len)
{
	if (m->cur == cand && m->cur_sp == sp)
		return 0;
	if (m->cur >= 0)
		world_ops.mode_end(&m->w, 0);
	m->cur = -1;
	if (strlen(sp->c[cand].spec) >= sizeof(m->cfg.modes[0])) {
		snprintf(err, len, "mode spec longer than bench takes (%zu characters)",
			 sizeof(m->cfg.modes[0]) - 1);
		return -1;
	}
	snprintf(m->cfg.modes[0], sizeof(m->cfg.modes[0]), "%.127s", sp->c[cand].spec);
	m->cfg.nmodes = 1;
	if (world_ops.mode_begin(&m->w, 0, err, len))
		return -1;
	m->cur = cand;
	m->cur_sp = sp;
	return 0;
}

static void one(struct tune_meas *m, const struct tune_space *sp, struct tune_job *j)
{
	struct run_spec rs = { 0, j->qps > 0 ? "open" : "closed", j->qps, 0 };
	double t = mono();

	j->rc = -1;
	if (switch_server(m, sp, j->cand, j->err, sizeof(j->err)))
		return;
	m->cfg.duration = j->run_s;
	/* noisy runs (others took CPU) are repeated once, then kept flagged */
	for (int attempt = 0; attempt < 2; attempt++) {
		il_result_init(&j->r);
		snprintf(j->r.mode, sizeof(j->r.mode), "%s", sp->c[j->cand].label);
		snprintf(j->r.kind, sizeof(j->r.kind), "%s", rs.kind);
		snprintf(j->r.source, sizeof(j->r.source), "measured");
		snprintf(j->r.server, sizeof(j->r.server), "%s",
			 strcmp(m->cfg.server, "kv") ? m->cfg.server : "irqlab-kv");
		j->r.target_qps = j->qps;
		j->r.rep = (int)j->seed;
		if (world_ops.run(&m->w, &rs, &j->r, j->err, sizeof(j->err)))
			return;
		if (!(j->r.noise_cpu > m->cfg.noise_limit))
			break;
		j->r.flagged = 1;
	}
	if (j->qps > 0 && j->r.qps < 0.9 * j->qps) {
		j->r.flagged = 1;
		size_t l = strlen(j->r.note);
		snprintf(j->r.note + l, sizeof(j->r.note) - l, "%smissed target", l ? "; " : "");
	}
	j->p999_us = load_p999(m);
	j->wall_s = mono() - t;
	j->rc = 0;
}

static int meas_run(void *ctx, const struct tune_space *sp, struct tune_job *jobs, int n,
		    char *err, size_t len)
{
	struct tune_meas *m = ctx;

	for (int i = 0; i < n; i++) {
		if (*m->stop || bench_stop) {
			snprintf(err, len, "interrupted");
			return -1;
		}
		one(m, sp, &jobs[i]);
		if (jobs[i].rc && (*m->stop || bench_stop)) {
			snprintf(err, len, "interrupted");
			return -1;
		}
		/* a server that does not start is the candidate's failure (a
		 * knob the kernel refuses); a world that broke is everyone's */
		if (jobs[i].rc && strstr(jobs[i].err, "could not start")) {
			snprintf(err, len, "%s", jobs[i].err);
			return -1;
		}
	}
	return 0;
}

static double meas_estimate(void *ctx, const struct tune_job *j)
{
	struct tune_meas *m = ctx;
	/* warm-up + run + the generator's drain; a server start and preload
	 * (about 2 s) when the candidate changes, which a batch does */
	return m->cfg.warmup + j->run_s + 1.0 + 2.0;
}

/* Open loop at depth 1: a request whose connections are all busy waits,
 * and that wait is the generator's, not the server's. 16 connections per
 * 20k req/s keeps a connection idle ~4x longer than this server's median
 * latency (measured at 40k/s on the veth pair: 16 connections, send lag
 * p99 1.6 ms and p99 2.0 ms; 32, 241 us and 920 us). */
static int conns_for(double qps)
{
	double n = 16 * ceil(qps / 20000);
	return n < 16 ? 16 : n > 1024 ? 1024 : (int)n;
}

struct tune_meas *tune_meas_new(const struct tune_meas_cfg *c, char *err, size_t len)
{
	struct tune_meas *m = calloc(1, sizeof(*m));
	char plan[700];

	if (!m) {
		snprintf(err, len, "out of memory");
		return NULL;
	}
	if (geteuid() != 0) {
		snprintf(err, len, "a measured tune needs root (network namespaces, a veth pair, "
			 "NAPI settings); run it with sudo, or tune on the model with --sim CONFIG");
		free(m);
		return NULL;
	}
	bench_defaults(&m->cfg);
	snprintf(m->cfg.server, sizeof(m->cfg.server), "%s", c->server ? c->server : "kv");
	m->cfg.srv_cpu = c->srv_cpu;
	m->cfg.cli_cpu = c->cli_cpu;
	m->cfg.duration = c->run_s;
	m->cfg.warmup = c->warmup_s;
	m->cfg.records = 100000;
	if (c->connections > 0)
		m->cfg.connections = c->connections;
	else if (c->qps > 0)
		m->cfg.connections = conns_for(c->qps);
	snprintf(m->cfg.out_dir, sizeof(m->cfg.out_dir), "%s", c->out_dir);
	m->short_s = c->short_s;
	m->stop = c->stop;
	m->cur = -1;
	m->w.cfg = &m->cfg;
	m->w.srv_pid = -1;
	snprintf(m->w.tmp, sizeof(m->w.tmp), "%s/logs", c->out_dir);
	if (il_mkdir_p(m->w.tmp)) {
		snprintf(err, len, "cannot create %s", m->w.tmp);
		free(m);
		return NULL;
	}
	topo_names(&m->w.topo, getpid());
	snprintf(plan, sizeof(plan), "%s/plan.txt", c->out_dir);
	m->w.topo.log = fopen(plan, "w");
	/* topo_up records each namespace's deletion with the restore guard
	 * before it adds it: deleted however tune ends (SIGKILL included) */
	m->up = 1;
	if (topo_up(&m->w.topo, err, len)) {
		tune_meas_free(m);
		return NULL;
	}
	snprintf(m->desc, sizeof(m->desc), "measured: this machine's veth pair between two "
		 "namespaces (%s), server %s on CPU %d, irqlab-load on CPU %d, %d connections, "
		 "%g s warm-up per run", m->w.topo.dev_srv, m->cfg.server, m->cfg.srv_cpu,
		 m->cfg.cli_cpu, m->cfg.connections, m->cfg.warmup);
	return m;
}

void tune_meas_backend(struct tune_meas *m, struct tune_backend *be)
{
	memset(be, 0, sizeof(*be));
	be->source = "measured";
	be->full_s = m->cfg.duration;
	be->short_s = m->short_s;
	be->max_reps = 10;
	be->parallel = 1;
	be->run = meas_run;
	be->estimate = meas_estimate;
	be->ctx = m;
}

void tune_meas_free(struct tune_meas *m)
{
	if (!m)
		return;
	if (m->cur >= 0 || m->w.srv_pid > 0)
		world_ops.mode_end(&m->w, 0);
	m->cur = -1;
	if (m->up) {
		/* the guard's recorded deletions, now (topo_down): they are
		 * then forgotten, so the exit does not run them a second time */
		topo_down(&m->w.topo);
		m->up = 0;
	}
	if (m->w.topo.log) {
		fclose(m->w.topo.log);
		m->w.topo.log = NULL;
	}
	free(m);
}

const char *tune_meas_describe(const struct tune_meas *m)
{
	return m->desc;
}
