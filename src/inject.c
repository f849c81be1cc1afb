// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection, for the test suite: make chosen allocation sites fail,
 * and widen the two windows in which a task runs module text without being
 * counted (between the ftrace trampoline and hvo_enter(), and after
 * hvo_exit()), so that a test can race rmmod against them. sleep_inside
 * sleeps where the task is counted, so that an RCU-tasks grace period
 * started meanwhile (the one in unregister_ftrace_function()) ends before
 * the task reaches the exit window. split_flush spins between a PMD split
 * and its TLB flush, under init_mm's page_table_lock, so that a test can
 * race other optimizers against it. split_alloc sleeps after a PTE table
 * for a split is allocated, before the PMD is looked at again, so that a
 * test can offline and remove the memory meanwhile. batch_flush sleeps
 * before a batch's TLB flush, with its folios remapped and their flags
 * still set, so that the kernel can take them meanwhile. hook_gap sleeps between arming (or
 * disarming) two hooks, so that pool changes meet a half-hooked kernel.
 *
 *   inject=none | SITE[,SITE...]     sites: pte_table, head_copy,
 *                                    shared_tail, xarray, restore_pages,
 *                                    restore_block, restore_fill,
 *                                    split_flush, split_alloc,
 *                                    batch_flush,
 *                                    delay_enter, sleep_inside, delay_exit,
 *                                    hook_gap
 *   inject_every=N                   act on every Nth visit of a site (0: off)
 *   inject_probability=P             or with probability P percent
 *   inject_delay_ms=MS               how long a delay site spins
 *
 * The kernel's fault_attr needs CONFIG_FAULT_INJECTION, which Debian's
 * kernels do not set; this is the same idea, per site and always built.
 * With inject=none (the default) a site costs one READ_ONCE().
 */
#include <linux/delay.h>
#include <linux/moduleparam.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "hvo_inject.h"

static const char *const hvo_inject_names[HVO_INJECT_NR] = {
	[HVO_INJECT_PTE_TABLE]		= "pte_table",
	[HVO_INJECT_HEAD_COPY]		= "head_copy",
	[HVO_INJECT_SHARED_TAIL]	= "shared_tail",
	[HVO_INJECT_XARRAY]		= "xarray",
	[HVO_INJECT_RESTORE_PAGES]	= "restore_pages",
	[HVO_INJECT_RESTORE_BLOCK]	= "restore_block",
	[HVO_INJECT_RESTORE_FILL]	= "restore_fill",
	[HVO_INJECT_SPLIT_FLUSH]	= "split_flush",
	[HVO_INJECT_SPLIT_ALLOC]	= "split_alloc",
	[HVO_INJECT_BATCH_FLUSH]	= "batch_flush",
	[HVO_INJECT_DELAY_ENTER]	= "delay_enter",
	[HVO_INJECT_SLEEP_INSIDE]	= "sleep_inside",
	[HVO_INJECT_DELAY_EXIT]		= "delay_exit",
	[HVO_INJECT_HOOK_GAP]		= "hook_gap",
};

static unsigned long hvo_inject_sites;
static unsigned int hvo_inject_every;
static unsigned int hvo_inject_probability;
static unsigned int hvo_inject_delay_ms = 1000;
static atomic_t hvo_inject_visits[HVO_INJECT_NR];

atomic_long_t hvo_injected[HVO_INJECT_NR];

static bool hvo_inject_now(enum hvo_inject_site site)
{
	unsigned int every = READ_ONCE(hvo_inject_every);
	unsigned int prob = READ_ONCE(hvo_inject_probability);

	if (every && !(atomic_inc_return(&hvo_inject_visits[site]) % every))
		return true;
	return prob && get_random_u32_below(100) < prob;
}

/**
 * hvo_inject_fail - whether the allocation at @site should fail this time
 * @site:	an allocation site, HVO_INJECT_PTE_TABLE..RESTORE_BLOCK
 *
 * Counted per site in the stats file (injected.SITE).
 */
bool hvo_inject_fail(enum hvo_inject_site site)
{
	if (likely(!(READ_ONCE(hvo_inject_sites) & BIT(site))))
		return false;
	if (!hvo_inject_now(site))
		return false;
	atomic_long_inc(&hvo_injected[site]);
	return true;
}

/**
 * hvo_inject_delay - wait at @site, if it is chosen
 * @site:	HVO_INJECT_SPLIT_FLUSH, _SPLIT_ALLOC, _BATCH_FLUSH,
 *		_DELAY_ENTER, _SLEEP_INSIDE, _DELAY_EXIT or _HOOK_GAP
 *
 * The unload windows get a busy wait (preemptible, except split_flush's,
 * which is under a spinlock) rather than a sleep: a sleep is a voluntary
 * context switch, which would end the RCU-tasks grace period that unload
 * relies on and so hide the window it widens. The others sleep, as the
 * allocation or wait they stand for may.
 */
