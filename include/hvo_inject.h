/* SPDX-License-Identifier: GPL-2.0 */
/* Fault injection for the test suite (inject.c). */
#ifndef _HVO_INJECT_H
#define _HVO_INJECT_H

#include <linux/atomic.h>

enum hvo_inject_site {
	/* Allocation sites: the allocation fails. */
	HVO_INJECT_PTE_TABLE,
	HVO_INJECT_HEAD_COPY,
	HVO_INJECT_SHARED_TAIL,
	HVO_INJECT_XARRAY,
	HVO_INJECT_RESTORE_PAGES,
	HVO_INJECT_RESTORE_BLOCK,	/* restore falls back to pages */
	HVO_INJECT_RESTORE_FILL,	/* restore copies instead of filling */
	/* Between a PMD split and its TLB flush: spins. */
	HVO_INJECT_SPLIT_FLUSH,
	/* Before a PMD split takes init_mm's page_table_lock: sleeps. */
	HVO_INJECT_SPLIT_ALLOC,
	/* Before a batch's TLB flush: sleeps. */
	HVO_INJECT_BATCH_FLUSH,
	/* Unload windows: the task spins there (or sleeps, inside). */
	HVO_INJECT_DELAY_ENTER,
	HVO_INJECT_SLEEP_INSIDE,
	HVO_INJECT_DELAY_EXIT,
	/* Between two hooks, at load and unload: sleeps. */
	HVO_INJECT_HOOK_GAP,
	HVO_INJECT_NR
};

extern atomic_long_t hvo_injected[HVO_INJECT_NR];

bool hvo_inject_fail(enum hvo_inject_site site);
void hvo_inject_delay(enum hvo_inject_site site);
const char *hvo_inject_name(enum hvo_inject_site site);

#endif /* _HVO_INJECT_H */
