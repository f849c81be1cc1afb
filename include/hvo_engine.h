/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The engine (optimize.c, restore.c, engine.c): optimize and restore one
 * folio, fresh or leaving hugetlb (the kernel's four HVO entry points,
 * through hooks.c), free where it lies, or in use; and the record (an
 * xarray) of the folios hvo_shared optimized.
 */
#ifndef _HVO_ENGINE_H
#define _HVO_ENGINE_H

#include <linux/hugetlb.h>
#include <linux/list.h>

#include "hvo_state.h"

/* The kernel's four entry points, replaced. */
void hvo_optimize_folio(const struct hstate *h, struct folio *folio);
void hvo_optimize_folios(struct hstate *h, struct list_head *folio_list);
int hvo_restore_folio(const struct hstate *h, struct folio *folio);
long hvo_restore_folios(const struct hstate *h, struct list_head *folio_list,
			struct list_head *non_hvo_folios);

bool hvo_should_optimize(const struct hstate *h, struct folio *folio);

/*
 * Free folios and folios in use are worked on in batches of up to
 * HVO_FLUSH_BATCH folios or HVO_FLUSH_PAGES vmemmap pages (one 1 GiB
 * folio fills a batch), with one TLB flush for the batch, as the kernel's
 * hugetlb_vmemmap_optimize_folios() flushes once for its list: the
 * vmemmap pages optimizing unmapped are freed after it, and the flags of
 * the folios restoring remapped are cleared after it (docs/safety.md).
 * The walk that owns a batch ends it with hvo_batch_flush(), and runs one
 * batch at a time.
 */
#define HVO_FLUSH_BATCH	64
#define HVO_FLUSH_PAGES	512

struct hvo_batch {
	struct list_head unmapped;	/* pages to free after the flush */
	unsigned int folios;		/* worked on since the last flush */
	unsigned long pages;		/* their vmemmap pages, head left out */
};

#define HVO_BATCH_INIT(name) { .unmapped = LIST_HEAD_INIT(name.unmapped) }

void hvo_batch_flush(struct hvo_batch *b);
void hvo_batch_finish(struct hvo_batch *b);

/* A free folio, where it lies on its free list (picked by pool.c). */
int hvo_optimize_free(struct hstate *h, int nid, struct folio *folio,
		      struct zone *zone, struct hvo_batch *b);
int hvo_restore_free(struct hstate *h, int nid, struct folio *folio,
		     struct zone *zone, struct hvo_batch *b);

/* A folio in use, locked and referenced (taken by pool.c). */
enum hvo_adopt_skip hvo_in_use_state(struct folio *folio);
int hvo_adopt_folio(struct hstate *h, struct folio *folio, struct hvo_batch *b);
int hvo_restore_in_use(struct hstate *h, struct folio *folio,
		       struct hvo_batch *b);

/* The folios hvo_shared optimized, by head PFN. */
bool hvo_is_ours(struct folio *folio);
bool hvo_next_ours(unsigned long *pfn);
long hvo_count_ours(void);

struct hvo_walker {
	void (*folio)(struct hvo_walker *w, unsigned long pfn, bool head_copied);
	void (*done)(struct hvo_walker *w);
};

void hvo_walk_ours(struct hvo_walker *w);

void hvo_engine_exit(void);

#endif /* _HVO_ENGINE_H */
