/* "stats" replies: memcached's usual fields plus irqlab's steering, loop
 * and mode counters. */
#ifndef KV_STATS_H
#define KV_STATS_H

#include "buf.h"

void stats_general(struct buf *o);
void stats_settings(struct buf *o);
void stats_irqlab(struct buf *o);
void stats_slabs(struct buf *o);
void stats_items(struct buf *o);
void stats_reset(void);

#endif
