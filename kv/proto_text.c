/* memcached's text commands (doc/protocol.txt of memcached 1.6): get,
 * gets, gat, gats, set, add, replace, append, prepend, cas, incr, decr,
 * delete, touch, flush_all, verbosity, version, quit, stats, shutdown.
 * proto.c has already checked each command's token count; replies and
 * counters follow memcached 1.6.18. */
#include "proto.h"

#include <string.h>

#include "irqlab/fmt.h"
#include "clock.h"
#include "prefix.h"
#include "settings.h"
#include "stats.h"

#define HDR_ROOM 320	/* "VALUE " key flags bytes cas "\r\n" */

static void reply(struct kv_conn *c, const char *s)
{
	buf_adds(&c->out, s);
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

/* The keys from p to end of get/gets/gat/gats: scanned from the line
 * itself, so a multi-get is not limited to KV_TOK_MAX tokens. */
static inline long get_keys(struct kv_conn *c, const char *p, const char *end,
			    bool with_cas, const uint32_t *touch)
{
	size_t start = c->out.len;

	for (;;) {
		const char *k;
		bool hit;

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
			kv_proto_drop_unflushed(c);
			reply(c, "CLIENT_ERROR bad command line format\r\n");
			return 0;
		}
		if (touch) {
			KV_INC(c->t, cmd_touch);
			hit = value_reply(c, k, (size_t)(p - k), with_cas, touch);
			KV_ADD(c->t, touch_hits, hit);
		} else {
			KV_INC(c->t, cmd_get);
			hit = value_reply(c, k, (size_t)(p - k), with_cas, NULL);
			if (hit)
				KV_INC(c->t, get_hits);
			else
				KV_INC(c->t, get_misses);
		}
		if (kv_detail())
			kv_prefix_get(k, (size_t)(p - k), hit);
	}
	reply(c, "END\r\n");
	c->flush_mark = c->out.len;	/* memcached writes here */
	return 0;
}

/* get/gets (arg: with cas) key... */
long kv_cmd_get(struct kv_conn *c, struct kv_req *r, int with_cas)
{
	return get_keys(c, r->t[1].p, r->end, with_cas, NULL);
}

