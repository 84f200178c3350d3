// SPDX-License-Identifier: GPL-2.0
/*
 * thp_reclaim SHARERS THP_MB HOG_MB REPEATS [MEMCG_MAX_MB [FAIL_EVERY]]:
 * reclaim of THPs mapped by many processes, run in a small test guest with
 * a swap device by scripts/reclaim.sh, on the base and the patched kernel.
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
 * With MEMCG_MAX_MB > 0, the owner and the sharers run in a memory cgroup
 * instead, whose memory.max is lowered to MEMCG_MAX_MB once they are
 * ready: the write reclaims from the cgroup (and may OOM-kill in it); it
 * takes the hog's place. With FAIL_EVERY > 0, fail_page_alloc fails every
 * FAIL_EVERY-th page allocation of kswapd that may not reclaim (the PTE
 * tables of reclaim's PMD splits are such), during the pressure.
 *
 * It prints one "RECLAIM" line with what happened: OOM kills, pages
 * swapped out, scanned and reclaimed, allocation stalls, PMD splits and
 * failed splits, page-table memory before and after the pressure, the
 * lowest number of free pages seen above the min watermarks during the
 * pressure in any zone (negative: that zone's min reserve was used), page
 * allocation failure reports (warn_alloc, rate-limited; allocations with
 * __GFP_NOWARN make none) in the kernel log during the pressure, the pressure's wall time,
 * processes that died, pages that did not read back as written, and
 * whether the repetition finished. scripts/reclaim.sh tabulates them.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
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
	"pgscan_kswapd", "pgscan_direct", "allocstall_dma", "allocstall_dma32",
	"allocstall_normal", "allocstall_movable",
};

#define CGROUP "/sys/fs/cgroup"
#define MEMCG CGROUP "/thp_reclaim"
#define FAIL_PAGE_ALLOC "/sys/kernel/debug/fail_page_alloc"
#define NR_EVENTS (sizeof(events) / sizeof(events[0]))

static void read_events(long *val)
{
	size_t i;

	for (i = 0; i < NR_EVENTS; i++)
		val[i] = read_kv("/proc/vmstat", events[i]);
}

static int put_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), ret;

	if (fd < 0)
		return -1;
	ret = write(fd, val, strlen(val)) == (ssize_t)strlen(val) ? 0 : -1;
	close(fd);
	return ret;
}

/* The number in the file @path, or -1. */
static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long val = -1;

	if (f) {
		if (fscanf(f, "%ld", &val) != 1)
			val = -1;
		fclose(f);
	}
	return val;
}

/*
 * The lowest number of free pages above the min watermark among the zones
 * of /proc/zoneinfo that have pages: negative once allocations dip into
 * that zone's reserve. zoneinfo's "min" includes the watermark boost,
 * which is no reserve: take it out.
 */
static long free_above_min(void)
{
	long free = 0, min = 0, boost = 0, val, low = LONG_MAX;
	char line[256];
	FILE *f = fopen("/proc/zoneinfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Node ", 5))
			free = min = boost = 0;
		else if (sscanf(line, " pages free %ld", &val) == 1)
			free = val;
		else if (sscanf(line, " boost %ld", &val) == 1)
			boost = val;
		else if (sscanf(line, " min %ld", &val) == 1)
			min = val;
		else if (sscanf(line, " managed %ld", &val) == 1 && val > 0 &&
			 free - (min - boost) < low)
			low = free - (min - boost);
	}
	fclose(f);
	return low == LONG_MAX ? 0 : low;
}

/* The kernel log from now on, to count warn_alloc() reports in it. */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/* Count the records of the kernel log read from @fd that contain @what. */
static long kmsg_count(int fd, const char *what)
{
	static char rec[8192];
	ssize_t n;
	long count = 0;

	if (fd < 0)
		return 0;
	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* records overwritten: go on */
		if (n <= 0)
			break;
		rec[n] = '\0';
		if (strstr(rec, what))
			count++;
	}
	return count;
}

/* A memory cgroup for the owner and its sharers; 0 or -1. */
static int memcg_setup(void)
{
	if (access(CGROUP "/cgroup.controllers", F_OK) &&
	    mount("none", CGROUP, "cgroup2", 0, NULL))
		return -1;
	put_file(CGROUP "/cgroup.subtree_control", "+memory");
	rmdir(MEMCG);
	if (mkdir(MEMCG, 0755) && errno != EEXIST)
		return -1;
	return access(MEMCG "/memory.max", W_OK);
}

