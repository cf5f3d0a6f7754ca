/* memcached meta commands: mg, ms, md, ma, mn, me, with their common flags
 * and the error strings memcached 1.6.18 gives. Return flags are echoed in
 * the order the client sent them; "b" (base64 key) rides along with "k".
 * proto.c has already checked each command's token count. */
#include "proto.h"

#include <stdio.h>
#include <string.h>

#include "irqlab/fmt.h"
#include "clock.h"
#include "stats.h"

#define OPAQUE_MAX 32
#define META_HDR 512

struct mflags {
	const struct kv_tok *tok[128];	/* flag char -> its token */
	const struct kv_tok *order[KV_TOK_MAX];
	int n;
	bool b, q;
	char key[KV_KEY_MAX + 1];
	size_t nkey;
	const struct kv_tok *rawkey;
};

enum { MF_OK, MF_INVALID, MF_DUP, MF_KEY, MF_KEYLEN, MF_OPAQUE };

static int b64val(int ch)
{
	if (ch >= 'A' && ch <= 'Z') return ch - 'A';
	if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9') return ch - '0' + 52;
	if (ch == '+') return 62;
	if (ch == '/') return 63;
	return -1;
}

/* Returns the decoded length or -1. */
static long b64_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	if (n % 4)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		int v[4], pad = 0;

		for (int j = 0; j < 4; j++) {
			if (s[i + j] == '=' && i + 4 == n && j >= 2) {
				v[j] = 0;
				pad++;
			} else if (pad || (v[j] = b64val((unsigned char)s[i + j])) < 0) {
				return -1;
			}
		}
		if (o + 3 - (size_t)pad > cap)
			return -1;
		out[o++] = (char)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			out[o++] = (char)((v[1] & 15) << 4 | v[2] >> 2);
		if (pad < 1)
			out[o++] = (char)((v[2] & 3) << 6 | v[3]);
	}
	return (long)o;
}

/* Parses flags t[first..nt) against the allowed set; decodes the key. */
static int parse_flags(struct mflags *f, const struct kv_tok *t, int nt, int first,
		       const char *allowed)
{
	memset(f->tok, 0, sizeof(f->tok));
	f->n = 0;
	f->b = f->q = false;
	for (int i = first; i < nt; i++) {
		unsigned char ch = (unsigned char)t[i].p[0];

		if (ch >= 128 || !strchr(allowed, ch))
			return MF_INVALID;
		if (f->tok[ch])
			return MF_DUP;
		f->tok[ch] = &t[i];
		f->order[f->n++] = &t[i];
	}
	f->b = f->tok['b'] != NULL;
	f->q = f->tok['q'] != NULL;
	if (f->tok['O'] && f->tok['O']->n - 1 > OPAQUE_MAX)
		return MF_OPAQUE;
	f->rawkey = &t[1];
	if (f->b) {
		long n = b64_decode(t[1].p, t[1].n, f->key, KV_KEY_MAX);

		if (n <= 0)
			return MF_KEY;
		f->nkey = (size_t)n;
	} else {
		if (t[1].n > KV_KEY_MAX)
			return MF_KEYLEN;
		memcpy(f->key, t[1].p, t[1].n);
		f->nkey = t[1].n;
	}
	return MF_OK;
}

static void add_num(struct buf *o, char flag, uint64_t v)
{
	char s[24], *e;

	s[0] = ' ';
	s[1] = flag;
	e = il_u64toa(v, s + 2);
	buf_add(o, s, (size_t)(e - s));
}

static void add_snum(struct buf *o, char flag, int64_t v)
{
	if (v < 0) {
		char s[4] = { ' ', flag, '-', '1' };

		buf_add(o, s, 4);
	} else {
		add_num(o, flag, (uint64_t)v);
	}
}

static void add_key(struct buf *o, const struct mflags *f)
{
	buf_adds(o, " k");
	buf_add(o, f->rawkey->p, f->rawkey->n);
	if (f->b)
		buf_adds(o, " b");
}

/* Echoes O and k (the flags every meta reply carries back). */
static void echo_ok(struct buf *o, const struct mflags *f, char which)
{
	const struct kv_tok *t = f->order[0];

	for (int i = 0; i < f->n; t = f->order[++i]) {
		if (t->p[0] == 'O' && (which == 'O' || which == '*'))
			buf_add(o, t->p - 1, t->n + 1);
		else if (t->p[0] == 'k')
			add_key(o, f);
	}
}

static bool ttl_tok(const struct kv_tok *t, int32_t *v)
{
	struct kv_tok x = { t->p + 1, t->n - 1 };

	return x.n && kv_tok_i32(&x, v);
}

