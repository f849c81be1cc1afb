// SPDX-License-Identifier: GPL-2.0
/*
 * Walking the pools: the free folios of every hstate whose folios can be
 * optimized, on every online node, and its folios in use, one at a time,
 * for the pool actions (actions.c).
 *
 * One cursor does both: under hugetlb_lock it looks at up to
 * HVO_LOOK_BATCH folios from the head of a list, each moved to the tail
 * as it is looked at (folio_putback_hugetlb() does so on the active list),
 * so that each batch starts at folios not yet seen, and the time with
 * interrupts off is bounded by a batch, not by the pool. A budget ends the
 * pass: the node's free count, or the hstate's folios not free, when it
 * began.
 *
 * A free folio is never taken off its free list: it is picked under
 * hugetlb_lock and left last there, where the engine works on it
 * (hvo_optimize_free(), hvo_restore_free()), so that a reservation or a
 * fault can have it at any moment, as without hvo_shared. A folio in use
 * is taken with a reference and its lock, under hugetlb_lock.
 */
#include <linux/hugetlb.h>
#include <linux/mutex.h>
#include <linux/nodemask.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>

#include "hvo_engine.h"
#include "hvo_kernel.h"
#include "hvo_pool.h"

/* One walk at a time: the folios being restored are one batch's (engine.c). */
static DEFINE_MUTEX(hvo_pool_mutex);

/* What a look at one folio decides, under hugetlb_lock. */
enum hvo_look {
	HVO_LOOK_ON,		/* look at the next one */
	HVO_LOOK_FOUND,		/* this one: end the batch */
	HVO_LOOK_STOP,		/* end the batch without one */
};

/* A pass over one list of an hstate: a node's free list, or the active list. */
struct hvo_cursor {
	struct hstate *h;
	struct list_head *list;
	long budget;		/* folios still to look at */
	enum hvo_look (*look)(struct hvo_cursor *c, struct folio *folio);
};

/*
 * One batch: returns the folio @c->look() found, or NULL. The budget drops
 * to 0 when the pass is over.
 */
static struct folio *hvo_cursor_next(struct hvo_cursor *c)
{
	struct folio *folio, *found = NULL;
	enum hvo_look look = HVO_LOOK_ON;
	int i;

	spin_lock_irq(hvo_sym.hugetlb_lock);
	for (i = 0; i < HVO_LOOK_BATCH && c->budget > 0 && !list_empty(c->list); i++) {
		folio = list_first_entry(c->list, struct folio, lru);
		list_move_tail(&folio->lru, c->list);
		c->budget--;
		look = c->look(c, folio);
		if (look != HVO_LOOK_ON)
			break;
	}
	if (look == HVO_LOOK_FOUND)
		found = folio;
	if (list_empty(c->list))
		c->budget = 0;
	spin_unlock_irq(hvo_sym.hugetlb_lock);
	return found;
}

static bool hvo_cursor_done(struct hvo_cursor *c)
{
	return c->budget <= 0 || fatal_signal_pending(current);
}

/* A pass over @nid's free list of @h, from the free count now. */
static void hvo_cursor_free(struct hvo_cursor *c, struct hstate *h, int nid)
{
	c->h = h;
	c->list = &h->hugepage_freelists[nid];
	c->budget = READ_ONCE(h->free_huge_pages_node[nid]);
}

/* A pass over @h's folios in use, from their count now. */
static void hvo_cursor_in_use(struct hvo_cursor *c, struct hstate *h)
{
	c->h = h;
	c->list = &h->hugepage_activelist;
	spin_lock_irq(hvo_sym.hugetlb_lock);
	c->budget = h->nr_huge_pages - h->free_huge_pages;
	spin_unlock_irq(hvo_sym.hugetlb_lock);
}

struct hvo_free_pick {
	struct hvo_cursor c;
	bool (*want)(struct hstate *h, struct folio *folio);
	struct zone *zone;	/* the picked folio's, read under the lock */
};

static enum hvo_look hvo_look_free(struct hvo_cursor *c, struct folio *folio)
{
	struct hvo_free_pick *p = container_of(c, struct hvo_free_pick, c);

	if (folio_test_hwpoison(folio) || !p->want(c->h, folio))
		return HVO_LOOK_ON;
	p->zone = folio_zone(folio);
	return HVO_LOOK_FOUND;
}

