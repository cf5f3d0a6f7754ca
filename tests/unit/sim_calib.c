/* Regression of the calibration table. Every published QPS and CPU figure
 * within 10% (CPU shares: or 1 point), bare metal and VM, and the published
 * orders kept, except the VM misses docs/sim.md ("Calibration", "Not met")
 * lists by name with their reason: each of those is named here with the
 * error it must not exceed, so a new miss fails, and a known one that gets
 * worse fails too. A known miss that comes within 10% is reported (update
 * the list and the docs). Short runs (20 ms simulated each) so the test
 * takes about a second. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../sim/calib.h"
#include "../../sim/sim.h"
#include "tap.h"

/* docs/sim.md, "Calibration": row, figure, the largest |error| (%) allowed.
 * Some are seed- or run-length-dependent (outside in some runs, inside in
 * others): the VirtIO no-coalescing softirq share (+11% in these 20 ms
 * runs, within 10% at 0.5 s), the VirtIO suspend user share (the host
 * NIC's net_dim parks in one of two profiles), the SR-IOV no-coalescing QPS
 * (+8.4..+9.0% in 20 ms to 0.5 s runs, seeds 1-3: near the edge) and the
 * SR-IOV adaptive user share (+8.8..+9.5%, +10.5% before the spread
 * vector's exit stopped charging pen_async). Transmit-completion
 * interrupts (nic.tx_irq, virtio.napi_tx; off in the calibration rows) do
 * not remove any of them: turned on they move the VM rows further off
 * (docs/sim.md, "Transmit completions"), so the list stays as it is. */
static const struct {
	const char *row, *figure;
	double max_err;
} known[] = {
	{ "vm-virtio-aligned", "user%", 20 },
	{ "vm-virtio-aligned", "softirq%", 13 },
	{ "vm-virtio-aligned-suspend", "user%", 25 },
	{ "vm-virtio-aligned-suspend", "softirq%", 100 },
	{ "vm-sriov", "qps", 13 },
	{ "vm-sriov", "sys%", 19 },
	{ "vm-sriov", "softirq%", 19 },
	{ "vm-sriov-adaptive", "user%", 13 },
};
#define NKNOWN (int)(sizeof(known) / sizeof(known[0]))
static int seen[NKNOWN];

static int known_miss(const char *row, const char *figure, double err)
{
	for (int i = 0; i < NKNOWN; i++)
		if (!strcmp(known[i].row, row) && !strcmp(known[i].figure, figure)) {
			seen[i] = 1;
			return fabs(err) <= known[i].max_err ? i : -2;
		}
	return -1;
}

int main(void)
{
	FILE *f = tmpfile();
	char line[256], row[64] = "";
	int bare_out = 0, vm_new = 0, vm_worse = 0, vm_known = 0, orders = 0;

	if (!f)
		tap_skip_all("no tmpfile");
	calib_run(f, 0.02, 10, 0);
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		char fig[32];
		double pub, sim, err;

		if (!strncmp(line, "order:", 6)) {
			orders++;
			tap_diag("%s", line);
		} else if (line[0] != ' ') {
			sscanf(line, "%63s", row);
		} else if (strstr(line, "outside")) {
			bool vm = !strncmp(row, "vm-", 3) || !strncmp(row, "did-", 4);
			if (sscanf(line, " %31s %lf %lf %lf", fig, &pub, &sim, &err) != 4)
				err = NAN;	/* "n/a": a published zero */
			if (isnan(err))
				err = -100;
			if (!vm) {
				bare_out++;
				tap_diag("%s:%s", row, line);
				continue;
			}
			int k = known_miss(row, fig, err);
			if (k >= 0) {
				vm_known++;
				tap_diag("known miss (docs/sim.md) %s:%s", row, line);
			} else if (k == -2) {
				vm_worse++;
				tap_diag("known miss got worse %s:%s", row, line);
			} else {
				vm_new++;
				tap_diag("new miss %s:%s", row, line);
			}
		}
	}
	fclose(f);
	is_int(bare_out, 0, "bare metal: every QPS and CPU figure within tolerance");
	is_int(orders, 0, "published orders kept (bare metal and VM)");
	is_int(vm_new, 0, "VM: no figure outside 10% but the documented misses");
	is_int(vm_worse, 0, "VM: no documented miss beyond its documented error");
	for (int i = 0; i < NKNOWN; i++)
		if (!seen[i])
			tap_diag("documented miss %s %s is within 10%% in this run (seed-"
				 "dependent, or fixed: then update the list and docs/sim.md)",
				 known[i].row, known[i].figure);
	tap_diag("%d documented VM miss(es) outside 10%% in this run", vm_known);

	struct experiment e;
	char err[256];
	for (int i = 0; i < calib_nrows; i++)
		ok(calib_experiment(i, &e, 0.01, err, sizeof(err)) == 0,
		   "setup %s builds", calib_rows[i].name);
	return tap_done();
}
