/* The runs of one command line: one experiment per (--mode, --qps rate),
 * every one checked before the first runs (a bad combination fails fast),
 * then the rows as a table while they come, or JSON / CSV at the end, and
 * --out's directory through the shared report code (irqlab/report.h), as
 * `irqlab bench` writes it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irqlab/report.h"
#include "run.h"
#include "sim.h"

/* The experiments: the base with each mode and rate applied, finished. */
static int prepare(const struct sim_opts *o, const struct experiment *base,
		   struct experiment *ex, int *n, char *err, size_t errlen)
{
	int nm = o->nmodes > 1 ? o->nmodes : 1, nq = o->nqps ? o->nqps : 1;
	char v[64];

	*n = 0;
	for (int m = 0; m < nm; m++) {
		for (int q = 0; q < nq; q++) {
			struct experiment *e = &ex[(*n)++];
			*e = *base;
			if (o->nmodes > 1 &&
			    (experiment_set(e, "mode.spec", o->modes[m], err, errlen) ||
			     experiment_set(e, "experiment.name", o->modes[m], err, errlen)))
				return -1;
			if (o->nqps) {
				snprintf(v, sizeof(v), "%.0f", o->qps[q]);
				if (experiment_set(e, "workload.load", "open", err, errlen) ||
				    experiment_set(e, "workload.qps", v, err, errlen))
					return -1;
			}
			if (experiment_finish(e, err, errlen))
				return -1;
		}
	}
	return 0;
}

/* A VM's figures as a markdown table appended to buf (the shared report
 * has no columns for them). */
static void vm_table(char *buf, size_t len, const struct il_result *rows, int n)
{
	size_t off = strlen(buf);

	if (!n || !isfinite(rows[0].vm_exits_per_s))
		return;
	off += (size_t)snprintf(buf + off, len - off, "\n\nThe virtual machine (one row per "
		"run):\n\n| mode | target | VM exits/s | ext. interrupt | EOI | HLT | kick | "
		"timer | IPI | in guest %% | injected/s | host net CPU %% |\n"
		"|---|---|---|---|---|---|---|---|---|---|---|---|\n");
	for (int i = 0; i < n && off < len; i++) {
		const struct il_result *r = &rows[i];
		off += (size_t)snprintf(buf + off, len - off, "| %s | %.0f | %.0f | %.0f | %.0f | "
			"%.0f | %.0f | %.0f | %.0f | %.1f | %.0f | %.1f |\n", r->mode,
			r->target_qps, r->vm_exits_per_s, r->vm_exits_extint_per_s,
			r->vm_exits_eoi_per_s, r->vm_exits_hlt_per_s, r->vm_exits_io_per_s,
			r->vm_exits_timer_per_s, r->vm_exits_ipi_per_s, r->time_in_guest_pct,
			r->injected_irq_per_s, r->host_net_cpu);
	}
}

/* --out: the files `irqlab bench` writes, from the simulated rows. */
static int write_out(const struct sim_opts *o, const struct experiment *e,
		     const struct il_result *rows, int n)
{
	char ctx[96], intro[8192], err[512];
	struct il_plot_cfg p = {
		.dir = o->out, .by = "irqlab-sim", .context = ctx,
		.cpu_title = "simulated server CPU busy against load (user+sys+softirq)",
		.cpu_ylabel = "server CPU busy (% of all server cores)",
	};

	snprintf(ctx, sizeof(ctx), "simulated, %d server cores, %.1f GHz", e->cores, e->freq_ghz);
	snprintf(intro, sizeof(intro), "Simulated by irqlab-sim (the model in docs/sim.md), not "
		 "measured: %d server cores at %.1f GHz, %g s measured after %g s warm-up, seed "
		 "%llu, one run per point.\n\nCommand: `%s`", e->cores, e->freq_ghz,
		 (double)e->time_ns / 1e9, (double)e->warmup_ns / 1e9,
		 (unsigned long long)e->seed, o->cmdline);
	vm_table(intro, sizeof(intro), rows, n);
	int np = il_report_dir(&p, "irqlab-sim report", intro, rows, n, err, sizeof(err));
	if (np < 0) {
		fprintf(stderr, "irqlab-sim: --out: %s\n", err);
		return 1;
	}
	if (!np)
		fprintf(stderr, "irqlab-sim: %s\n", err);
	fprintf(stderr, "irqlab-sim: wrote %s/results.json, results.csv, report.md%s\n",
		o->out, np ? ", latency-p99.png, latency-p95.png, cpu.png" : "");
	return 0;
}

static void print_rows(const struct sim_opts *o, const struct il_result *rows, int n)
{
	if (o->json) {
		il_result_json(stdout, rows, n);
	} else if (o->csv) {
		il_result_csv_header(stdout);
		for (int i = 0; i < n; i++)
			il_result_csv_row(stdout, &rows[i]);
	}
}

/* Runs them; the table goes out row by row (a long sweep shows progress). */
static int simulate(const struct sim_opts *o, const struct experiment *ex,
		    struct il_result *rows, int n)
{
	for (int i = 0; i < n; i++) {
		if (sim_experiment(&ex[i], &rows[i], NULL)) {
			fprintf(stderr, "irqlab-sim: out of memory\n");
			return 2;
		}
		if (!o->json && !o->csv) {
			if (!i)
				il_result_table_header(stdout);
			il_result_table_row(stdout, &rows[i]);
			fflush(stdout);
		}
	}
	print_rows(o, rows, n);
	return o->out ? write_out(o, &ex[0], rows, n) : 0;
}

int sim_run_all(const struct sim_opts *o, const struct experiment *base)
{
	int cap = (o->nmodes > 1 ? o->nmodes : 1) * (o->nqps ? o->nqps : 1), n, rc;
	struct il_result *rows = calloc((size_t)cap, sizeof(*rows));
	struct experiment *ex = calloc((size_t)cap, sizeof(*ex));
	char err[256];

	if (!rows || !ex) {
		fprintf(stderr, "irqlab-sim: out of memory\n");
		rc = 2;
	} else if (prepare(o, base, ex, &n, err, sizeof(err))) {
		fprintf(stderr, "irqlab-sim: %s\n", err);
		rc = 2;
	} else if (o->print) {
		for (int i = 0; i < n; i++)
			experiment_write(stdout, &ex[i]);
		rc = 0;
	} else if (o->out && il_mkdir_p(o->out)) {
		/* before the runs: a bad --out must not cost them */
		fprintf(stderr, "irqlab-sim: --out: cannot create %s: %m\n", o->out);
		rc = 1;
	} else {
		rc = simulate(o, ex, rows, n);
	}
	free(rows);
	free(ex);
	return rc;
}
