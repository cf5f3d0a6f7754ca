/* Merges the threads' histograms and counters into the summary
 * (irqlab/load_summary.h: its JSON writer is the library's) and prints the
 * one-screen table in the spirit of mutilate's. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"

int lstats_init(struct lstats *s)
{
	memset(s, 0, sizeof(*s));
	for (int op = 0; op < 2; op++)
		for (int k = 0; k < IL_NLATS; k++)
			if (!(s->lat[op][k] = il_hist_new()))
				return -1;
	s->lag = il_hist_new();
	s->rx_delay = il_hist_new();
	s->tx_delay = il_hist_new();
	return s->lag && s->rx_delay && s->tx_delay ? 0 : -1;
}

void lstats_free(struct lstats *s)
{
	for (int op = 0; op < 2; op++)
		for (int k = 0; k < IL_NLATS; k++)
			il_hist_free(s->lat[op][k]);
	il_hist_free(s->lag);
	il_hist_free(s->rx_delay);
	il_hist_free(s->tx_delay);
	memset(s, 0, sizeof(*s));
}

/* Sums the threads' counters into s and their histograms into s's. */
static void merge_threads(struct il_load_summary *s, struct thread *ts, unsigned n,
			  double cpu[2], uint64_t *syscalls, struct il_hist *rx_delay,
			  struct il_hist *tx_delay)
{
	for (unsigned i = 0; i < n; i++) {
		const struct lstats *st = &ts[i].st;
		const struct totals *t = &ts[i].tot;

		for (int op = 0; op < 2; op++)
			for (int k = 0; k < IL_NLATS; k++)
				il_hist_merge(s->hist[op][k], st->lat[op][k]);
		il_hist_merge(s->lag_hist, st->lag);
		il_hist_merge(rx_delay, st->rx_delay);
		il_hist_merge(tx_delay, st->tx_delay);
		s->timestamps.tx_stamped += st->tx_stamped;
		s->timestamps.stamped += st->stamped;
		s->timestamps.unstamped += st->unstamped;
		if (llabs(ts[i].rt_off_end - ts[i].rt_off) / 1e3 > fabs(s->timestamps.clock_step_us))
			s->timestamps.clock_step_us = (ts[i].rt_off_end - ts[i].rt_off) / 1e3;
		s->requests.gets += st->gets;
		s->requests.sets += st->sets;
		s->requests.misses += st->misses;
		s->requests.errors += st->errors;
		s->requests.set_failed += st->set_failed;
		s->requests.sent += st->sent;
		s->schedule.late_sends += st->late;
		s->generator.bytes_rx += st->bytes_rx;
		s->generator.bytes_tx += st->bytes_tx;
		s->totals.gets += t->gets;
		s->totals.sets += t->sets;
		s->totals.misses += t->misses;
		s->totals.errors += t->errors;
		s->totals.set_failed += t->set_failed;
		s->totals.protocol_errors += t->proto_errors;
		s->totals.unanswered += t->timeouts;
		s->totals.unsent += t->unsent;
		s->totals.connection_errors += t->conn_errors;
		*syscalls += ts[i].sys1 - ts[i].sys0;
		cpu[0] += ts[i].cpu1[0] - ts[i].cpu0[0];
		cpu[1] += ts[i].cpu1[1] - ts[i].cpu0[1];
	}
}

/* Warnings a reader must not miss: printed after the table, listed in the
 * JSON. */
