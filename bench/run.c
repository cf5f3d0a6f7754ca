/* One measured run: the load generator against the running server, and
 * the counters around it. The server is started once per mode
 * (world_mode_begin) in the server namespace, pinned to the server CPU. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "irqlab/load_opts.h"
#include "irqlab/load_summary.h"
#include "irqlab/perf.h"
#include "irqlab/sysstat.h"
#include "bench.h"

/* Sleeps up to s seconds; returns early (nonzero) on Ctrl-C or when pid
 * (if > 0) exits. */
static int nap(double s, pid_t pid, int *status)
{
	double end = il_now_s() + s;

	while (!bench_stop) {
		double left = end - il_now_s();
		if (pid > 0 && waitpid(pid, status, WNOHANG) == pid)
			return 2;
		if (left <= 0)
			return 0;
		struct timespec ts = { 0, (long)(fmin(left, 0.02) * 1e9) };
		nanosleep(&ts, NULL);
	}
	return 1;
}

/* An open-loop target at or above what a mode sustains leaves a backlog
 * that grows for the whole run: the corrected figures (from the scheduled
 * send) then measure the run's length, not a latency, while the server's
 * own round trip (uncorrected p99, from the actual send) stays short. When
 * the corrected median is far above even that p99, flag the row. */
void run_flag_backlog(struct il_result *r, double unc_p99)
{
	if (!(r->target_qps > 0 && r->p50_us > 1000 && isfinite(unc_p99) &&
	      r->p50_us > 10 * unc_p99))
		return;
	r->flagged = 1;
	snprintf(r->note + strlen(r->note), sizeof(r->note) - strlen(r->note),
		 "%sbacklog grew: target above sustainable rate", r->note[0] ? "; " : "");
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (buf) {
		n = (long)fread(buf, 1, (size_t)n, f);
		buf[n] = 0;
	}
	fclose(f);
	return buf;
}

/* "suspend,irq_suspend_timeout=5ms" -> IRQLAB_MODE=suspend,
 * IRQLAB_IRQ_SUSPEND_TIMEOUT=5ms (the preload shim's environment). */
int bench_mode_env(const char *spec, char env[][160], int max)
{
	char buf[128], *save, *tok;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (tok = strtok_r(buf, ",", &save); tok && n < max; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq) {
			snprintf(env[n++], 160, "IRQLAB_MODE=%s", tok);
			continue;
		}
		*eq = 0;
		int l = snprintf(env[n], 160, "IRQLAB_");
		for (char *k = tok; *k && l < 150; k++)
			env[n][l++] = (char)toupper((unsigned char)*k);
		snprintf(env[n] + l, (size_t)(160 - l), "=%s", eq + 1);
		n++;
	}
	return n;
}

/* Fills the store once per server start, so every run reads hits. */
static int preload(struct world *w, char *err, size_t len)
{
	const struct bench_cfg *c = w->cfg;
	char srv[64], rec[32], out[700];
	int status = 0;

	snprintf(srv, sizeof(srv), "%s:%u", w->topo.srv_ip, c->port);
	snprintf(rec, sizeof(rec), "%d", c->records);
	snprintf(out, sizeof(out), "%s/preload.out", w->tmp);
	char *argv[] = { (char *)c->load_bin, "-s", srv, "--records", rec, "--loadonly", NULL };
	pid_t gen = spawn_in_ns(w->topo.ns_cli, c->cli_cpu, argv, NULL, out);
	if (gen < 0) {
		snprintf(err, len, "could not start %s: %s", c->load_bin, strerror(errno));
		return -1;
	}
	int rc = nap(120, gen, &status);
	if (rc != 2) {
		stop_child(gen);
		snprintf(err, len, rc == 1 ? "interrupted" : "preloading %d records took over 120 s", c->records);
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		char ep[720];
		snprintf(ep, sizeof(ep), "%s.err", out);
		char *o = slurp(ep);
		if (o)
			o[strcspn(o, "\n")] = 0;
		snprintf(err, len, "preloading failed: %.200s", o ? o : "");
		free(o);
		return -1;
	}
	return 0;
}

