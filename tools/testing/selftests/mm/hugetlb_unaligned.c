// SPDX-License-Identifier: GPL-2.0
/*
 * Operations on a piece of a hugetlb mapping that is not huge page aligned.
 *
 * A hugetlb VMA can only be split at a huge page boundary, and a huge page
 * cannot be unmapped, protected or discarded in part. munmap(), mprotect()
 * and mmap(MAP_FIXED) fail with EINVAL on a range that starts or ends
 * inside a huge page, madvise(MADV_DONTNEED) on one that starts inside a
 * huge page (it rounds the end down to a huge page boundary), and mremap()
 * rounds both lengths up to the huge page size and fails with EINVAL on an
 * address that is not aligned.
 *
 * Code that all VMAs go through, such as the splitting of transparent huge
 * PMDs at the bounds of a range, must leave a hugetlb mapping alone until
 * the hugetlb checks have had their say: an operation that the kernel
 * refuses on a hugetlb VMA must still be refused, with nothing changed.
 *
 * For each huge page size, for private and shared anonymous mappings of 4
 * huge pages filled with a pattern of their own, each operation is run on
 * a range that starts or ends inside the second huge page (hp2). Each case
 * checks the result of the call; that the free huge page count did not
 * move; that /proc/self/smaps shows the VMAs as they were (or as the
 * operation, where it is allowed, leaves them); that every byte of every
 * huge page reads back as written, from where it should be; and that
 * unmapping the whole mapping gives back all its huge pages.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest.h"

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT	26
#endif

#define NR_HUGE_PAGES	4	/* huge pages per mapping */
#define MAX_VMAS	8
#define MAX_REASONS	8

struct hsize {
	unsigned long size;
	const char *name;
	int min_nr;		/* fewer pages per mapping are fine */
	int nr;			/* huge pages per mapping, 0 if skipped */
	long nr_hugepages;	/* to restore, -1 if unchanged */
	char skip[160];
};

static struct hsize hsizes[] = {
	{ .size = 2UL << 20, .name = "2M", .min_nr = NR_HUGE_PAGES },
	/* Few machines can spare 4 GiB, 2 pages are enough. */
	{ .size = 1UL << 30, .name = "1G", .min_nr = 2 },
};

enum op {
	OP_MUNMAP,
	OP_MPROTECT,
	OP_MADV_DONTNEED,
	OP_MREMAP_SHRINK,
	OP_MREMAP_MOVE,
	OP_MMAP_FIXED,
};

/* What the kernel does with the operation. */
enum outcome {
	REFUSED,	/* EINVAL, nothing changed */
	NOTHING,	/* success, nothing changed */
	MOVED,		/* success, the second huge page moved whole */
};

struct tcase {
	enum op op;
	bool at_hp2;	/* range [hp2, hp2 + page), else [hp2 + page, +page) */
	enum outcome outcome;
};

static const struct tcase tcases[] = {
	{ OP_MUNMAP,		false,	REFUSED },
	{ OP_MUNMAP,		true,	REFUSED },
	{ OP_MPROTECT,		false,	REFUSED },
	{ OP_MPROTECT,		true,	REFUSED },
	{ OP_MADV_DONTNEED,	false,	REFUSED },
	/* The end is rounded down to hp2: an empty range. */
	{ OP_MADV_DONTNEED,	true,	NOTHING },
	/* The new length is rounded up to the old one. */
	{ OP_MREMAP_SHRINK,	false,	NOTHING },
	{ OP_MREMAP_MOVE,	false,	REFUSED },
	/* The length is rounded up to the whole huge page. */
	{ OP_MREMAP_MOVE,	true,	MOVED },
	{ OP_MMAP_FIXED,	false,	REFUSED },
	{ OP_MMAP_FIXED,	true,	REFUSED },
};

#define NR_TCASES	ARRAY_SIZE(tcases)
#define NR_HSIZES	ARRAY_SIZE(hsizes)

static size_t page_size;

struct vma {
	unsigned long start, end;
	char perms[5];
	unsigned long kernel_page_kb;
	unsigned long hugetlb_kb;
};

/* Why the current case fails, printed before its result. */
static char reasons[MAX_REASONS][200];
static int nr_reasons;

static __printf(1, 2) void fail_reason(const char *fmt, ...)
{
	va_list ap;

	if (nr_reasons == MAX_REASONS)
		return;
	va_start(ap, fmt);
	vsnprintf(reasons[nr_reasons++], sizeof(reasons[0]), fmt, ap);
	va_end(ap);
}

