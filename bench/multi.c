/* irqlab bench across machines: the driver behind `--server-host`. One
 * `irqlab agent` per host over ssh (hosts.c); a preflight on every host;
 * per mode the server host's NIC case and server (old values recorded
 * there by the agent's guard); per run irqlab-load on every client host
 * from a common wall-clock instant, their summaries merged exactly
 * (histograms merged, counts added) into one row of the normal report. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "irqlab/load_opts.h"
#include "irqlab/load_summary.h"
#include "irqlab/mode.h"
#include "bench.h"
#include "multi.h"

#define MAX_HOSTS (1 + BENCH_MAX_CLIENTS)

static struct {
	const struct bench_cfg *c;
	struct hosts_how how;
	char ssh[512], ctl[64], logs[600], agent[600];
	struct host h[MAX_HOSTS];	/* h[0] the server, then the clients */
	int n;
	int has_coalesce, has_channels, has_irqs;	/* the server's device */
	char lines[MAX_HOSTS][300];
	char nic_line[1024];		/* the server's device before the run */
	int perf_ok;			/* the server's PMU counted */
	int irqb_said;			/* irqbalance's stop was announced */
	struct per_host {		/* each client's share of each run */
		char run[96];
		int host;
		double qps, target, p99;
		double share;		/* qps / the other clients' mean */
		int behind;		/* missed its open-loop target, the others not */
	} *ph;
	int nph, cph;
	json_t *build;			/* this build (irqlab_build) */
	char self[600], selfdir[600];
	char perf_why[200];		/* else why not */
	const char *line_ptr[MAX_HOSTS + 1];
	int open;
} M;

static const char *host_addr(const char *h)	/* without "user@" */
{
	const char *at = strrchr(h, '@');

	return at ? at + 1 : h;
}

/* --- preflight ------------------------------------------------------------- */

static const char *bin_dir(const struct host *h)
{
	return h->bindir[0] ? h->bindir : M.c->remote_bin_dir;
}

/* Appends "HOST: why" to err, one line per failure (bench prints err
 * after "irqlab bench: "); returns -1. */
static int fail(char *err, size_t len, int *bad, const struct host *h, const char *why)
{
	size_t n = *bad ? strlen(err) : 0;

	if (n < len)
		snprintf(err + n, len - n, "%s%s: %s", (*bad)++ ? "\nirqlab bench: " : "",
			 h->name, why);
	return -1;
}

static void warn(const struct host *h, const char *why)
{
	fprintf(stderr, "irqlab bench: %s: warning: %s\n", h->name, why);
}

/* What the modes need from the server's kernel. */
static int modes_need(const struct bench_cfg *c, int *napi, int *suspend)
{
	*napi = *suspend = 0;
	for (int m = 0; m < c->nmodes; m++) {
		struct il_mode md;
		char e[160];
		if (!strcmp(c->modes[m], "adaptive") || il_mode_parse(c->modes[m], &md, e, sizeof(e)))
			continue;
		*napi |= il_mode_has_napi_knobs(&md);
		*suspend |= md.irq_suspend_timeout > 0;
	}
	return 0;
}

static void server_checks(const struct host *h, json_t *p, char *err, size_t len, int *bad)
{
	const struct bench_cfg *c = M.c;
	json_t *dev = json_object_get(p, "dev"), *napi = json_object_get(p, "napi");
	char why[400];
	int need_napi, need_suspend;

	modes_need(c, &need_napi, &need_suspend);
	if (!json_is_true(json_object_get(p, "root")))
		fail(err, len, bad, h, "not root: the server's NIC and NAPI settings need root "
		     "(log in as root, or use a user with CAP_NET_ADMIN)");
	json_t *bins = json_object_get(p, "bins");
	if (!strcmp(c->server, "kv") && !json_is_true(json_object_get(bins, "irqlab-kv"))) {
		snprintf(why, sizeof(why), "no irqlab-kv in %.300s (--remote-bin)", bin_dir(h));
		fail(err, len, bad, h, why);
	}
	if (strcmp(c->server, "kv") && !json_is_true(json_object_get(bins, "memcached")))
		fail(err, len, bad, h, "no memcached in PATH there (--server memcached): "
		     "install it (Debian: apt install memcached)");
	if (strcmp(c->server, "kv") && !json_is_true(json_object_get(bins,
						      "libirqlab-preload.so"))) {
		snprintf(why, sizeof(why), "no libirqlab-preload.so in %.300s (--remote-bin): "
			 "memcached runs under it", bin_dir(h));
		fail(err, len, bad, h, why);
	}
	if (!json_is_true(json_object_get(dev, "exists"))) {
		snprintf(why, sizeof(why), "no device %s (--dev)", c->dev);
		fail(err, len, bad, h, why);
	} else if (need_napi && json_integer_value(json_object_get(dev, "napis")) == 0) {
		snprintf(why, sizeof(why), "%s", json_string_value(json_object_get(dev, "why")) ?: "");
		fail(err, len, bad, h, why);
	}
	if (need_napi && !json_is_true(json_object_get(napi, "napi_set"))) {
		snprintf(why, sizeof(why), "Linux %s has no per-NAPI settings (needs 6.13)",
			 json_string_value(json_object_get(p, "kernel")) ?: "?");
		fail(err, len, bad, h, why);
	} else if (need_suspend && !json_is_true(json_object_get(napi, "irq_suspend"))) {
		fail(err, len, bad, h, "no irq_suspend_timeout (needs Linux 6.13): "
		     "choose other modes with --modes");
	}
	json_t *pf = json_object_get(p, "port_free");
	if (json_is_false(pf)) {
		snprintf(why, sizeof(why), "port %u is in use there (another server?): choose "
			 "another with --port", c->port);
		fail(err, len, bad, h, why);
	}
}

