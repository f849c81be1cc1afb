/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel as hvo_shared finds it (symbols.c): the private data it
 * resolves at load, the checks that refuse a kernel it cannot serve, and
 * the folio orders whose tails can be shared. The bottom layer: it uses
 * nothing of the module's.
 */
#ifndef _HVO_KERNEL_H
#define _HVO_KERNEL_H

#include <linux/atomic.h>
#include <linux/hugetlb.h>
#include <linux/mm_types.h>
#include <linux/mmzone.h>
#include <linux/spinlock.h>

/* Private kernel data the module needs, resolved once at load. */
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

/* Folio orders whose vmemmap spans at least two pages: a head and a tail. */
#define HVO_MIN_ORDER	VMEMMAP_TAIL_MIN_ORDER
#define HVO_MAX_ORDER	MAX_FOLIO_ORDER
#define HVO_NR_ORDERS	(HVO_MAX_ORDER - HVO_MIN_ORDER + 1)

/*
 * Drop a reference on @folio unless it is the last: a folio_put() that
 * never frees (page_ref.h has none). Returns false if it was the last,
 * which the caller still holds.
 */
static inline bool hvo_put_unless_last(struct folio *folio)
{
	return atomic_add_unless(&folio->_refcount, -1, 1);
}

int hvo_check_kernel(void);
int hvo_resolve_symbols(void);
unsigned long hvo_ftrace_ip(const char *name);

#endif /* _HVO_KERNEL_H */
