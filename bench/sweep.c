/* The experiment: for each mode, the closed-loop maximum (repeated); then,
 * at fractions of the smallest of those maxima, an open-loop sweep for each
 * mode (each point repeated). Noisy runs are repeated, then kept flagged. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irqlab/clock.h"
#include "irqlab/report.h"
#include "bench.h"

static int push(struct sweep *s, const struct il_result *r)
{
	if (s->n == s->cap) {
		int cap = s->cap ? 2 * s->cap : 64;
		struct il_result *p = realloc(s->rows, (size_t)cap * sizeof(*p));
		if (!p)
			return -1;
		s->rows = p;
		s->cap = cap;
	}
	s->rows[s->n++] = *r;
	return 0;
}

static void flag(struct il_result *r, const char *why)
{
	size_t l = strlen(r->note);

	r->flagged = 1;
	snprintf(r->note + l, sizeof(r->note) - l, "%s%s", l ? "; " : "", why);
}

static int point(const struct bench_cfg *c, const struct bench_ops *ops, struct sweep *s,
		 int mode, const char *kind, double target, int rep, char *err, size_t len)
{
	struct run_spec spec = { mode, kind, target, rep };
	struct il_result r;
	char what[96];

	snprintf(what, sizeof(what), "%s %s %s", bench_mode_label(c, mode), kind,
		 target > 0 ? "point" : "max");
	for (int attempt = 0;; attempt++) {
		progress(s, what);
		il_result_init(&r);
		snprintf(r.mode, sizeof(r.mode), "%s", bench_mode_label(c, mode));
		snprintf(r.kind, sizeof(r.kind), "%s", kind);
		snprintf(r.source, sizeof(r.source), "measured");
		snprintf(r.server, sizeof(r.server), "%s", strcmp(c->server, "kv") ? c->server : "irqlab-kv");
		r.rep = rep;
		r.target_qps = target;
		if (ops->run(ops->ctx, &spec, &r, err, len))
			return -1;
		/* The machine is shared: a run during which others took a
		 * noticeable share of the CPU is repeated, then kept flagged. */
		if (!(r.noise_cpu > c->noise_limit))
			break;
		if (attempt >= c->noise_retries) {
			if (!r.note[0])
				snprintf(r.note, sizeof(r.note), "noise %d%%", (int)r.noise_cpu);
			r.flagged = 1;
			break;
		}
		s->planned++;
		s->done++;
		r.note[0] = 0;
	}
	if (!strcmp(kind, "open") && r.qps < 0.9 * target)
		flag(&r, "missed target");
	if (r.errors > 0)
		flag(&r, "errors");
	s->done++;
	return push(s, &r);
}

static int phase(const struct bench_cfg *c, const struct bench_ops *ops, struct sweep *s,
		 int mode, int open, char *err, size_t len)
{
	int rc = 0;

	if (ops->mode_begin(ops->ctx, mode, err, len))
		return -1;
	if (!open) {
		for (int rep = 0; rep < c->reps && !rc && !bench_stop; rep++)
			rc = point(c, ops, s, mode, "closed", 0, rep, err, len);
	} else {
		for (int p = 0; p < s->npoints && !rc && !bench_stop; p++)
			for (int rep = 0; rep < c->reps && !rc && !bench_stop; rep++)
				rc = point(c, ops, s, mode, "open", s->points[p], rep, err, len);
	}
	ops->mode_end(ops->ctx, mode);
	if (!rc && bench_stop) {
		snprintf(err, len, "interrupted");
		rc = -1;
	}
	return rc;
}

int sweep_run(const struct bench_cfg *c, const struct bench_ops *ops,
	      struct sweep *s, char *err, size_t len)
{
	memset(s, 0, sizeof(*s));
	s->planned = c->nmodes * c->reps * (1 + (c->nrates ? c->nrates : c->npoints));
	s->t_start = il_now_s();
	for (int m = 0; m < c->nmodes; m++)
		if (phase(c, ops, s, m, 0, err, len))
			return -1;
	s->max_qps = INFINITY;
	for (int m = 0; m < c->nmodes; m++) {
		struct il_stat q = sweep_stat(s, bench_mode_label(c, m), "closed", 0,
					    offsetof(struct il_result, qps));
		if (q.n && q.med < s->max_qps)
			s->max_qps = q.med;
	}
	if (!isfinite(s->max_qps) || s->max_qps <= 0) {
		snprintf(err, len, "no closed-loop run reached any throughput");
		return -1;
	}
	/* --rates: absolute targets; else fractions of the smallest maximum */
	s->npoints = c->nrates ? c->nrates : c->npoints;
	for (int i = 0; i < s->npoints; i++)
		s->points[i] = c->nrates ? round(c->rates[i]) : round(c->fracs[i] * s->max_qps);
	for (int m = 0; m < c->nmodes && s->npoints; m++)
		if (phase(c, ops, s, m, 1, err, len))
			return -1;
	progress_done();
	return 0;
}

void sweep_free(struct sweep *s)
{
	free(s->rows);
	memset(s, 0, sizeof(*s));
}

/* bench's rows are all measured: the statistics are report.h's. */
struct il_stat sweep_stat(const struct sweep *s, const char *mode, const char *kind,
			  double target, size_t off)
{
	return il_rows_stat(s->rows, s->n, mode, "measured", kind, target, off);
}

int sweep_median_row(const struct sweep *s, const char *mode, const char *kind,
		     double target, struct il_result *out)
{
	return il_rows_median(s->rows, s->n, mode, "measured", kind, target, out);
}
