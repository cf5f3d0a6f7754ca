/* irqlab-load's summary: JSON writer and reader on jansson (load_summary.h).
 * The writer builds a jansson document and prints one top-level key per
 * line, as irqlab-load always has; the reader walks the document with a
 * path for messages, and finds the line of a bad value's top-level key in
 * the text (jansson keeps no positions for values). */
#define _GNU_SOURCE
#include "irqlab/load_summary.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const double il_load_q[IL_LOAD_NQ] = { 0.5, 0.9, 0.95, 0.99, 0.999 };
const char *const il_load_qname[IL_LOAD_NQ] = { "p50", "p90", "p95", "p99", "p999" };
const char *const il_load_op_name[IL_NOPS] = { "get", "set" };
const char *const il_load_lat_name[IL_NLATS] = {
	"corrected", "uncorrected", "kernel_corrected", "kernel_uncorrected"
};

static void stat_init(struct il_load_stat *st)
{
	memset(st, 0, sizeof(*st));
	for (int i = 0; i < IL_LOAD_NQ; i++)
		st->ci_lo[i] = st->ci_hi[i] = NAN;
}

void il_load_summary_init(struct il_load_summary *s)
{
	memset(s, 0, sizeof(*s));
	s->schema = IL_LOAD_SCHEMA;
	s->ci_level = NAN;
	s->started_at = NAN;
	s->config.start_at = NAN;
	for (int op = 0; op < IL_NOPS; op++)
		for (int k = 0; k < IL_NLATS; k++)
			stat_init(&s->lat[op][k]);
	stat_init(&s->schedule.send_lag);
	stat_init(&s->timestamps.rx_delay);
	stat_init(&s->timestamps.tx_delay);
}

void il_load_summary_free(struct il_load_summary *s)
{
	for (int op = 0; op < IL_NOPS; op++)
		for (int k = 0; k < IL_NLATS; k++) {
			il_hist_free(s->hist[op][k]);
			s->hist[op][k] = NULL;
		}
	il_hist_free(s->lag_hist);
	s->lag_hist = NULL;
}

void il_load_summary_config(struct il_load_summary *s, const struct il_load_opts *o,
			    enum il_load_engine engine)
{
	struct il_load_config *c = &s->config;

	c->nservers = o->nservers;
	for (int i = 0; i < o->nservers; i++)
		snprintf(c->servers[i], sizeof(c->servers[i]), "%s:%s", o->servers[i].host,
			 o->servers[i].port);
	c->threads = o->threads;
	c->conns = o->conns;
	c->depth = o->depth;
	c->open = o->qps > 0;
	c->target_qps = o->qps;
	snprintf(c->iadist, sizeof(c->iadist), "%s", o->ia_spec);
	snprintf(c->keysize, sizeof(c->keysize), "%s", o->key_spec);
	snprintf(c->valuesize, sizeof(c->valuesize), "%s", o->value_spec);
	snprintf(c->popularity, sizeof(c->popularity), "%s", o->pop_spec);
	snprintf(c->protocol, sizeof(c->protocol), "%s", o->meta ? "meta" : "text");
	snprintf(c->engine, sizeof(c->engine), "%s", engine == IL_ENGINE_URING ? "uring" : "epoll");
	snprintf(c->timestamps, sizeof(c->timestamps), "%s",
		 o->timestamps == IL_TSTAMP_HW ? "hw" : o->timestamps != IL_TSTAMP_SW ? "off" :
		 o->tx_stamps ? "sw+tx" : "sw");
	c->batch = o->batch;
	c->records = o->records;
	c->update = o->update;
	c->time_s = o->time;
	c->warmup_s = o->warmup;
	c->seed = o->seed;
	c->start_at = o->start_at > 0 ? o->start_at : NAN;
}

void il_load_stat_from_hist(struct il_load_stat *st, const struct il_hist *h)
{
	st->count = il_hist_count(h);
	st->min = il_hist_min(h) / 1000.0;
	st->mean = il_hist_mean(h) / 1000.0;
	st->max = il_hist_max(h) / 1000.0;
	for (int i = 0; i < IL_LOAD_NQ; i++)
		st->p[i] = il_hist_quantile(h, il_load_q[i]) / 1000.0;
}

