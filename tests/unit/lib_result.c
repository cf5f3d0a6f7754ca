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

/* The reader: versions, types, line numbers, text that is not UTF-8. */
static void reader_tests(void)
{
	struct il_result r, *rows = NULL;
	char err[256] = "", *out;
	int n = -1;

	ok(il_result_parse_json("[{\"schema\": 2, \"mode\": \"a\"}]", &rows, &n,
				err, sizeof(err)) == -1 &&
	   strstr(err, "row 1: schema version 2 is newer"), "newer schema refused (%s)", err);
	ok(il_result_parse_json("[{\"mode\": \"a\", \"rep\": 3, \"flagged\": true}]",
				&rows, &n, err, sizeof(err)) == 0 && n == 1 &&
	   rows[0].rep == 3 && rows[0].flagged == 1 && isnan(rows[0].p50_us),
	   "row without schema read as version 1, true is 1, missing is NAN");
	free(rows);
	ok(il_result_parse_json("[{}, {\"mode\": 5}]", &rows, &n, err, sizeof(err)) == -1 &&
	   strstr(err, "row 2: mode: a number where a string belongs"), "type error names row and field (%s)", err);
	ok(il_result_parse_json("[{\"qps\": [1]}]", &rows, &n, err, sizeof(err)) == -1 &&
	   strstr(err, "row 1: qps:"), "array for a number refused (%s)", err);
	ok(il_result_parse_json("[\n{\"mode\": \"a\"},\n{\"mode\" \"b\"}]", &rows, &n,
				err, sizeof(err)) == -1 && strncmp(err, "line 3, column", 14) == 0,
	   "syntax error has jansson's line and column (%s)", err);

	il_result_init(&r);
	strcpy(r.mode, "caf\xc3\xa9");
	strcpy(r.note, "bad \xff byte");
	out = capture(il_result_json, &r, 1);
	ok(il_result_parse_json(out, &rows, &n, err, sizeof(err)) == 0 && n == 1 &&
	   !strcmp(rows[0].mode, "caf\xc3\xa9") && !strcmp(rows[0].note, "bad ? byte"),
	   "UTF-8 kept, a byte that is not UTF-8 written as '?' (%s)", err);
	free(rows);
	n = il_result_parse_json("[{\"kind\": \"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\"}]",
				 &rows, &n, err, sizeof(err)) == 0 ? (int)strlen(rows[0].kind) : -1;
	ok(n == 14, "a long string is cut at a character boundary (%d bytes)", n);
	free(rows);
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
	ok(strstr(out, "line\\nbreak") != NULL, "JSON escapes control characters");
	ok(strncmp(out, "[\n  {\"schema\": 1, \"mode\": \"base\"", 29) == 0,
	   "JSON rows carry their schema version first, one row per line");
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
	reader_tests();
	return tap_done();
}
