// SPDX-License-Identifier: GPL-2.0
/*
 * ftrace hooks that send the kernel's HVO entry points to hvo_shared.
 *
 * One ftrace_ops for the four functions, filtered by their ftrace sites,
 * with IPMODIFY: the handler only rewrites the instruction pointer, so the
 * kernel's function body never runs while a hook is armed and hvo_shared's
 * policy decides. The originals are never called: on IBT kernels they are
 * sealed (no ENDBR), and an indirect call into them would fault.
 *
 * One ops, not one per function: each unregistered ops costs an RCU-tasks
 * grace period (ftrace_shutdown()), and each registered one a pass of text
 * patching. Each hook is armed on its own instead, in a fixed order.
 *
 * hugetlb_vmemmap_optimize_bootmem_folios() is not hooked: it runs only
 * during boot, before any module can load.
 */
#include <linux/ftrace.h>
#include <linux/kernel.h>

#include "hvo_engine.h"
#include "hvo_hooks.h"
#include "hvo_inject.h"
#include "hvo_kernel.h"

struct hvo_hook {
	const char *name;
	void *replacement;
	unsigned long ip;	/* the kernel function's ftrace site */
	bool armed;
};

/*
 * Restore first: armed in this order and disarmed in the reverse one,
 * every folio hvo_shared optimizes is restored by hvo_shared, which keeps
 * its list of folios exact. Were the optimize hooks armed alone, a folio
 * optimized through them and freed by the kernel's restore would stay
 * listed after it left hugetlb, and its PFN would be refused next time.
 */
static struct hvo_hook hvo_hooks[] = {
	{ "hugetlb_vmemmap_restore_folio", hvo_restore_folio },
	{ "hugetlb_vmemmap_restore_folios", hvo_restore_folios },
	{ "hugetlb_vmemmap_optimize_folio", hvo_optimize_folio },
	{ "hugetlb_vmemmap_optimize_folios", hvo_optimize_folios },
};

static void notrace hvo_ftrace_handler(unsigned long ip, unsigned long parent_ip,
				       struct ftrace_ops *ops,
				       struct ftrace_regs *fregs)
{
	struct hvo_hook *hook;

	for (hook = hvo_hooks; hook < hvo_hooks + ARRAY_SIZE(hvo_hooks); hook++) {
		if (hook->ip != ip)
			continue;
		/* Pairs with the release in hvo_hooks_install(). */
		if (smp_load_acquire(&hook->armed))
			ftrace_regs_set_instruction_pointer(fregs,
							    (unsigned long)hook->replacement);
		return;
	}
}

static struct ftrace_ops hvo_ops = {
	.func	= hvo_ftrace_handler,
	/*
	 * PERMANENT: the ftrace_enabled sysctl must not silently drop the
	 * hooks and hand folios back to a kernel function mid-flight.
	 */
	.flags	= FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY |
		  FTRACE_OPS_FL_RECURSION | FTRACE_OPS_FL_PERMANENT,
};

/* Find each function's ftrace site and add it to the ops' filter. */
static int hvo_hooks_filter(void)
{
	struct hvo_hook *hook;
	int ret;

	for (hook = hvo_hooks; hook < hvo_hooks + ARRAY_SIZE(hvo_hooks); hook++) {
		hook->ip = hvo_ftrace_ip(hook->name);
		ret = hook->ip ? ftrace_set_filter_ip(&hvo_ops, hook->ip, 0, 0) : -ENOENT;
		if (ret) {
			pr_err("cannot hook %s: not traceable (%d)\n", hook->name, ret);
			ftrace_free_filter(&hvo_ops);
			return -ENOENT;
		}
	}
	return 0;
}

/**
 * hvo_hooks_install - take over the kernel's HVO entry points, all or none
 *
 * Return: 0, or an error; then none is installed.
 */
int hvo_hooks_install(void)
{
	int i, ret;

	ret = hvo_hooks_filter();
	if (ret)
		return ret;
	/* Every site calls the handler from here on; nothing is armed yet. */
	ret = register_ftrace_function(&hvo_ops);
	if (ret) {
		pr_err("cannot hook the HVO entry points: %pe%s\n", ERR_PTR(ret),
		       ret == -EBUSY ? " (another module or livepatch owns one)" : "");
		ftrace_free_filter(&hvo_ops);
		return ret;
	}
	for (i = 0; i < ARRAY_SIZE(hvo_hooks); i++) {
		if (i)
			hvo_inject_delay(HVO_INJECT_HOOK_GAP);
		/* The hook's target sees everything set up before it. */
		smp_store_release(&hvo_hooks[i].armed, true);
	}
	return 0;
}

/* The restore hooks come first in hvo_hooks[]; these many. */
#define HVO_RESTORE_HOOKS	2

/* Disarm hooks @from down to @to, in reverse order, as load armed them. */
static void hvo_hooks_disarm(int from, int to)
{
	int i;

	for (i = from; i >= to; i--) {
		WRITE_ONCE(hvo_hooks[i].armed, false);
		if (i)
			hvo_inject_delay(HVO_INJECT_HOOK_GAP);
	}
}

/*
 * Disarm the optimize hooks: from here on no new folio is optimized by
 * hvo_shared, while every restore still comes to it. Unload gives folios
 * back in between: a folio whose restore a giveback batch has remapped
 * but not flushed yet still has its flag set, and only hvo_shared's
 * restore knows to finish it rather than restore it again
 * (hvo_restore_folio()).
 */
void hvo_hooks_stop_optimize(void)
{
	hvo_hooks_disarm(ARRAY_SIZE(hvo_hooks) - 1, HVO_RESTORE_HOOKS);
}

/*
 * Disarm the restore hooks too, then remove the ops; the kernel's HVO is
 * back afterwards. A task the handler already sent to hvo_shared may
 * still be on its way: hvo_engine_exit() waits for it.
 */
void hvo_hooks_remove(void)
{
	hvo_hooks_disarm(HVO_RESTORE_HOOKS - 1, 0);
	/* For module-owned ops this waits until no CPU is in the handler. */
	unregister_ftrace_function(&hvo_ops);
	ftrace_free_filter(&hvo_ops);
}