void il_load_summary_warn(struct il_load_summary *s, const char *fmt, ...)
{
	va_list ap;

	if (s->nwarnings >= IL_LOAD_MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	vsnprintf(s->warnings[s->nwarnings++], sizeof(s->warnings[0]), fmt, ap);
	va_end(ap);
}

const struct il_load_stat *il_load_summary_latency(const struct il_load_summary *s,
						   enum il_load_op op)
{
	return s->lat[op][IL_LAT_KERNEL].count ? &s->lat[op][IL_LAT_KERNEL] :
						 &s->lat[op][IL_LAT_CORRECTED];
}

/* ---- writer --------------------------------------------------------- */

/* A number rounded to `dec` decimals (the precision irqlab-load has always
 * printed); JSON has no NaN: unknown is null. */
static json_t *real(double x, int dec)
{
	double m = pow(10, dec);

	if (!isfinite(x))
		return json_null();
	return json_real(round(x * m) / m);
}

static json_t *juint(uint64_t v)
{
	return json_integer((json_int_t)v);
}

/* json_object_set_new that keeps building after an allocation failure;
 * the document is checked once at the end. */
static void put(json_t *o, const char *k, json_t *v)
{
	if (o)
		json_object_set_new(o, k, v);
	else
		json_decref(v);
}

static json_t *jstat(const struct il_load_stat *st)
{
	json_t *o = json_object(), *ci = NULL;

	put(o, "count", juint(st->count));
	put(o, "min", real(st->min, 3));
	put(o, "mean", real(st->mean, 3));
	for (int i = 0; i < IL_LOAD_NQ; i++)
		put(o, il_load_qname[i], real(st->p[i], 3));
	put(o, "max", real(st->max, 3));
	for (int i = 0; i < IL_LOAD_NQ; i++) {
		if (!isfinite(st->ci_lo[i]) || !isfinite(st->ci_hi[i]))
			continue;
		if (!ci)
			ci = json_object();
		put(ci, il_load_qname[i], json_pack("[oo]", real(st->ci_lo[i], 3),
						     real(st->ci_hi[i], 3)));
	}
	if (ci)
		put(o, "ci", ci);
	return o;
}

static json_t *jconfig(const struct il_load_config *c)
{
	json_t *o = json_object(), *sv = json_array();

	for (int i = 0; i < c->nservers; i++)
		json_array_append_new(sv, json_string(c->servers[i]));
	put(o, "servers", sv);
	put(o, "threads", juint(c->threads));
	put(o, "connections_per_thread", juint(c->conns));
	put(o, "depth", juint(c->depth));
	put(o, "mode", json_string(c->open ? "open" : "closed"));
	put(o, "target_qps", real(c->target_qps, 1));
	put(o, "iadist", json_string(c->iadist));
	put(o, "keysize", json_string(c->keysize));
	put(o, "valuesize", json_string(c->valuesize));
	put(o, "popularity", json_string(c->popularity));
	put(o, "protocol", json_string(c->protocol));
	put(o, "records", juint(c->records));
	put(o, "update", real(c->update, 6));
	put(o, "time_s", real(c->time_s, 6));
	put(o, "warmup_s", real(c->warmup_s, 6));
	put(o, "seed", juint(c->seed));
	put(o, "engine", json_string(c->engine));
	put(o, "timestamps", json_string(c->timestamps));
	put(o, "batch", juint(c->batch));
	put(o, "start_at", real(c->start_at, 6));
	return o;
}

static json_t *jcounters(const struct il_load_summary *s, int totals)
{
	json_t *o = json_object();

	if (!totals) {
		put(o, "gets", juint(s->requests.gets));
		put(o, "sets", juint(s->requests.sets));
		put(o, "misses", juint(s->requests.misses));
		put(o, "errors", juint(s->requests.errors));
		put(o, "set_failed", juint(s->requests.set_failed));
		put(o, "sent", juint(s->requests.sent));
		return o;
	}
	put(o, "gets", juint(s->totals.gets));
	put(o, "sets", juint(s->totals.sets));
	put(o, "misses", juint(s->totals.misses));
	put(o, "errors", juint(s->totals.errors));
	put(o, "set_failed", juint(s->totals.set_failed));
	put(o, "protocol_errors", juint(s->totals.protocol_errors));
	put(o, "unanswered", juint(s->totals.unanswered));
	put(o, "unsent", juint(s->totals.unsent));
	put(o, "connection_errors", juint(s->totals.connection_errors));
	return o;
}

static json_t *jlatency(const struct il_load_summary *s)
{
	json_t *o = json_object();

	for (int op = 0; op < IL_NOPS; op++) {
		json_t *ops = json_object();

		for (int k = 0; k < IL_NLATS; k++)	/* kernel kinds only if measured */
			if (k < IL_LAT_KERNEL || s->lat[op][k].count)
				put(ops, il_load_lat_name[k], jstat(&s->lat[op][k]));
		put(o, il_load_op_name[op], ops);
	}
	return o;
}

static json_t *jgenerator(const struct il_load_summary *s)
{
	json_t *o = json_object();

	put(o, "cpu_user_s", real(s->generator.cpu_user_s, 4));
	put(o, "cpu_sys_s", real(s->generator.cpu_sys_s, 4));
	put(o, "cpu_s", real(s->generator.cpu_s, 4));
	put(o, "cpu_util", real(s->generator.cpu_util, 4));
	put(o, "cpu_cores", real(s->generator.cpu_cores, 4));
	put(o, "cpu_us_per_request", real(s->generator.cpu_us_per_request, 4));
	put(o, "syscalls", juint(s->generator.syscalls));
	put(o, "syscalls_per_request", real(s->generator.syscalls_per_request, 4));
	put(o, "fell_behind", json_boolean(s->generator.fell_behind));
	put(o, "below_target", json_boolean(s->generator.below_target));
	put(o, "bytes_rx", juint(s->generator.bytes_rx));
	put(o, "bytes_tx", juint(s->generator.bytes_tx));
	return o;
}

static json_t *jchecks(const struct il_load_summary *s)
{
	json_t *o = json_object();

	for (int i = 0; i < s->nchecks; i++) {
		const struct il_load_check *c = &s->checks[i];

		put(o, c->name, json_pack("{s:o, s:o, s:o, s:s}", "ok",
					  c->ok < 0 ? json_null() : json_boolean(c->ok),
					  "stat", real(c->stat, 6), "limit", real(c->limit, 6),
					  "detail", c->detail));
	}
	return o;
}

/* Buckets as a flat [index, count, index, count, ...] of the non-empty ones. */
static json_t *jhist(const struct il_hist *h)
{
	json_t *b = json_array();
	unsigned n = il_hist_nbuckets();

	for (unsigned i = 0; i < n; i++) {
		uint64_t c = il_hist_bucket(h, i, NULL, NULL);

		if (c) {
			json_array_append_new(b, json_integer(i));
			json_array_append_new(b, juint(c));
		}
	}
	return json_pack("{s:o, s:o, s:o, s:f, s:o}", "count", juint(il_hist_count(h)),
			 "min", juint(il_hist_min(h)), "max", juint(il_hist_max(h)),
			 "sum", il_hist_mean(h) * (double)il_hist_count(h), "buckets", b);
}

static json_t *jhistograms(const struct il_load_summary *s)
{
	json_t *o = json_pack("{s:s, s:i}", "unit", "ns", "nbuckets", (int)il_hist_nbuckets());

	for (int op = 0; op < IL_NOPS; op++) {
		json_t *ops = json_object();

		for (int k = 0; k < IL_NLATS; k++)
			if (s->hist[op][k] && (k < IL_LAT_KERNEL || il_hist_count(s->hist[op][k])))
				put(ops, il_load_lat_name[k], jhist(s->hist[op][k]));
		put(o, il_load_op_name[op], ops);
	}
	if (s->lag_hist)
		put(o, "send_lag", jhist(s->lag_hist));
	return o;
}

static json_t *document(const struct il_load_summary *s)
{
	json_t *d = json_object(), *w = json_array(), *sched = json_object();
	int open = s->config.open;

	put(d, "tool", json_string("irqlab-load"));
	put(d, "schema", json_integer(IL_LOAD_SCHEMA));
	put(d, "config", jconfig(&s->config));
	put(d, "started_at", real(s->started_at, 6));
	put(d, "duration_s", real(s->duration_s, 6));
	put(d, "qps", real(s->qps, 1));
	put(d, "target_qps", real(s->target_qps, 1));
	put(d, "achieved_ratio", real(open ? s->achieved_ratio : 1.0, 4));
	put(d, "requests", jcounters(s, 0));
	put(d, "totals", jcounters(s, 1));
	put(d, "latency_us", jlatency(s));
	put(sched, "late_threshold_us", real(s->schedule.late_threshold_us, 6));
	put(sched, "spin_us", real(s->schedule.spin_us, 6));
	put(sched, "late_sends", juint(s->schedule.late_sends));
	put(sched, "send_lag_us", jstat(&s->schedule.send_lag));
	put(d, "schedule", sched);
	put(d, "timestamps", json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "stamped",
				       juint(s->timestamps.stamped), "unstamped",
				       juint(s->timestamps.unstamped), "clock_step_us",
				       real(s->timestamps.clock_step_us, 3), "rx_delay_us",
				       jstat(&s->timestamps.rx_delay), "tx_stamped",
				       juint(s->timestamps.tx_stamped), "tx_delay_us",
				       jstat(&s->timestamps.tx_delay)));
	put(d, "generator", jgenerator(s));
	for (int i = 0; i < s->nwarnings; i++)
		json_array_append_new(w, json_string(s->warnings[i]));
	put(d, "warnings", w);
	put(d, "ci_level", real(s->ci_level, 4));
	put(d, "checks", jchecks(s));
	put(d, "histograms", jhistograms(s));
	return d;
}

