// SPDX-License-Identifier: GPL-2.0
/*
 * Build-time checks: refuse, with one readable line, kernels whose tail
 * struct pages cannot be shared. Kbuild compiles this file before any
 * other, so an unsupported tree stops here instead of failing noisily
 * in code written for 7.2+ interfaces.
 */
#include <linux/build_bug.h>
#include <linux/mmzone.h>

#ifndef CONFIG_X86_64
#error "hvo_shared: only x86_64 is supported (other Debian kernels build no HVO)"
#endif

/* zone->vmemmap_tails[] came with mask-encoded compound_info in 7.2. */
#ifndef NR_VMEMMAP_TAILS
#error "hvo_shared: these kernel headers lack mask-encoded compound_info (zone->vmemmap_tails[], Linux 7.2+)"
#endif

/* Without it tails keep a pointer to their own head: nothing to share. */
#ifndef CONFIG_HUGETLB_PAGE_OPTIMIZE_VMEMMAP
#error "hvo_shared: kernel built without CONFIG_HUGETLB_PAGE_OPTIMIZE_VMEMMAP"
#endif

/* The tail mask is only valid when the memmap is virtually contiguous. */
#ifndef CONFIG_SPARSEMEM_VMEMMAP
#error "hvo_shared: kernel built without CONFIG_SPARSEMEM_VMEMMAP"
#endif

#ifndef CONFIG_DYNAMIC_FTRACE_WITH_REGS
#error "hvo_shared: kernel built without CONFIG_DYNAMIC_FTRACE_WITH_REGS (needed to hook HVO)"
#endif

#ifndef CONFIG_KPROBES
#error "hvo_shared: kernel built without CONFIG_KPROBES (needed to resolve symbols)"
#endif

static_assert(!(sizeof(struct page) & (sizeof(struct page) - 1)),
	      "hvo_shared: sizeof(struct page) is not a power of two");
