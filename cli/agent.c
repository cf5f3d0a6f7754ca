/* irqlab agent: the remote half of a multi-host `irqlab bench`. It reads one
 * JSON job per line on stdin and answers each with one JSON line on stdout:
 *
 *   {"id": 1, "op": "probe", "dev": "eth1"}
 *   {"id": 1, "ok": true, "kernel": "6.18.0", "root": true, ...}
 *   {"id": 2, "op": "napi-set", "dev": "eth1", "mode": "suspend"}
 *   {"id": 2, "ok": false, "error": "needs Linux 6.13 for ..."}
 *
 * Jobs (docs/multihost.md lists their fields): hello, probe, napi-show,
 * napi-set, nic-show, nic-set, server-start, server-stop, load, restore,
 * stats-begin, stats-end, server-stats (the last three in agent_stats.c).
 *
 * Every setting a job changes goes through the library's restore guard
 * (irqlab/guard.h) before it is changed, so the old values come back when
 * stdin ends (the ssh connection dropped, or the driver closed it), on any
 * signal, and after SIGKILL of the agent (the guard outlives it). A server
 * the agent started dies with it (PR_SET_PDEATHSIG). In case the guard is
 * killed too, each change is also written as an undo line to a journal
 * (STATE_DIR/agent-PID.undo, removed after a restore); `irqlab agent
 * --restore` replays the journals whose agent is gone. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "agent.h"
#include "bench/bench.h"
#include "bench/multi.h"
#include "cli.h"
#include "irqlab/guard.h"
#include "irqlab/napi.h"
#include "irqlab/nic.h"
#include "irqlab/opt.h"
#include "irqlab/signals.h"


static struct {
	char self[PATH_MAX];		/* this binary, for undo lines */
	char bindir[PATH_MAX];		/* where irqlab-kv/-load are */
	char state_dir[PATH_MAX];
	char journal[PATH_MAX + 32];
	char srv_log[PATH_MAX + 64];	/* the server's output (server_log) */
	int napi_journaled, nic_journaled;	/* records already written */
	volatile pid_t srv_pid;
	char srv_name[32];
	double skew;			/* --clock-skew (tests): added to "time" */
} A;

static int usage(FILE *f)
{
	fprintf(f,
"usage: irqlab agent [--state-dir DIR] [--bin-dir DIR]\n"
"       irqlab agent --restore [--state-dir DIR]\n"
"\n"
"The remote half of a multi-host `irqlab bench` (started over ssh by it):\n"
"one JSON job per line on stdin, one JSON answer per line on stdout.\n"
"Everything a job changes is restored when stdin ends (ssh dropped), on any\n"
"signal, and by the restore guard if the agent is killed.\n"
"  -s, --state-dir DIR  undo journals (default /run/irqlab, else /tmp/irqlab-UID)\n"
"  -b, --bin-dir DIR    irqlab-kv and irqlab-load (default: beside irqlab)\n"
"  -r, --restore        replay the journals of agents that are gone (after\n"
"                       a hard kill of agent and guard), then exit\n"
"      --build-id       print this build (protocol, machine, binaries' hashes) and exit\n"
"      --clock-skew S   (tests) report a clock S seconds off in hello/probe\n"
"  -h, --help           this text\n");
	return f == stderr ? 2 : 0;
}

/* The wall clock, s since the epoch (hosts compare it). */
static double realtime_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* --- answers ---------------------------------------------------------------- */

static void answer(json_t *id, json_t *res)
{
	char *s;

	json_object_set(res, "id", id ? id : json_null());
	s = json_dumps(res, JSON_COMPACT);
	if (s) {
		fputs(s, stdout);
		fputc('\n', stdout);
		fflush(stdout);
	}
	free(s);
	json_decref(res);
}

static void answer_err(json_t *id, const char *msg)
{
	answer(id, json_pack("{s:b, s:s}", "ok", 0, "error", msg));
}

/* A library printer's JSON (il_nic_print_json, ...) as a jansson value. */
static json_t *json_of(void (*print)(FILE *, const void *), const void *arg)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	json_t *v;

	if (!f)
		return json_null();
	print(f, arg);
	fclose(f);
	v = json_loads(buf, 0, NULL);
	free(buf);
	return v ? v : json_null();
}

static void print_nic(FILE *f, const void *s) { il_nic_print_json(f, s); }
static void print_napi(FILE *f, const void *n) { il_napi_print_json(f, n); }

static const char *str_field(json_t *job, const char *key)
{
	return json_string_value(json_object_get(job, key));
}

/* --- the undo journal -------------------------------------------------------- */

static void journal_line(const char *fmt, ...)
{
	va_list ap;
	FILE *f;

	if (!A.journal[0] || !(f = fopen(A.journal, "a")))
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fflush(f);
	fsync(fileno(f));
	fclose(f);
}

