// SPDX-License-Identifier: GPL-2.0
/*
 * Optimize: hvo_shared's versions of the kernel's two optimize entry
 * points, called in their place through hooks.c with the same arguments
 * and the same contracts (mm/hugetlb_vmemmap.c); a free folio where it
 * lies; a folio in use (adopt).
 */
#include <linux/hugetlb.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>

#include "engine.h"
#include "hvo_engine.h"
#include "hvo_inject.h"
#include "hvo_remap.h"
#include "trace.h"

static bool hvo_head_copy;
module_param_named(head_copy, hvo_head_copy, bool, 0644);
MODULE_PARM_DESC(head_copy, "replace the head vmemmap page by a copy, as the kernel does (default: keep it)");

/*
 * Whether every tail struct page of @folio, after vmemmap page 0, holds
 * what the struct pages in the shared @page hold, in each field anyone
 * reads on a tail: nothing folio-specific (a raw hwpoison flag that
 * memory-failure moved there, say) would be lost by sharing.
 */
static bool hvo_tails_pristine(struct folio *folio, struct page *page)
{
	const long per_page = PAGE_SIZE / sizeof(struct page);
	const unsigned long flag_bits = BIT(NR_PAGEFLAGS) - 1;
	const struct page *tail = page_to_virt(page);
	long i, nr = folio_nr_pages(folio);

	for (i = per_page; i < nr; i++) {
		struct page *p = folio_page(folio, i);

		if (p->compound_info != tail->compound_info ||
		    (p->flags.f & flag_bits) ||
		    page_to_nid(p) != page_to_nid(tail) ||
		    page_zonenum(p) != page_zonenum(tail) ||
		    p->mapping != tail->mapping || p->private ||
		    page_ref_count(p) || atomic_read(&p->_mapcount) != -1)
			return false;
	}
	return true;
}

/*
 * hvo_adopt_claim - set a folio in use as optimized, if it still may be
 * @folio:	locked, referenced by the caller
 * @tail:	the shared tail page its tails will map
 *
 * The flag is set under hugetlb_lock after the last check, and before any
 * tail goes read-only: the one writer of tails of a folio in use, the
 * hwpoison filter's undo (folio_clear_hugetlb_hwpoison()), tests it under
 * the folio lock, which the caller holds. Then every tail is compared
 * with the shared one; on a difference the flag is cleared again, with
 * nothing remapped yet.
 *
 * Return: 0, or why not (a positive enum hvo_adopt_skip).
 */
static int hvo_adopt_claim(struct folio *folio, struct page *tail)
{
	enum hvo_adopt_skip why;

	spin_lock_irq(hvo_sym.hugetlb_lock);
	why = hvo_in_use_state(folio);
	if (why == HVO_ADOPTED)
		folio_set_hugetlb_vmemmap_optimized(folio);
	spin_unlock_irq(hvo_sym.hugetlb_lock);
	if (why != HVO_ADOPTED)
		return why;

	if (hvo_tails_pristine(folio, tail))
		return 0;
	spin_lock_irq(hvo_sym.hugetlb_lock);
	folio_clear_hugetlb_vmemmap_optimized(folio);
	spin_unlock_irq(hvo_sym.hugetlb_lock);
	return HVO_SKIP_DIRTY_TAILS;
}

/* As vmemmap_remap_free(): every TLB flushed, then the unmapped pages freed. */
static void hvo_flush_and_free_vmemmap_pages(struct list_head *list)
{
	if (list_empty(list))
		return;
	hvo_flush_tlb_all(HVO_FLUSH_OPTIMIZE);
	hvo_free_vmemmap_pages(list);
}

/* Every vmemmap page after the first must begin with a tail struct page. */
static bool hvo_vmemmap_is_tails(unsigned long start, unsigned long end)
{
	for (start += PAGE_SIZE; start < end; start += PAGE_SIZE)
		if (!PageTail((struct page *)start))
			return false;
	return true;
}

/* One folio being optimized: what hvo_optimize_prepare() got for it. */
struct hvo_optimize {
	struct folio *folio;
	unsigned long start, end;	/* its vmemmap */
	struct hvo_zone_stats *zs;
	struct hvo_remap r;
};

/*
 * Everything optimizing a folio needs that may sleep or fail, done before
 * the folio is touched, and from its address alone: a free folio may be
 * taken by the kernel meanwhile. The PMDs over its vmemmap are split (a
 * self-hosted vmemmap is refused first), the shared tail of its (zone,
 * order) is there, and so are its list entry and, with @head_copy, the
 * page for a copy of its head. Undone by hvo_optimize_abort().
 */
