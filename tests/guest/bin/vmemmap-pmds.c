// SPDX-License-Identifier: GPL-2.0
/*
 * vmemmap-pmds: how the kernel maps its vmemmap, read from its own page
 * tables through /proc/kcore: one line "INDEX STATE" per 2 MiB of vmemmap
 * (the struct pages of 32768 PFNs, PFNs INDEX * 32768 and up), for PFNs
 * below END_PFN. STATE is "leaf" (one 2 MiB mapping, never split or
 * mapped whole again), "table" (split into a PTE table, as HVO leaves it;
 * the table's PFN follows, in hex) or "none".
 *
 *   vmemmap-pmds END_PFN
 *
 * Needs root and /proc/kcore; handles 4- and 5-level paging.
 */
#define PROG "vmemmap-pmds"
#include "kcore.h"

#define PFN_MASK	0x000ffffffffff000ULL
#define PRESENT		1ULL
#define PSE		(1ULL << 7)

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"init_top_pgt", "vmemmap_base", "page_offset_base"
	};
	uint64_t end_pfn, pgd, vmemmap, pob, idx, sym[3];
	int l5;

	if (argc != 2)
		die("usage: vmemmap-pmds END_PFN");
	end_pfn = strtoull(argv[1], NULL, 0);
	kcore_open();
	ksyms(names, sym, 3);
	pgd = sym[0];
	vmemmap = rd64(sym[1]);
	pob = rd64(sym[2]);
	/* With 5-level paging the direct map starts below the 4-level half. */
	l5 = pob < 0xffff800000000000ULL;

	for (idx = 0; idx * 32768 < end_pfn; idx++) {
		uint64_t va = vmemmap + idx * (2ULL << 20), table = pgd, e;
		const char *state = "none";
		uint64_t tpfn = 0;
		int shift;

		for (shift = l5 ? 48 : 39; shift >= 21; shift -= 9) {
			e = rd64(table + ((va >> shift) & 511) * 8);
			if (!(e & PRESENT))
				break;
			if (shift == 21) {
				state = e & PSE ? "leaf" : "table";
				tpfn = e & PSE ? 0 : (e & PFN_MASK) >> 12;
				break;
			}
			if (shift == 30 && (e & PSE)) {
				state = "pud-leaf";
				break;
			}
			table = pob + (e & PFN_MASK);
		}
		if (tpfn)
			printf("%llu %s %#llx\n", (unsigned long long)idx, state,
			       (unsigned long long)tpfn);
		else
			printf("%llu %s\n", (unsigned long long)idx, state);
	}
	return 0;
}
