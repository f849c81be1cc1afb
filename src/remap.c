// SPDX-License-Identifier: GPL-2.0
/*
 * The vmemmap remapper: walks init_mm's page tables over one folio's
 * vmemmap, splits PMD leaves into PTE tables, and points PTEs at the
 * shared tail page (optimize) or at fresh copies of it (restore).
 *
 * It mirrors mm/hugetlb_vmemmap.c, with two differences forced by being a
 * module: the page table walk is our own (walk_kernel_page_table_range()
 * is neither exported nor callable through a pointer on IBT kernels), and
 * TLB flushes are done by hand on every CPU (flush_tlb_kernel_range() and
 * flush_tlb_all() are neither exported nor callable either). Like it,
 * the remapper never frees a page table it installed: kernel tables are
 * freed through pagetable_free_kernel(), which first invalidates the
 * IOMMU's paging-structure caches, and no exported route leads there.
 */
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/pgtable.h>
#include <linux/smp.h>
#include <asm/invpcid.h>
#include <asm/pgalloc.h>
#include <asm/tlbflush.h>

#include "hvo_inject.h"
#include "hvo_kernel.h"
#include "hvo_remap.h"
#include "hvo_state.h"
#include "trace.h"

/*
 * Drop every TLB entry of this CPU, global ones and those of every PCID,
 * as native_flush_tlb_global() does: INVPCID where the CPU has it, else
 * toggling CR4.PGE and back. The kernel's helpers for this are exported
 * to KVM only, so these are the same instructions, inline. Runs with
 * interrupts off (on_each_cpu()), so CR4 is back before anyone reads it.
 */
static void hvo_flush_tlb_local(void *unused)
{
	unsigned long cr4;

	if (boot_cpu_has(X86_FEATURE_INVPCID)) {
		invpcid_flush_all();
		return;
	}
	cr4 = native_read_cr4();
	asm volatile("mov %0, %%cr4" : : "r" (cr4 ^ X86_CR4_PGE) : "memory");
	asm volatile("mov %0, %%cr4" : : "r" (cr4) : "memory");
}

/**
 * hvo_flush_tlb_all - flush every CPU's TLB, global (kernel) entries too
 * @reason:	what the flush is for, reported by the tlb_flush tracepoint
 *
 * Must not be called with interrupts disabled.
 */
void hvo_flush_tlb_all(enum hvo_flush_reason reason)
{
	on_each_cpu(hvo_flush_tlb_local, NULL, 1);
	trace_tlb_flush(reason);
}

/* A kernel PTE table, allocated and accounted as pte_alloc_one_kernel() does. */
static pte_t *hvo_pte_alloc(int nid)
{
	struct ptdesc *ptdesc;
	struct page *page;

	if (hvo_inject_fail(HVO_INJECT_PTE_TABLE))
		return NULL;
	page = alloc_pages_node(nid, GFP_PGTABLE_KERNEL, 0);
	if (!page)
		return NULL;
	ptdesc = page_ptdesc(page);
	__pagetable_ctor(ptdesc);
	ptdesc_set_kernel(ptdesc);
	return ptdesc_address(ptdesc);
}

/*
 * Undo hvo_pte_alloc() for a table that was never installed: no CPU or
 * IOMMU can have walked it, so it needs none of what pagetable_free()
 * does for a kernel table that was (pagetable_free_kernel(), which is not
 * exported). Tables that were installed are never freed, as in
 * mm/hugetlb_vmemmap.c. Not pagetable_dtor() either: a kernel table has
 * no split lock, and where locks are allocated (lockdep kernels) the
 * ptlock_free() it calls is not exported.
 */
static void hvo_pte_free_unused(pte_t *table)
{
	struct ptdesc *ptdesc = virt_to_ptdesc(table);
	struct folio *folio = ptdesc_folio(ptdesc);

	ptdesc_clear_kernel(ptdesc);
	__folio_clear_pgtable(folio);
	lruvec_stat_sub_folio(folio, NR_PAGETABLE);
	__free_page(ptdesc_page(ptdesc));
}

/*
 * Replace the PMD leaf at @pmd, which mapped the 2 MiB of vmemmap at
 * @start from @head when the caller looked, by a PTE table mapping the
 * same pages, as vmemmap_split_pmd() does: the table is filled first,
 * then, under init_mm's page_table_lock, the PMD is checked again,
 * populated, and every TLB flushed before the lock is dropped. Whoever
 * reads this PMD next under the lock (hvo_remap_split()) therefore finds
 * no CPU still holding the 2 MiB translation while it changes the PTEs
 * under it (Intel SDM 4.10.2.3; on some AMD CPUs a machine check,
 * erratum 383). Returns 0 (split here or by someone else) or -ENOMEM.
 */