static int world_mode_begin(void *ctx, int mode, char *err, size_t len)
{
	struct world *w = ctx;
	const struct bench_cfg *c = w->cfg;
	char port[16], out[700];
	char envbuf[12][160];
	char *env[16] = { NULL };
	int ne = 0;

	snprintf(port, sizeof(port), "%u", c->port);
	snprintf(out, sizeof(out), "%s/server-%d.log", w->tmp, mode);
	if (!strcmp(c->server, "kv")) {
		char cpu[16];
		snprintf(cpu, sizeof(cpu), "%d", c->srv_cpu);
		char *argv[] = { (char *)c->kv_bin, "-p", port, "-l", w->topo.srv_ip, "-t", "1",
				 "--cpus", cpu, "-m", "1024", "--mode", (char *)c->modes[mode],
				 "--dev", w->topo.dev_srv, NULL };
		w->srv_pid = spawn_in_ns(w->topo.ns_srv, c->srv_cpu, argv, NULL, out);
	} else {
		char pre[600], dev[64];
		int n = bench_mode_env(c->modes[mode], envbuf, 10);

		snprintf(pre, sizeof(pre), "LD_PRELOAD=%s", c->shim);
		snprintf(dev, sizeof(dev), "IRQLAB_DEV=%s", w->topo.dev_srv);
		env[ne++] = pre;
		env[ne++] = dev;
		for (int i = 0; i < n; i++)
			env[ne++] = envbuf[i];
		/* -u root: memcached refuses to run as root otherwise. */
		char *argv[] = { (char *)c->memcached_bin, "-p", port, "-l", w->topo.srv_ip,
				 "-U", "0", "-t", "1", "-u", "root", "-m", "1024", NULL };
		w->srv_pid = spawn_in_ns(w->topo.ns_srv, c->srv_cpu, argv, env, out);
	}
	if (w->srv_pid < 0) {
		snprintf(err, len, "could not start the server: %s", strerror(errno));
		return -1;
	}
	if (w->topo.log)
		fprintf(w->topo.log, "# server for mode %s: pid %d (%s)\n",
			c->modes[mode], (int)w->srv_pid, c->server);
	if (w->topo.log)
		fflush(w->topo.log);
	int rc = wait_listen(w->srv_pid, c->port, 10);
	if (rc) {
		char errpath[720];
		snprintf(errpath, sizeof(errpath), "%s.err", out);
		char *log = slurp(errpath);	/* servers complain on stderr */
		if (!log || !*log) {
			free(log);
			log = slurp(out);
		}
		if (log)
			log[strcspn(log, "\n")] = 0;
		snprintf(err, len, "server (%s, mode %s) %s: %s", c->server, c->modes[mode],
			 rc == -ECHILD ? "exited" : "did not listen within 10 s",
			 log && *log ? log : "(no output)");
		free(log);
		stop_child(w->srv_pid);
		w->srv_pid = -1;
		return -1;
	}
	if (preload(w, err, len)) {
		stop_child(w->srv_pid);
		w->srv_pid = -1;
		return -1;
	}
	return 0;
}

static void world_mode_end(void *ctx, int mode)
{
	struct world *w = ctx;

	(void)mode;
	stop_child(w->srv_pid);
	w->srv_pid = -1;
}

struct snap {
	double t;
	struct il_proc_time srv, gen, napi;
	struct il_cpu_time cpu, cpu_g;	/* server CPU, generator CPU */
	uint64_t irq_s, irq_g, netrx_s, netrx_g, bpoll;
};

