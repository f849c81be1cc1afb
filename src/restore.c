// SPDX-License-Identifier: GPL-2.0
/*
 * Restore: hvo_shared's versions of the kernel's two restore entry
 * points, called in their place through hooks.c with the same arguments
 * and the same contracts (mm/hugetlb_vmemmap.c); a free folio where it
 * lies; a folio in use (restore-all). Folios optimized by hvo_shared and
 * by the kernel's HVO alike.
 */
#include <linux/hugetlb.h>
#include <linux/mm.h>

#include "engine.h"
#include "hvo_engine.h"
#include "hvo_fill.h"
#include "hvo_inject.h"
#include "hvo_remap.h"
#include "trace.h"

/* Free pages allocated for a restore that did not use them. */
static void hvo_free_new_pages(struct list_head *list)
{
	struct page *page, *next;

	list_for_each_entry_safe(page, next, list, lru) {
		list_del(&page->lru);
		atomic_long_dec(hvo_sym.nr_memmap_pages);
		__free_page(page);
	}
}

/*
 * Allocate the pages that restoring a folio of @h maps (all of its
 * vmemmap after page 0) on @zone's node, onto @r->pages, and fill each with what
 * the shared tail @r->tail of its (@zone, order) holds. A whole order-9 block is taken for 512
 * of them where one is free now: 7 allocations instead of 3584 for a 1 GiB
 * folio. Only a block that is free now: no reclaim, no compaction, no
 * kswapd (__GFP_NORETRY would still compact once); pages can always stand
 * in for one. Blocks are split at once, as vmemmap_split_pmd() splits a
 * vmemmap block: each page is freed on its own when the folio is optimized
 * again. Counted as memmap pages, as vmemmap_remap_alloc() does.
 *
 * Return: 0, or -ENOMEM with nothing allocated.
 */
static int hvo_restore_prepare(const struct hstate *h, struct zone *zone,
			       struct hvo_remap *r, unsigned long *blocks)
{
	const gfp_t block_gfp = __GFP_NOWARN | __GFP_NOMEMALLOC;
	/* Failure is expected under pressure and handled: no warning. */
	const gfp_t gfp = GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_NOWARN;
	const unsigned int block_order = PMD_SHIFT - PAGE_SHIFT;
	unsigned long nr = hvo_vmemmap_size(h) / PAGE_SIZE - 1;
	unsigned long done = 0, got, i, j;
	struct page *batch[32], *page;
	const u64 *uniform = NULL;
	int nid = zone_to_nid(zone);

	*blocks = 0;
	if (hvo_inject_fail(HVO_INJECT_RESTORE_PAGES))
		return -ENOMEM;
	for (i = nr >> block_order; i > 0; i--) {
		if (hvo_inject_fail(HVO_INJECT_RESTORE_BLOCK))
			continue;
		page = alloc_pages_node(nid, block_gfp, block_order);
		if (!page)
			break;
		split_page(page, block_order);
		for (j = 0; j < BIT(block_order); j++)
			list_add(&page[j].lru, r->pages);
		atomic_long_add(BIT(block_order), hvo_sym.nr_memmap_pages);
		done += BIT(block_order);
		++*blocks;
	}
	while (done < nr) {
		memset(batch, 0, sizeof(batch));
		got = alloc_pages_bulk_node(gfp, nid, min(nr - done, ARRAY_SIZE(batch)),
					    batch);
		if (!got) {
			batch[0] = alloc_pages_node(nid, gfp, 0);
			if (!batch[0]) {
				hvo_free_new_pages(r->pages);
				return -ENOMEM;
			}
			got = 1;
		}
		for (i = 0; i < got; i++)
			list_add(&batch[i]->lru, r->pages);
		atomic_long_add(got, hvo_sym.nr_memmap_pages);
		done += got;
	}

