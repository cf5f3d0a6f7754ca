/* memcached's admin commands, with its replies and error paths (checked
 * against memcached 1.6.18): slabs automove|reassign, lru_crawler
 * crawl|metadump|enable|disable|sleep|tocrawl, lru mode|tune|temp_ttl,
 * stats cachedump. irqlab-kv has no background threads for them: a crawl
 * or a page reassignment is done before the reply, and "lru" settings
 * (memcached's segmented LRU) are answered but change nothing, since
 * irqlab-kv has one LRU per class (memcached's flat mode). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "proto.h"

#define CLASS_IDS 64		/* memcached's MAX_NUMBER_OF_SLAB_CLASSES */
#define CACHEDUMP_MAX (2 * 1024 * 1024)	/* memcached's cachedump cap */

static bool crawler_on = true;	/* "lru_crawler enable|disable" (atomic) */

static void reply(struct kv_conn *c, const char *s)
{
	buf_adds(&c->out, s);
}

static bool tok_u32(const struct kv_tok *t, uint32_t *v)
{
	uint64_t x;

	if (!kv_tok_u64(t, &x) || x > UINT32_MAX)
		return false;
	*v = (uint32_t)x;
	return true;
}

/* slabs automove N | slabs reassign SRC DST */
long kv_admin_slabs(struct kv_conn *c, struct kv_req *r, int arg)
{
	struct kv_thread *th = c->t;
	static const char *const ra[] = {
		[ST_RA_OK] = "OK\r\n",
		[ST_RA_SAME] = "SAME src and dst class are identical\r\n",
		[ST_RA_BADCLASS] = "BADCLASS invalid src or dst class id\r\n",
		[ST_RA_NOSPARE] = "NOSPARE source class has no spare pages\r\n",
	};
	int32_t src, dst;
	uint32_t level;

	(void)arg;
	if (r->nt == 4 && kv_tok_is(&r->t[1], "reassign")) {
		if (!kv_tok_i32(&r->t[2], &src) || !kv_tok_i32(&r->t[3], &dst)) {
			reply(c, "CLIENT_ERROR bad command line format\r\n");
			return 0;
		}
		reply(c, ra[store_reassign(th->store, src, dst, th->now)]);
	} else if (r->nt >= 3 && kv_tok_is(&r->t[1], "automove")) {
		if (!tok_u32(&r->t[2], &level))
			reply(c, "CLIENT_ERROR bad command line format\r\n");
		else if (level > 2)
			reply(c, "ERROR\r\n");
		else {
			store_set_automove(th->store, (int)level);
			reply(c, "OK\r\n");
		}
	} else {
		reply(c, "ERROR\r\n");
	}
	return 0;
}

/* "all" or a comma-separated list of class ids (1-63) into want[]; false
 * on anything else (memcached: BADCLASS). */
static bool class_list(const struct kv_tok *t, bool want[CLASS_IDS])
{
	const char *p = t->p, *end = t->p + t->n;

	memset(want, 0, CLASS_IDS * sizeof(bool));
	if (kv_tok_is(t, "all")) {
		for (int i = 1; i < CLASS_IDS; i++)
			want[i] = true;
		return true;
	}
	while (p < end) {
		const char *q = memchr(p, ',', (size_t)(end - p));
		struct kv_tok one = { p, (size_t)((q ? q : end) - p) };
		uint32_t id;

		if (!tok_u32(&one, &id) || id < 1 || id >= CLASS_IDS)
			return false;
		want[id] = true;
		p = q ? q + 1 : end;
	}
	return true;
}

/* memcached's uriencode of a key in metadump lines. */
static void uri_key(struct buf *o, const char *k, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)k[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
			buf_add(o, k + i, 1);
		} else {
			char e[3] = { '%', hex[ch >> 4], hex[ch & 15] };

			buf_add(o, e, 3);
		}
	}
}

/* One metadump line: memcached's format, times as unix times, size as
 * memcached counts it (the item's class is chosen by it). */
static bool metadump_line(void *arg, const struct st_item_info *it)
{
	struct buf *o = arg;
	long long started = (long long)kv_clock_started();
	char line[160];

	buf_adds(o, "key=");
	uri_key(o, it->key, it->nkey);
	snprintf(line, sizeof(line), " exp=%lld la=%lld cas=%" PRIu64 " fetch=%s cls=%d size=%u\n",
		 it->exptime ? (long long)it->exptime + started : -1LL,
		 (long long)it->atime + started, it->cas, it->fetched ? "yes" : "no",
		 it->cls, it->size);
	buf_adds(o, line);
	return o->len < KV_GET_OUT_MAX;
}

