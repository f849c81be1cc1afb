// SPDX-License-Identifier: GPL-2.0
/*
 * kpaths: drive the kernel paths that touch a hugetlb folio while it is
 * in use, with 2 MiB pages, and check the data on the way.
 *
 *   kpaths cow N                  fork, child writes (COW), both check
 *   kpaths memfd N                memfd_create(MFD_HUGETLB): mmap and read()
 *   kpaths uffd N                 UFFDIO_COPY into a registered region
 *   kpaths punch N FIRST LEN DIR  fallocate, punch a hole, count freed folios
 *   kpaths odirect N DEV          O_DIRECT write from / read into huge pages
 *   kpaths pin N                  io_uring fixed buffers (long-term pin)
 *   kpaths cgfault N              fault N pages, count those before SIGBUS
 *   kpaths hwpoison anon|file DIR MADV_HWPOISON a tail page of a mapped folio
 *   kpaths softoffline N          MADV_SOFT_OFFLINE a tail page of a mapped folio
 *   kpaths hold file|anon|shm|noreserve N [DIR]
 *                                 map and fill, print "ready", wait for
 *                                 SIGUSR1, check the data again, exit
 *   kpaths watch file|anon|shm N [DIR]
 *                                 as hold, but check the data over and
 *                                 over while waiting: "rounds R bad B"
 *   kpaths watch pin N DEV        as watch, MAP_HUGETLB, with the first
 *                                 half pinned long-term (io_uring fixed
 *                                 buffers) and, each round, one page of
 *                                 the second half written to DEV and
 *                                 read back with O_DIRECT (GUP-fast pins)
 *   kpaths scan FIRST_PFN END_PFN [ORDER]
 *                                 hugetlb heads in [FIRST, END): "heads H
 *                                 free F first_free PFN" (free: refcount 0
 *                                 and not poisoned)
 *   kpaths reserved FIRST_PFN END_PFN
 *                                 PG_reserved pages in [FIRST, END), which
 *                                 no offline can move: "reserved R"
 *
 * Each prints one line of what it measured; exit 0 only if every page held
 * its pattern and the path did what it should.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/userfaultfd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define HPAGE		(2UL << 20)
#define KPF_HEAD	15
#define KPF_HUGE	17
#define KPF_HWPOISON	19
#define KPF_RESERVED	32
#define PM_PFN_MASK	((1ULL << 55) - 1)
#define PM_PRESENT	(1ULL << 63)
#ifndef MADV_SOFT_OFFLINE
#define MADV_SOFT_OFFLINE 101
#endif

static void die(const char *what)
{
	fprintf(stderr, "kpaths: %s: %s\n", what, strerror(errno));
	exit(2);
}

static char *map_anon(unsigned long nr, int extra)
{
	char *p = mmap(NULL, nr * HPAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | extra, -1, 0);

	if (p == MAP_FAILED)
		die("mmap MAP_HUGETLB");
	return p;
}

/* A SysV shared memory segment of NR huge pages, removed once attached. */
static char *map_shm(unsigned long nr)
{
	int id = shmget(IPC_PRIVATE, nr * HPAGE, SHM_HUGETLB | IPC_CREAT | 0600);
	char *p;

	if (id < 0)
		die("shmget SHM_HUGETLB");
	p = shmat(id, NULL, 0);
	if (p == (void *)-1)
		die("shmat");
	shmctl(id, IPC_RMID, NULL);
	return p;
}

/* An unlinked hugetlbfs file of NR pages: fd in *fdp. */
static int open_hugetlbfs(const char *dir)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/kpaths.%d", dir, getpid());
	fd = open(path, O_CREAT | O_RDWR, 0600);
	if (fd < 0)
		die("open hugetlbfs file");
	unlink(path);
	return fd;
}

