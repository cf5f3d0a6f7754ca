/* The simulated backend: irqlab-sim's model in this process (sim/sim.h),
 * one experiment per job, on as many threads as asked (the model keeps its
 * state in struct sim, so runs are independent). A job is the config file
 * with the candidate's mode spec and NIC coalescing, the rate, the run
 * length and the seed set as irqlab-sim's --set would. */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "irqlab/dist.h"
#include "irqlab/hist.h"
#include "sim/sim.h"
#include "tune.h"

struct tune_sim {
	struct experiment base;
	int threads;
	double noise;		/* injected noise, relative sd (tests) */
	double k;		/* wall seconds per simulated request, learned */
	double closed_qps;	/* a closed-loop rate seen, for estimates */
	char desc[256];
	/* one batch */
	const struct tune_space *sp;
	struct tune_job *jobs;
	int n, next;
	pthread_mutex_t mu;
};

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int set(struct experiment *e, const char *k, const char *v, struct tune_job *j)
{
	return experiment_set(e, k, v, j->err, sizeof(j->err));
}

/* The job's experiment: the base with the candidate on top. */
static int job_experiment(const struct tune_sim *ts, const struct tune_cand *c,
			  struct tune_job *j, struct experiment *e)
{
	char v[64];

	*e = ts->base;
	if (set(e, "mode.spec", c->spec, j) || set(e, "experiment.name", c->label, j))
		return -1;
	switch (c->coal) {
	case TC_AS_IS:
		break;
	case TC_ADAPTIVE:
		if (set(e, "nic.coalesce", "adaptive", j))
			return -1;
		break;
	case TC_OFF:	/* irqlab nic's "off": an interrupt per packet */
		if (set(e, "nic.coalesce", "static", j) || set(e, "nic.rx_usecs", "0", j) ||
		    set(e, "nic.rx_frames", "1", j))
			return -1;
		break;
	case TC_STATIC:
		snprintf(v, sizeof(v), "%uus", c->rx_usecs);
		if (set(e, "nic.coalesce", "static", j) || set(e, "nic.rx_usecs", v, j))
			return -1;
		snprintf(v, sizeof(v), "%u", c->rx_frames);
		if (set(e, "nic.rx_frames", v, j))
			return -1;
		break;
	}
	if (j->qps > 0) {
		snprintf(v, sizeof(v), "%.0f", j->qps);
		if (set(e, "workload.load", "open", j) || set(e, "workload.qps", v, j))
			return -1;
	} else if (set(e, "workload.load", "closed", j)) {
		return -1;
	}
	snprintf(v, sizeof(v), "%.0fns", j->run_s * 1e9);
	if (set(e, "run.time", v, j))
		return -1;
	snprintf(v, sizeof(v), "%llu", (unsigned long long)j->seed);
	if (set(e, "run.seed", v, j))
		return -1;
	return experiment_finish(e, j->err, sizeof(j->err));
}

/* Tests: multiplicative noise on CPU and latency, sd ts->noise. */
static void add_noise(const struct tune_sim *ts, struct tune_job *j)
{
	struct il_rng rng;
	double z[2];

	il_rng_seed(&rng, j->seed * 1000003u + (uint64_t)j->cand * 7919u + (uint64_t)(j->run_s * 1e6));
	for (int i = 0; i < 2; i++) {	/* Box-Muller */
		double u1 = il_rng_uniform_pos(&rng), u2 = il_rng_uniform(&rng);
		z[i] = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
	}
	double busy = 100 - j->r.cpu_idle, f = exp(ts->noise * z[1]);
	busy = fmin(100, fmax(0, busy * (1 + ts->noise * z[0])));
	j->r.cpu_idle = 100 - busy;
	j->r.p50_us *= f;
	j->r.p95_us *= f;
	j->r.p99_us *= f;
	j->p999_us *= f;
}

static void run_one(struct tune_sim *ts, struct tune_job *j)
{
	struct experiment e;
	struct sim s;
	double t = mono();

	j->rc = -1;
	if (j->cand < 0 || j->cand >= ts->sp->n ||
	    job_experiment(ts, &ts->sp->c[j->cand], j, &e))
		return;
	if (sim_init(&s, &e)) {
		snprintf(j->err, sizeof(j->err), "out of memory");
		return;
	}
	sim_run(&s);
	sim_result_fill(&s, &j->r);
	j->p999_us = s.st.completed ? (double)il_hist_quantile(s.lat, 0.999) / 1e3 : NAN;
	sim_free(&s);
	if (ts->noise > 0)
		add_noise(ts, j);
	j->wall_s = mono() - t;
	j->rc = 0;
}

static void *worker(void *arg)
{
	struct tune_sim *ts = arg;

	for (;;) {
		pthread_mutex_lock(&ts->mu);
		int i = ts->next < ts->n ? ts->next++ : -1;
		pthread_mutex_unlock(&ts->mu);
		if (i < 0)
			return NULL;
		run_one(ts, &ts->jobs[i]);
	}
}