static void napi_undo_line(const struct il_napi *o, unsigned what)
{
	char line[256], t[32];
	int n = snprintf(line, sizeof(line), "sh %s napi set --id %u", A.self, o->id);

	if (what & IL_SET_DEFER)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " --defer-hard-irqs %" PRIu32,
			      o->defer_hard_irqs);
	if (what & IL_SET_GRO) {
		il_fmt_time_ns(o->gro_flush_timeout, t, sizeof(t));
		n += snprintf(line + n, sizeof(line) - (size_t)n, " --gro-flush-timeout %s", t);
	}
	if (what & IL_SET_SUSPEND) {
		il_fmt_time_ns(o->irq_suspend_timeout, t, sizeof(t));
		snprintf(line + n, sizeof(line) - (size_t)n, " --irq-suspend-timeout %s", t);
	}
	journal_line("%s", line);
}

/* The log of the server that agent PID started. */
static void server_log(char *buf, size_t len, int pid)
{
	snprintf(buf, len, "%s/agent-%d-server.log", A.state_dir, pid);
}

/* The guard removes the journal (and the server's log) after it restored
 * everything (its oldest record, so it runs last): after a SIGKILL of the
 * agent nothing is left for `--restore` to replay over newer settings. */
static void journal_guarded(void)
{
	const char *rm[] = { "rm", "-f", A.journal, A.srv_log, NULL };
	char err[256];

	if (il_guard_run(rm, err, sizeof(err)) < 0)
		fprintf(stderr, "irqlab agent: %s\n", err);
}

/* Writes the records the library made since the last call. */
static void journal_sync(void)
{
	for (; A.napi_journaled < il_napi_saved_count(); A.napi_journaled++) {
		struct il_napi o;
		unsigned what;

		if (!il_napi_saved(A.napi_journaled, &o, &what))
			napi_undo_line(&o, what & ~IL_SET_THREADED);
	}
	for (; A.nic_journaled < il_nic_saved_count(); A.nic_journaled++) {
		char buf[512];

		if (!il_nic_saved_undo(A.nic_journaled, buf, sizeof(buf)))
			journal_line("sh %s", buf);
	}
}

/* A server applies its mode's NAPI settings itself (and restores them
 * through its own guard); the journal keeps the values from before it. */
static void journal_napis(const char *dev)
{
	static struct il_napi n[IL_NAPI_MAX];
	char err[256];
	int k = il_napi_list(dev, n, IL_NAPI_MAX, err, sizeof(err));

	for (int i = 0; i < k; i++)
		napi_undo_line(&n[i], (n[i].has_defer ? IL_SET_DEFER : 0) |
			       (n[i].has_gro ? IL_SET_GRO : 0) |
			       (n[i].has_suspend ? IL_SET_SUSPEND : 0));
}

/* --- jobs -------------------------------------------------------------------- */

typedef int (*op_fn)(json_t *job, json_t *res, char *err, size_t len);

static int op_hello(json_t *job, json_t *res, char *err, size_t len)
{
	struct utsname u;
	char host[256] = "";

	(void)job;
	uname(&u);
	gethostname(host, sizeof(host) - 1);
	if (il_guard_start(0, err, len) < 0)
		return -1;
	json_object_set_new(res, "version", json_integer(IRQLAB_AGENT_PROTO));
	json_object_set_new(res, "build", irqlab_build(A.self, A.bindir));
	json_object_set_new(res, "time", json_real(realtime_s() + A.skew));
	json_object_set_new(res, "pid", json_integer(getpid()));
	json_object_set_new(res, "guard_pid", json_integer(il_guard_pid()));
	json_object_set_new(res, "host", json_string(host));
	json_object_set_new(res, "kernel", json_string(u.release));
	json_object_set_new(res, "machine", json_string(u.machine));
	json_object_set_new(res, "journal", json_string(A.journal));
	return 0;
}

static bool bin_ok(const char *name)
{
	char p[PATH_MAX + 64];

	snprintf(p, sizeof(p), "%s/%s", A.bindir, name);
	return access(p, X_OK) == 0;
}

static bool in_path(const char *name)
{
	const char *path = getenv("PATH");
	char p[PATH_MAX + 64];

	for (const char *s = path ? path : "/usr/bin:/bin"; *s;) {
		size_t n = strcspn(s, ":");
		snprintf(p, sizeof(p), "%.*s/%s", (int)n, s, name);
		if (n && access(p, X_OK) == 0)
			return true;
		s += n + (s[n] == ':');
	}
	return false;
}

/* The first line of a small file, "" if unreadable. */
static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	buf[0] = 0;
	if (f && fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = 0;
	if (f)
		fclose(f);
}

/* The last non-empty line of a file, "" if none. */
static void last_line(const char *path, char *buf, size_t len)
{
	char line[512];
	FILE *f = fopen(path, "r");

	buf[0] = 0;
	while (f && fgets(line, sizeof(line), f))
		if (line[strspn(line, " \r\n")]) {
			size_t n = strcspn(line, "\r\n");
			n = n < len ? n : len - 1;
			memcpy(buf, line, n);
			buf[n] = 0;
		}
	if (f)
		fclose(f);
}

