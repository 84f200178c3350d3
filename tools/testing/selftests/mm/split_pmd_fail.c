// SPDX-License-Identifier: GPL-2.0
/*
 * System calls on part of a PMD-mapped THP when the PMD split they need
 * fails: each one must fail visibly, or fall back, and leave the mapping
 * and its data exactly as they were; the same call without a failure must
 * then succeed. Unmapping (munmap(), shrinking mremap(), exit) and
 * discarding (MADV_DONTNEED, MADV_DONTNEED_LOCKED, MADV_GUARD_INSTALL)
 * must not fail at all, nor hang when the PTE table of the split cannot
 * be charged to a memory cgroup at its limit.
 *
 * Failures are injected with the fail_pmd_split fault attribute
 * (CONFIG_FAIL_PMD_SPLIT, Documentation/fault-injection/), limited to this
 * thread with task-filter and /proc/thread-self/make-it-fail. Every test
 * checks that exactly the splits and failed splits it expects happened,
 * counted from what only this test can see (see EXPECT_COUNTS()), and that
 * thp_split_pmd and thp_split_pmd_failed in /proc/vmstat went up by at
 * least as much, so a test cannot pass because the failure was never
 * injected. mprotect_table_alloc_fails fails the allocation of the split's
 * PTE table instead, with fail_page_alloc.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/userfaultfd.h>

#include "../kselftest_harness.h"
#include "../../../../mm/gup_test.h"
#include "vm_util.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

#define FAIL_DIR "/sys/kernel/debug/fail_pmd_split"

/* The page allocator's fault injection, to fail the PTE table of a split. */
#define PAGE_ALLOC_DIR "/sys/kernel/debug/fail_page_alloc"

static const char * const knobs[] = {
	"probability", "interval", "times", "space", "verbose", "task-filter",
};

#define NR_KNOBS ARRAY_SIZE(knobs)

static const char * const page_alloc_knobs[] = {
	"probability", "interval", "times", "space", "verbose", "task-filter",
	"ignore-gfp-wait", "ignore-gfp-highmem", "min-order",
};

#define NR_PAGE_ALLOC_KNOBS ARRAY_SIZE(page_alloc_knobs)

static int put_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	ssize_t len = strlen(val), ret;

	if (fd < 0)
		return -1;
	ret = write(fd, val, len);
	close(fd);
	return ret == len ? 0 : -1;
}

static int get_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t ret;

	if (fd < 0)
		return -1;
	ret = read(fd, buf, size - 1);
	close(fd);
	if (ret < 0)
		return -1;
	buf[ret] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int set_knob(const char *knob, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), FAIL_DIR "/%s", knob);
	return put_file(path, val);
}

static long read_vmstat(const char *name)
{
	size_t len = strlen(name);
	char line[256];
	long val = -1;
	FILE *f;

	f = fopen("/proc/vmstat", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, name, len) && line[len] == ' ') {
			val = atol(line + len + 1);
			break;
		}
	}
	fclose(f);
	return val;
}

struct split_counts {
	long split;
	long failed;
};

static void read_counts(struct split_counts *c)
{
	c->split = read_vmstat("thp_split_pmd");
	c->failed = read_vmstat("thp_split_pmd_failed");
}

/*
 * The failures of fail_pmd_split that this test used: every one that
 * should_fail() granted failed a split, and was counted in
 * thp_split_pmd_failed. Only threads with make-it-fail set can use them
 * (task-filter), and only this test sets it, so what "times" lost since
 * inject() armed it is exactly what this test caused.
 */
static int fail_armed;		/* "times" as this test last knew it */
static long fail_used;		/* failures used before that */

static long fail_pmd_split_used(void)
{
	char times[32];
	int left;

	if (fail_armed && !get_file(FAIL_DIR "/times", times, sizeof(times))) {
		left = atoi(times);
		fail_used += fail_armed - left;
		fail_armed = left;
	}
	return fail_used;
}

/*
 * Make the next @times PMD splits of this thread fail. @times must not be
 * -1 (no limit): what was used could not be told then.
 */
static int inject(int times)
{
	char val[16];

	fail_pmd_split_used();
	snprintf(val, sizeof(val), "%d", times);
	if (set_knob("times", val))
		return -1;
	fail_armed = times;
	return put_file("/proc/thread-self/make-it-fail", "1");
}

static void stop_injecting(void)
{
	put_file("/proc/thread-self/make-it-fail", "0");
	fail_pmd_split_used();
	set_knob("times", "0");
	fail_armed = 0;
}

/* PTE table allocations of splits that this test failed with fail_page_alloc. */
static int table_allocs_failed;

/* The lines of /proc/self/maps that overlap [start, end). */
static void maps_of(char *start, char *end, char *buf, size_t size)
{
	unsigned long vm_start, vm_end;
	char line[512];
	size_t used = 0;
	FILE *f;

	buf[0] = '\0';
	f = fopen("/proc/self/maps", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx", &vm_start, &vm_end) != 2)
			continue;
		if (vm_end <= (unsigned long)start || vm_start >= (unsigned long)end)
			continue;
		used += snprintf(buf + used, size - used, "%s", line);
		if (used >= size)
			break;
	}
	fclose(f);
}

static uint64_t pattern(size_t i)
{
	return (i + 1) * 0x9e3779b97f4a7c15ULL;
}

static void fill(char *mem, size_t len)
{
	uint64_t *word = (uint64_t *)mem;
	size_t i;

	for (i = 0; i < len / sizeof(*word); i++)
		word[i] = pattern(i);
}

/*
 * Count the pages of [mem, mem + len) that do not hold the pattern that
 * fill() wrote from @base on, or zeroes if @zero_ok.
 */
static size_t bad_pages(char *base, char *mem, size_t len, bool zero_ok)
{
	size_t psize = getpagesize(), i, j, bad = 0;
	uint64_t *word = (uint64_t *)base;
	size_t per_page = psize / sizeof(*word);
	size_t first = (mem - base) / psize;

	for (i = first; i < first + len / psize; i++) {
		bool same = true, zero = true;

		for (j = i * per_page; j < (i + 1) * per_page; j++) {
			if (word[j] != pattern(j))
				same = false;
			if (word[j])
				zero = false;
		}
		if (!same && !(zero_ok && zero))
			bad++;
	}
	return bad;
}

/* Does [mem, mem + len) read as zeroes? */
static bool is_zero(char *mem, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (mem[i])
			return false;
	return true;
}

/*
 * The AnonHugePages of the VMAs of process @pid that overlap
 * [start, start + len): how much of it the process maps with huge PMDs,
 * in kB, if no other THP shares those VMAs. -1 if it cannot be read.
 */
static long anon_huge_kb(pid_t pid, char *start, size_t len)
{
	unsigned long vm_start, vm_end;
	char path[64], line[512];
	long kb, total = 0;
	bool in = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &vm_start, &vm_end) == 2)
			in = vm_end > (unsigned long)start &&
			     vm_start < (unsigned long)start + len;
		else if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			total += kb;
	}
	fclose(f);
	return total;
}

#define NR_SHARERS 20	/* more than the tables one rmap walk allocates for */
#define NR_WATCHED (NR_SHARERS + 4)

FIXTURE(split_fail) {
	size_t pmdsize;
	size_t psize;
	char *thp;		/* One PMD-mapped THP, a VMA of its own. */
	char *other;		/* A page mapped elsewhere, or NULL. */
	char *area;		/* More THPs a test mapped (map_thps()), or NULL. */
	size_t area_len;
	/* Huge PMD mappings of THPs that pmds_split() looks at. */
	struct {
		pid_t pid;
		char *addr;
	} watched[NR_WATCHED];
	int nr_watched;
	char saved[NR_KNOBS][64];
	bool saved_ok;
	char page_alloc_saved[NR_PAGE_ALLOC_KNOBS][64];
	bool page_alloc_saved_ok;
	char maps[1024];	/* The THP's maps lines before the test. */
	struct split_counts before;
};

/* Does process @pid map the THP at @addr with a huge PMD? */
static bool thp_pmd_mapped(struct _test_data_split_fail *self, pid_t pid,
			   char *addr)
{
	return anon_huge_kb(pid, addr, self->pmdsize) >= (long)(self->pmdsize >> 10);
}

/*
 * Have pmds_split() look at the huge PMD that maps the THP at @addr in
 * process @pid from now on. The THP must be mapped so now, and be the only
 * THP in its VMA (which may end inside it once the PMD is split).
 */
static bool watch_thp(struct _test_data_split_fail *self, pid_t pid, char *addr)
{
	if (self->nr_watched == NR_WATCHED || !thp_pmd_mapped(self, pid, addr))
		return false;
	self->watched[self->nr_watched].pid = pid;
	self->watched[self->nr_watched].addr = addr;
	self->nr_watched++;
	return true;
}

