/* The old values of every NAPI setting this process changed, and putting
 * them back. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "irqlab/signals.h"
#include "napi_int.h"

/* Old values, one entry per NAPI id, written completely before count grows
 * so the signal handler never reads a half-made entry. */
struct saved {
	struct il_napi old;
	unsigned what;
};
static struct saved saved[IL_NAPI_MAX];
static volatile sig_atomic_t nsaved;
static volatile sig_atomic_t restoring;
static char restore_buf[IL_NL_BUF];
/* Its own socket, so a signal arriving in the middle of a transaction on
 * the main one cannot read that transaction's replies. */
static struct il_nl restore_nl;

static int find_saved(uint32_t id)
{
	for (int i = 0; i < nsaved; i++)
		if (saved[i].old.id == id)
			return i;
	return -1;
}

/* Records the fields of cur named in what that are not saved yet; *added
 * says which, so a failed set can take them back. */
int il_napi_save(const struct il_napi *cur, unsigned what, unsigned *added)
{
	int i = find_saved(cur->id);
	struct saved *s;

	if (i < 0) {
		if (nsaved >= IL_NAPI_MAX)
			return -ENOSPC;
		s = &saved[nsaved];
		s->old = *cur;
		s->what = what;
		*added = what;
		nsaved = nsaved + 1;
		return 0;
	}
	s = &saved[i];
	what &= ~s->what;
	*added = what;
	if (what & IL_SET_DEFER)
		s->old.defer_hard_irqs = cur->defer_hard_irqs;
	if (what & IL_SET_GRO)
		s->old.gro_flush_timeout = cur->gro_flush_timeout;
	if (what & IL_SET_SUSPEND)
		s->old.irq_suspend_timeout = cur->irq_suspend_timeout;
	if (what & IL_SET_THREADED)
		s->old.threaded = cur->threaded;
	s->what |= what;
	return 0;
}

/* The kernel refused the change: nothing to restore for those fields. */
void il_napi_unsave(uint32_t id, unsigned added)
{
	int i = find_saved(id);

	if (i < 0)
		return;
	saved[i].what &= ~added;
	if (saved[i].what)
		return;
	/* Drop the entry; the last one moves into its place, complete
	 * before the count shrinks. */
	if (i != nsaved - 1)
		saved[i] = saved[nsaved - 1];
	nsaved = nsaved - 1;
}

/* The restore socket exists before the first change, so a signal handler
 * never has to open one. */
int il_napi_save_prepare(uint16_t family)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	int rc = 0;

	pthread_mutex_lock(&lock);
	if (!restore_nl.sock) {
		rc = il_nl_open(&restore_nl);
		restore_nl.family = family;
		/* It may talk from a signal handler: no stdio dumps. */
		restore_nl.debug = false;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

/* Puts one saved entry back. Async-signal-safe: a prepared socket, a
 * static buffer, no stdio, no allocation. */
static int restore_one(const struct saved *s)
{
	struct il_nl_status st;
	struct nlmsghdr *nlh;

	nlh = il_nl_napi_set_req(restore_buf, restore_nl.family,
				 ++restore_nl.seq, s->old.id, s->what, &s->old);
	return il_nl_talk(&restore_nl, nlh, NULL, NULL, &st, restore_buf);
}

int il_napi_restore_all(void)
{
	sigset_t block, old;
	int first = 0;

	/* Idempotent, and a signal during an atexit restore waits until it
	 * is done instead of killing the process half way. */
	if (restoring || !nsaved || !restore_nl.sock)
		return 0;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	restoring = 1;
	/* Newest first, so a NAPI changed twice ends at its first value. */
	for (int i = nsaved - 1; i >= 0; i--) {
		int rc = restore_one(&saved[i]);

		/* A NAPI that vanished (link or GRO toggled) took its
		 * settings with it: nothing to restore there. */
		if (rc < 0 && rc != -ENOENT && !first)
			first = rc;
	}
	nsaved = 0;
	restoring = 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return first;
}

void il_napi_keep_all(void)
{
	nsaved = 0;
}

int il_napi_saved_count(void)
{
	return nsaved;
}

int il_napi_saved(int i, struct il_napi *old, unsigned *what)
{
	if (i < 0 || i >= nsaved)
		return -1;
	*old = saved[i].old;
	*what = saved[i].what;
	return 0;
}

static void restore_at_exit(void)
{
	il_napi_restore_all();
}

static void restore_on_signal(int sig, void *arg)
{
	(void)sig;
	(void)arg;
	il_napi_restore_all();
}

void il_napi_restore_on_exit(void)
{
	static int installed;

	if (installed++)
		return;
	atexit(restore_at_exit);
	il_signals_on_restore(restore_on_signal, NULL);
}
