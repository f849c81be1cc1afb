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

#include "hvo_shared.h"
#include "trace.h"

bool hvo_head_copy;
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

static void hvo_free_new_pages(struct list_head *list)
{
	struct page *page, *next;

	list_for_each_entry_safe(page, next, list, lru) {
		list_del(&page->lru);
		__free_page(page);
	}
}

/*
 * Allocate @nr pages on (or near) @nid onto @list, in bulk where the
 * per-CPU lists allow it, and count them as memmap pages.
 */
static int hvo_alloc_vmemmap_pages(int nid, unsigned long nr,
				   struct list_head *list)
{
	/* Failure is expected under pressure and handled: no warning. */
	const gfp_t gfp = GFP_KERNEL | __GFP_RETRY_MAYFAIL | __GFP_NOWARN;
	struct page *batch[32];
	unsigned long done = 0, got, i;

	if (hvo_inject_fail(HVO_INJECT_RESTORE_PAGES))
		return -ENOMEM;
	while (done < nr) {
		memset(batch, 0, sizeof(batch));
		got = alloc_pages_bulk_node(gfp, nid, min(nr - done, ARRAY_SIZE(batch)),
					    batch);
		if (!got) {
			batch[0] = alloc_pages_node(nid, gfp, 0);
			if (!batch[0]) {
				hvo_free_new_pages(list);
				return -ENOMEM;
			}
			got = 1;
		}
		for (i = 0; i < got; i++)
			list_add(&batch[i]->lru, list);
		done += got;
	}
	atomic_long_add(nr, hvo_sym.nr_memmap_pages);
	return 0;
}

/* Every vmemmap page after the first must begin with a tail struct page. */
static bool hvo_vmemmap_is_tails(unsigned long start, unsigned long end)
{
	for (start += PAGE_SIZE; start < end; start += PAGE_SIZE)
		if (!PageTail((struct page *)start))
			return false;
	return true;
}

/*
 * Optimize one folio; the pages it unmaps go to @freed, to be freed by the
 * caller after a TLB flush. On error, or when adopt.c's claim on a folio
 * in use (@in_use) refuses it (a positive reason), the folio is left as it
 * was. A folio in use keeps its head page: lock-free writers of its
 * refcount and pin count could be lost on a copy.
 */
static int hvo_optimize_one(const struct hstate *h, struct folio *folio,
			    struct list_head *freed, bool in_use)
{
	const bool head_copy = !in_use && READ_ONCE(hvo_head_copy);
	const unsigned int order = h->order;
	unsigned long start = (unsigned long)&folio->page;
	unsigned long end = start + hvo_vmemmap_size(h);
	struct zone *zone = folio_zone(folio);
	struct hvo_zone_stats *zs = hvo_zone_stats(zone, order);
	struct hvo_remap r = { .pages = freed, .head_addr = start };
	int nid = folio_nid(folio);
	bool created;
	int ret;

	VM_WARN_ON_ONCE_FOLIO(!folio_test_hugetlb(folio), folio);

	if (!hvo_vmemmap_is_tails(start, end))
		return -EINVAL;
	/* A self-hosted vmemmap is refused here, before any split. */
	ret = hvo_remap_split(start, end, nid, zs);
	if (ret)
		return ret;

	r.tail = hvo_shared_tail(order, zone, &created);
	if (!r.tail)
		return -ENOMEM;
	if (created)
		atomic_long_inc(&zs->tail_pages);

	/* The entry records whether the head was replaced, for restore. */
	if (hvo_inject_fail(HVO_INJECT_XARRAY))
		return -ENOMEM;
	ret = xa_insert(&hvo_folios, folio_pfn(folio), xa_mk_value(head_copy),
			GFP_KERNEL);
	if (ret)
		return ret;

	/* Sets the flag, under the folio lock, before any tail goes read-only. */
	if (in_use) {
		ret = hvo_adopt_claim(folio, r.tail);
		if (ret)
			goto fail;
	}

	if (head_copy) {
		r.head = hvo_inject_fail(HVO_INJECT_HEAD_COPY) ? NULL :
			 alloc_pages_node(nid, GFP_KERNEL, 0);
		if (!r.head) {
			ret = -ENOMEM;
			goto fail;
		}
		atomic_long_inc(hvo_sym.nr_memmap_pages);
		atomic_long_inc(&zs->pages_allocated);
		/*
		 * Set the flag before the copy so that both heads agree, as
		 * mm/hugetlb_vmemmap.c does: until the TLB flush, other CPUs
		 * may still see the old head.
		 */
		folio_set_hugetlb_vmemmap_optimized(folio);
		copy_page(page_to_virt(r.head), (void *)start);
	} else {
		start += PAGE_SIZE;
	}
	hvo_remap_to_tail(start, end, &r);
	folio_set_hugetlb_vmemmap_optimized(folio);

