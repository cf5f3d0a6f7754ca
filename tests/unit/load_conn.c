/* The reply parser: every reply kind, split at every byte boundary, gives
 * the same counts; malformed replies are protocol errors, never skipped.
 * The request writer: exact memcached text-protocol bytes. */
#include <stdlib.h>
#include <string.h>

#include "../../load/load.h"
#include "tap.h"

static const char stream[] =
	"VALUE 0000000042 0 5\r\nhello\r\nEND\r\n"	/* get: hit */
	"END\r\n"					/* get: miss */
	"STORED\r\n"					/* set */
	"SERVER_ERROR out of memory\r\n"		/* get: error */
	"NOT_STORED\r\n"				/* set: refused */
	"VALUE 0000000007 3 0\r\n\r\nEND\r\n";		/* get: empty value */
static const enum op ops[] = { OP_GET, OP_GET, OP_SET, OP_GET, OP_SET, OP_GET };

static struct workload w;

static void setup(struct thread *t, struct lconn *c)
{
	memset(t, 0, sizeof(*t));
	lstats_init(&t->st);
	lconn_init(c, t, 0, 16);
	for (unsigned i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		lconn_add(c, &w, ops[i], 42, 3, 1, 1);
	lconn_flush(c, 2);	/* fd -1: the write fails, the stamps stay */
}

static void teardown(struct thread *t, struct lconn *c)
{
	lconn_free(c);
	lstats_free(&t->st);
}

/* Feeds s in pieces of at most chunk bytes, with a first piece of first. */
static int feed(struct lconn *c, const char *s, size_t len, size_t first, size_t chunk,
		char *err, size_t errlen)
{
	size_t off = 0;

	while (off < len) {
		size_t n = off == 0 && first ? first : chunk;

		if (n > len - off)
			n = len - off;
		memcpy(c->rbuf + c->rlen, s + off, n);
		c->rlen += n;
		off += n;
		if (lconn_parse(c, 100, err, errlen) < 0)
			return -1;
	}
	return 0;
}

static int bad(const char *reply, enum op op, const char *want)
{
	struct thread t;
	struct lconn c;
	char err[200] = "";
	int rc;

	memset(&t, 0, sizeof(t));
	lstats_init(&t.st);
	lconn_init(&c, &t, 0, 4);
	lconn_add(&c, &w, op, 1, 3, 1, 1);
	rc = feed(&c, reply, strlen(reply), 0, strlen(reply), err, sizeof(err));
	lconn_free(&c);
	lstats_free(&t.st);
	if (rc == 0 || !strstr(err, want)) {
		tap_diag("reply '%s': rc %d, err '%s'", reply, rc, err);
		return 0;
	}
	return 1;
}

/* Long on purpose: one list of parser cases in TAP order, a few lines each. */
int main(void)
{
	struct thread t;
	struct lconn c;
	char err[200];
	size_t len = strlen(stream);
	int all = 1;

	il_dist_parse("10", &w.keysize, NULL, 0);
	il_dist_parse("3", &w.valuesize, NULL, 0);
	w.records = 1000;
	workload_init(&w, err, sizeof(err));

	/* Request bytes. */
	setup(&t, &c);
	{
		const char *want = "get 0000000042\r\nget 0000000042\r\n"
				   "set 0000000042 0 0 3\r\nabc\r\n";

		ok(!memcmp(c.wbuf, want, strlen(want)), "get and set requests are memcached text");
		is_int(c.n, 6, "six requests outstanding");
		is_int(c.ring[c.head].sent, 2, "send time stamped at flush");
		is_int(c.ring[c.head].sched, 1, "scheduled time kept (open loop)");
	}
	teardown(&t, &c);

	/* Whole stream, then every two-piece split, then byte by byte. */
	for (size_t first = 0; first < len; first++) {
		setup(&t, &c);
		if (feed(&c, stream, len, first, first ? len : 1, err, sizeof(err)) < 0) {
			tap_diag("split %zu: %s", first, err);
			all = 0;
		}
		all &= t.tot.gets == 3 && t.tot.misses == 1 && t.tot.sets == 2 &&
		       t.tot.set_failed == 1 && t.tot.errors == 1 && c.n == 0 && c.rlen == 0;
		if (first == 0) {
			is_int(t.tot.gets, 3, "byte by byte: 3 answered gets (the error is counted apart)");
			is_int(il_hist_count(t.st.lat[OP_GET][0]), 3, "3 get latencies (the error is not one)");
			is_int(il_hist_max(t.st.lat[OP_GET][0]), 99, "corrected latency from the schedule (100-1)");
			is_int(il_hist_max(t.st.lat[OP_GET][1]), 98, "uncorrected from the send (100-2)");
			is_int(t.st.errors, 1, "server error counted");
		}
		teardown(&t, &c);
	}
	ok(all, "every split of the reply stream gives 3 gets, 1 miss, 2 sets, 1 refused, 1 error");

	ok(bad("VALUE 0000000001 0 5\r\nhelloXX\r\nEND\r\n", OP_GET, "value not followed by CRLF"),
	   "value longer than announced: protocol error");
	ok(bad("STORED\r\n", OP_GET, "unexpected STORED"), "STORED for a get: protocol error");
	ok(bad("END\r\n", OP_SET, "unexpected END"), "END for a set: protocol error");
	ok(bad("WHAT\r\n", OP_GET, "unknown reply: 'WHAT'"), "unknown reply: protocol error");
	ok(bad("END\n", OP_GET, "CRLF"), "bare LF: protocol error");
	ok(bad("END\r\nEND\r\n", OP_GET, "unexpected END"), "extra reply: protocol error");
	ok(bad("STORED\r\nSTORED\r\n", OP_SET, "unexpected STORED"), "extra set reply: protocol error");
	ok(bad("ERROR\r\nERROR\r\n", OP_SET, "reply without a request"), "extra error reply: protocol error");
	ok(bad("VALUE 0000000001 0 x\r\n", OP_GET, "bad VALUE length"), "bad length: protocol error");

	/* Meta protocol: request bytes and replies. */
	{
		static const char meta[] = "VA 5 f0\r\nhello\r\nEN\r\nHD\r\nNS\r\nVA 0\r\n\r\n";
		static const enum op mops[] = { OP_GET, OP_GET, OP_SET, OP_SET, OP_GET };
		size_t mlen = strlen(meta);
		int good = 1;

		for (size_t first = 0; first < mlen; first++) {
			memset(&t, 0, sizeof(t));
			lstats_init(&t.st);
			lconn_init(&c, &t, 0, 8);
			c.meta = 1;
			for (unsigned i = 0; i < 5; i++)
				lconn_add(&c, &w, mops[i], 42, 3, 1, 1);
			if (first == 0) {
				const char *want = "mg 0000000042 v\r\nmg 0000000042 v\r\n"
						   "ms 0000000042 3\r\nabc\r\n";

				ok(!memcmp(c.wbuf, want, strlen(want)), "meta requests: mg KEY v, ms KEY LEN");
			}
			if (feed(&c, meta, mlen, first, first ? mlen : 1, err, sizeof(err)) < 0) {
				tap_diag("meta split %zu: %s", first, err);
				good = 0;
			}
			good &= t.tot.gets == 3 && t.tot.misses == 1 && t.tot.sets == 2 &&
				t.tot.set_failed == 1 && c.n == 0;
			lconn_free(&c);
			lstats_free(&t.st);
		}
		ok(good, "meta replies at every split: 3 gets (1 miss), 2 sets (1 not stored)");
		ok(bad("HD\r\n", OP_GET, "unexpected HD"), "meta HD for a get: protocol error");
		ok(bad("VA 3\r\nabcd\r\n", OP_GET, "CRLF"), "meta value too long: protocol error");
	}

	/* The pieces the io_uring engine uses, and the rules that keep the
	 * kernel's buffers valid while a send or recv is in flight. */
	{
		struct workload big = w;
		char *p;
		size_t room, cap;

		memset(&t, 0, sizeof(t));
		lstats_init(&t.st);
		lconn_init(&c, &t, 0, 8);
		lconn_add(&c, &w, OP_GET, 1, 0, 5, 1);
		lconn_stamp(&c, 7);
		lconn_add(&c, &w, OP_GET, 2, 0, 6, 1);
		lconn_stamp(&c, 9);
		ok(c.ring[0].sent == 7 && c.ring[1].sent == 9 && c.ring[1].sched == 6,
		   "lconn_stamp stamps only the requests added since the last stamp");
		{
			size_t total = c.wlen;

			lconn_sent(&c, 5);
			ok(c.woff == 5 && c.wlen == total, "a partial send advances the offset");
			lconn_sent(&c, total - 5);
			ok(c.woff == 0 && c.wlen == 0 && t.st.bytes_tx == total,
			   "a complete send empties the buffer and counts the bytes");
		}
		/* A set bigger than the write buffer while a send is in flight:
		 * refused (the buffer would move under the kernel), then taken
		 * once the send completed. */
		big.value_max = 100000;
		big.value_data = malloc(big.value_max + 2);
		memset(big.value_data, 'x', big.value_max + 2);
		cap = c.wcap;
		c.sending = 1;
		is_int(lconn_add(&c, &big, OP_SET, 3, 100000, 0, 0), -1,
		       "the write buffer does not grow while a send is in flight");
		ok(c.wcap == cap && c.n == 2, "nothing changed by the refusal");
		c.sending = 0;
		is_int(lconn_add(&c, &big, OP_SET, 3, 100000, 0, 0), 0, "it grows once the send completed");
		free(big.value_data);

		p = lconn_rspace(&c, &room, err, sizeof(err));
		ok(p == c.rbuf && room == c.rcap, "lconn_rspace: the whole empty read buffer");
		memcpy(p, "END\r\nEN", 7);
		ok(lconn_received(&c, 7, err, sizeof(err)) == 0 && t.tot.gets == 1 && c.rlen == 2,
		   "lconn_received parses a reply and keeps the partial line");
		c.rlen = c.rcap;	/* a line as long as the buffer */
		cap = c.rcap;
		p = lconn_rspace(&c, &room, err, sizeof(err));
		ok(p && c.rcap == 2 * cap && room == cap, "a full read buffer doubles");
		lconn_free(&c);
		lstats_free(&t.st);
	}

	workload_free(&w);
	return tap_done();
}
