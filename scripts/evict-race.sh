#!/usr/bin/env bash
# evict-race.sh: show that the KASAN report `make debug` can hit in
# hmm-tests ("slab-use-after-free in rmap_walk_anon" from
# __migrate_device_finalize() <- dmirror_device_evict_chunk()) is a bug of
# the base kernel, which the series neither causes nor changes. Builds the
# base and the patched kernel with the debug "full" profile (KASAN), boots
# each with test_hmm.ko and scripts/guest/hmm_evict_race.c (ITERS
# iterations, default 20), and prints whether its console has the report.
# Exit 0 when the patched kernel shows what the base kernel shows.
# Results: results/evict-race/{base,series}/.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need gcc cpio qemu-system-x86_64
busybox=$(command -v busybox || true)
[ -n "$busybox" ] && file -L "$busybox" | grep -q 'statically linked' ||
	die "busybox is not the static build (run: make deps)"
iters=${ITERS:-20}
frags="$ROOT/scripts/config/debug-light.config $ROOT/scripts/config/debug.config"
res=$RESULTS/evict-race
declare -A seen
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
	echo "hmm_evict_race 1200 $iters" > "$root/tests/tests.txt"
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) > "$out/evict-race.cpio"
	rm -rf "${res:?}/$kind"
	INITRD=$out/evict-race.cpio MEM=2G TIMEOUT=1500 \
		bash "$ROOT/scripts/run-qemu.sh" "$out" "$res/$kind" pci=noacpi || true
	if grep -q 'BUG: KASAN: slab-use-after-free in rmap_walk_anon' "$res/$kind/console.log"; then
		seen[$kind]=yes
	elif grep -q '^===RUN-END===' "$res/$kind/user.log" 2>/dev/null; then
		seen[$kind]=no
	else
		seen[$kind]="no report, run unfinished"
	fi
	log "evict-race: $kind kernel: use-after-free reported: ${seen[$kind]} ($(grep -c '^iteration .* done' "$res/$kind/user.log" || true) of $iters iterations done)"
done
echo "evict-race: base: ${seen[base]}; patched: ${seen[series]}"
[ "${seen[base]}" = "${seen[series]}" ] || die "the patched kernel differs from base (see $res)"
