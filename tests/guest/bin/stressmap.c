// SPDX-License-Identifier: GPL-2.0
/*
 * stressmap: a map worker for the stress test. Until END (a Unix time) or
 * until the file STOP exists, it maps NR huge pages (a hugetlbfs file,
 * MAP_HUGETLB, or both in turn: "alt", for 1 GiB folios, of which there
 * may be only one), writes a pattern that differs per round, moves every page
 * to the other NUMA node (of two) with move_pages(2), verifies, and unmaps.
 *
 *   stressmap file|anon|alt PAGE_KB NR END STOP [HUGETLBFS_DIR]
 *
 * Past END or STOP it goes on only until its first map has succeeded, for
 * at most LATE_SECONDS: a worker that started late (a 1 GiB migration
 * holds a vCPU for most of a minute under TCG) still does one round.
 *
 * A map that fails (the pool is being shrunk by another worker) or a
 * move that fails (no free folio on the target node) is counted and the
 * round goes on: both are normal under churn. A word that does not hold
 * its pattern is not: the worker prints it and exits 1. At the end it
 * prints one line:
 *   maps N file_maps N anon_maps N map_fail N pages N moved N move_fail N verified N
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MPOL_MF_MOVE	(1 << 1)	/* <numaif.h>, without libnuma */
#define LATE_SECONDS	60

static unsigned long maps, file_maps, map_fail, pages, moved, move_fail, verified;

static void report(void)
{
	printf("maps %lu file_maps %lu anon_maps %lu map_fail %lu pages %lu moved %lu move_fail %lu verified %lu\n",
	       maps, file_maps, maps - file_maps, map_fail, pages, moved, move_fail, verified);
	fflush(stdout);
}

static void die(const char *what)
{
	fprintf(stderr, "stressmap: %s: %s\n", what, strerror(errno));
	report();
	exit(2);
}

static long move_pages(unsigned long count, void **addrs, const int *nodes,
		       int *status)
{
	return syscall(SYS_move_pages, 0, count, addrs, nodes, status,
		       MPOL_MF_MOVE);
}

/* One word per 4 KiB, unique to the round and the offset. */
static uint64_t word(uint64_t seed, size_t off)
{
	return seed ^ (off * 0x9e3779b97f4a7c15ULL);
}

static void fill(char *map, size_t len, uint64_t seed)
{
	size_t off;

	for (off = 0; off < len; off += 4096)
		*(uint64_t *)(map + off) = word(seed, off);
}

static void check(const char *map, size_t len, uint64_t seed, const char *when)
{
	size_t off;

	for (off = 0; off < len; off += 4096) {
		uint64_t got = *(const uint64_t *)(map + off);

		if (got != word(seed, off)) {
			fprintf(stderr,
				"stressmap: pattern lost %s at offset %#zx: got %#llx want %#llx\n",
				when, off, (unsigned long long)got,
				(unsigned long long)word(seed, off));
			report();
			exit(1);
		}
	}
	verified++;
}

static char *map_pages(const char *mode, size_t len, size_t psize,
		       const char *dir)
{
	int shift = __builtin_ctzl(psize);
	char path[4096];
	char *map;
	int fd;

	if (!strcmp(mode, "anon"))
		return mmap(NULL, len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
			    (shift << MAP_HUGE_SHIFT), -1, 0);
	snprintf(path, sizeof(path), "%s/stressmap.%d", dir, getpid());
	fd = open(path, O_CREAT | O_RDWR, 0600);
	if (fd < 0)
		die("open hugetlbfs file");
	/* Unlinked at once: a killed worker leaves nothing in the pool. */
	unlink(path);
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return map;
}

int main(int argc, char **argv)
{
	unsigned long nr, i, round = 0;
	size_t psize, len;
	const char *mode, *stop, *dir;
	time_t end;
	void **addrs;
	int *nodes, *status;

	if (argc < 6) {
		fprintf(stderr, "usage: stressmap file|anon|alt PAGE_KB NR END STOP [DIR]\n");
		return 2;
	}
	mode = argv[1];
	psize = strtoul(argv[2], NULL, 0) * 1024;
	nr = strtoul(argv[3], NULL, 0);
	end = strtol(argv[4], NULL, 0);
	stop = argv[5];
	dir = argc > 6 ? argv[6] : "/dev/hugepages";
	if (strcmp(mode, "file") && strcmp(mode, "anon") && strcmp(mode, "alt")) {
		fprintf(stderr, "stressmap: unknown mode %s\n", mode);
		return 2;
	}
	len = nr * psize;
	addrs = calloc(nr, sizeof(*addrs));
	nodes = calloc(nr, sizeof(*nodes));
	status = calloc(nr, sizeof(*status));
	if (!addrs || !nodes || !status)
		die("calloc");

	for (;;) {
		uint64_t seed = ((uint64_t)getpid() << 40) ^ (++round << 8) ^ 0x5a;
		const char *how = strcmp(mode, "alt") ? mode :
				  (maps % 2 ? "anon" : "file");
		time_t now = time(NULL);
		char *map;

		if ((now >= end || !access(stop, F_OK)) &&
		    (maps || now >= end + LATE_SECONDS))
			break;
		map = map_pages(how, len, psize, dir);
		if (map == MAP_FAILED) {
			if (errno != ENOMEM)
				die("mmap");
			map_fail++;
			usleep(100000);
			continue;
		}
		maps++;
		file_maps += !strcmp(how, "file");
		pages += nr;
		fill(map, len, seed);
		check(map, len, seed, "after write");
		/* A 1 GiB move can take a minute under TCG: not past the end. */
		if (time(NULL) >= end) {
			munmap(map, len);
			break;
		}

		/* Where is each page now? Then send it to the other node. */
		for (i = 0; i < nr; i++)
			addrs[i] = map + i * psize;
		if (move_pages(nr, addrs, NULL, status))
			die("move_pages (query)");
		for (i = 0; i < nr; i++)
			nodes[i] = status[i] < 0 ? 0 : !status[i];
		/*
		 * No free folio on the target node (ENOMEM: 1 GiB folios are
		 * never allocated fresh for a migration) fails the whole call.
		 */
		if (move_pages(nr, addrs, nodes, status) < 0) {
			if (errno != ENOMEM && errno != EBUSY && errno != EAGAIN)
				die("move_pages");
			move_fail += nr;
		} else {
			for (i = 0; i < nr; i++) {
				if (status[i] == nodes[i])
					moved++;
				else
					move_fail++;
			}
		}
		check(map, len, seed, "after move");
		if (munmap(map, len))
			die("munmap");
		/*
		 * Longer than a refused map's retry: a worker that just had
		 * the only free 1 GiB folio lets the other one have it.
		 */
		usleep(300000 + rand() % 200000);
	}
	report();
	return 0;
}