static void case_name(char *buf, size_t len, const struct hsize *hs,
		      bool shared, const struct tcase *tc)
{
	static const char * const ops[] = {
		[OP_MUNMAP] = "munmap",
		[OP_MPROTECT] = "mprotect PROT_READ",
		[OP_MADV_DONTNEED] = "madvise MADV_DONTNEED",
		[OP_MREMAP_MOVE] = "mremap MAYMOVE FIXED",
		[OP_MMAP_FIXED] = "mmap MAP_FIXED",
	};
	const char *sharing = shared ? "shared" : "private";
	unsigned long kb = page_size / 1024;

	if (tc->op == OP_MREMAP_SHRINK)
		snprintf(buf, len, "%s %s: mremap shrinking by %luK",
			 hs->name, sharing, kb);
	else if (tc->at_hp2)
		snprintf(buf, len, "%s %s: %s %luK at hp2", hs->name, sharing,
			 ops[tc->op], kb);
	else
		snprintf(buf, len, "%s %s: %s %luK at hp2+%luK", hs->name,
			 sharing, ops[tc->op], kb, kb);
}

static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long val;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &val) != 1)
		val = -1;
	fclose(f);
	return val;
}

static bool write_long(const char *path, long val)
{
	FILE *f = fopen(path, "w");
	bool ok;

	if (!f)
		return false;
	ok = fprintf(f, "%ld\n", val) > 0;
	return !fclose(f) && ok;
}

static long hstate_read(const struct hsize *hs, const char *file)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%lukB/%s",
		 hs->size / 1024, file);
	return read_long(path);
}

static bool hstate_write(const struct hsize *hs, const char *file, long val)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/hugepages-%lukB/%s",
		 hs->size / 1024, file);
	return write_long(path, val);
}

/* A field of /proc/meminfo, -1 if it has none. */
static long meminfo_value(const char *field)
{
	FILE *f = fopen("/proc/meminfo", "r");
	size_t flen = strlen(field);
	char line[128];
	long val = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, field, flen) && line[flen] == ':') {
			val = strtol(line + flen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

/*
 * Free huge pages of this size. /proc/meminfo's HugePages_Free counts those
 * of the default size only; the sysfs count of the size is the same number
 * for that size. Both are compared for the default size.
 */
static void free_huge_pages(const struct hsize *hs, long *sysfs, long *mi)
{
	*sysfs = hstate_read(hs, "free_hugepages");
	*mi = -1;
	if ((unsigned long)meminfo_value("Hugepagesize") * 1024 == hs->size)
		*mi = meminfo_value("HugePages_Free");
}

/*
 * Make sure NR_HUGE_PAGES huge pages (at least hs->min_nr) are free for a
 * mapping, raising nr_hugepages if need be. Sets hs->nr, or hs->skip.
 */
static void setup_hsize(struct hsize *hs)
{
	long nr, avail, want;

	hs->nr = 0;
	hs->nr_hugepages = -1;
	nr = hstate_read(hs, "nr_hugepages");
	if (nr < 0) {
		snprintf(hs->skip, sizeof(hs->skip),
			 "no %s huge pages on this system", hs->name);
		return;
	}
	avail = hstate_read(hs, "free_hugepages") -
		hstate_read(hs, "resv_hugepages");
	if (avail < NR_HUGE_PAGES) {
		want = nr + NR_HUGE_PAGES - avail;
		if (!hstate_write(hs, "nr_hugepages", want)) {
			snprintf(hs->skip, sizeof(hs->skip),
				 "%ld %s huge pages available, %d needed, cannot write %ld to nr_hugepages: %s",
				 avail, hs->name, hs->min_nr, want,
				 strerror(errno));
			if (avail < hs->min_nr)
				return;
		} else {
			hs->nr_hugepages = nr;
			avail = hstate_read(hs, "free_hugepages") -
				hstate_read(hs, "resv_hugepages");
			snprintf(hs->skip, sizeof(hs->skip),
				 "%ld %s huge pages available, %d needed, with nr_hugepages at %ld of %ld asked for",
				 avail, hs->name, hs->min_nr,
				 hstate_read(hs, "nr_hugepages"), want);
		}
	}
	if (avail < hs->min_nr)
		return;
	hs->nr = avail < NR_HUGE_PAGES ? avail : NR_HUGE_PAGES;
	if (hs->nr != NR_HUGE_PAGES)
		ksft_print_msg("%s: %d huge pages per mapping\n",
			       hs->name, hs->nr);
}

static void restore_hsize(struct hsize *hs)
{
	if (hs->nr_hugepages >= 0 &&
	    !hstate_write(hs, "nr_hugepages", hs->nr_hugepages))
		ksft_print_msg("%s: cannot restore nr_hugepages to %ld\n",
			       hs->name, hs->nr_hugepages);
	hs->nr_hugepages = -1;
}

/* The VMAs that overlap [lo, hi) or [lo2, hi2), from /proc/self/smaps. */
static int read_vmas(unsigned long lo, unsigned long hi, unsigned long lo2,
		     unsigned long hi2, struct vma *vmas)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	struct vma *cur = NULL;
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end, kb;
		char perms[5];

		if (sscanf(line, "%lx-%lx %4s", &start, &end, perms) == 3 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			cur = NULL;
			if ((start >= hi || end <= lo) &&
			    (start >= hi2 || end <= lo2))
				continue;
			if (n == MAX_VMAS)
				break;
			cur = &vmas[n++];
			memset(cur, 0, sizeof(*cur));
			cur->start = start;
			cur->end = end;
			memcpy(cur->perms, perms, sizeof(cur->perms));
		} else if (!cur) {
			continue;
		} else if (sscanf(line, "KernelPageSize: %lu kB", &kb) == 1) {
			cur->kernel_page_kb = kb;
		} else if (sscanf(line, "Private_Hugetlb: %lu kB", &kb) == 1 ||
			   sscanf(line, "Shared_Hugetlb: %lu kB", &kb) == 1) {
			cur->hugetlb_kb += kb;
		}
	}
	fclose(f);
	return n;
}