static json_t *probe_dev(const char *dev)
{
	static struct il_napi n[IL_NAPI_MAX];
	char err[256], why[512];
	int k;

	if (!if_nametoindex(dev))
		return json_pack("{s:b, s:s}", "exists", 0, "why",
				 "no such device in this network namespace");
	k = il_napi_list(dev, n, IL_NAPI_MAX, err, sizeof(err));
	why[0] = 0;
	if (k == 0)
		il_napi_explain_none(dev, why, sizeof(why));
	return json_pack("{s:b, s:i, s:s}", "exists", 1, "napis", k < 0 ? 0 : k,
			 "why", k < 0 ? err : why);
}

/* Whether a server could listen on TCP port (any address, this network
 * namespace): a bind with SO_REUSEADDR fails only against a listener. */
static bool port_free(int port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1, fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

	if (fd < 0) {	/* no IPv6 here */
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		rc = bind(fd, (struct sockaddr *)&a4, sizeof(a4));
	} else {	/* dual stack: also meets an IPv4 listener */
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		rc = bind(fd, (struct sockaddr *)&a, sizeof(a));
	}
	int e = errno;
	if (fd >= 0)
		close(fd);
	return rc == 0 || e != EADDRINUSE;
}

static int op_probe(json_t *job, json_t *res, char *err, size_t len)
{
	struct il_napi_support s;
	struct il_nic_support ns;
	const char *dev = str_field(job, "dev");
	char gov[64];

	(void)err; (void)len;
	il_napi_probe(&s);
	il_nic_probe(&ns);
	read_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", gov, sizeof(gov));
	json_object_set_new(res, "kernel", json_string(s.kernel));
	json_object_set_new(res, "root", json_boolean(geteuid() == 0));
	json_object_set_new(res, "cpus", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
	json_object_set_new(res, "time", json_real(realtime_s() + A.skew));
	json_object_set_new(res, "napi", json_pack("{s:b, s:b, s:b, s:b, s:b}",
		"netdev_family", s.netdev_family, "napi_set", s.napi_set,
		"irq_suspend", s.irq_suspend, "threaded_attr", s.threaded_attr,
		"epoll_params", s.epoll_params));
	json_object_set_new(res, "nic", json_pack("{s:b, s:b, s:b, s:b}",
		"family", ns.family, "coalesce", ns.kind[IL_ET_COALESCE],
		"channels", ns.kind[IL_ET_CHANNELS], "rings", ns.kind[IL_ET_RINGS]));
	json_object_set_new(res, "irqbalance", json_integer(il_nic_irqbalance_pid()));
	json_object_set_new(res, "governor", gov[0] ? json_string(gov) : json_null());
	json_object_set_new(res, "bins", json_pack("{s:b, s:b, s:b, s:b}",
		"irqlab-kv", bin_ok("irqlab-kv"), "irqlab-load", bin_ok("irqlab-load"),
		"libirqlab-preload.so", bin_ok("libirqlab-preload.so"),
		"memcached", in_path("memcached")));
	if (dev)
		json_object_set_new(res, "dev", probe_dev(dev));
	json_int_t port = json_integer_value(json_object_get(job, "port"));
	if (port > 0 && port < 65536)
		json_object_set_new(res, "port_free", json_boolean(port_free((int)port)));
	return 0;
}

static int op_napi_show(json_t *job, json_t *res, char *err, size_t len)
{
	static struct il_napi n[IL_NAPI_MAX];
	int k = il_napi_list(str_field(job, "dev"), n, IL_NAPI_MAX, err, len);
	json_t *a = json_array();

	if (k < 0) {
		json_decref(a);
		return -1;
	}
	for (int i = 0; i < k; i++)
		json_array_append_new(a, json_of(print_napi, &n[i]));
	json_object_set_new(res, "napis", a);
	return 0;
}

static int op_napi_set(json_t *job, json_t *res, char *err, size_t len)
{
	const char *dev = str_field(job, "dev"), *spec = str_field(job, "mode");
	struct il_mode m;
	int n;

	if (!dev || !spec) {
		snprintf(err, len, "napi-set needs \"dev\" and \"mode\"");
		return -1;
	}
	if (il_mode_parse(spec, &m, err, len))
		return -1;
	n = il_napi_apply_mode(dev, &m, err, len);
	journal_sync();
	if (n < 0)
		return -1;
	json_object_set_new(res, "changed", json_integer(n));
	return op_napi_show(job, res, err, len);
}

static int op_nic_show(json_t *job, json_t *res, char *err, size_t len)
{
	static struct il_nic_state s;
	const char *dev = str_field(job, "dev");

	if (!dev) {
		snprintf(err, len, "nic-show needs \"dev\"");
		return -1;
	}
	if (il_nic_read(dev, &s, err, len) < 0)
		return -1;
	json_object_set_new(res, "nic", json_of(print_nic, &s));
	return 0;
}

/* {"dev", "queues", "rx_ring", "tx_ring", "coalesce": "adaptive|off",
 * "irq_cpus": "0-3", "rps_off": true} -> struct il_nic_case. */
static int nic_case(json_t *job, struct il_nic_case *c, int *cpus, char *err, size_t len)
{
	const char *co = str_field(job, "coalesce"), *ic = str_field(job, "irq_cpus");

	memset(c, 0, sizeof(*c));
	c->queues = (uint32_t)json_integer_value(json_object_get(job, "queues"));
	c->rx_ring = (uint32_t)json_integer_value(json_object_get(job, "rx_ring"));
	c->tx_ring = (uint32_t)json_integer_value(json_object_get(job, "tx_ring"));
	c->rps_off = json_is_true(json_object_get(job, "rps_off"));
	if (co) {
		int p = il_opt_choice("coalesce", co, il_coalesce_preset_names, 3, err, len);
		if (p < 0)
			return -1;
		c->coalesce = (enum il_coalesce_preset)p;
	}
	if (ic) {
		c->n_irq_cpus = il_opt_cpus("irq_cpus", ic, cpus, IL_NIC_QMAX, err, len);
		if (c->n_irq_cpus < 0)
			return -1;
		c->irq_cpus = cpus;
	}
	return 0;
}

static int op_nic_set(json_t *job, json_t *res, char *err, size_t len)
{
	static int cpus[IL_NIC_QMAX];
	const char *dev = str_field(job, "dev");
	struct il_nic_case c;
	int rc;

	if (!dev) {
		snprintf(err, len, "nic-set needs \"dev\"");
		return -1;
	}
	if (nic_case(job, &c, cpus, err, len))
		return -1;
	rc = il_nic_apply(dev, &c, err, len);
	journal_sync();
	if (rc < 0)
		return -1;
	return op_nic_show(job, res, err, len);
}

/* argv[0] = path, then the job's "args" (strings only); NULL on error. */
static char **job_argv(json_t *job, const char *path, const char *extra,
		       char *err, size_t len)
{
	json_t *a = json_object_get(job, "args"), *v;
	size_t n = json_array_size(a), i;
	char **argv = calloc(n + 3, sizeof(*argv));

	if (!argv)
		return NULL;
	argv[0] = (char *)path;
	json_array_foreach(a, i, v) {
		if (!json_is_string(v)) {
			snprintf(err, len, "\"args\" must hold strings only");
			free(argv);
			return NULL;
		}
		argv[i + 1] = (char *)json_string_value(v);
		if (extra && !strcmp(argv[i + 1], extra))
			extra = NULL;
	}
	argv[n + 1] = (char *)extra;
	return argv;
}

/* The program a job may start: irqlab-kv and irqlab-load from the bin dir,
 * or memcached from PATH. */
static int job_prog(const char *name, char *path, size_t plen, char *err, size_t len)
{
	if (!strcmp(name, "irqlab-kv") || !strcmp(name, "irqlab-load")) {
		snprintf(path, plen, "%s/%s", A.bindir, name);
		if (access(path, X_OK)) {
			snprintf(err, len, "%s is not installed here (%s)", name, path);
			return -1;
		}
		return 0;
	}
	if (!strcmp(name, "memcached")) {
		snprintf(path, plen, "memcached");
		return 0;
	}
	snprintf(err, len, "the agent starts irqlab-kv, irqlab-load or memcached, not '%s'", name);
	return -1;
}

/* What a server gets besides its argv: environment ("K=V", NULL-ended,
 * may be NULL) and the CPUs it may run on (NULL: any). */
struct spawn_extra {
	char **env;
	cpu_set_t *cpus;
};

static pid_t spawn(char *const argv[], int out_fd, int err_fd, const struct spawn_extra *x)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGTERM);	/* never outlive the agent */
	int null = open("/dev/null", O_RDWR);
	dup2(null, 0);
	dup2(out_fd >= 0 ? out_fd : null, 1);
	dup2(err_fd >= 0 ? err_fd : null, 2);
	for (int i = 0; x && x->env && x->env[i]; i++)
		putenv(x->env[i]);
	if (x && x->cpus && sched_setaffinity(0, sizeof(*x->cpus), x->cpus))
		_exit(126);
	execvp(argv[0], argv);
	_exit(127);
}

