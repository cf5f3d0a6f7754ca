/* The sweep logic against a test double: the order of server starts and
 * runs, open-loop targets at fractions of the smallest closed-loop median,
 * noisy runs repeated then flagged, missed targets flagged, medians. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "../bench/bench.h"
#include "tap.h"

struct fake {
	char log[4096];
	int runs;
	int noisy_left[BENCH_MAX_MODES];	/* noisy runs still to hand out */
	int fail_begin;				/* mode whose server fails, -1 */
};

static const double max_qps[] = { 1000, 800, 1200 };

static int f_begin(void *ctx, int mode, char *err, size_t len)
{
	struct fake *f = ctx;

	snprintf(f->log + strlen(f->log), sizeof(f->log) - strlen(f->log), "B%d ", mode);
	if (mode == f->fail_begin) {
		snprintf(err, len, "server would not start");
		return -1;
	}
	return 0;
}

static void f_end(void *ctx, int mode)
{
	struct fake *f = ctx;

	snprintf(f->log + strlen(f->log), sizeof(f->log) - strlen(f->log), "E%d ", mode);
}

static int f_run(void *ctx, const struct run_spec *s, struct il_result *r, char *err, size_t len)
{
	struct fake *f = ctx;

	(void)err;
	(void)len;
	f->runs++;
	snprintf(f->log + strlen(f->log), sizeof(f->log) - strlen(f->log), "%c%d ",
		 s->kind[0], s->rep);
	/* closed loop: the mode's maximum, a little spread over reps */
	if (!strcmp(s->kind, "closed"))
		r->qps = max_qps[s->mode] + 10 * s->rep;
	else	/* mode 2 cannot keep up beyond 500 QPS */
		r->qps = s->mode == 2 && s->target_qps > 500 ? 500 : s->target_qps;
	r->p99_us = 100 + s->rep;
	r->cpu_idle = 50 - s->rep;
	r->errors = 0;
	r->noise_cpu = 1;
	if (f->noisy_left[s->mode] > 0) {
		f->noisy_left[s->mode]--;
		r->noise_cpu = 50;
	}
	return 0;
}

/* Three modes, three reps, two open-loop points, one retry for noise. */
static void setup_cfg(struct bench_cfg *c)
{
	bench_defaults(c);
	c->nmodes = 3;
	strcpy(c->modes[0], "base");
	strcpy(c->modes[1], "defer");
	strcpy(c->modes[2], "suspend");
	c->reps = 3;
	c->npoints = 2;
	c->fracs[0] = 0.25;
	c->fracs[1] = 0.75;
	c->noise_limit = 15;
	c->noise_retries = 1;
}

/* The full sweep: order of starts and runs, row count, targets. */
static void test_sweep_order(const struct bench_cfg *c, const struct bench_ops *ops,
			     struct fake *f, struct sweep *s)
{
	const char *want = "B0 c0 c1 c2 E0 B1 c0 c0 c1 c2 E1 B2 c0 c0 c1 c2 E2 B0 o0 o1 o2 o0 o1 o2 E0 ";
	char err[256];

	memset(f, 0, sizeof(*f));
	f->fail_begin = -1;
	f->noisy_left[1] = 1;	/* defer: one noisy run, repeated once, then clean */
	f->noisy_left[2] = 2;	/* suspend: first closed run noisy twice: kept flagged */
	ok(sweep_run(c, ops, s, err, sizeof(err)) == 0, "sweep runs");
	ok(strncmp(f->log, want, strlen(want)) == 0,
	   "closed loop per mode first, the noisy run repeated, then the sweep per mode");
	tap_diag("%.100s", f->log);
	ok(s->n == 3 * 3 + 3 * 2 * 3, "one row per kept run (%d)", s->n);
	ok(f->runs == s->n + 2, "two runs repeated for noise, the second noise not again (%d runs)", f->runs);
	ok(fabs(s->max_qps - 810) < 1e-9, "maximum is the smallest closed-loop median (%.0f)", s->max_qps);
	ok(fabs(s->points[0] - round(0.25 * 810)) < 1e-9 && fabs(s->points[1] - round(0.75 * 810)) < 1e-9,
	   "targets at fractions of it (%.0f, %.0f)", s->points[0], s->points[1]);
}

