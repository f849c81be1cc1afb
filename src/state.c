// SPDX-License-Identifier: GPL-2.0
/*
 * What hvo_shared knows and counts: the module's state, the live state of
 * every (node, zone, order) and the totals. Written by the layers above,
 * read by the stats and verify files; it calls nothing of the module's.
 */
#include <linux/mm.h>
#include <linux/slab.h>

#include "hvo_state.h"

enum hvo_state hvo_state = HVO_STATE_LOADING;
struct hvo_totals hvo_totals;
struct hvo_adopt_totals hvo_adopt_totals;

/* [node][zone][order - HVO_MIN_ORDER], allocated for nr_node_ids nodes. */
static struct hvo_zone_stats *hvo_zstats;

static const char *const hvo_skip_names[HVO_SKIP_NR] = {
	[HVO_ADOPTED]		= "adopted",
	[HVO_SKIP_ISOLATED]	= "isolated",
	[HVO_SKIP_BUSY]		= "busy",
	[HVO_SKIP_HWPOISON]	= "hwpoison",
	[HVO_SKIP_TEMPORARY]	= "temporary",
	[HVO_SKIP_DIRTY_TAILS]	= "dirty_tails",
	[HVO_SKIP_HEAD_COPY]	= "head_copy",
	[HVO_SKIP_SELF_HOSTED]	= "self_hosted",
	[HVO_SKIP_OPTIMIZED]	= "optimized",
};

const char *hvo_skip_name(enum hvo_adopt_skip why)
{
	return hvo_skip_names[why];
}

struct hvo_zone_stats *hvo_zs(int nid, int zid, unsigned int order)
{
	return &hvo_zstats[hvo_zone_slot(nid, zid, order)];
}

struct hvo_zone_stats *hvo_zone_stats(struct zone *zone, unsigned int order)
{
	return hvo_zs(zone_to_nid(zone), zone_idx(zone), order);
}

int hvo_state_init(void)
{
	hvo_zstats = kvcalloc(hvo_nr_zone_slots(), sizeof(*hvo_zstats), GFP_KERNEL);
	return hvo_zstats ? 0 : -ENOMEM;
}

void hvo_state_exit(void)
{
	kvfree(hvo_zstats);
}
