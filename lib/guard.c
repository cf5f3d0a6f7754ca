/* The restore guard (irqlab/guard.h): the program's side (start, record,
 * restore, keep, the exit hook) and the guard process itself. Records and
 * commands are messages on an AF_UNIX SOCK_SEQPACKET pair: one send is one
 * message, a record sent before the program dies is still read by the
 * guard, and end-of-file tells the guard that the last holder is gone. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "irqlab/signals.h"
#include "guard_int.h"
#include "napi_int.h"

#define PFX "irqlab-guard: "

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int g_fd = -1;		/* our end of the socket pair */
static int g_done = -1;		/* EOF when the guard has finished */
static pid_t g_owner;		/* the process that started it */
static pid_t g_pid;		/* the guard */
static unsigned g_flags;

static int fail(char *err, size_t len, int rc, const char *what)
{
	if (err && len)
		snprintf(err, len, "restore guard: %s: %s", what, strerror(-rc));
	return rc;
}

/* --- the guard process -------------------------------------------------- */

struct rec_list {
	uint8_t **msg;
	size_t *len;
	int n, cap;
};

static int list_add(struct rec_list *l, const uint8_t *m, size_t n)
{
	if (l->n == l->cap) {
		int cap = l->cap ? 2 * l->cap : 64;
		uint8_t **msg = realloc(l->msg, (size_t)cap * sizeof(*msg));
		size_t *len = msg ? realloc(l->len, (size_t)cap * sizeof(*len)) : NULL;

		if (msg)
			l->msg = msg;
		if (!len)
			return -ENOMEM;
		l->len = len;
		l->cap = cap;
	}
	if (!(l->msg[l->n] = malloc(n)))
		return -ENOMEM;
	memcpy(l->msg[l->n], m, n);
	l->len[l->n++] = n;
	return 0;
}

/* Restores (or, keep: only forgets) the records of these kinds, newest
 * first. Returns the count restored; *first gets the first error and msg
 * its sentence. */
static int list_restore(struct rec_list *l, unsigned kinds, int keep,
			struct il_nl *nl, int *first, char *msg, size_t len)
{
	static struct il_guard_rec r;	/* 4 KiB: not on the stack */
	char why[400];
	int done = 0, k = 0;

	*first = 0;
	msg[0] = '\0';
	for (int i = l->n - 1; i >= 0; i--) {
		int rc = il_guard_decode(l->msg[i], l->len[i], &r);

		if (rc == 0 && !(r.kind & kinds))
			continue;
		if (rc == 0 && !keep)
			rc = il_guard_apply(&r, nl, why, sizeof(why));
		else
			why[0] = '\0';
		if (rc > 0)
			done++;
		if (why[0])
			fprintf(stderr, PFX "%s\n", why);
		if (rc < 0 && !*first) {
			*first = rc;
			snprintf(msg, len, "%s", why[0] ? why : strerror(-rc));
		}
		free(l->msg[i]);
		l->msg[i] = NULL;
	}
	for (int i = 0; i < l->n; i++)	/* close the gaps, order kept */
		if (l->msg[i]) {
			l->msg[k] = l->msg[i];
			l->len[k++] = l->len[i];
		}
	l->n = k;
	return done;
}

static void reply_done(int sock, int count, int rc, const char *msg)
{
	uint8_t buf[8 + 4 + 256];
	size_t n = il_guard_cmd(buf, IL_GM_DONE, (uint32_t)count);
	int32_t r32 = rc;
	size_t m = strnlen(msg, 255);

	memcpy(buf + n, &r32, 4);
	memcpy(buf + n + 4, msg, m);
	buf[n + 4 + m] = '\0';
	send(sock, buf, n + 5 + m, MSG_NOSIGNAL);
}

/* The guard keeps nothing of the program open but stderr: not its
 * listening socket (the port would stay bound), not its stdout. */
static void guard_detach(int sock, int done)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE };
	int null = open("/dev/null", O_RDWR), lo, hi;
	sigset_t none;

	setsid();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		if (null > 2)
			close(null);
	}
	lo = sock < done ? sock : done;
	hi = sock < done ? done : sock;
	if (lo > 3)
		close_range(3, (unsigned)lo - 1, 0);
	if (hi > lo + 1)
		close_range((unsigned)lo + 1, (unsigned)hi - 1, 0);
	close_range((unsigned)hi + 1, ~0U, 0);
	prctl(PR_SET_NAME, "irqlab-guard");
}

static void guard_report(unsigned flags, int count, int rc)
{
	if ((flags & IL_GUARD_VERBOSE) && count)
		fprintf(stderr, PFX "restored %d setting%s\n", count,
			count == 1 ? "" : "s");
	(void)rc;
}

/* The guard's life: read records and commands until end-of-file, then put
 * everything back. Never returns; never runs the program's atexit. */
