#define _GNU_SOURCE	/* memmem */
/* Protocol parser without sockets: every error path of the text and meta
 * commands, input split at every byte, and random input (no crash, no
 * desynchronisation after a known-good command). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "../../kv/proto.h"
#include "../../kv/clock.h"
#include "../../kv/kv.h"

static struct kv_thread th;

static void conn_init(struct kv_conn *c)
{
	memset(c, 0, sizeof(*c));
	c->t = &th;
}

/* Feeds bytes the way conn.c does (compact, append, process). Returns
 * the process result. */
static int feed(struct kv_conn *c, const char *p, size_t n)
{
	if (c->rpos) {
		memmove(c->in.p, c->in.p + c->rpos, c->in.len - c->rpos);
		c->in.len -= c->rpos;
		c->rpos = 0;
	}
	buf_add(&c->in, p, n);
	return kv_proto_process(c);
}

static char out[1 << 16];

/* Runs a request on a fresh connection; returns the replies. */
static const char *run(const char *req)
{
	struct kv_conn c;
	int r;

	conn_init(&c);
	r = feed(&c, req, strlen(req));
	snprintf(out, sizeof(out), "%.*s%s", (int)c.out.len, c.out.p ? c.out.p : "",
		 r == PROTO_CLOSE ? "<close>" : "");
	buf_free(&c.in);
	buf_free(&c.out);
	return out;
}

static void check(const char *req, const char *want)
{
	const char *got = run(req);
	char name[64];
	size_t n = 0;

	for (const char *p = req; *p && n < sizeof(name) - 3; p++) {
		if (*p == '\r' || *p == '\n') {
			name[n++] = '\\';
			name[n++] = *p == '\r' ? 'r' : 'n';
		} else {
			name[n++] = *p;
		}
	}
	name[n] = 0;
	if (!ok(!strcmp(got, want), "%s", name))
		tap_diag("got '%s' want '%s'", got, want);
}

