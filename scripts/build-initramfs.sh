#!/usr/bin/env bash
# build-initramfs.sh SRC OUT: build the mm kselftests of scripts/guest/tests.txt
# statically from the tree SRC (against the headers installed in OUT/usr),
# and pack them with busybox-static, test_hmm.ko and the guest init into
# OUT/initramfs.cpio.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

src=$(cd "${1:?usage: build-initramfs.sh SRC OUT}" && pwd)
out=$(cd "${2:?usage: build-initramfs.sh SRC OUT}" && pwd)
need cpio make gcc
busybox=$(command -v busybox || true)
[ -n "$busybox" ] && file -L "$busybox" | grep -q 'statically linked' ||
	die "busybox is not the static build (run: make deps)"
[ -d "$out/usr/include" ] || die "$out/usr/include missing: build the kernel first"

ksft=$out/kselftest
mkdir -p "$ksft"
# Tests that the series adds are not in the base tree: leave them out there.
list=$ksft/tests.txt
mm=$src/tools/testing/selftests/mm
awk -v mm="$mm" '!/^#/ && NF { if (system("test -f " mm "/" $1 ".c")) { print "  not in this tree: " $1 > "/dev/stderr"; next } } { print }' \
	"$ROOT/scripts/guest/tests.txt" > "$list"
bins=$(awk '!/^#/ && NF { print $1 }' "$list" | sort -u)
log "initramfs: building $(echo $bins | wc -w) mm kselftests (static)"
targets=$(for b in $bins; do echo "$ksft/$b"; done)
if ! make -C "$src/tools/testing/selftests/mm" -j"$(nproc)" OUTPUT="$ksft" \
	KHDR_INCLUDES="-isystem $out/usr/include" LDFLAGS=-static $targets \
	> "$ksft/build.log" 2>&1; then
	grep -m5 -E 'error' "$ksft/build.log" >&2 || tail -n5 "$ksft/build.log" >&2
	die "kselftest build failed (log: $ksft/build.log)"
fi

root=$out/initramfs
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,tests,lib/modules}
cp "$busybox" "$root/bin/busybox"
install -m 755 "$ROOT/scripts/guest/init" "$root/init"
for b in $bins; do cp "$ksft/$b" "$root/tests/"; done
cp "$list" "$root/tests/tests.txt"
find "$out" -name 'test_hmm.ko' -not -path "$root/*" -exec cp {} "$root/lib/modules/" \;
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) > "$out/initramfs.cpio"
log "initramfs: $out/initramfs.cpio ($(du -h "$out/initramfs.cpio" | cut -f1))"