	atomic_long_inc(&zs->folios);
	atomic_long_add((end - start) >> PAGE_SHIFT, &zs->pages_freed);
	return 0;
fail:
	xa_erase(&hvo_folios, folio_pfn(folio));
	return ret;
}

/* Count, and trace with its duration when the tracepoint is on. */
static int hvo_optimize_traced(const struct hstate *h, struct folio *folio,
			       struct list_head *freed)
{
	bool tracing = trace_folio_optimize_enabled();
	u64 t0 = tracing ? ktime_get_ns() : 0;
	int ret = hvo_optimize_one(h, folio, freed, false);

	/* A refusal is a decision, not a failure: counted apart. */
	if (ret == -EOPNOTSUPP) {
		atomic_long_inc(&hvo_totals.skipped_self_hosted);
		return ret;
	}
	atomic_long_inc(&hvo_totals.optimize_total);
	if (ret)
		atomic_long_inc(&hvo_totals.optimize_failed);
	if (tracing)
		trace_folio_optimize(folio_pfn(folio), h->order, folio_nid(folio),
				     folio_zonenum(folio), ret, ktime_get_ns() - t0);
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

/*
 * A 1 GiB folio's vmemmap is 8 PMDs: the 7 after the head's, each mapped
 * by a PTE table that optimizing split, come back as one 2 MiB block
 * each, and their tables are freed: 7 allocations instead of 3584, and no
 * table left behind (the kernel's HVO never merges them back). In two
 * steps, each ended by a TLB flush: the PTEs are pointed at the block's
 * pages, then a PMD leaf replaces them (hvo_remap_collapse() says why).
 * The head's PMD, whose page 0 stays, is restored page by page, as is
 * any PMD for which no block can be had at once: a block is never worth
 * waiting for.
 */
#define HVO_RESTORE_BLOCKS	8

struct hvo_blocks {
	unsigned long first;		/* vmemmap address of blocks[0] */
	unsigned int nr;		/* blocks allocated */
	struct page *block[HVO_RESTORE_BLOCKS];
};

static void hvo_alloc_blocks(int nid, unsigned long start, unsigned long end,
			     struct hvo_blocks *b)
{
	/*
	 * Only a block that is free now: no reclaim, no compaction, no
	 * kswapd (__GFP_NORETRY would still compact once). Restoring page
	 * by page can always stand in for a block.
	 */
	const gfp_t gfp = __GFP_NOWARN | __GFP_NOMEMALLOC;
	unsigned long addr;
	unsigned int i;

