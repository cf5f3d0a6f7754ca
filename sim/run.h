/* The runs of one irqlab-sim command line (run.c). */
#ifndef IRQLAB_SIM_RUN_H
#define IRQLAB_SIM_RUN_H

#include "experiment.h"
#include "opts.h"

/* One run per (mode, rate) on top of base: the table, JSON or CSV on
 * stdout, --out's directory. Returns the exit status (0, 1 --out failed,
 * 2 bad experiment). */
int sim_run_all(const struct sim_opts *o, const struct experiment *base);

#endif
