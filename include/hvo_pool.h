/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Walking the pools (pool.c): one cursor over an hstate's free lists and
 * its list of folios in use, a batch of folios per hold of hugetlb_lock,
 * for the pool actions above.
 */
#ifndef _HVO_POOL_H
#define _HVO_POOL_H

#include <linux/atomic.h>
#include <linux/hugetlb.h>

#include "hvo_engine.h"

/*
 * Folios looked at per hold of hugetlb_lock by a walk of the pools: it
 * bounds the time with interrupts off by a batch, not by the pool.
 */
#define HVO_LOOK_BATCH	32

long hvo_pool_walk_free(bool (*want)(struct hstate *h, struct folio *folio),
			    int (*work)(struct hstate *h, int nid,
					struct folio *folio, struct zone *zone,
					struct hvo_batch *b));
long hvo_pool_count_free(bool (*count)(struct folio *folio));

/*
 * What a walk of the folios in use does: @pick says, under hugetlb_lock,
 * whether to take a folio (and counts why not, if that is worth a count);
 * @work runs on each taken folio, locked and referenced, and lets go of
 * both (hvo_adopt_folio(), hvo_restore_in_use()), with the walk's batch,
 * which the walk ends when it is over; @busy counts a picked
 * folio that could not be taken: its refcount was 0 (being freed), or its
 * lock held.
 */
struct hvo_in_use_walk {
	bool (*pick)(struct hstate *h, struct folio *folio);
	void (*work)(struct hstate *h, struct folio *folio, struct hvo_batch *b);
	atomic_long_t *busy;
};

void hvo_pool_walk_in_use(const struct hvo_in_use_walk *w);
void hvo_pool_walk_ours(const struct hvo_in_use_walk *w);

#endif /* _HVO_POOL_H */
