// SPDX-License-Identifier: GPL-2.0
/*
 * Private kernel symbols and load-time compatibility checks.
 *
 * The module never calls kallsyms_lookup_name(): it is not exported, and on
 * IBT kernels its ENDBR is sealed at boot, so an indirect call into it is a
 * control-protection fault. register_kprobe() is exported and performs the
 * lookup itself: it stores the address in kp.addr before it refuses a
 * symbol that is not kernel text. Data symbols are resolved this way, and
 * the ftrace sites of the functions hooks.c takes over, which are never
 * called through a pointer.
 */
#include <linux/hugetlb.h>
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/mm.h>
#include <linux/string.h>
#include <asm/tlbflush.h>
#include <xen/xen.h>

#include "hvo_kernel.h"

struct hvo_symbols hvo_sym;

/*
 * Return the address of data symbol @name, or 0. The address is accepted
 * only if kallsyms names it back as exactly "@name+0x0": a lookup that was
 * displaced (an ENDBR-looking first word makes kprobes add 4) is refused.
 */
static unsigned long hvo_lookup_data(const char *name)
{
	char buf[KSYM_SYMBOL_LEN];
	/* Disabled: even if @name were text, nothing would be armed. */
	struct kprobe kp = { .symbol_name = name, .flags = KPROBE_FLAG_DISABLED };
	unsigned long addr;
	size_t len = strlen(name);

	if (!register_kprobe(&kp)) {
		/* A function: only data is resolved here. */
		unregister_kprobe(&kp);
		return 0;
	}
	addr = (unsigned long)kp.addr;
	if (!addr)
		return 0;

	sprint_symbol(buf, addr);
	if (strncmp(buf, name, len) || strncmp(buf + len, "+0x0/", 5))
		return 0;
	return addr;
}

/**
 * hvo_ftrace_ip - the ftrace call site of kernel function @name, or 0
 * @name:	a function name
 *
 * The site is the function's first instruction, or the one after its
 * ENDBR (sealed or not). register_kprobe() resolves the name and flags a
 * probe that sits exactly on an ftrace site; the probe is registered
 * disabled, so nothing is ever armed, and removed at once.
 */
unsigned long hvo_ftrace_ip(const char *name)
{
	static const unsigned int offsets[] = { 0, 4 };
	int i;

	for (i = 0; i < ARRAY_SIZE(offsets); i++) {
		struct kprobe kp = {
			.symbol_name = name,
			.offset = offsets[i],
			.flags = KPROBE_FLAG_DISABLED,
		};
		unsigned long addr;
		bool site;

		if (register_kprobe(&kp))
			continue;
		addr = (unsigned long)kp.addr;
		site = kp.flags & KPROBE_FLAG_FTRACE;
		unregister_kprobe(&kp);
		if (site)
			return addr;
	}
	return 0;
}

/**
 * hvo_resolve_symbols - resolve the private data symbols the module needs
 *
 * Return: 0, or -ENOENT (after one pr_err() naming the symbol) if any of
 * them cannot be found.
 */
int hvo_resolve_symbols(void)
{
	const struct {
		const char *name;
		void **slot;
	} wanted[] = {
		{ "init_mm", (void **)&hvo_sym.init_mm },
		{ "nr_memmap_pages", (void **)&hvo_sym.nr_memmap_pages },
		{ "nr_memmap_boot_pages", (void **)&hvo_sym.nr_memmap_boot_pages },
		{ "hstates", (void **)&hvo_sym.hstates },
		{ "hugetlb_max_hstate", (void **)&hvo_sym.hugetlb_max_hstate },
		{ "hugetlb_lock", (void **)&hvo_sym.hugetlb_lock },
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(wanted); i++) {
		*wanted[i].slot = (void *)hvo_lookup_data(wanted[i].name);
		if (!*wanted[i].slot) {
			pr_err("cannot resolve kernel symbol %s\n", wanted[i].name);
			return -ENOENT;
		}
	}

	/* The kernel's own page tables have a PGD, always. */
	if (!hvo_sym.init_mm->pgd) {
		pr_err("init_mm resolved to an mm without a page table\n");
		return -ENOENT;
	}
	return 0;
}

/**
 * hvo_check_kernel - refuse kernels whose configuration the build cannot see
 *
 * Return: 0, -ENODEV if hugetlb is unavailable on this machine, or
 * -EOPNOTSUPP if the tails of a compound page do not encode a mask.
 */
int hvo_check_kernel(void)
{
	if (!hugepages_supported()) {
		pr_err("hugetlb is not supported on this machine\n");
		return -ENODEV;
	}
	/*
	 * TLB flushes are native instructions (remap.c): a paravirtualized
	 * MMU would need its hypercalls, and they are not exported.
	 */
	if (xen_pv_domain()) {
		pr_err("Xen PV guests are not supported\n");
		return -EOPNOTSUPP;
	}
	if (!boot_cpu_has(X86_FEATURE_PGE) ||
	    !(native_read_cr4() & X86_CR4_PGE)) {
		pr_err("CPU without global pages (CR4.PGE): cannot flush the TLB\n");
		return -EOPNOTSUPP;
	}
	/* Constant on 7.2+, kept in case a kernel narrows its conditions. */
	if (!compound_info_has_mask()) {
		pr_err("tail pages do not use mask-encoded compound_info\n");
		return -EOPNOTSUPP;
	}
	return 0;
}
