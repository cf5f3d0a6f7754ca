/* The protocols' entry: input framing and one command table for the text
 * and meta protocols (memcached 1.6's doc/protocol.txt), answering byte for
 * byte like memcached 1.6.18 for the same requests: the same token count
 * rules, the same error strings, the same consumption of data blocks after
 * an error, and noreply silencing everything a command would say. */
#include "proto.h"

#include <string.h>

#include "stats.h"

/* Table flags. */
#define NOREPLY 1	/* a last token "noreply" silences the replies */

struct kv_cmd {
	const char *name;
	size_t len;	/* strlen(name) */
	int min, max;	/* token counts accepted, the command's own included */
	int flags;
	kv_cmd_fn *fn;
	int arg;
};

/* Token counts outside min..max answer "ERROR", as memcached does; get and
 * gat read their keys from the line itself (any number of them), so their
 * max is KV_TOK_MAX, the count that means "more than were kept". The most
 * frequent commands come first: the table is searched in order. */
#define CMD(name, ...) { name, sizeof(name) - 1, __VA_ARGS__ }
static const struct kv_cmd commands[] = {
	CMD("get", 2, KV_TOK_MAX, 0, kv_cmd_get, 0),
	CMD("mg", 2, KV_TOK_MAX - 1, 0, kv_meta_get, 0),
	CMD("set", 5, 6, NOREPLY, kv_cmd_store, ST_SET),
	CMD("ms", 2, KV_TOK_MAX - 1, 0, kv_meta_set, 0),
	CMD("gets", 2, KV_TOK_MAX, 0, kv_cmd_get, 1),
	CMD("delete", 2, 4, NOREPLY, kv_cmd_delete, 0),
	CMD("md", 2, KV_TOK_MAX - 1, 0, kv_meta_delete, 0),
	CMD("incr", 3, 4, NOREPLY, kv_cmd_arith, 1),
	CMD("decr", 3, 4, NOREPLY, kv_cmd_arith, 0),
	CMD("ma", 2, KV_TOK_MAX - 1, 0, kv_meta_arith, 0),
	CMD("mn", 1, KV_TOK_MAX, 0, kv_meta_noop, 0),
	CMD("add", 5, 6, NOREPLY, kv_cmd_store, ST_ADD),
	CMD("replace", 5, 6, NOREPLY, kv_cmd_store, ST_REPLACE),
	CMD("append", 5, 6, NOREPLY, kv_cmd_store, ST_APPEND),
	CMD("prepend", 5, 6, NOREPLY, kv_cmd_store, ST_PREPEND),
	CMD("cas", 6, 7, NOREPLY, kv_cmd_store, ST_CAS),
	CMD("touch", 3, 4, NOREPLY, kv_cmd_touch, 0),
	CMD("gat", 2, KV_TOK_MAX, 0, kv_cmd_gat, 0),
	CMD("gats", 2, KV_TOK_MAX, 0, kv_cmd_gat, 1),
	CMD("me", 2, KV_TOK_MAX - 1, 0, kv_meta_debug, 0),
	CMD("flush_all", 1, 3, NOREPLY, kv_cmd_flush, 0),
	CMD("verbosity", 2, 3, NOREPLY, kv_cmd_verbosity, 0),
	CMD("version", 1, KV_TOK_MAX - 1, 0, kv_cmd_version, 0),
	CMD("quit", 1, KV_TOK_MAX - 1, 0, kv_cmd_quit, 0),
	CMD("stats", 1, KV_TOK_MAX - 1, 0, kv_cmd_stats, 0),
	CMD("shutdown", 1, KV_TOK_MAX - 1, 0, kv_cmd_shutdown, 0),
	CMD("slabs", 1, KV_TOK_MAX - 1, 0, kv_admin_slabs, 0),
	CMD("lru_crawler", 1, KV_TOK_MAX - 1, 0, kv_admin_lru_crawler, 0),
	CMD("lru", 1, KV_TOK_MAX - 1, 0, kv_admin_lru, 0),
};

static const struct kv_cmd *lookup(const struct kv_tok *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct kv_cmd *c = &commands[i];
		size_t k = 0;

		/* names are short: a byte loop beats a memcmp call here */
		if (c->len != name->n)
			continue;
		while (k < c->len && c->name[k] == name->p[k])
			k++;
		if (k == c->len)
			return c;
	}
	return NULL;
}

