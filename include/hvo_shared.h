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

/* Every hstate the kernel registered, small orders included. */
#define hvo_for_each_hstate(h) \
	for ((h) = hvo_sym.hstates; \
	     (h) < hvo_sym.hstates + *hvo_sym.hugetlb_max_hstate; (h)++)

int hvo_resolve_symbols(void);
unsigned long hvo_ftrace_ip(const char *name);
int hvo_check_kernel(void);

/* Policy set through module parameters (policy.c). */
bool hvo_policy_wants(unsigned int order, int nid);
extern bool hvo_head_copy;

/* The vmemmap remapper (remap.c). */
struct hvo_remap {
	struct page *tail;		/* the shared tail page */
	struct page *head;		/* optimize: new head page, or NULL */
	unsigned long head_addr;	/* vmemmap address of the head page */
	struct list_head *pages;	/* pages unmapped, or pages to map */
	unsigned long copied;		/* restore: pages that mapped another */
	bool filled;			/* restore: pages filled from @tail */
};

/* Why every TLB is flushed, for the tlb_flush tracepoint. */
enum hvo_flush_reason {
	HVO_FLUSH_SPLIT,
	HVO_FLUSH_OPTIMIZE,
	HVO_FLUSH_RESTORE,
};

void hvo_flush_tlb_all(enum hvo_flush_reason reason);
int hvo_vmemmap_pte(unsigned long addr, pte_t *pte);
struct hvo_zone_stats;
int hvo_remap_split(unsigned long start, unsigned long end, int nid,
		    struct hvo_zone_stats *zs);
void hvo_remap_begin(void);
void hvo_remap_end(void);
void hvo_remap_to_tail(unsigned long start, unsigned long end,
		       struct hvo_remap *r);
void hvo_remap_to_pages(unsigned long start, unsigned long end,
			struct hvo_remap *r);

/* Shared tail pages (tails.c). */
struct page *hvo_shared_tail(unsigned int order, struct zone *zone,
			     bool *created);
struct page *hvo_uniform_tail(unsigned int order, struct zone *zone);

/* The optimize and restore operations that replace the kernel's (hvo.c). */
void hvo_optimize_folio(const struct hstate *h, struct folio *folio);
void hvo_optimize_folios(struct hstate *h, struct list_head *folio_list);
int hvo_restore_folio(const struct hstate *h, struct folio *folio);
long hvo_restore_folios(const struct hstate *h, struct list_head *folio_list,
			struct list_head *non_hvo_folios);
bool hvo_should_optimize(const struct hstate *h, struct folio *folio);
int hvo_optimize_free(struct hstate *h, int nid, struct folio *folio,
		      struct zone *zone);
int hvo_restore_free(struct hstate *h, int nid, struct folio *folio,
		     struct zone *zone);

/*
 * Folios looked at per hold of hugetlb_lock by a walk of the pools: it
 * bounds the time with interrupts off by a batch, not by the pool.
 */
#define HVO_LOOK_BATCH	32

/* Adopting folios in use, and restoring all (adopt.c). */
enum hvo_adopt_skip {
	HVO_ADOPTED,
	HVO_SKIP_ISOLATED,	/* not migratable: isolated, or not mapped yet */
	HVO_SKIP_BUSY,		/* being freed, or locked */
	HVO_SKIP_HWPOISON,
	HVO_SKIP_TEMPORARY,	/* a migration's temporary folio */
	HVO_SKIP_DIRTY_TAILS,	/* a tail differs from the shared one */
	HVO_SKIP_HEAD_COPY,	/* head_copy=1: page 0 of a folio in use must stay */
	HVO_SKIP_SELF_HOSTED,
	HVO_SKIP_OPTIMIZED,	/* optimized meanwhile, unwanted; restore: whole already */
	HVO_SKIP_NR
};

struct hvo_adopt_totals {
	atomic_long_t adopted;
	atomic_long_t failed;
	atomic_long_t skipped[HVO_SKIP_NR];
	atomic_long_t restored;
	atomic_long_t restore_failed;
	atomic_long_t restore_busy;
	atomic_long_t restore_inherited;
};

