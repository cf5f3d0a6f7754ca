/* irqlab-load: a memcached load generator whose numbers can be trusted.
 * Options follow mutilate's names where they exist. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "load.h"

static pthread_barrier_t barrier;

static void on_signal(int sig)
{
	(void)sig;
	load_stop = 1;
}
static atomic_int g_abort, g_finished;

static void usage(FILE *f)
{
	fprintf(f,
"usage: irqlab-load -s HOST[:PORT] [options]\n"
"  -s, --server=HOST[:PORT]   memcached server (repeatable; port 11211 by default)\n"
"  -T, --threads=N            generator threads, 1..256 (default 1)\n"
"      --cpus=LIST            pin thread i to the i-th CPU of LIST, e.g. 0,2-3\n"
"  -c, --connections=N        connections per thread, 1..4096 (default 1)\n"
"  -d, --depth=N              outstanding requests per connection, 1..4096 (default 1)\n"
"      --protocol=P           text (get/set, default) or meta (mg/ms, memcached 1.6)\n"
"  -q, --qps=N                open loop at N requests/s over all threads; 0 = closed\n"
"                             loop, maximum throughput (default 0)\n"
"  -i, --iadist=DIST          inter-arrival distribution, rescaled to the rate\n"
"                             (default exponential; also fixed, uniform, fb_ia,\n"
"                             pareto:LOC,SCALE,SHAPE...)\n"
"  -K, --keysize=DIST         key size in bytes (default 30; e.g. fb_key)\n"
"  -V, --valuesize=DIST       value size in bytes (default 200; e.g. fb_value)\n"
"  -r, --records=N            number of keys, 1..1000000000 (default 1000000)\n"
"  -u, --update=F             share of sets, 0..1 (default 0.03)\n"
"  -P, --popularity=P         key popularity: uniform or zipf:S (default uniform)\n"
"      --loadonly             only preload the records, then exit\n"
"      --noload               do not preload (measure against what is there)\n"
"      --preload-depth=N      pipeline depth while preloading, 1..4096 (default 64)\n"
"  -w, --warmup=S             seconds of load before measuring, 0..3600 (default 0)\n"
"  -t, --time=S               measured seconds, 0.01..86400 (default 5)\n"
"      --timeout=S            connect timeout and drain time for replies after\n"
"                             the run, 0.01..600 (default 2)\n"
"      --late-us=US           open loop: a send this late with a free connection\n"
"                             means the generator fell behind, 1..1000000 (default 100)\n"
"      --spin-us=US           open loop: wake US early and poll until the send time\n"
"                             (exact schedules, costs CPU), 0..10000 (default 0)\n"
"      --engine=E             I/O engine: uring (io_uring: one system call per\n"
"                             wake-up), epoll, or auto = uring where the kernel\n"
"                             allows it, else epoll (default auto)\n"
"      --seed=N               random seed (default 1)\n"
"      --json                 print JSON (schema: docs/load.md) instead of the table\n"
"  -h, --help                 this text\n"
"DIST: N | fixed:N | uniform:MAX | normal:MEAN,SD | exponential:LAMBDA |\n"
"      pareto:LOC,SCALE,SHAPE | gev:LOC,SCALE,SHAPE | fb_key | fb_value | fb_ia\n");
}

static void die_opt(const char *opt, const char *range, const char *got)
{
	fprintf(stderr, "irqlab-load: --%s: %s (got '%s')\n", opt, range, got);
	exit(2);
}

static double num_opt(const char *opt, const char *s, double lo, double hi, int integer)
{
	char *end, range[120];
	double v;

	errno = 0;
	v = strtod(s, &end);
	snprintf(range, sizeof(range), integer ? "must be an integer in %.0f..%.0f" :
		 "must be a number in %g..%g", lo, hi);
	if (end == s || *end || errno || !isfinite(v) || v < lo || v > hi ||
	    (integer && v != floor(v)))
		die_opt(opt, range, s);
	return v;
}

static void parse_server(struct opts *o, const char *arg)
{
	char host[256], *colon;
	const char *port = "11211";
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	struct server *sv;
	int rc;

	if (o->nservers == MAX_SERVERS)
		die_opt("server", "at most 16 servers", arg);
	if (strlen(arg) >= sizeof(host))
		die_opt("server", "HOST[:PORT] too long", arg);
	strcpy(host, arg);
	colon = strrchr(host, ':');
	if (colon && !strchr(colon + 1, ']') && strchr(host, ':') == colon) {
		*colon = 0;
		port = colon + 1;
		num_opt("server", port, 1, 65535, 1);
	}
	if (host[0] == '[') {	/* [v6]:port */
		memmove(host, host + 1, strlen(host));
		if ((colon = strchr(host, ']')))
			*colon = 0;
	}
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		fprintf(stderr, "irqlab-load: --server: cannot resolve '%s': %s\n", arg,
			gai_strerror(rc));
		exit(2);
	}
	sv = &o->servers[o->nservers++];
	snprintf(sv->name, sizeof(sv->name), "%s:%s", host, port);
	memcpy(&sv->sa, res->ai_addr, res->ai_addrlen);
	sv->salen = res->ai_addrlen;
	freeaddrinfo(res);
}