	if (!r->tail)
		return 0;
	/* A page of equal struct pages is filled from one, with stores only. */
	if (!hvo_inject_fail(HVO_INJECT_RESTORE_FILL) &&
	    hvo_uniform_tail(h->order, zone) == r->tail)
		uniform = page_to_virt(r->tail);
	list_for_each_entry(page, r->pages, lru) {
		if (uniform)
			hvo_fill_tails(page_to_virt(page), uniform);
		else
			copy_page(page_to_virt(page), page_to_virt(r->tail));
	}
	r->filled = !!uniform;
	return 0;
}

/* As hvo_restore_prepare(), counting a failure as a restore that failed. */
static int hvo_restore_alloc(const struct hstate *h, struct zone *zone,
			     struct hvo_remap *r, unsigned long *blocks)
{
	int ret = hvo_restore_prepare(h, zone, r, blocks);

	if (ret) {
		atomic_long_inc(&hvo_totals.restore_total);
		atomic_long_inc(&hvo_totals.restore_failed);
	}
	return ret;
}

/*
 * A restored folio's bookkeeping: the totals count it, with the @blocks
 * its pages came in; its list entry goes, and the counters of its (zone,
 * order) drop, if hvo_shared optimized it. A head copy stays: it is the
 * folio's vmemmap page 0 now.
 */
static void hvo_restore_account(const struct hstate *h, unsigned long pfn,
				struct zone *zone, struct hvo_remap *r,
				unsigned long blocks)
{
	unsigned long nr = hvo_vmemmap_size(h) / PAGE_SIZE - 1;
	struct hvo_zone_stats *zs;
	bool head_copied;

	atomic_long_inc(&hvo_totals.restore_total);
	atomic_long_add(blocks, &hvo_totals.restore_blocks);
	if (r->filled)
		atomic_long_add(nr - r->copied, &hvo_totals.restore_pages_filled);
	if (!hvo_record_del(pfn, &head_copied))
		return;
	zs = hvo_zone_stats(zone, h->order);
	atomic_long_dec(&zs->folios);
	atomic_long_sub(nr + head_copied, &zs->pages_freed);
	atomic_long_sub(head_copied, &zs->pages_allocated);
}

/* The shared tail an optimized folio of @h in @zone maps, or NULL. */
static struct page *hvo_tail_of(const struct hstate *h, struct zone *zone)
{
	return READ_ONCE(zone->vmemmap_tails[h->order - VMEMMAP_TAIL_MIN_ORDER]);
}

/*
 * Restore one folio's vmemmap that the caller has to itself (leaving
 * hugetlb, through a hook; @b is NULL) or one in use that pool.c took:
 * referenced and locked, with the walk's batch @b. The caller flushes the
 * TLB for a folio leaving hugetlb, as hugetlb_vmemmap_restore_folios()
 * does. A folio in use keeps its flag until the batch's flush: no CPU that
 * still maps a shared tail read-only may be allowed to write it.
 */
static int hvo_restore_one(const struct hstate *h, struct folio *folio,
			   struct hvo_batch *b)
{
	unsigned long start = (unsigned long)&folio->page + PAGE_SIZE;
	unsigned long end = (unsigned long)&folio->page + hvo_vmemmap_size(h);
	struct zone *zone = folio_zone(folio);
	unsigned long blocks;
	struct hvo_remap r;
	LIST_HEAD(pages);
	int ret;

	VM_WARN_ON_ONCE_FOLIO(!folio_test_hugetlb(folio), folio);
	VM_WARN_ON_ONCE_FOLIO(!b && folio_ref_count(folio), folio);

	if (b && !hvo_restoring_room(b))
		return HVO_SKIP_BUSY;
	r = (struct hvo_remap){ .pages = &pages, .tail = hvo_tail_of(h, zone) };
	ret = hvo_restore_alloc(h, zone, &r, &blocks);
	if (ret)
		return ret;
	hvo_remap_begin();
	hvo_remap_to_pages(start, end, &r);
	hvo_remap_end();
	if (b) {
		spin_lock_irq(hvo_sym.hugetlb_lock);
		hvo_restoring_add(folio);
		spin_unlock_irq(hvo_sym.hugetlb_lock);
	} else {
		folio_clear_hugetlb_vmemmap_optimized(folio);
	}
	hvo_restore_account(h, folio_pfn(folio), zone, &r, blocks);
	if (b)
		hvo_batch_add(b, h);
	return 0;
}