static void warnings(struct il_load_summary *s, const struct il_load_opts *o)
{
	const struct il_load_config *c = &s->config;
	double busy = s->generator.cpu_s;

	if (c->open && s->qps < 0.99 * o->qps)
		il_load_summary_warn(s, "achieved %.0f QPS is %.1f%% below the target %.0f",
				     s->qps, 100 * (1 - s->qps / o->qps), o->qps);
	if (s->generator.fell_behind)
		il_load_summary_warn(s, "generator fell behind: %.1f%% of sends were more than "
				     "%.0f us late with a connection free",
				     100.0 * s->schedule.late_sends / s->requests.sent, o->late_us);
	if (s->duration_s > 0 && busy > 0.9 * s->duration_s * o->threads)
		il_load_summary_warn(s, "generator threads were %.0f%% busy: the generator may "
				     "be the bottleneck", 100 * busy / (s->duration_s * o->threads));
	if (s->totals.errors)
		il_load_summary_warn(s, "%llu error replies from the server",
				     (unsigned long long)s->totals.errors);
	if (s->totals.protocol_errors)
		il_load_summary_warn(s, "%llu protocol errors (connections closed)",
				     (unsigned long long)s->totals.protocol_errors);
	if (s->totals.connection_errors)
		il_load_summary_warn(s, "%llu connections failed",
				     (unsigned long long)s->totals.connection_errors);
	if (s->totals.unanswered)
		il_load_summary_warn(s, "%llu requests never answered",
				     (unsigned long long)s->totals.unanswered);
	if (s->totals.unsent)
		il_load_summary_warn(s, "%llu scheduled requests never sent: the server held "
				     "every connection until the deadline",
				     (unsigned long long)s->totals.unsent);
	if (s->timestamps.unstamped)
		il_load_summary_warn(s, "%llu of %llu replies had no kernel receive stamp: their "
				     "kernel-stamped latency is missing",
				     (unsigned long long)s->timestamps.unstamped,
				     (unsigned long long)(s->timestamps.unstamped + s->timestamps.stamped));
	if (o->tx_stamps && s->timestamps.tx_stamped < s->timestamps.stamped)
		il_load_summary_warn(s, "%llu of %llu kernel-stamped replies had no kernel send "
				     "stamp (--tx-stamps): those start at the user-space send time",
				     (unsigned long long)(s->timestamps.stamped - s->timestamps.tx_stamped),
				     (unsigned long long)s->timestamps.stamped);
	if (fabs(s->timestamps.clock_step_us) > 100)
		il_load_summary_warn(s, "the wall clock stepped by %.0f us during the run: kernel "
				     "stamps are off by up to that much", s->timestamps.clock_step_us);
	if (o->start_at > 0 && s->started_at - o->start_at > 0.001)
		il_load_summary_warn(s, "started %.1f ms after --start-at (the generator woke "
				     "late)", 1e3 * (s->started_at - o->start_at));
	if (s->totals.set_failed)
		il_load_summary_warn(s, "%llu sets not stored",
				     (unsigned long long)s->totals.set_failed);
}

int load_summarize(struct il_load_summary *s, const struct il_load_opts *o,
		   const struct env *env, struct thread *ts, unsigned n, double wall)
{
	double cpu[2] = { 0, 0 };
	uint64_t sys = 0, done;
	int open = o->qps > 0;
	struct il_hist *rx_delay = il_hist_new(), *tx_delay = il_hist_new();

	il_load_summary_init(s);
	il_load_summary_config(s, o, env->engine);
	for (int op = 0; op < 2; op++)
		for (int k = 0; k < IL_NLATS; k++)
			if (!(s->hist[op][k] = il_hist_new()))
				return -1;
	if (!(s->lag_hist = il_hist_new()) || !rx_delay || !tx_delay) {
		il_hist_free(rx_delay);
		il_hist_free(tx_delay);
		return -1;
	}
	merge_threads(s, ts, n, cpu, &sys, rx_delay, tx_delay);
	for (int op = 0; op < 2; op++)
		for (int k = 0; k < IL_NLATS; k++)
			il_load_stat_from_hist(&s->lat[op][k], s->hist[op][k]);
	il_load_stat_from_hist(&s->timestamps.rx_delay, rx_delay);
	il_load_stat_from_hist(&s->timestamps.tx_delay, tx_delay);
	il_hist_free(rx_delay);
	il_hist_free(tx_delay);
	il_load_stat_from_hist(&s->schedule.send_lag, s->lag_hist);
	done = s->requests.gets + s->requests.sets;
	s->duration_s = wall;
	s->started_at = (double)((int64_t)ts[0].origin + ts[0].rt_off) / 1e9;
	s->qps = wall > 0 ? done / wall : 0;
	s->target_qps = o->qps;
	s->achieved_ratio = open ? s->qps / o->qps : 1.0;
	s->schedule.late_threshold_us = o->late_us;
	s->schedule.spin_us = o->spin_us;
	s->generator.cpu_user_s = cpu[0];
	s->generator.cpu_sys_s = cpu[1];
	s->generator.cpu_s = cpu[0] + cpu[1];
	s->generator.cpu_util = wall ? s->generator.cpu_s / (wall * o->threads) : 0;
	s->generator.cpu_cores = wall ? s->generator.cpu_s / wall : 0;
	s->generator.cpu_us_per_request = done ? 1e6 * s->generator.cpu_s / done : 0;
	s->generator.syscalls = sys;
	s->generator.syscalls_per_request = done ? (double)sys / done : 0;
	s->generator.fell_behind = open && s->requests.sent &&
				   s->schedule.late_sends > s->requests.sent / 100;
	s->generator.below_target = open && s->qps < 0.99 * o->qps;
	warnings(s, o);
	checks_fill(s, o, ts, n);
	return 0;
}

static void row(FILE *f, const char *name, const struct il_load_stat *st)
{
	if (!st->count)
		return;
	fprintf(f, "%-10s %10llu %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f %9.1f\n", name,
		(unsigned long long)st->count, st->min, st->mean, st->p[0], st->p[1], st->p[2],
		st->p[3], st->p[4], st->max);
}

