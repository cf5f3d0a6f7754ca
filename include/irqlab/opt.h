/* Option values with units and ranges: one module for every program (the
 * shape of wrk's units.c). Each parser returns 0, or -1 with a one-line
 * message in err that names the option and what it accepts, e.g.
 *   --threads: '0' is not in 1-64
 *   --gro-flush-timeout: '5x' is not a time in 0-1s (ns, us, ms, s; default unit us)
 * Nothing here prints or exits: callers decide, so option handling is
 * unit-testable everywhere. `opt` is the option as the user typed it
 * ("--threads", "-t", "IRQLAB_MODE"); it is only used in messages. */
#ifndef IRQLAB_OPT_H
#define IRQLAB_OPT_H

#include <stddef.h>
#include <stdint.h>

/* An integer in lo..hi (decimal; no suffixes). */
int il_opt_int(const char *opt, const char *s, long long lo, long long hi,
	       long long *out, char *err, size_t len);

/* A number in lo..hi; with `integer` it must be whole. Accepts the decimal
 * multipliers k, M, G ("10k" = 10000, "2.5M"), as rates and counts are
 * written. */
int il_opt_num(const char *opt, const char *s, double lo, double hi, int integer,
	       double *out, char *err, size_t len);

/* A size in bytes in lo..hi: a number with an optional binary suffix
 * k/K, m/M, g/G (1k = 1024). */
int il_opt_size(const char *opt, const char *s, uint64_t lo, uint64_t hi,
		uint64_t *out, char *err, size_t len);

/* A time in ns in lo..hi: "20us", "5ms", "2s", "100ns", or a bare number in
 * unit_ns (1 = ns, 1000 = us, ...). Fractions are allowed with a suffix
 * ("1.5ms"), the result is rounded to whole ns. */
int il_opt_time(const char *opt, const char *s, uint64_t unit_ns, uint64_t lo,
		uint64_t hi, uint64_t *out, char *err, size_t len);

/* The same without a name or a range, for parsers that build their own
 * message (mode specs): 0 or -1. */
int il_parse_time_ns(const char *s, uint64_t unit_ns, uint64_t *out);

/* A CPU list "1,3", "0-3", "0-1,3" (a trailing comma is tolerated) of CPUs
 * this machine has: fills cpus, returns the count (>= 1) or -1. */
int il_opt_cpus(const char *opt, const char *s, int *cpus, int max,
		char *err, size_t len);

/* One of names[0..n-1]: returns the index or -1 ("--napi-thread: 'x' is not
 * none, aligned or separate"). */
int il_opt_choice(const char *opt, const char *s, const char *const *names,
		  int n, char *err, size_t len);

/* A comma-separated list of numbers (il_opt_num rules each): fills out,
 * returns the count (>= 1) or -1. */
int il_opt_nums(const char *opt, const char *s, double lo, double hi, int integer,
		double *out, int max, char *err, size_t len);

/* Formats ns in the largest unit that divides it exactly: "20us", "5ms",
 * "0". */
void il_fmt_time_ns(uint64_t ns, char *buf, size_t len);

#endif
