#!/usr/bin/env bash
# build-initramfs.sh SRC OUT: build the mm kselftests of scripts/guest/tests.txt
# (or of the list TESTS_TXT=FILE, same format) statically from the tree SRC
# (against the headers installed in OUT/usr), and pack them with
# busybox-static, test_hmm.ko and the guest init into OUT/initramfs.cpio.
# A list with "vmtests:CATEGORY" lines gets all of the tree's mm kselftests,
# run_vmtests.sh and its scripts, bash-static and the kernel's modules.
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

# Built anew each time: make would keep a binary built with other flags or
# from another state of the tree.
ksft=$out/kselftest
rm -rf "$ksft"
mkdir -p "$ksft"
# Tests that the series adds are not in the base tree: leave them out there,
# unless tests.txt marks them "+NAME": those are built from the repo's copy
# of the file wherever the tree lacks it (see scripts/guest/tests.txt).
list=$ksft/tests.txt
mm=$src/tools/testing/selftests/mm
repo_mm=$ROOT/tools/testing/selftests/mm
from_repo=$ksft/from-repo.txt
: > "$from_repo"
guest=$ROOT/scripts/guest
awk -v mm="$mm" -v repo="$repo_mm" -v from_repo="$from_repo" -v guest="$guest" '
	!/^#/ && NF && $1 !~ /^vmtests:/ && system("test -x " guest "/" $1 " -a ! -d " guest "/" $1) {
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
# "vmtests:CATEGORY" lines run the tree's run_vmtests.sh: they need all of
# its mm kselftests, scripts and modules.
vmtests=$(awk '$1 ~ /^vmtests:/ { print "y"; exit }' "$list")
# Guest scripts (scripts/guest/NAME, executable: soak-start, soak-check)
# are copied as they are; the soak's also need stress-ng.
scripts=$(awk -v guest="$guest" '!/^#/ && NF && !system("test -x " guest "/" $1 " -a ! -d " guest "/" $1) { print $1 }' "$list" | sort -u)
bins=$(awk -v guest="$guest" '!/^#/ && NF && $1 !~ /^vmtests:/ && system("test -x " guest "/" $1 " -a ! -d " guest "/" $1) { print $1 }' "$list" | sort -u)
mapfile -t repo_bins < <(sort -u "$from_repo")
mapfile -t tree_bins < <(comm -23 <(echo "$bins") <(sort -u "$from_repo"))
if [ -n "$vmtests" ]; then
	need depmod pgrep killall getconf ldd gzip
	[ -x /bin/bash-static ] || die "bash-static missing (run: make deps)"
	log "initramfs: building all mm kselftests (static) for run_vmtests.sh"
else
	log "initramfs: building $(echo $bins | wc -w) mm kselftests (static)"
fi
# The tree's Makefile and flags for all; VPATH finds the repo copies of the
# tests the tree lacks (their own .c file only: the helpers that the tree's
# Makefile links into the tests it lists, vm_util.c and so on, are not added).
# EXTRA_CFLAGS too: the rule of the x86 *_64 binaries (protection_keys_64,
# ...) links with CFLAGS and EXTRA_CFLAGS, not LDFLAGS.
mk() {
	make -C "$mm" -j"$(nproc)" OUTPUT="$ksft" \
		KHDR_INCLUDES="-isystem $out/usr/include" LDFLAGS=-static EXTRA_CFLAGS=-static "$@"
}
if [ -n "$vmtests" ]; then
	tree_targets=(all)
else
	tree_targets=("${tree_bins[@]/#/$ksft/}")
fi
if ! { { [ ${#tree_targets[@]} -eq 0 ] || mk "${tree_targets[@]}"; } &&
       { [ ${#repo_bins[@]} -eq 0 ] || mk VPATH="$repo_mm" "${repo_bins[@]/#/$ksft/}"; }; } \
	> "$ksft/build.log" 2>&1; then
	grep -m5 -E 'error' "$ksft/build.log" >&2 || tail -n5 "$ksft/build.log" >&2
	die "kselftest build failed (log: $ksft/build.log)"
fi

# INITRAMFS=NAME: write OUT/NAME.cpio (and OUT/NAME/) instead of OUT/initramfs.
name=${INITRAMFS:-initramfs}
root=$out/$name
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,tests,lib/modules}
cp "$busybox" "$root/bin/busybox"
install -m 755 "$ROOT/scripts/guest/init" "$root/init"
for b in $bins; do cp "$ksft/$b" "$root/tests/"; done
cp "$list" "$root/tests/tests.txt"
[ ! -f "$out/lib/test_hmm.ko" ] || cp "$out/lib/test_hmm.ko" "$root/lib/modules/"
if [ -n "$vmtests" ]; then
	# run_vmtests.sh and its helpers: every binary and script of the
	# tree's mm kselftests, bash, and the kernel's modules where modprobe
	# finds them (test_vmalloc, hwpoison_inject, test_hmm).
	cp /bin/bash-static "$root/bin/bash"
	# va_high_addr_switch.sh (hugevm) reads the kernel's config.
	mkdir -p "$root/boot"
	# (with "gzip -dcfq", which in busybox does not pass plain text through)
	gzip -c "$out/.config" > "$root/boot/config-$(cat "$out/include/config/kernel.release")"
	find "$ksft" -maxdepth 1 -type f -perm -u+x -exec cp {} "$root/tests/" \;
	cp "$mm"/*.sh "$root/tests/"
	make -s -C "$src" O="$out" INSTALL_MOD_PATH="$root" INSTALL_MOD_STRIP=1 \
		modules_install >/dev/null || die "modules_install into the initramfs failed"
	# The page_frag category's module, built out of tree against OUT.
	if [ -d "$mm/page_frag" ]; then
		rm -rf "$ksft/page_frag" && cp -r "$mm/page_frag" "$ksft/page_frag"
		if make -s -C "$out" M="$ksft/page_frag" modules >"$ksft/page_frag.log" 2>&1; then
			mkdir -p "$root/tests/page_frag"
			cp "$ksft/page_frag/page_frag_test.ko" "$root/tests/page_frag/"
		else
			log "initramfs: page_frag_test.ko does not build here (log: $ksft/page_frag.log)"
		fi
	fi
fi
# A dynamically linked host program, its libraries and the loader.
copy_with_libs() {
	local bin=$1 dest=$2 lib
	cp "$bin" "$root$dest"
	ldd "$bin" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' | while read -r lib; do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}
if [ -n "$vmtests" ]; then
	# Tools that run_vmtests.sh's scripts use and busybox lacks (pgrep,
	# getconf) or has without the options they use (killall --wait): the
	# host's, found first in PATH.
	mkdir -p "$root/usr/local/bin"
	for t in pgrep killall getconf; do
		copy_with_libs "$(command -v "$t")" "/usr/local/bin/$t"
	done
fi
for sc in $scripts; do
	install -m 755 "$guest/$sc" "$root/tests/$sc"
	case $sc in
	soak-*)	# stress-ng is dynamically linked: it, its libraries and the loader.
		sng=$(command -v stress-ng) || die "stress-ng missing (run: bash scripts/deps.sh soak)"
		copy_with_libs "$sng" /bin/stress-ng;;
	esac
done
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) > "$out/$name.cpio"
log "initramfs: $out/$name.cpio ($(du -h "$out/$name.cpio" | cut -f1))"
