/* Mode presets and knob validation. */
#include <errno.h>
#include <unistd.h>

#include "irqlab/mode.h"
#include "tap.h"

static void presets(void)
{
	struct il_mode m;

	ok(il_mode_preset("base", &m) == 0 && !il_mode_has_napi_knobs(&m) &&
	   !il_mode_has_epoll_knobs(&m), "base changes nothing");
	ok(il_mode_preset("defer", &m) == 0 && m.defer_hard_irqs == 100 &&
	   m.gro_flush_timeout == 20000 && !il_mode_has_epoll_knobs(&m),
	   "defer: 100 / 20us, no epoll knobs");
	ok(il_mode_preset("napibusy", &m) == 0 && m.gro_flush_timeout == 200000 &&
	   m.busy_poll_usecs == 64 && m.busy_poll_budget == 64 &&
	   m.prefer_busy_poll == 1 && m.wait == IL_WAIT_BLOCK,
	   "napibusy: 200us, 64/64/1, blocking");
	ok(il_mode_preset("busywait", &m) == 0 && m.gro_flush_timeout == 5000000 &&
	   m.busy_poll_usecs == 1000 && m.wait == IL_WAIT_SPIN,
	   "busywait: 5ms, 1000us, spinning");
	ok(il_mode_preset("suspend", &m) == 0 && m.irq_suspend_timeout == 20000000 &&
	   m.busy_poll_usecs == 0 && m.busy_poll_budget == 64 &&
	   m.prefer_busy_poll == 1, "suspend: 20ms, 0/64/1");
	ok(il_mode_preset("turbo", &m) == -1, "unknown preset refused");
}

static void knobs(void)
{
	struct il_mode m;
	char err[256];

	ok(il_mode_parse("suspend,irq_suspend_timeout=5ms,defer_hard_irqs=7",
			 &m, err, sizeof(err)) == 0 &&
	   m.irq_suspend_timeout == 5000000 && m.defer_hard_irqs == 7,
	   "overrides with units");
	ok(il_mode_parse("base,busy_poll_usecs=50", &m, err, sizeof(err)) == 0 &&
	   m.busy_poll_usecs == 50, "busy_poll_usecs bare number is us");
	ok(il_mode_parse("base,busy_poll_usecs=2ms", &m, err, sizeof(err)) == 0 &&
	   m.busy_poll_usecs == 2000, "busy_poll_usecs accepts ms");
	ok(il_mode_parse("base,prefer_busy_poll=2", &m, err, sizeof(err)) == -1 &&
	   strstr(err, "prefer_busy_poll") && strstr(err, "0-1"),
	   "out of range names knob and range: %s", err);
	ok(il_mode_parse("base,busy_poll_budget=70000", &m, err, sizeof(err)) == -1 &&
	   strstr(err, "0-65535"), "budget range");
	ok(il_mode_parse("base,defer_hard_irqs=-1", &m, err, sizeof(err)) == -1,
	   "negative refused");
	ok(il_mode_parse("base,gro_flush_timeout=10parsecs", &m, err, sizeof(err)) == -1,
	   "bad unit refused");
	ok(il_mode_parse("base,frobnicate=1", &m, err, sizeof(err)) == -1 &&
	   strstr(err, "frobnicate"), "unknown knob named");
	ok(il_mode_parse("nosuch", &m, err, sizeof(err)) == -1 &&
	   strstr(err, "base, defer"), "unknown mode lists the modes");
	ok(il_mode_parse("base,irq_suspend_timeout=1ms", &m, err, sizeof(err)) == -1 &&
	   strstr(err, "prefer_busy_poll"), "suspend without prefer refused");
	ok(il_mode_parse("base,wait=spin", &m, err, sizeof(err)) == -1,
	   "spin without busy_poll_usecs refused");
	ok(il_mode_parse("base,wait=sometimes", &m, err, sizeof(err)) == -1,
	   "wait must be block or spin");
}

static void env(void)
{
	struct il_mode m;
	char err[256];

	setenv("IRQLAB_MODE", "napibusy", 1);
	setenv("IRQLAB_BUSY_POLL_USECS", "10", 1);
	ok(il_mode_from_env(&m, err, sizeof(err)) == 0 && m.busy_poll_usecs == 10 &&
	   m.defer_hard_irqs == 100, "environment overrides a preset");
	setenv("IRQLAB_BUSY_POLL_BUDGET", "x", 1);
	ok(il_mode_from_env(&m, err, sizeof(err)) == -1 &&
	   strstr(err, "busy_poll_budget"), "bad environment value named");
	unsetenv("IRQLAB_BUSY_POLL_BUDGET");
	unsetenv("IRQLAB_BUSY_POLL_USECS");
	unsetenv("IRQLAB_MODE");
	ok(il_mode_from_env(&m, err, sizeof(err)) == 0 && strcmp(m.name, "base") == 0,
	   "no environment means base");
}

static void epoll_apply(void)
{
	struct il_mode m;
	struct epoll_event ev;
	int epfd = epoll_create1(0), rc;

	il_mode_preset("napibusy", &m);
	rc = il_mode_apply_epoll(epfd, &m);
	if (rc == -ENOTTY)
		tap_skip("EPIOCSPARAMS needs Linux 6.9");
	else
		ok(rc == 0, "EPIOCSPARAMS accepted (rc %d)", rc);
	il_mode_preset("busywait", &m);
	il_mode_apply_epoll(epfd, &m);
	ok(il_mode_wait(epfd, &ev, 1, -1, &m) == 0,
	   "spinning wait returns with no events instead of blocking");
	close(epfd);
}

int main(void)
{
	presets();
	knobs();
	env();
	epoll_apply();
	return tap_done();
}
