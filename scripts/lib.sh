# Sourced by the scripts: paths, settings and the one-line error helper.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${CACHE:-$ROOT/cache}		# base .deb, imported base repo (ignored)
BUILD=${BUILD:-$ROOT/build}		# O= kernel build folders, initramfs (ignored)
RESULTS=${RESULTS:-$ROOT/results}	# console logs and summaries (ignored)
TREE=${TREE:-$ROOT/linux}		# the kernel work tree with the series

# The pinned base: Debian's binary package holding the kernel source.
BASE_PKG=linux-source-7.3
BASE_VER=${BASE_VER:-7.3.4-1~bpo13+1}
BASE_SHA256=703e369ddd4cce971452f5a593ee55df3a5c10c83caf0fa0df039633ed181ee3
BASE_TAG=debian/7.3.4-1_bpo13+1		# tag of the imported base in $CACHE/linux
BASE_REPO=$CACHE/linux
BRANCH=${BRANCH:-thp-lazy-pte}		# branch the series lives on in $TREE
PATCHES=${PATCHES:-$ROOT/patches}		# the series (git format-patch output)

die() { echo "$(basename "$0"): error: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || die "missing tool '$t' (run: make deps)"
	done
}

# The commit the series applies onto: the user's KERNEL_TREE ref, or our base tag.
base_rev() {
	if [ -n "${KERNEL_TREE:-}" ]; then
		echo "${BASE:-HEAD}"
	else
		echo "$BASE_TAG"
	fi
}

# run_summary RESDIR LABEL: RESDIR/run.log = the boot's console and test
# output; its KTAP summary to stdout and RESDIR/summary.json; ktap.py's
# exit status.
run_summary() {
	{ cat "$1/console.log" "$1/user.log" 2>/dev/null || true; } | tr -d '\r' > "$1/run.log"
	python3 "$ROOT/scripts/ktap.py" "$1/run.log" --label "$2" --json "$1/summary.json"
}

# list_timeout FILE: a boot's time limit for a guest list: the sum of its
# tests' own limits plus two minutes for booting and the rest.
list_timeout() {
	awk '!/^#/ && NF { t += $2 } END { print t + 120 }' "$1"
}

# A/B runs in the guest (make bench, make reclaim): build the base and the
# patched kernel, then a small initramfs of busybox, the guest init and one
# static program from scripts/guest/: ab_initramfs NAME LIST_LINES...
# writes $BUILD/NAME/initramfs.cpio, whose tests/NAME.txt holds the lines.
ab_build_kernels() {
	local kind src
	for kind in base series; do
		src=$(bash "$ROOT/scripts/tree.sh" "$kind")
		bash "$ROOT/scripts/build-kernel.sh" "$src" "$BUILD/$kind"
	done
}

ab_initramfs() {
	local name=$1 root=$BUILD/$1/initramfs busybox
	shift
	rm -rf "$root"
	mkdir -p "$root"/{bin,proc,sys,dev,tmp,tests}
	busybox=$(command -v busybox || true)
	[ -n "$busybox" ] && file -L "$busybox" | grep -q 'statically linked' ||
		die "busybox is not the static build (run: make deps)"
	cp "$busybox" "$root/bin/busybox"
	install -m 755 "$ROOT/scripts/guest/init" "$root/init"
	gcc -O2 -Wall -Werror -static -o "$root/tests/$name" "$ROOT/scripts/guest/$name.c" ||
		die "cannot build scripts/guest/$name.c"
	printf '%s\n' "$@" > "$root/tests/$name.txt"
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) > "$BUILD/$name/initramfs.cpio"
}

# ab_run NAME RESDIR [ROUNDS]: boot both kernels on NAME's initramfs, base
# then patched, ROUNDS times (default 1), so that a change in host load
# hits both alike (QEMU settings such as MEM come from the environment).
# Each boot's logs stay in RESDIR/KIND/rN; RESDIR/KIND/user.log is all of
# that kernel's output.
ab_run() {
	local name=$1 res=$2 rounds=${3:-1} kind r
	for kind in base series; do
		rm -rf "${res:?}/$kind"
		mkdir -p "$res/$kind"
	done
	for r in $(seq 1 "$rounds"); do
		for kind in base series; do
			log "$name: $kind kernel, round $r of $rounds"
			INITRD=$BUILD/$name/initramfs.cpio TIMEOUT=${TIMEOUT:-1800} \
				bash "$ROOT/scripts/run-qemu.sh" "$BUILD/$kind" "$res/$kind/r$r" \
				testbed.list="$name.txt" testbed.hugepages=0 testbed.thp=madvise ||
				die "$name: the $kind kernel run did not finish (see $res/$kind/r$r/console.log)"
			cat "$res/$kind/r$r/user.log" >> "$res/$kind/user.log"
		done
	done
}
