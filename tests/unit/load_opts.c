/* irqlab-load's option table (irqlab/load_opts.h): every option read back
 * from the command line the builder writes (so a program that starts
 * irqlab-load cannot drift from its parser), errors as one line naming the
 * option, defaults giving a bare command line. */
#include <string.h>

#include "irqlab/load_opts.h"
#include "tap.h"

static int parse(struct il_load_opts *o, char **argv, char *err, size_t len)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	return il_load_opts_parse(o, argc, argv, err, len);
}

static int has(char **argv, const char *s)
{
	for (; *argv; argv++)
		if (!strcmp(*argv, s))
			return 1;
	return 0;
}

/* parse(args) -> argv -> parse again: the same options, and the builder
 * wrote `name` (the option under test). */
static void roundtrip(const char *name, char **args)
{
	struct il_load_opts a, b;
	char err[300] = "", **argv;

	if (parse(&a, args, err, sizeof(err)) != 0) {
		ok(0, "%s: parses (%s)", name, err);
		return;
	}
	argv = il_load_opts_argv(&a, "irqlab-load");
	if (!argv || parse(&b, argv, err, sizeof(err)) != 0) {
		ok(0, "%s: built command line parses (%s)", name, err);
		free(argv);
		return;
	}
	ok(il_load_opts_equal(&a, &b) && has(argv, name), "%s survives argv -> parse", name);
	free(argv);
}

#define ARGS(...) ((char *[]){ "irqlab-load", "-s", "10.0.0.2:11300", __VA_ARGS__, NULL })

