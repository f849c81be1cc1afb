// SPDX-License-Identifier: GPL-2.0
/*
 * Whole-pool actions, each a walk of the pools (pool.c) that hands folios
 * to the engine one at a time:
 *
 *  - takeover, at load (takeover=1, the default): optimize the free folios
 *    already in the pools that the hstates=/nodes= policy wants;
 *  - giveback, at unload (giveback=1): restore the free folios this load
 *    optimized;
 *  - adopt, on demand (control.c): the free folios, then the folios in use
 *    (mapped, pinned or not);
 *  - restore-all, on demand: every optimized folio, free or in use, this
 *    load's and those an earlier load or the kernel's HVO left (counted as
 *    inherited: nothing tells them apart).
 *
 * Why a folio in use can be optimized, and in which order, is argued in
 * docs/safety.md (adopting folios in use). Folios that cannot be adopted
 * at that moment are skipped and counted by reason (stats adopt_skipped.*).
 * Adopt and restore-all run one at a time (control.c); takeover runs
 * before either can, giveback after.
 */
#include <linux/hugetlb.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>

#include "hvo_actions.h"
#include "hvo_engine.h"
#include "hvo_pool.h"

static bool hvo_takeover = true;
module_param_named(takeover, hvo_takeover, bool, 0444);
MODULE_PARM_DESC(takeover, "optimize the free folios already in the pools at load (default: Y)");

static bool hvo_giveback;
module_param_named(giveback, hvo_giveback, bool, 0644);
MODULE_PARM_DESC(giveback, "restore the free optimized folios before unload (default: N)");

static bool hvo_free_wants_optimize(struct hstate *h, struct folio *folio)
{
	return hvo_should_optimize(h, folio);
}

static bool hvo_free_wants_restore(struct hstate *h, struct folio *folio)
{
	return hvo_is_ours(folio);
}

static bool hvo_free_wants_restore_any(struct hstate *h, struct folio *folio)
{
	return folio_test_hugetlb_vmemmap_optimized(folio);
}

/* Count a free folio that was not optimized, by reason, as adopt does. */
static int hvo_free_optimize(struct hstate *h, int nid, struct folio *folio,
			     struct zone *zone, struct hvo_batch *b)
{
	int ret = hvo_optimize_free(h, nid, folio, zone, b);

	if (ret > 0 && ret != HVO_SKIP_OPTIMIZED)
		atomic_long_inc(&hvo_adopt_totals.skipped[ret]);
	/* Best effort, as the kernel's HVO: the next folio may do. */
	return ret < 0 ? 1 : ret;
}

/* As hvo_restore_free(), counting the folios this load did not optimize. */
static int hvo_free_restore_counted(struct hstate *h, int nid,
				    struct folio *folio, struct zone *zone,
				    struct hvo_batch *b)
{
	bool inherited = !hvo_is_ours(folio);
	int ret = hvo_restore_free(h, nid, folio, zone, b);

	if (!ret && inherited)
		atomic_long_inc(&hvo_adopt_totals.restore_inherited);
	return ret;
}

/* Optimize the free folios the policy wants; returns how many. */
static long hvo_optimize_all_free(void)
{
	return hvo_pool_walk_free(hvo_free_wants_optimize, hvo_free_optimize);
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
	n = hvo_optimize_all_free();
	if (n)
		pr_info("took over %ld free folios\n", n);
}

/**
 * hvo_pool_giveback - restore the free folios hvo_shared optimized
 *
 * Only with giveback=1; stops at the first that cannot be restored.
 * Folios in use stay optimized; the kernel's HVO restores them when they
 * are freed.
 */
void hvo_pool_giveback(void)
{
	long n;

	if (!hvo_giveback)
		return;
	n = hvo_pool_walk_free(hvo_free_wants_restore, hvo_restore_free);
	if (n)
		pr_info("gave back %ld free folios\n", n);
}

static void hvo_adopt_count(int ret)
{
	if (ret < 0)
		atomic_long_inc(&hvo_adopt_totals.failed);
	else if (ret == HVO_ADOPTED)
		atomic_long_inc(&hvo_adopt_totals.adopted);
	else
		atomic_long_inc(&hvo_adopt_totals.skipped[ret]);
}

static bool hvo_adopt_pick(struct hstate *h, struct folio *folio)
{
	enum hvo_adopt_skip why;

	if (!hvo_should_optimize(h, folio))
		return false;
	why = hvo_in_use_state(folio);
	if (why != HVO_ADOPTED)
		hvo_adopt_count(why);
	return why == HVO_ADOPTED;
}

static void hvo_adopt_work(struct hstate *h, struct folio *folio,
			   struct hvo_batch *b)
{
	hvo_adopt_count(hvo_adopt_folio(h, folio, b));
}

