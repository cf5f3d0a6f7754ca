/* The restore guard: every system setting an irqlab program changes goes
 * back when the program ends, however it ends (exit, error, any signal,
 * SIGKILL, SIGSTOP then SIGKILL).
 *
 * The guard is a small process forked (twice, so it is no child of the
 * program) the first time something is recorded. It holds one end of a
 * socket pair; the program, and with IL_GUARD_INHERIT everything it forks
 * and execs, holds the other. Each change is recorded BEFORE it is applied:
 * the old value travels over the socket. When the program's end closes
 * (the last holder is gone, whatever killed it), the guard puts every
 * record back, newest first, and exits. It runs in its own session,
 * ignores SIGINT/SIGTERM/SIGHUP/SIGQUIT (a Ctrl-C to the process group must
 * not take it along), keeps the privileges the program had when it started
 * (a server that drops root later is still restored), and prints what goes
 * wrong on the program's stderr as "irqlab-guard: ...".
 *
 *   il_guard_file("/proc/irq/42/smp_affinity", err, sizeof(err));
 *   write the new mask ...                     // restored at the end
 *   il_guard_write_file("/sys/class/net/veth0/threaded", "1", err, len);
 *   const char *del[] = { "ip", "netns", "del", "ils123", NULL };
 *   il_guard_run(del, err, sizeof(err));       // before "ip netns add"
 *
 * NAPI settings are recorded by il_napi_set/il_napi_apply_mode themselves
 * (irqlab/napi.h); a NAPI record is put back only while the NAPI still has
 * the values that were set: a NAPI someone changed afterwards (a user's
 * `irqlab napi set`, the next server) keeps their values, with a message,
 * and a NAPI that is gone (link or GRO toggled) is skipped.
 *
 * A normal exit waits (at most 5 s) until the guard has restored, so the
 * next command of a script sees the old values. SIGINT/SIGTERM/SIGHUP
 * restore before the process dies of them (irqlab/signals.h) unless the
 * program registered a stop for the signal; after SIGKILL the guard
 * restores within milliseconds, asynchronously.
 *
 * Records apply in the network namespace and mount namespace the program
 * had when the guard started. All functions return 0 (or a count) or
 * -errno with a sentence in err (err may be NULL). */
#ifndef IRQLAB_GUARD_H
#define IRQLAB_GUARD_H

#include <stddef.h>

struct il_napi;

/* Record kinds, also a mask for il_guard_restore/il_guard_keep. */
enum {
	IL_GUARD_NAPI = 1,	/* netdev napi-set values */
	IL_GUARD_FILE = 2,	/* a file's old content (sysfs, procfs) */
	IL_GUARD_RUN = 4,	/* a command to run at the end */
	IL_GUARD_ALL = 7,
};

/* il_guard_start flags. */
enum {
	/* The program's end of the socket survives exec and is inherited
	 * by children: the restore waits until the last of them is gone
	 * (the preload shim: a wrapper that execs the server). Without it
	 * the socket is close-on-exec. Also: no signal handlers are
	 * installed (the shim lives in someone else's program). */
	IL_GUARD_INHERIT = 1,
	/* The guard says on stderr how many settings it restored. */
	IL_GUARD_VERBOSE = 2,
};

/* Starts the guard now (the record functions start it with flags 0 when
 * none runs). Idempotent in one process. */
int il_guard_start(unsigned flags, char *err, size_t len);

/* Records a NAPI's old values (old->id; the fields in what, IL_SET_* of
 * napi.h) and the values about to be set. */
int il_guard_napi(const struct il_napi *old, unsigned what,
		  const struct il_napi *set, char *err, size_t len);

/* Records path's current content (up to 4096 bytes), written back at the
 * end in one write (what sysfs and procfs files need). */
int il_guard_file(const char *path, char *err, size_t len);

/* il_guard_file, then writes content to path. */
int il_guard_write_file(const char *path, const char *content,
			char *err, size_t len);

/* Records a command (argv, NULL-terminated, at most 32 words and 4096
 * bytes; argv[0] looked up in PATH) that the guard runs at the end, with
 * stdin and stdout on /dev/null, killed after 10 s. Record it before the
 * change it undoes ("ip netns del X" before "ip netns add X"); a command
 * that fails is reported on stderr. */
int il_guard_run(const char *const argv[], char *err, size_t len);

/* Restores the records of the kinds in mask now, newest first, and forgets
 * them; the guard stays for later records. Returns how many settings were
 * put back, or the first -errno (err says which). Async-signal-safe with
 * err NULL. A forked child shares its parent's guard: its records, restore
 * and keep go there too (but only the process that started the guard
 * restores at exit or on a signal). */
int il_guard_restore(unsigned kinds, char *err, size_t len);

/* Forgets the records of these kinds: those settings stay after exit
 * (`irqlab napi set` without --hold). */
int il_guard_keep(unsigned kinds);

/* The program's end of the socket (-1 when no guard runs), and the
 * guard's pid (0 when none). */
int il_guard_fd(void);
int il_guard_pid(void);

#endif
