// SPDX-License-Identifier: GPL-2.0
/*
 * hvo_shared: module entry and exit, the top of the stack:
 *
 *   main.c		entry and exit
 *   control.c stats.c verify.c	controls and reports (hvo_control.h)
 *   actions.c hooks.c	pool actions, and the hooks (hvo_actions.h, hvo_hooks.h)
 *   pool.c		walking the pools (hvo_pool.h)
 *   optimize.c restore.c	optimize and restore a folio (hvo_engine.h)
 *   engine.c		what both share
 *   remap.c tails.c	the remapper and the shared tails (hvo_remap.h)
 *   hotremove.c	memory hot-remove kept away from splits (hvo_remap.h)
 *   state.c policy.c inject.c	state and counters, policy, fault injection
 *   symbols.c kcheck.c	the kernel as found (hvo_kernel.h)
 *
 * Each file calls only into the layers below it (docs/design.md).
 *
 * Load order is check, resolve, count, hook, take over: nothing is hooked
 * until every check has passed, so a refused load leaves the kernel as it
 * found it. Unload removes the debugfs files, stops optimizing, gives
 * free folios back if asked to, unhooks the restores, then waits for
 * tasks still inside a replacement; folios left optimized stay valid and
 * the kernel's HVO restores them when they are freed.
 */
#include <linux/debugfs.h>
#include <linux/module.h>

#include "hvo_actions.h"
#include "hvo_control.h"
#include "hvo_engine.h"
#include "hvo_hooks.h"
#include "hvo_kernel.h"
#include "hvo_remap.h"
#include "hvo_state.h"

static struct dentry *hvo_debugfs_dir;

/* /sys/kernel/debug/hvo_shared/, with the stats and verify files. */
static int hvo_debugfs_init(void)
{
	int ret;

	hvo_debugfs_dir = debugfs_create_dir("hvo_shared", NULL);
	if (IS_ERR(hvo_debugfs_dir)) {
		pr_err("cannot create debugfs directory: %pe\n", hvo_debugfs_dir);
		return PTR_ERR(hvo_debugfs_dir);
	}
	ret = hvo_stats_init(hvo_debugfs_dir);
	if (!ret)
		ret = hvo_verify_init(hvo_debugfs_dir);
	if (ret)
		debugfs_remove(hvo_debugfs_dir);
	return ret;
}

static int __init hvo_shared_init(void)
{
	int ret;

	ret = hvo_check_kernel();
	if (ret)
		return ret;
	ret = hvo_resolve_symbols();
	if (ret)
		return ret;
	ret = hvo_state_init();
	if (ret)
		return ret;
	ret = hvo_debugfs_init();
	if (ret)
		goto free_state;
	/* Before any folio is touched: splits of free folios need it. */
	ret = hvo_hotremove_init();
	if (ret)
		goto remove_debugfs;
	ret = hvo_hooks_install();
	if (ret)
		goto hotremove_exit;
	pr_info("version %s loaded\n", HVO_SHARED_VERSION);
	hvo_pool_takeover();
	/* Active from here; then adopt=1 or restore=1 given at load run. */
	hvo_control_start();
	return 0;

hotremove_exit:
	hvo_hotremove_exit();
remove_debugfs:
	debugfs_remove(hvo_debugfs_dir);
free_state:
	hvo_state_exit();
	return ret;
}

static void __exit hvo_shared_exit(void)
{
	WRITE_ONCE(hvo_state, HVO_STATE_UNLOADING);
	/* A running adopt or restore finishes first; later ones are refused. */
	hvo_control_exit();
	/*
	 * The debugfs files go first, waiting for readers (debugfs_remove()
	 * does): verify would report the folios giveback is halfway through.
	 */
	debugfs_remove(hvo_debugfs_dir);
	/*
	 * Giveback runs between the two. A folio it remapped keeps its flag
	 * until its batch's flush; if the kernel frees it meanwhile, the
	 * restore that runs must be hvo_shared's, which finishes it
	 * (hvo_restore_folio()): the kernel's would restore it again and
	 * leak the pages giveback mapped.
	 */
	hvo_hooks_stop_optimize();
	hvo_pool_giveback();
	hvo_hooks_remove();
	hvo_engine_exit();
	hvo_hotremove_exit();
	hvo_state_exit();
	pr_info("unloaded\n");
}

module_init(hvo_shared_init);
module_exit(hvo_shared_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Shared-tail HugeTLB Vmemmap Optimization, loadable at run time");
MODULE_VERSION(HVO_SHARED_VERSION);
