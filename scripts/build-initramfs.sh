#!/usr/bin/env bash
# build-initramfs.sh SRC OUT: build the mm kselftests of scripts/guest/tests.txt
# (or of the list TESTS_TXT=FILE, same format) statically from the tree SRC
# (against the headers installed in OUT/usr), and pack them with
# busybox-static, test_hmm.ko and the guest init into OUT/initramfs.cpio.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

src=$(cd "${1:?usage: build-initramfs.sh SRC OUT}" && pwd)
out=$(cd "${2:?usage: build-initramfs.sh SRC OUT}" && pwd)
tests_txt=${TESTS_TXT:-$ROOT/scripts/guest/tests.txt}
[ -f "$tests_txt" ] || die "$tests_txt missing"
need cpio make gcc
busybox=$(command -v busybox || true)
[ -n "$busybox" ] && file -L "$busybox" | grep -q 'statically linked' ||
	die "busybox is not the static build (run: make deps)"
[ -d "$out/usr/include" ] || die "$out/usr/include missing: build the kernel first"

ksft=$out/kselftest
mkdir -p "$ksft"
# Tests that the series adds are not in the base tree: leave them out there,
# unless tests.txt marks them "+NAME": those are built from the repo's copy
# of the file wherever the tree lacks it (see scripts/guest/tests.txt).
list=$ksft/tests.txt
mm=$src/tools/testing/selftests/mm
repo_mm=$ROOT/tools/testing/selftests/mm
from_repo=$ksft/from-repo.txt
: > "$from_repo"
awk -v mm="$mm" -v repo="$repo_mm" -v from_repo="$from_repo" '
	!/^#/ && NF {
		also_base = sub(/^\+/, "", $1)
		if (system("test -f " mm "/" $1 ".c")) {
			if (!also_base) { print "  not in this tree: " $1 > "/dev/stderr"; next }
			if (system("test -f " repo "/" $1 ".c")) {
				print "  +" $1 ": neither in this tree nor in " repo > "/dev/stderr"
				bad = 1; exit
			}
			print "  not in this tree, built from the repo copy: " $1 > "/dev/stderr"
			print $1 > from_repo
		}
	}
	{ print }
	END { exit bad }' "$tests_txt" > "$list" ||
	die "$tests_txt names a test that is nowhere"
bins=$(awk '!/^#/ && NF { print $1 }' "$list" | sort -u)
mapfile -t repo_bins < <(sort -u "$from_repo")
mapfile -t tree_bins < <(comm -23 <(echo "$bins") <(sort -u "$from_repo"))
log "initramfs: building $(echo $bins | wc -w) mm kselftests (static)"
# The tree's Makefile and flags for all; VPATH finds the repo copies of the
# tests the tree lacks (their own .c file only: the helpers that the tree's
# Makefile links into the tests it lists, vm_util.c and so on, are not added).
mk() {
	make -C "$mm" -j"$(nproc)" OUTPUT="$ksft" \
		KHDR_INCLUDES="-isystem $out/usr/include" LDFLAGS=-static "$@"
}
if ! { { [ ${#tree_bins[@]} -eq 0 ] || mk "${tree_bins[@]/#/$ksft/}"; } &&
       { [ ${#repo_bins[@]} -eq 0 ] || mk VPATH="$repo_mm" "${repo_bins[@]/#/$ksft/}"; }; } \
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
