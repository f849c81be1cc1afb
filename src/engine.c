// SPDX-License-Identifier: GPL-2.0
/*
 * The engine's core: what optimize.c and restore.c share. Entry and exit
 * of every engine operation, counted so that unload can wait for them;
 * the record of the folios hvo_shared optimized; which folios may be
 * worked on, free or in use.
 *
 * Optimizing a folio of order N remaps vmemmap pages 1..2^N/64-1 to the
 * shared tail page of its (zone, order), read-only, and frees the pages
 * that were there (optimize.c). Page 0, with the head and the folio's
 * metadata in its first tails, stays writable: by default the original
 * page is kept (see docs/design.md for why), with head_copy=1 it is
 * replaced by a copy as the kernel does. Restoring maps fresh copies of
 * the shared tail back (restore.c).
 */
#include <linux/hugetlb.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/rwsem.h>
#include <linux/jiffies.h>
#include <linux/lockdep.h>
#include <linux/sched.h>
#include <linux/wait_bit.h>
#include <linux/xarray.h>

#include "engine.h"
#include "hvo_engine.h"
#include "hvo_inject.h"
#include "hvo_policy.h"
#include "hvo_remap.h"

/*
 * Folios hvo_shared optimized: restore updates the live counters only for
 * these, not for folios the kernel's HVO optimized. Keyed by head PFN >>
 * HVO_MIN_ORDER, which no two folios share: 2 MiB folios then fill the
 * xarray's nodes 16 to a node, where by PFN each took a node of its own.
 */
static DEFINE_XARRAY(hvo_folios);

static unsigned long hvo_record_index(unsigned long pfn)
{
	return pfn >> HVO_MIN_ORDER;
}

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

void hvo_enter(void)
{
	hvo_inject_delay(HVO_INJECT_DELAY_ENTER);
	atomic_inc(&hvo_active);
	atomic_long_inc(&hvo_entries);
	down_read(&hvo_engine_rwsem);
	hvo_inject_delay(HVO_INJECT_SLEEP_INSIDE);
}

void hvo_exit(void)
{
	up_read(&hvo_engine_rwsem);
	/* A value-returning atomic is the full barrier wake_up_var() needs. */
	if (atomic_dec_and_test(&hvo_active))
		wake_up_var(&hvo_active);
	hvo_inject_delay(HVO_INJECT_DELAY_EXIT);
}

/*
 * Free the vmemmap pages that optimizing unmapped, after the TLB flush that
 * makes them unreachable; accounted as free_vmemmap_page() in
 * mm/hugetlb_vmemmap.c does.
 */
