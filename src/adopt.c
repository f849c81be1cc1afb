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

#define HVO_ADOPT_BATCH	16

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

/*
 * Why @folio, in use, cannot be adopted now, or HVO_ADOPTED. Under
 * hugetlb_lock, which the migratable, temporary and hwpoison states
 * change under.
 */
static enum hvo_adopt_skip hvo_adopt_state(struct folio *folio)
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
 * reads on a tail: nothing folio-specific (a raw hwpoison flag, say)
 * would be lost by sharing.
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

/**
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
int hvo_adopt_claim(struct folio *folio, struct page *tail)
{
	enum hvo_adopt_skip why;

	spin_lock_irq(hvo_sym.hugetlb_lock);
	why = hvo_adopt_state(folio);
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
 * @work runs on each taken folio, with a reference and without the lock;
 * @busy counts a picked folio whose refcount was already 0 (being freed).
 */
struct hvo_in_use_walk {
	bool (*pick)(struct hstate *h, struct folio *folio);
	void (*work)(struct hstate *h, struct folio *folio);
	atomic_long_t *busy;
};

/*
 * Take up to @max folios in use from @h's active list that @w picks, each
 * with a reference, moving each looked-at folio to the list's tail (as
 * folio_putback_hugetlb() does) so that the next call sees the others.
 * @budget bounds the folios looked at in all. Returns how many were taken.
 */
static int hvo_in_use_take(struct hstate *h, const struct hvo_in_use_walk *w,
			   struct folio **batch, int max, long *budget)
{
	struct folio *folio, *next;
	int n = 0;

	spin_lock_irq(hvo_sym.hugetlb_lock);
	list_for_each_entry_safe(folio, next, &h->hugepage_activelist, lru) {
		if (n == max || *budget <= 0)
			break;
		--*budget;
		list_move_tail(&folio->lru, &h->hugepage_activelist);
		if (!w->pick(h, folio))
			continue;
		if (folio_try_get(folio))
			batch[n++] = folio;
		else
			atomic_long_inc(w->busy);
	}
	if (list_empty(&h->hugepage_activelist))
		*budget = 0;
	spin_unlock_irq(hvo_sym.hugetlb_lock);
	return n;
}

/* Run @w over each of @h's folios in use, once. */
static void hvo_in_use_walk(struct hstate *h, const struct hvo_in_use_walk *w)
{
	struct folio *batch[HVO_ADOPT_BATCH];
	long budget;
	int i, n;

	spin_lock_irq(hvo_sym.hugetlb_lock);
	budget = h->nr_huge_pages - h->free_huge_pages;
	spin_unlock_irq(hvo_sym.hugetlb_lock);

	while (budget > 0 && !fatal_signal_pending(current)) {
		n = hvo_in_use_take(h, w, batch, ARRAY_SIZE(batch), &budget);
		for (i = 0; i < n; i++) {
			w->work(h, batch[i]);
			/* Outside the engine: the last put may free it. */
			folio_put(batch[i]);
			cond_resched();
		}
	}
}

static bool hvo_adopt_pick(struct hstate *h, struct folio *folio)
{
	enum hvo_adopt_skip why;

	if (!hvo_should_optimize(h, folio))
		return false;
	why = hvo_adopt_state(folio);
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
 * Restore @folio, in use and referenced, and count how it went. One found
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
	struct hstate *h;
	struct folio *folio;
	unsigned long pfn;

	/* Free folios were given back first; the rest is in use or in transit. */
	for (pfn = 0; hvo_next_ours(&pfn); pfn++) {
		folio = pfn_folio(pfn);
		spin_lock_irq(hvo_sym.hugetlb_lock);
		h = folio_test_hugetlb(folio) ? hvo_hstate_of(folio) : NULL;
		if (!h || !folio_try_get(folio)) {
			spin_unlock_irq(hvo_sym.hugetlb_lock);
			atomic_long_inc(&hvo_adopt_totals.restore_busy);
			continue;
		}
		spin_unlock_irq(hvo_sym.hugetlb_lock);

		hvo_restore_count(h, folio);
		folio_put(folio);
		if (fatal_signal_pending(current))
			break;
		cond_resched();
	}
}

/*
 * Folios in use optimized by an earlier load or the kernel's HVO: this
 * load's are all restored or left in hvo_folios by now.
 */
static bool hvo_inherited_pick(struct hstate *h, struct folio *folio)
{
	return folio_test_hugetlb_vmemmap_optimized(folio) && !hvo_is_ours(folio);
}

