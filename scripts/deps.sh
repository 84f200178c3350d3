#!/usr/bin/env bash
# deps.sh [cross|soak]: install the Debian packages the test bed needs (host
# side); with "cross", the cross compilers of `make cross` instead; with
# "soak", stress-ng (copied into the guest by `make soak`).
# Idempotent: does nothing when every tool is already present.
set -euo pipefail

pkgs=(
	build-essential bc bison flex libelf-dev libssl-dev dwarves cpio
	xz-utils zstd kmod rsync ccache git python3
	qemu-system-x86 busybox-static codespell file
	libcap-dev libnuma-dev bash-static procps psmisc
)
# Tools probed by name; if any is missing, install the whole set.
tools=(gcc make bc bison flex cpio xz ccache git python3 qemu-system-x86_64 busybox codespell file perl pgrep killall)

if [ "${1:-}" = cross ]; then
	pkgs=(gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf gcc-powerpc64le-linux-gnu gcc-s390x-linux-gnu gcc-sparc64-linux-gnu)
	tools=(aarch64-linux-gnu-gcc arm-linux-gnueabihf-gcc powerpc64le-linux-gnu-gcc s390x-linux-gnu-gcc sparc64-linux-gnu-gcc)
elif [ "${1:-}" = soak ]; then
	pkgs=(stress-ng)
	tools=(stress-ng)
fi

missing=()
for t in "${tools[@]}"; do
	command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
[ -n "${1:-}" ] || {
[ -e /usr/include/libelf.h ] || missing+=(libelf-dev)
[ -e /usr/include/openssl/ssl.h ] || missing+=(libssl-dev)
[ -e /usr/include/sys/capability.h ] || missing+=(libcap-dev)
[ -e /usr/include/numa.h ] || missing+=(libnuma-dev)
[ -x /bin/bash-static ] || missing+=(bash-static)
[ -e /bin/busybox ] && file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' || missing+=(busybox-static)
}

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
echo "deps: installing Debian packages (missing: ${missing[*]})"
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
	command -v sudo >/dev/null || { echo "deps: error: not root and no sudo; install: ${pkgs[*]}" >&2; exit 1; }
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" file >/dev/null
echo "deps: done"
