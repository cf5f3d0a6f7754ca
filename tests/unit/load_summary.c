/* irqlab-load's summary (irqlab/load_summary.h): written and read back
 * equal, histograms exactly (merging two read-back histograms equals the
 * histogram of all the samples), a schema-1 document still read, and reader
 * errors that give the line and the key. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irqlab/dist.h"
#include "irqlab/load_summary.h"
#include "tap.h"

static char *write_str(const struct il_load_summary *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f || il_load_summary_write(f, s) < 0)
		return NULL;
	fclose(f);
	return buf;
}

static int same_hist(const struct il_hist *a, const struct il_hist *b)
{
	for (unsigned i = 0; i < il_hist_nbuckets(); i++)
		if (il_hist_bucket(a, i, NULL, NULL) != il_hist_bucket(b, i, NULL, NULL))
			return 0;
	return il_hist_count(a) == il_hist_count(b) && il_hist_min(a) == il_hist_min(b) &&
	       il_hist_max(a) == il_hist_max(b) &&
	       fabs(il_hist_mean(a) - il_hist_mean(b)) < 1e-6 * il_hist_mean(a);
}

/* A summary as irqlab-load would fill it, from n log-normal-ish samples. */
static void fill(struct il_load_summary *s, struct il_rng *r, int n)
{
	struct il_load_opts o;
	char err[100];

	il_load_opts_default(&o);
	il_load_opts_server(&o, "127.0.0.1:11211", err, sizeof(err));
	o.qps = 1000;
	il_load_summary_init(s);
	il_load_summary_config(s, &o, IL_ENGINE_URING);
	for (int op = 0; op < IL_NOPS; op++)
		for (int k = 0; k < 2; k++)
			s->hist[op][k] = il_hist_new();
	s->lag_hist = il_hist_new();
	for (int i = 0; i < n; i++) {
		uint64_t v = (uint64_t)(20000 * exp(2 * il_rng_uniform(r)));

		il_hist_record(s->hist[i % 10 == 0][0], v);
		il_hist_record(s->hist[i % 10 == 0][1], v / 2);
		il_hist_record(s->lag_hist, v / 10);
	}
	for (int op = 0; op < IL_NOPS; op++)
		for (int k = 0; k < 2; k++)
			il_load_stat_from_hist(&s->lat[op][k], s->hist[op][k]);
	il_load_stat_from_hist(&s->schedule.send_lag, s->lag_hist);
	s->lat[IL_OP_GET][IL_LAT_CORRECTED].ci_lo[3] = 100.5;
	s->lat[IL_OP_GET][IL_LAT_CORRECTED].ci_hi[3] = 120.25;
	s->ci_level = 0.95;
	s->duration_s = 1.5;
	s->started_at = 1796280000.123456;
	s->config.start_at = 1796280000.123;
	s->qps = 999.9;
	s->target_qps = 1000;
	s->achieved_ratio = 0.9999;
	s->requests.gets = s->totals.gets = (uint64_t)n;
	s->totals.unanswered = 3;
	s->generator.fell_behind = 1;
	s->generator.syscalls = 12345;
	il_load_summary_warn(s, "a \"quoted\" warning");
	s->nchecks = 1;
	s->checks[0] = (struct il_load_check){ "stationarity", 0, 0.31, 0.2, "first and last differ" };
}