int il_load_summary_write(FILE *f, const struct il_load_summary *s)
{
	json_t *d = document(s), *v;
	const char *k;
	int first = 1, rc = 0;

	if (!d)
		return -1;
	fputc('{', f);
	json_object_foreach(d, k, v) {
		/* keys are ours: plain identifiers, no escaping needed */
		/* 15 digits; 16 where wall-clock times (unix s) need the us */
		int wall = !strcmp(k, "started_at") || !strcmp(k, "config");
		char *val = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(wall ? 16 : 15));

		if (!val) {
			rc = -1;
			break;
		}
		/* "tool" and "schema" share the first line */
		fprintf(f, "%s\"%s\": %s", first ? "" : !strcmp(k, "schema") ? ", " : ",\n ", k, val);
		first = 0;
		free(val);
	}
	fputs("}\n", f);
	json_decref(d);
	return rc || ferror(f) ? -1 : 0;
}

/* ---- reader --------------------------------------------------------- */

struct rd {
	const char *text;
	char *err;
	size_t len;
	int failed;
};

/* The line on which the top-level key `key` starts (0 if not found). */
static int key_line(const char *text, const char *key)
{
	size_t kl = strlen(key);
	int line = 1, depth = 0;

	for (const char *p = text; *p; p++) {
		if (*p == '\n') {
			line++;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			depth--;
		} else if (*p == '"') {
			const char *q = p + 1;

			while (*q && *q != '"')
				q += q[0] == '\\' && q[1] ? 2 : 1;
			if (depth == 1 && (size_t)(q - p - 1) == kl && !strncmp(p + 1, key, kl))
				return line;
			p = *q ? q : q - 1;
		}
	}
	return 0;
}

