/* The single-host world: two network namespaces joined by a veth pair set
 * up so TCP takes the NAPI path (docs/bench.md, testbed.md), and the
 * helpers that start, watch and stop programs inside it. Every external
 * command is checked and logged; nothing here is left behind on exit. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "irqlab/guard.h"
#include "bench.h"

extern char **environ;

static void log_argv(FILE *log, char *const argv[], int status)
{
	if (!log)
		return;
	for (int i = 0; argv[i]; i++)
		fprintf(log, "%s%s", i ? " " : "", argv[i]);
	fprintf(log, "   # exit %d\n", status);
	fflush(log);
}

int run_cmd(FILE *log, char *const argv[], char *out, size_t len)
{
	posix_spawn_file_actions_t fa;
	int pfd[2], status = -1;
	pid_t pid;
	char sink[512];

	if (!out) {
		out = sink;
		len = sizeof(sink);
	}
	out[0] = 0;
	if (pipe2(pfd, O_CLOEXEC))
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ)) {
		posix_spawn_file_actions_destroy(&fa);
		close(pfd[0]);
		close(pfd[1]);
		log_argv(log, argv, -1);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	size_t got = 0;
	ssize_t r;
	char drop[512];
	/* Keep the first len-1 bytes; drain the rest so the child never blocks. */
	while ((r = read(pfd[0], got + 1 < len ? out + got : drop,
			 got + 1 < len ? len - 1 - got : sizeof(drop))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (got + 1 < len)
			got += (size_t)r;
	}
	out[got] = 0;
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	log_argv(log, argv, status);
	return status;
}

/* Names carry our pid so concurrent runs never collide; device names stay
 * short because the NAPI kthread's name "napi/DEV-ID" is cut at 15 chars. */
void topo_names(struct topo *t, pid_t pid)
{
	snprintf(t->ns_srv, sizeof(t->ns_srv), "irqlab-s%d", (int)pid);
	snprintf(t->ns_cli, sizeof(t->ns_cli), "irqlab-c%d", (int)pid);
	snprintf(t->dev_srv, sizeof(t->dev_srv), "ibs%d", (int)pid);
	snprintf(t->dev_cli, sizeof(t->dev_cli), "ibc%d", (int)pid);
	/* 198.18.0.0/15 is reserved for benchmarking (RFC 2544). */
	snprintf(t->srv_ip, sizeof(t->srv_ip), "198.18.0.1");
	snprintf(t->cli_ip, sizeof(t->cli_ip), "198.18.0.2");
	t->napi_pid = -1;
}

#define CMD(...) ((char *const[]){ __VA_ARGS__, NULL })

static int step(struct topo *t, char *const argv[], char *err, size_t len)
{
	char out[512];
	int st = run_cmd(t->log, argv, out, sizeof(out));

	if (st == 0)
		return 0;
	char cmd[256] = "";
	for (int i = 0; argv[i] && strlen(cmd) + strlen(argv[i]) + 2 < sizeof(cmd); i++)
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "%s%s", i ? " " : "", argv[i]);
	out[strcspn(out, "\n")] = 0;
	if (st < 0)
		snprintf(err, len, "'%s' could not run (is %s installed?)", cmd, argv[0]);
	else
		snprintf(err, len, "'%s' failed with exit status %d: %s", cmd, st, out);
	return -1;
}

/* The restore guard (irqlab/guard.h) runs undo before bench adds ns: the
 * namespaces go, with the veth pair and every setting on it, however
 * bench ends (SIGKILL included). */
static int guarded_netns_add(struct topo *t, const char *ns, char *err, size_t len)
{
	const char *undo[] = { "ip", "netns", "del", ns, NULL };
	char e[200];

	if (il_guard_run(undo, e, sizeof(e)) < 0) {
		snprintf(err, len, "restore guard: %s", e);
		return -1;
	}
	return step(t, CMD("ip", "netns", "add", (char *)ns), err, len);
}