static void common_checks(const struct host *h, json_t *p, int client, char *err, size_t len,
			  int *bad)
{
	const char *gov = json_string_value(json_object_get(p, "governor"));
	char why[300];

	if (client && !json_is_true(json_object_get(json_object_get(p, "bins"), "irqlab-load"))) {
		snprintf(why, sizeof(why), "no irqlab-load in %.300s (--remote-bin)", bin_dir(h));
		fail(err, len, bad, h, why);
	}
	/* a common start needs the clocks to agree well within a second */
	if (fabs(h->offset_s) > 0.05 + h->rtt_s) {
		snprintf(why, sizeof(why), "its clock is %.0f ms off this machine's: a common start "
			 "needs synchronised clocks (chrony, systemd-timesyncd)", h->offset_s * 1e3);
		fail(err, len, bad, h, why);
	}
	if (gov && strcmp(gov, "performance")) {
		snprintf(why, sizeof(why), "CPU frequency governor '%s' (performance is steadier)", gov);
		warn(h, why);
	}
}

/* "rx 1 tx 1 rx-max 2" for one kind of nic-show's settings. */
static void nic_kind(char *buf, size_t len, json_t *kind)
{
	const char *k;
	json_t *v;
	size_t n = 0;

	buf[0] = 0;
	if (!json_is_object(kind)) {
		snprintf(buf, len, "not supported");
		return;
	}
	json_object_foreach(kind, k, v)
		if (n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s %lld", n ? " " : "", k,
					      (long long)json_integer_value(v));
}

/* A driver field of nic-show's answer, "-" when empty (a veth's firmware). */
static const char *drv_field(json_t *nic, const char *f)
{
	const char *v = json_string_value(json_object_get(json_object_get(nic, "driver"), f));

	return v && *v ? v : "-";
}

/* The server device's driver and settings before the run, for report.md;
 * the whole nic-show answer in logs/. */
static void nic_describe(const struct host *h, json_t *nic)
{
	char co[200], ch[120], ri[120], path[900];

	nic_kind(co, sizeof(co), json_object_get(nic, "coalesce"));
	nic_kind(ch, sizeof(ch), json_object_get(nic, "channels"));
	nic_kind(ri, sizeof(ri), json_object_get(nic, "rings"));
	snprintf(M.nic_line, sizeof(M.nic_line), "`%s` on %s: driver %s version %s, firmware %s, "
		 "bus %s; before the run: channels %s; rings %s; coalescing %s", M.c->dev, h->name,
		 drv_field(nic, "name"), drv_field(nic, "version"), drv_field(nic, "firmware"),
		 drv_field(nic, "bus_info"), ch, ri, co);
	snprintf(path, sizeof(path), "%s/nic-before-%s.json", M.logs, h->name);
	json_dump_file(nic, path, JSON_INDENT(1));
}

/* The server's device: what the NIC case can set there. */
static void server_nic(struct host *h)
{
	json_t *r;
	char err[300];

	r = host_call(h, json_pack("{s:s, s:s}", "op", "nic-show", "dev", M.c->dev), 30,
		      err, sizeof(err));
	json_t *nic = json_object_get(r, "nic"), *q;
	size_t i;

	M.has_coalesce = json_is_object(json_object_get(nic, "coalesce"));
	M.has_channels = json_is_object(json_object_get(nic, "channels"));
	json_array_foreach(json_object_get(nic, "queues"), i, q)
		M.has_irqs |= json_integer_value(json_object_get(q, "irq")) > 0;
	if (!M.has_coalesce)
		warn(h, "the device has no interrupt coalescing (ethtool -C): the cases run "
		     "with what it has");
	nic_describe(h, nic);
	json_decref(r);
}

/* hello and probe on every host (in parallel), then the checks. */
static int preflight(char *err, size_t len)
{
	int bad = 0;

	for (int i = 0; i < M.n; i++) {
		struct host *h = &M.h[i];
		char e[400];
		json_t *hello = host_call(h, json_pack("{s:s}", "op", "hello"), 30, e, sizeof(e));
		if (!hello || host_clock(h, e, sizeof(e))) {
			size_t k = strlen(h->name);
			fail(err, len, &bad, h, !strncmp(e, h->name, k) && e[k] == ':' ? e + k + 2 : e);
			json_decref(hello);
			continue;
		}
		if (irqlab_build_differs(M.build, json_object_get(hello, "build"), e, sizeof(e))) {
			size_t k = strlen(e);
			snprintf(e + k, sizeof(e) - k, ": copy this build there, or use --install");
			fail(err, len, &bad, h, e);
		}
		char hp[900];
		snprintf(hp, sizeof(hp), "%s/hello-%s.json", M.logs, h->name);
		json_dump_file(hello, hp, JSON_INDENT(1));	/* its pids, for a hard kill */
		json_t *p = host_call(h, json_pack("{s:s, s:s, s:i}", "op", "probe", "dev", M.c->dev,
						   "port", i ? 0 : (int)M.c->port), 30, e, sizeof(e));
		snprintf(M.lines[i], sizeof(M.lines[i]), "%s %s: Linux %s %s, agent pid %lld, "
			 "clock offset %+.1f ms (round trip %.1f ms)", i ? "client" : "server",
			 h->name, json_string_value(json_object_get(hello, "kernel")) ?: "?",
			 json_string_value(json_object_get(hello, "machine")) ?: "?",
			 (long long)json_integer_value(json_object_get(hello, "pid")),
			 h->offset_s * 1e3, h->rtt_s * 1e3);
		M.line_ptr[i] = M.lines[i];
		if (i == 0 && p)
			server_checks(h, p, err, len, &bad);
		if (p)
			common_checks(h, p, i > 0, err, len, &bad);
		json_decref(p);
		json_decref(hello);
	}
	if (!bad)
		server_nic(&M.h[0]);
	return bad ? -1 : 0;
}

/* --- per mode ---------------------------------------------------------------- */

static void cpu_range(char *buf, size_t len, int n)
{
	snprintf(buf, len, n > 1 ? "0-%d" : "0", n - 1);
}

/* The NIC case of a mode: adaptive coalescing for "adaptive", none for the
 * others (the published cases), a queue per server core, each queue's IRQ
 * on its own core, RPS off; only what the device has. */
