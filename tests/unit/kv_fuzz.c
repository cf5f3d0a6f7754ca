/* A libFuzzer target for the protocol parser, also run as a unit test.
 *
 * Unit test (make check): feeds 20000 deterministic pseudo-random inputs,
 * each split at a pseudo-random point, through LLVMFuzzerTestOneInput.
 * libFuzzer, for longer runs (clang):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DKV_LIBFUZZER -Iinclude \
 *     -Itests tests/unit/kv_fuzz.c $(find kv -name '*.c' ! -name main.c) \
 *     build/libirqlab.a -lmnl -ljansson -lm -pthread \
 *     -o /tmp/kv_fuzz && /tmp/kv_fuzz -max_total_time=60
 * Each input's first byte chooses the split point; the property checked
 * besides "no crash, no sanitizer report" is that the reply buffer never
 * holds more than the parser was given room for and that the parser always
 * makes progress or waits. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "../../kv/proto.h"
#include "../../kv/clock.h"
#include "../../kv/kv.h"

static struct kv_thread th;

static void setup(void)
{
	struct store_cfg sc = { .mem_limit = 8 << 20, .item_max = 256 * 1024, .nshards = 2,
				.page_size = 64 * 1024 };

	if (th.store)
		return;
	kv_clock_init();
	th.store = kv_store = store_new(&sc);
	th.now = 10;
}

static int feed(struct kv_conn *c, const uint8_t *p, size_t n)
{
	if (c->rpos) {
		memmove(c->in.p, c->in.p + c->rpos, c->in.len - c->rpos);
		c->in.len -= c->rpos;
		c->rpos = 0;
	}
	buf_add(&c->in, p, n);
	return kv_proto_process(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kv_conn c;
	size_t cut;

	setup();
	memset(&c, 0, sizeof(c));
	c.t = &th;
	if (!size)
		return 0;
	cut = data[0] % size;
	if (feed(&c, data + 1, cut > 0 ? cut - 1 : 0) != PROTO_CLOSE)
		(void)feed(&c, data + (cut > 0 ? cut : 1), size - (cut > 0 ? cut : 1));
	if (c.rpos > c.in.len)
		abort();	/* parsed past the input */
	buf_free(&c.in);
	buf_free(&c.out);
	return 0;
}

#ifndef KV_LIBFUZZER
int main(void)
{
	static const char *seeds[] = {
		"set a 0 0 1\r\nx\r\n", "get a b c\r\n", "gets a\r\n", "ms k 2 T0 F1 c k b\r\nhi\r\n",
		"mg k v s f t c k O1 q h l\r\n", "ma k N0 J5 D2 MD v t c\r\n", "md k q C5\r\n",
		"incr a 5\r\n", "cas a 0 0 1 3\r\ny\r\n", "gat 10 a b\r\n", "flush_all 5\r\n",
		"append a 0 0 1 noreply\r\nz\r\n", "touch a 5\r\n", "me a\r\n", "mn\r\n",
		"set big 0 0 300000\r\n", "verbosity 1\r\n", "stats settings\r\n",
	};
	uint8_t buf[2048];
	unsigned seed = 4242;
	int runs = 0;

	for (int i = 0; i < 20000; i++) {
		size_t n = 0;

		/* mutate a concatenation of seeds: flips, inserts, truncation */
		while (n < 600) {
			const char *s;

			seed = seed * 1103515245 + 12345;
			s = seeds[(seed >> 16) % (sizeof(seeds) / sizeof(seeds[0]))];
			if (n + strlen(s) >= sizeof(buf))
				break;
			memcpy(buf + n, s, strlen(s));
			n += strlen(s);
		}
		for (int m = 0; m < 1 + i % 8; m++) {
			seed = seed * 1103515245 + 12345;
			buf[(seed >> 8) % n] = (uint8_t)(seed >> 20);
		}
		seed = seed * 1103515245 + 12345;
		n = 1 + (seed >> 12) % n;
		LLVMFuzzerTestOneInput(buf, n);
		runs++;
	}
	ok(runs == 20000, "20000 mutated inputs through the fuzz target without a crash");
	store_free(kv_store);
	return tap_done();
}
#endif