static void hvo_inherited_work(struct hstate *h, struct folio *folio)
{
	if (!hvo_restore_count(h, folio))
		atomic_long_inc(&hvo_adopt_totals.restore_inherited);
}

static const struct hvo_in_use_walk hvo_inherited_walk = {
	.pick	= hvo_inherited_pick,
	.work	= hvo_inherited_work,
	.busy	= &hvo_adopt_totals.restore_busy,
};

/*
 * Optimized folios restore-all did not restore: this load's, and the
 * others on the pools' free and active lists. Folios isolated for
 * migration are on neither list; the kernel restores those when it
 * frees them.
 */
static long hvo_restore_left(void)
{
	long left = hvo_count_ours();
	struct hstate *h;
	struct folio *folio;
	int nid;

	hvo_for_each_hstate(h) {
		spin_lock_irq(hvo_sym.hugetlb_lock);
		list_for_each_entry(folio, &h->hugepage_activelist, lru)
			left += hvo_inherited_pick(h, folio);
		for_each_online_node(nid)
			list_for_each_entry(folio, &h->hugepage_freelists[nid], lru)
				left += hvo_inherited_pick(h, folio);
		spin_unlock_irq(hvo_sym.hugetlb_lock);
	}
	return left;
}

/* Run @fn with adopt and restore serialized, unless the module is going. */
static int hvo_adopt_run(void (*fn)(void))
{
	mutex_lock(&hvo_adopt_mutex);
	if (hvo_adopt_closed || READ_ONCE(hvo_state) != HVO_STATE_ACTIVE) {
		mutex_unlock(&hvo_adopt_mutex);
		return -ENODEV;
	}
	fn();
	mutex_unlock(&hvo_adopt_mutex);
	return 0;
}

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

static long hvo_restore_all_left;

static void hvo_restore_all(void)
{
	long before = atomic_long_read(&hvo_adopt_totals.restored);
	long inherited = atomic_long_read(&hvo_adopt_totals.restore_inherited);
	long n = hvo_pool_restore_all_free();
	struct hstate *h;

	atomic_long_add(n, &hvo_adopt_totals.restored);
	hvo_restore_all_in_use();
	hvo_for_each_hstate(h)
		if (h->order >= HVO_MIN_ORDER)
			hvo_in_use_walk(h, &hvo_inherited_walk);
	hvo_restore_all_left = hvo_restore_left();
	pr_info("restore: %ld free and %ld in use restored (%ld inherited), %ld left\n",
		n, atomic_long_read(&hvo_adopt_totals.restored) - before - n,
		atomic_long_read(&hvo_adopt_totals.restore_inherited) - inherited,
		hvo_restore_all_left);
}

static int hvo_adopt_trigger(const char *val, void (*fn)(void), const char *name)
{
	int ret;

	if (!sysfs_streq(val, "1")) {
		pr_err("%s='%.*s': write 1 to run it\n", name, (int)strcspn(val, "\n"), val);
		return -EINVAL;
	}
	ret = hvo_adopt_run(fn);
	if (ret)
		pr_err("%s: the module is unloading\n", name);
	return ret;
}

static int hvo_adopt_set(const char *val, const struct kernel_param *kp)
{
	return hvo_adopt_trigger(val, hvo_adopt_all, "adopt");
}

static int hvo_restore_set(const char *val, const struct kernel_param *kp)
{
	int ret = hvo_adopt_trigger(val, hvo_restore_all, "restore");

	/* What is left (no memory, or busy) is retried by another write. */
	return ret ? ret : READ_ONCE(hvo_restore_all_left) ? -ENOMEM : 0;
}

static const struct kernel_param_ops hvo_adopt_ops = { .set = hvo_adopt_set };
static const struct kernel_param_ops hvo_restore_ops = { .set = hvo_restore_set };
module_param_cb(adopt, &hvo_adopt_ops, NULL, 0200);
MODULE_PARM_DESC(adopt, "write 1: optimize the free folios and those in use that the policy wants");
module_param_cb(restore, &hvo_restore_ops, NULL, 0200);
MODULE_PARM_DESC(restore, "write 1: restore every optimized folio, free or in use");

/* Called first at unload: waits for a running adopt or restore. */
void hvo_adopt_exit(void)
{
	mutex_lock(&hvo_adopt_mutex);
	hvo_adopt_closed = true;
	mutex_unlock(&hvo_adopt_mutex);
}