static void fail(struct rd *r, const char *path, const char *why)
{
	char top[64];
	size_t n = strcspn(path, ".");

	if (r->failed)
		return;
	r->failed = 1;
	snprintf(top, sizeof(top), "%.*s", (int)(n < sizeof(top) ? n : sizeof(top) - 1), path);
	snprintf(r->err, r->len, "line %d: %s: %s", key_line(r->text, top), path, why);
}

/* o[key], required unless opt; path names it in messages. */
static json_t *get(struct rd *r, json_t *o, const char *path, const char *key, int opt,
		   char *full, size_t flen)
{
	json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;

	snprintf(full, flen, "%s%s%s", path, *path ? "." : "", key);
	if (!v && !opt)
		fail(r, full, "missing");
	return v;
}

static void rnum(struct rd *r, json_t *o, const char *path, const char *key, double *out)
{
	char full[160];
	json_t *v = get(r, o, path, key, 0, full, sizeof(full));

	if (json_is_null(v))
		*out = NAN;
	else if (json_is_number(v))
		*out = json_number_value(v);
	else if (v)
		fail(r, full, "not a number");
}

static void ru64(struct rd *r, json_t *o, const char *path, const char *key, uint64_t *out)
{
	char full[160];
	json_t *v = get(r, o, path, key, 0, full, sizeof(full));

	if (json_is_integer(v) && json_integer_value(v) >= 0)
		*out = (uint64_t)json_integer_value(v);
	else if (v)
		fail(r, full, "not a whole number >= 0");
}

static void runs(struct rd *r, json_t *o, const char *path, const char *key, unsigned *out)
{
	uint64_t v = 0;

	ru64(r, o, path, key, &v);
	*out = (unsigned)v;
}

static void rstr(struct rd *r, json_t *o, const char *path, const char *key, char *out,
		 size_t len)
{
	char full[160];
	json_t *v = get(r, o, path, key, 0, full, sizeof(full));

	if (json_is_string(v))
		snprintf(out, len, "%s", json_string_value(v));
	else if (v)
		fail(r, full, "not a string");
}

static void rbool(struct rd *r, json_t *o, const char *path, const char *key, int *out)
{
	char full[160];
	json_t *v = get(r, o, path, key, 0, full, sizeof(full));

	if (json_is_boolean(v))
		*out = json_is_true(v);
	else if (v)
		fail(r, full, "not true or false");
}

