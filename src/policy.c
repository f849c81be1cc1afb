// SPDX-License-Identifier: GPL-2.0
/*
 * Which folios hvo_shared optimizes: module parameters, also writable at
 * run time through /sys/module/hvo_shared/parameters/.
 *
 *   hstates=all | none | SIZE[,SIZE...]   e.g. hstates=2M,1G
 *   nodes=all | NODELIST                  e.g. nodes=0 or nodes=0-1
 *
 * A value that does not parse, names a size no optimizable hstate can have,
 * or names a node that cannot exist is refused with -EINVAL and leaves the
 * current policy as it was. Parameters are used instead of writable debugfs
 * files because those are refused under lockdown.
 */
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/moduleparam.h>
#include <linux/mmzone.h>
#include <linux/nodemask.h>
#include <linux/string.h>

#include "hvo_kernel.h"
#include "hvo_policy.h"

/* Orders whose vmemmap spans at least two pages: the head and a tail. */
#define HVO_ALL_ORDERS	GENMASK(HVO_MAX_ORDER, HVO_MIN_ORDER)

static unsigned long hvo_orders = HVO_ALL_ORDERS;
static nodemask_t hvo_nodes = NODE_MASK_ALL;

bool hvo_policy_wants(unsigned int order, int nid)
{
	return (READ_ONCE(hvo_orders) & BIT(order)) && node_isset(nid, hvo_nodes);
}

/* "2M", "1G": the form memparse() reads back. */
static int hvo_emit_size(char *buf, int at, unsigned long long bytes)
{
	static const char units[] = "KMGT";
	int u = 0;

	bytes >>= 10;
	while (u < 3 && bytes >= 1024 && !(bytes & 1023)) {
		bytes >>= 10;
		u++;
	}
	return sysfs_emit_at(buf, at, "%llu%c", bytes, units[u]);
}

/* Length of a written value without its trailing newline, for messages. */
static int hvo_val_len(const char *val)
{
	return strcspn(val, "\n");
}

static int hvo_parse_orders(const char *val, unsigned long *orders)
{
	char *buf, *cur, *tok;
	int ret = 0;

	if (sysfs_streq(val, "all")) {
		*orders = HVO_ALL_ORDERS;
		return 0;
	}
	if (sysfs_streq(val, "none")) {
		*orders = 0;
		return 0;
	}

	buf = kstrdup(val, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	*orders = 0;
	cur = strim(buf);
	while ((tok = strsep(&cur, ",")) != NULL) {
		unsigned long long size;
		char *end;

		size = memparse(tok, &end);
		if (end == tok || *end || !is_power_of_2(size) ||
		    size < (PAGE_SIZE << HVO_MIN_ORDER) ||
		    size > (PAGE_SIZE << HVO_MAX_ORDER)) {
			ret = -EINVAL;
			break;
		}
		*orders |= BIT(ilog2(size) - PAGE_SHIFT);
	}
	kfree(buf);
	return ret;
}

static int hvo_hstates_set(const char *val, const struct kernel_param *kp)
{
	unsigned long orders;

	if (hvo_parse_orders(val, &orders)) {
		pr_err("hstates='%.*s': expected all, none or huge page sizes such as 2M,1G\n",
		       hvo_val_len(val), val);
		return -EINVAL;
	}
	WRITE_ONCE(hvo_orders, orders);
	return 0;
}

static int hvo_hstates_get(char *buffer, const struct kernel_param *kp)
{
	unsigned long orders = READ_ONCE(hvo_orders);
	unsigned int order;
	int len = 0;

	if (orders == HVO_ALL_ORDERS)
		return sysfs_emit(buffer, "all\n");
	if (!orders)
		return sysfs_emit(buffer, "none\n");
	for_each_set_bit(order, &orders, BITS_PER_LONG) {
		if (len)
			len += sysfs_emit_at(buffer, len, ",");
		len += hvo_emit_size(buffer, len, (u64)PAGE_SIZE << order);
	}
	return len + sysfs_emit_at(buffer, len, "\n");
}

static const struct kernel_param_ops hvo_hstates_ops = {
	.set = hvo_hstates_set,
	.get = hvo_hstates_get,
};
module_param_cb(hstates, &hvo_hstates_ops, NULL, 0644);
MODULE_PARM_DESC(hstates, "huge page sizes to optimize: all (default), none, or a list such as 2M,1G");

static int hvo_nodes_set(const char *val, const struct kernel_param *kp)
{
	nodemask_t mask;

	if (sysfs_streq(val, "all")) {
		hvo_nodes = NODE_MASK_ALL;
		return 0;
	}
	if (nodelist_parse(val, mask) || nodes_empty(mask) ||
	    !nodes_subset(mask, node_possible_map)) {
		pr_err("nodes='%.*s': expected all or a list of possible nodes within 0-%d\n",
		       hvo_val_len(val), val, nr_node_ids - 1);
		return -EINVAL;
	}
	hvo_nodes = mask;
	return 0;
}

static int hvo_nodes_get(char *buffer, const struct kernel_param *kp)
{
	if (nodes_full(hvo_nodes))
		return sysfs_emit(buffer, "all\n");
	return sysfs_emit(buffer, "%*pbl\n", nodemask_pr_args(&hvo_nodes));
}

static const struct kernel_param_ops hvo_nodes_ops = {
	.set = hvo_nodes_set,
	.get = hvo_nodes_get,
};
module_param_cb(nodes, &hvo_nodes_ops, NULL, 0644);
MODULE_PARM_DESC(nodes, "NUMA nodes whose folios are optimized: all (default) or a list such as 0-1");
