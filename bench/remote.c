/* Across machines: the plan of remote commands for a real NIC host and one
 * or more client hosts, as a reviewable shell script (`--dry-run`); without
 * --dry-run, multi.c runs the experiment through `irqlab agent` on each
 * host instead (docs/multihost.md). Every setting the plan changes on the
 * server host is saved there first and restored by a trap. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "irqlab/load_opts.h"
#include "irqlab/mode.h"
#include "bench.h"

static int add(struct plan *p, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s)
		return -1;
	if (p->n == p->cap) {
		int cap = p->cap ? 2 * p->cap : 64;
		char **c = realloc(p->cmd, (size_t)cap * sizeof(*c));
		if (!c) {
			free(s);
			return -1;
		}
		p->cmd = c;
		p->cap = cap;
	}
	p->cmd[p->n++] = s;
	return 0;
}

/* Single-quotes s for sh: ' becomes '\''. Returns a static buffer (one of
 * four, so a format can use a few at once). */
static const char *sq(const char *s)
{
	static char bufs[4][4096];
	static int k;
	char *b = bufs[k++ % 4], *o = b;

	*o++ = '\'';
	for (; *s && o < b + sizeof(bufs[0]) - 6; s++) {
		if (*s == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *s;
		}
	}
	*o++ = '\'';
	*o = 0;
	return b;
}

/* A host name as the load generator's -s wants it: without "user@". */
static const char *bare_host(const char *h)
{
	const char *at = strrchr(h, '@');

	return at ? at + 1 : h;
}

/* Host names and devices go into shell commands: allow only what they
 * are made of. */
static int safe_word(const char *s)
{
	if (!*s || *s == '-')	/* no ssh option in disguise */
		return 0;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_@:[]", *s))
			return 0;
	return 1;
}

static int rhost(struct plan *p, const char *host, const char *cmd)
{
	return add(p, "ssh -o BatchMode=yes %s %s", host, sq(cmd));
}

/* The IRQs of the device's queues: its MSI-X vectors (generic across
 * drivers; /proc/interrupts names differ per driver). */
#define IRQS "$(ls /sys/class/net/%s/device/msi_irqs | sort -n)"

static int coalesce(struct plan *p, const struct bench_cfg *c, int adaptive)
{
	char cmd[256];

	if (adaptive)
		snprintf(cmd, sizeof(cmd), "ethtool -C %s adaptive-rx on rx-usecs %d rx-frames %d",
			 c->dev, c->rx_usecs, c->rx_frames);
	else	/* "no coalescing" of the published comparisons */
		snprintf(cmd, sizeof(cmd), "ethtool -C %s adaptive-rx off rx-usecs 1 rx-frames 1", c->dev);
	return rhost(p, c->server_host, cmd);
}

/* argv as one shell command: words made only of safe characters stay as
 * they are, others are single-quoted. NULL if it does not fit. */
static int sh_join(char *const argv[], char *out, size_t len)
{
	size_t n = 0;

	out[0] = 0;
	for (int i = 0; argv[i]; i++) {
		const char *w = argv[i];
		int plain = *w && strspn(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					"0123456789.-_@:[]/,=+%") == strlen(w);
		int k = snprintf(out + n, len - n, "%s%s", i ? " " : "", plain ? w : sq(w));
		if (k < 0 || (size_t)k >= len - n)
			return -1;
		n += (size_t)k;
	}
	return 0;
}

/* One run's irqlab-load on every client host, from load's own option
 * table (bench_load_opts, il_load_opts_argv). */
