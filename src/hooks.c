// SPDX-License-Identifier: GPL-2.0
/*
 * ftrace hooks that send the kernel's HVO entry points to hvo_shared.
 *
 * One ftrace_ops per function, filtered by name, with IPMODIFY: the
 * handler only rewrites the instruction pointer, so the kernel's function
 * body never runs while hvo_shared is loaded and its policy decides. The
 * originals are never called: on IBT kernels they are sealed (no ENDBR),
 * and an indirect call into them would fault.
 *
 * hugetlb_vmemmap_optimize_bootmem_folios() is not hooked: it runs only
 * during boot, before any module can load.
 */
#include <linux/ftrace.h>
#include <linux/kernel.h>

#include "hvo_shared.h"

struct hvo_hook {
	const char *name;
	void *replacement;
	struct ftrace_ops ops;
};

static void notrace hvo_ftrace_handler(unsigned long ip, unsigned long parent_ip,
				       struct ftrace_ops *ops,
				       struct ftrace_regs *fregs)
{
	struct hvo_hook *hook = container_of(ops, struct hvo_hook, ops);

	ftrace_regs_set_instruction_pointer(fregs, (unsigned long)hook->replacement);
}

/*
 * Restore first: installed in this order and removed in the reverse one,
 * every folio hvo_shared optimizes is restored by hvo_shared, which keeps
 * its list of folios exact. Were the optimize hooks in alone, a folio
 * optimized through them and freed by the kernel's restore would stay
 * listed after it left hugetlb, and its PFN would be refused next time.
 */
static struct hvo_hook hvo_hooks[] = {
	{ "hugetlb_vmemmap_restore_folio", hvo_restore_folio },
	{ "hugetlb_vmemmap_restore_folios", hvo_restore_folios },
	{ "hugetlb_vmemmap_optimize_folio", hvo_optimize_folio },
	{ "hugetlb_vmemmap_optimize_folios", hvo_optimize_folios },
};

static int hvo_hook_install(struct hvo_hook *hook)
{
	int ret;

	hook->ops.func = hvo_ftrace_handler;
	/*
	 * PERMANENT: the ftrace_enabled sysctl must not silently drop the
	 * hooks and hand folios back to a kernel function mid-flight.
	 */
	hook->ops.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY |
			  FTRACE_OPS_FL_RECURSION | FTRACE_OPS_FL_PERMANENT;

	ret = ftrace_set_filter(&hook->ops, (unsigned char *)hook->name,
				strlen(hook->name), 0);
	if (ret) {
		pr_err("cannot hook %s: not traceable (%d)\n", hook->name, ret);
		return -ENOENT;
	}
	ret = register_ftrace_function(&hook->ops);
	if (ret) {
		pr_err("cannot hook %s: %pe%s\n", hook->name, ERR_PTR(ret),
		       ret == -EBUSY ? " (another module or livepatch owns it)" : "");
		ftrace_free_filter(&hook->ops);
	}
	return ret;
}

static void hvo_hook_remove(struct hvo_hook *hook)
{
	/* For module-owned ops this waits until no CPU is in the handler. */
	unregister_ftrace_function(&hook->ops);
	ftrace_free_filter(&hook->ops);
}

/**
 * hvo_hooks_install - take over the kernel's HVO entry points, all or none
 *
 * Return: 0, or the error of the hook that failed; then none is installed.
 */
int hvo_hooks_install(void)
{
	int i, ret;

	for (i = 0; i < ARRAY_SIZE(hvo_hooks); i++) {
		if (i)
			hvo_inject_delay(HVO_INJECT_HOOK_GAP);
		ret = hvo_hook_install(&hvo_hooks[i]);
		if (ret) {
			while (--i >= 0)
				hvo_hook_remove(&hvo_hooks[i]);
			return ret;
		}
	}
	return 0;
}

/* Remove the hooks in reverse order; the kernel's HVO is back afterwards. */
void hvo_hooks_remove(void)
{
	int i;

	for (i = ARRAY_SIZE(hvo_hooks) - 1; i >= 0; i--) {
		hvo_hook_remove(&hvo_hooks[i]);
		if (i)
			hvo_inject_delay(HVO_INJECT_HOOK_GAP);
	}
}
