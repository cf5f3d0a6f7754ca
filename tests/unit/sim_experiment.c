/* The experiment description: config file format, overrides, errors that
 * name the key and its range, round trip through the writer. */
#include <stdio.h>
#include <string.h>

#include "../../sim/experiment.h"
#include "tap.h"

int main(void)
{
	struct experiment e, f;
	char err[256];

	experiment_defaults(&e);
	ok(experiment_finish(&e, err, sizeof(err)) == 0, "defaults are valid");
	is_str(e.mode.name, "base", "default mode is base");

	const char *cfg =
		"# a comment\n"
		"[machine]\ncores = 4   # trailing comment\nfreq_ghz = 2.5\n"
		"[nic]\nqueues = 4\ncoalesce = adaptive\nrx_usecs = 8\n"
		"[mode]\nspec = suspend\nirq_suspend_timeout = 5ms\n"
		"[workload]\nload = open\nqps = 123456\nia = fb_ia\n"
		"[run]\ntime = 0.5\nwarmup = 10ms\nseed = 7\n"
		"[cost]\npen_async = 1234\n";
	ok(experiment_load_string(&e, cfg, "cfg", err, sizeof(err)) == 0, "config parses");
	ok(experiment_finish(&e, err, sizeof(err)) == 0, "and is valid");
	is_int(e.cores, 4, "machine.cores");
	ok(e.freq_ghz == 2.5, "machine.freq_ghz");
	is_int(e.coalesce, COAL_ADAPTIVE, "nic.coalesce by name");
	is_int(e.rx_usecs, 8000, "nic.rx_usecs bare number is us");
	is_int(e.mode.irq_suspend_timeout, 5000000, "mode knob after the spec (5ms)");
	is_int(e.mode.defer_hard_irqs, 100, "rest of the suspend preset kept");
	is_int(e.time_ns, 500000000, "run.time 0.5 (seconds)");
	is_int(e.warmup_ns, 10000000, "run.warmup 10ms");
	is_int(e.seed, 7, "run.seed");
	ok(e.cost.pen_async == 1234, "cost.pen_async");
	ok(e.load == LOAD_OPEN && e.qps == 123456, "open loop at 123456/s");
	ok(e.ia.scale > 0 || e.ia.p[1] > 0, "inter-arrivals rescaled");

	/* round trip */
	char *buf = NULL;
	size_t len = 0;
	FILE *mf = open_memstream(&buf, &len);
	experiment_write(mf, &e);
	fclose(mf);
	experiment_defaults(&f);
	ok(experiment_load_string(&f, buf, "written", err, sizeof(err)) == 0 &&
	   experiment_finish(&f, err, sizeof(err)) == 0, "written config reads back");
	ok(f.cores == e.cores && f.rx_usecs == e.rx_usecs &&
	   f.mode.irq_suspend_timeout == e.mode.irq_suspend_timeout &&
	   f.cost.pen_async == e.cost.pen_async && f.qps == e.qps &&
	   f.time_ns == e.time_ns && f.seed == e.seed && !strcmp(f.ia_spec, e.ia_spec),
	   "round trip keeps every value checked");
	free(buf);

	/* errors */
	experiment_defaults(&e);
	ok(experiment_set(&e, "machine.cores", "0", err, sizeof(err)) == -1 &&
	   strstr(err, "machine.cores") && strstr(err, "1-256"),
	   "cores 0 refused, message names key and range: %s", err);
	ok(experiment_set(&e, "nic.coalesce", "sometimes", err, sizeof(err)) == -1 &&
	   strstr(err, "static, adaptive or itr"), "bad enum lists the choices: %s", err);
	ok(experiment_set(&e, "nope.key", "1", err, sizeof(err)) == -1 &&
	   strstr(err, "nope.key"), "unknown key named: %s", err);
	ok(experiment_set(&e, "mode.defer_hard_irqs", "-3", err, sizeof(err)) == -1 &&
	   strstr(err, "defer_hard_irqs"), "bad mode knob refused: %s", err);
	ok(experiment_set(&e, "cores", "2", err, sizeof(err)) == 0 && e.cores == 2,
	   "a unique bare key works");
	ok(experiment_load_string(&e, "cores = 2\n", "x.conf", err, sizeof(err)) == -1 &&
	   strstr(err, "x.conf:1"), "key outside a section: file and line: %s", err);
	ok(experiment_load_string(&e, "[nic\n", "x.conf", err, sizeof(err)) == -1 &&
	   strstr(err, "x.conf:1"), "bad section header: %s", err);
	experiment_defaults(&e);
	experiment_set(&e, "nic.queues", "16", err, sizeof(err));
	ok(experiment_finish(&e, err, sizeof(err)) == -1 && strstr(err, "nic.queues"),
	   "more queues than cores refused: %s", err);
	experiment_defaults(&e);
	experiment_set(&e, "mode.spec", "base,irq_suspend_timeout=1ms", err, sizeof(err));
	ok(experiment_finish(&e, err, sizeof(err)) == -1 && strstr(err, "prefer_busy_poll"),
	   "suspend without prefer_busy_poll refused: %s", err);
	experiment_defaults(&e);
	experiment_set(&e, "nic.affinity", "packed", err, sizeof(err));
	ok(experiment_finish(&e, err, sizeof(err)) == -1 && strstr(err, "nic.affinity"),
	   "packed with as many queues as cores refused: %s", err);
	ok(experiment_load(&e, "/nonexistent/x.conf", err, sizeof(err)) == -1 &&
	   strstr(err, "/nonexistent/x.conf"), "missing file named: %s", err);
	return tap_done();
}
