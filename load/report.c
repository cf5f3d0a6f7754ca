/* Merges the threads' histograms and counters and prints them: a one-screen
 * table in the spirit of mutilate's, or JSON (schema in docs/load.md). */
#include <math.h>
#include <string.h>

#include "load.h"

int stats_init(struct stats *s)
{
	memset(s, 0, sizeof(*s));
	for (int op = 0; op < 2; op++)
		for (int k = 0; k < 2; k++)
			if (!(s->lat[op][k] = il_hist_new()))
				return -1;
	s->lag = il_hist_new();
	return s->lag ? 0 : -1;
}

void stats_free(struct stats *s)
{
	for (int op = 0; op < 2; op++)
		for (int k = 0; k < 2; k++)
			il_hist_free(s->lat[op][k]);
	il_hist_free(s->lag);
	memset(s, 0, sizeof(*s));
}

int report_merge(struct report *r, struct thread *ts, unsigned n)
{
	if (stats_init(&r->st) < 0)
		return -1;
	memset(&r->tot, 0, sizeof(r->tot));
	r->cpu_user = r->cpu_sys = 0;
	r->syscalls = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct stats *s = &ts[i].st;
		const struct totals *t = &ts[i].tot;

		for (int op = 0; op < 2; op++)
			for (int k = 0; k < 2; k++)
				il_hist_merge(r->st.lat[op][k], s->lat[op][k]);
		il_hist_merge(r->st.lag, s->lag);
		r->st.gets += s->gets;
		r->st.sets += s->sets;
		r->st.misses += s->misses;
		r->st.errors += s->errors;
		r->st.set_failed += s->set_failed;
		r->st.late += s->late;
		r->st.sent += s->sent;
		r->st.bytes_rx += s->bytes_rx;
		r->st.bytes_tx += s->bytes_tx;
		r->tot.gets += t->gets;
		r->tot.sets += t->sets;
		r->tot.misses += t->misses;
		r->tot.errors += t->errors;
		r->tot.set_failed += t->set_failed;
		r->tot.proto_errors += t->proto_errors;
		r->tot.timeouts += t->timeouts;
		r->tot.unsent += t->unsent;
		r->tot.conn_errors += t->conn_errors;
		r->tot.reads += t->reads;
		r->tot.writes += t->writes;
		r->tot.waits += t->waits;
		r->syscalls += ts[i].sys1 - ts[i].sys0;
		r->cpu_user += ts[i].cpu1[0] - ts[i].cpu0[0];
		r->cpu_sys += ts[i].cpu1[1] - ts[i].cpu0[1];
	}
	r->done = r->st.gets + r->st.sets;
	r->qps = r->wall > 0 ? r->done / r->wall : 0;
	return 0;
}

void report_free(struct report *r)
{
	stats_free(&r->st);
}

/* Warnings a reader must not miss; the same list goes into the JSON. */
static int warnings(const struct report *r, char w[][200], int max)
{
	const struct opts *o = r->o;
	int n = 0;

	if (o->qps > 0 && r->qps < 0.99 * o->qps && n < max)
		snprintf(w[n++], 200, "achieved %.0f QPS is %.1f%% below the target %.0f",
			 r->qps, 100 * (1 - r->qps / o->qps), o->qps);
	if (o->qps > 0 && r->st.sent && r->st.late > r->st.sent / 100 && n < max)
		snprintf(w[n++], 200, "generator fell behind: %.1f%% of sends were more than "
			 "%.0f us late with a connection free", 100.0 * r->st.late / r->st.sent,
			 o->late_us);
	if (r->cpu_user + r->cpu_sys > 0.9 * r->wall * o->threads && r->wall > 0 && n < max)
		snprintf(w[n++], 200, "generator threads were %.0f%% busy: the generator may be "
			 "the bottleneck", 100 * (r->cpu_user + r->cpu_sys) / (r->wall * o->threads));
	if (r->tot.errors && n < max)
		snprintf(w[n++], 200, "%llu error replies from the server",
			 (unsigned long long)r->tot.errors);
	if (r->tot.proto_errors && n < max)
		snprintf(w[n++], 200, "%llu protocol errors (connections closed)",
			 (unsigned long long)r->tot.proto_errors);
	if (r->tot.conn_errors && n < max)
		snprintf(w[n++], 200, "%llu connections failed", (unsigned long long)r->tot.conn_errors);
	if (r->tot.timeouts && n < max)
		snprintf(w[n++], 200, "%llu requests never answered", (unsigned long long)r->tot.timeouts);
	if (r->tot.unsent && n < max)
		snprintf(w[n++], 200, "%llu scheduled requests never sent: the server held every "
			 "connection until the deadline", (unsigned long long)r->tot.unsent);
	if (r->tot.set_failed && n < max)
		snprintf(w[n++], 200, "%llu sets not stored", (unsigned long long)r->tot.set_failed);
	return n;
}