static int nic_case(int m, char *err, size_t len)
{
	const struct bench_cfg *c = M.c;
	json_t *job = json_pack("{s:s, s:s, s:b}", "op", "nic-set", "dev", c->dev, "rps_off", 1);
	char cpus[32];

	if (M.has_coalesce)
		json_object_set_new(job, "coalesce",
				    json_string(strcmp(c->modes[m], "adaptive") ? "off" : "adaptive"));
	if (M.has_channels)
		json_object_set_new(job, "queues", json_integer(c->srv_cores));
	if (M.has_irqs) {
		cpu_range(cpus, sizeof(cpus), c->srv_cores);
		json_object_set_new(job, "irq_cpus", json_string(cpus));
	}
	json_t *r = host_call(&M.h[0], job, 60, err, len);
	json_decref(r);
	return r ? 0 : -1;
}

static json_t *strings(char **argv)
{
	json_t *a = json_array();

	for (int i = 0; argv[i]; i++)
		json_array_append_new(a, json_string(argv[i]));
	return a;
}

/* memcached under the preload shim: the mode through the shim's
 * environment, a thread per server core, all pinned to those cores. */
static json_t *memcached_job(const char *spec, char *port, char *threads, char *cpus)
{
	const struct bench_cfg *c = M.c;
	char env[12][160], dev[160];
	char *argv[] = { "-p", port, "-U", "0", "-t", threads, "-u", "root", "-m", "1024", NULL };
	int n = bench_mode_env(spec, env, 12);
	json_t *e = json_array();

	snprintf(dev, sizeof(dev), "IRQLAB_DEV=%s", c->dev);
	json_array_append_new(e, json_string(dev));
	for (int i = 0; i < n; i++)
		json_array_append_new(e, json_string(env[i]));
	return json_pack("{s:s, s:s, s:i, s:s, s:o, s:b, s:o, s:s}", "op", "server-start",
			 "bin", "memcached", "port", (int)c->port, "dev", c->dev,
			 "args", strings(argv), "shim", 1, "env", e, "cpus", cpus);
}

static int server_start(int m, char *err, size_t len)
{
	const struct bench_cfg *c = M.c;
	const char *spec = strcmp(c->modes[m], "adaptive") ? c->modes[m] : "base";
	char port[16], threads[16], cpus[32];
	char *argv[] = { "-p", port, "-t", threads, "--cpus", cpus, "-m", "1024",
			 "--mode", (char *)spec, "--dev", (char *)c->dev, NULL };
	json_t *job;

	snprintf(port, sizeof(port), "%u", c->port);
	snprintf(threads, sizeof(threads), "%d", c->srv_cores);
	cpu_range(cpus, sizeof(cpus), c->srv_cores);
	if (strcmp(c->server, "kv"))
		job = memcached_job(spec, port, threads, cpus);
	else
		job = json_pack("{s:s, s:s, s:i, s:s, s:o}", "op", "server-start", "bin",
				"irqlab-kv", "port", (int)c->port, "dev", c->dev, "args", strings(argv));
	json_t *r = host_call(&M.h[0], job, 30, err, len);
	json_decref(r);
	return r ? 0 : -1;
}

static int preload(char *err, size_t len)
{
	const struct bench_cfg *c = M.c;
	char srv[160], rec[32];
	char *argv[] = { "-s", srv, "--records", rec, "--loadonly", NULL };

	snprintf(srv, sizeof(srv), "%s:%u", host_addr(M.h[0].name), c->port);
	snprintf(rec, sizeof(rec), "%d", c->records);
	json_t *r = host_call(&M.h[1], json_pack("{s:s, s:o}", "op", "load", "args", strings(argv)),
			      180, err, len);
	json_decref(r);
	return r ? 0 : -1;
}

/* irqbalance would move the queues' IRQs: stopped for the mode (its agent
 * recorded how to restart it: the mode's restore, or the guard). */
static int irqbalance_stop(char *err, size_t len)
{
	json_t *r = host_call(&M.h[0], json_pack("{s:s}", "op", "irqbalance-stop"), 30, err, len);
	json_int_t pid = json_integer_value(json_object_get(r, "stopped"));

	if (pid > 0 && !M.irqb_said++)
		fprintf(stderr, "irqlab bench: %s: irqbalance (pid %lld) stopped for the run; "
			"restarted after it (%s)\n", M.h[0].name, (long long)pid,
			json_string_value(json_object_get(r, "restart")) ?: "?");
	json_decref(r);
	return r ? 0 : -1;
}

static int multi_mode_begin(void *ctx, int m, char *err, size_t len)
{
	(void)ctx;
	fprintf(stderr, "irqlab bench: mode %s on %s\n", bench_mode_label(M.c, m), M.h[0].name);
	if (irqbalance_stop(err, len) || nic_case(m, err, len) || server_start(m, err, len) || preload(err, len))
		return -1;
	return 0;
}

static void multi_mode_end(void *ctx, int m)
{
	char err[300];

	(void)ctx;
	(void)m;
	if (!host_alive(&M.h[0], err, sizeof(err)))
		return;		/* its agent restored when ssh ended: the run says why */
	/* the server first (it restores its NAPI settings), then the case */
	json_decref(host_call(&M.h[0], json_pack("{s:s}", "op", "server-stop"), 30, err, sizeof(err)));
	json_t *r = host_call(&M.h[0], json_pack("{s:s}", "op", "restore"), 60, err, sizeof(err));
	if (!r)
		fprintf(stderr, "irqlab bench: %s\n", err);
	json_decref(r);
}

/* --- per run: the clients together, merged -------------------------------------- */

/* Adds s into m: counts add, histograms merge (percentiles come from the
 * merged histograms, never from averaged percentiles). */