static void take(struct world *w, pid_t gen, struct snap *s)
{
	const struct bench_cfg *c = w->cfg;

	memset(s, 0, sizeof(*s));
	s->t = il_now_s();
	il_proc_time(w->srv_pid, &s->srv);
	il_proc_time(gen, &s->gen);
	if (w->topo.napi_pid > 0)
		il_proc_time(w->topo.napi_pid, &s->napi);
	il_cpu_time(c->srv_cpu, &s->cpu);
	il_cpu_time(c->cli_cpu, &s->cpu_g);
	il_irq_count(c->srv_cpu, &s->irq_s);
	il_irq_count(c->cli_cpu, &s->irq_g);
	il_softirq_count("NET_RX", c->srv_cpu, &s->netrx_s);
	il_softirq_count("NET_RX", c->cli_cpu, &s->netrx_g);
	il_netstat(w->srv_pid, "BusyPollRxPackets", &s->bpoll);
}

#define D(f) ((double)(b->f - a->f))

static void account(struct world *w, const struct snap *a, const struct snap *b,
		    struct il_result *r)
{
	const struct bench_cfg *c = w->cfg;
	double wall = b->t - a->t;
	double softirq = il_ticks_to_s(b->cpu.softirq - a->cpu.softirq);
	struct il_cpu_split sp;

	/* Threaded NAPI on the server CPU is receive work done in a kthread:
	 * count it with softirq, where it would be without threading. */
	if (w->topo.napi_pid > 0 && !strcmp(c->napi_thread, "aligned"))
		softirq += il_ticks_to_s(b->napi.utime + b->napi.stime - a->napi.utime - a->napi.stime);
	/* With tick accounting a tick that lands in a softirq on top of the
	 * server counts in both the server's stime and the CPU's softirq
	 * column. The CPU's system column has no softirq ticks, so it bounds
	 * the server's own system time (docs/bench.md, "CPU split"). */
	double stime = il_ticks_to_s(b->srv.stime - a->srv.stime);
	double cpu_sys = il_ticks_to_s(b->cpu.system - a->cpu.system);
	il_cpu_split(il_ticks_to_s(b->srv.utime - a->srv.utime), fmin(stime, cpu_sys),
		     softirq, wall, &sp);
	r->cpu_user = sp.user;
	r->cpu_sys = sp.sys;
	r->cpu_softirq = sp.softirq;
	r->cpu_idle = sp.idle;
	r->irq_per_s = D(irq_s) / wall;
	r->gen_irq_per_s = D(irq_g) / wall;
	r->softirq_per_s = D(netrx_s) / wall;
	r->gen_softirq_per_s = D(netrx_g) / wall;
	r->cs_per_s = (D(srv.vcsw) + D(srv.nvcsw)) / wall;
	r->busy_polled = D(bpoll);
	r->gen_cpu = 100 * il_ticks_to_s(b->gen.utime + b->gen.stime - a->gen.utime - a->gen.stime) / wall;
}

int bench_load_opts(const struct bench_cfg *c, const char *server, unsigned threads,
		    double qps, struct il_load_opts *o, char *err, size_t len)
{
	il_load_opts_default(o);
	if (il_load_opts_server(o, server, err, len))
		return -1;
	o->threads = threads;
	o->conns = (unsigned)c->connections;
	o->depth = (unsigned)c->depth;
	o->qps = qps;
	o->time = c->duration;
	o->warmup = c->warmup;
	o->records = (uint64_t)c->records;
	o->noload = 1;		/* preloaded once per mode */
	o->json = 1;
	return 0;
}

/* The generator's command line for one run, from load's own option table
 * (irqlab/load_opts.h): malloc'd, free() once. */
