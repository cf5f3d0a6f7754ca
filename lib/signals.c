/* The one SIGINT/SIGTERM/SIGHUP handler (irqlab/signals.h). Callbacks are
 * written completely before their count grows, so the handler never sees
 * half an entry. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "irqlab/signals.h"

#define NSIGS 3
#define MAX_STOP 8
#define MAX_RESTORE 16

static const int sigs[NSIGS] = { SIGINT, SIGTERM, SIGHUP };

struct cb {
	il_signal_fn fn;
	void *arg;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct cb stops[NSIGS][MAX_STOP];
static volatile sig_atomic_t nstops[NSIGS], stopping[NSIGS];
static struct cb restores[MAX_RESTORE];
static volatile sig_atomic_t nrestores, restored;
static int installed[NSIGS];

static int sig_index(int sig)
{
	for (int i = 0; i < NSIGS; i++)
		if (sigs[i] == sig)
			return i;
	return -1;
}

static void handler(int sig)
{
	int i = sig_index(sig), e = errno;

	if (i >= 0 && nstops[i] && !stopping[i]) {
		stopping[i] = 1;
		for (int k = 0; k < nstops[i]; k++)
			stops[i][k].fn(sig, stops[i][k].arg);
		errno = e;
		return;
	}
	if (!restored) {
		restored = 1;
		for (int k = nrestores - 1; k >= 0; k--)
			restores[k].fn(sig, restores[k].arg);
	}
	/* Die of the same signal: it is blocked in here, so the raise is
	 * delivered, with the default action, when the handler returns. */
	signal(sig, SIG_DFL);
	raise(sig);
	errno = e;
}

/* Installs the handler for sigs[i] (once). force: even over SIG_IGN. */
static void install(int i, int force)
{
	struct sigaction sa, old;

	if (installed[i])
		return;
	if (!force && sigaction(sigs[i], NULL, &old) == 0 &&
	    old.sa_handler == SIG_IGN)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;	/* no SA_RESTART: waits end with EINTR */
	sigemptyset(&sa.sa_mask);
	for (int k = 0; k < NSIGS; k++)
		sigaddset(&sa.sa_mask, sigs[k]);
	if (sigaction(sigs[i], &sa, NULL) == 0)
		installed[i] = 1;
}

int il_signals_on_stop(int sig, il_signal_fn fn, void *arg)
{
	int i = sig_index(sig), rc = 0;

	if (i < 0 || !fn)
		return -EINVAL;
	pthread_mutex_lock(&lock);
	if (nstops[i] >= MAX_STOP) {
		rc = -ENOSPC;
	} else {
		stops[i][nstops[i]] = (struct cb){ fn, arg };
		nstops[i] = nstops[i] + 1;
		install(i, 1);
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

int il_signals_on_restore(il_signal_fn fn, void *arg)
{
	int rc = 0;

	if (!fn)
		return -EINVAL;
	pthread_mutex_lock(&lock);
	if (nrestores >= MAX_RESTORE) {
		rc = -ENOSPC;
	} else {
		restores[nrestores] = (struct cb){ fn, arg };
		nrestores = nrestores + 1;
		for (int i = 0; i < NSIGS; i++)
			install(i, 0);
	}
	pthread_mutex_unlock(&lock);
	return rc;
}
