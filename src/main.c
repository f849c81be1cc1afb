// SPDX-License-Identifier: GPL-2.0
/*
 * hvo_shared: module entry and exit.
 *
 * Load order is check, resolve, count, hook, take over: nothing is hooked
 * until every check has passed, so a refused load leaves the kernel as it
 * found it. Unload removes the debugfs files, unhooks, gives free folios
 * back if asked to, then waits for tasks still inside a replacement; folios left optimized stay
 * valid and the kernel's HVO restores them when they are freed.
 */
#include <linux/module.h>

#include "hvo_shared.h"

enum hvo_state hvo_state = HVO_STATE_LOADING;

static int __init hvo_shared_init(void)
{
	int ret;

	ret = hvo_check_kernel();
	if (ret)
		return ret;

	ret = hvo_resolve_symbols();
	if (ret)
		return ret;

	ret = hvo_stats_init();
	if (ret)
		return ret;

	ret = hvo_hooks_install();
	if (ret) {
		hvo_stats_exit();
		return ret;
	}

	pr_info("version %s loaded\n", HVO_SHARED_VERSION);
	hvo_pool_takeover();
	/* Active from here; then adopt=1 or restore=1 given at load run. */
	hvo_adopt_start();
	return 0;
}

static void __exit hvo_shared_exit(void)
{
	WRITE_ONCE(hvo_state, HVO_STATE_UNLOADING);
	/* A running adopt or restore finishes first; later ones are refused. */
	hvo_adopt_exit();
	/*
	 * The debugfs files go first, waiting for readers: once the hooks
	 * are gone the kernel may restore folios hvo_shared still lists, and
	 * verify would report them.
	 */
	hvo_debugfs_exit();
	hvo_hooks_remove();
	hvo_pool_giveback();
	hvo_engine_exit();
	hvo_stats_exit();
	pr_info("unloaded\n");
}

module_init(hvo_shared_init);
module_exit(hvo_shared_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Shared-tail HugeTLB Vmemmap Optimization, loadable at run time");
MODULE_VERSION(HVO_SHARED_VERSION);
