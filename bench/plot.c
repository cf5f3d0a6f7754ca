/* bench's plots: p95 and p99 latency against achieved QPS and server CPU
 * against achieved QPS, one line per mode. The drawing is lib/report.c's
 * (irqlab-sim and `irqlab report` use the same); bench adds its titles. */
#include <stdio.h>

#include "irqlab/report.h"
#include "bench.h"

int plot_all(const struct bench_cfg *c, const struct sweep *s, char *err, size_t len)
{
	char ctx[96];
	struct il_plot_cfg p = {
		.dir = c->out_dir,
		.by = "irqlab bench",
		.context = ctx,
		.cpu_title = "server CPU busy against load (user+sys+softirq)",
		.cpu_ylabel = "server CPU busy (% of one core)",
	};

	snprintf(ctx, sizeof(ctx), "%s, veth, threaded NAPI: %s", c->server, c->napi_thread);
	return il_plot(&p, s->rows, s->n, err, len);
}