static int hvo_optimize_prepare(struct hvo_optimize *o, const struct hstate *h,
				struct folio *folio, struct zone *zone,
				bool head_copy, struct list_head *freed)
{
	int nid = zone_to_nid(zone);
	bool created;
	int ret;

	o->folio = folio;
	o->start = (unsigned long)&folio->page;
	o->end = o->start + hvo_vmemmap_size(h);
	o->zs = hvo_zone_stats(zone, h->order);
	o->r = (struct hvo_remap){ .pages = freed, .head_addr = o->start };

	ret = hvo_remap_split(o->start, o->end, nid, o->zs);
	if (ret)
		return ret;
	o->r.tail = hvo_shared_tail(h->order, zone, &created);
	if (!o->r.tail)
		return -ENOMEM;
	if (created)
		atomic_long_inc(&o->zs->tail_pages);

	/* The entry records whether the head was replaced, for restore. */
	if (hvo_inject_fail(HVO_INJECT_XARRAY))
		return -ENOMEM;
	ret = hvo_record_add(folio, head_copy);
	if (ret)
		return ret;
	if (head_copy) {
		o->r.head = hvo_inject_fail(HVO_INJECT_HEAD_COPY) ? NULL :
			    alloc_pages_node(nid, GFP_KERNEL, 0);
		if (!o->r.head) {
			hvo_record_del(folio_pfn(folio), NULL);
			return -ENOMEM;
		}
	}
	return 0;
}

static void hvo_optimize_abort(struct hvo_optimize *o)
{
	if (o->r.head)
		__free_page(o->r.head);
	hvo_record_del(folio_pfn(o->folio), NULL);
}

/*
 * Remap the folio's tails to the shared one and set its flag, under
 * hvo_remap_begin(), with the folio to itself or under hugetlb_lock. The
 * pages unmapped go to @o->r.pages, to be freed after a TLB flush.
 */
static void hvo_optimize_commit(struct hvo_optimize *o)
{
	unsigned long start = o->start;

	if (o->r.head) {
		atomic_long_inc(hvo_sym.nr_memmap_pages);
		atomic_long_inc(&o->zs->pages_allocated);
		/*
		 * Set the flag before the copy so that both heads agree, as
		 * mm/hugetlb_vmemmap.c does: until the TLB flush, other CPUs
		 * may still see the old head.
		 */
		folio_set_hugetlb_vmemmap_optimized(o->folio);
		copy_page(page_to_virt(o->r.head), (void *)start);
	} else {
		start += PAGE_SIZE;
	}
	hvo_remap_to_tail(start, o->end, &o->r);
	folio_set_hugetlb_vmemmap_optimized(o->folio);

	atomic_long_inc(&o->zs->folios);
	atomic_long_add((o->end - start) >> PAGE_SHIFT, &o->zs->pages_freed);
}

/*
 * Optimize one folio that the caller has to itself (a fresh one, through
 * a hook) or, with @in_use, one in use that pool.c took: referenced and
 * locked. The pages it unmaps go to @freed, to be freed by the
 * caller after a TLB flush. On error, or when the claim on a folio in use
 * refuses it (a positive reason), the folio is left as it was. A folio in
 * use keeps its head page: lock-free writers of its refcount and pin
 * count could be lost on a copy.
 */
static int hvo_optimize_one(const struct hstate *h, struct folio *folio,
			    struct list_head *freed, bool in_use)
{
	const bool head_copy = !in_use && READ_ONCE(hvo_head_copy);
	struct hvo_optimize o;
	int ret;

	VM_WARN_ON_ONCE_FOLIO(!folio_test_hugetlb(folio), folio);

	if (!hvo_vmemmap_is_tails((unsigned long)&folio->page,
				  (unsigned long)&folio->page + hvo_vmemmap_size(h)))
		return -EINVAL;
	ret = hvo_optimize_prepare(&o, h, folio, folio_zone(folio), head_copy,
				   freed);
	if (ret)
		return ret;
	/* Sets the flag, under the folio lock, before any tail goes read-only. */
	if (in_use) {
		ret = hvo_adopt_claim(folio, o.r.tail);
		if (ret) {
			hvo_optimize_abort(&o);
			return ret;
		}
	}
	hvo_remap_begin();
	hvo_optimize_commit(&o);
	hvo_remap_end();
	return 0;
}

