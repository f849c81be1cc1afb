// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/hvo_shared/stats: the counters of state.c and
 * inject.c, one "key value" pair per line, keys documented in
 * docs/stats.md and never renamed once documented. The file is
 * read-only, so it stays readable under lockdown.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/utsname.h>

#include "hvo_control.h"
#include "hvo_inject.h"
#include "hvo_state.h"

static const char *const hvo_state_names[] = {
	[HVO_STATE_LOADING]	= "loading",
	[HVO_STATE_ACTIVE]	= "active",
	[HVO_STATE_UNLOADING]	= "unloading",
};

/* One snapshot of a (node, zone, order), or of a sum of them. */
struct hvo_sums {
	long folios, freed, allocated, tails;
};

static void hvo_add(struct hvo_sums *s, struct hvo_zone_stats *zs)
{
	s->folios += atomic_long_read(&zs->folios);
	s->freed += atomic_long_read(&zs->pages_freed);
	s->allocated += atomic_long_read(&zs->pages_allocated);
	s->tails += atomic_long_read(&zs->tail_pages);
}

static long hvo_saved_bytes(const struct hvo_sums *s)
{
	return (s->freed - s->allocated - s->tails) * (long)PAGE_SIZE;
}

static void hvo_show_sums(struct seq_file *m, const char *prefix,
			  const struct hvo_sums *s)
{
	seq_printf(m, "%sfolios_optimized %ld\n", prefix, s->folios);
	seq_printf(m, "%svmemmap_pages_freed %ld\n", prefix, s->freed);
	seq_printf(m, "%svmemmap_pages_allocated %ld\n", prefix, s->allocated);
	seq_printf(m, "%sshared_tail_pages %ld\n", prefix, s->tails);
	seq_printf(m, "%ssaved_bytes %ld\n", prefix, hvo_saved_bytes(s));
}

static int hvo_stats_show(struct seq_file *m, void *v)
{
	struct hvo_sums total = {};
	char prefix[64];
	unsigned int order;
	int nid, zid, i;

	seq_printf(m, "version %s\n", HVO_SHARED_VERSION);
	seq_printf(m, "kernel %s\n", init_utsname()->release);
	seq_printf(m, "state %s\n", hvo_state_names[READ_ONCE(hvo_state)]);
	seq_printf(m, "struct_page_bytes %zu\n", sizeof(struct page));

	for_each_node(nid)
		for (zid = 0; zid < MAX_NR_ZONES; zid++)
			for (order = HVO_MIN_ORDER; order <= HVO_MAX_ORDER; order++)
				hvo_add(&total, hvo_zs(nid, zid, order));
	hvo_show_sums(m, "", &total);
	seq_printf(m, "optimize_total %ld\n", atomic_long_read(&hvo_totals.optimize_total));
	seq_printf(m, "optimize_failed %ld\n", atomic_long_read(&hvo_totals.optimize_failed));
	seq_printf(m, "restore_total %ld\n", atomic_long_read(&hvo_totals.restore_total));
	seq_printf(m, "restore_failed %ld\n", atomic_long_read(&hvo_totals.restore_failed));
	seq_printf(m, "optimize_retried %ld\n", atomic_long_read(&hvo_totals.optimize_retried));
	seq_printf(m, "skipped_self_hosted %ld\n",
		   atomic_long_read(&hvo_totals.skipped_self_hosted));
	seq_printf(m, "restore_blocks %ld\n",
		   atomic_long_read(&hvo_totals.restore_blocks));
	seq_printf(m, "restore_pages_filled %ld\n",
		   atomic_long_read(&hvo_totals.restore_pages_filled));
	seq_printf(m, "adopt_total %ld\n", atomic_long_read(&hvo_adopt_totals.adopted));
	seq_printf(m, "adopt_failed %ld\n", atomic_long_read(&hvo_adopt_totals.failed));
	for (i = HVO_ADOPTED + 1; i < HVO_SKIP_NR; i++)
		seq_printf(m, "adopt_skipped.%s %ld\n", hvo_skip_name(i),
			   atomic_long_read(&hvo_adopt_totals.skipped[i]));
	seq_printf(m, "restore_all_total %ld\n", atomic_long_read(&hvo_adopt_totals.restored));
	seq_printf(m, "restore_all_failed %ld\n",
		   atomic_long_read(&hvo_adopt_totals.restore_failed));
	seq_printf(m, "restore_all_busy %ld\n", atomic_long_read(&hvo_adopt_totals.restore_busy));
	seq_printf(m, "restore_all_inherited %ld\n",
		   atomic_long_read(&hvo_adopt_totals.restore_inherited));
	for (i = 0; i < HVO_INJECT_NR; i++)
		seq_printf(m, "injected.%s %ld\n", hvo_inject_name(i),
			   atomic_long_read(&hvo_injected[i]));

	/* Only the (node, zone, order) triples that ever held anything. */
	for_each_node(nid) {
		for (zid = 0; zid < MAX_NR_ZONES; zid++) {
			for (order = HVO_MIN_ORDER; order <= HVO_MAX_ORDER; order++) {
				struct hvo_sums s = {};

				hvo_add(&s, hvo_zs(nid, zid, order));
				if (!s.folios && !s.freed && !s.allocated && !s.tails)
					continue;
				snprintf(prefix, sizeof(prefix), "node%d.%s.order%u.", nid,
					 NODE_DATA(nid)->node_zones[zid].name, order);
				hvo_show_sums(m, prefix, &s);
			}
		}
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(hvo_stats);

int hvo_stats_init(struct dentry *dir)
{
	struct dentry *file;

	file = debugfs_create_file("stats", 0444, dir, NULL, &hvo_stats_fops);
	if (IS_ERR(file)) {
		pr_err("cannot create debugfs stats file: %pe\n", file);
		return PTR_ERR(file);
	}
	return 0;
}