/*
 * The PMD splits this test caused: the huge PMD mappings it watches that
 * are gone. No test zaps or unmaps a whole THP, so each one that went
 * was split.
 */
static int pmds_split(struct _test_data_split_fail *self)
{
	int i, n = 0;

	for (i = 0; i < self->nr_watched; i++)
		if (!thp_pmd_mapped(self, self->watched[i].pid,
				    self->watched[i].addr))
			n++;
	return n;
}

/*
 * The failed PMD splits this test caused: the failures of fail_pmd_split
 * it used, each of which failed a split, and the PTE table allocations it
 * failed with fail_page_alloc, each of which failed the split that needed
 * the table.
 */
static long failed_splits(struct _test_data_split_fail *self)
{
	return fail_pmd_split_used() + table_allocs_failed;
}

FIXTURE_SETUP(split_fail)
{
	char path[256];
	size_t i;
	char *raw;

	self->thp = NULL;
	self->other = NULL;
	self->area = NULL;
	self->nr_watched = 0;
	fail_armed = 0;
	fail_used = 0;
	table_allocs_failed = 0;
	self->saved_ok = false;
	self->page_alloc_saved_ok = false;
	if (geteuid())
		SKIP(return, "needs root");
	if (access(FAIL_DIR "/times", W_OK)) {
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
		if (access(FAIL_DIR "/times", W_OK))
			SKIP(return, "no " FAIL_DIR ": kernel without CONFIG_FAIL_PMD_SPLIT?");
	}
	if (read_vmstat("thp_split_pmd_failed") < 0)
		SKIP(return, "no thp_split_pmd_failed in /proc/vmstat");
	self->pmdsize = read_pmd_pagesize();
	if (!self->pmdsize)
		SKIP(return, "no THP support");
	self->psize = getpagesize();

	for (i = 0; i < NR_KNOBS; i++) {
		snprintf(path, sizeof(path), FAIL_DIR "/%s", knobs[i]);
		ASSERT_EQ(get_file(path, self->saved[i], sizeof(self->saved[i])), 0);
	}
	self->saved_ok = true;
	ASSERT_EQ(set_knob("times", "0"), 0);
	ASSERT_EQ(set_knob("probability", "100"), 0);
	ASSERT_EQ(set_knob("interval", "1"), 0);
	ASSERT_EQ(set_knob("space", "0"), 0);
	ASSERT_EQ(set_knob("verbose", "1"), 0);
	ASSERT_EQ(set_knob("task-filter", "Y"), 0);

	/* An aligned THP in a VMA of its own. */
	raw = mmap(NULL, 2 * self->pmdsize, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(raw, MAP_FAILED);
	self->thp = (char *)(((uintptr_t)raw + self->pmdsize - 1) &
			     ~(self->pmdsize - 1));
	if (self->thp > raw)
		munmap(raw, self->thp - raw);
	munmap(self->thp + self->pmdsize, raw + self->pmdsize - self->thp);
	madvise(self->thp, self->pmdsize, MADV_HUGEPAGE);
	fill(self->thp, self->pmdsize);
	if (!check_huge_anon(self->thp, self->pmdsize, 1, self->pmdsize))
		SKIP(return, "no THP: THPs disabled, or none could be allocated");
	ASSERT_TRUE(watch_thp(self, getpid(), self->thp));

	maps_of(self->thp, self->thp + self->pmdsize, self->maps, sizeof(self->maps));
	read_counts(&self->before);
}

FIXTURE_TEARDOWN(split_fail)
{
	char path[256];
	size_t i;

	put_file("/proc/thread-self/make-it-fail", "0");
	if (self->saved_ok) {
		for (i = 0; i < NR_KNOBS; i++) {
			snprintf(path, sizeof(path), FAIL_DIR "/%s", knobs[i]);
			put_file(path, self->saved[i]);
		}
	}
	if (self->page_alloc_saved_ok) {
		for (i = 0; i < NR_PAGE_ALLOC_KNOBS; i++) {
			snprintf(path, sizeof(path), PAGE_ALLOC_DIR "/%s",
				 page_alloc_knobs[i]);
			put_file(path, self->page_alloc_saved[i]);
		}
	}
	if (self->thp)
		munmap(self->thp, self->pmdsize);
	if (self->other)
		munmap(self->other, self->psize);
	if (self->area)
		munmap(self->area, self->area_len);
}

/* The THP is mapped, and holds its data, exactly as before the test. */
#define EXPECT_THP_UNCHANGED() do {						\
	char maps_now[1024];							\
										\
	maps_of(self->thp, self->thp + self->pmdsize, maps_now, sizeof(maps_now)); \
	EXPECT_STREQ(maps_now, self->maps);					\
	EXPECT_TRUE(check_huge_anon(self->thp, self->pmdsize, 1, self->pmdsize)); \
	EXPECT_EQ(bad_pages(self->thp, self->thp, self->pmdsize, false), 0);		\
} while (0)

/*
 * This test split @split_delta huge PMDs and failed @failed_delta splits,
 * and thp_split_pmd and thp_split_pmd_failed show it.
 *
 * Those counters are global: khugepaged, kswapd, compaction or another
 * process that splits a THP meanwhile moves them too, and only by adding.
 * So count what this test caused from what only it can see: the huge PMD
 * mappings it watches that are gone (pmds_split(), from smaps: a split
 * that the counter missed still shows there), and the failures it injected
 * that were used (failed_splits()). Then check that each counter moved by
 * at least that much: a split or failure that was not counted shows as
 * long as nobody else's hides it, and nobody else's can fail the test.
 * split_shared_folio*() watch the mappings of their sharers too: their
 * NR_SHARERS + 1 splits are one per process.
 */
#define EXPECT_COUNTS(split_delta, failed_delta) do {				\
	long want_split = (split_delta), want_failed = (failed_delta);		\
	struct split_counts now;						\
										\
	EXPECT_EQ(pmds_split(self), want_split);				\
	EXPECT_EQ(failed_splits(self), want_failed);				\
	read_counts(&now);							\
	EXPECT_GE(now.split - self->before.split, want_split);			\
	EXPECT_GE(now.failed - self->before.failed, want_failed);		\
} while (0)

/*
 * Make the next page allocation of this thread fail, whatever its order
 * and flags: the first one in a split is that of its PTE table. Returns
 * false if the kernel has no fail_page_alloc.
 */
static bool fail_next_page_alloc(struct _test_data_split_fail *self)
{
	static const char * const vals[NR_PAGE_ALLOC_KNOBS] = {
		"100", "1", "1", "0", "1", "Y", "N", "N", "0",
	};
	char path[256];
	size_t i;

	/* Save the settings once: teardown puts them back. */
	for (i = 0; i < NR_PAGE_ALLOC_KNOBS && !self->page_alloc_saved_ok; i++) {
		snprintf(path, sizeof(path), PAGE_ALLOC_DIR "/%s",
			 page_alloc_knobs[i]);
		if (get_file(path, self->page_alloc_saved[i],
			     sizeof(self->page_alloc_saved[i])))
			return false;
	}
	self->page_alloc_saved_ok = true;
	for (i = 0; i < NR_PAGE_ALLOC_KNOBS; i++) {
		snprintf(path, sizeof(path), PAGE_ALLOC_DIR "/%s",
			 page_alloc_knobs[i]);
		if (put_file(path, vals[i]))
			return false;
	}
	return !put_file("/proc/thread-self/make-it-fail", "1");
}

/*
 * Make the @nth fault injection point that this thread reaches fail, each
 * of its page allocations being one (see fail_next_page_alloc()). Returns
 * false if the kernel has no fail_page_alloc.
 */
static bool fail_nth_page_alloc(struct _test_data_split_fail *self, int nth)
{
	char val[16];

	if (!fail_next_page_alloc(self) ||
	    put_file("/proc/thread-self/make-it-fail", "0"))
		return false;
	snprintf(val, sizeof(val), "%d", nth);
	return !put_file("/proc/thread-self/fail-nth", val);
}

/* Stop failing page allocations; tell whether the failure happened. */
static bool page_alloc_failed(void)
{
	char times[32] = "";

	put_file("/proc/thread-self/make-it-fail", "0");
	put_file("/proc/thread-self/fail-nth", "0");
	get_file(PAGE_ALLOC_DIR "/times", times, sizeof(times));
	put_file(PAGE_ALLOC_DIR "/times", "0");
	if (strcmp(times, "0"))
		return false;
	table_allocs_failed++;
	return true;
}

/* Without a failure, nothing is counted as failed. */
TEST_F(split_fail, mprotect_no_failure)
{
	char *page = self->thp + self->psize;

	ASSERT_EQ(mprotect(page, self->psize, PROT_READ), 0);
	EXPECT_COUNTS(1, 0);
	EXPECT_EQ(bad_pages(self->thp, self->thp, self->pmdsize, false), 0);
}

