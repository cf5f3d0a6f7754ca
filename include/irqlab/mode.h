/* Interrupt-handling modes: the five presets of the published comparisons and
 * their knobs, how to apply them to an epoll fd, and how to wait in each.
 *
 * Units are the kernel's: gro_flush_timeout and irq_suspend_timeout in ns,
 * busy_poll_usecs in µs. The NAPI-side knobs (defer, gro flush, suspend) are
 * applied per NAPI through netlink (napi.h); the epoll-side knobs here. */
#ifndef IRQLAB_MODE_H
#define IRQLAB_MODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>

enum il_wait {
	IL_WAIT_BLOCK,	/* epoll_wait blocks (kernel may busy poll inside) */
	IL_WAIT_SPIN,	/* application spins on a 1 ns epoll_pwait2 */
};

struct il_mode {
	char name[16];			/* preset it started from */
	uint32_t defer_hard_irqs;	/* NAPI: empty polls before IRQ re-arm */
	uint64_t gro_flush_timeout;	/* NAPI: ns */
	uint64_t irq_suspend_timeout;	/* NAPI: ns, 0 = off (Linux 6.13+) */
	uint32_t busy_poll_usecs;	/* epoll: µs */
	uint16_t busy_poll_budget;	/* epoll: packets per poll */
	uint8_t prefer_busy_poll;	/* epoll: 0 or 1 */
	enum il_wait wait;
};

#define IL_MODE_NAMES "base, defer, napibusy, busywait, suspend"

/* Fills *m with a preset; returns -1 for an unknown name. */
int il_mode_preset(const char *name, struct il_mode *m);

/* Sets one knob by name ("defer_hard_irqs", "gro_flush_timeout", ..., "wait").
 * Times accept ns/us/ms/s suffixes; bare numbers are the knob's unit.
 * On error returns -1 and writes a one-line message naming the knob and its
 * allowed range into err. */
int il_mode_set(struct il_mode *m, const char *key, const char *val,
		char *err, size_t errlen);

/* Parses "preset[,knob=value...]", e.g. "suspend,irq_suspend_timeout=5ms". */
int il_mode_parse(const char *spec, struct il_mode *m, char *err, size_t errlen);

/* Builds a mode from IRQLAB_MODE plus IRQLAB_<KNOB> variables (upper case);
 * IRQLAB_MODE unset means base. Used by the preload shim. */
int il_mode_from_env(struct il_mode *m, char *err, size_t errlen);

/* Checks cross-knob constraints (each knob's range is checked when set). */
int il_mode_validate(const struct il_mode *m, char *err, size_t errlen);

/* True if the mode changes any NAPI setting (needs netlink + a device). */
bool il_mode_has_napi_knobs(const struct il_mode *m);
/* True if the mode sets any epoll busy-poll parameter. */
bool il_mode_has_epoll_knobs(const struct il_mode *m);

/* Applies the epoll knobs with EPIOCSPARAMS. Returns 0, or -errno
 * (-ENOTTY: kernel older than 6.9; -EPERM: budget > 64 without CAP_NET_ADMIN). */
int il_mode_apply_epoll(int epfd, const struct il_mode *m);

/* Waits for events the way the mode does. Blocking modes: epoll_wait with
 * timeout_ms. Spinning modes: one epoll_pwait2 with a 1 ns timeout (may
 * return 0); the caller loops. Returns as epoll_wait does. */
int il_mode_wait(int epfd, struct epoll_event *ev, int max, int timeout_ms,
		 const struct il_mode *m);

/* "suspend defer=100 gro=20000ns suspend=20000000ns busy=0us/64/1 wait=block" */
void il_mode_format(const struct il_mode *m, char *buf, size_t len);

#endif
