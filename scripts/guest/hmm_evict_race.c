// SPDX-License-Identifier: GPL-2.0
/*
 * A child migrates anonymous memory to the HMM test device (through a
 * file of its own) and is killed while the parent closes another file of
 * the device: that release evicts every device page
 * (dmirror_device_evict_chunk()) while the child's exit unmaps them and
 * frees their anon_vma.
 *
 * A bug of the base kernel (scripts/evict-race.sh): migrate_device_range()
 * takes the device folios and __migrate_device_finalize() walks their rmap
 * (remove_migration_ptes()) with no reference on their anon_vma, which the
 * exit frees in between. KASAN reports it as a slab-use-after-free in
 * rmap_walk_anon(); patch 1 of the series fixes it. Once THPs are
 * migrated, the exit's zap of a PMD migration entry also drops the
 * evictor's reference, and the eviction copies from freed device memory:
 * an Oops in copy_page(), fixed by patch 2. Usage: hmm_evict_race ITERS [small|mixed]. small (the default)
 * uses small pages only; mixed uses THPs in odd iterations. Iteration I
 * waits (I * 37) % 2000 microseconds between the kill and the close when
 * bit 1 of I is set.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test_hmm_uapi.h"

#define SZ (32UL << 20)

int main(int argc, char **argv)
{
	int iters = argc > 1 ? atoi(argv[1]) : 50;
	int mixed = argc > 2 && !strcmp(argv[2], "mixed");
	int it;

	for (it = 0; it < iters; it++) {
		int fd = open("/dev/hmm_dmirror0", O_RDWR);
		int p[2];
		pid_t pid;
		char c;

		if (fd < 0 || pipe(p)) {
			perror("open/pipe");
			return 1;
		}
		pid = fork();
		if (pid == 0) {
			struct hmm_dmirror_cmd cmd = { 0 };
			char *buf = mmap(NULL, SZ, PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			char *mirror = malloc(SZ);

			int cfd = open("/dev/hmm_dmirror0", O_RDWR);

			if (buf == MAP_FAILED || !mirror || cfd < 0)
				_exit(2);
			madvise(buf, SZ, (mixed && (it & 1)) ?
				MADV_HUGEPAGE : MADV_NOHUGEPAGE);
			memset(buf, it, SZ);
			cmd.addr = (unsigned long)buf;
			cmd.ptr = (unsigned long)mirror;
			cmd.npages = SZ / 4096;
			if (ioctl(cfd, HMM_DMIRROR_MIGRATE_TO_DEV, &cmd))
				_exit(3);
			close(fd);
			c = 1;
			write(p[1], &c, 1);
			pause();
			_exit(0);
		}
		close(p[1]);
		if (read(p[0], &c, 1) != 1) {
			fprintf(stderr, "iteration %d: child failed\n", it);
			return 1;
		}
		kill(pid, SIGKILL);
		if (it & 2)
			usleep((it * 37) % 2000);
		close(fd);
		waitpid(pid, NULL, 0);
		close(p[0]);
		printf("iteration %d done\n", it);
		fflush(stdout);
	}
	return 0;
}
