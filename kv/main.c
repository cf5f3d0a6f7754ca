/* irqlab-kv: a memcached-protocol server on libirqlab's per-thread epoll
 * loops, with interrupt-handling modes (--mode) and NAPI-aware steering. */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "irqlab/opt.h"
#include "irqlab/loop.h"
#include "irqlab/napi.h"
#include "conn.h"
#include "kv.h"

static struct il_group group;

static void usage(FILE *f)
{
	fprintf(f,
"usage: irqlab-kv [options]   memcached-protocol server (text and meta commands)\n"
"  -p, --port=N             TCP port, 0-65535 (0: any free port; default 11211)\n"
"  -l, --listen=ADDR        address to listen on (default 0.0.0.0, all)\n"
"  -t, --threads=N          worker threads, 1-%d (default: number of --cpus, else 4)\n"
"  -m, --memory-limit=MB    item memory, 1-1048576 MB (default 64)\n"
"  -c, --conn-limit=N       simultaneous connections, 1-1000000 (default 1024)\n"
"  -I, --max-item-size=SIZE largest item, 1k-1g, suffix k/m/g, at most half of\n"
"                           --memory-limit (default 1m)\n"
"  -U, --udp-port=0         UDP is not supported: only 0 is accepted (default 0)\n"
"      --mode=SPEC          interrupt mode, preset[,knob=value...]; presets\n"
"                           " IL_MODE_NAMES " (default base);\n"
"                           e.g. suspend,irq_suspend_timeout=5ms\n"
"      --cpus=LIST          pin thread i to the i-th CPU of LIST, e.g. 1,3 or 0-3\n"
"                           (default: unpinned)\n"
"      --dev=DEV            apply the mode's NAPI values to DEV's NAPIs (base:\n"
"                           all 0; restored on exit) and steer by DEV's rx\n"
"                           queue -> NAPI map\n"
"  -v, --verbose            -v: settings and the queue -> NAPI map, -vv: also\n"
"                           every connection (stderr)\n"
"  -h, --help               this text\n",
		IL_LOOP_MAX);
}

static void die2(const char *fmt, const char *arg)
{
	fprintf(stderr, "irqlab-kv: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(2);
}

static long long num_opt(const char *opt, const char *arg, long long lo,
			 long long hi, const char *range)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (errno || end == arg || *end || v < lo || v > hi) {
		fprintf(stderr, "irqlab-kv: %s: '%s' is not in %s\n", opt, arg, range);
		exit(2);
	}
	return v;
}

static size_t size_opt(const char *arg)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (!errno && end != arg && arg[0] != '-') {
		switch (*end) {
		case 'k': case 'K': v <<= 10; end++; break;
		case 'm': case 'M': v <<= 20; end++; break;
		case 'g': case 'G': v <<= 30; end++; break;
		}
		if (!*end && v >= 1024 && v <= (1ull << 30))
			return (size_t)v;
	}
	die2("--max-item-size: '%s' is not in 1k-1g (bytes, or k/m/g suffix)", arg);
	return 0;
}

static int listen_on(const char *addr, int port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *ai;
	char ps[16];
	int fd, one = 1, rc;

	snprintf(ps, sizeof(ps), "%d", port);
	rc = getaddrinfo(addr[0] ? addr : "0.0.0.0", ps, &hints, &ai);
	if (rc) {
		fprintf(stderr, "irqlab-kv: --listen: '%s' is not a numeric IPv4/IPv6 address (%s)\n",
			addr, gai_strerror(rc));
		exit(2);
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 1024)) {
		fprintf(stderr, "irqlab-kv: cannot listen on %s:%d: %s\n",
			addr[0] ? addr : "0.0.0.0", port, strerror(errno));
		exit(1);
	}
	freeaddrinfo(ai);
	return fd;
}

static int bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -1;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void on_signal(int sig)
{
	(void)sig;
	il_group_stop(&group);
}

