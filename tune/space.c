/* The candidates: the default grid per mode preset (docs/tune.md lists it),
 * narrowed by --space, or a --candidates file; and the commands that apply
 * one candidate to a real server. */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irqlab/opt.h"
#include "tune.h"

#define NKNOB 6
static const char *const knob_names[NKNOB] = {
	"defer_hard_irqs", "gro_flush_timeout", "irq_suspend_timeout",
	"busy_poll_usecs", "busy_poll_budget", "prefer_busy_poll",
};

/* The default grid: the knobs each preset varies and their values. The
 * ranges come from the published tables (background.md): deferral counts
 * from a few to the presets' 100, GRO flush timeouts around the 20 us and
 * 200 us of the presets, suspend timeouts from 1 ms to the preset's 20 ms,
 * busy poll windows around napibusy's 64 us. */
static const struct {
	const char *preset;
	const char *knob[NKNOB];	/* value lists, NULL: the preset's value */
} grid[] = {
	{ "base", { NULL } },
	{ "defer", { "2,10,100", "10us,20us,50us,100us,200us" } },
	{ "napibusy", { "10,100", "20us,50us,100us,200us", NULL, "16,32,64,128" } },
	{ "busywait", { NULL, "200us,1ms,5ms", NULL, "64,1000", "16,64" } },
	{ "suspend", { "10,100", "10us,20us,50us,100us,200us", "1ms,5ms,20ms", NULL, "16,64" } },
};
#define NGRID (sizeof(grid) / sizeof(grid[0]))

static const char *const coal_default = "as-is,adaptive";

void tune_mode_spec(const struct il_mode *m, char *buf, size_t len)
{
	struct il_mode p;
	uint64_t v[NKNOB], pv[NKNOB];
	size_t off;

	il_mode_preset(m->name, &p);
	v[0] = m->defer_hard_irqs; pv[0] = p.defer_hard_irqs;
	v[1] = m->gro_flush_timeout; pv[1] = p.gro_flush_timeout;
	v[2] = m->irq_suspend_timeout; pv[2] = p.irq_suspend_timeout;
	v[3] = m->busy_poll_usecs; pv[3] = p.busy_poll_usecs;
	v[4] = m->busy_poll_budget; pv[4] = p.busy_poll_budget;
	v[5] = m->prefer_busy_poll; pv[5] = p.prefer_busy_poll;
	off = (size_t)snprintf(buf, len, "%s", m->name);
	for (int k = 0; k < NKNOB && off < len; k++) {
		char t[32];
		if (v[k] == pv[k])
			continue;
		if (k == 1 || k == 2)
			il_fmt_time_ns(v[k], t, sizeof(t));
		else
			snprintf(t, sizeof(t), "%" PRIu64, v[k]);
		off += (size_t)snprintf(buf + off, len - off, ",%s=%s", knob_names[k], t);
	}
	if (m->wait != p.wait && off < len)
		snprintf(buf + off, len - off, ",wait=%s", m->wait == IL_WAIT_SPIN ? "spin" : "block");
}

/* "as-is", "adaptive", "off", "static:8us/128" -> the candidate's NIC. */
static int parse_coal(const char *s, struct tune_cand *c, char *err, size_t len)
{
	c->rx_usecs = c->rx_frames = 0;
	if (!strcmp(s, "as-is")) {
		c->coal = TC_AS_IS;
		snprintf(c->nic, sizeof(c->nic), "as configured");
	} else if (!strcmp(s, "adaptive")) {
		c->coal = TC_ADAPTIVE;
		snprintf(c->nic, sizeof(c->nic), "adaptive");
	} else if (!strcmp(s, "off")) {
		c->coal = TC_OFF;
		snprintf(c->nic, sizeof(c->nic), "off");
	} else if (!strncmp(s, "static:", 7)) {
		char buf[40], *slash;
		uint64_t ns;
		long long fr = 0;
		snprintf(buf, sizeof(buf), "%s", s + 7);
		slash = strchr(buf, '/');
		if (slash)
			*slash = '\0';
		if (il_parse_time_ns(buf, 1000, &ns) || ns > 100000000ULL ||
		    (slash && il_opt_int("coalesce", slash + 1, 0, 65535, &fr, err, len))) {
			snprintf(err, len, "coalesce: '%s' is not static:USECS[/FRAMES] with "
				 "USECS 0..100ms, FRAMES 0..65535", s);
			return -1;
		}
		c->coal = TC_STATIC;
		c->rx_usecs = (uint32_t)(ns / 1000);
		c->rx_frames = (uint32_t)fr;
		snprintf(c->nic, sizeof(c->nic), "static %uus/%u", c->rx_usecs, c->rx_frames);
	} else {
		snprintf(err, len, "coalesce: '%s' is not one of as-is, adaptive, off, "
			 "static:USECS[/FRAMES]", s);
		return -1;
	}
	return 0;
}

