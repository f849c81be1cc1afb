/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What hvo_shared knows and counts (state.c): the module's state, the live
 * state of every (node, zone, order), and the totals. The layers above
 * write them (the engine, the remapper, the tails, the pool actions; the
 * state: main.c and control.c); the stats and verify files read them. No
 * debugfs here.
 */
#ifndef _HVO_STATE_H
#define _HVO_STATE_H

#include <linux/atomic.h>
#include <linux/mmzone.h>

#include "hvo_kernel.h"

enum hvo_state {
	HVO_STATE_LOADING,
	HVO_STATE_ACTIVE,
	HVO_STATE_UNLOADING,
};

extern enum hvo_state hvo_state;

/* Live state of one (node, zone, order). */
struct hvo_zone_stats {
	atomic_long_t folios;		/* folios optimized by hvo_shared */
	atomic_long_t pages_freed;	/* their vmemmap pages given back */
	atomic_long_t pages_allocated;	/* head copies and split PTE tables */
	atomic_long_t tail_pages;	/* shared tails hvo_shared allocated */
	struct page *uniform_tail;	/* the tail page, once seen uniform */
};

/* Per-(node, zone, order) arrays: their length, and where one sits. */
static inline size_t hvo_nr_zone_slots(void)
{
	return nr_node_ids * MAX_NR_ZONES * HVO_NR_ORDERS;
}

static inline size_t hvo_zone_slot(int nid, int zid, unsigned int order)
{
	return (nid * MAX_NR_ZONES + zid) * HVO_NR_ORDERS + order - HVO_MIN_ORDER;
}

struct hvo_zone_stats *hvo_zone_stats(struct zone *zone, unsigned int order);
struct hvo_zone_stats *hvo_zs(int nid, int zid, unsigned int order);

struct hvo_totals {
	atomic_long_t optimize_total;
	atomic_long_t optimize_failed;
	atomic_long_t restore_total;
	atomic_long_t restore_failed;
	atomic_long_t optimize_retried;	/* bulk retries after -ENOMEM */
	atomic_long_t skipped_self_hosted; /* vmemmap inside its own block */
	atomic_long_t restore_blocks;	/* order-9 blocks restores mapped */
	atomic_long_t restore_pages_filled; /* vmemmap pages filled, not copied */
};

extern struct hvo_totals hvo_totals;

/* Why a folio was not optimized (or restored) when asked: 0 if it was. */
enum hvo_adopt_skip {
	HVO_ADOPTED,
	HVO_SKIP_ISOLATED,	/* not migratable: isolated, or not mapped yet */
	HVO_SKIP_BUSY,		/* being freed, or locked */
	HVO_SKIP_HWPOISON,
	HVO_SKIP_TEMPORARY,	/* a migration's temporary folio */
	HVO_SKIP_DIRTY_TAILS,	/* a tail differs from the shared one */
	HVO_SKIP_HEAD_COPY,	/* head_copy=1: page 0 of a folio in use must stay */
	HVO_SKIP_SELF_HOSTED,
	HVO_SKIP_OPTIMIZED,	/* optimized meanwhile, unwanted; restore: whole already */
	HVO_SKIP_NR
};

const char *hvo_skip_name(enum hvo_adopt_skip why);

/* What adopt and restore-all did, over every run. */
struct hvo_adopt_totals {
	atomic_long_t adopted;
	atomic_long_t failed;
	atomic_long_t skipped[HVO_SKIP_NR];
	atomic_long_t restored;
	atomic_long_t restore_failed;
	atomic_long_t restore_busy;
	atomic_long_t restore_inherited;
};

extern struct hvo_adopt_totals hvo_adopt_totals;

int hvo_state_init(void);
void hvo_state_exit(void);

#endif /* _HVO_STATE_H */
