/* libirqlab-preload.so: gives an unmodified epoll server irqlab's modes.
 *
 *   IRQLAB_MODE=busywait LD_PRELOAD=build/libirqlab-preload.so memcached ...
 *
 * At load time the shim reads IRQLAB_MODE and the IRQLAB_<KNOB> overrides
 * (il_mode_from_env), checks that the kernel accepts the epoll parameters,
 * and with IRQLAB_DEV applies the mode's NAPI knobs to that device (the
 * library's restore guard puts them back when the server is gone, however
 * it ends).
 * Afterwards it only interposes on
 * epoll_create/epoll_create1 (EPIOCSPARAMS on every new epoll fd) and on
 * epoll_wait/epoll_pwait (spin modes turn a wait into a loop of 1 ns
 * epoll_pwait2 calls, the only kind of wait that busy polls and still
 * returns at once). Invalid settings are fatal: a message and _exit(2)
 * before the application runs, so a typo never silently measures the
 * wrong mode. See docs/preload.md. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "irqlab/compat.h"
#include "irqlab/mode.h"
#include "irqlab/guard.h"
#include "irqlab/napi.h"
#include "irqlab/neigh.h"
#include "shim.h"

#define PFX "irqlab-preload: "

/* Marks the NAPI settings as owned by one process, so that children and
 * exec'd images which inherit LD_PRELOAD do not apply them again. */
#define OWNER_VAR "IRQLAB_NAPI_OWNER"

static struct il_mode mode;
static bool verbose;
static pid_t napi_owner;	/* our pid if we applied NAPI settings */
static int napi_count;
static char dev[IF_NAMESIZE];

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static int (*real_epoll_create)(int);
static int (*real_epoll_create1)(int);
static int (*real_epoll_wait)(int, struct epoll_event *, int, int);
static int (*real_epoll_pwait)(int, struct epoll_event *, int, int,
			       const sigset_t *);

/* Creation counters are rare and shared. Waits and spins happen on every
 * event loop turn of every thread: each thread counts in its own cache
 * line (no locked instruction, no line bouncing between worker threads),
 * and the summary adds the threads up. Blocks are never freed, so a
 * thread that ended still counts. */
static atomic_uint_fast64_t n_epfds, n_configured, n_failed;

struct tcount {
	_Alignas(64) atomic_uint_fast64_t waits, spins;
	struct tcount *next;
};
static _Atomic(struct tcount *) tcounts;
/* initial-exec: a preloaded library is loaded at start-up, so its TLS is
 * static and needs no __tls_get_addr call on every wait. */
static __thread struct tcount *my_tc __attribute__((tls_model("initial-exec")));
static struct tcount fallback;	/* if allocation fails: shared, approximate */

static struct tcount *thread_counts(void)
{
	struct tcount *t = my_tc;

	if (__builtin_expect(t != NULL, 1))
		return t;
	t = aligned_alloc(64, sizeof(*t));
	if (!t)
		return my_tc = &fallback;
	memset(t, 0, sizeof(*t));
	t->next = atomic_load(&tcounts);
	while (!atomic_compare_exchange_weak(&tcounts, &t->next, t))
		;
	return my_tc = t;
}

/* Single writer per counter: a relaxed load and store, not a fetch_add. */
static void count(atomic_uint_fast64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), PFX);
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	strncat(buf, "\n", sizeof(buf) - strlen(buf) - 1);
	/* write(2), not stdio: we may be inside the application's first
	 * epoll_create, and must not flush its buffers from here. */
	if (write(2, buf, strlen(buf)) < 0) { /* nothing left to tell */ }
	_exit(2);
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), PFX "[%d] ", (int)getpid());
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	strncat(buf, "\n", sizeof(buf) - strlen(buf) - 1);
	if (write(2, buf, strlen(buf)) < 0) { /* stderr closed: stay quiet */ }
}

static void *must_sym(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (!p)
		die("cannot find %s in the C library: %s", name, dlerror());
	return p;
}

static void die_env(const char *err)
{
	char msg[400];

	shim_env_error(err, msg, sizeof(msg));
	die("%s", msg);
}

/* Fails now, before the application runs, rather than on its first
 * epoll_create: a server that half-starts is harder to diagnose. */