/* Long on purpose: one list of error cases in TAP order. */
static void test_errors(void)
{
	char line[4096];

	check("bogus\r\n", "ERROR\r\n");
	check("\r\n", "ERROR\r\n");
	check("   \r\n", "ERROR\r\n");
	check("GET a\r\n", "ERROR\r\n");
	check("get\r\n", "ERROR\r\n");
	check("set a 0 0\r\n", "ERROR\r\n");
	check("set a 0 0 1 2 3\r\n", "ERROR\r\n");
	check("set a -1 0 1\r\n", "CLIENT_ERROR bad command line format\r\n");
	check("set a 0 abc 1\r\n", "CLIENT_ERROR bad command line format\r\n");
	check("set a 0 0 z\r\n", "CLIENT_ERROR bad command line format\r\n");
	check("set a 0 0 -1\r\n", "CLIENT_ERROR bad command line format\r\n");
	check("set a 18446744073709551616 0 1\r\n", "CLIENT_ERROR bad command line format\r\n");
	check("cas a 0 0 1 x\r\n", "CLIENT_ERROR bad command line format\r\n");
	check("cas a 0 0 1\r\n", "ERROR\r\n");
	check("set x 0 0 3\r\nabcd\r\n", "CLIENT_ERROR bad data chunk\r\nERROR\r\n");
	check("set x 0 0 3 noreply\r\nabcd\r\n", "ERROR\r\n");
	memset(line, 'k', sizeof(line));
	memcpy(line, "get ", 4);
	strcpy(line + 4 + 251, "\r\n");
	check(line, "CLIENT_ERROR bad command line format\r\n");
	memcpy(line, "set ", 4);
	strcpy(line + 4 + 251, " 0 0 1\r\nx\r\n");
	check(line, "CLIENT_ERROR bad command line format\r\nERROR\r\n");
	check("incr\r\n", "ERROR\r\n");
	check("incr a\r\n", "ERROR\r\n");
	check("incr a x\r\n", "CLIENT_ERROR invalid numeric delta argument\r\n");
	check("incr a -1\r\n", "CLIENT_ERROR invalid numeric delta argument\r\n");
	check("incr a 18446744073709551616\r\n", "CLIENT_ERROR invalid numeric delta argument\r\n");
	check("decr a 1 2 3\r\n", "ERROR\r\n");
	check("set s 0 0 1\r\nx\r\nincr s 1\r\n",
	      "STORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
	check("delete\r\n", "ERROR\r\n");
	check("delete a 5\r\n", "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n");
	check("delete a 0 0\r\n", "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n");
	check("touch a\r\n", "ERROR\r\n");
	check("touch a x\r\n", "CLIENT_ERROR invalid exptime argument\r\n");
	check("gat x a\r\n", "CLIENT_ERROR invalid exptime argument\r\n");
	check("flush_all x\r\n", "CLIENT_ERROR invalid exptime argument\r\n");
	check("flush_all 1 2 3\r\n", "ERROR\r\n");
	check("verbosity\r\n", "ERROR\r\n");
	check("verbosity x\r\n", "CLIENT_ERROR bad command line format\r\n");
	check("verbosity 1 2 3\r\n", "ERROR\r\n");
	check("stats detail\r\n", "CLIENT_ERROR usage: stats detail on|off|dump\r\n");
	check("stats nonsense\r\n", "ERROR\r\n");
	check("shutdown\r\n", "ERROR: shutdown not enabled\r\n");
	check("quit\r\nget a\r\n", "<close>");
	check("version\r\n", "VERSION " KV_VERSION "\r\n");
	check("set big 0 0 2000000\r\n", "SERVER_ERROR object too large for cache\r\n");
	check("set big 0 0 2000000 noreply\r\n", "");
	/* meta */
	check("mg\r\n", "ERROR\r\n");
	check("mx a\r\n", "ERROR\r\n");
	check("mn\r\n", "MN\r\n");
	check("ms a\r\n", "CLIENT_ERROR bad command line format\r\n");
	check("ms a x\r\n", "CLIENT_ERROR bad command line format\r\n");
	check("mg a zz\r\n", "CLIENT_ERROR invalid flag\r\n");
	check("mg a v v\r\n", "CLIENT_ERROR duplicate flag\r\n");
	check("mg a Tx\r\n", "CLIENT_ERROR bad token in command line format\r\n");
	check("mg a O123456789012345678901234567890123\r\n", "CLIENT_ERROR opaque token too long\r\n");
	check("mg a== b\r\n", "CLIENT_ERROR error decoding key\r\n");
	check("ms a 2 Fx\r\nhi\r\nmn\r\n", "CLIENT_ERROR bad command line format\r\nMN\r\n");
	check("ms a 2 Cx\r\nhi\r\nmn\r\n", "CLIENT_ERROR bad token in command line format\r\nMN\r\n");
	check("ms a 2 MZ\r\nhi\r\nmn\r\n", "CLIENT_ERROR invalid mode for ms M token\r\nMN\r\n");
	check("ms a 2 E1\r\nhi\r\nmn\r\n", "CLIENT_ERROR invalid flag\r\nMN\r\n");
	check("ms a 2\r\nhix\r\n", "CLIENT_ERROR bad data chunk\r\nERROR\r\n");
	check("ms a 2000000\r\n", "SERVER_ERROR object too large for cache\r\n");
	check("md a Cx\r\n", "CLIENT_ERROR invalid or duplicate flag\r\n");
	check("md a q q\r\n", "CLIENT_ERROR invalid or duplicate flag\r\n");
	check("ma a Dx\r\n", "CLIENT_ERROR invalid or duplicate flag\r\n");
	check("ma a Mx\r\n", "CLIENT_ERROR invalid mode for ma M token\r\n");
	check("ms s 1\r\nx\r\nma s\r\n",
	      "HD\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
	check("me zz\r\n", "EN\r\n");
	/* a line with no newline: memcached's 2048-byte rule */
	memset(line, 'x', 3000);
	line[3000] = 0;
	check(line, "<close>");
	memcpy(line, "get ", 4);
	check(line, "");
}

static void test_replies(void)
{
	check("set a 5 0 3\r\nabc\r\nget a b\r\n", "STORED\r\nVALUE a 5 3\r\nabc\r\nEND\r\n");
	check("mg a v f s k\r\n", "VA 3 f5 s3 ka\r\nabc\r\n");
	check("mg a\r\n", "HD\r\n");
	check("mg nope v\r\nmg nope v q\r\nmn\r\n", "EN\r\nMN\r\n");
	check("ms q1 1 q\r\n1\r\nma q1 q\r\nma q1 v\r\n", "VA 1\r\n3\r\n");
	check("md q1 q\r\nmd q1 q\r\n", "NF\r\n");
	check("ms bWs= 2 b k\r\nhi\r\nmg mk v\r\n", "HD kbWs= b\r\nVA 2\r\nhi\r\n");
	check("ms am 1 MA\r\nx\r\n", "NS\r\n");
	check("incr nope 1\r\ndecr nope 1\r\ntouch nope 1\r\n", "NOT_FOUND\r\nNOT_FOUND\r\nNOT_FOUND\r\n");
	check("get a a\r\n", "VALUE a 5 3\r\nabc\r\nVALUE a 5 3\r\nabc\r\nEND\r\n");
	check("gat 100 a\r\n", "VALUE a 5 3\r\nabc\r\nEND\r\n");
	check("mg a t\r\n", "HD t100\r\n");
	check("set a 0 0 1 noreply\r\nx\r\nget a\r\n", "VALUE a 0 1\r\nx\r\nEND\r\n");
	check("mg viv N30 v t\r\nmg viv v\r\n", "VA 0 t30 W\r\n\r\nVA 0 Z\r\n\r\n");
	check("ms inv 1\r\nx\r\nmd inv I\r\nmg inv v\r\nmg inv\r\n",
	      "HD\r\nHD\r\nVA 1 X W\r\nx\r\nHD Z X\r\n");
	check("ms rc 1 T10\r\nx\r\nmg rc R5\r\nmg rc R30\r\nmg rc R30\r\n",
	      "HD\r\nHD\r\nHD W\r\nHD Z\r\n");
	check("mg rc Nx\r\n", "CLIENT_ERROR bad token in command line format\r\n");
	{
		const char *r = run("set si 0 0 3\r\nabc\r\nstats items\r\nstats slabs\r\n");

		ok(strstr(r, "STAT items:1:number ") && strstr(r, "STAT 1:chunk_size 96\r\n") &&
		   strstr(r, "STAT 1:chunks_per_page 10922\r\n") &&
		   strstr(r, "STAT items:1:mem_requested ") && strstr(r, "STAT items:1:evicted_time ") &&
		   strstr(r, "STAT 1:free_chunks_end 0\r\n") && strstr(r, "STAT 1:touch_hits ") &&
		   strstr(r, "STAT active_slabs ") && !strcmp(r + strlen(r) - 5, "END\r\n"),
		   "stats items / stats slabs list the class of a stored item (memcached's class 1, 96 bytes)");
	}
}

/* Pipelined gets of big values, nothing read: the parser stops while more
 * than KV_OUT_HIGH bytes wait, and goes on once they are sent. */
static void test_out_bound(void)
{
	static char big[900 * 1024];
	char hdr[64];
	struct kv_conn c;
	size_t maxout = 0, sent = 0, want;
	int rounds = 0, paused_ok = 1;

	memset(big, 'b', sizeof(big));
	conn_init(&c);
	snprintf(hdr, sizeof(hdr), "set big 0 0 %zu\r\n", sizeof(big));
	feed(&c, hdr, strlen(hdr));
	feed(&c, big, sizeof(big));
	feed(&c, "\r\n", 2);
	is_int((int)c.out.len, 8, "900 kB value stored");
	c.out.len = 0;
	for (int i = 0; i < 200; i++)
		buf_add(&c.in, "get big\r\n", 9);
	want = 200 * (sizeof(big) + strlen("VALUE big 0 921600\r\n") + 2 + 5);
	while (rounds < 1000) {
		kv_proto_process(&c);
		if (c.out.len > maxout)
			maxout = c.out.len;
		sent += c.out.len;
		c.out.len = c.wpos = 0;	/* the client read everything */
		rounds++;
		if (!c.paused)
			break;
		paused_ok &= c.rpos < c.in.len;
	}
	ok(paused_ok && rounds >= 100, "parsing paused for output %d times, input kept", rounds - 1);
	ok(maxout <= KV_OUT_HIGH + sizeof(big) + 64,
	   "unsent output stays under KV_OUT_HIGH + one reply (%zu)", maxout);
	ok(sent == want && c.rpos == c.in.len, "all 200 replies once drained (%zu of %zu bytes)",
	   sent, want);

	/* a multi-get parsed after pauses for output, whose last key is
	 * invalid: none of its values is ever handed to the socket (they are
	 * taken back, as memcached drops them), the earlier gets' are */
	{
		size_t one = sizeof(big) + strlen("VALUE big 0 921600\r\n") + 2 + 5;
		const char *err = "CLIENT_ERROR bad command line format\r\nEND\r\n";
		int values = 0, pauses = 0;
		bool tail_ok = false;

		c.in.len = c.rpos = 0;
		c.out.len = c.wpos = c.flush_mark = 0;
		for (int i = 0; i < 3; i++)
			buf_adds(&c.in, "get big\r\n");
		buf_adds(&c.in, "get big big big ");
		for (int i = 0; i < 251; i++)
			buf_adds(&c.in, "k");
		buf_adds(&c.in, "\r\nget nope\r\n");
		sent = 0;
		for (rounds = 0; rounds < 100; rounds++) {
			kv_proto_process(&c);
			for (const char *p = c.out.p, *e = c.out.p + c.out.len;
			     p && (p = memmem(p, (size_t)(e - p), "VALUE big", 9)); p += 9)
				values++;
			sent += c.out.len;
			tail_ok = c.out.len >= strlen(err) &&
				  !memcmp(c.out.p + c.out.len - strlen(err), err, strlen(err));
			c.out.len = c.wpos = c.flush_mark = 0;	/* all written */
			if (!c.paused)
				break;
			pauses++;
		}
		ok(pauses >= 1 && values == 3 && tail_ok && sent == 3 * one + strlen(err),
		   "a multi-get after %d output pauses with an invalid last key: its values never sent "
		   "(%d values, %zu bytes)", pauses, values, sent);
	}

	/* one multi-get of 100 x 900 kB: over KV_GET_OUT_MAX, refused */
	c.in.len = c.rpos = 0;
	buf_adds(&c.in, "get");
	for (int i = 0; i < 100; i++)
		buf_adds(&c.in, " big");
	buf_adds(&c.in, "\r\nget nope\r\n");
	kv_proto_process(&c);
	ok(c.out.len < 200 && c.out.p &&
	   !strncmp(c.out.p, "SERVER_ERROR out of memory writing get response\r\nEND\r\n", c.out.len),
	   "a get over KV_GET_OUT_MAX: SERVER_ERROR, stream in sync");
	ok(c.out.cap <= 2 * (KV_GET_OUT_MAX + sizeof(big)), "output buffer capacity bounded (%zu)",
	   c.out.cap);
	buf_free(&c.in);
	buf_free(&c.out);
	run("delete big\r\n");
}

/* cmd_set as memcached 1.6.18 counts it (checked against it): a bad data
 * chunk counts, a set refused for memory does not, text or meta. */
static void test_cmd_set(void)
{
	struct store_cfg sc = { .mem_limit = 1 << 20, .item_max = 2 << 20, .nshards = 1 };
	struct store *keep = th.store, *tiny = store_new(&sc);
	static char big[1500 * 1024];
	char hdr[64];
	struct kv_conn c;
	uint64_t before = th.st.cmd_set;

	check("set cs 0 0 1\r\nxyz\r\n", "CLIENT_ERROR bad data chunk\r\nERROR\r\n");
	check("ms cs 1\r\nxyz\r\n", "CLIENT_ERROR bad data chunk\r\nERROR\r\n");
	ok(th.st.cmd_set == before + 2, "a bad data chunk counts in cmd_set (set and ms)");
	check("set cs 0 0 1\r\nx\r\nms cs 1\r\nx\r\n", "STORED\r\nHD\r\n");
	ok(th.st.cmd_set == before + 4, "stored sets count");

	/* a store where a 1.5 MB item cannot fit at all (1 MB limit) */
	th.store = tiny;
	memset(big, 'v', sizeof(big));
	before = th.st.cmd_set;
	for (int meta = 0; meta < 2; meta++) {
		conn_init(&c);
		if (meta)
			snprintf(hdr, sizeof(hdr), "ms huge %zu\r\n", sizeof(big));
		else
			snprintf(hdr, sizeof(hdr), "set huge 0 0 %zu\r\n", sizeof(big));
		feed(&c, hdr, strlen(hdr));
		feed(&c, big, sizeof(big));
		feed(&c, "\r\n", 2);
		ok(c.out.len == 43 && !memcmp(c.out.p, "SERVER_ERROR out of memory storing object\r\n", 43),
		   "%s that cannot fit: SERVER_ERROR out of memory", meta ? "ms" : "set");
		buf_free(&c.in);
		buf_free(&c.out);
	}
	ok(th.st.cmd_set == before, "sets refused for memory do not count in cmd_set");
	th.store = keep;
	store_free(tiny);
}

/* Splitting the same script at every byte must not change the replies. */
/* ms's c flag returns the cas the item got (mg then reports the same). */
static void test_ms_cas(void)
{
	unsigned long long set_cas = 0, get_cas = 1;
	const char *r = run("ms mscas 2 c\r\nhi\r\nmg mscas c\r\n");

	int n = sscanf(r, "HD c%llu\r\nHD c%llu\r\n", &set_cas, &get_cas);

	ok(n == 2 && set_cas && set_cas == get_cas, "ms c returns the new cas (%llu, mg: %llu)", set_cas, get_cas);
}

static void test_split(void)
{
	const char *script =
		"set sp 1 0 5\r\nhello\r\nget sp\r\nappend sp 0 0 1\r\n!\r\n"
		"get sp\r\nbogus\r\nms sq 3 T0\r\nabc\r\nmg sq v\r\nincr sp 1\r\n"
		"set big 0 0 5000000\r\n0123456789\r\ndelete sp\r\nmn\r\n";
	size_t n = strlen(script);
	char whole[4096];
	int same = 1;

	store_flush(th.store, th.now, 0);
	snprintf(whole, sizeof(whole), "%s", run(script));
	for (size_t cut = 1; cut < n; cut++) {
		struct kv_conn c;

		store_flush(th.store, th.now, 0);
		conn_init(&c);
		feed(&c, script, cut);
		feed(&c, script + cut, n - cut);
		/* the too-large value is still being swallowed: same as whole */
		if (!(c.out.len == strlen(whole) && !memcmp(c.out.p, whole, c.out.len))) {
			if (same)
				tap_diag("cut %zu: got '%.*s'", cut, (int)c.out.len, c.out.p);
			same = 0;
		}
		buf_free(&c.in);
		buf_free(&c.out);
	}
	ok(same, "replies identical whatever the split point (%zu splits)", n - 1);
}

/* Random bytes and random token soup: no crash, and the connection is
 * still in sync when it survives (a "mn" after a newline answers MN). */
static void test_fuzz(void)
{
	static const char *words[] = {
		"get", "gets", "gat", "set", "add", "cas", "incr", "decr", "delete",
		"touch", "mg", "ms", "md", "ma", "me", "mn", "flush_all", "stats",
		"noreply", "0", "1", "-1", "5", "99999999999999999999", "k", "v",
		"T1", "Oq", "b", "q", "MA", "ME", "N0", "J5", "D2", "C1", "F3", "\r\n",
		"\n", "  ", "x", "verbosity", "append", "prepend", "replace", "version",
	};
	unsigned seed = 12345;
	int alive = 0, synced = 0;

	for (int iter = 0; iter < 4000; iter++) {
		char req[600];
		size_t n = 0;
		struct kv_conn c;
		int r;

		conn_init(&c);
		while (n < 400) {
			seed = seed * 1103515245 + 12345;
			if (iter % 2) {
				req[n++] = (char)(seed >> 16);
			} else {
				const char *w = words[(seed >> 16) % (sizeof(words) / sizeof(words[0]))];

				n += (size_t)snprintf(req + n, sizeof(req) - n, "%s ", w);
			}
		}
		r = feed(&c, req, n);
		if (r != PROTO_CLOSE && !c.swallow && !c.need) {
			alive++;
			/* end the last line; a storage command then waits for
			 * its data block, which is not desynchronisation */
			feed(&c, "\r\n", 2);
			if (c.need || c.swallow) {
				alive--;
			} else {
				c.out.len = 0;
				r = feed(&c, "mn\r\n", 4);
				synced += r == PROTO_OK && c.out.len >= 4 &&
					  !memcmp(c.out.p + c.out.len - 4, "MN\r\n", 4);
			}
		}
		buf_free(&c.in);
		buf_free(&c.out);
	}
	ok(1, "4000 random inputs processed without a crash");
	ok(alive > 100 && synced == alive, "after random input, a new command answers (%d/%d)",
	   synced, alive);
}

/* memcached's admin commands doing what they say (their replies and error
 * paths are compared with memcached in kv_requests/21_admin.txt). */
static void test_admin(void)
{
	struct store_stats a, b;
	const char *r;
	char k[16];
	bool stored = true;

	run("flush_all\r\n");
	/* 11000 one-byte items: class 1 (10922 a page) takes 2 pages */
	for (int i = 0; i < 11000; i++) {
		snprintf(k, sizeof(k), "ra%d", i);
		stored &= store_put(th.store, ST_SET, k, strlen(k), 0, 0, "x", 1, 0, th.now, NULL) == ST_STORED;
	}
	store_stats(th.store, &a);
	check("slabs reassign 1 5\r\n", "OK\r\n");
	store_stats(th.store, &b);
	r = run("stats slabs\r\n");
	ok(stored && strstr(r, "STAT 1:total_pages 1\r\n") && strstr(r, "STAT 5:total_pages 1\r\n") &&
	   b.evictions > a.evictions && b.curr_items < a.curr_items && b.mem_used == a.mem_used,
	   "slabs reassign 1 5: a page of class 1 (its items evicted: %llu -> %llu) now in class 5",
	   (unsigned long long)a.curr_items, (unsigned long long)b.curr_items);
	check("slabs reassign 1 5\r\n", "NOSPARE source class has no spare pages\r\n");
	check("slabs reassign -1 7\r\n", "NOSPARE source class has no spare pages\r\n");
	check("slabs automove 0\r\n", "OK\r\n");
	ok(strstr(run("stats settings\r\n"), "STAT slab_automove 0\r\n") != NULL,
	   "slabs automove 0 shows in stats settings");
	check("slabs automove 1\r\n", "OK\r\n");

	/* crawl: expired items freed, counted per class */
	run("flush_all\r\n");
	check("set e1 0 2 1\r\nx\r\nset e2 0 2 1\r\nx\r\nset k%b 0 0 1\r\ny\r\n",
	      "STORED\r\nSTORED\r\nSTORED\r\n");
	r = run("stats cachedump 1 0\r\n");
	ok(strstr(r, "ITEM k%b [1 b; 0 s]\r\n") && strstr(r, "ITEM e1 [1 b; ") && !strcmp(r + strlen(r) - 5, "END\r\n"),
	   "stats cachedump lists the class's items (no expiry: 0 s)");
	check("stats cachedump 1 1\r\n", "ITEM k%b [1 b; 0 s]\r\nEND\r\n");
	th.now += 5;
	store_stats(th.store, &a);
	check("lru_crawler crawl 1\r\n", "OK\r\n");
	store_stats(th.store, &b);
	r = run("stats items\r\n");
	ok(a.curr_items == 3 && b.curr_items == 1 && strstr(r, "STAT items:1:crawler_reclaimed 2\r\n") &&
	   strstr(r, "STAT items:1:crawler_items_checked 3\r\n") && b.reclaimed == a.reclaimed,
	   "lru_crawler crawl 1 frees the 2 expired items (crawler_reclaimed 2 of 3 checked)");
	r = run("lru_crawler metadump 1\r\n");
	ok(!strncmp(r, "key=k%25b exp=-1 la=", 20) && strstr(r, " fetch=no cls=1 size=63\nEND\r\n"),
	   "lru_crawler metadump: memcached's line, key uri-encoded, memcached's size (%s)", r);
	check("lru_crawler disable\r\nlru_crawler crawl 1\r\nlru_crawler enable\r\n",
	      "OK\r\nCLIENT_ERROR lru crawler disabled\r\nOK\r\n");
}

int main(void)
{
	struct store_cfg sc = { .mem_limit = 64 << 20, .item_max = 1 << 20, .nshards = 1 };

	kv_clock_init();
	th.store = kv_store = store_new(&sc);
	th.now = 10;
	test_errors();
	test_replies();
	test_ms_cas();
	test_split();
	test_out_bound();
	test_cmd_set();
	test_admin();
	test_fuzz();
	store_free(kv_store);
	return tap_done();
}