static int load_cmds(struct plan *p, const struct bench_cfg *c, const char *label,
		     const char *kind, double rate, int rep, char *err, size_t len)
{
	char srv[160], bin[300], cmd[1200];
	struct il_load_opts o;

	snprintf(srv, sizeof(srv), "%s:%u", bare_host(c->server_host), c->port);
	snprintf(bin, sizeof(bin), "%s/irqlab-load", c->remote_bin_dir);
	/* the target rate is split evenly over the client hosts */
	if (bench_load_opts(c, srv, (unsigned)c->client_threads, rate / c->nclients, &o,
			    err, len))
		return -1;
	char **argv = il_load_opts_argv(&o, bin);
	if (!argv || sh_join(argv, cmd, sizeof(cmd))) {
		free(argv);
		snprintf(err, len, "the irqlab-load command line does not fit");
		return -1;
	}
	free(argv);
	for (int k = 0; k < c->nclients; k++)
		add(p, "ssh -o BatchMode=yes %s %s > \"$OUT/%s-%s-%.0f-%d-c%d.json\" &",
		    c->client_hosts[k], sq(cmd), label, kind, rate, rep, k);
	return add(p, "wait");
}

/* Host names and the device go into shell commands: check them first. */
int remote_check_hosts(const struct bench_cfg *c, char *err, size_t len)
{
	if (!safe_word(c->server_host) || !safe_word(c->dev)) {
		snprintf(err, len, "--server-host and --dev may hold only letters, digits and .-_@:[]");
		return -1;
	}
	if (c->nclients < 1) {
		snprintf(err, len, "--server-host needs at least one --client-host");
		return -1;
	}
	for (int k = 0; k < c->nclients; k++)
		if (!safe_word(c->client_hosts[k])) {
			snprintf(err, len, "--client-host '%s': only letters, digits and .-_@:[]",
				 c->client_hosts[k]);
			return -1;
		}
	return 0;
}

/* 1. save what will change on the server host, and the EXIT trap that
 * restores it from the saved files whatever happens to the plan. */
static void plan_save(struct plan *p, const struct bench_cfg *c, const char *dir)
{
	const char *H = c->server_host;
	char cmd[2048];

	add(p, "# 1. save what will change: coalescing, channels, IRQ affinity");
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && ethtool -c %s > %s/coalesce && ethtool -l %s > %s/channels"
		 " && for i in " IRQS "; do echo $i $(cat /proc/irq/$i/smp_affinity_list); done > %s/affinity",
		 dir, c->dev, dir, c->dev, dir, c->dev, dir);
	rhost(p, H, cmd);
	snprintf(cmd, sizeof(cmd),
		 "f=%s; ethtool -C %s adaptive-rx $(awk '/^Adaptive RX:/ {print $3}' $f/coalesce)"
		 " rx-usecs $(awk '/^rx-usecs:/ {print $2}' $f/coalesce)"
		 " rx-frames $(awk '/^rx-frames:/ {print $2}' $f/coalesce) || true;"
		 " ethtool -L %s combined $(awk '/^Current/ {c=1} c && /^Combined:/ {print $2}' $f/channels) || true;"
		 " while read i a; do echo $a > /proc/irq/$i/smp_affinity_list || true; done < $f/affinity;"
		 " [ -f $f/kv.pid ] && kill $(cat $f/kv.pid) 2>/dev/null; rm -rf $f",
		 dir, c->dev, c->dev);
	add(p, "restore() { ssh -o BatchMode=yes %s %s; }", H, sq(cmd));
	add(p, "trap 'restore' EXIT");
	add(p, "trap 'exit 130' INT TERM");
}