static bool u64_tok(const struct kv_tok *t, uint64_t *v)
{
	struct kv_tok x = { t->p + 1, t->n - 1 };

	return x.n && kv_tok_u64(&x, v);
}

static int64_t ttl_left(uint32_t exptime, uint32_t now)
{
	return exptime ? (int64_t)exptime - now : -1;
}

static long flag_error(struct kv_conn *c, int e, bool mg)
{
	switch (e) {
	case MF_DUP:
		buf_adds(&c->out, mg ? "CLIENT_ERROR duplicate flag\r\n"
				     : "CLIENT_ERROR invalid or duplicate flag\r\n");
		break;
	case MF_KEY:
		buf_adds(&c->out, "CLIENT_ERROR error decoding key\r\n");
		break;
	case MF_KEYLEN:
		buf_adds(&c->out, "CLIENT_ERROR bad command line format\r\n");
		break;
	case MF_OPAQUE:
		buf_adds(&c->out, "CLIENT_ERROR opaque token too long\r\n");
		break;
	default:
		buf_adds(&c->out, mg ? "CLIENT_ERROR invalid flag\r\n"
				     : "CLIENT_ERROR invalid or duplicate flag\r\n");
		break;
	}
	return 0;
}

/* mg's N (vivify), R (recache) and T (touch) flags into *go; false after
 * replying with the error. */
static bool get_options(struct kv_conn *c, const struct mflags *f,
			struct st_getopt *go, uint32_t *touch)
{
	int32_t ttl;

	if ((f->tok['N'] && !ttl_tok(f->tok['N'], &ttl)) ||
	    (f->tok['R'] && !ttl_tok(f->tok['R'], (int32_t *)&go->recache_ttl)) ||
	    (f->tok['T'] && !ttl_tok(f->tok['T'], (int32_t *)touch))) {
		buf_adds(&c->out, "CLIENT_ERROR bad token in command line format\r\n");
		return false;
	}
	if (f->tok['N']) {
		go->vivify = true;
		go->viv_exptime = kv_realtime(ttl, c->t->now);
	}
	go->recache = f->tok['R'] != NULL;
	if (f->tok['T']) {
		*touch = kv_realtime((int32_t)*touch, c->t->now);
		go->touch = touch;
	}
	return true;
}

/* mg's reply line for a hit: "VA <len>" or "HD", then the return flags in
 * the client's order and the recache state. */
static void get_header(struct buf *h, const struct mflags *f,
		       const struct st_meta *m, const uint32_t *touch, uint32_t now)
{
	if (f->tok['v']) {
		buf_adds(h, "VA ");
		h->len = (size_t)(il_u64toa(m->nbytes, h->p + h->len) - h->p);
	} else {
		buf_adds(h, "HD");
	}
	for (int i = 0; i < f->n; i++) {
		const struct kv_tok *x = f->order[i];

		switch (x->p[0]) {
		case 'c': add_num(h, 'c', m->cas); break;
		case 'f': add_num(h, 'f', m->flags); break;
		case 'h': add_num(h, 'h', m->fetched); break;
		case 'k': add_key(h, f); break;
		case 'l': add_num(h, 'l', now - m->atime); break;
		case 'O': buf_add(h, x->p - 1, x->n + 1); break;
		case 's': add_num(h, 's', m->nbytes); break;
		case 't': add_snum(h, 't', ttl_left(touch ? *touch : m->exptime, now)); break;
		}
	}
	/* recache protocol: Z (someone else won), X (stale), W (you win) */
	if (m->won)
		buf_adds(h, " Z");
	if (m->stale)
		buf_adds(h, " X");
	if (m->win)
		buf_adds(h, " W");
	buf_adds(h, "\r\n");
}

