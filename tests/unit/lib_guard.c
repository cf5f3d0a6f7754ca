/* The restore guard without root: records survive encoding, broken
 * messages are refused, file and command records are put back (directly
 * and by a real guard process after SIGKILL, SIGSTOP+SIGKILL and exit),
 * and kept records stay changed. Files live in a temporary directory. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "irqlab/guard.h"
#include "lib/guard_int.h"
#include "tap.h"

static char dir[] = "/tmp/lib_guard.XXXXXX";
static uint8_t msg[IL_GUARD_MSG_MAX];

static void put_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	fputs(s, f);
	fclose(f);
}

static const char *read_file(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return f ? buf : "(missing)";
}

/* Polls until path holds want, at most 5 s (the guard restores
 * asynchronously after a kill). */
static int becomes(const char *path, const char *want)
{
	struct timespec t = { 0, 20 * 1000000 };

	for (int i = 0; i < 250; i++) {
		if (!strcmp(read_file(path), want))
			return 1;
		nanosleep(&t, NULL);
	}
	return 0;
}

static void test_encoding(void)
{
	struct il_guard_rec r = { .kind = IL_GUARD_NAPI, .what = 5 }, back;
	static const char words[] = "ip\0netns\0del\0x";
	size_t n;
	int bad = 0;

	r.old = (struct il_napi){ .id = 8193, .defer_hard_irqs = 3,
		.gro_flush_timeout = 7000, .irq_suspend_timeout = 1ULL << 40, .threaded = 1 };
	r.set = (struct il_napi){ .id = 8193, .defer_hard_irqs = 100,
		.gro_flush_timeout = 20000, .irq_suspend_timeout = 20000000 };
	n = il_guard_encode(&r, msg, sizeof(msg));
	ok(n == 8 + 8 + 2 * 24 && il_guard_decode(msg, n, &back) == 0 &&
	   back.kind == IL_GUARD_NAPI && back.what == 5 && back.old.id == 8193 &&
	   back.old.irq_suspend_timeout == 1ULL << 40 && back.old.threaded == 1 &&
	   back.set.defer_hard_irqs == 100 && back.set.gro_flush_timeout == 20000,
	   "NAPI record: old and set values survive (%zu bytes)", n);
	for (size_t k = 0; k < n; k++)
		bad += il_guard_decode(msg, k, &back) == 0;
	ok(bad == 0, "every truncated NAPI record refused");

	r = (struct il_guard_rec){ .kind = IL_GUARD_FILE, .len = 3 };
	strcpy(r.path, "/sys/class/net/x/threaded");
	memcpy(r.data, "0\n\0", 3);
	n = il_guard_encode(&r, msg, sizeof(msg));
	ok(n && il_guard_decode(msg, n, &back) == 0 && !strcmp(back.path, r.path) &&
	   back.len == 3 && !memcmp(back.data, "0\n\0", 3),
	   "FILE record: path and content (with a NUL) survive");
	msg[n] = 0;
	ok(il_guard_decode(msg, n + 1, &back) == -EBADMSG, "a byte after the record refused");
	msg[0] = 2;
	ok(il_guard_decode(msg, n, &back) == -EBADMSG, "another version refused");
	r.path[0] = '\0';
	ok(il_guard_encode(&r, msg, sizeof(msg)) == 0, "FILE record without a path not encoded");

	r = (struct il_guard_rec){ .kind = IL_GUARD_RUN, .argc = 4, .len = sizeof(words) };
	memcpy(r.data, words, sizeof(words));
	n = il_guard_encode(&r, msg, sizeof(msg));
	ok(n && il_guard_decode(msg, n, &back) == 0 && back.argc == 4 &&
	   !strcmp(back.data + 9, "del"), "RUN record: four words survive");
	r.argc = 3;
	n = il_guard_encode(&r, msg, sizeof(msg));
	ok(n && il_guard_decode(msg, n, &back) == -EBADMSG, "RUN record whose word count lies refused");
	msg[1] = 9;
	ok(il_guard_decode(msg, n, &back) == -EBADMSG, "unknown kind refused");
	ok(il_guard_cmd(msg, IL_GM_RESTORE, IL_GUARD_ALL) == 8 &&
	   il_guard_decode(msg, 8, &back) == -EBADMSG, "a command is no record");
}