static bool same(const struct tune_cand *a, const struct tune_cand *b)
{
	const struct il_mode *x = &a->mode, *y = &b->mode;
	return x->defer_hard_irqs == y->defer_hard_irqs &&
	       x->gro_flush_timeout == y->gro_flush_timeout &&
	       x->irq_suspend_timeout == y->irq_suspend_timeout &&
	       x->busy_poll_usecs == y->busy_poll_usecs &&
	       x->busy_poll_budget == y->busy_poll_budget &&
	       x->prefer_busy_poll == y->prefer_busy_poll && x->wait == y->wait &&
	       a->coal == b->coal && a->rx_usecs == b->rx_usecs && a->rx_frames == b->rx_frames;
}

int tune_space_add(struct tune_space *s, const char *spec, const char *nic,
		   char *err, size_t len)
{
	struct tune_cand c;

	memset(&c, 0, sizeof(c));
	if (il_mode_parse(spec, &c.mode, err, len) ||
	    parse_coal(nic ? nic : "as-is", &c, err, len))
		return -1;
	for (int i = 0; i < s->n; i++)
		if (same(&s->c[i], &c))
			return 0;
	if (s->n == s->cap) {
		int cap = s->cap ? 2 * s->cap : 256;
		struct tune_cand *n = realloc(s->c, (size_t)cap * sizeof(*n));
		if (!n) {
			snprintf(err, len, "out of memory");
			return -1;
		}
		s->c = n;
		s->cap = cap;
	}
	tune_mode_spec(&c.mode, c.spec, sizeof(c.spec));
	snprintf(c.label, sizeof(c.label), "c%03d", s->n);
	c.alive = 1;
	c.out_round = -1;
	s->c[s->n++] = c;
	return 1;
}

void tune_space_free(struct tune_space *s)
{
	free(s->c);
	memset(s, 0, sizeof(*s));
}

/* ---- the grid ----------------------------------------------------------- */

struct lists {
	char v[NKNOB][256];	/* value lists; "" = the preset's value */
	char coal[256];
};

