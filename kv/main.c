/* irqlab-kv: a memcached-protocol server on libirqlab's per-thread epoll
 * loops, with interrupt-handling modes (--mode) and NAPI-aware steering.
 * main() only strings the parts together: settings (settings.c), store
 * (store.c), loops and threads (thread.c), connections (conn.c). */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "irqlab/loop.h"
#include "irqlab/napi.h"
#include "irqlab/neigh.h"
#include "irqlab/signals.h"
#include "clock.h"
#include "conn.h"
#include "kv.h"
#include "settings.h"

static struct il_group *group;

/* A listening socket on the --listen address (checked by settings.c) and
 * --port; -1 with the reason on stderr. */
static int listen_on(const char *addr, int port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *ai;
	char ps[16];
	int fd = -1, one = 1;

	snprintf(ps, sizeof(ps), "%d", port);
	if (!getaddrinfo(addr[0] ? addr : "0.0.0.0", ps, &hints, &ai)) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd >= 0 && (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
				bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 1024))) {
			close(fd);
			fd = -1;
		}
		freeaddrinfo(ai);
	}
	if (fd < 0)
		fprintf(stderr, "irqlab-kv: cannot listen on %s:%d: %s\n",
			addr[0] ? addr : "0.0.0.0", port, strerror(errno));
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

static void on_signal(int sig, void *g)
{
	(void)sig;
	il_group_stop(g);
}

/* File descriptors the server needs besides its connections: stdio, the
 * listener, the reserved fd, an epoll fd and an eventfd per thread, and
 * slack for the C library. */
static int fds_besides_conns(void)
{
	return 3 + 2 + 2 * kv_set.threads + 4;
}

/* RLIMIT_NOFILE up to what -c needs (the hard limit too, where we may).
 * When -c cannot be honoured, one line says how many connections the limit
 * allows; clients past it are refused at the fd limit (lib/loop.c), not
 * left hanging. */
static void raise_fd_limit(int conns)
{
	rlim_t need = (rlim_t)conns + (rlim_t)fds_besides_conns();
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= need)
		return;
	rl.rlim_cur = need;
	if (rl.rlim_max < need)
		rl.rlim_max = need;	/* needs CAP_SYS_RESOURCE */
	if (!setrlimit(RLIMIT_NOFILE, &rl))
		return;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur >= need)
		return;
	kv_set.fd_conns = rl.rlim_cur > (rlim_t)fds_besides_conns() ?
			  (int)(rl.rlim_cur - (rlim_t)fds_besides_conns()) : 0;
	fprintf(stderr, "irqlab-kv: warning: --conn-limit %d needs %llu file descriptors but RLIMIT_NOFILE allows %llu (hard limit): about %d connections, more are refused\n",
		conns, (unsigned long long)need, (unsigned long long)rl.rlim_cur,
		kv_set.fd_conns);
}

/* In suspend mode other processes' sockets on the device's NAPI are held
 * up to irq_suspend_timeout whenever this server stops polling (stopped,
 * descheduled, busy with data it already has): say so at the start, when
 * the user can still move them (irqlab/neigh.h has the heuristic). */
static void warn_neighbours(const char *dev, const struct il_mode *m)
{
	char desc[512], err[256];
	int n;

	if (!m->irq_suspend_timeout || !m->prefer_busy_poll)
		return;
	n = il_napi_neighbours(dev, desc, sizeof(desc), err, sizeof(err));
	if (n > 0)
		fprintf(stderr, "irqlab-kv: warning: %d other socket(s) may receive through %s's NAPI "
			"(%s); while this server suspends its IRQs they can wait up to "
			"irq_suspend_timeout (%.3g ms) each time it stops polling: give them another "
			"queue or device, or shorten irq_suspend_timeout (docs/bench.md, \"The hostage risk\")\n",
			n, dev, desc, m->irq_suspend_timeout / 1e6);
}

/* --dev: the mode's NAPI values on every NAPI of the device (restored on
 * exit) and the rx queue -> NAPI map for steering. */
