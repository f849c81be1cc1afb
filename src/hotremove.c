// SPDX-License-Identifier: GPL-2.0
/*
 * Memory hot-remove, kept away from the split of a free folio's vmemmap.
 *
 * remove_pmd_table() (arch/x86/mm/init_64.c) frees a block of vmemmap
 * before it clears the PMD that maps it, and takes only init_mm's
 * page_table_lock, for the clear: init_mm's mmap lock does not keep it
 * out, nor does anything else hvo_shared holds. A folio hvo_shared holds
 * (a fresh one, through a hook, or one in use, referenced and locked)
 * cannot be offlined meanwhile, and a free one cannot while hugetlb_lock
 * is held. But a free folio's vmemmap PMD is split before that lock is
 * taken, and the split may sleep allocating its table: the memory could
 * be offlined and removed under it, and the split would split_page() a
 * freed block and install a table that the removal then leaks.
 *
 * So splits of free folios run inside hvo_hotremove_hold() and
 * hvo_hotremove_release(), and offline_pages() waits for them at
 * MEM_GOING_OFFLINE, before it dissolves the free folios of the range
 * (dissolve_free_hugetlb_folios()); removal comes after MEM_OFFLINE.
 * Offlining isolates its pageblocks before MEM_GOING_OFFLINE and keeps
 * them isolated until its pages are offline (start_isolate_page_range(),
 * the zone's nr_isolate_pageblock): inside the hold, a folio that is
 * still free in a zone with no isolated pageblock cannot be offlined
 * until the hold ends, and any other is left alone. That also covers an
 * offline that passed MEM_GOING_OFFLINE before the notifier was
 * registered: its isolation is seen.
 */
#include <linux/memory.h>
#include <linux/mmzone.h>
#include <linux/notifier.h>
#include <linux/rwsem.h>

#include "hvo_remap.h"

static DECLARE_RWSEM(hvo_hotremove_rwsem);

/* Around the split of a free folio's vmemmap: offlining waits for it. */
void hvo_hotremove_hold(void)
{
	down_read(&hvo_hotremove_rwsem);
}

void hvo_hotremove_release(void)
{
	up_read(&hvo_hotremove_rwsem);
}

/*
 * Whether memory of @zone is being offlined (or isolated for
 * alloc_contig_range()): its free folios are then left alone. Inside
 * hvo_hotremove_hold().
 */
bool hvo_zone_isolating(struct zone *zone)
{
#ifdef CONFIG_MEMORY_ISOLATION
	return READ_ONCE(zone->nr_isolate_pageblock);
#else
	return false;
#endif
}

/*
 * At MEM_GOING_OFFLINE: wait until no split of a free folio is in flight.
 * A fatal signal backs the offline out, as offline_pages() itself does.
 */
static int hvo_hotremove_notify(struct notifier_block *nb, unsigned long action,
				void *arg)
{
	if (action != MEM_GOING_OFFLINE)
		return NOTIFY_OK;
	if (down_write_killable(&hvo_hotremove_rwsem))
		return notifier_from_errno(-EINTR);
	up_write(&hvo_hotremove_rwsem);
	return NOTIFY_OK;
}

static struct notifier_block hvo_hotremove_nb = {
	.notifier_call = hvo_hotremove_notify,
};

int hvo_hotremove_init(void)
{
	return register_memory_notifier(&hvo_hotremove_nb);
}

void hvo_hotremove_exit(void)
{
	unregister_memory_notifier(&hvo_hotremove_nb);
}
