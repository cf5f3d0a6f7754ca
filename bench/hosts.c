/* The ssh transport of the multi-host bench: one `irqlab agent` per host
 * over OpenSSH, JSON lines both ways (bench/multi.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <wordexp.h>

#include "irqlab/clock.h"
#include "bench.h"
#include "multi.h"

#define SSH_MAX_WORDS 64

/* The ssh command's words, then ours: BatchMode (never a password prompt),
 * one master connection per host that later calls (and scp) reuse. */
static int ssh_argv(const struct hosts_how *how, const char *host, const char *cmd,
		    wordexp_t *we, char **argv, char *ctl, size_t clen)
{
	int n = 0;

	if (wordexp(how->ssh, we, WRDE_NOCMD | WRDE_UNDEF) || we->we_wordc == 0 ||
	    we->we_wordc > SSH_MAX_WORDS - 24)
		return -1;
	for (size_t i = 0; i < we->we_wordc; i++)
		argv[n++] = we->we_wordv[i];
	snprintf(ctl, clen, "ControlPath=%s/ssh-%%C", how->dir);
	const char *ours[] = { "-o", "BatchMode=yes", "-o", "ControlMaster=auto", "-o", ctl,
			       "-o", "ControlPersist=60", "-o", "ServerAliveInterval=5",
			       "-o", "ServerAliveCountMax=3", "-o", "ConnectTimeout=10" };
	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
		argv[n++] = (char *)ours[i];
	argv[n++] = (char *)host;
	if (cmd)
		argv[n++] = (char *)cmd;
	argv[n] = NULL;
	return n;
}

static pid_t spawn_ssh(char **argv, int in, int out, const char *errpath)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	int e = open(errpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	int null = open("/dev/null", O_RDWR);
	signal(SIGINT, SIG_IGN);	/* Ctrl-C is bench's: it hangs up */
	dup2(in >= 0 ? in : null, 0);
	dup2(out >= 0 ? out : null, 1);
	dup2(e >= 0 ? e : null, 2);
	execvp(argv[0], argv);
	_exit(127);
}

void host_as_root(const char *cmd, char *out, size_t len)
{
	snprintf(out, len, "if [ \"$(id -u)\" = 0 ]; then exec %s; fi; "
		 "sudo -n true 2>/dev/null || { echo \"not root, and sudo -n is refused (no "
		 "sudo, or it wants a password): the NIC and NAPI settings need root\" >&2; "
		 "exit 1; }; exec sudo -n %s", cmd, cmd);
}

int host_open(struct host *h, const struct hosts_how *how, char *err, size_t len)
{
	char *argv[SSH_MAX_WORDS], ctl[700], cmd[2048];
	int in[2], out[2];
	wordexp_t we;

	h->ssh = 0;
	h->to = h->from = -1;
	h->next_id = 1;
	snprintf(h->errpath, sizeof(h->errpath), "%s/ssh-%s.log", how->logs, h->name);
	host_as_root(h->agent[0] ? h->agent : how->agent, cmd, sizeof(cmd));
	if (ssh_argv(how, h->name, cmd, &we, argv, ctl, sizeof(ctl)) < 0) {
		snprintf(err, len, "--ssh '%s': not a command (words, no $(...))", how->ssh);
		return -1;
	}
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC)) {
		wordfree(&we);
		snprintf(err, len, "%s: pipe: %s", h->name, strerror(errno));
		return -1;
	}
	h->ssh = spawn_ssh(argv, in[0], out[1], h->errpath);
	wordfree(&we);
	close(in[0]);
	close(out[1]);
	h->to = in[1];
	h->from = out[0];
	if (h->ssh < 0) {
		snprintf(err, len, "%s: cannot start ssh: %s", h->name, strerror(errno));
		return -1;
	}
	return 0;
}

static void ssh_why(struct host *h, char *out, size_t len);

int host_exec(struct host *h, const struct hosts_how *how, const char *cmd, int in_fd,
	      char *out, size_t len)
{
	char *argv[SSH_MAX_WORDS], ctl[700];
	int p[2], st;
	size_t n = 0;
	wordexp_t we;

	snprintf(h->errpath, sizeof(h->errpath), "%s/ssh-%s.log", how->logs, h->name);
	if (ssh_argv(how, h->name, cmd, &we, argv, ctl, sizeof(ctl)) < 0)
		return -1;
	if (pipe2(p, O_CLOEXEC)) {
		wordfree(&we);
		return -1;
	}
	pid_t pid = spawn_ssh(argv, in_fd, p[1], h->errpath);
	wordfree(&we);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -1;
	}
	double end = il_now_s() + 120;
	for (;;) {
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		int ms = (int)((end - il_now_s()) * 1000);
		if (ms <= 0 || poll(&pf, 1, ms) <= 0)
			break;
		char tmp[4096];
		ssize_t k = read(p[0], tmp, sizeof(tmp));
		if (k <= 0)
			break;
		for (ssize_t i = 0; i < k && out && n + 1 < len; i++)
			out[n++] = tmp[i];
	}
	if (out && len)
		out[n] = 0;
	close(p[0]);
	for (double t = il_now_s() + 5; waitpid(pid, &st, WNOHANG) == 0; usleep(20000))
		if (il_now_s() > t) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return -1;
		}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* FNV-1a 64 of a file's bytes, as 16 hex digits; NULL if unreadable. */