static char **load_argv(struct world *w, const struct run_spec *s, char *err, size_t len)
{
	const struct bench_cfg *c = w->cfg;
	struct il_load_opts o;
	char srv[64];
	char **argv;

	snprintf(srv, sizeof(srv), "%s:%u", w->topo.srv_ip, c->port);
	if (bench_load_opts(c, srv, 1, strcmp(s->kind, "closed") ? s->target_qps : 0, &o,
			    err, len))
		return NULL;
	/* "fell behind" = >1% of sends over 1 ms late with a free connection:
	 * at the default 100 us, scheduling jitter on a shared 2-vCPU VM flags
	 * nearly every run, which would make the flag meaningless. Latency is
	 * measured from the scheduled time either way. */
	o.late_us = 1000;
	if (!(argv = il_load_opts_argv(&o, c->load_bin)))
		snprintf(err, len, "out of memory");
	return argv;
}

static void note(struct il_result *r, const char *why)
{
	size_t l = strlen(r->note);

	r->flagged = 1;
	snprintf(r->note + l, sizeof(r->note) - l, "%s%s", l ? "; " : "", why);
}

/* The counters around the generator's measured interval (after its
 * warm-up, for its --time), into r. Returns nap()'s result: 0 when the
 * window was covered, 1 on Ctrl-C, 2 when the generator ended first. */
static int measure(struct world *w, pid_t gen, int *status, struct il_result *r,
		   double *window_s)
{
	const struct bench_cfg *c = w->cfg;
	pid_t ours[3] = { w->srv_pid, gen, w->topo.napi_pid };
	struct il_perf perf = { -1, -1 };
	struct snap a, b;
	char top[64] = "";
	int perf_on = 0;

	int rc = nap(c->warmup, gen, status);
	if (rc)
		return rc;
	struct il_noise *noise = il_noise_start(ours, 3);
	if (w->perf_ok) {
		char perr[160];
		perf_on = il_perf_open(&perf, c->srv_cpu, perr, sizeof(perr)) == 0 &&
			  il_perf_start(&perf) == 0;
	}
	take(w, gen, &a);
	/* stop a little early so the generator is still running */
	rc = nap(c->duration * 0.97, gen, status);
	take(w, gen, &b);
	*window_s = b.t - a.t;
	uint64_t nt = il_noise_end(noise, top, sizeof(top));
	/* In a VM the host takes CPU time too (steal): no process here shows
	 * it, yet it slows the run like any other noise. */
	uint64_t steal = (b.cpu.steal - a.cpu.steal) + (b.cpu_g.steal - a.cpu_g.steal);
	if (steal > nt)
		snprintf(top, sizeof(top), "hypervisor steal");
	r->noise_cpu = 100 * il_ticks_to_s(nt + steal) / (b.t - a.t);
	if (perf_on) {
		uint64_t cyc, ins;
		if (il_perf_stop(&perf, &cyc, &ins) == 0) {
			r->cycles = (double)cyc;
			r->instructions = (double)ins;
		}
		il_perf_close(&perf);
	}
	account(w, &a, &b, r);
	if (rc)		/* the generator's /proc entry was gone at the end */
		r->gen_cpu = NAN;
	/* the sweep decides whether to repeat; the note says who it was */
	if (top[0] && r->noise_cpu > c->noise_limit)
		snprintf(r->note, sizeof(r->note), "noise %d%% (top %.30s)", (int)r->noise_cpu, top);
	return rc;
}

/* The percentile q of a distribution (il_load_q), NAN if not reported. */
static double pct(const struct il_load_stat *st, double q)
{
	for (int i = 0; i < IL_LOAD_NQ; i++)
		if (il_load_q[i] == q)
			return st->p[i];
	return NAN;
}

/* The generator's summary into r, through the typed reader (irqlab/
 * load_summary.h). Latencies are gets' (97% of requests) from their
 * scheduled send time (corrected: no coordinated omission). */
