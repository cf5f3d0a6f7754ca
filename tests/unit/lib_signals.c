/* The one SIGINT/SIGTERM/SIGHUP owner: a stop callback keeps the process
 * alive and runs once per signal; restore callbacks run newest first,
 * once, before the process dies of the signal; an ignored signal stays
 * ignored for restore-only registrations. Deaths are checked in children. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "irqlab/signals.h"
#include "tap.h"

static volatile sig_atomic_t stops;
static int pipefd[2];

static void on_stop(int sig, void *arg)
{
	(void)arg;
	stops += sig == SIGTERM;
}

/* Writes its tag to the pipe, so the parent sees order and count. */
static void on_restore(int sig, void *arg)
{
	(void)sig;
	if (write(pipefd[1], arg, 1) < 0) { /* the parent reads nothing */ }
}

/* Runs body in a child, returns its wait status; what it wrote in out. */
static int in_child(void (*body)(void), char *out, size_t len)
{
	int st = 0;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(pipefd[0]);
		body();
		_exit(0);
	}
	close(pipefd[1]);
	/* Until EOF: the child writes more than once. */
	while (got + 1 < len && (n = read(pipefd[0], out + got, len - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(pipefd[0]);
	waitpid(pid, &st, 0);
	return st;
}

static void restore_then_die(void)
{
	il_signals_on_restore(on_restore, "a");
	il_signals_on_restore(on_restore, "b");
	raise(SIGHUP);
	_exit(0);	/* not reached */
}

static void stop_twice(void)
{
	il_signals_on_restore(on_restore, "r");
	il_signals_on_stop(SIGTERM, on_stop, NULL);
	raise(SIGTERM);		/* first: stop, the process goes on */
	if (stops != 1 || write(pipefd[1], "s", 1) != 1)
		_exit(3);
	raise(SIGTERM);		/* second: restore and die */
	_exit(0);
}

static void ignored_stays(void)
{
	signal(SIGINT, SIG_IGN);
	il_signals_on_restore(on_restore, "x");
	raise(SIGINT);
	if (write(pipefd[1], "i", 1) != 1)
		_exit(3);
	_exit(0);
}

int main(void)
{
	char out[16];
	int st;

	ok(il_signals_on_stop(SIGUSR1, on_stop, NULL) == -EINVAL,
	   "a stop for another signal refused");

	st = in_child(restore_then_die, out, sizeof(out));
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGHUP, "no stop: the process dies of SIGHUP");
	ok(strcmp(out, "ba") == 0, "restore callbacks ran newest first, once ('%s')", out);

	st = in_child(stop_twice, out, sizeof(out));
	ok(strcmp(out, "sr") == 0, "first SIGTERM stops, second restores ('%s')", out);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "and the second kills with SIGTERM (status %#x)", st);

	st = in_child(ignored_stays, out, sizeof(out));
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0 && strcmp(out, "i") == 0,
	   "an ignored SIGINT stays ignored ('%s')", out);
	return tap_done();
}