static void merge_one(struct il_load_summary *m, const struct il_load_summary *s)
{
	m->qps += s->qps;
	m->target_qps += isfinite(s->target_qps) ? s->target_qps : 0;
	m->duration_s = fmax(m->duration_s, s->duration_s);
#define ADD(f) m->f += s->f
	ADD(requests.gets); ADD(requests.sets); ADD(requests.misses); ADD(requests.errors);
	ADD(requests.set_failed); ADD(requests.sent);
	ADD(totals.gets); ADD(totals.sets); ADD(totals.misses); ADD(totals.errors);
	ADD(totals.set_failed); ADD(totals.protocol_errors); ADD(totals.unanswered);
	ADD(totals.unsent); ADD(totals.connection_errors); ADD(schedule.late_sends);
#undef ADD
	m->generator.fell_behind |= s->generator.fell_behind;
	m->generator.below_target |= s->generator.below_target;
	for (int o = 0; o < IL_NOPS; o++)
		for (int k = 0; k < IL_NLATS; k++) {
			if (!s->hist[o][k])
				continue;
			if (!m->hist[o][k])
				m->hist[o][k] = il_hist_new();
			if (m->hist[o][k])
				il_hist_merge(m->hist[o][k], s->hist[o][k]);
		}
}

static int merge(struct il_load_summary *m, const struct il_load_summary *s, int n,
		 char *err, size_t len)
{
	il_load_summary_init(m);
	m->qps = m->target_qps = m->duration_s = 0;
	m->schema = s[0].schema;
	m->config = s[0].config;
	for (int i = 0; i < n; i++) {
		if (!s[i].hist[IL_OP_GET][IL_LAT_CORRECTED] && n > 1) {
			snprintf(err, len, "%s: its irqlab-load reports no histograms (schema %d): "
				 "results cannot be merged exactly; update irqlab there",
				 M.h[1 + i].name, s[i].schema);
			return -1;
		}
		merge_one(m, &s[i]);
	}
	for (int o = 0; o < IL_NOPS; o++)
		for (int k = 0; k < IL_NLATS; k++)
			if (m->hist[o][k] && il_hist_count(m->hist[o][k]))
				il_load_stat_from_hist(&m->lat[o][k], m->hist[o][k]);
			else if (n == 1)
				m->lat[o][k] = s[0].lat[o][k];
	m->achieved_ratio = m->target_qps > 0 ? m->qps / m->target_qps : NAN;
	return 0;
}

/* One client's answer: its summary, kept as a file per host. */
static int client_summary(int i, json_t *a, const struct run_spec *sp,
			  struct il_load_summary *s, char *err, size_t len)
{
	char path[900], e[300];
	char *text = json_dumps(json_object_get(a, "summary"), JSON_INDENT(1));
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s-%s-%.0f-%d-%s.json", M.logs,
		 bench_mode_label(M.c, sp->mode), sp->kind, sp->target_qps, sp->rep, M.h[i].name);
	if (text && (f = fopen(path, "w"))) {
		fputs(text, f);
		fclose(f);
	}
	int rc = text ? il_load_summary_read(text, s, e, sizeof(e)) : -1;
	free(text);
	if (rc)
		snprintf(err, len, "%s: its irqlab-load summary: %s", M.h[i].name,
			 text ? e : "missing");
	return rc;
}

/* The job for every client: the rate split evenly over them, one start
 * instant (irqlab-load --start-at) after the slowest round trip. */
static json_t *load_job(const struct run_spec *sp, double start_at, char *err, size_t len)
{
	const struct bench_cfg *c = M.c;
	int nc = M.n - 1;
	double qps = strcmp(sp->kind, "closed") ? sp->target_qps / nc : 0;
	struct il_load_opts o;
	char srv[160];
	char **argv;

	snprintf(srv, sizeof(srv), "%s:%u", host_addr(M.h[0].name), c->port);
	if (bench_load_opts(c, srv, (unsigned)c->client_threads, qps, &o, err, len))
		return NULL;
	o.late_us = 1000;	/* as the single-host bench (run.c) */
	o.start_at = start_at;	/* irqlab-load connects, then waits for it */
	if (!(argv = il_load_opts_argv(&o, "irqlab-load"))) {
		snprintf(err, len, "out of memory");
		return NULL;
	}
	json_t *job = json_pack("{s:s, s:o, s:f}", "op", "load", "args", strings(argv + 1),
				"timeout_s", c->warmup + c->duration + 60);
	free(argv);
	return job;
}

/* --- per run: the server's side of the same window ----------------------------- */

/* The server's request counters (its `stats`): NULL with why in err. */
static json_t *kv_stats(char *err, size_t len)
{
	json_t *a = host_call(&M.h[0], json_pack("{s:s, s:s, s:i}", "op", "server-stats", "host",
				host_addr(M.h[0].name), "port", (int)M.c->port), 30, err, len);
	json_t *st = json_incref(json_object_get(a, "stats"));

	json_decref(a);
	return st;
}

/* Requests the server answered between two `stats`: gets + sets, -1 if
 * either is missing. */
static long long served(json_t *a, json_t *b)
{
	json_t *ga = json_object_get(a, "cmd_get"), *sa = json_object_get(a, "cmd_set");
	json_t *gb = json_object_get(b, "cmd_get"), *sb = json_object_get(b, "cmd_set");

	if (!json_is_integer(ga) || !json_is_integer(sa) || !json_is_integer(gb) ||
	    !json_is_integer(sb))
		return -1;
	return (long long)(json_integer_value(gb) + json_integer_value(sb) -
			   json_integer_value(ga) - json_integer_value(sa));
}

/* The window the clients measure (after their warm-up), on the server's
 * clock: stats-begin and stats-end queued now, answered then. */
static int stats_jobs(double start_at, int ids[2], char *err, size_t len)
{
	const struct bench_cfg *c = M.c;
	double t0 = start_at + M.h[0].offset_s + c->warmup;
	char cpus[32];

	cpu_range(cpus, sizeof(cpus), c->srv_cores);
	ids[0] = host_send(&M.h[0], json_pack("{s:s, s:s, s:f}", "op", "stats-begin", "cpus", cpus,
				"at", t0), err, len);
	/* stop a little early, as the single-host bench: the load still runs */
	ids[1] = ids[0] < 0 ? -1 : host_send(&M.h[0], json_pack("{s:s, s:f}", "op", "stats-end",
				"at", t0 + 0.97 * c->duration), err, len);
	return ids[1] < 0 ? -1 : 0;
}

