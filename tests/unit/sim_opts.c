/* irqlab-sim's command line: options parse into a struct (shortcuts become
 * config overrides in order), errors come back as one line naming the
 * option, and the experiment is the config file plus the overrides. */
#include <string.h>

#include "../../sim/opts.h"
#include "tap.h"

#define ARGV(...) (char *[]){ "irqlab-sim", __VA_ARGS__, NULL }
#define ARGC(...) ((int)(sizeof((char *[]){ "irqlab-sim", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(o, err, ...) sim_opts_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (o), \
					  (err), sizeof(err))

static struct sim_opts o;

static void shortcuts(void)
{
	char err[256] = "";

	ok(PARSE(&o, err, "--cores", "4", "-t", "0.5", "--set", "nic.coalesce=static",
		 "--conns", "64", "-s", "7", "--warmup", "10ms") == 0, "parses (%s)", err);
	is_int(o.action, ACT_RUN, "  action: run");
	is_int(o.nsets, 7, "  seven overrides");
	is_str(o.sets[0], "nic.queues=4", "  --cores: one queue per core ...");
	is_str(o.sets[1], "machine.cores=4", "  ... and the cores");
	is_str(o.sets[2], "run.time=0.5", "  -t: run.time");
	is_str(o.sets[3], "nic.coalesce=static", "  --set kept as given, in order");
	is_str(o.sets[6], "run.warmup=10ms", "  --warmup last, as typed");
	ok(strstr(o.cmdline, "irqlab-sim --cores 4 -t 0.5") == o.cmdline,
	   "  the command line is kept for report.md");

	struct experiment e;
	ok(sim_opts_experiment(&o, &e, err, sizeof(err)) == 0, "experiment built (%s)", err);
	ok(e.cores == 4 && e.queues == 4 && e.time_ns == 500000000ULL &&
	   e.coalesce == COAL_STATIC && e.conns == 64 && e.seed == 7 &&
	   e.warmup_ns == 10000000ULL, "  every override applied");
}

static void modes_and_rates(void)
{
	char err[256] = "";

	ok(PARSE(&o, err, "-m", "suspend") == 0 && o.nsets == 1 &&
	   !strcmp(o.sets[0], "mode.spec=suspend"), "one --mode applies to every run");
	ok(PARSE(&o, err, "-m", "base", "-m", "busywait", "-q", "100k,200000", "-q", "1M") == 0,
	   "two modes, three rates (%s)", err);
	ok(o.nmodes == 2 && o.nsets == 0, "  two modes stay a list (one run each)");
	ok(o.nqps == 3 && o.qps[0] == 100000 && o.qps[1] == 200000 && o.qps[2] == 1e6,
	   "  rates with k/M, over two -q");
	ok(PARSE(&o, err, "--calibrate", "-m", "busywait", "--set", "thesis:ipc0=1") == 0 &&
	   o.action == ACT_CALIBRATE && o.nsets == 2 &&
	   !strcmp(o.sets[1], "mode.spec=busywait"), "--calibrate: the mode is an override");
}

static void errors(void)
{
	char err[256];

	ok(PARSE(&o, err, "-q", "100000,abc") == -1 &&
	   !strcmp(err, "--qps: 'abc' is not a number in 1-1e+09"), "bad rate: %s", err);
	ok(PARSE(&o, err, "--tolerance", "0") == -1 && strstr(err, "--tolerance: '0'"),
	   "tolerance 0: %s", err);
	ok(PARSE(&o, err, "--calib-time", "1000") == -1 &&
	   strstr(err, "--calib-time: '1000' is not a number in 0.001-100"),
	   "calib time 1000: %s", err);
	ok(PARSE(&o, err, "--set", "nic.coalesce") == -1 &&
	   !strcmp(err, "--set: 'nic.coalesce' is not KEY=VALUE"), "--set without =: %s", err);
	ok(PARSE(&o, err, "--frobnicate") == -1 && strstr(err, "--frobnicate: unknown"),
	   "unknown option: %s", err);
	ok(PARSE(&o, err, "-t") == -1 && strstr(err, "missing value"),
	   "missing value: %s", err);
	ok(PARSE(&o, err, "stray") == -1 && strstr(err, "unexpected argument 'stray'"),
	   "stray argument: %s", err);
	ok(PARSE(&o, err, "--out", "") == -1 && strstr(err, "--out"), "empty --out: %s", err);

	struct experiment e;
	ok(PARSE(&o, err, "--cores", "0") == 0 &&
	   sim_opts_experiment(&o, &e, err, sizeof(err)) == -1 &&
	   strstr(err, "nic.queues: '0' is not an integer in 1-64"),
	   "a bad shortcut value fails where the key is set: %s", err);
	ok(PARSE(&o, err, "-c", "/nonexistent.conf") == 0 &&
	   sim_opts_experiment(&o, &e, err, sizeof(err)) == -1 &&
	   strstr(err, "/nonexistent.conf"), "missing config named: %s", err);
}

static void actions(void)
{
	char err[256];

	ok(PARSE(&o, err, "--help-config", "--bogus") == 0 && o.action == ACT_HELP_CONFIG,
	   "--help-config answers before later options");
	ok(PARSE(&o, err, "--calib-config", "thesis-nocoal") == 0 &&
	   o.action == ACT_CALIB_CONFIG && !strcmp(o.calib_config, "thesis-nocoal"),
	   "--calib-config NAME");
	ok(PARSE(&o, err, "--bench", "-m", "base") == 0 && o.action == ACT_BENCH &&
	   o.nmodes == 1, "--bench with a mode");
	ok(PARSE(&o, err, "--print-config", "--json") == 0 && o.print && o.json,
	   "--print-config, --json flags");
}

int main(void)
{
	shortcuts();
	modes_and_rates();
	errors();
	actions();
	return tap_done();
}
