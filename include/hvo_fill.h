/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Filling a restored vmemmap page: shared by the module's restore
 * (src/remap.c) and make bench's per-page cost probe
 * (tests/guest/kmod/hvo_page_cost.c), so that the bench times this code.
 */
#ifndef _HVO_FILL_H
#define _HVO_FILL_H

#include <linux/mm.h>

/*
 * Fill the page at @dst with copies of the 64-byte struct page at @tail:
 * what copy_page() gives from a page of 64 equal struct pages, with stores
 * only, from eight registers.
 */
static inline void hvo_fill_tails(u64 *dst, const u64 *tail)
{
	const u64 w0 = tail[0], w1 = tail[1], w2 = tail[2], w3 = tail[3];
	const u64 w4 = tail[4], w5 = tail[5], w6 = tail[6], w7 = tail[7];
	u64 *end = dst + PAGE_SIZE / sizeof(u64);

	for (; dst < end; dst += 8) {
		dst[0] = w0;
		dst[1] = w1;
		dst[2] = w2;
		dst[3] = w3;
		dst[4] = w4;
		dst[5] = w5;
		dst[6] = w6;
		dst[7] = w7;
	}
}

#endif /* _HVO_FILL_H */
