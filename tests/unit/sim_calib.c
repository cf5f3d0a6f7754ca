/* Regression of the calibration table. Bare metal: every published QPS and
 * CPU figure within 10% (CPU shares: or 1 point), published order kept.
 * VM rows: the orders kept, and no more figures outside 10% than the known
 * misses docs/sim.md lists (so a change that makes them worse fails).
 * Short runs (20 ms simulated each) so the test takes about a second. */
#include <stdio.h>
#include <string.h>

#include "../../sim/calib.h"
#include "../../sim/sim.h"
#include "tap.h"

/* docs/sim.md, "Calibration": SR-IOV no coalescing QPS, the user shares of
 * both VirtIO rows and the VirtIO suspend softirq share; in these 20 ms
 * runs also the VirtIO no-coalescing softirq share (+9.9% at 0.3 s, about
 * +11.5% at 20 ms). */
#define VM_KNOWN_MISSES 5

int main(void)
{
	FILE *f = tmpfile();
	char line[256], row[64] = "";
	int bare_out = 0, vm_out = 0, orders = 0;

	if (!f)
		tap_skip_all("no tmpfile");
	calib_run(f, 0.02, 10, 0);
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "order:", 6)) {
			orders++;
			tap_diag("%s", line);
		} else if (line[0] != ' ') {
			sscanf(line, "%63s", row);
		} else if (strstr(line, "outside")) {
			bool vm = !strncmp(row, "vm-", 3) || !strncmp(row, "did-", 4);
			vm ? vm_out++ : bare_out++;
			tap_diag("%s:%s", row, line);
		}
	}
	fclose(f);
	is_int(bare_out, 0, "bare metal: every QPS and CPU figure within tolerance");
	is_int(orders, 0, "published orders kept (bare metal and VM)");
	ok(vm_out <= VM_KNOWN_MISSES, "VM: %d figure(s) outside 10%%, at most the %d "
	   "known misses", vm_out, VM_KNOWN_MISSES);

	struct experiment e;
	char err[256];
	for (int i = 0; i < calib_nrows; i++)
		ok(calib_experiment(i, &e, 0.01, err, sizeof(err)) == 0,
		   "setup %s builds", calib_rows[i].name);
	return tap_done();
}
