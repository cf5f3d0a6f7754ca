/* Option values with units and ranges (opt.h). */
#define _GNU_SOURCE
#include "irqlab/opt.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define US 1000ULL
#define MS 1000000ULL
#define SEC 1000000000ULL

int il_opt_int(const char *opt, const char *s, long long lo, long long hi,
	       long long *out, char *err, size_t len)
{
	char *end;
	long long v;

	errno = 0;
	v = s ? strtoll(s, &end, 10) : 0;
	if (!s || errno || end == s || *end || isspace((unsigned char)*s) || v < lo || v > hi) {
		snprintf(err, len, "%s: '%s' is not in %lld-%lld", opt, s ? s : "", lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

/* strtod plus an optional k/M/G decimal multiplier. */
static int parse_num(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': v *= 1e3; end++; break;
	case 'M': v *= 1e6; end++; break;
	case 'G': v *= 1e9; end++; break;
	}
	if (*end || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

int il_opt_num(const char *opt, const char *s, double lo, double hi, int integer,
	       double *out, char *err, size_t len)
{
	double v;

	if (parse_num(s, &v) || v < lo || v > hi || (integer && v != floor(v))) {
		snprintf(err, len, integer ? "%s: '%s' is not an integer in %.0f-%.0f" :
			 "%s: '%s' is not a number in %g-%g", opt, s ? s : "", lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

int il_opt_nums(const char *opt, const char *s, double lo, double hi, int integer,
		double *out, int max, char *err, size_t len)
{
	char buf[1024], *save = NULL, *tok;
	int n = 0;

	if (!s || strlen(s) >= sizeof(buf)) {
		snprintf(err, len, "%s: list too long (at most %zu characters)", opt, sizeof(buf) - 1);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == max) {
			snprintf(err, len, "%s: at most %d values", opt, max);
			return -1;
		}
		if (il_opt_num(opt, tok, lo, hi, integer, &out[n++], err, len))
			return -1;
	}
	if (!n) {
		snprintf(err, len, "%s: '%s' is not a comma-separated list of numbers", opt, s);
		return -1;
	}
	return n;
}

int il_opt_size(const char *opt, const char *s, uint64_t lo, uint64_t hi,
		uint64_t *out, char *err, size_t len)
{
	unsigned long long v = 0;
	char *end = NULL;
	int shift = 0;

	if (s && isdigit((unsigned char)*s)) {
		errno = 0;
		v = strtoull(s, &end, 10);
		switch (*end) {
		case 'k': case 'K': shift = 10; end++; break;
		case 'm': case 'M': shift = 20; end++; break;
		case 'g': case 'G': shift = 30; end++; break;
		}
		if (errno || *end || (v && (v << shift) >> shift != v))
			end = NULL;
		v <<= shift;
	}
	if (!end || v < lo || v > hi) {
		snprintf(err, len, "%s: '%s' is not a size in %llu-%llu (bytes, or k/m/g suffix)",
			 opt, s ? s : "", (unsigned long long)lo, (unsigned long long)hi);
		return -1;
	}
	*out = v;
	return 0;
}

int il_parse_time_ns(const char *s, uint64_t unit_ns, uint64_t *out)
{
	static const struct { const char *sfx; uint64_t ns; } units[] = {
		{ "ns", 1 }, { "us", US }, { "ms", MS }, { "s", SEC },
	};
	char *end;
	double v;
	uint64_t mul = unit_ns;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || !isfinite(v))
		return -1;
	if (*end) {
		mul = 0;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strcmp(end, units[i].sfx) == 0)
				mul = units[i].ns;
		if (!mul)
			return -1;
	} else if (v != floor(v)) {
		return -1;	/* a bare number is a count of units, whole */
	}
	if (v * (double)mul > (double)UINT64_MAX / 2)
		return -1;
	*out = (uint64_t)llround(v * (double)mul);
	return 0;
}

int il_opt_time(const char *opt, const char *s, uint64_t unit_ns, uint64_t lo,
		uint64_t hi, uint64_t *out, char *err, size_t len)
{
	uint64_t v;

	if (il_parse_time_ns(s, unit_ns, &v) || v < lo || v > hi) {
		char a[32], b[32], u[32];

		il_fmt_time_ns(lo, a, sizeof(a));
		il_fmt_time_ns(hi, b, sizeof(b));
		il_fmt_time_ns(unit_ns, u, sizeof(u));
		snprintf(err, len, "%s: '%s' is not a time in %s-%s (ns, us, ms, s; a bare number counts %s)",
			 opt, s ? s : "", a, b, u);
		return -1;
	}
	*out = v;
	return 0;
}

int il_opt_cpus(const char *opt, const char *s, int *cpus, int max,
		char *err, size_t len)
{
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	const char *p = s;
	int n = 0;

	if (ncpu < 1)
		ncpu = 1;
	while (p && *p) {
		char *end;
		long a = strtol(p, &end, 10), b = a;

		if (end == p || a < 0 || !isdigit((unsigned char)*p))
			goto bad;
		if (*end == '-') {
			p = end + 1;
			b = strtol(p, &end, 10);
			if (end == p || b < a)
				goto bad;
		}
		if (b >= ncpu)
			goto bad;
		for (long c = a; c <= b; c++) {
			if (n >= max)
				goto bad;
			cpus[n++] = (int)c;
		}
		if (*end == ',')
			end++;
		else if (*end)
			goto bad;
		p = end;
	}
	if (n)
		return n;
bad:
	snprintf(err, len, "%s: '%s' is not a CPU list like 1,3 or 0-3 (CPUs 0-%ld, at most %d)",
		 opt, s ? s : "", ncpu - 1, max);
	return -1;
}

int il_opt_choice(const char *opt, const char *s, const char *const *names,
		  int n, char *err, size_t len)
{
	size_t off;

	for (int i = 0; i < n; i++)
		if (s && strcmp(s, names[i]) == 0)
			return i;
	off = (size_t)snprintf(err, len, "%s: '%s' is not ", opt, s ? s : "");
	for (int i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(err + off, len - off, "%s%s", names[i],
					i == n - 1 ? "" : i == n - 2 ? " or " : ", ");
	return -1;
}

void il_fmt_time_ns(uint64_t ns, char *buf, size_t len)
{
	static const struct { const char *sfx; uint64_t ns; } u[] = {
		{ "s", SEC }, { "ms", MS }, { "us", US },
	};

	if (ns == 0) {
		snprintf(buf, len, "0");
		return;
	}
	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		if (ns % u[i].ns == 0) {
			snprintf(buf, len, "%llu%s", (unsigned long long)(ns / u[i].ns), u[i].sfx);
			return;
		}
	}
	snprintf(buf, len, "%lluns", (unsigned long long)ns);
}