static double us(uint64_t ns) { return ns / 1000.0; }

static void row(FILE *f, const char *name, const struct il_hist *h)
{
	if (!il_hist_count(h))
		return;
	fprintf(f, "%-10s %10llu %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f %9.1f\n", name,
		(unsigned long long)il_hist_count(h), us(il_hist_min(h)), il_hist_mean(h) / 1000,
		us(il_hist_quantile(h, 0.5)), us(il_hist_quantile(h, 0.9)),
		us(il_hist_quantile(h, 0.95)), us(il_hist_quantile(h, 0.99)),
		us(il_hist_quantile(h, 0.999)), us(il_hist_max(h)));
}

void report_text(FILE *f, const struct report *r)
{
	const struct opts *o = r->o;
	char w[10][200];
	int nw = warnings(r, w, 10), open = o->qps > 0;
	double cpu = r->cpu_user + r->cpu_sys;

	fprintf(f, "%-10s %10s %8s %8s %8s %8s %8s %8s %8s %9s\n", "#type", "count", "min", "avg",
		"p50", "p90", "p95", "p99", "p99.9", "max");
	row(f, "get", r->st.lat[OP_GET][0]);
	row(f, "set", r->st.lat[OP_SET][0]);
	if (open) {
		row(f, "get(unc)", r->st.lat[OP_GET][1]);
		row(f, "set(unc)", r->st.lat[OP_SET][1]);
		row(f, "send lag", r->st.lag);
	}
	fprintf(f, "(latency in us%s)\n\n", open ? "; get/set from the scheduled send time, "
		"(unc) from the actual send, which hides queueing" : "");
	if (open)
		fprintf(f, "Total QPS = %.1f (%llu / %.1fs), target %.0f (%.1f%%)\n", r->qps,
			(unsigned long long)r->done, r->wall, o->qps, 100 * r->qps / o->qps);
	else
		fprintf(f, "Total QPS = %.1f (%llu / %.1fs), closed loop, depth %u\n", r->qps,
			(unsigned long long)r->done, r->wall, o->depth);
	fprintf(f, "Gets = %llu, sets = %llu, misses = %llu (%.1f%%), errors = %llu\n",
		(unsigned long long)r->st.gets, (unsigned long long)r->st.sets,
		(unsigned long long)r->st.misses,
		r->st.gets ? 100.0 * r->st.misses / r->st.gets : 0.0,
		(unsigned long long)r->st.errors);
	fprintf(f, "RX %llu bytes : %.1f MB/s\nTX %llu bytes : %.1f MB/s\n",
		(unsigned long long)r->st.bytes_rx, r->wall ? r->st.bytes_rx / r->wall / 1e6 : 0,
		(unsigned long long)r->st.bytes_tx, r->wall ? r->st.bytes_tx / r->wall / 1e6 : 0);
	fprintf(f, "Generator CPU = %.2fs user + %.2fs sys (%.0f%% of %u thread%s), "
		"%.2f us/request, %.2f syscalls/request (%s)\n", r->cpu_user, r->cpu_sys,
		r->wall ? 100 * cpu / (r->wall * o->threads) : 0, o->threads,
		o->threads > 1 ? "s" : "", r->done ? 1e6 * cpu / r->done : 0,
		r->done ? (double)r->syscalls / r->done : 0,
		o->engine == ENGINE_URING ? "io_uring" : "epoll");
	for (int i = 0; i < nw; i++)
		fprintf(f, "WARNING: %s\n", w[i]);
}

static void jhist(FILE *f, const char *name, const struct il_hist *h, const char *sep)
{
	fprintf(f, "\"%s\": {\"count\": %llu, \"min\": %.3f, \"mean\": %.3f, \"p50\": %.3f, "
		"\"p90\": %.3f, \"p95\": %.3f, \"p99\": %.3f, \"p999\": %.3f, \"max\": %.3f}%s",
		name, (unsigned long long)il_hist_count(h), us(il_hist_min(h)),
		il_hist_mean(h) / 1000, us(il_hist_quantile(h, 0.5)), us(il_hist_quantile(h, 0.9)),
		us(il_hist_quantile(h, 0.95)), us(il_hist_quantile(h, 0.99)),
		us(il_hist_quantile(h, 0.999)), us(il_hist_max(h)), sep);
}

