/* irqlab-load's option table (load_opts.h). One row per option: its names,
 * the field it fills, its range and its --help text. The parser, the usage
 * text, the argv builder and the comparison all walk this table, so adding
 * an option is one row (plus, for a new kind of value, a case in each of
 * the four small switches below). */
#define _GNU_SOURCE
#include "irqlab/load_opts.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "irqlab/opt.h"

enum kind {
	K_SERVER,	/* repeatable HOST[:PORT] */
	K_UINT,		/* unsigned, lo..hi */
	K_U64,		/* uint64_t, lo..hi (decimal, exact) */
	K_NUM,		/* double, lo..hi */
	K_FLAG,		/* int set to 1 */
	K_CPUS,		/* CPU list into cpus/ncpus */
	K_DIST,		/* distribution: spec string at off, il_dist at off2 */
	K_POP,		/* popularity: pop_spec + zipf_s */
	K_CHOICE,	/* int (or enum) index into names */
	K_STR,		/* char[hi] */
	K_SHARE,	/* double, a share lo..hi written as "5%" or 0.05 */
};

struct optdef {
	const char *name;
	int sc;			/* short option letter, 0 if none */
	enum kind kind;
	size_t off, off2;
	double lo, hi;
	const char *const *names;	/* K_CHOICE */
	int nnames;
	const char *arg;	/* the value's name in --help */
	const char *help;	/* --help text; '\n' continues a line */
};

#define F(f) offsetof(struct il_load_opts, f)
static const char *const protocols[] = { "text", "meta" };
static const char *const engines[] = { "auto", "epoll", "uring" };
static const char *const tstamps[] = { "off", "sw", "hw" };

