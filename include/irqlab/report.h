/* Plots and the markdown report from result rows (result.h), whoever made
 * them: `irqlab bench` (measured), irqlab-sim (simulated), or `irqlab
 * report` reading results.json files back. One series is one (mode, source)
 * pair; its points are the open-loop targets; a point's value is the median
 * over its repetitions, with min..max as error bars. */
#ifndef IRQLAB_REPORT_H
#define IRQLAB_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "irqlab/result.h"

/* Median, min and max of one numeric field (offsetof(struct il_result, f))
 * over the rows of (mode, source, kind, target); unknown values skipped. */
struct il_stat { double med, min, max; int n; };
struct il_stat il_rows_stat(const struct il_result *rows, int n, const char *mode,
			    const char *source, const char *kind, double target, size_t off);
/* A row of medians of every number; rep = number of repetitions, flagged if
 * any was. Returns -1 when no row matches. */
int il_rows_median(const struct il_result *rows, int n, const char *mode, const char *source,
		   const char *kind, double target, struct il_result *out);

struct il_plot_cfg {
	const char *dir;	/* where plots.gp, plot-N.dat and the PNGs go */
	const char *by;		/* program named in plots.gp's first line */
	const char *context;	/* latency titles: "p99 latency against load (CONTEXT)" */
	const char *cpu_title;
	const char *cpu_ylabel;
};

/* latency-p99.png, latency-p95.png and cpu.png through gnuplot (a child
 * process). Returns the number of PNGs written, -2 when gnuplot is not
 * installed (script and data are still written), -1 on failure; err says why. */
int il_plot(const struct il_plot_cfg *p, const struct il_result *rows, int n,
	    char *err, size_t len);

/* The markdown table of median rows of one kind ("closed" or "open"). */
void il_report_md_rows(FILE *f, const struct il_result *rows, int n, const char *kind);

/* A report.md: the one writer for irqlab bench, irqlab-sim --out and
 * `irqlab report`. Sections in order: title, intro, "## Setup" (if setup),
 * the closed-loop table with the ranking of the modes (and, where measured
 * and simulated rows of one setup meet, model against machine), the
 * open-loop table, the plots (if plots), "## Reading it" (the generic
 * bullets, then reading). intro, setup and reading are markdown, may be
 * NULL.
 *
 * Setups: a mode label "MODE@SETUP" (`irqlab report --tag SETUP`) is MODE
 * run in another setup (e.g. suspend@none: without threaded NAPI); rows
 * are ranked within their (source, setup) group, each against its own
 * base. */
struct il_report_doc {
	const char *title;
	const char *intro;
	const char *setup;
	const char *reading;
	int plots;		/* link latency-p99.png, latency-p95.png, cpu.png */
};
int il_report_md(const char *path, const struct il_report_doc *d,
		 const struct il_result *rows, int n, char *err, size_t len);

/* The closed-loop ranking section alone (what il_report_md writes). */
void il_report_ranking(FILE *f, const struct il_result *rows, int n);

/* A whole output directory (made if missing): results.json, results.csv,
 * the plots and report.md. Returns the number of PNGs (3), 0 when there are
 * none (err says why: no open-loop rows, or gnuplot not installed), -1 on
 * failure (err). d->plots is set from what was drawn. */
int il_report_dir_doc(const struct il_plot_cfg *p, const struct il_report_doc *d,
		      const struct il_result *rows, int n, char *err, size_t len);
/* The same with a title and an intro only. */
int il_report_dir(const struct il_plot_cfg *p, const char *title, const char *intro,
		  const struct il_result *rows, int n, char *err, size_t len);

/* Appends the rows of a results.json file (bench's, irqlab-sim's, this
 * writer's) to *rows (malloc'd, *n rows); with tag, each mode becomes
 * "MODE@tag". Every row must have a mode, a source and a kind (open or
 * closed). 0, or -1 with "FILE: why" in err. */
int il_report_read(const char *path, const char *tag, struct il_result **rows, int *n,
		   char *err, size_t len);

/* mkdir -p; 0 or -1 with errno. */
int il_mkdir_p(const char *dir);

#endif