/* Long on purpose: one list of option cases in TAP order, a line or two each. */
int main(void)
{
	struct il_load_opts o, d;
	char err[300], **argv;

	roundtrip("--threads", ARGS("-T", "3"));
	roundtrip("--cpus", ARGS("--cpus", "0"));
	roundtrip("--connections", ARGS("-c", "16"));
	roundtrip("--depth", ARGS("--depth=4"));
	roundtrip("--protocol", ARGS("--protocol", "meta"));
	roundtrip("--qps", ARGS("-q", "12.5k"));
	roundtrip("--iadist", ARGS("-i", "fb_ia"));
	roundtrip("--keysize", ARGS("-K", "fb_key"));
	roundtrip("--valuesize", ARGS("-V", "pareto:15,214.476,0.348238"));
	roundtrip("--records", ARGS("-r", "100000"));
	roundtrip("--update", ARGS("-u", "0.1"));
	roundtrip("--popularity", ARGS("-P", "zipf:0.99"));
	roundtrip("--loadonly", ARGS("--loadonly"));
	roundtrip("--noload", ARGS("--noload"));
	roundtrip("--preload-depth", ARGS("--preload-depth", "8"));
	roundtrip("--warmup", ARGS("-w", "0.25"));
	roundtrip("--time", ARGS("-t", "1.5"));
	roundtrip("--timeout", ARGS("--timeout", "0.3"));
	roundtrip("--late-us", ARGS("--late-us", "1000"));
	roundtrip("--spin-us", ARGS("--spin-us", "20"));
	roundtrip("--engine", ARGS("--engine", "epoll"));
	roundtrip("--seed", ARGS("--seed", "123456789012345678"));
	roundtrip("--json", ARGS("--json"));
	roundtrip("--timestamps", ARGS("--timestamps", "off"));
	roundtrip("--batch", ARGS("--batch", "16"));
	roundtrip("--batch-us", ARGS("--batch-us", "1000"));
	roundtrip("--wake-delay-us", ARGS("--wake-delay-us", "500"));
	roundtrip("--hdr", ARGS("--hdr", "/tmp/x y.hgrm"));
	roundtrip("--ci", ARGS("--ci", "5%"));
	roundtrip("--start-at", ARGS("--start-at", "1764680000.25"));
	roundtrip("-s", ((char *[]){ "irqlab-load", "-s", "[::1]:11300", "-s", "h2", NULL }));

	/* A struct filled in code (what bench does) gives the same. */
	il_load_opts_default(&o);
	ok(il_load_opts_server(&o, "10.0.0.2:11300", err, sizeof(err)) == 0, "server added");
	o.conns = 16;
	o.qps = 50000;
	o.time = 2;
	o.noload = o.json = 1;
	argv = il_load_opts_argv(&o, "irqlab-load");
	ok(argv && parse(&d, argv, err, sizeof(err)) == 0 && il_load_opts_equal(&o, &d),
	   "a struct filled by a caller reads back equal");
	ok(argv && has(argv, "--qps") && has(argv, "50000") && !has(argv, "--depth"),
	   "only options that differ from the default are written");
	free(argv);

	/* Defaults: the bare command line. */
	parse(&o, ARGS("--json"), err, sizeof(err));
	is_int(o.threads, 1, "default threads");
	is_int(o.records, 1000000, "default records");
	is_str(o.ia_spec, "exponential", "default inter-arrival");
	is_str(o.servers[0].host, "10.0.0.2", "host");
	is_str(o.servers[0].port, "11300", "port");
	parse(&o, ((char *[]){ "irqlab-load", "-s", "h", NULL }), err, sizeof(err));
	is_str(o.servers[0].port, "11211", "port 11211 by default");
	parse(&o, ((char *[]){ "irqlab-load", "-s", "[fe80::1]:99", NULL }), err, sizeof(err));
	is_str(o.servers[0].host, "fe80::1", "bracketed IPv6 host");
	is_str(o.servers[0].port, "99", "bracketed IPv6 port");

	/* Errors: one line naming the option; nothing exits. */
	ok(parse(&o, ARGS("-d", "0"), err, sizeof(err)) == -1 &&
	   !strcmp(err, "--depth: '0' is not an integer in 1-4096"), "depth 0: %s", err);
	ok(parse(&o, ARGS("--cpus", "9999"), err, sizeof(err)) == -1 &&
	   !strncmp(err, "--cpus: '9999'", 14), "cpus through il_opt_cpus: %s", err);
	ok(parse(&o, ARGS("-i", "fixed:0"), err, sizeof(err)) == -1 &&
	   strstr(err, "--iadist") && strstr(err, "positive"), "zero-mean gaps: %s", err);
	ok(parse(&o, ARGS("--bogus"), err, sizeof(err)) == -1 &&
	   strstr(err, "unknown option '--bogus'"), "unknown option: %s", err);
	ok(parse(&o, ARGS("-t"), err, sizeof(err)) == -1 && strstr(err, "needs a value"),
	   "missing value: %s", err);
	ok(parse(&o, ((char *[]){ "irqlab-load", "-t", "1", NULL }), err, sizeof(err)) == -1 &&
	   strstr(err, "--server"), "no server: %s", err);
	ok(parse(&o, ARGS("-r", "1", "-s", "h2"), err, sizeof(err)) == -1 &&
	   strstr(err, "--records"), "fewer records than servers: %s", err);
	ok(parse(&o, ARGS("--ci", "5%"), err, sizeof(err)) == 0 && o.ci == 0.05, "--ci 5%% is 0.05");
	ok(parse(&o, ARGS("--ci", "0.02"), err, sizeof(err)) == 0 && o.ci == 0.02, "--ci 0.02");
	ok(parse(&o, ARGS("--ci", "500%"), err, sizeof(err)) == -1 && strstr(err, "--ci: '500%'"),
	   "--ci 500%%: %s", err);
	ok(parse(&o, ARGS("--batch", "4", "--timestamps", "off"), err, sizeof(err)) == -1 &&
	   strstr(err, "--batch"), "--batch without kernel stamps: %s", err);
	ok(parse(&o, ARGS("--help"), err, sizeof(err)) == 1, "--help returns 1");
	ok(parse(&o, ARGS("-t", "1"), err, sizeof(err)) == 0 && o.time == 1,
	   "parsing twice in one process works (getopt reset)");
	return tap_done();
}
