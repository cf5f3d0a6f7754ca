/* irqlab report: plots and report.md from results.json files of `irqlab
 * bench` (measured) and irqlab-sim --out (simulated), side by side. Thin:
 * reading, plotting and writing are the library's (irqlab/report.h). */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irqlab/report.h"
#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f,
"usage: irqlab report [-o DIR] [--title T] [--intro FILE] [--tag SETUP] RESULTS.json...\n"
"Reads results.json files of `irqlab bench` (measured) and/or irqlab-sim --out\n"
"(simulated) and writes, for all their rows together, the same plots and\n"
"report.md as `irqlab bench`: one line per mode and source, so a measured and\n"
"a simulated sweep can be compared on one plot, and the modes ranked.\n"
"  -o, --out DIR     output directory (default: irqlab-report)\n"
"      --title T     report.md's title (default: irqlab report)\n"
"      --intro FILE  markdown put under the title (what the reader needs first)\n"
"      --tag SETUP   the files after it ran in another setup: their modes are\n"
"                    labelled MODE@SETUP and ranked on their own (e.g. --tag none\n"
"                    for a run without threaded NAPI); --tag '' ends it\n"
"  -h, --help        this help\n");
}

/* A whole small file (the intro), NULL with a message on stderr. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t cap = 0;

	if (!f || getdelim(&text, &cap, 0, f) < 0) {
		fprintf(stderr, "irqlab report: --intro: cannot read %s: %m\n", path);
		free(text);
		text = NULL;
	}
	if (f)
		fclose(f);
	return text;
}

struct args {
	const char *out, *title, *intro_file;
	char files[1024];		/* "Rows from ..." for the intro */
	struct il_result *rows;
	int n;
};

/* Options and files in order (a --tag applies to the files after it). */
static int parse(struct args *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, 0, 'o' }, { "title", required_argument, 0, 'T' },
		{ "intro", required_argument, 0, 'I' }, { "tag", required_argument, 0, 't' },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
	};
	const char *tag = NULL;
	char err[512];
	int o, files = 0;

	optind = 1;
	while ((o = getopt_long(argc, argv, "-o:h", opts, NULL)) != -1) {
		switch (o) {
		case 'o':
			if (!*optarg || strlen(optarg) > 400) {
				fprintf(stderr, "irqlab report: --out: a directory name of "
					"1..400 characters\n");
				return 2;
			}
			a->out = optarg;
			break;
		case 'T': a->title = optarg; break;
		case 'I': a->intro_file = optarg; break;
		case 't': tag = optarg; break;
		case 'h': usage(stdout); return 0;
		case 1: {
			int before = a->n;
			size_t l = strlen(a->files);
			if (il_report_read(optarg, tag, &a->rows, &a->n, err, sizeof(err))) {
				fprintf(stderr, "irqlab report: %s\n", err);
				return 1;
			}
			snprintf(a->files + l, sizeof(a->files) - l, "%s `%s`%s%s (%d rows)",
				 files++ ? "," : "", optarg, tag && *tag ? " as setup " : "",
				 tag && *tag ? tag : "", a->n - before);
			break;
		}
		default: usage(stderr); return 2;
		}
	}
	if (!files) {
		fprintf(stderr, "irqlab report: no RESULTS.json given (see --help)\n");
		return 2;
	}
	return -1;	/* go on */
}

int cmd_report(int argc, char **argv)
{
	struct args a = { .out = "irqlab-report", .title = "irqlab report" };
	char err[512], *text = NULL, *intro = NULL;
	int meas = 0, sim = 0, rc = parse(&a, argc, argv);

	if (rc >= 0) {
		free(a.rows);
		return rc;
	}
	if (!a.n) {
		fprintf(stderr, "irqlab report: the files hold no rows\n");
		free(a.rows);
		return 1;
	}
	if (a.intro_file && !(text = slurp(a.intro_file))) {
		free(a.rows);
		return 1;
	}
	for (int i = 0; i < a.n; i++) {
		meas += !strcmp(a.rows[i].source, "measured");
		sim += !strcmp(a.rows[i].source, "simulated");
	}
	if (asprintf(&intro, "%s%sRows from%s.", text ? text : "", text ? "\n\n" : "",
		     a.files) < 0)
		intro = NULL;
	struct il_plot_cfg p = {
		.dir = a.out, .by = "irqlab report",
		.context = meas && sim ? "measured and simulated" : sim ? "simulated" : "measured",
		.cpu_title = meas && sim ? "server CPU busy against load, measured and simulated" :
			     sim ? "simulated server CPU busy against load (user+sys+softirq)" :
			     "server CPU busy against load (user+sys+softirq)",
	};
	struct il_report_doc d = { .title = a.title, .intro = intro };
	int np = il_report_dir_doc(&p, &d, a.rows, a.n, err, sizeof(err));
	free(text);
	free(intro);
	free(a.rows);
	if (np < 0) {
		fprintf(stderr, "irqlab report: %s\n", err);
		return 1;
	}
	if (!np)
		fprintf(stderr, "irqlab report: %s\n", err);
	printf("irqlab report: %d rows; wrote %s/results.json, results.csv, report.md%s\n", a.n, a.out,
	       np ? ", latency-p99.png, latency-p95.png, cpu.png" : "");
	return 0;
}