static int hvo_restore_traced(const struct hstate *h, struct folio *folio,
			      struct hvo_batch *b)
{
	bool tracing = trace_folio_restore_enabled();
	u64 t0 = tracing ? ktime_get_ns() : 0;
	int ret = hvo_restore_one(h, folio, b);

	if (tracing)
		trace_folio_restore(folio_pfn(folio), h->order, folio_nid(folio),
				    folio_zonenum(folio), ret, ktime_get_ns() - t0);
	return ret;
}

/**
 * hvo_restore_folio - replaces hugetlb_vmemmap_restore_folio()
 * @h:		the folio's hstate
 * @folio:	a hugetlb folio with a zero refcount, about to leave hugetlb
 *
 * Works on folios optimized by hvo_shared and by the kernel's HVO alike.
 * A folio a walk restored whose batch has not flushed yet is whole
 * already: it is taken from the batch, and flushed and cleared here, as
 * __hugetlb_vmemmap_restore_folio() does after its remap.
 *
 * Return: 0 if @folio's vmemmap is whole (again), -ENOMEM if the pages
 * for it could not be allocated; then nothing changed.
 */
int hvo_restore_folio(const struct hstate *h, struct folio *folio)
{
	int ret = 0;

	/* As the kernel's: a whole vmemmap needs nothing, in any context. */
	if (!folio_test_hugetlb_vmemmap_optimized(folio))
		return 0;
	hvo_enter();
	if (hvo_restoring_take(folio)) {
		hvo_flush_tlb_all(HVO_FLUSH_RESTORE);
		folio_clear_hugetlb_vmemmap_optimized(folio);
	} else if (folio_test_hugetlb_vmemmap_optimized(folio)) {
		ret = hvo_restore_traced(h, folio, NULL);
		if (!ret)
			hvo_flush_tlb_all(HVO_FLUSH_RESTORE);
	}
	hvo_exit();
	return ret;
}

/**
 * hvo_restore_folios - replaces hugetlb_vmemmap_restore_folios()
 * @h:			the folios' hstate
 * @folio_list:		folios to restore
 * @non_hvo_folios:	output: folios whose vmemmap is whole
 *
 * Stops at the first error; that folio and the ones after it stay on
 * @folio_list, but for those a walk restored, which are finished here
 * and whole: taken from the set, as hvo_restore_folio() does. One TLB
 * flush for the list, as the kernel's does: these folios are the
 * caller's, so their flags are cleared before it, as
 * hugetlb_vmemmap_restore_folios() clears them.
 *
 * Return: the number of folios restored, or the error.
 */
long hvo_restore_folios(const struct hstate *h, struct list_head *folio_list,
			struct list_head *non_hvo_folios)
{
	struct folio *folio, *next;
	long restored = 0;
	int ret = 0;

	hvo_enter();
	list_for_each_entry_safe(folio, next, folio_list, lru) {
		if (folio_test_hugetlb_vmemmap_optimized(folio) &&
		    hvo_restoring_take(folio)) {
			folio_clear_hugetlb_vmemmap_optimized(folio);
			restored++;
		} else if (ret) {
			/* After an error only the walk's folios are finished. */
			continue;
		} else if (folio_test_hugetlb_vmemmap_optimized(folio)) {
			ret = hvo_restore_traced(h, folio, NULL);
			if (ret)
				continue;
			restored++;
		}
		list_move(&folio->lru, non_hvo_folios);
	}
	if (restored)
		hvo_flush_tlb_all(HVO_FLUSH_RESTORE);
	hvo_exit();
	return ret ? ret : restored;
}

