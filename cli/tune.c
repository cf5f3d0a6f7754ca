/* `irqlab tune`: the cheapest settings that meet a latency target; the
 * work is in tune/ (tune/tune.h). */
#include "cli.h"
#include "tune/tune.h"

int cmd_tune(int argc, char **argv)
{
	return tune_main(argc, argv);
}
