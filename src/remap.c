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
#include <linux/xarray.h>
#include <asm/invpcid.h>
#include <asm/pgalloc.h>
#include <asm/tlbflush.h>

#include "hvo_fill.h"
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

/*
 * PTE tables this load split off, by PFN, each with the zone statistics
 * that counted it in pages_allocated: giving one back uncounts it there.
 * A table the kernel split, or an earlier load, is not in it.
 */
static DEFINE_XARRAY(hvo_tables);

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
 * split it, 0 if someone else did first, or -ENOMEM. @zs counts it.
 */
static int hvo_split_pmd(pmd_t *pmd, unsigned long start, int nid,
			 struct hvo_zone_stats *zs)
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

	if (split) {
		trace_pmd_split(start);
		atomic_long_inc(&zs->pages_allocated);
		/* Without the entry the table is never uncounted: harmless. */
		xa_store(&hvo_tables, page_to_pfn(virt_to_page(table)), zs,
			 GFP_KERNEL);
	} else {
		hvo_pte_free(table);
	}
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
 * @zs:		statistics to count the PTE tables in (pages_allocated)
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
		    struct hvo_zone_stats *zs)
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
			ret = hvo_split_pmd(pmd, addr & PMD_MASK, nid, zs);
			if (ret < 0)
				break;
			split += ret;
			ret = 0;
		}
	}
	mmap_read_unlock(hvo_sym.init_mm);
	if (split)
		hvo_flush_tlb_all(HVO_FLUSH_SPLIT);
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

/*
 * Map @dst, writable, at @addr in place of what @pte maps, copied into it,
 * or filled if it is @r->uniform (see hvo_uniform_tail()).
 */
static void hvo_pte_to_copy_in(pte_t *pte, unsigned long addr, struct page *dst,
			       struct hvo_remap *r)
{
	struct page *src = pte_page(ptep_get(pte));

	if (src == r->uniform) {
		hvo_fill_tails(page_to_virt(dst), page_to_virt(src));
		r->filled++;
	} else {
		copy_page(page_to_virt(dst), page_to_virt(src));
	}
	/* The copy must be visible before the PTE that maps it. */
	smp_wmb();
	set_pte_at(hvo_sym.init_mm, addr, pte, mk_pte(dst, PAGE_KERNEL));
}

static void hvo_pte_to_copy(pte_t *pte, unsigned long addr, struct hvo_remap *r)
{
	struct page *dst = list_first_entry(r->pages, struct page, lru);

	list_del(&dst->lru);
	hvo_pte_to_copy_in(pte, addr, dst, r);
}

