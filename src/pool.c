// SPDX-License-Identifier: GPL-2.0
/*
 * Folios already in the pools: optimize the free ones at load (takeover=1)
 * and restore them before unload (giveback=1).
 *
 * A free folio is taken off its free list under hugetlb_lock, worked on
 * without the lock, and put back. While it is off the list its
 * hugetlb_freed flag is clear, which is how mm/hugetlb.c marks a folio in
 * transit: dissolve_free_hugetlb_folio() waits for it to come back. A
 * folio is only taken while free pages exceed reservations, so a
 * reservation can always find its page. The hstate's resize_lock keeps
 * pool resizing out meanwhile.
 */
#include <linux/hugetlb.h>
#include <linux/moduleparam.h>
#include <linux/nodemask.h>
#include <linux/sched.h>

#include "hvo_shared.h"

static bool hvo_takeover = true;
module_param_named(takeover, hvo_takeover, bool, 0444);
MODULE_PARM_DESC(takeover, "optimize the free folios already in the pools at load (default: Y)");

static bool hvo_giveback;
module_param_named(giveback, hvo_giveback, bool, 0644);
MODULE_PARM_DESC(giveback, "restore the free optimized folios before unload (default: N)");

/* Take a free folio that @want accepts off @nid's free list, or NULL. */
static struct folio *hvo_pool_take(struct hstate *h, int nid,
				   bool (*want)(struct hstate *h, struct folio *f))
{
	struct folio *folio;

	spin_lock_irq(hvo_sym.hugetlb_lock);
	if (h->free_huge_pages <= h->resv_huge_pages)
		goto none;
	list_for_each_entry(folio, &h->hugepage_freelists[nid], lru) {
		if (folio_test_hwpoison(folio) || !want(h, folio))
			continue;
		list_del_init(&folio->lru);
		folio_clear_hugetlb_freed(folio);
		h->free_huge_pages--;
		h->free_huge_pages_node[nid]--;
		spin_unlock_irq(hvo_sym.hugetlb_lock);
		return folio;
	}
none:
	spin_unlock_irq(hvo_sym.hugetlb_lock);
	return NULL;
}

/* Put @folio back, at the tail: the list's head is still to be looked at. */
static void hvo_pool_put(struct hstate *h, struct folio *folio)
{
	int nid = folio_nid(folio);

	spin_lock_irq(hvo_sym.hugetlb_lock);
	list_add_tail(&folio->lru, &h->hugepage_freelists[nid]);
	h->free_huge_pages++;
	h->free_huge_pages_node[nid]++;
	folio_set_hugetlb_freed(folio);
	spin_unlock_irq(hvo_sym.hugetlb_lock);
}

/*
 * Apply @work to each free folio of every hstate that @want accepts, one
 * at a time. Returns how many were worked on; stops at the first error.
 */
static long hvo_pool_walk(bool (*want)(struct hstate *h, struct folio *f),
			  int (*work)(struct hstate *h, struct folio *f))
{
	struct hstate *h;
	struct folio *folio;
	long done = 0;
	int nid, ret = 0;

	hvo_for_each_hstate(h) {
		if (h->order < HVO_MIN_ORDER)
			continue;
		mutex_lock(&h->resize_lock);
		for_each_online_node(nid) {
			long seen = 0, limit = h->free_huge_pages_node[nid];

			/* Each folio goes to the tail once: bounded walk. */
			while (!ret && seen++ < limit &&
			       (folio = hvo_pool_take(h, nid, want))) {
				ret = work(h, folio);
				hvo_pool_put(h, folio);
				done += !ret;
				cond_resched();
			}
		}
		mutex_unlock(&h->resize_lock);
		if (ret)
			break;
	}
	return done;
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

static int hvo_pool_optimize(struct hstate *h, struct folio *folio)
{
	hvo_optimize_folio(h, folio);
	return 0;
}

static int hvo_pool_restore(struct hstate *h, struct folio *folio)
{
	return hvo_restore_folio(h, folio);
}

/* As hvo_pool_restore(), counting the folios this load did not optimize. */
static int hvo_pool_restore_counted(struct hstate *h, struct folio *folio)
{
	bool inherited = !hvo_is_ours(folio);
	int ret = hvo_restore_folio(h, folio);

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