static void parse_cpus(struct opts *o, const char *arg)
{
	const char *p = arg;
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);

	while (*p) {
		char *end;
		long a = strtol(p, &end, 10), b = a;

		if (end == p)
			die_opt("cpus", "a list like 0,2-3", arg);
		if (*end == '-') {
			p = end + 1;
			b = strtol(p, &end, 10);
			if (end == p)
				die_opt("cpus", "a list like 0,2-3", arg);
		}
		if (a < 0 || b < a || b >= ncpu) {
			char range[80];

			snprintf(range, sizeof(range), "CPUs must be in 0..%ld", ncpu - 1);
			die_opt("cpus", range, arg);
		}
		for (long c = a; c <= b && o->ncpus < MAX_CPUS; c++)
			o->cpus[o->ncpus++] = (int)c;
		p = end;
		if (*p == ',')
			p++;
		else if (*p)
			die_opt("cpus", "a list like 0,2-3", arg);
	}
}

static void parse_dist(const char *opt, const char *arg, struct il_dist *d, char *spec)
{
	char err[300];

	if (strlen(arg) >= 64)
		die_opt(opt, "distribution spec too long", arg);
	if (il_dist_parse(arg, d, err, sizeof(err)) < 0) {
		fprintf(stderr, "irqlab-load: --%s: %s\n", opt, err);
		exit(2);
	}
	strcpy(spec, arg);
}

/* auto: io_uring where the kernel lets us (it may be disabled by sysctl,
 * or refused by a sandbox or valgrind), else epoll with a note. */
static void pick_engine(struct opts *o)
{
	char why[200];

	if (o->engine == ENGINE_EPOLL)
		return;
	if (uring_probe(why, sizeof(why)) == 0) {
		o->engine = ENGINE_URING;
		return;
	}
	if (o->engine == ENGINE_URING) {
		fprintf(stderr, "irqlab-load: --engine: uring not available: %s\n", why);
		exit(2);
	}
	fprintf(stderr, "irqlab-load: note: io_uring not available (%s): using epoll\n", why);
	o->engine = ENGINE_EPOLL;
}