static char *map_fd(int fd, unsigned long nr)
{
	char *p = mmap(NULL, nr * HPAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		die("mmap hugetlbfs file");
	return p;
}

/* One word in every 4 KiB, different per seed and per offset. */
static uint64_t word(uint64_t seed, unsigned long off)
{
	return (seed << 48) ^ 0x5a5a00000000ULL ^ off;
}

static void fill(char *p, unsigned long len, uint64_t seed)
{
	unsigned long i;

	for (i = 0; i < len; i += 4096)
		*(uint64_t *)(p + i) = word(seed, i);
}

/* Page I (of 2 MiB) of a mapping at P: does every 4 KiB hold the pattern? */
static int page_ok(const char *p, unsigned long i, uint64_t seed)
{
	unsigned long j;

	for (j = 0; j < HPAGE; j += 4096)
		if (*(const uint64_t *)(p + i * HPAGE + j) != word(seed, i * HPAGE + j))
			return 0;
	return 1;
}

/* Pages of the first NR that still hold the pattern. */
static unsigned long check(const char *p, unsigned long nr, uint64_t seed)
{
	unsigned long i, good = 0;

	for (i = 0; i < nr; i++)
		good += page_ok(p, i, seed);
	return good;
}

static uint64_t pfn_of(const void *addr)
{
	uint64_t pm;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0 || pread(fd, &pm, 8, (uintptr_t)addr / 4096 * 8) != 8)
		die("pagemap");
	close(fd);
	return pm & PM_PRESENT ? pm & PM_PFN_MASK : 0;
}

static long meminfo(const char *key)
{
	char line[256];
	long v = -1;
	size_t n = strlen(key);
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		die("/proc/meminfo");
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			v = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return v;
}

static int cow(unsigned long nr)
{
	char *p = map_anon(nr, 0);
	unsigned long parent, child = 0;
	int status;
	pid_t pid;

	fill(p, nr * HPAGE, 1);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		/* Every write copies a folio: the child gets fresh ones. */
		fill(p, nr * HPAGE, 2);
		_exit(check(p, nr, 2) == nr ? 0 : 1);
	}
	if (waitpid(pid, &status, 0) < 0)
		die("waitpid");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		child = nr;
	parent = check(p, nr, 1);
	printf("cow pages %lu child_ok %lu parent_ok %lu\n", nr, child, parent);
	return parent == nr && child == nr ? 0 : 1;
}

static int memfd(unsigned long nr)
{
	unsigned long i, read_ok = 0, map_ok;
	int fd = memfd_create("kpaths", MFD_HUGETLB);
	char *p;

	if (fd < 0)
		die("memfd_create MFD_HUGETLB");
	if (ftruncate(fd, nr * HPAGE))
		die("ftruncate");
	p = map_fd(fd, nr);
	fill(p, nr * HPAGE, 3);
	munmap(p, nr * HPAGE);
	/* A second mapping of the same file, and read() through the page cache. */
	p = map_fd(fd, nr);
	map_ok = check(p, nr, 3);
	for (i = 0; i < nr; i++) {
		uint64_t w;

		if (pread(fd, &w, 8, i * HPAGE + HPAGE - 4096) == 8 &&
		    w == word(3, i * HPAGE + HPAGE - 4096))
			read_ok++;
	}
	printf("memfd pages %lu map_ok %lu read_ok %lu\n", nr, map_ok, read_ok);
	return map_ok == nr && read_ok == nr ? 0 : 1;
}

static int uffd(unsigned long nr)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { 0 };
	unsigned long i, copied = 0, good;
	char *p = map_anon(nr, 0), *src;
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		die("userfaultfd");
	if (ioctl(fd, UFFDIO_API, &api))
		die("UFFDIO_API");
	reg.range.start = (uintptr_t)p;
	reg.range.len = nr * HPAGE;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(fd, UFFDIO_REGISTER, &reg))
		die("UFFDIO_REGISTER");
	if (posix_memalign((void **)&src, HPAGE, HPAGE))
		die("posix_memalign");
	/* UFFDIO_COPY fills a missing page without waiting for a fault. */
	for (i = 0; i < nr; i++) {
		struct uffdio_copy c = {
			.dst = (uintptr_t)p + i * HPAGE,
			.src = (uintptr_t)src,
			.len = HPAGE,
		};
		unsigned long j;

		for (j = 0; j < HPAGE; j += 4096)
			*(uint64_t *)(src + j) = word(4, i * HPAGE + j);
		if (ioctl(fd, UFFDIO_COPY, &c) == 0 && c.copy == (long)HPAGE)
			copied++;
		else
			fprintf(stderr, "kpaths: UFFDIO_COPY page %lu: %s (copy %lld)\n",
				i, strerror(errno), (long long)c.copy);
	}
	good = check(p, nr, 4);
	printf("uffd pages %lu copied %lu pattern_ok %lu\n", nr, copied, good);
	return copied == nr && good == nr ? 0 : 1;
}

