/* Subcommands of the `irqlab` front door. Each takes argc/argv starting at
 * its own name and returns the process exit status. */
#ifndef IRQLAB_CLI_H
#define IRQLAB_CLI_H

int cmd_probe(int argc, char **argv);	/* cli/probe.c */
int cmd_napi(int argc, char **argv);	/* cli/napi.c */
int cmd_nic(int argc, char **argv);	/* cli/nic.c */

struct il_nic_state;
/* `irqlab nic show`'s text, for probe too (cli/nic.c). */
void nic_print_state(const struct il_nic_state *s);
int cmd_bench(int argc, char **argv);	/* bench/bench.c */
int cmd_report(int argc, char **argv);	/* bench/report.c */
int cmd_tune(int argc, char **argv);	/* cli/tune.c -> tune/ */

#endif
