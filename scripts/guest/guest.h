/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers of the guest programs of make bench and make reclaim. */
#ifndef GUEST_H
#define GUEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The number after "KEY:" or "KEY " in the file @path, or -1. */
static inline long read_kv(const char *path, const char *key)
{
	char line[256];
	size_t len = strlen(key);
	long val = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, len) && (line[len] == ':' || line[len] == ' ')) {
			val = strtol(line + len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

/* Fold the per-CPU deltas of the vm counters into /proc/meminfo. */
static inline void vm_stat_refresh(void)
{
	FILE *f = fopen("/proc/sys/vm/stat_refresh", "w");

	if (f) {
		fputs("1\n", f);
		fclose(f);
	}
}

static inline double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/*
 * PageTables in kB. The counter has per-CPU deltas that are folded into it
 * only from time to time: fold them now (vm.stat_refresh), and repeat until
 * the value has not changed for 200 ms, as freed page tables are only
 * counted out after an RCU grace period.
 */
static inline long page_tables(void)
{
	long val = -1, prev;
	int stable = 0, i;

	for (i = 0; i < 250 && stable < 10; i++) {
		vm_stat_refresh();
		prev = val;
		val = read_kv("/proc/meminfo", "PageTables");
		stable = val == prev ? stable + 1 : 0;
		usleep(20000);
	}
	return val;
}

#endif