TEST_F(split_fail, mprotect)
{
	char *page = self->thp + self->psize;
	int ret, err;

	ASSERT_EQ(inject(1), 0);
	ret = mprotect(page, self->psize, PROT_READ);
	err = errno;
	stop_injecting();
	EXPECT_EQ(ret, -1);
	EXPECT_EQ(err, ENOMEM);
	EXPECT_COUNTS(0, 1);
	EXPECT_THP_UNCHANGED();
	/* Still writable: the protection did not change. */
	page[0]++;
	page[0]--;

	EXPECT_EQ(mprotect(page, self->psize, PROT_READ), 0);
	EXPECT_COUNTS(1, 1);
	EXPECT_EQ(bad_pages(self->thp, self->thp, self->pmdsize, false), 0);
}

/*
 * munmap() of part of a THP cannot fail: its split is no fault injection
 * point, and the failure stays armed for the next split that may fail.
 */
TEST_F(split_fail, munmap)
{
	char *page = self->thp + self->psize;
	char times[32];

	ASSERT_EQ(inject(1), 0);
	EXPECT_EQ(munmap(page, self->psize), 0);
	ASSERT_EQ(get_file(FAIL_DIR "/times", times, sizeof(times)), 0);
	stop_injecting();
	EXPECT_STREQ(times, "1");
	EXPECT_COUNTS(1, 0);
	EXPECT_EQ(bad_pages(self->thp, self->thp, self->psize, false), 0);
	EXPECT_EQ(bad_pages(self->thp, page + self->psize,
			    self->pmdsize - 2 * self->psize, false), 0);
}

/*
 * mmap(MAP_FIXED) over a page of a THP unmaps that page first: that cannot
 * fail either.
 */
TEST_F(split_fail, mmap_fixed)
{
	char *page = self->thp + self->pmdsize / 2;
	char times[32];
	size_t i;

	ASSERT_EQ(inject(1), 0);
	EXPECT_EQ(mmap(page, self->psize, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), page);
	ASSERT_EQ(get_file(FAIL_DIR "/times", times, sizeof(times)), 0);
	stop_injecting();
	EXPECT_STREQ(times, "1");
	EXPECT_COUNTS(1, 0);
	for (i = 0; i < self->psize; i++)
		if (page[i])
			break;
	EXPECT_EQ(i, self->psize);
	EXPECT_EQ(bad_pages(self->thp, self->thp, self->pmdsize / 2, false), 0);
	EXPECT_EQ(bad_pages(self->thp, page + self->psize,
			    self->pmdsize / 2 - self->psize, false), 0);
}

/*
 * Map a new THP where the test's THP was, after a test split it: same
 * address, VMA and data. Returns 1 if it is PMD-mapped, 0 if no THP could
 * be had, -1 if the memory could not be mapped again.
 */
