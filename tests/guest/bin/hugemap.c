// SPDX-License-Identifier: GPL-2.0
/*
 * hugemap: map huge pages the three ways applications do, write a
 * pattern, read it back, and audit /proc/kpageflags for every PFN of every
 * folio mapped.
 *
 *   hugemap file|anon|shm NR_PAGES PAGE_KB [HUGETLBFS_DIR]
 *   hugemap fill|verify NR_PAGES PAGE_KB HUGETLBFS_FILE
 *
 * fill writes the pattern into a hugetlbfs file and keeps the file, so
 * that its folios stay in use after the program exits; verify maps that
 * file again and only reads: the pattern must still be there.
 *
 * Prints one line:
 *   pages N pattern_ok N heads_ok N tails_ok N flags_bad N
 * and exits 0 only if every page kept its pattern and every PFN's flags
 * were right: the head HEAD|HUGE, every tail TAIL|HUGE and never HEAD.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#define KPF_COMPOUND_HEAD	15
#define KPF_COMPOUND_TAIL	16
#define KPF_HUGE		17
#define PM_PFN_MASK		((1ULL << 55) - 1)
#define PM_PRESENT		(1ULL << 63)

static void die(const char *what)
{
	fprintf(stderr, "hugemap: %s: %s\n", what, strerror(errno));
	exit(2);
}

static uint64_t read_u64(int fd, uint64_t index, const char *what)
{
	uint64_t v;

	if (pread(fd, &v, sizeof(v), index * sizeof(v)) != sizeof(v))
		die(what);
	return v;
}

int main(int argc, char **argv)
{
	unsigned long nr, psize, i, j, pattern_ok = 0, heads = 0, tails = 0, bad = 0;
	const char *mode;
	char *map;
	int pagemap, kpf;

	if (argc < 4) {
		fprintf(stderr, "usage: hugemap file|anon|shm NR_PAGES PAGE_KB [DIR]\n");
		return 2;
	}
	mode = argv[1];
	nr = strtoul(argv[2], NULL, 0);
	psize = strtoul(argv[3], NULL, 0) * 1024;
	size_t len = nr * psize;

	int fill = !strcmp(mode, "fill"), verify = !strcmp(mode, "verify");

	if (fill || verify) {
		int fd;

		if (argc < 5) {
			fprintf(stderr, "hugemap: %s needs a file\n", mode);
			return 2;
		}
		fd = open(argv[4], fill ? O_CREAT | O_RDWR : O_RDWR, 0600);
		if (fd < 0)
			die("open hugetlbfs file");
		map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		close(fd);
	} else if (!strcmp(mode, "file")) {
		char path[4096];
		int fd;

		snprintf(path, sizeof(path), "%s/hugemap.%d",
			 argc > 4 ? argv[4] : "/dev/hugepages", getpid());
		fd = open(path, O_CREAT | O_RDWR, 0600);
		if (fd < 0)
			die("open hugetlbfs file");
		unlink(path);
		map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		close(fd);
	} else if (!strcmp(mode, "anon")) {
		int shift = __builtin_ctzl(psize);

		map = mmap(NULL, len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
			   (shift << MAP_HUGE_SHIFT), -1, 0);
	} else if (!strcmp(mode, "shm")) {
		int shift = __builtin_ctzl(psize);
		int id = shmget(IPC_PRIVATE, len, IPC_CREAT | SHM_HUGETLB |
				(shift << SHM_HUGE_SHIFT) | 0600);

		if (id < 0)
			die("shmget");
		map = shmat(id, NULL, 0);
		shmctl(id, IPC_RMID, NULL);
	} else {
		fprintf(stderr, "hugemap: unknown mode %s\n", mode);
		return 2;
	}
	if (map == MAP_FAILED || map == (void *)-1)
		die("map huge pages");

	/* A different word in every 4 KiB of every huge page. */
	if (!verify)
		for (i = 0; i < len; i += 4096)
			*(uint64_t *)(map + i) = 0x5a5a000000000000ULL ^ i;
	for (i = 0; i < nr; i++) {
		int ok = 1;

		for (j = 0; j < psize; j += 4096)
			if (*(uint64_t *)(map + i * psize + j) !=
			    (0x5a5a000000000000ULL ^ (i * psize + j)))
				ok = 0;
		pattern_ok += ok;
	}

	pagemap = open("/proc/self/pagemap", O_RDONLY);
	kpf = open("/proc/kpageflags", O_RDONLY);
	if (pagemap < 0 || kpf < 0)
		die("open pagemap/kpageflags");
	for (i = 0; i < nr; i++) {
		uint64_t pm = read_u64(pagemap, (uintptr_t)(map + i * psize) / 4096, "pagemap");
		uint64_t pfn = pm & PM_PFN_MASK;

		if (!(pm & PM_PRESENT) || !pfn) {
			bad++;
			continue;
		}
		for (j = 0; j < psize / 4096; j++) {
			uint64_t f = read_u64(kpf, pfn + j, "kpageflags");
			int head = f >> KPF_COMPOUND_HEAD & 1;
			int tail = f >> KPF_COMPOUND_TAIL & 1;
			int huge = f >> KPF_HUGE & 1;

			if (j == 0 && head && !tail && huge)
				heads++;
			else if (j && tail && !head && huge)
				tails++;
			else
				bad++;
		}
	}
	printf("pages %lu pattern_ok %lu heads_ok %lu tails_ok %lu flags_bad %lu\n",
	       nr, pattern_ok, heads, tails, bad);
	return pattern_ok == nr && heads == nr && !bad ? 0 : 1;
}
