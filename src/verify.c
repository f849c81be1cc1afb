// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/hvo_shared/verify: an audit of every folio hvo_shared
 * optimized, read-only (so it works under lockdown). For each folio:
 *
 *  - it is still a hugetlb folio with the vmemmap-optimized flag;
 *  - the PTE of vmemmap page 0 is present and writable;
 *  - the PTEs of every other vmemmap page map the shared tail of the
 *    folio's (zone, order), read-only;
 *  - compound_head() of sampled tails (the last on the head's page, the
 *    first on the shared page, the last of the folio) is the head.
 *
 * Then the live counters of every (node, zone, order) must equal a
 * recount. Prints one line per discrepancy (the first
 * HVO_VERIFY_MAX_LINES), then "ok: N folios" or "FAILED: ...".
 */
#include <linux/debugfs.h>
#include <linux/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "hvo_control.h"
#include "hvo_engine.h"
#include "hvo_remap.h"
#include "hvo_state.h"

#define HVO_VERIFY_MAX_LINES	64

struct hvo_verify {
	struct hvo_walker walker;
	struct seq_file *m;
	long *folios;		/* recount, indexed as the stats */
	long *freed;
	long checked, bad;
};

static __printf(2, 3) void hvo_verify_bad(struct hvo_verify *v, const char *fmt, ...)
{
	va_list args;

	if (v->bad++ >= HVO_VERIFY_MAX_LINES)
		return;
	va_start(args, fmt);
	seq_vprintf(v->m, fmt, args);
	va_end(args);
}

/* Every vmemmap PTE of the folio; returns false if any was wrong. */
static bool hvo_verify_ptes(struct hvo_verify *v, struct folio *folio,
			    struct page *tail)
{
	unsigned long pfn = folio_pfn(folio);
	unsigned long start = (unsigned long)&folio->page;
	unsigned long end = start + folio_nr_pages(folio) * sizeof(struct page);
	unsigned long addr, i;
	pte_t pte;

	for (addr = start; addr < end; addr += PAGE_SIZE) {
		i = (addr - start) >> PAGE_SHIFT;
		if (hvo_vmemmap_pte(addr, &pte) || !pte_present(pte)) {
			hvo_verify_bad(v, "pfn 0x%lx: vmemmap page %lu is not mapped by a PTE\n",
				       pfn, i);
			return false;
		}
		if (!i) {
			if (pte_write(pte))
				continue;
			hvo_verify_bad(v, "pfn 0x%lx: head vmemmap page is read-only\n", pfn);
			return false;
		}
		if (pte_pfn(pte) != page_to_pfn(tail) || pte_write(pte)) {
			hvo_verify_bad(v, "pfn 0x%lx: vmemmap page %lu maps pfn 0x%lx%s, not shared tail 0x%lx read-only\n",
				       pfn, i, pte_pfn(pte),
				       pte_write(pte) ? " writable" : "",
				       page_to_pfn(tail));
			return false;
		}
	}
	return true;
}

static void hvo_verify_folio(struct hvo_walker *w, unsigned long pfn,
			     bool head_copied)
{
	struct hvo_verify *v = container_of(w, struct hvo_verify, walker);
	struct folio *folio = pfn_folio(pfn);
	const long per_page = PAGE_SIZE / sizeof(struct page);
	long samples[3], i, idx;
	unsigned int order;
	struct zone *zone;
	struct page *tail;

	v->checked++;
	if (!folio_test_hugetlb(folio)) {
		hvo_verify_bad(v, "pfn 0x%lx: no longer a hugetlb folio\n", pfn);
		return;
	}
	if (!folio_test_hugetlb_vmemmap_optimized(folio)) {
		hvo_verify_bad(v, "pfn 0x%lx: vmemmap-optimized flag is clear\n", pfn);
		return;
	}
	order = folio_order(folio);
	zone = folio_zone(folio);
	if (order < HVO_MIN_ORDER || order > HVO_MAX_ORDER) {
		hvo_verify_bad(v, "pfn 0x%lx: order %u cannot be optimized\n", pfn, order);
		return;
	}
	tail = READ_ONCE(zone->vmemmap_tails[order - HVO_MIN_ORDER]);
	if (!tail) {
		hvo_verify_bad(v, "pfn 0x%lx: no shared tail for order %u in zone %s\n",
			       pfn, order, zone->name);
		return;
	}
	if (!hvo_verify_ptes(v, folio, tail))
		return;

	samples[0] = per_page - 1;
	samples[1] = per_page;
	samples[2] = folio_nr_pages(folio) - 1;
	for (i = 0; i < ARRAY_SIZE(samples); i++) {
		struct page *p = folio_page(folio, samples[i]);

		if (compound_head(p) != &folio->page)
			hvo_verify_bad(v, "pfn 0x%lx: compound_head() of tail %ld is pfn 0x%lx\n",
				       pfn, samples[i], page_to_pfn(compound_head(p)));
	}

	idx = hvo_zone_slot(folio_nid(folio), zone_idx(zone), order);
	v->folios[idx]++;
	v->freed[idx] += folio_nr_pages(folio) * sizeof(struct page) / PAGE_SIZE - 1 +
			 head_copied;
}

/* Runs with engine operations still held off: the counters are at rest. */
static void hvo_verify_counters(struct hvo_walker *w)
{
	struct hvo_verify *v = container_of(w, struct hvo_verify, walker);
	unsigned int order;
	int nid, zid;

	for_each_node(nid) {
		for (zid = 0; zid < MAX_NR_ZONES; zid++) {
			for (order = HVO_MIN_ORDER; order <= HVO_MAX_ORDER; order++) {
				struct hvo_zone_stats *zs = hvo_zs(nid, zid, order);
				long idx = hvo_zone_slot(nid, zid, order);
				long f = atomic_long_read(&zs->folios);
				long p = atomic_long_read(&zs->pages_freed);

				if (f == v->folios[idx] && p == v->freed[idx])
					continue;
				hvo_verify_bad(v, "node%d.%s.order%u: counters say %ld folios and %ld pages freed, recount %ld and %ld\n",
					       nid, NODE_DATA(nid)->node_zones[zid].name,
					       order, f, p, v->folios[idx], v->freed[idx]);
			}
		}
	}
}

static int hvo_verify_show(struct seq_file *m, void *unused)
{
	size_t n = hvo_nr_zone_slots();
	struct hvo_verify v = {
		.walker = { .folio = hvo_verify_folio, .done = hvo_verify_counters },
		.m = m,
	};

	v.folios = kvcalloc(2 * n, sizeof(long), GFP_KERNEL);
	if (!v.folios)
		return -ENOMEM;
	v.freed = v.folios + n;

	hvo_walk_ours(&v.walker);
	if (v.bad > HVO_VERIFY_MAX_LINES)
		seq_printf(m, "... %ld more\n", v.bad - HVO_VERIFY_MAX_LINES);
	if (v.bad)
		seq_printf(m, "FAILED: %ld discrepancies in %ld folios\n", v.bad, v.checked);
	else
		seq_printf(m, "ok: %ld folios\n", v.checked);
	kvfree(v.folios);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hvo_verify);

int hvo_verify_init(struct dentry *dir)
{
	struct dentry *file;

	file = debugfs_create_file("verify", 0444, dir, NULL, &hvo_verify_fops);
	if (IS_ERR(file)) {
		pr_err("cannot create debugfs verify file: %pe\n", file);
		return PTR_ERR(file);
	}
	return 0;
}
