/* irqlab-sim's command line: parsed into a struct, errors returned as one
 * line naming the option (irqlab/opt.h), nothing printed or exited here, so
 * option handling is unit-tested (tests/unit/sim_opts.c). main.c acts on
 * the result. */
#ifndef IRQLAB_SIM_OPTS_H
#define IRQLAB_SIM_OPTS_H

#include <stddef.h>
#include <stdio.h>

#include "experiment.h"

#define SIM_MAX_MODES 16
#define SIM_MAX_RATES 64
#define SIM_MAX_SETS 128

enum sim_action {
	ACT_RUN,		/* run (or, with print, print) the experiments */
	ACT_HELP,
	ACT_HELP_CONFIG,
	ACT_CALIB_CONFIG,	/* print one calibration setup */
	ACT_CALIBRATE,
	ACT_BENCH,
};

struct sim_opts {
	enum sim_action action;
	const char *config, *out, *calib_config;
	int json, csv, print;
	/* --mode and --qps lists: one run per (mode, rate) */
	char modes[SIM_MAX_MODES][128];
	int nmodes;
	double qps[SIM_MAX_RATES];
	int nqps;
	/* "section.key=value" overrides in command-line order (shortcuts such
	 * as --cores and --time become these), applied after --config */
	char sets[SIM_MAX_SETS][320];
	int nsets;
	double calib_time, tol;
	char cmdline[1024];	/* quoted in --out's report.md */
};

/* Parses argv (getopt_long; restarts it). Returns 0, or -1 with err set
 * (exit status 2). */
int sim_opts_parse(int argc, char **argv, struct sim_opts *o, char *err,
		   size_t errlen);

/* The experiment every run starts from: defaults, --config, then each
 * override in order. Unchecked: experiment_finish comes per run. */
int sim_opts_experiment(const struct sim_opts *o, struct experiment *e,
			char *err, size_t errlen);

void sim_usage(FILE *f);

#endif
