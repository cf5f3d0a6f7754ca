/* Result rows: terminal table, CSV and JSON. One field table drives CSV and
 * JSON so the two never disagree; docs/result-schema.md documents it. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "irqlab/result.h"

enum ftype { F_STR, F_INT, F_NUM };

static const struct field {
	const char *name;
	enum ftype type;
	size_t off;
} fields[] = {
#define S(n) { #n, F_STR, offsetof(struct il_result, n) }
#define I(n) { #n, F_INT, offsetof(struct il_result, n) }
#define N(n) { #n, F_NUM, offsetof(struct il_result, n) }
	S(mode), S(kind), S(source), S(server), I(rep),
	N(target_qps), N(qps), N(duration_s), N(requests), N(errors),
	N(p50_us), N(p95_us), N(p99_us),
	N(cpu_user), N(cpu_sys), N(cpu_softirq), N(cpu_idle),
	N(irq_per_s), N(softirq_per_s), N(gen_irq_per_s), N(gen_softirq_per_s),
	N(cs_per_s), N(busy_polled),
	N(cycles), N(instructions), N(ipc), N(cpq), N(ipq),
	N(gen_cpu), N(noise_cpu), I(flagged), S(note),
#undef S
#undef I
#undef N
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

void il_result_init(struct il_result *r)
{
	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < NFIELDS; i++)
		if (fields[i].type == F_NUM)
			*(double *)((char *)r + fields[i].off) = NAN;
}

double il_result_busy(const struct il_result *r)
{
	return isnan(r->cpu_idle) ? NAN : 100.0 - r->cpu_idle;
}

/* Numbers that are not finite are "unknown": printed as n/a, never 0. */
static void cell(FILE *f, int width, int prec, double v)
{
	if (isfinite(v))
		fprintf(f, " %*.*f", width, prec, v);
	else
		fprintf(f, " %*s", width, "n/a");
}

/* Large counts read better as 12.3k than as 12345.6. */
static void cell_k(FILE *f, int width, double v)
{
	char buf[32];

	if (!isfinite(v))
		snprintf(buf, sizeof(buf), "n/a");
	else if (fabs(v) >= 1e6)
		snprintf(buf, sizeof(buf), "%.2fM", v / 1e6);
	else if (fabs(v) >= 1e3)
		snprintf(buf, sizeof(buf), "%.1fk", v / 1e3);
	else
		snprintf(buf, sizeof(buf), "%.0f", v);
	fprintf(f, " %*s", width, buf);
}

void il_result_table_header(FILE *f)
{
	fprintf(f, "%-9s %-6s %7s %7s %7s %7s %5s %6s %5s %5s %5s %5s %7s %7s %7s %1s\n",
		"mode", "kind", "target", "QPS", "p50us", "p99us", "IPC", "CPQ",
		"usr%", "sys%", "sirq%", "idle%", "NETRX/s", "cs/s", "bpoll", "!");
}

void il_result_table_row(FILE *f, const struct il_result *r)
{
	fprintf(f, "%-9.9s %-6.6s", r->mode, r->kind);
	if (r->target_qps > 0)
		cell_k(f, 7, r->target_qps);
	else
		fprintf(f, " %7s", "max");
	cell_k(f, 7, r->qps);
	cell(f, 7, 0, r->p50_us);
	cell(f, 7, 0, r->p99_us);
	cell(f, 5, 2, r->ipc);
	cell_k(f, 6, r->cpq);
	cell(f, 5, 1, r->cpu_user);
	cell(f, 5, 1, r->cpu_sys);
	cell(f, 5, 1, r->cpu_softirq);
	cell(f, 5, 1, r->cpu_idle);
	cell_k(f, 7, r->softirq_per_s);
	cell_k(f, 7, r->cs_per_s);
	cell_k(f, 7, r->busy_polled);
	fprintf(f, " %1s\n", r->flagged ? "*" : "");
}

void il_result_csv_header(FILE *f)
{
	for (size_t i = 0; i < NFIELDS; i++)
		fprintf(f, "%s%s", i ? "," : "", fields[i].name);
	fputc('\n', f);
}

/* CSV strings are quoted only when they need it (RFC 4180). */
static void csv_str(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

void il_result_csv_row(FILE *f, const struct il_result *r)
{
	for (size_t i = 0; i < NFIELDS; i++) {
		const char *p = (const char *)r + fields[i].off;

		if (i)
			fputc(',', f);
		switch (fields[i].type) {
		case F_STR: csv_str(f, p); break;
		case F_INT: fprintf(f, "%d", *(const int *)p); break;
		case F_NUM:
			if (isfinite(*(const double *)p))
				fprintf(f, "%.6g", *(const double *)p);
			break;	/* empty cell = unknown */
		}
	}
	fputc('\n', f);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_row(FILE *f, const struct il_result *r)
{
	fputc('{', f);
	for (size_t i = 0; i < NFIELDS; i++) {
		const char *p = (const char *)r + fields[i].off;

		fprintf(f, "%s\"%s\": ", i ? ", " : "", fields[i].name);
		switch (fields[i].type) {
		case F_STR: json_str(f, p); break;
		case F_INT: fprintf(f, "%d", *(const int *)p); break;
		case F_NUM:
			/* JSON has no NaN: unknown is null. */
			if (isfinite(*(const double *)p))
				fprintf(f, "%.10g", *(const double *)p);
			else
				fputs("null", f);
			break;
		}
	}
	fputc('}', f);
}

void il_result_json(FILE *f, const struct il_result *rows, int n)
{
	fputs("[\n", f);
	for (int i = 0; i < n; i++) {
		fputs("  ", f);
		json_row(f, &rows[i]);
		fputs(i + 1 < n ? ",\n" : "\n", f);
	}
	fputs("]\n", f);
}