static const struct optdef defs[] = {
	{ "server", 's', K_SERVER, F(servers), 0, 0, 0, NULL, 0, "HOST[:PORT]",
	  "memcached server (repeatable; port 11211 by default)" },
	{ "threads", 'T', K_UINT, F(threads), 0, 1, 256, NULL, 0, "N",
	  "generator threads, 1..256 (default 1)" },
	{ "cpus", 0, K_CPUS, F(cpus), F(ncpus), 0, 0, NULL, 0, "LIST",
	  "pin thread i to the i-th CPU of LIST, e.g. 0,2-3" },
	{ "connections", 'c', K_UINT, F(conns), 0, 1, 4096, NULL, 0, "N",
	  "connections per thread, 1..4096 (default 1)" },
	{ "depth", 'd', K_UINT, F(depth), 0, 1, 4096, NULL, 0, "N",
	  "outstanding requests per connection, 1..4096 (default 1)" },
	{ "protocol", 0, K_CHOICE, F(meta), 0, 0, 0, protocols, 2, "P",
	  "text (get/set, default) or meta (mg/ms, memcached 1.6)" },
	{ "qps", 'q', K_NUM, F(qps), 0, 0, 1e9, NULL, 0, "N",
	  "open loop at N requests/s over all threads; 0 = closed\n"
	  "loop, maximum throughput (default 0)" },
	{ "iadist", 'i', K_DIST, F(ia_spec), F(ia), 0, 0, NULL, 0, "DIST",
	  "inter-arrival distribution, rescaled to the rate\n"
	  "(default exponential; also fixed, uniform, fb_ia,\n"
	  "pareto:LOC,SCALE,SHAPE...)" },
	{ "keysize", 'K', K_DIST, F(key_spec), F(keysize), 0, 0, NULL, 0, "DIST",
	  "key size in bytes (default 30; e.g. fb_key)" },
	{ "valuesize", 'V', K_DIST, F(value_spec), F(valuesize), 0, 0, NULL, 0, "DIST",
	  "value size in bytes (default 200; e.g. fb_value)" },
	{ "records", 'r', K_U64, F(records), 0, 1, 1e9, NULL, 0, "N",
	  "number of keys, 1..1000000000 (default 1000000)" },
	{ "update", 'u', K_NUM, F(update), 0, 0, 1, NULL, 0, "F",
	  "share of sets, 0..1 (default 0.03)" },
	{ "popularity", 'P', K_POP, F(pop_spec), F(zipf_s), 1e-6, 10, NULL, 0, "P",
	  "key popularity: uniform or zipf:S (default uniform)" },
	{ "loadonly", 0, K_FLAG, F(loadonly), 0, 0, 0, NULL, 0, NULL,
	  "only preload the records, then exit" },
	{ "noload", 0, K_FLAG, F(noload), 0, 0, 0, NULL, 0, NULL,
	  "do not preload (measure against what is there)" },
	{ "preload-depth", 0, K_UINT, F(preload_depth), 0, 1, 4096, NULL, 0, "N",
	  "pipeline depth while preloading, 1..4096 (default 64)" },
	{ "warmup", 'w', K_NUM, F(warmup), 0, 0, 3600, NULL, 0, "S",
	  "seconds of load before measuring, 0..3600 (default 0)" },
	{ "time", 't', K_NUM, F(time), 0, 0.01, 86400, NULL, 0, "S",
	  "measured seconds, 0.01..86400 (default 5)" },
	{ "timeout", 0, K_NUM, F(timeout), 0, 0.01, 600, NULL, 0, "S",
	  "connect timeout and drain time for replies after\n"
	  "the run, 0.01..600 (default 2)" },
	{ "late-us", 0, K_NUM, F(late_us), 0, 1, 1e6, NULL, 0, "US",
	  "open loop: a send this late with a free connection\n"
	  "means the generator fell behind, 1..1000000 (default 100)" },
	{ "spin-us", 0, K_NUM, F(spin_us), 0, 0, 10000, NULL, 0, "US",
	  "open loop: wake US early and poll until the send time\n"
	  "(exact schedules, costs CPU), 0..10000 (default 0)" },
	{ "engine", 0, K_CHOICE, F(engine), 0, 0, 0, engines, 3, "E",
	  "I/O engine: uring (io_uring: one system call per\n"
	  "wake-up), epoll, or auto = uring where the kernel\n"
	  "allows it, else epoll (default auto)" },
	{ "timestamps", 0, K_CHOICE, F(timestamps), 0, 0, 0, tstamps, 3, "T",
	  "who stamps a reply's arrival for the latency: sw = the\n"
	  "kernel (default), hw = the NIC (where it can), off =\n"
	  "user space only; user-space latencies are always shown" },
	{ "tx-stamps", 0, K_FLAG, F(tx_stamps), 0, 0, 0, NULL, 0, NULL,
	  "closed loop: a request's send time is the kernel's\n"
	  "transmit stamp, not the user-space one (one more\n"
	  "system call per reply); needs --timestamps sw" },
	{ "batch", 0, K_UINT, F(batch), 0, 1, 4096, NULL, 0, "N",
	  "io_uring: wake up once per N replies (or --batch-us,\n"
	  "or a send time); needs kernel stamps, 1..4096 (default 1)" },
	{ "batch-us", 0, K_NUM, F(batch_us), 0, 1, 1e6, NULL, 0, "US",
	  "longest wait for a batch of replies, 1..1000000 (default 200)" },
	{ "wake-delay-us", 0, K_NUM, F(wake_delay_us), 0, 0, 1e6, NULL, 0, "US",
	  "testing: stay away US after every wake-up before\n"
	  "handling replies (user-space stamps grow, kernel ones\n"
	  "must not), 0..1000000 (default 0)" },
	{ "hdr", 0, K_STR, F(hdr), 0, 0, 256, NULL, 0, "FILE",
	  "also write the latency distribution (all requests,\n"
	  "kernel-stamped, us) as HdrHistogram's .hgrm table" },
	{ "ci", 0, K_SHARE, F(ci), 0, 0.001, 1, NULL, 0, "PCT",
	  "keep measuring (up to --time) until the 95% confidence\n"
	  "interval of p99 is within PCT of it, e.g. 5% (default off)" },
	{ "start-at", 0, K_NUM, F(start_at), 0, 1e9, 1e11, NULL, 0, "T",
	  "start the load at wall-clock time T (seconds since\n"
	  "1970, fractions allowed; connects and preloads first;\n"
	  "an error if T has passed): generators on several hosts\n"
	  "start together (default: now)" },
	{ "seed", 0, K_U64, F(seed), 0, 0, 1e18, NULL, 0, "N",
	  "random seed (default 1)" },
	{ "json", 0, K_FLAG, F(json), 0, 0, 0, NULL, 0, NULL,
	  "print JSON (schema: docs/load.md) instead of the table" },
};
#define NDEFS (sizeof(defs) / sizeof(defs[0]))
#define AT(o, d, type) ((type *)((char *)(o) + (d)->off))
#define AT2(o, d, type) ((type *)((char *)(o) + (d)->off2))
#define CAT(o, d, type) ((const type *)((const char *)(o) + (d)->off))