/* Are the VMAs the nr [start, end) ranges of want, in this order? */
static bool vmas_match(const struct vma *vmas, int n, const unsigned long *want,
		       int nr, const char *perms)
{
	int i;

	if (n != nr)
		return false;
	for (i = 0; i < n; i++) {
		if (vmas[i].start != want[2 * i] ||
		    vmas[i].end != want[2 * i + 1] ||
		    strcmp(vmas[i].perms, perms))
			return false;
	}
	return true;
}

static void report_vmas(const char *what, const struct vma *vmas, int n)
{
	int i;

	fail_reason("%s: %d VMAs", what, n);
	for (i = 0; i < n; i++)
		fail_reason("  %lx-%lx %s KernelPageSize %lu kB, hugetlb %lu kB",
			    vmas[i].start, vmas[i].end, vmas[i].perms,
			    vmas[i].kernel_page_kb, vmas[i].hugetlb_kb);
}

/* Each VMA is hugetlb of this size, and all its pages are mapped. */
static void check_vma_pages(const struct vma *vmas, int n, unsigned long hsize)
{
	int i;

	for (i = 0; i < n; i++) {
		if (vmas[i].kernel_page_kb != hsize / 1024)
			fail_reason("VMA %lx-%lx: KernelPageSize %lu kB, not %lu kB",
				    vmas[i].start, vmas[i].end,
				    vmas[i].kernel_page_kb, hsize / 1024);
		if (vmas[i].hugetlb_kb != (vmas[i].end - vmas[i].start) / 1024)
			fail_reason("VMA %lx-%lx: %lu kB of hugetlb pages mapped, not %lu kB",
				    vmas[i].start, vmas[i].end, vmas[i].hugetlb_kb,
				    (vmas[i].end - vmas[i].start) / 1024);
	}
}

static inline uint64_t pattern(int page, size_t off)
{
	return 0xa5c3000000000000ULL ^ ((uint64_t)(page + 1) << 40) ^ off;
}

static void fill(char *p, int nr, size_t hsize)
{
	int i;

	for (i = 0; i < nr; i++) {
		uint64_t *w = (uint64_t *)(p + i * hsize);
		size_t j;

		for (j = 0; j < hsize / 8; j++)
			w[j] = pattern(i, j * 8);
	}
}

/* A SIGSEGV or SIGBUS while the data is read is a failure, not a crash. */
static sigjmp_buf fault_jmp;
static void *fault_addr;

static void on_fault(int sig, siginfo_t *info, void *uctx)
{
	fault_addr = info->si_addr;
	siglongjmp(fault_jmp, sig);
}

/* What check_data() found wrong: kept out of its frame, see sigsetjmp(). */
static struct {
	size_t bad, first;
	uint64_t got;
} scan;

static void scan_page(const uint64_t *w, int page, size_t hsize)
{
	size_t j;

	scan.bad = 0;
	for (j = 0; j < hsize / 8; j++) {
		if (w[j] != pattern(page, j * 8) && !scan.bad++) {
			scan.first = j * 8;
			scan.got = w[j];
		}
	}
}

