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
 * flush_tlb_all() are neither exported nor callable either).
 */
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/pgtable.h>
#include <linux/smp.h>
#include <asm/invpcid.h>
#include <asm/pgalloc.h>
#include <asm/tlbflush.h>

#include "hvo_shared.h"
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
 * Undo hvo_pte_alloc(). Not pagetable_dtor(): a kernel table has no split
 * lock to free, and where locks are allocated (lockdep kernels) the
 * ptlock_free() it calls is not exported.
 */
static void hvo_pte_free(pte_t *table)
{
	struct ptdesc *ptdesc = virt_to_ptdesc(table);
	struct folio *folio = ptdesc_folio(ptdesc);

	ptdesc_clear_kernel(ptdesc);
	__folio_clear_pgtable(folio);
	lruvec_stat_sub_folio(folio, NR_PAGETABLE);
	__free_page(ptdesc_page(ptdesc));
}

/*
 * Replace the PMD leaf at @pmd, which maps the 2 MiB of vmemmap starting at
 * @start, by a PTE table mapping the same pages. Returns 1 if this call
 * split it, 0 if someone else did first, or -ENOMEM.
 */
static int hvo_split_pmd(pmd_t *pmd, unsigned long start, int nid)
{
	struct mm_struct *mm = hvo_sym.init_mm;
	pte_t *table = hvo_pte_alloc(nid);
	struct page *head;
	int i, split = 0;

	if (!table)
		return -ENOMEM;

	spin_lock(&mm->page_table_lock);
	if (likely(pmd_leaf(*pmd))) {
		head = pmd_page(*pmd);
		for (i = 0; i < PTRS_PER_PTE; i++)
			set_pte(table + i, mk_pte(head + i, PAGE_KERNEL));
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
		split = 1;
	}
	spin_unlock(&mm->page_table_lock);

	if (split)
		trace_pmd_split(start);
	else
		hvo_pte_free(table);
	return split;
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
 * block. Caller holds init_mm's mmap lock.
 */
static bool hvo_vmemmap_self_hosted(pmd_t *pmd, unsigned long addr)
{
	struct mm_struct *mm = hvo_sym.init_mm;
	struct page *page;

	if (!IS_ENABLED(CONFIG_MEMORY_HOTPLUG))
		return false;
	spin_lock(&mm->page_table_lock);
	page = pmd_leaf(*pmd) ? pmd_page(*pmd) + pte_index(addr) :
	       pte_page(ptep_get(pte_offset_kernel(pmd, addr)));
	spin_unlock(&mm->page_table_lock);
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
 * @nr_split:	incremented by the number of PMDs this call split
 *
 * Refuses, before splitting anything, a range whose vmemmap is self-hosted.
 * If it split a PMD, flushes every TLB before returning, as
 * vmemmap_split_pmd() does: no CPU may still hold the 2 MiB translation
 * when the PTEs under it change, or it could see both sizes for one
 * address (Intel SDM 4.10.2.3; on some AMD CPUs a machine check, erratum
 * 383). TCG never shows this; real CPUs can.
 *
 * Return: 0, -ENOMEM, -EOPNOTSUPP if self-hosted, or -EINVAL if the range
 * is not mapped as expected.
 */
int hvo_remap_split(unsigned long start, unsigned long end, int nid,
		    unsigned long *nr_split)
{
	unsigned long addr, next, split = 0;
	pmd_t *pmd;
	int ret = 0;

	/* As walk_kernel_page_table_range(): memory hot-remove is excluded. */
	mmap_read_lock(hvo_sym.init_mm);
	for (addr = start; addr < end; addr = next) {
		next = pmd_addr_end(addr, end);
		pmd = hvo_vmemmap_pmd(addr);
		if (!pmd) {
			ret = -EINVAL;
			break;
		}
		if (addr == start && hvo_vmemmap_self_hosted(pmd, addr)) {
			ret = -EOPNOTSUPP;
			break;
		}
		if (pmd_leaf(*pmd)) {
			ret = hvo_split_pmd(pmd, addr & PMD_MASK, nid);
			if (ret < 0)
				break;
			split += ret;
			ret = 0;
		}
	}
	mmap_read_unlock(hvo_sym.init_mm);
	if (split)
		hvo_flush_tlb_all(HVO_FLUSH_SPLIT);
	*nr_split += split;
	return ret;
}

/*
 * Call @fn on every PTE of [@start, @end); the range must have been split
 * by hvo_remap_split(). Returns the number of PTEs visited.
 */
static unsigned long hvo_walk_ptes(unsigned long start, unsigned long end,
				   void (*fn)(pte_t *pte, unsigned long addr,
					      struct hvo_remap *r),
				   struct hvo_remap *r)
{
	unsigned long addr = start, next, n = 0;
	pmd_t *pmd;
	pte_t *pte;

	for (; addr < end; addr = next) {
		next = pmd_addr_end(addr, end);
		pmd = hvo_vmemmap_pmd(addr);
		if (WARN_ON_ONCE(!pmd || pmd_leaf(*pmd)))
			break;
		pte = pte_offset_kernel(pmd, addr);
		for (; addr < next; addr += PAGE_SIZE, pte++, n++)
			fn(pte, addr, r);
	}
	return n;
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

static void hvo_pte_to_copy(pte_t *pte, unsigned long addr, struct hvo_remap *r)
{
	struct page *src = pte_page(ptep_get(pte));
	struct page *dst = list_first_entry(r->pages, struct page, lru);

	list_del(&dst->lru);
	copy_page(page_to_virt(dst), page_to_virt(src));
	/* The copy must be visible before the PTE that maps it. */
	smp_wmb();
	set_pte_at(hvo_sym.init_mm, addr, pte, mk_pte(dst, PAGE_KERNEL));
}

/**
 * hvo_remap_to_tail - map [@start, @end) read-only to @r->tail
 *
 * If @r->head is set, the page at @r->head_addr is mapped to it instead,
 * writable. The pages that were mapped there are added to @r->pages; the caller
 * frees them after a TLB flush. The range must have been split.
 */
void hvo_remap_to_tail(unsigned long start, unsigned long end,
		       struct hvo_remap *r)
{
	mmap_read_lock(hvo_sym.init_mm);
	hvo_walk_ptes(start, end, hvo_pte_to_tail, r);
	mmap_read_unlock(hvo_sym.init_mm);
}

/**
 * hvo_remap_to_copies - map [@start, @end) to private copies of what it maps
 *
 * Takes one page from @r->pages per vmemmap page; the list must hold
 * exactly (@end - @start) / PAGE_SIZE pages. The caller flushes the TLB.
 */
void hvo_remap_to_copies(unsigned long start, unsigned long end,
			 struct hvo_remap *r)
{
	mmap_read_lock(hvo_sym.init_mm);
	hvo_walk_ptes(start, end, hvo_pte_to_copy, r);
	mmap_read_unlock(hvo_sym.init_mm);
}
