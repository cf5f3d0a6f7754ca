/* Regression of the calibration table: every published QPS and CPU figure
 * within 10% (CPU shares: or 1 point), published order kept. Short runs
 * (20 ms simulated each) so the test takes about a second. */
#include <stdio.h>

#include "../../sim/calib.h"
#include "../../sim/sim.h"
#include "tap.h"

int main(void)
{
	FILE *f = tmpfile();
	char line[256];

	if (!f)
		tap_skip_all("no tmpfile");
	int bad = calib_run(f, 0.02, 10, 0);
	rewind(f);
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "outside") || strstr(line, "order"))
			tap_diag("%s", line);
	fclose(f);
	is_int(bad, 0, "calibration: all figures within tolerance, order kept");

	struct experiment e;
	char err[256];
	for (int i = 0; i < calib_nrows; i++)
		ok(calib_experiment(i, &e, 0.01, err, sizeof(err)) == 0,
		   "setup %s builds", calib_rows[i].name);
	return tap_done();
}