	memset(b, 0, sizeof(*b));
	b->first = ALIGN(start, PMD_SIZE);
	for (i = 0, addr = b->first; i < HVO_RESTORE_BLOCKS && addr + PMD_SIZE <= end;
	     i++, addr += PMD_SIZE) {
		if (hvo_inject_fail(HVO_INJECT_RESTORE_BLOCK) ||
		    !hvo_remap_collapsible(addr))
			continue;
		/* Not compound: a later split splits it as hot-plugged vmemmap. */
		b->block[i] = alloc_pages_node(nid, gfp, PMD_SHIFT - PAGE_SHIFT);
		if (b->block[i])
			b->nr++;
	}
}

static void hvo_free_blocks(struct hvo_blocks *b)
{
	unsigned int i;

	for (i = 0; i < HVO_RESTORE_BLOCKS; i++)
		if (b->block[i])
			__free_pages(b->block[i], PMD_SHIFT - PAGE_SHIFT);
}

/* The block for the 2 MiB of vmemmap at @addr, or NULL. */
static struct page *hvo_block_at(struct hvo_blocks *b, unsigned long addr,
				 unsigned long next)
{
	unsigned long i = (addr - b->first) / PMD_SIZE;

	if (addr < b->first || next - addr != PMD_SIZE || i >= HVO_RESTORE_BLOCKS)
		return NULL;
	return b->block[i];
}

/*
 * Copy the 512 vmemmap pages at @addr into @block (fill those that map
 * @r->uniform, counted in @r->filled) and map them there with PTEs; queue
 * the block on @collapse, its address in page->private, for hvo_collapse()
 * to map with a PMD leaf once every TLB has been flushed.
 */
static void hvo_restore_block(unsigned long addr, struct page *block,
			      struct hvo_remap *r, struct list_head *collapse)
{
	r->block = block;
	r->block_addr = addr;
	hvo_remap_to_block(addr, addr + PMD_SIZE, r);
	set_page_private(block, addr);
	list_add_tail(&block->lru, collapse);
}

/*
 * The second step of restoring blocks, after the flush that follows the
 * first: map each with a PMD leaf, flush again, free the PTE tables.
 */
static void hvo_collapse(struct list_head *collapse)
{
	struct page *block, *next;
	LIST_HEAD(tables);

	if (list_empty(collapse))
		return;
	list_for_each_entry_safe(block, next, collapse, lru) {
		list_del(&block->lru);
		if (hvo_remap_collapse(page_private(block), block, &tables))
			atomic_long_inc(&hvo_totals.restore_pmd_leaves);
		set_page_private(block, 0);
	}
	hvo_flush_tlb_all(HVO_FLUSH_COLLAPSE);
	atomic_long_add(hvo_remap_free_tables(&tables),
			&hvo_totals.pte_tables_freed);
}

/*
 * Restore one folio's vmemmap; the caller flushes the TLB, then calls
 * hvo_collapse(@collapse), except for a folio in use (@in_use), whose flag
 * may only clear after the flush: no CPU that still maps a shared tail
 * read-only may be allowed to write it. That flush is done here.
 */
static int hvo_restore_one(const struct hstate *h, struct folio *folio,
			   bool in_use, struct list_head *collapse)
{
	unsigned long start = (unsigned long)&folio->page + PAGE_SIZE;
	unsigned long end = (unsigned long)&folio->page + hvo_vmemmap_size(h);
	unsigned long nr = (end - start) >> PAGE_SHIFT;
	unsigned long addr, next;
	struct hvo_blocks b;
	struct page *block;
	struct hvo_remap r;
	void *entry;
	LIST_HEAD(pages);
	int ret;

	VM_WARN_ON_ONCE_FOLIO(!folio_test_hugetlb(folio), folio);
	VM_WARN_ON_ONCE_FOLIO(!in_use && folio_ref_count(folio), folio);

	atomic_long_inc(&hvo_totals.restore_total);
	hvo_alloc_blocks(folio_nid(folio), start, end, &b);
	ret = hvo_alloc_vmemmap_pages(folio_nid(folio),
				      nr - b.nr * PTRS_PER_PTE, &pages);
	if (ret) {
		hvo_free_blocks(&b);
		atomic_long_inc(&hvo_totals.restore_failed);
		return ret;
	}
	atomic_long_add(b.nr * PTRS_PER_PTE, hvo_sym.nr_memmap_pages);
	r = (struct hvo_remap){ .pages = &pages };
	if (!hvo_inject_fail(HVO_INJECT_RESTORE_FILL))
		r.uniform = hvo_uniform_tail(h->order, folio_zone(folio));
	for (addr = start; addr < end; addr = next) {
		next = pmd_addr_end(addr, end);
		block = hvo_block_at(&b, addr, next);
		if (block)
			hvo_restore_block(addr, block, &r, collapse);
		else
			hvo_remap_to_copies(addr, next, &r);
	}
	atomic_long_add(r.filled, &hvo_totals.restore_pages_filled);
	if (in_use) {
		hvo_flush_tlb_all(HVO_FLUSH_RESTORE);
		spin_lock_irq(hvo_sym.hugetlb_lock);
		folio_clear_hugetlb_vmemmap_optimized(folio);
		spin_unlock_irq(hvo_sym.hugetlb_lock);
	} else {
		folio_clear_hugetlb_vmemmap_optimized(folio);
	}

	entry = xa_erase(&hvo_folios, folio_pfn(folio));
	if (entry) {
		struct hvo_zone_stats *zs;
		bool head_copied = xa_to_value(entry);

		/* A head copy stays: it is this folio's vmemmap page 0 now. */
		zs = hvo_zone_stats(folio_zone(folio), h->order);
		atomic_long_dec(&zs->folios);
		atomic_long_sub(nr + head_copied, &zs->pages_freed);
		atomic_long_sub(head_copied, &zs->pages_allocated);
	}
	return 0;
}

static int hvo_restore_traced(const struct hstate *h, struct folio *folio,
			      bool in_use, struct list_head *collapse)
{
	bool tracing = trace_folio_restore_enabled();
	u64 t0 = tracing ? ktime_get_ns() : 0;
	int ret = hvo_restore_one(h, folio, in_use, collapse);

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
	LIST_HEAD(collapse);
	int ret = 0;

	hvo_enter();
	if (folio_test_hugetlb_vmemmap_optimized(folio)) {
		ret = hvo_restore_traced(h, folio, false, &collapse);
		if (!ret)
			hvo_flush_tlb_all(HVO_FLUSH_RESTORE);
		hvo_collapse(&collapse);
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
 * @folio_list. One TLB flush for the list.
 *
 * Return: the number of folios restored, or the error.
 */
long hvo_restore_folios(const struct hstate *h, struct list_head *folio_list,
			struct list_head *non_hvo_folios)
{
	struct folio *folio, *next;
	LIST_HEAD(collapse);
	long restored = 0;
	int ret = 0;

	hvo_enter();
	list_for_each_entry_safe(folio, next, folio_list, lru) {
		if (folio_test_hugetlb_vmemmap_optimized(folio)) {
			ret = hvo_restore_traced(h, folio, false, &collapse);
			if (ret)
				break;
			restored++;
		}
		list_move(&folio->lru, non_hvo_folios);
	}
	if (restored)
		hvo_flush_tlb_all(HVO_FLUSH_RESTORE);
	hvo_collapse(&collapse);
	hvo_exit();
	return ret ? ret : restored;
}

/**
 * hvo_adopt_folio - optimize a hugetlb folio that may be in use
 * @h:		the folio's hstate
 * @folio:	a folio the caller holds a reference on, which adopt.c chose
 *
 * The order of docs/safety.md (adopting folios in use): split, shared
 * tail and list entry first; then, under the folio lock, the flag set
 * after a last check and every tail compared to the shared one; then the
 * remap and the TLB flush. The caller drops its reference afterwards,
 * outside the engine: the last put may free the folio through a hook.
 *
 * Return: 0 if optimized, a positive enum hvo_adopt_skip if skipped, or a
 * negative errno; the folio is unchanged unless 0.
 */
int hvo_adopt_folio(struct hstate *h, struct folio *folio)
{
	bool tracing = trace_folio_adopt_enabled();
	u64 t0 = tracing ? ktime_get_ns() : 0;
	LIST_HEAD(freed);
	int ret;

	hvo_enter();
	if (READ_ONCE(hvo_head_copy)) {
		ret = HVO_SKIP_HEAD_COPY;
	} else if (!folio_trylock(folio)) {
		ret = HVO_SKIP_BUSY;
	} else {
		ret = hvo_should_optimize(h, folio) ?
		      hvo_optimize_one(h, folio, &freed, true) : HVO_SKIP_OPTIMIZED;
		folio_unlock(folio);
		if (ret == -EOPNOTSUPP)
			ret = HVO_SKIP_SELF_HOSTED;
	}
	hvo_flush_and_free_vmemmap_pages(&freed);
	hvo_exit();
	if (tracing)
		trace_folio_adopt(folio_pfn(folio), h->order, folio_nid(folio),
				  folio_zonenum(folio), ret, ktime_get_ns() - t0);
	return ret;
}

/**
 * hvo_restore_in_use - give a folio that may be in use its vmemmap back
 * @h:		the folio's hstate
 * @folio:	a folio the caller holds a reference on, optimized by
 *		hvo_shared, an earlier load of it or the kernel's HVO
 *
 * Return: 0 if restored, HVO_SKIP_BUSY if the folio is locked,
 * HVO_SKIP_OPTIMIZED if it was whole already (restored meanwhile), or
 * -ENOMEM with the folio unchanged.
 */
int hvo_restore_in_use(struct hstate *h, struct folio *folio)
{
	int ret = HVO_SKIP_OPTIMIZED;
	LIST_HEAD(collapse);

	hvo_enter();
	if (!folio_trylock(folio)) {
		ret = HVO_SKIP_BUSY;
	} else {
		if (folio_test_hugetlb_vmemmap_optimized(folio))
			ret = hvo_restore_traced(h, folio, true, &collapse);
		folio_unlock(folio);
	}
	/* hvo_restore_one() flushed: the folio was in use. */
	hvo_collapse(&collapse);
	hvo_exit();
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
	hvo_remap_exit();
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