void hvo_inject_delay(enum hvo_inject_site site)
{
	if (likely(!(READ_ONCE(hvo_inject_sites) & BIT(site))))
		return;
	if (!hvo_inject_now(site))
		return;
	atomic_long_inc(&hvo_injected[site]);
	if (site == HVO_INJECT_SLEEP_INSIDE || site == HVO_INJECT_HOOK_GAP ||
	    site == HVO_INJECT_SPLIT_ALLOC || site == HVO_INJECT_BATCH_FLUSH)
		msleep(READ_ONCE(hvo_inject_delay_ms));
	else
		mdelay(READ_ONCE(hvo_inject_delay_ms));
}

const char *hvo_inject_name(enum hvo_inject_site site)
{
	return hvo_inject_names[site];
}

static int hvo_inject_set(const char *val, const struct kernel_param *kp)
{
	unsigned long sites = 0;
	char *buf, *cur, *tok;
	int i, ret = 0;

	if (sysfs_streq(val, "none")) {
		WRITE_ONCE(hvo_inject_sites, 0);
		return 0;
	}
	buf = kstrdup(val, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	cur = strim(buf);
	while (!ret && (tok = strsep(&cur, ",")) != NULL) {
		i = match_string(hvo_inject_names, HVO_INJECT_NR, tok);
		if (i < 0)
			ret = -EINVAL;
		else
			sites |= BIT(i);
	}
	kfree(buf);
	if (ret) {
		pr_err("inject='%.*s': expected none or sites among pte_table, head_copy, shared_tail, xarray, restore_pages, restore_block, restore_fill, split_flush, split_alloc, batch_flush, delay_enter, sleep_inside, delay_exit, hook_gap\n",
		       (int)strcspn(val, "\n"), val);
		return ret;
	}
	WRITE_ONCE(hvo_inject_sites, sites);
	return 0;
}

static int hvo_inject_get(char *buffer, const struct kernel_param *kp)
{
	unsigned long sites = READ_ONCE(hvo_inject_sites);
	int i, len = 0;

	if (!sites)
		return sysfs_emit(buffer, "none\n");
	for_each_set_bit(i, &sites, HVO_INJECT_NR)
		len += sysfs_emit_at(buffer, len, "%s%s", len ? "," : "",
				     hvo_inject_names[i]);
	return len + sysfs_emit_at(buffer, len, "\n");
}

static const struct kernel_param_ops hvo_inject_ops = {
	.set = hvo_inject_set,
	.get = hvo_inject_get,
};
module_param_cb(inject, &hvo_inject_ops, NULL, 0644);
MODULE_PARM_DESC(inject, "testing: sites to fail or delay, or none (default)");

/* A parameter that takes an integer from 0 to a maximum. */
struct hvo_bounded_uint {
	unsigned int *val;
	unsigned int max;
};

static int hvo_set_bounded(const char *val, const struct kernel_param *kp)
{
	const struct hvo_bounded_uint *b = kp->arg;
	unsigned int v;

	if (kstrtouint(val, 0, &v) || v > b->max) {
		pr_err("%s='%.*s': expected 0-%u\n", kp->name,
		       (int)strcspn(val, "\n"), val, b->max);
		return -EINVAL;
	}
	WRITE_ONCE(*b->val, v);
	return 0;
}

static int hvo_get_bounded(char *buffer, const struct kernel_param *kp)
{
	const struct hvo_bounded_uint *b = kp->arg;

	return sysfs_emit(buffer, "%u\n", READ_ONCE(*b->val));
}

static const struct kernel_param_ops hvo_bounded_ops = {
	.set = hvo_set_bounded,
	.get = hvo_get_bounded,
};

static struct hvo_bounded_uint hvo_probability_param = {
	.val = &hvo_inject_probability, .max = 100,
};
module_param_cb(inject_probability, &hvo_bounded_ops, &hvo_probability_param, 0644);
MODULE_PARM_DESC(inject_probability, "testing: act on a chosen site with this probability, in percent");

/* Long enough to race rmmod, short of the soft-lockup detector. */
static struct hvo_bounded_uint hvo_delay_param = {
	.val = &hvo_inject_delay_ms, .max = 10000,
};
module_param_cb(inject_delay_ms, &hvo_bounded_ops, &hvo_delay_param, 0644);
MODULE_PARM_DESC(inject_delay_ms, "testing: how long a delay site waits (default 1000)");

module_param_named(inject_every, hvo_inject_every, uint, 0644);
MODULE_PARM_DESC(inject_every, "testing: act on every Nth visit of a chosen site (0: never)");
