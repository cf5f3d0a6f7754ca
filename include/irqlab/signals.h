/* One owner for SIGINT, SIGTERM and SIGHUP in every irqlab program.
 *
 * Programs and library parts register callbacks here instead of installing
 * handlers, so no handler silently replaces another:
 *
 *   il_signals_on_stop(SIGTERM, stop_loops, &group);   // kv: end main
 *   il_signals_on_restore(put_back, NULL);             // library: undo
 *
 * When one of the three arrives:
 *   - a signal with stop callbacks runs them and returns: the program
 *     leaves its main loop and exits normally (atexit restores);
 *   - a signal without (or the same signal a second time, when the stop
 *     did not end the program) runs every restore callback, newest first,
 *     once, and then the process dies of that signal, so its parent sees
 *     the real cause.
 *
 * Callbacks run inside the signal handler: async-signal-safe code only
 * (write, a flag, il_group_stop, a send on a prepared socket). The three
 * signals are blocked while any callback runs. A signal that was ignored
 * when the first restore callback was registered (nohup, a shell's
 * background job) stays ignored unless a program registers a stop for it.
 * A program that installs its own handler with sigaction() afterwards
 * replaces this one: don't. */
#ifndef IRQLAB_SIGNALS_H
#define IRQLAB_SIGNALS_H

typedef void (*il_signal_fn)(int sig, void *arg);

/* sig is SIGINT, SIGTERM or SIGHUP. 0, -EINVAL for another signal,
 * -ENOSPC past 8 callbacks per signal. */
int il_signals_on_stop(int sig, il_signal_fn fn, void *arg);

/* For all three signals. 0, or -ENOSPC past 16 callbacks. */
int il_signals_on_restore(il_signal_fn fn, void *arg);

#endif