/*
 * Have kswapd0 fail every @every-th page allocation that may not reclaim,
 * once start_failing() is called.
 */
static int fail_kswapd_allocs(int every)
{
	char path[300], comm[64], val[32];
	struct dirent *d;
	int found = 0;
	DIR *dir;
	FILE *f;

	snprintf(val, sizeof(val), "%d", every);
	if (put_file(FAIL_PAGE_ALLOC "/probability", "100") ||
	    put_file(FAIL_PAGE_ALLOC "/interval", val) ||
	    put_file(FAIL_PAGE_ALLOC "/times", "0") ||
	    put_file(FAIL_PAGE_ALLOC "/verbose", "0") ||
	    put_file(FAIL_PAGE_ALLOC "/task-filter", "Y") ||
	    put_file(FAIL_PAGE_ALLOC "/ignore-gfp-wait", "Y") ||
	    put_file(FAIL_PAGE_ALLOC "/min-order", "0"))
		return -1;
	dir = opendir("/proc");
	while (dir && (d = readdir(dir))) {
		snprintf(path, sizeof(path), "/proc/%s/comm", d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strcmp(comm, "kswapd0\n")) {
			snprintf(path, sizeof(path), "/proc/%s/make-it-fail", d->d_name);
			found = !put_file(path, "1");
		}
		fclose(f);
	}
	if (dir)
		closedir(dir);
	return found ? 0 : -1;
}

static void start_failing(void)
{
	put_file(FAIL_PAGE_ALLOC "/times", "-1");
}

