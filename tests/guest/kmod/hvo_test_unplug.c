// SPDX-License-Identifier: GPL-2.0
/*
 * hvo_test_unplug: offline and remove one range of hot-plugged memory,
 * as virtio-mem does, with the kernel's own window in that removal held
 * open, so that boot/hot-remove can race a vmemmap PMD split against it.
 *
 *   insmod hvo_test_unplug.ko start=PHYS size=BYTES [poll_ms=MS]
 *   echo 1 > /sys/module/hvo_test_unplug/parameters/go
 *
 * The write wakes a kthread bound to CPU 0, which calls
 * offline_and_remove_memory(start, size); it returns at once. Loaded
 * beforehand because loading a module takes init_mm's mmap lock for
 * writing (set_memory_rox() -> cpa_flush()), which a split in progress
 * holds for reading. When the memmap of the range is mapped by a
 * PMD leaf, removing it frees that 2 MiB block to the buddy allocator
 * first and clears the PMD afterwards (remove_pmd_table(),
 * arch/x86/mm/init_64.c): a split of that PMD by hvo_shared meanwhile
 * would split_page() a free block and install a table that the clear
 * then leaks. A kretprobe on __free_pages() catches the free of that
 * block by the kthread and, on its return, before the PMD is cleared,
 * waits up to poll_ms for the PMD to stop being a leaf (a busy wait:
 * preemption is off there; the default, 8 s, is well short of the RCU
 * stall and soft-lockup detectors), then counts the pages of the freed
 * block that are still referenced. Everything it saw is in read-only
 * parameters, under /sys/module/hvo_test_unplug/parameters:
 *
 *   done         1 once offline_and_remove_memory() returned
 *   result       what it returned (0: removed)
 *   ms           how long it took
 *   leaf_at_go   1 if the range's memmap was a PMD leaf at the write
 *   leaf_frees   how many times the kthread freed that PMD's block
 *   raced        1 if a table replaced the PMD leaf after its block was
 *                freed and before the kernel cleared it
 *   table_pfn    that table's PFN (leaked when the PMD is cleared)
 *   referenced   pages of the freed block with a nonzero refcount at the
 *                end of the wait (a block just freed has none)
 *   waited_ms    how long the wait lasted
 */
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/kprobes.h>
#include <linux/kthread.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/wait.h>
#include <asm/pgtable.h>

static unsigned long long start;
module_param(start, ullong, 0444);
MODULE_PARM_DESC(start, "physical address of the range to remove (memory block aligned)");
static unsigned long long size;
module_param(size, ullong, 0444);
MODULE_PARM_DESC(size, "its size in bytes (whole memory blocks)");
static unsigned int poll_ms = 8000;
module_param(poll_ms, uint, 0444);
MODULE_PARM_DESC(poll_ms, "how long to hold the window between the memmap block's free and its PMD's clear open (max 15000)");

static int done;
module_param(done, int, 0444);
static int result = -EINPROGRESS;
module_param(result, int, 0444);
static unsigned int ms;
module_param(ms, uint, 0444);
static int leaf_at_go;
module_param(leaf_at_go, int, 0444);
static int leaf_frees;
module_param(leaf_frees, int, 0444);
static int raced;
module_param(raced, int, 0444);
static unsigned long table_pfn;
module_param(table_pfn, ulong, 0444);
static int referenced;
module_param(referenced, int, 0444);
static unsigned int waited_ms;
module_param(waited_ms, uint, 0444);

static struct task_struct *remover;
static DECLARE_COMPLETION(remover_done);
/* The vmemmap address of the range's first struct page. */
static unsigned long watch;

/* The PFN of the PMD leaf mapping @watch, or 0 if it is not a leaf. */
static unsigned long watch_leaf_pfn(void)
{
	unsigned int level;
	pte_t *p = lookup_address(watch, &level);

	if (!p || level != PG_LEVEL_2M || !pmd_present(*(pmd_t *)p))
		return 0;
	return pmd_pfn(*(pmd_t *)p);
}

static bool go, stopping;
static DECLARE_WAIT_QUEUE_HEAD(go_wait);

static int go_set(const char *val, const struct kernel_param *kp)
{
	if (!sysfs_streq(val, "1") || READ_ONCE(go))
		return -EINVAL;
	leaf_at_go = watch_leaf_pfn() != 0;
	WRITE_ONCE(go, true);
	wake_up(&go_wait);
	return 0;
}

