/* irqlab-kv's options: one row per option (names, --help text, the "stats
 * settings" line that shows its value, parser). getopt's tables and the
 * --help text are built from these rows, so they cannot drift apart. */
#define _GNU_SOURCE
#include "settings.h"

#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "irqlab/opt.h"

#define STR2(x) #x
#define STR(x) STR2(x)
#define HELP_COL 27	/* where the help text starts */

struct kv_settings kv_set;

struct kv_option {
	char short_name;	/* 0: long name only */
	const char *name;
	const char *arg;	/* shown as --name=ARG; NULL: no argument */
	const char *stat;	/* "stats settings" line with the value, or NULL */
	const char *help;	/* lines separated by "\n" */
	int (*set)(struct kv_settings *s, const char *arg, char *err, size_t len);
};

static int set_int(const char *opt, const char *arg, long long lo, long long hi,
		   int *out, char *err, size_t len)
{
	long long v;

	if (il_opt_int(opt, arg, lo, hi, &v, err, len))
		return -1;
	*out = (int)v;
	return 0;
}

static int set_port(struct kv_settings *s, const char *arg, char *err, size_t len)
{
	return set_int("--port", arg, 0, 65535, &s->port, err, len);
}

static int set_listen(struct kv_settings *s, const char *arg, char *err, size_t len)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICHOST };
	struct addrinfo *ai;
	int rc = strlen(arg) < sizeof(s->listen) ? getaddrinfo(arg, NULL, &hints, &ai) : EAI_NONAME;

	if (rc) {
		snprintf(err, len, "--listen: '%s' is not a numeric IPv4/IPv6 address (%s)",
			 arg, gai_strerror(rc));
		return -1;
	}
	freeaddrinfo(ai);
	snprintf(s->listen, sizeof(s->listen), "%s", arg);
	return 0;
}

static int set_threads(struct kv_settings *s, const char *arg, char *err, size_t len)
{
	s->threads_set = true;
	return set_int("--threads", arg, 1, IL_LOOP_MAX, &s->threads, err, len);
}

static int set_memory(struct kv_settings *s, const char *arg, char *err, size_t len)
{
	long long v;

	if (il_opt_int("--memory-limit", arg, 1, 1048576, &v, err, len))
		return -1;
	s->mem_mb = (size_t)v;
	return 0;
}

static int set_conns(struct kv_settings *s, const char *arg, char *err, size_t len)
{
	return set_int("--conn-limit", arg, 1, 1000000, &s->maxconns, err, len);
}

static int set_item_max(struct kv_settings *s, const char *arg, char *err, size_t len)
{
	uint64_t v;

	if (il_opt_size("--max-item-size", arg, 1024, 1ull << 30, &v, err, len))
		return -1;
	s->item_max = (size_t)v;
	return 0;
}

/* memcached: "Factor must be greater than 1"; it has no upper bound, but
 * past 100 only two classes are left. */
static int set_factor(struct kv_settings *s, const char *arg, char *err, size_t len)
{
	if (il_opt_num("--slab-growth-factor", arg, 1.0, 100.0, 0, &s->factor, err, len))
		return -1;
	if (s->factor <= 1.0) {
		snprintf(err, len, "--slab-growth-factor: '%s' is not greater than 1", arg);
		return -1;
	}
	return 0;
}

static int set_chunk_min(struct kv_settings *s, const char *arg, char *err, size_t len)
{
	return set_int("--slab-min-size", arg, 1, 65536, &s->chunk_min, err, len);
}

static int set_udp(struct kv_settings *s, const char *arg, char *err, size_t len)
{
	long long v;

	(void)s;
	if (il_opt_int("--udp-port", arg, 0, 0, &v, err, len)) {
		snprintf(err, len, "--udp-port: '%s' is not in 0-0 (UDP is not supported; 0 turns it off)",
			 arg);
		return -1;
	}
	return 0;
}

static int set_mode(struct kv_settings *s, const char *arg, char *err, size_t len)
{
	char why[200];

	if (il_mode_parse(arg, &s->mode, why, sizeof(why)) ||
	    il_mode_validate(&s->mode, why, sizeof(why))) {
		snprintf(err, len, "--mode: %s", why);
		return -1;
	}
	return 0;
}

static int set_cpus(struct kv_settings *s, const char *arg, char *err, size_t len)
{
	s->ncpus = il_opt_cpus("--cpus", arg, s->cpus, IL_LOOP_MAX, err, len);
	return s->ncpus < 0 ? -1 : 0;
}