static void stop_failing(void)
{
	put_file(FAIL_PAGE_ALLOC "/times", "0");
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
static void owner(int sharers, size_t len, int in, int out, int memcg)
{
	struct owner_report rep = { 0 };
	int go[2], i, status;
	pid_t *pids;
	char *raw, *mem;
	double t0;

	if (memcg) {
		char pid[32];

		snprintf(pid, sizeof(pid), "%d", getpid());
		if (put_file(MEMCG "/cgroup.procs", pid))
			_exit(5);
	}
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

/*
 * A process that samples free_above_min() and counts warn_alloc() reports
 * in the kernel log every 20 ms until the write end of the pipe @stop is
 * closed, then sends the lowest value and the count on the pipe @out.
 */
static pid_t sampler(int stop[2], int out[2])
{
	struct pollfd pfd = { .fd = stop[0], .events = POLLIN };
	long res[2], v;
	int kmsg = kmsg_open();
	pid_t pid = fork();

	if (pid) {
		if (kmsg >= 0)
			close(kmsg);
		return pid;
	}
	close(stop[1]);
	close(out[0]);
	set_oom_score_adj("-1000\n");
	res[0] = free_above_min();
	res[1] = 0;
	while (poll(&pfd, 1, 20) == 0) {
		v = free_above_min();
		if (v < res[0])
			res[0] = v;
		res[1] += kmsg_count(kmsg, "page allocation failure");
	}
	res[1] += kmsg_count(kmsg, "page allocation failure");
	write_all(out[1], res, sizeof(res));
	_exit(0);
}

static int repetition(int rep, int sharers, size_t thp_len, size_t hog_len,
		      long memcg_max_mb, int fail_every)
{
	struct owner_report before = { 0 }, after = { 0 };
	long ev0[NR_EVENTS], ev1[NR_EVENTS], pt0, pt1, pt2, res[2] = { 0, 0 };
	long memcg_kb = 0;
	int to_owner[2], from_owner[2], from_hog[2] = { -1, -1 }, stop[2], low_pipe[2];
	int owner_died = 0, hog_died = 0, status;
	double pressure_ms = -1, t0;
	pid_t opid, hpid = 0, spid;
	char val[32];
	size_t i;

	if (pipe(to_owner) || pipe(from_owner))
		return -1;
	if (memcg_max_mb && memcg_setup()) {
		printf("RECLAIM-ERROR rep=%d no memory cgroup\n", rep);
		return -1;
	}
	pt0 = page_tables();
	opid = fork();
	if (opid < 0)
		return -1;
	if (!opid) {
		set_oom_score_adj("0\n");
		close(to_owner[1]);
		close(from_owner[0]);
		owner(sharers, thp_len, to_owner[0], from_owner[1], memcg_max_mb > 0);
	}
	close(to_owner[0]);
	close(from_owner[1]);
	if (read(from_owner[0], &before, sizeof(before)) != sizeof(before)) {
		printf("RECLAIM-ERROR rep=%d the owner did not get ready\n", rep);
		return -1;
	}
	pt1 = page_tables();
	read_events(ev0);
	/* After the owner's fork: only the sampler may hold these pipes. */
	if (pipe(stop) || pipe(low_pipe))
		return -1;
	spid = sampler(stop, low_pipe);
	close(stop[0]);
	close(low_pipe[1]);
	if (fail_every)
		start_failing();

	/* memcg_before_kb <= MEMCG_MAX_MB * 1024: nothing to reclaim. */
	if (memcg_max_mb)
		memcg_kb = read_long(MEMCG "/memory.current") / 1024;
	t0 = now_ms();
	if (memcg_max_mb) {
		/* The write reclaims from the cgroup until it fits. */
		snprintf(val, sizeof(val), "%ldM", memcg_max_mb);
		put_file(MEMCG "/memory.max", val);
		pressure_ms = now_ms() - t0;
	} else {
		/* After the owner's fork: only the hog may hold this pipe. */
		if (pipe(from_hog))
			return -1;
		hpid = fork();
		if (hpid < 0)
			return -1;
		if (!hpid) {
			set_oom_score_adj("0\n");
			close(from_hog[0]);
			close(stop[1]);
			close(low_pipe[0]);
			hog(hog_len, from_hog[1]);
		}
		close(from_hog[1]);
		if (read(from_hog[0], &pressure_ms, sizeof(pressure_ms)) !=
		    sizeof(pressure_ms))
			hog_died = 1;
	}
	if (fail_every)
		stop_failing();
	close(stop[1]);
	if (read(low_pipe[0], res, sizeof(res)) != sizeof(res))
		res[0] = res[1] = 0;
	waitpid(spid, &status, 0);
	read_events(ev1);
	pt2 = page_tables();
	if (hpid) {
		kill(hpid, SIGKILL);
		waitpid(hpid, &status, 0);
		close(from_hog[0]);
	}
	if (memcg_max_mb)
		put_file(MEMCG "/memory.max", "max");
	close(low_pipe[0]);

	close(to_owner[1]);
	if (read(from_owner[0], &after, sizeof(after)) != sizeof(after))
		owner_died = 1;
	waitpid(opid, &status, 0);
	close(from_owner[0]);

	printf("RECLAIM rep=%d sharers=%d thps=%ld pressure_ms=%.0f", rep,
	       sharers, before.thps, pressure_ms);
	for (i = 0; i < NR_EVENTS; i++)
		printf(" %s=%ld", events[i], ev1[i] - ev0[i]);
	printf(" memcg_before_kb=%ld pt_thps_kb=%ld pt_after_kb=%ld free_above_min_low=%ld"
	       " warn_alloc=%ld owner_died=%d hog_died=%d sharers_died=%ld"
	       " bad_pages=%ld sharers_bad=%ld check_ms=%.0f finished=%d\n",
	       memcg_kb, pt1 - pt0, pt2 - pt0, res[0], res[1], owner_died, hog_died,
	       after.sharers_died, after.bad, after.sharers_bad, after.check_ms,
	       !owner_died && !hog_died);
	fflush(stdout);
	return before.thps * THP_SIZE < thp_len / 2 ? -1 : 0;
}

int main(int argc, char **argv)
{
	int sharers, reps, rep, fail_every = 0, ret = 0;
	size_t thp_len, hog_len;
	long memcg_max_mb = 0;

	if (argc < 5 || argc > 7) {
		fprintf(stderr, "usage: thp_reclaim SHARERS THP_MB HOG_MB REPEATS"
			" [MEMCG_MAX_MB [FAIL_EVERY]]\n");
		return 2;
	}
	sharers = atoi(argv[1]);
	thp_len = strtoul(argv[2], NULL, 10) << 20;
	hog_len = strtoul(argv[3], NULL, 10) << 20;
	reps = atoi(argv[4]);
	if (argc > 5)
		memcg_max_mb = atol(argv[5]);
	if (argc > 6)
		fail_every = atoi(argv[6]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (fail_every && fail_kswapd_allocs(fail_every)) {
		printf("RECLAIM-ERROR cannot fail kswapd's allocations\n");
		return 1;
	}
	/* The driver must survive the pressure it creates; its children not. */
	set_oom_score_adj("-1000\n");
	for (rep = 1; rep <= reps; rep++) {
		if (repetition(rep, sharers, thp_len, hog_len, memcg_max_mb,
			       fail_every)) {
			printf("RECLAIM-ERROR rep=%d too few THPs or a setup failure\n", rep);
			ret = 1;
		}
	}
	return ret;
}
