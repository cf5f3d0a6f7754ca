/* What `irqlab napi` and `irqlab nic` share: --hold's signal handling, the
 * subcommand dispatch and the --dev/--json reading of list and show. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

void cli_hold_begin(bool hold)
{
	sigset_t block;

	if (hold) {
		/* A shell starts background jobs with SIGINT ignored, and an
		 * ignored signal never reaches sigwait: --hold asks for it. */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
	}
	/* Without --hold, SIGINT/SIGTERM wait until the change is complete
	 * or rolled back; the restore guard covers everything else. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, NULL);
}

int cli_hold_wait(void)
{
	sigset_t set;
	int sig = 0;

	printf("holding: Ctrl-C or kill -TERM %d restores the old values\n",
	       (int)getpid());
	fflush(stdout);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigwait(&set, &sig);
	return sig;
}

int cli_dispatch(const char *prog, int argc, char **argv,
		 const struct cli_sub *subs, int (*usage)(FILE *))
{
	if (argc < 2)
		return usage(stderr);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help"))
		return usage(stdout);
	for (const struct cli_sub *s = subs; s->name; s++)
		if (!strcmp(argv[1], s->name))
			return s->fn(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown subcommand '%s' (", prog, argv[1]);
	for (const struct cli_sub *s = subs; s->name; s++)
		fprintf(stderr, "%s%s", s->name, s[1].name ? ", " : ")\n");
	return 2;
}

int cli_dev_json(int argc, char **argv, int (*usage)(FILE *), const char **dev, int *json)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "d:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'd': *dev = optarg; break;
		case 'j': *json = 1; break;
		case 'h': return usage(stdout);
		default: return usage(stderr);
		}
	}
	return -1;
}
