/* The objective: --qps N or --max-qps, --slo pXX<=T, --cpu<=N. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irqlab/opt.h"
#include "tune.h"

const char *const tune_pct_names[PCT_N] = { "p50", "p95", "p99", "p999" };

int tune_parse_slo(const char *s, struct tune_objective *o, char *err, size_t len)
{
	char name[8];
	size_t i = 0;
	uint64_t ns;

	while (s[i] && s[i] != '<' && i < sizeof(name) - 1) {
		name[i] = s[i];
		i++;
	}
	name[i] = '\0';
	int p = -1;
	for (int k = 0; k < PCT_N; k++)
		if (!strcmp(name, tune_pct_names[k]))
			p = k;
	const char *v = s + i;
	if (*v == '<')
		v += v[1] == '=' ? 2 : 1;
	else
		v = NULL;
	/* 100 s is far above anything a server would call a latency target */
	if (p < 0 || !v || il_parse_time_ns(v, 1000, &ns) || ns < 1000 || ns > 100000000000ULL) {
		snprintf(err, len, "--slo: '%s' is not PCT<=TIME with PCT one of p50, p95, p99, "
			 "p999 and TIME in 1us..100s (e.g. p99<=200us)", s);
		return -1;
	}
	o->pct = (enum tune_pct)p;
	o->slo_us = (double)ns / 1e3;
	return 0;
}

int tune_parse_cpu(const char *s, struct tune_objective *o, char *err, size_t len)
{
	if (s[0] == '<')
		s += s[1] == '=' ? 2 : 1;
	if (*s == '=')
		s++;
	char buf[32];
	snprintf(buf, sizeof(buf), "%s", s);
	size_t l = strlen(buf);
	if (l && buf[l - 1] == '%')
		buf[l - 1] = '\0';
	return il_opt_num("--cpu", buf, 1, 100, 0, &o->cpu_cap, err, len);
}

void tune_objective_str(const struct tune_objective *o, char *buf, size_t len)
{
	int n;

	if (o->goal == GOAL_MIN_CPU)
		n = snprintf(buf, len, "least server CPU with %s <= %g us at %.0f req/s",
			     tune_pct_names[o->pct], o->slo_us, o->qps);
	else
		n = snprintf(buf, len, "highest rate with %s <= %g us", tune_pct_names[o->pct],
			     o->slo_us);
	if (isfinite(o->cpu_cap) && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, ", server CPU <= %g%%", o->cpu_cap);
}