void il_load_opts_default(struct il_load_opts *o)
{
	*o = (struct il_load_opts){ .threads = 1, .conns = 1, .depth = 1, .records = 1000000,
				    .update = 0.03, .time = 5, .timeout = 2, .late_us = 100,
				    .seed = 1, .preload_depth = 64, .timestamps = IL_TSTAMP_SW,
				    .batch = 1, .batch_us = 200 };
	strcpy(o->ia_spec, "exponential");
	strcpy(o->key_spec, "30");
	strcpy(o->value_spec, "200");
	strcpy(o->pop_spec, "uniform");
	il_dist_parse(o->ia_spec, &o->ia, NULL, 0);
	il_dist_parse(o->key_spec, &o->keysize, NULL, 0);
	il_dist_parse(o->value_spec, &o->valuesize, NULL, 0);
}

int il_load_opts_server(struct il_load_opts *o, const char *arg, char *err, size_t len)
{
	char host[256], *colon;
	const char *port = "11211";
	struct il_load_server *sv;
	long long p;

	if (o->nservers == IL_LOAD_MAX_SERVERS) {
		snprintf(err, len, "--server: at most %d servers", IL_LOAD_MAX_SERVERS);
		return -1;
	}
	if (strlen(arg) >= sizeof(host)) {
		snprintf(err, len, "--server: HOST[:PORT] too long");
		return -1;
	}
	strcpy(host, arg);
	/* host:port, [v6]:port; a bare v6 address has several colons */
	colon = strrchr(host, ':');
	if (colon && !strchr(colon + 1, ']') && (strchr(host, ':') == colon || host[0] == '[')) {
		*colon = 0;
		port = colon + 1;
		if (il_opt_int("--server", port, 1, 65535, &p, err, len) < 0)
			return -1;
	}
	if (host[0] == '[') {
		memmove(host, host + 1, strlen(host));
		if ((colon = strchr(host, ']')))
			*colon = 0;
	}
	if (!host[0]) {
		snprintf(err, len, "--server: '%s' has no host", arg);
		return -1;
	}
	sv = &o->servers[o->nservers++];
	snprintf(sv->host, sizeof(sv->host), "%s", host);
	snprintf(sv->port, sizeof(sv->port), "%s", port);
	return 0;
}

static int set_dist(const struct optdef *d, struct il_load_opts *o, const char *opt,
		    const char *v, char *err, size_t len)
{
	char e[200];
	struct il_dist *dist = AT2(o, d, struct il_dist);

	if (strlen(v) >= IL_LOAD_SPEC) {
		snprintf(err, len, "%s: distribution spec too long (at most %d characters)",
			 opt, IL_LOAD_SPEC - 1);
		return -1;
	}
	if (il_dist_parse(v, dist, e, sizeof(e)) < 0) {
		snprintf(err, len, "%s: %s", opt, e);
		return -1;
	}
	if (dist == &o->ia && (!(il_dist_mean(dist) > 0) || !isfinite(il_dist_mean(dist)))) {
		snprintf(err, len, "%s: '%s' needs a positive finite mean", opt, v);
		return -1;
	}
	strcpy(AT(o, d, char), v);
	return 0;
}