static int remake_thp(struct _test_data_split_fail *self)
{
	if (munmap(self->thp, self->pmdsize) ||
	    mmap(self->thp, self->pmdsize, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != self->thp)
		return -1;
	madvise(self->thp, self->pmdsize, MADV_HUGEPAGE);
	fill(self->thp, self->pmdsize);
	return check_huge_anon(self->thp, self->pmdsize, 1, self->pmdsize);
}

/* Attempts of mprotect_table_alloc_fails to fail the split's table. */
#define TABLE_FAIL_TRIES	8

/*
 * When the PTE table of the split cannot be allocated, mprotect() fails
 * with ENOMEM and changes nothing.
 *
 * The next page allocation of the thread is not always the table's: one
 * that may fail silently can come first and take the failure, such as a
 * slab refill's first, higher-order try, or on a debug kernel KASAN's
 * stack depot, in mprotect() or in the test's own writes to procfs around
 * it. mprotect() then succeeds and splits the PMD: map a new THP and try
 * again.
 */
TEST_F(split_fail, mprotect_table_alloc_fails)
{
	char *page = self->thp + self->psize;
	int ret, err, try, remade;
	bool failed;

	if (access(PAGE_ALLOC_DIR "/times", W_OK))
		SKIP(return, "no " PAGE_ALLOC_DIR ": kernel without CONFIG_FAIL_PAGE_ALLOC?");
	for (try = 1; ; try++) {
		ASSERT_TRUE(fail_next_page_alloc(self));
		ret = mprotect(page, self->psize, PROT_READ);
		err = errno;
		failed = page_alloc_failed();
		if (!failed && !ret)
			SKIP(return, "the split allocated no PTE table (deposited table)");
		if (ret || try == TABLE_FAIL_TRIES)
			break;
		/* Another allocation took the failure: not the split. */
		table_allocs_failed--;
		TH_LOG("try %d: the failure went to another allocation", try);
		remade = remake_thp(self);
		ASSERT_NE(remade, -1);
		if (!remade)
			SKIP(return, "no THP to try again with");
	}
	ASSERT_TRUE(failed);
	ASSERT_EQ(ret, -1) {
		TH_LOG("the split's table never got the failure in %d tries", try);
	}
	EXPECT_EQ(err, ENOMEM);
	EXPECT_COUNTS(0, 1);
	EXPECT_THP_UNCHANGED();
}

TEST_F(split_fail, mremap_move_part)
{
	char *page = self->thp + 2 * self->psize;
	char *dst, *ret;
	int err;

	dst = mmap(NULL, self->psize, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(dst, MAP_FAILED);
	self->other = dst;

	ASSERT_EQ(inject(1), 0);
	ret = mremap(page, self->psize, self->psize, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	err = errno;
	stop_injecting();
	EXPECT_EQ(ret, MAP_FAILED);
	EXPECT_EQ(err, ENOMEM);
	EXPECT_COUNTS(0, 1);
	EXPECT_THP_UNCHANGED();

	ret = mremap(page, self->psize, self->psize, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	ASSERT_EQ(ret, dst);
	EXPECT_COUNTS(1, 1);
	EXPECT_EQ(((uint64_t *)dst)[0], pattern(2 * self->psize / sizeof(uint64_t)));
}

/* Shrinking a mapping with mremap() unmaps its tail: that cannot fail. */
TEST_F(split_fail, mremap_shrink)
{
	ASSERT_EQ(inject(1), 0);
	EXPECT_EQ(mremap(self->thp, self->pmdsize, self->pmdsize / 2, 0), self->thp);
	stop_injecting();
	EXPECT_COUNTS(1, 0);
	EXPECT_EQ(bad_pages(self->thp, self->thp, self->pmdsize / 2, false), 0);
}

/*
 * MADV_DONTNEED, MADV_DONTNEED_LOCKED and MADV_GUARD_INSTALL discard what
 * they are given, and the zap splits a huge PMD straddling the range in a
 * way that cannot fail: it is no fault injection point, and it waits for
 * its PTE table. With a failure armed, the call succeeds, splits the PMD,
 * and leaves the failure armed for the next split that may fail.
 */
static void madvise_cannot_fail(struct __test_metadata *_metadata,
				struct _test_data_split_fail *self, int advice)
{
	char *page = self->thp + self->psize;
	char times[32];
	int ret, err;

	ASSERT_EQ(inject(1), 0);
	ret = madvise(page, self->psize, advice);
	err = errno;
	ASSERT_EQ(get_file(FAIL_DIR "/times", times, sizeof(times)), 0);
	stop_injecting();
	if (ret && err == EINVAL)
		SKIP(return, "advice %d not supported", advice);
	EXPECT_EQ(ret, 0) {
		TH_LOG("madvise(%d) failed: %s", advice, strerror(err));
	}
	EXPECT_STREQ(times, "1");
	EXPECT_COUNTS(1, 0);
	/* Only the page asked for was discarded. */
	EXPECT_EQ(bad_pages(self->thp, self->thp, self->psize, false), 0);
	EXPECT_EQ(bad_pages(self->thp, page + self->psize,
			    self->pmdsize - 2 * self->psize, false), 0);
}

TEST_F(split_fail, madv_dontneed)
{
	madvise_cannot_fail(_metadata, self, MADV_DONTNEED);
	if (_metadata->exit_code != KSFT_SKIP)
		EXPECT_TRUE(is_zero(self->thp + self->psize, self->psize));
}

TEST_F(split_fail, madv_dontneed_locked)
{
	madvise_cannot_fail(_metadata, self, MADV_DONTNEED_LOCKED);
	if (_metadata->exit_code != KSFT_SKIP)
		EXPECT_TRUE(is_zero(self->thp + self->psize, self->psize));
}

static sigjmp_buf fault_jmp;

static void fault_handler(int sig)
{
	siglongjmp(fault_jmp, 1);
}

/* Does reading @addr raise SIGSEGV? */
static bool read_faults(char *addr)
{
	struct sigaction sa = { .sa_handler = fault_handler }, old;
	bool faulted = false;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, &old))
		return false;
	if (sigsetjmp(fault_jmp, 1))
		faulted = true;
	else
		FORCE_READ(*addr);
	sigaction(SIGSEGV, &old, NULL);
	return faulted;
}

TEST_F(split_fail, madv_guard_install)
{
	madvise_cannot_fail(_metadata, self, MADV_GUARD_INSTALL);
	/* A guard page faults on any access; its neighbours do not. */
	if (_metadata->exit_code != KSFT_SKIP) {
		EXPECT_TRUE(read_faults(self->thp + self->psize));
		EXPECT_FALSE(read_faults(self->thp));
		EXPECT_FALSE(read_faults(self->thp + 2 * self->psize));
	}
}

/*
 * Map @n THPs next to each other and watch their huge PMDs. Each THP is a
 * VMA of its own, so that smaps tells whether it is still PMD-mapped:
 * every other one is VM_DONTCOPY, and neighbours do not merge. An unmapped
 * page on either side keeps them from merging with other mappings. The
 * teardown unmaps them. Returns NULL if no THP could be had.
 */
static char *map_thps(struct _test_data_split_fail *self, int n)
{
	size_t len = n * self->pmdsize;
	char *raw, *area;
	int i;

	raw = mmap(NULL, len + 2 * self->pmdsize, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	area = (char *)(((uintptr_t)raw + self->pmdsize) & ~(self->pmdsize - 1));
	munmap(raw, area - raw);
	munmap(area + len, raw + len + 2 * self->pmdsize - (area + len));
	self->area = area;
	self->area_len = len;
	madvise(area, len, MADV_HUGEPAGE);
	fill(area, len);
	for (i = 1; i < n; i += 2)
		if (madvise(area + i * self->pmdsize, self->pmdsize, MADV_DONTFORK))
			return NULL;
	for (i = 0; i < n; i++)
		if (!watch_thp(self, getpid(), area + i * self->pmdsize))
			return NULL;
	/* Nothing of that split a PMD, but start counting from here. */
	read_counts(&self->before);
	return area;
}

/* Collects the events of a userfaultfd while another thread causes them. */
struct uffd_reader {
	pthread_t thread;
	int uffd;
	int stop[2];		/* a pipe: closing stop[1] ends the reader */
	struct uffd_msg msgs[8];
	int nr_msgs;		/* may exceed ARRAY_SIZE(msgs) */
	int err;
};

static void *read_uffd(void *arg)
{
	struct uffd_reader *r = arg;
	struct pollfd fds[2] = {
		{ .fd = r->uffd, .events = POLLIN },
		{ .fd = r->stop[0], .events = POLLIN },
	};
	struct uffd_msg msg;
	ssize_t n;

	for (;;) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			r->err = errno;
			break;
		}
		/* Read what is there before looking at stop. */
		n = read(r->uffd, &msg, sizeof(msg));
		if (n == sizeof(msg)) {
			if (r->nr_msgs < (int)ARRAY_SIZE(r->msgs))
				r->msgs[r->nr_msgs] = msg;
			r->nr_msgs++;
			continue;
		}
		if (n >= 0 || errno != EAGAIN) {
			r->err = n < 0 ? errno : EIO;
			break;
		}
		if (fds[1].revents)
			break;
	}
	return NULL;
}

/*
 * madvise() waits in userfaultfd_remove() until its UFFD_EVENT_REMOVE has
 * been read: read them from another thread. It is started before inject()
 * so that it does not inherit make-it-fail.
 */
static int start_uffd_reader(struct uffd_reader *r, int uffd)
{
	memset(r, 0, sizeof(*r));
	r->uffd = uffd;
	if (pipe(r->stop))
		return -1;
	return pthread_create(&r->thread, NULL, read_uffd, r) ? -1 : 0;
}

static void stop_uffd_reader(struct uffd_reader *r)
{
	close(r->stop[1]);
	pthread_join(r->thread, NULL);
	close(r->stop[0]);
}

/*
 * MADV_DONTNEED of a range that spans two VMAs, from inside the last THP
 * of the first to inside the first THP of the second: it zaps the range
 * VMA by VMA, splitting a huge PMD in each, and neither split can fail.
 * With @uffd, the range is registered with a userfaultfd that wants
 * UFFD_EVENT_REMOVE: it gets one per VMA, for that VMA's part of the
 * range, as it always did.
 */
static void dontneed_two_vmas(struct __test_metadata *_metadata,
			      struct _test_data_split_fail *self, bool uffd)
{
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = UFFD_FEATURE_EVENT_REMOVE,
	};
	struct uffd_reader reader;
	char *area, *start, *mid, *end;
	int fd = -1, ret, err;

	if (uffd) {
		fd = syscall(__NR_userfaultfd,
			     O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
		if (fd < 0)
			SKIP(return, "no userfaultfd: %s", strerror(errno));
		if (ioctl(fd, UFFDIO_API, &api) ||
		    !(api.features & UFFD_FEATURE_EVENT_REMOVE)) {
			close(fd);
			SKIP(return, "no UFFD_FEATURE_EVENT_REMOVE");
		}
	}
	area = map_thps(self, 2);
	if (!area)
		SKIP(return, "no two adjacent THPs");
	mid = area + self->pmdsize;
	start = mid - 2 * self->psize;
	end = mid + 2 * self->psize;
	if (uffd) {
		ASSERT_EQ(uffd_register(fd, area, 2 * self->pmdsize,
					true, false, false), 0);
		ASSERT_EQ(start_uffd_reader(&reader, fd), 0);
	}

	ASSERT_EQ(inject(1), 0);
	ret = madvise(start, end - start, MADV_DONTNEED);
	err = errno;
	stop_injecting();
	if (uffd) {
		stop_uffd_reader(&reader);
		/* Missing pages would now wait for us: unregister. */
		EXPECT_EQ(uffd_unregister(fd, area, 2 * self->pmdsize), 0);
		close(fd);
	}
	EXPECT_EQ(ret, 0) {
		TH_LOG("madvise(MADV_DONTNEED) failed: %s", strerror(err));
	}
	EXPECT_COUNTS(2, 0);
	if (uffd) {
		struct uffd_msg want[2] = {
			{ .event = UFFD_EVENT_REMOVE,
			  .arg.remove = { (uintptr_t)start, (uintptr_t)mid } },
			{ .event = UFFD_EVENT_REMOVE,
			  .arg.remove = { (uintptr_t)mid, (uintptr_t)end } },
		};
		int i;

		EXPECT_EQ(reader.err, 0);
		EXPECT_EQ(reader.nr_msgs, 2);
		for (i = 0; i < reader.nr_msgs && i < (int)ARRAY_SIZE(reader.msgs); i++) {
			struct uffd_msg *m = &reader.msgs[i];

			if (reader.nr_msgs != 2)
				TH_LOG("event %d: %u [%#llx, %#llx)", i, m->event,
				       m->arg.remove.start, m->arg.remove.end);
			if (i >= 2)
				continue;
			EXPECT_EQ(m->event, want[i].event);
			EXPECT_EQ(m->arg.remove.start, want[i].arg.remove.start);
			EXPECT_EQ(m->arg.remove.end, want[i].arg.remove.end);
		}
	}
	EXPECT_TRUE(is_zero(start, end - start));
	EXPECT_EQ(bad_pages(area, area, start - area, false), 0);
	EXPECT_EQ(bad_pages(area, end, area + 2 * self->pmdsize - end, false), 0);
	EXPECT_THP_UNCHANGED();
}

TEST_F(split_fail, madv_dontneed_two_vmas)
{
	dontneed_two_vmas(_metadata, self, false);
}

TEST_F(split_fail, madv_dontneed_two_vmas_uffd)
{
	dontneed_two_vmas(_metadata, self, true);
}

/*
 * MADV_FREE is a hint: the kernel may free the pages or keep them. A
 * failed split may only mean that they are kept.
 */
TEST_F(split_fail, madv_free)
{
	char *page = self->thp + self->psize;
	int ret;

	ASSERT_EQ(inject(1), 0);
	ret = madvise(page, self->psize, MADV_FREE);
	stop_injecting();
	EXPECT_EQ(ret, 0);
	EXPECT_EQ(bad_pages(self->thp, self->thp, self->pmdsize, true), 0);
	EXPECT_EQ(bad_pages(self->thp, self->thp, self->psize, false), 0);
	EXPECT_EQ(bad_pages(self->thp, page + self->psize,
			    self->pmdsize - 2 * self->psize, false), 0);
}

TEST_F(split_fail, mlock)
{
	char *page = self->thp + self->psize;
	int ret, err;

	ASSERT_EQ(inject(1), 0);
	ret = mlock(page, self->psize);
	err = errno;
	stop_injecting();
	EXPECT_EQ(ret, -1);
	EXPECT_EQ(err, ENOMEM);
	EXPECT_COUNTS(0, 1);
	EXPECT_THP_UNCHANGED();

	EXPECT_EQ(mlock(page, self->psize), 0);
	EXPECT_COUNTS(1, 1);
	EXPECT_EQ(munlock(page, self->psize), 0);
	EXPECT_EQ(bad_pages(self->thp, self->thp, self->pmdsize, false), 0);
}

/*
 * fork() cannot share a THP that may be pinned for DMA: it splits the PMD
 * and copies the pages one by one. If the split fails, fork() fails with
 * ENOMEM, as for any allocation failure while copying the page tables.
 */
TEST_F(split_fail, fork_pinned)
{
	struct pin_longterm_test args = {
		.addr = (uintptr_t)self->thp,
		.size = self->pmdsize,
		.flags = PIN_LONGTERM_TEST_FLAG_USE_WRITE,
	};
	int gup_fd, status, err;
	pid_t pid;

	gup_fd = open("/sys/kernel/debug/gup_test", O_RDWR);
	if (gup_fd < 0)
		SKIP(return, "no /sys/kernel/debug/gup_test (CONFIG_GUP_TEST)");
	if (ioctl(gup_fd, PIN_LONGTERM_TEST_START, &args)) {
		close(gup_fd);
		SKIP(return, "cannot pin the THP with gup_test");
	}

	ASSERT_EQ(inject(1), 0);
	pid = fork();
	if (pid == 0)
		_exit(bad_pages(self->thp, self->thp, self->pmdsize, false) ? 1 : 0);
	err = errno;
	stop_injecting();
	EXPECT_EQ(pid, -1);
	EXPECT_EQ(err, ENOMEM);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	EXPECT_COUNTS(0, 1);
	EXPECT_THP_UNCHANGED();

	/* Without a failure, the child gets its own copy of the data. */
	pid = fork();
	if (pid == 0)
		_exit(bad_pages(self->thp, self->thp, self->pmdsize, false) ? 1 : 0);
	ASSERT_GT(pid, 0);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_COUNTS(1, 1);

	ioctl(gup_fd, PIN_LONGTERM_TEST_STOP);
	close(gup_fd);
	EXPECT_EQ(bad_pages(self->thp, self->thp, self->pmdsize, false), 0);
}

/*
 * A write to a THP shared with a child splits the PMD and copies the one
 * page written to. If the split fails, the fault returns VM_FAULT_OOM;
 * the task is not an OOM victim, so the fault is retried, and the next
 * split succeeds. The write happens, and the child keeps the old data.
 */
TEST_F(split_fail, cow_fault)
{
	char *page = self->thp + self->psize;
	int pipefd[2], status;
	char c = 0;
	pid_t pid;

	ASSERT_EQ(pipe(pipefd), 0);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		close(pipefd[1]);
		/* Wait until the parent has written, then check our copy. */
		if (read(pipefd[0], &c, 1) != 1)
			_exit(2);
		_exit(bad_pages(self->thp, self->thp, self->pmdsize, false) ? 1 : 0);
	}
	close(pipefd[0]);
	read_counts(&self->before);

	ASSERT_EQ(inject(1), 0);
	((uint64_t *)page)[0] = 42;
	stop_injecting();

	EXPECT_EQ(write(pipefd[1], &c, 1), 1);
	close(pipefd[1]);
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_COUNTS(1, 1);
	EXPECT_EQ(((uint64_t *)page)[0], 42);
	EXPECT_EQ(bad_pages(self->thp, self->thp, self->psize, false), 0);
	EXPECT_EQ(bad_pages(self->thp, page + self->psize,
			    self->pmdsize - 2 * self->psize, false), 0);
}