static bool in_list(const char *list, const char *item)
{
	char buf[256], *save, *t;
	snprintf(buf, sizeof(buf), "%s", list);
	for (t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (!strcmp(t, item))
			return true;
	return false;
}

/* A value in ns (times) or its unit (counts), for range narrowing. */
static int knob_value(int k, const char *s, uint64_t *v)
{
	(void)k;
	return il_parse_time_ns(s, 1, v);
}

/* "LO..HI": keeps the values of list inside; "" when none. */
static void narrow_range(int k, char *list, size_t sz, const char *range)
{
	char lo_s[64], out[256] = "", buf[256], *save, *t;
	const char *dots = strstr(range, "..");
	uint64_t lo, hi, v;

	snprintf(lo_s, sizeof(lo_s), "%.*s", (int)(dots - range), range);
	if (knob_value(k, lo_s, &lo) || knob_value(k, dots + 2, &hi))
		return;
	snprintf(buf, sizeof(buf), "%s", list);
	for (t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (knob_value(k, t, &v) || v < lo || v > hi)
			continue;
		size_t l = strlen(out);
		snprintf(out + l, sizeof(out) - l, "%s%s", l ? "," : "", t);
	}
	snprintf(list, sz, "%s", out);
}

/* Cartesian product of the lists of one preset. */
static int product(struct tune_space *s, const char *preset, const struct lists *L,
		   int k, char *spec, size_t off, int *bad, char *err, size_t len)
{
	if (k == NKNOB) {
		char cbuf[256], *save, *t;
		snprintf(cbuf, sizeof(cbuf), "%s", L->coal);
		for (t = strtok_r(cbuf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			char e[256];
			int rc = tune_space_add(s, spec, t, e, sizeof(e));
			if (rc < 0 && strstr(e, "needs")) {
				(*bad)++;	/* a combination the kernel refuses */
				continue;
			}
			if (rc < 0) {
				snprintf(err, len, "--space: %s", e);
				return -1;
			}
		}
		return 0;
	}
	if (!L->v[k][0])
		return product(s, preset, L, k + 1, spec, off, bad, err, len);
	char buf[256], *save, *t;
	snprintf(buf, sizeof(buf), "%s", L->v[k]);
	for (t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int n = snprintf(spec + off, 512 - off, ",%s=%s", knob_names[k], t);
		if (product(s, preset, L, k + 1, spec, off + (size_t)n, bad, err, len))
			return -1;
	}
	spec[off] = '\0';
	return 0;
}

/* --space KNOB=...: the modes (into modes), the coalescing list (coal) and
 * the per-knob overrides (over[k]); both buffers are 256 bytes. */
static int parse_narrow(struct tune_space *s, const char *const *narrow, int nnarrow,
			bool nic_coalesce, char *modes, char *coal, const char **over,
			char *err, size_t len)
{
	for (int i = 0; i < nnarrow; i++) {
		const char *eq = strchr(narrow[i], '=');
		char key[40];
		if (!eq || !eq[1] || (size_t)(eq - narrow[i]) >= sizeof(key)) {
			snprintf(err, len, "--space: '%s' is not KNOB=V1,V2,... or KNOB=LO..HI "
				 "(KNOB: mode, coalesce, %s, ...)", narrow[i], knob_names[0]);
			return -1;
		}
		snprintf(key, sizeof(key), "%.*s", (int)(eq - narrow[i]), narrow[i]);
		if (!strcmp(key, "mode")) {
			snprintf(modes, 256, "%s", eq + 1);
			continue;
		}
		if (!strcmp(key, "coalesce")) {
			if (!nic_coalesce && strcmp(eq + 1, "as-is")) {
				snprintf(err, len, "--space: coalesce: %s", s->note[0] ? s->note :
					 "this device has no interrupt coalescing");
				return -1;
			}
			snprintf(coal, 256, "%s", eq + 1);
			continue;
		}
		int k;
		for (k = 0; k < NKNOB && strcmp(key, knob_names[k]); k++)
			;
		if (k == NKNOB) {
			snprintf(err, len, "--space: unknown knob '%s' (mode, coalesce, "
				 "defer_hard_irqs, gro_flush_timeout, irq_suspend_timeout, "
				 "busy_poll_usecs, busy_poll_budget, prefer_busy_poll)", key);
			return -1;
		}
		over[k] = eq + 1;
	}
	return 0;
}

/* Every name of --space mode=... is a mode preset. */
static int check_modes(const char *modes, char *err, size_t len)
{
	char buf[256], *save, *t;

	snprintf(buf, sizeof(buf), "%s", modes);
	for (t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		struct il_mode m;
		if (il_mode_preset(t, &m)) {
			snprintf(err, len, "--space: mode: '%s' is not one of %s", t,
				 IL_MODE_NAMES);
			return -1;
		}
	}
	return 0;
}

int tune_space_default(struct tune_space *s, const char *const *narrow, int nnarrow,
		       bool nic_coalesce, char *err, size_t len)
{
	char modes[256] = "", coal[256];
	const char *over[NKNOB] = { NULL };
	int bad = 0;

	snprintf(coal, sizeof(coal), "%s", nic_coalesce ? coal_default : "as-is");
	s->nic_coalesce = nic_coalesce;
	if (parse_narrow(s, narrow, nnarrow, nic_coalesce, modes, coal, over, err, len))
		return -1;
	for (size_t g = 0; g < NGRID; g++) {
		struct lists L;
		char spec[512];

		if (modes[0] && !in_list(modes, grid[g].preset))
			continue;
		memset(&L, 0, sizeof(L));
		snprintf(L.coal, sizeof(L.coal), "%s", coal);
		for (int k = 0; k < NKNOB; k++) {
			if (grid[g].knob[k])
				snprintf(L.v[k], sizeof(L.v[k]), "%s", grid[g].knob[k]);
			if (!over[k])
				continue;
			if (strstr(over[k], "..")) {
				/* a range narrows the default list; a preset that does
				 * not vary the knob keeps its own value */
				if (L.v[k][0]) {
					narrow_range(k, L.v[k], sizeof(L.v[k]), over[k]);
					if (!L.v[k][0])
						goto skip;	/* nothing of it left */
				}
			} else {
				snprintf(L.v[k], sizeof(L.v[k]), "%s", over[k]);
			}
		}
		snprintf(spec, sizeof(spec), "%s", grid[g].preset);
		if (product(s, grid[g].preset, &L, 0, spec, strlen(spec), &bad, err, len))
			return -1;
skip:;
	}
	if (modes[0] && check_modes(modes, err, len))
		return -1;
	if (!s->n) {
		snprintf(err, len, "--space: no candidate left (%d combinations the kernel "
			 "refuses)", bad);
		return -1;
	}
	return 0;
}

int tune_space_file(struct tune_space *s, const char *path, char *err, size_t len)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int ln = 0;

	if (!f) {
		snprintf(err, len, "--candidates: cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *nic = NULL, e[256];
		ln++;
		p[strcspn(p, "#\r\n")] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		char *sp = strpbrk(p, " \t");
		if (sp) {
			*sp++ = '\0';
			while (*sp == ' ' || *sp == '\t')
				sp++;
			if (*sp) {
				if (strncmp(sp, "nic=", 4)) {
					fclose(f);
					snprintf(err, len, "--candidates: %s:%d: '%s' is not nic=...",
						 path, ln, sp);
					return -1;
				}
				nic = sp + 4;
				nic[strcspn(nic, " \t")] = '\0';
			}
		}
		if (!*p)
			continue;
		if (tune_space_add(s, p, nic, e, sizeof(e)) < 0) {
			fclose(f);
			snprintf(err, len, "--candidates: %s:%d: %s", path, ln, e);
			return -1;
		}
	}
	fclose(f);
	if (!s->n) {
		snprintf(err, len, "--candidates: %s has no mode spec", path);
		return -1;
	}
	return 0;
}

/* ---- applying one ------------------------------------------------------- */

void tune_apply_commands(FILE *f, const struct tune_cand *c, const char *dev,
			 const char *in)
{
	const struct il_mode *m = &c->mode;
	struct il_mode p;
	char t1[32], t2[32];

	il_mode_preset(m->name, &p);
	il_fmt_time_ns(m->gro_flush_timeout, t1, sizeof(t1));
	il_fmt_time_ns(m->irq_suspend_timeout, t2, sizeof(t2));
	fprintf(f, "%s# the NAPI side (restored on Ctrl-C with --hold):\n", in);
	fprintf(f, "%ssudo irqlab napi set --dev %s --defer-hard-irqs %u --gro-flush-timeout %s "
		"--irq-suspend-timeout %s --hold\n", in, dev, m->defer_hard_irqs, t1, t2);
	fprintf(f, "%s# irqlab-kv applies both sides itself:\n", in);
	fprintf(f, "%ssudo irqlab-kv --mode '%s' --dev %s ...\n", in, c->spec, dev);
	fprintf(f, "%s# an unmodified epoll server (memcached) through the preload shim:\n", in);
	fprintf(f, "%ssudo IRQLAB_MODE=%s", in, m->name);
	if (m->defer_hard_irqs != p.defer_hard_irqs)
		fprintf(f, " IRQLAB_DEFER_HARD_IRQS=%u", m->defer_hard_irqs);
	if (m->gro_flush_timeout != p.gro_flush_timeout)
		fprintf(f, " IRQLAB_GRO_FLUSH_TIMEOUT=%s", t1);
	if (m->irq_suspend_timeout != p.irq_suspend_timeout)
		fprintf(f, " IRQLAB_IRQ_SUSPEND_TIMEOUT=%s", t2);
	if (m->busy_poll_usecs != p.busy_poll_usecs)
		fprintf(f, " IRQLAB_BUSY_POLL_USECS=%u", m->busy_poll_usecs);
	if (m->busy_poll_budget != p.busy_poll_budget)
		fprintf(f, " IRQLAB_BUSY_POLL_BUDGET=%u", (unsigned)m->busy_poll_budget);
	if (m->prefer_busy_poll != p.prefer_busy_poll)
		fprintf(f, " IRQLAB_PREFER_BUSY_POLL=%u", (unsigned)m->prefer_busy_poll);
	if (m->wait != p.wait)
		fprintf(f, " IRQLAB_WAIT=%s", m->wait == IL_WAIT_SPIN ? "spin" : "block");
	fprintf(f, " IRQLAB_DEV=%s LD_PRELOAD=/path/to/libirqlab-preload.so memcached ...\n", dev);
	switch (c->coal) {
	case TC_AS_IS:
		break;
	case TC_ADAPTIVE:
		fprintf(f, "%ssudo irqlab nic set --dev %s --coalesce adaptive --hold\n", in, dev);
		break;
	case TC_OFF:
		fprintf(f, "%ssudo irqlab nic set --dev %s --coalesce off --hold\n", in, dev);
		break;
	case TC_STATIC:
		fprintf(f, "%ssudo irqlab nic set --dev %s --adaptive-rx off --rx-usecs %u "
			"--rx-frames %u --hold\n", in, dev, c->rx_usecs, c->rx_frames);
		break;
	}
}
