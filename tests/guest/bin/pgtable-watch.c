// SPDX-License-Identifier: GPL-2.0
/*
 * pgtable-watch: whether pages are page tables (KPF_PGTABLE in
 * /proc/kpageflags), read when asked, by a process that is already
 * running: a page table freed a moment ago is the first page the next
 * new process takes for its own page tables, so a reader started after
 * the free would often find it a page table again.
 *
 *   pgtable-watch PFN...
 *
 * Prints "ready", then for each line read on stdin, how many of the PFNs
 * are page tables now. Exits at end of input.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define KPF_PGTABLE	26

int main(int argc, char **argv)
{
	char line[64];
	uint64_t flags;
	int fd, i, n;

	fd = open("/proc/kpageflags", O_RDONLY);
	if (fd < 0 || argc < 2) {
		fprintf(stderr, "usage: pgtable-watch PFN... (root, /proc/kpageflags)\n");
		return 2;
	}
	/* Take no new page for our own page tables or stack later on. */
	mlockall(MCL_CURRENT);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready\n");
	while (fgets(line, sizeof(line), stdin)) {
		for (n = 0, i = 1; i < argc; i++) {
			if (pread(fd, &flags, 8, strtoull(argv[i], NULL, 0) * 8) != 8) {
				perror("pgtable-watch: /proc/kpageflags");
				return 2;
			}
			n += flags >> KPF_PGTABLE & 1;
		}
		printf("%d\n", n);
	}
	return 0;
}
