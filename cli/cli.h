/* Subcommands of the `irqlab` front door. Each takes argc/argv starting at
 * its own name and returns the process exit status. */
#ifndef IRQLAB_CLI_H
#define IRQLAB_CLI_H
#include <stdbool.h>
#include <stdio.h>

int cmd_probe(int argc, char **argv);	/* cli/probe.c */
int cmd_napi(int argc, char **argv);	/* cli/napi.c */
int cmd_nic(int argc, char **argv);	/* cli/nic.c */

struct il_nic_state;
/* `irqlab nic show`'s text, for probe too (cli/nic.c). */
void nic_print_state(const struct il_nic_state *s);
int cmd_bench(int argc, char **argv);	/* bench/bench.c */
int cmd_report(int argc, char **argv);	/* cli/report.c */
int cmd_tune(int argc, char **argv);	/* cli/tune.c -> tune/ */
int cmd_agent(int argc, char **argv);	/* cli/agent.c */

/* cli/hold.c: --hold for commands that change settings. Call begin before
 * the first change (SIGINT/SIGTERM blocked; with hold, made deliverable to
 * sigwait even when the shell ignored them); wait prints the "holding:"
 * line and returns the signal that ended the hold. */
void cli_hold_begin(bool hold);
int cli_hold_wait(void);

/* --dev DEV, --json and --help of a list/show subcommand: -1 to go on, else
 * the exit status (usage for --help or a bad option). optind is left after
 * the options. */
int cli_dev_json(int argc, char **argv, int (*usage)(FILE *), const char **dev, int *json);

/* `irqlab CMD SUB ...`: runs the entry named argv[1] (the list ends with a
 * NULL name), usage for none or help, exit 2 for an unknown one. */
struct cli_sub {
	const char *name;
	int (*fn)(int argc, char **argv);
};
int cli_dispatch(const char *prog, int argc, char **argv,
		 const struct cli_sub *subs, int (*usage)(FILE *));

#endif
