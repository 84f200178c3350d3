#!/usr/bin/env bash
# evict-race.sh: two base-kernel bugs that `make debug` hit in hmm-tests,
# and their fixes (patches 1-2 of the series). A driver that evicts device
# memory by pfn (migrate_device_range(), test_hmm's release()) walks the
# rmap of folios whose anon_vma an exiting owner frees ("BUG: KASAN:
# slab-use-after-free in rmap_walk_anon" from __migrate_device_finalize(),
# patch 1); and the owner's zap of a device-private THP's PMD migration
# entry drops the evictor's reference (an Oops in copy_page(), patch 2).
# Builds the base and the patched kernel with the debug "full" profile
# (KASAN), boots each with test_hmm.ko and scripts/guest/hmm_evict_race.c
# (ITERS iterations, default 20; EVICT_MODE=small, the default, migrates
# small pages only; EVICT_MODE=mixed also THPs, where base can also Oops
# in copy_page()), and counts
# the use-after-free reports and all kernel problems on each console
# (scripts/ktap.py's PROBLEM pattern).
# Exit 0 when base reports the use-after-free (the reproducer works) and
# the patched kernel reports no kernel problem at all and finishes every
# iteration.
# Results: results/evict-race/{base,series}/.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need gcc cpio qemu-system-x86_64
busybox=$(command -v busybox || true)
[ -n "$busybox" ] && file -L "$busybox" | grep -q 'statically linked' ||
	die "busybox is not the static build (run: make deps)"
iters=${ITERS:-20}
mode=${EVICT_MODE:-small}
case $mode in small|mixed) ;; *) die "EVICT_MODE=$mode: small or mixed";; esac
frags="$ROOT/scripts/config/debug-light.config $ROOT/scripts/config/debug.config"
res=$RESULTS/evict-race
declare -A nprob first done_iters uaf
for kind in base series; do
	src=$(bash "$ROOT/scripts/tree.sh" "$kind")
	out=$BUILD/$kind-debug-full
	EXTRA_FRAGMENTS=$frags bash "$ROOT/scripts/build-kernel.sh" "$src" "$out"
	[ -f "$out/lib/test_hmm.ko" ] || die "$out/lib/test_hmm.ko missing: the debug config lost TEST_HMM"
	root=$out/evict-race
	rm -rf "$root"
	mkdir -p "$root"/{bin,proc,sys,dev,tmp,tests,lib/modules}
	cp "$busybox" "$root/bin/busybox"
	install -m 755 "$ROOT/scripts/guest/init" "$root/init"
	cp "$out/lib/test_hmm.ko" "$root/lib/modules/"
	gcc -O2 -Wall -Werror -static -I "$src/lib" -isystem "$out/usr/include" \
		-o "$root/tests/hmm_evict_race" "$ROOT/scripts/guest/hmm_evict_race.c" ||
		die "cannot build scripts/guest/hmm_evict_race.c"
	echo "hmm_evict_race 1200 $iters $mode" > "$root/tests/tests.txt"
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) > "$out/evict-race.cpio"
	rm -rf "${res:?}/$kind"
	INITRD=$out/evict-race.cpio MEM=2G TIMEOUT=1500 \
		bash "$ROOT/scripts/run-qemu.sh" "$out" "$res/$kind" pci=noacpi || true
	problems=$(python3 - "$ROOT/scripts" "$res/$kind/console.log" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
from ktap import PROBLEM, TS
n = 0
first = ""
for line in open(sys.argv[2], errors="replace"):
    line = TS.sub("", line.rstrip("\n"))
    if PROBLEM.match(line):
        n += 1
        first = first or line
print(n, first)
PY
)
	nprob[$kind]=${problems%% *}
	uaf[$kind]=$(grep -c 'BUG: KASAN: slab-use-after-free in rmap_walk_anon' "$res/$kind/console.log" || true)
	[ "${nprob[$kind]}" -gt 0 ] && first[$kind]=" (first: ${problems#* })" || first[$kind]=
	done_iters[$kind]=$(grep -c '^iteration .* done' "$res/$kind/user.log" 2>/dev/null || true)
	log "evict-race: $kind kernel ($mode): ${uaf[$kind]} use-after-free reports, ${nprob[$kind]} kernel problem lines${first[$kind]}; ${done_iters[$kind]:-0} of $iters iterations done"
done
echo "evict-race ($mode): base: ${uaf[base]} use-after-free, ${nprob[base]} problem lines, ${done_iters[base]:-0}/$iters iterations; patched: ${uaf[series]} use-after-free, ${nprob[series]} problem lines, ${done_iters[series]:-0}/$iters iterations"
[ "${uaf[base]}" -gt 0 ] || die "base showed no use-after-free in $iters iterations: this run proves nothing (raise ITERS)"
[ "${nprob[series]}" -eq 0 ] || die "the patched kernel reported a problem (see $res/series/console.log)"
[ "${done_iters[series]:-0}" -eq "$iters" ] || die "the patched kernel did not finish the $iters iterations (see $res/series)"
