// SPDX-License-Identifier: GPL-2.0
/*
 * thp_reclaim SHARERS THP_MB HOG_MB REPEATS: reclaim of THPs mapped by
 * many processes, run in a small test guest with a swap device by
 * scripts/reclaim.sh, on the base and the patched kernel.
 *
 * Each repetition:
 *   1. an "owner" process maps THP_MB of anonymous THPs, fills them with a
 *      pattern and forks SHARERS children that keep them PMD-mapped;
 *   2. a "hog" process then touches HOG_MB of small pages, more than the
 *      guest has free, so that reclaim has to swap out the THPs: every one
 *      of their 1 + SHARERS PMD mappings must be split (and, on the
 *      patched kernel, get a PTE table allocated) before the folio can be
 *      unmapped;
 *   3. the hog exits, and the owner and every sharer read their data back
 *      (one word per page for the owner, one per 16 pages for a sharer).
 * It prints one "RECLAIM" line with what happened: OOM kills, pages
 * swapped out, PMD splits and failed splits, page-table memory before and
 * after the pressure, the hog's wall time, processes that died and pages
 * that did not read back as written. scripts/reclaim.sh tabulates them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
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
#define SHARER_STRIDE 16	/* pages between two checked words in a sharer */

static const char * const events[] = {
	"oom_kill", "pswpout", "pswpin", "thp_split_pmd", "thp_split_pmd_failed",
	"thp_swpout", "thp_swpout_fallback", "pgsteal_kswapd", "pgsteal_direct",
};
#define NR_EVENTS (sizeof(events) / sizeof(events[0]))

static void read_events(long *val)
{
	size_t i;

	for (i = 0; i < NR_EVENTS; i++)
		val[i] = read_kv("/proc/vmstat", events[i]);
}

static double now_ms(void)
{
	return now_us() / 1e3;
}

static uint64_t pattern(size_t i)
{
	return (i + 1) * 0x9e3779b97f4a7c15ULL;
}

/* Pages of @mem whose first word is not what fill() wrote, every @stride. */
static long bad_pages(uint64_t *mem, size_t len, size_t stride)
{
	size_t words = PAGE / sizeof(*mem), i;
	long bad = 0;

	for (i = 0; i < len / PAGE; i += stride)
		if (mem[i * words] != pattern(i))
			bad++;
	return bad;
}

static void fill(uint64_t *mem, size_t len)
{
	size_t words = PAGE / sizeof(*mem), i, j;

	for (i = 0; i < len / PAGE; i++)
		for (j = 0; j < words; j++)
			mem[i * words + j] = j ? j : pattern(i);
}

static long thp_kb(void)
{
	return read_kv("/proc/self/smaps_rollup", "AnonHugePages");
}

static void set_oom_score_adj(const char *val)
{
	FILE *f = fopen("/proc/self/oom_score_adj", "w");

	if (f) {
		fputs(val, f);
		fclose(f);
	}
}

static int write_all(int fd, const void *buf, size_t len)
{
	return write(fd, buf, len) == (ssize_t)len ? 0 : -1;
}

struct owner_report {
	long thps;		/* THPs mapped after the fill */
	long bad;		/* owner pages that read back wrong */
	long sharers_bad;	/* sharers that found a wrong page */
	long sharers_died;	/* sharers killed (OOM) or failed otherwise */
	double check_ms;	/* time to read everything back */
};

/*
 * The owner: map and fill the THPs, fork the sharers, say "ready" on @out,
 * wait for EOF on @in, check the data (its own and the sharers'), and send
 * the report on @out.
 */
static void owner(int sharers, size_t len, int in, int out)
{
	struct owner_report rep = { 0 };
	int go[2], i, status;
	pid_t *pids;
	char *raw, *mem;
	double t0;

	pids = calloc(sharers, sizeof(*pids));
	raw = mmap(NULL, len + THP_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!pids || raw == MAP_FAILED || pipe(go))
		_exit(2);
	mem = (char *)(((uintptr_t)raw + THP_SIZE - 1) & ~(THP_SIZE - 1));
	madvise(mem, len, MADV_HUGEPAGE);
	fill((uint64_t *)mem, len);
	rep.thps = thp_kb() / 2048;

	for (i = 0; i < sharers; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			_exit(3);
		if (!pids[i]) {
			char c;

			close(go[1]);
			while (read(go[0], &c, 1) > 0)
				;
			_exit(bad_pages((uint64_t *)mem, len, SHARER_STRIDE) ? 1 : 0);
		}
	}
	close(go[0]);
	if (write_all(out, &rep, sizeof(rep)))
		_exit(4);

	while (read(in, &i, sizeof(i)) > 0)
		;
	t0 = now_ms();
	close(go[1]);
	rep.bad = bad_pages((uint64_t *)mem, len, 1);
	for (i = 0; i < sharers; i++) {
		if (waitpid(pids[i], &status, 0) != pids[i] ||
		    !WIFEXITED(status) || WEXITSTATUS(status) > 1)
			rep.sharers_died++;
		else if (WEXITSTATUS(status))
			rep.sharers_bad++;
	}
	rep.check_ms = now_ms() - t0;
	write_all(out, &rep, sizeof(rep));
	_exit(0);
}