/**
 * hvo_pool_walk_free - work on each free folio that @want accepts
 * @want:	under hugetlb_lock, whether to pick a folio
 * @work:	called on each picked folio, left last on its free list, with
 *		the walk's batch, which is ended when the walk is
 *
 * Every hstate that can be optimized, every online node, one folio at a
 * time.
 *
 * Return: how many were worked on (@work returned 0); stops at the first
 * error.
 */
long hvo_pool_walk_free(bool (*want)(struct hstate *h, struct folio *folio),
			    int (*work)(struct hstate *h, int nid,
					struct folio *folio, struct zone *zone,
					struct hvo_batch *b))
{
	struct hvo_free_pick p = { .c.look = hvo_look_free, .want = want };
	struct hvo_batch b = HVO_BATCH_INIT(b);
	struct folio *folio;
	struct hstate *h;
	long done = 0;
	int nid, ret;

	mutex_lock(&hvo_pool_mutex);
	hvo_for_each_hstate(h) {
		/* Orders whose vmemmap is a single page have nothing to share. */
		if (h->order < HVO_MIN_ORDER)
			continue;
		for_each_online_node(nid) {
			hvo_cursor_free(&p.c, h, nid);
			while (!hvo_cursor_done(&p.c)) {
				folio = hvo_cursor_next(&p.c);
				if (folio) {
					ret = work(h, nid, folio, p.zone, &b);
					if (ret < 0)
						goto out;
					done += !ret;
				}
				cond_resched();
			}
		}
	}
out:
	hvo_batch_finish(&b);
	mutex_unlock(&hvo_pool_mutex);
	return done;
}

struct hvo_free_count {
	struct hvo_cursor c;
	bool (*count)(struct folio *folio);
	long n;
};

static enum hvo_look hvo_look_count(struct hvo_cursor *c, struct folio *folio)
{
	struct hvo_free_count *fc = container_of(c, struct hvo_free_count, c);

	fc->n += fc->count(folio);
	return HVO_LOOK_ON;
}

/**
 * hvo_pool_count_free - count the free folios that @count accepts
 * @count:	under hugetlb_lock, whether to count a folio
 */
long hvo_pool_count_free(bool (*count)(struct folio *folio))
{
	struct hvo_free_count fc = { .c.look = hvo_look_count, .count = count };
	struct hstate *h;
	int nid;

	mutex_lock(&hvo_pool_mutex);
	hvo_for_each_hstate(h) {
		/* Orders whose vmemmap is a single page have nothing to share. */
		if (h->order < HVO_MIN_ORDER)
			continue;
		for_each_online_node(nid) {
			hvo_cursor_free(&fc.c, h, nid);
			/* To the end, signal or not: what is left is the answer. */
			while (fc.c.budget > 0) {
				hvo_cursor_next(&fc.c);
				cond_resched();
			}
		}
	}
	mutex_unlock(&hvo_pool_mutex);
	return fc.n;
}

/*
 * Whether @folio's owner has let go of it: neither mapped nor in a page
 * cache (remove_inode_hugepages() deletes it from the cache under its
 * lock, then drops its last references). Such a folio is left alone: a
 * reference taken now could be the last, and free it after its owner's
 * munmap returned, with the pool a folio short until then.
 */
static bool hvo_let_go(struct folio *folio)
{
	return !folio_mapped(folio) && !READ_ONCE(folio->mapping);
}

/**
 * hvo_take_in_use - take a reference on a folio in use, and its lock
 * @folio:	a folio that hvo_in_use_state() allows, under hugetlb_lock
 * @put:	set to @folio if a reference must still be dropped
 *
 * Both are taken under hugetlb_lock, before it is dropped: an owner that
 * lets go of the folio meanwhile waits for the lock to unmap it
 * (remove_inode_hugepages()), and frees it with its own put, after the
 * work, never after its munmap returned. If the lock is busy the
 * reference goes at once, unless it is the last (the holder let go
 * meanwhile): the caller then drops it with folio_put() once hugetlb_lock
 * is released, and outside the engine (the last put may free the folio
 * through a hook).
 *
 * Return: true if taken (locked, referenced), for hvo_adopt_folio() or
 * hvo_restore_in_use(), which let go of both.
 */