/**
 * hvo_restore_free - restore a free folio where it lies, on its free list
 * @h:		its hstate
 * @nid:	its node
 * @folio:	picked by pool.c under hugetlb_lock, and left last on its list
 * @zone:	its zone, read then
 * @b:		the walk's batch, which clears the flag after its TLB flush
 *
 * As hvo_optimize_free(), the folio stays free and available all along.
 * The pages are allocated and filled first; under hugetlb_lock the folio
 * is checked to be still there and optimized, and its PTEs are pointed
 * at them. Then, as vmemmap_remap_alloc() and
 * __hugetlb_vmemmap_restore_folio() do, every TLB is flushed before the
 * flag is cleared: a CPU that still maps a shared tail read-only must not
 * be told the tails are writable. That flush is the batch's
 * (hvo_batch_flush()). The kernel may take the folio meanwhile; its
 * restore then finishes it (hvo_restore_folio()).
 *
 * Return: 0, HVO_SKIP_BUSY if it is gone, HVO_SKIP_OPTIMIZED if it is
 * whole already, or -ENOMEM with the folio unchanged.
 */
int hvo_restore_free(struct hstate *h, int nid, struct folio *folio,
		     struct zone *zone, struct hvo_batch *b)
{
	bool tracing = trace_folio_restore_enabled();
	u64 t0 = tracing ? ktime_get_ns() : 0;
	unsigned long pfn = folio_pfn(folio);
	unsigned long start = (unsigned long)&folio->page + PAGE_SIZE;
	unsigned long end = (unsigned long)&folio->page + hvo_vmemmap_size(h);
	struct hvo_remap r = { .tail = hvo_tail_of(h, zone) };
	unsigned long blocks;
	LIST_HEAD(pages);
	int ret;

	hvo_enter();
	if (!hvo_restoring_room(b)) {
		ret = HVO_SKIP_BUSY;
		goto out;
	}
	r.pages = &pages;
	ret = hvo_restore_alloc(h, zone, &r, &blocks);
	if (ret)
		goto out;
	hvo_remap_begin();
	spin_lock_irq(hvo_sym.hugetlb_lock);
	if (!hvo_still_free(h, nid, folio))
		ret = HVO_SKIP_BUSY;
	else if (!folio_test_hugetlb_vmemmap_optimized(folio) ||
		 hvo_is_restoring(folio))
		ret = HVO_SKIP_OPTIMIZED;
	else
		hvo_remap_to_pages(start, end, &r);
	if (!ret)
		hvo_restoring_add(folio);
	spin_unlock_irq(hvo_sym.hugetlb_lock);
	hvo_remap_end();
	if (ret) {
		hvo_free_new_pages(&pages);
		goto out;
	}

	hvo_restore_account(h, pfn, zone, &r, blocks);
	hvo_batch_add(b, h);
out:
	if (tracing && ret <= 0)
		trace_folio_restore(pfn, h->order, zone_to_nid(zone), zone_idx(zone),
				    ret, ktime_get_ns() - t0);
	hvo_exit();
	return ret;
}

/**
 * hvo_restore_in_use - give a folio that may be in use its vmemmap back
 * @h:		the folio's hstate
 * @folio:	a folio pool.c took with hvo_take_in_use(): locked and
 *		referenced, both let go of here; optimized by hvo_shared, an
 *		earlier load of it or the kernel's HVO
 * @b:		the walk's batch, which clears the flag after its TLB flush
 *
 * A folio of @b itself is whole already. If the walk's reference is the
 * last (the owner let go meanwhile), the batch ends before it is dropped:
 * the folio is freed at once, and its restore then finds it finished.
 *
 * Return: 0 if restored, HVO_SKIP_BUSY if its owner let go of it,
 * HVO_SKIP_OPTIMIZED if it was whole already (restored meanwhile), or
 * -ENOMEM with the folio unchanged.
 */
int hvo_restore_in_use(struct hstate *h, struct folio *folio,
		       struct hvo_batch *b)
{
	int ret = HVO_SKIP_OPTIMIZED;
	bool put;

	hvo_enter();
	if (hvo_orphan(folio))
		ret = HVO_SKIP_BUSY;
	else if (folio_test_hugetlb_vmemmap_optimized(folio) &&
		 !hvo_is_restoring(folio))
		ret = hvo_restore_traced(h, folio, b);
	put = hvo_unlock_unref(folio);
	hvo_exit();
	if (put) {
		hvo_batch_flush(b);
		folio_put(folio);
	}
	return ret;
}