static const char schema1[] =
"{\"tool\": \"irqlab-load\", \"schema\": 1,\n"
" \"config\": {\"servers\": [\"127.0.0.1:11211\"], \"threads\": 1, \"connections_per_thread\": 16, "
"\"depth\": 1, \"mode\": \"closed\", \"target_qps\": 0.0, \"iadist\": \"exponential\", "
"\"keysize\": \"30\", \"valuesize\": \"200\", \"popularity\": \"uniform\", \"protocol\": \"text\", "
"\"records\": 1000, \"update\": 0.03, \"time_s\": 1, \"warmup_s\": 0, \"seed\": 1, \"engine\": \"epoll\"},\n"
" \"duration_s\": 1.000000, \"qps\": 45000.5, \"target_qps\": 0.0, \"achieved_ratio\": 1.0000,\n"
" \"requests\": {\"gets\": 43650, \"sets\": 1350, \"misses\": 0, \"errors\": 0, \"set_failed\": 0, \"sent\": 45000},\n"
" \"totals\": {\"gets\": 43700, \"sets\": 2350, \"misses\": 0, \"errors\": 0, \"set_failed\": 0, "
"\"protocol_errors\": 0, \"unanswered\": 0, \"unsent\": 0, \"connection_errors\": 0},\n"
" \"latency_us\": {\"get\": {\"corrected\": {\"count\": 43650, \"min\": 10.000, \"mean\": 30.500, "
"\"p50\": 28.100, \"p90\": 40.000, \"p95\": 45.000, \"p99\": 60.000, \"p999\": 90.000, \"max\": 300.000}, "
"\"uncorrected\": {\"count\": 43650, \"min\": 10.000, \"mean\": 30.500, \"p50\": 28.100, \"p90\": 40.000, "
"\"p95\": 45.000, \"p99\": 60.000, \"p999\": 90.000, \"max\": 300.000}},\n"
"   \"set\": {\"corrected\": {\"count\": 1350, \"min\": 10.000, \"mean\": 30.500, \"p50\": 28.100, "
"\"p90\": 40.000, \"p95\": 45.000, \"p99\": 60.000, \"p999\": 90.000, \"max\": 300.000}, "
"\"uncorrected\": {\"count\": 1350, \"min\": 10.000, \"mean\": 30.500, \"p50\": 28.100, \"p90\": 40.000, "
"\"p95\": 45.000, \"p99\": 60.000, \"p999\": 90.000, \"max\": 300.000}}},\n"
" \"schedule\": {\"late_threshold_us\": 100, \"spin_us\": 0, \"late_sends\": 0, \"send_lag_us\": "
"{\"count\": 0, \"min\": 0.000, \"mean\": 0.000, \"p50\": 0.000, \"p90\": 0.000, \"p95\": 0.000, "
"\"p99\": 0.000, \"p999\": 0.000, \"max\": 0.000}},\n"
" \"generator\": {\"cpu_user_s\": 0.1000, \"cpu_sys_s\": 0.5000, \"cpu_s\": 0.6000, \"cpu_util\": 0.6000, "
"\"cpu_cores\": 0.6000, \"cpu_us_per_request\": 13.3333, \"syscalls\": 100000, \"syscalls_per_request\": 2.2222, "
"\"fell_behind\": false, \"below_target\": false, \"bytes_rx\": 100, \"bytes_tx\": 200},\n"
" \"warnings\": []}\n";

/* .hgrm written from a known histogram and parsed back like HdrHistogram's
 * plotter does: header, rows of value/percentile/count/inverse, footer. */
static void hgrm(void)
{
	struct il_hist *h = il_hist_new();
	struct il_rng r;
	char *buf = NULL, line[200];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	double v, p, inv, lastp = -1, lastv = 0, mean = 0, max = 0, at99 = 0;
	unsigned long long cnt, lastc = 0, total = 0;
	int rows = 0, mono = 1, head, foot = 0;

	il_rng_seed(&r, 3);
	for (int i = 0; i < 100000; i++)
		il_hist_record(h, 20000 + (uint64_t)(-30000 * log(il_rng_uniform_pos(&r))));
	il_load_hgrm(f, h, 5, 1000.0);
	fclose(f);
	f = fmemopen(buf, len, "r");
	head = fgets(line, sizeof(line), f) && strstr(line, "Value") && strstr(line, "Percentile") &&
	       strstr(line, "TotalCount") && strstr(line, "1/(1-Percentile)");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lf %lf %llu %lf", &v, &p, &cnt, &inv) >= 3) {
			mono &= p > lastp && v >= lastv && cnt >= lastc;
			if (p >= 0.99 && !at99)	/* the first row past 99% */
				at99 = v;
			lastp = p, lastv = v, lastc = cnt, rows++;
		} else if (sscanf(line, "#[Mean = %lf", &mean) == 1 ||
			   sscanf(line, "#[Mean    = %lf", &mean) == 1) {
			foot++;
		} else if (sscanf(line, "#[Max     = %lf, Total count    = %llu", &max, &total) == 2) {
			foot++;
		} else if (!strncmp(line, "#[Buckets", 9)) {
			foot++;
		}
	}
	fclose(f);
	ok(head, ".hgrm: HdrHistogram's header");
	ok(rows > 40 && mono && lastp == 1.0 && lastc == 100000,
	   ".hgrm: %d rows, percentiles rising to 1.0, counts to all 100000", rows);
	ok(fabs(at99 - il_hist_quantile(h, 0.99) / 1000.0) < 0.02 * at99,
	   ".hgrm: the first row past 99%% (%.3f us) is at p99 (%.3f us)", at99, il_hist_quantile(h, 0.99) / 1000.0);
	ok(foot == 3 && total == 100000 && fabs(max - il_hist_max(h) / 1000.0) < 0.001 &&
	   fabs(mean - il_hist_mean(h) / 1000.0) < 0.001, ".hgrm: footer with mean, max and count");
	free(buf);
	il_hist_free(h);
}