int topo_up(struct topo *t, char *err, size_t len)
{
	char srv_addr[48], cli_addr[48];

	snprintf(srv_addr, sizeof(srv_addr), "%s/24", t->srv_ip);
	snprintf(cli_addr, sizeof(cli_addr), "%s/24", t->cli_ip);
	t->up = 1;	/* from here on topo_down has something to remove */
	if (guarded_netns_add(t, t->ns_srv, err, len) ||
	    guarded_netns_add(t, t->ns_cli, err, len) ||
	    step(t, CMD("ip", "link", "add", t->dev_srv, "netns", t->ns_srv, "type", "veth",
			"peer", "name", t->dev_cli, "netns", t->ns_cli), err, len) ||
	    step(t, CMD("ip", "-n", t->ns_srv, "addr", "add", srv_addr, "dev", t->dev_srv), err, len) ||
	    step(t, CMD("ip", "-n", t->ns_cli, "addr", "add", cli_addr, "dev", t->dev_cli), err, len) ||
	    step(t, CMD("ip", "-n", t->ns_srv, "link", "set", "lo", "up"), err, len) ||
	    step(t, CMD("ip", "-n", t->ns_cli, "link", "set", "lo", "up"), err, len) ||
	    step(t, CMD("ip", "-n", t->ns_srv, "link", "set", t->dev_srv, "up"), err, len) ||
	    step(t, CMD("ip", "-n", t->ns_cli, "link", "set", t->dev_cli, "up"), err, len) ||
	    /* GRO gives each veth a NAPI; TSO/GSO off on the sender makes TCP
	     * segments arrive one by one through it (testbed.md). */
	    step(t, CMD("ip", "netns", "exec", t->ns_srv, "ethtool", "-K", t->dev_srv,
			"gro", "on", "tso", "off", "gso", "off"), err, len) ||
	    step(t, CMD("ip", "netns", "exec", t->ns_cli, "ethtool", "-K", t->dev_cli,
			"gro", "on", "tso", "off", "gso", "off"), err, len))
		return -1;
	return 0;
}

/* The kthread of a threaded NAPI is "napi/DEV-ID" (possibly truncated). */
static int find_napi_thread(const char *dev)
{
	char want[48];
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = -1;

	if (!d)
		return -1;
	snprintf(want, sizeof(want), "napi/%s", dev);
	while ((e = readdir(d)) && found < 0) {
		char path[300], comm[64] = "";
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		if (fgets(comm, sizeof(comm), f)) {
			comm[strcspn(comm, "\n")] = 0;
			size_t l = strlen(want);
			if (!strncmp(comm, want, l) && (comm[l] == '-' || comm[l] == 0))
				found = atoi(e->d_name);
		}
		fclose(f);
	}
	closedir(d);
	return found;
}

int topo_napi_thread(struct topo *t, int cpu, char *err, size_t len)
{
	char script[160];
	cpu_set_t set;

	/* sysfs shows a namespace's devices only when mounted inside it, which
	 * `ip netns exec` does; the shell is only there for the redirection.
	 * The old value goes to the restore guard first (put back before the
	 * namespaces go, newest first). */
	char path[96], old[16] = "";
	snprintf(path, sizeof(path), "/sys/class/net/%s/threaded", t->dev_srv);
	if (run_cmd(t->log, CMD("ip", "netns", "exec", t->ns_srv, "cat", path), old,
		    sizeof(old)) != 0 || !old[0]) {
		snprintf(err, len, "threaded NAPI on %s: cannot read %s", t->dev_srv, path);
		return -1;
	}
	old[strcspn(old, "\n")] = 0;
	snprintf(script, sizeof(script), "echo %s > %s", old, path);
	const char *undo[] = { "ip", "netns", "exec", t->ns_srv, "sh", "-c", script, NULL };
	char e[200];
	if (il_guard_run(undo, e, sizeof(e)) < 0) {
		snprintf(err, len, "restore guard: %s", e);
		return -1;
	}
	snprintf(script, sizeof(script), "echo 1 > %s", path);
	if (step(t, CMD("ip", "netns", "exec", t->ns_srv, "sh", "-c", script), err, len))
		return -1;
	for (int i = 0; i < 50 && (t->napi_pid = find_napi_thread(t->dev_srv)) < 0; i++)
		usleep(20000);
	if (t->napi_pid < 0) {
		snprintf(err, len, "threaded NAPI on %s: no napi/%s-* kthread appeared", t->dev_srv, t->dev_srv);
		return -1;
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(t->napi_pid, sizeof(set), &set)) {
		snprintf(err, len, "pinning NAPI kthread %d to CPU %d: %s", t->napi_pid, cpu, strerror(errno));
		return -1;
	}
	if (t->log)
		fprintf(t->log, "# NAPI kthread %d pinned to CPU %d\n", t->napi_pid, cpu);
	return 0;
}

