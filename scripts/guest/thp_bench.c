// SPDX-License-Identifier: GPL-2.0
/*
 * thp_bench N REPEATS: what N anonymous PMD-mapped THPs cost, run in the
 * test guest by scripts/bench.sh on the base and the patched kernel.
 *
 * Each repetition maps N aligned THPs and measures:
 *   pt_pages  page-table pages held by the N unsplit THPs (PageTables in
 *             /proc/meminfo, after the first touch minus before the mmap)
 *   vmpte     the same, as this process's VmPTE in /proc/self/status
 *   fault_us  first-touch fault time per THP
 *   fork_us   time of fork() in the parent, with the N THPs mapped
 *   split_us  time per PMD split, by mprotect() of one page in each THP
 *             (the VMA split included, as that is what user space sees)
 *   split_pt  page-table pages after the N splits, minus before the mmap
 * and prints one "BENCH" line; scripts/bench.sh takes the medians.
 * A repetition in which a THP could not be allocated, or a split did not
 * happen, is reported as an error line and makes the exit status 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "guest.h"

#define THP_SIZE (2UL << 20)
#define PAGE 4096UL

static int run(unsigned long n, int rep)
{
	long pt0, pt1, pt2, pte0, pte1, thp_kb, splits0, splits1;
	double t0, fault_us, fork_us, split_us;
	unsigned long i, len = n * THP_SIZE;
	char *raw, *p;
	pid_t pid;
	int status;

	pt0 = page_tables();
	pte0 = read_kv("/proc/self/status", "VmPTE");
	raw = mmap(NULL, len + THP_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED) {
		printf("BENCH-ERROR n=%lu rep=%d mmap: %s\n", n, rep, strerror(errno));
		return 1;
	}
	p = (char *)(((uintptr_t)raw + THP_SIZE - 1) & ~(THP_SIZE - 1));
	if (madvise(p, len, MADV_HUGEPAGE)) {
		printf("BENCH-ERROR n=%lu rep=%d madvise: %s\n", n, rep, strerror(errno));
		return 1;
	}

	t0 = now_us();
	for (i = 0; i < n; i++)
		p[i * THP_SIZE] = 1;
	fault_us = (now_us() - t0) / n;

	thp_kb = read_kv("/proc/self/smaps_rollup", "AnonHugePages");
	pt1 = page_tables();
	pte1 = read_kv("/proc/self/status", "VmPTE");
	if (thp_kb < 0 || (unsigned long)thp_kb != n * (THP_SIZE >> 10)) {
		printf("BENCH-ERROR n=%lu rep=%d only %ld kB of %lu kB are THPs\n",
		       n, rep, thp_kb, n * (THP_SIZE >> 10));
		munmap(raw, len + THP_SIZE);
		return 1;
	}

	t0 = now_us();
	pid = fork();
	if (pid == 0)
		_exit(0);
	fork_us = now_us() - t0;
	if (pid < 0 || waitpid(pid, &status, 0) != pid || status) {
		printf("BENCH-ERROR n=%lu rep=%d fork failed\n", n, rep);
		return 1;
	}

	splits0 = read_kv("/proc/vmstat", "thp_split_pmd");
	t0 = now_us();
	for (i = 0; i < n; i++) {
		if (mprotect(p + i * THP_SIZE + PAGE, PAGE, PROT_READ)) {
			printf("BENCH-ERROR n=%lu rep=%d mprotect: %s\n", n, rep,
			       strerror(errno));
			return 1;
		}
	}
	split_us = (now_us() - t0) / n;
	splits1 = read_kv("/proc/vmstat", "thp_split_pmd");
	pt2 = page_tables();
	munmap(raw, len + THP_SIZE);

	if (splits1 - splits0 < (long)n) {
		printf("BENCH-ERROR n=%lu rep=%d only %ld of %lu PMDs split\n",
		       n, rep, splits1 - splits0, n);
		return 1;
	}
	printf("BENCH n=%lu rep=%d pt_pages=%ld vmpte=%ld fault_us=%.1f fork_us=%.1f split_us=%.1f split_pt=%ld\n",
	       n, rep, (pt1 - pt0) / 4, (pte1 - pte0) / 4, fault_us, fork_us,
	       split_us, (pt2 - pt0) / 4);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	int i, reps, err = 0;
	unsigned long n;

	if (argc != 3) {
		fprintf(stderr, "usage: thp_bench N REPEATS\n");
		return 2;
	}
	n = strtoul(argv[1], NULL, 0);
	reps = atoi(argv[2]);
	/* One unmeasured round first: page cache, slab and the PMD tables. */
	run(n, -1);
	for (i = 0; i < reps; i++)
		err |= run(n, i);
	return err;
}
