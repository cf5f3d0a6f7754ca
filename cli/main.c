/* irqlab: the front door. Dispatches to one subcommand per file. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* Subcommands whose component is not linked in yet resolve to NULL. */
#pragma weak cmd_probe
#pragma weak cmd_napi
#pragma weak cmd_nic
#pragma weak cmd_bench
#pragma weak cmd_report
#pragma weak cmd_tune
#pragma weak cmd_agent

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} cmds[] = {
	{ "probe", cmd_probe, "what this kernel and device support; run this first" },
	{ "napi",  cmd_napi,  "list, set and restore per-NAPI settings" },
	{ "nic",   cmd_nic,   "show and set coalescing, queues, IRQ affinity, RPS (with restore)" },
	{ "bench", cmd_bench, "compare the interrupt-handling modes end to end" },
	{ "report", cmd_report, "plots and report.md from results.json (measured, simulated)" },
	{ "agent", cmd_agent, "the remote half of a multi-host bench (JSON jobs on stdin)" },
	{ "tune",  cmd_tune,  "the cheapest settings that keep a latency target (measured, simulated)" },
};

static int usage(FILE *f)
{
	fprintf(f, "usage: irqlab COMMAND [options]   (irqlab COMMAND --help)\n\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (cmds[i].fn)
			fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].help);
	return f == stderr ? 2 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(stderr);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))
		return usage(stdout);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (cmds[i].fn && strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "irqlab: unknown command '%s'\n", argv[1]);
	return usage(stderr);
}