static const struct hvo_in_use_walk hvo_adopt_walk = {
	.pick	= hvo_adopt_pick,
	.work	= hvo_adopt_work,
	.busy	= &hvo_adopt_totals.skipped[HVO_SKIP_BUSY],
};

/**
 * hvo_adopt_all - optimize the free folios, then those in use
 *
 * Both as the hstates=/nodes= policy wants.
 */
void hvo_adopt_all(void)
{
	long before = atomic_long_read(&hvo_adopt_totals.adopted);
	long n;

	n = hvo_optimize_all_free();
	hvo_pool_walk_in_use(&hvo_adopt_walk);
	pr_info("adopt: %ld free folios optimized, %ld in use adopted\n", n,
		atomic_long_read(&hvo_adopt_totals.adopted) - before);
}

/*
 * Restore @folio, in use, and count how it went; the caller's reference is
 * dropped (hvo_restore_in_use()). One found whole already is neither
 * restored nor busy: nothing is counted.
 */
static int hvo_restore_count(struct hstate *h, struct folio *folio,
			     struct hvo_batch *b)
{
	int ret = hvo_restore_in_use(h, folio, b);

	if (ret < 0)
		atomic_long_inc(&hvo_adopt_totals.restore_failed);
	else if (ret == HVO_SKIP_BUSY)
		atomic_long_inc(&hvo_adopt_totals.restore_busy);
	else if (!ret)
		atomic_long_inc(&hvo_adopt_totals.restored);
	return ret;
}

static void hvo_restore_work(struct hstate *h, struct folio *folio,
			     struct hvo_batch *b)
{
	hvo_restore_count(h, folio, b);
}

/* Free folios were given back first; the rest is in use or in transit. */
static const struct hvo_in_use_walk hvo_restore_ours_walk = {
	.work	= hvo_restore_work,
	.busy	= &hvo_adopt_totals.restore_busy,
};

/*
 * Inherited folios in use that the walk saw and did not restore: busy,
 * still their owner's, or no memory. Under control.c's mutex.
 */
static long hvo_inherited_left;

/*
 * Folios in use optimized by an earlier load or the kernel's HVO: this
 * load's are all restored, or still in the engine's record, by now.
 */
static bool hvo_inherited_pick(struct hstate *h, struct folio *folio)
{
	if (!folio_test_hugetlb_vmemmap_optimized(folio) || hvo_is_ours(folio))
		return false;
	hvo_inherited_left++;
	if (hvo_in_use_state(folio) != HVO_SKIP_ISOLATED)
		return true;
	atomic_long_inc(&hvo_adopt_totals.restore_busy);
	return false;
}

static void hvo_inherited_work(struct hstate *h, struct folio *folio,
			       struct hvo_batch *b)
{
	int ret = hvo_restore_count(h, folio, b);

	/* Restored, or found whole already: not left. */
	if (!ret || ret == HVO_SKIP_OPTIMIZED)
		hvo_inherited_left--;
	if (!ret)
		atomic_long_inc(&hvo_adopt_totals.restore_inherited);
}

static const struct hvo_in_use_walk hvo_inherited_walk = {
	.pick	= hvo_inherited_pick,
	.work	= hvo_inherited_work,
	.busy	= &hvo_adopt_totals.restore_busy,
};

/* A free folio still optimized that is not this load's. */
static bool hvo_free_inherited(struct folio *folio)
{
	return folio_test_hugetlb_vmemmap_optimized(folio) && !hvo_is_ours(folio);
}

/**
 * hvo_restore_all - restore every optimized folio, free first, then in use
 *
 * Return: how many are left optimized: this load's still listed, and the
 * others seen on the pools' free and active lists. Folios isolated for
 * migration are on neither list; the kernel restores those when it frees
 * them.
 */
long hvo_restore_all(void)
{
	long before = atomic_long_read(&hvo_adopt_totals.restored);
	long inherited = atomic_long_read(&hvo_adopt_totals.restore_inherited);
	long n, left;

	n = hvo_pool_walk_free(hvo_free_wants_restore_any,
				   hvo_free_restore_counted);
	atomic_long_add(n, &hvo_adopt_totals.restored);
	hvo_pool_walk_ours(&hvo_restore_ours_walk);
	hvo_inherited_left = 0;
	hvo_pool_walk_in_use(&hvo_inherited_walk);
	left = hvo_count_ours() + hvo_pool_count_free(hvo_free_inherited) +
	       hvo_inherited_left;
	pr_info("restore: %ld free and %ld in use restored (%ld inherited), %ld left\n",
		n, atomic_long_read(&hvo_adopt_totals.restored) - before - n,
		atomic_long_read(&hvo_adopt_totals.restore_inherited) - inherited,
		left);
	return left;
}