/* The job's "env" (IRQLAB_* only: the preload shim's settings), "shim"
 * (LD_PRELOAD of the bin dir's libirqlab-preload.so) and "cpus" ("0-3"):
 * 0, or -1 with why. env is malloc'd strings, NULL-ended. */
static int server_extra(json_t *job, char **env, int max, cpu_set_t *set, bool *pin,
			char *err, size_t len)
{
	const char *cpus = str_field(job, "cpus");
	json_t *v;
	size_t i;
	int n = 0;

	env[0] = NULL;
	if (json_is_true(json_object_get(job, "shim"))) {
		char p[PATH_MAX + 64];
		snprintf(p, sizeof(p), "%s/libirqlab-preload.so", A.bindir);
		if (access(p, R_OK)) {
			snprintf(err, len, "libirqlab-preload.so is not installed here (%s)", p);
			return -1;
		}
		if (asprintf(&env[n++], "LD_PRELOAD=%s", p) < 0)
			return -1;
	}
	json_array_foreach(json_object_get(job, "env"), i, v) {
		const char *e = json_string_value(v);
		if (!e || strncmp(e, "IRQLAB_", 7) || !strchr(e, '=') || n + 1 >= max) {
			snprintf(err, len, "\"env\" holds IRQLAB_NAME=VALUE strings only");
			env[n] = NULL;
			return -1;
		}
		env[n++] = strdup(e);
	}
	env[n] = NULL;
	*pin = cpus != NULL;
	if (cpus) {
		int c[IL_NIC_QMAX], k = il_opt_cpus("cpus", cpus, c, IL_NIC_QMAX, err, len);
		if (k < 0)
			return -1;
		CPU_ZERO(set);
		for (int j = 0; j < k; j++)
			CPU_SET(c[j], set);
	}
	return 0;
}

