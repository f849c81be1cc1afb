// SPDX-License-Identifier: GPL-2.0
/*
 * hugepfns: every hugetlb folio in the machine, from /proc/kpageflags: one
 * line "PFN NR_PAGES" per folio, a HEAD|HUGE page and the TAIL|HUGE pages
 * after it. What the tests use to learn where the kernel put a pool.
 *
 *   hugepfns
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#define KPF_COMPOUND_HEAD	15
#define KPF_COMPOUND_TAIL	16
#define KPF_HUGE		17
#define CHUNK			65536

int main(void)
{
	static uint64_t f[CHUNK];
	uint64_t pfn = 0, head = 0, nr = 0;
	ssize_t got;
	int fd = open("/proc/kpageflags", O_RDONLY);

	if (fd < 0) {
		perror("hugepfns: /proc/kpageflags");
		return 2;
	}
	while ((got = pread(fd, f, sizeof(f), pfn * 8)) > 0) {
		for (ssize_t i = 0; i < got / 8; i++, pfn++) {
			int huge = f[i] >> KPF_HUGE & 1;

			if (nr && huge && (f[i] >> KPF_COMPOUND_TAIL & 1)) {
				nr++;
				continue;
			}
			if (nr)
				printf("%llu %llu\n", (unsigned long long)head,
				       (unsigned long long)nr);
			nr = 0;
			if (huge && (f[i] >> KPF_COMPOUND_HEAD & 1)) {
				head = pfn;
				nr = 1;
			}
		}
	}
	if (nr)
		printf("%llu %llu\n", (unsigned long long)head, (unsigned long long)nr);
	return got < 0;
}
