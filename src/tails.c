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

#include "hvo_inject.h"
#include "hvo_kernel.h"
#include "hvo_remap.h"
#include "hvo_state.h"
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

/**
 * hvo_uniform_tail - the shared tail page for @order in @zone, if every
 * struct page in it is the same
 * @order:	folio order, VMEMMAP_TAIL_MIN_ORDER..MAX_FOLIO_ORDER
 * @zone:	the folio's zone
 *
 * Then a restore can fill a fresh vmemmap page from one struct page
 * instead of copying the whole page. True of every tail page the kernel
 * or hvo_shared builds, but checked rather than assumed, once per page:
 * a page in a slot never changes and is never freed.
 *
 * Return: the page, or NULL if there is none yet or it is not uniform.
 */
struct page *hvo_uniform_tail(unsigned int order, struct zone *zone)
{
	const unsigned int idx = order - VMEMMAP_TAIL_MIN_ORDER;
	struct hvo_zone_stats *zs = hvo_zone_stats(zone, order);
	const struct page *p;
	struct page *tail;
	int i;

	/* hvo_fill_tails() holds one struct page in eight registers. */
	if (sizeof(struct page) != 8 * sizeof(u64))
		return NULL;
	tail = READ_ONCE(zone->vmemmap_tails[idx]);
	if (!tail || READ_ONCE(zs->uniform_tail) == tail)
		return tail;
	p = page_to_virt(tail);
	for (i = 1; i < PAGE_SIZE / sizeof(struct page); i++)
		if (memcmp(p + i, p, sizeof(*p)))
			return NULL;
	WRITE_ONCE(zs->uniform_tail, tail);
	return tail;
}