/* Count an optimization, and trace it with its duration. */
static void hvo_optimize_account(unsigned long pfn, unsigned int order,
				 struct zone *zone, int ret, u64 t0)
{
	/* A refusal is a decision, not a failure: counted apart. */
	if (ret == -EOPNOTSUPP) {
		atomic_long_inc(&hvo_totals.skipped_self_hosted);
		return;
	}
	atomic_long_inc(&hvo_totals.optimize_total);
	if (ret)
		atomic_long_inc(&hvo_totals.optimize_failed);
	if (t0)
		trace_folio_optimize(pfn, order, zone_to_nid(zone), zone_idx(zone),
				     ret, ktime_get_ns() - t0);
}

static int hvo_optimize_traced(const struct hstate *h, struct folio *folio,
			       struct list_head *freed)
{
	u64 t0 = trace_folio_optimize_enabled() ? ktime_get_ns() : 0;
	int ret = hvo_optimize_one(h, folio, freed, false);

	hvo_optimize_account(folio_pfn(folio), h->order, folio_zone(folio), ret, t0);
	return ret;
}

/**
 * hvo_optimize_folio - replaces hugetlb_vmemmap_optimize_folio()
 * @h:		the folio's hstate
 * @folio:	a fresh hugetlb folio with a zero refcount
 *
 * Best effort, like the original: the caller tests the folio's
 * vmemmap-optimized flag to learn whether it happened.
 */
void hvo_optimize_folio(const struct hstate *h, struct folio *folio)
{
	LIST_HEAD(freed);

	hvo_enter();
	if (hvo_should_optimize(h, folio)) {
		hvo_optimize_traced(h, folio, &freed);
		hvo_flush_and_free_vmemmap_pages(&freed);
	}
	hvo_exit();
}

/**
 * hvo_optimize_folios - replaces hugetlb_vmemmap_optimize_folios()
 * @h:		the folios' hstate
 * @folio_list:	fresh folios, linked through folio->lru
 *
 * One TLB flush for the whole list, before the unmapped pages are freed.
 */
void hvo_optimize_folios(struct hstate *h, struct list_head *folio_list)
{
	struct folio *folio;
	LIST_HEAD(freed);
	int ret;

	hvo_enter();
	list_for_each_entry(folio, folio_list, lru) {
		if (!hvo_should_optimize(h, folio))
			continue;
		ret = hvo_optimize_traced(h, folio, &freed);
		/*
		 * Out of memory for a page table or a head copy: what was
		 * unmapped so far is the memory to retry with.
		 */
		if (ret == -ENOMEM && !list_empty(&freed)) {
			hvo_flush_and_free_vmemmap_pages(&freed);
			atomic_long_inc(&hvo_totals.optimize_retried);
			hvo_optimize_traced(h, folio, &freed);
		}
	}
	hvo_flush_and_free_vmemmap_pages(&freed);
	hvo_exit();
}

/**
 * hvo_optimize_free - optimize a free folio where it lies, on its free list
 * @h:		its hstate
 * @nid:	its node
 * @folio:	picked by pool.c under hugetlb_lock, and left last on its list
 * @zone:	its zone, read then
 * @b:		the walk's batch, which frees the unmapped pages after its flush
 *
 * The folio stays on its free list, counted free, all along: a
 * reservation or a fault may take it at any moment, and gets it whole or
 * optimized, never half way. What may sleep is done first, with memory
 * hot-remove held off and the folio found still free; then, under
 * hugetlb_lock, the folio is checked to be still there and wanted, is
 * locked for that moment (no one can take it off the list meanwhile, so
 * no owner locks it non-atomically), so that memory-failure's hwpoison
 * filter undo, which writes raw hwpoison flags into the tails of a free
 * folio too, under the folio lock, if its flag is clear
 * (folio_clear_hugetlb_hwpoison()), is kept out; its tails are compared
 * to the shared one, remapped, and its flag set. The head stays: the free
 * list's links are in it. Then, as vmemmap_remap_free() does, every TLB is
 * flushed and the old pages freed: until the flush a CPU may still read
 * them, and they hold the same bytes. That flush is the batch's
 * (hvo_batch_flush()).
 *
 * Return: 0, a positive enum hvo_adopt_skip, or a negative errno.
 */
