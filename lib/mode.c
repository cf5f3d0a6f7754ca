/* Mode presets, knob parsing and the per-mode epoll wait. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "irqlab/compat.h"
#include "irqlab/mode.h"
#include "irqlab/opt.h"

#define US 1000ULL
#define MS 1000000ULL

/* The test cases of the published comparisons (background.md). */
static const struct il_mode presets[] = {
	{ "base",     0,   0,         0,        0,    0,  0, IL_WAIT_BLOCK },
	{ "defer",    100, 20 * US,   0,        0,    0,  0, IL_WAIT_BLOCK },
	{ "napibusy", 100, 200 * US,  0,        64,   64, 1, IL_WAIT_BLOCK },
	{ "busywait", 100, 5 * MS,    0,        1000, 64, 1, IL_WAIT_SPIN },
	{ "suspend",  100, 20 * US,   20 * MS,  0,    64, 1, IL_WAIT_BLOCK },
};

int il_mode_preset(const char *name, struct il_mode *m)
{
	for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++) {
		if (strcmp(presets[i].name, name) == 0) {
			*m = presets[i];
			return 0;
		}
	}
	return -1;
}

enum knob_kind { K_COUNT, K_TIME };

struct knob {
	const char *name;
	enum knob_kind kind;
	uint64_t max;
};

/* defer_hard_irqs and the epoll knobs: the kernel rejects values beyond these
 * (napi-set: S32_MAX; EPIOCSPARAMS: S32_MAX, u16, 0/1). The NAPI timeouts are
 * 64-bit in 6.18; irqlab caps them at 2^32-1 ns (4.29 s), far above any
 * useful value, so every tool and kernel version agrees on one range. */
static const struct knob knobs[] = {
	{ "defer_hard_irqs", K_COUNT, INT32_MAX },
	{ "gro_flush_timeout", K_TIME, UINT32_MAX },
	{ "irq_suspend_timeout", K_TIME, UINT32_MAX },
	{ "busy_poll_usecs", K_TIME, INT32_MAX },	/* in us */
	{ "busy_poll_budget", K_COUNT, UINT16_MAX },
	{ "prefer_busy_poll", K_COUNT, 1 },
};

static void store_knob(struct il_mode *m, size_t i, uint64_t v)
{
	switch (i) {
	case 0: m->defer_hard_irqs = (uint32_t)v; break;
	case 1: m->gro_flush_timeout = v; break;
	case 2: m->irq_suspend_timeout = v; break;
	case 3: m->busy_poll_usecs = (uint32_t)v; break;
	case 4: m->busy_poll_budget = (uint16_t)v; break;
	case 5: m->prefer_busy_poll = (uint8_t)v; break;
	}
}

int il_mode_set(struct il_mode *m, const char *key, const char *val,
		char *err, size_t errlen)
{
	if (strcmp(key, "wait") == 0) {
		if (val && strcmp(val, "block") == 0)
			m->wait = IL_WAIT_BLOCK;
		else if (val && strcmp(val, "spin") == 0)
			m->wait = IL_WAIT_SPIN;
		else {
			snprintf(err, errlen, "wait: '%s' is not one of block, spin",
				 val ? val : "");
			return -1;
		}
		return 0;
	}
	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		const struct knob *k = &knobs[i];
		uint64_t v;
		long long sv;
		int rc;

		if (strcmp(key, k->name) != 0)
			continue;
		/* busy_poll_usecs is in us, the NAPI timeouts in ns; opt.h
		 * writes the message, with the knob's name and range. */
		if (i == 3)
			rc = il_opt_time(k->name, val, US, 0, k->max * US, &v, err, errlen) ? -1 : (v /= US, 0);
		else if (k->kind == K_TIME)
			rc = il_opt_time(k->name, val, 1, 0, k->max, &v, err, errlen);
		else
			rc = il_opt_int(k->name, val, 0, (long long)k->max, &sv, err, errlen) ? -1 : (v = (uint64_t)sv, 0);
		if (rc)
			return -1;
		store_knob(m, i, v);
		return 0;
	}
	snprintf(err, errlen,
		 "unknown knob '%s' (defer_hard_irqs, gro_flush_timeout, "
		 "irq_suspend_timeout, busy_poll_usecs, busy_poll_budget, "
		 "prefer_busy_poll, wait)", key);
	return -1;
}