void topo_down(struct topo *t)
{
	if (!t->up)
		return;
	/* The guard's records, newest first: threaded NAPI back, then the
	 * namespaces deleted (with the veth pair and every per-device and
	 * per-NAPI setting on it). Now rather than at exit, so nothing of
	 * ours stays up while the outputs are written. */
	char e[200] = "";
	int n = il_guard_restore(IL_GUARD_ALL, e, sizeof(e));
	if (t->log) {
		fprintf(t->log, "# restore guard: %d setting(s) put back (ip netns del %s, %s)%s%s\n",
			n < 0 ? 0 : n, t->ns_srv, t->ns_cli, e[0] ? ": " : "", e);
		fflush(t->log);
	}
	t->up = 0;
}

pid_t spawn_in_ns(const char *ns, int cpu, char *const argv[], char *const env[],
		  const char *out_path)
{
	char path[128];
	int nsfd;
	pid_t pid;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	if ((nsfd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	pid = fork();
	if (pid != 0) {
		close(nsfd);
		return pid;
	}
	/* child: our children must not outlive us, even if we crash */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGINT, SIG_IGN);	/* Ctrl-C goes to bench, which stops us */
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (setns(nsfd, CLONE_NEWNET) || sched_setaffinity(0, sizeof(set), &set))
		_exit(126);
	for (int i = 0; env && env[i]; i++)
		putenv(env[i]);
	if (out_path) {
		int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(126);
		char ep[600];
		snprintf(ep, sizeof(ep), "%s.err", out_path);
		fd = open(ep, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(126);
	}
	int devnull = open("/dev/null", O_RDONLY);
	if (devnull >= 0)
		dup2(devnull, 0);
	execv(argv[0], argv);
	_exit(127);
}

void stop_child(pid_t pid)
{
	int st;

	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (int i = 0; i < 200; i++) {		/* 2 s grace */
		if (waitpid(pid, &st, WNOHANG) == pid)
			return;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
}

int wait_listen(pid_t pid, unsigned port, double timeout_s)
{
	char path[64], line[256], want[16];
	double end = il_now_s() + timeout_s;
	int st;

	snprintf(path, sizeof(path), "/proc/%d/net/tcp", (int)pid);
	snprintf(want, sizeof(want), ":%04X", port);
	while (il_now_s() < end && !bench_stop) {
		FILE *f = fopen(path, "r");
		int found = 0;

		if (waitpid(pid, &st, WNOHANG) == pid)
			return -ECHILD;		/* it exited */
		while (f && fgets(line, sizeof(line), f)) {
			char local[64], rem[64], state[8];
			if (sscanf(line, " %*s %63s %63s %7s", local, rem, state) == 3 &&
			    strstr(local, want) && !strcmp(state, "0A"))
				found = 1;
		}
		if (f)
			fclose(f);
		if (found)
			return 0;
		usleep(20000);
	}
	return -ETIMEDOUT;
}
