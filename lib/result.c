/* Result rows: terminal table, CSV and JSON. One field table drives CSV and
 * JSON so the two never disagree; docs/result-schema.md documents it. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irqlab/result.h"

enum ftype { F_STR, F_INT, F_NUM };

static const struct field {
	const char *name;
	enum ftype type;
	size_t off, size;	/* size: of a string field, for the reader */
} fields[] = {
#define S(n) { #n, F_STR, offsetof(struct il_result, n), sizeof(((struct il_result *)0)->n) }
#define I(n) { #n, F_INT, offsetof(struct il_result, n), 0 }
#define N(n) { #n, F_NUM, offsetof(struct il_result, n), 0 }
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

void il_json_str(FILE *f, const char *s)
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
		case F_STR: il_json_str(f, p); break;
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

/* The reader: just enough JSON for the array of flat objects written
 * above (strings, numbers, null, true/false), with line numbers in errors. */
struct jp {
	const char *s, *p;
	char *err;
	size_t len;
};

static int jp_fail(struct jp *j, const char *why)
{
	int line = 1;

	for (const char *q = j->s; q < j->p; q++)
		line += *q == '\n';
	snprintf(j->err, j->len, "line %d: %s", line, why);
	return -1;
}

static void jp_ws(struct jp *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
		j->p++;
}

static int jp_char(struct jp *j, char c)
{
	char why[40];

	jp_ws(j);
	if (*j->p != c) {
		snprintf(why, sizeof(why), "expected '%c'", c);
		return jp_fail(j, why);
	}
	j->p++;
	return 0;
}

/* A string into out (truncated to size); \uXXXX beyond ASCII becomes '?'. */
static int jp_str(struct jp *j, char *out, size_t size)
{
	size_t o = 0;

	if (jp_char(j, '"'))
		return -1;
	while (*j->p != '"') {
		char c = *j->p++;

		if (!c || c == '\n')
			return jp_fail(j, "unterminated string");
		if (c == '\\') {
			c = *j->p++;
			switch (c) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case '"': case '\\': case '/': break;
			case 'u': {
				unsigned v;
				if (sscanf(j->p, "%4x", &v) != 1)
					return jp_fail(j, "bad \\u escape");
				j->p += 4;
				c = v < 0x80 ? (char)v : '?';
				break;
			}
			default: return jp_fail(j, "bad escape in string");
			}
		}
		if (o + 1 < size)
			out[o++] = c;
	}
	j->p++;
	out[o] = 0;
	return 0;
}

/* A scalar value: a number, or null (NAN), or true/false (1/0). */
static int jp_num(struct jp *j, double *v)
{
	char *end;

	jp_ws(j);
	if (!strncmp(j->p, "null", 4)) {
		j->p += 4;
		*v = NAN;
		return 0;
	}
	if (!strncmp(j->p, "true", 4) || !strncmp(j->p, "false", 5)) {
		*v = *j->p == 't';
		j->p += *j->p == 't' ? 4 : 5;
		return 0;
	}
	*v = strtod(j->p, &end);
	if (end == j->p)
		return jp_fail(j, "expected a number, a string or null");
	j->p = end;
	return 0;
}

static int jp_row(struct jp *j, struct il_result *r)
{
	char key[64], skip[256];
	double v;

	il_result_init(r);
	if (jp_char(j, '{'))
		return -1;
	jp_ws(j);
	if (*j->p == '}') {
		j->p++;
		return 0;
	}
	for (;;) {
		const struct field *fd = NULL;

		if (jp_str(j, key, sizeof(key)) || jp_char(j, ':'))
			return -1;
		for (size_t i = 0; i < NFIELDS; i++)
			if (!strcmp(fields[i].name, key))
				fd = &fields[i];
		jp_ws(j);
		if (*j->p == '"') {
			if (fd && fd->type != F_STR)
				return jp_fail(j, "a string where a number belongs");
			if (jp_str(j, fd ? (char *)r + fd->off : skip, fd ? fd->size : sizeof(skip)))
				return -1;
		} else {
			if (jp_num(j, &v))
				return -1;
			if (fd && fd->type == F_STR)
				return jp_fail(j, "a number where a string belongs");
			if (fd && fd->type == F_INT)
				*(int *)((char *)r + fd->off) = isfinite(v) ? (int)v : 0;
			else if (fd)
				*(double *)((char *)r + fd->off) = v;
		}
		jp_ws(j);
		if (*j->p == '}') {
			j->p++;
			return 0;
		}
		if (jp_char(j, ','))
			return -1;
	}
}

int il_result_parse_json(const char *text, struct il_result **rows, int *n,
			 char *err, size_t len)
{
	struct jp j = { text, text, err, len };
	struct il_result *a = NULL, *t;
	int cap = 0, k = 0;

	*rows = NULL;
	*n = 0;
	if (jp_char(&j, '['))
		return -1;
	jp_ws(&j);
	if (*j.p == ']')
		j.p++;
	else
		for (;;) {
			if (k == cap) {
				cap = cap ? 2 * cap : 64;
				if (!(t = realloc(a, (size_t)cap * sizeof(*a)))) {
					free(a);
					return jp_fail(&j, "out of memory");
				}
				a = t;
			}
			if (jp_row(&j, &a[k])) {
				free(a);
				return -1;
			}
			k++;
			jp_ws(&j);
			if (*j.p == ']') {
				j.p++;
				break;
			}
			if (jp_char(&j, ',')) {
				free(a);
				return -1;
			}
		}
	jp_ws(&j);
	if (*j.p) {
		free(a);
		return jp_fail(&j, "text after the array");
	}
	*rows = a;
	*n = k;
	return 0;
}
