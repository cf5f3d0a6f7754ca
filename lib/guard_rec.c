/* The guard's records on the wire and how the guard puts one back. A
 * message is an 8-byte header (version, type, 0, u32 argument) and, for a
 * record, its fields in a fixed order. Both ends are this library in one
 * machine, so numbers travel in host byte order. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guard_int.h"

/* A cursor over a message; any overrun sets bad and stops moving. */
struct cur {
	uint8_t *w;		/* writing, or NULL */
	const uint8_t *r;	/* reading */
	size_t off, size;
	int bad;
};

static void put(struct cur *c, const void *p, size_t n)
{
	if (c->bad || c->off + n > c->size) {
		c->bad = 1;
		return;
	}
	memcpy(c->w + c->off, p, n);
	c->off += n;
}

static void get(struct cur *c, void *p, size_t n)
{
	if (c->bad || c->off + n > c->size) {
		c->bad = 1;
		memset(p, 0, n);
		return;
	}
	memcpy(p, c->r + c->off, n);
	c->off += n;
}

static void header(struct cur *c, int type, uint32_t arg)
{
	uint8_t h[4] = { IL_GUARD_VERSION, (uint8_t)type, 0, 0 };

	put(c, h, 4);
	put(c, &arg, 4);
}

size_t il_guard_cmd(uint8_t *buf, int type, uint32_t arg)
{
	struct cur c = { .w = buf, .size = 8 };

	header(&c, type, arg);
	return c.off;
}

/* The NAPI values a record carries: exactly the settable ones. */
static void put_napi(struct cur *c, const struct il_napi *n)
{
	put(c, &n->defer_hard_irqs, sizeof(n->defer_hard_irqs));
	put(c, &n->gro_flush_timeout, sizeof(n->gro_flush_timeout));
	put(c, &n->irq_suspend_timeout, sizeof(n->irq_suspend_timeout));
	put(c, &n->threaded, sizeof(n->threaded));
}

static void get_napi(struct cur *c, struct il_napi *n)
{
	get(c, &n->defer_hard_irqs, sizeof(n->defer_hard_irqs));
	get(c, &n->gro_flush_timeout, sizeof(n->gro_flush_timeout));
	get(c, &n->irq_suspend_timeout, sizeof(n->irq_suspend_timeout));
	get(c, &n->threaded, sizeof(n->threaded));
}

size_t il_guard_encode(const struct il_guard_rec *r, uint8_t *buf, size_t size)
{
	struct cur c = { .w = buf, .size = size };
	uint32_t n32 = (uint32_t)r->len;
	uint16_t n16;

	header(&c, (int)r->kind, 0);
	switch (r->kind) {
	case IL_GUARD_NAPI:
		put(&c, &r->old.id, 4);
		put(&c, &r->what, sizeof(r->what));
		put_napi(&c, &r->old);
		put_napi(&c, &r->set);
		break;
	case IL_GUARD_FILE:
		n16 = (uint16_t)strnlen(r->path, IL_GUARD_PATH_MAX);
		if (!n16 || n16 >= IL_GUARD_PATH_MAX || r->len > IL_GUARD_DATA_MAX)
			return 0;
		put(&c, &n16, 2);
		put(&c, r->path, n16);
		put(&c, &n32, 4);
		put(&c, r->data, r->len);
		break;
	case IL_GUARD_RUN:
		n16 = (uint16_t)r->argc;
		if (r->argc < 1 || r->argc > IL_GUARD_ARGS_MAX ||
		    r->len > IL_GUARD_DATA_MAX)
			return 0;
		put(&c, &n16, 2);
		put(&c, &n32, 4);
		put(&c, r->data, r->len);
		break;
	default:
		return 0;
	}
	return c.bad ? 0 : c.off;
}

/* RUN data is argc words, each NUL-terminated, and nothing else. */
static int words_ok(const char *p, size_t len, int argc)
{
	int n = 0;

	for (size_t i = 0; i < len; i++)
		n += p[i] == '\0';
	return len && p[len - 1] == '\0' && n == argc;
}