static void free_env(char **env)
{
	for (int i = 0; env[i]; i++)
		free(env[i]);
}

static void server_stop(void)
{
	if (A.srv_pid > 0)
		stop_child(A.srv_pid);
	A.srv_pid = 0;
	unlink(A.srv_log);
}

static int op_server_start(json_t *job, json_t *res, char *err, size_t len)
{
	const char *name = str_field(job, "bin"), *dev = str_field(job, "dev");
	json_int_t port = json_integer_value(json_object_get(job, "port"));
	char path[PATH_MAX + 64];
	char **argv, *env[33];
	cpu_set_t set;
	bool pin = false;
	int fd, rc;

	server_stop();
	if (!name || port <= 0 || port > 65535) {
		snprintf(err, len, "server-start needs \"bin\" and \"port\" (1..65535)");
		return -1;
	}
	if (server_extra(job, env, 32, &set, &pin, err, len)) {
		free_env(env);
		return -1;
	}
	if (job_prog(name, path, sizeof(path), err, len) ||
	    !(argv = job_argv(job, path, NULL, err, len))) {
		free_env(env);
		return -1;
	}
	if (dev)
		journal_napis(dev);
	fd = open(A.srv_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	A.srv_pid = spawn(argv, fd, fd, &(struct spawn_extra){ env, pin ? &set : NULL });
	free(argv);
	free_env(env);
	if (fd >= 0)
		close(fd);
	snprintf(A.srv_name, sizeof(A.srv_name), "%.15s", name);
	journal_line("server %d %s", (int)A.srv_pid, A.srv_name);
	rc = wait_listen(A.srv_pid, (unsigned)port, 10);
	if (rc) {
		char last[200];
		last_line(A.srv_log, last, sizeof(last));
		snprintf(err, len, "%s %s on port %d: %s", name,
			 rc == -ECHILD ? "exited before listening" : "does not listen",
			 (int)port, last[0] ? last : "(no output)");
		server_stop();
		return -1;
	}
	json_object_set_new(res, "pid", json_integer(A.srv_pid));
	json_object_set_new(res, "log", json_string(A.srv_log));
	return 0;
}

static int op_server_stop(json_t *job, json_t *res, char *err, size_t len)
{
	(void)job; (void)res; (void)err; (void)len;
	server_stop();
	return 0;
}

/* Reads fd to EOF into a malloc'ed string, giving up at the deadline
 * (monotonic s): NULL then. */
static char *slurp(int fd, double deadline)
{
	size_t n = 0, cap = 65536;
	char *buf = malloc(cap);

	while (buf) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int ms = (int)((deadline - il_now_s()) * 1000);
		ssize_t k;

		if (ms <= 0 || poll(&p, 1, ms) <= 0) {
			free(buf);
			return NULL;
		}
		if (n + 1 == cap) {
			char *b = realloc(buf, cap *= 2);
			if (!b)
				break;
			buf = b;
		}
		k = read(fd, buf + n, cap - n - 1);
		if (k <= 0) {
			buf[n] = 0;
			return buf;
		}
		n += (size_t)k;
	}
	free(buf);
	return NULL;
}

static bool has_arg(json_t *job, const char *word)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(job, "args"), i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), word))
			return true;
	return false;
}

/* Runs irqlab-load with the job's args (plus --json) at "start_at", within
 * "timeout_s" (default 600), and answers with its summary (none for
 * --loadonly, which only preloads). */
static int op_load(json_t *job, json_t *res, char *err, size_t len)
{
	double start_at = json_number_value(json_object_get(job, "start_at"));
	double limit = json_number_value(json_object_get(job, "timeout_s"));
	char path[PATH_MAX + 64], *out, errpath[PATH_MAX + 64], why[300];
	int pfd[2], st, efd;
	char **argv;
	pid_t pid;

	if (job_prog("irqlab-load", path, sizeof(path), err, len) ||
	    !(argv = job_argv(job, path, "--json", err, len)))
		return -1;
	if (pipe2(pfd, O_CLOEXEC)) {
		free(argv);
		snprintf(err, len, "pipe: %s", strerror(errno));
		return -1;
	}
	if (start_at > 0)
		agent_sleep_until(start_at);
	json_object_set_new(res, "started_at", json_real(realtime_s()));
	snprintf(errpath, sizeof(errpath), "%s/agent-%d-load.err", A.state_dir, (int)getpid());
	efd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	pid = spawn(argv, pfd[1], efd, NULL);
	free(argv);
	close(pfd[1]);
	if (efd >= 0)
		close(efd);
	out = slurp(pfd[0], il_now_s() + (limit > 0 ? limit : 600));
	close(pfd[0]);
	if (!out)
		kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	json_t *sum = out ? json_loads(out, 0, NULL) : NULL;
	if (!sum && out && has_arg(job, "--loadonly"))
		sum = json_null();
	free(out);
	if (!sum || !WIFEXITED(st) || WEXITSTATUS(st)) {
		json_decref(sum);
		last_line(errpath, why, sizeof(why));
		snprintf(err, len, "irqlab-load %s%s%s", !out ? "ran past its time limit" :
			 WIFEXITED(st) && WEXITSTATUS(st) ? "failed" : "gave no JSON summary",
			 why[0] ? ": " : "", why);
		unlink(errpath);
		return -1;
	}
	unlink(errpath);
	json_object_set_new(res, "summary", sum);
	return 0;
}