static bool hvo_take_in_use(struct folio *folio, struct folio **put)
{
	*put = NULL;
	if (hvo_let_go(folio) || !folio_try_get(folio))
		return false;
	if (folio_trylock(folio)) {
		/* Under its lock, a file folio's mapping is stable. */
		if (!hvo_let_go(folio))
			return true;
		folio_unlock(folio);
	}
	if (!hvo_put_unless_last(folio))
		*put = folio;
	return false;
}

struct hvo_in_use_take {
	struct hvo_cursor c;
	const struct hvo_in_use_walk *w;
	struct folio *put;
};

static enum hvo_look hvo_look_in_use(struct hvo_cursor *c, struct folio *folio)
{
	struct hvo_in_use_take *t = container_of(c, struct hvo_in_use_take, c);

	if (!t->w->pick(c->h, folio))
		return HVO_LOOK_ON;
	if (hvo_take_in_use(folio, &t->put))
		return HVO_LOOK_FOUND;
	atomic_long_inc(t->w->busy);
	return t->put ? HVO_LOOK_STOP : HVO_LOOK_ON;
}

/**
 * hvo_pool_walk_in_use - run @w over each folio in use, once
 * @w:	what to pick, and the work on each taken
 *
 * One folio at a time: a folio held while others were worked on would
 * keep its owner's munmap waiting for its lock all that time.
 */
void hvo_pool_walk_in_use(const struct hvo_in_use_walk *w)
{
	struct hvo_in_use_take t = { .c.look = hvo_look_in_use, .w = w };
	struct folio *folio;
	struct hstate *h;
	struct hvo_batch b = HVO_BATCH_INIT(b);

	mutex_lock(&hvo_pool_mutex);
	hvo_for_each_hstate(h) {
		if (h->order < HVO_MIN_ORDER)
			continue;
		hvo_cursor_in_use(&t.c, h);
		while (!hvo_cursor_done(&t.c)) {
			folio = hvo_cursor_next(&t.c);
			if (t.put) {
				folio_put(t.put);
				t.put = NULL;
			}
			/* ->work() drops the reference. */
			if (folio)
				w->work(h, folio, &b);
			cond_resched();
		}
	}
	hvo_batch_finish(&b);
	mutex_unlock(&hvo_pool_mutex);
}

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
 * Take one given folio, if it is in use and may be taken. Returns its
 * hstate, with @folio locked and referenced as hvo_pool_walk_in_use()
 * gives it to ->work(); or NULL if it is free, in transit, still its
 * owner's, or let go.
 */
static struct hstate *hvo_pool_take(struct folio *folio)
{
	struct folio *put = NULL;
	struct hstate *h;

	spin_lock_irq(hvo_sym.hugetlb_lock);
	/*
	 * Still recorded: not restored on its way out of hugetlb, so not
	 * freed, which takes hugetlb_lock after the restore; only then may
	 * its struct page be read (its memory could be gone otherwise).
	 */
	h = hvo_is_ours(folio) && hvo_in_use_state(folio) != HVO_SKIP_ISOLATED ?
	    hvo_hstate_of(folio) : NULL;
	if (h && !hvo_take_in_use(folio, &put))
		h = NULL;
	spin_unlock_irq(hvo_sym.hugetlb_lock);
	if (put)
		folio_put(put);
	return h;
}

/**
 * hvo_pool_walk_ours - run @w->work over each folio hvo_shared optimized
 * @w:	->work() on each that is in use and could be taken, as
 *	hvo_pool_walk_in_use() runs it; ->pick is not used
 *
 * By the engine's record, in PFN order; a folio that is free, in
 * transit, or still its owner's is counted in @w->busy and left.
 */
void hvo_pool_walk_ours(const struct hvo_in_use_walk *w)
{
	struct folio *folio;
	struct hstate *h;
	unsigned long pfn;
	struct hvo_batch b = HVO_BATCH_INIT(b);

	mutex_lock(&hvo_pool_mutex);
	for (pfn = 0; hvo_next_ours(&pfn); pfn++) {
		folio = pfn_folio(pfn);
		h = hvo_pool_take(folio);
		if (h)
			w->work(h, folio, &b);
		else
			atomic_long_inc(w->busy);
		if (fatal_signal_pending(current))
			break;
		cond_resched();
	}
	hvo_batch_finish(&b);
	mutex_unlock(&hvo_pool_mutex);
}
