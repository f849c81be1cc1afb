// SPDX-License-Identifier: GPL-2.0
/*
 * vmemmap-pmds: how the kernel maps its vmemmap, read from its own page
 * tables through /proc/kcore: one line "INDEX STATE" per 2 MiB of vmemmap
 * (the struct pages of 32768 PFNs, PFNs INDEX * 32768 and up), for PFNs
 * below END_PFN. STATE is "leaf" (one 2 MiB mapping, never split),
 * "table" (split into a PTE table, as HVO leaves it) or "none".
 *
 *   vmemmap-pmds END_PFN
 *
 * Needs root and /proc/kcore; handles 4- and 5-level paging.
 */
#define _FILE_OFFSET_BITS 64
#include <elf.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PFN_MASK	0x000ffffffffff000ULL
#define PRESENT		1ULL
#define PSE		(1ULL << 7)

static int kcore;
static Elf64_Phdr *ph;
static int nph;

static void die(const char *what)
{
	fprintf(stderr, "vmemmap-pmds: %s\n", what);
	exit(2);
}

static uint64_t rd64(uint64_t va)
{
	uint64_t v;
	int i;

	for (i = 0; i < nph; i++) {
		if (ph[i].p_type != PT_LOAD || va < ph[i].p_vaddr ||
		    va + 8 > ph[i].p_vaddr + ph[i].p_memsz)
			continue;
		if (pread(kcore, &v, 8, ph[i].p_offset + va - ph[i].p_vaddr) != 8)
			die("short read from /proc/kcore");
		return v;
	}
	fprintf(stderr, "vmemmap-pmds: 0x%llx not in /proc/kcore\n", (unsigned long long)va);
	exit(2);
}

/*
 * Addresses of NAMES[0..N-1] into ADDR, in one pass: under TCG each read
 * of /proc/kallsyms takes seconds.
 */
static void ksyms(const char *const *names, uint64_t *addr, int n)
{
	char line[256], sym[200], type;
	unsigned long long a;
	int i, left = n;
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		die("cannot open /proc/kallsyms");
	memset(addr, 0, n * sizeof(*addr));
	while (left && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %199s", &a, &type, sym) != 3 || !a)
			continue;
		for (i = 0; i < n; i++)
			if (!addr[i] && !strcmp(sym, names[i])) {
				addr[i] = a;
				left--;
			}
	}
	fclose(f);
	for (i = 0; i < n; i++)
		if (!addr[i]) {
			fprintf(stderr, "vmemmap-pmds: no symbol %s (kptr_restrict?)\n", names[i]);
			exit(2);
		}
}

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"init_top_pgt", "vmemmap_base", "page_offset_base"
	};
	uint64_t end_pfn, pgd, vmemmap, pob, idx, sym[3];
	Elf64_Ehdr eh;
	int l5;

	if (argc != 2)
		die("usage: vmemmap-pmds END_PFN");
	end_pfn = strtoull(argv[1], NULL, 0);
	kcore = open("/proc/kcore", O_RDONLY);
	if (kcore < 0 || pread(kcore, &eh, sizeof(eh), 0) != sizeof(eh))
		die("cannot read /proc/kcore");
	nph = eh.e_phnum;
	ph = calloc(nph, sizeof(*ph));
	if (!ph || pread(kcore, ph, nph * sizeof(*ph), eh.e_phoff) != (ssize_t)(nph * sizeof(*ph)))
		die("cannot read /proc/kcore's program headers");

	ksyms(names, sym, 3);
	pgd = sym[0];
	vmemmap = rd64(sym[1]);
	pob = rd64(sym[2]);
	/* With 5-level paging the direct map starts below the 4-level half. */
	l5 = pob < 0xffff800000000000ULL;

	for (idx = 0; idx * 32768 < end_pfn; idx++) {
		uint64_t va = vmemmap + idx * (2ULL << 20), table = pgd, e;
		const char *state = "none";
		int shift;

		for (shift = l5 ? 48 : 39; shift >= 21; shift -= 9) {
			e = rd64(table + ((va >> shift) & 511) * 8);
			if (!(e & PRESENT))
				break;
			if (shift == 21) {
				state = e & PSE ? "leaf" : "table";
				break;
			}
			if (shift == 30 && (e & PSE)) {
				state = "pud-leaf";
				break;
			}
			table = pob + (e & PFN_MASK);
		}
		printf("%llu %s\n", (unsigned long long)idx, state);
	}
	return 0;
}
