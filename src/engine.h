/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Inside the engine: what engine.c gives optimize.c and restore.c. Not
 * for the layers above, which see hvo_engine.h.
 */
#ifndef _HVO_ENGINE_CORE_H
#define _HVO_ENGINE_CORE_H

#include <linux/hugetlb.h>

#include "hvo_engine.h"
#include "hvo_kernel.h"
#include "hvo_state.h"

/* Around every engine operation: unload waits for them (hvo_engine_exit()). */
void hvo_enter(void);
void hvo_exit(void);

int hvo_record_add(struct folio *folio, bool head_copied);
bool hvo_record_del(unsigned long pfn, bool *head_copied);

void hvo_free_vmemmap_pages(struct list_head *list);
void hvo_batch_add(struct hvo_batch *b, const struct hstate *h);
void hvo_restoring_add(struct folio *folio);
bool hvo_is_restoring(struct folio *folio);
bool hvo_restoring_take(struct folio *folio);
bool hvo_restoring_room(struct hvo_batch *b);

bool hvo_still_free(struct hstate *h, int nid, struct folio *folio);
bool hvo_unlock_unref(struct folio *folio);
bool hvo_orphan(struct folio *folio);

static inline unsigned long hvo_vmemmap_size(const struct hstate *h)
{
	return pages_per_huge_page(h) * sizeof(struct page);
}

#endif /* _HVO_ENGINE_CORE_H */
