/* Settings and counters: the option table (values, ranges, one-line
 * errors, --help, a "stats settings" line per option), and the per-thread
 * counters' sum and reset while another thread counts. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "../../kv/kv.h"
#include "../../kv/settings.h"
#include "../../kv/stats.h"

/* Parses a space-separated command line into kv_set. */
static int parse(const char *line, char *err, size_t len)
{
	char copy[512], *argv[32], *save = NULL;
	int argc = 0;

	snprintf(copy, sizeof(copy), "irqlab-kv %s", line);
	for (char *w = strtok_r(copy, " ", &save); w && argc < 31; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	kv_settings_init(&kv_set);
	err[0] = 0;
	return kv_settings_parse(&kv_set, argc, argv, err, len);
}

static void bad(const char *line, const char *want)
{
	char err[256];
	int rc = parse(line, err, sizeof(err));

	if (!ok(rc == KV_OPT_ERROR && strstr(err, want) && !strchr(err, '\n'),
		"'%s' refused: %s", line, err))
		tap_diag("want '%s'", want);
}

static void test_parse(void)
{
	char err[256];

	ok(parse("", err, sizeof(err)) == KV_OPT_RUN && kv_set.port == 11211 &&
	   kv_set.threads == 4 && kv_set.mem_mb == 64 && kv_set.maxconns == 1024 &&
	   kv_set.item_max == 1 << 20 && !strcmp(kv_set.mode.name, "base"),
	   "defaults: memcached's (port 11211, 4 threads, 64 MB, 1024 conns, 1m items), base mode");
	ok(parse("-p 0 -l 127.0.0.1 -t 2 -m 128 -c 10 -I 2m -U 0 -v -v", err, sizeof(err)) == KV_OPT_RUN &&
	   kv_set.port == 0 && !strcmp(kv_set.listen, "127.0.0.1") && kv_set.threads == 2 &&
	   kv_set.mem_mb == 128 && kv_set.maxconns == 10 && kv_set.item_max == 2 << 20 &&
	   kv_set.verbose == 2, "short options");
	ok(parse("--port=5 --listen ::1 --threads=3 --memory-limit 8 --conn-limit=7 --max-item-size=64k",
		 err, sizeof(err)) == KV_OPT_RUN &&
	   kv_set.port == 5 && !strcmp(kv_set.listen, "::1") && kv_set.threads == 3 &&
	   kv_set.mem_mb == 8 && kv_set.maxconns == 7 && kv_set.item_max == 64 << 10,
	   "long options, with = or a space");
	ok(parse("--cpus 0 -t 3", err, sizeof(err)) == KV_OPT_RUN && kv_set.threads == 3 &&
	   kv_set.cpus[2] == 0, "more threads than --cpus: the list wraps around");
	ok(parse("--cpus 0", err, sizeof(err)) == KV_OPT_RUN && kv_set.threads == 1,
	   "--cpus without -t: one thread per CPU");
	ok(parse("--mode napibusy --dev lo", err, sizeof(err)) == KV_OPT_RUN &&
	   !strcmp(kv_set.mode.name, "napibusy") && !strcmp(kv_set.dev, "lo"), "--mode and --dev");
	ok(parse("", err, sizeof(err)) == KV_OPT_RUN && kv_set.factor == 1.25 && kv_set.chunk_min == 48 &&
	   parse("-f 2 -n 8", err, sizeof(err)) == KV_OPT_RUN && kv_set.factor == 2.0 &&
	   kv_set.chunk_min == 8 &&
	   parse("--slab-growth-factor=1.05 --slab-min-size 100", err, sizeof(err)) == KV_OPT_RUN &&
	   kv_set.factor == 1.05 && kv_set.chunk_min == 100,
	   "-f/-n: memcached's slab growth factor (1.25) and minimum size (48)");
	ok(parse("-h", err, sizeof(err)) == KV_OPT_HELP && parse("-p 1 --help", err, sizeof(err)) == KV_OPT_HELP,
	   "-h and --help ask for the help text");

	bad("-p 70000", "--port: '70000' is not in 0-65535");
	bad("-t 0", "--threads: '0' is not in 1-64");
	bad("-m 0", "--memory-limit: '0' is not in 1-1048576");
	bad("-c x", "--conn-limit: 'x' is not in 1-1000000");
	bad("-I 10", "--max-item-size: '10' is not a size in 1024-");
	bad("-m 1 -I 1m", "--max-item-size: 1048576 is more than half of --memory-limit (1 MB)");
	bad("-f 1", "--slab-growth-factor: '1' is not greater than 1");
	bad("-f 0.5", "--slab-growth-factor: '0.5' is not a number in 1-100");
	bad("-n 0", "--slab-min-size: '0' is not in 1-65536");
	bad("-U 5", "--udp-port: '5' is not in 0-0 (UDP is not supported");
	bad("-l localhost", "--listen: 'localhost' is not a numeric IPv4/IPv6 address");
	bad("--mode nosuch", "--mode: ");
	bad("--cpus 99999", "--cpus");
	bad("--dev 0123456789abcdef", "--dev: '0123456789abcdef' is not a network device name");
	bad("-x", "unknown option '-x'");
	bad("--nosuch=1", "unknown option '--nosuch=1'");
	bad("-p", "missing value for option '-p'");
	bad("--mode", "missing value for option '--mode'");
	bad("extra", "unexpected argument 'extra'");
}

/* Every option has a --help line with its long name and a "stats
 * settings" line showing its value (except --help itself). */
static void test_help_and_stats(void)
{
	char help[4096] = "", *stats;
	struct buf o = { 0 };
	const char *name, *stat;
	FILE *f = fmemopen(help, sizeof(help) - 1, "w");
	int documented = 1, shown = 1, n = 0;

	kv_settings_init(&kv_set);
	kv_usage(f);
	fclose(f);
	kv_stats_settings(&o);
	buf_add(&o, "", 1);
	stats = o.p;
	for (size_t i = 0; (stat = kv_option_stat(i, &name)); i++, n++) {
		char want[64];

		snprintf(want, sizeof(want), "--%s", name);
		if (!strstr(help, want)) {
			documented = 0;
			tap_diag("--help does not mention %s", want);
		}
		snprintf(want, sizeof(want), "STAT %s ", stat);
		if (strcmp(name, "help") && (!stat[0] || !strstr(stats, want))) {
			shown = 0;
			tap_diag("stats settings does not show --%s ('%s')", name, stat);
		}
	}
	ok(n >= 12 && documented, "--help documents all %d options", n);
	ok(shown, "stats settings has a line for every option");
	ok(strstr(help, "  -I, --max-item-size=SIZE largest item, 1k-1g, suffix k/m/g, at most half of\n"
			"                           --memory-limit (default 1m)\n") != NULL,
	   "help lines are aligned, continuation lines indented");
	buf_free(&o);
}

static struct kv_thread threads[2];
static volatile int stop;

static void *counter(void *arg)
{
	struct kv_thread *t = arg;

	while (!stop) {
		KV_INC(t, cmd_get);
		KV_INC(t, total_connections);
	}
	return NULL;
}

static void test_counters(void)
{
	struct kv_stats s, s2;
	pthread_t th;
	int monotonic = 1;

	kv_threads = threads;
	kv_nthreads = 2;
	KV_ADD(&threads[0], bytes_read, 5);
	KV_ADD(&threads[1], bytes_read, 7);
	KV_INC(&threads[1], total_connections);
	kv_stats_sum(&s);
	ok(s.bytes_read == 12 && s.total_connections == 1, "sum over threads");
	kv_stats_reset();
	kv_stats_sum(&s);
	ok(s.bytes_read == 0 && s.total_connections == 1,
	   "reset clears counters, keeps total_connections (memcached does too)");

	/* thread 0 counts while this thread sums and resets */
	pthread_create(&th, NULL, counter, &threads[0]);
	for (int i = 0; i < 2000; i++) {
		kv_stats_sum(&s);
		kv_stats_sum(&s2);
		if (s2.cmd_get < s.cmd_get || s2.total_connections < s.total_connections)
			monotonic = 0;
		if (i % 100 == 0)
			kv_stats_reset();
	}
	stop = 1;
	pthread_join(th, NULL);
	ok(monotonic, "between resets, counters summed during updates never go back");
	kv_stats_reset();
	KV_ADD(&threads[0], cmd_get, 3);
	kv_stats_sum(&s);
	ok(s.cmd_get == 3 && s.total_connections == threads[0].st.total_connections + 1,
	   "after a reset under load: exactly the updates since (3), kept counters whole");
	kv_threads = NULL;
	kv_nthreads = 0;
}

int main(void)
{
	test_parse();
	test_help_and_stats();
	test_counters();
	return tap_done();
}
