/* irqlab-kv's settings: one table of options (short and long name, --help
 * line, parser) in settings.c, parsed into kv_set once at start. Parsing
 * returns errors instead of exiting, so it is unit-testable. After start
 * only the verbosity changes (the "verbosity" command, from any thread):
 * read and write it through kv_verbosity()/kv_set_verbosity(). */
#ifndef KV_SETTINGS_H
#define KV_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "irqlab/loop.h"
#include "irqlab/mode.h"

struct kv_settings {
	int port;		/* -p */
	char listen[64];	/* -l, "" = all addresses */
	int threads;		/* -t */
	bool threads_set;	/* -t given (else --cpus sets the count) */
	size_t mem_mb;		/* -m */
	int maxconns;		/* -c */
	size_t item_max;	/* -I */
	double factor;		/* -f, growth between slab classes */
	int chunk_min;		/* -n, first class = 48 + this */
	int verbose;		/* -v; see kv_verbosity() */
	struct il_mode mode;	/* --mode */
	char dev[32];		/* --dev, "" = none */
	int cpus[IL_LOOP_MAX];	/* --cpus, wrapped to `threads` entries */
	int ncpus;		/* CPUs the user named, 0 = unpinned */
	int napis_configured;	/* NAPIs the mode was applied to (--dev) */
	int idle_timeout;	/* -o idle_timeout, seconds, 0 = never */
	size_t read_buf_mb;	/* -o read_buf_mem_limit, MB, 0 = unbounded */
	int fd_conns;		/* connections RLIMIT_NOFILE allows when below
				 * maxconns (main.c warned), else 0 */
};

/* Default of -o read_buf_mem_limit: connections' input buffers (partial
 * lines and values) in MB, beyond the item memory of -m. */
#define KV_READ_BUF_MB 16

extern struct kv_settings kv_set;

enum { KV_OPT_RUN = 0, KV_OPT_HELP = 1, KV_OPT_ERROR = -1 };

/* memcached's defaults and the base mode. */
void kv_settings_init(struct kv_settings *s);
/* Parses argv into s (initialised by kv_settings_init) and checks the
 * options against each other. Returns KV_OPT_RUN, KV_OPT_HELP (-h), or
 * KV_OPT_ERROR with a one-line message in err naming the option and what
 * it accepts. */
int kv_settings_parse(struct kv_settings *s, int argc, char **argv,
		      char *err, size_t errlen);
/* The --help text, one line (or more) per option of the table. */
void kv_usage(FILE *f);

/* Row i of the option table: its long name in *name and the "stats
 * settings" line showing its value ("" for none); NULL past the end. */
const char *kv_option_stat(size_t i, const char **name);

int kv_verbosity(void);
void kv_set_verbosity(int level);

#endif