/* Moving one page out of a THP needs a split; a failure moves nothing. */
TEST_F(split_fail, uffd_move)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_MOVE };
	struct uffdio_register reg = { 0 };
	struct uffdio_move move = { 0 };
	char *page = self->thp + self->psize;
	int uffd, ret, err;
	char *dst;

	uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (uffd < 0)
		SKIP(return, "no userfaultfd: %s", strerror(errno));
	if (ioctl(uffd, UFFDIO_API, &api) || !(api.features & UFFD_FEATURE_MOVE)) {
		close(uffd);
		SKIP(return, "no UFFDIO_MOVE");
	}
	dst = mmap(NULL, self->psize, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(dst, MAP_FAILED);
	self->other = dst;
	reg.range.start = (uintptr_t)dst;
	reg.range.len = self->psize;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	ASSERT_EQ(ioctl(uffd, UFFDIO_REGISTER, &reg), 0);

	move.dst = (uintptr_t)dst;
	move.src = (uintptr_t)page;
	move.len = self->psize;
	ASSERT_EQ(inject(1), 0);
	ret = ioctl(uffd, UFFDIO_MOVE, &move);
	err = errno;
	stop_injecting();
	EXPECT_EQ(ret, -1);
	EXPECT_EQ(err, ENOMEM);
	EXPECT_EQ(move.move, -ENOMEM);
	EXPECT_COUNTS(0, 1);
	EXPECT_THP_UNCHANGED();

	move.move = 0;
	EXPECT_EQ(ioctl(uffd, UFFDIO_MOVE, &move), 0);
	EXPECT_EQ(move.move, self->psize);
	EXPECT_COUNTS(1, 1);
	EXPECT_EQ(((uint64_t *)dst)[0], pattern(self->psize / sizeof(uint64_t)));
	close(uffd);
}

/*
 * UFFDIO_WRITEPROTECT of part of a THP splits its PMD before it changes
 * anything: when that split fails, the ioctl fails with ENOMEM and nothing
 * is write-protected, neither the page asked for nor the rest of the THP.
 */
TEST_F(split_fail, uffd_writeprotect)
{
	struct uffdio_writeprotect wp = { 0 };
	struct uffdio_api api = { .api = UFFD_API };
	char *page = self->thp + self->psize;
	int uffd, pagemap_fd, ret, err;

	uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (uffd < 0)
		SKIP(return, "no userfaultfd: %s", strerror(errno));
	ASSERT_EQ(ioctl(uffd, UFFDIO_API, &api), 0);
	if (uffd_register(uffd, self->thp, self->pmdsize, false, true, false)) {
		close(uffd);
		SKIP(return, "no userfaultfd write protection");
	}
	pagemap_fd = open("/proc/self/pagemap", O_RDONLY);
	ASSERT_GE(pagemap_fd, 0);

	wp.range.start = (uintptr_t)page;
	wp.range.len = self->psize;
	wp.mode = UFFDIO_WRITEPROTECT_MODE_WP;
	ASSERT_EQ(inject(1), 0);
	ret = ioctl(uffd, UFFDIO_WRITEPROTECT, &wp);
	err = errno;
	stop_injecting();
	EXPECT_EQ(ret, -1);
	EXPECT_EQ(err, ENOMEM);
	EXPECT_COUNTS(0, 1);
	EXPECT_THP_UNCHANGED();
	EXPECT_FALSE(pagemap_get_entry(pagemap_fd, page) & PM_UFFD_WP);
	EXPECT_FALSE(pagemap_get_entry(pagemap_fd, self->thp) & PM_UFFD_WP);

	/* Without the failure, only the page asked for is write-protected. */
	EXPECT_EQ(ioctl(uffd, UFFDIO_WRITEPROTECT, &wp), 0);
	EXPECT_COUNTS(1, 1);
	EXPECT_TRUE(pagemap_get_entry(pagemap_fd, page) & PM_UFFD_WP);
	EXPECT_FALSE(pagemap_get_entry(pagemap_fd, self->thp) & PM_UFFD_WP);
	EXPECT_EQ(bad_pages(self->thp, self->thp, self->pmdsize, false), 0);
	close(pagemap_fd);
	close(uffd);
}

/*
 * Fork @n children that map the THP too, and watch their huge PMDs. Each
 * waits for EOF on the pipe whose write end is returned in *@go, then
 * checks its data: exit status 0 if all of it reads as written.
 */
static int fork_sharers(struct _test_data_split_fail *self, pid_t *pids,
			int n, int *go)
{
	int fds[2], i;
	char c;

	if (pipe(fds))
		return -1;
	for (i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			return -1;
		if (!pids[i]) {
			close(fds[1]);
			while (read(fds[0], &c, 1) > 0)
				;
			_exit(bad_pages(self->thp, self->thp, self->pmdsize, false) ? 1 : 0);
		}
	}
	close(fds[0]);
	*go = fds[1];
	for (i = 0; i < n; i++)
		if (!watch_thp(self, pids[i], self->thp))
			return -1;
	return 0;
}

