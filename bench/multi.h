/* irqlab bench across machines: the driver (multi.c) and its transport
 * (hosts.c).
 *
 * The hosts of a multi-host bench: one `irqlab agent` per host behind one
 * OpenSSH connection (the user's keys, config and agent; BatchMode; a
 * multiplexed master per host, ControlMaster/ControlPersist), spoken to in
 * JSON lines (cli/agent.c, docs/multihost.md). Every error names the host:
 *   "c2: ssh: connect to host 198.18.20.3 port 22: Connection refused" */
#ifndef IRQLAB_BENCH_MULTI_H
#define IRQLAB_BENCH_MULTI_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

/* The agent protocol's version (hello's "version"). */
#define IRQLAB_AGENT_PROTO 1

struct host {
	char name[128];			/* [user@]host as given */
	char bindir[300];		/* --install's per-run directory, "" if none */
	char agent[700];		/* the agent's command there, "": how->agent */
	pid_t ssh;			/* the ssh process, 0 when closed */
	int to, from;			/* the agent's stdin and stdout */
	char *buf;			/* answers read but not yet taken */
	size_t blen, bcap;
	int next_id;
	char errpath[600];		/* ssh's stderr */
	double offset_s, rtt_s;		/* clock: remote - local, round trip */
};

/* How to reach the hosts: the ssh command (words, e.g. "ssh -F cfg"), the
 * directory for control sockets and logs, and the agent's command line on
 * the host ("irqlab agent", "/opt/irqlab/irqlab agent --bin-dir ..."). */
struct hosts_how {
	const char *ssh;
	const char *dir;
	const char *agent;
	const char *logs;		/* ssh's stderr per host */
};

/* cmd as root on the host: itself when the login is root, else through
 * `sudo -n` (never a password prompt), or a line on stderr saying why not
 * (ssh_why reports it). For the login's shell (POSIX sh syntax). */
void host_as_root(const char *cmd, char *out, size_t len);

/* Starts ssh and the agent (as root) on h->name (set by the caller). 0, or
 * -1 with "HOST: why" in err. The connection is only known to work after
 * the first answer (host_call). */
int host_open(struct host *h, const struct hosts_how *how, char *err, size_t len);

/* Sends job (a JSON object; an "id" is added) and returns its id, or -1. */
int host_send(struct host *h, json_t *job, char *err, size_t len);

/* Waits up to timeout_s for the answer to id: the answer when it says
 * "ok": true; NULL with "HOST: why" in err otherwise (the agent's error,
 * a timeout, or ssh's last words when the connection ended). */
json_t *host_wait(struct host *h, int id, double timeout_s, char *err, size_t len);

/* host_send then host_wait; job is consumed. */
json_t *host_call(struct host *h, json_t *job, double timeout_s, char *err, size_t len);

/* Measures the clock offset and round trip: the "time" of the fastest of
 * three hellos against the local clock around it. 0 or -1. */
int host_clock(struct host *h, char *err, size_t len);

/* Runs cmd (one string for the remote shell) on h over ssh, stdin from
 * in_fd (-1: /dev/null), up to len-1 bytes of stdout into out: its exit
 * status, or -1 (could not run, or past 120 s: killed). */
int host_exec(struct host *h, const struct hosts_how *how, const char *cmd, int in_fd,
	      char *out, size_t len);

/* ssh's last words about h (its log), for a failed host_exec. */
void host_ssh_why(struct host *h, char *out, size_t len);

/* This build: {"version": proto, "machine", and a hash (FNV-1a 64, hex) of
 * the irqlab binary running (self) and of irqlab-kv and irqlab-load in dir
 * (null where missing)}: what the agent's hello and --build-id report. */
json_t *irqlab_build(const char *self, const char *dir);
/* 0 when remote is the same build as local; else 1 with why ("irqlab-kv
 * is another build (1a2b3c4d there, 5e6f7a8b here)"). */
int irqlab_build_differs(json_t *local, json_t *remote, char *why, size_t len);

/* Ends the agent's stdin (it restores everything and exits) and waits up
 * to 15 s for ssh to end, then stops the master connection. */
void host_close(struct host *h, const struct hosts_how *how);

/* 1 while the ssh connection runs; 0 with "HOST: why" in err after it
 * ended (killed, or the host unreachable for ServerAliveInterval x 3). */
int host_alive(struct host *h, char *err, size_t len);

/* Async-signal-safe: closes the agent's stdin, nothing else. */
void host_hangup(struct host *h);

/* --- multi.c: the driver ------------------------------------------------ */

struct bench_cfg;
struct bench_ops;

/* Opens every host, runs the preflight (each failure one line naming the
 * host, on stderr; the first in err) and fills ops for sweep_run. 0 or -1. */
int multi_open(const struct bench_cfg *c, struct bench_ops *ops, char *err, size_t len);
/* --restore: `irqlab agent --restore` on every host over ssh (the journals
 * of agents that are gone), their output prefixed with the host. The exit
 * status: 0 when every host restored, else 1. */
int multi_restore(const struct bench_cfg *c);
/* Hangs up every host (each agent restores what it changed) and waits for
 * them. Idempotent; registered with atexit by multi_open. */
void multi_close(void);
/* report.md's setup lines for a multi-host run: the hosts (kernel, clock
 * offset), the server's case, the load. */
void multi_md_setup(FILE *f, const struct bench_cfg *c);
/* report.md's hardware counters line (what the server's PMU gave, or why
 * not) and "Reading it" bullets for a multi-host run. */
const char *multi_md_perf(void);
void multi_md_reading(FILE *f, const struct bench_cfg *c);

#endif
