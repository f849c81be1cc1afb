// SPDX-License-Identifier: GPL-2.0
/*
 * Optimize and restore: hvo_shared's versions of the kernel's four HVO
 * entry points, called in their place through hooks.c with the same
 * arguments and the same contracts (mm/hugetlb_vmemmap.c).
 *
 * Optimizing a folio of order N remaps vmemmap pages 1..2^N/64-1 to the
 * shared tail page of its (zone, order), read-only, and frees the pages
 * that were there. Page 0, with the head and the folio's metadata in its
 * first tails, stays writable: by default the original page is kept (see
 * docs/design.md for why), with head_copy=1 it is replaced by a copy as
 * the kernel does. Restoring maps fresh copies of the shared tail back.
 */
#include <linux/hugetlb.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/rcupdate.h>
#include <linux/rwsem.h>
#include <linux/wait_bit.h>
#include <linux/xarray.h>

#include "hvo_engine.h"
#include "hvo_fill.h"
#include "hvo_inject.h"
#include "hvo_kernel.h"
#include "hvo_policy.h"
#include "hvo_remap.h"
#include "hvo_state.h"
#include "trace.h"

static bool hvo_head_copy;
module_param_named(head_copy, hvo_head_copy, bool, 0644);
MODULE_PARM_DESC(head_copy, "replace the head vmemmap page by a copy, as the kernel does (default: keep it)");

/*
 * Folios hvo_shared optimized, by head PFN: restore updates the live
 * counters only for these, not for folios the kernel's HVO optimized.
 */
static DEFINE_XARRAY(hvo_folios);

/*
 * Tasks inside a replacement function: rmmod waits for them. The counter
 * does not cover the first instructions of a replacement, before
 * hvo_enter(), nor the last, after hvo_exit(); hvo_engine_exit() closes
 * both windows with RCU-tasks grace periods (docs/safety.md).
 */
static atomic_t hvo_active = ATOMIC_INIT(0);
/* Entries ever made; unload looks for one during its grace period. */
static atomic_long_t hvo_entries = ATOMIC_LONG_INIT(0);

/*
 * Engine operations take it for reading; the verify file for writing, so
 * that it sees no folio half optimized or half restored.
 */
static DECLARE_RWSEM(hvo_engine_rwsem);

static void hvo_enter(void)
{
	hvo_inject_delay(HVO_INJECT_DELAY_ENTER);
	atomic_inc(&hvo_active);
	atomic_long_inc(&hvo_entries);
	down_read(&hvo_engine_rwsem);
	hvo_inject_delay(HVO_INJECT_SLEEP_INSIDE);
}

static void hvo_exit(void)
{
	up_read(&hvo_engine_rwsem);
	if (atomic_dec_and_test(&hvo_active))
		wake_up_var(&hvo_active);
	hvo_inject_delay(HVO_INJECT_DELAY_EXIT);
}

/*
 * A free folio whose vmemmap hvo_restore_free() restored where it lies,
 * between the TLB flush and the clearing of its flag. The kernel may take
 * it off its free list meanwhile, and dissolve it: every restore waits
 * until the flag is clear, so that no folio leaves hugetlb, or is
 * restored twice, while it is set. One at a time: pool walks are serial.
 */
static struct folio *hvo_restoring;

static void hvo_wait_restoring(struct folio *folio)
{
	/* Pairs with the release in hvo_restore_free(): the flag is clear. */
	wait_var_event(&hvo_restoring, smp_load_acquire(&hvo_restoring) != folio);
}

static unsigned long hvo_vmemmap_size(const struct hstate *h)
{
	return pages_per_huge_page(h) * sizeof(struct page);
}

/* Whether hvo_shared, rather than the kernel, optimized @folio. */
bool hvo_is_ours(struct folio *folio)
{
	return xa_load(&hvo_folios, folio_pfn(folio));
}

bool hvo_should_optimize(const struct hstate *h, struct folio *folio)
{
	if (folio_test_hugetlb_vmemmap_optimized(folio))
		return false;
	/* Orders whose vmemmap is a single page have nothing to share. */
	if (h->order < HVO_MIN_ORDER)
		return false;
	return hvo_policy_wants(h->order, folio_nid(folio));
}

