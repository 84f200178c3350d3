#!/usr/bin/env bash
# build-cross.sh [SRC] [ARCH...]: compile what the series touches (mm/,
# fs/proc/, fs/dax.c, arch/ARCH/mm/) for arm64, arm (LPAE, HIGHPTE),
# powerpc64le, s390x and sparc64 with Debian's cross compilers: the arch defconfig + THP, fault
# injection and the series' options. Fails on any error, ignored
# __must_check result, or object that still calls a function the series
# removed (nothing is linked, so nm checks that).
# SRC defaults to ./linux (base + series); objects go to build/cross-ARCH.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

src=${1:-}
[ -n "$src" ] || src=$(bash "$ROOT/scripts/tree.sh" series)
shift || true
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(arm64 arm powerpc s390 sparc)
# Functions the series removes; calls may remain only where compiled out.
removed=(pgtable_trans_huge_deposit pgtable_trans_huge_withdraw
	 radix__pgtable_trans_huge_deposit radix__pgtable_trans_huge_withdraw
	 pmd_move_must_withdraw)
[ -f "$src/Makefile" ] || die "$src is not a kernel source tree"
src=$(cd "$src" && pwd)
need make ccache bison flex bc

export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
export CCACHE_BASEDIR=$src CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
rc=0
for arch in "${arches[@]}"; do
	case $arch in
	arm64)   cross=aarch64-linux-gnu-     defconfig=defconfig ;;
	arm)     cross=arm-linux-gnueabihf-   defconfig=multi_v7_defconfig ;;
	powerpc) cross=powerpc64le-linux-gnu- defconfig=ppc64le_defconfig ;;
	s390)    cross=s390x-linux-gnu-       defconfig=defconfig ;;
	sparc)   cross=sparc64-linux-gnu-     defconfig=sparc64_defconfig ;;
	*) die "unknown architecture $arch (arm64, arm, powerpc, s390, sparc)" ;;
	esac
	command -v "${cross}gcc" >/dev/null || die "${cross}gcc missing (run: bash scripts/deps.sh cross)"
	out=$BUILD/cross-$arch
	mkdir -p "$out"
	mk=(make -C "$src" O="$out" ARCH="$arch" CROSS_COMPILE="$cross" CC="ccache ${cross}gcc"
	    -j"$(nproc)" KBUILD_BUILD_TIMESTAMP=0 KBUILD_BUILD_USER=test KBUILD_BUILD_HOST=test)
	start=$(date +%s)
	log "cross: $arch: $defconfig + THP, fault injection, series options"
	"${mk[@]}" -s "$defconfig" >/dev/null
	frag=$out/cross.config
	{
		echo CONFIG_TRANSPARENT_HUGEPAGE=y
		echo CONFIG_DEBUG_KERNEL=y
		echo CONFIG_DEBUG_VM=y
		echo CONFIG_FAULT_INJECTION=y
		echo CONFIG_FS_DAX=y
		[ "$arch" = powerpc ] && echo CONFIG_PPC_SUBPAGE_PROT=y
		# THP needs LPAE on 32-bit arm; HIGHPTE puts PTE tables in highmem.
		[ "$arch" = arm ] && printf 'CONFIG_ARM_LPAE=y\nCONFIG_HIGHMEM=y\nCONFIG_HIGHPTE=y\n'
		grep '^CONFIG_' "$ROOT/scripts/config/series.config"
	} > "$frag"
	(cd "$out" && "$src/scripts/kconfig/merge_config.sh" -m -O "$out" .config "$frag" >/dev/null)
	"${mk[@]}" -s olddefconfig >/dev/null
	grep -q '^CONFIG_TRANSPARENT_HUGEPAGE=y' "$out/.config" || die "cross: $arch: THP not enabled"
	targets=(mm/ fs/proc/ "arch/$arch/mm/")
	grep -q '^CONFIG_FS_DAX=y' "$out/.config" && targets+=(fs/dax.o)
	blog=$out/build.log
	if ! "${mk[@]}" "${targets[@]}" > "$blog" 2>&1; then
		grep -m5 -E 'error:|Error [0-9]' "$blog" >&2 || tail -n5 "$blog" >&2
		log "cross: $arch: FAILED (log: $blog)"
		rc=1
		continue
	fi
	if grep -q 'warn_unused_result' "$blog"; then
		grep 'warn_unused_result' "$blog" >&2
		log "cross: $arch: FAILED, ignored __must_check results"
		rc=1
		continue
	fi
	refs=$(cd "$out" && find mm fs "arch/$arch/mm" -name '*.o' ! -name '*.mod.o' \
		-exec "${cross}nm" -A -u {} + 2>/dev/null | grep -wF -f <(printf '%s\n' "${removed[@]}") || true)
	defs=$(cd "$out" && find mm fs "arch/$arch/mm" -name '*.o' \
		-exec "${cross}nm" -A --defined-only {} + 2>/dev/null | grep -wF -f <(printf '%s\n' "${removed[@]}") || true)
	if [ -n "$refs" ] && [ -z "$defs" ]; then
		echo "$refs" >&2
		log "cross: $arch: FAILED, calls to removed functions left"
		rc=1
		continue
	fi
	opts=$(grep -oE '^CONFIG_(TRANSPARENT_HUGEPAGE|FS_DAX|PPC_SUBPAGE_PROT|PPC_64S_HASH_MMU|PPC_RADIX_MMU|FAIL_PMD_SPLIT|DEVICE_PRIVATE|MIGRATION)=y' "$out/.config" | sed 's/^CONFIG_//; s/=y//' | tr '\n' ' ')
	log "cross: $arch: ok in $(( $(date +%s) - start ))s (${targets[*]}; $opts)"
done
exit $rc
