/* memcached's "stats detail": per key-prefix counts of gets, hits, sets and
 * deletes (text get/gets/gat/gats, set/add/replace/append/prepend/cas and
 * delete, as memcached 1.6.18 counts them; meta commands do not count). The
 * prefix is the key up to its first ':'; keys without one are not counted.
 * Recorded while "stats detail on"; "stats detail dump" lists them in
 * memcached's order; "stats reset" clears them. */
#ifndef KV_PREFIX_H
#define KV_PREFIX_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* At most this many prefixes are kept (memcached keeps any number): new
 * prefixes past it are not counted, so the table stays within ~3 MB. */
#define KV_PREFIX_MAX 10000

extern int kv_detail_on;	/* atomic; set by "stats detail on|off" */

static inline bool kv_detail(void)
{
	return __atomic_load_n(&kv_detail_on, __ATOMIC_RELAXED);
}

void kv_prefix_get(const char *key, size_t nkey, bool hit);
void kv_prefix_set(const char *key, size_t nkey);
void kv_prefix_delete(const char *key, size_t nkey);
void kv_prefix_dump(struct buf *o);	/* "PREFIX ..." lines and "END" */
void kv_prefix_clear(void);

#endif
