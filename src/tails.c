// SPDX-License-Identifier: GPL-2.0
/*
 * Shared tail pages: one page of tail struct pages per (zone, order),
 * mapped read-only by every optimized folio of that order in that zone.
 *
 * They live in the kernel's own zone->vmemmap_tails[] slots, so a folio
 * optimized by hvo_shared maps the same page as one optimized by the
 * kernel's HVO, and either can restore the other's folios. A page put in a
 * slot is never freed, by hvo_shared or by the kernel: after rmmod,
 * folios still map it.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/poison.h>

#include "hvo_shared.h"
#include "trace.h"

/* As init_compound_tail() in mm/internal.h, which modules cannot include. */
static void hvo_init_tail(struct page *tail, unsigned int order,
			  struct zone *zone)
{
	atomic_set(&tail->_mapcount, -1);
	set_page_node(tail, zone_to_nid(zone));
	set_page_zone(tail, zone_idx(zone));
	tail->mapping = TAIL_MAPPING;
	set_compound_head(tail, NULL, order);
}

/**
 * hvo_shared_tail - the shared tail page for @order in @zone
 * @order:	folio order, VMEMMAP_TAIL_MIN_ORDER..MAX_FOLIO_ORDER
 * @zone:	the folio's zone
 * @created:	set to true if this call allocated and installed it
 *
 * Allocates it on first use. Racing callers agree through cmpxchg() on the
 * kernel's slot; the loser frees its page.
 *
 * Return: the page, or NULL if it had to be allocated and could not be.
 */
struct page *hvo_shared_tail(unsigned int order, struct zone *zone,
			     bool *created)
{
	const unsigned int idx = order - VMEMMAP_TAIL_MIN_ORDER;
	struct page *tail, *p;
	int i;

	*created = false;
	tail = READ_ONCE(zone->vmemmap_tails[idx]);
	if (likely(tail))
		return tail;

	if (hvo_inject_fail(HVO_INJECT_SHARED_TAIL))
		return NULL;
	tail = alloc_pages_node(zone_to_nid(zone), GFP_KERNEL | __GFP_ZERO, 0);
	if (!tail)
		return NULL;

	p = page_to_virt(tail);
	for (i = 0; i < PAGE_SIZE / sizeof(struct page); i++)
		hvo_init_tail(p + i, order, zone);

	if (cmpxchg(&zone->vmemmap_tails[idx], NULL, tail)) {
		__free_page(tail);
		return READ_ONCE(zone->vmemmap_tails[idx]);
	}
	*created = true;
	trace_tail_alloc(zone_to_nid(zone), zone_idx(zone), order);
	return tail;
}