/* Requests one job simulates (warm-up included): what its time scales with. */
static double requests(const struct tune_sim *ts, const struct tune_job *j)
{
	double rate = j->qps > 0 ? j->qps : ts->closed_qps > 0 ? ts->closed_qps : 1e6;
	return rate * (j->run_s + (double)ts->base.warmup_ns / 1e9);
}

static int sim_run_jobs(void *ctx, const struct tune_space *sp, struct tune_job *jobs, int n,
			char *err, size_t len)
{
	struct tune_sim *ts = ctx;
	pthread_t th[16];
	int nt = ts->threads < n ? ts->threads : n, started = 0;

	ts->sp = sp;
	ts->jobs = jobs;
	ts->n = n;
	ts->next = 0;
	for (int i = 1; i < nt; i++)
		if (!pthread_create(&th[started], NULL, worker, ts))
			started++;
	worker(ts);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	/* learn the cost per request for the estimates */
	double w = 0, q = 0;
	for (int i = 0; i < n; i++) {
		if (jobs[i].rc)
			continue;
		if (jobs[i].qps == 0 && jobs[i].r.qps > 0)
			ts->closed_qps = jobs[i].r.qps;
		w += jobs[i].wall_s;
		q += requests(ts, &jobs[i]);
	}
	if (q > 0)
		ts->k = ts->k > 0 ? 0.5 * ts->k + 0.5 * w / q : w / q;
	(void)err;
	(void)len;
	return 0;
}

static double sim_estimate(void *ctx, const struct tune_job *j)
{
	struct tune_sim *ts = ctx;

	if (ts->k <= 0) {
		/* a pilot: base mode, 10 ms at this rate */
		struct tune_space sp = { 0 };
		char e[64];
		struct tune_job p = { .cand = 0, .qps = j->qps, .run_s = 0.01, .seed = 1 };
		if (tune_space_add(&sp, "base", NULL, e, sizeof(e)) > 0) {
			ts->sp = &sp;
			run_one(ts, &p);
			if (!p.rc && p.qps == 0 && p.r.qps > 0)
				ts->closed_qps = p.r.qps;
			ts->k = p.rc ? 1e-6 : p.wall_s / requests(ts, &p);
		}
		tune_space_free(&sp);
		if (ts->k <= 0)
			ts->k = 1e-6;
	}
	return ts->k * requests(ts, j);
}

struct tune_sim *tune_sim_new(const char *config, const char *const *sets, int nsets,
			      int threads, double noise_pct, char *err, size_t len)
{
	struct tune_sim *ts = calloc(1, sizeof(*ts));

	if (!ts) {
		snprintf(err, len, "out of memory");
		return NULL;
	}
	experiment_defaults(&ts->base);
	if (config && experiment_load(&ts->base, config, err, len))
		goto fail;
	for (int i = 0; i < nsets; i++) {
		char kv[320], *eq;
		snprintf(kv, sizeof(kv), "%s", sets[i]);
		eq = strchr(kv, '=');
		if (!eq) {
			snprintf(err, len, "--set: '%s' is not KEY=VALUE", sets[i]);
			goto fail;
		}
		*eq = '\0';
		if (experiment_set(&ts->base, kv, eq + 1, err, len))
			goto fail;
	}
	struct experiment chk = ts->base;
	if (experiment_finish(&chk, err, len))
		goto fail;
	ts->threads = threads < 1 ? 1 : threads > 16 ? 16 : threads;
	ts->noise = noise_pct / 100;
	pthread_mutex_init(&ts->mu, NULL);
	snprintf(ts->desc, sizeof(ts->desc), "simulated (irqlab-sim model, %s): %d server cores "
		 "at %.1f GHz, %d queues, NIC coalescing %s, %s workload; %g ms warm-up per run",
		 config ? config : "defaults", chk.cores, chk.freq_ghz, chk.queues,
		 chk.coalesce == COAL_ADAPTIVE ? "adaptive" : chk.coalesce == COAL_ITR ? "ITR" :
		 "static", chk.app == APP_MEMCACHED ? "memcached" : "UDP",
		 (double)chk.warmup_ns / 1e6);
	return ts;
fail:
	free(ts);
	return NULL;
}

void tune_sim_backend(struct tune_sim *s, struct tune_backend *be)
{
	memset(be, 0, sizeof(*be));
	be->source = "simulated";
	be->full_s = (double)s->base.time_ns / 1e9;
	be->short_s = be->full_s / 4;
	be->max_reps = 20;
	be->parallel = s->threads;
	be->run = sim_run_jobs;
	be->estimate = sim_estimate;
	be->ctx = s;
}

void tune_sim_free(struct tune_sim *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->mu);
	free(s);
}

const char *tune_sim_describe(const struct tune_sim *s)
{
	return s->desc;
}
