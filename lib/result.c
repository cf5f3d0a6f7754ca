/* Result rows: terminal table, CSV and JSON (jansson). One field table
 * drives CSV, the JSON writer and the JSON reader, so they never disagree;
 * docs/result-schema.md documents it. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

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
	N(vm_exits_per_s), N(vm_exits_extint_per_s), N(vm_exits_eoi_per_s),
	N(vm_exits_hlt_per_s), N(vm_exits_io_per_s), N(vm_exits_timer_per_s),
	N(vm_exits_ipi_per_s), N(time_in_guest_pct), N(injected_irq_per_s),
	N(host_net_cpu),
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
	if (!isfinite(r->vm_exits_per_s))
		return;
	/* a VM row: its exits, time in guest and host work on a second line */
	const struct { const char *name; double v; } why[] = {
		{ "extint", r->vm_exits_extint_per_s }, { "eoi", r->vm_exits_eoi_per_s },
		{ "hlt", r->vm_exits_hlt_per_s }, { "io", r->vm_exits_io_per_s },
		{ "timer", r->vm_exits_timer_per_s }, { "ipi", r->vm_exits_ipi_per_s },
	};
	fprintf(f, "%-16s exits/s", "  vm");
	cell_k(f, 6, r->vm_exits_per_s);
	for (size_t i = 0; i < sizeof(why) / sizeof(why[0]); i++) {
		fprintf(f, "%s%s", i ? ", " : " (", why[i].name);
		cell_k(f, 1, why[i].v);
	}
	fprintf(f, "), in guest");
	cell(f, 1, 1, r->time_in_guest_pct);
	fprintf(f, "%%, injected/s");
	cell_k(f, 1, r->injected_irq_per_s);
	fprintf(f, ", host net CPU");
	cell(f, 1, 1, r->host_net_cpu);
	fprintf(f, "%%\n");
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

/* A JSON string for s. jansson refuses text that is not UTF-8 (a device
 * name or a note can be anything): such bytes become '?', so the reader
 * below always takes back what the writer wrote. */
static json_t *str_value(const char *s)
{
	json_t *v = json_string(s);
	char *copy;

	if (v || !(copy = strdup(s)))
		return v;
	for (unsigned char *p = (unsigned char *)copy; *p; p++)
		if (*p >= 0x80)
			*p = '?';
	v = json_string(copy);
	free(copy);
	return v;
}

/* An integral number is written as one ("rep": 2, "busy_polled": 0), the
 * rest with 10 significant digits; JSON has no NaN: unknown is null. */
static json_t *num_value(double v)
{
	if (!isfinite(v))
		return json_null();
	if (v == floor(v) && fabs(v) < 9007199254740992.0)	/* 2^53 */
		return json_integer((json_int_t)v);
	return json_real(v);
}

void il_json_str(FILE *f, const char *s)
{
	json_t *v = str_value(s);

	if (v)
		json_dumpf(v, f, JSON_ENCODE_ANY);
	json_decref(v);
}

static json_t *row_object(const struct il_result *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "schema", json_integer(IL_RESULT_SCHEMA));
	for (size_t i = 0; i < NFIELDS; i++) {
		const char *p = (const char *)r + fields[i].off;
		json_t *v = NULL;

		switch (fields[i].type) {
		case F_STR: v = str_value(p); break;
		case F_INT: v = json_integer(*(const int *)p); break;
		case F_NUM: v = num_value(*(const double *)p); break;
		}
		json_object_set_new(o, fields[i].name, v ? v : json_null());
	}
	return o;
}

/* One row per line: a results.json stays readable and diffable. */
void il_result_json(FILE *f, const struct il_result *rows, int n)
{
	fputs("[\n", f);
	for (int i = 0; i < n; i++) {
		json_t *o = row_object(&rows[i]);

		fputs("  ", f);
		json_dumpf(o, f, JSON_REAL_PRECISION(10));
		json_decref(o);
		fputs(i + 1 < n ? ",\n" : "\n", f);
	}
	fputs("]\n", f);
}

/* Copies a string value into a fixed field, cut at a character boundary. */
static void copy_str(char *out, size_t size, const char *s)
{
	size_t n = strlen(s);

	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(out, s, n);
	out[n] = '\0';
}

static int row_fail(char *err, size_t len, int row, const char *name,
		    const char *why)
{
	snprintf(err, len, "row %d: %s: %s", row, name, why);
	return -1;
}

/* One field of row (counted from 1) from its JSON value. */
static int field_from(const struct field *fd, const json_t *v,
		      struct il_result *r, int row, char *err, size_t len)
{
	char *p = (char *)r + fd->off;
	double d;

	if (fd->type == F_STR) {
		if (json_is_null(v))
			return 0;
		if (!json_is_string(v))
			return row_fail(err, len, row, fd->name,
					"a number where a string belongs");
		copy_str(p, fd->size, json_string_value(v));
		return 0;
	}
	if (json_is_string(v))
		return row_fail(err, len, row, fd->name,
				"a string where a number belongs");
	if (json_is_number(v))
		d = json_number_value(v);
	else if (json_is_boolean(v))
		d = json_is_true(v);
	else if (json_is_null(v))
		d = NAN;
	else
		return row_fail(err, len, row, fd->name,
				"an array or object where a number belongs");
	if (fd->type == F_INT)
		*(int *)p = isfinite(d) ? (int)d : 0;
	else
		*(double *)p = d;
	return 0;
}

static int row_from(const json_t *o, struct il_result *r, int row,
		    char *err, size_t len)
{
	const json_t *schema = json_object_get(o, "schema");

	il_result_init(r);
	if (!json_is_object(o))
		return row_fail(err, len, row, "row", "not an object");
	/* A row without "schema" predates versioning: version 1. */
	if (schema && json_integer_value(schema) > IL_RESULT_SCHEMA) {
		snprintf(err, len, "row %d: schema version %" JSON_INTEGER_FORMAT
			 " is newer than this irqlab reads (%d)", row,
			 json_integer_value(schema), IL_RESULT_SCHEMA);
		return -1;
	}
	for (size_t i = 0; i < NFIELDS; i++) {
		const json_t *v = json_object_get(o, fields[i].name);

		if (v && field_from(&fields[i], v, r, row, err, len))
			return -1;
	}
	return 0;
}

int il_result_parse_json(const char *text, struct il_result **rows, int *n,
			 char *err, size_t len)
{
	json_error_t je;
	json_t *a = json_loads(text, 0, &je);
	struct il_result *out = NULL;
	size_t k;

	*rows = NULL;
	*n = 0;
	if (!a) {
		snprintf(err, len, "line %d, column %d: %s", je.line, je.column,
			 je.text);
		return -1;
	}
	if (!json_is_array(a)) {
		snprintf(err, len, "line 1: expected '[' (an array of result "
			 "rows), not an object");
		json_decref(a);
		return -1;
	}
	k = json_array_size(a);
	if (k && !(out = calloc(k, sizeof(*out)))) {
		snprintf(err, len, "out of memory for %zu rows", k);
		json_decref(a);
		return -1;
	}
	for (size_t i = 0; i < k; i++)
		if (row_from(json_array_get(a, i), &out[i], (int)i + 1, err, len)) {
			free(out);
			json_decref(a);
			return -1;
		}
	json_decref(a);
	*rows = out;
	*n = (int)k;
	return 0;
}