static void guard_main(int sock, int done, unsigned flags)
{
	static uint8_t buf[IL_GUARD_MSG_MAX];
	struct il_nl nl = { .names = &il_netdev_names };
	struct rec_list l = { 0 };
	char msg[256];
	int first = 0, count;
	uint8_t hello[8];

	guard_detach(sock, done);
	send(sock, hello, il_guard_cmd(hello, IL_GM_HELLO, (uint32_t)getpid()),
	     MSG_NOSIGNAL);
	for (;;) {
		ssize_t n = recv(sock, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;		/* EOF: the program is gone */
		if (n < 8 || buf[0] != IL_GUARD_VERSION)
			continue;
		if (buf[1] == IL_GUARD_NAPI || buf[1] == IL_GUARD_FILE ||
		    buf[1] == IL_GUARD_RUN) {
			if (list_add(&l, buf, (size_t)n))
				fprintf(stderr, PFX "out of memory, a record is lost\n");
		} else if (buf[1] == IL_GM_RESTORE || buf[1] == IL_GM_KEEP) {
			uint32_t kinds;

			memcpy(&kinds, buf + 4, 4);
			count = list_restore(&l, kinds, buf[1] == IL_GM_KEEP, &nl,
					     &first, msg, sizeof(msg));
			if (buf[1] == IL_GM_RESTORE) {
				guard_report(flags, count, first);
				reply_done(sock, count, first, msg);
			}
		}
	}
	count = list_restore(&l, IL_GUARD_ALL, 0, &nl, &first, msg, sizeof(msg));
	guard_report(flags, count, first);
	close(done);
	_exit(first ? 1 : 0);
}

/* --- the program's side --------------------------------------------------- */

static int send_msg(const uint8_t *buf, size_t n, char *err, size_t len)
{
	ssize_t w;

	while ((w = send(g_fd, buf, n, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (w < 0)
		return fail(err, len, -errno, "the guard is gone, cannot record");
	return 0;
}

/* Reads one message of type want, waiting at most ms. */
static ssize_t recv_msg(uint8_t *buf, size_t size, int want, int ms)
{
	struct pollfd p = { .fd = g_fd, .events = POLLIN };

	for (;;) {
		ssize_t n;
		int rc = poll(&p, 1, ms);

		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			return rc < 0 ? -errno : -ETIMEDOUT;
		n = recv(g_fd, buf, size, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		if (n >= 8 && buf[1] == want)
			return n;
	}
}

static void at_exit(void)
{
	struct pollfd p = { .fd = g_done, .events = POLLIN };
	char c;

	if (g_fd < 0 || getpid() != g_owner)
		return;
	if (!(g_flags & IL_GUARD_INHERIT))
		il_guard_restore(IL_GUARD_ALL, NULL, 0);
	close(g_fd);
	g_fd = -1;
	/* Inherited ends may still live (an exec'd server): the restore
	 * follows the last of them; wait for it, bounded. */
	if (g_flags & IL_GUARD_INHERIT)
		while (poll(&p, 1, 5000) > 0 && read(g_done, &c, 1) > 0)
			;
}

/* Only the process that started the guard restores on a signal: a forked
 * child that inherited the handler must not undo its parent's settings. */
static void on_signal(int sig, void *arg)
{
	(void)sig;
	(void)arg;
	if (getpid() == g_owner)
		il_guard_restore(IL_GUARD_ALL, NULL, 0);
}

/* Forks the guard as a grandchild (no child of ours to reap or to confuse
 * a program that waits for all its children), then waits for its hello. */
static int spawn(unsigned flags, char *err, size_t len)
{
	int sv[2], done[2], type = SOCK_SEQPACKET, st;
	uint8_t buf[64];
	ssize_t n;
	pid_t pid;

	if (!(flags & IL_GUARD_INHERIT))
		type |= SOCK_CLOEXEC;
	if (socketpair(AF_UNIX, type, 0, sv))
		return fail(err, len, -errno, "socketpair");
	if (pipe2(done, O_CLOEXEC)) {
		close(sv[0]);
		close(sv[1]);
		return fail(err, len, -errno, "pipe");
	}
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		close(done[0]);
		if (fork() == 0)
			guard_main(sv[1], done[1], flags);
		_exit(0);
	}
	close(sv[1]);
	close(done[1]);
	g_fd = sv[0];
	g_done = done[0];
	if (pid > 0)
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	n = pid < 0 ? -errno : recv_msg(buf, sizeof(buf), IL_GM_HELLO, 5000);
	if (n < 0) {
		close(g_fd);
		close(g_done);
		g_fd = g_done = -1;
		return fail(err, len, (int)n, "cannot start the guard process");
	}
	memcpy(&g_pid, buf + 4, 4);
	return 0;
}

int il_guard_start(unsigned flags, char *err, size_t len)
{
	static pid_t hooked;
	int rc = 0;

	pthread_mutex_lock(&lock);
	/* A forked child records through its parent's guard. */
	if (g_fd < 0 && (rc = spawn(flags, err, len)) == 0) {
		g_owner = getpid();
		g_flags = flags;
		if (hooked != g_owner) {
			hooked = g_owner;
			atexit(at_exit);
			if (!(flags & IL_GUARD_INHERIT))
				il_signals_on_restore(on_signal, NULL);
		}
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

static int record(const struct il_guard_rec *r, char *err, size_t len)
{
	uint8_t buf[IL_GUARD_MSG_MAX];
	size_t n;
	int rc;

	if ((rc = il_guard_start(0, err, len)))
		return rc;
	n = il_guard_encode(r, buf, sizeof(buf));
	return n ? send_msg(buf, n, err, len) : fail(err, len, -E2BIG, "record");
}

int il_guard_napi(const struct il_napi *old, unsigned what,
		  const struct il_napi *set, char *err, size_t len)
{
	struct il_guard_rec r = { .kind = IL_GUARD_NAPI, .what = what };

	r.old = *old;
	r.set = *set;
	r.set.id = old->id;
	return record(&r, err, len);
}

int il_guard_file(const char *path, char *err, size_t len)
{
	struct il_guard_rec r = { .kind = IL_GUARD_FILE };
	ssize_t n;
	int fd;

	if (strlen(path) >= sizeof(r.path)) {
		if (err && len)
			snprintf(err, len, "restore guard: path too long (%zu bytes, "
				 "at most %d): %s", strlen(path),
				 IL_GUARD_PATH_MAX - 1, path);
		return -ENAMETOOLONG;
	}
	snprintf(r.path, sizeof(r.path), "%s", path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return fail(err, len, -errno, path);
	/* One read more than fits, to tell "full" from "too large". */
	n = read(fd, r.data, sizeof(r.data));
	if (n == (ssize_t)sizeof(r.data)) {
		char extra;

		if (read(fd, &extra, 1) == 1)
			n = -2;
	}
	close(fd);
	if (n == -2)
		return fail(err, len, -EFBIG, path);
	if (n < 0)
		return fail(err, len, -errno, path);
	r.len = (size_t)n;
	return record(&r, err, len);
}

int il_guard_write_file(const char *path, const char *content,
			char *err, size_t len)
{
	size_t n = strlen(content);
	ssize_t w;
	int fd, rc;

	if ((rc = il_guard_file(path, err, len)))
		return rc;
	if ((fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)) < 0)
		return fail(err, len, -errno, path);
	w = write(fd, content, n);
	rc = w < 0 ? -errno : (size_t)w == n ? 0 : -EIO;
	close(fd);
	return rc ? fail(err, len, rc, path) : 0;
}

int il_guard_run(const char *const argv[], char *err, size_t len)
{
	struct il_guard_rec r = { .kind = IL_GUARD_RUN };

	for (; argv[r.argc]; r.argc++) {
		size_t w = strlen(argv[r.argc]) + 1;

		if (r.argc == IL_GUARD_ARGS_MAX || r.len + w > sizeof(r.data))
			return fail(err, len, -E2BIG, "command too long to record");
		memcpy(r.data + r.len, argv[r.argc], w);
		r.len += w;
	}
	if (!r.argc)
		return fail(err, len, -EINVAL, "empty command");
	return record(&r, err, len);
}

int il_guard_restore(unsigned kinds, char *err, size_t len)
{
	uint8_t buf[8 + 4 + 256];
	ssize_t n;
	int32_t rc;
	uint32_t count;

	if (g_fd < 0)
		return 0;
	n = (ssize_t)il_guard_cmd(buf, IL_GM_RESTORE, kinds);
	if ((rc = send_msg(buf, (size_t)n, err, len)))
		return rc;
	/* Commands run one at a time: every record has its 10 s bound. */
	n = recv_msg(buf, sizeof(buf) - 1, IL_GM_DONE, 120000);
	if (n < 12)
		return fail(err, len, n < 0 ? (int)n : -EBADMSG, "no answer");
	buf[n] = '\0';
	memcpy(&count, buf + 4, 4);
	memcpy(&rc, buf + 8, 4);
	if (rc < 0) {
		if (err && len)
			snprintf(err, len, "%s", (const char *)buf + 12);
		return rc;
	}
	return (int)count;
}

int il_guard_keep(unsigned kinds)
{
	uint8_t buf[8];

	if (g_fd < 0)
		return 0;
	return send_msg(buf, il_guard_cmd(buf, IL_GM_KEEP, kinds), NULL, 0);
}

int il_guard_fd(void)
{
	return g_fd;
}

int il_guard_pid(void)
{
	return (int)g_pid;
}