static void raise_fd_limit(int conns)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < (rlim_t)conns + 64) {
		rl.rlim_cur = (rlim_t)conns + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;	/* needs root; else best effort */
		if (setrlimit(RLIMIT_NOFILE, &rl)) {
			getrlimit(RLIMIT_NOFILE, &rl);
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
}

/* --dev: the mode's NAPI values on every NAPI of the device (restored on
 * exit) and the rx queue -> NAPI map for steering. */
static void setup_dev(void)
{
	uint32_t rxq[IL_NAPI_MAX];
	char err[256];
	int n;

	il_napi_restore_on_exit();
	/* every mode, base included: base means no deferral (all zeros), and
	 * a comparison is only valid with the device really in that state */
	n = il_napi_apply_mode(kv_set.dev, &kv_set.mode, err, sizeof(err));
	if (n < 0) {
		fprintf(stderr, "irqlab-kv: --dev %s: %s\n", kv_set.dev, err);
		exit(1);
	}
	kv_set.napis_configured = n;
	n = il_queue_napi_ids(kv_set.dev, rxq, IL_NAPI_MAX, err, sizeof(err));
	if (n < 0) {
		fprintf(stderr, "irqlab-kv: --dev %s: rx queue map: %s (steering first-come)\n",
			kv_set.dev, err);
		return;
	}
	il_group_steer_queues(&group, rxq, n);
	if (kv_set.verbose)
		for (int q = 0; q < n; q++)
			fprintf(stderr, "irqlab-kv: %s rx queue %d: NAPI %u -> thread %d\n",
				kv_set.dev, q, rxq[q], q % kv_set.threads);
}

int main(int argc, char **argv)
{
	enum { O_MODE = 256, O_CPUS, O_DEV };
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "listen", required_argument, NULL, 'l' },
		{ "threads", required_argument, NULL, 't' },
		{ "memory-limit", required_argument, NULL, 'm' },
		{ "conn-limit", required_argument, NULL, 'c' },
		{ "max-item-size", required_argument, NULL, 'I' },
		{ "udp-port", required_argument, NULL, 'U' },
		{ "mode", required_argument, NULL, O_MODE },
		{ "cpus", required_argument, NULL, O_CPUS },
		{ "dev", required_argument, NULL, O_DEV },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct store_cfg sc;
	struct sigaction sa = { .sa_handler = on_signal };
	char err[256], mode_txt[256];
	bool threads_set = false;
	int o, lfd;

	il_mode_preset("base", &kv_set.mode);
	while ((o = getopt_long(argc, argv, "p:l:t:m:c:I:U:vh", opts, NULL)) != -1) {
		switch (o) {
		case 'p':
			kv_set.port = (int)num_opt("--port", optarg, 0, 65535, "0-65535");
			break;
		case 'l':
			if (strlen(optarg) >= sizeof(kv_set.listen))
				die2("--listen: '%s' is not a numeric address", optarg);
			strcpy(kv_set.listen, optarg);
			break;
		case 't':
			kv_set.threads = (int)num_opt("--threads", optarg, 1, IL_LOOP_MAX, "1-64");
			threads_set = true;
			break;
		case 'm':
			kv_set.mem_mb = (size_t)num_opt("--memory-limit", optarg, 1, 1048576,
							"1-1048576 (MB)");
			break;
		case 'c':
			kv_set.maxconns = (int)num_opt("--conn-limit", optarg, 1, 1000000,
						       "1-1000000");
			break;
		case 'I':
			kv_set.item_max = size_opt(optarg);
			break;
		case 'U':
			num_opt("--udp-port", optarg, 0, 0, "0-0 (UDP is not supported; 0 turns it off)");
			break;
		case O_MODE:
			if (il_mode_parse(optarg, &kv_set.mode, err, sizeof(err)) ||
			    il_mode_validate(&kv_set.mode, err, sizeof(err))) {
				fprintf(stderr, "irqlab-kv: --mode: %s\n", err);
				return 2;
			}
			snprintf(kv_set.mode_spec, sizeof(kv_set.mode_spec), "%s", optarg);
			break;
		case O_CPUS:
			kv_set.ncpus = il_opt_cpus("--cpus", optarg, kv_set.cpus, IL_LOOP_MAX, err, sizeof(err));
			if (kv_set.ncpus < 0) {
				fprintf(stderr, "irqlab-kv: %s\n", err);
				return 2;
			}
			break;
		case O_DEV:
			if (!optarg[0] || strlen(optarg) >= 16)
				die2("--dev: '%s' is not a network device name (1-15 characters)", optarg);
			strcpy(kv_set.dev, optarg);
			break;
		case 'v':
			kv_set.verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc)
		die2("unexpected argument '%s' (see --help)", argv[optind]);
	if (kv_set.item_max > kv_set.mem_mb * 1024 * 1024 / 2) {
		fprintf(stderr, "irqlab-kv: --max-item-size: %zu is more than half of --memory-limit (%zu MB)\n",
			kv_set.item_max, kv_set.mem_mb);
		return 2;
	}
	if (kv_set.ncpus && !threads_set)
		kv_set.threads = kv_set.ncpus;
	if (kv_set.ncpus)	/* more threads than CPUs: wrap around the list */
		for (int i = kv_set.ncpus; i < kv_set.threads; i++)
			kv_set.cpus[i] = kv_set.cpus[i % kv_set.ncpus];

	raise_fd_limit(kv_set.maxconns);
	kv_clock_init();
	sc.mem_limit = kv_set.mem_mb * 1024 * 1024;
	sc.item_max = kv_set.item_max;
	/* one shard per thread is enough for one thread; more shards than
	 * threads keep two threads off the same lock most of the time */
	sc.nshards = kv_set.threads == 1 ? 1 : kv_set.threads * 4;
	kv_store = store_new(&sc);
	kv_threads = calloc((size_t)kv_set.threads, sizeof(*kv_threads));
	if (!kv_store || !kv_threads) {
		fprintf(stderr, "irqlab-kv: out of memory\n");
		return 1;
	}
	if (il_group_init(&group, kv_set.ncpus ? kv_set.cpus : NULL, kv_set.threads,
			  &kv_set.mode, err, sizeof(err))) {
		fprintf(stderr, "irqlab-kv: %s\n", err);
		return 1;
	}
	kv_group = &group;
	for (int i = 0; i < kv_set.threads; i++) {
		kv_threads[i].loop = &group.loops[i];
		kv_threads[i].store = kv_store;
		kv_threads[i].now = kv_clock();
		group.loops[i].user = &kv_threads[i];
	}
	if (kv_set.dev[0])
		setup_dev();
	else if (il_mode_has_napi_knobs(&kv_set.mode))
		fprintf(stderr, "irqlab-kv: note: --mode %s sets NAPI knobs; without --dev only its epoll side is applied\n",
			kv_set.mode.name);
	lfd = listen_on(kv_set.listen, kv_set.port);
	if (il_group_listen(&group, lfd, conn_open)) {
		fprintf(stderr, "irqlab-kv: epoll_ctl: %s\n", strerror(errno));
		return 1;
	}
	/* ours replace napi.h's handlers: stop the loops, then restore below */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	il_mode_format(&kv_set.mode, mode_txt, sizeof(mode_txt));
	fprintf(stderr, "irqlab-kv: listening on %s port %d, %d thread(s), mode %s\n",
		kv_set.listen[0] ? kv_set.listen : "0.0.0.0", bound_port(lfd),
		kv_set.threads, mode_txt);
	il_group_run(&group);
	for (int i = 0; i < kv_set.threads; i++)
		conn_close_all(&kv_threads[i]);
	if (kv_set.dev[0])
		il_napi_restore_all();
	close(lfd);
	il_group_free(&group);
	store_free(kv_store);
	free(kv_threads);
	return 0;
}