static int set_dev(struct kv_settings *s, const char *arg, char *err, size_t len)
{
	if (!arg[0] || strlen(arg) >= 16) {
		snprintf(err, len, "--dev: '%s' is not a network device name (1-15 characters)", arg);
		return -1;
	}
	snprintf(s->dev, sizeof(s->dev), "%s", arg);
	return 0;
}

/* -o key=value[,key=value...]: memcached's extended options that irqlab-kv
 * has (idle_timeout, read_buf_mem_limit); any other key is an error naming
 * the ones accepted. */
static int set_extended(struct kv_settings *s, const char *arg, char *err, size_t len)
{
	char copy[256], *save = NULL, *kv;
	long long v;

	if (strlen(arg) >= sizeof(copy)) {
		snprintf(err, len, "-o: '%.40s...' is too long", arg);
		return -1;
	}
	snprintf(copy, sizeof(copy), "%s", arg);
	for (kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *val = strchr(kv, '=');

		if (val)
			*val++ = 0;
		if (!strcmp(kv, "idle_timeout") && val) {
			if (il_opt_int("-o idle_timeout", val, 0, 86400 * 30, &v, err, len))
				return -1;
			s->idle_timeout = (int)v;
		} else if (!strcmp(kv, "read_buf_mem_limit") && val) {
			if (il_opt_int("-o read_buf_mem_limit", val, 0, 1048576, &v, err, len))
				return -1;
			s->read_buf_mb = (size_t)v;
		} else {
			snprintf(err, len, "-o: '%s' is not idle_timeout=SECONDS (0-2592000) or read_buf_mem_limit=MB (0-1048576)",
				 kv);
			return -1;
		}
	}
	return 0;
}

static int set_verbose(struct kv_settings *s, const char *arg, char *err, size_t len)
{
	(void)arg, (void)err, (void)len;
	s->verbose++;
	return 0;
}

static const struct kv_option options[] = {
	{ 'p', "port", "N", "tcpport",
	  "TCP port, 0-65535 (0: any free port; default 11211)", set_port },
	{ 'l', "listen", "ADDR", "inter",
	  "address to listen on (default 0.0.0.0, all)", set_listen },
	{ 't', "threads", "N", "num_threads",
	  "worker threads, 1-" STR(IL_LOOP_MAX) " (default: number of --cpus, else 4)", set_threads },
	{ 'm', "memory-limit", "MB", "maxbytes",
	  "item memory, 1-1048576 MB (default 64)", set_memory },
	{ 'c', "conn-limit", "N", "maxconns",
	  "simultaneous connections, 1-1000000 (default 1024)", set_conns },
	{ 'I', "max-item-size", "SIZE", "item_size_max",
	  "largest item, 1k-1g, suffix k/m/g, at most half of\n--memory-limit (default 1m)",
	  set_item_max },
	{ 'f', "slab-growth-factor", "F", "growth_factor",
	  "chunk size growth between slab classes, >1-100\n(default 1.25)",
	  set_factor },
	{ 'n', "slab-min-size", "BYTES", "chunk_size",
	  "key + value + flags of the smallest class, 1-65536\n(default 48; its chunk is 48 bytes more)",
	  set_chunk_min },
	{ 'U', "udp-port", "0", "udpport",
	  "UDP is not supported: only 0 is accepted (default 0)", set_udp },
	{ 0, "mode", "SPEC", "irqlab_mode",
	  "interrupt mode, preset[,knob=value...]; presets\n" IL_MODE_NAMES
	  " (default base);\ne.g. suspend,irq_suspend_timeout=5ms", set_mode },
	{ 0, "cpus", "LIST", "irqlab_cpus",
	  "pin thread i to the i-th CPU of LIST, e.g. 1,3 or 0-3\n(default: unpinned)",
	  set_cpus },
	{ 0, "dev", "DEV", "irqlab_dev",
	  "apply the mode's NAPI values to DEV's NAPIs (base:\nall 0; restored on exit) "
	  "and steer by DEV's rx\nqueue -> NAPI map", set_dev },
	{ 'o', "extended", "OPTS", "idle_timeout",
	  "memcached's -o: idle_timeout=SECONDS closes connections\n"
	  "without a complete command for that long (0: never,\n"
	  "default), read_buf_mem_limit=MB bounds all connections'\n"
	  "input buffers, partial values and lines (0: unbounded;\n"
	  "default " STR(KV_READ_BUF_MB) ")", set_extended },
	{ 'v', "verbose", NULL, "verbosity",
	  "-v: settings and the queue -> NAPI map, -vv: also\nevery connection (stderr)",
	  set_verbose },
	{ 'h', "help", NULL, NULL, "this text", NULL },
};
#define NOPT (sizeof(options) / sizeof(options[0]))

