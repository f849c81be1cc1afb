// SPDX-License-Identifier: GPL-2.0
/*
 * pageflags: the flags word of the struct page of each PFN, read through
 * the vmemmap itself (/proc/kcore), in hex, one per line. /proc/kpageflags
 * reports a hugetlb folio's hwpoison from its head only; this shows the
 * flags of a raw tail page as every reader of that struct page sees them:
 * its own if the folio's vmemmap is whole, the shared tail's if optimized.
 *
 *   pageflags PFN...
 *
 * Needs root and /proc/kcore.
 */
#define PROG "pageflags"
#include "kcore.h"

int main(int argc, char **argv)
{
	static const char *const names[] = { "vmemmap_base" };
	uint64_t sym, vmemmap;
	int i;

	if (argc < 2)
		die("usage: pageflags PFN...");
	kcore_open();
	ksyms(names, &sym, 1);
	vmemmap = rd64(sym);
	/* struct page is 64 bytes; its first word is page->flags. */
	for (i = 1; i < argc; i++)
		printf("%llx\n", (unsigned long long)rd64(vmemmap + 64 * strtoull(argv[i], NULL, 0)));
	return 0;
}
