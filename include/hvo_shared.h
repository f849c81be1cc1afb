/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvo_shared: shared-tail HugeTLB Vmemmap Optimization as a loadable module.
 *
 * Internal interfaces between the module's parts. Each part lives in one
 * file under src/ and is named after its job.
 */
#ifndef _HVO_SHARED_H
#define _HVO_SHARED_H

#include <linux/atomic.h>
#include <linux/hugetlb.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/mmzone.h>
#include <linux/spinlock.h>

/* Private kernel data the module needs, resolved once at load (symbols.c). */
struct hvo_symbols {
	struct mm_struct *init_mm;
	atomic_long_t *nr_memmap_pages;
	atomic_long_t *nr_memmap_boot_pages;
	struct hstate *hstates;
	int *hugetlb_max_hstate;
	spinlock_t *hugetlb_lock;
};

extern struct hvo_symbols hvo_sym;

int hvo_resolve_symbols(void);
int hvo_check_kernel(void);

/* Policy set through module parameters (policy.c). */
bool hvo_policy_wants(unsigned int order, int nid);
extern bool hvo_head_copy;

/* The vmemmap remapper (remap.c). */
struct hvo_remap {
	struct page *tail;		/* shared tail page to map */
	struct page *head;		/* new head page, or NULL to keep it */
	unsigned long head_addr;	/* vmemmap address of the head page */
	struct list_head *pages;	/* pages unmapped, or pages to map */
};

void hvo_flush_tlb_all(void);
int hvo_remap_split(unsigned long start, unsigned long end, int nid,
		    unsigned long *nr_split);
void hvo_remap_to_tail(unsigned long start, unsigned long end,
		       struct hvo_remap *r);
void hvo_remap_to_copies(unsigned long start, unsigned long end,
			 struct hvo_remap *r);

/* Shared tail pages (tails.c). */
struct page *hvo_shared_tail(unsigned int order, struct zone *zone,
			     bool *created);

/* The optimize and restore operations that replace the kernel's (hvo.c). */
void hvo_optimize_folio(const struct hstate *h, struct folio *folio);
void hvo_optimize_folios(struct hstate *h, struct list_head *folio_list);
int hvo_restore_folio(const struct hstate *h, struct folio *folio);
long hvo_restore_folios(const struct hstate *h, struct list_head *folio_list,
			struct list_head *non_hvo_folios);
bool hvo_should_optimize(const struct hstate *h, struct folio *folio);
bool hvo_is_ours(struct folio *folio);
void hvo_engine_exit(void);

/* Folios already in the pools at load and unload (pool.c). */
void hvo_pool_takeover(void);
void hvo_pool_giveback(void);

/* ftrace hooks on the kernel's HVO entry points (hooks.c). */
int hvo_hooks_install(void);
void hvo_hooks_remove(void);

/* Counters and the debugfs report (stats.c). */
#define HVO_MIN_ORDER	VMEMMAP_TAIL_MIN_ORDER
#define HVO_MAX_ORDER	MAX_FOLIO_ORDER
#define HVO_NR_ORDERS	(HVO_MAX_ORDER - HVO_MIN_ORDER + 1)

/* Live state of one (node, zone, order). */
struct hvo_zone_stats {
	atomic_long_t folios;		/* folios optimized by hvo_shared */
	atomic_long_t pages_freed;	/* their vmemmap pages given back */
	atomic_long_t pages_allocated;	/* head copies and split PTE tables */
	atomic_long_t tail_pages;	/* shared tails hvo_shared allocated */
};

struct hvo_totals {
	atomic_long_t optimize_total;
	atomic_long_t optimize_failed;
	atomic_long_t restore_total;
	atomic_long_t restore_failed;
};

extern struct hvo_totals hvo_totals;

enum hvo_state {
	HVO_STATE_LOADING,
	HVO_STATE_ACTIVE,
	HVO_STATE_UNLOADING,
};

extern enum hvo_state hvo_state;

struct hvo_zone_stats *hvo_zone_stats(struct zone *zone, unsigned int order);
int hvo_stats_init(void);
void hvo_stats_exit(void);

#endif /* _HVO_SHARED_H */