static void test_apply(void)
{
	struct il_guard_rec r = { .kind = IL_GUARD_FILE, .len = 4 };
	char path[300], why[300];
	const char *sh[] = { "sh", "-c", NULL, NULL };
	char cmd[400];

	snprintf(r.path, sizeof(r.path), "%s/affinity", dir);
	memcpy(r.data, "f0f\n", 4);
	put_file(r.path, "1\n");
	ok(il_guard_apply(&r, NULL, why, sizeof(why)) == 1 &&
	   !strcmp(read_file(r.path), "f0f\n"), "file record writes the old content back");
	snprintf(r.path, sizeof(r.path), "%s/no/such", dir);
	ok(il_guard_apply(&r, NULL, why, sizeof(why)) == -ENOENT && strstr(why, "no/such"),
	   "a file that cannot be opened: -ENOENT, named (%s)", why);

	r = (struct il_guard_rec){ .kind = IL_GUARD_RUN, .argc = 3 };
	snprintf(path, sizeof(path), "%s/ran", dir);
	snprintf(cmd, sizeof(cmd), "echo ran > %s", path);
	sh[2] = cmd;
	for (int i = 0; i < 3; i++) {
		memcpy(r.data + r.len, sh[i], strlen(sh[i]) + 1);
		r.len += strlen(sh[i]) + 1;
	}
	ok(il_guard_apply(&r, NULL, why, sizeof(why)) == 1 &&
	   !strcmp(read_file(path), "ran\n"), "run record runs its command");
	r = (struct il_guard_rec){ .kind = IL_GUARD_RUN, .argc = 3 };
	memcpy(r.data, "sh\0-c\0exit 3", 13);
	r.len = 13;
	ok(il_guard_apply(&r, NULL, why, sizeof(why)) == -ECHILD &&
	   strstr(why, "exited with status 3"), "a failing command is reported (%s)", why);
}

/* A child changes a file and a marker through the guard, then ends as
 * told; the parent checks that both came back. */
static void guarded_child(const char *how)
{
	char path[300], mark[300], err[256];
	const char *rm[] = { "rm", "-f", mark, NULL };
	int st;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s", dir, how);
	snprintf(mark, sizeof(mark), "%s/%s.mark", dir, how);
	put_file(path, "old\n");
	put_file(mark, "x");
	pid = fork();
	if (pid == 0) {
		if (il_guard_run(rm, err, sizeof(err)) ||
		    il_guard_write_file(path, "new\n", err, sizeof(err)))
			_exit(3);
		if (!strcmp(how, "exit"))
			exit(0);
		if (!strcmp(how, "stop-kill"))
			raise(SIGSTOP);
		raise(SIGKILL);
		_exit(4);
	}
	if (!strcmp(how, "stop-kill")) {
		waitpid(pid, &st, WUNTRACED);
		ok(WIFSTOPPED(st) && !strcmp(read_file(path), "new\n"),
		   "stop-kill: changed and stopped");
		kill(pid, SIGKILL);
	}
	waitpid(pid, &st, 0);
	if (!strcmp(how, "exit"))	/* a normal exit waits for the restore */
		ok(!strcmp(read_file(path), "old\n"), "exit: restored before the exit status");
	else
		ok(becomes(path, "old\n"), "%s: file content restored", how);
	ok(becomes(mark, "(missing)"), "%s: the recorded command ran", how);
}

static void test_in_process(void)
{
	char path[300], err[256];
	pid_t pid;
	int st;

	/* Kept records stay changed after exit (a child with a guard of its
	 * own: this process has none yet). */
	snprintf(path, sizeof(path), "%s/kept", dir);
	put_file(path, "a\n");
	pid = fork();
	if (pid == 0) {
		il_guard_write_file(path, "b\n", err, sizeof(err));
		il_guard_keep(IL_GUARD_FILE);
		exit(0);
	}
	waitpid(pid, &st, 0);
	ok(!strcmp(read_file(path), "b\n"), "kept record: the change stays after exit");

	snprintf(path, sizeof(path), "%s/inproc", dir);
	put_file(path, "a\n");
	ok(il_guard_write_file(path, "b\n", err, sizeof(err)) == 0 &&
	   !strcmp(read_file(path), "b\n"), "write_file records and writes");
	ok(il_guard_pid() > 0 && il_guard_pid() != getpid() && il_guard_fd() >= 0,
	   "a guard process runs (pid %d)", il_guard_pid());
	ok(il_guard_restore(IL_GUARD_FILE, err, sizeof(err)) == 1 &&
	   !strcmp(read_file(path), "a\n"), "restore now puts it back (1 setting)");
	ok(il_guard_restore(IL_GUARD_ALL, err, sizeof(err)) == 0, "a second restore has nothing to do");
	ok(il_guard_file("/nonexistent/x", err, sizeof(err)) == -ENOENT && strstr(err, "/nonexistent/x"),
	   "recording a missing file fails, named (%s)", err);

}

int main(void)
{
	char cmd[64];

	if (!mkdtemp(dir))
		tap_skip_all("cannot make a temporary directory");
	test_encoding();
	test_apply();
	guarded_child("kill");
	guarded_child("stop-kill");
	guarded_child("exit");
	test_in_process();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd)) { /* a leftover temp dir is harmless */ }
	return tap_done();
}
