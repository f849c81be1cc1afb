// SPDX-License-Identifier: GPL-2.0
/*
 * hvo_test_owner: a stand-in for a livepatch or another module that owns
 * one kernel function with an IPMODIFY ftrace hook, so that 03-refusals
 * can check that hvo_shared then refuses to load and leaves nothing
 * behind. The handler changes nothing: the function runs as it is.
 *
 *   insmod hvo_test_owner.ko func=hugetlb_vmemmap_restore_folios
 */
#include <linux/ftrace.h>
#include <linux/module.h>
#include <linux/string.h>

static char *func = "hugetlb_vmemmap_optimize_folios";
module_param(func, charp, 0444);
MODULE_PARM_DESC(func, "the function to own");

static void notrace owner_handler(unsigned long ip, unsigned long parent_ip,
				  struct ftrace_ops *ops, struct ftrace_regs *fregs)
{
}

static struct ftrace_ops owner_ops = {
	.func	= owner_handler,
	.flags	= FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY,
};

static int __init owner_init(void)
{
	int ret = ftrace_set_filter(&owner_ops, (unsigned char *)func, strlen(func), 0);

	if (ret)
		return ret;
	ret = register_ftrace_function(&owner_ops);
	if (ret)
		ftrace_free_filter(&owner_ops);
	return ret;
}

static void __exit owner_exit(void)
{
	unregister_ftrace_function(&owner_ops);
	ftrace_free_filter(&owner_ops);
}

module_init(owner_init);
module_exit(owner_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hvo_shared test: own a function with an IPMODIFY ftrace hook");
