# Front door of the test bed. See README.md.
SHELL := /bin/bash
S := scripts

.PHONY: all check check-extra check-1g deps base-src tree reset series base compare export \
	check-copies check-export checkpatch prefixes cross bench reclaim soak debug evict-race test-tooling mail clean distclean help

## make: apply the series to the base, build the patched kernel, boot it in
## QEMU, run the series' tests, print the summary.
all: deps
	@bash $(S)/test-kernel.sh series

## make check: everything CI runs (tooling tests, copies, base and patched
## kernels side by side).
check: deps test-tooling check-copies check-export
	@bash $(S)/check.sh

## make check-extra: the run_vmtests.sh categories that make check leaves
## out (they do not reach what the series changes), base vs patched.
check-extra: deps
	@TESTS_TXT=$(CURDIR)/$(S)/guest/tests-extra.txt RESULTS=$(CURDIR)/results/extra bash $(S)/check.sh

## make check-1g: hugetlb_unaligned's 1 GiB cases (which make check's 4 GiB
## guest skips) and split_pmd_fail, in a 6 GiB guest with two 1 GiB pages
## reserved at boot, base vs patched.
check-1g: deps
	@TESTS_TXT=$(CURDIR)/$(S)/guest/tests-1g.txt RESULTS=$(CURDIR)/results/1g MEM=6G \
		QEMU_APPEND="hugepagesz=1G hugepages=2" bash $(S)/check.sh

deps:
	@bash $(S)/deps.sh

base-src:
	@bash $(S)/fetch-base.sh

tree:
	@bash $(S)/tree.sh series >/dev/null

reset:
	@bash $(S)/reset.sh

series: all

base: deps
	@bash $(S)/test-kernel.sh base

compare:
	@python3 $(S)/ktap.py --compare results/base/summary.json results/series/summary.json --known $(S)/guest/known-failures.txt

export:
	@bash $(S)/export.sh

check-export:
	@bash $(S)/check-export.sh

check-copies:
	@bash $(S)/check-copies.sh

checkpatch:
	@bash $(S)/checkpatch.sh

prefixes:
	@bash $(S)/build-prefixes.sh

## make cross: compile what the series touches for arm64, arm, powerpc64le and
## s390x (arch defconfig + THP) with Debian's cross compilers.
cross:
	@bash $(S)/deps.sh cross
	@bash $(S)/build-cross.sh

## make bench: THP page-table memory, fault, split and fork times, base and
## patched kernels in the same QEMU setup, medians side by side.
bench: deps
	@bash $(S)/bench.sh

## make reclaim: swap out THPs mapped by many processes in a 1 GiB guest,
## base and patched kernels: OOM kills, reserve use, stalls, warn_alloc,
## pages swapped, failed splits, times (RECLAIM_SCENARIO=sharers128,
## sharers1000, sharers4000, memcg, memcg1000, fail, or all).
reclaim: deps
	@bash $(S)/reclaim.sh

## make soak: fail_pmd_split at 1, 10 and 100 % of all PMD splits on the
## patched kernel (THP=always) while stress-ng's vm stressors (--verify) and
## run_vmtests.sh categories run; the base kernel without injection is the
## noise floor. Fails on a kernel problem, hang, verify mismatch, leak, or
## a stress-ng metrics-check failure other than its late-count race.
soak: deps
	@bash $(S)/soak.sh

## make debug: the patched kernel with lockdep, DEBUG_ATOMIC_SLEEP, kmemleak,
## PAGE_TABLE_CHECK_ENFORCED, DEBUG_VM_PGTABLE; with KASAN on the series'
## own tests (DEBUG_PROFILE=full), without on more categories (light).
debug: deps
	@bash $(S)/debug.sh

## make evict-race: the two base-kernel bugs of device memory eviction that
## make debug hit in hmm-tests: base must show the use-after-free, the
## patched kernel (patches 1-2 fix both) no problem at all (KASAN).
## EVICT_MODE=small (default) or mixed (THPs too), ITERS=20.
evict-race: deps
	@bash $(S)/evict-race.sh

test-tooling:
	@python3 -m unittest discover -s $(S)/tests -t $(S)/tests -q
	@bash $(S)/tests/test-errors.sh
	@bash $(S)/tests/test_mail.sh
	@bash $(S)/tests/test_soak_check.sh

mail:
	@bash $(S)/mail.sh

clean:
	rm -rf build results

distclean: clean
	rm -rf cache linux

help:
	@sed -n 's/^## //p' Makefile
