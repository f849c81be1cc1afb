/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of hvo_shared, under /sys/kernel/tracing/events/hvo_shared/
 * and as tracepoint:hvo_shared:* in bpftrace. Defined in trace.c.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM hvo_shared

#if !defined(_HVO_SHARED_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _HVO_SHARED_TRACE_H

#include <linux/tracepoint.h>
#include "hvo_remap.h"

DECLARE_EVENT_CLASS(hvo_folio_class,
	TP_PROTO(unsigned long pfn, unsigned int order, int nid, int zone,
		 int result, u64 duration_ns),
	TP_ARGS(pfn, order, nid, zone, result, duration_ns),
	TP_STRUCT__entry(
		__field(unsigned long, pfn)
		__field(unsigned int, order)
		__field(int, nid)
		__field(int, zone)
		__field(int, result)
		__field(u64, duration_ns)
	),
	TP_fast_assign(
		__entry->pfn = pfn;
		__entry->order = order;
		__entry->nid = nid;
		__entry->zone = zone;
		__entry->result = result;
		__entry->duration_ns = duration_ns;
	),
	TP_printk("pfn=0x%lx order=%u nid=%d zone=%d result=%d duration_ns=%llu",
		  __entry->pfn, __entry->order, __entry->nid, __entry->zone,
		  __entry->result, __entry->duration_ns)
);

/* A folio's vmemmap was remapped to its shared tail (or that failed). */
DEFINE_EVENT(hvo_folio_class, folio_optimize,
	TP_PROTO(unsigned long pfn, unsigned int order, int nid, int zone,
		 int result, u64 duration_ns),
	TP_ARGS(pfn, order, nid, zone, result, duration_ns));

/* A folio's vmemmap was restored to private pages (or that failed). */
DEFINE_EVENT(hvo_folio_class, folio_restore,
	TP_PROTO(unsigned long pfn, unsigned int order, int nid, int zone,
		 int result, u64 duration_ns),
	TP_ARGS(pfn, order, nid, zone, result, duration_ns));

/*
 * adopt looked at a folio in use: result 0 if it optimized it, a positive
 * reason it skipped it (enum hvo_adopt_skip), or a negative errno.
 */
DEFINE_EVENT(hvo_folio_class, folio_adopt,
	TP_PROTO(unsigned long pfn, unsigned int order, int nid, int zone,
		 int result, u64 duration_ns),
	TP_ARGS(pfn, order, nid, zone, result, duration_ns));

/* hvo_shared allocated the shared tail page of a (zone, order). */
TRACE_EVENT(tail_alloc,
	TP_PROTO(int nid, int zone, unsigned int order),
	TP_ARGS(nid, zone, order),
	TP_STRUCT__entry(
		__field(int, nid)
		__field(int, zone)
		__field(unsigned int, order)
	),
	TP_fast_assign(
		__entry->nid = nid;
		__entry->zone = zone;
		__entry->order = order;
	),
	TP_printk("nid=%d zone=%d order=%u",
		  __entry->nid, __entry->zone, __entry->order)
);

/*
 * A PMD leaf of the vmemmap was split into a PTE table; @pfn is the first
 * PFN whose struct page it maps. Fired before the TLB flush that follows.
 */
TRACE_EVENT(pmd_split,
	TP_PROTO(unsigned long address),
	TP_ARGS(address),
	TP_STRUCT__entry(
		__field(unsigned long, address)
		__field(unsigned long, pfn)
	),
	TP_fast_assign(
		__entry->address = address;
		__entry->pfn = page_to_pfn((struct page *)address);
	),
	TP_printk("address=0x%lx pfn=0x%lx", __entry->address, __entry->pfn)
);

/*
 * Every CPU's TLB was flushed: after a PMD split, before the first PTE
 * under it changes (split), before freeing the pages an optimize unmapped
 * (optimize), or after a restore (restore).
 */
TRACE_DEFINE_ENUM(HVO_FLUSH_SPLIT);
TRACE_DEFINE_ENUM(HVO_FLUSH_OPTIMIZE);
TRACE_DEFINE_ENUM(HVO_FLUSH_RESTORE);

TRACE_EVENT(tlb_flush,
	TP_PROTO(int reason),
	TP_ARGS(reason),
	TP_STRUCT__entry(
		__field(int, reason)
	),
	TP_fast_assign(
		__entry->reason = reason;
	),
	TP_printk("reason=%s", __print_symbolic(__entry->reason,
		  { HVO_FLUSH_SPLIT, "split" },
		  { HVO_FLUSH_OPTIMIZE, "optimize" },
		  { HVO_FLUSH_RESTORE, "restore" }))
);

#endif /* _HVO_SHARED_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