int hvo_optimize_free(struct hstate *h, int nid, struct folio *folio,
		      struct zone *zone, struct hvo_batch *b)
{
	u64 t0 = trace_folio_optimize_enabled() ? ktime_get_ns() : 0;
	unsigned long pfn = folio_pfn(folio);
	struct hvo_optimize o;
	LIST_HEAD(freed);
	int ret;

	hvo_enter();
	/*
	 * Nothing holds the folio while its vmemmap is split, which may
	 * sleep: memory hot-remove is held off meanwhile, and the folio must
	 * still be free, and its zone isolate nothing, once it is
	 * (hotremove.c).
	 */
	hvo_hotremove_hold();
	spin_lock_irq(hvo_sym.hugetlb_lock);
	ret = hvo_still_free(h, nid, folio) && !hvo_zone_isolating(zone) ?
	      0 : HVO_SKIP_BUSY;
	spin_unlock_irq(hvo_sym.hugetlb_lock);
	if (!ret)
		ret = hvo_optimize_prepare(&o, h, folio, zone, false, &freed);
	hvo_hotremove_release();
	if (ret)
		goto out;
	hvo_remap_begin();
	spin_lock_irq(hvo_sym.hugetlb_lock);
	if (!hvo_still_free(h, nid, folio))
		ret = HVO_SKIP_BUSY;
	else if (!hvo_should_optimize(h, folio))
		ret = HVO_SKIP_OPTIMIZED;
	else if (folio_test_hwpoison(folio) ||
		 folio_test_hugetlb_raw_hwp_unreliable(folio))
		ret = HVO_SKIP_HWPOISON;
	else if (!folio_trylock(folio))
		ret = HVO_SKIP_BUSY;
	if (ret)
		goto unlock;
	if (!hvo_vmemmap_is_tails(o.start, o.end))
		ret = -EINVAL;
	else if (!hvo_tails_pristine(folio, o.r.tail))
		ret = HVO_SKIP_DIRTY_TAILS;
	else
		hvo_optimize_commit(&o);
	folio_unlock(folio);
unlock:
	spin_unlock_irq(hvo_sym.hugetlb_lock);
	hvo_remap_end();
	if (ret)
		hvo_optimize_abort(&o);
	list_splice_tail(&freed, &b->unmapped);
	if (!ret)
		hvo_batch_add(b, h);
out:
	/* A skipped folio is counted by the caller, by reason. */
	if (ret <= 0)
		hvo_optimize_account(pfn, h->order, zone, ret, t0);
	hvo_exit();
	return ret;
}

/**
 * hvo_adopt_folio - optimize a hugetlb folio that may be in use
 * @h:		the folio's hstate
 * @folio:	a folio pool.c took with hvo_take_in_use(): locked and
 *		referenced; both are let go of here
 * @b:		the walk's batch, which frees the unmapped pages after its flush
 *
 * The order of docs/safety.md (adopting folios in use): split, shared
 * tail and list entry first; then, under the folio lock, the flag set
 * after a last check and every tail compared to the shared one; then the
 * remap; the TLB flush is the batch's.
 *
 * Return: 0 if optimized, a positive enum hvo_adopt_skip if skipped, or a
 * negative errno; the folio is unchanged unless 0.
 */
int hvo_adopt_folio(struct hstate *h, struct folio *folio, struct hvo_batch *b)
{
	bool tracing = trace_folio_adopt_enabled();
	u64 t0 = tracing ? ktime_get_ns() : 0;
	unsigned long pfn = folio_pfn(folio);
	struct zone *zone = folio_zone(folio);
	LIST_HEAD(freed);
	bool put;
	int ret;

	hvo_enter();
	if (hvo_orphan(folio))
		ret = HVO_SKIP_BUSY;
	else if (READ_ONCE(hvo_head_copy))
		ret = HVO_SKIP_HEAD_COPY;
	else if (!hvo_should_optimize(h, folio))
		ret = HVO_SKIP_OPTIMIZED;
	else
		ret = hvo_optimize_one(h, folio, &freed, true);
	if (ret == -EOPNOTSUPP)
		ret = HVO_SKIP_SELF_HOSTED;
	put = hvo_unlock_unref(folio);
	list_splice_tail(&freed, &b->unmapped);
	if (!ret)
		hvo_batch_add(b, h);
	hvo_exit();
	if (tracing)
		trace_folio_adopt(pfn, h->order, zone_to_nid(zone), zone_idx(zone),
				  ret, ktime_get_ns() - t0);
	if (put)
		folio_put(folio);
	return ret;
}