static int set_pop(const struct optdef *d, struct il_load_opts *o, const char *opt,
		   const char *v, char *err, size_t len)
{
	double s = 0;

	if (!strncmp(v, "zipf:", 5)) {
		if (il_opt_num(opt, v + 5, d->lo, d->hi, 0, &s, err, len) < 0)
			return -1;
	} else if (strcmp(v, "uniform") || strlen(v) >= IL_LOAD_SPEC) {
		snprintf(err, len, "%s: '%s' is not uniform or zipf:S with S in (0, 10]", opt, v);
		return -1;
	}
	snprintf(o->pop_spec, sizeof(o->pop_spec), "%s", v);
	o->zipf_s = s;
	return 0;
}

/* One option's value into its field. `opt` is the option as written. */
static int set_one(const struct optdef *d, struct il_load_opts *o, const char *opt,
		   const char *v, char *err, size_t len)
{
	double x;
	long long ll;
	int n;

	switch (d->kind) {
	case K_SERVER:
		return il_load_opts_server(o, v, err, len);
	case K_UINT:
		if (il_opt_num(opt, v, d->lo, d->hi, 1, &x, err, len) < 0)
			return -1;
		*AT(o, d, unsigned) = (unsigned)x;
		return 0;
	case K_U64:
		if (il_opt_int(opt, v, (long long)d->lo, (long long)d->hi, &ll, err, len) < 0)
			return -1;
		*AT(o, d, uint64_t) = (uint64_t)ll;
		return 0;
	case K_NUM:
		return il_opt_num(opt, v, d->lo, d->hi, 0, AT(o, d, double), err, len);
	case K_FLAG:
		*AT(o, d, int) = 1;
		return 0;
	case K_CPUS:
		n = il_opt_cpus(opt, v, AT(o, d, int), IL_LOAD_MAX_CPUS, err, len);
		if (n < 0)
			return -1;
		*AT2(o, d, int) = n;
		return 0;
	case K_DIST:
		return set_dist(d, o, opt, v, err, len);
	case K_POP:
		return set_pop(d, o, opt, v, err, len);
	case K_CHOICE:
		n = il_opt_choice(opt, v, d->names, d->nnames, err, len);
		if (n < 0)
			return -1;
		*AT(o, d, int) = n;
		return 0;
	case K_STR:
		if (!*v || strlen(v) >= (size_t)d->hi) {
			snprintf(err, len, "%s: '%s' is empty or longer than %.0f characters", opt, v,
				 d->hi - 1);
			return -1;
		}
		strcpy(AT(o, d, char), v);
		return 0;
	case K_SHARE: {
		char num[64];
		size_t l = strlen(v);
		int pct = l && v[l - 1] == '%';

		snprintf(num, sizeof(num), "%.*s", (int)(pct ? l - 1 : l), v);
		if (il_opt_num(opt, num, pct ? 100 * d->lo : d->lo, pct ? 100 * d->hi : d->hi, 0,
			       &x, err, len) < 0) {
			snprintf(err, len, "%s: '%s' is not a share in %g%%-%g%% (or %g-%g)", opt, v,
				 100 * d->lo, 100 * d->hi, d->lo, d->hi);
			return -1;
		}
		*AT(o, d, double) = pct ? x / 100 : x;
		return 0;
	}
	}
	return -1;
}

/* What no single option can check. */
static int check_all(const struct il_load_opts *o, char *err, size_t len)
{
	if (!o->nservers) {
		snprintf(err, len, "--server: at least one HOST[:PORT] is required");
		return -1;
	}
	if (o->loadonly && o->noload) {
		snprintf(err, len, "--loadonly: cannot be combined with --noload");
		return -1;
	}
	if (o->tx_stamps && o->timestamps != IL_TSTAMP_SW) {
		snprintf(err, len, "--tx-stamps: needs --timestamps sw (the kernel's software "
			 "stamps on both sides)");
		return -1;
	}
	if (o->batch > 1 && o->timestamps == IL_TSTAMP_OFF) {
		snprintf(err, len, "--batch: needs kernel receive stamps (not --timestamps off): "
			 "replies handled late would be stamped late");
		return -1;
	}
	if (o->records < (uint64_t)o->nservers) {
		snprintf(err, len, "--records: %llu is fewer than the %d servers",
			 (unsigned long long)o->records, o->nservers);
		return -1;
	}
	return 0;
}

