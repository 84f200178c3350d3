#!/usr/bin/env bash
# soak.sh: random PMD-split failures under load. One boot per level: the base
# kernel without injection (the noise floor), then the patched kernel with
# fail_pmd_split failing SOAK_LEVELS percent (default "1 10 100") of all PMD
# splits, system-wide, THP=always. In each boot stress-ng's vm stressors run
# one after the other with --verify (SOAK_STRESSOR_SECONDS each, default 6)
# while a set of run_vmtests.sh categories runs beside them, each with a
# short time limit (scripts/guest/soak.txt). Test failures are expected
# under injection and only listed. A kernel problem on the console (MM CI's
# list and ours: WARNING, BUG, Oops, KASAN, lockdep, RCU stall, hung task,
# lockup), a hang, a stress-ng --verify mismatch, a kmemleak report, or no
# injected failure at a level above 0 fails the soak.
# SOAK_KERNEL=series-debug-light (or -full) soaks a make debug kernel instead;
# SOAK_FLOOR=no leaves out the base kernel's boot. Each boot traces the
# forks, exits and signals of stress-ng's processes (soak-check judges
# stress-ng's metrics check with it); SOAK_TRACE=STRESSOR,... (dev_shm, ...)
# also prints the trace of the stressors named and samples their
# processes' state and kernel stack.
# Results: results/soak/KIND-LEVEL/, the table in results/soak/table.md.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need qemu-system-x86_64 python3 cpio
bash "$ROOT/scripts/deps.sh" soak
levels=${SOAK_LEVELS:-1 10 100}
secs=${SOAK_STRESSOR_SECONDS:-6}
kernel=${SOAK_KERNEL:-series}
res=$RESULTS/soak
rm -rf "$res"
mkdir -p "$res"

list=$BUILD/soak.txt
sed "s/@SECONDS@/$secs/" "$ROOT/scripts/guest/soak.txt" > "$list"
case $kernel in
series) ;;
series-debug-light) frag=$ROOT/scripts/config/debug-light.config;;
series-debug-full) frag="$ROOT/scripts/config/debug-light.config $ROOT/scripts/config/debug.config";;
*) die "SOAK_KERNEL=$kernel: series, series-debug-light or series-debug-full";;
esac
floor=${SOAK_FLOOR:-yes}
kinds=("$kernel"); [ "$floor" = no ] || kinds=(base "$kernel")
for kind in "${kinds[@]}"; do
	src=$(bash "$ROOT/scripts/tree.sh" "${kind%%-*}")
	if [ "$kind" != "${kind%%-*}" ]; then
		EXTRA_FRAGMENTS=$frag bash "$ROOT/scripts/build-kernel.sh" "$src" "$BUILD/$kind"
	else
		bash "$ROOT/scripts/build-kernel.sh" "$src" "$BUILD/$kind"
	fi
	TESTS_TXT=$list INITRAMFS=soak bash "$ROOT/scripts/build-initramfs.sh" "$src" "$BUILD/$kind"
done

runs=()
if [ "$floor" = no ]; then
	levels=$(echo $levels | tr ' ' '\n' | grep -vx 0 || true)
else
	levels="0 $levels"
fi
for level in $levels; do
	kind=$kernel; [ "$level" = 0 ] && kind=base
	r=$res/$kind-$level
	log "soak: $kind kernel, fail_pmd_split at $level %"
	# A hang is judged from the log (no end marker), like every failure.
	INITRD=$BUILD/$kind/soak.cpio MEM=${MEM:-4G} TIMEOUT=${TIMEOUT:-$(list_timeout "$list")} \
		bash "$ROOT/scripts/run-qemu.sh" "$BUILD/$kind" "$r" testbed.soak="$level" \
		${SOAK_TRACE:+testbed.trace=$SOAK_TRACE} || true
	run_summary "$r" "$kind $level %" > "$r/summary.txt" || true
	runs+=("$kind:$level:$r")
done
python3 "$ROOT/scripts/soak_table.py" "${runs[@]}" | tee "$res/table.md"
