// SPDX-License-Identifier: GPL-2.0
/*
 * splitrace: one of two allocators that race to optimize fresh hugetlb
 * folios under the same vmemmap PMDs. On CPU CPU, it grows the hugetlbfs
 * file DIR/splitrace.CPU by one huge page at a time with fallocate(2),
 * NR times: with an empty pool and overcommit allowed, each is a surplus
 * folio, allocated fresh next to the other allocator's and optimized on
 * its own (hugetlb_vmemmap_optimize_folio()), from this CPU. Both bind
 * their memory to node 0, so that their folios are neighbours.
 *
 *   splitrace DIR CPU NR PAGE_KB
 *
 * Prints "allocated N" and exits 0 if all NR were allocated. The file
 * stays; the test removes it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MPOL_BIND	2	/* <numaif.h>, without libnuma */

int main(int argc, char **argv)
{
	unsigned long node0 = 1;
	char path[4096];
	cpu_set_t set;
	long i, nr, size;
	int fd, cpu;

	if (argc != 5) {
		fprintf(stderr, "usage: splitrace DIR CPU NR PAGE_KB\n");
		return 2;
	}
	cpu = atoi(argv[2]);
	nr = atol(argv[3]);
	size = atol(argv[4]) * 1024;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		perror("splitrace: sched_setaffinity");
		return 2;
	}
	if (syscall(SYS_set_mempolicy, MPOL_BIND, &node0, 8 * sizeof(node0))) {
		perror("splitrace: set_mempolicy");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/splitrace.%d", argv[1], cpu);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		perror("splitrace: open");
		return 2;
	}
	for (i = 0; i < nr; i++)
		if (fallocate(fd, 0, i * size, size)) {
			fprintf(stderr, "splitrace: fallocate page %ld: %s\n", i, strerror(errno));
			break;
		}
	printf("allocated %ld\n", i);
	return i == nr ? 0 : 1;
}
