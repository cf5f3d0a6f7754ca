/* irqlab-load: a memcached load generator whose numbers can be trusted.
 * Options follow mutilate's names where they exist. */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "irqlab/signals.h"
#include "load.h"

static pthread_barrier_t barrier;

static void on_stop(int sig, void *arg)
{
	(void)sig;
	(void)arg;
	load_stop = 1;
}
static atomic_int g_abort, g_finished;

/* Each --server to an address, as the client host sees it. */
static int resolve(const struct il_load_opts *o, struct env *env, char *err, size_t len)
{
	for (int i = 0; i < o->nservers; i++) {
		const struct il_load_server *in = &o->servers[i];
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
		struct server *sv = &env->servers[i];
		int rc = getaddrinfo(in->host, in->port, &hints, &res);

		if (rc) {
			snprintf(err, len, "--server: cannot resolve '%s': %s", in->host,
				 gai_strerror(rc));
			return -1;
		}
		snprintf(sv->name, sizeof(sv->name), "%s:%s", in->host, in->port);
		memcpy(&sv->sa, res->ai_addr, res->ai_addrlen);
		sv->salen = res->ai_addrlen;
		freeaddrinfo(res);
	}
	return 0;
}

/* auto: io_uring where the kernel lets us (it may be disabled by sysctl,
 * or refused by a sandbox or valgrind), else epoll with a note. */
static int pick_engine(const struct il_load_opts *o, struct env *env, char *err, size_t len)
{
	char why[200];

	env->engine = o->engine;
	if (o->engine == IL_ENGINE_EPOLL)
		return 0;
	if (uring_probe(why, sizeof(why)) == 0) {
		env->engine = IL_ENGINE_URING;
		return 0;
	}
	if (o->engine == IL_ENGINE_URING) {
		snprintf(err, len, "--engine: uring not available: %s", why);
		return -1;
	}
	fprintf(stderr, "irqlab-load: note: io_uring not available (%s): using epoll\n", why);
	env->engine = IL_ENGINE_EPOLL;
	return 0;
}

/* What needs the servers and the engine: --batch waits for several
 * completions at once, which only io_uring can; hardware stamps need a NIC
 * that makes them. */
static int check_stamps(const struct il_load_opts *o, const struct env *env, char *err,
			size_t len)
{
	if (o->batch > 1 && env->engine != IL_ENGINE_URING) {
		snprintf(err, len, "--batch: needs --engine uring (epoll wakes for every reply)");
		return -1;
	}
	for (int i = 0; o->timestamps == IL_TSTAMP_HW && i < o->nservers; i++)
		if (hwstamp_check(&env->servers[i], err, len) < 0)
			return -1;
	return 0;
}

/* --start-at T: ns of CLOCK_REALTIME left until T; -1 with why if T has
 * passed. */
static int64_t start_left_ns(double at, char *err, size_t len)
{
	struct timespec rt;
	int64_t left;

	clock_gettime(CLOCK_REALTIME, &rt);
	left = llround(at * 1e9) - ((int64_t)rt.tv_sec * 1000000000LL + rt.tv_nsec);
	if (left <= 0) {
		snprintf(err, len, "--start-at: %.6f is %.3fs in the past (a unix time, e.g. "
			 "$(($(date +%%s) + 5)))", at, -left / 1e9);
		return -1;
	}
	return left;
}

/* Sleeps until --start-at's wall-clock instant is 2 ms away (sleeping on
 * CLOCK_REALTIME follows a clock step during the wait), then turns the
 * instant into CLOCK_MONOTONIC, the clock of the schedule; a wake-up past
 * the instant starts at once (the summary's started_at shows by how much).
 * 0, or -1 with why: the instant passed while connecting and preloading, or
 * a signal came. */
static int wait_start(double at, uint64_t *origin, char *err, size_t len)
{
	int64_t left = start_left_ns(at, err, len), wake = llround(at * 1e9) - 2000000;
	struct timespec ts = { (time_t)(wake / 1000000000LL), (long)(wake % 1000000000LL) };
	uint64_t mono;

	if (left < 0) {
		snprintf(err, len, "--start-at: %.6f passed before the load could start "
			 "(connecting and preloading took longer; give a later time)", at);
		return -1;
	}
	while (!load_stop && left > 2000000) {
		clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL);
		left = start_left_ns(at, err, len);
	}
	if (load_stop) {
		snprintf(err, len, "interrupted while waiting for --start-at");
		return -1;
	}
	mono = il_now_ns();
	left = start_left_ns(at, err, len);
	*origin = mono + (left > 0 ? (uint64_t)left : 0);
	return 0;
}

/* Options, servers and engine; exits with status 2 on bad input (0 after
 * --help). */
