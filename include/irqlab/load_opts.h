/* irqlab-load's options: the struct, the table that parses them, and the
 * argv builder that writes them back. Programs that start irqlab-load
 * (`irqlab bench`, the multi-host agents) fill a struct il_load_opts and call
 * il_load_opts_argv, so the command line they build and the parser that reads
 * it come from one table and cannot drift apart (the unit test
 * tests/unit/load_opts.c checks parse(argv(o)) == o for every option).
 *
 * The struct is plain data: server names are kept as written (resolving them
 * is irqlab-load's job, on the host that runs it). */
#ifndef IRQLAB_LOAD_OPTS_H
#define IRQLAB_LOAD_OPTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "irqlab/dist.h"

#define IL_LOAD_MAX_SERVERS 16
#define IL_LOAD_MAX_CPUS 256
#define IL_LOAD_SPEC 64		/* longest distribution / popularity spec + 1 */

enum il_load_engine { IL_ENGINE_AUTO, IL_ENGINE_EPOLL, IL_ENGINE_URING };
/* Who stamps a reply's arrival: only user space (off), the kernel's
 * software receive stamp (sw), the NIC (hw). */
enum il_load_tstamp { IL_TSTAMP_OFF, IL_TSTAMP_SW, IL_TSTAMP_HW };

struct il_load_server {
	char host[256];		/* name or address, IPv6 without brackets */
	char port[8];		/* "11211" by default */
};

struct il_load_opts {
	struct il_load_server servers[IL_LOAD_MAX_SERVERS];
	int nservers;
	unsigned threads, conns, depth;	/* conns: per thread */
	int cpus[IL_LOAD_MAX_CPUS], ncpus;	/* --cpus; 0 = not pinned */
	double qps;			/* 0: closed loop */
	/* distributions: the spec as written (reported) and parsed */
	char ia_spec[IL_LOAD_SPEC], key_spec[IL_LOAD_SPEC], value_spec[IL_LOAD_SPEC];
	struct il_dist ia, keysize, valuesize;
	char pop_spec[IL_LOAD_SPEC];	/* "uniform" or "zipf:S" */
	double zipf_s;			/* 0: uniform */
	uint64_t records;
	double update;			/* share of sets */
	int loadonly, noload, json;
	int meta;			/* --protocol meta */
	unsigned preload_depth;
	double warmup, time, timeout;	/* seconds */
	double late_us, spin_us;
	uint64_t seed;
	enum il_load_engine engine;
	enum il_load_tstamp timestamps;
	int tx_stamps;			/* closed loop: send times from the kernel's
					 * transmit stamps */
	unsigned batch;			/* replies per wake-up (io_uring), 1 = none */
	double batch_us;		/* longest wait for a batch */
	double wake_delay_us;		/* testing: delay every wake-up */
	char hdr[256];			/* --hdr FILE: .hgrm output ("" = none) */
	double ci;			/* --ci: run until the p99 CI's half-width
					 * is this share of p99 (0 = fixed --time) */
	double start_at;		/* --start-at: wall-clock start, s since
					 * the epoch (0 = now); multi-host runs */
};

/* The defaults (--help lists them). */
void il_load_opts_default(struct il_load_opts *o);

/* Parses argv[1..argc-1] (getopt_long; argv[0] is the program). Returns 0,
 * 1 for --help (print il_load_opts_usage), or -1 with a one-line message in
 * err naming the option and what it accepts. Nothing is printed, nothing
 * exits. */
int il_load_opts_parse(struct il_load_opts *o, int argc, char **argv,
		       char *err, size_t len);
void il_load_opts_usage(FILE *f);

/* Adds a server "HOST[:PORT]" or "[V6]:PORT" (what -s takes): 0 or -1 with
 * the message. */
int il_load_opts_server(struct il_load_opts *o, const char *arg, char *err, size_t len);

/* The command line for o: argv[0] = bin, then every option whose value
 * differs from the default, NULL-terminated. One malloc'd block (the strings
 * inside it): free() it once. NULL if out of memory. */
char **il_load_opts_argv(const struct il_load_opts *o, const char *bin);

/* 1 if a and b would run the same experiment (every option equal). */
int il_load_opts_equal(const struct il_load_opts *a, const struct il_load_opts *b);

#endif