int il_mode_parse(const char *spec, struct il_mode *m, char *err, size_t errlen)
{
	char buf[512], *save = NULL, *tok;

	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "mode: specification too long");
		return -1;
	}
	strcpy(buf, spec);
	tok = strtok_r(buf, ",", &save);
	if (!tok || il_mode_preset(tok, m)) {
		snprintf(err, errlen, "mode: '%s' is not one of " IL_MODE_NAMES,
			 tok ? tok : "");
		return -1;
	}
	while ((tok = strtok_r(NULL, ",", &save))) {
		char *eq = strchr(tok, '=');

		if (!eq) {
			snprintf(err, errlen, "mode: '%s' is not knob=value", tok);
			return -1;
		}
		*eq = '\0';
		if (il_mode_set(m, tok, eq + 1, err, errlen))
			return -1;
	}
	return il_mode_validate(m, err, errlen);
}

int il_mode_from_env(struct il_mode *m, char *err, size_t errlen)
{
	static const char *keys[] = {
		"defer_hard_irqs", "gro_flush_timeout", "irq_suspend_timeout",
		"busy_poll_usecs", "busy_poll_budget", "prefer_busy_poll", "wait",
	};
	const char *name = getenv("IRQLAB_MODE");

	if (il_mode_parse(name && *name ? name : "base", m, err, errlen))
		return -1;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char var[64];
		const char *val;

		snprintf(var, sizeof(var), "IRQLAB_%s", keys[i]);
		for (char *p = var; *p; p++)
			*p = (char)toupper((unsigned char)*p);
		val = getenv(var);
		if (val && il_mode_set(m, keys[i], val, err, errlen))
			return -1;
	}
	return il_mode_validate(m, err, errlen);
}

int il_mode_validate(const struct il_mode *m, char *err, size_t errlen)
{
	/* The kernel only suspends IRQs for epoll instances that prefer busy
	 * polling; a suspend timeout without it silently does nothing. */
	if (m->irq_suspend_timeout && !m->prefer_busy_poll) {
		snprintf(err, errlen,
			 "irq_suspend_timeout needs prefer_busy_poll=1");
		return -1;
	}
	if (m->wait == IL_WAIT_SPIN && !m->busy_poll_usecs) {
		snprintf(err, errlen,
			 "wait=spin needs busy_poll_usecs > 0, or epoll never polls");
		return -1;
	}
	return 0;
}

bool il_mode_has_napi_knobs(const struct il_mode *m)
{
	return m->defer_hard_irqs || m->gro_flush_timeout ||
	       m->irq_suspend_timeout;
}

bool il_mode_has_epoll_knobs(const struct il_mode *m)
{
	return m->busy_poll_usecs || m->busy_poll_budget || m->prefer_busy_poll;
}

int il_mode_apply_epoll(int epfd, const struct il_mode *m)
{
	struct epoll_params p = {
		.busy_poll_usecs = m->busy_poll_usecs,
		.busy_poll_budget = m->busy_poll_budget,
		.prefer_busy_poll = m->prefer_busy_poll,
	};

	if (!il_mode_has_epoll_knobs(m))
		return 0;
	return ioctl(epfd, EPIOCSPARAMS, &p) ? -errno : 0;
}

int il_mode_wait(int epfd, struct epoll_event *ev, int max, int timeout_ms,
		 const struct il_mode *m)
{
	/* epoll_wait(timeout=0) returns before ep_poll() reaches its busy-poll
	 * step (ep_events_available short-circuits with timed_out set), so a
	 * spin loop built on it never polls the NAPI and packets wait for the
	 * gro_flush_timeout timer instead. A 1 ns timeout is "not zero" to the
	 * kernel: ep_poll busy polls for up to busy_poll_usecs, then returns. */
	static const struct timespec one_ns = { 0, 1 };

	if (m->wait == IL_WAIT_SPIN)
		return epoll_pwait2(epfd, ev, max, &one_ns, NULL);
	return epoll_wait(epfd, ev, max, timeout_ms);
}

void il_mode_format(const struct il_mode *m, char *buf, size_t len)
{
	snprintf(buf, len,
		 "%s defer_hard_irqs=%" PRIu32 " gro_flush_timeout=%" PRIu64
		 "ns irq_suspend_timeout=%" PRIu64 "ns busy_poll=%" PRIu32
		 "us/%u/%u wait=%s",
		 m->name, m->defer_hard_irqs, m->gro_flush_timeout,
		 m->irq_suspend_timeout, m->busy_poll_usecs,
		 (unsigned)m->busy_poll_budget, (unsigned)m->prefer_busy_poll,
		 m->wait == IL_WAIT_SPIN ? "spin" : "block");
}