static void setup(struct il_load_opts *o, struct env *env, struct workload *w,
		  int argc, char **argv)
{
	char err[400];
	int rc = il_load_opts_parse(o, argc, argv, err, sizeof(err));

	if (rc == 1) {
		il_load_opts_usage(stdout);
		exit(0);
	}
	if (rc == 0 && o->start_at > 0 && start_left_ns(o->start_at, err, sizeof(err)) < 0)
		rc = -1;
	if (rc < 0 || resolve(o, env, err, sizeof(err)) < 0 ||
	    pick_engine(o, env, err, sizeof(err)) < 0 || check_stamps(o, env, err, sizeof(err)) < 0) {
		fprintf(stderr, "irqlab-load: %s\n", err);
		exit(2);
	}
	w->records = o->records;
	w->update = o->update;
	w->keysize = o->keysize;
	w->valuesize = o->valuesize;
	w->zipf = o->zipf_s > 0;
	if (w->zipf && il_zipf_init(&w->z, o->records, o->zipf_s) < 0) {
		fprintf(stderr, "irqlab-load: --popularity: zipf:S needs S > 0\n");
		exit(2);
	}
}

static int write_hgrm(const char *path, const struct il_load_summary *s)
{
	FILE *f = fopen(path, "w");
	int rc = f ? il_load_summary_hgrm(f, s) : -1;

	if (f && fclose(f))
		rc = -1;
	if (rc < 0)
		fprintf(stderr, "irqlab-load: --hdr: cannot write %s: %s\n", path, strerror(errno));
	return rc;
}

static void *thread_main(void *arg)
{
	struct thread *t = arg;
	const struct il_load_opts *o = t->o;

	if (o->ncpus) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(o->cpus[t->id % o->ncpus], &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set)) {
			snprintf(t->err, sizeof(t->err), "--cpus: cannot pin to CPU %d",
				 o->cpus[t->id % o->ncpus]);
			t->failed = 1;
		}
	}
	if (!t->failed && thread_setup(t, t->err, sizeof(t->err)) < 0)
		t->failed = 1;
	pthread_barrier_wait(&barrier);		/* connected */
	pthread_barrier_wait(&barrier);		/* go / no go */
	if (atomic_load(&g_abort))
		goto out;
	if (!o->noload && thread_preload(t) < 0)
		t->failed = 1;
	pthread_barrier_wait(&barrier);		/* preloaded */
	pthread_barrier_wait(&barrier);		/* origin set */
	if (atomic_load(&g_abort) || o->loadonly)
		goto out;
	if (thread_run(t) < 0)
		t->failed = 1;
	atomic_fetch_add(&g_finished, 1);
out:
	thread_stop_io(t);
	return NULL;
}

static int first_failure(struct thread *ts, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (ts[i].failed) {
			fprintf(stderr, "irqlab-load: thread %u: %s\n", i,
				ts[i].err[0] ? ts[i].err : "failed");
			return 1;
		}
	return 0;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ULL), (long)(ns % 1000000000ULL) };

	nanosleep(&ts, NULL);
}

/* --ci: stop every thread's window once p99 is known well enough. */
static void ci_stop(struct thread *ts, const struct il_load_opts *o, uint64_t now)
{
	double w;

	if (o->ci > 0 && now > ts[0].t_meas && !load_stop &&
	    checks_ci_reached(ts, o->threads, o->ci, &w)) {
		load_stop = 2;
		if (!o->json)
			fprintf(stderr, "irqlab-load: p99 known to +-%.1f%% after %.1fs of %.1fs (--ci)\n",
				100 * w, (now - ts[0].t_meas) / 1e9, o->time);
	}
}

/* A progress line on a terminal only; pipes and files get just the result.
 * Twice a second, --ci's stop rule. */
static void progress(struct thread *ts, const struct il_load_opts *o, uint64_t origin)
{
	int tty = isatty(STDERR_FILENO), tick = 0;
	uint64_t last = 0, last_t = origin;

	while ((unsigned)atomic_load(&g_finished) < o->threads) {
		uint64_t now, done = 0;

		sleep_ns(tty ? 500000000ULL : 50000000ULL);
		now = il_now_ns();
		if (tty || ++tick % 10 == 0)
			ci_stop(ts, o, now);
		if (!tty)
			continue;
		for (unsigned i = 0; i < o->threads; i++)
			done += ts[i].progress;
		fprintf(stderr, "\r%s %5.1fs  %10.0f QPS   ",
			now < origin + (uint64_t)(o->warmup * 1e9) ? "warm-up" : "running",
			(double)(now - origin) / 1e9,
			now > last_t ? (done - last) * 1e9 / (double)(now - last_t) : 0.0);
		last = done;
		last_t = now;
	}
	if (tty)
		fprintf(stderr, "\r%60s\r", "");
}