/* "p99 95% CI: get [a, b] us, ..." and one line of check results. */
static void checks_text(FILE *f, const struct il_load_summary *s)
{
	int any = 0;

	for (int op = 0; op < 2; op++)
		for (int k = 0; k < IL_NLATS; k++) {
			const struct il_load_stat *st = &s->lat[op][k];

			if (!st->count || isnan(st->ci_lo[3]))
				continue;
			fprintf(f, "%s%s%s [%.1f, %.1f]", any ? ", " : "p99 with its 95% confidence "
				"interval: ", il_load_op_name[op], k >= IL_LAT_KERNEL ? "(kern)" : "",
				st->ci_lo[3], st->ci_hi[3]);
			any = 1;
		}
	if (any)
		fprintf(f, " us\n");
	for (int i = 0; i < s->nchecks; i++) {
		const struct il_load_check *c = &s->checks[i];
		char stat[32] = "";

		if (!isnan(c->stat))
			snprintf(stat, sizeof(stat), " (%.3g)", c->stat);
		fprintf(f, "%s%s %s%s%s", i ? ", " : "Checks: ", c->name,
			c->ok > 0 ? "ok" : c->ok == 0 ? "FAILED" : "not run", stat,
			i + 1 == s->nchecks ? "\n" : "");
	}
}

void load_print_text(FILE *f, const struct il_load_summary *s)
{
	const struct il_load_config *c = &s->config;
	int open = c->open;
	uint64_t done = s->requests.gets + s->requests.sets;
	double cpu = s->generator.cpu_s, wall = s->duration_s;

	fprintf(f, "%-10s %10s %8s %8s %8s %8s %8s %8s %8s %9s\n", "#type", "count", "min", "avg",
		"p50", "p90", "p95", "p99", "p99.9", "max");
	row(f, "get", &s->lat[OP_GET][IL_LAT_CORRECTED]);
	row(f, "set", &s->lat[OP_SET][IL_LAT_CORRECTED]);
	row(f, "get(kern)", &s->lat[OP_GET][IL_LAT_KERNEL]);
	row(f, "set(kern)", &s->lat[OP_SET][IL_LAT_KERNEL]);
	if (open) {
		row(f, "get(unc)", &s->lat[OP_GET][IL_LAT_UNCORRECTED]);
		row(f, "set(unc)", &s->lat[OP_SET][IL_LAT_UNCORRECTED]);
		row(f, "send lag", &s->schedule.send_lag);
	}
	fprintf(f, "(latency in us%s%s%s)\n\n", open ? "; get/set from the scheduled send time, "
		"(unc) from the actual send, which hides queueing" : "",
		s->lat[OP_GET][IL_LAT_KERNEL].count || s->lat[OP_SET][IL_LAT_KERNEL].count ?
		"; (kern): to the kernel's receive stamp, not to when the generator woke up" : "",
		s->timestamps.tx_stamped ? ", from the kernel's send stamp" : "");
	if (open)
		fprintf(f, "Total QPS = %.1f (%llu / %.1fs), target %.0f (%.1f%%)\n", s->qps,
			(unsigned long long)done, wall, c->target_qps, 100 * s->qps / c->target_qps);
	else
		fprintf(f, "Total QPS = %.1f (%llu / %.1fs), closed loop, depth %u\n", s->qps,
			(unsigned long long)done, wall, c->depth);
	fprintf(f, "Gets = %llu, sets = %llu, misses = %llu (%.1f%%), errors = %llu\n",
		(unsigned long long)s->requests.gets, (unsigned long long)s->requests.sets,
		(unsigned long long)s->requests.misses,
		s->requests.gets ? 100.0 * s->requests.misses / s->requests.gets : 0.0,
		(unsigned long long)s->requests.errors);
	fprintf(f, "RX %llu bytes : %.1f MB/s\nTX %llu bytes : %.1f MB/s\n",
		(unsigned long long)s->generator.bytes_rx, wall ? s->generator.bytes_rx / wall / 1e6 : 0,
		(unsigned long long)s->generator.bytes_tx, wall ? s->generator.bytes_tx / wall / 1e6 : 0);
	fprintf(f, "Generator CPU = %.2fs user + %.2fs sys (%.0f%% of %u thread%s), "
		"%.2f us/request, %.2f syscalls/request (%s)\n", s->generator.cpu_user_s,
		s->generator.cpu_sys_s, 100 * s->generator.cpu_util, c->threads,
		c->threads > 1 ? "s" : "", done ? 1e6 * cpu / done : 0,
		s->generator.syscalls_per_request, !strcmp(c->engine, "uring") ? "io_uring" : "epoll");
	checks_text(f, s);
	for (int i = 0; i < s->nwarnings; i++)
		fprintf(f, "WARNING: %s\n", s->warnings[i]);
}