static int hvo_split_pmd(pmd_t *pmd, struct page *head, unsigned long start,
			 int nid, struct hvo_zone_stats *zs)
{
	struct mm_struct *mm = hvo_sym.init_mm;
	pte_t *table = hvo_pte_alloc(nid);
	bool split = false;
	int i;

	if (!table)
		return -ENOMEM;
	for (i = 0; i < PTRS_PER_PTE; i++)
		set_pte(table + i, mk_pte(head + i, PAGE_KERNEL));
	hvo_inject_delay(HVO_INJECT_SPLIT_ALLOC);

	spin_lock(&mm->page_table_lock);
	if (likely(pmd_leaf(*pmd))) {
		/*
		 * A buddy-allocated block must become independent pages, as
		 * they will be freed one by one. Bootmem blocks are reserved
		 * pages already.
		 */
		if (!PageReserved(head))
			split_page(head, get_order(PMD_SIZE));
		/* Make the PTEs visible before the PMD. See pmd_install(). */
		smp_wmb();
		pmd_populate_kernel(mm, pmd, table);
		trace_pmd_split(start);
		hvo_inject_delay(HVO_INJECT_SPLIT_FLUSH);
		hvo_flush_tlb_all(HVO_FLUSH_SPLIT);
		split = true;
	}
	spin_unlock(&mm->page_table_lock);

	if (split)
		atomic_long_inc(&zs->pages_allocated);
	else
		hvo_pte_free_unused(table);
	return 0;
}

/* The PMD that maps @addr in the vmemmap, or NULL if it is not mapped. */
static pmd_t *hvo_vmemmap_pmd(unsigned long addr)
{
	pgd_t *pgd = pgd_offset(hvo_sym.init_mm, addr);
	p4d_t *p4d;
	pud_t *pud;
	pmd_t *pmd;

	if (pgd_none(*pgd) || pgd_bad(*pgd))
		return NULL;
	p4d = p4d_offset(pgd, addr);
	if (p4d_none(*p4d) || p4d_bad(*p4d))
		return NULL;
	pud = pud_offset(p4d, addr);
	/* The vmemmap is never mapped with 1 GiB leaves on x86_64. */
	if (pud_none(*pud) || pud_leaf(*pud) || pud_bad(*pud))
		return NULL;
	pmd = pmd_offset(pud, addr);
	if (pmd_none(*pmd))
		return NULL;
	return pmd;
}

/*
 * Whether the vmemmap at @addr, mapped by @pmd, lives in the hot-added
 * memory it describes. With memory_hotplug.memmap_on_memory a hot-added
 * block carries its own memmap in its first pages, flagged
 * VmemmapSelfHosted; those go with the block and must never be freed on
 * their own. As in vmemmap_pmd_entry() (mm/hugetlb_vmemmap.c), the head's
 * page is enough: hugetlb alignment puts a folio's whole vmemmap in one
 * block. Caller holds init_mm's page_table_lock.
 */
static bool hvo_vmemmap_self_hosted(pmd_t *pmd, unsigned long addr)
{
	struct page *page;

	if (!IS_ENABLED(CONFIG_MEMORY_HOTPLUG))
		return false;
	page = pmd_leaf(*pmd) ? pmd_page(*pmd) + pte_index(addr) :
	       pte_page(ptep_get(pte_offset_kernel(pmd, addr)));
	return PageVmemmapSelfHosted(page);
}

/**
 * hvo_vmemmap_pte - read the PTE that maps the vmemmap at @addr
 * @addr:	a vmemmap address
 * @pte:	output
 *
 * Return: 0, or -ENOENT if @addr is not mapped by a PTE (unmapped, or
 * inside a PMD leaf).
 */
int hvo_vmemmap_pte(unsigned long addr, pte_t *pte)
{
	pmd_t *pmd;
	int ret = -ENOENT;

	mmap_read_lock(hvo_sym.init_mm);
	pmd = hvo_vmemmap_pmd(addr);
	if (pmd && !pmd_leaf(*pmd)) {
		*pte = ptep_get(pte_offset_kernel(pmd, addr));
		ret = 0;
	}
	mmap_read_unlock(hvo_sym.init_mm);
	return ret;
}

/**
 * hvo_remap_split - make [@start, @end) of the vmemmap mapped by PTEs
 * @start:	first vmemmap address, page aligned
 * @end:	end of the range, page aligned
 * @nid:	node to allocate page tables on
 * @zs:		statistics to count the PTE tables in (pages_allocated)
 *
 * Refuses, before splitting anything, a range whose vmemmap is
 * self-hosted. Each PMD is read under init_mm's page_table_lock, as
 * vmemmap_pmd_entry() does: a PMD split by another task is seen only once
 * that task's TLB flush is done (hvo_split_pmd()). Once split, a PMD stays
 * a table: the PTEs under it may be changed from then on by any caller
 * that went through here.
 *
 * Return: 0, -ENOMEM, -EOPNOTSUPP if self-hosted, or -EINVAL if the range
 * is not mapped as expected.
 */
int hvo_remap_split(unsigned long start, unsigned long end, int nid,
		    struct hvo_zone_stats *zs)
{
	struct mm_struct *mm = hvo_sym.init_mm;
	unsigned long addr, next;
	struct page *head;
	pmd_t *pmd;
	int ret = 0;