static void errors(void)
{
	struct il_load_summary s;
	char err[300], *bad;
	const char *p;

	ok(il_load_summary_read("{\"tool\": \"irqlab-load\",\n \"schema\": 2,,\n}", &s, err,
				sizeof(err)) < 0 && !strncmp(err, "line 2, column", 14),
	   "syntax error: line and column (%s)", err);
	/* a wrong type on line 3 of the schema-1 text */
	bad = strdup(schema1);
	p = strstr(bad, "\"qps\": 45000.5");
	memcpy(bad + (p - bad) + 7, "\"fast\" ", 7);
	ok(il_load_summary_read(bad, &s, err, sizeof(err)) < 0 &&
	   !strcmp(err, "line 3: qps: not a number"), "wrong type: line and key (%s)", err);
	free(bad);
	bad = strdup(schema1);
	p = strstr(bad, "\"p99\": 60.000");
	memcpy(bad + (p - bad), "\"q99\"", 5);
	ok(il_load_summary_read(bad, &s, err, sizeof(err)) < 0 &&
	   !strcmp(err, "line 6: latency_us.get.corrected.p99: missing"),
	   "missing key: line and path (%s)", err);
	free(bad);
	bad = strdup(schema1);
	p = strstr(bad, "\"schema\": 1");
	bad[p - bad + 10] = '9';
	ok(il_load_summary_read(bad, &s, err, sizeof(err)) < 0 && strstr(err, "schema"),
	   "unknown schema version refused (%s)", err);
	free(bad);
}

int main(void)
{
	struct il_load_summary a, b, c, back_a, back_b;
	struct il_rng r;
	struct il_hist *all;
	char err[300], *text;
	int same = 1;

	il_rng_seed(&r, 7);
	fill(&a, &r, 20000);
	text = write_str(&a);
	ok(text != NULL, "written");
	ok(il_load_summary_read(text, &b, err, sizeof(err)) == 0, "read back (%s)",
	   text ? "" : err);
	is_int(b.schema, IL_LOAD_SCHEMA, "schema version");
	is_str(b.config.servers[0], "127.0.0.1:11211", "config.servers");
	is_str(b.config.engine, "uring", "config.engine");
	ok(b.config.open && b.config.target_qps == 1000, "open loop at 1000");
	ok(b.qps == 999.9 && b.duration_s == 1.5 && b.achieved_ratio == 0.9999, "qps, duration, ratio");
	ok(fabs(b.started_at - 1796280000.123456) < 1e-6 && fabs(b.config.start_at - 1796280000.123) < 1e-6,
	   "started_at and config.start_at (--start-at) to the microsecond");
	ok(b.requests.gets == 20000 && b.totals.unanswered == 3 && b.generator.syscalls == 12345 &&
	   b.generator.fell_behind == 1, "counters and flags");
	for (int op = 0; op < IL_NOPS; op++)
		for (int k = 0; k < 2; k++)
			for (int q = 0; q < IL_LOAD_NQ; q++)
				same &= fabs(a.lat[op][k].p[q] - b.lat[op][k].p[q]) < 0.0006 &&
					a.lat[op][k].count == b.lat[op][k].count;
	ok(same, "every percentile and count read back (to the ns printed)");
	ok(b.lat[0][0].ci_lo[3] == 100.5 && b.lat[0][0].ci_hi[3] == 120.25 &&
	   isnan(b.lat[0][0].ci_lo[0]) && b.ci_level == 0.95, "confidence interval of p99 only");
	ok(b.lat[0][IL_LAT_KERNEL].count == 0 && !b.hist[0][IL_LAT_KERNEL],
	   "kernel-stamped kinds absent when not measured");
	is_str(b.warnings[0], "a \"quoted\" warning", "warning with quotes");
	ok(b.nchecks == 1 && !strcmp(b.checks[0].name, "stationarity") && b.checks[0].ok == 0 &&
	   b.checks[0].stat == 0.31, "check read back");
	ok(same_hist(a.hist[0][0], b.hist[0][0]) && same_hist(a.lag_hist, b.lag_hist),
	   "histograms read back bucket for bucket");
	free(text);

	/* Exact merge across "hosts": two summaries written and read, merged,
	 * equal the histogram of every sample. */
	fill(&c, &r, 7000);
	all = il_hist_new();
	il_hist_merge(all, a.hist[0][0]);
	il_hist_merge(all, c.hist[0][0]);
	text = write_str(&a);
	il_load_summary_read(text, &back_a, err, sizeof(err));
	free(text);
	text = write_str(&c);
	il_load_summary_read(text, &back_b, err, sizeof(err));
	free(text);
	il_hist_merge(back_a.hist[0][0], back_b.hist[0][0]);
	ok(same_hist(all, back_a.hist[0][0]) &&
	   il_hist_quantile(all, 0.999) == il_hist_quantile(back_a.hist[0][0], 0.999),
	   "merging read-back histograms is exact");
	il_hist_free(all);
	il_load_summary_free(&c);

	ok(il_load_summary_read(schema1, &c, err, sizeof(err)) == 0, "schema 1 read (%s)", err);
	ok(c.schema == 1 && c.qps == 45000.5 && c.lat[0][0].p[0] == 28.1 && !c.hist[0][0] &&
	   isnan(c.ci_level) && c.nchecks == 0 && isnan(c.started_at) && isnan(c.config.start_at),
	   "schema 1: figures, no histograms, checks or start time");
	errors();
	hgrm();
	il_load_summary_free(&a);
	il_load_summary_free(&b);
	il_load_summary_free(&c);
	il_load_summary_free(&back_a);
	il_load_summary_free(&back_b);
	return tap_done();
}