static void parse_args(struct opts *o, struct workload *w, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "server", required_argument, 0, 's' },
		{ "threads", required_argument, 0, 'T' },
		{ "cpus", required_argument, 0, 1 },
		{ "connections", required_argument, 0, 'c' },
		{ "depth", required_argument, 0, 'd' },
		{ "qps", required_argument, 0, 'q' },
		{ "iadist", required_argument, 0, 'i' },
		{ "keysize", required_argument, 0, 'K' },
		{ "valuesize", required_argument, 0, 'V' },
		{ "records", required_argument, 0, 'r' },
		{ "update", required_argument, 0, 'u' },
		{ "popularity", required_argument, 0, 'P' },
		{ "loadonly", no_argument, 0, 2 },
		{ "noload", no_argument, 0, 3 },
		{ "preload-depth", required_argument, 0, 4 },
		{ "warmup", required_argument, 0, 'w' },
		{ "time", required_argument, 0, 't' },
		{ "timeout", required_argument, 0, 5 },
		{ "late-us", required_argument, 0, 6 },
		{ "seed", required_argument, 0, 7 },
		{ "json", no_argument, 0, 8 },
		{ "protocol", required_argument, 0, 9 },
		{ "spin-us", required_argument, 0, 10 },
		{ "engine", required_argument, 0, 11 },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	int ch;

	*o = (struct opts){ .threads = 1, .conns = 1, .depth = 1, .records = 1000000,
			    .update = 0.03, .time = 5, .timeout = 2, .late_us = 100, .seed = 1,
			    .preload_depth = 64 };
	strcpy(o->ia_spec, "exponential");
	strcpy(o->key_spec, "30");
	strcpy(o->value_spec, "200");
	strcpy(o->pop_spec, "uniform");
	il_dist_parse("exponential", &o->ia, NULL, 0);
	il_dist_parse("30", &w->keysize, NULL, 0);
	il_dist_parse("200", &w->valuesize, NULL, 0);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":s:T:c:d:q:i:K:V:r:u:P:w:t:h", lo, NULL)) != -1) {
		switch (ch) {
		case 's': parse_server(o, optarg); break;
		case 'T': o->threads = (unsigned)num_opt("threads", optarg, 1, 256, 1); break;
		case 1: parse_cpus(o, optarg); break;
		case 'c': o->conns = (unsigned)num_opt("connections", optarg, 1, 4096, 1); break;
		case 'd': o->depth = (unsigned)num_opt("depth", optarg, 1, 4096, 1); break;
		case 'q': o->qps = num_opt("qps", optarg, 0, 1e9, 0); break;
		case 'i':
			parse_dist("iadist", optarg, &o->ia, o->ia_spec);
			if (!(il_dist_mean(&o->ia) > 0) || !isfinite(il_dist_mean(&o->ia)))
				die_opt("iadist", "needs a positive finite mean", optarg);
			break;
		case 'K': parse_dist("keysize", optarg, &w->keysize, o->key_spec); break;
		case 'V': parse_dist("valuesize", optarg, &w->valuesize, o->value_spec); break;
		case 'r': o->records = (uint64_t)num_opt("records", optarg, 1, 1e9, 1); break;
		case 'u': o->update = num_opt("update", optarg, 0, 1, 0); break;
		case 'P':
			if (strlen(optarg) >= sizeof(o->pop_spec))
				die_opt("popularity", "uniform or zipf:S with S in (0, 10]", optarg);
			if (!strcmp(optarg, "uniform")) {
				w->zipf = 0;
			} else if (!strncmp(optarg, "zipf:", 5)) {
				w->zipf = 1;
				w->z.s = num_opt("popularity", optarg + 5, 1e-6, 10, 0);
			} else {
				die_opt("popularity", "uniform or zipf:S with S in (0, 10]", optarg);
			}
			strcpy(o->pop_spec, optarg);
			break;
		case 2: o->loadonly = 1; break;
		case 3: o->noload = 1; break;
		case 4: o->preload_depth = (unsigned)num_opt("preload-depth", optarg, 1, 4096, 1); break;
		case 'w': o->warmup = num_opt("warmup", optarg, 0, 3600, 0); break;
		case 't': o->time = num_opt("time", optarg, 0.01, 86400, 0); break;
		case 5: o->timeout = num_opt("timeout", optarg, 0.01, 600, 0); break;
		case 6: o->late_us = num_opt("late-us", optarg, 1, 1e6, 0); break;
		case 7: o->seed = (uint64_t)num_opt("seed", optarg, 0, 1e18, 1); break;
		case 8: o->json = 1; break;
		case 10: o->spin_us = num_opt("spin-us", optarg, 0, 10000, 0); break;
		case 11:
			if (strcmp(optarg, "epoll") && strcmp(optarg, "uring") && strcmp(optarg, "auto"))
				die_opt("engine", "epoll, uring or auto", optarg);
			o->engine = !strcmp(optarg, "epoll") ? ENGINE_EPOLL :
				    !strcmp(optarg, "uring") ? ENGINE_URING : ENGINE_AUTO;
			break;
		case 9:
			if (strcmp(optarg, "text") && strcmp(optarg, "meta"))
				die_opt("protocol", "text or meta", optarg);
			o->meta = !strcmp(optarg, "meta");
			break;
		case 'h': usage(stdout); exit(0);
		case ':':
			fprintf(stderr, "irqlab-load: %s: needs a value (see --help)\n", argv[optind - 1]);
			exit(2);
		default:
			fprintf(stderr, "irqlab-load: unknown option '%s' (see --help)\n", argv[optind - 1]);
			exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "irqlab-load: unexpected argument '%s' (see --help)\n", argv[optind]);
		exit(2);
	}
	if (!o->nservers) {
		fprintf(stderr, "irqlab-load: --server: at least one HOST[:PORT] is required\n");
		exit(2);
	}
	if (o->loadonly && o->noload) {
		fprintf(stderr, "irqlab-load: --loadonly: cannot be combined with --noload\n");
		exit(2);
	}
	if (o->records < (uint64_t)o->nservers)
		die_opt("records", "must be at least the number of servers", "");
	w->records = o->records;
	w->update = o->update;
	if (w->zipf && il_zipf_init(&w->z, o->records, w->z.s) < 0)
		die_opt("popularity", "zipf:S with S > 0", o->pop_spec);
	pick_engine(o);
}