/**
 * hvo_in_use_state - whether a folio in use may be locked and worked on
 * @folio:	a folio on an hstate's active list, under hugetlb_lock
 *
 * A folio is its owner's alone from its allocation until the owner marks
 * it migratable, the last thing it does with it (hugetlb_no_page(),
 * hugetlb_wp(), hugetlb_mfill_atomic_pte(), hugetlbfs_fallocate(),
 * hugetlb_install_folio()), or until migration or isolation hands it back
 * (move_hugetlb_state(), folio_putback_hugetlb(), under hugetlb_lock):
 * until then the owner may lock it non-atomically (__folio_set_locked() in
 * hugetlb_add_to_page_cache()), and a trylock that won first would leave
 * PG_locked set with no owner once the owner unlocks (an XOR). The flag is
 * cleared only under hugetlb_lock (folio_isolate_hugetlb(),
 * free_huge_folio()), and once it is set everyone locks atomically.
 *
 * Return: HVO_ADOPTED if it may, or why not.
 */
enum hvo_adopt_skip hvo_in_use_state(struct folio *folio)
{
	if (!folio_test_hugetlb(folio) || !folio_test_hugetlb_migratable(folio))
		return HVO_SKIP_ISOLATED;
	if (folio_test_hugetlb_temporary(folio))
		return HVO_SKIP_TEMPORARY;
	if (folio_test_hwpoison(folio) || folio_test_hugetlb_raw_hwp_unreliable(folio))
		return HVO_SKIP_HWPOISON;
	return HVO_ADOPTED;
}

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

/*
 * Whether @folio, which pool.c picked under hugetlb_lock and left last on
 * @nid's free list of @h, is still there. Only then may it be looked at:
 * off the list it may be anybody's by now, or no folio at all. Enqueuing
 * adds at the head (enqueue_hugetlb_folio()), so nothing but a dequeue or
 * a removal moves it. Under hugetlb_lock.
 */
static bool hvo_still_free(struct hstate *h, int nid, struct folio *folio)
{
	struct list_head *list = &h->hugepage_freelists[nid];

	return !list_empty(list) && list_last_entry(list, struct folio, lru) == folio;
}

/*
 * Free the vmemmap pages that optimizing unmapped, after the TLB flush that
 * makes them unreachable; accounted as free_vmemmap_page() in
 * mm/hugetlb_vmemmap.c does.
 */
static void hvo_flush_and_free_vmemmap_pages(struct list_head *list)
{
	struct page *page, *next;

	if (list_empty(list))
		return;
	hvo_flush_tlb_all(HVO_FLUSH_OPTIMIZE);
	list_for_each_entry_safe(page, next, list, lru) {
		list_del(&page->lru);
		if (PageReserved(page)) {
			atomic_long_dec(hvo_sym.nr_memmap_boot_pages);
			free_reserved_page(page);
		} else {
			atomic_long_dec(hvo_sym.nr_memmap_pages);
			__free_page(page);
		}
	}
}

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
	ret = xa_insert(&hvo_folios, folio_pfn(folio), xa_mk_value(head_copy),
			GFP_KERNEL);
	if (ret)
		return ret;
	if (head_copy) {
		o->r.head = hvo_inject_fail(HVO_INJECT_HEAD_COPY) ? NULL :
			    alloc_pages_node(nid, GFP_KERNEL, 0);
		if (!o->r.head) {
			xa_erase(&hvo_folios, folio_pfn(folio));
			return -ENOMEM;
		}
	}
	return 0;
}