static json_t *file_hash(const char *path)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	unsigned char buf[65536];
	char hex[17];
	ssize_t k;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return json_null();
	while ((k = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < k; i++)
			h = (h ^ buf[i]) * 0x100000001b3ULL;
	close(fd);
	if (k < 0)
		return json_null();
	snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)h);
	return json_string(hex);
}

json_t *irqlab_build(const char *self, const char *dir)
{
	struct utsname u;
	char p[700];
	json_t *b;

	uname(&u);
	b = json_pack("{s:i, s:s, s:o}", "version", IRQLAB_AGENT_PROTO, "machine", u.machine,
		      "irqlab", file_hash(self));
	snprintf(p, sizeof(p), "%s/irqlab-kv", dir);
	json_object_set_new(b, "irqlab-kv", file_hash(p));
	snprintf(p, sizeof(p), "%s/irqlab-load", dir);
	json_object_set_new(b, "irqlab-load", file_hash(p));
	return b;
}

int irqlab_build_differs(json_t *local, json_t *remote, char *why, size_t len)
{
	static const char *const bins[] = { "irqlab", "irqlab-kv", "irqlab-load" };
	const char *lm = json_string_value(json_object_get(local, "machine"));
	const char *rm = json_string_value(json_object_get(remote, "machine"));
	json_int_t lv = json_integer_value(json_object_get(local, "version"));
	json_int_t rv = json_integer_value(json_object_get(remote, "version"));

	if (!json_is_object(remote)) {
		snprintf(why, len, "its irqlab reports no build (an older irqlab)");
		return 1;
	}
	if (lv != rv) {
		snprintf(why, len, "its irqlab agent speaks protocol %lld, this irqlab %lld",
			 (long long)rv, (long long)lv);
		return 1;
	}
	if (lm && rm && strcmp(lm, rm)) {
		snprintf(why, len, "it is %s, this machine %s", rm, lm);
		return 1;
	}
	for (int i = 0; i < 3; i++) {
		const char *l = json_string_value(json_object_get(local, bins[i]));
		const char *r = json_string_value(json_object_get(remote, bins[i]));
		if (!l || !r || !strcmp(l, r))	/* missing ones: the preflight says */
			continue;
		snprintf(why, len, "its %s is another build (%.8s there, %.8s here)", bins[i], r, l);
		return 1;
	}
	return 0;
}

int host_send(struct host *h, json_t *job, char *err, size_t len)
{
	int id = h->next_id++;
	char *s;
	size_t n;

	json_object_set_new(job, "id", json_integer(id));
	s = json_dumps(job, JSON_COMPACT);
	if (!s) {
		snprintf(err, len, "%s: out of memory", h->name);
		return -1;
	}
	n = strlen(s);
	s[n] = '\n';	/* json_dumps' terminator becomes the line's end */
	for (size_t off = 0; off <= n;) {
		ssize_t k = h->to >= 0 ? write(h->to, s + off, n + 1 - off) : -1;
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			char why[400];
			free(s);
			ssh_why(h, why, sizeof(why));
			snprintf(err, len, "%s: %s", h->name, why);
			return -1;
		}
		off += (size_t)k;
	}
	free(s);
	return id;
}

static int wait_for(pid_t pid, double timeout_s);

/* ssh's last line on stderr (why the connection ended), or a default;
 * waits (2 s at most) for ssh to end first, so the line is complete. */
static void ssh_why(struct host *h, char *out, size_t len)
{
	char line[400];
	FILE *f;

	if (h->ssh > 0 && !wait_for(h->ssh, 2))
		h->ssh = 0;
	f = fopen(h->errpath, "r");

	snprintf(out, len, "the connection ended (no message from ssh)");
	while (f && fgets(line, sizeof(line), f))
		if (line[strspn(line, " \r\n")]) {
			line[strcspn(line, "\r\n")] = 0;
			snprintf(out, len, "%s", line);
		}
	if (f)
		fclose(f);
}

/* One complete line out of the buffer, or NULL. */
static char *take_line(struct host *h)
{
	char *nl = h->buf ? memchr(h->buf, '\n', h->blen) : NULL;
	char *line;
	size_t n;

	if (!nl)
		return NULL;
	n = (size_t)(nl - h->buf);
	line = strndup(h->buf, n);
	memmove(h->buf, nl + 1, h->blen - n - 1);
	h->blen -= n + 1;
	return line;
}