static int punch(unsigned long nr, unsigned long first, unsigned long len,
		 const char *dir)
{
	int fd = open_hugetlbfs(dir);
	unsigned long i, kept = 0, holes = 0;
	long free0, free1;
	char *p;

	if (fallocate(fd, 0, 0, nr * HPAGE))
		die("fallocate");
	p = map_fd(fd, nr);
	fill(p, nr * HPAGE, 5);
	free0 = meminfo("HugePages_Free");
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      first * HPAGE, len * HPAGE))
		die("fallocate punch hole");
	free1 = meminfo("HugePages_Free");
	for (i = 0; i < nr; i++) {
		uint64_t w = 1;

		if (i < first || i >= first + len)
			kept += page_ok(p, i, 5);
		/* read() of a hole gives zeros and allocates nothing. */
		else if (pread(fd, &w, 8, i * HPAGE) == 8 && w == 0)
			holes++;
	}
	printf("punch pages %lu freed %ld kept_ok %lu holes_zero %lu\n",
	       nr, free1 - free0, kept, holes);
	return kept == nr - len && holes == len ? 0 : 1;
}

static int odirect(unsigned long nr, const char *dev)
{
	char *a = map_anon(nr, 0), *b = map_anon(nr, 0);
	unsigned long good;
	ssize_t w, r;
	int fd = open(dev, O_RDWR | O_DIRECT);

	if (fd < 0)
		die("open O_DIRECT");
	fill(a, nr * HPAGE, 6);
	memset(b, 0, nr * HPAGE);
	/* The block layer pins the user pages (FOLL_PIN) for each transfer. */
	w = pwrite(fd, a, nr * HPAGE, 0);
	r = pread(fd, b, nr * HPAGE, 0);
	good = check(b, nr, 6);
	printf("odirect pages %lu written %zd read %zd pattern_ok %lu source_ok %lu\n",
	       nr, w, r, good, check(a, nr, 6));
	return w == (ssize_t)(nr * HPAGE) && r == w && good == nr ? 0 : 1;
}

/*
 * Register [p, p + len) as io_uring fixed buffers, which pins its pages
 * long-term: a folio that is not long-term pinnable (ZONE_MOVABLE, CMA) is
 * migrated first. Returns the ring; unpin_fixed() undoes it.
 */
static int pin_fixed(char *p, unsigned long len)
{
	struct io_uring_params params = { 0 };
	struct iovec iov = { .iov_base = p, .iov_len = len };
	int ring = syscall(__NR_io_uring_setup, 4, &params);

	if (ring < 0)
		die("io_uring_setup");
	if (syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS, &iov, 1))
		die("IORING_REGISTER_BUFFERS");
	return ring;
}

static void unpin_fixed(int ring)
{
	if (syscall(__NR_io_uring_register, ring, IORING_UNREGISTER_BUFFERS, NULL, 0))
		die("IORING_UNREGISTER_BUFFERS");
	close(ring);
}

static int pin(unsigned long nr)
{
	char *p = map_anon(nr, 0);
	unsigned long i, moved = 0, good;
	uint64_t *before = calloc(nr, 8);
	int ring;

	fill(p, nr * HPAGE, 7);
	for (i = 0; i < nr; i++)
		before[i] = pfn_of(p + i * HPAGE);
	ring = pin_fixed(p, nr * HPAGE);
	for (i = 0; i < nr; i++)
		moved += pfn_of(p + i * HPAGE) != before[i];
	good = check(p, nr, 7);
	unpin_fixed(ring);
	printf("pin pages %lu migrated %lu pattern_ok %lu\n", nr, moved, good);
	return good == nr ? 0 : 1;
}

static sigjmp_buf env;
static volatile sig_atomic_t sigbus;
static volatile uintptr_t sigbus_addr;
static volatile int sigbus_code;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	sigbus++;
	sigbus_addr = (uintptr_t)si->si_addr;
	sigbus_code = si->si_code;
	(void)sig;
	(void)uc;
}

static void on_sigbus_jump(int sig, siginfo_t *si, void *uc)
{
	on_sigbus(sig, si, uc);
	siglongjmp(env, 1);
}

static void catch_sigbus(void (*fn)(int, siginfo_t *, void *))
{
	struct sigaction sa = { .sa_sigaction = fn, .sa_flags = SA_SIGINFO };

	sigaction(SIGBUS, &sa, NULL);
}

/* Fault pages in order until SIGBUS; a hugetlb cgroup limit stops it. */
static int cgfault(unsigned long nr)
{
	char *p = map_anon(nr, 0);
	volatile unsigned long i = 0;

	catch_sigbus(on_sigbus_jump);
	if (!sigsetjmp(env, 1))
		for (i = 0; i < nr; i++)
			*(volatile uint64_t *)(p + i * HPAGE) = word(8, i * HPAGE);
	printf("cgfault pages %lu faulted %lu sigbus %d pattern_ok %lu\n",
	       nr, (unsigned long)i, (int)sigbus, check(p, i, 8) == i ? i : 0);
	return 0;
}