/* The main thread's side of thread_main's barriers (connected, go,
 * preloaded, origin set), then the progress line until the threads end.
 * 0, or 1 when a thread failed or --start-at could not be kept. */
static int run_phases(struct thread *ts, const struct il_load_opts *o)
{
	char err[300];
	uint64_t t0, origin;
	int rc;

	pthread_barrier_wait(&barrier);
	if ((rc = first_failure(ts, o->threads)))
		atomic_store(&g_abort, 1);
	pthread_barrier_wait(&barrier);
	if (rc)
		return rc;
	t0 = il_now_ns();
	pthread_barrier_wait(&barrier);
	if ((rc = first_failure(ts, o->threads)) == 0 && !o->noload && !o->json)
		fprintf(stderr, "preloaded %llu records in %.2fs\n",
			(unsigned long long)o->records, (il_now_ns() - t0) / 1e9);
	origin = il_now_ns() + 1000000;	/* every thread starts on the same tick */
	if (!rc && !o->loadonly && o->start_at > 0 &&
	    wait_start(o->start_at, &origin, err, sizeof(err)) < 0) {
		fprintf(stderr, "irqlab-load: %s\n", err);
		rc = 1;
	}
	if (rc)
		atomic_store(&g_abort, 1);
	for (unsigned i = 0; i < o->threads; i++) {
		ts[i].origin = origin;
		ts[i].t_meas = origin + (uint64_t)(o->warmup * 1e9);
		ts[i].t_end = ts[i].t_meas + (uint64_t)(o->time * 1e9);
		ts[i].t_deadline = ts[i].t_end + (uint64_t)(o->timeout * 1e9);
	}
	pthread_barrier_wait(&barrier);
	if (!rc && !o->loadonly)
		progress(ts, o, origin);
	return rc;
}

/* After the threads ended: their errors, then the summary (table or JSON,
 * and --hdr). 0, or 1 if every thread died or the output failed. */
static int report(struct thread *ts, const struct il_load_opts *o, const struct env *env)
{
	struct il_load_summary sum;
	double wall = o->time;
	unsigned dead = 0;
	int rc = 0;

	for (unsigned i = 0; i < o->threads; i++) {
		dead += ts[i].failed != 0;
		if (ts[i].failed || ts[i].err[0])
			fprintf(stderr, "irqlab-load: thread %u: %s\n", i, ts[i].err);
	}
	if (load_stop) {	/* interrupted or --ci: the window was shorter */
		wall = (ts[0].t_end - ts[0].t_meas) / 1e9;
		if (load_stop == 1)
			fprintf(stderr, "irqlab-load: interrupted, reporting %.2fs\n", wall);
	}
	if (load_summarize(&sum, o, env, ts, o->threads, wall) < 0)
		return 1;
	if (o->json)
		il_load_summary_write(stdout, &sum);
	else
		load_print_text(stdout, &sum);
	if (o->hdr[0] && write_hgrm(o->hdr, &sum) < 0)
		rc = 1;
	il_load_summary_free(&sum);
	return dead == o->threads ? 1 : rc;
}

int main(int argc, char **argv)
{
	static struct env env;
	struct il_load_opts o;
	struct workload w = { 0 };
	struct thread *ts;
	pthread_t *tids;
	char err[300];
	int rc;

	signal(SIGPIPE, SIG_IGN);
	setup(&o, &env, &w, argc, argv);
	/* Ctrl-C ends the window early and still reports; a thread notices
	 * at its next wake-up (a reply, a send, the window end). */
	il_signals_on_stop(SIGINT, on_stop, NULL);
	il_signals_on_stop(SIGTERM, on_stop, NULL);
	if (workload_init(&w, err, sizeof(err)) < 0) {
		fprintf(stderr, "irqlab-load: %s\n", err);
		return 1;
	}
	ts = calloc(o.threads, sizeof(*ts));
	tids = calloc(o.threads, sizeof(*tids));
	if (!ts || !tids)
		return 1;
	for (unsigned i = 0; i < o.threads; i++)
		ts[i] = (struct thread){ .id = (int)i, .o = &o, .env = &env, .w = &w,
					 .nconns = o.conns, .ep = -1 };
	pthread_barrier_init(&barrier, NULL, o.threads + 1);
	for (unsigned i = 0; i < o.threads; i++)
		pthread_create(&tids[i], NULL, thread_main, &ts[i]);
	rc = run_phases(ts, &o);
	for (unsigned i = 0; i < o.threads; i++)
		pthread_join(tids[i], NULL);
	if (!rc && !o.loadonly)
		rc = report(ts, &o, &env);
	for (unsigned i = 0; i < o.threads; i++)
		thread_teardown(&ts[i]);
	pthread_barrier_destroy(&barrier);
	workload_free(&w);
	free(ts);
	free(tids);
	return rc;
}
