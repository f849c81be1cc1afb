// SPDX-License-Identifier: GPL-2.0
/*
 * hvo_page_cost: what the parts of restoring one vmemmap page cost in this
 * boot, for make bench (docs/bench.md): allocating it (with the zeroing
 * that init_on_alloc=1, Debian's default, adds), clear_page(),
 * copy_page() from a page of tail struct pages (what the kernel's restore
 * does) and hvo_shared's fill from one struct page (include/hvo_fill.h).
 * Prints one line at load: "hvo_page_cost: init_on_alloc B ns alloc A
 * clear C copy P fill F", nanoseconds per page, over NR pages each.
 */
#include <linux/gfp.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "hvo_fill.h"

#define NR 2048

static int __init page_cost_init(void)
{
	struct page **pages = kvmalloc_array(NR, sizeof(*pages), GFP_KERNEL);
	struct page *tail = alloc_page(GFP_KERNEL | __GFP_ZERO);
	u64 t[5];
	int i, got;

	if (!pages || !tail) {
		kvfree(pages);
		if (tail)
			__free_page(tail);
		return -ENOMEM;
	}
	/* Any 64 equal struct pages will do: the cost does not depend on them. */
	for (i = 0; i < PAGE_SIZE / sizeof(struct page); i++)
		atomic_set(&((struct page *)page_address(tail) + i)->_mapcount, -1);

	t[0] = ktime_get_ns();
	for (got = 0; got < NR; got++) {
		pages[got] = alloc_page(GFP_KERNEL | __GFP_NOWARN);
		if (!pages[got])
			break;
	}
	t[1] = ktime_get_ns();
	for (i = 0; i < got; i++)
		clear_page(page_address(pages[i]));
	t[2] = ktime_get_ns();
	for (i = 0; i < got; i++)
		copy_page(page_address(pages[i]), page_address(tail));
	t[3] = ktime_get_ns();
	for (i = 0; i < got; i++)
		hvo_fill_tails(page_address(pages[i]), page_address(tail));
	t[4] = ktime_get_ns();

	if (got)
		pr_info("hvo_page_cost: init_on_alloc %d ns alloc %llu clear %llu copy %llu fill %llu\n",
			want_init_on_alloc(GFP_KERNEL), (t[1] - t[0]) / got,
			(t[2] - t[1]) / got, (t[3] - t[2]) / got, (t[4] - t[3]) / got);
	for (i = 0; i < got; i++)
		__free_page(pages[i]);
	__free_page(tail);
	kvfree(pages);
	return got ? 0 : -ENOMEM;
}

static void __exit page_cost_exit(void)
{
}

module_init(page_cost_init);
module_exit(page_cost_exit);
MODULE_DESCRIPTION("hvo_shared bench: per-page cost of a vmemmap restore's parts");
MODULE_LICENSE("GPL");