static double num(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* The row's server figures from stats-end: the CPU split averaged over the
 * server's cores (hard IRQ time counted as sys: the row has no column for
 * it; the per-core split with irq and steal is in logs/), interrupts and
 * NET_RX per second summed over them, the server's context switches, the
 * busy-polled packets, and IPC / cycles per query where the PMU counts. */
static void server_fill(struct il_result *r, json_t *w)
{
	json_t *cpus = json_object_get(w, "cpus"), *k;
	double u = 0, s = 0, q = 0, wall = num(w, "wall_s");
	size_t i, n = json_array_size(cpus);

	json_array_foreach(cpus, i, k) {
		u += num(k, "user");
		s += num(k, "sys") + num(k, "irq");
		q += num(k, "softirq");
	}
	if (n) {
		r->cpu_user = u / (double)n;
		r->cpu_sys = s / (double)n;
		r->cpu_softirq = q / (double)n;
		r->cpu_idle = fmax(0, 100 - r->cpu_user - r->cpu_sys - r->cpu_softirq);
	}
	r->irq_per_s = num(w, "irq_per_s");
	r->softirq_per_s = num(w, "net_rx_per_s");
	r->cs_per_s = num(w, "cs_per_s");
	r->busy_polled = num(w, "busy_polled");
	r->cycles = num(w, "cycles");
	r->instructions = num(w, "instructions");
	if (isfinite(r->cycles) && isfinite(r->instructions) && r->cycles > 0) {
		double queries = r->qps * wall;
		r->ipc = r->instructions / r->cycles;
		if (queries > 0) {
			r->cpq = r->cycles / queries;
			r->ipq = r->instructions / queries;
		}
	}
	const char *why = json_string_value(json_object_get(w, "perf"));
	if (why && !M.perf_why[0])
		snprintf(M.perf_why, sizeof(M.perf_why), "%s", why);
	else if (!why)
		M.perf_ok = 1;
}

/* Writes the server's file of a run (logs/, beside the clients'): the
 * window's measurements and its request counters; warns when the server
 * counted other requests than the clients sent. */
static void server_log(const struct run_spec *sp, json_t *w, json_t *kv0, json_t *kv1,
		       unsigned long long sent, unsigned long long unanswered)
{
	long long n = served(kv0, kv1);
	char path[900];
	json_t *o = json_pack("{s:O?, s:O?, s:O?}", "window", w, "stats_before", kv0,
			      "stats_after", kv1);

	json_object_set_new(o, "requests_served", n < 0 ? json_null() : json_integer(n));
	json_object_set_new(o, "requests_sent", json_integer((json_int_t)sent));
	json_object_set_new(o, "requests_unanswered", json_integer((json_int_t)unanswered));
	snprintf(path, sizeof(path), "%s/%s-%s-%.0f-%d-%s.json", M.logs,
		 bench_mode_label(M.c, sp->mode), sp->kind, sp->target_qps, sp->rep, M.h[0].name);
	if (json_dump_file(o, path, JSON_INDENT(1)))
		fprintf(stderr, "irqlab bench: cannot write %s\n", path);
	json_decref(o);
	if (n >= 0 && ((unsigned long long)n < sent || (unsigned long long)n > sent + unanswered))
		fprintf(stderr, "irqlab bench: %s: warning: the server answered %lld requests in "
			"%s %s run %d, the clients %llu (and %llu more were in flight at their end: "
			"another client?)\n", M.h[0].name, n, bench_mode_label(M.c, sp->mode),
			sp->kind, sp->rep, sent, unanswered);
}

/* The clients' answers (summaries into s, *got of them), then the
 * server's window; a server that went away is the cause of what the
 * clients saw. The window's answer in *w. */
static int collect(const struct run_spec *sp, const int *ids, const int sids[2],
		   struct il_load_summary *s, int *got, json_t **w, char *err, size_t len)
{
	double limit = M.c->warmup + M.c->duration + 90;
	int rc = 0;
	char e2[400];

	for (int i = 1; i < M.n && !rc; i++) {
		json_t *a = host_wait(&M.h[i], ids[i - 1], limit, err, len);
		rc = !a || client_summary(i, a, sp, &s[*got], err, len);
		*got += !rc;
		json_decref(a);
	}
	if (!host_alive(&M.h[0], e2, sizeof(e2))) {
		snprintf(err, len, "%s", e2);
		return -1;
	}
	if (rc)
		return -1;
	json_decref(host_wait(&M.h[0], sids[0], 30, err, len));
	*w = host_wait(&M.h[0], sids[1], 30, err, len);
	return *w ? 0 : -1;
}

/* Keeps each client's QPS and p99 of a run for report.md. An open-loop
 * client that missed its target while every other client met theirs is
 * said at once (the server kept up, this host did not); a client with less
 * QPS than the others only when it recurs (slow_clients: one low run on a
 * busy host is noise, and a few late sends are too). */