/* mg key [flags] */
long kv_meta_get(struct kv_conn *c, struct kv_req *r, int arg)
{
	struct kv_thread *th = c->t;
	struct buf *o = &c->out;
	struct mflags f;
	struct st_meta m;
	uint32_t touch;
	struct st_getopt go = { 0 };
	size_t start, vstart;
	char hdr[META_HDR];
	struct buf h = { hdr, 0, sizeof(hdr) };
	int e = parse_flags(&f, r->t, r->nt, 2, "bcfhklOqstvTNR");

	(void)arg;
	if (e)
		return flag_error(c, e, true);
	if (!get_options(c, &f, &go, &touch))
		return 0;
	if (go.touch)
		KV_INC(th, cmd_touch);
	KV_INC(th, cmd_get);
	start = o->len;
	buf_reserve(o, META_HDR);
	o->len += META_HDR;
	vstart = o->len;
	if (!store_mget(th->store, f.key, f.nkey, th->now, &go, &m,
			f.tok['v'] ? o : NULL)) {
		KV_INC(th, get_misses);
		o->len = start;
		if (f.q)
			return 0;
		buf_adds(o, "EN");
		echo_ok(o, &f, '*');
		buf_adds(o, "\r\n");
		return 0;
	}
	KV_INC(th, get_hits);
	if (go.touch)
		KV_INC(th, touch_hits);
	/* the header is built on the side (it is bounded: flags are single
	 * tokens of a 2048-byte line) and slid in front of the value */
	get_header(&h, &f, &m, go.touch, th->now);
	if (f.tok['v'])
		memmove(o->p + start + h.len, o->p + vstart, m.nbytes + 2);
	memcpy(o->p + start, h.p, h.len);
	o->len = start + h.len + (f.tok['v'] ? m.nbytes + 2 : 0);
	return 0;
}

/* ms's F, C, T and M flags; an error reply (the caller discards the data
 * block) or NULL. */
static const char *set_options(const struct mflags *f, uint64_t *flags,
			       uint64_t *cas_in, int32_t *ttl, enum st_op *op)
{
	if (f->tok['F'] && !u64_tok(f->tok['F'], flags))
		return "CLIENT_ERROR bad command line format\r\n";
	if ((f->tok['C'] && !u64_tok(f->tok['C'], cas_in)) ||
	    (f->tok['T'] && !ttl_tok(f->tok['T'], ttl)))
		return "CLIENT_ERROR bad token in command line format\r\n";
	if (f->tok['M']) {
		const struct kv_tok *x = f->tok['M'];

		switch (x->n == 2 ? x->p[1] : 0) {
		case 'E': *op = ST_ADD; break;
		case 'A': *op = ST_APPEND; break;
		case 'P': *op = ST_PREPEND; break;
		case 'R': *op = ST_REPLACE; break;
		case 'S': *op = ST_SET; break;
		default: return "CLIENT_ERROR invalid mode for ms M token\r\n";
		}
	}
	/* memcached: a cas upgrades set and replace to cas (so a missing
	 * item is NF); with I, an older cas stores the value stale */
	if (f->tok['C'] && (*op == ST_SET || *op == ST_REPLACE))
		*op = f->tok['I'] ? ST_CAS_STALE : ST_CAS;
	return NULL;
}

/* ms's reply to a store result, counted like text set (see kv_cmd_store:
 * bad chunk yes, no memory no). */
static void set_reply(struct kv_conn *c, const struct mflags *f, enum st_res r,
		      uint64_t cas_out)
{
	struct buf *o = &c->out;

	if (r != ST_NO_MEMORY)
		KV_INC(c->t, cmd_set);
	switch (r) {
	case ST_STORED:
		if (f->q)
			return;
		buf_adds(o, "HD");
		break;
	case ST_NOT_STORED: buf_adds(o, "NS"); break;
	case ST_EXISTS: buf_adds(o, "EX"); KV_INC(c->t, cas_badval); break;
	case ST_NOT_FOUND: buf_adds(o, "NF"); KV_INC(c->t, cas_misses); break;
	case ST_NO_MEMORY:
		KV_INC(c->t, store_no_memory);
		buf_adds(o, "SERVER_ERROR out of memory storing object\r\n");
		return;
	default:
		buf_adds(o, "SERVER_ERROR object too large for cache\r\n");
		return;
	}
	for (int i = 0; i < f->n; i++) {
		const struct kv_tok *x = f->order[i];

		if (x->p[0] == 'O')
			buf_add(o, x->p - 1, x->n + 1);
		else if (x->p[0] == 'k')
			add_key(o, f);
		else if (x->p[0] == 'c' && r == ST_STORED)
			add_num(o, 'c', cas_out);
	}
	buf_adds(o, "\r\n");
}