static const struct kernel_param_ops go_ops = {
	.set = go_set,
	.get = param_get_bool,
};
module_param_cb(go, &go_ops, &go, 0644);
MODULE_PARM_DESC(go, "write 1: offline and remove the range now");

struct free_call {
	struct page *page;
};

/* __free_pages(page, order): only the kthread's free of the watched block. */
static int free_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct free_call *fc = (struct free_call *)ri->data;
	struct page *page = (struct page *)regs_get_kernel_argument(regs, 0);
	unsigned long pfn;

	if (current != remover || regs_get_kernel_argument(regs, 1) != PMD_ORDER)
		return 1;
	pfn = watch_leaf_pfn();
	if (!pfn || pfn != page_to_pfn(page))
		return 1;
	fc->page = page;
	return 0;
}

/*
 * Back from freeing the block, the PMD still maps it: hold the window
 * open until someone replaces the leaf, or poll_ms have passed.
 */
static int free_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct free_call *fc = (struct free_call *)ri->data;
	unsigned int level, t, i, n = 0;
	pte_t *p = NULL;

	WRITE_ONCE(leaf_frees, leaf_frees + 1);
	for (t = 0; t < poll_ms; t += 10) {
		p = lookup_address(watch, &level);
		if (!p || level != PG_LEVEL_2M)
			break;
		mdelay(10);
	}
	WRITE_ONCE(waited_ms, t);
	if (p && level == PG_LEVEL_4K) {
		WRITE_ONCE(table_pfn, page_to_pfn(virt_to_page(p)));
		WRITE_ONCE(raced, 1);
	}
	for (i = 0; i < (1U << PMD_ORDER); i++)
		n += page_ref_count(fc->page + i) != 0;
	WRITE_ONCE(referenced, n);
	pr_info("hvo_test_unplug: memmap block pfn %#lx freed; after %u ms its PMD is %s; %u of its pages referenced\n",
		page_to_pfn(fc->page), t,
		!p ? "gone" : level == PG_LEVEL_2M ? "still the leaf" : "a PTE table",
		n);
	return 0;
}

static struct kretprobe free_probe = {
	.kp.symbol_name	= "__free_pages",
	.entry_handler	= free_entry,
	.handler	= free_return,
	.data_size	= sizeof(struct free_call),
	.maxactive	= 8,
};

static int remover_fn(void *unused)
{
	u64 t0;
	int ret;

	/* Interruptible: no hung-task report while the test sets up. */
	wait_event_interruptible(go_wait, READ_ONCE(go) || READ_ONCE(stopping));
	if (!READ_ONCE(go)) {
		WRITE_ONCE(remover, NULL);
		kthread_complete_and_exit(&remover_done, 0);
	}
	t0 = ktime_get_ns();
	pr_info("hvo_test_unplug: offline_and_remove_memory(%#llx, %#llx) begins\n",
		start, size);
	ret = offline_and_remove_memory(start, size);
	WRITE_ONCE(ms, div_u64(ktime_get_ns() - t0, NSEC_PER_MSEC));
	pr_info("hvo_test_unplug: offline_and_remove_memory(%#llx, %#llx) = %d after %u ms\n",
		start, size, ret, ms);
	WRITE_ONCE(result, ret);
	WRITE_ONCE(remover, NULL);
	/* The results before done: the test reads them once it sees done. */
	smp_wmb();
	WRITE_ONCE(done, 1);
	kthread_complete_and_exit(&remover_done, 0);
}

static int __init unplug_init(void)
{
	int ret;

	/* offline_and_remove_memory() BUG()s on a range not in whole blocks. */
	if (!size || !IS_ALIGNED(start, SZ_128M) || !IS_ALIGNED(size, SZ_128M) ||
	    poll_ms > 15000)
		return -EINVAL;
	watch = (unsigned long)pfn_to_page(PHYS_PFN(start));
	ret = register_kretprobe(&free_probe);
	if (ret)
		return ret;
	remover = kthread_create(remover_fn, NULL, "hvo_unplug");
	if (IS_ERR(remover)) {
		unregister_kretprobe(&free_probe);
		return PTR_ERR(remover);
	}
	kthread_bind(remover, 0);
	wake_up_process(remover);
	return 0;
}

static void __exit unplug_exit(void)
{
	WRITE_ONCE(stopping, true);
	wake_up(&go_wait);
	wait_for_completion(&remover_done);
	unregister_kretprobe(&free_probe);
}

module_init(unplug_init);
module_exit(unplug_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hvo_shared test: offline and remove hot-plugged memory, holding the memmap free/clear window open");