static void hvo_optimize_abort(struct hvo_optimize *o)
{
	if (o->r.head)
		__free_page(o->r.head);
	xa_erase(&hvo_folios, folio_pfn(o->folio));
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
 *
 * The folio stays on its free list, counted free, all along: a
 * reservation or a fault may take it at any moment, and gets it whole or
 * optimized, never half way. What may sleep is done first; then, under
 * hugetlb_lock, the folio is checked to be still there and wanted, is
 * locked for that moment (no one can take it off the list meanwhile, so
 * no owner locks it non-atomically), so that memory-failure's hwpoison
 * filter undo, which writes raw hwpoison flags into the tails of a free
 * folio too, under the folio lock, if its flag is clear
 * (folio_clear_hugetlb_hwpoison()), is kept out; its tails are compared
 * to the shared one, remapped, and its flag set. The head stays: the free
 * list's links are in it. Then, as vmemmap_remap_free() does, every TLB is
 * flushed and the old pages freed: until the flush a CPU may still read
 * them, and they hold the same bytes.
 *
 * Return: 0, a positive enum hvo_adopt_skip, or a negative errno.
 */
int hvo_optimize_free(struct hstate *h, int nid, struct folio *folio,
		      struct zone *zone)
{
	u64 t0 = trace_folio_optimize_enabled() ? ktime_get_ns() : 0;
	unsigned long pfn = folio_pfn(folio);
	struct hvo_optimize o;
	LIST_HEAD(freed);
	int ret;

	hvo_enter();
	ret = hvo_optimize_prepare(&o, h, folio, zone, false, &freed);
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
	hvo_flush_and_free_vmemmap_pages(&freed);
out:
	/* A skipped folio is counted by the caller, by reason. */
	if (ret <= 0)
		hvo_optimize_account(pfn, h->order, zone, ret, t0);
	hvo_exit();
	return ret;
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

/*
 * A restored folio's bookkeeping: its list entry goes, and the counters
 * of its (zone, order) drop, if hvo_shared optimized it. A head copy
 * stays: it is the folio's vmemmap page 0 now.
 */
static void hvo_restore_account(const struct hstate *h, unsigned long pfn,
				struct zone *zone, struct hvo_remap *r)
{
	unsigned long nr = hvo_vmemmap_size(h) / PAGE_SIZE - 1;
	struct hvo_zone_stats *zs;
	bool head_copied;
	void *entry;

	if (r->filled)
		atomic_long_add(nr - r->copied, &hvo_totals.restore_pages_filled);
	entry = xa_erase(&hvo_folios, pfn);
	if (!entry)
		return;
	head_copied = xa_to_value(entry);
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
 * hugetlb, through a hook) or, with @in_use, one in use that pool.c
 * took: referenced and locked. The caller flushes the TLB, except
 * for a folio in use, whose flag may only clear after the flush: no CPU
 * that still maps a shared tail read-only may be allowed to write it.
 * That flush is done here.
 */
static int hvo_restore_one(const struct hstate *h, struct folio *folio,
			   bool in_use)
{
	unsigned long start = (unsigned long)&folio->page + PAGE_SIZE;
	unsigned long end = (unsigned long)&folio->page + hvo_vmemmap_size(h);
	struct zone *zone = folio_zone(folio);
	unsigned long blocks;
	struct hvo_remap r;
	LIST_HEAD(pages);
	int ret;

	VM_WARN_ON_ONCE_FOLIO(!folio_test_hugetlb(folio), folio);
	VM_WARN_ON_ONCE_FOLIO(!in_use && folio_ref_count(folio), folio);

	atomic_long_inc(&hvo_totals.restore_total);
	r = (struct hvo_remap){ .pages = &pages, .tail = hvo_tail_of(h, zone) };
	ret = hvo_restore_prepare(h, zone, &r, &blocks);
	if (ret) {
		atomic_long_inc(&hvo_totals.restore_failed);
		return ret;
	}
	atomic_long_add(blocks, &hvo_totals.restore_blocks);
	hvo_remap_begin();
	hvo_remap_to_pages(start, end, &r);
	hvo_remap_end();
	if (in_use) {
		hvo_flush_tlb_all(HVO_FLUSH_RESTORE);
		spin_lock_irq(hvo_sym.hugetlb_lock);
		folio_clear_hugetlb_vmemmap_optimized(folio);
		spin_unlock_irq(hvo_sym.hugetlb_lock);
	} else {
		folio_clear_hugetlb_vmemmap_optimized(folio);
	}
	hvo_restore_account(h, folio_pfn(folio), zone, &r);
	return 0;
}

static int hvo_restore_traced(const struct hstate *h, struct folio *folio,
			      bool in_use)
{
	bool tracing = trace_folio_restore_enabled();
	u64 t0 = tracing ? ktime_get_ns() : 0;
	int ret = hvo_restore_one(h, folio, in_use);

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
 *
 * Return: 0 if @folio's vmemmap is whole (again), -ENOMEM if the pages
 * for it could not be allocated; then nothing changed.
 */
int hvo_restore_folio(const struct hstate *h, struct folio *folio)
{
	int ret = 0;

	hvo_enter();
	hvo_wait_restoring(folio);
	if (folio_test_hugetlb_vmemmap_optimized(folio)) {
		ret = hvo_restore_traced(h, folio, false);
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
 * @folio_list. One TLB flush for the list, as the kernel's does.
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
		hvo_wait_restoring(folio);
		if (folio_test_hugetlb_vmemmap_optimized(folio)) {
			ret = hvo_restore_traced(h, folio, false);
			if (ret)
				break;
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
 *
 * As hvo_optimize_free(), the folio stays free and available all along.
 * The pages are allocated and filled first; under hugetlb_lock the folio
 * is checked to be still there and optimized, and its PTEs are pointed
 * at them. Then, as vmemmap_remap_alloc() and
 * __hugetlb_vmemmap_restore_folio() do, every TLB is flushed before the
 * flag is cleared: a CPU that still maps a shared tail read-only must not
 * be told the tails are writable. The kernel may take the folio between
 * the two; restores of it wait (hvo_restoring), so it cannot leave
 * hugetlb with the flag set.
 *
 * Return: 0, HVO_SKIP_BUSY if it is gone, HVO_SKIP_OPTIMIZED if it is
 * whole already, or -ENOMEM with the folio unchanged.
 */
int hvo_restore_free(struct hstate *h, int nid, struct folio *folio,
		     struct zone *zone)
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
	r.pages = &pages;
	ret = hvo_restore_prepare(h, zone, &r, &blocks);
	if (ret) {
		atomic_long_inc(&hvo_totals.restore_total);
		atomic_long_inc(&hvo_totals.restore_failed);
		goto out;
	}
	hvo_remap_begin();
	spin_lock_irq(hvo_sym.hugetlb_lock);
	if (!hvo_still_free(h, nid, folio))
		ret = HVO_SKIP_BUSY;
	else if (!folio_test_hugetlb_vmemmap_optimized(folio))
		ret = HVO_SKIP_OPTIMIZED;
	else
		hvo_remap_to_pages(start, end, &r);
	if (!ret)
		WRITE_ONCE(hvo_restoring, folio);
	spin_unlock_irq(hvo_sym.hugetlb_lock);
	hvo_remap_end();
	if (ret) {
		hvo_free_new_pages(&pages);
		goto out;
	}

	hvo_flush_tlb_all(HVO_FLUSH_RESTORE);
	folio_clear_hugetlb_vmemmap_optimized(folio);
	/* A restore waiting for it sees the flag clear (hvo_wait_restoring()). */
	smp_store_release(&hvo_restoring, NULL);
	wake_up_var(&hvo_restoring);

	atomic_long_inc(&hvo_totals.restore_total);
	atomic_long_add(blocks, &hvo_totals.restore_blocks);
	hvo_restore_account(h, pfn, zone, &r);
out:
	if (tracing && ret <= 0)
		trace_folio_restore(pfn, h->order, zone_to_nid(zone), zone_idx(zone),
				    ret, ktime_get_ns() - t0);
	hvo_exit();
	return ret;
}

/*
 * Unlock @folio, which the caller locked and holds a reference on, and
 * drop that reference: first, while the folio is still locked, unless it
 * is the last one. An owner unmapping the folio meanwhile waits for the
 * lock (remove_inode_hugepages()), then frees it with its own put before
 * its munmap returns, so that a reservation made right after finds the
 * folio back in the pool; had the walk's put come last, the pool would be
 * a folio short until then. Returns true if the reference is the last
 * one, to be dropped by the caller after the unlock, as always, and
 * outside the engine: the last put may free the folio through a hook.
 */
static bool hvo_unlock_unref(struct folio *folio)
{
	bool last = !hvo_put_unless_last(folio);

	folio_unlock(folio);
	return last;
}

/*
 * Whether the caller's reference on @folio, locked, is the only one left:
 * its owner let go of it after the walk took it. It is then left alone,
 * to be freed by the caller's put at once, not after the work: its
 * owner's munmap may have returned already.
 */
static bool hvo_orphan(struct folio *folio)
{
	return folio_ref_count(folio) == 1;
}

/**
 * hvo_adopt_folio - optimize a hugetlb folio that may be in use
 * @h:		the folio's hstate
 * @folio:	a folio pool.c took with hvo_take_in_use(): locked and
 *		referenced; both are let go of here
 *
 * The order of docs/safety.md (adopting folios in use): split, shared
 * tail and list entry first; then, under the folio lock, the flag set
 * after a last check and every tail compared to the shared one; then the
 * remap and the TLB flush.
 *
 * Return: 0 if optimized, a positive enum hvo_adopt_skip if skipped, or a
 * negative errno; the folio is unchanged unless 0.
 */
int hvo_adopt_folio(struct hstate *h, struct folio *folio)
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
	hvo_flush_and_free_vmemmap_pages(&freed);
	hvo_exit();
	if (tracing)
		trace_folio_adopt(pfn, h->order, zone_to_nid(zone), zone_idx(zone),
				  ret, ktime_get_ns() - t0);
	if (put)
		folio_put(folio);
	return ret;
}

/**
 * hvo_restore_in_use - give a folio that may be in use its vmemmap back
 * @h:		the folio's hstate
 * @folio:	a folio pool.c took with hvo_take_in_use(): locked and
 *		referenced, both let go of here; optimized by hvo_shared, an
 *		earlier load of it or the kernel's HVO
 *
 * Return: 0 if restored, HVO_SKIP_BUSY if its owner let go of it,
 * HVO_SKIP_OPTIMIZED if it was whole already (restored meanwhile), or
 * -ENOMEM with the folio unchanged.
 */
int hvo_restore_in_use(struct hstate *h, struct folio *folio)
{
	int ret = HVO_SKIP_OPTIMIZED;
	bool put;

	hvo_enter();
	hvo_wait_restoring(folio);
	if (hvo_orphan(folio))
		ret = HVO_SKIP_BUSY;
	else if (folio_test_hugetlb_vmemmap_optimized(folio))
		ret = hvo_restore_traced(h, folio, true);
	put = hvo_unlock_unref(folio);
	hvo_exit();
	if (put)
		folio_put(folio);
	return ret;
}

/*
 * Called after the hooks are gone: wait until no task can be running module
 * text on behalf of a hook. Optimized folios stay as they are; the
 * kernel's own restore handles them (docs/design.md).
 *
 * Two stretches of a redirected task are in module text but not counted
 * in hvo_active: before hvo_enter() (from the trampoline's return) and
 * after the decrement in hvo_exit() (to the replacement's return). No
 * task sleeps in either, so an RCU-tasks grace period, which ends only
 * once every task has made a voluntary context switch, started while the
 * counter is zero, ends after every task in the second stretch has left
 * it; and a task that was in the first has entered by then, which
 * hvo_entries shows. Then the counter must drain and a new grace period
 * cover its exit. Usually nobody is in flight: one grace period.
 * unregister_ftrace_function() waits for one such period itself on
 * preemptible kernels (ftrace_shutdown()), but that is its own business.
 */
void hvo_engine_exit(void)
{
	long seen;

	do {
		seen = atomic_long_read(&hvo_entries);
		wait_var_event(&hvo_active, !atomic_read(&hvo_active));
		synchronize_rcu_tasks();
	} while (atomic_long_read(&hvo_entries) != seen);
	xa_destroy(&hvo_folios);
}

/* The first head PFN at or after *@pfn that hvo_shared optimized. */
bool hvo_next_ours(unsigned long *pfn)
{
	return xa_find(&hvo_folios, pfn, ULONG_MAX, XA_PRESENT);
}

/* How many folios hvo_shared optimized (and has not restored). */
long hvo_count_ours(void)
{
	unsigned long pfn;
	void *entry;
	long n = 0;

	xa_for_each(&hvo_folios, pfn, entry)
		n++;
	return n;
}

/**
 * hvo_walk_ours - walk every folio hvo_shared optimized
 * @w:	->folio() is called with each head PFN and whether its head was
 *	copied, then ->done() once
 *
 * Engine operations are held off meanwhile, so ->folio() sees no folio
 * half optimized or half restored, and ->done() sees the counters at rest.
 */
void hvo_walk_ours(struct hvo_walker *w)
{
	unsigned long pfn;
	void *entry;

	down_write(&hvo_engine_rwsem);
	xa_for_each(&hvo_folios, pfn, entry) {
		w->folio(w, pfn, xa_to_value(entry));
		cond_resched();
	}
	w->done(w);
	up_write(&hvo_engine_rwsem);
}