static void hvo_pte_to_block(pte_t *pte, unsigned long addr, struct hvo_remap *r)
{
	hvo_pte_to_copy_in(pte, addr,
			   r->block + ((addr - r->block_addr) >> PAGE_SHIFT), r);
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
 * exactly (@end - @start) / PAGE_SIZE pages. A page that maps @r->uniform
 * is filled from it instead, and counted in @r->filled. The caller flushes
 * the TLB.
 */
void hvo_remap_to_copies(unsigned long start, unsigned long end,
			 struct hvo_remap *r)
{
	mmap_read_lock(hvo_sym.init_mm);
	hvo_walk_ptes(start, end, hvo_pte_to_copy, r);
	mmap_read_unlock(hvo_sym.init_mm);
}

/**
 * hvo_remap_to_block - map [@start, @end) to copies in @r->block
 *
 * Page i of @r->block, whose first page is for @r->block_addr, gets a copy
 * of what is mapped at @r->block_addr + i * PAGE_SIZE and is mapped there,
 * writable, by a PTE: once every TLB is flushed the PTEs agree, frame by
 * frame and in their attributes, with the PMD leaf hvo_remap_collapse()
 * can then put in their place. The caller flushes the TLB.
 */
void hvo_remap_to_block(unsigned long start, unsigned long end,
			struct hvo_remap *r)
{
	mmap_read_lock(hvo_sym.init_mm);
	hvo_walk_ptes(start, end, hvo_pte_to_block, r);
	mmap_read_unlock(hvo_sym.init_mm);
}

/* The PTE table under @pmd, if it is one that can be given back. */
static struct page *hvo_pmd_table(pmd_t *pmd)
{
	struct page *table;

	if (!pmd || pmd_leaf(*pmd))
		return NULL;
	table = pmd_page(*pmd);
	/*
	 * Tables made at boot come from memblock, not the page allocator:
	 * they stay.
	 */
	return PageTable(table) ? table : NULL;
}

/**
 * hvo_remap_collapsible - whether the PMD at @addr can become a leaf again
 * @addr:	a PMD-aligned vmemmap address
 *
 * True if the 2 MiB there are mapped by a PTE table that the page
 * allocator gave (ours or the kernel's HVO's), which
 * hvo_remap_collapse() can free.
 */
bool hvo_remap_collapsible(unsigned long addr)
{
	bool ret;

	mmap_read_lock(hvo_sym.init_mm);
	ret = hvo_pmd_table(hvo_vmemmap_pmd(addr));
	mmap_read_unlock(hvo_sym.init_mm);
	return ret;
}

/**
 * hvo_remap_collapse - map 2 MiB of vmemmap with a PMD leaf again
 * @addr:	a PMD-aligned vmemmap address that hvo_remap_collapsible() took
 * @block:	the order-9 block, not compound, that hvo_remap_to_block()
 *		mapped there page by page, every TLB flushed since
 * @tables:	the PTE table that mapped it is added here
 *
 * The reverse of a split, as x86's collapse_pmd_page() does for the
 * direct map: the PTEs already map the block's frames with the leaf's
 * attributes, so a CPU that still holds a 4 KiB translation and one that
 * loads the 2 MiB one agree (mixed sizes that differ in frame or
 * attributes are undefined behaviour: Intel's TLB application note, as
 * __split_large_page() quotes it). The leaf replaces the table in one
 * write, under init_mm's mmap lock taken for writing, so that no walker
 * holding it for reading is inside the table. The caller flushes every
 * TLB, then frees @tables (hvo_remap_free_tables()).
 *
 * Return: true if the leaf is in place; false if the table changed
 * meanwhile, which nothing should do: the PTEs then stay.
 */
bool hvo_remap_collapse(unsigned long addr, struct page *block,
			struct list_head *tables)
{
	struct page *table;
	bool done = false;
	pmd_t *pmd;

	mmap_write_lock(hvo_sym.init_mm);
	pmd = hvo_vmemmap_pmd(addr);
	table = hvo_pmd_table(pmd);
	if (!WARN_ON_ONCE(!table ||
			  pte_pfn(ptep_get(page_address(table))) != page_to_pfn(block))) {
		set_pmd(pmd, pfn_pmd(page_to_pfn(block), PAGE_KERNEL_LARGE));
		list_add(&page_ptdesc(table)->pt_list, tables);
		done = true;
	}
	mmap_write_unlock(hvo_sym.init_mm);
	return done;
}

/**
 * hvo_remap_free_tables - free the PTE tables hvo_remap_collapse() unhooked
 *
 * Only after every TLB was flushed: until then a CPU may still walk them.
 * Return: how many were freed.
 */
long hvo_remap_free_tables(struct list_head *tables)
{
	struct ptdesc *ptdesc, *next;
	struct hvo_zone_stats *zs;
	long n = 0;

	list_for_each_entry_safe(ptdesc, next, tables, pt_list) {
		list_del(&ptdesc->pt_list);
		zs = xa_erase(&hvo_tables, page_to_pfn(ptdesc_page(ptdesc)));
		if (zs)
			atomic_long_dec(&zs->pages_allocated);
		hvo_pte_free(ptdesc_address(ptdesc));
		n++;
	}
	return n;
}

/* At unload: forget which tables this load split; they stay mapped. */
void hvo_remap_exit(void)
{
	xa_destroy(&hvo_tables);
}
