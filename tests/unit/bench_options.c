/* irqlab bench option handling and the multi-host plan, offline: defaults,
 * --quick/--full with explicit overrides in any order, one-line errors that
 * name the option, and the remote command construction (save before
 * change, restore by trap, affinity per core, coalescing per case). */
#include <stdio.h>
#include <string.h>

#include "../bench/bench.h"
#include "tap.h"

static int parse(struct bench_cfg *c, char *err, const char *a1, const char *a2,
		 const char *a3, const char *a4, const char *a5, const char *a6)
{
	char *argv[8] = { "bench", (char *)a1, (char *)a2, (char *)a3, (char *)a4, (char *)a5,
			  (char *)a6, NULL };
	int argc = 1;

	while (argc < 7 && argv[argc])
		argc++;
	argv[argc] = NULL;
	bench_defaults(c);
	err[0] = 0;
	return bench_parse(c, argc, argv, err, 256);
}

static char *plan_text(const struct bench_cfg *c, char *err)
{
	static char buf[65536];
	struct plan p;
	FILE *f;

	if (remote_plan(c, &p, err, 256))
		return NULL;
	f = fmemopen(buf, sizeof(buf), "w");
	plan_print(f, &p);
	fclose(f);
	plan_free(&p);
	return buf;
}

static void test_defaults(void)
{
	struct bench_cfg c;
	char err[256];

	ok(parse(&c, err, NULL, NULL, NULL, NULL, NULL, NULL) == 0, "no options is valid");
	ok(c.nmodes == 5 && !strcmp(c.modes[4], "suspend") && !strcmp(c.server, "kv") &&
	   !strcmp(c.napi_thread, "none") && c.srv_cpu == 1 && c.cli_cpu == 0,
	   "defaults: five modes, irqlab-kv, no threaded NAPI, server CPU 1");
	ok(!strncmp(c.out_dir, "irqlab-results/", 15), "default output under ./irqlab-results/");
}

/* --quick/--full presets against explicit options, and the list options. */
static void test_presets(void)
{
	struct bench_cfg c;
	char err[256];

	ok(parse(&c, err, "--time", "2", "--quick", NULL, NULL, NULL) == 0 && c.duration == 2 &&
	   c.reps == 3 && c.npoints == 4, "--quick sets defaults, an explicit --time wins in any order");
	ok(parse(&c, err, "--full", "--reps", "2", NULL, NULL, NULL) == 0 && c.reps == 2 &&
	   c.duration == 10 && c.npoints == 9, "--full then --reps");
	ok(parse(&c, err, "--records", "5000", "--full", NULL, NULL, NULL) == 0 && c.records == 5000 &&
	   c.noise_retries == 2, "--full: explicit --records wins, noisy runs repeated twice");
	ok(parse(&c, err, "--full", NULL, NULL, NULL, NULL, NULL) == 0 && c.records == 1000000,
	   "--full preloads the published 1,000,000 keys");
	ok(parse(&c, err, "--quick", NULL, NULL, NULL, NULL, NULL) == 0 && c.noise_retries == 0 &&
	   c.records == 100000, "--quick flags noisy runs instead of repeating them");
	ok(parse(&c, err, "--modes", "base,suspend", "--mode", "suspend,irq_suspend_timeout=5ms",
		 NULL, NULL) == 0 && c.nmodes == 3 && !strcmp(c.modes[2], "suspend,irq_suspend_timeout=5ms"),
	   "--modes replaces the list, --mode adds one with knobs");
	ok(parse(&c, err, "--points", "0.1,0.5,0.9", NULL, NULL, NULL, NULL) == 0 && c.npoints == 3 &&
	   c.fracs[2] == 0.9, "--points list");
	ok(parse(&c, err, "--points", "none", NULL, NULL, NULL, NULL) == 0 && c.npoints == 0,
	   "--points none: closed loop only");
}

/* Each bad option fails with one line naming it. */
static void test_errors(void)
{
	struct bench_cfg c;
	char err[256];

	ok(parse(&c, err, "--modes", "base,fast", NULL, NULL, NULL, NULL) < 0 &&
	   strstr(err, "--modes") && strstr(err, "fast"), "unknown mode: %s", err);
	ok(parse(&c, err, "--time", "0.01", NULL, NULL, NULL, NULL) < 0 && strstr(err, "--time") &&
	   strstr(err, "0.2-600"), "time out of range names the range: %s", err);
	ok(parse(&c, err, "--reps", "2.5", NULL, NULL, NULL, NULL) < 0 && strstr(err, "--reps"),
	   "fractional reps: %s", err);
	ok(parse(&c, err, "--napi-thread", "both", NULL, NULL, NULL, NULL) < 0 &&
	   strstr(err, "none, aligned or separate"), "napi-thread choices: %s", err);
	ok(parse(&c, err, "--server", "redis", NULL, NULL, NULL, NULL) < 0 && strstr(err, "--server"),
	   "server choices: %s", err);
	ok(parse(&c, err, "--srv-cpu", "0", NULL, NULL, NULL, NULL) < 0 && strstr(err, "must differ"),
	   "server and load on one CPU refused: %s", err);
	ok(parse(&c, err, "--bogus", NULL, NULL, NULL, NULL, NULL) < 0 && strstr(err, "--bogus"),
	   "unknown option named: %s", err);
	ok(parse(&c, err, "--time", NULL, NULL, NULL, NULL, NULL) < 0 && strstr(err, "needs a value"),
	   "missing value: %s", err);
	ok(parse(&c, err, "--modes", "adaptive", NULL, NULL, NULL, NULL) < 0 && strstr(err, "--server-host"),
	   "adaptive coalescing only across machines: %s", err);
	ok(parse(&c, err, "--client-host", "c1", NULL, NULL, NULL, NULL) < 0 && strstr(err, "--server-host"),
	   "client host without server host: %s", err);
	ok(parse(&c, err, "--server-host", "s1", NULL, NULL, NULL, NULL) < 0 && strstr(err, "--dev"),
	   "server host without device: %s", err);
	ok(parse(&c, err, "-h", NULL, NULL, NULL, NULL, NULL) == 1, "--help is reported to the caller");
}

