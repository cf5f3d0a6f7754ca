/* Result writers: unknown numbers stay unknown, CSV and JSON agree on the
 * fields, strings are escaped. The JSON is checked against the documented
 * schema by tests/integration/bench_schema.sh. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irqlab/result.h"
#include "tap.h"

static char *capture(void (*fn)(FILE *, const struct il_result *, int),
		     const struct il_result *r, int n)
{
	static char buf[65536];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	fn(f, r, n);
	fclose(f);
	return buf;
}

static void csv_all(FILE *f, const struct il_result *r, int n)
{
	il_result_csv_header(f);
	for (int i = 0; i < n; i++)
		il_result_csv_row(f, &r[i]);
}

static void table_all(FILE *f, const struct il_result *r, int n)
{
	il_result_table_header(f);
	for (int i = 0; i < n; i++)
		il_result_table_row(f, &r[i]);
}

static int count_char(const char *s, char c)
{
	int n = 0;

	for (; *s && *s != '\n'; s++)
		n += *s == c;
	return n;
}

int main(void)
{
	struct il_result r[2];
	char *out;

	il_result_init(&r[0]);
	ok(isnan(r[0].qps) && isnan(r[0].ipc) && isnan(r[0].cpu_idle),
	   "init makes numbers unknown (NAN), not 0");
	ok(r[0].mode[0] == 0 && r[0].rep == 0 && r[0].flagged == 0, "init clears strings and ints");
	ok(isnan(il_result_busy(&r[0])), "busy unknown when idle unknown");

	strcpy(r[0].mode, "base");
	strcpy(r[0].kind, "closed");
	strcpy(r[0].source, "measured");
	r[0].qps = 123456;
	r[0].p99_us = 350;
	r[0].cpu_idle = 40;
	r[0].busy_polled = 0;
	ok(fabs(il_result_busy(&r[0]) - 60) < 1e-9, "busy = 100 - idle");

	il_result_init(&r[1]);
	strcpy(r[1].mode, "we\"ird,mode");
	strcpy(r[1].kind, "open");
	strcpy(r[1].note, "line\nbreak");
	r[1].rep = 2;
	r[1].flagged = 1;

	out = capture(il_result_json, r, 2);
	ok(strstr(out, "\"qps\": 123456") != NULL, "JSON writes a measured number");
	ok(strstr(out, "\"ipc\": null") != NULL, "JSON writes unknown as null");
	ok(strstr(out, "\"busy_polled\": 0,") != NULL, "JSON keeps a measured zero");
	ok(strstr(out, "we\\\"ird,mode") != NULL, "JSON escapes quotes");
	ok(strstr(out, "line\\u000abreak") != NULL, "JSON escapes control characters");
	ok(strstr(out, "nan") == NULL && strstr(out, "inf") == NULL, "JSON has no nan/inf");
	ok(out[0] == '[' && strstr(out, "]\n") != NULL, "JSON is an array");

	out = capture(csv_all, r, 1);
	{
		int header_commas = count_char(out, ',');
		char *row = strchr(out, '\n') + 1;

		ok(header_commas > 20 && count_char(row, ',') == header_commas,
		   "CSV row has as many cells as the header (%d)", header_commas + 1);
		ok(strncmp(row, "base,closed,measured,,0,", 24) == 0, "CSV row starts with the strings");
		ok(strstr(row, ",,") != NULL, "CSV leaves unknown cells empty");
	}
	out = capture(csv_all, r + 1, 1);
	ok(strstr(out, "\"we\"\"ird,mode\"") != NULL, "CSV quotes a cell with a comma/quote");

	out = capture(table_all, r, 2);
	ok(strstr(out, "123.5k") != NULL, "table abbreviates QPS");
	ok(strstr(out, "n/a") != NULL, "table prints unknown as n/a");
	ok(strstr(out, "*") != NULL, "table marks a flagged row");
	return tap_done();
}