static void rstat(struct rd *r, json_t *o, const char *path, struct il_load_stat *st)
{
	char ci_path[160];
	json_t *ci;

	ru64(r, o, path, "count", &st->count);
	rnum(r, o, path, "min", &st->min);
	rnum(r, o, path, "mean", &st->mean);
	rnum(r, o, path, "max", &st->max);
	for (int i = 0; i < IL_LOAD_NQ; i++)
		rnum(r, o, path, il_load_qname[i], &st->p[i]);
	if (!(ci = get(r, o, path, "ci", 1, ci_path, sizeof(ci_path))))
		return;
	for (int i = 0; i < IL_LOAD_NQ; i++) {
		char full[200];
		json_t *v = get(r, ci, ci_path, il_load_qname[i], 1, full, sizeof(full));

		if (!v)
			continue;
		if (json_unpack(v, "[FF]", &st->ci_lo[i], &st->ci_hi[i]))
			fail(r, full, "not a pair of numbers");
	}
}

static void rconfig(struct rd *r, json_t *d, struct il_load_config *c)
{
	char path[160], mode[16] = "";
	json_t *o = get(r, d, "", "config", 0, path, sizeof(path));
	json_t *sv = json_is_object(o) ? json_object_get(o, "servers") : NULL, *v;
	size_t i;

	if (!o)
		return;
	if (!json_is_array(sv) || json_array_size(sv) > IL_LOAD_MAX_SERVERS) {
		fail(r, "config.servers", "not a list of at most 16 names");
		return;
	}
	json_array_foreach(sv, i, v) {
		if (!json_is_string(v)) {
			fail(r, "config.servers", "not a list of strings");
			return;
		}
		snprintf(c->servers[i], sizeof(c->servers[i]), "%s", json_string_value(v));
	}
	c->nservers = (int)json_array_size(sv);
	runs(r, o, path, "threads", &c->threads);
	runs(r, o, path, "connections_per_thread", &c->conns);
	runs(r, o, path, "depth", &c->depth);
	rstr(r, o, path, "mode", mode, sizeof(mode));
	c->open = !strcmp(mode, "open");
	rnum(r, o, path, "target_qps", &c->target_qps);
	rstr(r, o, path, "iadist", c->iadist, sizeof(c->iadist));
	rstr(r, o, path, "keysize", c->keysize, sizeof(c->keysize));
	rstr(r, o, path, "valuesize", c->valuesize, sizeof(c->valuesize));
	rstr(r, o, path, "popularity", c->popularity, sizeof(c->popularity));
	rstr(r, o, path, "protocol", c->protocol, sizeof(c->protocol));
	ru64(r, o, path, "records", &c->records);
	rnum(r, o, path, "update", &c->update);
	rnum(r, o, path, "time_s", &c->time_s);
	rnum(r, o, path, "warmup_s", &c->warmup_s);
	ru64(r, o, path, "seed", &c->seed);
	rstr(r, o, path, "engine", c->engine, sizeof(c->engine));
	if (json_object_get(o, "timestamps"))	/* schema 2 */
		rstr(r, o, path, "timestamps", c->timestamps, sizeof(c->timestamps));
	c->batch = 1;
	if (json_object_get(o, "batch"))
		runs(r, o, path, "batch", &c->batch);
	if (json_object_get(o, "start_at"))
		rnum(r, o, path, "start_at", &c->start_at);
}

static void rhist(struct rd *r, json_t *o, const char *path, struct il_hist **out)
{
	json_t *b = json_object_get(o, "buckets");
	uint64_t count = 0, min = 0, max = 0, sum_b = 0;
	double sum = 0;
	size_t i;
	json_t *v;

	ru64(r, o, path, "count", &count);
	ru64(r, o, path, "min", &min);
	ru64(r, o, path, "max", &max);
	rnum(r, o, path, "sum", &sum);
	if (r->failed)
		return;
	if (!json_is_array(b) || json_array_size(b) % 2) {
		fail(r, path, "buckets: not a list of index, count pairs");
		return;
	}
	if (!(*out = il_hist_new())) {
		fail(r, path, "out of memory");
		return;
	}
	json_array_foreach(b, i, v) {
		json_t *c = json_array_get(b, i + 1);

		if (i % 2)
			continue;
		if (!json_is_integer(v) || !json_is_integer(c) || json_integer_value(c) < 0 ||
		    il_hist_add_bucket(*out, (unsigned)json_integer_value(v),
				       (uint64_t)json_integer_value(c)) < 0) {
			fail(r, path, "buckets: a bucket index or count out of range");
			return;
		}
		sum_b += (uint64_t)json_integer_value(c);
	}
	if (sum_b != count) {
		fail(r, path, "buckets do not add up to count");
		return;
	}
	il_hist_set_exact(*out, min, max, sum);
}