/* gat/gats (arg: with cas) exptime key... */
long kv_cmd_gat(struct kv_conn *c, struct kv_req *r, int with_cas)
{
	int32_t exp;
	uint32_t rt;

	if (!kv_tok_i32(&r->t[1], &exp)) {
		reply(c, "CLIENT_ERROR invalid exptime argument\r\n");
		return 0;
	}
	rt = kv_realtime(exp, c->t->now);
	return get_keys(c, r->t[1].p + r->t[1].n, r->end, with_cas, &rt);
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

/* set/add/replace/append/prepend/cas (arg: the store op) key flags
 * exptime bytes [cas] [noreply], then the data block. */
long kv_cmd_store(struct kv_conn *c, struct kv_req *r, int arg)
{
	enum st_op op = (enum st_op)arg;
	const struct kv_tok *t = r->t;
	uint64_t flags, cas = 0;
	int32_t exp, vlen;
	size_t need;
	enum st_res res;

	if (t[1].n > KV_KEY_MAX || !kv_tok_u64(&t[2], &flags) ||
	    !kv_tok_i32(&t[3], &exp) || !kv_tok_i32(&t[4], &vlen) ||
	    (op == ST_CAS && !kv_tok_u64(&t[5], &cas)) || vlen < 0 ||
	    vlen > INT32_MAX - 2) {
		reply(c, "CLIENT_ERROR bad command line format\r\n");
		return 0;
	}
	need = (size_t)vlen + 2;
	/* memcached counts a prefix's set before it allocates, so refused
	 * sets count: here at every way out but NEED_MORE (which comes back) */
	if (kv_detail() && (r->avail >= need || c->no_room ||
			    store_item_size(t[1].n, (size_t)vlen) > store_item_max(c->t->store)))
		kv_prefix_set(t[1].p, t[1].n);
	if (store_item_size(t[1].n, (size_t)vlen) > store_item_max(c->t->store)) {
		KV_INC(c->t, store_too_large);
		reply(c, "SERVER_ERROR object too large for cache\r\n");
		/* like memcached: a failed set must not leave stale data */
		if (op == ST_SET)
			store_delete(c->t->store, t[1].p, t[1].n, 0, c->t->now);
		c->swallow = need;
		return 0;
	}
	if (r->avail < need) {
		if (c->no_room) {
			/* the input budget has no room for the rest of the
			 * value: memcached's reply when it cannot allocate */
			KV_INC(c->t, store_no_memory);
			reply(c, "SERVER_ERROR out of memory storing object\r\n");
			if (op == ST_SET)
				store_delete(c->t->store, t[1].p, t[1].n, 0, c->t->now);
			c->swallow = need;
			return 0;
		}
		kv_proto_need(c, need);
		return NEED_MORE;
	}
	/* memcached counts a set once its item is allocated (before the
	 * data's terminator is checked), so a bad data chunk counts and a
	 * set refused for memory does not */
	if (r->data[vlen] != '\r' || r->data[vlen + 1] != '\n') {
		KV_INC(c->t, cmd_set);
		reply(c, "CLIENT_ERROR bad data chunk\r\n");
		return (long)need;
	}
	res = store_put(c->t->store, op, t[1].p, t[1].n, (uint32_t)flags,
			kv_realtime(exp, c->t->now), r->data, (size_t)vlen, cas,
			c->t->now, NULL);
	if (res == ST_NO_MEMORY)
		KV_INC(c->t, store_no_memory);
	else
		KV_INC(c->t, cmd_set);
	if (op == ST_CAS && res == ST_STORED)
		KV_INC(c->t, cas_hits);
	else if (op == ST_CAS && res == ST_EXISTS)
		KV_INC(c->t, cas_badval);
	else if (op == ST_CAS && res == ST_NOT_FOUND)
		KV_INC(c->t, cas_misses);
	reply(c, store_reply(res));
	return (long)need;
}

/* ---- the rest ---- */

/* incr/decr (arg: 1 for incr) key delta [noreply] */
long kv_cmd_arith(struct kv_conn *c, struct kv_req *r, int incr)
{
	const struct kv_tok *t = r->t;
	uint64_t delta, v;
	char num[24];
	enum st_res res;

	if (t[1].n > KV_KEY_MAX) {
		reply(c, "CLIENT_ERROR bad command line format\r\n");
		return 0;
	}
	if (!kv_tok_u64(&t[2], &delta)) {
		reply(c, "CLIENT_ERROR invalid numeric delta argument\r\n");
		return 0;
	}
	res = store_arith(c->t->store, t[1].p, t[1].n, incr, delta, 0, NULL,
			  c->t->now, &v, NULL);
	switch (res) {
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

/* delete key [0] [noreply] */
long kv_cmd_delete(struct kv_conn *c, struct kv_req *r, int arg)
{
	const struct kv_tok *t = r->t;
	int nt = r->nt;

	(void)arg;
	/* "delete key 0" is an old form memcached still accepts */
	if (nt > 2 && !((nt == 3 && (kv_tok_is(&t[2], "0") || r->noreply)) ||
			(nt == 4 && kv_tok_is(&t[2], "0") && r->noreply))) {
		reply(c, "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n");
		return 0;
	}
	if (t[1].n > KV_KEY_MAX) {
		reply(c, "CLIENT_ERROR bad command line format\r\n");
		return 0;
	}
	if (kv_detail())
		kv_prefix_delete(t[1].p, t[1].n);
	if (store_delete(c->t->store, t[1].p, t[1].n, 0, c->t->now) == ST_DELETED) {
		KV_INC(c->t, delete_hits);
		reply(c, "DELETED\r\n");
	} else {
		KV_INC(c->t, delete_misses);
		reply(c, "NOT_FOUND\r\n");
	}
	return 0;
}

/* touch key exptime [noreply] */
long kv_cmd_touch(struct kv_conn *c, struct kv_req *r, int arg)
{
	const struct kv_tok *t = r->t;
	int32_t exp;

	(void)arg;
	if (t[1].n > KV_KEY_MAX) {
		reply(c, "CLIENT_ERROR bad command line format\r\n");
		return 0;
	}
	if (!kv_tok_i32(&t[2], &exp)) {
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

/* flush_all [exptime] [noreply] */
long kv_cmd_flush(struct kv_conn *c, struct kv_req *r, int arg)
{
	int32_t exp = 0;
	uint32_t now = c->t->now;

	(void)arg;
	/* memcached counts first, and reads a delay from the second token
	 * whenever the line is not just "flush_all [noreply]" */
	KV_INC(c->t, cmd_flush);
	if (r->nt != (r->noreply ? 2 : 1) && !kv_tok_i32(&r->t[1], &exp)) {
		reply(c, "CLIENT_ERROR invalid exptime argument\r\n");
		return 0;
	}
	/* memcached: items last touched at or before realtime(exp) - 1 die
	 * from that second on */
	store_flush(c->t->store, now, exp > 0 ? kv_realtime(exp, now) - 1 : 0);
	reply(c, "OK\r\n");
	return 0;
}

/* verbosity level [noreply] */
long kv_cmd_verbosity(struct kv_conn *c, struct kv_req *r, int arg)
{
	uint64_t level;

	(void)arg;
	if (!kv_tok_u64(&r->t[1], &level)) {
		reply(c, "CLIENT_ERROR bad command line format\r\n");
		return 0;
	}
	kv_set_verbosity(level > 10 ? 10 : (int)level);
	reply(c, "OK\r\n");
	return 0;
}

long kv_cmd_version(struct kv_conn *c, struct kv_req *r, int arg)
{
	(void)r, (void)arg;
	reply(c, "VERSION " KV_VERSION "\r\n");
	return 0;
}

long kv_cmd_quit(struct kv_conn *c, struct kv_req *r, int arg)
{
	(void)c, (void)r, (void)arg;
	return CLOSE_CONN;
}

long kv_cmd_shutdown(struct kv_conn *c, struct kv_req *r, int arg)
{
	(void)r, (void)arg;
	reply(c, "ERROR: shutdown not enabled\r\n");
	return 0;
}

static void stats_reset(struct buf *o)
{
	kv_stats_reset();
	kv_prefix_clear();
	buf_adds(o, "RESET\r\n");
}

/* "stats" subcommands; anything else is "ERROR". */
static const struct {
	const char *name;
	void (*fn)(struct buf *o);
	const char *reply;	/* a fixed reply instead of fn */
} stats_cmds[] = {
	{ "settings", kv_stats_settings, NULL },
	{ "reset", stats_reset, NULL },
	{ "irqlab", kv_stats_irqlab, NULL },
	{ "slabs", kv_stats_slabs, NULL },
	{ "items", kv_stats_items, NULL },
};

/* stats sizes, sizes_enable, sizes_disable (memcached's replies: the last
 * two without END) */
static bool stats_sizes(struct kv_conn *c, struct kv_req *r)
{
	struct store *s = c->t->store;

	if (kv_tok_is(&r->t[1], "sizes")) {
		if (!store_sizes(s, &c->out))
			reply(c, "STAT sizes_status disabled\r\n");
		reply(c, "END\r\n");
	} else if (kv_tok_is(&r->t[1], "sizes_enable")) {
		store_sizes_enable(s);
		reply(c, "STAT sizes_status enabled\r\n");
	} else if (kv_tok_is(&r->t[1], "sizes_disable")) {
		store_sizes_disable(s);
		reply(c, "STAT sizes_status disabled\r\n");
	} else {
		return false;
	}
	return true;
}

/* stats detail on|off|dump (memcached looks at the third word only) */
static void stats_detail(struct kv_conn *c, struct kv_req *r)
{
	if (r->nt >= 3 && kv_tok_is(&r->t[2], "on")) {
		__atomic_store_n(&kv_detail_on, 1, __ATOMIC_RELAXED);
		reply(c, "OK\r\n");
	} else if (r->nt >= 3 && kv_tok_is(&r->t[2], "off")) {
		__atomic_store_n(&kv_detail_on, 0, __ATOMIC_RELAXED);
		reply(c, "OK\r\n");
	} else if (r->nt >= 3 && kv_tok_is(&r->t[2], "dump")) {
		kv_prefix_dump(&c->out);
	} else {
		reply(c, "CLIENT_ERROR usage: stats detail on|off|dump\r\n");
	}
}

/* stats [subcommand] */
long kv_cmd_stats(struct kv_conn *c, struct kv_req *r, int arg)
{
	(void)arg;
	if (r->nt == 1) {
		kv_stats_general(&c->out);
		return 0;
	}
	if (kv_tok_is(&r->t[1], "cachedump")) {
		kv_admin_cachedump(c, r);
		return 0;
	}
	if (stats_sizes(c, r))
		return 0;
	if (kv_tok_is(&r->t[1], "conns")) {
		kv_conn_stats(c, &c->out);
		return 0;
	}
	if (kv_tok_is(&r->t[1], "detail")) {
		stats_detail(c, r);
		return 0;
	}
	for (size_t i = 0; i < sizeof(stats_cmds) / sizeof(stats_cmds[0]); i++) {
		if (!kv_tok_is(&r->t[1], stats_cmds[i].name))
			continue;
		if (stats_cmds[i].fn)
			stats_cmds[i].fn(&c->out);
		else
			reply(c, stats_cmds[i].reply);
		return 0;
	}
	reply(c, "ERROR\r\n");
	return 0;
}