static int hwpoison(const char *mode, const char *dir)
{
	unsigned long nr = 2;
	int file = !strcmp(mode, "file"), fd = -1;
	char *p, buf[4096];
	uint64_t pfn;
	ssize_t r0, r1;
	int e0 = 0;

	if (file) {
		fd = open_hugetlbfs(dir);
		p = map_fd(fd, nr);
	} else {
		p = map_anon(nr, 0);
	}
	fill(p, nr * HPAGE, 9);
	pfn = pfn_of(p);
	catch_sigbus(on_sigbus);
	/* A tail page, not the head: the poison is recorded on the folio. */
	if (madvise(p + 5 * 4096, 4096, MADV_HWPOISON))
		die("madvise MADV_HWPOISON");
	if (file) {
		/* The poisoned folio stays in the page cache: read() of the bad page fails. */
		r0 = pread(fd, buf, sizeof(buf), 5 * 4096);
		e0 = errno;
		r1 = pread(fd, buf, sizeof(buf), HPAGE);
		printf("hwpoison file pfn %llu sigbus %d read_poisoned %zd errno %d read_healthy %zd healthy_ok %d\n",
		       (unsigned long long)pfn, (int)sigbus, r0, e0, r1,
		       page_ok(p, 1, 9));
		return r0 < 0 && e0 == EIO && r1 == sizeof(buf) &&
		       *(uint64_t *)buf == word(9, HPAGE) && page_ok(p, 1, 9) ? 0 : 1;
	}
	/* The second folio of the mapping is unaffected. */
	printf("hwpoison anon pfn %llu sigbus %d code %d addr_ok %d healthy_ok %d\n",
	       (unsigned long long)pfn, (int)sigbus, sigbus_code,
	       sigbus_addr == (uintptr_t)(p + 5 * 4096) || !sigbus, page_ok(p, 1, 9));
	return page_ok(p, 1, 9) ? 0 : 1;
}

static int softoffline(unsigned long nr)
{
	char *p = map_anon(nr, 0);
	uint64_t before, after;
	unsigned long good;

	fill(p, nr * HPAGE, 10);
	before = pfn_of(p);
	/* Migrates the folio to a new one, then poisons and dissolves the old. */
	if (madvise(p + 3 * 4096, 4096, MADV_SOFT_OFFLINE))
		die("madvise MADV_SOFT_OFFLINE");
	after = pfn_of(p);
	good = check(p, nr, 10);
	printf("softoffline old %llu new %llu pattern_ok %lu\n",
	       (unsigned long long)before, (unsigned long long)after, good);
	return good == nr && after && after != before ? 0 : 1;
}

static volatile sig_atomic_t go;
static void on_usr1(int sig) { go = sig; }

/*
 * One round of O_DIRECT on page @i: write it to @dev and read it back into
 * itself, so that its pattern holds. Returns 0 if both moved a whole page.
 */
static int odirect_round(int dev, char *p, unsigned long i)
{
	char *page = p + i * HPAGE;

	return pwrite(dev, page, HPAGE, 0) != (ssize_t)HPAGE ||
	       pread(dev, page, HPAGE, 0) != (ssize_t)HPAGE;
}

static int hold(const char *mode, unsigned long nr, const char *dir, int watch)
{
	unsigned long good, rounds = 0, bad = 0, pinned = 0, ioerr = 0;
	int pinning = !strcmp(mode, "pin"), ring = -1, dev = -1;
	sigset_t none, usr1;
	char *p;

	signal(SIGUSR1, on_usr1);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &none);
	if (!strcmp(mode, "file"))
		p = map_fd(open_hugetlbfs(dir), nr);
	else if (!strcmp(mode, "shm"))
		p = map_shm(nr);
	else
		p = map_anon(nr, strcmp(mode, "noreserve") ? 0 : MAP_NORESERVE);
	fill(p, nr * HPAGE, 11);
	if (pinning) {
		pinned = nr / 2;
		ring = pin_fixed(p, pinned * HPAGE);
		dev = open(dir, O_RDWR | O_DIRECT);
		if (dev < 0)
			die("open O_DIRECT");
	}
	printf("ready first_pfn %llu\n", (unsigned long long)pfn_of(p));
	fflush(stdout);
	if (watch)
		sigprocmask(SIG_SETMASK, &none, NULL);
	while (!go) {
		if (!watch) {
			sigsuspend(&none);
			continue;
		}
		rounds++;
		if (pinning)
			ioerr += odirect_round(dev, p, pinned + rounds % (nr - pinned));
		bad += check(p, nr, 11) != nr;
	}
	good = check(p, nr, 11);
	if (pinning)
		unpin_fixed(ring);
	printf("%s %s pages %lu pattern_ok %lu rounds %lu bad %lu",
	       watch ? "watch" : "hold", mode, nr, good, rounds, bad);
	if (pinning)
		printf(" pinned %lu odirect %lu ioerr %lu", pinned, rounds, ioerr);
	printf("\n");
	return good == nr && !bad && !ioerr ? 0 : 1;
}