static void per_host(const struct run_spec *sp, const struct il_load_summary *s, int n)
{
	double sum = 0;
	int met = 0;	/* open loop: clients that reached their target */

	for (int i = 0; i < n; i++) {
		sum += s[i].qps;
		met += !s[i].generator.below_target;
	}
	for (int i = 0; i < n; i++) {
		if (M.nph == M.cph) {
			int cap = M.cph ? 2 * M.cph : 64;
			struct per_host *p = realloc(M.ph, (size_t)cap * sizeof(*p));
			if (!p)
				return;
			M.ph = p;
			M.cph = cap;
		}
		struct per_host *p = &M.ph[M.nph++];
		snprintf(p->run, sizeof(p->run), "%s %s %.0f #%d", bench_mode_label(M.c, sp->mode),
			 sp->kind, sp->target_qps, sp->rep);
		p->host = 1 + i;
		p->qps = s[i].qps;
		p->target = s[i].target_qps;
		p->p99 = s[i].lat[IL_OP_GET][IL_LAT_CORRECTED].p[3];	/* il_load_q[3] = 0.99 */
		double others = n > 1 ? (sum - s[i].qps) / (n - 1) : s[i].qps;
		p->share = others > 0 ? s[i].qps / others : 1;
		p->behind = n > 1 && s[i].generator.below_target && met == n - 1;
		if (p->behind)
			fprintf(stderr, "irqlab bench: %s: warning: its irqlab-load reached %.0f of the "
				"%.0f QPS it was given in %s, the other clients all of theirs: this "
				"client host limits the run\n", M.h[1 + i].name, s[i].qps,
				s[i].target_qps, p->run);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Says which client hosts were slow in most of their runs: below 80% of
 * the other clients' QPS or alone short of an open-loop target, in at
 * least 2 runs and more than half of them.
 * One line per such host to f, each starting with prefix. */
static void slow_clients(FILE *f, const char *prefix)
{
	if (M.n < 3)	/* one client: no others to compare with */
		return;
	for (int h = 1; h < M.n; h++) {
		double share[512];
		int runs = 0, low = 0;

		for (int i = 0; i < M.nph && runs < 512; i++)
			if (M.ph[i].host == h) {
				share[runs++] = M.ph[i].share;
				low += M.ph[i].share < 0.8 || M.ph[i].behind;
			}
		if (low < 2 || 2 * low <= runs)
			continue;
		qsort(share, (size_t)runs, sizeof(share[0]), cmp_double);
		fprintf(f, "%s%s: below 80%% of the other clients' QPS, or alone short of its "
			"target, in %d of %d runs (median %.0f%% of their QPS): a slow client host "
			"(its summaries are in logs/)\n",
			prefix, M.h[h].name, low, runs, 100 * share[runs / 2]);
	}
}

/* The requests the clients had answered, and in *unanswered those still
 * in flight when they stopped (the server may have counted those too). */
static unsigned long long clients_sent(const struct il_load_summary *s, int n,
				       unsigned long long *unanswered)
{
	unsigned long long t = 0;

	*unanswered = 0;
	for (int i = 0; i < n; i++) {
		t += s[i].totals.gets + s[i].totals.sets;
		*unanswered += s[i].totals.unanswered;
	}
	return t;
}

static int multi_run(void *ctx, const struct run_spec *sp, struct il_result *r,
		     char *err, size_t len)
{
	struct il_load_summary s[BENCH_MAX_CLIENTS], m;
	int ids[BENCH_MAX_CLIENTS], sids[2], got = 0, rc = 0;
	double rtt = 0;
	struct timespec now;
	json_t *w = NULL, *kv0, *kv1 = NULL;
	char e2[300];

	(void)ctx;
	if (!host_alive(&M.h[0], err, len))	/* its agent restored and stopped */
		return -1;
	if (!(kv0 = kv_stats(e2, sizeof(e2))))
		fprintf(stderr, "irqlab bench: warning: %s\n", e2);
	for (int i = 0; i < M.n; i++)
		rtt = fmax(rtt, M.h[i].rtt_s);
	clock_gettime(CLOCK_REALTIME, &now);
	/* one instant on this clock; each host gets it on its own */
	double start_at = (double)now.tv_sec + now.tv_nsec / 1e9 + 0.5 + 2 * rtt;
	for (int i = 1; i < M.n && !rc; i++) {
		json_t *job = load_job(sp, start_at + M.h[i].offset_s, err, len);
		ids[i - 1] = job ? host_send(&M.h[i], job, err, len) : -1;
		json_decref(job);
		rc = ids[i - 1] < 0;
	}
	if (!rc)
		rc = stats_jobs(start_at, sids, err, len);
	if (!rc)
		rc = collect(sp, ids, sids, s, &got, &w, err, len);
	if (!rc && kv0 && !(kv1 = kv_stats(e2, sizeof(e2))))
		fprintf(stderr, "irqlab bench: warning: %s\n", e2);
	if (!rc) {
		unsigned long long u, t = clients_sent(s, got, &u);
		server_log(sp, w, kv0, kv1, t, u);
		per_host(sp, s, got);
	}
	if (!rc)
		rc = merge(&m, s, got, err, len);
	if (!rc) {
		rc = bench_result_from_load(&m, r, err, len);
		il_load_summary_free(&m);
	}
	if (!rc)
		server_fill(r, w);
	for (int i = 0; i < got; i++)
		il_load_summary_free(&s[i]);
	json_decref(w);
	json_decref(kv0);
	json_decref(kv1);
	return rc ? -1 : 0;
}

/* --- open and close ------------------------------------------------------------ */

/* --- --install ----------------------------------------------------------------- */

/* s as one single-quoted word for the remote shell. */
static const char *q(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	buf[n++] = '\'';
	for (; *s && n + 6 < len; s++)
		if (*s == '\'') {
			memcpy(buf + n, "'\\''", 4);
			n += 4;
		} else {
			buf[n++] = *s;
		}
	buf[n++] = '\'';
	buf[n] = 0;
	return buf;
}

/* One host: 0 when --remote-bin there has this build (nothing to do) or
 * after copying it to a fresh /tmp/irqlab-run.* (h->bindir, h->agent);
 * -1 with why in err. */
static int install_host(struct host *h, char *err, size_t len)
{
	static const char *const bins[] = { "irqlab", "irqlab-kv", "irqlab-load",
					    "libirqlab-preload.so" };
	char cmd[1400], qa[700], qb[700], out[4096], why[300];
	const char *rb = M.c->remote_bin_dir;
	json_t *rbuild;
	int had;

	snprintf(cmd, sizeof(cmd), "%s/irqlab agent --build-id --bin-dir %s 2>/dev/null",
		 q(rb, qa, sizeof(qa)), q(rb, qb, sizeof(qb)));
	int rc = host_exec(h, &M.how, cmd, -1, out, sizeof(out));
	if (rc == 255 || rc < 0) {
		host_ssh_why(h, why, sizeof(why));
		snprintf(err, len, "%s", why);
		return -1;
	}
	had = rc == 0;
	rbuild = had ? json_loads(out, 0, NULL) : NULL;
	int same = rbuild && !irqlab_build_differs(M.build, rbuild, why, sizeof(why));
	json_decref(rbuild);
	if (same)
		return 0;
	if (host_exec(h, &M.how, "uname -m", -1, out, sizeof(out)) != 0) {
		snprintf(err, len, "uname -m failed there");
		return -1;
	}
	out[strcspn(out, "\r\n")] = 0;
	const char *lm = json_string_value(json_object_get(M.build, "machine"));
	if (strcmp(out, lm)) {
		snprintf(err, len, "it is %.60s, this machine %s: --install copies this machine's "
			 "binaries; install irqlab there (--remote-bin)", out, lm);
		return -1;
	}
	if (host_exec(h, &M.how, "mktemp -d /tmp/irqlab-run.XXXXXX", -1, out, sizeof(out)) != 0 ||
	    strncmp(out, "/tmp/irqlab-run.", 16)) {
		snprintf(err, len, "cannot make a directory in /tmp there (mktemp -d)");
		return -1;
	}
	out[strcspn(out, "\r\n")] = 0;
	snprintf(h->bindir, sizeof(h->bindir), "%.250s", out);
	for (int i = 0; i < 4; i++) {
		char local[700], dst[400];
		snprintf(local, sizeof(local), "%s/%s", M.selfdir, bins[i]);
		snprintf(dst, sizeof(dst), "%s/%s", h->bindir, bins[i]);
		int fd = open(local, O_RDONLY | O_CLOEXEC);
		if (fd < 0 && i == 3)	/* the shim: only memcached needs it */
			continue;
		if (fd < 0) {
			snprintf(err, len, "--install: %.300s: %s", local, strerror(errno));
			return -1;
		}
		snprintf(cmd, sizeof(cmd), "cat > %s && chmod 755 %s", q(dst, qa, sizeof(qa)),
			 q(dst, qb, sizeof(qb)));
		rc = host_exec(h, &M.how, cmd, fd, NULL, 0);
		close(fd);
		if (rc) {
			snprintf(err, len, "copying %s to %.300s failed (exit %d)", bins[i], dst, rc);
			return -1;
		}
	}
	snprintf(h->agent, sizeof(h->agent), "%s/irqlab agent --bin-dir %s",
		 q(h->bindir, qa, sizeof(qa)), q(h->bindir, qb, sizeof(qb)));
	fprintf(stderr, "irqlab bench: %s: this build installed in %s for the run (%s)\n",
		h->name, h->bindir, had ? "another build in --remote-bin" :
		"none in --remote-bin");
	return 0;
}

static int install(char *err, size_t len)
{
	int bad = 0;

	for (int i = 0; i < M.n; i++) {
		char e[400];
		if (install_host(&M.h[i], e, sizeof(e)))
			fail(err, len, &bad, &M.h[i], e);
	}
	return bad ? -1 : 0;
}

/* Removes the per-run directories --install made (after the agents that
 * ran from there ended). */
static void uninstall(void)
{
	for (int i = 0; i < M.n; i++) {
		char cmd[700], qa[400];
		if (!M.h[i].bindir[0])
			continue;
		snprintf(cmd, sizeof(cmd), "rm -rf %s", q(M.h[i].bindir, qa, sizeof(qa)));
		if (host_exec(&M.h[i], &M.how, cmd, -1, NULL, 0))
			fprintf(stderr, "irqlab bench: %s: could not remove %s\n", M.h[i].name,
				M.h[i].bindir);
		M.h[i].bindir[0] = 0;
		host_close(&M.h[i], &M.how);	/* the master connection rm started */
	}
}

static int setup(const struct bench_cfg *c, char *err, size_t len)
{
	memset(&M, 0, sizeof(M));
	M.c = c;
	snprintf(M.ssh, sizeof(M.ssh), "%s", c->ssh[0] ? c->ssh : "ssh");
	snprintf(M.logs, sizeof(M.logs), "%s/logs", c->out_dir);
	/* control sockets want a short path (sun_path is 108 bytes) */
	snprintf(M.ctl, sizeof(M.ctl), "/tmp/irqlab-ssh-XXXXXX");
	if (!mkdtemp(M.ctl)) {
		snprintf(err, len, "mkdtemp: %s", strerror(errno));
		return -1;
	}
	snprintf(M.agent, sizeof(M.agent), "%s/irqlab agent --bin-dir %s",
		 c->remote_bin_dir, c->remote_bin_dir);
	ssize_t k = readlink("/proc/self/exe", M.self, sizeof(M.self) - 1);
	M.self[k > 0 ? k : 0] = 0;
	snprintf(M.selfdir, sizeof(M.selfdir), "%s", M.self);
	char *slash = strrchr(M.selfdir, '/');
	if (slash)
		*slash = 0;
	M.build = irqlab_build(M.self, M.selfdir);
	M.how = (struct hosts_how){ .ssh = M.ssh, .dir = M.ctl, .agent = M.agent, .logs = M.logs };
	snprintf(M.h[0].name, sizeof(M.h[0].name), "%s", c->server_host);
	for (int k = 0; k < c->nclients; k++)
		snprintf(M.h[1 + k].name, sizeof(M.h[0].name), "%s", c->client_hosts[k]);
	M.n = 1 + c->nclients;
	for (int i = 0; i < M.n; i++)	/* not open yet: nothing to close */
		M.h[i].to = M.h[i].from = -1;
	return 0;
}

int multi_open(const struct bench_cfg *c, struct bench_ops *ops, char *err, size_t len)
{
	static const struct bench_ops mops = {
		.mode_begin = multi_mode_begin,
		.mode_end = multi_mode_end,
		.run = multi_run,
	};

	if (setup(c, err, len))
		return -1;
	M.open = 1;
	atexit(multi_close);
	signal(SIGPIPE, SIG_IGN);	/* a host that hung up is an error, not a death */
	if (c->install && install(err, len))
		return -1;
	for (int i = 0; i < M.n; i++)
		if (host_open(&M.h[i], &M.how, err, len))
			return -1;
	if (preflight(err, len))
		return -1;
	*ops = mops;
	return 0;
}

/* The control sockets' directory: a master told to exit removes its
 * socket a moment later. */
static void rm_ctl(void)
{
	for (int i = 0; i < 50 && rmdir(M.ctl) && errno == ENOTEMPTY; i++)
		usleep(20000);
}

int multi_restore(const struct bench_cfg *c)
{
	char err[300], line[800], cmd[2048], qa[700], out[16384];
	int bad = 0;

	if (setup(c, err, sizeof(err))) {
		fprintf(stderr, "irqlab bench: %s\n", err);
		return 1;
	}
	snprintf(M.logs, sizeof(M.logs), "%s", M.ctl);	/* no output directory */
	signal(SIGPIPE, SIG_IGN);
	snprintf(line, sizeof(line), "%s/irqlab agent --restore 2>&1", q(c->remote_bin_dir, qa,
		 sizeof(qa)));
	host_as_root(line, cmd, sizeof(cmd));
	for (int i = 0; i < M.n; i++) {
		struct host *h = &M.h[i];
		int rc = host_exec(h, &M.how, cmd, -1, out, sizeof(out));
		if (rc == 255 || rc < 0) {
			host_ssh_why(h, out, sizeof(out));
			fprintf(stderr, "irqlab bench: %s: %s\n", h->name, out);
		} else {
			for (char *save, *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
				printf("%s: %s\n", h->name, l);
		}
		bad += rc != 0;
		host_close(h, &M.how);
		unlink(h->errpath);
	}
	rm_ctl();
	json_decref(M.build);
	M.build = NULL;
	return bad ? 1 : 0;
}

void multi_close(void)
{
	if (!M.open)
		return;
	M.open = 0;
	for (int i = 0; i < M.n; i++)
		host_hangup(&M.h[i]);	/* all agents restore at once */
	for (int i = 0; i < M.n; i++)
		host_close(&M.h[i], &M.how);
	uninstall();
	slow_clients(stderr, "irqlab bench: warning: ");
	rm_ctl();	/* M.ph stays: report.md is written after this */
	json_decref(M.build);
	M.build = NULL;
}

void multi_md_setup(FILE *f, const struct bench_cfg *c)
{
	fprintf(f, "- Hosts, over ssh (`irqlab agent` on each, docs/multihost.md):\n");
	for (int i = 0; M.line_ptr[i]; i++)
		fprintf(f, "  - %s\n", M.line_ptr[i]);
	fprintf(f, "- Server: %s on %s, %d thread(s) pinned to the first %d CPU(s); "
		   "device `%s`: a queue per server core, RPS off, each queue's IRQ on its own "
		   "core, coalescing adaptive for `adaptive` and off for the other modes, where "
		   "the device has them%s. Every old value is restored after each mode.\n",
		strcmp(c->server, "kv") ? "memcached under libirqlab-preload.so (the mode through "
		"its environment)" : "irqlab-kv", c->server_host, c->srv_cores, c->srv_cores, c->dev,
		M.has_coalesce ? "" : " (this device has no interrupt coalescing)");
	if (M.nic_line[0])
		fprintf(f, "- Server device %s (logs/nic-before-%s.json).\n", M.nic_line,
			M.h[0].name);
	fprintf(f, "- Load: irqlab-load on %d client host(s), %d thread(s), %d connections "
		   "and depth %d each, the target rate split evenly, all started at one "
		   "wall-clock instant; the hosts' histograms merged (counts add, percentiles "
		   "of the merged histogram); each host's summary is in logs/.\n",
		M.n - 1, c->client_threads, c->connections, c->depth);
}

const char *multi_md_perf(void)
{
	static char line[400];

	if (M.perf_ok)
		snprintf(line, sizeof(line), "cycles and instructions of the server's cores "
			 "(%s), every task and the kernel included", M.h[0].name);
	else
		snprintf(line, sizeof(line), "%s: %s", M.h[0].name,
			 M.perf_why[0] ? M.perf_why : "not read");
	return line;
}

void multi_md_reading(FILE *f, const struct bench_cfg *c)
{
	fprintf(f, "- Server figures are measured on %s for the clients' measured window "
		   "(after their warm-up; `irqlab agent` stats-begin/stats-end): the CPU split "
		   "is of the server's %d core(s) from /proc/stat (every task on them, not only "
		   "the server: the server host should run nothing else), averaged over them, "
		   "hard-IRQ time counted as sys, steal as idle; idle = 100 - the rest. IRQ/s and "
		   "NET_RX/s are summed over those cores, context switches are the server "
		   "process's, busy-polled packets are counted in the server's network namespace. "
		   "Each run's per-core split (user, sys, irq, softirq, steal, idle) and the "
		   "server's request counters before and after are in logs/ (the file named after "
		   "the server host).\n", c->server_host, c->srv_cores);
	if (M.nph) {
		fprintf(f, "- Each client host's share of each run (QPS, get p99 from the scheduled "
			   "send), so a slow client shows:\n\n  | run | host | target QPS | QPS | "
			   "p99 us |\n  |---|---|---|---|---|\n");
		for (int i = 0; i < M.nph; i++)
			fprintf(f, "  | %s | %s | %.0f | %.0f | %.0f |\n", M.ph[i].run,
				M.h[M.ph[i].host].name, isfinite(M.ph[i].target) ? M.ph[i].target : 0,
				M.ph[i].qps, M.ph[i].p99);
		fputc('\n', f);
		slow_clients(f, "- Slow client host ");
	}
	fprintf(f, "- The hosts' clocks are compared at the start (offset in Setup); each host "
		   "gets the common start instant on its own clock.\n");
	fprintf(f, "- Compare modes within this run (ratios); absolute numbers depend on the "
		   "machines, their NIC and what else runs there.\n");
}