/* Does huge page number page read back as written, at addr? */
static void check_data(const char *addr, int page, size_t hsize)
{
	struct sigaction sa = {
		.sa_sigaction = on_fault,
		.sa_flags = SA_SIGINFO | SA_RESETHAND,
	};

	switch (sigsetjmp(fault_jmp, 1)) {
	case 0:
		break;
	case SIGSEGV:
		fail_reason("huge page %d at %p: SIGSEGV reading %p", page + 1,
			    addr, fault_addr);
		return;
	default:
		fail_reason("huge page %d at %p: SIGBUS reading %p", page + 1,
			    addr, fault_addr);
		return;
	}
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	scan_page((const uint64_t *)addr, page, hsize);
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	if (!scan.bad)
		return;
	fail_reason("huge page %d at %p: %zu of %zu words wrong", page + 1,
		    addr, scan.bad, hsize / 8);
	fail_reason("  first at +%#zx: %#llx, not %#llx", scan.first,
		    (unsigned long long)scan.got,
		    (unsigned long long)pattern(page, scan.first));
}

/* Run the operation, return its result as a long (-1 for MAP_FAILED). */
static long run_op(const struct tcase *tc, char *p, size_t len, char *hp2,
		   char *dst)
{
	char *addr = tc->at_hp2 ? hp2 : hp2 + page_size;
	void *ret;

	switch (tc->op) {
	case OP_MUNMAP:
		return munmap(addr, page_size);
	case OP_MPROTECT:
		return mprotect(addr, page_size, PROT_READ);
	case OP_MADV_DONTNEED:
		return madvise(addr, page_size, MADV_DONTNEED);
	case OP_MREMAP_SHRINK:
		ret = mremap(p, len, len - page_size, 0);
		break;
	case OP_MREMAP_MOVE:
		ret = mremap(addr, page_size, page_size,
			     MREMAP_MAYMOVE | MREMAP_FIXED, dst);
		break;
	case OP_MMAP_FIXED:
		ret = mmap(addr, page_size, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		break;
	default:
		return -1;
	}
	return ret == MAP_FAILED ? -1 : (long)ret;
}

static void run_case(const struct hsize *hs, bool shared,
		     const struct tcase *tc)
{
	int flags = (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS |
		    MAP_HUGETLB | (__builtin_ctzl(hs->size) << MAP_HUGE_SHIFT);
	const char *perms = shared ? "rw-s" : "rw-p";
	size_t hsize = hs->size, len = hs->nr * hsize;
	long free_start, free0, free1, mi0, mi1, ret, expect_ret;
	char *p, *hp2, *resv = NULL, *dst = NULL;
	unsigned long lo, hi, want[2 * 3];
	struct vma vmas[MAX_VMAS];
	int i, n, nwant, err;
	char name[128];

	case_name(name, sizeof(name), hs, shared, tc);
	nr_reasons = 0;
	free_huge_pages(hs, &free_start, &mi0);

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED) {
		ksft_print_msg("mmap of %d %s huge pages: %s\n", hs->nr,
			       hs->name, strerror(errno));
		ksft_test_result_fail("%s\n", name);
		return;
	}
	fill(p, hs->nr, hsize);
	hp2 = p + hsize;
	lo = (unsigned long)p;
	hi = lo + len;

	if (tc->op == OP_MREMAP_MOVE) {
		/* A free huge page aligned place to move to. */
		resv = mmap(NULL, 2 * hsize, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (resv == MAP_FAILED) {
			ksft_print_msg("mmap of a place to move to: %s\n",
				       strerror(errno));
			munmap(p, len);
			ksft_test_result_fail("%s\n", name);
			return;
		}
		dst = (char *)(((unsigned long)resv + hsize - 1) & ~(hsize - 1));
	}

	n = read_vmas(lo, hi, 0, 0, vmas);
	want[0] = lo;
	want[1] = hi;
	if (!vmas_match(vmas, n, want, 1, perms))
		report_vmas("before the operation, not one VMA", vmas, n);
	free_huge_pages(hs, &free0, &mi0);

	errno = 0;
	ret = run_op(tc, p, len, hp2, dst);
	err = errno;

	/* The result, as the kernel has always given it. */
	if (tc->outcome == REFUSED) {
		if (ret != -1)
			fail_reason("returned %#lx, not -1 (EINVAL)", ret);
		else if (err != EINVAL)
			fail_reason("failed with %s, not EINVAL", strerror(err));
	} else {
		expect_ret = 0;
		if (tc->op == OP_MREMAP_SHRINK)
			expect_ret = lo;
		else if (tc->op == OP_MREMAP_MOVE)
			expect_ret = (long)dst;
		if (ret == -1)
			fail_reason("failed with %s, not returned %#lx",
				    strerror(err), expect_ret);
		else if (ret != expect_ret)
			fail_reason("returned %#lx, not %#lx", ret, expect_ret);
	}

	/* No huge page freed or allocated (before the data is read). */
	free_huge_pages(hs, &free1, &mi1);
	if (free1 != free0)
		fail_reason("free %s huge pages: %ld, were %ld", hs->name,
			    free1, free0);
	if (mi1 != mi0)
		fail_reason("HugePages_Free: %ld, was %ld", mi1, mi0);

	/* The VMAs. */
	if (tc->outcome == MOVED) {
		n = read_vmas(lo, hi, (unsigned long)dst,
			      (unsigned long)dst + hsize, vmas);
		nwant = 0;
		if (dst < p) {
			want[nwant++] = (unsigned long)dst;
			want[nwant++] = (unsigned long)dst + hsize;
		}
		want[nwant++] = lo;
		want[nwant++] = lo + hsize;
		if (hs->nr > 2) {
			want[nwant++] = lo + 2 * hsize;
			want[nwant++] = hi;
		}
		if (dst > p) {
			want[nwant++] = (unsigned long)dst;
			want[nwant++] = (unsigned long)dst + hsize;
		}
		if (!vmas_match(vmas, n, want, nwant / 2, perms))
			report_vmas("not hp2 moved whole", vmas, n);
		check_vma_pages(vmas, n, hsize);
	} else {
		n = read_vmas(lo, hi, 0, 0, vmas);
		want[0] = lo;
		want[1] = hi;
		/*
		 * A refused munmap(), mprotect() or mmap(MAP_FIXED) of a range
		 * that starts at hp2 splits the VMA at hp2 before it finds the
		 * end of the range unaligned, and does not undo that split:
		 * two VMAs then map the same pages as before.
		 */
		if (!vmas_match(vmas, n, want, 1, perms)) {
			want[1] = (unsigned long)hp2;
			want[2] = (unsigned long)hp2;
			want[3] = hi;
			if (tc->outcome != REFUSED || !tc->at_hp2 ||
			    !vmas_match(vmas, n, want, 2, perms))
				report_vmas("the VMA changed", vmas, n);
			else
				ksft_print_msg("%s: the VMA is left split at hp2\n",
					       name);
		}
		check_vma_pages(vmas, n, hsize);
	}
	/* The place to move to is still there, if nothing moved. */
	if (dst && tc->outcome != MOVED) {
		n = read_vmas((unsigned long)dst, (unsigned long)dst + hsize,
			      0, 0, vmas);
		if (n != 1 || vmas[0].start > (unsigned long)dst ||
		    vmas[0].end < (unsigned long)dst + hsize ||
		    strcmp(vmas[0].perms, "---p"))
			report_vmas("the place to move to changed", vmas, n);
	}

	/* Every byte of every huge page, from where it should be. */
	for (i = 0; i < hs->nr; i++) {
		if (tc->outcome == MOVED && i == 1)
			check_data(dst, i, hsize);
		else
			check_data(p + i * hsize, i, hsize);
	}

	munmap(p, len);
	if (resv)
		munmap(resv, 2 * hsize);

	/* All huge pages given back. */
	for (i = 0; i < 100; i++) {
		free_huge_pages(hs, &free1, &mi1);
		if (free1 == free_start)
			break;
		usleep(10000);
	}
	if (free1 != free_start)
		fail_reason("after munmap(): %ld free %s huge pages, were %ld",
			    free1, hs->name, free_start);

	for (i = 0; i < nr_reasons; i++)
		ksft_print_msg("%s: %s\n", name, reasons[i]);
	if (nr_reasons)
		ksft_test_result_fail("%s\n", name);
	else
		ksft_test_result_pass("%s\n", name);
}

int main(void)
{
	unsigned int s, t;
	char name[128];
	int shared;

	ksft_print_header();
	ksft_set_plan(NR_HSIZES * 2 * NR_TCASES);
	page_size = sysconf(_SC_PAGESIZE);

	for (s = 0; s < NR_HSIZES; s++) {
		struct hsize *hs = &hsizes[s];

		setup_hsize(hs);
		for (shared = 0; shared < 2; shared++) {
			for (t = 0; t < NR_TCASES; t++) {
				if (hs->nr) {
					run_case(hs, shared, &tcases[t]);
					continue;
				}
				case_name(name, sizeof(name), hs, shared,
					  &tcases[t]);
				ksft_test_result_skip("%s: %s\n", name,
						      hs->skip);
			}
		}
		restore_hsize(hs);
	}
	ksft_finished();
}