static void jstr(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

void report_json(FILE *f, const struct report *r)
{
	const struct opts *o = r->o;
	char w[10][200];
	int nw = warnings(r, w, 10), open = o->qps > 0;
	double cpu = r->cpu_user + r->cpu_sys;
	const char *ops[2] = { "get", "set" };

	fprintf(f, "{\"tool\": \"irqlab-load\", \"schema\": 1,\n");
	fprintf(f, " \"config\": {\"servers\": [");
	for (int i = 0; i < o->nservers; i++) {
		jstr(f, o->servers[i].name);
		fputs(i + 1 < o->nservers ? ", " : "", f);
	}
	fprintf(f, "], \"threads\": %u, \"connections_per_thread\": %u, \"depth\": %u, "
		"\"mode\": \"%s\", \"target_qps\": %.1f, \"iadist\": ", o->threads, o->conns,
		o->depth, open ? "open" : "closed", o->qps);
	jstr(f, o->ia_spec);
	fprintf(f, ", \"keysize\": ");
	jstr(f, o->key_spec);
	fprintf(f, ", \"valuesize\": ");
	jstr(f, o->value_spec);
	fprintf(f, ", \"popularity\": ");
	jstr(f, o->pop_spec);
	fprintf(f, ", \"protocol\": \"%s\"", o->meta ? "meta" : "text");
	fprintf(f, ", \"records\": %llu, \"update\": %g, \"time_s\": %g, \"warmup_s\": %g, "
		"\"seed\": %llu, \"engine\": \"%s\"},\n", (unsigned long long)o->records, o->update,
		o->time, o->warmup, (unsigned long long)o->seed,
		o->engine == ENGINE_URING ? "uring" : "epoll");
	fprintf(f, " \"duration_s\": %.6f, \"qps\": %.1f, \"target_qps\": %.1f, "
		"\"achieved_ratio\": %.4f,\n", r->wall, r->qps, o->qps,
		open ? r->qps / o->qps : 1.0);
	fprintf(f, " \"requests\": {\"gets\": %llu, \"sets\": %llu, \"misses\": %llu, "
		"\"errors\": %llu, \"set_failed\": %llu, \"sent\": %llu},\n",
		(unsigned long long)r->st.gets, (unsigned long long)r->st.sets,
		(unsigned long long)r->st.misses, (unsigned long long)r->st.errors,
		(unsigned long long)r->st.set_failed, (unsigned long long)r->st.sent);
	fprintf(f, " \"totals\": {\"gets\": %llu, \"sets\": %llu, \"misses\": %llu, "
		"\"errors\": %llu, \"set_failed\": %llu, \"protocol_errors\": %llu, "
		"\"unanswered\": %llu, \"unsent\": %llu, \"connection_errors\": %llu},\n",
		(unsigned long long)r->tot.gets, (unsigned long long)r->tot.sets,
		(unsigned long long)r->tot.misses, (unsigned long long)r->tot.errors,
		(unsigned long long)r->tot.set_failed, (unsigned long long)r->tot.proto_errors,
		(unsigned long long)r->tot.timeouts, (unsigned long long)r->tot.unsent,
		(unsigned long long)r->tot.conn_errors);
	fprintf(f, " \"latency_us\": {");
	for (int op = 0; op < 2; op++) {
		fprintf(f, "\"%s\": {", ops[op]);
		jhist(f, "corrected", r->st.lat[op][0], ", ");
		jhist(f, "uncorrected", r->st.lat[op][1], "}");
		fputs(op ? "},\n" : ",\n   ", f);
	}
	fprintf(f, " \"schedule\": {\"late_threshold_us\": %g, \"spin_us\": %g, \"late_sends\": %llu, ",
		o->late_us, o->spin_us, (unsigned long long)r->st.late);
	jhist(f, "send_lag_us", r->st.lag, "},\n");
	fprintf(f, " \"generator\": {\"cpu_user_s\": %.4f, \"cpu_sys_s\": %.4f, \"cpu_s\": %.4f, "
		"\"cpu_util\": %.4f, \"cpu_cores\": %.4f, \"cpu_us_per_request\": %.4f, \"syscalls\": %llu, "
		"\"syscalls_per_request\": %.4f, \"fell_behind\": %s, \"below_target\": %s, "
		"\"bytes_rx\": %llu, \"bytes_tx\": %llu},\n",
		r->cpu_user, r->cpu_sys, cpu, r->wall ? cpu / (r->wall * o->threads) : 0,
		r->wall ? cpu / r->wall : 0, r->done ? 1e6 * cpu / r->done : 0, (unsigned long long)r->syscalls,
		r->done ? (double)r->syscalls / r->done : 0,
		open && r->st.sent && r->st.late > r->st.sent / 100 ? "true" : "false",
		open && r->qps < 0.99 * o->qps ? "true" : "false",
		(unsigned long long)r->st.bytes_rx, (unsigned long long)r->st.bytes_tx);
	fprintf(f, " \"warnings\": [");
	for (int i = 0; i < nw; i++) {
		jstr(f, w[i]);
		fputs(i + 1 < nw ? ", " : "", f);
	}
	fprintf(f, "]}\n");
}
