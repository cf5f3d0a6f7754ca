/* The preload shim's pieces that do not interpose: what a unit test can
 * call without LD_PRELOAD (tests/unit/shim_*.c). preload.c is the shim. */
#ifndef IRQLAB_SHIM_H
#define IRQLAB_SHIM_H

#include <stdbool.h>
#include <stddef.h>

/* il_mode_from_env names the knob ("busy_poll_usecs: 'x' is not in 0-2147483647");
 * the user wrote a variable, so the message names that instead
 * ("IRQLAB_BUSY_POLL_USECS: 'x' is not in 0-2147483647"). A message that does not
 * start with a knob name comes back as "invalid IRQLAB_* settings: ...". */
void shim_env_error(const char *err, char *out, size_t len);

/* IRQLAB_NAPI_OWNER=PID/FD: the process that applied the NAPI settings and
 * the fd of its guard pipe. false when v is absent or malformed. */
bool shim_owner_parse(const char *v, int *pid, int *fd);

#endif
