/* --bench: simulator speed, median of three runs, in events per CPU-second,
 * next to the bare event queue measured in the same run. */
#ifndef IRQLAB_SIM_SPEED_H
#define IRQLAB_SIM_SPEED_H

#include <stddef.h>
#include <stdio.h>

/* Prints three lines to out; 0, or -1 with err. */
int sim_speed(FILE *out, const char *mode, char *err, size_t errlen);

#endif
