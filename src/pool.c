// SPDX-License-Identifier: GPL-2.0
/*
 * Folios already in the pools: optimize the free ones at load (takeover=1)
 * and restore them before unload (giveback=1), and walk the free lists
 * for adopt and restore.
 *
 * A free folio is never taken off its free list: it is picked under
 * hugetlb_lock, and the engine works on it where it lies
 * (hvo_optimize_free(), hvo_restore_free()), so that a reservation or a
 * fault can have it at any moment, as without hvo_shared.
 */
#include <linux/hugetlb.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/nodemask.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>

#include "hvo_shared.h"

/* One walk at a time: hvo_restore_free() restores one folio at a time. */
static DEFINE_MUTEX(hvo_pool_mutex);

static bool hvo_takeover = true;
module_param_named(takeover, hvo_takeover, bool, 0444);
MODULE_PARM_DESC(takeover, "optimize the free folios already in the pools at load (default: Y)");

static bool hvo_giveback;
module_param_named(giveback, hvo_giveback, bool, 0644);
MODULE_PARM_DESC(giveback, "restore the free optimized folios before unload (default: N)");

/*
 * Pick a free folio that @want accepts from @nid's free list of @h: look
 * at up to HVO_LOOK_BATCH folios from the head, each moved to the tail as
 * it is looked at (folio_putback_hugetlb() does so on the active list),
 * so that each pick starts at folios not yet seen; the one picked is left
 * last, where the engine looks for it again. @budget counts the folios
 * looked at. Returns NULL if none in this batch; @zone is the picked
 * folio's.
 */
static struct folio *hvo_pool_pick(struct hstate *h, int nid,
				   bool (*want)(struct hstate *h, struct folio *f),
				   long *budget, struct zone **zone)
{
	struct list_head *list = &h->hugepage_freelists[nid];
	struct folio *folio, *picked = NULL;
	int i;

	spin_lock_irq(hvo_sym.hugetlb_lock);
	for (i = 0; i < HVO_LOOK_BATCH && *budget > 0 && !list_empty(list); i++) {
		folio = list_first_entry(list, struct folio, lru);
		list_move_tail(&folio->lru, list);
		--*budget;
		if (!folio_test_hwpoison(folio) && want(h, folio)) {
			*zone = folio_zone(folio);
			picked = folio;
			break;
		}
	}
	if (list_empty(list))
		*budget = 0;
	spin_unlock_irq(hvo_sym.hugetlb_lock);
	return picked;
}

/*
 * Apply @work to each free folio of every hstate that @want accepts, one
 * at a time. Returns how many were worked on (@work returned 0); stops at
 * the first error.
 */
static long hvo_pool_walk(bool (*want)(struct hstate *h, struct folio *f),
			  int (*work)(struct hstate *h, int nid,
				      struct folio *f, struct zone *zone))
{
	struct zone *zone = NULL;
	struct folio *folio;
	struct hstate *h;
	long done = 0;
	int nid, ret;

	mutex_lock(&hvo_pool_mutex);
	hvo_for_each_hstate(h) {
		if (h->order < HVO_MIN_ORDER)
			continue;
		for_each_online_node(nid) {
			/* Each folio goes to the tail once: bounded walk. */
			long budget = READ_ONCE(h->free_huge_pages_node[nid]);

			while (budget > 0 && !fatal_signal_pending(current)) {
				folio = hvo_pool_pick(h, nid, want, &budget, &zone);
				if (folio) {
					ret = work(h, nid, folio, zone);
					if (ret < 0)
						goto out;
					done += !ret;
				}
				cond_resched();
			}
		}
	}
out:
	mutex_unlock(&hvo_pool_mutex);
	return done;
}

/**
 * hvo_pool_count_left - free folios still optimized that restore-all left
 *
 * Those an earlier load or the kernel's HVO optimized; this load's are
 * counted apart (hvo_count_ours()). HVO_LOOK_BATCH at a time.
 */