int il_load_opts_parse(struct il_load_opts *o, int argc, char **argv,
		       char *err, size_t len)
{
	struct option lo[NDEFS + 2];
	char so[2 + 3 * NDEFS] = ":", opt[80];
	int ch, idx;

	il_load_opts_default(o);
	for (size_t i = 0; i < NDEFS; i++) {
		lo[i] = (struct option){ defs[i].name,
					 defs[i].kind == K_FLAG ? no_argument : required_argument,
					 NULL, 256 + (int)i };
		if (defs[i].sc) {
			size_t n = strlen(so);

			so[n++] = (char)defs[i].sc;
			so[n++] = ':';
			so[n] = 0;
		}
	}
	lo[NDEFS] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[NDEFS + 1] = (struct option){ 0, 0, 0, 0 };
	strcat(so, "h");
	optind = 0;		/* GNU: a full reset, so this can run twice */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		if (ch == 'h')
			return 1;
		if (ch == ':') {
			snprintf(err, len, "%s: needs a value (see --help)", argv[optind - 1]);
			return -1;
		}
		idx = -1;
		for (size_t i = 0; i < NDEFS; i++)
			if (ch == 256 + (int)i || (defs[i].sc && ch == defs[i].sc))
				idx = (int)i;
		if (idx < 0) {
			snprintf(err, len, "unknown option '%s' (see --help)", argv[optind - 1]);
			return -1;
		}
		snprintf(opt, sizeof(opt), "--%s", defs[idx].name);
		if (set_one(&defs[idx], o, opt, optarg, err, len) < 0)
			return -1;
	}
	if (optind < argc) {
		snprintf(err, len, "unexpected argument '%s' (see --help)", argv[optind]);
		return -1;
	}
	return check_all(o, err, len);
}

void il_load_opts_usage(FILE *f)
{
	fprintf(f, "usage: irqlab-load -s HOST[:PORT] [options]\n");
	for (size_t i = 0; i < NDEFS; i++) {
		const struct optdef *d = &defs[i];
		char head[64];
		const char *h = d->help, *nl;

		snprintf(head, sizeof(head), "%c%c%s --%s%s%s", d->sc ? '-' : ' ',
			 d->sc ? d->sc : ' ', d->sc ? "," : " ", d->name, d->arg ? "=" : "",
			 d->arg ? d->arg : "");
		fprintf(f, "  %-26s ", head);
		while ((nl = strchr(h, '\n'))) {
			fprintf(f, "%.*s\n%29s", (int)(nl - h), h, "");
			h = nl + 1;
		}
		fprintf(f, "%s\n", h);
	}
	fprintf(f,
"  -h, --help                 this text\n"
"DIST: N | fixed:N | uniform:MAX | normal:MEAN,SD | exponential:LAMBDA |\n"
"      pareto:LOC,SCALE,SHAPE | gev:LOC,SCALE,SHAPE | fb_key | fb_value | fb_ia\n");
}

