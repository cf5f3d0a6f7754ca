/* The published setups the model is fitted on, with their figures. */
#ifndef IRQLAB_SIM_CALIB_H
#define IRQLAB_SIM_CALIB_H

#include "experiment.h"
#include "irqlab/result.h"

struct calib_row {
	const char *name;	/* setup label */
	const char *source;	/* thesis / cover letter */
	const char *config;	/* config text on top of the machine's base */
	const char *base;	/* machine base config text */
	/* published figures, NAN where not published */
	double qps, ipc, user, sys, softirq, cpu_busy, p99_us;
	double exits, tig;	/* VM exits/s, time in guest % */
	bool busy_shares;	/* CPU shares are of busy time (sum to 100) */
};

extern const struct calib_row calib_rows[];
extern const int calib_nrows;

/* The index of the setup called name, or -1. */
int calib_find(const char *name);

/* Builds row i's experiment; sim_time_s > 0 overrides the run time. */
int calib_experiment(int i, struct experiment *e, double sim_time_s,
		     char *err, size_t errlen);

/* Overrides applied to every row: "key=value", or "SOURCE:key=value" for
 * the rows of one source (thesis, cover, vm, did; used when fitting). */
void calib_set_overrides(char **sets, int n);

/* Runs every row, prints published vs simulated with % error, returns the
 * number of QPS/CPU figures outside tol_pct (and order violations). */
int calib_run(FILE *out, double sim_time_s, double tol_pct, int json);

#endif
