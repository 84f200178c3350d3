// SPDX-License-Identifier: GPL-2.0
/*
 * System calls on part of a PMD-mapped THP when the PMD split they need
 * fails: each one must fail visibly, or fall back, and leave the mapping
 * and its data exactly as they were; the same call without a failure must
 * then succeed. Unmapping (munmap(), shrinking mremap(), exit) must not
 * fail at all.
 *
 * Failures are injected with the fail_pmd_split fault attribute
 * (CONFIG_FAIL_PMD_SPLIT, Documentation/fault-injection/), limited to this
 * thread with task-filter and /proc/thread-self/make-it-fail. Every test
 * checks in /proc/vmstat that thp_split_pmd_failed went up by exactly the
 * number of failures it expects, so a test cannot pass because the
 * failure was never injected. The *_table_alloc_fails tests fail the
 * allocation of the split's PTE table instead, with fail_page_alloc.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
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

/* Make the next @times PMD splits of this thread fail. */
static int inject(int times)
{
	char val[16];

	snprintf(val, sizeof(val), "%d", times);
	if (set_knob("times", val))
		return -1;
	return put_file("/proc/thread-self/make-it-fail", "1");
}

static void stop_injecting(void)
{
	put_file("/proc/thread-self/make-it-fail", "0");
	set_knob("times", "0");
}

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

FIXTURE(split_fail) {
	size_t pmdsize;
	size_t psize;
	char *thp;		/* One PMD-mapped THP, a VMA of its own. */
	char *other;		/* A page mapped elsewhere, or NULL. */
	char saved[NR_KNOBS][64];
	bool saved_ok;
	char page_alloc_saved[NR_PAGE_ALLOC_KNOBS][64];
	bool page_alloc_saved_ok;
	char maps[1024];	/* The THP's maps lines before the test. */
	struct split_counts before;
};

FIXTURE_SETUP(split_fail)
{
	char path[256];
	size_t i;
	char *raw;

	self->thp = NULL;
	self->other = NULL;
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

/* thp_split_pmd and thp_split_pmd_failed moved by @split and @failed. */
#define EXPECT_COUNTS(split_delta, failed_delta) do {				\
	struct split_counts now;						\
										\
	read_counts(&now);							\
	EXPECT_EQ(now.split - self->before.split, split_delta);		\
	EXPECT_EQ(now.failed - self->before.failed, failed_delta);		\
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

	for (i = 0; i < NR_PAGE_ALLOC_KNOBS; i++) {
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

/* Stop failing page allocations; tell whether the failure happened. */
static bool page_alloc_failed(void)
{
	char times[32] = "";

	put_file("/proc/thread-self/make-it-fail", "0");
	get_file(PAGE_ALLOC_DIR "/times", times, sizeof(times));
	put_file(PAGE_ALLOC_DIR "/times", "0");
	return !strcmp(times, "0");
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
 * When the PTE table of the split cannot be allocated, mprotect() fails
 * with ENOMEM and changes nothing.
 */
TEST_F(split_fail, mprotect_table_alloc_fails)
{
	char *page = self->thp + self->psize;
	int ret, err;
	bool failed;

	if (access(PAGE_ALLOC_DIR "/times", W_OK))
		SKIP(return, "no " PAGE_ALLOC_DIR ": kernel without CONFIG_FAIL_PAGE_ALLOC?");
	ASSERT_TRUE(fail_next_page_alloc(self));
	ret = mprotect(page, self->psize, PROT_READ);
	err = errno;
	failed = page_alloc_failed();
	ASSERT_TRUE(failed);
	EXPECT_EQ(ret, -1);
	EXPECT_EQ(err, ENOMEM);
	EXPECT_COUNTS(0, 1);
	EXPECT_THP_UNCHANGED();
}

/*
 * munmap() waits for the PTE table of its split instead of failing: the
 * failed allocation is retried, and no split fails.
 */
TEST_F(split_fail, munmap_table_alloc_fails)
{
	char *page = self->thp + self->psize;
	bool failed;
	int ret;

	if (access(PAGE_ALLOC_DIR "/times", W_OK))
		SKIP(return, "no " PAGE_ALLOC_DIR ": kernel without CONFIG_FAIL_PAGE_ALLOC?");
	ASSERT_TRUE(fail_next_page_alloc(self));
	ret = munmap(page, self->psize);
	failed = page_alloc_failed();
	ASSERT_TRUE(failed);
	EXPECT_EQ(ret, 0);
	EXPECT_COUNTS(1, 0);
	EXPECT_EQ(bad_pages(self->thp, self->thp, self->psize, false), 0);
	EXPECT_EQ(bad_pages(self->thp, page + self->psize,
			    self->pmdsize - 2 * self->psize, false), 0);
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

static void madvise_fails(struct __test_metadata *_metadata,
			  struct _test_data_split_fail *self, int advice)
{
	char *page = self->thp + self->psize;
	int ret, err;

	ASSERT_EQ(inject(1), 0);
	ret = madvise(page, self->psize, advice);
	err = errno;
	stop_injecting();
	if (ret && err == EINVAL)
		SKIP(return, "advice %d not supported", advice);
	EXPECT_EQ(ret, -1);
	EXPECT_EQ(err, ENOMEM);
	EXPECT_COUNTS(0, 1);
	/* Not a single page was zapped: everything reads as before. */
	EXPECT_THP_UNCHANGED();

	EXPECT_EQ(madvise(page, self->psize, advice), 0);
	EXPECT_COUNTS(1, 1);
	EXPECT_EQ(bad_pages(self->thp, self->thp, self->psize, false), 0);
	EXPECT_EQ(bad_pages(self->thp, page + self->psize,
			    self->pmdsize - 2 * self->psize, false), 0);
}

TEST_F(split_fail, madv_dontneed)
{
	madvise_fails(_metadata, self, MADV_DONTNEED);
	if (_metadata->exit_code != KSFT_SKIP)
		EXPECT_EQ(*(uint64_t *)(self->thp + self->psize), 0);
}

TEST_F(split_fail, madv_dontneed_locked)
{
	madvise_fails(_metadata, self, MADV_DONTNEED_LOCKED);
}

TEST_F(split_fail, madv_guard_install)
{
	madvise_fails(_metadata, self, MADV_GUARD_INSTALL);
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

#define NR_SHARERS 20	/* more than the tables one rmap walk allocates for */

/*
 * Fork @n children that map the THP too. Each waits for EOF on the pipe
 * whose write end is returned in *@go, then checks its data: exit status 0
 * if all of it reads as written.
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
	EXPECT_COUNTS(0, 1);
	EXPECT_THP_UNCHANGED();

	ASSERT_EQ(split_folios(self->thp, self->psize), 0);
	EXPECT_COUNTS(NR_SHARERS + 1, 1);
	EXPECT_TRUE(check_huge_anon(self->thp, self->pmdsize, 0, self->pmdsize));
	EXPECT_EQ(reap_sharers(pids, NR_SHARERS, go), 0);
}

/* exit() never splits a PMD, so it cannot fail, with failures injected. */
TEST_F(split_fail, exit)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		char *mem;

		/* Every split of this child would fail. */
		if (inject(-1))
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
	set_knob("times", "0");
	EXPECT_COUNTS(0, 0);
	EXPECT_THP_UNCHANGED();
}

TEST_HARNESS_MAIN
