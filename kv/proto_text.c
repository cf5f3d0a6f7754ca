/* memcached text protocol (doc/protocol.txt of memcached 1.6), answering
 * byte for byte like memcached 1.6.18 for the same requests: the same token
 * count rules, the same error strings, the same consumption of data blocks
 * after an error, and noreply silencing everything a command would say. */
#include "proto.h"

#include <string.h>

#include "clock.h"
#include "settings.h"
#include "stats.h"

#define HDR_ROOM 320	/* "VALUE " key flags bytes cas "\r\n" */

/* ---- helpers shared with proto_meta.c ---- */

int proto_tokenize(const char *line, size_t len, struct tok *t, int max)
{
	const char *p = line, *end = line + len;
	int n = 0;

	while (p < end) {
		const char *s;

		while (p < end && *p == ' ')
			p++;
		if (p == end)
			break;
		if (n == max)
			return max + 1;
		for (s = p; p < end && *p != ' '; p++)
			;
		t[n].p = s;
		t[n].n = (size_t)(p - s);
		n++;
	}
	return n;
}

bool tok_is(const struct tok *t, const char *s)
{
	size_t n = strlen(s);

	return t->n == n && !memcmp(t->p, s, n);
}

bool tok_u64(const struct tok *t, uint64_t *v)
{
	return kv_strtoull(t->p, t->p + t->n, v);
}

