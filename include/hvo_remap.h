/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The vmemmap remapper (remap.c), the shared tail pages (tails.c) and
 * memory hot-remove kept away from splits (hotremove.c): what the engine
 * builds an optimize or a restore from.
 */
#ifndef _HVO_REMAP_H
#define _HVO_REMAP_H

#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/mmzone.h>

#include "hvo_state.h"

struct hvo_remap {
	struct page *tail;		/* the shared tail page */
	struct page *head;		/* optimize: new head page, or NULL */
	unsigned long head_addr;	/* vmemmap address of the head page */
	struct list_head *pages;	/* pages unmapped, or pages to map */
	unsigned long copied;		/* restore: pages that mapped another */
	bool filled;			/* restore: pages filled from @tail */
};

/* Why every TLB is flushed, for the tlb_flush tracepoint. */
enum hvo_flush_reason {
	HVO_FLUSH_SPLIT,
	HVO_FLUSH_OPTIMIZE,
	HVO_FLUSH_RESTORE,
};

void hvo_flush_tlb_all(enum hvo_flush_reason reason);
int hvo_vmemmap_pte(unsigned long addr, pte_t *pte);
int hvo_remap_split(unsigned long start, unsigned long end, int nid,
		    struct hvo_zone_stats *zs);
void hvo_remap_begin(void);
void hvo_remap_end(void);
void hvo_remap_to_tail(unsigned long start, unsigned long end,
		       struct hvo_remap *r);
void hvo_remap_to_pages(unsigned long start, unsigned long end,
			struct hvo_remap *r);

/* Memory hot-remove against splits of free folios (hotremove.c). */
int hvo_hotremove_init(void);
void hvo_hotremove_exit(void);
void hvo_hotremove_hold(void);
void hvo_hotremove_release(void);
bool hvo_zone_isolating(struct zone *zone);

struct page *hvo_shared_tail(unsigned int order, struct zone *zone,
			     bool *created);
struct page *hvo_uniform_tail(unsigned int order, struct zone *zone);

#endif /* _HVO_REMAP_H */