/* The server side of the plan: coalescing saved, changed and restored,
 * queues and IRQs one per core, the server started per mode. */
static void check_plan_server(const char *t)
{
	const char *save = strstr(t, "ethtool -c eth1 >");
	const char *change = strstr(t, "ethtool -C eth1 adaptive-rx o");
	const char *trap = strstr(t, "trap 'restore' EXIT");

	ok(save && change && save < change, "coalescing saved before it is changed");
	ok(trap && trap < change, "restore trap installed before the first change");
	ok(strstr(t, "restore() { ssh -o BatchMode=yes root@srv1") != NULL, "restore runs on the server host");
	ok(strstr(t, "ethtool -L eth1 combined 4") != NULL, "one queue per server core");
	ok(strstr(t, "echo $((n % 4)) > /proc/irq/$i/smp_affinity_list") != NULL,
	   "queue IRQs spread one per core");
	ok(strstr(t, "/sys/class/net/eth1/device/msi_irqs") != NULL, "IRQs found from the device's MSI vectors");
	ok(strstr(t, "ethtool -C eth1 adaptive-rx on rx-usecs 8 rx-frames 128") != NULL,
	   "adaptive case: NIC adaptive coalescing");
	ok(strstr(t, "ethtool -C eth1 adaptive-rx off rx-usecs 1 rx-frames 1") != NULL,
	   "other cases: coalescing off");
	ok(strstr(t, "--mode '\\''base'\\'' --dev eth1") && strstr(t, "--mode '\\''suspend'\\'' --dev eth1") &&
	   strstr(t, "--cpus 0-3"), "server started per mode with its NAPI settings on the NIC");
}

/* The client side of the plan: load from every client host. */
static void check_plan_clients(char *t)
{
	int closed = 0, rated = 0;

	ok(strstr(t, "ssh -o BatchMode=yes cli1 ") && strstr(t, "ssh -o BatchMode=yes cli2 ") &&
	   strstr(t, "-s srv1:11311"), "load from each client host, to the server's bare host name");
	ok(strstr(t, "--qps 50000 ") && strstr(t, "--qps 100000 "), "a target rate split over two clients");
	/* closed loop is irqlab-load's default (no --qps): count the runs by
	 * their output files, and check none of them names a rate */
	for (char *p = t; (p = strstr(p, "-closed-0-")); p++) {
		char *line = p;
		while (line > t && line[-1] != '\n')
			line--;
		rated += strstr(line, "--qps") && strstr(line, "--qps") < p;
		closed++;
	}
	ok(closed == 3 * 2 * 2 && !rated, "closed-loop runs: 3 modes x 2 reps x 2 clients (%d), "
	   "none with a rate (%d)", closed, rated);
	ok(strstr(t, "/usr/local/bin/irqlab-load -s srv1:11311 --connections 16 ") != NULL,
	   "load's command line from its option table (il_load_opts_argv)");
	ok(strstr(t, "rx-usecs $(awk '\\''/^rx-usecs:/") != NULL, "restore reads the saved values back (quoted)");
}

/* ---- the multi-host plan ---- */
static void test_plan(void)
{
	struct bench_cfg c;
	char err[256];
	char *argv[] = { "bench", "--server-host", "root@srv1", "--dev", "eth1", "--client-host", "cli1",
			 "--client-host", "cli2", "--srv-cores", "4", "--modes", "adaptive,base,suspend",
			 "--rates", "100000,200000", "--reps", "2", "--dry-run", NULL };
	char *t;

	bench_defaults(&c);
	ok(bench_parse(&c, 18, argv, err, sizeof(err)) == 0, "remote options parse");
	t = plan_text(&c, err);
	ok(t != NULL, "plan built");
	if (!t)
		return;
	check_plan_server(t);
	check_plan_clients(t);

	/* the same plan with a knob-laden mode, then with bad client hosts */
	strcpy(c.modes[1], "suspend,irq_suspend_timeout=5ms");
	t = plan_text(&c, err);
	ok(t && strstr(t, "--mode '\\''suspend,irq_suspend_timeout=5ms'\\''"),
	   "a mode spec is quoted for the remote shell");
	strcpy(c.client_hosts[1], "cli2;rm -rf /");
	ok(plan_text(&c, err) == NULL && strstr(err, "--client-host"), "a host name with shell syntax is refused");
	c.nclients = 0;
	ok(plan_text(&c, err) == NULL && strstr(err, "--client-host"), "no client host refused: %s", err);
}

int main(void)
{
	test_defaults();
	test_presets();
	test_errors();
	test_plan();
	return tap_done();
}