/* Reads more from the agent: 1 read, 0 timeout, -1 end of stream. */
static int fill(struct host *h, double deadline)
{
	struct pollfd p = { .fd = h->from, .events = POLLIN };
	int ms = (int)((deadline - il_now_s()) * 1000);
	ssize_t k;

	if (h->from < 0)
		return -1;
	if (ms <= 0)
		return 0;
	/* in slices: a Ctrl-C (bench_stop) ends the wait */
	if (poll(&p, 1, ms < 200 ? ms : 200) <= 0)
		return bench_stop ? -2 : 1;
	if (h->bcap - h->blen < 65536) {
		char *b = realloc(h->buf, h->bcap * 2 + 65536);
		if (!b)
			return -1;
		h->buf = b;
		h->bcap = h->bcap * 2 + 65536;
	}
	k = read(h->from, h->buf + h->blen, h->bcap - h->blen);
	if (k <= 0)
		return -1;
	h->blen += (size_t)k;
	return 1;
}

static json_t *judge_answer(struct host *h, json_t *a, char *err, size_t len)
{
	if (json_is_true(json_object_get(a, "ok")))
		return a;
	snprintf(err, len, "%s: %s", h->name,
		 json_string_value(json_object_get(a, "error")) ?: "the agent gave no reason");
	json_decref(a);
	return NULL;
}

json_t *host_wait(struct host *h, int id, double timeout_s, char *err, size_t len)
{
	double deadline = il_now_s() + timeout_s;
	char why[400];

	for (;;) {
		char *line;
		while ((line = take_line(h))) {
			json_t *a = json_loads(line, 0, NULL);
			free(line);
			if (a && json_integer_value(json_object_get(a, "id")) == id)
				return judge_answer(h, a, err, len);
			json_decref(a);	/* an answer nobody waits for any more */
		}
		int rc = fill(h, deadline);
		if (rc == -2) {
			snprintf(err, len, "interrupted");
			return NULL;
		}
		if (rc == 0) {
			snprintf(err, len, "%s: no answer from the agent within %.0f s", h->name,
				 timeout_s);
			return NULL;
		}
		if (rc < 0) {
			ssh_why(h, why, sizeof(why));
			snprintf(err, len, "%s: %s", h->name, why);
			return NULL;
		}
	}
}

json_t *host_call(struct host *h, json_t *job, double timeout_s, char *err, size_t len)
{
	int id = host_send(h, job, err, len);

	json_decref(job);
	return id < 0 ? NULL : host_wait(h, id, timeout_s, err, len);
}

int host_clock(struct host *h, char *err, size_t len)
{
	h->rtt_s = INFINITY;
	/* the fastest of three hellos: its midpoint is the best estimate */
	for (int i = 0; i < 3; i++) {
		struct timespec a, b;
		clock_gettime(CLOCK_REALTIME, &a);
		json_t *r = host_call(h, json_pack("{s:s}", "op", "hello"), 30, err, len);
		clock_gettime(CLOCK_REALTIME, &b);
		if (!r)
			return -1;
		double t0 = (double)a.tv_sec + a.tv_nsec / 1e9, t1 = (double)b.tv_sec + b.tv_nsec / 1e9;
		json_t *t = json_object_get(r, "time");
		if (json_is_number(t) && t1 - t0 < h->rtt_s) {
			h->rtt_s = t1 - t0;
			h->offset_s = json_number_value(t) - (t0 + t1) / 2;
		}
		json_decref(r);
	}
	if (!isfinite(h->rtt_s)) {
		snprintf(err, len, "%s: its agent's hello has no \"time\" (an older irqlab?)", h->name);
		return -1;
	}
	return 0;
}

void host_ssh_why(struct host *h, char *out, size_t len)
{
	ssh_why(h, out, len);
}

int host_alive(struct host *h, char *err, size_t len)
{
	char why[400];

	if (h->ssh > 0 && waitpid(h->ssh, NULL, WNOHANG) == 0)
		return 1;
	h->ssh = 0;
	ssh_why(h, why, sizeof(why));
	snprintf(err, len, "%s: %s", h->name, why);
	return 0;
}

void host_hangup(struct host *h)
{
	if (h->to >= 0)
		close(h->to);
	h->to = -1;
}

static int wait_for(pid_t pid, double timeout_s)
{
	double end = il_now_s() + timeout_s;
	int st;

	while (il_now_s() < end) {
		if (waitpid(pid, &st, WNOHANG) != 0)
			return 0;
		usleep(20000);
	}
	return -1;
}

void host_close(struct host *h, const struct hosts_how *how)
{
	char *argv[SSH_MAX_WORDS], ctl[700];
	wordexp_t we;

	host_hangup(h);
	if (h->ssh > 0 && wait_for(h->ssh, 15)) {
		kill(h->ssh, SIGKILL);
		waitpid(h->ssh, NULL, 0);
	}
	h->ssh = 0;
	if (h->from >= 0)
		close(h->from);
	h->from = -1;
	free(h->buf);
	h->buf = NULL;
	h->blen = h->bcap = 0;
	/* the master connection: "ssh -O exit" ends it now, not in 60 s */
	int n = ssh_argv(how, h->name, NULL, &we, argv, ctl, sizeof(ctl));
	if (n < 0)
		return;
	argv[n + 2] = NULL;
	argv[n + 1] = argv[n - 1];	/* the host last */
	argv[n - 1] = "-O";
	argv[n] = "exit";
	pid_t pid = spawn_ssh(argv, -1, -1, h->errpath);
	wordfree(&we);
	if (pid > 0 && wait_for(pid, 5)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}
