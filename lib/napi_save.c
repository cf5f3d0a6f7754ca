/* The old values of every NAPI setting this process changed: the guard
 * (guard.c) holds them and puts them back, whatever ends the process; this
 * file keeps a copy per NAPI for the programs to show (il_napi_saved), and
 * is the guard's NAPI side: napi-get and napi-set on the guard's socket. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irqlab/compat.h"
#include "guard_int.h"
#include "napi_int.h"

/* One entry per NAPI id, with the first old value of each field. */
struct saved {
	struct il_napi old;
	unsigned what;
};
static struct saved saved[IL_NAPI_MAX];
static int nsaved;

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
	/* Drop the entry; the last one moves into its place. */
	if (i != nsaved - 1)
		saved[i] = saved[nsaved - 1];
	nsaved = nsaved - 1;
}

int il_napi_restore_all(void)
{
	int rc = il_guard_restore(IL_GUARD_NAPI, NULL, 0);

	nsaved = 0;
	return rc < 0 ? rc : 0;
}

void il_napi_keep_all(void)
{
	il_guard_keep(IL_GUARD_NAPI);
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

/* --- the guard's side ---------------------------------------------------- */

static int get_msg(const struct nlmsghdr *nlh, void *arg)
{
	return il_nl_parse_napi(nlh, arg);
}

/* napi-get (set NULL) or napi-set on the guard's own socket. */
static int talk(struct il_nl *nl, uint32_t id, unsigned what,
		const struct il_napi *set, struct il_napi *got,
		struct il_nl_status *st)
{
	static char buf[IL_NL_BUF];	/* the guard is single-threaded */
	struct il_nl_family fi;
	int rc;

	st->ext[0] = '\0';
	if (!nl->family &&
	    (rc = il_nl_family_lookup(nl, IL_NETDEV_FAMILY_NAME, &fi, st, buf)))
		return rc;
	if (set)
		return il_nl_talk(nl, il_nl_napi_set_req(buf, nl->family, ++nl->seq,
							 id, what, set),
				  NULL, NULL, st, buf);
	got->id = 0;
	rc = il_nl_talk(nl, il_nl_napi_get_req(buf, nl->family, ++nl->seq, id),
			get_msg, got, st, buf);
	return rc == 0 && got->id != id ? -EBADMSG : rc;
}

/* Whether n has v's values in the fields of what. */
static int same(const struct il_napi *n, const struct il_napi *v, unsigned what)
{
	return (!(what & IL_SET_DEFER) || n->defer_hard_irqs == v->defer_hard_irqs) &&
	       (!(what & IL_SET_GRO) || n->gro_flush_timeout == v->gro_flush_timeout) &&
	       (!(what & IL_SET_SUSPEND) ||
		n->irq_suspend_timeout == v->irq_suspend_timeout) &&
	       (!(what & IL_SET_THREADED) || n->threaded == v->threaded);
}

/* Puts a NAPI's old values back while it still has what was set. Someone
 * who changed it since (a user, the next server) wins: restoring stale
 * values over theirs would be worse. */
int il_napi_guard_apply(const struct il_guard_rec *r, struct il_nl *nl,
			char *msg, size_t len)
{
	uint32_t id = r->old.id;
	struct il_nl_status st;
	struct il_napi now;
	int rc = talk(nl, id, 0, NULL, &now, &st);

	if (rc == -ENOENT)	/* gone (link, GRO toggled): nothing to do */
		return 0;
	if (rc == 0 && same(&now, &r->old, r->what))
		return 0;	/* never applied (refused), or already back */
	if (rc == 0 && !same(&now, &r->set, r->what)) {
		snprintf(msg, len, "NAPI %u was changed by someone else; left "
			 "as is", id);
		return 0;
	}
	if (rc == 0)
		rc = talk(nl, id, r->what, &r->old, NULL, &st);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0) {
		char why[256];

		il_nl_strerror(rc, IL_OP_NAPI_SET, id, r->what, &r->old, st.ext,
			       why, sizeof(why));
		snprintf(msg, len, "restoring NAPI %u: %s", id, why);
		return rc;
	}
	return 1;
}
