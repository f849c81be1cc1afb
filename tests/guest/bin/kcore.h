/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kcore.h: reading the running kernel's memory through /proc/kcore and
 * its symbols through /proc/kallsyms, for the test programs that check
 * the kernel's own state (vmemmap-pmds.c, vmemmap-tails.c). Needs root.
 * Each program defines PROG, its name for messages, first.
 */
#define _FILE_OFFSET_BITS 64
#include <elf.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int kcore = -1;
static Elf64_Phdr *ph;
static int nph;

static void die(const char *what)
{
	fprintf(stderr, PROG ": %s\n", what);
	exit(2);
}

static void kcore_open(void)
{
	Elf64_Ehdr eh;

	kcore = open("/proc/kcore", O_RDONLY);
	if (kcore < 0 || pread(kcore, &eh, sizeof(eh), 0) != sizeof(eh))
		die("cannot read /proc/kcore");
	nph = eh.e_phnum;
	ph = calloc(nph, sizeof(*ph));
	if (!ph || pread(kcore, ph, nph * sizeof(*ph), eh.e_phoff) != (ssize_t)(nph * sizeof(*ph)))
		die("cannot read /proc/kcore's program headers");
}

/* N bytes of kernel memory at virtual address VA into TO. */
static void kread(uint64_t va, void *to, size_t n)
{
	int i;

	for (i = 0; i < nph; i++) {
		if (ph[i].p_type != PT_LOAD || va < ph[i].p_vaddr ||
		    va + n > ph[i].p_vaddr + ph[i].p_memsz)
			continue;
		if (pread(kcore, to, n, ph[i].p_offset + va - ph[i].p_vaddr) != (ssize_t)n)
			die("short read from /proc/kcore");
		return;
	}
	fprintf(stderr, PROG ": 0x%llx not in /proc/kcore\n", (unsigned long long)va);
	exit(2);
}

static uint64_t rd64(uint64_t va)
{
	uint64_t v;

	kread(va, &v, 8);
	return v;
}

/*
 * Addresses of NAMES[0..N-1] into ADDR, in one pass: under TCG a read of
 * /proc/kallsyms takes most of a second.
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
			fprintf(stderr, PROG ": no symbol %s (kptr_restrict?)\n", names[i]);
			exit(2);
		}
}
