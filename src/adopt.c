// SPDX-License-Identifier: GPL-2.0
/*
 * Adopt and restore on demand, through module parameters (which work
 * under lockdown, unlike debugfs):
 *
 *   echo 1 > /sys/module/hvo_shared/parameters/adopt
 *	optimize what the hstates=/nodes= policy wants: the free folios,
 *	then the folios in use (mapped, pinned or not);
 *   echo 1 > /sys/module/hvo_shared/parameters/restore
 *	give every optimized folio, free or in use, its vmemmap back: those
 *	this load optimized, and those an earlier load or the kernel's HVO
 *	left (counted as inherited: nothing tells them apart); fails with
 *	ENOMEM if some could not be, which a later write retries.
 *
 * Why a folio in use can be optimized, and in which order, is argued in
 * docs/safety.md (adopting folios in use). Folios that cannot be adopted
 * at that moment are skipped and counted by reason (stats adopt_skipped.*).
 */
#include <linux/hugetlb.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/string.h>
#include <linux/sched/signal.h>

#include "hvo_shared.h"

struct hvo_adopt_totals hvo_adopt_totals;

/* One adopt or restore at a time; unload waits for it (hvo_adopt_exit()). */
static DEFINE_MUTEX(hvo_adopt_mutex);
static bool hvo_adopt_closed;

static const char *const hvo_skip_names[HVO_SKIP_NR] = {
	[HVO_ADOPTED]		= "adopted",
	[HVO_SKIP_ISOLATED]	= "isolated",
	[HVO_SKIP_BUSY]		= "busy",
	[HVO_SKIP_HWPOISON]	= "hwpoison",
	[HVO_SKIP_TEMPORARY]	= "temporary",
	[HVO_SKIP_DIRTY_TAILS]	= "dirty_tails",
	[HVO_SKIP_HEAD_COPY]	= "head_copy",
	[HVO_SKIP_SELF_HOSTED]	= "self_hosted",
	[HVO_SKIP_OPTIMIZED]	= "optimized",
};