static void test_medians(const struct sweep *s)
{
	struct il_stat q = sweep_stat(s, "base", "closed", 0, offsetof(struct il_result, qps));
	struct il_result r;

	ok(q.n == 3 && q.med == 1010 && q.min == 1000 && q.max == 1020, "median/min/max over reps");
	ok(sweep_median_row(s, "base", "closed", 0, &r) == 0 && r.qps == 1010 && r.p99_us == 101 &&
	   r.rep == 3 && !r.flagged, "median row of a clean point");
	ok(sweep_median_row(s, "nope", "closed", 0, &r) == -1, "no row for an unknown mode");
}

/* Noisy and missed-target runs flagged with their reason, clean ones not. */
static void test_flags(const struct sweep *s)
{
	int flagged_noise = 0, flagged_defer = 0, missed = 0;
	struct il_result r;

	for (int i = 0; i < s->n; i++) {
		const struct il_result *row = &s->rows[i];

		if (!strcmp(row->mode, "suspend") && !strcmp(row->kind, "closed") && row->rep == 0)
			flagged_noise = row->flagged && strstr(row->note, "noise 50%") != NULL;
		if (!strcmp(row->mode, "defer"))
			flagged_defer |= row->flagged;
		if (!strcmp(row->mode, "suspend") && row->target_qps == s->points[1])
			missed += row->flagged && strstr(row->note, "missed target") != NULL;
		if (strcmp(row->source, "measured") || strcmp(row->server, "irqlab-kv"))
			flagged_noise = -100;
	}
	ok(flagged_noise == 1, "a run still noisy after the retries is kept, flagged, with the reason");
	ok(!flagged_defer, "a noisy run that was repeated cleanly leaves no flag");
	ok(missed == 3, "open-loop runs that miss their target are flagged");
	ok(sweep_median_row(s, "suspend", "closed", 0, &r) == 0 && r.flagged,
	   "a median row is flagged when one of its reps is");
}

/* A failing server stops the sweep; no points means closed loop only. */
static void test_stop_and_closed_only(struct bench_cfg *c, const struct bench_ops *ops,
				      struct fake *f, struct sweep *s)
{
	char err[256];

	memset(f, 0, sizeof(*f));
	f->fail_begin = 1;
	ok(sweep_run(c, ops, s, err, sizeof(err)) == -1 && strstr(err, "would not start"),
	   "a server that fails stops the sweep with its reason");
	ok(strstr(f->log, "B2") == NULL, "and nothing runs after it");
	sweep_free(s);

	c->npoints = 0;
	memset(f, 0, sizeof(*f));
	f->fail_begin = -1;
	ok(sweep_run(c, ops, s, err, sizeof(err)) == 0 && s->n == 9 && !strstr(f->log, "o0"),
	   "no points: closed loop only");
	sweep_free(s);
}

/* open loop at a target the mode cannot sustain: flagged */
static void test_backlog(void)
{
	struct il_result r;

	il_result_init(&r);
	r.target_qps = 68000;
	r.p50_us = 138000;
	run_flag_backlog(&r, 900);
	ok(r.flagged && strstr(r.note, "backlog grew"), "growing backlog flagged: %s", r.note);
	il_result_init(&r);
	r.target_qps = 68000;
	r.p50_us = 180;
	run_flag_backlog(&r, 900);
	ok(!r.flagged, "a short corrected p50 is not flagged");
	il_result_init(&r);
	r.p50_us = 138000;
	run_flag_backlog(&r, 900);
	ok(!r.flagged, "closed loop (no target) is never flagged for backlog");
}

int main(void)
{
	struct bench_cfg c;
	struct fake f;
	struct bench_ops ops = { f_begin, f_end, f_run, &f };
	struct sweep s;

	setup_cfg(&c);
	test_sweep_order(&c, &ops, &f, &s);
	test_medians(&s);
	test_flags(&s);
	sweep_free(&s);
	test_stop_and_closed_only(&c, &ops, &f, &s);
	test_backlog();
	return tap_done();
}
