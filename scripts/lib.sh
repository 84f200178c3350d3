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
