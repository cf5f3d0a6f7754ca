/* memcached's lexical rules: token splitting and the number syntax of
 * arguments and stored values (safe_strtoull, safe_strtol). */
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "../../kv/token.h"

static void test_tokenize(void)
{
	struct kv_tok t[4];
	const char *line = "  get  a bb ";
	int n = kv_tokenize(line, strlen(line), t, 4);

	ok(n == 3 && kv_tok_is(&t[0], "get") && kv_tok_is(&t[1], "a") &&
	   kv_tok_is(&t[2], "bb"), "spaces (runs of them, leading, trailing) separate tokens");
	ok(kv_tokenize("   ", 3, t, 4) == 0, "only spaces: no token");
	ok(kv_tokenize("a b c d e f", 11, t, 4) == 5 && kv_tok_is(&t[3], "d"),
	   "more tokens than room: max + 1, the first max kept");
	n = kv_tokenize("a\tb", 3, t, 4);
	ok(n == 1 && t[0].n == 3, "only ' ' separates (a tab is part of a token)");
}

static void test_numbers(void)
{
	uint64_t v;
	const char *good[] = { "0", "12", " 12", "+5", "18446744073709551615", "-0", "7 " };
	const char *bad[] = { "", "x", "1x", "0x1", "-1", "18446744073709551616", " ", "+" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(kv_strtoull(good[i], good[i] + strlen(good[i]), &v), "number '%s' accepted", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(!kv_strtoull(bad[i], bad[i] + strlen(bad[i]), &v), "number '%s' refused", bad[i]);
}

static void test_i32(void)
{
	struct kv_tok t;
	int32_t v = 0;
	/* memcached's safe_strtol: strtol's 64-bit range, then truncated to
	 * 32 bits by the assignment */
	const struct { const char *s; int32_t v; } good[] = {
		{ "0", 0 }, { "-1", -1 }, { "+7", 7 }, { "2147483647", INT32_MAX },
		{ "-2147483648", INT32_MIN }, { "2147483648", INT32_MIN },
		{ "4294967296", 0 }, { "99999999999", 1215752191 },
		{ "9223372036854775807", -1 }, { "-9223372036854775808", 0 },
		{ "1\t", 1 },
	};
	const char *bad[] = { "", "x", "1x", "-", "9223372036854775808",
			      "-9223372036854775809", "99999999999999999999" };

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		t.p = good[i].s;
		t.n = strlen(good[i].s);
		ok(kv_tok_i32(&t, &v) && v == good[i].v, "int32 '%s' accepted as %d (got %d)",
		   good[i].s, good[i].v, v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t.p = bad[i];
		t.n = strlen(bad[i]);
		ok(!kv_tok_i32(&t, &v), "int32 '%s' refused", bad[i]);
	}
}

int main(void)
{
	test_tokenize();
	test_numbers();
	test_i32();
	return tap_done();
}