static void *thread_main(void *arg)
{
	struct thread *t = arg;
	const struct opts *o = t->o;

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

/* A progress line on a terminal only; pipes and files get just the result. */
static void progress(struct thread *ts, const struct opts *o, uint64_t origin)
{
	int tty = isatty(STDERR_FILENO);
	uint64_t last = 0, last_t = origin;

	while ((unsigned)atomic_load(&g_finished) < o->threads) {
		uint64_t now, done = 0;

		sleep_ns(tty ? 500000000ULL : 50000000ULL);
		if (!tty)
			continue;
		now = now_ns();
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

int main(int argc, char **argv)
{
	struct opts o;
	struct workload w = { 0 };
	struct thread *ts;
	pthread_t *tids;
	struct report rep = { 0 };
	char err[300];
	uint64_t t0, origin;
	int rc = 0, dead = 0;

	signal(SIGPIPE, SIG_IGN);
	parse_args(&o, &w, argc, argv);
	{
		struct sigaction sa = { .sa_handler = on_signal };

		/* Ctrl-C ends the window early and still reports; a thread
		 * notices at its next wake-up (a reply, a send, the window end). */
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	if (workload_init(&w, err, sizeof(err)) < 0) {
		fprintf(stderr, "irqlab-load: %s\n", err);
		return 1;
	}
	ts = calloc(o.threads, sizeof(*ts));
	tids = calloc(o.threads, sizeof(*tids));
	if (!ts || !tids)
		return 1;
	for (unsigned i = 0; i < o.threads; i++) {
		ts[i] = (struct thread){ .id = (int)i, .o = &o, .w = &w, .nconns = o.conns, .ep = -1 };
	}
	pthread_barrier_init(&barrier, NULL, o.threads + 1);
	for (unsigned i = 0; i < o.threads; i++)
		pthread_create(&tids[i], NULL, thread_main, &ts[i]);
	pthread_barrier_wait(&barrier);
	if (first_failure(ts, o.threads)) {
		atomic_store(&g_abort, 1);
		rc = 1;
	}
	pthread_barrier_wait(&barrier);
	if (!rc) {
		t0 = now_ns();
		pthread_barrier_wait(&barrier);
		if (first_failure(ts, o.threads)) {
			atomic_store(&g_abort, 1);
			rc = 1;
		} else if (!o.noload && !o.json) {
			fprintf(stderr, "preloaded %llu records in %.2fs\n",
				(unsigned long long)o.records, (now_ns() - t0) / 1e9);
		}
		origin = now_ns() + 1000000;	/* every thread starts on the same tick */
		for (unsigned i = 0; i < o.threads; i++) {
			ts[i].origin = origin;
			ts[i].t_meas = origin + (uint64_t)(o.warmup * 1e9);
			ts[i].t_end = ts[i].t_meas + (uint64_t)(o.time * 1e9);
			ts[i].t_deadline = ts[i].t_end + (uint64_t)(o.timeout * 1e9);
		}
		pthread_barrier_wait(&barrier);
		if (!rc && !o.loadonly)
			progress(ts, &o, origin);
	}
	for (unsigned i = 0; i < o.threads; i++)
		pthread_join(tids[i], NULL);
	if (!rc && !o.loadonly) {
		for (unsigned i = 0; i < o.threads; i++)
			if (ts[i].failed) {
				fprintf(stderr, "irqlab-load: thread %u: %s\n", i, ts[i].err);
				dead++;
			} else if (ts[i].err[0]) {
				fprintf(stderr, "irqlab-load: thread %u: %s\n", i, ts[i].err);
			}
		rep.o = &o;
		rep.wall = o.time;
		if (load_stop) {	/* interrupted: the window was shorter */
			rep.wall = (ts[0].t_end - ts[0].t_meas) / 1e9;
			fprintf(stderr, "irqlab-load: interrupted, reporting %.2fs\n", rep.wall);
		}
		if (report_merge(&rep, ts, o.threads) < 0)
			return 1;
		if (o.json)
			report_json(stdout, &rep);
		else
			report_text(stdout, &rep);
		report_free(&rep);
		if (dead == (int)o.threads)
			rc = 1;
	}
	for (unsigned i = 0; i < o.threads; i++)
		thread_teardown(&ts[i]);
	pthread_barrier_destroy(&barrier);
	workload_free(&w);
	free(ts);
	free(tids);
	return rc;
}