static void rhistograms(struct rd *r, json_t *d, struct il_load_summary *s)
{
	char path[160], full[200];
	json_t *h = get(r, d, "", "histograms", 1, path, sizeof(path)), *v;
	uint64_t nb = 0;

	if (!h)
		return;
	ru64(r, h, path, "nbuckets", &nb);
	if (!r->failed && nb != il_hist_nbuckets()) {
		fail(r, "histograms.nbuckets", "written with another bucket layout");
		return;
	}
	for (int op = 0; op < IL_NOPS && !r->failed; op++) {
		json_t *ops = get(r, h, path, il_load_op_name[op], 0, full, sizeof(full));

		for (int k = 0; k < IL_NLATS && ops && !r->failed; k++) {
			char p2[240];

			if ((v = get(r, ops, full, il_load_lat_name[k], 1, p2, sizeof(p2))))
				rhist(r, v, p2, &s->hist[op][k]);
		}
	}
	if (!r->failed && (v = get(r, h, path, "send_lag", 1, full, sizeof(full))))
		rhist(r, v, full, &s->lag_hist);
}

static void rcounters(struct rd *r, json_t *d, struct il_load_summary *s)
{
	char p[160];
	json_t *o = get(r, d, "", "requests", 0, p, sizeof(p));

	ru64(r, o, p, "gets", &s->requests.gets);
	ru64(r, o, p, "sets", &s->requests.sets);
	ru64(r, o, p, "misses", &s->requests.misses);
	ru64(r, o, p, "errors", &s->requests.errors);
	ru64(r, o, p, "set_failed", &s->requests.set_failed);
	ru64(r, o, p, "sent", &s->requests.sent);
	o = get(r, d, "", "totals", 0, p, sizeof(p));
	ru64(r, o, p, "gets", &s->totals.gets);
	ru64(r, o, p, "sets", &s->totals.sets);
	ru64(r, o, p, "misses", &s->totals.misses);
	ru64(r, o, p, "errors", &s->totals.errors);
	ru64(r, o, p, "set_failed", &s->totals.set_failed);
	ru64(r, o, p, "protocol_errors", &s->totals.protocol_errors);
	ru64(r, o, p, "unanswered", &s->totals.unanswered);
	ru64(r, o, p, "unsent", &s->totals.unsent);
	ru64(r, o, p, "connection_errors", &s->totals.connection_errors);
}

static void rlatency(struct rd *r, json_t *d, struct il_load_summary *s)
{
	char p[160], p1[200], p2[240];
	json_t *o = get(r, d, "", "latency_us", 0, p, sizeof(p)), *ops, *v;

	for (int op = 0; op < IL_NOPS && o; op++) {
		if (!(ops = get(r, o, p, il_load_op_name[op], 0, p1, sizeof(p1))))
			continue;
		/* corrected and uncorrected always; kernel ones where measured */
		for (int k = 0; k < IL_NLATS; k++)
			if ((v = get(r, ops, p1, il_load_lat_name[k], k >= IL_LAT_KERNEL, p2,
				     sizeof(p2))))
				rstat(r, v, p2, &s->lat[op][k]);
	}
	o = get(r, d, "", "schedule", 0, p, sizeof(p));
	rnum(r, o, p, "late_threshold_us", &s->schedule.late_threshold_us);
	rnum(r, o, p, "spin_us", &s->schedule.spin_us);
	ru64(r, o, p, "late_sends", &s->schedule.late_sends);
	if ((v = get(r, o, p, "send_lag_us", 0, p1, sizeof(p1))))
		rstat(r, v, p1, &s->schedule.send_lag);
}

static void rtimestamps(struct rd *r, json_t *d, struct il_load_summary *s)
{
	char p[160], p1[200];
	json_t *o = get(r, d, "", "timestamps", 1, p, sizeof(p)), *v;

	if (!o)		/* schema 1 */
		return;
	ru64(r, o, p, "stamped", &s->timestamps.stamped);
	ru64(r, o, p, "unstamped", &s->timestamps.unstamped);
	rnum(r, o, p, "clock_step_us", &s->timestamps.clock_step_us);
	if ((v = get(r, o, p, "rx_delay_us", 0, p1, sizeof(p1))))
		rstat(r, v, p1, &s->timestamps.rx_delay);
	if (json_object_get(o, "tx_stamped"))	/* since --tx-stamps */
		ru64(r, o, p, "tx_stamped", &s->timestamps.tx_stamped);
	if ((v = get(r, o, p, "tx_delay_us", 1, p1, sizeof(p1))))
		rstat(r, v, p1, &s->timestamps.tx_delay);
}