extern struct hvo_adopt_totals hvo_adopt_totals;

const char *hvo_adopt_skip_name(enum hvo_adopt_skip why);
enum hvo_adopt_skip hvo_in_use_state(struct folio *folio);
bool hvo_take_in_use(struct folio *folio, struct folio **put);
int hvo_adopt_folio(struct hstate *h, struct folio *folio);
int hvo_restore_in_use(struct hstate *h, struct folio *folio);
bool hvo_next_ours(unsigned long *pfn);
long hvo_count_ours(void);
void hvo_adopt_start(void);
void hvo_adopt_exit(void);
bool hvo_is_ours(struct folio *folio);
void hvo_engine_exit(void);

struct hvo_walker {
	void (*folio)(struct hvo_walker *w, unsigned long pfn, bool head_copied);
	void (*done)(struct hvo_walker *w);
};

void hvo_walk_ours(struct hvo_walker *w);

/* The verify file: an audit of every folio hvo_shared optimized (verify.c). */
int hvo_verify_init(struct dentry *dir);

/* Folios already in the pools at load and unload (pool.c). */
void hvo_pool_takeover(void);
void hvo_pool_giveback(void);
long hvo_pool_optimize_free(void);
long hvo_pool_restore_all_free(void);
long hvo_pool_count_left(void);

/* ftrace hooks on the kernel's HVO entry points (hooks.c). */
int hvo_hooks_install(void);
void hvo_hooks_remove(void);

/* Fault injection for the test suite (inject.c). */
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

/* Counters and the debugfs report (stats.c). */
#define HVO_MIN_ORDER	VMEMMAP_TAIL_MIN_ORDER
#define HVO_MAX_ORDER	MAX_FOLIO_ORDER
#define HVO_NR_ORDERS	(HVO_MAX_ORDER - HVO_MIN_ORDER + 1)

/* Per-(node, zone, order) arrays: their length, and where one sits. */
static inline size_t hvo_nr_zone_slots(void)
{
	return nr_node_ids * MAX_NR_ZONES * HVO_NR_ORDERS;
}

static inline size_t hvo_zone_slot(int nid, int zid, unsigned int order)
{
	return (nid * MAX_NR_ZONES + zid) * HVO_NR_ORDERS + order - HVO_MIN_ORDER;
}

/* Live state of one (node, zone, order). */
struct hvo_zone_stats {
	atomic_long_t folios;		/* folios optimized by hvo_shared */
	atomic_long_t pages_freed;	/* their vmemmap pages given back */
	atomic_long_t pages_allocated;	/* head copies and split PTE tables */
	atomic_long_t tail_pages;	/* shared tails hvo_shared allocated */
	struct page *uniform_tail;	/* the tail page, once seen uniform */
};

struct hvo_totals {
	atomic_long_t optimize_total;
	atomic_long_t optimize_failed;
	atomic_long_t restore_total;
	atomic_long_t restore_failed;
	atomic_long_t optimize_retried;	/* bulk retries after -ENOMEM */
	atomic_long_t skipped_self_hosted; /* vmemmap inside its own block */
	atomic_long_t restore_blocks;	/* order-9 blocks restores mapped */
	atomic_long_t restore_pages_filled; /* vmemmap pages filled, not copied */
};

extern struct hvo_totals hvo_totals;

enum hvo_state {
	HVO_STATE_LOADING,
	HVO_STATE_ACTIVE,
	HVO_STATE_UNLOADING,
};

extern enum hvo_state hvo_state;

struct hvo_zone_stats *hvo_zone_stats(struct zone *zone, unsigned int order);
struct hvo_zone_stats *hvo_zs(int nid, int zid, unsigned int order);
int hvo_stats_init(void);
void hvo_debugfs_exit(void);
void hvo_stats_exit(void);

#endif /* _HVO_SHARED_H */