static int setup_dev(void)
{
	uint32_t rxq[IL_NAPI_MAX];
	char err[256];
	int n;

	/* every mode, base included: base means no deferral (all zeros), and
	 * a comparison is only valid with the device really in that state */
	n = il_napi_apply_mode(kv_set.dev, &kv_set.mode, err, sizeof(err));
	if (n < 0) {
		fprintf(stderr, "irqlab-kv: --dev %s: %s\n", kv_set.dev, err);
		return -1;
	}
	kv_set.napis_configured = n;
	warn_neighbours(kv_set.dev, &kv_set.mode);
	n = il_queue_napi_ids(kv_set.dev, rxq, IL_NAPI_MAX, err, sizeof(err));
	if (n < 0) {
		fprintf(stderr, "irqlab-kv: --dev %s: rx queue map: %s (steering first-come)\n",
			kv_set.dev, err);
		return 0;
	}
	il_group_steer_queues(group, rxq, n);
	if (kv_verbosity())
		for (int q = 0; q < n; q++)
			fprintf(stderr, "irqlab-kv: %s rx queue %d: NAPI %u -> thread %d\n",
				kv_set.dev, q, rxq[q], q % kv_set.threads);
	return 0;
}

/* The store, the loops (one per thread) and their threads' state. */
static int setup_server(void)
{
	struct store_cfg sc = {
		.mem_limit = kv_set.mem_mb * 1024 * 1024,
		.item_max = kv_set.item_max,
		/* one shard per thread is enough for one thread; more shards
		 * than threads keep two threads off the same lock most of the
		 * time */
		.nshards = kv_set.threads == 1 ? 1 : kv_set.threads * 4,
		.chunk_min = (size_t)kv_set.chunk_min,
		.factor = kv_set.factor,
	};
	struct store *s = store_new(&sc);
	char err[256];

	if (!s) {
		fprintf(stderr, "irqlab-kv: out of memory\n");
		return -1;
	}
	group = il_group_new(kv_set.ncpus ? kv_set.cpus : NULL, kv_set.threads,
			     &kv_set.mode, err, sizeof(err));
	if (!group) {
		fprintf(stderr, "irqlab-kv: %s\n", err);
		store_free(s);
		return -1;
	}
	if (kv_threads_init(group, s)) {
		fprintf(stderr, "irqlab-kv: out of memory\n");
		il_group_free(group);
		store_free(s);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char err[256], mode_txt[256];
	int lfd, rc;

	kv_settings_init(&kv_set);
	rc = kv_settings_parse(&kv_set, argc, argv, err, sizeof(err));
	if (rc == KV_OPT_HELP) {
		kv_usage(stdout);
		return 0;
	}
	if (rc == KV_OPT_ERROR) {
		fprintf(stderr, "irqlab-kv: %s\n", err);
		return 2;
	}
	raise_fd_limit(kv_set.maxconns);	/* after parsing: -t counts */
	kv_clock_init();
	if (setup_server())
		return 1;
	if (kv_set.dev[0] && setup_dev())
		return 1;
	if (!kv_set.dev[0] && il_mode_has_napi_knobs(&kv_set.mode))
		fprintf(stderr, "irqlab-kv: note: --mode %s sets NAPI knobs; without --dev only its epoll side is applied\n",
			kv_set.mode.name);
	lfd = listen_on(kv_set.listen, kv_set.port);
	if (lfd < 0)
		return 1;
	il_group_on_refuse(group, kv_conn_refuse_fd);
	kv_listen_fd = lfd;
	if (il_group_listen(group, lfd, kv_conn_open)) {
		fprintf(stderr, "irqlab-kv: epoll_ctl: %s\n", strerror(errno));
		return 1;
	}
	/* stop the loops; the NAPI settings are restored below (SIGHUP: the
	 * library restores, then the process dies of it) */
	il_signals_on_stop(SIGINT, on_signal, group);
	il_signals_on_stop(SIGTERM, on_signal, group);
	signal(SIGPIPE, SIG_IGN);
	il_mode_format(&kv_set.mode, mode_txt, sizeof(mode_txt));
	fprintf(stderr, "irqlab-kv: listening on %s port %d, %d thread(s), mode %s\n",
		kv_set.listen[0] ? kv_set.listen : "0.0.0.0", bound_port(lfd),
		kv_set.threads, mode_txt);
	rc = il_group_run(group);
	if (rc)
		fprintf(stderr, "irqlab-kv: worker threads: %s\n", strerror(errno));
	kv_threads_free();
	if (kv_set.dev[0])
		il_napi_restore_all();
	close(lfd);
	il_group_free(group);
	store_free(kv_store);
	return rc ? 1 : 0;
}
