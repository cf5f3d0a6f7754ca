/* irqlab-sim: command line. Parses the options (opts.c), builds the
 * experiment (config file, then overrides) and does what was asked: runs
 * (run.c), calibration (calib.c), speed (speed.c), or help. */
#include <stdio.h>
#include <string.h>

#include "calib.h"
#include "opts.h"
#include "run.h"
#include "sim.h"
#include "speed.h"

static int calib_config(const char *name)
{
	struct experiment e;
	char err[256];
	int i = calib_find(name);

	if (i < 0) {
		fprintf(stderr, "irqlab-sim: --calib-config: no setup '%s' (see --calibrate)\n",
			name);
		return 2;
	}
	if (calib_experiment(i, &e, 0, err, sizeof(err))) {
		fprintf(stderr, "irqlab-sim: %s\n", err);
		return 2;
	}
	experiment_write(stdout, &e);
	return 0;
}

static int calibrate(struct sim_opts *o)
{
	char *sets[SIM_MAX_SETS];

	for (int i = 0; i < o->nsets; i++)
		sets[i] = o->sets[i];
	calib_set_overrides(sets, o->nsets);
	int bad = calib_run(stdout, o->calib_time, o->tol, o->json);
	return bad < 0 ? 2 : bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	static struct sim_opts o;	/* 60 KB of lists: not on the stack */
	struct experiment e;
	char err[512];

	if (sim_opts_parse(argc, argv, &o, err, sizeof(err))) {
		fprintf(stderr, "irqlab-sim: %s\n", err);
		return 2;
	}
	switch (o.action) {
	case ACT_HELP:
		sim_usage(stdout);
		return 0;
	case ACT_HELP_CONFIG:
		experiment_keys_help(stdout);
		return 0;
	case ACT_CALIB_CONFIG:
		return calib_config(o.calib_config);
	case ACT_CALIBRATE:
		return calibrate(&o);
	case ACT_BENCH:
		if (sim_speed(stdout, o.nmodes ? o.modes[0] : "suspend", err, sizeof(err))) {
			fprintf(stderr, "irqlab-sim: %s\n", err);
			return 2;
		}
		return 0;
	case ACT_RUN:
		break;
	}
	if (sim_opts_experiment(&o, &e, err, sizeof(err))) {
		fprintf(stderr, "irqlab-sim: %s\n", err);
		return 2;
	}
	return sim_run_all(&o, &e);
}