/* One option's value as text into buf; 0 if it equals the default's. */
static int format_one(const struct optdef *d, const struct il_load_opts *o,
		      const struct il_load_opts *def, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	switch (d->kind) {
	case K_SERVER:		/* written by the caller, one -s each */
		return 0;
	case K_UINT:
		snprintf(buf, len, "%u", *CAT(o, d, unsigned));
		return *CAT(o, d, unsigned) != *CAT(def, d, unsigned);
	case K_U64:
		snprintf(buf, len, "%llu", (unsigned long long)*CAT(o, d, uint64_t));
		return *CAT(o, d, uint64_t) != *CAT(def, d, uint64_t);
	case K_NUM:		/* %.17g reads back to the same double */
		snprintf(buf, len, "%.17g", *CAT(o, d, double));
		return *CAT(o, d, double) != *CAT(def, d, double);
	case K_FLAG:
		snprintf(buf, len, "%d", *CAT(o, d, int));
		return *CAT(o, d, int) != 0;
	case K_CPUS:
		for (int i = 0; i < o->ncpus && n + 12 < len; i++)
			n += (size_t)snprintf(buf + n, len - n, "%s%d", i ? "," : "", o->cpus[i]);
		return o->ncpus > 0;
	case K_DIST:
	case K_POP:
		snprintf(buf, len, "%s", CAT(o, d, char));
		return strcmp(CAT(o, d, char), CAT(def, d, char)) != 0;
	case K_CHOICE:
		snprintf(buf, len, "%s", d->names[*CAT(o, d, int)]);
		return *CAT(o, d, int) != *CAT(def, d, int);
	case K_STR:
		snprintf(buf, len, "%s", CAT(o, d, char));
		return strcmp(CAT(o, d, char), CAT(def, d, char)) != 0;
	case K_SHARE:
		snprintf(buf, len, "%.17g", *CAT(o, d, double));
		return *CAT(o, d, double) != *CAT(def, d, double);
	}
	return 0;
}

static void server_str(const struct il_load_server *s, char *buf, size_t len)
{
	snprintf(buf, len, strchr(s->host, ':') ? "[%s]:%s" : "%s:%s", s->host, s->port);
}

char **il_load_opts_argv(const struct il_load_opts *o, const char *bin)
{
	/* Two passes over the table: size, then fill one block with the
	 * pointers first and the strings after them. */
	struct il_load_opts def;
	char val[IL_LOAD_MAX_CPUS * 5], **argv = NULL, *p = NULL;
	size_t nptr = 0, bytes = 0;

	il_load_opts_default(&def);
	for (int pass = 0; pass < 2; pass++) {
		int n = 0;

#define PUT(s) do { size_t l_ = strlen(s) + 1;				\
		if (pass) { argv[n] = p; memcpy(p, (s), l_); p += l_; }	\
		else bytes += l_;					\
		n++; } while (0)
		PUT(bin);
		for (int i = 0; i < o->nservers; i++) {
			server_str(&o->servers[i], val, sizeof(val));
			PUT("-s");
			PUT(val);
		}
		for (size_t i = 0; i < NDEFS; i++) {
			char name[40];

			if (!format_one(&defs[i], o, &def, val, sizeof(val)))
				continue;
			snprintf(name, sizeof(name), "--%s", defs[i].name);
			PUT(name);
			if (defs[i].kind != K_FLAG)
				PUT(val);
		}
#undef PUT
		if (!pass) {
			nptr = (size_t)n + 1;
			argv = malloc(nptr * sizeof(char *) + bytes);
			if (!argv)
				return NULL;
			p = (char *)(argv + nptr);
		} else {
			argv[n] = NULL;
		}
	}
	return argv;
}

int il_load_opts_equal(const struct il_load_opts *a, const struct il_load_opts *b)
{
	char va[IL_LOAD_MAX_CPUS * 5], vb[IL_LOAD_MAX_CPUS * 5];
	struct il_load_opts def;

	if (a->nservers != b->nservers)
		return 0;
	for (int i = 0; i < a->nservers; i++)
		if (strcmp(a->servers[i].host, b->servers[i].host) ||
		    strcmp(a->servers[i].port, b->servers[i].port))
			return 0;
	il_load_opts_default(&def);
	for (size_t i = 0; i < NDEFS; i++) {
		format_one(&defs[i], a, &def, va, sizeof(va));
		format_one(&defs[i], b, &def, vb, sizeof(vb));
		if (strcmp(va, vb))
			return 0;
	}
	return 1;
}