static void rgenerator(struct rd *r, json_t *d, struct il_load_summary *s)
{
	char p[160];
	json_t *o = get(r, d, "", "generator", 0, p, sizeof(p));

	rnum(r, o, p, "cpu_user_s", &s->generator.cpu_user_s);
	rnum(r, o, p, "cpu_sys_s", &s->generator.cpu_sys_s);
	rnum(r, o, p, "cpu_s", &s->generator.cpu_s);
	rnum(r, o, p, "cpu_util", &s->generator.cpu_util);
	rnum(r, o, p, "cpu_cores", &s->generator.cpu_cores);
	rnum(r, o, p, "cpu_us_per_request", &s->generator.cpu_us_per_request);
	ru64(r, o, p, "syscalls", &s->generator.syscalls);
	rnum(r, o, p, "syscalls_per_request", &s->generator.syscalls_per_request);
	rbool(r, o, p, "fell_behind", &s->generator.fell_behind);
	rbool(r, o, p, "below_target", &s->generator.below_target);
	ru64(r, o, p, "bytes_rx", &s->generator.bytes_rx);
	ru64(r, o, p, "bytes_tx", &s->generator.bytes_tx);
}

static void rwarnings(struct rd *r, json_t *d, struct il_load_summary *s)
{
	char p[160];
	json_t *w = get(r, d, "", "warnings", 0, p, sizeof(p)), *v;
	size_t i;

	if (w && !json_is_array(w))
		fail(r, p, "not a list");
	json_array_foreach(w, i, v) {
		if (!json_is_string(v)) {
			fail(r, p, "not a list of strings");
			return;
		}
		il_load_summary_warn(s, "%s", json_string_value(v));
	}
}

/* Schema 2: ci_level and checks (optional: a schema-1 summary has none). */
static void rchecks(struct rd *r, json_t *d, struct il_load_summary *s)
{
	char p[160], p1[240];
	json_t *o, *v;
	const char *k;

	if ((o = get(r, d, "", "ci_level", 1, p, sizeof(p))))
		rnum(r, d, "", "ci_level", &s->ci_level);
	if (!(o = get(r, d, "", "checks", 1, p, sizeof(p))))
		return;
	json_object_foreach(o, k, v) {
		struct il_load_check *c;
		json_t *ok;

		if (s->nchecks == IL_LOAD_MAX_CHECKS)
			break;
		c = &s->checks[s->nchecks++];
		snprintf(c->name, sizeof(c->name), "%s", k);
		snprintf(p1, sizeof(p1), "checks.%s", k);
		ok = get(r, v, p1, "ok", 0, p, sizeof(p));
		c->ok = json_is_null(ok) ? -1 : json_is_true(ok);
		rnum(r, v, p1, "stat", &c->stat);
		rnum(r, v, p1, "limit", &c->limit);
		rstr(r, v, p1, "detail", c->detail, sizeof(c->detail));
	}
}

int il_load_summary_read(const char *text, struct il_load_summary *s, char *err, size_t len)
{
	struct rd r = { text, err, len, 0 };
	json_error_t je;
	json_t *d = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	char tool[32] = "";
	uint64_t schema = 0;

	il_load_summary_init(s);
	if (!d) {
		snprintf(err, len, "line %d, column %d: %s", je.line, je.column, je.text);
		return -1;
	}
	rstr(&r, d, "", "tool", tool, sizeof(tool));
	ru64(&r, d, "", "schema", &schema);
	if (!r.failed && strcmp(tool, "irqlab-load"))
		fail(&r, "tool", "not an irqlab-load summary");
	if (!r.failed && (schema < 1 || schema > IL_LOAD_SCHEMA))
		fail(&r, "schema", "a version this reader does not know (it reads 1-2)");
	s->schema = (int)schema;
	rconfig(&r, d, &s->config);
	if (json_object_get(d, "started_at"))
		rnum(&r, d, "", "started_at", &s->started_at);
	rnum(&r, d, "", "duration_s", &s->duration_s);
	rnum(&r, d, "", "qps", &s->qps);
	rnum(&r, d, "", "target_qps", &s->target_qps);
	rnum(&r, d, "", "achieved_ratio", &s->achieved_ratio);
	rcounters(&r, d, s);
	rlatency(&r, d, s);
	rtimestamps(&r, d, s);
	rgenerator(&r, d, s);
	rwarnings(&r, d, s);
	rchecks(&r, d, s);
	if (!r.failed)
		rhistograms(&r, d, s);
	json_decref(d);
	if (r.failed)
		il_load_summary_free(s);
	return r.failed ? -1 : 0;
}