int il_guard_decode(const uint8_t *buf, size_t n, struct il_guard_rec *r)
{
	struct cur c = { .r = buf, .size = n };
	uint8_t h[4];
	uint32_t arg, n32 = 0;
	uint16_t n16 = 0;

	memset(r, 0, sizeof(*r));
	get(&c, h, 4);
	get(&c, &arg, 4);
	if (c.bad || h[0] != IL_GUARD_VERSION)
		return -EBADMSG;
	r->kind = h[1];
	switch (r->kind) {
	case IL_GUARD_NAPI:
		get(&c, &r->old.id, 4);
		get(&c, &r->what, sizeof(r->what));
		get_napi(&c, &r->old);
		get_napi(&c, &r->set);
		r->set.id = r->old.id;
		break;
	case IL_GUARD_FILE:
		get(&c, &n16, 2);
		if (!n16 || n16 >= IL_GUARD_PATH_MAX)
			return -EBADMSG;
		get(&c, r->path, n16);
		get(&c, &n32, 4);
		if (n32 > IL_GUARD_DATA_MAX || memchr(r->path, '\0', n16))
			return -EBADMSG;
		get(&c, r->data, n32);
		break;
	case IL_GUARD_RUN:
		get(&c, &n16, 2);
		get(&c, &n32, 4);
		if (n16 < 1 || n16 > IL_GUARD_ARGS_MAX || n32 > IL_GUARD_DATA_MAX)
			return -EBADMSG;
		get(&c, r->data, n32);
		if (!c.bad && !words_ok(r->data, n32, n16))
			return -EBADMSG;
		r->argc = n16;
		break;
	default:
		return -EBADMSG;
	}
	r->len = n32;
	/* One whole record: nothing missing, nothing left over. */
	return c.bad || c.off != n ? -EBADMSG : 0;
}

/* Writes the old content back in one write: a sysfs or procfs file takes
 * its value from a single write. */
static int apply_file(const struct il_guard_rec *r, char *msg, size_t len)
{
	int fd = open(r->path, O_WRONLY | O_TRUNC | O_CLOEXEC), e;
	ssize_t n;

	if (fd < 0) {
		e = errno;
		snprintf(msg, len, "%s: %s", r->path, strerror(e));
		return -e;
	}
	n = write(fd, r->data, r->len);
	e = n < 0 ? errno : (size_t)n == r->len ? 0 : EIO;
	close(fd);
	if (e) {
		snprintf(msg, len, "writing back %s: %s", r->path, strerror(e));
		return -e;
	}
	return 1;
}

/* Waits for pid at most ms milliseconds, then kills it. */
static int wait_bounded(pid_t pid, int ms)
{
	struct timespec tick = { 0, 10 * 1000000 };
	int st = 0;

	for (int waited = 0; waited < ms; waited += 10) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid)
			return st;
		if (w < 0 && errno != EINTR)
			return -1;
		nanosleep(&tick, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -2;
}

static int apply_run(const struct il_guard_rec *r, char *msg, size_t len)
{
	char *argv[IL_GUARD_ARGS_MAX + 1], data[IL_GUARD_DATA_MAX];
	const char *p = data;
	pid_t pid;
	int st;

	memcpy(data, r->data, r->len);
	for (int i = 0; i < r->argc; i++, p += strlen(p) + 1)
		argv[i] = (char *)p;
	argv[r->argc] = NULL;
	pid = fork();
	if (pid < 0) {
		int e = errno;

		snprintf(msg, len, "running %s: %s", argv[0], strerror(e));
		return -e;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
		}
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		execvp(argv[0], argv);
		_exit(127);
	}
	st = wait_bounded(pid, 10000);
	if (st == 0)
		return 1;
	if (st == -2)
		snprintf(msg, len, "'%s ...' still running after 10 s, killed", argv[0]);
	else if (st > 0 && WIFEXITED(st))
		snprintf(msg, len, "'%s ...' exited with status %d", argv[0],
			 WEXITSTATUS(st));
	else
		snprintf(msg, len, "'%s ...' died (status %#x)", argv[0], st);
	return -ECHILD;
}

int il_guard_apply(const struct il_guard_rec *r, struct il_nl *nl,
		   char *msg, size_t len)
{
	msg[0] = '\0';
	switch (r->kind) {
	case IL_GUARD_NAPI: return il_napi_guard_apply(r, nl, msg, len);
	case IL_GUARD_FILE: return apply_file(r, msg, len);
	case IL_GUARD_RUN: return apply_run(r, msg, len);
	}
	snprintf(msg, len, "unknown record kind %u", r->kind);
	return -EINVAL;
}