/* The hog: touch @len of small pages, send the time it took, then wait. */
static void hog(size_t len, int out)
{
	double t0 = now_ms(), ms;
	char *mem;
	size_t i;

	mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		_exit(2);
	madvise(mem, len, MADV_NOHUGEPAGE);
	for (i = 0; i < len; i += PAGE)
		mem[i] = 1;
	ms = now_ms() - t0;
	write_all(out, &ms, sizeof(ms));
	pause();
	_exit(0);
}

static int repetition(int rep, int sharers, size_t thp_len, size_t hog_len)
{
	struct owner_report before = { 0 }, after = { 0 };
	long ev0[NR_EVENTS], ev1[NR_EVENTS], pt0, pt1, pt2;
	int to_owner[2], from_owner[2], from_hog[2], status;
	int owner_died = 0, hog_died = 0;
	double hog_ms = -1;
	pid_t opid, hpid;
	size_t i;

	if (pipe(to_owner) || pipe(from_owner) || pipe(from_hog))
		return -1;
	pt0 = page_tables();
	opid = fork();
	if (opid < 0)
		return -1;
	if (!opid) {
		set_oom_score_adj("0\n");
		close(to_owner[1]);
		close(from_owner[0]);
		owner(sharers, thp_len, to_owner[0], from_owner[1]);
	}
	close(to_owner[0]);
	close(from_owner[1]);
	if (read(from_owner[0], &before, sizeof(before)) != sizeof(before)) {
		printf("RECLAIM-ERROR rep=%d the owner did not get ready\n", rep);
		return -1;
	}
	pt1 = page_tables();
	read_events(ev0);

	hpid = fork();
	if (hpid < 0)
		return -1;
	if (!hpid) {
		set_oom_score_adj("0\n");
		close(from_hog[0]);
		hog(hog_len, from_hog[1]);
	}
	close(from_hog[1]);
	if (read(from_hog[0], &hog_ms, sizeof(hog_ms)) != sizeof(hog_ms))
		hog_died = 1;
	read_events(ev1);
	pt2 = page_tables();
	kill(hpid, SIGKILL);
	waitpid(hpid, &status, 0);
	close(from_hog[0]);

	close(to_owner[1]);
	if (read(from_owner[0], &after, sizeof(after)) != sizeof(after))
		owner_died = 1;
	waitpid(opid, &status, 0);
	close(from_owner[0]);

	printf("RECLAIM rep=%d sharers=%d thps=%ld hog_ms=%.0f", rep, sharers,
	       before.thps, hog_ms);
	for (i = 0; i < NR_EVENTS; i++)
		printf(" %s=%ld", events[i], ev1[i] - ev0[i]);
	printf(" pt_thps_kb=%ld pt_peak_kb=%ld owner_died=%d hog_died=%d"
	       " sharers_died=%ld bad_pages=%ld sharers_bad=%ld check_ms=%.0f\n",
	       pt1 - pt0, pt2 - pt0, owner_died, hog_died, after.sharers_died,
	       after.bad, after.sharers_bad, after.check_ms);
	fflush(stdout);
	return before.thps * THP_SIZE < thp_len / 2 ? -1 : 0;
}

int main(int argc, char **argv)
{
	int sharers, reps, rep, ret = 0;
	size_t thp_len, hog_len;

	if (argc != 5) {
		fprintf(stderr, "usage: thp_reclaim SHARERS THP_MB HOG_MB REPEATS\n");
		return 2;
	}
	sharers = atoi(argv[1]);
	thp_len = strtoul(argv[2], NULL, 10) << 20;
	hog_len = strtoul(argv[3], NULL, 10) << 20;
	reps = atoi(argv[4]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* The driver must survive the pressure it creates; its children not. */
	set_oom_score_adj("-1000\n");
	for (rep = 1; rep <= reps; rep++) {
		if (repetition(rep, sharers, thp_len, hog_len)) {
			printf("RECLAIM-ERROR rep=%d too few THPs or a setup failure\n", rep);
			ret = 1;
		}
	}
	return ret;
}
