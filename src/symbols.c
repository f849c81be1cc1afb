// SPDX-License-Identifier: GPL-2.0
/*
 * Private kernel symbols and load-time compatibility checks.
 *
 * The module never calls kallsyms_lookup_name(): it is not exported, and on
 * IBT kernels its ENDBR is sealed at boot, so an indirect call into it is a
 * control-protection fault. register_kprobe() is exported and performs the
 * lookup itself: it stores the address in kp.addr before it refuses a
 * symbol that is not kernel text. Only data symbols are resolved this way;
 * functions are hooked by name through ftrace and never called through a
 * pointer.
 */
#include <linux/hugetlb.h>
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/mm.h>
#include <linux/string.h>

#include "hvo_shared.h"

struct hvo_symbols hvo_sym;

/*
 * Return the address of data symbol @name, or 0. The address is accepted
 * only if kallsyms names it back as exactly "@name+0x0": a lookup that was
 * displaced (an ENDBR-looking first word makes kprobes add 4) is refused.
 */
static unsigned long hvo_lookup_data(const char *name)
{
	char buf[KSYM_SYMBOL_LEN];
	struct kprobe kp = { .symbol_name = name };
	unsigned long addr;
	size_t len = strlen(name);

	if (!register_kprobe(&kp))
		unregister_kprobe(&kp);	/* text, not data: still refused below */
	addr = (unsigned long)kp.addr;
	if (!addr)
		return 0;

	sprint_symbol(buf, addr);
	if (strncmp(buf, name, len) || strncmp(buf + len, "+0x0/", 5))
		return 0;
	return addr;
}

#define HVO_RESOLVE(field, name)					\
	do {								\
		hvo_sym.field = (void *)hvo_lookup_data(name);		\
		if (!hvo_sym.field) {					\
			pr_err("cannot resolve kernel symbol %s\n", name); \
			return -ENOENT;					\
		}							\
	} while (0)

/**
 * hvo_resolve_symbols - resolve the private data symbols the module needs
 *
 * Return: 0, or -ENOENT (after one pr_err() naming the symbol) if any of
 * them cannot be found.
 */
int hvo_resolve_symbols(void)
{
	HVO_RESOLVE(init_mm, "init_mm");
	HVO_RESOLVE(hstates, "hstates");
	HVO_RESOLVE(hugetlb_max_hstate, "hugetlb_max_hstate");
	HVO_RESOLVE(hugetlb_lock, "hugetlb_lock");

	/* The kernel's own page tables have a PGD, always. */
	if (!hvo_sym.init_mm->pgd) {
		pr_err("init_mm resolved to %px but has no page table\n",
		       hvo_sym.init_mm);
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
	/* Constant on 7.2+, kept in case a kernel narrows its conditions. */
	if (!compound_info_has_mask()) {
		pr_err("tail pages do not use mask-encoded compound_info\n");
		return -EOPNOTSUPP;
	}
	return 0;
}