long hvo_pool_count_left(void)
{
	struct list_head *list;
	struct folio *folio;
	struct hstate *h;
	long left = 0, n;
	int nid, i;

	mutex_lock(&hvo_pool_mutex);
	hvo_for_each_hstate(h) {
		for_each_online_node(nid) {
			list = &h->hugepage_freelists[nid];
			n = READ_ONCE(h->free_huge_pages_node[nid]);
			while (n > 0) {
				spin_lock_irq(hvo_sym.hugetlb_lock);
				for (i = 0; i < HVO_LOOK_BATCH && n > 0 && !list_empty(list);
				     i++, n--) {
					folio = list_first_entry(list, struct folio, lru);
					list_move_tail(&folio->lru, list);
					left += folio_test_hugetlb_vmemmap_optimized(folio) &&
						!hvo_is_ours(folio);
				}
				if (list_empty(list))
					n = 0;
				spin_unlock_irq(hvo_sym.hugetlb_lock);
				cond_resched();
			}
		}
	}
	mutex_unlock(&hvo_pool_mutex);
	return left;
}

static bool hvo_pool_wants_optimize(struct hstate *h, struct folio *folio)
{
	return hvo_should_optimize(h, folio);
}

static bool hvo_pool_wants_restore(struct hstate *h, struct folio *folio)
{
	return hvo_is_ours(folio);
}

static bool hvo_pool_wants_restore_any(struct hstate *h, struct folio *folio)
{
	return folio_test_hugetlb_vmemmap_optimized(folio);
}

/* Count a free folio that was not optimized, by reason, as adopt does. */
static int hvo_pool_optimize(struct hstate *h, int nid, struct folio *folio,
			     struct zone *zone)
{
	int ret = hvo_optimize_free(h, nid, folio, zone);

	if (ret > 0 && ret != HVO_SKIP_OPTIMIZED)
		atomic_long_inc(&hvo_adopt_totals.skipped[ret]);
	/* Best effort, as the kernel's HVO: the next folio may do. */
	return ret < 0 ? 1 : ret;
}

static int hvo_pool_restore(struct hstate *h, int nid, struct folio *folio,
			    struct zone *zone)
{
	return hvo_restore_free(h, nid, folio, zone);
}

/* As hvo_pool_restore(), counting the folios this load did not optimize. */
static int hvo_pool_restore_counted(struct hstate *h, int nid,
				    struct folio *folio, struct zone *zone)
{
	bool inherited = !hvo_is_ours(folio);
	int ret = hvo_restore_free(h, nid, folio, zone);

	if (!ret && inherited)
		atomic_long_inc(&hvo_adopt_totals.restore_inherited);
	return ret;
}

/* Optimize the free folios the policy wants; returns how many. */
long hvo_pool_optimize_free(void)
{
	return hvo_pool_walk(hvo_pool_wants_optimize, hvo_pool_optimize);
}

/*
 * Restore the free folios hvo_shared optimized; returns how many, or
 * stops at the first that cannot be restored.
 */
static long hvo_pool_restore_free(void)
{
	return hvo_pool_walk(hvo_pool_wants_restore, hvo_pool_restore);
}

/*
 * Restore every free optimized folio: hvo_shared's, and those an earlier
 * load of it or the kernel's HVO left, which nothing tells apart.
 */
long hvo_pool_restore_all_free(void)
{
	return hvo_pool_walk(hvo_pool_wants_restore_any, hvo_pool_restore_counted);
}

/**
 * hvo_pool_takeover - optimize the free folios already in the pools
 *
 * Only with takeover=1 (the default), following the policy.
 */
void hvo_pool_takeover(void)
{
	long n;

	if (!hvo_takeover)
		return;
	n = hvo_pool_optimize_free();
	if (n)
		pr_info("took over %ld free folios\n", n);
}

/**
 * hvo_pool_giveback - restore the free folios hvo_shared optimized
 *
 * Only with giveback=1. Folios in use stay optimized; the kernel's HVO
 * restores them when they are freed.
 */
void hvo_pool_giveback(void)
{
	long n;

	if (!hvo_giveback)
		return;
	n = hvo_pool_restore_free();
	if (n)
		pr_info("gave back %ld free folios\n", n);
}