/* ms key datalen [flags], then the data block */
long kv_meta_set(struct kv_conn *c, struct kv_req *r, int arg)
{
	struct kv_thread *th = c->t;
	struct mflags f;
	int32_t vlen, ttl = 0;
	uint64_t flags = 0, cas_in = 0, cas_out = 0;
	enum st_op op = ST_SET;
	enum st_res res;
	const char *err;
	size_t need;
	int e;

	(void)arg;
	if (r->nt < 3 || !kv_tok_i32(&r->t[2], &vlen) || vlen < 0 || vlen > INT32_MAX - 2) {
		buf_adds(&c->out, "CLIENT_ERROR bad command line format\r\n");
		return 0;
	}
	need = (size_t)vlen + 2;
	e = parse_flags(&f, r->t, r->nt, 3, "bcCFIkOqTM");
	/* every refusal from here on discards the data block */
	if (e) {
		flag_error(c, e, true);
		goto swallow;
	}
	if ((err = set_options(&f, &flags, &cas_in, &ttl, &op))) {
		buf_adds(&c->out, err);
		goto swallow;
	}
	if (store_item_size(f.nkey, (size_t)vlen) > store_item_max(th->store)) {
		KV_INC(th, store_too_large);
		buf_adds(&c->out, "SERVER_ERROR object too large for cache\r\n");
		goto unlink;
	}
	if (r->avail < need) {
		if (c->no_room) {	/* see kv_cmd_store */
			KV_INC(th, store_no_memory);
			buf_adds(&c->out, "SERVER_ERROR out of memory storing object\r\n");
			goto unlink;
		}
		kv_proto_need(c, need);
		return NEED_MORE;
	}
	if (r->data[vlen] != '\r' || r->data[vlen + 1] != '\n') {
		KV_INC(th, cmd_set);
		buf_adds(&c->out, "CLIENT_ERROR bad data chunk\r\n");
		return (long)need;
	}
	res = store_put(th->store, op, f.key, f.nkey, (uint32_t)flags,
			kv_realtime(ttl, th->now), r->data, (size_t)vlen, cas_in,
			th->now, &cas_out);
	if (res == ST_STORED && (op == ST_CAS || op == ST_CAS_STALE))
		KV_INC(th, cas_hits);
	set_reply(c, &f, res, cas_out);
	return (long)need;
unlink:
	/* memcached: a refused ms must not leave stale data, whatever M */
	store_delete(th->store, f.key, f.nkey, 0, th->now);
swallow:
	c->swallow = need;
	return 0;
}

/* md key [flags] */
long kv_meta_delete(struct kv_conn *c, struct kv_req *r, int arg)
{
	struct kv_thread *th = c->t;
	struct buf *o = &c->out;
	struct mflags f;
	uint64_t cas_in = 0;
	enum st_res res;
	uint32_t exp, *ep = NULL;
	int32_t ttl;
	int e = parse_flags(&f, r->t, r->nt, 2, "bCkOqIT");

	(void)arg;
	if (e)
		return flag_error(c, e, false);
	if ((f.tok['C'] && !u64_tok(f.tok['C'], &cas_in)) ||
	    (f.tok['T'] && !ttl_tok(f.tok['T'], &ttl)))
		return flag_error(c, MF_INVALID, false);
	if (f.tok['T']) {
		exp = kv_realtime(ttl, th->now);
		ep = &exp;
	}
	if (f.tok['I'])
		res = store_invalidate(th->store, f.key, f.nkey, cas_in, ep, th->now);
	else
		res = store_delete(th->store, f.key, f.nkey, cas_in, th->now);
	if (res == ST_DELETED) {
		KV_INC(th, delete_hits);
		if (f.q)
			return 0;
		buf_adds(o, "HD");
	} else if (res == ST_EXISTS) {
		buf_adds(o, "EX");
	} else {
		KV_INC(th, delete_misses);
		buf_adds(o, "NF");
	}
	echo_ok(o, &f, '*');
	buf_adds(o, "\r\n");
	return 0;
}

/* ma's C, D, J, N and M flags; false after replying with the error. */
static bool arith_options(struct kv_conn *c, const struct mflags *f,
			  uint64_t *cas_in, uint64_t *delta,
			  struct st_autoviv *av, bool *incr)
{
	if ((f->tok['C'] && !u64_tok(f->tok['C'], cas_in)) ||
	    (f->tok['D'] && !u64_tok(f->tok['D'], delta)) ||
	    (f->tok['J'] && !u64_tok(f->tok['J'], &av->initial))) {
		flag_error(c, MF_INVALID, false);
		return false;
	}
	if (f->tok['N']) {
		int32_t ttl;

		if (!ttl_tok(f->tok['N'], &ttl)) {
			flag_error(c, MF_INVALID, false);
			return false;
		}
		av->on = true;
		av->exptime = kv_realtime(ttl, c->t->now);
	}
	if (f->tok['M']) {
		const struct kv_tok *x = f->tok['M'];

		switch (x->n == 2 ? x->p[1] : 0) {
		case 'I': case '+': *incr = true; break;
		case 'D': case '-': *incr = false; break;
		default:
			buf_adds(&c->out, "CLIENT_ERROR invalid mode for ma M token\r\n");
			return false;
		}
	}
	return true;
}

