/* The shim's environment handling without LD_PRELOAD: error messages name
 * the variable the user set, and the owner marker is read strictly. */
#include <string.h>

#include "shim/shim.h"
#include "tap.h"

static void env_error(const char *err, const char *want)
{
	char out[256];

	shim_env_error(err, out, sizeof(out));
	ok(strcmp(out, want) == 0, "'%s' -> '%s'", err, out);
}

int main(void)
{
	int pid = 0, fd = 0;

	env_error("busy_poll_usecs: 'abc' is not in 0-2147483647",
		  "IRQLAB_BUSY_POLL_USECS: 'abc' is not in 0-2147483647");
	env_error("wait: 'x' is not one of block, spin",
		  "IRQLAB_WAIT: 'x' is not one of block, spin");
	/* Not a knob name before the colon: the whole message, prefixed. */
	env_error("irq_suspend_timeout needs prefer_busy_poll=1",
		  "invalid IRQLAB_* settings: irq_suspend_timeout needs prefer_busy_poll=1");
	env_error("IRQLAB_MODE: 'fast' is not one of base",
		  "invalid IRQLAB_* settings: IRQLAB_MODE: 'fast' is not one of base");
	env_error("a_knob_name_far_too_long_to_be_any_variable_we_have_xxxxxxxxxx: y",
		  "invalid IRQLAB_* settings: a_knob_name_far_too_long_to_be_any_variable_we_have_xxxxxxxxxx: y");

	ok(shim_owner_parse("1234/7", &pid, &fd) && pid == 1234 && fd == 7,
	   "owner 1234/7 parsed");
	ok(!shim_owner_parse(NULL, &pid, &fd), "no owner variable");
	ok(!shim_owner_parse("1234", &pid, &fd), "owner without fd refused");
	ok(!shim_owner_parse("1234/7x", &pid, &fd), "trailing junk refused");
	ok(!shim_owner_parse("0/7", &pid, &fd), "pid 0 refused");
	ok(!shim_owner_parse("12/-1", &pid, &fd), "negative fd refused");
	return tap_done();
}
