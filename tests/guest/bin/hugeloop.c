// SPDX-License-Identifier: GPL-2.0
/*
 * hugeloop: a live workload on 2 MiB folios for 70-live-workload. Until
 * END (a Unix time) it maps NR folios with MAP_SHARED | MAP_ANONYMOUS |
 * MAP_HUGETLB (so that every fault adds its folio to the page cache of
 * hugetlbfs's internal file, as hugetlbfs files do), reads and writes one
 * byte in each (the fault), checks every byte, and unmaps (which evicts
 * that file: every folio is locked once more, then freed).
 *
 *   hugeloop NR END
 *
 * Rounds alternate: the even ones map with a reservation, so mmap itself
 * fails with ENOMEM if the pool's free folios, less those reserved, are
 * fewer than NR (counted, and tried again 10 ms later); the odd ones
 * with MAP_NORESERVE, so a fault that finds no free folio gets SIGBUS,
 * which is caught and counted, and the next folio is tried. Neither may
 * happen while NR free folios are there. A byte that is not 0 before its
 * write, or not what was written after, is a wrong byte.
 *
 * Prints one line after each round's checks, before its munmap (a
 * munmap that never returns leaves the counts of the round it hung in):
 *   round rounds N reserved N noreserve N enomem N sigbus N wrong N faults N
 * and, once END has passed, the same line starting with "done". Exits 0;
 * 2 (and "failed ...") if something else failed.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define FOLIO	(2UL << 20)

static sigjmp_buf fault_env;
static unsigned long rounds, maps[2], enomem, sigbus, wrong, faults;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(fault_env, 1);
}

static void report(const char *tag)
{
	printf("%s rounds %lu reserved %lu noreserve %lu enomem %lu sigbus %lu wrong %lu faults %lu\n",
	       tag, rounds, maps[0], maps[1], enomem, sigbus, wrong, faults);
	fflush(stdout);
}

/* A wrong byte: counted, and the first few described. */
static void bad(unsigned long i, unsigned char got, unsigned char want)
{
	if (wrong++ < 5)
		fprintf(stderr, "hugeloop: round %lu folio %lu: got %#x, want %#x\n",
			rounds, i, got, want);
}

static void die(const char *what)
{
	fprintf(stderr, "hugeloop: %s: %s\n", what, strerror(errno));
	report("failed");
	exit(2);
}

/* The byte of folio @i in round @r: never 0, different per folio and round. */
static unsigned char byte_of(unsigned long r, unsigned long i)
{
	return (unsigned char)(1 + (r * 31 + i * 7) % 255);
}

/* Where in folio @i the byte goes: another cache line each round. */
static size_t offset_of(unsigned long r, unsigned long i)
{
	return i * FOLIO + ((r * 4096 + i * 64) % FOLIO);
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	unsigned long nr;
	char *written;
	time_t end;

	if (argc != 3) {
		fprintf(stderr, "usage: hugeloop NR END\n");
		return 2;
	}
	nr = strtoul(argv[1], NULL, 0);
	end = strtol(argv[2], NULL, 0);

	written = malloc(nr);
	if (!nr || !written)
		die("malloc");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigbus;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL))
		die("sigaction");

	while (time(NULL) < end) {
		volatile unsigned long i = 0;
		int noreserve = rounds % 2;
		volatile unsigned char *map;

		map = mmap(NULL, nr * FOLIO, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB |
			   (noreserve ? MAP_NORESERVE : 0), -1, 0);
		if (map == MAP_FAILED) {
			if (errno != ENOMEM)
				die("mmap");
			enomem++;
			usleep(10000);
			continue;
		}
		maps[noreserve]++;
		memset(written, 0, nr);
		/* A fault that gets SIGBUS comes back here: the next folio. */
		if (sigsetjmp(fault_env, 1)) {
			sigbus++;
			i++;
		}
		for (; i < nr; i++) {
			volatile unsigned char *p = map + offset_of(rounds, i);

			if (*p != 0)	/* the fault: a new folio reads 0 */
				bad(i, *p, 0);
			*p = byte_of(rounds, i);
			written[i] = 1;
			faults++;
		}
		for (i = 0; i < nr; i++)
			if (written[i] && map[offset_of(rounds, i)] != byte_of(rounds, i))
				bad(i, map[offset_of(rounds, i)], byte_of(rounds, i));
		rounds++;
		report("round");
		if (munmap((void *)map, nr * FOLIO))
			die("munmap");
	}
	report("done");
	return 0;
}
