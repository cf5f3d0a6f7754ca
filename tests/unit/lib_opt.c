/* Option values: numbers, sizes, times, CPU lists, choices, and the
 * one-line errors that name the option and its range. */
#include <math.h>
#include <unistd.h>

#include "irqlab/opt.h"
#include "tap.h"

static char err[256];

static void test_int(void)
{
	long long v = -1;

	ok(il_opt_int("--threads", "4", 1, 64, &v, err, sizeof(err)) == 0 && v == 4, "int in range");
	ok(il_opt_int("--threads", "0", 1, 64, &v, err, sizeof(err)) < 0, "int below range refused");
	is_str(err, "--threads: '0' is not in 1-64", "int error names option and range");
	ok(il_opt_int("--threads", "4x", 1, 64, &v, err, sizeof(err)) < 0, "trailing junk refused");
	ok(il_opt_int("--threads", "", 1, 64, &v, err, sizeof(err)) < 0, "empty refused");
	ok(il_opt_int("--threads", " 4", 1, 64, &v, err, sizeof(err)) < 0, "leading space refused");
	ok(il_opt_int("--port", "99999999999999999999", 0, 65535, &v, err, sizeof(err)) < 0,
	   "overflow refused");
}

static void test_num(void)
{
	double v = 0, l[4];

	ok(il_opt_num("--qps", "10k", 1, 1e9, 1, &v, err, sizeof(err)) == 0 && v == 10000, "10k = 10000");
	ok(il_opt_num("--qps", "2.5M", 1, 1e9, 1, &v, err, sizeof(err)) == 0 && v == 2.5e6, "2.5M");
	ok(il_opt_num("--ratio", "0.25", 0, 1, 0, &v, err, sizeof(err)) == 0 && v == 0.25, "fraction");
	ok(il_opt_num("--conns", "1.5", 1, 10, 1, &v, err, sizeof(err)) < 0 && strstr(err, "integer"),
	   "integer option refuses a fraction: %s", err);
	ok(il_opt_num("--ratio", "nan", 0, 1, 0, &v, err, sizeof(err)) < 0, "nan refused");
	ok(il_opt_num("--ratio", "2", 0, 1, 0, &v, err, sizeof(err)) < 0 &&
	   strstr(err, "--ratio") && strstr(err, "0-1"), "out of range names the range: %s", err);
	is_int(il_opt_nums("-q", "100000,400k", 1, 1e9, 1, l, 4, err, sizeof(err)), 2, "list of two");
	ok(l[1] == 400000, "second list item with suffix");
	ok(il_opt_nums("-q", "1,x", 1, 1e9, 1, l, 4, err, sizeof(err)) < 0 && strstr(err, "'x'"),
	   "bad item named: %s", err);
	ok(il_opt_nums("-q", "1,2,3,4,5", 1, 1e9, 1, l, 4, err, sizeof(err)) < 0, "too many refused");
	ok(il_opt_nums("-q", ",", 1, 1e9, 1, l, 4, err, sizeof(err)) < 0, "empty list refused");
}

static void test_size(void)
{
	uint64_t v = 0;

	ok(il_opt_size("-I", "1m", 1024, 1 << 30, &v, err, sizeof(err)) == 0 && v == 1 << 20, "1m");
	ok(il_opt_size("-I", "2048", 1024, 1 << 30, &v, err, sizeof(err)) == 0 && v == 2048, "bytes");
	ok(il_opt_size("-I", "2g", 1024, 1 << 30, &v, err, sizeof(err)) < 0 &&
	   strstr(err, "-I: '2g'"), "above range refused: %s", err);
	ok(il_opt_size("-I", "-1", 0, 1 << 30, &v, err, sizeof(err)) < 0, "negative refused");
	ok(il_opt_size("-I", "99999999999999g", 0, UINT64_MAX, &v, err, sizeof(err)) < 0,
	   "shift overflow refused");
}

static void test_time(void)
{
	uint64_t v = 0;
	char buf[32];

	ok(il_opt_time("--t", "20us", 1, 0, 1000000000, &v, err, sizeof(err)) == 0 && v == 20000, "20us");
	ok(il_opt_time("--t", "5ms", 1, 0, 1000000000, &v, err, sizeof(err)) == 0 && v == 5000000, "5ms");
	ok(il_opt_time("--t", "1.5ms", 1, 0, 1000000000, &v, err, sizeof(err)) == 0 && v == 1500000,
	   "fraction with a suffix");
	ok(il_opt_time("--t", "20", 1000, 0, 1000000000, &v, err, sizeof(err)) == 0 && v == 20000,
	   "bare number in the default unit");
	ok(il_opt_time("--t", "1.5", 1000, 0, 1000000000, &v, err, sizeof(err)) < 0,
	   "bare fraction refused");
	ok(il_opt_time("--t", "5x", 1, 0, 1000000000, &v, err, sizeof(err)) < 0 &&
	   strstr(err, "--t: '5x' is not a time in 0-1s"), "junk refused: %s", err);
	ok(il_opt_time("--t", "2s", 1, 0, 1000000000, &v, err, sizeof(err)) < 0, "above range refused");
	il_fmt_time_ns(20000, buf, sizeof(buf));
	is_str(buf, "20us", "format 20us");
	il_fmt_time_ns(1500, buf, sizeof(buf));
	is_str(buf, "1500ns", "format 1500ns");
	il_fmt_time_ns(0, buf, sizeof(buf));
	is_str(buf, "0", "format 0");
}

static void test_cpus(void)
{
	int c[64];
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);

	ok(il_opt_cpus("--cpus", "0", c, 64, err, sizeof(err)) == 1 && c[0] == 0, "--cpus 0");
	if (ncpu >= 2) {
		ok(il_opt_cpus("--cpus", "0-1", c, 64, err, sizeof(err)) == 2 && c[1] == 1, "--cpus 0-1");
		ok(il_opt_cpus("--cpus", "1,0", c, 64, err, sizeof(err)) == 2 && c[0] == 1, "--cpus 1,0");
	} else {
		tap_skip("needs 2 CPUs");
		tap_skip("needs 2 CPUs");
	}
	ok(il_opt_cpus("--cpus", "", c, 64, err, sizeof(err)) < 0, "empty list refused");
	ok(il_opt_cpus("--cpus", "x", c, 64, err, sizeof(err)) < 0 && strstr(err, "--cpus"),
	   "junk refused with a message naming --cpus: %s", err);
	ok(il_opt_cpus("--cpus", "-1", c, 64, err, sizeof(err)) < 0, "negative refused");
	ok(il_opt_cpus("--cpus", "3-1", c, 64, err, sizeof(err)) < 0, "reversed range refused");
	ok(il_opt_cpus("--cpus", "100000", c, 64, err, sizeof(err)) < 0, "CPU beyond the machine refused");
	ok(il_opt_cpus("--cpus", "0,", c, 64, err, sizeof(err)) == 1, "trailing comma tolerated");
	ok(il_opt_cpus("--cpus", "0,0,0", c, 2, err, sizeof(err)) < 0, "more than max refused");
}

static void test_choice(void)
{
	static const char *const how[] = { "none", "aligned", "separate" };

	is_int(il_opt_choice("--napi-thread", "aligned", how, 3, err, sizeof(err)), 1, "choice index");
	is_int(il_opt_choice("--napi-thread", "x", how, 3, err, sizeof(err)), -1, "unknown refused");
	is_str(err, "--napi-thread: 'x' is not none, aligned or separate", "choice error lists names");
}

int main(void)
{
	test_int();
	test_num();
	test_size();
	test_time();
	test_cpus();
	test_choice();
	return tap_done();
}