	/*
	 * As walk_kernel_page_table_range() asserts. It does not keep memory
	 * hot-remove out: the caller does (hotremove.c, or a folio it holds).
	 */
	mmap_read_lock(mm);
	for (addr = start; !ret && addr < end; addr = next) {
		next = pmd_addr_end(addr, end);
		pmd = hvo_vmemmap_pmd(addr);
		if (!pmd) {
			ret = -EINVAL;
			break;
		}
		spin_lock(&mm->page_table_lock);
		head = pmd_leaf(*pmd) ? pmd_page(*pmd) : NULL;
		if (addr == start && hvo_vmemmap_self_hosted(pmd, addr))
			ret = -EOPNOTSUPP;
		spin_unlock(&mm->page_table_lock);
		if (head && !ret)
			ret = hvo_split_pmd(pmd, head, addr & PMD_MASK, nid, zs);
	}
	mmap_read_unlock(mm);
	return ret;
}

/**
 * hvo_remap_begin - hold init_mm's mmap lock for reading around remaps
 *
 * As walk_kernel_page_table_range() requires, and vmemmap_remap_range()
 * holds it. It does not keep memory hot-remove out, which frees vmemmap
 * and its page tables under page_table_lock alone: every remap is of a
 * folio its caller holds, or free and under hugetlb_lock, which offlining
 * must take to dissolve it first. Taken before hugetlb_lock by callers
 * that remap under it.
 */
void hvo_remap_begin(void)
{
	mmap_read_lock(hvo_sym.init_mm);
}

void hvo_remap_end(void)
{
	mmap_read_unlock(hvo_sym.init_mm);
}

/*
 * Call @fn on every PTE of [@start, @end); the range must have been split
 * by hvo_remap_split(), and the caller holds hvo_remap_begin(). Never
 * sleeps: callers may hold hugetlb_lock.
 */
static void hvo_walk_ptes(unsigned long start, unsigned long end,
			  void (*fn)(pte_t *pte, unsigned long addr,
				     struct hvo_remap *r),
			  struct hvo_remap *r)
{
	unsigned long addr = start, next;
	pmd_t *pmd;
	pte_t *pte;

	for (; addr < end; addr = next) {
		next = pmd_addr_end(addr, end);
		pmd = hvo_vmemmap_pmd(addr);
		if (WARN_ON_ONCE(!pmd || pmd_leaf(*pmd)))
			break;
		pte = pte_offset_kernel(pmd, addr);
		for (; addr < next; addr += PAGE_SIZE, pte++)
			fn(pte, addr, r);
	}
}

static void hvo_pte_to_tail(pte_t *pte, unsigned long addr, struct hvo_remap *r)
{
	struct page *old = pte_page(ptep_get(pte));
	pte_t entry;

	if (r->head && addr == r->head_addr) {
		/* The copy must be visible before the PTE that maps it. */
		smp_wmb();
		entry = mk_pte(r->head, PAGE_KERNEL);
	} else {
		/* Read-only, to catch any illegal write to a shared tail. */
		entry = mk_pte(r->tail, PAGE_KERNEL_RO);
	}
	list_add(&old->lru, r->pages);
	set_pte_at(hvo_sym.init_mm, addr, pte, entry);
}

/*
 * Map the next page of @r->pages, writable, in place of what @pte maps.
 * It was filled from @r->tail before; a PTE that maps another page has
 * that page copied into it now, counted in @r->copied.
 */
static void hvo_pte_to_page(pte_t *pte, unsigned long addr, struct hvo_remap *r)
{
	struct page *dst = list_first_entry(r->pages, struct page, lru);
	struct page *src = pte_page(ptep_get(pte));

	list_del(&dst->lru);
	if (src != r->tail) {
		copy_page(page_to_virt(dst), page_to_virt(src));
		r->copied++;
	}
	/* The contents must be visible before the PTE that maps them. */
	smp_wmb();
	set_pte_at(hvo_sym.init_mm, addr, pte, mk_pte(dst, PAGE_KERNEL));
}

/**
 * hvo_remap_to_tail - map [@start, @end) read-only to @r->tail
 *
 * If @r->head is set, the page at @r->head_addr is mapped to it instead,
 * writable. The pages that were mapped there are added to @r->pages; the
 * caller frees them after a TLB flush. The range must have been split.
 */
void hvo_remap_to_tail(unsigned long start, unsigned long end,
		       struct hvo_remap *r)
{
	hvo_walk_ptes(start, end, hvo_pte_to_tail, r);
}

/**
 * hvo_remap_to_pages - map [@start, @end) to the pages on @r->pages
 *
 * Takes one page from @r->pages per vmemmap page, in order; the list must
 * hold exactly (@end - @start) / PAGE_SIZE pages, each filled from
 * @r->tail (a PTE that maps another page gets a copy of it instead). The
 * caller flushes the TLB.
 */
void hvo_remap_to_pages(unsigned long start, unsigned long end,
			struct hvo_remap *r)
{
	hvo_walk_ptes(start, end, hvo_pte_to_page, r);
}