/* ma's reply to a stored number v: "VA <len>" or "HD", the return flags,
 * then with v the number itself. */
static void arith_reply(struct kv_conn *c, const struct mflags *f,
			const struct st_meta *m, uint64_t v)
{
	struct buf *o = &c->out;
	char num[24], *e = il_u64toa(v, num);

	if (f->tok['v']) {
		char hdr[32], *hp = hdr + 3;

		memcpy(hdr, "VA ", 3);
		hp = il_u64toa((uint64_t)(e - num), hp);
		buf_add(o, hdr, (size_t)(hp - hdr));
	} else {
		buf_adds(o, "HD");
	}
	for (int i = 0; i < f->n; i++) {
		const struct kv_tok *x = f->order[i];

		switch (x->p[0]) {
		case 'O': buf_add(o, x->p - 1, x->n + 1); break;
		case 'k': add_key(o, f); break;
		case 'c': add_num(o, 'c', m->cas); break;
		case 't': add_snum(o, 't', ttl_left(m->exptime, c->t->now)); break;
		}
	}
	buf_adds(o, "\r\n");
	if (f->tok['v']) {
		buf_add(o, num, (size_t)(e - num));
		buf_adds(o, "\r\n");
	}
}

/* ma key [flags] */
long kv_meta_arith(struct kv_conn *c, struct kv_req *r, int arg)
{
	struct kv_thread *th = c->t;
	struct buf *o = &c->out;
	struct mflags f;
	struct st_autoviv av = { 0 };
	struct st_meta m;
	uint64_t delta = 1, cas_in = 0, v;
	bool incr = true;
	enum st_res res;
	int32_t ttl;
	int e = parse_flags(&f, r->t, r->nt, 2, "bCNJDTMOqtcvk");

	(void)arg;
	if (e)
		return flag_error(c, e, false);
	if (!arith_options(c, &f, &cas_in, &delta, &av, &incr))
		return 0;
	res = store_arith(th->store, f.key, f.nkey, incr, delta, cas_in, &av,
			  th->now, &v, &m);
	if (res == ST_STORED && f.tok['T'] && ttl_tok(f.tok['T'], &ttl)) {
		m.exptime = kv_realtime(ttl, th->now);
		store_touch(th->store, f.key, f.nkey, m.exptime, th->now);
	}
	switch (res) {
	case ST_STORED:
		if (incr)
			KV_INC(th, incr_hits);
		else
			KV_INC(th, decr_hits);
		if (!f.q)	/* quiet hides the value too, unlike mg */
			arith_reply(c, &f, &m, v);
		return 0;
	case ST_NOT_FOUND:
		if (incr)
			KV_INC(th, incr_misses);
		else
			KV_INC(th, decr_misses);
		buf_adds(o, "NF");
		break;
	case ST_EXISTS:
		buf_adds(o, "EX");
		break;
	case ST_NON_NUMERIC:
		buf_adds(o, "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
		return 0;
	default:
		buf_adds(o, "SERVER_ERROR out of memory\r\n");
		return 0;
	}
	echo_ok(o, &f, '*');
	buf_adds(o, "\r\n");
	return 0;
}

/* me key [b] */
long kv_meta_debug(struct kv_conn *c, struct kv_req *r, int arg)
{
	struct kv_thread *th = c->t;
	struct buf *o = &c->out;
	struct mflags f;
	struct st_meta m;
	char line[META_HDR];
	int e = parse_flags(&f, r->t, r->nt, 2, "b");

	(void)arg;
	if (e)
		return flag_error(c, e, false);
	if (!store_get(th->store, f.key, f.nkey, th->now, NULL, &m, NULL)) {
		buf_adds(o, "EN\r\n");
		return 0;
	}
	buf_adds(o, "ME ");
	buf_add(o, r->t[1].p, r->t[1].n);
	snprintf(line, sizeof(line),
		 " exp=%lld la=%u cas=%llu fetch=%s cls=%u size=%u\r\n",
		 (long long)ttl_left(m.exptime, th->now), th->now - m.atime,
		 (unsigned long long)m.cas, m.fetched ? "yes" : "no",
		 (unsigned)m.cls, m.total);
	buf_adds(o, line);
	return 0;
}

/* mn: answers MN (marks the end of a pipeline of quiet commands) */
long kv_meta_noop(struct kv_conn *c, struct kv_req *r, int arg)
{
	(void)r, (void)arg;
	buf_adds(&c->out, "MN\r\n");
	c->flush_mark = c->out.len;	/* mn makes memcached write */
	return 0;
}