/* An unknown command whose last token starts with "HTTP/" ("GET /
 * HTTP/1.1", "POST /x HTTP/1.0") is an HTTP request line: memcached 1.6
 * closes the connection without a reply, so a browser or an SSRF cannot
 * smuggle commands in the request's body. memcached only gets there for
 * names that its first-letter dispatch does not claim: not two-letter m*
 * names, not names starting with a lower-case g s a c i d t (those answer
 * ERROR), not one letter, and not the commands it has and we lack. */
static bool looks_like_http(const struct kv_req *r)
{
	static const char *const theirs[] = { "bget", "lru", "lru_crawler", "watch" };
	const struct kv_tok *name = &r->t[0], *last = &r->t[r->nt - 1];

	if (r->nt == KV_TOK_MAX)	/* memcached looks at the last kept one */
		last = &r->t[KV_TOK_MAX - 2];
	if (last->n < 5 || memcmp(last->p, "HTTP/", 5) || name->n < 2 ||
	    (name->n == 2 && name->p[0] == 'm') || strchr("gsacidt", name->p[0]))
		return false;
	for (size_t i = 0; i < sizeof(theirs) / sizeof(theirs[0]); i++)
		if (kv_tok_is(name, theirs[i]))
			return false;
	return true;
}

void kv_proto_need(struct kv_conn *c, size_t need)
{
	c->need = need;
}

/* One command line (without "\r\n"); data/avail: what follows the line.
 * The request lives in the thread, not on this stack, so that most
 * commands are tail calls (this runs for every request). */
static long dispatch(struct kv_conn *c, const char *line, size_t len,
		     const char *data, size_t avail)
{
	struct kv_req *r = &c->t->req;
	const struct kv_cmd *cmd;
	size_t mark;
	long n;

	/* memcached parses the line as a C string: a NUL ends it (so a key
	 * with a NUL in it is cut there: "set k\0ey 0 0 1" is "set k") */
	len = strnlen(line, len);
	r->nt = kv_tokenize(line, len, r->t, KV_TOK_MAX - 1);
	if (r->nt < 1) {
		buf_adds(&c->out, "ERROR\r\n");
		return 0;
	}
	/* every two-letter m command counts, known or not */
	if (r->t[0].n == 2 && r->t[0].p[0] == 'm')
		KV_INC(c->t, cmd_meta);
	cmd = lookup(&r->t[0]);
	if (!cmd && looks_like_http(r)) {
		kv_proto_drop_unflushed(c);
		return CLOSE_CONN;
	}
	if (!cmd || r->nt < cmd->min || r->nt > cmd->max) {
		buf_adds(&c->out, "ERROR\r\n");
		return 0;
	}
	r->end = line + len;
	r->data = data;
	r->avail = avail;
	/* nt == KV_TOK_MAX: t[nt - 1] was not kept */
	r->noreply = (cmd->flags & NOREPLY) && r->nt < KV_TOK_MAX &&
		     kv_tok_is(&r->t[r->nt - 1], "noreply");
	if (!r->noreply)
		return cmd->fn(c, r, cmd->arg);
	mark = c->out.len;
	n = cmd->fn(c, r, cmd->arg);
	if (n != NEED_MORE)
		c->out.len = mark;
	return n;
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

int kv_proto_process(struct kv_conn *c)
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
		if (c->swallow) {	/* a refused command's data block */
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
			kv_proto_drop_unflushed(c);
			return PROTO_CLOSE;
		}
		e = nl > s && nl[-1] == '\r' ? nl - 1 : nl;
		r = dispatch(c, s, (size_t)(e - s), nl + 1, avail - (size_t)(nl + 1 - s));
		if (r == NEED_MORE) {
			c->need += (size_t)(nl + 1 - s);
			return PROTO_OK;
		}
		/* a whole command: not idle (read by stats conns) */
		__atomic_store_n(&c->last_cmd, c->t->now, __ATOMIC_RELAXED);
		if (r == CLOSE_CONN)
			return PROTO_CLOSE;
		c->rpos += (size_t)(nl + 1 - s) + (size_t)r;
	}
	return PROTO_OK;
}