/* --- irqbalance: stopped for the run, restarted by the guard ------------------ */

/* Appends s to buf as one single-quoted sh word (for the journal). */
static void sh_word(char *buf, size_t len, const char *s)
{
	size_t n = strlen(buf);

	n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s'", n ? " " : "");
	for (; *s && n + 5 < len; s++)
		n += (size_t)(*s == '\'' ? snprintf(buf + n, len - n, "'\\''") :
			      snprintf(buf + n, len - n, "%c", *s));
	if (n + 1 < len)
		snprintf(buf + n, len - n, "'");
}

/* The command line of pid (NUL-separated words), argv[0] its executable:
 * the words point into buf; n words, or -1. */
static int proc_argv(int pid, char *buf, size_t len, const char **argv, int max)
{
	char p[64];
	FILE *f;
	size_t k;
	int n = 1;

	snprintf(p, sizeof(p), "/proc/%d/exe", pid);
	ssize_t e = readlink(p, buf, len / 2 - 1);
	if (e <= 0)
		return -1;
	buf[e] = 0;
	argv[0] = buf;
	snprintf(p, sizeof(p), "/proc/%d/cmdline", pid);
	if (!(f = fopen(p, "r")))
		return -1;
	char *w = buf + e + 1;
	k = fread(w, 1, len - (size_t)e - 2, f);
	fclose(f);
	w[k] = 0;
	char *end = w + k;
	w += strlen(w) + 1;		/* skip the old argv[0] */
	for (; w < end && n < max - 1; w += strlen(w) + 1)
		argv[n++] = w;
	argv[n] = NULL;
	return n;
}

/* Started by systemd as irqbalance.service (its cgroup says so). */
static bool systemd_unit(int pid)
{
	char p[64], line[512];
	bool yes = false;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/cgroup", pid);
	if (!(f = fopen(p, "r")))
		return false;
	while (!yes && fgets(line, sizeof(line), f))
		yes = strstr(line, "/irqbalance.service") != NULL;
	fclose(f);
	return yes && access("/run/systemd/system", F_OK) == 0;
}

/* How irqbalance comes back: "systemctl start irqbalance" for the unit,
 * else its own command line again in a session of its own. */
static int irqb_restart(int pid, bool unit, const char **argv, char *buf, size_t len)
{
	static const char *sysd[] = { "systemctl", "start", "irqbalance", NULL };
	const char *words[40];
	int n;

	if (unit) {
		memcpy(argv, sysd, sizeof(sysd));
		return 0;
	}
	if ((n = proc_argv(pid, buf, len, words, 38)) < 0)
		return -1;
	argv[0] = "setsid";
	argv[1] = "-f";
	memcpy(argv + 2, words, (size_t)(n + 1) * sizeof(*words));
	return 0;
}

static bool gone_within(int pid, double s)
{
	for (double end = il_now_s() + s; ; usleep(20000)) {
		char p[64], st[256] = "";
		snprintf(p, sizeof(p), "/proc/%d/stat", pid);
		read_line(p, st, sizeof(st));
		const char *close = strrchr(st, ')');
		if (!st[0] || (close && close[2] == 'Z'))	/* gone, or a zombie */
			return true;
		if (il_now_s() >= end)
			return false;
	}
}

/* {"op": "irqbalance-stop"}: irqbalance would move the queues' IRQs during
 * the run. The restart is recorded first (the guard, the journal), then it
 * is stopped; answers "stopped": its pid (0: none ran), "how", "restart". */
static int op_irqbalance_stop(json_t *job, json_t *res, char *err, size_t len)
{
	static char buf[8192];
	const char *argv[42];
	char line[4096] = "";
	int pid = il_nic_irqbalance_pid();

	(void)job;
	if (pid && gone_within(pid, 0.01))	/* a zombie not reaped yet */
		pid = 0;
	json_object_set_new(res, "stopped", json_integer(pid));
	if (!pid)
		return 0;
	bool unit = systemd_unit(pid);
	if (irqb_restart(pid, unit, argv, buf, sizeof(buf))) {
		snprintf(err, len, "irqbalance (pid %d): cannot read its command line to "
			 "restart it later: not stopped", pid);
		return -1;
	}
	if (il_guard_run(argv, err, len) < 0)
		return -1;
	for (int i = 0; argv[i]; i++)
		sh_word(line, sizeof(line), argv[i]);
	journal_line("sh %s", line);
	if (unit) {
		const char *stop[] = { "systemctl", "stop", "irqbalance", NULL };
		if (run_cmd(NULL, (char *const *)stop, NULL, 0) != 0)
			kill(pid, SIGTERM);
	} else {
		kill(pid, SIGTERM);
	}
	if (!gone_within(pid, 5)) {
		snprintf(err, len, "irqbalance (pid %d) still runs 5 s after SIGTERM", pid);
		return -1;
	}
	json_object_set_new(res, "how", json_string(unit ? "systemd" : "signal"));
	json_object_set_new(res, "restart", json_string(line));
	return 0;
}