/* Let the sharers check their data; count those that did not exit 0. */
static int reap_sharers(pid_t *pids, int n, int go)
{
	int i, status, bad = 0;

	close(go);
	for (i = 0; i < n; i++)
		if (waitpid(pids[i], &status, 0) != pids[i] ||
		    !WIFEXITED(status) || WEXITSTATUS(status))
			bad++;
	return bad;
}

/*
 * Split the THPs of this process in [start, start + len) into pages. The
 * kernel tries again at every page of the range, so a range of one page
 * makes a single attempt.
 */
static int split_folios(char *start, size_t len)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "%d,0x%lx,0x%lx", getpid(),
		 (unsigned long)start, (unsigned long)start + len);
	return put_file("/sys/kernel/debug/split_huge_pages", cmd);
}

/*
 * Splitting a THP that 1 + NR_SHARERS processes map by PMD splits every
 * one of those PMDs first, each with a table allocated outside the rmap
 * walk, in batches.
 */
TEST_F(split_fail, split_shared_folio)
{
	pid_t pids[NR_SHARERS];
	int go;

	ASSERT_EQ(fork_sharers(self, pids, NR_SHARERS, &go), 0);
	read_counts(&self->before);
	ASSERT_EQ(split_folios(self->thp, self->psize), 0);
	EXPECT_COUNTS(NR_SHARERS + 1, 0);
	EXPECT_TRUE(check_huge_anon(self->thp, self->pmdsize, 0, self->pmdsize));
	EXPECT_EQ(bad_pages(self->thp, self->thp, self->pmdsize, false), 0);
	EXPECT_EQ(reap_sharers(pids, NR_SHARERS, go), 0);
}

/*
 * After a failed split of the THP that the sharers map: nothing changed,
 * one failed split was counted, and a split without a failure then
 * splits every PMD, and every sharer reads its data back.
 */
static void shared_split_failed(struct __test_metadata *_metadata,
				struct _test_data_split_fail *self,
				pid_t *pids, int go)
{
	EXPECT_COUNTS(0, 1);
	EXPECT_THP_UNCHANGED();

	ASSERT_EQ(split_folios(self->thp, self->psize), 0);
	EXPECT_COUNTS(NR_SHARERS + 1, 1);
	EXPECT_TRUE(check_huge_anon(self->thp, self->pmdsize, 0, self->pmdsize));
	EXPECT_EQ(reap_sharers(pids, NR_SHARERS, go), 0);
}

/*
 * When one of those PMD splits fails, the THP is not split and stays
 * mapped by every process; splitting it again then succeeds.
 */
TEST_F(split_fail, split_shared_folio_fails)
{
	pid_t pids[NR_SHARERS];
	int go;

	ASSERT_EQ(fork_sharers(self, pids, NR_SHARERS, &go), 0);
	read_counts(&self->before);
	ASSERT_EQ(inject(1), 0);
	ASSERT_EQ(split_folios(self->thp, self->psize), 0);
	stop_injecting();
	shared_split_failed(_metadata, self, pids, go);
}

/*
 * The tables for the PMD splits of a shared THP are all allocated before
 * any PMD is split: when the allocation of one in the middle fails, no PMD
 * is split, no table is kept, and the THP stays mapped by every process.
 * Splitting it again succeeds.
 */
TEST_F(split_fail, split_shared_folio_table_fails)
{
	pid_t pids[NR_SHARERS];
	bool failed;
	int go;

	if (access(PAGE_ALLOC_DIR "/times", W_OK))
		SKIP(return, "no " PAGE_ALLOC_DIR ": kernel without CONFIG_FAIL_PAGE_ALLOC?");
	ASSERT_EQ(fork_sharers(self, pids, NR_SHARERS, &go), 0);
	read_counts(&self->before);
	ASSERT_TRUE(fail_nth_page_alloc(self, NR_SHARERS / 2));
	ASSERT_EQ(split_folios(self->thp, self->psize), 0);
	failed = page_alloc_failed();
	if (!failed) {
		EXPECT_EQ(reap_sharers(pids, NR_SHARERS, go), 0);
		SKIP(return, "the split allocated no PTE table (deposited tables)");
	}
	shared_split_failed(_metadata, self, pids, go);
}

/*
 * More failures than a child could use: every split it tried would fail,
 * and use one.
 */
#define EXIT_FAILURES 1000

/* exit() never splits a PMD, so it cannot fail, with failures injected. */
TEST_F(split_fail, exit)
{
	char times[32];
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		char *mem;

		/* Every split of this child would fail. */
		if (inject(EXIT_FAILURES))
			_exit(2);
		mem = mmap(NULL, 4 * self->pmdsize, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (mem == MAP_FAILED)
			_exit(3);
		madvise(mem, 4 * self->pmdsize, MADV_HUGEPAGE);
		memset(mem, 1, 4 * self->pmdsize);
		exit(0);
	}
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(WEXITSTATUS(status), 0);
	/* The child armed its failures: EXPECT_COUNTS() cannot see them. */
	ASSERT_EQ(get_file(FAIL_DIR "/times", times, sizeof(times)), 0);
	set_knob("times", "0");
	EXPECT_EQ(atoi(times), EXIT_FAILURES);
	EXPECT_COUNTS(0, 0);
	EXPECT_THP_UNCHANGED();
}

#define CGROUP_ROOT "/sys/fs/cgroup"
#define MEMCG_SLACK (4 << 20)	/* memory.max above the usage with the THP */
#define MEMCG_FILL (64 << 20)	/* more than the slack, or the fill is wrong */
#define HANG_SECONDS 20		/* a call that takes longer hangs */

/* What the child of memcg_full() reports, in memory shared with us. */
struct memcg_report {
	int status;
	int err;		/* errno of what failed */
	long usage;		/* memory.current before memory.max was set */
	long peak;		/* memory.peak after the call */
	long resident;		/* pages of the huge zero range still mapped */
	long steps;		/* pages the fill populated */
	char what[64];		/* what failed */
};

enum {
	MEMCG_PASS,
	MEMCG_NO_THP = 10,
	MEMCG_SETUP,
	MEMCG_NOT_FULL,
	MEMCG_CALL,
	MEMCG_DATA,
	MEMCG_VMA_NOMEM,
	MEMCG_FORCED,
};

/* How many pages of [start, start + len) are mapped, from mincore(). */
static long resident_pages(char *start, size_t len, size_t psize)
{
	unsigned char vec[1024];
	long n = 0;
	size_t i;

	if (len / psize > sizeof(vec) || mincore(start, len, vec))
		return -1;
	for (i = 0; i < len / psize; i++)
		n += vec[i] & 1;
	return n;
}

/*
 * Create the cgroup v2 @path with the memory controller, mounting cgroup2
 * on CGROUP_ROOT if it is not. Returns NULL, or why it cannot be had.
 */
static const char *memcg_create(const char *path, bool *mounted)
{
	char buf[256];

	*mounted = false;
	if (access(CGROUP_ROOT "/cgroup.controllers", R_OK)) {
		if (mount("cgroup2", CGROUP_ROOT, "cgroup2", 0, NULL))
			return "cannot mount cgroup2 on " CGROUP_ROOT;
		*mounted = true;
	}
	if (get_file(CGROUP_ROOT "/cgroup.controllers", buf, sizeof(buf)) ||
	    !strstr(buf, "memory"))
		return "no memory controller in cgroup v2";
	if (put_file(CGROUP_ROOT "/cgroup.subtree_control", "+memory"))
		return "cannot enable the memory controller";
	rmdir(path);
	if (mkdir(path, 0755))
		return "cannot create a cgroup";
	return NULL;
}

static void memcg_remove(const char *path, bool mounted)
{
	int i;

	/* The child is reaped, but its cgroup may take a moment to empty. */
	for (i = 0; i < 50 && rmdir(path) && errno == EBUSY; i++)
		usleep(100 * 1000);
	if (mounted)
		umount(CGROUP_ROOT);
}

static long memcg_read(const char *cg, const char *file)
{
	char path[256], buf[64];

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	if (get_file(path, buf, sizeof(buf)))
		return -1;
	return atol(buf);
}

static int memcg_write(const char *cg, const char *file, long val)
{
	char path[256], buf[64];

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	snprintf(buf, sizeof(buf), "%ld", val);
	return put_file(path, buf);
}

static int memcg_fail(struct memcg_report *r, int status, const char *what)
{
	r->err = errno;
	r->status = status;
	snprintf(r->what, sizeof(r->what), "%s", what);
	return status;
}

/*
 * The child of memcg_full(): in the memory cgroup @cg, the only task there
 * and one the OOM killer must not kill, fill the memcg to its limit, then
 * munmap() (or with @dontneed, MADV_DONTNEED) a page of a THP. Reports in
 * @r; the status is also the exit status.
 */