static void probe_epoll_params(void)
{
	int fd, rc;

	if (!il_mode_has_epoll_knobs(&mode))
		return;
	fd = real_epoll_create1(EPOLL_CLOEXEC);
	if (fd < 0)
		die("epoll_create1: %s", strerror(errno));
	rc = il_mode_apply_epoll(fd, &mode);
	if (rc == 0 && mode.wait == IL_WAIT_SPIN) {
		struct epoll_event ev;

		/* Spinning is built on epoll_pwait2 (Linux 5.11); valgrind
		 * does not know it either. */
		if (il_mode_wait(fd, &ev, 1, 0, &mode) < 0 && errno == ENOSYS) {
			close(fd);
			die("IRQLAB_MODE=%s (wait=spin) needs epoll_pwait2 "
			    "(Linux 5.11)", mode.name);
		}
	}
	close(fd);
	if (rc == -ENOTTY)
		die("IRQLAB_MODE=%s needs Linux 6.9 for epoll busy-poll "
		    "parameters (EPIOCSPARAMS)", mode.name);
	if (rc == -EPERM)
		die("IRQLAB_BUSY_POLL_BUDGET=%u above 64 needs CAP_NET_ADMIN",
		    (unsigned)mode.busy_poll_budget);
	if (rc)
		die("EPIOCSPARAMS: %s", strerror(-rc));
}

static void print_summary(void)
{
	uint64_t n_waits = atomic_load(&fallback.waits);
	uint64_t n_spins = atomic_load(&fallback.spins);

	if (!verbose)
		return;
	for (struct tcount *t = atomic_load(&tcounts); t; t = t->next) {
		n_waits += atomic_load_explicit(&t->waits, memory_order_relaxed);
		n_spins += atomic_load_explicit(&t->spins, memory_order_relaxed);
	}
	say("%s: epoll fds %" PRIuFAST64 " (configured %" PRIuFAST64
	    ", failed %" PRIuFAST64 "), waits %" PRIu64 ", spins %"
	    PRIu64 ", napi %s %d",
	    mode.name, atomic_load(&n_epfds), atomic_load(&n_configured),
	    atomic_load(&n_failed), n_waits, n_spins, dev[0] ? dev : "-",
	    napi_owner == getpid() ? napi_count : 0);
}

/* IRQLAB_NAPI_OWNER=PID/FD: a process up the chain applied the settings
 * and FD is its end of the restore guard's socket, which we inherited.
 * Stale if FD is no socket. */
static bool owned_elsewhere(void)
{
	const char *v = getenv(OWNER_VAR);
	struct stat st;
	int pid, fd;

	if (!shim_owner_parse(v, &pid, &fd))
		return false;
	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
		return false;
	if (verbose)
		say("NAPI settings of %s belong to pid %d, not applied again",
		    dev, pid);
	return true;
}

/* Other processes' sockets on the device's NAPI wait up to
 * irq_suspend_timeout whenever this server stops polling (irqlab/neigh.h
 * has the heuristic): said even when not verbose, once, at the start. */
static void warn_neighbours(const char *name)
{
	char desc[200], err[128];
	int n;

	if (!mode.irq_suspend_timeout || !mode.prefer_busy_poll)
		return;
	n = il_napi_neighbours(name, desc, sizeof(desc), err, sizeof(err));
	if (n > 0)
		say("warning: %d other socket(s) may share %s's NAPI (%.120s); they can wait up to "
		    "irq_suspend_timeout (%.3g ms) whenever this server stops polling "
		    "(docs/bench.md, \"The hostage risk\")", n, name, desc, mode.irq_suspend_timeout / 1e6);
}

/* The guard is started before the server runs: memcached -u drops root
 * after our constructor, and napi-set needs it. Its socket is inherited
 * across fork and exec, so the restore follows the last process of the
 * server, however it ends; a normal exit waits for it (bounded). */
static void apply_napi(const char *name)
{
	char err[256], owner[32];
	int rc;

	if (strlen(name) >= IF_NAMESIZE || !if_nametoindex(name))
		die("IRQLAB_DEV: no device '%s' in this network namespace", name);
	snprintf(dev, sizeof(dev), "%s", name);
	if (owned_elsewhere())
		return;
	if (il_guard_start(IL_GUARD_INHERIT | (verbose ? IL_GUARD_VERBOSE : 0),
			   err, sizeof(err)))
		die("IRQLAB_DEV=%s: %s", name, err);
	/* On failure the guard puts back what was applied already. */
	rc = il_napi_apply_mode(name, &mode, err, sizeof(err));
	if (rc < 0)
		die("IRQLAB_DEV=%s: %s", name, err);
	if (rc == 0) {
		il_napi_explain_none(name, err, sizeof(err));
		die("IRQLAB_DEV=%s: %s", name, err);
	}
	napi_owner = getpid();
	napi_count = rc;
	warn_neighbours(name);
	snprintf(owner, sizeof(owner), "%d/%d", (int)napi_owner, il_guard_fd());
	setenv(OWNER_VAR, owner, 1);
}