void hvo_free_vmemmap_pages(struct list_head *list)
{
	struct page *page, *next;

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

/*
 * Folios whose vmemmap a walk restored (hvo_restore_free(),
 * hvo_restore_in_use()), flag still set: as vmemmap_remap_alloc()
 * flushes before __hugetlb_vmemmap_restore_folio() clears the flag, no
 * one may be told the tails are writable while a CPU may still map the
 * shared tail read-only. After the batch's TLB flush the flag is cleared
 * under hugetlb_lock, of each folio that is free or in use
 * (hvo_restoring_settle()). A folio with neither is on its way out of
 * hugetlb, its owner the kernel's free path alone: it stays in the set,
 * and its restore, hooked (hvo_restore_folio()), takes it out, flushes
 * and clears the flag itself, as the owner. The kernel's free path tests
 * the flag twice, and in any context (free_huge_folio()); clearing it
 * between the two would let __update_and_free_hugetlb_folio() take
 * hugetlb_lock with interrupts enabled where it was called with them off.
 * A folio is in the set with its flag set, or out of it; both change
 * only under hugetlb_lock. Filled by the one walk there is at a time
 * (hvo_pool_mutex), which no restore waits for: the walk waits, at its
 * end, for the folios left (hvo_batch_finish()).
 */
#define HVO_RESTORING_MAX	(2 * HVO_FLUSH_BATCH)
static struct folio *hvo_restoring[HVO_RESTORING_MAX];
static unsigned int hvo_nr_restoring;

/* Under hugetlb_lock, by the walk: hvo_batch_add() follows. */
void hvo_restoring_add(struct folio *folio)
{
	lockdep_assert_held(hvo_sym.hugetlb_lock);
	hvo_restoring[hvo_nr_restoring] = folio;
	WRITE_ONCE(hvo_nr_restoring, hvo_nr_restoring + 1);
}

static int hvo_restoring_find(struct folio *folio)
{
	int i;

	for (i = 0; i < READ_ONCE(hvo_nr_restoring); i++)
		if (READ_ONCE(hvo_restoring[i]) == folio)
			return i;
	return -1;
}

/*
 * Whether @folio is in the set: under hugetlb_lock, or by the walk, for
 * a folio it holds or picked.
 */
bool hvo_is_restoring(struct folio *folio)
{
	return hvo_restoring_find(folio) >= 0;
}

/**
 * hvo_restoring_take - take @folio out of the set, if it is in it
 * @folio:	a folio leaving hugetlb, its flag set
 *
 * Return: true if it was: its vmemmap is whole, and the caller flushes
 * the TLB before it clears the flag, in the walk's place.
 */
bool hvo_restoring_take(struct folio *folio)
{
	unsigned long flags;
	int i;

	/*
	 * Added under hugetlb_lock before the kernel could take the folio,
	 * which takes that lock too: an empty set seen here is empty of it.
	 * Pairs with the release in hvo_restoring_settle(): a flag cleared
	 * there is seen clear after.
	 */
	if (!smp_load_acquire(&hvo_nr_restoring))
		return false;
	spin_lock_irqsave(hvo_sym.hugetlb_lock, flags);
	i = hvo_restoring_find(folio);
	if (i >= 0)
		WRITE_ONCE(hvo_restoring[i], NULL);
	spin_unlock_irqrestore(hvo_sym.hugetlb_lock, flags);
	return i >= 0;
}

/*
 * Whether the flag of @folio, in the set, may be cleared by the walk:
 * free (on a free list, which only hugetlb_lock's holders change), in
 * use (its owner frees it only through remove_hugetlb_folio() or
 * enqueue_hugetlb_folio(), under hugetlb_lock, which reads the flag
 * there), or leaked on purpose (__update_and_free_hugetlb_folio() stops
 * before it reads the flag).
 */
static bool hvo_restoring_settled(struct folio *folio)
{
	return folio_test_hugetlb_freed(folio) || folio_ref_count(folio) > 0 ||
	       folio_test_hugetlb_raw_hwp_unreliable(folio);
}

/*
 * After a TLB flush that covers every folio in the set, under
 * hugetlb_lock: clear the flags that may be cleared, keep the others.
 * Returns how many are kept.
 */
static unsigned int hvo_restoring_settle(void)
{
	unsigned int i, n = 0;
	struct folio *folio;

	lockdep_assert_held(hvo_sym.hugetlb_lock);
	for (i = 0; i < hvo_nr_restoring; i++) {
		folio = hvo_restoring[i];
		if (!folio)
			continue;
		if (hvo_restoring_settled(folio))
			folio_clear_hugetlb_vmemmap_optimized(folio);
		else
			WRITE_ONCE(hvo_restoring[n++], folio);
	}
	for (i = n; i < hvo_nr_restoring; i++)
		WRITE_ONCE(hvo_restoring[i], NULL);
	/* The flags cleared above are seen by hvo_restoring_take(). */
	smp_store_release(&hvo_nr_restoring, n);
	return n;
}

/**
 * hvo_batch_flush - end a batch: one TLB flush for all its folios
 * @b:	the batch, empty afterwards
 *
 * As vmemmap_remap_free() and vmemmap_remap_alloc() do per call: every
 * TLB is flushed; then the pages optimizing unmapped are freed (until the
 * flush a CPU may still read them, and they hold the same bytes), and
 * the flags of the folios restoring remapped are cleared where they may
 * be (hvo_restoring_settle()), under hugetlb_lock: remove_hugetlb_folio()
 * reads the flag under it. Folios kept from an earlier batch were
 * flushed by it.
 */
void hvo_batch_flush(struct hvo_batch *b)
{
	if (b->folios || !list_empty(&b->unmapped)) {
		hvo_inject_delay(HVO_INJECT_BATCH_FLUSH);
		hvo_flush_tlb_all(hvo_nr_restoring ? HVO_FLUSH_RESTORE :
				  HVO_FLUSH_OPTIMIZE);
		hvo_free_vmemmap_pages(&b->unmapped);
	}
	if (hvo_nr_restoring) {
		spin_lock_irq(hvo_sym.hugetlb_lock);
		hvo_restoring_settle();
		spin_unlock_irq(hvo_sym.hugetlb_lock);
	}
	b->folios = 0;
	b->pages = 0;
}

/*
 * Whether the set has room for one more of @b's folios; if not, @b ends
 * first. Folios on their way out of hugetlb may fill it, each until the
 * kernel's free path restores it: the walk skips restores meanwhile.
 */
bool hvo_restoring_room(struct hvo_batch *b)
{
	if (hvo_nr_restoring < HVO_FLUSH_BATCH)
		return true;
	hvo_batch_flush(b);
	return hvo_nr_restoring < HVO_FLUSH_BATCH;
}

/**
 * hvo_batch_finish - end a walk's batch, and wait until its folios are
 * out of the set
 * @b:	the batch
 *
 * A folio kept in the set (hvo_restoring_settle()) is on its way out of
 * hugetlb, or about to be freed to its free list: the kernel's free path
 * ends either way, and restores it through the hook, or frees it for the
 * next look here. The walk waits for that, outside the engine (the
 * hooked restore may wait for a verify queued on the engine's rwsem), so
 * that no folio stays flagged after its walk, and giveback leaves none
 * for the kernel's own restore once the hooks are gone.
 */
void hvo_batch_finish(struct hvo_batch *b)
{
	unsigned long start = jiffies;

	hvo_batch_flush(b);
	while (READ_ONCE(hvo_nr_restoring)) {
		if (time_after(jiffies, start + 10 * HZ))
			pr_warn_once("%u restored folios still on their way out of hugetlb after 10 s\n",
				     READ_ONCE(hvo_nr_restoring));
		schedule_timeout_uninterruptible(1);
		spin_lock_irq(hvo_sym.hugetlb_lock);
		hvo_restoring_settle();
		spin_unlock_irq(hvo_sym.hugetlb_lock);
	}
}

/* One more folio of @h in @b: the batch ends when it is full. */
void hvo_batch_add(struct hvo_batch *b, const struct hstate *h)
{
	b->pages += hvo_vmemmap_size(h) / PAGE_SIZE - 1;
	if (++b->folios >= HVO_FLUSH_BATCH || b->pages >= HVO_FLUSH_PAGES)
		hvo_batch_flush(b);
}

/* Record @folio as optimized by hvo_shared, and whether its head was copied. */
int hvo_record_add(struct folio *folio, bool head_copied)
{
	return xa_insert(&hvo_folios, hvo_record_index(folio_pfn(folio)),
			 xa_mk_value(head_copied),
			 GFP_KERNEL);
}

/*
 * Forget the folio at @pfn: returns whether hvo_shared optimized it, and
 * in @head_copied (if not NULL) whether its head was copied.
 */
bool hvo_record_del(unsigned long pfn, bool *head_copied)
{
	void *entry = xa_erase(&hvo_folios, hvo_record_index(pfn));

	if (entry && head_copied)
		*head_copied = xa_to_value(entry);
	return entry;
}

/* Whether hvo_shared, rather than the kernel, optimized @folio. */
bool hvo_is_ours(struct folio *folio)
{
	return xa_load(&hvo_folios, hvo_record_index(folio_pfn(folio)));
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
 * Whether @folio, which pool.c picked under hugetlb_lock and left last on
 * @nid's free list of @h, is still there. Only then may it be looked at:
 * off the list it may be anybody's by now, or no folio at all. Enqueuing
 * adds at the head (enqueue_hugetlb_folio()), so nothing but a dequeue or
 * a removal moves it. Under hugetlb_lock.
 */
bool hvo_still_free(struct hstate *h, int nid, struct folio *folio)
{
	struct list_head *list = &h->hugepage_freelists[nid];

	return !list_empty(list) && list_last_entry(list, struct folio, lru) == folio;
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
bool hvo_unlock_unref(struct folio *folio)
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
bool hvo_orphan(struct folio *folio)
{
	return folio_ref_count(folio) == 1;
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
	unsigned long index = hvo_record_index(*pfn + BIT(HVO_MIN_ORDER) - 1);

	if (!xa_find(&hvo_folios, &index, ULONG_MAX, XA_PRESENT))
		return false;
	*pfn = index << HVO_MIN_ORDER;
	return true;
}

/* How many folios hvo_shared optimized (and has not restored). */
long hvo_count_ours(void)
{
	unsigned long index;
	void *entry;
	long n = 0;

	xa_for_each(&hvo_folios, index, entry)
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
	unsigned long index;
	void *entry;

	down_write(&hvo_engine_rwsem);
	xa_for_each(&hvo_folios, index, entry) {
		w->folio(w, index << HVO_MIN_ORDER, xa_to_value(entry));
		cond_resched();
	}
	w->done(w);
	up_write(&hvo_engine_rwsem);
}