/* One mode: coalescing, the server, the preload, every run, the stop. */
static int plan_mode(struct plan *p, const struct bench_cfg *c, int m, const char *dir,
		     char *err, size_t len)
{
	const char *H = c->server_host, *label = bench_mode_label(c, m);
	/* "adaptive" is the base mode with the NIC's adaptive coalescing */
	int adaptive = !strcmp(c->modes[m], "adaptive");
	const char *spec = adaptive ? "base" : c->modes[m];
	char cmd[2048], cpus[32];

	snprintf(cpus, sizeof(cpus), c->srv_cores > 1 ? "0-%d" : "0", c->srv_cores - 1);
	add(p, "# mode %s", label);
	coalesce(p, c, adaptive);
	/* irqlab-kv applies the mode's NAPI settings to DEV's NAPIs and
	 * restores them when it exits; setsid and no inherited
	 * stdin/stdout: ssh returns at once */
	snprintf(cmd, sizeof(cmd), "setsid %s/irqlab-kv -p %u -t %d --cpus %s -m 1024 --mode %s "
		 "--dev %s < /dev/null > %s/kv.log 2>&1 & echo $! > %s/kv.pid; "
		 "for t in 1 2 3 4 5 6 7 8 9 10; do ss -ltnH sport = :%u | grep -q . && exit 0; sleep 0.5; done; "
		 "cat %s/kv.log; exit 1",
		 c->remote_bin_dir, c->port, c->srv_cores, cpus, sq(spec), c->dev, dir, dir,
		 c->port, dir);
	rhost(p, H, cmd);
	snprintf(cmd, sizeof(cmd), "%s/irqlab-load -s %s:%u --records %d --loadonly",
		 c->remote_bin_dir, bare_host(H), c->port, c->records);
	rhost(p, c->client_hosts[0], cmd);
	for (int r = 0; r < c->reps; r++)
		if (load_cmds(p, c, label, "closed", 0, r, err, len))
			return -1;
	for (int i = 0; i < c->nrates; i++)
		for (int r = 0; r < c->reps; r++)
			if (load_cmds(p, c, label, "open", c->rates[i], r, err, len))
				return -1;
	snprintf(cmd, sizeof(cmd), "kill $(cat %s/kv.pid) && rm -f %s/kv.pid", dir, dir);
	return rhost(p, H, cmd);
}

int remote_plan(const struct bench_cfg *c, struct plan *p, char *err, size_t len)
{
	char dir[64], cmd[256];

	memset(p, 0, sizeof(*p));
	if (remote_check_hosts(c, err, len))
		return -1;
	snprintf(dir, sizeof(dir), "/tmp/irqlab-bench-%d", (int)getpid());
	add(p, "#!/bin/sh");
	add(p, "# irqlab bench plan: server %s (dev %s, %d cores), %d client host(s).",
	    c->server_host, c->dev, c->srv_cores, c->nclients);
	add(p, "# Generated by `irqlab bench --dry-run`; irqlab does not run it. Review, then run with sh.");
	add(p, "set -e");
	add(p, "OUT=${OUT:-%s}", c->out_dir);
	add(p, "mkdir -p \"$OUT\"");
	plan_save(p, c, dir);
	add(p, "# 2. one queue per server core, each queue's IRQ on its own core");
	snprintf(cmd, sizeof(cmd), "ethtool -L %s combined %d", c->dev, c->srv_cores);
	rhost(p, c->server_host, cmd);
	snprintf(cmd, sizeof(cmd), "n=0; for i in " IRQS "; do echo $((n %% %d)) > "
		 "/proc/irq/$i/smp_affinity_list; n=$((n + 1)); done", c->dev, c->srv_cores);
	rhost(p, c->server_host, cmd);
	for (int m = 0; m < c->nmodes; m++)
		if (plan_mode(p, c, m, dir, err, len)) {
			plan_free(p);
			return -1;
		}
	if (!c->nrates)
		add(p, "# no --rates given: closed loop only (open-loop targets across machines are absolute QPS)");
	add(p, "# 3. restore (the EXIT trap runs restore)");
	return 0;
}

void plan_print(FILE *f, const struct plan *p)
{
	for (int i = 0; i < p->n; i++)
		fprintf(f, "%s\n", p->cmd[i]);
}

void plan_free(struct plan *p)
{
	for (int i = 0; i < p->n; i++)
		free(p->cmd[i]);
	free(p->cmd);
	memset(p, 0, sizeof(*p));
}