int il_load_summary_read_file(const char *path, struct il_load_summary *s, char *err,
			      size_t len)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t cap = 0, n = 0, got;
	int rc;

	if (!f) {
		snprintf(err, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	do {
		if (n + 65536 > cap) {
			char *t = realloc(text, cap = cap * 2 + 65536);

			if (!t) {
				free(text);
				fclose(f);
				snprintf(err, len, "%s: out of memory", path);
				return -1;
			}
			text = t;
		}
		got = fread(text + n, 1, cap - n - 1, f);
		n += got;
	} while (got);
	fclose(f);
	text[n] = 0;
	rc = il_load_summary_read(text, s, err, len);
	if (rc < 0) {	/* name the file in front of "line N: ..." */
		char tmp[512];

		snprintf(tmp, sizeof(tmp), "%s: %s", path, err);
		snprintf(err, len, "%s", tmp);
	}
	free(text);
	return rc;
}

/* ---- .hgrm ------------------------------------------------------------ */

/* The next percentile HdrHistogram reports after p: steps of 100/(ticks *
 * 2^(floor(log2(100/(100-p))) + 1)), halving as p nears 100. */
static double next_percentile(double p, int ticks)
{
	int64_t k = (int64_t)(log(100 / (100.0 - p)) / log(2)) + 1;

	return p + 100.0 / ((double)ticks * pow(2, (double)k));
}

int il_load_hgrm(FILE *f, const struct il_hist *h, int ticks, double unit_ns)
{
	uint64_t total = il_hist_count(h), cum = 0, lo, w, last = 0;
	unsigned n = il_hist_nbuckets();
	double target = 0, mean = il_hist_mean(h), var = 0;

	fprintf(f, "%12s %12s %12s %12s\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)");
	for (unsigned i = 0; i < n && cum < total; i++) {
		uint64_t c = il_hist_bucket(h, i, &lo, &w);

		if (!c)
			continue;
		cum += c;
		last = lo + w - 1;	/* the bucket's highest equivalent value */
		var += (double)c * ((lo + (w - 1) / 2.0) - mean) * ((lo + (w - 1) / 2.0) - mean);
		/* as HdrHistogram's iterator: every step this bucket reaches
		 * (in the last bucket only the first, then 100%) */
		while (target <= 100.0 * (double)cum / (double)total) {
			fprintf(f, "%12.3f %12f %12llu %12.2f\n", (double)last / unit_ns, target / 100.0,
				(unsigned long long)cum, 1.0 / (1.0 - target / 100.0));
			target = next_percentile(target, ticks);
			if (cum == total)
				break;
		}
	}
	if (total)	/* the last value, at 100% */
		fprintf(f, "%12.3f %12f %12llu %12.2f\n", (double)last / unit_ns, 1.0,
			(unsigned long long)total, (double)INFINITY);
	fprintf(f, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n", mean / unit_ns,
		total ? sqrt(var / (double)total) / unit_ns : 0.0);
	fprintf(f, "#[Max     = %12.3f, Total count    = %12llu]\n",
		(double)il_hist_max(h) / unit_ns, (unsigned long long)total);
	fprintf(f, "#[Buckets = %12u, SubBuckets     = %12d]\n", n / 128, 128);
	return ferror(f) ? -1 : 0;
}

int il_load_summary_hgrm(FILE *f, const struct il_load_summary *s)
{
	int k = s->lat[IL_OP_GET][IL_LAT_KERNEL].count || s->lat[IL_OP_SET][IL_LAT_KERNEL].count ?
		IL_LAT_KERNEL : IL_LAT_CORRECTED;
	struct il_hist *all;
	int rc;

	if (!s->hist[IL_OP_GET][k] || !s->hist[IL_OP_SET][k] || !(all = il_hist_new()))
		return -1;
	il_hist_merge(all, s->hist[IL_OP_GET][k]);
	il_hist_merge(all, s->hist[IL_OP_SET][k]);
	rc = il_load_hgrm(f, all, 5, 1000.0);
	il_hist_free(all);
	return rc;
}