static void init(void)
{
	const char *v = getenv("IRQLAB_VERBOSE"), *d = getenv("IRQLAB_DEV");
	char err[256], desc[256];

	real_epoll_create = must_sym("epoll_create");
	real_epoll_create1 = must_sym("epoll_create1");
	real_epoll_wait = must_sym("epoll_wait");
	real_epoll_pwait = must_sym("epoll_pwait");

	if (v && *v && strcmp(v, "0") && strcmp(v, "1"))
		die("IRQLAB_VERBOSE: '%s' is not in 0-1", v);
	verbose = v && strcmp(v, "1") == 0;
	if (il_mode_from_env(&mode, err, sizeof(err)))
		die_env(err);
	probe_epoll_params();
	if (d && *d)
		apply_napi(d);
	if (verbose) {
		il_mode_format(&mode, desc, sizeof(desc));
		say("%s", desc);
	}
	atexit(print_summary);
}

__attribute__((constructor)) static void preload_init(void)
{
	pthread_once(&init_once, init);
}

/* An earlier library constructor may create an epoll fd before ours ran. */
static inline void ensure_init(void)
{
	if (__builtin_expect(!real_epoll_wait, 0))
		pthread_once(&init_once, init);
}

static int configure(int fd)
{
	int rc;

	if (fd < 0)
		return fd;
	atomic_fetch_add_explicit(&n_epfds, 1, memory_order_relaxed);
	if (!il_mode_has_epoll_knobs(&mode))
		return fd;
	rc = il_mode_apply_epoll(fd, &mode);
	if (rc == 0) {
		atomic_fetch_add_explicit(&n_configured, 1, memory_order_relaxed);
	} else if (atomic_fetch_add_explicit(&n_failed, 1,
					     memory_order_relaxed) == 0) {
		/* The load-time probe passed, so this is unexpected (e.g. fd
		 * limit games); say it once and keep the application running. */
		say("warning: EPIOCSPARAMS on epoll fd %d: %s", fd, strerror(-rc));
	}
	return fd;
}

int epoll_create(int size)
{
	ensure_init();
	return configure(real_epoll_create(size));
}

int epoll_create1(int flags)
{
	ensure_init();
	return configure(real_epoll_create1(flags));
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* One application wait in a spin mode: 1 ns polls until events, an error
 * (EINTR included, so signal handlers still interrupt the wait) or the
 * application's timeout. Each poll busy polls the NAPI for up to
 * busy_poll_usecs inside the kernel and returns as soon as events arrive.
 * timeout 0 still gets one such poll: that is what a caller who polls
 * with timeout 0 in a busy-wait mode wants, and what epoll_wait(0) itself
 * never does (it returns before the kernel's busy-poll step). */
static int spin_wait(int epfd, struct epoll_event *ev, int max, int timeout,
		     const sigset_t *sigmask)
{
	static const struct timespec one_ns = { 0, 1 };
	uint64_t deadline = 0, spins = 0;
	int n;

	if (timeout > 0)
		deadline = now_ns() + (uint64_t)timeout * 1000000ULL;
	for (;;) {
		spins++;
		n = sigmask ? epoll_pwait2(epfd, ev, max, &one_ns, sigmask)
			    : il_mode_wait(epfd, ev, max, 0, &mode);
		if (n != 0 || timeout == 0)
			break;
		if (timeout > 0 && now_ns() >= deadline)
			break;
		/* Every epoll thread of the application spins, hot or not
		 * (memcached's listener thread too). An empty poll gives the
		 * CPU to another runnable thread on it, or the threads split
		 * the CPU in scheduler slices of milliseconds while packets
		 * wait. Alone on its CPU, this costs one cheap syscall. */
		sched_yield();
	}
	count(&thread_counts()->spins, spins);
	return n;
}

int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
	ensure_init();
	count(&thread_counts()->waits, 1);
	if (mode.wait == IL_WAIT_SPIN)
		return spin_wait(epfd, ev, max, timeout, NULL);
	return real_epoll_wait(epfd, ev, max, timeout);
}

int epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout,
		const sigset_t *sigmask)
{
	ensure_init();
	count(&thread_counts()->waits, 1);
	if (mode.wait == IL_WAIT_SPIN)
		return spin_wait(epfd, ev, max, timeout, sigmask);
	return real_epoll_pwait(epfd, ev, max, timeout, sigmask);
}