static int memcg_child(struct _test_data_split_fail *self, const char *cg,
		       bool dontneed, bool zero, struct memcg_report *r)
{
	size_t pmdsize = self->pmdsize, psize = self->psize, i;
	char path[256], *raw, *thp, *page, *filler;
	int ret, err, tries;
	cpu_set_t cpus;

	/*
	 * Charges are made in batches, the rest kept in a per-CPU stock. When
	 * a charge fails, the stocks of other CPUs are given back later, by a
	 * worker: on one CPU, ours is given back before the charge fails.
	 */
	CPU_ZERO(&cpus);
	CPU_SET(sched_getcpu(), &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus))
		return memcg_fail(r, MEMCG_SETUP, "sched_setaffinity");
	signal(SIGALRM, SIG_DFL);
	/*
	 * Once the memcg is full, a write to a page still shared with the
	 * parent would have to copy it, and that fault would loop on the memcg
	 * OOM. Write to errno's page now; the stack that the system calls use
	 * then was written to by the calls below.
	 */
	errno = 0;

	/* Nothing of the memcg can be swapped out to make room. */
	snprintf(path, sizeof(path), "%s/memory.swap.max", cg);
	if (!access(path, F_OK) && memcg_write(cg, "memory.swap.max", 0))
		return memcg_fail(r, MEMCG_SETUP, "memory.swap.max");
	if (memcg_write(cg, "cgroup.procs", getpid()))
		return memcg_fail(r, MEMCG_SETUP, "moving into the cgroup");
	if (put_file("/proc/self/oom_score_adj", "-1000"))
		return memcg_fail(r, MEMCG_SETUP, "oom_score_adj");

	/* An aligned THP in a VMA of its own, charged to the memcg. */
	raw = mmap(NULL, 2 * pmdsize, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return memcg_fail(r, MEMCG_SETUP, "mmap");
	thp = (char *)(((uintptr_t)raw + pmdsize - 1) & ~(pmdsize - 1));
	if (thp > raw)
		munmap(raw, thp - raw);
	munmap(thp + pmdsize, raw + pmdsize - thp);
	madvise(thp, pmdsize, MADV_HUGEPAGE);
	if (zero) {
		/* A read maps the huge zero page: all of it then is resident. */
		if (FORCE_READ(thp[0]) ||
		    resident_pages(thp, pmdsize, psize) != (long)(pmdsize / psize))
			return memcg_fail(r, MEMCG_NO_THP, "no huge zero PMD");
	} else {
		fill(thp, pmdsize);
		if (!check_huge_anon(thp, pmdsize, 1, pmdsize))
			return memcg_fail(r, MEMCG_NO_THP, "no THP in the memcg");
	}
	page = thp + psize;

	/*
	 * Small pages to fill the memcg with, and their PTE tables, before the
	 * limit: a page that needed a table too could fail with a page left.
	 */
	filler = mmap(NULL, MEMCG_FILL, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (filler == MAP_FAILED)
		return memcg_fail(r, MEMCG_SETUP, "mmap of the filler");
	madvise(filler, MEMCG_FILL, MADV_NOHUGEPAGE);
	for (i = 0; i < MEMCG_FILL; i += pmdsize)
		madvise(filler + i, psize, MADV_POPULATE_WRITE);
	madvise(filler + MEMCG_FILL - psize, psize, MADV_POPULATE_WRITE);

	r->usage = memcg_read(cg, "memory.current");
	if (r->usage < 0 || memcg_write(cg, "memory.max", r->usage + MEMCG_SLACK))
		return memcg_fail(r, MEMCG_SETUP, "memory.max");
	/*
	 * Full is when a page cannot be charged three times in a row: a
	 * charge that is given back meanwhile lets the fill go on.
	 */
	for (i = 0, tries = 0; i < MEMCG_FILL / psize; ) {
		if (!madvise(filler + i * psize, psize, MADV_POPULATE_WRITE)) {
			i++;
			tries = 0;
			continue;
		}
		if (errno != ENOMEM || ++tries == 3)
			break;
		usleep(20 * 1000);
	}
	r->steps = i;
	if (tries < 3)
		return memcg_fail(r, MEMCG_NOT_FULL, "filling the memcg");

	/* The PTE table of the split cannot be charged now. */
	alarm(HANG_SECONDS);
	if (dontneed)
		ret = madvise(page, psize, MADV_DONTNEED);
	else
		ret = munmap(page, psize);
	err = errno;
	alarm(0);
	if (zero)
		r->resident = resident_pages(thp, pmdsize, psize);
	/* Make room in the memcg again: what follows may fault memory in. */
	munmap(filler, MEMCG_FILL);
	/* The highest usage so far: over the limit only if forced there. */
	r->peak = memcg_read(cg, "memory.peak");

	if (ret) {
		errno = err;
		/*
		 * munmap() must also split the VMA, and the new VMA is charged
		 * to the memcg too: that fails here, with or without a THP, and
		 * munmap() fails with ENOMEM, having unmapped nothing. That is
		 * not the split's doing, but MADV_DONTNEED allocates nothing
		 * else: it must succeed.
		 */
		if (dontneed || err != ENOMEM)
			return memcg_fail(r, MEMCG_CALL,
					  dontneed ? "madvise(MADV_DONTNEED)" : "munmap()");
		if (bad_pages(thp, thp, pmdsize, false))
			return memcg_fail(r, MEMCG_DATA, "the data");
		/*
		 * The PMD is split before the new VMA is allocated, and that
		 * split cannot fail: a THP still mapped by its PMD means that
		 * it did, and the ENOMEM was the split's.
		 */
		if (check_huge_anon(thp, pmdsize, 1, pmdsize))
			return memcg_fail(r, MEMCG_CALL, "munmap()'s PMD split");
		return memcg_fail(r, MEMCG_VMA_NOMEM, "munmap()");
	}
	if (zero) {
		/*
		 * The huge zero page was charged to no one: its split must
		 * not force a table past memory.max. It clears the PMD
		 * instead, and every page reads zero.
		 */
		if (r->peak < 0)
			return memcg_fail(r, MEMCG_SETUP, "memory.peak");
		if (r->peak > r->usage + MEMCG_SLACK)
			return memcg_fail(r, MEMCG_FORCED, "the split");
		if (!is_zero(thp, pmdsize))
			return memcg_fail(r, MEMCG_DATA, "the data");
		return MEMCG_PASS;
	}
	if (bad_pages(thp, thp, psize, false) ||
	    bad_pages(thp, page + psize, pmdsize - 2 * psize, false) ||
	    (dontneed && !is_zero(page, psize)))
		return memcg_fail(r, MEMCG_DATA, "the data");
	return MEMCG_PASS;
}

/*
 * munmap() (or MADV_DONTNEED) of a page of a THP, in a memory cgroup at
 * its limit: the PTE table of the split cannot be charged, and the memcg
 * OOM killer cannot free anything, as the only task in the memcg is not to
 * be killed. The call must not wait for that table forever, and
 * MADV_DONTNEED must not fail. A child makes the call; SIGALRM kills it if
 * the call hangs.
 */
static void memcg_full(struct __test_metadata *_metadata,
		       struct _test_data_split_fail *self, bool dontneed,
		       bool zero)
{
	struct memcg_report *r;
	const char *why;
	char cg[128];
	bool mounted;
	int status;
	pid_t pid;

	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(r, MAP_FAILED);
	memset(r, 0, sizeof(*r));
	snprintf(cg, sizeof(cg), CGROUP_ROOT "/split_pmd_fail.%d", getpid());
	why = memcg_create(cg, &mounted);
	if (why) {
		if (mounted)
			umount(CGROUP_ROOT);
		SKIP(return, "%s", why);
	}

	pid = fork();
	if (pid == 0)
		_exit(memcg_child(self, cg, dontneed, zero, r));
	if (pid > 0)
		waitpid(pid, &status, 0);
	memcg_remove(cg, mounted);
	ASSERT_GT(pid, 0);

	EXPECT_FALSE(WIFSIGNALED(status)) {
		if (WTERMSIG(status) == SIGALRM)
			TH_LOG("%s hung: killed after %d s",
			       dontneed ? "madvise(MADV_DONTNEED)" : "munmap()",
			       HANG_SECONDS);
		else
			TH_LOG("child killed by signal %d", WTERMSIG(status));
	}
	if (WIFSIGNALED(status))
		return;
	ASSERT_TRUE(WIFEXITED(status));
	if (WEXITSTATUS(status) == MEMCG_NO_THP)
		SKIP(return, "%s", r->what);
	if (WEXITSTATUS(status) == MEMCG_NOT_FULL)
		SKIP(return, "could not fill the memory cgroup (%ld pages: %s)",
		     r->steps, strerror(r->err));
	/*
	 * munmap() fails with ENOMEM when the memcg cannot take the VMA that
	 * splitting the VMA needs, as it does without any THP, and as it did
	 * before PMD splits could fail: in a memcg this full, munmap() of a
	 * page in the middle of small pages fails so. It did not hang, and
	 * changed nothing.
	 */
	if (WEXITSTATUS(status) == MEMCG_VMA_NOMEM) {
		TH_LOG("munmap() failed: %s, the THP is intact", strerror(r->err));
		return;
	}
	if (zero)
		TH_LOG("memory.peak %ld, limit %ld; %ld pages mapped (0: cleared, %ld: split)",
		       r->peak, r->usage + MEMCG_SLACK, r->resident,
		       (long)(self->pmdsize / self->psize) - 1);
	EXPECT_EQ(WEXITSTATUS(status), MEMCG_PASS) {
		if (WEXITSTATUS(status) == MEMCG_DATA)
			TH_LOG("the data of the THP changed");
		else if (WEXITSTATUS(status) == MEMCG_FORCED)
			TH_LOG("memory.peak %ld, over the limit %ld",
			       r->peak, r->usage + MEMCG_SLACK);
		else
			TH_LOG("%s failed: %s (memcg usage %ld + %d, %ld pages filled)",
			       r->what, strerror(r->err), r->usage, MEMCG_SLACK,
			       r->steps);
	}
	munmap(r, sizeof(*r));
}

TEST_F_TIMEOUT(split_fail, memcg_full_munmap, 120)
{
	memcg_full(_metadata, self, false, false);
}

TEST_F_TIMEOUT(split_fail, memcg_full_madv_dontneed, 120)
{
	memcg_full(_metadata, self, true, false);
}

/*
 * MADV_DONTNEED of a page of a huge zero PMD in a full memcg: the split
 * cannot charge a table without forcing it past memory.max, so it clears
 * the PMD instead, and memory.peak stays at most at the limit.
 */
TEST_F_TIMEOUT(split_fail, memcg_full_zero_madv_dontneed, 120)
{
	memcg_full(_metadata, self, true, true);
}

/* PAGEMAP_SCAN of [start, end) for pages written to, with @flags. */
static long scan_written(int pagemap_fd, char *start, char *end, uint64_t flags,
			 struct page_region *vec, size_t vec_len, char **walk_end)
{
	struct pm_scan_arg arg = {
		.size = sizeof(arg),
		.flags = flags,
		.start = (uintptr_t)start,
		.end = (uintptr_t)end,
		.vec = (uintptr_t)vec,
		.vec_len = vec_len,
		.category_mask = PAGE_IS_WRITTEN,
		.return_mask = PAGE_IS_WRITTEN,
	};
	long ret;

	ret = ioctl(pagemap_fd, PAGEMAP_SCAN, &arg);
	if (walk_end)
		*walk_end = (char *)(uintptr_t)arg.walk_end;
	return ret;
}

#define WP_SCAN (PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC)

/*
 * Two THPs, all written to, in memory registered with a userfaultfd for
 * asynchronous write protection: PAGEMAP_SCAN with PM_SCAN_WP_MATCHING
 * reports the pages written to since they were last write-protected, and
 * write-protects them. Returns the THPs, or NULL after SKIP().
 */
static char *wp_async_thps(struct __test_metadata *_metadata,
			   struct _test_data_split_fail *self,
			   int *uffd, int *pagemap_fd)
{
	const uint64_t features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED;
	struct uffdio_api api = { .api = UFFD_API, .features = features };
	struct page_region vec[1];
	char *area;
	int ret;

	*pagemap_fd = open("/proc/self/pagemap", O_RDONLY);
	if (*pagemap_fd < 0)
		SKIP(return NULL, "no /proc/self/pagemap");
	if (scan_written(*pagemap_fd, self->thp, self->thp + self->psize, 0,
			 vec, 1, NULL) < 0) {
		int err = errno;

		/* A kernel without PAGEMAP_SCAN does not know the ioctl. */
		ASSERT_EQ(err, ENOTTY) {
			TH_LOG("PAGEMAP_SCAN: %s", strerror(err));
		}
		SKIP(return NULL, "no PAGEMAP_SCAN");
	}
	*uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (*uffd < 0)
		SKIP(return NULL, "no userfaultfd: %s", strerror(errno));
	if (ioctl(*uffd, UFFDIO_API, &api) || (api.features & features) != features)
		SKIP(return NULL, "no asynchronous userfaultfd write protection");
	area = map_thps(self, 2);
	if (!area)
		SKIP(return NULL, "no two adjacent THPs");
	ret = uffd_register(*uffd, area, 2 * self->pmdsize, false, true, false);
	ASSERT_EQ(ret, 0) {
		TH_LOG("UFFDIO_REGISTER for write protection: %s",
		       strerror(-ret));
	}
	return area;
}

/*
 * A scan that write-protects the whole first THP, and must split the
 * PMD of the second one to write-protect only part of it. When that split
 * fails, the scan stops there, as if its buffer were full: it returns the
 * ranges it found before, and walk_end tells where to go on from.
 */
TEST_F(split_fail, pagemap_scan)
{
	struct page_region vec[8];
	char *thp1, *thp2, *walk_end;
	int uffd, pagemap_fd, err;
	long ret;

	thp1 = wp_async_thps(_metadata, self, &uffd, &pagemap_fd);
	if (!thp1)
		return;
	thp2 = thp1 + self->pmdsize;

	memset(vec, 0, sizeof(vec));
	ASSERT_EQ(inject(1), 0);
	ret = scan_written(pagemap_fd, thp1, thp2 + self->psize, WP_SCAN,
			   vec, ARRAY_SIZE(vec), &walk_end);
	err = errno;
	stop_injecting();
	EXPECT_EQ(ret, 1) {
		TH_LOG("PAGEMAP_SCAN returned %ld: %s", ret,
		       ret < 0 ? strerror(err) : "");
	}
	EXPECT_EQ(vec[0].start, (uintptr_t)thp1);
	EXPECT_EQ(vec[0].end, (uintptr_t)thp2);
	EXPECT_EQ(vec[0].categories, PAGE_IS_WRITTEN);
	EXPECT_EQ(walk_end, thp2);
	EXPECT_COUNTS(0, 1);
	/* The first THP was write-protected: nothing written there now. */
	EXPECT_EQ(scan_written(pagemap_fd, thp1, thp2, 0, vec, 1, NULL), 0);

	/* Going on from walk_end does the rest. */
	memset(vec, 0, sizeof(vec));
	ret = scan_written(pagemap_fd, thp2, thp2 + self->psize, WP_SCAN,
			   vec, ARRAY_SIZE(vec), &walk_end);
	err = errno;
	EXPECT_EQ(ret, 1) {
		TH_LOG("PAGEMAP_SCAN returned %ld: %s", ret,
		       ret < 0 ? strerror(err) : "");
	}
	EXPECT_EQ(vec[0].start, (uintptr_t)thp2);
	EXPECT_EQ(vec[0].end, (uintptr_t)(thp2 + self->psize));
	EXPECT_EQ(vec[0].categories, PAGE_IS_WRITTEN);
	EXPECT_EQ(walk_end, thp2 + self->psize);
	EXPECT_COUNTS(1, 1);
	EXPECT_EQ(bad_pages(thp1, thp1, 2 * self->pmdsize, false), 0);
	close(uffd);
	close(pagemap_fd);
}

/*
 * When the split that fails is the first thing the scan meets, it has
 * found nothing to return: it fails with ENOMEM.
 */
TEST_F(split_fail, pagemap_scan_fails_first)
{
	struct page_region vec[8];
	char *thp1, *thp2, *walk_end;
	int uffd, pagemap_fd, err;
	long ret;

	thp1 = wp_async_thps(_metadata, self, &uffd, &pagemap_fd);
	if (!thp1)
		return;
	thp2 = thp1 + self->pmdsize;

	memset(vec, 0xff, sizeof(vec));
	ASSERT_EQ(inject(1), 0);
	ret = scan_written(pagemap_fd, thp2, thp2 + self->psize, WP_SCAN,
			   vec, ARRAY_SIZE(vec), &walk_end);
	err = errno;
	stop_injecting();
	EXPECT_EQ(ret, -1);
	EXPECT_EQ(err, ENOMEM);
	/* Nothing was reported. */
	EXPECT_EQ(vec[0].start, ~0ULL);
	EXPECT_COUNTS(0, 1);
	/* Nor write-protected: the whole THP is still written to. */
	EXPECT_EQ(scan_written(pagemap_fd, thp2, thp2 + self->pmdsize, 0,
			       vec, 1, NULL), 1);
	EXPECT_EQ(vec[0].start, (uintptr_t)thp2);
	EXPECT_EQ(vec[0].end, (uintptr_t)(thp2 + self->pmdsize));
	EXPECT_EQ(bad_pages(thp1, thp1, 2 * self->pmdsize, false), 0);
	close(uffd);
	close(pagemap_fd);
}

TEST_HARNESS_MAIN