/* lru_crawler crawl|metadump CLASSES, tocrawl N, sleep US, enable, disable */
long kv_admin_lru_crawler(struct kv_conn *c, struct kv_req *r, int arg)
{
	struct kv_thread *th = c->t;
	bool want[CLASS_IDS], on = __atomic_load_n(&crawler_on, __ATOMIC_RELAXED);
	bool crawl = r->nt == 3 && kv_tok_is(&r->t[1], "crawl");
	bool dump = r->nt == 3 && kv_tok_is(&r->t[1], "metadump");
	uint32_t v;

	(void)arg;
	if (crawl || dump) {
		if (!on)
			reply(c, "CLIENT_ERROR lru crawler disabled\r\n");
		else if (dump && c->out.len > c->wpos)
			reply(c, "ERROR cannot pipeline other commands before metadump\r\n");
		else if (!class_list(&r->t[2], want))
			reply(c, "BADCLASS invalid class id\r\n");
		else {
			for (int i = 1; i < CLASS_IDS && i < store_classes(th->store); i++)
				if (want[i] && crawl)
					store_crawl(th->store, i, th->now);
				else if (want[i])
					store_walk(th->store, i, th->now, metadump_line, &c->out);
			reply(c, crawl ? "OK\r\n" : "END\r\n");
		}
	} else if (r->nt == 3 && (kv_tok_is(&r->t[1], "tocrawl") || kv_tok_is(&r->t[1], "sleep"))) {
		if (!tok_u32(&r->t[2], &v))
			reply(c, "CLIENT_ERROR bad command line format\r\n");
		else if (kv_tok_is(&r->t[1], "sleep") && v > 1000000)
			reply(c, "CLIENT_ERROR sleep must be one second or less\r\n");
		else
			reply(c, "OK\r\n");	/* a crawl here takes no pauses */
	} else if (r->nt == 2 && kv_tok_is(&r->t[1], "enable")) {
		/* memcached: starting the running crawler thread fails */
		reply(c, on ? "ERROR failed to start lru crawler thread\r\n" : "OK\r\n");
		__atomic_store_n(&crawler_on, true, __ATOMIC_RELAXED);
	} else if (r->nt == 2 && kv_tok_is(&r->t[1], "disable")) {
		__atomic_store_n(&crawler_on, false, __ATOMIC_RELAXED);
		reply(c, "OK\r\n");
	} else {
		reply(c, "ERROR\r\n");
	}
	return 0;
}

/* lru tune PCT_HOT PCT_WARM HOT_FACTOR FACTOR | mode flat|segmented |
 * temp_ttl TTL: memcached's checks and replies; no effect (see top). */
long kv_admin_lru(struct kv_conn *c, struct kv_req *r, int arg)
{
	uint32_t hot, warm;
	int32_t ttl;

	(void)arg;
	if (r->nt >= 6 && kv_tok_is(&r->t[1], "tune")) {
		char a[32], b[32], *e1, *e2;
		double hf, f;

		snprintf(a, sizeof(a), "%.*s", (int)(r->t[4].n < 31 ? r->t[4].n : 31), r->t[4].p);
		snprintf(b, sizeof(b), "%.*s", (int)(r->t[5].n < 31 ? r->t[5].n : 31), r->t[5].p);
		hf = strtod(a, &e1);
		f = strtod(b, &e2);
		if (!tok_u32(&r->t[2], &hot) || !tok_u32(&r->t[3], &warm) || e1 == a || *e1 ||
		    e2 == b || *e2)
			reply(c, "ERROR\r\n");
		else if ((uint64_t)hot + warm > 80)
			reply(c, "ERROR hot and warm pcts must not exceed 80\r\n");
		else if (f <= 0 || hf <= 0)
			reply(c, "ERROR hot/warm age factors must be greater than 0\r\n");
		else
			reply(c, "OK\r\n");
	} else if (r->nt >= 3 && kv_tok_is(&r->t[1], "mode")) {
		reply(c, kv_tok_is(&r->t[2], "flat") || kv_tok_is(&r->t[2], "segmented") ?
			 "OK\r\n" : "ERROR\r\n");
	} else if (r->nt >= 3 && kv_tok_is(&r->t[1], "temp_ttl")) {
		reply(c, kv_tok_i32(&r->t[2], &ttl) ? "OK\r\n" : "ERROR\r\n");
	} else {
		reply(c, "ERROR\r\n");
	}
	return 0;
}

struct cachedump {
	struct buf *o;
	size_t start;
	uint32_t left;		/* 0: no limit */
};

static bool cachedump_line(void *arg, const struct st_item_info *it)
{
	struct cachedump *d = arg;
	char line[96];
	int n = snprintf(line, sizeof(line), " [%u b; %lld s]\r\n", it->nbytes,
			 it->exptime ? (long long)it->exptime + (long long)kv_clock_started() : 0LL);

	/* memcached stops before its 2 MB buffer would overflow */
	if (d->o->len - d->start + 5 + it->nkey + (size_t)n + 5 > CACHEDUMP_MAX)
		return false;
	buf_adds(d->o, "ITEM ");
	buf_add(d->o, it->key, it->nkey);
	buf_add(d->o, line, (size_t)n);
	return !d->left || --d->left;
}

/* stats cachedump CLASS LIMIT (LIMIT 0: all, within 2 MB) */
void kv_admin_cachedump(struct kv_conn *c, struct kv_req *r)
{
	struct kv_thread *th = c->t;
	struct cachedump d = { &c->out, c->out.len, 0 };
	uint32_t id;

	if (r->nt < 4) {
		reply(c, "CLIENT_ERROR bad command line\r\n");
		return;
	}
	if (!tok_u32(&r->t[2], &id) || !tok_u32(&r->t[3], &d.left)) {
		reply(c, "CLIENT_ERROR bad command line format\r\n");
		return;
	}
	if (id >= CLASS_IDS) {
		reply(c, "CLIENT_ERROR Illegal slab id\r\n");
		return;
	}
	if (id >= 1 && (int)id < store_classes(th->store))
		store_walk(th->store, (int)id, th->now, cachedump_line, &d);
	reply(c, "END\r\n");
}