void kv_settings_init(struct kv_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->port = 11211;
	s->threads = 4;
	s->mem_mb = 64;
	s->maxconns = 1024;
	s->item_max = 1024 * 1024;
	s->factor = 1.25;
	s->chunk_min = 48;
	s->read_buf_mb = KV_READ_BUF_MB;
	il_mode_preset("base", &s->mode);
}

void kv_usage(FILE *f)
{
	fprintf(f, "usage: irqlab-kv [options]   memcached-protocol server (text and meta commands)\n");
	for (size_t i = 0; i < NOPT; i++) {
		const struct kv_option *o = &options[i];
		const char *h = o->help, *nl;
		char names[64];
		int n;

		n = snprintf(names, sizeof(names), "  %c%c%c --%s%s%s",
			     o->short_name ? '-' : ' ', o->short_name ? o->short_name : ' ',
			     o->short_name ? ',' : ' ', o->name, o->arg ? "=" : "",
			     o->arg ? o->arg : "");
		fprintf(f, "%s%*s", names, n < HELP_COL ? HELP_COL - n : 1, "");
		for (; (nl = strchr(h, '\n')); h = nl + 1)
			fprintf(f, "%.*s\n%*s", (int)(nl - h), h, HELP_COL, "");
		fprintf(f, "%s\n", h);
	}
}

/* The option whose getopt value is v (its short name, or 256 + row). */
static const struct kv_option *option_of(int v)
{
	for (size_t i = 0; i < NOPT; i++)
		if (v == (options[i].short_name ? options[i].short_name : 256 + (int)i))
			return &options[i];
	return NULL;
}

/* Rules between options, checked once all are read. */
static int check(struct kv_settings *s, char *err, size_t len)
{
	if (s->item_max > s->mem_mb * 1024 * 1024 / 2) {
		snprintf(err, len, "--max-item-size: %zu is more than half of --memory-limit (%zu MB)",
			 s->item_max, s->mem_mb);
		return -1;
	}
	if (s->ncpus && !s->threads_set)
		s->threads = s->ncpus;
	if (s->ncpus)	/* more threads than CPUs: wrap around the list */
		for (int i = s->ncpus; i < s->threads; i++)
			s->cpus[i] = s->cpus[i % s->ncpus];
	return 0;
}

int kv_settings_parse(struct kv_settings *s, int argc, char **argv,
		      char *err, size_t errlen)
{
	struct option longs[NOPT + 1];
	char shorts[2 * NOPT + 2], *sp = shorts;
	int o;

	*sp++ = ':';	/* a missing argument is reported as ':' */
	for (size_t i = 0; i < NOPT; i++) {
		const struct kv_option *x = &options[i];

		longs[i] = (struct option){ x->name, x->arg ? required_argument : no_argument,
					    NULL, x->short_name ? x->short_name : 256 + (int)i };
		if (x->short_name) {
			*sp++ = x->short_name;
			if (x->arg)
				*sp++ = ':';
		}
	}
	*sp = 0;
	longs[NOPT] = (struct option){ NULL, 0, NULL, 0 };
	optind = 0;	/* glibc: start over (the tests parse many times) */
	opterr = 0;
	while ((o = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		const struct kv_option *x = option_of(o);

		if (o == '?' || o == ':' || !x) {
			char opt[3] = { '-', (char)optopt, 0 };

			/* optopt: the short option (argv may be a cluster) */
			snprintf(err, errlen, "%s '%s' (see --help)",
				 o == ':' ? "missing value for option" : "unknown option",
				 optopt > 0 && optopt < 256 ? opt : argv[optind - 1]);
			return KV_OPT_ERROR;
		}
		if (!x->set)
			return KV_OPT_HELP;
		if (x->set(s, optarg, err, errlen))
			return KV_OPT_ERROR;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
		return KV_OPT_ERROR;
	}
	return check(s, err, errlen) ? KV_OPT_ERROR : KV_OPT_RUN;
}

const char *kv_option_stat(size_t i, const char **name)
{
	if (i >= NOPT)
		return NULL;
	*name = options[i].name;
	return options[i].stat ? options[i].stat : "";
}

int kv_verbosity(void)
{
	return __atomic_load_n(&kv_set.verbose, __ATOMIC_RELAXED);
}

void kv_set_verbosity(int level)
{
	__atomic_store_n(&kv_set.verbose, level, __ATOMIC_RELAXED);
}
