/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvo_shared: shared-tail HugeTLB Vmemmap Optimization as a loadable module.
 *
 * Internal interfaces between the module's parts. Each part lives in one
 * file under src/ and is named after its job.
 */
#ifndef _HVO_SHARED_H
#define _HVO_SHARED_H

#include <linux/hugetlb.h>
#include <linux/mm_types.h>
#include <linux/nodemask.h>
#include <linux/spinlock.h>

/* Private kernel data the module needs, resolved once at load (symbols.c). */
struct hvo_symbols {
	struct mm_struct *init_mm;
	struct hstate *hstates;
	int *hugetlb_max_hstate;
	spinlock_t *hugetlb_lock;
};

extern struct hvo_symbols hvo_sym;

int hvo_resolve_symbols(void);
int hvo_check_kernel(void);

/* Policy set through module parameters (policy.c). */
bool hvo_policy_wants(unsigned int order, int nid);

/* debugfs reporting (stats.c). */
enum hvo_state {
	HVO_STATE_LOADING,
	HVO_STATE_READY,
	HVO_STATE_UNLOADING,
};

extern enum hvo_state hvo_state;

int hvo_stats_init(void);
void hvo_stats_exit(void);

#endif /* _HVO_SHARED_H */