static int replay_journal(const char *path, FILE *say);

/* Puts everything back now: the server, NIC and NAPI settings. */
static int restore_all(char *err, size_t len)
{
	int n;

	server_stop();
	il_nic_restore_all();
	n = il_guard_pid() ? il_guard_restore(IL_GUARD_ALL, err, len) : 0;
	if (n < 0 && A.journal[0]) {	/* the guard is gone: the journal */
		fprintf(stderr, "irqlab agent: %s; replaying %s\n", err, A.journal);
		n = replay_journal(A.journal, stderr) ? n : 0;
	}
	il_nic_keep_all();	/* the guard's copies were just replayed */
	A.napi_journaled = il_napi_saved_count();
	A.nic_journaled = il_nic_saved_count();
	if (A.journal[0] && truncate(A.journal, 0) && errno != ENOENT)
		fprintf(stderr, "irqlab agent: %s: %s\n", A.journal, strerror(errno));
	journal_guarded();
	return n;
}

static int op_restore(json_t *job, json_t *res, char *err, size_t len)
{
	int n = restore_all(err, len);

	(void)job;
	if (n < 0)
		return -1;
	json_object_set_new(res, "restored", json_integer(n));
	return 0;
}

static int op_stats_begin(json_t *job, json_t *res, char *err, size_t len)
{
	return agent_stats_begin(job, res, A.srv_pid, err, len);
}

static int op_stats_end(json_t *job, json_t *res, char *err, size_t len)
{
	return agent_stats_end(job, res, A.srv_pid, err, len);
}

static const struct {
	const char *name;
	op_fn fn;
} ops[] = {
	{ "hello", op_hello }, { "probe", op_probe },
	{ "napi-show", op_napi_show }, { "napi-set", op_napi_set },
	{ "nic-show", op_nic_show }, { "nic-set", op_nic_set },
	{ "server-start", op_server_start }, { "server-stop", op_server_stop },
	{ "load", op_load }, { "restore", op_restore },
	{ "irqbalance-stop", op_irqbalance_stop },
	{ "stats-begin", op_stats_begin }, { "stats-end", op_stats_end },
	{ "server-stats", agent_server_stats },
};

static void serve_line(const char *line, int lineno)
{
	json_error_t je;
	json_t *job = json_loads(line, 0, &je), *id, *res;
	const char *op;
	char err[512] = "";

	if (!json_is_object(job)) {
		snprintf(err, sizeof(err), "line %d: not a JSON object%s%s", lineno,
			 job ? "" : ": ", job ? "" : je.text);
		json_decref(job);
		answer_err(NULL, err);
		return;
	}
	id = json_incref(json_object_get(job, "id"));
	op = str_field(job, "op");
	for (size_t i = 0; op && i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strcmp(op, ops[i].name))
			continue;
		res = json_object();
		if (ops[i].fn(job, res, err, sizeof(err))) {
			json_decref(res);
			answer_err(id, err);
		} else {
			json_object_set_new(res, "ok", json_true());
			answer(id, res);
		}
		goto out;
	}
	snprintf(err, sizeof(err), "unknown op '%s'", op ? op : "(none)");
	answer_err(id, err);
out:
	json_decref(id);
	json_decref(job);
}

/* --- --restore: journals of agents that are gone ------------------------------ */

static bool agent_alive(int pid)
{
	char p[64], comm[32];

	snprintf(p, sizeof(p), "/proc/%d/comm", pid);
	read_line(p, comm, sizeof(comm));
	return !strcmp(comm, "irqlab");
}