/* memcached's safe_strtol into an int32: sign, digits, nothing after. */
bool tok_i32(const struct tok *t, int32_t *v)
{
	const char *p = t->p, *end = t->p + t->n, *d;
	bool neg = false;
	int64_t x = 0;

	while (p < end && (*p == ' ' || (*p >= '\t' && *p <= '\r')))
		p++;
	if (p < end && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	for (d = p; p < end && *p >= '0' && *p <= '9'; p++) {
		x = x * 10 + (*p - '0');
		if (x > (int64_t)1 << 32)
			return false;
	}
	if (p == d || p != end)
		return false;
	if (neg)
		x = -x;
	if (x > INT32_MAX || x < INT32_MIN)
		return false;
	*v = (int32_t)x;
	return true;
}

void proto_need(struct kv_conn *c, size_t need)
{
	c->need = need;
}

static void reply(struct kv_conn *c, const char *s)
{
	buf_adds(&c->out, s);
}

static bool is_noreply(const struct tok *t, int nt)
{
	return nt > 0 && tok_is(&t[nt - 1], "noreply");
}

/* ---- retrieval ---- */

/* One "VALUE key flags bytes [cas]\r\n<data>\r\n" for a hit; nothing for a
 * miss. The value is copied after room for the header, then the header is
 * written and the value slid down to meet it: one buffer, one write. */
static bool value_reply(struct kv_conn *c, const char *key, size_t nkey,
			bool with_cas, const uint32_t *touch)
{
	struct buf *o = &c->out;
	size_t start = o->len;
	struct st_meta m;
	char hdr[HDR_ROOM], *h = hdr;

	buf_reserve(o, HDR_ROOM);
	o->len += HDR_ROOM;
	if (!store_get(c->t->store, key, nkey, c->t->now, touch, &m, o)) {
		o->len = start;
		return false;
	}
	memcpy(h, "VALUE ", 6);
	h += 6;
	memcpy(h, key, nkey);
	h += nkey;
	*h++ = ' ';
	h = il_u64toa(m.flags, h);
	*h++ = ' ';
	h = il_u64toa(m.nbytes, h);
	if (with_cas) {
		*h++ = ' ';
		h = il_u64toa(m.cas, h);
	}
	*h++ = '\r';
	*h++ = '\n';
	memmove(o->p + start + (h - hdr), o->p + start + HDR_ROOM, m.nbytes + 2);
	memcpy(o->p + start, hdr, (size_t)(h - hdr));
	o->len = start + (size_t)(h - hdr) + m.nbytes + 2;
	return true;
}

/* get/gets/gat/gats: keys are scanned from the line itself, so a multi-get
 * is not limited to TOK_MAX tokens. */
static long cmd_get(struct kv_conn *c, const char *p, const char *end,
		    bool with_cas, const uint32_t *touch)
{
	size_t start = c->out.len;

	for (;;) {
		const char *k;

		if (c->out.len - start > KV_GET_OUT_MAX) {
			/* values are copied into the output, so a get of many
			 * big values is bounded; memcached's words for it */
			c->out.len = start;
			KV_INC(c->t, get_out_of_memory);
			reply(c, "SERVER_ERROR out of memory writing get response\r\n");
			return 0;
		}

		while (p < end && *p == ' ')
			p++;
		if (p == end)
			break;
		for (k = p; p < end && *p != ' '; p++)
			;
		if (p - k > KV_KEY_MAX) {
			/* memcached (1.6.18) drops the replies not yet sent
			 * back to the end of the previous get, not only this
			 * get's: so do we, to stay byte-compatible */
			c->out.len = c->get_mark > c->wpos ? c->get_mark : c->wpos;
			reply(c, "CLIENT_ERROR bad command line format\r\n");
			return 0;
		}
		if (touch) {
			KV_INC(c->t, cmd_touch);
			KV_ADD(c->t, touch_hits, value_reply(c, k, (size_t)(p - k), with_cas, touch));
			continue;
		}
		KV_INC(c->t, cmd_get);
		if (value_reply(c, k, (size_t)(p - k), with_cas, NULL))
			KV_INC(c->t, get_hits);
		else
			KV_INC(c->t, get_misses);
	}
	reply(c, "END\r\n");
	c->get_mark = c->out.len;
	return 0;
}

static long cmd_gat(struct kv_conn *c, struct tok *t, const char *end, bool with_cas)
{
	int32_t exp;
	uint32_t rt;

	if (!tok_i32(&t[1], &exp)) {
		reply(c, "CLIENT_ERROR invalid exptime argument\r\n");
		return 0;
	}
	rt = kv_realtime(exp, c->t->now);
	return cmd_get(c, t[1].p + t[1].n, end, with_cas, &rt);
}

/* ---- storage ---- */

static const char *store_reply(enum st_res r)
{
	switch (r) {
	case ST_STORED: return "STORED\r\n";
	case ST_EXISTS: return "EXISTS\r\n";
	case ST_NOT_FOUND: return "NOT_FOUND\r\n";
	case ST_TOO_LARGE: return "SERVER_ERROR object too large for cache\r\n";
	case ST_NO_MEMORY: return "SERVER_ERROR out of memory storing object\r\n";
	default: return "NOT_STORED\r\n";
	}
}

static long cmd_store(struct kv_conn *c, enum st_op op, struct tok *t,
		      const char *data, size_t avail)
{
	uint64_t flags, cas = 0;
	int32_t exp, vlen;
	size_t need;
	enum st_res r;

	if (t[1].n > KV_KEY_MAX || !tok_u64(&t[2], &flags) ||
	    !tok_i32(&t[3], &exp) || !tok_i32(&t[4], &vlen) ||
	    (op == ST_CAS && !tok_u64(&t[5], &cas)) || vlen < 0 ||
	    vlen > INT32_MAX - 2) {
		reply(c, "CLIENT_ERROR bad command line format\r\n");
		return 0;
	}
	need = (size_t)vlen + 2;
	if (store_item_size(t[1].n, (size_t)vlen) > store_item_max(c->t->store)) {
		KV_INC(c->t, store_too_large);
		reply(c, "SERVER_ERROR object too large for cache\r\n");
		/* like memcached: a failed set must not leave stale data */
		if (op == ST_SET)
			store_delete(c->t->store, t[1].p, t[1].n, 0, c->t->now);
		c->swallow = need;
		return 0;
	}
	if (avail < need) {
		proto_need(c, need);
		return NEED_MORE;
	}
	/* memcached counts a set once its item is allocated (before the
	 * data's terminator is checked), so a bad data chunk counts and a
	 * set refused for memory does not */
	if (data[vlen] != '\r' || data[vlen + 1] != '\n') {
		KV_INC(c->t, cmd_set);
		reply(c, "CLIENT_ERROR bad data chunk\r\n");
		return (long)need;
	}
	r = store_put(c->t->store, op, t[1].p, t[1].n, (uint32_t)flags,
		      kv_realtime(exp, c->t->now), data, (size_t)vlen, cas,
		      c->t->now, NULL);
	if (r != ST_NO_MEMORY)
		KV_INC(c->t, cmd_set);
	if (op == ST_CAS) {
		if (r == ST_STORED)
			KV_INC(c->t, cas_hits);
		else if (r == ST_EXISTS)
			KV_INC(c->t, cas_badval);
		else if (r == ST_NOT_FOUND)
			KV_INC(c->t, cas_misses);
	}
	if (r == ST_NO_MEMORY)
		KV_INC(c->t, store_no_memory);
	reply(c, store_reply(r));
	return (long)need;
}

/* ---- the rest ---- */

static long cmd_arith(struct kv_conn *c, struct tok *t, bool incr)
{
	uint64_t delta, v;
	char num[24];
	enum st_res r;

	if (t[1].n > KV_KEY_MAX) {
		reply(c, "CLIENT_ERROR bad command line format\r\n");
		return 0;
	}
	if (!tok_u64(&t[2], &delta)) {
		reply(c, "CLIENT_ERROR invalid numeric delta argument\r\n");
		return 0;
	}
	r = store_arith(c->t->store, t[1].p, t[1].n, incr, delta, 0, NULL,
			c->t->now, &v, NULL);
	switch (r) {
	case ST_STORED:
		*il_u64toa(v, num) = 0;
		buf_adds(&c->out, num);
		reply(c, "\r\n");
		if (incr)
			KV_INC(c->t, incr_hits);
		else
			KV_INC(c->t, decr_hits);
		break;
	case ST_NOT_FOUND:
		if (incr)
			KV_INC(c->t, incr_misses);
		else
			KV_INC(c->t, decr_misses);
		reply(c, "NOT_FOUND\r\n");
		break;
	case ST_NON_NUMERIC:
		reply(c, "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
		break;
	default:
		reply(c, "SERVER_ERROR out of memory\r\n");
		break;
	}
	return 0;
}

static long cmd_delete(struct kv_conn *c, struct tok *t, int nt)
{
	bool noreply = is_noreply(t, nt);

	/* "delete key 0" is an old form memcached still accepts */
	if (nt > 2 && !((nt == 3 && (tok_is(&t[2], "0") || noreply)) ||
			(nt == 4 && tok_is(&t[2], "0") && noreply))) {
		reply(c, "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n");
		return 0;
	}
	if (t[1].n > KV_KEY_MAX) {
		reply(c, "CLIENT_ERROR bad command line format\r\n");
		return 0;
	}
	if (store_delete(c->t->store, t[1].p, t[1].n, 0, c->t->now) == ST_DELETED) {
		KV_INC(c->t, delete_hits);
		reply(c, "DELETED\r\n");
	} else {
		KV_INC(c->t, delete_misses);
		reply(c, "NOT_FOUND\r\n");
	}
	return 0;
}

static long cmd_touch(struct kv_conn *c, struct tok *t)
{
	int32_t exp;

	if (t[1].n > KV_KEY_MAX) {
		reply(c, "CLIENT_ERROR bad command line format\r\n");
		return 0;
	}
	if (!tok_i32(&t[2], &exp)) {
		reply(c, "CLIENT_ERROR invalid exptime argument\r\n");
		return 0;
	}
	KV_INC(c->t, cmd_touch);
	if (store_touch(c->t->store, t[1].p, t[1].n, kv_realtime(exp, c->t->now),
			c->t->now) == ST_TOUCHED) {
		KV_INC(c->t, touch_hits);
		reply(c, "TOUCHED\r\n");
	} else {
		KV_INC(c->t, touch_misses);
		reply(c, "NOT_FOUND\r\n");
	}
	return 0;
}

static long cmd_flush(struct kv_conn *c, struct tok *t, int nt, bool noreply)
{
	int32_t exp = 0;
	uint32_t now = c->t->now;

	if (nt - noreply == 2 && !tok_i32(&t[1], &exp)) {
		reply(c, "CLIENT_ERROR invalid exptime argument\r\n");
		return 0;
	}
	KV_INC(c->t, cmd_flush);
	/* memcached: items last touched at or before realtime(exp) - 1 die
	 * from that second on */
	store_flush(c->t->store, now, exp > 0 ? kv_realtime(exp, now) - 1 : 0);
	reply(c, "OK\r\n");
	return 0;
}

static long cmd_verbosity(struct kv_conn *c, struct tok *t)
{
	uint64_t level;

	if (!tok_u64(&t[1], &level)) {
		reply(c, "CLIENT_ERROR bad command line format\r\n");
		return 0;
	}
	kv_set_verbosity(level > 10 ? 10 : (int)level);
	reply(c, "OK\r\n");
	return 0;
}

static long cmd_stats(struct kv_conn *c, struct tok *t, int nt)
{
	if (nt == 1)
		kv_stats_general(&c->out);
	else if (tok_is(&t[1], "settings"))
		kv_stats_settings(&c->out);
	else if (tok_is(&t[1], "reset")) {
		kv_stats_reset();
		reply(c, "RESET\r\n");
	} else if (tok_is(&t[1], "irqlab"))
		kv_stats_irqlab(&c->out);
	else if (tok_is(&t[1], "slabs"))
		kv_stats_slabs(&c->out);
	else if (tok_is(&t[1], "items"))
		kv_stats_items(&c->out);
	else if (tok_is(&t[1], "sizes"))
		/* memcached's answer without -o track_sizes: irqlab-kv keeps
		 * no size histogram */
		reply(c, "STAT sizes_status disabled\r\nEND\r\n");
	else if (tok_is(&t[1], "detail"))
		reply(c, "CLIENT_ERROR usage: stats detail on|off|dump\r\n");
	else
		reply(c, "ERROR\r\n");
	return 0;
}

/* One command line (without "\r\n"); data/avail: what follows the line. */
static long dispatch(struct kv_conn *c, const char *line, size_t len,
		     const char *data, size_t avail)
{
	struct tok t[TOK_MAX];
	int nt = proto_tokenize(line, len, t, TOK_MAX - 1);
	bool noreply;
	size_t mark = c->out.len;
	long r;

	if (nt < 1)
		goto error;
	/* nt == TOK_MAX means "more tokens than we kept": t[nt - 1] is unset */
	noreply = nt < TOK_MAX && is_noreply(t, nt);
	if (t[0].p[0] == 'm' && t[0].n == 2) {
		KV_INC(c->t, cmd_meta);
		return proto_meta(c, t, nt, data, avail);
	}
	if ((tok_is(&t[0], "get") || tok_is(&t[0], "gets")) && nt >= 2)
		return cmd_get(c, t[1].p, line + len, t[0].n == 4, NULL);
	if ((tok_is(&t[0], "gat") || tok_is(&t[0], "gats")) && nt >= 2)
		return cmd_gat(c, t, line + len, t[0].n == 4);
	if (nt > TOK_MAX - 1)
		goto error;

	if ((nt == 5 || nt == 6) && tok_is(&t[0], "set"))
		r = cmd_store(c, ST_SET, t, data, avail);
	else if ((nt == 5 || nt == 6) && tok_is(&t[0], "add"))
		r = cmd_store(c, ST_ADD, t, data, avail);
	else if ((nt == 5 || nt == 6) && tok_is(&t[0], "replace"))
		r = cmd_store(c, ST_REPLACE, t, data, avail);
	else if ((nt == 5 || nt == 6) && tok_is(&t[0], "append"))
		r = cmd_store(c, ST_APPEND, t, data, avail);
	else if ((nt == 5 || nt == 6) && tok_is(&t[0], "prepend"))
		r = cmd_store(c, ST_PREPEND, t, data, avail);
	else if ((nt == 6 || nt == 7) && tok_is(&t[0], "cas"))
		r = cmd_store(c, ST_CAS, t, data, avail);
	else if ((nt == 3 || nt == 4) && tok_is(&t[0], "incr"))
		r = cmd_arith(c, t, true);
	else if ((nt == 3 || nt == 4) && tok_is(&t[0], "decr"))
		r = cmd_arith(c, t, false);
	else if (nt >= 2 && nt <= 4 && tok_is(&t[0], "delete"))
		r = cmd_delete(c, t, nt);
	else if ((nt == 3 || nt == 4) && tok_is(&t[0], "touch"))
		r = cmd_touch(c, t);
	else if (nt <= 3 && tok_is(&t[0], "flush_all"))
		r = cmd_flush(c, t, nt, noreply);
	else if ((nt == 2 || nt == 3) && tok_is(&t[0], "verbosity"))
		r = cmd_verbosity(c, t);
	else if (tok_is(&t[0], "version")) {
		reply(c, "VERSION " KV_VERSION "\r\n");
		return 0;
	} else if (tok_is(&t[0], "quit"))
		return CLOSE_CONN;
	else if (tok_is(&t[0], "stats"))
		return cmd_stats(c, t, nt);
	else if (tok_is(&t[0], "shutdown")) {
		reply(c, "ERROR: shutdown not enabled\r\n");
		return 0;
	} else
		goto error;
	if (noreply && r != NEED_MORE)
		c->out.len = mark;
	return r;
error:
	reply(c, "ERROR\r\n");
	return 0;
}

/* Memcached closes a connection whose line has no "\n" after 2048 bytes,
 * except for long multi-gets, which it keeps reading. */
static bool line_too_long(const char *p, size_t n)
{
	size_t sp = 0;

	if (n <= KV_LINE_MAX)
		return false;
	while (sp < n && p[sp] == ' ')
		sp++;
	if (sp > 100 || n > KV_GET_LINE_MAX)
		return true;
	return !((n - sp >= 4 && !memcmp(p + sp, "get ", 4)) ||
		 (n - sp >= 5 && !memcmp(p + sp, "gets ", 5)));
}

int proto_process(struct kv_conn *c)
{
	struct buf *in = &c->in;

	c->need = 0;
	c->paused = false;
	while (c->rpos < in->len) {
		const char *s = in->p + c->rpos, *nl, *e;
		size_t avail = in->len - c->rpos;
		long r;

		if (c->out.len - c->wpos > KV_OUT_HIGH) {
			c->paused = true;
			return PROTO_OK;
		}

		if (c->swallow) {
			size_t n = avail < c->swallow ? avail : (size_t)c->swallow;

			c->swallow -= n;
			c->rpos += n;
			continue;
		}
		nl = memchr(s, '\n', avail);
		if (!nl) {
			if (!line_too_long(s, avail))
				return PROTO_OK;
			/* memcached drops the replies it had not sent yet */
			c->out.len = c->wpos;
			return PROTO_CLOSE;
		}
		e = nl > s && nl[-1] == '\r' ? nl - 1 : nl;
		r = dispatch(c, s, (size_t)(e - s), nl + 1,
			     avail - (size_t)(nl + 1 - s));
		if (r == NEED_MORE) {
			c->need += (size_t)(nl + 1 - s);
			return PROTO_OK;
		}
		if (r == CLOSE_CONN)
			return PROTO_CLOSE;
		c->rpos += (size_t)(nl + 1 - s) + (size_t)r;
	}
	return PROTO_OK;
}
