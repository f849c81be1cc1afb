// SPDX-License-Identifier: GPL-2.0
/*
 * hvo_shared: module entry and exit.
 *
 * Load order is check, resolve, publish: nothing is registered until every
 * check has passed, so a refused load leaves the kernel as it found it.
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

	hvo_state = HVO_STATE_READY;
	pr_info("version %s loaded\n", HVO_SHARED_VERSION);
	return 0;
}

static void __exit hvo_shared_exit(void)
{
	hvo_state = HVO_STATE_UNLOADING;
	hvo_stats_exit();
	pr_info("unloaded\n");
}

module_init(hvo_shared_init);
module_exit(hvo_shared_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Shared-tail HugeTLB Vmemmap Optimization, loadable at run time");
MODULE_VERSION(HVO_SHARED_VERSION);