/* One undo line: "sh CMD" or "server PID NAME". 0 done or nothing to do. */
static int replay(const char *line)
{
	char name[32], p[64], comm[32];
	int pid;

	if (sscanf(line, "server %d %31s", &pid, name) == 2) {
		snprintf(p, sizeof(p), "/proc/%d/comm", pid);
		read_line(p, comm, sizeof(comm));
		if (comm[0] && !strncmp(comm, name, 15))
			kill(pid, SIGTERM);
		return 0;
	}
	if (strncmp(line, "sh ", 3))
		return -1;
	int st = system(line + 3);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* Replays one journal newest line first; returns the number that failed. */
static int replay_journal(const char *path, FILE *say)
{
	char *lines[1024], buf[1200];
	int n = 0, bad = 0;
	FILE *f = fopen(path, "r");

	while (f && n < 1024 && fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = 0;
		lines[n++] = strdup(buf);
	}
	if (f)
		fclose(f);
	while (n-- > 0) {
		int rc = lines[n] ? replay(lines[n]) : -1;
		fprintf(say, "%s %s\n", rc ? "failed:" : "restored:", lines[n] ? lines[n] : "?");
		bad += rc != 0;
		free(lines[n]);
	}
	return bad;
}

static int restore_leftovers(void)
{
	DIR *d = opendir(A.state_dir);
	struct dirent *e;
	int bad = 0, found = 0, pid;
	char path[PATH_MAX + 300], tail[8];

	while (d && (e = readdir(d))) {
		if (sscanf(e->d_name, "agent-%d.und%1s", &pid, tail) != 2)
			continue;
		snprintf(path, sizeof(path), "%s/%s", A.state_dir, e->d_name);
		if (agent_alive(pid)) {
			printf("agent %d still runs: its guard restores when it ends\n", pid);
			continue;
		}
		found++;
		bad += replay_journal(path, stdout);
		unlink(path);
		server_log(path, sizeof(path), pid);
		unlink(path);
	}
	if (d)
		closedir(d);
	printf("irqlab agent --restore: %d journal(s) in %s, %d undo(s) failed\n",
	       found, A.state_dir, bad);
	return bad ? 1 : 0;
}

/* --- main -------------------------------------------------------------------- */

static void on_signal(int sig, void *arg)
{
	(void)sig; (void)arg;
	if (A.srv_pid > 0)
		kill(A.srv_pid, SIGTERM);
	/* runs last (registered first): everything else is back; paths made
	 * before (a signal handler: no snprintf) */
	unlink(A.journal);
	unlink(A.srv_log);
}

static void setup_self(const char *bin_dir)
{
	ssize_t n = readlink("/proc/self/exe", A.self, sizeof(A.self) - 1);

	A.self[n > 0 ? n : 0] = 0;
	if (bin_dir)
		snprintf(A.bindir, sizeof(A.bindir), "%s", bin_dir);
	else
		snprintf(A.bindir, sizeof(A.bindir), "%.*s", (int)(strrchr(A.self, '/') ?
			 strrchr(A.self, '/') - A.self : 1), n > 0 ? A.self : ".");
}

static int setup_paths(const char *state_dir, const char *bin_dir)
{
	setup_self(bin_dir);
	if (state_dir)
		snprintf(A.state_dir, sizeof(A.state_dir), "%s", state_dir);
	else if (geteuid() == 0)
		snprintf(A.state_dir, sizeof(A.state_dir), "/run/irqlab");
	else
		snprintf(A.state_dir, sizeof(A.state_dir), "/tmp/irqlab-%d", (int)geteuid());
	if (mkdir(A.state_dir, 0700) && errno != EEXIST) {
		fprintf(stderr, "irqlab agent: %s: %s\n", A.state_dir, strerror(errno));
		return -1;
	}
	return 0;
}

static int serve(void)
{
	char *line = NULL, err[256];
	size_t cap = 0;
	int lineno = 0;

	snprintf(A.journal, sizeof(A.journal), "%s/agent-%d.undo", A.state_dir, (int)getpid());
	server_log(A.srv_log, sizeof(A.srv_log), (int)getpid());
	il_signals_on_restore(on_signal, NULL);
	il_nic_restore_on_exit();
	if (il_guard_start(0, err, sizeof(err)) < 0) {
		fprintf(stderr, "irqlab agent: %s\n", err);
		return 1;
	}
	journal_guarded();
	while (getline(&line, &cap, stdin) > 0) {
		lineno++;
		if (line[strspn(line, " \t\r\n")])
			serve_line(line, lineno);
	}
	free(line);
	/* stdin ended: the driver is done or its ssh connection is gone */
	restore_all(err, sizeof(err));
	unlink(A.journal);
	return 0;
}

int cmd_agent(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, 's' },
		{ "bin-dir", required_argument, NULL, 'b' },
		{ "restore", no_argument, NULL, 'r' },
		{ "clock-skew", required_argument, NULL, 'k' },
		{ "build-id", no_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *state = NULL, *bins = NULL;
	int restore = 0, build = 0, c;

	while ((c = getopt_long(argc, argv, "s:b:rh", opts, NULL)) != -1) {
		switch (c) {
		case 's': state = optarg; break;
		case 'b': bins = optarg; break;
		case 'r': restore = 1; break;
		case 'k': A.skew = atof(optarg); break;
		case 'i': build = 1; break;
		case 'h': return usage(stdout);
		default: return usage(stderr);
		}
	}
	if (optind < argc)
		return usage(stderr);
	if (build) {	/* before setup_paths: no state dir needed */
		setup_self(bins);
		json_t *b = irqlab_build(A.self, A.bindir);
		json_dumpf(b, stdout, JSON_COMPACT);
		putchar('\n');
		json_decref(b);
		return 0;
	}
	if (setup_paths(state, bins))
		return 1;
	signal(SIGPIPE, SIG_IGN);
	return restore ? restore_leftovers() : serve();
}