const char *hvo_adopt_skip_name(enum hvo_adopt_skip why)
{
	return hvo_skip_names[why];
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

/*
 * What a walk of the folios in use does: @pick says, under hugetlb_lock,
 * whether to take a folio (and counts why not, if that is worth a count);
 * @work runs on each taken folio, locked and referenced, and lets go of
 * both (hvo_adopt_folio(), hvo_restore_in_use()); @busy counts a picked
 * folio that could not be taken: its refcount was 0 (being freed), or its
 * lock held.
 */
struct hvo_in_use_walk {
	bool (*pick)(struct hstate *h, struct folio *folio);
	void (*work)(struct hstate *h, struct folio *folio);
	atomic_long_t *busy;
};

/*
 * Take the next folio in use from @h's active list that @w picks, locked
 * and referenced (hvo_take_in_use()): look at up to HVO_LOOK_BATCH folios
 * from the head, each moved to the tail as folio_putback_hugetlb() does,
 * so that the next call sees others. @budget counts the folios looked
 * at. One folio at a time: a folio held while others were worked on
 * would keep its owner's munmap waiting for its lock all that time.
 */
static struct folio *hvo_in_use_take(struct hstate *h,
				     const struct hvo_in_use_walk *w,
				     long *budget)
{
	struct list_head *list = &h->hugepage_activelist;
	struct folio *folio, *taken = NULL, *put = NULL;
	int i;

	spin_lock_irq(hvo_sym.hugetlb_lock);
	for (i = 0; i < HVO_LOOK_BATCH && *budget > 0 && !list_empty(list); i++) {
		folio = list_first_entry(list, struct folio, lru);
		list_move_tail(&folio->lru, list);
		--*budget;
		if (!w->pick(h, folio))
			continue;
		if (hvo_take_in_use(folio, &put)) {
			taken = folio;
			break;
		}
		atomic_long_inc(w->busy);
		if (put)
			break;
	}
	if (list_empty(list))
		*budget = 0;
	spin_unlock_irq(hvo_sym.hugetlb_lock);
	if (put)
		folio_put(put);
	return taken;
}

/* Run @w over each of @h's folios in use, once. */
static void hvo_in_use_walk(struct hstate *h, const struct hvo_in_use_walk *w)
{
	struct folio *folio;
	long budget;

	spin_lock_irq(hvo_sym.hugetlb_lock);
	budget = h->nr_huge_pages - h->free_huge_pages;
	spin_unlock_irq(hvo_sym.hugetlb_lock);

	while (budget > 0 && !fatal_signal_pending(current)) {
		folio = hvo_in_use_take(h, w, &budget);
		/* ->work() drops the reference. */
		if (folio)
			w->work(h, folio);
		cond_resched();
	}
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

static void hvo_adopt_work(struct hstate *h, struct folio *folio)
{
	hvo_adopt_count(hvo_adopt_folio(h, folio));
}

static const struct hvo_in_use_walk hvo_adopt_walk = {
	.pick	= hvo_adopt_pick,
	.work	= hvo_adopt_work,
	.busy	= &hvo_adopt_totals.skipped[HVO_SKIP_BUSY],
};

/* The hstate of @folio's order (folio_hstate() calls an unexported one). */
static struct hstate *hvo_hstate_of(struct folio *folio)
{
	struct hstate *h;

	hvo_for_each_hstate(h)
		if (h->order == folio_order(folio))
			return h;
	return NULL;
}

/*
 * Restore @folio, in use, and count how it went; the caller's reference is
 * dropped (hvo_restore_in_use()). One found
 * whole already is neither restored nor busy: nothing is counted.
 */
static int hvo_restore_count(struct hstate *h, struct folio *folio)
{
	int ret = hvo_restore_in_use(h, folio);

	if (ret < 0)
		atomic_long_inc(&hvo_adopt_totals.restore_failed);
	else if (ret == HVO_SKIP_BUSY)
		atomic_long_inc(&hvo_adopt_totals.restore_busy);
	else if (!ret)
		atomic_long_inc(&hvo_adopt_totals.restored);
	return ret;
}

/* Restore every folio in use that this load optimized. */
static void hvo_restore_all_in_use(void)
{
	struct folio *folio, *put;
	struct hstate *h;
	unsigned long pfn;

	/* Free folios were given back first; the rest is in use or in transit. */
	for (pfn = 0; hvo_next_ours(&pfn); pfn++) {
		folio = pfn_folio(pfn);
		spin_lock_irq(hvo_sym.hugetlb_lock);
		/* Free, in transit, or still its owner's: left (busy). */
		h = hvo_in_use_state(folio) != HVO_SKIP_ISOLATED ?
		    hvo_hstate_of(folio) : NULL;
		if (!h || !hvo_take_in_use(folio, &put)) {
			spin_unlock_irq(hvo_sym.hugetlb_lock);
			atomic_long_inc(&hvo_adopt_totals.restore_busy);
			if (put)
				folio_put(put);
			continue;
		}
		spin_unlock_irq(hvo_sym.hugetlb_lock);

		hvo_restore_count(h, folio);
		if (fatal_signal_pending(current))
			break;
		cond_resched();
	}
}

/*
 * Inherited folios in use that the walk saw and did not restore: busy,
 * still their owner's, or no memory. Under hvo_adopt_mutex.
 */
static long hvo_inherited_left;

/*
 * Folios in use optimized by an earlier load or the kernel's HVO: this
 * load's are all restored or left in hvo_folios by now.
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

static void hvo_inherited_work(struct hstate *h, struct folio *folio)
{
	int ret = hvo_restore_count(h, folio);

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

enum {
	HVO_RUN_ADOPT	= BIT(0),
	HVO_RUN_RESTORE	= BIT(1),
};

static void hvo_adopt_all(void)
{
	long before = atomic_long_read(&hvo_adopt_totals.adopted);
	struct hstate *h;
	long n;

	n = hvo_pool_optimize_free();
	hvo_for_each_hstate(h)
		if (h->order >= HVO_MIN_ORDER)
			hvo_in_use_walk(h, &hvo_adopt_walk);
	pr_info("adopt: %ld free folios optimized, %ld in use adopted\n", n,
		atomic_long_read(&hvo_adopt_totals.adopted) - before);
}

/*
 * Restore every optimized folio, free first, then in use. Returns how
 * many are left optimized: this load's still listed, and the others seen
 * on the pools' free and active lists. Folios isolated for migration are
 * on neither list; the kernel restores those when it frees them.
 */
static long hvo_restore_all(void)
{
	long before = atomic_long_read(&hvo_adopt_totals.restored);
	long inherited = atomic_long_read(&hvo_adopt_totals.restore_inherited);
	long n = hvo_pool_restore_all_free();
	struct hstate *h;
	long left;

	atomic_long_add(n, &hvo_adopt_totals.restored);
	hvo_restore_all_in_use();
	hvo_inherited_left = 0;
	hvo_for_each_hstate(h)
		if (h->order >= HVO_MIN_ORDER)
			hvo_in_use_walk(h, &hvo_inherited_walk);
	left = hvo_count_ours() + hvo_pool_count_left() + hvo_inherited_left;
	pr_info("restore: %ld free and %ld in use restored (%ld inherited), %ld left\n",
		n, atomic_long_read(&hvo_adopt_totals.restored) - before - n,
		atomic_long_read(&hvo_adopt_totals.restore_inherited) - inherited,
		left);
	return left;
}

/*
 * Requests made at load (modprobe hvo_shared adopt=1, or options in
 * /etc/modprobe.d), before the module is active: hvo_adopt_start() runs
 * them. Under hvo_adopt_mutex.
 */
static unsigned int hvo_adopt_pending;
/* The request running, for reads of the parameters. */
static unsigned int hvo_adopt_running;

/* Run @what, with hvo_adopt_mutex held. */
static int hvo_adopt_do(unsigned int what)
{
	int ret = 0;

	WRITE_ONCE(hvo_adopt_running, what);
	if (what & HVO_RUN_ADOPT)
		hvo_adopt_all();
	/* What is left (no memory, or busy) is retried by another write. */
	if ((what & HVO_RUN_RESTORE) && hvo_restore_all())
		ret = -ENOMEM;
	WRITE_ONCE(hvo_adopt_running, 0);
	return ret;
}

/*
 * A write of 1 to adopt or restore. Before the module is active (a
 * parameter given at load) it is kept for hvo_adopt_start(). Otherwise it
 * runs now, outside the module's parameter lock, which the caller holds:
 * a run takes minutes on a big pool, and every read or write of another
 * parameter would wait for it. One run at a time; another write meanwhile
 * fails at once with EBUSY.
 */
static int hvo_adopt_trigger(const char *val, unsigned int what, const char *name)
{
	int ret;

	if (!sysfs_streq(val, "1")) {
		pr_err("%s='%.*s': write 1 to run it\n", name, (int)strcspn(val, "\n"), val);
		return -EINVAL;
	}
	/* hvo_adopt_start() sets the module active under the mutex. */
	if (READ_ONCE(hvo_state) == HVO_STATE_LOADING) {
		mutex_lock(&hvo_adopt_mutex);
		if (hvo_state == HVO_STATE_LOADING) {
			hvo_adopt_pending |= what;
			mutex_unlock(&hvo_adopt_mutex);
			return 0;
		}
		mutex_unlock(&hvo_adopt_mutex);
	}

	kernel_param_unlock(THIS_MODULE);
	if (!mutex_trylock(&hvo_adopt_mutex)) {
		pr_err("%s: an adopt or restore is running\n", name);
		ret = -EBUSY;
	} else {
		if (hvo_adopt_closed) {
			pr_err("%s: the module is unloading\n", name);
			ret = -ENODEV;
		} else {
			ret = hvo_adopt_do(what);
		}
		mutex_unlock(&hvo_adopt_mutex);
	}
	kernel_param_lock(THIS_MODULE);
	return ret;
}

static int hvo_adopt_set(const char *val, const struct kernel_param *kp)
{
	return hvo_adopt_trigger(val, HVO_RUN_ADOPT, "adopt");
}

static int hvo_restore_set(const char *val, const struct kernel_param *kp)
{
	return hvo_adopt_trigger(val, HVO_RUN_RESTORE, "restore");
}

/* Reads 1 while that run is in progress, else 0. */
static int hvo_adopt_get(char *buffer, const struct kernel_param *kp)
{
	unsigned int what = (unsigned long)kp->arg;

	return sysfs_emit(buffer, "%d\n", !!(READ_ONCE(hvo_adopt_running) & what));
}

static const struct kernel_param_ops hvo_adopt_ops = {
	.set = hvo_adopt_set,
	.get = hvo_adopt_get,
};
static const struct kernel_param_ops hvo_restore_ops = {
	.set = hvo_restore_set,
	.get = hvo_adopt_get,
};
module_param_cb(adopt, &hvo_adopt_ops, (void *)HVO_RUN_ADOPT, 0644);
MODULE_PARM_DESC(adopt, "write 1: optimize the free folios and those in use that the policy wants (at load: once active); reads 1 while running");
module_param_cb(restore, &hvo_restore_ops, (void *)HVO_RUN_RESTORE, 0644);
MODULE_PARM_DESC(restore, "write 1: restore every optimized folio, free or in use (at load: once active); reads 1 while running");

/**
 * hvo_adopt_start - the module is active: run what was asked for at load
 *
 * Called by hvo_shared_init() once the hooks are in and the free pools
 * taken over. A failure (no memory for every restore) is logged, and does
 * not fail the load: another write retries.
 */
void hvo_adopt_start(void)
{
	unsigned int what;

	mutex_lock(&hvo_adopt_mutex);
	WRITE_ONCE(hvo_state, HVO_STATE_ACTIVE);
	what = hvo_adopt_pending;
	hvo_adopt_pending = 0;
	if (what && hvo_adopt_do(what))
		pr_warn("restore at load: some folios left optimized; write 1 to restore to retry\n");
	mutex_unlock(&hvo_adopt_mutex);
}

/* Called first at unload: waits for a running adopt or restore. */
void hvo_adopt_exit(void)
{
	mutex_lock(&hvo_adopt_mutex);
	hvo_adopt_closed = true;
	mutex_unlock(&hvo_adopt_mutex);
}