/* PG_reserved pages in [first, end): memblock's, never migrated. */
static int reserved(uint64_t first, uint64_t end)
{
	int kpf = open("/proc/kpageflags", O_RDONLY);
	static uint64_t f[4096];
	unsigned long reserved = 0;
	uint64_t pfn = first;
	ssize_t got;
	size_t i, n;

	if (kpf < 0)
		die("open kpageflags");
	while (pfn < end) {
		n = end - pfn < 4096 ? end - pfn : 4096;
		got = pread(kpf, f, n * 8, pfn * 8);
		if (got <= 0)
			break;
		for (i = 0; i < (size_t)got / 8; i++)
			reserved += f[i] >> KPF_RESERVED & 1;
		pfn += got / 8;
	}
	printf("reserved %lu\n", reserved);
	return 0;
}

static int scan(uint64_t first, uint64_t end, unsigned int order)
{
	int kpf = open("/proc/kpageflags", O_RDONLY);
	int kpc = open("/proc/kpagecount", O_RDONLY);
	unsigned long heads = 0, free = 0;
	uint64_t pfn, first_free = 0, f, c;

	if (kpf < 0 || kpc < 0)
		die("open kpageflags/kpagecount");
	for (pfn = first; pfn < end; pfn += 1UL << order) {
		if (pread(kpf, &f, 8, pfn * 8) != 8)
			break;
		if (!(f >> KPF_HEAD & 1) || !(f >> KPF_HUGE & 1))
			continue;
		heads++;
		/* A poisoned folio parked in the pool is not a candidate. */
		if (f >> KPF_HWPOISON & 1)
			continue;
		if (pread(kpc, &c, 8, pfn * 8) == 8 && c == 0) {
			if (!free)
				first_free = pfn;
			free++;
		}
	}
	printf("heads %lu free %lu first_free %llu\n", heads, free,
	       (unsigned long long)first_free);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long n = argc > 2 ? strtoul(argv[2], NULL, 0) : 0;
	const char *cmd = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "cow"))
		return cow(n);
	if (!strcmp(cmd, "memfd"))
		return memfd(n);
	if (!strcmp(cmd, "uffd"))
		return uffd(n);
	if (!strcmp(cmd, "punch") && argc == 6)
		return punch(n, strtoul(argv[3], NULL, 0), strtoul(argv[4], NULL, 0), argv[5]);
	if (!strcmp(cmd, "odirect") && argc == 4)
		return odirect(n, argv[3]);
	if (!strcmp(cmd, "pin"))
		return pin(n);
	if (!strcmp(cmd, "cgfault"))
		return cgfault(n);
	if (!strcmp(cmd, "hwpoison") && argc >= 3)
		return hwpoison(argv[2], argc > 3 ? argv[3] : "/dev/hugepages");
	if (!strcmp(cmd, "softoffline"))
		return softoffline(n);
	if ((!strcmp(cmd, "hold") || !strcmp(cmd, "watch")) && argc >= 4)
		return hold(argv[2], strtoul(argv[3], NULL, 0),
			    argc > 4 ? argv[4] : "/dev/hugepages", !strcmp(cmd, "watch"));
	if (!strcmp(cmd, "scan") && argc >= 4)
		return scan(strtoull(argv[2], NULL, 0), strtoull(argv[3], NULL, 0),
			    argc > 4 ? atoi(argv[4]) : 9);
	if (!strcmp(cmd, "reserved") && argc == 4)
		return reserved(strtoull(argv[2], NULL, 0), strtoull(argv[3], NULL, 0));
	fprintf(stderr, "usage: see the comment at the top of kpaths.c\n");
	return 2;
}
