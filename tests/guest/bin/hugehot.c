// SPDX-License-Identifier: GPL-2.0
/*
 * hugehot: the bench's live workload (docs/bench.md). Maps NR 2 MiB
 * folios (MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, faulted in at once:
 * they are in use from then on) and prints "ready". From SIGUSR1 until
 * SIGUSR2 it makes passes over them: each pass writes one word in every
 * 4 KiB of every folio and reads them all back. A word read back that is
 * not what was written is counted wrong.
 *
 *   hugehot NR
 *
 * After SIGUSR2 it prints one line per pass, "pass END_NS LATENCY_NS"
 * (the pass's end, CLOCK_REALTIME, and how long it took), then
 * "done passes N wrong N". Exits 0, 1 if a word was wrong, 2 if mapping
 * failed.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#define FOLIO	(2UL << 20)
#define STEP	4096UL
#define MAX_PASSES	(1UL << 22)

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	uint64_t t0, t1, *ends, *lat, pass = 0, wrong = 0;
	volatile uint64_t *map;
	size_t nr, words, i;
	sigset_t start;
	int sig;

	if (argc != 2) {
		fprintf(stderr, "usage: hugehot NR\n");
		return 2;
	}
	nr = strtoul(argv[1], NULL, 0);
	sigemptyset(&start);
	sigaddset(&start, SIGUSR1);
	sigprocmask(SIG_BLOCK, &start, NULL);
	signal(SIGUSR2, on_stop);
	ends = calloc(MAX_PASSES, sizeof(*ends));
	lat = calloc(MAX_PASSES, sizeof(*lat));
	map = mmap(NULL, nr * FOLIO, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE, -1, 0);
	if (!nr || !ends || !lat || map == MAP_FAILED) {
		perror("hugehot");
		return 2;
	}
	words = nr * FOLIO / STEP;
	printf("ready\n");
	fflush(stdout);
	sigwait(&start, &sig);
	for (t0 = now_ns(); !stop && pass < MAX_PASSES; t0 = t1) {
		for (i = 0; i < words; i++)
			map[i * (STEP / 8)] = pass * words + i;
		for (i = 0; i < words; i++)
			wrong += map[i * (STEP / 8)] != pass * words + i;
		t1 = now_ns();
		ends[pass] = t1;
		lat[pass++] = t1 - t0;
	}
	for (i = 0; i < pass; i++)
		printf("pass %llu %llu\n", (unsigned long long)ends[i],
		       (unsigned long long)lat[i]);
	printf("done passes %llu wrong %llu\n", (unsigned long long)pass,
	       (unsigned long long)wrong);
	return wrong ? 1 : 0;
}