int bench_result_from_load(const struct il_load_summary *ls, struct il_result *r,
			   char *err, size_t len)
{
	const struct il_load_stat *get = &ls->lat[IL_OP_GET][IL_LAT_CORRECTED];

	r->qps = ls->qps;
	r->duration_s = ls->duration_s;
	r->requests = (double)(ls->requests.gets + ls->requests.sets);
	r->errors = (double)(ls->requests.errors + ls->totals.protocol_errors +
			     ls->totals.unanswered + ls->totals.unsent +
			     ls->totals.connection_errors);
	r->p50_us = pct(get, 0.5);
	r->p95_us = pct(get, 0.95);
	r->p99_us = pct(get, 0.99);
	run_flag_backlog(r, pct(&ls->lat[IL_OP_GET][IL_LAT_UNCORRECTED], 0.99));
	if (ls->generator.fell_behind)	/* the open-loop schedule was not kept */
		note(r, "generator fell behind");
	if (!isfinite(r->qps)) {
		snprintf(err, len, "irqlab-load's report has no \"qps\"");
		return -1;
	}
	return 0;
}

static int read_load(const char *path, struct il_result *r, char *err, size_t len)
{
	struct il_load_summary ls;
	char e[256];
	int rc;

	if (il_load_summary_read_file(path, &ls, e, sizeof(e))) {
		snprintf(err, len, "irqlab-load's report %s: %s", path, e);
		return -1;
	}
	rc = bench_result_from_load(&ls, r, e, sizeof(e));
	il_load_summary_free(&ls);
	if (rc)
		snprintf(err, len, "%s (see %s)", e, path);
	return rc;
}

/* What the counters and the report say together: a report that cannot be
 * right, or counters that did not cover the whole window, make the row
 * suspect (kept, flagged, with why); IPC and cycles per query. */
static void judge(struct il_result *r, int window, double window_s)
{
	if (!window)
		note(r, "generator ended before the window did");
	if (!(r->duration_s > 0) || (r->qps == 0 && r->requests > 0))
		note(r, "generator reported an empty window");
	double q = r->qps * window_s;
	if (isfinite(r->cycles) && isfinite(r->instructions) && r->cycles > 0) {
		r->ipc = r->instructions / r->cycles;
		if (q > 0) {
			r->cpq = r->cycles / q;
			r->ipq = r->instructions / q;
		}
	}
}

static int world_run(void *ctx, const struct run_spec *s, struct il_result *r,
		     char *err, size_t len)
{
	struct world *w = ctx;
	const struct bench_cfg *c = w->cfg;
	char out[700];
	int status = 0;
	double window_s = 0;
	char **argv = load_argv(w, s, err, len);

	if (!argv)
		return -1;
	snprintf(out, sizeof(out), "%s/load.json", w->tmp);
	pid_t gen = spawn_in_ns(w->topo.ns_cli, c->cli_cpu, argv, NULL, out);
	free(argv);
	if (gen < 0) {
		snprintf(err, len, "could not start %s: %s", c->load_bin, strerror(errno));
		return -1;
	}
	int rc = measure(w, gen, &status, r, &window_s);
	if (rc == 1) {		/* Ctrl-C */
		stop_child(gen);
		snprintf(err, len, "interrupted");
		return -1;
	}
	/* Wait for the report: the generator ends by itself after warm-up +
	 * time (+ drain); give it a bounded grace period. */
	if (rc != 2 && nap(c->duration + c->warmup + 15, gen, &status) != 2) {
		stop_child(gen);
		snprintf(err, len, "%s did not finish in time", c->load_bin);
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char ep[720];
		snprintf(ep, sizeof(ep), "%s.err", out);
		char *why = slurp(ep);
		if (why)
			why[strcspn(why, "\n")] = 0;
		snprintf(err, len, "%s exited with status %d: %.200s", c->load_bin,
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1, why ? why : "");
		free(why);
		return -1;
	}
	if (read_load(out, r, err, len))
		return -1;
	judge(r, rc == 0 && window_s > 0, window_s);
	return 0;
}

const struct bench_ops world_ops = {
	.mode_begin = world_mode_begin,
	.mode_end = world_mode_end,
	.run = world_run,
};
